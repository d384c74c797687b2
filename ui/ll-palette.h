/* ll-palette.h: every registered block type, grouped by category, with a
 * search entry. Rows are drag sources (the type name, as a string) and a
 * double-click emits "block-activated" with the type, as Enter in the search
 * does with the highlighted match. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LL_TYPE_PALETTE (ll_palette_get_type())
G_DECLARE_FINAL_TYPE(LlPalette, ll_palette, LL, PALETTE, GtkBox)

GtkWidget *ll_palette_new(void);
/* Rows shown under the current search (for tests). */
guint ll_palette_count_visible(LlPalette *self);
void ll_palette_set_search(LlPalette *self, const char *text);
/* The match that Enter in the search adds: the highlighted row, or the best
 * match (exact, then prefix, then substring of the type; then category and
 * help); NULL when nothing matches. */
const char *ll_palette_get_match(LlPalette *self);
/* Up (-1) and Down (+1) in the search: the highlighted match moves. */
void ll_palette_move_match(LlPalette *self, int delta);
void ll_palette_focus_search(LlPalette *self);

G_END_DECLS
