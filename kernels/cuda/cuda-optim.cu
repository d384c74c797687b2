/* cuda-optim.cu: the optimizer updates, the CUDA side of
 * kernels/cpu/cpu-optim.c: a thread per element reads the gradient once and
 * writes the state and the parameter once. Scalars derived from the step
 * (Adam's bias corrections) are computed on the host in double, as there. */
#include "cuda-optim.h"

#include <math.h>

#include "cuda-common.cuh"

static __global__ void sgd_kernel(float *__restrict__ p, const float *__restrict__ g,
                                  float *__restrict__ mom, size_t n, float lr, float momentum,
                                  float keep, float take, bool nesterov, float wd)
{
  LL_GRID_STRIDE(i, n)
  {
    float d = g[i] + wd * p[i];
    if (!mom) {
      p[i] -= lr * d;
      continue;
    }
    float b = keep * mom[i] + take * d;
    mom[i] = b;
    p[i] -= lr * (nesterov ? d + momentum * b : b);
  }
}

void ll_cuda_sgd_update(float *p, const float *g, float *mom, size_t n, float lr, float momentum,
                        float dampening, bool nesterov, float weight_decay, bool first_step)
{
  if (!n)
    return;
  LlCudaScope s;
  /* the first step copies d into the buffer: keep = 0, take = 1 */
  float keep = first_step ? 0.0f : momentum;
  float take = first_step ? 1.0f : 1.0f - dampening;
  sgd_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(p, g, momentum == 0.0f ? NULL : mom, n,
                                                        lr, momentum, keep, take, nesterov,
                                                        weight_decay);
  LL_CUDA_LAUNCHED("sgd_kernel");
}

static __global__ void adam_kernel(float *__restrict__ p, const float *__restrict__ g,
                                   float *__restrict__ m, float *__restrict__ v, size_t n,
                                   float beta1, float beta2, float eps, float step_size,
                                   float bc2_sqrt, float shrink, float l2)
{
  float b1c = 1.0f - beta1, b2c = 1.0f - beta2;
  LL_GRID_STRIDE(i, n)
  {
    float pi = p[i] * shrink;
    float gi = g[i] + l2 * p[i];
    float mi = beta1 * m[i] + b1c * gi;
    float vi = beta2 * v[i] + b2c * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
  }
}

void ll_cuda_adam_update(float *p, const float *g, float *m, float *v, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, bool adamw,
                         int64_t step)
{
  if (!n)
    return;
  LlCudaScope s;
  double bc1 = 1.0 - pow(beta1, (double)step);
  double bc2 = 1.0 - pow(beta2, (double)step);
  float step_size = (float)(lr / bc1);
  float bc2_sqrt = (float)sqrt(bc2);
  /* AdamW shrinks the parameter before the Adam step; Adam adds wd p to g */
  float shrink = adamw ? 1.0f - lr * weight_decay : 1.0f;
  float l2 = adamw ? 0.0f : weight_decay;
  adam_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(p, g, m, v, n, beta1, beta2, eps,
                                                         step_size, bc2_sqrt, shrink, l2);
  LL_CUDA_LAUNCHED("adam_kernel");
}

static __global__ void rmsprop_kernel(float *__restrict__ p, const float *__restrict__ g,
                                      float *__restrict__ sq, float *__restrict__ mom, size_t n,
                                      float lr, float alpha, float eps, float wd, float momentum)
{
  float ac = 1.0f - alpha;
  LL_GRID_STRIDE(i, n)
  {
    float gi = g[i] + wd * p[i];
    float sv = alpha * sq[i] + ac * gi * gi;
    sq[i] = sv;
    if (mom) {
      float b = momentum * mom[i] + gi / (sqrtf(sv) + eps);
      mom[i] = b;
      p[i] -= lr * b;
    } else {
      p[i] -= lr * gi / (sqrtf(sv) + eps);
    }
  }
}

void ll_cuda_rmsprop_update(float *p, const float *g, float *sq, float *mom, size_t n, float lr,
                            float alpha, float eps, float weight_decay, float momentum)
{
  if (!n)
    return;
  LlCudaScope s;
  rmsprop_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(
    p, g, sq, momentum > 0.0f ? mom : NULL, n, lr, alpha, eps, weight_decay, momentum);
  LL_CUDA_LAUNCHED("rmsprop_kernel");
}

static __global__ void adagrad_kernel(float *__restrict__ p, const float *__restrict__ g,
                                      float *__restrict__ sum, size_t n, float lr, float eps,
                                      float wd)
{
  LL_GRID_STRIDE(i, n)
  {
    float gi = g[i] + wd * p[i];
    float sv = sum[i] + gi * gi;
    sum[i] = sv;
    p[i] -= lr * gi / (sqrtf(sv) + eps);
  }
}

void ll_cuda_adagrad_update(float *p, const float *g, float *sum, size_t n, float lr, float eps,
                            float weight_decay)
{
  if (!n)
    return;
  LlCudaScope s;
  adagrad_kernel<<<ll_blocks(n), LL_THREADS, 0, s.stream>>>(p, g, sum, n, lr, eps, weight_decay);
  LL_CUDA_LAUNCHED("adagrad_kernel");
}
