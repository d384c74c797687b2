/* cuda-norm.cu: batch normalisation, per channel c of x(n, c, inner).
 *
 * As on the CPU, statistics are summed in double in two passes (the mean,
 * then the squared deviations from it), with ll_channel_sums: per-block
 * partial sums added in a fixed order, no atomics. Small per-channel kernels
 * turn the sums into (scale, shift) pairs, which an element-wise kernel
 * applies. The STATS scratch holds, per channel, the sums and those pairs.
 *
 * Layer normalisation (at the end) normalises each row of x(rows, cols): a
 * block per row sums in double by a fixed tree; dgamma and dbeta take a
 * thread per column summing over the rows in order. */
#include "cuda-norm.h"

#include "cuda-channel.cuh"

/* The per-channel values element-wise kernels read: y = x * a + b (forward),
 * or dx += (dy - mdy - xhat * mdyx) * a with xhat = (x - mean) * invstd. */
typedef struct {
  float a, b, mean, invstd, mdy, mdyx;
} ChannelCoef;

typedef struct {
  double *sum1;     /* (c) or (c, 2) */
  double *sum2;     /* (c) */
  ChannelCoef *coef; /* (c) */
} Stats;

static bool stats_get(int c, Stats *st)
{
  size_t bytes = (size_t)c * (3 * sizeof(double) + sizeof(ChannelCoef));
  char *p = (char *)ll_cuda_scratch(LL_SCRATCH_STATS, bytes);
  if (!p)
    return false;
  st->sum1 = (double *)p;
  st->sum2 = st->sum1 + 2 * (size_t)c;
  st->coef = (ChannelCoef *)(st->sum2 + c);
  return true;
}

static __global__ void apply_affine_kernel(const float *__restrict__ x, float *__restrict__ y,
                                           const ChannelCoef *__restrict__ coef, int c, int inner,
                                           size_t total)
{
  LL_GRID_STRIDE(i, total)
  {
    const ChannelCoef k = coef[(i / inner) % c];
    y[i] = x[i] * k.a + k.b;
  }
}

struct XTerm {
  const float *x;
  __device__ void operator()(int j, size_t at, double *acc) const { acc[0] += x[at]; }
};

struct DevTerm {
  const float *x;
  const double *sum;
  double m;
  __device__ void operator()(int j, size_t at, double *acc) const
  {
    double d = x[at] - sum[j] / m;
    acc[0] += d * d;
  }
};

static __global__ void train_coef_kernel(const double *sum, const double *ss, const float *gamma,
                                         const float *beta, float *save_mean, float *save_invstd,
                                         float *running_mean, float *running_var,
                                         ChannelCoef *coef, int c, double m, float momentum,
                                         float eps)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c)
    return;
  double mean = sum[j] / m;
  double var = ss[j] / m; /* biased: what normalises the batch */
  double invstd = 1.0 / sqrt(var + eps);
  save_mean[j] = (float)mean;
  save_invstd[j] = (float)invstd;
  /* running estimate: unbiased variance (PyTorch); one value has none */
  double unbiased = m > 1.0 ? ss[j] / (m - 1.0) : var;
  running_mean[j] = (float)((1.0 - momentum) * running_mean[j] + momentum * mean);
  running_var[j] = (float)((1.0 - momentum) * running_var[j] + momentum * unbiased);
  float a = (float)invstd * (gamma ? gamma[j] : 1.0f);
  coef[j].a = a;
  coef[j].b = (beta ? beta[j] : 0.0f) - (float)mean * a;
}

void ll_cuda_batchnorm_forward_train(const float *x, float *y, const float *gamma,
                                     const float *beta, float *save_mean, float *save_invstd,
                                     float *running_mean, float *running_var, int n, int c,
                                     int inner, float momentum, float eps)
{
  size_t total = (size_t)n * c * inner;
  if (!total)
    return;
  LlCudaScope s;
  Stats st;
  if (!stats_get(c, &st))
    return;
  double m = (double)n * inner;
  ll_channel_sums<1>(s.stream, XTerm{x}, n, c, inner, st.sum1);
  ll_channel_sums<1>(s.stream, DevTerm{x, st.sum1, m}, n, c, inner, st.sum2);
  train_coef_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(st.sum1, st.sum2, gamma, beta,
                                                           save_mean, save_invstd, running_mean,
                                                           running_var, st.coef, c, m, momentum,
                                                           eps);
  LL_CUDA_LAUNCHED("train_coef_kernel");
  apply_affine_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(x, y, st.coef, c, inner,
                                                                     total);
  LL_CUDA_LAUNCHED("apply_affine_kernel");
}

static __global__ void eval_coef_kernel(const float *gamma, const float *beta,
                                        const float *running_mean, const float *running_var,
                                        ChannelCoef *coef, int c, float eps)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c)
    return;
  float invstd = (float)(1.0 / sqrt((double)running_var[j] + eps));
  float a = invstd * (gamma ? gamma[j] : 1.0f);
  coef[j].a = a;
  coef[j].b = (beta ? beta[j] : 0.0f) - running_mean[j] * a;
  coef[j].mean = running_mean[j];
  coef[j].invstd = invstd;
  coef[j].mdy = 0.0f;
  coef[j].mdyx = 0.0f;
}

void ll_cuda_batchnorm_forward_eval(const float *x, float *y, const float *gamma,
                                    const float *beta, const float *running_mean,
                                    const float *running_var, int n, int c, int inner, float eps)
{
  size_t total = (size_t)n * c * inner;
  if (!total)
    return;
  LlCudaScope s;
  Stats st;
  if (!stats_get(c, &st))
    return;
  eval_coef_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(gamma, beta, running_mean, running_var,
                                                          st.coef, c, eps);
  LL_CUDA_LAUNCHED("eval_coef_kernel");
  apply_affine_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(x, y, st.coef, c, inner,
                                                                     total);
  LL_CUDA_LAUNCHED("apply_affine_kernel");
}

/* sum(dy) and sum(dy * xhat) per channel, xhat from mean and invstd */
struct GradTerms {
  const float *x, *dy, *mean, *invstd;
  __device__ void operator()(int j, size_t at, double *acc) const
  {
    double g = dy[at];
    acc[0] += g;
    acc[1] += g * ((double)x[at] - mean[j]) * invstd[j];
  }
};

/* The same with the running statistics (invstd computed per element: the
 * eval backward is a rare path, kept simple). */
struct EvalGradTerms {
  const float *x, *dy, *running_mean, *running_var;
  float eps;
  __device__ void operator()(int j, size_t at, double *acc) const
  {
    double g = dy[at];
    double invstd = 1.0 / sqrt((double)running_var[j] + eps);
    acc[0] += g;
    acc[1] += g * ((double)x[at] - running_mean[j]) * invstd;
  }
};

static __global__ void grad_coef_kernel(const double *sums, // (c, 2)
                                        const float *gamma, const float *mean,
                                        const float *invstd, float *dgamma, float *dbeta,
                                        ChannelCoef *coef, int c, double m)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c)
    return;
  double sdy = sums[2 * j], sdyx = sums[2 * j + 1];
  if (dgamma)
    dgamma[j] += (float)sdyx;
  if (dbeta)
    dbeta[j] += (float)sdy;
  coef[j].a = (float)((gamma ? gamma[j] : 1.0) * invstd[j]);
  coef[j].mean = mean[j];
  coef[j].invstd = invstd[j];
  coef[j].mdy = (float)(sdy / m);
  coef[j].mdyx = (float)(sdyx / m);
}

static __global__ void bn_dx_kernel(const float *__restrict__ x, const float *__restrict__ dy,
                                    const ChannelCoef *__restrict__ coef, float *__restrict__ dx,
                                    int c, int inner, size_t total)
{
  LL_GRID_STRIDE(i, total)
  {
    const ChannelCoef k = coef[(i / inner) % c];
    float xhat = (x[i] - k.mean) * k.invstd;
    dx[i] += k.a * (dy[i] - k.mdy - xhat * k.mdyx);
  }
}

void ll_cuda_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                                const float *save_mean, const float *save_invstd, float *dx,
                                float *dgamma, float *dbeta, int n, int c, int inner)
{
  size_t total = (size_t)n * c * inner;
  if (!total)
    return;
  LlCudaScope s;
  Stats st;
  if (!stats_get(c, &st))
    return;
  double m = (double)n * inner;
  ll_channel_sums<2>(s.stream, GradTerms{x, dy, save_mean, save_invstd}, n, c, inner, st.sum1);
  grad_coef_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(st.sum1, gamma, save_mean, save_invstd,
                                                          dgamma, dbeta, st.coef, c, m);
  LL_CUDA_LAUNCHED("grad_coef_kernel");
  if (!dx)
    return;
  bn_dx_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(x, dy, st.coef, dx, c, inner,
                                                              total);
  LL_CUDA_LAUNCHED("bn_dx_kernel");
}

static __global__ void add_affine_grads_kernel(const double *sums, float *dgamma, float *dbeta,
                                               int c)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= c)
    return;
  if (dgamma)
    dgamma[j] += (float)sums[2 * j + 1];
  if (dbeta)
    dbeta[j] += (float)sums[2 * j];
}

/* dx += dy * a: the statistics are constants here */
static __global__ void scale_add_kernel(const float *__restrict__ dy,
                                        const ChannelCoef *__restrict__ coef,
                                        float *__restrict__ dx, int c, int inner, size_t total)
{
  LL_GRID_STRIDE(i, total)
  dx[i] += dy[i] * coef[(i / inner) % c].a;
}

void ll_cuda_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                     const float *running_mean, const float *running_var,
                                     float *dx, float *dgamma, float *dbeta, int n, int c,
                                     int inner, float eps)
{
  size_t total = (size_t)n * c * inner;
  if (!total)
    return;
  LlCudaScope s;
  Stats st;
  if (!stats_get(c, &st))
    return;
  if (dgamma || dbeta) {
    ll_channel_sums<2>(s.stream, EvalGradTerms{x, dy, running_mean, running_var, eps}, n, c,
                       inner, st.sum1);
    add_affine_grads_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(st.sum1, dgamma, dbeta, c);
    LL_CUDA_LAUNCHED("add_affine_grads_kernel");
  }
  if (!dx)
    return;
  eval_coef_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(gamma, NULL, running_mean, running_var,
                                                          st.coef, c, eps);
  LL_CUDA_LAUNCHED("eval_coef_kernel");
  scale_add_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(dy, st.coef, dx, c, inner,
                                                                  total);
  LL_CUDA_LAUNCHED("scale_add_kernel");
}

/* ---- layer normalisation over each row of x(rows, cols) ---- */

/* A block per row: the mean, then the squared deviations, each summed in
 * double by a fixed tree (ll_block_sum), then the output. */
static __global__ void layernorm_forward_kernel(const float *__restrict__ x, float *__restrict__ y,
                                                const float *gamma, const float *beta,
                                                float *save_mean, float *save_invstd, int rows,
                                                int cols, float eps)
{
  __shared__ double sh[LL_THREADS];
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *xr = x + (size_t)r * cols;
    double acc = 0.0;
    for (int k = threadIdx.x; k < cols; k += blockDim.x)
      acc += xr[k];
    float mean = (float)(ll_block_sum(acc, sh) / cols);
    acc = 0.0;
    for (int k = threadIdx.x; k < cols; k += blockDim.x) {
      float d = xr[k] - mean;
      acc += (double)d * d;
    }
    double var = ll_block_sum(acc, sh) / cols;
    float invstd = (float)(1.0 / sqrt(var + eps));
    if (threadIdx.x == 0) {
      save_mean[r] = mean;
      save_invstd[r] = invstd;
    }
    for (int k = threadIdx.x; k < cols; k += blockDim.x) {
      float xhat = (xr[k] - mean) * invstd;
      y[(size_t)r * cols + k] = gamma ? xhat * gamma[k] + beta[k] : xhat;
    }
  }
}

void ll_cuda_layernorm_forward(const float *x, float *y, const float *gamma, const float *beta,
                               float *save_mean, float *save_invstd, int rows, int cols, float eps)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  unsigned blocks = rows < 65535 ? (unsigned)rows : 65535u;
  layernorm_forward_kernel<<<blocks, LL_THREADS, 0, s.stream>>>(x, y, gamma, beta, save_mean,
                                                                save_invstd, rows, cols, eps);
  LL_CUDA_LAUNCHED("layernorm_forward_kernel");
}

/* A block per row: dx += invstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma. */
static __global__ void layernorm_dx_kernel(const float *__restrict__ x,
                                           const float *__restrict__ dy, const float *gamma,
                                           const float *save_mean, const float *save_invstd,
                                           float *__restrict__ dx, int rows, int cols)
{
  __shared__ double sh[LL_THREADS];
  for (int r = blockIdx.x; r < rows; r += gridDim.x) {
    const float *xr = x + (size_t)r * cols, *dyr = dy + (size_t)r * cols;
    float mean = save_mean[r], invstd = save_invstd[r];
    double sg = 0.0, sgx = 0.0;
    for (int k = threadIdx.x; k < cols; k += blockDim.x) {
      float g = gamma ? dyr[k] * gamma[k] : dyr[k];
      sg += g;
      sgx += (double)g * ((xr[k] - mean) * invstd);
    }
    float mg = (float)(ll_block_sum(sg, sh) / cols), mgx = (float)(ll_block_sum(sgx, sh) / cols);
    for (int k = threadIdx.x; k < cols; k += blockDim.x) {
      float g = gamma ? dyr[k] * gamma[k] : dyr[k];
      float xhat = (xr[k] - mean) * invstd;
      dx[(size_t)r * cols + k] += invstd * (g - mg - xhat * mgx);
    }
  }
}

/* A thread per column sums over the rows in order: dgamma += dy xhat, dbeta += dy. */
static __global__ void layernorm_affine_kernel(const float *__restrict__ x,
                                               const float *__restrict__ dy, const float *save_mean,
                                               const float *save_invstd, float *dgamma,
                                               float *dbeta, int rows, int cols)
{
  LL_GRID_STRIDE(k, (size_t)cols)
  {
    double sg = 0.0, sb = 0.0;
    for (int r = 0; r < rows; r++) {
      size_t at = (size_t)r * cols + k;
      sg += (double)dy[at] * ((x[at] - save_mean[r]) * save_invstd[r]);
      sb += dy[at];
    }
    dgamma[k] += (float)sg;
    dbeta[k] += (float)sb;
  }
}

void ll_cuda_layernorm_backward(const float *x, const float *dy, const float *gamma,
                                const float *save_mean, const float *save_invstd, float *dx,
                                float *dgamma, float *dbeta, int rows, int cols)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  if (dx) {
    unsigned blocks = rows < 65535 ? (unsigned)rows : 65535u;
    layernorm_dx_kernel<<<blocks, LL_THREADS, 0, s.stream>>>(x, dy, gamma, save_mean, save_invstd,
                                                             dx, rows, cols);
    LL_CUDA_LAUNCHED("layernorm_dx_kernel");
  }
  if (dgamma) {
    layernorm_affine_kernel<<<ll_blocks(cols), LL_THREADS, 0, s.stream>>>(
        x, dy, save_mean, save_invstd, dgamma, dbeta, rows, cols);
    LL_CUDA_LAUNCHED("layernorm_affine_kernel");
  }
}
