/* fuzz-image-folder: a folder of class subfolders of PNG and JPEG files.
 * Input: 3 bytes (channels: 1 or 3 by bit 0; height and width 1..32), then
 * files cut at LL_FUZZ_SEP, each "class/name.png\n" followed by its bytes.
 * Paths with "..", a leading '/' or more than two components are dropped,
 * and so is a file whose name is taken by a folder or the reverse; a file
 * without a class folder lands at the top of the folder. */
#include <string.h>

#include "data.h"
#include "fuzz-util.h"

#define MAX_FILES 12

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gboolean path_ok(const char *p)
{
  if (!*p || p[0] == '/' || strstr(p, "..") || strchr(p, '\\'))
    return FALSE;
  const char *slash = strchr(p, '/');
  return !slash || (slash != p && slash[1] && !strchr(slash + 1, '/'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ll_fuzz_init();
  if (size < 3)
    return 0;
  int channels = data[0] & 1 ? 3 : 1, h = 1 + data[1] % 32, w = 1 + data[2] % 32;
  const uint8_t *part[MAX_FILES];
  size_t len[MAX_FILES];
  int n = ll_fuzz_split(data + 3, size - 3, MAX_FILES, part, len);
  for (int i = 0; i < n; i++) {
    const uint8_t *nl = memchr(part[i], '\n', len[i]);
    if (!nl)
      continue;
    g_autofree char *name = g_strndup((const char *)part[i], (gsize)(nl - part[i]));
    if (strlen(name) != (size_t)(nl - part[i]) || !path_ok(name))
      continue;
    ll_fuzz_try_write(name, nl + 1, len[i] - (size_t)(nl + 1 - part[i]));
  }
  GError *error = NULL;
  LlDataset *d = ll_dataset_load_image_folder(ll_fuzz_dir(), channels, h, w, &error);
  g_assert((d == NULL) == (error != NULL));
  g_clear_error(&error);
  ll_dataset_free(d);
  ll_fuzz_reset();
  return 0;
}
