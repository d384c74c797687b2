/* ll-study-editor.c: the study's design as controls, rebuilt after every
 * edit from the LlStudyEdit (the single source of truth). */
#include "ll-study-editor.h"

#include <math.h>
#include <string.h>

#include "ll-spin-words.h"

struct _LlStudyEditor {
  GtkBox parent_instance;
  GtkWidget *body; /* rebuilt */
  GtkLabel *summary, *message;
  GtkButton *undo, *redo, *save;
  GHashTable *controls; /* name -> GtkWidget* (borrowed) */
  GtkFileChooserNative *chooser;
  LlStudyEdit *edit;
  char *path;
  char *spec_error;
  double seconds_per_trial;
  int run_epochs, run_limit;
  char *summary_text;
  guint rebuild_id; /* a rebuild waits for idle: never under the signal of a control it removes */
};

enum { SIG_CHANGED, SIG_SHOW_SPEC, SIG_SAVED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LlStudyEditor, ll_study_editor, GTK_TYPE_BOX)

GtkWidget *ll_study_editor_new(void) { return g_object_new(LL_TYPE_STUDY_EDITOR, NULL); }

static void rebuild(LlStudyEditor *self);
static void update_summary(LlStudyEditor *self);

static void say(LlStudyEditor *self, const char *text)
{
  gtk_label_set_text(self->message, text ? text : "");
  gtk_widget_set_visible(GTK_WIDGET(self->message), text && *text);
}

static gboolean rebuild_idle(gpointer data)
{
  LlStudyEditor *self = data;
  self->rebuild_id = 0;
  rebuild(self);
  return G_SOURCE_REMOVE;
}

static void queue_rebuild(LlStudyEditor *self)
{
  if (!self->rebuild_id)
    self->rebuild_id = g_idle_add(rebuild_idle, self);
}

/* A rebuild that is due happens now (before its controls are looked up). */
static void flush_rebuild(LlStudyEditor *self)
{
  if (self->rebuild_id) {
    g_source_remove(self->rebuild_id);
    self->rebuild_id = 0;
    rebuild(self);
  }
}

/* After an edit: the message (the refusal, or none), the controls, and the Study tab. */
static void edited(LlStudyEditor *self, gboolean ok, GError *error)
{
  say(self, ok ? NULL : error ? error->message : NULL);
  update_summary(self);
  queue_rebuild(self);
  if (ok)
    g_signal_emit(self, signals[SIG_CHANGED], 0);
}

#define EDIT(call)                                                                                 \
  do {                                                                                             \
    g_autoptr(GError) error_ = NULL;                                                               \
    gboolean ok_ = (call);                                                                         \
    edited(self, ok_, error_);                                                                     \
  } while (0)

/* A drop-down's "notify::selected" calls handler(w, self) as a click would. */
typedef void (*Handler)(GtkWidget *w, LlStudyEditor *self);

static void on_selected(GObject *dd, GParamSpec *pspec, LlStudyEditor *self)
{
  Handler h = (Handler)g_object_get_data(dd, "ll-handler");
  h(GTK_WIDGET(dd), self);
}

static void connect_selected(GtkWidget *dd, Handler h, LlStudyEditor *self)
{
  g_object_set_data(G_OBJECT(dd), "ll-handler", (gpointer)h);
  g_signal_connect(dd, "notify::selected", G_CALLBACK(on_selected), self);
}

static int index_of(GtkWidget *w) { return GPOINTER_TO_INT(g_object_get_data(G_OBJECT(w), "ll-i")); }

static void remember(LlStudyEditor *self, const char *name, GtkWidget *w)
{
  g_hash_table_insert(self->controls, g_strdup(name), w);
  g_object_set_data_full(G_OBJECT(w), "ll-name", g_strdup(name), g_free);
  gtk_widget_set_name(w, name);
}

static GtkWidget *labelled(GtkWidget *grid, int row, const char *text, GtkWidget *w)
{
  GtkWidget *l = gtk_label_new_with_mnemonic(text);
  gtk_label_set_xalign(GTK_LABEL(l), 1);
  gtk_label_set_mnemonic_widget(GTK_LABEL(l), w);
  gtk_grid_attach(GTK_GRID(grid), l, 0, row, 1, 1);
  gtk_grid_attach(GTK_GRID(grid), w, 1, row, 1, 1);
  gtk_widget_set_hexpand(w, TRUE);
  return w;
}

static GtkWidget *entry(const char *text, const char *placeholder, const char *tip)
{
  GtkWidget *e = gtk_entry_new();
  gtk_editable_set_text(GTK_EDITABLE(e), text ? text : "");
  if (placeholder)
    gtk_entry_set_placeholder_text(GTK_ENTRY(e), placeholder);
  if (tip)
    gtk_widget_set_tooltip_text(e, tip);
  return e;
}

static GtkWidget *spin(double lo, double hi, double value, const char *tip)
{
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), value);
  if (tip)
    gtk_widget_set_tooltip_text(s, tip);
  return s;
}

static const char *str_at(LlStudyEditor *self, const char *path, const char *def)
{
  JsonNode *n = ll_study_edit_get(self->edit, path);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : def;
}

static gint64 int_at(LlStudyEditor *self, const char *path, gint64 def)
{
  JsonNode *n = ll_study_edit_get(self->edit, path);
  return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : def;
}

/* ---- the whole study ---------------------------------------------------------------- */

static void on_metric(GtkWidget *w, LlStudyEditor *self)
{
  GtkWidget *m = g_hash_table_lookup(self->controls, "metric");
  GtkWidget *d = g_hash_table_lookup(self->controls, "direction");
  EDIT(ll_study_edit_set_metric(self->edit, gtk_editable_get_text(GTK_EDITABLE(m)),
                                gtk_drop_down_get_selected(GTK_DROP_DOWN(d)) == 0, &error_));
}

static void on_search(GtkWidget *w, LlStudyEditor *self)
{
  GtkWidget *m = g_hash_table_lookup(self->controls, "mode");
  GtkWidget *t = g_hash_table_lookup(self->controls, "trials");
  EDIT(ll_study_edit_set_search(self->edit, gtk_drop_down_get_selected(GTK_DROP_DOWN(m)),
                                gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(t)), &error_));
}

static void on_pruning(GtkWidget *w, LlStudyEditor *self)
{
  GtkWidget *a = g_hash_table_lookup(self->controls, "prune-after");
  GtkWidget *m = g_hash_table_lookup(self->controls, "prune-metric");
  GtkWidget *n = g_hash_table_lookup(self->controls, "prune-min");
  EDIT(ll_study_edit_set_pruning(self->edit, gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(a)),
                                 gtk_editable_get_text(GTK_EDITABLE(m)),
                                 gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(n)), &error_));
}

static void on_budget(GtkWidget *w, LlStudyEditor *self)
{
  GtkWidget *b = g_hash_table_lookup(self->controls, "budget");
  GtkWidget *p = g_hash_table_lookup(self->controls, "budget-width");
  EDIT(ll_study_edit_set_budget(self->edit,
                                (gint64)gtk_spin_button_get_value(GTK_SPIN_BUTTON(b)),
                                gtk_editable_get_text(GTK_EDITABLE(p)), &error_));
}

static void on_repeats(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_repeats(self->edit, gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(w)),
                                 &error_));
}

static void add_common(LlStudyEditor *self, GtkWidget *grid, int *row)
{
  GtkWidget *m = entry(str_at(self, "metric", "test_accuracy"), "test_accuracy",
                       "What ranks the trials: test_* (the final evaluation), val_* or train_* "
                       "(the last epoch); press Enter to apply");
  remember(self, "metric", m);
  g_signal_connect(m, "activate", G_CALLBACK(on_metric), self);
  labelled(grid, (*row)++, "_Metric", m);
  static const char *const dirs[] = {"higher is better", "lower is better", NULL};
  GtkWidget *d = gtk_drop_down_new_from_strings(dirs);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(d),
                             !g_strcmp0(str_at(self, "direction", "maximize"), "minimize"));
  remember(self, "direction", d);
  connect_selected(d, on_metric, self);
  labelled(grid, (*row)++, "_Direction", d);
  GtkWidget *r = spin(1, LL_STUDY_MAX_REPEATS, ll_study_edit_repeats(self->edit),
                      "Run every trial this many times, with the spec's seed, the next one, ...: "
                      "the table and figures show each configuration's mean and spread, and the "
                      "best is the best mean (the study's \"repeats\")");
  remember(self, "repeats", r);
  g_signal_connect(r, "value-changed", G_CALLBACK(on_repeats), self);
  labelled(grid, (*row)++, "Seeds per tria_l", r);
}

/* ---- axes -------------------------------------------------------------------------- */

static void on_axis_values(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_axis_values(self->edit, index_of(w),
                                     gtk_editable_get_text(GTK_EDITABLE(w)), &error_));
}

static void on_axis_path(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_axis_path(self->edit, index_of(w),
                                   gtk_editable_get_text(GTK_EDITABLE(w)), &error_));
}

static GtkWidget *axis_control(LlStudyEditor *self, int i, const char *what)
{
  g_autofree char *name = g_strdup_printf("axis-%d-%s", i, what);
  return g_hash_table_lookup(self->controls, name);
}

static void on_axis_make(GtkWidget *w, LlStudyEditor *self)
{
  int i = index_of(w);
  const char *from = gtk_editable_get_text(GTK_EDITABLE(axis_control(self, i, "from")));
  const char *to = gtk_editable_get_text(GTK_EDITABLE(axis_control(self, i, "to")));
  char *e1, *e2;
  double lo = g_ascii_strtod(from, &e1), hi = g_ascii_strtod(to, &e2);
  if (e1 == from || *e1 || e2 == to || *e2) {
    say(self, "A range needs two numbers: from and to.");
    return;
  }
  gboolean log_scale =
      gtk_drop_down_get_selected(GTK_DROP_DOWN(axis_control(self, i, "scale"))) == 1;
  int count = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(axis_control(self, i, "count")));
  EDIT(ll_study_edit_set_axis_range(self->edit, i, lo, hi, log_scale, count, &error_));
}

static void on_axis_remove(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_remove_axis(self->edit, index_of(w), &error_));
}

static void on_add_axis(GtkWidget *w, LlStudyEditor *self)
{
  GtkWidget *p = g_hash_table_lookup(self->controls, "new-axis-path");
  g_autofree char *path = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(p))));
  ll_study_editor_vary(self, path, NULL);
}

/* The range controls start from the axis's values: first and last, and a log
 * scale when they span a factor of 10 or more. */
static void range_defaults(LlStudyEditor *self, int i, char **lo, char **hi, gboolean *log_scale,
                           int *count)
{
  g_autofree char *base = g_strdup_printf("sweep.axes.%d", i);
  g_autofree char *vp = g_strdup_printf("%s.values", base);
  JsonNode *v = ll_study_edit_get(self->edit, vp);
  double a = NAN, b = NAN;
  *count = 4;
  if (v && JSON_NODE_HOLDS_ARRAY(v) && json_array_get_length(json_node_get_array(v)) > 0) {
    JsonArray *arr = json_node_get_array(v);
    JsonNode *f = json_array_get_element(arr, 0),
             *l = json_array_get_element(arr, json_array_get_length(arr) - 1);
    if (JSON_NODE_HOLDS_VALUE(f) && JSON_NODE_HOLDS_VALUE(l) &&
        json_node_get_value_type(f) != G_TYPE_STRING && json_node_get_value_type(l) != G_TYPE_STRING)
      a = json_node_get_double(f), b = json_node_get_double(l);
    *count = MAX((int)json_array_get_length(arr), 2);
  } else {
    g_autofree char *mn = g_strdup_printf("%s.min", base), *mx = g_strdup_printf("%s.max", base);
    JsonNode *x = ll_study_edit_get(self->edit, mn), *y = ll_study_edit_get(self->edit, mx);
    if (x && y)
      a = json_node_get_double(x), b = json_node_get_double(y);
    *count = 0;
  }
  char buf[32];
  *lo = isnan(a) ? g_strdup("") : g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6g", a));
  *hi = isnan(b) ? g_strdup("") : g_strdup(g_ascii_formatd(buf, sizeof buf, "%.6g", b));
  g_autofree char *tp = g_strdup_printf("%s.type", base);
  *log_scale = !g_strcmp0(str_at(self, tp, ""), "log-uniform") ||
               (a > 0 && b > 0 && b / a >= 10 && *count != 0);
}

/* A dim, wrapping line of explanation. */
static GtkWidget *note(const char *text)
{
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_wrap(GTK_LABEL(l), TRUE);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "dim-label");
  return l;
}

static GtkWidget *button(const char *label, const char *tip)
{
  GtkWidget *b = gtk_button_new_with_mnemonic(label);
  if (tip)
    gtk_widget_set_tooltip_text(b, tip);
  return b;
}

static void add_axis_frame(LlStudyEditor *self, GtkWidget *box, int i)
{
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 6);
  g_autofree char *title = g_strdup_printf("Axis %d", i + 1);
  GtkWidget *frame = gtk_frame_new(title);
  gtk_frame_set_child(GTK_FRAME(frame), grid);
  gtk_widget_set_margin_start(grid, 6);
  gtk_widget_set_margin_end(grid, 6);
  gtk_widget_set_margin_bottom(grid, 6);
  gtk_box_append(GTK_BOX(box), frame);
  char name[64];
  g_autofree char *path = ll_study_edit_axis_path(self->edit, i);
  GtkWidget *p = entry(path, "graph.blocks.fc1.props.out_features",
                       "The path into the spec this axis sets; press Enter to apply");
  g_snprintf(name, sizeof name, "axis-%d-path", i);
  remember(self, name, p);
  g_signal_connect(p, "activate", G_CALLBACK(on_axis_path), self);
  labelled(grid, 0, "Path", p);
  g_autofree char *vals = ll_study_edit_axis_values(self->edit, i);
  GtkWidget *v = entry(vals, "32, 64, 128",
                       "The values, separated by commas (numbers, true/false, \"text\" or JSON); "
                       "press Enter to apply");
  g_snprintf(name, sizeof name, "axis-%d-values", i);
  remember(self, name, v);
  g_signal_connect(v, "activate", G_CALLBACK(on_axis_values), self);
  labelled(grid, 1, "Values", v);
  /* or a range: from, to, scale, count */
  g_autofree char *lo = NULL, *hi = NULL;
  gboolean log_scale;
  int count;
  range_defaults(self, i, &lo, &hi, &log_scale, &count);
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *from = entry(lo, "from", "The range's first value");
  GtkWidget *to = entry(hi, "to", "The range's last value");
  gtk_editable_set_width_chars(GTK_EDITABLE(from), 7);
  gtk_editable_set_width_chars(GTK_EDITABLE(to), 7);
  static const char *const scales[] = {"linear", "log", NULL};
  GtkWidget *scale = gtk_drop_down_new_from_strings(scales);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(scale), log_scale);
  gtk_widget_set_tooltip_text(scale, "Space the values evenly, or evenly in log space");
  GtkWidget *cnt = spin(0, 1000, count,
                        "How many values the range makes (0: a continuous range, for random "
                        "and TPE search)");
  ll_spin_button_name_zero(GTK_SPIN_BUTTON(cnt), "continuous");
  GtkWidget *make = button("Make", "Make the values from the range");
  const char *names[] = {"from", "to", "scale", "count", "make"};
  GtkWidget *ws[] = {from, to, scale, cnt, make};
  for (int k = 0; k < 5; k++) {
    g_snprintf(name, sizeof name, "axis-%d-%s", i, names[k]);
    remember(self, name, ws[k]);
    g_object_set_data(G_OBJECT(ws[k]), "ll-i", GINT_TO_POINTER(i));
    gtk_box_append(GTK_BOX(row), ws[k]);
  }
  g_signal_connect(make, "clicked", G_CALLBACK(on_axis_make), self);
  g_signal_connect(from, "activate", G_CALLBACK(on_axis_make), self);
  g_signal_connect(to, "activate", G_CALLBACK(on_axis_make), self);
  labelled(grid, 2, "Range", row);
  gtk_widget_set_hexpand(from, TRUE);
  gtk_widget_set_hexpand(to, TRUE);
  GtkWidget *rm = button("Remove axis", "Remove this axis from the sweep");
  g_snprintf(name, sizeof name, "axis-%d-remove", i);
  remember(self, name, rm);
  gtk_widget_set_halign(rm, GTK_ALIGN_END);
  g_signal_connect(rm, "clicked", G_CALLBACK(on_axis_remove), self);
  gtk_grid_attach(GTK_GRID(grid), rm, 1, 3, 1, 1);
  g_object_set_data(G_OBJECT(p), "ll-i", GINT_TO_POINTER(i));
  g_object_set_data(G_OBJECT(v), "ll-i", GINT_TO_POINTER(i));
  g_object_set_data(G_OBJECT(rm), "ll-i", GINT_TO_POINTER(i));
}

/* What the Design has no control for yet, named as the file names it: the
 * study's own fields that this study sets, and for stages the fields no
 * stage can edit here (a stage's own line names those it sets). */
static void add_fixed_note(LlStudyEditor *self, GtkWidget *box, gboolean stages)
{
  g_auto(GStrv) top = ll_study_edit_fixed_fields(self->edit, -1);
  g_autofree char *list = top ? g_strjoinv(", ", top) : NULL;
  GString *t = g_string_new("Not editable in the window yet (Save keeps them as written): ");
  if (stages)
    g_string_append(t, "the study's and the stages' names and descriptions; a stage's "
                       "param_budget, solve_width, export_embeddings, export_outputs, init_from "
                       "beyond the first entry's stage and blocks, and overrides other than "
                       "epochs, dataset, loss and the repeat's path");
  else
    g_string_append(t, "the study's name and description");
  if (list)
    g_string_append_printf(t, "; this study sets %s", list);
  g_string_append(t, ".");
  GtkWidget *l = note(t->str);
  g_string_free(t, TRUE);
  remember(self, "fixed", l);
  gtk_box_append(GTK_BOX(box), l);
}

static void build_sweep(LlStudyEditor *self, GtkWidget *box)
{
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 6);
  gtk_box_append(GTK_BOX(box), grid);
  int row = 0;
  static const char *const modes[] = {"grid (every combination)", "random", "TPE (guided)", NULL};
  GtkWidget *m = gtk_drop_down_new_from_strings(modes);
  const char *mode = str_at(self, "sweep.mode", "grid");
  gtk_drop_down_set_selected(GTK_DROP_DOWN(m), !strcmp(mode, "tpe") ? 2 : !strcmp(mode, "random"));
  remember(self, "mode", m);
  connect_selected(m, on_search, self);
  labelled(grid, row++, "_Search", m);
  GtkWidget *t = spin(0, 100000, (double)int_at(self, "sweep.trials", 0),
                      "The trial budget (0: every grid point; 20 for random and TPE); caps a grid");
  ll_spin_button_name_zero(GTK_SPIN_BUTTON(t),
                           !strcmp(mode, "grid") ? "every grid point" : "the default, 20");
  remember(self, "trials", t);
  g_signal_connect(t, "value-changed", G_CALLBACK(on_search), self);
  labelled(grid, row++, "_Trial budget", t);
  add_common(self, grid, &row);
  /* pruning: after N epochs, against the median */
  GtkWidget *pr = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *after = spin(0, 100000, (double)int_at(self, "sweep.pruning.after_epochs", 0),
                          "From this epoch on, stop a trial worse than the median of the "
                          "finished ones (0: no pruning)");
  ll_spin_button_name_zero(GTK_SPIN_BUTTON(after), "off");
  GtkWidget *pm = entry(str_at(self, "sweep.pruning.metric", "val_loss"), "val_loss",
                        "The metric pruning compares (press Enter to apply)");
  GtkWidget *pn = spin(1, 100000, (double)int_at(self, "sweep.pruning.min_trials", 3),
                       "Finished trials needed before any is pruned");
  remember(self, "prune-after", after);
  remember(self, "prune-metric", pm);
  remember(self, "prune-min", pn);
  gtk_box_append(GTK_BOX(pr), after);
  gtk_box_append(GTK_BOX(pr), pm);
  gtk_box_append(GTK_BOX(pr), pn);
  gtk_widget_set_hexpand(pm, TRUE);
  g_signal_connect(after, "value-changed", G_CALLBACK(on_pruning), self);
  g_signal_connect(pn, "value-changed", G_CALLBACK(on_pruning), self);
  g_signal_connect(pm, "activate", G_CALLBACK(on_pruning), self);
  labelled(grid, row++, "_Pruning after", pr);
  /* parameter-budget matching */
  GtkWidget *bud = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *b = spin(0, 1e12, (double)int_at(self, "param_budget", 0),
                      "Match about this many parameters in every trial (0: off)");
  ll_spin_button_name_zero(GTK_SPIN_BUTTON(b), "off");
  gtk_spin_button_set_increments(GTK_SPIN_BUTTON(b), 1000, 10000);
  GtkWidget *bw = entry(str_at(self, "solve_width", ""), "graph.blocks.fc1.props.out_features",
                        "The width solved for the budget");
  GtkWidget *ba = button("Match", "Match about N parameters by solving this width");
  remember(self, "budget", b);
  remember(self, "budget-width", bw);
  remember(self, "budget-apply", ba);
  gtk_box_append(GTK_BOX(bud), b);
  gtk_box_append(GTK_BOX(bud), bw);
  gtk_box_append(GTK_BOX(bud), ba);
  gtk_widget_set_hexpand(bw, TRUE);
  g_signal_connect(ba, "clicked", G_CALLBACK(on_budget), self);
  g_signal_connect(bw, "activate", G_CALLBACK(on_budget), self);
  labelled(grid, row++, "Match _parameters", bud);
  for (int i = 0; i < ll_study_edit_n_axes(self->edit); i++)
    add_axis_frame(self, box, i);
  GtkWidget *add = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *np = entry(NULL, "training.optimizer.lr",
                        "A path into the spec to vary (or use Vary this\u2026 in the block "
                        "inspector)");
  GtkWidget *ab = button("_Add axis", "Add an axis for this path, with sensible values to edit");
  remember(self, "new-axis-path", np);
  remember(self, "add-axis", ab);
  gtk_widget_set_hexpand(np, TRUE);
  gtk_box_append(GTK_BOX(add), np);
  gtk_box_append(GTK_BOX(add), ab);
  g_signal_connect(ab, "clicked", G_CALLBACK(on_add_axis), self);
  g_signal_connect(np, "activate", G_CALLBACK(on_add_axis), self);
  gtk_box_append(GTK_BOX(box), add);
  add_fixed_note(self, box, FALSE);
}

/* ---- stages ------------------------------------------------------------------------ */

static GtkWidget *stage_control(LlStudyEditor *self, int i, const char *what)
{
  g_autofree char *name = g_strdup_printf("stage-%d-%s", i, what);
  return g_hash_table_lookup(self->controls, name);
}

static void on_stage_init(GtkWidget *w, LlStudyEditor *self)
{
  int i = index_of(w);
  GtkDropDown *from = GTK_DROP_DOWN(stage_control(self, i, "from"));
  guint sel = gtk_drop_down_get_selected(from);
  g_autofree char *stage = NULL;
  if (sel > 0 && sel != GTK_INVALID_LIST_POSITION) {
    GtkStringObject *o = gtk_drop_down_get_selected_item(from);
    stage = g_strdup(gtk_string_object_get_string(o));
  }
  guint how = gtk_drop_down_get_selected(GTK_DROP_DOWN(stage_control(self, i, "how")));
  const char *blocks = gtk_editable_get_text(GTK_EDITABLE(stage_control(self, i, "blocks")));
  EDIT(ll_study_edit_set_stage_init(self->edit, i, stage, blocks, how == 1 || how == 3, how >= 2,
                                    &error_));
}

static void on_stage_dataset(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_stage_dataset(self->edit, index_of(w),
                                       gtk_editable_get_text(GTK_EDITABLE(w)), &error_));
}

static void on_stage_epochs(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_stage_epochs(self->edit, index_of(w),
                                      gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(w)),
                                      &error_));
}

static const char *const loss_types[] = {"cross_entropy", "bce_logits", "mse", NULL};

static void on_stage_loss(GtkWidget *w, LlStudyEditor *self)
{
  guint sel = gtk_drop_down_get_selected(GTK_DROP_DOWN(w));
  if (sel >= G_N_ELEMENTS(loss_types) - 1)
    return;
  EDIT(ll_study_edit_set_stage_loss(self->edit, index_of(w), loss_types[sel], &error_));
}

static void on_stage_repeat(GtkWidget *w, LlStudyEditor *self)
{
  int i = index_of(w);
  EDIT(ll_study_edit_set_stage_repeat(
      self->edit, i, gtk_editable_get_text(GTK_EDITABLE(stage_control(self, i, "repeat"))),
      gtk_editable_get_text(GTK_EDITABLE(stage_control(self, i, "repeat-path"))), &error_));
}

static void on_stage_best_of(GtkWidget *w, LlStudyEditor *self)
{
  guint sel = gtk_drop_down_get_selected(GTK_DROP_DOWN(w));
  GtkStringObject *o = sel > 0 && sel != GTK_INVALID_LIST_POSITION
                           ? gtk_drop_down_get_selected_item(GTK_DROP_DOWN(w))
                           : NULL;
  EDIT(ll_study_edit_set_stage_best_of(self->edit, index_of(w),
                                       o ? gtk_string_object_get_string(o) : NULL, &error_));
}

static void on_stage_metric(GtkWidget *w, LlStudyEditor *self)
{
  EDIT(ll_study_edit_set_stage_metric(self->edit, index_of(w),
                                      gtk_editable_get_text(GTK_EDITABLE(w)), &error_));
}

static void on_stage_show(GtkWidget *w, LlStudyEditor *self)
{
  int i = index_of(w);
  ll_study_edit_set_spec_stage(self->edit, i);
  g_autofree char *spec = ll_study_edit_spec_json(self->edit, i);
  if (spec)
    g_signal_emit(self, signals[SIG_SHOW_SPEC], 0, spec);
  queue_rebuild(self);
}

static void on_stage_remove(GtkWidget *w, LlStudyEditor *self)
{
  int i = index_of(w);
  int shown = ll_study_edit_spec_stage(self->edit);
  gboolean ok;
  g_autoptr(GError) error = NULL;
  ok = ll_study_edit_remove_stage(self->edit, i, &error);
  if (ok && shown >= i) {
    /* the canvas showed this stage (or a later one, now renumbered): the base spec */
    ll_study_edit_set_spec_stage(self->edit, -1);
    g_autofree char *spec = ll_study_edit_spec_json(self->edit, -1);
    if (spec)
      g_signal_emit(self, signals[SIG_SHOW_SPEC], 0, spec);
  }
  edited(self, ok, error);
}

static void on_add_stage(GtkWidget *w, LlStudyEditor *self)
{
  g_autoptr(GError) error = NULL;
  int n = ll_study_edit_add_stage(self->edit, NULL, &error);
  edited(self, n >= 0, error);
  flush_rebuild(self);
  GtkWidget *from = n >= 0 ? stage_control(self, n, "from") : NULL;
  if (from)
    gtk_widget_grab_focus(from);
}

static void add_stage_frame(LlStudyEditor *self, GtkWidget *box, int i)
{
  g_autofree char *sname = ll_study_edit_stage_name(self->edit, i);
  int shown = ll_study_edit_spec_stage(self->edit);
  g_autofree char *title = g_strdup_printf("Stage %d: %s%s", i + 1, sname,
                                           shown == i ? " (on the canvas)" : "");
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 6);
  gtk_widget_set_margin_start(grid, 6);
  gtk_widget_set_margin_end(grid, 6);
  gtk_widget_set_margin_bottom(grid, 6);
  GtkWidget *frame = gtk_frame_new(title);
  gtk_frame_set_child(GTK_FRAME(frame), grid);
  gtk_box_append(GTK_BOX(box), frame);
  char name[64];
  g_autofree char *from = NULL, *blocks = NULL;
  gboolean frozen, reinit;
  ll_study_edit_get_stage_init(self->edit, i, &from, &blocks, &frozen, &reinit);
  /* starts from: random weights, or an earlier stage's weights */
  g_autoptr(GtkStringList) choices = gtk_string_list_new(NULL);
  gtk_string_list_append(choices, "random weights");
  guint sel = 0;
  for (int k = 0; k < i; k++) {
    g_autofree char *n = ll_study_edit_stage_name(self->edit, k);
    gtk_string_list_append(choices, n);
    if (!g_strcmp0(n, from))
      sel = (guint)k + 1;
  }
  GtkWidget *fd = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(choices)), NULL);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(fd), sel);
  gtk_widget_set_tooltip_text(fd, "Start from random weights, or from the best run of an "
                                  "earlier stage");
  GtkWidget *bl = entry(blocks, "enc1, enc2", "The blocks whose weights are taken (empty: every "
                                              "block whose name matches); press Enter to apply");
  static const char *const hows[] = {"fine-tuned", "frozen", "re-initialised, trained (control)",
                                     "re-initialised, frozen (control)", NULL};
  GtkWidget *how = gtk_drop_down_new_from_strings(hows);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(how), reinit ? (frozen ? 3 : 2) : frozen ? 1 : 0);
  gtk_widget_set_tooltip_text(how, "Train the taken blocks on, keep them frozen, or draw them "
                                   "at random again (the control)");
  gtk_widget_set_sensitive(bl, sel > 0);
  gtk_widget_set_sensitive(how, sel > 0);
  JsonNode *ds = ll_study_edit_stage_value(self->edit, i, "data.dataset.path");
  GtkWidget *dsw = entry(ds && JSON_NODE_HOLDS_VALUE(ds) ? json_node_get_string(ds) : "",
                         "the spec's dataset",
                         "The dataset folder or file this stage trains on; press Enter to apply");
  JsonNode *ep = ll_study_edit_stage_value(self->edit, i, "training.epochs");
  GtkWidget *epw = spin(0, 100000, ep && JSON_NODE_HOLDS_VALUE(ep) ? json_node_get_int(ep) : 0,
                        "Epochs this stage trains (0: as its spec says)");
  ll_spin_button_name_zero(GTK_SPIN_BUTTON(epw), "as its spec says");
  JsonNode *losses = ll_study_edit_stage_value(self->edit, i, "losses");
  const char *lt = NULL;
  if (losses && JSON_NODE_HOLDS_ARRAY(losses) &&
      json_array_get_length(json_node_get_array(losses)) > 0) {
    JsonObject *l0 = json_array_get_object_element(json_node_get_array(losses), 0);
    lt = l0 ? json_object_get_string_member_with_default(l0, "type", NULL) : NULL;
  }
  g_autoptr(GtkStringList) lchoices = gtk_string_list_new(loss_types);
  guint lsel = G_N_ELEMENTS(loss_types) - 1;
  for (guint k = 0; loss_types[k]; k++)
    if (!g_strcmp0(lt, loss_types[k]))
      lsel = k;
  if (lsel == G_N_ELEMENTS(loss_types) - 1 && lt) {
    gtk_string_list_append(lchoices, lt);
  }
  GtkWidget *lw = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(lchoices)), NULL);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(lw), lsel);
  gtk_widget_set_tooltip_text(lw, "The type of the stage's (first) loss");
  GtkWidget *show = button("Show on canvas", "Edit this stage's spec on the canvas");
  GtkWidget *rm = button("Remove stage", "Remove this stage (not while a later stage loads from it)");
  /* repeat: a trial per value, each setting a path of the spec to it */
  g_autofree char *rvals = NULL, *rpath = NULL;
  ll_study_edit_get_stage_repeat(self->edit, i, &rvals, &rpath);
  GtkWidget *rv = entry(rvals, "one trial",
                        "Values, separated by commas: the stage runs a trial for each (empty: "
                        "one trial); press Enter to apply");
  GtkWidget *rp = entry(rpath, "a spec path, e.g. training.optimizer.lr",
                        "The spec path each trial sets to its value; empty where the stage uses "
                        "\"$value\" elsewhere (init_from's \"first\"); press Enter to apply");
  /* best_of: an earlier stage's best trial picks this one's settings */
  const char *bo = NULL;
  g_autofree char *bpath = g_strdup_printf("stages.%d.best_of", i);
  JsonNode *bn = ll_study_edit_get(self->edit, bpath);
  if (bn && JSON_NODE_HOLDS_VALUE(bn))
    bo = json_node_get_string(bn);
  g_autoptr(GtkStringList) bchoices = gtk_string_list_new(NULL);
  gtk_string_list_append(bchoices, "none");
  guint bsel = 0;
  for (int k = 0; k < i; k++) {
    g_autofree char *n = ll_study_edit_stage_name(self->edit, k);
    gtk_string_list_append(bchoices, n);
    if (!g_strcmp0(n, bo))
      bsel = (guint)k + 1;
  }
  GtkWidget *bw = gtk_drop_down_new(G_LIST_MODEL(g_object_ref(bchoices)), NULL);
  gtk_drop_down_set_selected(GTK_DROP_DOWN(bw), bsel);
  gtk_widget_set_tooltip_text(bw, "Take the settings (overrides) of an earlier stage's best "
                                  "trial first: short runs pick, this stage trains the winner");
  gtk_widget_set_sensitive(bw, i > 0);
  g_autofree char *mpath = g_strdup_printf("stages.%d.metric", i);
  GtkWidget *mw = entry(str_at(self, mpath, ""), "the study's metric",
                        "What ranks this stage's trials (for a later stage's start and best "
                        "of), e.g. test_loss for an autoencoder; press Enter to apply");
  const char *names[] = {"from",   "blocks", "how",     "dataset", "epochs", "loss",
                         "repeat", "repeat-path", "best-of", "metric", "show", "remove"};
  GtkWidget *ws[] = {fd, bl, how, dsw, epw, lw, rv, rp, bw, mw, show, rm};
  for (int k = 0; k < (int)G_N_ELEMENTS(ws); k++) {
    g_snprintf(name, sizeof name, "stage-%d-%s", i, names[k]);
    remember(self, name, ws[k]);
    g_object_set_data(G_OBJECT(ws[k]), "ll-i", GINT_TO_POINTER(i));
  }
  labelled(grid, 0, "Starts from", fd);
  labelled(grid, 1, "Blocks", bl);
  labelled(grid, 2, "Taken blocks", how);
  labelled(grid, 3, "Dataset", dsw);
  labelled(grid, 4, "Epochs", epw);
  labelled(grid, 5, "Loss", lw);
  labelled(grid, 6, "Repeat over", rv);
  labelled(grid, 7, "Each sets", rp);
  labelled(grid, 8, "Best of", bw);
  labelled(grid, 9, "Ranked by", mw);
  int row = 10;
  g_auto(GStrv) fixed = ll_study_edit_fixed_fields(self->edit, i);
  if (fixed) {
    g_autofree char *list = g_strjoinv(", ", fixed);
    g_autofree char *t = g_strdup_printf("Not editable here yet (Save keeps them as written): %s",
                                         list);
    GtkWidget *fl = note(t);
    g_snprintf(name, sizeof name, "stage-%d-fixed", i);
    remember(self, name, fl);
    gtk_grid_attach(GTK_GRID(grid), fl, 0, row++, 2, 1);
  }
  GtkWidget *btns = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_widget_set_halign(btns, GTK_ALIGN_END);
  gtk_box_append(GTK_BOX(btns), show);
  gtk_box_append(GTK_BOX(btns), rm);
  gtk_grid_attach(GTK_GRID(grid), btns, 1, row, 1, 1);
  g_signal_connect(rv, "activate", G_CALLBACK(on_stage_repeat), self);
  g_signal_connect(rp, "activate", G_CALLBACK(on_stage_repeat), self);
  connect_selected(bw, on_stage_best_of, self);
  g_signal_connect(mw, "activate", G_CALLBACK(on_stage_metric), self);
  connect_selected(fd, on_stage_init, self);
  connect_selected(how, on_stage_init, self);
  g_signal_connect(bl, "activate", G_CALLBACK(on_stage_init), self);
  g_signal_connect(dsw, "activate", G_CALLBACK(on_stage_dataset), self);
  g_signal_connect(epw, "value-changed", G_CALLBACK(on_stage_epochs), self);
  connect_selected(lw, on_stage_loss, self);
  g_signal_connect(show, "clicked", G_CALLBACK(on_stage_show), self);
  g_signal_connect(rm, "clicked", G_CALLBACK(on_stage_remove), self);
}

static void build_stages(LlStudyEditor *self, GtkWidget *box)
{
  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 4);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 6);
  gtk_box_append(GTK_BOX(box), grid);
  int row = 0;
  add_common(self, grid, &row);
  for (int i = 0; i < ll_study_edit_n_stages(self->edit); i++)
    add_stage_frame(self, box, i);
  GtkWidget *add = button("Add _stage", "Add a stage after the last one (it starts from random "
                                        "weights; set what it starts from)");
  gtk_widget_set_halign(add, GTK_ALIGN_START);
  remember(self, "add-stage", add);
  g_signal_connect(add, "clicked", G_CALLBACK(on_add_stage), self);
  gtk_box_append(GTK_BOX(box), add);
  add_fixed_note(self, box, TRUE);
}

/* ---- the summary: trials and time ----------------------------------------------------- */

static void update_summary(LlStudyEditor *self)
{
  g_autoptr(GError) error = NULL;
  gint64 n = self->edit ? ll_study_edit_count_trials(self->edit, &error) : 0;
  GString *s = g_string_new(NULL);
  if (!self->edit)
    g_string_append(s, "No study is open.");
  else if (n < 0)
    g_string_append_printf(s, "The design makes no trials yet: %s", error->message);
  else if (n == 0)
    g_string_append(s, "The design makes no trials yet: add an axis (or Vary this\u2026 on a "
                       "block's property).");
  else
    g_string_append_printf(s, "The design makes %" G_GINT64_FORMAT " trial%s.", n,
                           n == 1 ? "" : "s");
  int seeds = self->edit ? ll_study_edit_repeats(self->edit) : 1;
  if (n > 0 && seeds > 1)
    g_string_append_printf(s, " Each runs over %d seeds: %" G_GINT64_FORMAT " runs.", seeds,
                           n * seeds);
  if (n > 0 && self->seconds_per_trial > 0) {
    double t = self->seconds_per_trial * (double)(n * MAX(seeds, 1));
    g_autofree char *when =
        t < 90 ? g_strdup_printf("%.0f s", t)
               : t < 5400 ? g_strdup_printf("%.0f min", t / 60) : g_strdup_printf("%.1f h", t / 3600);
    g_string_append_printf(s, " About %s at %.1f s per trial, as the last run here took", when,
                           self->seconds_per_trial);
    if (self->run_epochs > 0 || self->run_limit > 0)
      g_string_append_printf(s, " (shortened: %d epoch%s, %d samples; a full run takes longer)",
                             self->run_epochs, self->run_epochs == 1 ? "" : "s", self->run_limit);
    g_string_append(s, ".");
  } else if (n > 0) {
    g_string_append(s, " No time estimate: no trial has run here yet to measure the speed (a "
                       "shortened run gives one).");
  }
  if (self->spec_error)
    g_string_append_printf(s, "\nThe spec on the canvas does not load, so the study keeps its "
                              "last valid one: %s",
                           self->spec_error);
  g_free(self->summary_text);
  self->summary_text = g_string_free(s, FALSE);
  gtk_label_set_text(self->summary, self->summary_text);
}

static void rebuild(LlStudyEditor *self)
{
  /* keyboard focus stays on the control of the same name */
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkWidget *focus = root ? gtk_root_get_focus(root) : NULL;
  g_autofree char *focused = NULL;
  for (GtkWidget *w = focus; w && !focused; w = gtk_widget_get_parent(w)) {
    if (w == GTK_WIDGET(self))
      break;
    if (g_object_get_data(G_OBJECT(w), "ll-name"))
      focused = g_strdup(g_object_get_data(G_OBJECT(w), "ll-name"));
  }
  if (focus && !gtk_widget_is_ancestor(focus, self->body))
    g_clear_pointer(&focused, g_free);
  g_hash_table_remove_all(self->controls);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->body)))
    gtk_box_remove(GTK_BOX(self->body), child);
  gboolean have = self->edit != NULL;
  gtk_widget_set_sensitive(GTK_WIDGET(self->undo), have && ll_study_edit_can_undo(self->edit));
  gtk_widget_set_sensitive(GTK_WIDGET(self->redo), have && ll_study_edit_can_redo(self->edit));
  gtk_widget_set_sensitive(GTK_WIDGET(self->save), have);
  if (have) {
    if (ll_study_edit_is_sweep(self->edit))
      build_sweep(self, self->body);
    else
      build_stages(self, self->body);
  }
  update_summary(self);
  GtkWidget *again = focused ? g_hash_table_lookup(self->controls, focused) : NULL;
  if (again)
    gtk_widget_grab_focus(again);
}

/* ---- undo, redo, save ------------------------------------------------------------------- */

static void on_undo(GtkWidget *w, LlStudyEditor *self)
{
  if (!self->edit || !ll_study_edit_can_undo(self->edit))
    return;
  ll_study_edit_undo(self->edit);
  edited(self, TRUE, NULL);
}

static void on_redo(GtkWidget *w, LlStudyEditor *self)
{
  if (!self->edit || !ll_study_edit_can_redo(self->edit))
    return;
  ll_study_edit_redo(self->edit);
  edited(self, TRUE, NULL);
}

void ll_study_editor_undo(LlStudyEditor *self) { on_undo(NULL, self); }
void ll_study_editor_redo(LlStudyEditor *self) { on_redo(NULL, self); }

static gboolean shortcut_undo(GtkWidget *w, GVariant *args, gpointer data)
{
  on_undo(w, LL_STUDY_EDITOR(w));
  return TRUE;
}

static gboolean shortcut_redo(GtkWidget *w, GVariant *args, gpointer data)
{
  on_redo(w, LL_STUDY_EDITOR(w));
  return TRUE;
}

gboolean ll_study_editor_save_to(LlStudyEditor *self, const char *path, GError **error)
{
  if (!self->edit) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no study is open");
    return FALSE;
  }
  if (!ll_study_edit_save(self->edit, path, error))
    return FALSE;
  g_free(self->path);
  self->path = g_strdup(path);
  g_autofree char *t = g_strdup_printf("Saved %s: run it with  layerlab study %s", path, path);
  say(self, t);
  g_signal_emit(self, signals[SIG_SAVED], 0);
  return TRUE;
}

static void on_save_response(GtkNativeDialog *d, int response, LlStudyEditor *self)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    g_autofree char *path = file ? g_file_get_path(file) : NULL;
    g_autoptr(GError) error = NULL;
    if (path && !ll_study_editor_save_to(self, path, &error))
      say(self, error->message);
  }
  g_clear_object(&self->chooser);
}

static void on_save(GtkWidget *w, LlStudyEditor *self)
{
  if (!self->edit || self->chooser)
    return;
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  self->chooser =
      gtk_file_chooser_native_new("Save study", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                  GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
  const char *name = str_at(self, "name", "study");
  g_autofree char *file = g_strdup_printf("%s.json", name);
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), file);
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_save_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- API ------------------------------------------------------------------------------- */

void ll_study_editor_set_edit(LlStudyEditor *self, LlStudyEdit *e, const char *path)
{
  g_clear_pointer(&self->edit, ll_study_edit_free);
  self->edit = e;
  g_free(self->path);
  self->path = g_strdup(path);
  g_clear_pointer(&self->spec_error, g_free);
  self->seconds_per_trial = 0;
  say(self, NULL);
  rebuild(self);
}

LlStudyEdit *ll_study_editor_get_edit(LlStudyEditor *self) { return self->edit; }
const char *ll_study_editor_get_path(LlStudyEditor *self) { return self->path; }

void ll_study_editor_set_canvas_spec(LlStudyEditor *self, const char *spec_json)
{
  if (!self->edit)
    return;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = g_strdup(ll_study_edit_text(self->edit));
  gboolean ok = ll_study_edit_set_spec_json(self->edit, ll_study_edit_spec_stage(self->edit),
                                            spec_json, &error);
  g_clear_pointer(&self->spec_error, g_free);
  if (!ok)
    self->spec_error = g_strdup(error->message);
  update_summary(self);
  if (ok && strcmp(before, ll_study_edit_text(self->edit)))
    g_signal_emit(self, signals[SIG_CHANGED], 0);
}

const char *ll_study_editor_get_spec_error(LlStudyEditor *self) { return self->spec_error; }

void ll_study_editor_set_throughput(LlStudyEditor *self, double seconds_per_trial, int epochs,
                                    int limit)
{
  self->seconds_per_trial = seconds_per_trial;
  self->run_epochs = epochs;
  self->run_limit = limit;
  update_summary(self);
}

const char *ll_study_editor_get_summary(LlStudyEditor *self) { return self->summary_text; }

int ll_study_editor_vary(LlStudyEditor *self, const char *path, const char *current)
{
  if (!self->edit)
    return -1;
  g_autofree char *values = ll_study_vary_values(path, current);
  g_autoptr(GError) error = NULL;
  int i = ll_study_edit_add_axis(self->edit, path, values, &error);
  edited(self, i >= 0, error);
  flush_rebuild(self);
  GtkWidget *v = i >= 0 ? axis_control(self, i, "values") : NULL;
  if (v)
    gtk_widget_grab_focus(v);
  return i;
}

const char *ll_study_editor_get_message(LlStudyEditor *self)
{
  return gtk_label_get_text(self->message);
}

GtkWidget *ll_study_editor_get_control(LlStudyEditor *self, const char *name)
{
  flush_rebuild(self);
  if (!strcmp(name, "undo"))
    return GTK_WIDGET(self->undo);
  if (!strcmp(name, "redo"))
    return GTK_WIDGET(self->redo);
  if (!strcmp(name, "save"))
    return GTK_WIDGET(self->save);
  return g_hash_table_lookup(self->controls, name);
}

static void ll_study_editor_dispose(GObject *object)
{
  LlStudyEditor *self = LL_STUDY_EDITOR(object);
  g_clear_handle_id(&self->rebuild_id, g_source_remove);
  g_clear_pointer(&self->edit, ll_study_edit_free);
  if (self->chooser) {
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
  }
  G_OBJECT_CLASS(ll_study_editor_parent_class)->dispose(object);
}

static void ll_study_editor_finalize(GObject *object)
{
  LlStudyEditor *self = LL_STUDY_EDITOR(object);
  g_free(self->path);
  g_free(self->spec_error);
  g_free(self->summary_text);
  g_hash_table_unref(self->controls);
  G_OBJECT_CLASS(ll_study_editor_parent_class)->finalize(object);
}

static void ll_study_editor_class_init(LlStudyEditorClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_study_editor_dispose;
  oc->finalize = ll_study_editor_finalize;
  signals[SIG_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* a stage's spec to show on the canvas (JSON text) */
  signals[SIG_SHOW_SPEC] = g_signal_new("show-spec", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* the design was written to a file: it has no unsaved edits now */
  signals[SIG_SAVED] = g_signal_new("saved", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                    NULL, NULL, G_TYPE_NONE, 0);
  /* inside the editor, Ctrl+Z and Ctrl+Shift+Z undo and redo study edits */
  gtk_widget_class_add_binding(wc, GDK_KEY_z, GDK_CONTROL_MASK, shortcut_undo, NULL);
  gtk_widget_class_add_binding(wc, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK, shortcut_redo,
                               NULL);
  gtk_widget_class_add_binding(wc, GDK_KEY_y, GDK_CONTROL_MASK, shortcut_redo, NULL);
}

static void ll_study_editor_init(LlStudyEditor *self)
{
  self->controls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(GTK_BOX(self), 6);
  GtkWidget *head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign(head, GTK_ALIGN_END);
  self->undo = GTK_BUTTON(button("_Undo", "Undo the last study edit (Ctrl+Z here)"));
  self->redo = GTK_BUTTON(button("_Redo", "Redo the study edit (Ctrl+Shift+Z here)"));
  self->save = GTK_BUTTON(button("Save Stud_y\u2026", "Save the study as JSON that "
                                                       "`layerlab study` runs"));
  gtk_box_append(GTK_BOX(head), GTK_WIDGET(self->undo));
  gtk_box_append(GTK_BOX(head), GTK_WIDGET(self->redo));
  gtk_box_append(GTK_BOX(head), GTK_WIDGET(self->save));
  g_signal_connect(self->undo, "clicked", G_CALLBACK(on_undo), self);
  g_signal_connect(self->redo, "clicked", G_CALLBACK(on_redo), self);
  g_signal_connect(self->save, "clicked", G_CALLBACK(on_save), self);
  gtk_box_append(GTK_BOX(self), head);
  self->summary = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_wrap(self->summary, TRUE);
  gtk_label_set_xalign(self->summary, 0);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->summary));
  self->body = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append(GTK_BOX(self), self->body);
  self->message = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_wrap(self->message, TRUE);
  gtk_label_set_xalign(self->message, 0);
  gtk_label_set_selectable(self->message, TRUE);
  gtk_widget_add_css_class(GTK_WIDGET(self->message), "error");
  gtk_widget_set_visible(GTK_WIDGET(self->message), FALSE);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->message));
  rebuild(self);
}
