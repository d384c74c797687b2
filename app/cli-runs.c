/* cli-runs.c: `layerlab runs`: the run store as a table or JSON. */
#include <stdio.h>

#include "cli.h"
#include "json-writer.h"
#include "run-store.h"

int ll_cli_runs(int argc, char **argv)
{
  gboolean json = FALSE;
  char *out = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("runs", "", entries, &argc, &argv))
    return 2;
  if (argc > 1) {
    fprintf(stderr, "layerlab runs: unexpected argument \"%s\"\n", argv[1]);
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(out, &error);
  g_autoptr(GPtrArray) runs = NULL;
  g_free(out);
  if (!store || !ll_run_store_list(store, &runs, &error)) {
    fprintf(stderr, "layerlab runs: %s\n", error->message);
    return 1;
  }
  if (json) {
    LlJsonWriter w;
    ll_json_writer_init(&w);
    ll_json_begin_array(&w, FALSE);
    for (guint i = 0; i < runs->len; i++) {
      const LlRunInfo *r = runs->pdata[i];
      ll_json_begin_object(&w);
      ll_json_key(&w, "id");
      ll_json_string(&w, r->id);
      ll_json_key(&w, "name");
      ll_json_string(&w, r->name);
      ll_json_key(&w, "status");
      ll_json_string(&w, ll_run_status_to_string(r->status));
      ll_json_key(&w, "params");
      ll_json_int(&w, r->params_count);
      ll_json_key(&w, "seed");
      ll_json_int(&w, (int64_t)r->seed);
      ll_json_key(&w, "dir");
      ll_json_string(&w, r->dir);
      ll_json_key(&w, "checkpoint");
      ll_json_string(&w, r->checkpoint);
      ll_json_key(&w, "metrics");
      ll_json_string(&w, r->metrics_json);
      ll_json_end_object(&w);
    }
    ll_json_end_array(&w);
    g_autofree char *text = ll_json_writer_finish(&w);
    fputs(text, stdout);
    return 0;
  }
  if (runs->len == 0) {
    printf("no runs yet: `layerlab train SPEC` records one\n");
    return 0;
  }
  printf("%-22s %-22s %-9s %10s  %s\n", "id", "name", "status", "params", "final metrics");
  for (guint i = 0; i < runs->len; i++) {
    const LlRunInfo *r = runs->pdata[i];
    printf("%-22s %-22.22s %-9s %10" G_GINT64_FORMAT "  %s\n", r->id, r->name ? r->name : "",
           ll_run_status_to_string(r->status), r->params_count,
           r->metrics_json ? r->metrics_json : "");
  }
  return 0;
}
