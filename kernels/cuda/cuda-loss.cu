/* cuda-loss.cu: softmax, the losses and argmax.
 *
 * Row-wise ops give each row a warp (eight rows per block). Loss totals are
 * summed in double, as on the CPU: per row or element, then per block in a
 * fixed order into partials, then one block adds the partials in order. */
#include "cuda-loss.h"

#include <float.h>

#include "cuda-common.cuh"

#define ROWS_PER_BLOCK (LL_THREADS / 32)

/* The warp of this thread walks rows warp_row, warp_row + warps, ...; the
 * loop bound is uniform over the warp, so shuffles see all 32 lanes. */
#define LL_WARP_ROWS(r, rows)                                                                   \
  for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < (rows);                        \
       r += (gridDim.x * blockDim.x) >> 5)

static unsigned row_blocks(int rows)
{
  unsigned b = (unsigned)((rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK);
  return b > 65535u ? 65535u : b;
}

static __global__ void softmax_forward_kernel(const float *__restrict__ x, float *__restrict__ y,
                                              int rows, int cols)
{
  int lane = threadIdx.x & 31;
  LL_WARP_ROWS(r, rows)
  {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    float mx = -FLT_MAX;
    for (int j = lane; j < cols; j += 32)
      mx = fmaxf(mx, xr[j]);
    mx = ll_warp_max(mx);
    float s = 0.0f;
    for (int j = lane; j < cols; j += 32) {
      float e = expf(xr[j] - mx);
      yr[j] = e;
      s += e;
    }
    float inv = 1.0f / ll_warp_sumf(s);
    for (int j = lane; j < cols; j += 32)
      yr[j] *= inv;
  }
}

void ll_cuda_softmax_forward(const float *x, float *y, int rows, int cols)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  softmax_forward_kernel<<<row_blocks(rows), LL_THREADS, 0, s.stream>>>(x, y, rows, cols);
  LL_CUDA_LAUNCHED("softmax_forward_kernel");
}

static __global__ void softmax_backward_kernel(const float *__restrict__ y,
                                               const float *__restrict__ dy,
                                               float *__restrict__ dx, int rows, int cols)
{
  int lane = threadIdx.x & 31;
  LL_WARP_ROWS(r, rows)
  {
    const float *yr = y + (size_t)r * cols, *dyr = dy + (size_t)r * cols;
    float *dxr = dx + (size_t)r * cols;
    float dot = 0.0f;
    for (int j = lane; j < cols; j += 32)
      dot += yr[j] * dyr[j];
    dot = ll_warp_sumf(dot);
    for (int j = lane; j < cols; j += 32)
      dxr[j] += yr[j] * (dyr[j] - dot);
  }
}

void ll_cuda_softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  softmax_backward_kernel<<<row_blocks(rows), LL_THREADS, 0, s.stream>>>(y, dy, dx, rows, cols);
  LL_CUDA_LAUNCHED("softmax_backward_kernel");
}

/* Cross entropy against (1 - s) one-hot + s / cols. partials[blockIdx.x] =
 * the sum of the block's row losses (rows in order of warp, then of step). */
static __global__ void cross_entropy_kernel(const float *__restrict__ logits,
                                            const float *__restrict__ target, int rows, int cols,
                                            float smoothing, float scale,
                                            float *__restrict__ dlogits, double *partials)
{
  __shared__ double warp_total[ROWS_PER_BLOCK];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  float off = smoothing / (float)cols;
  double total = 0.0;
  LL_WARP_ROWS(r, rows)
  {
    const float *x = logits + (size_t)r * cols;
    int t = (int)target[r];
    float mx = -FLT_MAX;
    for (int j = lane; j < cols; j += 32)
      mx = fmaxf(mx, x[j]);
    mx = ll_warp_max(mx);
    double s = 0.0;
    for (int j = lane; j < cols; j += 32)
      s += exp((double)(x[j] - mx));
    double lse = log(ll_warp_sum(s)) + mx;
    double row = 0.0;
    for (int j = lane; j < cols; j += 32) {
      double q = (j == t ? 1.0 - smoothing : 0.0) + off;
      if (q != 0.0)
        row += q * (lse - x[j]);
    }
    total += ll_warp_sum(row);
    if (dlogits) {
      float *d = dlogits + (size_t)r * cols;
      for (int j = lane; j < cols; j += 32) {
        float p = (float)exp(x[j] - lse);
        float q = (j == t ? 1.0f - smoothing : 0.0f) + off;
        d[j] += scale * (p - q);
      }
    }
  }
  if (lane == 0)
    warp_total[warp] = total;
  __syncthreads();
  if (threadIdx.x == 0) {
    double b = 0.0;
    for (int w = 0; w < ROWS_PER_BLOCK; w++)
      b += warp_total[w];
    partials[blockIdx.x] = b;
  }
}

void ll_cuda_cross_entropy(const float *logits, const float *target, int rows, int cols,
                           float smoothing, float weight, float *loss, float *dlogits)
{
  LlCudaScope s;
  float scale = ll_loss_scale(weight, (size_t)(rows > 0 ? rows : 0));
  unsigned blocks = row_blocks(rows > 0 ? rows : 1);
  if (blocks > 1024)
    blocks = 1024;
  double *partials = (double *)ll_cuda_scratch(LL_SCRATCH_REDUCE, blocks * sizeof(double));
  if (!partials)
    return;
  cross_entropy_kernel<<<blocks, LL_THREADS, 0, s.stream>>>(logits, target, rows, cols, smoothing,
                                                            scale, dlogits, partials);
  LL_CUDA_LAUNCHED("cross_entropy_kernel");
  ll_finish_sum_kernel<<<1, LL_THREADS, 0, s.stream>>>(partials, (int)blocks, scale, loss);
  LL_CUDA_LAUNCHED("ll_finish_sum_kernel");
}

/* max(x, 0) - x t + log(1 + exp(-|x|)): stable for large |x| */
struct BceTerm {
  const float *x, *t;
  float *dx;
  float scale;
  __device__ double operator()(size_t i) const
  {
    float xi = x[i], ti = t[i];
    if (dx)
      dx[i] += scale * (1.0f / (1.0f + expf(-xi)) - ti);
    double xd = xi;
    return fmax(xd, 0.0) - xd * ti + log1p(exp(-fabs(xd)));
  }
};

void ll_cuda_bce_logits(const float *logits, const float *target, size_t n, float weight,
                        float *loss, float *dlogits)
{
  LlCudaScope s;
  float scale = ll_loss_scale(weight, n);
  ll_cuda_sum(s.stream, BceTerm{logits, target, dlogits, scale}, n, scale, loss);
}

struct MseTerm {
  const float *p, *t;
  float *dp;
  float scale;
  __device__ double operator()(size_t i) const
  {
    float d = p[i] - t[i];
    if (dp)
      dp[i] += 2.0f * scale * d;
    return (double)d * d;
  }
};

void ll_cuda_mse(const float *pred, const float *target, size_t n, float weight, float *loss,
                 float *dpred)
{
  LlCudaScope s;
  float scale = ll_loss_scale(weight, n);
  ll_cuda_sum(s.stream, MseTerm{pred, target, dpred, scale}, n, scale, loss);
}

struct L1Term {
  const float *p, *t;
  float *dp;
  float scale;
  __device__ double operator()(size_t i) const
  {
    float d = p[i] - t[i];
    if (dp)
      dp[i] += scale * (float)((d > 0.0f) - (d < 0.0f));
    return fabs((double)d);
  }
};

void ll_cuda_l1(const float *pred, const float *target, size_t n, float weight, float *loss,
                float *dpred)
{
  LlCudaScope s;
  float scale = ll_loss_scale(weight, n);
  ll_cuda_sum(s.stream, L1Term{pred, target, dpred, scale}, n, scale, loss);
}

/* The first index of the row's maximum; NaN is never the maximum (a row of
 * NaN gives 0), as the reference's and the CPU's scans. Each lane keeps the
 * first maximum of its values that are not NaN: a lane that took a NaN as
 * its best would never replace it, and the butterfly would drop its whole
 * subtree. */
static __global__ void argmax_rows_kernel(const float *__restrict__ x, int rows, int cols,
                                          float *__restrict__ out)
{
  int lane = threadIdx.x & 31;
  LL_WARP_ROWS(r, rows)
  {
    const float *xr = x + (size_t)r * cols;
    float best = -FLT_MAX;
    int at = cols;
    for (int j = lane; j < cols; j += 32)
      if (!isnan(xr[j]) && (at == cols || xr[j] > best)) {
        best = xr[j];
        at = j;
      }
    for (int o = 16; o > 0; o >>= 1) {
      float ob = __shfl_xor_sync(0xffffffffu, best, o);
      int oa = __shfl_xor_sync(0xffffffffu, at, o);
      if (oa < cols && (at == cols || ob > best || (ob == best && oa < at))) {
        best = ob;
        at = oa;
      }
    }
    if (lane == 0)
      out[r] = (float)(at < cols ? at : 0);
  }
}

void ll_cuda_argmax_rows(const float *x, int rows, int cols, float *out)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  argmax_rows_kernel<<<row_blocks(rows), LL_THREADS, 0, s.stream>>>(x, rows, cols, out);
  LL_CUDA_LAUNCHED("argmax_rows_kernel");
}
