/* tsne.h: t-SNE (van der Maaten 2014) into two dimensions, stepped.
 *
 * The schedule and objective follow scikit-learn's TSNE so that its
 * numbers compare: input affinities from a per-point binary search of the
 * Gaussian's precision for the perplexity over the k = 3 * perplexity + 1
 * nearest neighbours (all points for the exact method), symmetrised into a
 * sparse P summing to 1; gradient descent with per-coordinate gains
 * (+0.2 / *0.8, at least 0.01) and momentum 0.5 during early exaggeration,
 * then 0.8 (update and gains restart when exaggeration ends); learning
 * rate "auto" = max(n / early_exaggeration / 4, 50). The repulsive forces
 * are exact (O(n^2)) or come from a Barnes-Hut quadtree with opening
 * angle theta; the attractive ones are sums over P's nonzeros.
 *
 * The caller drives the optimisation with ll_tsne_step() (typically from a
 * worker thread that publishes a copy of ll_tsne_embedding() between
 * steps); cancelling is simply not stepping any more and freeing. Results
 * depend on the seed only (random init); they are the same for any number
 * of threads. One LlTsne must not be used from two threads at once.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LL_TSNE_ERROR (ll_tsne_error_quark())
GQuark ll_tsne_error_quark(void);
typedef enum {
  LL_TSNE_ERROR_INPUT,  /* too few points, NaN or infinity, bad initial layout */
  LL_TSNE_ERROR_CONFIG, /* a setting out of range for this data */
} LlTsneError;

typedef enum {
  LL_TSNE_AUTO,       /* exact up to LL_TSNE_EXACT_MAX_N points, Barnes-Hut above */
  LL_TSNE_EXACT,      /* dense P over all points, exact O(n^2) gradient */
  LL_TSNE_BARNES_HUT, /* kNN-sparse P, quadtree repulsion */
} LlTsneMethod;

#define LL_TSNE_EXACT_MAX_N 1000

typedef enum {
  LL_TSNE_INIT_PCA,    /* the data's first two principal components, PC1 std 1e-4 */
  LL_TSNE_INIT_RANDOM, /* N(0, 1e-4^2) from the seed */
} LlTsneInit;

typedef struct {
  double perplexity;         /* 30; needs 1 <= perplexity < n - 1 */
  int pca_dims;              /* 50: reduce the data to this many dims first; 0 = none */
  LlTsneMethod method;       /* auto */
  double theta;              /* 0.5: Barnes-Hut opening angle (0 < theta < 1) */
  double learning_rate;      /* 0 = auto: max(n / early_exaggeration / 4, 50) */
  double early_exaggeration; /* 12 (>= 1) */
  int exaggeration_iters;    /* 250: iterations with exaggerated P and momentum 0.5 */
  int max_iter;              /* 1000: total iterations, exaggeration included */
  uint64_t seed;             /* 0 */
  LlTsneInit init;           /* pca */
  int threads;               /* 0 = one per processor */
} LlTsneConfig;

/* The defaults above (scikit-learn's). */
void ll_tsne_config_init(LlTsneConfig *c);

typedef struct LlTsne LlTsne;

/* Prepares the affinities and the initial layout of n points of d
 * features (the data is copied where needed, not kept). c NULL: defaults. */
LlTsne *ll_tsne_new(const float *x, // (n, d)
                    int n, int d, const LlTsneConfig *c, GError **error);
/* The same, starting from a given layout (a previous run's embedding, so
 * the picture can animate across epochs) instead of c->init. Warm runs
 * usually want exaggeration_iters 0 and fewer iterations. */
LlTsne *ll_tsne_new_warm(const float *x, // (n, d)
                         int n, int d, const LlTsneConfig *c,
                         const float *init_embedding, // (n, 2)
                         GError **error);
void ll_tsne_free(LlTsne *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlTsne, ll_tsne_free)

/* Runs up to iters more iterations (never past max_iter); returns how
 * many ran (0 once finished). */
int ll_tsne_step(LlTsne *t, int iters);
/* The current layout, (n, 2), valid until the next step or free. */
const float *ll_tsne_embedding(const LlTsne *t);
/* Iterations done so far. */
int ll_tsne_iter(const LlTsne *t);
gboolean ll_tsne_finished(const LlTsne *t);
int ll_tsne_n(const LlTsne *t);
/* The method in use (auto resolved). */
LlTsneMethod ll_tsne_method(const LlTsne *t);
/* KL(P || Q) of the current layout with the true (unexaggerated) P, as
 * scikit-learn defines it: the sum over P's nonzeros of p log(p / q), with
 * the normaliser of Q exact (exact method) or the Barnes-Hut estimate
 * (Barnes-Hut). Costs about one iteration; cached per iteration. */
double ll_tsne_kl(LlTsne *t);

G_END_DECLS
