/* study-figures.c: a study's metric-vs-axis plot (or bars per stage), heatmap,
 * small-multiple curves and detection panels, on the shared axes, ticks,
 * legend, colour ramp and export of plot-common. */
#include "study-figures.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include "json-writer.h"

const char *const ll_study_figure_names[] = {"metric", "heatmap", "curves", "detection", NULL};

/* one model's per-step outputs: out and target are (n_samples, n_steps), NAN where missing */
typedef struct {
  char *name;
  int n_samples, n_steps;
  float *out, *target;
} Outputs;

struct LlStudyFigures {
  char *name, *metric, *curve_metric, *stamp;
  gboolean maximize, sweep;
  int n_axes;
  char **paths, **names;
  gboolean *log_kind; /* the axis is sampled in log space */
  GPtrArray *trials;  /* LlTrial*, ordered by index */
  int heat_a, heat_b;
  GPtrArray *outputs; /* Outputs* */
};

/* A value an axis takes (or, for a binned axis, a range of them). */
typedef struct {
  char *text;
  double num, lo, hi; /* num: NAN when not numeric; lo..hi: a bin */
} Level;

typedef struct {
  GPtrArray *levels; /* Level* */
  gboolean numeric, log, binned;
} Levels;

static const double BEST_RGB[3] = {0.95, 0.5, 0.0};

static void outputs_free(gpointer p)
{
  Outputs *o = p;
  g_free(o->name);
  g_free(o->out);
  g_free(o->target);
  g_free(o);
}

static void level_free(gpointer p)
{
  Level *l = p;
  g_free(l->text);
  g_free(l);
}

/* "code.out_features" for graph.blocks.code.props.out_features, "optimizer.lr" for
 * training.optimizer.lr */
static char *short_path(const char *path)
{
  const char *p = path;
  if (g_str_has_prefix(p, "graph.blocks."))
    p += strlen("graph.blocks.");
  else if (g_str_has_prefix(p, "graph."))
    p += strlen("graph.");
  else if (g_str_has_prefix(p, "training."))
    p += strlen("training.");
  g_autoptr(GString) s = g_string_new(p);
  g_string_replace(s, ".props.", ".", 0);
  return g_string_free(g_steal_pointer(&s), FALSE);
}

LlStudyFigures *ll_study_figures_new(const LlStudy *s)
{
  LlStudyFigures *f = g_new0(LlStudyFigures, 1);
  f->name = g_strdup(ll_study_name(s) ? ll_study_name(s) : "study");
  f->metric = g_strdup(ll_study_metric(s));
  f->curve_metric = g_strdup(ll_study_curve_metric(s));
  f->maximize = ll_study_maximize(s);
  f->sweep = ll_study_is_sweep(s);
  f->n_axes = f->sweep ? ll_study_n_axes(s) : 0;
  f->paths = g_new0(char *, f->n_axes + 1);
  f->names = g_new0(char *, f->n_axes + 1);
  f->log_kind = g_new0(gboolean, f->n_axes + 1);
  for (int i = 0; i < f->n_axes; i++) {
    const LlAxis *a = ll_study_axis(s, i);
    f->paths[i] = g_strdup(a->path);
    f->names[i] = short_path(a->path);
    f->log_kind[i] = a->kind == LL_AXIS_LOG_UNIFORM;
  }
  f->trials = g_ptr_array_new_with_free_func((GDestroyNotify)ll_trial_free);
  f->outputs = g_ptr_array_new_with_free_func(outputs_free);
  f->heat_a = 0;
  f->heat_b = 1;
  GPtrArray *done = ll_study_trials(s);
  for (guint i = 0; done && i < done->len; i++)
    ll_study_figures_add_trial(f, done->pdata[i]);
  return f;
}

void ll_study_figures_free(LlStudyFigures *f)
{
  if (!f)
    return;
  g_free(f->name);
  g_free(f->metric);
  g_free(f->curve_metric);
  g_free(f->stamp);
  g_strfreev(f->paths);
  g_strfreev(f->names);
  g_free(f->log_kind);
  g_ptr_array_unref(f->trials);
  g_ptr_array_unref(f->outputs);
  g_free(f);
}

void ll_study_figures_add_trial(LlStudyFigures *f, const LlTrial *t)
{
  LlTrial *c = ll_trial_copy(t, f->n_axes);
  for (guint i = 0; i < f->trials->len; i++) {
    LlTrial *o = f->trials->pdata[i];
    if (o->index == t->index) {
      ll_trial_free(o);
      f->trials->pdata[i] = c;
      return;
    }
    if (o->index > t->index) {
      g_ptr_array_insert(f->trials, (int)i, c);
      return;
    }
  }
  g_ptr_array_add(f->trials, c);
}

void ll_study_figures_clear_trials(LlStudyFigures *f) { g_ptr_array_set_size(f->trials, 0); }
guint ll_study_figures_n_trials(const LlStudyFigures *f) { return f->trials->len; }

void ll_study_figures_set_stamp(LlStudyFigures *f, const char *study_id)
{
  g_free(f->stamp);
  f->stamp = g_strdup(study_id);
}

void ll_study_figures_set_heatmap_axes(LlStudyFigures *f, int a, int b)
{
  f->heat_a = a;
  f->heat_b = b;
}

int ll_study_figures_n_axes(const LlStudyFigures *f) { return f->n_axes; }

const char *ll_study_figures_axis_name(const LlStudyFigures *f, int i)
{
  return i >= 0 && i < f->n_axes ? f->names[i] : NULL;
}

/* ---- reading the exported outputs -------------------------------------------------- */

static gboolean read_outputs(const char *path, Outputs **out, GError **error)
{
  g_autofree char *text = NULL;
  *out = NULL;
  if (!g_file_get_contents(path, &text, NULL, error))
    return FALSE;
  if (!g_str_has_prefix(text, "sample,step,target,output"))
    return TRUE; /* another CSV (results.csv): not ours */
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  int ns = 0, nt = 0;
  g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(double) * 4);
  for (int i = 1; lines[i]; i++) {
    g_strstrip(lines[i]);
    if (!*lines[i])
      continue;
    double r[4];
    char *p = lines[i], *end;
    for (int k = 0; k < 4; k++) {
      r[k] = g_ascii_strtod(p, &end);
      if (end == p || (k < 3 && *end != ',') || (k == 3 && *end)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: line %d: expected sample,step,target,output numbers", path, i + 1);
        return FALSE;
      }
      p = end + 1;
    }
    if (r[0] < 0 || r[1] < 0 || r[0] > 1e6 || r[1] > 1e6) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: line %d: bad sample or step", path,
                  i + 1);
      return FALSE;
    }
    ns = MAX(ns, (int)r[0] + 1);
    nt = MAX(nt, (int)r[1] + 1);
    g_array_append_val(rows, r);
  }
  if (!rows->len || (gint64)ns * nt > 50000000) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no rows", path);
    return FALSE;
  }
  Outputs *o = g_new0(Outputs, 1);
  g_autofree char *base = g_path_get_basename(path);
  *strrchr(base, '.') = '\0';
  o->name = g_strdup(g_str_has_prefix(base, "detection-") ? base + strlen("detection-") : base);
  o->n_samples = ns;
  o->n_steps = nt;
  o->out = g_new(float, (gsize)ns *nt);
  o->target = g_new(float, (gsize)ns *nt);
  for (gsize i = 0; i < (gsize)ns * nt; i++)
    o->out[i] = o->target[i] = NAN;
  for (guint i = 0; i < rows->len; i++) {
    const double *r = (const double *)(gpointer)rows->data + (gsize)i * 4;
    gsize k = (gsize)r[0] * nt + (gsize)r[1];
    o->target[k] = (float)r[2];
    o->out[k] = (float)r[3];
  }
  *out = o;
  return TRUE;
}

static int name_cmp(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the order of the stages the files are named after (lstm before conv) */
static int stage_rank(LlStudyFigures *f, const char *name)
{
  for (guint i = 0; i < f->trials->len; i++)
    if (!g_strcmp0(((LlTrial *)f->trials->pdata[i])->stage, name))
      return (int)i;
  return G_MAXINT;
}

gboolean ll_study_figures_load_outputs(LlStudyFigures *f, const char *dir, GError **error)
{
  g_ptr_array_set_size(f->outputs, 0);
  g_autoptr(GDir) d = g_dir_open(dir, 0, error);
  if (!d)
    return FALSE;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)))
    if (g_str_has_suffix(n, ".csv") && strcmp(n, "results.csv"))
      g_ptr_array_add(names, g_strdup(n));
  g_ptr_array_sort(names, name_cmp);
  gboolean ok = TRUE;
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dir, (char *)names->pdata[i], NULL);
    Outputs *o;
    g_autoptr(GError) e = NULL;
    if (!read_outputs(path, &o, &e)) {
      if (ok)
        g_propagate_error(error, g_steal_pointer(&e));
      ok = FALSE;
    } else if (o) {
      /* insert by stage order */
      guint at = f->outputs->len;
      for (guint k = 0; k < f->outputs->len; k++)
        if (stage_rank(f, ((Outputs *)f->outputs->pdata[k])->name) > stage_rank(f, o->name)) {
          at = k;
          break;
        }
      g_ptr_array_insert(f->outputs, (int)at, o);
    }
  }
  return ok;
}

/* ---- trial values ------------------------------------------------------------------------ */

/* The study's metric for t; NAN when it has none (failed, or a stage ranked by another metric). */
static double trial_metric(const LlStudyFigures *f, const LlTrial *t)
{
  if (t->status == LL_TRIAL_FAILED || t->status == LL_TRIAL_PENDING)
    return NAN;
  if (f->sweep)
    return t->metric;
  JsonNode *n = t->metrics ? json_object_get_member(t->metrics, f->metric) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) != G_TYPE_STRING
             ? json_node_get_double(n)
             : NAN;
}

static gboolean better(const LlStudyFigures *f, double v, double best)
{
  if (!isfinite(v))
    return FALSE;
  return !isfinite(best) || (f->maximize ? v > best : v < best);
}

/* The trials grouped by configuration (repeats over seeds), with the mean
 * and spread of the figure's metric, in the order of their first trial. */
static GArray *trial_groups(const LlStudyFigures *f)
{
  return ll_trial_groups(f->trials, f->sweep ? NULL : f->metric);
}

/* Whether any configuration ran with more than one seed. */
static gboolean has_repeats(GArray *groups)
{
  for (guint i = 0; i < groups->len; i++)
    if (g_array_index(groups, LlTrialGroup, i).n > 1)
      return TRUE;
  return FALSE;
}

/* The index (into f->trials) of the best finished trial, or -1: of the
 * configuration with the best mean over its seeds, its best seed. */
static int best_trial(const LlStudyFigures *f)
{
  g_autoptr(GArray) groups = trial_groups(f);
  ll_trial_groups_rank(groups, f->maximize);
  if (!groups->len || !g_array_index(groups, LlTrialGroup, 0).n_finished)
    return -1;
  const LlTrial *first = g_array_index(groups, LlTrialGroup, 0).first;
  int best = -1;
  double bv = NAN;
  for (guint i = 0; i < f->trials->len; i++) {
    const LlTrial *t = f->trials->pdata[i];
    double v = trial_metric(f, t);
    if (t->status == LL_TRIAL_FINISHED && ll_trial_same_group(t, first) && better(f, v, bv)) {
      bv = v;
      best = (int)i;
    }
  }
  return best;
}

/* A vertical bar from lo to hi at x with caps (mean +- sd). */
static void error_bar(cairo_t *cr, double x, double lo, double hi, double cap)
{
  ll_plot_ink(cr, LL_INK_TEXT, 0.9);
  cairo_set_line_width(cr, 1.4);
  cairo_move_to(cr, x, lo);
  cairo_line_to(cr, x, hi);
  cairo_move_to(cr, x - cap, lo);
  cairo_line_to(cr, x + cap, lo);
  cairo_move_to(cr, x - cap, hi);
  cairo_line_to(cr, x + cap, hi);
  cairo_stroke(cr);
}

/* Axis `axis`'s value in t: its number (NAN if not numeric) and text. */
static gboolean axis_value(const LlStudyFigures *f, const LlTrial *t, int axis, double *num,
                           char **text)
{
  JsonNode *n = t->values ? json_object_get_member(t->values, f->paths[axis]) : NULL;
  if (!n)
    return FALSE;
  *num = NAN;
  if (JSON_NODE_HOLDS_VALUE(n)) {
    GType ty = json_node_get_value_type(n);
    if (ty == G_TYPE_INT64 || ty == G_TYPE_DOUBLE) {
      *num = json_node_get_double(n);
      *text = g_strdup_printf("%.4g", *num);
      return TRUE;
    }
    if (ty == G_TYPE_STRING) {
      *text = g_strdup(json_node_get_string(n));
      return TRUE;
    }
  }
  *text = ll_json_node_to_line(n);
  return TRUE;
}

static int level_cmp(gconstpointer a, gconstpointer b)
{
  const Level *x = *(Level *const *)a, *y = *(Level *const *)b;
  return (x->num > y->num) - (x->num < y->num);
}

/* The levels axis takes over the trials; numeric axes with more than
 * max_levels distinct values (random search) are cut into bins. */
static Levels levels_of(const LlStudyFigures *f, int axis, int max_levels)
{
  Levels L = {g_ptr_array_new_with_free_func(level_free), TRUE, FALSE, FALSE};
  double lo = INFINITY, hi = -INFINITY;
  for (guint i = 0; i < f->trials->len; i++) {
    double v;
    char *text;
    if (!axis_value(f, f->trials->pdata[i], axis, &v, &text))
      continue;
    gboolean seen = FALSE;
    for (guint k = 0; k < L.levels->len && !seen; k++)
      seen = !strcmp(((Level *)L.levels->pdata[k])->text, text);
    if (seen) {
      g_free(text);
      continue;
    }
    Level *l = g_new0(Level, 1);
    l->text = text;
    l->num = l->lo = l->hi = v;
    g_ptr_array_add(L.levels, l);
    if (isnan(v))
      L.numeric = FALSE;
    else {
      lo = MIN(lo, v);
      hi = MAX(hi, v);
    }
  }
  if (!L.levels->len)
    L.numeric = FALSE;
  if (!L.numeric)
    return L;
  g_ptr_array_sort(L.levels, level_cmp);
  /* log: a log-uniform axis, two decades or more, or a doubling (or
   * faster-growing) series like bottleneck sizes 2, 4, ..., 128 */
  gboolean geometric = L.levels->len >= 4 && lo > 0 && hi / lo >= 16;
  for (guint k = 1; geometric && k < L.levels->len; k++)
    geometric = ((Level *)L.levels->pdata[k])->num >= 1.5 * ((Level *)L.levels->pdata[k - 1])->num;
  L.log = lo > 0 && (f->log_kind[axis] || hi / lo >= 100 || geometric);
  if ((int)L.levels->len <= max_levels)
    return L;
  /* bins of equal width (in log space for a log axis) */
  g_ptr_array_set_size(L.levels, 0);
  L.binned = TRUE;
  int nb = MAX(2, max_levels * 2 / 3);
  double a = L.log ? log10(lo) : lo, b = L.log ? log10(hi) : hi;
  for (int k = 0; k < nb; k++) {
    Level *l = g_new0(Level, 1);
    double x0 = a + (b - a) * k / nb, x1 = a + (b - a) * (k + 1) / nb;
    l->lo = L.log ? pow(10, x0) : x0;
    l->hi = L.log ? pow(10, x1) : x1;
    l->num = L.log ? sqrt(l->lo * l->hi) : (l->lo + l->hi) / 2;
    char t0[32], t1[32];
    g_snprintf(t0, sizeof t0, "%.2g", l->lo);
    g_snprintf(t1, sizeof t1, "%.2g", l->hi);
    l->text = g_strdup_printf("%s\u2013%s", t0, t1);
    g_ptr_array_add(L.levels, l);
  }
  return L;
}

/* Which level t falls in, or -1. */
static int level_index(const LlStudyFigures *f, const Levels *L, const LlTrial *t, int axis)
{
  double v;
  g_autofree char *text = NULL;
  if (!axis_value(f, t, axis, &v, &text))
    return -1;
  for (guint k = 0; k < L->levels->len; k++) {
    const Level *l = L->levels->pdata[k];
    if (L->binned ? (v >= l->lo && (v < l->hi || k + 1 == L->levels->len)) : !strcmp(l->text, text))
      return (int)k;
  }
  return -1;
}

static void levels_clear(Levels *L) { g_clear_pointer(&L->levels, g_ptr_array_unref); }

/* ---- shared drawing bits -----------------------------------------------------------------------
 */

static void background(cairo_t *cr, double w, double h)
{
  ll_plot_ink(cr, LL_INK_BG, 1);
  cairo_rectangle(cr, 0, 0, w, h);
  cairo_fill(cr);
}

static void message(cairo_t *cr, PangoLayout *l, double w, double h, const char *text)
{
  ll_plot_ink(cr, LL_INK_MUTED, 1);
  pango_layout_set_width(l, (int)(MAX(w - 40, 50) * PANGO_SCALE));
  pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
  pango_layout_set_wrap(l, PANGO_WRAP_WORD);
  ll_plot_text(cr, l, w / 2, h / 2, text, 0.5, 0.5);
  pango_layout_set_width(l, -1);
}

/* The y range of a metric over values (padded; log when positive over two decades). */
static void metric_range(const double *v, int n, LlPlotAxes *ax, gboolean from_zero)
{
  double lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; i++)
    if (isfinite(v[i])) {
      lo = MIN(lo, v[i]);
      hi = MAX(hi, v[i]);
    }
  if (!isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  ax->log_y = !from_zero && lo > 0 && hi / lo >= 100;
  if (ax->log_y) {
    lo = log10(lo);
    hi = log10(hi);
  }
  if (from_zero) {
    lo = MIN(lo, 0);
    hi = MAX(hi, 0);
  }
  double pad = hi > lo ? (hi - lo) * 0.08 : MAX(fabs(hi) * 0.05, 0.01);
  ax->y0 = from_zero && lo == 0 ? 0 : lo - pad;
  ax->y1 = hi + pad;
}

/* Strokes the line through (x0 + i, y[i]) for i < n, y from yd (double) or
 * yf (float), broken where a value is not finite (a failed epoch). */
static void polyline(cairo_t *cr, const LlPlotAxes *ax, const LlPlotRect *a, double x0,
                     const double *yd, const float *yf, int n)
{
  gboolean pen = FALSE;
  for (int i = 0; i < n; i++) {
    double v = yd ? yd[i] : yf[i];
    if (!isfinite(v)) {
      pen = FALSE;
      continue;
    }
    double x = ll_plot_map_x(ax, a, x0 + i), y = ll_plot_map_y(ax, a, v);
    if (pen)
      cairo_line_to(cr, x, y);
    else
      cairo_move_to(cr, x, y);
    pen = TRUE;
  }
  cairo_stroke(cr);
}

static void marker(cairo_t *cr, double x, double y, double r, const double rgb[3], gboolean hollow)
{
  cairo_new_sub_path(cr);
  cairo_arc(cr, x, y, r, 0, 2 * G_PI);
  if (hollow) {
    ll_plot_ink(cr, LL_INK_BG, 1);
    cairo_fill_preserve(cr);
    cairo_set_line_width(cr, 1.5);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_stroke(cr);
  } else {
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_fill(cr);
  }
}

/* The figure's title in bold, ellipsized to the width, and a grey line under it. */
static void fig_title(cairo_t *cr, PangoLayout *l, double width, const char *title,
                      const char *subtitle)
{
  pango_layout_set_width(l, (int)(MAX(width - 20, 40) * PANGO_SCALE));
  pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
  ll_plot_title(cr, l, 10, 6, title);
  if (subtitle) {
    PangoLayout *sl = ll_plot_layout(cr, 7);
    pango_layout_set_width(sl, (int)(MAX(width - 20, 40) * PANGO_SCALE));
    pango_layout_set_ellipsize(sl, PANGO_ELLIPSIZE_END);
    ll_plot_ink(cr, LL_INK_MUTED, 1);
    ll_plot_text(cr, sl, 10, 21, subtitle, 0.0, 0.0);
    g_object_unref(sl);
  }
  pango_layout_set_width(l, -1);
  pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_NONE);
}

static const char *direction_word(const LlStudyFigures *f)
{
  return f->maximize ? "higher is better" : "lower is better";
}

/* ---- metric against each axis (sweeps) ----------------------------------------------------- */

enum { M_TOP = 40, M_LEFT = 62, M_RIGHT = 14, M_BOTTOM = 40, M_PANEL_TOP = 22 };

/* panels per row: at most three, each at least 260 px wide */
static int metric_cols(int n, double width)
{
  int cols = n <= 2 ? MAX(n, 1) : n == 4 ? 2 : 3;
  return CLAMP((int)(width / 260), 1, cols);
}

static void metric_panel(const LlStudyFigures *f, double width, double height, int axis,
                         LlPlotRect *area)
{
  int n = MAX(f->n_axes, 1), cols = metric_cols(n, width), rows = (n + cols - 1) / cols;
  double pw = (width - 8) / cols, ph = (height - M_TOP) / rows;
  int c = axis % cols, r = axis / cols;
  *area = (LlPlotRect){4 + c * pw + M_LEFT, M_TOP + r * ph + M_PANEL_TOP,
                       MAX(pw - M_LEFT - M_RIGHT, 20), MAX(ph - M_PANEL_TOP - M_BOTTOM, 20)};
}

/* The axes of panel axis: x from its levels (numeric, log or categorical), y from every metric. */
static void metric_axes(const LlStudyFigures *f, int axis, const Levels *L, LlPlotAxes *ax,
                        double *ticks /* 12 */)
{
  int n = (int)f->trials->len;
  g_autofree double *v = g_new(double, MAX(n, 1));
  for (int i = 0; i < n; i++) {
    const LlTrial *t = f->trials->pdata[i];
    v[i] =
        t->status == LL_TRIAL_FINISHED || t->status == LL_TRIAL_PRUNED ? trial_metric(f, t) : NAN;
  }
  *ax = (LlPlotAxes){0};
  metric_range(v, n, ax, FALSE);
  /* the trials choose the scale; the range also holds each mean +- sd over seeds */
  g_autoptr(GArray) groups = trial_groups(f);
  double ypad = (ax->y1 - ax->y0) * 0.04;
  for (guint g = 0; g < groups->len; g++) {
    const LlTrialGroup *G = &g_array_index(groups, LlTrialGroup, g);
    double ends[2] = {G->mean - G->sd, G->mean + G->sd};
    for (int k = 0; G->n_finished > 1 && k < 2; k++) {
      if (ax->log_y && ends[k] <= 0)
        continue;
      double e = ax->log_y ? log10(ends[k]) : ends[k];
      ax->y0 = MIN(ax->y0, e - ypad);
      ax->y1 = MAX(ax->y1, e + ypad);
    }
  }
  ax->y_label = f->metric;
  ax->x_label = f->names[axis];
  int nl = (int)L->levels->len;
  if (L->numeric && nl > 0) {
    double lo = ((Level *)L->levels->pdata[0])->num, hi = ((Level *)L->levels->pdata[nl - 1])->num;
    ax->log_x = L->log;
    if (L->log) {
      lo = log10(lo);
      hi = log10(hi);
    }
    double pad = hi > lo ? (hi - lo) * 0.06 : (L->log ? 0.5 : MAX(fabs(lo) * 0.1, 0.5));
    ax->x0 = lo - pad;
    ax->x1 = hi + pad;
    if (L->log && nl <= 12) { /* a tick at each value the axis takes */
      for (int k = 0; k < nl; k++)
        ticks[k] = ((Level *)L->levels->pdata[k])->num;
      ax->x_ticks = ticks;
      ax->n_x_ticks = nl;
    }
  } else {
    ax->x0 = -0.5;
    ax->x1 = MAX(nl, 1) - 0.5;
  }
}

static double level_x(const Levels *L, const LlStudyFigures *f, const LlTrial *t, int axis)
{
  double v;
  g_autofree char *text = NULL;
  if (!axis_value(f, t, axis, &v, &text))
    return NAN;
  if (L->numeric)
    return v;
  int k = level_index(f, L, t, axis);
  return k < 0 ? NAN : k;
}

static gboolean plotted(const LlStudyFigures *f, const LlTrial *t)
{
  return (t->status == LL_TRIAL_FINISHED || t->status == LL_TRIAL_PRUNED) &&
         isfinite(trial_metric(f, t));
}

int ll_study_figures_metric_points(LlStudyFigures *f, int axis)
{
  int n = 0;
  for (guint i = 0; i < f->trials->len; i++) {
    const LlTrial *t = f->trials->pdata[i];
    double v;
    g_autofree char *text = NULL;
    if (plotted(f, t) && (!f->sweep || f->n_axes == 0 || axis_value(f, t, axis, &v, &text)))
      n++;
  }
  return n;
}

static void draw_metric_panel(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width,
                              double height, int axis)
{
  LlPlotRect a;
  metric_panel(f, width, height, axis, &a);
  Levels L = levels_of(f, axis, 1000);
  LlPlotAxes ax;
  double ticks[12];
  metric_axes(f, axis, &L, &ax, ticks);
  g_autofree const char **cats = NULL;
  if (!L.numeric) {
    cats = g_new0(const char *, L.levels->len + 1);
    for (guint k = 0; k < L.levels->len; k++)
      cats[k] = ((Level *)L.levels->pdata[k])->text;
    ax.x_categories = cats;
    ax.n_x_categories = (int)L.levels->len;
  }
  ll_plot_draw_axes(cr, l, &a, &ax);
  /* with two axes, a line per value of the other one */
  int other = f->n_axes == 2 ? 1 - axis : -1;
  Levels O = {0};
  if (other >= 0) {
    O = levels_of(f, other, 1000);
    if (O.levels->len > 10 || O.levels->len < 2) {
      levels_clear(&O);
      other = -1;
    }
  }
  int n_series = other >= 0 ? (int)O.levels->len : 1;
  gboolean lines = f->n_axes <= 2;
  g_autoptr(GArray) groups = trial_groups(f);
  gboolean spread = has_repeats(groups);
  cairo_save(cr);
  cairo_rectangle(cr, a.x, a.y, a.w, a.h);
  cairo_clip(cr);
  int best = best_trial(f);
  for (int s = 0; s < n_series; s++) {
    double rgb[3];
    ll_plot_class_color(s, rgb);
    /* seeds of several series at one x: each series a little to its side */
    double dodge = spread && n_series > 1 ? (s - (n_series - 1) / 2.0) * MIN(10, a.w / 40) : 0;
    /* the series' points in x order (trials are few: insertion into a sorted array) */
    g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(double) * 3);
    for (guint i = 0; i < f->trials->len; i++) {
      const LlTrial *t = f->trials->pdata[i];
      if (!plotted(f, t) || (other >= 0 && level_index(f, &O, t, other) != s))
        continue;
      double p[3] = {level_x(&L, f, t, axis), trial_metric(f, t), i};
      if (isnan(p[0]))
        continue;
      guint at = pts->len;
      while (at > 0 && ((double *)pts->data)[(at - 1) * 3] > p[0])
        at--;
      g_array_insert_val(pts, at, p);
    }
    const double *P = (const double *)pts->data;
    if (lines && pts->len > 1) {
      /* through the mean at each x (repeats of a value) */
      cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.8);
      cairo_set_line_width(cr, 1.6);
      for (guint i = 0; i < pts->len;) {
        double sum = 0;
        guint j = i;
        for (; j < pts->len && P[j * 3] == P[i * 3]; j++)
          sum += P[j * 3 + 1];
        double x = ll_plot_map_x(&ax, &a, P[i * 3]) + dodge,
               y = ll_plot_map_y(&ax, &a, sum / (j - i));
        if (i == 0)
          cairo_move_to(cr, x, y);
        else
          cairo_line_to(cr, x, y);
        i = j;
      }
      cairo_stroke(cr);
    }
    /* a configuration run over several seeds: its mean +- sd */
    for (guint g = 0; g < groups->len; g++) {
      const LlTrialGroup *G = &g_array_index(groups, LlTrialGroup, g);
      if (G->n_finished < 2 || (other >= 0 && level_index(f, &O, G->first, other) != s))
        continue;
      double gx = level_x(&L, f, G->first, axis);
      if (isnan(gx))
        continue;
      double x = ll_plot_map_x(&ax, &a, gx) + dodge;
      error_bar(cr, x, ll_plot_map_y(&ax, &a, G->mean - G->sd),
                ll_plot_map_y(&ax, &a, G->mean + G->sd), 5);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle(cr, x - 7, ll_plot_map_y(&ax, &a, G->mean) - 1.5, 14, 3);
      cairo_fill(cr);
    }
    for (guint i = 0; i < pts->len; i++) {
      const LlTrial *t = f->trials->pdata[(guint)P[i * 3 + 2]];
      double x = ll_plot_map_x(&ax, &a, P[i * 3]) + dodge,
             y = ll_plot_map_y(&ax, &a, P[i * 3 + 1]);
      marker(cr, x, y, 3.5, rgb, t->status == LL_TRIAL_PRUNED);
      if ((int)P[i * 3 + 2] == best) {
        cairo_set_source_rgb(cr, BEST_RGB[0], BEST_RGB[1], BEST_RGB[2]);
        cairo_set_line_width(cr, 2);
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, 7, 0, 2 * G_PI);
        cairo_stroke(cr);
      }
    }
  }
  cairo_restore(cr);
  /* the panel's key: series by the other axis, then the markers */
  GArray *keys = g_array_new(FALSE, TRUE, sizeof(LlLegendEntry));
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (int s = 0; other >= 0 && s < n_series; s++) {
    LlLegendEntry e = {0};
    char *nm = g_strdup_printf("%s=%s", f->names[other], ((Level *)O.levels->pdata[s])->text);
    g_ptr_array_add(names, nm);
    e.name = nm;
    ll_plot_class_color(s, e.rgb);
    g_array_append_val(keys, e);
  }
  if (keys->len)
    ll_plot_legend(cr, l, (LlLegendEntry *)keys->data, (int)keys->len, a.x + a.w, a.y - 17, TRUE);
  g_array_unref(keys);
  if (other >= 0)
    levels_clear(&O);
  levels_clear(&L);
}

/* Bars: a configuration each (its trial, or the mean over its seeds with
 * every seed as a dot and +- sd), coloured by stage (a staged study, or a
 * sweep without axes). */
static void bar_layout(GArray *groups, PangoLayout *l, double width, double height, LlPlotRect *a,
                       gboolean *rotate)
{
  int maxw = 0, th = 0;
  for (guint i = 0; i < groups->len; i++) {
    int tw;
    ll_plot_text_size(l, g_array_index(groups, LlTrialGroup, i).first->label, &tw, &th);
    maxw = MAX(maxw, tw);
  }
  int n = MAX((int)groups->len, 1);
  double aw = width - M_LEFT - M_RIGHT - 8;
  *rotate = maxw > aw / n - 6;
  double bottom = *rotate ? MIN(maxw * 0.6 + th + 14, height * 0.4) : th + 30;
  *a = (LlPlotRect){M_LEFT + 4, M_TOP + 22, aw, MAX(height - M_TOP - 22 - bottom, 20)};
}

static void draw_bars(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width, double height)
{
  g_autoptr(GArray) groups = trial_groups(f);
  int n = (int)groups->len;
  LlPlotRect a;
  gboolean rotate;
  bar_layout(groups, l, width, height, &a, &rotate);
  /* the range holds every seed and every mean +- sd */
  g_autofree double *v = g_new(double, MAX(n, 1));
  g_autofree double *all = g_new(double, f->trials->len + 2 * (guint)n + 1);
  int n_all = 0;
  for (guint i = 0; i < f->trials->len; i++)
    all[n_all++] = trial_metric(f, f->trials->pdata[i]);
  for (int i = 0; i < n; i++) {
    const LlTrialGroup *G = &g_array_index(groups, LlTrialGroup, i);
    v[i] = G->n_finished ? G->mean : trial_metric(f, G->first);
    if (G->n_finished > 1) {
      all[n_all++] = G->mean - G->sd;
      all[n_all++] = G->mean + G->sd;
    }
  }
  LlPlotAxes ax = {0};
  metric_range(all, n_all, &ax, TRUE);
  ax.x0 = -0.6;
  ax.x1 = n - 0.4;
  ax.y_label = f->metric;
  g_autofree const char **blank = g_new0(const char *, n + 1);
  for (int i = 0; i < n; i++)
    blank[i] = "";
  ax.x_categories = blank;
  ax.n_x_categories = n;
  ll_plot_draw_axes(cr, l, &a, &ax);
  /* stages in order of appearance, a colour each */
  g_autoptr(GPtrArray) stages = g_ptr_array_new();
  int best = best_trial(f);
  char buf[48];
  const LlTrial *best_t = best >= 0 ? f->trials->pdata[best] : NULL;
  for (int i = 0; i < n; i++) {
    const LlTrialGroup *G = &g_array_index(groups, LlTrialGroup, i);
    const LlTrial *t = G->first;
    guint si;
    if (!g_ptr_array_find_with_equal_func(stages, t->stage, g_str_equal, &si)) {
      si = stages->len;
      g_ptr_array_add(stages, t->stage ? t->stage : "");
    }
    double rgb[3];
    ll_plot_class_color((int)si, rgb);
    double x0 = ll_plot_map_x(&ax, &a, i - 0.35), x1 = ll_plot_map_x(&ax, &a, i + 0.35);
    double yz = ll_plot_map_y(&ax, &a, ax.log_y ? pow(10, ax.y0) : MAX(ax.y0, 0));
    if (isfinite(v[i])) {
      double y = ll_plot_map_y(&ax, &a, v[i]);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle(cr, x0, MIN(y, yz), x1 - x0, fabs(yz - y));
      cairo_fill(cr);
      if (best_t && ll_trial_same_group(t, best_t)) {
        cairo_set_source_rgb(cr, BEST_RGB[0], BEST_RGB[1], BEST_RGB[2]);
        cairo_set_line_width(cr, 2.5);
        cairo_rectangle(cr, x0 - 1, MIN(y, yz) - 1, x1 - x0 + 2, fabs(yz - y) + 2);
        cairo_stroke(cr);
      }
      if (G->n == 1 && t->status == LL_TRIAL_PRUNED) {
        ll_plot_ink(cr, LL_INK_BG, 0.5);
        cairo_rectangle(cr, x0, MIN(y, yz), x1 - x0, fabs(yz - y));
        cairo_fill(cr);
      }
      double top = MIN(y, yz);
      if (G->n_finished > 1) {
        /* every seed a dot, spread across the bar; the mean +- sd */
        int k = 0;
        for (guint j = 0; j < f->trials->len; j++) {
          const LlTrial *r = f->trials->pdata[j];
          double rv = trial_metric(f, r);
          if (!ll_trial_same_group(r, t) || !isfinite(rv))
            continue;
          double dx = x0 + (x1 - x0) * (k + 1) / (G->n_finished + 1.0);
          double dark[3] = {rgb[0] * 0.55, rgb[1] * 0.55, rgb[2] * 0.55};
          marker(cr, dx, ll_plot_map_y(&ax, &a, rv), 3, dark, FALSE);
          k++;
        }
        double hi = ll_plot_map_y(&ax, &a, G->mean + G->sd);
        error_bar(cr, (x0 + x1) / 2, ll_plot_map_y(&ax, &a, G->mean - G->sd), hi, 6);
        top = MIN(top, hi);
        g_snprintf(buf, sizeof buf, "%.4g \u00b1 %.2g (%d seeds)", v[i], G->sd, G->n_finished);
      } else {
        g_snprintf(buf, sizeof buf, "%.4g%s", v[i],
                   t->status == LL_TRIAL_PRUNED ? " (pruned)" : "");
      }
      ll_plot_ink(cr, LL_INK_TEXT, 1);
      ll_plot_text(cr, l, (x0 + x1) / 2, top - 2, buf, 0.5, 1.0);
    } else {
      /* no value: a hatched stub saying why */
      cairo_save(cr);
      cairo_rectangle(cr, x0, a.y + a.h - 18, x1 - x0, 18);
      cairo_clip(cr);
      ll_plot_ink(cr, LL_INK_GRID, 1);
      cairo_set_line_width(cr, 1);
      for (double d = -20; d < x1 - x0 + 20; d += 5) {
        cairo_move_to(cr, x0 + d, a.y + a.h);
        cairo_line_to(cr, x0 + d + 18, a.y + a.h - 18);
      }
      cairo_stroke(cr);
      cairo_restore(cr);
      cairo_set_source_rgb(cr, t->status == LL_TRIAL_FAILED ? 0.75 : 0.4,
                           t->status == LL_TRIAL_FAILED ? 0.1 : 0.4, 0.1);
      if (t->status == LL_TRIAL_FAILED)
        g_snprintf(buf, sizeof buf, "failed");
      else /* a stage ranked by another metric (an autoencoder's loss) */
        g_snprintf(buf, sizeof buf, "no %s", f->metric);
      ll_plot_text(cr, l, (x0 + x1) / 2, a.y + a.h - 20, buf, 0.5, 1.0);
    }
    /* the trial's label under its bar */
    double cx = (x0 + x1) / 2;
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    if (!rotate) {
      ll_plot_text(cr, l, cx, a.y + a.h + 5, t->label, 0.5, 0.0);
    } else {
      int tw, th;
      ll_plot_text_size(l, t->label, &tw, &th);
      cairo_save(cr);
      cairo_translate(cr, cx, a.y + a.h + 5);
      cairo_rotate(cr, -G_PI / 6);
      cairo_move_to(cr, -tw, -th / 2.0);
      pango_cairo_update_layout(cr, l);
      pango_cairo_show_layout(cr, l);
      cairo_restore(cr);
      pango_cairo_update_layout(cr, l);
    }
  }
  g_autofree LlLegendEntry *keys = g_new0(LlLegendEntry, MAX(stages->len, 1));
  for (guint s = 0; s < stages->len; s++) {
    keys[s].name = stages->pdata[s];
    ll_plot_class_color((int)s, keys[s].rgb);
  }
  if (stages->len > 1)
    ll_plot_legend(cr, l, keys, (int)stages->len, a.x + a.w, a.y - 18, TRUE);
}

static void draw_metric(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width, double height)
{
  gboolean axes = f->sweep && f->n_axes > 0;
  g_autofree char *title = axes ? g_strdup_printf("%s: %s against %s", f->name, f->metric,
                                                  f->n_axes == 1 ? f->names[0] : "each axis")
                                : g_strdup_printf("%s: %s per trial, by stage", f->name, f->metric);
  g_autoptr(GArray) groups = trial_groups(f);
  const char *spread = has_repeats(groups) ? " \u00b7 dots: each seed, bar: mean \u00b1 sd" : "";
  g_autofree char *sub =
      axes ? g_strdup_printf("%s \u00b7 ring: the best trial \u00b7 hollow: pruned%s%s",
                             direction_word(f),
                             f->n_axes == 2 ? " \u00b7 a line per value of the other axis" : "",
                             spread)
           : g_strdup_printf("%s \u00b7 outlined: the best %s%s", direction_word(f),
                             has_repeats(groups) ? "mean" : "trial", spread);
  fig_title(cr, l, width, title, sub);
  if (f->sweep && f->n_axes > 0)
    for (int i = 0; i < f->n_axes; i++)
      draw_metric_panel(f, cr, l, width, height, i);
  else
    draw_bars(f, cr, l, width, height);
}

gboolean ll_study_figures_metric_point(LlStudyFigures *f, double width, double height, int axis,
                                       int trial_index, double *px, double *py)
{
  if (!f->sweep || axis < 0 || axis >= f->n_axes)
    return FALSE;
  for (guint i = 0; i < f->trials->len; i++) {
    const LlTrial *t = f->trials->pdata[i];
    if (t->index != trial_index || !plotted(f, t))
      continue;
    Levels L = levels_of(f, axis, 1000);
    LlPlotAxes ax;
    double ticks[12];
    metric_axes(f, axis, &L, &ax, ticks);
    LlPlotRect a;
    metric_panel(f, width, height, axis, &a);
    double x = level_x(&L, f, t, axis);
    levels_clear(&L);
    if (isnan(x))
      return FALSE;
    *px = ll_plot_map_x(&ax, &a, x);
    *py = ll_plot_map_y(&ax, &a, trial_metric(f, t));
    return TRUE;
  }
  return FALSE;
}

/* ---- heatmap
 * ------------------------------------------------------------------------------------- */

typedef struct {
  Levels rows, cols;
  double *mean; /* rows x cols, NAN: none */
  int *failed;  /* failed trials per cell */
  int *pruned;  /* pruned trials per cell */
  double lo, hi;
  int best; /* cell index or -1 */
  LlPlotRect grid, bar;
  double cw, ch;
} Heat;

static gboolean heat_axes_ok(const LlStudyFigures *f)
{
  return f->sweep && f->n_axes >= 2 && f->heat_a >= 0 && f->heat_b >= 0 && f->heat_a < f->n_axes &&
         f->heat_b < f->n_axes && f->heat_a != f->heat_b;
}

static void heat_compute(LlStudyFigures *f, Heat *h)
{
  *h = (Heat){0};
  h->rows = levels_of(f, f->heat_a, 12);
  h->cols = levels_of(f, f->heat_b, 12);
  int R = (int)h->rows.levels->len, C = (int)h->cols.levels->len;
  h->mean = g_new0(double, MAX(R * C, 1));
  h->failed = g_new0(int, MAX(R * C, 1));
  h->pruned = g_new0(int, MAX(R * C, 1));
  g_autofree int *count = g_new0(int, MAX(R * C, 1));
  for (guint i = 0; i < f->trials->len; i++) {
    const LlTrial *t = f->trials->pdata[i];
    int r = level_index(f, &h->rows, t, f->heat_a), c = level_index(f, &h->cols, t, f->heat_b);
    if (r < 0 || c < 0)
      continue;
    double v = trial_metric(f, t);
    if (t->status == LL_TRIAL_FAILED)
      h->failed[r * C + c]++;
    else if (t->status == LL_TRIAL_PRUNED)
      h->pruned[r * C + c]++;
    else if (t->status == LL_TRIAL_FINISHED && isfinite(v)) {
      h->mean[r * C + c] += v;
      count[r * C + c]++;
    }
  }
  h->lo = INFINITY;
  h->hi = -INFINITY;
  h->best = -1;
  for (int k = 0; k < R * C; k++) {
    h->mean[k] = count[k] ? h->mean[k] / count[k] : NAN;
    if (isfinite(h->mean[k])) {
      h->lo = MIN(h->lo, h->mean[k]);
      h->hi = MAX(h->hi, h->mean[k]);
      if (h->best < 0 || better(f, h->mean[k], h->mean[h->best]))
        h->best = k;
    }
  }
}

static void heat_layout(LlStudyFigures *f, Heat *h, PangoLayout *l, double width, double height)
{
  int rw = 0, cwid = 0, th = 0, tw;
  for (guint k = 0; k < h->rows.levels->len; k++) {
    ll_plot_text_size(l, ((Level *)h->rows.levels->pdata[k])->text, &tw, &th);
    rw = MAX(rw, tw);
  }
  for (guint k = 0; k < h->cols.levels->len; k++) {
    ll_plot_text_size(l, ((Level *)h->cols.levels->pdata[k])->text, &tw, &th);
    cwid = MAX(cwid, tw);
  }
  int R = MAX((int)h->rows.levels->len, 1), C = MAX((int)h->cols.levels->len, 1);
  double left = rw + 30, top = M_TOP + 6, right = 80, bottom = th * 2 + 22;
  double gw = MAX(width - left - right, 20), gh = MAX(height - top - bottom, 20);
  h->cw = gw / C;
  h->ch = gh / R;
  h->grid = (LlPlotRect){left, top, h->cw * C, h->ch * R};
  h->bar = (LlPlotRect){left + h->grid.w + 14, top, 12, h->grid.h};
}

static void heat_clear(Heat *h)
{
  levels_clear(&h->rows);
  levels_clear(&h->cols);
  g_free(h->mean);
  g_free(h->failed);
  g_free(h->pruned);
}

/* t of the ramp for v: dark is better */
static double heat_t(const LlStudyFigures *f, const Heat *h, double v)
{
  double t = h->hi > h->lo ? (v - h->lo) / (h->hi - h->lo) : 1.0;
  return f->maximize ? t : 1 - t;
}

static void draw_heatmap(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width,
                         double height)
{
  Heat h;
  heat_compute(f, &h);
  heat_layout(f, &h, l, width, height);
  int R = (int)h.rows.levels->len, C = (int)h.cols.levels->len;
  g_autofree char *title = g_strdup_printf("%s: %s over %s \u00d7 %s", f->name, f->metric,
                                           f->names[f->heat_a], f->names[f->heat_b]);
  g_autofree char *sub = g_strdup_printf(
      "%sdarker is better (%s) \u00b7 outlined: the best cell \u00b7 hatched: no "
      "finished trial",
      f->n_axes > 2 ? "mean over the other axes \u00b7 " : "", f->maximize ? "higher" : "lower");
  fig_title(cr, l, width, title, sub);
  PangoLayout *cl = ll_plot_layout(cr, CLAMP(MIN(h.cw / 6.5, h.ch / 2.5), 5, 10));
  char buf[48];
  for (int r = 0; r < R; r++)
    for (int c = 0; c < C; c++) {
      double v = h.mean[r * C + c];
      /* rows run bottom to top, so the numeric axis grows upwards */
      double x = h.grid.x + c * h.cw, y = h.grid.y + (R - 1 - r) * h.ch;
      if (isfinite(v)) {
        double rgb[3], t = heat_t(f, &h, v);
        ll_plot_ramp(t, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, x, y, h.cw + 0.5, h.ch + 0.5);
        cairo_fill(cr);
        g_snprintf(buf, sizeof buf, "%.4g", v);
        double g = t > 0.45 ? 1.0 : 0.1;
        cairo_set_source_rgb(cr, g, g, g);
        int tw, th;
        ll_plot_text_size(cl, buf, &tw, &th);
        if (tw < h.cw - 2 && th < h.ch - 1)
          ll_plot_text(cr, cl, x + h.cw / 2, y + h.ch / 2, buf, 0.5, 0.5);
      } else {
        /* no result: grey, hatched */
        cairo_save(cr);
        cairo_rectangle(cr, x, y, h.cw, h.ch);
        cairo_clip_preserve(cr);
        ll_plot_ink(cr, LL_INK_GRID, 1);
        cairo_fill(cr);
        ll_plot_ink(cr, LL_INK_FRAME, 1);
        cairo_set_line_width(cr, 1);
        for (double d = -h.ch; d < h.cw; d += 7) {
          cairo_move_to(cr, x + d, y + h.ch);
          cairo_line_to(cr, x + d + h.ch, y);
        }
        cairo_stroke(cr);
        cairo_restore(cr);
        const char *why = h.failed[r * C + c] ? "failed" : h.pruned[r * C + c] ? "pruned" : "";
        if (h.failed[r * C + c])
          cairo_set_source_rgb(cr, 0.6, 0.1, 0.1);
        else
          ll_plot_ink(cr, LL_INK_MUTED, 1);
        if (*why)
          ll_plot_text(cr, cl, x + h.cw / 2, y + h.ch / 2, why, 0.5, 0.5);
      }
    }
  g_object_unref(cl);
  cairo_set_line_width(cr, 1);
  ll_plot_ink(cr, LL_INK_FRAME, 1);
  cairo_rectangle(cr, h.grid.x + 0.5, h.grid.y + 0.5, h.grid.w - 1, h.grid.h - 1);
  cairo_stroke(cr);
  if (h.best >= 0) {
    int r = h.best / C, c = h.best % C;
    cairo_set_source_rgb(cr, BEST_RGB[0], BEST_RGB[1], BEST_RGB[2]);
    cairo_set_line_width(cr, 3);
    cairo_rectangle(cr, h.grid.x + c * h.cw + 1.5, h.grid.y + (R - 1 - r) * h.ch + 1.5, h.cw - 3,
                    h.ch - 3);
    cairo_stroke(cr);
  }
  ll_plot_ink(cr, LL_INK_TEXT, 1);
  for (int r = 0; r < R; r++)
    ll_plot_text(cr, l, h.grid.x - 5, h.grid.y + (R - 1 - r + 0.5) * h.ch,
                 ((Level *)h.rows.levels->pdata[r])->text, 1.0, 0.5);
  int tw, th;
  ll_plot_text_size(l, "Ag", &tw, &th);
  for (int c = 0; c < C; c++)
    ll_plot_text(cr, l, h.grid.x + (c + 0.5) * h.cw, h.grid.y + h.grid.h + 4,
                 ((Level *)h.cols.levels->pdata[c])->text, 0.5, 0.0);
  ll_plot_text(cr, l, h.grid.x + h.grid.w / 2, h.grid.y + h.grid.h + th + 8, f->names[f->heat_b],
               0.5, 0.0);
  ll_plot_text_vertical(cr, l, 12, h.grid.y + h.grid.h / 2, f->names[f->heat_a]);
  if (isfinite(h.lo))
    ll_plot_colorbar(cr, l, &h.bar, h.lo, h.hi, !f->maximize);
  heat_clear(&h);
}

void ll_study_figures_heatmap_shape(LlStudyFigures *f, int *rows, int *cols)
{
  *rows = *cols = 0;
  if (!heat_axes_ok(f))
    return;
  Heat h;
  heat_compute(f, &h);
  *rows = (int)h.rows.levels->len;
  *cols = (int)h.cols.levels->len;
  heat_clear(&h);
}

double ll_study_figures_heatmap_value(LlStudyFigures *f, int row, int col)
{
  if (!heat_axes_ok(f))
    return NAN;
  Heat h;
  heat_compute(f, &h);
  int R = (int)h.rows.levels->len, C = (int)h.cols.levels->len;
  double v = row >= 0 && row < R && col >= 0 && col < C ? h.mean[row * C + col] : NAN;
  heat_clear(&h);
  return v;
}

gboolean ll_study_figures_heatmap_cell(LlStudyFigures *f, double width, double height, int row,
                                       int col, LlPlotRect *out)
{
  if (!heat_axes_ok(f))
    return FALSE;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create(s);
  PangoLayout *l = ll_plot_layout(cr, 8);
  Heat h;
  heat_compute(f, &h);
  heat_layout(f, &h, l, width, height);
  int R = (int)h.rows.levels->len, C = (int)h.cols.levels->len;
  gboolean ok = row >= 0 && row < R && col >= 0 && col < C;
  if (ok)
    *out = (LlPlotRect){h.grid.x + col * h.cw, h.grid.y + (R - 1 - row) * h.ch, h.cw, h.ch};
  heat_clear(&h);
  g_object_unref(l);
  cairo_destroy(cr);
  cairo_surface_destroy(s);
  return ok;
}

/* ---- small multiples ----------------------------------------------------------------------------
 */

static void curves_grid(int n, double width, double height, int *cols, int *rows)
{
  double best = INFINITY;
  *cols = *rows = 1;
  for (int c = 1; c <= MAX(n, 1); c++) {
    int r = (n + c - 1) / c;
    double aspect = ((width - 8) / c) / ((height - M_TOP) / r);
    double score = fabs(log(aspect / 1.5));
    if (score < best) {
      best = score;
      *cols = c;
      *rows = r;
    }
  }
}

#define PANEL_SCALE 0.78

static void draw_curves(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width, double height)
{
  g_autofree char *title = g_strdup_printf("%s: %s per epoch", f->name, f->curve_metric);
  fig_title(cr, l, width, title, "a panel per trial, one y range \u00b7 x: epoch");
  int n = (int)f->trials->len, cols, rows;
  curves_grid(n, width, height, &cols, &rows);
  double lo = INFINITY, hi = -INFINITY;
  int max_ep = 1;
  for (int i = 0; i < n; i++) {
    const LlTrial *t = f->trials->pdata[i];
    max_ep = MAX(max_ep, (int)t->curve->len);
    for (guint e = 0; e < t->curve->len; e++) {
      double v = g_array_index(t->curve, double, e);
      if (isfinite(v)) {
        lo = MIN(lo, v);
        hi = MAX(hi, v);
      }
    }
  }
  if (!isfinite(lo)) {
    lo = 0;
    hi = 1;
  }
  double pad = hi > lo ? (hi - lo) * 0.08 : MAX(fabs(hi) * 0.05, 0.01);
  LlPlotAxes ax = {.x0 = 0.5,
                   .x1 = MAX(max_ep, 2) + 0.5, /* whole epochs on the ticks */
                   .y0 = lo - pad,
                   .y1 = hi + pad,
                   .x_integer = TRUE};
  PangoLayout *sl = ll_plot_layout(cr, 8); /* drawn at PANEL_SCALE */
  int tw, th;
  ll_plot_text_size(sl, "Ag", &tw, &th);
  double pw = (width - 8) / cols, ph = (height - M_TOP - 12) / rows; /* 12: the stamp */
  int best = best_trial(f);
  for (int i = 0; i < n; i++) {
    const LlTrial *t = f->trials->pdata[i];
    /* each panel at a smaller scale: small type, ticks spaced as in a full plot */
    cairo_save(cr);
    cairo_translate(cr, 4 + (i % cols) * pw, M_TOP + (i / cols) * ph);
    cairo_scale(cr, PANEL_SCALE, PANEL_SCALE);
    double px = 0, py = 0, W = pw / PANEL_SCALE, Hp = ph / PANEL_SCALE;
    LlPlotRect a = {px + 46, py + th + 6, MAX(W - 56, 10), MAX(Hp - th * 2 - 16, 10)};
    double rgb[3] = {0.12, 0.47, 0.71};
    const char *badge = NULL;
    if (t->status == LL_TRIAL_PRUNED) {
      ll_plot_class_color(1, rgb);
      badge = "pruned";
    } else if (t->status == LL_TRIAL_FAILED) {
      ll_plot_class_color(3, rgb);
      badge = "failed";
      cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.08); /* light or dark */
      cairo_rectangle(cr, a.x, a.y, a.w, a.h);
      cairo_fill(cr);
    } else if (i == best) {
      badge = "best";
    }
    ll_plot_draw_axes(cr, sl, &a, &ax);
    if (i == best) {
      cairo_set_source_rgb(cr, BEST_RGB[0], BEST_RGB[1], BEST_RGB[2]);
      cairo_set_line_width(cr, 2);
      cairo_rectangle(cr, a.x, a.y, a.w, a.h);
      cairo_stroke(cr);
    }
    /* "#3 code.out_features=8", ellipsized to the panel, the badge at the right */
    int bw = 0, bh;
    if (badge)
      ll_plot_text_size(sl, badge, &bw, &bh);
    /* repeats of a configuration share its label: the seed tells them apart */
    char seed[32] = "";
    for (guint j = 0; j < f->trials->len && t->seed >= 0 && !*seed; j++)
      if (f->trials->pdata[j] != t && ll_trial_same_group(t, f->trials->pdata[j]))
        g_snprintf(seed, sizeof seed, ", seed %" G_GINT64_FORMAT, t->seed);
    g_autofree char *name =
        g_strdup_printf("#%d %s%s", t->index + 1, t->label ? t->label : "", seed);
    pango_layout_set_width(sl, (int)(MAX(a.w - bw - 6, 10) * PANGO_SCALE));
    pango_layout_set_ellipsize(sl, PANGO_ELLIPSIZE_END);
    ll_plot_ink(cr, LL_INK_TEXT, 1);
    ll_plot_text(cr, sl, a.x, py + 2, name, 0.0, 0.0);
    pango_layout_set_width(sl, -1);
    pango_layout_set_ellipsize(sl, PANGO_ELLIPSIZE_NONE);
    if (badge) {
      const double *c = i == best && t->status == LL_TRIAL_FINISHED ? BEST_RGB : rgb;
      cairo_set_source_rgb(cr, c[0], c[1], c[2]);
      ll_plot_text(cr, sl, a.x + a.w, py + 2, badge, 1.0, 0.0);
    }
    cairo_save(cr);
    cairo_rectangle(cr, a.x, a.y, a.w, a.h);
    cairo_clip(cr);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, 1.5);
    polyline(cr, &ax, &a, 1, (const double *)t->curve->data, NULL, (int)t->curve->len);
    for (guint e = 0; e < t->curve->len; e++) {
      double v = g_array_index(t->curve, double, e);
      if (isfinite(v))
        marker(cr, ll_plot_map_x(&ax, &a, e + 1), ll_plot_map_y(&ax, &a, v), 2.2, rgb, FALSE);
    }
    if (!t->curve->len) {
      ll_plot_ink(cr, LL_INK_MUTED, 1);
      ll_plot_text(cr, sl, a.x + a.w / 2, a.y + a.h / 2, "no epochs", 0.5, 0.5);
    }
    cairo_restore(cr);
    cairo_restore(cr); /* the panel's scale */
  }
  g_object_unref(sl);
}

/* ---- detection probability over time ------------------------------------------------------------
 */

enum { DET_SAMPLES = 4 };

static void draw_detection(LlStudyFigures *f, cairo_t *cr, PangoLayout *l, double width,
                           double height)
{
  g_autofree char *title = g_strdup_printf("%s: detection probability over time", f->name);
  fig_title(cr, l, width, title,
            "a panel per model \u00b7 dashed: the true change point \u00b7 dotted: 0.5");
  int n = (int)f->outputs->len;
  gboolean side = width / MAX(n, 1) >= 380;
  int cols = side ? n : 1, rows = side ? 1 : n;
  double pw = (width - 8) / cols, ph = (height - M_TOP) / rows;
  char buf[96];
  for (int k = 0; k < n; k++) {
    const Outputs *o = f->outputs->pdata[k];
    double px = 4 + (k % cols) * pw, py = M_TOP + (k / cols) * ph;
    LlPlotRect a = {px + M_LEFT, py + 22, MAX(pw - M_LEFT - M_RIGHT, 20),
                    MAX(ph - 22 - M_BOTTOM, 20)};
    LlPlotAxes ax = {.x0 = 0,
                     .x1 = MAX(o->n_steps - 1, 1),
                     .y0 = -0.02,
                     .y1 = 1.02,
                     .x_label = "step",
                     .y_label = "P(changed)",
                     .x_integer = TRUE};
    ll_plot_draw_axes(cr, l, &a, &ax);
    /* the stage's own result beside its name */
    double acc = NAN;
    for (guint i = 0; i < f->trials->len; i++) {
      const LlTrial *t = f->trials->pdata[i];
      if (!g_strcmp0(t->stage, o->name))
        acc = trial_metric(f, t);
    }
    if (isfinite(acc))
      g_snprintf(buf, sizeof buf, "%s  (%s %.4f)", o->name, f->metric, acc);
    else
      g_snprintf(buf, sizeof buf, "%s", o->name);
    ll_plot_title(cr, l, a.x, py + 4, buf);
    cairo_save(cr);
    cairo_rectangle(cr, a.x, a.y, a.w, a.h);
    cairo_clip(cr);
    double dots[] = {2, 3};
    cairo_set_dash(cr, dots, 2, 0);
    cairo_set_line_width(cr, 1);
    ll_plot_ink(cr, LL_INK_FRAME, 1);
    cairo_move_to(cr, a.x, floor(ll_plot_map_y(&ax, &a, 0.5)) + 0.5);
    cairo_line_to(cr, a.x + a.w, floor(ll_plot_map_y(&ax, &a, 0.5)) + 0.5);
    cairo_stroke(cr);
    int ns = MIN(o->n_samples, DET_SAMPLES);
    LlLegendEntry keys[DET_SAMPLES];
    char names[DET_SAMPLES][48];
    for (int s = 0; s < ns; s++) {
      double rgb[3];
      ll_plot_class_color(s, rgb);
      const float *out = o->out + (gsize)s * o->n_steps, *tg = o->target + (gsize)s * o->n_steps;
      int change = -1;
      for (int j = 0; j < o->n_steps && change < 0; j++)
        if (tg[j] >= 0.5f)
          change = j;
      if (change >= 0) {
        double dash[] = {5, 3};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1.3);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double x = floor(ll_plot_map_x(&ax, &a, change - 0.5)) + 0.5;
        cairo_move_to(cr, x, a.y);
        cairo_line_to(cr, x, a.y + a.h);
        cairo_stroke(cr);
      }
      cairo_set_dash(cr, NULL, 0, 0);
      cairo_set_line_width(cr, 1.6);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      polyline(cr, &ax, &a, 0, NULL, out, o->n_steps);
      if (change >= 0)
        g_snprintf(names[s], sizeof names[s], "sample %d (change at %d)", s + 1, change);
      else
        g_snprintf(names[s], sizeof names[s], "sample %d (no change)", s + 1);
      keys[s].name = names[s];
      memcpy(keys[s].rgb, rgb, sizeof rgb);
    }
    cairo_restore(cr);
    PangoLayout *kl = ll_plot_layout(cr, 7);
    ll_plot_legend(cr, kl, keys, ns, a.x + 6, a.y + 6, FALSE);
    g_object_unref(kl);
  }
}

/* ---- the figures ------------------------------------------------------------------------------
 */

gboolean ll_study_figures_available(const LlStudyFigures *f, LlStudyFigure which, const char **why)
{
  const char *w = NULL;
  gboolean any_metric = FALSE, any_curve = FALSE;
  for (guint i = 0; i < f->trials->len; i++) {
    const LlTrial *t = f->trials->pdata[i];
    any_metric |= isfinite(trial_metric(f, t));
    any_curve |= t->curve->len > 0;
  }
  switch (which) {
  case LL_STUDY_FIG_METRIC:
    if (!any_metric)
      w = "No trial has a result yet: the plot fills in as trials finish.";
    break;
  case LL_STUDY_FIG_HEATMAP:
    if (!f->sweep)
      w = "The heatmap shows a sweep over two or more axes; this study runs stages.";
    else if (f->n_axes < 2)
      w = f->n_axes == 1 ? "The heatmap needs two or more axes; this sweep has one (see \"Metric "
                           "vs axis\")."
                         : "The heatmap needs two or more axes; this sweep has none.";
    else if (!any_metric)
      w = "No trial has a result yet: the cells fill in as trials finish.";
    break;
  case LL_STUDY_FIG_CURVES:
    if (!any_curve)
      w = "No trial has finished an epoch yet.";
    break;
  case LL_STUDY_FIG_DETECTION:
    if (!f->outputs->len)
      w = "The study exported no per-step outputs (export_outputs).";
    break;
  default: w = "no such figure";
  }
  if (why)
    *why = w;
  return w == NULL;
}

void ll_study_figures_size(const LlStudyFigures *f, LlStudyFigure which, double *width,
                           double *height)
{
  int n = (int)f->trials->len, cols, rows;
  switch (which) {
  case LL_STUDY_FIG_METRIC:
    if (f->sweep && f->n_axes > 0) {
      cols = metric_cols(f->n_axes, 1320);
      rows = (f->n_axes + cols - 1) / cols;
      *width = cols == 1 ? 760 : 440 * cols;
      *height = M_TOP + rows * 380;
    } else {
      *width = CLAMP(140 + n * 90, 640, 1400);
      *height = 520;
    }
    break;
  case LL_STUDY_FIG_HEATMAP: *width = 820, *height = 600; break;
  case LL_STUDY_FIG_CURVES:
    *width = 1000;
    curves_grid(n, 1000, 700, &cols, &rows);
    *height = M_TOP + rows * CLAMP(1000.0 / cols / 1.5, 130, 260);
    break;
  default: *width = f->outputs->len > 1 ? 1100 : 700; *height = 440;
  }
}

double ll_study_figures_height_for_width(const LlStudyFigures *f, LlStudyFigure which, double width)
{
  int n = (int)f->trials->len, cols, rows;
  switch (which) {
  case LL_STUDY_FIG_METRIC:
    if (f->sweep && f->n_axes > 0) {
      cols = metric_cols(f->n_axes, width);
      rows = (f->n_axes + cols - 1) / cols;
      return M_TOP + rows * CLAMP(width / cols * 0.8, 240, 380);
    }
    return CLAMP(width * 0.75, 320, 520);
  case LL_STUDY_FIG_HEATMAP: return CLAMP(width * 0.75, 320, 600);
  case LL_STUDY_FIG_CURVES:
    curves_grid(n, width, width * 0.7, &cols, &rows);
    return M_TOP + rows * CLAMP(width / cols / 1.4, 110, 260);
  default: {
    gboolean side = width / MAX((int)f->outputs->len, 1) >= 380;
    return M_TOP + (side ? 1 : MAX((int)f->outputs->len, 1)) * 300;
  }
  }
}

void ll_study_figures_draw(LlStudyFigures *f, LlStudyFigure which, cairo_t *cr, double width,
                           double height)
{
  cairo_save(cr);
  background(cr, width, height);
  PangoLayout *l = ll_plot_layout(cr, 8);
  const char *why;
  if (!ll_study_figures_available(f, which, &why))
    message(cr, l, width, height, why);
  else if (which == LL_STUDY_FIG_METRIC)
    draw_metric(f, cr, l, width, height);
  else if (which == LL_STUDY_FIG_HEATMAP)
    draw_heatmap(f, cr, l, width, height);
  else if (which == LL_STUDY_FIG_CURVES)
    draw_curves(f, cr, l, width, height);
  else
    draw_detection(f, cr, l, width, height);
  g_object_unref(l);
  if (f->stamp) {
    /* "LayerLab study <id>" at the bottom right, as runs carry theirs */
    PangoLayout *sl = ll_plot_layout(cr, 6.5);
    g_autofree char *s = g_strdup_printf("LayerLab study %s", f->stamp);
    ll_plot_ink(cr, LL_INK_FRAME, 1);
    ll_plot_text(cr, sl, width - 4, height - 2, s, 1.0, 1.0);
    g_object_unref(sl);
  }
  cairo_restore(cr);
}

typedef struct {
  LlStudyFigures *f;
  LlStudyFigure which;
} DrawArgs;

static void draw_cb(gpointer data, cairo_t *cr, double w, double h)
{
  DrawArgs *a = data;
  ll_study_figures_draw(a->f, a->which, cr, w, h);
}

gboolean ll_study_figures_export(LlStudyFigures *f, LlStudyFigure which, const char *path,
                                 const char *format, double width, double height, double dpi,
                                 GError **error)
{
  DrawArgs a = {f, which};
  return ll_plot_export(path, format, width, height, dpi, draw_cb, &a, error);
}

gboolean ll_study_figures_export_all(LlStudyFigures *f, const char *dir, GPtrArray *written,
                                     GError **error)
{
  if (g_mkdir_with_parents(dir, 0755) != 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", dir,
                g_strerror(errno));
    return FALSE;
  }
  static const char *const formats[] = {"png", "svg"};
  for (int w = 0; w < LL_STUDY_N_FIGS; w++) {
    if (!ll_study_figures_available(f, w, NULL))
      continue;
    double width, height;
    ll_study_figures_size(f, w, &width, &height);
    for (int k = 0; k < 2; k++) {
      g_autofree char *name = g_strdup_printf("%s.%s", ll_study_figure_names[w], formats[k]);
      g_autofree char *path = g_build_filename(dir, name, NULL);
      if (!ll_study_figures_export(f, w, path, formats[k], width, height, 144, error))
        return FALSE;
      if (written)
        g_ptr_array_add(written, g_steal_pointer(&path));
    }
  }
  return TRUE;
}

gboolean ll_study_export_figures_dir(const char *study_dir, GPtrArray *written, GError **error)
{
  g_autoptr(LlStudy) s = ll_study_open_dir(study_dir, error);
  if (!s)
    return FALSE;
  g_autoptr(LlStudyFigures) f = ll_study_figures_new(s);
  ll_study_figures_set_stamp(f, ll_study_id(s));
  if (!ll_study_figures_load_outputs(f, ll_study_dir(s), error))
    return FALSE;
  g_autofree char *dir = g_build_filename(ll_study_dir(s), "figures", NULL);
  return ll_study_figures_export_all(f, dir, written, error);
}
