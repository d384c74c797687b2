/* ll-runs-view.c: the run table (loaded on a worker), the overlay of the
 * selected runs' curves, their spec diff and the ablation table. */
#include "ll-runs-view.h"
#include "ll-plot-style.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "curve-plot.h"
#include "device.h"
#include "json-doc.h"
#include "json-writer.h"
#include "onnx.h"
#include "plot-common.h"
#include "run-report.h"
#include "summary.h"
#include "trainer.h"

/* ---- LlRunItem: one run, its display strings and its per-epoch validation curve ---- */

static const char *const fields[] = {"name", "date",   "params", "hyper", "final", "best",
                                     "time", "status", "id",     "tags",  "heads"};
enum {
  F_NAME,
  F_DATE,
  F_PARAMS,
  F_HYPER,
  F_FINAL,
  F_BEST,
  F_TIME,
  F_STATUS,
  F_ID,
  F_TAGS,
  F_HEADS, /* each head's test metric, a binary head's report */
  N_FIELDS
};

typedef struct {
  double epoch, val_loss, val_acc; /* NAN where the line has none */
} EpochPoint;

/* One head's validation metric per epoch ("val_digit_accuracy", "val_sum_mse"). */
typedef struct {
  char *name;
  GArray *xy; /* double pairs: epoch, value */
} HeadCurve;

static void head_curve_free(gpointer data)
{
  HeadCurve *c = data;
  g_free(c->name);
  g_array_unref(c->xy);
  g_free(c);
}

struct _LlRunItem {
  GObject parent_instance;
  LlRunInfo *info;
  char *text[N_FIELDS];
  double test_acc, test_loss; /* from metrics_json; NAN when absent */
  double best_val;            /* best val_accuracy, else lowest val_loss; NAN when none */
  gboolean best_is_acc;
  GArray *epochs; /* EpochPoint, from metrics.jsonl */
  GPtrArray *head_curves; /* HeadCurve*, from metrics.jsonl: several heads, in file order */
  GPtrArray *head_names; /* char*: the test metrics of F_HEADS (ll_metric_is_head_report) */
  GArray *head_values;   /* double, beside them */
};

G_DEFINE_FINAL_TYPE(LlRunItem, ll_run_item, G_TYPE_OBJECT)

static void ll_run_item_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  LlRunItem *self = LL_RUN_ITEM(object);
  if (id >= 1 && id <= N_FIELDS)
    g_value_set_string(value, self->text[id - 1]);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void ll_run_item_finalize(GObject *object)
{
  LlRunItem *self = LL_RUN_ITEM(object);
  for (int i = 0; i < N_FIELDS; i++)
    g_free(self->text[i]);
  ll_run_info_free(self->info);
  g_array_unref(self->epochs);
  g_ptr_array_unref(self->head_curves);
  g_ptr_array_unref(self->head_names);
  g_array_unref(self->head_values);
  G_OBJECT_CLASS(ll_run_item_parent_class)->finalize(object);
}

static void ll_run_item_class_init(LlRunItemClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = ll_run_item_get_property;
  oc->finalize = ll_run_item_finalize;
  for (int i = 0; i < N_FIELDS; i++)
    g_object_class_install_property(oc, i + 1,
                                    g_param_spec_string(fields[i], NULL, NULL, NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void ll_run_item_init(LlRunItem *self)
{
  self->epochs = g_array_new(FALSE, FALSE, sizeof(EpochPoint));
  self->head_curves = g_ptr_array_new_with_free_func(head_curve_free);
  self->head_names = g_ptr_array_new_with_free_func(g_free);
  self->head_values = g_array_new(FALSE, FALSE, sizeof(double));
  self->test_acc = self->test_loss = self->best_val = NAN;
}

const LlRunInfo *ll_run_item_get_info(LlRunItem *item) { return item->info; }

const char *ll_run_item_get_text(LlRunItem *item, const char *field)
{
  for (int i = 0; i < N_FIELDS; i++)
    if (!strcmp(fields[i], field))
      return item->text[i];
  return NULL;
}

static double member_double(JsonObject *o, const char *key)
{
  JsonNode *n = o ? json_object_get_member(o, key) : NULL;
  if (!n || JSON_NODE_TYPE(n) != JSON_NODE_VALUE)
    return NAN;
  GType t = json_node_get_value_type(n);
  if (t == G_TYPE_DOUBLE || t == G_TYPE_INT64)
    return json_node_get_double(n);
  return NAN;
}

static JsonObject *parse_object(JsonParser *p, const char *text)
{
  if (!text || !ll_json_parser_load(p, text, -1, "run", NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(p);
  return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
}

static void format_duration(double s, char *buf, size_t len)
{
  if (!isfinite(s) || s <= 0)
    g_snprintf(buf, len, "\u2014");
  else if (s < 60)
    g_snprintf(buf, len, "%.1f s", s);
  else if (s < 3600)
    g_snprintf(buf, len, "%d min %02d s", (int)s / 60, (int)s % 60);
  else
    g_snprintf(buf, len, "%d h %02d min", (int)s / 3600, ((int)s % 3600) / 60);
}

/* "sgd lr 0.05 · bs 64 · 3 ep · wd 0" from the trainer's hyperparameter object;
 * other keys as "key value". */
static char *short_hyper(JsonObject *o)
{
  if (!o)
    return g_strdup("");
  GString *s = g_string_new(NULL);
  const char *opt = json_object_get_string_member_with_default(o, "optimizer", NULL);
  double lr = member_double(o, "lr");
  if (opt)
    g_string_append(s, opt);
  if (isfinite(lr))
    g_string_append_printf(s, "%slr %g", s->len ? " " : "", lr);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *k = l->data;
    if (!strcmp(k, "optimizer") || !strcmp(k, "lr"))
      continue;
    JsonNode *n = json_object_get_member(o, k);
    if (JSON_NODE_TYPE(n) != JSON_NODE_VALUE)
      continue;
    const char *sep = s->len ? " \u00b7 " : "";
    double v = member_double(o, k);
    if (!strcmp(k, "batch_size"))
      g_string_append_printf(s, "%sbs %g", sep, v);
    else if (!strcmp(k, "epochs"))
      g_string_append_printf(s, "%s%g ep", sep, v);
    else if (!strcmp(k, "weight_decay"))
      g_string_append_printf(s, "%swd %g", sep, v);
    else if (isfinite(v))
      g_string_append_printf(s, "%s%s %g", sep, k, v);
    else if (json_node_get_value_type(n) == G_TYPE_STRING)
      g_string_append_printf(s, "%s%s %s", sep, k, json_node_get_string(n));
  }
  return g_string_free(s, FALSE);
}

/* Each head's validation metric of a metrics.jsonl line (several heads:
 * ll_metric_parse_head) goes to that head's curve. */
static void add_head_points(LlRunItem *it, JsonObject *o, double epoch)
{
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    g_autofree char *split = NULL;
    double v = member_double(o, l->data);
    if (!isfinite(v) || !ll_metric_parse_head(l->data, &split, NULL, NULL) || strcmp(split, "val"))
      continue;
    HeadCurve *c = NULL;
    for (guint k = 0; k < it->head_curves->len && !c; k++)
      if (!strcmp(((HeadCurve *)it->head_curves->pdata[k])->name, l->data))
        c = it->head_curves->pdata[k];
    if (!c) {
      c = g_new0(HeadCurve, 1);
      c->name = g_strdup(l->data);
      c->xy = g_array_new(FALSE, FALSE, sizeof(double));
      g_ptr_array_add(it->head_curves, c);
    }
    double xy[2] = {epoch, v};
    g_array_append_vals(c->xy, xy, 2);
  }
}

/* Reads the run's metrics.jsonl (a worker calls this). */
static void read_epochs(LlRunItem *it)
{
  g_autofree char *path =
      it->info->dir ? g_build_filename(it->info->dir, "metrics.jsonl", NULL) : NULL;
  g_autofree char *text = NULL;
  if (!path || !g_file_get_contents(path, &text, NULL, NULL))
    return;
  g_autoptr(JsonParser) p = json_parser_new();
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (int i = 0; lines[i]; i++) {
    JsonObject *o = *lines[i] ? parse_object(p, lines[i]) : NULL; /* a line cut by a crash: skip */
    if (!o || !json_object_has_member(o, "epoch"))
      continue;
    EpochPoint e = {member_double(o, "epoch"), member_double(o, "val_loss"),
                    member_double(o, "val_accuracy")};
    if (!isfinite(e.epoch))
      continue;
    g_array_append_val(it->epochs, e);
    add_head_points(it, o, e.epoch);
  }
}

/* Takes ownership of info; reads its files (a worker calls this). */
static LlRunItem *run_item_new(LlRunInfo *info)
{
  LlRunItem *it = g_object_new(LL_TYPE_RUN_ITEM, NULL);
  it->info = info;
  read_epochs(it);
  char buf[64];
  g_autoptr(JsonParser) p = json_parser_new();
  JsonObject *m = parse_object(p, info->metrics_json);
  it->test_acc = member_double(m, "test_accuracy");
  it->test_loss = member_double(m, "test_loss");
  GString *heads = g_string_new(NULL);
  g_autoptr(GList) members = m ? json_object_get_members(m) : NULL;
  for (GList *l = members; l; l = l->next) {
    double v = member_double(m, l->data);
    if (!ll_metric_is_head_report(l->data, "test") || !isfinite(v))
      continue;
    g_ptr_array_add(it->head_names, g_strdup(l->data));
    g_array_append_val(it->head_values, v);
    g_autofree char *label = ll_metric_label(l->data), *text = ll_metric_format(l->data, v);
    g_string_append_printf(heads, "%s%s %s", heads->len ? " \u00b7 " : "", label, text);
  }
  it->text[F_HEADS] =
      heads->len ? g_string_free(heads, FALSE) : (g_string_free(heads, TRUE), g_strdup("\u2014"));

  double best_acc = -INFINITY, best_loss = INFINITY;
  int acc_ep = 0, loss_ep = 0;
  for (guint i = 0; i < it->epochs->len; i++) {
    EpochPoint *e = &g_array_index(it->epochs, EpochPoint, i);
    if (isfinite(e->val_acc) && e->val_acc > best_acc)
      best_acc = e->val_acc, acc_ep = (int)e->epoch;
    if (isfinite(e->val_loss) && e->val_loss < best_loss)
      best_loss = e->val_loss, loss_ep = (int)e->epoch;
  }
  it->best_is_acc = isfinite(best_acc);
  it->best_val = it->best_is_acc ? best_acc : isfinite(best_loss) ? best_loss : NAN;

  it->text[F_ID] = g_strdup(info->id);
  it->text[F_NAME] = g_strdup(info->name && *info->name ? info->name : "(unnamed)");
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(info->created_us / G_USEC_PER_SEC);
  it->text[F_DATE] = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("");
  it->text[F_PARAMS] =
      g_strdup(info->params_count > 0 ? ll_format_count((double)info->params_count, buf, sizeof buf)
                                      : "\u2014");
  it->text[F_HYPER] = short_hyper(parse_object(p, info->hyperparams_json));
  if (isfinite(it->test_acc) && isfinite(it->test_loss))
    it->text[F_FINAL] =
        g_strdup_printf("acc %.2f%% \u00b7 loss %.4g", 100 * it->test_acc, it->test_loss);
  else if (isfinite(it->test_loss))
    it->text[F_FINAL] = g_strdup_printf("loss %.4g", it->test_loss);
  else
    it->text[F_FINAL] = g_strdup("\u2014");
  if (it->best_is_acc)
    it->text[F_BEST] = g_strdup_printf("val acc %.2f%% \u00b7 epoch %d", 100 * best_acc, acc_ep);
  else if (isfinite(best_loss))
    it->text[F_BEST] = g_strdup_printf("val loss %.4g \u00b7 epoch %d", best_loss, loss_ep);
  else
    it->text[F_BEST] = g_strdup("\u2014");
  format_duration(info->duration_s, buf, sizeof buf);
  it->text[F_TIME] = g_strdup(info->status == LL_RUN_RUNNING ? "\u2026" : buf);
  it->text[F_STATUS] = g_strdup(ll_run_status_to_string(info->status));
  it->text[F_TAGS] = ll_run_tags_to_string((const char *const *)info->tags);
  return it;
}

/* ---- LlRunsView ---- */

enum { SIG_OPEN_ANALYSIS, SIG_OPEN_SPEC, N_SIGNALS };
static guint signals[N_SIGNALS];

enum { EXPORT_REPORT, EXPORT_PLOT, EXPORT_MODEL };

struct _LlRunsView {
  GtkBox parent_instance;
  GtkSearchEntry *search;
  GtkColumnView *view;
  GtkColumnViewColumn *heads_column; /* shown when a run has several heads */
  GtkButton *refresh_button, *analysis_button, *spec_button, *report_button, *plot_button,
      *model_button;
  GtkMenuButton *edit_button;
  GtkPopover *edit_popover;
  GtkEntry *name_entry, *tags_entry;
  GtkTextView *notes_view;
  GtkLabel *message, *empty_label;
  GtkStack *compare_stack;
  GtkBox *plots;
  GtkGrid *diff_grid, *ablation_grid;

  GListStore *store;
  GtkFilter *filter;
  GtkSortListModel *sorted;
  GtkMultiSelection *selection;
  char *store_root;
  gboolean loading, reload_again;
  int exporting;
  GtkFileChooserNative *chooser;

  LlCurvePlot *plot[2]; /* val_loss, val_accuracy overlays */
  GtkWidget *area[2];
  GPtrArray *diff_lines, *ablation_lines; /* char*, for the getters */
};

G_DEFINE_FINAL_TYPE(LlRunsView, ll_runs_view, GTK_TYPE_BOX)

GtkWidget *ll_runs_view_new(void) { return g_object_new(LL_TYPE_RUNS_VIEW, NULL); }

GListModel *ll_runs_view_get_model(LlRunsView *self) { return G_LIST_MODEL(self->sorted); }

gboolean ll_runs_view_is_busy(LlRunsView *self) { return self->loading || self->exporting > 0; }

const char *ll_runs_view_get_message(LlRunsView *self) { return gtk_label_get_text(self->message); }

void ll_runs_view_set_store_root(LlRunsView *self, const char *root)
{
  g_free(self->store_root);
  self->store_root = g_strdup(root);
}

static void set_message(LlRunsView *self, const char *text, gboolean error)
{
  gtk_label_set_text(self->message, text);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->message), text);
  if (error)
    gtk_widget_add_css_class(GTK_WIDGET(self->message), "error");
  else
    gtk_widget_remove_css_class(GTK_WIDGET(self->message), "error");
}

/* The selected rows in the order shown (LlRunItem*, borrowed from the model). */
static GPtrArray *selected_items(LlRunsView *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func(g_object_unref);
  GtkBitset *set = gtk_selection_model_get_selection(GTK_SELECTION_MODEL(self->selection));
  GtkBitsetIter iter;
  guint pos;
  for (gboolean ok = gtk_bitset_iter_init_first(&iter, set, &pos); ok;
       ok = gtk_bitset_iter_next(&iter, &pos))
    g_ptr_array_add(out, g_list_model_get_item(G_LIST_MODEL(self->sorted), pos));
  gtk_bitset_unref(set);
  return out;
}

/* ---- the overlay ---- */

/* The legend names: the run names, with the id's random suffix where names repeat. */
static char *series_name(GPtrArray *items, guint k)
{
  LlRunItem *it = items->pdata[k];
  for (guint j = 0; j < items->len; j++) {
    LlRunItem *o = items->pdata[j];
    if (j != k && !strcmp(o->text[F_NAME], it->text[F_NAME])) {
      const char *dash = strrchr(it->info->id, '-');
      return g_strdup_printf("%s #%s", it->text[F_NAME], dash ? dash + 1 : it->info->id);
    }
  }
  return g_strdup(it->text[F_NAME]);
}

/* One plot of metric (0: val_loss, 1: val_accuracy) over items; any thread, the items are
 * immutable. No run-id stamp: the table says which runs on screen, the export stamps the
 * figure once. A run with several heads shows each head's validation metric as a series
 * of its own, "<run>: digit accuracy" with the accuracies, "<run>: sum MSE" with the
 * losses; its first accuracy keeps the run's colour (its plain accuracy is not drawn), the
 * others take colours after the runs'. */
static LlCurvePlot *build_overlay(GPtrArray *items, int metric)
{
  LlCurvePlot *p = ll_curve_plot_new(metric ? "Validation accuracy" : "Validation loss", "epoch");
  int extra = (int)items->len; /* the next colour for a head series */
  for (guint k = 0; k < items->len; k++) {
    LlRunItem *it = items->pdata[k];
    double rgb[3];
    ll_plot_class_color((int)k, rgb);
    g_autofree char *name = series_name(items, k);
    gboolean head_acc = FALSE, first = TRUE;
    for (guint h = 0; h < it->head_curves->len; h++) {
      HeadCurve *c = it->head_curves->pdata[h];
      g_autofree char *kind = NULL;
      ll_metric_parse_head(c->name, NULL, NULL, &kind);
      gboolean acc = !strcmp(kind, "accuracy");
      head_acc |= acc;
      if (acc != (metric == 1))
        continue;
      double hc[3];
      ll_plot_class_color(first && metric == 1 ? (int)k : extra++, hc);
      first = FALSE;
      g_autofree char *label = ll_metric_label(c->name);
      g_autofree char *hname = g_strdup_printf("%s: %s", name, label);
      int s = ll_curve_plot_add_series(p, hname, hc[0], hc[1], hc[2], TRUE, FALSE);
      for (guint i = 0; i + 1 < c->xy->len; i += 2)
        ll_curve_plot_append(p, s, g_array_index(c->xy, double, i),
                             g_array_index(c->xy, double, i + 1));
    }
    /* with heads of their own, the plain validation accuracy is the first head's again */
    if (metric == 1 && head_acc)
      continue;
    int s = ll_curve_plot_add_series(p, name, rgb[0], rgb[1], rgb[2], TRUE, FALSE);
    for (guint i = 0; i < it->epochs->len; i++) {
      EpochPoint *e = &g_array_index(it->epochs, EpochPoint, i);
      double v = metric ? e->val_acc : e->val_loss;
      if (isfinite(v))
        ll_curve_plot_append(p, s, e->epoch, v);
    }
  }
  return p;
}

LlCurvePlot *ll_runs_view_get_plot(LlRunsView *self, int i)
{
  return i >= 0 && i < 2 ? self->plot[i] : NULL;
}

int ll_runs_view_get_n_series(LlRunsView *self)
{
  return self->plot[0] ? ll_curve_plot_n_series(self->plot[0]) : 0;
}

static void draw_area(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  LlRunsView *self = data;
  LlCurvePlot *p = self->plot[GTK_WIDGET(area) == self->area[0] ? 0 : 1];
  ll_plot_style_apply(GTK_WIDGET(area), cr);
  if (p)
    ll_curve_plot_draw(p, cr, w, h);
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, LlRunsView *self)
{
  int i = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(c)) == self->area[0] ? 0 : 1;
  if (self->plot[i])
    ll_curve_plot_set_hover(self->plot[i], x);
  gtk_widget_queue_draw(self->area[i]);
}

static void on_leave(GtkEventControllerMotion *c, LlRunsView *self)
{
  int i = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(c)) == self->area[0] ? 0 : 1;
  if (self->plot[i])
    ll_curve_plot_set_hover(self->plot[i], -1);
  gtk_widget_queue_draw(self->area[i]);
}

/* ---- the spec diff ---- */

/* The JSON value as a short string: strings bare, arrays of scalars compact. */
static char *value_text(JsonNode *n)
{
  if (JSON_NODE_TYPE(n) == JSON_NODE_VALUE && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  if (JSON_NODE_TYPE(n) == JSON_NODE_VALUE && json_node_get_value_type(n) == G_TYPE_DOUBLE) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6g", json_node_get_double(n)));
  }
  return ll_json_node_to_line(n);
}

typedef struct {
  GHashTable *values; /* path -> value text */
  GHashTable *nodes;  /* paths of array elements (blocks, losses), for grouping */
  GPtrArray *order;   /* paths as first met (borrowed from values' keys) */
} Flat;

static void flat_put(Flat *f, const char *path, char *value)
{
  if (!g_hash_table_contains(f->values, path)) {
    char *key = g_strdup(path);
    g_ptr_array_add(f->order, key);
    g_hash_table_insert(f->values, key, value);
  } else {
    g_hash_table_replace(f->values, g_strdup(path), value);
  }
}

static gboolean is_scalar(JsonNode *n)
{
  return JSON_NODE_TYPE(n) == JSON_NODE_VALUE || JSON_NODE_TYPE(n) == JSON_NODE_NULL;
}

/* Flattens a spec to path -> value. Arrays of objects are keyed by their "name"
 * member where every element has one (graph.blocks[conv1].props.out_channels),
 * else by index; each element also gets a row of its own holding its type, so
 * a block only one run has shows as one line. */
static void flatten(Flat *f, JsonNode *n, const char *path)
{
  if (JSON_NODE_HOLDS_OBJECT(n)) {
    JsonObject *o = json_node_get_object(n);
    g_autoptr(GList) members = json_object_get_members(o);
    if (!members && *path)
      flat_put(f, path, g_strdup("{}"));
    for (GList *l = members; l; l = l->next) {
      g_autofree char *child =
          *path ? g_strdup_printf("%s.%s", path, (char *)l->data) : g_strdup(l->data);
      flatten(f, json_object_get_member(o, l->data), child);
    }
    return;
  }
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    flat_put(f, path, value_text(n));
    return;
  }
  JsonArray *a = json_node_get_array(n);
  guint len = json_array_get_length(a);
  gboolean scalars = TRUE, named = len > 0;
  for (guint i = 0; i < len; i++) {
    JsonNode *e = json_array_get_element(a, i);
    scalars = scalars && is_scalar(e);
    named = named && JSON_NODE_HOLDS_OBJECT(e) &&
            json_object_get_string_member_with_default(json_node_get_object(e), "name", NULL);
  }
  if (scalars || !len) {
    flat_put(f, path, value_text(n));
    return;
  }
  for (guint i = 0; i < len; i++) {
    JsonNode *e = json_array_get_element(a, i);
    g_autofree char *child =
        named ? g_strdup_printf("%s[%s]", path,
                                json_object_get_string_member(json_node_get_object(e), "name"))
              : g_strdup_printf("%s[%u]", path, i);
    if (!JSON_NODE_HOLDS_OBJECT(e)) {
      flatten(f, e, child);
      continue;
    }
    /* the element's own row: its type (blocks, losses), standing for it as a whole */
    JsonObject *o = json_node_get_object(e);
    const char *type = json_object_get_string_member_with_default(o, "type", "present");
    flat_put(f, child, g_strdup(type));
    g_hash_table_add(f->nodes, g_strdup(child));
    g_autoptr(GList) members = json_object_get_members(o);
    for (GList *l = members; l; l = l->next) {
      if (!strcmp(l->data, "type") || (named && !strcmp(l->data, "name")))
        continue;
      g_autofree char *sub = g_strdup_printf("%s.%s", child, (char *)l->data);
      flatten(f, json_object_get_member(o, l->data), sub);
    }
  }
}

static void flat_init(Flat *f)
{
  f->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  f->nodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  f->order = g_ptr_array_new();
}

static void flat_clear(Flat *f)
{
  g_ptr_array_unref(f->order);
  g_hash_table_unref(f->nodes);
  g_hash_table_unref(f->values);
}

typedef struct {
  char *path;
  char **values; /* one per run; NULL where the run's spec lacks the path */
} DiffRow;

static void diff_row_free(DiffRow *r)
{
  g_free(r->path);
  g_free(r->values); /* the strings are borrowed from the Flats */
  g_free(r);
}

/* The element path (a key of nodes) that holds path, or NULL. */
static char *enclosing_node(Flat *flats, guint n, const char *path)
{
  for (size_t k = strlen(path); k-- > 0;) {
    if (path[k] != ']')
      continue;
    g_autofree char *prefix = g_strndup(path, k + 1);
    if (strcmp(prefix, path))
      for (guint r = 0; r < n; r++)
        if (g_hash_table_contains(flats[r].nodes, prefix))
          return g_steal_pointer(&prefix);
  }
  return NULL;
}

/* The paths where the runs' specs differ, in the order first met. Inside a block
 * that some runs lack, a setting only counts where the runs that have the block
 * disagree on it (so a missing block is one line, not one per property). */
static GPtrArray *spec_diff(GPtrArray *items, Flat *flats)
{
  guint n = items->len;
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)diff_row_free);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint r = 0; r < n; r++)
    for (guint i = 0; i < flats[r].order->len; i++) {
      const char *path = flats[r].order->pdata[i];
      if (!g_hash_table_add(seen, (gpointer)path))
        continue;
      char **v = g_new0(char *, n);
      for (guint k = 0; k < n; k++)
        v[k] = g_hash_table_lookup(flats[k].values, path);
      g_autofree char *node = enclosing_node(flats, n, path);
      gboolean differ = FALSE;
      const char *first = NULL;
      gboolean have_first = FALSE;
      for (guint k = 0; k < n; k++) {
        if (node && !g_hash_table_contains(flats[k].values, node))
          continue; /* this run lacks the whole block: said by the block's own line */
        if (!have_first) {
          first = v[k];
          have_first = TRUE;
        } else if (g_strcmp0(first, v[k])) {
          differ = TRUE;
        }
      }
      if (!differ) {
        g_free(v);
        continue;
      }
      DiffRow *row = g_new0(DiffRow, 1);
      row->path = g_strdup(path);
      row->values = v;
      g_ptr_array_add(rows, row);
    }
  return rows;
}

/* ---- the ablation table ---- */

typedef struct {
  char **key; /* the varying settings' values (borrowed) */
  GPtrArray *items;
  double mean; /* of the ranking metric over its runs, NAN: none */
} Group;

typedef struct {
  int n_keys;
  gboolean maximize;
} GroupOrder;

static int compare_values(const char *a, const char *b)
{
  if (!a || !b)
    return a ? 1 : b ? -1 : 0;
  char *ea, *eb;
  double x = g_ascii_strtod(a, &ea), y = g_ascii_strtod(b, &eb);
  if (ea != a && !*ea && eb != b && !*eb)
    return x < y ? -1 : x > y;
  return g_utf8_collate(a, b);
}

/* Best mean first (seeds of one setting are a group: their mean ranks it),
 * then by the settings' values. */
static int compare_groups(gconstpointer pa, gconstpointer pb, gpointer data)
{
  const Group *a = *(Group *const *)pa, *b = *(Group *const *)pb;
  const GroupOrder *o = data;
  gboolean fa = isfinite(a->mean), fb = isfinite(b->mean);
  if (fa != fb)
    return fa ? -1 : 1;
  if (fa && a->mean != b->mean)
    return (a->mean > b->mean) == o->maximize ? -1 : 1;
  for (int i = 0; i < o->n_keys; i++) {
    int c = compare_values(a->key[i], b->key[i]);
    if (c)
      return c;
  }
  return 0;
}

static void group_free(Group *g)
{
  g_free(g->key);
  g_ptr_array_unref(g->items);
  g_free(g);
}

static double item_metric(const LlRunItem *it, int which)
{
  double v = which == 0 ? it->test_acc : which == 1 ? it->test_loss : it->best_val;
  return which == 2 && !it->best_is_acc ? NAN : v;
}

static double group_mean(GPtrArray *items, int which)
{
  double sum = 0;
  int n = 0;
  for (guint i = 0; i < items->len; i++) {
    double v = item_metric(items->pdata[i], which);
    if (isfinite(v))
      sum += v, n++;
  }
  return n ? sum / n : NAN;
}

/* "97.12%" or "97.12 ± 0.30%" (n > 1) of a metric over a group's runs. */
static char *mean_text(GPtrArray *items, int which)
{
  double sum = 0, sq = 0;
  int n = 0;
  for (guint i = 0; i < items->len; i++) {
    /* best val loss and best val accuracy do not average together */
    double v = item_metric(items->pdata[i], which);
    if (isfinite(v))
      sum += v, sq += v * v, n++;
  }
  if (!n)
    return g_strdup("\u2014");
  double mean = sum / n, sd = n > 1 ? sqrt(MAX(0, (sq - n * mean * mean) / (n - 1))) : 0;
  double scale = which == 1 ? 1 : 100;
  const char *unit = which == 1 ? "" : "%";
  if (n > 1)
    return g_strdup_printf(which == 1 ? "%.4g \u00b1 %.2g%s" : "%.2f \u00b1 %.2f%s", scale * mean,
                           scale * sd, unit);
  return g_strdup_printf(which == 1 ? "%.4g%s" : "%.2f%s", scale * mean, unit);
}

/* "88.00%" or "88.00 ± 1.20%" (n > 1) of a head's test metric over a group's runs. */
static char *head_mean_text(GPtrArray *items, const char *name)
{
  double sum = 0, sq = 0;
  int n = 0;
  for (guint i = 0; i < items->len; i++) {
    LlRunItem *it = items->pdata[i];
    for (guint k = 0; k < it->head_names->len; k++)
      if (!strcmp(it->head_names->pdata[k], name)) {
        double v = g_array_index(it->head_values, double, k);
        sum += v, sq += v * v, n++;
      }
  }
  if (!n)
    return g_strdup("\u2014");
  double mean = sum / n, sd = n > 1 ? sqrt(MAX(0, (sq - n * mean * mean) / (n - 1))) : 0;
  g_autofree char *m = ll_metric_format(name, mean);
  if (n == 1)
    return g_steal_pointer(&m);
  g_autofree char *d = ll_metric_format(name, sd);
  return g_strdup_printf("%s \u00b1 %s", m, d);
}

/* ---- filling the comparison ---- */

static void grid_clear(GtkGrid *g)
{
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(g))))
    gtk_grid_remove(g, c);
}

static GtkWidget *cell(GtkGrid *g, int col, int row, const char *text, gboolean head,
                       const double *rgb)
{
  GtkWidget *l = gtk_label_new(NULL);
  if (rgb) {
    g_autofree char *m = g_markup_printf_escaped(
        "<span foreground=\"#%02x%02x%02x\">\u25a0</span> <b>%s</b>", (int)(rgb[0] * 255),
        (int)(rgb[1] * 255), (int)(rgb[2] * 255), text);
    gtk_label_set_markup(GTK_LABEL(l), m);
  } else if (head) {
    g_autofree char *m = g_markup_printf_escaped("<b>%s</b>", text);
    gtk_label_set_markup(GTK_LABEL(l), m);
  } else {
    gtk_label_set_text(GTK_LABEL(l), text);
  }
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_label_set_selectable(GTK_LABEL(l), !head && !rgb);
  if (!head && !rgb) { /* long values (shapes, paths) shorten; headers never */
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_width_chars(GTK_LABEL(l), MIN((int)g_utf8_strlen(text, -1), 12));
    gtk_label_set_max_width_chars(GTK_LABEL(l), 40);
  }
  gtk_widget_set_tooltip_text(l, text);
  gtk_grid_attach(g, l, col, row, 1, 1);
  return l;
}

static const char *last_name(const char *path)
{
  const char *dot = strrchr(path, '.');
  return dot ? dot + 1 : path;
}

/* Not a setting an ablation compares: the seed makes repeats of one setting. */
static gboolean ablation_skip(const char *path)
{
  return !strcmp(path, "name") || !strcmp(path, "description") ||
         !strcmp(path, "training.seed");
}

static void fill_diff_and_ablation(LlRunsView *self, GPtrArray *items)
{
  guint n = items->len;
  grid_clear(self->diff_grid);
  grid_clear(self->ablation_grid);
  g_ptr_array_set_size(self->diff_lines, 0);
  g_ptr_array_set_size(self->ablation_lines, 0);
  Flat *flats = g_new0(Flat, n);
  for (guint k = 0; k < n; k++) {
    LlRunItem *it = items->pdata[k];
    flat_init(&flats[k]);
    g_autoptr(JsonParser) p = json_parser_new();
    if (it->info->spec_json && ll_json_parser_load(p, it->info->spec_json, -1, "spec", NULL) &&
        json_parser_get_root(p))
      flatten(&flats[k], json_parser_get_root(p), "");
  }
  g_autoptr(GPtrArray) rows = spec_diff(items, flats);

  /* the diff: a header with the runs' colours (as in the plots), then path | value ... */
  cell(self->diff_grid, 0, 0, "setting", TRUE, NULL);
  for (guint k = 0; k < n; k++) {
    double rgb[3];
    ll_plot_class_color((int)k, rgb);
    g_autofree char *name = series_name(items, k);
    cell(self->diff_grid, (int)k + 1, 0, name, TRUE, rgb);
  }
  if (n < 2)
    cell(self->diff_grid, 0, 1, "Select two runs or more to see how their specs differ.", FALSE,
         NULL);
  else if (!rows->len)
    cell(self->diff_grid, 0, 1, "The specs are the same.", FALSE, NULL);
  for (guint i = 0; i < rows->len; i++) {
    DiffRow *r = rows->pdata[i];
    GString *line = g_string_new(r->path);
    g_string_append(line, ": ");
    GtkWidget *pl = cell(self->diff_grid, 0, (int)i + 1, r->path, FALSE, NULL);
    gtk_label_set_ellipsize(GTK_LABEL(pl), PANGO_ELLIPSIZE_NONE); /* the path is the point */
    for (guint k = 0; k < n; k++) {
      const char *v = r->values[k] ? r->values[k] : "\u2014";
      cell(self->diff_grid, (int)k + 1, (int)i + 1, v, FALSE, NULL);
      g_string_append_printf(line, "%s%s", k ? " | " : "", v);
    }
    g_ptr_array_add(self->diff_lines, g_string_free(line, FALSE));
  }

  /* the ablation: runs grouped by the values of the settings that vary */
  g_autoptr(GPtrArray) vary = g_ptr_array_new();
  for (guint i = 0; i < rows->len; i++)
    if (!ablation_skip(((DiffRow *)rows->pdata[i])->path))
      g_ptr_array_add(vary, rows->pdata[i]);
  const guint max_keys = 4;
  guint nk = MIN(vary->len, max_keys);
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func((GDestroyNotify)group_free);
  for (guint k = 0; k < n; k++) {
    Group *g = NULL;
    for (guint j = 0; j < groups->len && !g; j++) {
      Group *c = groups->pdata[j];
      gboolean same = TRUE;
      for (guint i = 0; i < nk && same; i++)
        same = !g_strcmp0(c->key[i], ((DiffRow *)vary->pdata[i])->values[k]);
      if (same)
        g = c;
    }
    if (!g) {
      g = g_new0(Group, 1);
      g->key = g_new0(char *, MAX(nk, 1));
      for (guint i = 0; i < nk; i++)
        g->key[i] = ((DiffRow *)vary->pdata[i])->values[k];
      g->items = g_ptr_array_new();
      g_ptr_array_add(groups, g);
    }
    g_ptr_array_add(g->items, items->pdata[k]);
  }
  /* ranked by the mean test accuracy, or the mean test loss where no run has one */
  gboolean by_acc = FALSE;
  for (guint k = 0; k < n; k++)
    by_acc |= isfinite(((LlRunItem *)items->pdata[k])->test_acc);
  for (guint j = 0; j < groups->len; j++) {
    Group *g = groups->pdata[j];
    g->mean = group_mean(g->items, by_acc ? 0 : 1);
  }
  GroupOrder order = {(int)nk, by_acc};
  g_ptr_array_sort_with_data(groups, compare_groups, &order);
  const char *metric_heads[] = {"runs", "test acc", "test loss", "best val acc"};
  /* and each head's test metric that any of the runs has */
  g_autoptr(GPtrArray) head_metrics = g_ptr_array_new();
  for (guint k = 0; k < n; k++) {
    LlRunItem *it = items->pdata[k];
    for (guint i = 0; i < it->head_names->len; i++)
      if (!g_ptr_array_find_with_equal_func(head_metrics, it->head_names->pdata[i], g_str_equal,
                                            NULL))
        g_ptr_array_add(head_metrics, it->head_names->pdata[i]);
  }
  int nm = 4 + (int)head_metrics->len;
  GString *head = g_string_new(NULL);
  for (guint i = 0; i < nk; i++) {
    /* the setting's last name ("lr"), or its whole path where that is ambiguous */
    const char *path = ((DiffRow *)vary->pdata[i])->path, *last = last_name(path);
    for (guint k = 0; k < nk; k++)
      if (k != i && !strcmp(last, last_name(((DiffRow *)vary->pdata[k])->path)))
        last = path;
    GtkWidget *l = cell(self->ablation_grid, (int)i, 0, last, TRUE, NULL);
    gtk_widget_set_tooltip_text(l, path);
    g_string_append_printf(head, "%s\t", path);
  }
  for (int m = 0; m < nm; m++) {
    g_autofree char *hl = m < 4 ? NULL : ll_metric_label(head_metrics->pdata[m - 4]);
    g_autofree char *label = m < 4 ? g_strdup(metric_heads[m]) : g_strdup_printf("test %s", hl);
    cell(self->ablation_grid, (int)nk + m, 0, label, TRUE, NULL);
    g_string_append_printf(head, "%s%s", label, m < nm - 1 ? "\t" : "");
  }
  g_ptr_array_add(self->ablation_lines, g_string_free(head, FALSE));
  for (guint j = 0; j < groups->len; j++) {
    Group *g = groups->pdata[j];
    GString *line = g_string_new(NULL);
    for (guint i = 0; i < nk; i++) {
      const char *v = g->key[i] ? g->key[i] : "\u2014";
      cell(self->ablation_grid, (int)i, (int)j + 1, v, FALSE, NULL);
      g_string_append_printf(line, "%s\t", v);
    }
    for (int m = 0; m < nm; m++) {
      g_autofree char *v = m == 0  ? g_strdup_printf("%u", g->items->len)
                           : m < 4 ? mean_text(g->items, m - 1)
                                   : head_mean_text(g->items, head_metrics->pdata[m - 4]);
      cell(self->ablation_grid, (int)nk + m, (int)j + 1, v, FALSE, NULL);
      g_string_append_printf(line, "%s%s", v, m < nm - 1 ? "\t" : "");
    }
    g_ptr_array_add(self->ablation_lines, g_string_free(line, FALSE));
  }
  if (vary->len > nk) {
    g_autofree char *more =
        g_strdup_printf("(%u more settings vary; the diff lists them)", vary->len - nk);
    GtkWidget *l = cell(self->ablation_grid, 0, (int)groups->len + 1, more, FALSE, NULL);
    /* the grid held the only reference: kept across the move to a wider cell */
    g_object_ref(l);
    gtk_grid_remove(self->ablation_grid, l);
    gtk_grid_attach(self->ablation_grid, l, 0, (int)groups->len + 1, (int)nk + nm, 1);
    g_object_unref(l);
  }
  g_clear_pointer(&rows, g_ptr_array_unref); /* before the Flats it borrows from */
  for (guint k = 0; k < n; k++)
    flat_clear(&flats[k]);
  g_free(flats);
}

static void update_comparison(LlRunsView *self)
{
  g_autoptr(GPtrArray) items = selected_items(self);
  gboolean any = items->len > 0;
  gtk_widget_set_sensitive(GTK_WIDGET(self->analysis_button), any);
  gtk_widget_set_sensitive(GTK_WIDGET(self->spec_button), any);
  gtk_widget_set_sensitive(GTK_WIDGET(self->report_button), any);
  gtk_widget_set_sensitive(GTK_WIDGET(self->plot_button), any);
  gtk_widget_set_sensitive(GTK_WIDGET(self->model_button), any);
  for (int i = 0; i < 2; i++) {
    g_clear_pointer(&self->plot[i], ll_curve_plot_free);
    if (any)
      self->plot[i] = build_overlay(items, i);
    gtk_widget_queue_draw(self->area[i]);
  }
  if (!any) {
    grid_clear(self->diff_grid);
    grid_clear(self->ablation_grid);
    g_ptr_array_set_size(self->diff_lines, 0);
    g_ptr_array_set_size(self->ablation_lines, 0);
    gtk_stack_set_visible_child_name(self->compare_stack, "empty");
    return;
  }
  fill_diff_and_ablation(self, items);
  gtk_stack_set_visible_child_name(self->compare_stack, "compare");
}

static void on_selection_changed(GtkSelectionModel *m, guint pos, guint n, LlRunsView *self)
{
  update_comparison(self);
}

static char *join_lines(GPtrArray *lines)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf(s, "%s\n", (char *)lines->pdata[i]);
  return g_string_free(s, FALSE);
}

char *ll_runs_view_get_diff_text(LlRunsView *self) { return join_lines(self->diff_lines); }
char *ll_runs_view_get_ablation_text(LlRunsView *self) { return join_lines(self->ablation_lines); }

void ll_runs_view_select(LlRunsView *self, const char *const *ids)
{
  GListModel *m = G_LIST_MODEL(self->sorted);
  GtkBitset *want = gtk_bitset_new_empty();
  for (guint i = 0; ids && i < g_list_model_get_n_items(m); i++) {
    g_autoptr(LlRunItem) it = g_list_model_get_item(m, i);
    if (g_strv_contains(ids, it->info->id))
      gtk_bitset_add(want, i);
  }
  GtkBitset *mask = gtk_bitset_new_range(0, g_list_model_get_n_items(m));
  gtk_selection_model_set_selection(GTK_SELECTION_MODEL(self->selection), want, mask);
  gtk_bitset_unref(mask);
  gtk_bitset_unref(want);
  update_comparison(self); /* also when nothing changed, so the views are current */
}

/* ---- loading on a worker ---- */

static void load_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  GError *error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(data, &error);
  GPtrArray *runs = NULL;
  if (!store || !ll_run_store_list(store, &runs, &error)) {
    g_task_return_error(task, error);
    return;
  }
  GPtrArray *items = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < runs->len; i++)
    g_ptr_array_add(items, run_item_new(runs->pdata[i])); /* takes the info */
  g_ptr_array_set_free_func(runs, NULL);
  g_ptr_array_unref(runs);
  g_task_return_pointer(task, items, (GDestroyNotify)g_ptr_array_unref);
}

static void load_done(GObject *src, GAsyncResult *res, gpointer data)
{
  LlRunsView *self = LL_RUNS_VIEW(src);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = g_task_propagate_pointer(G_TASK(res), &error);
  self->loading = FALSE;
  gtk_widget_set_sensitive(GTK_WIDGET(self->refresh_button), TRUE);
  if (!items) {
    g_autofree char *m = g_strdup_printf("The run store could not be read: %s", error->message);
    set_message(self, m, TRUE);
  } else {
    /* keep the selection across the reload, by id */
    g_autoptr(GPtrArray) sel = selected_items(self);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    for (guint i = 0; i < sel->len; i++)
      g_strv_builder_add(b, ((LlRunItem *)sel->pdata[i])->info->id);
    g_auto(GStrv) ids = g_strv_builder_end(b);
    g_signal_handlers_block_by_func(self->selection, on_selection_changed, self);
    g_list_store_splice(self->store, 0, g_list_model_get_n_items(G_LIST_MODEL(self->store)),
                        items->pdata, items->len);
    g_signal_handlers_unblock_by_func(self->selection, on_selection_changed, self);
    gboolean heads = FALSE;
    for (guint i = 0; i < items->len && !heads; i++) {
      const char *t = ((LlRunItem *)items->pdata[i])->text[F_HEADS];
      heads = t && *t && strcmp(t, "\u2014"); /* the dash of a one-head run */
    }
    gtk_column_view_column_set_visible(self->heads_column, heads);
    ll_runs_view_select(self, (const char *const *)ids);
    g_autofree char *m = g_strdup_printf("%u runs in the store", items->len);
    set_message(self, m, FALSE);
    gtk_label_set_text(self->empty_label,
                       items->len ? "Select runs to compare them (Ctrl+click or Shift+click for "
                                    "several)."
                                  : "No runs recorded yet: train a spec and it appears here.");
  }
  if (self->reload_again) {
    self->reload_again = FALSE;
    ll_runs_view_refresh(self);
  }
}

void ll_runs_view_refresh(LlRunsView *self)
{
  if (self->loading) {
    self->reload_again = TRUE; /* a run finished while reading: read once more after */
    return;
  }
  self->loading = TRUE;
  gtk_widget_set_sensitive(GTK_WIDGET(self->refresh_button), FALSE);
  GTask *task = g_task_new(self, NULL, load_done, NULL);
  g_task_set_task_data(task, g_strdup(self->store_root), g_free);
  g_task_run_in_thread(task, load_thread);
  g_object_unref(task);
}

/* ---- filtering and sorting ---- */

static gboolean filter_func(gpointer item, gpointer data)
{
  LlRunsView *self = data;
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->search));
  if (!text || !*text)
    return TRUE;
  LlRunItem *it = item;
  g_autofree char *needle = g_utf8_casefold(text, -1);
  const int where[] = {F_NAME, F_ID, F_STATUS, F_TAGS};
  for (guint i = 0; i < G_N_ELEMENTS(where); i++) {
    g_autofree char *hay = g_utf8_casefold(it->text[where[i]], -1);
    if (strstr(hay, needle))
      return TRUE;
  }
  return FALSE;
}

static void on_search_changed(GtkSearchEntry *e, LlRunsView *self)
{
  gtk_filter_changed(self->filter, GTK_FILTER_CHANGE_DIFFERENT);
}

void ll_runs_view_set_search(LlRunsView *self, const char *text)
{
  gtk_editable_set_text(GTK_EDITABLE(self->search), text);
  gtk_filter_changed(self->filter, GTK_FILTER_CHANGE_DIFFERENT); /* now, not after the delay */
}

/* Missing numbers sort below every number. */
static int cmp_double(double a, double b)
{
  gboolean fa = isfinite(a), fb = isfinite(b);
  if (!fa || !fb)
    return fa - fb;
  return a < b ? -1 : a > b;
}

static double final_key(LlRunItem *it)
{
  return isfinite(it->test_acc) ? it->test_acc : isfinite(it->test_loss) ? -it->test_loss : NAN;
}

static double best_key(LlRunItem *it)
{
  return it->best_is_acc ? it->best_val : isfinite(it->best_val) ? -it->best_val : NAN;
}

static int sort_func(gconstpointer pa, gconstpointer pb, gpointer data)
{
  LlRunItem *a = (LlRunItem *)pa, *b = (LlRunItem *)pb;
  int f = GPOINTER_TO_INT(data), c = 0;
  switch (f) {
  case F_DATE:
    c = a->info->created_us < b->info->created_us ? -1 : a->info->created_us > b->info->created_us;
    break;
  case F_PARAMS:
    c = a->info->params_count < b->info->params_count
            ? -1
            : a->info->params_count > b->info->params_count;
    break;
  case F_FINAL: c = cmp_double(final_key(a), final_key(b)); break;
  case F_BEST: c = cmp_double(best_key(a), best_key(b)); break;
  case F_TIME: c = cmp_double(a->info->duration_s, b->info->duration_s); break;
  default: c = g_utf8_collate(a->text[f], b->text[f]); break;
  }
  if (!c) /* ties: newest first, so the order is stable */
    c = g_strcmp0(b->info->id, a->info->id);
  return c < 0 ? GTK_ORDERING_SMALLER : c > 0 ? GTK_ORDERING_LARGER : GTK_ORDERING_EQUAL;
}

void ll_runs_view_sort_by(LlRunsView *self, const char *field, gboolean descending)
{
  GListModel *cols = gtk_column_view_get_columns(self->view);
  for (guint i = 0; i < g_list_model_get_n_items(cols); i++) {
    g_autoptr(GtkColumnViewColumn) c = g_list_model_get_item(cols, i);
    if (!g_strcmp0(g_object_get_data(G_OBJECT(c), "field"), field))
      gtk_column_view_sort_by_column(self->view, c,
                                     descending ? GTK_SORT_DESCENDING : GTK_SORT_ASCENDING);
  }
}

/* ---- columns ---- */

static void setup_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  int field = GPOINTER_TO_INT(data);
  GtkWidget *l = gtk_label_new(NULL);
  gboolean numeric = field == F_PARAMS || field == F_TIME;
  gtk_label_set_xalign(GTK_LABEL(l), numeric ? 1 : 0);
  /* the short fields keep their width; the long ones give way */
  if (field == F_NAME || field == F_HYPER || field == F_FINAL || field == F_BEST ||
      field == F_TAGS || field == F_HEADS)
    gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
  if (field == F_DATE || numeric)
    gtk_widget_add_css_class(l, "numeric");
  gtk_list_item_set_child(li, l);
}

static void bind_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
  int field = GPOINTER_TO_INT(data);
  LlRunItem *it = gtk_list_item_get_item(li);
  GtkWidget *l = gtk_list_item_get_child(li);
  gtk_label_set_text(GTK_LABEL(l), it->text[field]);
  g_autofree char *name_tip = field == F_NAME && it->info->notes
                                  ? g_strdup_printf("%s\n\n%s", it->info->id, it->info->notes)
                                  : NULL;
  const char *tip = field == F_NAME     ? name_tip ? name_tip : it->info->id
                    : field == F_HYPER  ? it->info->hyperparams_json
                    : field == F_FINAL  ? it->info->metrics_json
                    : field == F_HEADS || field == F_BEST || field == F_TAGS ? it->text[field]
                    : field == F_STATUS ? it->info->error
                                        : NULL;
  gtk_widget_set_tooltip_text(l, tip);
}

static GtkColumnViewColumn *add_column(LlRunsView *self, const char *title, int field, int width,
                                       gboolean expand)
{
  GtkListItemFactory *f = gtk_signal_list_item_factory_new();
  g_signal_connect(f, "setup", G_CALLBACK(setup_cell), GINT_TO_POINTER(field));
  g_signal_connect(f, "bind", G_CALLBACK(bind_cell), GINT_TO_POINTER(field));
  GtkColumnViewColumn *c = gtk_column_view_column_new(title, f);
  g_object_set_data(G_OBJECT(c), "field", (gpointer)fields[field]);
  GtkSorter *sorter = GTK_SORTER(gtk_custom_sorter_new(sort_func, GINT_TO_POINTER(field), NULL));
  gtk_column_view_column_set_sorter(c, sorter);
  g_object_unref(sorter);
  gtk_column_view_column_set_resizable(c, TRUE);
  gtk_column_view_column_set_expand(c, expand);
  if (width > 0)
    gtk_column_view_column_set_fixed_width(c, width);
  gtk_column_view_append_column(self->view, c);
  g_object_unref(c);
  return c;
}

/* ---- buttons and export ---- */

static void on_refresh_clicked(GtkButton *b, LlRunsView *self) { ll_runs_view_refresh(self); }

static LlRunItem *first_selected(LlRunsView *self)
{
  g_autoptr(GPtrArray) items = selected_items(self);
  return items->len ? g_object_ref(items->pdata[0]) : NULL;
}

/* ---- the user's name, notes and tags of a run ---- */

/* The popover opens on the first selected run's current values. */
static void on_edit_show(GtkPopover *p, LlRunsView *self)
{
  g_autoptr(LlRunItem) it = first_selected(self);
  const LlRunInfo *r = it ? it->info : NULL;
  g_autofree char *tags = ll_run_tags_to_string(r ? (const char *const *)r->tags : NULL);
  gtk_editable_set_text(GTK_EDITABLE(self->name_entry), r && r->name ? r->name : "");
  gtk_editable_set_text(GTK_EDITABLE(self->tags_entry), tags);
  gtk_text_buffer_set_text(gtk_text_view_get_buffer(self->notes_view),
                           r && r->notes ? r->notes : "", -1);
  gtk_widget_grab_focus(GTK_WIDGET(self->name_entry));
}

gboolean ll_runs_view_edit_run(LlRunsView *self, const char *id, const char *name,
                               const char *notes, const char *tags, GError **error)
{
  g_auto(GStrv) list = NULL;
  if (!ll_run_tags_parse(tags, &list, error))
    return FALSE;
  /* a few short UPDATEs: done here, the store answers at once */
  g_autoptr(LlRunStore) store = ll_run_store_open(self->store_root, error);
  if (!store || !ll_run_store_set_name(store, id, name, error) ||
      !ll_run_store_set_notes(store, id, notes, error) ||
      !ll_run_store_set_tags(store, id, (const char *const *)list, error))
    return FALSE;
  ll_runs_view_refresh(self);
  return TRUE;
}

static void on_edit_save(GtkButton *b, LlRunsView *self)
{
  g_autoptr(LlRunItem) it = first_selected(self);
  if (!it) {
    set_message(self, "Select a run to rename it or edit its notes and tags.", TRUE);
    gtk_popover_popdown(self->edit_popover);
    return;
  }
  GtkTextBuffer *buf = gtk_text_view_get_buffer(self->notes_view);
  GtkTextIter start, end;
  gtk_text_buffer_get_bounds(buf, &start, &end);
  g_autofree char *notes = gtk_text_buffer_get_text(buf, &start, &end, FALSE);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = g_strdup(it->info->id);
  if (!ll_runs_view_edit_run(self, id, gtk_editable_get_text(GTK_EDITABLE(self->name_entry)), notes,
                             gtk_editable_get_text(GTK_EDITABLE(self->tags_entry)), &error)) {
    /* the popover stays open, so that nothing typed is lost */
    set_message(self, error->message, TRUE);
    return;
  }
  g_autofree char *msg = g_strdup_printf("Saved the name, notes and tags of %s.", id);
  set_message(self, msg, FALSE);
  gtk_popover_popdown(self->edit_popover);
}

static void on_analysis_clicked(GtkButton *b, LlRunsView *self)
{
  g_autoptr(LlRunItem) it = first_selected(self);
  if (it)
    g_signal_emit(self, signals[SIG_OPEN_ANALYSIS], 0, it->info);
}

static void on_spec_clicked(GtkButton *b, LlRunsView *self)
{
  g_autoptr(LlRunItem) it = first_selected(self);
  if (it)
    g_signal_emit(self, signals[SIG_OPEN_SPEC], 0, it->info);
}

typedef struct {
  char *root, *path;
  GPtrArray *items; /* LlRunItem, refs */
  int kind;
} ExportJob;

static void export_job_free(ExportJob *j)
{
  g_free(j->root);
  g_free(j->path);
  g_ptr_array_unref(j->items);
  g_free(j);
}

typedef struct {
  LlCurvePlot *plot[2];
  GString *ids;
} OverlayFigure;

/* Both plots side by side, the run ids once along the bottom (per plot they would run into
 * the axis labels). */
static void draw_overlay_pair(gpointer data, cairo_t *cr, double w, double h)
{
  OverlayFigure *fig = data;
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_paint(cr);
  for (int i = 0; i < 2; i++) {
    cairo_save(cr);
    cairo_translate(cr, i * w / 2, 0);
    ll_curve_plot_draw(fig->plot[i], cr, w / 2, h - 14);
    cairo_restore(cr);
  }
  ll_plot_stamp(cr, w, h, fig->ids->str);
}

static void export_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
  ll_thread_yield_to_ui();
  ExportJob *j = data;
  GError *error = NULL;
  gboolean ok;
  if (j->kind == EXPORT_PLOT) {
    OverlayFigure fig = {{build_overlay(j->items, 0), build_overlay(j->items, 1)},
                         g_string_new(NULL)};
    for (guint i = 0; i < j->items->len; i++)
      g_string_append_printf(fig.ids, "%s%s", i ? ", " : "",
                             ((LlRunItem *)j->items->pdata[i])->info->id);
    ok = ll_plot_export(j->path, NULL, 1400, 480, 144, draw_overlay_pair, &fig, &error);
    ll_curve_plot_free(fig.plot[0]);
    ll_curve_plot_free(fig.plot[1]);
    g_string_free(fig.ids, TRUE);
  } else if (j->kind == EXPORT_MODEL) {
    /* the first run's best checkpoint (else its last), as `layerlab export --onnx` */
    g_autoptr(LlRunStore) store = ll_run_store_open(j->root, &error);
    g_autofree char *ckpt =
        store ? ll_run_store_resolve_checkpoint(
                    store, ((LlRunItem *)j->items->pdata[0])->info->id, &error)
              : NULL;
    ok = ckpt && ll_onnx_export_checkpoint(ckpt, j->path, &error);
  } else {
    /* the report wants the full rows: read them again, here, from the store */
    g_autoptr(LlRunStore) store = ll_run_store_open(j->root, &error);
    g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
    ok = store != NULL;
    for (guint i = 0; ok && i < j->items->len; i++) {
      LlRunInfo *info = NULL;
      ok = ll_run_store_get(store, ((LlRunItem *)j->items->pdata[i])->info->id, &info, &error);
      if (ok)
        g_ptr_array_add(runs, info);
    }
    ok = ok && ll_run_report_pdf(runs, j->path, &error);
  }
  if (ok)
    g_task_return_boolean(task, TRUE);
  else
    g_task_return_error(task, error);
}

static void export_done(GObject *src, GAsyncResult *res, gpointer data)
{
  LlRunsView *self = LL_RUNS_VIEW(src);
  ExportJob *j = g_task_get_task_data(G_TASK(res));
  g_autoptr(GError) error = NULL;
  self->exporting--;
  if (g_task_propagate_boolean(G_TASK(res), &error)) {
    g_autofree char *m = g_strdup_printf("Wrote %s", j->path);
    set_message(self, m, FALSE);
  } else {
    g_autofree char *m = g_strdup_printf("Export failed: %s", error->message);
    set_message(self, m, TRUE);
  }
}

static void start_export(LlRunsView *self, int kind, const char *path)
{
  ExportJob *j = g_new0(ExportJob, 1);
  j->root = g_strdup(self->store_root);
  j->path = g_strdup(path);
  j->items = selected_items(self);
  j->kind = kind;
  if (!j->items->len) {
    export_job_free(j);
    set_message(self, "Select the runs to export first.", TRUE);
    return;
  }
  self->exporting++;
  set_message(self,
              kind == EXPORT_PLOT    ? "Exporting the plot\u2026"
              : kind == EXPORT_MODEL ? "Exporting the model\u2026"
                                     : "Writing the report\u2026",
              FALSE);
  GTask *task = g_task_new(self, NULL, export_done, NULL);
  g_task_set_task_data(task, j, (GDestroyNotify)export_job_free);
  g_task_run_in_thread(task, export_thread);
  g_object_unref(task);
}

void ll_runs_view_export_report(LlRunsView *self, const char *path)
{
  start_export(self, EXPORT_REPORT, path);
}

void ll_runs_view_export_overlay(LlRunsView *self, const char *path)
{
  start_export(self, EXPORT_PLOT, path);
}

void ll_runs_view_export_model(LlRunsView *self, const char *path)
{
  start_export(self, EXPORT_MODEL, path);
}

static void on_chooser_response(GtkNativeDialog *d, int response, LlRunsView *self)
{
  int kind = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d), "kind"));
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    g_autofree char *path = f ? g_file_get_path(f) : NULL;
    if (path) {
      const char *dot = strrchr(path, '.');
      gboolean known =
          dot && (!g_ascii_strcasecmp(dot, ".png") || !g_ascii_strcasecmp(dot, ".svg") ||
                  !g_ascii_strcasecmp(dot, ".pdf"));
      g_autofree char *full = kind == EXPORT_MODEL && !(dot && !g_ascii_strcasecmp(dot, ".onnx"))
                                  ? g_strconcat(path, ".onnx", NULL)
                              : kind == EXPORT_REPORT && !(dot && !g_ascii_strcasecmp(dot, ".pdf"))
                                  ? g_strconcat(path, ".pdf", NULL)
                              : kind == EXPORT_PLOT && !known ? g_strconcat(path, ".png", NULL)
                                                              : g_strdup(path);
      start_export(self, kind, full);
    }
  }
  g_clear_object(&self->chooser);
}

static void choose_file(LlRunsView *self, int kind)
{
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  if (self->chooser)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  g_autoptr(LlRunItem) first = first_selected(self);
  g_autofree char *model_name = g_strdup_printf("%s.onnx", first ? first->info->id : "model");
  self->chooser = gtk_file_chooser_native_new(
      kind == EXPORT_REPORT  ? "Export the comparison report"
      : kind == EXPORT_MODEL ? "Export the run's model as ONNX"
                             : "Export the overlaid curves",
      GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, GTK_FILE_CHOOSER_ACTION_SAVE, NULL, NULL);
  g_object_set_data(G_OBJECT(self->chooser), "kind", GINT_TO_POINTER(kind));
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser),
                                    kind == EXPORT_REPORT  ? "runs-comparison.pdf"
                                    : kind == EXPORT_MODEL ? model_name
                                                           : "runs-overlay.png");
  const char *const patterns[][2] = {{"PNG image", "*.png"},
                                     {"SVG drawing", "*.svg"},
                                     {"PDF document", "*.pdf"},
                                     {"ONNX model", "*.onnx"}};
  guint from = kind == EXPORT_REPORT ? 2 : kind == EXPORT_MODEL ? 3 : 0;
  guint to = kind == EXPORT_MODEL ? 4 : 3;
  for (guint i = from; i < to; i++) {
    GtkFileFilter *ff = gtk_file_filter_new();
    gtk_file_filter_set_name(ff, patterns[i][0]);
    gtk_file_filter_add_pattern(ff, patterns[i][1]);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), ff);
    g_object_unref(ff);
  }
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_report_clicked(GtkButton *b, LlRunsView *self) { choose_file(self, EXPORT_REPORT); }
static void on_plot_clicked(GtkButton *b, LlRunsView *self) { choose_file(self, EXPORT_PLOT); }
static void on_model_clicked(GtkButton *b, LlRunsView *self) { choose_file(self, EXPORT_MODEL); }

/* ---- life cycle ---- */

static void ll_runs_view_dispose(GObject *object)
{
  LlRunsView *self = LL_RUNS_VIEW(object);
  if (self->chooser)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  if (self->view)
    gtk_column_view_set_model(self->view, NULL);
  gtk_widget_dispose_template(GTK_WIDGET(self), LL_TYPE_RUNS_VIEW);
  g_clear_object(&self->selection);
  g_clear_object(&self->sorted);
  g_clear_object(&self->filter);
  g_clear_object(&self->store);
  G_OBJECT_CLASS(ll_runs_view_parent_class)->dispose(object);
}

static void ll_runs_view_finalize(GObject *object)
{
  LlRunsView *self = LL_RUNS_VIEW(object);
  for (int i = 0; i < 2; i++)
    g_clear_pointer(&self->plot[i], ll_curve_plot_free);
  g_ptr_array_unref(self->diff_lines);
  g_ptr_array_unref(self->ablation_lines);
  g_free(self->store_root);
  G_OBJECT_CLASS(ll_runs_view_parent_class)->finalize(object);
}

static void ll_runs_view_class_init(LlRunsViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_runs_view_dispose;
  oc->finalize = ll_runs_view_finalize;
  signals[SIG_OPEN_ANALYSIS] =
      g_signal_new("open-analysis", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[SIG_OPEN_SPEC] = g_signal_new("open-spec", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-runs-view.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, LlRunsView, name)
  CHILD(search);
  CHILD(view);
  CHILD(refresh_button);
  CHILD(analysis_button);
  CHILD(spec_button);
  CHILD(report_button);
  CHILD(plot_button);
  CHILD(model_button);
  CHILD(edit_button);
  CHILD(edit_popover);
  CHILD(name_entry);
  CHILD(tags_entry);
  CHILD(notes_view);
  CHILD(message);
  CHILD(empty_label);
  CHILD(compare_stack);
  CHILD(plots);
  CHILD(diff_grid);
  CHILD(ablation_grid);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_search_changed);
  gtk_widget_class_bind_template_callback(wc, on_refresh_clicked);
  gtk_widget_class_bind_template_callback(wc, on_analysis_clicked);
  gtk_widget_class_bind_template_callback(wc, on_spec_clicked);
  gtk_widget_class_bind_template_callback(wc, on_report_clicked);
  gtk_widget_class_bind_template_callback(wc, on_model_clicked);
  gtk_widget_class_bind_template_callback(wc, on_plot_clicked);
  gtk_widget_class_bind_template_callback(wc, on_edit_show);
  gtk_widget_class_bind_template_callback(wc, on_edit_save);
}

static void ll_runs_view_init(LlRunsView *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  self->diff_lines = g_ptr_array_new_with_free_func(g_free);
  self->ablation_lines = g_ptr_array_new_with_free_func(g_free);

  /* sized by their contents, but the hyperparameters (long) */
  /* The long fields get a width of their own (ellipsized, the whole text
   * in the tooltip; every column resizes), so the name is readable and the
   * whole row fits the Runs tab at 1600 px (it scrolls below); the heads' column only
   * shows when a run has several heads. */
  add_column(self, "Name", F_NAME, 140, TRUE);
  GtkColumnViewColumn *date = add_column(self, "Date", F_DATE, 0, FALSE);
  add_column(self, "Params", F_PARAMS, 0, FALSE);
  add_column(self, "Hyperparameters", F_HYPER, 150, FALSE);
  add_column(self, "Test (final)", F_FINAL, 130, FALSE);
  add_column(self, "Best validation", F_BEST, 130, FALSE);
  self->heads_column = add_column(self, "Heads (test)", F_HEADS, 200, FALSE);
  gtk_column_view_column_set_visible(self->heads_column, FALSE);
  add_column(self, "Time", F_TIME, 0, FALSE);
  add_column(self, "Status", F_STATUS, 0, FALSE);
  add_column(self, "Tags", F_TAGS, 90, FALSE);

  /* store -> filter (search) -> sort (column headers) -> multi-selection */
  self->store = g_list_store_new(LL_TYPE_RUN_ITEM);
  self->filter = GTK_FILTER(gtk_custom_filter_new(filter_func, self, NULL));
  GtkFilterListModel *filtered = gtk_filter_list_model_new(G_LIST_MODEL(g_object_ref(self->store)),
                                                           g_object_ref(self->filter));
  GtkSorter *sorter = gtk_column_view_get_sorter(self->view);
  self->sorted = gtk_sort_list_model_new(G_LIST_MODEL(filtered), g_object_ref(sorter));
  self->selection = gtk_multi_selection_new(G_LIST_MODEL(g_object_ref(self->sorted)));
  gtk_column_view_set_model(self->view, GTK_SELECTION_MODEL(self->selection));
  gtk_column_view_sort_by_column(self->view, date, GTK_SORT_DESCENDING);
  g_signal_connect(self->selection, "selection-changed", G_CALLBACK(on_selection_changed), self);

  /* the overlay: val_loss and val_accuracy side by side, drawn by ui/plot */
  for (int i = 0; i < 2; i++) {
    self->area[i] = gtk_drawing_area_new();
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area[i]), draw_area, self, NULL);
    gtk_widget_set_hexpand(self->area[i], TRUE);
    gtk_widget_set_vexpand(self->area[i], TRUE);
    gtk_widget_set_size_request(self->area[i], 180, 160);
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(self->area[i], motion);
    gtk_box_append(self->plots, self->area[i]);
  }
  update_comparison(self);
}
