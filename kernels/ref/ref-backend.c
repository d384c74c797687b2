/* ref-backend.c: the reference backend's table (ll_ref_backend).
 *
 * Tensors are float32 in host memory, as the backend interface has them;
 * the arithmetic is double. Each slot converts at the op boundary: it copies
 * its float inputs (and the gradients it accumulates into) to double
 * scratch, runs the double op of ref-ops.c, and rounds each output to float
 * once, when it stores it. So an output differs from the exact result of
 * the float inputs by one float rounding at most, and aliasing outputs and
 * inputs (in-place activations, dgates over gates) is harmless: every input
 * is read before any output is written.
 *
 * The optional slots stay NULL: the engine runs the blocks apart (no fused
 * Linear -> ReLU, BatchNorm -> ReLU -> Dropout or ReLU -> Dropout), runs host
 * work itself, and never waits or asks for errors. */
#include <stdlib.h>
#include <string.h>

#include "ref-ops.h"

/* ---- conversion at the op boundary ------------------------------------------------------ */

/* A double copy of x(n), or NULL when x is NULL. */
static double *dup_in(const float *x, size_t n)
{
  if (!x)
    return NULL;
  double *d = malloc((n ? n : 1) * sizeof *d);
  if (!d)
    abort(); /* scratch of a reference op: no recovery is meaningful */
  for (size_t i = 0; i < n; i++)
    d[i] = x[i];
  return d;
}

/* Zeroed double scratch for an output that is overwritten. */
static double *scratch(size_t n)
{
  double *d = calloc(n ? n : 1, sizeof *d);
  if (!d)
    abort();
  return d;
}

/* Rounds d(n) into dst (when not NULL) and frees d. */
static void put_out(float *dst, double *d, size_t n)
{
  if (dst && d)
    for (size_t i = 0; i < n; i++)
      dst[i] = (float)d[i];
  free(d);
}

/* ---- memory ------------------------------------------------------------------------------- */

static void *ref_alloc(size_t bytes) { return calloc(bytes ? bytes : 1, 1); }
static void ref_free(void *p) { free(p); }
static void ref_upload(float *dst, const float *src, size_t n) { memcpy(dst, src, n * 4); }
static void ref_download(float *dst, const float *src, size_t n) { memcpy(dst, src, n * 4); }

/* ---- element-wise ------------------------------------------------------------------------- */

static void ref_fill(float *x, float v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = v;
}

static void ref_copy(float *dst, const float *src, size_t n) { memmove(dst, src, n * sizeof *dst); }

static void ref_axpy(float *y, float a, const float *x, size_t n)
{
  double *Y = dup_in(y, n), *X = dup_in(x, n);
  ll_ref_axpy(Y, a, X, n);
  put_out(y, Y, n);
  free(X);
}

static void ref_scale(float *x, float a, size_t n)
{
  double *X = dup_in(x, n);
  ll_ref_scale(X, a, n);
  put_out(x, X, n);
}

static void ref_copy2d(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                       bool accumulate)
{
  for (int r = 0; r < rows; r++)
    for (int j = 0; j < cols; j++) {
      float *d = &dst[(size_t)r * ld_dst + j];
      double s = src[(size_t)r * ld_src + j];
      *d = (float)(accumulate ? *d + s : s);
    }
}

static void ref_act_forward(LlActivation act, float alpha, const float *x, float *y, size_t n)
{
  double *X = dup_in(x, n), *Y = scratch(n);
  ll_ref_act_forward(act, alpha, X, Y, n);
  put_out(y, Y, n);
  free(X);
}

static void ref_act_backward(LlActivation act, float alpha, const float *x, const float *y,
                             const float *dy, float *dx, size_t n)
{
  (void)y;
  double *X = dup_in(x, n), *DY = dup_in(dy, n), *DX = dup_in(dx, n);
  ll_ref_act_backward(act, alpha, X, DY, DX, n);
  put_out(dx, DX, n);
  free(X);
  free(DY);
}

static void ref_sum_squares(const float *x, size_t n, float *out)
{
  double *X = dup_in(x, n);
  *out = (float)ll_ref_sum_squares(X, n);
  free(X);
}

/* ---- matrices ----------------------------------------------------------------------------- */

static void ref_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc)
{
  /* op(A) is (m, k) and op(B) (k, n): their stored row counts, times the
   * leading dimensions, bound what is read */
  size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
  size_t nc = m > 0 ? (size_t)(m - 1) * ldc + n : 0;
  double *A = dup_in(a, na), *B = dup_in(b, nb), *C = dup_in(c, nc);
  ll_ref_gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  /* only op's (m, n) block of C is written: the gaps between rows keep
   * whatever the caller had there */
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      c[(size_t)i * ldc + j] = (float)C[(size_t)i * ldc + j];
  free(A);
  free(B);
  free(C);
}

static void ref_bias_add(float *y, const float *bias, int n, int c, int inner)
{
  size_t ny = (size_t)n * c * inner;
  double *Y = dup_in(y, ny), *B = dup_in(bias, c);
  ll_ref_bias_add(Y, B, n, c, inner);
  put_out(y, Y, ny);
  free(B);
}

static void ref_bias_backward(const float *dy, float *dbias, int n, int c, int inner)
{
  double *DY = dup_in(dy, (size_t)n * c * inner), *DB = dup_in(dbias, c);
  ll_ref_bias_backward(DY, DB, n, c, inner);
  put_out(dbias, DB, c);
  free(DY);
}

/* ---- convolution ---------------------------------------------------------------------------- */

static size_t conv_x(const LlConvGeom *g) { return (size_t)g->n * g->c * g->h * g->w; }
static size_t conv_y(const LlConvGeom *g) { return (size_t)g->n * g->oc * g->oh * g->ow; }
static size_t conv_w(const LlConvGeom *g)
{
  return (size_t)g->oc * (g->c / g->groups) * g->kh * g->kw;
}

/* The reference needs no workspace: its scratch is its own. */
static size_t ref_conv2d_workspace(const LlConvGeom *g)
{
  (void)g;
  return 0;
}

static void ref_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y,
                               float *ws)
{
  (void)ws;
  double *X = dup_in(x, conv_x(g)), *W = dup_in(w, conv_w(g)), *Y = scratch(conv_y(g));
  ll_ref_conv2d_forward(g, X, W, Y);
  put_out(y, Y, conv_y(g));
  free(X);
  free(W);
}

static void ref_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy,
                                     float *dx, float *ws)
{
  (void)ws;
  double *W = dup_in(w, conv_w(g)), *DY = dup_in(dy, conv_y(g)), *DX = dup_in(dx, conv_x(g));
  ll_ref_conv2d_backward_data(g, W, DY, DX);
  put_out(dx, DX, conv_x(g));
  free(W);
  free(DY);
}

static void ref_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy,
                                       float *dw, float *ws)
{
  (void)ws;
  double *X = dup_in(x, conv_x(g)), *DY = dup_in(dy, conv_y(g)), *DW = dup_in(dw, conv_w(g));
  ll_ref_conv2d_backward_filter(g, X, DY, DW);
  put_out(dw, DW, conv_w(g));
  free(X);
  free(DY);
}

/* ---- pooling ------------------------------------------------------------------------------------ */

static size_t pool_x(const LlPoolGeom *g) { return (size_t)g->n * g->c * g->h * g->w; }
static size_t pool_y(const LlPoolGeom *g) { return (size_t)g->n * g->c * g->oh * g->ow; }

static void ref_maxpool2d_forward(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax)
{
  double *X = dup_in(x, pool_x(g)), *Y = scratch(pool_y(g));
  ll_ref_maxpool2d_forward(g, X, Y, argmax);
  put_out(y, Y, pool_y(g));
  free(X);
}

static void ref_maxpool2d_backward(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                                   float *dx)
{
  double *DY = dup_in(dy, pool_y(g)), *DX = dup_in(dx, pool_x(g));
  ll_ref_maxpool2d_backward(g, argmax, DY, DX);
  put_out(dx, DX, pool_x(g));
  free(DY);
}

static void ref_avgpool2d_forward(const LlPoolGeom *g, const float *x, float *y)
{
  double *X = dup_in(x, pool_x(g)), *Y = scratch(pool_y(g));
  ll_ref_avgpool2d_forward(g, X, Y);
  put_out(y, Y, pool_y(g));
  free(X);
}

static void ref_avgpool2d_backward(const LlPoolGeom *g, const float *dy, float *dx)
{
  double *DY = dup_in(dy, pool_y(g)), *DX = dup_in(dx, pool_x(g));
  ll_ref_avgpool2d_backward(g, DY, DX);
  put_out(dx, DX, pool_x(g));
  free(DY);
}

static void ref_mean_inner_forward(const float *x, float *y, int outer, int inner)
{
  double *X = dup_in(x, (size_t)outer * inner), *Y = scratch(outer);
  ll_ref_mean_inner_forward(X, Y, outer, inner);
  put_out(y, Y, outer);
  free(X);
}

static void ref_mean_inner_backward(const float *dy, float *dx, int outer, int inner)
{
  double *DY = dup_in(dy, outer), *DX = dup_in(dx, (size_t)outer * inner);
  ll_ref_mean_inner_backward(DY, DX, outer, inner);
  put_out(dx, DX, (size_t)outer * inner);
  free(DY);
}

static void ref_upsample2d_forward(bool bilinear, const float *x, float *y, int planes, int h,
                                   int w, int oh, int ow)
{
  size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
  double *X = dup_in(x, nx), *Y = scratch(ny);
  ll_ref_upsample2d_forward(bilinear, X, Y, planes, h, w, oh, ow);
  put_out(y, Y, ny);
  free(X);
}

static void ref_upsample2d_backward(bool bilinear, const float *dy, float *dx, int planes, int h,
                                    int w, int oh, int ow)
{
  size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
  double *DY = dup_in(dy, ny), *DX = dup_in(dx, nx);
  ll_ref_upsample2d_backward(bilinear, DY, DX, planes, h, w, oh, ow);
  put_out(dx, DX, nx);
  free(DY);
}

/* ---- batch normalisation ---------------------------------------------------------------------- */

static void ref_batchnorm_forward_train(const float *x, float *y, const float *gamma,
                                        const float *beta, float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var, int n, int c,
                                        int inner, float momentum, float eps)
{
  size_t total = (size_t)n * c * inner;
  double *X = dup_in(x, total), *Y = scratch(total), *G = dup_in(gamma, c), *B = dup_in(beta, c);
  double *M = scratch(c), *S = scratch(c);
  double *RM = dup_in(running_mean, c), *RV = dup_in(running_var, c);
  ll_ref_batchnorm_forward_train(X, Y, G, B, M, S, RM, RV, n, c, inner, momentum, eps);
  put_out(y, Y, total);
  put_out(save_mean, M, c);
  put_out(save_invstd, S, c);
  put_out(running_mean, RM, c);
  put_out(running_var, RV, c);
  free(X);
  free(G);
  free(B);
}

static void ref_batchnorm_forward_eval(const float *x, float *y, const float *gamma,
                                       const float *beta, const float *running_mean,
                                       const float *running_var, int n, int c, int inner,
                                       float eps)
{
  size_t total = (size_t)n * c * inner;
  double *X = dup_in(x, total), *Y = scratch(total), *G = dup_in(gamma, c), *B = dup_in(beta, c);
  double *RM = dup_in(running_mean, c), *RV = dup_in(running_var, c);
  ll_ref_batchnorm_forward_eval(X, Y, G, B, RM, RV, n, c, inner, eps);
  put_out(y, Y, total);
  free(X);
  free(G);
  free(B);
  free(RM);
  free(RV);
}

static void ref_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                                   const float *save_mean, const float *save_invstd, float *dx,
                                   float *dgamma, float *dbeta, int n, int c, int inner)
{
  size_t total = (size_t)n * c * inner;
  double *X = dup_in(x, total), *DY = dup_in(dy, total), *G = dup_in(gamma, c);
  double *M = dup_in(save_mean, c), *S = dup_in(save_invstd, c);
  double *DX = dup_in(dx, total), *DG = dup_in(dgamma, c), *DB = dup_in(dbeta, c);
  ll_ref_batchnorm_backward(X, DY, G, M, S, DX, DG, DB, n, c, inner);
  put_out(dx, DX, total);
  put_out(dgamma, DG, c);
  put_out(dbeta, DB, c);
  free(X);
  free(DY);
  free(G);
  free(M);
  free(S);
}

static void ref_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                        const float *running_mean, const float *running_var,
                                        float *dx, float *dgamma, float *dbeta, int n, int c,
                                        int inner, float eps)
{
  size_t total = (size_t)n * c * inner;
  double *X = dup_in(x, total), *DY = dup_in(dy, total), *G = dup_in(gamma, c);
  double *RM = dup_in(running_mean, c), *RV = dup_in(running_var, c);
  double *DX = dup_in(dx, total), *DG = dup_in(dgamma, c), *DB = dup_in(dbeta, c);
  ll_ref_batchnorm_backward_eval(X, DY, G, RM, RV, DX, DG, DB, n, c, inner, eps);
  put_out(dx, DX, total);
  put_out(dgamma, DG, c);
  put_out(dbeta, DB, c);
  free(X);
  free(DY);
  free(G);
  free(RM);
  free(RV);
}

/* ---- layer normalisation ------------------------------------------------------------------------
 */

static void ref_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta,
                                  float *save_mean, float *save_invstd, int rows, int cols,
                                  float eps)
{
  size_t total = (size_t)rows * cols;
  double *X = dup_in(x, total), *Y = scratch(total);
  double *G = dup_in(gamma, cols), *B = dup_in(beta, cols);
  double *M = scratch(rows), *S = scratch(rows);
  ll_ref_layernorm_forward(X, Y, G, B, M, S, rows, cols, eps);
  put_out(y, Y, total);
  put_out(save_mean, M, rows);
  put_out(save_invstd, S, rows);
  free(X);
  free(G);
  free(B);
}

static void ref_layernorm_backward(const float *x, const float *dy, const float *gamma,
                                   const float *save_mean, const float *save_invstd, float *dx,
                                   float *dgamma, float *dbeta, int rows, int cols)
{
  size_t total = (size_t)rows * cols;
  double *X = dup_in(x, total), *DY = dup_in(dy, total), *G = dup_in(gamma, cols);
  double *M = dup_in(save_mean, rows), *S = dup_in(save_invstd, rows);
  double *DX = dup_in(dx, total), *DG = dup_in(dgamma, cols), *DB = dup_in(dbeta, cols);
  ll_ref_layernorm_backward(X, DY, G, M, S, DX, DG, DB, rows, cols);
  put_out(dx, DX, total);
  put_out(dgamma, DG, cols);
  put_out(dbeta, DB, cols);
  free(X);
  free(DY);
  free(G);
  free(M);
  free(S);
}

/* ---- dropout ---------------------------------------------------------------------------------- */

static void ref_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                                uint64_t seed, uint64_t offset)
{
  double *X = dup_in(x, n), *Y = scratch(n), *M = scratch(n);
  ll_ref_dropout_forward(X, Y, M, n, p, seed, offset);
  put_out(y, Y, n);
  put_out(mask, M, n);
  free(X);
}

static void ref_mul_backward(const float *dy, const float *mask, float *dx, size_t n)
{
  double *DY = dup_in(dy, n), *M = dup_in(mask, n), *DX = dup_in(dx, n);
  ll_ref_mul_backward(DY, M, DX, n);
  put_out(dx, DX, n);
  free(DY);
  free(M);
}

/* ---- softmax, losses, metrics ----------------------------------------------------------------- */

static void ref_softmax_forward(const float *x, float *y, int rows, int cols)
{
  size_t n = (size_t)rows * cols;
  double *X = dup_in(x, n), *Y = scratch(n);
  ll_ref_softmax_forward(X, Y, rows, cols);
  put_out(y, Y, n);
  free(X);
}

static void ref_softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols)
{
  size_t n = (size_t)rows * cols;
  double *Y = dup_in(y, n), *DY = dup_in(dy, n), *DX = dup_in(dx, n);
  ll_ref_softmax_backward(Y, DY, DX, rows, cols);
  put_out(dx, DX, n);
  free(Y);
  free(DY);
}

static void ref_cross_entropy(const float *logits, const float *target, int rows, int cols,
                              float smoothing, float weight, float *loss, float *dlogits)
{
  size_t n = (size_t)rows * cols;
  double *X = dup_in(logits, n), *T = dup_in(target, rows), *D = dup_in(dlogits, n);
  *loss = (float)ll_ref_cross_entropy(X, T, rows, cols, smoothing, weight, D);
  put_out(dlogits, D, n);
  free(X);
  free(T);
}

/* The three point-wise losses share their conversion. */
typedef double (*PointLoss)(const double *, const double *, size_t, double, double *);

static void point_loss(PointLoss fn, const float *pred, const float *target, size_t n,
                       float weight, float *loss, float *dpred)
{
  double *P = dup_in(pred, n), *T = dup_in(target, n), *D = dup_in(dpred, n);
  *loss = (float)fn(P, T, n, weight, D);
  put_out(dpred, D, n);
  free(P);
  free(T);
}

static void ref_bce_logits(const float *x, const float *t, size_t n, float w, float *loss,
                           float *dx)
{
  point_loss(ll_ref_bce_logits, x, t, n, w, loss, dx);
}

static void ref_mse(const float *p, const float *t, size_t n, float w, float *loss, float *dp)
{
  point_loss(ll_ref_mse, p, t, n, w, loss, dp);
}

static void ref_l1(const float *p, const float *t, size_t n, float w, float *loss, float *dp)
{
  point_loss(ll_ref_l1, p, t, n, w, loss, dp);
}

static void ref_argmax_rows(const float *x, int rows, int cols, float *out)
{
  double *X = dup_in(x, (size_t)rows * cols), *O = scratch(rows);
  ll_ref_argmax_rows(X, rows, cols, O);
  put_out(out, O, rows);
  free(X);
}

/* ---- sequences and lookup --------------------------------------------------------------------- */

static void ref_embedding_forward(const float *table, const float *idx, float *out, int n,
                                  int vocab, int dim)
{
  double *T = dup_in(table, (size_t)vocab * dim), *I = dup_in(idx, n);
  double *O = scratch((size_t)n * dim);
  ll_ref_embedding_forward(T, I, O, n, vocab, dim);
  put_out(out, O, (size_t)n * dim);
  free(T);
  free(I);
}

static void ref_embedding_backward(const float *idx, const float *dout, float *dtable, int n,
                                   int vocab, int dim)
{
  double *I = dup_in(idx, n), *DO = dup_in(dout, (size_t)n * dim);
  double *DT = dup_in(dtable, (size_t)vocab * dim);
  ll_ref_embedding_backward(I, DO, DT, n, vocab, dim);
  put_out(dtable, DT, (size_t)vocab * dim);
  free(I);
  free(DO);
}

static void ref_lstm_cell_forward(float *gates, const float *c_prev, float *c, float *h, int n,
                                  int hidden)
{
  size_t nh = (size_t)n * hidden;
  double *G = dup_in(gates, 4 * nh), *CP = dup_in(c_prev, nh), *C = scratch(nh), *H = scratch(nh);
  ll_ref_lstm_cell_forward(G, CP, C, H, n, hidden);
  put_out(gates, G, 4 * nh);
  put_out(c, C, nh);
  put_out(h, H, nh);
  free(CP);
}

static void ref_lstm_cell_backward(const float *gates, const float *c_prev, const float *c,
                                   const float *dh, const float *dc, float *dgates,
                                   float *dc_prev, int n, int hidden)
{
  size_t nh = (size_t)n * hidden;
  double *G = dup_in(gates, 4 * nh), *CP = dup_in(c_prev, nh), *C = dup_in(c, nh);
  double *DH = dup_in(dh, nh), *DC = dup_in(dc, nh), *DG = scratch(4 * nh);
  double *DCP = dup_in(dc_prev, nh);
  ll_ref_lstm_cell_backward(G, CP, C, DH, DC, DG, DCP, n, hidden);
  put_out(dgates, DG, 4 * nh);
  put_out(dc_prev, DCP, nh);
  free(G);
  free(CP);
  free(C);
  free(DH);
  free(DC);
}

static void ref_gru_cell_forward(const float *xg, const float *hg, const float *h_prev, float *h,
                                 float *act, int n, int hidden)
{
  size_t nh = (size_t)n * hidden;
  double *XG = dup_in(xg, 3 * nh), *HG = dup_in(hg, 3 * nh), *HP = dup_in(h_prev, nh);
  double *H = scratch(nh), *A = scratch(4 * nh);
  ll_ref_gru_cell_forward(XG, HG, HP, H, A, n, hidden);
  put_out(h, H, nh);
  put_out(act, A, 4 * nh);
  free(XG);
  free(HG);
  free(HP);
}

static void ref_gru_cell_backward(const float *act, const float *h_prev, const float *dh,
                                  float *dxg, float *dhg, float *dh_prev, int n, int hidden)
{
  size_t nh = (size_t)n * hidden;
  double *A = dup_in(act, 4 * nh), *HP = dup_in(h_prev, nh), *DH = dup_in(dh, nh);
  double *DXG = scratch(3 * nh), *DHG = scratch(3 * nh), *DHP = dup_in(dh_prev, nh);
  ll_ref_gru_cell_backward(A, HP, DH, DXG, DHG, DHP, n, hidden);
  put_out(dxg, DXG, 3 * nh);
  put_out(dhg, DHG, 3 * nh);
  put_out(dh_prev, DHP, nh);
  free(A);
  free(HP);
  free(DH);
}

/* ---- optimizer updates ------------------------------------------------------------------------- */

static void ref_sgd_update(float *p, const float *g, float *mom, size_t n, float lr,
                           float momentum, float dampening, bool nesterov, float weight_decay,
                           bool first_step)
{
  double *P = dup_in(p, n), *G = dup_in(g, n), *M = dup_in(mom, n);
  ll_ref_sgd_update(P, G, M, n, lr, momentum, dampening, nesterov, weight_decay, first_step);
  put_out(p, P, n);
  put_out(mom, M, n);
  free(G);
}

static void ref_adam_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                            float beta1, float beta2, float eps, float weight_decay, bool adamw,
                            int64_t step)
{
  double *P = dup_in(p, n), *G = dup_in(g, n), *M = dup_in(m, n), *V = dup_in(v, n);
  ll_ref_adam_update(P, G, M, V, n, lr, beta1, beta2, eps, weight_decay, adamw, step);
  put_out(p, P, n);
  put_out(m, M, n);
  put_out(v, V, n);
  free(G);
}

static void ref_rmsprop_update(float *p, const float *g, float *sq, float *mom, size_t n, float lr,
                               float alpha, float eps, float weight_decay, float momentum)
{
  double *P = dup_in(p, n), *G = dup_in(g, n), *S = dup_in(sq, n), *M = dup_in(mom, n);
  ll_ref_rmsprop_update(P, G, S, M, n, lr, alpha, eps, weight_decay, momentum);
  put_out(p, P, n);
  put_out(sq, S, n);
  put_out(mom, M, n);
  free(G);
}

static void ref_adagrad_update(float *p, const float *g, float *sum, size_t n, float lr, float eps,
                               float weight_decay)
{
  double *P = dup_in(p, n), *G = dup_in(g, n), *S = dup_in(sum, n);
  ll_ref_adagrad_update(P, G, S, n, lr, eps, weight_decay);
  put_out(p, P, n);
  put_out(sum, S, n);
  free(G);
}

static const LlBackend ref_backend = {
    .name = "ref",
    .device_name = "reference (double precision, single thread)",
    .host_memory = true,

    .alloc = ref_alloc,
    .free = ref_free,
    .upload = ref_upload,
    .download = ref_download,

    .fill = ref_fill,
    .copy = ref_copy,
    .axpy = ref_axpy,
    .scale = ref_scale,
    .copy2d = ref_copy2d,
    .act_forward = ref_act_forward,
    .act_backward = ref_act_backward,
    .sum_squares = ref_sum_squares,

    .gemm = ref_gemm,
    .bias_add = ref_bias_add,
    .bias_backward = ref_bias_backward,

    .conv2d_workspace = ref_conv2d_workspace,
    .conv2d_forward = ref_conv2d_forward,
    .conv2d_backward_data = ref_conv2d_backward_data,
    .conv2d_backward_filter = ref_conv2d_backward_filter,

    .maxpool2d_forward = ref_maxpool2d_forward,
    .maxpool2d_backward = ref_maxpool2d_backward,
    .avgpool2d_forward = ref_avgpool2d_forward,
    .avgpool2d_backward = ref_avgpool2d_backward,
    .mean_inner_forward = ref_mean_inner_forward,
    .mean_inner_backward = ref_mean_inner_backward,
    .upsample2d_forward = ref_upsample2d_forward,
    .upsample2d_backward = ref_upsample2d_backward,

    .batchnorm_forward_train = ref_batchnorm_forward_train,
    .batchnorm_forward_eval = ref_batchnorm_forward_eval,
    .batchnorm_backward = ref_batchnorm_backward,
    .batchnorm_backward_eval = ref_batchnorm_backward_eval,
    .layernorm_forward = ref_layernorm_forward,
    .layernorm_backward = ref_layernorm_backward,

    .dropout_forward = ref_dropout_forward,
    .mul_backward = ref_mul_backward,

    .softmax_forward = ref_softmax_forward,
    .softmax_backward = ref_softmax_backward,
    .cross_entropy = ref_cross_entropy,
    .bce_logits = ref_bce_logits,
    .mse = ref_mse,
    .l1 = ref_l1,
    .argmax_rows = ref_argmax_rows,

    .embedding_forward = ref_embedding_forward,
    .embedding_backward = ref_embedding_backward,
    .lstm_cell_forward = ref_lstm_cell_forward,
    .lstm_cell_backward = ref_lstm_cell_backward,
    .gru_cell_forward = ref_gru_cell_forward,
    .gru_cell_backward = ref_gru_cell_backward,

    .sgd_update = ref_sgd_update,
    .adam_update = ref_adam_update,
    .rmsprop_update = ref_rmsprop_update,
    .adagrad_update = ref_adagrad_update,
};

const LlBackend *ll_ref_backend(void) { return &ref_backend; }
