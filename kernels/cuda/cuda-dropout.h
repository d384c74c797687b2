/* cuda-dropout.h: dropout and the element-wise product backward of the
 * CUDA backend (contracts in ../backend.h). The mask comes from
 * ../counter-rng.h, so it is the CPU's mask bit for bit. */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                             uint64_t seed, uint64_t offset);
void ll_cuda_mul_backward(const float *dy, const float *mask, float *dx, size_t n);

#ifdef __cplusplus
}
#endif
