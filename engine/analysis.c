/* analysis.c: EVAL payloads to JSON + NPY in the run folder and back. */
#include "analysis.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "json-writer.h"

/* ---- the embedded block --------------------------------------------------------------- */

/* b's input, past Dropouts (in evaluation they pass their input on). */
static LlBlock *hidden_before(LlBlock *b)
{
  LlBlock *in = b && b->n_inputs > 0 ? b->inputs[0] : NULL;
  while (in && !strcmp(in->desc->type, "Dropout") && in->n_inputs > 0)
    in = in->inputs[0];
  return in && in->desc->max_inputs > 0 ? in : NULL; /* not an Input block */
}

/* head and every block that feeds it, each once (a DAG's paths can be many). */
static GHashTable *upstream_of(LlBlock *head)
{
  GHashTable *seen = g_hash_table_new(NULL, NULL);
  g_autoptr(GPtrArray) todo = g_ptr_array_new();
  g_ptr_array_add(todo, head);
  while (todo->len) {
    LlBlock *b = g_ptr_array_steal_index_fast(todo, todo->len - 1);
    if (!g_hash_table_add(seen, b))
      continue;
    for (int i = 0; i < b->n_inputs; i++)
      if (b->inputs[i])
        g_ptr_array_add(todo, b->inputs[i]);
  }
  return seen;
}

const char *ll_analysis_embedding_block(const LlSpec *s)
{
  if (s->embedding_block)
    return s->embedding_block;
  if (s->embedding_samples <= 0 || !s->graph)
    return NULL;
  LlBlock *first = NULL;
  for (guint i = 0; i < s->losses->len; i++) {
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    LlBlock *head = ll_graph_find(s->graph, l->output);
    LlBlock *h = hidden_before(head);
    if (l->kind == LL_LOSS_CROSS_ENTROPY && h)
      return h->name;
    first = first ? first : h;
  }
  for (guint i = 0; s->graph->inferred && i < s->losses->len; i++) {
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    LlBlock *head = ll_graph_find(s->graph, l->output);
    if (!head || strcmp(l->target, "x"))
      continue;
    /* the narrowest block on the way to the reconstruction; of equal ones
     * the last (the activation after the code layer) */
    LlBlock *best = NULL;
    size_t best_size = 0;
    g_autoptr(GHashTable) up = upstream_of(head);
    for (guint k = 0; k < s->graph->order->len; k++) {
      LlBlock *b = g_ptr_array_index(s->graph->order, k);
      if (b == head || b->desc->max_inputs == 0 || !g_hash_table_contains(up, b))
        continue;
      size_t size = ll_shape_size(&b->out_shape);
      if (size > 0 && (!best || size <= best_size)) {
        best = b;
        best_size = size;
      }
    }
    if (best)
      return best->name;
  }
  return first ? first->name : NULL;
}

/* ---- NPY ------------------------------------------------------------------------------- */

gboolean ll_npy_write_f32(const char *path, const float *data, int shape0, int shape1,
                          GError **error)
{
  g_autofree char *shape =
      shape1 > 0 ? g_strdup_printf("(%d, %d)", shape0, shape1) : g_strdup_printf("(%d,)", shape0);
  g_autofree char *dict =
      g_strdup_printf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape);
  /* magic (6) + version (2) + header length (2) + dict, padded with spaces to 64, '\n' */
  size_t len = strlen(dict) + 1, total = 10 + len;
  size_t pad = (64 - total % 64) % 64;
  GString *h = g_string_new_len("\x93NUMPY\x01\x00", 8);
  guint16 hl = GUINT16_TO_LE((guint16)(len + pad));
  g_string_append_len(h, (const char *)&hl, 2);
  g_string_append(h, dict);
  for (size_t i = 0; i < pad; i++)
    g_string_append_c(h, ' ');
  g_string_append_c(h, '\n');
  size_t n = (size_t)shape0 * (shape1 > 0 ? shape1 : 1);
  g_string_append_len(h, (const char *)data, (gssize)(n * sizeof(float)));
  gboolean ok = g_file_set_contents(path, h->str, (gssize)h->len, error);
  g_string_free(h, TRUE);
  return ok;
}

float *ll_npy_read_f32(const char *path, int *shape0, int *shape1, GError **error)
{
  g_autofree char *buf = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &buf, &len, error))
    return NULL;
  if (len < 10 || memcmp(buf, "\x93NUMPY", 6) || buf[6] != 1) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a version 1 NPY file", path);
    return NULL;
  }
  size_t hl = (guint8)buf[8] | ((size_t)(guint8)buf[9] << 8);
  if (10 + hl > len) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: truncated header", path);
    return NULL;
  }
  g_autofree char *hdr = g_strndup(buf + 10, hl);
  const char *sh = strstr(hdr, "'shape': (");
  long a = 0, b = 1;
  if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True") || !sh) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a C-order float32 array", path);
    return NULL;
  }
  char *end;
  a = strtol(sh + 10, &end, 10);
  if (*end == ',' && end[1] == ' ' && end[2] != ')')
    b = strtol(end + 2, &end, 10);
  size_t n = (size_t)MAX(a, 0) * (size_t)MAX(b, 0);
  if (a < 0 || b < 0 || 10 + hl + n * 4 > len) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: truncated data", path);
    return NULL;
  }
  float *out = g_new(float, MAX(n, 1));
  memcpy(out, buf + 10 + hl, n * 4);
  *shape0 = (int)a;
  *shape1 = (int)b;
  return out;
}

/* ---- save ------------------------------------------------------------------------------ */

static void write_doubles(LlJsonWriter *w, const char *key, const double *v, int n)
{
  ll_json_key(w, key);
  ll_json_begin_array(w, TRUE);
  for (int i = 0; i < n; i++)
    ll_json_double(w, round(v[i] * 1e6) / 1e6);
  ll_json_end_array(w);
}

static void write_floats(LlJsonWriter *w, const char *key, const float *v, size_t n)
{
  ll_json_key(w, key);
  ll_json_begin_array(w, TRUE);
  for (size_t i = 0; i < n; i++)
    ll_json_float(w, v[i]);
  ll_json_end_array(w);
}

static void write_ints(LlJsonWriter *w, const char *key, const int *v, int n)
{
  ll_json_key(w, key);
  ll_json_begin_array(w, TRUE);
  for (int i = 0; i < n; i++)
    ll_json_int(w, v[i]);
  ll_json_end_array(w);
}

gboolean ll_analysis_save(const char *run_dir, const LlEvent *ev, GError **error)
{
  if (ev->confusion && (!ev->precision || !ev->recall || !ev->f1 || !ev->support)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s: the %s evaluation has a confusion matrix but no classification report "
                "(an empty split?)",
                run_dir, ev->split ? ev->split : "val");
    return FALSE;
  }
  g_autofree char *dir = g_build_filename(run_dir, "analysis", NULL);
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  gboolean test = ev->split && !strcmp(ev->split, "test");
  g_autofree char *stem = test ? g_strdup("test") : g_strdup_printf("epoch-%03d", ev->epoch);
  LlJsonWriter w;
  ll_json_writer_init(&w);
  ll_json_begin_object(&w);
  ll_json_key(&w, "split");
  ll_json_string(&w, test ? "test" : "val");
  ll_json_key(&w, "epoch");
  ll_json_int(&w, ev->epoch);
  ll_json_key(&w, "epochs");
  ll_json_int(&w, ev->epochs);
  ll_json_key(&w, "from_test_set");
  ll_json_bool(&w, ev->from_test_set);
  int c = ev->n_classes;
  if (ev->class_names) {
    ll_json_key(&w, "class_names");
    ll_json_begin_array(&w, TRUE);
    for (int i = 0; ev->class_names[i]; i++)
      ll_json_string(&w, ev->class_names[i]);
    ll_json_end_array(&w);
  }
  if (ev->confusion) {
    ll_json_key(&w, "n_classes");
    ll_json_int(&w, c);
    ll_json_key(&w, "confusion");
    ll_json_begin_array(&w, FALSE);
    for (int r = 0; r < c; r++) {
      ll_json_begin_array(&w, TRUE);
      for (int k = 0; k < c; k++)
        ll_json_int(&w, ev->confusion[r * c + k]);
      ll_json_end_array(&w);
    }
    ll_json_end_array(&w);
    write_doubles(&w, "precision", ev->precision, c);
    write_doubles(&w, "recall", ev->recall, c);
    write_doubles(&w, "f1", ev->f1, c);
    ll_json_key(&w, "support");
    ll_json_begin_array(&w, TRUE);
    for (int i = 0; i < c; i++)
      ll_json_int(&w, ev->support[i]);
    ll_json_end_array(&w);
  }
  if (ev->n_recon > 0) {
    size_t size = ll_shape_size(&ev->recon_shape);
    ll_json_key(&w, "recon_shape");
    ll_json_begin_array(&w, TRUE);
    for (int i = 0; i < ev->recon_shape.rank; i++)
      ll_json_int(&w, ev->recon_shape.d[i]);
    ll_json_end_array(&w);
    ll_json_key(&w, "n_recon");
    ll_json_int(&w, ev->n_recon);
    write_floats(&w, "recon_input", ev->recon_input, ev->n_recon * size);
    write_floats(&w, "recon_output", ev->recon_output, ev->n_recon * size);
    if (ev->recon_index)
      write_ints(&w, "recon_index", ev->recon_index, ev->n_recon);
  }
  if (ev->n_embed > 0) {
    ll_json_key(&w, "n_embed");
    ll_json_int(&w, ev->n_embed);
    ll_json_key(&w, "embed_dim");
    ll_json_int(&w, ev->embed_dim);
    if (ev->embed_block) {
      ll_json_key(&w, "embed_block");
      ll_json_string(&w, ev->embed_block);
    }
    if (ev->embed_index)
      write_ints(&w, "embed_index", ev->embed_index, ev->n_embed);
  }
  ll_json_end_object(&w);
  g_autofree char *json = ll_json_writer_finish(&w);
  g_autofree char *jpath = g_strdup_printf("%s/%s.json", dir, stem);
  if (ev->n_embed > 0) {
    g_autofree char *ep = g_strdup_printf("%s/%s-embed.npy", dir, stem);
    g_autofree char *lp = g_strdup_printf("%s/%s-embed-labels.npy", dir, stem);
    g_autofree float *lab = g_new(float, ev->n_embed);
    for (int i = 0; i < ev->n_embed; i++)
      lab[i] = ev->embed_labels ? (float)ev->embed_labels[i] : 0.0f;
    if (!ll_npy_write_f32(ep, ev->embeddings, ev->n_embed, ev->embed_dim, error) ||
        !ll_npy_write_f32(lp, lab, ev->n_embed, 0, error))
      return FALSE;
  }
  if (ev->n_pred > 0) {
    g_autofree char *pp = g_strdup_printf("%s/%s-predictions.npy", dir, stem);
    g_autofree float *tab = g_new(float, (size_t)ev->n_pred * 4);
    for (int i = 0; i < ev->n_pred; i++) {
      tab[i * 4 + 0] = (float)ev->pred_index[i];
      tab[i * 4 + 1] = (float)ev->pred_true[i];
      tab[i * 4 + 2] = (float)ev->pred_class[i];
      tab[i * 4 + 3] = ev->pred_conf[i];
    }
    if (!ll_npy_write_f32(pp, tab, ev->n_pred, 4, error))
      return FALSE;
  }
  /* the JSON last: a reader that sees it finds its NPY files complete */
  return g_file_set_contents(jpath, json, -1, error);
}

/* ---- load ------------------------------------------------------------------------------ */

static gboolean int_array(JsonObject *o, const char *key, int want, int *out)
{
  if (!json_object_has_member(o, key))
    return FALSE;
  JsonArray *a = json_object_get_array_member(o, key);
  if (!a || (int)json_array_get_length(a) != want)
    return FALSE;
  for (int i = 0; i < want; i++)
    out[i] = (int)json_array_get_int_element(a, i);
  return TRUE;
}

static double *double_array(JsonObject *o, const char *key, int want)
{
  JsonArray *a = json_object_has_member(o, key) ? json_object_get_array_member(o, key) : NULL;
  double *v = g_new0(double, MAX(want, 1));
  for (int i = 0; a && i < want && i < (int)json_array_get_length(a); i++)
    v[i] = json_array_get_double_element(a, i);
  return v;
}

static float *float_array(JsonObject *o, const char *key, size_t want)
{
  JsonArray *a = json_object_has_member(o, key) ? json_object_get_array_member(o, key) : NULL;
  if (!a || json_array_get_length(a) != want)
    return NULL;
  float *v = g_new(float, MAX(want, 1));
  for (size_t i = 0; i < want; i++)
    v[i] = (float)json_array_get_double_element(a, (guint)i);
  return v;
}

static LlEvent *load_one(const char *dir, const char *stem, GError **error)
{
  g_autofree char *jpath = g_strdup_printf("%s/%s.json", dir, stem);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_file(parser, jpath, error))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a JSON object", jpath);
    return NULL;
  }
  JsonObject *o = json_node_get_object(root);
  LlEvent *e = g_new0(LlEvent, 1);
  e->kind = LL_EVENT_EVAL;
  e->split = g_strdup(json_object_get_string_member_with_default(o, "split", "val"));
  e->epoch = (int)json_object_get_int_member_with_default(o, "epoch", 0);
  e->epochs = (int)json_object_get_int_member_with_default(o, "epochs", 0);
  e->from_test_set = json_object_get_boolean_member_with_default(o, "from_test_set", FALSE);
  int c = (int)json_object_get_int_member_with_default(o, "n_classes", 0);
  if (c > 0 && c <= 100000 && json_object_has_member(o, "confusion")) {
    JsonArray *rows = json_object_get_array_member(o, "confusion");
    if (rows && (int)json_array_get_length(rows) == c) {
      e->n_classes = c;
      e->confusion = g_new0(int64_t, (size_t)c * c);
      for (int r = 0; r < c; r++) {
        JsonArray *row = json_array_get_array_element(rows, r);
        for (int k = 0; row && k < c && k < (int)json_array_get_length(row); k++)
          e->confusion[r * c + k] = json_array_get_int_element(row, k);
      }
      e->precision = double_array(o, "precision", c);
      e->recall = double_array(o, "recall", c);
      e->f1 = double_array(o, "f1", c);
      e->support = g_new0(int64_t, c);
      for (int r = 0; r < c; r++)
        for (int k = 0; k < c; k++)
          e->support[r] += e->confusion[r * c + k];
    }
  }
  JsonArray *names = json_object_has_member(o, "class_names")
                         ? json_object_get_array_member(o, "class_names")
                         : NULL;
  if (names && (e->n_classes == 0 || (int)json_array_get_length(names) == e->n_classes)) {
    int nn = (int)json_array_get_length(names);
    e->class_names = g_new0(char *, nn + 1);
    for (int i = 0; i < nn; i++)
      e->class_names[i] = g_strdup(json_array_get_string_element(names, i));
  }
  int nr = (int)json_object_get_int_member_with_default(o, "n_recon", 0);
  if (nr > 0 && json_object_has_member(o, "recon_shape")) {
    JsonArray *sh = json_object_get_array_member(o, "recon_shape");
    LlShape shape = {0};
    shape.rank = sh ? MIN((int)json_array_get_length(sh), LL_MAX_DIMS) : 0;
    for (int i = 0; i < shape.rank; i++)
      shape.d[i] = (int)json_array_get_int_element(sh, i);
    size_t size = shape.rank ? ll_shape_size(&shape) : 0;
    if (size > 0) {
      e->recon_input = float_array(o, "recon_input", (size_t)nr * size);
      e->recon_output = float_array(o, "recon_output", (size_t)nr * size);
      if (e->recon_input && e->recon_output) {
        e->n_recon = nr;
        e->recon_shape = shape;
        e->recon_index = g_new(int, nr);
        if (!int_array(o, "recon_index", nr, e->recon_index))
          for (int i = 0; i < nr; i++)
            e->recon_index[i] = -1; /* recorded before the indices were */
      }
    }
  }
  int ne = (int)json_object_get_int_member_with_default(o, "n_embed", 0);
  if (ne > 0) {
    g_autofree char *ep = g_strdup_printf("%s/%s-embed.npy", dir, stem);
    g_autofree char *lp = g_strdup_printf("%s/%s-embed-labels.npy", dir, stem);
    int a = 0, b = 0, la = 0, lb = 0;
    float *emb = ll_npy_read_f32(ep, &a, &b, NULL);
    g_autofree float *lab = ll_npy_read_f32(lp, &la, &lb, NULL);
    if (emb && a == ne && b > 0) {
      const char *blk = json_object_get_string_member_with_default(o, "embed_block", NULL);
      e->embed_block = blk ? g_strdup(blk) : NULL;
      e->n_embed = ne;
      e->embed_dim = b;
      e->embeddings = emb;
      e->embed_labels = g_new0(int, ne);
      for (int i = 0; lab && i < ne && i < la; i++)
        e->embed_labels[i] = (int)lab[i];
      e->embed_index = g_new0(int, ne);
      if (!int_array(o, "embed_index", ne, e->embed_index))
        for (int i = 0; i < ne; i++)
          e->embed_index[i] = -1;
    } else {
      g_free(emb);
    }
  }
  g_autofree char *pp = g_strdup_printf("%s/%s-predictions.npy", dir, stem);
  if (g_file_test(pp, G_FILE_TEST_EXISTS)) {
    int a = 0, b = 0;
    g_autofree float *tab = ll_npy_read_f32(pp, &a, &b, NULL);
    if (tab && b == 4 && a > 0) {
      e->n_pred = a;
      e->pred_index = g_new(int, a);
      e->pred_true = g_new(int, a);
      e->pred_class = g_new(int, a);
      e->pred_conf = g_new(float, a);
      for (int i = 0; i < a; i++) {
        e->pred_index[i] = (int)tab[i * 4];
        e->pred_true[i] = (int)tab[i * 4 + 1];
        e->pred_class[i] = (int)tab[i * 4 + 2];
        e->pred_conf[i] = tab[i * 4 + 3];
      }
    }
  }
  return e;
}

static gint by_name(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ll_analysis_load(const char *run_dir, GError **error)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free);
  g_autofree char *dir = g_build_filename(run_dir, "analysis", NULL);
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d)
    return out;
  g_autoptr(GPtrArray) stems = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (g_str_has_prefix(name, "epoch-") && g_str_has_suffix(name, ".json") &&
        !strchr(name + 6, '-'))
      g_ptr_array_add(stems, g_strndup(name, strlen(name) - 5));
  g_dir_close(d);
  g_ptr_array_sort(stems, by_name); /* epoch-NNN: zero-padded, so names sort by epoch */
  g_autofree char *tpath = g_build_filename(dir, "test.json", NULL);
  if (g_file_test(tpath, G_FILE_TEST_EXISTS))
    g_ptr_array_add(stems, g_strdup("test"));
  for (guint i = 0; i < stems->len; i++) {
    LlEvent *e = load_one(dir, g_ptr_array_index(stems, i), error);
    if (!e) {
      g_ptr_array_unref(out);
      return NULL;
    }
    g_ptr_array_add(out, e);
  }
  return out;
}
