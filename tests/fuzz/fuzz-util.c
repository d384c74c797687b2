/* fuzz-util.c: the temporary folder and input splitting of the fuzz targets. */
#include "fuzz-util.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static char *fuzz_dir;

static void quiet_log(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) {
    fprintf(stderr, "%s: %s\n", domain ? domain : "", message);
    abort();
  }
}

static void remove_tree(const char *path)
{
  GDir *d = g_dir_open(path, 0, NULL);
  if (d) {
    const char *name;
    while ((name = g_dir_read_name(d))) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
        remove_tree(child);
      else
        g_unlink(child);
    }
    g_dir_close(d);
  }
  g_rmdir(path);
}

static void cleanup(void)
{
  if (fuzz_dir)
    remove_tree(fuzz_dir);
}

void ll_fuzz_init(void)
{
  if (fuzz_dir)
    return;
  g_log_set_default_handler(quiet_log, NULL);
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
  /* a memory file system when there is one: the targets write every input */
  const char *base = g_getenv("TMPDIR");
  if (!base && g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) && access("/dev/shm", W_OK) == 0)
    base = "/dev/shm";
  g_autofree char *tmpl = g_build_filename(base ? base : g_get_tmp_dir(), "ll-fuzz-XXXXXX", NULL);
  fuzz_dir = g_mkdtemp(g_steal_pointer(&tmpl));
  if (!fuzz_dir) {
    fprintf(stderr, "ll_fuzz_init: cannot make a temporary folder: %s\n", g_strerror(errno));
    abort();
  }
  atexit(cleanup);
}

const char *ll_fuzz_dir(void)
{
  return fuzz_dir;
}

void ll_fuzz_reset(void)
{
  GDir *d = g_dir_open(fuzz_dir, 0, NULL);
  if (!d)
    return;
  const char *name;
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  while ((name = g_dir_read_name(d)))
    g_ptr_array_add(names, g_build_filename(fuzz_dir, name, NULL));
  g_dir_close(d);
  for (guint i = 0; i < names->len; i++) {
    const char *p = g_ptr_array_index(names, i);
    if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
      remove_tree(p);
    else
      g_unlink(p);
  }
  g_ptr_array_unref(names);
}

gboolean ll_fuzz_try_write(const char *name, const void *data, size_t len)
{
  g_autofree char *path = g_build_filename(fuzz_dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_mkdir_with_parents(parent, 0700);
  FILE *f = fopen(path, "wb");
  if (!f)
    return FALSE;
  gboolean ok = !len || fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

char *ll_fuzz_write(const char *name, const void *data, size_t len)
{
  if (!ll_fuzz_try_write(name, data, len)) {
    fprintf(stderr, "ll_fuzz_write: %s: %s\n", name, g_strerror(errno));
    abort();
  }
  return g_build_filename(fuzz_dir, name, NULL);
}

char *ll_fuzz_write_gz(const char *name, const void *data, size_t len)
{
  char *path = g_build_filename(fuzz_dir, name, NULL);
  gzFile f = gzopen(path, "wb1");
  if (!f || (len && gzwrite(f, data, (unsigned)len) != (int)len) || gzclose(f) != Z_OK) {
    fprintf(stderr, "ll_fuzz_write_gz: %s failed\n", path);
    abort();
  }
  return path;
}

int ll_fuzz_split(const uint8_t *data, size_t size, int max, const uint8_t **part,
                  size_t *part_len)
{
  const size_t sep_len = strlen(LL_FUZZ_SEP);
  int n = 0;
  while (n < max - 1) {
    const uint8_t *s = memmem(data, size, LL_FUZZ_SEP, sep_len);
    if (!s)
      break;
    part[n] = data;
    part_len[n] = (size_t)(s - data);
    n++;
    size -= (size_t)(s - data) + sep_len;
    data = s + sep_len;
  }
  part[n] = data;
  part_len[n] = size;
  return n + 1;
}
