/* cuda-on-cpu-hooks.h: what libll-cuda-on-cpu.so (the CUDA kernels run on the
 * CPU through HIP-CPU) exports for tests, beside the entry points of
 * backend-module.h. A test dlopen()s the module the engine loaded
 * ($LAYERLAB_CUDA_MODULE) and looks these up. Plain C. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/* The next call of `api` ("cudaMalloc", "cudaMemcpyAsync", "cublasSetStream",
 * ... or "launch" for a kernel) fails with `error` (a CUDA error code, or a
 * cuBLAS status for a cuBLAS call). sticky: the error is one that loses the
 * context (an illegal address in a kernel): from then on every call fails
 * with it until cudaDeviceReset. error 0 cancels a pending injection. */
typedef void (*LlCudaOnCpuInjectFn)(const char *api, int error, int sticky);
#define LL_CUDA_ON_CPU_INJECT_SYMBOL "ll_cuda_on_cpu_inject"

/* cuBLAS handles created and not destroyed. */
typedef int (*LlCudaOnCpuCublasHandlesFn)(void);
#define LL_CUDA_ON_CPU_CUBLAS_HANDLES_SYMBOL "ll_cuda_on_cpu_cublas_handles"

#ifdef __cplusplus
}
#endif
