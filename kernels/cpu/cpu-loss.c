/* cpu-loss.c: softmax, the losses and argmax. Sums run in double so the
 * reported loss does not drift with the batch size. */
#include "cpu-ops.h"
#include "cpu-threads.h"

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

/* With smoothing s the target distribution is (1 - s) one-hot + s / cols.
 *
 * A row's exponentials run in float (expf: within an ulp, the precision the
 * loss and the gradients are kept in) and are kept for the gradient, so a
 * row costs cols exponentials and one log; the log-sum-exp and the sums are
 * double. Rows are cut into at most CE_CHUNKS chunks whose size depends on
 * rows only, each with its own partial sum, added in chunk order: the loss is
 * the same whichever thread ran a chunk, and large batches (evaluation) run
 * on the pool. */
#define CE_CHUNKS   64
#define CE_MIN_ROWS 256 /* rows per chunk at least: a wake-up costs more than that */
#define CE_KEEP     64  /* classes whose exponentials are kept; wider rows recompute */

typedef struct {
  const float *logits, *target;
  int cols;
  float smoothing, scale;
  float *dlogits;
  double partial[CE_CHUNKS];
} CrossEntropy;

static void cross_entropy_rows(void *arg, int chunk, int begin, int end)
{
  CrossEntropy *a = arg;
  int cols = a->cols;
  float smoothing = a->smoothing, off = smoothing / (float)cols;
  float e[CE_KEEP];
  double total = 0.0;
  for (int r = begin; r < end; r++) {
    const float *x = a->logits + (size_t)r * cols;
    int t = (int)a->target[r];
    float mx = x[0];
    for (int j = 1; j < cols; j++)
      mx = x[j] > mx ? x[j] : mx;
    float s = 0.0f;
    for (int j = 0; j < cols; j++) {
      float v = expf(x[j] - mx);
      if (j < CE_KEEP)
        e[j] = v;
      s += v;
    }
    double lse = log((double)s) + mx;
    double row = 0.0;
    if (smoothing == 0.0f)
      row = t >= 0 && t < cols ? lse - x[t] : 0.0;
    else
      for (int j = 0; j < cols; j++) {
        double q = (j == t ? 1.0 - smoothing : 0.0) + off;
        row += q * (lse - x[j]);
      }
    total += row;
    if (a->dlogits) {
      float *d = a->dlogits + (size_t)r * cols, inv = 1.0f / s;
      for (int j = 0; j < cols; j++) {
        float p = (j < CE_KEEP ? e[j] : expf(x[j] - mx)) * inv;
        float q = (j == t ? 1.0f - smoothing : 0.0f) + off;
        d[j] += a->scale * (p - q);
      }
    }
  }
  a->partial[chunk] = total;
}

void ll_cpu_cross_entropy(const float *logits, const float *target, int rows, int cols,
                          float smoothing, float weight, float *loss, float *dlogits)
{
  CrossEntropy a = {.logits = logits,
                    .target = target,
                    .cols = cols,
                    .smoothing = smoothing,
                    .scale = ll_loss_scale(weight, (size_t)(rows > 0 ? rows : 0)),
                    .dlogits = dlogits};
  int grain = (rows + CE_CHUNKS - 1) / CE_CHUNKS;
  if (grain < CE_MIN_ROWS)
    grain = CE_MIN_ROWS;
  int chunks = ll_cpu_n_chunks(rows, grain);
  ll_cpu_parallel_for(rows, grain, cross_entropy_rows, &a);
  double total = 0.0;
  for (int c = 0; c < chunks; c++)
    total += a.partial[c];
  *loss = (float)(total * a.scale);
}

void ll_cpu_bce_logits(const float *x, const float *t, size_t n, float weight, float *loss,
                       float *dlogits)
{
  double total = 0.0;
  float scale = ll_loss_scale(weight, n);
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
  float scale = ll_loss_scale(weight, n);
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
  float scale = ll_loss_scale(weight, n);
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
    /* NaN is never the maximum, not even as the first value */
    for (int j = 1; j < cols; j++)
      if (xr[j] > xr[best] || (isnan(xr[best]) && !isnan(xr[j])))
        best = j;
    out[r] = (float)best;
  }
}
