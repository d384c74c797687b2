/* untrusted.c: paths a file names, ids from the command line, excerpts of
 * file content in messages. */
#include "untrusted.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

G_DEFINE_QUARK(ll - untrusted - error - quark, ll_untrusted_error)

enum { MAX_REL_PATH = 1024, MAX_ID = 128 };

gboolean ll_path_check_relative(const char *rel, const char *what, GError **error)
{
  g_autofree char *shown = ll_excerpt(rel ? rel : "", -1);
  if (!rel || !*rel) {
    g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH, "%s: the path is empty", what);
    return FALSE;
  }
  if (strlen(rel) > MAX_REL_PATH) {
    g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH,
                "%s: \"%s\" is longer than %d bytes", what, shown, MAX_REL_PATH);
    return FALSE;
  }
  if (g_path_is_absolute(rel)) {
    g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH,
                "%s: \"%s\" is an absolute path; name a file inside the folder (a relative path)",
                what, shown);
    return FALSE;
  }
  g_auto(GStrv) parts = g_strsplit(rel, G_DIR_SEPARATOR_S, -1);
  for (int i = 0; parts[i]; i++)
    if (!strcmp(parts[i], "..")) {
      g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH,
                  "%s: \"%s\" has a \"..\" component; name a file inside the folder", what, shown);
      return FALSE;
    }
  return TRUE;
}

/* path is root or below it (both real paths). */
static gboolean is_inside(const char *path, const char *root)
{
  size_t n = strlen(root);
  if (n == 1 && root[0] == G_DIR_SEPARATOR)
    return TRUE;
  return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == G_DIR_SEPARATOR);
}

char *ll_path_inside(const char *root, const char *rel, const char *what, GError **error)
{
  if (!ll_path_check_relative(rel, what, error))
    return NULL;
  g_autofree char *root_real = realpath(root, NULL);
  if (!root_real) {
    int e = errno;
    g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_IO, "%s: %s: %s", what, root,
                g_strerror(e));
    return NULL;
  }
  /* every part of the path that exists, the file itself included, must
   * really be inside the root: a link out of it (or a dangling one, which a
   * write would create beyond) is refused; the folders that do not exist
   * yet are made here, as plain folders inside */
  g_autofree char *shown = ll_excerpt(rel, -1);
  GString *prefix = g_string_new(root);
  g_auto(GStrv) parts = g_strsplit(rel, G_DIR_SEPARATOR_S, -1);
  gboolean ok = TRUE;
  for (int i = 0; ok && parts[i]; i++) {
    if (!*parts[i] || !strcmp(parts[i], "."))
      continue;
    g_string_append_c(prefix, G_DIR_SEPARATOR);
    g_string_append(prefix, parts[i]);
    struct stat st;
    gboolean last = !parts[i + 1];
    if (lstat(prefix->str, &st) != 0 && errno == ENOENT && !last &&
        g_mkdir(prefix->str, 0755) != 0 && errno != EEXIST) {
      int e = errno;
      g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_IO, "%s: %s: %s", what, prefix->str,
                  g_strerror(e));
      ok = FALSE;
      break;
    }
    if (lstat(prefix->str, &st) != 0) {
      if (errno == ENOENT && last)
        break;
      int e = errno;
      g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_IO, "%s: %s: %s", what, prefix->str,
                  g_strerror(e));
      ok = FALSE;
      break;
    }
    g_autofree char *real = realpath(prefix->str, NULL);
    if (!real || !is_inside(real, root_real)) {
      g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH,
                  "%s: \"%s\" leads out of %s through the symbolic link %s", what, shown, root,
                  prefix->str);
      ok = FALSE;
    }
  }
  g_string_free(prefix, TRUE);
  return ok ? g_build_filename(root, rel, NULL) : NULL;
}

gboolean ll_store_id_check(const char *id, const char *what, GError **error)
{
  gboolean ok = id && *id && strlen(id) <= MAX_ID && strcmp(id, ".") && strcmp(id, "..");
  for (const char *p = id; ok && *p; p++)
    ok = g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == '.';
  if (!ok) {
    g_autofree char *shown = ll_excerpt(id ? id : "", -1);
    g_set_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_ID,
                "%s: \"%s\" is not an id of the store (ids are letters, digits, '-', '_' and "
                "'.', as `layerlab runs` lists them)",
                what, shown);
  }
  return ok;
}

char *ll_excerpt(const char *text, gssize len)
{
  if (!text)
    return g_strdup("");
  size_t n = len < 0 ? strlen(text) : (size_t)len;
  GString *out = g_string_new(NULL);
  size_t shown = 0, i = 0;
  while (i < n && shown < LL_EXCERPT_MAX) {
    guchar c = (guchar)text[i];
    if (c >= 0x80) {
      /* a whole valid UTF-8 character passes; anything else is escaped */
      gunichar u = g_utf8_get_char_validated(text + i, (gssize)(n - i));
      if (u != (gunichar)-1 && u != (gunichar)-2 && g_unichar_isprint(u)) {
        int k = g_utf8_skip[c];
        g_string_append_len(out, text + i, k);
        i += (size_t)k;
      } else {
        g_string_append_printf(out, "\\x%02x", c);
        i++;
      }
    } else {
      switch (c) {
      case '\n': g_string_append(out, "\\n"); break;
      case '\r': g_string_append(out, "\\r"); break;
      case '\t': g_string_append(out, "\\t"); break;
      case '\\': g_string_append(out, "\\\\"); break;
      case '"': g_string_append(out, "\\\""); break;
      default:
        if (c < 0x20 || c == 0x7f)
          g_string_append_printf(out, "\\x%02x", c);
        else
          g_string_append_c(out, (char)c);
      }
      i++;
    }
    shown++;
  }
  if (i < n)
    g_string_append(out, "...");
  return g_string_free(out, FALSE);
}
