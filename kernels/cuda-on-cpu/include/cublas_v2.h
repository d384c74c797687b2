/* cublas_v2.h (cuda-on-cpu): the cuBLAS calls kernels/cuda makes, served by
 * OpenBLAS. Column-major as cuBLAS; the arguments are checked as cuBLAS
 * checks them (CUBLAS_STATUS_INVALID_VALUE); a GEMM waits for the work queued
 * on the handle's stream before it runs and is done when it returns, so the
 * stream order holds. The number of live handles is kept for the tests. */
#pragma once

#include <cblas.h>

#include <atomic>

#include "cuda_runtime.h"

typedef enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 } cublasMath_t;

struct cublasContext {
  cudaStream_t stream;
};
typedef cublasContext *cublasHandle_t;

namespace ll_cuda_on_cpu {

inline std::atomic<int> &cublas_handles()
{
  static std::atomic<int> n{0};
  return n;
}

/* An injected failure, or the lost context's, as a cuBLAS status. */
inline cublasStatus_t cublas_fault(const char *api)
{
  int e = injected(api);
  if (!e)
    return CUBLAS_STATUS_SUCCESS;
  return faults().sticky.load() ? CUBLAS_STATUS_EXECUTION_FAILED : (cublasStatus_t)e;
}

} // namespace ll_cuda_on_cpu

inline const char *cublasGetStatusString(cublasStatus_t s)
{
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
  case CUBLAS_STATUS_ALLOC_FAILED: return "the resource allocation failed";
  case CUBLAS_STATUS_INVALID_VALUE: return "an invalid numeric value was used as an argument";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "the GPU program failed to execute";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "an internal operation failed";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "the functionality requested is not supported";
  }
  return "unknown error";
}

inline cublasStatus_t cublasCreate(cublasHandle_t *h)
{
  if (cublasStatus_t s = ll_cuda_on_cpu::cublas_fault("cublasCreate"))
    return s;
  *h = new cublasContext{nullptr};
  ll_cuda_on_cpu::cublas_handles()++;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasDestroy(cublasHandle_t h)
{
  if (!h)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  delete h;
  ll_cuda_on_cpu::cublas_handles()--;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{
  if (cublasStatus_t st = ll_cuda_on_cpu::cublas_fault("cublasSetStream"))
    return st;
  if (!h)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m)
{
  if (cublasStatus_t st = ll_cuda_on_cpu::cublas_fault("cublasSetMathMode"))
    return st;
  return h ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

namespace ll_cuda_on_cpu {

/* cuBLAS's argument checks for a column-major GEMM */
inline bool gemm_args_ok(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda,
                         int ldb, int ldc)
{
  auto at_least = [](int ld, int rows) { return ld >= (rows > 1 ? rows : 1); };
  return m >= 0 && n >= 0 && k >= 0 && at_least(lda, ta == CUBLAS_OP_N ? m : k) &&
         at_least(ldb, tb == CUBLAS_OP_N ? k : n) && at_least(ldc, m);
}

inline void sgemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
  if (!m || !n)
    return;
  cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_T ? CblasTrans : CblasNoTrans,
              tb == CUBLAS_OP_T ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta,
              c, ldc);
}

} // namespace ll_cuda_on_cpu

inline cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                  int m, int n, int k, const float *alpha, const float *a, int lda,
                                  const float *b, int ldb, const float *beta, float *c, int ldc)
{
  if (cublasStatus_t st = ll_cuda_on_cpu::cublas_fault("cublasSgemm"))
    return st;
  if (!h)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ll_cuda_on_cpu::gemm_args_ok(ta, tb, m, n, k, lda, ldb, ldc))
    return CUBLAS_STATUS_INVALID_VALUE;
  if (hipStreamSynchronize(h->stream) != hipSuccess)
    return CUBLAS_STATUS_EXECUTION_FAILED;
  ll_cuda_on_cpu::sgemm(ta, tb, m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
  return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                                cublasOperation_t tb, int m, int n, int k,
                                                const float *alpha, const float *a, int lda,
                                                long long sa, const float *b, int ldb,
                                                long long sb, const float *beta, float *c, int ldc,
                                                long long sc, int batch)
{
  if (cublasStatus_t st = ll_cuda_on_cpu::cublas_fault("cublasSgemmStridedBatched"))
    return st;
  if (!h)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!ll_cuda_on_cpu::gemm_args_ok(ta, tb, m, n, k, lda, ldb, ldc) || batch < 0)
    return CUBLAS_STATUS_INVALID_VALUE;
  if (hipStreamSynchronize(h->stream) != hipSuccess)
    return CUBLAS_STATUS_EXECUTION_FAILED;
  for (int i = 0; i < batch; i++)
    ll_cuda_on_cpu::sgemm(ta, tb, m, n, k, *alpha, a + i * sa, lda, b + i * sb, ldb, *beta,
                          c + i * sc, ldc);
  return CUBLAS_STATUS_SUCCESS;
}
