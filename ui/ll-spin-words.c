/* ll-spin-words.c: 0 in words on a spin button. */
#include "ll-spin-words.h"

static gboolean on_output(GtkSpinButton *spin, gpointer data)
{
  if (gtk_spin_button_get_value(spin) != 0)
    return FALSE; /* the number, as usual */
  const char *words = g_object_get_data(G_OBJECT(spin), "ll-zero-words");
  if (g_strcmp0(gtk_editable_get_text(GTK_EDITABLE(spin)), words))
    gtk_editable_set_text(GTK_EDITABLE(spin), words);
  return TRUE;
}

/* Text that does not start like a number (the words, or nothing) reads as 0. */
static int on_input(GtkSpinButton *spin, double *value, gpointer data)
{
  const char *text = gtk_editable_get_text(GTK_EDITABLE(spin));
  while (g_ascii_isspace(*text))
    text++;
  if (g_ascii_isdigit(*text) || *text == '-' || *text == '+' || *text == '.')
    return FALSE;
  *value = 0;
  return TRUE;
}

void ll_spin_button_name_zero(GtkSpinButton *spin, const char *words)
{
  gboolean connected = g_object_get_data(G_OBJECT(spin), "ll-zero-words") != NULL;
  gtk_spin_button_set_numeric(spin, FALSE); /* a numeric one drops the letters */
  g_object_set_data_full(G_OBJECT(spin), "ll-zero-words", g_strdup(words), g_free);
  if (!connected) {
    g_signal_connect(spin, "output", G_CALLBACK(on_output), NULL);
    g_signal_connect(spin, "input", G_CALLBACK(on_input), NULL);
  }
  on_output(spin, NULL);
}
