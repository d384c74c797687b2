/* bench-step.c: times one training step (forward, loss, backward, optimizer
 * update) and one inference forward pass of a spec's graph through the engine
 * API, on random inputs, and prints images per second.
 *
 * Usage: bench-step [--threads N] [--steps N] [--no-infer] [SPEC.json ...]
 * Without specs it runs the reference MLP and tiny CNN of tests/bench/.
 * The data loader is not involved: this is the engine's own cost per step.
 * "cpu ms/step" is the process's CPU time per training step (median): with
 * --threads 1 it measures the work even when other processes share the
 * machine. */
#include <math.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "optimizer.h"
#include "spec.h"

static double now(void) { return (double)g_get_monotonic_time() / 1e6; }

/* CPU seconds of the whole process: with one thread, the work of a step
 * even when another process shares the core (wall time then is not). */
static double cpu_now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct {
  double train_ips, infer_ips, train_cpu_ms;
} Result;

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static gboolean bench(const char *path, int threads, int steps, gboolean infer, Result *res,
                      GError **error)
{
  g_autoptr(LlSpec) s = ll_spec_load_file(path, error);
  if (!s)
    return FALSE;
  const LlBackend *be = ll_cpu_backend();
  ll_cpu_set_threads(threads);
  LlGraph *g = s->graph;
  int batch = s->batch_size;
  if (s->losses->len != 1) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "%s: expected one loss", path);
    return FALSE;
  }
  const LlLossSpec *ls = g_ptr_array_index(s->losses, 0);
  LlBlock *head = ll_graph_find(g, ls->output);
  if (!head) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "%s: no block \"%s\"", path, ls->output);
    return FALSE;
  }
  /* fused passes as the trainer runs them (the loss head keeps its output) */
  head->keep_output = TRUE;
  g->fuse = TRUE;
  if (!ll_graph_compile(g, be, batch, error))
    return FALSE;
  LlRng rng;
  ll_rng_seed(&rng, s->seed);
  ll_graph_init_params(g, &rng);
  g_autoptr(LlOptimizer) opt = ll_optimizer_new(g, &s->optim, error);
  if (!opt)
    return FALSE;

  /* random images in [0, 1) on every input; class targets or the input */
  g_autoptr(GPtrArray) ins = ll_graph_inputs(g);
  for (guint i = 0; i < ins->len; i++) {
    LlBlock *b = g_ptr_array_index(ins, i);
    size_t n = (size_t)batch * ll_block_out_size(b);
    for (size_t k = 0; k < n; k++)
      b->out[k] = (float)ll_rng_uniform(&rng);
  }
  LlBlock *in0 = g_ptr_array_index(ins, 0);
  size_t hsize = ll_block_out_size(head);
  g_autofree float *target = g_new(float, (size_t)batch *hsize);
  gboolean ce = ls->kind == LL_LOSS_CROSS_ENTROPY;
  if (ce)
    for (int k = 0; k < batch; k++)
      target[k] = (float)ll_rng_below(&rng, hsize);
  else if (hsize == ll_block_out_size(in0))
    memcpy(target, in0->out, (size_t)batch * hsize * sizeof *target);
  else
    for (size_t k = 0; k < (size_t)batch * hsize; k++)
      target[k] = (float)ll_rng_uniform(&rng);
  float loss;

  /* a few warm-up steps, then the median of `steps` timed steps */
  g_autofree double *t = g_new(double, steps), *c = g_new(double, steps);
  for (int it = -3; it < steps; it++) {
    LlRunCtx ctx = {
        .be = be, .batch = batch, .training = TRUE, .seed = s->seed, .step = (uint64_t)(it + 4)};
    double t0 = now(), c0 = cpu_now();
    ll_graph_forward(g, &ctx);
    ll_graph_zero_grads(g, &ctx);
    if (ce)
      be->cross_entropy(head->out, target, batch, (int)hsize, 0.0f, 1.0f, &loss, head->dout);
    else
      be->mse(head->out, target, (size_t)batch * hsize, 1.0f, &loss, head->dout);
    ll_graph_backward(g, &ctx);
    ll_optimizer_step(opt, (float)s->optim.lr);
    if (it >= 0) {
      t[it] = now() - t0;
      c[it] = cpu_now() - c0;
    }
  }
  qsort(t, steps, sizeof *t, cmp_double);
  qsort(c, steps, sizeof *c, cmp_double);
  res->train_ips = batch / t[steps / 2];
  res->train_cpu_ms = 1e3 * c[steps / 2];
  res->infer_ips = 0.0;
  for (int it = -3; infer && it < steps; it++) {
    LlRunCtx ctx = {.be = be, .batch = batch, .training = FALSE, .seed = s->seed};
    double t0 = now();
    ll_graph_forward(g, &ctx);
    if (it >= 0)
      t[it] = now() - t0;
  }
  if (infer) {
    qsort(t, steps, sizeof *t, cmp_double);
    res->infer_ips = batch / t[steps / 2];
  }
  if (!isfinite(loss)) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE, "%s: the loss is not finite", path);
    return FALSE;
  }
  return TRUE;
}

int main(int argc, char **argv)
{
  int threads = (int)g_get_num_processors(), steps = 50;
  gboolean no_infer = FALSE;
  g_auto(GStrv) specs = NULL;
  GOptionEntry entries[] = {
      {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU threads (default: all cores)", "N"},
      {"steps", 0, 0, G_OPTION_ARG_INT, &steps, "Timed steps (median reported)", "N"},
      {"no-infer", 0, 0, G_OPTION_ARG_NONE, &no_infer, "Time training steps only (for profiles)",
       NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &specs, NULL, "SPEC..."},
      {NULL},
  };
  g_autoptr(GOptionContext) oc = g_option_context_new("[SPEC.json ...]");
  g_option_context_set_summary(oc, "Times a training step and an inference pass of each spec "
                                   "(default: the reference MLP and tiny CNN).");
  g_option_context_add_main_entries(oc, entries, NULL);
  GError *error = NULL;
  if (!g_option_context_parse(oc, &argc, &argv, &error) || steps < 1 || threads < 1) {
    fprintf(stderr, "bench-step: %s\n", error ? error->message : "bad --steps or --threads");
    return 2;
  }
  if (!specs) {
    specs = g_new0(char *, 3);
    specs[0] = g_build_filename(LL_BENCH_SPEC_DIR, "mlp.json", NULL);
    specs[1] = g_build_filename(LL_BENCH_SPEC_DIR, "cnn.json", NULL);
  }
  printf("%-12s %8s %14s %14s %14s\n", "model", "threads", "train img/s", "infer img/s",
         "cpu ms/step");
  for (int i = 0; specs[i]; i++) {
    Result r;
    if (!bench(specs[i], threads, steps, !no_infer, &r, &error)) {
      fprintf(stderr, "bench-step: %s\n", error->message);
      return 1;
    }
    g_autofree char *base = g_path_get_basename(specs[i]);
    char *dot = strrchr(base, '.');
    if (dot)
      *dot = '\0';
    printf("%-12s %8d %14.0f %14.0f %14.2f\n", base, threads, r.train_ips, r.infer_ips,
           r.train_cpu_ms);
    fflush(stdout);
  }
  return 0;
}
