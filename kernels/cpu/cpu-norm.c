/* cpu-norm.c: batch normalisation over x(n, c, inner), per channel c, and
 * layer normalisation over each row of x(rows, cols) (at the end).
 *
 * Statistics take two passes (mean, then squared deviations) and are summed
 * in double over float-vector partial sums (channel_sum) so they do not drift
 * with the batch or the spatial size. Channels run in parallel.
 * gamma and beta may be NULL (affine = false: scale 1, shift 0); then
 * dgamma and dbeta are NULL too.
 *
 * batchnorm_relu_forward / _backward run the same passes with a ReLU and a
 * dropout mask applied where the output is written, and the gradient those
 * two pass back computed where it is read (g = z > 0 ? dz * keep : 0), so
 * the chain BatchNorm -> ReLU -> Dropout costs the passes of the batch norm
 * alone; the loops are the same (one always-inlined body each, with the
 * chain a constant), so the results are the unfused ones bit for bit. */
#include "cpu-ops.h"

#include "counter-rng.h"

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
  /* the fused ReLU and dropout: forward writes max(y, 0) * mask into y (the
   * mask drawn when drop; without it mask.keep is 1); backward reads
   * g = z > 0 ? dz * mask.keep : 0 for dy */
  bool drop;
  LlDropMask mask;
  const float *z, *dz;
} Bn;

/* Where the gradient of the batch norm's output is read: dy, or through the
 * fused ReLU and dropout, g = z > 0 ? dz * keep : 0 from their output z and
 * its gradient dz. Hoisted out of the loops (the stores to dx could alias
 * the Bn's fields). */
typedef struct {
  const float *dy, *z, *dz;
  float keep;
} Grad;

LL_INLINE Grad grad_of(const Bn *a) { return (Grad){a->dy, a->z, a->dz, a->mask.keep}; }

/* The product is masked with a bitwise and, which GCC does not contract
 * into the caller's sums (a select would let it fuse dz * keep - mdy into
 * one rounding, and the chain's results would differ from the blocks'). */
LL_INLINE float grad1(Grad g, size_t at, bool chain)
{
  if (!chain)
    return g.dy[at];
  float v = g.dz[at] * g.keep;
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  bits &= g.z[at] > 0.0f ? ~0u : 0u;
  memcpy(&v, &bits, sizeof v);
  return v;
}

LL_INLINE ll_v8 grad8(Grad g, size_t at, bool chain)
{
  if (!chain)
    return ll_ld8(g.dy + at);
  ll_v8 zero = {0}, v = ll_ld8(g.dz + at) * g.keep;
  return (ll_v8)((ll_v8i)v & (ll_ld8(g.z + at) > zero));
}

/* y(row, 0..inner) = x * scale + shift, then with relu max(., 0), then with
 * drop times the dropout mask of elements base.. (as relu_dropout_forward). */
LL_INLINE void normalise_row(const Bn *a, const float *restrict xp, float *restrict yp, size_t base,
                             float scale, float shift, bool relu, bool drop)
{
  size_t inner = (size_t)a->inner;
  if (!drop) {
    for (size_t k = 0; k < inner; k++) {
      float v = xp[k] * scale + shift;
      yp[k] = relu && !(v > 0.0f) ? 0.0f : v;
    }
    return;
  }
  float keep = a->mask.keep;
  uint32_t threshold = a->mask.threshold;
  for (size_t k = 0; k < inner;) {
    /* a stretch of indices with one high half: 32-bit lanes */
    size_t at = base + k, len = ll_counter_stretch(at, inner - k);
    uint32_t k0 = ll_counter_k0(a->mask.key), k1 = ll_counter_k1(a->mask.key, (uint32_t)(at >> 32));
    uint32_t lo = (uint32_t)at;
    const float *restrict xs = xp + k;
    float *restrict ys = yp + k;
    for (size_t t = 0; t < len; t++) {
      float m = ll_counter_bits24_split(k0, k1, lo + (uint32_t)t) >= threshold ? keep : 0.0f;
      float v = xs[t] * scale + shift;
      v = v > 0.0f ? v : 0.0f;
      ys[t] = v * m;
    }
    k += len;
  }
}

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

LL_INLINE void forward_normalise(void *arg, int begin, int end, bool relu, bool drop)
{
  const BnFwd *f = arg;
  const Bn *a = f->bn;
  int c = a->c, inner = a->inner;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++)
      normalise_row(a, &AT(a->x, i, j, 0), &AT(a->y, i, j, 0), ((size_t)i * c + j) * inner,
                    f->coef[j], f->coef[c + j], relu, drop);
}

LL_CPU_CLONES
static void bn_forward_normalise(void *arg, int chunk, int begin, int end)
{
  forward_normalise(arg, begin, end, false, false);
}

LL_CPU_CLONES
static void bn_forward_normalise_relu(void *arg, int chunk, int begin, int end)
{
  forward_normalise(arg, begin, end, true, false);
}

LL_CPU_CLONES
static void bn_forward_normalise_relu_drop(void *arg, int chunk, int begin, int end)
{
  forward_normalise(arg, begin, end, true, true);
}

/* The chunk partials of f's last pass, added in chunk order. */
static double chunk_total(const BnFwd *f, int chunks, int c, int j)
{
  double t = 0.0;
  for (int k = 0; k < chunks; k++)
    t += f->partial[(size_t)k * c + j];
  return t;
}

/* The training forward of a: statistics into a's save_mean_w, save_invstd_w,
 * running_mean, running_var; normalise is the last pass's range function. */
static void forward_train(const Bn *a, LlCpuRangeFn normalise)
{
  int n = a->n, c = a->c, inner = a->inner;
  const float *gamma = a->gamma, *beta = a->beta;
  float *save_mean = a->save_mean_w, *save_invstd = a->save_invstd_w;
  float *running_mean = a->running_mean, *running_var = a->running_var;
  float momentum = a->momentum, eps = a->eps;
  size_t total = (size_t)n * c * inner;
  int grain = total < LL_CPU_PAR_MIN ? n : (n + 15) / 16;
  int chunks = ll_cpu_n_chunks(n, grain);
  float *mem = ll_cpu_scratch(3, (size_t)chunks * 2 * c + 3 * (size_t)c);
  if (!mem)
    return; /* recorded for take_error */
  float *meanf = mem + (size_t)chunks * 2 * c, *coef = meanf + c;
  BnFwd f = {.bn = a, .partial = (double *)mem, .coef = coef};
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
  ll_cpu_parallel_for(n, total < LL_CPU_PAR_MIN ? n : ll_cpu_grain(n, 4), normalise, &f);
}

void ll_cpu_batchnorm_forward_train(const float *x, float *y, const float *gamma, const float *beta,
                                    float *save_mean, float *save_invstd, float *running_mean,
                                    float *running_var, int n, int c, int inner, float momentum,
                                    float eps)
{
  Bn a = {.x = x,
          .y = y,
          .gamma = gamma,
          .beta = beta,
          .save_mean_w = save_mean,
          .save_invstd_w = save_invstd,
          .running_mean = running_mean,
          .running_var = running_var,
          .n = n,
          .c = c,
          .inner = inner,
          .momentum = momentum,
          .eps = eps};
  forward_train(&a, bn_forward_normalise);
}

LL_INLINE void forward_eval_channels(void *arg, int begin, int end, bool relu)
{
  const Bn *a = arg;
  int n = a->n, c = a->c, inner = a->inner;
  for (int j = begin; j < end; j++) {
    float scale =
        (float)(1.0 / sqrt((double)a->running_var_c[j] + a->eps)) * (a->gamma ? a->gamma[j] : 1.0f);
    float shift = (a->beta ? a->beta[j] : 0.0f) - a->running_mean_c[j] * scale;
    for (int i = 0; i < n; i++)
      normalise_row(a, &AT(a->x, i, j, 0), &AT(a->y, i, j, 0), 0, scale, shift, relu, false);
  }
}

LL_CPU_CLONES
static void bn_forward_eval_channels(void *arg, int chunk, int begin, int end)
{
  forward_eval_channels(arg, begin, end, false);
}

LL_CPU_CLONES
static void bn_forward_eval_channels_relu(void *arg, int chunk, int begin, int end)
{
  forward_eval_channels(arg, begin, end, true);
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

LL_INLINE void backward_sums(void *arg, int chunk, int begin, int end, bool chain)
{
  const BnBack *b = arg;
  const Bn *a = b->bn;
  int c = a->c, inner = a->inner;
  double *part = b->partial + (size_t)chunk * 2 * c;
  Grad gr = grad_of(a);
  for (int j = 0; j < 2 * c; j++)
    part[j] = 0.0;
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      size_t row = ((size_t)i * c + j) * inner;
      const float *xp = a->x + row;
      float meanf = a->save_mean[j];
      for (int k0 = 0; k0 < inner; k0 += STRETCH) {
        int k1 = inner - k0 < STRETCH ? inner : k0 + STRETCH, k = k0;
        ll_v8 s0 = {0}, t0 = {0};
        for (; k + 8 <= k1; k += 8) {
          ll_v8 g = grad8(gr, row + k, chain);
          s0 += g;
          t0 += g * (ll_ld8(xp + k) - meanf);
        }
        float s1 = ll_hsum8(s0), t1 = ll_hsum8(t0);
        for (; k < k1; k++) {
          float g = grad1(gr, row + k, chain);
          s1 += g;
          t1 += g * (xp[k] - meanf);
        }
        part[j] += s1;
        part[c + j] += t1;
      }
    }
}

LL_CPU_CLONES
static void bn_backward_sums(void *arg, int chunk, int begin, int end)
{
  backward_sums(arg, chunk, begin, end, false);
}

LL_CPU_CLONES
static void bn_backward_sums_chain(void *arg, int chunk, int begin, int end)
{
  backward_sums(arg, chunk, begin, end, true);
}

LL_INLINE void backward_dx(void *arg, int begin, int end, bool chain, bool assign)
{
  const BnBack *b = arg;
  const Bn *a = b->bn;
  int c = a->c, inner = a->inner;
  Grad gr = grad_of(a);
  for (int i = begin; i < end; i++)
    for (int j = 0; j < c; j++) {
      size_t row = ((size_t)i * c + j) * inner;
      const float *restrict xp = a->x + row;
      float *restrict dp = a->dx + row;
      float scale = b->coef[j], mdy = b->coef[c + j], mdyx = b->coef[2 * c + j];
      float invstdf = b->coef[3 * c + j], meanf = a->save_mean[j];
      int k = 0;
      for (; k + 8 <= inner; k += 8) {
        ll_v8 xhat = (ll_ld8(xp + k) - meanf) * invstdf;
        ll_v8 g = grad8(gr, row + k, chain), v = scale * (g - mdy - xhat * mdyx);
        ll_st8(dp + k, assign ? v : ll_ld8(dp + k) + v);
      }
      for (; k < inner; k++) {
        float xhat = (xp[k] - meanf) * invstdf;
        float v = scale * (grad1(gr, row + k, chain) - mdy - xhat * mdyx);
        dp[k] = assign ? v : dp[k] + v;
      }
    }
}

LL_CPU_CLONES
static void bn_backward_dx(void *arg, int chunk, int begin, int end)
{
  backward_dx(arg, begin, end, false, false);
}

LL_CPU_CLONES
static void bn_backward_dx_chain(void *arg, int chunk, int begin, int end)
{
  backward_dx(arg, begin, end, true, false);
}

LL_CPU_CLONES
static void bn_backward_dx_chain_assign(void *arg, int chunk, int begin, int end)
{
  backward_dx(arg, begin, end, true, true);
}

/* The training backward of a (gradient read by sums and dx). */
static void backward_train(const Bn *a, LlCpuRangeFn sums, LlCpuRangeFn dx_fn)
{
  int n = a->n, c = a->c, inner = a->inner;
  const float *gamma = a->gamma, *save_invstd = a->save_invstd;
  float *dgamma = a->dgamma, *dbeta = a->dbeta;
  size_t total = (size_t)n * c * inner;
  int grain = total < LL_CPU_PAR_MIN ? n : (n + 15) / 16;
  int chunks = ll_cpu_n_chunks(n, grain);
  /* partials in double, then the coefficients (as floats) */
  float *mem = ll_cpu_scratch(3, (size_t)chunks * 4 * c + 4 * (size_t)c + 2);
  if (!mem)
    return; /* recorded for take_error */
  double *partial = (double *)mem;
  float *coef = mem + (size_t)chunks * 4 * c;
  BnBack b = {.bn = a, .partial = partial, .coef = coef};
  ll_cpu_parallel_for(n, grain, sums, &b);
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
  if (a->dx)
    ll_cpu_parallel_for(n, total < LL_CPU_PAR_MIN ? n : ll_cpu_grain(n, 4), dx_fn, &b);
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
  backward_train(&a, bn_backward_sums, bn_backward_dx);
}

/* The evaluation-mode backward, the running statistics constants. */
static void backward_eval(const Bn *a, bool chain, bool assign)
{
  int n = a->n, c = a->c, inner = a->inner;
  Grad gr = grad_of(a);
  for (int j = 0; j < c; j++) {
    double mean = a->running_mean_c[j], invstd = 1.0 / sqrt((double)a->running_var_c[j] + a->eps);
    if (a->dgamma || a->dbeta) {
      double sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < n; i++)
        for (int k = 0; k < inner; k++) {
          size_t at = ((size_t)i * c + j) * inner + k;
          double g = grad1(gr, at, chain);
          sdy += g;
          sdyx += g * (a->x[at] - mean) * invstd;
        }
      if (a->dgamma)
        a->dgamma[j] += (float)sdyx;
      if (a->dbeta)
        a->dbeta[j] += (float)sdy;
    }
    if (!a->dx)
      continue;
    float scale = (float)(invstd * (a->gamma ? a->gamma[j] : 1.0));
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++) {
        size_t at = ((size_t)i * c + j) * inner + k;
        float v = grad1(gr, at, chain) * scale;
        a->dx[at] = assign ? v : a->dx[at] + v;
      }
  }
}

void ll_cpu_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                    const float *running_mean, const float *running_var, float *dx,
                                    float *dgamma, float *dbeta, int n, int c, int inner, float eps)
{
  Bn a = {.x = x,
          .dy = dy,
          .gamma = gamma,
          .running_mean_c = running_mean,
          .running_var_c = running_var,
          .dx = dx,
          .dgamma = dgamma,
          .dbeta = dbeta,
          .n = n,
          .c = c,
          .inner = inner,
          .eps = eps};
  backward_eval(&a, false, false);
}

/* ---- BatchNorm -> ReLU [-> dropout] ----------------------------------------------------- */

static Bn chain_of(const LlBnRelu *r, const float *x)
{
  bool drop = r->training && r->p > 0.0f;
  return (Bn){.x = x,
              .gamma = r->gamma,
              .beta = r->beta,
              .save_mean = r->save_mean,
              .save_invstd = r->save_invstd,
              .running_mean_c = r->running_mean,
              .running_var_c = r->running_var,
              .save_mean_w = r->save_mean,
              .save_invstd_w = r->save_invstd,
              .running_mean = r->running_mean,
              .running_var = r->running_var,
              .n = r->n,
              .c = r->c,
              .inner = r->inner,
              .momentum = r->momentum,
              .eps = r->eps,
              .drop = drop,
              .mask = drop ? ll_drop_mask(r->p, r->seed, r->offset) : (LlDropMask){.keep = 1.0f}};
}

void ll_cpu_batchnorm_relu_forward(const LlBnRelu *r, const float *x, float *z)
{
  Bn a = chain_of(r, x);
  a.y = z;
  if (r->training)
    forward_train(&a, a.drop ? bn_forward_normalise_relu_drop : bn_forward_normalise_relu);
  else
    bn_parallel(a.n, a.c, a.inner, bn_forward_eval_channels_relu, &a);
}

void ll_cpu_batchnorm_relu_backward(const LlBnRelu *r, const float *x, const float *z,
                                    const float *dz, float *dx, float *dgamma, float *dbeta)
{
  Bn a = chain_of(r, x);
  a.z = z;
  a.dz = dz;
  a.dx = dx;
  a.dgamma = dgamma;
  a.dbeta = dbeta;
  if (r->training)
    backward_train(&a, bn_backward_sums_chain,
                   r->assign_dx ? bn_backward_dx_chain_assign : bn_backward_dx_chain);
  else
    backward_eval(&a, true, r->assign_dx);
}

/* ---- layer normalisation over each row of x(rows, cols) ---- */

typedef struct {
  const float *x, *dy, *gamma, *beta;
  float *y, *mean, *invstd, *dx, *dgamma, *dbeta;
  int rows, cols;
  float eps;
} LayerNorm;

/* Rows [begin, end): the statistics as batch norm takes them (row_sum:
 * mean, then squared deviations, summed in double), then the output. */
static void layernorm_forward_rows(void *arg, int chunk, int begin, int end)
{
  const LayerNorm *a = arg;
  int cols = a->cols;
  for (int r = begin; r < end; r++) {
    const float *x = a->x + (size_t)r * cols;
    float *y = a->y + (size_t)r * cols;
    float mean = (float)(row_sum(x, cols, 0.0f, false) / cols);
    double var = row_sum(x, cols, mean, true) / cols;
    float invstd = (float)(1.0 / sqrt(var + a->eps));
    a->mean[r] = mean;
    a->invstd[r] = invstd;
    for (int k = 0; k < cols; k++) {
      float xhat = (x[k] - mean) * invstd;
      y[k] = a->gamma ? xhat * a->gamma[k] + a->beta[k] : xhat;
    }
  }
}

void ll_cpu_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta,
                              float *save_mean, float *save_invstd, int rows, int cols, float eps)
{
  LayerNorm a = {.x = x,
                 .y = y,
                 .gamma = gamma,
                 .beta = beta,
                 .mean = save_mean,
                 .invstd = save_invstd,
                 .rows = rows,
                 .cols = cols,
                 .eps = eps};
  ll_cpu_parallel_for(rows, ll_cpu_grain(rows, 4), layernorm_forward_rows, &a);
}

/* dx of rows [begin, end): invstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma. */
static void layernorm_dx_rows(void *arg, int chunk, int begin, int end)
{
  const LayerNorm *a = arg;
  int cols = a->cols;
  for (int r = begin; r < end; r++) {
    const float *x = a->x + (size_t)r * cols, *dy = a->dy + (size_t)r * cols;
    float *dx = a->dx + (size_t)r * cols;
    float mean = a->mean[r], invstd = a->invstd[r];
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int k = 0; k < cols; k++) {
      float g = a->gamma ? dy[k] * a->gamma[k] : dy[k];
      sum_g += g;
      sum_g_xhat += (double)g * ((x[k] - mean) * invstd);
    }
    float mg = (float)(sum_g / cols), mgx = (float)(sum_g_xhat / cols);
    for (int k = 0; k < cols; k++) {
      float g = a->gamma ? dy[k] * a->gamma[k] : dy[k];
      float xhat = (x[k] - mean) * invstd;
      dx[k] += invstd * (g - mg - xhat * mgx);
    }
  }
}

/* dgamma, dbeta of columns [begin, end), summed over every row in order:
 * split by columns, so no two threads add into one element. */
static void layernorm_affine_cols(void *arg, int chunk, int begin, int end)
{
  const LayerNorm *a = arg;
  int cols = a->cols;
  for (int k = begin; k < end; k++) {
    double sg = 0.0, sb = 0.0;
    for (int r = 0; r < a->rows; r++) {
      size_t at = (size_t)r * cols + k;
      sg += (double)a->dy[at] * ((a->x[at] - a->mean[r]) * a->invstd[r]);
      sb += a->dy[at];
    }
    a->dgamma[k] += (float)sg;
    a->dbeta[k] += (float)sb;
  }
}

void ll_cpu_layernorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int rows, int cols)
{
  LayerNorm a = {.x = x,
                 .dy = dy,
                 .gamma = gamma,
                 .mean = (float *)save_mean,
                 .invstd = (float *)save_invstd,
                 .dx = dx,
                 .dgamma = dgamma,
                 .dbeta = dbeta,
                 .rows = rows,
                 .cols = cols};
  if (dx)
    ll_cpu_parallel_for(rows, ll_cpu_grain(rows, 4), layernorm_dx_rows, &a);
  if (dgamma)
    ll_cpu_parallel_for(cols, ll_cpu_grain(cols, 4), layernorm_affine_cols, &a);
}
