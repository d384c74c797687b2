/* cuda-dropout.cu: dropout with the counter-based generator (a thread per
 * element draws ll_counter_bits24(key, i) on its own: no generator state;
 * the CPU kernel draws the same bits). */
#include "cuda-dropout.h"

#include "../counter-rng.h"
#include "cuda-common.cuh"

static __global__ void dropout_kernel(const float *__restrict__ x, float *__restrict__ y,
                                      float *__restrict__ mask, size_t n, LlDropMask d)
{
  LL_GRID_STRIDE(i, n)
  {
    float m = ll_counter_bits24(d.key, i) >= d.threshold ? d.keep : 0.0f;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

void ll_cuda_dropout_forward(const float *x, float *y, float *mask, size_t n, float p,
                             uint64_t seed, uint64_t offset)
{
  if (!n)
    return;
  LlCudaScope s;
  dropout_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(x, y, mask, n,
                                                            ll_drop_mask(p, seed, offset));
  LL_CUDA_LAUNCHED("dropout_kernel");
}

static __global__ void mul_backward_kernel(const float *__restrict__ dy,
                                           const float *__restrict__ mask,
                                           float *__restrict__ dx, size_t n)
{
  LL_GRID_STRIDE(i, n)
  dx[i] += dy[i] * mask[i];
}

void ll_cuda_mul_backward(const float *dy, const float *mask, float *dx, size_t n)
{
  if (!n)
    return;
  LlCudaScope s;
  mul_backward_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(dy, mask, dx, n);
  LL_CUDA_LAUNCHED("mul_backward_kernel");
}
