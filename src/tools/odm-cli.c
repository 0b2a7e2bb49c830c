/* odm: command-line companion of libodm.
 *
 *   odm collections                     list the collections
 *   odm schema COLLECTION               print a collection's spec
 *   odm validate [--update] [--strict] [--now MS] COLLECTION [FILE]
 *        reads Extended JSON documents, one per line (as mongoexport writes them), from
 *        FILE or standard input; prints one JSON line per input line:
 *          {"valid": true, "document": <after defaults and derivations>}
 *          {"valid": false, "errors": [{"path": ..., "rule": ..., "message": ...}]}
 *        exit 0: all valid; 1: some invalid; 2: usage error or unreadable input. */
#include <odm/odm.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INVALID 1
#define EXIT_USAGE 2

static int
usage (void)
{
   fprintf (stderr, "usage: odm collections\n"
                    "       odm schema COLLECTION\n"
                    "       odm validate [--update] [--strict] [--now MS] COLLECTION [FILE]\n");
   return EXIT_USAGE;
}

static const odm_schema_t *
schema_or_die (const char *name)
{
   const odm_schema_t *s = odm_schema_find (name);
   if (!s) {
      fprintf (stderr, "odm: no collection named \"%s\" (see `odm collections`)\n", name);
   }
   return s;
}

static void
print_bson_line (const bson_t *b)
{
   char *json = bson_as_canonical_extended_json (b, NULL);
   fputs (json, stdout);
   fputc ('\n', stdout);
   bson_free (json);
}

static void
print_errors (const odm_violations_t *v)
{
   bson_t out = BSON_INITIALIZER;
   BSON_APPEND_BOOL (&out, "valid", false);
   odm_violations_append_bson (v, &out, "errors");
   print_bson_line (&out);
   bson_destroy (&out);
}

/* Reads one line of any length; returns NULL at end of input. */
static char *
read_line (FILE *f, size_t *len)
{
   size_t cap = 256, n = 0;
   char *s = NULL;
   int c;
   while ((c = fgetc (f)) != EOF) {
      if (!s) {
         s = bson_malloc (cap);
      }
      if (c == '\n') {
         break;
      }
      if (n + 1 >= cap) {
         cap *= 2;
         s = bson_realloc (s, cap);
      }
      s[n++] = (char) c;
   }
   if (!s) {
      return NULL;
   }
   if (n && s[n - 1] == '\r') {
      n--;
   }
   s[n] = '\0';
   *len = n;
   return s;
}

/* Validates one line; returns 0 (valid), EXIT_INVALID or EXIT_USAGE (unreadable). */
static int
validate_line (const odm_schema_t *s, const char *line, size_t len, size_t lineno, uint32_t flags,
               const odm_prepare_opts_t *opts)
{
   bson_error_t err;
   bson_t *in;
   odm_violations_t v;
   void *doc;
   const char *p = line;
   int rc;

   odm_violations_init (&v);
   while (*p == ' ' || *p == '\t') {
      p++;
   }
   if (!bson_utf8_validate (line, len, false)) {
      fprintf (stderr, "odm: line %zu: not valid UTF-8\n", lineno);
      odm_violations_add (&v, "", "utf8", "the line is not valid UTF-8");
      print_errors (&v);
      odm_violations_cleanup (&v);
      return EXIT_USAGE;
   }
   if (*p != '{' || !(in = bson_new_from_json ((const uint8_t *) line, (ssize_t) len, &err))) {
      const char *why = *p != '{' ? "expected one JSON object per line" : err.message;
      fprintf (stderr, "odm: line %zu: %s\n", lineno, why);
      odm_violations_add (&v, "", "json", why);
      print_errors (&v);
      odm_violations_cleanup (&v);
      return EXIT_USAGE;
   }
   doc = bson_malloc0 (s->root->size);
   if (!odm_from_bson (s, in, doc, flags, &err)) {
      /* "path: message" -> a violation with that path. */
      const char *colon = strstr (err.message, ": ");
      char path[256] = "";
      const char *rule = err.code == ODM_ERROR_UNKNOWN_FIELD     ? "unknown"
                         : err.code == ODM_ERROR_DUPLICATE_FIELD ? "duplicate"
                         : err.code == ODM_ERROR_RANGE           ? "range"
                         : err.code == ODM_ERROR_CORRUPT_BSON    ? "bson"
                                                                 : "type";
      if (colon && err.code != ODM_ERROR_CORRUPT_BSON) {
         bson_snprintf (path, sizeof path, "%.*s", (int) (colon - err.message), err.message);
         odm_violations_add (&v, path, rule, colon + 2);
      } else {
         odm_violations_add (&v, "", rule, err.message);
      }
      print_errors (&v);
      rc = EXIT_INVALID;
   } else if (!odm_prepare (s, doc, opts, &v)) {
      print_errors (&v);
      rc = EXIT_INVALID;
   } else {
      bson_t out = BSON_INITIALIZER, enc;
      if (!odm_to_bson (s, doc, &enc, &err)) {
         odm_violations_cleanup (&v);
         odm_violations_add (&v, "", "encode", err.message);
         print_errors (&v);
         rc = EXIT_INVALID;
      } else {
         BSON_APPEND_BOOL (&out, "valid", true);
         BSON_APPEND_DOCUMENT (&out, "document", &enc);
         print_bson_line (&out);
         rc = 0;
      }
      bson_destroy (&enc);
      bson_destroy (&out);
   }
   odm_violations_cleanup (&v);
   odm_cleanup (s, doc);
   bson_free (doc);
   bson_destroy (in);
   return rc;
}

static int
cmd_validate (int argc, char **argv)
{
   odm_prepare_opts_t opts = {0};
   uint32_t flags = ODM_DECODE_DEFAULT;
   const odm_schema_t *s;
   const char *file = NULL;
   FILE *f = stdin;
   int i, worst = 0;
   size_t lineno = 0, len;
   char *line;

   for (i = 0; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
      if (!strcmp (argv[i], "--update")) {
         opts.is_update = true;
      } else if (!strcmp (argv[i], "--strict")) {
         flags |= ODM_DECODE_STRICT;
      } else if (!strcmp (argv[i], "--now") && i + 1 < argc) {
         char *end;
         opts.now_ms = strtoll (argv[++i], &end, 10);
         if (*end || opts.now_ms <= 0) {
            fprintf (stderr, "odm: --now takes milliseconds since the epoch\n");
            return EXIT_USAGE;
         }
      } else {
         return usage ();
      }
   }
   if (argc - i < 1 || argc - i > 2) {
      return usage ();
   }
   if (!(s = schema_or_die (argv[i]))) {
      return EXIT_USAGE;
   }
   if (argc - i == 2 && strcmp (argv[i + 1], "-") != 0) {
      file = argv[i + 1];
      if (!(f = fopen (file, "rb"))) {
         fprintf (stderr, "odm: %s: %s\n", file, strerror (errno));
         return EXIT_USAGE;
      }
   }
   while ((line = read_line (f, &len))) {
      int rc = validate_line (s, line, len, ++lineno, flags, &opts);
      worst = rc > worst ? rc : worst;
      bson_free (line);
   }
   if (ferror (f)) {
      fprintf (stderr, "odm: %s: read error after line %zu\n", file ? file : "stdin", lineno);
      worst = EXIT_USAGE;
   }
   if (file) {
      fclose (f);
   }
   fflush (stdout);
   return worst;
}

int
main (int argc, char **argv)
{
   if (argc < 2) {
      return usage ();
   }
   if (!strcmp (argv[1], "collections") && argc == 2) {
      size_t n, i;
      const odm_schema_t *const *all = odm_schemas (&n);
      for (i = 0; i < n; i++) {
         printf ("%s\n", all[i]->collection);
      }
      return 0;
   }
   if (!strcmp (argv[1], "schema") && argc == 3) {
      const odm_schema_t *s = schema_or_die (argv[2]);
      if (!s) {
         return EXIT_USAGE;
      }
      fputs (s->spec_json, stdout);
      return 0;
   }
   if (!strcmp (argv[1], "validate")) {
      return cmd_validate (argc - 2, argv + 2);
   }
   return usage ();
}
