/* cuda-loss.h: softmax, losses and argmax of the CUDA backend (contracts in
 * ../backend.h). Losses write their scalar to device memory (*loss); the
 * engine downloads it. */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_softmax_forward(const float *x, float *y, int rows, int cols);
void ll_cuda_softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols);
void ll_cuda_cross_entropy(const float *logits, const float *target, int rows, int cols,
                           float smoothing, float weight, float *loss, float *dlogits);
void ll_cuda_bce_logits(const float *logits, const float *target, size_t n, float weight,
                        float *loss, float *dlogits);
void ll_cuda_mse(const float *pred, const float *target, size_t n, float weight, float *loss,
                 float *dpred);
void ll_cuda_l1(const float *pred, const float *target, size_t n, float weight, float *loss,
                float *dpred);
void ll_cuda_argmax_rows(const float *x, int rows, int cols, float *out);

#ifdef __cplusplus
}
#endif
