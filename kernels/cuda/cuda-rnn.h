/* cuda-rnn.h: recurrent cells and the embedding lookup of the CUDA backend
 * (contracts in ../backend.h, including the in-place and aliasing rules). */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

void ll_cuda_lstm_cell_forward(float *gates, const float *c_prev, float *c, float *h, int n,
                               int hidden);
void ll_cuda_lstm_cell_backward(const float *gates, const float *c_prev, const float *c,
                                const float *dh, const float *dc, float *dgates, float *dc_prev,
                                int n, int hidden);
void ll_cuda_gru_cell_forward(const float *xg, const float *hg, const float *h_prev, float *h,
                              float *act, int n, int hidden);
void ll_cuda_gru_cell_backward(const float *act, const float *h_prev, const float *dh, float *dxg,
                               float *dhg, float *dh_prev, int n, int hidden);
void ll_cuda_embedding_forward(const float *table, const float *idx, float *out, int n, int vocab,
                               int dim);
void ll_cuda_embedding_backward(const float *idx, const float *dout, float *dtable, int n,
                                int vocab, int dim);

#ifdef __cplusplus
}
#endif
