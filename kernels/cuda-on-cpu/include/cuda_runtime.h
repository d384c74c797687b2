/* cuda_runtime.h (cuda-on-cpu): the CUDA runtime as kernels/cuda uses it,
 * served by HIP-CPU (../shared/third_party/hip-cpu), so the .cu files compile
 * with g++ and run on the CPU. Not NVIDIA's header: only what those files
 * call, with CUDA's semantics where HIP-CPU's differ:
 *
 * - threadIdx counts x fastest (HIP-CPU's counts z fastest), so a warp is 32
 *   consecutive linear thread ids as on a GPU;
 * - warps are 32 threads, and __shfl_*_sync exchange values among the 32
 *   fibers of a warp only (HIP-CPU's shuffles are 64 wide and synchronise
 *   the whole block, which deadlocks on warp-uniform loops);
 * - a launch with a geometry CUDA refuses fails with
 *   cudaErrorInvalidConfiguration instead of running;
 * - cudaMalloc returns 256-byte aligned memory and reports a failure;
 * - every call records its error for cudaGetLastError, per host thread;
 * - a test can make a chosen call fail, once or "sticky" (the context is
 *   lost, every later call fails with that error until cudaDeviceReset), to
 *   exercise the backend's error paths (cuda-on-cpu-hooks.h).
 *
 * The kernels themselves are the .cu files' own, translated only in their
 * launch syntax (translate.py). */
#pragma once

#include <hip/hip_runtime.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

/* ---- device-code attributes and the CUDA thread geometry ------------------------------- */

/* HIP-CPU marks kernels and device functions for SIMD cloning, which only
 * costs compile time here */
#undef __global__
#define __global__
#undef __device__
#define __device__

#define warpSize 32

/* CUDA's math API declares these in the global namespace */
using std::isfinite;
using std::isinf;
using std::isnan;

/* what kernels/cuda's shared headers test to mark functions __host__ __device__ */
#ifndef __CUDACC__
#define __CUDACC__ 1
#endif

namespace ll_cuda_on_cpu {

/* threadIdx with x fastest, as CUDA numbers threads */
struct ThreadIndex {
  static hip::detail::Dim3 call() noexcept
  {
    using namespace hip::detail;
    const Dim3 &d = dimensions(Tile::this_tile());
    const std::uint32_t i = id(Fiber::this_fiber());
    return Dim3{i % d.x, i / d.x % d.y, i / (d.x * d.y)};
  }
};
inline constexpr hip::detail::Coordinates<&ThreadIndex::call> thread_index{};

} // namespace ll_cuda_on_cpu

#define threadIdx ll_cuda_on_cpu::thread_index

/* ---- errors ------------------------------------------------------------------------------ */

typedef hipError_t cudaError_t;
#define cudaSuccess hipSuccess
#define cudaErrorInvalidValue hipErrorInvalidValue
#define cudaErrorMemoryAllocation hipErrorOutOfMemory
#define cudaErrorInvalidConfiguration hipErrorInvalidConfiguration
#define cudaErrorInsufficientDriver hipErrorInsufficientDriver
#define cudaErrorNoDevice hipErrorNoDevice
/* the sticky ones (a fault inside a kernel), by CUDA's numbers */
#define cudaErrorECCUncorrectable ((hipError_t)214)
#define cudaErrorIllegalAddress ((hipError_t)700)
#define cudaErrorLaunchTimeout ((hipError_t)702)
#define cudaErrorAssert ((hipError_t)710)
#define cudaErrorHardwareStackError ((hipError_t)714)
#define cudaErrorIllegalInstruction ((hipError_t)715)
#define cudaErrorMisalignedAddress ((hipError_t)716)
#define cudaErrorInvalidAddressSpace ((hipError_t)717)
#define cudaErrorInvalidPc ((hipError_t)718)
#define cudaErrorLaunchFailure ((hipError_t)719)
#define CUDART_VERSION 12000

namespace ll_cuda_on_cpu {

/* A failure a test asked for: the next call of `api` (a CUDA or cuBLAS
 * function name, or "launch") returns `error`; sticky errors then stay. */
struct Faults {
  std::mutex lock;
  char api[64];
  int error;
  bool sticky_next;
  std::atomic<int> sticky{0}; /* the lost context's error; 0: alive */
};
inline Faults &faults()
{
  static Faults f;
  return f;
}

/* The error a call of api fails with before doing anything (0: none). A
 * lost context fails every call but the device queries, which need none. */
inline int injected(const char *api)
{
  Faults &f = faults();
  bool query = !std::strcmp(api, "cudaGetDeviceCount") ||
               !std::strcmp(api, "cudaGetDeviceProperties");
  if (int s = f.sticky.load())
    if (!query)
      return s;
  std::lock_guard<std::mutex> g(f.lock);
  if (!f.error || std::strcmp(f.api, api))
    return 0;
  int e = f.error;
  if (f.sticky_next)
    f.sticky.store(e);
  f.error = 0;
  f.api[0] = '\0';
  return e;
}

inline hipError_t &last_error()
{
  static thread_local hipError_t e = hipSuccess;
  return e;
}

inline hipError_t note(hipError_t e)
{
  if (e != hipSuccess)
    last_error() = e;
  return e;
}

/* Runs a HIP call unless a failure was injected for api. */
#define LL_CUDA_ON_CPU_CALL(api, call)                                                          \
  do {                                                                                          \
    if (int ll_inj_ = ll_cuda_on_cpu::injected(api))                                            \
      return ll_cuda_on_cpu::note((hipError_t)ll_inj_);                                         \
    return ll_cuda_on_cpu::note(call);                                                          \
  } while (0)

} // namespace ll_cuda_on_cpu

inline cudaError_t cudaGetLastError()
{
  if (int s = ll_cuda_on_cpu::faults().sticky.load())
    return (hipError_t)s; /* a lost context is never cleared */
  hipError_t e = ll_cuda_on_cpu::last_error();
  ll_cuda_on_cpu::last_error() = hipSuccess;
  return e;
}

inline cudaError_t cudaPeekAtLastError()
{
  if (int s = ll_cuda_on_cpu::faults().sticky.load())
    return (hipError_t)s;
  return ll_cuda_on_cpu::last_error();
}

inline const char *cudaGetErrorString(cudaError_t e) { return hipGetErrorString(e); }

/* ---- devices and streams ---------------------------------------------------------------- */

typedef hipStream_t cudaStream_t;
#define cudaStreamNonBlocking hipStreamNonBlocking

/* The fields the backend reads. The kernels need nothing beyond sm_80, so
 * the CPU reports itself as such. */
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor;
};

inline cudaError_t cudaGetDeviceCount(int *n) { LL_CUDA_ON_CPU_CALL("cudaGetDeviceCount", hipGetDeviceCount(n)); }
inline cudaError_t cudaSetDevice(int d) { LL_CUDA_ON_CPU_CALL("cudaSetDevice", hipSetDevice(d)); }

inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
  if (int e = ll_cuda_on_cpu::injected("cudaGetDeviceProperties"))
    return ll_cuda_on_cpu::note((hipError_t)e);
  hipDeviceProp_t h;
  hipError_t e = hipGetDeviceProperties(&h, d);
  if (e != hipSuccess)
    return ll_cuda_on_cpu::note(e);
  std::snprintf(p->name, sizeof p->name, "HIP-CPU on %.200s", h.name);
  p->totalGlobalMem = h.totalGlobalMem;
  p->major = 8;
  p->minor = 0;
  return hipSuccess;
}

/* Forgets a lost context, as cudaDeviceReset destroys it (the memory of the
 * CPU stays valid; a GPU's would be gone). */
inline cudaError_t cudaDeviceReset()
{
  ll_cuda_on_cpu::faults().sticky.store(0);
  ll_cuda_on_cpu::last_error() = hipSuccess;
  return hipDeviceSynchronize();
}

inline cudaError_t cudaDeviceSynchronize() { LL_CUDA_ON_CPU_CALL("cudaDeviceSynchronize", hipDeviceSynchronize()); }

inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
  LL_CUDA_ON_CPU_CALL("cudaStreamCreateWithFlags",
                      hipStreamCreateWithFlags(s, (hipStreamFlags)flags));
}
inline cudaError_t cudaStreamDestroy(cudaStream_t s) { LL_CUDA_ON_CPU_CALL("cudaStreamDestroy", hipStreamDestroy(s)); }
inline cudaError_t cudaStreamSynchronize(cudaStream_t s) { LL_CUDA_ON_CPU_CALL("cudaStreamSynchronize", hipStreamSynchronize(s)); }

/* ---- memory ------------------------------------------------------------------------------- */

enum cudaMemcpyKind {
  cudaMemcpyHostToDevice = hipMemcpyHostToDevice,
  cudaMemcpyDeviceToHost = hipMemcpyDeviceToHost,
  cudaMemcpyDeviceToDevice = hipMemcpyDeviceToDevice,
};

/* Out of line (cuda-on-cpu-runtime.cpp). A copy from or to the host is done
 * when the call returns, as CUDA's from pageable host memory is: the caller
 * may reuse or free its buffer at once. */
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMemGetInfo(size_t *avail, size_t *total);
cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t s);
cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t s);

/* ---- launches ------------------------------------------------------------------------------- */

namespace ll_cuda_on_cpu {

/* The launch limits of every GPU since sm_30. */
inline bool launch_ok(const dim3 &g, const dim3 &b, size_t shmem)
{
  unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  return g.x >= 1 && g.y >= 1 && g.z >= 1 && g.x <= 0x7fffffffu && g.y <= 65535 &&
         g.z <= 65535 && threads >= 1 && threads <= 1024 && b.z <= 64 && shmem <= 48 * 1024;
}

/* Whether a launch may run: the context is alive, no failure is injected,
 * and CUDA would accept the geometry. A failed launch sets the last error,
 * as cudaGetLastError after <<<...>>> reports it. */
bool launch_begin(const dim3 &g, const dim3 &b, size_t shmem);

/* ---- warp shuffles: a ring over the 32 fibers of a warp --------------------------------- */

/* Per host thread (a block's fibers all run on one): each warp has two
 * buffers of 32 values, used alternately, so that a lane that has read this
 * exchange and goes on to the next cannot overwrite a value a slower lane of
 * the same warp still has to read. */
struct WarpScratch {
  std::uint64_t value[32][2][32];
  std::uint8_t phase[1024];
};
inline WarpScratch &warp_scratch()
{
  static thread_local WarpScratch s;
  return s;
}

[[noreturn]] inline void die(const char *why)
{
  std::fprintf(stderr, "cuda-on-cpu: %s\n", why);
  std::abort();
}

/* Passes control to the next lane of this warp; every lane of the warp has
 * run up to its own call when control comes back. */
void warp_yield();

/* Every lane publishes v, then reads the value of lane src(lane). */
template <class T, class Src> inline T exchange(T v, Src src)
{
  static_assert(sizeof(T) <= sizeof(std::uint64_t), "shuffles move at most 8 bytes");
  WarpScratch &s = warp_scratch();
  const std::uint32_t f = id(hip::detail::Fiber::this_fiber());
  const std::uint32_t warp = f / 32, lane = f % 32, ph = s.phase[f];
  s.phase[f] ^= 1;
  std::memcpy(&s.value[warp][ph][lane], &v, sizeof v);
  warp_yield();
  T r;
  std::memcpy(&r, &s.value[warp][ph][src(lane) & 31], sizeof r);
  return r;
}

inline void full_mask(unsigned mask)
{
  if (mask != 0xffffffffu)
    die("a warp shuffle with a partial mask (unsupported)");
}

} // namespace ll_cuda_on_cpu

template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32)
{
  ll_cuda_on_cpu::full_mask(mask);
  return ll_cuda_on_cpu::exchange(v, [&](std::uint32_t l) {
    std::uint32_t s = l ^ (std::uint32_t)lane_mask;
    return s / width == l / width ? s : l; /* outside the segment: its own */
  });
}

template <class T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32)
{
  ll_cuda_on_cpu::full_mask(mask);
  return ll_cuda_on_cpu::exchange(v, [&](std::uint32_t l) {
    std::uint32_t s = l + delta;
    return s / width == l / width ? s : l;
  });
}

template <class T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32)
{
  ll_cuda_on_cpu::full_mask(mask);
  return ll_cuda_on_cpu::exchange(v, [&](std::uint32_t l) {
    return l % width >= delta ? l - delta : l;
  });
}

template <class T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32)
{
  ll_cuda_on_cpu::full_mask(mask);
  return ll_cuda_on_cpu::exchange(v, [&](std::uint32_t l) {
    return l / width * width + (std::uint32_t)src % width;
  });
}

/* k<<<grid, block, shmem, stream>>>(args) as translate.py rewrites it */
#define LL_CUDA_ON_CPU_LAUNCH(kernel, grid, block, shmem, stream, ...)                          \
  do {                                                                                          \
    const dim3 ll_grid_ = dim3(grid), ll_block_ = dim3(block);                                  \
    if (ll_cuda_on_cpu::launch_begin(ll_grid_, ll_block_, (size_t)(shmem))) {                   \
      hipLaunchKernelGGL(kernel, ll_grid_, ll_block_, (std::uint32_t)(shmem), stream,           \
                         __VA_ARGS__);                                                          \
    }                                                                                           \
  } while (0)
