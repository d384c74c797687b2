/* test-document.c: unsaved edits are never lost without a question. Every
 * path that replaces or closes a modified spec (New, Open, a preset, a
 * study, the best spec of a study, a run's spec, closing the window, Quit)
 * asks Save / Discard / Cancel, and goes on only after Save or Discard; so
 * does an open study whose design has unsaved edits (Save writes the study);
 * and the spec can be edited and undone while a run trains its own copy.
 * Screenshots of the question, light and dark, go to $LL_SCREENSHOT_DIR. */
#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <string.h>

#include "ll-study-editor.h"
#include "ui-harness.h"

static LlWindow *win;

static void activate(const char *action, GVariant *param)
{
  g_action_group_activate_action(G_ACTION_GROUP(win), action, param);
}

static gboolean action_enabled(const char *action)
{
  return g_action_group_get_action_enabled(G_ACTION_GROUP(win), action);
}

static LlDocument *doc(void) { return ll_window_get_document(win); }
static LlGraph *graph(void) { return ll_document_get_spec(doc())->graph; }

static char *preset(const char *name)
{
  g_autoptr(GPtrArray) presets = ll_presets_list();
  for (guint i = 0; i < presets->len; i++) {
    g_autofree char *base = g_path_get_basename(presets->pdata[i]);
    if (g_str_has_prefix(base, name) && base[strlen(name)] == '.')
      return g_strdup(presets->pdata[i]);
  }
  g_error("no preset %s", name);
  return NULL;
}

/* Opens a preset over an unmodified document (no question). */
static void open_clean(const char *name)
{
  g_assert_null(ll_window_get_save_prompt(win));
  if (ll_document_get_modified(doc())) {
    activate("new", NULL);
    g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  }
  g_autofree char *path = preset(name);
  activate("open-path", g_variant_new_string(path));
  ll_ui_spin(20);
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_false(ll_document_get_modified(doc()));
}

/* An edit: a Dropout after gap. Returns its name. */
static char *edit(void)
{
  const char *one[] = {"gap", NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
  g_signal_emit_by_name(ll_window_get_palette(win), "block-activated", "Dropout");
  g_assert_true(ll_document_get_modified(doc()));
  return g_strdup(ll_canvas_get_primary(ll_window_get_canvas(win)));
}

static gboolean autosave_exists(void)
{
  g_autofree char *path = ll_document_autosave_path(doc());
  return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* Cancel keeps the edit and the document; Discard goes on and forgets the
 * autosave. trigger() starts the replacement; replaced() says it happened. */
static void check_path(const char *what, void (*trigger)(void), gboolean (*replaced)(void))
{
  g_test_message("path: %s", what);
  open_clean("tiny-cnn");
  g_autofree char *added = edit();
  g_assert_true(autosave_exists());
  trigger();
  g_assert_nonnull(ll_window_get_save_prompt(win));
  /* the question names the spec */
  g_assert_true(ll_ui_answer_save_prompt(win, "_Cancel"));
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_false(replaced());
  g_assert_nonnull(ll_graph_find(graph(), added));
  g_assert_true(ll_document_get_modified(doc()));
  /* Escape (no answer) cancels too */
  trigger();
  GtkWindow *prompt = ll_window_get_save_prompt(win);
  g_assert_nonnull(prompt);
  gtk_window_close(prompt);
  ll_ui_spin(20);
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_false(replaced());
  g_assert_nonnull(ll_graph_find(graph(), added));
  trigger();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  g_assert_true(replaced());
  g_assert_null(ll_graph_find(graph(), added));
  g_assert_false(ll_document_get_modified(doc()));
  g_assert_false(autosave_exists()); /* discarded edits are not restored next time */
}

static void trigger_new(void) { activate("new", NULL); }
static gboolean is_new(void) { return graph()->blocks->len == 1; }

static void trigger_preset(void)
{
  g_autofree char *path = preset("fmnist-ann");
  activate("open-path", g_variant_new_string(path));
}
static gboolean is_mlp(void)
{
  const char *path = ll_document_get_path(doc());
  return path && g_str_has_suffix(path, "fmnist-ann.json");
}

static void trigger_study(void)
{
  g_autofree char *path = preset("even-odd-transfer");
  activate("open-path", g_variant_new_string(path));
}
static gboolean is_study(void) { return ll_study_view_has_study(ll_window_get_study(win)); }

/* "Open Best Spec" on the Study tab (the signal its button emits) */
static void trigger_best_spec(void)
{
  g_autofree char *path = preset("fmnist-ann");
  g_signal_emit_by_name(ll_window_get_study(win), "open-spec", path);
}

/* "Open Spec" on the Runs tab (the signal its button emits, with the run) */
static void trigger_run_spec(void)
{
  g_autofree char *path = preset("fmnist-ann");
  g_autoptr(LlRunInfo) run = ll_run_info_new();
  run->name = g_strdup("recorded run");
  g_assert_true(g_file_get_contents(path, &run->spec_json, NULL, NULL));
  g_signal_emit_by_name(ll_window_get_runs(win), "open-spec", run);
}
static gboolean is_run_spec(void)
{
  return !g_strcmp0(ll_document_get_spec(doc())->name, "fmnist-ann") &&
         !ll_document_get_path(doc());
}

/* Answers the window's file chooser with file (an Open
 * chooser selects it, a Save one is given its folder and name). */
static void choose_file(GtkFileChooser *c, GFile *file)
{
  if (gtk_file_chooser_get_action(c) == GTK_FILE_CHOOSER_ACTION_OPEN) {
    g_assert_true(gtk_file_chooser_set_file(c, file, NULL));
  } else {
    g_autoptr(GFile) folder = g_file_get_parent(file);
    g_autofree char *name = g_file_get_basename(file);
    g_assert_true(gtk_file_chooser_set_current_folder(c, folder, NULL));
    gtk_file_chooser_set_current_name(c, name);
  }
}

static void answer_chooser(GFile *file)
{
  GtkFileChooser *c = GTK_FILE_CHOOSER(ll_window_get_chooser(win));
  g_assert_nonnull(c);
  /* the chooser takes the file once it has listed the folder; a folder it
   * was still opening (slow on a loaded machine) may take the file's place
   * afterwards: then the file is chosen again */
  for (int i = 0; i < 300; i++) {
    g_autoptr(GFile) chosen = gtk_file_chooser_get_file(c);
    if (chosen && g_file_equal(chosen, file))
      break;
    if (i % 50 == 0)
      choose_file(c, file);
    ll_ui_spin(10);
  }
  g_autoptr(GFile) chosen = gtk_file_chooser_get_file(c);
  g_assert_nonnull(chosen);
  if (!g_file_equal(chosen, file))
    g_error("the chooser took %s, not %s", g_file_peek_path(chosen), g_file_peek_path(file));
  gtk_native_dialog_hide(GTK_NATIVE_DIALOG(c));
  g_signal_emit_by_name(c, "response", GTK_RESPONSE_ACCEPT);
  ll_ui_spin(20);
}

/* Open…: the file chooser answered with a file */
static void trigger_open(void)
{
  activate("open", NULL);
  g_autofree char *path = preset("fmnist-ann");
  g_autoptr(GFile) file = g_file_new_for_path(path);
  answer_chooser(file);
}

static void test_paths(void)
{
  check_path("new", trigger_new, is_new);
  check_path("open a preset", trigger_preset, is_mlp);
  check_path("open a study", trigger_study, is_study);
  check_path("open the best spec of a study", trigger_best_spec, is_mlp);
  check_path("open a run's spec", trigger_run_spec, is_run_spec);
  check_path("open a file", trigger_open, is_mlp);
}

/* Save on a spec with a file writes it, then goes on. */
static void test_save_then_open(void)
{
  g_autofree char *dir = g_dir_make_tmp("layerlab-save-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "mine.json", NULL);
  open_clean("tiny-cnn");
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_document_save_file(doc(), file, &error));
  g_autofree char *added = edit();
  trigger_preset();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save"));
  g_assert_true(is_mlp());
  g_autoptr(LlSpec) saved = ll_spec_load_file(file, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ll_graph_find(saved->graph, added));
  g_remove(file);
  g_rmdir(dir);
}

/* Save on an untitled spec (or a preset) asks where; the replacement waits
 * for the file and does not happen when the chooser is cancelled. */
static void test_save_as_then_new(void)
{
  open_clean("tiny-cnn"); /* a preset: read-only, so Save means Save As */
  g_autofree char *added = edit();
  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save As\u2026"));
  GtkFileChooser *c = GTK_FILE_CHOOSER(ll_window_get_chooser(win));
  g_assert_nonnull(c);
  gtk_native_dialog_hide(GTK_NATIVE_DIALOG(c));
  g_signal_emit_by_name(c, "response", GTK_RESPONSE_CANCEL);
  ll_ui_spin(20);
  g_assert_false(is_new()); /* not saved: nothing replaced */
  g_assert_nonnull(ll_graph_find(graph(), added));
  g_assert_true(ll_document_get_modified(doc()));

  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save As\u2026"));
  g_autofree char *dir = g_dir_make_tmp("layerlab-saveas-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "edited.json", NULL);
  g_autoptr(GFile) gfile = g_file_new_for_path(file);
  answer_chooser(gfile);
  g_assert_true(is_new());
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) saved = ll_spec_load_file(file, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ll_graph_find(saved->graph, added));
  g_remove(file);
  g_rmdir(dir);
}

static gboolean destroyed;
static void on_destroy(GtkWidget *w, gpointer data) { destroyed = TRUE; }

/* A window of app in win, shown, watched for its end (destroyed). */
static void new_app_window(GtkApplication *app)
{
  win = ll_window_new(app);
  gtk_window_present(GTK_WINDOW(win));
  ll_ui_spin(100);
  destroyed = FALSE;
  g_signal_connect(win, "destroy", G_CALLBACK(on_destroy), NULL);
}

/* Closes win (quit: Quit, every window of app), which asks first. */
static void close_asked(GtkApplication *app, gboolean quit)
{
  if (quit)
    ll_window_close_all(app);
  else
    gtk_window_close(GTK_WINDOW(win));
  ll_ui_spin(20);
  g_assert_false(destroyed);
}

/* Closing a window and Quit (every window of the application). */
static void test_close_and_quit(void)
{
  LlWindow *main_win = win;
  GtkApplication *app = gtk_application_new("org.layerlab.LayerLab.Test", G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_application_register(G_APPLICATION(app), NULL, &error));
  for (int quit = 0; quit < 2; quit++) {
    new_app_window(app);
    g_autofree char *path = preset("tiny-cnn");
    g_assert_true(ll_window_open_file(win, path, &error));
    g_free(edit());
    g_autofree char *auto_path = ll_document_autosave_path(doc()); /* the window goes */
    g_assert_true(g_file_test(auto_path, G_FILE_TEST_EXISTS));
    for (int answer = 0; answer < 2; answer++) {
      close_asked(app, quit);
      g_assert_true(ll_ui_answer_save_prompt(win, answer ? "_Discard" : "_Cancel"));
      g_assert_cmpint(destroyed, ==, answer);
    }
    g_assert_false(g_file_test(auto_path, G_FILE_TEST_EXISTS));
  }
  /* an unmodified window closes without a question */
  new_app_window(app);
  ll_window_close_all(app);
  ll_ui_spin(20);
  g_assert_true(destroyed);
  g_object_unref(app);
  win = main_win;
}

static gpointer gone_doc;
static gboolean doc_gone(void) { return gone_doc == NULL; }

/* A spec restored from the autosave is unsaved work: closing it asks. The
 * window whose edits it holds went without asking (as in a crash); the
 * main window's own autosave is not another window's to restore. */
static void test_restored_is_modified(void)
{
  open_clean("tiny-cnn");
  g_autofree char *mine = edit();
  g_assert_true(autosave_exists());
  LlWindow *main_win = win;
  win = ll_window_new(NULL);
  open_clean("tiny-cnn");
  g_autofree char *added = edit();
  g_autofree char *lost = ll_document_autosave_path(doc());
  gone_doc = doc();
  g_object_add_weak_pointer(gone_doc, &gone_doc);
  gtk_window_destroy(GTK_WINDOW(win));
  g_assert_true(ll_ui_wait_for(doc_gone, 10000)); /* its data reader ends first */
  g_assert_true(g_file_test(lost, G_FILE_TEST_EXISTS));
  win = ll_window_new(NULL);
  g_assert_true(ll_window_restore_autosave(win));
  g_assert_true(ll_document_get_modified(doc()));
  g_assert_nonnull(ll_graph_find(graph(), added));
  g_autofree char *now = ll_document_autosave_path(doc());
  g_assert_cmpstr(now, ==, lost); /* it took that file over */
  g_assert_true(autosave_exists());
  /* nothing else is left to restore */
  LlWindow *third = ll_window_new(NULL);
  g_assert_false(ll_window_restore_autosave(third));
  gtk_window_destroy(GTK_WINDOW(third));
  gtk_window_destroy(GTK_WINDOW(win));
  win = main_win;
}

/* ---- a study's design with unsaved edits ---- */

static LlStudyEditor *study_editor(void)
{
  return ll_study_view_get_editor(ll_window_get_study(win));
}

static LlStudyEdit *study_edit(void)
{
  return is_study() ? ll_study_editor_get_edit(study_editor()) : NULL;
}

/* Stage 2 of even-odd-transfer takes (and freezes) n blocks. */
static gboolean study_takes(guint n)
{
  JsonNode *fz = study_edit() ? ll_study_edit_get(study_edit(), "stages.1.frozen") : NULL;
  return fz && JSON_NODE_HOLDS_ARRAY(fz) && json_array_get_length(json_node_get_array(fz)) == n;
}

/* An edit in the Design, typed as a user would: stage 2 takes these blocks. */
static void edit_study(const char *blocks, guint n)
{
  GtkWidget *bl = ll_study_editor_get_control(study_editor(), "stage-1-blocks");
  g_assert_nonnull(bl);
  gtk_editable_set_text(GTK_EDITABLE(bl), blocks);
  g_signal_emit_by_name(bl, "activate");
  ll_ui_spin(50);
  g_assert_true(study_takes(n));
  g_assert_true(ll_study_edit_modified(study_edit()));
  g_assert_false(ll_document_get_modified(doc())); /* the spec itself is as opened */
}

/* The question over the window is about the study, by its name. */
static void assert_asks_about_study(const char *name)
{
  GtkWindow *prompt = ll_window_get_save_prompt(win);
  g_assert_nonnull(prompt);
  g_autofree char *text = NULL;
  g_object_get(prompt, "text", &text, NULL);
  g_autofree char *want = g_strdup_printf("the study \u201c%s\u201d", name);
  if (!strstr(text, want))
    g_error("the question \"%s\" does not name %s", text, want);
}

static void trigger_other_study(void)
{
  g_autofree char *path = preset("encoder-reuse");
  activate("open-path", g_variant_new_string(path));
}
static gboolean is_other_study(void)
{
  JsonNode *n = study_edit() ? ll_study_edit_get(study_edit(), "name") : NULL;
  return n && !g_strcmp0(json_node_get_string(n), "encoder-reuse");
}

/* Cancel keeps the study and its edit; Discard goes on. */
static void check_study_path(const char *what, void (*trigger)(void), gboolean (*replaced)(void))
{
  g_test_message("study path: %s", what);
  open_clean("even-odd-transfer");
  g_assert_true(is_study());
  g_assert_false(ll_study_edit_modified(study_edit()));
  edit_study("enc1", 1);
  trigger();
  assert_asks_about_study("even-odd-transfer");
  g_assert_true(ll_ui_answer_save_prompt(win, "_Cancel"));
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_false(replaced());
  g_assert_true(study_takes(1));
  g_assert_true(ll_study_edit_modified(study_edit()));
  trigger();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  g_assert_true(replaced());
  g_assert_false(study_takes(1));
}

static void test_study_paths(void)
{
  check_study_path("new", trigger_new, is_new);
  check_study_path("open a spec preset", trigger_preset, is_mlp);
  check_study_path("open another study", trigger_other_study, is_other_study);
  check_study_path("open the best spec of a study", trigger_best_spec, is_mlp);
  check_study_path("open a run's spec", trigger_run_spec, is_run_spec);
  /* an unedited study goes without a question */
  open_clean("even-odd-transfer");
  trigger_new();
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_true(is_new());
}

/* The file holds text and loads as a study; then it goes, with its folder. */
static void check_saved_study(const char *dir, const char *file, const char *text)
{
  g_autofree char *written = NULL;
  g_assert_true(g_file_get_contents(file, &written, NULL, NULL));
  g_assert_cmpstr(written, ==, text);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) loaded = ll_study_load_file(file, &error);
  g_assert_no_error(error);
  g_remove(file);
  g_rmdir(dir);
}

/* Save writes the study: a preset asks where (and a cancelled chooser
 * replaces nothing), a study with a file of its own is written there; the
 * file holds the design as edited and opens again as it was. */
static void test_study_save(void)
{
  g_autofree char *dir = g_dir_make_tmp("layerlab-study-save-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "my-study.json", NULL);
  open_clean("even-odd-transfer");
  edit_study("enc1", 1);
  g_autofree char *edited = g_strdup(ll_study_edit_text(study_edit()));
  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save As\u2026"));
  GtkFileChooser *c = GTK_FILE_CHOOSER(ll_window_get_chooser(win));
  g_assert_nonnull(c);
  g_autofree char *offered = gtk_file_chooser_get_current_name(c);
  g_assert_cmpstr(offered, ==, "even-odd-transfer.json");
  gtk_native_dialog_hide(GTK_NATIVE_DIALOG(c));
  g_signal_emit_by_name(c, "response", GTK_RESPONSE_CANCEL);
  ll_ui_spin(20);
  g_assert_false(is_new());
  g_assert_true(study_takes(1));
  g_assert_true(ll_study_edit_modified(study_edit()));

  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save As\u2026"));
  g_autoptr(GFile) gfile = g_file_new_for_path(file);
  answer_chooser(gfile);
  g_assert_true(is_new());
  g_autofree char *written = NULL;
  g_assert_true(g_file_get_contents(file, &written, NULL, NULL));
  g_assert_cmpstr(written, ==, edited);

  /* opened again, the design is the one saved; Save now writes its file */
  activate("open-path", g_variant_new_string(file));
  ll_ui_spin(20);
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_true(study_takes(1));
  g_assert_false(ll_study_edit_modified(study_edit()));
  g_assert_cmpstr(ll_study_edit_text(study_edit()), ==, edited);
  edit_study("enc1, enc2", 2);
  g_autofree char *again = g_strdup(ll_study_edit_text(study_edit()));
  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Save"));
  g_assert_true(is_new());
  check_saved_study(dir, file, again);
}

static gboolean title_marked(void)
{
  return g_str_has_prefix(gtk_window_get_title(GTK_WINDOW(win)), "*");
}

/* Ctrl+S with a study open saves the study: a preset asks where, a study
 * with a file of its own is written there; a canvas edit (of the study's
 * base spec) goes into the study's file too, and nothing stays unsaved. */
static void test_study_ctrl_s(void)
{
  open_clean("even-odd-transfer");
  edit_study("enc1", 1);
  g_autofree char *edited = g_strdup(ll_study_edit_text(study_edit()));
  g_assert_true(title_marked());
  activate("save", NULL); /* Ctrl+S */
  g_autofree char *dir = g_dir_make_tmp("layerlab-study-ctrl-s-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "mine.json", NULL);
  ll_ui_spin(20);
  GtkFileChooser *c = GTK_FILE_CHOOSER(ll_window_get_chooser(win));
  g_assert_nonnull(c);
  g_autofree char *offered = gtk_file_chooser_get_current_name(c);
  g_assert_cmpstr(offered, ==, "even-odd-transfer.json");
  g_autoptr(GFile) gfile = g_file_new_for_path(file);
  answer_chooser(gfile);
  g_autofree char *written = NULL;
  g_assert_true(g_file_get_contents(file, &written, NULL, NULL));
  g_assert_cmpstr(written, ==, edited);
  g_assert_true(is_study());
  g_assert_false(ll_study_edit_modified(study_edit()));
  g_assert_false(title_marked());

  /* a canvas edit is the study's: Ctrl+S writes it to the study's file */
  const char *one[] = {"enc1", NULL};
  ll_canvas_select(ll_window_get_canvas(win), one);
  g_signal_emit_by_name(ll_window_get_palette(win), "block-activated", "Dropout");
  ll_ui_spin(20);
  g_autofree char *added = g_strdup(ll_canvas_get_primary(ll_window_get_canvas(win)));
  g_assert_true(ll_study_edit_modified(study_edit()));
  g_assert_true(title_marked());
  g_autofree char *with_block = g_strdup(ll_study_edit_text(study_edit()));
  g_autofree char *quoted = g_strdup_printf("\"%s\"", added);
  g_assert_nonnull(strstr(with_block, quoted));
  activate("save", NULL);
  ll_ui_spin(20);
  g_assert_null(ll_window_get_chooser(win));
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_false(ll_study_edit_modified(study_edit()));
  g_assert_false(ll_document_get_modified(doc()));
  g_assert_false(title_marked());
  /* nothing unsaved: New asks nothing */
  trigger_new();
  g_assert_null(ll_window_get_save_prompt(win));
  g_assert_true(is_new());
  check_saved_study(dir, file, with_block);
}

/* The title's "*" covers the study's design: an edit sets it, undoing it
 * back to the design as opened clears it, and so does the Design's Save. */
static void test_study_title(void)
{
  g_autofree char *dir = g_dir_make_tmp("layerlab-study-title-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "titled.json", NULL);
  open_clean("even-odd-transfer");
  g_assert_false(title_marked());
  edit_study("enc1", 1);
  g_assert_true(title_marked());
  ll_study_editor_undo(study_editor());
  ll_ui_spin(20);
  g_assert_false(ll_study_edit_modified(study_edit()));
  g_assert_false(title_marked());
  edit_study("enc1", 1);
  g_assert_true(title_marked());
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_study_editor_save_to(study_editor(), file, &error));
  g_assert_no_error(error);
  g_assert_false(title_marked());
  /* leaving the study leaves no mark behind */
  edit_study("enc1, enc2", 2);
  trigger_new();
  g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  g_assert_true(is_new());
  g_assert_false(title_marked());
  g_remove(file);
  g_rmdir(dir);
}

/* Closing the window and Quit (Ctrl+Q: every window) ask about the study too. */
static void test_study_close_and_quit(void)
{
  LlWindow *main_win = win;
  GtkApplication *app =
      gtk_application_new("org.layerlab.LayerLab.StudyTest", G_APPLICATION_NON_UNIQUE);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_application_register(G_APPLICATION(app), NULL, &error));
  for (int quit = 0; quit < 2; quit++) {
    new_app_window(app);
    g_autofree char *path = preset("even-odd-transfer");
    g_assert_true(ll_window_open_file(win, path, &error));
    edit_study("enc1", 1);
    for (int answer = 0; answer < 2; answer++) {
      close_asked(app, quit);
      assert_asks_about_study("even-odd-transfer");
      g_assert_true(ll_ui_answer_save_prompt(win, answer ? "_Discard" : "_Cancel"));
      g_assert_cmpint(destroyed, ==, answer);
      if (!answer)
        g_assert_true(study_takes(1));
    }
  }
  g_object_unref(app);
  win = main_win;
}

/* The question about a study, for the reader to look at. */
static void test_study_prompt_screenshot(void)
{
  open_clean("even-odd-transfer");
  edit_study("enc1", 1);
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  ll_ui_spin(300);
  trigger_new();
  GtkWindow *prompt = ll_window_get_save_prompt(win);
  g_assert_nonnull(prompt);
  ll_ui_spin(300);
  ll_ui_screenshot_over(GTK_WIDGET(win), GTK_WIDGET(prompt), "save-prompt-study.png");
  g_assert_true(ll_ui_answer_save_prompt(win, "_Discard"));
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
}

static gboolean stopped(void) { return !ll_window_is_training(win); }

/* Undo and redo work while a run trains: the trainer trains the copy it took
 * at Start, whatever happens to the document meanwhile. */
static void test_edit_while_training(void)
{
  open_clean("tiny-cnn");
  LlSpec *s = ll_document_get_spec(doc());
  g_free(s->name);
  s->name = g_strdup("trained while edited");
  s->dataset.limit_train = 600;
  s->dataset.limit_test = 200;
  s->epochs = 2;
  s->batch_size = 50;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(doc());
  guint n0 = graph()->blocks->len;
  activate("train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  /* an edit, undone and redone */
  g_autofree char *added = edit();
  g_assert_true(action_enabled("undo"));
  activate("undo", NULL);
  g_assert_null(ll_graph_find(graph(), added));
  g_assert_true(action_enabled("redo"));
  activate("redo", NULL);
  g_assert_nonnull(ll_graph_find(graph(), added));
  /* an edit that would wreck the run if it shared the graph: the head goes */
  const char *head[] = {"logits", NULL};
  ll_canvas_select(ll_window_get_canvas(win), head);
  activate("delete", NULL);
  g_assert_null(ll_graph_find(graph(), "logits"));
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(stopped, 120000));
  const char *status = ll_training_panel_get_progress_text(ll_window_get_training_panel(win));
  g_test_message("run: %s", status);
  g_assert_nonnull(strstr(status, "finished"));
  /* the run recorded the spec of Start */
  g_autofree char *root = g_build_filename(g_get_user_data_dir(), "runs", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = NULL;
  g_assert_true(ll_run_store_list(store, &runs, &error));
  const LlRunInfo *run = NULL;
  for (guint i = 0; i < runs->len; i++)
    if (!g_strcmp0(((LlRunInfo *)runs->pdata[i])->name, "trained while edited"))
      run = runs->pdata[i];
  g_assert_nonnull(run);
  g_autoptr(LlSpec) recorded = ll_spec_load_data(run->spec_json, -1, "run", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(recorded->graph->blocks->len, ==, n0);
  g_assert_nonnull(ll_graph_find(recorded->graph, "logits"));
  g_assert_null(ll_graph_find(recorded->graph, added));
  /* every edit made during the run undoes */
  activate("undo", NULL);
  g_assert_nonnull(ll_graph_find(graph(), "logits"));
  activate("undo", NULL);
  g_assert_null(ll_graph_find(graph(), added));
  g_assert_cmpuint(graph()->blocks->len, ==, n0);
}

static void test_screenshots(void)
{
  open_clean("tiny-cnn");
  g_free(edit());
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  ll_ui_spin(300);
  for (int dark = 0; dark < 2; dark++) {
    ll_ui_set_dark(dark);
    trigger_preset();
    GtkWindow *prompt = ll_window_get_save_prompt(win);
    g_assert_nonnull(prompt);
    ll_ui_spin(300);
    ll_ui_screenshot_over(GTK_WIDGET(win), GTK_WIDGET(prompt),
                          dark ? "save-prompt-dark.png" : "save-prompt.png");
    g_assert_true(ll_ui_answer_save_prompt(win, "_Cancel"));
  }
  ll_ui_set_dark(FALSE);
  gtk_window_set_default_size(GTK_WINDOW(win), 1600, 1000);
}

/* A block deleted mid-chain leaves its reader unconnected: the spec is
 * saved as drawn, and that file (and the autosave) opens again in the
 * window with the mistake marked, while the command line still refuses to
 * train it. */
static void test_draft_reopens(void)
{
  g_autofree char *dir = g_dir_make_tmp("layerlab-draft-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "draft.json", NULL);
  open_clean("tiny-cnn");
  const char *gone[] = {"drop2", NULL};
  ll_document_delete_blocks(doc(), gone);
  g_assert_nonnull(ll_document_get_error(doc()));
  g_assert_cmpstr(ll_document_get_error_block(doc()), ==, "pool");
  g_autoptr(GError) error = NULL;
  g_assert_true(ll_document_save_file(doc(), file, &error));
  g_autoptr(LlSpec) strict = ll_spec_load_file(file, &error);
  g_assert_null(strict);
  g_assert_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_GRAPH);
  g_assert_nonnull(strstr(error->message, "not connected"));
  g_clear_error(&error);

  open_clean("fmnist-ann");
  g_assert_true(ll_document_load_file(doc(), file, &error));
  g_assert_no_error(error);
  g_assert_null(ll_graph_find(graph(), "drop2"));
  g_assert_nonnull(ll_graph_find(graph(), "pool"));
  g_assert_nonnull(ll_graph_find(graph(), "logits"));
  g_assert_nonnull(ll_document_get_error(doc()));
  g_assert_cmpstr(ll_document_get_error_block(doc()), ==, "pool");
  g_assert_false(action_enabled("train-start"));

  /* a further edit of the draft is autosaved, and the autosave restores */
  const char *more[] = {"drop3", NULL};
  ll_document_delete_blocks(doc(), more);
  ll_ui_spin(50);
  g_autofree char *draft_auto = ll_document_autosave_path(doc());
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(draft_auto, &text, NULL, &error));
  g_assert_null(strstr(text, "\"drop3\""));
  g_autoptr(LlSpec) back = ll_spec_load_draft_data(text, -1, "autosave", NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(ll_graph_find(back->graph, "conv4"));
  g_assert_null(ll_graph_find(back->graph, "drop3"));
  ll_document_forget_autosave(doc());
  g_remove(file);
  g_rmdir(dir);
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "document")))
    return 77;
  g_test_add_func("/ui/document/ask-before-replacing", test_paths);
  g_test_add_func("/ui/document/save-then-open", test_save_then_open);
  g_test_add_func("/ui/document/draft-reopens", test_draft_reopens);
  g_test_add_func("/ui/document/save-as-then-new", test_save_as_then_new);
  g_test_add_func("/ui/document/close-and-quit", test_close_and_quit);
  g_test_add_func("/ui/document/restored-is-modified", test_restored_is_modified);
  g_test_add_func("/ui/document/edit-while-training", test_edit_while_training);
  g_test_add_func("/ui/document/screenshots", test_screenshots);
  g_test_add_func("/ui/document/study-ask-before-replacing", test_study_paths);
  g_test_add_func("/ui/document/study-save", test_study_save);
  g_test_add_func("/ui/document/study-ctrl-s", test_study_ctrl_s);
  g_test_add_func("/ui/document/study-title", test_study_title);
  g_test_add_func("/ui/document/study-close-and-quit", test_study_close_and_quit);
  g_test_add_func("/ui/document/study-prompt-screenshot", test_study_prompt_screenshot);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}
