/* cpu-conv.c: 2-D convolution (Conv1d runs it with h = kh = 1) as an
 * implicit GEMM over "wide" rows, threaded over the batch.
 *
 * Why not im2col + SGEMM: the models people train here have few channels (1
 * to 32) on small images, so one sample's GEMM is tiny (16 x 576 x 72 on the
 * tiny CNN) and im2col's copy (kh * kw times the input) costs as much as the
 * arithmetic; for strided convs the copy is a scalar gather.
 *
 * The idea: copy one sample's (padded) input once into "phase planes": for
 * stride (sh, sw) the padded grid splits into sh * sw planes of the rows and
 * columns with the same remainders (one plane when the stride is 1), each hq
 * x wq. Then every (input channel, kernel tap) row of the im2col matrix is the
 * plane it reads from, shifted by a constant offset, if the output is indexed
 * "wide" as p = oy * wq + ox: ox runs to wq instead of ow, and the columns ox
 * >= ow are garbage that is computed and dropped (a few per cent on these
 * shapes). So the product Y(oc, p) = W(oc, r) X(r, p) needs no copy of X: row
 * r is a pointer, and the micro-kernels below run over contiguous floats,
 * vectorised along p, with 4 output channels x 24 positions held in registers.
 * With stride 1 and no padding the planes are the input itself (planes_of).
 *
 * - forward: Y = W X over the input's phase planes, then the wide rows are
 *   compacted into y.
 * - backward filter: dW(oc, r) += dY(oc, p) X(r, p)^T with dY made wide
 *   (zeros in the garbage columns), accumulated in vector lanes over a chunk
 *   of samples; one partial per chunk, summed in chunk order (deterministic
 *   for any thread count).
 * - backward data: the transposed conv. The padded dx grid is split into the
 *   same phases; phase (a, b) receives the taps with (ki dh) % sh == a and (kj
 *   dw) % sw == b, and within a phase it is a stride-1 correlation of dy
 *   (padded by the largest tap shift) with those taps: the same kernel again,
 *   with rows (oc, tap). The phase outputs are added back into dx.
 *
 * Memory: per-thread scratch from cpu-threads.h (planes of one sample, one
 * wide output), no workspace in the graph's arena. */
#include "cpu-ops.h"

#include <string.h>

#include "cpu-simd.h"
#include "cpu-threads.h"

enum { CHUNK = 8 }; /* wide positions are processed in multiples of this */

static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
static inline int round_up(int a, int b) { return ceil_div(a, b) * b; }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Rows here are a few dozen floats: vector moves beat a call to memcpy.
 * From 8 floats on, the last vector overlaps the one before instead of a
 * scalar tail. */
LL_INLINE void copy_row(float *restrict dst, const float *restrict src, int n)
{
  if (n < 8) {
    for (int i = 0; i < n; i++)
      dst[i] = src[i];
    return;
  }
  int i = 0;
  for (; i + 8 < n; i += 8)
    ll_st8(dst + i, ll_ld8(src + i));
  ll_st8(dst + n - 8, ll_ld8(src + n - 8));
}

size_t ll_cpu_conv2d_workspace(const LlConvGeom *g)
{
  (void)g;
  return 0; /* the kernels use the pool's per-thread scratch */
}

/* ---- micro-kernels ------------------------------------------------------------------- */

/* Packs the (m, k) row-major matrix a for gemm_rows_nn: blocks of 4 rows
 * interleaved ([r][4]), then the m % 4 remaining rows as they are. */
static void pack_rows(const float *a, size_t lda, int m, int k, float *ap)
{
  int m4 = m & ~3;
  for (int mb = 0; mb < m4; mb += 4)
    for (int r = 0; r < k; r++)
      for (int i = 0; i < 4; i++)
        ap[(size_t)mb * k + (size_t)r * 4 + i] = a[(size_t)(mb + i) * lda + r];
  for (int mi = m4; mi < m; mi++)
    for (int r = 0; r < k; r++)
      ap[(size_t)mi * k + r] = a[(size_t)mi * lda + r];
}

/* One MR x (8 NV) block of gemm_rows_nn at rows mb, positions p. */
LL_INLINE void nn_block(int MR, int NV, const float *a, int k, const float *x, const int *off,
                        int p, float *o, size_t ldo)
{
  ll_v8 acc[4][4];
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++)
      acc[i][v] = (ll_v8){0};
  for (int r = 0; r < k; r++) {
    const float *xr = x + off[r] + p;
    ll_v8 xv[4];
    for (int v = 0; v < NV; v++)
      xv[v] = ll_ld8(xr + 8 * v);
    const float *ar = a + (size_t)r * MR;
    for (int i = 0; i < MR; i++) {
      float ai = ar[i];
      for (int v = 0; v < NV; v++)
        acc[i][v] += xv[v] * ai;
    }
  }
  for (int i = 0; i < MR; i++)
    for (int v = 0; v < NV; v++)
      ll_st8(o + i * ldo + p + 8 * v, acc[i][v]);
}

/* out(m, 0:np) = A(m, k) X(k, 0:np), where row r of X is x + off[r] (read
 * from x + off[r] to x + off[r] + np - 1); A packed by pack_rows; out rows
 * ldo apart; np a multiple of CHUNK. Blocks of 4 rows x 24 positions keep
 * 12 accumulators, 3 loads and a broadcast in AVX2's 16 registers. */
LL_CPU_CLONES
static void gemm_rows_nn(int m, int k, const float *ap, const float *x, const int *off, int np,
                         float *out, size_t ldo)
{
  int m4 = m & ~3;
  for (int mb = 0; mb < m4; mb += 4) {
    const float *a = ap + (size_t)mb * k;
    float *o = out + (size_t)mb * ldo;
    int p = 0;
    for (; p + 24 <= np; p += 24)
      nn_block(4, 3, a, k, x, off, p, o, ldo);
    if (np - p == 16)
      nn_block(4, 2, a, k, x, off, p, o, ldo);
    else if (np - p == 8)
      nn_block(4, 1, a, k, x, off, p, o, ldo);
  }
  for (int mi = m4; mi < m; mi++) {
    const float *a = ap + (size_t)mi * k;
    float *o = out + (size_t)mi * ldo;
    int p = 0;
    for (; p + 32 <= np; p += 32)
      nn_block(1, 4, a, k, x, off, p, o, ldo);
    for (; p < np; p += 8)
      nn_block(1, 1, a, k, x, off, p, o, ldo);
  }
}

/* One MR x NR block of gemm_rows_nt. */
LL_INLINE void nt_block(int MR, int NR, int mb, int rb, int k, const float *dy, size_t lddy,
                        const float *x, const int *off, int np, float *vacc)
{
  ll_v8 acc[4][3];
  const float *xr[3];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++)
      acc[i][j] = (ll_v8){0};
  for (int j = 0; j < NR; j++)
    xr[j] = x + off[rb + j];
  for (int p = 0; p < np; p += 8) {
    ll_v8 xv[3];
    for (int j = 0; j < NR; j++)
      xv[j] = ll_ld8(xr[j] + p);
    for (int i = 0; i < MR; i++) {
      ll_v8 d = ll_ld8(dy + (size_t)(mb + i) * lddy + p);
      for (int j = 0; j < NR; j++)
        acc[i][j] += d * xv[j];
    }
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) {
      float *v = vacc + ((size_t)(mb + i) * k + rb + j) * 8;
      ll_st8(v, ll_ld8(v) + acc[i][j]);
    }
}

/* vacc(m, k, 8 lanes) += the lane-wise products dY(m, 0:np) X(k, 0:np)^T,
 * where row r of X is x + off[r]; np a multiple of 8. */
LL_CPU_CLONES
static void gemm_rows_nt(int m, int k, const float *dy, size_t lddy, const float *x, const int *off,
                         int np, float *vacc)
{
  for (int mb = 0; mb < m; mb += 4) {
    int mr = imin(4, m - mb);
    for (int rb = 0; rb < k; rb += 3) {
      int nr = imin(3, k - rb);
#define NT_CASE(a, b)                                                                              \
  case (a)*4 + (b): nt_block(a, b, mb, rb, k, dy, lddy, x, off, np, vacc); break;
      switch (mr * 4 + nr) {
        NT_CASE(4, 3)
        NT_CASE(4, 2) NT_CASE(4, 1) NT_CASE(3, 3) NT_CASE(3, 2) NT_CASE(3, 1) NT_CASE(2, 3)
            NT_CASE(2, 2) NT_CASE(2, 1) NT_CASE(1, 3) NT_CASE(1, 2) NT_CASE(1, 1)
      }
#undef NT_CASE
    }
  }
}

/* ---- forward geometry: the input's phase planes ------------------------------------------ */

typedef struct {
  const LlConvGeom *g;
  int cg, ocg, k;      /* channels per group in and out; rows per group cg*kh*kw */
  int hq, wq;          /* one phase plane */
  size_t plane;        /* hq * wq */
  int np;              /* wide output positions oh * wq, rounded up to CHUNK */
  size_t plane_floats; /* the planes of one group of one sample, with read slack */
  bool direct;         /* stride 1, no padding: x itself is the plane (see planes_of) */
} Fwd;

static Fwd fwd_plan(const LlConvGeom *g, int *off /* (k) or NULL */)
{
  Fwd f = {.g = g, .cg = g->c / g->groups, .ocg = g->oc / g->groups};
  f.k = f.cg * g->kh * g->kw;
  f.hq = ceil_div(g->h + 2 * g->ph, g->sh);
  f.wq = ceil_div(g->w + 2 * g->pw, g->sw);
  f.plane = (size_t)f.hq * f.wq;
  f.np = round_up(g->oh * f.wq, CHUNK);
  int max_off = 0;
  for (int c = 0; c < f.cg; c++)
    for (int ki = 0; ki < g->kh; ki++)
      for (int kj = 0; kj < g->kw; kj++) {
        int ty = ki * g->dh, tx = kj * g->dw;
        int plane = (c * g->sh + ty % g->sh) * g->sw + tx % g->sw;
        int o = plane * (int)f.plane + ty / g->sh * f.wq + tx / g->sw;
        if (off)
          off[(c * g->kh + ki) * g->kw + kj] = o;
        max_off = imax(max_off, o);
      }
  f.plane_floats = (size_t)imax(f.cg * g->sh * g->sw * (int)f.plane, max_off + f.np);
  f.direct = g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
  return f;
}

/* planes = the phase planes of x (cg, h, w). Writes only the positions
 * that hold x: the caller zeroes the planes once, and the padding and slack
 * stay zero from sample to sample. */
LL_INLINE void fill_planes(const Fwd *f, const float *x, float *planes)
{
  const LlConvGeom *g = f->g;
  int sh = g->sh, sw = g->sw;
  int x0_first = (sw - g->pw % sw) % sw, j0_first = (x0_first + g->pw) / sw;
  for (int c = 0; c < f->cg; c++) {
    /* padded row yy = y + ph lies in row phase a, plane row i */
    int a = g->ph % sh, i = g->ph / sh;
    for (int y = 0; y < g->h; y++) {
      const float *xr = x + ((size_t)c * g->h + y) * g->w;
      float *pr = planes + (size_t)(c * sh + a) * sw * f->plane + (size_t)i * f->wq;
      if (sw == 1) {
        copy_row(pr + g->pw, xr, g->w);
      } else if (sw == 2) {
        /* input columns 2t go to phase pw & 1 at plane column t + pw / 2,
         * columns 2t + 1 to the other phase at t + (pw + 1) / 2 */
        float *pe = pr + (size_t)(g->pw & 1) * f->plane + g->pw / 2;
        float *po = pr + (size_t)((g->pw + 1) & 1) * f->plane + (g->pw + 1) / 2;
        int t = 0;
        for (; 2 * t + 16 <= g->w; t += 8) {
          ll_v8 lo = ll_ld8(xr + 2 * t), hi = ll_ld8(xr + 2 * t + 8);
          ll_st8(pe + t, ll_even8(lo, hi));
          ll_st8(po + t, ll_odd8(lo, hi));
        }
        for (; 2 * t < g->w; t++) {
          pe[t] = xr[2 * t];
          if (2 * t + 1 < g->w)
            po[t] = xr[2 * t + 1];
        }
      } else {
        /* column phase b takes the inputs xx = x0, x0 + sw, ... with
         * (xx + pw) % sw == b, from plane column (x0 + pw) / sw on */
        int x0 = x0_first, j0 = j0_first;
        for (int b = 0; b < sw; b++) {
          float *pb = pr + (size_t)b * f->plane + j0;
          for (int xx = x0, jj = 0; xx < g->w; xx += sw, jj++)
            pb[jj] = xr[xx];
          /* the next phase starts one input column later; when that wraps
           * to column 0, it lands one plane column earlier */
          if (++x0 == sw) {
            x0 = 0;
            j0--;
          }
        }
      }
      if (++a == sh) {
        a = 0;
        i++;
      }
    }
  }
}

/* The planes of group slice sg of x. With stride 1 and no padding they are
 * the slice itself, and the reads past its end (garbage positions only) fall
 * in the slices after it, so only the last slices of the batch, which have
 * fewer than plane_floats floats after their start, are copied into the
 * zeroed scratch. */
LL_INLINE const float *planes_of(const Fwd *f, const float *x, size_t sg, size_t n_slices,
                                 float *planes)
{
  const LlConvGeom *g = f->g;
  size_t slice = (size_t)f->cg * g->h * g->w;
  const float *xs = x + sg * slice;
  if (f->direct && (n_slices - sg) * slice >= f->plane_floats)
    return xs;
  fill_planes(f, xs, planes);
  return planes;
}

/* ---- forward ------------------------------------------------------------------------------ */

typedef struct {
  Fwd f;
  const float *x, *ap; /* ap: packed weights, one block of ocg * k per group */
  const int *off;
  float *y;
} FwdJob;

LL_CPU_CLONES
static void forward_range(void *arg, int chunk, int begin, int end)
{
  const FwdJob *j = arg;
  const Fwd *f = &j->f;
  const LlConvGeom *g = f->g;
  float *planes = ll_cpu_scratch(0, f->plane_floats);
  float *wide = ll_cpu_scratch(1, (size_t)f->ocg * f->np);
  if (!planes || !wide)
    return; /* recorded for take_error */
  size_t ys = (size_t)f->ocg * g->oh * g->ow;
  memset(planes, 0, f->plane_floats * sizeof *planes);
  for (int n = begin; n < end; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      size_t sg = (size_t)n * g->groups + grp;
      const float *pl = planes_of(f, j->x, sg, (size_t)g->n * g->groups, planes);
      gemm_rows_nn(f->ocg, f->k, j->ap + (size_t)grp * f->ocg * f->k, pl, j->off, f->np, wide,
                   (size_t)f->np);
      float *y = j->y + sg * ys;
      for (int o = 0; o < f->ocg; o++)
        for (int oy = 0; oy < g->oh; oy++)
          copy_row(y + ((size_t)o * g->oh + oy) * g->ow, wide + (size_t)o * f->np + oy * f->wq,
                   g->ow);
    }
}

void ll_cpu_conv2d_forward(const LlConvGeom *g, const float *x, const float *w, float *y, float *ws)
{
  (void)ws;
  Fwd f = fwd_plan(g, NULL);
  size_t nw = (size_t)g->oc * f.k;
  float *shared = ll_cpu_scratch(3, nw + (size_t)f.k);
  if (!shared)
    return; /* recorded for take_error */
  float *ap = shared;
  int *off = (int *)(shared + nw);
  fwd_plan(g, off);
  for (int grp = 0; grp < g->groups; grp++)
    pack_rows(w + (size_t)grp * f.ocg * f.k, (size_t)f.k, f.ocg, f.k,
              ap + (size_t)grp * f.ocg * f.k);
  FwdJob j = {.f = f, .x = x, .ap = ap, .off = off, .y = y};
  ll_cpu_parallel_for(g->n, ll_cpu_grain(g->n, 4), forward_range, &j);
}

/* ---- backward filter ---------------------------------------------------------------------- */

typedef struct {
  Fwd f;
  const float *x, *dy;
  const int *off;
  float *partial; /* (chunks, oc, k) */
} FiltJob;

LL_CPU_CLONES
static void filter_range(void *arg, int chunk, int begin, int end)
{
  const FiltJob *j = arg;
  const Fwd *f = &j->f;
  const LlConvGeom *g = f->g;
  size_t wk = (size_t)g->oc * f->k;
  float *planes = ll_cpu_scratch(0, f->plane_floats);
  float *wide = ll_cpu_scratch(1, (size_t)f->ocg * f->np);
  float *vacc = ll_cpu_scratch(2, wk * 8);
  if (!planes || !wide || !vacc)
    return; /* recorded for take_error; the chunk's partial stays unset */
  memset(vacc, 0, wk * 8 * sizeof *vacc);
  size_t ys = (size_t)f->ocg * g->oh * g->ow;
  memset(planes, 0, f->plane_floats * sizeof *planes);
  memset(wide, 0, (size_t)f->ocg * f->np * sizeof *wide);
  for (int n = begin; n < end; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      size_t sg = (size_t)n * g->groups + grp;
      const float *pl = planes_of(f, j->x, sg, (size_t)g->n * g->groups, planes);
      /* dy made wide; its garbage columns and tail stay zero */
      const float *dy = j->dy + sg * ys;
      for (int o = 0; o < f->ocg; o++)
        for (int oy = 0; oy < g->oh; oy++)
          copy_row(wide + (size_t)o * f->np + oy * f->wq, dy + ((size_t)o * g->oh + oy) * g->ow,
                   g->ow);
      gemm_rows_nt(f->ocg, f->k, wide, (size_t)f->np, pl, j->off, f->np,
                   vacc + (size_t)grp * f->ocg * f->k * 8);
    }
  float *part = j->partial + (size_t)chunk * wk;
  for (size_t i = 0; i < wk; i++)
    part[i] = ll_hsum8(ll_ld8(vacc + i * 8));
}

void ll_cpu_conv2d_backward_filter(const LlConvGeom *g, const float *x, const float *dy, float *dw,
                                   float *ws)
{
  (void)ws;
  Fwd f = fwd_plan(g, NULL);
  size_t wk = (size_t)g->oc * f.k;
  /* chunks depend on the batch only, so the sums do not depend on the threads */
  int grain = imax(1, ceil_div(g->n, 16));
  int chunks = ll_cpu_n_chunks(g->n, grain);
  float *shared = ll_cpu_scratch(3, (size_t)chunks * wk + (size_t)f.k);
  if (!shared)
    return; /* recorded for take_error */
  int *off = (int *)(shared + (size_t)chunks * wk);
  fwd_plan(g, off);
  FiltJob j = {.f = f, .x = x, .dy = dy, .off = off, .partial = shared};
  ll_cpu_parallel_for(g->n, grain, filter_range, &j);
  for (int c = 0; c < chunks; c++) {
    const float *part = shared + (size_t)c * wk;
    for (size_t i = 0; i < wk; i++)
      dw[i] += part[i];
  }
}

/* ---- backward data -------------------------------------------------------------------------- */

typedef struct {
  const LlConvGeom *g;
  int cg, ocg, k;
  int hq, wq;       /* the padded dx grid's phase planes */
  int qi, qj;       /* the largest tap shift inside a phase */
  int hd, wd;       /* dy shifted by (qi, qj) into a zero grid of hq + qi, wq + qj */
  size_t dy_floats; /* one group of padded dy, with read slack */
  int n_phases;
  int phase_a[64], phase_b[64], phase_k[64]; /* remainders and rows of each phase with taps */
  size_t phase_at[64]; /* start of its rows in the packed weights and the offsets */
  int i0[64], i1[64];  /* the phase rows that land inside dx */
  int np_max;          /* the longest phase's wide positions, rounded */
} Bwd;

/* Fills the plan; with ap and off, also packs every group's weights per
 * phase (ap: groups x cg x ocg*kh*kw) and the row offsets (ocg*kh*kw).
 * Returns FALSE when the stride has more than 64 phases (then the caller
 * takes the slow path). */
static bool bwd_plan(const LlConvGeom *g, Bwd *b, const float *w, float *ap, int *off)
{
  memset(b, 0, sizeof *b);
  b->g = g;
  b->cg = g->c / g->groups;
  b->ocg = g->oc / g->groups;
  b->k = b->cg * g->kh * g->kw;
  if (g->sh * g->sw > 64)
    return false;
  b->hq = ceil_div(g->h + 2 * g->ph, g->sh);
  b->wq = ceil_div(g->w + 2 * g->pw, g->sw);
  b->qi = (g->kh - 1) * g->dh / g->sh;
  b->qj = (g->kw - 1) * g->dw / g->sw;
  b->hd = b->hq + b->qi;
  b->wd = b->wq + b->qj;
  size_t at = 0;
  for (int a = 0; a < g->sh; a++)
    for (int bb = 0; bb < g->sw; bb++) {
      int taps = 0;
      for (int ki = 0; ki < g->kh; ki++)
        for (int kj = 0; kj < g->kw; kj++)
          taps += (ki * g->dh) % g->sh == a && (kj * g->dw) % g->sw == bb;
      if (!taps)
        continue;
      int i0 = imax(0, ceil_div(g->ph - a, g->sh));
      int i1 = imin(b->hq, g->ph + g->h - 1 - a < 0 ? 0 : (g->ph + g->h - 1 - a) / g->sh + 1);
      if (i1 <= i0)
        continue;
      int p = b->n_phases++;
      b->phase_a[p] = a;
      b->phase_b[p] = bb;
      b->phase_k[p] = taps * b->ocg;
      b->phase_at[p] = at;
      b->i0[p] = i0;
      b->i1[p] = i1;
      b->np_max = imax(b->np_max, round_up((i1 - i0) * b->wd, CHUNK));
      /* rows (o, tap) of this phase */
      int r = 0;
      for (int o = 0; o < b->ocg; o++)
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            int ty = ki * g->dh, tx = kj * g->dw;
            if (ty % g->sh != a || tx % g->sw != bb)
              continue;
            if (off)
              off[at + r] = o * b->hd * b->wd + (b->qi - ty / g->sh) * b->wd + (b->qj - tx / g->sw);
            r++;
          }
      at += (size_t)r;
    }
  /* reads reach i0 * wd + np + the largest offset */
  size_t need = (size_t)(b->ocg - 1) * b->hd * b->wd + (size_t)b->qi * b->wd + b->qj +
                (size_t)b->hq * b->wd + CHUNK;
  b->dy_floats = need > (size_t)b->ocg * b->hd * b->wd ? need : (size_t)b->ocg * b->hd * b->wd;
  if (!ap)
    return true;
  /* A(c, (o, tap)) = w[o][c][ki][kj] of each group, per phase, packed */
  size_t kk = (size_t)g->kh * g->kw, per_group = (size_t)b->cg * b->ocg * kk;
  float *tmp = ap + (size_t)g->groups * per_group; /* one phase's unpacked rows */
  for (int grp = 0; grp < g->groups; grp++)
    for (int p = 0; p < b->n_phases; p++) {
      int kp = b->phase_k[p];
      for (int c = 0; c < b->cg; c++) {
        int r = 0;
        for (int o = 0; o < b->ocg; o++)
          for (int ki = 0; ki < g->kh; ki++)
            for (int kj = 0; kj < g->kw; kj++) {
              if ((ki * g->dh) % g->sh != b->phase_a[p] || (kj * g->dw) % g->sw != b->phase_b[p])
                continue;
              const float *wg = w + (size_t)grp * b->ocg * b->k;
              tmp[(size_t)c * kp + r++] =
                  wg[((size_t)o * b->cg + c) * kk + (size_t)ki * g->kw + kj];
            }
      }
      pack_rows(tmp, (size_t)kp, b->cg, kp, ap + (size_t)grp * per_group + b->phase_at[p] * b->cg);
    }
  return true;
}

typedef struct {
  Bwd b;
  const float *dy, *ap;
  const int *off;
  float *dx;
} DataJob;

LL_CPU_CLONES
static void data_range(void *arg, int chunk, int begin, int end)
{
  const DataJob *j = arg;
  const Bwd *b = &j->b;
  const LlConvGeom *g = b->g;
  float *dyp = ll_cpu_scratch(0, b->dy_floats);
  float *wide = ll_cpu_scratch(1, (size_t)b->cg * b->np_max);
  if (!dyp || !wide)
    return; /* recorded for take_error */
  size_t xs = (size_t)b->cg * g->h * g->w, ys = (size_t)b->ocg * g->oh * g->ow;
  size_t per_group = (size_t)b->cg * b->ocg * g->kh * g->kw;
  memset(dyp, 0, b->dy_floats * sizeof *dyp);
  for (int n = begin; n < end; n++)
    for (int grp = 0; grp < g->groups; grp++) {
      size_t sg = (size_t)n * g->groups + grp;
      const float *dy = j->dy + sg * ys;
      for (int o = 0; o < b->ocg; o++)
        for (int oy = 0; oy < g->oh; oy++)
          copy_row(dyp + (size_t)o * b->hd * b->wd + (size_t)(oy + b->qi) * b->wd + b->qj,
                   dy + ((size_t)o * g->oh + oy) * g->ow, g->ow);
      float *dx = j->dx + sg * xs;
      for (int p = 0; p < b->n_phases; p++) {
        int i0 = b->i0[p], i1 = b->i1[p], a = b->phase_a[p], bb = b->phase_b[p];
        int np = round_up((i1 - i0) * b->wd, CHUNK);
        gemm_rows_nn(b->cg, b->phase_k[p], j->ap + (size_t)grp * per_group + b->phase_at[p] * b->cg,
                     dyp + (size_t)i0 * b->wd, j->off + b->phase_at[p], np, wide, (size_t)np);
        /* padded (i sh + a, jj sw + bb) is dx (y, x) after removing the padding */
        int j0 = imax(0, ceil_div(g->pw - bb, g->sw));
        int j1 = imin(b->wq, g->pw + g->w - 1 - bb < 0 ? 0 : (g->pw + g->w - 1 - bb) / g->sw + 1);
        for (int c = 0; c < b->cg; c++)
          for (int i = i0; i < i1; i++) {
            const float *wr = wide + (size_t)c * np + (size_t)(i - i0) * b->wd;
            float *xr = dx + ((size_t)c * g->h + (i * g->sh + a - g->ph)) * g->w;
            if (g->sw == 1) {
              float *restrict xo = xr + bb - g->pw;
              for (int jj = j0; jj < j1; jj++)
                xo[jj] += wr[jj];
            } else {
              for (int jj = j0; jj < j1; jj++)
                xr[jj * g->sw + bb - g->pw] += wr[jj];
            }
          }
      }
    }
}

/* The reference path for strides with more than 64 phases: direct loops. */
static void backward_data_naive(const LlConvGeom *g, const float *w, const float *dy, float *dx)
{
  int cg = g->c / g->groups, ocg = g->oc / g->groups;
  for (int n = 0; n < g->n; n++)
    for (int oc = 0; oc < g->oc; oc++) {
      int grp = oc / ocg;
      for (int c = 0; c < cg; c++)
        for (int ki = 0; ki < g->kh; ki++)
          for (int kj = 0; kj < g->kw; kj++) {
            float wv = w[(((size_t)oc * cg + c) * g->kh + ki) * g->kw + kj];
            for (int oy = 0; oy < g->oh; oy++) {
              int iy = oy * g->sh - g->ph + ki * g->dh;
              if (iy < 0 || iy >= g->h)
                continue;
              for (int ox = 0; ox < g->ow; ox++) {
                int ix = ox * g->sw - g->pw + kj * g->dw;
                if (ix < 0 || ix >= g->w)
                  continue;
                dx[(((size_t)n * g->c + grp * cg + c) * g->h + iy) * g->w + ix] +=
                    wv * dy[(((size_t)n * g->oc + oc) * g->oh + oy) * g->ow + ox];
              }
            }
          }
    }
}

void ll_cpu_conv2d_backward_data(const LlConvGeom *g, const float *w, const float *dy, float *dx,
                                 float *ws)
{
  (void)ws;
  Bwd b;
  if (!bwd_plan(g, &b, NULL, NULL, NULL)) {
    backward_data_naive(g, w, dy, dx);
    return;
  }
  size_t kk = (size_t)g->kh * g->kw, per_group = (size_t)b.cg * b.ocg * kk;
  size_t nap = (size_t)g->groups * per_group + per_group; /* + one phase's unpacked rows */
  float *shared = ll_cpu_scratch(3, nap + (size_t)b.ocg * kk);
  if (!shared)
    return; /* recorded for take_error */
  int *off = (int *)(shared + nap);
  bwd_plan(g, &b, w, shared, off);
  DataJob j = {.b = b, .dy = dy, .ap = shared, .off = off, .dx = dx};
  ll_cpu_parallel_for(g->n, ll_cpu_grain(g->n, 4), data_range, &j);
}
