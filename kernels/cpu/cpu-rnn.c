/* cpu-rnn.c: the recurrent cells (LSTM, GRU) and the embedding lookup.
 *
 * The cells are the element-wise part of one time step; the matrix products
 * around them are GEMMs the blocks issue. Each hidden unit is independent, so
 * the loops run over (row, unit) and read a unit's gates before writing. */
#include "cpu-ops.h"

#include <math.h>
#include <string.h>

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void ll_cpu_lstm_cell_forward(float *gates,        // (n, 4h) [i f g o], activated in place
                              const float *c_prev, // (n, h)
                              float *c,            // (n, h)
                              float *h,            // (n, h)
                              int n, int hidden)
{
  for (int r = 0; r < n; r++) {
    float *g = gates + (size_t)r * 4 * hidden;
    const float *cp = c_prev + (size_t)r * hidden;
    float *cr = c + (size_t)r * hidden, *hr = h + (size_t)r * hidden;
    for (int j = 0; j < hidden; j++) {
      float i = sigmoidf(g[j]);
      float f = sigmoidf(g[hidden + j]);
      float gg = tanhf(g[2 * hidden + j]);
      float o = sigmoidf(g[3 * hidden + j]);
      g[j] = i;
      g[hidden + j] = f;
      g[2 * hidden + j] = gg;
      g[3 * hidden + j] = o;
      float cn = f * cp[j] + i * gg;
      cr[j] = cn;
      hr[j] = o * tanhf(cn);
    }
  }
}

void ll_cpu_lstm_cell_backward(const float *gates,  // (n, 4h) activated
                               const float *c_prev, // (n, h)
                               const float *c,      // (n, h)
                               const float *dh,     // (n, h)
                               const float *dc,     // (n, h)
                               float *dgates,       // (n, 4h), may alias gates
                               float *dc_prev,      // (n, h)
                               int n, int hidden)
{
  for (int r = 0; r < n; r++) {
    const float *g = gates + (size_t)r * 4 * hidden;
    float *dg = dgates + (size_t)r * 4 * hidden;
    size_t off = (size_t)r * hidden;
    for (int j = 0; j < hidden; j++) {
      float i = g[j], f = g[hidden + j], gg = g[2 * hidden + j], o = g[3 * hidden + j];
      float tc = tanhf(c[off + j]);
      float dht = dh[off + j];
      float dct = dc[off + j] + dht * o * (1.0f - tc * tc);
      dg[j] = dct * gg * i * (1.0f - i);
      dg[hidden + j] = dct * c_prev[off + j] * f * (1.0f - f);
      dg[2 * hidden + j] = dct * i * (1.0f - gg * gg);
      dg[3 * hidden + j] = dht * tc * o * (1.0f - o);
      dc_prev[off + j] += dct * f;
    }
  }
}

void ll_cpu_gru_cell_forward(const float *xg,     // (n, 3h) [r z n]
                             const float *hg,     // (n, 3h) [r z n]
                             const float *h_prev, // (n, h)
                             float *h,            // (n, h)
                             float *act,          // (n, 4h) [r z n hg_n]
                             int n, int hidden)
{
  for (int r = 0; r < n; r++) {
    const float *x = xg + (size_t)r * 3 * hidden, *hh = hg + (size_t)r * 3 * hidden;
    const float *hp = h_prev + (size_t)r * hidden;
    float *a = act + (size_t)r * 4 * hidden, *hr = h + (size_t)r * hidden;
    for (int j = 0; j < hidden; j++) {
      float rg = sigmoidf(x[j] + hh[j]);
      float z = sigmoidf(x[hidden + j] + hh[hidden + j]);
      float hn = hh[2 * hidden + j];
      float nn = tanhf(x[2 * hidden + j] + rg * hn);
      a[j] = rg;
      a[hidden + j] = z;
      a[2 * hidden + j] = nn;
      a[3 * hidden + j] = hn;
      hr[j] = (1.0f - z) * nn + z * hp[j];
    }
  }
}

void ll_cpu_gru_cell_backward(const float *act,    // (n, 4h) [r z n hg_n]
                              const float *h_prev, // (n, h)
                              const float *dh,     // (n, h)
                              float *dxg,          // (n, 3h)
                              float *dhg,          // (n, 3h)
                              float *dh_prev,      // (n, h)
                              int n, int hidden)
{
  for (int r = 0; r < n; r++) {
    const float *a = act + (size_t)r * 4 * hidden;
    float *dx = dxg + (size_t)r * 3 * hidden, *dhh = dhg + (size_t)r * 3 * hidden;
    size_t off = (size_t)r * hidden;
    for (int j = 0; j < hidden; j++) {
      float rg = a[j], z = a[hidden + j], nn = a[2 * hidden + j], hn = a[3 * hidden + j];
      float d = dh[off + j];
      float dn = d * (1.0f - z) * (1.0f - nn * nn);
      float dz = d * (h_prev[off + j] - nn) * z * (1.0f - z);
      float dr = dn * hn * rg * (1.0f - rg);
      dx[j] = dr;
      dx[hidden + j] = dz;
      dx[2 * hidden + j] = dn;
      dhh[j] = dr;
      dhh[hidden + j] = dz;
      dhh[2 * hidden + j] = dn * rg;
      dh_prev[off + j] += d * z;
    }
  }
}

/* The row an index reads: nearest integer, clamped into the table. */
static inline size_t embedding_row(float v, int vocab)
{
  if (!(v >= 0.5f)) /* negative, NaN, or rounds to 0 */
    return 0;
  if (v >= (float)vocab - 1.0f)
    return (size_t)vocab - 1;
  return (size_t)(v + 0.5f);
}

void ll_cpu_embedding_forward(const float *table, // (vocab, dim)
                              const float *idx,   // (n)
                              float *out,         // (n, dim)
                              int n, int vocab, int dim)
{
  for (int i = 0; i < n; i++)
    memcpy(out + (size_t)i * dim, table + embedding_row(idx[i], vocab) * (size_t)dim,
           (size_t)dim * sizeof *out);
}

void ll_cpu_embedding_backward(const float *idx,  // (n)
                               const float *dout, // (n, dim)
                               float *dtable,     // (vocab, dim)
                               int n, int vocab, int dim)
{
  for (int i = 0; i < n; i++) {
    float *d = dtable + embedding_row(idx[i], vocab) * (size_t)dim;
    const float *s = dout + (size_t)i * dim;
    for (int j = 0; j < dim; j++)
      d[j] += s[j];
  }
}
