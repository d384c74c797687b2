/* cuda-gemm.h: matrix slots of the CUDA backend: GEMM through cuBLAS, bias
 * add and its deterministic reduction (contracts in ../backend.h). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc);
void ll_cuda_bias_add(float *y, const float *bias, int n, int c, int inner);
void ll_cuda_bias_backward(const float *dy, float *dbias, int n, int c, int inner);

#ifdef __cplusplus
}
#endif
