/* cuda-conv.h: 2-D convolution slots of the CUDA backend, im2col + cuBLAS
 * (contracts in ../backend.h). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 0: the three slots below ignore their ws argument. The CUDA backend keeps
 * its own scratch (it batches several samples per GEMM, so it is larger than
 * the CPU's one-sample workspace), so a graph compiled for the GPU plans no
 * workspace (LlBlockDesc.workspace). */
size_t ll_cuda_conv2d_workspace(const LlConvGeom *g);
void ll_cuda_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y,
                            float *ws);
void ll_cuda_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy, float *dx,
                                  float *ws);
void ll_cuda_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy, float *dw,
                                    float *ws);

#ifdef __cplusplus
}
#endif
