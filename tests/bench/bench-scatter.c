/* Frame times of the window's plots at 1200x800 (the budget: under
 * 8 ms a frame): the scatter plot with 70,000 (or n) points, raster path
 * (the screen) and vector path (export), the 10,000-point scatter, and a loss
 * curve of 100,000 steps with EMA smoothing and a hover readout, redrawn as
 * it grows and as the pointer moves. bench-scatter [n] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "curve-plot.h"
#include "scatter-plot.h"

static double scatter_ms(int n, int k, int W, int H, gboolean raster);

/* The training curve: 100,000 per-step losses over 100 epochs, smoothed,
 * appended in bursts as the trainer sends them, with the pointer moving. */
static void bench_curve(int steps, int W, int H)
{
  LlCurvePlot *p = ll_curve_plot_new("Loss", "epoch");
  int s = ll_curve_plot_add_series(p, "train (step)", 0.4, 0.6, 0.9, FALSE, TRUE);
  ll_curve_plot_set_smoothing(p, 0.6);
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, W, H);
  for (int i = 0; i < steps; i++)
    ll_curve_plot_append(p, s, i / 1000.0, 2.3 * exp(-i / 20000.0) + 0.1 * sin(i * 0.7));
  int frames = 40;
  gint64 t0 = g_get_monotonic_time();
  for (int f = 0; f < frames; f++) {
    for (int b = 0; b < 50; b++) /* a frame's worth of new steps */
      ll_curve_plot_append(p, s, (steps + f * 50 + b) / 1000.0, 0.2);
    ll_curve_plot_set_hover(p, 100 + f * 20);
    cairo_t *cr = cairo_create(surf);
    ll_curve_plot_draw(p, cr, W, H);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
  }
  double ms = (g_get_monotonic_time() - t0) / 1000.0 / frames;
  printf("curve   %d points, %dx%d: %.2f ms per frame\n", steps, W, H, ms);
  cairo_surface_destroy(surf);
  ll_curve_plot_free(p);
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 70000, W = 1200, H = 800;
  bench_curve(100000, W, H);
  printf("raster  %d points, %dx%d: %.2f ms per frame\n", 10000, W, H,
         scatter_ms(10000, 10, W, H, TRUE));
  for (int raster = 1; raster >= 0; raster--)
    printf("%-7s %d points, %dx%d: %.2f ms per frame\n", raster ? "raster" : "vector", n, W, H,
           scatter_ms(n, 10, W, H, raster));
  return 0;
}

static double scatter_ms(int n, int k, int W, int H, gboolean raster)
{
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
  cairo_surface_destroy(s);
  ll_scatter_plot_free(p);
  g_free(xy);
  g_free(lab);
  return ms;
}
