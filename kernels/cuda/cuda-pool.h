/* cuda-pool.h: pooling and upsampling slots of the CUDA backend (contracts in
 * ../backend.h; argmax is the index within the sample-channel plane,
 * iy * w + ix, as the CPU's). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax);
void ll_cuda_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                                float *dx);
void ll_cuda_avgpool2d_forward(const LlPoolGeom *g, const float *x, float *y);
void ll_cuda_avgpool2d_backward(const LlPoolGeom *g, const float *dy, float *dx);
void ll_cuda_mean_inner_forward(const float *x, float *y, int outer, int inner);
void ll_cuda_mean_inner_backward(const float *dy, float *dx, int outer, int inner);
void ll_cuda_upsample2d_forward(bool bilinear, const float *x, float *y, int planes, int h, int w,
                                int oh, int ow);
void ll_cuda_upsample2d_backward(bool bilinear, const float *dy, float *dx, int planes, int h,
                                 int w, int oh, int ow);

#ifdef __cplusplus
}
#endif
