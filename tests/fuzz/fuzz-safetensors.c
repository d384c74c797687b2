/* fuzz-safetensors: checkpoint files: the header, every tensor as floats,
 * the transfer preview and a load into a small graph (strict and partial,
 * with a block map). */
#include "checkpoint.h"
#include "fuzz-graph.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  LlGraph *g = ll_fuzz_graph();
  g_autofree char *path = ll_fuzz_write("model.safetensors", data, size);
  GError *error = NULL;
  GPtrArray *names = NULL;
  if (ll_checkpoint_list(path, &names, &error)) {
    for (guint i = 0; i < names->len; i++) {
      LlShape shape;
      float *t = NULL;
      if (ll_checkpoint_read_tensor(path, g_ptr_array_index(names, i), &shape, &t, &error))
        g_assert(ll_shape_size(&shape) == 0 || t != NULL);
      g_clear_error(&error);
      g_free(t);
    }
    g_ptr_array_unref(names);
  }
  g_clear_error(&error);
  GHashTable *meta = NULL;
  if (ll_checkpoint_read_metadata(path, &meta, &error))
    g_hash_table_unref(meta);
  g_clear_error(&error);

  GHashTable *map = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(map, "enc", "fc");
  LlLoadOptions opts[] = {{.partial = FALSE}, {.partial = TRUE, .block_map = map}};
  for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
    GPtrArray *rows = NULL;
    if (ll_checkpoint_preview(path, g, &opts[i], &rows, &error))
      g_ptr_array_unref(rows);
    g_clear_error(&error);
    LlLoadReport rep;
    gboolean ok = ll_checkpoint_load(path, g, &opts[i], &rep, &error);
    g_assert(ok == (error == NULL));
    g_clear_error(&error);
    g_free(ll_load_report_format(&rep));
    ll_load_report_clear(&rep);
  }
  g_hash_table_unref(map);
  ll_fuzz_reset();
  return 0;
}
