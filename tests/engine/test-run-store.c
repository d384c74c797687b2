/* The run store: creating, listing and updating runs, crash marking, the
 * metrics log and the schema guard. */
#include "run-store.h"

#include <math.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

static void rm_rf(const char *path)
{
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *n;
    while ((n = g_dir_read_name(d))) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      rm_rf(p);
    }
    g_dir_close(d);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static char *make_tmp(void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp("ll-runs-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static char *create(LlRunStore *s, const char *name, char **dir_out)
{
  GError *error = NULL;
  LlRunInfo info = {
      .name = (char *)name,
      .spec_json = "{\"version\": 1, \"blocks\": []}",
      .hyperparams_json = "{\"lr\": 0.01, \"batch\": 64}",
      .seed = G_GUINT64_CONSTANT(0xfedcba9876543210),
      .dataset_fingerprint = "mnist:sha256:abcd",
      .device = "cpu",
      .params_count = 101770,
  };
  char *id = NULL;
  g_assert_true(ll_run_store_create_run(s, &info, &id, dir_out, &error));
  g_assert_no_error(error);
  return id;
}

static LlRunInfo *get(LlRunStore *s, const char *id)
{
  GError *error = NULL;
  LlRunInfo *r = NULL;
  g_assert_true(ll_run_store_get(s, id, &r, &error));
  g_assert_no_error(error);
  return r;
}

static void test_create_list(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(ll_run_store_root(s), ==, root);
  g_autofree char *db = g_build_filename(root, "runs.sqlite", NULL);
  g_autofree char *runs = g_build_filename(root, "runs", NULL);
  g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
  g_assert_true(g_file_test(runs, G_FILE_TEST_IS_DIR));

  g_autofree char *dir1 = NULL;
  g_autofree char *id1 = create(s, "first", &dir1);
  g_autofree char *id2 = create(s, "second", NULL);
  g_autofree char *id3 = create(s, "third", NULL);
  g_assert_cmpstr(id1, !=, id2);
  g_assert_cmpstr(id2, !=, id3);
  /* "YYYYmmdd-HHMMSS-xxxx" */
  g_assert_cmpuint(strlen(id1), ==, 20);
  g_assert_true(g_regex_match_simple("^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$", id1, 0, 0));

  g_autofree char *want_dir = g_build_filename(root, "runs", id1, NULL);
  g_assert_cmpstr(dir1, ==, want_dir);
  g_autofree char *spec_path = g_build_filename(dir1, "spec.json", NULL);
  g_autofree char *spec = NULL;
  g_assert_true(g_file_get_contents(spec_path, &spec, NULL, NULL));
  g_assert_cmpstr(spec, ==, "{\"version\": 1, \"blocks\": []}");

  g_autoptr(LlRunInfo) r = get(s, id1);
  g_assert_cmpstr(r->id, ==, id1);
  g_assert_cmpstr(r->dir, ==, dir1);
  g_assert_cmpstr(r->name, ==, "first");
  g_assert_cmpint(r->status, ==, LL_RUN_RUNNING);
  g_assert_cmpuint(r->seed, ==, G_GUINT64_CONSTANT(0xfedcba9876543210));
  g_assert_cmpstr(r->dataset_fingerprint, ==, "mnist:sha256:abcd");
  g_assert_cmpstr(r->device, ==, "cpu");
  g_assert_cmpint(r->params_count, ==, 101770);
  g_assert_cmpstr(r->hyperparams_json, ==, "{\"lr\": 0.01, \"batch\": 64}");
  g_autofree char *hash =
      g_compute_checksum_for_string(G_CHECKSUM_SHA256, "{\"version\": 1, \"blocks\": []}", -1);
  g_assert_cmpstr(r->spec_hash, ==, hash);
  g_assert_cmpint(r->pid, ==, getpid());
  g_assert_cmpstr(r->host, ==, g_get_host_name());
  g_assert_true(isnan(r->best_metric));
  g_assert_null(r->metrics_json);
  gint64 now = g_get_real_time();
  g_assert_cmpint(r->created_us, <=, now);
  g_assert_cmpint(r->created_us, >, now - 60 * G_USEC_PER_SEC);

  g_autoptr(GPtrArray) list = NULL;
  g_assert_true(ll_run_store_list(s, &list, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(list->len, ==, 3);
  g_assert_cmpstr(((LlRunInfo *)list->pdata[0])->name, ==, "third");
  g_assert_cmpstr(((LlRunInfo *)list->pdata[1])->name, ==, "second");
  g_assert_cmpstr(((LlRunInfo *)list->pdata[2])->name, ==, "first");

  /* bad JSON is refused and leaves no folder behind */
  LlRunInfo bad = {.name = "bad", .spec_json = "{not json"};
  g_assert_false(ll_run_store_create_run(s, &bad, NULL, NULL, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  GDir *d = g_dir_open(runs, 0, NULL);
  int n_dirs = 0;
  while (g_dir_read_name(d))
    n_dirs++;
  g_dir_close(d);
  g_assert_cmpint(n_dirs, ==, 3);

  g_assert_false(ll_run_store_get(s, "19700101-000000-0000", &r, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* WAL mode and the schema version, as another client sees them */
  g_clear_pointer(&s, ll_run_store_close);
  sqlite3 *h;
  g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
  sqlite3_stmt *st;
  g_assert_cmpint(sqlite3_prepare_v2(h, "PRAGMA journal_mode;", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "wal");
  sqlite3_finalize(st);
  g_assert_cmpint(sqlite3_prepare_v2(h, "SELECT version FROM schema_version;", -1, &st, NULL), ==,
                  SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(st, 0), ==, 1);
  sqlite3_finalize(st);
  sqlite3_close(h);

  /* reopening keeps everything */
  s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_clear_pointer(&list, g_ptr_array_unref);
  g_assert_true(ll_run_store_list(s, &list, &error));
  g_assert_cmpuint(list->len, ==, 3);
  rm_rf(root);
}

static void test_update(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autofree char *dir = NULL;
  g_autofree char *id = create(s, "run", &dir);
  g_autofree char *id2 = create(s, "other", NULL);

  g_assert_true(
      ll_run_store_set_metrics(s, id, "{\"test_loss\": 0.25, \"test_accuracy\": 0.93}", &error));
  g_assert_no_error(error);
  g_assert_true(ll_run_store_set_best_metric(s, id, "val_accuracy", 0.945, &error));
  g_autofree char *ckpt = g_build_filename(dir, "best.safetensors", NULL);
  g_assert_true(ll_run_store_set_checkpoint(s, id, ckpt, &error));
  g_usleep(2000);
  g_assert_true(ll_run_store_update_status(s, id, LL_RUN_FINISHED, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(ll_run_store_update_status(s, id2, LL_RUN_FAILED, "out of memory", &error));

  g_autoptr(LlRunInfo) r = get(s, id);
  g_assert_cmpint(r->status, ==, LL_RUN_FINISHED);
  g_assert_cmpstr(r->metrics_json, ==, "{\"test_loss\": 0.25, \"test_accuracy\": 0.93}");
  g_assert_cmpstr(r->best_metric_name, ==, "val_accuracy");
  g_assert_cmpfloat(r->best_metric, ==, 0.945);
  g_assert_cmpstr(r->checkpoint, ==, ckpt);
  g_assert_null(r->error);
  g_assert_cmpfloat(r->duration_s, >=, 0.002);
  g_assert_cmpfloat(r->duration_s, <, 60.0);
  g_autoptr(LlRunInfo) r2 = get(s, id2);
  g_assert_cmpint(r2->status, ==, LL_RUN_FAILED);
  g_assert_cmpstr(r2->error, ==, "out of memory");

  g_assert_false(ll_run_store_set_metrics(s, id, "[1, 2]", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(ll_run_store_update_status(s, "no-such-run", LL_RUN_STOPPED, NULL, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(ll_run_store_set_checkpoint(s, "no-such-run", "x", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  LlRunStatus st;
  for (int i = LL_RUN_RUNNING; i <= LL_RUN_CRASHED; i++) {
    g_assert_true(ll_run_status_from_string(ll_run_status_to_string(i), &st));
    g_assert_cmpint(st, ==, i);
  }
  g_assert_false(ll_run_status_from_string("paused", &st));
  rm_rf(root);
}

static void test_crash(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autofree char *alive = create(s, "alive", NULL);
  g_autofree char *done = create(s, "done", NULL);
  g_assert_true(ll_run_store_update_status(s, done, LL_RUN_FINISHED, NULL, &error));

  /* a process that starts a run and dies without a word */
  int fds[2];
  g_assert_cmpint(pipe(fds), ==, 0);
  pid_t child = fork();
  g_assert_cmpint(child, >=, 0);
  if (child == 0) {
    close(fds[0]);
    LlRunStore *cs = ll_run_store_open(root, NULL);
    char *id = NULL;
    LlRunInfo info = {.name = "doomed"};
    if (cs && ll_run_store_create_run(cs, &info, &id, NULL, NULL))
      (void)!write(fds[1], id, strlen(id));
    _exit(0);
  }
  close(fds[1]);
  char buf[64] = {0};
  ssize_t n = read(fds[0], buf, sizeof buf - 1);
  close(fds[0]);
  int wstatus;
  g_assert_cmpint(waitpid(child, &wstatus, 0), ==, child);
  g_assert_cmpint(n, ==, 20);

  /* still running as far as the open store knows */
  g_autoptr(LlRunInfo) before = get(s, buf);
  g_assert_cmpint(before->status, ==, LL_RUN_RUNNING);
  g_assert_cmpint(before->pid, ==, child);

  g_clear_pointer(&s, ll_run_store_close);
  s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(LlRunInfo) doomed = get(s, buf);
  g_assert_cmpint(doomed->status, ==, LL_RUN_CRASHED);
  g_assert_nonnull(doomed->error);
  g_autofree char *pid_text = g_strdup_printf("pid %d", (int)child);
  g_assert_nonnull(strstr(doomed->error, pid_text));
  g_autoptr(LlRunInfo) a = get(s, alive);
  g_assert_cmpint(a->status, ==, LL_RUN_RUNNING); /* this process lives */
  g_autoptr(LlRunInfo) d = get(s, done);
  g_assert_cmpint(d->status, ==, LL_RUN_FINISHED);
  rm_rf(root);
}

static void test_metrics_lines(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_autofree char *dir = NULL;
  g_autofree char *id = create(s, "curve", &dir);
  for (int e = 1; e <= 3; e++) {
    g_autofree char *line = g_strdup_printf("{\"epoch\": %d, \"loss\": %.2f}", e, 1.0 / e);
    g_assert_true(ll_run_store_append_metrics_line(dir, line, &error));
    g_assert_no_error(error);
  }
  g_assert_true(ll_run_store_append_metrics_line(dir, "{\"epoch\": 4}\n", &error));
  g_autofree char *path = g_build_filename(dir, "metrics.jsonl", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_cmpstr(text, ==,
                  "{\"epoch\": 1, \"loss\": 1.00}\n{\"epoch\": 2, \"loss\": 0.50}\n"
                  "{\"epoch\": 3, \"loss\": 0.33}\n{\"epoch\": 4}\n");

  g_assert_false(ll_run_store_append_metrics_line(dir, "{\"a\": 1}\n{\"b\": 2}", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_autofree char *nowhere = g_build_filename(root, "absent", NULL);
  g_assert_false(ll_run_store_append_metrics_line(nowhere, "{}", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_IO);
  g_assert_nonnull(strstr(error->message, nowhere));
  g_clear_error(&error);
  rm_rf(root);
}

/* init_from's "run:<id>": best, else last, else an error naming the run. */
static void test_resolve_checkpoint(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_autofree char *dir = NULL;
  g_autofree char *id = create(s, "source", &dir);
  g_autofree char *ref = g_strdup_printf("run:%s", id);
  g_autofree char *best = g_build_filename(dir, "best.safetensors", NULL);
  g_autofree char *last = g_build_filename(dir, "last.safetensors", NULL);

  g_assert_null(ll_run_store_resolve_checkpoint(s, ref, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, id));
  g_clear_error(&error);
  g_assert_true(g_file_set_contents(last, "x", 1, NULL));
  g_autofree char *p1 = ll_run_store_resolve_checkpoint(s, ref, &error);
  g_assert_cmpstr(p1, ==, last);
  g_assert_true(g_file_set_contents(best, "x", 1, NULL));
  g_autofree char *p2 = ll_run_store_resolve_checkpoint(s, ref, &error);
  g_assert_cmpstr(p2, ==, best);
  g_autofree char *p3 = ll_run_store_resolve_checkpoint(s, id, &error); /* a bare id */
  g_assert_cmpstr(p3, ==, best);
  /* a path is itself, with or without a store */
  g_autofree char *p4 = ll_run_store_resolve_checkpoint(NULL, "/x/model.safetensors", &error);
  g_assert_cmpstr(p4, ==, "/x/model.safetensors");
  g_assert_null(ll_run_store_resolve_checkpoint(NULL, ref, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(ll_run_store_resolve_checkpoint(s, "run:nope", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "nope"));
  g_clear_error(&error);
  rm_rf(root);
}

static void test_newer_schema(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  LlRunStore *s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  ll_run_store_close(s);
  g_autofree char *db = g_build_filename(root, "runs.sqlite", NULL);
  sqlite3 *h;
  g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(h, "UPDATE schema_version SET version = 99;", NULL, NULL, NULL), ==,
                  SQLITE_OK);
  sqlite3_close(h);
  g_assert_null(ll_run_store_open(root, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_SCHEMA);
  g_assert_nonnull(strstr(error->message, "99"));
  g_clear_error(&error);
  rm_rf(root);
}

/* A store as version 1 wrote it (no notes, no tags), with one run. */
static void write_v1_store(const char *root)
{
  g_autofree char *runs = g_build_filename(root, "runs", "20250101-000000-abcd", NULL);
  g_assert_cmpint(g_mkdir_with_parents(runs, 0755), ==, 0);
  g_autofree char *db = g_build_filename(root, "runs.sqlite", NULL);
  sqlite3 *h;
  g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
  const char *sql =
      "CREATE TABLE schema_version (version INTEGER NOT NULL);"
      "CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT, created INTEGER NOT NULL, spec_hash "
      "TEXT, spec_json TEXT, hyperparams TEXT, seed INTEGER NOT NULL DEFAULT 0, "
      "dataset_fingerprint TEXT, device TEXT, status TEXT NOT NULL, params_count INTEGER NOT NULL "
      "DEFAULT 0, metrics TEXT, best_metric_name TEXT, best_metric REAL, duration REAL NOT NULL "
      "DEFAULT 0, checkpoint TEXT, error TEXT, pid INTEGER, host TEXT, boot_id TEXT, proc_start "
      "INTEGER, updated INTEGER NOT NULL);"
      "CREATE INDEX runs_by_created ON runs (created);"
      "INSERT INTO schema_version (version) VALUES (1);"
      "INSERT INTO runs (id, name, created, status, params_count, metrics, updated) VALUES "
      "('20250101-000000-abcd', 'old run', 1735689600000000, 'finished', 42, "
      "'{\"test_accuracy\": 0.9}', 1735689600000000);";
  g_assert_cmpint(sqlite3_exec(h, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(h);
}

static int db_version(const char *root)
{
  g_autofree char *db = g_build_filename(root, "runs.sqlite", NULL);
  sqlite3 *h;
  sqlite3_stmt *st;
  g_assert_cmpint(sqlite3_open(db, &h), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(h, "SELECT MAX(version) FROM schema_version;", -1, &st, NULL),
                  ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  int v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* A version-1 store is read as it is where it cannot be written, and
 * migrated (its runs kept) where it can; name, notes and tags then round
 * trip through a reopen. */
static void test_migrate_v1(void)
{
  g_autofree char *root = make_tmp();
  write_v1_store(root);
  GError *error = NULL;
  const char *id = "20250101-000000-abcd";

  /* read-only (where permissions bind: not for root) */
  g_autofree char *db = g_build_filename(root, "runs.sqlite", NULL);
  g_chmod(db, 0444);
  g_chmod(root, 0555);
  if (access(db, W_OK) != 0) {
    g_autoptr(LlRunStore) ro = ll_run_store_open(root, &error);
    g_assert_no_error(error);
    g_assert_true(ll_run_store_is_read_only(ro));
    g_autoptr(LlRunInfo) r = get(ro, id);
    g_assert_cmpstr(r->name, ==, "old run");
    g_assert_null(r->notes);
    g_assert_null(r->tags);
    g_assert_false(ll_run_store_set_name(ro, id, "x", &error));
    g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_READ_ONLY);
    g_clear_error(&error);
    g_assert_cmpint(db_version(root), ==, 1);
  }
  g_chmod(root, 0755);
  g_chmod(db, 0644);

  {
    g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
    g_assert_no_error(error);
    g_assert_cmpint(db_version(root), ==, 2);
    g_autoptr(GPtrArray) runs = NULL;
    g_assert_true(ll_run_store_list(s, &runs, &error));
    g_assert_cmpuint(runs->len, ==, 1);
    LlRunInfo *r = runs->pdata[0];
    g_assert_cmpstr(r->id, ==, id);
    g_assert_cmpstr(r->name, ==, "old run");
    g_assert_cmpint(r->params_count, ==, 42);
    g_assert_null(r->notes);
    g_assert_null(r->tags);

    g_assert_true(ll_run_store_set_name(s, id, "  baseline, width 64 ", &error));
    g_assert_true(ll_run_store_set_notes(s, id, "lr too high?\nretry with 1e-3", &error));
    const char *tags[] = {"baseline", "keep", "baseline", " ", NULL};
    g_assert_true(ll_run_store_set_tags(s, id, tags, &error));
    g_assert_true(ll_run_store_edit_tag(s, id, "paper", FALSE, &error));
    g_assert_true(ll_run_store_edit_tag(s, id, "keep", TRUE, &error));
    g_assert_no_error(error);
  }
  /* a second open does not migrate again, and reads what was written */
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autoptr(LlRunInfo) r = get(s, id);
  g_assert_cmpstr(r->name, ==, "baseline, width 64");
  g_assert_cmpstr(r->notes, ==, "lr too high?\nretry with 1e-3");
  g_assert_nonnull(r->tags);
  g_assert_cmpuint(g_strv_length(r->tags), ==, 2);
  g_assert_cmpstr(r->tags[0], ==, "baseline");
  g_assert_cmpstr(r->tags[1], ==, "paper");
  g_autofree char *joined = ll_run_tags_to_string((const char *const *)r->tags);
  g_assert_cmpstr(joined, ==, "baseline, paper");

  /* "" clears */
  g_assert_true(ll_run_store_set_name(s, id, "", &error));
  g_assert_true(ll_run_store_set_notes(s, id, "", &error));
  g_assert_true(ll_run_store_set_tags(s, id, NULL, &error));
  g_assert_no_error(error);
  g_autoptr(LlRunInfo) cleared = get(s, id);
  g_assert_null(cleared->name);
  g_assert_null(cleared->notes);
  g_assert_null(cleared->tags);
  rm_rf(root);
}

/* What a user types is checked: one-line names, bounded sizes, tags
 * without commas or control characters; nothing changes on an error. */
static void test_user_text_checked(void)
{
  g_autofree char *root = make_tmp();
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(root, &error);
  g_assert_no_error(error);
  g_autofree char *id = create(s, "first", NULL);

  g_assert_false(ll_run_store_set_name(s, id, "two\nlines", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_autofree char *long_name = g_strnfill(LL_RUN_NAME_MAX + 1, 'x');
  g_assert_false(ll_run_store_set_name(s, id, long_name, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(ll_run_store_set_notes(s, id, "\xff\xfe", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  const char *comma[] = {"a,b", NULL};
  g_assert_false(ll_run_store_set_tags(s, id, comma, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(ll_run_store_edit_tag(s, id, "a, b", FALSE, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(ll_run_store_set_name(s, "20250101-000000-ffff", "x", &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  char **tags = NULL;
  g_assert_true(ll_run_tags_parse(" a, b,,a , c ", &tags, &error));
  g_assert_cmpuint(g_strv_length(tags), ==, 3);
  g_assert_cmpstr(tags[0], ==, "a");
  g_assert_cmpstr(tags[2], ==, "c");
  g_strfreev(tags);
  g_assert_false(ll_run_tags_parse("ok, bad\ttab", &tags, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  GString *many = g_string_new(NULL);
  for (int i = 0; i <= LL_RUN_TAGS_MAX; i++)
    g_string_append_printf(many, "t%d,", i);
  g_assert_false(ll_run_tags_parse(many->str, &tags, &error));
  g_assert_error(error, LL_RUN_STORE_ERROR, LL_RUN_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_string_free(many, TRUE);

  g_autoptr(LlRunInfo) r = get(s, id);
  g_assert_cmpstr(r->name, ==, "first");
  g_assert_null(r->notes);
  g_assert_null(r->tags);
  rm_rf(root);
}

/* NULL root: the XDG data dir (isolated per test by GTest) */
static void test_default_root(void)
{
  GError *error = NULL;
  g_autoptr(LlRunStore) s = ll_run_store_open(NULL, &error);
  g_assert_no_error(error);
  g_autofree char *want = g_build_filename(g_get_user_data_dir(), "layerlab", NULL);
  g_assert_cmpstr(ll_run_store_root(s), ==, want);
  g_autofree char *db = g_build_filename(want, "runs.sqlite", NULL);
  g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
}

int main(int argc, char **argv)
{
  /* A private data dir, so the default-root test never touches the user's
   * (GLib's G_TEST_OPTION_ISOLATE_DIRS would do it but leaks, which fails
   * the LeakSanitizer job). */
  g_autofree char *home = g_dir_make_tmp("ll-run-store-home-XXXXXX", NULL);
  g_assert_nonnull(home);
  g_autofree char *data = g_build_filename(home, "data", NULL);
  g_setenv("XDG_DATA_HOME", data, TRUE);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/run-store/create-list", test_create_list);
  g_test_add_func("/engine/run-store/update", test_update);
  g_test_add_func("/engine/run-store/crash", test_crash);
  g_test_add_func("/engine/run-store/metrics-lines", test_metrics_lines);
  g_test_add_func("/engine/run-store/newer-schema", test_newer_schema);
  g_test_add_func("/engine/run-store/resolve-checkpoint", test_resolve_checkpoint);
  g_test_add_func("/engine/run-store/default-root", test_default_root);
  g_test_add_func("/engine/run-store/migrate-v1", test_migrate_v1);
  g_test_add_func("/engine/run-store/user-text-checked", test_user_text_checked);
  return g_test_run();
}
