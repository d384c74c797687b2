/* cuda-norm.h: batch normalisation slots of the CUDA backend over x(n, c,
 * inner) and layer normalisation over each row of x(rows, cols) (contracts in ../backend.h; gamma,
 * beta, dgamma, dbeta may be NULL: affine = false; dx may be NULL). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_batchnorm_forward_train(const float *x, float *y, const float *gamma,
                                     const float *beta, float *save_mean, float *save_invstd,
                                     float *running_mean, float *running_var, int n, int c,
                                     int inner, float momentum, float eps);
void ll_cuda_batchnorm_forward_eval(const float *x, float *y, const float *gamma, const float *beta,
                                    const float *running_mean, const float *running_var, int n,
                                    int c, int inner, float eps);
void ll_cuda_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                                const float *save_mean, const float *save_invstd, float *dx,
                                float *dgamma, float *dbeta, int n, int c, int inner);
void ll_cuda_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                     const float *running_mean, const float *running_var, float *dx,
                                     float *dgamma, float *dbeta, int n, int c, int inner,
                                     float eps);
void ll_cuda_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta,
                               float *save_mean, float *save_invstd, int rows, int cols, float eps);
void ll_cuda_layernorm_backward(const float *x, const float *dy, const float *gamma,
                                const float *save_mean, const float *save_invstd, float *dx,
                                float *dgamma, float *dbeta, int rows, int cols);

#ifdef __cplusplus
}
#endif
