/* summary.h: the model summary (torchinfo's table): per block its output
 * shape, parameters, FLOPs and receptive field, and the totals. The CLI
 * prints it, the window's summary panel shows it. */
#pragma once

#include "graph.h"

G_BEGIN_DECLS

typedef struct {
  const LlBlock *block;
  LlShape output_shape; /* per sample */
  size_t params;        /* trainable floats */
  int64_t flops;        /* forward, per sample */
  int rf;               /* receptive field (pixels along one axis); 0: the whole input */
  gboolean frozen;
  LlBlockStatus status; /* not LL_BLOCK_OK: shape, params, FLOPs and rf are not known */
} LlSummaryRow;

typedef struct {
  GArray *rows; /* LlSummaryRow, in topological order */
  size_t total_params, trainable_params;
  int64_t total_flops;
  size_t param_bytes;
} LlSummary;

/* The graph must be inferred, or inferred partially (ll_graph_infer_partial):
 * then the rows of blocks that are not LL_BLOCK_OK hold no figures and the
 * totals count the others. */
LlSummary *ll_summary_new(LlGraph *g);
void ll_summary_free(LlSummary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlSummary, ll_summary_free)

/* The receptive field as a reader takes it: "12" (pixels along one axis),
 * "whole input", or "whole last axis" for a Linear on a tensor of several
 * dimensions (it acts on the last one only); "?" when not known. */
const char *ll_summary_rf_text(const LlSummaryRow *r, char *buf, size_t len);
/* The table as text, for a terminal. */
char *ll_summary_format_text(const LlSummary *s);
/* {"blocks":[{"name","type","output_shape","params","flops","receptive_field"}],
 *  "total_params", "trainable_params", "total_flops"} */
char *ll_summary_format_json(const LlSummary *s);
/* "1.2M", "7.4k", "123" */
char *ll_format_count(double n, char *buf, size_t len);

G_END_DECLS
