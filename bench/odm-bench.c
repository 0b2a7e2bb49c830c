/* odm_bench: throughput of the generated codec, per collection, on the test fixtures.
 *
 * For every schema odm_schemas() returns and each of its fixtures
 * (tests/data/<collection>.full.json and .min.json), it times
 *   encode    odm_to_bson      struct -> BSON
 *   decode    odm_from_bson    BSON -> struct
 *   validate  odm_validate     every rule
 *   prepare   odm_prepare      the pre-save path (ids, defaults, derivations, timestamps, rules)
 * and prints ns/doc, docs/s and allocations/doc. For the collections that have a
 * hand-written libbson baseline (handwritten.c) it times the baseline too, on the same
 * structs and inputs, and prints the ratio generated / hand-written. Before timing, it
 * checks that each baseline really does the same work (same bytes, same errors, same
 * violations) and stops if it does not.
 *
 * Timing: CLOCK_MONOTONIC around batches of documents; setup and teardown of a batch
 * (decoding the inputs of prepare, freeing decoded structs and encoded BSON) are not timed.
 * Each measurement is calibrated to about --ms milliseconds and run three times; the best
 * run is reported. Allocations are counted through bson_mem_set_vtable (malloc, calloc,
 * realloc and aligned_alloc), inside the timed part only.
 *
 * Usage: odm_bench [--json] [--quick] [--only COLLECTION] [--ms N] [--data DIR] */
#include <odm/odm.h>

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "handwritten.h"
#include "set-bench.h"

#ifndef ODM_BENCH_DATA_DIR
#define ODM_BENCH_DATA_DIR "tests/data"
#endif
#ifndef ODM_BENCH_BUILD_TYPE
#define ODM_BENCH_BUILD_TYPE ""
#endif

#define BENCH_NOW_MS INT64_C (1700100000000) /* after every fixture date, before consultations' 2100 */
#define BENCH_EXPECTED_COLLECTIONS 29
#define BENCH_TARGET_RATIO 1.2
#define MAX_BATCH 64

static const char *const baseline_names[] = {"chat_sessions", "community_posts", "support_tickets"};

typedef enum { OP_ENCODE, OP_DECODE, OP_VALIDATE, OP_PREPARE, OP_COUNT } op_t;
static const char *const op_names[OP_COUNT] = {"encode", "decode", "validate", "prepare"};

/* ------------------------------------------------------------ settings and state */

static struct {
   bool json;
   bool quick;
   const char *only;
   const char *data_dir;
   double ms;        /* target per run */
   int runs;
   size_t batch;
   odm_prepare_opts_t opts;
} cfg;

static char *slots;           /* MAX_BATCH structs of the largest schema */
static size_t slot_size;
static bson_t outs[MAX_BATCH];
static volatile uint64_t sink; /* every result is folded into this */

#define SLOT(i) ((void *) (slots + (i) * slot_size))

static void
die (const char *fmt, ...) BSON_GNUC_PRINTF (1, 2);

static void
die (const char *fmt, ...)
{
   va_list ap;
   fflush (stdout);
   fputs ("odm_bench: ", stderr);
   va_start (ap, fmt);
   vfprintf (stderr, fmt, ap);
   va_end (ap);
   fputc ('\n', stderr);
   exit (1);
}

/* Notes go to stdout with the table, to stderr with --json (stdout stays JSON lines). */
static void
note (const char *fmt, ...) BSON_GNUC_PRINTF (1, 2);

static void
note (const char *fmt, ...)
{
   FILE *f = cfg.json ? stderr : stdout;
   va_list ap;
   fputs ("# ", f);
   va_start (ap, fmt);
   vfprintf (f, fmt, ap);
   va_end (ap);
   fputc ('\n', f);
}

/* ------------------------------------------------------------ allocation counting */


/* ------------------------------------------------------------------------ helpers */

static uint64_t
now_ns (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return (uint64_t) ts.tv_sec * UINT64_C (1000000000) + (uint64_t) ts.tv_nsec;
}

/* The fixture as BSON, or NULL when the file is missing (or, with a note, unreadable). */
static bson_t *
load_fixture (const char *collection, const char *variant)
{
   bson_error_t err;
   bson_t *b = odm_bench_load_fixture (cfg.data_dir, collection, variant, &err);
   if (!b && !strstr (err.message, "cannot be opened")) {
      note ("%s.%s: not valid Extended JSON (%s): skipped", collection, variant, err.message);
   }
   return b;
}

static bool
same_bytes (const bson_t *a, const bson_t *b)
{
   return a->len == b->len && memcmp (bson_get_data (a), bson_get_data (b), a->len) == 0;
}

static char *
describe (const bson_t *b)
{
   return bson_as_canonical_extended_json (b, NULL);
}

/* ============================================================ baseline verification */

typedef struct {
   const odm_schema_t *schema;
   const odm_bench_hand_t *hand;
   char what[512]; /* the input being compared, for messages */
   int mismatches;
} verify_t;

static void
mismatch (verify_t *v, const char *fmt, ...) BSON_GNUC_PRINTF (2, 3);

static void
mismatch (verify_t *v, const char *fmt, ...)
{
   va_list ap;
   if (v->mismatches++ >= 10) {
      return;
   }
   fprintf (stderr, "odm_bench: %s baseline differs from the generated code on %s: ", v->schema->collection, v->what);
   va_start (ap, fmt);
   vfprintf (stderr, fmt, ap);
   va_end (ap);
   fputc ('\n', stderr);
}

static void
compare_bson (verify_t *v, const char *step, const bson_t *gen, const bson_t *hand)
{
   if (!same_bytes (gen, hand)) {
      char *a = describe (gen), *b = describe (hand);
      mismatch (v, "%s: generated %s, hand-written %s", step, a ? a : "(not printable)", b ? b : "(not printable)");
      bson_free (a);
      bson_free (b);
   }
}

static void
compare_violations (verify_t *v, const char *step, const odm_violations_t *gen, const odm_violations_t *hand)
{
   size_t i;
   if (gen->count != hand->count) {
      mismatch (v, "%s: %zu violations generated (first: %s %s), %zu hand-written (first: %s %s)", step, gen->count,
                gen->count ? gen->items[0].path : "-", gen->count ? gen->items[0].rule : "-", hand->count,
                hand->count ? hand->items[0].path : "-", hand->count ? hand->items[0].rule : "-");
      return;
   }
   for (i = 0; i < gen->count; i++) {
      const odm_violation_t *a = &gen->items[i], *b = &hand->items[i];
      if (strcmp (a->path, b->path) || strcmp (a->rule, b->rule) || strcmp (a->message, b->message)) {
         mismatch (v, "%s: violation %zu is %s [%s] %s generated, %s [%s] %s hand-written", step, i, a->path, a->rule,
                   a->message, b->path, b->rule, b->message);
         return;
      }
   }
}

/* Runs IN through both implementations (decode with FLAGS, then encode, validate, prepare)
 * and records every difference. */
static void
compare_on (verify_t *v, const bson_t *in, uint32_t flags)
{
   const odm_schema_t *schema = v->schema;
   void *g = bson_malloc0 (schema->root->size), *h = bson_malloc0 (schema->root->size);
   bson_error_t eg, eh;
   bool okg, okh;

   memset (&eg, 0, sizeof eg);
   memset (&eh, 0, sizeof eh);
   okg = odm_from_bson (schema, in, g, flags, &eg);
   okh = v->hand->decode (in, h, flags, &eh);
   if (okg != okh) {
      mismatch (v, "decode: generated %s (%s), hand-written %s (%s)", okg ? "accepts" : "refuses",
                okg ? "-" : eg.message, okh ? "accepts" : "refuses", okh ? "-" : eh.message);
   } else if (!okg) {
      if (eg.domain != eh.domain || eg.code != eh.code || strcmp (eg.message, eh.message) != 0) {
         mismatch (v, "decode error: generated %u \"%s\", hand-written %u \"%s\"", eg.code, eg.message, eh.code,
                   eh.message);
      }
   } else {
      bson_t bg, bh, hg;
      odm_violations_t vg, vh;
      odm_to_bson (schema, g, &bg, NULL);
      odm_to_bson (schema, h, &bh, NULL);
      compare_bson (v, "decode (compared re-encoded by odm_to_bson)", &bg, &bh);
      v->hand->encode (g, &hg, NULL);
      compare_bson (v, "encode", &bg, &hg);
      bson_destroy (&bg);
      bson_destroy (&bh);
      bson_destroy (&hg);

      odm_validate (schema, g, &cfg.opts, &vg);
      v->hand->validate (h, &cfg.opts, &vh);
      compare_violations (v, "validate", &vg, &vh);
      odm_violations_cleanup (&vg);
      odm_violations_cleanup (&vh);

      odm_prepare (schema, g, &cfg.opts, &vg);
      v->hand->prepare (h, &cfg.opts, &vh);
      compare_violations (v, "prepare", &vg, &vh);
      odm_violations_cleanup (&vg);
      odm_violations_cleanup (&vh);
      odm_to_bson (schema, g, &bg, NULL);
      odm_to_bson (schema, h, &bh, NULL);
      compare_bson (v, "prepare (compared re-encoded by odm_to_bson)", &bg, &bh);
      v->hand->encode (h, &hg, NULL);
      compare_bson (v, "encode after prepare", &bh, &hg);
      bson_destroy (&bg);
      bson_destroy (&bh);
      bson_destroy (&hg);
   }
   odm_cleanup (schema, g);
   odm_cleanup (schema, h);
   bson_free (g);
   bson_free (h);
}

/* Mutations of one element of a fixture, to compare the two implementations off the
 * happy path: wrong types, nulls, duplicates, unknown and missing fields, out-of-range
 * numbers, bad enum values, empty and over-long strings, malformed UTF-8. */
typedef enum {
   MUT_TYPE, MUT_NULL, MUT_DUP, MUT_UNKNOWN, MUT_REMOVE, MUT_BIG, MUT_SMALL, MUT_NAN, MUT_LONG64,
   MUT_WORD, MUT_EMPTY, MUT_LONGSTR, MUT_BADUTF8, MUT_SURROGATE, MUT_COUNT
} mut_kind_t;
static const char *const mut_names[MUT_COUNT] = {
   "wrong type", "null", "duplicate", "unknown field after", "removed", "big number", "small number", "NaN",
   "int64 beyond 2^53", "unknown word", "empty string", "long string", "bad UTF-8", "UTF-16 surrogate"};

typedef struct {
   int target;     /* index of the element to change, depth first */
   mut_kind_t kind;
   int counter;
   bool applied;
   char path[256];
} mutation_t;

static char long_string[6 * 700 + 1];

/* Writes the element at IT into OUT with the mutation applied; false when it does not apply. */
static bool
apply_mutation (bson_iter_t *it, bson_t *out, mutation_t *m)
{
   const char *key = bson_iter_key (it);
   int kl = (int) bson_iter_key_len (it);
   bson_type_t t = bson_iter_type (it);
   bool num = t == BSON_TYPE_DOUBLE || t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64;
   bool str = t == BSON_TYPE_UTF8;

   switch (m->kind) {
   case MUT_TYPE:
      return str ? bson_append_int32 (out, key, kl, 7) : bson_append_utf8 (out, key, kl, "x", 1);
   case MUT_NULL:
      return t != BSON_TYPE_NULL && bson_append_null (out, key, kl);
   case MUT_DUP:
      return bson_append_iter (out, key, kl, it) && bson_append_iter (out, key, kl, it);
   case MUT_UNKNOWN:
      return bson_append_iter (out, key, kl, it) && bson_append_int32 (out, "zzUnknown", -1, 1);
   case MUT_REMOVE:
      return strcmp (key, "_id") != 0; /* a missing _id would be generated: not comparable */
   case MUT_BIG:
      return num ? bson_append_double (out, key, kl, 1e9)
                 : t == BSON_TYPE_DATE_TIME && bson_append_date_time (out, key, kl, INT64_C (4102444800000));
   case MUT_SMALL:
      return num ? bson_append_double (out, key, kl, -1e9)
                 : t == BSON_TYPE_DATE_TIME && bson_append_date_time (out, key, kl, 0);
   case MUT_NAN:
      return num && bson_append_double (out, key, kl, NAN);
   case MUT_LONG64:
      return num && bson_append_int64 (out, key, kl, (INT64_C (1) << 53) + 1);
   case MUT_WORD:
      return str && bson_append_utf8 (out, key, kl, "zzz", 3);
   case MUT_EMPTY:
      return str && bson_append_utf8 (out, key, kl, "", 0);
   case MUT_LONGSTR:
      return str && bson_append_utf8 (out, key, kl, long_string, -1);
   case MUT_BADUTF8:
      return str && bson_append_utf8 (out, key, kl, "a\xC0\xAF", 3); /* overlong '/' */
   case MUT_SURROGATE:
      return str && bson_append_utf8 (out, key, kl, "a\xED\xA0\x80", 4);
   case MUT_COUNT:
   default:
      return false;
   }
}

static void
mutate_copy (bson_iter_t *it, bson_t *out, mutation_t *m, const char *prefix)
{
   while (bson_iter_next (it)) {
      const char *key = bson_iter_key (it);
      bson_type_t t = bson_iter_type (it);
      char path[256];

      snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
      if (m->counter++ == m->target) {
         bson_t tmp = BSON_INITIALIZER;
         m->applied = apply_mutation (it, &tmp, m);
         if (m->applied) {
            bson_concat (out, &tmp);
            bson_strncpy (m->path, path, sizeof m->path);
            bson_destroy (&tmp);
            continue;
         }
         bson_destroy (&tmp);
      }
      if (t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY) {
         bson_iter_t child;
         bson_t sub;
         bson_iter_recurse (it, &child);
         if (t == BSON_TYPE_DOCUMENT) {
            bson_append_document_begin (out, key, -1, &sub);
            mutate_copy (&child, &sub, m, path);
            bson_append_document_end (out, &sub);
         } else {
            bson_append_array_begin (out, key, -1, &sub);
            mutate_copy (&child, &sub, m, path);
            bson_append_array_end (out, &sub);
         }
      } else {
         bson_append_iter (out, key, -1, it);
      }
   }
}

static int
count_elements (const bson_t *b)
{
   mutation_t m = {.target = -1};
   bson_t copy = BSON_INITIALIZER;
   bson_iter_t it;
   bson_iter_init (&it, b);
   mutate_copy (&it, &copy, &m, "");
   bson_destroy (&copy);
   return m.counter;
}

/* The checks the benchmark depends on, then the mutation sweep. Stops on any difference. */
static void
verify_baseline (const odm_schema_t *schema, const odm_bench_hand_t *hand, const bson_t *fixture,
                 const char *variant, const void *gen_doc)
{
   verify_t v = {.schema = schema, .hand = hand};
   void *h = bson_malloc0 (schema->root->size);
   bson_t gen, hw;
   bson_error_t err;
   int n, target, kind, tried = 0;

   /* 1. hand-written encode == odm_to_bson, on the fixture decoded by the generated code */
   snprintf (v.what, sizeof v.what, "the %s fixture", variant);
   odm_to_bson (schema, gen_doc, &gen, NULL);
   if (!hand->encode (gen_doc, &hw, &err)) {
      die ("%s %s: hand-written encode failed: %s", schema->collection, variant, err.message);
   }
   if (!same_bytes (&gen, &hw)) {
      compare_bson (&v, "encode", &gen, &hw);
      die ("%s %s: the hand-written encoder's output is not byte-identical to odm_to_bson's: fix bench/handwritten.c",
           schema->collection, variant);
   }
   bson_destroy (&hw);
   /* 2. hand-written decode, then odm_to_bson, gives the fixture's bytes back */
   if (!hand->decode (fixture, h, ODM_DECODE_STRICT, &err)) {
      die ("%s %s: the hand-written decoder refuses the fixture: %s", schema->collection, variant, err.message);
   }
   odm_to_bson (schema, h, &hw, NULL);
   if (!same_bytes (&hw, fixture)) {
      compare_bson (&v, "decode then odm_to_bson (vs the fixture)", fixture, &hw);
      die ("%s %s: hand-written decode + odm_to_bson does not give the fixture's bytes back%s", schema->collection,
           variant,
           same_bytes (&gen, fixture) ? ": fix bench/handwritten.c"
                                      : " (nor does the generated decoder: the fixture is not in canonical form)");
   }
   bson_destroy (&hw);
   bson_destroy (&gen);
   odm_cleanup (schema, h);
   bson_free (h);

   /* 3. same errors, structs, violations and prepared documents on the fixture and on every
    *    single-element mutation of it, with and without ODM_DECODE_STRICT */
   compare_on (&v, fixture, ODM_DECODE_DEFAULT);
   n = count_elements (fixture);
   for (target = 0; target < n; target++) {
      for (kind = 0; kind < MUT_COUNT; kind++) {
         mutation_t m = {.target = target, .kind = (mut_kind_t) kind};
         bson_t mutated = BSON_INITIALIZER;
         bson_iter_t it;
         bson_iter_init (&it, fixture);
         mutate_copy (&it, &mutated, &m, "");
         if (m.applied) {
            snprintf (v.what, sizeof v.what, "the %s fixture with %s at %s", variant, mut_names[kind], m.path);
            compare_on (&v, &mutated, ODM_DECODE_DEFAULT);
            compare_on (&v, &mutated, ODM_DECODE_STRICT);
            tried++;
         }
         bson_destroy (&mutated);
      }
   }
   if (v.mismatches) {
      die ("%s: the hand-written baseline is not equivalent to the generated code (%d differences, first ones above): "
           "fix bench/handwritten.c",
           schema->collection, v.mismatches);
   }
   note ("verified %s baseline on the %s fixture: encode byte-identical, decode round-trips, and %d mutated inputs "
         "give the same errors, structs, violations and prepared documents",
         schema->collection, variant, tried);
}

/* ======================================================================= measuring */

typedef struct {
   const odm_schema_t *schema;
   const odm_bench_hand_t *hand; /* or NULL */
   const char *variant;
   bson_t *fixture;
   void *doc; /* the fixture decoded by the generated code */
} bench_case_t;

typedef struct {
   uint64_t ns, allocs, docs;
} sample_t;

typedef struct {
   double ns_per_doc, allocs_per_doc;
   uint64_t docs; /* in the best run */
} result_t;

/* Runs OP on N documents (whole batches) with the generated code (H NULL) or baseline H. */
static void
run_docs (const bench_case_t *c, op_t op, const odm_bench_hand_t *h, size_t n, sample_t *s)
{
   const odm_schema_t *schema = c->schema;
   size_t done, i, batch = cfg.batch;
   uint64_t acc = 0;

   memset (s, 0, sizeof *s);
   for (done = 0; done < n; done += batch) {
      uint64_t t0, t1, a0, a1;
      odm_violations_t v;

      if (op == OP_PREPARE) { /* fresh inputs: prepare changes the document */
         for (i = 0; i < batch; i++) {
            if (!odm_from_bson (schema, c->fixture, SLOT (i), ODM_DECODE_DEFAULT, NULL)) {
               die ("%s %s: decode failed", schema->collection, c->variant);
            }
         }
      }
      a0 = odm_bench_allocs;
      t0 = now_ns ();
      switch (op) {
      case OP_ENCODE:
         if (h) {
            for (i = 0; i < batch; i++) {
               acc += h->encode (c->doc, &outs[i], NULL);
            }
         } else {
            for (i = 0; i < batch; i++) {
               acc += odm_to_bson (schema, c->doc, &outs[i], NULL);
            }
         }
         break;
      case OP_DECODE:
         if (h) {
            for (i = 0; i < batch; i++) {
               acc += h->decode (c->fixture, SLOT (i), ODM_DECODE_DEFAULT, NULL);
            }
         } else {
            for (i = 0; i < batch; i++) {
               acc += odm_from_bson (schema, c->fixture, SLOT (i), ODM_DECODE_DEFAULT, NULL);
            }
         }
         break;
      case OP_VALIDATE:
         if (h) {
            for (i = 0; i < batch; i++) {
               acc += h->validate (c->doc, &cfg.opts, &v) + v.count;
               odm_violations_cleanup (&v);
            }
         } else {
            for (i = 0; i < batch; i++) {
               acc += odm_validate (schema, c->doc, &cfg.opts, &v) + v.count;
               odm_violations_cleanup (&v);
            }
         }
         break;
      case OP_PREPARE:
         if (h) {
            for (i = 0; i < batch; i++) {
               acc += h->prepare (SLOT (i), &cfg.opts, &v) + v.count;
               odm_violations_cleanup (&v);
            }
         } else {
            for (i = 0; i < batch; i++) {
               acc += odm_prepare (schema, SLOT (i), &cfg.opts, &v) + v.count;
               odm_violations_cleanup (&v);
            }
         }
         break;
      case OP_COUNT:
      default:
         break;
      }
      t1 = now_ns ();
      a1 = odm_bench_allocs;
      s->ns += t1 - t0;
      s->allocs += a1 - a0;
      s->docs += batch;
      /* teardown, not timed; the results are consumed here */
      for (i = 0; i < batch; i++) {
         if (op == OP_ENCODE) {
            acc += outs[i].len;
            bson_destroy (&outs[i]);
         } else if (op == OP_DECODE || op == OP_PREPARE) {
            acc += *(const uint8_t *) SLOT (i); /* the first member (_id's first byte) */
            odm_cleanup (schema, SLOT (i));
         }
      }
   }
   sink += acc;
}

/* How many documents make one run of about cfg.ms milliseconds. */
static size_t
calibrate (const bench_case_t *c, op_t op, const odm_bench_hand_t *h)
{
   const double target = cfg.ms * 1e6;
   size_t n = cfg.batch;
   sample_t s;
   double per_doc, want;

   run_docs (c, op, h, n, &s); /* warm-up: caches, allocator, branch predictors */
   for (;;) {
      run_docs (c, op, h, n, &s);
      if ((double) s.ns * 8 >= target || n >= ((size_t) 1 << 26)) {
         break;
      }
      n *= 4;
   }
   per_doc = (double) (s.ns ? s.ns : 1) / (double) s.docs;
   want = ceil (target / per_doc / (double) cfg.batch) * (double) cfg.batch;
   return want < (double) cfg.batch ? cfg.batch : (size_t) want;
}

static void
keep_best (result_t *r, const sample_t *s)
{
   double ns = (double) s->ns / (double) s->docs;
   if (r->docs == 0 || ns < r->ns_per_doc) {
      r->ns_per_doc = ns;
      r->allocs_per_doc = (double) s->allocs / (double) s->docs;
      r->docs = s->docs;
   }
}

static void
add_sample (sample_t *to, const sample_t *s)
{
   to->ns += s->ns;
   to->allocs += s->allocs;
   to->docs += s->docs;
}

/* Best of cfg.runs, for the generated code and its baseline. Each run is cut into
 * SLICES slices that alternate generated / hand-written, so both see the same machine
 * (frequency changes, a neighbour's burst of work) and the ratio stays stable. */
#define SLICES 8

static size_t
slice_of (size_t n)
{
   size_t per = (n / SLICES + cfg.batch - 1) / cfg.batch * cfg.batch;
   return per ? per : cfg.batch;
}

static void
measure (const bench_case_t *c, op_t op, result_t *gen, result_t *hand)
{
   size_t ng = slice_of (calibrate (c, op, NULL)), nh = c->hand ? slice_of (calibrate (c, op, c->hand)) : 0;
   int r, k;

   memset (gen, 0, sizeof *gen);
   memset (hand, 0, sizeof *hand);
   for (r = 0; r < cfg.runs; r++) {
      sample_t sg = {0, 0, 0}, sh = {0, 0, 0}, s;
      for (k = 0; k < SLICES; k++) {
         run_docs (c, op, NULL, ng, &s);
         add_sample (&sg, &s);
         if (c->hand) {
            run_docs (c, op, c->hand, nh, &s);
            add_sample (&sh, &s);
         }
      }
      keep_best (gen, &sg);
      if (c->hand) {
         keep_best (hand, &sh);
      }
   }
}

/* ========================================================================= output */

static int targets_met, targets_missed;
static char missed[4096];

static void
print_header (void)
{
   if (cfg.json) {
      return;
   }
   printf ("%-26s %-4s %-8s %6s %10s %11s %7s | %10s %7s %8s\n", "collection", "var", "op", "bytes", "ns/doc",
           "docs/s", "allocs", "hand ns", "allocs", "gen/hand");
   printf ("%-26s %-4s %-8s %6s %10s %11s %7s | %10s %7s %8s\n", "--------------------------", "----", "--------",
           "------", "----------", "-----------", "-------", "----------", "-------", "--------");
}

static void
print_row (const bench_case_t *c, op_t op, const result_t *gen, const result_t *hand)
{
   bool has_hand = c->hand != NULL;
   double ratio = has_hand ? gen->ns_per_doc / hand->ns_per_doc : 0;
   bool targeted = has_hand && (op == OP_ENCODE || op == OP_DECODE);
   bool met = ratio <= BENCH_TARGET_RATIO;

   if (targeted) {
      if (met) {
         targets_met++;
      } else {
         size_t len = strlen (missed);
         targets_missed++;
         snprintf (missed + len, sizeof missed - len, "%s%s %s %s %.2fx", len ? "; " : "", c->schema->collection,
                   c->variant, op_names[op], ratio);
      }
   }
   if (cfg.json) {
      printf ("{\"collection\": \"%s\", \"variant\": \"%s\", \"op\": \"%s\", \"bson_bytes\": %" PRIu32
              ", \"runs\": %d, \"docs_per_run\": %" PRIu64 ", \"ns_per_doc\": %.1f, \"docs_per_s\": %.0f, "
              "\"allocs_per_doc\": %.2f",
              c->schema->collection, c->variant, op_names[op], c->fixture->len, cfg.runs, gen->docs, gen->ns_per_doc,
              1e9 / gen->ns_per_doc, gen->allocs_per_doc);
      if (has_hand) {
         printf (", \"hand_ns_per_doc\": %.1f, \"hand_docs_per_s\": %.0f, \"hand_allocs_per_doc\": %.2f, "
                 "\"ratio\": %.3f, \"target_ratio\": %s, \"meets_target\": %s}\n",
                 hand->ns_per_doc, 1e9 / hand->ns_per_doc, hand->allocs_per_doc, ratio,
                 targeted ? "1.2" : "null", targeted ? (met ? "true" : "false") : "null");
      } else {
         printf (", \"hand_ns_per_doc\": null, \"hand_docs_per_s\": null, \"hand_allocs_per_doc\": null, "
                 "\"ratio\": null, \"target_ratio\": null, \"meets_target\": null}\n");
      }
   } else {
      printf ("%-26s %-4s %-8s %6" PRIu32 " %10.1f %11.0f %7.2f |", c->schema->collection, c->variant, op_names[op],
              c->fixture->len, gen->ns_per_doc, 1e9 / gen->ns_per_doc, gen->allocs_per_doc);
      if (has_hand) {
         printf (" %10.1f %7.2f %7.2fx%s\n", hand->ns_per_doc, hand->allocs_per_doc, ratio,
                 targeted ? (met ? "" : "  > 1.2x") : "");
      } else {
         printf ("\n");
      }
   }
   fflush (stdout);
}

/* ========================================================================== main */

static void
usage (FILE *f)
{
   fprintf (f,
            "usage: odm_bench [--json] [--quick] [--only COLLECTION] [--ms N] [--data DIR]\n"
            "  --json        one JSON object per measurement and line on stdout (notes go to stderr)\n"
            "  --quick       a smoke run: small batches, ~1 ms per run\n"
            "  --only C      just collection C\n"
            "  --ms N        target duration of one run in milliseconds (default 20; best of 3 runs)\n"
            "  --data DIR    fixtures directory (default %s)\n",
            ODM_BENCH_DATA_DIR);
}

static void
parse_args (int argc, char **argv)
{
   int i;
   cfg.data_dir = ODM_BENCH_DATA_DIR;
   cfg.ms = 20;
   cfg.runs = 3;
   cfg.batch = MAX_BATCH;
   for (i = 1; i < argc; i++) {
      if (strcmp (argv[i], "--json") == 0) {
         cfg.json = true;
      } else if (strcmp (argv[i], "--quick") == 0) {
         cfg.quick = true;
      } else if (strcmp (argv[i], "--only") == 0 && i + 1 < argc) {
         cfg.only = argv[++i];
      } else if (strcmp (argv[i], "--ms") == 0 && i + 1 < argc) {
         cfg.ms = atof (argv[++i]);
      } else if (strcmp (argv[i], "--data") == 0 && i + 1 < argc) {
         cfg.data_dir = argv[++i];
      } else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
         usage (stdout);
         exit (0);
      } else {
         usage (stderr);
         exit (2);
      }
   }
   if (cfg.quick) {
      cfg.ms = 1;
      cfg.batch = 8;
   }
   if (!(cfg.ms > 0)) {
      die ("--ms wants a positive number");
   }
   cfg.opts.is_update = false;
   cfg.opts.now_ms = BENCH_NOW_MS;
   cfg.opts.previous = NULL;
}

/* Loads, checks and measures one fixture of one collection. */
static void
bench_variant (const odm_schema_t *schema, const char *variant)
{
   bench_case_t c = {.schema = schema, .hand = odm_bench_hand_find (schema->collection), .variant = variant};
   bson_error_t err;
   bson_t round;
   odm_violations_t v;
   int op;

   if (!(c.fixture = load_fixture (schema->collection, variant))) {
      return;
   }
   c.doc = bson_malloc0 (schema->root->size);
   if (!odm_from_bson (schema, c.fixture, c.doc, ODM_DECODE_DEFAULT, &err)) {
      note ("%s %s: the generated decoder refuses the fixture (%s): skipped", schema->collection, variant,
            err.message);
      goto done;
   }
   odm_to_bson (schema, c.doc, &round, NULL);
   if (!same_bytes (&round, c.fixture)) {
      note ("%s %s: the fixture does not round-trip byte for byte (not canonical); measured anyway",
            schema->collection, variant);
   }
   bson_destroy (&round);
   if (!odm_validate (schema, c.doc, &cfg.opts, &v)) {
      note ("%s %s: the fixture breaks %zu rule(s) (first: %s [%s]); measured anyway", schema->collection, variant,
            v.count, v.items[0].path, v.items[0].rule);
   }
   odm_violations_cleanup (&v);
   if (c.hand) {
      verify_baseline (schema, c.hand, c.fixture, variant, c.doc);
   }
   for (op = 0; op < OP_COUNT; op++) {
      result_t gen, hand;
      measure (&c, (op_t) op, &gen, &hand);
      print_row (&c, (op_t) op, &gen, &hand);
   }
done:
   odm_cleanup (schema, c.doc);
   bson_free (c.doc);
   bson_destroy (c.fixture);
}

int
main (int argc, char **argv)
{
   const odm_schema_t *const *schemas;
   size_t count, i, measured = 0;
   uint64_t t0 = now_ns ();

   if (odm_bench_set_mode (argc, argv)) { /* --dump-set, --sets, ...: set-bench.c */
      return odm_bench_set_main (argc, argv, ODM_BENCH_DATA_DIR);
   }
   parse_args (argc, argv);
   odm_bench_count_allocations ();
   for (i = 0; i < 700; i++) { /* 2800 UTF-16 units: past every maxlength */
      memcpy (long_string + i * 6, "a\xF0\x9F\x98\x80" "b", 6);
   }

   schemas = odm_schemas (&count);
   for (i = 0; i < count; i++) {
      slot_size = schemas[i]->root->size > slot_size ? schemas[i]->root->size : slot_size;
   }
   slot_size = (slot_size + 15) & ~(size_t) 15;
   slots = bson_malloc0 (slot_size * MAX_BATCH);

   note ("odm_bench: libodm %s, libbson %s, %s build; %zu of %d collections have a schema", ODM_VERSION_STRING,
         bson_get_version (), *ODM_BENCH_BUILD_TYPE ? ODM_BENCH_BUILD_TYPE : "unknown", count,
         BENCH_EXPECTED_COLLECTIONS);
   note ("each row: best of %d runs of ~%g ms, batches of %zu documents; now_ms fixed at %" PRId64
         "; allocations counted per document inside the timed part",
         cfg.runs, cfg.ms, cfg.batch, cfg.opts.now_ms);
   if (strcmp (ODM_BENCH_BUILD_TYPE, "Release") != 0) {
      note ("not a Release build: configure with -DCMAKE_BUILD_TYPE=Release for numbers worth comparing");
   }
   for (i = 0; i < sizeof baseline_names / sizeof baseline_names[0]; i++) {
      if (!odm_bench_hand_find (baseline_names[i])) {
         note ("no hand-written baseline for %s: its spec (specs/%s.json) was not there when this was configured",
               baseline_names[i], baseline_names[i]);
      }
   }
   print_header ();
   for (i = 0; i < count; i++) {
      if (cfg.only && strcmp (cfg.only, schemas[i]->collection) != 0) {
         continue;
      }
      bench_variant (schemas[i], "full");
      bench_variant (schemas[i], "min");
      measured++;
   }
   if (cfg.only && !measured) {
      die ("no collection named %s", cfg.only);
   }
   note ("targets (reported, not enforced): generated encode and decode within %.1fx of hand-written: %d met, %d "
         "missed%s%s",
         BENCH_TARGET_RATIO, targets_met, targets_missed, targets_missed ? ": " : "", missed);
   note ("%zu collections in %.1f s (checksum %" PRIu64 ")", measured, (double) (now_ns () - t0) / 1e9,
         (uint64_t) sink);
   bson_free (slots);
   bson_mem_restore_vtable ();
   return 0;
}
