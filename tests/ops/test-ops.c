/* test-ops.c: every op of a backend against the reference backend.
 *
 * A table of ops x shapes x modes (forward, backward, evaluation), in the
 * manner of ggml's test-backend-ops. Each case draws its inputs from a seed
 * of its own, runs the op on the reference backend (kernels/ref, double
 * precision) and on the backend under test from the same inputs, and
 * compares every output by normalised mean squared error,
 *   nmse = sum (out - ref)^2 / sum ref^2,
 * against the op's tolerance (see "Tolerances" below). Outputs that must be
 * exact (masks, argmax indices, copies, lookups) are compared bit for bit.
 * Backward slots accumulate, so gradients start from random values, and
 * each backend runs the backward after its own forward.
 *
 * The fused slots of a backend (Linear -> ReLU, BatchNorm -> ReLU ->
 * Dropout, ReLU -> Dropout) are ops of the table too: the backend runs the
 * fused slot, the reference runs the ops apart (it has no fused slot), so
 * the fused path is checked against the unfused reference. A backend
 * without a fused slot skips those cases. (That fusion gives the same bits
 * as the blocks apart on the same backend is /engine/graph/fused-relu-dropout
 * in tests/engine/test-train.c.)
 *
 * Usage: test-ops BACKEND [OP]   runs the table on BACKEND (or only OP),
 * prints one line per failure and the count of cases, and exits 0, 1 on a
 * failure, or 77 (skipped) when BACKEND cannot be opened here.
 *
 * Adding a backend: one line in backends[] below, a name and a function
 * that opens it (returning NULL with the reason when it is not available
 * on this machine), and one line in ops_backends in tests/meson.build. A
 * CUDA module built elsewhere (the .cu kernels compiled to run on the CPU,
 * for instance) opens as "cuda" does, through engine/device.c, from the
 * path in LAYERLAB_CUDA_MODULE: reuse open_cuda, and give the test that
 * variable and the module as a dependency in meson:
 *   {"cuda-on-cpu", open_cuda},                                  (here)
 *   'cuda-on-cpu': {'env': ['LAYERLAB_CUDA_MODULE=' + path],
 *                   'depends': [module]},                   (meson.build) */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "device.h"

/* ---- the backends ------------------------------------------------------------------------ */

typedef const LlBackend *(*OpenFn)(char **why);

static const LlBackend *open_ref(char **why)
{
  (void)why;
  return ll_ref_backend();
}

/* Two threads, so the split paths run where a shape is large enough. */
static const LlBackend *open_cpu(char **why)
{
  (void)why;
  ll_cpu_set_threads(2);
  return ll_cpu_backend();
}

static const LlBackend *open_cuda(char **why)
{
  GError *error = NULL;
  const LlBackend *be = ll_device_backend("cuda", &error);
  if (!be) {
    *why = g_strdup(error->message);
    g_error_free(error);
  }
  return be;
}

/* The CUDA kernels run on the CPU through HIP-CPU (kernels/cuda-on-cpu):
 * the module meson builds with -Dcuda-on-cpu=PATH, named by
 * LAYERLAB_CUDA_MODULE and opened as "cuda" is. */
static const LlBackend *open_cuda_on_cpu(char **why)
{
  const char *module = g_getenv("LAYERLAB_CUDA_MODULE");
  if (!module || !*module) {
    *why = g_strdup("built without -Dcuda-on-cpu=PATH (the HIP-CPU folder)");
    return NULL;
  }
  const LlBackend *be = open_cuda(why);
  if (be && strcmp(be->name, "cuda-on-cpu"))
    g_error("%s opened the backend \"%s\", not cuda-on-cpu", module, be->name);
  return be;
}

static const struct {
  const char *name;
  OpenFn open;
} backends[] = {
    {"ref", open_ref}, /* the reference against itself: checks the harness */
    {"cpu", open_cpu},
    {"cuda", open_cuda},
    {"cuda-on-cpu", open_cuda_on_cpu},
};

/* ---- one run of a case on one backend ----------------------------------------------------- */

typedef enum { FORWARD = 1, BACKWARD = 2, EVAL = 4 } Mode;
static const char *mode_name(Mode m)
{
  return m == FORWARD ? "forward" : m == BACKWARD ? "backward" : "eval";
}

typedef struct {
  char name[32];
  float *host; /* downloaded */
  size_t n;
  bool exact;
} Output;

typedef struct {
  const LlBackend *be;
  const int *a; /* the case's shape parameters */
  Mode mode;
  GRand *rand; /* seeded per case: the same inputs on every backend */
  GPtrArray *allocs;
  GArray *outs; /* Output */
  const char *failed; /* a contract the op broke, besides its outputs */
} Run;

static float *dev_alloc(Run *r, size_t n)
{
  float *p = r->be->alloc((n ? n : 1) * sizeof(float));
  g_assert_nonnull(p);
  g_ptr_array_add(r->allocs, p);
  return p;
}

static float *from_host(Run *r, const float *h, size_t n)
{
  float *p = dev_alloc(r, n);
  r->be->upload(p, h, n);
  return p;
}

/* n values uniform in [lo, hi) */
static float *rnd(Run *r, size_t n, double lo, double hi)
{
  g_autofree float *h = g_new(float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    h[i] = (float)g_rand_double_range(r->rand, lo, hi);
  return from_host(r, h, n);
}

/* Zeroed (alloc's contract). */
static float *zeros(Run *r, size_t n) { return dev_alloc(r, n); }

/* Records an output for comparison (downloads it now). */
static void out_as(Run *r, const char *name, const void *dev, size_t n, bool exact)
{
  Output o = {.n = n, .exact = exact, .host = g_new(float, n ? n : 1)};
  g_strlcpy(o.name, name, sizeof o.name);
  if (r->be->synchronize)
    r->be->synchronize();
  r->be->download(o.host, dev, n);
  g_array_append_val(r->outs, o);
}
#define OUT(r, name, dev, n)   out_as(r, name, dev, n, false)
#define EXACT(r, name, dev, n) out_as(r, name, dev, n, true)

/* ---- the ops ------------------------------------------------------------------------------- *
 * Each takes its shape from r->a (the meaning of a[] is in the comment) and
 * records the outputs of r->mode. */

/* a = {n}: alloc gives zeros; upload, copy, fill and download round trip */
static void op_memory(Run *r)
{
  size_t n = r->a[0];
  EXACT(r, "alloc", zeros(r, n), n);
  float *x = rnd(r, n, -2, 2), *y = zeros(r, n);
  r->be->copy(y, x, n);
  EXACT(r, "copy", y, n);
  if (n > 3) { /* copy is memmove: overlapping ranges, both directions */
    r->be->copy(y + 3, y, n - 3);
    r->be->copy(y, y + 2, n - 2);
    EXACT(r, "copy overlapping", y, n);
  }
  r->be->fill(y, -1.25f, n);
  EXACT(r, "fill", y, n);
  if (!r->be->host_memory) {
    /* a request the device cannot hold returns NULL and leaves no error
     * behind (host backends: the C library's calloc, which sanitizers trap) */
    void *huge = r->be->alloc((size_t)1 << 50);
    if (huge) {
      r->be->free(huge);
      r->failed = "alloc of 1 PiB did not return NULL";
    }
    if (r->be->mem_free && r->be->mem_free() == 0)
      r->failed = "mem_free() is 0";
  }
}

/* a = {n} */
static void op_axpy_scale(Run *r)
{
  size_t n = r->a[0];
  float *y = rnd(r, n, -2, 2), *x = rnd(r, n, -2, 2), *s = zeros(r, 1);
  r->be->axpy(y, -0.75f, x, n);
  OUT(r, "axpy", y, n);
  r->be->scale(y, 0.3f, n);
  OUT(r, "scale", y, n);
  r->be->sum_squares(x, n, s);
  OUT(r, "sum_squares", s, 1);
}

/* a = {rows, cols, ld_dst, ld_src, accumulate} */
static void op_copy2d(Run *r)
{
  int rows = r->a[0], cols = r->a[1], ldd = r->a[2], lds = r->a[3];
  float *src = rnd(r, (size_t)rows * lds, -1, 1), *dst = rnd(r, (size_t)rows * ldd, -1, 1);
  r->be->copy2d(dst, ldd, src, lds, rows, cols, r->a[4]);
  OUT(r, "dst", dst, (size_t)rows * ldd);
}

static const struct {
  LlActivation act;
  float alpha;
} acts[] = {{LL_ACT_RELU, 0},    {LL_ACT_LEAKY_RELU, 0.1f}, {LL_ACT_ELU, 1.3f},
            {LL_ACT_GELU, 0},    {LL_ACT_SIGMOID, 0},       {LL_ACT_TANH, 0},
            {LL_ACT_IDENTITY, 0}};

/* a = {activation (index in acts[]), n} */
static void op_act(Run *r)
{
  LlActivation act = acts[r->a[0]].act;
  float alpha = acts[r->a[0]].alpha;
  size_t n = r->a[1];
  float *x = rnd(r, n, -4, 4), *y = zeros(r, n);
  r->be->act_forward(act, alpha, x, y, n);
  if (r->mode == FORWARD) {
    OUT(r, "y", y, n);
    return;
  }
  float *dy = rnd(r, n, -1, 1), *dx = rnd(r, n, -1, 1);
  r->be->act_backward(act, alpha, x, y, dy, dx, n);
  OUT(r, "dx", dx, n);
}

/* a = {ta, tb, m, n, k, pad of the leading dimensions, beta != 0} */
static void op_gemm(Run *r)
{
  bool ta = r->a[0], tb = r->a[1];
  int m = r->a[2], n = r->a[3], k = r->a[4], pad = r->a[5];
  int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
  float *a = rnd(r, (size_t)(ta ? k : m) * lda, -1, 1);
  float *b = rnd(r, (size_t)(tb ? n : k) * ldb, -1, 1);
  float *c = rnd(r, (size_t)m * ldc, -1, 1);
  r->be->gemm(ta, tb, m, n, k, 0.7f, a, lda, b, ldb, r->a[6] ? 0.3f : 0.0f, c, ldc);
  OUT(r, "c", c, (size_t)m * ldc);
}

/* a = {n, c, inner} */
static void op_bias(Run *r)
{
  int n = r->a[0], c = r->a[1], inner = r->a[2];
  size_t total = (size_t)n * c * inner;
  float *y = rnd(r, total, -1, 1), *bias = rnd(r, c, -1, 1), *dbias = rnd(r, c, -1, 1);
  if (r->mode == FORWARD) {
    r->be->bias_add(y, bias, n, c, inner);
    OUT(r, "y", y, total);
  } else {
    r->be->bias_backward(y, dbias, n, c, inner);
    OUT(r, "dbias", dbias, c);
  }
}

/* a = {rows, in, out, bias, relu}: the fused dense layer; the reference runs
 * gemm, bias_add and the ReLU apart */
static bool has_linear(const LlBackend *be) { return ll_backend_supports(be, LL_OP_LINEAR_RELU); }
static void op_linear_relu(Run *r)
{
  int rows = r->a[0], in = r->a[1], out = r->a[2];
  bool relu = r->a[4];
  float *x = rnd(r, (size_t)rows * in, -1, 1), *w = rnd(r, (size_t)out * in, -0.5, 0.5);
  float *bias = r->a[3] ? rnd(r, out, -1, 1) : NULL, *y = zeros(r, (size_t)rows * out);
  if (r->be->linear_forward) {
    r->be->linear_forward(x, w, bias, y, rows, in, out, relu);
  } else {
    r->be->gemm(false, true, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    if (bias)
      r->be->bias_add(y, bias, rows, out, 1);
    if (relu)
      r->be->act_forward(LL_ACT_RELU, 0.0f, y, y, (size_t)rows * out);
  }
  OUT(r, "y", y, (size_t)rows * out);
}

/* a = {n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups} */
static void op_conv2d(Run *r)
{
  const int *a = r->a;
  LlConvGeom g = {a[0], a[1], a[2], a[3], a[4], 0, 0, a[5], a[6], a[7], a[8], a[9], a[10], a[11],
                  a[12], a[13]};
  g.oh = (g.h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.oc * g.oh * g.ow;
  size_t nw = (size_t)g.oc * (g.c / g.groups) * g.kh * g.kw;
  float *x = rnd(r, nx, -1, 1), *w = rnd(r, nw, -0.5, 0.5), *y = rnd(r, ny, -1, 1);
  float *ws = dev_alloc(r, r->be->conv2d_workspace(&g));
  if (r->mode == FORWARD) {
    r->be->conv2d_forward(&g, x, w, y, ws);
    OUT(r, "y", y, ny);
    return;
  }
  float *dy = rnd(r, ny, -1, 1), *dx = rnd(r, nx, -1, 1), *dw = rnd(r, nw, -1, 1);
  r->be->conv2d_backward_data(&g, w, dy, dx, ws);
  OUT(r, "dx", dx, nx);
  r->be->conv2d_backward_filter(&g, x, dy, dw, ws);
  OUT(r, "dw", dw, nw);
}

/* a = {n, c, h, w, k, s, p} */
static LlPoolGeom pool_geom(const int *a)
{
  LlPoolGeom g = {a[0], a[1], a[2], a[3], 0, 0, a[4], a[4], a[5], a[5], a[6], a[6]};
  g.oh = (g.h + 2 * g.ph - g.kh) / g.sh + 1;
  g.ow = (g.w + 2 * g.pw - g.kw) / g.sw + 1;
  return g;
}

static void op_maxpool2d(Run *r)
{
  LlPoolGeom g = pool_geom(r->a);
  size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.c * g.oh * g.ow;
  float *x = rnd(r, nx, -1, 1), *y = zeros(r, ny), *arg = zeros(r, ny);
  r->be->maxpool2d_forward(&g, x, y, (int32_t *)arg);
  if (r->mode == FORWARD) {
    EXACT(r, "y", y, ny);
    EXACT(r, "argmax", arg, ny);
    return;
  }
  float *dy = rnd(r, ny, -1, 1), *dx = rnd(r, nx, -1, 1);
  r->be->maxpool2d_backward(&g, (int32_t *)arg, dy, dx);
  OUT(r, "dx", dx, nx);
}

static void op_avgpool2d(Run *r)
{
  LlPoolGeom g = pool_geom(r->a);
  size_t nx = (size_t)g.n * g.c * g.h * g.w, ny = (size_t)g.n * g.c * g.oh * g.ow;
  if (r->mode == FORWARD) {
    float *x = rnd(r, nx, -1, 1), *y = zeros(r, ny);
    r->be->avgpool2d_forward(&g, x, y);
    OUT(r, "y", y, ny);
  } else {
    float *dy = rnd(r, ny, -1, 1), *dx = rnd(r, nx, -1, 1);
    r->be->avgpool2d_backward(&g, dy, dx);
    OUT(r, "dx", dx, nx);
  }
}

/* a = {outer, inner} */
static void op_mean_inner(Run *r)
{
  int outer = r->a[0], inner = r->a[1];
  size_t n = (size_t)outer * inner;
  if (r->mode == FORWARD) {
    float *x = rnd(r, n, -1, 1), *y = zeros(r, outer);
    r->be->mean_inner_forward(x, y, outer, inner);
    OUT(r, "y", y, outer);
  } else {
    float *dy = rnd(r, outer, -1, 1), *dx = rnd(r, n, -1, 1);
    r->be->mean_inner_backward(dy, dx, outer, inner);
    OUT(r, "dx", dx, n);
  }
}

/* a = {planes, h, w, scale, bilinear} */
static void op_upsample2d(Run *r)
{
  int planes = r->a[0], h = r->a[1], w = r->a[2], s = r->a[3];
  bool bilinear = r->a[4];
  size_t nx = (size_t)planes * h * w, ny = nx * s * s;
  if (r->mode == FORWARD) {
    float *x = rnd(r, nx, -1, 1), *y = zeros(r, ny);
    r->be->upsample2d_forward(bilinear, x, y, planes, h, w, h * s, w * s);
    OUT(r, "y", y, ny);
  } else {
    float *dy = rnd(r, ny, -1, 1), *dx = rnd(r, nx, -1, 1);
    r->be->upsample2d_backward(bilinear, dy, dx, planes, h, w, h * s, w * s);
    OUT(r, "dx", dx, nx);
  }
}

/* a = {rows, cols, affine, dx} */
static void op_layernorm(Run *r)
{
  int rows = r->a[0], cols = r->a[1];
  bool affine = r->a[2];
  size_t n = (size_t)rows * cols;
  float *x = rnd(r, n, -2, 3), *y = zeros(r, n), *mean = zeros(r, rows), *invstd = zeros(r, rows);
  float *gamma = affine ? rnd(r, cols, 0.5, 1.5) : NULL,
        *beta = affine ? rnd(r, cols, -0.5, 0.5) : NULL;
  r->be->layernorm_forward(x, y, gamma, beta, mean, invstd, rows, cols, 1e-5f);
  if (r->mode == FORWARD) {
    OUT(r, "y", y, n);
    OUT(r, "save_mean", mean, rows);
    OUT(r, "save_invstd", invstd, rows);
    return;
  }
  float *dy = rnd(r, n, -1, 1), *dx = r->a[3] ? rnd(r, n, -1, 1) : NULL;
  float *dgamma = affine ? rnd(r, cols, -1, 1) : NULL, *dbeta = affine ? rnd(r, cols, -1, 1) : NULL;
  r->be->layernorm_backward(x, dy, gamma, mean, invstd, dx, dgamma, dbeta, rows, cols);
  if (dx)
    OUT(r, "dx", dx, n);
  if (affine) {
    OUT(r, "dgamma", dgamma, cols);
    OUT(r, "dbeta", dbeta, cols);
  }
}

/* The tensors of a batchnorm case, a = {n, c, inner, affine, dx} (dx = 0:
 * the input needs no gradient, dx is NULL). */
typedef struct {
  int n, c, inner;
  size_t total;
  float *x, *y, *gamma, *beta, *mean, *invstd, *rmean, *rvar, *dy, *dx, *dgamma, *dbeta;
} Bn;

static Bn bn_tensors(Run *r)
{
  Bn b = {.n = r->a[0], .c = r->a[1], .inner = r->a[2]};
  bool affine = r->a[3];
  b.total = (size_t)b.n * b.c * b.inner;
  b.x = rnd(r, b.total, -2, 3);
  b.y = zeros(r, b.total);
  b.gamma = rnd(r, b.c, 0.5, 1.5);
  b.beta = rnd(r, b.c, -0.5, 0.5);
  b.mean = zeros(r, b.c);
  b.invstd = zeros(r, b.c);
  b.rmean = rnd(r, b.c, -0.2, 0.2);
  b.rvar = rnd(r, b.c, 0.5, 1.5);
  b.dy = rnd(r, b.total, -1, 1);
  b.dx = r->a[4] ? rnd(r, b.total, -1, 1) : NULL;
  b.dgamma = rnd(r, b.c, -1, 1);
  b.dbeta = rnd(r, b.c, -1, 1);
  if (!affine)
    b.gamma = b.beta = b.dgamma = b.dbeta = NULL;
  return b;
}

static void bn_grads(Run *r, const Bn *b)
{
  if (b->dx)
    OUT(r, "dx", b->dx, b->total);
  if (b->dgamma) {
    OUT(r, "dgamma", b->dgamma, b->c);
    OUT(r, "dbeta", b->dbeta, b->c);
  }
}

static void op_batchnorm(Run *r)
{
  Bn b = bn_tensors(r);
  const LlBackend *be = r->be;
  const float eps = 1e-5f, momentum = 0.1f;
  if (r->mode == EVAL) {
    be->batchnorm_forward_eval(b.x, b.y, b.gamma, b.beta, b.rmean, b.rvar, b.n, b.c, b.inner, eps);
    OUT(r, "y", b.y, b.total);
    be->batchnorm_backward_eval(b.x, b.dy, b.gamma, b.rmean, b.rvar, b.dx, b.dgamma, b.dbeta, b.n,
                                b.c, b.inner, eps);
    bn_grads(r, &b);
    return;
  }
  be->batchnorm_forward_train(b.x, b.y, b.gamma, b.beta, b.mean, b.invstd, b.rmean, b.rvar, b.n,
                              b.c, b.inner, momentum, eps);
  if (r->mode == FORWARD) {
    OUT(r, "y", b.y, b.total);
    OUT(r, "save_mean", b.mean, b.c);
    OUT(r, "save_invstd", b.invstd, b.c);
    OUT(r, "running_mean", b.rmean, b.c);
    OUT(r, "running_var", b.rvar, b.c);
    return;
  }
  be->batchnorm_backward(b.x, b.dy, b.gamma, b.mean, b.invstd, b.dx, b.dgamma, b.dbeta, b.n, b.c,
                         b.inner);
  bn_grads(r, &b);
}

/* a = {n, c, inner, affine, dx, p in percent, assign_dx}: the fused
 * BatchNorm -> ReLU [-> Dropout]; the reference runs batchnorm, the ReLU
 * and dropout apart, and their backwards in reverse */
static bool has_bn_relu(const LlBackend *be)
{
  return ll_backend_supports(be, LL_OP_BATCHNORM_RELU);
}
static void op_bn_relu_dropout(Run *r)
{
  Bn b = bn_tensors(r);
  const LlBackend *be = r->be;
  LlBnRelu a = {.n = b.n,
                .c = b.c,
                .inner = b.inner,
                .training = r->mode != EVAL,
                .gamma = b.gamma,
                .beta = b.beta,
                .running_mean = b.rmean,
                .running_var = b.rvar,
                .save_mean = b.mean,
                .save_invstd = b.invstd,
                .momentum = 0.1f,
                .eps = 1e-5f,
                .p = r->mode == EVAL ? 0.0f : r->a[5] / 100.0f,
                .seed = 4242,
                .offset = 77,
                .assign_dx = r->a[6]};
  float *z = zeros(r, b.total);
  if (be->batchnorm_relu_forward) {
    be->batchnorm_relu_forward(&a, b.x, z);
    if (r->mode != BACKWARD)
      OUT(r, "z", z, b.total);
    if (r->mode == FORWARD)
      return;
    be->batchnorm_relu_backward(&a, b.x, z, b.dy, b.dx, b.dgamma, b.dbeta);
    bn_grads(r, &b);
    return;
  }
  /* apart: y = bn(x), t = max(y, 0), z = t * mask */
  float *y = zeros(r, b.total), *mask = zeros(r, b.total);
  if (a.training)
    be->batchnorm_forward_train(b.x, y, b.gamma, b.beta, b.mean, b.invstd, b.rmean, b.rvar, b.n,
                                b.c, b.inner, a.momentum, a.eps);
  else
    be->batchnorm_forward_eval(b.x, y, b.gamma, b.beta, b.rmean, b.rvar, b.n, b.c, b.inner, a.eps);
  if (a.p > 0.0f) {
    float *t = zeros(r, b.total);
    be->act_forward(LL_ACT_RELU, 0.0f, y, t, b.total);
    be->dropout_forward(t, z, mask, b.total, a.p, a.seed, a.offset);
  } else {
    be->act_forward(LL_ACT_RELU, 0.0f, y, z, b.total);
  }
  if (r->mode != BACKWARD)
    OUT(r, "z", z, b.total);
  if (r->mode == FORWARD)
    return;
  float *dt = zeros(r, b.total), *dy = zeros(r, b.total);
  if (a.p > 0.0f)
    be->mul_backward(b.dy, mask, dt, b.total);
  else
    be->copy(dt, b.dy, b.total);
  be->act_backward(LL_ACT_RELU, 0.0f, y, z, dt, dy, b.total);
  if (a.assign_dx && b.dx)
    be->fill(b.dx, 0.0f, b.total);
  if (a.training)
    be->batchnorm_backward(b.x, dy, b.gamma, b.mean, b.invstd, b.dx, b.dgamma, b.dbeta, b.n, b.c,
                           b.inner);
  else
    be->batchnorm_backward_eval(b.x, dy, b.gamma, b.rmean, b.rvar, b.dx, b.dgamma, b.dbeta, b.n,
                                b.c, b.inner, a.eps);
  bn_grads(r, &b);
}

/* a = {n, p in percent} */
static void op_dropout(Run *r)
{
  size_t n = r->a[0];
  float p = r->a[1] / 100.0f;
  float *x = rnd(r, n, -1, 1), *y = zeros(r, n), *mask = zeros(r, n);
  r->be->dropout_forward(x, y, mask, n, p, 1234567, 99991);
  if (r->mode == FORWARD) {
    /* the counter-based generator gives every backend the same mask */
    OUT(r, "mask", mask, n);
    OUT(r, "y", y, n);
    return;
  }
  float *dy = rnd(r, n, -1, 1), *dx = rnd(r, n, -1, 1);
  r->be->mul_backward(dy, mask, dx, n);
  OUT(r, "dx", dx, n);
}

/* a = {n, p in percent}: the fused ReLU -> Dropout; the reference runs the
 * ReLU and dropout apart */
static bool has_relu_dropout(const LlBackend *be)
{
  return ll_backend_supports(be, LL_OP_RELU_DROPOUT);
}
static void op_relu_dropout(Run *r)
{
  size_t n = r->a[0];
  float p = r->a[1] / 100.0f;
  float *x = rnd(r, n, -1, 1), *y = zeros(r, n), *mask = zeros(r, n);
  float *dy = rnd(r, n, -1, 1), *dx = rnd(r, n, -1, 1);
  const LlBackend *be = r->be;
  if (be->relu_dropout_forward) {
    be->relu_dropout_forward(x, y, mask, n, p, 1234567, 99991);
    if (r->mode == BACKWARD)
      be->relu_mul_backward(dy, mask, x, dx, n);
  } else {
    float *t = zeros(r, n);
    be->act_forward(LL_ACT_RELU, 0.0f, x, t, n);
    be->dropout_forward(t, y, mask, n, p, 1234567, 99991);
    if (r->mode == BACKWARD) {
      float *dt = zeros(r, n);
      be->mul_backward(dy, mask, dt, n);
      be->act_backward(LL_ACT_RELU, 0.0f, x, t, dt, dx, n);
    }
  }
  if (r->mode == FORWARD) {
    OUT(r, "mask", mask, n);
    OUT(r, "y", y, n);
  } else {
    OUT(r, "dx", dx, n);
  }
}

/* a = {rows, cols} */
static void op_softmax(Run *r)
{
  int rows = r->a[0], cols = r->a[1];
  size_t n = (size_t)rows * cols;
  float *x = rnd(r, n, -5, 5), *y = zeros(r, n);
  r->be->softmax_forward(x, y, rows, cols);
  if (r->mode == FORWARD) {
    OUT(r, "y", y, n);
    return;
  }
  float *dy = rnd(r, n, -1, 1), *dx = rnd(r, n, -1, 1);
  r->be->softmax_backward(y, dy, dx, rows, cols);
  OUT(r, "dx", dx, n);
}

/* a = {rows, cols, smoothing in percent}; eval: the loss without gradient */
static void op_cross_entropy(Run *r)
{
  int rows = r->a[0], cols = r->a[1];
  size_t n = (size_t)rows * cols;
  g_autofree float *t = g_new(float, rows > 0 ? rows : 1);
  for (int i = 0; i < rows; i++)
    t[i] = (float)g_rand_int_range(r->rand, 0, cols);
  float *x = rnd(r, n, -4, 4), *target = from_host(r, t, rows), *loss = zeros(r, 1);
  float *dx = rnd(r, n, -1, 1);
  r->be->cross_entropy(x, target, rows, cols, r->a[2] / 100.0f, 0.5f, loss,
                       r->mode == EVAL ? NULL : dx);
  if (r->mode == BACKWARD)
    OUT(r, "dlogits", dx, n);
  else
    OUT(r, "loss", loss, 1);
}

/* a = {which (0 bce_logits, 1 mse, 2 l1), n} */
static void op_pointwise_loss(Run *r)
{
  size_t n = r->a[1];
  float *p = rnd(r, n, -6, 6), *t = rnd(r, n, 0, 1), *loss = zeros(r, 1);
  float *d = r->mode == EVAL ? NULL : rnd(r, n, -1, 1);
  void (*fn)(const float *, const float *, size_t, float, float *, float *) =
      r->a[0] == 0 ? r->be->bce_logits : r->a[0] == 1 ? r->be->mse : r->be->l1;
  fn(p, t, n, 0.7f, loss, d);
  if (r->mode == BACKWARD)
    OUT(r, "dpred", d, n);
  else
    OUT(r, "loss", loss, 1);
}

/* a = {rows, cols, ties}: ties 1 draws from 4 values, so rows hold equal
 * maxima; ties 2 makes a quarter of the values NaN, the first of every
 * third row, and all of the last row (NaN is never the maximum: a lane of
 * a warp that starts its slice of a row on a NaN must not lose the row) */
static void op_argmax(Run *r)
{
  int rows = r->a[0], cols = r->a[1];
  size_t n = (size_t)rows * cols;
  g_autofree float *h = g_new(float, n);
  for (size_t i = 0; i < n; i++)
    h[i] = r->a[2] == 1 ? (float)g_rand_int_range(r->rand, 0, 4)
                        : (float)g_rand_double_range(r->rand, -1, 1);
  if (r->a[2] == 2) {
    for (size_t i = 0; i < n; i++)
      if (g_rand_int_range(r->rand, 0, 4) == 0 || (i % cols == 0 && i / cols % 3 == 0) ||
          i / cols == (size_t)rows - 1)
        h[i] = NAN;
  }
  float *x = from_host(r, h, n), *out = zeros(r, rows);
  r->be->argmax_rows(x, rows, cols, out);
  EXACT(r, "index", out, rows);
}

/* a = {vocab, dim, n, odd}: odd adds out-of-range, fractional, NaN and
 * repeated indices (rounded and clamped) */
static void op_embedding(Run *r)
{
  int vocab = r->a[0], dim = r->a[1], n = r->a[2];
  g_autofree float *idx = g_new(float, n);
  for (int i = 0; i < n; i++)
    idx[i] = (float)g_rand_int_range(r->rand, 0, vocab);
  if (r->a[3] && n >= 8) {
    idx[0] = -3.0f;
    idx[1] = (float)vocab + 5.7f;
    idx[2] = NAN;
    idx[3] = 0.49f;
    idx[4] = 2.5f;
    idx[5] = (float)vocab - 0.6f;
    idx[6] = idx[7] = 1.0f;
  }
  float *table = rnd(r, (size_t)vocab * dim, -1, 1), *ix = from_host(r, idx, n);
  if (r->mode == FORWARD) {
    float *out = zeros(r, (size_t)n * dim);
    r->be->embedding_forward(table, ix, out, n, vocab, dim);
    EXACT(r, "out", out, (size_t)n * dim);
  } else {
    float *dout = rnd(r, (size_t)n * dim, -1, 1), *dtable = rnd(r, (size_t)vocab * dim, -1, 1);
    r->be->embedding_backward(ix, dout, dtable, n, vocab, dim);
    OUT(r, "dtable", dtable, (size_t)vocab * dim);
  }
}

/* a = {n, hidden, dgates over gates} */
static void op_lstm_cell(Run *r)
{
  int n = r->a[0], h = r->a[1];
  size_t nh = (size_t)n * h;
  float *gates = rnd(r, 4 * nh, -2, 2), *c_prev = rnd(r, nh, -1, 1);
  float *c = zeros(r, nh), *hh = zeros(r, nh);
  r->be->lstm_cell_forward(gates, c_prev, c, hh, n, h);
  if (r->mode == FORWARD) {
    OUT(r, "gates", gates, 4 * nh);
    OUT(r, "c", c, nh);
    OUT(r, "h", hh, nh);
    return;
  }
  float *dh = rnd(r, nh, -1, 1), *dc = rnd(r, nh, -1, 1), *dc_prev = rnd(r, nh, -1, 1);
  float *dgates = r->a[2] ? gates : zeros(r, 4 * nh);
  r->be->lstm_cell_backward(gates, c_prev, c, dh, dc, dgates, dc_prev, n, h);
  OUT(r, "dgates", dgates, 4 * nh);
  OUT(r, "dc_prev", dc_prev, nh);
}

/* a = {n, hidden}; the backward writes dxg, dhg over the forward's xg, hg */
static void op_gru_cell(Run *r)
{
  int n = r->a[0], h = r->a[1];
  size_t nh = (size_t)n * h;
  float *xg = rnd(r, 3 * nh, -2, 2), *hg = rnd(r, 3 * nh, -2, 2), *h_prev = rnd(r, nh, -1, 1);
  float *hn = zeros(r, nh), *act = zeros(r, 4 * nh);
  r->be->gru_cell_forward(xg, hg, h_prev, hn, act, n, h);
  if (r->mode == FORWARD) {
    OUT(r, "h", hn, nh);
    OUT(r, "act", act, 4 * nh);
    return;
  }
  float *dh = rnd(r, nh, -1, 1), *dh_prev = rnd(r, nh, -1, 1);
  r->be->gru_cell_backward(act, h_prev, dh, xg, hg, dh_prev, n, h);
  OUT(r, "dxg", xg, 3 * nh);
  OUT(r, "dhg", hg, 3 * nh);
  OUT(r, "dh_prev", dh_prev, nh);
}

/* a = {variant, n}: three steps of sgd (0 plain, 1 momentum, 2 nesterov,
 * 3 dampening), adam (4), adamw (5), rmsprop (6, 7 with momentum), adagrad (8) */
static void op_optimizer(Run *r)
{
  int v = r->a[0];
  size_t n = r->a[1];
  const LlBackend *be = r->be;
  float *p = rnd(r, n, -1, 1), *s1 = zeros(r, n), *s2 = zeros(r, n);
  for (int step = 1; step <= 3; step++) {
    float *g = rnd(r, n, -1, 1);
    if (v <= 3)
      be->sgd_update(p, g, v ? s1 : NULL, n, 0.05f, v ? 0.9f : 0.0f, v == 3 ? 0.1f : 0.0f, v == 2,
                     1e-2f, step == 1);
    else if (v <= 5)
      be->adam_update(p, g, s1, s2, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, v == 5, step);
    else if (v <= 7)
      be->rmsprop_update(p, g, s1, v == 7 ? s2 : NULL, n, 1e-2f, 0.99f, 1e-8f, 1e-3f,
                         v == 7 ? 0.5f : 0.0f);
    else
      be->adagrad_update(p, g, s1, n, 1e-2f, 1e-10f, 1e-3f);
  }
  OUT(r, "param", p, n);
  OUT(r, "state1", s1, n);
  OUT(r, "state2", s2, n);
}

/* ---- the table -------------------------------------------------------------------------------- *
 * Tolerances (nmse, the square of the relative error in norm). The
 * reference is exact but for one final rounding; a float32 backend rounds
 * each operation (relative error 2^-24 = 6e-8, nmse 4e-15 per rounding), so:
 * - exact (bit for bit, whatever the op's tolerance) for what is selected
 *   rather than computed: copies, fills, lookups, argmax, max pooling's
 *   values and indices (every backend compares the same floats);
 * - 1e-12 for element-wise maps (expf, tanhf, erff are a few ulp off, nmse
 *   1e-14 at most), the recurrent cells, dropout (keep = 1 / (1 - p) in
 *   float), embedding gradients (repeated rows summed in float) and the
 *   optimizers (a few roundings per step, three steps; Adam and RMSprop
 *   divide by sqrt of the second moment, which no case makes tiny);
 * - 1e-10 for sums of k float terms (gemm, conv, bias, pooling, upsampling,
 *   layer norm, softmax, losses): sqrt(k) 6e-8 relative for k up to 4,000 is 4e-6, nmse 1.6e-11;
 *   the CPU's largest is 1.1e-12 (gemm, k = 196);
 * - 1e-8 for batchnorm: the CPU folds it into y = x scale + shift, whose
 *   rounding is relative to |x| invstd, not to |y|; with one value per
 *   channel (variance 0, invstd = 1 / sqrt(eps) = 316) that is nmse 3.4e-9.
 * Each run prints the largest nmse per op. A wrong index, a dropped element
 * or an off-by-one gives an nmse near 1, far above every tolerance. */

typedef struct {
  const char *name;
  void (*run)(Run *r);
  unsigned modes;
  double nmse;
  bool (*needs)(const LlBackend *be); /* an optional slot; NULL: always runs */
} Op;

#define FB (FORWARD | BACKWARD)
static const Op OP_memory = {"memory", op_memory, FORWARD, 0}; /* all exact */
static const Op OP_axpy_scale = {"axpy-scale-sumsq", op_axpy_scale, FORWARD, 1e-12};
static const Op OP_copy2d = {"copy2d", op_copy2d, FORWARD, 1e-12};
static const Op OP_act = {"activation", op_act, FB, 1e-12};
static const Op OP_gemm = {"gemm", op_gemm, FORWARD, 1e-10};
static const Op OP_bias = {"bias", op_bias, FB, 1e-10};
static const Op OP_linear_relu = {"linear-relu (fused)", op_linear_relu, FORWARD, 1e-10,
                                  has_linear};
static const Op OP_conv2d = {"conv2d", op_conv2d, FB, 1e-10};
static const Op OP_maxpool2d = {"maxpool2d", op_maxpool2d, FB, 1e-12};
static const Op OP_avgpool2d = {"avgpool2d", op_avgpool2d, FB, 1e-10};
static const Op OP_mean_inner = {"mean-inner", op_mean_inner, FB, 1e-10};
static const Op OP_upsample2d = {"upsample2d", op_upsample2d, FB, 1e-10};
static const Op OP_batchnorm = {"batchnorm", op_batchnorm, FB | EVAL, 1e-8};
static const Op OP_layernorm = {"layernorm", op_layernorm, FB, 1e-10};
static const Op OP_bn_relu_dropout = {"batchnorm-relu-dropout (fused)", op_bn_relu_dropout,
                                      FB | EVAL, 1e-8, has_bn_relu};
static const Op OP_dropout = {"dropout", op_dropout, FB, 1e-12};
static const Op OP_relu_dropout = {"relu-dropout (fused)", op_relu_dropout, FB, 1e-12,
                                   has_relu_dropout};
static const Op OP_softmax = {"softmax", op_softmax, FB, 1e-10};
static const Op OP_cross_entropy = {"cross-entropy", op_cross_entropy, FB | EVAL, 1e-10};
static const Op OP_pointwise_loss = {"bce-mse-l1", op_pointwise_loss, FB | EVAL, 1e-10};
static const Op OP_argmax = {"argmax-rows", op_argmax, EVAL, 0}; /* exact */
static const Op OP_embedding = {"embedding", op_embedding, FB, 1e-12};
static const Op OP_lstm_cell = {"lstm-cell", op_lstm_cell, FB, 1e-12};
static const Op OP_gru_cell = {"gru-cell", op_gru_cell, FB, 1e-12};
static const Op OP_optimizer = {"optimizer", op_optimizer, FORWARD, 1e-12};

typedef struct {
  const Op *op;
  int a[14];
  const char *shape; /* a[] as written */
} Case;

#define C(OP, ...) {&OP_##OP, {__VA_ARGS__}, #__VA_ARGS__}

/* Odd sizes, size 1, non-multiples of 8 (the AVX2 width) and 16, batch 1,
 * padded leading dimensions, and one size per op large enough that the CPU
 * backend splits it across its threads. */
static const Case cases[] = {
    C(memory, 1), C(memory, 7), C(memory, 1000), C(memory, 65537),
    C(axpy_scale, 1), C(axpy_scale, 7), C(axpy_scale, 1000), C(axpy_scale, 65537),
    C(copy2d, 5, 7, 11, 9, 0), C(copy2d, 5, 7, 11, 9, 1), C(copy2d, 1, 1, 1, 1, 1),
    C(copy2d, 3, 17, 1000, 517, 1),
    C(act, 0, 4099), C(act, 1, 4099), C(act, 2, 4099), C(act, 3, 4099), C(act, 4, 4099),
    C(act, 5, 4099), C(act, 6, 4099), C(act, 0, 1), C(act, 3, 13), C(act, 0, 70001),
    C(gemm, 0, 0, 13, 17, 29, 3, 1), C(gemm, 0, 1, 13, 17, 29, 3, 1),
    C(gemm, 1, 0, 13, 17, 29, 3, 1), C(gemm, 1, 1, 13, 17, 29, 3, 0),
    C(gemm, 0, 0, 1, 5, 1, 0, 0), C(gemm, 1, 1, 1, 1, 1, 0, 1), C(gemm, 0, 1, 7, 3, 9, 100, 1),
    C(gemm, 0, 1, 64, 100, 196, 0, 0), C(gemm, 1, 0, 100, 196, 64, 0, 1),
    C(gemm, 0, 0, 64, 196, 100, 0, 1), C(gemm, 0, 1, 128, 256, 784, 0, 1), /* the MLP's */
    C(gemm, 1, 0, 256, 784, 128, 0, 1), C(gemm, 0, 0, 300, 3, 1000, 0, 1),
    C(bias, 5, 7, 1), C(bias, 3, 4, 33), C(bias, 1, 1, 1), C(bias, 16, 16, 784),
    C(linear_relu, 5, 7, 3, 1, 1), C(linear_relu, 1, 1, 1, 1, 1), C(linear_relu, 13, 29, 17, 0, 1),
    C(linear_relu, 33, 65, 31, 1, 0), C(linear_relu, 64, 196, 100, 1, 1),
    /* n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups */
    C(conv2d, 3, 4, 9, 11, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1),
    C(conv2d, 2, 6, 10, 7, 4, 3, 2, 2, 1, 1, 0, 1, 2, 1), /* stride, dilation along w */
    C(conv2d, 3, 4, 9, 9, 6, 3, 3, 2, 2, 1, 1, 1, 1, 2),  /* two groups */
    C(conv2d, 5, 16, 7, 7, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1), /* 1x1 */
    C(conv2d, 3, 5, 1, 31, 7, 1, 5, 1, 2, 0, 2, 1, 1, 1), /* Conv1d */
    C(conv2d, 2, 3, 8, 8, 3, 3, 3, 1, 1, 2, 2, 2, 2, 3),  /* depthwise, dilated */
    C(conv2d, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1),  /* size 1 */
    C(conv2d, 1, 3, 13, 11, 5, 5, 3, 3, 2, 2, 1, 1, 1, 1), /* batch 1, stride 3 */
    C(conv2d, 2, 6, 9, 9, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2),  /* groups and dilation */
    C(conv2d, 8, 8, 26, 26, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1), /* the tiny CNN's conv2 */
    C(conv2d, 3, 1, 28, 28, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1),  /* the tiny CNN's conv1 */
    C(conv2d, 2, 16, 12, 12, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1),
    C(conv2d, 37, 16, 8, 8, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1), /* several dw chunks */
    C(conv2d, 2, 1, 28, 28, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1), /* the autoencoder's */
    C(conv2d, 2, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    C(conv2d, 2, 32, 7, 7, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    C(conv2d, 2, 3, 9, 8, 2, 2, 2, 1, 1, 2, 2, 2, 2, 1), /* padding beyond the kernel */
    C(conv2d, 2, 4, 7, 9, 6, 3, 3, 2, 2, 2, 2, 2, 2, 2), /* stride, dilation, groups */
    C(conv2d, 2, 6, 6, 7, 6, 1, 1, 1, 1, 0, 0, 1, 1, 3), /* grouped 1x1 */
    C(conv2d, 2, 3, 11, 10, 2, 1, 1, 2, 2, 0, 0, 1, 1, 1), /* strided 1x1 */
    C(conv2d, 2, 2, 10, 9, 3, 4, 4, 3, 3, 1, 1, 1, 1, 1), /* even kernel, stride 3 */
    C(conv2d, 1, 5, 6, 6, 7, 5, 5, 1, 1, 4, 4, 1, 1, 1), /* padding wider than the kernel */
    C(conv2d, 2, 3, 9, 9, 4, 3, 3, 3, 3, 0, 0, 3, 3, 1), /* dilation equal to the stride */
    C(conv2d, 2, 4, 1, 7, 6, 1, 3, 1, 2, 0, 2, 1, 2, 2), /* Conv1d: stride, dilation, groups */
    C(conv2d, 2, 2, 1, 10, 3, 1, 4, 1, 3, 0, 1, 1, 1, 1), /* Conv1d: even kernel, stride 3 */
    /* n, c, h, w, k, s, p */
    C(maxpool2d, 2, 3, 9, 11, 3, 2, 1), C(maxpool2d, 3, 2, 8, 8, 2, 2, 0),
    C(maxpool2d, 1, 4, 7, 5, 3, 1, 0), C(maxpool2d, 1, 1, 1, 1, 1, 1, 0),
    C(maxpool2d, 16, 16, 24, 24, 2, 2, 0),
    C(avgpool2d, 2, 3, 9, 11, 3, 2, 1), C(avgpool2d, 3, 2, 8, 8, 2, 2, 0),
    C(avgpool2d, 1, 4, 7, 5, 3, 1, 0), C(avgpool2d, 1, 1, 1, 1, 1, 1, 0),
    C(mean_inner, 37, 49), C(mean_inner, 5, 1), C(mean_inner, 3, 1000), C(mean_inner, 1, 1),
    /* n, c, inner, affine, dx */
    C(batchnorm, 4, 3, 25, 1, 1), C(batchnorm, 7, 5, 1, 1, 1), C(batchnorm, 1, 3, 1, 1, 1),
    C(batchnorm, 3, 4, 10, 0, 1), C(batchnorm, 3, 4, 10, 1, 0), C(batchnorm, 1, 2, 17, 1, 1),
    C(batchnorm, 32, 16, 169, 1, 1), C(batchnorm, 2, 1100, 3, 1, 1),
    /* n, c, inner, affine, dx, p%, assign_dx */
    C(bn_relu_dropout, 4, 3, 25, 1, 1, 0, 0), C(bn_relu_dropout, 4, 3, 25, 1, 1, 30, 0),
    C(bn_relu_dropout, 3, 4, 10, 0, 1, 50, 1), C(bn_relu_dropout, 7, 5, 1, 1, 0, 20, 0),
    C(bn_relu_dropout, 1, 2, 17, 1, 1, 10, 1), C(bn_relu_dropout, 16, 16, 169, 1, 1, 30, 1),
    C(dropout, 1, 30), C(dropout, 7, 30), C(dropout, 1000, 50), C(dropout, 65537, 10),
    C(relu_dropout, 1, 30), C(relu_dropout, 7, 30), C(relu_dropout, 1000, 50),
    C(relu_dropout, 65537, 10),
    C(softmax, 7, 10), C(softmax, 3, 1000), C(softmax, 1, 1), C(softmax, 257, 33),
    C(cross_entropy, 13, 10, 0), C(cross_entropy, 13, 10, 10), C(cross_entropy, 1, 3, 0),
    C(cross_entropy, 9, 1000, 10), C(cross_entropy, 2000, 7, 0), C(cross_entropy, 70, 65, 0),
    C(pointwise_loss, 0, 1), C(pointwise_loss, 0, 1001), C(pointwise_loss, 1, 1),
    C(pointwise_loss, 1, 1001), C(pointwise_loss, 2, 1), C(pointwise_loss, 2, 1001),
    C(pointwise_loss, 0, 100003),
    /* a loss over zero rows is 0, not weight / 0 */
    C(cross_entropy, 0, 10, 10), C(pointwise_loss, 0, 0), C(pointwise_loss, 1, 0),
    C(pointwise_loss, 2, 0),
    C(argmax, 33, 10, 0), C(argmax, 5, 100, 0), C(argmax, 1, 1, 0), C(argmax, 300, 7, 1),
    C(argmax, 9, 45, 1), C(argmax, 9, 100, 2), C(argmax, 40, 33, 2),
    C(embedding, 11, 7, 40, 1), C(embedding, 3, 5, 200, 1), C(embedding, 1, 1, 1, 0),
    C(embedding, 1000, 64, 448, 0),
    C(lstm_cell, 5, 7, 0), C(lstm_cell, 5, 7, 1), C(lstm_cell, 1, 1, 0), C(lstm_cell, 3, 33, 1),
    C(gru_cell, 5, 7), C(gru_cell, 1, 1), C(gru_cell, 3, 33),
    C(optimizer, 0, 1001), C(optimizer, 1, 1001), C(optimizer, 2, 1001), C(optimizer, 3, 1001),
    C(optimizer, 4, 1001), C(optimizer, 5, 1001), C(optimizer, 6, 1001), C(optimizer, 7, 1001),
    C(optimizer, 8, 1001), C(optimizer, 4, 1), C(optimizer, 1, 7),
    /* ops added later go last, so that every earlier case keeps its inputs (seeded by index) */
    /* planes, h, w, scale, bilinear */
    C(upsample2d, 3, 5, 7, 2, 0), C(upsample2d, 3, 5, 7, 2, 1), C(upsample2d, 2, 1, 1, 2, 1),
    C(upsample2d, 2, 4, 3, 3, 1), C(upsample2d, 1, 6, 5, 3, 0), C(upsample2d, 4, 1, 9, 4, 1),
    C(upsample2d, 64, 14, 14, 2, 1), C(upsample2d, 64, 14, 14, 2, 0),
    /* rows, cols, affine, dx */
    C(layernorm, 6, 10, 1, 1), C(layernorm, 1, 1, 1, 1), C(layernorm, 7, 33, 0, 1),
    C(layernorm, 5, 17, 1, 0), C(layernorm, 300, 64, 1, 1), C(layernorm, 3, 4099, 1, 1),
};

/* ---- running and comparing -------------------------------------------------------------------- */

static Run run_case(const LlBackend *be, const Case *k, Mode mode, guint32 seed)
{
  Run r = {.be = be,
           .a = k->a,
           .mode = mode,
           .rand = g_rand_new_with_seed(seed),
           .allocs = g_ptr_array_new(),
           .outs = g_array_new(FALSE, FALSE, sizeof(Output))};
  k->op->run(&r);
  static char msg[640];
  if (be->take_error && be->take_error(msg, sizeof msg))
    r.failed = msg; /* the device recorded a failure */
  for (guint i = 0; i < r.allocs->len; i++)
    be->free(r.allocs->pdata[i]);
  g_ptr_array_free(r.allocs, TRUE);
  g_rand_free(r.rand);
  return r;
}

static void run_free(Run *r)
{
  for (guint i = 0; i < r->outs->len; i++)
    g_free(g_array_index(r->outs, Output, i).host);
  g_array_free(r->outs, TRUE);
}

/* nmse of got against want; exact outputs must match bit for bit (then 0,
 * else INFINITY). A non-finite value must be the same non-finite value. */
static double nmse(const Output *got, const Output *want, size_t *worst)
{
  double err = 0.0, norm = 0.0, big = -1.0;
  *worst = 0;
  for (size_t i = 0; i < want->n; i++) {
    double g = got->host[i], w = want->host[i];
    if (want->exact || !isfinite(w) || !isfinite(g)) {
      if (memcmp(&got->host[i], &want->host[i], sizeof(float)) &&
          !(isnan(g) && isnan(w))) {
        *worst = i;
        return INFINITY;
      }
      continue;
    }
    double d = (g - w) * (g - w);
    if (d > big) {
      big = d;
      *worst = i;
    }
    err += d;
    norm += w * w;
  }
  return err == 0.0 ? 0.0 : norm > 0.0 ? err / norm : INFINITY;
}

int main(int argc, char **argv)
{
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: test-ops BACKEND [OP]\n");
    return 2;
  }
  const LlBackend *be = NULL;
  char *why = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS(backends); i++)
    if (!strcmp(argv[1], backends[i].name))
      be = backends[i].open(&why);
  if (!be) {
    printf("1..0 # SKIP %s: %s\n", argv[1], why ? why : "no such backend in this test");
    g_free(why);
    return 77;
  }
  const LlBackend *ref = ll_ref_backend();
  const char *only = argc == 3 ? argv[2] : NULL;
  int run = 0, failed = 0, skipped = 0, shapes = 0, per_mode[3] = {0};
  g_autoptr(GHashTable) ops = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) worst = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
    const Case *k = &cases[ci];
    if (only && !g_str_has_prefix(k->op->name, only))
      continue;
    int run_before = run;
    for (int m = 0; m < 3; m++) {
      Mode mode = (Mode)(1 << m);
      if (!(k->op->modes & mode))
        continue;
      if (k->op->needs && be != ref && !k->op->needs(be)) {
        skipped++;
        continue;
      }
      guint32 seed = (guint32)(1000 * ci + m + 1);
      Run want = run_case(ref, k, mode, seed), got = run_case(be, k, mode, seed);
      g_assert_cmpuint(want.outs->len, ==, got.outs->len);
      g_hash_table_add(ops, (gpointer)k->op);
      double *w = g_hash_table_lookup(worst, k->op);
      if (!w) {
        w = g_new0(double, 1);
        g_hash_table_insert(worst, (gpointer)k->op, w);
      }
      run++;
      per_mode[m]++;
      bool ok = true;
      for (guint o = 0; o < want.outs->len; o++) {
        const Output *a = &g_array_index(got.outs, Output, o);
        const Output *b = &g_array_index(want.outs, Output, o);
        size_t at;
        double e = nmse(a, b, &at);
        *w = e > *w ? e : *w;
        if (e > k->op->nmse) {
          printf("FAIL %s [%s] %s %s: nmse %.3g > %.3g; element %zu of %zu: %.9g, reference "
                 "%.9g\n",
                 k->op->name, k->shape, mode_name(mode), b->name, e, k->op->nmse, at, b->n,
                 a->host[at], b->host[at]);
          ok = false;
        }
      }
      for (const char *f = want.failed; f; f = NULL)
        printf("FAIL %s [%s] %s on ref: %s\n", k->op->name, k->shape, mode_name(mode), f), ok = false;
      for (const char *f = got.failed; f; f = NULL)
        printf("FAIL %s [%s] %s: %s\n", k->op->name, k->shape, mode_name(mode), f), ok = false;
      failed += !ok;
      run_free(&want);
      run_free(&got);
    }
    shapes += run > run_before;
  }
  /* the largest nmse per op, to see how much room each tolerance leaves */
  for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
    const Op *op = cases[ci].op;
    double *w = g_hash_table_lookup(worst, op);
    if (w && *w >= 0) {
      printf("# %-32s worst nmse %.3g (tolerance %.0e)\n", op->name, *w, op->nmse);
      *w = -1; /* printed */
    }
  }
  printf("# %s (%s): %u ops, %d shapes, ops x shapes x modes = %d cases against ref (forward "
         "%d, backward %d, eval %d): %d failed; %d skipped (optional slot absent)\n",
         be->name, be->device_name, g_hash_table_size(ops), shapes, run, per_mode[0], per_mode[1],
         per_mode[2], failed, skipped);
  return failed ? 1 : run ? 0 : 77;
}
