/* Checkpoints: round trips, partial and renamed loading, the exact
 * safetensors layout, malformed files and atomic replacement. */
#include "checkpoint.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* ---- helpers ---------------------------------------------------------------------------- */

static void rm_rf(const char *path)
{
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *n;
    while ((n = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      rm_rf(p);
    }
    g_dir_close(d);
    g_chmod(path, 0755);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static char *make_tmp(void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp("ll-ckpt-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

/* A block with a trainable "scale" and a non-trainable "running_mean", both
 * of the input's width: stands in for BatchNorm's buffers. */
static gboolean stat_infer(LlBlock *b, GError **error)
{
  int c = b->in_shape[0].d[b->in_shape[0].rank - 1];
  b->out_shape = b->in_shape[0];
  ll_block_add_param(b, "scale", ll_shape_make(1, &c), LL_INIT_KAIMING, c, c, TRUE);
  ll_block_add_param(b, "running_mean", ll_shape_make(1, &c), LL_INIT_KAIMING, c, c, FALSE);
  return TRUE;
}

static const LlBlockDesc stat_desc = {
    .type = "TestStat",
    .category = "Test",
    .min_inputs = 1,
    .max_inputs = 1,
    .infer = stat_infer,
};

typedef struct {
  const char *type, *name, *input, *props;
} BlockSpec;

/* The blocks of spec, inferred (shapes and params declared) but not compiled. */
static LlGraph *build_inferred(const BlockSpec *spec)
{
  GError *error = NULL;
  LlGraph *g = ll_graph_new();
  for (const BlockSpec *s = spec; s->type; s++) {
    gboolean stat = !strcmp(s->type, "TestStat");
    LlBlock *b = ll_graph_add(g, stat ? "ReLU" : s->type, s->name, &error);
    g_assert_no_error(error);
    if (stat)
      b->desc = &stat_desc;
    if (s->input)
      ll_block_connect(b, s->input);
    if (s->props) {
      g_auto(GStrv) kv = g_strsplit(s->props, "=", 2);
      ll_block_set_prop_string(b, kv[0], kv[1], &error);
      g_assert_no_error(error);
    }
  }
  g_assert_true(ll_graph_resolve(g, &error) && ll_graph_infer(g, &error));
  g_assert_no_error(error);
  return g;
}

static LlGraph *build(const BlockSpec *spec, guint64 seed)
{
  GError *error = NULL;
  LlGraph *g = build_inferred(spec);
  ll_graph_compile(g, ll_cpu_backend(), 2, &error);
  g_assert_no_error(error);
  LlRng rng;
  ll_rng_seed(&rng, seed);
  ll_graph_init_params(g, &rng);
  return g;
}

/* in(6) -> fc1(5) -> norm -> act -> fc2(3) */
static const BlockSpec net_a[] = {
    {"Input", "in", NULL, "shape=6"},           {"Linear", "fc1", "in", "out_features=5"},
    {"TestStat", "norm", "fc1", NULL},          {"ReLU", "act", "norm", NULL},
    {"Linear", "fc2", "act", "out_features=3"}, {NULL},
};

static const float *param(LlGraph *g, const char *block, const char *name)
{
  LlBlock *b = ll_graph_find(g, block);
  g_assert_nonnull(b);
  LlParam *p = ll_block_param(b, name);
  g_assert_nonnull(p);
  return p->data;
}

static size_t param_size(LlGraph *g, const char *block, const char *name)
{
  return ll_shape_size(&ll_block_param(ll_graph_find(g, block), name)->shape);
}

static gboolean same_param(LlGraph *a, const char *ablock, LlGraph *b, const char *bblock,
                           const char *name)
{
  size_t n = param_size(a, ablock, name);
  g_assert_cmpuint(n, ==, param_size(b, bblock, name));
  return memcmp(param(a, ablock, name), param(b, bblock, name), n * sizeof(float)) == 0;
}

static gboolean has(GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (!strcmp(names->pdata[i], name))
      return TRUE;
  return FALSE;
}

static char *read_all(const char *path, gsize *len)
{
  char *s = NULL;
  GError *error = NULL;
  g_file_get_contents(path, &s, len, &error);
  g_assert_no_error(error);
  return s;
}

static void write_all(const char *path, const void *data, gsize len)
{
  GError *error = NULL;
  g_file_set_contents(path, data, (gssize)len, &error);
  g_assert_no_error(error);
}

/* A file with the given header JSON (padded) and data bytes. */
static void write_raw(const char *path, const char *json, const void *data, gsize len)
{
  gsize jl = strlen(json), hl = (jl + 7) & ~(gsize)7;
  g_autofree guint8 *buf = g_malloc0(8 + hl + len + 1);
  guint64 le = GUINT64_TO_LE((guint64)hl);
  memcpy(buf, &le, 8);
  memcpy(buf + 8, json, jl);
  memset(buf + 8 + jl, ' ', hl - jl);
  if (len)
    memcpy(buf + 8 + hl, data, len);
  write_all(path, buf, 8 + hl + len);
}

static int count_entries(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int n = 0;
  while (g_dir_read_name(d))
    n++;
  g_dir_close(d);
  return n;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_roundtrip(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_autoptr(LlGraph) b = build(net_a, 2);
  g_assert_false(same_param(a, "fc1", b, "fc1", "weight"));

  g_assert_true(ll_checkpoint_save(path, a, NULL, NULL, &error));
  g_assert_no_error(error);
  LlLoadReport r;
  g_assert_true(ll_checkpoint_load(path, b, NULL, &r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(r.loaded->len, ==, 6);
  g_assert_cmpuint(r.missing->len + r.unexpected->len + r.mismatched->len, ==, 0);
  ll_load_report_clear(&r);

  g_assert_true(same_param(a, "fc1", b, "fc1", "weight"));
  g_assert_true(same_param(a, "fc1", b, "fc1", "bias"));
  g_assert_true(same_param(a, "norm", b, "norm", "scale"));
  g_assert_true(same_param(a, "norm", b, "norm", "running_mean")); /* a buffer */
  g_assert_true(same_param(a, "fc2", b, "fc2", "weight"));
  g_assert_true(same_param(a, "fc2", b, "fc2", "bias"));

  /* the networks now compute the same function */
  LlRunCtx ctx = {.be = ll_cpu_backend(), .batch = 2};
  float x[12];
  for (int i = 0; i < 12; i++)
    x[i] = (float)sin(i + 1.0);
  memcpy(ll_graph_find(a, "in")->out, x, sizeof x);
  memcpy(ll_graph_find(b, "in")->out, x, sizeof x);
  ll_graph_forward(a, &ctx);
  ll_graph_forward(b, &ctx);
  g_assert_cmpmem(ll_graph_find(a, "fc2")->out, 6 * sizeof(float), ll_graph_find(b, "fc2")->out,
                  6 * sizeof(float));
  rm_rf(dir);
}

static void test_metadata_extra(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);

  g_autoptr(GHashTable) meta = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(meta, "epoch", "7");
  g_hash_table_insert(meta, "spec", "{\"version\": 1, \"name\": \"mlp \\u00e9\"}");
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func((GDestroyNotify)ll_named_tensor_free);
  float m[6] = {0.5f, -1.25f, 3.0f, 1e-8f, -0.0f, 42.0f};
  float step = 1234.0f;
  g_ptr_array_add(extra, ll_named_tensor_new("optim.m.fc1.bias", &(LlShape){2, {2, 3}}, m));
  g_ptr_array_add(extra, ll_named_tensor_new("optim.step", &(LlShape){0}, &step));
  g_assert_true(ll_checkpoint_save(path, a, meta, extra, &error));
  g_assert_no_error(error);

  g_autoptr(GHashTable) got = NULL;
  g_assert_true(ll_checkpoint_read_metadata(path, &got, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(g_hash_table_lookup(got, "epoch"), ==, "7");
  g_assert_cmpstr(g_hash_table_lookup(got, "spec"), ==, g_hash_table_lookup(meta, "spec"));
  g_assert_cmpstr(g_hash_table_lookup(got, "format"), ==, "pt");
  g_assert_cmpstr(g_hash_table_lookup(got, LL_CHECKPOINT_EXTRA_KEY), ==,
                  "[\"optim.m.fc1.bias\",\"optim.step\"]");

  LlShape s;
  g_autofree float *data = NULL;
  g_assert_true(ll_checkpoint_read_tensor(path, "optim.m.fc1.bias", &s, &data, &error));
  g_assert_no_error(error);
  g_assert_cmpint(s.rank, ==, 2);
  g_assert_cmpint(s.d[0], ==, 2);
  g_assert_cmpint(s.d[1], ==, 3);
  g_assert_cmpmem(data, sizeof m, m, sizeof m);
  g_clear_pointer(&data, g_free);
  g_assert_true(ll_checkpoint_read_tensor(path, "optim.step", &s, &data, &error));
  g_assert_cmpint(s.rank, ==, 0);
  g_assert_cmpfloat(data[0], ==, 1234.0f);
  g_clear_pointer(&data, g_free);
  /* graph tensors are readable the same way */
  g_assert_true(ll_checkpoint_read_tensor(path, "fc2.bias", &s, &data, &error));
  g_assert_cmpmem(data, 3 * sizeof(float), param(a, "fc2", "bias"), 3 * sizeof(float));
  g_clear_pointer(&data, g_free);
  g_assert_false(ll_checkpoint_read_tensor(path, "nope.weight", &s, &data, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "nope.weight"));
  g_clear_error(&error);

  g_autoptr(GPtrArray) names = NULL;
  g_assert_true(ll_checkpoint_list(path, &names, &error));
  g_assert_cmpuint(names->len, ==, 8);
  g_assert_cmpstr(names->pdata[0], ==, "fc1.weight");
  g_assert_cmpstr(names->pdata[7], ==, "optim.step");

  /* the extras are not "unexpected" when loading strictly into a graph */
  g_autoptr(LlGraph) b = build(net_a, 2);
  g_assert_true(ll_checkpoint_load(path, b, NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(same_param(a, "fc1", b, "fc1", "weight"));

  /* refused: the reserved key, an extra named like a graph tensor */
  g_hash_table_insert(meta, LL_CHECKPOINT_EXTRA_KEY, "[]");
  g_assert_false(ll_checkpoint_save(path, a, meta, NULL, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_INVALID);
  g_clear_error(&error);
  g_ptr_array_add(extra, ll_named_tensor_new("fc1.weight", &(LlShape){1, {1}}, NULL));
  g_assert_false(ll_checkpoint_save(path, a, NULL, extra, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "fc1.weight"));
  g_clear_error(&error);
  rm_rf(dir);
}

static void test_partial(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_assert_true(ll_checkpoint_save(path, a, NULL, NULL, &error));

  /* fc2 is wider, fc3 is new */
  static const BlockSpec net_c[] = {
      {"Input", "in", NULL, "shape=6"},
      {"Linear", "fc1", "in", "out_features=5"},
      {"TestStat", "norm", "fc1", NULL},
      {"ReLU", "act", "norm", NULL},
      {"Linear", "fc2", "act", "out_features=4"},
      {"Linear", "fc3", "fc2", "out_features=2"},
      {NULL},
  };
  g_autoptr(LlGraph) c = build(net_c, 2);
  float before[5];
  memcpy(before, param(c, "fc1", "bias"), sizeof before);

  /* strict: an error that lists everything, and nothing loaded */
  LlLoadReport r;
  g_assert_false(ll_checkpoint_load(path, c, NULL, &r, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_MISMATCH);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "fc3.weight"));
  g_assert_nonnull(
      strstr(error->message, "\"fc2.weight\" is (3, 5) in the file, (4, 5) in the graph"));
  g_clear_error(&error);
  g_assert_cmpuint(r.loaded->len, ==, 0);
  ll_load_report_clear(&r);
  g_assert_cmpmem(param(c, "fc1", "bias"), sizeof before, before, sizeof before);

  /* partial: what fits is loaded, the rest reported */
  LlLoadOptions o = {.partial = TRUE};
  g_assert_true(ll_checkpoint_load(path, c, &o, &r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(r.loaded->len, ==, 4);
  g_assert_true(has(r.loaded, "fc1.weight") && has(r.loaded, "fc1.bias"));
  g_assert_true(has(r.loaded, "norm.scale") && has(r.loaded, "norm.running_mean"));
  g_assert_cmpuint(r.missing->len, ==, 2);
  g_assert_true(has(r.missing, "fc3.weight") && has(r.missing, "fc3.bias"));
  g_assert_cmpuint(r.unexpected->len, ==, 0);
  g_assert_cmpuint(r.mismatched->len, ==, 2);
  const LlShapeMismatch *mw = r.mismatched->pdata[0], *mb = r.mismatched->pdata[1];
  if (strcmp(mw->name, "fc2.weight"))
    mw = r.mismatched->pdata[1], mb = r.mismatched->pdata[0];
  g_assert_cmpstr(mw->name, ==, "fc2.weight");
  g_assert_cmpstr(mw->file_shape, ==, "(3, 5)");
  g_assert_cmpstr(mw->graph_shape, ==, "(4, 5)");
  g_assert_cmpstr(mb->name, ==, "fc2.bias");
  g_assert_cmpstr(mb->file_shape, ==, "(3)");
  g_assert_cmpstr(mb->graph_shape, ==, "(4)");
  g_autofree char *text = ll_load_report_format(&r);
  g_assert_nonnull(strstr(text, "loaded 4 tensors"));
  g_assert_nonnull(strstr(text, "fc3.bias"));
  ll_load_report_clear(&r);
  g_assert_true(same_param(a, "fc1", c, "fc1", "weight"));
  g_assert_true(same_param(a, "norm", c, "norm", "running_mean"));

  /* a smaller graph: the file's fc2 is unexpected */
  static const BlockSpec net_d[] = {
      {"Input", "in", NULL, "shape=6"},
      {"Linear", "fc1", "in", "out_features=5"},
      {"TestStat", "norm", "fc1", NULL},
      {NULL},
  };
  g_autoptr(LlGraph) d = build(net_d, 3);
  g_assert_true(ll_checkpoint_load(path, d, &o, &r, &error));
  g_assert_cmpuint(r.loaded->len, ==, 4);
  g_assert_cmpuint(r.unexpected->len, ==, 2);
  g_assert_true(has(r.unexpected, "fc2.weight") && has(r.unexpected, "fc2.bias"));
  g_assert_cmpuint(r.missing->len, ==, 0);
  ll_load_report_clear(&r);

  /* strict, but only into fc1: fc2's mismatch and fc3's absence do not matter */
  g_autoptr(LlGraph) c2 = build(net_c, 4);
  g_autoptr(GHashTable) only = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(only, "fc1");
  LlLoadOptions o2 = {.only_blocks = only};
  g_assert_true(ll_checkpoint_load(path, c2, &o2, &r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(r.loaded->len, ==, 2);
  g_assert_cmpuint(r.skipped->len, ==, 4); /* norm.*, fc2.* */
  g_assert_true(has(r.skipped, "fc2.weight") && has(r.skipped, "norm.scale"));
  ll_load_report_clear(&r);
  g_assert_true(same_param(a, "fc1", c2, "fc1", "weight"));
  g_assert_false(same_param(a, "norm", c2, "norm", "scale"));
  rm_rf(dir);
}

static void test_name_map(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_assert_true(ll_checkpoint_save(path, a, NULL, NULL, &error));

  static const BlockSpec net_e[] = {
      {"Input", "x", NULL, "shape=6"},
      {"Linear", "enc", "x", "out_features=5"},
      {"TestStat", "norm", "enc", NULL},
      {"ReLU", "act", "norm", NULL},
      {"Linear", "head", "act", "out_features=3"},
      {NULL},
  };
  g_autoptr(LlGraph) e = build(net_e, 2);
  g_assert_false(ll_checkpoint_load(path, e, NULL, NULL, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_MISMATCH);
  g_clear_error(&error);

  g_autoptr(GHashTable) map = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(map, "fc1", "enc");
  g_hash_table_insert(map, "fc2", "head");
  LlLoadOptions o = {.block_map = map};
  LlLoadReport r;
  g_assert_true(ll_checkpoint_load(path, e, &o, &r, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(r.loaded->len, ==, 6);
  g_assert_true(has(r.loaded, "enc.weight") && has(r.loaded, "head.bias"));
  ll_load_report_clear(&r);
  g_assert_true(same_param(a, "fc1", e, "enc", "weight"));
  g_assert_true(same_param(a, "fc2", e, "head", "bias"));
  g_assert_true(same_param(a, "norm", e, "norm", "scale")); /* unmapped: same name */

  /* two file blocks onto one graph block is refused */
  g_hash_table_insert(map, "fc2", "enc");
  LlLoadOptions o2 = {.block_map = map, .partial = TRUE};
  g_assert_false(ll_checkpoint_load(path, e, &o2, NULL, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_MISMATCH);
  g_clear_error(&error);
  rm_rf(dir);
}

static const LlTransferRow *row_of(GPtrArray *rows, const char *graph_name, const char *file_name)
{
  for (guint i = 0; i < rows->len; i++) {
    const LlTransferRow *r = rows->pdata[i];
    if (!g_strcmp0(r->graph_name, graph_name) && !g_strcmp0(r->file_name, file_name))
      return r;
  }
  g_error("no preview row %s <- %s", graph_name ? graph_name : "-", file_name ? file_name : "-");
  return NULL;
}

/* The preview of a transfer: a mapped block, a shape mismatch, a tensor the
 * file lacks, a block not taken and file tensors the graph lacks, on a graph
 * that is only inferred; and it agrees with what the load then does. */
static void test_preview(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func((GDestroyNotify)ll_named_tensor_free);
  LlShape four = ll_shape_make(1, (int[]){4});
  g_ptr_array_add(extra, ll_named_tensor_new("optimizer.m", &four, NULL));
  g_assert_true(ll_checkpoint_save(path, a, NULL, extra, &error));

  /* fc1 -> enc (same shape), fc2 -> head (4 outputs, not 3), fc3 is new, norm not taken */
  static const BlockSpec net_t[] = {
      {"Input", "x", NULL, "shape=6"},
      {"Linear", "enc", "x", "out_features=5"},
      {"TestStat", "norm", "enc", NULL},
      {"ReLU", "act", "norm", NULL},
      {"Linear", "head", "act", "out_features=4"},
      {"Linear", "fc3", "head", "out_features=2"},
      {NULL},
  };
  g_autoptr(LlGraph) t = build_inferred(net_t);
  g_assert_null(t->arena);
  g_autoptr(GHashTable) map = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(map, "fc1", "enc");
  g_hash_table_insert(map, "fc2", "head");
  g_autoptr(GHashTable) only = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(only, "enc");
  g_hash_table_add(only, "head");
  g_hash_table_add(only, "fc3");
  LlLoadOptions o = {.block_map = map, .only_blocks = only, .partial = TRUE};
  g_autoptr(GPtrArray) rows = NULL;
  g_assert_true(ll_checkpoint_preview(path, t, &o, &rows, &error));
  g_assert_no_error(error);
  /* every graph tensor once, in graph order; the optimizer state is no row */
  g_assert_cmpuint(rows->len, ==, 8);
  const LlTransferRow *r0 = rows->pdata[0];
  g_assert_cmpstr(r0->graph_name, ==, "enc.weight");

  const LlTransferRow *r = row_of(rows, "enc.weight", "fc1.weight");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_MATCH);
  g_assert_cmpstr(r->graph_block, ==, "enc");
  g_assert_cmpstr(r->file_block, ==, "fc1");
  g_assert_cmpstr(r->file_shape, ==, "(5, 6)");
  g_assert_cmpstr(r->graph_shape, ==, "(5, 6)");
  g_assert_cmpint(row_of(rows, "enc.bias", "fc1.bias")->status, ==, LL_TRANSFER_MATCH);

  r = row_of(rows, "head.weight", "fc2.weight");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_SHAPE_MISMATCH);
  g_assert_cmpstr(r->file_shape, ==, "(3, 5)");
  g_assert_cmpstr(r->graph_shape, ==, "(4, 5)");
  g_assert_cmpstr(ll_transfer_status_to_string(r->status), ==, "shape mismatch");

  r = row_of(rows, "fc3.weight", NULL);
  g_assert_cmpint(r->status, ==, LL_TRANSFER_MISSING);
  g_assert_null(r->file_shape);
  g_assert_cmpstr(r->graph_shape, ==, "(2, 4)");
  g_assert_cmpint(row_of(rows, "fc3.bias", NULL)->status, ==, LL_TRANSFER_MISSING);

  r = row_of(rows, "norm.scale", "norm.scale");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_NOT_TAKEN);
  g_assert_cmpint(row_of(rows, "norm.running_mean", "norm.running_mean")->status, ==,
                  LL_TRANSFER_NOT_TAKEN);

  /* the load with the same options loads exactly the matching rows */
  g_autoptr(LlGraph) tc = build(net_t, 5);
  LlLoadReport rep;
  g_assert_true(ll_checkpoint_load(path, tc, &o, &rep, &error));
  g_assert_no_error(error);
  guint matches = 0;
  for (guint i = 0; i < rows->len; i++) {
    const LlTransferRow *x = rows->pdata[i];
    if (x->status == LL_TRANSFER_MATCH) {
      g_assert_true(has(rep.loaded, x->graph_name));
      matches++;
    }
  }
  g_assert_cmpuint(rep.loaded->len, ==, matches);
  g_assert_cmpuint(rep.mismatched->len, ==, 2);
  g_assert_cmpuint(rep.missing->len, ==, 2);
  ll_load_report_clear(&rep);
  g_assert_true(same_param(a, "fc1", tc, "enc", "weight"));

  /* without the map for fc2, its tensors name nothing in the graph and head
   * has nothing to take */
  g_hash_table_remove(map, "fc2");
  g_clear_pointer(&rows, g_ptr_array_unref);
  g_assert_true(ll_checkpoint_preview(path, t, &o, &rows, &error));
  g_assert_cmpuint(rows->len, ==, 10);
  r = row_of(rows, NULL, "fc2.weight");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_NOT_IN_GRAPH);
  g_assert_null(r->graph_shape);
  g_assert_cmpstr(r->file_block, ==, "fc2");
  g_assert_cmpint(row_of(rows, "head.weight", NULL)->status, ==, LL_TRANSFER_MISSING);

  /* two file blocks onto one graph block: an error, as for the load */
  g_hash_table_insert(map, "fc2", "enc");
  g_clear_pointer(&rows, g_ptr_array_unref);
  g_assert_false(ll_checkpoint_preview(path, t, &o, &rows, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_MISMATCH);
  g_assert_null(rows);
  g_clear_error(&error);

  /* an unreadable file: an error that names it */
  g_autofree char *nowhere = g_build_filename(dir, "nowhere.safetensors", NULL);
  g_assert_false(ll_checkpoint_preview(nowhere, t, NULL, &rows, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_IO);
  g_assert_nonnull(strstr(error->message, nowhere));
  g_clear_error(&error);
  rm_rf(dir);
}

/* The file as the safetensors library lays it out, checked byte by byte. */
static void test_layout(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_autoptr(GHashTable) meta = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_insert(meta, "epoch", "3");
  g_assert_true(ll_checkpoint_save(path, a, meta, NULL, &error));

  gsize len;
  g_autofree guint8 *buf = (guint8 *)read_all(path, &len);
  g_assert_cmpuint(len, >, 8);
  guint64 n = 0;
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | buf[i]; /* little-endian, whatever the host */
  g_assert_cmpuint(n % 8, ==, 0);
  g_assert_cmpuint(8 + n, <=, len);
  g_assert_cmpint(buf[8], ==, '{');
  /* padding: spaces after the closing brace */
  gsize end = 8 + n;
  while (end > 8 && buf[end - 1] == ' ')
    end--;
  g_assert_cmpint(buf[end - 1], ==, '}');
  g_assert_cmpuint(8 + n - end, <, 8);

  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, (const char *)buf + 8, (gssize)n, &error));
  g_assert_no_error(error);
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  g_assert_cmpuint(json_object_get_size(root), ==, 7); /* 6 tensors + __metadata__ */
  JsonObject *md = json_object_get_object_member(root, "__metadata__");
  g_assert_cmpstr(json_object_get_string_member(md, "format"), ==, "pt");
  g_assert_cmpstr(json_object_get_string_member(md, "epoch"), ==, "3");

  static const struct {
    const char *block, *param;
    int rank, d0, d1;
  } want[] = {
      {"fc1", "weight", 2, 5, 6},        {"fc1", "bias", 1, 5, 0},   {"norm", "scale", 1, 5, 0},
      {"norm", "running_mean", 1, 5, 0}, {"fc2", "weight", 2, 3, 5}, {"fc2", "bias", 1, 3, 0},
  };
  const guint8 *data = buf + 8 + n;
  gint64 off = 0;
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    g_autofree char *name = g_strdup_printf("%s.%s", want[i].block, want[i].param);
    JsonObject *t = json_object_get_object_member(root, name);
    g_assert_nonnull(t);
    g_assert_cmpuint(json_object_get_size(t), ==, 3);
    g_assert_cmpstr(json_object_get_string_member(t, "dtype"), ==, "F32");
    JsonArray *shape = json_object_get_array_member(t, "shape");
    g_assert_cmpuint(json_array_get_length(shape), ==, (guint)want[i].rank);
    g_assert_cmpint(json_array_get_int_element(shape, 0), ==, want[i].d0);
    if (want[i].rank > 1)
      g_assert_cmpint(json_array_get_int_element(shape, 1), ==, want[i].d1);
    JsonArray *offs = json_object_get_array_member(t, "data_offsets");
    gint64 count = want[i].d0 * (want[i].rank > 1 ? want[i].d1 : 1);
    /* written in graph order, contiguous, from 0 */
    g_assert_cmpint(json_array_get_int_element(offs, 0), ==, off);
    g_assert_cmpint(json_array_get_int_element(offs, 1), ==, off + 4 * count);
    const float *v = param(a, want[i].block, want[i].param);
    for (gint64 k = 0; k < count; k++) {
      const guint8 *q = data + off + 4 * k;
      guint32 bits = (guint32)q[0] | (guint32)q[1] << 8 | (guint32)q[2] << 16 | (guint32)q[3] << 24;
      float f;
      memcpy(&f, &bits, 4);
      g_assert_cmpfloat(f, ==, v[k]);
    }
    off += 4 * count;
  }
  g_assert_cmpuint(8 + n + (guint64)off, ==, len); /* nothing after the data */
  rm_rf(dir);
}

static void expect_bad(const char *path, LlGraph *g, int code, const char *needle)
{
  GError *error = NULL;
  g_assert_false(ll_checkpoint_load(path, g, &(LlLoadOptions){.partial = TRUE}, NULL, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, code);
  g_assert_nonnull(strstr(error->message, path));
  if (needle && !strstr(error->message, needle))
    g_error("\"%s\" not in: %s", needle, error->message);
  g_clear_error(&error);
  g_autoptr(GHashTable) meta = NULL;
  g_assert_false(ll_checkpoint_read_metadata(path, &meta, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, code);
  g_clear_error(&error);
}

static void test_malformed(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *good = g_build_filename(dir, "good.safetensors", NULL);
  g_autofree char *bad = g_build_filename(dir, "bad.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_assert_true(ll_checkpoint_save(good, a, NULL, NULL, &error));
  gsize len;
  g_autofree guint8 *buf = (guint8 *)read_all(good, &len);
  float eight[4] = {1, 2, 3, 4};

  g_autofree char *missing = g_build_filename(dir, "absent.safetensors", NULL);
  expect_bad(missing, a, LL_CHECKPOINT_ERROR_IO, NULL);

  write_all(bad, buf, 5);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "too short");

  write_all(bad, buf, len - 4); /* the last tensor loses its end */
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "fc2.bias");

  g_autofree guint8 *big = g_memdup2(buf, len);
  guint64 huge = GUINT64_TO_LE((guint64)len);
  memcpy(big, &huge, 8);
  write_all(bad, big, len);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "header length");

  write_raw(bad, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", eight, 8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "JSON");

  write_raw(bad, "[1, 2, 3]", eight, 8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, NULL);

  write_raw(bad, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", eight,
            8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "\"a\": data_offsets [0, 16] are out of range");

  write_raw(bad,
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
            " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
            eight, 16);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "overlap");

  write_raw(bad, "{\"a\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", eight,
            16);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_UNSUPPORTED, "tensor \"a\": dtype \"I64\"");

  write_raw(bad, "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", eight,
            8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "tensor \"a\": shape (3) of F32 needs 12 bytes");

  write_raw(bad, "{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", eight,
            8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "shape entry 0");

  write_raw(bad, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", eight, 8);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "data_offsets");

  write_raw(bad, "{\"__metadata__\": {\"epoch\": 3}}", NULL, 0);
  expect_bad(bad, a, LL_CHECKPOINT_ERROR_FORMAT, "epoch");

  /* the graph was never touched */
  g_autoptr(LlGraph) ref = build(net_a, 1);
  g_assert_true(same_param(a, "fc1", ref, "fc1", "weight"));
  rm_rf(dir);
}

static void test_dtypes(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "mixed.safetensors", NULL);
  GError *error = NULL;
  /* F16: 1, -2, 0.5, 65504, 2^-24 (subnormal); BF16: 1, -3; F64: 0.1, -1e30 */
  guint8 data[10 + 4 + 16];
  const guint16 h[5] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001};
  const guint16 bf[2] = {0x3f80, 0xc040};
  const double d[2] = {0.1, -1e30};
  for (int i = 0; i < 5; i++) {
    data[2 * i] = h[i] & 0xff;
    data[2 * i + 1] = h[i] >> 8;
  }
  for (int i = 0; i < 2; i++) {
    data[10 + 2 * i] = bf[i] & 0xff;
    data[10 + 2 * i + 1] = bf[i] >> 8;
  }
  for (int i = 0; i < 2; i++) {
    guint64 u;
    memcpy(&u, &d[i], 8);
    for (int k = 0; k < 8; k++)
      data[14 + 8 * i + k] = (guint8)(u >> (8 * k));
  }
  write_raw(path,
            "{\"h\": {\"dtype\": \"F16\", \"shape\": [5], \"data_offsets\": [0, 10]},"
            " \"b\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [10, 14]},"
            " \"d\": {\"dtype\": \"F64\", \"shape\": [1, 2], \"data_offsets\": [14, 30]}}",
            data, sizeof data);
  LlShape s;
  g_autofree float *v = NULL;
  g_assert_true(ll_checkpoint_read_tensor(path, "h", &s, &v, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(v[0], ==, 1.0f);
  g_assert_cmpfloat(v[1], ==, -2.0f);
  g_assert_cmpfloat(v[2], ==, 0.5f);
  g_assert_cmpfloat(v[3], ==, 65504.0f);
  g_assert_cmpfloat(v[4], ==, ldexpf(1.0f, -24));
  g_clear_pointer(&v, g_free);
  g_assert_true(ll_checkpoint_read_tensor(path, "b", &s, &v, &error));
  g_assert_cmpfloat(v[0], ==, 1.0f);
  g_assert_cmpfloat(v[1], ==, -3.0f);
  g_clear_pointer(&v, g_free);
  g_assert_true(ll_checkpoint_read_tensor(path, "d", &s, &v, &error));
  g_assert_cmpint(s.rank, ==, 2);
  g_assert_cmpint(s.d[1], ==, 2);
  g_assert_cmpfloat(v[0], ==, 0.1f);
  g_assert_cmpfloat(v[1], ==, -1e30f);
  rm_rf(dir);
}

static void test_atomic(void)
{
  g_autofree char *dir = make_tmp();
  g_autofree char *path = g_build_filename(dir, "model.safetensors", NULL);
  GError *error = NULL;
  g_autoptr(LlGraph) a = build(net_a, 1);
  g_autoptr(LlGraph) b = build(net_a, 2);
  g_assert_true(ll_checkpoint_save(path, a, NULL, NULL, &error));
  gsize len;
  g_autofree char *old = read_all(path, &len);

  /* a directory that does not exist */
  g_autofree char *nowhere = g_build_filename(dir, "absent", "model.safetensors", NULL);
  g_assert_false(ll_checkpoint_save(nowhere, a, NULL, NULL, &error));
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_IO);
  g_assert_nonnull(strstr(error->message, nowhere));
  g_clear_error(&error);
  g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));

  /* a write that fails half way (the file size limit stops it after the
   * header): the old checkpoint stays whole and no temporary file remains */
  struct rlimit saved;
  getrlimit(RLIMIT_FSIZE, &saved);
  void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
  guint64 hlen;
  memcpy(&hlen, old, 8);
  struct rlimit small = {.rlim_cur = 8 + GUINT64_FROM_LE(hlen) + 20, .rlim_max = saved.rlim_max};
  g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
  gboolean ok = ll_checkpoint_save(path, b, NULL, NULL, &error);
  setrlimit(RLIMIT_FSIZE, &saved);
  signal(SIGXFSZ, old_handler);
  g_assert_false(ok);
  g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_IO);
  g_assert_nonnull(strstr(error->message, "cannot write"));
  g_clear_error(&error);
  gsize len2;
  g_autofree char *now = read_all(path, &len2);
  g_assert_cmpmem(now, len2, old, len);
  g_assert_cmpint(count_entries(dir), ==, 1);

  /* a read-only directory (root writes anyway, so only as a user) */
  if (geteuid() != 0) {
    g_assert_cmpint(g_chmod(dir, 0555), ==, 0);
    g_assert_false(ll_checkpoint_save(path, b, NULL, NULL, &error));
    g_assert_error(error, LL_CHECKPOINT_ERROR, LL_CHECKPOINT_ERROR_IO);
    g_clear_error(&error);
    g_chmod(dir, 0755);
    g_clear_pointer(&now, g_free);
    now = read_all(path, &len2);
    g_assert_cmpmem(now, len2, old, len);
  }

  /* a successful save replaces it whole */
  g_assert_true(ll_checkpoint_save(path, b, NULL, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(count_entries(dir), ==, 1);
  g_autoptr(LlGraph) c = build(net_a, 3);
  g_assert_true(ll_checkpoint_load(path, c, NULL, NULL, &error));
  g_assert_true(same_param(b, "fc2", c, "fc2", "weight"));
  g_assert_false(same_param(a, "fc2", c, "fc2", "weight"));
  rm_rf(dir);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/checkpoint/roundtrip", test_roundtrip);
  g_test_add_func("/engine/checkpoint/metadata-extra", test_metadata_extra);
  g_test_add_func("/engine/checkpoint/partial", test_partial);
  g_test_add_func("/engine/checkpoint/name-map", test_name_map);
  g_test_add_func("/engine/checkpoint/preview", test_preview);
  g_test_add_func("/engine/checkpoint/layout", test_layout);
  g_test_add_func("/engine/checkpoint/malformed", test_malformed);
  g_test_add_func("/engine/checkpoint/dtypes", test_dtypes);
  g_test_add_func("/engine/checkpoint/atomic", test_atomic);
  return g_test_run();
}
