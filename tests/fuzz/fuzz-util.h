/* fuzz-util.h: what the libFuzzer targets share.
 *
 * The engine's loaders read files by path, so a target writes the fuzzed
 * bytes into a private temporary folder (under $TMPDIR, /dev/shm when it
 * exists) and hands the paths to the real loader. An input that stands for
 * several files is cut at LL_FUZZ_SEP; the seed corpora (make-corpus.py)
 * and the dictionaries hold that separator so that mutations keep it. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LL_FUZZ_SEP "\n--LLFUZZ--\n"

/* Once per process: GLib criticals abort (as G_DEBUG=fatal-criticals does
 * in the test suites: an input that reaches a g_return_if_fail is a bug),
 * warnings and messages are silenced, and the temporary folder is made. */
void ll_fuzz_init(void);

/* The temporary folder (emptied of what the previous input left by
 * ll_fuzz_reset). */
const char *ll_fuzz_dir(void);

/* Removes every file and folder under the temporary folder. */
void ll_fuzz_reset(void);

/* Writes data to <dir>/<name> (name may hold '/': parents are made) and
 * returns the full path (g_free). */
char *ll_fuzz_write(const char *name, const void *data, size_t len);

/* Same, without the path; FALSE when the name cannot be a file there (a
 * folder of that name, or a file where a parent folder should be). */
gboolean ll_fuzz_try_write(const char *name, const void *data, size_t len);

/* Same as ll_fuzz_write, gzip-compressed. */
char *ll_fuzz_write_gz(const char *name, const void *data, size_t len);

/* Cuts data at each LL_FUZZ_SEP into at most max parts; returns their
 * number (at least 1; the last part holds the rest). */
int ll_fuzz_split(const uint8_t *data, size_t size, int max, const uint8_t **part,
                  size_t *part_len);

G_END_DECLS
