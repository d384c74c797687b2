/* trainer.c: the training thread: data, graph, optimizer, epochs, early
 * stopping, checkpoints, and the events that report them to the listeners
 * and the queue. The evaluation is evaluate.c's; what runs on each batch,
 * heads.c's; the run's record in the store, run-recorder.c's. */
#include "trainer.h"

#include <math.h>
#include <string.h>

#include "analysis.h"
#include "checkpoint.h"
#include "device.h"
#include "evaluate.h"
#include "run-recorder.h"
#include "transfer.h"

static double now(void) { return g_get_monotonic_time() / 1e6; }

/* ---- the job -------------------------------------------------------------------------- */

struct LlTrainer {
  LlSpec *spec;
  LlTrainOptions opts;
  char *spec_path, *device, *resume, *store_root, *run_name;
  GThread *thread;
  GAsyncQueue *events;
  gint stop, pause, snapshot, running;
  GMutex lock;
  GCond cond;
  GArray *listeners; /* Listener, added before the start */
};

typedef struct {
  const LlTrainerListener *l;
  gpointer data;
} Listener;

typedef struct {
  LlTrainer *t;
  LlSpec *s;
  LlHeads h; /* the graph, its losses and their buffers */
  LlDataset *train, *test;
  GArray *train_idx, *val_idx, *test_idx;
  LlPipeline *pipe;
  LlLoader *train_loader;
  LlOptimizer *opt;
  LlRunStore *store;       /* resolves init_from and resume; NULL with no_store */
  LlRunRecorder *recorder; /* when the run is recorded in the store */
  char *run_id, *run_dir;
  GArray *listeners; /* Listener: the recorder first, then the trainer's */
  GError *failure;   /* a listener's, until the run fails with it (job_ok) */
  int start_epoch;
  int epochs_done; /* completed epochs, for the checkpoint a stop writes */
  int64_t step;
  double t0;
  int64_t images;
  double train_seconds;
} Job;

/* Hands e to the listeners, then to the queue. When a listener fails, e
 * is freed unpublished and FALSE returned with its error; with error NULL
 * (a log line) the error is kept, and the run fails with it at the next
 * check (job_ok). The run's last event (failed, stopped) is published
 * whatever the listeners say. */
static gboolean publish(Job *j, LlEvent *e, GError **error)
{
  e->run_id = g_strdup(j->run_id);
  gboolean ending = e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_STOPPED;
  for (guint i = 0; i < j->listeners->len; i++) {
    const Listener *li = &g_array_index(j->listeners, Listener, i);
    GError *err = NULL;
    if (!li->l->event(li->data, e, ending ? NULL : &err) && !ending) {
      ll_event_free(e);
      if (error)
        g_propagate_error(error, err);
      else if (!j->failure)
        j->failure = err;
      else
        g_clear_error(&err);
      return FALSE;
    }
  }
  g_async_queue_push(j->t->events, e);
  return TRUE;
}

/* FALSE, with the error, once a listener has failed. */
static gboolean job_ok(Job *j, GError **error)
{
  if (!j->failure)
    return TRUE;
  g_propagate_error(error, g_steal_pointer(&j->failure));
  return FALSE;
}

static void log_line(Job *j, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void log_line(Job *j, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  LlEvent *e = ll_event_new(LL_EVENT_LOG);
  e->message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  publish(j, e, NULL);
}

static gboolean check_bindings(Job *j, GError **error)
{
  g_autoptr(GPtrArray) ins = ll_graph_inputs(j->h.g);
  for (guint i = 0; i < ins->len; i++) {
    LlBlock *b = g_ptr_array_index(ins, i);
    const char *field = g_hash_table_lookup(j->s->bindings, b->name);
    LlShape fs;
    char a[64], c[64];
    if (!ll_pipeline_field_shape(j->pipe, field, &fs)) {
      g_autofree char *list = ll_pipeline_field_list(j->pipe);
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "inputs: block \"%s\" reads field \"%s\", which this data does not have "
                  "(fields: %s)",
                  b->name, field, list);
      return FALSE;
    }
    if (ll_shape_size(&fs) != ll_block_out_size(b)) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "block \"%s\" (Input): property \"shape\" is %s but the data field \"%s\" "
                  "has shape %s",
                  b->name, ll_shape_format(&b->out_shape, a, sizeof a), field,
                  ll_shape_format(&fs, c, sizeof c));
      return FALSE;
    }
  }
  if (j->s->losses->len == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISSING,
                "the spec has no losses: add one under \"losses\" (which block's output is "
                "compared with which target)");
    return FALSE;
  }
  /* shapes, classes and value ranges of every loss: the check the window
   * runs on every edit, here against the data as it is */
  LlFieldInfo fields[16];
  int n_fields = ll_pipeline_get_fields(j->pipe, fields, G_N_ELEMENTS(fields));
  if (!ll_spec_check_losses(j->s, fields, n_fields, NULL, error))
    return FALSE;
  int n_ce = 0;
  for (guint i = 0; i < j->s->losses->len; i++) {
    const LlLossSpec *ls = g_ptr_array_index(j->s->losses, i);
    LlLoss l = {.spec = ls, .head = ll_graph_find(j->h.g, ls->output)};
    ll_pipeline_field_shape(j->pipe, ls->target, &l.tshape);
    l.tsize = ll_shape_size(&l.tshape);
    if (ls->kind == LL_LOSS_CROSS_ENTROPY) {
      l.classes = (int)ll_block_out_size(l.head);
      l.metric = g_strdup(n_ce++ == 0 ? "accuracy" : NULL);
    } else if (ls->kind == LL_LOSS_BCE_LOGITS) {
      l.metric = g_strdup(n_ce++ == 0 ? "accuracy" : NULL);
    } else if (l.tsize == 1 && ll_pipeline_field_classes(j->pipe, ls->target) > 0) {
      /* a regression head on an integer target (E15's digit + number): its
       * accuracy is how often the rounded prediction equals the target */
      l.metric = g_strdup_printf("%s_accuracy", l.head->name);
    }
    if (!l.metric && (ls->kind == LL_LOSS_CROSS_ENTROPY || ls->kind == LL_LOSS_BCE_LOGITS))
      l.metric = g_strdup_printf("%s_accuracy", l.head->name);
    if (ls->kind == LL_LOSS_BCE_LOGITS) {
      l.binary = l.tsize == 1;
      if (l.tsize >= 2 && l.tsize <= LL_NAMED_ENTRIES) {
        char **names = j->train->label_names;
        gboolean named =
            names && !strcmp(ls->target, "label") && g_strv_length(names) == (guint)l.tsize;
        l.entries = g_new0(char *, l.tsize + 1);
        for (size_t k = 0; k < l.tsize; k++)
          l.entries[k] = named ? g_strdup(names[k]) : g_strdup_printf("%zu", k);
      }
    }
    g_array_append_val(j->h.losses, l);
  }
  return TRUE;
}
/* ---- checkpoints --------------------------------------------------------------------- */

static gboolean save_checkpoint(Job *j, const char *file, int epoch, gboolean with_optimizer,
                                char **path_out, GError **error)
{
  g_autofree char *path = g_build_filename(j->run_dir, file, NULL);
  g_autoptr(GHashTable) meta = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_hash_table_insert(meta, "format", g_strdup("layerlab-checkpoint"));
  g_hash_table_insert(meta, "spec_hash", ll_spec_hash(j->s));
  g_hash_table_insert(meta, "spec", ll_spec_to_json(j->s));
  g_hash_table_insert(meta, "epoch", g_strdup_printf("%d", epoch));
  g_hash_table_insert(meta, "step", g_strdup_printf("%" G_GINT64_FORMAT, j->step));
  g_hash_table_insert(meta, "seed", g_strdup_printf("%" G_GUINT64_FORMAT, j->s->seed));
  if (j->run_id)
    g_hash_table_insert(meta, "run_id", g_strdup(j->run_id));
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func((GDestroyNotify)ll_named_tensor_free);
  if (with_optimizer) {
    g_hash_table_insert(meta, "optimizer_step",
                        g_strdup_printf("%" G_GINT64_FORMAT, ll_optimizer_get_step(j->opt)));
    for (int i = 0; i < ll_optimizer_n_state(j->opt); i++) {
      LlNamedTensor *nt = g_new0(LlNamedTensor, 1);
      nt->name = g_strdup_printf("optimizer.%s", ll_optimizer_state_name(j->opt, i));
      nt->shape = ll_shape_make(1, (int[]){(int)j->h.g->n_params});
      nt->data = g_new(float, j->h.g->n_params);
      ll_optimizer_state_download(j->opt, i, nt->data);
      g_ptr_array_add(extra, nt);
    }
  }
  if (!ll_checkpoint_save(path, j->h.g, meta, extra, error))
    return FALSE;
  if (path_out)
    *path_out = g_steal_pointer(&path);
  return TRUE;
}

/* last.safetensors, where --resume continues; the listeners hear of it
 * (the recorder names it as the run's checkpoint). */
static gboolean save_last(Job *j, int epoch, GError **error)
{
  g_autofree char *path = NULL;
  if (!save_checkpoint(j, "last.safetensors", epoch, TRUE, &path, error))
    return FALSE;
  for (guint i = 0; i < j->listeners->len; i++) {
    const Listener *li = &g_array_index(j->listeners, Listener, i);
    if (li->l->checkpoint && !li->l->checkpoint(li->data, path, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean apply_init_from(Job *j, GError **error)
{
  for (guint i = 0; i < j->s->init_from->len; i++) {
    const LlInitFrom *f = g_ptr_array_index(j->s->init_from, i);
    if (f->reinit) {
      log_line(j, "init_from[%u]: keeping the random initialisation (control run)", i);
      continue;
    }
    g_autofree char *path = ll_run_store_resolve_checkpoint(j->store, f->checkpoint, error);
    if (!path)
      return FALSE;
    g_autoptr(GHashTable) only = NULL;
    LlLoadOptions lo = ll_init_from_load_options(f, &only);
    LlLoadReport rep;
    if (!ll_checkpoint_load(path, j->h.g, &lo, &rep, error)) {
      ll_load_report_clear(&rep);
      return FALSE;
    }
    log_line(j, "init_from %s: loaded %u tensors, %u missing, %u unexpected, %u mismatched", path,
             rep.loaded ? rep.loaded->len : 0, rep.missing ? rep.missing->len : 0,
             rep.unexpected ? rep.unexpected->len : 0, rep.mismatched ? rep.mismatched->len : 0);
    guint loaded = rep.loaded ? rep.loaded->len : 0;
    ll_load_report_clear(&rep);
    if (loaded == 0) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "training.init_from[%u]: no tensor of %s matches the graph's blocks (use "
                  "\"map\" when names differ)",
                  i, path);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean apply_resume(Job *j, GError **error)
{
  g_autofree char *path = ll_run_store_resolve_last_checkpoint(j->store, j->t->resume, error);
  if (!path)
    return FALSE;
  LlLoadOptions lo = {.partial = FALSE};
  LlLoadReport rep;
  gboolean ok = ll_checkpoint_load(path, j->h.g, &lo, &rep, error);
  ll_load_report_clear(&rep);
  if (!ok)
    return FALSE;
  g_autoptr(GHashTable) meta = NULL;
  if (!ll_checkpoint_read_metadata(path, &meta, error))
    return FALSE;
  const char *ep = g_hash_table_lookup(meta, "epoch"), *st = g_hash_table_lookup(meta, "step"),
             *ost = g_hash_table_lookup(meta, "optimizer_step");
  j->start_epoch = ep ? atoi(ep) : 0;
  j->step = st ? g_ascii_strtoll(st, NULL, 10) : 0;
  if (!j->opt) {
    log_line(j, "evaluating %s (trained for %d epochs)", path, j->start_epoch);
    return TRUE;
  }
  for (int i = 0; i < ll_optimizer_n_state(j->opt); i++) {
    g_autofree char *name = g_strdup_printf("optimizer.%s", ll_optimizer_state_name(j->opt, i));
    LlShape shape;
    g_autofree float *data = NULL;
    GError *terr = NULL;
    if (!ll_checkpoint_read_tensor(path, name, &shape, &data, &terr)) {
      log_line(j, "resume: %s has no optimizer state \"%s\"; it starts fresh", path, name);
      g_error_free(terr);
      continue;
    }
    if (ll_shape_size(&shape) != j->h.g->n_params) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "%s: optimizer state \"%s\" does not fit this graph", path, name);
      return FALSE;
    }
    size_t bad = 0;
    for (size_t k = 0; k < j->h.g->n_params; k++)
      bad += !isfinite(data[k]);
    if (bad) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "%s: optimizer state \"%s\" holds %zu NaN or infinite values: it cannot be "
                  "resumed",
                  path, name, bad);
      return FALSE;
    }
    ll_optimizer_state_upload(j->opt, i, data);
  }
  if (ost)
    ll_optimizer_set_step(j->opt, g_ascii_strtoll(ost, NULL, 10));
  log_line(j, "resumed from %s after epoch %d (step %" G_GINT64_FORMAT ")", path, j->start_epoch,
           j->step);
  return TRUE;
}

/* The run's name in the store: the one asked for, the spec's, or (a spec
 * that names itself nothing) the spec file's name. */
static char *run_name(const LlTrainer *t, const LlSpec *s)
{
  if (t->run_name && *t->run_name)
    return g_strdup(t->run_name);
  gboolean unnamed = !s->name || !*s->name || !strcmp(s->name, LL_SPEC_DEFAULT_NAME);
  if (!unnamed || !t->spec_path)
    return g_strdup(s->name);
  g_autofree char *base = g_path_get_basename(t->spec_path);
  if (g_str_has_suffix(base, ".json"))
    base[strlen(base) - 5] = '\0';
  return g_steal_pointer(&base);
}

/* ---- setup ---------------------------------------------------------------------------- */

static gboolean job_setup(Job *j, GError **error)
{
  LlSpec *s = j->s;
  j->t0 = now();
  j->h.s = s;
  j->h.losses = g_array_new(FALSE, TRUE, sizeof(LlLoss));
  g_autofree char *device_note = NULL;
  if (!(j->h.be = ll_device_backend_full(s->device, &device_note, error)))
    return FALSE;
  if (device_note)
    log_line(j, "%s", device_note);
  if (j->h.be == ll_cpu_backend())
    ll_cpu_set_threads(s->threads > 0 ? s->threads : (int)g_get_num_processors());

  if (!j->t->opts.no_store) {
    if (!(j->store = ll_run_store_open(j->t->store_root, error)))
      return FALSE;
  }
  if (!ll_dataset_spec_open(&s->dataset, s->seed, &j->train, &j->test, error))
    return FALSE;
  j->h.class_names = j->train->class_names;
  ll_split_indices(j->train->n, s->validation_split, s->seed, &j->train_idx, &j->val_idx);
  if (!j->test) {
    /* no separate test set: hold out 10% of what is left for training */
    GArray *rest = j->train_idx, *tr = NULL, *te = NULL;
    ll_split_indices(rest->len, 0.1, s->seed + 7, &tr, &te);
    j->train_idx = g_array_sized_new(FALSE, FALSE, sizeof(guint32), tr->len);
    j->test_idx = g_array_sized_new(FALSE, FALSE, sizeof(guint32), te->len);
    for (guint i = 0; i < tr->len; i++)
      g_array_append_val(j->train_idx, g_array_index(rest, guint32, g_array_index(tr, guint32, i)));
    for (guint i = 0; i < te->len; i++)
      g_array_append_val(j->test_idx, g_array_index(rest, guint32, g_array_index(te, guint32, i)));
    g_array_unref(rest);
    g_array_unref(tr);
    g_array_unref(te);
  }
  if (j->train_idx->len == 0) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "the training split is empty: %s has %u samples and validation_split (%g) or "
                "the test split takes them all",
                j->train->name, j->train->n, s->validation_split);
    return FALSE;
  }
  if (j->train_idx->len < (guint)s->batch_size) {
    g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                "training.batch_size: %d is larger than the %u training samples", s->batch_size,
                j->train_idx->len);
    return FALSE;
  }
  if (!(j->pipe = ll_pipeline_new(j->train, &s->pipeline, j->train_idx, error)))
    return FALSE;
  j->h.g = s->graph;
  j->h.inputs = ll_graph_inputs(j->h.g);
  if (!ll_graph_infer(j->h.g, error))
    return FALSE;
  if (s->losses->len == 0) {
    g_autofree char *chosen = ll_spec_add_default_loss(s, error);
    if (!chosen)
      return FALSE;
    log_line(j, "%s", chosen);
  }
  if (!check_bindings(j, error))
    return FALSE;
  /* fused passes (a ReLU inside its Dropout, a BatchNorm running the ReLU
   * after it) skip writing some outputs: not those the losses and the
   * analysis read */
  for (guint i = 0; i < j->h.losses->len; i++)
    g_array_index(j->h.losses, LlLoss, i).head->keep_output = TRUE;
  /* record.embedding_block, or the block before the classifier (or an
   * autoencoder's bottleneck), so the t-SNE view works out of the box */
  const char *recorded = ll_analysis_embedding_block(s);
  j->h.embed = recorded ? ll_graph_find(j->h.g, recorded) : NULL;
  if (j->h.embed)
    j->h.embed->keep_output = TRUE;
  j->h.g->fuse = TRUE;
  if (!ll_graph_compile(j->h.g, j->h.be, s->batch_size, error))
    return FALSE;
  LlRng rng;
  ll_rng_seed(&rng, s->seed);
  ll_graph_init_params(j->h.g, &rng);
  if (!ll_device_check(j->h.be, error))
    return FALSE;
  gboolean eval_only = j->t->opts.eval_only;
  if (!eval_only && !(j->opt = ll_optimizer_new(j->h.g, &s->optim, error)))
    return FALSE;
  guint largest = MAX(j->val_idx->len, j->test_idx ? j->test_idx->len : 0);
  largest = MAX(largest, j->test ? j->test->n : 0);
  g_autoptr(GError) eval_note = NULL;
  int eval_batch = ll_evaluate_batch_size(&j->h, largest, &eval_note);
  if (eval_note)
    log_line(j, "evaluating in training batches: %s", eval_note->message);
  int max_batch = MAX(s->batch_size, eval_batch);
  size_t max_out = (size_t)max_batch;
  for (guint i = 0; i < j->h.losses->len; i++) {
    LlLoss *l = &g_array_index(j->h.losses, LlLoss, i);
    l->target = j->h.be->alloc((size_t)max_batch * l->tsize * sizeof(float));
    max_out = MAX(max_out, (size_t)max_batch * ll_block_out_size(l->head));
    if (!l->target) {
      g_set_error(error, LL_GRAPH_ERROR, LL_GRAPH_ERROR_MEMORY, "out of device memory for targets");
      return FALSE;
    }
  }
  j->h.loss_dev = j->h.be->alloc(64 * sizeof(float));
  j->h.argmax_dev = j->h.be->alloc((size_t)max_batch * sizeof(float));
  j->h.host_out = g_new(float, max_out);

  /* the weights to start from are loaded (and checked) before the run is
   * recorded: a checkpoint that cannot be used adds no failed run */
  if (!eval_only && !apply_init_from(j, error))
    return FALSE;
  if (j->t->resume && !apply_resume(j, error))
    return FALSE;
  if (j->store && !eval_only) {
    g_autofree char *name = run_name(j->t, s);
    j->recorder = ll_run_recorder_new(j->store, name, s, j->train, j->h.be->device_name, error);
    if (!j->recorder)
      return FALSE;
    j->run_id = g_strdup(ll_run_recorder_get_id(j->recorder));
    j->run_dir = g_strdup(ll_run_recorder_get_dir(j->recorder));
    Listener rec = {ll_run_recorder_listener(), j->recorder};
    g_array_prepend_val(j->listeners, rec);
  } else if (!eval_only) {
    j->run_dir = g_dir_make_tmp("layerlab-run-XXXXXX", error);
    if (!j->run_dir)
      return FALSE;
  }
  j->train_loader = ll_loader_new(j->pipe, j->train_idx, s->batch_size, TRUE, TRUE, TRUE, s->seed);
  if (!job_ok(j, error))
    return FALSE;
  LlEvent *e = ll_event_new(LL_EVENT_STARTED);
  e->epochs = s->epochs;
  e->steps_per_epoch = ll_loader_batches_per_epoch(j->train_loader);
  g_autofree char *fields = ll_pipeline_field_list(j->pipe);
  e->message = g_strdup_printf("%s on %s: %u train, %u validation, %u test samples of %s; %zu "
                               "parameters",
                               s->name, j->h.be->device_name, j->train_idx->len, j->val_idx->len,
                               j->test ? j->test->n : j->test_idx->len, j->train->name,
                               ll_graph_param_count(j->h.g));
  e->checkpoint = g_strdup(j->run_dir);
  /* what a shortened run used (a study records it per trial) */
  ll_event_add_metric(e, "train_samples", j->train_idx->len);
  ll_event_add_metric(e, "val_samples", j->val_idx->len);
  return publish(j, e, error);
}

static void job_clear(Job *j)
{
  if (j->train_loader)
    ll_loader_free(j->train_loader);
  if (j->opt)
    ll_optimizer_free(j->opt);
  if (j->h.losses) {
    for (guint i = 0; i < j->h.losses->len; i++) {
      LlLoss *l = &g_array_index(j->h.losses, LlLoss, i);
      if (l->target)
        j->h.be->free(l->target);
      g_free(l->metric);
      g_strfreev(l->entries);
    }
    g_array_unref(j->h.losses);
  }
  if (j->h.loss_dev)
    j->h.be->free(j->h.loss_dev);
  if (j->h.argmax_dev)
    j->h.be->free(j->h.argmax_dev);
  g_free(j->h.host_out);
  if (j->pipe)
    ll_pipeline_free(j->pipe);
  if (j->h.inputs)
    g_ptr_array_unref(j->h.inputs);
  if (j->train_idx)
    g_array_unref(j->train_idx);
  if (j->val_idx)
    g_array_unref(j->val_idx);
  if (j->test_idx)
    g_array_unref(j->test_idx);
  ll_dataset_free(j->train);
  ll_dataset_free(j->test);
  ll_run_recorder_free(j->recorder);
  if (j->store)
    ll_run_store_close(j->store);
  g_array_unref(j->listeners);
  g_clear_error(&j->failure);
  g_free(j->run_id);
  g_free(j->run_dir);
}

/* ---- the loop ----------------------------------------------------------------------------- */

static gboolean wait_if_paused(LlTrainer *t)
{
  g_mutex_lock(&t->lock);
  while (g_atomic_int_get(&t->pause) && !g_atomic_int_get(&t->stop))
    g_cond_wait_until(&t->cond, &t->lock, g_get_monotonic_time() + 100 * G_TIME_SPAN_MILLISECOND);
  g_mutex_unlock(&t->lock);
  return !g_atomic_int_get(&t->stop);
}

static gboolean metric_better(const char *metric, double v, double best, double min_delta)
{
  if (isnan(best))
    return !isnan(v);
  if (ll_metric_higher_is_better(metric))
    return v > best + min_delta;
  return v < best - min_delta;
}

typedef enum { RUN_FINISHED, RUN_STOPPED, RUN_FAILED } RunEnd;

static RunEnd job_train(Job *j, GError **error)
{
  LlSpec *s = j->s;
  LlTrainer *t = j->t;
  int spe = ll_loader_batches_per_epoch(j->train_loader);
  int64_t total_steps = (int64_t)spe * s->epochs;
  double best = NAN;
  int bad_epochs = 0;
  size_t state_floats = j->h.g->n_params + j->h.g->n_buffers;
  g_autofree float *best_state = NULL;
  guint nl = j->h.losses->len;
  g_autofree double *pl = g_new0(double, nl);
  j->t0 = now();
  j->epochs_done = j->start_epoch;
  for (int epoch = j->start_epoch + 1; epoch <= s->epochs; epoch++) {
    ll_loader_start_epoch(j->train_loader, epoch);
    double ep_t0 = now(), ep_loss = 0.0, acc_loss = 0.0, last_pub = 0.0;
    int64_t ep_n = 0, acc_steps = 0, ok = 0, tot = 0;
    const LlBatch *batch;
    LlLoss *acc_loss_head = NULL;
    for (guint i = 0; i < nl; i++)
      if (g_array_index(j->h.losses, LlLoss, i).metric &&
          g_array_index(j->h.losses, LlLoss, i).spec->kind <= LL_LOSS_BCE_LOGITS) {
        acc_loss_head = &g_array_index(j->h.losses, LlLoss, i);
        break;
      }
    while ((batch = ll_loader_next(j->train_loader))) {
      if (!wait_if_paused(t))
        return RUN_STOPPED;
      if (!job_ok(j, error))
        return RUN_FAILED;
      j->step++;
      double lr = ll_schedule_lr(&s->schedule, s->optim.lr, j->step - 1, spe, total_steps);
      LlRunCtx ctx = {.be = j->h.be,
                      .batch = batch->n,
                      .training = TRUE,
                      .seed = s->seed,
                      .step = (uint64_t)j->step};
      ll_heads_load_batch(&j->h, batch);
      ll_graph_forward(j->h.g, &ctx);
      ll_graph_zero_grads(j->h.g, &ctx);
      double loss = ll_heads_run_losses(&j->h, batch->n, TRUE, NULL);
      /* run_losses downloaded: a failure of this step or the last one shows now */
      if (!ll_device_check(j->h.be, error))
        return RUN_FAILED;
      if (!isfinite(loss)) {
        g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                    "the loss became %s at epoch %d, step %" G_GINT64_FORMAT
                    ": training diverged. The learning rate (%g) is probably too high: lower it, "
                    "or enable gradient clipping (training.clip_norm)",
                    isnan(loss) ? "NaN" : "infinite", epoch, j->step, lr);
        return RUN_FAILED;
      }
      if (acc_loss_head)
        ok += ll_heads_count_correct(&j->h, acc_loss_head, batch, &tot, NULL);
      ll_graph_backward(j->h.g, &ctx);
      /* ll_optimizer_step clips the gradients itself when clip_norm > 0 */
      ll_optimizer_step(j->opt, (float)lr);
      ep_loss += loss * batch->n;
      ep_n += batch->n;
      acc_loss += loss;
      acc_steps++;
      j->images += batch->n;
      double tnow = now();
      if (tnow - last_pub > 0.05 || ep_n >= (int64_t)spe * s->batch_size) {
        LlEvent *e = ll_event_new(LL_EVENT_BATCH);
        e->epoch = epoch;
        e->epochs = s->epochs;
        e->step = j->step;
        e->steps_per_epoch = spe;
        e->loss = acc_loss / (double)acc_steps;
        e->lr = lr;
        e->elapsed = tnow - j->t0;
        double per_step = (tnow - ep_t0) / (double)(ep_n / batch->capacity + 1);
        e->images_per_second = ep_n / MAX(tnow - ep_t0, 1e-9);
        e->eta = per_step * (double)(total_steps - j->step);
        if (!publish(j, e, error))
          return RUN_FAILED;
        acc_loss = 0.0;
        acc_steps = 0;
        last_pub = tnow;
      }
      if (g_atomic_int_compare_and_exchange(&t->snapshot, 1, 0)) {
        g_autofree char *p = NULL;
        GError *serr = NULL;
        if (save_checkpoint(j, "snapshot.safetensors", epoch - 1, TRUE, &p, &serr))
          log_line(j, "snapshot written to %s", p);
        else {
          log_line(j, "snapshot failed: %s", serr->message);
          g_error_free(serr);
        }
      }
    }
    double ep_time = now() - ep_t0;
    j->train_seconds += ep_time;
    j->epochs_done = epoch;
    LlEvent *e = ll_event_new(LL_EVENT_EPOCH);
    e->epoch = epoch;
    e->epochs = s->epochs;
    e->step = j->step;
    e->steps_per_epoch = spe;
    ll_event_add_metric(e, "train_loss", ep_loss / (double)MAX(ep_n, 1));
    if (tot)
      ll_event_add_metric(e, "train_accuracy", (double)ok / (double)tot);
    LlEvalResult vr = {0};
    LlEvent *vev = NULL;
    if (j->val_idx->len) {
      vev = ll_event_new(LL_EVENT_EVAL);
      vev->split = g_strdup("val");
      vev->epoch = epoch;
      vev->epochs = s->epochs;
      if (ll_evaluate(&j->h, j->pipe, j->val_idx, &vr, vev)) {
        ll_eval_add_metrics(&j->h, e, "val", &vr);
      } else {
        ll_event_free(vev);
        vev = NULL;
      }
    }
    ll_eval_result_clear(&vr, nl);
    if (!ll_device_check(j->h.be, error)) {
      ll_event_free(e);
      return RUN_FAILED;
    }
    e->images_per_second = (double)ep_n / MAX(ep_time, 1e-9);
    e->elapsed = now() - j->t0;
    e->eta = (now() - j->t0) / (epoch - j->start_epoch) * (s->epochs - epoch);
    /* early stopping and best weights */
    double v = ll_event_metric(e, s->es_metric);
    gboolean improved =
        metric_better(s->es_metric, v, best, s->early_stopping ? s->es_min_delta : 0);
    if (improved) {
      best = v;
      bad_epochs = 0;
      if (!best_state)
        best_state = g_new(float, state_floats);
      j->h.be->download(best_state, j->h.g->params, state_floats);
    } else {
      bad_epochs++;
    }
    /* the epoch's files, then its events: a write that fails (a full disk)
     * fails the run, so that nothing is reported that was not saved */
    gboolean saved =
        (!improved || save_checkpoint(j, "best.safetensors", epoch, FALSE, NULL, error)) &&
        (!(s->checkpoint_every > 0 && (epoch % s->checkpoint_every == 0 || epoch == s->epochs)) ||
         save_last(j, epoch, error));
    if (!saved) {
      ll_event_free(e);
      ll_event_free(vev);
      return RUN_FAILED;
    }
    /* the recorder writes metrics.jsonl and the analysis as they pass */
    if (!publish(j, e, error)) {
      ll_event_free(vev);
      return RUN_FAILED;
    }
    if (vev && !publish(j, g_steal_pointer(&vev), error))
      return RUN_FAILED;
    if (s->early_stopping && bad_epochs >= s->es_patience) {
      log_line(j, "early stopping after epoch %d: %s has not improved for %d epochs (best %.5g)",
               epoch, s->es_metric, bad_epochs, best);
      break;
    }
    if (g_atomic_int_get(&t->stop))
      return RUN_STOPPED;
  }
  if (best_state && s->early_stopping && s->es_restore_best) {
    j->h.be->upload(j->h.g->params, best_state, state_floats);
    log_line(j, "restored the weights of the best epoch (%s %.5g)", s->es_metric, best);
  }
  return RUN_FINISHED;
}

/* FALSE, logged, when the backend recorded a failure during `what`. */
static gboolean device_ok(Job *j, const char *what)
{
  GError *derr = NULL;
  if (ll_device_check(j->h.be, &derr))
    return TRUE;
  log_line(j, "%s failed: %s", what, derr->message);
  g_error_free(derr);
  return FALSE;
}

/* The end of a run that trained (or of an evaluation): the test set, the
 * final checkpoint, then the result in the store, in that order, so that
 * the store never records metrics of weights that were not saved. Publishes
 * the test EVAL and the FINISHED events; FALSE when any of it failed. */
static gboolean job_finish(Job *j, GError **error)
{
  LlTrainer *t = j->t;
  LlEvent *ev = ll_event_new(LL_EVENT_EVAL);
  ev->split = g_strdup("test");
  ev->epoch = j->epochs_done;
  ev->epochs = j->s->epochs;
  ev->from_test_set = j->test != NULL;
  GArray *test_idx = j->test_idx;
  g_autoptr(GArray) all = NULL;
  LlPipeline *test_pipe = j->pipe;
  g_autoptr(LlPipeline) own_pipe = NULL;
  if (j->test) {
    /* the test set uses the training set's normalisation statistics */
    if (!(own_pipe = ll_pipeline_new_like(j->pipe, j->test, error))) {
      ll_event_free(ev);
      return FALSE;
    }
    test_pipe = own_pipe;
    all = g_array_sized_new(FALSE, FALSE, sizeof(guint32), j->test->n);
    for (guint32 i = 0; i < j->test->n; i++)
      g_array_append_val(all, i);
    test_idx = all;
  }
  LlEvalResult tr = {0};
  g_autoptr(LlEvent) fin = ll_event_new(LL_EVENT_FINISHED);
  gboolean tested = FALSE;
  if (test_idx->len > 0) {
    double te0 = now();
    if (ll_evaluate(&j->h, test_pipe, test_idx, &tr, ev) && device_ok(j, "the test evaluation")) {
      tested = TRUE;
      ll_eval_add_metrics(&j->h, fin, "test", &tr);
      /* inference throughput over the test set (loading included), for benchmarks */
      ll_event_add_metric(fin, "test_images_per_second",
                          round(test_idx->len / MAX(now() - te0, 1e-9) * 10) / 10);
    }
  }
  ll_eval_result_clear(&tr, j->h.losses->len);
  if (!tested) {
    ll_event_free(g_steal_pointer(&ev));
    if (t->opts.eval_only) {
      g_set_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_VALUE,
                  "nothing to evaluate: the test split of %s is empty", j->train->name);
      return FALSE;
    }
    if (test_idx->len == 0)
      log_line(j, "no test set: the test split of %s is empty (%u sample%s before the splits), "
                  "so the run has no test metrics",
               j->train->name, j->train->n, j->train->n == 1 ? "" : "s");
  }
  g_autofree char *ckpt = NULL;
  if (t->opts.eval_only)
    ckpt = g_strdup(t->resume);
  else if (!save_checkpoint(j, "final.safetensors", j->s->epochs, FALSE, &ckpt, error)) {
    ll_event_free(ev);
    return FALSE;
  }
  if (ev && !publish(j, g_steal_pointer(&ev), error))
    return FALSE;
  fin->checkpoint = g_strdup(ckpt);
  fin->images_per_second = j->images / MAX(j->train_seconds, 1e-9);
  fin->elapsed = now() - j->t0;
  /* the recorder stores the result as it passes */
  return job_ok(j, error) && publish(j, g_steal_pointer(&fin), error);
}

static gpointer trainer_thread(gpointer data)
{
  LlTrainer *t = data;
  Job j = {.t = t, .s = t->spec};
  j.listeners = g_array_copy(t->listeners);
  if (t->opts.background) /* this thread and its loader and kernel workers */
    ll_thread_yield_to_ui();
  GError *error = NULL;
  RunEnd end = RUN_FAILED;
  if (job_setup(&j, &error))
    end = t->opts.eval_only ? RUN_FINISHED : job_train(&j, &error);
  if (end == RUN_FINISHED && !job_finish(&j, &error))
    end = RUN_FAILED;
  if (end == RUN_STOPPED) {
    LlEvent *e = ll_event_new(LL_EVENT_STOPPED);
    GError *serr = NULL;
    char *p = NULL;
    if (j.h.g && j.opt && save_checkpoint(&j, "last.safetensors", j.epochs_done, TRUE, &p, &serr)) {
      e->checkpoint = p;
      e->message = g_strdup("stopped by the user");
    } else {
      e->message = g_strdup_printf("stopped by the user; the checkpoint could not be written: %s",
                                   serr ? serr->message : "no graph");
      g_clear_error(&serr);
    }
    publish(&j, e, NULL);
  } else if (end == RUN_FAILED) {
    LlEvent *e = ll_event_new(LL_EVENT_FAILED);
    e->message = g_strdup(error ? error->message : "unknown error");
    e->spec_mismatch = error && g_error_matches(error, LL_SPEC_ERROR, LL_SPEC_ERROR_MISMATCH);
    publish(&j, e, NULL);
  }
  g_clear_error(&error);
  j.h.g = NULL; /* owned by the spec */
  job_clear(&j);
  g_atomic_int_set(&t->running, 0);
  return NULL;
}

/* ---- public ------------------------------------------------------------------------------ */

LlTrainer *ll_trainer_new(const LlSpec *spec, const LlTrainOptions *opts)
{
  LlTrainer *t = g_new0(LlTrainer, 1);
  /* a private deep copy: saving and re-reading is the one exact copy we have */
  g_autofree char *json = ll_spec_to_json(spec);
  t->spec = ll_spec_load_data(json, -1, "spec", NULL);
  g_assert(t->spec);
  for (guint i = 0; i < spec->graph->blocks->len; i++) {
    LlBlock *src = g_ptr_array_index(spec->graph->blocks, i);
    ll_graph_find(t->spec->graph, src->name)->frozen = src->frozen;
  }
  if (opts)
    t->opts = *opts;
  t->spec_path = g_strdup(t->opts.spec_path);
  t->device = g_strdup(t->opts.device);
  t->resume = g_strdup(t->opts.resume);
  t->store_root = g_strdup(t->opts.store_root);
  t->run_name = g_strdup(t->opts.run_name);
  if (t->opts.epochs > 0)
    t->spec->epochs = t->opts.epochs;
  if (t->opts.batch_size > 0)
    t->spec->batch_size = t->opts.batch_size;
  if (t->opts.seed >= 0 && opts)
    t->spec->seed = (uint64_t)t->opts.seed;
  if (t->device) {
    g_free(t->spec->device);
    t->spec->device = g_strdup(t->device);
  }
  t->events = g_async_queue_new_full((GDestroyNotify)ll_event_free);
  t->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
  g_mutex_init(&t->lock);
  g_cond_init(&t->cond);
  return t;
}

void ll_trainer_add_listener(LlTrainer *t, const LlTrainerListener *l, gpointer data)
{
  g_return_if_fail(!t->thread);
  Listener li = {l, data};
  g_array_append_val(t->listeners, li);
}

gboolean ll_trainer_start(LlTrainer *t, GError **error)
{
  g_return_val_if_fail(!t->thread, FALSE);
  g_atomic_int_set(&t->running, 1);
  t->thread = g_thread_try_new("ll-trainer", trainer_thread, t, error);
  if (!t->thread)
    g_atomic_int_set(&t->running, 0);
  return t->thread != NULL;
}

LlEvent *ll_trainer_pop(LlTrainer *t, guint64 timeout_us)
{
  if (timeout_us == 0)
    return g_async_queue_try_pop(t->events);
  return g_async_queue_timeout_pop(t->events, timeout_us);
}

gboolean ll_trainer_drain(LlTrainer *t, guint64 wait_us, gint64 budget_us,
                          const LlTrainerListener *l, gpointer data)
{
  gint64 t0 = g_get_monotonic_time();
  LlEvent *e = ll_trainer_pop(t, wait_us);
  for (;;) {
    if (!e) {
      if (ll_trainer_is_running(t))
        return TRUE;
      /* the thread has ended: what is queued is all there is */
      if (!(e = ll_trainer_pop(t, 0)))
        return FALSE;
    }
    gboolean last =
        e->kind == LL_EVENT_FINISHED || e->kind == LL_EVENT_FAILED || e->kind == LL_EVENT_STOPPED;
    if (!l->event(data, e, NULL))
      ll_trainer_stop(t);
    ll_event_free(e);
    if (last)
      return FALSE;
    if (g_get_monotonic_time() - t0 >= budget_us && ll_trainer_is_running(t))
      return TRUE;
    e = ll_trainer_pop(t, 0);
  }
}

void ll_trainer_pause(LlTrainer *t) { g_atomic_int_set(&t->pause, 1); }

void ll_trainer_resume(LlTrainer *t)
{
  g_atomic_int_set(&t->pause, 0);
  g_mutex_lock(&t->lock);
  g_cond_broadcast(&t->cond);
  g_mutex_unlock(&t->lock);
}

void ll_trainer_stop(LlTrainer *t)
{
  g_atomic_int_set(&t->stop, 1);
  ll_trainer_resume(t);
}

void ll_trainer_snapshot(LlTrainer *t) { g_atomic_int_set(&t->snapshot, 1); }

gboolean ll_trainer_is_running(LlTrainer *t) { return g_atomic_int_get(&t->running); }

void ll_trainer_join(LlTrainer *t)
{
  if (t->thread) {
    g_thread_join(t->thread);
    t->thread = NULL;
  }
}

void ll_trainer_free(LlTrainer *t)
{
  if (!t)
    return;
  ll_trainer_stop(t);
  ll_trainer_join(t);
  g_async_queue_unref(t->events);
  g_array_unref(t->listeners);
  g_mutex_clear(&t->lock);
  g_cond_clear(&t->cond);
  ll_spec_free(t->spec);
  g_free(t->spec_path);
  g_free(t->device);
  g_free(t->resume);
  g_free(t->store_root);
  g_free(t->run_name);
  g_free(t);
}
