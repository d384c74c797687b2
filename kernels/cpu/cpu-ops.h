/* cpu-ops.h: the CPU backend's operations, one declaration per slot of
 * LlBackend (see ../backend.h for the contracts), grouped by source file. */
#pragma once

#include "../backend.h"

/* cpu-basic.c */
void *ll_cpu_alloc(size_t bytes);
void ll_cpu_free(void *ptr);
void ll_cpu_upload(float *dst, const float *src, size_t n);
void ll_cpu_download(float *dst, const float *src, size_t n);
void ll_cpu_fill(float *x, float v, size_t n);
void ll_cpu_copy(float *dst, const float *src, size_t n);
void ll_cpu_axpy(float *y, float a, const float *x, size_t n);
void ll_cpu_scale(float *x, float a, size_t n);
void ll_cpu_copy2d(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                   bool accumulate);
void ll_cpu_act_forward(LlActivation act, float alpha, const float *x, float *y, size_t n);
void ll_cpu_act_backward(LlActivation act, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, size_t n);
void ll_cpu_sum_squares(const float *x, size_t n, float *out);
void ll_cpu_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void ll_cpu_bias_add(float *y, const float *bias, int n, int c, int inner);
void ll_cpu_linear_forward(const float *x, const float *w, const float *bias, float *y, int rows,
                           int in, int out, bool relu);
void ll_cpu_bias_backward(const float *dy, float *dbias, int n, int c, int inner);
void ll_cpu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p, uint64_t seed,
                            uint64_t offset);
void ll_cpu_mul_backward(const float *dy, const float *mask, float *dx, size_t n);
void ll_cpu_relu_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                 uint64_t seed, uint64_t offset);
void ll_cpu_relu_mul_backward(const float *dy, const float *mask, const float *x, float *dx,
                              size_t n);

/* cpu-loss.c */
void ll_cpu_softmax_forward(const float *x, float *y, int rows, int cols);
void ll_cpu_softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols);
void ll_cpu_cross_entropy(const float *logits, const float *target, int rows, int cols,
                          float smoothing, float weight, float *loss, float *dlogits);
void ll_cpu_bce_logits(const float *logits, const float *target, size_t n, float weight,
                       float *loss, float *dlogits);
void ll_cpu_mse(const float *pred, const float *target, size_t n, float weight, float *loss,
                float *dpred);
void ll_cpu_l1(const float *pred, const float *target, size_t n, float weight, float *loss,
               float *dpred);
void ll_cpu_argmax_rows(const float *x, int rows, int cols, float *out);

/* cpu-norm.c (gamma, beta, dgamma, dbeta may be NULL: affine = false) */
void ll_cpu_batchnorm_forward_train(const float *x, float *y, const float *gamma, const float *beta,
                                    float *save_mean, float *save_invstd, float *running_mean,
                                    float *running_var, int n, int c, int inner, float momentum,
                                    float eps);
void ll_cpu_batchnorm_forward_eval(const float *x, float *y, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int n,
                                   int c, int inner, float eps);
void ll_cpu_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int n, int c, int inner);
void ll_cpu_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                    const float *running_mean, const float *running_var, float *dx,
                                    float *dgamma, float *dbeta, int n, int c, int inner,
                                    float eps);
void ll_cpu_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta,
                              float *save_mean, float *save_invstd, int rows, int cols, float eps);
void ll_cpu_layernorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int rows, int cols);
void ll_cpu_batchnorm_relu_forward(const LlBnRelu *r, const float *x, float *z);
void ll_cpu_batchnorm_relu_backward(const LlBnRelu *r, const float *x, const float *z,
                                    const float *dz, float *dx, float *dgamma, float *dbeta);
/* cpu-rnn.c */
void ll_cpu_lstm_cell_forward(float *gates, const float *c_prev, float *c, float *h, int n,
                              int hidden);
void ll_cpu_lstm_cell_backward(const float *gates, const float *c_prev, const float *c,
                               const float *dh, const float *dc, float *dgates, float *dc_prev,
                               int n, int hidden);
void ll_cpu_gru_cell_forward(const float *xg, const float *hg, const float *h_prev, float *h,
                             float *act, int n, int hidden);
void ll_cpu_gru_cell_backward(const float *act, const float *h_prev, const float *dh, float *dxg,
                              float *dhg, float *dh_prev, int n, int hidden);
void ll_cpu_embedding_forward(const float *table, const float *idx, float *out, int n, int vocab,
                              int dim);
void ll_cpu_embedding_backward(const float *idx, const float *dout, float *dtable, int n, int vocab,
                               int dim);
/* cpu-optim.c */
void ll_cpu_sgd_update(float *p, const float *g, float *mom, size_t n, float lr, float momentum,
                       float dampening, bool nesterov, float weight_decay, bool first_step);
void ll_cpu_adam_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                        float beta1, float beta2, float eps, float weight_decay, bool adamw,
                        int64_t step);
void ll_cpu_rmsprop_update(float *p, const float *g, float *sq, float *mom, size_t n, float lr,
                           float alpha, float eps, float weight_decay, float momentum);
void ll_cpu_adagrad_update(float *p, const float *g, float *sum, size_t n, float lr, float eps,
                           float weight_decay);
/* cpu-conv.c */
size_t ll_cpu_conv2d_workspace(const LlConvGeom *g);
void ll_cpu_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y,
                           float *ws);
void ll_cpu_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy, float *dx,
                                 float *ws);
void ll_cpu_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy, float *dw,
                                   float *ws);

/* cpu-pool.c */
void ll_cpu_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax);
void ll_cpu_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                               float *dx);
void ll_cpu_avgpool2d_forward(const LlPoolGeom *g, const float *x, float *y);
void ll_cpu_avgpool2d_backward(const LlPoolGeom *g, const float *dy, float *dx);
void ll_cpu_mean_inner_forward(const float *x, float *y, int outer, int inner);
void ll_cpu_mean_inner_backward(const float *dy, float *dx, int outer, int inner);
void ll_cpu_upsample2d_forward(bool bilinear, const float *x, float *y, int planes, int h, int w,
                               int oh, int ow);
void ll_cpu_upsample2d_backward(bool bilinear, const float *dy, float *dx, int planes, int h, int w,
                                int oh, int ow);
