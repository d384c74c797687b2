/* The whole stack learns: the trainer on generated data. Also the NaN stop,
 * determinism, pause / resume / stop, and the two-input two-head graph. */
#include <math.h>
#include <string.h>
#ifdef __linux__
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "checkpoint.h"
#include "device.h"
#include "run-recorder.h"
#include "trainer.h"

typedef struct {
  GPtrArray *events; /* LlEvent* */
  LlEvent *last;
} Run;

static void run_clear(Run *r) { g_ptr_array_unref(r->events); }

static LlSpec *spec_from(const char *json)
{
  g_autoptr(GError) error = NULL;
  LlSpec *s = ll_spec_load_data(json, -1, "test-spec", &error);
  g_assert_no_error(error);
  return s;
}

static gboolean keep_event(gpointer data, const LlEvent *e, GError **error)
{
  Run *r = data;
  if (e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_LOG)
    g_test_message("%s", e->message);
  r->last = ll_event_dup(e);
  g_ptr_array_add(r->events, r->last);
  return TRUE;
}

static const LlTrainerListener keeper = {.event = keep_event};

static Run train(const char *json)
{
  g_autoptr(LlSpec) s = spec_from(json);
  LlTrainOptions o = {.no_store = TRUE, .seed = -1};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_trainer_start(t, &error));
  Run r = {.events = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free)};
  while (ll_trainer_drain(t, 100000, 100000, &keeper, &r))
    ;
  ll_trainer_free(t);
  return r;
}

static LlEvent *find_event(Run *r, LlEventKind kind, int nth)
{
  for (guint i = 0; i < r->events->len; i++) {
    LlEvent *e = r->events->pdata[i];
    if (e->kind == kind && nth-- == 0)
      return e;
  }
  return NULL;
}

#define BLOBS_DATA                                                                                 \
  "\"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 1500, "      \
  "\"test_n\": 600, \"classes\": 3, \"features\": 2, \"noise\": 0.3}, \"normalize\": \"none\"},\n"

static const char *mlp_spec =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mlp-blobs\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": {\"out_features\": "
    "32}},\n"
    "  {\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
    "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"a\"], \"props\": "
    "{\"out_features\": 3}}]},\n" BLOBS_DATA
    " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}],\n"
    " \"training\": {\"epochs\": 15, \"batch_size\": 50, \"seed\": 3,\n"
    "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}\n";

static void test_mlp_learns(void)
{
  Run r = train(mlp_spec);
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FINISHED);
  double acc = ll_event_metric(r.last, "test_accuracy");
  g_test_message("MLP on blobs: test accuracy %.4f", acc);
  g_assert_cmpfloat(acc, >=, 0.95);
  /* after the 15 validation payloads, the test set's */
  LlEvent *first = find_event(&r, LL_EVENT_EPOCH, 0), *eval = find_event(&r, LL_EVENT_EVAL, 15);
  g_assert_nonnull(first);
  g_assert_cmpfloat(ll_event_metric(r.last, "test_loss"), <, ll_event_metric(first, "train_loss"));
  /* the evaluation payload: a confusion matrix whose diagonal dominates */
  g_assert_nonnull(eval);
  g_assert_cmpstr(eval->split, ==, "test");
  g_assert_cmpint(eval->n_classes, ==, 3);
  int64_t diag = 0, total = 0;
  for (int i = 0; i < 9; i++) {
    total += eval->confusion[i];
    if (i % 4 == 0)
      diag += eval->confusion[i];
  }
  g_assert_cmpint(total, ==, 600);
  g_assert_cmpfloat((double)diag / total, ==, acc);
  run_clear(&r);
}

/* Images with one bright 3x3 square in one of four quadrants: the class. */
static char *write_quadrant_images(void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("ll-quadrants-XXXXXX", &error);
  g_assert_no_error(error);
  const int n = 1200, s = 10;
  LlRng rng;
  ll_rng_seed(&rng, 5);
  g_autofree float *x = g_new0(float, (size_t)n *s *s);
  g_autofree float *y = g_new0(float, n);
  for (int i = 0; i < n; i++) {
    int c = (int)ll_rng_below(&rng, 4);
    y[i] = (float)c;
    int oy = (c / 2) * 5 + (int)ll_rng_below(&rng, 3),
        ox = (c % 2) * 5 + (int)ll_rng_below(&rng, 3);
    float *img = x + (size_t)i * s * s;
    for (int k = 0; k < s * s; k++)
      img[k] = (float)(0.3 * ll_rng_uniform(&rng));
    for (int dy = 0; dy < 3; dy++)
      for (int dx = 0; dx < 3; dx++)
        img[(oy + dy) * s + ox + dx] += 1.0f;
  }
  /* NPY v1: magic, version, header length, a Python dict, padded to 64 */
  const char *names[] = {"x.npy", "y.npy"};
  const float *data[] = {x, y};
  const char *shapes[] = {"(1200, 1, 10, 10)", "(1200,)"};
  size_t counts[] = {(size_t)n * s * s, (size_t)n};
  for (int f = 0; f < 2; f++) {
    g_autofree char *dict =
        g_strdup_printf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shapes[f]);
    size_t hlen = strlen(dict) + 1, total = 10 + hlen;
    size_t pad = (64 - total % 64) % 64;
    GString *h = g_string_new(NULL);
    g_string_append_len(h, "\x93NUMPY\x01\x00", 8);
    guint16 len16 = GUINT16_TO_LE((guint16)(hlen + pad));
    g_string_append_len(h, (const char *)&len16, 2);
    g_string_append(h, dict);
    for (size_t k = 0; k < pad; k++)
      g_string_append_c(h, ' ');
    g_string_append_c(h, '\n');
    g_string_append_len(h, (const char *)data[f], (gssize)(counts[f] * sizeof(float)));
    g_autofree char *path = g_build_filename(dir, names[f], NULL);
    g_assert_true(g_file_set_contents(path, h->str, (gssize)h->len, NULL));
    g_string_free(h, TRUE);
  }
  return dir;
}

static void test_cnn_learns(void)
{
  g_autofree char *dir = write_quadrant_images();
  g_autofree char *json = g_strdup_printf(
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"cnn-quadrants\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, 10, 10]}},\n"
      "  {\"name\": \"c1\", \"type\": \"Conv2d\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_channels\": 6, \"kernel\": 3, \"padding\": 1}},\n"
      "  {\"name\": \"bn\", \"type\": \"BatchNorm2d\", \"inputs\": [\"c1\"]},\n"
      "  {\"name\": \"r1\", \"type\": \"ReLU\", \"inputs\": [\"bn\"]},\n"
      "  {\"name\": \"p1\", \"type\": \"MaxPool2d\", \"inputs\": [\"r1\"], \"props\": {\"kernel\": "
      "2}},\n"
      "  {\"name\": \"c2\", \"type\": \"Conv2d\", \"inputs\": [\"p1\"], \"props\": "
      "{\"out_channels\": 8, \"kernel\": 3, \"padding\": 1}},\n"
      "  {\"name\": \"bn2\", \"type\": \"BatchNorm2d\", \"inputs\": [\"c2\"], "
      "\"props\": {\"affine\": false}},\n"
      "  {\"name\": \"r2\", \"type\": \"ReLU\", \"inputs\": [\"bn2\"]},\n"
      "  {\"name\": \"flat\", \"type\": \"Flatten\", \"inputs\": [\"r2\"]},\n"
      "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"flat\"], \"props\": "
      "{\"out_features\": 4}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"npy\", \"train_images\": \"%s/x.npy\", "
      "\"train_labels\": \"%s/y.npy\"},\n"
      "          \"normalize\": \"none\"},\n"
      " \"losses\": [{\"output\": \"out\", \"target\": \"label\"}],\n"
      " \"training\": {\"epochs\": 6, \"batch_size\": 32, \"seed\": 2,\n"
      "   \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.05, \"momentum\": 0.9}}}\n",
      dir, dir);
  Run r = train(json);
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FINISHED);
  double acc = ll_event_metric(r.last, "test_accuracy");
  g_test_message("CNN on quadrant images: test accuracy %.4f", acc);
  g_assert_cmpfloat(acc, >=, 0.95);
  run_clear(&r);
}

/* E15's shape: an image-like input and a number in; a class and a sum out. */
static void test_two_inputs_two_heads(void)
{
  const char *json =
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"two-heads\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
      "  {\"name\": \"n\", \"type\": \"Input\", \"props\": {\"shape\": [1]}},\n"
      "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_features\": 24}},\n"
      "  {\"name\": \"ha\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
      "  {\"name\": \"cls\", \"type\": \"Linear\", \"inputs\": [\"ha\"], \"props\": "
      "{\"out_features\": 3}},\n"
      "  {\"name\": \"j\", \"type\": \"Concat\", \"inputs\": [\"ha\", \"n\"]},\n"
      "  {\"name\": \"s1\", \"type\": \"Linear\", \"inputs\": [\"j\"], \"props\": "
      "{\"out_features\": 24}},\n"
      "  {\"name\": \"s1a\", \"type\": \"ReLU\", \"inputs\": [\"s1\"]},\n"
      "  {\"name\": \"sum\", \"type\": \"Linear\", \"inputs\": [\"s1a\"], \"props\": "
      "{\"out_features\": 1}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 1500,\n"
      "   \"test_n\": 500, \"classes\": 3, \"features\": 2, \"noise\": 0.5}, \"normalize\": "
      "\"none\",\n"
      "   \"random_field\": {\"min\": 0, \"max\": 9}},\n"
      " \"inputs\": {\"x\": \"x\", \"n\": \"random\"},\n"
      " \"losses\": [{\"output\": \"cls\", \"target\": \"label\", \"type\": \"cross_entropy\"},\n"
      "            {\"output\": \"sum\", \"target\": \"label_plus_random\", \"type\": \"mse\", "
      "\"weight\": 0.1}],\n"
      " \"training\": {\"epochs\": 12, \"batch_size\": 50, \"seed\": 4,\n"
      "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}\n";
  Run r = train(json);
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FINISHED);
  LlEvent *first = find_event(&r, LL_EVENT_EPOCH, 0);
  g_assert_nonnull(first);
  double cls0 = ll_event_metric(first, "val_loss_cls"),
         sum0 = ll_event_metric(first, "val_loss_sum");
  double cls1 = ll_event_metric(r.last, "test_loss_cls"),
         sum1 = ll_event_metric(r.last, "test_loss_sum");
  g_test_message("cls loss %.4f -> %.4f, sum loss %.4f -> %.4f, accuracy %.4f", cls0, cls1, sum0,
                 sum1, ll_event_metric(r.last, "test_accuracy"));
  g_assert_false(isnan(cls0) || isnan(sum0) || isnan(cls1) || isnan(sum1));
  g_assert_cmpfloat(cls1, <, 0.5 * cls0);
  g_assert_cmpfloat(sum1, <, 0.5 * sum0);
  g_assert_cmpfloat(ll_event_metric(r.last, "test_accuracy"), >=, 0.9);
  /* each head's metric under its name: the classifier's accuracy, the
   * regression head's MSE (unweighted: its loss is 0.1 of it) and the
   * rounded sum's accuracy; per epoch on the validation set too */
  g_assert_cmpfloat(ll_event_metric(r.last, "test_cls_accuracy"), ==,
                    ll_event_metric(r.last, "test_accuracy"));
  double mse = ll_event_metric(r.last, "test_sum_mse");
  g_test_message("sum mse %.4f, sum accuracy %.4f", mse,
                 ll_event_metric(r.last, "test_sum_accuracy"));
  g_assert_cmpfloat_with_epsilon(mse, sum1 / 0.1, 1e-3 * mse);
  g_assert_cmpfloat(ll_event_metric(r.last, "test_sum_accuracy"), >=, 0.0);
  g_assert_false(isnan(ll_event_metric(first, "val_cls_accuracy")));
  g_assert_false(isnan(ll_event_metric(first, "val_sum_mse")));
  g_assert_false(isnan(ll_event_metric(first, "val_sum_accuracy")));
  char *split = NULL, *head = NULL, *kind = NULL;
  g_assert_true(ll_metric_parse_head("test_sum_mse", &split, &head, &kind));
  g_assert_cmpstr(split, ==, "test");
  g_assert_cmpstr(head, ==, "sum");
  g_assert_cmpstr(kind, ==, "mse");
  g_free(split);
  g_free(head);
  g_free(kind);
  g_assert_false(ll_metric_parse_head("test_accuracy", NULL, NULL, NULL));
  g_assert_false(ll_metric_parse_head("test_loss_sum", NULL, NULL, NULL));
  run_clear(&r);
}

/* E8: a multi-label BCE head reports each query's accuracy, named by the
 * dataset; together they make up the head's accuracy. */
static void test_query_accuracies(void)
{
  const char *json =
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"queries\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"seq\", \"type\": \"Input\", \"props\": {\"shape\": [6, 4]}},\n"
      "  {\"name\": \"rnn\", \"type\": \"GRU\", \"inputs\": [\"seq\"], \"props\": "
      "{\"hidden_size\": 8}},\n"
      "  {\"name\": \"answers\", \"type\": \"Linear\", \"inputs\": [\"rnn\"], \"props\": "
      "{\"out_features\": 2}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"seq-memory\", "
      "\"n\": 300, \"test_n\": 100, \"steps\": 6, \"vocab\": 4}, \"normalize\": \"none\"},\n"
      " \"losses\": [{\"output\": \"answers\", \"target\": \"label\", \"type\": "
      "\"bce_logits\"}],\n"
      " \"training\": {\"epochs\": 1, \"batch_size\": 50, \"seed\": 2,\n"
      "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}\n";
  Run r = train(json);
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FINISHED);
  double a = ll_event_metric(r.last, "test_answers.appeared_accuracy"),
         b = ll_event_metric(r.last, "test_answers.then_next_accuracy"),
         all = ll_event_metric(r.last, "test_accuracy");
  g_test_message("appeared %.4f, then_next %.4f, both %.4f", a, b, all);
  g_assert_true(a >= 0 && a <= 1 && b >= 0 && b <= 1);
  g_assert_cmpfloat_with_epsilon((a + b) / 2, all, 1e-9);
  g_assert_false(
      isnan(ll_event_metric(find_event(&r, LL_EVENT_EPOCH, 0), "val_answers.then_next_accuracy")));
  /* a two-output head is no binary classifier: no binary report */
  g_assert_true(isnan(ll_event_metric(r.last, "test_auc")));
  run_clear(&r);
}

static void test_nan_stops(void)
{
  /* plain SGD at the largest learning rate a spec accepts diverges */
  g_autoptr(GString) json = g_string_new(mlp_spec);
  g_string_replace(json, "\"type\": \"adam\", \"lr\": 0.01", "\"type\": \"sgd\", \"lr\": 100", 1);
  Run r = train(json->str);
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FAILED);
  g_test_message("%s", r.last->message);
  g_assert_true(strstr(r.last->message, "NaN") || strstr(r.last->message, "infinite"));
  g_assert_nonnull(strstr(r.last->message, "epoch 1"));
  g_assert_nonnull(strstr(r.last->message, "step"));
  g_assert_nonnull(strstr(r.last->message, "learning rate"));
  run_clear(&r);
}

static void test_same_seed_same_numbers(void)
{
  Run a = train(mlp_spec), b = train(mlp_spec);
  int n = 0;
  for (int k = 0;; k++) {
    LlEvent *ea = find_event(&a, LL_EVENT_EPOCH, k), *eb = find_event(&b, LL_EVENT_EPOCH, k);
    if (!ea || !eb) {
      g_assert_true(ea == eb);
      break;
    }
    g_assert_cmpfloat(ll_event_metric(ea, "train_loss"), ==, ll_event_metric(eb, "train_loss"));
    g_assert_cmpfloat(ll_event_metric(ea, "val_loss"), ==, ll_event_metric(eb, "val_loss"));
    n++;
  }
  g_assert_cmpint(n, ==, 15);
  g_assert_cmpfloat(ll_event_metric(a.last, "test_loss"), ==, ll_event_metric(b.last, "test_loss"));
  run_clear(&a);
  run_clear(&b);
}

static void test_pause_resume_stop(void)
{
  g_autofree char *json = g_strdup(mlp_spec);
  char *ep = strstr(json, "\"epochs\": 15");
  memcpy(ep, "\"epochs\": 99", 12);
  g_autoptr(LlSpec) s = spec_from(json);
  LlTrainOptions o = {.no_store = TRUE, .seed = -1};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_assert_true(ll_trainer_start(t, NULL));
  /* wait for the first epoch, then pause */
  gboolean epoch_seen = FALSE;
  while (!epoch_seen) {
    g_autoptr(LlEvent) e = ll_trainer_pop(t, 5 * G_USEC_PER_SEC);
    g_assert_nonnull(e);
    g_assert_cmpint(e->kind, !=, LL_EVENT_FAILED);
    epoch_seen = e->kind == LL_EVENT_EPOCH;
  }
  ll_trainer_pause(t);
  g_usleep(100000);
  LlEvent *queued;
  while ((queued = ll_trainer_pop(t, 0))) /* what was queued before the pause took effect */
    ll_event_free(queued);
  g_usleep(300000);
  g_autoptr(LlEvent) during = ll_trainer_pop(t, 0);
  g_assert_null(during);
  ll_trainer_resume(t);
  g_autoptr(LlEvent) after = ll_trainer_pop(t, 5 * G_USEC_PER_SEC);
  g_assert_nonnull(after);
  ll_trainer_stop(t);
  LlEvent *e;
  char *ckpt = NULL;
  while ((e = ll_trainer_pop(t, 5 * G_USEC_PER_SEC))) {
    if (e->kind == LL_EVENT_STOPPED)
      ckpt = g_strdup(e->checkpoint);
    gboolean end = e->kind == LL_EVENT_STOPPED || e->kind == LL_EVENT_FAILED;
    ll_event_free(e);
    if (end)
      break;
  }
  g_assert_nonnull(ckpt);
  /* the checkpoint a stop leaves is loadable into the same graph */
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s2 = spec_from(json);
  g_assert_true(ll_graph_compile(s2->graph, ll_cpu_backend(), 4, &error));
  LlLoadOptions lo = {.partial = FALSE};
  LlLoadReport rep;
  g_assert_true(ll_checkpoint_load(ckpt, s2->graph, &lo, &rep, &error));
  g_assert_no_error(error);
  ll_load_report_clear(&rep);
  g_free(ckpt);
  ll_trainer_free(t);
}

/* Inference at a larger batch (ll_graph_compile_eval) gives the outputs of the
 * training batch, leaves training untouched, and puts the outputs back. */
static void test_eval_batch(void)
{
  g_autoptr(LlSpec) s = spec_from(
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"eval-batch\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2, 7, 7]}},\n"
      "  {\"name\": \"c1\", \"type\": \"Conv2d\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_channels\": 5, \"kernel\": 3, \"padding\": 1}},\n"
      "  {\"name\": \"bn\", \"type\": \"BatchNorm2d\", \"inputs\": [\"c1\"]},\n"
      "  {\"name\": \"r1\", \"type\": \"ReLU\", \"inputs\": [\"bn\"]},\n"
      "  {\"name\": \"d\", \"type\": \"Dropout\", \"inputs\": [\"r1\"], \"props\": {\"p\": 0.5}},\n"
      "  {\"name\": \"flat\", \"type\": \"Flatten\", \"inputs\": [\"d\"]},\n"
      "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"flat\"], \"props\": "
      "{\"out_features\": 3}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\"}},\n"
      " \"training\": {\"batch_size\": 4}}\n");
  LlGraph *g = s->graph;
  const LlBackend *be = ll_cpu_backend();
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_graph_compile(g, be, 4, &error));
  LlRng rng;
  ll_rng_seed(&rng, 7);
  ll_graph_init_params(g, &rng);
  LlBlock *x = ll_graph_find(g, "x"), *out = ll_graph_find(g, "out");
  float *train_out = out->out;
  enum { N = 11, D = 2 * 7 * 7, K = 3 };
  float in[N * D], ref[N * K], got[N * K];
  for (int i = 0; i < N * D; i++)
    in[i] = (float)ll_rng_normal(&rng);
  LlRunCtx ctx = {.be = be, .training = FALSE, .seed = 1};
  for (int at = 0; at < N; at += 4) {
    ctx.batch = MIN(4, N - at);
    memcpy(x->out, in + at * D, sizeof(float) * ctx.batch * D);
    ll_graph_forward(g, &ctx);
    memcpy(ref + at * K, out->out, sizeof(float) * ctx.batch * K);
  }
  g_assert_true(ll_graph_compile_eval(g, 16, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g->eval_batch, ==, 16);
  ll_graph_use_eval(g, TRUE);
  g_assert_true(out->out != train_out);
  ctx.batch = N;
  memcpy(x->out, in, sizeof in);
  ll_graph_forward(g, &ctx);
  memcpy(got, out->out, sizeof got);
  ll_graph_use_eval(g, FALSE);
  g_assert_true(out->out == train_out);
  for (int i = 0; i < N * K; i++)
    g_assert_cmpfloat(fabsf(got[i] - ref[i]), <=, 1e-5f + 1e-5f * fabsf(ref[i]));
  /* a training step still runs on the training arena */
  ctx.batch = 4;
  ctx.training = TRUE;
  memcpy(x->out, in, sizeof(float) * 4 * D);
  ll_graph_zero_grads(g, &ctx);
  ll_graph_forward(g, &ctx);
  for (int i = 0; i < 4 * K; i++)
    out->dout[i] = 1.0f;
  ll_graph_backward(g, &ctx);
  g_assert_true(isfinite(ll_graph_find(g, "c1")->params[0].grad[0]));
  /* compiling again drops the eval arena */
  g_assert_true(ll_graph_compile(g, be, 4, &error));
  g_assert_null(g->eval_arena);
}

/* A ReLU feeding only a Dropout runs inside it, a BatchNorm feeding only a
 * ReLU runs the ReLU (and that Dropout) in its own passes, and a Linear
 * feeding only a ReLU applies it as it writes its output (LlGraph.fuse):
 * the same outputs and gradients, in training and in evaluation, bit for
 * bit, as the blocks apart; a ReLU with two consumers, or a block marked
 * keep_output, stays a block of its own. */
static void test_fused_relu_dropout(void)
{
  const char *json =
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"fuse\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2, 6, 6]}},\n"
      "  {\"name\": \"c1\", \"type\": \"Conv2d\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_channels\": 4, \"kernel\": 3, \"padding\": 1}},\n"
      "  {\"name\": \"bn\", \"type\": \"BatchNorm2d\", \"inputs\": [\"c1\"]},\n"
      "  {\"name\": \"r1\", \"type\": \"ReLU\", \"inputs\": [\"bn\"]},\n"
      "  {\"name\": \"d1\", \"type\": \"Dropout\", \"inputs\": [\"r1\"], \"props\": {\"p\": "
      "0.3}},\n"
      "  {\"name\": \"c2\", \"type\": \"Conv2d\", \"inputs\": [\"d1\"], \"props\": "
      "{\"out_channels\": 4, \"kernel\": 3, \"padding\": 1}},\n"
      "  {\"name\": \"bn2\", \"type\": \"BatchNorm2d\", \"inputs\": [\"c2\"], "
      "\"props\": {\"affine\": false}},\n"
      "  {\"name\": \"r2\", \"type\": \"ReLU\", \"inputs\": [\"bn2\"]},\n"
      "  {\"name\": \"d2\", \"type\": \"Dropout\", \"inputs\": [\"r2\"], \"props\": {\"p\": "
      "0.5}},\n"
      "  {\"name\": \"skip\", \"type\": \"Add\", \"inputs\": [\"d2\", \"r2\"]},\n"
      "  {\"name\": \"flat\", \"type\": \"Flatten\", \"inputs\": [\"skip\"]},\n"
      "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"flat\"], \"props\": "
      "{\"out_features\": 6}},\n"
      "  {\"name\": \"r3\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
      "  {\"name\": \"h2\", \"type\": \"Linear\", \"inputs\": [\"r3\"], \"props\": "
      "{\"out_features\": 7}},\n"
      "  {\"name\": \"r4\", \"type\": \"ReLU\", \"inputs\": [\"h2\"]},\n"
      "  {\"name\": \"d4\", \"type\": \"Dropout\", \"inputs\": [\"r4\"], \"props\": {\"p\": "
      "0.2}},\n"
      "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"d4\"], \"props\": "
      "{\"out_features\": 3}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\"}},\n"
      " \"training\": {\"batch_size\": 5}}\n";
  enum { N = 5, D = 2 * 6 * 6, K = 3 };
  const LlBackend *be = ll_cpu_backend();
  LlSpec *specs[2];
  float out[2][N * K], dx[2][N * K], dx_in[2][N * D];
  GPtrArray *grads[2];
  float *eval_grads[2];
  for (int f = 0; f < 2; f++) {
    specs[f] = spec_from(json);
    LlGraph *g = specs[f]->graph;
    g->fuse = f == 1;
    g->grad_inputs = TRUE;
    g_autoptr(GError) error = NULL;
    g_assert_true(ll_graph_compile(g, be, N, &error));
    LlRng rng;
    ll_rng_seed(&rng, 11);
    ll_graph_init_params(g, &rng);
    /* r1 feeds only d1: absorbed; r2 also feeds the Add: not */
    g_assert_cmpint(ll_graph_find(g, "r1")->absorbed, ==, f == 1);
    g_assert_false(ll_graph_find(g, "r2")->absorbed);
    /* bn runs r1 and d1; bn2 runs r2 (no Dropout: r2 has two consumers) */
    g_assert_true(ll_graph_find(g, "bn")->chain_end == (f ? ll_graph_find(g, "d1") : NULL));
    g_assert_true(ll_graph_find(g, "bn2")->chain_end == (f ? ll_graph_find(g, "r2") : NULL));
    g_assert_cmpint(ll_graph_find(g, "r2")->chained, ==, f == 1);
    g_assert_false(ll_graph_find(g, "d2")->chained);
    /* h applies r3, which then shares its out; h2's ReLU runs inside d4 instead */
    g_assert_cmpint(ll_graph_find(g, "h")->applies_relu, ==, f == 1);
    g_assert_cmpint(ll_graph_find(g, "r3")->relu_by_input, ==, f == 1);
    g_assert_cmpint(ll_graph_find(g, "r3")->out == ll_graph_find(g, "h")->out, ==, f == 1);
    g_assert_false(ll_graph_find(g, "h2")->applies_relu);
    g_assert_false(ll_graph_find(g, "out")->applies_relu);
    /* the convs' gradients are written whole by their chained BatchNorm */
    g_assert_cmpint(ll_graph_find(g, "c1")->dout_written, ==, f == 1);
    g_assert_cmpint(ll_graph_find(g, "c2")->dout_written, ==, f == 1);
    g_assert_false(ll_graph_find(g, "d1")->dout_written);
    LlBlock *x = ll_graph_find(g, "x"), *o = ll_graph_find(g, "out");
    ll_rng_seed(&rng, 5);
    for (int i = 0; i < N * D; i++)
      x->out[i] = (float)ll_rng_normal(&rng);
    LlRunCtx ctx = {.be = be, .batch = N, .training = TRUE, .seed = 3, .step = 9};
    ll_graph_zero_grads(g, &ctx);
    ll_graph_forward(g, &ctx);
    memcpy(out[f], o->out, sizeof out[f]);
    for (int i = 0; i < N * K; i++)
      o->dout[i] = (float)(i % 7) - 3.0f;
    ll_graph_backward(g, &ctx);
    grads[f] = g_ptr_array_new();
    for (guint b = 0; b < g->order->len; b++) {
      LlBlock *blk = g_ptr_array_index(g->order, b);
      for (int p = 0; p < blk->n_params; p++)
        if (blk->params[p].grad)
          g_ptr_array_add(grads[f], blk->params[p].grad);
    }
    memcpy(dx_in[f], x->dout, sizeof dx_in[f]);
    ctx.training = FALSE;
    ll_graph_forward(g, &ctx);
    memcpy(dx[f], o->out, sizeof dx[f]);
    /* the evaluation-mode backward (running statistics as constants) */
    ll_graph_zero_grads(g, &ctx);
    for (int i = 0; i < N * K; i++)
      o->dout[i] = (float)(i % 5) - 2.0f;
    ll_graph_backward(g, &ctx);
    eval_grads[f] = g_memdup2(x->dout, sizeof dx_in[f]);
  }
  for (int i = 0; i < N * K; i++) {
    g_assert_cmpfloat(out[0][i], ==, out[1][i]);
    g_assert_cmpfloat(dx[0][i], ==, dx[1][i]); /* evaluation */
  }
  for (int i = 0; i < N * D; i++) {
    g_assert_cmpfloat(dx_in[0][i], ==, dx_in[1][i]);
    g_assert_cmpfloat(eval_grads[0][i], ==, eval_grads[1][i]);
  }
  g_assert_cmpuint(grads[0]->len, ==, grads[1]->len);
  guint n_grads = 0;
  for (guint b = 0; b < specs[0]->graph->order->len; b++) {
    LlBlock *blk = g_ptr_array_index(specs[0]->graph->order, b);
    for (int p = 0; p < blk->n_params; p++) {
      if (!blk->params[p].grad)
        continue;
      const float *a = grads[0]->pdata[n_grads], *c = grads[1]->pdata[n_grads];
      for (size_t i = 0; i < ll_shape_size(&blk->params[p].shape); i++)
        g_assert_cmpfloat(a[i], ==, c[i]);
      n_grads++;
    }
  }
  g_assert_cmpuint(n_grads, >=, 8);
  /* a ReLU whose output is read from outside (a loss head) is kept */
  LlGraph *g = specs[1]->graph;
  ll_graph_find(g, "r1")->keep_output = TRUE;
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_graph_compile(g, be, N, &error));
  g_assert_false(ll_graph_find(g, "r1")->absorbed);
  g_assert_true(ll_graph_find(g, "bn")->chain_end == ll_graph_find(g, "r1"));
  /* and so is a Linear's */
  ll_graph_find(g, "h")->keep_output = TRUE;
  g_assert_true(ll_graph_compile(g, be, N, &error));
  g_assert_false(ll_graph_find(g, "h")->applies_relu);
  g_assert_true(ll_graph_find(g, "r3")->out != ll_graph_find(g, "h")->out);
  for (int f = 0; f < 2; f++) {
    g_free(eval_grads[f]);
    g_ptr_array_unref(grads[f]);
    ll_spec_free(specs[f]);
  }
}

#ifdef __linux__
/* A listener on the training thread: sees every event before the queue,
 * and a FALSE fails the run with its error, the event unpublished. */
typedef struct {
  GThread *main;
  GPtrArray *seen; /* LlEvent copies, in order */
  GPtrArray *checkpoints;
  gboolean off_main; /* every call came from another thread */
  int refuse_epoch;  /* fail on this epoch's event (0: never) */
} Probe;

static gboolean probe_event(gpointer data, const LlEvent *e, GError **error)
{
  Probe *p = data;
  p->off_main &= g_thread_self() != p->main;
  g_ptr_array_add(p->seen, ll_event_dup(e));
  if (e->kind == LL_EVENT_EPOCH && e->epoch == p->refuse_epoch) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "probe refused epoch %d", e->epoch);
    return FALSE;
  }
  return TRUE;
}

static gboolean probe_checkpoint(gpointer data, const char *path, GError **error)
{
  Probe *p = data;
  p->off_main &= g_thread_self() != p->main;
  g_ptr_array_add(p->checkpoints, g_strdup(path));
  return TRUE;
}

static const LlTrainerListener probe_listener = {.event = probe_event,
                                                 .checkpoint = probe_checkpoint};

static void test_listener(void)
{
  g_autofree char *json = g_strdup(mlp_spec);
  memcpy(strstr(json, "\"epochs\": 15"), "\"epochs\": 04", 12);
  g_autoptr(LlSpec) s = spec_from(json);
  Probe p = {.main = g_thread_self(),
             .seen = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free),
             .checkpoints = g_ptr_array_new_with_free_func(g_free),
             .off_main = TRUE,
             .refuse_epoch = 2};
  LlTrainOptions o = {.no_store = TRUE, .seed = -1};
  LlTrainer *t = ll_trainer_new(s, &o);
  ll_trainer_add_listener(t, &probe_listener, &p);
  g_assert_true(ll_trainer_start(t, NULL));
  g_autoptr(GPtrArray) queued = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free);
  LlEvent *e;
  while ((e = ll_trainer_pop(t, 10 * G_USEC_PER_SEC))) {
    g_ptr_array_add(queued, e);
    if (e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_FINISHED)
      break;
  }
  ll_trainer_free(t);
  g_assert_true(p.off_main);
  /* the run failed with the listener's error; epoch 2 never reached the queue */
  LlEvent *last = queued->pdata[queued->len - 1];
  g_assert_cmpint(last->kind, ==, LL_EVENT_FAILED);
  g_assert_cmpstr(last->message, ==, "probe refused epoch 2");
  int epochs = 0;
  for (guint i = 0; i < queued->len; i++)
    epochs += ((LlEvent *)queued->pdata[i])->kind == LL_EVENT_EPOCH;
  g_assert_cmpint(epochs, ==, 1);
  /* the listener saw what was queued, in the same order, plus the refused epoch */
  g_assert_cmpuint(p.seen->len, ==, queued->len + 1);
  for (guint i = 0, k = 0; i < p.seen->len; i++) {
    LlEvent *a = p.seen->pdata[i];
    if (a->kind == LL_EVENT_EPOCH && a->epoch == 2)
      continue;
    LlEvent *b = queued->pdata[k++];
    g_assert_cmpint(a->kind, ==, b->kind);
    g_assert_cmpint(a->step, ==, b->step);
  }
  /* checkpoint_every 1: last.safetensors after each epoch that got that far */
  g_assert_cmpuint(p.checkpoints->len, ==, 2);
  g_assert_true(g_str_has_suffix(p.checkpoints->pdata[0], "last.safetensors"));
  g_ptr_array_unref(p.seen);
  g_ptr_array_unref(p.checkpoints);
}

/* ll_trainer_drain hands over every event in order and says when the run
 * is over; a drained consumer that cannot take an event stops the run. */
static gboolean refuse_epochs(gpointer data, const LlEvent *e, GError **error)
{
  keep_event(data, e, error);
  return e->kind != LL_EVENT_EPOCH;
}

static void test_drain(void)
{
  g_autofree char *json = g_strdup(mlp_spec);
  memcpy(strstr(json, "\"epochs\": 15"), "\"epochs\": 03", 12);
  g_autoptr(LlSpec) s = spec_from(json);
  LlTrainOptions o = {.no_store = TRUE, .seed = -1};
  /* with no budget, each call takes what one wait brings: many calls, one run */
  LlTrainer *t = ll_trainer_new(s, &o);
  g_assert_true(ll_trainer_start(t, NULL));
  Run r = {.events = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free)};
  int calls = 1;
  while (ll_trainer_drain(t, 100000, 0, &keeper, &r))
    calls++;
  g_assert_cmpint(calls, >, 1);
  ll_trainer_join(t);
  g_assert_false(ll_trainer_drain(t, 0, 0, &keeper, &r)); /* over: nothing more comes */
  ll_trainer_free(t);
  g_assert_nonnull(find_event(&r, LL_EVENT_STARTED, 0));
  g_assert_cmpint(r.last->kind, ==, LL_EVENT_FINISHED);
  for (int k = 0; k < 3; k++)
    g_assert_cmpint(find_event(&r, LL_EVENT_EPOCH, k)->epoch, ==, k + 1);
  g_assert_null(find_event(&r, LL_EVENT_EPOCH, 3));
  run_clear(&r);
  /* a consumer that refuses the first epoch stops the run (99 epochs: long
   * enough not to finish before the consumer has seen the first) */
  s->epochs = 99;
  t = ll_trainer_new(s, &o);
  g_assert_true(ll_trainer_start(t, NULL));
  Run stopped = {.events = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free)};
  static const LlTrainerListener refuser = {.event = refuse_epochs};
  while (ll_trainer_drain(t, 100000, 100000, &refuser, &stopped))
    ;
  ll_trainer_free(t);
  g_assert_cmpint(stopped.last->kind, ==, LL_EVENT_STOPPED);
  g_assert_cmpint(find_event(&stopped, LL_EVENT_EPOCH, 0)->epoch, ==, 1);
  run_clear(&stopped);
}

/* The run recorder writes metrics.jsonl (lines without the run id), the
 * analysis, and the result with the final checkpoint in the store. */
static void test_run_recorder(void)
{
  g_autofree char *json = g_strdup(mlp_spec);
  memcpy(strstr(json, "\"epochs\": 15"), "\"epochs\": 03", 12);
  g_autoptr(LlSpec) s = spec_from(json);
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp("ll-recorder-XXXXXX", &error);
  g_assert_no_error(error);
  LlTrainOptions o = {.seed = -1, .store_root = root};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_assert_true(ll_trainer_start(t, NULL));
  g_autofree char *run_id = NULL;
  LlEvent *e;
  while ((e = ll_trainer_pop(t, 10 * G_USEC_PER_SEC))) {
    gboolean end = e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_FINISHED;
    g_assert_cmpint(e->kind, !=, LL_EVENT_FAILED);
    if (!run_id && e->run_id)
      run_id = g_strdup(e->run_id);
    ll_event_free(e);
    if (end)
      break;
  }
  ll_trainer_free(t);
  g_assert_nonnull(run_id);
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  LlRunInfo *info = NULL;
  g_assert_true(ll_run_store_get(store, run_id, &info, &error));
  g_assert_cmpint(info->status, ==, LL_RUN_FINISHED);
  g_assert_true(g_str_has_suffix(info->checkpoint, "final.safetensors"));
  g_autofree char *metrics = g_build_filename(info->dir, "metrics.jsonl", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(metrics, &text, NULL, &error));
  g_auto(GStrv) lines = g_strsplit(g_strchomp(text), "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 3);
  for (int i = 0; i < 3; i++) {
    g_assert_true(g_str_has_prefix(lines[i], "{\"event\": \"epoch\""));
    g_assert_null(strstr(lines[i], "run_id"));
  }
  g_autofree char *analysis = g_build_filename(info->dir, "analysis", "test.json", NULL);
  g_assert_true(g_file_test(analysis, G_FILE_TEST_IS_REGULAR));
  ll_run_info_free(info);
}

static int thread_nice(void)
{
  errno = 0;
  int n = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
  g_assert_cmpint(errno, ==, 0);
  return n;
}

static gpointer child_nice(gpointer data)
{
  return GINT_TO_POINTER(thread_nice());
}

static gpointer yield_thread(gpointer data)
{
  int *out = data;
  out[0] = thread_nice();
  ll_thread_yield_to_ui();
  out[1] = thread_nice();
  ll_thread_yield_to_ui(); /* twice: still the same, no error */
  out[2] = thread_nice();
  /* a thread started afterwards (t-SNE helpers, kernel workers) inherits it */
  out[3] = GPOINTER_TO_INT(g_thread_join(g_thread_new("child", child_nice, NULL)));
  return NULL;
}
#endif

/* Background work yields the CPU to the window's main loop, on its own
 * thread and the threads it starts, and leaves the caller's thread alone. */
static void test_yield_to_ui(void)
{
#ifdef __linux__
  int before = thread_nice();
  if (before >= LL_BACKGROUND_NICE) {
    g_test_skip("this test already runs at the background nice value");
    return;
  }
  int seen[4];
  g_thread_join(g_thread_new("yield", yield_thread, seen));
  g_assert_cmpint(seen[0], ==, before);
  g_assert_cmpint(seen[1], ==, LL_BACKGROUND_NICE);
  g_assert_cmpint(seen[2], ==, LL_BACKGROUND_NICE);
  g_assert_cmpint(seen[3], ==, LL_BACKGROUND_NICE);
  g_assert_cmpint(thread_nice(), ==, before);
#else
  g_test_skip("thread priorities are per process here");
#endif
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/train/mlp-learns", test_mlp_learns);
  g_test_add_func("/engine/thread/yield-to-ui", test_yield_to_ui);
  g_test_add_func("/engine/graph/eval-batch", test_eval_batch);
  g_test_add_func("/engine/graph/fused-relu-dropout", test_fused_relu_dropout);
  g_test_add_func("/engine/train/cnn-learns", test_cnn_learns);
  g_test_add_func("/engine/train/two-inputs-two-heads", test_two_inputs_two_heads);
  g_test_add_func("/engine/train/query-accuracies", test_query_accuracies);
  g_test_add_func("/engine/train/nan-stops", test_nan_stops);
  g_test_add_func("/engine/train/same-seed-same-numbers", test_same_seed_same_numbers);
  g_test_add_func("/engine/train/pause-resume-stop", test_pause_resume_stop);
  g_test_add_func("/engine/train/listener", test_listener);
  g_test_add_func("/engine/train/drain", test_drain);
  g_test_add_func("/engine/train/run-recorder", test_run_recorder);
  return g_test_run();
}
