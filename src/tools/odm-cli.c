/* odm: command-line companion of libodm.
 *
 *   odm collections                     list the collections
 *   odm schema COLLECTION               print a collection's spec
 *   odm validate COLLECTION [FILE] [--update] [--strict] [--now MS]   (options anywhere)
 *        reads Extended JSON documents, one per line (as mongoexport writes them), from
 *        FILE or standard input; prints one JSON line per input line:
 *          {"valid": true, "document": <after defaults and derivations>}
 *          {"valid": false, "errors": [{"path": ..., "rule": ..., "message": ...}]}
 *        exit 0: all valid; 1: some invalid; 2: usage error or unreadable input.
 *   odm audit COLLECTION --uri URI      report every stored document that breaks the spec
 *   odm analytics list                  the seed's analytics and which are implemented
 *   odm analytics docs                  the analytics documentation (docs/analytics.md)
 *   odm analytics run COLLECTION NAME --uri URI [--param k=v ...]   rows as JSON lines
 *   odm indexes plan|apply|diff|lint [COLLECTION] [--uri URI]
 *        plan: the wanted indexes; apply: create the missing ones; diff: compare with the
 *        server; lint: duplicates and prefix-redundant indexes (no server needed). */
#include <mongoc/mongoc.h>
#include <odm/odm.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INVALID 1
#define EXIT_USAGE 2

static const char usage_text[] =
   "usage: odm collections\n"
   "       odm schema COLLECTION\n"
   "       odm validate COLLECTION [FILE] [--update] [--strict] [--now MS]\n"
   "       odm audit COLLECTION --uri URI\n"
   "       odm indexes plan|apply|diff|lint [COLLECTION] [--uri URI]\n"
   "       odm analytics list|docs\n"
   "       odm analytics run COLLECTION NAME --uri URI [--param k=v ...]\n"
   "       odm --help | --version\n"
   "Options may come before or after the arguments; \"--\" ends them. Without\n"
   "serverSelectionTimeoutMS in the URI, odm waits at most 5 s for a server.\n"
   "Exit status: 0 success (all valid), 1 something invalid, 2 usage error or\n"
   "unreadable input.\n";

static int
usage (void)
{
   fputs (usage_text, stderr);
   return EXIT_USAGE;
}

/* One usage error, the same shape for every command: "odm: CMD: WHAT (see `odm --help`)". */
static int
usage_error (const char *cmd, const char *fmt, const char *arg)
{
   fprintf (stderr, "odm: %s: ", cmd);
   fprintf (stderr, fmt, arg);
   fprintf (stderr, " (see `odm --help`)\n");
   return EXIT_USAGE;
}

/* The options of one command, gathered from anywhere on its command line. */
typedef struct {
   const char *name;   /* "--uri" */
   bool takes_value;
   bool repeatable;
   const char *value;  /* the last value (or "" for a flag) when given */
   const char **values; /* every value, for repeatable options */
   size_t count;
} opt_t;

typedef struct {
   const char *pos[8];
   size_t npos;
} args_t;

/* Splits ARGV into options (OPTS, NULL-name terminated) and positional arguments; prints
 * the error and returns false on an unknown option, a missing value, or too many
 * arguments (more than MAX_POS). */
static bool
parse_args (const char *cmd, int argc, char **argv, opt_t *opts, args_t *a, size_t max_pos)
{
   int i;
   bool only_pos = false;
   a->npos = 0;
   for (i = 0; i < argc; i++) {
      const char *arg = argv[i];
      if (!only_pos && !strcmp (arg, "--")) {
         only_pos = true;
         continue;
      }
      if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
         opt_t *o;
         const char *eq = strchr (arg, '=');
         size_t nlen = eq ? (size_t) (eq - arg) : strlen (arg);
         for (o = opts; o->name; o++) {
            if (strlen (o->name) == nlen && !strncmp (o->name, arg, nlen)) {
               break;
            }
         }
         if (!o->name) {
            usage_error (cmd, "unknown option %s", arg);
            return false;
         }
         if (o->takes_value) {
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
               usage_error (cmd, "%s needs a value", o->name);
               return false;
            }
            if (o->count && !o->repeatable) {
               usage_error (cmd, "%s given twice", o->name);
               return false;
            }
            if (o->repeatable) {
               o->values = bson_realloc (o->values, (o->count + 1) * sizeof *o->values);
               o->values[o->count] = v;
            }
            o->value = v;
         } else if (eq) {
            usage_error (cmd, "%s takes no value", o->name);
            return false;
         } else {
            o->value = "";
         }
         o->count++;
         continue;
      }
      if (a->npos >= max_pos || a->npos >= sizeof a->pos / sizeof a->pos[0]) {
         usage_error (cmd, "unexpected argument \"%s\"", arg);
         return false;
      }
      a->pos[a->npos++] = arg;
   }
   return true;
}

static void
free_opts (opt_t *opts)
{
   opt_t *o;
   for (o = opts; o->name; o++) {
      bson_free ((void *) o->values);
   }
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

/* libmongoc logs connection attempts and retries itself; odm reports failures once,
 * from the error the call returns. Only libmongoc's own errors reach stderr. */
static void
log_handler (mongoc_log_level_t level, const char *domain, const char *message, void *data)
{
   (void) data;
   if (level <= MONGOC_LOG_LEVEL_ERROR) {
      fprintf (stderr, "odm: libmongoc %s: %s\n", domain, message);
   }
}

/* A client for URI, with a bounded wait for a server when the URI sets none, checked with
 * a ping so that an unreachable server is one clear error. */
static odm_client_t *
connect_or_die (const char *cmd, const char *uri_string)
{
   bson_error_t err;
   mongoc_uri_t *uri;
   odm_client_t *client;
   char *bounded;

   mongoc_log_set_handler (log_handler, NULL); /* before mongoc_init, which logs too */
   mongoc_init ();
   if (!(uri = mongoc_uri_new_with_error (uri_string, &err))) {
      fprintf (stderr, "odm: %s: --uri %s: %s\n", cmd, uri_string, err.message);
      return NULL;
   }
   {
      /* Options go into the text: odm_client_new takes a string. */
      bool sst = !mongoc_uri_has_option (uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS);
      bool ct = !mongoc_uri_has_option (uri, MONGOC_URI_CONNECTTIMEOUTMS);
      const char *hosts = strstr (uri_string, "://");
      bool slash = hosts && strchr (hosts + 3, '/');
      bool query = strchr (uri_string, '?') != NULL;
      bounded = bson_strdup_printf ("%s%s%s%s%s%s", uri_string, (sst || ct) && !slash ? "/" : "",
                                    (sst || ct) ? (query ? "&" : "?") : "", sst ? "serverSelectionTimeoutMS=5000" : "",
                                    sst && ct ? "&" : "", ct ? "connectTimeoutMS=5000" : "");
   }
   mongoc_uri_destroy (uri);
   client = odm_client_new (bounded, &err);
   bson_free (bounded);
   if (!client) {
      fprintf (stderr, "odm: %s: --uri %s: %s\n", cmd, uri_string, err.message);
      return NULL;
   }
   if (!odm_client_ping (client, &err)) {
      fprintf (stderr, "odm: %s: cannot reach a server at %s: %s\n", cmd, uri_string, err.message);
      odm_client_destroy (client);
      return NULL;
   }
   return client;
}

/* Prints B as one line of canonical (or relaxed) Extended JSON. When libbson cannot write
 * it (it returns NULL), prints FALLBACK instead, itself one valid JSON line. */
static bool
print_bson_line_as (const bson_t *b, bool relaxed, const char *fallback)
{
   size_t len;
   char *json = relaxed ? bson_as_relaxed_extended_json (b, &len) : bson_as_canonical_extended_json (b, &len);
   if (!json) {
      fputs (fallback, stdout);
      fputc ('\n', stdout);
      return false;
   }
   fwrite (json, 1, len, stdout);
   fputc ('\n', stdout);
   bson_free (json);
   return true;
}

static const char output_error_line[] =
   "{ \"valid\" : false, \"errors\" : [ { \"path\" : \"\", \"rule\" : \"output\", \"message\" : "
   "\"the result could not be written as JSON\" } ] }";

static bool
print_bson_line (const bson_t *b)
{
   return print_bson_line_as (b, false, output_error_line);
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

/* Validates one line; returns 0 (valid), EXIT_INVALID or EXIT_USAGE (unreadable). Prints
 * exactly one JSON line, whatever the input. */
static int
validate_line (const odm_schema_t *s, const char *line, size_t len, size_t lineno, uint32_t flags,
               const odm_prepare_opts_t *opts)
{
   bson_error_t err;
   bson_t in;
   odm_violations_t v;
   void *doc;
   int rc;

   odm_violations_init (&v);
   if (!bson_utf8_validate (line, len, false)) {
      fprintf (stderr, "odm: line %zu: not valid UTF-8\n", lineno);
      odm_violations_add (&v, "", "utf8", "the line is not valid UTF-8");
      print_errors (&v);
      odm_violations_cleanup (&v);
      return EXIT_USAGE;
   }
   /* One Extended JSON object per line, read strictly (odm_json_to_bson). */
   if (!odm_json_to_bson (line, len, &in, &err)) {
      fprintf (stderr, "odm: line %zu: %s\n", lineno, err.message);
      odm_violations_add_error (&v, &err);
      print_errors (&v);
      odm_violations_cleanup (&v);
      bson_destroy (&in);
      return EXIT_USAGE;
   }
   doc = bson_malloc0 (s->root->size);
   if (!odm_from_bson (s, &in, doc, flags, &err)) {
      odm_violations_add_error (&v, &err);
      print_errors (&v);
      rc = EXIT_INVALID;
   } else if (!odm_prepare (s, doc, opts, &v)) {
      print_errors (&v);
      rc = EXIT_INVALID;
   } else {
      bson_t out = BSON_INITIALIZER, enc;
      if (!odm_to_bson (s, doc, &enc, &err)) {
         odm_violations_cleanup (&v);
         odm_violations_add_error (&v, &err);
         print_errors (&v);
         rc = EXIT_INVALID;
      } else if (!odm_check_keys (&enc, &v)) {
         /* What the writer refuses (rule "key"), odm validate refuses too. */
         print_errors (&v);
         rc = EXIT_INVALID;
      } else {
         BSON_APPEND_BOOL (&out, "valid", true);
         BSON_APPEND_DOCUMENT (&out, "document", &enc);
         rc = print_bson_line (&out) ? 0 : EXIT_INVALID;
      }
      bson_destroy (&enc);
      bson_destroy (&out);
   }
   odm_violations_cleanup (&v);
   odm_cleanup (s, doc);
   bson_free (doc);
   bson_destroy (&in);
   return rc;
}

/* Milliseconds since 1970 within JavaScript's Date range; false on anything else. */
static bool
parse_ms (const char *v, int64_t *out)
{
   char *end;
   long long ms;
   errno = 0;
   ms = strtoll (v, &end, 10);
   if (!*v || *end || errno == ERANGE || ms < -8640000000000000LL || ms > 8640000000000000LL) {
      return false;
   }
   *out = (int64_t) ms;
   return true;
}

static int
cmd_validate (int argc, char **argv)
{
   opt_t opts_spec[] = {{"--update", false}, {"--strict", false}, {"--now", true}, {NULL, false}};
   odm_prepare_opts_t opts = {0};
   uint32_t flags = ODM_DECODE_DEFAULT;
   const odm_schema_t *s;
   const char *file = NULL;
   FILE *f = stdin;
   int worst = 0;
   size_t lineno = 0, len;
   char *line;
   args_t a;

   if (!parse_args ("validate", argc, argv, opts_spec, &a, 2)) {
      return EXIT_USAGE;
   }
   free_opts (opts_spec);
   if (a.npos < 1) {
      return usage_error ("validate", "missing %s", "COLLECTION");
   }
   opts.is_update = opts_spec[0].value != NULL;
   if (opts_spec[1].value) {
      flags |= ODM_DECODE_STRICT;
   }
   if (opts_spec[2].value) {
      if (!parse_ms (opts_spec[2].value, &opts.now_ms) || opts.now_ms <= 0) {
         return usage_error ("validate",
                             "--now %s: expected milliseconds since 1970, from 1 to 8640000000000000", opts_spec[2].value);
      }
   }
   if (!(s = schema_or_die (a.pos[0]))) {
      return EXIT_USAGE;
   }
   if (a.npos == 2 && strcmp (a.pos[1], "-") != 0) {
      file = a.pos[1];
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

static int
cmd_audit (int argc, char **argv)
{
   opt_t opts_spec[] = {{"--uri", true}, {NULL, false}};
   const char *uri;
   const odm_schema_t *s;
   odm_client_t *client;
   bson_error_t err;
   int rc = 0;
   int64_t scanned = 0, invalid = 0;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   mongoc_cursor_t *raw;
   const bson_t *d;
   bson_t empty = BSON_INITIALIZER;
   args_t a;

   if (!parse_args ("audit", argc, argv, opts_spec, &a, 1)) {
      return EXIT_USAGE;
   }
   free_opts (opts_spec);
   uri = opts_spec[0].value;
   if (a.npos < 1) {
      return usage_error ("audit", "missing %s", "COLLECTION");
   }
   if (!uri) {
      return usage_error ("audit", "missing %s", "--uri URI");
   }
   if (!(s = schema_or_die (a.pos[0]))) {
      return EXIT_USAGE;
   }
   if (!(client = connect_or_die ("audit", uri))) {
      return EXIT_USAGE;
   }
   /* Raw documents: a document that does not even decode is reported, not skipped. */
   mc = mongoc_client_pool_pop (odm_client_pool (client));
   coll = mongoc_client_get_collection (mc, odm_client_db_name (client), s->collection);
   raw = mongoc_collection_find_with_opts (coll, &empty, NULL, NULL);
   while (mongoc_cursor_next (raw, &d)) {
      void *doc = bson_malloc0 (s->root->size);
      odm_violations_t v;
      odm_prepare_opts_t po = {.is_update = true};
      bson_iter_t it;
      bool ok;
      scanned++;
      odm_violations_init (&v);
      if (!odm_from_bson (s, d, doc, ODM_DECODE_DEFAULT, &err)) {
         odm_violations_add_error (&v, &err);
         ok = false;
      } else {
         odm_violations_cleanup (&v);
         ok = odm_prepare (s, doc, &po, &v);
      }
      if (!ok) {
         bson_t line = BSON_INITIALIZER;
         invalid++;
         if (bson_iter_init_find (&it, d, "_id")) {
            bson_append_iter (&line, "_id", 3, &it);
         }
         BSON_APPEND_BOOL (&line, "valid", false);
         odm_violations_append_bson (&v, &line, "errors");
         if (!print_bson_line (&line)) {
            /* an _id libbson cannot write: the line without it */
            bson_t bare = BSON_INITIALIZER;
            BSON_APPEND_BOOL (&bare, "valid", false);
            odm_violations_append_bson (&v, &bare, "errors");
            fprintf (stderr, "odm: audit: document %" PRId64 " has an _id that cannot be written as JSON\n", scanned);
            bson_destroy (&bare);
         }
         bson_destroy (&line);
      }
      odm_violations_cleanup (&v);
      odm_cleanup (s, doc);
      bson_free (doc);
   }
   if (mongoc_cursor_error (raw, &err)) {
      fprintf (stderr, "odm: audit of %s: %s\n", s->collection, err.message);
      rc = EXIT_USAGE;
   }
   mongoc_cursor_destroy (raw);
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (odm_client_pool (client), mc);
   printf ("{ \"summary\" : { \"collection\" : \"%s\", \"scanned\" : %" PRId64 ", \"invalid\" : %" PRId64 " } }\n",
           s->collection, scanned, invalid);
   odm_client_destroy (client);
   bson_destroy (&empty);
   if (rc == 0 && invalid) {
      rc = EXIT_INVALID;
   }
   return rc;
}

static void
print_violation_lines (const char *collection, const odm_violations_t *v)
{
   size_t i;
   for (i = 0; i < v->count; i++) {
      printf ("%s\t%s\t%s\n", collection, v->items[i].rule, v->items[i].message);
   }
}

static int
cmd_indexes (int argc, char **argv)
{
   const char *verb, *uri = NULL, *name = NULL;
   const odm_schema_t *const *all;
   size_t n, k;
   odm_client_t *client = NULL;
   bson_error_t err;
   int rc = 0;
   opt_t opts_spec[] = {{"--uri", true}, {NULL, false}};
   args_t a;

   if (!parse_args ("indexes", argc, argv, opts_spec, &a, 2)) {
      return EXIT_USAGE;
   }
   free_opts (opts_spec);
   uri = opts_spec[0].value;
   if (a.npos < 1) {
      return usage_error ("indexes", "missing %s", "plan|apply|diff|lint");
   }
   verb = a.pos[0];
   name = a.npos > 1 ? a.pos[1] : NULL;
   if (strcmp (verb, "plan") && strcmp (verb, "apply") && strcmp (verb, "diff") && strcmp (verb, "lint")) {
      return usage_error ("indexes", "unknown command \"%s\" (plan, apply, diff or lint)", verb);
   }
   if ((!strcmp (verb, "apply") || !strcmp (verb, "diff")) && !uri) {
      return usage_error ("indexes", "missing %s", "--uri URI");
   }
   if (name && !schema_or_die (name)) {
      return EXIT_USAGE;
   }
   if (uri && !(client = connect_or_die ("indexes", uri))) {
      return EXIT_USAGE;
   }
   all = odm_schemas (&n);
   for (k = 0; k < n; k++) {
      const odm_schema_t *s = all[k];
      odm_violations_t v;
      uint32_t j;
      if (name && strcmp (name, s->collection)) {
         continue;
      }
      if (!strcmp (verb, "plan")) {
         for (j = 0; j < s->index_count; j++) {
            if (odm_index_wanted (&s->indexes[j])) {
               printf ("%s\t%s\t%s%s\n", s->collection, s->indexes[j].name, s->indexes[j].keys_json,
                       s->indexes[j].unique ? "\tunique" : "");
            }
         }
      } else if (!strcmp (verb, "lint")) {
         odm_indexes_lint (s, &v);
         print_violation_lines (s->collection, &v);
         odm_violations_cleanup (&v);
      } else if (!strcmp (verb, "apply")) {
         int created;
         if (!odm_indexes_ensure (client, s, &created, &err)) {
            fprintf (stderr, "odm: %s: %s\n", s->collection, err.message);
            rc = EXIT_INVALID;
         } else {
            printf ("%s\tcreated %d\n", s->collection, created);
         }
      } else {
         if (!odm_indexes_diff (client, s, &v, &err)) {
            fprintf (stderr, "odm: %s: %s\n", s->collection, err.message);
            rc = EXIT_USAGE;
         } else {
            print_violation_lines (s->collection, &v);
            if (odm_indexes_drift (&v)) { /* "declared" lines are notes, not drift */
               rc = rc ? rc : EXIT_INVALID;
            }
         }
         odm_violations_cleanup (&v);
      }
   }
   odm_client_destroy (client);
   return rc;
}

/* The row table of analytic A in docs/analytics.md: every field of a row, those inside an
 * object-valued _id too (`_id.period`), with its type and the spec's comment. */
static void
print_row_fields (bson_iter_t *fields, const char *prefix)
{
   while (bson_iter_next (fields)) {
      bson_iter_t f, sub;
      const char *name = "", *type = "", *comment = "";
      bool nested = false;
      if (!BSON_ITER_HOLDS_DOCUMENT (fields) || !bson_iter_recurse (fields, &f)) {
         continue;
      }
      while (bson_iter_next (&f)) {
         const char *k = bson_iter_key (&f);
         if (!strcmp (k, "name") && BSON_ITER_HOLDS_UTF8 (&f)) {
            name = bson_iter_utf8 (&f, NULL);
         } else if (!strcmp (k, "type") && BSON_ITER_HOLDS_UTF8 (&f)) {
            type = bson_iter_utf8 (&f, NULL);
         } else if (!strcmp (k, "comment") && BSON_ITER_HOLDS_UTF8 (&f)) {
            comment = bson_iter_utf8 (&f, NULL);
         } else if (!strcmp (k, "fields") && BSON_ITER_HOLDS_ARRAY (&f)) {
            nested = bson_iter_recurse (&f, &sub);
         }
      }
      printf ("| `%s%s` | %s | %s |\n", prefix, name, !strcmp (type, "objectid") ? "objectId" : type, comment);
      if (nested) {
         char *p = bson_strdup_printf ("%s%s.", prefix, name);
         print_row_fields (&sub, p);
         bson_free (p);
      }
   }
}

static void
print_row_doc (const odm_schema_t *s, const odm_aggregation_t *a)
{
   bson_t *spec = bson_new_from_json ((const uint8_t *) s->spec_json, -1, NULL);
   bson_iter_t it, aggs;
   bool done = false;
   if (spec && bson_iter_init_find (&it, spec, "aggregations") && BSON_ITER_HOLDS_ARRAY (&it) &&
       bson_iter_recurse (&it, &aggs)) {
      while (!done && bson_iter_next (&aggs)) {
         bson_iter_t c, row;
         if (BSON_ITER_HOLDS_DOCUMENT (&aggs) && bson_iter_recurse (&aggs, &c) && bson_iter_find (&c, "c_name") &&
             BSON_ITER_HOLDS_UTF8 (&c) && !strcmp (bson_iter_utf8 (&c, NULL), a->c_name) && bson_iter_recurse (&aggs, &c) &&
             bson_iter_find (&c, "row") && BSON_ITER_HOLDS_ARRAY (&c) && bson_iter_recurse (&c, &row)) {
            printf ("| row field | type | |\n| --- | --- | --- |\n");
            print_row_fields (&row, "");
            done = true;
         }
      }
   }
   bson_destroy (spec);
   if (!done) { /* not reached with generated schemas: the descriptor's names and kinds */
      static const char *const kinds[] = {"", "string", "number", "boolean", "date", "objectId", "object", "any"};
      uint32_t j;
      printf ("Row:");
      for (j = 0; j < a->row->field_count; j++) {
         const odm_field_t *f = &a->row->fields[j];
         printf (" `%s` (%s%s)%s", f->name, (f->flags & ODM_F_ARRAY) ? "array of " : "",
                 kinds[f->kind < 8 ? f->kind : 0], j + 1 < a->row->field_count ? "," : ".\n");
      }
   }
}

static int
cmd_analytics (int argc, char **argv)
{
   size_t n, k;
   const odm_schema_t *const *all = odm_schemas (&n);
   if (argc == 1 && !strcmp (argv[0], "list")) {
      for (k = 0; k < n; k++) {
         uint32_t i;
         for (i = 0; i < all[k]->aggregation_count; i++) {
            const odm_aggregation_t *a = odm_aggregation_find (all[k], all[k]->aggregations[i]);
            printf ("%s\t%s\t%s\n", all[k]->collection, a ? a->c_name : "-", all[k]->aggregations[i]);
         }
      }
      return 0;
   }
   if (argc == 1 && !strcmp (argv[0], "docs")) {
      /* docs/analytics.md is this output (a test keeps the two identical). */
      static const char *const kinds[] = {"", "string", "number", "boolean", "date", "objectId", "object", "any"};
      size_t done = 0, total = 0;
      for (k = 0; k < n; k++) {
         total += all[k]->aggregation_count;
         done += all[k]->analytics_count;
      }
      printf ("# Analytics\n\nGenerated by `odm analytics docs` from the specs: do not edit.\n\n");
      printf ("%zu of the seed's %zu named analytics are implemented as pipelines. Each is called as\n"
              "`odm_<collection>_<name> (client, &params, &rows, &n, &error)` or\n"
              "`odm analytics run COLLECTION NAME --uri URI [--param k=v ...]`. Time windows are\n"
              "`from` inclusive, `to` exclusive; unset parameters filter nothing.\n"
              "\n"
              "Parameters are checked before anything runs (`odm_param_parse` reads them from text,\n"
              "as `--param` does): a date is milliseconds since 1970-01-01T00:00:00Z or ISO 8601\n"
              "(`2024-03-01`, `2024-03-01T12:30:00Z`, `2024-03-01T12:30:00+01:00`; no offset means UTC),\n"
              "within JavaScript's range; `limit` is a whole number from 1; other numbers are finite;\n"
              "a period is `day`, `week` (ISO), `month` or `year`; an objectId is 24 hex digits; a\n"
              "boolean is `true` or `false`. A refused value is an error naming the parameter.\n"
              "\n"
              "Null is not a value: a field stored as null counts as missing (filters use `$ne: null`,\n"
              "never `$exists`), distinct counts leave null out, grouping by the entries of an array\n"
              "counts a document once per distinct entry, and a group key (or a member of an object\n"
              "`_id`) that is missing or null is one null group. A row whose `_id` is null (its\n"
              "comment says when that happens) comes back with `has__id == ODM_NULL` and a zeroed\n"
              "`_id` member: test `has__id == ODM_PRESENT`, not `has__id`.\n",
              done, total);
      for (k = 0; k < n; k++) {
         uint32_t i, j;
         printf ("\n## %s\n", all[k]->collection);
         for (i = 0; i < all[k]->aggregation_count; i++) {
            const odm_aggregation_t *a = odm_aggregation_find (all[k], all[k]->aggregations[i]);
            if (!a) {
               printf ("\n### %s\n\nNot implemented yet.\n", all[k]->aggregations[i]);
               continue;
            }
            printf ("\n### %s (`odm_%s_%s`)\n\n%s\n\n", a->name, all[k]->c_name, a->c_name, a->doc);
            if (a->param_count) {
               printf ("| parameter | type | |\n| --- | --- | --- |\n");
               for (j = 0; j < a->param_count; j++) {
                  const odm_param_t *p = &a->params[j];
                  char dflt[64] = "";
                  if (p->has_default && p->dflt_string) {
                     bson_snprintf (dflt, sizeof dflt, "; default %s", p->dflt_string);
                  } else if (p->has_default && p->kind == ODM_KIND_BOOL) {
                     bson_snprintf (dflt, sizeof dflt, "; default %s", p->dflt_number != 0 ? "true" : "false");
                  } else if (p->has_default) {
                     bson_snprintf (dflt, sizeof dflt, "; default %g", p->dflt_number);
                  }
                  printf ("| `%s` | %s%s | %s%s |\n", p->name,
                          p->kind == ODM_PARAM_PERIOD ? "period" : kinds[p->kind < 8 ? p->kind : 0],
                          p->required ? ", required" : "", p->doc ? p->doc : "", dflt);
               }
               printf ("\n");
            }
            print_row_doc (all[k], a);
         }
      }
      return 0;
   }
   if (argc >= 1 && !strcmp (argv[0], "run")) {
      opt_t opts_spec[] = {{"--uri", true}, {"--param", true, true}, {NULL, false}};
      const odm_schema_t *s;
      const odm_aggregation_t *a;
      const char *uri;
      void *params, *rows = NULL;
      size_t nrows = 0, r, i;
      odm_client_t *client;
      bson_error_t err;
      int rc = 0;
      args_t pa;
      if (!parse_args ("analytics run", argc - 1, argv + 1, opts_spec, &pa, 2)) {
         free_opts (opts_spec);
         return EXIT_USAGE;
      }
      uri = opts_spec[0].value;
      if (pa.npos < 2) {
         free_opts (opts_spec);
         return usage_error ("analytics run", "missing %s", pa.npos ? "NAME" : "COLLECTION");
      }
      if (!uri) {
         free_opts (opts_spec);
         return usage_error ("analytics run", "missing %s", "--uri URI");
      }
      if (!(s = schema_or_die (pa.pos[0]))) {
         free_opts (opts_spec);
         return EXIT_USAGE;
      }
      if (!(a = odm_aggregation_find (s, pa.pos[1]))) {
         fprintf (stderr, "odm: %s has no analytic \"%s\" (see `odm analytics list`)\n", s->collection, pa.pos[1]);
         free_opts (opts_spec);
         return EXIT_USAGE;
      }
      params = bson_malloc0 (a->params_size);
      for (i = 0; i < opts_spec[1].count; i++) {
         /* The runtime parses and range-checks the value (odm_param_parse). */
         const char *kv = opts_spec[1].values[i], *eq = strchr (kv, '=');
         char *name;
         bool ok;
         if (!eq) {
            fprintf (stderr, "odm: analytics run: --param takes NAME=VALUE, not \"%s\"\n", kv);
            bson_free (params);
            free_opts (opts_spec);
            return EXIT_USAGE;
         }
         name = bson_strndup (kv, (size_t) (eq - kv));
         ok = odm_param_parse (a, params, name, eq + 1, &err);
         bson_free (name);
         if (!ok) {
            fprintf (stderr, "odm: analytics run: --param %s\n", err.message);
            bson_free (params);
            free_opts (opts_spec);
            return EXIT_USAGE;
         }
      }
      free_opts (opts_spec);
      if (!(client = connect_or_die ("analytics run", uri))) {
         bson_free (params);
         return EXIT_USAGE;
      }
      if (!odm_aggregate (client, s, a, params, &rows, &nrows, &err)) {
         fprintf (stderr, "odm: %s.%s: %s\n", s->collection, a->c_name, err.message);
         rc = EXIT_USAGE;
      }
      for (r = 0; r < nrows; r++) {
         bson_t row;
         odm_row_to_bson (a, (char *) rows + r * a->row->size, &row);
         if (!print_bson_line_as (&row, true, "{ \"error\" : \"this row could not be written as JSON\" }")) {
            rc = EXIT_USAGE;
         }
         bson_destroy (&row);
      }
      odm_rows_free (a, rows, nrows);
      odm_client_destroy (client);
      bson_free (params);
      return rc;
   }
   if (argc >= 1 && (!strcmp (argv[0], "list") || !strcmp (argv[0], "docs"))) {
      return usage_error ("analytics", "unexpected argument \"%s\"", argv[1]);
   }
   if (argc >= 1) {
      return usage_error ("analytics", "unknown command \"%s\" (list, docs or run)", argv[0]);
   }
   return usage_error ("analytics", "missing %s", "list|docs|run");
}

int
main (int argc, char **argv)
{
   const char *cmd;
   if (argc < 2) {
      return usage ();
   }
   cmd = argv[1];
   if (!strcmp (cmd, "--help") || !strcmp (cmd, "-h") || !strcmp (cmd, "help")) {
      fputs (usage_text, stdout);
      return 0;
   }
   if (!strcmp (cmd, "--version")) {
      printf ("odm %s (libodm %s, codegen ABI %d)\n", ODM_VERSION_STRING, ODM_VERSION_STRING, ODM_CODEGEN_ABI);
      return 0;
   }
   /* `odm COMMAND --help` anywhere on the line: the usage, on stdout. */
   {
      int i;
      for (i = 2; i < argc; i++) {
         if (!strcmp (argv[i], "--")) {
            break;
         }
         if (!strcmp (argv[i], "--help") || !strcmp (argv[i], "-h")) {
            fputs (usage_text, stdout);
            return 0;
         }
      }
   }
   if (!strcmp (cmd, "collections")) {
      size_t n, i;
      const odm_schema_t *const *all = odm_schemas (&n);
      if (argc > 2) {
         return usage_error ("collections", "unexpected argument \"%s\"", argv[2]);
      }
      for (i = 0; i < n; i++) {
         printf ("%s\n", all[i]->collection);
      }
      return 0;
   }
   if (!strcmp (cmd, "schema")) {
      const odm_schema_t *s;
      opt_t none[] = {{NULL, false}};
      args_t a;
      if (!parse_args ("schema", argc - 2, argv + 2, none, &a, 1)) {
         return EXIT_USAGE;
      }
      if (a.npos < 1) {
         return usage_error ("schema", "missing %s", "COLLECTION");
      }
      if (!(s = schema_or_die (a.pos[0]))) {
         return EXIT_USAGE;
      }
      fputs (s->spec_json, stdout);
      return 0;
   }
   if (!strcmp (cmd, "validate")) {
      return cmd_validate (argc - 2, argv + 2);
   }
   if (!strcmp (cmd, "audit")) {
      int rc = cmd_audit (argc - 2, argv + 2);
      mongoc_cleanup ();
      return rc;
   }
   if (!strcmp (cmd, "analytics")) {
      int rc = cmd_analytics (argc - 2, argv + 2);
      mongoc_cleanup ();
      return rc;
   }
   if (!strcmp (cmd, "indexes")) {
      int rc = cmd_indexes (argc - 2, argv + 2);
      mongoc_cleanup ();
      return rc;
   }
   if (cmd[0] == '-') {
      fprintf (stderr, "odm: unknown option %s (see `odm --help`)\n", cmd);
   } else {
      fprintf (stderr, "odm: unknown command \"%s\" (see `odm --help`)\n", cmd);
   }
   return EXIT_USAGE;
}
