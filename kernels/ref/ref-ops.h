/* ref-ops.h: the reference backend's ops in double precision.
 *
 * One function per backend slot (kernels/backend.h says what each computes),
 * with the same arguments, on double arrays instead of float ones. These are
 * the specification every other backend is tested against, and what the
 * gradient checks differentiate in double (tests/engine/test-grad-ref.c).
 * ref-backend.c wraps them into an LlBackend whose tensors are float32, as
 * every backend's are: each slot converts its inputs to double, calls the
 * function here and rounds each output to float once.
 *
 * Conventions: as the slots. Backward functions ACCUMULATE into their
 * gradient outputs; a NULL gradient output is skipped. Shapes are in the
 * comments, row-major, NCHW. No SIMD, no threads, no fusion. */
#pragma once

#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* element-wise */
void ll_ref_axpy(double *y, double a, const double *x, size_t n);
void ll_ref_scale(double *x, double a, size_t n);
void ll_ref_act_forward(LlActivation act, double alpha, const double *x, double *y, size_t n);
void ll_ref_act_backward(LlActivation act, double alpha, const double *x, const double *dy,
                         double *dx, size_t n);
double ll_ref_sum_squares(const double *x, size_t n);

/* matrices */
void ll_ref_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc);
void ll_ref_bias_add(double *y, const double *bias, int n, int c, int inner);
void ll_ref_bias_backward(const double *dy, double *dbias, int n, int c, int inner);

/* convolution and pooling */
void ll_ref_conv2d_forward(const LlConvGeom *g, const double *x, const double *w, double *y);
void ll_ref_conv2d_backward_data(const LlConvGeom *g, const double *w, const double *dy,
                                 double *dx);
void ll_ref_conv2d_backward_filter(const LlConvGeom *g, const double *x, const double *dy,
                                   double *dw);
void ll_ref_maxpool2d_forward(const LlPoolGeom *g, const double *x, double *y, int32_t *argmax);
void ll_ref_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const double *dy,
                               double *dx);
void ll_ref_avgpool2d_forward(const LlPoolGeom *g, const double *x, double *y);
void ll_ref_avgpool2d_backward(const LlPoolGeom *g, const double *dy, double *dx);
void ll_ref_mean_inner_forward(const double *x, double *y, int outer, int inner);
void ll_ref_mean_inner_backward(const double *dy, double *dx, int outer, int inner);
void ll_ref_upsample2d_forward(bool bilinear, const double *x, double *y, int planes, int h, int w,
                               int oh, int ow);
void ll_ref_upsample2d_backward(bool bilinear, const double *dy, double *dx, int planes, int h,
                                int w, int oh, int ow);

/* batch normalisation */
void ll_ref_batchnorm_forward_train(const double *x, double *y, const double *gamma,
                                    const double *beta, double *save_mean, double *save_invstd,
                                    double *running_mean, double *running_var, int n, int c,
                                    int inner, double momentum, double eps);
void ll_ref_batchnorm_forward_eval(const double *x, double *y, const double *gamma,
                                   const double *beta, const double *running_mean,
                                   const double *running_var, int n, int c, int inner, double eps);
void ll_ref_batchnorm_backward(const double *x, const double *dy, const double *gamma,
                               const double *save_mean, const double *save_invstd, double *dx,
                               double *dgamma, double *dbeta, int n, int c, int inner);
void ll_ref_batchnorm_backward_eval(const double *x, const double *dy, const double *gamma,
                                    const double *running_mean, const double *running_var,
                                    double *dx, double *dgamma, double *dbeta, int n, int c,
                                    int inner, double eps);

/* layer normalisation */
void ll_ref_layernorm_forward(const double *x, double *y, const double *gamma, const double *beta,
                              double *save_mean, double *save_invstd, int rows, int cols,
                              double eps);
void ll_ref_layernorm_backward(const double *x, const double *dy, const double *gamma,
                               const double *save_mean, const double *save_invstd, double *dx,
                               double *dgamma, double *dbeta, int rows, int cols);

/* dropout: the mask is the one backend.h defines (counter-rng.h) */
void ll_ref_dropout_forward(const double *x, double *y, double *mask, size_t n, float p,
                            uint64_t seed, uint64_t offset);
void ll_ref_mul_backward(const double *dy, const double *mask, double *dx, size_t n);

/* softmax, losses, metrics: a loss returns weight * mean loss */
void ll_ref_softmax_forward(const double *x, double *y, int rows, int cols);
void ll_ref_softmax_backward(const double *y, const double *dy, double *dx, int rows, int cols);
double ll_ref_cross_entropy(const double *logits, const double *target, int rows, int cols,
                            double smoothing, double weight, double *dlogits);
double ll_ref_bce_logits(const double *logits, const double *target, size_t n, double weight,
                         double *dlogits);
double ll_ref_mse(const double *pred, const double *target, size_t n, double weight,
                  double *dpred);
double ll_ref_l1(const double *pred, const double *target, size_t n, double weight,
                 double *dpred);
void ll_ref_argmax_rows(const double *x, int rows, int cols, double *out);

/* sequences and lookup */
void ll_ref_embedding_forward(const double *table, const double *idx, double *out, int n,
                              int vocab, int dim);
void ll_ref_embedding_backward(const double *idx, const double *dout, double *dtable, int n,
                               int vocab, int dim);
void ll_ref_lstm_cell_forward(double *gates, const double *c_prev, double *c, double *h, int n,
                              int hidden);
void ll_ref_lstm_cell_backward(const double *gates, const double *c_prev, const double *c,
                               const double *dh, const double *dc, double *dgates,
                               double *dc_prev, int n, int hidden);
void ll_ref_gru_cell_forward(const double *xg, const double *hg, const double *h_prev, double *h,
                             double *act, int n, int hidden);
void ll_ref_gru_cell_backward(const double *act, const double *h_prev, const double *dh,
                              double *dxg, double *dhg, double *dh_prev, int n, int hidden);

/* optimizer updates */
void ll_ref_sgd_update(double *p, const double *g, double *mom, size_t n, double lr,
                       double momentum, double dampening, bool nesterov, double weight_decay,
                       bool first_step);
void ll_ref_adam_update(double *p, const double *g, double *m, double *v, size_t n, double lr,
                        double beta1, double beta2, double eps, double weight_decay, bool adamw,
                        int64_t step);
void ll_ref_rmsprop_update(double *p, const double *g, double *sq, double *mom, size_t n,
                           double lr, double alpha, double eps, double weight_decay,
                           double momentum);
void ll_ref_adagrad_update(double *p, const double *g, double *sum, size_t n, double lr,
                           double eps, double weight_decay);

#ifdef __cplusplus
}
#endif
