/* ll-transfer-dialog.c: choosing a run's checkpoint blocks to initialise
 * the edited spec from, with a live tensor-by-tensor preview. */
#include "ll-transfer-dialog.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "json-doc.h"
#include "transfer.h"

/* ---- list items: a pointer to a run, a block or a tensor row the dialog owns ---- */

#define LL_TYPE_TRANSFER_ITEM (ll_transfer_item_get_type())
G_DECLARE_FINAL_TYPE(LlTransferItem, ll_transfer_item, LL, TRANSFER_ITEM, GObject)

struct _LlTransferItem {
  GObject parent_instance;
  gpointer data; /* LlRunInfo*, BlockState* or LlTransferRow*, owned by the dialog */
};

G_DEFINE_FINAL_TYPE(LlTransferItem, ll_transfer_item, G_TYPE_OBJECT)
static void ll_transfer_item_class_init(LlTransferItemClass *klass) {}
static void ll_transfer_item_init(LlTransferItem *item) {}

static gpointer item_new(gpointer data)
{
  LlTransferItem *it = g_object_new(LL_TYPE_TRANSFER_ITEM, NULL);
  it->data = data;
  return it;
}

static void append_item(GListStore *store, gpointer data)
{
  gpointer it = item_new(data);
  g_list_store_append(store, it);
  g_object_unref(it);
}

static gpointer item_data(GtkListItem *li)
{
  return LL_TRANSFER_ITEM(gtk_list_item_get_item(li))->data;
}

/* One block of the checkpoint and what the user chose for it. */
typedef struct {
  char *name;   /* the block in the checkpoint ("conv1") */
  char *target; /* the graph block it loads into; NULL: none */
  gboolean take, freeze;
  guint n_tensors, n_match; /* from the latest preview */
  LlTransferStatus worst;
  /* the widgets of its row while bound */
  GtkWidget *take_button, *target_drop, *freeze_button, *count_label;
} BlockState;

static void block_state_free(gpointer p)
{
  BlockState *b = p;
  g_free(b->name);
  g_free(b->target);
  g_free(b);
}

struct _LlTransferDialog {
  GtkWindow parent_instance;
  GtkSearchEntry *search;
  GtkColumnView *run_view, *block_view, *tensor_view;
  GtkCheckButton *reinit;
  GtkLabel *checkpoint_label, *summary_label, *error_label;
  GtkButton *apply_button, *cancel_button;

  LlDocument *doc;
  LlRunStore *store;
  GPtrArray *runs; /* LlRunInfo*: finished or stopped runs with a checkpoint */
  GListStore *run_items;
  GtkCustomFilter *filter;
  GtkSingleSelection *run_sel;
  char *search_text; /* casefolded */

  const LlRunInfo *run; /* the chosen one (in runs) */
  char *path;           /* its checkpoint */
  GPtrArray *blocks;    /* BlockState* in file order */
  GListStore *block_items;
  GtkStringList *targets; /* "(none)", then the graph's blocks with parameters */
  GPtrArray *rows;        /* LlTransferRow*: the preview */
  GListStore *tensor_items;
  char *error;
  gboolean syncing; /* setting widgets from the state: their handlers keep still */
};

G_DEFINE_FINAL_TYPE(LlTransferDialog, ll_transfer_dialog, GTK_TYPE_WINDOW)

#define NO_TARGET "(none)"

/* ---- messages ---- */

static void set_error(LlTransferDialog *self, const char *message)
{
  g_free(self->error);
  self->error = g_strdup(message);
  gtk_label_set_text(self->error_label, message ? message : "");
  gtk_widget_set_visible(GTK_WIDGET(self->error_label), message != NULL);
}

static const char *status_class(LlTransferStatus s)
{
  switch (s) {
  case LL_TRANSFER_MATCH: return "ll-match";
  case LL_TRANSFER_SHAPE_MISMATCH: return "ll-mismatch";
  case LL_TRANSFER_MISSING: return "ll-missing";
  default: return "dim-label";
  }
}

/* ---- the preview ---- */

static BlockState *find_block(LlTransferDialog *self, const char *name)
{
  for (guint i = 0; self->blocks && i < self->blocks->len; i++) {
    BlockState *b = self->blocks->pdata[i];
    if (!strcmp(b->name, name))
      return b;
  }
  return NULL;
}

static gboolean is_taken_target(LlTransferDialog *self, const char *target)
{
  for (guint i = 0; i < self->blocks->len; i++) {
    const BlockState *b = self->blocks->pdata[i];
    if (b->take && b->target && !strcmp(b->target, target))
      return TRUE;
  }
  return FALSE;
}

/* The init_from entry the current choice stands for. for_preview also maps
 * the blocks that are not taken (when their target is free) so that the
 * table says "not taken" for them rather than "not in graph". */
static LlInitFrom *build_entry(LlTransferDialog *self, gboolean for_preview)
{
  LlInitFrom *f = g_new0(LlInitFrom, 1);
  f->checkpoint = for_preview ? g_strdup(self->path) : g_strdup_printf("run:%s", self->run->id);
  f->reinit = gtk_check_button_get_active(self->reinit);
  GPtrArray *blocks = g_ptr_array_new();
  for (guint i = 0; i < self->blocks->len; i++) {
    const BlockState *b = self->blocks->pdata[i];
    if (!b->target)
      continue;
    if (b->take)
      g_ptr_array_add(blocks, g_strdup(b->target));
    gboolean mapped = b->take || (for_preview && !is_taken_target(self, b->target));
    if (mapped && strcmp(b->name, b->target)) {
      if (!f->map)
        f->map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert(f->map, g_strdup(b->name), g_strdup(b->target));
    }
  }
  g_ptr_array_add(blocks, NULL);
  f->blocks = (char **)g_ptr_array_free(blocks, FALSE);
  return f;
}

static void update_block_widgets(LlTransferDialog *self, BlockState *b)
{
  if (!b->take_button)
    return;
  self->syncing = TRUE;
  gtk_check_button_set_active(GTK_CHECK_BUTTON(b->take_button), b->take);
  gtk_check_button_set_active(GTK_CHECK_BUTTON(b->freeze_button), b->freeze);
  gtk_widget_set_sensitive(b->take_button, b->target != NULL);
  gtk_widget_set_sensitive(b->freeze_button, b->target != NULL && b->take);
  guint sel = 0;
  for (guint i = 1; b->target && i < g_list_model_get_n_items(G_LIST_MODEL(self->targets)); i++)
    if (!strcmp(gtk_string_list_get_string(self->targets, i), b->target))
      sel = i;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(b->target_drop), sel);
  g_autofree char *count =
      b->n_tensors ? g_strdup_printf("%u of %u match", b->n_match, b->n_tensors) : g_strdup("");
  gtk_label_set_text(GTK_LABEL(b->count_label), count);
  const char *cls = !b->take ? "dim-label" : status_class(b->worst);
  gtk_widget_set_css_classes(b->count_label, (const char *[]){cls, NULL});
  self->syncing = FALSE;
}

static void refresh_preview(LlTransferDialog *self)
{
  g_list_store_remove_all(self->tensor_items);
  g_clear_pointer(&self->rows, g_ptr_array_unref);
  gtk_label_set_text(self->summary_label, "");
  gtk_widget_set_sensitive(GTK_WIDGET(self->apply_button), FALSE);
  if (!self->path || !self->blocks)
    return;
  LlInitFrom *f = build_entry(self, TRUE);
  g_autoptr(GError) error = NULL;
  gboolean ok = ll_transfer_preview(NULL, ll_document_get_spec(self->doc)->graph, f, NULL,
                                    &self->rows, &error);
  ll_init_from_free(f);
  if (!ok) {
    set_error(self, error->message);
    return;
  }
  for (guint i = 0; i < self->blocks->len; i++) {
    BlockState *b = self->blocks->pdata[i];
    b->n_tensors = b->n_match = 0;
    b->worst = LL_TRANSFER_MATCH;
    for (guint k = 0; k < self->rows->len; k++) {
      const LlTransferRow *r = self->rows->pdata[k];
      /* its own tensors, and those of its target that the file lacks */
      gboolean mine = r->file_block ? !strcmp(r->file_block, b->name)
                                    : b->take && b->target && r->graph_block &&
                                          !strcmp(r->graph_block, b->target);
      if (!mine)
        continue;
      b->n_tensors++;
      b->n_match += r->status == LL_TRANSFER_MATCH;
      if (r->status == LL_TRANSFER_SHAPE_MISMATCH ||
          (r->status != LL_TRANSFER_MATCH && b->worst == LL_TRANSFER_MATCH))
        b->worst = r->status;
    }
    update_block_widgets(self, b);
  }
  for (guint i = 0; i < self->rows->len; i++)
    append_item(self->tensor_items, self->rows->pdata[i]);
  guint match = ll_transfer_count(self->rows, LL_TRANSFER_MATCH),
        mismatch = ll_transfer_count(self->rows, LL_TRANSFER_SHAPE_MISMATCH),
        missing = ll_transfer_count(self->rows, LL_TRANSFER_MISSING),
        untaken = ll_transfer_count(self->rows, LL_TRANSFER_NOT_TAKEN),
        stray = ll_transfer_count(self->rows, LL_TRANSFER_NOT_IN_GRAPH);
  g_autofree char *summary =
      g_strdup_printf("%u tensors load, %u shape mismatch, %u missing in the file, %u not taken, "
                      "%u not in the graph.%s",
                      match, mismatch, missing, untaken, stray,
                      gtk_check_button_get_active(self->reinit)
                          ? " Random re-init: the run records this choice but keeps the random "
                            "initialisation (the control)."
                          : "");
  gtk_label_set_text(self->summary_label, summary);
  gboolean any_taken = FALSE;
  for (guint i = 0; i < self->blocks->len; i++)
    any_taken |= ((BlockState *)self->blocks->pdata[i])->take;
  if (!any_taken)
    set_error(self, "Tick at least one block to load.");
  else if (match == 0)
    set_error(self, "Nothing matches: no tensor of the ticked blocks fits the graph. Choose the "
                    "graph block to load into where the names differ.");
  else
    set_error(self, NULL);
  gtk_widget_set_sensitive(GTK_WIDGET(self->apply_button), any_taken && match > 0);
}

/* ---- choosing a run ---- */

static void fill_targets(LlTransferDialog *self)
{
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->targets));
  GPtrArray *names = g_ptr_array_new();
  g_ptr_array_add(names, NO_TARGET);
  LlGraph *g = ll_document_get_spec(self->doc)->graph;
  for (guint i = 0; i < g->blocks->len; i++) {
    const LlBlock *b = g->blocks->pdata[i];
    if (b->n_params > 0)
      g_ptr_array_add(names, b->name);
  }
  g_ptr_array_add(names, NULL);
  gtk_string_list_splice(self->targets, 0, n, (const char *const *)names->pdata);
  g_ptr_array_free(names, TRUE);
}

static const LlInitFrom *existing_entry(LlTransferDialog *self)
{
  LlSpec *s = ll_document_get_spec(self->doc);
  g_autofree char *ref = g_strdup_printf("run:%s", self->run->id);
  for (guint i = 0; i < s->init_from->len; i++) {
    const LlInitFrom *f = s->init_from->pdata[i];
    if (!strcmp(f->checkpoint, ref) || !strcmp(f->checkpoint, self->path))
      return f;
  }
  return NULL;
}

static gboolean strv_has(char **v, const char *s)
{
  return v && s && g_strv_contains((const char *const *)v, s);
}

static void choose_run(LlTransferDialog *self, const LlRunInfo *run)
{
  g_list_store_remove_all(self->block_items);
  g_clear_pointer(&self->blocks, g_ptr_array_unref);
  g_clear_pointer(&self->path, g_free);
  self->run = run;
  set_error(self, NULL);
  refresh_preview(self);
  if (!run) {
    gtk_label_set_text(self->checkpoint_label, "Choose a run on the left.");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *ref = g_strdup_printf("run:%s", run->id);
  self->path = ll_run_store_resolve_checkpoint(self->store, ref, &error);
  if (!self->path) {
    set_error(self, error->message);
    return;
  }
  g_autofree char *where = g_strdup_printf("%s  \u2014  %s", ref, self->path);
  gtk_label_set_text(self->checkpoint_label, where);
  const GError *gerr = ll_document_get_error(self->doc);
  if (gerr) {
    g_autofree char *msg = g_strdup_printf(
        "The spec's graph has an error; fix it before choosing what to load: %s", gerr->message);
    set_error(self, msg);
    g_clear_pointer(&self->path, g_free);
    return;
  }
  /* names as they are, every block: what matches by name alone */
  LlGraph *g = ll_document_get_spec(self->doc)->graph;
  g_autoptr(GPtrArray) rows = NULL, names = NULL;
  if (!ll_checkpoint_preview(self->path, g, NULL, &rows, &error) ||
      !ll_checkpoint_list(self->path, &names, &error)) {
    set_error(self, error->message);
    g_clear_pointer(&self->path, g_free);
    return;
  }
  fill_targets(self);
  const LlInitFrom *prev = existing_entry(self);
  self->blocks = g_ptr_array_new_with_free_func(block_state_free);
  for (guint i = 0; i < names->len; i++) {
    /* file order; optimizer state and other extras have no row */
    const LlTransferRow *row = NULL;
    for (guint k = 0; k < rows->len && !row; k++)
      if (!g_strcmp0(((LlTransferRow *)rows->pdata[k])->file_name, names->pdata[i]))
        row = rows->pdata[k];
    if (!row || find_block(self, row->file_block))
      continue;
    BlockState *b = g_new0(BlockState, 1);
    b->name = g_strdup(row->file_block);
    const char *mapped = prev && prev->map ? g_hash_table_lookup(prev->map, b->name) : NULL;
    const char *target = mapped ? mapped : b->name;
    if (ll_graph_find(g, target))
      b->target = g_strdup(target);
    gboolean all_match = TRUE;
    for (guint k = 0; k < rows->len; k++) {
      const LlTransferRow *r = rows->pdata[k];
      if (!g_strcmp0(r->file_block, b->name) && r->status != LL_TRANSFER_MATCH)
        all_match = FALSE;
    }
    if (prev)
      b->take = b->target && (prev->blocks ? strv_has(prev->blocks, b->target) : all_match);
    else
      b->take = b->target && all_match;
    b->freeze = b->target && ll_graph_find(g, b->target)->frozen;
    g_ptr_array_add(self->blocks, b);
  }
  self->syncing = TRUE;
  gtk_check_button_set_active(self->reinit, prev && prev->reinit);
  self->syncing = FALSE;
  for (guint i = 0; i < self->blocks->len; i++)
    append_item(self->block_items, self->blocks->pdata[i]);
  if (!self->blocks->len) {
    set_error(self, "This checkpoint holds no block tensors.");
    return;
  }
  refresh_preview(self);
}

static void on_run_selected(GtkSingleSelection *sel, GParamSpec *pspec, LlTransferDialog *self)
{
  LlTransferItem *it = gtk_single_selection_get_selected_item(sel);
  choose_run(self, it ? it->data : NULL);
}

/* ---- the run list ---- */

static gboolean run_visible(gpointer item, gpointer data)
{
  LlTransferDialog *self = data;
  const LlRunInfo *r = LL_TRANSFER_ITEM(item)->data;
  if (!self->search_text || !*self->search_text)
    return TRUE;
  g_autofree char *name = g_utf8_casefold(r->name ? r->name : "", -1);
  return strstr(name, self->search_text) || strstr(r->id, self->search_text);
}

static void on_search_changed(GtkSearchEntry *entry, LlTransferDialog *self)
{
  g_free(self->search_text);
  self->search_text = g_utf8_casefold(gtk_editable_get_text(GTK_EDITABLE(entry)), -1);
  gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void load_runs(LlTransferDialog *self, const char *root)
{
  g_autoptr(GError) error = NULL;
  self->store = ll_run_store_open(root, &error);
  g_autoptr(GPtrArray) all = NULL;
  if (!self->store || !ll_run_store_list(self->store, &all, &error)) {
    g_autofree char *msg = g_strdup_printf("The run store cannot be read: %s", error->message);
    set_error(self, msg);
    return;
  }
  for (guint i = 0; i < all->len; i++) {
    LlRunInfo *r = all->pdata[i];
    if (r->status != LL_RUN_FINISHED && r->status != LL_RUN_STOPPED)
      continue;
    g_autofree char *ref = g_strdup_printf("run:%s", r->id);
    g_autofree char *path = ll_run_store_resolve_checkpoint(self->store, ref, NULL);
    if (!path)
      continue;
    g_ptr_array_add(self->runs, g_ptr_array_steal_index(all, i--));
  }
  for (guint i = 0; i < self->runs->len; i++)
    append_item(self->run_items, self->runs->pdata[i]);
  if (!self->runs->len)
    set_error(self, "No finished run with a checkpoint in the run store yet: train one first.");
}

enum { RUN_NAME, RUN_DATE, RUN_METRIC };

static char *run_text(const LlRunInfo *r, int field)
{
  switch (field) {
  case RUN_NAME: return g_strdup(r->name && *r->name ? r->name : r->id);
  case RUN_DATE: {
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_local(r->created_us / G_USEC_PER_SEC);
    return t ? g_date_time_format(t, "%Y-%m-%d %H:%M") : g_strdup("");
  }
  default: {
    /* the final test metric the run recorded, else its best validation one */
    g_autoptr(JsonNode) m =
        r->metrics_json ? ll_json_from_string(r->metrics_json, "metrics", NULL) : NULL;
    JsonObject *o = m && JSON_NODE_HOLDS_OBJECT(m) ? json_node_get_object(m) : NULL;
    if (o && json_object_has_member(o, "test_accuracy"))
      return g_strdup_printf("acc %.3f", json_object_get_double_member(o, "test_accuracy"));
    if (o && json_object_has_member(o, "test_loss"))
      return g_strdup_printf("loss %.4g", json_object_get_double_member(o, "test_loss"));
    if (r->best_metric_name && isfinite(r->best_metric))
      return g_strdup_printf("%s %.4g", r->best_metric_name, r->best_metric);
    return g_strdup(ll_run_status_to_string(r->status));
  }
  }
}

static void setup_label(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  GtkWidget *l = gtk_label_new(NULL);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child(li, l);
}

static void bind_run(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  const LlRunInfo *r = item_data(li);
  g_autofree char *text = run_text(r, GPOINTER_TO_INT(data));
  gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(li)), text);
  gtk_widget_set_tooltip_text(gtk_list_item_get_child(li), r->id);
}

/* ---- the block table ---- */

enum { BLOCK_TAKE, BLOCK_NAME, BLOCK_TARGET, BLOCK_FREEZE, BLOCK_COUNT };

static void on_take_toggled(GtkCheckButton *button, LlTransferDialog *self)
{
  BlockState *b = g_object_get_data(G_OBJECT(button), "block");
  if (self->syncing || !b)
    return;
  b->take = gtk_check_button_get_active(button);
  refresh_preview(self);
}

static void on_freeze_toggled(GtkCheckButton *button, LlTransferDialog *self)
{
  BlockState *b = g_object_get_data(G_OBJECT(button), "block");
  if (self->syncing || !b)
    return;
  b->freeze = gtk_check_button_get_active(button);
}

static void on_target_selected(GtkDropDown *drop, GParamSpec *pspec, LlTransferDialog *self)
{
  BlockState *b = g_object_get_data(G_OBJECT(drop), "block");
  if (self->syncing || !b)
    return;
  guint sel = gtk_drop_down_get_selected(drop);
  g_free(b->target);
  b->target = sel > 0 && sel != GTK_INVALID_LIST_POSITION
                  ? g_strdup(gtk_string_list_get_string(self->targets, sel))
                  : NULL;
  b->take = b->target != NULL; /* choosing where it goes means taking it */
  if (!b->take)
    b->freeze = FALSE;
  refresh_preview(self);
}

static void setup_block(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  LlTransferDialog *self = g_object_get_data(G_OBJECT(f), "dialog");
  GtkWidget *w = NULL;
  switch (GPOINTER_TO_INT(data)) {
  case BLOCK_TAKE:
  case BLOCK_FREEZE:
    w = gtk_check_button_new();
    gtk_widget_set_halign(w, GTK_ALIGN_CENTER);
    g_signal_connect(w, "toggled",
                     GPOINTER_TO_INT(data) == BLOCK_TAKE ? G_CALLBACK(on_take_toggled)
                                                         : G_CALLBACK(on_freeze_toggled),
                     self);
    break;
  case BLOCK_TARGET:
    w = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(self->targets)), NULL);
    g_signal_connect(w, "notify::selected", G_CALLBACK(on_target_selected), self);
    break;
  default: setup_label(f, li, data); return;
  }
  gtk_list_item_set_child(li, w);
}

static void bind_block(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  LlTransferDialog *self = g_object_get_data(G_OBJECT(f), "dialog");
  BlockState *b = item_data(li);
  GtkWidget *w = gtk_list_item_get_child(li);
  g_object_set_data(G_OBJECT(w), "block", b);
  switch (GPOINTER_TO_INT(data)) {
  case BLOCK_TAKE: b->take_button = w; break;
  case BLOCK_FREEZE: b->freeze_button = w; break;
  case BLOCK_TARGET: b->target_drop = w; break;
  case BLOCK_COUNT: b->count_label = w; break;
  default: gtk_label_set_text(GTK_LABEL(w), b->name); return;
  }
  if (b->take_button && b->freeze_button && b->target_drop && b->count_label)
    update_block_widgets(self, b);
}

static void unbind_block(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  BlockState *b = item_data(li);
  g_object_set_data(G_OBJECT(gtk_list_item_get_child(li)), "block", NULL);
  switch (GPOINTER_TO_INT(data)) {
  case BLOCK_TAKE: b->take_button = NULL; break;
  case BLOCK_FREEZE: b->freeze_button = NULL; break;
  case BLOCK_TARGET: b->target_drop = NULL; break;
  case BLOCK_COUNT: b->count_label = NULL; break;
  default: break;
  }
}

/* ---- the tensor table ---- */

enum { T_GRAPH, T_FILE, T_GRAPH_SHAPE, T_FILE_SHAPE, T_STATUS };

static void bind_tensor(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  const LlTransferRow *r = item_data(li);
  GtkWidget *l = gtk_list_item_get_child(li);
  const char *text = NULL;
  switch (GPOINTER_TO_INT(data)) {
  case T_GRAPH: text = r->graph_name; break;
  case T_FILE: text = r->file_name; break;
  case T_GRAPH_SHAPE: text = r->graph_shape; break;
  case T_FILE_SHAPE: text = r->file_shape; break;
  default:
    text = ll_transfer_status_to_string(r->status);
    gtk_widget_set_css_classes(l, (const char *[]){status_class(r->status), NULL});
    break;
  }
  gtk_label_set_text(GTK_LABEL(l), text ? text : "\u2014");
}

static void add_column(LlTransferDialog *self, GtkColumnView *view, const char *title,
                       GCallback setup, GCallback bind, GCallback unbind, int field, int width)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new();
  g_object_set_data(G_OBJECT(f), "dialog", self);
  g_signal_connect(f, "setup", setup, GINT_TO_POINTER(field));
  g_signal_connect(f, "bind", bind, GINT_TO_POINTER(field));
  if (unbind)
    g_signal_connect(f, "unbind", unbind, GINT_TO_POINTER(field));
  GtkColumnViewColumn *c = gtk_column_view_column_new(title, f);
  gtk_column_view_column_set_resizable(c, TRUE);
  if (width > 0)
    gtk_column_view_column_set_fixed_width(c, width);
  else
    gtk_column_view_column_set_expand(c, TRUE);
  gtk_column_view_append_column(view, c);
  g_object_unref(c);
}

/* ---- buttons ---- */

static void on_reinit_toggled(GtkCheckButton *button, LlTransferDialog *self)
{
  if (!self->syncing)
    refresh_preview(self);
}

static void on_cancel_clicked(GtkButton *button, LlTransferDialog *self)
{
  gtk_window_close(GTK_WINDOW(self));
}

static void on_apply_clicked(GtkButton *button, LlTransferDialog *self)
{
  ll_transfer_dialog_apply(self);
}

gboolean ll_transfer_dialog_can_apply(LlTransferDialog *self)
{
  return self->rows && gtk_widget_get_sensitive(GTK_WIDGET(self->apply_button));
}

gboolean ll_transfer_dialog_apply(LlTransferDialog *self)
{
  if (!ll_transfer_dialog_can_apply(self))
    return FALSE;
  LlInitFrom *f = build_entry(self, FALSE);
  g_autoptr(GPtrArray) freeze = g_ptr_array_new(), thaw = g_ptr_array_new();
  for (guint i = 0; i < self->blocks->len; i++) {
    const BlockState *b = self->blocks->pdata[i];
    if (b->take && b->target)
      g_ptr_array_add(b->freeze ? freeze : thaw, b->target);
  }
  g_ptr_array_add(freeze, NULL);
  g_ptr_array_add(thaw, NULL);
  ll_document_set_init_from(self->doc, f, (const char *const *)freeze->pdata,
                            (const char *const *)thaw->pdata);
  gtk_window_close(GTK_WINDOW(self));
  return TRUE;
}

/* ---- for tests ---- */

guint ll_transfer_dialog_get_n_runs(LlTransferDialog *self)
{
  return g_list_model_get_n_items(G_LIST_MODEL(self->run_sel));
}

const char *ll_transfer_dialog_get_run_id(LlTransferDialog *self, guint position)
{
  g_autoptr(LlTransferItem) it = g_list_model_get_item(G_LIST_MODEL(self->run_sel), position);
  return it ? ((const LlRunInfo *)it->data)->id : NULL;
}

void ll_transfer_dialog_set_search(LlTransferDialog *self, const char *text)
{
  gtk_editable_set_text(GTK_EDITABLE(self->search), text);
  on_search_changed(self->search, self);
}

gboolean ll_transfer_dialog_select_run(LlTransferDialog *self, const char *id)
{
  for (guint i = 0; i < ll_transfer_dialog_get_n_runs(self); i++)
    if (!strcmp(ll_transfer_dialog_get_run_id(self, i), id)) {
      gtk_single_selection_set_selected(self->run_sel, i);
      return TRUE;
    }
  return FALSE;
}

GStrv ll_transfer_dialog_get_blocks(LlTransferDialog *self)
{
  GStrvBuilder *sb = g_strv_builder_new();
  for (guint i = 0; self->blocks && i < self->blocks->len; i++)
    g_strv_builder_add(sb, ((BlockState *)self->blocks->pdata[i])->name);
  GStrv v = g_strv_builder_end(sb);
  g_strv_builder_unref(sb);
  return v;
}

gboolean ll_transfer_dialog_get_block(LlTransferDialog *self, const char *block, gboolean *take,
                                      const char **target, gboolean *freeze)
{
  const BlockState *b = find_block(self, block);
  if (!b)
    return FALSE;
  *take = b->take;
  *target = b->target;
  *freeze = b->freeze;
  return TRUE;
}

gboolean ll_transfer_dialog_set_block(LlTransferDialog *self, const char *block, gboolean take,
                                      const char *target, gboolean freeze)
{
  BlockState *b = find_block(self, block);
  if (!b || (target && !ll_graph_find(ll_document_get_spec(self->doc)->graph, target)))
    return FALSE;
  char *old = b->target; /* target may be it */
  b->target = g_strdup(target);
  g_free(old);
  b->take = take && target;
  b->freeze = freeze && b->take;
  update_block_widgets(self, b);
  refresh_preview(self);
  return TRUE;
}

void ll_transfer_dialog_set_reinit(LlTransferDialog *self, gboolean reinit)
{
  gtk_check_button_set_active(self->reinit, reinit);
}

GPtrArray *ll_transfer_dialog_get_rows(LlTransferDialog *self) { return self->rows; }
const char *ll_transfer_dialog_get_error(LlTransferDialog *self) { return self->error; }

/* ---- life cycle ---- */

static void ll_transfer_dialog_dispose(GObject *object)
{
  LlTransferDialog *self = LL_TRANSFER_DIALOG(object);
  gtk_widget_dispose_template(GTK_WIDGET(self), LL_TYPE_TRANSFER_DIALOG);
  g_clear_object(&self->run_sel);
  g_clear_object(&self->run_items);
  g_clear_object(&self->block_items);
  g_clear_object(&self->tensor_items);
  g_clear_object(&self->targets);
  g_clear_object(&self->doc);
  G_OBJECT_CLASS(ll_transfer_dialog_parent_class)->dispose(object);
}

static void ll_transfer_dialog_finalize(GObject *object)
{
  LlTransferDialog *self = LL_TRANSFER_DIALOG(object);
  g_clear_pointer(&self->blocks, g_ptr_array_unref);
  g_clear_pointer(&self->rows, g_ptr_array_unref);
  g_ptr_array_unref(self->runs);
  g_clear_pointer(&self->store, ll_run_store_close);
  g_free(self->path);
  g_free(self->error);
  g_free(self->search_text);
  G_OBJECT_CLASS(ll_transfer_dialog_parent_class)->finalize(object);
}

static void ll_transfer_dialog_class_init(LlTransferDialogClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_transfer_dialog_dispose;
  oc->finalize = ll_transfer_dialog_finalize;
  gtk_widget_class_set_template_from_resource(wc,
                                              "/org/layerlab/LayerLab/ui/ll-transfer-dialog.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, LlTransferDialog, name)
  CHILD(search);
  CHILD(run_view);
  CHILD(block_view);
  CHILD(tensor_view);
  CHILD(reinit);
  CHILD(checkpoint_label);
  CHILD(summary_label);
  CHILD(error_label);
  CHILD(apply_button);
  CHILD(cancel_button);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_search_changed);
  gtk_widget_class_bind_template_callback(wc, on_reinit_toggled);
  gtk_widget_class_bind_template_callback(wc, on_cancel_clicked);
  gtk_widget_class_bind_template_callback(wc, on_apply_clicked);
  gtk_widget_class_add_binding_action(wc, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void ll_transfer_dialog_init(LlTransferDialog *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
  self->run_items = g_list_store_new(LL_TYPE_TRANSFER_ITEM);
  self->filter = gtk_custom_filter_new(run_visible, self, NULL);
  GtkFilterListModel *filtered = gtk_filter_list_model_new(
      G_LIST_MODEL(g_object_ref(self->run_items)), GTK_FILTER(self->filter));
  self->run_sel = gtk_single_selection_new(G_LIST_MODEL(filtered));
  gtk_single_selection_set_autoselect(self->run_sel, FALSE);
  gtk_single_selection_set_can_unselect(self->run_sel, TRUE);
  gtk_single_selection_set_selected(self->run_sel, GTK_INVALID_LIST_POSITION);
  gtk_column_view_set_model(self->run_view, GTK_SELECTION_MODEL(self->run_sel));
  g_signal_connect(self->run_sel, "notify::selected-item", G_CALLBACK(on_run_selected), self);
  add_column(self, self->run_view, "Run", G_CALLBACK(setup_label), G_CALLBACK(bind_run), NULL,
             RUN_NAME, 0);
  add_column(self, self->run_view, "Date", G_CALLBACK(setup_label), G_CALLBACK(bind_run), NULL,
             RUN_DATE, 132);
  add_column(self, self->run_view, "Test", G_CALLBACK(setup_label), G_CALLBACK(bind_run), NULL,
             RUN_METRIC, 96);

  self->targets = gtk_string_list_new(NULL);
  self->block_items = g_list_store_new(LL_TYPE_TRANSFER_ITEM);
  GtkNoSelection *blocks = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(self->block_items)));
  gtk_column_view_set_model(self->block_view, GTK_SELECTION_MODEL(blocks));
  g_object_unref(blocks);
  add_column(self, self->block_view, "Take", G_CALLBACK(setup_block), G_CALLBACK(bind_block),
             G_CALLBACK(unbind_block), BLOCK_TAKE, 50);
  add_column(self, self->block_view, "Checkpoint block", G_CALLBACK(setup_block),
             G_CALLBACK(bind_block), G_CALLBACK(unbind_block), BLOCK_NAME, 0);
  add_column(self, self->block_view, "Load into", G_CALLBACK(setup_block), G_CALLBACK(bind_block),
             G_CALLBACK(unbind_block), BLOCK_TARGET, 170);
  add_column(self, self->block_view, "Freeze", G_CALLBACK(setup_block), G_CALLBACK(bind_block),
             G_CALLBACK(unbind_block), BLOCK_FREEZE, 60);
  add_column(self, self->block_view, "Tensors", G_CALLBACK(setup_block), G_CALLBACK(bind_block),
             G_CALLBACK(unbind_block), BLOCK_COUNT, 130);

  self->tensor_items = g_list_store_new(LL_TYPE_TRANSFER_ITEM);
  GtkNoSelection *tensors = gtk_no_selection_new(G_LIST_MODEL(g_object_ref(self->tensor_items)));
  gtk_column_view_set_model(self->tensor_view, GTK_SELECTION_MODEL(tensors));
  g_object_unref(tensors);
  static const char *const titles[] = {"Graph tensor", "File tensor", "Graph shape", "File shape",
                                       "Status"};
  static const int widths[] = {0, 0, 120, 120, 140};
  for (int i = T_GRAPH; i <= T_STATUS; i++)
    add_column(self, self->tensor_view, titles[i], G_CALLBACK(setup_label), G_CALLBACK(bind_tensor),
               NULL, i, widths[i]);
}

LlTransferDialog *ll_transfer_dialog_new(GtkWindow *parent, LlDocument *doc, const char *store_root)
{
  LlTransferDialog *self = g_object_new(LL_TYPE_TRANSFER_DIALOG, NULL);
  if (parent)
    gtk_window_set_transient_for(GTK_WINDOW(self), parent);
  self->doc = g_object_ref(doc);
  load_runs(self, store_root);
  return self;
}
