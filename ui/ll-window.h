/* ll-window.h: the workbench window: palette, canvas, inspector, summary,
 * training panel and live curves around one LlDocument. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LL_TYPE_WINDOW (ll_window_get_type())
G_DECLARE_FINAL_TYPE(LlWindow, ll_window, LL, WINDOW, GtkApplicationWindow)

LlWindow *ll_window_new(GtkApplication *app);
/* Quit: closes every window of app; each asks about its unsaved edits and its
 * training run first, and stays open when the user cancels. */
void ll_window_close_all(GtkApplication *app);
gboolean ll_window_open_file(LlWindow *self, const char *path, GError **error);
/* Restores the newest autosave that no open window and no running LayerLab
 * owns (ll_document_list_autosaves), if any; returns whether it did. */
gboolean ll_window_restore_autosave(LlWindow *self);
/* The presets folder in use (installed, or the source tree's when run uninstalled). */
GPtrArray *ll_presets_list(void); /* char*: full paths, sorted by name */

G_END_DECLS
