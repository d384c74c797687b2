/* onnx-common.c: what export and import share (onnx-private.h). */
#include "onnx-private.h"

G_DEFINE_QUARK(ll - onnx - error - quark, ll_onnx_error)

gboolean ll_onnx_available(void) { return TRUE; }

/* ONNX gate j holds PyTorch's gate perm[j]: LSTM [i o f c] from [i f g o],
 * GRU [z r h] from [r z n]. */
static const int lstm_perm[] = {0, 3, 1, 2};
static const int gru_perm[] = {1, 0, 2};
static const int rnn_perm[] = {0};

const int *ll_onnx_gate_perm(const char *block_type, int *gates)
{
  if (!strcmp(block_type, "LSTM")) {
    *gates = 4;
    return lstm_perm;
  }
  if (!strcmp(block_type, "GRU")) {
    *gates = 3;
    return gru_perm;
  }
  *gates = 1;
  return rnn_perm;
}

void ll_onnx_permute_gates(const float *src, float *dst, int gates, const int *perm, int h,
                           int cols, gboolean to_onnx)
{
  size_t block = (size_t)h * cols;
  for (int j = 0; j < gates; j++) {
    /* ONNX gate j is PyTorch gate perm[j] */
    const float *s = src + (to_onnx ? perm[j] : j) * block;
    float *d = dst + (to_onnx ? j : perm[j]) * block;
    memcpy(d, s, block * sizeof *d);
  }
}
