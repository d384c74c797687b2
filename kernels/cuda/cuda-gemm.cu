/* cuda-gemm.cu: GEMM (cuBLAS, FP32), bias add and bias backward. */
#include "cuda-gemm.h"

#include "cuda-channel.cuh"

/* k == 0: C = beta C (cuBLAS would reject the leading dimensions) */
static __global__ void scale_matrix_kernel(float *c, int ldc, int m, int n, float beta)
{
  size_t total = (size_t)m * n;
  LL_GRID_STRIDE(i, total)
  {
    size_t r = i / n, j = i % n;
    float *p = c + r * ldc + j;
    *p = beta == 0.0f ? 0.0f : beta * *p;
  }
}

/* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the
 * operands and the sizes, keep each one's transpose flag. */
void ll_cuda_gemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, float *c, int ldc)
{
  if (m <= 0 || n <= 0)
    return;
  LlCudaScope s;
  if (k <= 0) {
    scale_matrix_kernel<<<ll_blocks((size_t)m * n), LL_THREADS, 0, s.stream>>>(c, ldc, m, n,
                                                                              beta);
    LL_CUDA_LAUNCHED("scale_matrix_kernel");
    return;
  }
  LL_CUBLAS_CHECK(cublasSgemm(ll_cuda_cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                              ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a, lda,
                              &beta, c, ldc));
}

static __global__ void bias_add_kernel(float *y, const float *bias, int c, int inner, size_t total)
{
  LL_GRID_STRIDE(i, total)
  y[i] += bias[(i / inner) % c];
}

void ll_cuda_bias_add(float *y, const float *bias, int n, int c, int inner)
{
  size_t total = (size_t)n * c * inner;
  if (!total)
    return;
  LlCudaScope s;
  bias_add_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(y, bias, c, inner, total);
  LL_CUDA_LAUNCHED("bias_add_kernel");
}

struct DyTerm {
  const float *dy;
  __device__ void operator()(int j, size_t at, double *acc) const { acc[0] += dy[at]; }
};

static __global__ void add_totals_kernel(const double *tot, float *dbias, int c)
{
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j < c)
    dbias[j] += (float)tot[j];
}

void ll_cuda_bias_backward(const float *dy, float *dbias, int n, int c, int inner)
{
  if (n <= 0 || c <= 0 || inner <= 0)
    return;
  LlCudaScope s;
  double *tot = (double *)ll_cuda_scratch(LL_SCRATCH_STATS, (size_t)c * sizeof(double));
  if (!tot)
    return;
  ll_channel_sums<1>(s.stream, DyTerm{dy}, n, c, inner, tot);
  add_totals_kernel<<<(c + 127) / 128, 128, 0, s.stream>>>(tot, dbias, c);
  LL_CUDA_LAUNCHED("add_totals_kernel");
}
