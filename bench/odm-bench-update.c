/* odm_bench_update: odm_update against raw libmongoc update_one, side by side, and how the
 * update engine's cost grows with its input.
 *
 *   odm_bench_update --uri URI [--threads 8] [--ops 500]   contention on one document
 *   odm_bench_update --scaling                             no server: cost at 1x, 10x, 100x
 *
 * Contention: THREADS threads each send OPS updates to the same community_posts
 * document, first through raw mongoc_collection_update_one, then through odm_update,
 * and the table prints throughput, the ratio, ODM_ERROR_CONFLICT counts and whether every
 * acknowledged write is in the stored document:
 *   $inc stats.views        direct path (one round trip, the server applies it)
 *   $push tags              direct path, element rules checked before sending
 *   $push attachments       checked path (a subdocument): read, apply, validate, write
 * Scaling: odm_update_apply (check, apply, validate; the checked path without its round
 * trips) on inputs 10 and 100 times larger; a near-linear cost gives ratios near 10. */
#include <mongoc/mongoc.h>
#include <odm/odm.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double
now_s (void)
{
   struct timespec ts;
   clock_gettime (CLOCK_MONOTONIC, &ts);
   return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static const char *const doc_json =
   "{\"_id\": {\"$oid\": \"64b0000000000000000c0001\"}, \"authorId\": {\"$oid\": \"64b0000000000000000000a1\"}, "
   "\"title\": \"t\", \"content\": \"c\", \"category\": \"news\", \"status\": \"draft\", \"stats\": {\"views\": 0}, \"__v\": 0}";

typedef enum { K_INC, K_TAG, K_ATTACH } kind_t;

typedef struct {
   odm_client_t *odm;
   mongoc_client_pool_t *pool;
   const char *db;
   bool raw;
   kind_t kind;
   int id, ops;
   int ok, conflicts, errors;
   bool *acked;
} worker_t;

static void
update_for (kind_t kind, int id, int i, char *buf, size_t n)
{
   switch (kind) {
   case K_INC:
      bson_snprintf (buf, n, "{\"$inc\": {\"stats.views\": 1}}");
      break;
   case K_TAG:
      bson_snprintf (buf, n, "{\"$push\": {\"tags\": \"t%d-%d\"}}", id, i);
      break;
   case K_ATTACH:
      bson_snprintf (buf, n, "{\"$push\": {\"attachments\": {\"url\": \"https://x.test/%d/%d\", \"name\": \"n\"}}}", id, i);
      break;
   }
}

static void *
work (void *arg)
{
   worker_t *w = arg;
   bson_t *filter = bson_new_from_json ((const uint8_t *) "{\"_id\": {\"$oid\": \"64b0000000000000000c0001\"}}", -1, NULL);
   int i;
   for (i = 0; i < w->ops; i++) {
      char text[256];
      bson_t *u;
      bson_error_t err;
      bool ok;
      update_for (w->kind, w->id, i, text, sizeof text);
      u = bson_new_from_json ((const uint8_t *) text, -1, NULL);
      if (w->raw) {
         mongoc_client_t *mc = mongoc_client_pool_pop (w->pool);
         mongoc_collection_t *coll = mongoc_client_get_collection (mc, w->db, "community_posts");
         ok = mongoc_collection_update_one (coll, filter, u, NULL, NULL, &err);
         mongoc_collection_destroy (coll);
         mongoc_client_pool_push (w->pool, mc);
      } else {
         odm_violations_t v;
         ok = odm_update (w->odm, &odm_community_post_schema, filter, u, NULL, NULL, &v, &err);
         odm_violations_cleanup (&v);
      }
      if (ok) {
         w->ok++;
         w->acked[i] = true;
      } else if (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_CONFLICT) {
         w->conflicts++;
      } else {
         w->errors++;
         if (w->errors == 1) {
            fprintf (stderr, "odm_bench_update: %s\n", err.message);
         }
      }
      bson_destroy (u);
   }
   bson_destroy (filter);
   return NULL;
}

static bool
array_has (const bson_t *doc, const char *path, const char *field, const char *value)
{
   bson_iter_t it, arr;
   if (!bson_iter_init (&it, doc) || !bson_iter_find_descendant (&it, path, &it) || !bson_iter_recurse (&it, &arr)) {
      return false;
   }
   while (bson_iter_next (&arr)) {
      bson_iter_t sub;
      if (field ? (bson_iter_recurse (&arr, &sub) && bson_iter_find (&sub, field) && BSON_ITER_HOLDS_UTF8 (&sub) &&
                   !strcmp (bson_iter_utf8 (&sub, NULL), value))
                : (BSON_ITER_HOLDS_UTF8 (&arr) && !strcmp (bson_iter_utf8 (&arr, NULL), value))) {
         return true;
      }
   }
   return false;
}

typedef struct {
   double ops_per_s;
   int ok, conflicts, errors, lost;
} run_t;

static run_t
run (odm_client_t *odm, mongoc_client_pool_t *pool, const char *db, bool raw, kind_t kind, int threads, int ops)
{
   worker_t *w = calloc ((size_t) threads, sizeof *w);
   pthread_t *t = calloc ((size_t) threads, sizeof *t);
   mongoc_client_t *mc = mongoc_client_pool_pop (pool);
   mongoc_collection_t *coll = mongoc_client_get_collection (mc, db, "community_posts");
   bson_t *doc = bson_new_from_json ((const uint8_t *) doc_json, -1, NULL), filter = BSON_INITIALIZER;
   mongoc_cursor_t *cur;
   const bson_t *stored = NULL;
   run_t r = {0};
   double t0;
   int i, k;

   mongoc_collection_drop (coll, NULL);
   mongoc_collection_insert_one (coll, doc, NULL, NULL, NULL);
   t0 = now_s ();
   for (i = 0; i < threads; i++) {
      w[i] = (worker_t){.odm = odm, .pool = pool, .db = db, .raw = raw, .kind = kind, .id = i, .ops = ops};
      w[i].acked = calloc ((size_t) ops, sizeof (bool));
      pthread_create (&t[i], NULL, work, &w[i]);
   }
   for (i = 0; i < threads; i++) {
      pthread_join (t[i], NULL);
   }
   r.ops_per_s = (double) threads * ops / (now_s () - t0);
   cur = mongoc_collection_find_with_opts (coll, &filter, NULL, NULL);
   mongoc_cursor_next (cur, &stored);
   for (i = 0; i < threads; i++) {
      r.ok += w[i].ok;
      r.conflicts += w[i].conflicts;
      r.errors += w[i].errors;
      for (k = 0; k < ops && stored; k++) {
         char v[64];
         if (!w[i].acked[k] || kind == K_INC) {
            continue;
         }
         if (kind == K_TAG) {
            bson_snprintf (v, sizeof v, "t%d-%d", i, k);
            r.lost += !array_has (stored, "tags", NULL, v);
         } else {
            bson_snprintf (v, sizeof v, "https://x.test/%d/%d", i, k);
            r.lost += !array_has (stored, "attachments", "url", v);
         }
      }
      free (w[i].acked);
   }
   if (kind == K_INC && stored) {
      bson_iter_t it;
      if (bson_iter_init (&it, stored) && bson_iter_find_descendant (&it, "stats.views", &it)) {
         r.lost += abs (r.ok - (int) bson_iter_as_int64 (&it));
      }
   }
   mongoc_cursor_destroy (cur);
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (pool, mc);
   bson_destroy (doc);
   free (w);
   free (t);
   return r;
}

static int
contention (const char *uri, int threads, int ops)
{
   bson_error_t err;
   odm_client_t *odm = odm_client_new (uri, &err);
   mongoc_uri_t *u;
   mongoc_client_pool_t *pool;
   const char *names[] = {"$inc stats.views (direct)", "$push tags (direct)", "$push attachments (checked)"};
   kind_t k;
   if (!odm) {
      fprintf (stderr, "odm_bench_update: %s\n", err.message);
      return 2;
   }
   u = mongoc_uri_new (uri);
   pool = mongoc_client_pool_new (u);
   mongoc_client_pool_set_error_api (pool, 2);
   printf ("odm_update against raw update_one: %d threads x %d updates on one document\n", threads, ops);
   printf ("%-30s %12s %12s %7s %10s %6s %6s\n", "update", "raw ops/s", "odm ops/s", "odm/raw", "conflicts", "lost", "raw lost");
   for (k = K_INC; k <= K_ATTACH; k++) {
      run_t raw = run (odm, pool, odm_client_db_name (odm), true, k, threads, ops);
      run_t o = run (odm, pool, odm_client_db_name (odm), false, k, threads, ops);
      printf ("%-30s %12.0f %12.0f %6.0f%% %5d/%-5d %6d %6d\n", names[k], raw.ops_per_s, o.ops_per_s,
              100.0 * o.ops_per_s / raw.ops_per_s, o.conflicts, threads * ops, o.lost, raw.lost);
   }
   mongoc_client_pool_destroy (pool);
   mongoc_uri_destroy (u);
   odm_client_destroy (odm);
   return 0;
}

/* ------------------------------------------------------------------ scaling */

typedef void (*shape_fn) (int n, bson_t *stored, bson_t *update);

static void
shape_add_to_set (int n, bson_t *stored, bson_t *update)
{
   bson_t op, f, list;
   int i;
   bson_t *d = bson_new_from_json ((const uint8_t *) doc_json, -1, NULL);
   bson_copy_to (d, stored);
   bson_destroy (d);
   bson_init (update);
   BSON_APPEND_DOCUMENT_BEGIN (update, "$addToSet", &op);
   BSON_APPEND_DOCUMENT_BEGIN (&op, "tags", &f);
   BSON_APPEND_ARRAY_BEGIN (&f, "$each", &list);
   for (i = 0; i < n; i++) {
      char k[16], v[32];
      bson_snprintf (k, sizeof k, "%d", i);
      bson_snprintf (v, sizeof v, "t%d", i % (n / 2 + 1));
      BSON_APPEND_UTF8 (&list, k, v);
   }
   bson_append_array_end (&f, &list);
   bson_append_document_end (&op, &f);
   bson_append_document_end (update, &op);
}

/* An update of one field of a document whose array holds N elements. */
static void
shape_big_array (int n, bson_t *stored, bson_t *update)
{
   bson_t *d = bson_new_from_json ((const uint8_t *) doc_json, -1, NULL), arr, op;
   int i;
   bson_copy_to (d, stored);
   bson_destroy (d);
   BSON_APPEND_ARRAY_BEGIN (stored, "tags", &arr);
   for (i = 0; i < n; i++) {
      char k[16], v[32];
      bson_snprintf (k, sizeof k, "%d", i);
      bson_snprintf (v, sizeof v, "tag%d", i);
      BSON_APPEND_UTF8 (&arr, k, v);
   }
   bson_append_array_end (stored, &arr);
   bson_init (update);
   BSON_APPEND_DOCUMENT_BEGIN (update, "$push", &op);
   BSON_APPEND_UTF8 (&op, "tags", "new");
   bson_append_document_end (update, &op);
}

/* $set of N paths below a mixed field ($set metadata.k0 ... metadata.kN). */
static void
shape_many_paths (int n, bson_t *stored, bson_t *update)
{
   bson_t *d = bson_new_from_json ((const uint8_t *) "{\"_id\": {\"$oid\": \"64b0000000000000000d0001\"}, \"transactionId\": \"t\", "
                                                     "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"type\": \"donation\", "
                                                     "\"amount\": 5, \"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}}",
                                   -1, NULL);
   bson_t op;
   int i;
   bson_copy_to (d, stored);
   bson_destroy (d);
   bson_init (update);
   BSON_APPEND_DOCUMENT_BEGIN (update, "$set", &op);
   for (i = 0; i < n; i++) {
      char k[32];
      bson_snprintf (k, sizeof k, "metadata.k%d", i);
      BSON_APPEND_INT32 (&op, k, i);
   }
   bson_append_document_end (update, &op);
}

/* An index path far past the end of an array ($set tags.N): refused, at constant cost. */
static void
shape_index_past_end (int n, bson_t *stored, bson_t *update)
{
   bson_t *d = bson_new_from_json ((const uint8_t *) doc_json, -1, NULL), op;
   char k[32];
   bson_copy_to (d, stored);
   bson_destroy (d);
   bson_init (update);
   BSON_APPEND_DOCUMENT_BEGIN (update, "$set", &op);
   bson_snprintf (k, sizeof k, "tags.%d", n * 10000);
   BSON_APPEND_UTF8 (&op, k, "x");
   bson_append_document_end (update, &op);
}

static double
time_shape (const odm_schema_t *schema, shape_fn shape, int n)
{
   bson_t stored, update, out;
   odm_violations_t v;
   bson_error_t err;
   double t0, best = 1e9;
   int r, reps = 3;
   shape (n, &stored, &update);
   for (r = 0; r < reps; r++) {
      t0 = now_s ();
      odm_update_apply (schema, &stored, &update, NULL, &out, &v, &err);
      if (now_s () - t0 < best) {
         best = now_s () - t0;
      }
      bson_destroy (&out);
      odm_violations_cleanup (&v);
   }
   bson_destroy (&stored);
   bson_destroy (&update);
   return best;
}

static int
scaling (void)
{
   struct {
      const char *name;
      const odm_schema_t *schema;
      shape_fn fn;
      int base;
   } shapes[] = {{"$addToSet of N items", &odm_community_post_schema, shape_add_to_set, 80},
                 {"$push onto an N-element array", &odm_community_post_schema, shape_big_array, 1000},
                 {"$set of N paths in a mixed field", &odm_transaction_schema, shape_many_paths, 100},
                 {"$set tags.(N*10000) (refused)", &odm_community_post_schema, shape_index_past_end, 100}};
   size_t i;
   printf ("update engine cost (odm_update_apply: check, apply, validate), best of 3\n");
   printf ("%-34s %8s %10s %10s %10s %7s %7s\n", "shape", "N", "1x", "10x", "100x", "10x/1x", "100x/10x");
   for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
      double a = time_shape (shapes[i].schema, shapes[i].fn, shapes[i].base);
      double b = time_shape (shapes[i].schema, shapes[i].fn, shapes[i].base * 10);
      double c = time_shape (shapes[i].schema, shapes[i].fn, shapes[i].base * 100);
      printf ("%-34s %8d %8.3fms %8.3fms %8.3fms %7.1f %7.1f\n", shapes[i].name, shapes[i].base, a * 1e3, b * 1e3, c * 1e3,
              b / a, c / b);
   }
   return 0;
}

int
main (int argc, char **argv)
{
   const char *uri = NULL;
   int threads = 8, ops = 500, i;
   bool scale = false;
   for (i = 1; i < argc; i++) {
      if (!strcmp (argv[i], "--uri") && i + 1 < argc) {
         uri = argv[++i];
      } else if (!strcmp (argv[i], "--threads") && i + 1 < argc) {
         threads = atoi (argv[++i]);
      } else if (!strcmp (argv[i], "--ops") && i + 1 < argc) {
         ops = atoi (argv[++i]);
      } else if (!strcmp (argv[i], "--scaling")) {
         scale = true;
      } else {
         fprintf (stderr, "usage: odm_bench_update --uri URI [--threads 8] [--ops 500] | --scaling\n");
         return 2;
      }
   }
   if (scale) {
      return scaling ();
   }
   if (!uri || threads < 1 || ops < 1) {
      fprintf (stderr, "usage: odm_bench_update --uri URI [--threads 8] [--ops 500] | --scaling\n");
      return 2;
   }
   return contention (uri, threads, ops);
}
