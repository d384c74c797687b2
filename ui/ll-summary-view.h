/* ll-summary-view.h: the model summary (engine/summary.h) as a table: per
 * block its output shape, parameters, FLOPs and receptive field, then the
 * totals. A GtkColumnView over a GListModel of LlSummaryItem, refreshed on
 * every edit of the document. */
#pragma once

#include <gtk/gtk.h>

#include "ll-document.h"

G_BEGIN_DECLS

#define LL_TYPE_SUMMARY_ITEM (ll_summary_item_get_type())
G_DECLARE_FINAL_TYPE(LlSummaryItem, ll_summary_item, LL, SUMMARY_ITEM, GObject)

#define LL_TYPE_SUMMARY_VIEW (ll_summary_view_get_type())
G_DECLARE_FINAL_TYPE(LlSummaryView, ll_summary_view, LL, SUMMARY_VIEW, GtkBox)

GtkWidget *ll_summary_view_new(void);
void ll_summary_view_set_document(LlSummaryView *self, LlDocument *doc);
/* The rows (LlSummaryItem) and the totals line, for tests. */
GListModel *ll_summary_view_get_model(LlSummaryView *self);
const char *ll_summary_view_get_totals(LlSummaryView *self);
/* A row's field: "name", "type", "shape", "params", "flops", "rf". */
const char *ll_summary_item_get(LlSummaryItem *item, const char *field);

G_END_DECLS
