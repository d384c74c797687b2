/* cuda-optim.h: the optimizer updates of the CUDA backend, one fused kernel
 * each (contracts in ../backend.h: torch.optim semantics). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_sgd_update(float *p, const float *g, float *mom, size_t n, float lr, float momentum,
                        float dampening, bool nesterov, float weight_decay, bool first_step);
void ll_cuda_adam_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, bool adamw,
                         int64_t step);
void ll_cuda_rmsprop_update(float *p, const float *g, float *sq, float *mom, size_t n, float lr,
                            float alpha, float eps, float weight_decay, float momentum);
void ll_cuda_adagrad_update(float *p, const float *g, float *sum, size_t n, float lr, float eps,
                            float weight_decay);

#ifdef __cplusplus
}
#endif
