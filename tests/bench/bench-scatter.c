/* Frame time of the scatter plot with 70,000 points at 1200x800: the raster
 * path (what the window draws) against the vector path (export).
 * bench-scatter [n] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "scatter-plot.h"

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 70000, k = 10, W = 1200, H = 800;
  float *xy = g_new(float, 2 * n);
  int *lab = g_new(int, n);
  for (int i = 0; i < n; i++) {
    lab[i] = i % k;
    double a = 2 * G_PI * lab[i] / k, r = 3 + sin(i * 0.37) * 2;
    xy[2 * i] = (float)(10 * cos(a) + r * cos(i * 1.3));
    xy[2 * i + 1] = (float)(10 * sin(a) + r * sin(i * 1.3));
  }
  LlScatterPlot *p = ll_scatter_plot_new("bench");
  ll_scatter_plot_set_points(p, xy, lab, n, k, NULL);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
  for (int raster = 1; raster >= 0; raster--) {
    ll_scatter_plot_set_raster(p, raster);
    int frames = 20;
    gint64 t0 = g_get_monotonic_time();
    for (int f = 0; f < frames; f++) {
      /* pan and zoom a little every frame, as a drag does */
      ll_scatter_plot_pan(p, W, H, 3, 2);
      ll_scatter_plot_zoom(p, W, H, W / 2.0, H / 2.0, 1.01);
      cairo_t *cr = cairo_create(s);
      ll_scatter_plot_draw(p, cr, W, H);
      cairo_destroy(cr);
      cairo_surface_flush(s);
    }
    double ms = (g_get_monotonic_time() - t0) / 1000.0 / frames;
    printf("%-7s %d points, %dx%d: %.2f ms per frame\n", raster ? "raster" : "vector", n, W, H, ms);
  }
  cairo_surface_destroy(s);
  ll_scatter_plot_free(p);
  g_free(xy);
  g_free(lab);
  return 0;
}
