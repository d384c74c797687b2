/* cuda-on-cpu-runtime.cpp: the out-of-line part of include/cuda_runtime.h
 * (memory, launch checks, the warp ring) and the test hooks of
 * cuda-on-cpu-hooks.h. */
#include "cuda-on-cpu-hooks.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#define LL_EXPORT __attribute__((visibility("default")))

/* ---- memory --------------------------------------------------------------------------------- */

cudaError_t cudaMalloc(void **p, size_t bytes)
{
  *p = NULL;
  if (int e = ll_cuda_on_cpu::injected("cudaMalloc"))
    return ll_cuda_on_cpu::note((hipError_t)e);
  /* HIP-CPU's malloc reports no failure and does not align as CUDA does */
  size_t rounded = (bytes + 255) & ~(size_t)255;
  if (rounded < bytes || !(*p = std::aligned_alloc(256, rounded ? rounded : 256)))
    return ll_cuda_on_cpu::note(hipErrorOutOfMemory);
  return hipSuccess;
}

cudaError_t cudaFree(void *p)
{
  if (int e = ll_cuda_on_cpu::injected("cudaFree"))
    return ll_cuda_on_cpu::note((hipError_t)e);
  /* cudaFree waits for the device as CUDA's does */
  hipError_t e = hipDeviceSynchronize();
  std::free(p);
  return ll_cuda_on_cpu::note(e);
}

cudaError_t cudaMemGetInfo(size_t *avail, size_t *total)
{
  LL_CUDA_ON_CPU_CALL("cudaMemGetInfo", hipMemGetInfo(avail, total));
}

cudaError_t cudaMemsetAsync(void *p, int v, size_t bytes, cudaStream_t s)
{
  LL_CUDA_ON_CPU_CALL("cudaMemsetAsync", hipMemsetAsync(p, v, bytes, s));
}

/* A copy that touches the host runs when the stream's earlier work is done
 * and is finished when this returns (CUDA stages pageable host memory so);
 * HIP-CPU's would read the host buffer later, after the caller reused it. */
static hipError_t host_copy(cudaStream_t s, void (*copy)(void *), void *arg)
{
  hipError_t e = hipStreamSynchronize(s);
  if (e == hipSuccess)
    copy(arg);
  return e;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t s)
{
  if (kind == cudaMemcpyDeviceToDevice)
    LL_CUDA_ON_CPU_CALL("cudaMemcpyAsync",
                        hipMemcpyAsync(dst, src, bytes, (hipMemcpyKind)kind, s));
  struct Args {
    void *dst;
    const void *src;
    size_t bytes;
  } a = {dst, src, bytes};
  LL_CUDA_ON_CPU_CALL("cudaMemcpyAsync", host_copy(s, [](void *p) {
    Args *x = (Args *)p;
    std::memcpy(x->dst, x->src, x->bytes);
  }, &a));
}

cudaError_t cudaMemcpy2DAsync(void *dst, size_t dpitch, const void *src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind, cudaStream_t s)
{
  /* CUDA refuses a row wider than either pitch */
  if (width > dpitch || width > spitch)
    return ll_cuda_on_cpu::note(hipErrorInvalidValue);
  if (kind == cudaMemcpyDeviceToDevice)
    LL_CUDA_ON_CPU_CALL("cudaMemcpy2DAsync", hipMemcpy2DAsync(dst, dpitch, src, spitch, width,
                                                              height, (hipMemcpyKind)kind, s));
  struct Args {
    char *dst;
    const char *src;
    size_t dpitch, spitch, width, height;
  } a = {(char *)dst, (const char *)src, dpitch, spitch, width, height};
  LL_CUDA_ON_CPU_CALL("cudaMemcpy2DAsync", host_copy(s, [](void *p) {
    Args *x = (Args *)p;
    for (size_t r = 0; r < x->height; r++)
      std::memcpy(x->dst + r * x->dpitch, x->src + r * x->spitch, x->width);
  }, &a));
}

/* ---- launches and warps ------------------------------------------------------------------- */

namespace ll_cuda_on_cpu {

bool launch_begin(const dim3 &g, const dim3 &b, size_t shmem)
{
  if (int e = injected("launch")) {
    /* a fault inside the kernel: it surfaces at the next call, as on a GPU */
    if (!faults().sticky.load())
      note((hipError_t)e);
    return false;
  }
  if (!launch_ok(g, b, shmem)) {
    note(hipErrorInvalidConfiguration);
    return false;
  }
  return true;
}

void warp_yield()
{
  using namespace hip::detail;
  const std::uint32_t n = count(Tile::this_tile().dimensions());
  const std::uint32_t f = id(Fiber::this_fiber());
  if (n % 32)
    die("a warp shuffle in a block that is not a whole number of warps");
  if (f != 0 && Fiber::this_fiber() == Fiber::main())
    die("a warp shuffle in a block whose first warp never synchronised (unsupported)");
  /* the block now runs as fibers; see Tiled_domain::for_each_tile_ */
  this_tile::has_barrier = true;
  Fiber::yield(Tile::fibers()[f - f % 32 + (f % 32 + 1) % 32]);
}

} // namespace ll_cuda_on_cpu

/* ---- test hooks ----------------------------------------------------------------------------- */

extern "C" LL_EXPORT void ll_cuda_on_cpu_inject(const char *api, int error, int sticky)
{
  ll_cuda_on_cpu::Faults &f = ll_cuda_on_cpu::faults();
  std::lock_guard<std::mutex> g(f.lock);
  std::snprintf(f.api, sizeof f.api, "%s", api ? api : "");
  f.error = error;
  f.sticky_next = sticky != 0;
}

extern "C" LL_EXPORT int ll_cuda_on_cpu_cublas_handles(void)
{
  return ll_cuda_on_cpu::cublas_handles().load();
}
