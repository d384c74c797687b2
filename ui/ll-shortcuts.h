/* ll-shortcuts.h: the window's keyboard accelerators in one table, set on
 * the application, and the shortcuts window (Ctrl+?) that lists them.
 *
 * Keys that belong to one widget rather than to an action of the window
 * (Delete on the canvas, the arrows in the palette's search) live in that
 * widget's GtkShortcutController named LL_KEYS_CONTROLLER; a test holds every
 * accelerator of both kinds against resources/ui/ll-shortcuts.ui. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LL_KEYS_CONTROLLER "ll-keys"

typedef struct {
  const char *action;    /* "win.save" */
  const char *accels[4]; /* NULL-terminated */
} LlAccel;

const LlAccel *ll_shortcuts_accels(guint *n);
void ll_shortcuts_install(GtkApplication *app);
/* A new shortcuts window for parent (from resources/ui/ll-shortcuts.ui). */
GtkWindow *ll_shortcuts_window_new(GtkWindow *parent);

G_END_DECLS
