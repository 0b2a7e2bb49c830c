/* odm_bench_view: the zero-copy read path (odm-view.h) against the copying decode, side by
 * side in one run, on every collection's full and minimal fixture.
 *   decode      odm_from_bson                      BSON -> struct (the struct's cleanup not timed)
 *   view        odm_view_init                      the one check, the field table
 *   view+read   odm_view_init, then every field    strings, numbers, dates, ids, nested objects,
 *               read through the accessors         array elements, mixed values
 * Per row: CPU ns per document (best of 5 runs of about --ms milliseconds), allocations per
 * document (a counting bson_mem_set_vtable allocator), and decode / view+read (this build's
 * decode; bench/run-all.sh --baseline sets the view against another build's, view-report.js).
 *   ./build-rel/bench/odm_bench_view [--ms N] [--json] [--only COLLECTION] [--view-only]
 * (--view-only: the view+read column alone, for profiling.) Not a test: run it on a Release build. */
#include <odm/odm.h>

#include "bench-util.h"
#include "view-read.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile double sink;

static uint64_t
cpu_ns (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
   return (uint64_t) ts.tv_sec * UINT64_C (1000000000) + (uint64_t) ts.tv_nsec;
}

static bson_t *
load_fixture (const char *collection, const char *variant)
{
   return odm_bench_load_fixture (ODM_BENCH_DATA_DIR, collection, variant, NULL);
}

typedef enum { OP_DECODE, OP_VIEW, OP_VIEW_READ, OP_COUNT } op_t;

#define BATCH 64

/* N documents of OP; *NS the CPU time, *ALLOCS the allocations (timed work only). */
static void
run (const odm_schema_t *s, const bson_t *in, op_t op, size_t n, char *slots, uint64_t *ns, uint64_t *na)
{
   size_t done, i;
   double acc = 0;
   *ns = *na = 0;
   for (done = 0; done < n; done += BATCH) {
      uint64_t t0, a0;
      odm_view_t v;
      a0 = odm_bench_allocs;
      t0 = cpu_ns ();
      switch (op) {
      case OP_DECODE:
         for (i = 0; i < BATCH; i++) {
            acc += odm_from_bson (s, in, slots + i * s->root->size, ODM_DECODE_DEFAULT, NULL);
         }
         break;
      case OP_VIEW:
         for (i = 0; i < BATCH; i++) {
            acc += odm_view_init_bson (&v, s, in, ODM_DECODE_DEFAULT, NULL);
            acc += v.at[0];
         }
         break;
      case OP_VIEW_READ:
         for (i = 0; i < BATCH; i++) {
            acc += odm_view_init_bson (&v, s, in, ODM_DECODE_DEFAULT, NULL);
            acc += odm_bench_view_read_all (&v);
         }
         break;
      default:
         break;
      }
      *ns += cpu_ns () - t0;
      *na += odm_bench_allocs - a0;
      if (op == OP_DECODE) { /* not timed */
         for (i = 0; i < BATCH; i++) {
            odm_cleanup (s, slots + i * s->root->size);
         }
      }
   }
   sink += acc;
}

/* ns per document: the best of 5 runs of about MS milliseconds. */
static double
measure (const odm_schema_t *s, const bson_t *in, op_t op, double ms, char *slots, double *allocs_per_doc)
{
   size_t n = BATCH;
   uint64_t ns, na;
   double best = 0;
   int r;
   for (;;) { /* calibrate */
      run (s, in, op, n, slots, &ns, &na);
      if (ns >= ms * 1e6 / 4 || n >= (SIZE_MAX / 4)) {
         break;
      }
      n *= 2;
   }
   n = (size_t) ((double) n * (ms * 1e6) / (double) (ns ? ns : 1));
   n = n < BATCH ? BATCH : n - n % BATCH;
   for (r = 0; r < 5; r++) {
      double per;
      run (s, in, op, n, slots, &ns, &na);
      per = (double) ns / (double) n;
      if (r == 0 || per < best) {
         best = per;
      }
      *allocs_per_doc = (double) na / (double) n;
   }
   return best;
}

int
main (int argc, char **argv)
{
   double ms = 40;
   bool json = false, view_only = false;
   const char *only = NULL;
   size_t n, i, k, full_rows = 0, full_met = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   static const char *const variants[] = {"full", "min"};
   double worst_full = 0, sum_log = 0;
   char *slots;
   size_t max_size = 0;

   for (i = 1; i < (size_t) argc; i++) {
      if (!strcmp (argv[i], "--ms") && i + 1 < (size_t) argc) {
         ms = atof (argv[++i]);
      } else if (!strcmp (argv[i], "--json")) {
         json = true;
      } else if (!strcmp (argv[i], "--only") && i + 1 < (size_t) argc) {
         only = argv[++i];
      } else if (!strcmp (argv[i], "--view-only")) {
         view_only = true;
      } else {
         fprintf (stderr, "usage: %s [--ms N] [--json] [--only COLLECTION] [--view-only]\n", argv[0]);
         return 2;
      }
   }
   for (i = 0; i < n; i++) {
      if (all[i]->root->size > max_size) {
         max_size = all[i]->root->size;
      }
   }
   slots = calloc (BATCH, max_size);
   odm_bench_count_allocations ();
   if (!json) {
      printf ("%-26s %-4s %6s | %10s %7s | %9s %7s | %10s %7s | %8s\n", "collection", "var", "bytes", "decode ns",
              "allocs", "view ns", "allocs", "view+read", "allocs", "speedup");
   }
   for (i = 0; i < n; i++) {
      for (k = 0; k < 2; k++) {
         bson_t *in = only && strcmp (only, all[i]->collection) ? NULL : load_fixture (all[i]->collection, variants[k]);
         double t[OP_COUNT] = {0}, a[OP_COUNT] = {0}, ratio;
         int op;
         if (!in) {
            continue;
         }
         if (!odm_view_init_bson (&(odm_view_t){0}, all[i], in, 0, NULL)) {
            fprintf (stderr, "%s %s: the view refuses the fixture\n", all[i]->collection, variants[k]);
            return 1;
         }
         for (op = view_only ? OP_VIEW_READ : 0; op < OP_COUNT; op++) {
            t[op] = measure (all[i], in, (op_t) op, ms, slots, &a[op]);
         }
         ratio = t[OP_DECODE] / t[OP_VIEW_READ];
         if (k == 0) {
            full_rows++;
            full_met += ratio >= 10.0 && a[OP_VIEW_READ] == 0;
            sum_log += log10 (ratio);
            if (full_rows == 1 || ratio < worst_full) {
               worst_full = ratio;
            }
         }
         if (json) {
            printf ("{\"collection\": \"%s\", \"variant\": \"%s\", \"bson_bytes\": %" PRIu32
                    ", \"decode_ns\": %.1f, \"decode_allocs\": %.2f, \"view_ns\": %.1f, \"view_allocs\": %.2f, "
                    "\"view_read_ns\": %.1f, \"view_read_allocs\": %.2f, \"speedup\": %.2f}\n",
                    all[i]->collection, variants[k], in->len, t[0], a[0], t[1], a[1], t[2], a[2], ratio);
         } else {
            printf ("%-26s %-4s %6" PRIu32 " | %10.1f %7.2f | %9.1f %7.2f | %10.1f %7.2f | %7.1fx\n",
                    all[i]->collection, variants[k], in->len, t[0], a[0], t[1], a[1], t[2], a[2], ratio);
         }
         fflush (stdout);
         bson_destroy (in);
      }
   }
   bson_mem_restore_vtable ();
   free (slots);
   if (!json && full_rows) {
      printf ("\nfull documents: this build's decode / view+read is %.1fx at worst, %.1fx geometric mean; %zu of %zu "
              "rows at >= 10x with 0 allocations.\n(The 10x target is set against the copying decode before "
              "the one-pass decode and the arena (352a781): bench/run-all.sh --baseline BUILD prints that "
              "per collection.)\n",
              worst_full, pow (10, sum_log / (double) full_rows), full_met, full_rows);
   }
   return 0;
}
