/* onnx.h: models to and from ONNX (opset 17).
 *
 * Export writes a spec's graph in evaluation mode with the weights of a
 * checkpoint: one graph input per Input block and one graph output per output
 * block (the losses' outputs, or every head when the spec names no loss),
 * each named as its block, with a dynamic batch dimension "N"; node and
 * tensor names start with the block's name. The model's metadata holds the
 * run id ("run_id"), the spec hash ("spec_hash") and the spec itself
 * (LL_ONNX_SPEC_KEY), which holds what ONNX has no place for (initialisation,
 * BatchNorm momentum, the dataset and training settings).
 *
 * Import reads a model made of the operators export writes and the forms
 * torch.onnx.export gives the same layers, and turns it into a spec and a
 * checkpoint with the weights under LayerLab's tensor names. The file is
 * untrusted: its size, nesting and the memory decoding it takes are bounded
 * before it is decoded, and every tensor is checked against the shapes the
 * graph infers.
 *
 * Encoding and decoding are protobuf-c's, from the schema Debian's
 * libonnx-dev ships; a build without them answers every call with
 * LL_ONNX_ERROR_UNAVAILABLE. */
#pragma once

#include "spec.h"

G_BEGIN_DECLS

#define LL_ONNX_ERROR (ll_onnx_error_quark())
GQuark ll_onnx_error_quark(void);
typedef enum {
  LL_ONNX_ERROR_UNAVAILABLE, /* this build has no ONNX support */
  LL_ONNX_ERROR_UNSUPPORTED, /* a block or operator that has no counterpart */
  LL_ONNX_ERROR_FORMAT,      /* not a valid ONNX model, or one beyond the limits */
  LL_ONNX_ERROR_IO,
} LlOnnxError;

#define LL_ONNX_OPSET 17
/* The metadata key that holds the exported spec's JSON. */
#define LL_ONNX_SPEC_KEY "layerlab.spec"
/* The largest ONNX file import reads. */
#define LL_ONNX_MAX_FILE ((gsize)1 << 31)

/* Whether this build can read and write ONNX. */
gboolean ll_onnx_available(void);

/* Writes the graph of the checkpoint's spec (its "spec" metadata, as
 * `layerlab eval` reads it) with the checkpoint's weights to path. A block
 * that ONNX cannot express is named in the error and nothing is written. */
gboolean ll_onnx_export_checkpoint(const char *checkpoint, const char *path, GError **error);

/* The same from a spec and its weights in a compiled graph (host memory);
 * metadata (char* -> char*, may be NULL) goes to the model's
 * metadata_props. */
gboolean ll_onnx_export_graph(const LlSpec *spec, LlGraph *g, GHashTable *metadata,
                              const char *path, GError **error);

/* Reads an ONNX model into a new spec whose graph holds its blocks; their
 * weights are written to checkpoint (safetensors), which the spec's
 * training.init_from names (as an absolute path). Unsupported operators are
 * listed, by node name and op type, in one error. */
LlSpec *ll_onnx_import(const char *path, const char *checkpoint, GError **error);

/* The same from bytes in memory; checkpoint may be NULL: then the weights
 * are checked but not written (the fuzz target). */
LlSpec *ll_onnx_import_data(const guint8 *data, gsize len, const char *display_name,
                            const char *checkpoint, GError **error);

G_END_DECLS
