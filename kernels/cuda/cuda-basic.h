/* cuda-basic.h: memory and element-wise slots of the CUDA backend (contracts
 * in ../backend.h). Launchers run on the backend's stream. */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void *ll_cuda_alloc(size_t bytes);
void ll_cuda_free(void *ptr);
void ll_cuda_upload(float *dst, const float *src_host, size_t n);
void ll_cuda_download(float *dst_host, const float *src, size_t n);
size_t ll_cuda_mem_free(void);
void ll_cuda_synchronize(void);
void ll_cuda_fill(float *x, float v, size_t n);
void ll_cuda_copy(float *dst, const float *src, size_t n);
void ll_cuda_axpy(float *y, float a, const float *x, size_t n);
void ll_cuda_scale(float *x, float a, size_t n);
void ll_cuda_copy2d(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                    bool accumulate);
void ll_cuda_act_forward(LlActivation act, float alpha, const float *x, float *y, size_t n);
void ll_cuda_act_backward(LlActivation act, float alpha, const float *x, const float *y,
                          const float *dy, float *dx, size_t n);
void ll_cuda_sum_squares(const float *x, size_t n, float *out);

#ifdef __cplusplus
}
#endif
