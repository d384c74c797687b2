/* cli-report.c: `layerlab report` and `layerlab export`: a run's figures
 * and PDF report, headless (ui/plot is cairo only). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "run-report.h"

/* The runs named by ids (several for a comparison report). */
static GPtrArray *get_runs(const char *verb, const char *store_root, int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = ll_run_store_open(store_root, &error);
  if (!store) {
    fprintf(stderr, "layerlab %s: %s\n", verb, error->message);
    return NULL;
  }
  GPtrArray *runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
  for (int i = 1; i < argc; i++) {
    LlRunInfo *info = NULL;
    if (!ll_run_store_get(store, argv[i], &info, &error)) {
      fprintf(stderr, "layerlab %s: %s\n", verb, error->message);
      g_ptr_array_unref(runs);
      return NULL;
    }
    g_ptr_array_add(runs, info);
  }
  return runs;
}

int ll_cli_report(int argc, char **argv)
{
  g_autofree char *out = NULL, *store_root = NULL;
  GOptionEntry entries[] = {
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PDF to write (default: RUN_ID.pdf)",
       "FILE"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_root,
       "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("report", "RUN_ID [RUN_ID...]", entries, &argc, &argv))
    return 2;
  if (argc < 2) {
    fprintf(stderr, "layerlab report: name a run id (`layerlab runs` lists them); several ids "
                    "make a comparison report\n");
    return 2;
  }
  g_autoptr(GPtrArray) runs = get_runs("report", store_root, argc, argv);
  if (!runs)
    return 1;
  g_autofree char *path = out ? g_strdup(out) : g_strdup_printf("%s.pdf", argv[1]);
  g_autoptr(GError) error = NULL;
  if (!ll_run_report_pdf(runs, path, &error)) {
    fprintf(stderr, "layerlab report: %s\n", error->message);
    return 1;
  }
  printf("%s\n", path);
  return 0;
}

int ll_cli_export(int argc, char **argv)
{
  g_autofree char *dir = NULL, *format = NULL, *store_root = NULL;
  GOptionEntry entries[] = {
      {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Folder for the figures (required)", "DIR"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "png (default), svg or pdf", "FMT"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_root,
       "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("export", "RUN_ID --dir DIR", entries, &argc, &argv))
    return 2;
  if (argc != 2 || !dir) {
    fprintf(stderr,
            "layerlab export: usage: layerlab export RUN_ID --dir DIR [--format png|svg|pdf]\n");
    return 2;
  }
  const char *fmt = format ? format : "png";
  if (strcmp(fmt, "png") && strcmp(fmt, "svg") && strcmp(fmt, "pdf")) {
    fprintf(stderr, "layerlab export: --format: \"%s\" is not png, svg or pdf\n", fmt);
    return 2;
  }
  g_autoptr(GPtrArray) runs = get_runs("export", store_root, argc, argv);
  if (!runs)
    return 1;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  if (!ll_run_export_figures(runs->pdata[0], dir, fmt, written, &error)) {
    fprintf(stderr, "layerlab export: %s\n", error->message);
    return 1;
  }
  for (guint i = 0; i < written->len; i++)
    printf("%s\n", (char *)written->pdata[i]);
  return 0;
}
