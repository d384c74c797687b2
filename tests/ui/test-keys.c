/* test-keys.c: the workbench without a mouse. The shortcuts window lists
 * every accelerator the application and its widgets set; the palette's
 * search ranks the type itself and prefixes first, Up and Down move between
 * the matches and Enter adds one after the selection, connected; on the
 * canvas Up, Down and Ctrl+A select blocks for Delete and Copy; F6 visits
 * palette, canvas, side panel and bottom tabs; every action of the main menu
 * and the header bar has a key or sits in the main menu (F10). Screenshots
 * of the shortcuts window, light and dark, go to $LL_SCREENSHOT_DIR. */
#include <gtk/gtk.h>
#include <string.h>

#include "ll-shortcuts.h"
#include "ui-harness.h"

static LlWindow *win;

static void activate(const char *action, GVariant *param)
{
  g_action_group_activate_action(G_ACTION_GROUP(win), action, param);
}

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }

/* The first descendant of root of type t (root included). */
static GtkWidget *find_type(GtkWidget *root, GType t)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE(root, t))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *w = find_type(c, t);
    if (w)
      return w;
  }
  return NULL;
}

/* keyval and modifiers of an accelerator, as "<Control>z" parses */
typedef struct {
  guint key;
  GdkModifierType mods;
} Key;

static gboolean parse_key(const char *accel, Key *k)
{
  if (!gtk_accelerator_parse(accel, &k->key, &k->mods))
    return FALSE;
  k->key = gdk_keyval_to_lower(k->key);
  return TRUE;
}

/* Every accelerator of every GtkShortcutsShortcut under root. */
static void listed_keys(GtkWidget *root, GArray *out)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT(root)) {
    g_autofree char *accel = NULL;
    g_object_get(root, "accelerator", &accel, NULL);
    g_auto(GStrv) parts = g_strsplit(accel ? accel : "", " ", -1);
    for (guint i = 0; parts[i]; i++) {
      Key k;
      if (*parts[i] && parse_key(parts[i], &k))
        g_array_append_val(out, k);
    }
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c))
    listed_keys(c, out);
}

static gboolean listed(GArray *keys, const char *accel)
{
  Key k;
  g_assert_true(parse_key(accel, &k));
  for (guint i = 0; i < keys->len; i++) {
    Key *l = &g_array_index(keys, Key, i);
    if (l->key == k.key && l->mods == k.mods)
      return TRUE;
  }
  return FALSE;
}

/* The triggers of every "ll-keys" controller under root, as accelerator text. */
static void widget_keys(GtkWidget *root, GPtrArray *out)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(root);
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(controllers, i);
    if (!GTK_IS_SHORTCUT_CONTROLLER(c) ||
        g_strcmp0(gtk_event_controller_get_name(c), LL_KEYS_CONTROLLER))
      continue;
    for (guint j = 0; j < g_list_model_get_n_items(G_LIST_MODEL(c)); j++) {
      g_autoptr(GtkShortcut) s = g_list_model_get_item(G_LIST_MODEL(c), j);
      GtkShortcutTrigger *t = gtk_shortcut_get_trigger(s);
      g_assert_true(GTK_IS_KEYVAL_TRIGGER(t));
      g_ptr_array_add(
          out, gtk_accelerator_name(gtk_keyval_trigger_get_keyval(GTK_KEYVAL_TRIGGER(t)),
                                    gtk_keyval_trigger_get_modifiers(GTK_KEYVAL_TRIGGER(t))));
    }
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c))
    widget_keys(c, out);
}

static GtkWindow *shortcuts_window(void)
{
  GListModel *tops = gtk_window_get_toplevels(); /* GTK's own */
  for (guint i = 0; i < g_list_model_get_n_items(tops); i++) {
    g_autoptr(GtkWindow) w = g_list_model_get_item(tops, i);
    if (GTK_IS_SHORTCUTS_WINDOW(w) && gtk_widget_get_visible(GTK_WIDGET(w)))
      return w;
  }
  return NULL;
}

static void test_shortcuts_window(void)
{
  activate("show-shortcuts", NULL);
  ll_ui_spin(300);
  GtkWindow *sw = shortcuts_window();
  g_assert_nonnull(sw);
  g_assert_true(gtk_window_get_transient_for(sw) == GTK_WINDOW(win));
  g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(Key));
  listed_keys(GTK_WIDGET(sw), keys);
  g_test_message("the shortcuts window lists %u keys", keys->len);
  /* every accelerator the application sets, for an action the window has */
  guint n;
  const LlAccel *accels = ll_shortcuts_accels(&n);
  for (guint i = 0; i < n; i++) {
    if (g_str_has_prefix(accels[i].action, "win."))
      g_assert_true(g_action_group_has_action(G_ACTION_GROUP(win), accels[i].action + 4));
    for (guint j = 0; accels[i].accels[j]; j++) {
      if (!listed(keys, accels[i].accels[j]))
        g_error("%s (%s) is not in the shortcuts window", accels[i].accels[j], accels[i].action);
    }
  }
  /* and every key a widget of the window binds itself */
  g_autoptr(GPtrArray) own = g_ptr_array_new_with_free_func(g_free);
  widget_keys(GTK_WIDGET(win), own);
  g_assert_cmpuint(own->len, >=, 11); /* canvas 7, F6 2, palette 2 */
  for (guint i = 0; i < own->len; i++)
    if (!listed(keys, own->pdata[i]))
      g_error("%s is not in the shortcuts window", (char *)own->pdata[i]);
  /* the menu button (F10) and the palette's Enter are GTK's own keys: listed too */
  g_assert_true(listed(keys, "F10"));
  g_assert_true(listed(keys, "Return"));

  for (int dark = 0; dark < 2; dark++) {
    ll_ui_set_dark(dark);
    ll_ui_spin(300);
    ll_ui_screenshot(GTK_WIDGET(sw), dark ? "shortcuts-dark.png" : "shortcuts.png");
  }
  ll_ui_set_dark(FALSE);
  gtk_window_destroy(sw);
  ll_ui_spin(50);
}

static GtkWidget *search_entry(void)
{
  GtkWidget *e = find_type(GTK_WIDGET(ll_window_get_palette(win)), GTK_TYPE_SEARCH_ENTRY);
  g_assert_nonnull(e);
  return e;
}

/* The named action a trigger of the search's "ll-keys" controller runs. */
static const char *search_key_action(guint keyval)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(search_entry());
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(controllers, i);
    if (!GTK_IS_SHORTCUT_CONTROLLER(c) ||
        g_strcmp0(gtk_event_controller_get_name(c), LL_KEYS_CONTROLLER))
      continue;
    /* captured: the entry's text field would take Up and Down first */
    g_assert_cmpint(gtk_event_controller_get_propagation_phase(c), ==, GTK_PHASE_CAPTURE);
    for (guint j = 0; j < g_list_model_get_n_items(G_LIST_MODEL(c)); j++) {
      g_autoptr(GtkShortcut) s = g_list_model_get_item(G_LIST_MODEL(c), j);
      GtkShortcutTrigger *t = gtk_shortcut_get_trigger(s);
      if (GTK_IS_KEYVAL_TRIGGER(t) &&
          gtk_keyval_trigger_get_keyval(GTK_KEYVAL_TRIGGER(t)) == keyval)
        return gtk_named_action_get_action_name(GTK_NAMED_ACTION(gtk_shortcut_get_action(s)));
    }
  }
  return NULL;
}

static void test_palette(void)
{
  g_autofree char *tiny = NULL;
  g_autoptr(GPtrArray) presets = ll_presets_list();
  for (guint i = 0; i < presets->len; i++)
    if (g_str_has_suffix(presets->pdata[i], "/tiny-cnn.json"))
      tiny = g_strdup(presets->pdata[i]);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_window_open_file(win, tiny, &error));
  LlPalette *pal = ll_window_get_palette(win);
  /* the type itself first, then prefixes, then the rest */
  ll_palette_set_search(pal, "relu");
  g_assert_cmpstr(ll_palette_get_match(pal), ==, "ReLU");
  ll_palette_set_search(pal, "Linear");
  g_assert_cmpstr(ll_palette_get_match(pal), ==, "Linear");
  ll_palette_set_search(pal, "conv");
  g_assert_true(g_str_has_prefix(ll_palette_get_match(pal), "Conv"));
  /* nothing typed: Enter adds nothing */
  ll_palette_set_search(pal, "");
  g_assert_null(ll_palette_get_match(pal));
  ll_palette_set_search(pal, "no such block");
  g_assert_null(ll_palette_get_match(pal));

  /* Down and Up in the search move between the matches */
  g_assert_cmpstr(search_key_action(GDK_KEY_Down), ==, "palette.next-match");
  g_assert_cmpstr(search_key_action(GDK_KEY_Up), ==, "palette.previous-match");
  ll_palette_set_search(pal, "relu");
  g_assert_true(gtk_widget_activate_action(GTK_WIDGET(pal), "palette.next-match", NULL));
  const char *second = ll_palette_get_match(pal);
  g_assert_cmpstr(second, !=, "ReLU");
  g_assert_nonnull(strstr(second, "ReLU")); /* LeakyReLU: a substring match after the exact one */
  g_assert_true(gtk_widget_activate_action(GTK_WIDGET(pal), "palette.previous-match", NULL));
  g_assert_cmpstr(ll_palette_get_match(pal), ==, "ReLU");
  g_assert_true(gtk_widget_activate_action(GTK_WIDGET(pal), "palette.previous-match", NULL));
  g_assert_cmpstr(ll_palette_get_match(pal), ==, "ReLU"); /* stays on the first */

  /* Enter: the match goes after the selected block, connected, and is selected */
  const char *one[] = {"gap", NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
  guint n0 = graph()->blocks->len;
  GtkWidget *entry = search_entry();
  ll_palette_set_search(pal, "drop");
  g_signal_emit_by_name(entry, "activate");
  g_assert_cmpuint(graph()->blocks->len, ==, n0 + 1);
  const char *added = ll_canvas_get_primary(ll_window_get_canvas(win));
  LlBlock *b = ll_graph_find(graph(), added);
  g_assert_cmpstr(b->desc->type, ==, "Dropout");
  g_assert_cmpint(b->n_inputs, ==, 1);
  g_assert_cmpstr(b->input_names[0], ==, "gap");
  /* the text stays, selected: the next name typed replaces it */
  g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(entry)), ==, "drop");
  int start, end;
  g_assert_true(gtk_editable_get_selection_bounds(GTK_EDITABLE(entry), &start, &end));
  g_assert_cmpint(end - start, ==, 4);
  /* typed and entered at once, before the search's own delay has passed */
  g_autofree char *first = g_strdup(added);
  gtk_editable_set_text(GTK_EDITABLE(entry), "relu");
  g_signal_emit_by_name(entry, "activate");
  const char *relu = ll_canvas_get_primary(ll_window_get_canvas(win));
  b = ll_graph_find(graph(), relu);
  g_assert_cmpstr(b->desc->type, ==, "ReLU");
  g_assert_cmpstr(b->input_names[0], ==, first);
  ll_palette_set_search(pal, "");
}

/* The named action the canvas's "ll-keys" controller runs for keyval. */
static const char *canvas_key_action(guint keyval, GdkModifierType mods)
{
  g_autoptr(GListModel) controllers =
      gtk_widget_observe_controllers(GTK_WIDGET(ll_window_get_canvas(win)));
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(controllers, i);
    if (!GTK_IS_SHORTCUT_CONTROLLER(c) ||
        g_strcmp0(gtk_event_controller_get_name(c), LL_KEYS_CONTROLLER))
      continue;
    for (guint j = 0; j < g_list_model_get_n_items(G_LIST_MODEL(c)); j++) {
      g_autoptr(GtkShortcut) s = g_list_model_get_item(G_LIST_MODEL(c), j);
      GtkKeyvalTrigger *t = GTK_KEYVAL_TRIGGER(gtk_shortcut_get_trigger(s));
      if (gtk_keyval_trigger_get_keyval(t) == keyval && gtk_keyval_trigger_get_modifiers(t) == mods)
        return gtk_named_action_get_action_name(GTK_NAMED_ACTION(gtk_shortcut_get_action(s)));
    }
  }
  return NULL;
}

/* Blocks are picked, deleted and restored from the keyboard alone. */
static void test_canvas(void)
{
  g_assert_cmpstr(canvas_key_action(GDK_KEY_Down, 0), ==, "win.select-next-block");
  g_assert_cmpstr(canvas_key_action(GDK_KEY_Up, 0), ==, "win.select-previous-block");
  g_assert_cmpstr(canvas_key_action(GDK_KEY_a, GDK_CONTROL_MASK), ==, "win.select-all");
  g_assert_cmpstr(canvas_key_action(GDK_KEY_Delete, 0), ==, "win.delete");
  LlCanvas *canvas = ll_window_get_canvas(win);
  ll_canvas_select(canvas, NULL);
  activate("select-next-block", NULL); /* nothing selected: the first block */
  g_assert_cmpstr(ll_canvas_get_primary(canvas), ==, "image");
  activate("select-next-block", NULL); /* along the wire */
  g_autofree char *second = g_strdup(ll_canvas_get_primary(canvas));
  LlBlock *b = ll_graph_find(graph(), second);
  g_assert_cmpstr(b->input_names[0], ==, "image");
  activate("select-previous-block", NULL);
  g_assert_cmpstr(ll_canvas_get_primary(canvas), ==, "image");
  activate("select-previous-block", NULL); /* the input has no input: it stays */
  g_assert_cmpstr(ll_canvas_get_primary(canvas), ==, "image");
  activate("select-next-block", NULL);
  activate("delete", NULL);
  g_assert_null(ll_graph_find(graph(), second));
  activate("undo", NULL);
  g_assert_nonnull(ll_graph_find(graph(), second));
  guint n = graph()->blocks->len;
  activate("select-all", NULL);
  g_auto(GStrv) all = ll_canvas_get_selection(canvas);
  g_assert_cmpuint(g_strv_length(all), ==, n);
  activate("delete", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, 0);
  activate("undo", NULL);
  g_assert_cmpuint(graph()->blocks->len, ==, n);
}

static void test_f6(void)
{
  static const char *const names[] = {"palette", "canvas", "side panel", "bottom tabs"};
  /* captured at the window, so the panes' GtkPaned does not take it first */
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(GTK_WIDGET(win));
  gboolean found = FALSE;
  for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
    g_autoptr(GtkEventController) c = g_list_model_get_item(controllers, i);
    if (GTK_IS_SHORTCUT_CONTROLLER(c) &&
        !g_strcmp0(gtk_event_controller_get_name(c), LL_KEYS_CONTROLLER)) {
      g_assert_cmpint(gtk_event_controller_get_propagation_phase(c), ==, GTK_PHASE_CAPTURE);
      found = TRUE;
    }
  }
  g_assert_true(found);
  gtk_window_set_focus(GTK_WINDOW(win), NULL);
  for (int i = 0; i < 8; i++) {
    activate("focus-next-pane", NULL);
    ll_ui_spin(20);
    g_test_message("F6: %s", names[i % 4]);
    g_assert_cmpint(ll_window_get_focus_pane(win), ==, i % 4);
  }
  /* Shift+F6 goes back, from the bottom tabs round to them again */
  static const int back[] = {2, 1, 0, 3};
  for (guint i = 0; i < G_N_ELEMENTS(back); i++) {
    activate("focus-previous-pane", NULL);
    ll_ui_spin(20);
    g_assert_cmpint(ll_window_get_focus_pane(win), ==, back[i]);
  }
  /* Ctrl+F: the palette's search */
  activate("focus-next-pane", NULL);
  activate("search-blocks", NULL);
  ll_ui_spin(20);
  g_assert_cmpint(ll_window_get_focus_pane(win), ==, 0);
}

/* Every action of a menu model, submenus and sections included. */
static void menu_actions(GMenuModel *menu, GPtrArray *out)
{
  for (int i = 0; i < g_menu_model_get_n_items(menu); i++) {
    char *action = NULL;
    if (g_menu_model_get_item_attribute(menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &action))
      g_ptr_array_add(out, action);
    g_autoptr(GMenuModel) sec = g_menu_model_get_item_link(menu, i, G_MENU_LINK_SECTION);
    g_autoptr(GMenuModel) sub = g_menu_model_get_item_link(menu, i, G_MENU_LINK_SUBMENU);
    if (sec)
      menu_actions(sec, out);
    if (sub)
      menu_actions(sub, out);
  }
}

static gboolean has_accel(const char *action)
{
  guint n;
  const LlAccel *accels = ll_shortcuts_accels(&n);
  for (guint i = 0; i < n; i++)
    if (!strcmp(accels[i].action, action))
      return TRUE;
  return FALSE;
}

static void header_actions(GtkWidget *root, GPtrArray *out)
{
  const char *action =
      GTK_IS_ACTIONABLE(root) ? gtk_actionable_get_action_name(GTK_ACTIONABLE(root)) : NULL;
  /* ours; "window.close" and "window.minimize" are the window manager's */
  if (action && (g_str_has_prefix(action, "win.") || g_str_has_prefix(action, "app."))) {
    g_assert_true(gtk_widget_get_focusable(root)); /* Tab reaches it */
    g_ptr_array_add(out, g_strdup(action));
  }
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c))
    header_actions(c, out);
}

static void test_menu_and_toolbar(void)
{
  GtkWidget *bar = gtk_window_get_titlebar(GTK_WINDOW(win));
  GtkMenuButton *mb = GTK_MENU_BUTTON(find_type(bar, GTK_TYPE_MENU_BUTTON));
  g_assert_nonnull(mb);
  g_assert_true(gtk_menu_button_get_primary(mb)); /* F10 opens it */
  g_autoptr(GPtrArray) in_menu = g_ptr_array_new_with_free_func(g_free);
  menu_actions(gtk_menu_button_get_menu_model(mb), in_menu);
  g_assert_cmpuint(in_menu->len, >=, 20);
  for (guint i = 0; i < in_menu->len; i++) {
    const char *a = in_menu->pdata[i];
    /* "win.none": the greyed "No recent specs" line */
    if (g_str_has_prefix(a, "win.") && strcmp(a, "win.none") &&
        !g_action_group_has_action(G_ACTION_GROUP(win), a + 4))
      g_error("the main menu names %s, which the window lacks", a);
  }
  g_autoptr(GPtrArray) in_bar = g_ptr_array_new_with_free_func(g_free);
  header_actions(bar, in_bar);
  g_assert_cmpuint(in_bar->len, >=, 6);
  for (guint i = 0; i < in_bar->len; i++) {
    const char *a = in_bar->pdata[i];
    gboolean menu = g_ptr_array_find_with_equal_func(in_menu, a, g_str_equal, NULL);
    if (!menu && !has_accel(a))
      g_error("%s is on the header bar but has no key and is not in the main menu", a);
  }
  /* the training actions and the shortcuts window are in the main menu */
  const char *must[] = {"win.train-start", "win.train-pause", "win.train-stop",
                        "win.show-shortcuts", "win.search-blocks"};
  for (guint i = 0; i < G_N_ELEMENTS(must); i++)
    g_assert_true(g_ptr_array_find_with_equal_func(in_menu, must[i], g_str_equal, NULL));
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "keys")))
    return 77;
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  ll_ui_spin(200);
  g_test_add_func("/ui/keys/shortcuts-window", test_shortcuts_window);
  g_test_add_func("/ui/keys/palette", test_palette);
  g_test_add_func("/ui/keys/canvas", test_canvas);
  g_test_add_func("/ui/keys/f6", test_f6);
  g_test_add_func("/ui/keys/menu-and-toolbar", test_menu_and_toolbar);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}
