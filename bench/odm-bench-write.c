/* odm_bench_write: the ODM write path against raw libmongoc on the same server.
 *
 *   odm_bench_write --uri URI [--n 2000] [--rounds 5] [--json]
 *
 * Both sides insert the same N chat_sessions documents (built from the full fixture with
 * distinct _id and sessionId) into an empty collection:
 *   raw:  documents prepared and encoded beforehand, then mongoc_collection_insert_many /
 *         insert_one: the server round trips alone;
 *   odm:  odm_insert_many / odm_insert_one on the structs: defaults, derivations,
 *         timestamps, every rule, encoding, key checks, then the same driver call.
 * Rounds alternate raw and odm; the best round of each is printed with the ratio. */
#include <mongoc/mongoc.h>
#include <odm/odm.h>

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

static void
drop (mongoc_collection_t *coll)
{
   mongoc_collection_drop (coll, NULL);
}

static bson_t *
load_fixture (const char *path)
{
   FILE *f = fopen (path, "rb");
   char *text;
   long n;
   bson_error_t err;
   bson_t *b;
   if (!f) {
      fprintf (stderr, "odm_bench_write: %s: cannot open\n", path);
      exit (2);
   }
   fseek (f, 0, SEEK_END);
   n = ftell (f);
   fseek (f, 0, SEEK_SET);
   text = malloc ((size_t) n + 1);
   if (fread (text, 1, (size_t) n, f) != (size_t) n) {
      exit (2);
   }
   text[n] = 0;
   fclose (f);
   b = bson_new_from_json ((const uint8_t *) text, n, &err);
   free (text);
   if (!b) {
      fprintf (stderr, "odm_bench_write: %s: %s\n", path, err.message);
      exit (2);
   }
   return b;
}

int
main (int argc, char **argv)
{
   const char *uri = NULL;
   size_t n = 2000, i;
   int rounds = 5, r;
   bool json = false;
   odm_client_t *client;
   mongoc_client_t *mc;
   mongoc_collection_t *raw_coll, *odm_coll;
   bson_error_t err;
   bson_t *fixture;
   odm_chat_session_t *docs, *work;
   bson_t *encoded;
   const bson_t **ptrs;
   double best_raw_many = 1e9, best_odm_many = 1e9, best_raw_one = 1e9, best_odm_one = 1e9;
   size_t n_one;
   odm_prepare_opts_t po = {.now_ms = 1750000000000};
   odm_write_opts_t wo = {.size = sizeof (odm_write_opts_t), .now_ms = 1750000000000};

   for (i = 1; i < (size_t) argc; i++) {
      if (!strcmp (argv[i], "--uri") && i + 1 < (size_t) argc) {
         uri = argv[++i];
      } else if (!strcmp (argv[i], "--n") && i + 1 < (size_t) argc) {
         n = (size_t) atol (argv[++i]);
      } else if (!strcmp (argv[i], "--rounds") && i + 1 < (size_t) argc) {
         rounds = atoi (argv[++i]);
      } else if (!strcmp (argv[i], "--json")) {
         json = true;
      } else {
         fprintf (stderr, "usage: odm_bench_write --uri URI [--n N] [--rounds R] [--json]\n");
         return 2;
      }
   }
   if (!uri || n == 0 || rounds < 1) {
      fprintf (stderr, "usage: odm_bench_write --uri URI [--n N] [--rounds R] [--json]\n");
      return 2;
   }
   n_one = n / 4 ? n / 4 : 1;
   if (!(client = odm_client_new (uri, &err)) || !odm_client_ping (client, &err)) {
      fprintf (stderr, "odm_bench_write: %s\n", err.message);
      return 2;
   }
   mc = mongoc_client_pool_pop (odm_client_pool (client));
   raw_coll = mongoc_client_get_collection (mc, odm_client_db_name (client), "bench_raw");
   odm_coll = mongoc_client_get_collection (mc, odm_client_db_name (client), odm_chat_session_schema.collection);

   fixture = load_fixture (ODM_BENCH_DATA_DIR "/chat_sessions.full.json");
   docs = calloc (n, sizeof *docs);
   work = calloc (n, sizeof *work);
   encoded = calloc (n, sizeof *encoded);
   ptrs = calloc (n, sizeof *ptrs);
   for (i = 0; i < n; i++) {
      odm_violations_t v;
      if (!odm_chat_session_from_bson (fixture, &docs[i], 0, &err)) {
         fprintf (stderr, "odm_bench_write: fixture: %s\n", err.message);
         return 2;
      }
      bson_oid_init (&docs[i]._id, NULL);
      bson_free (docs[i].sessionId);
      docs[i].sessionId = bson_strdup_printf ("bench-%zu", i);
      /* The raw side sends exactly what the ODM side will send. */
      odm_copy (&odm_chat_session_schema, &docs[i], &work[i]);
      odm_chat_session_prepare (&work[i], &po, &v);
      odm_violations_cleanup (&v);
      odm_chat_session_to_bson (&work[i], &encoded[i], &err);
      ptrs[i] = &encoded[i];
      odm_chat_session_cleanup (&work[i]);
   }

   for (r = 0; r < rounds; r++) {
      double t;
      /* raw insert_many */
      drop (raw_coll);
      t = now_s ();
      if (!mongoc_collection_insert_many (raw_coll, ptrs, n, NULL, NULL, &err)) {
         fprintf (stderr, "raw insert_many: %s\n", err.message);
         return 1;
      }
      t = now_s () - t;
      best_raw_many = t < best_raw_many ? t : best_raw_many;
      /* odm insert_many on fresh copies of the structs (copying is not timed) */
      drop (odm_coll);
      for (i = 0; i < n; i++) {
         odm_copy (&odm_chat_session_schema, &docs[i], &work[i]);
      }
      t = now_s ();
      if (!odm_insert_many (client, &odm_chat_session_schema, work, n, &wo, NULL, &err)) {
         fprintf (stderr, "odm insert_many: %s\n", err.message);
         return 1;
      }
      t = now_s () - t;
      best_odm_many = t < best_odm_many ? t : best_odm_many;
      for (i = 0; i < n; i++) {
         odm_chat_session_cleanup (&work[i]);
      }
      /* one at a time */
      drop (raw_coll);
      t = now_s ();
      for (i = 0; i < n_one; i++) {
         if (!mongoc_collection_insert_one (raw_coll, ptrs[i], NULL, NULL, &err)) {
            fprintf (stderr, "raw insert_one: %s\n", err.message);
            return 1;
         }
      }
      t = now_s () - t;
      best_raw_one = t < best_raw_one ? t : best_raw_one;
      drop (odm_coll);
      for (i = 0; i < n_one; i++) {
         odm_copy (&odm_chat_session_schema, &docs[i], &work[i]);
      }
      t = now_s ();
      for (i = 0; i < n_one; i++) {
         if (!odm_insert_one (client, &odm_chat_session_schema, &work[i], &wo, NULL, &err)) {
            fprintf (stderr, "odm insert_one: %s\n", err.message);
            return 1;
         }
      }
      t = now_s () - t;
      best_odm_one = t < best_odm_one ? t : best_odm_one;
      for (i = 0; i < n_one; i++) {
         odm_chat_session_cleanup (&work[i]);
      }
   }

   if (json) {
      printf ("{\"op\":\"insert_many\",\"n\":%zu,\"raw_ns_per_doc\":%.1f,\"odm_ns_per_doc\":%.1f,\"ratio\":%.3f}\n", n,
              best_raw_many * 1e9 / (double) n, best_odm_many * 1e9 / (double) n, best_odm_many / best_raw_many);
      printf ("{\"op\":\"insert_one\",\"n\":%zu,\"raw_ns_per_doc\":%.1f,\"odm_ns_per_doc\":%.1f,\"ratio\":%.3f}\n", n_one,
              best_raw_one * 1e9 / (double) n_one, best_odm_one * 1e9 / (double) n_one, best_odm_one / best_raw_one);
   } else {
      printf ("# odm_bench_write: chat_sessions full documents, best of %d rounds, server %s\n", rounds, uri);
      printf ("%-12s %8s %14s %14s %10s %10s %8s\n", "op", "docs", "raw ns/doc", "odm ns/doc", "raw doc/s", "odm doc/s", "odm/raw");
      printf ("%-12s %8zu %14.1f %14.1f %10.0f %10.0f %7.3fx\n", "insert_many", n, best_raw_many * 1e9 / (double) n,
              best_odm_many * 1e9 / (double) n, (double) n / best_raw_many, (double) n / best_odm_many,
              best_odm_many / best_raw_many);
      printf ("%-12s %8zu %14.1f %14.1f %10.0f %10.0f %7.3fx\n", "insert_one", n_one,
              best_raw_one * 1e9 / (double) n_one, best_odm_one * 1e9 / (double) n_one, (double) n_one / best_raw_one,
              (double) n_one / best_odm_one, best_odm_one / best_raw_one);
      printf ("# target (reported, not enforced): odm within 1.05x of raw libmongoc\n");
   }
   drop (raw_coll);
   drop (odm_coll);
   for (i = 0; i < n; i++) {
      odm_chat_session_cleanup (&docs[i]);
      bson_destroy (&encoded[i]);
   }
   free (docs);
   free (work);
   free (encoded);
   free (ptrs);
   bson_destroy (fixture);
   mongoc_collection_destroy (raw_coll);
   mongoc_collection_destroy (odm_coll);
   mongoc_client_pool_push (odm_client_pool (client), mc);
   odm_client_destroy (client);
   mongoc_cleanup ();
   return 0;
}
