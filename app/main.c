/* main.c: `layerlab` with no verb opens the workbench window; the verbs run
 * the same engine from the command line, without a display. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#ifdef LL_HAVE_GUI
#include "ll-application.h"
#endif

void ll_cli_usage(FILE *out)
{
  fprintf(
      out,
      "Usage: layerlab [VERB] [OPTIONS]\n"
      "       layerlab [FILE...]\n"
      "\n"
      "Without a verb, opens the workbench window (with the spec or study files given).\n"
      "\n"
      "Verbs:\n"
      "  blocks [--json]              list every block type and its properties\n"
      "  summary SPEC [--json]        per-block output shape, parameters, FLOPs, receptive "
      "field\n"
      "  train SPEC [options]         train a spec (see `layerlab train --help`)\n"
      "  eval CHECKPOINT_OR_RUN       evaluate a checkpoint on its spec's test set\n"
      "  study STUDY [options]        run a study's stages or sweep (see `layerlab study "
      "--help`)\n"
      "  sweep STUDY_OR_SPEC [options] a grid, random or TPE search over spec paths, e.g.\n"
      "                               --axis training.optimizer.lr=0.1,0.01 --range "
      "graph.blocks.fc1.props.out_features=16:256\n"
      "  runs [--json]                list the run store\n"
      "  transfer SPEC [--from REF]   which tensors of a checkpoint (PATH or run:ID) the spec's\n"
      "                               graph would take: [--blocks A,B] [--map OLD=NEW] [--jsonl]\n"
#ifdef LL_HAVE_PLOT
      "  report RUN_ID... [--out F]   multi-page PDF report of a run, or a comparison\n"
      "  export RUN_ID --dir DIR      every figure of a run [--format png|svg|pdf]\n"
      "  export RUN_OR_CHECKPOINT --onnx FILE  the trained model as ONNX (opset 17)\n"
      "  export RUN_OR_CHECKPOINT --pytorch DIR  the trained model as PyTorch code:\n"
      "                               DIR/model.py (load() gives the module), DIR/weights.bin\n"
      "                               (report and export replace no existing file\n"
      "                               unless given --force)\n"
      "  report --study ID_OR_DIR     a study's figures drawn again into <study>/figures/\n"
#endif
      "  import FILE.onnx [--out SPEC] an ONNX model as a spec and its weights (SPEC and\n"
      "                               SPEC.safetensors, which training.init_from names)\n"
      "  devices                      list the compute devices this build can use\n"
      "  help                         this text\n"
      "  version                      the version\n"
      "\n"
      "Studies (docs/study-format.md): a file with format \"layerlab-study\" runs a chain of\n"
      "stages (pretrain, then transfer: init_from an earlier stage, frozen blocks, repeat over\n"
      "values) or a sweep (axes = paths into the spec; grid, random or tpe; pruning; a\n"
      "parameter budget). Every trial is a run in the store; the study folder\n"
      "<store>/studies/<id>/ holds study.json, trials.jsonl, results.csv and figures/. --epochs N\n"
      "shortens every trial in proportion (the longest trains N epochs, a longer stage stays\n"
      "longer), --limit N uses at most N samples; --repeats K runs every trial over K seeds\n"
      "(tables and figures show the mean and sd); --resume ID skips the finished ones. Trials\n"
      "run one after another (running several at once on a GPU is not implemented yet).\n");
}

gboolean ll_cli_parse(const char *verb, const char *params, GOptionEntry *entries, int *argc,
                      char ***argv)
{
  g_autofree char *title = g_strdup_printf("%s %s", verb, params);
  g_autoptr(GOptionContext) ctx = g_option_context_new(title);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    fprintf(stderr, "layerlab %s: %s\n", verb, error->message);
    g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);
    fputs(help, stderr);
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
} Verb;

static const Verb verbs[] = {
    {"blocks", ll_cli_blocks}, {"summary", ll_cli_summary}, {"train", ll_cli_train},
    {"eval", ll_cli_eval},     {"runs", ll_cli_runs},       {"devices", ll_cli_devices},
    {"study", ll_cli_study},   {"sweep", ll_cli_sweep},     {"transfer", ll_cli_transfer},
    {"import", ll_cli_import},
#ifdef LL_HAVE_PLOT
    {"report", ll_cli_report}, {"export", ll_cli_export},
#endif
};

int main(int argc, char **argv)
{
  setlocale(LC_ALL, "");
  if (argc >= 2 && argv[1][0] != '-') {
    for (guint i = 0; i < G_N_ELEMENTS(verbs); i++)
      if (!strcmp(argv[1], verbs[i].name))
        return verbs[i].run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "help")) {
      ll_cli_usage(stdout);
      return 0;
    }
    if (!strcmp(argv[1], "version")) {
      printf("layerlab %s\n", LL_VERSION);
      return 0;
    }
    if (!g_file_test(argv[1], G_FILE_TEST_IS_REGULAR)) {
      fprintf(stderr, "layerlab: unknown verb \"%s\" (and no such file to open)\n\n", argv[1]);
      ll_cli_usage(stderr);
      return 2;
    }
    /* `layerlab FILE...`: open specs or studies in the window */
  }
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    ll_cli_usage(stdout);
    return 0;
  }
  if (argc >= 2 && !strcmp(argv[1], "--version")) {
    printf("layerlab %s\n", LL_VERSION);
    return 0;
  }
#ifdef LL_HAVE_GUI
  if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY") && !g_getenv("BROADWAY_DISPLAY")) {
    fprintf(stderr, "layerlab: no display to open the workbench window on.\n"
                    "Run it on a virtual display (xvfb-run -a layerlab), or use the command "
                    "line, which needs none:\n\n");
    ll_cli_usage(stderr);
    return 1;
  }
  return ll_application_run(argc, argv);
#else
  fprintf(stderr, "layerlab: this build has no workbench window (built with -Dgui=disabled).\n"
                  "Use the command-line verbs:\n\n");
  ll_cli_usage(stderr);
  return 2;
#endif
}
