/* cpu-loss.c: softmax, the losses and argmax. Sums run in double so the
 * reported loss does not drift with the batch size. */
#include "cpu-ops.h"

#include <math.h>

void ll_cpu_softmax_forward(const float *x, float *y, int rows, int cols)
{
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    float *yr = y + (size_t)r * cols;
    float mx = xr[0];
    for (int j = 1; j < cols; j++)
      mx = xr[j] > mx ? xr[j] : mx;
    float s = 0.0f;
    for (int j = 0; j < cols; j++) {
      yr[j] = expf(xr[j] - mx);
      s += yr[j];
    }
    float inv = 1.0f / s;
    for (int j = 0; j < cols; j++)
      yr[j] *= inv;
  }
}

void ll_cpu_softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols)
{
  for (int r = 0; r < rows; r++) {
    const float *yr = y + (size_t)r * cols, *dyr = dy + (size_t)r * cols;
    float *dxr = dx + (size_t)r * cols;
    float dot = 0.0f;
    for (int j = 0; j < cols; j++)
      dot += yr[j] * dyr[j];
    for (int j = 0; j < cols; j++)
      dxr[j] += yr[j] * (dyr[j] - dot);
  }
}

/* With smoothing s the target distribution is (1 - s) one-hot + s / cols. */
void ll_cpu_cross_entropy(const float *logits, const float *target, int rows, int cols,
                          float smoothing, float weight, float *loss, float *dlogits)
{
  double total = 0.0;
  float scale = weight / (float)rows;
  float off = smoothing / (float)cols;
  for (int r = 0; r < rows; r++) {
    const float *x = logits + (size_t)r * cols;
    int t = (int)target[r];
    float mx = x[0];
    for (int j = 1; j < cols; j++)
      mx = x[j] > mx ? x[j] : mx;
    double s = 0.0;
    for (int j = 0; j < cols; j++)
      s += exp((double)(x[j] - mx));
    double lse = log(s) + mx;
    double row = 0.0;
    for (int j = 0; j < cols; j++) {
      double q = (j == t ? 1.0 - smoothing : 0.0) + off;
      if (q != 0.0)
        row += q * (lse - x[j]);
    }
    total += row;
    if (dlogits) {
      float *d = dlogits + (size_t)r * cols;
      for (int j = 0; j < cols; j++) {
        float p = (float)exp(x[j] - lse);
        float q = (j == t ? 1.0f - smoothing : 0.0f) + off;
        d[j] += scale * (p - q);
      }
    }
  }
  *loss = (float)(total * scale);
}

void ll_cpu_bce_logits(const float *x, const float *t, size_t n, float weight, float *loss,
                       float *dlogits)
{
  double total = 0.0;
  float scale = weight / (float)n;
  for (size_t i = 0; i < n; i++) {
    /* max(x,0) - x t + log(1 + exp(-|x|)): stable for large |x| */
    total += fmax(x[i], 0.0) - (double)x[i] * t[i] + log1p(exp(-fabs((double)x[i])));
    if (dlogits)
      dlogits[i] += scale * (1.0f / (1.0f + expf(-x[i])) - t[i]);
  }
  *loss = (float)(total * scale);
}

void ll_cpu_mse(const float *p, const float *t, size_t n, float weight, float *loss, float *dpred)
{
  double total = 0.0;
  float scale = weight / (float)n;
  for (size_t i = 0; i < n; i++) {
    float d = p[i] - t[i];
    total += (double)d * d;
    if (dpred)
      dpred[i] += 2.0f * scale * d;
  }
  *loss = (float)(total * scale);
}

void ll_cpu_l1(const float *p, const float *t, size_t n, float weight, float *loss, float *dpred)
{
  double total = 0.0;
  float scale = weight / (float)n;
  for (size_t i = 0; i < n; i++) {
    float d = p[i] - t[i];
    total += fabs((double)d);
    if (dpred)
      dpred[i] += scale * (float)((d > 0.0f) - (d < 0.0f));
  }
  *loss = (float)(total * scale);
}

void ll_cpu_argmax_rows(const float *x, int rows, int cols, float *out)
{
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * cols;
    int best = 0;
    for (int j = 1; j < cols; j++)
      if (xr[j] > xr[best])
        best = j;
    out[r] = (float)best;
  }
}
