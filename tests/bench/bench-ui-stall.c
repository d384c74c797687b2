/* bench-ui-stall.c: how long the window's main loop stalls while the tiny
 * CNN trains with the t-SNE page recomputing every epoch, and the benchmark
 * switches tabs, resizes the window and hovers the plots. A high-priority
 * 1 ms timeout records the gap between its calls; the largest gap and the
 * 99th percentile are printed, overall and after each kind of action.
 * Target: no gap over 50 ms. Run it under Xvfb through bench-ui-stall.sh.
 *
 *   bench-ui-stall [epochs=3] [train-samples=6000]
 *
 * Not a test: the figures depend on the machine and its load. */
#include <gtk/gtk.h>
#include <stdlib.h>
#include <string.h>

#include "../ui/ui-harness.h"
#include "curve-plot.h"

enum { ACT_NONE, ACT_TAB, ACT_RESIZE, ACT_HOVER, N_ACT };
static const char *act_names[N_ACT] = {"between actions", "tab switch", "resize", "hover"};

static LlWindow *win;
static gint64 last_beat;
static GArray *gaps[N_ACT]; /* gint64 microseconds, by the last action before the gap */
static int last_act = ACT_NONE;
static gint64 last_act_at;

static gboolean beat(gpointer data)
{
  gint64 now = g_get_monotonic_time();
  if (last_beat) {
    gint64 gap = now - last_beat;
    /* a gap is the action's when it began within 250 ms of the action */
    int act = last_act_at && now - gap - last_act_at < 250000 ? last_act : ACT_NONE;
    g_array_append_val(gaps[act], gap);
  }
  last_beat = now;
  return G_SOURCE_CONTINUE;
}

static int cmp_gap(const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
  return (x > y) - (x < y);
}

static void report(const char *what, GArray *a)
{
  if (a->len == 0) {
    g_print("%-16s no gaps\n", what);
    return;
  }
  qsort(a->data, a->len, sizeof(gint64), cmp_gap);
  gint64 max = g_array_index(a, gint64, a->len - 1);
  gint64 p99 = g_array_index(a, gint64, (guint)(0.99 * (a->len - 1)));
  guint over = 0;
  for (guint i = 0; i < a->len; i++)
    over += g_array_index(a, gint64, i) > 50000;
  g_print("%-16s gaps=%u max_ms=%.1f p99_ms=%.1f over_50ms=%u\n", what, a->len, max / 1000.0,
          p99 / 1000.0, over);
}

/* What a pointer moving over the plots does: the curves' readout at fx of
 * their width, and the t-SNE's hovered point with its sample's image. */
static void hover(double fx, int point)
{
  LlCurveView *cv = ll_window_get_curves(win);
  for (int i = 0; i < 2; i++) {
    GtkWidget *area = ll_curve_view_get_area(cv, i);
    ll_curve_plot_set_hover(ll_curve_view_get_plot(cv, i), fx * gtk_widget_get_width(area));
    gtk_widget_queue_draw(area);
  }
  ll_analysis_view_hover_point(ll_window_get_analysis(win), point);
}

static gboolean training(void) { return ll_window_is_training(win); }

int main(int argc, char **argv)
{
  int epochs = argc > 1 ? atoi(argv[1]) : 3;
  int n_train = argc > 2 ? atoi(argv[2]) : 6000;
  char *no_args[] = {argv[0], NULL};
  int one = 1;
  char **pv = no_args;
  if (!(win = ll_ui_start(&one, &pv, "bench-ui-stall"))) {
    g_printerr("bench-ui-stall: no display (run it under xvfb-run)\n");
    return 77;
  }
  gtk_window_set_default_size(GTK_WINDOW(win), 1400, 900);
  for (int i = 0; i < N_ACT; i++)
    gaps[i] = g_array_new(FALSE, FALSE, sizeof(gint64));
  ll_ui_open_preset(win, "tiny-cnn");
  ll_ui_spin(200);
  LlSpec *s = ll_document_get_spec(ll_window_get_document(win));
  s->dataset.limit_train = n_train;
  s->dataset.limit_test = 1000;
  s->epochs = epochs;
  s->batch_size = 64;
  s->threads = 1;
  s->early_stopping = FALSE;
  ll_document_settings_changed(ll_window_get_document(win));
  /* the t-SNE page up: it recomputes at every epoch's evaluation */
  ll_window_show_page(win, "analysis");
  ll_analysis_view_show_page(ll_window_get_analysis(win), "tsne");
  ll_ui_spin(200);

  GSource *src = g_timeout_source_new(1);
  g_source_set_priority(src, G_PRIORITY_HIGH);
  g_source_set_callback(src, beat, NULL, NULL);
  g_source_attach(src, NULL);
  gint64 t0 = g_get_monotonic_time();
  g_action_group_activate_action(G_ACTION_GROUP(win), "train-start", NULL);
  if (!training()) {
    g_printerr("bench-ui-stall: training did not start\n");
    return 1;
  }
  static const char *pages[] = {"summary", "curves", "log", "analysis", "runs", "curves"};
  static const int sizes[][2] = {{1400, 900}, {1100, 700}, {1600, 1000}, {1024, 640}};
  guint n = 0, n_act[N_ACT] = {0};
  while (training() && g_get_monotonic_time() - t0 < 20 * 60 * G_USEC_PER_SEC) {
    int act = 1 + n % 3;
    last_act = act;
    last_act_at = g_get_monotonic_time();
    if (act == ACT_TAB) {
      ll_window_show_page(win, pages[(n / 3) % G_N_ELEMENTS(pages)]);
    } else if (act == ACT_RESIZE) {
      const int *sz = sizes[(n / 3) % G_N_ELEMENTS(sizes)];
      gtk_window_set_default_size(GTK_WINDOW(win), sz[0], sz[1]);
    } else {
      hover(0.2 + 0.6 * ((n * 37) % 100) / 100.0, (int)(n % 50));
    }
    n_act[act]++;
    n++;
    ll_ui_spin(300);
  }
  double secs = (g_get_monotonic_time() - t0) / 1e6;
  g_source_destroy(src);
  g_source_unref(src);
  g_print("trained %d epochs of %d samples in %.1f s; %u tab switches, %u resizes, %u hovers\n",
          epochs, n_train, secs, n_act[ACT_TAB], n_act[ACT_RESIZE], n_act[ACT_HOVER]);
  g_print("status: %s\n",
          ll_training_panel_get_progress_text(ll_window_get_training_panel(win)));
  GArray *all = g_array_new(FALSE, FALSE, sizeof(gint64));
  for (int i = 0; i < N_ACT; i++) {
    g_array_append_vals(all, gaps[i]->data, gaps[i]->len);
    report(act_names[i], gaps[i]);
  }
  report("all", all);
  gtk_window_destroy(GTK_WINDOW(win));
  return 0;
}
