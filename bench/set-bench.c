/* bench: odm_bench's document-set modes. See set-bench.h.
 *
 * What is timed, per document (CPU time of the process, CLOCK_PROCESS_CPUTIME_ID, best
 * of several rounds over the whole set, each round long enough to dwarf the clock):
 *   decode   odm_from_bson of the stored bytes, then odm_cleanup
 *   arena    odm_from_bson_arena of the stored bytes into a per-thread arena, then
 *            odm_arena_reset (the read-only path of odm-doc.h's "Arenas"; libodm only)
 *   dpe      decode + prepare + encode: odm_from_bson, odm_prepare (a create, the clock
 *            fixed), odm_to_bson, then the frees (bson_destroy, odm_cleanup)
 *   adpe     dpe with nothing allocated per document: odm_from_bson_arena,
 *            odm_prepare_arena, odm_to_bson_into one bson_t per thread, odm_arena_reset
 *            (a service's write path for documents it receives; libodm only)
 *   view     the zero-copy read: odm_view_init_bson, then every field read through the
 *            view accessors (view-read.c; libodm only, no allocation)
 * The frees are inside the timed part, as a garbage collector's work is inside Node's
 * CPU time in bench/mongoose. The hand-written baselines (handwritten.c) are timed the
 * same way on the documents of their collections ("subset": "hand"); odm_bench's
 * default mode checks that they do the same work as the generated code. */
#include "set-bench.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handwritten.h"
#include "mixed-set.h"
#include "view-read.h"

static struct {
   bool json;
   bool quick;
   int rounds;
   double min_round_ms;
   const char *only_op;     /* --op NAME: time just that operation (for a profiler) */
   const char *only_subset; /* --subset all|hand: just those documents */
   odm_prepare_opts_t opts;
} scfg;

static volatile uint64_t set_sink;

static uint64_t
clock_ns (clockid_t id)
{
   struct timespec ts;
   clock_gettime (id, &ts);
   return (uint64_t) ts.tv_sec * UINT64_C (1000000000) + (uint64_t) ts.tv_nsec;
}

static void
fail (const char *what, const bson_error_t *err)
{
   fflush (stdout);
   fprintf (stderr, "odm_bench: %s: %s\n", what, err ? err->message : "failed");
   exit (1);
}

/* ------------------------------------------------------------------ one operation */

typedef enum { SOP_DECODE, SOP_DPE, SOP_ARENA, SOP_ADPE, SOP_VIEW, SOP_COUNT } sop_t;
static const char *const sop_names[] = {"decode", "dpe", "arena", "adpe", "view"};

/* The arena of the thread running the arena ops, and the bson_t adpe encodes into (one
 * per thread: no lock is shared). */
static _Thread_local odm_arena_t *bench_arena;
static _Thread_local bson_t *bench_out;

typedef struct {
   const odm_schema_t *schema;
   const bson_t *doc;
   const odm_bench_hand_t *hand; /* NULL: the generated code */
} job_t;

/* One document through OP; returns something derived from the result for the sink. */
static uint64_t
run_one (const job_t *j, sop_t op, void *slot)
{
   const odm_schema_t *schema = j->schema;
   const odm_bench_hand_t *h = j->hand;
   uint64_t acc = 0;
   odm_violations_t v;
   bson_t out;
   bool ok;

   if (op == SOP_VIEW) {
      odm_view_t view;
      if (!odm_view_init_bson (&view, schema, j->doc, ODM_DECODE_DEFAULT, NULL)) {
         return 0;
      }
      return 1 + odm_bench_view_read_all (&view);
   }
   if (op == SOP_ARENA || op == SOP_ADPE) {
      if (!bench_arena) {
         bench_arena = odm_arena_new (0);
      }
      ok = odm_from_bson_arena (schema, j->doc, slot, ODM_DECODE_DEFAULT, bench_arena, NULL);
      acc += ok;
      if (op == SOP_ADPE && ok) {
         ok = odm_prepare_arena (schema, slot, bench_arena, &scfg.opts, &v);
         acc += ok + v.count;
         odm_violations_cleanup (&v);
         if (!bench_out) {
            bench_out = bson_new ();
         }
         if (odm_to_bson_into (schema, slot, bench_out, NULL)) {
            acc += bench_out->len;
         }
      }
      acc += *(const uint8_t *) slot;
      odm_arena_reset (bench_arena);
      return acc;
   }
   ok = h ? h->decode (j->doc, slot, ODM_DECODE_DEFAULT, NULL)
          : odm_from_bson (schema, j->doc, slot, ODM_DECODE_DEFAULT, NULL);
   acc += ok;
   if (op == SOP_DPE && ok) {
      ok = h ? h->prepare (slot, &scfg.opts, &v) : odm_prepare (schema, slot, &scfg.opts, &v);
      acc += ok + v.count;
      odm_violations_cleanup (&v);
      if (h ? h->encode (slot, &out, NULL) : odm_to_bson (schema, slot, &out, NULL)) {
         acc += out.len;
      }
      bson_destroy (&out);
   }
   acc += *(const uint8_t *) slot;
   odm_cleanup (schema, slot);
   return acc;
}

typedef struct {
   job_t *jobs;
   size_t count;
   size_t bytes;
} jobs_t;

static uint64_t
run_jobs (const jobs_t *js, sop_t op, void *slot, size_t passes)
{
   uint64_t acc = 0;
   size_t p, i;
   for (p = 0; p < passes; p++) {
      for (i = 0; i < js->count; i++) {
         acc += run_one (&js->jobs[i], op, slot);
      }
   }
   return acc;
}

static size_t max_struct_size;

/* Best CPU ns per document over scfg.rounds rounds of whole passes over JS. */
static double
time_jobs (const jobs_t *js, sop_t op)
{
   void *slot = bson_malloc0 (max_struct_size);
   uint64_t t0, t;
   size_t passes = 1;
   double best = 0;
   int r;

   /* warm up, and find how many passes make a round of scfg.min_round_ms */
   for (;;) {
      t0 = clock_ns (CLOCK_PROCESS_CPUTIME_ID);
      set_sink += run_jobs (js, op, slot, passes);
      t = clock_ns (CLOCK_PROCESS_CPUTIME_ID) - t0;
      if ((double) t >= scfg.min_round_ms * 1e6 || passes >= (1u << 20)) {
         break;
      }
      passes *= 2;
   }
   for (r = 0; r < scfg.rounds; r++) {
      double per;
      t0 = clock_ns (CLOCK_PROCESS_CPUTIME_ID);
      set_sink += run_jobs (js, op, slot, passes);
      t = clock_ns (CLOCK_PROCESS_CPUTIME_ID) - t0;
      per = (double) t / (double) (passes * js->count);
      if (r == 0 || per < best) {
         best = per;
      }
   }
   bson_free (slot);
   return best;
}

static void
jobs_of_set (const odm_bench_set_t *set, bool hand_only, jobs_t *js)
{
   size_t i;
   js->jobs = bson_malloc0 ((set->count + 1) * sizeof *js->jobs);
   js->count = 0;
   js->bytes = 0;
   for (i = 0; i < set->count; i++) {
      const odm_bench_hand_t *h = odm_bench_hand_find (set->items[i].schema->collection);
      if (hand_only && !h) {
         continue;
      }
      js->jobs[js->count].schema = set->items[i].schema;
      js->jobs[js->count].doc = set->items[i].doc;
      js->jobs[js->count].hand = NULL;
      js->count++;
      js->bytes += set->items[i].doc->len;
   }
}

static void
use_hand (jobs_t *js, bool on)
{
   size_t i;
   for (i = 0; i < js->count; i++) {
      js->jobs[i].hand = on ? odm_bench_hand_find (js->jobs[i].schema->collection) : NULL;
   }
}

/* ------------------------------------------------------------------ output */

static void
row (const char *kind, const char *set, const char *subset, const char *impl, const char *op, size_t docs,
     double bytes_per_doc, double ns, const char *extra)
{
   if (scfg.json) {
      printf ("{\"bench\": \"%s\", \"set\": \"%s\", \"subset\": \"%s\", \"impl\": \"%s\", \"op\": \"%s\", "
              "\"docs\": %zu, \"bytes_per_doc\": %.0f, \"ns_per_doc\": %.1f%s%s}\n",
              kind, set, subset, impl, op, docs, bytes_per_doc, ns, extra ? ", " : "", extra ? extra : "");
   } else {
      printf ("%-8s %-36s %-6s %-8s %-7s %6zu %9.0f %12.1f %s\n", kind, set, subset, impl, op, docs, bytes_per_doc,
              ns, extra ? extra : "");
   }
   fflush (stdout);
}

static void
header (void)
{
   if (!scfg.json) {
      printf ("%-8s %-36s %-6s %-8s %-7s %6s %9s %12s\n", "bench", "set", "subset", "impl", "op", "docs", "bytes/doc",
              "ns/doc");
   }
}

/* ------------------------------------------------------------------ --sets */

static void
bench_set (const odm_bench_set_t *set)
{
   int subset, op;
   for (subset = 0; subset < 2; subset++) {
      jobs_t js;
      if (scfg.only_subset && strcmp (scfg.only_subset, subset ? "hand" : "all") != 0) {
         continue;
      }
      jobs_of_set (set, subset == 1, &js);
      if (js.count) {
         for (op = 0; op < SOP_COUNT; op++) {
            double ns;
            if (scfg.only_op && strcmp (scfg.only_op, sop_names[op]) != 0) {
               continue;
            }
            ns = time_jobs (&js, (sop_t) op);
            row ("sets", set->name, subset ? "hand" : "all", "libodm", sop_names[op], js.count,
                 (double) js.bytes / (double) js.count, ns, NULL);
            if (subset == 1 && (op == SOP_DECODE || op == SOP_DPE)) {
               use_hand (&js, true);
               ns = time_jobs (&js, (sop_t) op);
               row ("sets", set->name, "hand", "hand", sop_names[op], js.count, (double) js.bytes / (double) js.count,
                    ns, NULL);
               use_hand (&js, false);
            }
         }
      }
      bson_free (js.jobs);
   }
}

/* ------------------------------------------------------------------ --scaling */

/* A copy of fixture IN with KEY's value replaced by the string S (and, when SIZE_KEY is
 * given, SIZE_KEY set to its byte length), or by an array of N copies of ELEMENT's
 * value (ELEMENT: a document {"v": ...}). */
static bson_t *
with_field (const bson_t *in, const char *key, const char *s, const char *size_key, const bson_t *element, size_t n)
{
   bson_t *out = bson_new ();
   bson_iter_t it, ev;
   bool done = false;

   bson_iter_init (&it, in);
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (size_key && strcmp (k, size_key) == 0) {
         bson_append_int32 (out, k, -1, (int32_t) strlen (s));
      } else if (strcmp (k, key) == 0) {
         done = true;
         if (s) {
            bson_append_utf8 (out, k, -1, s, -1);
         } else {
            bson_t arr;
            size_t i;
            bson_append_array_begin (out, k, -1, &arr);
            for (i = 0; i < n; i++) {
               char idx[24];
               const char *ik;
               bson_uint32_to_string ((uint32_t) i, &ik, idx, sizeof idx);
               bson_iter_init_find (&ev, element, "v");
               bson_append_value (&arr, ik, -1, bson_iter_value (&ev));
            }
            bson_append_array_end (out, &arr);
         }
      } else {
         bson_append_iter (out, k, -1, &it);
      }
   }
   if (!done) {
      bson_destroy (out);
      return NULL;
   }
   return out;
}

static char *
text_of (size_t bytes)
{
   static const char chunk[] = "The agent answered the question about the invoice module in détail. ";
   char *s = bson_malloc (bytes + 1);
   size_t i;
   for (i = 0; i + sizeof chunk - 1 <= bytes; i += sizeof chunk - 1) {
      memcpy (s + i, chunk, sizeof chunk - 1);
   }
   memset (s + i, 'x', bytes - i);
   s[bytes] = '\0';
   return s;
}

static void
scale_row (const odm_schema_t *schema, const char *name, bson_t *doc)
{
   job_t j = {schema, doc, NULL};
   jobs_t js = {&j, 1, 0};
   int op;
   if (!doc) {
      fail (name, NULL);
   }
   js.bytes = doc->len;
   for (op = 0; op < SOP_VIEW; op++) { /* decode, dpe, arena, adpe */
      double ns = time_jobs (&js, (sop_t) op);
      char extra[96];
      snprintf (extra, sizeof extra, scfg.json ? "\"ns_per_kb\": %.1f" : "%.1f ns/KB", ns * 1024.0 / doc->len);
      char set[96];
      snprintf (set, sizeof set, "%s %s", schema->collection, name);
      row ("size", set, "-", "libodm", sop_names[op], 1, doc->len, ns, extra);
   }
   bson_destroy (doc);
}

typedef struct {
   const jobs_t *js;
   sop_t op;
   size_t passes;
   uint64_t acc;
   uint64_t cpu_ns; /* this thread's CPU time */
} thread_arg_t;

static void *
thread_main (void *p)
{
   thread_arg_t *a = p;
   void *slot = bson_malloc0 (max_struct_size);
   uint64_t t0 = clock_ns (CLOCK_THREAD_CPUTIME_ID);
   a->acc = run_jobs (a->js, a->op, slot, a->passes);
   a->cpu_ns = clock_ns (CLOCK_THREAD_CPUTIME_ID) - t0;
   bson_free (slot);
   return NULL;
}

/* Wall-clock throughput of T threads, each running PASSES passes over the set (best
 * round), and the threads' CPU time per document in that round (*CPU_NS): when it stays
 * that of one thread, the threads share nothing costly and a shortfall in throughput is
 * the machine (no free core), not the library. */
static double
docs_per_s (const jobs_t *js, sop_t op, int t, size_t passes, double *cpu_ns)
{
   pthread_t th[8];
   thread_arg_t args[8];
   uint64_t t0, wall;
   double best = 0;
   int r, i;

   for (r = 0; r < scfg.rounds; r++) {
      t0 = clock_ns (CLOCK_MONOTONIC);
      for (i = 0; i < t; i++) {
         args[i].js = js;
         args[i].op = op;
         args[i].passes = passes;
         if (pthread_create (&th[i], NULL, thread_main, &args[i]) != 0) {
            fail ("pthread_create", NULL);
         }
      }
      for (i = 0; i < t; i++) {
         pthread_join (th[i], NULL);
         set_sink += args[i].acc;
      }
      wall = clock_ns (CLOCK_MONOTONIC) - t0;
      if ((double) (passes * js->count * (size_t) t) * 1e9 / (double) wall > best) {
         uint64_t cpu = 0;
         best = (double) (passes * js->count * (size_t) t) * 1e9 / (double) wall;
         for (i = 0; i < t; i++) {
            cpu += args[i].cpu_ns;
         }
         *cpu_ns = (double) cpu / (double) (passes * js->count * (size_t) t);
      }
   }
   return best;
}

static void
bench_scaling (const char *data_dir)
{
   static const size_t sizes[] = {1024, 64 * 1024, 1024 * 1024};
   static const size_t lengths[] = {100, 1000, 10000};
   const odm_schema_t *files = odm_schema_find ("chat_canvas_files");
   const odm_schema_t *sessions = odm_schema_find ("chat_sessions");
   const odm_schema_t *tickets = odm_schema_find ("support_tickets");
   odm_bench_set_t full, mixed;
   bson_error_t err;
   size_t i, k;

   if (!odm_bench_set_fixtures (&full, data_dir, "full", &err)) {
      fail ("full fixtures", &err);
   }
   for (k = 0; k < full.count; k++) {
      const odm_schema_t *s = full.items[k].schema;
      const bson_t *d = full.items[k].doc;
      char name[64];
      if (s == files) {
         scale_row (s, "fixture", bson_copy (d));
         for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            char *text = text_of (sizes[i]);
            snprintf (name, sizeof name, "content %zu KB", sizes[i] / 1024);
            scale_row (s, name, with_field (d, "content", text, "size", NULL, 0));
            bson_free (text);
         }
      } else if (s == sessions || s == tickets) {
         const char *key = s == sessions ? "tags" : "conversation";
         bson_iter_t it, first;
         bson_t *element = bson_new ();
         if (!bson_iter_init_find (&it, d, key) || !bson_iter_recurse (&it, &first) || !bson_iter_next (&first)) {
            fail (key, NULL);
         }
         bson_append_value (element, "v", 1, bson_iter_value (&first));
         scale_row (s, "fixture", bson_copy (d));
         for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
            if (scfg.quick && lengths[i] > 1000) {
               continue;
            }
            snprintf (name, sizeof name, "%s x%zu", key, lengths[i]);
            scale_row (s, name, with_field (d, key, NULL, NULL, element, lengths[i]));
         }
         bson_destroy (element);
      }
   }
   odm_bench_set_destroy (&full);

   /* threads: the whole mixed set per thread, no shared state but the schemas */
   if (!odm_bench_set_mixed (&mixed, ODM_BENCH_SET_SEED, scfg.quick ? 300 : ODM_BENCH_SET_MIXED_DOCS, &err)) {
      fail ("mixed set", &err);
   }
   {
      static const sop_t thread_ops[] = {SOP_DECODE, SOP_DPE, SOP_ADPE};
      jobs_t js;
      size_t o;
      int t;
      jobs_of_set (&mixed, false, &js);
      for (o = 0; o < sizeof thread_ops / sizeof thread_ops[0]; o++) {
         const sop_t op = thread_ops[o];
         double one = 0;
         for (t = 1; t <= 2; t++) {
            double cpu = 0, dps = docs_per_s (&js, op, t, scfg.quick ? 1 : 4, &cpu);
            char extra[128], name[32];
            if (t == 1) {
               one = dps;
            }
            snprintf (extra, sizeof extra,
                      scfg.json ? "\"threads\": %d, \"docs_per_s\": %.0f, \"speedup\": %.2f, \"cpu_ns_per_doc\": %.1f"
                                : "%d thread(s): %.0f docs/s, %.2fx one thread, %.0f CPU ns/doc",
                      t, dps, dps / one, cpu);
            snprintf (name, sizeof name, "mixed, %d thread%s", t, t > 1 ? "s" : "");
            row ("threads", name, "all", "libodm", sop_names[op], js.count, (double) js.bytes / (double) js.count,
                 1e9 * t / dps, extra);
         }
      }
      bson_free (js.jobs);
   }
   odm_bench_set_destroy (&mixed);
}

/* ------------------------------------------------------------------ entry */

bool
odm_bench_set_mode (int argc, char **argv)
{
   return argc > 1 && (strcmp (argv[1], "--dump-set") == 0 || strcmp (argv[1], "--dump-prepared") == 0 ||
                       strcmp (argv[1], "--sets") == 0 || strcmp (argv[1], "--scaling") == 0);
}

static int
usage (void)
{
   fprintf (stderr, "usage: odm_bench --dump-set full|min|mixed FILE\n"
                    "       odm_bench --dump-prepared SET.jsonl FILE\n"
                    "       odm_bench --sets [--json] [--quick] [--rounds N] [--op decode|dpe|arena|adpe|view]\n"
                    "                         [--subset all|hand] [SET.jsonl ...]\n"
                    "       odm_bench --scaling [--json] [--quick] [--rounds N]\n");
   return 2;
}

int
odm_bench_set_main (int argc, char **argv, const char *data_dir)
{
   const odm_schema_t *const *schemas;
   size_t n, i;
   bson_error_t err;
   const char *files[16];
   size_t nfiles = 0;
   int a;

   schemas = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      max_struct_size = schemas[i]->root->size > max_struct_size ? schemas[i]->root->size : max_struct_size;
   }
   scfg.rounds = 5;
   scfg.min_round_ms = 100;
   scfg.opts.is_update = false;
   scfg.opts.now_ms = ODM_BENCH_SET_NOW_MS;
   scfg.opts.previous = NULL;

   if (strcmp (argv[1], "--dump-set") == 0) {
      odm_bench_set_t set;
      FILE *f;
      if (argc != 4) {
         return usage ();
      }
      if (!odm_bench_set_load (&set, argv[2], data_dir, &err)) {
         fail (argv[2], &err);
      }
      f = strcmp (argv[3], "-") == 0 ? stdout : fopen (argv[3], "w");
      if (!f || !odm_bench_set_dump (&set, f) || (f != stdout && fclose (f) != 0)) {
         perror (argv[3]);
         return 1;
      }
      fprintf (stderr, "odm_bench: %s set: %zu documents, %zu BSON bytes (%.0f per document)\n", set.name, set.count,
               set.bytes, set.count ? (double) set.bytes / (double) set.count : 0.0);
      odm_bench_set_destroy (&set);
      return 0;
   }
   if (strcmp (argv[1], "--dump-prepared") == 0) {
      odm_bench_set_t set;
      FILE *f;
      if (argc != 4) {
         return usage ();
      }
      if (!odm_bench_set_read (&set, argv[2], &err)) {
         fail (argv[2], &err);
      }
      if (!odm_bench_set_prepare (&set, scfg.opts.now_ms, &err)) {
         fail (argv[2], &err);
      }
      f = strcmp (argv[3], "-") == 0 ? stdout : fopen (argv[3], "w");
      if (!f || !odm_bench_set_dump (&set, f) || (f != stdout && fclose (f) != 0)) {
         perror (argv[3]);
         return 1;
      }
      odm_bench_set_destroy (&set);
      return 0;
   }
   for (a = 2; a < argc; a++) {
      if (argv[a][0] != '-' && strcmp (argv[1], "--sets") == 0) {
         if (nfiles < sizeof files / sizeof files[0]) {
            files[nfiles++] = argv[a];
         }
      } else if (strcmp (argv[a], "--json") == 0) {
         scfg.json = true;
      } else if (strcmp (argv[a], "--quick") == 0) {
         scfg.quick = true;
      } else if (strcmp (argv[a], "--op") == 0 && a + 1 < argc) {
         scfg.only_op = argv[++a];
      } else if (strcmp (argv[a], "--subset") == 0 && a + 1 < argc) {
         scfg.only_subset = argv[++a];
      } else if (strcmp (argv[a], "--rounds") == 0 && a + 1 < argc && atoi (argv[a + 1]) > 0) {
         scfg.rounds = atoi (argv[++a]);
      } else {
         return usage ();
      }
   }
   if (scfg.quick) {
      scfg.rounds = 1;
      scfg.min_round_ms = 1;
   }
   header ();
   if (strcmp (argv[1], "--sets") == 0) {
      static const char *const names[] = {"full", "min", "mixed"};
      for (i = 0; i < (nfiles ? nfiles : 3); i++) {
         odm_bench_set_t set;
         if (nfiles ? !odm_bench_set_read (&set, files[i], &err) : !odm_bench_set_load (&set, names[i], data_dir, &err)) {
            fail (nfiles ? files[i] : names[i], &err);
         }
         bench_set (&set);
         odm_bench_set_destroy (&set);
      }
   } else {
      bench_scaling (data_dir);
   }
   if (!scfg.json) {
      printf ("# checksum %" PRIu64 "\n", (uint64_t) set_sink);
   }
   return 0;
}
