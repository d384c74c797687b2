/* ll-palette.c: the block palette, generated from the registry. */
#include "ll-palette.h"

#include <string.h>

#include "block.h"
#include "ll-shortcuts.h"

struct _LlPalette {
  GtkBox parent_instance;
  GtkSearchEntry *search;
  GtkListBox *list;
  char *shown_for; /* the search text the list is filtered and sorted for */
};

G_DEFINE_FINAL_TYPE(LlPalette, ll_palette, GTK_TYPE_BOX)

enum { SIGNAL_BLOCK_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

GtkWidget *ll_palette_new(void) { return g_object_new(LL_TYPE_PALETTE, NULL); }

static const LlBlockDesc *row_desc(GtkListBoxRow *row)
{
  return g_object_get_data(G_OBJECT(row), "ll-desc");
}

/* How well a block matches the search, best first: 0 the type itself, 1 a
 * type that starts with it ("ReLU" for "relu" before "LeakyReLU"), 2 a type
 * that contains it, 3 its category, 4 its help text; -1 no match. */
static int match_rank(const LlBlockDesc *d, const char *text)
{
  if (!text || !*text)
    return 0;
  g_autofree char *needle = g_utf8_casefold(text, -1);
  g_autofree char *hay = g_utf8_casefold(d->type, -1);
  if (!strcmp(hay, needle))
    return 0;
  if (g_str_has_prefix(hay, needle))
    return 1;
  if (strstr(hay, needle))
    return 2;
  g_autofree char *cat = g_utf8_casefold(d->category, -1);
  if (strstr(cat, needle))
    return 3;
  g_autofree char *help = g_utf8_casefold(d->help ? d->help : "", -1);
  return strstr(help, needle) ? 4 : -1;
}

static const char *search_text(LlPalette *self)
{
  return gtk_editable_get_text(GTK_EDITABLE(self->search));
}

static gboolean filter(GtkListBoxRow *row, gpointer data)
{
  LlPalette *self = data;
  return match_rank(row_desc(row), search_text(self)) >= 0;
}

static int by_category_then_type(const LlBlockDesc *a, const LlBlockDesc *b)
{
  int c = g_strcmp0(a->category, b->category);
  return c ? c : g_strcmp0(a->type, b->type);
}

/* By category while browsing; best match first while searching. */
static int sort(GtkListBoxRow *ra, GtkListBoxRow *rb, gpointer data)
{
  LlPalette *self = data;
  const LlBlockDesc *a = row_desc(ra), *b = row_desc(rb);
  const char *text = search_text(self);
  if (text && *text) {
    int d = match_rank(a, text) - match_rank(b, text);
    if (d)
      return d;
    int c = g_ascii_strcasecmp(a->type, b->type);
    if (c)
      return c;
  }
  return by_category_then_type(a, b);
}

static void header(GtkListBoxRow *row, GtkListBoxRow *before, gpointer data)
{
  LlPalette *self = data;
  const LlBlockDesc *d = row_desc(row);
  const char *text = search_text(self);
  /* matches are ranked, not grouped: no category headings while searching */
  if ((text && *text) || (before && !g_strcmp0(row_desc(before)->category, d->category))) {
    gtk_list_box_row_set_header(row, NULL);
    return;
  }
  GtkWidget *label = gtk_label_new(d->category);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_add_css_class(label, "heading");
  gtk_widget_add_css_class(label, "ll-palette-category");
  gtk_list_box_row_set_header(row, label);
}

/* The rows that match the search, in the order shown. */
static GPtrArray *matches(LlPalette *self)
{
  GPtrArray *out = g_ptr_array_new();
  GtkListBoxRow *row;
  for (int i = 0; (row = gtk_list_box_get_row_at_index(self->list, i)); i++)
    if (filter(row, self))
      g_ptr_array_add(out, row);
  return out;
}

static void show_match(LlPalette *self, GtkListBoxRow *row)
{
  gtk_list_box_select_row(self->list, row);
  if (!row)
    return;
  /* scroll it into view without taking the focus from the search */
  GtkWidget *sw = gtk_widget_get_ancestor(GTK_WIDGET(self->list), GTK_TYPE_SCROLLED_WINDOW);
  graphene_point_t p;
  if (sw && gtk_widget_compute_point(GTK_WIDGET(row), GTK_WIDGET(self->list),
                                     &GRAPHENE_POINT_INIT(0, 0), &p))
    gtk_adjustment_clamp_page(gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw)), p.y,
                              p.y + gtk_widget_get_height(GTK_WIDGET(row)));
}

static void on_search_changed(GtkSearchEntry *entry, LlPalette *self)
{
  g_free(self->shown_for);
  self->shown_for = g_strdup(search_text(self));
  gtk_list_box_invalidate_filter(self->list);
  gtk_list_box_invalidate_sort(self->list);
  gtk_list_box_invalidate_headers(self->list);
  /* the best match is highlighted: Enter adds it */
  const char *text = search_text(self);
  g_autoptr(GPtrArray) m = matches(self);
  show_match(self, text && *text && m->len ? m->pdata[0] : NULL);
}

/* "search-changed" comes a moment after typing: a key pressed sooner sees
 * the list as the text is now. */
static void catch_up(LlPalette *self)
{
  if (g_strcmp0(self->shown_for, search_text(self)))
    on_search_changed(self->search, self);
}

void ll_palette_move_match(LlPalette *self, int delta)
{
  catch_up(self);
  g_autoptr(GPtrArray) m = matches(self);
  if (!m->len)
    return;
  GtkListBoxRow *sel = gtk_list_box_get_selected_row(self->list);
  guint at = 0;
  if (!sel || !g_ptr_array_find(m, sel, &at))
    at = delta > 0 ? 0 : m->len - 1; /* the first press picks the first (or last) */
  else
    at = (guint)CLAMP((int)at + delta, 0, (int)m->len - 1);
  show_match(self, m->pdata[at]);
}

const char *ll_palette_get_match(LlPalette *self)
{
  catch_up(self);
  GtkListBoxRow *sel = gtk_list_box_get_selected_row(self->list);
  if (sel && filter(sel, self))
    return row_desc(sel)->type;
  const char *text = search_text(self);
  if (!text || !*text)
    return NULL; /* nothing typed, nothing picked */
  g_autoptr(GPtrArray) m = matches(self);
  return m->len ? row_desc(m->pdata[0])->type : NULL;
}

/* Enter in the search: the highlighted match (the best one unless the arrows
 * moved) goes after the selection; the text stays selected, so typing the
 * next block's name replaces it. */
static void on_search_activate(GtkSearchEntry *entry, LlPalette *self)
{
  const char *type = ll_palette_get_match(self);
  if (!type)
    return;
  g_signal_emit(self, signals[SIGNAL_BLOCK_ACTIVATED], 0, type);
  gtk_editable_select_region(GTK_EDITABLE(self->search), 0, -1);
}

static void next_match(GtkWidget *w, const char *action, GVariant *p)
{
  ll_palette_move_match(LL_PALETTE(w), 1);
}

static void previous_match(GtkWidget *w, const char *action, GVariant *p)
{
  ll_palette_move_match(LL_PALETTE(w), -1);
}

void ll_palette_focus_search(LlPalette *self) { gtk_widget_grab_focus(GTK_WIDGET(self->search)); }

static void on_row_activated(GtkListBox *list, GtkListBoxRow *row, LlPalette *self)
{
  g_signal_emit(self, signals[SIGNAL_BLOCK_ACTIVATED], 0, row_desc(row)->type);
}

static GdkContentProvider *drag_prepare(GtkDragSource *source, double x, double y,
                                        GtkListBoxRow *row)
{
  return gdk_content_provider_new_typed(G_TYPE_STRING, row_desc(row)->type);
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

static void ll_palette_finalize(GObject *object)
{
  g_free(LL_PALETTE(object)->shown_for);
  G_OBJECT_CLASS(ll_palette_parent_class)->finalize(object);
}

static void ll_palette_class_init(LlPaletteClass *klass)
{
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = ll_palette_finalize;
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-palette.ui");
  gtk_widget_class_bind_template_child(wc, LlPalette, search);
  gtk_widget_class_bind_template_child(wc, LlPalette, list);
  gtk_widget_class_bind_template_callback(wc, on_search_changed);
  gtk_widget_class_bind_template_callback(wc, on_row_activated);
  gtk_widget_class_bind_template_callback(wc, on_search_activate);
  gtk_widget_class_install_action(wc, "palette.next-match", NULL, next_match);
  gtk_widget_class_install_action(wc, "palette.previous-match", NULL, previous_match);
  signals[SIGNAL_BLOCK_ACTIVATED] =
      g_signal_new("block-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                   NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void ll_palette_init(LlPalette *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
  int n;
  const LlBlockDesc *const *reg = ll_block_registry(&n);
  for (int i = 0; i < n; i++) { /* the list's sort function orders them */
    GtkWidget *label = gtk_label_new(reg[i]->type);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    GtkWidget *row = gtk_list_box_row_new();
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
    gtk_widget_set_tooltip_text(row, reg[i]->help);
    g_object_set_data(G_OBJECT(row), "ll-desc", (gpointer)reg[i]);
    GtkDragSource *src = gtk_drag_source_new();
    gtk_drag_source_set_actions(src, GDK_ACTION_COPY);
    g_signal_connect(src, "prepare", G_CALLBACK(drag_prepare), row);
    gtk_widget_add_controller(row, GTK_EVENT_CONTROLLER(src));
    gtk_list_box_append(self->list, row);
  }
  gtk_list_box_set_filter_func(self->list, filter, self, NULL);
  gtk_list_box_set_sort_func(self->list, sort, self, NULL);
  gtk_list_box_set_header_func(self->list, header, self, NULL);
  /* Up and Down in the search move between the matches (captured before the
   * entry's own handling of the keys) */
  GtkEventController *keys = gtk_shortcut_controller_new();
  gtk_event_controller_set_name(keys, LL_KEYS_CONTROLLER);
  gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
  gtk_shortcut_controller_add_shortcut(
      GTK_SHORTCUT_CONTROLLER(keys), gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_Down, 0),
                                                      gtk_named_action_new("palette.next-match")));
  gtk_shortcut_controller_add_shortcut(
      GTK_SHORTCUT_CONTROLLER(keys),
      gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_Up, 0),
                       gtk_named_action_new("palette.previous-match")));
  gtk_widget_add_controller(GTK_WIDGET(self->search), keys);
}
