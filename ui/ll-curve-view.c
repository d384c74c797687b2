/* ll-curve-view.c: the GTK side of the curves: two drawing areas painting
 * LlCurvePlots, and the controls. */
#include "ll-curve-view.h"
#include "ll-plot-style.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <string.h>

#include "curve-plot.h"

enum { S_STEP, S_TRAIN, S_VAL }; /* series indices, the same in both plots */

struct _LlCurveView {
  GtkBox parent_instance;
  LlCurvePlot *plot[2]; /* loss, accuracy */
  GtkWidget *area[2];
  GtkToggleButton *log_y;
  GtkScale *smooth;
  guint n_points;
  double pan_x0[2], pan_x1[2];
  double hover_x[2]; /* pointer x over each area, -1 outside */
  GHashTable *head_series; /* "val_sum_mse" -> series index + 1 in its plot */
};

G_DEFINE_FINAL_TYPE(LlCurveView, ll_curve_view, GTK_TYPE_BOX)

GtkWidget *ll_curve_view_new(void) { return g_object_new(LL_TYPE_CURVE_VIEW, NULL); }

static void redraw(LlCurveView *self)
{
  gtk_widget_queue_draw(self->area[0]);
  gtk_widget_queue_draw(self->area[1]);
}

void ll_curve_view_new_run(LlCurveView *self)
{
  ll_curve_plot_start_new_run(self->plot[0]);
  ll_curve_plot_start_new_run(self->plot[1]);
  self->n_points = 0;
  redraw(self);
}

void ll_curve_view_clear(LlCurveView *self)
{
  ll_curve_plot_clear_all(self->plot[0]);
  ll_curve_plot_clear_all(self->plot[1]);
  self->n_points = 0;
  redraw(self);
}

void ll_curve_view_add_step(LlCurveView *self, double x, double loss)
{
  if (isfinite(loss)) {
    ll_curve_plot_append(self->plot[0], S_STEP, x, loss);
    self->n_points++;
  }
  gtk_widget_queue_draw(self->area[0]);
}

void ll_curve_view_add_epoch(LlCurveView *self, double epoch, double train_loss, double val_loss,
                             double train_acc, double val_acc)
{
  double v[4] = {train_loss, val_loss, train_acc, val_acc};
  for (int i = 0; i < 4; i++)
    if (isfinite(v[i])) {
      ll_curve_plot_append(self->plot[i / 2], i % 2 ? S_VAL : S_TRAIN, epoch, v[i]);
      self->n_points++;
    }
  redraw(self);
}

void ll_curve_view_add_epoch_event(LlCurveView *self, const LlEvent *e)
{
  gboolean head_acc = FALSE;
  for (guint i = 0; e->metrics && i < e->metrics->len; i++) {
    const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    g_autofree char *split = NULL, *head = NULL, *kind = NULL;
    if (!ll_metric_parse_head(m->name, &split, &head, &kind) || strcmp(split, "val") ||
        !isfinite(m->value))
      continue;
    gboolean acc = !strcmp(kind, "accuracy");
    head_acc |= acc;
    LlCurvePlot *p = self->plot[acc ? 1 : 0];
    int series = GPOINTER_TO_INT(g_hash_table_lookup(self->head_series, m->name)) - 1;
    if (series < 0) {
      double rgb[3];
      /* past the three base series' blue and orange */
      ll_plot_class_color(2 + (int)g_hash_table_size(self->head_series), rgb);
      g_autofree char *name = g_strdup_printf(acc ? "%s (val)" : "%s MSE (val)", head);
      series = ll_curve_plot_add_series(p, name, rgb[0], rgb[1], rgb[2], TRUE, FALSE);
      g_hash_table_insert(self->head_series, g_strdup(m->name), GINT_TO_POINTER(series + 1));
    }
    ll_curve_plot_append(p, series, e->epoch, m->value);
    self->n_points++;
  }
  /* with heads of their own, the plain validation accuracy is the first head's again */
  ll_curve_view_add_epoch(self, e->epoch, ll_event_metric(e, "train_loss"),
                          ll_event_metric(e, "val_loss"), ll_event_metric(e, "train_accuracy"),
                          head_acc ? NAN : ll_event_metric(e, "val_accuracy"));
}

guint ll_curve_view_get_n_points(LlCurveView *self) { return self->n_points; }

void ll_curve_view_set_log_y(LlCurveView *self, gboolean log_y)
{
  gtk_toggle_button_set_active(self->log_y, log_y);
}

void ll_curve_view_set_smoothing(LlCurveView *self, double weight)
{
  gtk_range_set_value(GTK_RANGE(self->smooth), weight);
}

static void on_log_toggled(GtkToggleButton *b, LlCurveView *self)
{
  /* accuracy stays linear: it lives in [0, 1] */
  ll_curve_plot_set_log_y(self->plot[0], gtk_toggle_button_get_active(b));
  redraw(self);
}

static void on_smooth_changed(GtkRange *r, LlCurveView *self)
{
  ll_curve_plot_set_smoothing(self->plot[0], gtk_range_get_value(r));
  ll_curve_plot_set_smoothing(self->plot[1], gtk_range_get_value(r));
  redraw(self);
}

static void draw_plot(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data)
{
  ll_plot_style_apply(GTK_WIDGET(area), cr);
  ll_curve_plot_draw(data, cr, w, h);
}

static int area_index(LlCurveView *self, GtkEventController *c)
{
  return gtk_event_controller_get_widget(c) == self->area[0] ? 0 : 1;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, LlCurveView *self)
{
  int i = area_index(self, GTK_EVENT_CONTROLLER(c));
  ll_curve_plot_set_hover(self->plot[i], x);
  self->hover_x[i] = x;
  gtk_widget_queue_draw(self->area[i]);
}

static void on_leave(GtkEventControllerMotion *c, LlCurveView *self)
{
  int i = area_index(self, GTK_EVENT_CONTROLLER(c));
  ll_curve_plot_set_hover(self->plot[i], -1);
  self->hover_x[i] = -1;
  gtk_widget_queue_draw(self->area[i]);
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, LlCurveView *self)
{
  int i = area_index(self, GTK_EVENT_CONTROLLER(c));
  double x0, x1;
  ll_curve_plot_get_x_range(self->plot[i], &x0, &x1);
  int w = gtk_widget_get_width(self->area[i]);
  double px = self->hover_x[i];
  double at = px >= 0 ? ll_curve_plot_x_to_data(self->plot[i], w, px) : (x0 + x1) / 2;
  at = CLAMP(at, x0, x1);
  double f = pow(1.15, dy);
  ll_curve_plot_set_x_range(self->plot[i], at - (at - x0) * f, at + (x1 - at) * f);
  gtk_widget_queue_draw(self->area[i]);
  return TRUE;
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, LlCurveView *self)
{
  int i = area_index(self, GTK_EVENT_CONTROLLER(g));
  ll_curve_plot_get_x_range(self->plot[i], &self->pan_x0[i], &self->pan_x1[i]);
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, LlCurveView *self)
{
  int i = area_index(self, GTK_EVENT_CONTROLLER(g));
  int w = gtk_widget_get_width(self->area[i]);
  double span = self->pan_x1[i] - self->pan_x0[i];
  double shift = -dx / MAX(w - 72, 10) * span;
  ll_curve_plot_set_x_range(self->plot[i], self->pan_x0[i] + shift, self->pan_x1[i] + shift);
  gtk_widget_queue_draw(self->area[i]);
}

static void on_pressed(GtkGestureClick *g, int n, double x, double y, LlCurveView *self)
{
  if (n == 2) {
    int i = area_index(self, GTK_EVENT_CONTROLLER(g));
    ll_curve_plot_set_x_range(self->plot[i], 0, 0);
    gtk_widget_queue_draw(self->area[i]);
  }
}

gboolean ll_curve_view_export(LlCurveView *self, const char *path, GError **error)
{
  /* both plots side by side: each exported plot is its own cairo_t user space */
  int w = 640, h = 360;
  cairo_surface_t *s;
  if (g_str_has_suffix(path, ".svg"))
    s = cairo_svg_surface_create(path, 2 * w, h);
  else if (g_str_has_suffix(path, ".pdf"))
    s = cairo_pdf_surface_create(path, 2 * w, h);
  else
    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 2 * w, h);
  cairo_t *cr = cairo_create(s);
  for (int i = 0; i < 2; i++) {
    cairo_save(cr);
    cairo_translate(cr, i * w, 0);
    ll_curve_plot_draw(self->plot[i], cr, w, h);
    cairo_restore(cr);
  }
  cairo_destroy(cr);
  cairo_status_t st =
      g_str_has_suffix(path, ".png") ? cairo_surface_write_to_png(s, path) : CAIRO_STATUS_SUCCESS;
  cairo_surface_finish(s);
  if (st == CAIRO_STATUS_SUCCESS)
    st = cairo_surface_status(s);
  cairo_surface_destroy(s);
  if (st != CAIRO_STATUS_SUCCESS) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, cairo_status_to_string(st));
    return FALSE;
  }
  return TRUE;
}

static void ll_curve_view_finalize(GObject *object)
{
  LlCurveView *self = LL_CURVE_VIEW(object);
  ll_curve_plot_free(self->plot[0]);
  ll_curve_plot_free(self->plot[1]);
  g_hash_table_unref(self->head_series);
  G_OBJECT_CLASS(ll_curve_view_parent_class)->finalize(object);
}

static void ll_curve_view_class_init(LlCurveViewClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = ll_curve_view_finalize;
  gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "ll-curve-view");
}

static void ll_curve_view_init(LlCurveView *self)
{
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(GTK_BOX(self), 4);
  self->hover_x[0] = self->hover_x[1] = -1;
  self->head_series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  self->plot[0] = ll_curve_plot_new("Loss", "epoch");
  ll_curve_plot_add_series(self->plot[0], "train (step)", 0.55, 0.7, 0.95, FALSE, TRUE);
  ll_curve_plot_add_series(self->plot[0], "train", 0.1, 0.35, 0.8, TRUE, FALSE);
  ll_curve_plot_add_series(self->plot[0], "validation", 0.9, 0.45, 0.1, TRUE, FALSE);
  self->plot[1] = ll_curve_plot_new("Accuracy", "epoch");
  ll_curve_plot_add_series(self->plot[1], "unused", 0.5, 0.5, 0.5, FALSE, FALSE);
  ll_curve_plot_add_series(self->plot[1], "train", 0.1, 0.35, 0.8, TRUE, FALSE);
  ll_curve_plot_add_series(self->plot[1], "validation", 0.9, 0.45, 0.1, TRUE, FALSE);

  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_widget_set_margin_start(bar, 6);
  gtk_widget_set_margin_top(bar, 4);
  self->log_y = GTK_TOGGLE_BUTTON(gtk_toggle_button_new_with_label("Log loss axis"));
  g_signal_connect(self->log_y, "toggled", G_CALLBACK(on_log_toggled), self);
  /* a button's own height, not the row's (the scale and its value are taller) */
  gtk_widget_set_valign(GTK_WIDGET(self->log_y), GTK_ALIGN_CENTER);
  gtk_box_append(GTK_BOX(bar), GTK_WIDGET(self->log_y));
  gtk_box_append(GTK_BOX(bar), gtk_label_new("Smoothing"));
  self->smooth = GTK_SCALE(gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 0.99, 0.01));
  gtk_widget_set_size_request(GTK_WIDGET(self->smooth), 160, -1);
  gtk_scale_set_draw_value(self->smooth, TRUE);
  gtk_scale_set_digits(self->smooth, 2);
  gtk_scale_set_value_pos(self->smooth, GTK_POS_RIGHT); /* beside, so the row stays low */
  gtk_range_set_value(GTK_RANGE(self->smooth), 0.6);
  ll_curve_plot_set_smoothing(self->plot[0], 0.6);
  ll_curve_plot_set_smoothing(self->plot[1], 0.6);
  g_signal_connect(self->smooth, "value-changed", G_CALLBACK(on_smooth_changed), self);
  gtk_box_append(GTK_BOX(bar), GTK_WIDGET(self->smooth));
  GtkWidget *hint = gtk_label_new("Scroll zooms, drag pans, double-click fits");
  gtk_widget_add_css_class(hint, "dim-label");
  gtk_label_set_ellipsize(GTK_LABEL(hint), PANGO_ELLIPSIZE_END); /* not the pane's minimum */
  gtk_widget_set_tooltip_text(hint, "Scroll zooms, drag pans, double-click fits");
  gtk_box_append(GTK_BOX(bar), hint);
  gtk_box_append(GTK_BOX(self), bar);

  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous(GTK_BOX(row), TRUE);
  gtk_widget_set_vexpand(row, TRUE);
  for (int i = 0; i < 2; i++) {
    self->area[i] = gtk_drawing_area_new();
    gtk_widget_set_size_request(self->area[i], 180,
                                160); /* the window fits 1,280 px with a study open */
    gtk_widget_set_hexpand(self->area[i], TRUE);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area[i]), draw_plot, self->plot[i], NULL);
    GtkEventController *m = gtk_event_controller_motion_new();
    g_signal_connect(m, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(m, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(self->area[i], m);
    GtkEventController *sc = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
    g_signal_connect(sc, "scroll", G_CALLBACK(on_scroll), self);
    gtk_widget_add_controller(self->area[i], sc);
    GtkGesture *drag = gtk_gesture_drag_new();
    g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
    g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
    gtk_widget_add_controller(self->area[i], GTK_EVENT_CONTROLLER(drag));
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
    gtk_widget_add_controller(self->area[i], GTK_EVENT_CONTROLLER(click));
    gtk_box_append(GTK_BOX(row), self->area[i]);
  }
  gtk_box_append(GTK_BOX(self), row);
}

struct LlCurvePlot *ll_curve_view_get_plot(LlCurveView *self, int i)
{
  return self->plot[CLAMP(i, 0, 1)];
}

GtkWidget *ll_curve_view_get_area(LlCurveView *self, int i) { return self->area[CLAMP(i, 0, 1)]; }
