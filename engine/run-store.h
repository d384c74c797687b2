/* run-store.h: every training run gets an id, a folder and a row.
 *
 * Layout under the root (default: $XDG_DATA_HOME/layerlab):
 *   runs.sqlite            the index (SQLite, WAL, table schema_version)
 *   runs/<id>/spec.json    the spec the run was started from
 *   runs/<id>/metrics.jsonl one JSON object per line, appended per epoch
 *   runs/<id>/...          checkpoints, figures
 *
 * Several processes may share a store (a sweep runs one `layerlab train` per
 * run). A run records its process id, host and boot id; when a store is
 * opened, runs still marked running whose process is gone become crashed.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LL_RUN_STORE_ERROR (ll_run_store_error_quark())
GQuark ll_run_store_error_quark(void);
typedef enum {
  LL_RUN_STORE_ERROR_IO,        /* folders or files */
  LL_RUN_STORE_ERROR_DB,        /* SQLite said no */
  LL_RUN_STORE_ERROR_SCHEMA,    /* written by a newer LayerLab */
  LL_RUN_STORE_ERROR_NOT_FOUND, /* no run with that id */
  LL_RUN_STORE_ERROR_INVALID,   /* bad arguments */
  LL_RUN_STORE_ERROR_READ_ONLY, /* the store can be read but not written */
} LlRunStoreError;

typedef enum {
  LL_RUN_RUNNING,
  LL_RUN_FINISHED,
  LL_RUN_FAILED,
  LL_RUN_STOPPED, /* by the user */
  LL_RUN_CRASHED, /* the process ended without saying how */
} LlRunStatus;

const char *ll_run_status_to_string(LlRunStatus s); /* "running", ... */
gboolean ll_run_status_from_string(const char *s, LlRunStatus *out);

/* One run. Strings may be NULL where unknown. For ll_run_store_create_run
 * the caller fills name, spec_json, spec_hash, hyperparams_json, seed,
 * dataset_fingerprint, device and params_count; the store fills the rest. */
typedef struct {
  char *id;          /* "20261123-174501-3f2a": UTC time + random, sorts by creation */
  char *dir;         /* root/runs/<id> */
  char *name;        /* the user's label */
  gint64 created_us; /* wall clock, microseconds since the epoch */
  char *spec_hash;   /* NULL at creation: SHA-256 of spec_json */
  char *spec_json;
  char *hyperparams_json;
  guint64 seed;
  char *dataset_fingerprint;
  char *device; /* "cpu", "cuda:0 (NVIDIA H100)" */
  LlRunStatus status;
  gint64 params_count;
  char *metrics_json; /* final metrics: {"test_loss": ..., "test_accuracy": ...} */
  char *best_metric_name;
  double best_metric; /* NAN when none */
  double duration_s;  /* from creation to the final status; 0 while running */
  char *checkpoint;   /* path of the latest checkpoint */
  char *error;        /* why it failed or crashed */
  gint64 pid;         /* the process that runs it; 0 at creation: this one */
  char *host;
  char *boot_id;
  char *notes; /* the user's notes, NULL when none */
  char **tags; /* the user's tags (NULL-terminated), NULL when none */
} LlRunInfo;

LlRunInfo *ll_run_info_new(void);
void ll_run_info_free(LlRunInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlRunInfo, ll_run_info_free)

typedef struct LlRunStore LlRunStore;

/* Opens (creating) the store under root (NULL: g_get_user_data_dir()/layerlab)
 * and marks the runs of dead processes crashed: their unfinished writes
 * (checkpoint and JSON temporaries) are removed and a surviving
 * last.safetensors becomes their checkpoint. A store that exists but cannot
 * be written (a read-only folder or file system) opens read-only: reading
 * works, every write fails with LL_RUN_STORE_ERROR_READ_ONLY naming the
 * folder. Opening writes nothing when the store is up to date, so a full
 * disk does not stop reading either. */
LlRunStore *ll_run_store_open(const char *root, GError **error);
void ll_run_store_close(LlRunStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LlRunStore, ll_run_store_close)
const char *ll_run_store_root(LlRunStore *store);
gboolean ll_run_store_is_read_only(LlRunStore *store);

/* Creates the run's folder, writes spec.json, inserts the row with status
 * running and this process's pid. id_out, dir_out may be NULL (g_free). */
gboolean ll_run_store_create_run(LlRunStore *store, const LlRunInfo *info, char **id_out,
                                 char **dir_out, GError **error);
/* Sets the status and the run's error message (NULL clears it). A status
 * other than running records the duration since creation. */
gboolean ll_run_store_update_status(LlRunStore *store, const char *id, LlRunStatus status,
                                    const char *error_message, GError **error);
/* metrics_json must be a JSON object. */
gboolean ll_run_store_set_metrics(LlRunStore *store, const char *id, const char *metrics_json,
                                  GError **error);
gboolean ll_run_store_set_best_metric(LlRunStore *store, const char *id, const char *name,
                                      double value, GError **error);
gboolean ll_run_store_set_checkpoint(LlRunStore *store, const char *id, const char *path,
                                     GError **error);
/* A run's end in one update: its final metrics (a JSON object), its
 * checkpoint and the status finished, all or nothing. */
gboolean ll_run_store_finish_run(LlRunStore *store, const char *id, const char *metrics_json,
                                 const char *checkpoint, GError **error);
/* The user's label, notes and tags of a run. A name of NULL or "" clears
 * it (the run is then shown by its spec); a name is one line of at most
 * LL_RUN_NAME_MAX bytes, notes at most LL_RUN_NOTES_MAX bytes, both UTF-8.
 * Tags: see ll_run_tags_parse. */
#define LL_RUN_NAME_MAX  200
#define LL_RUN_NOTES_MAX 65536
#define LL_RUN_TAG_MAX   64
#define LL_RUN_TAGS_MAX  32
gboolean ll_run_store_set_name(LlRunStore *store, const char *id, const char *name, GError **error);
gboolean ll_run_store_set_notes(LlRunStore *store, const char *id, const char *notes,
                                GError **error);
gboolean ll_run_store_set_tags(LlRunStore *store, const char *id, const char *const *tags,
                               GError **error);
/* Adds (remove FALSE) or removes one tag, keeping the others. */
gboolean ll_run_store_edit_tag(LlRunStore *store, const char *id, const char *tag, gboolean remove,
                               GError **error);
/* "a, b,c" -> {"a", "b", "c"}: comma-separated, trimmed, empty ones and
 * repeats dropped; a tag is at most LL_RUN_TAG_MAX bytes of UTF-8 without
 * control characters, at most LL_RUN_TAGS_MAX of them. *out is NULL when
 * there are none (g_strfreev). */
gboolean ll_run_tags_parse(const char *text, char ***out, GError **error);
/* "a, b, c", or "" when none (g_free). */
char *ll_run_tags_to_string(const char *const *tags);

/* Every run, newest first (LlRunInfo*, freed by the array). */
gboolean ll_run_store_list(LlRunStore *store, GPtrArray **runs_out, GError **error);
gboolean ll_run_store_get(LlRunStore *store, const char *id, LlRunInfo **out, GError **error);

/* The checkpoint file a spec's init_from names: "run:<id>" (or a bare id)
 * gives the run's best.safetensors, or its last.safetensors when it has no
 * best (as the trainer resolves it); a path ending in ".safetensors" is
 * returned as is. store may be NULL for a path. Errors name the run. */
char *ll_run_store_resolve_checkpoint(LlRunStore *store, const char *ref, GError **error);
/* The same for --resume: the run's last.safetensors (where training stopped). */
char *ll_run_store_resolve_last_checkpoint(LlRunStore *store, const char *ref, GError **error);

/* Appends one line (a JSON object, no newline inside) to dir/metrics.jsonl
 * and flushes it, so a crash keeps the curve up to the last epoch. */
gboolean ll_run_store_append_metrics_line(const char *dir, const char *json_line, GError **error);

G_END_DECLS
