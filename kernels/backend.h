/* backend.h: the table of compute operations one device implements.
 *
 * The engine calls only these slots; kernels/ref, kernels/cpu and
 * kernels/cuda each fill one table. All tensors are float32, row-major, NCHW; pointers are device
 * pointers of the backend that owns them. Shapes are given as plain ints.
 *
 * Conventions every slot follows:
 * - "backward" slots ACCUMULATE into their gradient outputs (dx += ...), so a
 *   tensor read by several blocks collects the sum of its consumers' gradients.
 * - A slot marked OPTIONAL may be NULL. For the optional ops that compute
 *   (the fused ones), ll_backend_supports() tells the engine, which runs
 *   the ops apart where a backend lacks the fused one.
 * - Scalars the host needs (losses, norms) are written to a device float and
 *   read back with download().
 *
 * This header is plain C: no GLib, no CUDA syntax.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  LL_ACT_RELU,
  LL_ACT_LEAKY_RELU, /* alpha: negative slope */
  LL_ACT_ELU,        /* alpha: saturation value */
  LL_ACT_GELU,       /* exact (erf) form, as PyTorch's default */
  LL_ACT_SIGMOID,
  LL_ACT_TANH,
  LL_ACT_IDENTITY,
} LlActivation;

/* The arguments of the fused batchnorm -> ReLU [-> dropout] slots:
 * x(n, c, inner) normalised per channel c as the batchnorm slots do. */
typedef struct {
  int n, c, inner;
  bool training;                     /* batch statistics; else the running ones */
  const float *gamma, *beta;         /* NULL: affine = false */
  float *running_mean, *running_var; /* updated by the training forward */
  float *save_mean, *save_invstd;    /* written by the training forward, read by backward */
  float momentum, eps;
  float p;               /* dropout probability; 0: no dropout (evaluation passes 0) */
  uint64_t seed, offset; /* the dropout mask's stream, as dropout_forward */
  bool assign_dx;        /* backward writes dx instead of adding to it */
} LlBnRelu;

/* Geometry of a 2-D convolution (Conv1d uses h = kh = 1). */
typedef struct {
  int n, c, h, w; /* input */
  int oc, oh, ow; /* output */
  int kh, kw;     /* kernel */
  int sh, sw;     /* stride */
  int ph, pw;     /* zero padding */
  int dh, dw;     /* dilation */
  int groups;     /* c and oc are multiples of groups */
} LlConvGeom;

/* Geometry of a 2-D pooling window. */
typedef struct {
  int n, c, h, w;
  int oh, ow;
  int kh, kw, sh, sw, ph, pw;
} LlPoolGeom;

typedef struct LlBackend LlBackend;

struct LlBackend {
  const char *name;        /* "cpu", "cuda" */
  const char *device_name; /* human readable, e.g. the GPU's name */
  /* Device pointers are host pointers (the CPU): a graph reads its inputs
   * where the loader wrote them instead of uploading a copy. */
  bool host_memory;

  /* --- memory ---------------------------------------------------------- */
  /* Returns zeroed memory of bytes, or NULL when the device is full. */
  void *(*alloc)(size_t bytes);
  void (*free)(void *ptr);
  /* src_host may be freed or overwritten as soon as upload returns (CUDA's
   * cudaMemcpyAsync from pageable memory stages it before returning); the
   * copy is ordered before any later slot. download returns with dst_host
   * written. */
  void (*upload)(float *dst, const float *src_host, size_t n);
  void (*download)(float *dst_host, const float *src, size_t n);
  /* Bytes free on the device (0 when unknown). OPTIONAL */
  size_t (*mem_free)(void);
  /* Waits for queued work. OPTIONAL (synchronous backends) */
  void (*synchronize)(void);
  /* Device backends do not abort on a failed launch, copy or allocation
   * inside a step: they record the first failure ("file:line: call: reason").
   * This copies it into buf (len bytes), clears it and returns true, or
   * returns false when nothing failed. The engine asks after each step and
   * fails the run with the message. OPTIONAL (the CPU backend records a
   * kernel scratch buffer it could not allocate) */
  bool (*take_error)(char *buf, size_t len);

  /* --- element-wise -------------------------------------------------------- */
  void (*fill)(float *x, float v, size_t n);
  void (*copy)(float *dst, const float *src, size_t n);
  /* y += a * x */
  void (*axpy)(float *y, float a, const float *x, size_t n);
  void (*scale)(float *x, float a, size_t n);
  /* dst(rows, ld_dst)[:, 0:cols] (+)= src(rows, ld_src)[:, 0:cols] */
  void (*copy2d)(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                 bool accumulate);
  /* y = act(x) */
  void (*act_forward)(LlActivation act, float alpha, const float *x, float *y, size_t n);
  /* dx += dy * act'(x); y = act(x) is passed for the functions whose
   * derivative is cheaper from it */
  void (*act_backward)(LlActivation act, float alpha, const float *x, const float *y,
                       const float *dy, float *dx, size_t n);
  /* *out = sum(x * x) */
  void (*sum_squares)(const float *x, size_t n, float *out);

  /* OPTIONAL (NULL: the caller runs fn(arg, 0, 0, n) itself). Runs host-side
   * work between kernels, such as filling an evaluation batch, on the
   * backend's host threads: fn(arg, chunk, begin, end) over [0, n) cut into
   * chunks of grain items (chunk = begin / grain); returns when all are done. */
  void (*host_parallel_for)(int n, int grain, void (*fn)(void *arg, int chunk, int begin, int end),
                            void *arg);

  /* --- matrices ------------------------------------------------------------ */
  /* C(m,n) = alpha * op(A) op(B) + beta * C, row-major, op = transpose if t */
  void (*gemm)(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc);
  /* y(n, c, inner) += bias(c) */
  void (*bias_add)(float *y, const float *bias, int n, int c, int inner);
  /* dbias(c) += sum over n, inner of dy(n, c, inner) */
  void (*bias_backward)(const float *dy, float *dbias, int n, int c, int inner);
  /* OPTIONAL (NULL: gemm, bias_add and act_forward apart). A dense layer's
   *   y(rows, out) = x(rows, in) w(out, in)^T [+ bias(out)] [then max(y, 0)]
   * the same arithmetic as those slots in that order, with the bias (may be
   * NULL) and the ReLU (when relu) applied to each block of y while it is
   * in cache, not in passes of their own. */
  void (*linear_forward)(const float *x, const float *w, const float *bias, float *y, int rows,
                         int in, int out, bool relu);

  /* --- convolution ----------------------------------------------------------- */
  /* Scratch floats the three conv slots below need for this geometry. */
  size_t (*conv2d_workspace)(const LlConvGeom *g);
  /* y(n, oc, oh, ow) = conv(x(n, c, h, w), w(oc, c/groups, kh, kw)); no bias */
  void (*conv2d_forward)(const LlConvGeom *g, const float *x, const float *w, float *y, float *ws);
  /* dx(n, c, h, w) += conv^T(dy, w) */
  void (*conv2d_backward_data)(const LlConvGeom *g, const float *w, const float *dy, float *dx,
                               float *ws);
  /* dw(oc, c/groups, kh, kw) += correlation of x with dy */
  void (*conv2d_backward_filter)(const LlConvGeom *g, const float *x, const float *dy, float *dw,
                                 float *ws);

  /* --- pooling ----------------------------------------------------------------- */
  /* argmax(n, c, oh, ow) holds the flat input index of each maximum */
  void (*maxpool2d_forward)(const LlPoolGeom *g, const float *x, float *y, int32_t *argmax);
  void (*maxpool2d_backward)(const LlPoolGeom *g, const int32_t *argmax, const float *dy,
                             float *dx);
  /* padding counts in the divisor (PyTorch's count_include_pad=True) */
  void (*avgpool2d_forward)(const LlPoolGeom *g, const float *x, float *y);
  void (*avgpool2d_backward)(const LlPoolGeom *g, const float *dy, float *dx);
  /* y(outer) = mean over inner of x(outer, inner) */
  void (*mean_inner_forward)(const float *x, float *y, int outer, int inner);
  void (*mean_inner_backward)(const float *dy, float *dx, int outer, int inner);
  /* y(planes, oh, ow) = x(planes, h, w) resampled to a larger grid, as
   * PyTorch's Upsample / interpolate: nearest (not bilinear) reads
   * x[floor(oy h / oh)][floor(ox w / ow)]; bilinear (align_corners = False)
   * reads around the source point (o + 0.5) in / out - 0.5, clamped at 0,
   * its two neighbours per axis weighted linearly, the upper one clamped to
   * the last row or column. */
  void (*upsample2d_forward)(bool bilinear, const float *x, float *y, int planes, int h, int w,
                             int oh, int ow);
  /* dx(planes, h, w) += the transpose of forward applied to dy(planes, oh, ow) */
  void (*upsample2d_backward)(bool bilinear, const float *dy, float *dx, int planes, int h, int w,
                              int oh, int ow);

  /* --- normalisation ---------------------------------------------------------- */
  /* x(n, c, inner). Training: batch statistics, saves mean and 1/std per
   * channel, updates the running estimates (unbiased variance, PyTorch's rule). */
  void (*batchnorm_forward_train)(const float *x, float *y, const float *gamma, const float *beta,
                                  float *save_mean, float *save_invstd, float *running_mean,
                                  float *running_var, int n, int c, int inner, float momentum,
                                  float eps);
  void (*batchnorm_forward_eval)(const float *x, float *y, const float *gamma, const float *beta,
                                 const float *running_mean, const float *running_var, int n, int c,
                                 int inner, float eps);
  /* dx, dgamma, dbeta accumulate; dx may be NULL (input needs no gradient) */
  void (*batchnorm_backward)(const float *x, const float *dy, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dx,
                             float *dgamma, float *dbeta, int n, int c, int inner);
  /* Backward of batchnorm_forward_eval, where the running statistics are
   * constants: dx += dy * gamma / sqrt(running_var + eps); dgamma, dbeta
   * accumulate; dx may be NULL. (Frozen-statistics fine-tuning and gradient
   * checks in evaluation mode.) For every batchnorm slot, gamma and beta may be
   * NULL (affine = false: scale 1, shift 0), and then dgamma and dbeta are NULL. */
  void (*batchnorm_backward_eval)(const float *x, const float *dy, const float *gamma,
                                  const float *running_mean, const float *running_var, float *dx,
                                  float *dgamma, float *dbeta, int n, int c, int inner, float eps);
  /* Layer normalisation of each row of x(rows, cols) over its cols values
   * (PyTorch's LayerNorm: biased variance): y = (x - mean) invstd gamma +
   * beta, gamma and beta (cols) or NULL (elementwise_affine = false). Saves
   * the mean and 1 / sqrt(var + eps) per row (rows). */
  void (*layernorm_forward)(const float *x, float *y, const float *gamma, const float *beta,
                            float *save_mean, float *save_invstd, int rows, int cols, float eps);
  /* dx (may be NULL), dgamma and dbeta (NULL when gamma is) accumulate */
  void (*layernorm_backward)(const float *x, const float *dy, const float *gamma,
                             const float *save_mean, const float *save_invstd, float *dx,
                             float *dgamma, float *dbeta, int rows, int cols);

  /* OPTIONAL, both or neither (NULL: the blocks run apart). A BatchNorm whose
   * only consumer is a ReLU runs that ReLU, and the Dropout the ReLU runs
   * inside (relu_dropout_forward) if any, in its own passes:
   *   z = max(bn(x), 0) * mask
   * with bn as batchnorm_forward_train (a->training) or batchnorm_forward_eval
   * computes it, and mask as dropout_forward draws it when a->p > 0. The
   * backward takes g = z > 0 ? dz * keep : 0 (keep = 1 / (1 - p), 1 without
   * dropout: the gradient ReLU and dropout pass on) through
   * batchnorm_backward, or batchnorm_backward_eval when !a->training. dgamma
   * and dbeta accumulate, dx too unless a->assign_dx; each may be NULL. */
  void (*batchnorm_relu_forward)(const LlBnRelu *a, const float *x, float *z);
  void (*batchnorm_relu_backward)(const LlBnRelu *a, const float *x, const float *z,
                                  const float *dz, float *dx, float *dgamma, float *dbeta);

  /* --- stochastic ---------------------------------------------------------------- */
  /* mask = (u >= p) / (1 - p) with u = ll_counter_bits24(ll_counter_key(seed,
   * offset), i) / 2^24 (counter-rng.h); y = x * mask */
  void (*dropout_forward)(const float *x, float *y, float *mask, size_t n, float p, uint64_t seed,
                          uint64_t offset);
  /* dx += dy * mask (also usable as a generic element-wise product) */
  void (*mul_backward)(const float *dy, const float *mask, float *dx, size_t n);
  /* OPTIONAL, both or neither (NULL: ReLU and Dropout run apart). A ReLU
   * whose only consumer is a Dropout runs inside it: dropout_forward of
   * max(x, 0), the same mask; backward dx += x > 0 ? dy * mask : 0, with x
   * the ReLU's input. */
  void (*relu_dropout_forward)(const float *x, float *y, float *mask, size_t n, float p,
                               uint64_t seed, uint64_t offset);
  void (*relu_mul_backward)(const float *dy, const float *mask, const float *x, float *dx,
                            size_t n);

  /* --- softmax, losses, metrics ------------------------------------------------------ */
  void (*softmax_forward)(const float *x, float *y, int rows, int cols);
  void (*softmax_backward)(const float *y, const float *dy, float *dx, int rows, int cols);
  /* Every loss writes the mean loss over `rows` (or elements) times weight
   * into *loss, and accumulates d(weight * mean loss)/d(pred) into dpred
   * (dpred may be NULL for evaluation). Over zero rows the loss is 0 and
   * nothing accumulates (ll_loss_scale), never 0 / 0. */
  /* logits(rows, cols), target(rows) holds class indices as floats */
  void (*cross_entropy)(const float *logits, const float *target, int rows, int cols,
                        float smoothing, float weight, float *loss, float *dlogits);
  void (*bce_logits)(const float *logits, const float *target, size_t n, float weight, float *loss,
                     float *dlogits);
  void (*mse)(const float *pred, const float *target, size_t n, float weight, float *loss,
              float *dpred);
  void (*l1)(const float *pred, const float *target, size_t n, float weight, float *loss,
             float *dpred);
  /* out(rows) = index of the row's maximum, as float */
  void (*argmax_rows)(const float *x, int rows, int cols, float *out);

  /* --- sequences and lookup -------------------------------------------------------------- */
  /* table(vocab, dim); idx(n) holds indices as floats; out(n, dim). An index
   * is rounded to the nearest integer and clamped to [0, vocab) (NaN reads
   * row 0): the data layer validates ranges, and a forward pass cannot fail,
   * so a bad index must never read outside the table. */
  void (*embedding_forward)(const float *table, const float *idx, float *out, int n, int vocab,
                            int dim);
  /* dtable(vocab, dim) += dout(n, dim) scattered to the rows forward read
   * (same rounding and clamping) */
  void (*embedding_backward)(const float *idx, const float *dout, float *dtable, int n, int vocab,
                             int dim);
  /* LSTM cell on preactivations gates(n, 4h) laid out [i f g o]; c_prev(n,h).
   * Writes c(n,h), h(n,h) and keeps the activated gates in gates (in place). */
  void (*lstm_cell_forward)(float *gates, const float *c_prev, float *c, float *h, int n,
                            int hidden);
  /* gates(n,4h) activated as forward left them; dh(n,h) is the total gradient
   * into h_t, dc(n,h) the gradient into c_t from step t+1 only (this slot adds
   * the path through h_t = o * tanh(c_t)). Writes dgates(n,4h), the gradients
   * of the preactivations (overwrite; dgates may be the same buffer as gates),
   * and accumulates dc_prev(n,h). dc_prev must not alias dc. */
  void (*lstm_cell_backward)(const float *gates, const float *c_prev, const float *c,
                             const float *dh, const float *dc, float *dgates, float *dc_prev, int n,
                             int hidden);
  /* GRU cell (PyTorch's formulation): xg(n,3h) = x W_ih^T + b_ih, hg(n,3h) =
   * h_prev W_hh^T + b_hh, gates [r z n]: r = s(xg_r + hg_r), z = s(xg_z + hg_z),
   * n = tanh(xg_n + r * hg_n), h = (1 - z) * n + z * h_prev.
   * Saves r, z, n, and hg_n in act(n,4h). */
  void (*gru_cell_forward)(const float *xg, const float *hg, const float *h_prev, float *h,
                           float *act, int n, int hidden);
  /* dh(n,h) is the total gradient into h_t. Writes dxg(n,3h), dhg(n,3h)
   * (overwrite; neither is read, so they may be the buffers xg, hg of forward);
   * accumulates dh_prev(n,h), which must not alias dh. */
  void (*gru_cell_backward)(const float *act, const float *h_prev, const float *dh, float *dxg,
                            float *dhg, float *dh_prev, int n, int hidden);

  /* --- optimizer updates (one fused pass over a parameter segment) ----------------------- */
  /* PyTorch's torch.optim semantics. p(n) is updated in place from g(n); the
   * state arrays (n) persist between steps and start zeroed. */
  /* SGD: first_step initialises mom to the (decayed) gradient; mom may be
   * NULL when momentum == 0 */
  void (*sgd_update)(float *p, const float *g, float *mom, size_t n, float lr, float momentum,
                     float dampening, bool nesterov, float weight_decay, bool first_step);
  /* Adam with bias correction; adamw: decoupled weight decay p *= 1 - lr wd;
   * step counts from 1 */
  void (*adam_update)(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, bool adamw, int64_t step);
  /* RMSprop, not centered; mom may be NULL when momentum == 0 */
  void (*rmsprop_update)(float *p, const float *g, float *sq, float *mom, size_t n, float lr,
                         float alpha, float eps, float weight_decay, float momentum);
  /* Adagrad without lr decay, initial accumulator 0 */
  void (*adagrad_update)(float *p, const float *g, float *sum, size_t n, float lr, float eps,
                         float weight_decay);
};

/* The factor a loss slot multiplies its sum by: weight / rows, and 0 over
 * zero rows (the loss of nothing is 0; weight / 0 made it NaN). */
static inline float ll_loss_scale(float weight, size_t rows)
{
  return rows ? weight / (float)rows : 0.0f;
}

/* The optional ops a backend may implement (each one or two OPTIONAL slots
 * of LlBackend above). */
typedef enum {
  LL_OP_LINEAR_RELU,    /* linear_forward: a dense layer with its bias and ReLU fused */
  LL_OP_BATCHNORM_RELU, /* batchnorm_relu_forward and batchnorm_relu_backward */
  LL_OP_RELU_DROPOUT,   /* relu_dropout_forward and relu_mul_backward */
  LL_N_OPTIONAL_OPS
} LlOptionalOp;

/* Whether be runs op: every slot the op needs is filled. The answer for a
 * backend is its table's, so no backend can claim an op it lacks. */
bool ll_backend_supports(const LlBackend *be, LlOptionalOp op);

/* The CPU backend: always present. */
const LlBackend *ll_cpu_backend(void);

/* The reference backend (kernels/ref): naive double-precision arithmetic on
 * float32 tensors in host memory, single-threaded, no optional slot. The
 * specification the other backends are tested against; always present. */
const LlBackend *ll_ref_backend(void);

/* Threads the CPU backend may use (1 = single-threaded). */
void ll_cpu_set_threads(int n);
int ll_cpu_get_threads(void);

#ifdef __cplusplus
}
#endif
