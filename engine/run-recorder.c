/* run-recorder.c: a run's record in the store, from its events (run-recorder.h). */
#include "run-recorder.h"

#include <string.h>

#include "analysis.h"

struct LlRunRecorder {
  LlRunStore *store; /* borrowed */
  char *id, *dir;
  gboolean last_named; /* the row's checkpoint names last.safetensors */
};

LlRunRecorder *ll_run_recorder_new(LlRunStore *store, const char *name, const LlSpec *s,
                                   const LlDataset *train, const char *device, GError **error)
{
  g_autofree char *spec_json = ll_spec_to_json(s);
  g_autofree char *hash = ll_spec_hash(s);
  g_autofree char *fp = ll_dataset_fingerprint(train);
  g_autofree char *hp =
      g_strdup_printf("{\"epochs\": %d, \"batch_size\": %d, \"optimizer\": \"%s\", \"lr\": %g, "
                      "\"weight_decay\": %g}",
                      s->epochs, s->batch_size, ll_optim_kind_name(s->optim.kind), s->optim.lr,
                      s->optim.weight_decay);
  LlRunInfo info = {
      .name = (char *)name,
      .spec_hash = hash,
      .spec_json = spec_json,
      .seed = s->seed,
      .dataset_fingerprint = fp,
      .device = (char *)device,
      .status = LL_RUN_RUNNING,
      .params_count = (gint64)ll_graph_param_count(s->graph),
      .hyperparams_json = hp,
  };
  g_autoptr(LlRunRecorder) r = g_new0(LlRunRecorder, 1);
  r->store = store;
  if (!ll_run_store_create_run(store, &info, &r->id, &r->dir, error))
    return NULL;
  return g_steal_pointer(&r);
}

void ll_run_recorder_free(LlRunRecorder *r)
{
  if (!r)
    return;
  g_free(r->id);
  g_free(r->dir);
  g_free(r);
}

const char *ll_run_recorder_get_id(const LlRunRecorder *r) { return r->id; }

const char *ll_run_recorder_get_dir(const LlRunRecorder *r) { return r->dir; }

/* The event as one JSON line of the run's own record: without the run id,
 * which the folder and the row already are. */
static char *record_line(const LlEvent *e)
{
  LlEvent bare = *e;
  bare.run_id = NULL;
  return ll_event_to_json(&bare);
}

static gboolean on_event(gpointer data, const LlEvent *e, GError **error)
{
  LlRunRecorder *r = data;
  switch (e->kind) {
  case LL_EVENT_EPOCH: {
    g_autofree char *line = record_line(e);
    return ll_run_store_append_metrics_line(r->dir, line, error);
  }
  case LL_EVENT_EVAL:
    if (!ll_analysis_save(r->dir, e, error)) {
      g_prefix_error(error, "could not save the analysis of the %s set: ",
                     e->split && !strcmp(e->split, "test") ? "test" : "validation");
      return FALSE;
    }
    return TRUE;
  case LL_EVENT_FINISHED: {
    /* the test metrics of weights already saved (final.safetensors) */
    g_autofree char *line = record_line(e);
    return ll_run_store_finish_run(r->store, r->id, line, e->checkpoint, error);
  }
  case LL_EVENT_STOPPED:
    /* the run's last event: what cannot be recorded is left as it is */
    if (e->checkpoint)
      ll_run_store_set_checkpoint(r->store, r->id, e->checkpoint, NULL);
    ll_run_store_update_status(r->store, r->id, LL_RUN_STOPPED, e->checkpoint ? NULL : e->message,
                               NULL);
    return TRUE;
  case LL_EVENT_FAILED:
    ll_run_store_update_status(r->store, r->id, LL_RUN_FAILED, e->message, NULL);
    return TRUE;
  case LL_EVENT_STARTED:
  case LL_EVENT_BATCH:
  case LL_EVENT_LOG: return TRUE;
  }
  return TRUE;
}

static gboolean on_checkpoint(gpointer data, const char *path, GError **error)
{
  LlRunRecorder *r = data;
  if (r->last_named)
    return TRUE;
  if (!ll_run_store_set_checkpoint(r->store, r->id, path, error))
    return FALSE;
  r->last_named = TRUE;
  return TRUE;
}

const LlTrainerListener *ll_run_recorder_listener(void)
{
  static const LlTrainerListener listener = {.event = on_event, .checkpoint = on_checkpoint};
  return &listener;
}
