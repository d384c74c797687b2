/* cpu-norm.c: batch normalisation over x(n, c, inner), per channel c.
 *
 * Statistics are summed in double (two passes: mean, then squared
 * deviations) so they do not drift with the batch or the spatial size.
 * gamma and beta may be NULL (affine = false: scale 1, shift 0); then
 * dgamma and dbeta are NULL too. */
#include "cpu-ops.h"

#include <math.h>

/* Element (i, j, k) of x(n, c, inner). */
#define AT(p, i, j, k) ((p)[((size_t)(i) * c + (j)) * inner + (k)])

void ll_cpu_batchnorm_forward_train(const float *x, float *y, const float *gamma,
                                    const float *beta, float *save_mean, float *save_invstd,
                                    float *running_mean, float *running_var, int n, int c,
                                    int inner, float momentum, float eps)
{
  double m = (double)n * inner;
  for (int j = 0; j < c; j++) {
    double s = 0.0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++)
        s += AT(x, i, j, k);
    double mean = s / m;
    double ss = 0.0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++) {
        double d = AT(x, i, j, k) - mean;
        ss += d * d;
      }
    double var = ss / m; /* biased: what normalises the batch */
    double invstd = 1.0 / sqrt(var + eps);
    save_mean[j] = (float)mean;
    save_invstd[j] = (float)invstd;
    /* the running estimate uses the unbiased variance (PyTorch); a single
     * value per channel has none, so the biased one (0) stands in */
    double unbiased = m > 1.0 ? ss / (m - 1.0) : var;
    running_mean[j] = (float)((1.0 - momentum) * running_mean[j] + momentum * mean);
    running_var[j] = (float)((1.0 - momentum) * running_var[j] + momentum * unbiased);
    float scale = (float)invstd * (gamma ? gamma[j] : 1.0f);
    float shift = (beta ? beta[j] : 0.0f) - (float)mean * scale;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++)
        AT(y, i, j, k) = AT(x, i, j, k) * scale + shift;
  }
}

void ll_cpu_batchnorm_forward_eval(const float *x, float *y, const float *gamma,
                                   const float *beta, const float *running_mean,
                                   const float *running_var, int n, int c, int inner, float eps)
{
  for (int j = 0; j < c; j++) {
    float scale = (float)(1.0 / sqrt((double)running_var[j] + eps)) * (gamma ? gamma[j] : 1.0f);
    float shift = (beta ? beta[j] : 0.0f) - running_mean[j] * scale;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++)
        AT(y, i, j, k) = AT(x, i, j, k) * scale + shift;
  }
}

/* With xhat = (x - mean) * invstd over the m = n * inner values of a channel,
 * the gradient through the batch mean and variance is
 *   dx = gamma * invstd / m * (m * dy - sum(dy) - xhat * sum(dy * xhat)). */
void ll_cpu_batchnorm_backward(const float *x, const float *dy, const float *gamma,
                               const float *save_mean, const float *save_invstd, float *dx,
                               float *dgamma, float *dbeta, int n, int c, int inner)
{
  double m = (double)n * inner;
  for (int j = 0; j < c; j++) {
    double mean = save_mean[j], invstd = save_invstd[j];
    double sdy = 0.0, sdyx = 0.0;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++) {
        double g = AT(dy, i, j, k);
        sdy += g;
        sdyx += g * (AT(x, i, j, k) - mean) * invstd;
      }
    if (dgamma)
      dgamma[j] += (float)sdyx;
    if (dbeta)
      dbeta[j] += (float)sdy;
    if (!dx)
      continue;
    double scale = (gamma ? gamma[j] : 1.0) * invstd;
    double mdy = sdy / m, mdyx = sdyx / m;
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++) {
        double xhat = (AT(x, i, j, k) - mean) * invstd;
        AT(dx, i, j, k) += (float)(scale * (AT(dy, i, j, k) - mdy - xhat * mdyx));
      }
  }
}

void ll_cpu_batchnorm_backward_eval(const float *x, const float *dy, const float *gamma,
                                    const float *running_mean, const float *running_var,
                                    float *dx, float *dgamma, float *dbeta, int n, int c,
                                    int inner, float eps)
{
  for (int j = 0; j < c; j++) {
    double mean = running_mean[j], invstd = 1.0 / sqrt((double)running_var[j] + eps);
    if (dgamma || dbeta) {
      double sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < n; i++)
        for (int k = 0; k < inner; k++) {
          double g = AT(dy, i, j, k);
          sdy += g;
          sdyx += g * (AT(x, i, j, k) - mean) * invstd;
        }
      if (dgamma)
        dgamma[j] += (float)sdyx;
      if (dbeta)
        dbeta[j] += (float)sdy;
    }
    if (!dx)
      continue;
    float scale = (float)(invstd * (gamma ? gamma[j] : 1.0));
    for (int i = 0; i < n; i++)
      for (int k = 0; k < inner; k++)
        AT(dx, i, j, k) += AT(dy, i, j, k) * scale;
  }
}
