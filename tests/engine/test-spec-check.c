/* The loss check (ll_spec_check_losses): a graph that cannot train on its
 * losses is refused with the block and the fix named, with the data's fields
 * known or not; the trainer refuses it before a step; dangling blocks are
 * found. */
#include <string.h>

#include "spec.h"
#include "trainer.h"

/* A spec of Input (1, 28, 28) and the given blocks, each reading the one
 * before it ("name:Type:prop=value;..."), with one loss on the last. */
static LlSpec *make_spec(const char *loss, const char *const *blocks)
{
  GString *j = g_string_new("{\"format\": \"layerlab-spec\", \"version\": 1, \"graph\": "
                            "{\"blocks\": [{\"name\": \"image\", \"type\": \"Input\", "
                            "\"props\": {\"shape\": [1, 28, 28]}}");
  const char *prev = "image";
  g_autofree char *last = NULL;
  for (int i = 0; blocks[i]; i++) {
    g_auto(GStrv) part = g_strsplit(blocks[i], ":", 3);
    g_string_append_printf(j, ", {\"name\": \"%s\", \"type\": \"%s\", \"inputs\": [\"%s\"]",
                           part[0], part[1], prev);
    if (part[2] && *part[2]) {
      g_auto(GStrv) props = g_strsplit(part[2], ";", -1);
      g_string_append(j, ", \"props\": {");
      for (int k = 0; props[k]; k++) {
        g_auto(GStrv) kv = g_strsplit(props[k], "=", 2);
        g_string_append_printf(j, "%s\"%s\": %s", k ? ", " : "", kv[0], kv[1]);
      }
      g_string_append(j, "}");
    }
    g_string_append(j, "}");
    g_free(last);
    last = g_strdup(part[0]);
    prev = last;
  }
  g_string_append(j, "]}, \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": "
                     "\"blobs\", \"n\": 256, \"classes\": 10, \"features\": 784}}");
  if (loss) {
    g_auto(GStrv) kt = g_strsplit(loss, " ", 2); /* "type target" */
    g_string_append_printf(j,
                           ", \"losses\": [{\"output\": \"%s\", \"target\": \"%s\", \"type\": "
                           "\"%s\"}]",
                           last, kt[1], kt[0]);
  }
  g_string_append(j, "}");
  g_autoptr(GError) error = NULL;
  LlSpec *s = ll_spec_load_data(j->str, -1, "test", &error);
  g_assert_no_error(error);
  g_assert_true(ll_graph_infer(s->graph, &error));
  g_string_free(j, TRUE);
  return s;
}

/* Fashion-MNIST's fields, as the pipeline gives them. */
static const LlFieldInfo fmnist[] = {
    {"x", {3, {1, 28, 28}}, 0},
    {"label", {1, {1}}, 10},
};

/* Checks with the data's fields and without them (the window before the
 * data is read): fails with the same fix, on the named block. */
static void expect_mismatch(LlSpec *s, const char *block, const char *fix, gboolean without_data)
{
  for (int pass = 0; pass < (without_data ? 2 : 1); pass++) {
    g_autoptr(GError) error = NULL;
    const LlBlock *bad = NULL;
    gboolean ok = ll_spec_check_losses(s, pass ? NULL : fmnist, pass ? 0 : 2, &bad, &error);
    g_assert_false(ok);
    g_assert_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH);
    g_test_message("%s", error->message);
    g_assert_nonnull(strstr(error->message, fix));
    g_assert_nonnull(bad);
    g_assert_cmpstr(bad->name, ==, block);
  }
}

static void expect_ok(LlSpec *s)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_spec_check_losses(s, fmnist, 2, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(ll_spec_check_losses(s, NULL, 0, NULL, &error));
  g_assert_no_error(error);
}

/* The graph of the report: no Flatten, so Linear(10) acts on the last axis
 * and outputs (16, 11, 10) per sample. */
static const char *const no_flatten[] = {
    "conv1:Conv2d:out_channels=8;kernel=3", "relu1:ReLU:", "pool:MaxPool2d:kernel=2",
    "conv2:Conv2d:out_channels=16;kernel=3", "relu2:ReLU:", "linear1:Linear:out_features=10", NULL};

static void test_cross_entropy(void)
{
  g_autoptr(LlSpec) a = make_spec("cross_entropy label", no_flatten);
  expect_mismatch(a, "linear1", "insert Flatten before linear1", TRUE);
  /* the same graph with no loss named gets cross-entropy on it: same check */
  g_autoptr(LlSpec) b = make_spec(NULL, no_flatten);
  expect_mismatch(b, "linear1", "insert Flatten before linear1", TRUE);

  /* more scores than the classes seen trains (a small CSV may not show every
   * class of the task); fewer cannot */
  const char *wide[] = {"flat:Flatten:", "linear1:Linear:out_features=16", NULL};
  g_autoptr(LlSpec) c = make_spec("cross_entropy label", wide);
  expect_ok(c);
  const char *narrow[] = {"flat:Flatten:", "linear1:Linear:out_features=4", NULL};
  g_autoptr(LlSpec) d = make_spec("cross_entropy label", narrow);
  expect_mismatch(d, "linear1", "out_features must be 10 for 10 classes", FALSE);

  const char *softmax[] = {"flat:Flatten:", "linear1:Linear:out_features=10", "sm:Softmax:", NULL};
  g_autoptr(LlSpec) e = make_spec("cross_entropy label", softmax);
  expect_mismatch(e, "sm", "delete sm", TRUE);

  const char *good[] = {"flat:Flatten:", "linear1:Linear:out_features=10", NULL};
  g_autoptr(LlSpec) f = make_spec("cross_entropy label", good);
  expect_ok(f);
  /* cross-entropy against the image is no classification */
  g_autoptr(LlSpec) g = make_spec("cross_entropy x", good);
  expect_mismatch(g, "linear1", "needs class indices", TRUE);
}

static void test_bce_mse(void)
{
  /* one logit per target: a 0/1 target of shape (1) wants out_features 1 */
  const char *ten[] = {"flat:Flatten:", "head:Linear:out_features=10", NULL};
  g_autoptr(LlSpec) a = make_spec("bce_logits label", ten);
  expect_mismatch(a, "head", "use cross_entropy", FALSE); /* 10 classes are no 0/1 target */
  LlFieldInfo binary[] = {{"x", {3, {1, 28, 28}}, 0}, {"label", {1, {1}}, 2}};
  g_autoptr(GError) error = NULL;
  const LlBlock *bad = NULL;
  g_assert_false(ll_spec_check_losses(a, binary, 2, &bad, &error));
  g_assert_nonnull(strstr(error->message, "out_features must be 1"));
  g_assert_cmpstr(bad->name, ==, "head");
  g_clear_error(&error);
  const char *one[] = {"flat:Flatten:", "head:Linear:out_features=1", NULL};
  g_autoptr(LlSpec) b = make_spec("bce_logits label", one);
  g_assert_true(ll_spec_check_losses(b, binary, 2, NULL, &error));
  g_assert_no_error(error);

  /* mse: the target's shape */
  const char *small[] = {"flat:Flatten:", "recon:Linear:out_features=100", NULL};
  g_autoptr(LlSpec) c = make_spec("mse x", small);
  expect_mismatch(c, "recon", "shape (1, 28, 28) but the block outputs (100)", TRUE);
  const char *flat_out[] = {"flat:Flatten:", "recon:Linear:out_features=784", NULL};
  g_autoptr(LlSpec) d = make_spec("mse x", flat_out);
  expect_ok(d); /* the same values in the same order */
  const char *other[] = {"flat:Flatten:", "recon:Linear:out_features=784",
                         "r:Reshape:shape=[28,1,28]", NULL};
  g_autoptr(LlSpec) e = make_spec("mse x", other);
  expect_mismatch(e, "r", "add Reshape (shape (1, 28, 28)) after r", TRUE);
  const char *same[] = {"flat:Flatten:", "recon:Linear:out_features=784",
                        "r:Reshape:shape=[1,28,28]", NULL};
  g_autoptr(LlSpec) f = make_spec("mse x", same);
  expect_ok(f);
}

/* Every preset's spec passes the check against fields read from its data
 * (the synthetic and Fashion-MNIST ones; others skip when the data is absent). */
static void test_presets_pass(void)
{
  const char *names[] = {"tiny-cnn.json", "fmnist-ann.json", "fmnist-cnn.json", "ae-pretrain.json",
                         "seq-memory.json", "two-input-sum.json"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", names[i], NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) s = ll_spec_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_true(ll_graph_infer(s->graph, &error));
    s->dataset.limit_train = s->dataset.limit_test = 500;
    LlDataset *train = NULL, *test = NULL;
    if (!ll_dataset_spec_open(&s->dataset, s->seed, &train, &test, &error)) {
      g_test_message("%s: %s (skipped)", names[i], error->message);
      continue;
    }
    g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint32));
    for (guint32 k = 0; k < MIN(train->n, 64u); k++)
      g_array_append_val(idx, k);
    g_autoptr(LlPipeline) p = ll_pipeline_new(train, &s->pipeline, idx, &error);
    g_assert_no_error(error);
    LlFieldInfo fields[16];
    int n = ll_pipeline_get_fields(p, fields, 16);
    gboolean ok = ll_spec_check_losses(s, fields, n, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    ok = ll_spec_check_losses(s, NULL, 0, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    g_autoptr(GPtrArray) dangling = ll_spec_dangling_blocks(s);
    g_assert_cmpuint(dangling->len, ==, 0);
    ll_pipeline_free(g_steal_pointer(&p));
    ll_dataset_free(train);
    ll_dataset_free(test);
  }
}

/* The trainer refuses the graph before any step, with the check's error. */
static void test_trainer_refuses(void)
{
  g_autoptr(LlSpec) s = make_spec("cross_entropy label", no_flatten);
  LlTrainOptions o = {.no_store = TRUE, .seed = -1, .device = "cpu"};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_trainer_start(t, &error));
  LlEvent *e;
  gboolean failed = FALSE;
  while ((e = ll_trainer_pop(t, 30 * G_USEC_PER_SEC))) {
    g_assert_cmpint(e->kind, !=, LL_EVENT_BATCH);
    gboolean last = e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_FINISHED ||
                    e->kind == LL_EVENT_STOPPED;
    if (e->kind == LL_EVENT_FAILED) {
      failed = TRUE;
      g_assert_true(e->spec_mismatch);
      g_assert_nonnull(strstr(e->message, "insert Flatten before linear1"));
    }
    ll_event_free(e);
    if (last)
      break;
  }
  ll_trainer_join(t);
  ll_trainer_free(t);
  g_assert_true(failed);
}

static void test_dangling(void)
{
  const char *good[] = {"flat:Flatten:", "linear1:Linear:out_features=10", NULL};
  g_autoptr(LlSpec) s = make_spec("cross_entropy label", good);
  g_autoptr(GError) error = NULL;
  LlBlock *side = ll_graph_add(s->graph, "ReLU", "side", &error);
  ll_block_connect(side, "flat");
  g_assert_true(ll_graph_infer(s->graph, &error));
  g_autoptr(GPtrArray) d = ll_spec_dangling_blocks(s);
  g_assert_cmpuint(d->len, ==, 1);
  g_assert_cmpstr(((LlBlock *)d->pdata[0])->name, ==, "side");
  /* the recorded embedding block is an output too */
  s->embedding_block = g_strdup("side");
  g_autoptr(GPtrArray) d2 = ll_spec_dangling_blocks(s);
  g_assert_cmpuint(d2->len, ==, 0);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/spec-check/cross-entropy", test_cross_entropy);
  g_test_add_func("/engine/spec-check/bce-mse", test_bce_mse);
  g_test_add_func("/engine/spec-check/presets", test_presets_pass);
  g_test_add_func("/engine/spec-check/trainer-refuses", test_trainer_refuses);
  g_test_add_func("/engine/spec-check/dangling", test_dangling);
  return g_test_run();
}
