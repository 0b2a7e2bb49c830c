/* Runs the libFuzzer harness without libFuzzer: every fixture, then N deterministic
 * mutations of them (bit flips, byte stores, truncations, length-field edits). Built with
 * any compiler and run by ctest under ASan/UBSan and valgrind.
 *   fuzz_smoke [N]                 (default 20000)
 *   fuzz_smoke --write-seeds DIR   write the fixtures as a libFuzzer corpus */
#include <odm/odm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t
next_rand (void)
{
   rng ^= rng << 13;
   rng ^= rng >> 7;
   rng ^= rng << 17;
   return (uint32_t) (rng >> 16);
}

static char *
slurp (const char *path, size_t *len)
{
   FILE *f = fopen (path, "rb");
   char *s;
   long n;
   if (!f) {
      return NULL;
   }
   fseek (f, 0, SEEK_END);
   n = ftell (f);
   fseek (f, 0, SEEK_SET);
   s = malloc ((size_t) n + 1);
   if (fread (s, 1, (size_t) n, f) != (size_t) n) {
      n = 0;
   }
   s[n] = 0;
   fclose (f);
   *len = (size_t) n;
   return s;
}

int
main (int argc, char **argv)
{
   size_t n, i, seeds = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   uint8_t *inputs[64];
   size_t lens[64];
   long iterations = 20000, k;
   const char *seed_dir = NULL;

   if (argc == 3 && strcmp (argv[1], "--write-seeds") == 0) {
      seed_dir = argv[2];
   } else if (argc == 2) {
      iterations = atol (argv[1]);
   }
   for (i = 0; i < n; i++) {
      static const char *const variants[] = {"full", "min"};
      int v;
      for (v = 0; v < 2; v++) {
         char path[1024];
         size_t len;
         char *text;
         bson_t *b;
         snprintf (path, sizeof path, "%s/%s.%s.json", ODM_TEST_DATA_DIR, all[i]->collection, variants[v]);
         if (!(text = slurp (path, &len))) {
            fprintf (stderr, "fuzz_smoke: missing %s\n", path);
            return 1;
         }
         b = bson_new_from_json ((const uint8_t *) text, (ssize_t) len, NULL);
         free (text);
         if (!b) {
            fprintf (stderr, "fuzz_smoke: bad %s\n", path);
            return 1;
         }
         lens[seeds] = b->len + 1;
         inputs[seeds] = malloc (lens[seeds]);
         inputs[seeds][0] = (uint8_t) i;
         memcpy (inputs[seeds] + 1, bson_get_data (b), b->len);
         bson_destroy (b);
         if (seed_dir) {
            FILE *f;
            snprintf (path, sizeof path, "%s/%s-%s", seed_dir, all[i]->collection, variants[v]);
            f = fopen (path, "wb");
            if (!f || fwrite (inputs[seeds], 1, lens[seeds], f) != lens[seeds]) {
               return 1;
            }
            fclose (f);
         }
         LLVMFuzzerTestOneInput (inputs[seeds], lens[seeds]);
         seeds++;
      }
   }
   if (seed_dir) {
      iterations = 0;
   }
   for (k = 0; k < iterations; k++) {
      size_t which = next_rand () % seeds, len = lens[which];
      uint8_t *buf = malloc (len);
      int edits = 1 + (int) (next_rand () % 4), e;
      memcpy (buf, inputs[which], len);
      buf[0] = (uint8_t) (buf[0] + (next_rand () % 2) * n); /* sometimes strict */
      for (e = 0; e < edits; e++) {
         size_t pos = 1 + next_rand () % (len - 1);
         switch (next_rand () % 4) {
         case 0: buf[pos] ^= (uint8_t) (1u << (next_rand () % 8)); break;
         case 1: buf[pos] = (uint8_t) next_rand (); break;
         case 2: len = pos + 1; break; /* truncate (the length field then lies) */
         default:
            /* keep the outer length consistent so the walk reaches deeper bytes */
            buf[pos] = (uint8_t) (next_rand () % 20);
            break;
         }
      }
      LLVMFuzzerTestOneInput (buf, len);
      free (buf);
   }
   for (i = 0; i < seeds; i++) {
      free (inputs[i]);
   }
   printf ("fuzz_smoke: %zu seeds, %ld mutations, no crash\n", seeds, iterations);
   return 0;
}
