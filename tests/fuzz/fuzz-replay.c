/* Runs a libFuzzer harness without libFuzzer over files: each argument is a file or a
 * directory of files (the seed corpus, the regression inputs of fixed crashes). Built with
 * any compiler against the ordinary library, so ctest replays every input under the
 * sanitizer and valgrind builds too. A broken promise aborts; exit 0 otherwise. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static size_t runs;

static int
run_file (const char *path)
{
   FILE *f = fopen (path, "rb");
   uint8_t *buf;
   long n;
   if (!f || fseek (f, 0, SEEK_END) != 0 || (n = ftell (f)) < 0 || fseek (f, 0, SEEK_SET) != 0) {
      fprintf (stderr, "fuzz_replay: cannot read %s\n", path);
      if (f) {
         fclose (f);
      }
      return 1;
   }
   buf = malloc ((size_t) n + 1);
   if (fread (buf, 1, (size_t) n, f) != (size_t) n) {
      fprintf (stderr, "fuzz_replay: cannot read %s\n", path);
      free (buf);
      fclose (f);
      return 1;
   }
   fclose (f);
   /* an exact-size copy, so that an out-of-bounds read is seen by ASan and valgrind */
   {
      uint8_t *exact = malloc (n ? (size_t) n : 1);
      memcpy (exact, buf, (size_t) n);
      free (buf);
      LLVMFuzzerTestOneInput (exact, (size_t) n);
      free (exact);
   }
   runs++;
   return 0;
}

static int
compare (const void *a, const void *b)
{
   return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
run_path (const char *path)
{
   struct stat st;
   DIR *d;
   struct dirent *e;
   char **names = NULL;
   size_t n = 0, cap = 0, i;
   int rc = 0;
   if (stat (path, &st) != 0) {
      fprintf (stderr, "fuzz_replay: no %s\n", path);
      return 1;
   }
   if (!S_ISDIR (st.st_mode)) {
      return run_file (path);
   }
   if (!(d = opendir (path))) {
      return 1;
   }
   while ((e = readdir (d))) {
      if (e->d_name[0] == '.') {
         continue;
      }
      if (n == cap) {
         cap = cap ? cap * 2 : 64;
         names = realloc (names, cap * sizeof *names);
      }
      names[n] = malloc (strlen (path) + strlen (e->d_name) + 2);
      sprintf (names[n++], "%s/%s", path, e->d_name);
   }
   closedir (d);
   qsort (names, n, sizeof *names, compare);
   for (i = 0; i < n; i++) {
      rc |= run_path (names[i]);
      free (names[i]);
   }
   free (names);
   return rc;
}

int
main (int argc, char **argv)
{
   int i, rc = 0;
   for (i = 1; i < argc; i++) {
      rc |= run_path (argv[i]);
   }
   printf ("fuzz_replay: %zu inputs, no crash\n", runs);
   return rc;
}
