/* transfer.h: what a spec's init_from entry would take from a checkpoint,
 * tensor by tensor, before any training starts (the `layerlab transfer` verb
 * and the window's "Initialise from Run" dialog both show it). */
#pragma once

#include "checkpoint.h"
#include "run-store.h"
#include "spec.h"

G_BEGIN_DECLS

/* The load options an init_from entry stands for (partial, its map, its
 * blocks as only_blocks); only_blocks is owned by the caller
 * (g_hash_table_unref; NULL when the entry names no blocks). */
LlLoadOptions ll_init_from_load_options(const LlInitFrom *f, GHashTable **only_blocks);

/* Resolves f->checkpoint (a path, or "run:<id>" in store, which may be NULL
 * for a path) and previews loading it into g (inferred). path_out (may be
 * NULL) receives the file. */
gboolean ll_transfer_preview(LlRunStore *store, LlGraph *g, const LlInitFrom *f, char **path_out,
                             GPtrArray **rows /* LlTransferRow* */, GError **error);

/* How many rows have the status. */
guint ll_transfer_count(GPtrArray *rows, LlTransferStatus status);

/* One line per row: {"graph", "file", "graph_shape", "file_shape", "status"} (NULL as null). */
char *ll_transfer_row_to_json(const LlTransferRow *row);

G_END_DECLS
