/* image-grid.h: a grid of small images with captions, on a bare cairo_t.
 * One drawing for the reconstructions (input | output | error heatmap
 * rows), the sample predictions (wrong ones framed in red) and the gallery
 * of a confusion-matrix cell. Images are float, (C, H, W) with C = 1 or 3,
 * mapped from [vmin, vmax] to grey / RGB, or through a heat ramp. */
#pragma once

#include "plot-common.h"

G_BEGIN_DECLS

typedef struct LlImageGrid LlImageGrid;

typedef enum {
  LL_IMAGE_GREY_OR_RGB, /* C = 1: grey, C = 3: RGB */
  LL_IMAGE_HEAT,        /* channel mean through a black-red-yellow-white ramp */
} LlImageMap;

LlImageGrid *ll_image_grid_new(const char *title);
void ll_image_grid_free(LlImageGrid *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlImageGrid, ll_image_grid_free)

void ll_image_grid_clear(LlImageGrid *g);
void ll_image_grid_set_title(LlImageGrid *g, const char *title);
void ll_image_grid_set_stamp(LlImageGrid *g, const char *run_id);
/* cols > 0 fixes the number of columns (headers: cols strings or NULL);
 * 0 fits as many as the width allows. */
void ll_image_grid_set_columns(LlImageGrid *g, int cols, const char *const *headers);
/* A legend under the title (e.g. the red frame: "wrong prediction"). */
void ll_image_grid_set_legend(LlImageGrid *g, const LlLegendEntry *entries, int n);
/* A colour scale for the LL_IMAGE_HEAT tiles, which all map [lo, hi]:
 * a ramp with its end values and label, top right (lo >= hi: none). */
void ll_image_grid_set_heat_scale(LlImageGrid *g, double lo, double hi, const char *label);
/* A note shown when the grid is empty. */
void ll_image_grid_set_empty_text(LlImageGrid *g, const char *text);
/* Copies the image. frame_rgb NULL: no frame. Returns the tile index. */
int ll_image_grid_add(LlImageGrid *g, const float *chw, int c, int h, int w, double vmin,
                      double vmax, LlImageMap map, const char *caption, const double *frame_rgb);
int ll_image_grid_len(const LlImageGrid *g);
/* Tile i as drawn: w x h RGB bytes (g_free them), its caption (may be NULL). */
guint8 *ll_image_grid_tile_rgb(const LlImageGrid *g, int i, int *w, int *h, const char **caption);

void ll_image_grid_draw(LlImageGrid *g, cairo_t *cr, double width, double height);
/* The tile under (px, py), or -1. */
int ll_image_grid_tile_at(LlImageGrid *g, double width, double height, double px, double py);
gboolean ll_image_grid_export(LlImageGrid *g, const char *path, const char *format, double width,
                              double height, double dpi, GError **error);

G_END_DECLS
