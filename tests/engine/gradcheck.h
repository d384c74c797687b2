/* gradcheck.h: checks a graph's backward against central finite differences.
 *
 * L = sum over every head h (blocks nobody consumes) of sum(R_h * out_h),
 * with R fixed random weights; L is accumulated in double. Every Input
 * element (except integer inputs) and every trainable parameter element
 * (sampled when large) is perturbed by +-eps; the analytical gradient must
 * satisfy |num - ana| <= atol + rtol * |num|.
 *
 * The graph runs on the reference backend (kernels/ref) unless opts->be
 * says otherwise. Its arithmetic is double, but a graph's tensors are
 * float32, so every block output is rounded: with eps = 1e-3 that rounding
 * alone moves a difference quotient by about 6e-8 |out| sqrt(n) / 2e-3,
 * relative errors near 1e-2 for the small gradients of these graphs, and a
 * larger eps steps over the kinks inside them. So these block and graph
 * checks (the blocks' own logic: time loops, concatenation, fan-in, the
 * plan) keep rtol 2e-2; every op's backward is checked in double to 1e-6
 * by tests/engine/test-grad-ref.c. */
#pragma once

#include "graph.h"

typedef struct {
  double eps, atol, rtol;
  int batch;
  gboolean training;
  gboolean avoid_kinks;          /* redraw inputs within 4 eps of 0 (ReLU-like kinks) */
  int int_inputs[LL_MAX_INPUTS]; /* > 0: input k holds integers in [0, value) */
  int max_checks;                /* per tensor; 0 = 40 */
  const LlBackend *be;           /* NULL: the reference backend (kernels/ref) */
} LlGradOpts;

#define LL_GRAD_OPTS_DEFAULT                                                                       \
  {                                                                                                \
    .eps = 1e-3, .atol = 2e-3, .rtol = 2e-2, .batch = 3, .training = TRUE                          \
  }

/* Checks every input and parameter; fails the running GTest on mismatch. */
void ll_gradcheck_graph(LlGraph *g, const LlGradOpts *opts);

/* Builds Input blocks "x0".. with the given shapes feeding one block of
 * `type` with props "name=value;name=value", and checks it. */
void ll_gradcheck_block(const char *type, const char *props, int n_in, const LlShape *in,
                        const LlGradOpts *opts);

/* Shorthand for shapes in tests. */
#define SHAPE(...) ll_shape_make(sizeof((int[]){__VA_ARGS__}) / sizeof(int), (int[]){__VA_ARGS__})
