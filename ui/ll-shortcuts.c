/* ll-shortcuts.c: see ll-shortcuts.h. */
#include "ll-shortcuts.h"

static const LlAccel accels[] = {
    {"win.new", {"<Control>n"}},
    {"win.open", {"<Control>o"}},
    {"win.save", {"<Control>s"}},
    {"win.save-as", {"<Shift><Control>s"}},
    {"win.undo", {"<Control>z"}},
    {"win.redo", {"<Shift><Control>z", "<Control>y"}},
    {"win.train-start", {"F5"}},
    {"win.train-stop", {"<Shift>F5"}},
    {"win.zoom-in", {"<Control>plus", "<Control>equal", "<Control>KP_Add"}},
    {"win.zoom-out", {"<Control>minus", "<Control>KP_Subtract"}},
    {"win.zoom-reset", {"<Control>0"}},
    {"win.init-from-run", {"<Control>i"}},
    {"win.search-blocks", {"<Control>f"}},
    {"win.show-shortcuts", {"<Control>question"}},
    {"app.quit", {"<Control>q"}},
};

const LlAccel *ll_shortcuts_accels(guint *n)
{
  *n = G_N_ELEMENTS(accels);
  return accels;
}

void ll_shortcuts_install(GtkApplication *app)
{
  for (guint i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(app, accels[i].action, accels[i].accels);
}

GtkWindow *ll_shortcuts_window_new(GtkWindow *parent)
{
  g_autoptr(GtkBuilder) b =
      gtk_builder_new_from_resource("/org/layerlab/LayerLab/ui/ll-shortcuts.ui");
  /* a toplevel belongs to GTK's list of windows, not to the builder */
  GtkWindow *w = GTK_WINDOW(gtk_builder_get_object(b, "shortcuts"));
  gtk_window_set_transient_for(w, parent);
  gtk_window_set_modal(w, TRUE);
  gtk_window_set_destroy_with_parent(w, TRUE);
  return w;
}
