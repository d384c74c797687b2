/* test-transfer.c: "Initialise from Run" in the real window under Xvfb. A
 * short tiny-cnn run is trained through the window; a changed copy of its
 * spec (conv1 renamed stem and given a bias, a wider squeeze) is opened; the
 * dialog lists the run, shows which tensors match, maps conv1 onto stem,
 * freezes it, reports a clash, applies one undoable edit, and the next run
 * in the window starts from it. A damaged checkpoint is an error in the
 * dialog. Screenshots go to $LL_SCREENSHOT_DIR (the build dir). */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ll-transfer-dialog.h"
#include "ui-harness.h"
#include "transfer.h"

static LlWindow *win;
static char *run_id;

static void activate(const char *action, GVariant *param)
{
  g_action_group_activate_action(G_ACTION_GROUP(win), action, param);
}

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlSpec *spec(void) { return ll_document_get_spec(doc()); }
static gboolean stopped(void) { return !ll_window_is_training(win); }

static LlTransferDialog *open_dialog(void)
{
  activate("init-from-run", NULL);
  GtkWindow *d = ll_window_get_transfer_dialog(win);
  g_assert_nonnull(d);
  gtk_window_set_default_size(d, 1180, 720);
  ll_ui_spin(300);
  return LL_TRANSFER_DIALOG(d);
}

static const LlTransferRow *row(LlTransferDialog *d, const char *graph, const char *file)
{
  GPtrArray *rows = ll_transfer_dialog_get_rows(d);
  g_assert_nonnull(rows);
  for (guint i = 0; i < rows->len; i++) {
    const LlTransferRow *r = rows->pdata[i];
    if (!g_strcmp0(r->graph_name, graph) && !g_strcmp0(r->file_name, file))
      return r;
  }
  g_error("no row %s <- %s", graph ? graph : "-", file ? file : "-");
  return NULL;
}

static void short_run(const char *name)
{
  LlSpec *s = spec();
  g_free(s->name);
  s->name = g_strdup(name);
  s->dataset.limit_train = 600;
  s->dataset.limit_test = 200;
  s->epochs = 1;
  s->batch_size = 50;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(doc());
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 120000));
}

/* The run called name (ids sort by the second, so two quick runs tie). */
static LlRunInfo *find_run(const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = NULL;
  g_assert_true(ll_run_store_list(store, &runs, &error));
  for (guint i = 0; i < runs->len; i++)
    if (!g_strcmp0(((LlRunInfo *)runs->pdata[i])->name, name))
      return g_ptr_array_steal_index(runs, i);
  g_error("no run called %s", name);
  return NULL;
}

/* The trained spec with conv1 renamed stem (with a bias), squeeze 12 channels wide (not 8). */
static char *changed_spec(void)
{
  g_autofree char *json = ll_spec_to_json(spec());
  g_autoptr(JsonNode) root = json_from_string(json, NULL);
  JsonObject *graph = json_object_get_object_member(json_node_get_object(root), "graph");
  JsonArray *blocks = json_object_get_array_member(graph, "blocks");
  for (guint i = 0; i < json_array_get_length(blocks); i++) {
    JsonObject *b = json_array_get_object_element(blocks, i);
    const char *name = json_object_get_string_member(b, "name");
    JsonObject *props =
        json_object_has_member(b, "props") ? json_object_get_object_member(b, "props") : NULL;
    if (!strcmp(name, "conv1")) {
      json_object_set_string_member(b, "name", "stem");
      json_object_set_boolean_member(props, "bias", TRUE);
    } else if (!strcmp(name, "squeeze")) {
      json_object_set_int_member(props, "out_channels", 12);
    }
    JsonArray *in =
        json_object_has_member(b, "inputs") ? json_object_get_array_member(b, "inputs") : NULL;
    for (guint k = 0; in && k < json_array_get_length(in); k++)
      if (!strcmp(json_array_get_string_element(in, k), "conv1")) {
        json_array_remove_element(in, k);
        json_array_add_string_element(in, "stem");
      }
  }
  json_object_set_string_member(json_node_get_object(root), "name", "changed");
  return json_to_string(root, TRUE);
}

static void test_dialog(void)
{
  /* a source run */
  g_autoptr(GPtrArray) presets = ll_presets_list();
  const char *tiny = NULL;
  for (guint i = 0; i < presets->len; i++)
    if (g_str_has_suffix(presets->pdata[i], "/tiny-cnn.json"))
      tiny = presets->pdata[i];
  g_assert_nonnull(tiny);
  activate("open-path", g_variant_new_string(tiny));
  ll_ui_spin(50);
  short_run("source");
  g_autoptr(LlRunInfo) src = find_run("source");
  g_assert_cmpint(src->status, ==, LL_RUN_FINISHED);
  run_id = g_strdup(src->id);

  g_autofree char *json = changed_spec();
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_document_load_data(doc(), json, "changed", &error));
  g_assert_null(ll_document_get_error(doc()));
  g_assert_cmpuint(spec()->init_from->len, ==, 0);

  LlTransferDialog *d = open_dialog();
  g_assert_cmpuint(ll_transfer_dialog_get_n_runs(d), ==, 1);
  ll_transfer_dialog_set_search(d, "no such run");
  g_assert_cmpuint(ll_transfer_dialog_get_n_runs(d), ==, 0);
  ll_transfer_dialog_set_search(d, "SOUR");
  g_assert_cmpuint(ll_transfer_dialog_get_n_runs(d), ==, 1);
  g_assert_null(ll_transfer_dialog_get_rows(d));
  g_assert_false(ll_transfer_dialog_can_apply(d));
  g_assert_true(ll_transfer_dialog_select_run(d, run_id));

  /* pre-ticked where the names and shapes match; conv1 has no graph block of its name */
  g_auto(GStrv) blocks = ll_transfer_dialog_get_blocks(d);
  g_assert_true(g_strv_contains((const char *const *)blocks, "conv1"));
  g_assert_true(g_strv_contains((const char *const *)blocks, "logits"));
  g_assert_false(
      g_strv_contains((const char *const *)blocks, "optimizer")); /* its state is no block */
  gboolean take, freeze;
  const char *target;
  g_assert_true(ll_transfer_dialog_get_block(d, "bn1", &take, &target, &freeze));
  g_assert_true(take && !freeze);
  g_assert_cmpstr(target, ==, "bn1");
  g_assert_true(ll_transfer_dialog_get_block(d, "conv1", &take, &target, &freeze));
  g_assert_false(take);
  g_assert_null(target);
  g_assert_true(ll_transfer_dialog_get_block(d, "squeeze", &take, &target, &freeze));
  g_assert_false(take); /* its shapes differ */
  g_assert_true(ll_transfer_dialog_get_block(d, "logits", &take, &target, &freeze));
  g_assert_true(take);
  g_assert_cmpint(row(d, NULL, "conv1.weight")->status, ==, LL_TRANSFER_NOT_IN_GRAPH);
  g_assert_cmpint(row(d, "bn1.weight", "bn1.weight")->status, ==, LL_TRANSFER_MATCH);
  g_assert_cmpint(row(d, "squeeze.weight", "squeeze.weight")->status, ==, LL_TRANSFER_NOT_TAKEN);
  g_assert_true(ll_transfer_dialog_can_apply(d));

  /* conv1 into stem (frozen): its weight matches, stem's new bias is missing in the file */
  g_assert_true(ll_transfer_dialog_set_block(d, "conv1", TRUE, "stem", TRUE));
  const LlTransferRow *r = row(d, "stem.weight", "conv1.weight");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_MATCH);
  g_assert_cmpstr(r->file_shape, ==, r->graph_shape);
  g_assert_cmpint(row(d, "stem.bias", NULL)->status, ==, LL_TRANSFER_MISSING);
  /* squeeze ticked: a shape mismatch, shown, not loaded */
  g_assert_true(ll_transfer_dialog_set_block(d, "squeeze", TRUE, "squeeze", FALSE));
  r = row(d, "squeeze.weight", "squeeze.weight");
  g_assert_cmpint(r->status, ==, LL_TRANSFER_SHAPE_MISMATCH);
  g_assert_cmpstr(r->file_shape, ==, "(8, 16, 1, 1)");
  g_assert_cmpstr(r->graph_shape, ==, "(12, 16, 1, 1)");
  g_assert_true(ll_transfer_dialog_can_apply(d));
  g_assert_null(ll_transfer_dialog_get_error(d));
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(d), "transfer-dialog.png");

  /* two checkpoint blocks into one graph block: said in the dialog, no apply */
  g_assert_true(ll_transfer_dialog_set_block(d, "bn2", TRUE, "bn1", FALSE));
  g_assert_nonnull(ll_transfer_dialog_get_error(d));
  g_assert_nonnull(strstr(ll_transfer_dialog_get_error(d), "bn1"));
  g_assert_false(ll_transfer_dialog_can_apply(d));
  ll_ui_spin(200);
  ll_ui_screenshot(GTK_WIDGET(d), "transfer-dialog-clash.png");
  g_assert_true(ll_transfer_dialog_set_block(d, "bn2", TRUE, "bn2", FALSE));
  g_assert_true(ll_transfer_dialog_can_apply(d));
  /* nothing ticked: nothing to apply */
  g_auto(GStrv) all = ll_transfer_dialog_get_blocks(d);
  for (guint i = 0; all[i]; i++) {
    ll_transfer_dialog_get_block(d, all[i], &take, &target, &freeze);
    ll_transfer_dialog_set_block(d, all[i], FALSE, target, FALSE);
  }
  g_assert_false(ll_transfer_dialog_can_apply(d));
  g_assert_nonnull(ll_transfer_dialog_get_error(d));
  for (guint i = 0; all[i]; i++) {
    ll_transfer_dialog_get_block(d, all[i], &take, &target, &freeze);
    gboolean fits = strcmp(all[i], "squeeze") && strcmp(all[i], "conv3");
    ll_transfer_dialog_set_block(d, all[i], target && fits, target, !strcmp(all[i], "conv1"));
  }

  /* apply: one edit */
  g_assert_cmpstr(ll_transfer_dialog_get_error(d), ==, NULL);
  g_assert_true(ll_transfer_dialog_apply(d));
  ll_ui_spin(100);
  g_assert_null(ll_window_get_transfer_dialog(win));
  g_assert_cmpuint(spec()->init_from->len, ==, 1);
  const LlInitFrom *f = spec()->init_from->pdata[0];
  g_autofree char *ref = g_strdup_printf("run:%s", run_id);
  g_assert_cmpstr(f->checkpoint, ==, ref);
  g_assert_false(f->reinit);
  g_assert_true(g_strv_contains((const char *const *)f->blocks, "stem"));
  g_assert_true(g_strv_contains((const char *const *)f->blocks, "conv5"));
  g_assert_true(g_strv_contains((const char *const *)f->blocks, "logits"));
  g_assert_false(g_strv_contains((const char *const *)f->blocks, "squeeze"));
  g_assert_nonnull(f->map);
  g_assert_cmpstr(g_hash_table_lookup(f->map, "conv1"), ==, "stem");
  g_assert_cmpuint(g_hash_table_size(f->map), ==, 1);
  g_assert_true(ll_graph_find(spec()->graph, "stem")->frozen);
  g_assert_false(ll_graph_find(spec()->graph, "conv2")->frozen);
  const LlSummary *sum = ll_document_get_summary(doc());
  gboolean shown = FALSE;
  for (guint i = 0; i < sum->rows->len; i++) {
    const LlSummaryRow *sr = &g_array_index(sum->rows, LlSummaryRow, i);
    if (!strcmp(sr->block->name, "stem"))
      shown = sr->frozen;
  }
  g_assert_true(shown);
  g_autofree char *saved = ll_spec_to_json(spec());
  g_assert_nonnull(strstr(saved, "\"init_from\""));

  /* undo takes back both the entry and the freeze; redo brings them back */
  g_assert_true(ll_document_can_undo(doc()));
  ll_document_undo(doc());
  g_assert_cmpuint(spec()->init_from->len, ==, 0);
  g_assert_false(ll_graph_find(spec()->graph, "stem")->frozen);
  ll_document_redo(doc());
  g_assert_cmpuint(spec()->init_from->len, ==, 1);
  g_assert_true(ll_graph_find(spec()->graph, "stem")->frozen);

  /* reopened, the dialog shows the spec's choice */
  d = open_dialog();
  g_assert_true(ll_transfer_dialog_select_run(d, run_id));
  g_assert_true(ll_transfer_dialog_get_block(d, "conv1", &take, &target, &freeze));
  g_assert_true(take && freeze);
  g_assert_cmpstr(target, ==, "stem");
  g_assert_true(ll_transfer_dialog_get_block(d, "squeeze", &take, &target, &freeze));
  g_assert_false(take);
  gtk_window_close(GTK_WINDOW(d));
  ll_ui_spin(100);

  /* deleting a block takes it out of the entry; undo brings both back */
  const char *const stem[] = {"stem", NULL};
  ll_document_delete_blocks(doc(), stem);
  f = spec()->init_from->pdata[0];
  g_assert_false(g_strv_contains((const char *const *)f->blocks, "stem"));
  g_assert_true(g_strv_contains((const char *const *)f->blocks, "conv5"));
  g_assert_null(f->map ? g_hash_table_lookup(f->map, "conv1") : NULL);
  ll_document_undo(doc());
  f = spec()->init_from->pdata[0];
  g_assert_true(g_strv_contains((const char *const *)f->blocks, "stem"));
  g_assert_cmpstr(g_hash_table_lookup(f->map, "conv1"), ==, "stem");
  g_assert_true(ll_graph_find(spec()->graph, "stem")->frozen);

  /* the next run in the window starts from it */
  short_run("from source");
  g_test_message("notice: %s", ll_window_get_notice(win));
  g_autoptr(LlRunInfo) next = find_run("from source");
  g_assert_cmpstr(next->name, ==, "from source");
  g_assert_cmpint(next->status, ==, LL_RUN_FINISHED);
  g_assert_nonnull(strstr(next->spec_json, ref));
  /* stem was loaded from conv1 and frozen: it ends as it began */
  g_autofree char *src_path = g_build_filename(src->dir, "best.safetensors", NULL);
  g_autofree char *next_path = g_build_filename(next->dir, "final.safetensors", NULL);
  LlShape a, b;
  g_autofree float *wa = NULL, *wb = NULL;
  g_assert_true(ll_checkpoint_read_tensor(src_path, "conv1.weight", &a, &wa, &error));
  g_assert_true(ll_checkpoint_read_tensor(next_path, "stem.weight", &b, &wb, &error));
  g_assert_true(ll_shape_equal(&a, &b));
  g_assert_cmpmem(wa, ll_shape_size(&a) * sizeof(float), wb, ll_shape_size(&b) * sizeof(float));
}

/* A checkpoint that cannot be read is said in the dialog, which stays usable. */
static void test_damaged(void)
{
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_autoptr(LlRunInfo) info = NULL;
  g_assert_true(ll_run_store_get(store, run_id, &info, &error));
  g_autofree char *path = g_build_filename(info->dir, "best.safetensors", NULL);
  g_assert_true(g_file_set_contents(path, "not a checkpoint", -1, &error));

  LlTransferDialog *d = open_dialog();
  ll_transfer_dialog_set_search(d, "");
  g_assert_cmpuint(ll_transfer_dialog_get_n_runs(d), ==, 2);
  g_assert_true(ll_transfer_dialog_select_run(d, run_id));
  const char *msg = ll_transfer_dialog_get_error(d);
  g_assert_nonnull(msg);
  g_assert_nonnull(strstr(msg, path));
  g_assert_null(ll_transfer_dialog_get_rows(d));
  g_assert_false(ll_transfer_dialog_can_apply(d));
  g_assert_false(ll_transfer_dialog_apply(d));
  ll_ui_spin(300);
  ll_ui_screenshot(GTK_WIDGET(d), "transfer-dialog-error.png");
  gtk_window_close(GTK_WINDOW(d));
  ll_ui_spin(100);
}

/* Xvfb has no session bus; GTK says so once. That is the environment, not a bug. */
int main(int argc, char **argv)
{
  if (!g_file_test("/usr/share/datasets/fashion-mnist", G_FILE_TEST_IS_DIR))
    return 77; /* the runs train on Fashion-MNIST */
  if (!(win = ll_ui_start(&argc, &argv, "transfer")))
    return 77;
  g_test_add_func("/ui/transfer/dialog", test_dialog);
  g_test_add_func("/ui/transfer/damaged", test_damaged);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  g_free(run_id);
  return rc;
}
