/* ll-spin-words.h: a spin button whose 0 means something ("all", "off",
 * "every grid point") shows those words in place of a bare 0, and reads
 * them (or any text that is not a number) back as 0. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* words: what 0 means (copied); the spin button shows it now if its value is 0. */
void ll_spin_button_name_zero(GtkSpinButton *spin, const char *words);

G_END_DECLS
