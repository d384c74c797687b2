/* ll-application.c: the GtkApplication: app actions (style, about, quit),
 * keyboard accelerators, CSS, and one workbench window per activation. */
#include "ll-application.h"

#include <gtk/gtk.h>

#include "ll-shortcuts.h"
#include "ll-document.h"
#include "ll-window.h"

static GtkCssProvider *dark_css;

static gboolean system_prefers_dark(void)
{
  /* GTK 4.8 has no colour-scheme API of its own; GNOME's setting is the
   * system preference when its schema is installed. */
  GSettingsSchemaSource *src = g_settings_schema_source_get_default();
  g_autoptr(GSettingsSchema) schema =
      src ? g_settings_schema_source_lookup(src, "org.gnome.desktop.interface", TRUE) : NULL;
  if (!schema || !g_settings_schema_has_key(schema, "color-scheme"))
    return FALSE;
  g_autoptr(GSettings) s = g_settings_new("org.gnome.desktop.interface");
  g_autofree char *scheme = g_settings_get_string(s, "color-scheme");
  return !g_strcmp0(scheme, "prefer-dark");
}

static void apply_style(const char *style)
{
  gboolean dark =
      !g_strcmp0(style, "dark") || (!g_strcmp0(style, "system") && system_prefers_dark());
  g_object_set(gtk_settings_get_default(), "gtk-application-prefer-dark-theme", dark, NULL);
  GdkDisplay *display = gdk_display_get_default();
  if (!dark_css) {
    dark_css = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(dark_css, "/org/layerlab/LayerLab/style-dark.css");
  }
  if (dark)
    gtk_style_context_add_provider_for_display(display, GTK_STYLE_PROVIDER(dark_css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
  else
    gtk_style_context_remove_provider_for_display(display, GTK_STYLE_PROVIDER(dark_css));
}

static void change_style(GSimpleAction *a, GVariant *value, gpointer app)
{
  g_simple_action_set_state(a, value);
  apply_style(g_variant_get_string(value, NULL));
}

static void act_about(GSimpleAction *a, GVariant *p, gpointer app)
{
  static const char *authors[] = {"The LayerLab developers", NULL};
  gtk_show_about_dialog(gtk_application_get_active_window(app), "program-name", "LayerLab",
                        "version", LL_VERSION, "comments",
                        "Build neural networks from blocks, train them, and inspect what they "
                        "learn.",
                        "license-type", GTK_LICENSE_MIT_X11, "authors", authors, NULL);
}

static void act_quit(GSimpleAction *a, GVariant *p, gpointer app) { ll_window_close_all(app); }

static const GActionEntry app_actions[] = {
    {"style", NULL, "s", "'system'", change_style},
    {"about", act_about},
    {"quit", act_quit},
};

static void startup(GApplication *app)
{
  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
  ll_shortcuts_install(GTK_APPLICATION(app));
  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, "/org/layerlab/LayerLab/style.css");
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
  apply_style("system");
}

static void activate(GApplication *app)
{
  LlWindow *win = ll_window_new(GTK_APPLICATION(app));
  ll_window_restore_autosave(win);
  gtk_window_present(GTK_WINDOW(win));
  /* each other window's unsaved work comes back in a window of its own */
  g_autoptr(GPtrArray) left = ll_document_list_autosaves();
  for (guint i = 0; i < left->len; i++) {
    LlWindow *w = ll_window_new(GTK_APPLICATION(app));
    if (!ll_window_restore_autosave(w)) {
      gtk_window_destroy(GTK_WINDOW(w));
      break;
    }
    gtk_window_present(GTK_WINDOW(w));
  }
}

static void open_files(GApplication *app, GFile **files, int n, const char *hint)
{
  for (int i = 0; i < n; i++) {
    LlWindow *win = ll_window_new(GTK_APPLICATION(app));
    g_autofree char *path = g_file_get_path(files[i]);
    g_autoptr(GError) error = NULL;
    if (path && !ll_window_open_file(win, path, &error))
      g_printerr("layerlab: %s\n", error->message);
    gtk_window_present(GTK_WINDOW(win));
  }
}

int ll_application_run(int argc, char **argv)
{
  g_set_application_name("LayerLab");
  g_autoptr(GtkApplication) app =
      gtk_application_new("org.layerlab.LayerLab", G_APPLICATION_HANDLES_OPEN);
  g_signal_connect(app, "startup", G_CALLBACK(startup), NULL);
  g_signal_connect(app, "activate", G_CALLBACK(activate), NULL);
  g_signal_connect(app, "open", G_CALLBACK(open_files), NULL);
  return g_application_run(G_APPLICATION(app), argc, argv);
}
