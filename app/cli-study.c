/* cli-study.c: `layerlab study` and `layerlab sweep`: run a study's trials,
 * show progress, and print the results table (and a heatmap for two axes). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json-writer.h"
#include "study.h"
#ifdef LL_HAVE_PLOT
#include "study-figures.h"
#endif

static volatile int cancel_flag;

static void on_sigint(int sig)
{
  if (cancel_flag) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  cancel_flag = 1;
}

typedef struct {
  gboolean jsonl, tty;
  const LlStudy *study;
  double best;
  int best_index;
} Progress;

static char *node_text(JsonNode *n)
{
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_DOUBLE)
    return g_strdup_printf("%.4g", json_node_get_double(n));
  return ll_json_node_to_line(n);
}

static void json_line(JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *s = ll_json_node_to_line(root);
  printf("%s\n", s);
  fflush(stdout);
}

static void add_trial_members(JsonBuilder *b, const LlTrial *t, int total)
{
  json_builder_set_member_name(b, "trial");
  json_builder_add_int_value(b, t->index + 1);
  json_builder_set_member_name(b, "trials");
  json_builder_add_int_value(b, total);
  json_builder_set_member_name(b, "key");
  json_builder_add_string_value(b, t->key);
  json_builder_set_member_name(b, "stage");
  json_builder_add_string_value(b, t->stage);
  json_builder_set_member_name(b, "label");
  json_builder_add_string_value(b, t->label);
  json_builder_set_member_name(b, "values");
  JsonNode *v = json_node_init_object(json_node_alloc(), t->values);
  json_builder_add_value(b, v);
}

static void on_started(const LlTrial *t, int total, gpointer data)
{
  Progress *p = data;
  if (p->jsonl) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, "trial-started");
    add_trial_members(b, t, total);
    json_builder_end_object(b);
    json_line(b);
  } else {
    printf("trial %d/%d: %s\n", t->index + 1, total, t->label);
    fflush(stdout);
  }
}

static void on_event(const LlTrial *t, const LlEvent *e, gpointer data)
{
  Progress *p = data;
  if (p->jsonl) {
    if (e->kind != LL_EVENT_EPOCH)
      return;
    g_autofree char *line = ll_event_to_json(e);
    /* {"event":"epoch",...} becomes {"event":"trial-epoch","trial":i,...} */
    const char *rest = strchr(line, ',');
    printf("{\"event\": \"trial-epoch\", \"trial\": %d%s\n", t->index + 1, rest ? rest : "}");
    fflush(stdout);
    return;
  }
  char best[64] = "";
  if (isfinite(p->best))
    g_snprintf(best, sizeof best, "  best %s %.4f (trial %d)", ll_study_metric(p->study), p->best,
               p->best_index + 1);
  if (e->kind == LL_EVENT_BATCH && p->tty) {
    printf("\r\033[K  trial %d epoch %d/%d loss %.4f%s", t->index + 1, e->epoch, e->epochs, e->loss,
           best);
    fflush(stdout);
  } else if (e->kind == LL_EVENT_EPOCH) {
    if (p->tty)
      printf("\r\033[K");
    printf("  trial %d epoch %d/%d", t->index + 1, e->epoch, e->epochs);
    for (guint i = 0; i < e->metrics->len; i++) {
      const LlMetric *m = &g_array_index(e->metrics, LlMetric, i);
      printf(" %s %.4f", m->name, m->value);
    }
    printf("%s\n", best);
    fflush(stdout);
  } else if (e->kind == LL_EVENT_FAILED) {
    fprintf(stderr, "  trial %d failed: %s\n", t->index + 1, e->message);
  }
}

static void on_finished(const LlTrial *t, int total, gpointer data)
{
  Progress *p = data;
  const LlTrial *b = ll_study_best(p->study);
  p->best = ll_study_best_metric(p->study);
  p->best_index = b ? b->index : -1;
  if (p->jsonl) {
    g_autoptr(JsonBuilder) jb = json_builder_new();
    json_builder_begin_object(jb);
    json_builder_set_member_name(jb, "event");
    json_builder_add_string_value(jb, "trial-finished");
    add_trial_members(jb, t, total);
    json_builder_set_member_name(jb, "status");
    json_builder_add_string_value(jb, ll_trial_status_names[t->status]);
    json_builder_set_member_name(jb, "run_id");
    json_builder_add_string_value(jb, t->run_id);
    json_builder_set_member_name(jb, "params");
    json_builder_add_int_value(jb, t->params);
    json_builder_set_member_name(jb, "epochs");
    json_builder_add_int_value(jb, t->epochs);
    json_builder_set_member_name(jb, "samples");
    json_builder_add_int_value(jb, t->samples);
    json_builder_set_member_name(jb, "repeat");
    json_builder_add_int_value(jb, t->repeat);
    if (t->seed >= 0) {
      json_builder_set_member_name(jb, "seed");
      json_builder_add_int_value(jb, t->seed);
    }
    if (t->budget > 0) {
      json_builder_set_member_name(jb, "param_budget");
      json_builder_add_int_value(jb, t->budget);
    }
    json_builder_set_member_name(jb, "metric");
    if (isfinite(t->metric))
      json_builder_add_double_value(jb, t->metric);
    else
      json_builder_add_null_value(jb);
    json_builder_set_member_name(jb, "metrics");
    json_builder_add_value(jb, json_node_init_object(json_node_alloc(), t->metrics));
    json_builder_set_member_name(jb, "seconds");
    json_builder_add_double_value(jb, round(t->seconds * 1000) / 1000);
    if (t->error) {
      json_builder_set_member_name(jb, "error");
      json_builder_add_string_value(jb, t->error);
    }
    json_builder_end_object(jb);
    json_line(jb);
  } else {
    printf("trial %d/%d %s: %s", t->index + 1, total, ll_trial_status_names[t->status], t->label);
    double v = ll_study_trial_metric(p->study, t);
    if (isfinite(v))
      printf("  %s %.4f", ll_study_metric(p->study), v);
    else if (isfinite(t->metric)) /* a stage ranked by a metric of its own */
      printf("  %s %.4f", ll_study_stage_metric(p->study, t), t->metric);
    printf("  %" G_GINT64_FORMAT " params  %.1f s\n", t->params, t->seconds);
    if (t->error)
      printf("  error: %s\n", t->error);
    fflush(stdout);
  }
}

/* "[##########]  99.8 %": params against the budget, ten cells of 10 % (a
 * count over the budget shows a '+' past the bracket). */
static void budget_bar(char *buf, size_t size, gint64 params, gint64 budget)
{
  double q = (double)params / (double)budget;
  int cells = (int)lrint(MIN(q, 1.0) * 10);
  char bar[11];
  for (int k = 0; k < 10; k++)
    bar[k] = k < cells ? '#' : '.';
  bar[10] = 0;
  g_snprintf(buf, size, "[%s]%s %5.1f %%", bar, q > 1.0 ? "+" : " ", 100 * q);
}

static void print_table(const LlStudy *s)
{
  GPtrArray *trials = ll_study_trials(s);
  gboolean budgets = FALSE;
  for (guint i = 0; i < trials->len; i++)
    budgets |= ((const LlTrial *)g_ptr_array_index(trials, i))->budget > 0;
  printf("\n%-4s %-40s %10s %6s %8s %6s %12s %9s %8s%s\n", "#", "trial", "params", "epochs",
         "samples", "seed", ll_study_metric(s), "status", "seconds",
         budgets ? "  of the parameter budget" : "");
  for (guint i = 0; i < trials->len; i++) {
    const LlTrial *t = g_ptr_array_index(trials, i);
    char m[32] = "-", bar[64] = "";
    double v = ll_study_trial_metric(s, t); /* the column's metric, not a stage's own */
    if (isfinite(v))
      g_snprintf(m, sizeof m, "%.4f", v);
    if (t->budget > 0)
      budget_bar(bar, sizeof bar, t->params, t->budget);
    char seed[24] = "-";
    if (t->seed >= 0)
      g_snprintf(seed, sizeof seed, "%" G_GINT64_FORMAT, t->seed);
    printf("%-4d %-40.40s %10" G_GINT64_FORMAT " %6d %8" G_GINT64_FORMAT
           " %6s %12s %9s %8.1f  %s%s\n",
           t->index + 1, t->label, t->params, t->epochs, t->samples, seed, m,
           ll_trial_status_names[t->status], t->seconds, bar, ll_study_best(s) == t ? "  *" : "");
  }
  if (ll_study_repeats(s) < 2)
    return;
  /* repeats over seeds: a configuration per row, best mean first */
  g_autoptr(GArray) groups = ll_trial_groups(trials, ll_study_metric(s));
  ll_trial_groups_rank(groups, ll_study_maximize(s));
  printf("\n%-4s %-40s %12s %10s %6s  (over seeds)\n", "rank", "configuration",
         ll_study_metric(s), "sd", "seeds");
  for (guint i = 0; i < groups->len; i++) {
    const LlTrialGroup *g = &g_array_index(groups, LlTrialGroup, i);
    char mean[32] = "-", sd[32] = "-";
    if (g->n_finished) {
      g_snprintf(mean, sizeof mean, "%.4f", g->mean);
      g_snprintf(sd, sizeof sd, "%.4f", g->sd);
    }
    printf("%-4u %-40.40s %12s %10s %3d/%-3d\n", i + 1, g->first->label, mean, sd, g->n_finished,
           g->n);
  }
}

/* Two axes: rows = first axis, columns = second, cells = the mean metric of
 * the cell's trials (its seeds, with repeats). */
static void print_heatmap(const LlStudy *s)
{
  if (!ll_study_is_sweep(s) || ll_study_n_axes(s) != 2)
    return;
  const char *pa = ll_study_axis(s, 0)->path, *pb = ll_study_axis(s, 1)->path;
  GPtrArray *trials = ll_study_trials(s);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < trials->len; i++) {
    const LlTrial *t = g_ptr_array_index(trials, i);
    JsonNode *a = json_object_get_member(t->values, pa), *b = json_object_get_member(t->values, pb);
    if (!a || !b)
      continue;
    char *ta = node_text(a), *tb = node_text(b);
    if (!g_ptr_array_find_with_equal_func(rows, ta, g_str_equal, NULL))
      g_ptr_array_add(rows, ta);
    else
      g_free(ta);
    if (!g_ptr_array_find_with_equal_func(cols, tb, g_str_equal, NULL))
      g_ptr_array_add(cols, tb);
    else
      g_free(tb);
  }
  if (rows->len * cols->len > 400 || rows->len < 1)
    return; /* random search over continuous axes: no grid to show */
  g_autofree double *cell = g_new0(double, rows->len * cols->len);
  g_autofree int *count = g_new0(int, rows->len * cols->len);
  for (guint i = 0; i < trials->len; i++) {
    const LlTrial *t = g_ptr_array_index(trials, i);
    JsonNode *a = json_object_get_member(t->values, pa), *b = json_object_get_member(t->values, pb);
    if (!a || !b || !isfinite(t->metric))
      continue;
    g_autofree char *ta = node_text(a);
    g_autofree char *tb = node_text(b);
    guint r, c;
    g_ptr_array_find_with_equal_func(rows, ta, g_str_equal, &r);
    g_ptr_array_find_with_equal_func(cols, tb, g_str_equal, &c);
    cell[r * cols->len + c] += t->metric;
    count[r * cols->len + c]++;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < rows->len * cols->len; i++) {
    cell[i] = count[i] ? cell[i] / count[i] : NAN;
    if (count[i]) {
      lo = MIN(lo, cell[i]);
      hi = MAX(hi, cell[i]);
    }
  }
  static const char *shades[] = {" ", "\u2591", "\u2592", "\u2593", "\u2588"};
  printf("\n%s (rows: %s, columns: %s; darker is better)\n", ll_study_metric(s), pa, pb);
  printf("%14s", "");
  for (guint c = 0; c < cols->len; c++)
    printf(" %12.12s", (char *)cols->pdata[c]);
  printf("\n");
  for (guint r = 0; r < rows->len; r++) {
    printf("%14.14s", (char *)rows->pdata[r]);
    for (guint c = 0; c < cols->len; c++) {
      double v = cell[r * cols->len + c];
      if (isnan(v)) {
        printf(" %12s", "-");
        continue;
      }
      double q = hi > lo ? (v - lo) / (hi - lo) : 1.0;
      if (!ll_study_maximize(s))
        q = 1.0 - q;
      int k = (int)lrint(q * 4);
      printf(" %s%s %8.4f", shades[k], shades[k], v);
    }
    printf("\n");
  }
}

/* The study's figures into <dir>/figures/ (PNG and SVG); the paths go to
 * written. Without plot support (no cairo) there are none. */
static gboolean write_figures(const LlStudy *study, GPtrArray *written, GError **error)
{
#ifdef LL_HAVE_PLOT
  if (!ll_study_dir(study) || !ll_study_trials(study)->len)
    return TRUE;
  g_autoptr(LlStudyFigures) f = ll_study_figures_new(study);
  ll_study_figures_set_stamp(f, ll_study_id(study));
  if (!ll_study_figures_load_outputs(f, ll_study_dir(study), error))
    return FALSE;
  g_autofree char *dir = g_build_filename(ll_study_dir(study), "figures", NULL);
  return ll_study_figures_export_all(f, dir, written, error);
#else
  return TRUE;
#endif
}

/* The shared part: run, report, exit status. */
static int run_study(const char *verb, LlStudy *study, const LlStudyOptions *o, gboolean jsonl)
{
  Progress p = {.jsonl = jsonl,
                .tty = isatty(STDOUT_FILENO) && !jsonl,
                .study = study,
                .best = NAN,
                .best_index = -1};
  LlStudyCallbacks cb = {on_started, on_event, on_finished};
  struct sigaction sa = {0};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (!jsonl)
    printf("study %s: %s\n", ll_study_name(study),
           ll_study_description(study) && *ll_study_description(study) ? ll_study_description(study)
                                                                       : "");
  g_autoptr(GError) error = NULL;
  gboolean ok = ll_study_run(study, o, &cb, &p, &error);
  const LlTrial *best = ll_study_best(study);
  g_autofree char *best_spec = ll_study_best_spec_path(study);
  g_autofree char *csv =
      ll_study_dir(study) ? g_build_filename(ll_study_dir(study), "results.csv", NULL) : NULL;
  g_autoptr(GPtrArray) figures = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) fig_error = NULL;
  if (!write_figures(study, figures, &fig_error))
    fprintf(stderr, "layerlab %s: figures: %s\n", verb, fig_error->message);
  if (jsonl && ll_study_dir(study)) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, ok ? "study-finished" : "study-stopped");
    json_builder_set_member_name(b, "study_id");
    json_builder_add_string_value(b, ll_study_id(study));
    json_builder_set_member_name(b, "dir");
    json_builder_add_string_value(b, ll_study_dir(study));
    json_builder_set_member_name(b, "metric");
    json_builder_add_string_value(b, ll_study_metric(study));
    json_builder_set_member_name(b, "best");
    if (best) {
      json_builder_begin_object(b);
      json_builder_set_member_name(b, "trial");
      json_builder_add_int_value(b, best->index + 1);
      json_builder_set_member_name(b, "label");
      json_builder_add_string_value(b, best->label);
      json_builder_set_member_name(b, "run_id");
      json_builder_add_string_value(b, best->run_id);
      json_builder_set_member_name(b, "metric");
      json_builder_add_double_value(b, ll_study_best_metric(study));
      json_builder_set_member_name(b, "params");
      json_builder_add_int_value(b, best->params);
      json_builder_set_member_name(b, "values");
      json_builder_add_value(b, json_node_init_object(json_node_alloc(), best->values));
      json_builder_set_member_name(b, "spec");
      json_builder_add_string_value(b, best_spec);
      json_builder_end_object(b);
    } else {
      json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "trials");
    json_builder_add_int_value(b, ll_study_trials(study)->len);
    json_builder_set_member_name(b, "results");
    json_builder_add_string_value(b, csv);
    json_builder_set_member_name(b, "figures");
    json_builder_begin_array(b);
    for (guint i = 0; i < figures->len; i++)
      json_builder_add_string_value(b, figures->pdata[i]);
    json_builder_end_array(b);
    if (fig_error) {
      json_builder_set_member_name(b, "figures_error");
      json_builder_add_string_value(b, fig_error->message);
    }
    if (error) {
      json_builder_set_member_name(b, "error");
      json_builder_add_string_value(b, error->message);
    }
    json_builder_end_object(b);
    json_line(b);
  } else if (ll_study_dir(study)) {
    print_table(study);
    print_heatmap(study);
    LlTrialGroup bg;
    if (best && ll_study_best_group(study, &bg) && bg.n > 1)
      printf("\nbest: %s: %s %.4f \u00b1 %.4f (mean \u00b1 sd over %d seeds); its best seed: trial "
             "%d, run %s\n",
             best->label, ll_study_metric(study), bg.mean, bg.sd, bg.n_finished, best->index + 1,
             best->run_id);
    else if (best)
      printf("\nbest: trial %d (%s): %s %.4f, run %s\n", best->index + 1, best->label,
             ll_study_metric(study), ll_study_best_metric(study), best->run_id);
    if (best_spec)
      printf("best spec: %s (train it: layerlab train %s)\n", best_spec, best_spec);
    for (guint i = 0; i < figures->len; i++)
      printf("figure: %s\n", (char *)figures->pdata[i]);
    printf("study %s: %s\n", ll_study_id(study), csv);
  }
  if (!ok) {
    fprintf(stderr, "layerlab %s: %s\n", verb, error->message);
    return g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;
  }
  /* the study ran; it fails only if no trial finished */
  GPtrArray *trials = ll_study_trials(study);
  for (guint i = 0; i < trials->len; i++)
    if (((LlTrial *)trials->pdata[i])->status == LL_TRIAL_FAILED)
      return 1;
  return 0;
}

static gboolean is_study_file(const char *path, GError **error)
{
  g_autoptr(JsonParser) p = json_parser_new();
  if (!ll_json_parser_load_file(p, path, error))
    return FALSE;
  JsonNode *root = json_parser_get_root(p);
  return root && JSON_NODE_HOLDS_OBJECT(root) &&
         !g_strcmp0(
             json_object_get_string_member_with_default(json_node_get_object(root), "format", ""),
             LL_STUDY_FORMAT);
}

/* A study saved in the store, for --resume without a file. */
static LlStudy *load_saved(const char *out, const char *id, GError **error)
{
  g_autoptr(LlRunStore) store = ll_run_store_open(out, error);
  if (!store)
    return NULL;
  g_autofree char *dir = ll_study_store_dir(ll_run_store_root(store), id, error);
  if (!dir)
    return NULL;
  g_autofree char *path = g_build_filename(dir, "study.json", NULL);
  return ll_study_load_file(path, error);
}

int ll_cli_study(int argc, char **argv)
{
  char *out = NULL, *resume = NULL, *device = NULL;
  int epochs = 0, limit = 0, repeats = 0;
  gboolean jsonl = FALSE;
  GOptionEntry entries[] = {
      {"epochs", 0, 0, G_OPTION_ARG_INT, &epochs,
       "Shorten: the longest trial trains N epochs, the others in proportion (at least 1)", "N"},
      {"limit", 0, 0, G_OPTION_ARG_INT, &limit,
       "Use at most the first N training and test samples", "N"},
      {"repeats", 0, 0, G_OPTION_ARG_INT, &repeats,
       "Run every trial with K seeds (the spec's seed, +1, ...; overrides the study's)", "K"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {"resume", 0, 0, G_OPTION_ARG_STRING, &resume, "Continue a study, skipping finished trials",
       "STUDY_ID"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu, ref or cuda", "DEV"},
      {"jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "One JSON object per trial event on stdout", NULL},
      {NULL},
  };
  if (!ll_cli_parse("study", "STUDY", entries, &argc, &argv))
    return 2;
  if ((argc != 2 && !(argc == 1 && resume)) || epochs < 0 || limit < 0 || repeats < 0 ||
      repeats > LL_STUDY_MAX_REPEATS) {
    fprintf(stderr, "Usage: layerlab study STUDY [--epochs N] [--limit N] [--repeats K] [--out DIR] "
                    "[--resume STUDY_ID] [--jsonl]\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) study =
      argc == 2 ? ll_study_load_file(argv[1], &error) : load_saved(out, resume, &error);
  if (!study) {
    fprintf(stderr, "layerlab study: %s\n", error->message);
    return 1;
  }
  LlStudyOptions o = {.store_root = out,
                      .epochs = epochs,
                      .limit = limit,
                      .repeats = repeats,
                      .resume = resume,
                      .device = device,
                      .cancel = &cancel_flag};
  int status = run_study("study", study, &o, jsonl);
  g_free(out);
  g_free(resume);
  g_free(device);
  return status;
}

int ll_cli_sweep(int argc, char **argv)
{
  char *out = NULL, *resume = NULL, *device = NULL;
  char **axes = NULL, **ranges = NULL;
  int epochs = 0, limit = 0, trials = 0, repeats = 0;
  gboolean jsonl = FALSE, grid = FALSE, random = FALSE, tpe = FALSE;
  GOptionEntry entries[] = {
      {"grid", 0, 0, G_OPTION_ARG_NONE, &grid, "Every combination of the axes' values", NULL},
      {"random", 0, 0, G_OPTION_ARG_NONE, &random, "Random search", NULL},
      {"tpe", 0, 0, G_OPTION_ARG_NONE, &tpe, "Bayesian search (Tree-structured Parzen Estimator)",
       NULL},
      {"trials", 0, 0, G_OPTION_ARG_INT, &trials, "Trial budget (random, tpe; caps a grid)", "N"},
      {"axis", 0, 0, G_OPTION_ARG_STRING_ARRAY, &axes, "An axis with listed values",
       "PATH=v1,v2,..."},
      {"range", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ranges, "An axis over a range (ints: int range)",
       "PATH=lo:hi[:log]"},
      {"epochs", 0, 0, G_OPTION_ARG_INT, &epochs,
       "Shorten: the longest trial trains N epochs, the others in proportion (at least 1)", "N"},
      {"limit", 0, 0, G_OPTION_ARG_INT, &limit,
       "Use at most the first N training and test samples", "N"},
      {"repeats", 0, 0, G_OPTION_ARG_INT, &repeats,
       "Run every trial with K seeds (the spec's seed, +1, ...; overrides the study's)", "K"},
      {"out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Run store folder (default: XDG data dir)", "DIR"},
      {"resume", 0, 0, G_OPTION_ARG_STRING, &resume, "Continue a study, skipping finished trials",
       "STUDY_ID"},
      {"device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, cpu, ref or cuda", "DEV"},
      {"jsonl", 0, 0, G_OPTION_ARG_NONE, &jsonl, "One JSON object per trial event on stdout", NULL},
      {NULL},
  };
  if (!ll_cli_parse("sweep", "STUDY_OR_SPEC", entries, &argc, &argv))
    return 2;
  if ((argc != 2 && !(argc == 1 && resume)) || grid + random + tpe > 1 || trials < 0 ||
      epochs < 0 || limit < 0 || repeats < 0 || repeats > LL_STUDY_MAX_REPEATS) {
    fprintf(stderr, "Usage: layerlab sweep STUDY_OR_SPEC [--grid|--random|--tpe] [--trials N] "
                    "[--axis PATH=v1,v2,...] [--range PATH=lo:hi[:log]] [--epochs N] [--limit N] "
                    "[--repeats K] [--resume STUDY_ID] [--out DIR] [--jsonl]\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) study = NULL;
  if (argc == 1)
    study = load_saved(out, resume, &error);
  else if (is_study_file(argv[1], NULL))
    study = ll_study_load_file(argv[1], &error);
  else
    study = ll_study_new_for_spec(argv[1], &error);
  int status = 1;
  if (!study)
    goto fail;
  for (int i = 0; axes && axes[i]; i++) {
    char *eq = strchr(axes[i], '=');
    if (!eq) {
      fprintf(stderr, "layerlab sweep: --axis %s: expected PATH=v1,v2,...\n", axes[i]);
      status = 2;
      goto done;
    }
    *eq = '\0';
    if (!ll_study_add_axis_values(study, axes[i], eq + 1, &error))
      goto fail;
  }
  for (int i = 0; ranges && ranges[i]; i++) {
    char *eq = strchr(ranges[i], '=');
    if (!eq) {
      fprintf(stderr, "layerlab sweep: --range %s: expected PATH=lo:hi[:log]\n", ranges[i]);
      status = 2;
      goto done;
    }
    *eq = '\0';
    if (!ll_study_add_axis_range(study, ranges[i], eq + 1, &error))
      goto fail;
  }
  if (grid || random || tpe)
    ll_study_set_mode(study, grid ? LL_SEARCH_GRID : random ? LL_SEARCH_RANDOM : LL_SEARCH_TPE);
  if (trials)
    ll_study_set_trials(study, trials);
  {
    LlStudyOptions o = {.store_root = out,
                        .epochs = epochs,
                        .limit = limit,
                        .repeats = repeats,
                        .resume = resume,
                        .device = device,
                        .cancel = &cancel_flag};
    status = run_study("sweep", study, &o, jsonl);
  }
  goto done;
fail:
  fprintf(stderr, "layerlab sweep: %s\n", error->message);
  status = 1;
done:
  g_strfreev(axes);
  g_strfreev(ranges);
  g_free(out);
  g_free(resume);
  g_free(device);
  return status;
}
