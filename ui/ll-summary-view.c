/* ll-summary-view.c: the summary table and its row objects. */
#include "ll-summary-view.h"

#include <string.h>

/* ---- LlSummaryItem: one row, as display strings ---- */

static const char *const fields[] = {"name", "type", "shape", "params", "flops", "rf"};
#define N_FIELDS G_N_ELEMENTS(fields)

struct _LlSummaryItem {
  GObject parent_instance;
  char *value[N_FIELDS];
};

G_DEFINE_FINAL_TYPE(LlSummaryItem, ll_summary_item, G_TYPE_OBJECT)

static void ll_summary_item_get_property(GObject *object, guint id, GValue *value,
                                         GParamSpec *pspec)
{
  LlSummaryItem *self = LL_SUMMARY_ITEM(object);
  if (id >= 1 && id <= N_FIELDS)
    g_value_set_string(value, self->value[id - 1]);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void ll_summary_item_finalize(GObject *object)
{
  LlSummaryItem *self = LL_SUMMARY_ITEM(object);
  for (guint i = 0; i < N_FIELDS; i++)
    g_free(self->value[i]);
  G_OBJECT_CLASS(ll_summary_item_parent_class)->finalize(object);
}

static void ll_summary_item_class_init(LlSummaryItemClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = ll_summary_item_get_property;
  oc->finalize = ll_summary_item_finalize;
  for (guint i = 0; i < N_FIELDS; i++)
    g_object_class_install_property(oc, i + 1,
                                    g_param_spec_string(fields[i], NULL, NULL, NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

static void ll_summary_item_init(LlSummaryItem *self) {}

const char *ll_summary_item_get(LlSummaryItem *item, const char *field)
{
  for (guint i = 0; i < N_FIELDS; i++)
    if (!strcmp(fields[i], field))
      return item->value[i];
  return NULL;
}

/* ---- LlSummaryView ---- */

struct _LlSummaryView {
  GtkBox parent_instance;
  GListStore *store;
  GtkLabel *totals;
  LlDocument *doc;
  gulong changed_id;
};

G_DEFINE_FINAL_TYPE(LlSummaryView, ll_summary_view, GTK_TYPE_BOX)

GtkWidget *ll_summary_view_new(void) { return g_object_new(LL_TYPE_SUMMARY_VIEW, NULL); }
GListModel *ll_summary_view_get_model(LlSummaryView *self) { return G_LIST_MODEL(self->store); }
const char *ll_summary_view_get_totals(LlSummaryView *self)
{
  return gtk_label_get_text(self->totals);
}

static void refresh(LlSummaryView *self)
{
  const LlSummary *s = ll_document_get_summary(self->doc);
  const GError *e = ll_document_get_error(self->doc);
  const char *err_block = ll_document_get_error_block(self->doc);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; s && i < s->rows->len; i++) {
    const LlSummaryRow *r = &g_array_index(s->rows, LlSummaryRow, i);
    LlSummaryItem *it = g_object_new(LL_TYPE_SUMMARY_ITEM, NULL);
    char buf[64];
    /* blocks upstream of an error keep their figures; the failing block
     * and those that read it say so */
    gboolean failed = r->status == LL_BLOCK_FAILED || !g_strcmp0(err_block, r->block->name);
    const char *mark = failed                              ? " \u26a0 error"
                       : r->status == LL_BLOCK_DOWNSTREAM ? " (after the error)"
                       : r->frozen                        ? " (frozen)"
                                                          : "";
    it->value[0] = g_strdup_printf("%s%s", r->block->name, mark);
    it->value[1] = g_strdup(r->block->desc->type);
    if (r->status == LL_BLOCK_OK) {
      it->value[2] = g_strdup(ll_shape_format(&r->output_shape, buf, sizeof buf));
      it->value[3] = g_strdup_printf("%zu", r->params);
      it->value[4] = g_strdup(ll_format_count((double)r->flops, buf, sizeof buf));
    } else {
      for (int k = 2; k <= 4; k++)
        it->value[k] = g_strdup("\u2014");
    }
    it->value[5] = g_strdup(ll_summary_rf_text(r, buf, sizeof buf));
    g_ptr_array_add(items, it);
  }
  g_list_store_splice(self->store, 0, g_list_model_get_n_items(G_LIST_MODEL(self->store)),
                      items->pdata, items->len);
  if (e) {
    g_autofree char *m = g_strdup_printf("The graph has an error: %s", e->message);
    gtk_label_set_text(self->totals, m);
    gtk_widget_add_css_class(GTK_WIDGET(self->totals), "error");
    return;
  }
  gtk_widget_remove_css_class(GTK_WIDGET(self->totals), "error");
  char p[32], t[32], f[32];
  g_autofree char *totals = g_strdup_printf(
      "Total: %s parameters (%s trainable, %zu exactly), %s FLOPs per sample, %.1f KiB of weights",
      ll_format_count((double)s->total_params, p, sizeof p),
      ll_format_count((double)s->trainable_params, t, sizeof t), s->total_params,
      ll_format_count((double)s->total_flops, f, sizeof f), s->param_bytes / 1024.0);
  gtk_label_set_text(self->totals, totals);
}

static void on_doc_changed(LlDocument *doc, LlSummaryView *self) { refresh(self); }

void ll_summary_view_set_document(LlSummaryView *self, LlDocument *doc)
{
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  self->doc = g_object_ref(doc);
  self->changed_id = g_signal_connect(doc, "changed", G_CALLBACK(on_doc_changed), self);
  refresh(self);
}

static void ll_summary_view_dispose(GObject *object)
{
  LlSummaryView *self = LL_SUMMARY_VIEW(object);
  if (self->doc) {
    g_signal_handler_disconnect(self->doc, self->changed_id);
    g_clear_object(&self->doc);
  }
  G_OBJECT_CLASS(ll_summary_view_parent_class)->dispose(object);
}

static void ll_summary_view_class_init(LlSummaryViewClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ll_summary_view_dispose;
  g_type_ensure(LL_TYPE_SUMMARY_ITEM);
  gtk_widget_class_set_template_from_resource(wc, "/org/layerlab/LayerLab/ui/ll-summary-view.ui");
  gtk_widget_class_bind_template_child(wc, LlSummaryView, store);
  gtk_widget_class_bind_template_child(wc, LlSummaryView, totals);
}

static void ll_summary_view_init(LlSummaryView *self)
{
  gtk_widget_init_template(GTK_WIDGET(self));
}
