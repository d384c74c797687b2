/* cli-report.c: `layerlab report` and `layerlab export`: a run's figures
 * and PDF report, or a study's figures, headless (ui/plot is cairo only);
 * and a trained model as ONNX or PyTorch code. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "onnx.h"
#include "pytorch-export.h"
#include "run-report.h"
#include "study-figures.h"

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

/* `report --study ID_OR_DIR`: a study's figures drawn again from its folder. */
static int report_study(const char *study, const char *store_root)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  if (strchr(study, G_DIR_SEPARATOR) || g_file_test(study, G_FILE_TEST_IS_DIR)) {
    dir = g_strdup(study);
  } else {
    g_autoptr(LlRunStore) store = ll_run_store_open(store_root, &error);
    if (!store) {
      fprintf(stderr, "layerlab report: %s\n", error->message);
      return 1;
    }
    dir = ll_study_store_dir(ll_run_store_root(store), study, &error);
    if (!dir) {
      fprintf(stderr, "layerlab report: --study: %s (nor a study folder)\n", error->message);
      return 1;
    }
  }
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  if (!ll_study_export_figures_dir(dir, written, &error)) {
    fprintf(stderr, "layerlab report: --study %s: %s\n", study, error->message);
    return 1;
  }
  if (!written->len)
    fprintf(stderr, "layerlab report: --study %s: no trial has a result to draw\n", study);
  for (guint i = 0; i < written->len; i++)
    printf("%s\n", (char *)written->pdata[i]);
  return written->len ? 0 : 1;
}

int ll_cli_report(int argc, char **argv)
{
  g_autofree char *out = NULL, *store_root = NULL, *study = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
      {"study", 0, 0, G_OPTION_ARG_FILENAME, &study,
       "Draw a study's figures again into <study>/figures/ (a study id or folder)", "ID_OR_DIR"},
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The PDF to write (default: RUN_ID.pdf)",
       "FILE"},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace the PDF if it exists", NULL},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_root,
       "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("report", "RUN_ID [RUN_ID...] | --study ID_OR_DIR", entries, &argc, &argv))
    return 2;
  if (study) {
    if (argc > 1) {
      fprintf(stderr, "layerlab report: --study takes no run ids\n");
      return 2;
    }
    return report_study(study, store_root);
  }
  if (argc < 2) {
    fprintf(stderr, "layerlab report: name a run id (`layerlab runs` lists them); several ids "
                    "make a comparison report\n");
    return 2;
  }
  g_autoptr(GPtrArray) runs = get_runs("report", store_root, argc, argv);
  if (!runs)
    return 1;
  g_autofree char *path = out ? g_strdup(out) : g_strdup_printf("%s.pdf", argv[1]);
  if (!force && g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
    fprintf(stderr, "layerlab report: %s already exists; --force replaces it\n", path);
    return 1;
  }
  g_autoptr(GError) error = NULL;
  if (!ll_run_report_pdf(runs, path, &error)) {
    fprintf(stderr, "layerlab report: %s\n", error->message);
    return 1;
  }
  printf("%s\n", path);
  return 0;
}

/* An export's outcome: the files written, one per line (exit 0), or why
 * not (exit 1; an existing file names --force). */
static int exported(gboolean ok, const GError *error, const GPtrArray *written)
{
  if (!ok) {
    fprintf(stderr, "layerlab export: %s%s\n", error->message,
            g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_EXIST) ? "; --force replaces it"
                                                                     : "");
    return 1;
  }
  for (guint i = 0; i < written->len; i++)
    printf("%s\n", (char *)written->pdata[i]);
  return 0;
}

/* The checkpoint a model export reads: RUN_OR_CHECKPOINT as `eval` and
 * `transfer` take it (a run's best checkpoint, else its last; or a
 * .safetensors file). NULL after saying why. */
static char *model_checkpoint(const char *ref, const char *store_root)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LlRunStore) store = NULL;
  if (!g_str_has_suffix(ref, ".safetensors") && !(store = ll_run_store_open(store_root, &error))) {
    fprintf(stderr, "layerlab export: %s\n", error->message);
    return NULL;
  }
  char *checkpoint = ll_run_store_resolve_checkpoint(store, ref, &error);
  if (!checkpoint)
    fprintf(stderr, "layerlab export: %s\n", error->message);
  return checkpoint;
}

/* `export RUN_OR_CHECKPOINT --onnx FILE`: a run's best (else last)
 * checkpoint, or a checkpoint file, as an ONNX model. */
static int export_onnx(const char *ref, const char *path, gboolean force, const char *store_root)
{
  if (!force && g_file_test(path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
    fprintf(stderr, "layerlab export: %s already exists; --force replaces it\n", path);
    return 1;
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *checkpoint = model_checkpoint(ref, store_root);
  if (!checkpoint)
    return 1;
  if (!ll_onnx_export_checkpoint(checkpoint, path, &error)) {
    fprintf(stderr, "layerlab export: %s\n", error->message);
    return 1;
  }
  printf("%s\n", path);
  return 0;
}

/* `export RUN_OR_CHECKPOINT --pytorch DIR`: DIR/model.py and DIR/weights.bin. */
static int export_pytorch(const char *ref, const char *dir, gboolean force, const char *store_root)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *checkpoint = model_checkpoint(ref, store_root);
  if (!checkpoint)
    return 1;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = ll_pytorch_export(checkpoint, dir, force, written, &error);
  return exported(ok, error, written);
}

int ll_cli_export(int argc, char **argv)
{
  g_autofree char *dir = NULL, *format = NULL, *store_root = NULL, *onnx = NULL, *pytorch = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
      {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "Folder for the figures", "DIR"},
      {"onnx", 0, 0, G_OPTION_ARG_FILENAME, &onnx,
       "The model as ONNX (RUN_OR_CHECKPOINT: a run id or a .safetensors file)", "FILE"},
      {"pytorch", 0, 0, G_OPTION_ARG_FILENAME, &pytorch,
       "The model as PyTorch code and weights: DIR/model.py, DIR/weights.bin", "DIR"},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace files that exist", NULL},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &format, "png (default), svg or pdf", "FMT"},
      {"store", 0, 0, G_OPTION_ARG_FILENAME, &store_root,
       "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("export",
                    "RUN_ID --dir DIR | RUN_OR_CHECKPOINT --onnx FILE | RUN_OR_CHECKPOINT "
                    "--pytorch DIR",
                    entries, &argc, &argv))
    return 2;
  if (argc == 2 && !dir && !format && !!onnx != !!pytorch)
    return onnx ? export_onnx(argv[1], onnx, force, store_root)
                : export_pytorch(argv[1], pytorch, force, store_root);
  if (argc != 2 || !dir || onnx || pytorch) {
    fprintf(stderr,
            "layerlab export: usage: layerlab export RUN_ID --dir DIR [--format png|svg|pdf] "
            "[--force]\n"
            "       layerlab export RUN_OR_CHECKPOINT --onnx FILE [--force]\n"
            "       layerlab export RUN_OR_CHECKPOINT --pytorch DIR [--force]\n");
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
  gboolean ok = ll_run_export_figures_full(runs->pdata[0], dir, fmt, force, written, &error);
  return exported(ok, error, written);
}
