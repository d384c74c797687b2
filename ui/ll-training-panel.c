/* ll-training-panel.c: training settings <-> the spec, and run progress. */
#include "ll-training-panel.h"

#include <string.h>

#include "analysis.h"
#include "ll-spin-words.h"
#include "trainer.h"

enum { DS_FMNIST, DS_IDX, DS_CIFAR, DS_IMAGES, DS_NPY, DS_CSV, DS_SYNTH };

struct _LlTrainingPanel {
  GtkBox parent_instance;
  GtkDropDown *dataset, *optimizer, *device, *loss, *embedding;
  GtkStringList *embed_items; /* "automatic (gap)", then every block that computes */
  GtkLabel *loss_note, *weights_label, *metrics;
  GtkGrid *loss_weights; /* one spin button per loss when there are several */
  GtkButton *choose, *pause, *start;
  GtkLabel *dataset_path, *status;
  GtkSpinButton *limit_train, *lr, *epochs, *batch, *seed, *patience;
  GtkSpinButton *weight_decay, *step_size, *gamma, *min_lr, *max_lr, *warmup;
  GtkDropDown *schedule;
  GtkWidget *step_row, *gamma_row, *min_lr_row, *max_lr_row;
  GtkSwitch *early_stopping;
  GtkProgressBar *progress;
  GtkStringList *devices;
  GPtrArray *device_ids; /* char*: "cpu", "cuda:0" */
  LlDocument *doc;
  gulong changed_id;
  gboolean loading;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE(LlTrainingPanel, ll_training_panel, GTK_TYPE_BOX)

GtkWidget *ll_training_panel_new(void) { return g_object_new(LL_TYPE_TRAINING_PANEL, NULL); }

static LlSpec *spec(LlTrainingPanel *self)
{
  return self->doc ? ll_document_get_spec(self->doc) : NULL;
}

static int dataset_row(const LlDatasetSpec *ds)
{
  switch (ds->kind) {
  case LL_DATASET_IDX_DIR: return !g_strcmp0(ds->path, LL_FASHION_MNIST_DIR) ? DS_FMNIST : DS_IDX;
  case LL_DATASET_IDX: return DS_IDX;
  case LL_DATASET_CIFAR: return DS_CIFAR;
  case LL_DATASET_IMAGE_FOLDER: return DS_IMAGES;
  case LL_DATASET_NPY: return DS_NPY;
  case LL_DATASET_CSV: return DS_CSV;
  case LL_DATASET_SYNTHETIC: return DS_SYNTH;
  }
  return DS_FMNIST;
}

static void show_dataset_path(LlTrainingPanel *self)
{
  const LlDatasetSpec *ds = &spec(self)->dataset;
  const char *p = ds->kind == LL_DATASET_SYNTHETIC        ? "generated in memory"
                  : ds->path                              ? ds->path
                  : ds->train_images                      ? ds->train_images
                  : ds->train_files && ds->train_files[0] ? ds->train_files[0]
                                                          : "";
  gtk_label_set_text(self->dataset_path, p);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->dataset_path), p);
  int row = gtk_drop_down_get_selected(self->dataset);
  gtk_widget_set_sensitive(GTK_WIDGET(self->choose), row != DS_FMNIST && row != DS_SYNTH);
}

static void on_loss_weight(GtkSpinButton *spin, LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  if (!s || self->loading)
    return;
  guint i = GPOINTER_TO_UINT(g_object_get_data(G_OBJECT(spin), "loss-index"));
  g_autoptr(GError) error = NULL;
  /* an undoable spec edit: the document emits "changed", which rebuilds these rows */
  if (!ll_document_set_loss_weight(self->doc, i, gtk_spin_button_get_value(spin), &error))
    gtk_label_set_text(self->loss_note, error->message);
}

/* One row per loss when there are several: its head, kind and weight. The
 * rows are rebuilt only when the losses change, so a spin button being
 * edited keeps its focus. */
static void show_loss_weights(LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  guint n = s->losses->len;
  GString *key = g_string_new(NULL);
  for (guint i = 0; n > 1 && i < n; i++) {
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    g_string_append_printf(key, "%s\n%d\n", l->output, (int)l->kind);
  }
  const char *old = g_object_get_data(G_OBJECT(self->loss_weights), "losses");
  gboolean same = !g_strcmp0(old, key->str);
  if (!same) {
    GtkWidget *c;
    while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->loss_weights))))
      gtk_grid_remove(self->loss_weights, c);
    for (guint i = 0; n > 1 && i < n; i++) {
      const LlLossSpec *l = g_ptr_array_index(s->losses, i);
      static const char *const short_kind[] = {"CE", "BCE", "MSE", "L1"};
      g_autofree char *text =
          g_strdup_printf("%s (%s)", l->output, short_kind[CLAMP((int)l->kind, 0, 3)]);
      GtkWidget *label = gtk_label_new(text);
      gtk_label_set_xalign(GTK_LABEL(label), 0);
      gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
      gtk_widget_set_hexpand(label, TRUE);
      gtk_widget_set_tooltip_text(label, text);
      gtk_grid_attach(self->loss_weights, label, 0, (int)i, 1, 1);
      GtkWidget *spin = gtk_spin_button_new_with_range(0, 1e6, 0.05);
      gtk_spin_button_set_digits(GTK_SPIN_BUTTON(spin), 3);
      gtk_editable_set_width_chars(GTK_EDITABLE(spin), 6);
      g_autofree char *name = g_strdup_printf("loss-weight-%u", i);
      gtk_widget_set_name(spin, name);
      g_autofree char *tip = g_strdup_printf("Weight of the %s loss on \"%s\"",
                                             ll_loss_kind_names[l->kind], l->output);
      gtk_widget_set_tooltip_text(spin, tip);
      g_object_set_data(G_OBJECT(spin), "loss-index", GUINT_TO_POINTER(i));
      g_signal_connect(spin, "value-changed", G_CALLBACK(on_loss_weight), self);
      gtk_grid_attach(self->loss_weights, spin, 1, (int)i, 1, 1);
    }
    g_object_set_data_full(G_OBJECT(self->loss_weights), "losses", g_strdup(key->str), g_free);
  }
  g_string_free(key, TRUE);
  /* the values (undo and redo change them) */
  gboolean loading = self->loading;
  self->loading = TRUE;
  for (guint i = 0; n > 1 && i < n; i++) {
    GtkWidget *spin = gtk_grid_get_child_at(self->loss_weights, 1, (int)i);
    const LlLossSpec *l = g_ptr_array_index(s->losses, i);
    if (spin && gtk_spin_button_get_value(GTK_SPIN_BUTTON(spin)) != l->weight)
      gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), l->weight);
  }
  self->loading = loading;
  gtk_widget_set_visible(GTK_WIDGET(self->loss_weights), n > 1);
  gtk_widget_set_visible(GTK_WIDGET(self->weights_label), n > 1);
}

GtkSpinButton *ll_training_panel_get_loss_weight(LlTrainingPanel *self, guint index)
{
  GtkWidget *w = gtk_grid_get_child_at(self->loss_weights, 1, (int)index);
  return w && gtk_widget_get_visible(GTK_WIDGET(self->loss_weights)) ? GTK_SPIN_BUTTON(w) : NULL;
}

void ll_training_panel_set_metrics(LlTrainingPanel *self, const char *text)
{
  gtk_label_set_text(self->metrics, text ? text : "");
  gtk_widget_set_visible(GTK_WIDGET(self->metrics), text && *text);
}

const char *ll_training_panel_get_metrics(LlTrainingPanel *self)
{
  return gtk_widget_get_visible(GTK_WIDGET(self->metrics)) ? gtk_label_get_text(self->metrics) : "";
}

/* The loss row: "automatic" while the spec names none (the trainer picks at
 * start), the kind of a single loss, or a note when there are several. */
static void show_loss(LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  guint n = s->losses->len;
  const LlLossSpec *l = n ? g_ptr_array_index(s->losses, 0) : NULL;
  gtk_drop_down_set_selected(self->loss, n == 1 ? (guint)l->kind + 1 : 0);
  gtk_widget_set_sensitive(GTK_WIDGET(self->loss), n <= 1);
  g_autofree char *d = ll_spec_describe_losses(s);
  g_autofree char *note =
      n == 0   ? g_strdup("chosen from the graph's output when training starts")
      : n == 1 ? g_strdup(d)
               : g_strdup_printf("%s (several heads: set each one's weight below)", d);
  gtk_label_set_text(self->loss_note, note);
  show_loss_weights(self);
}

static void on_loss(GtkDropDown *dd, GParamSpec *p, LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  guint k = gtk_drop_down_get_selected(dd);
  if (!s || self->loading || k == GTK_INVALID_LIST_POSITION || s->losses->len > 1)
    return;
  g_ptr_array_set_size(s->losses, 0);
  if (k > 0) {
    /* the chosen kind on the graph's head, against x or the label */
    g_autoptr(GError) error = NULL;
    if (!ll_spec_add_loss(s, (LlLossKind)(k - 1), &error)) {
      gtk_label_set_text(self->loss_note, error->message);
      self->loading = TRUE;
      gtk_drop_down_set_selected(dd, 0);
      self->loading = FALSE;
      return;
    }
  }
  self->loading = TRUE;
  show_loss(self);
  self->loading = FALSE;
  ll_document_settings_changed(self->doc);
}

/* The Embedding block row: first the engine's own choice, named, then every
 * block but the inputs; the spec's record.embedding_block selected. */
static void show_embedding(LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  const char *auto_block = ll_analysis_default_embedding_block(s);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(items, auto_block ? g_strdup_printf("automatic (%s)", auto_block)
                                    : g_strdup("automatic"));
  guint selected = 0;
  for (guint i = 0; i < s->graph->blocks->len; i++) {
    const LlBlock *b = g_ptr_array_index(s->graph->blocks, i);
    if (b->desc->max_inputs == 0)
      continue;
    if (!g_strcmp0(b->name, s->embedding_block))
      selected = items->len;
    g_ptr_array_add(items, g_strdup(b->name));
  }
  g_ptr_array_add(items, NULL);
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->embed_items));
  gtk_string_list_splice(self->embed_items, 0, n, (const char *const *)items->pdata);
  gtk_drop_down_set_selected(self->embedding, selected);
}

static void on_embedding(GtkDropDown *dd, GParamSpec *p, LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  guint k = gtk_drop_down_get_selected(dd);
  if (!s || self->loading || k == GTK_INVALID_LIST_POSITION)
    return;
  ll_document_set_embedding_block(self->doc,
                                  k ? gtk_string_list_get_string(self->embed_items, k) : NULL);
}

/* The schedule row and the parameters its kind has (only those shown). */
static void show_schedule(LlTrainingPanel *self)
{
  const LlScheduleConfig *c = &spec(self)->schedule;
  gtk_drop_down_set_selected(self->schedule, c->kind);
  gtk_spin_button_set_value(self->step_size, c->step_size);
  gtk_spin_button_set_value(self->gamma, c->gamma);
  gtk_spin_button_set_value(self->min_lr, c->min_lr);
  gtk_spin_button_set_value(self->max_lr, MAX(c->max_lr, 0));
  gtk_spin_button_set_value(self->warmup, c->warmup_steps);
  gtk_widget_set_visible(self->step_row, c->kind == LL_SCHED_STEP);
  gtk_widget_set_visible(self->gamma_row, c->kind == LL_SCHED_STEP ||
                                              c->kind == LL_SCHED_MULTISTEP ||
                                              c->kind == LL_SCHED_EXPONENTIAL);
  gtk_widget_set_visible(self->min_lr_row, c->kind == LL_SCHED_COSINE);
  gtk_widget_set_visible(self->max_lr_row, c->kind == LL_SCHED_ONE_CYCLE);
}

static void on_schedule(GtkDropDown *dd, GParamSpec *p, LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  guint k = gtk_drop_down_get_selected(dd);
  if (!s || self->loading || k == GTK_INVALID_LIST_POSITION ||
      (LlScheduleKind)k == s->schedule.kind)
    return;
  /* the new kind's defaults (PyTorch's), keeping the warm-up */
  int warmup = s->schedule.warmup_steps;
  s->schedule = ll_schedule_config_default((LlScheduleKind)k);
  s->schedule.warmup_steps = warmup;
  self->loading = TRUE;
  show_schedule(self);
  self->loading = FALSE;
  ll_document_settings_changed(self->doc);
}

/* The one-cycle peak: 0 is the learning rate, and shows its value. */
static gboolean on_peak_output(GtkSpinButton *spin, LlTrainingPanel *self)
{
  if (gtk_spin_button_get_value(spin) != 0)
    return FALSE;
  g_autofree char *t = g_strdup_printf("%g (= learning rate)", gtk_spin_button_get_value(self->lr));
  gtk_editable_set_text(GTK_EDITABLE(spin), t);
  return TRUE;
}

static int on_peak_input(GtkSpinButton *spin, double *value, LlTrainingPanel *self)
{
  if (!strstr(gtk_editable_get_text(GTK_EDITABLE(spin)), "(="))
    return FALSE;
  *value = 0;
  return TRUE;
}

static void load_from_spec(LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  self->loading = TRUE;
  gtk_drop_down_set_selected(self->dataset, dataset_row(&s->dataset));
  show_dataset_path(self);
  gtk_spin_button_set_value(self->limit_train, s->dataset.limit_train);
  gtk_drop_down_set_selected(self->optimizer, s->optim.kind);
  gtk_spin_button_set_value(self->lr, s->optim.lr);
  gtk_spin_button_set_value(self->epochs, s->epochs);
  gtk_spin_button_set_value(self->batch, s->batch_size);
  gtk_spin_button_set_value(self->seed, (double)s->seed);
  gtk_switch_set_active(self->early_stopping, s->early_stopping);
  gtk_spin_button_set_value(self->patience, s->es_patience);
  gtk_spin_button_set_value(self->weight_decay, s->optim.weight_decay);
  show_schedule(self);
  show_loss(self);
  show_embedding(self);
  self->loading = FALSE;
}

static void store(LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  if (!s || self->loading)
    return;
  s->dataset.limit_train = (guint)gtk_spin_button_get_value_as_int(self->limit_train);
  s->optim.lr = gtk_spin_button_get_value(self->lr);
  s->epochs = gtk_spin_button_get_value_as_int(self->epochs);
  s->batch_size = gtk_spin_button_get_value_as_int(self->batch);
  s->seed = (uint64_t)gtk_spin_button_get_value(self->seed);
  s->early_stopping = gtk_switch_get_active(self->early_stopping);
  s->es_patience = gtk_spin_button_get_value_as_int(self->patience);
  s->optim.weight_decay = gtk_spin_button_get_value(self->weight_decay);
  s->schedule.step_size = gtk_spin_button_get_value_as_int(self->step_size);
  s->schedule.gamma = gtk_spin_button_get_value(self->gamma);
  s->schedule.min_lr = gtk_spin_button_get_value(self->min_lr);
  if (s->schedule.kind == LL_SCHED_ONE_CYCLE)
    s->schedule.max_lr = gtk_spin_button_get_value(self->max_lr);
  s->schedule.warmup_steps = gtk_spin_button_get_value_as_int(self->warmup);
  on_peak_output(self->max_lr, self); /* the peak that is the learning rate says its value */
  ll_document_settings_changed(self->doc);
}

static void on_setting(GtkSpinButton *spin, LlTrainingPanel *self) { store(self); }
static void on_setting_notify(GObject *o, GParamSpec *p, LlTrainingPanel *self) { store(self); }

static void on_optimizer(GtkDropDown *dd, GParamSpec *p, LlTrainingPanel *self)
{
  LlSpec *s = spec(self);
  if (!s || self->loading)
    return;
  guint k = gtk_drop_down_get_selected(dd);
  if (k == GTK_INVALID_LIST_POSITION || (LlOptimKind)k == s->optim.kind)
    return;
  /* the new kind's own defaults (PyTorch's), keeping the learning rate and weight decay */
  double lr = s->optim.lr, wd = s->optim.weight_decay;
  s->optim = ll_optim_config_default((LlOptimKind)k);
  s->optim.lr = lr;
  s->optim.weight_decay = wd;
  if (k == LL_OPT_SGD)
    s->optim.momentum = 0.9; /* plain SGD (PyTorch's momentum 0) trains slowly */
  ll_document_settings_changed(self->doc);
}

static void clear_dataset_files(LlDatasetSpec *ds)
{
  g_clear_pointer(&ds->path, g_free);
  g_clear_pointer(&ds->test_path, g_free);
  g_clear_pointer(&ds->train_images, g_free);
  g_clear_pointer(&ds->train_labels, g_free);
  g_clear_pointer(&ds->test_images, g_free);
  g_clear_pointer(&ds->test_labels, g_free);
  g_clear_pointer(&ds->train_files, g_strfreev);
  g_clear_pointer(&ds->test_files, g_strfreev);
}

/* Applies a chosen folder or file to the dataset kind of the row. */
static void set_dataset_source(LlTrainingPanel *self, int row, const char *path)
{
  LlDatasetSpec *ds = &spec(self)->dataset;
  clear_dataset_files(ds);
  switch (row) {
  case DS_FMNIST:
    ds->kind = LL_DATASET_IDX_DIR;
    ds->path = g_strdup(LL_FASHION_MNIST_DIR);
    break;
  case DS_IDX:
    ds->kind = LL_DATASET_IDX_DIR;
    ds->path = g_strdup(path);
    break;
  case DS_CIFAR: {
    ds->kind = LL_DATASET_CIFAR;
    GStrvBuilder *b = g_strv_builder_new();
    for (int i = 1; i <= 5; i++) {
      g_autofree char *name = g_strdup_printf("data_batch_%d.bin", i);
      g_autofree char *f = g_build_filename(path, name, NULL);
      g_strv_builder_add(b, f);
    }
    ds->train_files = g_strv_builder_end(b);
    g_autofree char *t = g_build_filename(path, "test_batch.bin", NULL);
    const char *tests[] = {t, NULL};
    ds->test_files = g_strdupv((char **)tests);
    g_strv_builder_unref(b);
    break;
  }
  case DS_IMAGES: {
    ds->kind = LL_DATASET_IMAGE_FOLDER;
    g_autofree char *train = g_build_filename(path, "train", NULL);
    g_autofree char *test = g_build_filename(path, "test", NULL);
    gboolean split = g_file_test(train, G_FILE_TEST_IS_DIR);
    ds->path = g_strdup(split ? train : path);
    ds->test_path = split && g_file_test(test, G_FILE_TEST_IS_DIR) ? g_strdup(test) : NULL;
    break;
  }
  case DS_NPY:
    ds->kind = LL_DATASET_NPY;
    ds->train_images = g_build_filename(path, "x_train.npy", NULL);
    ds->train_labels = g_build_filename(path, "y_train.npy", NULL);
    ds->test_images = g_build_filename(path, "x_test.npy", NULL);
    ds->test_labels = g_build_filename(path, "y_test.npy", NULL);
    break;
  case DS_CSV:
    ds->kind = LL_DATASET_CSV;
    ds->path = g_strdup(path);
    if (!ds->label_column)
      ds->label_column = g_strdup("label");
    break;
  case DS_SYNTH: ds->kind = LL_DATASET_SYNTHETIC; break;
  }
  show_dataset_path(self);
  ll_document_settings_changed(self->doc);
}

static void on_chooser_response(GtkNativeDialog *dialog, int response, LlTrainingPanel *self)
{
  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    g_autofree char *path = g_file_get_path(file);
    if (path)
      set_dataset_source(self, gtk_drop_down_get_selected(self->dataset), path);
  }
  g_clear_object(&self->chooser);
}

static void on_choose(GtkButton *button, LlTrainingPanel *self)
{
  int row = gtk_drop_down_get_selected(self->dataset);
  static const char *const titles[] = {
      NULL,
      "IDX folder (train-images-idx3-ubyte[.gz], ...)",
      "CIFAR folder (data_batch_1..5.bin, test_batch.bin)",
      "Image folder (one subfolder per class, or train/ and test/)",
      "NPY folder (x_train.npy, y_train.npy, x_test.npy, y_test.npy)",
      "CSV file (a \"label\" column)",
      NULL};
  if (!titles[row])
    return;
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  g_clear_object(&self->chooser);
  self->chooser = gtk_file_chooser_native_new(
      titles[row], GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
      row == DS_CSV ? GTK_FILE_CHOOSER_ACTION_OPEN : GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, NULL,
      NULL);
  g_signal_connect(self->chooser, "response", G_CALLBACK(on_chooser_response), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_dataset_kind(GtkDropDown *dd, GParamSpec *p, LlTrainingPanel *self)
{
  if (!spec(self) || self->loading)
    return;
  int row = gtk_drop_down_get_selected(dd);
  if (row == DS_FMNIST || row == DS_SYNTH)
    set_dataset_source(self, row, NULL);
  else
    on_choose(self->choose, self);
  show_dataset_path(self);
}

const char *ll_training_panel_get_device(LlTrainingPanel *self)
{
  guint i = gtk_drop_down_get_selected(self->device);
  return i < self->device_ids->len ? self->device_ids->pdata[i] : "cpu";
}

void ll_training_panel_set_start_tooltip(LlTrainingPanel *self, const char *text)
{
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->start), text);
}

void ll_training_panel_set_running(LlTrainingPanel *self, gboolean running, gboolean paused)
{
  gtk_button_set_label(self->pause, paused ? "Resume" : "Pause");
  /* settings are read when a run starts: changing them mid-run would mislead */
  gtk_widget_set_sensitive(GTK_WIDGET(self->dataset), !running);
  gtk_widget_set_sensitive(GTK_WIDGET(self->device), !running);
}

void ll_training_panel_set_progress(LlTrainingPanel *self, double fraction, const char *text)
{
  gtk_progress_bar_set_fraction(self->progress, CLAMP(fraction, 0, 1));
  gtk_progress_bar_set_text(self->progress, text);
}

const char *ll_training_panel_get_progress_text(LlTrainingPanel *self)
{
  return gtk_progress_bar_get_text(self->progress);
}

void ll_training_panel_set_status(LlTrainingPanel *self, const char *text)
{
  gtk_label_set_text(self->status, text);
}

static void on_doc_changed(LlDocument *doc, LlTrainingPanel *self) { load_from_spec(self); }

void ll_training_panel_set_document(LlTrainingPanel *self, LlDocument *doc)
{
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  self->doc = g_object_ref(doc);
  self->changed_id = g_signal_connect(doc, "changed", G_CALLBACK(on_doc_changed), self);
  load_from_spec(self);
}

static void ll_training_panel_dispose(GObject *object)
{
  LlTrainingPanel *self = LL_TRAINING_PANEL(object);
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  if (self->chooser)
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  gtk_widget_dispose_template(GTK_WIDGET(object), LL_TYPE_TRAINING_PANEL);
  G_OBJECT_CLASS(ll_training_panel_parent_class)->dispose(object);
}

static void ll_training_panel_finalize(GObject *object)
{
  g_ptr_array_unref(LL_TRAINING_PANEL(object)->device_ids);
  G_OBJECT_CLASS(ll_training_panel_parent_class)->finalize(object);
}

static void ll_training_panel_class_init(LlTrainingPanelClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_training_panel_dispose;
  oc->finalize = ll_training_panel_finalize;
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-training-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, LlTrainingPanel, name)
  CHILD(start);
  CHILD(dataset);
  CHILD(optimizer);
  CHILD(device);
  CHILD(choose);
  CHILD(pause);
  CHILD(dataset_path);
  CHILD(status);
  CHILD(limit_train);
  CHILD(lr);
  CHILD(epochs);
  CHILD(batch);
  CHILD(seed);
  CHILD(patience);
  CHILD(early_stopping);
  CHILD(progress);
  CHILD(loss);
  CHILD(loss_note);
  CHILD(embedding);
  CHILD(weights_label);
  CHILD(loss_weights);
  CHILD(metrics);
  CHILD(weight_decay);
  CHILD(schedule);
  CHILD(step_size);
  CHILD(gamma);
  CHILD(min_lr);
  CHILD(max_lr);
  CHILD(warmup);
  CHILD(step_row);
  CHILD(gamma_row);
  CHILD(min_lr_row);
  CHILD(max_lr_row);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_loss);
  gtk_widget_class_bind_template_callback(wc, on_embedding);
  gtk_widget_class_bind_template_callback(wc, on_schedule);
  gtk_widget_class_bind_template_callback(wc, on_peak_output);
  gtk_widget_class_bind_template_callback(wc, on_peak_input);
  gtk_widget_class_bind_template_callback(wc, on_setting);
  gtk_widget_class_bind_template_callback(wc, on_setting_notify);
  gtk_widget_class_bind_template_callback(wc, on_optimizer);
  gtk_widget_class_bind_template_callback(wc, on_dataset_kind);
  gtk_widget_class_bind_template_callback(wc, on_choose);
}

static void ll_training_panel_init(LlTrainingPanel *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  ll_spin_button_name_zero(self->limit_train, "all"); /* Train samples: 0 is every sample */
  GtkStringList *opts = gtk_string_list_new(ll_optim_kind_names);
  gtk_drop_down_set_model(self->optimizer, G_LIST_MODEL(opts));
  g_object_unref(opts);
  GtkStringList *scheds = gtk_string_list_new(ll_schedule_kind_names);
  gtk_drop_down_set_model(self->schedule, G_LIST_MODEL(scheds));
  g_object_unref(scheds);
  self->embed_items = gtk_string_list_new(NULL); /* the drop-down keeps it */
  gtk_drop_down_set_model(self->embedding, G_LIST_MODEL(self->embed_items));
  g_object_unref(self->embed_items);
  /* "cpu: 2 threads", "cuda:0: NVIDIA H100": the id is what precedes ": " */
  self->device_ids = g_ptr_array_new_with_free_func(g_free);
  self->devices = gtk_string_list_new(NULL);
  g_autoptr(GPtrArray) list = ll_devices_list();
  for (guint i = 0; i < list->len; i++) {
    const char *line = list->pdata[i];
    const char *sep = strstr(line, ": ");
    g_ptr_array_add(self->device_ids, sep ? g_strndup(line, sep - line) : g_strdup(line));
    gtk_string_list_append(self->devices, line);
  }
  if (!list->len) {
    g_ptr_array_add(self->device_ids, g_strdup("cpu"));
    gtk_string_list_append(self->devices, "cpu");
  }
  gtk_drop_down_set_model(self->device, G_LIST_MODEL(self->devices));
  g_object_unref(self->devices);
}
