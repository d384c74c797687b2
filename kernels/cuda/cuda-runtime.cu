/* cuda-runtime.cu: device selection, the stream, cuBLAS, scratch buffers and
 * error recording (see cuda-runtime.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <unordered_set>

#include "cuda-common.cuh"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int open_device = -1;
static cudaStream_t stream;
static cublasHandle_t cublas;
static void *scratch[LL_SCRATCH_COUNT];
static size_t scratch_bytes[LL_SCRATCH_COUNT];
static std::unordered_set<void *> live; /* ll_cuda_track */

/* The first error since take_error last cleared it. Errors are recorded from
 * inside slots (lock held) and from open (lock held), so the lock guards it. */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char pending[512];
static bool has_pending;
static unsigned long n_errors;
/* A sticky error lost the context: the reason, until open resets the device. */
static char lost[256];
static bool context_lost;

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

/* CUDA's sticky errors: a fault inside a kernel leaves the context unusable,
 * and every later call of the process fails with the same error until the
 * device is reset. */
static bool sticky_error(cudaError_t e)
{
  switch ((int)e) {
  case cudaErrorECCUncorrectable:
  case cudaErrorIllegalAddress:
  case cudaErrorLaunchTimeout:
  case cudaErrorAssert:
  case cudaErrorHardwareStackError:
  case cudaErrorIllegalInstruction:
  case cudaErrorMisalignedAddress:
  case cudaErrorInvalidAddressSpace:
  case cudaErrorInvalidPc:
  case cudaErrorLaunchFailure: return true;
  default: return false;
  }
}

void ll_cuda_failed(const char *file, int line, const char *what, cudaError_t e)
{
  ll_cuda_record_error(file, line, what, cudaGetErrorString(e));
  cudaGetLastError(); /* consumed here: the next launch check is its own */
  if (sticky_error(e)) {
    pthread_mutex_lock(&error_lock);
    if (!context_lost)
      snprintf(lost, sizeof lost, "%s (CUDA error %d)", cudaGetErrorString(e), (int)e);
    context_lost = true;
    pthread_mutex_unlock(&error_lock);
  }
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
    if (context_lost) {
      size_t used = strlen(buf);
      snprintf(buf + used, len - used,
               "; the GPU context is lost: the next run resets the device (if that fails, "
               "restart LayerLab)");
    }
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

void ll_cuda_track(void *p) { live.insert(p); }

bool ll_cuda_untrack(void *p) { return live.erase(p) != 0; }

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

/* The stream and the cuBLAS handle on the current device; nothing is left
 * behind when one of them fails. */
static bool create_handles(char *err, size_t err_len)
{
  cudaError_t e = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) {
    cudaGetLastError();
    stream = NULL;
    SAY("cudaStreamCreate: %s (CUDA error %d)", cudaGetErrorString(e), (int)e);
    return false;
  }
  cublasStatus_t st = cublasCreate(&cublas);
  if (st != CUBLAS_STATUS_SUCCESS)
    cublas = NULL;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasSetStream(cublas, stream);
  /* plain FP32, no TF32 tensor cores: results must match the CPU reference
   * (PyTorch's matmul default since 1.12 as well) */
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasSetMathMode(cublas, CUBLAS_DEFAULT_MATH);
  if (st != CUBLAS_STATUS_SUCCESS) {
    SAY("cuBLAS: %s", cublasGetStatusString(st));
    if (cublas)
      cublasDestroy(cublas);
    cublas = NULL;
    cudaStreamDestroy(stream);
    stream = NULL;
    return false;
  }
  return true;
}

/* After a sticky error: destroys the lost context (cudaDeviceReset) and makes
 * a new one with fresh handles. Every allocation of the old context is gone:
 * the scratch buffers are forgotten, and freeing an old pointer is a no-op
 * (ll_cuda_track). Errors recorded since the loss are dropped: they were
 * the lost context's. */
static bool reset_lost_context(int device, char *err, size_t err_len)
{
  if (cublas)
    cublasDestroy(cublas);
  if (stream)
    cudaStreamDestroy(stream);
  cublas = NULL;
  stream = NULL;
  for (int i = 0; i < LL_SCRATCH_COUNT; i++) {
    scratch[i] = NULL;
    scratch_bytes[i] = 0;
  }
  live.clear();
  cudaError_t e = cudaDeviceReset();
  if (e == cudaSuccess)
    e = cudaSetDevice(device);
  if (e != cudaSuccess) {
    cudaGetLastError();
    SAY("the GPU context was lost (%s) and resetting CUDA device %d failed: %s (CUDA error "
        "%d); restart LayerLab",
        lost, device, cudaGetErrorString(e), (int)e);
    return false;
  }
  bound_device = device;
  if (!create_handles(err, err_len))
    return false;
  pthread_mutex_lock(&error_lock);
  context_lost = false;
  has_pending = false;
  n_errors = 0;
  pthread_mutex_unlock(&error_lock);
  return true;
}

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
    else if (context_lost)
      ok = reset_lost_context(device, err, err_len);
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
  if (!create_handles(err, err_len))
    goto done;
  if (name && name_len)
    snprintf(name, name_len, "%s (cuda:%d)", p.name, device);
  open_device = device;
  bound_device = device;
  ok = true;
done:
  pthread_mutex_unlock(&lock);
  return ok;
}
