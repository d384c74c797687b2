/* untrusted.h: what LayerLab does with input it does not trust.
 *
 * Everything a spec, study or checkpoint names that gets written must land
 * inside its run or study folder; ids typed on the command line name an entry
 * of the store, never a path; and an error message quotes a file's content
 * only as a short, escaped excerpt. Every such check goes through here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LL_UNTRUSTED_ERROR (ll_untrusted_error_quark())
GQuark ll_untrusted_error_quark(void);
typedef enum {
  LL_UNTRUSTED_ERROR_PATH, /* a path that would leave its folder */
  LL_UNTRUSTED_ERROR_ID,   /* not an id of the store */
  LL_UNTRUSTED_ERROR_IO,   /* the folder cannot be read */
} LlUntrustedError;

/* The path of rel inside root, when writing there stays inside root: rel is
 * relative, has no ".." component, and no symbolic link on the way (the
 * parts of it that exist, the file itself included) leads out of root (the
 * real paths are compared). The folders leading to the file that do not
 * exist yet are created. root must exist. `what` names the file and field
 * for the error ("study.json: stages[1].export_outputs.path"). Returns a
 * newly allocated path, or NULL with the error set. */
char *ll_path_inside(const char *root, const char *rel, const char *what, GError **error);

/* Only the lexical part of ll_path_inside (relative, no ".." component, not
 * empty, not too long): for checking a file before any folder exists. */
gboolean ll_path_check_relative(const char *rel, const char *what, GError **error);

/* An id of the store typed on the command line (run or study): letters,
 * digits, '-', '_' and '.', not "." or "..", at most 128 bytes: so that
 * <root>/studies/<id> is a folder of the store and no other. `what` names
 * the option ("--resume"). */
gboolean ll_store_id_check(const char *id, const char *what, GError **error);

/* At most LL_EXCERPT_MAX characters of untrusted text for an error message,
 * escaped so that it prints as one harmless line: control bytes, quotes,
 * backslashes and invalid UTF-8 as C escapes, "..." where it was cut.
 * len < 0: text is NUL-terminated. Never NULL. */
#define LL_EXCERPT_MAX 60
char *ll_excerpt(const char *text, gssize len);

G_END_DECLS
