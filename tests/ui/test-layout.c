/* test-layout.c: the window at 1024x640, 1400x900 and 1920x1080 with a
 * study and a finished run loaded: every tab comes up (a screenshot of each
 * in $LL_SCREENSHOT_DIR) and each key widget (canvas, summary table, plots,
 * inspector, training controls) gets at least its minimum size, shown whole
 * (panes scroll or keep their minimum instead of clipping), with each
 * curve plot's axes and labels inside its allocation. New blocks never land
 * on another. */
#include <gtk/gtk.h>
#include <string.h>

#include "curve-plot.h"
#include "ll-canvas-geometry.h"
#include "ui-harness.h"

static LlWindow *win;
static char where[96]; /* the size and tabs being checked, for messages */

static LlDocument *doc(void) { return ll_window_get_document(win); }
static gboolean stopped(void) { return !ll_window_is_training(win); }
static gboolean has_test_payload(void)
{
  return stopped() && ll_analysis_view_get_n_payloads(ll_window_get_analysis(win)) >= 2;
}

/* Asserts that w is mapped, allocated at least its minimum and floor_w x
 * floor_h, and shown whole: inside every ancestor up to the window, except
 * along the directions a scrolled window scrolls (there, at least 100 px of
 * it must be in view, or the floor if smaller). */
static void assert_shown(GtkWidget *w, const char *what, int floor_w, int floor_h)
{
  if (!gtk_widget_get_mapped(w))
    g_error("%s: %s is not shown", where, what);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w), min_w, min_h;
  gtk_widget_measure(w, GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
  gtk_widget_measure(w, GTK_ORIENTATION_VERTICAL, width, &min_h, NULL, NULL, NULL);
  /* the measure counts the margins, the allocation does not */
  min_w -= gtk_widget_get_margin_start(w) + gtk_widget_get_margin_end(w);
  min_h -= gtk_widget_get_margin_top(w) + gtk_widget_get_margin_bottom(w);
  if (width < MAX(min_w, floor_w) || height < MAX(min_h, floor_h))
    g_error("%s: %s is %dx%d, below its minimum %dx%d", where, what, width, height,
            MAX(min_w, floor_w), MAX(min_h, floor_h));
  graphene_rect_t r, a;
  g_assert_true(gtk_widget_compute_bounds(w, GTK_WIDGET(win), &r));
  for (GtkWidget *p = gtk_widget_get_parent(w); p; p = gtk_widget_get_parent(p)) {
    g_assert_true(gtk_widget_compute_bounds(p, GTK_WIDGET(win), &a));
    gboolean sx = FALSE, sy = FALSE;
    /* a scrolled window's viewport scrolls as the scrolled window says */
    GtkWidget *sw = GTK_IS_VIEWPORT(p) ? gtk_widget_get_parent(p) : p;
    if (GTK_IS_SCROLLED_WINDOW(sw)) {
      GtkPolicyType hp, vp;
      gtk_scrolled_window_get_policy(GTK_SCROLLED_WINDOW(sw), &hp, &vp);
      sx = hp != GTK_POLICY_NEVER;
      sy = vp != GTK_POLICY_NEVER;
    }
    if (sx) { /* what is in view */
      float x0 = MAX(r.origin.x, a.origin.x), x1 = MIN(r.origin.x + r.size.width,
                                                         a.origin.x + a.size.width);
      r.origin.x = x0;
      r.size.width = MAX(x1 - x0, 0);
    }
    if (sy) {
      float y0 = MAX(r.origin.y, a.origin.y), y1 = MIN(r.origin.y + r.size.height,
                                                         a.origin.y + a.size.height);
      r.origin.y = y0;
      r.size.height = MAX(y1 - y0, 0);
    }
    if (r.origin.x < a.origin.x - 1 || r.origin.x + r.size.width > a.origin.x + a.size.width + 1 ||
        r.origin.y < a.origin.y - 1 || r.origin.y + r.size.height > a.origin.y + a.size.height + 1)
      g_error("%s: %s (%.0f,%.0f %.0fx%.0f) is clipped by its %s (%.0f,%.0f %.0fx%.0f)", where,
              what, r.origin.x, r.origin.y, r.size.width, r.size.height, G_OBJECT_TYPE_NAME(p),
              a.origin.x, a.origin.y, a.size.width, a.size.height);
  }
  if (r.size.width < MIN(floor_w, 100) || r.size.height < MIN(floor_h, 100))
    g_error("%s: only %.0fx%.0f of %s is in view (at least %dx%d)", where, r.size.width,
            r.size.height, what, MIN(floor_w, 100), MIN(floor_h, 100));
}

/* The curve plots: each drawing area shown whole, and everything its plot
 * draws (frame, ticks, labels, legend) inside the allocation. */
static void assert_curves(void)
{
  LlCurveView *cv = ll_window_get_curves(win);
  for (int i = 0; i < 2; i++) {
    GtkWidget *area = ll_curve_view_get_area(cv, i);
    assert_shown(area, i ? "the accuracy plot" : "the loss plot", 180, 160);
    int w = gtk_widget_get_width(area), h = gtk_widget_get_height(area);
    cairo_surface_t *rec = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, NULL);
    cairo_t *cr = cairo_create(rec);
    ll_curve_plot_draw(ll_curve_view_get_plot(cv, i), cr, w, h);
    cairo_destroy(cr);
    double x, y, iw, ih;
    cairo_recording_surface_ink_extents(rec, &x, &y, &iw, &ih);
    cairo_surface_destroy(rec);
    if (x < -1 || y < -1 || x + iw > w + 1 || y + ih > h + 1)
      g_error("%s: curve plot %d draws %.0f,%.0f %.0fx%.0f outside its %dx%d", where, i, x, y, iw,
              ih, w, h);
  }
}

/* Every page of the Analysis tab fits the pane it is in: its controls
 * wrap or fold into a menu instead of widening the view, so the scrolled
 * page never scrolls sideways, and its plot is shown whole. A screenshot of
 * each page goes to $LL_SCREENSHOT_DIR. */
static void check_analysis_pages(int width, int height)
{
  static const char *pages[] = {"confusion", "reconstructions", "predictions", "tsne"};
  LlAnalysisView *av = ll_window_get_analysis(win);
  GtkWidget *sw = gtk_widget_get_ancestor(GTK_WIDGET(av), GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull(sw);
  GtkAdjustment *h = gtk_scrolled_window_get_hadjustment(GTK_SCROLLED_WINDOW(sw));
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++) {
    ll_analysis_view_show_page(av, pages[i]);
    ll_ui_spin(150);
    g_autofree char *png = g_strdup_printf("layout-%dx%d-analysis-%s.png", width, height, pages[i]);
    ll_ui_screenshot(GTK_WIDGET(win), png);
    int min_w;
    gtk_widget_measure(GTK_WIDGET(av), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
    g_test_message("%s: analysis %s needs %d px of %d x %d", where, pages[i], min_w,
                   gtk_widget_get_width(sw), gtk_widget_get_height(sw));
    if (min_w > gtk_widget_get_width(sw) ||
        gtk_adjustment_get_upper(h) > gtk_adjustment_get_page_size(h) + 1)
      g_error("%s: the analysis page %s needs %d px (scrolls to %.0f) in a pane %d px wide", where,
              pages[i], min_w, gtk_adjustment_get_upper(h), gtk_widget_get_width(sw));
    if (gtk_adjustment_get_upper(v) > gtk_adjustment_get_page_size(v) + 1)
      g_error("%s: the analysis page %s is %.0f px high in a pane %.0f px high", where, pages[i],
              gtk_adjustment_get_upper(v), gtk_adjustment_get_page_size(v));
    assert_shown(ll_analysis_view_get_plot_area(av), pages[i], 200, 160);
  }
  /* and in the dark style */
  ll_ui_set_dark(TRUE);
  for (guint i = 0; i < G_N_ELEMENTS(pages); i += 3) {
    ll_analysis_view_show_page(av, pages[i]);
    ll_ui_spin(150);
    g_autofree char *png =
        g_strdup_printf("layout-%dx%d-analysis-%s-dark.png", width, height, pages[i]);
    ll_ui_screenshot(GTK_WIDGET(win), png);
  }
  ll_ui_set_dark(FALSE);
  ll_analysis_view_show_page(av, "confusion");
  ll_ui_spin(100);
}

static void check_bottom(const char *page)
{
  if (!strcmp(page, "summary"))
    assert_shown(GTK_WIDGET(ll_window_get_summary(win)), "the summary table", 300, 100);
  else if (!strcmp(page, "curves"))
    assert_curves();
  else if (!strcmp(page, "analysis"))
    assert_shown(ll_analysis_view_get_plot_area(ll_window_get_analysis(win)),
                 "the confusion matrix", 200, 160);
  else if (!strcmp(page, "runs"))
    assert_shown(GTK_WIDGET(ll_window_get_runs(win)), "the runs table", 300, 100);
}

static void check_side(const char *page)
{
  if (!strcmp(page, "block"))
    assert_shown(GTK_WIDGET(ll_window_get_inspector(win)), "the inspector", 250, 150);
  else if (!strcmp(page, "training"))
    assert_shown(GTK_WIDGET(ll_window_get_training_panel(win)), "the training controls", 250,
                 150);
  else if (!strcmp(page, "study"))
    assert_shown(GTK_WIDGET(ll_window_get_study(win)), "the study", 250, 150);
}

static void test_sizes(void)
{
  /* a finished run */
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_shorten(win, 600, 200);
  g_action_group_activate_action(G_ACTION_GROUP(win), "train-start", NULL);
  g_assert_true(ll_window_is_training(win));
  g_assert_true(ll_ui_wait_for(has_test_payload, 180000));
  /* and a study, whose base spec goes on the canvas */
  ll_ui_open_preset(win, "even-odd-transfer");
  LlStudyView *sv = ll_window_get_study(win);
  g_assert_true(ll_study_view_has_study(sv));
  ll_study_view_run(sv, 1, 300);
  gint64 deadline = g_get_monotonic_time() + 240 * G_USEC_PER_SEC;
  while (ll_study_view_is_running(sv) && g_get_monotonic_time() < deadline)
    ll_ui_spin(50);
  g_assert_false(ll_study_view_is_running(sv));
  ll_study_view_show_page(sv, "metric");

  static const int sizes[][2] = {{1024, 640}, {1400, 900}, {1920, 1080}};
  static const char *bottom[] = {"summary", "curves", "log", "analysis", "runs"};
  static const char *side[] = {"block", "training", "study"};
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    gtk_window_set_default_size(GTK_WINDOW(win), sizes[k][0], sizes[k][1]);
    ll_ui_spin(400);
    /* the window takes the size: its minimum fits in it */
    GdkSurface *surface = gtk_native_get_surface(GTK_NATIVE(win));
    g_test_message("%dx%d: surface %dx%d, window %dx%d", sizes[k][0], sizes[k][1],
                   gdk_surface_get_width(surface), gdk_surface_get_height(surface),
                   gtk_widget_get_width(GTK_WIDGET(win)), gtk_widget_get_height(GTK_WIDGET(win)));
    g_assert_cmpint(gdk_surface_get_width(surface), ==, sizes[k][0]);
    g_assert_cmpint(gdk_surface_get_height(surface), ==, sizes[k][1]);
    /* every bottom tab beside the study (the widest side page), then
     * every side tab above the curves */
    for (guint b = 0; b < G_N_ELEMENTS(bottom) + G_N_ELEMENTS(side) - 1; b++) {
      const char *bp = b < G_N_ELEMENTS(bottom) ? bottom[b] : "curves";
      const char *sp = b < G_N_ELEMENTS(bottom) ? "study" : side[b - G_N_ELEMENTS(bottom)];
      ll_window_show_page(win, sp);
      ll_window_show_page(win, bp);
      ll_ui_spin(250);
      g_snprintf(where, sizeof where, "%dx%d, %s + %s", sizes[k][0], sizes[k][1], bp, sp);
      g_autofree char *png =
          g_strdup_printf("layout-%dx%d-%s-%s.png", sizes[k][0], sizes[k][1], bp, sp);
      ll_ui_screenshot(GTK_WIDGET(win), png);
      assert_shown(GTK_WIDGET(ll_window_get_canvas(win)), "the canvas", 300, 150);
      check_bottom(bp);
      check_side(sp);
      if (!strcmp(bp, "analysis"))
        check_analysis_pages(sizes[k][0], sizes[k][1]);
    }
    /* the README's pictures: the curves beside the training panel (light
     * and dark), and the smallest size with the study open */
    if (sizes[k][0] == 1400) {
      ll_ui_screenshot(GTK_WIDGET(win), "window-1400x900-light.png");
      ll_ui_set_dark(TRUE);
      ll_ui_spin(250);
      ll_ui_screenshot(GTK_WIDGET(win), "window-1400x900-dark.png");
      ll_ui_set_dark(FALSE);
    } else if (sizes[k][0] == 1024) {
      ll_window_show_page(win, "study");
      ll_ui_spin(250);
      ll_ui_screenshot(GTK_WIDGET(win), "window-1024x640.png");
    }
  }
}

static gboolean overlaps(LlGraph *g, const char *name)
{
  double x, y;
  g_assert_true(ll_document_get_position(doc(), name, &x, &y));
  for (guint i = 0; i < g->blocks->len; i++) {
    LlBlock *b = g->blocks->pdata[i];
    double bx, by;
    if (strcmp(b->name, name) && ll_document_get_position(doc(), b->name, &bx, &by) &&
        ABS(bx - x) < LL_BLOCK_W && ABS(by - y) < LL_BLOCK_H)
      return TRUE;
  }
  return FALSE;
}

/* Blocks dropped three times on the same spot, or added three times with
 * nothing selected, each go to the nearest free spot. */
static void test_free_spot(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_answer_save_prompt(win, "_Discard");
  ll_ui_spin(100);
  LlCanvas *canvas = ll_window_get_canvas(win);
  LlGraph *g = ll_document_get_spec(doc())->graph;
  GtkDropTarget *t = ll_ui_drop_target(GTK_WIDGET(canvas));
  g_assert_nonnull(t);
  double cx = gtk_widget_get_width(GTK_WIDGET(canvas)) / 2.0;
  double cy = gtk_widget_get_height(GTK_WIDGET(canvas)) / 2.0;
  for (int i = 0; i < 3; i++) {
    guint n = g->blocks->len;
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_STRING);
    g_value_set_string(&v, "relu");
    gboolean ok = FALSE;
    g_signal_emit_by_name(t, "drop", &v, cx, cy, &ok);
    g_value_unset(&v);
    g_assert_true(ok);
    g_assert_cmpuint(g->blocks->len, ==, n + 1);
    g_assert_false(overlaps(g, ((LlBlock *)g->blocks->pdata[n])->name));
  }
  for (int i = 0; i < 3; i++) {
    ll_canvas_select(canvas, (const char *[]){NULL});
    double x, y;
    ll_canvas_get_insert_point(canvas, &x, &y);
    g_autofree char *name = ll_document_add_block(doc(), "relu", x, y, NULL, NULL);
    g_assert_nonnull(name);
    g_assert_false(overlaps(g, name));
  }
}

/* The lightness difference of two renders of the same size, per pixel. */
static double mean_difference(GdkTexture *a, GdkTexture *b)
{
  int w = gdk_texture_get_width(a), h = gdk_texture_get_height(a);
  g_assert_cmpint(gdk_texture_get_width(b), ==, w);
  g_assert_cmpint(gdk_texture_get_height(b), ==, h);
  g_autofree guint8 *pa = g_new(guint8, (size_t)w * h * 4);
  g_autofree guint8 *pb = g_new(guint8, (size_t)w * h * 4);
  gdk_texture_download(a, pa, (size_t)w * 4);
  gdk_texture_download(b, pb, (size_t)w * 4);
  double sum = 0;
  for (size_t i = 0; i < (size_t)w * h * 4; i++)
    sum += ABS((int)pa[i] - (int)pb[i]);
  return sum / ((double)w * h * 4);
}

/* A resize redraws what changed, not the canvas's blocks: the canvas
 * zooms its last drawing to the new size (the bulk of a resize's frame was
 * laying out every block's text again), and what it shows is the drawing
 * made afresh at that size. A change to the graph, the selection or the
 * style draws the blocks again. */
static void test_canvas_resize(void)
{
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_answer_save_prompt(win, "_Discard");
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  ll_ui_spin(1000);
  LlCanvas *canvas = ll_window_get_canvas(win);
  guint drawn = ll_canvas_get_n_scene_draws(canvas);
  double zoom = ll_canvas_get_zoom(canvas);
  static const int sizes[][2] = {{1100, 700}, {1600, 1000}, {1024, 640}, {1400, 900}, {1200, 760}};
  for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
    gtk_window_set_default_size(GTK_WINDOW(win), sizes[k][0], sizes[k][1]);
    ll_ui_spin(250);
    g_test_message("%dx%d: %u", sizes[k][0], sizes[k][1], ll_canvas_get_n_scene_draws(canvas));
  }
  g_assert_cmpfloat(ll_canvas_get_zoom(canvas), !=, zoom); /* it did zoom to fit */
  g_assert_cmpuint(ll_canvas_get_n_scene_draws(canvas), ==, drawn);
  GdkTexture *moved = ll_ui_render(GTK_WIDGET(canvas));
  ll_canvas_select(canvas, (const char *[]){NULL}); /* draws afresh */
  ll_ui_spin(150);
  g_assert_cmpuint(ll_canvas_get_n_scene_draws(canvas), ==, drawn + 1);
  GdkTexture *fresh = ll_ui_render(GTK_WIDGET(canvas));
  double diff = mean_difference(moved, fresh);
  g_test_message("resized drawing against a fresh one: %.3f per channel", diff);
  g_assert_cmpfloat(diff, <, 0.5);
  ll_ui_screenshot(GTK_WIDGET(canvas), "layout-canvas-resized.png");
  g_object_unref(moved);
  g_object_unref(fresh);
  /* a selection and the dark style draw again */
  ll_canvas_select(canvas, (const char *[]){"conv1", NULL});
  ll_ui_spin(150);
  g_assert_cmpuint(ll_canvas_get_n_scene_draws(canvas), ==, drawn + 2);
  ll_ui_set_dark(TRUE);
  ll_ui_spin(150);
  g_assert_cmpuint(ll_canvas_get_n_scene_draws(canvas), ==, drawn + 3);
  ll_ui_set_dark(FALSE);
  ll_ui_spin(150);
}

int main(int argc, char **argv)
{
  if (!(win = ll_ui_start(&argc, &argv, "layout")))
    return 77;
  g_test_add_func("/ui/layout/sizes", test_sizes);
  g_test_add_func("/ui/layout/free-spot", test_free_spot);
  g_test_add_func("/ui/layout/canvas-resize", test_canvas_resize);
  int rc = g_test_run();
  gtk_window_destroy(GTK_WINDOW(win));
  return rc;
}
