/* ui-harness.c: see ui-harness.h. */
#include "ui-harness.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static gboolean noop(gpointer data) { return G_SOURCE_CONTINUE; }

/* Xvfb has no session bus: GTK's complaints about it are not failures. */
static gboolean fatal_filter(const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data)
{
  return !(strstr(message, "session bus") || strstr(message, "dbus"));
}

LlWindow *ll_ui_start(int *argc, char ***argv, const char *name)
{
  if (*argc > 1 && !strcmp((*argv)[1], "--skip"))
    return NULL; /* no xvfb-run: meson reports the test as skipped */
  /* every XDG folder in a fresh temporary home: autosave, recent files, the run store */
  g_autofree char *tmpl = g_strdup_printf("layerlab-%s-XXXXXX", name);
  g_autofree char *home = g_dir_make_tmp(tmpl, NULL);
  g_assert_nonnull(home);
  const char *vars[] = {"XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"};
  for (guint i = 0; i < G_N_ELEMENTS(vars); i++) {
    g_autofree char *d = g_build_filename(home, vars[i], NULL);
    g_mkdir_with_parents(d, 0700);
    g_setenv(vars[i], d, TRUE);
  }
  g_setenv("HOME", home, TRUE);
  /* settings in memory: a file chooser stores its state, and Xvfb has no dconf */
  g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
  g_test_init(argc, argv, NULL);
  g_test_log_set_fatal_handler(fatal_filter, NULL);
  g_setenv("GTK_A11Y", "none", TRUE); /* the AT-SPI bridge wants a session bus */
  if (!gtk_init_check())
    return NULL;
  g_timeout_add(10, noop, NULL); /* the main loop never blocks for long */
  LlWindow *win = ll_window_new(NULL);
  /* the application's style sheet, as `layerlab` loads it, for the screenshots */
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, "/org/layerlab/LayerLab/style.css");
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
  g_autofree char *store = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  ll_window_set_store_root(win, store);
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
  gtk_window_present(GTK_WINDOW(win));
  ll_ui_spin(300);
  return win;
}

gboolean ll_ui_wait_for(gboolean (*cond)(void), int timeout_ms)
{
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!(cond && cond()) && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, TRUE);
  return cond ? cond() : TRUE;
}

void ll_ui_spin(int ms) { ll_ui_wait_for(NULL, ms); }

gboolean ll_ui_wait_for_figure_draw(LlStudyView *sv, const char *page, guint draws0,
                                    int timeout_ms)
{
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (ll_study_view_figure_draws(sv, page) <= draws0 && g_get_monotonic_time() < end)
    ll_ui_spin(20);
  return ll_study_view_figure_draws(sv, page) > draws0;
}

GdkTexture *ll_ui_render(GtkWidget *w)
{
  /* a widget that waits for its next layout (a frame late on a loaded
   * machine) has nothing to render yet: give it the frames it needs */
  GskRenderNode *node = NULL;
  int width = 0, height = 0;
  for (int tries = 0; !node && tries < 100; tries++) {
    if (tries)
      ll_ui_spin(50);
    width = gtk_widget_get_width(w);
    height = gtk_widget_get_height(w);
    GdkPaintable *p = gtk_widget_paintable_new(w);
    GtkSnapshot *s = gtk_snapshot_new();
    gdk_paintable_snapshot(p, s, width, height);
    node = gtk_snapshot_free_to_node(s);
    g_object_unref(p);
  }
  g_assert_nonnull(node);
  GskRenderer *r = gtk_native_get_renderer(gtk_widget_get_native(w));
  GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  gsk_render_node_unref(node);
  return t;
}

static char *screenshot_path(const char *name)
{
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  return g_build_filename(dir ? dir : ".", name, NULL);
}

void ll_ui_screenshot(GtkWidget *w, const char *name)
{
  GdkTexture *t = ll_ui_render(w);
  g_autofree char *path = screenshot_path(name);
  g_assert_true(gdk_texture_save_to_png(t, path));
  g_test_message("screenshot: %s", path);
  g_object_unref(t);
}

static cairo_surface_t *to_surface(GdkTexture *t)
{
  int w = gdk_texture_get_width(t), h = gdk_texture_get_height(t);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_surface_flush(s);
  gdk_texture_download(t, cairo_image_surface_get_data(s), cairo_image_surface_get_stride(s));
  cairo_surface_mark_dirty(s);
  return s;
}

void ll_ui_screenshot_over(GtkWidget *base, GtkWidget *top, const char *name)
{
  GdkTexture *tb = ll_ui_render(base), *tt = ll_ui_render(top);
  cairo_surface_t *sb = to_surface(tb), *st = to_surface(tt);
  cairo_t *cr = cairo_create(sb);
  /* a modal dialog dims what it covers a little, as a window manager would show it */
  cairo_set_source_rgba(cr, 0, 0, 0, 0.25);
  cairo_paint(cr);
  double x = (gdk_texture_get_width(tb) - gdk_texture_get_width(tt)) / 2.0;
  double y = (gdk_texture_get_height(tb) - gdk_texture_get_height(tt)) / 3.0;
  cairo_set_source_surface(cr, st, floor(MAX(x, 0)), floor(MAX(y, 0)));
  cairo_paint(cr);
  cairo_destroy(cr);
  g_autofree char *path = screenshot_path(name);
  g_assert_cmpint(cairo_surface_write_to_png(sb, path), ==, CAIRO_STATUS_SUCCESS);
  g_test_message("screenshot: %s", path);
  cairo_surface_destroy(sb);
  cairo_surface_destroy(st);
  g_object_unref(tb);
  g_object_unref(tt);
}

void ll_ui_set_dark(gboolean dark)
{
  static GtkCssProvider *css;
  if (!css) {
    css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css, "/org/layerlab/LayerLab/style-dark.css");
  }
  g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", dark, NULL);
  if (dark)
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
  else
    gtk_style_context_remove_provider_for_display(gdk_display_get_default(),
                                                  GTK_STYLE_PROVIDER(css));
}

GtkWidget *ll_ui_find_button(GtkWidget *root, const char *label)
{
  if (GTK_IS_BUTTON(root) && !g_strcmp0(gtk_button_get_label(GTK_BUTTON(root)), label))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *b = ll_ui_find_button(c, label);
    if (b)
      return b;
  }
  return NULL;
}

gboolean ll_ui_answer_save_prompt(LlWindow *win, const char *label)
{
  GtkWindow *prompt = ll_window_get_save_prompt(win);
  if (!prompt)
    return FALSE;
  GtkWidget *b = ll_ui_find_button(GTK_WIDGET(prompt), label);
  g_assert_nonnull(b);
  g_signal_emit_by_name(b, "clicked");
  ll_ui_spin(20);
  return TRUE;
}

void ll_ui_open_preset(LlWindow *win, const char *name)
{
  g_autoptr(GPtrArray) presets = ll_presets_list();
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *base = g_path_get_basename(presets->pdata[i]);
    if (g_str_has_prefix(base, name) && base[strlen(name)] == '.') {
      g_action_group_activate_action(G_ACTION_GROUP(win), "open-path",
                                     g_variant_new_string(presets->pdata[i]));
      ll_ui_answer_save_prompt(win, "_Discard"); /* the edits of the test before */
      ll_ui_spin(50);
      return;
    }
  }
  g_error("no preset %s", name);
}

GtkDropTarget *ll_ui_drop_target(GtkWidget *w)
{
  GListModel *cs = gtk_widget_observe_controllers(w);
  GtkDropTarget *t = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(cs) && !t; i++) {
    GtkEventController *c = g_list_model_get_item(cs, i);
    if (GTK_IS_DROP_TARGET(c))
      t = GTK_DROP_TARGET(c);
    g_object_unref(c);
  }
  g_object_unref(cs);
  return t;
}

void ll_ui_shorten(LlWindow *win, int limit_train, int limit_test)
{
  LlSpec *s = ll_document_get_spec(ll_window_get_document(win));
  s->dataset.limit_train = limit_train;
  s->dataset.limit_test = limit_test;
  s->epochs = 1;
  s->batch_size = 64;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(ll_window_get_document(win));
}
