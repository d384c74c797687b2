/* cuda-rnn.cu: the recurrent cells (LSTM, GRU) and the embedding lookup.
 *
 * The cells are the element-wise part of a time step; a thread per (row,
 * unit) reads all of that unit's gates before it writes any, so the in-place
 * rules of the contracts (gates activated in place, dgates over gates) hold
 * without synchronisation. No pointer here is __restrict__ for that reason.
 *
 * embedding_backward must add the rows of dout that share a table row: it
 * sorts the (row, position) pairs with CUB's stable radix sort, then a block
 * per run of equal rows adds that run in position order, so repeated indices
 * need no atomics and the sum is the CPU's, in the CPU's order. */
#include "cuda-rnn.h"

#include <cub/device/device_radix_sort.cuh>

#include "../index-math.h"
#include "cuda-common.cuh"

static __device__ inline float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }

static __global__ void lstm_forward_kernel(float *gates, const float *c_prev, float *c, float *h,
                                           int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  LL_GRID_STRIDE(e, total)
  {
    size_t r = e / hidden;
    int j = (int)(e % hidden);
    float *g = gates + r * 4 * hidden;
    float i = sigmoidf_(g[j]);
    float f = sigmoidf_(g[hidden + j]);
    float gg = tanhf(g[2 * hidden + j]);
    float o = sigmoidf_(g[3 * hidden + j]);
    g[j] = i;
    g[hidden + j] = f;
    g[2 * hidden + j] = gg;
    g[3 * hidden + j] = o;
    float cn = f * c_prev[e] + i * gg;
    c[e] = cn;
    h[e] = o * tanhf(cn);
  }
}

void ll_cuda_lstm_cell_forward(float *gates, const float *c_prev, float *c, float *h, int n,
                               int hidden)
{
  size_t total = (size_t)n * hidden;
  if (!total)
    return;
  LlCudaScope s;
  lstm_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(gates, c_prev, c, h, n,
                                                                     hidden);
  LL_CUDA_LAUNCHED("lstm_forward_kernel");
}

static __global__ void lstm_backward_kernel(const float *gates, const float *c_prev,
                                            const float *c, const float *dh, const float *dc,
                                            float *dgates, float *dc_prev, int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  LL_GRID_STRIDE(e, total)
  {
    size_t r = e / hidden;
    int j = (int)(e % hidden);
    const float *g = gates + r * 4 * hidden;
    float *dg = dgates + r * 4 * hidden;
    float i = g[j], f = g[hidden + j], gg = g[2 * hidden + j], o = g[3 * hidden + j];
    float tc = tanhf(c[e]);
    float dht = dh[e];
    float dct = dc[e] + dht * o * (1.0f - tc * tc);
    dg[j] = dct * gg * i * (1.0f - i);
    dg[hidden + j] = dct * c_prev[e] * f * (1.0f - f);
    dg[2 * hidden + j] = dct * i * (1.0f - gg * gg);
    dg[3 * hidden + j] = dht * tc * o * (1.0f - o);
    dc_prev[e] += dct * f;
  }
}

void ll_cuda_lstm_cell_backward(const float *gates, const float *c_prev, const float *c,
                                const float *dh, const float *dc, float *dgates, float *dc_prev,
                                int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  if (!total)
    return;
  LlCudaScope s;
  lstm_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(gates, c_prev, c, dh, dc,
                                                                      dgates, dc_prev, n, hidden);
  LL_CUDA_LAUNCHED("lstm_backward_kernel");
}

static __global__ void gru_forward_kernel(const float *xg, const float *hg, const float *h_prev,
                                          float *h, float *act, int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  LL_GRID_STRIDE(e, total)
  {
    size_t r = e / hidden;
    int j = (int)(e % hidden);
    const float *x = xg + r * 3 * hidden, *hh = hg + r * 3 * hidden;
    float *a = act + r * 4 * hidden;
    float rg = sigmoidf_(x[j] + hh[j]);
    float z = sigmoidf_(x[hidden + j] + hh[hidden + j]);
    float hn = hh[2 * hidden + j];
    float nn = tanhf(x[2 * hidden + j] + rg * hn);
    a[j] = rg;
    a[hidden + j] = z;
    a[2 * hidden + j] = nn;
    a[3 * hidden + j] = hn;
    h[e] = (1.0f - z) * nn + z * h_prev[e];
  }
}

void ll_cuda_gru_cell_forward(const float *xg, const float *hg, const float *h_prev, float *h,
                              float *act, int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  if (!total)
    return;
  LlCudaScope s;
  gru_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(xg, hg, h_prev, h, act, n,
                                                                    hidden);
  LL_CUDA_LAUNCHED("gru_forward_kernel");
}

static __global__ void gru_backward_kernel(const float *act, const float *h_prev, const float *dh,
                                           float *dxg, float *dhg, float *dh_prev, int n,
                                           int hidden)
{
  size_t total = (size_t)n * hidden;
  LL_GRID_STRIDE(e, total)
  {
    size_t r = e / hidden;
    int j = (int)(e % hidden);
    const float *a = act + r * 4 * hidden;
    float *dx = dxg + r * 3 * hidden, *dhh = dhg + r * 3 * hidden;
    float rg = a[j], z = a[hidden + j], nn = a[2 * hidden + j], hn = a[3 * hidden + j];
    float d = dh[e];
    float dn = d * (1.0f - z) * (1.0f - nn * nn);
    float dz = d * (h_prev[e] - nn) * z * (1.0f - z);
    float dr = dn * hn * rg * (1.0f - rg);
    dx[j] = dr;
    dx[hidden + j] = dz;
    dx[2 * hidden + j] = dn;
    dhh[j] = dr;
    dhh[hidden + j] = dz;
    dhh[2 * hidden + j] = dn * rg;
    dh_prev[e] += d * z;
  }
}

void ll_cuda_gru_cell_backward(const float *act, const float *h_prev, const float *dh,
                               float *dxg, float *dhg, float *dh_prev, int n, int hidden)
{
  size_t total = (size_t)n * hidden;
  if (!total)
    return;
  LlCudaScope s;
  gru_backward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(act, h_prev, dh, dxg, dhg,
                                                                     dh_prev, n, hidden);
  LL_CUDA_LAUNCHED("gru_backward_kernel");
}

/* ---- embedding ------------------------------------------------------------------------- */

static __global__ void embedding_forward_kernel(const float *__restrict__ table,
                                                const float *__restrict__ idx,
                                                float *__restrict__ out, int n, int vocab, int dim)
{
  size_t total = (size_t)n * dim;
  LL_GRID_STRIDE(e, total)
  {
    size_t i = e / dim, d = e % dim;
    out[e] = table[(size_t)ll_embedding_row(idx[i], vocab) * dim + d];
  }
}

void ll_cuda_embedding_forward(const float *table, const float *idx, float *out, int n,
                               int vocab, int dim)
{
  size_t total = (size_t)n * dim;
  if (!total || vocab <= 0)
    return;
  LlCudaScope s;
  embedding_forward_kernel<<<ll_blocks(total), LL_THREADS, 0, s.stream>>>(table, idx, out, n,
                                                                          vocab, dim);
  LL_CUDA_LAUNCHED("embedding_forward_kernel");
}

static __global__ void embedding_keys_kernel(const float *__restrict__ idx, int n, int vocab,
                                             int *__restrict__ rows, int *__restrict__ pos)
{
  LL_GRID_STRIDE(i, (size_t)n)
  {
    rows[i] = ll_embedding_row(idx[i], vocab);
    pos[i] = (int)i;
  }
}

/* Block k handles sorted position k if it starts a run of equal rows: its
 * threads walk dim, each adding the run's dout rows in position order. */
static __global__ void embedding_runs_kernel(const int *__restrict__ rows,
                                             const int *__restrict__ pos,
                                             const float *__restrict__ dout,
                                             float *__restrict__ dtable, int n, int dim)
{
  for (int k = blockIdx.x; k < n; k += gridDim.x) {
    int row = rows[k];
    if (k > 0 && rows[k - 1] == row)
      continue;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
      float acc = 0.0f;
      for (int q = k; q < n && rows[q] == row; q++)
        acc += dout[(size_t)pos[q] * dim + d];
      dtable[(size_t)row * dim + d] += acc;
    }
  }
}

void ll_cuda_embedding_backward(const float *idx, const float *dout, float *dtable, int n,
                                int vocab, int dim)
{
  if (n <= 0 || dim <= 0 || vocab <= 0)
    return;
  LlCudaScope s;
  int bits = 1;
  while (bits < 31 && (1 << bits) < vocab)
    bits++;
  size_t temp_bytes = 0;
  LL_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(NULL, temp_bytes, (int *)NULL, (int *)NULL,
                                                (int *)NULL, (int *)NULL, n, 0, bits, s.stream));
  size_t ints = 4 * (size_t)n;
  char *p = (char *)ll_cuda_scratch(LL_SCRATCH_SORT, ints * sizeof(int) + temp_bytes + 256);
  if (!p)
    return;
  int *rows_in = (int *)p, *pos_in = rows_in + n, *rows = pos_in + n, *pos = rows + n;
  void *temp = (void *)(((uintptr_t)(pos + n) + 255) & ~(uintptr_t)255);
  embedding_keys_kernel<<<ll_blocks((size_t)n), LL_THREADS, 0, s.stream>>>(idx, n, vocab, rows_in,
                                                                           pos_in);
  LL_CUDA_LAUNCHED("embedding_keys_kernel");
  LL_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, rows_in, rows, pos_in, pos, n, 0,
                                                bits, s.stream));
  unsigned threads = dim >= 128 ? 128 : 32;
  unsigned blocks = n < 65535 ? (unsigned)n : 65535u;
  embedding_runs_kernel<<<blocks, threads, 0, s.stream>>>(rows, pos, dout, dtable, n, dim);
  LL_CUDA_LAUNCHED("embedding_runs_kernel");
}
