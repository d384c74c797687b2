/* cuda-runtime.cu: device selection, the stream, cuBLAS, scratch buffers and
 * error recording (see cuda-runtime.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cuda-common.cuh"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int open_device = -1;
static cudaStream_t stream;
static cublasHandle_t cublas;
static void *scratch[LL_SCRATCH_COUNT];
static size_t scratch_bytes[LL_SCRATCH_COUNT];

/* The first error since take_error last cleared it. Errors are recorded from
 * inside slots (lock held) and from open (lock held), so the lock guards it. */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char pending[512];
static bool has_pending;
static unsigned long n_errors;

void ll_cuda_record_error(const char *file, int line, const char *what, const char *why)
{
  pthread_mutex_lock(&error_lock);
  n_errors++;
  if (!has_pending) {
    const char *base = strrchr(file, '/');
    snprintf(pending, sizeof pending, "%s:%d: %s: %s", base ? base + 1 : file, line, what, why);
    has_pending = true;
  }
  pthread_mutex_unlock(&error_lock);
}

bool ll_cuda_take_error(char *buf, size_t len)
{
  pthread_mutex_lock(&error_lock);
  bool had = has_pending;
  if (had && buf && len) {
    if (n_errors > 1)
      snprintf(buf, len, "%s (and %lu later CUDA errors)", pending, n_errors - 1);
    else
      snprintf(buf, len, "%s", pending);
  }
  has_pending = false;
  n_errors = 0;
  pthread_mutex_unlock(&error_lock);
  return had;
}

/* Each host thread has its own current device; bind ours on first use. */
static __thread int bound_device = -1;

cudaStream_t ll_cuda_enter(void)
{
  pthread_mutex_lock(&lock);
  if (bound_device != open_device) {
    LL_CUDA_CHECK(cudaSetDevice(open_device));
    bound_device = open_device;
  }
  return stream;
}

void ll_cuda_leave(void) { pthread_mutex_unlock(&lock); }

cublasHandle_t ll_cuda_cublas(void) { return cublas; }

void *ll_cuda_scratch(int slot, size_t bytes)
{
  if (bytes <= scratch_bytes[slot])
    return scratch[slot];
  /* grow with headroom so a sequence of slightly larger requests does not
   * reallocate each time; cudaFree waits for the kernels still using it */
  size_t want = bytes + bytes / 4;
  if (scratch[slot])
    LL_CUDA_CHECK(cudaFree(scratch[slot]));
  scratch[slot] = NULL;
  scratch_bytes[slot] = 0;
  void *p = NULL;
  cudaError_t e = cudaMalloc(&p, want);
  if (e != cudaSuccess) {
    char what[96];
    snprintf(what, sizeof what, "scratch buffer of %.1f MiB", want / 1048576.0);
    ll_cuda_record_error(__FILE__, __LINE__, what, cudaGetErrorString(e));
    cudaGetLastError(); /* out of memory is not sticky: clear it */
    return NULL;
  }
  scratch[slot] = p;
  scratch_bytes[slot] = want;
  return p;
}

/* Why the runtime found no device, in words a user can act on. */
static void no_device_reason(cudaError_t e, char *buf, size_t len)
{
  if (!buf || !len)
    return;
  void *driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) {
    snprintf(buf, len, "no NVIDIA driver is installed (libcuda.so.1 not found)");
    return;
  }
  dlclose(driver);
  if (e == cudaErrorInsufficientDriver)
    snprintf(buf, len, "the NVIDIA driver is too old for CUDA %d.%d (CUDA error %d)",
             CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10, (int)e);
  else
    snprintf(buf, len, "%s (CUDA error %d)", cudaGetErrorString(e), (int)e);
}

int ll_cuda_runtime_devices(char *names, size_t len)
{
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (names && len)
    names[0] = '\0';
  if (e != cudaSuccess) {
    cudaGetLastError();
    no_device_reason(e, names, len);
    return e == cudaErrorNoDevice ? 0 : -1;
  }
  size_t used = 0;
  for (int i = 0; i < n && names; i++) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    int w = snprintf(names + used, len - used, "%s, %.1f GiB, sm_%d%d\n", p.name,
                     p.totalGlobalMem / 1073741824.0, p.major, p.minor);
    if (w < 0 || (size_t)w >= len - used)
      break;
    used += (size_t)w;
  }
  return n;
}

#define SAY(...)                                                                                \
  do {                                                                                          \
    if (err && err_len)                                                                         \
      snprintf(err, err_len, __VA_ARGS__);                                                      \
  } while (0)

bool ll_cuda_runtime_open(int device, char *name, size_t name_len, char *err, size_t err_len)
{
  pthread_mutex_lock(&lock);
  bool ok = false;
  int n = 0;
  cudaDeviceProp p;
  cudaError_t e;
  if (open_device >= 0) {
    ok = open_device == device;
    if (!ok)
      SAY("CUDA device %d is already open in this process (one process drives one GPU)",
          open_device);
    goto done;
  }
  if ((e = cudaGetDeviceCount(&n)) != cudaSuccess) {
    cudaGetLastError();
    char why[160];
    no_device_reason(e, why, sizeof why);
    SAY("no usable NVIDIA GPU: %s", why);
    goto done;
  }
  if (n == 0 || device < 0 || device >= n) {
    SAY("no CUDA device %d: this machine has %d", device, n);
    goto done;
  }
  if ((e = cudaSetDevice(device)) != cudaSuccess ||
      (e = cudaGetDeviceProperties(&p, device)) != cudaSuccess) {
    cudaGetLastError();
    SAY("CUDA device %d: %s (CUDA error %d)", device, cudaGetErrorString(e), (int)e);
    goto done;
  }
  if (p.major < 8) {
    SAY("%s is sm_%d%d; this build's kernels need sm_80 or newer", p.name, p.major, p.minor);
    goto done;
  }
  if ((e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) != cudaSuccess) {
    cudaGetLastError();
    SAY("cudaStreamCreate: %s (CUDA error %d)", cudaGetErrorString(e), (int)e);
    goto done;
  }
  {
    cublasStatus_t st = cublasCreate(&cublas);
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasSetStream(cublas, stream);
    /* plain FP32, no TF32 tensor cores: results must match the CPU reference
     * (PyTorch's matmul default since 1.12 as well) */
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH);
    if (st != CUBLAS_STATUS_SUCCESS) {
      SAY("cuBLAS: %s", cublasGetStatusString(st));
      cudaStreamDestroy(stream);
      goto done;
    }
  }
  if (name && name_len)
    snprintf(name, name_len, "%s (cuda:%d)", p.name, device);
  open_device = device;
  bound_device = device;
  ok = true;
done:
  pthread_mutex_unlock(&lock);
  return ok;
}
