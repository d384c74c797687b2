/* fuzz-checkpoint-meta: a checkpoint's metadata as `layerlab eval` and
 * --resume read it: the spec stored in it and the list of extra tensors.
 * Input: spec [SEP layerlab.extra [SEP epoch [SEP step]]], each written as
 * a metadata string of an otherwise valid safetensors file. */
#include <string.h>

#include "checkpoint.h"
#include "fuzz-graph.h"
#include "fuzz-util.h"
#include "json-writer.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *write_checkpoint(const char *const *keys, char **values, int n)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  ll_json_begin_object(&w);
  ll_json_key(&w, "__metadata__");
  ll_json_begin_object(&w);
  for (int i = 0; i < n; i++) {
    ll_json_key(&w, keys[i]);
    ll_json_string(&w, values[i]);
  }
  ll_json_end_object(&w);
  ll_json_key(&w, "fc.bias");
  ll_json_begin_object(&w);
  ll_json_key(&w, "dtype");
  ll_json_string(&w, "F32");
  ll_json_key(&w, "shape");
  ll_json_begin_array(&w, TRUE);
  ll_json_int(&w, 5);
  ll_json_end_array(&w);
  ll_json_key(&w, "data_offsets");
  ll_json_begin_array(&w, TRUE);
  ll_json_int(&w, 0);
  ll_json_int(&w, 20);
  ll_json_end_array(&w);
  ll_json_end_object(&w);
  ll_json_end_object(&w);
  g_autofree char *header = ll_json_writer_finish(&w);
  guint64 n_header = GUINT64_TO_LE(strlen(header));
  GByteArray *file = g_byte_array_new();
  g_byte_array_append(file, (const guint8 *)&n_header, 8);
  g_byte_array_append(file, (const guint8 *)header, (guint)strlen(header));
  static const float bias[5] = {0.5f, -1, 2, 0, 3};
  g_byte_array_append(file, (const guint8 *)bias, sizeof bias);
  char *path = ll_fuzz_write("last.safetensors", file->data, file->len);
  g_byte_array_unref(file);
  return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  static const char *const keys[] = {"spec", LL_CHECKPOINT_EXTRA_KEY, "epoch", "step"};
  const uint8_t *part[4];
  size_t len[4];
  int n = ll_fuzz_split(data, size, 4, part, len);
  char *values[4];
  for (int i = 0; i < n; i++)
    values[i] = g_strndup((const char *)part[i], len[i]);
  g_autofree char *path = write_checkpoint(keys, values, n);

  GError *error = NULL;
  GHashTable *meta = NULL;
  if (ll_checkpoint_read_metadata(path, &meta, &error)) {
    const char *spec_json = g_hash_table_lookup(meta, "spec");
    LlSpec *spec = spec_json ? ll_spec_load_data(spec_json, -1, path, &error) : NULL;
    g_assert(!spec_json || (spec == NULL) == (error != NULL));
    ll_spec_free(spec);
    g_hash_table_unref(meta);
  }
  g_clear_error(&error);
  GPtrArray *names = NULL;
  if (ll_checkpoint_list(path, &names, &error))
    g_ptr_array_unref(names);
  g_clear_error(&error);
  LlLoadOptions opts = {.partial = TRUE};
  LlLoadReport rep;
  gboolean ok = ll_checkpoint_load(path, ll_fuzz_graph(), &opts, &rep, &error);
  g_assert(ok == (error == NULL));
  g_clear_error(&error);
  ll_load_report_clear(&rep);
  for (int i = 0; i < n; i++)
    g_free(values[i]);
  ll_fuzz_reset();
  return 0;
}
