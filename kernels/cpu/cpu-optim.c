/* cpu-optim.c: the optimizer updates, one fused pass over a parameter
 * segment each, with PyTorch's torch.optim semantics (single-tensor
 * implementation): the gradient is read once, the state and the parameter
 * are written once. The variant branches are hoisted out of the loops so
 * every loop body is straight-line and vectorises. */
#include "cpu-ops.h"

#include <math.h>

/* torch.optim.SGD: d = g + wd p; buf = d on the first step, else
 * momentum buf + (1 - dampening) d; the step is buf, or d + momentum buf
 * with Nesterov. */
void ll_cpu_sgd_update(float *restrict p, const float *restrict g, float *restrict mom, size_t n,
                       float lr, float momentum, float dampening, bool nesterov, float weight_decay,
                       bool first_step)
{
  if (momentum == 0.0f) {
    for (size_t i = 0; i < n; i++)
      p[i] -= lr * (g[i] + weight_decay * p[i]);
    return;
  }
  /* the first step copies d into the buffer: keep = 0, take = 1 */
  float keep = first_step ? 0.0f : momentum;
  float take = first_step ? 1.0f : 1.0f - dampening;
  if (nesterov) {
    for (size_t i = 0; i < n; i++) {
      float d = g[i] + weight_decay * p[i];
      float b = keep * mom[i] + take * d;
      mom[i] = b;
      p[i] -= lr * (d + momentum * b);
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      float d = g[i] + weight_decay * p[i];
      float b = keep * mom[i] + take * d;
      mom[i] = b;
      p[i] -= lr * b;
    }
  }
}

/* torch.optim.Adam / AdamW: the bias corrections are computed in double
 * from the step, as PyTorch does on the host, then
 * p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps). */
void ll_cpu_adam_update(float *restrict p, const float *restrict g, float *restrict m,
                        float *restrict v, size_t n, float lr, float beta1, float beta2, float eps,
                        float weight_decay, bool adamw, int64_t step)
{
  double bc1 = 1.0 - pow(beta1, (double)step);
  double bc2 = 1.0 - pow(beta2, (double)step);
  float step_size = (float)(lr / bc1);
  float bc2_sqrt = (float)sqrt(bc2);
  float b1c = 1.0f - beta1, b2c = 1.0f - beta2;
  /* AdamW shrinks the parameter before the Adam step; Adam adds wd p to g */
  float shrink = adamw ? 1.0f - lr * weight_decay : 1.0f;
  float l2 = adamw ? 0.0f : weight_decay;
  for (size_t i = 0; i < n; i++) {
    float pi = p[i] * shrink;
    float gi = g[i] + l2 * p[i];
    float mi = beta1 * m[i] + b1c * gi;
    float vi = beta2 * v[i] + b2c * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - step_size * mi / (sqrtf(vi) / bc2_sqrt + eps);
  }
}

/* torch.optim.RMSprop (not centered): sq = alpha sq + (1 - alpha) g^2;
 * p -= lr g / (sqrt(sq) + eps), or through buf = momentum buf + that ratio. */
void ll_cpu_rmsprop_update(float *restrict p, const float *restrict g, float *restrict sq,
                           float *restrict mom, size_t n, float lr, float alpha, float eps,
                           float weight_decay, float momentum)
{
  float ac = 1.0f - alpha;
  if (momentum > 0.0f) {
    for (size_t i = 0; i < n; i++) {
      float gi = g[i] + weight_decay * p[i];
      float s = alpha * sq[i] + ac * gi * gi;
      sq[i] = s;
      float b = momentum * mom[i] + gi / (sqrtf(s) + eps);
      mom[i] = b;
      p[i] -= lr * b;
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      float gi = g[i] + weight_decay * p[i];
      float s = alpha * sq[i] + ac * gi * gi;
      sq[i] = s;
      p[i] -= lr * gi / (sqrtf(s) + eps);
    }
  }
}

/* torch.optim.Adagrad (lr_decay 0, initial accumulator 0):
 * sum += g^2; p -= lr g / (sqrt(sum) + eps). */
void ll_cpu_adagrad_update(float *restrict p, const float *restrict g, float *restrict sum,
                           size_t n, float lr, float eps, float weight_decay)
{
  for (size_t i = 0; i < n; i++) {
    float gi = g[i] + weight_decay * p[i];
    float s = sum[i] + gi * gi;
    sum[i] = s;
    p[i] -= lr * gi / (sqrtf(s) + eps);
  }
}
