/* test-train-parity.c: end to end, the tiny CNN preset
 * (resources/presets/tiny-cnn.json) trained for one epoch on the first 1024
 * Fashion-MNIST images on the CPU and on the GPU:
 * - /cuda/e2e/tiny-cnn/steps drives both graphs in lockstep on the same
 *   batches and compares the loss curve step by step, then the weights;
 * - /cuda/e2e/tiny-cnn/trainer runs the whole trainer (`layerlab train`'s
 *   path) on each device and compares its epoch and test metrics.
 * Exits 77 (skipped) without a GPU, or without the dataset. */
#include <glib/gstdio.h>
#include <stdio.h>

#include "parity-util.h"
#include "trainer.h"

#define LIMIT_TRAIN 1024
#define LIMIT_TEST  512

static char *preset_path;

static LlSpec *load_spec(void)
{
  GError *err = NULL;
  LlSpec *s = ll_spec_load_file(preset_path, &err);
  g_assert_no_error(err);
  s->dataset.limit_train = LIMIT_TRAIN;
  s->dataset.limit_test = LIMIT_TEST;
  s->epochs = 1;
  return s;
}

typedef struct {
  const LlBackend *be;
  LlSpec *spec;
  LlGraph *g;
  LlOptimizer *opt;
  LlBlock *input, *logits;
  float *target, *loss;
} Side;

static void side_init(Side *s, const LlBackend *be)
{
  GError *err = NULL;
  s->be = be;
  s->spec = load_spec();
  s->g = s->spec->graph;
  g_assert_true(ll_graph_infer(s->g, &err));
  g_assert_true(ll_graph_compile(s->g, be, s->spec->batch_size, &err));
  g_assert_no_error(err);
  LlRng rng;
  ll_rng_seed(&rng, s->spec->seed);
  ll_graph_init_params(s->g, &rng);
  s->opt = ll_optimizer_new(s->g, &s->spec->optim, &err);
  g_assert_no_error(err);
  s->input = ll_graph_find(s->g, "image");
  s->logits = ll_graph_find(s->g, "logits");
  g_assert_nonnull(s->input);
  g_assert_nonnull(s->logits);
  s->target = be->alloc((size_t)s->spec->batch_size * sizeof(float));
  s->loss = be->alloc(sizeof(float));
  g_assert_nonnull(s->target);
  g_assert_nonnull(s->loss);
}

static double side_step(Side *s, const LlBatch *batch, int64_t step)
{
  const LlBackend *be = s->be;
  LlRunCtx ctx = {
      .be = be, .batch = batch->n, .training = TRUE, .seed = s->spec->seed, .step = (uint64_t)step};
  be->upload(s->input->out, ll_batch_field(batch, "x", NULL),
             (size_t)batch->n * ll_block_out_size(s->input));
  be->upload(s->target, ll_batch_field(batch, "label", NULL), (size_t)batch->n);
  ll_graph_forward(s->g, &ctx);
  ll_graph_zero_grads(s->g, &ctx);
  be->cross_entropy(s->logits->out, s->target, batch->n, 10, 0.0f, 1.0f, s->loss, s->logits->dout);
  float loss;
  be->download(&loss, s->loss, 1);
  ll_graph_backward(s->g, &ctx);
  ll_optimizer_step(s->opt, (float)s->spec->optim.lr);
  return loss;
}

static void side_clear(Side *s)
{
  s->be->free(s->target);
  s->be->free(s->loss);
  ll_optimizer_free(s->opt);
  ll_spec_free(s->spec);
}

static void test_steps(void)
{
  Side ref, dev;
  side_init(&ref, ll_test_ref);
  side_init(&dev, ll_test_dev);
  g_assert_cmpuint(ref.g->n_params, ==, dev.g->n_params);
  /* each conv plans the workspace of the backend it was compiled for, not
   * the CPU's: the CUDA conv keeps its own scratch and needs none */
  int convs = 0;
  for (guint i = 0; i < dev.g->order->len; i++) {
    LlBlock *bd = dev.g->order->pdata[i], *br = ref.g->order->pdata[i];
    if (!bd->desc->workspace)
      continue;
    convs++;
    g_assert_cmpuint(br->saved_fixed, ==, br->desc->workspace(br, ref.be));
    g_assert_cmpuint(bd->saved_fixed, ==, bd->desc->workspace(bd, dev.be));
    if (dev.be != ref.be)
      g_assert_cmpuint(bd->saved_fixed, ==, 0);
  }
  g_assert_cmpint(convs, >, 0);

  GError *err = NULL;
  LlDataset *train = NULL, *test = NULL;
  g_assert_true(ll_dataset_spec_open(&ref.spec->dataset, ref.spec->seed, &train, &test, &err));
  g_assert_no_error(err);
  g_assert_cmpuint(train->n, ==, LIMIT_TRAIN);
  g_autoptr(LlPipeline) pipe = ll_pipeline_new(train, &ref.spec->pipeline, NULL, &err);
  g_assert_no_error(err);
  g_autoptr(LlLoader) loader =
      ll_loader_new(pipe, NULL, ref.spec->batch_size, TRUE, TRUE, TRUE, ref.spec->seed);
  ll_loader_start_epoch(loader, 1);

  const LlBatch *batch;
  int64_t step = 0;
  double worst = 0.0;
  while ((batch = ll_loader_next(loader))) {
    step++;
    double a = side_step(&ref, batch, step), b = side_step(&dev, batch, step);
    device_check_no_error("training step");
    g_test_message("step %" G_GINT64_FORMAT ": loss cpu %.6f, %s %.6f", step, a, dev.be->name, b);
    g_assert_true(isfinite(b));
    /* the first step sees identical weights and batches: only the summation
     * order differs; later steps may drift by the rounding of earlier ones */
    double tol = step == 1 ? 1e-5 + 1e-4 * fabs(a) : 1e-3 + 1e-2 * fabs(a);
    if (fabs(a - b) > tol)
      g_test_fail_printf("step %" G_GINT64_FORMAT ": loss %.7f on the CPU, %.7f on %s (tol %g)",
                         step, a, b, dev.be->device_name, tol);
    worst = MAX(worst, fabs(a - b));
  }
  g_assert_cmpint(step, ==, LIMIT_TRAIN / ref.spec->batch_size);
  printf("# %" G_GINT64_FORMAT " steps, largest loss difference %.3g\n", step, worst);

  /* the weights after one epoch: relative L2 distance */
  size_t n = ref.g->n_params;
  g_autofree float *pr = g_new(float, n), *pd = g_new(float, n);
  ref.be->download(pr, ref.g->params, n);
  dev.be->download(pd, dev.g->params, n);
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; i++) {
    num += ((double)pr[i] - pd[i]) * ((double)pr[i] - pd[i]);
    den += (double)pr[i] * pr[i];
  }
  double rel = sqrt(num / MAX(den, 1e-30));
  printf("# weights after one epoch: relative L2 distance %.3g\n", rel);
  g_assert_cmpfloat(rel, <, 1e-2);

  side_clear(&ref);
  side_clear(&dev);
  ll_dataset_free(train);
  ll_dataset_free(test);
}

typedef struct {
  double train_loss, val_loss, test_accuracy;
  gboolean finished;
  char *failure;
} RunResult;

static RunResult run_trainer(const char *device)
{
  RunResult r = {NAN, NAN, NAN, FALSE, NULL};
  g_autoptr(LlSpec) spec = load_spec();
  LlTrainOptions o = {.device = device, .no_store = TRUE, .seed = -1};
  LlTrainer *t = ll_trainer_new(spec, &o);
  GError *err = NULL;
  g_assert_true(ll_trainer_start(t, &err));
  g_autofree char *run_dir = NULL;
  gint64 deadline = g_get_monotonic_time() + 240 * G_TIME_SPAN_SECOND;
  for (;;) {
    g_autoptr(LlEvent) e = ll_trainer_pop(t, 100 * 1000);
    if (!e) {
      if (!ll_trainer_is_running(t) && !(e = ll_trainer_pop(t, 0)))
        break;
      if (!e) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        continue;
      }
    }
    if (e->kind == LL_EVENT_STARTED)
      run_dir = g_strdup(e->checkpoint);
    else if (e->kind == LL_EVENT_EPOCH) {
      r.train_loss = ll_event_metric(e, "train_loss");
      r.val_loss = ll_event_metric(e, "val_loss");
    } else if (e->kind == LL_EVENT_FINISHED) {
      r.test_accuracy = ll_event_metric(e, "test_accuracy");
      r.finished = TRUE;
    } else if (e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_STOPPED) {
      r.failure = g_strdup(e->message ? e->message : "stopped");
    } else if (e->kind == LL_EVENT_LOG) {
      g_test_message("%s: %s", device, e->message);
    }
  }
  ll_trainer_free(t);
  if (run_dir) {
    /* no_store runs write their checkpoints to a temporary folder */
    g_autoptr(GDir) d = g_dir_open(run_dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(run_dir, name, NULL);
      g_unlink(p);
    }
    g_rmdir(run_dir);
  }
  return r;
}

static void test_trainer(void)
{
  RunResult a = run_trainer("cpu");
  RunResult b = run_trainer(ll_test_dev == ll_test_ref ? "cpu" : "cuda");
  if (a.failure || b.failure)
    g_test_fail_printf("a run failed: cpu: %s; device: %s", a.failure ? a.failure : "ok",
                       b.failure ? b.failure : "ok");
  g_assert_true(a.finished && b.finished);
  printf("# train_loss %.5f / %.5f, val_loss %.5f / %.5f, test accuracy %.4f / %.4f\n",
         a.train_loss, b.train_loss, a.val_loss, b.val_loss, a.test_accuracy, b.test_accuracy);
  g_assert_cmpfloat(fabs(a.train_loss - b.train_loss), <=, 1e-3 + 1e-2 * fabs(a.train_loss));
  g_assert_cmpfloat(fabs(a.val_loss - b.val_loss), <=, 5e-3 + 2e-2 * fabs(a.val_loss));
  if (!isnan(a.test_accuracy))
    g_assert_cmpfloat(fabs(a.test_accuracy - b.test_accuracy), <=, 0.03);
  g_free(a.failure);
  g_free(b.failure);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  if (!ll_test_open_backends())
    return 77;
  preset_path =
      g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", "tiny-cnn.json", NULL);
  g_autoptr(LlSpec) probe = load_spec();
  if (!g_file_test(probe->dataset.path, G_FILE_TEST_IS_DIR)) {
    printf("# SKIP: the dataset %s is not installed (apt-get install dataset-fashion-mnist)\n",
           probe->dataset.path);
    return 77;
  }
  ll_cpu_set_threads(2);
  g_test_add_func("/cuda/e2e/tiny-cnn/steps", test_steps);
  g_test_add_func("/cuda/e2e/tiny-cnn/trainer", test_trainer);
  int rc = g_test_run();
  g_free(preset_path);
  return rc;
}
