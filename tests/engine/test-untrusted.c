/* test-untrusted.c: input LayerLab does not trust. Paths a study names stay
 * inside its folder (no absolute path, "..", or symbolic link out of it);
 * ids from the command line are ids; error messages quote a file only as a
 * short escaped excerpt; every JSON text is bounded in nesting, size and NUL
 * characters before json-glib parses it (which would overflow the stack);
 * wrongly typed study fields are errors with a position, not warnings. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "study.h"
#include "untrusted.h"

#define BLOBS_DATA                                                                                 \
  "\"data\": {\"dataset\": {\"kind\": \"synthetic\", \"generator\": \"blobs\", \"n\": 300, "       \
  "\"test_n\": 100, \"classes\": 3, \"features\": 2, \"noise\": 0.3}, \"normalize\": \"none\"},\n"

static const char *mlp_spec =
    "{\"format\": \"layerlab-spec\", \"version\": 1, \"name\": \"mlp-blobs\",\n"
    " \"graph\": {\"blocks\": [\n"
    "  {\"name\": \"x\", \"type\": \"Input\", \"props\": {\"shape\": [2]}},\n"
    "  {\"name\": \"fc1\", \"type\": \"Linear\", \"inputs\": [\"x\"], \"props\": "
    "{\"out_features\": 8}},\n"
    "  {\"name\": \"act1\", \"type\": \"ReLU\", \"inputs\": [\"fc1\"]},\n"
    "  {\"name\": \"out\", \"type\": \"Linear\", \"inputs\": [\"act1\"], \"props\": "
    "{\"out_features\": 3}}]},\n" BLOBS_DATA
    " \"losses\": [{\"output\": \"out\", \"target\": \"label\", \"type\": \"cross_entropy\"}],\n"
    " \"training\": {\"epochs\": 1, \"batch_size\": 50, \"seed\": 3, \"threads\": 1}}\n";

static char *join(const char *a, const char *b) { return g_build_filename(a, b, NULL); }

static void test_path_inside(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-root-XXXXXX", NULL);
  g_autofree char *outside = g_dir_make_tmp("ll-outside-XXXXXX", NULL);
  g_autofree char *sub = join(root, "sub");
  g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  g_autoptr(GError) error = NULL;

  /* plain relative paths, existing or not */
  g_autofree char *a = ll_path_inside(root, "new/dir/out.csv", "t.json: f", &error);
  g_assert_no_error(error);
  g_autofree char *want = g_build_filename(root, "new/dir/out.csv", NULL);
  g_assert_cmpstr(a, ==, want);
  g_autofree char *b = ll_path_inside(root, "sub/./out.csv", "t.json: f", &error);
  g_assert_no_error(error);

  /* absolute, "..", empty: refused, naming the file and field */
  const char *bad[] = {"/etc/passwd", "../x.csv", "sub/../../x.csv", "a/..", ""};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *p =
        ll_path_inside(root, bad[i], "t.json: stages[0].export_outputs.path", &error);
    g_assert_null(p);
    g_assert_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH);
    g_assert_nonnull(strstr(error->message, "t.json: stages[0].export_outputs.path"));
    g_clear_error(&error);
  }

  /* a link to a folder outside, a link to a file outside, a dangling link */
  g_autofree char *l1 = join(root, "out");
  g_autofree char *victim = join(outside, "victim.csv");
  g_autofree char *l2 = join(root, "f.csv");
  g_autofree char *l3 = join(root, "dangling");
  g_assert_true(g_file_set_contents(victim, "keep", -1, NULL));
  g_assert_cmpint(symlink(outside, l1), ==, 0);
  g_assert_cmpint(symlink(victim, l2), ==, 0);
  g_assert_cmpint(symlink("/nonexistent-ll-dir/x", l3), ==, 0);
  const char *links[] = {"out/x.csv", "out", "f.csv", "dangling", "./out/deeper/x.csv"};
  for (guint i = 0; i < G_N_ELEMENTS(links); i++) {
    g_autofree char *p = ll_path_inside(root, links[i], "t.json: path", &error);
    g_assert_null(p);
    g_assert_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_PATH);
    g_assert_nonnull(strstr(error->message, "symbolic link"));
    g_clear_error(&error);
  }
  /* a link that stays inside is fine */
  g_autofree char *l4 = join(root, "alias");
  g_assert_cmpint(symlink("sub", l4), ==, 0);
  g_autofree char *c = ll_path_inside(root, "alias/x.csv", "t.json: path", &error);
  g_assert_no_error(error);
  g_assert_nonnull(c);
}

static void test_store_ids(void)
{
  const char *good[] = {"20261123-174501-3f2a", "a.b_c-1"};
  const char *bad[] = {"..", ".", "../../tmp", "a/b", "/abs", "", "run id", "x\ny"};
  g_autoptr(GError) error = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_assert_true(ll_store_id_check(good[i], "--resume", &error));
    g_assert_no_error(error);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(ll_store_id_check(bad[i], "--resume", &error));
    g_assert_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_ID);
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  /* a study id that is a path does not reach the file system */
  g_autofree char *root = g_dir_make_tmp("ll-store-XXXXXX", NULL);
  g_autofree char *d = ll_study_store_dir(root, "../..", &error);
  g_assert_null(d);
  g_assert_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_ID);
}

static void test_excerpt(void)
{
  g_autofree char *big = g_strnfill(70000, 'a');
  g_autofree char *e1 = ll_excerpt(big, -1);
  g_assert_cmpuint(strlen(e1), ==, LL_EXCERPT_MAX + 3);
  g_assert_true(g_str_has_suffix(e1, "..."));
  g_autofree char *e2 = ll_excerpt("a\nb\t\"c\"\x1b[31m\xff", -1);
  g_assert_cmpstr(e2, ==, "a\\nb\\t\\\"c\\\"\\x1b[31m\\xff");
  g_autofree char *e3 = ll_excerpt("caf\xc3\xa9", -1); /* valid UTF-8 passes */
  g_assert_cmpstr(e3, ==, "caf\xc3\xa9");
  g_autofree char *e4 = ll_excerpt("ab\0cd", 5);
  g_assert_cmpstr(e4, ==, "ab\\x00cd");

  /* a spec's long strings come back as excerpts in its errors */
  g_autofree char *huge = g_strnfill(20000, 'z');
  /* before and after the long string */
  const char *around[][2] = {
      {"{\"format\": \"layerlab-spec\", \"", "\": 1}"},
      {"{\"format\": \"layerlab-spec\", \"graph\": {\"blocks\": [{\"name\": \"a\", \"type\": \"",
       "\"}]}}"},
      {"{\"format\": \"layerlab-spec\", \"graph\": {\"blocks\": [{\"name\": \"",
       "\", \"type\": \"ReLU\"}]}}"},
      {"{\"format\": \"layerlab-spec\", \"graph\": {\"blocks\": [{\"name\": \"a\", \"type\": "
       "\"Input\"}]}, \"training\": {\"device\": \"",
       "\"}}"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(around); i++) {
    g_autofree char *text = g_strconcat(around[i][0], huge, around[i][1], NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(LlSpec) spec = ll_spec_load_data(text, -1, "long.json", &error);
    g_assert_null(spec);
    g_test_message("%s", error->message);
    g_assert_cmpuint(strlen(error->message), <, 400);
    g_assert_nonnull(strstr(error->message, "zzz..."));
  }
}

/* n nested arrays: "[[[...]]]" */
static char *nested(int n)
{
  GString *s = g_string_new(NULL);
  for (int i = 0; i < n; i++)
    g_string_append_c(s, '[');
  for (int i = 0; i < n; i++)
    g_string_append_c(s, ']');
  return g_string_free(s, FALSE);
}

static void test_json_bounds(void)
{
  g_autoptr(GError) error = NULL;
  /* 100,000 levels overflowed json-glib's recursion (a crash, not an error) */
  g_autofree char *deep = nested(100000);
  g_autofree char *spec_text = g_strdup_printf("{\"graph\":\n %s}", deep);
  g_autoptr(LlSpec) spec = ll_spec_load_data(spec_text, -1, "deep.json", &error);
  g_assert_null(spec);
  g_assert_error(error, LL_SPEC_ERROR, LL_SPEC_ERROR_SYNTAX);
  /* the object is level 1, so the 128th bracket (line 2, column 129) is level 129 */
  g_assert_cmpstr(error->message, ==, "deep.json:2:129: nested deeper than 128");
  g_clear_error(&error);
  g_autoptr(LlStudy) study = ll_study_load_data(spec_text, -1, "deep-study.json", ".", &error);
  g_assert_null(study);
  g_assert_nonnull(strstr(error->message, "nested deeper than 128"));
  g_clear_error(&error);

  /* at the limit it parses; brackets and escaped quotes inside strings do not count */
  g_autofree char *limit = nested(LL_JSON_MAX_DEPTH);
  g_assert_true(ll_json_check_bounds(limit, -1, "limit", &error));
  g_autofree char *over = nested(LL_JSON_MAX_DEPTH + 1);
  g_assert_false(ll_json_check_bounds(over, -1, "over", &error));
  g_clear_error(&error);
  g_autofree char *brackets = g_strnfill(1000, '[');
  g_autofree char *in_string = g_strdup_printf("{\"a\": \"\\\"%s\\\\\"}", brackets);
  g_assert_true(ll_json_check_bounds(in_string, -1, "strings", &error));
  g_autoptr(JsonNode) n = ll_json_from_string(in_string, "strings", &error);
  g_assert_no_error(error);

  /* \u0000 would cut a name short: refused wherever it is */
  const char *nul = "{\"format\": \"layerlab-spec\", \"name\": \"fc\\u0000evil\"}";
  g_autoptr(LlSpec) s2 = ll_spec_load_data(nul, -1, "nul.json", &error);
  g_assert_null(s2);
  g_assert_cmpstr(error->message, ==,
                  "nul.json:1:40: a string holds \\u0000 (a NUL character, which would cut it)");
  g_clear_error(&error);
  g_assert_false(ll_json_check_bounds("{\"a\": 1}\0", 9, "raw", &error));
  g_clear_error(&error);
  /* an escaped backslash before u0000 is text, not an escape */
  g_assert_true(ll_json_check_bounds("{\"a\": \"\\\\u0000\"}", -1, "text", &error));
  g_assert_no_error(error);

  /* one value per text: json-glib would keep the last and leak the others */
  const char *two[] = {"[\"a\"]\n\n[\"b\"]", "{} {}", "\"a\" \"b\"", "1 2", "[1]2", "{}\"x\"", "0{}"};
  const int two_col[] = {1, 4, 5, 3, 4, 3, 2};
  const int two_line[] = {3, 1, 1, 1, 1, 1, 1};
  for (size_t i = 0; i < G_N_ELEMENTS(two); i++) {
    g_assert_false(ll_json_check_bounds(two[i], -1, "two", &error));
    g_autofree char *want = g_strdup_printf(
        "two:%d:%d: more text after the JSON value (one value per file)", two_line[i], two_col[i]);
    g_assert_cmpstr(error->message, ==, want);
    g_clear_error(&error);
  }
  const char *one[] = {"[\"a\"]\n", " {\"a\": [1, 2]} ", "\"a b\"", "12", "true\n", "\"[\" "};
  for (size_t i = 0; i < G_N_ELEMENTS(one); i++) {
    g_assert_true(ll_json_check_bounds(one[i], -1, "one", &error));
    g_assert_no_error(error);
  }
  g_autoptr(LlSpec) s4 = ll_spec_load_data("{\"format\": \"layerlab-spec\"} {}", -1, "two.json", &error);
  g_assert_null(s4);
  g_assert_cmpstr(error->message, ==,
                  "two.json:1:29: more text after the JSON value (one value per file)");
  g_clear_error(&error);

  /* size: refused before reading */
  g_autofree char *tmp = g_dir_make_tmp("ll-json-XXXXXX", NULL);
  g_autofree char *big = join(tmp, "big.json");
  FILE *f = fopen(big, "w");
  g_assert_nonnull(f);
  g_assert_cmpint(fseek(f, LL_JSON_MAX_BYTES + 1, SEEK_SET), ==, 0);
  fputc('}', f);
  fclose(f);
  g_autoptr(LlSpec) s3 = ll_spec_load_file(big, &error);
  g_assert_null(s3);
  g_assert_nonnull(strstr(error->message, "MiB"));
  g_clear_error(&error);
  g_unlink(big);
}

/* A safetensors file with the given header text and no tensors. */
static void write_safetensors(const char *path, const char *header)
{
  guint64 n = strlen(header);
  GString *b = g_string_new_len((const char *)&n, 8);
  g_string_append(b, header);
  g_assert_true(g_file_set_contents(path, b->str, (gssize)b->len, NULL));
  g_string_free(b, TRUE);
}

static void test_checkpoint_nesting(void)
{
  g_autofree char *tmp = g_dir_make_tmp("ll-ckpt-XXXXXX", NULL);
  g_autofree char *path = join(tmp, "deep.safetensors");
  g_autoptr(GError) error = NULL;
  g_autofree char *deep = nested(100000);
  /* the header itself nested too deep */
  g_autofree char *h1 = g_strdup_printf("{\"__metadata__\": {}, \"x\": %s}", deep);
  write_safetensors(path, h1);
  g_autoptr(GHashTable) meta = NULL;
  g_assert_false(ll_checkpoint_read_metadata(path, &meta, &error));
  g_assert_nonnull(strstr(error->message, "nested deeper than"));
  g_clear_error(&error);
  /* a spec in the metadata nested too deep (what `eval` loads) */
  GString *h2 = g_string_new("{\"__metadata__\": {\"spec\": \"");
  for (int i = 0; i < 100000; i++)
    g_string_append_c(h2, '[');
  g_string_append(h2, "\"}}");
  write_safetensors(path, h2->str);
  g_string_free(h2, TRUE);
  g_assert_true(ll_checkpoint_read_metadata(path, &meta, &error));
  g_assert_no_error(error);
  const char *spec_json = g_hash_table_lookup(meta, "spec");
  g_assert_nonnull(spec_json);
  g_autoptr(LlSpec) spec = ll_spec_load_data(spec_json, -1, path, &error);
  g_assert_null(spec);
  g_assert_nonnull(strstr(error->message, "nested deeper than 128"));
}

/* A study with one stage whose extra members are `stage_extra`. */
static char *study_with(const char *top_extra, const char *stage_extra)
{
  return g_strdup_printf("{\"format\": \"layerlab-study\", \"version\": 1, \"spec\": %s,%s\n"
                         " \"stages\": [{\"name\": \"a\"%s}]}",
                         mlp_spec, top_extra, stage_extra);
}

static void expect_study_error(const char *top, const char *stage, const char *want)
{
  g_autofree char *text = study_with(top, stage);
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "s.json", ".", &error);
  g_assert_null(s);
  g_assert_nonnull(error);
  g_test_message("%s", error->message);
  /* file:line:column and the field */
  g_assert_true(g_regex_match_simple("^s\\.json:[0-9]+:[0-9]+: ", error->message, 0, 0));
  if (!strstr(error->message, want))
    g_error("\"%s\" lacks \"%s\"", error->message, want);
}

static void test_study_fields(void)
{
  /* wrong types: errors (json-glib's getters printed Json-CRITICAL and ignored them) */
  expect_study_error("", ", \"export_embeddings\": [\"code\"]",
                     "stages[0].export_embeddings: expected an object, got an array");
  expect_study_error("", ", \"export_outputs\": \"logits\"",
                     "stages[0].export_outputs: expected an object, got a string");
  expect_study_error("", ", \"export_outputs\": {\"block\": 3}",
                     "stages[0].export_outputs.block: expected a string");
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"samples\": \"8\"}",
                     "stages[0].export_outputs.samples: expected an integer");
  expect_study_error("", ", \"export_outputs\": {\"path\": \"o.csv\"}", "needs a \"block\"");
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"file\": \"o.csv\"}",
                     "unknown field \"file\"");
  expect_study_error("", ", \"init_from\": {\"stage\": \"x\"}",
                     "stages[0].init_from: expected an array");
  expect_study_error("", ", \"repeat\": 3", "stages[0].repeat: expected an array");
  expect_study_error("", ", \"frozen\": \"fc1\"", "stages[0].frozen: expected [block names]");
  expect_study_error(" \"groups\": {\"hidden\": {\"blocks\": \"fc1\"}},", "",
                     "groups.hidden.blocks: expected an array, got a string");
  expect_study_error(" \"groups\": {\"hidden\": {\"blocks\": [\"fc1\", 2]}},", "",
                     "groups.hidden.blocks[1]: expected a block name, got an integer");
  expect_study_error(" \"groups\": {\"hidden\": [\"fc1\"]},", "",
                     "groups.hidden: expected an object, got an array");
  /* paths out of the study folder, or over its own files */
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"path\": \"../../x.csv\"}",
                     "stages[0].export_outputs.path: \"../../x.csv\" has a \"..\" component");
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"path\": \"/tmp/x.csv\"}",
                     "stages[0].export_outputs.path: \"/tmp/x.csv\" is an absolute path");
  expect_study_error("", ", \"export_embeddings\": {\"block\": \"out\", \"path\": \"/tmp/e\"}",
                     "stages[0].export_embeddings.path: \"/tmp/e\" is an absolute path");
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"path\": \"study.json\"}",
                     "would replace the study folder's own study.json");
  expect_study_error("", ", \"export_outputs\": {\"block\": \"out\", \"path\": \"./figures/a\"}",
                     "would replace the study folder's own figures");
}

static void test_study_export_link(void)
{
  g_autofree char *root = g_dir_make_tmp("ll-study-XXXXXX", NULL);
  g_autofree char *outside = g_dir_make_tmp("ll-outside-XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text =
      study_with("", ", \"export_outputs\": {\"block\": \"out\", \"path\": \"sub/o.csv\"}");
  g_autoptr(LlStudy) s = ll_study_load_data(text, -1, "s.json", ".", &error);
  g_assert_no_error(error);
  LlStudyOptions o = {.store_root = root, .epochs = 1};
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  LlTrial *t = ll_study_trials(s)->pdata[0];
  if (t->error)
    g_test_message("%s", t->error);
  g_assert_cmpint(t->status, ==, LL_TRIAL_FINISHED);
  g_autofree char *csv = g_build_filename(ll_study_dir(s), "sub", "o.csv", NULL);
  g_assert_true(g_file_test(csv, G_FILE_TEST_IS_REGULAR));

  /* sub/ replaced by a link out of the study folder: the trial run again
   * (resumed) fails its export and nothing is written outside */
  g_autofree char *sub = g_build_filename(ll_study_dir(s), "sub", NULL);
  g_assert_cmpint(g_unlink(csv), ==, 0);
  g_assert_cmpint(g_rmdir(sub), ==, 0);
  g_assert_cmpint(symlink(outside, sub), ==, 0);
  g_autofree char *jsonl = g_build_filename(ll_study_dir(s), "trials.jsonl", NULL);
  g_assert_cmpint(g_unlink(jsonl), ==, 0);
  g_autofree char *id = g_strdup(ll_study_id(s));
  o.resume = id;
  g_assert_true(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_no_error(error);
  t = ll_study_trials(s)->pdata[0];
  g_assert_cmpint(t->status, ==, LL_TRIAL_FAILED);
  g_test_message("%s", t->error);
  g_assert_nonnull(strstr(t->error, "export_outputs.path"));
  g_assert_nonnull(strstr(t->error, "symbolic link"));
  g_autofree char *escaped = g_build_filename(outside, "o.csv", NULL);
  g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));

  /* --resume with a path for an id writes nothing anywhere */
  o.resume = "../../outside";
  g_assert_false(ll_study_run(s, &o, NULL, NULL, &error));
  g_assert_error(error, LL_UNTRUSTED_ERROR, LL_UNTRUSTED_ERROR_ID);
}

/* A study folder's trials.jsonl whose lines hold the wrong types (edited,
 * or cut short) is read without json-glib's warnings (fatal in tests). */
static void test_tampered_trials(void)
{
  g_autofree char *dir = g_dir_make_tmp("ll-tampered-XXXXXX", NULL);
  g_autofree char *study = study_with("", "");
  g_autofree char *sp = join(dir, "study.json");
  g_assert_true(g_file_set_contents(sp, study, -1, NULL));
  g_autofree char *deep = nested(5000);
  g_autofree char *lines = g_strdup_printf(
      "{\"key\": 3, \"stage\": [], \"curve\": \"x\", \"x\": {}, \"values\": [1], \"metrics\": 2, "
      "\"metric\": \"high\", \"params\": \"many\", \"seconds\": {}, \"index\": \"first\"}\n"
      "{\"key\": \"a\", \"curve\": [1, \"two\", null, {}], \"metric\": 0.5, \"status\": "
      "\"finished\"}\n"
      "%s\n{\"key\": \"b\", \"metric\":",
      deep);
  g_autofree char *tp = join(dir, "trials.jsonl");
  g_assert_true(g_file_set_contents(tp, lines, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(LlStudy) s = ll_study_open_dir(dir, &error);
  g_assert_no_error(error);
  GPtrArray *trials = ll_study_trials(s);
  g_assert_cmpuint(trials->len, ==, 2); /* the deep and the cut lines are skipped */
  LlTrial *a = trials->pdata[0], *b = trials->pdata[1];
  g_assert_null(a->key);
  g_assert_true(isnan(a->metric));
  g_assert_cmpint(a->params, ==, 0);
  g_assert_cmpint(a->index, ==, 0);
  g_assert_cmpstr(b->key, ==, "a");
  g_assert_cmpfloat(b->metric, ==, 0.5);
  g_assert_cmpuint(b->curve->len, ==, 4);
  g_assert_cmpfloat(g_array_index(b->curve, double, 0), ==, 1.0);
  g_assert_true(isnan(g_array_index(b->curve, double, 1)));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/engine/untrusted/path-inside", test_path_inside);
  g_test_add_func("/engine/untrusted/store-ids", test_store_ids);
  g_test_add_func("/engine/untrusted/excerpt", test_excerpt);
  g_test_add_func("/engine/untrusted/json-bounds", test_json_bounds);
  g_test_add_func("/engine/untrusted/checkpoint-nesting", test_checkpoint_nesting);
  g_test_add_func("/engine/untrusted/study-fields", test_study_fields);
  g_test_add_func("/engine/untrusted/study-export-link", test_study_export_link);
  g_test_add_func("/engine/untrusted/tampered-trials", test_tampered_trials);
  return g_test_run();
}
