/* trainer.h: one training job on its own thread.
 *
 * The trainer owns its graph, data and optimizer; nobody else touches them
 * while it runs. It publishes LlEvents (event.h) to its listeners: the run
 * recorder (run-recorder.h) on the training thread, and through a queue to
 * the window, which drains it on its frame clock, and the CLI, which
 * drains it by printing. Control (pause, resume, stop, snapshot) is by
 * atomics, safe from any thread. */
#pragma once

#include "device.h" /* ll_devices_list, ll_device_backend */
#include "event.h"
#include "run-store.h"
#include "spec.h"

G_BEGIN_DECLS

typedef struct LlTrainer LlTrainer;

/* A consumer of a trainer's events. Every one (the window, the command
 * line, a study, the run recorder) takes them through this table, in one
 * of two places:
 *   - on the training thread (ll_trainer_add_listener), as each event is
 *     published, before it is queued: the run recorder sits there, so that
 *     nothing is reported that was not recorded;
 *   - on the consumer's own thread (ll_trainer_drain), from the queue, so
 *     that the training thread never waits for it: the window on its frame
 *     clock, the command line and a study's runner. */
typedef struct {
  /* One event, in the order published; e is lent for the call
   * (ll_event_dup keeps a copy). FALSE, with error set, when the consumer
   * could not take it: on the training thread the run then fails with that
   * error and the event (unless it is the run's last) is not queued; on a
   * drain, the run is stopped. */
  gboolean (*event)(gpointer data, const LlEvent *e, GError **error);
  /* Optional, training thread only: after an epoch, the checkpoint a
   * resume continues from (last.safetensors) was written at path. FALSE
   * fails the run. */
  gboolean (*checkpoint)(gpointer data, const char *path, GError **error);
} LlTrainerListener;

typedef struct {
  const char *spec_path;  /* for the run record (may be NULL) */
  const char *run_name;   /* the run's name in the store; NULL: the spec's name, else the
                           * spec file's name without ".json" */
  int epochs, batch_size; /* > 0 overrides the spec */
  int64_t seed;           /* >= 0 overrides the spec */
  const char *device;     /* overrides the spec */
  const char *resume;     /* run id or checkpoint path */
  const char *store_root; /* NULL: the XDG data dir */
  gboolean no_store;      /* do not record the run (tests) */
  gboolean eval_only;     /* load `resume`'s weights, evaluate the test set, train nothing */
  gboolean background;    /* lower the run's thread priority (LL_BACKGROUND_NICE) so a window driving it
                           * keeps its frame budget on a machine with few cores; the CPU
                           * backend's worker threads, created from this thread, inherit it */
} LlTrainOptions;

/* Takes a copy of the spec. Nothing runs until ll_trainer_start. */
LlTrainer *ll_trainer_new(const LlSpec *spec, const LlTrainOptions *opts);
void ll_trainer_free(LlTrainer *t); /* stops and joins the thread */
/* Calls l with data on the training thread for every event the run
 * publishes, after the listeners added before it. Only before
 * ll_trainer_start; l and data must outlive the run. */
void ll_trainer_add_listener(LlTrainer *t, const LlTrainerListener *l, gpointer data);
gboolean ll_trainer_start(LlTrainer *t, GError **error);
/* The next event, waiting up to timeout_us (0: do not wait); NULL if none. */
LlEvent *ll_trainer_pop(LlTrainer *t, guint64 timeout_us);
/* Hands queued events to l's event slot (error NULL) on the caller's
 * thread: waits up to wait_us for the first, then takes what is queued
 * until budget_us have passed since the call. Returns FALSE once the run
 * is over: its last event (finished, failed, stopped) was handed over, or
 * the thread ended and the queue is empty (then everything left is handed
 * over, whatever the budget); the caller then joins or frees the trainer. */
gboolean ll_trainer_drain(LlTrainer *t, guint64 wait_us, gint64 budget_us,
                          const LlTrainerListener *l, gpointer data);
void ll_trainer_pause(LlTrainer *t);
void ll_trainer_resume(LlTrainer *t);
void ll_trainer_stop(LlTrainer *t);
/* Writes a checkpoint at the next step boundary. */
void ll_trainer_snapshot(LlTrainer *t);
gboolean ll_trainer_is_running(LlTrainer *t);
/* Waits for the thread to end. */
void ll_trainer_join(LlTrainer *t);

G_END_DECLS
