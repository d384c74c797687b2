/* cli-blocks.c: `layerlab blocks` and `layerlab summary`. */
#include <stdio.h>

#include "cli.h"
#include "json-writer.h"
#include "spec.h"
#include "summary.h"

static const char *const prop_type_names[] = {"int", "float", "bool", "choice", "shape"};

static void write_value(LlJsonWriter *w, const LlPropDesc *p, gboolean def, double x)
{
  switch (p->type) {
  case LL_PROP_INT: ll_json_int(w, (int64_t)x); break;
  case LL_PROP_FLOAT: ll_json_double(w, x); break;
  case LL_PROP_BOOL: ll_json_bool(w, x != 0); break;
  case LL_PROP_CHOICE: ll_json_string(w, p->choices[(int)x]); break;
  case LL_PROP_SHAPE:
    ll_json_begin_array(w, TRUE);
    if (def)
      for (int i = 0; i < p->def_shape.rank; i++)
        ll_json_int(w, p->def_shape.d[i]);
    ll_json_end_array(w);
    break;
  }
}

static char *default_text(const LlPropDesc *p)
{
  char buf[64];
  switch (p->type) {
  case LL_PROP_INT: return g_strdup_printf("%.0f", p->def);
  case LL_PROP_FLOAT: return g_strdup(ll_format_double(p->def, buf, sizeof buf));
  case LL_PROP_BOOL: return g_strdup(p->def != 0 ? "true" : "false");
  case LL_PROP_CHOICE: return g_strdup(p->choices[(int)p->def]);
  case LL_PROP_SHAPE: return g_strdup(ll_shape_format(&p->def_shape, buf, sizeof buf));
  }
  return g_strdup("");
}

int ll_cli_blocks(int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL},
      {NULL},
  };
  if (!ll_cli_parse("blocks", "", entries, &argc, &argv))
    return 2;
  if (argc > 1) {
    fprintf(stderr, "layerlab blocks: unexpected argument \"%s\"\n", argv[1]);
    return 2;
  }
  int n;
  const LlBlockDesc *const *all = ll_block_registry(&n);
  if (json) {
    LlJsonWriter w;
    ll_json_writer_init(&w);
    ll_json_begin_array(&w, FALSE);
    for (int i = 0; i < n; i++) {
      const LlBlockDesc *d = all[i];
      ll_json_begin_object(&w);
      ll_json_key(&w, "type");
      ll_json_string(&w, d->type);
      ll_json_key(&w, "category");
      ll_json_string(&w, d->category);
      ll_json_key(&w, "help");
      ll_json_string(&w, d->help);
      ll_json_key(&w, "inputs");
      ll_json_begin_array(&w, TRUE);
      ll_json_int(&w, d->min_inputs);
      ll_json_int(&w, d->max_inputs);
      ll_json_end_array(&w);
      ll_json_key(&w, "properties");
      ll_json_begin_array(&w, FALSE);
      for (int k = 0; k < d->n_props; k++) {
        const LlPropDesc *p = &d->props[k];
        ll_json_begin_object(&w);
        ll_json_key(&w, "name");
        ll_json_string(&w, p->name);
        ll_json_key(&w, "type");
        ll_json_string(&w, prop_type_names[p->type]);
        ll_json_key(&w, "default");
        write_value(&w, p, TRUE, p->def);
        if (p->type == LL_PROP_INT || p->type == LL_PROP_FLOAT || p->type == LL_PROP_SHAPE) {
          ll_json_key(&w, "range");
          ll_json_begin_array(&w, TRUE);
          ll_json_double(&w, p->min);
          ll_json_double(&w, p->max);
          ll_json_end_array(&w);
        }
        if (p->type == LL_PROP_CHOICE) {
          ll_json_key(&w, "choices");
          ll_json_begin_array(&w, TRUE);
          for (int c = 0; p->choices[c]; c++)
            ll_json_string(&w, p->choices[c]);
          ll_json_end_array(&w);
        }
        ll_json_key(&w, "help");
        ll_json_string(&w, p->help);
        ll_json_end_object(&w);
      }
      ll_json_end_array(&w);
      ll_json_end_object(&w);
    }
    ll_json_end_array(&w);
    g_autofree char *text = ll_json_writer_finish(&w);
    fputs(text, stdout);
    return 0;
  }
  const char *category = NULL;
  for (int i = 0; i < n; i++) {
    const LlBlockDesc *d = all[i];
    if (!category || g_strcmp0(category, d->category)) {
      printf("%s%s\n", category ? "\n" : "", d->category);
      category = d->category;
    }
    printf("  %-16s %s\n", d->type, d->help);
    for (int k = 0; k < d->n_props; k++) {
      const LlPropDesc *p = &d->props[k];
      g_autofree char *def = default_text(p);
      g_autofree char *range = NULL;
      if (p->type == LL_PROP_INT)
        range = g_strdup_printf(" [%.0f, %.0f]", p->min, p->max);
      else if (p->type == LL_PROP_FLOAT)
        range = g_strdup_printf(" [%g, %g]", p->min, p->max);
      else if (p->type == LL_PROP_CHOICE)
        range = g_strdup_printf(" {%s}", g_strjoinv("|", (char **)p->choices));
      printf("      %-18s %-6s = %-10s%s  %s\n", p->name, prop_type_names[p->type], def,
             range ? range : "", p->help);
    }
  }
  return 0;
}

int ll_cli_summary(int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL},
      {NULL},
  };
  if (!ll_cli_parse("summary", "SPEC", entries, &argc, &argv))
    return 2;
  if (argc != 2) {
    fprintf(stderr, "Usage: layerlab summary SPEC [--json]\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(argv[1], &error);
  if (!spec) {
    fprintf(stderr, "layerlab summary: %s\n", error->message);
    return 1;
  }
  g_autoptr(LlSummary) sum = ll_summary_new(spec->graph);
  g_autofree char *text = json ? ll_summary_format_json(sum) : ll_summary_format_text(sum);
  if (!json)
    printf("%s\n\n", spec->name);
  fputs(text, stdout);
  return 0;
}
