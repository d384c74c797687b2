/* Spec files: presets load and round-trip exactly; malformed specs give
 * errors with a location and the block or field at fault. */
#include <string.h>

#include "json-writer.h"
#include "spec.h"
#include "summary.h"

static char *preset_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", name, NULL);
}

static void test_presets_round_trip(void)
{
  const char *names[] = {"tiny-cnn.json", "fmnist-ann.json", "fmnist-cnn.json", "ae-pretrain.json"};
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *path = preset_path(names[i]);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) s = ll_spec_load_file(path, &error);
    g_assert_no_error(error);
    g_autofree char *a = ll_spec_to_json(s);
    g_autoptr(LlSpec) s2 = ll_spec_load_data(a, -1, "saved", &error);
    g_assert_no_error(error);
    g_autofree char *b = ll_spec_to_json(s2);
    g_assert_cmpstr(a, ==, b);
    g_assert_cmpuint(ll_graph_param_count(s->graph), ==, ll_graph_param_count(s2->graph));
    g_assert_cmpint(s->epochs, ==, s2->epochs);
    g_assert_cmpfloat(s->optim.lr, ==, s2->optim.lr);
    /* a file saved and re-read keeps the same hash */
    g_autofree char *h1 = ll_spec_hash(s), *h2 = ll_spec_hash(s2);
    g_assert_cmpstr(h1, ==, h2);
  }
}

/* Parameter counts of the same architectures in PyTorch (printed by
 * tests/bench/torch-param-counts.py with Debian's python3-torch 1.13). */
static void test_param_counts_match_pytorch(void)
{
  struct {
    const char *file;
    size_t torch_params;
  } cases[] = {{"tiny-cnn.json", 7426},
               {"fmnist-ann.json", 235914},
               {"fmnist-cnn.json", 207018},
               {"ae-pretrain.json", 111521}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *path = preset_path(cases[i].file);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) s = ll_spec_load_file(path, &error);
    g_assert_no_error(error);
    g_autoptr(LlSummary) sum = ll_summary_new(s->graph);
    g_test_message("%s: %zu params", cases[i].file, sum->total_params);
    g_assert_cmpuint(sum->total_params, ==, cases[i].torch_params);
  }
}

static void test_summary_tiny_cnn(void)
{
  g_autofree char *path = preset_path("tiny-cnn.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_file(path, &error);
  g_assert_no_error(error);
  g_autoptr(LlSummary) sum = ll_summary_new(s->graph);
  g_autofree char *json = ll_summary_format_json(sum);
  g_autoptr(JsonNode) root = json_from_string(json, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(root);
  g_assert_cmpint(json_object_get_int_member(o, "total_params"), ==, 7426);
  g_assert_cmpint(json_object_get_int_member(o, "total_flops"), >, 0);
  JsonArray *blocks = json_object_get_array_member(o, "blocks");
  JsonObject *gap = NULL;
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    if (!strcmp(json_object_get_string_member(b, "name"), "conv2")) {
      /* two 3x3 convs: receptive field 5, output 24x24 */
      g_assert_cmpint(json_object_get_int_member(b, "receptive_field"), ==, 5);
      JsonArray *shape = json_object_get_array_member(b, "output_shape");
      g_assert_cmpint(json_array_get_int_element(shape, 0), ==, 16);
      g_assert_cmpint(json_array_get_int_element(shape, 1), ==, 24);
    }
    if (!strcmp(json_object_get_string_member(b, "name"), "gap"))
      gap = b;
  }
  g_assert_nonnull(gap);
  g_assert_true(json_object_get_null_member(gap, "receptive_field"));
}

/* A malformed spec and what its error must say. */
typedef struct {
  const char *name;
  const char *text;
  LlSpecError code;
  const char *expect[3]; /* substrings of the message */
} BadSpec;

#define HEAD       "{\"format\": \"layerlab-spec\", \"version\": 1,\n \"graph\": {\"blocks\": [\n"
#define INPUT      "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, 8, 8]}},\n"
#define INPUT_LAST "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, 8, 8]}}\n"
#define TAIL       "]}}\n"

static const BadSpec bad_specs[] = {
    {"cycle",
     HEAD INPUT "  {\"name\": \"a\", \"type\": \"Add\", \"inputs\": [\"x\", \"b\"]},\n"
                "  {\"name\": \"b\", \"type\": \"ReLU\", \"inputs\": [\"a\"]}\n" TAIL,
     LL_SPEC_ERROR_GRAPH,
     {"cycle", "\"a\"", ":4:"}},
    {"unconnected",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Linear\"}\n" TAIL,
     LL_SPEC_ERROR_GRAPH,
     {"block \"fc\"", "not connected", ":4:"}},
    {"unknown-input",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Linear\", \"inputs\": [\"nope\"]}\n" TAIL,
     LL_SPEC_ERROR_GRAPH,
     {"block \"fc\"", "\"nope\"", ":4:"}},
    {"shape-mismatch",
     HEAD INPUT "  {\"name\": \"y\", \"type\": \"Input\", \"props\": {\"shape\": [2, 8, 8]}},\n"
                "  {\"name\": \"s\", \"type\": \"Add\", \"inputs\": [\"x\", \"y\"]}\n" TAIL,
     LL_SPEC_ERROR_GRAPH,
     {"block \"s\"", "(2, 8, 8)", ":5:"}},
    {"kernel-too-large",
     HEAD "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, 4, 4]}},\n"
          "  {\"name\": \"conv3\", \"type\": \"Conv2d\", \"inputs\": [\"x\"],\n"
          "   \"props\": {\"kernel\": 5}}\n" TAIL,
     LL_SPEC_ERROR_GRAPH,
     {"block \"conv3\"", "kernel 5x5 is larger than its 4x4 input", ":4:"}},
    {"zero-size",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Linear\", \"inputs\": [\"x\"],\n"
                "   \"props\": {\"out_features\": 0}}\n" TAIL,
     LL_SPEC_ERROR_VALUE,
     {"block \"fc\"", "out_features", ":5:"}},
    {"negative-size",
     HEAD "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [1, -8, 8]}}\n" TAIL,
     LL_SPEC_ERROR_VALUE,
     {"block \"x\"", "shape", ":3:"}},
    {"unknown-block",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Lineer\", \"inputs\": [\"x\"]}\n" TAIL,
     LL_SPEC_ERROR_UNKNOWN,
     {"block \"fc\"", "unknown block type \"Lineer\"", ":4:"}},
    {"unknown-property",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Linear\", \"inputs\": [\"x\"],\n"
                "   \"props\": {\"out_featurs\": 3}}\n" TAIL,
     LL_SPEC_ERROR_UNKNOWN,
     {"block \"fc\"", "unknown property \"out_featurs\"", ":5:"}},
    {"wrong-json-type",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Linear\", \"inputs\": [\"x\"],\n"
                "   \"props\": {\"out_features\": \"ten\"}}\n" TAIL,
     LL_SPEC_ERROR_TYPE,
     {"block \"fc\"", "expected an integer, got a string", ":5:"}},
    {"wrong-field-type",
     "{\"format\": \"layerlab-spec\", \"version\": 1, \"graph\": {\"blocks\": [" INPUT_LAST "]},\n"
     " \"training\": {\"epochs\": \"many\"}}\n",
     LL_SPEC_ERROR_TYPE,
     {"training.epochs", "expected an integer", ":3:"}},
    {"truncated",
     HEAD INPUT "  {\"name\": \"fc\", \"type\": \"Lin",
     LL_SPEC_ERROR_SYNTAX,
     {"bad.json:", ":4:", ""}},
    {"empty", "", LL_SPEC_ERROR_SYNTAX, {"bad.json", "", ""}},
    {"not-an-object", "[1, 2]", LL_SPEC_ERROR_TYPE, {"bad.json:1:1", "object", ""}},
    {"wrong-format",
     "{\"format\": \"other\", \"graph\": {}}",
     LL_SPEC_ERROR_VERSION,
     {"layerlab-spec", "", ""}},
    {"unknown-field",
     "{\"format\": \"layerlab-spec\", \"version\": 1, \"graph\": {\"blocks\": [" INPUT_LAST "]},\n"
     " \"trainig\": {}}\n",
     LL_SPEC_ERROR_UNKNOWN,
     {"unknown field \"trainig\"", ":3:", ""}},
    {"loss-unknown-block",
     "{\"format\": \"layerlab-spec\", \"version\": 1, \"graph\": {\"blocks\": [" INPUT_LAST "]},\n"
     " \"losses\": [{\"output\": \"head\", \"type\": \"mse\"}]}\n",
     LL_SPEC_ERROR_VALUE,
     {"losses[0].output", "\"head\"", ""}},
    {"bad-choice",
     HEAD INPUT "  {\"name\": \"r\", \"type\": \"RNN\", \"inputs\": [\"x\"],\n"
                "   \"props\": {\"nonlinearity\": \"cube\"}}\n" TAIL,
     LL_SPEC_ERROR_VALUE,
     {"block \"r\"", "\"cube\" is not one of", ":5:"}},
};

static void check_bad_spec(gconstpointer data)
{
  const BadSpec *b = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_data(b->text, -1, "bad.json", &error);
  g_assert_null(s);
  g_assert_nonnull(error);
  g_test_message("%s: %s", b->name, error->message);
  g_assert_error(error, LL_SPEC_ERROR, (gint)b->code);
  g_assert_true(g_str_has_prefix(error->message, "bad.json"));
  for (int i = 0; i < 3; i++)
    if (b->expect[i] && *b->expect[i] && !strstr(error->message, b->expect[i])) {
      g_test_message("missing \"%s\" in: %s", b->expect[i], error->message);
      g_test_fail();
    }
}

/* Every prefix of a valid spec is either valid or an error, never a crash. */
static void test_truncations(void)
{
  g_autofree char *path = preset_path("tiny-cnn.json");
  g_autofree char *text = NULL;
  gsize len;
  g_assert_true(g_file_get_contents(path, &text, &len, NULL));
  for (gsize cut = 0; cut < len; cut += 7) {
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) s = ll_spec_load_data(text, (gssize)cut, "cut.json", &error);
    g_assert_true(s == NULL && error != NULL);
  }
}

/* A spec built in the window names no loss: the usual one is chosen. */
static void test_default_loss(void)
{
  const char *mlp =
      HEAD INPUT "  {\"name\": \"f\", \"type\": \"Flatten\", \"inputs\": [\"x\"]},\n"
                 "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"f\"]}\n" TAIL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) s = ll_spec_load_data(mlp, -1, "mlp.json", &error);
  g_assert_no_error(error);
  g_autofree char *what = ll_spec_add_default_loss(s, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(what, "cross_entropy"));
  LlLossSpec *l = g_ptr_array_index(s->losses, 0);
  g_assert_cmpstr(l->output, ==, "out");
  g_assert_cmpstr(l->target, ==, "label");
  g_autofree char *d = ll_spec_describe_losses(s);
  g_assert_cmpstr(d, ==, "cross_entropy: out vs label");

  /* an output of the input's shape on a labelled dataset (the default,
   * Fashion-MNIST) could be an autoencoder or a classifier: no guess (a
   * 2-feature, 2-class table was once trained with MSE against its input) */
  const char *ae =
      HEAD INPUT "  {\"name\": \"r\", \"type\": \"Sigmoid\", \"inputs\": [\"x\"]}\n" TAIL;
  g_autoptr(LlSpec) a = ll_spec_load_data(ae, -1, "ae.json", &error);
  g_assert_no_error(error);
  g_autofree char *guess = ll_spec_add_default_loss(a, &error);
  g_assert_null(guess);
  g_assert_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING);
  g_assert_nonnull(strstr(error->message, "whether it reconstructs the input"));
  g_assert_cmpuint(a->losses->len, ==, 0);
  g_clear_error(&error);
  /* the same on data without labels: an autoencoder, MSE against x */
  a->dataset.kind = LL_DATASET_NPY;
  g_clear_pointer(&a->dataset.train_labels, g_free);
  a->dataset.train_images = g_strdup("features.npy");
  g_assert_false(ll_dataset_spec_has_labels(&a->dataset));
  g_autofree char *what2 = ll_spec_add_default_loss(a, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(what2, "the dataset has no labels"));
  l = g_ptr_array_index(a->losses, 0);
  g_assert_cmpint(l->kind, ==, LL_LOSS_MSE);
  g_assert_cmpstr(l->target, ==, "x");
  /* ... where a head of another shape has nothing to be compared with */
  g_autoptr(LlSpec) m2 = ll_spec_load_data(mlp, -1, "mlp.json", &error);
  g_assert_no_error(error);
  m2->dataset.kind = LL_DATASET_NPY;
  g_autofree char *none2 = ll_spec_add_default_loss(m2, &error);
  g_assert_null(none2);
  g_assert_nonnull(strstr(error->message, "the dataset has no labels"));
  g_clear_error(&error);
  /* the window's loss menu: a chosen kind on the head, against x or label */
  g_assert_true(ll_spec_add_loss(m2, LL_LOSS_L1, &error));
  l = g_ptr_array_index(m2->losses, 0);
  g_assert_cmpstr(l->output, ==, "out");
  g_assert_cmpstr(l->target, ==, "x");

  /* two heads: the user must say which loss goes where */
  const char *two =
      HEAD INPUT "  {\"name\": \"a\", \"type\": \"ReLU\", \"inputs\": [\"x\"]},\n"
                 "  {\"name\": \"b\", \"type\": \"Tanh\", \"inputs\": [\"x\"]}\n" TAIL;
  g_autoptr(LlSpec) t = ll_spec_load_data(two, -1, "two.json", &error);
  g_assert_no_error(error);
  g_autofree char *none = ll_spec_add_default_loss(t, &error);
  g_assert_null(none);
  g_assert_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING);
  g_assert_nonnull(strstr(error->message, "2 outputs"));
  g_assert_cmpuint(t->losses->len, ==, 0);
}

/* A new spec's training settings are those README.md reports measuring with
 * tests/e2e/tiny-cnn-new-settings.json, which holds them; a spec file that
 * leaves them out keeps the file format's. */
static void test_new_training(void)
{
  g_autoptr(LlSpec) s = ll_spec_new();
  ll_spec_set_new_training(s);
  g_assert_cmpint(s->optim.kind, ==, LL_OPT_ADAM);
  g_assert_cmpint(s->schedule.kind, ==, LL_SCHED_ONE_CYCLE);
  g_assert_cmpfloat(s->schedule.max_lr, <=, 0); /* the peak is the learning rate */
  g_autoptr(GError) error = NULL;
  g_autofree char *path =
      g_test_build_filename(G_TEST_DIST, "e2e", "tiny-cnn-new-settings.json", NULL);
  g_autoptr(LlSpec) measured = ll_spec_load_file(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(measured->optim.kind, ==, s->optim.kind);
  g_assert_cmpfloat(measured->optim.lr, ==, s->optim.lr);
  g_assert_cmpfloat(measured->optim.weight_decay, ==, s->optim.weight_decay);
  g_assert_cmpint(measured->schedule.kind, ==, s->schedule.kind);
  g_assert_cmpfloat(measured->schedule.max_lr, ==, s->schedule.max_lr);
  g_assert_cmpfloat(measured->schedule.pct_start, ==, s->schedule.pct_start);
  g_assert_cmpint(measured->epochs, ==, s->epochs);
  g_assert_cmpint(measured->batch_size, ==, s->batch_size);
  g_assert_cmpuint(measured->seed, ==, s->seed);
  g_assert_cmpuint(measured->losses->len, ==, s->losses->len);
  g_assert_cmpint(measured->early_stopping, ==, s->early_stopping);
  /* README says the same, in words (line breaks as spaces) */
  g_autofree char *readme_path = g_test_build_filename(G_TEST_DIST, "..", "README.md", NULL);
  g_autofree char *readme = NULL;
  g_assert_true(g_file_get_contents(readme_path, &readme, NULL, NULL));
  g_strdelimit(readme, "\n", ' ');
  g_autofree char *words = g_strdup_printf(
      "Adam at a learning rate of %g on a one-cycle schedule peaking at that rate, for %d epochs "
      "in batches of %d",
      s->optim.lr, s->epochs, s->batch_size);
  if (!strstr(readme, words))
    g_error("README.md does not say \"%s\"", words);
  /* a spec file without training settings keeps the file format's */
  g_autoptr(LlSpec) plain = ll_spec_new();
  g_assert_cmpfloat(plain->optim.lr, ==, 1e-3);
  g_assert_cmpint(plain->schedule.kind, ==, LL_SCHED_CONSTANT);
  g_assert_cmpint(plain->epochs, ==, 10);
}

/* Text written from a JSON tree reads back: json-glib 1.6's generator
 * writes 1e-08 as "1e-08.0", which broke undo snapshots of a spec holding
 * such a number (BatchNorm's eps, a weight decay). */
static void test_json_line(void)
{
  const char *text = "{\"eps\": 1e-08, \"big\": 1e+20, \"lr\": 0.05, \"n\": [1, -2, 3e-300],"
                     " \"s\": \"a \\\"quoted\\\"\\nline\", \"t\": true, \"z\": null}";
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) n = json_from_string(text, &error);
  g_assert_no_error(error);
  g_autofree char *line = ll_json_node_to_line(n);
  g_assert_null(strchr(line, '\n'));
  g_assert_null(strstr(line, "e-08.0"));
  g_autoptr(JsonNode) back = json_from_string(line, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(back);
  g_assert_cmpfloat(json_object_get_double_member(o, "eps"), ==, 1e-08);
  g_assert_cmpfloat(json_object_get_double_member(o, "big"), ==, 1e+20);
  g_assert_cmpfloat(json_object_get_double_member(o, "lr"), ==, 0.05);
  g_assert_cmpfloat(json_array_get_double_element(json_object_get_array_member(o, "n"), 2), ==,
                    3e-300);
  g_assert_cmpstr(json_object_get_string_member(o, "s"), ==, "a \"quoted\"\nline");
  g_assert_true(json_node_equal(n, back));

  /* -0 reads back as 0: written as 0, so a spec saved twice is the same text */
  char buf[40];
  g_assert_cmpstr(ll_format_double(-0.0, buf, sizeof buf), ==, "0");
  g_assert_cmpstr(ll_format_double(-0.25, buf, sizeof buf), ==, "-0.25");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/spec/presets-round-trip", test_presets_round_trip);
  g_test_add_func("/engine/spec/param-counts-match-pytorch", test_param_counts_match_pytorch);
  g_test_add_func("/engine/spec/summary-tiny-cnn", test_summary_tiny_cnn);
  g_test_add_func("/engine/spec/truncations", test_truncations);
  g_test_add_func("/engine/spec/default-loss", test_default_loss);
  g_test_add_func("/engine/spec/new-training", test_new_training);
  g_test_add_func("/engine/spec/json-line", test_json_line);
  for (guint i = 0; i < G_N_ELEMENTS(bad_specs); i++) {
    g_autofree char *p = g_strdup_printf("/engine/spec/malformed/%s", bad_specs[i].name);
    g_test_add_data_func(p, &bad_specs[i], check_bad_spec);
  }
  return g_test_run();
}
