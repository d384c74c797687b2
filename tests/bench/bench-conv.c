/* bench-conv.c: times the CPU conv kernels on the tiny CNN's shapes
 * (batch 128). Usage: bench-conv [threads] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backend.h"

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *rnd(size_t n)
{
  float *p = malloc(n * sizeof *p);
  for (size_t i = 0; i < n; i++)
    p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
  return p;
}

int main(int argc, char **argv)
{
  ll_cpu_set_threads(argc > 1 ? atoi(argv[1]) : 1);
  const LlBackend *be = ll_cpu_backend();
  /* c, oc, h, k */
  static const int shapes[][4] = {{1, 8, 28, 3},  {8, 16, 26, 3},  {16, 8, 12, 1},
                                  {8, 16, 12, 3}, {16, 16, 10, 3}, {16, 16, 8, 3}};
  double total[3] = {0};
  printf("%-18s %10s %10s %10s  (ms per batch of 128, %d threads)\n", "c->oc k h", "forward",
         "bwd_data", "bwd_filter", ll_cpu_get_threads());
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int c = shapes[s][0], oc = shapes[s][1], h = shapes[s][2], k = shapes[s][3];
    LlConvGeom g = {.n = 128,
                    .c = c,
                    .h = h,
                    .w = h,
                    .oc = oc,
                    .oh = h - k + 1,
                    .ow = h - k + 1,
                    .kh = k,
                    .kw = k,
                    .sh = 1,
                    .sw = 1,
                    .dh = 1,
                    .dw = 1,
                    .groups = 1};
    size_t nx = (size_t)g.n * c * h * h, ny = (size_t)g.n * oc * g.oh * g.ow;
    float *x = rnd(nx), *w = rnd((size_t)oc * c * k * k), *dy = rnd(ny);
    float *y = calloc(ny, sizeof *y), *dx = calloc(nx, sizeof *dx);
    float *dw = calloc((size_t)oc * c * k * k, sizeof *dw);
    float *ws = calloc(be->conv2d_workspace(&g) + 1, sizeof *ws);
    double t[3];
    int reps = 20;
    for (int op = 0; op < 3; op++) {
      double best = 1e9;
      for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (op == 0)
          be->conv2d_forward(&g, x, w, y, ws);
        else if (op == 1)
          be->conv2d_backward_data(&g, w, dy, dx, ws);
        else
          be->conv2d_backward_filter(&g, x, dy, dw, ws);
        double dt = now() - t0;
        best = dt < best ? dt : best;
      }
      t[op] = best * 1e3;
      total[op] += t[op];
    }
    char name[32];
    snprintf(name, sizeof name, "%d->%d k%d %dx%d", c, oc, k, h, h);
    printf("%-18s %10.3f %10.3f %10.3f\n", name, t[0], t[1], t[2]);
    free(x), free(w), free(dy), free(y), free(dx), free(dw), free(ws);
  }
  printf("%-18s %10.3f %10.3f %10.3f\n", "total", total[0], total[1], total[2]);
  return 0;
}
