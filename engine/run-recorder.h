/* run-recorder.h: records a run in the run store while it trains.
 *
 * The trainer makes one when the run is to be kept (a store is open and it
 * trains), then hands it every event through the interface every consumer
 * uses (LlTrainerListener), on the training thread, before the event is
 * queued: a write that fails (a full disk) fails the run, so no one is told
 * of an epoch, an analysis or a result the store does not hold. It writes
 *   - the run's row and folder (ll_run_recorder_new),
 *   - metrics.jsonl: one line per epoch event,
 *   - analysis/: each evaluation's payload (analysis.h),
 *   - the checkpoint the row names: last.safetensors from the first one
 *     on (so that a run that crashes later still points at its weights),
 *     then final.safetensors when it finishes, last.safetensors when
 *     stopped,
 *   - how the run ended: finished with its metrics, stopped, or failed
 *     with its message. */
#pragma once

#include "run-store.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef struct LlRunRecorder LlRunRecorder;

/* Creates the run `name` of spec s (as it trains: overrides applied, its
 * graph's parameters counted) on train's data and that device in store,
 * which must outlive the recorder; NULL, with error set, when the store
 * cannot. */
LlRunRecorder *ll_run_recorder_new(LlRunStore *store, const char *name, const LlSpec *s,
                                   const LlDataset *train, const char *device, GError **error);
void ll_run_recorder_free(LlRunRecorder *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlRunRecorder, ll_run_recorder_free)
const char *ll_run_recorder_get_id(const LlRunRecorder *r);
/* The run's folder, where its checkpoints go. */
const char *ll_run_recorder_get_dir(const LlRunRecorder *r);
/* Its listener table; the data to pass with it is the recorder. */
const LlTrainerListener *ll_run_recorder_listener(void);

G_END_DECLS
