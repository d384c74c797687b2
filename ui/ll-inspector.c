/* ll-inspector.c: property editors generated from a block descriptor. */
#include "ll-inspector.h"

#include <math.h>
#include <string.h>

struct _LlInspector {
  GtkBox parent_instance;
  GtkLabel *title, *help, *message;
  GtkGrid *grid;
  GtkCheckButton *frozen;
  LlDocument *doc;
  gulong changed_id;
  char *block;
  gboolean applying;   /* our own edit: do not rebuild the editors under the user's fingers */
  GHashTable *editors; /* prop name -> GtkWidget* (borrowed: the grid owns them) */
  GHashTable *vary;    /* prop name (or "type") -> its Vary button (borrowed) */
};

enum { SIG_VARY, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LlInspector, ll_inspector, GTK_TYPE_BOX)

GtkWidget *ll_inspector_new(void) { return g_object_new(LL_TYPE_INSPECTOR, NULL); }

static LlBlock *current(LlInspector *self)
{
  return self->doc && self->block
             ? ll_graph_find(ll_document_get_spec(self->doc)->graph, self->block)
             : NULL;
}

static void apply(LlInspector *self, GtkWidget *editor, const char *prop, const char *value)
{
  if (!current(self))
    return;
  g_autoptr(GError) error = NULL;
  self->applying = TRUE;
  gboolean ok = ll_document_set_prop(self->doc, self->block, prop, value, &error);
  self->applying = FALSE;
  if (ok) {
    gtk_widget_remove_css_class(editor, "error");
    gtk_label_set_text(self->message, "");
  } else {
    gtk_widget_add_css_class(editor, "error");
    gtk_label_set_text(self->message, error->message);
  }
}

/* An INT property whose 0 stands for another one (a pooling stride of 0 is
 * the kernel size) reads as what the 0 means, "2 (= kernel)", never as 0;
 * that text, or "auto", is entered as 0. */
static gboolean is_zero_text(const char *text)
{
  g_autofree char *t = g_strstrip(g_strdup(text));
  return strstr(t, "(=") || !g_ascii_strcasecmp(t, "auto");
}

static gboolean zero_text(LlInspector *self, GtkWidget *editor, char *buf, size_t len)
{
  LlBlock *b = current(self);
  return b && g_object_get_data(G_OBJECT(editor), "ll-zero-is") &&
         ll_block_format_zero(b, GPOINTER_TO_INT(g_object_get_data(G_OBJECT(editor), "ll-index")),
                              buf, len);
}

static gboolean on_zero_output(GtkSpinButton *spin, LlInspector *self)
{
  char buf[64];
  if (gtk_spin_button_get_value_as_int(spin) != 0 ||
      !zero_text(self, GTK_WIDGET(spin), buf, sizeof buf))
    return FALSE;
  gtk_editable_set_text(GTK_EDITABLE(spin), buf);
  return TRUE;
}

static int on_zero_input(GtkSpinButton *spin, double *value, LlInspector *self)
{
  if (!is_zero_text(gtk_editable_get_text(GTK_EDITABLE(spin))))
    return FALSE;
  *value = 0;
  return TRUE;
}

static void on_text_changed(GtkEditable *editable, LlInspector *self);

/* After an edit of the property a 0 stands for, the editors showing that 0
 * say the new value (except the one under the user's fingers). */
static void refresh_zero_editors(LlInspector *self, GtkWidget *edited)
{
  GHashTableIter it;
  gpointer editor;
  char buf[64];
  g_hash_table_iter_init(&it, self->editors);
  while (g_hash_table_iter_next(&it, NULL, &editor)) {
    if (editor == edited || !GTK_IS_SPIN_BUTTON(editor) ||
        gtk_spin_button_get_value_as_int(editor) != 0 || !zero_text(self, editor, buf, sizeof buf))
      continue;
    g_signal_handlers_block_by_func(editor, on_text_changed, self);
    gtk_editable_set_text(GTK_EDITABLE(editor), buf);
    g_signal_handlers_unblock_by_func(editor, on_text_changed, self);
  }
}

static void on_text_changed(GtkEditable *editable, LlInspector *self)
{
  const char *text = gtk_editable_get_text(editable);
  if (g_object_get_data(G_OBJECT(editable), "ll-zero-is") && is_zero_text(text))
    text = "0";
  apply(self, GTK_WIDGET(editable), g_object_get_data(G_OBJECT(editable), "ll-prop"), text);
  refresh_zero_editors(self, GTK_WIDGET(editable));
}

static void on_switch(GtkSwitch *sw, GParamSpec *pspec, LlInspector *self)
{
  apply(self, GTK_WIDGET(sw), g_object_get_data(G_OBJECT(sw), "ll-prop"),
        gtk_switch_get_active(sw) ? "true" : "false");
}

static void on_choice(GtkDropDown *dd, GParamSpec *pspec, LlInspector *self)
{
  GtkStringObject *o = gtk_drop_down_get_selected_item(dd);
  if (o)
    apply(self, GTK_WIDGET(dd), g_object_get_data(G_OBJECT(dd), "ll-prop"),
          gtk_string_object_get_string(o));
}

static void on_frozen_toggled(GtkCheckButton *check, LlInspector *self)
{
  LlBlock *b = current(self);
  if (!b || b->frozen == gtk_check_button_get_active(check))
    return;
  self->applying = TRUE;
  ll_document_set_frozen(self->doc, self->block, gtk_check_button_get_active(check));
  self->applying = FALSE;
}

static GtkWidget *make_editor(LlInspector *self, int index, const LlPropDesc *d,
                              const LlPropValue *v)
{
  GtkWidget *w = NULL;
  char buf[64];
  switch (d->type) {
  case LL_PROP_INT:
  case LL_PROP_FLOAT: {
    gboolean is_int = d->type == LL_PROP_INT;
    double lo = d->min, hi = d->max;
    if (!(hi > lo))
      lo = -1e9, hi = 1e9;
    double step = is_int ? 1 : (hi - lo > 10 ? 0.1 : 0.01);
    w = gtk_spin_button_new_with_range(lo, hi, step);
    gtk_spin_button_set_digits(GTK_SPIN_BUTTON(w), is_int ? 0 : 4);
    gtk_spin_button_set_numeric(GTK_SPIN_BUTTON(w), FALSE);
    if (is_int && d->zero_is) {
      g_object_set_data(G_OBJECT(w), "ll-zero-is", (gpointer)d->zero_is);
      g_object_set_data(G_OBJECT(w), "ll-index", GINT_TO_POINTER(index));
      gtk_editable_set_width_chars(GTK_EDITABLE(w), 14);
      g_signal_connect(w, "output", G_CALLBACK(on_zero_output), self);
      g_signal_connect(w, "input", G_CALLBACK(on_zero_input), self);
    }
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(w), is_int ? (double)v->i : v->f);
    gtk_widget_set_tooltip_text(w, d->help);
    g_signal_connect(w, "changed", G_CALLBACK(on_text_changed), self);
    break;
  }
  case LL_PROP_BOOL:
    w = gtk_switch_new();
    gtk_switch_set_active(GTK_SWITCH(w), v->b);
    gtk_widget_set_halign(w, GTK_ALIGN_START);
    g_signal_connect(w, "notify::active", G_CALLBACK(on_switch), self);
    break;
  case LL_PROP_CHOICE:
    w = gtk_drop_down_new_from_strings(d->choices);
    gtk_drop_down_set_selected(GTK_DROP_DOWN(w), v->choice);
    g_signal_connect(w, "notify::selected", G_CALLBACK(on_choice), self);
    break;
  case LL_PROP_SHAPE: {
    w = gtk_entry_new();
    GString *s = g_string_new(NULL);
    for (int i = 0; i < v->shape.rank; i++)
      g_string_append_printf(s, "%s%d", i ? "," : "", v->shape.d[i]);
    gtk_editable_set_text(GTK_EDITABLE(w), s->str);
    g_string_free(s, TRUE);
    gtk_entry_set_placeholder_text(GTK_ENTRY(w), "e.g. 1,28,28");
    g_signal_connect(w, "changed", G_CALLBACK(on_text_changed), self);
    break;
  }
  }
  (void)buf;
  gtk_widget_set_tooltip_text(w, d->help);
  gtk_widget_set_hexpand(w, TRUE);
  g_object_set_data_full(G_OBJECT(w), "ll-prop", g_strdup(d->name), g_free);
  return w;
}

/* A property's value as JSON (what a study's axis holds). */
static char *prop_json(const LlPropDesc *d, const LlPropValue *v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  switch (d->type) {
  case LL_PROP_INT: return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)v->i);
  case LL_PROP_FLOAT: return g_strdup(g_ascii_dtostr(buf, sizeof buf, v->f));
  case LL_PROP_BOOL: return g_strdup(v->b ? "true" : "false");
  case LL_PROP_CHOICE: return g_strdup_printf("\"%s\"", d->choices[v->choice]);
  case LL_PROP_SHAPE: {
    GString *s = g_string_new("[");
    for (int i = 0; i < v->shape.rank; i++)
      g_string_append_printf(s, "%s%d", i ? ", " : "", v->shape.d[i]);
    g_string_append(s, "]");
    return g_string_free(s, FALSE);
  }
  }
  return g_strdup("null");
}

/* "Vary this...": an axis of the study for the property (or the block's type). */
static void vary(LlInspector *self, const char *prop)
{
  LlBlock *b = current(self);
  if (!b)
    return;
  if (!strcmp(prop, "type")) {
    g_autofree char *path = g_strdup_printf("graph.blocks.%s.type", b->name);
    g_autofree char *cur = g_strdup_printf("\"%s\"", b->desc->type);
    g_signal_emit(self, signals[SIG_VARY], 0, path, cur);
    return;
  }
  for (int i = 0; i < b->desc->n_props; i++)
    if (!strcmp(b->desc->props[i].name, prop)) {
      g_autofree char *path = g_strdup_printf("graph.blocks.%s.props.%s", b->name, prop);
      g_autofree char *cur = prop_json(&b->desc->props[i], &b->props[i]);
      g_signal_emit(self, signals[SIG_VARY], 0, path, cur);
    }
}

static void on_vary_clicked(GtkButton *button, LlInspector *self)
{
  g_autofree char *prop = g_strdup(g_object_get_data(G_OBJECT(button), "ll-prop"));
  GtkWidget *pop = gtk_widget_get_ancestor(GTK_WIDGET(button), GTK_TYPE_POPOVER);
  if (pop)
    gtk_popover_popdown(GTK_POPOVER(pop));
  vary(self, prop);
}

/* Right-click on a property's label or editor: a menu with "Vary this...". */
static void on_right_click(GtkGestureClick *g, int n, double x, double y, LlInspector *self)
{
  GtkWidget *w = gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(g));
  GtkWidget *pop = g_object_get_data(G_OBJECT(w), "ll-menu");
  if (!pop) {
    pop = gtk_popover_new();
    GtkWidget *item = gtk_button_new_with_mnemonic("_Vary this\u2026");
    gtk_widget_add_css_class(item, "flat");
    g_object_set_data_full(G_OBJECT(item), "ll-prop",
                           g_strdup(g_object_get_data(G_OBJECT(w), "ll-prop")), g_free);
    g_signal_connect(item, "clicked", G_CALLBACK(on_vary_clicked), self);
    gtk_popover_set_child(GTK_POPOVER(pop), item);
    gtk_widget_set_parent(pop, w);
    g_object_set_data_full(G_OBJECT(w), "ll-menu", pop, (GDestroyNotify)gtk_widget_unparent);
  }
  gtk_popover_set_pointing_to(GTK_POPOVER(pop), &(GdkRectangle){(int)x, (int)y, 1, 1});
  gtk_popover_popup(GTK_POPOVER(pop));
}

static void add_right_click(LlInspector *self, GtkWidget *w, const char *prop)
{
  g_object_set_data_full(G_OBJECT(w), "ll-prop", g_strdup(prop), g_free);
  GtkGesture *g = gtk_gesture_click_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(g), GDK_BUTTON_SECONDARY);
  g_signal_connect(g, "pressed", G_CALLBACK(on_right_click), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(g));
}

static GtkWidget *vary_button(LlInspector *self, const char *prop, const char *tip)
{
  GtkWidget *b = gtk_button_new_with_label("Vary\u2026");
  gtk_widget_add_css_class(b, "flat");
  gtk_widget_set_tooltip_text(b, tip);
  g_object_set_data_full(G_OBJECT(b), "ll-prop", g_strdup(prop), g_free);
  g_signal_connect(b, "clicked", G_CALLBACK(on_vary_clicked), self);
  g_hash_table_insert(self->vary, g_strdup(prop), b);
  return b;
}

static void rebuild(LlInspector *self)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->grid))))
    gtk_grid_remove(self->grid, child);
  g_hash_table_remove_all(self->editors);
  g_hash_table_remove_all(self->vary);
  gtk_label_set_text(self->message, "");
  LlBlock *b = current(self);
  gtk_widget_set_sensitive(GTK_WIDGET(self->frozen), b != NULL);
  if (!b) {
    gtk_label_set_text(self->title, "No block selected");
    gtk_label_set_text(self->help, "Select a block on the canvas to edit its properties.");
    return;
  }
  g_autofree char *title = g_strdup_printf("%s \u2014 %s", b->name, b->desc->type);
  gtk_label_set_text(self->title, title);
  gtk_label_set_text(self->help, b->desc->help);
  for (int i = 0; i < b->desc->n_props; i++) {
    const LlPropDesc *d = &b->desc->props[i];
    GtkWidget *label = gtk_label_new(d->name);
    gtk_label_set_xalign(GTK_LABEL(label), 1);
    gtk_widget_set_tooltip_text(label, d->help);
    GtkWidget *editor = make_editor(self, i, d, &b->props[i]);
    gtk_grid_attach(self->grid, label, 0, i, 1, 1);
    gtk_grid_attach(self->grid, editor, 1, i, 1, 1);
    g_autofree char *tip = g_strdup_printf(
        "Vary this: add an axis for %s.%s to the study, with values to try", b->name, d->name);
    gtk_grid_attach(self->grid, vary_button(self, d->name, tip), 2, i, 1, 1);
    add_right_click(self, label, d->name);
    g_hash_table_insert(self->editors, g_strdup(d->name), editor);
  }
  if (!strcmp(b->desc->category, "Activation")) {
    /* the activation itself: a list of types */
    int row = b->desc->n_props;
    GtkWidget *label = gtk_label_new("type");
    gtk_label_set_xalign(GTK_LABEL(label), 1);
    GtkWidget *t = gtk_label_new(b->desc->type);
    gtk_label_set_xalign(GTK_LABEL(t), 0);
    gtk_grid_attach(self->grid, label, 0, row, 1, 1);
    gtk_grid_attach(self->grid, t, 1, row, 1, 1);
    g_autofree char *tip = g_strdup_printf(
        "Vary this: add an axis over activation types for %s to the study", b->name);
    gtk_grid_attach(self->grid, vary_button(self, "type", tip), 2, row, 1, 1);
    add_right_click(self, label, "type");
  }
  if (!b->desc->n_props && strcmp(b->desc->category, "Activation")) {
    GtkWidget *none = gtk_label_new("This block has no properties.");
    gtk_widget_add_css_class(none, "dim-label");
    gtk_grid_attach(self->grid, none, 0, 0, 2, 1);
  }
  g_signal_handlers_block_by_func(self->frozen, on_frozen_toggled, self);
  gtk_check_button_set_active(self->frozen, b->frozen);
  g_signal_handlers_unblock_by_func(self->frozen, on_frozen_toggled, self);
}

GtkWidget *ll_inspector_get_vary_button(LlInspector *self, const char *prop)
{
  return g_hash_table_lookup(self->vary, prop);
}

GtkWidget *ll_inspector_get_editor(LlInspector *self, const char *prop)
{
  return g_hash_table_lookup(self->editors, prop);
}

const char *ll_inspector_get_message(LlInspector *self)
{
  return gtk_label_get_text(self->message);
}

void ll_inspector_set_block(LlInspector *self, const char *name)
{
  if (!g_strcmp0(name, self->block) && current(self))
    return;
  g_free(self->block);
  self->block = g_strdup(name);
  rebuild(self);
}

static void on_doc_changed(LlDocument *doc, LlInspector *self)
{
  if (self->applying)
    return;
  rebuild(self);
}

void ll_inspector_set_document(LlInspector *self, LlDocument *doc)
{
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  self->doc = g_object_ref(doc);
  self->changed_id = g_signal_connect(doc, "changed", G_CALLBACK(on_doc_changed), self);
  g_clear_pointer(&self->block, g_free);
  rebuild(self);
}

static void ll_inspector_dispose(GObject *object)
{
  LlInspector *self = LL_INSPECTOR(object);
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  G_OBJECT_CLASS(ll_inspector_parent_class)->dispose(object);
}

static void ll_inspector_finalize(GObject *object)
{
  LlInspector *self = LL_INSPECTOR(object);
  g_free(self->block);
  g_hash_table_unref(self->editors);
  g_hash_table_unref(self->vary);
  G_OBJECT_CLASS(ll_inspector_parent_class)->finalize(object);
}

static void ll_inspector_class_init(LlInspectorClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_inspector_dispose;
  oc->finalize = ll_inspector_finalize;
  /* "Vary this...": the spec path of a property and its value now (JSON) */
  signals[SIG_VARY] = g_signal_new("vary", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-inspector.ui");
  gtk_widget_class_bind_template_child(wc, LlInspector, title);
  gtk_widget_class_bind_template_child(wc, LlInspector, help);
  gtk_widget_class_bind_template_child(wc, LlInspector, message);
  gtk_widget_class_bind_template_child(wc, LlInspector, grid);
  gtk_widget_class_bind_template_child(wc, LlInspector, frozen);
  gtk_widget_class_bind_template_callback(wc, on_frozen_toggled);
}

static void ll_inspector_init(LlInspector *self)
{
  self->editors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->vary = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  gtk_widget_init_template(GTK_WIDGET(self));
}
