/* ll-forward: LayerLab's side of the interop tests (tests/interop/test_onnx.py,
 * test_pytorch.py).
 *
 *   ll-forward init SPEC CHECKPOINT SEED
 *     a checkpoint of SPEC's graph with random weights, and random BatchNorm
 *     statistics and norm scales and shifts, so that evaluation mode is not
 *     the identity; its metadata
 *     holds the spec as a trained checkpoint's does.
 *   ll-forward run CHECKPOINT N DIR OUTPUT...
 *     the checkpoint's graph in evaluation mode on N samples: reads
 *     DIR/<input>.bin (float32, N x the Input's shape) for every Input block
 *     and writes DIR/<output>.ll.bin for every OUTPUT block named.
 *   ll-forward samples CHECKPOINT N DIR
 *     the first N test samples of the checkpoint's spec (its training set's
 *     where it has no test set), as its data pipeline feeds them to each
 *     Input block: DIR/<input>.bin, in the layout `run` reads.
 */
#include <stdio.h>
#include <string.h>

#include "block-output-export.h"
#include "checkpoint.h"
#include "spec.h"

static int fail(const char *what, GError *error)
{
  fprintf(stderr, "ll-forward: %s: %s\n", what, error ? error->message : "failed");
  return 1;
}

static int init(const char *spec_path, const char *checkpoint, guint64 seed)
{
  GError *error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(spec_path, &error);
  if (!spec || !ll_graph_compile(spec->graph, ll_cpu_backend(), 1, &error))
    return fail(spec_path, error);
  LlRng rng;
  ll_rng_seed(&rng, seed);
  ll_graph_init_params(spec->graph, &rng);
  for (guint i = 0; i < spec->graph->order->len; i++) {
    LlBlock *b = spec->graph->order->pdata[i];
    if (!g_str_has_prefix(b->desc->type, "BatchNorm") && strcmp(b->desc->type, "LayerNorm"))
      continue;
    for (int k = 0; k < b->n_params; k++) {
      LlParam *p = &b->params[k];
      gboolean var = !strcmp(p->name, "running_var") || !strcmp(p->name, "weight");
      for (size_t j = 0; j < ll_shape_size(&p->shape); j++)
        p->data[j] =
            var ? (float)(0.5 + ll_rng_uniform(&rng)) : (float)(ll_rng_uniform(&rng) - 0.5);
    }
  }
  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup("layerlab-checkpoint"));
  g_hash_table_insert(meta, "spec", ll_spec_to_json(spec));
  g_hash_table_insert(meta, "spec_hash", ll_spec_hash(spec));
  if (!ll_checkpoint_save(checkpoint, spec->graph, meta, NULL, &error))
    return fail(checkpoint, error);
  return 0;
}

/* The spec in the checkpoint's metadata, as `layerlab eval` reads it. */
static LlSpec *checkpoint_spec(const char *checkpoint, GError **error)
{
  g_autoptr(GHashTable) meta = NULL;
  if (!ll_checkpoint_read_metadata(checkpoint, &meta, error))
    return NULL;
  const char *json = g_hash_table_lookup(meta, "spec");
  if (!json) {
    g_set_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_FORMAT, "no spec in the metadata");
    return NULL;
  }
  return ll_spec_load_data(json, -1, checkpoint, error);
}

static int run(const char *checkpoint, int n, const char *dir, int n_out, char **outs)
{
  GError *error = NULL;
  g_autoptr(LlSpec) spec = checkpoint_spec(checkpoint, &error);
  if (!spec)
    return fail(checkpoint, error);
  LlGraph *g = spec->graph;
  for (int i = 0; i < n_out; i++) {
    LlBlock *b = ll_graph_find(g, outs[i]);
    if (!b) {
      fprintf(stderr, "ll-forward: no block \"%s\"\n", outs[i]);
      return 1;
    }
    b->keep_output = TRUE;
  }
  g->fuse = TRUE; /* as the trainer runs it */
  if (!ll_graph_compile(g, ll_cpu_backend(), n, &error) ||
      !ll_checkpoint_load(checkpoint, g, NULL, NULL, &error))
    return fail(checkpoint, error);
  g_autoptr(GPtrArray) inputs = ll_graph_inputs(g);
  GPtrArray *data = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < inputs->len; i++) {
    LlBlock *in = inputs->pdata[i];
    g_autofree char *path = g_strdup_printf("%s/%s.bin", dir, in->name);
    char *buf;
    gsize len;
    if (!g_file_get_contents(path, &buf, &len, &error))
      return fail(path, error);
    if (len != (gsize)n * ll_block_out_size(in) * sizeof(float)) {
      fprintf(stderr, "ll-forward: %s: %zu bytes, not %d samples of %zu floats\n", path, len, n,
              ll_block_out_size(in));
      return 1;
    }
    g_ptr_array_add(data, buf);
    ll_graph_feed(g, in, (const float *)buf, n);
  }
  LlRunCtx ctx = {.be = g->be, .batch = n, .training = FALSE, .seed = 1};
  ll_graph_forward(g, &ctx);
  for (int i = 0; i < n_out; i++) {
    LlBlock *b = ll_graph_find(g, outs[i]);
    g_autofree char *path = g_strdup_printf("%s/%s.ll.bin", dir, b->name);
    size_t count = (size_t)n * ll_block_out_size(b);
    g_autofree float *host = g_new(float, count);
    g->be->download(host, b->out, count);
    if (!g_file_set_contents(path, (const char *)host, (gssize)(count * sizeof *host), &error))
      return fail(path, error);
  }
  g_ptr_array_unref(data);
  return 0;
}

static int samples(const char *checkpoint, int n, const char *dir)
{
  GError *error = NULL;
  g_autoptr(LlSpec) spec = checkpoint_spec(checkpoint, &error);
  if (!spec)
    return fail(checkpoint, error);
  g_autoptr(GPtrArray) inputs = ll_graph_inputs(spec->graph);
  for (guint i = 0; i < inputs->len; i++) {
    const LlBlock *in = inputs->pdata[i];
    float *x = NULL;
    int *labels = NULL, got = 0, dim = 0;
    gboolean from_test = FALSE;
    if (!ll_embed_block_test(spec, checkpoint, in->name, n, &x, &labels, &got, &dim, &from_test,
                             &error))
      return fail(in->name, error);
    g_free(labels);
    g_autofree char *path = g_strdup_printf("%s/%s.bin", dir, in->name);
    gboolean ok = got == n && g_file_set_contents(path, (const char *)x,
                                                  (gssize)((size_t)n * dim * sizeof *x), &error);
    g_free(x);
    if (!ok) {
      fprintf(stderr, "ll-forward: %s: %s\n", path,
              error ? error->message : "the data has fewer samples than asked for");
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc == 5 && !strcmp(argv[1], "init"))
    return init(argv[2], argv[3], g_ascii_strtoull(argv[4], NULL, 10));
  if (argc >= 6 && !strcmp(argv[1], "run"))
    return run(argv[2], atoi(argv[3]), argv[4], argc - 5, argv + 5);
  if (argc == 5 && !strcmp(argv[1], "samples"))
    return samples(argv[2], atoi(argv[3]), argv[4]);
  fprintf(stderr, "usage: ll-forward init SPEC CHECKPOINT SEED\n"
                  "       ll-forward run CHECKPOINT N DIR OUTPUT...\n"
                  "       ll-forward samples CHECKPOINT N DIR\n");
  return 2;
}
