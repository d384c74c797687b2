/* run-store.c: the SQLite index of runs and their folders. */
#include "run-store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "json-doc.h"
#include "untrusted.h"

G_DEFINE_QUARK(ll - run - store - error - quark, ll_run_store_error)

#define SCHEMA_VERSION 2

struct LlRunStore {
  char *root;
  char *runs_dir;
  char *db_path;
  sqlite3 *db;
  char *read_only; /* why the store cannot be written; NULL when it can */
  int schema;      /* the version read: 1 lacks notes and tags */
  GMutex lock;     /* one connection, shared by the UI and trainer threads */
};

static const char *const status_names[] = {
    [LL_RUN_RUNNING] = "running", [LL_RUN_FINISHED] = "finished", [LL_RUN_FAILED] = "failed",
    [LL_RUN_STOPPED] = "stopped", [LL_RUN_CRASHED] = "crashed",
};

const char *ll_run_status_to_string(LlRunStatus s)
{
  return (unsigned)s < G_N_ELEMENTS(status_names) ? status_names[s] : "unknown";
}

gboolean ll_run_status_from_string(const char *s, LlRunStatus *out)
{
  for (guint i = 0; s && i < G_N_ELEMENTS(status_names); i++)
    if (!strcmp(s, status_names[i])) {
      *out = (LlRunStatus)i;
      return TRUE;
    }
  return FALSE;
}

LlRunInfo *ll_run_info_new(void)
{
  LlRunInfo *r = g_new0(LlRunInfo, 1);
  r->best_metric = NAN;
  return r;
}

void ll_run_info_free(LlRunInfo *r)
{
  if (!r)
    return;
  g_free(r->id);
  g_free(r->dir);
  g_free(r->name);
  g_free(r->spec_hash);
  g_free(r->spec_json);
  g_free(r->hyperparams_json);
  g_free(r->dataset_fingerprint);
  g_free(r->device);
  g_free(r->metrics_json);
  g_free(r->best_metric_name);
  g_free(r->checkpoint);
  g_free(r->error);
  g_free(r->host);
  g_free(r->boot_id);
  g_free(r->notes);
  g_strfreev(r->tags);
  g_free(r);
}

/* ---- the identity of a process ---------------------------------------------------------- */

/* Changes at every boot, so a pid from an earlier boot is known dead. */
static char *read_boot_id(void)
{
  char *s = NULL;
  if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &s, NULL, NULL))
    return g_strdup("");
  return g_strstrip(s);
}

/* The process's start time in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), which tells a reused pid from the original; 0 when
 * unknown. */
static gint64 proc_start_time(gint64 pid)
{
  g_autofree char *path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/stat", pid);
  g_autofree char *s = NULL;
  if (!g_file_get_contents(path, &s, NULL, NULL))
    return 0;
  /* the command name may hold spaces and parentheses: fields resume after the last ')' */
  const char *p = strrchr(s, ')');
  if (!p)
    return 0;
  g_auto(GStrv) f = g_strsplit_set(p + 1, " \n", -1);
  /* f[0] is the empty string before the space, f[1] field 3 (state), ... */
  if (g_strv_length(f) < 21)
    return 0;
  return g_ascii_strtoll(f[20], NULL, 10);
}

static gboolean process_gone(gint64 pid, const char *host, const char *boot_id, gint64 start)
{
  if (g_strcmp0(host, g_get_host_name()) != 0)
    return FALSE; /* another machine's run: we cannot tell */
  g_autofree char *boot = read_boot_id();
  if (boot_id && *boot_id && *boot && strcmp(boot_id, boot) != 0)
    return TRUE;
  if (pid <= 0 || pid > G_MAXINT)
    return TRUE;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
    return TRUE;
  gint64 now_start = proc_start_time(pid);
  return start > 0 && now_start > 0 && now_start != start;
}

/* ---- SQLite helpers ------------------------------------------------------------------- */

static void db_error(LlRunStore *s, GError **error, const char *what)
{
  g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_DB, "run store \"%s\": %s: %s",
              s->db_path, what, sqlite3_errmsg(s->db));
}

static gboolean db_exec(LlRunStore *s, const char *sql, GError **error)
{
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_DB, "run store \"%s\": %s",
                s->db_path, msg ? msg : "unknown SQLite error");
    sqlite3_free(msg);
    return FALSE;
  }
  return TRUE;
}

static sqlite3_stmt *db_prepare(LlRunStore *s, const char *sql, GError **error)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
    db_error(s, error, "cannot prepare a statement");
    return NULL;
  }
  return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

static char *col_text(sqlite3_stmt *st, int i)
{
  if (sqlite3_column_type(st, i) == SQLITE_NULL)
    return NULL;
  return g_strdup((const char *)sqlite3_column_text(st, i));
}

static gint64 now_us(void) { return g_get_real_time(); }

/* ---- opening ------------------------------------------------------------------------------ */

static const char schema_v1[] = "CREATE TABLE runs ("
                                "  id TEXT PRIMARY KEY,"
                                "  name TEXT,"
                                "  created INTEGER NOT NULL," /* microseconds since the epoch */
                                "  spec_hash TEXT,"
                                "  spec_json TEXT,"
                                "  hyperparams TEXT,"
                                "  seed INTEGER NOT NULL DEFAULT 0," /* the uint64 seed's bits */
                                "  dataset_fingerprint TEXT,"
                                "  device TEXT,"
                                "  status TEXT NOT NULL,"
                                "  params_count INTEGER NOT NULL DEFAULT 0,"
                                "  metrics TEXT,"
                                "  best_metric_name TEXT,"
                                "  best_metric REAL,"
                                "  duration REAL NOT NULL DEFAULT 0,"
                                "  checkpoint TEXT,"
                                "  error TEXT,"
                                "  pid INTEGER,"
                                "  host TEXT,"
                                "  boot_id TEXT,"
                                "  proc_start INTEGER,"
                                "  updated INTEGER NOT NULL"
                                ");"
                                "CREATE INDEX runs_by_created ON runs (created);"
                                "INSERT INTO schema_version (version) VALUES (1);";

/* Version 2: the user's notes and tags (a store of version 1 is migrated
 * when opened for writing, and read as is, without them, when it cannot be
 * written). */
static const char schema_v2[] = "ALTER TABLE runs ADD COLUMN notes TEXT;"
                                "ALTER TABLE runs ADD COLUMN tags TEXT;"
                                "INSERT INTO schema_version (version) VALUES (2);";

/* The schema version, read without a write transaction; 0 when the store
 * is new (no table yet), -1 on an error. */
static int schema_version(LlRunStore *s, GError **error)
{
  sqlite3_stmt *st = db_prepare(
      s, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version';",
      error);
  if (!st)
    return -1;
  gboolean have = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
  sqlite3_finalize(st);
  if (!have)
    return 0;
  if (!(st = db_prepare(s, "SELECT MAX(version) FROM schema_version;", error)))
    return -1;
  int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return version;
}

static gboolean ensure_schema(LlRunStore *s, GError **error)
{
  /* an up-to-date store is only read here, so that a full disk or a
   * read-only store still opens */
  int current = schema_version(s, error);
  if (current < 0)
    return FALSE;
  if (current == SCHEMA_VERSION) {
    s->schema = current;
    return TRUE;
  }
  if (current >= 1 && current < SCHEMA_VERSION && s->read_only) {
    /* an older store that cannot be migrated here is still read */
    s->schema = current;
    return TRUE;
  }
  if (current < SCHEMA_VERSION && s->read_only) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_READ_ONLY,
                "run store \"%s\" holds no runs and cannot be written (%s)", s->root,
                s->read_only);
    return FALSE;
  }
  if (!db_exec(s, "BEGIN IMMEDIATE;", error))
    return FALSE;
  if (!db_exec(s, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);", error))
    goto fail;
  sqlite3_stmt *st = db_prepare(s, "SELECT MAX(version) FROM schema_version;", error);
  if (!st)
    goto fail;
  int version = 0;
  if (sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (version > SCHEMA_VERSION) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_SCHEMA,
                "run store \"%s\": schema version %d was written by a newer LayerLab (this one "
                "reads version %d)",
                s->db_path, version, SCHEMA_VERSION);
    goto fail;
  }
  if (version < 1 && !db_exec(s, schema_v1, error))
    goto fail;
  if (version < 2 && !db_exec(s, schema_v2, error))
    goto fail;
  if (!db_exec(s, "COMMIT;", error))
    goto fail;
  s->schema = SCHEMA_VERSION;
  return TRUE;
fail:
  db_exec(s, "ROLLBACK;", NULL);
  return FALSE;
}

static gboolean mark_crashed(LlRunStore *s, GError **error)
{
  sqlite3_stmt *st = db_prepare(
      s, "SELECT id, pid, host, boot_id, proc_start FROM runs WHERE status = 'running';", error);
  if (!st)
    return FALSE;
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func(g_free);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    g_autofree char *host = col_text(st, 2);
    g_autofree char *boot = col_text(st, 3);
    if (process_gone(sqlite3_column_int64(st, 1), host, boot, sqlite3_column_int64(st, 4)))
      g_ptr_array_add(dead, col_text(st, 0));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    db_error(s, error, "cannot list the running runs");
    return FALSE;
  }
  for (guint i = 0; i < dead->len; i++) {
    /* status re-checked: another process may have finished it meanwhile */
    st = db_prepare(s,
                    "UPDATE runs SET status = 'crashed', updated = ?1, duration = "
                    "(?1 - created) / 1e6, error = COALESCE(error, 'the process (pid ' || pid || "
                    "') ended without recording a result'), checkpoint = COALESCE(checkpoint, ?3) "
                    "WHERE id = ?2 AND status = 'running';",
                    error);
    if (!st)
      return FALSE;
    /* the weights it left, where --resume continues */
    g_autofree char *last = g_build_filename(s->runs_dir, dead->pdata[i], "last.safetensors", NULL);
    sqlite3_bind_int64(st, 1, now_us());
    bind_text(st, 2, dead->pdata[i]);
    bind_text(st, 3, g_file_test(last, G_FILE_TEST_IS_REGULAR) ? last : NULL);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      db_error(s, error, "cannot mark a run crashed");
      return FALSE;
    }
  }
  return TRUE;
}

/* A temporary file of a write that never finished: a checkpoint's
 * "<name>.tmp-XXXXXX" (checkpoint.c) or g_file_set_contents's
 * "<name>.XXXXXX" next to a JSON, JSONL or NPY file. */
static gboolean is_leftover(const char *name)
{
  size_t n = strlen(name);
  if (n < 8)
    return FALSE;
  for (size_t i = n - 6; i < n; i++)
    if (!g_ascii_isalnum(name[i]))
      return FALSE;
  if (n > 11 && !strncmp(name + n - 11, ".tmp-", 5)) {
    g_autofree char *stem = g_strndup(name, n - 11);
    return g_str_has_suffix(stem, ".safetensors");
  }
  if (name[n - 7] != '.')
    return FALSE;
  g_autofree char *stem = g_strndup(name, n - 7);
  return g_str_has_suffix(stem, ".json") || g_str_has_suffix(stem, ".jsonl") ||
         g_str_has_suffix(stem, ".npy");
}

static void remove_leftovers_in(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (is_leftover(name)) {
      g_autofree char *path = g_build_filename(dir, name, NULL);
      if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
        g_unlink(path);
    }
  g_dir_close(d);
}

/* The crashed runs' unfinished writes are removed. Only crashed runs: a
 * live process may be writing its own temporaries right now. */
static gboolean tidy_crashed(LlRunStore *s, GError **error)
{
  sqlite3_stmt *st = db_prepare(s, "SELECT id FROM runs WHERE status = 'crashed';", error);
  if (!st)
    return FALSE;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *id = (const char *)sqlite3_column_text(st, 0);
    if (!id || !*id || strchr(id, G_DIR_SEPARATOR) || !strcmp(id, "..") || !strcmp(id, "."))
      continue;
    g_autofree char *dir = g_build_filename(s->runs_dir, id, NULL);
    g_autofree char *analysis = g_build_filename(dir, "analysis", NULL);
    remove_leftovers_in(dir);
    remove_leftovers_in(analysis);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    db_error(s, error, "cannot list the crashed runs");
    return FALSE;
  }
  return TRUE;
}

void ll_run_store_close(LlRunStore *s)
{
  if (!s)
    return;
  if (s->db)
    sqlite3_close(s->db);
  g_mutex_clear(&s->lock);
  g_free(s->root);
  g_free(s->runs_dir);
  g_free(s->db_path);
  g_free(s->read_only);
  g_free(s);
}

typedef enum { OPEN_READ_WRITE, OPEN_READ_ONLY, OPEN_IMMUTABLE } OpenMode;

/* Opens the database and reads its schema. Read-only, SQLite still needs
 * the WAL index (runs.sqlite-shm) and cannot create it on a full disk or a
 * read-only file system: there the file is opened immutable (nothing can
 * write it meanwhile anyway). */
static gboolean open_db(LlRunStore *s, OpenMode mode, GError **error)
{
  g_clear_pointer(&s->db, sqlite3_close);
  g_autofree char *uri = NULL;
  int flags = mode == OPEN_READ_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                      : SQLITE_OPEN_READONLY;
  if (mode == OPEN_IMMUTABLE) {
    g_autofree char *abs = g_canonicalize_filename(s->db_path, NULL);
    g_autofree char *base = g_filename_to_uri(abs, NULL, NULL);
    uri = base ? g_strconcat(base, "?immutable=1", NULL) : NULL;
    flags |= SQLITE_OPEN_URI;
  }
  if (sqlite3_open_v2(uri ? uri : s->db_path, &s->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) !=
      SQLITE_OK) {
    if (s->db)
      db_error(s, error, "cannot open the database");
    else
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_DB,
                  "run store \"%s\": cannot open the database", s->db_path);
    return FALSE;
  }
  /* sweeps write from several processes at once */
  sqlite3_busy_timeout(s->db, 10000);
  if (mode == OPEN_READ_WRITE &&
      !db_exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", error))
    return FALSE;
  return ensure_schema(s, error);
}

static char *why_read_only(LlRunStore *s, int mkdir_errno)
{
  if (mkdir_errno)
    return g_strdup_printf("cannot create \"%s\": %s", s->runs_dir, g_strerror(mkdir_errno));
  if (access(s->root, W_OK) != 0) {
    int e = errno;
    return g_strdup_printf("cannot write in \"%s\": %s", s->root, g_strerror(e));
  }
  if (access(s->db_path, F_OK) == 0 && access(s->db_path, W_OK) != 0) {
    int e = errno;
    return g_strdup_printf("cannot write \"%s\": %s", s->db_path, g_strerror(e));
  }
  return NULL;
}

LlRunStore *ll_run_store_open(const char *root, GError **error)
{
  g_autoptr(LlRunStore) s = g_new0(LlRunStore, 1);
  g_mutex_init(&s->lock);
  s->root = root ? g_strdup(root) : g_build_filename(g_get_user_data_dir(), "layerlab", NULL);
  s->runs_dir = g_build_filename(s->root, "runs", NULL);
  s->db_path = g_build_filename(s->root, "runs.sqlite", NULL);
  int mkdir_errno = 0;
  if (g_mkdir_with_parents(s->runs_dir, 0755) != 0) {
    mkdir_errno = errno;
    /* a store that exists but cannot be written is still read */
    if (!g_file_test(s->db_path, G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO,
                  "run store: cannot create \"%s\": %s", s->runs_dir, g_strerror(mkdir_errno));
      return NULL;
    }
  }
  s->read_only = why_read_only(s, mkdir_errno);
  if (!s->read_only) {
    GError *local = NULL;
    if (open_db(s, OPEN_READ_WRITE, &local)) {
      /* bookkeeping of runs whose process died; a full disk postpones it
       * to the next open */
      if (mark_crashed(s, NULL))
        tidy_crashed(s, NULL);
      return g_steal_pointer(&s);
    }
    int e = s->db ? sqlite3_system_errno(s->db) : 0;
    if (g_error_matches(local, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_SCHEMA) ||
        !g_file_test(s->db_path, G_FILE_TEST_IS_REGULAR)) {
      g_propagate_error(error, local);
      return NULL;
    }
    /* a full disk, or a database file we may not write: read it */
    s->read_only = g_strdup_printf("cannot write \"%s\": %s", s->db_path,
                                   e ? g_strerror(e) : local->message);
    g_error_free(local);
  }
  if (!g_file_test(s->db_path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_READ_ONLY,
                "run store \"%s\" holds no runs and cannot be written (%s)", s->root,
                s->read_only);
    return NULL;
  }
  if (!open_db(s, OPEN_READ_ONLY, NULL) && !open_db(s, OPEN_IMMUTABLE, error))
    return NULL;
  return g_steal_pointer(&s);
}

gboolean ll_run_store_is_read_only(LlRunStore *s) { return s->read_only != NULL; }

/* Fails, naming the folder, when the store cannot be written. */
static gboolean check_writable(LlRunStore *s, const char *what, GError **error)
{
  if (!s->read_only)
    return TRUE;
  g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_READ_ONLY,
              "cannot %s: run store \"%s\" is not writable (%s)", what, s->root, s->read_only);
  return FALSE;
}

const char *ll_run_store_root(LlRunStore *s) { return s->root; }

/* ---- writing runs ------------------------------------------------------------------------ */

static gboolean check_json(const char *what, const char *text, gboolean object, GError **error)
{
  g_autoptr(JsonParser) p = json_parser_new_immutable();
  GError *local = NULL;
  if (!ll_json_parser_load(p, text, -1, what, &local)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "run store: %s is not valid JSON: %s", what, local->message);
    g_error_free(local);
    return FALSE;
  }
  JsonNode *root = json_parser_get_root(p);
  if (object && (!root || !JSON_NODE_HOLDS_OBJECT(root))) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "run store: %s is not a JSON object", what);
    return FALSE;
  }
  return TRUE;
}

static char *new_id(void)
{
  g_autoptr(GDateTime) t = g_date_time_new_now_utc();
  g_autofree char *stamp = g_date_time_format(t, "%Y%m%d-%H%M%S");
  return g_strdup_printf("%s-%04x", stamp, (unsigned)g_random_int_range(0, 0x10000));
}

static void remove_run_dir(const char *dir)
{
  g_autofree char *spec = g_build_filename(dir, "spec.json", NULL);
  g_unlink(spec);
  g_rmdir(dir);
}

gboolean ll_run_store_create_run(LlRunStore *s, const LlRunInfo *info, char **id_out,
                                 char **dir_out, GError **error)
{
  if (info->spec_json && !check_json("the spec", info->spec_json, TRUE, error))
    return FALSE;
  if (info->hyperparams_json &&
      !check_json("the hyperparameters", info->hyperparams_json, TRUE, error))
    return FALSE;
  g_autofree char *hash =
      info->spec_hash   ? g_strdup(info->spec_hash)
      : info->spec_json ? g_compute_checksum_for_string(G_CHECKSUM_SHA256, info->spec_json, -1)
                        : NULL;
  if (!check_writable(s, "record a new run", error))
    return FALSE;
  g_autofree char *boot = read_boot_id();
  gint64 pid = info->pid > 0 ? info->pid : (gint64)getpid();
  gint64 created = now_us();
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);

  /* the folder is claimed first (mkdir fails if it exists), then the row;
   * two processes drawing the same id in the same second retry */
  for (int attempt = 0; attempt < 64; attempt++) {
    g_autofree char *id = new_id();
    g_autofree char *dir = g_build_filename(s->runs_dir, id, NULL);
    if (g_mkdir(dir, 0755) != 0) {
      int e = errno;
      if (e == EEXIST)
        continue;
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO,
                  "run store: cannot create the run folder \"%s\": %s", dir, g_strerror(e));
      return FALSE;
    }
    if (info->spec_json) {
      g_autofree char *spec = g_build_filename(dir, "spec.json", NULL);
      GError *local = NULL;
      if (!g_file_set_contents(spec, info->spec_json, -1, &local)) {
        g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO, "run store: %s",
                    local->message);
        g_error_free(local);
        remove_run_dir(dir);
        return FALSE;
      }
    }
    sqlite3_stmt *st = db_prepare(
        s,
        "INSERT INTO runs (id, name, created, spec_hash, spec_json, hyperparams, seed, "
        "dataset_fingerprint, device, status, params_count, pid, host, boot_id, proc_start, "
        "updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running', ?10, ?11, ?12, ?13, ?14, "
        "?3);",
        error);
    if (!st) {
      remove_run_dir(dir);
      return FALSE;
    }
    bind_text(st, 1, id);
    bind_text(st, 2, info->name);
    sqlite3_bind_int64(st, 3, created);
    bind_text(st, 4, hash);
    bind_text(st, 5, info->spec_json);
    bind_text(st, 6, info->hyperparams_json);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)info->seed);
    bind_text(st, 8, info->dataset_fingerprint);
    bind_text(st, 9, info->device);
    sqlite3_bind_int64(st, 10, info->params_count);
    sqlite3_bind_int64(st, 11, pid);
    bind_text(st, 12, g_get_host_name());
    bind_text(st, 13, boot);
    sqlite3_bind_int64(st, 14, proc_start_time(pid));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) {
      /* the id is taken by a row whose folder was removed */
      remove_run_dir(dir);
      continue;
    }
    if (rc != SQLITE_DONE) {
      db_error(s, error, "cannot insert the run");
      remove_run_dir(dir);
      return FALSE;
    }
    if (id_out)
      *id_out = g_steal_pointer(&id);
    if (dir_out)
      *dir_out = g_steal_pointer(&dir);
    return TRUE;
  }
  g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO,
              "run store \"%s\": cannot find a free run id", s->root);
  return FALSE;
}

/* Steps an UPDATE after binding the id at id_index; no row changed: no such run. */
static gboolean run_update(LlRunStore *s, sqlite3_stmt *st, int id_index, const char *id,
                           GError **error)
{
  bind_text(st, id_index, id);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    db_error(s, error, "cannot update the run");
    return FALSE;
  }
  if (sqlite3_changes(s->db) == 0) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND,
                "run store \"%s\": no run \"%s\"", s->root, id);
    return FALSE;
  }
  return TRUE;
}

gboolean ll_run_store_update_status(LlRunStore *s, const char *id, LlRunStatus status,
                                    const char *error_message, GError **error)
{
  if ((unsigned)status >= G_N_ELEMENTS(status_names)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "run store: invalid status %d", (int)status);
    return FALSE;
  }
  if (!check_writable(s, "update a run's status", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st = db_prepare(s,
                                "UPDATE runs SET status = ?1, error = ?2, updated = ?3, "
                                "duration = CASE WHEN ?4 THEN (?3 - created) / 1e6 ELSE 0 END "
                                "WHERE id = ?5;",
                                error);
  if (!st)
    return FALSE;
  bind_text(st, 1, status_names[status]);
  bind_text(st, 2, error_message);
  sqlite3_bind_int64(st, 3, now_us());
  sqlite3_bind_int(st, 4, status != LL_RUN_RUNNING);
  return run_update(s, st, 5, id, error);
}

static gboolean check_metrics(const char *metrics_json, GError **error)
{
  if (!metrics_json) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "run store: no metrics given");
    return FALSE;
  }
  return check_json("the metrics", metrics_json, TRUE, error);
}

gboolean ll_run_store_set_metrics(LlRunStore *s, const char *id, const char *metrics_json,
                                  GError **error)
{
  if (!check_metrics(metrics_json, error))
    return FALSE;
  if (!check_writable(s, "record a run's metrics", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st =
      db_prepare(s, "UPDATE runs SET metrics = ?1, updated = ?2 WHERE id = ?3;", error);
  if (!st)
    return FALSE;
  bind_text(st, 1, metrics_json);
  sqlite3_bind_int64(st, 2, now_us());
  return run_update(s, st, 3, id, error);
}

gboolean ll_run_store_set_best_metric(LlRunStore *s, const char *id, const char *name, double value,
                                      GError **error)
{
  if (!check_writable(s, "record a run's best metric", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st = db_prepare(
      s, "UPDATE runs SET best_metric_name = ?1, best_metric = ?2, updated = ?3 WHERE id = ?4;",
      error);
  if (!st)
    return FALSE;
  bind_text(st, 1, name);
  if (isfinite(value))
    sqlite3_bind_double(st, 2, value);
  else
    sqlite3_bind_null(st, 2);
  sqlite3_bind_int64(st, 3, now_us());
  return run_update(s, st, 4, id, error);
}

gboolean ll_run_store_set_checkpoint(LlRunStore *s, const char *id, const char *path,
                                     GError **error)
{
  if (!check_writable(s, "record a run's checkpoint", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st =
      db_prepare(s, "UPDATE runs SET checkpoint = ?1, updated = ?2 WHERE id = ?3;", error);
  if (!st)
    return FALSE;
  bind_text(st, 1, path);
  sqlite3_bind_int64(st, 2, now_us());
  return run_update(s, st, 3, id, error);
}

gboolean ll_run_store_finish_run(LlRunStore *s, const char *id, const char *metrics_json,
                                 const char *checkpoint, GError **error)
{
  if (!check_metrics(metrics_json, error))
    return FALSE;
  if (!check_writable(s, "record a run's result", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st = db_prepare(s,
                                "UPDATE runs SET metrics = ?1, checkpoint = ?2, status = "
                                "'finished', error = NULL, updated = ?3, duration = (?3 - "
                                "created) / 1e6 WHERE id = ?4;",
                                error);
  if (!st)
    return FALSE;
  bind_text(st, 1, metrics_json);
  bind_text(st, 2, checkpoint);
  sqlite3_bind_int64(st, 3, now_us());
  return run_update(s, st, 4, id, error);
}

/* ---- the user's name, notes and tags ----------------------------------------------------- */

static gboolean check_user_text(const char *what, const char *text, gsize max, gboolean one_line,
                                GError **error)
{
  if (!text)
    return TRUE;
  gsize n = strlen(text);
  if (n > max) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "a run's %s is at most %" G_GSIZE_FORMAT " bytes (this one has %" G_GSIZE_FORMAT
                ")",
                what, max, n);
    return FALSE;
  }
  if (!g_utf8_validate(text, (gssize)n, NULL)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "a run's %s must be UTF-8 text", what);
    return FALSE;
  }
  for (const char *p = text; one_line && *p; p = g_utf8_next_char(p))
    if (g_unichar_iscntrl(g_utf8_get_char(p))) {
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                  "a run's %s is one line without control characters", what);
      return FALSE;
    }
  return TRUE;
}

gboolean ll_run_tags_parse(const char *text, char ***out, GError **error)
{
  *out = NULL;
  if (!text)
    return TRUE;
  g_auto(GStrv) parts = g_strsplit(text, ",", -1);
  g_autoptr(GPtrArray) tags = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; parts[i]; i++) {
    char *tag = g_strstrip(parts[i]);
    if (!*tag)
      continue;
    if (!check_user_text("tag", tag, LL_RUN_TAG_MAX, TRUE, error))
      return FALSE;
    gboolean seen = FALSE;
    for (guint k = 0; k < tags->len && !seen; k++)
      seen = !strcmp(tags->pdata[k], tag);
    if (seen)
      continue;
    if (tags->len >= LL_RUN_TAGS_MAX) {
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                  "a run has at most %d tags", LL_RUN_TAGS_MAX);
      return FALSE;
    }
    g_ptr_array_add(tags, g_strdup(tag));
  }
  if (tags->len == 0)
    return TRUE;
  g_ptr_array_add(tags, NULL);
  *out = (char **)g_ptr_array_free(g_steal_pointer(&tags), FALSE);
  return TRUE;
}

char *ll_run_tags_to_string(const char *const *tags)
{
  return tags ? g_strjoinv(", ", (char **)tags) : g_strdup("");
}

/* Sets one of the user's text columns; "" stores NULL. */
static gboolean set_user_column(LlRunStore *s, const char *id, const char *column,
                                const char *value, GError **error)
{
  if (!ll_store_id_check(id, "run id", error))
    return FALSE;
  if (!check_writable(s, "edit a run", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  g_autofree char *sql =
      g_strdup_printf("UPDATE runs SET %s = ?1, updated = ?2 WHERE id = ?3;", column);
  sqlite3_stmt *st = db_prepare(s, sql, error);
  if (!st)
    return FALSE;
  bind_text(st, 1, value && *value ? value : NULL);
  sqlite3_bind_int64(st, 2, now_us());
  return run_update(s, st, 3, id, error);
}

gboolean ll_run_store_set_name(LlRunStore *s, const char *id, const char *name, GError **error)
{
  g_autofree char *trimmed = name ? g_strstrip(g_strdup(name)) : NULL;
  if (!check_user_text("name", trimmed, LL_RUN_NAME_MAX, TRUE, error))
    return FALSE;
  return set_user_column(s, id, "name", trimmed, error);
}

gboolean ll_run_store_set_notes(LlRunStore *s, const char *id, const char *notes, GError **error)
{
  if (!check_user_text("notes", notes, LL_RUN_NOTES_MAX, FALSE, error))
    return FALSE;
  return set_user_column(s, id, "notes", notes, error);
}

gboolean ll_run_store_set_tags(LlRunStore *s, const char *id, const char *const *tags,
                               GError **error)
{
  /* through the parser, so that what is stored is what it reads back */
  g_autofree char *joined = ll_run_tags_to_string(tags);
  g_auto(GStrv) clean = NULL;
  if (!ll_run_tags_parse(joined, &clean, error))
    return FALSE;
  for (guint i = 0; tags && tags[i]; i++)
    if (strchr(tags[i], ',')) {
      g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                  "a tag cannot hold a comma (\"%s\")", tags[i]);
      return FALSE;
    }
  g_autofree char *text = clean ? g_strjoinv(",", clean) : NULL;
  return set_user_column(s, id, "tags", text, error);
}

gboolean ll_run_store_edit_tag(LlRunStore *s, const char *id, const char *tag, gboolean remove,
                               GError **error)
{
  g_auto(GStrv) one = NULL;
  if (!ll_run_tags_parse(tag, &one, error))
    return FALSE;
  if (!one || one[1]) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID, "\"%s\" is not one tag",
                tag ? tag : "");
    return FALSE;
  }
  g_autoptr(LlRunInfo) info = NULL;
  if (!ll_run_store_get(s, id, &info, error))
    return FALSE;
  g_autoptr(GPtrArray) tags = g_ptr_array_new();
  for (guint i = 0; info->tags && info->tags[i]; i++)
    if (strcmp(info->tags[i], one[0]))
      g_ptr_array_add(tags, info->tags[i]);
  if (!remove)
    g_ptr_array_add(tags, one[0]);
  g_ptr_array_add(tags, NULL);
  return ll_run_store_set_tags(s, id, (const char *const *)tags->pdata, error);
}

/* ---- reading runs ------------------------------------------------------------------------ */

#define RUN_COLUMNS                                                                                \
  "id, name, created, spec_hash, spec_json, hyperparams, seed, dataset_fingerprint, device, "      \
  "status, params_count, metrics, best_metric_name, best_metric, duration, checkpoint, error, "    \
  "pid, host, boot_id"
/* a store of version 1 (read-only, not migrated) has neither */
#define RUN_COLUMNS_V2 RUN_COLUMNS ", notes, tags"
#define RUN_COLUMNS_V1 RUN_COLUMNS ", NULL, NULL"

static LlRunInfo *row_to_info(LlRunStore *s, sqlite3_stmt *st)
{
  LlRunInfo *r = ll_run_info_new();
  int c = 0;
  r->id = col_text(st, c++);
  r->dir = g_build_filename(s->runs_dir, r->id, NULL);
  r->name = col_text(st, c++);
  r->created_us = sqlite3_column_int64(st, c++);
  r->spec_hash = col_text(st, c++);
  r->spec_json = col_text(st, c++);
  r->hyperparams_json = col_text(st, c++);
  r->seed = (guint64)sqlite3_column_int64(st, c++);
  r->dataset_fingerprint = col_text(st, c++);
  r->device = col_text(st, c++);
  const char *status = (const char *)sqlite3_column_text(st, c++);
  if (!ll_run_status_from_string(status, &r->status))
    r->status = LL_RUN_CRASHED;
  r->params_count = sqlite3_column_int64(st, c++);
  r->metrics_json = col_text(st, c++);
  r->best_metric_name = col_text(st, c++);
  r->best_metric = sqlite3_column_type(st, c) == SQLITE_NULL ? NAN : sqlite3_column_double(st, c);
  c++;
  r->duration_s = sqlite3_column_double(st, c++);
  r->checkpoint = col_text(st, c++);
  r->error = col_text(st, c++);
  r->pid = sqlite3_column_int64(st, c++);
  r->host = col_text(st, c++);
  r->boot_id = col_text(st, c++);
  r->notes = col_text(st, c++);
  g_autofree char *tags = col_text(st, c++);
  /* written by ll_run_store_set_tags, but the file is untrusted */
  if (tags && !ll_run_tags_parse(tags, &r->tags, NULL))
    r->tags = NULL;
  return r;
}

gboolean ll_run_store_list(LlRunStore *s, GPtrArray **runs_out, GError **error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st = db_prepare(
      s,
      s->schema >= 2 ? "SELECT " RUN_COLUMNS_V2 " FROM runs ORDER BY created DESC, id DESC;"
                     : "SELECT " RUN_COLUMNS_V1 " FROM runs ORDER BY created DESC, id DESC;",
      error);
  if (!st)
    return FALSE;
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func((GDestroyNotify)ll_run_info_free);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    g_ptr_array_add(runs, row_to_info(s, st));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    db_error(s, error, "cannot list the runs");
    return FALSE;
  }
  *runs_out = g_steal_pointer(&runs);
  return TRUE;
}

gboolean ll_run_store_get(LlRunStore *s, const char *id, LlRunInfo **out, GError **error)
{
  if (!ll_store_id_check(id, "run id", error))
    return FALSE;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&s->lock);
  sqlite3_stmt *st =
      db_prepare(s,
                 s->schema >= 2 ? "SELECT " RUN_COLUMNS_V2 " FROM runs WHERE id = ?1;"
                                : "SELECT " RUN_COLUMNS_V1 " FROM runs WHERE id = ?1;",
                 error);
  if (!st)
    return FALSE;
  bind_text(st, 1, id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = row_to_info(s, st);
  sqlite3_finalize(st);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND,
                "run store \"%s\": no run \"%s\"", s->root, id);
  else
    db_error(s, error, "cannot read the run");
  return FALSE;
}

/* The first of files (NULL-terminated) that exists in ref's run folder; ref
 * is "run:<id>" or a bare id, or a path ending in ".safetensors" (returned
 * as is). */
static char *resolve_in_run(LlRunStore *store, const char *ref, const char *const *files,
                            GError **error)
{
  if (!g_str_has_prefix(ref, "run:") && g_str_has_suffix(ref, ".safetensors"))
    return g_strdup(ref);
  const char *id = g_str_has_prefix(ref, "run:") ? ref + 4 : ref;
  if (!store) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "\"%s\": runs can only be named when the run store is open", ref);
    return NULL;
  }
  g_autoptr(LlRunInfo) info = NULL;
  if (!ll_run_store_get(store, id, &info, error))
    return NULL;
  for (guint i = 0; files[i]; i++) {
    char *path = g_build_filename(info->dir, files[i], NULL);
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
      return path;
    g_free(path);
  }
  g_autofree char *names = g_strjoinv(" or ", (char **)files);
  g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND,
              "run \"%s\" has no checkpoint to %s (no %s in \"%s\")", id,
              files[1] ? "initialise from" : "resume", names, info->dir);
  return NULL;
}

char *ll_run_store_resolve_checkpoint(LlRunStore *store, const char *ref, GError **error)
{
  static const char *const files[] = {"best.safetensors", "last.safetensors", NULL};
  return resolve_in_run(store, ref, files, error);
}

char *ll_run_store_resolve_last_checkpoint(LlRunStore *store, const char *ref, GError **error)
{
  static const char *const files[] = {"last.safetensors", NULL};
  return resolve_in_run(store, ref, files, error);
}

gboolean ll_run_store_append_metrics_line(const char *dir, const char *json_line, GError **error)
{
  g_autofree char *path = g_build_filename(dir, "metrics.jsonl", NULL);
  size_t n = json_line ? strlen(json_line) : 0;
  while (n > 0 && (json_line[n - 1] == '\n' || json_line[n - 1] == '\r'))
    n--;
  if (n == 0 || memchr(json_line, '\n', n)) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID,
                "\"%s\": a metrics line must be one non-empty line of JSON", path);
    return FALSE;
  }
  /* the line and its newline in one write() on an O_APPEND descriptor: a
   * process killed meanwhile leaves whole lines, and processes appending
   * at once do not interleave */
  g_autofree char *buf = g_malloc(n + 1);
  memcpy(buf, json_line, n);
  buf[n] = '\n';
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO, "cannot open \"%s\": %s", path,
                g_strerror(e));
    return FALSE;
  }
  ssize_t w;
  do
    w = write(fd, buf, n + 1);
  while (w < 0 && errno == EINTR);
  int e = w < 0 ? errno : ENOSPC; /* a short write: the disk filled up */
  gboolean ok = w == (ssize_t)(n + 1);
  if (!ok && w > 0) {
    /* a half line: cut it off again (were it to stay, readers skip it) */
    off_t end = lseek(fd, 0, SEEK_END);
    if (end >= w)
      (void)!ftruncate(fd, end - w);
  }
  if (close(fd) != 0 && ok) {
    ok = FALSE;
    e = errno;
  }
  if (!ok) {
    g_set_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO, "cannot write \"%s\": %s", path,
                g_strerror(e));
    return FALSE;
  }
  return TRUE;
}
