/* cli-import.c: `layerlab import FILE.onnx`: an ONNX model as a spec and a
 * checkpoint that the spec's training.init_from names. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "onnx.h"

int ll_cli_import(int argc, char **argv)
{
  g_autofree char *out = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
      {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "The spec to write (default: the model's name with .json, here); the weights go beside "
       "it with .safetensors",
       "SPEC"},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace the spec and weights if they exist",
       NULL},
      {NULL},
  };
  if (!ll_cli_parse("import", "FILE.onnx", entries, &argc, &argv))
    return 2;
  if (argc != 2) {
    fprintf(stderr, "Usage: layerlab import FILE.onnx [--out SPEC] [--force]\n");
    return 2;
  }
  g_autofree char *base = g_path_get_basename(argv[1]);
  if (g_str_has_suffix(base, ".onnx"))
    base[strlen(base) - 5] = '\0';
  g_autofree char *spec_path = out ? g_strdup(out) : g_strconcat(base, ".json", NULL);
  g_autofree char *stem =
      g_strndup(spec_path, strlen(spec_path) - (g_str_has_suffix(spec_path, ".json") ? 5 : 0));
  g_autofree char *weights = g_strconcat(stem, ".safetensors", NULL);
  const char *paths[] = {spec_path, weights};
  for (guint i = 0; !force && i < G_N_ELEMENTS(paths); i++)
    if (g_file_test(paths[i], G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)) {
      fprintf(stderr, "layerlab import: %s already exists; --force replaces it\n", paths[i]);
      return 1;
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(LlSpec) spec = ll_onnx_import(argv[1], weights, &error);
  if (!spec || !ll_spec_save_file(spec, spec_path, &error)) {
    fprintf(stderr, "layerlab import: %s\n", error->message);
    return 1;
  }
  printf("%s\n%s\n", spec_path, weights);
  return 0;
}
