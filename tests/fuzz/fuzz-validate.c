/* libFuzzer harness over `odm validate`, the command itself: its JSON Lines reader, the
 * Extended JSON parser, decode, odm_prepare and the lines it prints. src/tools/odm-cli.c is
 * compiled into this file with its main renamed, and run on the input as standard input.
 * Input: one byte choosing the collection (and --strict / --update), then the lines.
 * Promises checked: no crash, no leak; exactly one output line per input line; every
 * output line is valid UTF-8 and valid JSON, {"valid": true, "document": D} or
 * {"valid": false, "errors": [...]}; D decodes in the collection's schema again; the exit
 * status is 0 exactly when every line is valid, else 1 or 2. */
#include "fuzz-common.h"

#include <stdint.h>

int
odm_cli_main (int argc, char **argv);

#define main odm_cli_main
#include "../../src/tools/odm-cli.c"
#undef main

#define H "validate"

/* How many lines `odm validate` reads from DATA: a last line without '\n' counts. */
static size_t
count_lines (const uint8_t *data, size_t size)
{
   size_t i, n = 0;
   for (i = 0; i < size; i++) {
      n += data[i] == '\n';
   }
   return n + (size && data[size - 1] != '\n');
}

/* Checks one printed line; returns whether it says "valid": true. */
static bool
check_line (const odm_schema_t *s, uint32_t flags, const char *line, size_t len)
{
   bson_error_t err = {0};
   bson_t *b;
   bson_iter_t it, d;
   bool valid;

   if (!bson_utf8_validate (line, len, false)) {
      fuzz_fail (H, "output line is not valid UTF-8", NULL);
   }
   if (!(b = bson_new_from_json ((const uint8_t *) line, (ssize_t) len, &err))) {
      fuzz_fail (H, "output line is not JSON", err.message);
   }
   if (!bson_iter_init_find (&it, b, "valid") || !BSON_ITER_HOLDS_BOOL (&it)) {
      fuzz_fail (H, "output line without \"valid\"", line);
   }
   valid = bson_iter_bool (&it);
   if (valid) {
      const uint8_t *data;
      uint32_t dlen;
      bson_t doc;
      void *st = bson_malloc0 (s->root->size);
      if (!bson_iter_init_find (&d, b, "document") || !BSON_ITER_HOLDS_DOCUMENT (&d)) {
         fuzz_fail (H, "valid line without a document", line);
      }
      bson_iter_document (&d, &dlen, &data);
      if (!bson_init_static (&doc, data, dlen) || !odm_from_bson (s, &doc, st, flags, &err)) {
         fuzz_fail (H, "printed document does not decode", err.message);
      }
      odm_cleanup (s, st);
      bson_free (st);
   } else if (!bson_iter_init_find (&d, b, "errors") || !BSON_ITER_HOLDS_ARRAY (&d)) {
      fuzz_fail (H, "invalid line without errors", line);
   }
   bson_destroy (b);
   return valid;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   static FILE *devnull;
   unsigned opt;
   const odm_schema_t *s;
   char *argv[8], *out = NULL, *copy;
   int argc = 0, rc;
   size_t outlen = 0, lines = 0, invalid = 0, i, start;
   FILE *in, *outf, *saved_in = stdin, *saved_out = stdout, *saved_err = stderr;
   uint32_t flags = ODM_DECODE_DEFAULT;

   if (size < 1) {
      return 0;
   }
   if (!devnull && !(devnull = fopen ("/dev/null", "w"))) {
      abort ();
   }
   s = fuzz_schema (data[0], &opt);
   argv[argc++] = "odm";
   argv[argc++] = "validate";
   if (opt & 1) {
      argv[argc++] = "--strict";
      flags |= ODM_DECODE_STRICT;
   }
   if (opt & 2) {
      argv[argc++] = "--update";
   }
   argv[argc++] = "--now";
   argv[argc++] = "1750000000000";
   argv[argc++] = (char *) s->collection;
   argv[argc] = NULL;

   copy = malloc (size);
   memcpy (copy, data + 1, size - 1);
   in = size > 1 ? fmemopen (copy, size - 1, "r") : fopen ("/dev/null", "r");
   outf = open_memstream (&out, &outlen);
   if (!in || !outf) {
      abort ();
   }
   /* glibc's stdin/stdout/stderr are plain variables (documented): point them here. */
   stdin = in;
   stdout = outf;
   stderr = devnull;
   rc = odm_cli_main (argc, argv);
   stdin = saved_in;
   stdout = saved_out;
   stderr = saved_err;
   fclose (in);
   fclose (outf);
   free (copy);

   for (start = 0, i = 0; i < outlen; i++) {
      if (out[i] == '\n') {
         out[i] = '\0';
         invalid += !check_line (s, flags, out + start, i - start);
         lines++;
         start = i + 1;
      }
   }
   if (start != outlen) {
      fuzz_fail (H, "output does not end with a newline", NULL);
   }
   if (lines != count_lines (data + 1, size - 1)) {
      fuzz_fail (H, "not one output line per input line", NULL);
   }
   if ((rc == 0) != (invalid == 0) || rc < 0 || rc > 2) {
      fuzz_fail (H, "exit status does not match the lines", NULL);
   }
   free (out);
   return 0;
}
