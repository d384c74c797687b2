/* test-study.c: override paths, grid expansion, block groups, parameter
 * budgets, TPE on a cheap objective, resuming a study, the best trial of a
 * study whose stages have metrics of their own, and the accuracy of a
 * regression head on an integer target. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "study.h"

#define BLOBS_DATA                                                                                 \
  "\"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 600, "       \
  "\"test_n\": 200, \"classes\": 3, \"features\": 2, \"noise\": 0.3}, \"normalize\": \"none\"},\n"

static const char *mlp_spec =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mlp-blobs\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"fc1\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
    "{\"out_features\": 16}},\n"
    "  {\"name\": \"act1\", \"type\": \"LeakyReLU\", \"inputs\": [\"fc1\"]},\n"
    "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"act1\"], \"props\": "
    "{\"out_features\": 3}}]},\n" BLOBS_DATA
    " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}],\n"
    " \"training\": {\"epochs\": 2, \"batch_size\": 50, \"seed\": 3, \"threads\": 1,\n"
    "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}\n";

static JsonNode *num(double v) { return json_node_init_double(json_node_alloc(), v); }
static JsonNode *integer(gint64 v) { return json_node_init_int(json_node_alloc(), v); }

static LlSpec *load(const char *text)
{
  g_autoptr(GError) error = NULL;
  LlSpec *s = ll_spec_load_data(text, -1, "variant", &error);
  g_assert_no_error(error);
  return s;
}

static void test_override_paths(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) lr = num(0.125);
  g_autofree char *a = ll_spec_json_override(mlp_spec, "training.optimizer.lr", lr, &error);
  g_assert_no_error(error);
  g_autoptr(LlSpec) sa = load(a);
  g_assert_cmpfloat(sa->optim.lr, ==, 0.125);

  g_autoptr(JsonNode) w = integer(40);
  g_autofree char *b = ll_spec_json_override(a, "graph.blocks.fc1.props.out_features", w, &error);
  g_assert_no_error(error);
  g_autoptr(LlSpec) sb = load(b);
  g_assert_cmpint(ll_graph_find(sb->graph, "fc1")->props[0].i, ==, 40);

  /* the wildcard reaches every block whose type has the property */
  g_autoptr(JsonNode) slope = num(0.25);
  g_autofree char *c =
      ll_spec_json_override(mlp_spec, "graph.blocks.*.props.negative_slope", slope, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(c, "negative_slope"));
  g_autoptr(LlSpec) sc = load(c);
  g_assert_cmpfloat(ll_graph_find(sc->graph, "act1")->props[0].f, ==, 0.25);

  /* a missing schedule object is created */
  g_autoptr(JsonNode) ty = json_node_init_string(json_node_alloc(), "cosine");
  g_autofree char *d = ll_spec_json_override(mlp_spec, "training.schedule.type", ty, &error);
  g_assert_no_error(error);
  g_autoptr(LlSpec) sd = load(d);
  g_assert_cmpint(sd->schedule.kind, ==, LL_SCHED_COSINE);

  /* bad paths: the error names the path */
  const char *bad[] = {"graph.blocks.nosuch.props.out_features", "training.optimizer.lr.x",
                       "nonsense.lr", "graph.blocks.*.props.no_such_prop", "training..lr"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_autofree char *t = ll_spec_json_override(mlp_spec, bad[i], lr, &e);
    g_assert_null(t);
    g_assert_nonnull(e);
    g_test_message("%s", e->message);
    g_assert_nonnull(strstr(e->message, bad[i]));
  }
  /* a value of the wrong type passes the override and fails validation with the field */
  g_autoptr(JsonNode) s = json_node_init_string(json_node_alloc(), "fast");
  g_autofree char *e = ll_spec_json_override(mlp_spec, "training.optimizer.lr", s, &error);
  g_assert_no_error(error);
  g_autoptr(LlSpec) none = ll_spec_load_data(e, -1, "variant", &error);
  g_assert_null(none);
  g_assert_nonnull(strstr(error->message, "training.optimizer"));
  g_assert_nonnull(strstr(error->message, "lr"));
}

static void test_grid(void)
{
  LlAxis axes[3] = {0};
  axes[0].kind = LL_AXIS_VALUES;
  axes[0].path = (char *)"a";
  axes[0].values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  g_ptr_array_add(axes[0].values, num(0.1));
  g_ptr_array_add(axes[0].values, num(0.01));
  axes[1] = (LlAxis){.path = (char *)"b", .kind = LL_AXIS_INT, .lo = 2, .hi = 4};
  axes[2].kind = LL_AXIS_VALUES;
  axes[2].path = (char *)"c";
  axes[2].values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
  g_ptr_array_add(axes[2].values, json_node_init_string(json_node_alloc(), "adam"));
  g_ptr_array_add(axes[2].values, json_node_init_string(json_node_alloc(), "sgd"));
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(ll_search_grid_size(axes, 3, &error), ==, 12);
  /* row-major, last axis fastest; all points distinct */
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 12; i++) {
    double x[3];
    ll_search_grid_point(axes, 3, i, x);
    if (i == 0)
      g_assert_true(x[0] == 0 && x[1] == 2 && x[2] == 0);
    if (i == 1)
      g_assert_true(x[0] == 0 && x[1] == 2 && x[2] == 1);
    if (i == 11)
      g_assert_true(x[0] == 1 && x[1] == 4 && x[2] == 1);
    g_hash_table_add(seen, g_strdup_printf("%g %g %g", x[0], x[1], x[2]));
  }
  g_assert_cmpint(g_hash_table_size(seen), ==, 12);
  g_autoptr(JsonNode) v = ll_axis_value(&axes[1], 3);
  g_assert_cmpint(json_node_get_int(v), ==, 3);
  /* a continuous axis has no grid */
  LlAxis cont = {
      .path = (char *)"training.optimizer.lr", .kind = LL_AXIS_LOG_UNIFORM, .lo = 1e-4, .hi = 1e-1};
  g_assert_cmpint(ll_search_grid_size(&cont, 1, &error), ==, -1);
  g_assert_nonnull(strstr(error->message, "training.optimizer.lr"));
  g_ptr_array_unref(axes[0].values);
  g_ptr_array_unref(axes[2].values);
}

/* A study over the MLP with a hidden group and a parameter budget. */
static char *budget_study(gint64 budget)
{
  return g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"budget\",\n"
      " \"spec\": %s,\n"
      " \"groups\": {\"hidden\": {\"blocks\": [\"fc1\", \"act1\"], \"repeat\": 1}},\n"
      " \"param_budget\": %" G_GINT64_FORMAT ", \"solve_width\": "
      "\"graph.blocks.fc1.props.out_features\",\n"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": [{\"path\": \"graph.group.hidden.repeat\", "
      "\"values\": [1, 2, 3, 4]}]}}",
      mlp_spec, budget);
}

static void test_groups_and_budget(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = budget_study(20000);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "budget.json", ".", &error);
  g_assert_no_error(error);
  for (int depth = 1; depth <= 4; depth++) {
    double x = depth - 1; /* index into the values */
    gint64 params = 0;
    g_autofree char *v = ll_study_variant_json(s, &x, &params, &error);
    g_assert_no_error(error);
    g_autoptr(LlSpec) spec = load(v);
    g_assert_true(ll_graph_infer(spec->graph, &error));
    g_assert_cmpint((gint64)ll_graph_param_count(spec->graph), ==, params);
    g_test_message("depth %d: %" G_GINT64_FORMAT " params", depth, params);
    g_assert_cmpfloat(fabs((double)params - 20000) / 20000, <=, 0.02);
    /* the copies are chained: fc1 -> act1 -> fc1_2 -> act1_2 -> ... -> out */
    char last[32] = "act1";
    if (depth > 1)
      g_snprintf(last, sizeof last, "act1_%d", depth);
    LlBlock *out = ll_graph_find(spec->graph, "out");
    g_assert_cmpstr(out->input_names[0], ==, last);
    for (int k = 2; k <= depth; k++) {
      g_autofree char *fc = g_strdup_printf("fc1_%d", k);
      g_autofree char *prev = k == 2 ? g_strdup("act1") : g_strdup_printf("act1_%d", k - 1);
      LlBlock *b = ll_graph_find(spec->graph, fc);
      g_assert_nonnull(b);
      g_assert_cmpstr(b->input_names[0], ==, prev);
    }
  }
}

static void test_group_zero(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"spec\": %s,\n"
      " \"groups\": {\"hidden\": {\"blocks\": [\"fc1\", \"act1\"]}},\n"
      " \"sweep\": {\"axes\": [{\"path\": \"graph.group.hidden.repeat\", \"values\": [0]}]}}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "zero.json", ".", &error);
  g_assert_no_error(error);
  double x = 0;
  gint64 params = 0;
  g_autofree char *v = ll_study_variant_json(s, &x, &params, &error);
  g_assert_no_error(error);
  g_autoptr(LlSpec) spec = load(v);
  g_assert_null(ll_graph_find(spec->graph, "fc1"));
  g_assert_cmpstr(ll_graph_find(spec->graph, "out")->input_names[0], ==, "x");
  g_assert_cmpint(params, ==, 2 * 3 + 3);
  /* an unknown group is an error naming the path */
  g_autofree char *bad = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"spec\": %s,\n"
      " \"sweep\": {\"axes\": [{\"path\": \"graph.group.nope.repeat\", \"values\": [2]}]}}",
      mlp_spec);
  g_autoptr(LlStudy) sb = ll_study_load_data(bad, -1, "bad.json", ".", &error);
  g_assert_no_error(error);
  g_autofree char *none = ll_study_variant_json(sb, &x, NULL, &error);
  g_assert_null(none);
  g_assert_nonnull(strstr(error->message, "graph.group.nope.repeat"));
}

/* f(x) = (x - 0.37)^2 on [-2, 2]: the best found after n trials. */
static double search_best(LlSearchMode mode, uint64_t seed, int n)
{
  LlAxis a = {.path = (char *)"x", .kind = LL_AXIS_UNIFORM, .lo = -2, .hi = 2};
  g_autofree LlObservation *h = g_new0(LlObservation, n);
  g_autofree double *xs = g_new(double, n);
  double best = INFINITY;
  for (int i = 0; i < n; i++) {
    ll_search_suggest(&a, 1, mode, h, i, FALSE, seed, i, &xs[i]);
    g_assert_cmpfloat(xs[i], >=, -2);
    g_assert_cmpfloat(xs[i], <=, 2);
    h[i].x = &xs[i];
    h[i].objective = (xs[i] - 0.37) * (xs[i] - 0.37);
    best = MIN(best, h[i].objective);
  }
  return best;
}

static void test_tpe(void)
{
  double tpe = 0, rnd = 0;
  const int seeds = 6, n = 30;
  for (int s = 1; s <= seeds; s++) {
    double bt = search_best(LL_SEARCH_TPE, s, n), br = search_best(LL_SEARCH_RANDOM, s, n);
    g_test_message("seed %d: tpe %.2e random %.2e", s, bt, br);
    g_assert_cmpfloat(bt, <, 1e-3); /* |x - 0.37| < 0.03 */
    tpe += log10(bt + 1e-12) / seeds;
    rnd += log10(br + 1e-12) / seeds;
  }
  g_test_message("mean log10 best: tpe %.2f random %.2f", tpe, rnd);
  g_assert_cmpfloat(tpe, <, rnd);
  /* same seed and history: the same suggestion (resuming relies on it) */
  g_assert_cmpfloat(search_best(LL_SEARCH_TPE, 3, 12), ==, search_best(LL_SEARCH_TPE, 3, 12));
  /* a categorical axis: TPE concentrates on the best choice */
  LlAxis c = {.path = (char *)"c",
              .kind = LL_AXIS_VALUES,
              .values = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref)};
  for (int k = 0; k < 4; k++)
    g_ptr_array_add(c.values, integer(k));
  LlObservation h[40];
  double xs[40];
  int picks = 0;
  for (int i = 0; i < 40; i++) {
    ll_search_suggest(&c, 1, LL_SEARCH_TPE, h, i, TRUE, 5, i, &xs[i]);
    h[i].x = &xs[i];
    h[i].objective = xs[i] == 2 ? 1.0 : 0.0;
    picks += i >= 20 && xs[i] == 2;
  }
  g_assert_cmpint(picks, >=, 12);
  g_ptr_array_unref(c.values);
}

static int count_lines(const char *path)
{
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  int n = 0;
  for (char *p = text; *p; p++)
    n += *p == '\n';
  return n;
}

static int runs_started;
static void on_started(const LlTrial *t, int total, gpointer data) { runs_started++; }

static void test_resume(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"lr\", \"spec\": %s,\n"
      " \"metric\": \"test_accuracy\",\n"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": [{\"path\": \"training.optimizer.lr\", "
      "\"values\": [0.01, 0.003, 0.001]}]}}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "lr.json", ".", &error);
  g_assert_no_error(error);
  LlStudyCallbacks cb = {.trial_started = on_started};
  LlStudyOptions o = {.store_root = root, .epochs = 1};
  runs_started = 0;
  g_assert_true(ll_study_run(s, &o, &cb, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(runs_started, ==, 3);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 3);
  g_autofree char *first_run = g_strdup(((LlTrial *)trials->pdata[0])->run_id);
  for (guint i = 0; i < 3; i++) {
    LlTrial *t = trials->pdata[i];
    g_assert_cmpint(t->status, ==, LL_TRIAL_FINISHED);
    g_assert_true(isfinite(t->metric));
    g_assert_cmpint(t->params, ==, 2 * 16 + 16 + 16 * 3 + 3);
  }
  g_assert_nonnull(ll_study_best(s));
  g_autofree char *id = g_strdup(ll_study_id(s));
  g_autofree char *jsonl = g_build_filename(ll_study_dir(s), "trials.jsonl", NULL);
  g_autofree char *csv = g_build_filename(ll_study_dir(s), "results.csv", NULL);
  g_autofree char *sj = g_build_filename(ll_study_dir(s), "study.json", NULL);
  g_assert_cmpint(count_lines(jsonl), ==, 3);
  g_assert_cmpint(count_lines(csv), ==, 4);
  g_autofree char *header = NULL;
  g_assert_true(g_file_get_contents(csv, &header, NULL, NULL));
  g_assert_true(g_str_has_prefix(header, "index,stage,label,training.optimizer.lr,params,epochs,"
                                         "samples,seed,test_accuracy,status,seconds,run_id\n"));
  /* the saved study.json is self-contained */
  g_autoptr(LlStudy) saved = ll_study_load_file(sj, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ll_study_n_axes(saved), ==, 1);

  /* lose the last trial, as if the process died during it; resuming runs only that one */
  g_autofree char *all = NULL;
  g_assert_true(g_file_get_contents(jsonl, &all, NULL, NULL));
  char *cut = strchr(strchr(all, '\n') + 1, '\n') + 1;
  *cut = '\0';
  g_assert_true(g_file_set_contents(jsonl, all, -1, NULL));
  runs_started = 0;
  o.resume = id;
  g_assert_true(ll_study_run(saved, &o, &cb, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(runs_started, ==, 1);
  g_assert_cmpstr(ll_study_id(saved), ==, id);
  trials = ll_study_trials(saved);
  g_assert_cmpint(trials->len, ==, 3);
  g_assert_cmpstr(((LlTrial *)trials->pdata[0])->run_id, ==, first_run);
  g_assert_cmpint(count_lines(jsonl), ==, 3);
  /* an unknown id is an error */
  o.resume = "19700101-000000-dead";
  g_assert_false(ll_study_run(saved, &o, &cb, NULL, &error));
  g_assert_nonnull(strstr(error->message, "19700101-000000-dead"));
}

/* Two heads on blobs: a classifier (cls) and the class plus a random
 * number 0-3 (sum, MSE). */
static const char *sum_spec =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"sum\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"r\", \"type\": \"Input\", \"props\": {\"shape\": [1]}},\n"
    "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
    "{\"out_features\": 16}},\n"
    "  {\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
    "  {\"name\": \"cls\", \"type\": \"Linear\", \"inputs\": [\"a\"], \"props\": "
    "{\"out_features\": 3}},\n"
    "  {\"name\": \"j\", \"type\": \"Concat\", \"inputs\": [\"a\", \"r\"]},\n"
    "  {\"name\": \"h2\", \"type\": \"Linear\", \"inputs\": [\"j\"], \"props\": "
    "{\"out_features\": 32}},\n"
    "  {\"name\": \"a2\", \"type\": \"ReLU\", \"inputs\": [\"h2\"]},\n"
    "  {\"name\": \"sum\", \"type\": \"Linear\", \"inputs\": [\"a2\"], \"props\": "
    "{\"out_features\": 1}}]},\n"
    " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 1500, "
    "\"test_n\": 400, \"classes\": 3, \"features\": 2, \"noise\": 0.3}, \"normalize\": "
    "\"none\",\n"
    "  \"random_field\": {\"min\": 0, \"max\": 3}},\n"
    " \"inputs\": {\"x\": \"x\", \"r\": \"random\"},\n"
    " \"losses\": [{\"output\": \"cls\", \"target\": \"label\", \"type\": \"cross_entropy\"},\n"
    "  {\"output\": \"sum\", \"target\": \"label_plus_random\", \"type\": \"mse\"}],\n"
    " \"training\": {\"epochs\": 25, \"batch_size\": 50, \"seed\": 2, \"threads\": 1,\n"
    "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}}}\n";

/* E15's second head: MSE on label + random, scored by its rounded prediction. */
static void test_regression_accuracy(void)
{
  g_autoptr(LlSpec) s = load(sum_spec);
  LlTrainOptions o = {.no_store = TRUE, .seed = -1};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_trainer_start(t, &error));
  double acc = NAN, sum_acc = NAN, val_sum = NAN, train_acc = NAN;
  for (;;) {
    g_autoptr(LlEvent) e = ll_trainer_pop(t, 100000);
    if (!e) {
      if (!ll_trainer_is_running(t) && !(e = ll_trainer_pop(t, 0)))
        break;
      if (!e)
        continue;
    }
    if (e->kind == LL_EVENT_FAILED)
      g_error("%s", e->message);
    if (e->kind == LL_EVENT_EPOCH) {
      val_sum = ll_event_metric(e, "val_sum_accuracy");
      train_acc = ll_event_metric(e, "train_accuracy");
    }
    if (e->kind == LL_EVENT_FINISHED) {
      acc = ll_event_metric(e, "test_accuracy");
      sum_acc = ll_event_metric(e, "test_sum_accuracy");
    }
  }
  ll_trainer_free(t);
  g_test_message("class accuracy %.3f, sum accuracy %.3f", acc, sum_acc);
  g_assert_true(isfinite(val_sum));
  g_assert_true(isfinite(train_acc)); /* from the classification head */
  g_assert_cmpfloat(acc, >=, 0.9);
  /* chance is about 1/7 over the 7 sums; learning gets far above it */
  g_assert_cmpfloat(sum_acc, >=, 0.6);
  g_assert_cmpfloat(sum_acc, <=, 1.0);
}

/* A stage judged by a metric of its own (here test_loss, as a pretraining
 * stage would be) keeps that metric for its own trials, but the study's best
 * trial is chosen by the study's metric: an untrained stage whose loss
 * (about ln 3) is larger than any accuracy must not win a test_accuracy
 * study. */
/* A study's metric can name a head: a regression head's MSE is minimised
 * (an accuracy, AUC or F1 would be maximised), and each trial's metric is
 * that head's test metric. */
static void test_head_metric(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"heads\", \"spec\": %s,\n"
      " \"metric\": \"test_sum_mse\",\n"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": [{\"path\": \"training.optimizer.lr\", "
      "\"values\": [1e-9, 0.01]}]}}",
      sum_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "heads.json", ".", &error);
  g_assert_no_error(error);
  g_assert_false(ll_study_maximize(s));
  LlStudyOptions o = {.store_root = root, .epochs = 4};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 2);
  LlTrial *frozen = trials->pdata[0], *trained = trials->pdata[1];
  for (guint i = 0; i < 2; i++) {
    LlTrial *t = trials->pdata[i];
    g_assert_cmpint(t->status, ==, LL_TRIAL_FINISHED);
    g_assert_cmpfloat(t->metric, ==, json_object_get_double_member(t->metrics, "test_sum_mse"));
    g_assert_true(json_object_has_member(t->metrics, "test_cls_accuracy"));
    g_assert_true(json_object_has_member(t->metrics, "test_sum_accuracy"));
  }
  g_test_message("sum MSE: lr 1e-9 %.4f, lr 0.01 %.4f", frozen->metric, trained->metric);
  g_assert_cmpfloat(trained->metric, <, frozen->metric);
  g_assert_true(ll_study_best(s) == trained);
  /* the direction of the other metrics a head reports */
  const char *up[] = {"test_cls_accuracy", "test_auc", "val_f1", "test_precision", "test_recall"};
  for (guint i = 0; i < G_N_ELEMENTS(up); i++)
    g_assert_true(ll_metric_higher_is_better(up[i]));
  g_assert_false(ll_metric_higher_is_better("test_sum_mse"));
  g_assert_false(ll_metric_higher_is_better("val_loss_sum"));
}

static void test_stage_metric(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text =
      g_strdup_printf("{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"stages\",\n"
                      " \"metric\": \"test_accuracy\",\n"
                      " \"stages\": [\n"
                      "  {\"name\": \"untrained\", \"spec\": %s, \"metric\": \"test_loss\",\n"
                      "   \"overrides\": {\"training.optimizer.lr\": 1e-9}},\n"
                      "  {\"name\": \"trained\", \"spec\": %s}]}",
                      mlp_spec, mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "stages.json", ".", &error);
  g_assert_no_error(error);
  LlStudyOptions o = {.store_root = root, .epochs = 2};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 2);
  LlTrial *untrained = trials->pdata[0], *trained = trials->pdata[1];
  g_assert_cmpint(untrained->status, ==, LL_TRIAL_FINISHED);
  g_assert_cmpint(trained->status, ==, LL_TRIAL_FINISHED);
  /* each trial keeps its stage's metric */
  g_assert_cmpfloat(untrained->metric, >, 1.0);
  g_assert_cmpfloat(trained->metric, >, 0.8);
  g_assert_cmpfloat(trained->metric, <=, 1.0);
  g_assert_cmpstr(ll_study_stage_metric(s, untrained), ==, "test_loss");
  g_assert_cmpstr(ll_study_stage_metric(s, trained), ==, "test_accuracy");
  /* the study's metric for each, as its results table shows */
  g_assert_cmpfloat(ll_study_trial_metric(s, untrained), <, 0.8);
  g_assert_cmpfloat(ll_study_trial_metric(s, trained), ==, trained->metric);
  g_assert_true(ll_study_best(s) == trained);
  g_assert_cmpfloat(ll_study_best_metric(s), ==, trained->metric);
}

/* Trial labels read as words: an optimizer object is "SGD, lr 0.05", not its JSON. */
static void test_labels_in_words(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"optimizers\",\n"
      " \"spec\": %s,\n"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": [\n"
      "  {\"path\": \"training.optimizer\", \"values\": [{\"type\": \"sgd\", \"lr\": 0.05},\n"
      "   {\"type\": \"adam\", \"lr\": 0.001, \"weight_decay\": 0.0001}]},\n"
      "  {\"path\": \"training.batch_size\", \"values\": [32]}]}}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "optimizers.json", ".", &error);
  g_assert_no_error(error);
  LlStudyOptions o = {.store_root = root, .epochs = 1};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 2);
  g_assert_cmpstr(((LlTrial *)trials->pdata[0])->label, ==, "SGD, lr 0.05; batch_size=32");
  g_assert_cmpstr(((LlTrial *)trials->pdata[1])->label, ==,
                  "Adam, lr 0.001, weight_decay 0.0001; batch_size=32");
}

/* The row of results.csv whose first cell is index, split into cells (no quoting in these). */
static char **csv_row(const char *path, int index, char ***header)
{
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  *header = g_strsplit(lines[0], ",", -1);
  g_assert_cmpint(g_strv_length(lines), >, index + 1);
  return g_strsplit(lines[index + 1], ",", -1);
}

static const char *csv_cell_of(char **header, char **row, const char *column)
{
  for (int i = 0; header[i]; i++)
    if (!strcmp(header[i], column))
      return row[i];
  g_error("no column %s", column);
  return NULL;
}

/* --epochs shortens every stage in proportion (a stage three times as long
 * as another stays so), --limit never raises a stage's own sample limit, and
 * the trials and results.csv say what ran. */
static void test_shortening(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"short\",\n"
      " \"spec\": %s,\n"
      " \"stages\": [\n"
      "  {\"name\": \"long\", \"overrides\": {\"training.epochs\": 6}},\n"
      "  {\"name\": \"short\", \"overrides\": {\"training.epochs\": 2,\n"
      "   \"data.dataset.limit_train\": 100}}]}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "short.json", ".", &error);
  g_assert_no_error(error);
  LlStudyOptions o = {.store_root = root, .epochs = 3, .limit = 300};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 2);
  LlTrial *lng = trials->pdata[0], *shrt = trials->pdata[1];
  g_assert_cmpint(lng->status, ==, LL_TRIAL_FINISHED);
  g_assert_cmpint(shrt->status, ==, LL_TRIAL_FINISHED);
  /* 6 : 2 becomes 3 : 1, not 3 : 3 */
  g_assert_cmpint(lng->epochs, ==, 3);
  g_assert_cmpint(shrt->epochs, ==, 1);
  g_assert_cmpint(lng->curve->len, ==, 3);
  /* 300 and the stage's own 100, each less its 10 % validation split */
  g_assert_cmpint(lng->samples, ==, 270);
  g_assert_cmpint(shrt->samples, ==, 90);
  g_assert_cmpint(lng->seed, ==, 3);
  g_autofree char *csv = g_build_filename(ll_study_dir(s), "results.csv", NULL);
  g_auto(GStrv) header = NULL;
  g_auto(GStrv) row = csv_row(csv, 1, &header);
  g_assert_cmpstr(csv_cell_of(header, row, "stage"), ==, "short");
  g_assert_cmpstr(csv_cell_of(header, row, "epochs"), ==, "1");
  g_assert_cmpstr(csv_cell_of(header, row, "samples"), ==, "90");
  /* read back from trials.jsonl */
  g_autoptr(LlStudy) again = ll_study_open_dir(ll_study_dir(s), &error);
  g_assert_no_error(error);
  LlTrial *back = ll_study_trials(again)->pdata[0];
  g_assert_cmpint(back->epochs, ==, 3);
  g_assert_cmpint(back->samples, ==, 270);
  /* the spec a trial trained is the shortened one */
  g_autoptr(LlSpec) ran = load(lng->spec_json);
  g_assert_cmpint(ran->epochs, ==, 3);
  g_assert_cmpint(ran->dataset.limit_train, ==, 300);
}

static LlTrial *fake_trial(const char *key, int repeat, double acc)
{
  LlTrial *t = g_new0(LlTrial, 1);
  t->key = g_strdup(key);
  t->repeat = repeat;
  t->metric = acc;
  t->status = isfinite(acc) ? LL_TRIAL_FINISHED : LL_TRIAL_FAILED;
  t->metrics = json_object_new();
  if (isfinite(acc))
    json_object_set_double_member(t->metrics, "test_accuracy", acc);
  return t;
}

/* Repeats over seeds: a group per configuration with the mean and the
 * sample standard deviation, ranked by the mean, not by the luckiest seed. */
static void test_trial_groups(void)
{
  g_autoptr(GPtrArray) trials = g_ptr_array_new_with_free_func((GDestroyNotify)ll_trial_free);
  g_ptr_array_add(trials, fake_trial("t0", 0, 0.9));
  g_ptr_array_add(trials, fake_trial("t0/r1", 1, 0.1));
  g_ptr_array_add(trials, fake_trial("t0/r2", 2, 0.2));
  g_ptr_array_add(trials, fake_trial("t1", 0, 0.5));
  g_ptr_array_add(trials, fake_trial("t1/r1", 1, 0.7));
  g_ptr_array_add(trials, fake_trial("t1/r2", 2, NAN)); /* failed: counted, not averaged */
  g_ptr_array_add(trials, fake_trial("t10", 0, 0.3));   /* not a repeat of t1 */
  g_autoptr(GArray) g = ll_trial_groups(trials, "test_accuracy");
  g_assert_cmpint(g->len, ==, 3);
  LlTrialGroup *a = &g_array_index(g, LlTrialGroup, 0), *b = &g_array_index(g, LlTrialGroup, 1);
  g_assert_cmpstr(a->first->key, ==, "t0");
  g_assert_cmpint(a->n, ==, 3);
  g_assert_cmpint(a->n_finished, ==, 3);
  g_assert_cmpfloat_with_epsilon(a->mean, 0.4, 1e-12);
  /* sqrt(((0.5)^2 + (-0.3)^2 + (-0.2)^2) / 2) */
  g_assert_cmpfloat_with_epsilon(a->sd, sqrt(0.19), 1e-12);
  g_assert_cmpfloat(a->min, ==, 0.1);
  g_assert_cmpfloat(a->max, ==, 0.9);
  g_assert_cmpint(b->n, ==, 3);
  g_assert_cmpint(b->n_finished, ==, 2);
  g_assert_cmpfloat_with_epsilon(b->mean, 0.6, 1e-12);
  g_assert_cmpfloat_with_epsilon(b->sd, sqrt(0.02), 1e-12);
  g_assert_cmpint(g_array_index(g, LlTrialGroup, 2).n, ==, 1);
  g_assert_cmpfloat(g_array_index(g, LlTrialGroup, 2).sd, ==, 0);
  ll_trial_groups_rank(g, TRUE);
  g_assert_cmpstr(g_array_index(g, LlTrialGroup, 0).first->key, ==, "t1");
  g_assert_cmpstr(g_array_index(g, LlTrialGroup, 1).first->key, ==, "t0");
  g_assert_cmpstr(g_array_index(g, LlTrialGroup, 2).first->key, ==, "t10");
  ll_trial_groups_rank(g, FALSE);
  g_assert_cmpstr(g_array_index(g, LlTrialGroup, 0).first->key, ==, "t10");
}

/* "repeats": 3 runs every configuration with seeds 3, 4, 5 (the spec's and
 * the next two), keeps a row per seed in results.csv, and the study's best
 * is the configuration with the best mean. */
static void test_repeats(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"seeds\", \"spec\": %s,\n"
      " \"repeats\": 3,\n"
      " \"sweep\": {\"mode\": \"grid\", \"axes\": [{\"path\": \"training.optimizer.lr\", "
      "\"values\": [0.01, 1e-9]}]}}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "seeds.json", ".", &error);
  g_assert_no_error(error);
  g_assert_cmpint(ll_study_repeats(s), ==, 3);
  g_autofree char *outline = ll_study_outline(s);
  g_assert_nonnull(strstr(outline, "3 seeds"));
  LlStudyOptions o = {.store_root = root};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 6);
  for (guint i = 0; i < 6; i++) {
    LlTrial *t = trials->pdata[i];
    g_assert_cmpint(t->status, ==, LL_TRIAL_FINISHED);
    g_assert_cmpint(t->repeat, ==, (int)i % 3);
    g_assert_cmpint(t->seed, ==, 3 + (int)i % 3);
    g_assert_true(ll_trial_same_group(t, trials->pdata[i / 3 * 3]));
    g_assert_false(ll_trial_same_group(t, trials->pdata[(i / 3 * 3 + 3) % 6]));
  }
  /* the seeds differ in what they learn */
  g_assert_cmpfloat(((LlTrial *)trials->pdata[0])->metric, !=,
                    ((LlTrial *)trials->pdata[1])->metric);
  g_autofree char *csv = g_build_filename(ll_study_dir(s), "results.csv", NULL);
  g_assert_cmpint(count_lines(csv), ==, 7);
  g_auto(GStrv) header = NULL;
  g_auto(GStrv) row = csv_row(csv, 4, &header);
  g_assert_cmpstr(csv_cell_of(header, row, "seed"), ==, "4");
  g_assert_cmpstr(csv_cell_of(header, row, "training.optimizer.lr"), ==, "1e-09");
  /* the best configuration by its mean; the study's best metric is that mean */
  g_autoptr(GArray) groups = ll_trial_groups(trials, NULL);
  g_assert_cmpint(groups->len, ==, 2);
  LlTrialGroup *trained = &g_array_index(groups, LlTrialGroup, 0);
  double sum = 0;
  for (int i = 0; i < 3; i++)
    sum += ((LlTrial *)trials->pdata[i])->metric;
  g_assert_cmpfloat_with_epsilon(trained->mean, sum / 3, 1e-12);
  g_assert_true(ll_trial_same_group(ll_study_best(s), trials->pdata[0]));
  g_assert_cmpfloat_with_epsilon(ll_study_best_metric(s), trained->mean, 1e-12);
  LlTrialGroup best;
  g_assert_true(ll_study_best_group(s, &best));
  g_assert_cmpint(best.n, ==, 3);
  g_assert_cmpfloat(best.sd, >, 0);

  /* a study folder whose luckiest seed is in the worse configuration: the
   * mean decides (read back from trials.jsonl, as the window and report do) */
  g_autofree char *dir = g_build_filename(root, "made", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *sj = g_build_filename(dir, "study.json", NULL);
  g_assert_true(g_file_set_contents(sj, text, -1, NULL));
  const char *lines =
      "{\"index\":0,\"key\":\"t0\",\"stage\":\"sweep\",\"status\":\"finished\",\"repeat\":0,"
      "\"metrics\":{\"test_accuracy\":0.95}}\n"
      "{\"index\":1,\"key\":\"t0/r1\",\"stage\":\"sweep\",\"status\":\"finished\",\"repeat\":1,"
      "\"metrics\":{\"test_accuracy\":0.35}}\n"
      "{\"index\":2,\"key\":\"t1\",\"stage\":\"sweep\",\"status\":\"finished\",\"repeat\":0,"
      "\"metrics\":{\"test_accuracy\":0.8}}\n"
      "{\"index\":3,\"key\":\"t1/r1\",\"stage\":\"sweep\",\"status\":\"finished\",\"repeat\":1,"
      "\"metrics\":{\"test_accuracy\":0.7}}\n";
  g_autofree char *tj = g_build_filename(dir, "trials.jsonl", NULL);
  g_assert_true(g_file_set_contents(tj, lines, -1, NULL));
  g_autoptr(LlStudy) made = ll_study_open_dir(dir, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ll_study_best(made)->key, ==, "t1");
  g_assert_cmpfloat_with_epsilon(ll_study_best_metric(made), 0.75, 1e-12);
}

/* With repeats, seed r of a stage starts from seed r of the stage it loads
 * (init_from), and each seed's export has a name of its own. */
static void test_repeats_init_from(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"name\": \"chain\", \"spec\": %s,\n"
      " \"repeats\": 2,\n"
      " \"stages\": [{\"name\": \"first\", \"metric\": \"test_loss\",\n"
      "   \"export_outputs\": {\"block\": \"out\", \"target\": \"label\", \"samples\": 2,"
      " \"path\": \"out.csv\"}},\n"
      "  {\"name\": \"second\", \"init_from\": [{\"stage\": \"first\", \"blocks\": [\"fc1\"]}]},\n"
      "  {\"name\": \"widths\", \"repeat\": [8, 4],\n"
      "   \"overrides\": {\"graph.blocks.fc1.props.out_features\": \"$value\"},\n"
      "   \"export_outputs\": {\"block\": \"out\", \"target\": \"label\", \"samples\": 2,"
      " \"path\": \"w.csv\"}}]}",
      mlp_spec);
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "chain.json", ".", &error);
  g_assert_no_error(error);
  LlStudyOptions o = {.store_root = root, .epochs = 1};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpint(trials->len, ==, 8);
  for (int r = 0; r < 2; r++) {
    LlTrial *first = trials->pdata[r], *second = trials->pdata[2 + r];
    g_assert_cmpint(first->status, ==, LL_TRIAL_FINISHED);
    g_assert_cmpint(second->status, ==, LL_TRIAL_FINISHED);
    g_assert_cmpint(second->repeat, ==, r);
    g_autoptr(LlSpec) ran = load(second->spec_json);
    g_assert_cmpuint(ran->init_from->len, ==, 1);
    g_autofree char *ref = g_strdup_printf("run:%s", first->run_id);
    g_assert_cmpstr(((LlInitFrom *)ran->init_from->pdata[0])->checkpoint, ==, ref);
  }
  g_autofree char *a = g_build_filename(ll_study_dir(s), "out.csv", NULL);
  g_autofree char *b = g_build_filename(ll_study_dir(s), "out-r1.csv", NULL);
  g_assert_true(g_file_test(a, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(b, G_FILE_TEST_IS_REGULAR));
  /* a repeat list without ${value} in the path: a name per value and seed */
  const char *names[] = {"w-1.csv", "w-1-r1.csv", "w-2.csv", "w-2-r1.csv"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    LlTrial *t = trials->pdata[4 + i];
    g_assert_cmpint(t->status, ==, LL_TRIAL_FINISHED);
    g_autofree char *p = g_build_filename(ll_study_dir(s), names[i], NULL);
    g_assert_true(g_file_test(p, G_FILE_TEST_IS_REGULAR));
    g_assert_cmpstr(json_object_get_string_member(t->metrics, "outputs"), ==, p);
  }
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/study/override-paths", test_override_paths);
  g_test_add_func("/engine/study/grid", test_grid);
  g_test_add_func("/engine/study/groups-and-budget", test_groups_and_budget);
  g_test_add_func("/engine/study/group-zero", test_group_zero);
  g_test_add_func("/engine/study/tpe", test_tpe);
  g_test_add_func("/engine/study/resume", test_resume);
  g_test_add_func("/engine/study/stage-metric", test_stage_metric);
  g_test_add_func("/engine/study/head-metric", test_head_metric);
  g_test_add_func("/engine/study/labels-in-words", test_labels_in_words);
  g_test_add_func("/engine/study/shortening", test_shortening);
  g_test_add_func("/engine/study/trial-groups", test_trial_groups);
  g_test_add_func("/engine/study/repeats", test_repeats);
  g_test_add_func("/engine/study/repeats-init-from", test_repeats_init_from);
  g_test_add_func("/engine/trainer/regression-accuracy", test_regression_accuracy);
  return g_test_run();
}
