/* ll-document.c: the edited spec, its undo stack of graph snapshots, and
 * autosave. */
#include "ll-document.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "device.h"
#include "json-doc.h"
#include "json-writer.h"
#include "ll-canvas-geometry.h"

#define UNDO_DEPTH 200

struct _LlDocument {
  GObject parent_instance;
  LlSpec *spec;
  char *path;
  gboolean modified;
  gboolean autosave;
  char *autosave_file; /* this document's own: <pid>-<uuid>.json in the autosave folder */
  GPtrArray *undo, *redo; /* char*: graph JSON before each edit */
  char *coalesce_key;     /* "block\nprop" of the last property edit */
  char *move_snapshot;    /* graph JSON when the current move began */
  gboolean moved;
  GError *error;
  char *error_block;
  LlSummary *summary;
  GStrv dangling; /* blocks whose output is unused */
  /* the data's batch fields, for the loss check: read on a worker when the
   * data settings change (NULL until then; the check then guesses) */
  GArray *fields;                   /* LlFieldInfo */
  char *fields_key, *fields_wanted; /* the data settings they are for / being read */
};

G_DEFINE_FINAL_TYPE(LlDocument, ll_document, G_TYPE_OBJECT)

enum { PROP_0, PROP_CAN_UNDO, PROP_CAN_REDO, PROP_MODIFIED, PROP_AUTOSAVE, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIGNAL_CHANGED, SIGNAL_REPLACED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The autosave files of this process's documents: not to be restored by
 * another of its windows. */
G_LOCK_DEFINE_STATIC(live);
static GHashTable *live_files;

static void ll_document_finalize(GObject *object)
{
  LlDocument *doc = LL_DOCUMENT(object);
  ll_spec_free(doc->spec);
  g_free(doc->path);
  G_LOCK(live);
  g_hash_table_remove(live_files, doc->autosave_file);
  G_UNLOCK(live);
  g_free(doc->autosave_file);
  g_ptr_array_unref(doc->undo);
  g_ptr_array_unref(doc->redo);
  g_free(doc->coalesce_key);
  g_free(doc->move_snapshot);
  g_clear_error(&doc->error);
  g_free(doc->error_block);
  ll_summary_free(doc->summary);
  g_strfreev(doc->dangling);
  if (doc->fields)
    g_array_unref(doc->fields);
  g_free(doc->fields_key);
  g_free(doc->fields_wanted);
  G_OBJECT_CLASS(ll_document_parent_class)->finalize(object);
}

static void ll_document_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  LlDocument *doc = LL_DOCUMENT(object);
  switch (id) {
  case PROP_CAN_UNDO: g_value_set_boolean(value, doc->undo->len > 0); break;
  case PROP_CAN_REDO: g_value_set_boolean(value, doc->redo->len > 0); break;
  case PROP_MODIFIED: g_value_set_boolean(value, doc->modified); break;
  case PROP_AUTOSAVE: g_value_set_boolean(value, doc->autosave); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void ll_document_set_property(GObject *object, guint id, const GValue *value,
                                     GParamSpec *pspec)
{
  LlDocument *doc = LL_DOCUMENT(object);
  switch (id) {
  case PROP_AUTOSAVE: doc->autosave = g_value_get_boolean(value); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

static void ll_document_class_init(LlDocumentClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->finalize = ll_document_finalize;
  oc->get_property = ll_document_get_property;
  oc->set_property = ll_document_set_property;
  props[PROP_CAN_UNDO] = g_param_spec_boolean("can-undo", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_CAN_REDO] = g_param_spec_boolean("can-redo", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_MODIFIED] = g_param_spec_boolean("modified", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_AUTOSAVE] =
      g_param_spec_boolean("autosave", NULL, "Write the spec to the autosave file after every edit",
                           FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_REPLACED] = g_signal_new("replaced", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void claim_autosave(LlDocument *doc, const char *file)
{
  G_LOCK(live);
  if (!live_files)
    live_files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  if (doc->autosave_file)
    g_hash_table_remove(live_files, doc->autosave_file);
  g_free(doc->autosave_file);
  doc->autosave_file = g_strdup(file);
  g_hash_table_add(live_files, g_strdup(file));
  G_UNLOCK(live);
}

static void ll_document_init(LlDocument *doc)
{
  g_autofree char *uuid = g_uuid_string_random();
  g_autofree char *file = g_strdup_printf("%d-%s.json", (int)getpid(), uuid);
  claim_autosave(doc, file);
  doc->undo = g_ptr_array_new_with_free_func(g_free);
  doc->redo = g_ptr_array_new_with_free_func(g_free);
  doc->spec = ll_spec_new();
}

LlDocument *ll_document_new(void)
{
  LlDocument *doc = g_object_new(LL_TYPE_DOCUMENT, NULL);
  ll_document_reset(doc);
  return doc;
}

LlSpec *ll_document_get_spec(LlDocument *doc) { return doc->spec; }
const GError *ll_document_get_error(LlDocument *doc) { return doc->error; }
const char *ll_document_get_error_block(LlDocument *doc) { return doc->error_block; }
const LlSummary *ll_document_get_summary(LlDocument *doc) { return doc->summary; }
const char *ll_document_get_path(LlDocument *doc) { return doc->path; }
gboolean ll_document_get_modified(LlDocument *doc) { return doc->modified; }
gboolean ll_document_can_undo(LlDocument *doc) { return doc->undo->len > 0; }
gboolean ll_document_can_redo(LlDocument *doc) { return doc->redo->len > 0; }

char *ll_document_autosave_dir(void)
{
  return g_build_filename(g_get_user_state_dir(), "layerlab", "autosave", NULL);
}

char *ll_document_autosave_path(LlDocument *doc)
{
  g_autofree char *dir = ll_document_autosave_dir();
  return g_build_filename(dir, doc->autosave_file, NULL);
}

/* Whether the process that wrote an autosave named "<pid>-..." still runs
 * (then it is that process's live document, not a crashed one). */
static gboolean writer_alive(const char *name)
{
  char *end;
  gint64 pid = g_ascii_strtoll(name, &end, 10);
  if (end == name || *end != '-' || pid <= 0 || pid > G_MAXINT)
    return FALSE;
  if (pid == getpid())
    return FALSE; /* this process: its live documents are in live_files */
  return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static int by_mtime_desc(gconstpointer a, gconstpointer b)
{
  GStatBuf sa, sb;
  const char *pa = *(const char *const *)a, *pb = *(const char *const *)b;
  if (g_stat(pa, &sa) || g_stat(pb, &sb))
    return 0;
  return sa.st_mtime < sb.st_mtime ? 1 : sa.st_mtime > sb.st_mtime ? -1 : 0;
}

GPtrArray *ll_document_list_autosaves(void)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *dir = ll_document_autosave_dir();
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    if (!g_str_has_suffix(name, ".json") || writer_alive(name))
      continue;
    G_LOCK(live);
    gboolean live = live_files && g_hash_table_contains(live_files, name);
    G_UNLOCK(live);
    if (!live)
      g_ptr_array_add(out, g_build_filename(dir, name, NULL));
  }
  g_ptr_array_sort(out, by_mtime_desc);
  return out;
}

gboolean ll_document_restore_autosave(LlDocument *doc, const char *path, GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return FALSE;
  if (!ll_document_load_data(doc, text, "autosave", error))
    return FALSE;
  /* the restored edits are this document's now: its next edits overwrite
   * that file, and saving or discarding them removes it */
  g_autofree char *name = g_path_get_basename(path);
  claim_autosave(doc, name);
  ll_document_mark_modified(doc);
  return TRUE;
}

const char *const *ll_document_get_dangling(LlDocument *doc)
{
  return (const char *const *)doc->dangling;
}

gboolean ll_document_data_known(LlDocument *doc) { return doc->fields != NULL; }

/* Resolves and infers the graph again (as far as it goes: the blocks before
 * a wrong one keep their shapes), then checks the losses against it and
 * the data; keeps the error and its block, and the dangling blocks. */
static void revalidate(LlDocument *doc)
{
  g_clear_error(&doc->error);
  g_clear_pointer(&doc->error_block, g_free);
  g_clear_pointer(&doc->summary, ll_summary_free);
  g_clear_pointer(&doc->dangling, g_strfreev);
  LlGraph *g = doc->spec->graph;
  gboolean ok = ll_graph_infer_partial(g, &doc->error);
  if (g->order->len)
    doc->summary = ll_summary_new(g);
  if (!ok) {
    if (g->error_block)
      doc->error_block = g_strdup(g->error_block->name);
    return;
  }
  g_autoptr(GPtrArray) dangling = ll_spec_dangling_blocks(doc->spec);
  if (dangling->len) {
    doc->dangling = g_new0(char *, dangling->len + 1);
    for (guint i = 0; i < dangling->len; i++)
      doc->dangling[i] = g_strdup(((LlBlock *)dangling->pdata[i])->name);
  }
  const LlBlock *bad = NULL;
  if (!ll_spec_check_losses(doc->spec, doc->fields ? (LlFieldInfo *)doc->fields->data : NULL,
                            doc->fields ? (int)doc->fields->len : 0, &bad, &doc->error) &&
      bad)
    doc->error_block = g_strdup(bad->name);
}

/* ---- the data's fields, read on a worker ---- */

/* The spec's "data" settings as text: what the fields depend on. */
static char *data_key(const LlSpec *s)
{
  g_autofree char *json = ll_spec_to_json(s);
  g_autoptr(JsonNode) root = json_from_string(json, NULL);
  JsonObject *o = root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
  JsonNode *data = o ? json_object_get_member(o, "data") : NULL;
  return data ? ll_json_node_to_line(data) : g_strdup("");
}

typedef struct {
  char *key, *spec_json;
} FieldsJob;

static void fields_job_free(gpointer p)
{
  FieldsJob *j = p;
  g_free(j->key);
  g_free(j->spec_json);
  g_free(j);
}

static void read_fields_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  FieldsJob *j = data;
  GError *error = NULL;
  g_autoptr(LlSpec) s =
      ll_spec_load_draft_data(j->spec_json, -1, "the data settings", NULL, &error);
  LlDataset *train = NULL, *test = NULL;
  if (!s || !ll_dataset_spec_open(&s->dataset, s->seed, &train, &test, &error)) {
    g_task_return_error(task, error);
    return;
  }
  /* the statistics of a few samples are enough to name the fields */
  g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint32));
  for (guint32 i = 0; i < MIN(train->n, 64u); i++)
    g_array_append_val(idx, i);
  LlPipeline *p = ll_pipeline_new(train, &s->pipeline, idx, &error);
  GArray *fields = NULL;
  if (p) {
    LlFieldInfo f[16];
    int n = ll_pipeline_get_fields(p, f, G_N_ELEMENTS(f));
    fields = g_array_sized_new(FALSE, FALSE, sizeof(LlFieldInfo), n);
    g_array_append_vals(fields, f, n);
    ll_pipeline_free(p);
  }
  ll_dataset_free(train);
  ll_dataset_free(test);
  if (fields)
    g_task_return_pointer(task, fields, (GDestroyNotify)g_array_unref);
  else
    g_task_return_error(task, error);
}

static void read_fields_done(GObject *src, GAsyncResult *res, gpointer data)
{
  LlDocument *doc = LL_DOCUMENT(src);
  const char *key = ((FieldsJob *)g_task_get_task_data(G_TASK(res)))->key;
  g_autoptr(GError) error = NULL;
  GArray *fields = g_task_propagate_pointer(G_TASK(res), &error);
  if (g_strcmp0(key, doc->fields_wanted)) {
    /* the settings changed meanwhile: a newer read is on its way */
    if (fields)
      g_array_unref(fields);
    return;
  }
  g_clear_pointer(&doc->fields_wanted, g_free);
  if (!fields)
    return; /* no data to read (yet): the check guesses; training says why */
  if (doc->fields)
    g_array_unref(doc->fields);
  doc->fields = fields;
  g_free(doc->fields_key);
  doc->fields_key = g_strdup(key);
  revalidate(doc);
  g_signal_emit(doc, signals[SIGNAL_CHANGED], 0);
}

/* Starts reading the data's fields when its settings changed. */
static void ensure_fields(LlDocument *doc)
{
  g_autofree char *key = data_key(doc->spec);
  if (!g_strcmp0(key, doc->fields_key) || !g_strcmp0(key, doc->fields_wanted))
    return;
  if (doc->fields) {
    g_array_unref(doc->fields);
    doc->fields = NULL;
  }
  g_clear_pointer(&doc->fields_key, g_free);
  g_free(doc->fields_wanted);
  doc->fields_wanted = g_strdup(key);
  GTask *task = g_task_new(doc, NULL, read_fields_done, NULL);
  /* the thread reads a spec of its own, made from the current one */
  FieldsJob *j = g_new0(FieldsJob, 1);
  j->key = g_strdup(key);
  j->spec_json = ll_spec_to_json(doc->spec);
  g_task_set_task_data(task, j, fields_job_free);
  g_task_run_in_thread(task, read_fields_thread);
  g_object_unref(task);
}

static void autosave(LlDocument *doc)
{
  if (!doc->autosave)
    return;
  g_autofree char *json = ll_spec_to_json(doc->spec);
  /* only what opens again is worth restoring; a graph with a mistake in it
   * (a block deleted mid-chain) does, and is the work most worth keeping */
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) check = ll_spec_load_draft_data(json, -1, "autosave", NULL, &error);
  if (!check)
    return;
  g_autofree char *path = ll_document_autosave_path(doc);
  g_autofree char *dir = g_path_get_dirname(path);
  g_mkdir_with_parents(dir, 0700);
  if (!g_file_set_contents(path, json, -1, &error))
    g_warning("autosave: %s", error->message);
}

/* The autosave holds edits no file has: once the document has none (saved,
 * replaced, or the user discarded them) there is nothing to restore. */
void ll_document_forget_autosave(LlDocument *doc)
{
  if (!doc->autosave)
    return;
  g_autofree char *path = ll_document_autosave_path(doc);
  g_remove(path);
}

static void notify_all(LlDocument *doc)
{
  g_object_notify_by_pspec(G_OBJECT(doc), props[PROP_CAN_UNDO]);
  g_object_notify_by_pspec(G_OBJECT(doc), props[PROP_CAN_REDO]);
  g_object_notify_by_pspec(G_OBJECT(doc), props[PROP_MODIFIED]);
  g_signal_emit(doc, signals[SIGNAL_CHANGED], 0);
}

/* After an edit: the graph is checked again, written out, and shown. */
static void commit(LlDocument *doc)
{
  /* a block deleted is no longer the one to embed (a saved spec naming it
   * would not load); undo brings both back */
  LlSpec *s = doc->spec;
  if (s->embedding_block && !ll_graph_find(s->graph, s->embedding_block))
    g_clear_pointer(&s->embedding_block, g_free);
  doc->modified = TRUE;
  revalidate(doc);
  autosave(doc);
  notify_all(doc);
}

/* An undo snapshot: {"graph": the graph with positions, "init_from": [...],
 * "embedding_block": record.embedding_block or null}
 * (the blocks carry their "frozen" flag, so a transfer set up in one edit
 * is undone in one step). */
static char *snapshot(LlDocument *doc)
{
  JsonNode *node = ll_spec_graph_to_json(doc->spec->graph, doc->spec->positions);
  g_autofree char *graph = ll_json_node_to_line(node);
  json_node_unref(node);
  g_autofree char *init_from = ll_spec_init_from_to_json(doc->spec);
  JsonNode *eb = json_node_new(JSON_NODE_NULL);
  if (doc->spec->embedding_block)
    json_node_init_string(eb, doc->spec->embedding_block);
  g_autofree char *embedding = ll_json_node_to_line(eb);
  json_node_unref(eb);
  /* each loss's weight, in the order of the losses (the panel edits them) */
  g_autoptr(GString) weights = g_string_new("[");
  for (guint i = 0; i < doc->spec->losses->len; i++) {
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    const LlLossSpec *l = g_ptr_array_index(doc->spec->losses, i);
    g_string_append_printf(weights, "%s%s", i ? "," : "",
                           g_ascii_dtostr(num, sizeof num, l->weight));
  }
  g_string_append_c(weights, ']');
  return g_strdup_printf("{\"graph\":%s,\"init_from\":%s,\"embedding_block\":%s,"
                         "\"loss_weights\":%s}",
                         graph, init_from, embedding, weights->str);
}

static void push_undo_text(LlDocument *doc, char *text)
{
  g_ptr_array_add(doc->undo, text);
  if (doc->undo->len > UNDO_DEPTH)
    g_ptr_array_remove_index(doc->undo, 0);
  g_ptr_array_set_size(doc->redo, 0);
}

static void push_undo(LlDocument *doc)
{
  g_clear_pointer(&doc->coalesce_key, g_free);
  push_undo_text(doc, snapshot(doc));
}

/* Replaces the spec's graph with the one in a snapshot. The snapshot may
 * hold an invalid graph (an edit can leave one): the parser has added every
 * block before it infers, so a graph error is no reason to refuse it. */
static gboolean restore(LlDocument *doc, const char *text, GError **error)
{
  g_autoptr(LlJsonDoc) jd = ll_json_doc_load_data(text, -1, "graph", error);
  if (!jd)
    return FALSE;
  LlGraph *g = ll_graph_new();
  GHashTable *pos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  JsonObject *top = json_node_get_object(jd->root);
  JsonObject *go = json_object_get_object_member(top, "graph");
  JsonArray *blocks = json_object_get_array_member(go, "blocks");
  GError *perr = NULL;
  if (blocks && json_array_get_length(blocks) > 0 && !ll_spec_parse_graph(jd, go, g, pos, &perr)) {
    if (!g_error_matches(perr, LL_SPEC_ERROR, LL_SPEC_ERROR_GRAPH)) {
      g_propagate_error(error, perr);
      ll_graph_free(g);
      g_hash_table_unref(pos);
      return FALSE;
    }
    g_error_free(perr);
  }
  LlGraph *old_graph = doc->spec->graph;
  GPtrArray *old_init = doc->spec->init_from;
  doc->spec->graph = g;
  doc->spec->init_from = g_ptr_array_new_with_free_func((GDestroyNotify)ll_init_from_free);
  if (!ll_spec_parse_init_from(jd, top, doc->spec, error)) {
    g_ptr_array_unref(doc->spec->init_from);
    doc->spec->graph = old_graph;
    doc->spec->init_from = old_init;
    ll_graph_free(g);
    g_hash_table_unref(pos);
    return FALSE;
  }
  ll_graph_free(old_graph);
  g_ptr_array_unref(old_init);
  g_free(doc->spec->embedding_block);
  doc->spec->embedding_block =
      g_strdup(json_object_get_string_member_with_default(top, "embedding_block", NULL));
  g_hash_table_unref(doc->spec->positions);
  doc->spec->positions = pos;
  JsonArray *weights = json_object_get_array_member(top, "loss_weights");
  if (weights && json_array_get_length(weights) == doc->spec->losses->len)
    for (guint i = 0; i < doc->spec->losses->len; i++)
      ((LlLossSpec *)g_ptr_array_index(doc->spec->losses, i))->weight =
          json_array_get_double_element(weights, i);
  return TRUE;
}

static gboolean has_positions(LlDocument *doc)
{
  LlGraph *g = doc->spec->graph;
  for (guint i = 0; i < g->blocks->len; i++)
    if (!g_hash_table_contains(doc->spec->positions, ((LlBlock *)g->blocks->pdata[i])->name))
      return FALSE;
  return TRUE;
}

static void take_spec(LlDocument *doc, LlSpec *spec, const char *path)
{
  ll_spec_free(doc->spec);
  doc->spec = spec;
  g_free(doc->path);
  doc->path = g_strdup(path);
  g_ptr_array_set_size(doc->undo, 0);
  g_ptr_array_set_size(doc->redo, 0);
  g_clear_pointer(&doc->coalesce_key, g_free);
  doc->modified = FALSE;
  revalidate(doc);
  ensure_fields(doc);
  if (!has_positions(doc))
    ll_document_auto_layout(doc), g_ptr_array_set_size(doc->undo, 0);
  doc->modified = FALSE;
  ll_document_forget_autosave(doc);
  notify_all(doc);
  g_signal_emit(doc, signals[SIGNAL_REPLACED], 0);
}

void ll_document_reset(LlDocument *doc)
{
  LlSpec *s = ll_spec_new();
  ll_spec_set_new_training(s);
  LlBlock *b = ll_graph_add(s->graph, "Input", "image", NULL);
  ll_block_set_prop_string(b, "shape", "1,28,28", NULL);
  g_hash_table_insert(s->positions, g_strdup("image"), g_strdup("40,40"));
  take_spec(doc, s, NULL);
}

gboolean ll_document_load_file(LlDocument *doc, const char *path, GError **error)
{
  /* a graph error is shown on its block, as after an edit */
  LlSpec *s = ll_spec_load_draft_file(path, NULL, error);
  if (!s)
    return FALSE;
  take_spec(doc, s, path);
  return TRUE;
}

gboolean ll_document_load_data(LlDocument *doc, const char *json, const char *display_name,
                               GError **error)
{
  LlSpec *s = ll_spec_load_draft_data(json, -1, display_name, NULL, error);
  if (!s)
    return FALSE;
  take_spec(doc, s, NULL);
  return TRUE;
}

gboolean ll_document_save_file(LlDocument *doc, const char *path, GError **error)
{
  if (!ll_spec_save_file(doc->spec, path, error))
    return FALSE;
  if (g_strcmp0(doc->path, path)) {
    g_free(doc->path);
    doc->path = g_strdup(path);
  }
  doc->modified = FALSE;
  ll_document_forget_autosave(doc);
  g_object_notify_by_pspec(G_OBJECT(doc), props[PROP_MODIFIED]);
  return TRUE;
}

static char *unique_name(LlGraph *g, const char *base)
{
  g_autofree char *low = g_ascii_strdown(base, -1);
  for (int i = 1;; i++) {
    char *name = g_strdup_printf("%s%d", low, i);
    if (!ll_graph_find(g, name))
      return name;
    g_free(name);
  }
}

static void set_pos(LlDocument *doc, const char *name, double x, double y)
{
  char bx[40], by[40];
  g_hash_table_insert(doc->spec->positions, g_strdup(name),
                      g_strdup_printf("%s,%s", ll_format_double(round(x), bx, sizeof bx),
                                      ll_format_double(round(y), by, sizeof by)));
}

gboolean ll_document_get_position(LlDocument *doc, const char *block, double *x, double *y)
{
  const char *pos = g_hash_table_lookup(doc->spec->positions, block);
  *x = *y = 0;
  if (!pos)
    return FALSE;
  char *end;
  *x = g_ascii_strtod(pos, &end);
  if (*end == ',')
    *y = g_ascii_strtod(end + 1, NULL);
  return TRUE;
}

/* Moves from and every block that reads it, directly or not, down by dy. */
static void shift_downstream(LlDocument *doc, LlBlock *from, double dy)
{
  LlGraph *g = doc->spec->graph;
  g_autoptr(GHashTable) moved = g_hash_table_new(g_str_hash, g_str_equal);
  g_hash_table_add(moved, from->name);
  for (gboolean grew = TRUE; grew;) {
    grew = FALSE;
    for (guint i = 0; i < g->blocks->len; i++) {
      LlBlock *c = g_ptr_array_index(g->blocks, i);
      for (int k = 0; !g_hash_table_contains(moved, c->name) && k < c->n_inputs; k++)
        if (g_hash_table_contains(moved, c->input_names[k]))
          grew = g_hash_table_add(moved, c->name);
    }
  }
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, moved);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    double x, y;
    if (ll_document_get_position(doc, key, &x, &y))
      set_pos(doc, key, x, y + dy);
  }
}

/* Puts b into the edge that feeds input port of consumer: b reads what the
 * consumer read there, the consumer reads b. b takes the consumer's place
 * (x, y) when it has one; it and what follows it move down a row. */
static void splice(LlDocument *doc, LlBlock *b, LlBlock *consumer, int port, double *x, double *y)
{
  ll_block_connect(b, consumer->input_names[port]);
  g_free(consumer->input_names[port]);
  consumer->input_names[port] = g_strdup(b->name);
  double cx, cy;
  if (ll_document_get_position(doc, consumer->name, &cx, &cy)) {
    shift_downstream(doc, consumer, LL_BLOCK_H + LL_BLOCK_GAP_Y);
    *x = cx;
    *y = cy;
  }
}

/* A new block of type type, named after it; NULL (and no undo step) for an
 * unknown type. The caller commits. */
static LlBlock *new_block(LlDocument *doc, const char *type, GError **error)
{
  if (!ll_block_lookup(type)) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNKNOWN_BLOCK, "unknown block type \"%s\"",
                type);
    return NULL;
  }
  push_undo(doc);
  g_autofree char *name = unique_name(doc->spec->graph, type);
  LlBlock *b = ll_graph_add(doc->spec->graph, type, name, error);
  if (!b) /* cannot happen: the type and the name were checked */
    g_free(g_ptr_array_steal_index(doc->undo, doc->undo->len - 1));
  return b;
}

char *ll_document_add_block(LlDocument *doc, const char *type, double x, double y,
                            const char *connect_from, GError **error)
{
  LlGraph *g = doc->spec->graph;
  LlBlock *b = new_block(doc, type, error);
  if (!b)
    return NULL;
  if (connect_from && b->desc->max_inputs > 0 && ll_graph_find(g, connect_from)) {
    /* the block that reads connect_from, when exactly one does: the new
     * block goes into that edge (it reads connect_from, the consumer reads it) */
    LlBlock *consumer = NULL;
    int port = -1, readers = 0;
    for (guint i = 0; i < g->blocks->len; i++) {
      LlBlock *c = g_ptr_array_index(g->blocks, i);
      for (int k = 0; c != b && k < c->n_inputs; k++)
        if (!strcmp(c->input_names[k], connect_from)) {
          readers += consumer != c;
          consumer = c;
          port = k;
        }
    }
    if (readers == 1)
      splice(doc, b, consumer, port, &x, &y);
    else
      ll_block_connect(b, connect_from);
  }
  set_pos(doc, b->name, x, y);
  commit(doc);
  return g_strdup(b->name);
}

char *ll_document_splice_block(LlDocument *doc, const char *type, const char *to, int input,
                               GError **error)
{
  LlBlock *consumer = ll_graph_find(doc->spec->graph, to);
  if (!consumer || input < 0 || input >= consumer->n_inputs) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION, "no edge into \"%s\"", to);
    return NULL;
  }
  const LlBlockDesc *d = ll_block_lookup(type);
  if (d && d->max_inputs == 0) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION,
                "%s blocks take no input: one cannot go into a wire", d->type);
    return NULL;
  }
  LlBlock *b = new_block(doc, type, error);
  if (!b)
    return NULL;
  double x = 40, y = 40;
  splice(doc, b, consumer, input, &x, &y);
  set_pos(doc, b->name, x, y);
  commit(doc);
  return g_strdup(b->name);
}

gboolean ll_document_connect(LlDocument *doc, const char *from, const char *to, GError **error)
{
  LlGraph *g = doc->spec->graph;
  LlBlock *src = ll_graph_find(g, from), *dst = ll_graph_find(g, to);
  if (!src || !dst) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_CONNECTION, "no block \"%s\"",
                src ? to : from);
    return FALSE;
  }
  if (dst->desc->max_inputs == 0) {
    ll_block_error(error, dst, LL_GRAPH_ERROR_CONNECTION, "a %s block takes no inputs",
                   dst->desc->type);
    return FALSE;
  }
  for (int k = 0; k < dst->n_inputs; k++)
    if (!strcmp(dst->input_names[k], from)) {
      ll_block_error(error, dst, LL_GRAPH_ERROR_CONNECTION, "is already connected to \"%s\"", from);
      return FALSE;
    }
  if (dst->n_inputs >= dst->desc->max_inputs && dst->desc->max_inputs > 1) {
    ll_block_error(error, dst, LL_GRAPH_ERROR_CONNECTION, "takes at most %d inputs",
                   dst->desc->max_inputs);
    return FALSE;
  }
  push_undo(doc);
  if (dst->n_inputs >= dst->desc->max_inputs) { /* a one-input block: the new wire replaces */
    g_free(dst->input_names[0]);
    dst->input_names[0] = g_strdup(from);
  } else {
    ll_block_connect(dst, from);
  }
  commit(doc);
  return TRUE;
}

static void remove_input(LlBlock *b, int k)
{
  g_free(b->input_names[k]);
  for (int j = k; j + 1 < b->n_inputs; j++)
    b->input_names[j] = b->input_names[j + 1];
  b->n_inputs--;
  b->input_names[b->n_inputs] = NULL;
}

void ll_document_disconnect(LlDocument *doc, const char *to, int input)
{
  LlBlock *b = ll_graph_find(doc->spec->graph, to);
  if (!b || input < 0 || input >= b->n_inputs)
    return;
  push_undo(doc);
  remove_input(b, input);
  commit(doc);
}

/* A deleted block leaves the init_from entries that name it: an entry left
 * with no blocks would mean "every block", so it goes too. */
static void forget_in_init_from(LlSpec *spec, const char *name)
{
  for (guint i = spec->init_from->len; i-- > 0;) {
    LlInitFrom *f = spec->init_from->pdata[i];
    if (f->map) {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init(&it, f->map);
      while (g_hash_table_iter_next(&it, &k, &v))
        if (!strcmp(v, name))
          g_hash_table_iter_remove(&it);
    }
    if (!f->blocks)
      continue;
    guint n = 0;
    for (guint k = 0; f->blocks[k]; k++) {
      if (!strcmp(f->blocks[k], name))
        g_free(f->blocks[k]);
      else
        f->blocks[n++] = f->blocks[k];
    }
    f->blocks[n] = NULL;
    if (n == 0)
      g_ptr_array_remove_index(spec->init_from, i);
  }
}

void ll_document_delete_blocks(LlDocument *doc, const char *const *names)
{
  LlGraph *g = doc->spec->graph;
  if (!names || !names[0])
    return;
  push_undo(doc);
  for (guint n = 0; names[n]; n++) {
    LlBlock *b = ll_graph_find(g, names[n]);
    if (!b)
      continue;
    g_autofree char *name = g_strdup(b->name);
    g_hash_table_remove(doc->spec->positions, name);
    forget_in_init_from(doc->spec, name);
    g_ptr_array_remove(g->blocks, b);
    for (guint i = 0; i < g->blocks->len; i++) {
      LlBlock *o = g->blocks->pdata[i];
      for (int k = o->n_inputs - 1; k >= 0; k--)
        if (!strcmp(o->input_names[k], name))
          remove_input(o, k);
    }
  }
  commit(doc);
}

gboolean ll_document_set_prop(LlDocument *doc, const char *block, const char *prop,
                              const char *value, GError **error)
{
  LlBlock *b = ll_graph_find(doc->spec->graph, block);
  if (!b) {
    g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_UNKNOWN_BLOCK, "no block \"%s\"", block);
    return FALSE;
  }
  g_autofree char *before = snapshot(doc);
  if (!ll_block_set_prop_string(b, prop, value, error))
    return FALSE;
  g_autofree char *after = snapshot(doc);
  if (!strcmp(before, after))
    return TRUE;
  /* typing "128" is one edit, not three */
  g_autofree char *key = g_strdup_printf("%s\n%s", block, prop);
  if (!doc->coalesce_key || strcmp(key, doc->coalesce_key) || !doc->undo->len) {
    push_undo_text(doc, g_steal_pointer(&before));
    g_free(doc->coalesce_key);
    doc->coalesce_key = g_steal_pointer(&key);
  }
  commit(doc);
  return TRUE;
}

gboolean ll_document_set_loss_weight(LlDocument *doc, guint index, double weight, GError **error)
{
  LlSpec *s = doc->spec;
  if (index >= s->losses->len) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "losses[%u]: the spec has %u losses",
                index, s->losses->len);
    return FALSE;
  }
  if (!isfinite(weight) || weight < 0 || weight > 1e6) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "losses[%u].weight: %g is not a number in [0, 1e6]", index, weight);
    return FALSE;
  }
  LlLossSpec *l = g_ptr_array_index(s->losses, index);
  if (l->weight == weight)
    return TRUE;
  /* spinning the weight is one edit, like typing a property */
  g_autofree char *key = g_strdup_printf("\nloss %u weight", index);
  if (!doc->coalesce_key || strcmp(key, doc->coalesce_key) || !doc->undo->len) {
    push_undo_text(doc, snapshot(doc));
    g_free(doc->coalesce_key);
    doc->coalesce_key = g_steal_pointer(&key);
  }
  l->weight = weight;
  commit(doc);
  return TRUE;
}

void ll_document_set_frozen(LlDocument *doc, const char *block, gboolean frozen)
{
  LlBlock *b = ll_graph_find(doc->spec->graph, block);
  if (!b || b->frozen == frozen)
    return;
  push_undo(doc);
  b->frozen = frozen;
  commit(doc);
}

void ll_document_set_embedding_block(LlDocument *doc, const char *block)
{
  if (!g_strcmp0(doc->spec->embedding_block, block) ||
      (block && !ll_graph_find(doc->spec->graph, block)))
    return;
  push_undo(doc);
  g_free(doc->spec->embedding_block);
  doc->spec->embedding_block = g_strdup(block);
  commit(doc);
}

void ll_document_set_init_from(LlDocument *doc, LlInitFrom *entry, const char *const *freeze,
                               const char *const *thaw)
{
  push_undo(doc);
  GPtrArray *list = doc->spec->init_from;
  for (guint i = list->len; entry && i-- > 0;)
    if (!strcmp(((LlInitFrom *)list->pdata[i])->checkpoint, entry->checkpoint))
      g_ptr_array_remove_index(list, i);
  if (entry)
    g_ptr_array_add(list, entry);
  for (guint i = 0; freeze && freeze[i]; i++) {
    LlBlock *b = ll_graph_find(doc->spec->graph, freeze[i]);
    if (b)
      b->frozen = TRUE;
  }
  for (guint i = 0; thaw && thaw[i]; i++) {
    LlBlock *b = ll_graph_find(doc->spec->graph, thaw[i]);
    if (b)
      b->frozen = FALSE;
  }
  commit(doc);
}

void ll_document_begin_move(LlDocument *doc)
{
  g_free(doc->move_snapshot);
  doc->move_snapshot = snapshot(doc);
  doc->moved = FALSE;
}

void ll_document_set_position(LlDocument *doc, const char *block, double x, double y)
{
  set_pos(doc, block, x, y);
  doc->moved = TRUE;
}

void ll_document_end_move(LlDocument *doc)
{
  if (doc->move_snapshot && doc->moved) {
    g_clear_pointer(&doc->coalesce_key, g_free);
    push_undo_text(doc, g_steal_pointer(&doc->move_snapshot));
    commit(doc);
  }
  g_clear_pointer(&doc->move_snapshot, g_free);
  doc->moved = FALSE;
}

void ll_document_auto_layout(LlDocument *doc)
{
  LlGraph *g = doc->spec->graph;
  guint n = g->blocks->len;
  if (!n)
    return;
  push_undo(doc);
  /* depth = longest path from a source; n rounds settle any DAG (a cycle
   * just stops growing after n rounds) */
  g_autofree int *depth = g_new0(int, n);
  for (guint round = 0; round < n; round++) {
    gboolean changed = FALSE;
    for (guint i = 0; i < n; i++) {
      LlBlock *b = g->blocks->pdata[i];
      int d = 0;
      for (int k = 0; k < b->n_inputs; k++)
        for (guint j = 0; j < n; j++)
          if (!strcmp(((LlBlock *)g->blocks->pdata[j])->name, b->input_names[k]))
            d = MAX(d, depth[j] + 1);
      d = MIN(d, (int)n);
      if (d != depth[i]) {
        depth[i] = d;
        changed = TRUE;
      }
    }
    if (!changed)
      break;
  }
  int layers = 0, widest = 1;
  g_autofree int *count = g_new0(int, n + 1);
  for (guint i = 0; i < n; i++) {
    layers = MAX(layers, depth[i] + 1);
    widest = MAX(widest, ++count[depth[i]]);
  }
  /* Long chains wrap into bands side by side so the whole net fits a wide
   * screen: about 1.7 times as wide as tall. */
  double band_w = widest * (LL_BLOCK_W + LL_BLOCK_GAP_X) + LL_BAND_GAP;
  double row_h = LL_BLOCK_H + LL_BLOCK_GAP_Y;
  int bands = MAX(1, (int)ceil(sqrt(layers * 1.7 * row_h / band_w)));
  int rows = (layers + bands - 1) / bands;
  memset(count, 0, (n + 1) * sizeof(int));
  for (guint i = 0; i < n; i++) {
    LlBlock *b = g->blocks->pdata[i];
    int band = depth[i] / rows, row = depth[i] % rows, slot = count[depth[i]]++;
    set_pos(doc, b->name, 40 + band * band_w + slot * (LL_BLOCK_W + LL_BLOCK_GAP_X),
            40 + row * row_h);
  }
  commit(doc);
}

static gboolean strv_has(const char *const *v, const char *s)
{
  for (; v && *v; v++)
    if (!strcmp(*v, s))
      return TRUE;
  return FALSE;
}

char *ll_document_copy_blocks(LlDocument *doc, const char *const *names)
{
  JsonNode *root = ll_spec_graph_to_json(doc->spec->graph, doc->spec->positions);
  JsonArray *blocks = json_object_get_array_member(json_node_get_object(root), "blocks");
  JsonArray *out = json_array_new();
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *bo = json_array_get_object_element(blocks, i);
    if (!strv_has(names, json_object_get_string_member(bo, "name")))
      continue;
    if (json_object_has_member(bo, "inputs")) {
      JsonArray *ins = json_object_get_array_member(bo, "inputs"), *keep = json_array_new();
      for (guint k = 0; k < json_array_get_length(ins); k++)
        if (strv_has(names, json_array_get_string_element(ins, k)))
          json_array_add_string_element(keep, json_array_get_string_element(ins, k));
      json_object_set_array_member(bo, "inputs", keep);
    }
    json_array_add_object_element(out, json_object_ref(bo));
  }
  JsonObject *top = json_object_new();
  json_object_set_array_member(top, "blocks", out);
  JsonNode *node = json_node_init_object(json_node_alloc(), top);
  char *text = ll_json_node_to_line(node);
  json_node_unref(node);
  json_object_unref(top);
  json_node_unref(root);
  return text;
}

GStrv ll_document_paste_blocks(LlDocument *doc, const char *json, double dx, double dy,
                               GError **error)
{
  g_autoptr(JsonNode) clip = ll_json_from_string(json, "clipboard", error);
  if (!clip)
    return NULL;
  JsonArray *pasted = JSON_NODE_HOLDS_OBJECT(clip)
                          ? json_object_get_array_member(json_node_get_object(clip), "blocks")
                          : NULL;
  if (!pasted) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the clipboard holds no blocks");
    return NULL;
  }
  g_autofree char *before = snapshot(doc);
  g_autoptr(JsonNode) root = json_from_string(before, NULL);
  JsonObject *graph = json_object_get_object_member(json_node_get_object(root), "graph");
  JsonArray *blocks = json_object_get_array_member(graph, "blocks");
  /* new names first, then rewrite the pasted blocks' inputs with them */
  g_autoptr(GHashTable) rename = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) taken = g_hash_table_new(g_str_hash, g_str_equal);
  LlGraph *g = doc->spec->graph;
  for (guint i = 0; i < g->blocks->len; i++)
    g_hash_table_add(taken, ((LlBlock *)g->blocks->pdata[i])->name);
  GPtrArray *names = g_ptr_array_new();
  for (guint i = 0; i < json_array_get_length(pasted); i++) {
    JsonObject *bo = json_array_get_object_element(pasted, i);
    const char *old = bo ? json_object_get_string_member_with_default(bo, "name", NULL) : NULL;
    const char *type = bo ? json_object_get_string_member_with_default(bo, "type", NULL) : NULL;
    if (!old || !type || !ll_block_lookup(type)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the clipboard holds no blocks");
      g_ptr_array_free(names, TRUE);
      return NULL;
    }
    char *name = NULL;
    g_autofree char *low = g_ascii_strdown(type, -1);
    for (int k = 1; !name; k++) {
      char *cand = g_strdup_printf("%s%d", low, k);
      if (!g_hash_table_contains(taken, cand) && !ll_graph_find(g, cand))
        name = cand;
      else
        g_free(cand);
    }
    g_hash_table_add(taken, name);
    g_hash_table_insert(rename, g_strdup(old), name);
    g_ptr_array_add(names, g_strdup(name));
  }
  for (guint i = 0; i < json_array_get_length(pasted); i++) {
    JsonObject *bo = json_object_ref(json_array_get_object_element(pasted, i));
    const char *old = json_object_get_string_member(bo, "name");
    json_object_set_string_member(bo, "name", g_hash_table_lookup(rename, old));
    if (json_object_has_member(bo, "inputs")) {
      JsonArray *ins = json_object_get_array_member(bo, "inputs"), *now = json_array_new();
      for (guint k = 0; k < json_array_get_length(ins); k++) {
        const char *to = g_hash_table_lookup(rename, json_array_get_string_element(ins, k));
        if (to)
          json_array_add_string_element(now, to);
      }
      json_object_set_array_member(bo, "inputs", now);
    }
    if (json_object_has_member(bo, "position")) {
      JsonArray *p = json_object_get_array_member(bo, "position"), *q = json_array_new();
      json_array_add_double_element(q, json_array_get_double_element(p, 0) + dx);
      json_array_add_double_element(q, json_array_get_double_element(p, 1) + dy);
      json_object_set_array_member(bo, "position", q);
    }
    json_array_add_object_element(blocks, bo);
  }
  g_autofree char *after = ll_json_node_to_line(root);
  if (!restore(doc, after, error)) {
    restore(doc, before, NULL);
    g_ptr_array_free(names, TRUE);
    return NULL;
  }
  g_clear_pointer(&doc->coalesce_key, g_free);
  push_undo_text(doc, g_steal_pointer(&before));
  commit(doc);
  g_ptr_array_add(names, NULL);
  return (GStrv)g_ptr_array_free(names, FALSE);
}

void ll_document_mark_modified(LlDocument *doc)
{
  doc->modified = TRUE;
  revalidate(doc); /* the losses and data may have changed */
  ensure_fields(doc);
  autosave(doc);
  notify_all(doc);
}

void ll_document_mark_saved(LlDocument *doc)
{
  if (!doc->modified)
    return;
  doc->modified = FALSE;
  ll_document_forget_autosave(doc);
  g_object_notify_by_pspec(G_OBJECT(doc), props[PROP_MODIFIED]);
}

void ll_document_settings_changed(LlDocument *doc) { ll_document_mark_modified(doc); }

static void step_history(LlDocument *doc, GPtrArray *from, GPtrArray *to)
{
  if (!from->len)
    return;
  char *text = g_ptr_array_steal_index(from, from->len - 1);
  g_ptr_array_add(to, snapshot(doc));
  g_autoptr(GError) error = NULL;
  if (!restore(doc, text, &error))
    g_warning("undo: %s", error->message); /* our own snapshots always parse */
  g_free(text);
  g_clear_pointer(&doc->coalesce_key, g_free);
  commit(doc);
}

void ll_document_undo(LlDocument *doc) { step_history(doc, doc->undo, doc->redo); }
void ll_document_redo(LlDocument *doc) { step_history(doc, doc->redo, doc->undo); }
