/* checkpoint.h: a graph's parameters in safetensors, the format PyTorch users
 * read with `safetensors.torch.load_file`.
 *
 * Layout: an 8-byte little-endian header length n, n bytes of JSON (padded
 * with spaces to a multiple of 8) mapping each tensor name to
 * {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} plus an
 * optional "__metadata__" object of strings, then the raw little-endian data;
 * offsets count from the first byte after the header.
 *
 * A graph's tensors are named "block.param" ("conv1.weight",
 * "bn1.running_mean"): every LlParam of every block, trainable or not.
 * Extra tensors (optimizer state, the step count) ride along in the same file;
 * their names are listed in the metadata key "layerlab.extra" (a JSON array)
 * so that loading into a graph does not count them as unexpected.
 */
#pragma once

#include "graph.h"

G_BEGIN_DECLS

#define LL_CHECKPOINT_ERROR (ll_checkpoint_error_quark())
GQuark ll_checkpoint_error_quark(void);
typedef enum {
  LL_CHECKPOINT_ERROR_IO,          /* the file cannot be read or written */
  LL_CHECKPOINT_ERROR_FORMAT,      /* not a valid safetensors file */
  LL_CHECKPOINT_ERROR_UNSUPPORTED, /* valid, but a dtype or rank we do not take */
  LL_CHECKPOINT_ERROR_MISMATCH,    /* the file does not fit the graph */
  LL_CHECKPOINT_ERROR_NOT_FOUND,   /* no tensor of that name */
  LL_CHECKPOINT_ERROR_INVALID,     /* bad arguments: a reserved or duplicate name */
} LlCheckpointError;

/* The metadata key that lists the extra tensors; reserved. */
#define LL_CHECKPOINT_EXTRA_KEY "layerlab.extra"

/* A host tensor with a name: optimizer state and the like. */
typedef struct {
  char *name;
  LlShape shape;
  float *data; /* host, ll_shape_size(&shape) floats */
} LlNamedTensor;

/* Copies data (may be NULL: zeroes). */
LlNamedTensor *ll_named_tensor_new(const char *name, const LlShape *shape, const float *data);
void ll_named_tensor_free(LlNamedTensor *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlNamedTensor, ll_named_tensor_free)

/* Writes every parameter and buffer of the compiled graph g (downloaded from
 * its backend), then the extra tensors, with metadata (char* -> char*) in
 * "__metadata__" ("format": "pt" is added unless given). The file appears at
 * path only when complete: it is written to a temporary file in the same
 * directory, synced and renamed, and the directory is synced. */
gboolean ll_checkpoint_save(const char *path, LlGraph *g, GHashTable *metadata,
                            GPtrArray *extra /* LlNamedTensor* */, GError **error);

typedef struct {
  /* Load what matches and report the rest. Otherwise any missing, unexpected
   * or shape-mismatched tensor is an error that lists them and nothing is
   * loaded. */
  gboolean partial;
  /* checkpoint block name -> graph block name (char* -> char*), for moving
   * weights between differently named graphs; blocks not in the map keep
   * their name. NULL: names as they are. */
  GHashTable *block_map;
  /* Graph block names (a set: char* keys) to load into; file tensors of the
   * graph's other blocks are skipped. NULL: every block. */
  GHashTable *only_blocks;
} LlLoadOptions;

typedef struct {
  char *name;        /* graph tensor name, "fc.weight" */
  char *file_name;   /* name in the file, before block_map */
  char *file_shape;  /* "(10, 5)" */
  char *graph_shape; /* "(10, 7)" */
} LlShapeMismatch;

/* What ll_checkpoint_load did. Tensor names are char*. */
typedef struct {
  GPtrArray *loaded;     /* graph names, in graph order */
  GPtrArray *missing;    /* graph names with no tensor in the file */
  GPtrArray *unexpected; /* file names that match no graph tensor */
  GPtrArray *mismatched; /* LlShapeMismatch*: same name, different shape */
  GPtrArray *skipped;    /* file names of graph blocks outside only_blocks */
} LlLoadReport;

void ll_load_report_init(LlLoadReport *r);
void ll_load_report_clear(LlLoadReport *r);
/* One line per non-empty list, for logs and the CLI. */
char *ll_load_report_format(const LlLoadReport *r);

/* Loads the file's tensors into the compiled graph g (uploaded to its
 * backend). F32 is read as is; F16, BF16 and F64 are converted. A tensor
 * holding NaN or infinite values is an error (nothing is loaded). opts may be
 * NULL (strict, names as they are). report may be NULL; otherwise it is
 * initialised here, filled as far as the file could be matched (also when
 * the load fails), and must be ll_load_report_clear'ed by the caller. */
gboolean ll_checkpoint_load(const char *path, LlGraph *g, const LlLoadOptions *opts,
                            LlLoadReport *report, GError **error);

/* What a load with the same options would do, tensor by tensor. */
typedef enum {
  LL_TRANSFER_MATCH,          /* would be loaded */
  LL_TRANSFER_SHAPE_MISMATCH, /* the names match, the shapes do not: not loaded */
  LL_TRANSFER_MISSING,        /* a graph tensor of a taken block that the file lacks */
  LL_TRANSFER_NOT_TAKEN,      /* a graph tensor of a block outside only_blocks */
  LL_TRANSFER_NOT_IN_GRAPH,   /* a file tensor that names no graph tensor (after the map) */
} LlTransferStatus;

/* "match", "shape mismatch", "missing in file", "not taken", "not in graph" */
const char *ll_transfer_status_to_string(LlTransferStatus s);

typedef struct {
  char *graph_name;  /* "enc.weight"; NULL for NOT_IN_GRAPH */
  char *graph_block; /* "enc"; NULL likewise */
  char *file_name;   /* "fc1.weight", the name in the file; NULL when the file has none */
  char *file_block;  /* "fc1" (before the last dot); NULL likewise */
  char *file_shape;  /* "(5, 6)"; NULL when the file has no tensor */
  char *graph_shape; /* "(5, 6)"; NULL for NOT_IN_GRAPH */
  LlTransferStatus status;
} LlTransferRow;

void ll_transfer_row_free(LlTransferRow *row);

/* Previews ll_checkpoint_load(path, g, opts) without loading anything: one
 * row per graph tensor, in graph order, then one per file tensor that names
 * no graph tensor, in file order (extra tensors left out). The matching is
 * the load's own. g needs only to be inferred (no compile, no memory).
 * opts may be NULL; opts->partial does not matter here. Fails when the file
 * cannot be read, two file tensors map onto one graph tensor, or a tensor
 * that would be loaded holds NaN or infinite values. */
gboolean ll_checkpoint_preview(const char *path, LlGraph *g, const LlLoadOptions *opts,
                               GPtrArray **rows /* LlTransferRow* */, GError **error);

/* The "__metadata__" object as a new table (char* -> char*; empty when the
 * file has none). */
gboolean ll_checkpoint_read_metadata(const char *path, GHashTable **out, GError **error);

/* One tensor as host floats (g_free *data). Ranks above LL_MAX_DIMS are
 * refused. */
gboolean ll_checkpoint_read_tensor(const char *path, const char *name, LlShape *shape, float **data,
                                   GError **error);

/* The tensor names in the file, in data order (g_ptr_array_unref; char*). */
gboolean ll_checkpoint_list(const char *path, GPtrArray **names, GError **error);

G_END_DECLS
