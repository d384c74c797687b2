/* ll-canvas.h: the graph editor. Blocks are boxes with an input port on top
 * and an output port below, showing name, type, key properties and output
 * shape; a block in error is drawn red with its message. Drag a block to
 * move it, drag from an output port to a block to connect, drag from a
 * connected input port to pick its wire up; click or rubber-band to select;
 * Ctrl+scroll zooms, scroll, middle-drag or Space+drag pans. Block types
 * dropped from the palette (a string) are added where they fall, or, dropped
 * onto a wire (highlighted while the drag is over it), spliced into it. */
#pragma once

#include <gtk/gtk.h>

#include "ll-document.h"

G_BEGIN_DECLS

#define LL_TYPE_CANVAS (ll_canvas_get_type())
G_DECLARE_FINAL_TYPE(LlCanvas, ll_canvas, LL, CANVAS, GtkWidget)

GtkWidget *ll_canvas_new(void);
void ll_canvas_set_document(LlCanvas *self, LlDocument *doc);
/* The selected block names (NULL-terminated, may be empty). */
GStrv ll_canvas_get_selection(LlCanvas *self);
/* The block the inspector shows: the last one selected, or NULL. */
const char *ll_canvas_get_primary(LlCanvas *self);
void ll_canvas_select(LlCanvas *self, const char *const *names);
void ll_canvas_zoom_by(LlCanvas *self, double factor);
void ll_canvas_zoom_reset(LlCanvas *self);
void ll_canvas_zoom_to_fit(LlCanvas *self);
double ll_canvas_get_zoom(LlCanvas *self);
/* How many times the blocks and wires were drawn afresh (for tests: a
 * resize, pan or zoom moves the last drawing instead). */
guint ll_canvas_get_n_scene_draws(LlCanvas *self);
/* Canvas units to widget coordinates. */
void ll_canvas_to_widget(LlCanvas *self, double cx, double cy, double *wx, double *wy);
/* Where a new block goes: below the selection, or the view's centre (canvas units). */
void ll_canvas_get_insert_point(LlCanvas *self, double *x, double *y);
/* Moves (x, y), a new block's corner in canvas units, to the nearest spot
 * where it overlaps no block (drops and insertions use it). */
void ll_canvas_free_spot(LlCanvas *self, double *x, double *y);
/* The wire a palette drag is over, by its consumer and input port (NULL
 * when none): the one drawn highlighted. */
const char *ll_canvas_get_drop_edge(LlCanvas *self, int *input);

G_END_DECLS
