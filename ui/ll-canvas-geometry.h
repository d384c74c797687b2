/* ll-canvas-geometry.h: the size of a block on the canvas, in canvas units
 * (pixels at zoom 1), shared by the canvas and the automatic layout. */
#pragma once

#define LL_BLOCK_W     184.0
#define LL_BLOCK_H     62.0
#define LL_BLOCK_GAP_X 28.0
#define LL_BLOCK_GAP_Y 30.0
#define LL_BAND_GAP    60.0
