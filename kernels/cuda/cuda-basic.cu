/* cuda-basic.cu: memory and element-wise maps (the CUDA side of
 * kernels/cpu/cpu-basic.c). */
#include "cuda-basic.h"

#include "cuda-common.cuh"

/* ---- memory ------------------------------------------------------------------------------ */

void *ll_cuda_alloc(size_t bytes)
{
  LlCudaScope s;
  void *p = NULL;
  size_t rounded = bytes < 256 ? 256 : (bytes + 255) & ~(size_t)255;
  cudaError_t e = cudaMalloc(&p, rounded);
  if (e != cudaSuccess) {
    /* a full device is an answer, not a failure of the run: the engine
     * reports it with the bytes it needed, so clear the (non-sticky) error;
     * any other cause (a lost context) is recorded as what it is */
    if (e == cudaErrorMemoryAllocation)
      cudaGetLastError();
    else
      ll_cuda_failed(__FILE__, __LINE__, "cudaMalloc", e);
    return NULL;
  }
  ll_cuda_track(p);
  LL_CUDA_CHECK(cudaMemsetAsync(p, 0, rounded, s.stream));
  return p;
}

void ll_cuda_free(void *ptr)
{
  if (!ptr)
    return;
  LlCudaScope s;
  if (ll_cuda_untrack(ptr))
    LL_CUDA_CHECK(cudaFree(ptr));
}

/* From pageable host memory the copy stages src before returning, so the
 * caller may reuse src at once; the kernels after it on the stream see it. */
void ll_cuda_upload(float *dst, const float *src_host, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  LL_CUDA_CHECK(
    cudaMemcpyAsync(dst, src_host, n * sizeof(float), cudaMemcpyHostToDevice, s.stream));
}

void ll_cuda_download(float *dst_host, const float *src, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  LL_CUDA_CHECK(
    cudaMemcpyAsync(dst_host, src, n * sizeof(float), cudaMemcpyDeviceToHost, s.stream));
  LL_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

size_t ll_cuda_mem_free(void)
{
  LlCudaScope s;
  size_t free_b = 0, total = 0;
  if (cudaMemGetInfo(&free_b, &total) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return free_b;
}

void ll_cuda_synchronize(void)
{
  LlCudaScope s;
  LL_CUDA_CHECK(cudaStreamSynchronize(s.stream));
}

/* ---- element-wise ------------------------------------------------------------------------ */

static __global__ void fill_kernel(float *x, float v, size_t n)
{
  LL_GRID_STRIDE(i, n)
  x[i] = v;
}

void ll_cuda_fill(float *x, float v, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  if (v == 0.0f) {
    LL_CUDA_CHECK(cudaMemsetAsync(x, 0, n * sizeof(float), s.stream));
    return;
  }
  fill_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(x, v, n);
  LL_CUDA_LAUNCHED("fill_kernel");
}

/* memmove semantics, as the CPU's: overlapping ranges go through scratch. */
void ll_cuda_copy(float *dst, const float *src, size_t n)
{
  if (!n || dst == src)
    return;
  LlCudaScope s;
  size_t bytes = n * sizeof(float);
  bool overlap = dst < src + n && src < dst + n;
  if (overlap) {
    void *tmp = ll_cuda_scratch(LL_SCRATCH_COPY, bytes);
    if (!tmp)
      return;
    LL_CUDA_CHECK(cudaMemcpyAsync(tmp, src, bytes, cudaMemcpyDeviceToDevice, s.stream));
    LL_CUDA_CHECK(cudaMemcpyAsync(dst, tmp, bytes, cudaMemcpyDeviceToDevice, s.stream));
    return;
  }
  LL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s.stream));
}

static __global__ void axpy_kernel(float *__restrict__ y, float a, const float *__restrict__ x,
                                   size_t n)
{
  LL_GRID_STRIDE(i, n)
  y[i] += a * x[i];
}

void ll_cuda_axpy(float *y, float a, const float *x, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  axpy_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(y, a, x, n);
  LL_CUDA_LAUNCHED("axpy_kernel");
}

static __global__ void scale_kernel(float *x, float a, size_t n)
{
  LL_GRID_STRIDE(i, n)
  x[i] *= a;
}

void ll_cuda_scale(float *x, float a, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  scale_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(x, a, n);
  LL_CUDA_LAUNCHED("scale_kernel");
}

static __global__ void add2d_kernel(float *dst, int ld_dst, const float *src, int ld_src,
                                    int rows, int cols)
{
  size_t n = (size_t)rows * cols;
  LL_GRID_STRIDE(i, n)
  {
    size_t r = i / cols, c = i % cols;
    dst[r * ld_dst + c] += src[r * ld_src + c];
  }
}

void ll_cuda_copy2d(float *dst, int ld_dst, const float *src, int ld_src, int rows, int cols,
                    bool accumulate)
{
  if (rows <= 0 || cols <= 0)
    return;
  LlCudaScope s;
  if (!accumulate) {
    LL_CUDA_CHECK(cudaMemcpy2DAsync(dst, (size_t)ld_dst * sizeof(float), src,
                                    (size_t)ld_src * sizeof(float), (size_t)cols * sizeof(float),
                                    (size_t)rows, cudaMemcpyDeviceToDevice, s.stream));
    return;
  }
  add2d_kernel<<<ll_blocks((size_t)rows * cols), LL_THREADS, 0, s.stream>>>(dst, ld_dst, src,
                                                                           ld_src, rows, cols);
  LL_CUDA_LAUNCHED("add2d_kernel");
}

#define LL_SQRT1_2 0.70710678118654752440f

/* may run in place (x == y) */
static __global__ void act_forward_kernel(LlActivation act, float alpha, const float *x, float *y,
                                          size_t n)
{
  LL_GRID_STRIDE(i, n)
  {
    float v = x[i], r = v;
    switch (act) {
    case LL_ACT_RELU: r = v > 0.0f ? v : 0.0f; break;
    case LL_ACT_LEAKY_RELU: r = v > 0.0f ? v : alpha * v; break;
    case LL_ACT_ELU: r = v > 0.0f ? v : alpha * expm1f(v); break;
    case LL_ACT_GELU: r = 0.5f * v * (1.0f + erff(v * LL_SQRT1_2)); break;
    case LL_ACT_SIGMOID: r = 1.0f / (1.0f + expf(-v)); break;
    case LL_ACT_TANH: r = tanhf(v); break;
    case LL_ACT_IDENTITY: r = v; break;
    }
    y[i] = r;
  }
}

void ll_cuda_act_forward(LlActivation act, float alpha, const float *x, float *y, size_t n)
{
  if (!n || (act == LL_ACT_IDENTITY && x == y))
    return;
  LlCudaScope s;
  act_forward_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(act, alpha, x, y, n);
  LL_CUDA_LAUNCHED("act_forward_kernel");
}

static __global__ void act_backward_kernel(LlActivation act, float alpha,
                                           const float *__restrict__ x,
                                           const float *__restrict__ y,
                                           const float *__restrict__ dy, float *__restrict__ dx,
                                           size_t n)
{
  LL_GRID_STRIDE(i, n)
  {
    float g = dy[i], d = g;
    switch (act) {
    case LL_ACT_RELU: d = x[i] > 0.0f ? g : 0.0f; break;
    case LL_ACT_LEAKY_RELU: d = x[i] > 0.0f ? g : alpha * g; break;
    case LL_ACT_ELU: d = x[i] > 0.0f ? g : g * (y[i] + alpha); break;
    case LL_ACT_GELU: {
      float v = x[i];
      float cdf = 0.5f * (1.0f + erff(v * LL_SQRT1_2));
      float pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
      d = g * (cdf + v * pdf);
      break;
    }
    case LL_ACT_SIGMOID: d = g * y[i] * (1.0f - y[i]); break;
    case LL_ACT_TANH: d = g * (1.0f - y[i] * y[i]); break;
    case LL_ACT_IDENTITY: break;
    }
    dx[i] += d;
  }
}

void ll_cuda_act_backward(LlActivation act, float alpha, const float *x, const float *y,
                          const float *dy, float *dx, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  act_backward_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(act, alpha, x, y, dy, dx, n);
  LL_CUDA_LAUNCHED("act_backward_kernel");
}

struct SquareTerm {
  const float *x;
  __device__ double operator()(size_t i) const { return (double)x[i] * x[i]; }
};

void ll_cuda_sum_squares(const float *x, size_t n, float *out)
{
  LlCudaScope s;
  ll_cuda_sum(s.stream, SquareTerm{x}, n, 1.0f, out);
}
