/* transfer.c: previewing an init_from entry against a graph. */
#include "transfer.h"

#include <json-glib/json-glib.h>
#include "json-writer.h"

LlLoadOptions ll_init_from_load_options(const LlInitFrom *f, GHashTable **only_blocks)
{
  *only_blocks = NULL;
  if (f->blocks) {
    *only_blocks = g_hash_table_new(g_str_hash, g_str_equal);
    for (int k = 0; f->blocks[k]; k++)
      g_hash_table_add(*only_blocks, f->blocks[k]);
  }
  return (LlLoadOptions){.partial = TRUE, .block_map = f->map, .only_blocks = *only_blocks};
}

gboolean ll_transfer_preview(LlRunStore *store, LlGraph *g, const LlInitFrom *f, char **path_out,
                             GPtrArray **rows, GError **error)
{
  *rows = NULL;
  g_autofree char *path = ll_run_store_resolve_checkpoint(store, f->checkpoint, error);
  if (!path)
    return FALSE;
  g_autoptr(GHashTable) only = NULL;
  LlLoadOptions lo = ll_init_from_load_options(f, &only);
  if (!ll_checkpoint_preview(path, g, &lo, rows, error))
    return FALSE;
  if (path_out)
    *path_out = g_steal_pointer(&path);
  return TRUE;
}

guint ll_transfer_count(GPtrArray *rows, LlTransferStatus status)
{
  guint n = 0;
  for (guint i = 0; rows && i < rows->len; i++)
    n += ((const LlTransferRow *)rows->pdata[i])->status == status;
  return n;
}

static void member(JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name(b, key);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

char *ll_transfer_row_to_json(const LlTransferRow *row)
{
  g_autoptr(JsonBuilder) b = json_builder_new_immutable();
  json_builder_begin_object(b);
  member(b, "graph", row->graph_name);
  member(b, "file", row->file_name);
  member(b, "graph_shape", row->graph_shape);
  member(b, "file_shape", row->file_shape);
  member(b, "status", ll_transfer_status_to_string(row->status));
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  return ll_json_node_to_line(root);
}
