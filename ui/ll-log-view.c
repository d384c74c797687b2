/* ll-log-view.c: see ll-log-view.h. A scrolled text view; whether it follows
 * the newest line is decided by what the user does (moving up stops it,
 * reaching the bottom resumes it), not by where the view is when text
 * arrives: the text view lays new lines out in idle time, so on its way down
 * to the newest line the view is often short of the bottom. */
#include "ll-log-view.h"

#include <math.h>
#include <string.h>

/* How far above the bottom still counts as at it (px): the text's bottom
 * margin, and rounding in GTK's scrolling */
#define AT_BOTTOM_SLACK 8

struct _LlLogView {
  GtkWidget parent_instance;
  GtkWidget *scroller;
  GtkTextView *text;
  GtkTextMark *end;
  gboolean following;
};

G_DEFINE_FINAL_TYPE(LlLogView, ll_log_view, GTK_TYPE_WIDGET)

GtkWidget *ll_log_view_new(void) { return g_object_new(LL_TYPE_LOG_VIEW, NULL); }

char *ll_log_format_line(GDateTime *when, const char *event, const char *details)
{
  g_autofree char *t = g_date_time_format(when, "%H:%M:%S");
  /* the event names are ASCII: %-9s pads by characters */
  return g_strdup_printf("%s  %-9s %s", t, event, details ? details : "");
}

/* "train loss 0.4123 · val accuracy 91.20%": every finite metric, its name
 * with spaces for underscores. */
static void append_metrics(GString *s, const LlEvent *e)
{
  for (guint i = 0; e->metrics && i < e->metrics->len; i++) {
    const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    if (!isfinite(m->value))
      continue;
    g_autofree char *label = g_strdup(m->name);
    g_strdelimit(label, "_", ' ');
    /* a speed is a count: "5200", not "5.2e+03" */
    g_autofree char *v = g_str_has_suffix(m->name, "per_second")
                             ? g_strdup_printf("%.0f", m->value)
                             : ll_metric_format(m->name, m->value);
    g_string_append_printf(s, "%s%s %s", s->len ? " \u00b7 " : "", label, v);
  }
}

static void append_speed(GString *s, const LlEvent *e)
{
  if (e->images_per_second > 0)
    g_string_append_printf(s, "%s%.0f images/s", s->len ? " \u00b7 " : "", e->images_per_second);
  if (e->elapsed > 0)
    g_string_append_printf(s, "%s%.1f s", s->len ? " \u00b7 " : "", e->elapsed);
}

char *ll_log_format_event(const LlEvent *e, GDateTime *when)
{
  g_autoptr(GString) s = g_string_new(NULL);
  const char *event = NULL;
  switch (e->kind) {
  case LL_EVENT_STARTED:
    event = "started";
    g_string_append_printf(s, "run %s", e->run_id ? e->run_id : "(not recorded)");
    if (e->message && *e->message)
      g_string_append_printf(s, ": %s", e->message);
    break;
  case LL_EVENT_EPOCH: {
    event = "epoch";
    g_string_append_printf(s, "%d/%d", e->epoch, e->epochs);
    g_autoptr(GString) nums = g_string_new(NULL);
    append_metrics(nums, e);
    append_speed(nums, e);
    if (nums->len)
      g_string_append_printf(s, "  %s", nums->str);
    break;
  }
  case LL_EVENT_LOG:
    event = "note";
    g_string_append(s, e->message ? e->message : "");
    break;
  case LL_EVENT_FINISHED:
    event = "finished";
    append_metrics(s, e);
    append_speed(s, e);
    break;
  case LL_EVENT_FAILED:
    event = "failed";
    g_string_append(s, e->message ? e->message : "unknown error");
    break;
  case LL_EVENT_STOPPED:
    event = "stopped";
    g_string_append(s, e->message ? e->message : "by the user");
    break;
  case LL_EVENT_BATCH:
  case LL_EVENT_EVAL: return NULL;
  }
  /* one line per event: a message never breaks the column */
  g_strdelimit(s->str, "\n\r", ' ');
  return ll_log_format_line(when, event, s->str);
}

gboolean ll_log_view_get_following(LlLogView *self) { return self->following; }
GtkTextView *ll_log_view_get_text_view(LlLogView *self) { return self->text; }

char *ll_log_view_get_text(LlLogView *self)
{
  GtkTextBuffer *buf = gtk_text_view_get_buffer(self->text);
  GtkTextIter a, b;
  gtk_text_buffer_get_bounds(buf, &a, &b);
  return gtk_text_buffer_get_text(buf, &a, &b, FALSE);
}

static gboolean at_bottom(GtkAdjustment *adj)
{
  double bottom = gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj);
  return gtk_adjustment_get_value(adj) >= bottom - AT_BOTTOM_SLACK;
}

static void append(LlLogView *self, const char *line)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(self->scroller));
  if (at_bottom(adj)) /* back at the bottom without a move that said so */
    self->following = TRUE;
  GtkTextBuffer *buf = gtk_text_view_get_buffer(self->text);
  GtkTextIter end;
  gtk_text_buffer_get_end_iter(buf, &end);
  if (gtk_text_buffer_get_char_count(buf) > 0)
    gtk_text_buffer_insert(buf, &end, "\n", 1);
  gtk_text_buffer_insert(buf, &end, line, -1);
  /* the range grows once the line is laid out: on_range_changed follows it;
   * the text view keeps its cursor in view, so the cursor goes along too
   * (unless the user is selecting) */
  if (self->following && !gtk_text_buffer_get_has_selection(buf))
    gtk_text_buffer_place_cursor(buf, &end);
  if (self->following)
    gtk_text_view_scroll_to_mark(self->text, self->end, 0, TRUE, 0, 1);
}

void ll_log_view_add(LlLogView *self, const char *event, const char *details)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *line = ll_log_format_line(now, event, details);
  append(self, line);
}

void ll_log_view_add_event(LlLogView *self, const LlEvent *e)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *line = ll_log_format_event(e, now);
  if (line)
    append(self, line);
}

/* Back at the bottom (by any way): follow again. */
static void on_scrolled(GtkAdjustment *adj, LlLogView *self)
{
  if (at_bottom(adj))
    self->following = TRUE;
}

/* Only the user stops the following, by moving up: the wheel or touchpad,
 * the keys, or the scroll bar. (The text view moves the view up now and
 * then on its own while it lays lines out, so a smaller value alone says
 * nothing.) */
static gboolean on_wheel(GtkEventControllerScroll *c, double dx, double dy, LlLogView *self)
{
  if (dy < 0)
    self->following = FALSE;
  return FALSE; /* the scrolled window scrolls */
}

static gboolean on_key(GtkEventControllerKey *c, guint keyval, guint code, GdkModifierType state,
                       LlLogView *self)
{
  switch (keyval) {
  case GDK_KEY_Up:
  case GDK_KEY_KP_Up:
  case GDK_KEY_Page_Up:
  case GDK_KEY_KP_Page_Up:
  case GDK_KEY_Home:
  case GDK_KEY_KP_Home: self->following = FALSE; break;
  default: break;
  }
  return FALSE;
}

static void on_bar_pressed(GtkGestureClick *g, int n, double x, double y, LlLogView *self)
{
  self->following = FALSE; /* until the drag ends at the bottom */
}

/* The text grew (its lines are laid out in idle time, a few at once) or the
 * view was resized: a following view goes (back) to the bottom. */
static void on_range_changed(GtkAdjustment *adj, LlLogView *self)
{
  if (self->following && !at_bottom(adj))
    gtk_text_view_scroll_to_mark(self->text, self->end, 0, TRUE, 0, 1);
}

static void ll_log_view_dispose(GObject *object)
{
  LlLogView *self = LL_LOG_VIEW(object);
  g_clear_pointer(&self->scroller, gtk_widget_unparent);
  G_OBJECT_CLASS(ll_log_view_parent_class)->dispose(object);
}

static void ll_log_view_class_init(LlLogViewClass *klass)
{
  G_OBJECT_CLASS(klass)->dispose = ll_log_view_dispose;
  gtk_widget_class_set_layout_manager_type(GTK_WIDGET_CLASS(klass), GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "ll-log-view");
}

static void ll_log_view_init(LlLogView *self)
{
  self->following = TRUE;
  self->scroller = gtk_scrolled_window_new();
  gtk_widget_set_parent(self->scroller, GTK_WIDGET(self));
  GtkWidget *tv = gtk_text_view_new();
  self->text = GTK_TEXT_VIEW(tv);
  /* read-only, but selectable and copyable (Ctrl+A, Ctrl+C, the context menu) */
  gtk_text_view_set_editable(self->text, FALSE);
  gtk_text_view_set_cursor_visible(self->text, FALSE);
  gtk_text_view_set_monospace(self->text, TRUE);
  gtk_text_view_set_left_margin(self->text, 6);
  gtk_text_view_set_top_margin(self->text, 4);
  gtk_text_view_set_bottom_margin(self->text, 4);
  gtk_text_view_set_wrap_mode(self->text, GTK_WRAP_WORD);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(self->scroller), tv);
  GtkTextBuffer *buf = gtk_text_view_get_buffer(self->text);
  GtkTextIter end;
  gtk_text_buffer_get_end_iter(buf, &end);
  self->end = gtk_text_buffer_create_mark(buf, NULL, &end, FALSE);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(self->scroller));
  g_signal_connect(adj, "value-changed", G_CALLBACK(on_scrolled), self);
  g_signal_connect(adj, "changed", G_CALLBACK(on_range_changed), self);
  GtkEventController *wheel =
      gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_name(wheel, "ll-log-wheel");
  gtk_event_controller_set_propagation_phase(wheel, GTK_PHASE_CAPTURE);
  g_signal_connect(wheel, "scroll", G_CALLBACK(on_wheel), self);
  gtk_widget_add_controller(self->scroller, wheel);
  GtkEventController *key = gtk_event_controller_key_new();
  gtk_event_controller_set_propagation_phase(key, GTK_PHASE_CAPTURE);
  g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), self);
  gtk_widget_add_controller(self->scroller, key);
  GtkGesture *press = gtk_gesture_click_new();
  gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(press), GTK_PHASE_CAPTURE);
  g_signal_connect(press, "pressed", G_CALLBACK(on_bar_pressed), self);
  gtk_widget_add_controller(gtk_scrolled_window_get_vscrollbar(GTK_SCROLLED_WINDOW(self->scroller)),
                            GTK_EVENT_CONTROLLER(press));
  gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);
}
