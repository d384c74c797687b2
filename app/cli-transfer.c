/* cli-transfer.c: `layerlab transfer SPEC`: which tensors of a checkpoint
 * (a file or a run's) a spec's graph would take, before training. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "transfer.h"

static void print_table(GPtrArray *rows)
{
  printf("%-24s %-24s %-14s %-14s %s\n", "graph tensor", "file tensor", "graph shape", "file shape",
         "status");
  for (guint i = 0; i < rows->len; i++) {
    const LlTransferRow *r = rows->pdata[i];
    printf("%-24s %-24s %-14s %-14s %s\n", r->graph_name ? r->graph_name : "-",
           r->file_name ? r->file_name : "-", r->graph_shape ? r->graph_shape : "-",
           r->file_shape ? r->file_shape : "-", ll_transfer_status_to_string(r->status));
  }
}

static gboolean file_has_block(GPtrArray *rows, const char *block)
{
  for (guint i = 0; i < rows->len; i++) {
    const LlTransferRow *r = rows->pdata[i];
    if (r->file_block && !strcmp(r->file_block, block))
      return TRUE;
  }
  return FALSE;
}

/* Previews one entry; returns FALSE (after saying why) when it cannot be
 * read or nothing matches. */
static gboolean show_entry(LlRunStore *store, const char *spec_path, LlSpec *spec,
                           const LlInitFrom *f, gboolean jsonl)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *path = NULL;
  if (!ll_transfer_preview(store, spec->graph, f, &path, &rows, &error)) {
    fprintf(stderr, "layerlab transfer: %s\n", error->message);
    return FALSE;
  }
  if (f->map) {
    GHashTableIter it;
    gpointer from, to;
    g_hash_table_iter_init(&it, f->map);
    while (g_hash_table_iter_next(&it, &from, &to))
      if (!file_has_block(rows, from)) {
        fprintf(stderr, "layerlab transfer: map %s=%s: the checkpoint \"%s\" has no block \"%s\"\n",
                (char *)from, (char *)to, path, (char *)from);
        return FALSE;
      }
  }
  if (jsonl) {
    for (guint i = 0; i < rows->len; i++) {
      g_autofree char *line = ll_transfer_row_to_json(rows->pdata[i]);
      printf("%s\n", line);
    }
  } else {
    printf("%s -> %s%s\n", f->checkpoint, path,
           f->reinit ? "  (reinit: the control run keeps the random init)" : "");
    print_table(rows);
    printf("%u match, %u shape mismatch, %u missing in file, %u not taken, %u not in graph\n\n",
           ll_transfer_count(rows, LL_TRANSFER_MATCH),
           ll_transfer_count(rows, LL_TRANSFER_SHAPE_MISMATCH),
           ll_transfer_count(rows, LL_TRANSFER_MISSING),
           ll_transfer_count(rows, LL_TRANSFER_NOT_TAKEN),
           ll_transfer_count(rows, LL_TRANSFER_NOT_IN_GRAPH));
  }
  if (ll_transfer_count(rows, LL_TRANSFER_MATCH) == 0) {
    fprintf(stderr,
            "layerlab transfer: no tensor of \"%s\" matches the graph of %s (use --map old=new "
            "when block names differ)\n",
            path, spec_path);
    return FALSE;
  }
  return TRUE;
}

int ll_cli_transfer(int argc, char **argv)
{
  g_autofree char *from = NULL, *blocks = NULL, *out = NULL;
  g_auto(GStrv) maps = NULL;
  gboolean jsonl = FALSE;
  GOptionEntry entries[] = {
      {"from", 0, 0, G_OPTION_ARG_STRING, &from,
       "The checkpoint: a .safetensors path or run:<id> (default: the spec's init_from)", "REF"},
      {"blocks", 0, 0, G_OPTION_ARG_STRING, &blocks, "Graph blocks to load into (default: all)",
       "A,B"},
      {"map", 0, 0, G_OPTION_ARG_STRING_ARRAY, &maps,
       "Checkpoint block OLD loads into graph block NEW (repeatable, or comma-separated)",
       "OLD=NEW"},
      {"jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "One JSON object per tensor", NULL},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("transfer", "SPEC", entries, &argc, &argv))
    return 2;
  if (argc != 2) {
    fprintf(stderr, "Usage: layerlab transfer SPEC [--from PATH|run:ID] [--blocks A,B] [--map "
                    "OLD=NEW] [--jsonl]\n");
    return 2;
  }
  const char *spec_path = argv[1];
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(spec_path, &error);
  if (!spec) {
    fprintf(stderr, "layerlab transfer: %s\n", error->message);
    return 1;
  }
  if (!from && (blocks || maps)) {
    fprintf(stderr, "layerlab transfer: --blocks and --map go with --from\n");
    return 2;
  }
  /* with --from: one entry from the options; without: the spec's own */
  g_autoptr(GPtrArray) entries_from = g_ptr_array_new();
  LlInitFrom given = {0};
  g_autoptr(GHashTable) map = NULL;
  g_auto(GStrv) block_names = NULL;
  if (from) {
    given.checkpoint = from;
    if (blocks) {
      block_names = g_strsplit(blocks, ",", -1);
      for (int k = 0; block_names[k]; k++)
        if (!ll_graph_find(spec->graph, block_names[k])) {
          fprintf(stderr, "layerlab transfer: --blocks: the graph of %s has no block \"%s\"\n",
                  spec_path, block_names[k]);
          return 1;
        }
      given.blocks = block_names;
    }
    for (int i = 0; maps && maps[i]; i++) {
      g_auto(GStrv) pairs = g_strsplit(maps[i], ",", -1);
      for (int k = 0; pairs[k]; k++) {
        g_auto(GStrv) kv = g_strsplit(pairs[k], "=", 2);
        if (!kv[0] || !kv[1] || !*kv[0] || !*kv[1]) {
          fprintf(stderr, "layerlab transfer: --map \"%s\": expected OLD=NEW\n", pairs[k]);
          return 2;
        }
        if (!ll_graph_find(spec->graph, kv[1])) {
          fprintf(stderr, "layerlab transfer: --map %s: the graph of %s has no block \"%s\"\n",
                  pairs[k], spec_path, kv[1]);
          return 1;
        }
        if (!map)
          map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_insert(map, g_strdup(kv[0]), g_strdup(kv[1]));
      }
    }
    given.map = map;
    g_ptr_array_add(entries_from, &given);
  } else {
    for (guint i = 0; i < spec->init_from->len; i++)
      g_ptr_array_add(entries_from, spec->init_from->pdata[i]);
    if (!entries_from->len) {
      fprintf(stderr,
              "layerlab transfer: %s has no training.init_from; name a checkpoint with --from "
              "PATH or --from run:ID\n",
              spec_path);
      return 2;
    }
  }
  g_autoptr(LlRunStore) store = NULL;
  for (guint i = 0; i < entries_from->len; i++) {
    const LlInitFrom *f = entries_from->pdata[i];
    gboolean is_path =
        !g_str_has_prefix(f->checkpoint, "run:") && g_str_has_suffix(f->checkpoint, ".safetensors");
    if (!is_path && !store) {
      store = ll_run_store_open(out, &error);
      if (!store) {
        fprintf(stderr, "layerlab transfer: %s\n", error->message);
        return 1;
      }
    }
  }
  int rc = 0;
  for (guint i = 0; i < entries_from->len; i++)
    if (!show_entry(store, spec_path, spec, entries_from->pdata[i], jsonl))
      rc = 1;
  return rc;
}
