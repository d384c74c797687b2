/* The analysis payloads: a validation EVAL after every epoch, a test EVAL
 * with per-sample predictions at the end, both written into the run folder
 * and read back the same by ll_analysis_load. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "analysis.h"
#include "trainer.h"

static const char *spec_json =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mlp-blobs\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": {\"out_features\": "
    "16}},\n"
    "  {\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"h\"]},\n"
    "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"a\"], \"props\": "
    "{\"out_features\": 3}}]},\n"
    " \"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 900, "
    "\"test_n\": 300, \"classes\": 3, \"features\": 2, \"noise\": 0.3}, \"normalize\": \"none\"},\n"
    " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}],\n"
    " \"training\": {\"epochs\": 3, \"batch_size\": 50, \"seed\": 3,\n"
    "   \"optimizer\": {\"type\": \"adam\", \"lr\": 0.01}},\n"
    " \"record\": {\"embedding_block\": \"a\", \"embedding_samples\": 100}}\n";

static void rm_rf(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    GDir *d = g_dir_open(path, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      rm_rf(p);
    }
    if (d)
      g_dir_close(d);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static void assert_same_eval(const LlEvent *a, const LlEvent *b)
{
  g_assert_cmpstr(a->split, ==, b->split);
  g_assert_cmpint(a->epoch, ==, b->epoch);
  g_assert_cmpint(a->n_classes, ==, b->n_classes);
  g_assert_cmpint(a->binary, ==, b->binary);
  if (a->binary)
    g_assert_cmpfloat_with_epsilon(a->roc_auc, b->roc_auc, 1e-9);
  int c = a->n_classes;
  for (int i = 0; i < c * c; i++)
    g_assert_cmpint(a->confusion[i], ==, b->confusion[i]);
  for (int i = 0; i < c; i++) {
    g_assert_cmpfloat_with_epsilon(a->precision[i], b->precision[i], 1e-6);
    g_assert_cmpfloat_with_epsilon(a->f1[i], b->f1[i], 1e-6);
    g_assert_cmpint(a->support[i], ==, b->support[i]);
  }
  g_assert_cmpint(a->n_embed, ==, b->n_embed);
  g_assert_cmpint(a->embed_dim, ==, b->embed_dim);
  g_assert_cmpstr(a->embed_block, ==, b->embed_block);
  for (int i = 0; i < a->n_embed * a->embed_dim; i++)
    g_assert_cmpfloat(a->embeddings[i], ==, b->embeddings[i]);
  for (int i = 0; i < a->n_embed; i++) {
    g_assert_cmpint(a->embed_labels[i], ==, b->embed_labels[i]);
    g_assert_cmpint(a->embed_index[i], ==, b->embed_index[i]);
  }
  g_assert_cmpint(a->n_pred, ==, b->n_pred);
  for (int i = 0; i < a->n_pred; i++) {
    g_assert_cmpint(a->pred_index[i], ==, b->pred_index[i]);
    g_assert_cmpint(a->pred_class[i], ==, b->pred_class[i]);
    g_assert_cmpfloat(a->pred_conf[i], ==, b->pred_conf[i]);
  }
}

/* Trains json recorded under root: its EVAL events (the others freed, LOG
 * and FAILED messages logged), the FINISHED one (or NULL) and the run folder. */
static GPtrArray *train_evals(const char *json, const char *root, LlEvent **fin, char **dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_data(json, -1, "spec", &error);
  g_assert_no_error(error);
  LlTrainOptions o = {.seed = -1, .store_root = root};
  LlTrainer *t = ll_trainer_new(s, &o);
  g_assert_true(ll_trainer_start(t, &error));
  GPtrArray *evals = g_ptr_array_new_with_free_func((GDestroyNotify)ll_event_free);
  *fin = NULL;
  *dir = NULL;
  for (;;) {
    LlEvent *e = ll_trainer_pop(t, 100000);
    if (!e) {
      if (!ll_trainer_is_running(t) && !(e = ll_trainer_pop(t, 0)))
        break;
      if (!e)
        continue;
    }
    if (e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_LOG)
      g_test_message("%s", e->message);
    if (e->kind == LL_EVENT_STARTED)
      *dir = g_strdup(e->checkpoint);
    if (e->kind == LL_EVENT_EVAL)
      g_ptr_array_add(evals, e);
    else if (e->kind == LL_EVENT_FINISHED && !*fin)
      *fin = e;
    else
      ll_event_free(e);
  }
  ll_trainer_free(t);
  return evals;
}

static void test_eval_events_saved(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-analysis-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  LlEvent *fin;
  char *dir;
  g_autoptr(GPtrArray) evals = train_evals(spec_json, root, &fin, &dir);
  g_assert_nonnull(fin);
  ll_event_free(fin);
  g_assert_nonnull(dir);
  /* one validation payload per epoch, then the test set */
  g_assert_cmpuint(evals->len, ==, 4);
  for (int i = 0; i < 3; i++) {
    LlEvent *e = evals->pdata[i];
    g_assert_cmpstr(e->split, ==, "val");
    g_assert_cmpint(e->epoch, ==, i + 1);
    g_assert_nonnull(e->confusion);
    g_assert_cmpint(e->n_embed, ==, 90); /* 10% of 900 held out for validation */
    g_assert_cmpstr(e->embed_block, ==, "a");
    g_assert_cmpint(e->n_pred, ==, 0);
  }
  LlEvent *te = evals->pdata[3];
  g_assert_cmpstr(te->split, ==, "test");
  g_assert_true(te->from_test_set);
  g_assert_cmpint(te->n_pred, ==, 300);
  int64_t total = 0, diag = 0, agree = 0;
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++) {
      total += te->confusion[r * 3 + c];
      diag += r == c ? te->confusion[r * 3 + c] : 0;
    }
  g_assert_cmpint(total, ==, 300);
  /* predictions agree with the confusion matrix and are probabilities */
  for (int i = 0; i < te->n_pred; i++) {
    g_assert_cmpint(te->pred_index[i], ==, i);
    agree += te->pred_class[i] == te->pred_true[i];
    g_assert_cmpfloat(te->pred_conf[i], >=, 1.0 / 3 - 1e-6);
    g_assert_cmpfloat(te->pred_conf[i], <=, 1.0 + 1e-6);
  }
  g_assert_cmpint(agree, ==, diag);
  g_assert_cmpfloat((double)diag / total, >, 0.8);

  g_autoptr(GPtrArray) loaded = ll_analysis_load(dir, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(loaded->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    assert_same_eval(evals->pdata[i], loaded->pdata[i]);
  g_free(dir);
  rm_rf(root);
}

/* ROC AUC by hand: every (positive, negative) pair, the positive above
 * counting 1 and a tie 1/2. */
static void test_roc_auc(void)
{
  /* negatives -3 -2 -1 0.5, positives -1 0.5 1 3: the positive -1 beats two
   * negatives and ties one (2.5), 0.5 beats three and ties one (3.5), 1 and
   * 3 beat all four: 14 of 16 pairs */
  const float score[] = {-2, -1, -1, 0.5f, 0.5f, 1, 3, -3};
  const float label[] = {0, 0, 1, 0, 1, 1, 1, 0};
  g_assert_cmpfloat(ll_roc_auc(score, label, 8), ==, 14.0 / 16.0);
  /* order does not matter; all tied is chance; a perfect ranking is 1, reversed 0 */
  const float score2[] = {3, -3, 1, 0.5f, -1, 0.5f, -1, -2};
  const float label2[] = {1, 0, 1, 0, 1, 1, 0, 0};
  g_assert_cmpfloat(ll_roc_auc(score2, label2, 8), ==, 14.0 / 16.0);
  const float same[] = {0.2f, 0.2f, 0.2f, 0.2f}, lab[] = {0, 1, 1, 0};
  g_assert_cmpfloat(ll_roc_auc(same, lab, 4), ==, 0.5);
  const float up[] = {1, 2, 3, 4};
  g_assert_cmpfloat(ll_roc_auc(up, (const float[]){0, 0, 1, 1}, 4), ==, 1.0);
  g_assert_cmpfloat(ll_roc_auc(up, (const float[]){1, 1, 0, 0}, 4), ==, 0.0);
  /* one class only, or a NaN score: undefined */
  g_assert_true(isnan(ll_roc_auc(up, (const float[]){1, 1, 1, 1}, 4)));
  g_assert_true(isnan(ll_roc_auc((const float[]){1, NAN}, (const float[]){0, 1}, 2)));
  g_assert_true(isnan(ll_roc_auc(up, lab, 0)));
}

/* Writes rows as both train.csv and test.csv in a new temporary folder
 * (returned); their paths go to train and test. */
static char *csv_pair(const char *tmpl, const char *rows, char **train, char **test)
{
  char *root = g_dir_make_tmp(tmpl, NULL);
  *train = g_build_filename(root, "train.csv", NULL);
  *test = g_build_filename(root, "test.csv", NULL);
  g_assert_true(g_file_set_contents(*train, rows, -1, NULL));
  g_assert_true(g_file_set_contents(*test, rows, -1, NULL));
  return root;
}

/* The t-SNE points are coloured by the classes of the head the analysis
 * shows: a BCE head on label_map's even/odd field gives classes 0 and 1 (the
 * matrix's and the legend's), not the dataset's labels 0..3, which the
 * scatter drew grey as classes its legend does not have. */
static void test_embedding_mapped_classes(void)
{
  const int label[] = {0, 1, 2, 3, 3, 2, 1, 0};
  g_autofree char *train = NULL, *test = NULL;
  g_autofree char *root = csv_pair(
      "ll-mapped-XXXXXX", "x,y\n-2,0\n-1,1\n0,2\n1,3\n2,3\n3,2\n4,1\n5,0\n", &train, &test);
  g_autofree char *json = g_strdup_printf(
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mapped\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1]}},\n"
      "  {\"name\": \"h\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_features\": 3}},\n"
      "  {\"name\": \"logit\", \"type\": \"Linear\", \"inputs\": [\"h\"], \"props\": "
      "{\"out_features\": 1}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"csv\", \"path\": \"%s\", \"test_path\": "
      "\"%s\", \"label_column\": \"y\"}, \"validation_split\": 0, \"normalize\": \"none\",\n"
      "          \"label_map\": [0, 1, 0, 1]},\n"
      " \"losses\": [{\"output\": \"logit\", \"target\": \"mapped\", \"type\": "
      "\"bce_logits\"}],\n"
      " \"record\": {\"embedding_block\": \"h\"},\n"
      " \"training\": {\"epochs\": 1, \"batch_size\": 4, \"seed\": 1,\n"
      "   \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.01}}}\n",
      train, test);
  LlEvent *fin;
  char *dir;
  g_autoptr(GPtrArray) evals = train_evals(json, root, &fin, &dir);
  g_assert_nonnull(fin);
  g_assert_cmpuint(evals->len, ==, 1);
  LlEvent *te = evals->pdata[0];
  g_assert_true(te->binary);
  g_assert_cmpint(te->n_embed, ==, 8);
  for (int i = 0; i < te->n_embed; i++) {
    int k = te->embed_index[i];
    g_assert_cmpint(k, >=, 0);
    g_assert_cmpint(k, <, 8);
    g_assert_cmpint(te->embed_labels[i], ==, label[k] % 2);
  }
  ll_event_free(fin);
  g_free(dir);
  rm_rf(root);
}

/* A binary classifier (BCE on one logit) gets the 2 x 2 matrix, precision,
 * recall and F1 of class 1 at threshold 0.5, and the ROC AUC. The head is a
 * Flatten of the one feature, so the logits are the test set's values and
 * every number is known: with the scores of test_roc_auc, logit > 0 gives
 * tn 3, fp 1 (0.5), fn 1 (-1), tp 3. A second head (a Linear fitting x)
 * gives the optimizer something to train and reports its MSE. */
static void test_binary_report(void)
{
  g_autofree char *train = NULL, *test = NULL;
  g_autofree char *root = csv_pair(
      "ll-binary-XXXXXX", "x,y\n-2,0\n-1,0\n-1,1\n0.5,0\n0.5,1\n1,1\n3,1\n-3,0\n", &train, &test);
  g_autofree char *json = g_strdup_printf(
      "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"binary\",\n"
      " \"graph\": {\"blocks\": [\n"
      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1]}},\n"
      "  {\"name\": \"logit\", \"type\": \"Flatten\", \"inputs\": [\"x\"]},\n"
      "  {\"name\": \"aux\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
      "{\"out_features\": 1}}]},\n"
      " \"data\": {\"dataset\": {\"kind\": \"csv\", \"path\": \"%s\", \"test_path\": "
      "\"%s\", \"label_column\": \"y\"}, \"validation_split\": 0, \"normalize\": \"none\"},\n"
      " \"losses\": [{\"output\": \"logit\", \"target\": \"label\", \"type\": "
      "\"bce_logits\"},\n"
      "            {\"output\": \"aux\", \"target\": \"x\", \"type\": \"mse\"}],\n"
      " \"training\": {\"epochs\": 1, \"batch_size\": 4, \"seed\": 1,\n"
      "   \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.01}}}\n",
      train, test);
  g_autoptr(GError) error = NULL;
  LlEvent *fin;
  char *dir;
  g_autoptr(GPtrArray) evals = train_evals(json, root, &fin, &dir);
  g_assert_nonnull(fin);
  g_assert_cmpuint(evals->len, ==, 1); /* no validation split: the test set only */
  LlEvent *te = evals->pdata[0];
  g_assert_cmpstr(te->split, ==, "test");
  g_assert_true(te->binary);
  g_assert_cmpint(te->n_classes, ==, 2);
  const int64_t want[] = {3, 1, 1, 3};
  for (int i = 0; i < 4; i++)
    g_assert_cmpint(te->confusion[i], ==, want[i]);
  g_assert_cmpfloat(te->precision[1], ==, 0.75);
  g_assert_cmpfloat(te->recall[1], ==, 0.75);
  g_assert_cmpfloat(te->f1[1], ==, 0.75);
  g_assert_cmpfloat(te->roc_auc, ==, 14.0 / 16.0);
  /* per-sample predictions: class 1 above logit 0, with the sigmoid's confidence */
  g_assert_cmpint(te->n_pred, ==, 8);
  g_assert_cmpint(te->pred_class[6], ==, 1);
  g_assert_cmpfloat_with_epsilon(te->pred_conf[6], 1 / (1 + exp(-3.0)), 1e-6);
  g_assert_cmpint(te->pred_class[0], ==, 0);
  g_assert_cmpfloat_with_epsilon(te->pred_conf[0], 1 - 1 / (1 + exp(2.0)), 1e-6);
  /* the run's final metrics: the report, and each head under its name */
  g_assert_cmpfloat(ll_event_metric(fin, "test_precision"), ==, 0.75);
  g_assert_cmpfloat(ll_event_metric(fin, "test_recall"), ==, 0.75);
  g_assert_cmpfloat(ll_event_metric(fin, "test_f1"), ==, 0.75);
  g_assert_cmpfloat(ll_event_metric(fin, "test_auc"), ==, 0.875);
  g_assert_cmpfloat(ll_event_metric(fin, "test_accuracy"), ==, 0.75);
  g_assert_cmpfloat(ll_event_metric(fin, "test_logit_accuracy"), ==, 0.75);
  g_assert_false(isnan(ll_event_metric(fin, "test_aux_mse")));
  /* the JSON line the CLI prints and the store keeps */
  g_autofree char *line = ll_event_to_json(te);
  g_test_message("%s", line);
  g_assert_nonnull(strstr(line, "\"roc_auc\": 0.875"));
  /* and the run folder gives the same back */
  g_autoptr(GPtrArray) loaded = ll_analysis_load(dir, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(loaded->len, ==, 1);
  assert_same_eval(te, loaded->pdata[0]);
  ll_event_free(fin);
  g_free(dir);
  rm_rf(root);
}

/* Without record.embedding_block the t-SNE gets the block before the
 * classifier (past Dropout), or an autoencoder's bottleneck. */
static void test_default_embedding_block(void)
{
  static const struct {
    const char *preset, *block;
  } cases[] = {{"tiny-cnn.json", "gap"},
               {"fmnist-cnn.json", "relu3"},
               {"fmnist-ann.json", "relu2"},
               {"ae-pretrain.json", "code"}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", cases[i].preset, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) s = ll_spec_load_file(path, &error);
    g_assert_no_error(error);
    g_assert_true(ll_graph_infer(s->graph, &error));
    g_clear_pointer(&s->embedding_block, g_free);
    g_assert_cmpstr(ll_analysis_embedding_block(s), ==, cases[i].block);
    s->embedding_block = g_strdup("conv1");
    g_assert_cmpstr(ll_analysis_embedding_block(s), ==, "conv1"); /* the spec's choice wins */
    g_clear_pointer(&s->embedding_block, g_free);
    s->embedding_samples = 0; /* recording switched off */
    g_assert_null(ll_analysis_embedding_block(s));
  }
  /* the blobs MLP without a record section records its hidden activation */
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_data(spec_json, -1, "spec", &error);
  g_clear_pointer(&s->embedding_block, g_free);
  g_assert_cmpstr(ll_analysis_embedding_block(s), ==, "a");
}

static void test_npy_roundtrip(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-npy-XXXXXX", NULL);
  g_autofree char *p = g_build_filename(root, "a.npy", NULL);
  float v[6] = {1, -2, 3.5f, 4, 5, 6};
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_npy_write_f32(p, v, 3, 2, &error));
  int a = 0, b = 0;
  g_autofree float *r = ll_npy_read_f32(p, &a, &b, &error);
  g_assert_no_error(error);
  g_assert_cmpint(a, ==, 3);
  g_assert_cmpint(b, ==, 2);
  g_assert_cmpmem(r, sizeof v, v, sizeof v);
  /* the header is 64-byte aligned as numpy writes it */
  g_autofree char *buf = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(p, &buf, &len, NULL));
  g_assert_cmpuint((len - sizeof v) % 64, ==, 0);
  /* a truncated file is an error, not a crash */
  g_assert_true(g_file_set_contents(p, buf, (gssize)len - 4, NULL));
  float *bad = ll_npy_read_f32(p, &a, &b, &error);
  g_assert_null(bad);
  g_assert_nonnull(error);
  rm_rf(root);
}

static void test_empty_run_dir(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) a = ll_analysis_load("/nonexistent/layerlab-run", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(a->len, ==, 0);
}

/* Tampered analysis files fail the load with the file and member named, and
 * allocate nothing from their sizes first (n_classes 100000 without its rows
 * asked g_malloc for 80 GB; a predicted class of 1e21 was undefined). */
static void test_tampered_files(void)
{
  static const struct {
    const char *json;
    const char *member;
  } cases[] = {
      {"{\"n_classes\": 100000, \"confusion\": [[1]]}", "\"confusion\""},
      {"{\"n_classes\": 2, \"confusion\": {\"a\": 1}}", "\"confusion\""},
      {"{\"n_classes\": 2, \"confusion\": [[1, 2], [3, -4]]}", "\"confusion\""},
      {"{\"n_classes\": 1e300}", "\"n_classes\""},
      {"{\"split\": [1]}", "\"split\""},
      {"{\"class_names\": [\"a\", 7]}", "\"class_names\""},
      {"{\"n_recon\": 2147483647, \"recon_shape\": [65536, 65536], \"recon_input\": []}",
       "\"recon_shape\""},
      {"{\"n_classes\": 2, \"confusion\": [[1, 0], [0, 1]]}", "\"predictions\""},
  };
  g_autofree char *root = g_dir_make_tmp("ll-analysis-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename(root, "analysis", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *json = g_build_filename(dir, "test.json", NULL);
  g_autofree char *pred = g_build_filename(dir, "test-predictions.npy", NULL);
  /* sample 0, true class 1, predicted class 1e21 (out of int range), confidence */
  float row[4] = {0, 1, 1e21f, 0.5f};
  g_assert_true(ll_npy_write_f32(pred, row, 1, 4, NULL));
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_assert_true(g_file_set_contents(json, cases[i].json, -1, NULL));
    g_autoptr(GError) error = NULL;
    GPtrArray *events = ll_analysis_load(root, &error);
    g_assert_null(events);
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
    g_assert_nonnull(strstr(error->message, cases[i].member));
  }
  /* NPY shapes whose product overflows are not read */
  static const char hdr[] =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }";
  GString *npy = g_string_new_len("\x93NUMPY\x01\x00", 8);
  guint16 hl = GUINT16_TO_LE((guint16)(sizeof hdr - 1));
  g_string_append_len(npy, (const char *)&hl, 2);
  g_string_append(npy, hdr);
  g_string_append_len(npy, "\0\0\0\0", 4);
  g_assert_true(g_file_set_contents(pred, npy->str, (gssize)npy->len, NULL));
  g_string_free(npy, TRUE);
  int a = 0, b = 0;
  g_autoptr(GError) error = NULL;
  g_assert_null(ll_npy_read_f32(pred, &a, &b, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  rm_rf(root);
}

/* Every row of a confusion matrix is checked before the matrix is
 * allocated: 100,000 empty rows asked g_malloc for 80 GB (abort). */
static void test_empty_rows(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-analysis-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename(root, "analysis", NULL);
  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_autofree char *json = g_build_filename(dir, "test.json", NULL);
  GString *s = g_string_new("{\"n_classes\": 100000, \"confusion\": [[]");
  for (int i = 1; i < 100000; i++)
    g_string_append(s, ",[]");
  g_string_append(s, "]}");
  g_assert_true(g_file_set_contents(json, s->str, (gssize)s->len, NULL));
  g_string_free(s, TRUE);
  g_autoptr(GError) error = NULL;
  g_assert_null(ll_analysis_load(root, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "test.json"));
  g_assert_nonnull(strstr(error->message, "has a row that is not n_classes numbers"));
  rm_rf(root);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/analysis/eval-events-saved", test_eval_events_saved);
  g_test_add_func("/engine/analysis/roc-auc", test_roc_auc);
  g_test_add_func("/engine/analysis/binary-report", test_binary_report);
  g_test_add_func("/engine/analysis/embedding-mapped-classes", test_embedding_mapped_classes);
  g_test_add_func("/engine/analysis/npy-roundtrip", test_npy_roundtrip);
  g_test_add_func("/engine/analysis/default-embedding-block", test_default_embedding_block);
  g_test_add_func("/engine/analysis/empty-run-dir", test_empty_run_dir);
  g_test_add_func("/engine/analysis/empty-rows", test_empty_rows);
  g_test_add_func("/engine/analysis/tampered-files", test_tampered_files);
  return g_test_run();
}
