/* cpu-norm.c: batch normalisation over x(n, c, inner), per channel c.
 *
 * Statistics take two passes (mean, then squared deviations) and are summed
 * in double over float-vector partial sums (channel_sum) so they do not drift
 * with the batch or the spatial size. Channels run in parallel.
 * gamma and beta may be NULL (affine = false: scale 1, shift 0); then
 * dgamma and dbeta are NULL too. */
#include "cpu-ops.h"

#include <math.h>
#include <string.h>

#include "cpu-simd.h"
#include "cpu-threads.h"

/* Element (i, j, k) of x(n, c, inner). */
#define AT(p, i, j, k) ((p)[((size_t)(i)*c + (j)) * inner + (k)])

/* Sums run in float vector lanes over stretches of at most STRETCH values
 * of one row, and the stretch totals are added in double: the float part
 * never sums more than STRETCH / 16 terms per lane, so the statistics do not
 * drift with the batch or the spatial size, at the speed of float vectors. */
enum { STRETCH = 512 };

/* The sum over one row x(inner) of x - shift, or with square, of
 * (x - shift)^2. */
LL_INLINE double row_sum(const float *p, int inner, float shift, bool square)
{
  double total = 0.0;
  for (int k0 = 0; k0 < inner; k0 += STRETCH) {
    int k1 = inner - k0 < STRETCH ? inner : k0 + STRETCH, k = k0;
    ll_v8 a = {0}, b = {0};
    for (; k + 16 <= k1; k += 16) {
      ll_v8 d0 = ll_ld8(p + k) - shift, d1 = ll_ld8(p + k + 8) - shift;
      a += square ? d0 * d0 : d0;
      b += square ? d1 * d1 : d1;
    }
    for (; k + 8 <= k1; k += 8) {
      ll_v8 d0 = ll_ld8(p + k) - shift;
      a += square ? d0 * d0 : d0;
    }
    float t = ll_hsum8(a + b);
    for (; k < k1; k++) {
      float d = p[k] - shift;
      t += square ? d * d : d;
    }
    total += t;
  }
  return total;
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

/* Every pass streams x (and y) in memory order, sample by sample; the sums
 * run per chunk of samples (chunks fixed by n alone) and the chunk partials
 * are added in chunk order. */
typedef struct {
  const Bn *bn;
  double *partial;   /* (chunks, c) */
  const float *mean; /* (c) the shift of the squared pass; NULL in the first */
  const float *coef; /* (2, c): scale, shift of the normalising pass */
} BnFwd;

LL_CPU_CLONES
static void bn_forward_sums(void *arg, int chunk, int begin, int end)
{
  const BnFwd *f = arg;
  const Bn *a = f->bn;
  int c = a->c, inner = a->inner;
  double *part = f->partial + (size_t)chunk * c;
  for (int j = 0; j < c; j++)
    part[j] = 0.0;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++)
      part[j] += row_sum(&AT(a->x, i, j, 0), inner, f->mean ? f->mean[j] : 0.0f, f->mean != NULL);
}

LL_CPU_CLONES
static void bn_forward_normalise(void *arg, int chunk, int begin, int end)
{
  const BnFwd *f = arg;
  const Bn *a = f->bn;
  int c = a->c, inner = a->inner;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      const float *restrict xp = &AT(a->x, i, j, 0);
      float *restrict yp = &AT(a->y, i, j, 0);
      float scale = f->coef[j], shift = f->coef[c + j];
      for (int k = 0; k < inner; k++)
        yp[k] = xp[k] * scale + shift;
    }
}

/* The chunk partials of f's last pass, added in chunk order. */
static double chunk_total(const BnFwd *f, int chunks, int c, int j)
{
  double t = 0.0;
  for (int k = 0; k < chunks; k++)
    t += f->partial[(size_t)k * c + j];
  return t;
}

void ll_cpu_batchnorm_forward_train(const float *x, float *y, const float *gamma, const float *beta,
                                    float *save_mean, float *save_invstd, float *running_mean,
                                    float *running_var, int n, int c, int inner, float momentum,
                                    float eps)
{
  Bn a = {.x = x, .y = y, .n = n, .c = c, .inner = inner};
  size_t total = (size_t)n * c * inner;
  int grain = total < LL_CPU_PAR_MIN ? n : (n + 15) / 16;
  int chunks = ll_cpu_n_chunks(n, grain);
  float *mem = ll_cpu_scratch(3, (size_t)chunks * 2 * c + 3 * (size_t)c);
  float *meanf = mem + (size_t)chunks * 2 * c, *coef = meanf + c;
  BnFwd f = {.bn = &a, .partial = (double *)mem, .coef = coef};
  double m = (double)n * inner;
  ll_cpu_parallel_for(n, grain, bn_forward_sums, &f);
  for (int j = 0; j < c; j++)
    meanf[j] = (float)(chunk_total(&f, chunks, c, j) / m);
  f.mean = meanf;
  ll_cpu_parallel_for(n, grain, bn_forward_sums, &f);
  for (int j = 0; j < c; j++) {
    /* the deviations are taken from the mean rounded to float, as the
     * normalisation uses it */
    double mean = meanf[j], ss = chunk_total(&f, chunks, c, j);
    double var = ss / m; /* biased: what normalises the batch */
    double invstd = 1.0 / sqrt(var + eps);
    save_mean[j] = (float)mean;
    save_invstd[j] = (float)invstd;
    /* the running estimate uses the unbiased variance (PyTorch); a single
     * value per channel has none, so the biased one (0) stands in */
    double unbiased = m > 1.0 ? ss / (m - 1.0) : var;
    running_mean[j] = (float)((1.0 - momentum) * running_mean[j] + momentum * mean);
    running_var[j] = (float)((1.0 - momentum) * running_var[j] + momentum * unbiased);
    float scale = (float)invstd * (gamma ? gamma[j] : 1.0f);
    coef[j] = scale;
    coef[c + j] = (beta ? beta[j] : 0.0f) - (float)mean * scale;
  }
  ll_cpu_parallel_for(n, total < LL_CPU_PAR_MIN ? n : ll_cpu_grain(n, 4), bn_forward_normalise, &f);
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

void ll_cpu_batchnorm_forward_eval(const float *x, float *y, const float *gamma, const float *beta,
                                   const float *running_mean, const float *running_var, int n,
                                   int c, int inner, float eps)
{
  Bn a = {.x = x,
          .y = y,
          .gamma = gamma,
          .beta = beta,
          .running_mean_c = running_mean,
          .running_var_c = running_var,
          .n = n,
          .c = c,
          .inner = inner,
          .eps = eps};
  bn_parallel(n, c, inner, bn_forward_eval_channels, &a);
}

/* With xhat = (x - mean) * invstd over the m = n * inner values of a channel,
 * the gradient through the batch mean and variance is
 *   dx = gamma * invstd / m * (m * dy - sum(dy) - xhat * sum(dy * xhat)).
 * Both passes stream the tensors in memory order (sample, channel, inner),
 * which the prefetchers follow far better than one channel's short rows at
 * a time. Pass 1 sums per chunk of samples (chunks fixed by n alone, partials
 * added in chunk order), pass 2 updates dx sample by sample. */
typedef struct {
  const Bn *bn;
  double *partial;   /* (chunks, 2, c): sum dy, sum dy (x - mean) */
  const float *coef; /* (4, c): scale, mdy, mdyx, invstd */
} BnBack;

LL_CPU_CLONES
static void bn_backward_sums(void *arg, int chunk, int begin, int end)
{
  const BnBack *b = arg;
  const Bn *a = b->bn;
  int c = a->c, inner = a->inner;
  double *part = b->partial + (size_t)chunk * 2 * c;
  for (int j = 0; j < 2 * c; j++)
    part[j] = 0.0;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      const float *xp = &AT(a->x, i, j, 0), *gp = &AT(a->dy, i, j, 0);
      float meanf = a->save_mean[j];
      for (int k0 = 0; k0 < inner; k0 += STRETCH) {
        int k1 = inner - k0 < STRETCH ? inner : k0 + STRETCH, k = k0;
        ll_v8 s0 = {0}, t0 = {0};
        for (; k + 8 <= k1; k += 8) {
          ll_v8 g = ll_ld8(gp + k);
          s0 += g;
          t0 += g * (ll_ld8(xp + k) - meanf);
        }
        float s1 = ll_hsum8(s0), t1 = ll_hsum8(t0);
        for (; k < k1; k++) {
          s1 += gp[k];
          t1 += gp[k] * (xp[k] - meanf);
        }
        part[j] += s1;
        part[c + j] += t1;
      }
    }
}

LL_CPU_CLONES
static void bn_backward_dx(void *arg, int chunk, int begin, int end)
{
  const BnBack *b = arg;
  const Bn *a = b->bn;
  int c = a->c, inner = a->inner;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      const float *restrict xp = &AT(a->x, i, j, 0), *restrict gp = &AT(a->dy, i, j, 0);
      float *restrict dp = &AT(a->dx, i, j, 0);
      float scale = b->coef[j], mdy = b->coef[c + j], mdyx = b->coef[2 * c + j];
      float invstdf = b->coef[3 * c + j], meanf = a->save_mean[j];
      for (int k = 0; k < inner; k++) {
        float xhat = (xp[k] - meanf) * invstdf;
        dp[k] += scale * (gp[k] - mdy - xhat * mdyx);
      }
    }
}

void ll_cpu_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int n, int c, int inner)
{
  Bn a = {.x = x,
          .dy = dy,
          .gamma = gamma,
          .save_mean = save_mean,
          .save_invstd = save_invstd,
          .dx = dx,
          .dgamma = dgamma,
          .dbeta = dbeta,
          .n = n,
          .c = c,
          .inner = inner};
  size_t total = (size_t)n * c * inner;
  int grain = total < LL_CPU_PAR_MIN ? n : (n + 15) / 16;
  int chunks = ll_cpu_n_chunks(n, grain);
  /* partials in double, then the coefficients (as floats) */
  float *mem = ll_cpu_scratch(3, (size_t)chunks * 4 * c + 4 * (size_t)c + 2);
  double *partial = (double *)mem;
  float *coef = mem + (size_t)chunks * 4 * c;
  BnBack b = {.bn = &a, .partial = partial, .coef = coef};
  ll_cpu_parallel_for(n, grain, bn_backward_sums, &b);
  double m = (double)n * inner;
  for (int j = 0; j < c; j++) {
    double sdy = 0.0, sdyx = 0.0, invstd = save_invstd[j];
    for (int k = 0; k < chunks; k++) {
      sdy += partial[(size_t)k * 2 * c + j];
      sdyx += partial[(size_t)k * 2 * c + c + j];
    }
    sdyx *= invstd;
    if (dgamma)
      dgamma[j] += (float)sdyx;
    if (dbeta)
      dbeta[j] += (float)sdy;
    coef[j] = (float)((gamma ? gamma[j] : 1.0) * invstd);
    coef[c + j] = (float)(sdy / m);
    coef[2 * c + j] = (float)(sdyx / m);
    coef[3 * c + j] = (float)invstd;
  }
  if (dx)
    ll_cpu_parallel_for(n, total < LL_CPU_PAR_MIN ? n : ll_cpu_grain(n, 4), bn_backward_dx, &b);
}

void ll_cpu_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                    const float *running_mean, const float *running_var, float *dx,
                                    float *dgamma, float *dbeta, int n, int c, int inner, float eps)
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
