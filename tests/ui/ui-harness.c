/* ui-harness.c: see ui-harness.h. */
#include "ui-harness.h"

#include <glib/gstdio.h>
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

void ll_ui_screenshot(GtkWidget *w, const char *name)
{
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *p = gtk_widget_paintable_new(w);
  GtkSnapshot *s = gtk_snapshot_new();
  gdk_paintable_snapshot(p, s, width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(s);
  g_assert_nonnull(node);
  GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(w));
  GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  const char *dir = g_getenv("LL_SCREENSHOT_DIR");
  g_autofree char *path = g_build_filename(dir ? dir : ".", name, NULL);
  g_assert_true(gdk_texture_save_to_png(t, path));
  g_test_message("screenshot: %s", path);
  g_object_unref(t);
  gsk_render_node_unref(node);
  g_object_unref(p);
}

void ll_ui_open_preset(LlWindow *win, const char *name)
{
  g_autoptr(GPtrArray) presets = ll_presets_list();
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *base = g_path_get_basename(presets->pdata[i]);
    if (g_str_has_prefix(base, name) && base[strlen(name)] == '.') {
      g_action_group_activate_action(G_ACTION_GROUP(win), "open-path",
                                     g_variant_new_string(presets->pdata[i]));
      ll_ui_spin(50);
      return;
    }
  }
  g_error("no preset %s", name);
}
