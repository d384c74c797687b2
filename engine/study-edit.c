/* study-edit.c: editing a study's JSON tree with undo and redo; every edit
 * is checked by loading the result as `layerlab study` would. */
#include "study-edit.h"

#include <math.h>
#include <string.h>

#include "json-doc.h"
#include "json-writer.h"
#include "untrusted.h"

struct LlStudyEdit {
  JsonNode *root; /* the study object, specs inlined */
  char *text;     /* root as JSON text */
  GPtrArray *undo, *redo; /* char*: texts before each edit / after each undone one */
  char *saved;            /* the text last saved (or opened) */
  int spec_stage;         /* the spec the canvas shows: -1 base */
};

static JsonObject *root_obj(const LlStudyEdit *e) { return json_node_get_object(e->root); }

static char *render(JsonNode *root) { return ll_json_node_to_text(root, FALSE); }

static JsonNode *parse(const char *text, GError **error)
{
  g_autoptr(JsonParser) p = json_parser_new();
  if (!ll_json_parser_load(p, text, -1, "study", error))
    return NULL;
  return ll_json_node_dup(json_parser_get_root(p));
}

/* Takes root as the study when it loads; else leaves e as it was. The
 * study is kept as the loader writes it back (members in its order), so
 * the text Save writes is the text the saved file opens as. */
static gboolean adopt(LlStudyEdit *e, JsonNode *root, GError **error)
{
  g_autofree char *text = render(root);
  json_node_unref(root);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "study", ".", error);
  if (!s)
    return FALSE;
  g_autofree char *canon = ll_study_to_json(s);
  JsonNode *c = parse(canon, error);
  if (!c)
    return FALSE;
  if (e->root)
    json_node_unref(e->root);
  e->root = c;
  g_free(e->text);
  e->text = render(c);
  return TRUE;
}

static LlStudyEdit *edit_from_study(LlStudy *s, GError **error)
{
  g_autofree char *text = ll_study_to_json(s);
  JsonNode *root = parse(text, error);
  if (!root)
    return NULL;
  LlStudyEdit *e = g_new0(LlStudyEdit, 1);
  e->undo = g_ptr_array_new_with_free_func(g_free);
  e->redo = g_ptr_array_new_with_free_func(g_free);
  e->spec_stage = -1;
  if (!adopt(e, root, error)) {
    ll_study_edit_free(e);
    return NULL;
  }
  e->saved = g_strdup(e->text);
  return e;
}

LlStudyEdit *ll_study_edit_new(const char *json, const char *display_name, const char *base_dir,
                               GError **error)
{
  g_autoptr(LlStudy) s = ll_study_load_data(json, -1, display_name, base_dir, error);
  return s ? edit_from_study(s, error) : NULL;
}

LlStudyEdit *ll_study_edit_new_for_spec(const char *spec_json, GError **error)
{
  g_autoptr(LlSpec) spec = ll_spec_load_data(spec_json, -1, "spec", error);
  if (!spec)
    return NULL;
  gboolean classifier = FALSE;
  for (guint i = 0; i < spec->losses->len; i++)
    classifier |= ((LlLossSpec *)g_ptr_array_index(spec->losses, i))->kind == LL_LOSS_CROSS_ENTROPY;
  JsonNode *sn = parse(spec_json, error);
  if (!sn)
    return NULL;
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "format", LL_STUDY_FORMAT);
  json_object_set_int_member(o, "version", LL_STUDY_VERSION);
  g_autofree char *name = g_strdup_printf("sweep-%s", spec->name ? spec->name : "spec");
  json_object_set_string_member(o, "name", name);
  json_object_set_string_member(o, "description", "");
  json_object_set_string_member(o, "metric", classifier ? "val_accuracy" : "val_loss");
  json_object_set_string_member(o, "direction", classifier ? "maximize" : "minimize");
  json_object_set_member(o, "spec", sn);
  JsonObject *sw = json_object_new();
  json_object_set_string_member(sw, "mode", "grid");
  json_object_set_array_member(sw, "axes", json_array_new());
  json_object_set_object_member(o, "sweep", sw);
  JsonNode *root = json_node_init_object(json_node_alloc(), o);
  json_object_unref(o);
  g_autofree char *text = render(root);
  json_node_unref(root);
  return ll_study_edit_new(text, "new study", ".", error);
}

void ll_study_edit_free(LlStudyEdit *e)
{
  if (!e)
    return;
  if (e->root)
    json_node_unref(e->root);
  g_free(e->text);
  g_free(e->saved);
  g_ptr_array_unref(e->undo);
  g_ptr_array_unref(e->redo);
  g_free(e);
}

const char *ll_study_edit_text(const LlStudyEdit *e) { return e->text; }

LlStudy *ll_study_edit_load(const LlStudyEdit *e, GError **error)
{
  return ll_study_load_data(e->text, -1, "study", ".", error);
}

gboolean ll_study_edit_modified(const LlStudyEdit *e) { return g_strcmp0(e->text, e->saved) != 0; }
void ll_study_edit_mark_saved(LlStudyEdit *e)
{
  g_free(e->saved);
  e->saved = g_strdup(e->text);
}

gboolean ll_study_edit_save(LlStudyEdit *e, const char *path, GError **error)
{
  if (!g_file_set_contents(path, e->text, -1, error))
    return FALSE;
  ll_study_edit_mark_saved(e);
  return TRUE;
}

/* ---- one edit: a copy of the tree, changed, then adopted ------------------------------ */

static JsonNode *begin(const LlStudyEdit *e) { return ll_json_node_dup(e->root); }

static gboolean commit(LlStudyEdit *e, JsonNode *root, GError **error)
{
  g_autofree char *before = g_strdup(e->text);
  if (!adopt(e, root, error))
    return FALSE;
  if (!strcmp(before, e->text))
    return TRUE; /* no change: nothing to undo */
  g_ptr_array_add(e->undo, g_steal_pointer(&before));
  g_ptr_array_set_size(e->redo, 0);
  return TRUE;
}

gboolean ll_study_edit_can_undo(const LlStudyEdit *e) { return e->undo->len > 0; }
gboolean ll_study_edit_can_redo(const LlStudyEdit *e) { return e->redo->len > 0; }

static JsonObject *stage_obj(JsonObject *root, int i);

/* The spec the canvas shows, in a tree (borrowed), or NULL. */
static JsonNode *spec_node(JsonObject *root, int stage)
{
  if (stage < 0 && json_object_has_member(root, "spec"))
    return json_object_get_member(root, "spec");
  JsonObject *st = stage_obj(root, stage < 0 ? 0 : stage);
  if (st && json_object_has_member(st, "spec"))
    return json_object_get_member(st, "spec");
  return stage >= 0 ? spec_node(root, -1) : NULL;
}

/* Swaps in text (an undo or redo), keeping the spec the canvas shows: the
 * canvas's undo owns that. */
static void restore(LlStudyEdit *e, const char *text)
{
  JsonNode *root = parse(text, NULL);
  if (!root)
    return;
  JsonNode *cur = spec_node(root_obj(e), e->spec_stage);
  JsonNode *old = spec_node(json_node_get_object(root), e->spec_stage);
  if (cur && old) {
    g_autoptr(JsonNode) keep = ll_json_node_dup(cur);
    /* old is a member of some object of root: replace its content */
    JsonObject *dst = json_node_get_object(old), *src = json_node_get_object(keep);
    g_autoptr(GList) names = json_object_get_members(dst);
    for (GList *l = names; l; l = l->next)
      json_object_remove_member(dst, l->data);
    g_autoptr(GList) add = json_object_get_members(src);
    for (GList *l = add; l; l = l->next)
      json_object_set_member(dst, l->data, ll_json_node_dup(json_object_get_member(src, l->data)));
  }
  if (!adopt(e, root, NULL)) {
    root = parse(text, NULL);
    if (root && !adopt(e, root, NULL))
      return;
  }
}

void ll_study_edit_undo(LlStudyEdit *e)
{
  if (!e->undo->len)
    return;
  char *text = g_ptr_array_steal_index(e->undo, e->undo->len - 1);
  g_ptr_array_add(e->redo, g_strdup(e->text));
  restore(e, text);
  g_free(text);
}

void ll_study_edit_redo(LlStudyEdit *e)
{
  if (!e->redo->len)
    return;
  char *text = g_ptr_array_steal_index(e->redo, e->redo->len - 1);
  g_ptr_array_add(e->undo, g_strdup(e->text));
  restore(e, text);
  g_free(text);
}

gint64 ll_study_edit_count_trials(const LlStudyEdit *e, GError **error)
{
  JsonObject *root = root_obj(e);
  if (json_object_has_member(root, "stages")) {
    JsonArray *st = json_object_get_array_member(root, "stages");
    gint64 n = 0;
    for (guint i = 0; i < json_array_get_length(st); i++) {
      JsonObject *o = json_array_get_object_element(st, i);
      JsonNode *rep = json_object_get_member(o, "repeat");
      n += rep && JSON_NODE_HOLDS_ARRAY(rep) ? json_array_get_length(json_node_get_array(rep)) : 1;
    }
    return n;
  }
  g_autoptr(LlStudy) s = ll_study_edit_load(e, error);
  if (!s)
    return -1;
  JsonObject *sw = json_object_get_object_member(root, "sweep");
  const char *mode = json_object_get_string_member_with_default(sw, "mode", "grid");
  gint64 trials = json_object_get_int_member_with_default(sw, "trials", 0);
  int n = ll_study_n_axes(s);
  if (n == 0)
    return 0;
  if (strcmp(mode, "grid"))
    return trials > 0 ? trials : 20;
  g_autofree LlAxis *axes = g_new0(LlAxis, n);
  for (int i = 0; i < n; i++)
    axes[i] = *ll_study_axis(s, i);
  gint64 grid = ll_search_grid_size(axes, n, error);
  if (grid < 0)
    return -1;
  return trials > 0 ? MIN(grid, trials) : grid;
}

/* ---- the whole study ---------------------------------------------------------------- */

gboolean ll_study_edit_is_sweep(const LlStudyEdit *e)
{
  return json_object_has_member(root_obj(e), "sweep");
}

/* The member at a dotted path ("stages.1.init_from"), numbers index arrays. */
static JsonNode *node_at(JsonNode *n, const char *path)
{
  g_auto(GStrv) parts = g_strsplit(path, ".", -1);
  for (int i = 0; n && parts[i]; i++) {
    if (JSON_NODE_HOLDS_OBJECT(n)) {
      n = json_object_get_member(json_node_get_object(n), parts[i]);
    } else if (JSON_NODE_HOLDS_ARRAY(n)) {
      char *end;
      guint64 k = g_ascii_strtoull(parts[i], &end, 10);
      JsonArray *a = json_node_get_array(n);
      n = *end || end == parts[i] || k >= json_array_get_length(a) ? NULL
                                                                   : json_array_get_element(a, k);
    } else {
      n = NULL;
    }
  }
  return n;
}

JsonNode *ll_study_edit_get(const LlStudyEdit *e, const char *path)
{
  return node_at(e->root, path);
}

gboolean ll_study_edit_set_name(LlStudyEdit *e, const char *name, GError **error)
{
  JsonNode *r = begin(e);
  json_object_set_string_member(json_node_get_object(r), "name", name);
  return commit(e, r, error);
}

gboolean ll_study_edit_set_metric(LlStudyEdit *e, const char *metric, gboolean maximize,
                                  GError **error)
{
  if (!metric || !*metric) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "the metric needs a name");
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *o = json_node_get_object(r);
  json_object_set_string_member(o, "metric", metric);
  json_object_set_string_member(o, "direction", maximize ? "maximize" : "minimize");
  return commit(e, r, error);
}

gboolean ll_study_edit_set_budget(LlStudyEdit *e, gint64 budget, const char *solve_width,
                                  GError **error)
{
  JsonNode *r = begin(e);
  JsonObject *o = json_node_get_object(r);
  if (budget <= 0) {
    json_object_remove_member(o, "param_budget");
    json_object_remove_member(o, "solve_width");
  } else {
    if (!solve_width || !*solve_width) {
      json_node_unref(r);
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "a parameter budget needs the width to solve (a path such as "
                  "graph.blocks.fc1.props.out_features)");
      return FALSE;
    }
    json_object_set_int_member(o, "param_budget", budget);
    json_object_set_string_member(o, "solve_width", solve_width);
  }
  return commit(e, r, error);
}

int ll_study_edit_repeats(const LlStudyEdit *e)
{
  return (int)json_object_get_int_member_with_default(root_obj(e), "repeats", 1);
}

gboolean ll_study_edit_set_repeats(LlStudyEdit *e, int repeats, GError **error)
{
  if (repeats < 1 || repeats > LL_STUDY_MAX_REPEATS) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "seeds per trial: 1 to %d",
                LL_STUDY_MAX_REPEATS);
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *o = json_node_get_object(r);
  if (repeats == 1)
    json_object_remove_member(o, "repeats"); /* as ll_study_to_json writes it */
  else
    json_object_set_int_member(o, "repeats", repeats);
  return commit(e, r, error);
}

/* ---- the base spec ------------------------------------------------------------------- */

char *ll_study_edit_spec_json(const LlStudyEdit *e, int stage)
{
  JsonNode *n = spec_node(root_obj(e), stage);
  return n ? render(n) : NULL;
}

gboolean ll_study_edit_set_spec_json(LlStudyEdit *e, int stage, const char *spec_json,
                                     GError **error)
{
  /* the spec must load and infer, as a trial's will */
  g_autoptr(LlSpec) loaded = ll_spec_load_data(spec_json, -1, "the canvas's spec", error);
  if (!loaded || !ll_graph_infer(loaded->graph, error))
    return FALSE;
  JsonNode *spec = parse(spec_json, error);
  if (!spec)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT(spec)) {
    json_node_unref(spec);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "a spec is a JSON object");
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *o = json_node_get_object(r);
  JsonObject *st = stage >= 0 ? stage_obj(o, stage) : NULL;
  if (st && json_object_has_member(st, "spec"))
    json_object_set_member(st, "spec", spec);
  else if (json_object_has_member(o, "spec") || !json_object_has_member(o, "stages"))
    json_object_set_member(o, "spec", spec);
  else if ((st = stage_obj(o, 0)))
    json_object_set_member(st, "spec", spec);
  else
    json_node_unref(spec);
  /* not an undoable study edit: the canvas's undo owns it */
  return adopt(e, r, error);
}

int ll_study_edit_spec_stage(const LlStudyEdit *e) { return e->spec_stage; }
void ll_study_edit_set_spec_stage(LlStudyEdit *e, int stage) { e->spec_stage = stage; }

/* ---- sweeps ------------------------------------------------------------------------- */

static JsonArray *axes_of(JsonObject *root)
{
  JsonObject *sw = json_object_has_member(root, "sweep")
                       ? json_object_get_object_member(root, "sweep")
                       : NULL;
  if (!sw)
    return NULL;
  if (!json_object_has_member(sw, "axes"))
    json_object_set_array_member(sw, "axes", json_array_new());
  return json_object_get_array_member(sw, "axes");
}

static JsonObject *axis_obj(JsonObject *root, int i)
{
  JsonArray *a = axes_of(root);
  return a && i >= 0 && (guint)i < json_array_get_length(a) ? json_array_get_object_element(a, i)
                                                            : NULL;
}

int ll_study_edit_n_axes(const LlStudyEdit *e)
{
  JsonArray *a = axes_of(root_obj(e));
  return a ? (int)json_array_get_length(a) : 0;
}

char *ll_study_edit_axis_path(const LlStudyEdit *e, int i)
{
  JsonObject *a = axis_obj(root_obj(e), i);
  return a ? g_strdup(json_object_get_string_member_with_default(a, "path", "")) : NULL;
}

static char *value_text(JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE)
    return g_strdup_printf("%.6g", json_node_get_double(n));
  return g_strstrip(ll_json_node_to_text(n, TRUE));
}

/* "v1, v2, ..." of a list of values (what parse_values reads back). */
static char *values_text(JsonArray *arr)
{
  GString *s = g_string_new(NULL);
  for (guint k = 0; k < json_array_get_length(arr); k++) {
    g_autofree char *t = value_text(json_array_get_element(arr, k));
    g_string_append_printf(s, "%s%s", k ? ", " : "", t);
  }
  return g_string_free(s, FALSE);
}

char *ll_study_edit_axis_values(const LlStudyEdit *e, int i)
{
  JsonObject *a = axis_obj(root_obj(e), i);
  if (!a)
    return NULL;
  JsonNode *v = json_object_get_member(a, "values");
  if (v && JSON_NODE_HOLDS_ARRAY(v))
    return values_text(json_node_get_array(v));
  return g_strdup_printf("%.6g..%.6g (%s)", json_object_get_double_member_with_default(a, "min", 0),
                         json_object_get_double_member_with_default(a, "max", 0),
                         json_object_get_string_member_with_default(a, "type", "uniform"));
}

/* "v1, v2, ..." as JSON values: each parsed as JSON, else a string. Commas
 * inside brackets or braces belong to the value ({"type": "sgd", "lr": 0.1}). */
static JsonArray *parse_values(const char *csv, GError **error)
{
  JsonArray *arr = json_array_new();
  int depth = 0;
  gboolean quoted = FALSE;
  const char *start = csv;
  for (const char *p = csv;; p++) {
    if (*p == '"' && (p == csv || p[-1] != '\\'))
      quoted = !quoted;
    else if (!quoted && (*p == '[' || *p == '{'))
      depth++;
    else if (!quoted && (*p == ']' || *p == '}'))
      depth--;
    if (*p && (*p != ',' || depth > 0 || quoted))
      continue;
    g_autofree char *item = g_strstrip(g_strndup(start, (gsize)(p - start)));
    if (*item) {
      g_autoptr(JsonParser) jp = json_parser_new();
      if (ll_json_parser_load(jp, item, -1, "value", NULL) && json_parser_get_root(jp))
        json_array_add_element(arr, ll_json_node_dup(json_parser_get_root(jp)));
      else
        json_array_add_string_element(arr, item);
    }
    if (!*p)
      break;
    start = p + 1;
  }
  if (json_array_get_length(arr) == 0) {
    json_array_unref(arr);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "an axis needs at least one value (\"v1, v2, ...\")");
    return NULL;
  }
  return arr;
}

static gboolean check_path(const char *path, GError **error)
{
  if (!path || !*path || strchr(path, ' ') || path[0] == '.' || g_str_has_suffix(path, ".")) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "an axis needs a path into the spec, such as training.optimizer.lr");
    return FALSE;
  }
  return TRUE;
}

/* A sweep's variants must load: trial 0 of the design is tried (ranges take
 * their low end), so an axis that names nothing is refused when it is made. */
static gboolean check_variant(JsonNode *root, GError **error)
{
  g_autofree char *text = render(root);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "study", ".", error);
  if (!s)
    return FALSE;
  int n = ll_study_n_axes(s);
  if (!n)
    return TRUE;
  g_autofree double *x = g_new0(double, n);
  for (int i = 0; i < n; i++)
    x[i] = ll_study_axis(s, i)->kind == LL_AXIS_VALUES ? 0 : ll_study_axis(s, i)->lo;
  g_autofree char *v = ll_study_variant_json(s, x, NULL, error);
  return v != NULL;
}

static gboolean commit_axes(LlStudyEdit *e, JsonNode *r, GError **error)
{
  if (!check_variant(r, error)) {
    json_node_unref(r);
    return FALSE;
  }
  return commit(e, r, error);
}

static gboolean need_sweep(JsonObject *root, GError **error)
{
  if (axes_of(root))
    return TRUE;
  g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
              "this study runs stages, not a sweep: axes belong to a sweep (New Study from "
              "this spec makes one)");
  return FALSE;
}

int ll_study_edit_add_axis(LlStudyEdit *e, const char *path, const char *values, GError **error)
{
  if (!check_path(path, error) || !need_sweep(root_obj(e), error))
    return -1;
  JsonArray *vals = parse_values(values, error);
  if (!vals)
    return -1;
  JsonNode *r = begin(e);
  JsonArray *axes = axes_of(json_node_get_object(r));
  int at = -1;
  for (guint k = 0; k < json_array_get_length(axes); k++)
    if (!g_strcmp0(json_object_get_string_member_with_default(
                       json_array_get_object_element(axes, k), "path", ""),
                   path))
      at = (int)k;
  JsonObject *a = json_object_new();
  json_object_set_string_member(a, "path", path);
  json_object_set_string_member(a, "type", "values");
  json_object_set_array_member(a, "values", vals);
  if (at >= 0) {
    JsonObject *old = json_array_get_object_element(axes, at);
    g_autoptr(GList) names = json_object_get_members(old);
    for (GList *l = names; l; l = l->next)
      json_object_remove_member(old, l->data);
    g_autoptr(GList) add = json_object_get_members(a);
    for (GList *l = add; l; l = l->next)
      json_object_set_member(old, l->data, ll_json_node_dup(json_object_get_member(a, l->data)));
    json_object_unref(a);
  } else {
    json_array_add_object_element(axes, a);
    at = (int)json_array_get_length(axes) - 1;
  }
  return commit_axes(e, r, error) ? at : -1;
}

static gboolean no_axis(int i, GError **error)
{
  g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "the sweep has no axis %d", i + 1);
  return FALSE;
}

gboolean ll_study_edit_set_axis_values(LlStudyEdit *e, int i, const char *values, GError **error)
{
  if (!axis_obj(root_obj(e), i))
    return no_axis(i, error);
  JsonArray *vals = parse_values(values, error);
  if (!vals)
    return FALSE;
  JsonNode *r = begin(e);
  JsonObject *a = axis_obj(json_node_get_object(r), i);
  json_object_remove_member(a, "min");
  json_object_remove_member(a, "max");
  json_object_set_string_member(a, "type", "values");
  json_object_set_array_member(a, "values", vals);
  return commit_axes(e, r, error);
}

gboolean ll_study_edit_set_axis_path(LlStudyEdit *e, int i, const char *path, GError **error)
{
  if (!axis_obj(root_obj(e), i))
    return no_axis(i, error);
  if (!check_path(path, error))
    return FALSE;
  JsonNode *r = begin(e);
  json_object_set_string_member(axis_obj(json_node_get_object(r), i), "path", path);
  return commit_axes(e, r, error);
}

static gboolean whole(double v) { return fabs(v) < 1e15 && v == floor(v); }

/* v to 3 significant digits (1e-4..1e-2 log in 4: 0.0001, 0.000464, 0.00215, 0.01). */
static double tidy(double v)
{
  if (v == 0 || !isfinite(v))
    return v;
  char buf[32];
  g_ascii_formatd(buf, sizeof buf, "%.3g", v);
  return g_ascii_strtod(buf, NULL);
}

gboolean ll_study_edit_set_axis_range(LlStudyEdit *e, int i, double lo, double hi,
                                      gboolean log_scale, int count, GError **error)
{
  if (!axis_obj(root_obj(e), i))
    return no_axis(i, error);
  if (!isfinite(lo) || !isfinite(hi) || hi < lo || (log_scale && lo <= 0) || count < 0 ||
      count > 1000 || count == 1) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "a range needs from <= to%s and a count of 2..1000 values (0: continuous, for "
                "random and TPE search)",
                log_scale ? ", from > 0 (log scale)" : "");
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *a = axis_obj(json_node_get_object(r), i);
  gboolean ints = whole(lo) && whole(hi);
  if (count == 0) {
    json_object_remove_member(a, "values");
    json_object_set_string_member(a, "type", log_scale ? "log-uniform" : ints ? "int" : "uniform");
    json_object_set_double_member(a, "min", lo);
    json_object_set_double_member(a, "max", hi);
  } else {
    JsonArray *vals = json_array_new();
    gint64 last = G_MININT64;
    for (int k = 0; k < count; k++) {
      double t = (double)k / (count - 1);
      double v = log_scale ? exp(log(lo) + t * (log(hi) - log(lo))) : lo + t * (hi - lo);
      if (ints) {
        gint64 iv = (gint64)llround(v);
        if (iv != last)
          json_array_add_int_element(vals, iv);
        last = iv;
      } else {
        json_array_add_double_element(vals, k == 0 ? lo : k == count - 1 ? hi : tidy(v));
      }
    }
    json_object_remove_member(a, "min");
    json_object_remove_member(a, "max");
    json_object_set_string_member(a, "type", "values");
    json_object_set_array_member(a, "values", vals);
  }
  return commit_axes(e, r, error);
}

gboolean ll_study_edit_remove_axis(LlStudyEdit *e, int i, GError **error)
{
  if (!axis_obj(root_obj(e), i))
    return no_axis(i, error);
  JsonNode *r = begin(e);
  json_array_remove_element(axes_of(json_node_get_object(r)), (guint)i);
  return commit(e, r, error);
}

gboolean ll_study_edit_set_search(LlStudyEdit *e, LlSearchMode mode, int trials, GError **error)
{
  if (!need_sweep(root_obj(e), error))
    return FALSE;
  if (trials < 0 || trials > 100000 || mode < LL_SEARCH_GRID || mode > LL_SEARCH_TPE) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "trials: 0..100000");
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *sw = json_object_get_object_member(json_node_get_object(r), "sweep");
  json_object_set_string_member(sw, "mode", ll_search_mode_names[mode]);
  json_object_set_int_member(sw, "trials", trials);
  return commit(e, r, error);
}

gboolean ll_study_edit_set_pruning(LlStudyEdit *e, int after_epochs, const char *metric,
                                   int min_trials, GError **error)
{
  if (!need_sweep(root_obj(e), error))
    return FALSE;
  JsonNode *r = begin(e);
  JsonObject *sw = json_object_get_object_member(json_node_get_object(r), "sweep");
  if (after_epochs <= 0) {
    json_object_remove_member(sw, "pruning");
  } else {
    JsonObject *p = json_object_new();
    json_object_set_int_member(p, "after_epochs", after_epochs);
    json_object_set_string_member(p, "metric", metric && *metric ? metric : "val_loss");
    json_object_set_int_member(p, "min_trials", MAX(min_trials, 1));
    json_object_set_object_member(sw, "pruning", p);
  }
  return commit(e, r, error);
}

char *ll_study_vary_values(const char *path, const char *current)
{
  const char *last = strrchr(path, '.');
  last = last ? last + 1 : path;
  if (!strcmp(last, "lr") || !strcmp(last, "max_lr"))
    return g_strdup("0.0001, 0.000464, 0.00215, 0.01");
  if (!strcmp(last, "weight_decay"))
    return g_strdup("0, 0.0001, 0.001, 0.01");
  if (!strcmp(last, "batch_size"))
    return g_strdup("32, 64, 128, 256");
  if (!strcmp(last, "epochs"))
    return g_strdup("5, 10, 20");
  if (!strcmp(last, "out_features") || !strcmp(last, "out_channels") ||
      !strcmp(last, "hidden_size") || !strcmp(last, "dim"))
    return g_strdup("32, 64, 128, 256");
  if (!strcmp(last, "type") && strstr(path, "graph.blocks."))
    return g_strdup("\"ReLU\", \"LeakyReLU\", \"ELU\", \"GELU\", \"Tanh\", \"Sigmoid\"");
  if (!strcmp(last, "type") && strstr(path, "optimizer"))
    return g_strdup("\"sgd\", \"adam\", \"adamw\", \"rmsprop\"");
  if (!strcmp(last, "p") || !strcmp(last, "dropout") || !strcmp(last, "cutout"))
    return g_strdup("0, 0.1, 0.25, 0.5");
  if (!strcmp(last, "kernel"))
    return g_strdup("3, 5, 7");
  if (!strcmp(last, "frozen"))
    return g_strdup("false, true");
  /* else: the value halved, as is and doubled (a number), or as is */
  g_autoptr(JsonParser) p = json_parser_new();
  if (current && ll_json_parser_load(p, current, -1, "value", NULL) && json_parser_get_root(p) &&
      JSON_NODE_HOLDS_VALUE(json_parser_get_root(p))) {
    JsonNode *n = json_parser_get_root(p);
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
      gint64 v = json_node_get_int(n);
      if (v >= 2)
        return g_strdup_printf("%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT,
                               v / 2, v, v * 2);
    } else if (t == G_TYPE_DOUBLE) {
      double v = json_node_get_double(n);
      char a[32], b[32], c[32];
      return g_strdup_printf("%s, %s, %s", g_ascii_formatd(a, sizeof a, "%.4g", v / 2),
                             g_ascii_formatd(b, sizeof b, "%.4g", v),
                             g_ascii_formatd(c, sizeof c, "%.4g", v * 2));
    } else if (t == G_TYPE_BOOLEAN) {
      return g_strdup("false, true");
    }
  }
  return g_strdup(current && *current ? current : "0");
}

/* ---- stages ------------------------------------------------------------------------- */

static JsonObject *stage_obj(JsonObject *root, int i)
{
  JsonArray *st = json_object_has_member(root, "stages")
                      ? json_object_get_array_member(root, "stages")
                      : NULL;
  return st && i >= 0 && (guint)i < json_array_get_length(st) ? json_array_get_object_element(st, i)
                                                              : NULL;
}

int ll_study_edit_n_stages(const LlStudyEdit *e)
{
  JsonObject *o = root_obj(e);
  return json_object_has_member(o, "stages")
             ? (int)json_array_get_length(json_object_get_array_member(o, "stages"))
             : 0;
}

char *ll_study_edit_stage_name(const LlStudyEdit *e, int i)
{
  JsonObject *s = stage_obj(root_obj(e), i);
  return s ? g_strdup(json_object_get_string_member_with_default(s, "name", "")) : NULL;
}

static gboolean no_stage(int i, GError **error)
{
  g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "the study has no stage %d", i + 1);
  return FALSE;
}

int ll_study_edit_add_stage(LlStudyEdit *e, const char *name, GError **error)
{
  JsonObject *o = root_obj(e);
  if (!json_object_has_member(o, "stages")) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "this study is a sweep: stages belong to a study of stages");
    return -1;
  }
  int n = ll_study_edit_n_stages(e);
  g_autofree char *auto_name = NULL;
  for (int k = n + 1; !name; k++) {
    g_free(auto_name);
    auto_name = g_strdup_printf("stage%d", k);
    gboolean taken = FALSE;
    for (int j = 0; j < n; j++) {
      g_autofree char *sn = ll_study_edit_stage_name(e, j);
      taken |= !g_strcmp0(sn, auto_name);
    }
    if (!taken)
      name = auto_name;
  }
  JsonNode *r = begin(e);
  JsonObject *ro = json_node_get_object(r);
  JsonObject *st = json_object_new();
  json_object_set_string_member(st, "name", name);
  /* no base spec: the new stage trains the last stage's spec */
  if (!json_object_has_member(ro, "spec") && n > 0) {
    JsonObject *prev = stage_obj(ro, n - 1);
    if (json_object_has_member(prev, "spec"))
      json_object_set_member(st, "spec",
                             ll_json_node_dup(json_object_get_member(prev, "spec")));
  }
  json_array_add_object_element(json_object_get_array_member(ro, "stages"), st);
  return commit(e, r, error) ? n : -1;
}

gboolean ll_study_edit_remove_stage(LlStudyEdit *e, int i, GError **error)
{
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  if (ll_study_edit_n_stages(e) == 1) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "a study of stages keeps one stage");
    return FALSE;
  }
  JsonNode *r = begin(e);
  json_array_remove_element(json_object_get_array_member(json_node_get_object(r), "stages"),
                            (guint)i);
  /* the loader names a later stage that loads from the removed one */
  return commit(e, r, error);
}

static JsonArray *names_array(const char *csv)
{
  JsonArray *a = json_array_new();
  g_auto(GStrv) parts = g_strsplit_set(csv ? csv : "", ", ", -1);
  for (int k = 0; parts[k]; k++)
    if (*parts[k])
      json_array_add_string_element(a, parts[k]);
  return a;
}

gboolean ll_study_edit_set_stage_init(LlStudyEdit *e, int i, const char *from_stage,
                                      const char *blocks, gboolean frozen, gboolean reinit,
                                      GError **error)
{
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  JsonNode *r = begin(e);
  JsonObject *st = stage_obj(json_node_get_object(r), i);
  JsonArray *names = names_array(blocks);
  if (!from_stage || !*from_stage) {
    json_object_remove_member(st, "init_from");
    json_object_remove_member(st, "frozen");
    json_array_unref(names);
    return commit(e, r, error);
  }
  if (json_array_get_length(names) == 0 && (frozen || reinit)) {
    json_array_unref(names);
    json_node_unref(r);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "name the blocks to take from \"%s\" to freeze or re-initialise them", from_stage);
    return FALSE;
  }
  /* The editor shows the first entry's stage, blocks and reinit; what it
   * does not show stays as written: its other members ("first": "$value",
   * a "map"), further entries, and the frozen object's "first". */
  JsonArray *old = json_object_has_member(st, "init_from") &&
                           JSON_NODE_HOLDS_ARRAY(json_object_get_member(st, "init_from"))
                       ? json_object_get_array_member(st, "init_from")
                       : NULL;
  JsonNode *first = old && json_array_get_length(old) ? json_array_get_element(old, 0) : NULL;
  JsonNode *fn;
  if (first && JSON_NODE_HOLDS_OBJECT(first)) {
    fn = ll_json_node_dup(first);
  } else {
    g_autoptr(JsonObject) empty = json_object_new();
    fn = json_node_init_object(json_node_alloc(), empty);
  }
  JsonObject *f = json_node_get_object(fn);
  json_object_set_string_member(f, "stage", from_stage);
  if (json_array_get_length(names))
    json_object_set_array_member(f, "blocks", json_array_ref(names));
  else
    json_object_remove_member(f, "blocks");
  if (reinit)
    json_object_set_boolean_member(f, "reinit", TRUE);
  else
    json_object_remove_member(f, "reinit");
  JsonArray *inits = json_array_new();
  json_array_add_element(inits, fn);
  for (guint k = 1; old && k < json_array_get_length(old); k++)
    json_array_add_element(inits, ll_json_node_dup(json_array_get_element(old, k)));
  json_object_set_array_member(st, "init_from", inits);
  JsonNode *fz = json_object_get_member(st, "frozen");
  if (frozen && fz && JSON_NODE_HOLDS_OBJECT(fz))
    json_object_set_array_member(json_node_get_object(fz), "blocks", json_array_ref(names));
  else if (frozen)
    json_object_set_array_member(st, "frozen", json_array_ref(names));
  else
    json_object_remove_member(st, "frozen");
  json_array_unref(names);
  return commit(e, r, error);
}

static char *join_names(JsonNode *n)
{
  if (!n || !JSON_NODE_HOLDS_ARRAY(n))
    return g_strdup("");
  GString *s = g_string_new(NULL);
  JsonArray *a = json_node_get_array(n);
  for (guint k = 0; k < json_array_get_length(a); k++) {
    JsonNode *x = json_array_get_element(a, k);
    if (JSON_NODE_HOLDS_VALUE(x) && json_node_get_value_type(x) == G_TYPE_STRING)
      g_string_append_printf(s, "%s%s", s->len ? ", " : "", json_node_get_string(x));
  }
  return g_string_free(s, FALSE);
}

void ll_study_edit_get_stage_init(const LlStudyEdit *e, int i, char **from_stage, char **blocks,
                                  gboolean *frozen, gboolean *reinit)
{
  *from_stage = NULL;
  *blocks = NULL;
  *frozen = *reinit = FALSE;
  JsonObject *st = stage_obj(root_obj(e), i);
  if (!st)
    return;
  JsonNode *in = json_object_get_member(st, "init_from");
  JsonObject *f = in && JSON_NODE_HOLDS_ARRAY(in) &&
                          json_array_get_length(json_node_get_array(in)) > 0
                      ? json_array_get_object_element(json_node_get_array(in), 0)
                      : NULL;
  if (!f)
    return;
  *from_stage = g_strdup(json_object_get_string_member_with_default(f, "stage", NULL));
  *blocks = join_names(json_object_get_member(f, "blocks"));
  *reinit = json_object_get_boolean_member_with_default(f, "reinit", FALSE);
  JsonNode *fz = json_object_get_member(st, "frozen");
  if (fz && JSON_NODE_HOLDS_OBJECT(fz))
    fz = json_object_get_member(json_node_get_object(fz), "blocks");
  *frozen = fz && JSON_NODE_HOLDS_ARRAY(fz) && json_array_get_length(json_node_get_array(fz)) > 0;
}

/* Sets an override of stage i (value taken; NULL removes it). */
static gboolean set_stage_override(LlStudyEdit *e, int i, const char *path, JsonNode *value,
                                   GError **error)
{
  if (!stage_obj(root_obj(e), i)) {
    if (value)
      json_node_unref(value);
    return no_stage(i, error);
  }
  JsonNode *r = begin(e);
  JsonObject *st = stage_obj(json_node_get_object(r), i);
  if (!json_object_has_member(st, "overrides"))
    json_object_set_object_member(st, "overrides", json_object_new());
  JsonObject *ov = json_object_get_object_member(st, "overrides");
  if (value)
    json_object_set_member(ov, path, value);
  else
    json_object_remove_member(ov, path);
  if (json_object_get_size(ov) == 0)
    json_object_remove_member(st, "overrides");
  return commit(e, r, error);
}

gboolean ll_study_edit_set_stage_dataset(LlStudyEdit *e, int i, const char *path, GError **error)
{
  return set_stage_override(e, i, "data.dataset.path",
                            path && *path ? json_node_init_string(json_node_alloc(), path) : NULL,
                            error);
}

gboolean ll_study_edit_set_stage_epochs(LlStudyEdit *e, int i, int epochs, GError **error)
{
  if (epochs < 0 || epochs > 100000) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "epochs: 1..100000 (0: the spec's)");
    return FALSE;
  }
  return set_stage_override(
      e, i, "training.epochs", epochs > 0 ? json_node_init_int(json_node_alloc(), epochs) : NULL,
      error);
}

/* The spec stage i trains (its own, else the study's), borrowed. */
static JsonNode *stage_spec(JsonObject *root, int i)
{
  JsonObject *st = stage_obj(root, i);
  if (st && json_object_has_member(st, "spec"))
    return json_object_get_member(st, "spec");
  return json_object_get_member(root, "spec");
}

gboolean ll_study_edit_set_stage_loss(LlStudyEdit *e, int i, const char *loss_type,
                                      GError **error)
{
  JsonNode *spec = stage_spec(root_obj(e), i);
  JsonNode *losses = spec ? node_at(spec, "losses") : NULL;
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  if (!losses || !JSON_NODE_HOLDS_ARRAY(losses) ||
      json_array_get_length(json_node_get_array(losses)) == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "stage %d's spec has no loss", i + 1);
    return FALSE;
  }
  if (!loss_type || !*loss_type)
    return set_stage_override(e, i, "losses", NULL, error);
  JsonNode *copy = ll_json_node_dup(losses);
  JsonObject *first = json_array_get_object_element(json_node_get_array(copy), 0);
  if (first)
    json_object_set_string_member(first, "type", loss_type);
  return set_stage_override(e, i, "losses", copy, error);
}

JsonNode *ll_study_edit_stage_value(const LlStudyEdit *e, int i, const char *spec_path)
{
  JsonObject *st = stage_obj(root_obj(e), i);
  if (!st)
    return NULL;
  JsonNode *ov = json_object_get_member(st, "overrides");
  if (ov && JSON_NODE_HOLDS_OBJECT(ov) &&
      json_object_has_member(json_node_get_object(ov), spec_path))
    return json_object_get_member(json_node_get_object(ov), spec_path);
  JsonNode *spec = stage_spec(root_obj(e), i);
  return spec ? node_at(spec, spec_path) : NULL;
}

/* ---- a stage's repeat, best_of and metric ---------------------------------------------- */

static gboolean is_value_placeholder(JsonNode *n)
{
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
         !strcmp(json_node_get_string(n), "$value");
}

/* The first override of a stage whose value is "$value" (borrowed), or NULL. */
static const char *value_override(JsonObject *st)
{
  JsonNode *ov = json_object_get_member(st, "overrides");
  if (!ov || !JSON_NODE_HOLDS_OBJECT(ov))
    return NULL;
  const char *found = NULL;
  g_autoptr(GList) names = json_object_get_members(json_node_get_object(ov));
  for (GList *l = names; l && !found; l = l->next)
    if (is_value_placeholder(json_object_get_member(json_node_get_object(ov), l->data)))
      found = l->data;
  return found;
}

void ll_study_edit_get_stage_repeat(const LlStudyEdit *e, int i, char **values, char **path)
{
  JsonObject *st = stage_obj(root_obj(e), i);
  JsonNode *rep = st ? json_object_get_member(st, "repeat") : NULL;
  *values = rep && JSON_NODE_HOLDS_ARRAY(rep) ? values_text(json_node_get_array(rep)) : g_strdup("");
  const char *p = st ? value_override(st) : NULL;
  *path = g_strdup(p ? p : "");
}

gboolean ll_study_edit_set_stage_repeat(LlStudyEdit *e, int i, const char *values,
                                        const char *path, GError **error)
{
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  g_autofree char *trimmed = g_strstrip(g_strdup(values ? values : ""));
  gboolean none = !*trimmed;
  if (!none && path && *path && !check_path(path, error))
    return FALSE;
  JsonArray *vals = none ? NULL : parse_values(values, error);
  if (!none && !vals)
    return FALSE;
  JsonNode *r = begin(e);
  JsonObject *st = stage_obj(json_node_get_object(r), i);
  /* the override the value set before goes (the new path, if any, takes its place) */
  const char *old = value_override(st);
  if (old && (none || g_strcmp0(old, path))) {
    JsonObject *ov = json_object_get_object_member(st, "overrides");
    json_object_remove_member(ov, old);
    if (json_object_get_size(ov) == 0)
      json_object_remove_member(st, "overrides");
  }
  if (none) {
    json_object_remove_member(st, "repeat");
    return commit(e, r, error);
  }
  json_object_set_array_member(st, "repeat", vals);
  if (path && *path) {
    if (!json_object_has_member(st, "overrides"))
      json_object_set_object_member(st, "overrides", json_object_new());
    json_object_set_string_member(json_object_get_object_member(st, "overrides"), path, "$value");
    /* the path must name something the stage's spec takes: try the first value */
    JsonNode *spec = stage_spec(json_node_get_object(r), i);
    g_autofree char *spec_text = spec ? render(spec) : NULL;
    g_autofree char *tried =
        spec_text ? ll_spec_json_override(spec_text, path, json_array_get_element(vals, 0), error)
                  : NULL;
    g_autoptr(LlSpec) loaded = tried ? ll_spec_load_data(tried, -1, path, error) : NULL;
    if (spec_text && !loaded) {
      json_node_unref(r);
      return FALSE;
    }
  }
  return commit(e, r, error);
}

gboolean ll_study_edit_set_stage_best_of(LlStudyEdit *e, int i, const char *stage, GError **error)
{
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  gboolean earlier = FALSE;
  for (int k = 0; k < i && stage && *stage; k++) {
    g_autofree char *n = ll_study_edit_stage_name(e, k);
    earlier |= !g_strcmp0(n, stage);
  }
  if (stage && *stage && !earlier) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "best_of: \"%s\" is not an earlier stage of this one", stage);
    return FALSE;
  }
  JsonNode *r = begin(e);
  JsonObject *st = stage_obj(json_node_get_object(r), i);
  if (stage && *stage)
    json_object_set_string_member(st, "best_of", stage);
  else
    json_object_remove_member(st, "best_of");
  return commit(e, r, error);
}

gboolean ll_study_edit_set_stage_metric(LlStudyEdit *e, int i, const char *metric,
                                        GError **error)
{
  if (!stage_obj(root_obj(e), i))
    return no_stage(i, error);
  JsonNode *r = begin(e);
  JsonObject *st = stage_obj(json_node_get_object(r), i);
  g_autofree char *m = g_strstrip(g_strdup(metric ? metric : ""));
  if (*m)
    json_object_set_string_member(st, "metric", m);
  else
    json_object_remove_member(st, "metric");
  return commit(e, r, error);
}

/* ---- what the editor has no control for ------------------------------------------------ */

static void add_field(GPtrArray *out, const char *name)
{
  if (!g_ptr_array_find_with_equal_func(out, name, g_str_equal, NULL))
    g_ptr_array_add(out, g_strdup(name));
}

char **ll_study_edit_fixed_fields(const LlStudyEdit *e, int i)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  JsonObject *root = root_obj(e);
  if (i < 0) {
    static const char *const top[] = {"overrides", "groups", NULL};
    for (int k = 0; top[k]; k++) {
      JsonNode *n = json_object_get_member(root, top[k]);
      gboolean empty = !n || JSON_NODE_HOLDS_NULL(n) ||
                       (JSON_NODE_HOLDS_OBJECT(n) && !json_object_get_size(json_node_get_object(n)));
      if (!empty)
        add_field(out, top[k]);
    }
    if (!json_object_has_member(root, "sweep") && json_object_has_member(root, "param_budget"))
      add_field(out, "param_budget");
  } else {
    JsonObject *st = stage_obj(root, i);
    if (!st)
      return NULL;
    static const char *const fixed[] = {"param_budget", "solve_width", "export_embeddings",
                                        "export_outputs", NULL};
    for (int k = 0; fixed[k]; k++)
      if (json_object_has_member(st, fixed[k]))
        add_field(out, fixed[k]);
    /* overrides: the editor sets epochs, the dataset, the loss and the repeat's path */
    JsonNode *ov = json_object_get_member(st, "overrides");
    const char *vpath = value_override(st);
    if (ov && JSON_NODE_HOLDS_OBJECT(ov)) {
      static const char *const shown[] = {"training.epochs", "data.dataset.path", "losses", NULL};
      g_autoptr(GList) names = json_object_get_members(json_node_get_object(ov));
      for (GList *l = names; l; l = l->next) {
        if (g_strv_contains(shown, l->data) || !g_strcmp0(l->data, vpath))
          continue;
        g_autofree char *f = g_strdup_printf("overrides.%s", (char *)l->data);
        add_field(out, f);
      }
    }
    /* init_from: the first entry's stage, blocks and reinit */
    JsonNode *in = json_object_get_member(st, "init_from");
    JsonArray *ins = in && JSON_NODE_HOLDS_ARRAY(in) ? json_node_get_array(in) : NULL;
    for (guint k = 0; ins && k < json_array_get_length(ins); k++) {
      JsonObject *f = json_array_get_object_element(ins, k);
      if (k > 0) {
        g_autofree char *name = g_strdup_printf("init_from[%u]", k);
        add_field(out, name);
        continue;
      }
      g_autoptr(GList) names = f ? json_object_get_members(f) : NULL;
      for (GList *l = names; l; l = l->next) {
        static const char *const shown[] = {"stage", "blocks", "reinit", NULL};
        if (g_strv_contains(shown, l->data))
          continue;
        g_autofree char *name = g_strdup_printf("init_from.%s", (char *)l->data);
        add_field(out, name);
      }
    }
    JsonNode *fz = json_object_get_member(st, "frozen");
    if (fz && JSON_NODE_HOLDS_OBJECT(fz) && json_object_has_member(json_node_get_object(fz), "first"))
      add_field(out, "frozen.first");
  }
  if (!out->len)
    return NULL;
  g_ptr_array_add(out, NULL);
  return (char **)g_ptr_array_steal(out, NULL);
}
