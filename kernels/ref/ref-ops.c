/* ref-ops.c: every op of the backend table, naively, in double precision.
 *
 * Written to be read and trusted, not to be fast: each op's forward and
 * backward side by side, plain loops over the index space in the order the
 * formula reads, no SIMD, no threads, no fusion. Where the other backends
 * keep an intermediate in float this keeps it in double: the differences
 * the op test (tests/ops) sees are theirs. */
#include "ref-ops.h"

#include <math.h>
#include <string.h>

#include "../counter-rng.h"

/* ---- element-wise ---------------------------------------------------------------------- */

void ll_ref_axpy(double *y, double a, const double *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] += a * x[i];
}

void ll_ref_scale(double *x, double a, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] *= a;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static double act(LlActivation a, double alpha, double x)
{
  switch (a) {
  case LL_ACT_RELU:
    return x > 0.0 ? x : 0.0;
  case LL_ACT_LEAKY_RELU:
    return x > 0.0 ? x : alpha * x;
  case LL_ACT_ELU:
    return x > 0.0 ? x : alpha * expm1(x);
  case LL_ACT_GELU: /* x Phi(x) */
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
  case LL_ACT_SIGMOID:
    return sigmoid(x);
  case LL_ACT_TANH:
    return tanh(x);
  case LL_ACT_IDENTITY:
    break;
  }
  return x;
}

/* d act / dx at x. At the ReLU family's kink, x = 0, the test x > 0 is
 * false: 0 takes the left derivative, as every backend does. */
static double act_grad(LlActivation a, double alpha, double x)
{
  switch (a) {
  case LL_ACT_RELU:
    return x > 0.0 ? 1.0 : 0.0;
  case LL_ACT_LEAKY_RELU:
    return x > 0.0 ? 1.0 : alpha;
  case LL_ACT_ELU:
    return x > 0.0 ? 1.0 : alpha * exp(x);
  case LL_ACT_GELU: { /* Phi(x) + x phi(x) */
    double cdf = 0.5 * (1.0 + erf(x / sqrt(2.0)));
    double pdf = exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
    return cdf + x * pdf;
  }
  case LL_ACT_SIGMOID: {
    double s = sigmoid(x);
    return s * (1.0 - s);
  }
  case LL_ACT_TANH: {
    double t = tanh(x);
    return 1.0 - t * t;
  }
  case LL_ACT_IDENTITY:
    break;
  }
  return 1.0;
}

void ll_ref_act_forward(LlActivation a, double alpha,
                        const double *x, // (n)
                        double *y,       // (n)
                        size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = act(a, alpha, x[i]);
}

/* The derivative is taken from x (the slot also passes y = act(x), which
 * faster backends use; the reference needs only the definition). */
void ll_ref_act_backward(LlActivation a, double alpha,
                         const double *x,  // (n)
                         const double *dy, // (n)
                         double *dx,       // (n)
                         size_t n)
{
  for (size_t i = 0; i < n; i++)
    dx[i] += dy[i] * act_grad(a, alpha, x[i]);
}

double ll_ref_sum_squares(const double *x, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += x[i] * x[i];
  return s;
}

/* ---- matrices ---------------------------------------------------------------------------- */

/* C(m, n) = alpha op(A)(m, k) op(B)(k, n) + beta C; beta == 0 does not read C
 * (BLAS: C may hold anything, NaN included). */
void ll_ref_gemm(bool ta, bool tb, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc)
{
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0.0;
      for (int p = 0; p < k; p++) {
        double aip = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
        double bpj = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
        s += aip * bpj;
      }
      double *cij = &c[(size_t)i * ldc + j];
      *cij = beta == 0.0 ? alpha * s : alpha * s + beta * *cij;
    }
}

void ll_ref_bias_add(double *y,          // (n, c, inner)
                     const double *bias, // (c)
                     int n, int c, int inner)
{
  for (int b = 0; b < n; b++)
    for (int j = 0; j < c; j++)
      for (int k = 0; k < inner; k++)
        y[((size_t)b * c + j) * inner + k] += bias[j];
}

void ll_ref_bias_backward(const double *dy, // (n, c, inner)
                          double *dbias,    // (c)
                          int n, int c, int inner)
{
  for (int b = 0; b < n; b++)
    for (int j = 0; j < c; j++)
      for (int k = 0; k < inner; k++)
        dbias[j] += dy[((size_t)b * c + j) * inner + k];
}

/* ---- convolution --------------------------------------------------------------------------- */

/* Every (output element, weight tap, input element) triple of a grouped,
 * strided, padded, dilated cross-correlation; taps that land in the zero
 * padding are skipped. Output channel o of group o / (oc/groups) reads input
 * channels [group * c/groups, (group + 1) * c/groups). */
#define FOR_EACH_TAP(g, BODY)                                                                      \
  do {                                                                                             \
    int cg = (g)->c / (g)->groups, ocg = (g)->oc / (g)->groups;                                    \
    for (int b = 0; b < (g)->n; b++)                                                               \
      for (int o = 0; o < (g)->oc; o++)                                                            \
        for (int oy = 0; oy < (g)->oh; oy++)                                                       \
          for (int ox = 0; ox < (g)->ow; ox++)                                                     \
            for (int ci = 0; ci < cg; ci++)                                                        \
              for (int ki = 0; ki < (g)->kh; ki++)                                                 \
                for (int kj = 0; kj < (g)->kw; kj++) {                                             \
                  int ch = (o / ocg) * cg + ci;                                                    \
                  int iy = oy * (g)->sh - (g)->ph + ki * (g)->dh;                                  \
                  int ix = ox * (g)->sw - (g)->pw + kj * (g)->dw;                                  \
                  if (iy < 0 || iy >= (g)->h || ix < 0 || ix >= (g)->w)                            \
                    continue;                                                                      \
                  size_t xi = (((size_t)b * (g)->c + ch) * (g)->h + iy) * (g)->w + ix;             \
                  size_t wi = (((size_t)o * cg + ci) * (g)->kh + ki) * (g)->kw + kj;               \
                  size_t yi = (((size_t)b * (g)->oc + o) * (g)->oh + oy) * (g)->ow + ox;           \
                  BODY;                                                                            \
                }                                                                                  \
  } while (0)

void ll_ref_conv2d_forward(const LlConvGeom *g,
                           const double *x, // (n, c, h, w)
                           const double *w, // (oc, c/groups, kh, kw)
                           double *y)       // (n, oc, oh, ow)
{
  memset(y, 0, (size_t)g->n * g->oc * g->oh * g->ow * sizeof *y);
  FOR_EACH_TAP(g, y[yi] += x[xi] * w[wi]);
}

void ll_ref_conv2d_backward_data(const LlConvGeom *g,
                                 const double *w,  // (oc, c/groups, kh, kw)
                                 const double *dy, // (n, oc, oh, ow)
                                 double *dx)       // (n, c, h, w)
{
  FOR_EACH_TAP(g, dx[xi] += w[wi] * dy[yi]);
}

void ll_ref_conv2d_backward_filter(const LlConvGeom *g,
                                   const double *x,  // (n, c, h, w)
                                   const double *dy, // (n, oc, oh, ow)
                                   double *dw)       // (oc, c/groups, kh, kw)
{
  FOR_EACH_TAP(g, dw[wi] += x[xi] * dy[yi]);
}

/* ---- pooling ----------------------------------------------------------------------------------- */

/* Floor-mode windows, as PyTorch's default. Max pooling skips the padding
 * (it is -inf); the first maximum in row-major window order wins a tie;
 * argmax is the index within the (sample, channel) plane, iy * w + ix. */
void ll_ref_maxpool2d_forward(const LlPoolGeom *g,
                              const double *x,  // (n, c, h, w)
                              double *y,        // (n, c, oh, ow)
                              int32_t *argmax)  // (n, c, oh, ow)
{
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < (size_t)g->n * g->c; p++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        int best = -1;
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            int iy = oy * g->sh - g->ph + ki, ix = ox * g->sw - g->pw + kj;
            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w)
              continue;
            int at = iy * g->w + ix;
            if (best < 0 || x[p * hw + at] > x[p * hw + best])
              best = at;
          }
        size_t yi = p * ohw + (size_t)oy * g->ow + ox;
        y[yi] = x[p * hw + best];
        argmax[yi] = best;
      }
}

void ll_ref_maxpool2d_backward(const LlPoolGeom *g,
                               const int32_t *argmax, // (n, c, oh, ow)
                               const double *dy,      // (n, c, oh, ow)
                               double *dx)            // (n, c, h, w)
{
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < (size_t)g->n * g->c; p++)
    for (size_t i = 0; i < ohw; i++)
      dx[p * hw + argmax[p * ohw + i]] += dy[p * ohw + i];
}

/* The padding counts in the divisor (count_include_pad): always kh * kw. */
void ll_ref_avgpool2d_forward(const LlPoolGeom *g,
                              const double *x, // (n, c, h, w)
                              double *y)       // (n, c, oh, ow)
{
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < (size_t)g->n * g->c; p++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        double s = 0.0;
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            int iy = oy * g->sh - g->ph + ki, ix = ox * g->sw - g->pw + kj;
            if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
              s += x[p * hw + (size_t)iy * g->w + ix];
          }
        y[p * ohw + (size_t)oy * g->ow + ox] = s / (g->kh * g->kw);
      }
}

void ll_ref_avgpool2d_backward(const LlPoolGeom *g,
                               const double *dy, // (n, c, oh, ow)
                               double *dx)       // (n, c, h, w)
{
  size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;
  for (size_t p = 0; p < (size_t)g->n * g->c; p++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        double d = dy[p * ohw + (size_t)oy * g->ow + ox] / (g->kh * g->kw);
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            int iy = oy * g->sh - g->ph + ki, ix = ox * g->sw - g->pw + kj;
            if (iy >= 0 && iy < g->h && ix >= 0 && ix < g->w)
              dx[p * hw + (size_t)iy * g->w + ix] += d;
          }
      }
}

void ll_ref_mean_inner_forward(const double *x, // (outer, inner)
                               double *y,       // (outer)
                               int outer, int inner)
{
  for (int o = 0; o < outer; o++) {
    double s = 0.0;
    for (int i = 0; i < inner; i++)
      s += x[(size_t)o * inner + i];
    y[o] = s / inner;
  }
}

void ll_ref_mean_inner_backward(const double *dy, // (outer)
                                double *dx,       // (outer, inner)
                                int outer, int inner)
{
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++)
      dx[(size_t)o * inner + i] += dy[o] / inner;
}

/* ---- upsampling ----------------------------------------------------------------------------- */

/* Where output index o of an axis of `out` reads from the axis of `in`: the
 * lower source index *i0 and the upper *i1, weighted 1 - *t and *t. Nearest:
 * floor(o in / out), one source. Bilinear, align_corners = False (PyTorch's
 * area_pixel_compute_source_index): s = (o + 0.5) in / out - 0.5, at least
 * 0; i0 = floor(s), i1 = min(i0 + 1, in - 1), t = s - i0. */
static void upsample_source(bool bilinear, int o, int in, int out, int *i0, int *i1, double *t)
{
  if (!bilinear) {
    *i0 = *i1 = (int)(((int64_t)o * in) / out);
    *t = 0.0;
    return;
  }
  double s = ((double)o + 0.5) * in / out - 0.5;
  if (s < 0.0)
    s = 0.0;
  *i0 = (int)floor(s);
  *i1 = *i0 + 1 < in ? *i0 + 1 : in - 1;
  *t = s - *i0;
}

void ll_ref_upsample2d_forward(bool bilinear, const double *x, // (planes, h, w)
                               double *y,                      // (planes, oh, ow)
                               int planes, int h, int w, int oh, int ow)
{
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        int y0, y1, x0, x1;
        double ty, tx;
        upsample_source(bilinear, oy, h, oh, &y0, &y1, &ty);
        upsample_source(bilinear, ox, w, ow, &x0, &x1, &tx);
        const double *xp = x + (size_t)p * h * w;
        y[((size_t)p * oh + oy) * ow + ox] =
            (1 - ty) * ((1 - tx) * xp[y0 * w + x0] + tx * xp[y0 * w + x1]) +
            ty * ((1 - tx) * xp[y1 * w + x0] + tx * xp[y1 * w + x1]);
      }
}

void ll_ref_upsample2d_backward(bool bilinear, const double *dy, // (planes, oh, ow)
                                double *dx,                      // (planes, h, w)
                                int planes, int h, int w, int oh, int ow)
{
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        int y0, y1, x0, x1;
        double ty, tx;
        upsample_source(bilinear, oy, h, oh, &y0, &y1, &ty);
        upsample_source(bilinear, ox, w, ow, &x0, &x1, &tx);
        double g = dy[((size_t)p * oh + oy) * ow + ox];
        double *dp = dx + (size_t)p * h * w;
        dp[y0 * w + x0] += (1 - ty) * (1 - tx) * g;
        dp[y0 * w + x1] += (1 - ty) * tx * g;
        dp[y1 * w + x0] += ty * (1 - tx) * g;
        dp[y1 * w + x1] += ty * tx * g;
      }
}

/* ---- batch normalisation ---------------------------------------------------------------------- */

#define BN_AT(b, j, k) (((size_t)(b) * c + (j)) * inner + (k))

/* y = gamma (x - mean) / sqrt(var + eps) + beta per channel j, with the
 * batch's mean and biased variance over (n, inner); the running estimates
 * move toward the mean and the unbiased variance (PyTorch's rule; a single
 * value per channel has no unbiased variance, so the biased one, 0, stands
 * in). */
void ll_ref_batchnorm_forward_train(const double *x,  // (n, c, inner)
                                    double *y,        // (n, c, inner)
                                    const double *gamma, const double *beta, // (c) or NULL
                                    double *save_mean, double *save_invstd,  // (c)
                                    double *running_mean, double *running_var, // (c)
                                    int n, int c, int inner, double momentum, double eps)
{
  double m = (double)n * inner;
  for (int j = 0; j < c; j++) {
    double mean = 0.0, ss = 0.0;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++)
        mean += x[BN_AT(b, j, k)];
    mean /= m;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++)
        ss += (x[BN_AT(b, j, k)] - mean) * (x[BN_AT(b, j, k)] - mean);
    double var = ss / m, invstd = 1.0 / sqrt(var + eps);
    save_mean[j] = mean;
    save_invstd[j] = invstd;
    double unbiased = m > 1.0 ? ss / (m - 1.0) : var;
    running_mean[j] = (1.0 - momentum) * running_mean[j] + momentum * mean;
    running_var[j] = (1.0 - momentum) * running_var[j] + momentum * unbiased;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++) {
        double xhat = (x[BN_AT(b, j, k)] - mean) * invstd;
        y[BN_AT(b, j, k)] = (gamma ? gamma[j] : 1.0) * xhat + (beta ? beta[j] : 0.0);
      }
  }
}

/* xhat = (x - mean) invstd, g = dy gamma:
 *   dx = invstd (g - mean(g) - xhat mean(g xhat)),
 *   dgamma = sum dy xhat, dbeta = sum dy (sums and means over n, inner). */
void ll_ref_batchnorm_backward(const double *x,     // (n, c, inner)
                               const double *dy,    // (n, c, inner)
                               const double *gamma, // (c) or NULL
                               const double *save_mean, const double *save_invstd, // (c)
                               double *dx,                                         // or NULL
                               double *dgamma, double *dbeta, // (c) or NULL
                               int n, int c, int inner)
{
  double m = (double)n * inner;
  for (int j = 0; j < c; j++) {
    double gj = gamma ? gamma[j] : 1.0, mean = save_mean[j], invstd = save_invstd[j];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++) {
        double xhat = (x[BN_AT(b, j, k)] - mean) * invstd;
        sum_dy += dy[BN_AT(b, j, k)];
        sum_dy_xhat += dy[BN_AT(b, j, k)] * xhat;
      }
    if (dgamma)
      dgamma[j] += sum_dy_xhat;
    if (dbeta)
      dbeta[j] += sum_dy;
    if (!dx)
      continue;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++) {
        double xhat = (x[BN_AT(b, j, k)] - mean) * invstd;
        double g = dy[BN_AT(b, j, k)] * gj;
        dx[BN_AT(b, j, k)] += invstd * (g - gj * sum_dy / m - xhat * gj * sum_dy_xhat / m);
      }
  }
}

void ll_ref_batchnorm_forward_eval(const double *x, // (n, c, inner)
                                   double *y,       // (n, c, inner)
                                   const double *gamma, const double *beta, // (c) or NULL
                                   const double *running_mean, const double *running_var, // (c)
                                   int n, int c, int inner, double eps)
{
  for (int j = 0; j < c; j++) {
    double invstd = 1.0 / sqrt(running_var[j] + eps);
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++) {
        double xhat = (x[BN_AT(b, j, k)] - running_mean[j]) * invstd;
        y[BN_AT(b, j, k)] = (gamma ? gamma[j] : 1.0) * xhat + (beta ? beta[j] : 0.0);
      }
  }
}

/* The running statistics are constants: an affine map per channel. */
void ll_ref_batchnorm_backward_eval(const double *x, const double *dy, const double *gamma,
                                    const double *running_mean, const double *running_var,
                                    double *dx, double *dgamma, double *dbeta, int n, int c,
                                    int inner, double eps)
{
  for (int j = 0; j < c; j++) {
    double invstd = 1.0 / sqrt(running_var[j] + eps), gj = gamma ? gamma[j] : 1.0;
    for (int b = 0; b < n; b++)
      for (int k = 0; k < inner; k++) {
        double d = dy[BN_AT(b, j, k)];
        if (dx)
          dx[BN_AT(b, j, k)] += d * gj * invstd;
        if (dgamma)
          dgamma[j] += d * (x[BN_AT(b, j, k)] - running_mean[j]) * invstd;
        if (dbeta)
          dbeta[j] += d;
      }
  }
}

#undef BN_AT

/* ---- layer normalisation -----------------------------------------------------------------------
 */

void ll_ref_layernorm_forward(const double *x,                         // (rows, cols)
                              double *y,                               // (rows, cols)
                              const double *gamma, const double *beta, // (cols) or NULL
                              double *save_mean, double *save_invstd,  // (rows)
                              int rows, int cols, double eps)
{
  for (int r = 0; r < rows; r++) {
    const double *xr = x + (size_t)r * cols;
    double mean = 0.0, var = 0.0;
    for (int k = 0; k < cols; k++)
      mean += xr[k];
    mean /= cols;
    for (int k = 0; k < cols; k++)
      var += (xr[k] - mean) * (xr[k] - mean);
    var /= cols;
    double invstd = 1.0 / sqrt(var + eps);
    save_mean[r] = mean;
    save_invstd[r] = invstd;
    for (int k = 0; k < cols; k++) {
      double xhat = (xr[k] - mean) * invstd;
      y[(size_t)r * cols + k] = gamma ? xhat * gamma[k] + beta[k] : xhat;
    }
  }
}

void ll_ref_layernorm_backward(const double *x,                                    // (rows, cols)
                               const double *dy,                                   // (rows, cols)
                               const double *gamma,                                // (cols) or NULL
                               const double *save_mean, const double *save_invstd, // (rows)
                               double *dx,                                         // or NULL
                               double *dgamma, double *dbeta,                      // (cols) or NULL
                               int rows, int cols)
{
  for (int r = 0; r < rows; r++) {
    const double *xr = x + (size_t)r * cols, *dyr = dy + (size_t)r * cols;
    double mean = save_mean[r], invstd = save_invstd[r];
    /* with g = dy gamma, the gradient of xhat: dx = invstd (g - mean(g) - xhat mean(g xhat)) */
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int k = 0; k < cols; k++) {
      double xhat = (xr[k] - mean) * invstd;
      double g = dyr[k] * (gamma ? gamma[k] : 1.0);
      sum_g += g;
      sum_g_xhat += g * xhat;
      if (dgamma) {
        dgamma[k] += dyr[k] * xhat;
        dbeta[k] += dyr[k];
      }
    }
    if (!dx)
      continue;
    for (int k = 0; k < cols; k++) {
      double xhat = (xr[k] - mean) * invstd;
      double g = dyr[k] * (gamma ? gamma[k] : 1.0);
      dx[(size_t)r * cols + k] += invstd * (g - sum_g / cols - xhat * sum_g_xhat / cols);
    }
  }
}

/* ---- dropout ----------------------------------------------------------------------------------- */

/* Element i is kept when u_i = bits24(key, offset... i) / 2^24 >= p, and
 * scaled by 1 / (1 - p); p, as the slot receives it, is a float. */
void ll_ref_dropout_forward(const double *x, // (n)
                            double *y,       // (n)
                            double *mask,    // (n)
                            size_t n, float p, uint64_t seed, uint64_t offset)
{
  uint64_t key = ll_counter_key(seed, offset);
  double keep = 1.0 / (1.0 - (double)p);
  for (size_t i = 0; i < n; i++) {
    double u = ll_counter_bits24(key, i) / 16777216.0;
    mask[i] = u >= (double)p ? keep : 0.0;
    y[i] = x[i] * mask[i];
  }
}

void ll_ref_mul_backward(const double *dy, const double *mask, double *dx, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dx[i] += dy[i] * mask[i];
}

/* ---- softmax, losses, metrics ---------------------------------------------------------------- */

void ll_ref_softmax_forward(const double *x, // (rows, cols)
                            double *y,       // (rows, cols)
                            int rows, int cols)
{
  for (int r = 0; r < rows; r++) {
    const double *xr = x + (size_t)r * cols;
    double *yr = y + (size_t)r * cols, mx = xr[0], s = 0.0;
    for (int j = 1; j < cols; j++)
      mx = fmax(mx, xr[j]);
    for (int j = 0; j < cols; j++)
      s += exp(xr[j] - mx);
    for (int j = 0; j < cols; j++)
      yr[j] = exp(xr[j] - mx) / s;
  }
}

/* dx_j += y_j (dy_j - sum_k y_k dy_k) */
void ll_ref_softmax_backward(const double *y, const double *dy, double *dx, int rows, int cols)
{
  for (int r = 0; r < rows; r++) {
    const double *yr = y + (size_t)r * cols, *dyr = dy + (size_t)r * cols;
    double dot = 0.0;
    for (int j = 0; j < cols; j++)
      dot += yr[j] * dyr[j];
    for (int j = 0; j < cols; j++)
      dx[(size_t)r * cols + j] += yr[j] * (dyr[j] - dot);
  }
}

/* Per row, q = (1 - s) onehot(t) + s / cols (no one-hot when t is not a
 * class) and the loss is sum_j q_j (logsumexp(x) - x_j); the gradient of the
 * mean over rows is (softmax(x) - q) / rows. */
double ll_ref_cross_entropy(const double *logits, // (rows, cols)
                            const double *target, // (rows) class indices
                            int rows, int cols, double smoothing, double weight,
                            double *dlogits)      // (rows, cols) or NULL
{
  double total = 0.0;
  for (int r = 0; r < rows; r++) {
    const double *x = logits + (size_t)r * cols;
    int t = (int)target[r];
    double mx = x[0], s = 0.0;
    for (int j = 1; j < cols; j++)
      mx = fmax(mx, x[j]);
    for (int j = 0; j < cols; j++)
      s += exp(x[j] - mx);
    double lse = mx + log(s);
    for (int j = 0; j < cols; j++) {
      double q = (j == t ? 1.0 - smoothing : 0.0) + smoothing / cols;
      total += q * (lse - x[j]);
      if (dlogits)
        dlogits[(size_t)r * cols + j] += weight / rows * (exp(x[j] - lse) - q);
    }
  }
  return rows > 0 ? weight * total / rows : 0.0;
}

/* -t log s(x) - (1 - t) log(1 - s(x)) = max(x, 0) - x t + log(1 + exp(-|x|)) */
double ll_ref_bce_logits(const double *x, const double *t, size_t n, double weight, double *dx)
{
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    total += fmax(x[i], 0.0) - x[i] * t[i] + log1p(exp(-fabs(x[i])));
    if (dx)
      dx[i] += weight / n * (sigmoid(x[i]) - t[i]);
  }
  return n > 0 ? weight * total / n : 0.0;
}

double ll_ref_mse(const double *p, const double *t, size_t n, double weight, double *dp)
{
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    total += (p[i] - t[i]) * (p[i] - t[i]);
    if (dp)
      dp[i] += weight / n * 2.0 * (p[i] - t[i]);
  }
  return n > 0 ? weight * total / n : 0.0;
}

/* |d| has the subgradient 0 at d = 0 (sign(0)), as PyTorch's. */
double ll_ref_l1(const double *p, const double *t, size_t n, double weight, double *dp)
{
  double total = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = p[i] - t[i];
    total += fabs(d);
    if (dp)
      dp[i] += weight / n * (double)((d > 0.0) - (d < 0.0));
  }
  return n > 0 ? weight * total / n : 0.0;
}

/* The first maximum wins a tie; NaN is never a maximum (a row of NaN gives 0). */
void ll_ref_argmax_rows(const double *x, int rows, int cols, double *out)
{
  for (int r = 0; r < rows; r++) {
    const double *xr = x + (size_t)r * cols;
    int best = 0;
    for (int j = 1; j < cols; j++)
      if (xr[j] > xr[best] || (isnan(xr[best]) && !isnan(xr[j])))
        best = j;
    out[r] = best;
  }
}

/* ---- sequences and lookup ---------------------------------------------------------------------- */

/* The row an index reads: the nearest integer (halves round up), clamped
 * into [0, vocab); NaN reads row 0. */
static size_t embedding_row(double v, int vocab)
{
  if (!(v >= 0.5))
    return 0;
  if (v >= vocab - 1.0)
    return (size_t)vocab - 1;
  return (size_t)floor(v + 0.5);
}

void ll_ref_embedding_forward(const double *table, // (vocab, dim)
                              const double *idx,   // (n)
                              double *out,         // (n, dim)
                              int n, int vocab, int dim)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < dim; j++)
      out[(size_t)i * dim + j] = table[embedding_row(idx[i], vocab) * dim + j];
}

void ll_ref_embedding_backward(const double *idx,  // (n)
                               const double *dout, // (n, dim)
                               double *dtable,     // (vocab, dim)
                               int n, int vocab, int dim)
{
  for (int i = 0; i < n; i++)
    for (int j = 0; j < dim; j++)
      dtable[embedding_row(idx[i], vocab) * dim + j] += dout[(size_t)i * dim + j];
}

/* i = s(a_i), f = s(a_f), g = tanh(a_g), o = s(a_o);
 * c = f c_prev + i g; h = o tanh(c). */
void ll_ref_lstm_cell_forward(double *gates,        // (n, 4h) [i f g o], activated in place
                              const double *c_prev, // (n, h)
                              double *c,            // (n, h)
                              double *h,            // (n, h)
                              int n, int hidden)
{
  for (int r = 0; r < n; r++)
    for (int j = 0; j < hidden; j++) {
      double *gr = gates + (size_t)r * 4 * hidden;
      size_t at = (size_t)r * hidden + j;
      double i = sigmoid(gr[j]), f = sigmoid(gr[hidden + j]);
      double g = tanh(gr[2 * hidden + j]), o = sigmoid(gr[3 * hidden + j]);
      gr[j] = i;
      gr[hidden + j] = f;
      gr[2 * hidden + j] = g;
      gr[3 * hidden + j] = o;
      c[at] = f * c_prev[at] + i * g;
      h[at] = o * tanh(c[at]);
    }
}

/* dc_total = dc + dh o (1 - tanh(c)^2); the preactivations' gradients are
 * dc_total g i(1-i), dc_total c_prev f(1-f), dc_total i (1-g^2),
 * dh tanh(c) o(1-o); dc_prev += dc_total f. */
void ll_ref_lstm_cell_backward(const double *gates,  // (n, 4h) activated
                               const double *c_prev, // (n, h)
                               const double *c,      // (n, h)
                               const double *dh,     // (n, h)
                               const double *dc,     // (n, h)
                               double *dgates,       // (n, 4h), written
                               double *dc_prev,      // (n, h)
                               int n, int hidden)
{
  for (int r = 0; r < n; r++)
    for (int j = 0; j < hidden; j++) {
      const double *gr = gates + (size_t)r * 4 * hidden;
      double *dg = dgates + (size_t)r * 4 * hidden;
      size_t at = (size_t)r * hidden + j;
      double i = gr[j], f = gr[hidden + j], g = gr[2 * hidden + j], o = gr[3 * hidden + j];
      double tc = tanh(c[at]);
      double dct = dc[at] + dh[at] * o * (1.0 - tc * tc);
      dg[j] = dct * g * i * (1.0 - i);
      dg[hidden + j] = dct * c_prev[at] * f * (1.0 - f);
      dg[2 * hidden + j] = dct * i * (1.0 - g * g);
      dg[3 * hidden + j] = dh[at] * tc * o * (1.0 - o);
      dc_prev[at] += dct * f;
    }
}

/* r = s(xg_r + hg_r), z = s(xg_z + hg_z), nn = tanh(xg_n + r hg_n),
 * h = (1 - z) nn + z h_prev; act keeps [r z nn hg_n]. */
void ll_ref_gru_cell_forward(const double *xg,     // (n, 3h) [r z n]
                             const double *hg,     // (n, 3h) [r z n]
                             const double *h_prev, // (n, h)
                             double *h,            // (n, h)
                             double *act,          // (n, 4h) [r z n hg_n]
                             int n, int hidden)
{
  for (int b = 0; b < n; b++)
    for (int j = 0; j < hidden; j++) {
      const double *x = xg + (size_t)b * 3 * hidden, *hh = hg + (size_t)b * 3 * hidden;
      double *a = act + (size_t)b * 4 * hidden;
      size_t at = (size_t)b * hidden + j;
      double r = sigmoid(x[j] + hh[j]);
      double z = sigmoid(x[hidden + j] + hh[hidden + j]);
      double nn = tanh(x[2 * hidden + j] + r * hh[2 * hidden + j]);
      a[j] = r;
      a[hidden + j] = z;
      a[2 * hidden + j] = nn;
      a[3 * hidden + j] = hh[2 * hidden + j];
      h[at] = (1.0 - z) * nn + z * h_prev[at];
    }
}

void ll_ref_gru_cell_backward(const double *act,    // (n, 4h) [r z n hg_n]
                              const double *h_prev, // (n, h)
                              const double *dh,     // (n, h)
                              double *dxg,          // (n, 3h), written
                              double *dhg,          // (n, 3h), written
                              double *dh_prev,      // (n, h)
                              int n, int hidden)
{
  for (int b = 0; b < n; b++)
    for (int j = 0; j < hidden; j++) {
      const double *a = act + (size_t)b * 4 * hidden;
      double *dx = dxg + (size_t)b * 3 * hidden, *dhh = dhg + (size_t)b * 3 * hidden;
      size_t at = (size_t)b * hidden + j;
      double r = a[j], z = a[hidden + j], nn = a[2 * hidden + j], hn = a[3 * hidden + j];
      double d = dh[at];
      double dn = d * (1.0 - z) * (1.0 - nn * nn); /* into xg_n + r hg_n */
      double dz = d * (h_prev[at] - nn) * z * (1.0 - z);
      double dr = dn * hn * r * (1.0 - r);
      dx[j] = dr;
      dx[hidden + j] = dz;
      dx[2 * hidden + j] = dn;
      dhh[j] = dr;
      dhh[hidden + j] = dz;
      dhh[2 * hidden + j] = dn * r;
      dh_prev[at] += d * z;
    }
}

/* ---- optimizer updates (torch.optim) ------------------------------------------------------------ */

/* d = g + wd p; buf = d on the first step, else momentum buf + (1 -
 * dampening) d; p -= lr buf, or lr (d + momentum buf) with Nesterov. */
void ll_ref_sgd_update(double *p, const double *g, double *mom, size_t n, double lr,
                       double momentum, double dampening, bool nesterov, double weight_decay,
                       bool first_step)
{
  for (size_t i = 0; i < n; i++) {
    double d = g[i] + weight_decay * p[i];
    if (momentum == 0.0) {
      p[i] -= lr * d;
      continue;
    }
    mom[i] = first_step ? d : momentum * mom[i] + (1.0 - dampening) * d;
    p[i] -= lr * (nesterov ? d + momentum * mom[i] : mom[i]);
  }
}

/* m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= lr / (1 - b1^t) m / (sqrt(v / (1 - b2^t)) + eps); AdamW first
 * shrinks p by 1 - lr wd, Adam adds wd p to g. */
void ll_ref_adam_update(double *p, const double *g, double *m, double *v, size_t n, double lr,
                        double beta1, double beta2, double eps, double weight_decay, bool adamw,
                        int64_t step)
{
  double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  for (size_t i = 0; i < n; i++) {
    double gi = adamw ? g[i] : g[i] + weight_decay * p[i];
    if (adamw)
      p[i] *= 1.0 - lr * weight_decay;
    m[i] = beta1 * m[i] + (1.0 - beta1) * gi;
    v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi;
    p[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
  }
}

/* sq = alpha sq + (1 - alpha) g^2; step = g / (sqrt(sq) + eps), through
 * buf = momentum buf + step when momentum > 0; p -= lr step. */
void ll_ref_rmsprop_update(double *p, const double *g, double *sq, double *mom, size_t n,
                           double lr, double alpha, double eps, double weight_decay,
                           double momentum)
{
  for (size_t i = 0; i < n; i++) {
    double gi = g[i] + weight_decay * p[i];
    sq[i] = alpha * sq[i] + (1.0 - alpha) * gi * gi;
    double step = gi / (sqrt(sq[i]) + eps);
    if (momentum > 0.0) {
      mom[i] = momentum * mom[i] + step;
      step = mom[i];
    }
    p[i] -= lr * step;
  }
}

/* sum += g^2; p -= lr g / (sqrt(sum) + eps) */
void ll_ref_adagrad_update(double *p, const double *g, double *sum, size_t n, double lr,
                           double eps, double weight_decay)
{
  for (size_t i = 0; i < n; i++) {
    double gi = g[i] + weight_decay * p[i];
    sum[i] += gi * gi;
    p[i] -= lr * gi / (sqrt(sum[i]) + eps);
  }
}
