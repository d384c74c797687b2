/* analysis.c: EVAL payloads to JSON + NPY in the run folder and back. */
#include "analysis.h"

#include <errno.h>
#include <float.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "json-doc.h"
#include "json-writer.h"

/* ---- ROC AUC ------------------------------------------------------------------------- */

typedef struct {
  float score;
  gboolean positive;
} Scored;

static int by_score(const void *a, const void *b)
{
  float x = ((const Scored *)a)->score, y = ((const Scored *)b)->score;
  return (x > y) - (x < y);
}

double ll_roc_auc(const float *score, const float *label, size_t n)
{
  g_autofree Scored *v = g_new(Scored, MAX(n, 1));
  double pos = 0, neg = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(score[i]))
      return NAN;
    v[i] = (Scored){score[i], label[i] > 0.5f};
    pos += v[i].positive;
  }
  neg = (double)n - pos;
  if (pos == 0 || neg == 0)
    return NAN;
  qsort(v, n, sizeof *v, by_score);
  /* the positives' rank sum, a run of equal scores sharing its average rank */
  double rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t end = i;
    double p = 0;
    while (end < n && v[end].score == v[i].score)
      p += v[end++].positive;
    rank_sum += p * ((double)(i + 1) + (double)end) / 2;
    i = end;
  }
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

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

const char *ll_analysis_default_embedding_block(LlSpec *s)
{
  char *named = g_steal_pointer(&s->embedding_block);
  guint n_losses = s->losses->len;
  g_autofree char *chosen = n_losses ? NULL : ll_spec_add_default_loss(s, NULL);
  const char *b = ll_analysis_embedding_block(s);
  g_ptr_array_set_size(s->losses, n_losses);
  s->embedding_block = named;
  return b;
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
  if (hl > len - 10) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: truncated header", path);
    return NULL;
  }
  g_autofree char *hdr = g_strndup(buf + 10, hl);
  const char *sh = strstr(hdr, "'shape': (");
  if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True") || !sh) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a C-order float32 array", path);
    return NULL;
  }
  /* (a,) or (a, b); each a non-negative int, and a * b floats in the file */
  char *end;
  gint64 a = g_ascii_strtoll(sh + 10, &end, 10), b = 1;
  if (*end == ',' && end[1] == ' ' && end[2] != ')')
    b = g_ascii_strtoll(end + 2, &end, 10);
  size_t data_len = len - 10 - hl;
  if (a < 0 || b < 0 || a > G_MAXINT || b > G_MAXINT ||
      (b > 0 && (guint64)a > data_len / 4 / (guint64)b) || (size_t)(a * b) * 4 != data_len) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                "%s: its shape does not match its %" G_GSIZE_FORMAT " data bytes", path, data_len);
    return NULL;
  }
  size_t n = (size_t)(a * b);
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
    if (ev->binary) {
      ll_json_key(&w, "binary");
      ll_json_bool(&w, TRUE);
      if (isfinite(ev->roc_auc)) {
        ll_json_key(&w, "roc_auc");
        ll_json_double(&w, ev->roc_auc);
      }
    }
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

/* Reading back tolerates absent members (older runs lack some) but not
 * wrong ones: a member of the wrong type, a size that does not match the
 * data beside it or a class out of range fails the load, naming the file and
 * the member, before anything is allocated from it. */

#define MAX_CLASSES 100000

static gboolean load_fail(GError **error, const char *path, const char *member, const char *what)
{
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: \"%s\" %s", path, member, what);
  return FALSE;
}

/* A whole number in [lo, hi] from a JSON number (JSON writers may print 3 as 3.0). */
static gboolean node_int(JsonNode *n, gint64 lo, gint64 hi, gint64 *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64) {
    *out = json_node_get_int(n);
  } else if (t == G_TYPE_DOUBLE) {
    double d = json_node_get_double(n);
    /* |d| < 2^63 first: (double)G_MAXINT64 rounds up to 2^63 */
    if (!(fabs(d) < 9.2e18) || !(d >= (double)lo && d <= (double)hi) || d != floor(d))
      return FALSE;
    *out = (gint64)d;
  } else {
    return FALSE;
  }
  return *out >= lo && *out <= hi;
}

static gboolean node_double(JsonNode *n, double *out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE(n))
    return FALSE;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_INT64)
    *out = (double)json_node_get_int(n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double(n);
  else
    return FALSE;
  return TRUE;
}

/* An optional int member; *out keeps its default when absent. */
static gboolean get_int(JsonObject *o, const char *path, const char *key, gint64 lo, gint64 hi,
                        int *out, GError **error)
{
  JsonNode *n = json_object_get_member(o, key);
  gint64 v;
  if (!n)
    return TRUE;
  if (!node_int(n, lo, hi, &v))
    return load_fail(error, path, key, "is not a whole number in range");
  *out = (int)v;
  return TRUE;
}

/* An optional array member (NULL when absent) of length want (any when want < 0). */
static gboolean get_array(JsonObject *o, const char *path, const char *key, gint64 want,
                          JsonArray **out, GError **error)
{
  JsonNode *n = json_object_get_member(o, key);
  *out = NULL;
  if (!n)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY(n))
    return load_fail(error, path, key, "is not an array");
  *out = json_node_get_array(n);
  if (want >= 0 && json_array_get_length(*out) != (guint64)want)
    return load_fail(error, path, key, "does not have the length the other members give");
  return TRUE;
}

/* want numbers of an array member, as doubles (v) or floats (f); absent: NULL. */
static gboolean get_numbers(JsonObject *o, const char *path, const char *key, size_t want,
                            double **v, float **f, GError **error)
{
  JsonArray *a;
  if (!get_array(o, path, key, (gint64)want, &a, error))
    return FALSE;
  if (!a)
    return TRUE;
  if (v)
    *v = g_new(double, MAX(want, 1));
  else
    *f = g_new(float, MAX(want, 1));
  for (size_t i = 0; i < want; i++) {
    double d;
    if (!node_double(json_array_get_element(a, (guint)i), &d))
      return load_fail(error, path, key, "holds something that is not a number");
    if (v)
      (*v)[i] = d;
    else
      (*f)[i] =
          isfinite(d) && fabs(d) <= FLT_MAX ? (float)d : (float)(d > 0 ? INFINITY : -INFINITY);
  }
  return TRUE;
}

/* A float from an NPY table that must be a whole number in [lo, hi]. */
static gboolean float_int(float v, int lo, int hi, int *out)
{
  if (!((double)v >= lo && (double)v <= hi) || v != floorf(v)) /* (float)G_MAXINT is 2^31 */
    return FALSE;
  *out = (int)v;
  return TRUE;
}

static gboolean load_confusion(JsonObject *o, const char *path, LlEvent *e, GError **error)
{
  int c = 0;
  JsonArray *rows;
  if (!get_int(o, path, "n_classes", 0, MAX_CLASSES, &c, error) ||
      !get_array(o, path, "confusion", -1, &rows, error))
    return FALSE;
  if (c <= 0 || !rows)
    return TRUE;
  /* every row is in the file: c * c numbers bound the allocation by its size */
  if (json_array_get_length(rows) != (guint)c)
    return load_fail(error, path, "confusion", "does not have n_classes rows");
  /* and every row in full, before the c * c matrix is allocated (100,000
   * empty rows asked for 80 GB) */
  for (int r = 0; r < c; r++) {
    JsonNode *rn = json_array_get_element(rows, r);
    if (!JSON_NODE_HOLDS_ARRAY(rn) || json_array_get_length(json_node_get_array(rn)) != (guint)c)
      return load_fail(error, path, "confusion", "has a row that is not n_classes numbers");
  }
  e->n_classes = c;
  e->confusion = g_try_new0(int64_t, (size_t)c * (size_t)c);
  if (!e->confusion)
    return load_fail(error, path, "confusion", "is too big for the memory left");
  e->support = g_new0(int64_t, c);
  for (int r = 0; r < c; r++) {
    JsonArray *row = json_node_get_array(json_array_get_element(rows, r));
    for (int k = 0; k < c; k++) {
      gint64 v;
      /* counts of samples: 2^40 each keeps the row sums far from overflow */
      if (!node_int(json_array_get_element(row, k), 0, (gint64)1 << 40, &v))
        return load_fail(error, path, "confusion", "holds something that is not a count");
      e->confusion[(size_t)r * c + k] = v;
      e->support[r] += v;
    }
  }
  if (!get_numbers(o, path, "precision", c, &e->precision, NULL, error) ||
      !get_numbers(o, path, "recall", c, &e->recall, NULL, error) ||
      !get_numbers(o, path, "f1", c, &e->f1, NULL, error))
    return FALSE;
  /* a confusion matrix always comes with its report (zeros where it was not saved) */
  double **report[] = {&e->precision, &e->recall, &e->f1};
  for (size_t i = 0; i < G_N_ELEMENTS(report); i++)
    if (!*report[i])
      *report[i] = g_new0(double, c);
  JsonNode *bin = json_object_get_member(o, "binary"), *auc = json_object_get_member(o, "roc_auc");
  if (bin && (!JSON_NODE_HOLDS_VALUE(bin) || json_node_get_value_type(bin) != G_TYPE_BOOLEAN))
    return load_fail(error, path, "binary", "is not true or false");
  e->binary = bin && json_node_get_boolean(bin);
  if (e->binary && c != 2)
    return load_fail(error, path, "binary", "is true for a matrix that is not 2 x 2");
  e->roc_auc = NAN;
  if (auc && !(node_double(auc, &e->roc_auc) && e->roc_auc >= 0 && e->roc_auc <= 1))
    return load_fail(error, path, "roc_auc", "is not a number in [0, 1]");
  return TRUE;
}

static gboolean load_class_names(JsonObject *o, const char *path, LlEvent *e, GError **error)
{
  JsonArray *names;
  if (!get_array(o, path, "class_names", -1, &names, error))
    return FALSE;
  guint nn = names ? json_array_get_length(names) : 0;
  /* the dataset's names when its labels are not the head's classes (a label
   * map): they name no class of the matrix, and are left out as before */
  if (!names || (e->n_classes && nn != (guint)e->n_classes))
    return TRUE;
  e->class_names = g_new0(char *, nn + 1);
  for (guint i = 0; i < nn; i++) {
    JsonNode *n = json_array_get_element(names, i);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
      return load_fail(error, path, "class_names", "holds something that is not a string");
    e->class_names[i] = g_strdup(json_node_get_string(n));
  }
  return TRUE;
}

static gboolean load_recon(JsonObject *o, const char *path, LlEvent *e, GError **error)
{
  int nr = 0;
  JsonArray *sh;
  if (!get_int(o, path, "n_recon", 0, G_MAXINT, &nr, error) ||
      !get_array(o, path, "recon_shape", -1, &sh, error))
    return FALSE;
  if (nr == 0 || !sh)
    return TRUE;
  LlShape shape = {.rank = (int)json_array_get_length(sh)};
  if (shape.rank < 1 || shape.rank > LL_MAX_DIMS)
    return load_fail(error, path, "recon_shape", "does not have 1 to 4 dimensions");
  guint64 size = (guint64)nr;
  for (int i = 0; i < shape.rank; i++) {
    gint64 d;
    if (!node_int(json_array_get_element(sh, i), 1, G_MAXINT, &d) ||
        !g_uint64_checked_mul(&size, size, (guint64)d) || size > G_MAXUINT)
      return load_fail(error, path, "recon_shape", "is not a shape of the reconstructions given");
    shape.d[i] = (int)d;
  }
  /* the arrays must hold n_recon * size numbers each: checked before allocating */
  if (!get_numbers(o, path, "recon_input", size, NULL, &e->recon_input, error) ||
      !get_numbers(o, path, "recon_output", size, NULL, &e->recon_output, error))
    return FALSE;
  if (!e->recon_input || !e->recon_output)
    return TRUE;
  JsonArray *index;
  if (!get_array(o, path, "recon_index", nr, &index, error))
    return FALSE;
  e->recon_index = g_new(int, nr);
  for (int i = 0; i < nr; i++) {
    gint64 v = -1; /* recorded before the indices were */
    if (index && !node_int(json_array_get_element(index, i), -1, G_MAXINT, &v))
      return load_fail(error, path, "recon_index", "holds something that is not a sample index");
    e->recon_index[i] = (int)v;
  }
  e->n_recon = nr;
  e->recon_shape = shape;
  return TRUE;
}

static gboolean load_embeddings(JsonObject *o, const char *dir, const char *stem, const char *path,
                                LlEvent *e, GError **error)
{
  int ne = 0;
  if (!get_int(o, path, "n_embed", 0, G_MAXINT, &ne, error))
    return FALSE;
  if (ne == 0)
    return TRUE;
  g_autofree char *ep = g_strdup_printf("%s/%s-embed.npy", dir, stem);
  g_autofree char *lp = g_strdup_printf("%s/%s-embed-labels.npy", dir, stem);
  int a = 0, b = 0, la = 0, lb = 0;
  g_autofree float *emb = ll_npy_read_f32(ep, &a, &b, NULL);
  g_autofree float *lab = ll_npy_read_f32(lp, &la, &lb, NULL);
  if (!emb || a != ne || b <= 0)
    return TRUE; /* the embeddings were not saved (or are gone): the rest still loads */
  JsonArray *index;
  JsonNode *block = json_object_get_member(o, "embed_block");
  if (!get_array(o, path, "embed_index", ne, &index, error))
    return FALSE;
  if (block && (!JSON_NODE_HOLDS_VALUE(block) || json_node_get_value_type(block) != G_TYPE_STRING))
    return load_fail(error, path, "embed_block", "is not a string");
  e->embed_block = block ? g_strdup(json_node_get_string(block)) : NULL;
  e->embed_labels = g_new0(int, ne);
  for (int i = 0; lab && i < ne && i < la; i++)
    /* the dataset's labels, which need not be the head's classes (a label map) */
    if (!float_int(lab[i], G_MININT, G_MAXINT, &e->embed_labels[i]))
      return load_fail(error, lp, "labels", "holds a value that is not a whole number");
  e->embed_index = g_new0(int, ne);
  for (int i = 0; i < ne; i++) {
    gint64 v = -1;
    if (index && !node_int(json_array_get_element(index, i), -1, G_MAXINT, &v))
      return load_fail(error, path, "embed_index", "holds something that is not a sample index");
    e->embed_index[i] = (int)v;
  }
  e->n_embed = ne;
  e->embed_dim = b;
  e->embeddings = g_steal_pointer(&emb);
  return TRUE;
}

static gboolean load_predictions(const char *dir, const char *stem, LlEvent *e, GError **error)
{
  g_autofree char *pp = g_strdup_printf("%s/%s-predictions.npy", dir, stem);
  if (!g_file_test(pp, G_FILE_TEST_EXISTS))
    return TRUE;
  int a = 0, b = 0;
  g_autofree float *tab = ll_npy_read_f32(pp, &a, &b, NULL);
  if (!tab || b != 4 || a <= 0)
    return TRUE;
  int hi = e->n_classes ? e->n_classes - 1 : G_MAXINT;
  int *index = g_new(int, a), *truth = g_new(int, a), *cls = g_new(int, a);
  for (int i = 0; i < a; i++)
    if (!float_int(tab[(size_t)i * 4], 0, G_MAXINT, &index[i]) ||
        !float_int(tab[(size_t)i * 4 + 1], 0, hi, &truth[i]) ||
        !float_int(tab[(size_t)i * 4 + 2], 0, hi, &cls[i])) {
      g_free(index);
      g_free(truth);
      g_free(cls);
      return load_fail(error, pp, "predictions",
                       "holds a row whose index or classes are not whole numbers in range");
    }
  e->n_pred = a;
  e->pred_index = index;
  e->pred_true = truth;
  e->pred_class = cls;
  e->pred_conf = g_new(float, a);
  for (int i = 0; i < a; i++)
    e->pred_conf[i] = tab[(size_t)i * 4 + 3];
  return TRUE;
}

static LlEvent *load_one(const char *dir, const char *stem, GError **error)
{
  g_autofree char *jpath = g_strdup_printf("%s/%s.json", dir, stem);
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!ll_json_parser_load_file(parser, jpath, error))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a JSON object", jpath);
    return NULL;
  }
  JsonObject *o = json_node_get_object(root);
  LlEvent *e = g_new0(LlEvent, 1);
  e->kind = LL_EVENT_EVAL;
  JsonNode *split = json_object_get_member(o, "split");
  JsonNode *fts = json_object_get_member(o, "from_test_set");
  gboolean ok = TRUE;
  if (split && (!JSON_NODE_HOLDS_VALUE(split) || json_node_get_value_type(split) != G_TYPE_STRING))
    ok = load_fail(error, jpath, "split", "is not a string");
  else if (fts && (!JSON_NODE_HOLDS_VALUE(fts) || json_node_get_value_type(fts) != G_TYPE_BOOLEAN))
    ok = load_fail(error, jpath, "from_test_set", "is not true or false");
  if (ok) {
    e->split = g_strdup(split ? json_node_get_string(split) : "val");
    e->from_test_set = fts && json_node_get_boolean(fts);
    ok = get_int(o, jpath, "epoch", G_MININT, G_MAXINT, &e->epoch, error) &&
         get_int(o, jpath, "epochs", G_MININT, G_MAXINT, &e->epochs, error) &&
         load_confusion(o, jpath, e, error) && load_class_names(o, jpath, e, error) &&
         load_recon(o, jpath, e, error) && load_embeddings(o, dir, stem, jpath, e, error) &&
         load_predictions(dir, stem, e, error);
  }
  if (!ok) {
    ll_event_free(e);
    return NULL;
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
