/* odm_bench_scaling: does an operation's cost grow with its input, or faster?
 *
 * For each shape (an input that can be made N units big, and the operation run on it) it
 * times the operation at 1x, 10x and 100x the shape's base size and prints the cost and
 * the ratio between steps. A near-linear operation shows ratios near 10; a quadratic one
 * near 100 (issue 10 s4: decoding 80,000 unknown fields took 35 s).
 *
 * To add a shape: write a builder (units -> input), a runner (input -> one operation) and
 * a destructor, and add a row to `shapes` below (or call scaling_row with your own).
 *
 * Timing: CLOCK_MONOTONIC; each size is repeated until about --ms milliseconds have passed,
 * best of three. Usage: odm_bench_scaling [--ms N] [--only NAME] */
#include <odm/odm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
   const char *name;
   const char *unit;                  /* what one unit of input is */
   size_t base;                       /* units at 1x */
   void *(*build) (size_t units);     /* makes the input */
   void (*run) (void *input);         /* the operation, once */
   void (*destroy) (void *input);
} scaling_shape_t;

static double target_ms = 200;
static volatile size_t sink;

static double
now_ns (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Best-of-three cost of one run of SHAPE on UNITS, in ns. */
static double
time_one (const scaling_shape_t *shape, size_t units)
{
   void *input = shape->build (units);
   double best = 0;
   int r;
   for (r = 0; r < 3; r++) {
      double start = now_ns (), elapsed;
      size_t n = 0;
      do {
         shape->run (input);
         n++;
         elapsed = now_ns () - start;
      } while (elapsed < target_ms * 1e6 / 3);
      if (r == 0 || elapsed / (double) n < best) {
         best = elapsed / (double) n;
      }
   }
   shape->destroy (input);
   return best;
}

/* Prints one row: cost at 1x, 10x, 100x and the two ratios. */
static void
scaling_row (const scaling_shape_t *shape)
{
   double t[3];
   size_t units = shape->base;
   int i;
   for (i = 0; i < 3; i++, units *= 10) {
      t[i] = time_one (shape, units);
   }
   printf ("%-34s %9zu %-8s %12.0f %12.0f %14.0f %7.1f %7.1f\n", shape->name, shape->base, shape->unit, t[0], t[1], t[2],
           t[1] / t[0], t[2] / t[1]);
   fflush (stdout);
}

/* ------------------------------------------------------------------ shapes */

/* A chat session with its required fields and UNITS unknown fields. */
static void *
build_unknown_fields (size_t units)
{
   bson_t *b = BCON_NEW ("sessionId", "s", "name", "n");
   size_t i;
   char key[32];
   for (i = 0; i < units; i++) {
      int n = bson_snprintf (key, sizeof key, "field%zu", i);
      bson_append_int32 (b, key, n, (int32_t) i);
   }
   return b;
}

static void
destroy_bson (void *input)
{
   bson_destroy (input);
}

static void
run_decode (void *input)
{
   odm_chat_session_t s;
   bson_error_t err;
   if (!odm_chat_session_from_bson (input, &s, 0, &err)) {
      fprintf (stderr, "decode failed: %s\n", err.message);
      exit (1);
   }
   sink += s._extra ? s._extra->len : 0;
   odm_chat_session_cleanup (&s);
}

/* Decoded once; the encode is timed. */
typedef struct {
   odm_chat_session_t s;
} decoded_t;

static void *
build_decoded_unknown_fields (size_t units)
{
   bson_t *b = build_unknown_fields (units);
   decoded_t *d = bson_malloc0 (sizeof *d);
   if (!odm_chat_session_from_bson (b, &d->s, 0, NULL)) {
      exit (1);
   }
   bson_destroy (b);
   return d;
}

static void
run_encode (void *input)
{
   decoded_t *d = input;
   bson_t out;
   bson_error_t err;
   if (!odm_chat_session_to_bson (&d->s, &out, &err)) {
      fprintf (stderr, "encode failed: %s\n", err.message);
      exit (1);
   }
   sink += out.len;
   bson_destroy (&out);
}

static void
destroy_decoded (void *input)
{
   decoded_t *d = input;
   odm_chat_session_cleanup (&d->s);
   bson_free (d);
}

/* The JSON text of build_unknown_fields, for the Extended JSON reader. */
static void *
build_json_unknown_fields (size_t units)
{
   bson_t *b = build_unknown_fields (units);
   char *json = bson_as_canonical_extended_json (b, NULL);
   bson_destroy (b);
   return json;
}

static void
run_json (void *input)
{
   bson_t b;
   bson_error_t err;
   if (!odm_json_to_bson (input, strlen (input), &b, &err)) {
      fprintf (stderr, "json failed: %s\n", err.message);
      exit (1);
   }
   sink += b.len;
   bson_destroy (&b);
}

static void
destroy_free (void *input)
{
   bson_free (input);
}

/* A transaction whose mixed metadata is an array of UNITS small documents. */
static void *
build_mixed_array (size_t units)
{
   bson_t *b = bson_new (), arr, item;
   size_t i;
   BSON_APPEND_UTF8 (b, "transactionId", "t");
   BSON_APPEND_ARRAY_BEGIN (b, "metadata", &arr);
   for (i = 0; i < units; i++) {
      char buf[16];
      const char *k;
      bson_uint32_to_string ((uint32_t) i, &k, buf, sizeof buf);
      BSON_APPEND_DOCUMENT_BEGIN (&arr, k, &item);
      BSON_APPEND_UTF8 (&item, "s", "h\xc3\xa9llo");
      BSON_APPEND_INT32 (&item, "n", (int32_t) i);
      bson_append_document_end (&arr, &item);
   }
   bson_append_array_end (b, &arr);
   return b;
}

static void
run_decode_transaction (void *input)
{
   odm_transaction_t t;
   bson_error_t err;
   if (!odm_transaction_from_bson (input, &t, 0, &err)) {
      fprintf (stderr, "decode failed: %s\n", err.message);
      exit (1);
   }
   sink += t.metadata.value.v_doc.data_len;
   odm_transaction_cleanup (&t);
}

static const scaling_shape_t shapes[] = {
   {"decode: unknown fields", "fields", 800, build_unknown_fields, run_decode, destroy_bson},
   {"encode: unknown fields", "fields", 800, build_decoded_unknown_fields, run_encode, destroy_decoded},
   {"json reader: unknown fields", "fields", 800, build_json_unknown_fields, run_json, destroy_free},
   {"decode: mixed array", "items", 800, build_mixed_array, run_decode_transaction, destroy_bson},
};

int
main (int argc, char **argv)
{
   const char *only = NULL;
   size_t i;
   int a;
   for (a = 1; a < argc; a++) {
      if (!strcmp (argv[a], "--ms") && a + 1 < argc) {
         target_ms = atof (argv[++a]);
      } else if (!strcmp (argv[a], "--only") && a + 1 < argc) {
         only = argv[++a];
      } else {
         fprintf (stderr, "usage: odm_bench_scaling [--ms N] [--only NAME]\n");
         return 2;
      }
   }
   printf ("%-34s %9s %-8s %12s %12s %14s %7s %7s\n", "shape", "1x", "unit", "ns at 1x", "ns at 10x", "ns at 100x",
           "10x/1x", "100x/10x");
   for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
      if (!only || strstr (shapes[i].name, only)) {
         scaling_row (&shapes[i]);
      }
   }
   return 0;
}
