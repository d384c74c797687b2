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
} LlSummaryRow;

typedef struct {
  GArray *rows; /* LlSummaryRow, in topological order */
  size_t total_params, trainable_params;
  int64_t total_flops;
  size_t param_bytes;
} LlSummary;

/* The graph must be inferred. */
LlSummary *ll_summary_new(LlGraph *g);
void ll_summary_free(LlSummary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlSummary, ll_summary_free)

/* The table as text, for a terminal. */
char *ll_summary_format_text(const LlSummary *s);
/* {"blocks":[{"name","type","output_shape","params","flops","receptive_field"}],
 *  "total_params", "trainable_params", "total_flops"} */
char *ll_summary_format_json(const LlSummary *s);
/* "1.2M", "7.4k", "123" */
char *ll_format_count(double n, char *buf, size_t len);

G_END_DECLS
