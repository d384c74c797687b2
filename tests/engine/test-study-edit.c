/* test-study-edit.c: editing a study as the window does: every preset opens
 * and saves back to the same trials, axes (values, ranges, log scale,
 * counts), search modes, stages (what a stage starts from, frozen blocks,
 * dataset, epochs, loss), undo and redo, the canvas's spec, parameter
 * budgets, and the values "Vary this..." offers. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "json-writer.h"
#include "study-edit.h"

static char *preset_path(const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "..", "resources", "presets", name, NULL);
}

static LlStudyEdit *open_preset(const char *name)
{
  g_autofree char *path = preset_path(name);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_autofree char *dir = g_path_get_dirname(path);
  g_autoptr(GError) error = NULL;
  LlStudyEdit *e = ll_study_edit_new(text, name, dir, &error);
  g_assert_no_error(error);
  g_assert_nonnull(e);
  return e;
}

static LlStudyEdit *new_sweep_over(const char *preset)
{
  g_autofree char *path = preset_path(preset);
  g_autofree char *spec = NULL;
  g_assert_true(g_file_get_contents(path, &spec, NULL, NULL));
  g_autoptr(GError) error = NULL;
  LlStudyEdit *e = ll_study_edit_new_for_spec(spec, &error);
  g_assert_no_error(error);
  return e;
}

/* Saved to a file and loaded as `layerlab study` does, the study makes the
 * same trials: the same count, and for a grid the same spec per point. */
static void assert_round_trip(LlStudyEdit *e)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("ll-study-edit-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *path = g_build_filename(dir, "study.json", NULL);
  g_assert_true(ll_study_edit_save(e, path, &error));
  g_assert_no_error(error);
  g_assert_false(ll_study_edit_modified(e));
  g_autoptr(LlStudy) saved = ll_study_load_file(path, &error);
  g_assert_no_error(error);
  g_autoptr(LlStudy) shown = ll_study_edit_load(e, &error);
  g_assert_no_error(error);
  g_autofree char *o1 = ll_study_outline(saved), *o2 = ll_study_outline(shown);
  g_assert_cmpstr(o1, ==, o2);
  g_assert_cmpint(ll_study_n_axes(saved), ==, ll_study_edit_n_axes(e));
  int n = ll_study_n_axes(saved);
  if (ll_study_is_sweep(saved) && n > 0 && ll_study_axis(saved, 0)->kind == LL_AXIS_VALUES) {
    g_autofree LlAxis *axes = g_new0(LlAxis, n);
    for (int i = 0; i < n; i++)
      axes[i] = *ll_study_axis(saved, i);
    gint64 grid = ll_search_grid_size(axes, n, NULL);
    g_autofree double *x = g_new0(double, n);
    for (gint64 i = 0; grid > 0 && i < grid; i++) {
      ll_search_grid_point(axes, n, i, x);
      g_autofree char *a = ll_study_variant_json(saved, x, NULL, &error);
      g_assert_no_error(error);
      g_autofree char *b = ll_study_variant_json(shown, x, NULL, &error);
      g_assert_no_error(error);
      g_assert_cmpstr(a, ==, b);
    }
  }
  g_autofree char *again = ll_study_to_json(saved);
  g_autofree char *twice = ll_study_to_json(shown);
  g_assert_cmpstr(again, ==, twice);
  g_unlink(path);
  g_rmdir(dir);
}

static void test_every_preset_opens(void)
{
  g_autofree char *dir = preset_path("");
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  int studies = 0;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    if (!strstr(text, "\"layerlab-study\""))
      continue;
    g_autoptr(LlStudyEdit) e = open_preset(name);
    g_autoptr(LlStudy) file = ll_study_load_file(path, NULL);
    g_assert_nonnull(file);
    g_autoptr(GError) error = NULL;
    gint64 n = ll_study_edit_count_trials(e, &error);
    g_assert_no_error(error);
    g_assert_cmpint(n, >, 0);
    g_assert_cmpint(ll_study_edit_is_sweep(e), ==, ll_study_is_sweep(file));
    assert_round_trip(e);
    studies++;
  }
  g_assert_cmpint(studies, >=, 8);
}

/* E3 from tiny-cnn: conv widths as a value list, lr as a log range of 4. */
static void test_axes_and_grid(void)
{
  g_autoptr(LlStudyEdit) e = new_sweep_over("tiny-cnn.json");
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 0);
  int a = ll_study_edit_add_axis(e, "graph.blocks.conv1.props.out_channels", "4, 8, 16", &error);
  g_assert_no_error(error);
  g_assert_cmpint(a, ==, 0);
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 3);
  int b = ll_study_edit_add_axis(e, "training.optimizer.lr", "0.1", &error);
  g_assert_no_error(error);
  g_assert_true(ll_study_edit_set_axis_range(e, b, 1e-4, 1e-2, TRUE, 4, &error));
  g_assert_no_error(error);
  g_autofree char *lr = ll_study_edit_axis_values(e, b);
  g_assert_cmpstr(lr, ==, "0.0001, 0.000464, 0.00215, 0.01");
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 12);
  /* whole numbers on a log scale stay whole: 32..256 in 4 is 32, 64, 128, 256 */
  g_assert_true(ll_study_edit_set_axis_range(e, a, 32, 256, TRUE, 4, &error));
  g_autofree char *w = ll_study_edit_axis_values(e, a);
  g_assert_cmpstr(w, ==, "32, 64, 128, 256");
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 16);
  /* an axis that names no block is refused when made, with the loader's reason */
  g_assert_cmpint(ll_study_edit_add_axis(e, "graph.blocks.nosuch.props.out_features", "1, 2",
                                         &error),
                  ==, -1);
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "nosuch"));
  g_clear_error(&error);
  g_assert_cmpint(ll_study_edit_n_axes(e), ==, 2);
  /* a continuous range is for random/TPE: a grid over it has no size */
  g_assert_true(ll_study_edit_set_axis_range(e, b, 1e-4, 1e-2, TRUE, 0, &error));
  g_assert_cmpint(ll_study_edit_count_trials(e, &error), ==, -1);
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_true(ll_study_edit_set_search(e, LL_SEARCH_TPE, 10, &error));
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 10);
  g_assert_true(ll_study_edit_set_pruning(e, 2, "val_accuracy", 3, &error));
  g_assert_true(ll_study_edit_set_metric(e, "val_loss", FALSE, &error));
  g_assert_no_error(error);
  assert_round_trip(e);
  g_autoptr(LlStudy) s = ll_study_edit_load(e, NULL);
  g_assert_cmpstr(ll_study_metric(s), ==, "val_loss");
  g_assert_false(ll_study_maximize(s));
  g_assert_cmpstr(ll_study_curve_metric(s), ==, "val_accuracy");
  g_assert_cmpint(ll_study_axis(s, 1)->kind, ==, LL_AXIS_LOG_UNIFORM);
  /* removing an axis, then undoing every edit back to the empty sweep */
  g_assert_true(ll_study_edit_remove_axis(e, 0, &error));
  g_assert_cmpint(ll_study_edit_n_axes(e), ==, 1);
  g_autofree char *after = g_strdup(ll_study_edit_text(e));
  int undos = 0;
  while (ll_study_edit_can_undo(e)) {
    ll_study_edit_undo(e);
    undos++;
  }
  g_assert_cmpint(undos, ==, 9);
  g_assert_cmpint(ll_study_edit_n_axes(e), ==, 0);
  while (ll_study_edit_can_redo(e))
    ll_study_edit_redo(e);
  g_assert_cmpstr(ll_study_edit_text(e), ==, after);
}

/* E2's variations: freeze another block, add a stage, point it at another
 * dataset, train it longer, with another loss. */
static void test_stages(void)
{
  g_autoptr(LlStudyEdit) e = open_preset("even-odd-transfer.json");
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(ll_study_edit_n_stages(e), ==, 4);
  g_autofree char *from = NULL, *blocks = NULL;
  gboolean frozen, reinit;
  ll_study_edit_get_stage_init(e, 1, &from, &blocks, &frozen, &reinit);
  g_assert_cmpstr(from, ==, "pretrain");
  g_assert_cmpstr(blocks, ==, "enc1, enc2, code");
  g_assert_true(frozen);
  g_assert_false(reinit);
  /* freeze only enc1 (take enc1 and enc2) */
  g_assert_true(ll_study_edit_set_stage_init(e, 1, "pretrain", "enc1, enc2", TRUE, FALSE, &error));
  g_assert_no_error(error);
  JsonNode *fz = ll_study_edit_get(e, "stages.1.frozen");
  g_assert_cmpint(json_array_get_length(json_node_get_array(fz)), ==, 2);
  /* a stage that names a stage that does not exist is refused by the loader */
  g_assert_false(ll_study_edit_set_stage_init(e, 1, "later", "enc1", TRUE, FALSE, &error));
  g_assert_nonnull(strstr(error->message, "later"));
  g_clear_error(&error);
  int n = ll_study_edit_add_stage(e, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpint(n, ==, 4);
  g_autofree char *name = ll_study_edit_stage_name(e, n);
  g_assert_cmpstr(name, ==, "stage5");
  g_assert_true(ll_study_edit_set_stage_init(e, n, "pretrain", "enc1, enc2, code", FALSE, TRUE,
                                             &error));
  g_assert_true(ll_study_edit_set_stage_dataset(e, n, "/data/mnist", &error));
  g_assert_true(ll_study_edit_set_stage_epochs(e, n, 7, &error));
  g_assert_true(ll_study_edit_set_stage_loss(e, n, "mse", &error));
  g_assert_no_error(error);
  g_assert_cmpstr(json_node_get_string(ll_study_edit_stage_value(e, n, "data.dataset.path")), ==,
                  "/data/mnist");
  g_assert_cmpint(json_node_get_int(ll_study_edit_stage_value(e, n, "training.epochs")), ==, 7);
  g_assert_cmpint(json_node_get_int(ll_study_edit_stage_value(e, 0, "training.epochs")), ==, 4);
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 5);
  /* E5's random-frozen control: re-initialised and frozen at once */
  g_assert_true(ll_study_edit_set_stage_init(e, 3, "pretrain", "enc1, enc2, code", TRUE, TRUE,
                                             &error));
  g_autofree char *f3 = NULL, *b3 = NULL;
  ll_study_edit_get_stage_init(e, 3, &f3, &b3, &frozen, &reinit);
  g_assert_true(frozen && reinit);
  /* the pretrain stage cannot go while others load from it */
  g_assert_false(ll_study_edit_remove_stage(e, 0, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  assert_round_trip(e);
  g_autoptr(LlStudy) s = ll_study_edit_load(e, NULL);
  g_autofree char *outline = ll_study_outline(s);
  g_assert_cmpstr(outline, ==, "5 stages: pretrain, frozen, finetuned, scratch, stage5");
  g_assert_true(ll_study_edit_remove_stage(e, n, &error));
  g_assert_cmpint(ll_study_edit_n_stages(e), ==, 4);
  ll_study_edit_undo(e);
  g_assert_cmpint(ll_study_edit_n_stages(e), ==, 5);
}

/* Canvas edits replace the shown spec and survive undoing study edits. */
static void test_canvas_spec(void)
{
  g_autoptr(LlStudyEdit) e = new_sweep_over("tiny-cnn.json");
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(ll_study_edit_add_axis(e, "training.optimizer.lr", "0.01, 0.1", &error), ==, 0);
  g_autofree char *spec = ll_study_edit_spec_json(e, -1);
  char *at = strstr(spec, "\"out_features\": 10");
  g_assert_nonnull(at);
  GString *edited = g_string_new(spec);
  g_string_replace(edited, "\"name\": \"conv1\"", "\"name\": \"first\"", 1);
  g_string_replace(edited, "\"conv1\"", "\"first\"", 0);
  g_assert_true(ll_study_edit_set_spec_json(e, -1, edited->str, &error));
  g_assert_no_error(error);
  g_string_free(edited, TRUE);
  ll_study_edit_undo(e); /* the axis goes, the canvas's spec stays */
  g_assert_cmpint(ll_study_edit_n_axes(e), ==, 0);
  g_autofree char *now = ll_study_edit_spec_json(e, -1);
  g_assert_nonnull(strstr(now, "\"first\""));
  g_assert_null(strstr(now, "\"conv1\""));
  g_autoptr(LlStudy) s = ll_study_edit_load(e, NULL);
  g_autofree char *base = ll_study_base_spec_json(s);
  g_assert_nonnull(strstr(base, "\"first\""));
}

static void test_budget(void)
{
  g_autoptr(LlStudyEdit) e = new_sweep_over("fmnist-ann.json");
  g_autoptr(GError) error = NULL;
  g_assert_false(ll_study_edit_set_budget(e, 50000, "", &error));
  g_clear_error(&error);
  g_assert_true(
      ll_study_edit_set_budget(e, 50000, "graph.blocks.fc1.props.out_features", &error));
  g_assert_no_error(error);
  g_assert_cmpint(ll_study_edit_add_axis(e, "graph.blocks.relu1.type", "\"ReLU\", \"Tanh\"", &error),
                  ==, 0);
  g_assert_no_error(error);
  g_autoptr(LlStudy) s = ll_study_edit_load(e, NULL);
  double x = 0;
  gint64 params = 0;
  g_autofree char *v = ll_study_variant_json(s, &x, &params, &error);
  g_assert_no_error(error);
  g_assert_cmpfloat(fabs((double)params - 50000) / 50000, <, 0.05);
  assert_round_trip(e);
}

/* Numbers such as 1e-08 survive the editor's text (json-glib's generator
 * would write "1e-08.0", which no parser reads). */
static void test_small_numbers(void)
{
  g_autofree char *path = preset_path("ae-pretrain.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(path, &error);
  g_assert_no_error(error);
  g_autofree char *json = ll_spec_to_json(spec);
  g_assert_nonnull(strstr(json, "1e-08"));
  g_autoptr(LlStudyEdit) e = ll_study_edit_new_for_spec(json, &error);
  g_assert_no_error(error);
  int a = ll_study_edit_add_axis(e, "training.optimizer.lr", "0.1", &error);
  g_assert_no_error(error);
  g_assert_true(ll_study_edit_set_axis_range(e, a, 1e-6, 1e-4, TRUE, 3, &error));
  g_assert_no_error(error);
  g_autofree char *vals = ll_study_edit_axis_values(e, 0);
  g_assert_cmpstr(vals, ==, "1e-06, 1e-05, 0.0001");
  g_autofree char *back = ll_study_edit_spec_json(e, -1);
  g_autoptr(LlSpec) again = ll_spec_load_data(back, -1, "back", &error);
  g_assert_no_error(error);
  assert_round_trip(e);
}

/* A study nested deeper than the writer's 32 levels of layout (files may nest
 * 128) is written without running past them, and reads back the same. */
static void test_deep_nesting(void)
{
  GString *deep = g_string_new(NULL);
  for (int i = 0; i < 60; i++)
    g_string_append(deep, i % 2 ? "{\"a\": " : "[");
  g_string_append(deep, "1");
  for (int i = 59; i >= 0; i--)
    g_string_append(deep, i % 2 ? "}" : "]");
  g_autofree char *path = preset_path("tiny-cnn.json");
  g_autofree char *text = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"spec\": \"%s\",\n"
      " \"overrides\": {\"deep\": %s},\n"
      " \"sweep\": {\"axes\": [{\"path\": \"training.epochs\", \"values\": [1, 2]}]}}",
      path, deep->str);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudyEdit) e = ll_study_edit_new(text, "deep", ".", &error);
  g_assert_no_error(error);
  JsonNode *n = ll_study_edit_get(e, "overrides.deep");
  g_assert_nonnull(n);
  g_autofree char *back = ll_json_node_to_text(n, TRUE);
  g_strstrip(back);
  g_autofree char *want = g_strdup(deep->str);
  GString *squeezed = g_string_new(NULL);
  for (const char *c = back; *c; c++)
    if (*c != ' ' && *c != '\n')
      g_string_append_c(squeezed, *c);
  GString *want_sq = g_string_new(NULL);
  for (const char *c = want; *c; c++)
    if (*c != ' ')
      g_string_append_c(want_sq, *c);
  g_assert_cmpstr(squeezed->str, ==, want_sq->str);
  g_string_free(squeezed, TRUE);
  g_string_free(want_sq, TRUE);
  g_string_free(deep, TRUE);
}

static void test_vary_values(void)
{
  g_autofree char *w = ll_study_vary_values("graph.blocks.fc1.props.out_features", "100");
  g_assert_cmpstr(w, ==, "32, 64, 128, 256");
  g_autofree char *lr = ll_study_vary_values("training.optimizer.lr", "0.001");
  g_assert_cmpstr(lr, ==, "0.0001, 0.000464, 0.00215, 0.01");
  g_autofree char *act = ll_study_vary_values("graph.blocks.act1.type", "\"ReLU\"");
  g_assert_nonnull(strstr(act, "\"GELU\""));
  g_autofree char *k = ll_study_vary_values("graph.blocks.x.props.negative_slope", "0.01");
  g_assert_cmpstr(k, ==, "0.005, 0.01, 0.02");
  g_autofree char *n = ll_study_vary_values("graph.blocks.x.props.groups", "4");
  g_assert_cmpstr(n, ==, "2, 4, 8");
}

/* Editing a stage's start keeps what the editor does not show: E6's
 * transfer depth ("first": "$value" in init_from and in frozen). */
static void test_stage_keeps_first(void)
{
  g_autoptr(LlStudyEdit) e = open_preset("rotation-transfer.json");
  g_autoptr(GError) error = NULL;
  int before = ll_study_edit_count_trials(e, NULL);
  g_assert_true(ll_study_edit_set_stage_init(e, 1, "proxy", "conv1, conv2", TRUE, FALSE, &error));
  g_assert_no_error(error);
  JsonNode *f = ll_study_edit_get(e, "stages.1.init_from.0.first");
  g_assert_nonnull(f);
  g_assert_cmpstr(json_node_get_string(f), ==, "$value");
  JsonNode *fz = ll_study_edit_get(e, "stages.1.frozen.first");
  g_assert_nonnull(fz);
  g_assert_cmpstr(json_node_get_string(fz), ==, "$value");
  JsonNode *fb = ll_study_edit_get(e, "stages.1.frozen.blocks");
  g_assert_cmpint(json_array_get_length(json_node_get_array(fb)), ==, 2);
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, before);
  /* fine-tuned: "frozen" goes, the transfer depth stays */
  g_assert_true(ll_study_edit_set_stage_init(e, 1, "proxy", "conv1, conv2, conv3", FALSE, FALSE,
                                             &error));
  g_assert_null(ll_study_edit_get(e, "stages.1.frozen"));
  g_assert_nonnull(ll_study_edit_get(e, "stages.1.init_from.0.first"));
  assert_round_trip(e);
}

/* A stage's repeat list (with the path it sets), best_of and metric, the
 * study's seeds, each undoable; the fields without a control are named;
 * saved and opened again, the text is the same. */
static void test_stage_repeat_best_of(void)
{
  g_autoptr(LlStudyEdit) e = open_preset("cifar-best.json");
  g_autoptr(GError) error = NULL;
  g_autofree char *vals = NULL, *path = NULL;
  ll_study_edit_get_stage_repeat(e, 0, &vals, &path);
  g_assert_cmpstr(path, ==, "training.schedule");
  g_assert_nonnull(strstr(vals, "\"cosine\""));
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 4);
  /* the long stage: over two learning rates */
  g_assert_true(ll_study_edit_set_stage_repeat(e, 1, "0.1, 0.01", "training.optimizer.lr", &error));
  g_assert_no_error(error);
  /* override paths are member names with dots: read them from the object */
  JsonNode *ov = ll_study_edit_get(e, "stages.1.overrides");
  g_assert_cmpstr(json_object_get_string_member(json_node_get_object(ov), "training.optimizer.lr"),
                  ==, "$value");
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 5);
  g_autofree char *v1 = NULL, *p1 = NULL;
  ll_study_edit_get_stage_repeat(e, 1, &v1, &p1);
  g_assert_cmpstr(v1, ==, "0.1, 0.01");
  g_assert_cmpstr(p1, ==, "training.optimizer.lr");
  /* another path replaces the one before */
  g_assert_true(ll_study_edit_set_stage_repeat(e, 1, "32, 64", "training.batch_size", &error));
  ov = ll_study_edit_get(e, "stages.1.overrides");
  g_assert_false(json_object_has_member(json_node_get_object(ov), "training.optimizer.lr"));
  /* a path the spec has no place for is refused, and nothing changes */
  g_autofree char *before = g_strdup(ll_study_edit_text(e));
  g_assert_false(ll_study_edit_set_stage_repeat(e, 1, "4, 8",
                                                "graph.blocks.nosuch.props.out_features", &error));
  g_assert_nonnull(error);
  g_test_message("refused: %s", error->message);
  g_clear_error(&error);
  g_assert_cmpstr(ll_study_edit_text(e), ==, before);
  /* no values: one trial, and the override of the value goes */
  g_assert_true(ll_study_edit_set_stage_repeat(e, 1, "", NULL, &error));
  g_assert_null(ll_study_edit_get(e, "stages.1.repeat"));
  ov = ll_study_edit_get(e, "stages.1.overrides");
  g_assert_false(json_object_has_member(json_node_get_object(ov), "training.batch_size"));
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 4);
  ll_study_edit_undo(e);
  g_assert_cmpint(ll_study_edit_count_trials(e, NULL), ==, 5);

  /* best_of: none, back by undo; only an earlier stage */
  g_assert_true(ll_study_edit_set_stage_best_of(e, 1, NULL, &error));
  g_assert_null(ll_study_edit_get(e, "stages.1.best_of"));
  ll_study_edit_undo(e);
  g_assert_cmpstr(json_node_get_string(ll_study_edit_get(e, "stages.1.best_of")), ==, "short");
  g_assert_false(ll_study_edit_set_stage_best_of(e, 0, "long", &error));
  g_assert_nonnull(strstr(error->message, "not an earlier stage"));
  g_clear_error(&error);

  /* the stage's metric, and the study's seeds */
  g_assert_true(ll_study_edit_set_stage_metric(e, 0, "val_accuracy", &error));
  g_assert_cmpstr(json_node_get_string(ll_study_edit_get(e, "stages.0.metric")), ==,
                  "val_accuracy");
  g_assert_true(ll_study_edit_set_repeats(e, 3, &error));
  g_assert_cmpint(ll_study_edit_repeats(e), ==, 3);
  g_assert_false(ll_study_edit_set_repeats(e, 0, &error));
  g_clear_error(&error);
  g_autoptr(LlStudy) s = ll_study_edit_load(e, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ll_study_repeats(s), ==, 3);

  /* saved and opened again: the same text */
  g_autofree char *dir = g_dir_make_tmp("ll-study-edit-XXXXXX", &error);
  g_autofree char *file = g_build_filename(dir, "edited.json", NULL);
  g_assert_true(ll_study_edit_save(e, file, &error));
  g_assert_no_error(error);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(file, &text, NULL, NULL));
  g_autoptr(LlStudyEdit) back = ll_study_edit_new(text, file, dir, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ll_study_edit_text(back), ==, ll_study_edit_text(e));
  assert_round_trip(e);
  g_unlink(file);
  g_rmdir(dir);

  /* a best_of that looks forward does not load */
  g_autofree char *spec = ll_study_edit_spec_json(e, -1);
  g_autofree char *fwd = g_strdup_printf(
      "{\"format\": \"layerlab-study\", \"version\": 1, \"spec\": %s, \"stages\": "
      "[{\"name\": \"a\", \"best_of\": \"b\"}, {\"name\": \"b\"}]}",
      spec);
  g_autoptr(LlStudy) bad = ll_study_load_data(fwd, -1, "fwd.json", ".", &error);
  g_assert_null(bad);
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "stages[0].best_of"));
}

/* What the editor cannot edit yet is named, as the file names it. */
static void test_fixed_fields(void)
{
  g_autoptr(LlStudyEdit) cp = open_preset("changepoint.json");
  g_auto(GStrv) f0 = ll_study_edit_fixed_fields(cp, 0);
  g_assert_nonnull(f0);
  g_assert_true(g_strv_contains((const char *const *)f0, "export_outputs"));
  g_autoptr(LlStudyEdit) rt = open_preset("rotation-transfer.json");
  g_auto(GStrv) f1 = ll_study_edit_fixed_fields(rt, 1);
  g_assert_nonnull(f1);
  g_assert_true(g_strv_contains((const char *const *)f1, "init_from.first"));
  g_assert_true(g_strv_contains((const char *const *)f1, "frozen.first"));
  g_auto(GStrv) none = ll_study_edit_fixed_fields(rt, 0);
  g_assert_null(none);
  g_autoptr(LlStudyEdit) cb = open_preset("cifar-best.json");
  g_auto(GStrv) shown = ll_study_edit_fixed_fields(cb, 0); /* epochs and the repeat's path */
  g_assert_null(shown);
  g_autoptr(LlStudyEdit) ma = open_preset("mnist-arch-search.json");
  g_auto(GStrv) top = ll_study_edit_fixed_fields(ma, -1);
  g_assert_nonnull(top);
  g_assert_true(g_strv_contains((const char *const *)top, "groups"));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/study-edit/every-preset-opens", test_every_preset_opens);
  g_test_add_func("/engine/study-edit/axes-and-grid", test_axes_and_grid);
  g_test_add_func("/engine/study-edit/stages", test_stages);
  g_test_add_func("/engine/study-edit/stage-keeps-first", test_stage_keeps_first);
  g_test_add_func("/engine/study-edit/canvas-spec", test_canvas_spec);
  g_test_add_func("/engine/study-edit/budget", test_budget);
  g_test_add_func("/engine/study-edit/small-numbers", test_small_numbers);
  g_test_add_func("/engine/study-edit/deep-nesting", test_deep_nesting);
  g_test_add_func("/engine/study-edit/vary-values", test_vary_values);
  g_test_add_func("/engine/study-edit/stage-repeat-best-of", test_stage_repeat_best_of);
  g_test_add_func("/engine/study-edit/fixed-fields", test_fixed_fields);
  return g_test_run();
}
