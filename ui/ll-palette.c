/* ll-palette.c: the block palette, generated from the registry. */
#include "ll-palette.h"

#include <stdlib.h>
#include <string.h>

#include "block.h"

struct _LlPalette {
  GtkBox parent_instance;
  GtkSearchEntry *search;
  GtkListBox *list;
};

G_DEFINE_FINAL_TYPE(LlPalette, ll_palette, GTK_TYPE_BOX)

enum { SIGNAL_BLOCK_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *ll_palette_new(void) { return g_object_new(LL_TYPE_PALETTE, NULL); }

static const LlBlockDesc *row_desc(GtkListBoxRow *row)
{
  return g_object_get_data(G_OBJECT(row), "ll-desc");
}

static gboolean filter(GtkListBoxRow *row, gpointer data)
{
  LlPalette *self = data;
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->search));
  if (!text || !*text)
    return TRUE;
  const LlBlockDesc *d = row_desc(row);
  g_autofree char *needle = g_utf8_casefold(text, -1);
  g_autofree char *hay = g_utf8_casefold(d->type, -1);
  g_autofree char *cat = g_utf8_casefold(d->category, -1);
  g_autofree char *help = g_utf8_casefold(d->help ? d->help : "", -1);
  return strstr(hay, needle) || strstr(cat, needle) || strstr(help, needle);
}

static void header(GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  const LlBlockDesc *d = row_desc(row);
  if (before && !g_strcmp0(row_desc(before)->category, d->category)) {
    gtk_list_box_row_set_header(row, NULL);
    return;
  }
  GtkWidget *label = gtk_label_new(d->category);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_add_css_class(label, "heading");
  gtk_widget_add_css_class(label, "ll-palette-category");
  gtk_list_box_row_set_header(row, label);
}

static void on_search_changed(GtkSearchEntry *entry, LlPalette *self)
{
  gtk_list_box_invalidate_filter(self->list);
  gtk_list_box_invalidate_headers(self->list);
}

static void on_row_activated(GtkListBox *list, GtkListBoxRow *row, LlPalette *self)
{
  g_signal_emit(self, signals[SIGNAL_BLOCK_ACTIVATED], 0, row_desc(row)->type);
}

static GdkContentProvider *drag_prepare(GtkDragSource *source, double x, double y,
                                        GtkListBoxRow *row)
{
  return gdk_content_provider_new_typed(G_TYPE_STRING, row_desc(row)->type);
}

static int by_category(const void *a, const void *b)
{
  const LlBlockDesc *da = *(const LlBlockDesc *const *)a, *db = *(const LlBlockDesc *const *)b;
  int c = g_strcmp0(da->category, db->category);
  return c ? c : g_strcmp0(da->type, db->type);
}

guint ll_palette_count_visible(LlPalette *self)
{
  guint n = 0;
  for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->list)); c;
       c = gtk_widget_get_next_sibling(c))
    if (GTK_IS_LIST_BOX_ROW(c) && gtk_widget_get_child_visible(c) &&
        filter(GTK_LIST_BOX_ROW(c), self))
      n++;
  return n;
}

void ll_palette_set_search(LlPalette *self, const char *text)
{
  gtk_editable_set_text(GTK_EDITABLE(self->search), text);
  on_search_changed(self->search, self);
}

static void ll_palette_class_init(LlPaletteClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-palette.ui");
  gtk_widget_class_bind_template_child(wc, LlPalette, search);
  gtk_widget_class_bind_template_child(wc, LlPalette, list);
  gtk_widget_class_bind_template_callback(wc, on_search_changed);
  gtk_widget_class_bind_template_callback(wc, on_row_activated);
  signals[SIGNAL_BLOCK_ACTIVATED] =
      g_signal_new("block-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void ll_palette_init(LlPalette *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  int n;
  const LlBlockDesc *const *reg = ll_block_registry(&n);
  g_autofree const LlBlockDesc **sorted = g_new(const LlBlockDesc *, n);
  for (int i = 0; i < n; i++)
    sorted[i] = reg[i];
  qsort(sorted, n, sizeof *sorted, by_category);
  for (int i = 0; i < n; i++) {
    GtkWidget *label = gtk_label_new(sorted[i]->type);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    GtkWidget *row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
    gtk_widget_set_tooltip_text(row, sorted[i]->help);
    g_object_set_data(G_OBJECT(row), "ll-desc", (gpointer)sorted[i]);
    GtkDragSource *src = gtk_drag_source_new();
    gtk_drag_source_set_actions(src, GDK_ACTION_COPY);
    g_signal_connect(src, "prepare", G_CALLBACK(drag_prepare), row);
    gtk_widget_add_controller(row, GTK_EVENT_CONTROLLER(src));
    gtk_list_box_append(self->list, row);
  }
  gtk_list_box_set_filter_func(self->list, filter, self, NULL);
  gtk_list_box_set_header_func(self->list, header, NULL, NULL);
}
