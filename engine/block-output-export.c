/* block-output-export.c: a trained model's block outputs written out for
 * other tools and later stages: embeddings as NPY (E10 trains an MLP on
 * them), per-step outputs as CSV (E7's detection probability over time). */
#include "block-output-export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "study.h"

/* The spec's graph, compiled on the CPU for batch and loaded from checkpoint,
 * with the datasets and a pipeline per split. */
typedef struct {
  LlSpec *spec;
  LlDataset *train, *test;
  LlPipeline *train_pipe, *test_pipe;
  LlBlock *block;
  int batch;
} Model;

static void model_clear(Model *m)
{
  if (m->test_pipe && m->test_pipe != m->train_pipe)
    ll_pipeline_free(m->test_pipe);
  if (m->train_pipe)
    ll_pipeline_free(m->train_pipe);
  ll_dataset_free(m->train);
  ll_dataset_free(m->test);
  ll_spec_free(m->spec);
}

static gboolean model_open(Model *m, const LlSpec *spec, const char *checkpoint, const char *block,
                           GError **error)
{
  memset(m, 0, sizeof *m);
  /* a private copy: the graph gets compiled */
  g_autofree char *json = ll_spec_to_json(spec);
  if (!(m->spec = ll_spec_load_data(json, -1, "spec", error)))
    return FALSE;
  LlSpec *s = m->spec;
  m->block = ll_graph_find(s->graph, block);
  if (!m->block) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "export: the graph has no block \"%s\"",
                block);
    return FALSE;
  }
  if (!ll_dataset_spec_open(&s->dataset, s->seed, &m->train, &m->test, error))
    return FALSE;
  /* normalisation statistics from the same training split the trainer used */
  g_autoptr(GArray) tr = NULL;
  g_autoptr(GArray) va = NULL;
  ll_split_indices(m->train->n, s->validation_split, s->seed, &tr, &va);
  if (!(m->train_pipe = ll_pipeline_new(m->train, &s->pipeline, tr, error)))
    return FALSE;
  if (m->test) {
    if (!(m->test_pipe = ll_pipeline_new_like(m->train_pipe, m->test, error)))
      return FALSE;
  } else {
    m->test_pipe = m->train_pipe;
  }
  m->batch = 256;
  if (!ll_graph_infer(s->graph, error) ||
      !ll_graph_compile(s->graph, ll_cpu_backend(), m->batch, error))
    return FALSE;
  LlRng rng;
  ll_rng_seed(&rng, s->seed);
  ll_graph_init_params(s->graph, &rng);
  return ll_checkpoint_load(checkpoint, s->graph, NULL, NULL, error);
}

/* Forward over samples [0, n) of pipe; calls fn with each batch after the forward pass. */
typedef void (*BatchFn)(Model *m, const LlBatch *batch, guint first, gpointer data);

static void model_run(Model *m, LlPipeline *pipe, guint n, BatchFn fn, gpointer data)
{
  const LlBackend *be = ll_cpu_backend();
  g_autoptr(GArray) idx = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
  for (guint32 i = 0; i < n; i++)
    g_array_append_val(idx, i);
  g_autoptr(LlLoader) loader =
      ll_loader_new(pipe, idx, m->batch, FALSE, FALSE, FALSE, m->spec->seed);
  /* the forward keeps the cores busy (see the trainer's evaluate) */
  ll_loader_set_inline(loader, TRUE, ll_cpu_backend()->host_parallel_for);
  ll_loader_start_epoch(loader, 0);
  g_autoptr(GPtrArray) ins = ll_graph_inputs(m->spec->graph);
  LlRunCtx ctx = {.be = be, .training = FALSE, .seed = m->spec->seed};
  const LlBatch *batch;
  guint first = 0;
  while ((batch = ll_loader_next(loader))) {
    for (guint i = 0; i < ins->len; i++) {
      LlBlock *b = g_ptr_array_index(ins, i);
      const char *field = g_hash_table_lookup(m->spec->bindings, b->name);
      be->upload(b->out, ll_batch_field(batch, field ? field : "x", NULL),
                 (size_t)batch->n * ll_block_out_size(b));
    }
    ctx.batch = batch->n;
    ll_graph_forward(m->spec->graph, &ctx);
    fn(m, batch, first, data);
    first += (guint)batch->n;
  }
}

/* ---- NPY ---------------------------------------------------------------------- */

static gboolean write_npy(const char *path, const char *descr, int rank, const guint64 *dims,
                          const void *data, size_t bytes, GError **error)
{
  GString *h = g_string_new(NULL);
  g_string_append_printf(h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < rank; i++)
    g_string_append_printf(h, "%" G_GUINT64_FORMAT "%s", dims[i],
                           rank == 1 || i < rank - 1 ? ", " : "");
  g_string_append(h, "), }");
  /* magic (6) + version (2) + length (2) + header, padded to 64 with a final newline */
  while ((10 + h->len + 1) % 64)
    g_string_append_c(h, ' ');
  g_string_append_c(h, '\n');
  GString *out = g_string_new_len("\x93NUMPY\x01\x00", 8);
  guint16 hl = GUINT16_TO_LE((guint16)h->len);
  g_string_append_len(out, (const char *)&hl, 2);
  g_string_append_len(out, h->str, (gssize)h->len);
  g_string_append_len(out, data, (gssize)bytes);
  gboolean ok = g_file_set_contents(path, out->str, (gssize)out->len, error);
  g_string_free(out, TRUE);
  g_string_free(h, TRUE);
  return ok;
}

typedef struct {
  float *features;
  gint32 *labels;
  size_t dim;
} Collect;

static void collect_batch(Model *m, const LlBatch *batch, guint first, gpointer data)
{
  Collect *c = data;
  ll_cpu_backend()->download(c->features + (size_t)first * c->dim, m->block->out,
                             (size_t)batch->n * c->dim);
  const float *lab = ll_batch_field(batch, "label", NULL);
  for (int i = 0; i < batch->n; i++)
    c->labels[first + i] = lab ? (gint32)lrintf(lab[i]) : 0;
}

gboolean ll_export_embeddings(const LlSpec *spec, const char *checkpoint, const char *block,
                              const char *dir, GError **error)
{
  Model m;
  gboolean ok = model_open(&m, spec, checkpoint, block, error);
  if (ok && g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
                g_strerror(errno));
    ok = FALSE;
  }
  const char *splits[] = {"train", "test"};
  for (int k = 0; ok && k < 2; k++) {
    LlPipeline *pipe = k == 0 ? m.train_pipe : m.test_pipe;
    const LlDataset *d = ll_pipeline_dataset(pipe);
    Collect c = {.dim = ll_block_out_size(m.block)};
    c.features = g_new(float, (size_t)d->n *c.dim);
    c.labels = g_new0(gint32, d->n);
    model_run(&m, pipe, d->n, collect_batch, &c);
    g_autofree char *fp = g_strdup_printf("%s/%s_features.npy", dir, splits[k]);
    g_autofree char *lp = g_strdup_printf("%s/%s_labels.npy", dir, splits[k]);
    guint64 fd[2] = {d->n, c.dim}, ld[1] = {d->n};
    ok = write_npy(fp, "<f4", 2, fd, c.features, (size_t)d->n * c.dim * sizeof(float), error) &&
         write_npy(lp, "<i4", 1, ld, c.labels, (size_t)d->n * sizeof(gint32), error);
    g_free(c.features);
    g_free(c.labels);
  }
  model_clear(&m);
  return ok;
}

gboolean ll_embed_block_test(const LlSpec *spec, const char *checkpoint, const char *block,
                             int max_n, float **features, int **labels, int *n, int *dim,
                             gboolean *from_test_set, GError **error)
{
  Model m;
  gboolean ok = model_open(&m, spec, checkpoint, block, error);
  if (ok) {
    const LlDataset *d = ll_pipeline_dataset(m.test_pipe);
    guint take = MIN(d->n, (guint)MAX(max_n, 0));
    Collect c = {.dim = ll_block_out_size(m.block)};
    c.features = g_new(float, (size_t)MAX(take, 1) * c.dim);
    c.labels = g_new0(gint32, MAX(take, 1));
    model_run(&m, m.test_pipe, take, collect_batch, &c);
    *features = (float *)c.features;
    *labels = g_new(int, MAX(take, 1));
    for (guint i = 0; i < take; i++)
      (*labels)[i] = c.labels[i];
    g_free(c.labels);
    *n = (int)take;
    *dim = (int)c.dim;
    *from_test_set = m.test != NULL;
  }
  model_clear(&m);
  return ok;
}

/* ---- per-sample outputs as CSV ---------------------------------------------------- */

typedef struct {
  GString *csv;
  const char *target;
  gboolean sigmoid;
  guint n;
  float *buf;
} Rows;

static void rows_batch(Model *m, const LlBatch *batch, guint first, gpointer data)
{
  Rows *r = data;
  size_t dim = ll_block_out_size(m->block);
  ll_cpu_backend()->download(r->buf, m->block->out, (size_t)batch->n * dim);
  LlShape ts;
  const float *t = ll_batch_field(batch, r->target, &ts);
  size_t tdim = t ? ll_shape_size(&ts) : 0;
  for (int i = 0; i < batch->n && first + (guint)i < r->n; i++)
    for (size_t k = 0; k < dim; k++) {
      double v = r->buf[(size_t)i * dim + k];
      if (r->sigmoid)
        v = 1.0 / (1.0 + exp(-v));
      char tv[32] = "";
      if (t && tdim == dim)
        g_snprintf(tv, sizeof tv, "%g", t[(size_t)i * tdim + k]);
      g_string_append_printf(r->csv, "%u,%zu,%s,%.6g\n", first + i, k, tv, v);
    }
}

gboolean ll_export_outputs_csv(const LlSpec *spec, const char *checkpoint, const char *block,
                               const char *target, int n, gboolean sigmoid, const char *path,
                               GError **error)
{
  Model m;
  if (!model_open(&m, spec, checkpoint, block, error)) {
    model_clear(&m);
    return FALSE;
  }
  const LlDataset *d = ll_pipeline_dataset(m.test_pipe);
  Rows r = {.csv = g_string_new("sample,step,target,output\n"),
            .target = target ? target : "label",
            .sigmoid = sigmoid,
            .n = MIN((guint)MAX(n, 1), d->n)};
  r.buf = g_new(float, (size_t)m.batch *ll_block_out_size(m.block));
  /* the loader runs whole batches: round up to one */
  model_run(&m, m.test_pipe, MIN(d->n, (guint)m.batch), rows_batch, &r);
  gboolean ok = g_file_set_contents(path, r.csv->str, (gssize)r.csv->len, error);
  g_string_free(r.csv, TRUE);
  g_free(r.buf);
  model_clear(&m);
  return ok;
}
