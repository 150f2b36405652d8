/* gst-voicecall fuzz targets: main() for the non-fuzz build (see fuzz.h).
 *
 *   replay_<target> DIR|FILE...
 *
 * Feeds every regular file of each folder (in name order, dot files skipped) or each file
 * once to LLVMFuzzerTestOneInput. A crash or a sanitizer report fails the test; so does a
 * missing folder, and no input at all (a corpus that vanished must not pass silently).
 */
#include "fuzz.h"

#include <glib.h>

#include <algorithm>
#include <string>
#include <vector>

static bool
run_file (const std::string &path)
{
  gchar *data = nullptr;
  gsize len = 0;
  GError *err = nullptr;
  if (!g_file_get_contents (path.c_str (), &data, &len, &err)) {
    fprintf (stderr, "cannot read %s: %s\n", path.c_str (), err->message);
    g_error_free (err);
    return false;
  }
  /* A copy of exactly len bytes, so ASan sees any read past the input's end. */
  std::vector<uint8_t> input (data, data + len);
  g_free (data);
  uint8_t *p = input.empty () ? nullptr : input.data ();
  LLVMFuzzerTestOneInput (p, input.size ());
  return true;
}

int
main (int argc, char **argv)
{
  LLVMFuzzerInitialize (&argc, &argv);
  guint total = 0;
  bool ok = true;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (g_file_test (arg.c_str (), G_FILE_TEST_IS_REGULAR)) {
      ok = run_file (arg) && ok;
      total++;
      continue;
    }
    GDir *dir = g_dir_open (arg.c_str (), 0, nullptr);
    if (!dir) {
      fprintf (stderr, "%s: no such folder or file\n", arg.c_str ());
      ok = false;
      continue;
    }
    std::vector<std::string> names;
    while (const char *name = g_dir_read_name (dir))
      if (name[0] != '.')
        names.push_back (name);
    g_dir_close (dir);
    std::sort (names.begin (), names.end ());
    guint n = 0;
    for (const std::string &name : names) {
      std::string path = arg + G_DIR_SEPARATOR_S + name;
      if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR))
        continue;
      ok = run_file (path) && ok;
      n++;
    }
    printf ("%s: %u inputs\n", arg.c_str (), n);
    total += n;
  }
  printf ("replayed %u inputs\n", total);
  if (total == 0) {
    fprintf (stderr, "no input found: the corpus is missing\n");
    return 1;
  }
  return ok ? 0 : 1;
}
