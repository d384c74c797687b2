/* cli-runs.c: `layerlab runs`: the run store as a table or JSON. */
#include <stdio.h>

#include "cli.h"
#include "json-writer.h"
#include "run-store.h"

int ll_cli_runs(int argc, char **argv)
{
  gboolean json = FALSE;
  char *out = NULL;
  g_autofree char *rename = NULL, *note = NULL, *tag = NULL, *untag = NULL;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Machine-readable output", NULL},
      {"rename", 0, 0, G_OPTION_ARG_STRING, &rename, "Rename run ID to NAME (\"\" clears it)",
       "ID"},
      {"note", 0, 0, G_OPTION_ARG_STRING, &note, "Set run ID's notes to TEXT (\"\" clears them)",
       "ID"},
      {"tag", 0, 0, G_OPTION_ARG_STRING, &tag, "Add the tags TAG[,TAG...] to run ID", "ID"},
      {"untag", 0, 0, G_OPTION_ARG_STRING, &untag, "Remove the tag TAG from run ID", "ID"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("runs", "[NAME|TEXT|TAG]", entries, &argc, &argv))
    return 2;
  int edits = !!rename + !!note + !!tag + !!untag;
  if (edits > 1) {
    fprintf(stderr, "layerlab runs: give one of --rename, --note, --tag, --untag at a time\n");
    g_free(out);
    return 2;
  }
  if (edits) {
    if (argc != 2) {
      fprintf(stderr, "layerlab runs: --%s ID needs one more argument (%s)\n",
              rename ? "rename"
              : note ? "note"
              : tag  ? "tag"
                     : "untag",
              rename ? "the new name"
              : note ? "the notes"
                     : "the tag");
      g_free(out);
      return 2;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(LlRunStore) store = ll_run_store_open(out, &error);
    g_free(out);
    const char *value = argv[1];
    gboolean ok = FALSE;
    if (store && rename)
      ok = ll_run_store_set_name(store, rename, value, &error);
    else if (store && note)
      ok = ll_run_store_set_notes(store, note, value, &error);
    else if (store && untag)
      ok = ll_run_store_edit_tag(store, untag, value, TRUE, &error);
    else if (store) {
      /* several tags at once: "baseline, keep" */
      g_auto(GStrv) add = NULL;
      ok = ll_run_tags_parse(value, &add, &error);
      for (guint i = 0; ok && add && add[i]; i++)
        ok = ll_run_store_edit_tag(store, tag, add[i], FALSE, &error);
    }
    if (!ok) {
      fprintf(stderr, "layerlab runs: %s\n", error->message);
      return 1;
    }
    return 0;
  }
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
      ll_json_key(&w, "notes");
      ll_json_string(&w, r->notes);
      ll_json_key(&w, "tags");
      ll_json_begin_array(&w, TRUE);
      for (guint k = 0; r->tags && r->tags[k]; k++)
        ll_json_string(&w, r->tags[k]);
      ll_json_end_array(&w);
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
  printf("%-22s %-9s %10s  %s\n", "id", "status", "params", "name [tags]: final metrics");
  for (guint i = 0; i < runs->len; i++) {
    const LlRunInfo *r = runs->pdata[i];
    g_autofree char *tags = ll_run_tags_to_string((const char *const *)r->tags);
    printf("%-22s %-9s %10" G_GINT64_FORMAT "  %s%s%s%s: %s\n", r->id,
           ll_run_status_to_string(r->status), r->params_count, r->name ? r->name : "(unnamed)",
           *tags ? " [" : "", tags, *tags ? "]" : "", r->metrics_json ? r->metrics_json : "");
    if (r->notes) {
      /* notes indented under their run, one line each */
      g_auto(GStrv) lines = g_strsplit(r->notes, "\n", -1);
      for (guint k = 0; lines[k]; k++)
        printf("%-22s   %s\n", "", lines[k]);
    }
  }
  return 0;
}
