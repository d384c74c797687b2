/* ll-log-view.h: the Log tab: one readable line per event of a run (time,
 * event, key numbers), selectable and copyable, following the newest line
 * unless the user has scrolled up to read an older one. */
#pragma once

#include <gtk/gtk.h>

#include "trainer.h"

G_BEGIN_DECLS

#define LL_TYPE_LOG_VIEW (ll_log_view_get_type())
G_DECLARE_FINAL_TYPE(LlLogView, ll_log_view, LL, LOG_VIEW, GtkWidget)

GtkWidget *ll_log_view_new(void);
/* Appends "HH:MM:SS  event     details" stamped now. */
void ll_log_view_add(LlLogView *self, const char *event, const char *details);
/* Appends e's line (ll_log_format_event); events without one are skipped. */
void ll_log_view_add_event(LlLogView *self, const LlEvent *e);
/* Whether it scrolls to each new line (the user has not scrolled up). */
gboolean ll_log_view_get_following(LlLogView *self);
GtkTextView *ll_log_view_get_text_view(LlLogView *self);
/* Everything shown (g_free). */
char *ll_log_view_get_text(LlLogView *self);

/* "HH:MM:SS  event     details": the event padded to a column. */
char *ll_log_format_line(GDateTime *when, const char *event, const char *details);
/* The line of a run's event at when: started (run and device, data),
 * epoch ("epoch 3/10", every metric by name with its value, images/s,
 * elapsed), log messages, finished (test metrics), failed, stopped. NULL
 * for batches and analysis payloads (the curves and the Analysis tab show
 * those). */
char *ll_log_format_event(const LlEvent *e, GDateTime *when);

G_END_DECLS
