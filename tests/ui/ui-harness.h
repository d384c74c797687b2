/* ui-harness.h: what the window tests share: a fresh home for every XDG
 * folder, the window presented under Xvfb with the application's style
 * sheet, the main loop run until a condition holds, and screenshots into
 * $LL_SCREENSHOT_DIR (the build dir). */
#pragma once

#include "ll-window-private.h"

G_BEGIN_DECLS

/* Sets up a window test: a temporary home named after name, g_test_init, GTK
 * and the window (1600 x 1000, its run store in the temporary data dir).
 * Returns NULL when the test is to be skipped (exit status 77): argv[1] is
 * "--skip" (no xvfb-run) or GTK finds no display. */
LlWindow *ll_ui_start(int *argc, char ***argv, const char *name);
/* Runs the main loop until cond() or timeout_ms; returns cond() (cond NULL:
 * just the time). */
gboolean ll_ui_wait_for(gboolean (*cond)(void), int timeout_ms);
void ll_ui_spin(int ms);
/* Runs the main loop until the study view's figure on page has drawn more
 * than draws0 times, or timeout_ms (a loaded machine draws a frame late);
 * returns whether it drew. */
gboolean ll_ui_wait_for_figure_draw(LlStudyView *sv, const char *page, guint draws0,
                                    int timeout_ms);
/* Opens the preset whose file is name.json (win.open-path), discarding the
 * edits of the test before if the window asks. */
void ll_ui_open_preset(LlWindow *win, const char *name);
/* Renders w as drawn now (unref the texture). */
GdkTexture *ll_ui_render(GtkWidget *w);
/* Renders w into name (a PNG). */
void ll_ui_screenshot(GtkWidget *w, const char *name);
/* Renders base with top (another toplevel: a dialog) drawn centred over it. */
void ll_ui_screenshot_over(GtkWidget *base, GtkWidget *top, const char *name);
/* The dark style (with style-dark.css), as the application's style switch sets it. */
void ll_ui_set_dark(gboolean dark);
/* The first button under root (root included) whose label is label, or NULL. */
GtkWidget *ll_ui_find_button(GtkWidget *root, const char *label);
/* The Save / Discard / Cancel question over win: clicks the button whose
 * label is label ("_Save", "_Save As…", "_Discard", "_Cancel"); returns
 * whether the question was there. */
gboolean ll_ui_answer_save_prompt(LlWindow *win, const char *label);
/* The drop target of w (the canvas's takes block types from the palette):
 * tests emit its signals ("enter", "motion", "leave", "drop") as a drag does. */
GtkDropTarget *ll_ui_drop_target(GtkWidget *w);
/* Makes the open spec's run short: one epoch of batches of 64 over
 * limit_train samples (limit_test to test), one thread, no early stop. */
void ll_ui_shorten(LlWindow *win, int limit_train, int limit_test);

G_END_DECLS
