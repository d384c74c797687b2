/* study.c: loading a study, making its variants, running its trials and
 * writing the study folder. */
#include "study.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "block-output-export.h"
#include "json-writer.h"
#include "untrusted.h"

const char *const ll_trial_status_names[] = {"pending", "finished", "pruned", "failed", NULL};

struct LlStudy {
  char *name, *description, *file, *base_dir;
  JsonNode *spec;        /* the base spec (inlined) */
  JsonObject *overrides; /* path -> value for every trial, may be NULL */
  JsonObject *groups;    /* name -> {"blocks": [...], "repeat": n}, may be NULL */
  gint64 param_budget;
  char *solve_width;
  char *metric;
  gboolean maximize;
  uint64_t seed;
  int repeats;       /* each trial over this many seeds */
  GPtrArray *stages; /* JsonObject* (stage objects, specs inlined); NULL for a sweep */
  /* sweep */
  GArray *axes; /* LlAxis */
  LlSearchMode mode;
  int trials;
  int prune_after; /* 0: no pruning */
  int prune_min_trials;
  char *prune_metric;
  /* after ll_study_run */
  char *id, *dir;
  GPtrArray *done; /* LlTrial* */
  int best;
};

void ll_trial_free(LlTrial *t)
{
  if (!t)
    return;
  g_free(t->key);
  g_free(t->stage);
  g_free(t->label);
  if (t->values)
    json_object_unref(t->values);
  if (t->metrics)
    json_object_unref(t->metrics);
  if (t->curve)
    g_array_unref(t->curve);
  g_free(t->run_id);
  g_free(t->error);
  g_free(t->checkpoint);
  g_free(t->x);
  if (t->overrides)
    json_object_unref(t->overrides);
  g_free(t->spec_json);
  g_free(t);
}

#define trial_free ll_trial_free

static LlTrial *trial_new(void)
{
  LlTrial *t = g_new0(LlTrial, 1);
  t->values = json_object_new();
  t->metrics = json_object_new();
  t->overrides = json_object_new();
  t->curve = g_array_new(FALSE, FALSE, sizeof(double));
  t->metric = NAN;
  t->seed = -1;
  return t;
}

static JsonObject *object_dup(JsonObject *o)
{
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  g_autoptr(JsonNode) d = ll_json_node_dup(n);
  return json_object_ref(json_node_get_object(d));
}

LlTrial *ll_trial_copy(const LlTrial *t, int n_axes)
{
  LlTrial *c = g_new0(LlTrial, 1);
  *c = *t;
  c->key = g_strdup(t->key);
  c->stage = g_strdup(t->stage);
  c->label = g_strdup(t->label);
  c->run_id = g_strdup(t->run_id);
  c->error = g_strdup(t->error);
  c->checkpoint = g_strdup(t->checkpoint);
  c->spec_json = g_strdup(t->spec_json);
  c->values = t->values ? object_dup(t->values) : json_object_new();
  c->metrics = t->metrics ? object_dup(t->metrics) : json_object_new();
  c->overrides = t->overrides ? object_dup(t->overrides) : json_object_new();
  c->curve = g_array_new(FALSE, FALSE, sizeof(double));
  if (t->curve)
    g_array_append_vals(c->curve, t->curve->data, t->curve->len);
  c->x = t->x && n_axes > 0 ? g_memdup2(t->x, sizeof(double) * (gsize)n_axes) : NULL;
  return c;
}

static void axis_clear(LlAxis *a)
{
  g_free(a->path);
  if (a->values)
    g_ptr_array_unref(a->values);
}

void ll_study_free(LlStudy *s)
{
  if (!s)
    return;
  g_free(s->name);
  g_free(s->description);
  g_free(s->file);
  g_free(s->base_dir);
  if (s->spec)
    json_node_unref(s->spec);
  if (s->overrides)
    json_object_unref(s->overrides);
  if (s->groups)
    json_object_unref(s->groups);
  g_free(s->solve_width);
  g_free(s->metric);
  if (s->stages)
    g_ptr_array_unref(s->stages);
  for (guint i = 0; i < s->axes->len; i++)
    axis_clear(&g_array_index(s->axes, LlAxis, i));
  g_array_unref(s->axes);
  g_free(s->prune_metric);
  g_free(s->id);
  g_free(s->dir);
  if (s->done)
    g_ptr_array_unref(s->done);
  g_free(s);
}

static LlStudy *study_new(void)
{
  LlStudy *s = g_new0(LlStudy, 1);
  s->axes = g_array_new(FALSE, TRUE, sizeof(LlAxis));
  s->metric = g_strdup("test_accuracy");
  s->maximize = TRUE;
  s->seed = 1;
  s->repeats = 1;
  s->prune_min_trials = 3;
  s->best = -1;
  s->done = g_ptr_array_new_with_free_func((GDestroyNotify)trial_free);
  return s;
}

#define node_dup ll_json_node_dup

static const char *str_member(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

/* ---- loading ----------------------------------------------------------------------- */

static JsonNode *load_spec_node(const LlJsonDoc *doc, JsonObject *o, const char *where,
                                const char *base_dir, GError **error)
{
  JsonNode *n = json_object_get_member(o, "spec");
  if (!n)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT(n))
    return node_dup(n);
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "spec",
                      "%s.spec: expected a path or an inline spec object", where);
    return NULL;
  }
  const char *p = json_node_get_string(n);
  g_autofree char *path = g_path_is_absolute(p) ? g_strdup(p) : g_build_filename(base_dir, p, NULL);
  g_autoptr(GError) lerr = NULL;
  /* validate it as a spec: its errors name its own file and line */
  g_autoptr(LlSpec) spec = ll_spec_load_file(path, &lerr);
  if (!spec) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "spec", "%s.spec: %s", where,
                      lerr->message);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!ll_json_parser_load_file(parser, path, error))
    return NULL;
  return node_dup(json_parser_get_root(parser));
}

static gboolean parse_axis(const LlJsonDoc *doc, JsonObject *o, guint i, LlAxis *a, GError **error)
{
  static const char *const known[] = {"path", "values", "type", "min", "max", NULL};
  g_autofree char *w = g_strdup_printf("sweep.axes[%u]", i);
  static const char *const types[] = {"values", "uniform", "log-uniform", "int", "choice", NULL};
  int type;
  if (!ll_json_check_members(doc, o, w, known, error) ||
      !ll_json_get_string(doc, o, w, "path", NULL, &a->path, error))
    return FALSE;
  if (!a->path) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, NULL, "%s: needs a \"path\"", w);
    return FALSE;
  }
  gboolean has_values = json_object_has_member(o, "values");
  if (!ll_json_get_choice(doc, o, w, "type", types, has_values ? 0 : 1, &type, error))
    return FALSE;
  if (type == 0 || type == 4) {
    JsonArray *arr = NULL;
    if (!ll_json_get_array(doc, o, w, "values", &arr, error))
      return FALSE;
    if (!arr || json_array_get_length(arr) == 0) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, NULL, "%s (%s): needs \"values\"", w,
                        a->path);
      return FALSE;
    }
    a->kind = LL_AXIS_VALUES;
    a->values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    for (guint k = 0; k < json_array_get_length(arr); k++)
      g_ptr_array_add(a->values, node_dup(json_array_get_element(arr, k)));
    return TRUE;
  }
  a->kind = type == 1 ? LL_AXIS_UNIFORM : type == 2 ? LL_AXIS_LOG_UNIFORM : LL_AXIS_INT;
  if (!json_object_has_member(o, "min") || !json_object_has_member(o, "max")) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, NULL,
                      "%s (%s): needs \"min\" and "
                      "\"max\"",
                      w, a->path);
    return FALSE;
  }
  if (!ll_json_get_double(doc, o, w, "min", 0, -1e300, 1e300, &a->lo, error) ||
      !ll_json_get_double(doc, o, w, "max", 0, -1e300, 1e300, &a->hi, error))
    return FALSE;
  if (a->hi < a->lo || (a->kind == LL_AXIS_LOG_UNIFORM && a->lo <= 0)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "min", "%s (%s): needs min <= max%s", w,
                      a->path, a->kind == LL_AXIS_LOG_UNIFORM ? " and min > 0 (log scale)" : "");
    return FALSE;
  }
  return TRUE;
}

static gboolean parse_sweep(LlStudy *s, const LlJsonDoc *doc, JsonObject *o, GError **error)
{
  static const char *const known[] = {"mode", "trials", "axes", "pruning", NULL};
  int mode;
  gint64 v;
  JsonArray *axes = NULL;
  JsonObject *prune = NULL;
  if (!ll_json_check_members(doc, o, "sweep", known, error) ||
      !ll_json_get_choice(doc, o, "sweep", "mode", ll_search_mode_names, 0, &mode, error) ||
      !ll_json_get_int(doc, o, "sweep", "trials", 0, 0, 100000, &v, error) ||
      !ll_json_get_array(doc, o, "sweep", "axes", &axes, error) ||
      !ll_json_get_object(doc, o, "sweep", "pruning", &prune, error))
    return FALSE;
  s->mode = mode;
  s->trials = (int)v;
  for (guint i = 0; axes && i < json_array_get_length(axes); i++) {
    JsonObject *ao = json_array_get_object_element(axes, i);
    if (!ao) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "axes",
                        "sweep.axes[%u]: expected an "
                        "object",
                        i);
      return FALSE;
    }
    LlAxis a = {0};
    if (!parse_axis(doc, ao, i, &a, error)) {
      axis_clear(&a);
      return FALSE;
    }
    g_array_append_val(s->axes, a);
  }
  if (prune) {
    static const char *const pk[] = {"after_epochs", "metric", "min_trials", NULL};
    if (!ll_json_check_members(doc, prune, "sweep.pruning", pk, error) ||
        !ll_json_get_int(doc, prune, "sweep.pruning", "after_epochs", 1, 1, 100000, &v, error))
      return FALSE;
    s->prune_after = (int)v;
    if (!ll_json_get_int(doc, prune, "sweep.pruning", "min_trials", 3, 1, 100000, &v, error) ||
        !ll_json_get_string(doc, prune, "sweep.pruning", "metric", "val_loss", &s->prune_metric,
                            error))
      return FALSE;
    s->prune_min_trials = (int)v;
  }
  return TRUE;
}

/* The files of the study folder itself, which no export may replace. */
static const char *const study_own_files[] = {
    "study.json",  "trials.jsonl",   "trials.jsonl.resumed",
    "results.csv", "best-spec.json", "figures",
    NULL};

/* A path a stage writes to: inside the study folder, and none of its own
 * files. Checked when the study loads (lexically: the folder does not exist
 * yet) and again when the file is written (ll_path_inside: links). */
static gboolean check_export_path(const char *rel, const char *what, GError **error)
{
  if (!ll_path_check_relative(rel, what, error))
    return FALSE;
  g_auto(GStrv) parts = g_strsplit(rel, G_DIR_SEPARATOR_S, -1);
  int first = 0;
  while (parts[first] && (!*parts[first] || !strcmp(parts[first], ".")))
    first++;
  if (!parts[first] || g_strv_contains(study_own_files, parts[first])) {
    g_autofree char *shown = ll_excerpt(rel, -1);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "%s: \"%s\" would replace the study folder's own %s", what, shown,
                parts[first] ? parts[first] : "folder");
    return FALSE;
  }
  return TRUE;
}

/* The string "$value" of a stage with "repeat" stands for any JSON value. */
static gboolean is_placeholder(JsonObject *o, const char *member)
{
  return !g_strcmp0(str_member(o, member), "$value");
}

/* export_embeddings / export_outputs of a stage: an object of known fields
 * of the right types, with a block, writing inside the study folder. */
static gboolean parse_export(const LlJsonDoc *doc, JsonObject *stage, const char *w,
                             const char *member, GError **error)
{
  static const char *const emb_known[] = {"block", "path", NULL};
  static const char *const out_known[] = {"block", "target", "samples", "sigmoid", "path", NULL};
  gboolean outputs = !strcmp(member, "export_outputs");
  JsonObject *e = NULL;
  if (!ll_json_get_object(doc, stage, w, member, &e, error))
    return FALSE;
  if (!e)
    return TRUE;
  g_autofree char *where = g_strdup_printf("%s.%s", w, member);
  g_autofree char *block = NULL, *path = NULL, *target = NULL;
  gint64 samples;
  gboolean sigmoid;
  if (!ll_json_check_members(doc, e, where, outputs ? out_known : emb_known, error) ||
      !ll_json_get_string(doc, e, where, "block", NULL, &block, error) ||
      !ll_json_get_string(doc, e, where, "path", NULL, &path, error) ||
      !ll_json_get_string(doc, e, where, "target", NULL, &target, error) ||
      (!is_placeholder(e, "samples") &&
       !ll_json_get_int(doc, e, where, "samples", 8, 1, 1000000, &samples, error)) ||
      (!is_placeholder(e, "sigmoid") &&
       !ll_json_get_bool(doc, e, where, "sigmoid", FALSE, &sigmoid, error)))
    return FALSE;
  if (!block) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, e, NULL, "%s: needs a \"block\"", where);
    return FALSE;
  }
  g_autoptr(GError) perr = NULL;
  g_autofree char *what = g_strdup_printf("%s.path", where);
  if (path && !check_export_path(path, what, &perr)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, e, "path", "%s", perr->message);
    return FALSE;
  }
  return TRUE;
}

/* The members of a stage that hold containers have the right JSON types
 * (json-glib's getters would only warn and give NULL). */
static gboolean check_stage_types(const LlJsonDoc *doc, JsonObject *o, const char *w,
                                  GError **error)
{
  JsonObject *obj;
  JsonArray *arr;
  g_autofree char *metric = NULL, *best_of = NULL, *width = NULL, *descr = NULL;
  gint64 budget;
  if (!ll_json_get_object(doc, o, w, "overrides", &obj, error) ||
      !ll_json_get_array(doc, o, w, "repeat", &arr, error) ||
      !ll_json_get_array(doc, o, w, "init_from", &arr, error) ||
      !ll_json_get_string(doc, o, w, "metric", NULL, &metric, error) ||
      !ll_json_get_string(doc, o, w, "best_of", NULL, &best_of, error) ||
      !ll_json_get_string(doc, o, w, "solve_width", NULL, &width, error) ||
      !ll_json_get_string(doc, o, w, "description", NULL, &descr, error) ||
      !ll_json_get_int(doc, o, w, "param_budget", 0, 0, G_MAXINT64, &budget, error) ||
      !parse_export(doc, o, w, "export_embeddings", error) ||
      !parse_export(doc, o, w, "export_outputs", error))
    return FALSE;
  for (guint k = 0; arr && k < json_array_get_length(arr); k++)
    if (!JSON_NODE_HOLDS_OBJECT(json_array_get_element(arr, k))) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "init_from",
                        "%s.init_from[%u]: expected an object, got %s", w, k,
                        ll_json_type_name(json_array_get_element(arr, k)));
      return FALSE;
    }
  JsonNode *fz = json_object_get_member(o, "frozen");
  if (fz && !JSON_NODE_HOLDS_ARRAY(fz) && !JSON_NODE_HOLDS_OBJECT(fz)) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, o, "frozen",
                      "%s.frozen: expected [block names] or {\"blocks\": [...], \"first\": N}, "
                      "got %s",
                      w, ll_json_type_name(fz));
    return FALSE;
  }
  return TRUE;
}

static gboolean parse_stages(LlStudy *s, const LlJsonDoc *doc, JsonArray *arr, GError **error)
{
  static const char *const known[] = {"name",
                                      "description",
                                      "spec",
                                      "overrides",
                                      "init_from",
                                      "frozen",
                                      "repeat",
                                      "param_budget",
                                      "solve_width",
                                      "metric",
                                      "export_embeddings",
                                      "export_outputs",
                                      "best_of",
                                      NULL};
  s->stages = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < json_array_get_length(arr); i++) {
    JsonObject *o = json_array_get_object_element(arr, i);
    g_autofree char *w = g_strdup_printf("stages[%u]", i);
    if (!o) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "%s: %s: expected an object", doc->file,
                  w);
      return FALSE;
    }
    g_autofree char *name = NULL;
    if (!ll_json_check_members(doc, o, w, known, error) ||
        !ll_json_get_string(doc, o, w, "name", NULL, &name, error) ||
        !check_stage_types(doc, o, w, error))
      return FALSE;
    if (!name || g_hash_table_contains(names, name)) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "name",
                        "%s: every stage needs a unique \"name\"", w);
      return FALSE;
    }
    g_hash_table_add(names, (gpointer)json_object_get_string_member(o, "name"));
    /* references to stages must point backwards */
    JsonArray *inits = json_object_has_member(o, "init_from")
                           ? json_object_get_array_member(o, "init_from")
                           : NULL;
    for (guint k = 0; inits && k < json_array_get_length(inits); k++) {
      JsonObject *f = json_array_get_object_element(inits, k);
      const char *ref = f ? str_member(f, "stage") : NULL;
      if (ref && (!g_hash_table_contains(names, ref) || !strcmp(ref, name))) {
        g_autofree char *shown = ll_excerpt(ref, -1);
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, f, "stage",
                          "%s.init_from[%u].stage: \"%s\" is not an earlier stage", w, k, shown);
        return FALSE;
      }
    }
    /* best_of names an earlier stage, whose best trial it waits for */
    const char *best_of = str_member(o, "best_of");
    if (best_of && (!g_hash_table_contains(names, best_of) || !strcmp(best_of, name))) {
      g_autofree char *shown = ll_excerpt(best_of, -1);
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "best_of",
                        "%s.best_of: \"%s\" is not an earlier stage", w, shown);
      return FALSE;
    }
    JsonNode *dup = node_dup(json_array_get_element(arr, i));
    JsonObject *copy = json_object_ref(json_node_get_object(dup));
    json_node_unref(dup);
    g_autoptr(GError) serr = NULL;
    JsonNode *spec = load_spec_node(doc, o, w, s->base_dir, &serr);
    if (serr) {
      json_object_unref(copy);
      g_propagate_error(error, g_steal_pointer(&serr));
      return FALSE;
    }
    if (spec)
      json_object_set_member(copy, "spec", spec);
    g_ptr_array_add(s->stages, copy);
  }
  if (s->stages->len == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING, "%s: \"stages\" is empty", doc->file);
    return FALSE;
  }
  return TRUE;
}

/* groups: name -> {"blocks": [names in chain order], "repeat": n}. */
static gboolean check_groups(const LlJsonDoc *doc, JsonObject *groups, GError **error)
{
  static const char *const known[] = {"blocks", "repeat", NULL};
  g_autoptr(GList) names = json_object_get_members(groups);
  for (GList *l = names; l; l = l->next) {
    g_autofree char *w = g_strdup_printf("groups.%s", (char *)l->data);
    JsonObject *g = NULL;
    JsonArray *bl = NULL;
    gint64 repeat;
    if (!ll_json_get_object(doc, groups, "groups", l->data, &g, error) ||
        !ll_json_check_members(doc, g, w, known, error) ||
        !ll_json_get_array(doc, g, w, "blocks", &bl, error) ||
        (!is_placeholder(g, "repeat") &&
         !ll_json_get_int(doc, g, w, "repeat", 1, 0, 64, &repeat, error)))
      return FALSE;
    if (!bl || json_array_get_length(bl) == 0) {
      ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, groups, l->data,
                        "%s: expected {\"blocks\": [names in chain order], \"repeat\": n}", w);
      return FALSE;
    }
    for (guint k = 0; k < json_array_get_length(bl); k++) {
      JsonNode *n = json_array_get_element(bl, k);
      if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        ll_json_doc_error(doc, error, LL_SPEC_ERROR_TYPE, g, "blocks",
                          "%s.blocks[%u]: expected a block name, got %s", w, k,
                          ll_json_type_name(n));
        return FALSE;
      }
    }
  }
  return TRUE;
}

LlStudy *ll_study_load_data(const char *data, gssize len, const char *display_name,
                            const char *base_dir, GError **error)
{
  g_autoptr(LlJsonDoc) doc = ll_json_doc_load_data(data, len, display_name, error);
  if (!doc)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(doc->root)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "%s: a study is a JSON object",
                display_name);
    return NULL;
  }
  JsonObject *o = json_node_get_object(doc->root);
  static const char *const known[] = {
      "format",       "version",     "name",   "description", "spec",
      "metric",       "direction",   "seed",   "overrides",   "groups",
      "param_budget", "solve_width", "stages", "sweep",       "repeats",
      NULL};
  g_autoptr(LlStudy) s = study_new();
  s->base_dir = g_strdup(base_dir ? base_dir : ".");
  s->file = g_strdup(display_name);
  g_autofree char *format = NULL, *direction = NULL;
  gint64 v;
  if (!ll_json_check_members(doc, o, "study", known, error) ||
      !ll_json_get_string(doc, o, "study", "format", NULL, &format, error))
    return NULL;
  if (g_strcmp0(format, LL_STUDY_FORMAT)) {
    g_autofree char *shown = ll_excerpt(format ? format : "(none)", -1);
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "format",
                      "format: expected \"%s\", got \"%s\"", LL_STUDY_FORMAT, shown);
    return NULL;
  }
  if (!ll_json_get_int(doc, o, "study", "version", 1, 1, G_MAXINT, &v, error))
    return NULL;
  if (v > LL_STUDY_VERSION) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VERSION, o, "version",
                      "version %" G_GINT64_FORMAT " is newer than this LayerLab reads (%d)", v,
                      LL_STUDY_VERSION);
    return NULL;
  }
  g_clear_pointer(&s->metric, g_free);
  if (!ll_json_get_string(doc, o, "study", "name", "study", &s->name, error) ||
      !ll_json_get_string(doc, o, "study", "description", "", &s->description, error) ||
      !ll_json_get_string(doc, o, "study", "metric", "test_accuracy", &s->metric, error) ||
      !ll_json_get_string(doc, o, "study", "direction", NULL, &direction, error) ||
      !ll_json_get_int(doc, o, "study", "seed", 1, 0, G_MAXINT64, &v, error))
    return NULL;
  s->seed = (uint64_t)v;
  if (!ll_json_get_int(doc, o, "study", "repeats", 1, 1, LL_STUDY_MAX_REPEATS, &v, error))
    return NULL;
  s->repeats = (int)v;
  if (direction && strcmp(direction, "maximize") && strcmp(direction, "minimize")) {
    g_autofree char *shown = ll_excerpt(direction, -1);
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_VALUE, o, "direction",
                      "direction: \"maximize\" or \"minimize\", not \"%s\"", shown);
    return NULL;
  }
  s->maximize = direction ? !strcmp(direction, "maximize") : ll_metric_higher_is_better(s->metric);
  JsonObject *ov = NULL, *groups = NULL;
  if (!ll_json_get_object(doc, o, "study", "overrides", &ov, error) ||
      !ll_json_get_object(doc, o, "study", "groups", &groups, error) ||
      !ll_json_get_int(doc, o, "study", "param_budget", 0, 0, G_MAXINT64, &s->param_budget,
                       error) ||
      !ll_json_get_string(doc, o, "study", "solve_width", NULL, &s->solve_width, error))
    return NULL;
  if (s->param_budget && !s->solve_width) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, "param_budget",
                      "param_budget needs \"solve_width\": the width property to solve for");
    return NULL;
  }
  if (ov)
    s->overrides = json_object_ref(ov);
  if (groups) {
    if (!check_groups(doc, groups, error))
      return NULL;
    s->groups = json_object_ref(groups);
  }
  g_autoptr(GError) serr = NULL;
  s->spec = load_spec_node(doc, o, "study", s->base_dir, &serr);
  if (serr) {
    g_propagate_error(error, g_steal_pointer(&serr));
    return NULL;
  }
  JsonArray *stages = NULL;
  JsonObject *sweep = NULL;
  if (!ll_json_get_array(doc, o, "study", "stages", &stages, error) ||
      !ll_json_get_object(doc, o, "study", "sweep", &sweep, error))
    return NULL;
  if (!!stages == !!sweep) {
    ll_json_doc_error(doc, error, LL_SPEC_ERROR_MISSING, o, NULL,
                      "a study has either \"stages\" or \"sweep\" (not %s)",
                      stages ? "both" : "neither");
    return NULL;
  }
  if (stages && !parse_stages(s, doc, stages, error))
    return NULL;
  if (sweep && !parse_sweep(s, doc, sweep, error))
    return NULL;
  if (!s->spec) {
    for (guint i = 0; s->stages && i < s->stages->len; i++)
      if (!json_object_has_member(g_ptr_array_index(s->stages, i), "spec")) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                    "%s: stage \"%s\" has no spec and the study has no base \"spec\"", display_name,
                    json_object_get_string_member(g_ptr_array_index(s->stages, i), "name"));
        return NULL;
      }
    if (!s->stages) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING, "%s: a sweep needs a \"spec\"",
                  display_name);
      return NULL;
    }
  }
  return g_steal_pointer(&s);
}

LlStudy *ll_study_load_file(const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len;
  if (!ll_json_read_file(path, &data, &len, error))
    return NULL;
  g_autofree char *dir = g_path_get_dirname(path);
  return ll_study_load_data(data, (gssize)len, path, dir, error);
}

LlStudy *ll_study_new_for_spec(const char *spec_path, GError **error)
{
  g_autoptr(LlSpec) spec = ll_spec_load_file(spec_path, error);
  if (!spec)
    return NULL;
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!ll_json_parser_load_file(parser, spec_path, error))
    return NULL;
  LlStudy *s = study_new();
  s->spec = node_dup(json_parser_get_root(parser));
  s->name = g_strdup_printf("sweep-%s", spec->name ? spec->name : "spec");
  s->description = g_strdup("");
  s->file = g_strdup(spec_path);
  s->base_dir = g_path_get_dirname(spec_path);
  gboolean classifier = FALSE;
  for (guint i = 0; i < spec->losses->len; i++)
    classifier |= ((LlLossSpec *)g_ptr_array_index(spec->losses, i))->kind == LL_LOSS_CROSS_ENTROPY;
  g_free(s->metric);
  s->metric = g_strdup(classifier ? "val_accuracy" : "val_loss");
  s->maximize = classifier;
  return s;
}

/* ---- accessors ----------------------------------------------------------------------- */

const char *ll_study_name(const LlStudy *s) { return s->name; }
const char *ll_study_description(const LlStudy *s) { return s->description; }
gboolean ll_study_is_sweep(const LlStudy *s) { return s->stages == NULL; }

char *ll_study_base_spec_json(const LlStudy *s)
{
  if (s->spec)
    return ll_json_node_to_text(s->spec, FALSE);
  /* stages that each bring their own spec: show the first one */
  for (guint i = 0; s->stages && i < s->stages->len; i++) {
    JsonNode *n = json_object_get_member(g_ptr_array_index(s->stages, i), "spec");
    if (n && JSON_NODE_HOLDS_OBJECT(n))
      return ll_json_node_to_text(n, FALSE);
  }
  return NULL;
}

char *ll_study_outline(const LlStudy *s)
{
  GString *o = g_string_new(NULL);
  if (s->stages) {
    g_string_append_printf(o, "%u stage%s:", s->stages->len, s->stages->len == 1 ? "" : "s");
    for (guint i = 0; i < s->stages->len; i++) {
      JsonObject *st = g_ptr_array_index(s->stages, i);
      const char *name = json_object_get_string_member_with_default(st, "name", "?");
      g_string_append_printf(o, "%s %s", i ? "," : "", name);
      JsonNode *rep = json_object_get_member(st, "repeat");
      if (rep && JSON_NODE_HOLDS_ARRAY(rep))
        g_string_append_printf(o, " (x%u)", json_array_get_length(json_node_get_array(rep)));
    }
  } else {
    g_string_append_printf(o, "%s search over %u ax%s", ll_search_mode_names[s->mode], s->axes->len,
                           s->axes->len == 1 ? "is" : "es");
    if (s->mode != LL_SEARCH_GRID)
      g_string_append_printf(o, ", %d trials", s->trials);
    for (guint i = 0; i < s->axes->len; i++)
      g_string_append_printf(o, "%s %s", i ? "," : ":", g_array_index(s->axes, LlAxis, i).path);
  }
  if (s->repeats > 1)
    g_string_append_printf(o, "; each over %d seeds", s->repeats);
  return g_string_free(o, FALSE);
}
const char *ll_study_metric(const LlStudy *s) { return s->metric; }
const char *ll_study_curve_metric(const LlStudy *s)
{
  return s->prune_metric ? s->prune_metric : "val_loss";
}
gboolean ll_study_maximize(const LlStudy *s) { return s->maximize; }
int ll_study_n_axes(const LlStudy *s) { return (int)s->axes->len; }
const LlAxis *ll_study_axis(const LlStudy *s, int i) { return &g_array_index(s->axes, LlAxis, i); }
void ll_study_set_mode(LlStudy *s, LlSearchMode mode) { s->mode = mode; }
void ll_study_set_trials(LlStudy *s, int trials) { s->trials = trials; }
int ll_study_repeats(const LlStudy *s) { return s->repeats; }
void ll_study_set_repeats(LlStudy *s, int repeats)
{
  s->repeats = CLAMP(repeats, 1, LL_STUDY_MAX_REPEATS);
}
const char *ll_study_id(const LlStudy *s) { return s->id; }
const char *ll_study_dir(const LlStudy *s) { return s->dir; }
GPtrArray *ll_study_trials(const LlStudy *s) { return s->done; }
const LlTrial *ll_study_best(const LlStudy *s)
{
  return s->best >= 0 ? g_ptr_array_index(s->done, s->best) : NULL;
}

static void put_axis(LlStudy *s, LlAxis *a)
{
  for (guint i = 0; i < s->axes->len; i++)
    if (!strcmp(g_array_index(s->axes, LlAxis, i).path, a->path)) {
      axis_clear(&g_array_index(s->axes, LlAxis, i));
      g_array_index(s->axes, LlAxis, i) = *a;
      return;
    }
  g_array_append_val(s->axes, *a);
}

static gboolean check_cli_sweep(LlStudy *s, const char *path, GError **error)
{
  if (s->stages) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "axis \"%s\": this study runs stages, not a sweep", path);
    return FALSE;
  }
  return TRUE;
}

gboolean ll_study_add_axis_values(LlStudy *s, const char *path, const char *csv, GError **error)
{
  if (!check_cli_sweep(s, path, error))
    return FALSE;
  LlAxis a = {.path = g_strdup(path),
              .kind = LL_AXIS_VALUES,
              .values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref)};
  g_auto(GStrv) items = g_strsplit(csv, ",", -1);
  for (int i = 0; items[i]; i++) {
    g_autoptr(JsonParser) p = json_parser_new();
    JsonNode *n;
    if (ll_json_parser_load(p, items[i], -1, path, NULL) && json_parser_get_root(p))
      n = node_dup(json_parser_get_root(p));
    else
      n = json_node_init_string(json_node_alloc(), items[i]);
    g_ptr_array_add(a.values, n);
  }
  if (a.values->len == 0) {
    axis_clear(&a);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "axis \"%s\": no values", path);
    return FALSE;
  }
  put_axis(s, &a);
  return TRUE;
}

gboolean ll_study_add_axis_range(LlStudy *s, const char *path, const char *range, GError **error)
{
  if (!check_cli_sweep(s, path, error))
    return FALSE;
  g_auto(GStrv) f = g_strsplit(range, ":", -1);
  guint n = g_strv_length(f);
  char *e1 = NULL, *e2 = NULL;
  LlAxis a = {.path = g_strdup(path)};
  if (n >= 2) {
    a.lo = g_ascii_strtod(f[0], &e1);
    a.hi = g_ascii_strtod(f[1], &e2);
  }
  gboolean log_scale = n == 3 && !strcmp(f[2], "log");
  if (n < 2 || n > 3 || (n == 3 && !log_scale) || *e1 || *e2 || a.hi < a.lo ||
      (log_scale && a.lo <= 0)) {
    g_free(a.path);
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "range for \"%s\": expected lo:hi or lo:hi:log with lo <= hi (lo > 0 for log), "
                "got \"%s\"",
                path, range);
    return FALSE;
  }
  gboolean ints =
      !strchr(f[0], '.') && !strchr(f[1], '.') && !strchr(f[0], 'e') && !strchr(f[1], 'e');
  a.kind = log_scale ? LL_AXIS_LOG_UNIFORM : ints ? LL_AXIS_INT : LL_AXIS_UNIFORM;
  put_axis(s, &a);
  return TRUE;
}

/* ---- writing JSON ---------------------------------------------------------------------- */

#define write_node ll_json_write_node

static void write_object(LlJsonWriter *w, JsonObject *o)
{
  g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), o);
  ll_json_write_node(w, n);
}

/* One line, no newline. */
static char *node_compact(JsonNode *n)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  for (guint i = 0; i < G_N_ELEMENTS(w.inline_depth); i++)
    w.inline_depth[i] = TRUE;
  write_node(&w, n);
  char *s = ll_json_writer_finish(&w);
  g_strchomp(s);
  return s;
}

/* A value as a person reads it in a label or a CSV cell: strings bare. */
static char *value_text(JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  return node_compact(n);
}

/* A value as a reader would write it in a label: numbers to 4 digits,
 * strings bare, an object with a "type" as its type's proper name then
 * "key value" pairs ({"type": "sgd", "lr": 0.05} reads "SGD, lr 0.05"). */
static char *value_words(JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE)
    return g_strdup_printf("%.4g", json_node_get_double(n));
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return value_text(n);
  static const char *const proper[][2] = {{"sgd", "SGD"},         {"adam", "Adam"},
                                          {"adamw", "AdamW"},     {"rmsprop", "RMSprop"},
                                          {"adagrad", "Adagrad"}, {"one-cycle", "one-cycle"}};
  JsonObject *o = json_node_get_object(n);
  GString *out = g_string_new(NULL);
  const char *type = json_object_get_string_member_with_default(o, "type", NULL);
  if (type) {
    const char *name = type;
    for (guint i = 0; i < G_N_ELEMENTS(proper); i++)
      if (!g_ascii_strcasecmp(type, proper[i][0]))
        name = proper[i][1];
    g_string_append(out, name);
  }
  g_autoptr(GList) keys = json_object_get_members(o);
  for (GList *k = keys; k; k = k->next) {
    if (!strcmp(k->data, "type"))
      continue;
    g_autofree char *v = value_words(json_object_get_member(o, k->data));
    g_string_append_printf(out, "%s%s %s", out->len ? ", " : "", (const char *)k->data, v);
  }
  return g_string_free(out, FALSE);
}

char *ll_study_to_json(const LlStudy *s)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  ll_json_begin_object(&w);
  ll_json_key(&w, "format");
  ll_json_string(&w, LL_STUDY_FORMAT);
  ll_json_key(&w, "version");
  ll_json_int(&w, LL_STUDY_VERSION);
  ll_json_key(&w, "name");
  ll_json_string(&w, s->name);
  ll_json_key(&w, "description");
  ll_json_string(&w, s->description);
  ll_json_key(&w, "metric");
  ll_json_string(&w, s->metric);
  ll_json_key(&w, "direction");
  ll_json_string(&w, s->maximize ? "maximize" : "minimize");
  ll_json_key(&w, "seed");
  ll_json_int(&w, (int64_t)s->seed);
  if (s->repeats > 1) {
    ll_json_key(&w, "repeats");
    ll_json_int(&w, s->repeats);
  }
  if (s->spec) {
    ll_json_key(&w, "spec");
    write_node(&w, s->spec);
  }
  if (s->overrides) {
    ll_json_key(&w, "overrides");
    write_object(&w, s->overrides);
  }
  if (s->groups) {
    ll_json_key(&w, "groups");
    write_object(&w, s->groups);
  }
  if (s->param_budget) {
    ll_json_key(&w, "param_budget");
    ll_json_int(&w, s->param_budget);
    ll_json_key(&w, "solve_width");
    ll_json_string(&w, s->solve_width);
  }
  if (s->stages) {
    ll_json_key(&w, "stages");
    ll_json_begin_array(&w, FALSE);
    for (guint i = 0; i < s->stages->len; i++)
      write_object(&w, g_ptr_array_index(s->stages, i));
    ll_json_end_array(&w);
  } else {
    ll_json_key(&w, "sweep");
    ll_json_begin_object(&w);
    ll_json_key(&w, "mode");
    ll_json_string(&w, ll_search_mode_names[s->mode]);
    ll_json_key(&w, "trials");
    ll_json_int(&w, s->trials);
    ll_json_key(&w, "axes");
    ll_json_begin_array(&w, FALSE);
    static const char *const types[] = {"values", "uniform", "log-uniform", "int"};
    for (guint i = 0; i < s->axes->len; i++) {
      LlAxis *a = &g_array_index(s->axes, LlAxis, i);
      ll_json_begin_object(&w);
      ll_json_key(&w, "path");
      ll_json_string(&w, a->path);
      ll_json_key(&w, "type");
      ll_json_string(&w, types[a->kind]);
      if (a->kind == LL_AXIS_VALUES) {
        ll_json_key(&w, "values");
        ll_json_begin_array(&w, FALSE);
        for (guint k = 0; k < a->values->len; k++)
          write_node(&w, g_ptr_array_index(a->values, k));
        ll_json_end_array(&w);
      } else {
        ll_json_key(&w, "min");
        ll_json_double(&w, a->lo);
        ll_json_key(&w, "max");
        ll_json_double(&w, a->hi);
      }
      ll_json_end_object(&w);
    }
    ll_json_end_array(&w);
    if (s->prune_after) {
      ll_json_key(&w, "pruning");
      ll_json_begin_object(&w);
      ll_json_key(&w, "after_epochs");
      ll_json_int(&w, s->prune_after);
      ll_json_key(&w, "metric");
      ll_json_string(&w, s->prune_metric);
      ll_json_key(&w, "min_trials");
      ll_json_int(&w, s->prune_min_trials);
      ll_json_end_object(&w);
    }
    ll_json_end_object(&w);
  }
  ll_json_end_object(&w);
  return ll_json_writer_finish(&w);
}

/* ---- variants -------------------------------------------------------------------------- */

typedef struct {
  char *path;
  JsonNode *value;
} Override;

static void override_free(Override *o)
{
  g_free(o->path);
  json_node_unref(o->value);
  g_free(o);
}

static void add_override(GPtrArray *ovs, const char *path, JsonNode *value /* copied */)
{
  Override *o = g_new(Override, 1);
  o->path = g_strdup(path);
  o->value = node_dup(value);
  g_ptr_array_add(ovs, o);
}

static int find_block(JsonArray *blocks, const char *name)
{
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    if (b && !g_strcmp0(json_object_get_string_member_with_default(b, "name", NULL), name))
      return (int)i;
  }
  return -1;
}

/* Renames input references old -> new in every block outside skip, and in the
 * losses and the record. */
static void rewire(JsonObject *spec, JsonArray *blocks, const char *old, const char *new_,
                   GHashTable *skip)
{
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    const char *name = json_object_get_string_member_with_default(b, "name", "");
    if (skip && g_hash_table_contains(skip, name))
      continue;
    JsonArray *ins =
        json_object_has_member(b, "inputs") ? json_object_get_array_member(b, "inputs") : NULL;
    for (guint k = 0; ins && k < json_array_get_length(ins); k++)
      if (!g_strcmp0(json_array_get_string_element(ins, k), old)) {
        json_array_remove_element(ins, k);
        /* json-glib has no insert: rebuild the array in order */
        JsonArray *fresh = json_array_new();
        for (guint m = 0; m < json_array_get_length(ins) + 1; m++) {
          if (m == k)
            json_array_add_string_element(fresh, new_);
          if (m < json_array_get_length(ins))
            json_array_add_string_element(fresh, json_array_get_string_element(ins, m));
        }
        json_object_set_array_member(b, "inputs", fresh);
        ins = fresh;
      }
  }
  JsonArray *losses =
      json_object_has_member(spec, "losses") ? json_object_get_array_member(spec, "losses") : NULL;
  for (guint i = 0; losses && i < json_array_get_length(losses); i++) {
    JsonObject *l = json_array_get_object_element(losses, i);
    if (!g_strcmp0(json_object_get_string_member_with_default(l, "output", NULL), old))
      json_object_set_string_member(l, "output", new_);
  }
  JsonObject *rec =
      json_object_has_member(spec, "record") ? json_object_get_object_member(spec, "record") : NULL;
  if (rec &&
      !g_strcmp0(json_object_get_string_member_with_default(rec, "embedding_block", NULL), old))
    json_object_set_string_member(rec, "embedding_block", new_);
}

/* Repeats the chain of blocks of one group `repeat` times (0 removes it). */
static gboolean expand_group(JsonObject *spec, const char *gname, JsonObject *group, GError **error)
{
  JsonArray *names = json_object_get_array_member(group, "blocks");
  gint64 repeat =
      json_object_has_member(group, "repeat") ? json_object_get_int_member(group, "repeat") : 1;
  JsonObject *graph = json_object_get_object_member(spec, "graph");
  JsonArray *blocks = graph ? json_object_get_array_member(graph, "blocks") : NULL;
  guint m = json_array_get_length(names);
  if (!blocks || repeat < 0 || repeat > 64) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "graph.group.%s.repeat: %" G_GINT64_FORMAT " is not in [0, 64]", gname, repeat);
    return FALSE;
  }
  g_autoptr(GHashTable) in_group = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint i = 0; i < m; i++) {
    const char *n = json_array_get_string_element(names, i);
    if (!n || find_block(blocks, n) < 0) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "groups.%s: the graph has no block \"%s\"", gname, n ? n : "(not a string)");
      return FALSE;
    }
    g_hash_table_add(in_group, (gpointer)n);
  }
  const char *first = json_array_get_string_element(names, 0);
  const char *last = json_array_get_string_element(names, m - 1);
  JsonObject *fb = json_array_get_object_element(blocks, (guint)find_block(blocks, first));
  JsonArray *fins = json_object_get_array_member(fb, "inputs");
  if (!fins || json_array_get_length(fins) != 1) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "groups.%s: its first block \"%s\" must have exactly one input", gname, first);
    return FALSE;
  }
  g_autofree char *entry = g_strdup(json_array_get_string_element(fins, 0));
  if (repeat == 1)
    return TRUE;
  if (repeat == 0) {
    rewire(spec, blocks, last, entry, in_group);
    JsonObject *rec = json_object_has_member(spec, "record")
                          ? json_object_get_object_member(spec, "record")
                          : NULL;
    const char *eb = rec ? str_member(rec, "embedding_block") : NULL;
    if (eb && g_hash_table_contains(in_group, eb))
      json_object_set_string_member(rec, "embedding_block", entry);
    for (guint i = 0; i < m; i++)
      json_array_remove_element(blocks,
                                (guint)find_block(blocks, json_array_get_string_element(names, i)));
    return TRUE;
  }
  /* copies k = 2..repeat go after the last block of the group, names suffixed _k */
  JsonArray *out = json_array_new();
  int last_idx = find_block(blocks, last);
  g_autoptr(GHashTable) copies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *prev_last = g_strdup(last);
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    json_array_add_element(out, node_dup(json_array_get_element(blocks, i)));
    if ((int)i != last_idx)
      continue;
    for (gint64 k = 2; k <= repeat; k++) {
      for (guint b = 0; b < m; b++) {
        const char *bn = json_array_get_string_element(names, b);
        JsonNode *c = node_dup(json_array_get_element(blocks, (guint)find_block(blocks, bn)));
        JsonObject *co = json_node_get_object(c);
        char *cname = g_strdup_printf("%s_%" G_GINT64_FORMAT, bn, k);
        json_object_set_string_member(co, "name", cname);
        json_object_remove_member(co, "position");
        JsonArray *ins = json_object_get_array_member(co, "inputs");
        JsonArray *fresh = json_array_new();
        for (guint q = 0; ins && q < json_array_get_length(ins); q++) {
          const char *in = json_array_get_string_element(ins, q);
          if (g_hash_table_contains(in_group, in)) {
            g_autofree char *cn = g_strdup_printf("%s_%" G_GINT64_FORMAT, in, k);
            json_array_add_string_element(fresh, cn);
          } else {
            json_array_add_string_element(fresh, b == 0 ? prev_last : in);
          }
        }
        json_object_set_array_member(co, "inputs", fresh);
        g_hash_table_add(copies, cname);
        json_array_add_element(out, c);
      }
      g_free(prev_last);
      prev_last = g_strdup_printf("%s_%" G_GINT64_FORMAT, last, k);
    }
  }
  json_object_set_array_member(graph, "blocks", out);
  /* consumers of the group's last block now read the last copy */
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, in_group);
  while (g_hash_table_iter_next(&it, &key, NULL))
    g_hash_table_add(copies, g_strdup(key));
  rewire(spec, out, last, prev_last, copies);
  return TRUE;
}

static void substitute_strings(JsonNode *n, const char *var, const char *text)
{
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    GList *members = json_object_get_members(json_node_get_object(n));
    for (GList *l = members; l; l = l->next)
      substitute_strings(json_object_get_member(json_node_get_object(n), l->data), var, text);
    g_list_free(members);
  } else if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++)
      substitute_strings(json_array_get_element(a, i), var, text);
  } else if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
             strstr(json_node_get_string(n), var)) {
    g_auto(GStrv) parts = g_strsplit(json_node_get_string(n), var, -1);
    g_autofree char *joined = g_strjoinv(text, parts);
    json_node_set_string(n, joined);
  }
}

/* Replaces every string "$value" by the value itself and "${value}" inside
 * strings by its text. */
static void substitute_value(JsonNode *n, JsonNode *value)
{
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *o = json_node_get_object(n);
    GList *members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
      JsonNode *c = json_object_get_member(o, l->data);
      if (JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_STRING &&
          !strcmp(json_node_get_string(c), "$value"))
        json_object_set_member(o, l->data, node_dup(value));
      else
        substitute_value(c, value);
    }
    g_list_free(members);
  } else if (JSON_NODE_HOLDS_ARRAY(n)) {
    JsonArray *a = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      JsonNode *c = json_array_get_element(a, i);
      if (JSON_NODE_HOLDS_VALUE(c) && json_node_get_value_type(c) == G_TYPE_STRING &&
          !strcmp(json_node_get_string(c), "$value")) {
        JsonNode *v = node_dup(value);
        /* swap in place */
        json_node_init(c, json_node_get_node_type(v));
        if (JSON_NODE_HOLDS_OBJECT(v))
          json_node_set_object(c, json_node_get_object(v));
        else if (JSON_NODE_HOLDS_ARRAY(v))
          json_node_set_array(c, json_node_get_array(v));
        else if (!JSON_NODE_HOLDS_NULL(v)) {
          GValue gv = G_VALUE_INIT;
          json_node_get_value(v, &gv);
          json_node_set_value(c, &gv);
          g_value_unset(&gv);
        }
        json_node_unref(v);
      } else {
        substitute_value(c, value);
      }
    }
  } else {
    g_autofree char *text = value_text(value);
    substitute_strings(n, "${value}", text);
  }
}

/* The spec text of one variant: overrides, groups, the study folder. */
static char *materialize(LlStudy *s, JsonNode *spec, GPtrArray *ovs, const char *study_dir,
                         GError **error)
{
  g_autoptr(JsonNode) root = node_dup(spec);
  g_autoptr(JsonObject) groups = json_object_new();
  if (s->groups) {
    GList *names = json_object_get_members(s->groups);
    for (GList *l = names; l; l = l->next)
      json_object_set_member(groups, l->data, node_dup(json_object_get_member(s->groups, l->data)));
    g_list_free(names);
  }
  for (guint i = 0; i < ovs->len; i++) {
    Override *o = g_ptr_array_index(ovs, i);
    if (g_str_has_prefix(o->path, "graph.group.")) {
      g_auto(GStrv) parts = g_strsplit(o->path + strlen("graph.group."), ".", -1);
      JsonObject *g = parts[0] && json_object_has_member(groups, parts[0])
                          ? json_object_get_object_member(groups, parts[0])
                          : NULL;
      if (!g || !parts[1] || strcmp(parts[1], "repeat") || parts[2] ||
          !JSON_NODE_HOLDS_VALUE(o->value) || json_node_get_value_type(o->value) != G_TYPE_INT64) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                    "override \"%s\": expected graph.group.NAME.repeat = an integer, NAME one of "
                    "the study's \"groups\"",
                    o->path);
        return NULL;
      }
      json_object_set_member(g, "repeat", node_dup(o->value));
    } else if (!ll_spec_json_set(root, o->path, o->value, error)) {
      return NULL;
    }
  }
  /* groups name blocks of the study's base spec; a stage with its own spec has none */
  GList *names = spec == s->spec ? json_object_get_members(groups) : NULL;
  for (GList *l = names; l; l = l->next)
    if (!expand_group(json_node_get_object(root), l->data,
                      json_object_get_object_member(groups, l->data), error)) {
      g_list_free(names);
      return NULL;
    }
  g_list_free(names);
  if (study_dir)
    substitute_strings(root, "${study_dir}", study_dir);
  return ll_json_node_to_text(root, FALSE);
}

static LlSpec *load_variant(const char *text, const char *label, GError **error)
{
  g_autoptr(GError) lerr = NULL;
  LlSpec *spec = ll_spec_load_data(text, -1, label, &lerr);
  if (!spec) {
    g_set_error(error, LL_SPEC_ERROR, lerr->code, "%s", lerr->message);
    return NULL;
  }
  return spec;
}

static gint64 count_params(const char *text, GError **error)
{
  g_autoptr(LlSpec) spec = load_variant(text, "variant", error);
  if (!spec || !ll_graph_infer(spec->graph, error))
    return -1;
  return (gint64)ll_graph_param_count(spec->graph);
}

/* Bisection over the integer width at width_path for the parameter count
 * closest to budget (the count grows with the width). */
static char *solve_budget(LlStudy *s, JsonNode *spec, GPtrArray *ovs, gint64 budget,
                          const char *width_path, const char *study_dir, gint64 *params,
                          GError **error)
{
  gint64 lo = 1, hi = 1 << 16, best_w = 1, best_p = -1;
  g_autoptr(GPtrArray) probe = g_ptr_array_new();
  for (guint i = 0; i < ovs->len; i++)
    g_ptr_array_add(probe, g_ptr_array_index(ovs, i));
  Override w = {.path = (char *)width_path};
  g_ptr_array_add(probe, &w);
#define COUNT_AT(width, out)                                                                       \
  do {                                                                                             \
    w.value = json_node_init_int(json_node_alloc(), (width));                                      \
    g_autofree char *t_ = materialize(s, spec, probe, study_dir, error);                           \
    json_node_unref(w.value);                                                                      \
    if (!t_ || ((out) = count_params(t_, error)) < 0) {                                            \
      g_prefix_error(error, "param_budget (solving %s): ", width_path);                            \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)
  while (lo < hi) {
    gint64 mid = lo + (hi - lo) / 2, p = 0;
    COUNT_AT(mid, p);
    if (p >= budget)
      hi = mid;
    else
      lo = mid + 1;
  }
  /* lo: the smallest width reaching the budget; lo - 1 may be closer */
  for (gint64 cand = MAX(1, lo - 1); cand <= lo; cand++) {
    gint64 p = 0;
    COUNT_AT(cand, p);
    if (best_p < 0 || llabs(p - budget) < llabs(best_p - budget)) {
      best_p = p;
      best_w = cand;
    }
  }
#undef COUNT_AT
  w.value = json_node_init_int(json_node_alloc(), best_w);
  char *text = materialize(s, spec, probe, study_dir, error);
  json_node_unref(w.value);
  *params = best_p;
  return text;
}

/* Builds a variant's text: overrides, then the parameter budget if any. */
static char *build_variant(LlStudy *s, JsonNode *spec, GPtrArray *ovs, gint64 budget,
                           const char *width_path, const char *study_dir, gint64 *params,
                           GError **error)
{
  char *text;
  if (budget > 0) {
    text = solve_budget(s, spec, ovs, budget, width_path, study_dir, params, error);
  } else {
    text = materialize(s, spec, ovs, study_dir, error);
    if (text)
      *params = count_params(text, error);
    if (text && *params < 0)
      g_clear_pointer(&text, g_free);
  }
  return text;
}

char *ll_study_variant_json(LlStudy *s, const double *x, gint64 *params_out, GError **error)
{
  g_autoptr(GPtrArray) ovs = g_ptr_array_new_with_free_func((GDestroyNotify)override_free);
  if (s->overrides) {
    GList *m = json_object_get_members(s->overrides);
    for (GList *l = m; l; l = l->next)
      add_override(ovs, l->data, json_object_get_member(s->overrides, l->data));
    g_list_free(m);
  }
  for (guint i = 0; x && i < s->axes->len; i++) {
    const LlAxis *a = &g_array_index(s->axes, LlAxis, i);
    g_autoptr(JsonNode) v = ll_axis_value(a, x[i]);
    add_override(ovs, a->path, v);
  }
  gint64 params = 0;
  char *text =
      build_variant(s, s->spec, ovs, s->param_budget, s->solve_width, NULL, &params, error);
  if (params_out)
    *params_out = params;
  return text;
}

/* ---- the study folder ------------------------------------------------------------------ */

static char *trial_to_line(const LlTrial *t)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  for (guint i = 0; i < G_N_ELEMENTS(w.inline_depth); i++)
    w.inline_depth[i] = TRUE;
  ll_json_begin_object(&w);
  ll_json_key(&w, "index");
  ll_json_int(&w, t->index);
  ll_json_key(&w, "key");
  ll_json_string(&w, t->key);
  ll_json_key(&w, "stage");
  ll_json_string(&w, t->stage);
  ll_json_key(&w, "label");
  ll_json_string(&w, t->label);
  ll_json_key(&w, "status");
  ll_json_string(&w, ll_trial_status_names[t->status]);
  ll_json_key(&w, "values");
  write_object(&w, t->values);
  ll_json_key(&w, "overrides");
  write_object(&w, t->overrides);
  ll_json_key(&w, "run_id");
  ll_json_string(&w, t->run_id);
  ll_json_key(&w, "params");
  ll_json_int(&w, t->params);
  ll_json_key(&w, "repeat");
  ll_json_int(&w, t->repeat);
  if (t->seed >= 0) {
    ll_json_key(&w, "seed");
    ll_json_int(&w, t->seed);
  }
  ll_json_key(&w, "epochs");
  ll_json_int(&w, t->epochs);
  ll_json_key(&w, "samples");
  ll_json_int(&w, t->samples);
  if (t->budget > 0) {
    ll_json_key(&w, "param_budget");
    ll_json_int(&w, t->budget);
  }
  ll_json_key(&w, "metric");
  if (isfinite(t->metric))
    ll_json_double(&w, t->metric);
  else
    ll_json_null(&w);
  ll_json_key(&w, "metrics");
  write_object(&w, t->metrics);
  ll_json_key(&w, "curve");
  ll_json_begin_array(&w, TRUE);
  for (guint i = 0; i < t->curve->len; i++)
    ll_json_float(&w, g_array_index(t->curve, double, i));
  ll_json_end_array(&w);
  if (t->x) {
    ll_json_key(&w, "x");
    ll_json_begin_array(&w, TRUE);
    for (guint i = 0; i < (guint)json_object_get_size(t->overrides) && i < 64; i++)
      ll_json_double(&w, t->x[i]);
    ll_json_end_array(&w);
  }
  ll_json_key(&w, "seconds");
  ll_json_double(&w, round(t->seconds * 1000) / 1000);
  ll_json_key(&w, "checkpoint");
  ll_json_string(&w, t->checkpoint);
  ll_json_key(&w, "error");
  ll_json_string(&w, t->error);
  ll_json_key(&w, "time");
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autofree char *iso = g_date_time_format_iso8601(now);
  ll_json_string(&w, iso);
  ll_json_end_object(&w);
  char *s = ll_json_writer_finish(&w);
  g_strchomp(s);
  return s;
}

/* A member of the given container type, or NULL (a tampered or cut line
 * holds anything: json-glib's typed getters would only warn). */
static JsonNode *member_of(JsonObject *o, const char *name, JsonNodeType type)
{
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_TYPE(n) == type ? n : NULL;
}

static double number_or_nan(JsonNode *n)
{
  GType t = n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_value_type(n) : G_TYPE_INVALID;
  return t == G_TYPE_DOUBLE || t == G_TYPE_INT64 ? json_node_get_double(n) : NAN;
}

static gint64 int_or_zero(JsonObject *o, const char *name)
{
  double v = number_or_nan(json_object_get_member(o, name));
  return isfinite(v) && fabs(v) < 9e18 ? (gint64)v : 0;
}

static LlTrial *trial_from_json(JsonObject *o, int n_axes)
{
  LlTrial *t = trial_new();
  t->key = g_strdup(str_member(o, "key"));
  t->stage = g_strdup(str_member(o, "stage"));
  t->label = g_strdup(str_member(o, "label"));
  t->run_id = g_strdup(str_member(o, "run_id"));
  t->checkpoint = g_strdup(str_member(o, "checkpoint"));
  t->error = g_strdup(str_member(o, "error"));
  t->params = int_or_zero(o, "params");
  t->budget = int_or_zero(o, "param_budget");
  t->repeat = (int)CLAMP(int_or_zero(o, "repeat"), 0, LL_STUDY_MAX_REPEATS - 1);
  t->seed = json_object_has_member(o, "seed") ? MAX(int_or_zero(o, "seed"), 0) : -1;
  t->epochs = (int)CLAMP(int_or_zero(o, "epochs"), 0, G_MAXINT);
  t->samples = MAX(int_or_zero(o, "samples"), 0);
  t->seconds = number_or_nan(json_object_get_member(o, "seconds"));
  if (!isfinite(t->seconds))
    t->seconds = 0;
  t->metric = number_or_nan(json_object_get_member(o, "metric"));
  for (int k = 0; ll_trial_status_names[k]; k++)
    if (!g_strcmp0(str_member(o, "status"), ll_trial_status_names[k]))
      t->status = k;
  const char *objs[] = {"values", "metrics", "overrides"};
  JsonObject **dst[] = {&t->values, &t->metrics, &t->overrides};
  for (int k = 0; k < 3; k++) {
    JsonNode *src = member_of(o, objs[k], JSON_NODE_OBJECT);
    if (src) {
      json_object_unref(*dst[k]);
      *dst[k] = json_object_ref(json_node_get_object(src));
    }
  }
  JsonNode *cn = member_of(o, "curve", JSON_NODE_ARRAY);
  JsonArray *curve = cn ? json_node_get_array(cn) : NULL;
  for (guint i = 0; curve && i < json_array_get_length(curve); i++) {
    double v = number_or_nan(json_array_get_element(curve, i));
    g_array_append_val(t->curve, v);
  }
  JsonNode *xn = member_of(o, "x", JSON_NODE_ARRAY);
  JsonArray *x = xn ? json_node_get_array(xn) : NULL;
  if (x && n_axes > 0 && json_array_get_length(x) >= (guint)n_axes) {
    t->x = g_new(double, n_axes);
    for (int i = 0; i < n_axes; i++)
      t->x[i] = number_or_nan(json_array_get_element(x, (guint)i));
  }
  return t;
}

/* The trials of a trials.jsonl in file order (lines that do not parse are
 * skipped: a line cut short by a kill), or NULL when the file cannot be read. */
static GPtrArray *read_trials(const char *path, int n_axes)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)trial_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    g_autoptr(JsonParser) p = json_parser_new();
    if (!*lines[i] || !ll_json_parser_load(p, lines[i], -1, path, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
      continue;
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    LlTrial *t = trial_from_json(o, n_axes);
    double index = number_or_nan(json_object_get_member(o, "index"));
    t->index = index >= 0 && index < G_MAXINT ? (int)index : (int)out->len;
    g_ptr_array_add(out, t);
  }
  return out;
}

static void csv_cell(GString *out, const char *text)
{
  if (text && strpbrk(text, ",\"\n")) {
    g_string_append_c(out, '"');
    for (const char *p = text; *p; p++) {
      if (*p == '"')
        g_string_append_c(out, '"');
      g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
  } else if (text) {
    g_string_append(out, text);
  }
}

static double metric_of(const LlTrial *t, const char *name)
{
  JsonNode *n = json_object_get_member(t->metrics, name);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_double(n) : NAN;
}

static gboolean write_results(LlStudy *s, GError **error)
{
  g_autoptr(GPtrArray) cols = g_ptr_array_new();
  for (guint i = 0; i < s->done->len; i++) {
    LlTrial *t = g_ptr_array_index(s->done, i);
    GList *m = json_object_get_members(t->values);
    for (GList *l = m; l; l = l->next) {
      gboolean seen = FALSE;
      for (guint k = 0; k < cols->len; k++)
        seen |= !strcmp(cols->pdata[k], l->data);
      if (!seen)
        g_ptr_array_add(cols, l->data);
    }
    g_list_free(m);
  }
  GString *out = g_string_new("index,stage,label");
  for (guint k = 0; k < cols->len; k++) {
    g_string_append_c(out, ',');
    csv_cell(out, cols->pdata[k]);
  }
  g_string_append_printf(out, ",params,epochs,samples,seed,%s,status,seconds,run_id\n", s->metric);
  for (guint i = 0; i < s->done->len; i++) {
    LlTrial *t = g_ptr_array_index(s->done, i);
    g_string_append_printf(out, "%d,", t->index);
    csv_cell(out, t->stage);
    g_string_append_c(out, ',');
    csv_cell(out, t->label);
    for (guint k = 0; k < cols->len; k++) {
      g_string_append_c(out, ',');
      JsonNode *v = json_object_get_member(t->values, cols->pdata[k]);
      if (v) {
        g_autofree char *txt = value_text(v);
        csv_cell(out, txt);
      }
    }
    char mbuf[40] = "", sbuf[24] = "";
    double mv = metric_of(t, s->metric); /* the column's metric, not a stage's own */
    if (isfinite(mv))
      ll_format_double(mv, mbuf, sizeof mbuf);
    if (t->seed >= 0)
      g_snprintf(sbuf, sizeof sbuf, "%" G_GINT64_FORMAT, t->seed);
    g_string_append_printf(out, ",%" G_GINT64_FORMAT ",%d,%" G_GINT64_FORMAT ",%s,%s,%s,%.3f,%s\n",
                           t->params, t->epochs, t->samples, sbuf, mbuf,
                           ll_trial_status_names[t->status], t->seconds,
                           t->run_id ? t->run_id : "");
  }
  g_autofree char *path = g_build_filename(s->dir, "results.csv", NULL);
  gboolean ok = g_file_set_contents(path, out->str, (gssize)out->len, error);
  g_string_free(out, TRUE);
  /* the best trial's spec, ready to open or train again */
  const LlTrial *best = ll_study_best(s);
  g_autofree char *best_path = g_build_filename(s->dir, "best-spec.json", NULL);
  g_autofree char *run_dir = best && best->checkpoint ? g_path_get_dirname(best->checkpoint) : NULL;
  g_autofree char *spec_path = run_dir ? g_build_filename(run_dir, "spec.json", NULL) : NULL;
  g_autofree char *spec = NULL;
  gsize len = 0;
  if (ok && spec_path && g_file_get_contents(spec_path, &spec, &len, NULL))
    ok = g_file_set_contents(best_path, spec, (gssize)len, error);
  return ok;
}

char *ll_study_best_spec_path(const LlStudy *s)
{
  if (!s->dir || !ll_study_best(s))
    return NULL;
  char *path = g_build_filename(s->dir, "best-spec.json", NULL);
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    g_clear_pointer(&path, g_free);
  return path;
}

/* ---- running --------------------------------------------------------------------------- */

typedef struct {
  LlStudy *s;
  const LlStudyOptions *opts;
  const LlStudyCallbacks *cb;
  gpointer data;
  GHashTable *resumed; /* key -> LlTrial* (owned) */
  char *jsonl_path;
  int total;
  int repeats;      /* the study's, or the option's */
  int ref_epochs;   /* the longest trial's own epochs: what opts->epochs shortens */
  gboolean cancelled;
} Runner;

static gboolean metric_maximize(const char *metric) { return ll_metric_higher_is_better(metric); }

static gboolean better(double v, double best, gboolean maximize)
{
  if (!isfinite(v))
    return FALSE;
  if (!isfinite(best))
    return TRUE;
  return maximize ? v > best : v < best;
}

/* ---- repeats over seeds ---------------------------------------------------------------- */

/* A repeat's key is its configuration's key with "/rN" after it (N >= 1). */
static char *repeat_key(const char *key, int repeat)
{
  return repeat ? g_strdup_printf("%s/r%d", key, repeat) : g_strdup(key);
}

static gsize group_key_len(const char *key)
{
  const char *slash = key ? strrchr(key, '/') : NULL;
  if (!slash || slash[1] != 'r' || !g_ascii_isdigit(slash[2]))
    return key ? strlen(key) : 0;
  for (const char *p = slash + 2; *p; p++)
    if (!g_ascii_isdigit(*p))
      return strlen(key);
  return (gsize)(slash - key);
}

gboolean ll_trial_same_group(const LlTrial *a, const LlTrial *b)
{
  if (!a->key || !b->key)
    return a == b;
  if (g_strcmp0(a->stage, b->stage)) /* a stage named "x/r1" is no repeat of "x" */
    return FALSE;
  gsize n = group_key_len(a->key);
  return n == group_key_len(b->key) && !strncmp(a->key, b->key, n);
}

GArray *ll_trial_groups(GPtrArray *trials, const char *metric)
{
  GArray *out = g_array_new(FALSE, TRUE, sizeof(LlTrialGroup));
  g_autofree double *sum = NULL, *sq = NULL;
  for (guint i = 0; i < trials->len; i++) {
    const LlTrial *t = trials->pdata[i];
    guint k = 0;
    while (k < out->len && !ll_trial_same_group(g_array_index(out, LlTrialGroup, k).first, t))
      k++;
    if (k == out->len) {
      LlTrialGroup g = {.first = t, .mean = NAN, .sd = NAN, .min = NAN, .max = NAN};
      g_array_append_val(out, g);
    }
    LlTrialGroup *g = &g_array_index(out, LlTrialGroup, k);
    g->n++;
    if (t->repeat < g->first->repeat)
      g->first = t;
    double v = metric ? metric_of(t, metric) : t->metric;
    if (t->status != LL_TRIAL_FINISHED || !isfinite(v))
      continue;
    /* running sums, kept in the mean and sd slots until the end */
    if (!g->n_finished++) {
      g->mean = g->sd = 0;
      g->min = g->max = v;
    }
    g->mean += v;
    g->sd += v * v;
    g->min = MIN(g->min, v);
    g->max = MAX(g->max, v);
  }
  for (guint k = 0; k < out->len; k++) {
    LlTrialGroup *g = &g_array_index(out, LlTrialGroup, k);
    if (!g->n_finished)
      continue;
    double n = g->n_finished, mean = g->mean / n;
    g->sd = n > 1 ? sqrt(MAX(0, (g->sd - n * mean * mean) / (n - 1))) : 0;
    g->mean = mean;
  }
  return out;
}

static int group_cmp(gconstpointer pa, gconstpointer pb, gpointer maximize)
{
  const LlTrialGroup *a = pa, *b = pb;
  gboolean fa = isfinite(a->mean), fb = isfinite(b->mean);
  if (fa != fb)
    return fa ? -1 : 1;
  if (!fa || a->mean == b->mean)
    return 0;
  return (a->mean > b->mean) == !!GPOINTER_TO_INT(maximize) ? -1 : 1;
}

void ll_trial_groups_rank(GArray *groups, gboolean maximize)
{
  /* g_array_sort_with_data is a stable merge sort */
  g_array_sort_with_data(groups, group_cmp, GINT_TO_POINTER(maximize));
}

/* Among the trials whose `field` (stage name, NULL: any) matches, the best
 * configuration by the mean of metric over its seeds; of it, the trial of
 * repeat `repeat` when that finished, else its best seed. */
static int best_trial_index(const LlStudy *s, const char *stage, const char *metric,
                            gboolean maximize, int repeat)
{
  g_autoptr(GPtrArray) some = g_ptr_array_new();
  for (guint i = 0; i < s->done->len; i++) {
    LlTrial *t = g_ptr_array_index(s->done, i);
    if (!stage || !g_strcmp0(t->stage, stage))
      g_ptr_array_add(some, t);
  }
  g_autoptr(GArray) groups = ll_trial_groups(some, metric);
  ll_trial_groups_rank(groups, maximize);
  if (!groups->len || !g_array_index(groups, LlTrialGroup, 0).n_finished)
    return -1;
  const LlTrial *first = g_array_index(groups, LlTrialGroup, 0).first;
  int best = -1, same = -1;
  double bv = NAN;
  for (guint i = 0; i < s->done->len; i++) {
    LlTrial *t = g_ptr_array_index(s->done, i);
    double v = metric_of(t, metric);
    if (!ll_trial_same_group(t, first) || t->status != LL_TRIAL_FINISHED || !isfinite(v))
      continue;
    if (t->repeat == repeat)
      same = (int)i;
    if (better(v, bv, maximize)) {
      bv = v;
      best = (int)i;
    }
  }
  return repeat >= 0 && same >= 0 ? same : best;
}

/* The study's best trial is judged by the study's metric, whatever metric a
 * stage compares its own trials by (LlTrial.metric): a pretraining stage
 * judged by its test_loss has no test_accuracy and does not compete. With
 * repeats, configurations compete by their mean. */
static void update_best(LlStudy *s)
{
  s->best = best_trial_index(s, NULL, s->metric, s->maximize, -1);
}

gboolean ll_study_best_group(const LlStudy *s, LlTrialGroup *out)
{
  const LlTrial *b = ll_study_best(s);
  if (!b)
    return FALSE;
  g_autoptr(GPtrArray) same = g_ptr_array_new();
  for (guint i = 0; i < s->done->len; i++)
    if (ll_trial_same_group(g_ptr_array_index(s->done, i), b))
      g_ptr_array_add(same, g_ptr_array_index(s->done, i));
  g_autoptr(GArray) groups = ll_trial_groups(same, s->metric);
  *out = g_array_index(groups, LlTrialGroup, 0);
  return TRUE;
}

double ll_study_trial_metric(const LlStudy *s, const LlTrial *t) { return metric_of(t, s->metric); }

const char *ll_study_stage_metric(const LlStudy *s, const LlTrial *t)
{
  for (guint i = 0; s->stages && t->stage && i < s->stages->len; i++) {
    JsonObject *st = g_ptr_array_index(s->stages, i);
    if (!g_strcmp0(str_member(st, "name"), t->stage))
      return str_member(st, "metric") ? str_member(st, "metric") : s->metric;
  }
  return s->metric;
}

double ll_study_best_metric(const LlStudy *s)
{
  LlTrialGroup g;
  return ll_study_best_group(s, &g) ? g.mean : NAN;
}

static gboolean should_prune(Runner *r, LlTrial *t)
{
  LlStudy *s = r->s;
  guint e = t->curve->len;
  if (!s->prune_after || e < (guint)s->prune_after)
    return FALSE;
  g_autoptr(GArray) vals = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 0; i < s->done->len; i++) {
    LlTrial *o = g_ptr_array_index(s->done, i);
    if (o->status == LL_TRIAL_FINISHED && o->curve->len >= e)
      g_array_append_val(vals, g_array_index(o->curve, double, e - 1));
  }
  if (vals->len < (guint)s->prune_min_trials)
    return FALSE;
  double *v = (double *)vals->data;
  for (guint i = 1; i < vals->len; i++) /* insertion sort: a handful of trials */
    for (guint k = i; k > 0 && v[k] < v[k - 1]; k--) {
      double tmp = v[k];
      v[k] = v[k - 1];
      v[k - 1] = tmp;
    }
  double median = vals->len % 2 ? v[vals->len / 2] : (v[vals->len / 2 - 1] + v[vals->len / 2]) / 2;
  double mine = g_array_index(t->curve, double, e - 1);
  return better(median, mine, metric_maximize(s->prune_metric));
}

static void metrics_from_event(LlTrial *t, const LlEvent *e)
{
  for (guint i = 0; i < e->metrics->len; i++) {
    const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    json_object_set_double_member(t->metrics, m->name, m->value);
  }
}

/* The name its run gets in the store, what tells it apart from the
 * study's other runs: "fmnist-search / trial 3: width 128, lr 0.001" for a
 * sweep, "transfer-study / finetune 2" for a stage. */
static char *trial_run_name(const LlStudy *s, const LlTrial *t)
{
  if (g_strcmp0(t->stage, "sweep"))
    return g_strdup_printf("%s / %s", s->name, t->label ? t->label : t->stage);
  GString *out = g_string_new(NULL);
  /* the index it gets when recorded */
  g_string_append_printf(out, "%s / trial %u", s->name, s->done->len + 1);
  g_autoptr(GList) keys = t->values ? json_object_get_members(t->values) : NULL;
  for (GList *k = keys; k; k = k->next) {
    JsonNode *v = json_object_get_member(t->values, k->data);
    g_autofree char *words = value_words(v);
    const char *dot = strrchr(k->data, '.');
    gboolean named =
        JSON_NODE_HOLDS_OBJECT(v) && json_object_has_member(json_node_get_object(v), "type");
    g_string_append(out, k == keys ? ": " : ", ");
    if (named)
      g_string_append(out, words);
    else
      g_string_append_printf(out, "%s %s", dot ? dot + 1 : (const char *)k->data, words);
  }
  return g_string_free(out, FALSE);
}

/* A shortened run (--epochs, --limit) keeps each trial's proportions: the
 * longest trial trains opts->epochs epochs and the others as many in
 * proportion to their own (at least 1); the sample limit only ever lowers a
 * trial's own. */
static void shorten(const Runner *r, LlSpec *spec)
{
  if (r->opts->epochs > 0) {
    double scale = (double)r->opts->epochs / MAX(r->ref_epochs, 1);
    spec->epochs = (int)CLAMP(lround(spec->epochs * scale), 1, 100000);
  }
  guint limit = r->opts->limit > 0 ? (guint)r->opts->limit : 0;
  if (limit) {
    LlDatasetSpec *d = &spec->dataset;
    d->limit_train = d->limit_train ? MIN(d->limit_train, limit) : limit;
    d->limit_test = d->limit_test ? MIN(d->limit_test, limit) : limit;
  }
}

/* The epochs a spec (JSON) trains after the overrides in ovs (the last
 * "training.epochs" wins); its own or the default where none is given. */
static gint64 nominal_epochs(JsonNode *spec, GPtrArray *ovs)
{
  for (guint i = ovs ? ovs->len : 0; i-- > 0;) {
    Override *o = g_ptr_array_index(ovs, i);
    if (!strcmp(o->path, "training.epochs") && JSON_NODE_HOLDS_VALUE(o->value) &&
        json_node_get_value_type(o->value) == G_TYPE_INT64)
      return json_node_get_int(o->value);
  }
  JsonObject *root = spec && JSON_NODE_HOLDS_OBJECT(spec) ? json_node_get_object(spec) : NULL;
  JsonNode *tr = root ? json_object_get_member(root, "training") : NULL;
  JsonNode *e = tr && JSON_NODE_HOLDS_OBJECT(tr)
                    ? json_object_get_member(json_node_get_object(tr), "epochs")
                    : NULL;
  if (e && JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_INT64)
    return json_node_get_int(e);
  g_autoptr(LlSpec) def = ll_spec_new();
  return def->epochs;
}

/* A trial's training run, as its events come. */
typedef struct {
  Runner *r;
  LlTrial *t;
  LlTrainer *tr;
  const char *curve_metric;
  gboolean stop_sent, pruned, finished;
} TrialRun;

static gboolean trial_event(gpointer data, const LlEvent *e, GError **error)
{
  TrialRun *run = data;
  LlTrial *t = run->t;
  if (e->run_id && !t->run_id)
    t->run_id = g_strdup(e->run_id);
  switch (e->kind) {
  case LL_EVENT_STARTED: {
    double n = ll_event_metric(e, "train_samples");
    t->samples = isfinite(n) && n >= 0 ? (gint64)n : 0;
    break;
  }
  case LL_EVENT_EPOCH: {
    t->epochs = MAX(t->epochs, e->epoch);
    metrics_from_event(t, e);
    double v = ll_event_metric(e, run->curve_metric);
    g_array_append_val(t->curve, v);
    if (!run->stop_sent && should_prune(run->r, t)) {
      ll_trainer_stop(run->tr);
      run->stop_sent = run->pruned = TRUE;
    }
    break;
  }
  case LL_EVENT_FINISHED:
    metrics_from_event(t, e);
    g_free(t->checkpoint);
    t->checkpoint = g_strdup(e->checkpoint);
    run->finished = TRUE;
    break;
  case LL_EVENT_FAILED:
    g_free(t->error);
    t->error = g_strdup(e->message);
    break;
  default: break;
  }
  if (run->r->cb && run->r->cb->trial_event)
    run->r->cb->trial_event(t, e, run->r->data);
  return TRUE;
}

/* Trains one variant and records it. */
static void run_trial(Runner *r, LlTrial *t, const char *text)
{
  LlStudy *s = r->s;
  double t0 = g_get_monotonic_time() / 1e6;
  g_autoptr(GError) err = NULL;
  g_autoptr(LlSpec) spec = text ? load_variant(text, t->label, &err) : NULL;
  if (spec) {
    g_autofree char *name = trial_run_name(s, t);
    shorten(r, spec);
    spec->seed += (uint64_t)t->repeat;
    t->seed = (gint64)spec->seed;
    g_free(t->spec_json);
    t->spec_json = ll_spec_to_json(spec);
    LlTrainOptions o = {.run_name = name,
                        .seed = -1,
                        .device = r->opts->device,
                        .store_root = r->opts->store_root,
                        .background = r->opts->background};
    TrialRun run = {.r = r, .t = t, .curve_metric = ll_study_curve_metric(s)};
    run.tr = ll_trainer_new(spec, &o);
    if (!ll_trainer_start(run.tr, &err)) {
      ll_trainer_free(run.tr);
      run.tr = NULL;
    }
    static const LlTrainerListener trial_listener = {.event = trial_event};
    while (run.tr) {
      if (r->opts->cancel && *r->opts->cancel && !run.stop_sent) {
        ll_trainer_stop(run.tr);
        run.stop_sent = TRUE;
        r->cancelled = TRUE;
      }
      if (!ll_trainer_drain(run.tr, 100 * 1000, 100 * 1000, &trial_listener, &run))
        break;
    }
    if (run.tr) {
      ll_trainer_join(run.tr);
      ll_trainer_free(run.tr);
    }
    gboolean finished = run.finished, pruned = run.pruned;
    t->status = finished ? LL_TRIAL_FINISHED : pruned ? LL_TRIAL_PRUNED : LL_TRIAL_FAILED;
    if (!finished && !pruned && !t->error)
      t->error = g_strdup(r->cancelled ? "cancelled" : "the trainer ended without a result");
  } else {
    t->status = LL_TRIAL_FAILED;
    if (err && !t->error)
      t->error = g_strdup(err->message);
  }
  if (err && !t->error)
    t->error = g_strdup(err->message);
  t->metric = metric_of(t, s->metric);
  t->seconds = g_get_monotonic_time() / 1e6 - t0;
}

static void record_trial(Runner *r, LlTrial *t)
{
  LlStudy *s = r->s;
  t->index = (int)s->done->len;
  g_ptr_array_add(s->done, t);
  update_best(s);
  if (!r->cancelled || t->status != LL_TRIAL_FAILED) {
    g_autofree char *line = trial_to_line(t);
    FILE *f = fopen(r->jsonl_path, "a");
    if (f) {
      fprintf(f, "%s\n", line);
      fclose(f);
    }
  }
  write_results(s, NULL);
  if (r->cb && r->cb->trial_finished)
    r->cb->trial_finished(t, r->total, r->data);
}

/* A trial finished in the run being resumed: adopt it instead of training. */
static gboolean adopt(Runner *r, const char *key)
{
  LlTrial *old = g_hash_table_lookup(r->resumed, key);
  if (!old || (old->status != LL_TRIAL_FINISHED && old->status != LL_TRIAL_PRUNED))
    return FALSE;
  gpointer stored_key;
  g_hash_table_steal_extended(r->resumed, key, &stored_key, NULL); /* the trial moves on */
  g_free(stored_key);
  old->index = (int)r->s->done->len;
  g_ptr_array_add(r->s->done, old);
  update_best(r->s);
  write_results(r->s, NULL);
  if (r->cb && r->cb->trial_finished)
    r->cb->trial_finished(old, r->total, r->data);
  return TRUE;
}

static void add_common_overrides(Runner *r, GPtrArray *ovs)
{
  LlStudy *s = r->s;
  if (s->overrides) {
    GList *m = json_object_get_members(s->overrides);
    for (GList *l = m; l; l = l->next)
      add_override(ovs, l->data, json_object_get_member(s->overrides, l->data));
    g_list_free(m);
  }
}

static void notify_started(Runner *r, LlTrial *t)
{
  t->index = (int)r->s->done->len;
  if (r->cb && r->cb->trial_started)
    r->cb->trial_started(t, r->total, r->data);
}

static LlTrial *sweep_config(Runner *r, int i, const char *key, char **text_out);

static gboolean run_sweep(Runner *r, GError **error)
{
  LlStudy *s = r->s;
  int n_axes = (int)s->axes->len;
  if (n_axes == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                "the sweep has no axes: give --axis PATH=v1,v2 or --range PATH=lo:hi");
    return FALSE;
  }
  gint64 grid = -1;
  if (s->mode == LL_SEARCH_GRID &&
      (grid = ll_search_grid_size((LlAxis *)s->axes->data, n_axes, error)) < 0)
    return FALSE;
  int configs = s->mode == LL_SEARCH_GRID ? (int)(s->trials > 0 ? MIN(grid, s->trials) : grid)
                                          : (s->trials > 0 ? s->trials : 20);
  r->total = configs * r->repeats;
  /* the longest variant: the base spec's epochs, or an axis over them */
  g_autoptr(GPtrArray) common = g_ptr_array_new_with_free_func((GDestroyNotify)override_free);
  add_common_overrides(r, common);
  r->ref_epochs = (int)CLAMP(nominal_epochs(s->spec, common), 1, 100000);
  for (int k = 0; k < n_axes; k++) {
    const LlAxis *a = &g_array_index(s->axes, LlAxis, k);
    if (strcmp(a->path, "training.epochs"))
      continue;
    for (guint v = 0; a->kind == LL_AXIS_VALUES && v < a->values->len; v++) {
      JsonNode *n = g_ptr_array_index(a->values, v);
      if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
        r->ref_epochs = (int)CLAMP(json_node_get_int(n), r->ref_epochs, 100000);
    }
    if (a->kind != LL_AXIS_VALUES)
      r->ref_epochs = (int)CLAMP(a->hi, r->ref_epochs, 100000);
  }
  for (int i = 0; i < configs && !r->cancelled; i++) {
    g_autofree char *key = g_strdup_printf("t%d", i);
    g_autoptr(LlTrial) tmpl = NULL; /* the configuration, made for its first repeat to run */
    g_autofree char *text = NULL;
    for (int rep = 0; rep < r->repeats && !r->cancelled; rep++) {
      g_autofree char *rkey = repeat_key(key, rep);
      if (adopt(r, rkey))
        continue;
      if (!tmpl)
        tmpl = sweep_config(r, i, key, &text);
      LlTrial *t = ll_trial_copy(tmpl, n_axes);
      g_free(t->key);
      t->key = g_steal_pointer(&rkey);
      t->repeat = rep;
      notify_started(r, t);
      run_trial(r, t, text);
      record_trial(r, t);
    }
  }
  return TRUE;
}

/* Sweep configuration i: its point, label, overrides and spec text (NULL
 * with the trial's error set when it cannot be built). */
static LlTrial *sweep_config(Runner *r, int i, const char *key, char **text_out)
{
  LlStudy *s = r->s;
  int n_axes = (int)s->axes->len;
  g_autofree double *x = g_new0(double, n_axes);
  if (s->mode == LL_SEARCH_GRID) {
    ll_search_grid_point((LlAxis *)s->axes->data, n_axes, i, x);
  } else {
    g_autofree LlObservation *hist = g_new0(LlObservation, s->done->len + 1);
    int nh = 0;
    for (guint k = 0; k < s->done->len; k++) {
      LlTrial *o = g_ptr_array_index(s->done, k);
      if (!o->x)
        continue;
      hist[nh].x = o->x;
      hist[nh++].objective = o->status == LL_TRIAL_FINISHED ? o->metric : NAN;
    }
    ll_search_suggest((LlAxis *)s->axes->data, n_axes, s->mode, hist, nh, s->maximize, s->seed, i,
                      x);
  }
  LlTrial *t = trial_new();
  t->key = g_strdup(key);
  t->stage = g_strdup("sweep");
  t->x = g_memdup2(x, sizeof(double) * n_axes);
  g_autoptr(GPtrArray) ovs = g_ptr_array_new_with_free_func((GDestroyNotify)override_free);
  add_common_overrides(r, ovs);
  GString *label = g_string_new(NULL);
  gboolean prev_named = FALSE;
  for (int k = 0; k < n_axes; k++) {
    const LlAxis *a = &g_array_index(s->axes, LlAxis, k);
    g_autoptr(JsonNode) v = ll_axis_value(a, x[k]);
    add_override(ovs, a->path, v);
    json_object_set_member(t->values, a->path, node_dup(v));
    json_object_set_member(t->overrides, a->path, node_dup(v));
    const char *dot = strrchr(a->path, '.');
    g_autofree char *txt = value_words(v);
    /* an object with a type names itself ("SGD, lr 0.05"), set off by "; " */
    gboolean named =
        JSON_NODE_HOLDS_OBJECT(v) && json_object_has_member(json_node_get_object(v), "type");
    const char *sep = !k ? "" : named || prev_named ? "; " : " ";
    if (named)
      g_string_append_printf(label, "%s%s", sep, txt);
    else
      g_string_append_printf(label, "%s%s=%s", sep, dot ? dot + 1 : a->path, txt);
    prev_named = named;
  }
  t->label = g_string_free(label, FALSE);
  g_autoptr(GError) verr = NULL;
  *text_out =
      build_variant(s, s->spec, ovs, s->param_budget, s->solve_width, s->dir, &t->params, &verr);
  t->budget = s->param_budget;
  if (!*text_out)
    t->error = g_strdup_printf("%s: %s", t->label, verr->message);
  return t;
}

/* The best configuration of a stage (by its mean over seeds); of it, the
 * run of the same repeat, so that seed r of a later stage builds on seed r. */
static LlTrial *best_of_stage(LlStudy *s, const char *stage, const char *metric, gboolean max,
                              int repeat)
{
  int i = best_trial_index(s, stage, metric, max, repeat);
  /* finished trials without the metric still hand on their weights: the
   * same seed's, else the first */
  for (guint k = 0; k < s->done->len && i < 0; k++) {
    LlTrial *t = g_ptr_array_index(s->done, k);
    if (!strcmp(t->stage, stage) && t->status == LL_TRIAL_FINISHED && t->repeat == repeat)
      i = (int)k;
  }
  for (guint k = 0; k < s->done->len && i < 0; k++) {
    LlTrial *t = g_ptr_array_index(s->done, k);
    if (!strcmp(t->stage, stage) && t->status == LL_TRIAL_FINISHED)
      i = (int)k;
  }
  return i >= 0 ? g_ptr_array_index(s->done, i) : NULL;
}

/* init_from entries naming a stage -> entries naming that stage's best run. */
static JsonNode *resolve_init_from(LlStudy *s, JsonArray *inits, const char *metric, gboolean max,
                                   int repeat, GError **error)
{
  JsonArray *out = json_array_new();
  JsonNode *node = json_node_init_array(json_node_alloc(), out);
  json_array_unref(out);
  for (guint i = 0; i < json_array_get_length(inits); i++) {
    JsonObject *f = json_array_get_object_element(inits, i);
    if (!f) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "init_from[%u]: expected an object", i);
      json_node_unref(node);
      return NULL;
    }
    JsonObject *e = json_object_new();
    GList *m = json_object_get_members(f);
    for (GList *l = m; l; l = l->next)
      if (strcmp(l->data, "stage") && strcmp(l->data, "first"))
        json_object_set_member(e, l->data, node_dup(json_object_get_member(f, l->data)));
    g_list_free(m);
    const char *stage = str_member(f, "stage");
    if (stage) {
      LlTrial *b = best_of_stage(s, stage, metric, max, repeat);
      if (!b || !b->run_id) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                    "init_from[%u]: stage \"%s\" has no finished trial to load from", i, stage);
        json_object_unref(e);
        json_node_unref(node);
        return NULL;
      }
      g_autofree char *ref = g_strdup_printf("run:%s", b->run_id);
      json_object_set_string_member(e, "checkpoint", ref);
    }
    /* "first": N keeps the first N names of "blocks" (transfer depth) */
    if (json_object_has_member(f, "first") && json_object_has_member(f, "blocks")) {
      gint64 n = json_object_get_int_member(f, "first");
      JsonArray *bl = json_object_get_array_member(f, "blocks");
      JsonArray *cut = json_array_new();
      for (guint k = 0; k < json_array_get_length(bl) && (gint64)k < n; k++)
        json_array_add_element(cut, node_dup(json_array_get_element(bl, k)));
      json_object_set_array_member(e, "blocks", cut);
    }
    json_array_add_object_element(out, e);
  }
  return node;
}

/* A stage's export object after "$value" was replaced: NULL when absent. */
static gboolean export_member(JsonObject *stage, const char *member, JsonObject **out,
                              GError **error)
{
  JsonNode *n = json_object_get_member(stage, member);
  *out = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
  if (n && !*out) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE, "%s: expected an object, got %s", member,
                ll_json_type_name(n));
    return FALSE;
  }
  if (*out && !str_member(*out, "block")) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING, "%s needs a \"block\"", member);
    return FALSE;
  }
  return TRUE;
}

/* Which of a stage's trials writes: the index of its "repeat" value (-1:
 * the stage has none or one), and the stage before "${value}" was replaced. */
typedef struct {
  int value;
  JsonObject *stage;
} ExportOf;

/* Where an export writes: rel (or the default) inside the study folder. A
 * stage with several trials gives each a name of its own, so none replaces
 * another's: "outputs-2.csv" for the second value of "repeat" unless the
 * path holds ${value}, and "-r1" after that for the second seed. */
static char *export_path(Runner *r, const LlTrial *t, const ExportOf *of, JsonObject *e,
                         const char *member, const char *def, GError **error)
{
  const char *rel = str_member(e, "path");
  JsonNode *on = json_object_get_member(of->stage, member);
  const char *orig = on && JSON_NODE_HOLDS_OBJECT(on) ? str_member(json_node_get_object(on), "path")
                                                     : NULL;
  GString *suffix = g_string_new(NULL);
  if (of->value >= 0 && !strstr(orig ? orig : def, "${value}"))
    g_string_append_printf(suffix, "-%d", of->value + 1);
  if (t->repeat > 0)
    g_string_append_printf(suffix, "-r%d", t->repeat);
  g_autofree char *name = g_strdup(rel ? rel : def);
  if (suffix->len) {
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    const char *dot = strrchr(base, '.');
    gsize at = dot && dot > base ? (gsize)(dot - name) : strlen(name);
    g_autofree char *named = g_strdup_printf("%.*s%s%s", (int)at, name, suffix->str, name + at);
    g_free(name);
    name = g_steal_pointer(&named);
  }
  g_string_free(suffix, TRUE);
  g_autofree char *what = g_strdup_printf("%s: %s.path", r->s->file, member);
  if (!check_export_path(name, what, error))
    return NULL;
  return ll_path_inside(r->s->dir, name, what, error);
}

static gboolean run_export(Runner *r, LlTrial *t, JsonObject *stage, const ExportOf *of,
                           const char *text, GError **error)
{
  JsonObject *emb, *outs;
  if (!export_member(stage, "export_embeddings", &emb, error) ||
      !export_member(stage, "export_outputs", &outs, error))
    return FALSE;
  if (!emb && !outs)
    return TRUE;
  g_autoptr(LlSpec) spec = load_variant(text, t->label, error);
  if (!spec)
    return FALSE;
  shorten(r, spec); /* the samples the trial used */
  if (emb) {
    g_autofree char *dir = export_path(r, t, of, emb, "export_embeddings", "embeddings", error);
    if (!dir || !ll_export_embeddings(spec, t->checkpoint, str_member(emb, "block"), dir, error))
      return FALSE;
    json_object_set_string_member(t->metrics, "embeddings", dir);
  }
  if (outs) {
    g_autofree char *path = export_path(r, t, of, outs, "export_outputs", "outputs.csv", error);
    if (!path ||
        !ll_export_outputs_csv(
            spec, t->checkpoint, str_member(outs, "block"), str_member(outs, "target"),
            (int)json_object_get_int_member_with_default(outs, "samples", 8),
            json_object_get_boolean_member_with_default(outs, "sigmoid", FALSE), path, error))
      return FALSE;
    json_object_set_string_member(t->metrics, "outputs", path);
  }
  return TRUE;
}

static gboolean run_stages(Runner *r, GError **error)
{
  LlStudy *s = r->s;
  (void)error;
  r->total = 0;
  r->ref_epochs = 1;
  for (guint i = 0; i < s->stages->len; i++) {
    JsonObject *st = g_ptr_array_index(s->stages, i);
    JsonArray *rep =
        json_object_has_member(st, "repeat") ? json_object_get_array_member(st, "repeat") : NULL;
    guint nrep = rep ? json_array_get_length(rep) : 1;
    r->total += (int)nrep * r->repeats;
    /* the longest stage (each value of a repeat counts) is what --epochs shortens */
    for (guint k = 0; k < nrep; k++) {
      g_autoptr(JsonNode) stn = json_node_init_object(json_node_alloc(), st);
      g_autoptr(JsonNode) copy = node_dup(stn);
      if (rep)
        substitute_value(copy, json_array_get_element(rep, k));
      JsonObject *c = json_node_get_object(copy);
      g_autoptr(GPtrArray) ovs = g_ptr_array_new_with_free_func((GDestroyNotify)override_free);
      add_common_overrides(r, ovs);
      JsonNode *sov = json_object_get_member(c, "overrides");
      GList *m = sov && JSON_NODE_HOLDS_OBJECT(sov)
                     ? json_object_get_members(json_node_get_object(sov))
                     : NULL;
      for (GList *l = m; l; l = l->next)
        add_override(ovs, l->data, json_object_get_member(json_node_get_object(sov), l->data));
      g_list_free(m);
      JsonNode *spec = json_object_has_member(c, "spec") ? json_object_get_member(c, "spec") : s->spec;
      r->ref_epochs = (int)CLAMP(nominal_epochs(spec, ovs), r->ref_epochs, 100000);
    }
  }
  for (guint i = 0; i < s->stages->len && !r->cancelled; i++) {
    JsonObject *st0 = g_ptr_array_index(s->stages, i);
    const char *name = str_member(st0, "name");
    JsonArray *rep =
        json_object_has_member(st0, "repeat") ? json_object_get_array_member(st0, "repeat") : NULL;
    guint nrep = rep ? json_array_get_length(rep) : 1;
    for (guint k = 0; k < nrep * (guint)r->repeats && !r->cancelled; k++) {
      /* value k / repeats, seed repeat k % repeats: a value's seeds run together */
      int repeat = (int)(k % (guint)r->repeats);
      g_autofree char *vkey =
          rep ? g_strdup_printf("%s[%u]", name, k / (guint)r->repeats) : g_strdup(name);
      g_autofree char *key = repeat_key(vkey, repeat);
      if (adopt(r, key))
        continue;
      g_autoptr(JsonNode) stn = json_node_init_object(json_node_alloc(), st0);
      g_autoptr(JsonNode) copy = node_dup(stn);
      JsonNode *value = rep ? json_array_get_element(rep, k / (guint)r->repeats) : NULL;
      JsonObject *st = json_node_get_object(copy);
      json_object_remove_member(st, "repeat");
      if (value)
        substitute_value(copy, value);
      LlTrial *t = trial_new();
      t->key = g_strdup(key);
      t->repeat = repeat;
      t->stage = g_strdup(name);
      g_autofree char *vtext = value ? value_words(value) : NULL;
      /* a value that names itself ("SGD, lr 0.05") needs no stage name before it */
      gboolean named = value && JSON_NODE_HOLDS_OBJECT(value) &&
                       json_object_has_member(json_node_get_object(value), "type");
      t->label = !value  ? g_strdup(name)
                 : named ? g_strdup(vtext)
                         : g_strdup_printf("%s %s", name, vtext);
      if (value)
        json_object_set_member(t->values, "value", node_dup(value));
      const char *metric = str_member(st, "metric") ? str_member(st, "metric") : s->metric;
      gboolean max = str_member(st, "metric") ? metric_maximize(metric) : s->maximize;
      g_autoptr(GPtrArray) ovs = g_ptr_array_new_with_free_func((GDestroyNotify)override_free);
      add_common_overrides(r, ovs);
      g_autoptr(GError) verr = NULL;
      const char *best_of = str_member(st, "best_of");
      if (best_of) {
        LlTrial *b = best_of_stage(s, best_of, metric, max, repeat);
        if (!b)
          verr = g_error_new(LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                             "best_of: stage \"%s\" has no finished trial", best_of);
        GList *m = b ? json_object_get_members(b->overrides) : NULL;
        for (GList *l = m; l; l = l->next) {
          JsonNode *v = json_object_get_member(b->overrides, l->data);
          add_override(ovs, l->data, v);
          json_object_set_member(t->overrides, l->data, node_dup(v));
          json_object_set_member(t->values, l->data, node_dup(v));
        }
        g_list_free(m);
      }
      JsonObject *sov = json_object_has_member(st, "overrides")
                            ? json_object_get_object_member(st, "overrides")
                            : NULL;
      GList *m = sov ? json_object_get_members(sov) : NULL;
      for (GList *l = m; l; l = l->next) {
        add_override(ovs, l->data, json_object_get_member(sov, l->data));
        json_object_set_member(t->overrides, l->data,
                               node_dup(json_object_get_member(sov, l->data)));
      }
      g_list_free(m);
      /* "frozen": [names] or {"blocks": [names], "first": N} (the first N of them) */
      JsonNode *fz = json_object_get_member(st, "frozen");
      JsonArray *frozen = NULL;
      gint64 n_frozen = G_MAXINT64;
      if (fz && JSON_NODE_HOLDS_ARRAY(fz)) {
        frozen = json_node_get_array(fz);
      } else if (fz && JSON_NODE_HOLDS_OBJECT(fz)) {
        JsonObject *fo = json_node_get_object(fz);
        frozen = json_object_has_member(fo, "blocks") ? json_object_get_array_member(fo, "blocks")
                                                      : NULL;
        n_frozen = json_object_get_int_member_with_default(fo, "first", G_MAXINT64);
      } else if (fz && !verr) {
        verr = g_error_new(LL_SPEC_ERROR, LL_SPEC_ERROR_TYPE,
                           "frozen: expected [block names] or {\"blocks\": [...], \"first\": N}");
      }
      g_autoptr(JsonNode) yes = json_node_init_boolean(json_node_alloc(), TRUE);
      for (guint f = 0; frozen && f < json_array_get_length(frozen) && (gint64)f < n_frozen; f++) {
        g_autofree char *p =
            g_strdup_printf("graph.blocks.%s.frozen", json_array_get_string_element(frozen, f));
        add_override(ovs, p, yes);
      }
      JsonArray *inits = json_object_has_member(st, "init_from")
                             ? json_object_get_array_member(st, "init_from")
                             : NULL;
      if (inits && !verr) {
        g_autoptr(JsonNode) resolved = resolve_init_from(s, inits, metric, max, repeat, &verr);
        if (resolved)
          add_override(ovs, "training.init_from", resolved);
      }
      JsonNode *spec =
          json_object_has_member(st, "spec") ? json_object_get_member(st, "spec") : s->spec;
      gint64 budget = json_object_get_int_member_with_default(st, "param_budget", s->param_budget);
      const char *width =
          str_member(st, "solve_width") ? str_member(st, "solve_width") : s->solve_width;
      g_autofree char *text = NULL;
      if (!verr && budget > 0 && !width)
        verr =
            g_error_new(LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING, "param_budget needs \"solve_width\"");
      if (!verr)
        text = build_variant(s, spec, ovs, budget, width, s->dir, &t->params, &verr);
      t->budget = budget;
      if (verr)
        t->error = g_strdup_printf("stage \"%s\": %s", t->label, verr->message);
      notify_started(r, t);
      run_trial(r, t, text);
      g_autoptr(GError) xerr = NULL;
      ExportOf of = {.value = rep && nrep > 1 ? (int)(k / (guint)r->repeats) : -1, .stage = st0};
      if (t->status == LL_TRIAL_FINISHED && !run_export(r, t, st, &of, text, &xerr)) {
        t->status = LL_TRIAL_FAILED;
        t->error = g_strdup_printf("stage \"%s\": export: %s", t->label, xerr->message);
      }
      /* a stage's trials are compared by the stage's own metric */
      t->metric = metric_of(t, metric);
      record_trial(r, t);
    }
  }
  return TRUE;
}

gboolean ll_study_run(LlStudy *s, const LlStudyOptions *opts, const LlStudyCallbacks *cb,
                      gpointer data, GError **error)
{
  LlStudyOptions none = {0};
  if (!opts)
    opts = &none;
  g_autoptr(LlRunStore) store = ll_run_store_open(opts->store_root, error);
  if (!store)
    return FALSE;
  g_ptr_array_set_size(s->done, 0);
  s->best = -1;
  g_free(s->id);
  g_free(s->dir);
  Runner r = {.s = s,
              .opts = opts,
              .cb = cb,
              .data = data,
              .resumed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify)trial_free)};
  if (opts->resume) {
    s->id = g_strdup(opts->resume);
    s->dir = ll_study_store_dir(ll_run_store_root(store), s->id, error);
    if (!s->dir) {
      g_hash_table_unref(r.resumed);
      return FALSE;
    }
  } else {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    s->id = g_strdup_printf("%s-%04x", stamp, g_random_int_range(0, 0x10000));
    s->dir = g_build_filename(ll_run_store_root(store), "studies", s->id, NULL);
    if (g_mkdir_with_parents(s->dir, 0755) != 0) {
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO, "%s: %s", s->dir,
                  g_strerror(errno));
      g_hash_table_unref(r.resumed);
      return FALSE;
    }
  }
  ll_run_store_close(g_steal_pointer(&store));
  r.repeats = opts->repeats > 0 ? MIN(opts->repeats, LL_STUDY_MAX_REPEATS) : s->repeats;
  s->repeats = r.repeats; /* study.json says how it ran */
  r.jsonl_path = g_build_filename(s->dir, "trials.jsonl", NULL);
  g_autofree char *sj = ll_study_to_json(s);
  g_autofree char *sp = g_build_filename(s->dir, "study.json", NULL);
  gboolean ok = g_file_set_contents(sp, sj, -1, error);
  if (ok && opts->resume) {
    g_autoptr(GPtrArray) old = read_trials(r.jsonl_path, (int)s->axes->len);
    if (old) {
      for (guint i = 0; i < old->len; i++) {
        LlTrial *t = g_steal_pointer(&old->pdata[i]); /* the table owns it now */
        if (t->key)
          g_hash_table_replace(r.resumed, g_strdup(t->key), t);
        else
          trial_free(t);
      }
      /* trials.jsonl is rewritten in the order of this run */
      g_autofree char *bak = g_strconcat(r.jsonl_path, ".resumed", NULL);
      g_rename(r.jsonl_path, bak);
    }
  }
  if (ok) {
    ok = s->stages ? run_stages(&r, error) : run_sweep(&r, error);
    /* resumed trials that this run did not reach stay on record */
    for (guint i = 0; ok && i < s->done->len; i++) {
      LlTrial *t = g_ptr_array_index(s->done, i);
      if (!g_hash_table_contains(r.resumed, t->key))
        continue;
    }
    if (opts->resume) {
      /* write the adopted trials back in order, then remove the old file */
      g_autofree char *bak = g_strconcat(r.jsonl_path, ".resumed", NULL);
      GString *all = g_string_new(NULL);
      for (guint i = 0; i < s->done->len; i++) {
        g_autofree char *line = trial_to_line(g_ptr_array_index(s->done, i));
        g_string_append_printf(all, "%s\n", line);
      }
      g_file_set_contents(r.jsonl_path, all->str, (gssize)all->len, NULL);
      g_string_free(all, TRUE);
      g_unlink(bak);
    }
  }
  if (ok)
    write_results(s, NULL);
  if (ok && r.cancelled) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled; resume with --resume %s",
                s->id);
    ok = FALSE;
  }
  g_hash_table_unref(r.resumed);
  g_free(r.jsonl_path);
  return ok;
}

char *ll_study_store_dir(const char *store_root, const char *id, GError **error)
{
  if (!ll_store_id_check(id, "study id", error))
    return NULL;
  g_autofree char *rel = g_build_filename("studies", id, NULL);
  g_autofree char *what = g_strdup_printf("study \"%s\"", id);
  g_autofree char *dir = ll_path_inside(store_root, rel, what, error);
  if (!dir)
    return NULL;
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND,
                "no study \"%s\" in %s/studies", id, store_root);
    return NULL;
  }
  return g_steal_pointer(&dir);
}

LlStudy *ll_study_open_dir(const char *dir, GError **error)
{
  g_autofree char *sp = g_build_filename(dir, "study.json", NULL);
  if (!g_file_test(sp, G_FILE_TEST_EXISTS)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "%s is not a study folder (it has no study.json)", dir);
    return NULL;
  }
  LlStudy *s = ll_study_load_file(sp, error);
  if (!s)
    return NULL;
  g_autofree char *tp = g_build_filename(dir, "trials.jsonl", NULL);
  g_autoptr(GPtrArray) trials = read_trials(tp, (int)s->axes->len);
  if (!trials) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: no trials.jsonl (no trial finished)",
                dir);
    ll_study_free(s);
    return NULL;
  }
  g_ptr_array_extend_and_steal(s->done, g_steal_pointer(&trials));
  update_best(s);
  s->dir = g_canonicalize_filename(dir, NULL);
  s->id = g_path_get_basename(s->dir);
  return s;
}
