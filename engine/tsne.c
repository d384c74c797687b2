/* tsne.c: t-SNE with exact or Barnes-Hut gradients (see tsne.h).
 *
 * Layout of the work per iteration: the quadtree is rebuilt from Morton
 * codes (radix sort, then a compressed quadtree laid out in preorder with a
 * "skip" index per node, so the traversal is a forward scan with no stack);
 * one parallel pass then computes, per point, the repulsive sum by the tree
 * (points taken in Morton order, so neighbouring traversals share cache)
 * and the attractive sum over the point's row of P. Each point's sums are
 * written to its own slot and reduced serially in index order, which is
 * why the result does not depend on the number of threads.
 */
#include "tsne.h"

#include <math.h>
#include <string.h>

#include "host-linalg.h"
#include "pca.h"
#include "rng.h"

G_DEFINE_QUARK(ll - tsne - error - quark, ll_tsne_error)

/* Points per quadtree leaf: a leaf that is too close to summarise is
 * summed point by point, which is exact, so buckets only make it cheaper. */
#define LEAF_SIZE 8
/* Morton code depth: 16 bits per axis. */
#define TREE_DEPTH 16
/* Points per work item of the parallel loops. */
#define CHUNK 128

/* ---- a small persistent thread pool ------------------------------------ */

typedef struct {
  int n;             /* workers, the calling thread included */
  GThread **threads; /* n - 1 helpers */
  GMutex lock;
  GCond wake, done;
  guint generation; /* bumped for each job */
  int busy;         /* helpers still on the current job */
  gboolean quit;
  void (*fn)(void *ctx);
  void *ctx;
} Pool;

static gpointer pool_helper(gpointer data)
{
  Pool *p = data;
  guint seen = 0;
  g_mutex_lock(&p->lock);
  for (;;) {
    while (p->generation == seen && !p->quit)
      g_cond_wait(&p->wake, &p->lock);
    if (p->quit)
      break;
    seen = p->generation;
    void (*fn)(void *) = p->fn;
    void *ctx = p->ctx;
    g_mutex_unlock(&p->lock);
    fn(ctx);
    g_mutex_lock(&p->lock);
    if (--p->busy == 0)
      g_cond_signal(&p->done);
  }
  g_mutex_unlock(&p->lock);
  return NULL;
}

static Pool *pool_new(int n)
{
  Pool *p = g_new0(Pool, 1);
  g_mutex_init(&p->lock);
  g_cond_init(&p->wake);
  g_cond_init(&p->done);
  p->threads = g_new0(GThread *, MAX(n - 1, 1));
  p->n = 1;
  for (int i = 0; i < n - 1; i++) {
    p->threads[i] = g_thread_try_new("ll-tsne", pool_helper, p, NULL);
    if (!p->threads[i])
      break; /* fewer helpers is slower, not wrong */
    p->n++;
  }
  return p;
}

static void pool_free(Pool *p)
{
  if (!p)
    return;
  g_mutex_lock(&p->lock);
  p->quit = TRUE;
  g_cond_broadcast(&p->wake);
  g_mutex_unlock(&p->lock);
  for (int i = 0; i < p->n - 1; i++)
    g_thread_join(p->threads[i]);
  g_free(p->threads);
  g_mutex_clear(&p->lock);
  g_cond_clear(&p->wake);
  g_cond_clear(&p->done);
  g_free(p);
}

/* Runs fn(ctx) on every worker (the caller too) and waits for all. */
static void pool_run(Pool *p, void (*fn)(void *), void *ctx)
{
  if (p->n == 1) {
    fn(ctx);
    return;
  }
  g_mutex_lock(&p->lock);
  p->fn = fn;
  p->ctx = ctx;
  p->busy = p->n - 1;
  p->generation++;
  g_cond_broadcast(&p->wake);
  g_mutex_unlock(&p->lock);
  fn(ctx);
  g_mutex_lock(&p->lock);
  while (p->busy > 0)
    g_cond_wait(&p->done, &p->lock);
  g_mutex_unlock(&p->lock);
}

typedef void (*RangeFn)(void *arg, int lo, int hi);

typedef struct {
  RangeFn fn;
  void *arg;
  int n, chunk;
  gint next; /* next chunk to hand out */
} ForJob;

static void for_worker(void *ctx)
{
  ForJob *j = ctx;
  for (;;) {
    int c = g_atomic_int_add(&j->next, 1);
    if ((gint64)c * j->chunk >= j->n)
      break;
    int lo = c * j->chunk;
    j->fn(j->arg, lo, MIN(lo + j->chunk, j->n));
  }
}

/* fn over [0, n) in chunks, dynamically shared among the workers. */
static void parallel_for(Pool *p, int n, int chunk, RangeFn fn, void *arg)
{
  ForJob j = {.fn = fn, .arg = arg, .n = n, .chunk = MAX(chunk, 1), .next = 0};
  pool_run(p, for_worker, &j);
}

/* ---- the state ----------------------------------------------------------- */

typedef struct {
  float cx, cy; /* centre of mass */
  float count;  /* points below */
  float w2;     /* squared side of the cell */
  int skip;     /* the node after this subtree in preorder */
  int first;    /* leaves: first point, in Morton order */
  int npts;     /* leaves: number of points; 0 for inner nodes */
  int pad;
} Node;

struct LlTsne {
  int n;
  LlTsneConfig c;
  LlTsneMethod method;
  double lr;
  int iter;
  Pool *pool;

  /* P: symmetric, CSR, summing to 1 */
  int *prow;   // (n + 1)
  int *pcol;   // (nnz)
  float *pval; // (nnz)

  float *y;      // (n, 2)
  float *update; // (n, 2)
  float *gains;  // (n, 2)
  float *grad;   // (n, 2)
  float *attr;   // (n, 2) sum_j p_ij w_ij (y_i - y_j)
  float *rep;    // (n, 2) sum_j w_ij^2 (y_i - y_j), w = 1 / (1 + |y_i - y_j|^2)
  double *zrow;  // (n) sum_j w_ij
  double *klrow; // (n) sum_j p_ij (log p_ij - log w_ij)

  /* the quadtree, rebuilt per evaluation */
  uint32_t *code, *code_tmp; // (n)
  int *order, *order_tmp;    // (n) point index by Morton rank
  float *ys;                 // (n, 2) positions in Morton order
  Node *nodes;               // (2 n) at most
  int n_nodes;
  float side;

  int kl_iter;
  double kl;
};

void ll_tsne_config_init(LlTsneConfig *c)
{
  *c = (LlTsneConfig){
      .perplexity = 30,
      .pca_dims = 50,
      .method = LL_TSNE_AUTO,
      .theta = 0.5,
      .learning_rate = 0,
      .early_exaggeration = 12,
      .exaggeration_iters = 250,
      .max_iter = 1000,
      .seed = 0,
      .init = LL_TSNE_INIT_PCA,
      .threads = 0,
  };
}

/* ---- input affinities ---------------------------------------------------- */

typedef struct {
  const float *x; // (n, d)
  const float *norms;
  const float *block; // (rows, n): -2 x_i . x_j for rows r0..r0+rows
  int n, d, k, r0;
  int *nbr;    // (n, k)
  float *dist; // (n, k) squared distances, ascending
} KnnJob;

static int cmp_dist_idx(const void *pa, const void *pb, void *ud)
{
  const float *dist = ud;
  int a = *(const int *)pa, b = *(const int *)pb;
  if (dist[a] != dist[b])
    return dist[a] < dist[b] ? -1 : 1;
  return a - b;
}

/* Rows [lo, hi) of the current block: the k smallest distances by a
 * max-heap, then recomputed directly (the GEMM form loses digits to
 * cancellation) and sorted. */
static void knn_rows(void *arg, int lo, int hi)
{
  KnnJob *j = arg;
  int n = j->n, k = j->k, d = j->d;
  float *hd = g_new(float, k);
  int *hi_ = g_new(int, k);
  int *perm = g_new(int, k);
  float *exact = g_new(float, k);
  for (int r = lo; r < hi; r++) {
    int i = j->r0 + r;
    const float *row = j->block + (size_t)r * n;
    float ni = j->norms[i];
    int size = 0;
    for (int c = 0; c < n; c++) {
      if (c == i)
        continue;
      float dc = ni + j->norms[c] + row[c];
      if (size < k) {
        /* sift up */
        int s = size++;
        while (s > 0) {
          int parent = (s - 1) / 2;
          if (hd[parent] >= dc)
            break;
          hd[s] = hd[parent];
          hi_[s] = hi_[parent];
          s = parent;
        }
        hd[s] = dc;
        hi_[s] = c;
      } else if (dc < hd[0]) {
        /* replace the largest, sift down */
        int s = 0;
        for (;;) {
          int l = 2 * s + 1, m = s;
          float mv = dc;
          if (l < k && hd[l] > mv) {
            m = l;
            mv = hd[l];
          }
          if (l + 1 < k && hd[l + 1] > mv)
            m = l + 1;
          if (m == s)
            break;
          hd[s] = hd[m];
          hi_[s] = hi_[m];
          s = m;
        }
        hd[s] = dc;
        hi_[s] = c;
      }
    }
    const float *xi = j->x + (size_t)i * d;
    for (int a = 0; a < k; a++) {
      const float *xc = j->x + (size_t)hi_[a] * d;
      double s = 0;
      for (int f = 0; f < d; f++) {
        double t = (double)xi[f] - xc[f];
        s += t * t;
      }
      exact[a] = (float)s;
      perm[a] = a;
    }
    g_qsort_with_data(perm, k, sizeof(int), cmp_dist_idx, exact);
    for (int a = 0; a < k; a++) {
      j->nbr[(size_t)i * k + a] = hi_[perm[a]];
      j->dist[(size_t)i * k + a] = exact[perm[a]];
    }
  }
  g_free(hd);
  g_free(hi_);
  g_free(perm);
  g_free(exact);
}

/* Exact k nearest neighbours of every point (squared euclidean), by
 * blocks of GEMM distances (OpenBLAS threads the GEMM; our workers share
 * the selection). */
static void knn(Pool *pool, const float *x, int n, int d, int k, int *nbr, float *dist)
{
  float *norms = g_new(float, n);
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int f = 0; f < d; f++)
      s += (double)x[(size_t)i * d + f] * x[(size_t)i * d + f];
    norms[i] = (float)s;
  }
  int rows = CLAMP((1 << 23) / n, 16, 2048);
  float *block = g_new(float, (size_t)rows *n);
  KnnJob j = {
      .x = x, .norms = norms, .block = block, .n = n, .d = d, .k = k, .nbr = nbr, .dist = dist};
  for (int r0 = 0; r0 < n; r0 += rows) {
    int m = MIN(rows, n - r0);
    ll_host_sgemm(false, true, m, n, d, -2.0f, x + (size_t)r0 * d, d, x, d, 0.0f, block, n);
    j.r0 = r0;
    parallel_for(pool, m, 16, knn_rows, &j);
  }
  g_free(block);
  g_free(norms);
}

typedef struct {
  const float *dist; // (n, k) ascending
  float *p;          // (n, k) conditional p_{j|i}
  int k;
  double perplexity;
} SigmaJob;

/* Per point, the Gaussian precision beta whose conditional distribution
 * over the neighbours has entropy log(perplexity), by bisection (as
 * scikit-learn's _binary_search_perplexity: start at 1, double or halve
 * until bracketed, 100 steps at most, tolerance 1e-5 nats). Distances are
 * shifted by the smallest, which changes nothing but avoids underflow. */
static void sigma_rows(void *arg, int lo, int hi)
{
  SigmaJob *j = arg;
  int k = j->k;
  double target = log(j->perplexity);
  for (int i = lo; i < hi; i++) {
    const float *d2 = j->dist + (size_t)i * k;
    float *p = j->p + (size_t)i * k;
    double dmin = d2[0];
    double beta = 1, bmin = -INFINITY, bmax = INFINITY, sum = 1;
    for (int step = 0; step < 100; step++) {
      double sdp = 0;
      sum = 0;
      for (int a = 0; a < k; a++) {
        double dd = d2[a] - dmin;
        double e = exp(-dd * beta);
        sum += e;
        sdp += dd * e;
      }
      double entropy = log(sum) + beta * sdp / sum;
      double diff = entropy - target;
      if (fabs(diff) <= 1e-5)
        break;
      if (diff > 0) {
        bmin = beta;
        beta = isinf(bmax) ? beta * 2 : (beta + bmax) / 2;
      } else {
        bmax = beta;
        beta = isinf(bmin) ? beta / 2 : (beta + bmin) / 2;
      }
    }
    sum = 0;
    for (int a = 0; a < k; a++)
      sum += exp(-(d2[a] - dmin) * beta);
    for (int a = 0; a < k; a++)
      p[a] = (float)(exp(-(d2[a] - dmin) * beta) / sum);
  }
}

typedef struct {
  int col;
  float val;
} Entry;

static int cmp_entry(const void *a, const void *b)
{
  return ((const Entry *)a)->col - ((const Entry *)b)->col;
}

/* P = (C + C^T) / sum, with C the conditional rows (n, k) over nbr. */
static void symmetrize(LlTsne *t, const int *nbr, const float *cp, int k)
{
  int n = t->n;
  size_t nk = (size_t)n * k;
  /* C with each row sorted by column */
  Entry *c = g_new(Entry, nk);
  for (size_t e = 0; e < nk; e++)
    c[e] = (Entry){nbr[e], cp[e]};
  for (int i = 0; i < n; i++)
    qsort(c + (size_t)i * k, k, sizeof(Entry), cmp_entry);
  /* C^T by counting: rows come out sorted because i ascends */
  int *trow = g_new0(int, n + 1);
  for (size_t e = 0; e < nk; e++)
    trow[c[e].col + 1]++;
  for (int i = 0; i < n; i++)
    trow[i + 1] += trow[i];
  Entry *ct = g_new(Entry, nk);
  int *fill = g_memdup2(trow, sizeof(int) * n);
  for (int i = 0; i < n; i++)
    for (int a = 0; a < k; a++) {
      const Entry *e = &c[(size_t)i * k + a];
      ct[fill[e->col]++] = (Entry){i, e->val};
    }
  g_free(fill);
  /* merge the sorted rows of C and C^T: first count, then fill */
  t->prow = g_new(int, n + 1);
  t->prow[0] = 0;
  for (int pass = 0; pass < 2; pass++) {
    int nnz = 0;
    for (int i = 0; i < n; i++) {
      const Entry *a = c + (size_t)i * k, *ae = a + k;
      const Entry *b = ct + trow[i], *be = ct + trow[i + 1];
      while (a < ae || b < be) {
        int col;
        float v;
        if (b == be || (a < ae && a->col < b->col)) {
          col = a->col;
          v = a->val;
          a++;
        } else if (a == ae || b->col < a->col) {
          col = b->col;
          v = b->val;
          b++;
        } else {
          col = a->col;
          v = a->val + b->val;
          a++;
          b++;
        }
        if (pass == 1) {
          t->pcol[nnz] = col;
          t->pval[nnz] = v;
        }
        nnz++;
      }
      if (pass == 0)
        t->prow[i + 1] = nnz;
    }
    if (pass == 0) {
      t->pcol = g_new(int, nnz);
      t->pval = g_new(float, nnz);
    }
  }
  double total = 0;
  int nnz = t->prow[n];
  for (int e = 0; e < nnz; e++)
    total += t->pval[e];
  for (int e = 0; e < nnz; e++)
    t->pval[e] = (float)(t->pval[e] / MAX(total, 1e-300));
  g_free(c);
  g_free(ct);
  g_free(trow);
}

/* ---- the quadtree -------------------------------------------------------- */

/* Spreads the 16 low bits of v to the even bit positions. */
static inline uint32_t spread_bits(uint32_t v)
{
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  v = (v | (v << 1)) & 0x55555555;
  return v;
}

/* Builds the node for sorted points [lo, hi) whose cell is at depth >=
 * level; returns its index. */
static int build_node(LlTsne *t, int lo, int hi, int level)
{
  const uint32_t *code = t->code;
  /* all points may share a deeper cell: go straight to it */
  uint32_t diff = code[lo] ^ code[hi - 1];
  int common = diff ? __builtin_clz(diff) / 2 : TREE_DEPTH;
  if (common > level)
    level = common;
  int id = t->n_nodes++;
  float w = ldexpf(t->side, -level);
  double sx = 0, sy = 0;
  if (hi - lo <= LEAF_SIZE || level >= TREE_DEPTH) {
    for (int s = lo; s < hi; s++) {
      sx += t->ys[2 * s];
      sy += t->ys[2 * s + 1];
    }
    t->nodes[id].first = lo;
    t->nodes[id].npts = hi - lo;
  } else {
    int shift = 2 * (TREE_DEPTH - 1 - level);
    int a = lo;
    for (uint32_t q = 0; q < 4 && a < hi; q++) {
      /* the end of quadrant q: binary search, the codes being sorted */
      int l = a, r = hi;
      while (l < r) {
        int m = l + (r - l) / 2;
        if (((code[m] >> shift) & 3) <= q)
          l = m + 1;
        else
          r = m;
      }
      if (l > a) {
        int child = build_node(t, a, l, level + 1);
        sx += (double)t->nodes[child].cx * t->nodes[child].count;
        sy += (double)t->nodes[child].cy * t->nodes[child].count;
      }
      a = l;
    }
    t->nodes[id].first = lo;
    t->nodes[id].npts = 0;
  }
  Node *nd = &t->nodes[id];
  nd->count = (float)(hi - lo);
  nd->cx = (float)(sx / (hi - lo));
  nd->cy = (float)(sy / (hi - lo));
  nd->w2 = w * w;
  nd->skip = t->n_nodes;
  return id;
}

static void build_tree(LlTsne *t)
{
  int n = t->n;
  const float *y = t->y;
  float minx = y[0], maxx = y[0], miny = y[1], maxy = y[1];
  for (int i = 1; i < n; i++) {
    minx = MIN(minx, y[2 * i]);
    maxx = MAX(maxx, y[2 * i]);
    miny = MIN(miny, y[2 * i + 1]);
    maxy = MAX(maxy, y[2 * i + 1]);
  }
  float side = MAX(maxx - minx, maxy - miny);
  side = side > 0 ? side * (1.0f + 1e-5f) : 1e-6f;
  t->side = side;
  float scale = 65536.0f / side;
  for (int i = 0; i < n; i++) {
    uint32_t qx = (uint32_t)MIN((y[2 * i] - minx) * scale, 65535.0f);
    uint32_t qy = (uint32_t)MIN((y[2 * i + 1] - miny) * scale, 65535.0f);
    t->code[i] = spread_bits(qx) | (spread_bits(qy) << 1);
    t->order[i] = i;
  }
  /* LSD radix sort of (code, index), 4 passes of 8 bits; stable */
  uint32_t *ck = t->code, *ck2 = t->code_tmp;
  int *ov = t->order, *ov2 = t->order_tmp;
  for (int pass = 0; pass < 4; pass++) {
    int shift = 8 * pass;
    int count[257] = {0};
    for (int i = 0; i < n; i++)
      count[((ck[i] >> shift) & 255) + 1]++;
    for (int b = 0; b < 256; b++)
      count[b + 1] += count[b];
    for (int i = 0; i < n; i++) {
      int dst = count[(ck[i] >> shift) & 255]++;
      ck2[dst] = ck[i];
      ov2[dst] = ov[i];
    }
    uint32_t *tk = ck;
    ck = ck2;
    ck2 = tk;
    int *to = ov;
    ov = ov2;
    ov2 = to;
  }
  /* an even number of passes leaves the result in t->code / t->order */
  for (int s = 0; s < n; s++) {
    t->ys[2 * s] = y[2 * t->order[s]];
    t->ys[2 * s + 1] = y[2 * t->order[s] + 1];
  }
  t->n_nodes = 0;
  build_node(t, 0, n, 0);
}

/* ---- the gradient -------------------------------------------------------- */

typedef struct {
  LlTsne *t;
  gboolean want_kl;
} EvalJob;

/* Attractive sum (and KL terms) over point i's row of P. */
static inline void attractive(LlTsne *t, int i, gboolean want_kl)
{
  const float *y = t->y;
  float yi0 = y[2 * i], yi1 = y[2 * i + 1];
  float fx = 0, fy = 0;
  double kl = 0;
  for (int e = t->prow[i]; e < t->prow[i + 1]; e++) {
    int j = t->pcol[e];
    float dx = yi0 - y[2 * j], dy = yi1 - y[2 * j + 1];
    float w = 1.0f / (1.0f + dx * dx + dy * dy);
    float pw = t->pval[e] * w;
    fx += pw * dx;
    fy += pw * dy;
    if (want_kl && t->pval[e] > 0) /* p log p -> 0 as p -> 0 (exp underflows in dense P) */
      kl += (double)t->pval[e] * (log((double)t->pval[e]) - log((double)w));
  }
  t->attr[2 * i] = fx;
  t->attr[2 * i + 1] = fy;
  if (want_kl)
    t->klrow[i] = kl;
}

static void eval_bh(void *arg, int lo, int hi)
{
  EvalJob *job = arg;
  LlTsne *t = job->t;
  const Node *nodes = t->nodes;
  const float *ys = t->ys;
  int n_nodes = t->n_nodes;
  float theta2 = (float)(t->c.theta * t->c.theta);
  for (int s = lo; s < hi; s++) {
    float px = ys[2 * s], py = ys[2 * s + 1];
    float fx = 0, fy = 0, z = 0;
    int k = 0;
    while (k < n_nodes) {
      const Node *nd = &nodes[k];
      float dx = px - nd->cx, dy = py - nd->cy;
      float d2 = dx * dx + dy * dy;
      if (nd->w2 < theta2 * d2) {
        /* far enough: the cell acts as one mass at its centre */
        float w = 1.0f / (1.0f + d2);
        float cw = nd->count * w;
        z += cw;
        cw *= w;
        fx += cw * dx;
        fy += cw * dy;
        k = nd->skip;
      } else if (nd->npts) {
        for (int q = nd->first; q < nd->first + nd->npts; q++) {
          if (q == s)
            continue;
          float ex = px - ys[2 * q], ey = py - ys[2 * q + 1];
          float w = 1.0f / (1.0f + ex * ex + ey * ey);
          z += w;
          w *= w;
          fx += w * ex;
          fy += w * ey;
        }
        k = nd->skip;
      } else {
        k++;
      }
    }
    int i = t->order[s];
    t->rep[2 * i] = fx;
    t->rep[2 * i + 1] = fy;
    t->zrow[i] = z;
    attractive(t, i, job->want_kl);
  }
}

static void eval_exact(void *arg, int lo, int hi)
{
  EvalJob *job = arg;
  LlTsne *t = job->t;
  const float *y = t->y;
  int n = t->n;
  for (int i = lo; i < hi; i++) {
    float px = y[2 * i], py = y[2 * i + 1];
    float fx = 0, fy = 0;
    double z = 0;
    for (int j = 0; j < n; j++) {
      float dx = px - y[2 * j], dy = py - y[2 * j + 1];
      float w = 1.0f / (1.0f + dx * dx + dy * dy);
      z += w;
      w *= w;
      fx += w * dx;
      fy += w * dy;
    }
    t->rep[2 * i] = fx;
    t->rep[2 * i + 1] = fy;
    t->zrow[i] = z - 1.0; /* the j = i term */
    attractive(t, i, job->want_kl);
  }
}

/* grad = 4 (exaggeration * attr - rep / Z); returns KL when want_kl. */
static double evaluate(LlTsne *t, double exaggeration, gboolean want_kl)
{
  int n = t->n;
  EvalJob job = {t, want_kl};
  if (t->method == LL_TSNE_BARNES_HUT) {
    build_tree(t);
    parallel_for(t->pool, n, CHUNK, eval_bh, &job);
  } else {
    parallel_for(t->pool, n, CHUNK / 4, eval_exact, &job);
  }
  double z = 0;
  for (int i = 0; i < n; i++)
    z += t->zrow[i];
  z = MAX(z, 1e-300);
  float a = (float)(4 * exaggeration), r = (float)(4 / z);
  for (int i = 0; i < 2 * n; i++)
    t->grad[i] = a * t->attr[i] - r * t->rep[i];
  if (!want_kl)
    return 0;
  double kl = 0, psum = 0;
  for (int i = 0; i < n; i++)
    kl += t->klrow[i];
  for (int e = 0; e < t->prow[n]; e++)
    psum += t->pval[e];
  return kl + psum * log(z);
}

/* ---- public API ---------------------------------------------------------- */

static gboolean check_config(const LlTsneConfig *c, int n, GError **error)
{
#define BAD(...)                                                                                   \
  do {                                                                                             \
    g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_CONFIG, __VA_ARGS__);                          \
    return FALSE;                                                                                  \
  } while (0)
  if (!(c->perplexity >= 1) || !(c->perplexity < n - 1))
    BAD("t-SNE: perplexity %g is out of range for %d points (needs 1 <= perplexity < %d)",
        c->perplexity, n, n - 1);
  if (!(c->theta >= 0 && c->theta < 1))
    BAD("t-SNE: theta %g is out of range (needs 0 <= theta < 1)", c->theta);
  if (!(c->learning_rate >= 0) || !isfinite(c->learning_rate))
    BAD("t-SNE: learning_rate %g is out of range (0 = auto, else > 0)", c->learning_rate);
  if (!(c->early_exaggeration >= 1) || !isfinite(c->early_exaggeration))
    BAD("t-SNE: early_exaggeration %g is out of range (needs >= 1)", c->early_exaggeration);
  if (c->exaggeration_iters < 0)
    BAD("t-SNE: exaggeration_iters %d is negative", c->exaggeration_iters);
  if (c->max_iter < 0)
    BAD("t-SNE: max_iter %d is negative", c->max_iter);
  if (c->pca_dims < 0)
    BAD("t-SNE: pca_dims %d is negative", c->pca_dims);
  if (c->method != LL_TSNE_AUTO && c->method != LL_TSNE_EXACT && c->method != LL_TSNE_BARNES_HUT)
    BAD("t-SNE: unknown method %d", (int)c->method);
  if (c->init != LL_TSNE_INIT_PCA && c->init != LL_TSNE_INIT_RANDOM)
    BAD("t-SNE: unknown init %d", (int)c->init);
#undef BAD
  return TRUE;
}

static void random_init(float *y, int n, uint64_t seed)
{
  LlRng rng;
  ll_rng_seed(&rng, seed);
  for (int i = 0; i < 2 * n; i++)
    y[i] = (float)(1e-4 * ll_rng_normal(&rng));
}

/* The data's first two principal components, scaled so that the first has
 * standard deviation 1e-4 (scikit-learn's init="pca"). pcs: the data's
 * leading components already computed (n, npc), or NULL. */
static gboolean pca_init(LlTsne *t, const float *x, int d, const float *pcs, int npc,
                         GError **error)
{
  int n = t->n;
  if (pcs && npc >= 2) {
    for (int i = 0; i < n; i++) {
      t->y[2 * i] = pcs[(size_t)i * npc];
      t->y[2 * i + 1] = pcs[(size_t)i * npc + 1];
    }
  } else if (d >= 2) {
    if (!ll_pca(x, n, d, 2, t->y, NULL, error))
      return FALSE;
  } else {
    /* one feature has no second component: start at random */
    random_init(t->y, n, t->c.seed);
    return TRUE;
  }
  double mean = 0, var = 0;
  for (int i = 0; i < n; i++)
    mean += t->y[2 * i];
  mean /= n;
  for (int i = 0; i < n; i++)
    var += (t->y[2 * i] - mean) * (t->y[2 * i] - mean);
  double sd = sqrt(var / n);
  if (!(sd > 0)) {
    random_init(t->y, n, t->c.seed);
    return TRUE;
  }
  float s = (float)(1e-4 / sd);
  for (int i = 0; i < 2 * n; i++)
    t->y[i] *= s;
  return TRUE;
}

static LlTsne *tsne_new(const float *x, int n, int d, const LlTsneConfig *config, const float *init,
                        GError **error)
{
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);
  LlTsneConfig c;
  if (config)
    c = *config;
  else
    ll_tsne_config_init(&c);
  if (x == NULL || n < 4 || d < 1) {
    g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT,
                "t-SNE: needs at least 4 points of at least 1 feature (got %d points of %d)", n, d);
    return NULL;
  }
  if (!check_config(&c, n, error))
    return NULL;
  size_t nd = (size_t)n * d;
  for (size_t i = 0; i < nd; i++) {
    if (!isfinite(x[i])) {
      g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT,
                  "t-SNE: point %zu, feature %zu is not a finite number", i / d, i % d);
      return NULL;
    }
  }
  if (init) {
    for (int i = 0; i < 2 * n; i++) {
      if (!isfinite(init[i])) {
        g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT,
                    "t-SNE: the initial layout's point %d is not finite", i / 2);
        return NULL;
      }
    }
  }

  LlTsne *t = g_new0(LlTsne, 1);
  t->n = n;
  t->c = c;
  t->method = c.method;
  if (t->method == LL_TSNE_AUTO)
    t->method = n <= LL_TSNE_EXACT_MAX_N ? LL_TSNE_EXACT : LL_TSNE_BARNES_HUT;
  t->lr = c.learning_rate > 0 ? c.learning_rate : MAX(n / c.early_exaggeration / 4, 50.0);
  t->kl_iter = -1;
  int threads = c.threads > 0 ? c.threads : (int)g_get_num_processors();
  t->pool = pool_new(CLAMP(threads, 1, 256));

  /* reduce the dimension first */
  const float *data = x;
  int dd = d;
  float *reduced = NULL;
  if (c.pca_dims > 0 && c.pca_dims < d && c.pca_dims <= n) {
    reduced = g_new(float, (size_t)n *c.pca_dims);
    if (!ll_pca(x, n, d, c.pca_dims, reduced, NULL, error)) {
      g_free(reduced);
      ll_tsne_free(t);
      return NULL;
    }
    data = reduced;
    dd = c.pca_dims;
  }

  /* affinities */
  int k = t->method == LL_TSNE_EXACT ? n - 1 : MIN(n - 1, (int)(3 * c.perplexity + 1));
  int *nbr = g_new(int, (size_t)n *k);
  float *dist = g_new(float, (size_t)n *k);
  float *cp = g_new(float, (size_t)n *k);
  knn(t->pool, data, n, dd, k, nbr, dist);
  SigmaJob sj = {.dist = dist, .p = cp, .k = k, .perplexity = c.perplexity};
  parallel_for(t->pool, n, 64, sigma_rows, &sj);
  symmetrize(t, nbr, cp, k);
  g_free(nbr);
  g_free(dist);
  g_free(cp);

  t->y = g_new(float, 2 * (size_t)n);
  gboolean ok = TRUE;
  if (init)
    memcpy(t->y, init, sizeof(float) * 2 * n);
  else if (c.init == LL_TSNE_INIT_RANDOM)
    random_init(t->y, n, c.seed);
  else
    ok = pca_init(t, data, dd, reduced, reduced ? dd : 0, error);
  g_free(reduced);
  if (!ok) {
    ll_tsne_free(t);
    return NULL;
  }

  t->update = g_new0(float, 2 * (size_t)n);
  t->gains = g_new(float, 2 * (size_t)n);
  for (int i = 0; i < 2 * n; i++)
    t->gains[i] = 1;
  t->grad = g_new(float, 2 * (size_t)n);
  t->attr = g_new(float, 2 * (size_t)n);
  t->rep = g_new(float, 2 * (size_t)n);
  t->zrow = g_new(double, n);
  t->klrow = g_new(double, n);
  if (t->method == LL_TSNE_BARNES_HUT) {
    t->code = g_new(uint32_t, n);
    t->code_tmp = g_new(uint32_t, n);
    t->order = g_new(int, n);
    t->order_tmp = g_new(int, n);
    t->ys = g_new(float, 2 * (size_t)n);
    t->nodes = g_new(Node, 2 * (size_t)n);
  }
  return t;
}

LlTsne *ll_tsne_new(const float *x, int n, int d, const LlTsneConfig *c, GError **error)
{
  return tsne_new(x, n, d, c, NULL, error);
}

LlTsne *ll_tsne_new_warm(const float *x, int n, int d, const LlTsneConfig *c,
                         const float *init_embedding, GError **error)
{
  if (init_embedding == NULL) {
    g_set_error(error, LL_TSNE_ERROR, LL_TSNE_ERROR_INPUT, "t-SNE: no initial layout given");
    return NULL;
  }
  return tsne_new(x, n, d, c, init_embedding, error);
}

void ll_tsne_free(LlTsne *t)
{
  if (!t)
    return;
  pool_free(t->pool);
  g_free(t->prow);
  g_free(t->pcol);
  g_free(t->pval);
  g_free(t->y);
  g_free(t->update);
  g_free(t->gains);
  g_free(t->grad);
  g_free(t->attr);
  g_free(t->rep);
  g_free(t->zrow);
  g_free(t->klrow);
  g_free(t->code);
  g_free(t->code_tmp);
  g_free(t->order);
  g_free(t->order_tmp);
  g_free(t->ys);
  g_free(t->nodes);
  g_free(t);
}

int ll_tsne_step(LlTsne *t, int iters)
{
  g_return_val_if_fail(t != NULL, 0);
  int done = 0, n2 = 2 * t->n;
  float lr = (float)t->lr;
  while (done < iters && t->iter < t->c.max_iter) {
    gboolean exaggerated = t->iter < t->c.exaggeration_iters;
    if (t->iter > 0 && t->iter == t->c.exaggeration_iters) {
      /* scikit-learn restarts its optimiser for the second phase */
      memset(t->update, 0, sizeof(float) * n2);
      for (int i = 0; i < n2; i++)
        t->gains[i] = 1;
    }
    evaluate(t, exaggerated ? t->c.early_exaggeration : 1.0, FALSE);
    float momentum = exaggerated ? 0.5f : 0.8f;
    float *y = t->y, *u = t->update, *g = t->gains, *gr = t->grad;
    for (int i = 0; i < n2; i++) {
      float gi = gr[i];
      float gain = (u[i] * gi < 0) ? g[i] + 0.2f : g[i] * 0.8f;
      gain = MAX(gain, 0.01f);
      g[i] = gain;
      u[i] = momentum * u[i] - lr * gain * gi;
      y[i] += u[i];
    }
    t->iter++;
    done++;
  }
  return done;
}

const float *ll_tsne_embedding(const LlTsne *t) { return t->y; }
int ll_tsne_iter(const LlTsne *t) { return t->iter; }
gboolean ll_tsne_finished(const LlTsne *t) { return t->iter >= t->c.max_iter; }
int ll_tsne_n(const LlTsne *t) { return t->n; }
LlTsneMethod ll_tsne_method(const LlTsne *t) { return t->method; }

double ll_tsne_kl(LlTsne *t)
{
  g_return_val_if_fail(t != NULL, NAN);
  if (t->kl_iter != t->iter) {
    t->kl = evaluate(t, 1.0, TRUE);
    t->kl_iter = t->iter;
  }
  return t->kl;
}
