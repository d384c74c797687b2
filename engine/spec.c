/* spec.c: loading and saving spec files (see docs/spec-format.md). */
#include "spec.h"

#include <string.h>

#include "json-writer.h"
#include "untrusted.h"

const char *const ll_dataset_kind_names[] = {"idx-dir", "idx", "cifar",     "image-folder",
                                             "npy",     "csv", "synthetic", NULL};
const char *const ll_loss_kind_names[] = {"cross_entropy", "bce_logits", "mse", "l1", NULL};
#define optim_names ll_optim_kind_names
#define sched_names ll_schedule_kind_names
static const char *const synth_names[] = {"blobs", "spirals", "changepoint", "seq-memory", NULL};
static const char *const norm_names[] = {"none", "zero-one", "standardize", NULL};

/* ---- lifetime ------------------------------------------------------------ */

static void loss_spec_free(gpointer p)
{
  LlLossSpec *l = p;
  g_free(l->output);
  g_free(l->target);
  g_free(l);
}

void ll_init_from_free(LlInitFrom *f)
{
  if (!f)
    return;
  g_free(f->checkpoint);
  g_strfreev(f->blocks);
  if (f->map)
    g_hash_table_unref(f->map);
  g_free(f);
}

static void optim_defaults(LlOptimConfig *o, LlOptimKind kind)
{
  double clip = o->clip_norm;
  *o = ll_optim_config_default(kind);
  o->clip_norm = clip;
}

LlSpec *ll_spec_new(void)
{
  LlSpec *s = g_new0(LlSpec, 1);
  s->name = g_strdup(LL_SPEC_DEFAULT_NAME);
  s->description = g_strdup("");
  s->graph = ll_graph_new();
  s->positions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->dataset.kind = LL_DATASET_IDX_DIR;
  s->dataset.path = g_strdup(LL_FASHION_MNIST_DIR);
  s->dataset.label_bytes = 1;
  s->dataset.channels = 1;
  s->dataset.height = s->dataset.width = 28;
  s->dataset.synth = (LlSynthConfig){.kind = LL_SYNTH_BLOBS,
                                     .n = 2000,
                                     .n_classes = 3,
                                     .features = 2,
                                     .steps = 20,
                                     .vocab = 8,
                                     .noise = 0.1};
  s->dataset.test_n = 500;
  s->validation_split = 0.1;
  s->pipeline.normalize = LL_NORM_ZERO_ONE;
  s->pipeline.random_max = 9;
  s->bindings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->losses = g_ptr_array_new_with_free_func(loss_spec_free);
  s->epochs = 10;
  s->batch_size = 128;
  s->seed = 1;
  s->device = g_strdup("auto");
  s->optim = ll_optim_config_default(LL_OPT_ADAM); /* lr 1e-3: trains well untuned */
  s->schedule = ll_schedule_config_default(LL_SCHED_CONSTANT);
  s->es_metric = g_strdup("val_loss");
  s->es_patience = 5;
  s->es_restore_best = TRUE;
  s->checkpoint_every = 1;
  s->init_from = g_ptr_array_new_with_free_func((GDestroyNotify)ll_init_from_free);
  s->embedding_samples = 2000;
  s->reconstruction_samples = 8;
  return s;
}

void ll_spec_set_new_training(LlSpec *s)
{
  optim_defaults(&s->optim, LL_OPT_ADAM);
  s->optim.lr = 0.01;
  s->schedule = ll_schedule_config_default(LL_SCHED_ONE_CYCLE); /* max_lr 0: the peak is lr */
  s->epochs = 3;
  s->batch_size = 128;
}

static void dataset_spec_clear(LlDatasetSpec *d)
{
  g_free(d->path);
  g_free(d->train_images);
  g_free(d->train_labels);
  g_free(d->test_images);
  g_free(d->test_labels);
  g_strfreev(d->train_files);
  g_strfreev(d->test_files);
  g_free(d->test_path);
  g_free(d->label_column);
}

void ll_spec_free(LlSpec *s)
{
  if (!s)
    return;
  g_free(s->name);
  g_free(s->description);
  ll_graph_free(s->graph);
  g_hash_table_unref(s->positions);
  dataset_spec_clear(&s->dataset);
  ll_pipeline_config_clear(&s->pipeline);
  g_hash_table_unref(s->bindings);
  g_ptr_array_unref(s->losses);
  g_free(s->device);
  g_free(s->es_metric);
  g_ptr_array_unref(s->init_from);
  g_free(s->embedding_block);
  g_free(s);
}

/* ---- graph ----------------------------------------------------------------- */

static gboolean parse_prop(const LlJsonDoc *doc, JsonObject *props, const char *member, LlBlock *b,
                           GError **error)
{
  int idx;
  const LlPropDesc *d = ll_block_desc_prop(b->desc, member, &idx);
  if (!d) {
    GString *known = g_string_new(NULL);
    for (int i = 0; i < b->desc->n_props; i++)
      g_string_append_printf(known, "%s%s", i ? ", " : "", b->desc->props[i].name);
    g_autofree char *shown = ll_excerpt(member, -1);
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_UNKNOWN, props, member,
                      "block \"%s\" (%s): unknown property \"%s\" (known: %s)", b->name,
                      b->desc->type, shown, known->len ? known->str : "none");
    g_string_free(known, TRUE);
    return FALSE;
  }
  JsonNode *n = json_object_get_member(props, member);
  GType t = JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  LlPropValue v = {.type = d->type};
  const char *expected = NULL;
  switch (d->type) {
  case LL_PROP_INT:
    if (t == G_TYPE_INT64)
      v.i = json_node_get_int(n);
    else
      expected = "an integer";
    break;
  case LL_PROP_FLOAT:
    if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
      v.f = json_node_get_double(n);
    else
      expected = "a number";
    break;
  case LL_PROP_BOOL:
    if (t == G_TYPE_BOOLEAN)
      v.b = json_node_get_boolean(n);
    else
      expected = "true or false";
    break;
  case LL_PROP_CHOICE:
    if (t == G_TYPE_STRING) {
      v.choice = -1;
      for (int i = 0; d->choices[i]; i++)
        if (!g_ascii_strcasecmp(d->choices[i], json_node_get_string(n)))
          v.choice = i;
      if (v.choice < 0) {
        g_autofree char *list = g_strjoinv(", ", (char **)d->choices);
        g_autofree char *shown = ll_excerpt(json_node_get_string(n), -1);
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, props, member,
                          "block \"%s\" (%s): property \"%s\": \"%s\" is not one of: %s", b->name,
                          b->desc->type, member, shown, list);
        return FALSE;
      }
    } else {
      expected = "a string";
    }
    break;
  case LL_PROP_SHAPE:
    if (JSON_NODE_HOLDS_ARRAY(n)) {
      JsonArray *a = json_node_get_array(n);
      guint len = json_array_get_length(a);
      v.shape.rank = (int)MIN(len, (guint)LL_MAX_DIMS + 1);
      for (guint i = 0; i < len && i < LL_MAX_DIMS; i++) {
        JsonNode *e = json_array_get_element(a, i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64) {
          expected = "an array of integers";
          break;
        }
        gint64 x = json_node_get_int(e);
        v.shape.d[i] = (int)CLAMP(x, G_MININT, G_MAXINT);
      }
    } else {
      expected = "an array of integers";
    }
    break;
  }
  if (expected) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, props, member,
                      "block \"%s\" (%s): property \"%s\": expected %s, got %s", b->name,
                      b->desc->type, member, expected, ll_json_type_name(n));
    return FALSE;
  }
  GError *perr = NULL;
  if (!ll_block_set_prop_value(b, idx, &v, &perr)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, props, member, "%s", perr->message);
    g_error_free(perr);
    return FALSE;
  }
  return TRUE;
}

static const char *const block_members[] = {"name",   "type",     "inputs", "props",
                                            "frozen", "position", NULL};

gboolean ll_spec_parse_graph(const LlJsonDoc *doc, JsonObject *graph_obj, LlGraph *g,
                             GHashTable *positions, GError **error)
{
  static const char *const graph_members[] = {"blocks", NULL};
  if (!ll_json_check_members(doc, graph_obj, "graph", graph_members, error))
    return FALSE;
  JsonArray *blocks;
  if (!ll_json_get_array(doc, graph_obj, "graph", "blocks", &blocks, error))
    return FALSE;
  if (!blocks || json_array_get_length(blocks) == 0) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, graph_obj, NULL,
                      "graph: \"blocks\" must list at least one block");
    return FALSE;
  }
  g_autoptr(GHashTable) where = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonNode *bn = json_array_get_element(blocks, i);
    if (!JSON_NODE_HOLDS_OBJECT(bn)) {
      int line, col;
      ll_json_doc_position(doc, NULL, NULL, &line, &col);
      guint64 *pos = g_hash_table_lookup(doc->positions, bn);
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE,
                  "%s:%d:%d: graph.blocks[%u]: expected an object, got %s", doc->file,
                  pos ? (int)(*pos >> 32) : 0, pos ? (int)(*pos & 0xffffffff) : 0, i,
                  ll_json_type_name(bn));
      return FALSE;
    }
    JsonObject *bo = json_node_get_object(bn);
    g_autofree char *ctx = g_strdup_printf("graph.blocks[%u]", i);
    g_autofree char *name = NULL, *type = NULL;
    if (!ll_json_check_members(doc, bo, ctx, block_members, error) ||
        !ll_json_get_string(doc, bo, ctx, "name", NULL, &name, error) ||
        !ll_json_get_string(doc, bo, ctx, "type", NULL, &type, error))
      return FALSE;
    if (!name || !type) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, bo, NULL, "%s: needs \"%s\"", ctx,
                        name ? "type" : "name");
      return FALSE;
    }
    GError *gerr = NULL;
    LlBlock *b = ll_graph_add(g, type, name, &gerr);
    if (!b) {
      ll_json_doc_error(
          doc, error,
          gerr->code == LL_GRAPH_ERROR_UNKNOWN_BLOCK ? LL_SPEC_ERROR_UNKNOWN : LL_SPEC_ERROR_VALUE,
          bo, gerr->code == LL_GRAPH_ERROR_UNKNOWN_BLOCK ? "type" : "name", "%s", gerr->message);
      g_error_free(gerr);
      return FALSE;
    }
    g_hash_table_insert(where, b->name, bo);
    JsonArray *inputs;
    if (!ll_json_get_array(doc, bo, ctx, "inputs", &inputs, error))
      return FALSE;
    for (guint k = 0; inputs && k < json_array_get_length(inputs); k++) {
      JsonNode *in = json_array_get_element(inputs, k);
      if (!JSON_NODE_HOLDS_VALUE(in) || json_node_get_value_type(in) != G_TYPE_STRING) {
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, bo, "inputs",
                          "block \"%s\": inputs must be block names (strings)", name);
        return FALSE;
      }
      if (k >= LL_MAX_INPUTS) {
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, bo, "inputs",
                          "block \"%s\": at most %d inputs", name, LL_MAX_INPUTS);
        return FALSE;
      }
      ll_block_connect(b, json_node_get_string(in));
    }
    JsonObject *props;
    if (!ll_json_get_object(doc, bo, ctx, "props", &props, error))
      return FALSE;
    if (props) {
      g_autoptr(GList) members = json_object_get_members(props);
      for (GList *l = members; l; l = l->next)
        if (!parse_prop(doc, props, l->data, b, error))
          return FALSE;
    }
    if (!ll_json_get_bool(doc, bo, ctx, "frozen", FALSE, &b->frozen, error))
      return FALSE;
    JsonArray *pos;
    if (!ll_json_get_array(doc, bo, ctx, "position", &pos, error))
      return FALSE;
    if (pos && positions) {
      if (json_array_get_length(pos) != 2) {
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, bo, "position",
                          "block \"%s\": position must be [x, y]", name);
        return FALSE;
      }
      char bx[40], by[40];
      g_hash_table_insert(
          positions, g_strdup(name),
          g_strdup_printf("%s,%s",
                          ll_format_double(json_array_get_double_element(pos, 0), bx, sizeof bx),
                          ll_format_double(json_array_get_double_element(pos, 1), by, sizeof by)));
    }
  }
  GError *gerr = NULL;
  if (!ll_graph_infer(g, &gerr)) {
    JsonObject *bo = g->error_block ? g_hash_table_lookup(where, g->error_block->name) : NULL;
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_GRAPH, bo ? bo : graph_obj, NULL, "%s",
                      gerr->message);
    g_error_free(gerr);
    return FALSE;
  }
  return TRUE;
}

static void write_prop(LlJsonWriter *w, const LlPropDesc *d, const LlPropValue *v)
{
  ll_json_key(w, d->name);
  switch (d->type) {
  case LL_PROP_INT: ll_json_int(w, v->i); break;
  case LL_PROP_FLOAT: ll_json_double(w, v->f); break;
  case LL_PROP_BOOL: ll_json_bool(w, v->b); break;
  case LL_PROP_CHOICE: ll_json_string(w, d->choices[v->choice]); break;
  case LL_PROP_SHAPE:
    ll_json_begin_array(w, TRUE);
    for (int i = 0; i < v->shape.rank; i++)
      ll_json_int(w, v->shape.d[i]);
    ll_json_end_array(w);
    break;
  }
}

static void write_graph(LlJsonWriter *w, LlGraph *g, GHashTable *positions)
{
  ll_json_begin_object(w);
  ll_json_key(w, "blocks");
  ll_json_begin_array(w, FALSE);
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g_ptr_array_index(g->blocks, i);
    ll_json_begin_object(w);
    ll_json_key(w, "name");
    ll_json_string(w, b->name);
    ll_json_key(w, "type");
    ll_json_string(w, b->desc->type);
    if (b->n_inputs) {
      ll_json_key(w, "inputs");
      ll_json_begin_array(w, TRUE);
      for (int k = 0; k < b->n_inputs; k++)
        ll_json_string(w, b->input_names[k]);
      ll_json_end_array(w);
    }
    if (b->desc->n_props) {
      ll_json_key(w, "props");
      ll_json_begin_object(w);
      for (int p = 0; p < b->desc->n_props; p++)
        write_prop(w, &b->desc->props[p], &b->props[p]);
      ll_json_end_object(w);
    }
    if (b->frozen) {
      ll_json_key(w, "frozen");
      ll_json_bool(w, TRUE);
    }
    const char *pos = positions ? g_hash_table_lookup(positions, b->name) : NULL;
    if (pos) {
      g_auto(GStrv) xy = g_strsplit(pos, ",", 2);
      ll_json_key(w, "position");
      ll_json_begin_array(w, TRUE);
      ll_json_double(w, g_ascii_strtod(xy[0], NULL));
      ll_json_double(w, xy[1] ? g_ascii_strtod(xy[1], NULL) : 0.0);
      ll_json_end_array(w);
    }
    ll_json_end_object(w);
  }
  ll_json_end_array(w);
  ll_json_end_object(w);
}

JsonNode *ll_spec_graph_to_json(LlGraph *g, GHashTable *positions)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  write_graph(&w, g, positions);
  g_autofree char *text = ll_json_writer_finish(&w);
  return ll_json_from_string(text, "graph", NULL);
}

/* ---- data ------------------------------------------------------------------ */

static gboolean get_strv(const LlJsonDoc *doc, JsonObject *o, const char *where, const char *member,
                         char ***out, GError **error)
{
  JsonArray *a;
  *out = NULL;
  if (!ll_json_get_array(doc, o, where, member, &a, error))
    return FALSE;
  if (!a)
    return TRUE;
  guint n = json_array_get_length(a);
  char **v = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    JsonNode *e = json_array_get_element(a, i);
    if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_STRING) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, member,
                        "%s.%s: expected an array of strings", where, member);
      g_strfreev(v);
      return FALSE;
    }
    v[i] = g_strdup(json_node_get_string(e));
  }
  *out = v;
  return TRUE;
}

static gboolean parse_dataset(const LlJsonDoc *doc, JsonObject *o, LlDatasetSpec *d, GError **error)
{
  static const char *const known[] = {"kind",        "path",        "train_images", "train_labels",
                                      "test_images", "test_labels", "train_files",  "test_files",
                                      "label_bytes", "test_path",   "label_column", "channels",
                                      "height",      "width",       "generator",    "n",
                                      "test_n",      "classes",     "features",     "steps",
                                      "vocab",       "noise",       "limit_train",  "limit_test",
                                      NULL};
  const char *w = "data.dataset";
  int kind, gen;
  int64_t i64;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_choice(doc, o, w, "kind", ll_dataset_kind_names, d->kind, &kind, error))
    return FALSE;
  d->kind = kind;
#define STR(field)                                                                                 \
  do {                                                                                             \
    char *tmp;                                                                                     \
    if (!ll_json_get_string(doc, o, w, #field, d->field, &tmp, error))                             \
      return FALSE;                                                                                \
    g_free(d->field);                                                                              \
    d->field = tmp;                                                                                \
  } while (0)
#define INT(field, target, lo, hi)                                                                 \
  do {                                                                                             \
    if (!ll_json_get_int(doc, o, w, field, target, lo, hi, &i64, error))                           \
      return FALSE;                                                                                \
    target = (__typeof__(target))i64;                                                              \
  } while (0)
  STR(path);
  STR(train_images);
  STR(train_labels);
  STR(test_images);
  STR(test_labels);
  STR(test_path);
  STR(label_column);
  char **files;
  if (!get_strv(doc, o, w, "train_files", &files, error))
    return FALSE;
  if (files) {
    g_strfreev(d->train_files);
    d->train_files = files;
  }
  if (!get_strv(doc, o, w, "test_files", &files, error))
    return FALSE;
  if (files) {
    g_strfreev(d->test_files);
    d->test_files = files;
  }
  INT("label_bytes", d->label_bytes, 1, 2);
  INT("channels", d->channels, 1, 4);
  INT("height", d->height, 1, 4096);
  INT("width", d->width, 1, 4096);
  if (!ll_json_get_choice(doc, o, w, "generator", synth_names, d->synth.kind, &gen, error))
    return FALSE;
  d->synth.kind = gen;
  INT("n", d->synth.n, 1, 10000000);
  INT("test_n", d->test_n, 0, 10000000);
  INT("classes", d->synth.n_classes, 1, 1000);
  INT("features", d->synth.features, 1, 100000);
  INT("steps", d->synth.steps, 1, 100000);
  INT("vocab", d->synth.vocab, 2, 100000);
  INT("limit_train", d->limit_train, 0, G_MAXUINT32);
  INT("limit_test", d->limit_test, 0, G_MAXUINT32);
  if (!ll_json_get_double(doc, o, w, "noise", d->synth.noise, 0, 100, &d->synth.noise, error))
    return FALSE;
#undef STR
#undef INT
  return TRUE;
}

static gboolean parse_data(const LlJsonDoc *doc, JsonObject *o, LlSpec *s, GError **error)
{
  static const char *const known[] = {"dataset",   "validation_split", "normalize", "augment",
                                      "label_map", "random_field",     NULL};
  static const char *const aug_known[] = {"crop_padding",   "hflip",         "cutout",
                                          "rotate_degrees", "rotation_task", NULL};
  const char *w = "data";
  JsonObject *ds, *aug, *rnd;
  int norm;
  int64_t v;
  LlPipelineConfig *p = &s->pipeline;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_object(doc, o, w, "dataset", &ds, error) ||
      (ds && !parse_dataset(doc, ds, &s->dataset, error)) ||
      !ll_json_get_double(doc, o, w, "validation_split", s->validation_split, 0.0, 0.9,
                          &s->validation_split, error) ||
      !ll_json_get_choice(doc, o, w, "normalize", norm_names, p->normalize, &norm, error) ||
      !ll_json_get_object(doc, o, w, "augment", &aug, error) ||
      !ll_json_get_object(doc, o, w, "random_field", &rnd, error))
    return FALSE;
  p->normalize = norm;
  if (aug) {
    const char *wa = "data.augment";
    if (!ll_json_check_members(doc, aug, wa, aug_known, error) ||
        !ll_json_get_int(doc, aug, wa, "crop_padding", p->crop_padding, 0, 64, &v, error))
      return FALSE;
    p->crop_padding = (int)v;
    if (!ll_json_get_int(doc, aug, wa, "cutout", p->cutout, 0, 1024, &v, error))
      return FALSE;
    p->cutout = (int)v;
    if (!ll_json_get_bool(doc, aug, wa, "hflip", p->hflip, &p->hflip, error) ||
        !ll_json_get_double(doc, aug, wa, "rotate_degrees", p->rotate_degrees, 0, 180,
                            &p->rotate_degrees, error) ||
        !ll_json_get_bool(doc, aug, wa, "rotation_task", p->rotation_task, &p->rotation_task,
                          error))
      return FALSE;
  }
  if (rnd) {
    static const char *const rknown[] = {"min", "max", NULL};
    int64_t lo, hi;
    if (!ll_json_check_members(doc, rnd, "data.random_field", rknown, error) ||
        !ll_json_get_int(doc, rnd, "data.random_field", "min", 0, -1000000, 1000000, &lo, error) ||
        !ll_json_get_int(doc, rnd, "data.random_field", "max", 9, -1000000, 1000000, &hi, error))
      return FALSE;
    if (hi < lo) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, rnd, "max",
                        "data.random_field: max must be at least min");
      return FALSE;
    }
    p->random_field = TRUE;
    p->random_min = (int)lo;
    p->random_max = (int)hi;
  }
  JsonNode *lm = json_object_get_member(o, "label_map");
  if (lm) {
    g_clear_pointer(&p->label_map, g_free);
    p->n_label_map = 0;
    if (JSON_NODE_HOLDS_VALUE(lm) && json_node_get_value_type(lm) == G_TYPE_STRING &&
        !strcmp(json_node_get_string(lm), "even-odd")) {
      /* E2: 1 for odd digits, 0 for even ones */
      p->n_label_map = 10;
      p->label_map = g_new(int, 10);
      for (int i = 0; i < 10; i++)
        p->label_map[i] = i % 2;
    } else if (JSON_NODE_HOLDS_ARRAY(lm)) {
      JsonArray *a = json_node_get_array(lm);
      p->n_label_map = (int)json_array_get_length(a);
      p->label_map = g_new0(int, MAX(p->n_label_map, 1));
      for (int i = 0; i < p->n_label_map; i++) {
        JsonNode *e = json_array_get_element(a, (guint)i);
        if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64) {
          ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "label_map",
                            "data.label_map: expected integers");
          return FALSE;
        }
        p->label_map[i] = (int)json_node_get_int(e);
      }
    } else {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "label_map",
                        "data.label_map: expected \"even-odd\" or an array of integers, got %s",
                        ll_json_type_name(lm));
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- objective and training ------------------------------------------------- */

static gboolean parse_losses(const LlJsonDoc *doc, JsonObject *root, LlSpec *s, GError **error)
{
  static const char *const known[] = {"output", "target",          "type",
                                      "weight", "label_smoothing", NULL};
  JsonArray *a;
  if (!ll_json_get_array(doc, root, "", "losses", &a, error))
    return FALSE;
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    g_autofree char *w = g_strdup_printf("losses[%u]", i);
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, root, "losses", "%s: expected an object",
                        w);
      return FALSE;
    }
    JsonObject *o = json_node_get_object(n);
    LlLossSpec *l = g_new0(LlLossSpec, 1);
    g_ptr_array_add(s->losses, l);
    int kind;
    if (!ll_json_check_members(doc, o, w, known, error) ||
        !ll_json_get_string(doc, o, w, "output", NULL, &l->output, error) ||
        !ll_json_get_string(doc, o, w, "target", "label", &l->target, error) ||
        !ll_json_get_choice(doc, o, w, "type", ll_loss_kind_names, 0, &kind, error) ||
        !ll_json_get_double(doc, o, w, "weight", 1.0, 0.0, 1e6, &l->weight, error) ||
        !ll_json_get_double(doc, o, w, "label_smoothing", 0.0, 0.0, 0.99, &l->label_smoothing,
                            error))
      return FALSE;
    l->kind = kind;
    if (!l->output) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, NULL,
                        "%s: needs \"output\" (the block whose output is the prediction)", w);
      return FALSE;
    }
    LlBlock *b = ll_graph_find(s->graph, l->output);
    if (!b) {
      g_autofree char *shown = ll_excerpt(l->output, -1);
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "output",
                        "%s.output: no block named \"%s\"", w, shown);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean parse_optimizer(const LlJsonDoc *doc, JsonObject *o, LlOptimConfig *c,
                                GError **error)
{
  static const char *const known[] = {"type",     "lr",           "momentum", "dampening",
                                      "nesterov", "weight_decay", "beta1",    "beta2",
                                      "eps",      "alpha",        NULL};
  const char *w = "training.optimizer";
  int kind;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_choice(doc, o, w, "type", optim_names, c->kind, &kind, error))
    return FALSE;
  if ((LlOptimKind)kind != c->kind)
    optim_defaults(c, kind);
  double d;
#define NUM(field, lo, hi)                                                                         \
  do {                                                                                             \
    if (!ll_json_get_double(doc, o, w, #field, c->field, lo, hi, &d, error))                       \
      return FALSE;                                                                                \
    c->field = d;                                                                                  \
  } while (0)
  NUM(lr, 0.0, 100.0);
  NUM(momentum, 0.0, 1.0);
  NUM(dampening, 0.0, 1.0);
  NUM(weight_decay, 0.0, 10.0);
  NUM(beta1, 0.0, 0.999999);
  NUM(beta2, 0.0, 0.999999999);
  NUM(eps, 0.0, 1.0);
  NUM(alpha, 0.0, 1.0);
#undef NUM
  gboolean nesterov;
  if (!ll_json_get_bool(doc, o, w, "nesterov", c->nesterov, &nesterov, error))
    return FALSE;
  c->nesterov = nesterov;
  if (c->nesterov && (c->momentum <= 0.0 || c->dampening != 0.0)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "nesterov",
                      "%s.nesterov: needs momentum > 0 and dampening 0", w);
    return FALSE;
  }
  return TRUE;
}

static gboolean parse_schedule(const LlJsonDoc *doc, JsonObject *o, LlScheduleConfig *c,
                               GError **error)
{
  static const char *const known[] = {"type",         "step_size",  "gamma",
                                      "milestones",   "min_lr",     "max_lr",
                                      "pct_start",    "div_factor", "final_div_factor",
                                      "warmup_steps", NULL};
  const char *w = "training.schedule";
  int kind;
  int64_t v;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_choice(doc, o, w, "type", sched_names, c->kind, &kind, error))
    return FALSE;
  c->kind = kind;
  if (!ll_json_get_int(doc, o, w, "step_size", c->step_size, 1, 100000, &v, error))
    return FALSE;
  c->step_size = (int)v;
  if (!ll_json_get_int(doc, o, w, "warmup_steps", c->warmup_steps, 0, 100000000, &v, error))
    return FALSE;
  c->warmup_steps = (int)v;
  if (!ll_json_get_double(doc, o, w, "gamma", c->gamma, 0.0, 1.0, &c->gamma, error) ||
      !ll_json_get_double(doc, o, w, "min_lr", c->min_lr, 0.0, 100.0, &c->min_lr, error) ||
      !ll_json_get_double(doc, o, w, "max_lr", c->max_lr, 0.0, 100.0, &c->max_lr, error) ||
      !ll_json_get_double(doc, o, w, "pct_start", c->pct_start, 0.0, 1.0, &c->pct_start, error) ||
      !ll_json_get_double(doc, o, w, "div_factor", c->div_factor, 1.0, 1e9, &c->div_factor,
                          error) ||
      !ll_json_get_double(doc, o, w, "final_div_factor", c->final_div_factor, 1.0, 1e12,
                          &c->final_div_factor, error))
    return FALSE;
  JsonArray *ms;
  if (!ll_json_get_array(doc, o, w, "milestones", &ms, error))
    return FALSE;
  if (ms) {
    guint n = json_array_get_length(ms);
    if (n > G_N_ELEMENTS(c->milestones)) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "milestones",
                        "%s.milestones: at most %u", w, (guint)G_N_ELEMENTS(c->milestones));
      return FALSE;
    }
    c->n_milestones = (int)n;
    for (guint i = 0; i < n; i++) {
      JsonNode *e = json_array_get_element(ms, i);
      if (!JSON_NODE_HOLDS_VALUE(e) || json_node_get_value_type(e) != G_TYPE_INT64 ||
          json_node_get_int(e) < 1) {
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "milestones",
                          "%s.milestones: expected positive integers (epochs)", w);
        return FALSE;
      }
      c->milestones[i] = (int)json_node_get_int(e);
    }
  }
  return TRUE;
}

gboolean ll_spec_parse_init_from(const LlJsonDoc *doc, JsonObject *o, LlSpec *s, GError **error)
{
  static const char *const known[] = {"checkpoint", "blocks", "map", "reinit", NULL};
  JsonArray *a;
  if (!ll_json_get_array(doc, o, "training", "init_from", &a, error))
    return FALSE;
  for (guint i = 0; a && i < json_array_get_length(a); i++) {
    JsonNode *n = json_array_get_element(a, i);
    g_autofree char *w = g_strdup_printf("training.init_from[%u]", i);
    if (!JSON_NODE_HOLDS_OBJECT(n)) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "init_from", "%s: expected an object",
                        w);
      return FALSE;
    }
    JsonObject *io = json_node_get_object(n);
    LlInitFrom *f = g_new0(LlInitFrom, 1);
    g_ptr_array_add(s->init_from, f);
    JsonObject *map;
    if (!ll_json_check_members(doc, io, w, known, error) ||
        !ll_json_get_string(doc, io, w, "checkpoint", NULL, &f->checkpoint, error) ||
        !get_strv(doc, io, w, "blocks", &f->blocks, error) ||
        !ll_json_get_object(doc, io, w, "map", &map, error) ||
        !ll_json_get_bool(doc, io, w, "reinit", FALSE, &f->reinit, error))
      return FALSE;
    if (!f->checkpoint) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, io, NULL,
                        "%s: needs \"checkpoint\" (a path or \"run:<id>\")", w);
      return FALSE;
    }
    for (int k = 0; f->blocks && f->blocks[k]; k++)
      if (!ll_graph_find(s->graph, f->blocks[k])) {
        g_autofree char *shown = ll_excerpt(f->blocks[k], -1);
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, io, "blocks",
                          "%s.blocks: no block named \"%s\" in the graph", w, shown);
        return FALSE;
      }
    if (map) {
      f->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
      g_autoptr(GList) members = json_object_get_members(map);
      for (GList *l = members; l; l = l->next) {
        g_autofree char *to = NULL;
        if (!ll_json_get_string(doc, map, w, l->data, NULL, &to, error))
          return FALSE;
        g_hash_table_insert(f->map, g_strdup(l->data), g_steal_pointer(&to));
      }
    }
  }
  return TRUE;
}

static gboolean parse_training(const LlJsonDoc *doc, JsonObject *o, LlSpec *s, GError **error)
{
  static const char *const known[] = {
      "epochs",   "batch_size", "seed",           "device",           "threads",   "optimizer",
      "schedule", "clip_norm",  "early_stopping", "checkpoint_every", "init_from", NULL};
  static const char *const es_known[] = {"enabled",   "metric",       "patience",
                                         "min_delta", "restore_best", NULL};
  const char *w = "training";
  int64_t v;
  JsonObject *opt, *sched, *es;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_int(doc, o, w, "epochs", s->epochs, 1, 100000, &v, error))
    return FALSE;
  s->epochs = (int)v;
  if (!ll_json_get_int(doc, o, w, "batch_size", s->batch_size, 1, 65536, &v, error))
    return FALSE;
  s->batch_size = (int)v;
  if (!ll_json_get_int(doc, o, w, "seed", (int64_t)s->seed, 0, G_MAXINT64, &v, error))
    return FALSE;
  s->seed = (uint64_t)v;
  if (!ll_json_get_int(doc, o, w, "threads", s->threads, 0, 256, &v, error))
    return FALSE;
  s->threads = (int)v;
  if (!ll_json_get_int(doc, o, w, "checkpoint_every", s->checkpoint_every, 0, 100000, &v, error))
    return FALSE;
  s->checkpoint_every = (int)v;
  char *dev;
  if (!ll_json_get_string(doc, o, w, "device", s->device, &dev, error))
    return FALSE;
  g_free(s->device);
  s->device = dev;
  if (strcmp(dev, "auto") && strcmp(dev, "cpu") && strcmp(dev, "ref") && strcmp(dev, "cuda") &&
      !g_str_has_prefix(dev, "cuda:")) {
    g_autofree char *shown = ll_excerpt(dev, -1);
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "device",
                      "training.device: \"%s\" is not one of auto, cpu, ref, cuda, cuda:N", shown);
    return FALSE;
  }
  if (!ll_json_get_object(doc, o, w, "optimizer", &opt, error) ||
      (opt && !parse_optimizer(doc, opt, &s->optim, error)) ||
      !ll_json_get_object(doc, o, w, "schedule", &sched, error) ||
      (sched && !parse_schedule(doc, sched, &s->schedule, error)))
    return FALSE;
  double clip;
  if (!ll_json_get_double(doc, o, w, "clip_norm", s->optim.clip_norm, 0.0, 1e6, &clip, error))
    return FALSE;
  s->optim.clip_norm = clip;
  if (!ll_json_get_object(doc, o, w, "early_stopping", &es, error))
    return FALSE;
  if (es) {
    const char *we = "training.early_stopping";
    char *metric;
    if (!ll_json_check_members(doc, es, we, es_known, error) ||
        !ll_json_get_bool(doc, es, we, "enabled", TRUE, &s->early_stopping, error) ||
        !ll_json_get_string(doc, es, we, "metric", s->es_metric, &metric, error))
      return FALSE;
    g_free(s->es_metric);
    s->es_metric = metric;
    if (!g_str_has_prefix(metric, "val_") && !g_str_has_prefix(metric, "train_")) {
      g_autofree char *shown = ll_excerpt(metric, -1);
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, es, "metric",
                        "%s.metric: \"%s\" is not a metric (val_loss, val_accuracy, ...)", we,
                        shown);
      return FALSE;
    }
    if (!ll_json_get_int(doc, es, we, "patience", s->es_patience, 1, 100000, &v, error))
      return FALSE;
    s->es_patience = (int)v;
    if (!ll_json_get_double(doc, es, we, "min_delta", s->es_min_delta, 0.0, 1e6, &s->es_min_delta,
                            error) ||
        !ll_json_get_bool(doc, es, we, "restore_best", s->es_restore_best, &s->es_restore_best,
                          error))
      return FALSE;
  }
  return ll_spec_parse_init_from(doc, o, s, error);
}

static gboolean parse_record(const LlJsonDoc *doc, JsonObject *o, LlSpec *s, GError **error)
{
  static const char *const known[] = {"embedding_block", "embedding_samples",
                                      "reconstruction_samples", NULL};
  const char *w = "record";
  int64_t v;
  char *emb;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_string(doc, o, w, "embedding_block", s->embedding_block, &emb, error))
    return FALSE;
  g_free(s->embedding_block);
  s->embedding_block = emb;
  if (emb && !ll_graph_find(s->graph, emb)) {
    g_autofree char *shown = ll_excerpt(emb, -1);
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "embedding_block",
                      "record.embedding_block: no block named \"%s\"", shown);
    return FALSE;
  }
  if (!ll_json_get_int(doc, o, w, "embedding_samples", s->embedding_samples, 0, 100000, &v, error))
    return FALSE;
  s->embedding_samples = (int)v;
  if (!ll_json_get_int(doc, o, w, "reconstruction_samples", s->reconstruction_samples, 0, 256, &v,
                       error))
    return FALSE;
  s->reconstruction_samples = (int)v;
  return TRUE;
}

static gboolean parse_inputs(const LlJsonDoc *doc, JsonObject *root, LlSpec *s, GError **error)
{
  JsonObject *o;
  if (!ll_json_get_object(doc, root, "", "inputs", &o, error))
    return FALSE;
  if (o) {
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
      LlBlock *b = ll_graph_find(s->graph, l->data);
      if (!b || b->desc->max_inputs != 0) {
        g_autofree char *shown = ll_excerpt(l->data, -1);
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, l->data,
                          "inputs: \"%s\" is not an Input block of the graph", shown);
        return FALSE;
      }
      char *field;
      if (!ll_json_get_string(doc, o, "inputs", l->data, NULL, &field, error))
        return FALSE;
      g_hash_table_insert(s->bindings, g_strdup(l->data), field);
    }
  }
  /* An Input not bound explicitly reads the features "x" */
  g_autoptr(GPtrArray) ins = ll_graph_inputs(s->graph);
  for (guint i = 0; i < ins->len; i++) {
    LlBlock *b = g_ptr_array_index(ins, i);
    if (!g_hash_table_contains(s->bindings, b->name))
      g_hash_table_insert(s->bindings, g_strdup(b->name), g_strdup("x"));
  }
  return TRUE;
}

/* graph_error: NULL for a spec that must train; otherwise a graph that
 * fails only its checks loads, and the check's error goes there. */
static LlSpec *spec_from_doc(const LlJsonDoc *doc, GError **graph_error, GError **error)
{
  static const char *const known[] = {"format",   "version", "name",   "description",
                                      "graph",    "data",    "inputs", "losses",
                                      "training", "record",  NULL};
  JsonObject *root = json_node_get_object(doc->root);
  g_autoptr(LlSpec) s = ll_spec_new();
  g_autofree char *format = NULL;
  int64_t version;
  if (!ll_json_get_string(doc, root, "", "format", NULL, &format, error))
    return NULL;
  if (g_strcmp0(format, LL_SPEC_FORMAT) != 0) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VERSION, root, "format",
                      "\"format\" must be \"%s\" (is this a LayerLab spec?)", LL_SPEC_FORMAT);
    return NULL;
  }
  if (!ll_json_get_int(doc, root, "", "version", 1, 1, G_MAXINT, &version, error))
    return NULL;
  if (version > LL_SPEC_VERSION) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VERSION, root, "version",
                      "spec version %" G_GINT64_FORMAT
                      " is newer than this LayerLab understands (%d): update LayerLab",
                      version, LL_SPEC_VERSION);
    return NULL;
  }
  if (!ll_json_check_members(doc, root, "", known, error))
    return NULL;
  char *str;
  if (!ll_json_get_string(doc, root, "", "name", s->name, &str, error))
    return NULL;
  g_free(s->name);
  s->name = str;
  if (!ll_json_get_string(doc, root, "", "description", s->description, &str, error))
    return NULL;
  g_free(s->description);
  s->description = str;
  JsonObject *graph, *data, *training, *record;
  if (!ll_json_get_object(doc, root, "", "graph", &graph, error))
    return NULL;
  if (!graph) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, root, NULL, "the spec has no \"graph\"");
    return NULL;
  }
  GError *gerr = NULL;
  if (!ll_spec_parse_graph(doc, graph, s->graph, s->positions, &gerr)) {
    if (!graph_error || !g_error_matches(gerr, LL_SPEC_ERROR, LL_SPEC_ERROR_GRAPH)) {
      g_propagate_error(error, gerr);
      return NULL;
    }
    g_propagate_error(graph_error, gerr);
  }
  if (!ll_json_get_object(doc, root, "", "data", &data, error) ||
      (data && !parse_data(doc, data, s, error)) || !parse_inputs(doc, root, s, error) ||
      !parse_losses(doc, root, s, error) ||
      !ll_json_get_object(doc, root, "", "training", &training, error) ||
      (training && !parse_training(doc, training, s, error)) ||
      !ll_json_get_object(doc, root, "", "record", &record, error) ||
      (record && !parse_record(doc, record, s, error)))
    return NULL;
  return g_steal_pointer(&s);
}

LlSpec *ll_spec_load_data(const char *data, gssize len, const char *display_name, GError **error)
{
  g_autoptr(LlJsonDoc) doc = ll_json_doc_load_data(data, len, display_name, error);
  return doc ? spec_from_doc(doc, NULL, error) : NULL;
}

LlSpec *ll_spec_load_file(const char *path, GError **error)
{
  g_autoptr(LlJsonDoc) doc = ll_json_doc_load_file(path, error);
  return doc ? spec_from_doc(doc, NULL, error) : NULL;
}

LlSpec *ll_spec_load_draft_data(const char *data, gssize len, const char *display_name,
                                GError **graph_error, GError **error)
{
  g_autoptr(GError) ignored = NULL;
  g_autoptr(LlJsonDoc) doc = ll_json_doc_load_data(data, len, display_name, error);
  return doc ? spec_from_doc(doc, graph_error ? graph_error : &ignored, error) : NULL;
}

LlSpec *ll_spec_load_draft_file(const char *path, GError **graph_error, GError **error)
{
  g_autoptr(GError) ignored = NULL;
  g_autoptr(LlJsonDoc) doc = ll_json_doc_load_file(path, error);
  return doc ? spec_from_doc(doc, graph_error ? graph_error : &ignored, error) : NULL;
}

/* ---- saving ------------------------------------------------------------------ */

static void key_str(LlJsonWriter *w, const char *k, const char *v)
{
  if (!v)
    return;
  ll_json_key(w, k);
  ll_json_string(w, v);
}

static void key_int(LlJsonWriter *w, const char *k, int64_t v)
{
  ll_json_key(w, k);
  ll_json_int(w, v);
}

static void key_double(LlJsonWriter *w, const char *k, double v)
{
  ll_json_key(w, k);
  ll_json_double(w, v);
}

static void key_bool(LlJsonWriter *w, const char *k, gboolean v)
{
  ll_json_key(w, k);
  ll_json_bool(w, v);
}

static void key_strv(LlJsonWriter *w, const char *k, char **v)
{
  if (!v)
    return;
  ll_json_key(w, k);
  ll_json_begin_array(w, TRUE);
  for (int i = 0; v[i]; i++)
    ll_json_string(w, v[i]);
  ll_json_end_array(w);
}

static void write_dataset(LlJsonWriter *w, const LlDatasetSpec *d)
{
  ll_json_begin_object(w);
  key_str(w, "kind", ll_dataset_kind_names[d->kind]);
  switch (d->kind) {
  case LL_DATASET_IDX_DIR: key_str(w, "path", d->path); break;
  case LL_DATASET_IDX:
  case LL_DATASET_NPY:
    key_str(w, "train_images", d->train_images);
    key_str(w, "train_labels", d->train_labels);
    key_str(w, "test_images", d->test_images);
    key_str(w, "test_labels", d->test_labels);
    break;
  case LL_DATASET_CIFAR:
    key_strv(w, "train_files", d->train_files);
    key_strv(w, "test_files", d->test_files);
    key_int(w, "label_bytes", d->label_bytes);
    break;
  case LL_DATASET_IMAGE_FOLDER:
    key_str(w, "path", d->path);
    key_str(w, "test_path", d->test_path);
    key_int(w, "channels", d->channels);
    key_int(w, "height", d->height);
    key_int(w, "width", d->width);
    break;
  case LL_DATASET_CSV:
    key_str(w, "path", d->path);
    key_str(w, "test_path", d->test_path);
    key_str(w, "label_column", d->label_column);
    break;
  case LL_DATASET_SYNTHETIC:
    key_str(w, "generator", synth_names[d->synth.kind]);
    key_int(w, "n", d->synth.n);
    key_int(w, "test_n", d->test_n);
    key_int(w, "classes", d->synth.n_classes);
    key_int(w, "features", d->synth.features);
    key_int(w, "steps", d->synth.steps);
    key_int(w, "vocab", d->synth.vocab);
    key_double(w, "noise", d->synth.noise);
    break;
  }
  if (d->limit_train)
    key_int(w, "limit_train", d->limit_train);
  if (d->limit_test)
    key_int(w, "limit_test", d->limit_test);
  ll_json_end_object(w);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys in order, so saving is deterministic. */
static GPtrArray *sorted_keys(GHashTable *h)
{
  GPtrArray *a = g_ptr_array_new();
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, h);
  while (g_hash_table_iter_next(&it, &k, NULL))
    g_ptr_array_add(a, k);
  g_ptr_array_sort(a, cmp_str);
  return a;
}

static void write_init_from(LlJsonWriter *w, const LlSpec *s)
{
  ll_json_begin_array(w, FALSE);
  for (guint i = 0; i < s->init_from->len; i++) {
    const LlInitFrom *f = g_ptr_array_index(s->init_from, i);
    ll_json_begin_object(w);
    key_str(w, "checkpoint", f->checkpoint);
    key_strv(w, "blocks", f->blocks);
    if (f->map) {
      ll_json_key(w, "map");
      ll_json_begin_object(w);
      g_autoptr(GPtrArray) mk = sorted_keys(f->map);
      for (guint k = 0; k < mk->len; k++)
        key_str(w, mk->pdata[k], g_hash_table_lookup(f->map, mk->pdata[k]));
      ll_json_end_object(w);
    }
    key_bool(w, "reinit", f->reinit);
    ll_json_end_object(w);
  }
  ll_json_end_array(w);
}

char *ll_spec_init_from_to_json(const LlSpec *s)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  write_init_from(&w, s);
  return ll_json_writer_finish(&w);
}

char *ll_spec_to_json(const LlSpec *s)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  ll_json_begin_object(&w);
  key_str(&w, "format", LL_SPEC_FORMAT);
  key_int(&w, "version", LL_SPEC_VERSION);
  key_str(&w, "name", s->name);
  key_str(&w, "description", s->description);
  ll_json_key(&w, "graph");
  write_graph(&w, s->graph, s->positions);

  const LlPipelineConfig *p = &s->pipeline;
  ll_json_key(&w, "data");
  ll_json_begin_object(&w);
  ll_json_key(&w, "dataset");
  write_dataset(&w, &s->dataset);
  key_double(&w, "validation_split", s->validation_split);
  key_str(&w, "normalize", norm_names[p->normalize]);
  ll_json_key(&w, "augment");
  ll_json_begin_object(&w);
  key_int(&w, "crop_padding", p->crop_padding);
  key_bool(&w, "hflip", p->hflip);
  key_int(&w, "cutout", p->cutout);
  key_double(&w, "rotate_degrees", p->rotate_degrees);
  key_bool(&w, "rotation_task", p->rotation_task);
  ll_json_end_object(&w);
  if (p->label_map) {
    ll_json_key(&w, "label_map");
    ll_json_begin_array(&w, TRUE);
    for (int i = 0; i < p->n_label_map; i++)
      ll_json_int(&w, p->label_map[i]);
    ll_json_end_array(&w);
  }
  if (p->random_field) {
    ll_json_key(&w, "random_field");
    ll_json_begin_object(&w);
    key_int(&w, "min", p->random_min);
    key_int(&w, "max", p->random_max);
    ll_json_end_object(&w);
  }
  ll_json_end_object(&w);

  ll_json_key(&w, "inputs");
  ll_json_begin_object(&w);
  g_autoptr(GPtrArray) keys = sorted_keys(s->bindings);
  for (guint i = 0; i < keys->len; i++)
    key_str(&w, keys->pdata[i], g_hash_table_lookup(s->bindings, keys->pdata[i]));
  ll_json_end_object(&w);

  ll_json_key(&w, "losses");
  ll_json_begin_array(&w, FALSE);
  for (guint i = 0; i < s->losses->len; i++) {
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    ll_json_begin_object(&w);
    key_str(&w, "output", l->output);
    key_str(&w, "target", l->target);
    key_str(&w, "type", ll_loss_kind_names[l->kind]);
    key_double(&w, "weight", l->weight);
    if (l->kind == LL_LOSS_CROSS_ENTROPY)
      key_double(&w, "label_smoothing", l->label_smoothing);
    ll_json_end_object(&w);
  }
  ll_json_end_array(&w);

  const LlOptimConfig *o = &s->optim;
  const LlScheduleConfig *c = &s->schedule;
  ll_json_key(&w, "training");
  ll_json_begin_object(&w);
  key_int(&w, "epochs", s->epochs);
  key_int(&w, "batch_size", s->batch_size);
  key_int(&w, "seed", (int64_t)s->seed);
  key_str(&w, "device", s->device);
  key_int(&w, "threads", s->threads);
  ll_json_key(&w, "optimizer");
  ll_json_begin_object(&w);
  key_str(&w, "type", optim_names[o->kind]);
  key_double(&w, "lr", o->lr);
  key_double(&w, "weight_decay", o->weight_decay);
  if (o->kind == LL_OPT_SGD || o->kind == LL_OPT_RMSPROP)
    key_double(&w, "momentum", o->momentum);
  if (o->kind == LL_OPT_SGD) {
    key_double(&w, "dampening", o->dampening);
    key_bool(&w, "nesterov", o->nesterov);
  }
  if (o->kind == LL_OPT_ADAM || o->kind == LL_OPT_ADAMW) {
    key_double(&w, "beta1", o->beta1);
    key_double(&w, "beta2", o->beta2);
  }
  if (o->kind != LL_OPT_SGD)
    key_double(&w, "eps", o->eps);
  if (o->kind == LL_OPT_RMSPROP)
    key_double(&w, "alpha", o->alpha);
  ll_json_end_object(&w);
  ll_json_key(&w, "schedule");
  ll_json_begin_object(&w);
  key_str(&w, "type", sched_names[c->kind]);
  switch (c->kind) {
  case LL_SCHED_STEP:
    key_int(&w, "step_size", c->step_size);
    key_double(&w, "gamma", c->gamma);
    break;
  case LL_SCHED_MULTISTEP:
    ll_json_key(&w, "milestones");
    ll_json_begin_array(&w, TRUE);
    for (int i = 0; i < c->n_milestones; i++)
      ll_json_int(&w, c->milestones[i]);
    ll_json_end_array(&w);
    key_double(&w, "gamma", c->gamma);
    break;
  case LL_SCHED_EXPONENTIAL: key_double(&w, "gamma", c->gamma); break;
  case LL_SCHED_COSINE: key_double(&w, "min_lr", c->min_lr); break;
  case LL_SCHED_ONE_CYCLE:
    key_double(&w, "max_lr", c->max_lr);
    key_double(&w, "pct_start", c->pct_start);
    key_double(&w, "div_factor", c->div_factor);
    key_double(&w, "final_div_factor", c->final_div_factor);
    break;
  default: break;
  }
  key_int(&w, "warmup_steps", c->warmup_steps);
  ll_json_end_object(&w);
  key_double(&w, "clip_norm", o->clip_norm);
  ll_json_key(&w, "early_stopping");
  ll_json_begin_object(&w);
  key_bool(&w, "enabled", s->early_stopping);
  key_str(&w, "metric", s->es_metric);
  key_int(&w, "patience", s->es_patience);
  key_double(&w, "min_delta", s->es_min_delta);
  key_bool(&w, "restore_best", s->es_restore_best);
  ll_json_end_object(&w);
  key_int(&w, "checkpoint_every", s->checkpoint_every);
  if (s->init_from->len) {
    ll_json_key(&w, "init_from");
    write_init_from(&w, s);
  }
  ll_json_end_object(&w);

  ll_json_key(&w, "record");
  ll_json_begin_object(&w);
  key_str(&w, "embedding_block", s->embedding_block);
  key_int(&w, "embedding_samples", s->embedding_samples);
  key_int(&w, "reconstruction_samples", s->reconstruction_samples);
  ll_json_end_object(&w);
  ll_json_end_object(&w);
  return ll_json_writer_finish(&w);
}

gboolean ll_spec_save_file(const LlSpec *s, const char *path, GError **error)
{
  g_autofree char *text = ll_spec_to_json(s);
  /* g_file_set_contents writes a temporary file and renames it: atomic */
  return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

char *ll_spec_hash(const LlSpec *s)
{
  g_autofree char *text = ll_spec_to_json(s);
  g_autofree char *full = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
  return g_strndup(full, 16);
}

char *ll_spec_describe_losses(const LlSpec *s)
{
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < s->losses->len; i++) {
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    g_string_append_printf(out, "%s%s: %s vs %s", i ? "; " : "", ll_loss_kind_names[l->kind],
                           l->output, l->target);
    if (s->losses->len > 1)
      g_string_append_printf(out, " (weight %g)", l->weight);
  }
  return g_string_free(out, FALSE);
}

gboolean ll_dataset_spec_has_labels(const LlDatasetSpec *ds)
{
  return ds->kind != LL_DATASET_NPY || ds->train_labels != NULL;
}

/* The graph's single head (a block nobody reads) and its first input. */
static LlBlock *single_head(LlSpec *s, LlBlock **input, GError **error)
{
  if (!s->graph->inferred && !ll_graph_infer(s->graph, error))
    return NULL;
  LlBlock *head = NULL;
  *input = NULL;
  GString *heads = g_string_new(NULL);
  int n_heads = 0;
  for (guint i = 0; i < s->graph->order->len; i++) {
    LlBlock *b = g_ptr_array_index(s->graph->order, i);
    if (b->desc->max_inputs == 0) {
      const char *field = g_hash_table_lookup(s->bindings, b->name);
      if (!*input && (!field || !strcmp(field, "x")))
        *input = b;
    } else if (b->n_consumers == 0) {
      head = b;
      g_string_append_printf(heads, "%s\"%s\"", n_heads++ ? ", " : "", b->name);
    }
  }
  if (n_heads != 1) {
    if (n_heads)
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                  "the spec names no loss and the graph has %d outputs (%s): connect or delete "
                  "the dangling ones, or say which loss applies to which in \"losses\"",
                  n_heads, heads->str);
    else
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                  "the spec names no loss and the graph has no output block");
    head = NULL;
  }
  g_string_free(heads, TRUE);
  return head;
}

static void add_loss(LlSpec *s, const LlBlock *head, LlLossKind kind)
{
  LlLossSpec *l = g_new0(LlLossSpec, 1);
  l->output = g_strdup(head->name);
  l->weight = 1.0;
  l->kind = kind;
  l->target = g_strdup(kind == LL_LOSS_MSE || kind == LL_LOSS_L1 ? "x" : "label");
  g_ptr_array_add(s->losses, l);
}

gboolean ll_spec_add_loss(LlSpec *s, LlLossKind kind, GError **error)
{
  LlBlock *input;
  LlBlock *head = single_head(s, &input, error);
  if (head)
    add_loss(s, head, kind);
  return head != NULL;
}

gboolean ll_spec_default_loss(const LlSpec *cs, char **output, char **target, LlLossKind *kind,
                              GError **error)
{
  LlSpec *s = (LlSpec *)cs; /* single_head infers the graph when it has to */
  LlBlock *input;
  LlBlock *head = single_head(s, &input, error);
  if (!head)
    return FALSE;
  gboolean labels = ll_dataset_spec_has_labels(&s->dataset);
  gboolean same = input && ll_shape_equal(&head->out_shape, &input->out_shape);
  char shape[64];
  ll_shape_format(&head->out_shape, shape, sizeof shape);
  if (same && labels) {
    /* a classifier whose class count equals the feature count looks like an
     * autoencoder: only the user knows */
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                "the spec names no loss, and the output of \"%s\" has the input's shape %s while "
                "the dataset has labels: say in \"losses\" whether it reconstructs the input "
                "({\"output\": \"%s\", \"target\": \"x\", \"type\": \"mse\"}) or predicts the "
                "label ({\"output\": \"%s\", \"target\": \"label\", \"type\": \"cross_entropy\"})",
                head->name, shape, head->name, head->name);
    return FALSE;
  }
  if (!same && !labels) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                "the spec names no loss and the dataset has no labels, but the output of \"%s\" "
                "(%s) does not have the input's shape: name its loss in \"losses\"",
                head->name, shape);
    return FALSE;
  }
  *output = g_strdup(head->name);
  *kind = same ? LL_LOSS_MSE : LL_LOSS_CROSS_ENTROPY;
  *target = g_strdup(same ? "x" : "label");
  return TRUE;
}

char *ll_spec_add_default_loss(LlSpec *s, GError **error)
{
  LlLossSpec *l = g_new0(LlLossSpec, 1);
  if (!ll_spec_default_loss(s, &l->output, &l->target, &l->kind, error)) {
    g_free(l);
    return NULL;
  }
  l->weight = 1.0;
  g_ptr_array_add(s->losses, l);
  gboolean ae = l->kind == LL_LOSS_MSE;
  return g_strdup_printf("the spec names no loss: using %s between the output of \"%s\" and %s",
                         ae ? "mse" : "cross_entropy", l->output,
                         ae ? "the input (an autoencoder: the dataset has no labels)"
                            : "the class label");
}
