/* onnx-private.h: what onnx-export.c and onnx-import.c share. */
#pragma once

#include <string.h>

#include "onnx.h"
#include "onnx.pb-c.h"

G_BEGIN_DECLS

/* The gate order of a recurrent block type ("RNN", "LSTM", "GRU") in ONNX:
 * ONNX gate j is PyTorch's (LayerLab's) gate perm[j]; *gates is their
 * number. */
const int *ll_onnx_gate_perm(const char *block_type, int *gates);

/* Copies a (gates * h, cols) matrix (or, cols = 1, a vector) gate by gate
 * from PyTorch's order to ONNX's (to_onnx) or back. */
void ll_onnx_permute_gates(const float *src, float *dst, int gates, const int *perm, int h,
                           int cols, gboolean to_onnx);

G_END_DECLS
