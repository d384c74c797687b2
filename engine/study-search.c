/* study-search.c: the search space of a sweep: grid points, random samples
 * and a small Tree-structured Parzen Estimator (Bergstra et al. 2011, the
 * independent per-dimension variant Optuna uses by default). */
#include <math.h>
#include <string.h>

#include "study.h"

const char *const ll_search_mode_names[] = {"grid", "random", "tpe", NULL};

static gint64 axis_size(const LlAxis *a)
{
  switch (a->kind) {
  case LL_AXIS_VALUES: return a->values->len;
  case LL_AXIS_INT: return (gint64)(a->hi - a->lo) + 1;
  default: return -1;
  }
}

gint64 ll_search_grid_size(const LlAxis *axes, int n_axes, GError **error)
{
  gint64 n = 1;
  for (int i = 0; i < n_axes; i++) {
    gint64 k = axis_size(&axes[i]);
    if (k < 0) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "sweep axis \"%s\": a continuous range has no grid; give \"values\" or use "
                  "random or tpe search",
                  axes[i].path);
      return -1;
    }
    if (k == 0) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "sweep axis \"%s\": no values",
                  axes[i].path);
      return -1;
    }
    n *= k;
  }
  return n;
}

void ll_search_grid_point(const LlAxis *axes, int n_axes, gint64 i, double *x)
{
  for (int k = n_axes - 1; k >= 0; k--) {
    gint64 size = axis_size(&axes[k]);
    gint64 j = i % size;
    i /= size;
    x[k] = axes[k].kind == LL_AXIS_INT ? axes[k].lo + (double)j : (double)j;
  }
}

JsonNode *ll_axis_value(const LlAxis *a, double x)
{
  switch (a->kind) {
  case LL_AXIS_VALUES: return ll_json_node_dup(g_ptr_array_index(a->values, (guint)x));
  case LL_AXIS_INT: return json_node_init_int(json_node_alloc(), (gint64)llround(x));
  default: return json_node_init_double(json_node_alloc(), x);
  }
}

/* ---- sampling ---------------------------------------------------------------------- */

/* Numeric axes are modelled in "internal" space: log for log-uniform. */
static double to_internal(const LlAxis *a, double x)
{
  return a->kind == LL_AXIS_LOG_UNIFORM ? log(x) : x;
}
static double from_internal(const LlAxis *a, double u)
{
  double x = a->kind == LL_AXIS_LOG_UNIFORM ? exp(u) : u;
  x = CLAMP(x, a->lo, a->hi);
  return a->kind == LL_AXIS_INT ? round(x) : x;
}

static void internal_bounds(const LlAxis *a, double *lo, double *hi)
{
  *lo = to_internal(a, a->lo);
  *hi = to_internal(a, a->hi);
  if (a->kind == LL_AXIS_INT) {
    *lo -= 0.5;
    *hi += 0.5;
  }
}

static double sample_uniform(const LlAxis *a, LlRng *rng)
{
  if (a->kind == LL_AXIS_VALUES)
    return (double)ll_rng_below(rng, a->values->len);
  double lo, hi;
  internal_bounds(a, &lo, &hi);
  return from_internal(a, lo + (hi - lo) * ll_rng_uniform(rng));
}

/* A Parzen estimator over one numeric dimension: a Gaussian per observation
 * plus a uniform prior of weight one observation. */
typedef struct {
  const double *mu; /* internal space */
  int n;
  double sigma, lo, hi;
} Parzen;

static void parzen_init(Parzen *p, const LlAxis *a, const double *mu, int n)
{
  p->mu = mu;
  p->n = n;
  internal_bounds(a, &p->lo, &p->hi);
  double range = p->hi - p->lo, mean = 0, var = 0;
  for (int i = 0; i < n; i++)
    mean += mu[i] / n;
  for (int i = 0; i < n; i++)
    var += (mu[i] - mean) * (mu[i] - mean) / n;
  /* Scott's rule, bounded so that a tight cluster still explores */
  double sigma = sqrt(var) * pow(n, -0.2);
  p->sigma = CLAMP(sigma, range / MIN(100.0, 1.0 + n), range);
}

static double parzen_pdf(const Parzen *p, double u)
{
  double w = 1.0 / (p->n + 1), s = w / (p->hi - p->lo);
  for (int i = 0; i < p->n; i++) {
    double z = (u - p->mu[i]) / p->sigma;
    s += w * exp(-0.5 * z * z) / (p->sigma * sqrt(2 * G_PI));
  }
  return s;
}

static double parzen_sample(const Parzen *p, LlRng *rng)
{
  guint64 k = ll_rng_below(rng, (guint64)p->n + 1);
  if (k == (guint64)p->n)
    return p->lo + (p->hi - p->lo) * ll_rng_uniform(rng);
  for (int tries = 0; tries < 16; tries++) {
    double u = p->mu[k] + p->sigma * ll_rng_normal(rng);
    if (u >= p->lo && u <= p->hi)
      return u;
  }
  return CLAMP(p->mu[k], p->lo, p->hi);
}

typedef struct {
  double value;
  const double *x;
} Ranked;

static int cmp_ranked(const void *a, const void *b)
{
  double x = ((const Ranked *)a)->value, y = ((const Ranked *)b)->value;
  return (x > y) - (x < y);
}

static void tpe_suggest(const LlAxis *axes, int n_axes, const LlObservation *hist, int n_hist,
                        gboolean maximize, LlRng *rng, double *x)
{
  g_autofree Ranked *r = g_new(Ranked, MAX(n_hist, 1));
  int n = 0;
  for (int i = 0; i < n_hist; i++)
    if (isfinite(hist[i].objective))
      r[n++] = (Ranked){maximize ? -hist[i].objective : hist[i].objective, hist[i].x};
  qsort(r, (size_t)n, sizeof *r, cmp_ranked); /* best first */
  int n_good = MAX(1, (int)ceil(0.25 * n)), n_bad = n - n_good;
  const int candidates = 24;
  g_autofree double *cand = g_new(double, (size_t)candidates *n_axes);
  g_autofree double *score = g_new0(double, candidates);
  g_autofree double *good = g_new(double, MAX(n_good, 1));
  g_autofree double *bad = g_new(double, MAX(n_bad, 1));
  for (int d = 0; d < n_axes; d++) {
    const LlAxis *a = &axes[d];
    if (a->kind == LL_AXIS_VALUES) {
      int k = (int)a->values->len;
      g_autofree double *pg = g_new(double, k);
      g_autofree double *pb = g_new(double, k);
      for (int c = 0; c < k; c++)
        pg[c] = pb[c] = 1.0;
      for (int i = 0; i < n_good; i++)
        pg[(int)r[i].x[d]] += 1.0;
      for (int i = n_good; i < n; i++)
        pb[(int)r[i].x[d]] += 1.0;
      for (int c = 0; c < k; c++) {
        pg[c] /= n_good + k;
        pb[c] /= n_bad + k;
      }
      for (int j = 0; j < candidates; j++) {
        double u = ll_rng_uniform(rng), acc = 0;
        int c = 0;
        for (; c < k - 1; c++) {
          acc += pg[c];
          if (u < acc)
            break;
        }
        cand[j * n_axes + d] = c;
        score[j] += log(pg[c]) - log(pb[c]);
      }
      continue;
    }
    for (int i = 0; i < n_good; i++)
      good[i] = to_internal(a, r[i].x[d]);
    for (int i = 0; i < n_bad; i++)
      bad[i] = to_internal(a, r[n_good + i].x[d]);
    Parzen l, g;
    parzen_init(&l, a, good, n_good);
    parzen_init(&g, a, bad, n_bad);
    for (int j = 0; j < candidates; j++) {
      double u = parzen_sample(&l, rng);
      double v = from_internal(a, u);
      cand[j * n_axes + d] = v;
      double ui = to_internal(a, v);
      score[j] += log(parzen_pdf(&l, ui)) - log(parzen_pdf(&g, ui));
    }
  }
  int best = 0;
  for (int j = 1; j < candidates; j++)
    if (score[j] > score[best])
      best = j;
  memcpy(x, cand + (size_t)best * n_axes, sizeof(double) * n_axes);
}

void ll_search_suggest(const LlAxis *axes, int n_axes, LlSearchMode mode,
                       const LlObservation *history, int n_history, gboolean maximize,
                       uint64_t seed, int trial, double *x)
{
  LlRng rng;
  /* one stream per trial: resuming gives the same suggestions */
  ll_rng_seed(&rng, seed * 0x9E3779B97F4A7C15ull + (uint64_t)trial + 1);
  int finite = 0;
  for (int i = 0; i < n_history; i++)
    finite += isfinite(history[i].objective) != 0;
  const int n_startup = 5;
  if (mode == LL_SEARCH_TPE && finite >= n_startup) {
    tpe_suggest(axes, n_axes, history, n_history, maximize, &rng, x);
    return;
  }
  for (int d = 0; d < n_axes; d++)
    x[d] = sample_uniform(&axes[d], &rng);
}
