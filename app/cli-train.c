/* cli-train.c: `layerlab train`, `layerlab eval` and `layerlab devices`:
 * drive a trainer and print its events. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "trainer.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
  if (interrupted) {
    /* a second Ctrl-C: the user does not want to wait for the checkpoint */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  interrupted = 1;
}

static void format_time(double s, char *buf, size_t len)
{
  if (!isfinite(s) || s < 0)
    g_strlcpy(buf, "--:--", len);
  else if (s >= 3600)
    g_snprintf(buf, len, "%d:%02d:%02d", (int)s / 3600, ((int)s / 60) % 60, (int)s % 60);
  else
    g_snprintf(buf, len, "%02d:%02d", (int)s / 60, (int)s % 60);
}

static void print_metrics(const LlEvent *e)
{
  for (guint i = 0; i < e->metrics->len; i++) {
    const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
    printf("  %s %.4f", m->name, m->value);
  }
}

static void print_report(const LlEvent *e)
{
  if (!e->confusion)
    return;
  printf("\n%-16s %9s %9s %9s %8s\n", "class", "precision", "recall", "f1", "support");
  double mp = 0, mr = 0, mf = 0, wf = 0;
  int64_t total = 0;
  for (int c = 0; c < e->n_classes; c++) {
    char name[32];
    if (e->class_names && c < (int)g_strv_length(e->class_names))
      g_strlcpy(name, e->class_names[c], sizeof name);
    else
      g_snprintf(name, sizeof name, "%d", c);
    printf("%-16s %9.4f %9.4f %9.4f %8" G_GINT64_FORMAT "\n", name, e->precision[c], e->recall[c],
           e->f1[c], e->support[c]);
    mp += e->precision[c];
    mr += e->recall[c];
    mf += e->f1[c];
    wf += e->f1[c] * e->support[c];
    total += e->support[c];
  }
  printf("%-16s %9.4f %9.4f %9.4f %8" G_GINT64_FORMAT "\n", "macro avg", mp / e->n_classes,
         mr / e->n_classes, mf / e->n_classes, total);
  printf("%-16s %9s %9s %9.4f %8" G_GINT64_FORMAT "\n", "weighted avg", "", "",
         total ? wf / total : 0.0, total);
  if (e->binary) {
    /* a binary head: its 2 x 2 matrix is short enough to print, and its AUC */
    const int64_t *m = e->confusion;
    printf("confusion (row = true class): 0: %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
           "  1: %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n",
           m[0], m[1], m[2], m[3]);
    if (isfinite(e->roc_auc))
      printf("ROC AUC %.4f (class 1 positive; the report at threshold 0.5)\n", e->roc_auc);
  }
  printf("\n");
}

typedef struct {
  gboolean jsonl, quiet_batches, tty;
  int status; /* the exit status the events so far give */
} Printer;

static gboolean print_event(gpointer data, const LlEvent *e, GError **error)
{
  Printer *p = data;
  if (p->jsonl) {
    if (e->kind != LL_EVENT_BATCH || !p->quiet_batches) {
      g_autofree char *line = ll_event_to_json(e);
      printf("%s\n", line);
      fflush(stdout);
    }
  } else {
    char eta[32];
    switch (e->kind) {
    case LL_EVENT_STARTED:
      printf("%s\nrun %s: %d epochs of %d steps\n", e->message, e->run_id ? e->run_id : "-",
             e->epochs, e->steps_per_epoch);
      break;
    case LL_EVENT_BATCH:
      if (p->tty) {
        int width = 30, done = (int)(width * (double)((e->step - 1) % e->steps_per_epoch + 1) /
                                     e->steps_per_epoch);
        char bar[64];
        for (int i = 0; i < width; i++)
          bar[i] = i < done ? '#' : '.';
        bar[width] = '\0';
        format_time(e->eta, eta, sizeof eta);
        printf("\r\033[Kepoch %d/%d [%s] loss %.4f  %.0f img/s  lr %.3g  ETA %s", e->epoch,
               e->epochs, bar, e->loss, e->images_per_second, e->lr, eta);
        fflush(stdout);
      }
      break;
    case LL_EVENT_EPOCH:
      if (p->tty)
        printf("\r\033[K");
      printf("epoch %d/%d", e->epoch, e->epochs);
      print_metrics(e);
      printf("  %.0f img/s\n", e->images_per_second);
      fflush(stdout);
      break;
    case LL_EVENT_LOG: printf("%s\n", e->message); break;
    case LL_EVENT_EVAL:
      if (!e->split || !strcmp(e->split, "test")) /* not every epoch's validation report */
        print_report(e);
      break;
    case LL_EVENT_FINISHED:
      printf("finished:");
      print_metrics(e);
      printf("\ncheckpoint: %s\n", e->checkpoint ? e->checkpoint : "(none)");
      break;
    case LL_EVENT_STOPPED:
      printf("stopped; checkpoint: %s\n", e->checkpoint ? e->checkpoint : "(none)");
      break;
    case LL_EVENT_FAILED: break;
    }
  }
  if (e->kind == LL_EVENT_FAILED)
    fprintf(stderr, "layerlab: %s\n", e->message);
  if (e->kind == LL_EVENT_FAILED && e->spec_mismatch)
    p->status = 2; /* the spec is wrong, like a usage error: nothing ran */
  if (e->kind == LL_EVENT_FINISHED)
    p->status = 0;
  if (e->kind == LL_EVENT_STOPPED)
    p->status = 130;
  return TRUE;
}

/* Drains the trainer until it ends; returns the exit status. */
static int drive(LlTrainer *t, gboolean jsonl, gboolean quiet_batches)
{
  static const LlTrainerListener printer = {.event = print_event};
  Printer p = {.jsonl = jsonl,
               .quiet_batches = quiet_batches,
               .tty = isatty(STDOUT_FILENO) && !jsonl,
               .status = 1};
  gboolean stop_sent = FALSE;
  do {
    if (interrupted && !stop_sent) {
      ll_trainer_stop(t);
      stop_sent = TRUE;
      fprintf(stderr, "\nstopping: writing a checkpoint (Ctrl-C again to quit at once)\n");
    }
  } while (ll_trainer_drain(t, 100 * 1000, 100 * 1000, &printer, &p));
  ll_trainer_join(t);
  return p.status;
}

static void install_sigint(void)
{
  struct sigaction sa = {0};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

static void print_failed_json(const char *msg)
{
  LlEvent e = {.kind = LL_EVENT_FAILED, .message = (char *)msg};
  g_autofree char *line = ll_event_to_json(&e);
  printf("%s\n", line);
}

int ll_cli_train(int argc, char **argv)
{
  int epochs = 0, batch = 0, limit = 0;
  gint64 seed = -1;
  char *device = NULL, *out = NULL, *resume = NULL;
  gboolean jsonl = FALSE, batches = FALSE;
  GOptionEntry entries[] = {
      {"epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs (overrides the spec)", "N"},
      {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "Batch size (overrides the spec)", "N"},
      {"limit", 0, 0, G_OPTION_ARG_INT, &limit, "Use only the first N training and test samples",
       "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (overrides the spec)", "N"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu, ref or cuda", "DEV"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {"resume", 0, 0, G_OPTION_ARG_STRING, &resume, "Continue a run or checkpoint",
       "RUN_OR_CHECKPOINT"},
      {"jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "One JSON object per line on stdout", NULL},
      {"batch-events", 0, 0, G_OPTION_ARG_NONE, &batches, "With --jsonl, also print batch events",
       NULL},
      {NULL},
  };
  if (!ll_cli_parse("train", "SPEC", entries, &argc, &argv))
    return 2;
  if (argc != 2 || epochs < 0 || batch < 0 || limit < 0) {
    fprintf(stderr, "Usage: layerlab train SPEC [--epochs N] [--batch N] [--seed N] [--device "
                    "auto|cpu|ref|cuda] [--out DIR] [--resume RUN_OR_CHECKPOINT] [--jsonl]\n");
    return 2;
  }
  if (device && strcmp(device, "auto") && strcmp(device, "cpu") && strcmp(device, "ref") &&
      strcmp(device, "cuda") &&
      !g_str_has_prefix(device, "cuda:")) {
    fprintf(stderr, "layerlab train: --device must be auto, cpu, ref, cuda or cuda:N\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_spec_load_file(argv[1], &error);
  if (!spec) {
    if (jsonl)
      print_failed_json(error->message);
    fprintf(stderr, "layerlab train: %s\n", error->message);
    return 1;
  }
  if (limit > 0)
    spec->dataset.limit_train = spec->dataset.limit_test = (guint)limit;
  LlTrainOptions o = {.spec_path = argv[1],
                      .epochs = epochs,
                      .batch_size = batch,
                      .seed = seed,
                      .device = device,
                      .resume = resume,
                      .store_root = out};
  LlTrainer *t = ll_trainer_new(spec, &o);
  install_sigint();
  if (!ll_trainer_start(t, &error)) {
    fprintf(stderr, "layerlab train: %s\n", error->message);
    ll_trainer_free(t);
    return 1;
  }
  int status = drive(t, jsonl, !batches);
  ll_trainer_free(t);
  g_free(device);
  g_free(out);
  g_free(resume);
  return status;
}

int ll_cli_eval(int argc, char **argv)
{
  gboolean jsonl = FALSE;
  char *out = NULL, *device = NULL;
  GOptionEntry entries[] = {
      {"jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "One JSON object per line on stdout", NULL},
      {"device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu, ref or cuda", "DEV"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {NULL},
  };
  if (!ll_cli_parse("eval", "CHECKPOINT_OR_RUN", entries, &argc, &argv))
    return 2;
  if (argc != 2) {
    fprintf(stderr, "Usage: layerlab eval CHECKPOINT_OR_RUN [--jsonl]\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  if (g_str_has_suffix(argv[1], ".safetensors")) {
    path = g_strdup(argv[1]);
  } else {
    g_autoptr(LlRunStore) store = ll_run_store_open(out, &error);
    LlRunInfo *info = NULL;
    if (!store || !ll_run_store_get(store, argv[1], &info, &error)) {
      fprintf(stderr, "layerlab eval: %s\n", error->message);
      return 1;
    }
    path = g_strdup(info->checkpoint);
    if (!path)
      path = g_build_filename(info->dir, "last.safetensors", NULL);
    ll_run_info_free(info);
  }
  g_autoptr(GHashTable) meta = NULL;
  if (!ll_checkpoint_read_metadata(path, &meta, &error)) {
    fprintf(stderr, "layerlab eval: %s\n", error->message);
    return 1;
  }
  const char *spec_json = g_hash_table_lookup(meta, "spec");
  if (!spec_json) {
    fprintf(stderr, "layerlab eval: %s: has no spec in its metadata (not written by LayerLab?)\n",
            path);
    return 1;
  }
  g_autoptr(LlSpec) spec = ll_spec_load_data(spec_json, -1, path, &error);
  if (!spec) {
    fprintf(stderr, "layerlab eval: %s\n", error->message);
    return 1;
  }
  LlTrainOptions o = {
      .resume = path, .eval_only = TRUE, .seed = -1, .device = device, .store_root = out};
  LlTrainer *t = ll_trainer_new(spec, &o);
  install_sigint();
  if (!ll_trainer_start(t, &error)) {
    fprintf(stderr, "layerlab eval: %s\n", error->message);
    ll_trainer_free(t);
    return 1;
  }
  int status = drive(t, jsonl, TRUE);
  ll_trainer_free(t);
  g_free(out);
  g_free(device);
  return status;
}

int ll_cli_devices(int argc, char **argv)
{
  GOptionEntry entries[] = {{NULL}};
  if (!ll_cli_parse("devices", "", entries, &argc, &argv))
    return 2;
  g_autoptr(GPtrArray) devs = ll_devices_list();
  for (guint i = 0; i < devs->len; i++)
    printf("%s\n", (char *)devs->pdata[i]);
  g_autofree char *note = ll_devices_cuda_note();
  if (note)
    printf("(no GPU: %s)\n", note);
  return 0;
}
