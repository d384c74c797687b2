/* summary.c: the model summary table. */
#include "summary.h"

#include "json-writer.h"

#include <string.h>

LlSummary *ll_summary_new(LlGraph *g)
{
  LlSummary *s = g_new0(LlSummary, 1);
  s->rows = g_array_new(FALSE, TRUE, sizeof(LlSummaryRow));
  for (guint i = 0; i < g->order->len; i++) {
    LlBlock *b = g_ptr_array_index(g->order, i);
    gboolean known = g->inferred || b->status == LL_BLOCK_OK;
    LlSummaryRow r = {.block = b, .frozen = b->frozen, .status = known ? LL_BLOCK_OK : b->status};
    if (known) {
      r.output_shape = b->out_shape;
      r.params = ll_block_param_count(b);
      r.flops = b->flops;
      r.rf = b->rf;
    }
    g_array_append_val(s->rows, r);
    s->total_params += r.params;
    if (!b->frozen)
      s->trainable_params += r.params;
    s->total_flops += r.flops;
  }
  s->param_bytes = s->total_params * sizeof(float);
  return s;
}

void ll_summary_free(LlSummary *s)
{
  if (!s)
    return;
  g_array_unref(s->rows);
  g_free(s);
}

char *ll_format_count(double n, char *buf, size_t len)
{
  if (n >= 1e9)
    g_snprintf(buf, len, "%.2fG", n / 1e9);
  else if (n >= 1e6)
    g_snprintf(buf, len, "%.2fM", n / 1e6);
  else if (n >= 1e4)
    g_snprintf(buf, len, "%.1fk", n / 1e3);
  else
    g_snprintf(buf, len, "%.0f", n);
  return buf;
}

const char *ll_summary_rf_text(const LlSummaryRow *r, char *buf, size_t len)
{
  const LlBlock *b = r->block;
  if (r->status != LL_BLOCK_OK)
    g_strlcpy(buf, "?", len);
  else if (r->rf > 0)
    g_snprintf(buf, len, "%d", r->rf);
  else if (!strcmp(b->desc->type, "Linear") && b->in_shape[0].rank > 1)
    g_strlcpy(buf, "whole last axis", len); /* it mixes the last dimension only */
  else
    g_strlcpy(buf, "whole input", len);
  return buf;
}

char *ll_summary_format_text(const LlSummary *s)
{
  GString *out = g_string_new(NULL);
  const char *rule =
      "------------------------------------------------------------------------------"
      "------------\n";
  g_string_append_printf(out, "%-20s %-16s %-18s %10s %10s %15s\n", "Block", "Type",
                         "Output (per sample)", "Params", "FLOPs", "RF");
  g_string_append(out, rule);
  for (guint i = 0; i < s->rows->len; i++) {
    const LlSummaryRow *r = &g_array_index(s->rows, LlSummaryRow, i);
    char shape[64], flops[32], rf[32];
    ll_shape_format(&r->output_shape, shape, sizeof shape);
    ll_format_count((double)r->flops, flops, sizeof flops);
    ll_summary_rf_text(r, rf, sizeof rf);
    g_string_append_printf(out, "%-20.20s %-16.16s %-18s %10zu %10s %15s%s\n", r->block->name,
                           r->block->desc->type, shape, r->params, flops, rf,
                           r->frozen ? "  (frozen)" : "");
  }
  g_string_append(out, rule);
  char flops[32];
  g_string_append_printf(out, "Total params: %zu (%.1f KiB of float32)\n", s->total_params,
                         s->param_bytes / 1024.0);
  g_string_append_printf(out, "Trainable params: %zu\n", s->trainable_params);
  g_string_append_printf(out, "Forward FLOPs per sample: %s (%" G_GINT64_FORMAT ")\n",
                         ll_format_count((double)s->total_flops, flops, sizeof flops),
                         s->total_flops);
  return g_string_free(out, FALSE);
}

char *ll_summary_format_json(const LlSummary *s)
{
  LlJsonWriter w;
  ll_json_writer_init(&w);
  ll_json_begin_object(&w);
  ll_json_key(&w, "blocks");
  ll_json_begin_array(&w, FALSE);
  for (guint i = 0; i < s->rows->len; i++) {
    const LlSummaryRow *r = &g_array_index(s->rows, LlSummaryRow, i);
    ll_json_begin_object(&w);
    ll_json_key(&w, "name");
    ll_json_string(&w, r->block->name);
    ll_json_key(&w, "type");
    ll_json_string(&w, r->block->desc->type);
    ll_json_key(&w, "output_shape");
    ll_json_begin_array(&w, TRUE);
    for (int d = 0; d < r->output_shape.rank; d++)
      ll_json_int(&w, r->output_shape.d[d]);
    ll_json_end_array(&w);
    ll_json_key(&w, "params");
    ll_json_int(&w, (int64_t)r->params);
    ll_json_key(&w, "flops");
    ll_json_int(&w, r->flops);
    ll_json_key(&w, "receptive_field");
    if (r->rf > 0)
      ll_json_int(&w, r->rf);
    else
      ll_json_null(&w);
    ll_json_key(&w, "frozen");
    ll_json_bool(&w, r->frozen);
    ll_json_end_object(&w);
  }
  ll_json_end_array(&w);
  ll_json_key(&w, "total_params");
  ll_json_int(&w, (int64_t)s->total_params);
  ll_json_key(&w, "trainable_params");
  ll_json_int(&w, (int64_t)s->trainable_params);
  ll_json_key(&w, "total_flops");
  ll_json_int(&w, s->total_flops);
  ll_json_end_object(&w);
  return ll_json_writer_finish(&w);
}
