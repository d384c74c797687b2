/* cpu-norm.c: batch normalisation over x(n, c, inner), per channel c.
 *
 * Statistics are summed in double (two passes: mean, then squared
 * deviations) so they do not drift with the batch or the spatial size.
 * gamma and beta may be NULL (affine = false: scale 1, shift 0); then
 * dgamma and dbeta are NULL too. */
#include "cpu-ops.h"

#include <math.h>
#include <string.h>

#include "cpu-simd.h"
#include "cpu-threads.h"

/* Element (i, j, k) of x(n, c, inner). */
#define AT(p, i, j, k) ((p)[((size_t)(i) * c + (j)) * inner + (k)])

typedef double ll_v4d __attribute__((vector_size(32)));
typedef float ll_v4f __attribute__((vector_size(16)));

LL_INLINE ll_v4d ld4d(const float *p)
{
  ll_v4f v;
  memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, ll_v4d);
}

LL_INLINE double hsum4d(ll_v4d v) { return (v[0] + v[2]) + (v[1] + v[3]); }

/* Sums over one channel of x(n, c, inner), in double, four lanes at a time
 * (a fixed order): of x when mean is NULL, else of (x - *mean)^2. */
LL_INLINE double channel_sum(const float *x, int n, int c, int inner, int j, const double *mean)
{
  ll_v4d a0 = {0}, a1 = {0};
  double tail = 0.0;
  for (int i = 0; i < n; i++) {
    const float *p = x + ((size_t)i * c + j) * inner;
    int k = 0;
    if (!mean) {
      for (; k + 8 <= inner; k += 8) {
        a0 += ld4d(p + k);
        a1 += ld4d(p + k + 4);
      }
      for (; k < inner; k++)
        tail += p[k];
    } else {
      double m = *mean;
      for (; k + 8 <= inner; k += 8) {
        ll_v4d d0 = ld4d(p + k) - m, d1 = ld4d(p + k + 4) - m;
        a0 += d0 * d0;
        a1 += d1 * d1;
      }
      for (; k < inner; k++) {
        double d = p[k] - m;
        tail += d * d;
      }
    }
  }
  return hsum4d(a0 + a1) + tail;
}

typedef struct {
  const float *x, *dy, *gamma, *beta, *save_mean, *save_invstd, *running_mean_c, *running_var_c;
  float *y, *dx, *dgamma, *dbeta, *save_mean_w, *save_invstd_w, *running_mean, *running_var;
  int n, c, inner;
  float momentum, eps;
} Bn;

/* Channels run in parallel: each one's statistics are its own, so the split
 * changes nothing. */
static void bn_parallel(int n, int c, int inner, LlCpuRangeFn fn, Bn *a)
{
  int grain = (size_t)n * c * inner < LL_CPU_PAR_MIN ? c : 1;
  ll_cpu_parallel_for(c, grain, fn, a);
}

LL_CPU_CLONES
static void bn_forward_train_channels(void *arg, int chunk, int begin, int end)
{
  const Bn *a = arg;
  int n = a->n, c = a->c, inner = a->inner;
  const float *x = a->x;
  float *y = a->y;
  double m = (double)n * inner;
  for (int j = begin; j < end; j++) {
    double mean = channel_sum(x, n, c, inner, j, NULL) / m;
    double ss = channel_sum(x, n, c, inner, j, &mean);
    double var = ss / m; /* biased: what normalises the batch */
    double invstd = 1.0 / sqrt(var + a->eps);
    a->save_mean_w[j] = (float)mean;
    a->save_invstd_w[j] = (float)invstd;
    /* the running estimate uses the unbiased variance (PyTorch); a single
     * value per channel has none, so the biased one (0) stands in */
    double unbiased = m > 1.0 ? ss / (m - 1.0) : var;
    float mom = a->momentum;
    a->running_mean[j] = (float)((1.0 - mom) * a->running_mean[j] + mom * mean);
    a->running_var[j] = (float)((1.0 - mom) * a->running_var[j] + mom * unbiased);
    float scale = (float)invstd * (a->gamma ? a->gamma[j] : 1.0f);
    float shift = (a->beta ? a->beta[j] : 0.0f) - (float)mean * scale;
    for (int i = 0; i < n; i++) {
      const float *restrict xp = &AT(x, i, j, 0);
      float *restrict yp = &AT(y, i, j, 0);
      for (int k = 0; k < inner; k++)
        yp[k] = xp[k] * scale + shift;
    }
  }
}

void ll_cpu_batchnorm_forward_train(const float *x, float *y, const float *gamma,
                                    const float *beta, float *save_mean, float *save_invstd,
                                    float *running_mean, float *running_var, int n, int c,
                                    int inner, float momentum, float eps)
{
  Bn a = {.x = x, .y = y, .gamma = gamma, .beta = beta, .save_mean_w = save_mean,
          .save_invstd_w = save_invstd, .running_mean = running_mean, .running_var = running_var,
          .n = n, .c = c, .inner = inner, .momentum = momentum, .eps = eps};
  bn_parallel(n, c, inner, bn_forward_train_channels, &a);
}

LL_CPU_CLONES
static void bn_forward_eval_channels(void *arg, int chunk, int begin, int end)
{
  const Bn *a = arg;
  int n = a->n, c = a->c, inner = a->inner;
  for (int j = begin; j < end; j++) {
    float scale =
      (float)(1.0 / sqrt((double)a->running_var_c[j] + a->eps)) * (a->gamma ? a->gamma[j] : 1.0f);
    float shift = (a->beta ? a->beta[j] : 0.0f) - a->running_mean_c[j] * scale;
    for (int i = 0; i < n; i++) {
      const float *restrict xp = &AT(a->x, i, j, 0);
      float *restrict yp = &AT(a->y, i, j, 0);
      for (int k = 0; k < inner; k++)
        yp[k] = xp[k] * scale + shift;
    }
  }
}

void ll_cpu_batchnorm_forward_eval(const float *x, float *y, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int n, int c, int inner, float eps)
{
  Bn a = {.x = x, .y = y, .gamma = gamma, .beta = beta, .running_mean_c = running_mean,
          .running_var_c = running_var, .n = n, .c = c, .inner = inner, .eps = eps};
  bn_parallel(n, c, inner, bn_forward_eval_channels, &a);
}

/* With xhat = (x - mean) * invstd over the m = n * inner values of a channel,
 * the gradient through the batch mean and variance is
 *   dx = gamma * invstd / m * (m * dy - sum(dy) - xhat * sum(dy * xhat)).
 * The two sums run in double; the per-element update in float. */
LL_CPU_CLONES
static void bn_backward_channels(void *arg, int chunk, int begin, int end)
{
  const Bn *a = arg;
  int n = a->n, c = a->c, inner = a->inner;
  const float *x = a->x, *dy = a->dy;
  double m = (double)n * inner;
  for (int j = begin; j < end; j++) {
    double mean = a->save_mean[j], invstd = a->save_invstd[j];
    ll_v4d s0 = {0}, s1 = {0}, t0 = {0}, t1 = {0};
    double sdy = 0.0, sdyx = 0.0;
    for (int i = 0; i < n; i++) {
      const float *xp = &AT(x, i, j, 0), *gp = &AT(dy, i, j, 0);
      int k = 0;
      for (; k + 8 <= inner; k += 8) {
        ll_v4d g0 = ld4d(gp + k), g1 = ld4d(gp + k + 4);
        s0 += g0;
        s1 += g1;
        t0 += g0 * (ld4d(xp + k) - mean);
        t1 += g1 * (ld4d(xp + k + 4) - mean);
      }
      for (; k < inner; k++) {
        sdy += gp[k];
        sdyx += gp[k] * (xp[k] - mean);
      }
    }
    sdy += hsum4d(s0 + s1);
    sdyx = (sdyx + hsum4d(t0 + t1)) * invstd;
    if (a->dgamma)
      a->dgamma[j] += (float)sdyx;
    if (a->dbeta)
      a->dbeta[j] += (float)sdy;
    if (!a->dx)
      continue;
    float scale = (float)((a->gamma ? a->gamma[j] : 1.0) * invstd);
    float mdy = (float)(sdy / m), mdyx = (float)(sdyx / m);
    float meanf = (float)mean, invstdf = (float)invstd;
    for (int i = 0; i < n; i++) {
      const float *restrict xp = &AT(x, i, j, 0), *restrict gp = &AT(dy, i, j, 0);
      float *restrict dp = &AT(a->dx, i, j, 0);
      for (int k = 0; k < inner; k++) {
        float xhat = (xp[k] - meanf) * invstdf;
        dp[k] += scale * (gp[k] - mdy - xhat * mdyx);
      }
    }
  }
}

void ll_cpu_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int n, int c, int inner)
{
  Bn a = {.x = x, .dy = dy, .gamma = gamma, .save_mean = save_mean, .save_invstd = save_invstd,
          .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .n = n, .c = c, .inner = inner};
  bn_parallel(n, c, inner, bn_backward_channels, &a);
}

void ll_cpu_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                    const float *running_mean, const float *running_var,
                                    float *dx, float *dgamma, float *dbeta, int n, int c,
                                    int inner, float eps)
{
  for (int j = 0; j < c; j++) {
    double mean = running_mean[j], invstd = 1.0 / sqrt((double)running_var[j] + eps);
    if (dgamma || dbeta) {
      double sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < n; i++)
        for (int k = 0; k < inner; k++) {
          double g = AT(dy, i, j, k);
          sdy += g;
          sdyx += g * (AT(x, i, j, k) - mean) * invstd;
        }
      if (dgamma)
        dgamma[j] += (float)sdyx;
      if (dbeta)
        dbeta[j] += (float)sdy;
    }
    if (!dx)
      continue;
    float scale = (float)(invstd * (gamma ? gamma[j] : 1.0));
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++)
        AT(dx, i, j, k) += AT(dy, i, j, k) * scale;
  }
}
