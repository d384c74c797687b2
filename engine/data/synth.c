/* synth.c: synthetic datasets, deterministic in the seed.
 *
 * Every generator draws from one LlRng seeded with c->seed, in the order
 * written below, so a seed gives the same data on every machine.
 *
 * blobs (n, n_classes >= 2, features >= 1, noise = std):
 *   centres m_k ~ U[-4, 4]^features for k = 0..K-1 (drawn first, k-major);
 *   sample i has class y = i mod K (balanced) and x = m_y + noise * N(0, I).
 *
 * spirals (n, n_classes >= 2 arms, noise = std):
 *   sample i has arm k = i mod K; t ~ U[0, 1); r = 0.1 + 0.9 t,
 *   theta = 2 pi k / K + 3 pi t (one and a half turns);
 *   x = (r cos theta, r sin theta) + noise * N(0, I2), drawn t, then noise.
 *
 * changepoint (E7; n, steps T >= 2, noise = std, 1 when 0):
 *   per sequence: the change step tau ~ U{1, .., T-1}; the jump
 *   delta = s * (1 + U[0, 1)) with the sign s = +-1 equally likely;
 *   x_t = noise * N(0, 1) for t < tau, delta + noise * N(0, 1) for t >= tau;
 *   label_t = [t >= tau]. Shape (T, 1), label_dim T, n_classes 2 (binary
 *   per step).
 *
 * seq-memory (E8; n, steps T >= 2, vocab V >= 3; noise unused):
 *   the query symbol q ~ U{0, .., V-2} is drawn first, fixed for the set.
 *   Each sequence picks a case c ~ U{0, 1, 2} and draws T symbols uniformly
 *   from {0..V-1} \ {q}; case 1 then writes q at a position p ~ U{0..T-1}
 *   and replaces every q+1 after p by a symbol uniform in {0..V-1} \ {q,
 *   q+1}; case 2 writes q at a and q+1 at b for a < b drawn uniformly. The
 *   labels are then read off the sequence itself: [q occurs, some q occurs
 *   before some q+1], so the three cases give (0,*), (1,0), (1,1) and the
 *   targets are balanced. Features are one-hot (T, V); label_dim 2,
 *   n_classes 2 (binary per entry); the entries are named "appeared" and
 *   "then_next". */
#include "data-private.h"

#include <math.h>
#include <string.h>

static gboolean check(gboolean ok, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean check(gboolean ok, GError **error, const char *fmt, ...)
{
  if (ok)
    return TRUE;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG, msg);
  return FALSE;
}

static void gen_blobs(const LlSynthConfig *c, LlRng *r, LlDataset *d)
{
  int K = c->n_classes, F = c->features;
  float *m = g_new(float, (size_t)K *F);
  for (int i = 0; i < K * F; i++)
    m[i] = (float)(-4.0 + 8.0 * ll_rng_uniform(r));
  for (guint i = 0; i < d->n; i++) {
    int y = (int)(i % (guint)K);
    for (int f = 0; f < F; f++)
      d->f32[(size_t)i * F + f] = m[y * F + f] + (float)(c->noise * ll_rng_normal(r));
    d->labels[i] = (float)y;
  }
  g_free(m);
}

static void gen_spirals(const LlSynthConfig *c, LlRng *r, LlDataset *d)
{
  int K = c->n_classes;
  for (guint i = 0; i < d->n; i++) {
    int k = (int)(i % (guint)K);
    double t = ll_rng_uniform(r);
    double rad = 0.1 + 0.9 * t, th = 2.0 * G_PI * k / K + 3.0 * G_PI * t;
    double nx = ll_rng_normal(r), ny = ll_rng_normal(r);
    d->f32[2 * i] = (float)(rad * cos(th) + c->noise * nx);
    d->f32[2 * i + 1] = (float)(rad * sin(th) + c->noise * ny);
    d->labels[i] = (float)k;
  }
}

static void gen_changepoint(const LlSynthConfig *c, LlRng *r, LlDataset *d)
{
  int T = c->steps;
  double sd = c->noise > 0 ? c->noise : 1.0;
  for (guint i = 0; i < d->n; i++) {
    int tau = 1 + (int)ll_rng_below(r, (uint64_t)T - 1);
    double sign = ll_rng_below(r, 2) ? 1.0 : -1.0;
    double delta = sign * (1.0 + ll_rng_uniform(r));
    for (int t = 0; t < T; t++) {
      double v = sd * ll_rng_normal(r) + (t >= tau ? delta : 0.0);
      d->f32[(size_t)i * T + t] = (float)v;
      d->labels[(size_t)i * T + t] = t >= tau ? 1.0f : 0.0f;
    }
  }
}

static void gen_seq_memory(const LlSynthConfig *c, LlRng *r, LlDataset *d)
{
  int T = c->steps, V = c->vocab;
  int q = (int)ll_rng_below(r, (uint64_t)V - 1);
  int *s = g_new(int, T);
  for (guint i = 0; i < d->n; i++) {
    int cs = (int)ll_rng_below(r, 3);
    for (int t = 0; t < T; t++) { /* uniform over V \ {q} */
      int v = (int)ll_rng_below(r, (uint64_t)V - 1);
      s[t] = v >= q ? v + 1 : v;
    }
    if (cs == 1) {
      int p = (int)ll_rng_below(r, (uint64_t)T);
      s[p] = q;
      for (int t = p + 1; t < T; t++)
        if (s[t] == q + 1) { /* uniform over V \ {q, q+1} */
          int v = (int)ll_rng_below(r, (uint64_t)V - 2);
          s[t] = v >= q ? v + 2 : v;
        }
    } else if (cs == 2) {
      int a = (int)ll_rng_below(r, (uint64_t)T - 1);
      int b = a + 1 + (int)ll_rng_below(r, (uint64_t)(T - 1 - a));
      s[a] = q;
      s[b] = q + 1;
    }
    gboolean seen_q = FALSE, then = FALSE;
    float *x = d->f32 + (size_t)i * T * V;
    memset(x, 0, sizeof(float) * T * V);
    for (int t = 0; t < T; t++) {
      x[t * V + s[t]] = 1.0f;
      if (s[t] == q + 1 && seen_q)
        then = TRUE;
      if (s[t] == q)
        seen_q = TRUE;
    }
    d->labels[2 * i] = seen_q ? 1.0f : 0.0f;
    d->labels[2 * i + 1] = then ? 1.0f : 0.0f;
  }
  g_free(s);
}

LlDataset *ll_dataset_synthesize(const LlSynthConfig *c, GError **error)
{
  const guint max_values = 1u << 28;
  if (!check(c->n >= 1, error, "synthetic data: n is %u; it must be at least 1", c->n) ||
      !check(c->noise >= 0 && isfinite(c->noise), error,
             "synthetic data: noise is %g; it must be a finite value >= 0", c->noise))
    return NULL;
  LlDataset *d = NULL;
  LlShape shape;
  int label_dim = 1;
  const char *name;
  char *source;
  switch (c->kind) {
  case LL_SYNTH_BLOBS:
    if (!check(c->n_classes >= 2 && c->n_classes <= 1000, error,
               "blobs: n_classes is %d; it must be in 2..1000", c->n_classes) ||
        !check(c->features >= 1 && c->features <= 65536, error,
               "blobs: features is %d; it must be in 1..65536", c->features))
      return NULL;
    name = "blobs";
    shape = ll_shape_make(1, (int[]){c->features});
    source = g_strdup_printf(
        "blobs(n=%u, classes=%d, features=%d, noise=%g, seed=%" G_GUINT64_FORMAT ")", c->n,
        c->n_classes, c->features, c->noise, (guint64)c->seed);
    break;
  case LL_SYNTH_SPIRALS:
    if (!check(c->n_classes >= 2 && c->n_classes <= 100, error,
               "spirals: n_classes is %d; it must be in 2..100", c->n_classes))
      return NULL;
    name = "spirals";
    shape = ll_shape_make(1, (int[]){2});
    source = g_strdup_printf("spirals(n=%u, arms=%d, noise=%g, seed=%" G_GUINT64_FORMAT ")", c->n,
                             c->n_classes, c->noise, (guint64)c->seed);
    break;
  case LL_SYNTH_CHANGEPOINT:
    if (!check(c->steps >= 2 && c->steps <= 65536, error,
               "changepoint: steps is %d; it must be in 2..65536", c->steps))
      return NULL;
    name = "changepoint";
    shape = ll_shape_make(2, (int[]){c->steps, 1});
    label_dim = c->steps;
    source = g_strdup_printf("changepoint(n=%u, steps=%d, noise=%g, seed=%" G_GUINT64_FORMAT ")",
                             c->n, c->steps, c->noise, (guint64)c->seed);
    break;
  case LL_SYNTH_SEQ_MEMORY:
    if (!check(c->steps >= 2 && c->steps <= 65536, error,
               "seq-memory: steps is %d; it must be in 2..65536", c->steps) ||
        !check(c->vocab >= 3 && c->vocab <= 65536, error,
               "seq-memory: vocab is %d; it must be in 3..65536", c->vocab))
      return NULL;
    name = "seq-memory";
    shape = ll_shape_make(2, (int[]){c->steps, c->vocab});
    label_dim = 2;
    source = g_strdup_printf("seq-memory(n=%u, steps=%d, vocab=%d, seed=%" G_GUINT64_FORMAT ")",
                             c->n, c->steps, c->vocab, (guint64)c->seed);
    break;
  default:
    g_set_error(error, LL_DATA_ERROR, LL_DATA_ERROR_CONFIG, "unknown synthetic data kind %d",
                (int)c->kind);
    return NULL;
  }
  if (!check((guint64)c->n * ll_shape_size(&shape) <= max_values, error,
             "%s: %u samples of %zu values are too many (at most %u values)", name, c->n,
             ll_shape_size(&shape), max_values)) {
    g_free(source);
    return NULL;
  }
  d = ll_dataset_alloc(name, source, c->n, shape, FALSE, label_dim, name, error);
  g_free(source);
  if (!d)
    return NULL;
  LlRng r;
  ll_rng_seed(&r, c->seed);
  switch (c->kind) {
  case LL_SYNTH_BLOBS:
    gen_blobs(c, &r, d);
    d->n_classes = c->n_classes;
    break;
  case LL_SYNTH_SPIRALS:
    gen_spirals(c, &r, d);
    d->n_classes = c->n_classes;
    break;
  case LL_SYNTH_CHANGEPOINT:
    gen_changepoint(c, &r, d);
    d->n_classes = 2;
    break;
  case LL_SYNTH_SEQ_MEMORY:
    gen_seq_memory(c, &r, d);
    d->n_classes = 2;
    /* the two queries, so each one's accuracy can be reported by name */
    d->label_names = g_strdupv((char *[]){"appeared", "then_next", NULL});
    break;
  }
  return d;
}
