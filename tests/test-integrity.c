/* Integrity against a real wire server: no acknowledged write lost under racing threads,
 * Mongoose's versionKey kept, updates that change only what they name, pre-existing
 * violations, upserts whose insert document is predicted, checked filters, a frozen
 * server. Run by scripts/live-tests.sh with ODM_TEST_URI (and ODM_TEST_SERVER_PID for the
 * frozen-server case). */
#include "test-util.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOW 1750000000000LL

static const char *
server (void)
{
   const char *s = getenv ("ODM_TEST_SERVER");
   return s ? s : "mongodb";
}

static bool
is_ferretdb (void)
{
   return strcmp (server (), "ferretdb") == 0;
}

static odm_client_t *
connect_or_fail (void)
{
   const char *uri = getenv ("ODM_TEST_URI");
   bson_error_t err;
   odm_client_t *c;
   ck_assert_msg (uri != NULL, "ODM_TEST_URI is not set (scripts/live-tests.sh sets it)");
   c = odm_client_new (uri, &err);
   ck_assert_msg (c != NULL, "%s", err.message);
   ck_assert_msg (odm_client_ping (c, &err), "ping: %s", err.message);
   return c;
}

static mongoc_collection_t *
raw_coll (odm_client_t *c, const char *name, mongoc_client_t **mc)
{
   *mc = mongoc_client_pool_pop (odm_client_pool (c));
   return mongoc_client_get_collection (*mc, odm_client_db_name (c), name);
}

static void
raw_release (odm_client_t *c, mongoc_collection_t *coll, mongoc_client_t *mc)
{
   mongoc_collection_destroy (coll);
   mongoc_client_pool_push (odm_client_pool (c), mc);
}

static void
drop (odm_client_t *c, const char *name)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = raw_coll (c, name, &mc);
   bson_error_t err;
   mongoc_collection_drop (coll, &err);
   raw_release (c, coll, mc);
}

static void
raw_insert (odm_client_t *c, const char *name, const char *json)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = raw_coll (c, name, &mc);
   bson_error_t err;
   bson_t *doc = bson_new_from_json ((const uint8_t *) json, -1, &err);
   ck_assert_msg (doc, "%s", err.message);
   ck_assert_msg (mongoc_collection_insert_one (coll, doc, NULL, NULL, &err), "%s", err.message);
   bson_destroy (doc);
   raw_release (c, coll, mc);
}

/* The stored document matching FILTER (JSON), or NULL. */
static bson_t *
raw_get (odm_client_t *c, const char *name, const char *filter_json)
{
   mongoc_client_t *mc;
   mongoc_collection_t *coll = raw_coll (c, name, &mc);
   bson_t *filter = bson_new_from_json ((const uint8_t *) filter_json, -1, NULL), *out = NULL;
   mongoc_cursor_t *cur = mongoc_collection_find_with_opts (coll, filter, NULL, NULL);
   const bson_t *d;
   if (mongoc_cursor_next (cur, &d)) {
      out = bson_copy (d);
   }
   mongoc_cursor_destroy (cur);
   bson_destroy (filter);
   raw_release (c, coll, mc);
   return out;
}

static bool
update_json (odm_client_t *c, const char *coll, const char *filter, const char *update, odm_update_opts_t *uo,
             odm_violations_t *v, bson_error_t *err)
{
   bson_t *f = bson_new_from_json ((const uint8_t *) filter, -1, NULL);
   bson_t *u = bson_new_from_json ((const uint8_t *) update, -1, NULL);
   int64_t matched;
   bool ok;
   ck_assert (f && u);
   ok = odm_update (c, odm_schema_find (coll), f, u, uo, &matched, v, err);
   bson_destroy (f);
   bson_destroy (u);
   return ok;
}

static int64_t
version_of (const bson_t *doc)
{
   bson_iter_t it;
   return bson_iter_init_find (&it, doc, "__v") ? bson_iter_as_int64 (&it) : -1;
}

/* ------------------------------------------------------------------ racing threads */

#define THREADS 8

typedef struct {
   odm_client_t *client;
   int id;
   int rounds;
   int inc_ok, inc_conflict, inc_other;
   int push_ok, push_conflict, push_other;   /* checked: attachments */
   int tag_ok, tag_conflict, tag_other;      /* direct: tags */
   bool *attach_acked;                       /* [rounds] */
   bool *tag_acked;
   char last_error[256];
} racer_t;

static const char *post_id = "{\"_id\": {\"$oid\": \"64b0000000000000000c0001\"}}";

static void *
race (void *arg)
{
   racer_t *r = arg;
   int i;
   for (i = 0; i < r->rounds; i++) {
      char upd[256];
      odm_violations_t v;
      bson_error_t err;
      odm_update_result_t res;
      odm_update_opts_t uo = {.size = sizeof (odm_update_opts_t), .result = &res};
      bool ok;
      int kind = (i + r->id) % 3;
      if (kind == 0) {
         ok = update_json (r->client, "community_posts", post_id, "{\"$inc\": {\"stats.views\": 1}}", &uo, &v, &err);
         if (ok) {
            r->inc_ok++;
         } else if (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_CONFLICT) {
            r->inc_conflict++;
         } else {
            r->inc_other++;
            bson_strncpy (r->last_error, err.message, sizeof r->last_error);
         }
      } else if (kind == 1) {
         bson_snprintf (upd, sizeof upd,
                        "{\"$push\": {\"attachments\": {\"url\": \"https://x.test/%d/%d\", \"name\": \"a%d\"}}}", r->id, i,
                        i);
         ok = update_json (r->client, "community_posts", post_id, upd, &uo, &v, &err);
         if (ok) {
            r->push_ok++;
            r->attach_acked[i] = true;
         } else if (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_CONFLICT) {
            r->push_conflict++;
         } else {
            r->push_other++;
            bson_strncpy (r->last_error, err.message, sizeof r->last_error);
         }
      } else {
         bson_snprintf (upd, sizeof upd, "{\"$push\": {\"tags\": \"t%d-%d\"}}", r->id, i);
         ok = update_json (r->client, "community_posts", post_id, upd, &uo, &v, &err);
         if (ok) {
            r->tag_ok++;
            r->tag_acked[i] = true;
         } else if (err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_CONFLICT) {
            r->tag_conflict++;
         } else {
            r->tag_other++;
            bson_strncpy (r->last_error, err.message, sizeof r->last_error);
         }
      }
      odm_violations_cleanup (&v);
      if (r->id == 0 && i == r->rounds / 2) {
         /* a checked update that adds top-level fields (status, and publishedAt derived) */
         /* A conflict is an acknowledged refusal, not a loss: the caller retries. */
         int tries = 0;
         do {
            ok = update_json (r->client, "community_posts", post_id, "{\"$set\": {\"status\": \"published\"}}", &uo, &v,
                              &err);
            odm_violations_cleanup (&v);
         } while (!ok && err.domain == ODM_ERROR_DOMAIN && err.code == ODM_ERROR_CONFLICT && ++tries < 50);
         ck_assert_msg (ok, "publish: %s", err.message);
      }
   }
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
      bson_iter_t el = arr;
      if (field) {
         bson_iter_t sub;
         if (bson_iter_recurse (&arr, &sub) && bson_iter_find (&sub, field) && BSON_ITER_HOLDS_UTF8 (&sub) &&
             !strcmp (bson_iter_utf8 (&sub, NULL), value)) {
            return true;
         }
      } else if (BSON_ITER_HOLDS_UTF8 (&el) && !strcmp (bson_iter_utf8 (&el, NULL), value)) {
         return true;
      }
   }
   return false;
}

START_TEST (test_racing_updates_lose_nothing)
{
   odm_client_t *c = connect_or_fail ();
   racer_t r[THREADS];
   pthread_t t[THREADS];
   int rounds = getenv ("ODM_TEST_RACE_ROUNDS") ? atoi (getenv ("ODM_TEST_RACE_ROUNDS")) : 45;
   int i, k, inc_ok = 0, direct_conflicts = 0, direct_total = 0, checked_conflicts = 0, lost = 0;
   bson_t *doc;
   bson_iter_t it;

   drop (c, "community_posts");
   raw_insert (c, "community_posts",
               "{\"_id\": {\"$oid\": \"64b0000000000000000c0001\"}, \"authorId\": {\"$oid\": \"64b0000000000000000000a1\"}, "
               "\"title\": \"t\", \"content\": \"c\", \"category\": \"news\", \"status\": \"draft\", "
               "\"stats\": {\"views\": 0}, \"__v\": 0}");
   memset (r, 0, sizeof r);
   for (i = 0; i < THREADS; i++) {
      r[i].client = c;
      r[i].id = i;
      r[i].rounds = rounds;
      r[i].attach_acked = bson_malloc0 ((size_t) rounds * sizeof (bool));
      r[i].tag_acked = bson_malloc0 ((size_t) rounds * sizeof (bool));
      pthread_create (&t[i], NULL, race, &r[i]);
   }
   for (i = 0; i < THREADS; i++) {
      pthread_join (t[i], NULL);
   }
   doc = raw_get (c, "community_posts", post_id);
   ck_assert (doc);
   for (i = 0; i < THREADS; i++) {
      ck_assert_msg (r[i].inc_other + r[i].push_other + r[i].tag_other == 0, "thread %d: %s", i, r[i].last_error);
      inc_ok += r[i].inc_ok;
      direct_conflicts += r[i].inc_conflict + r[i].tag_conflict;
      direct_total += r[i].inc_ok + r[i].inc_conflict + r[i].tag_ok + r[i].tag_conflict;
      checked_conflicts += r[i].push_conflict;
      for (k = 0; k < rounds; k++) {
         char v[64];
         if (r[i].attach_acked[k]) {
            bson_snprintf (v, sizeof v, "https://x.test/%d/%d", i, k);
            lost += !array_has (doc, "attachments", "url", v);
         }
         if (r[i].tag_acked[k]) {
            bson_snprintf (v, sizeof v, "t%d-%d", i, k);
            lost += !array_has (doc, "tags", NULL, v);
         }
      }
   }
   ck_assert (bson_iter_init (&it, doc) && bson_iter_find_descendant (&it, "stats.views", &it));
   if (bson_iter_as_int64 (&it) != inc_ok) {
      lost += abs (inc_ok - (int) bson_iter_as_int64 (&it));
   }
   lost += !bson_has_field (doc, "publishedAt");
   fprintf (stderr,
            "  racing updates on %s: %d threads x %d rounds; direct conflicts %d of %d, checked conflicts %d of %d; "
            "acknowledged writes lost: %d\n",
            server (), THREADS, rounds, direct_conflicts, direct_total, checked_conflicts,
            THREADS * rounds - direct_total, lost);
   if (is_ferretdb ()) {
      /* FerretDB v1 applies updates as read-modify-write without atomicity (docs/live.md):
       * concurrent acknowledged updates can be lost there, raw libmongoc's too. */
   } else {
      ck_assert_msg (lost == 0, "%d acknowledged writes lost", lost);
      ck_assert_msg (direct_conflicts * 100 < direct_total, "direct updates: %d conflicts of %d", direct_conflicts,
                     direct_total);
   }
   ck_assert_int_ge (version_of (doc), 1);
   for (i = 0; i < THREADS; i++) {
      bson_free (r[i].attach_acked);
      bson_free (r[i].tag_acked);
   }
   bson_destroy (doc);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ Mongoose's versionKey */

static const char *tx_id = "{\"_id\": {\"$oid\": \"64b0000000000000000d0001\"}}";

static void
insert_transaction (odm_client_t *c, const char *extra)
{
   char json[1024];
   bson_snprintf (json, sizeof json,
                  "{\"_id\": {\"$oid\": \"64b0000000000000000d0001\"}, \"transactionId\": \"tx-1\", "
                  "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"type\": \"donation\", \"amount\": 50, "
                  "\"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}%s}",
                  extra);
   raw_insert (c, "transactions", json);
}

START_TEST (test_version_key_contract)
{
   odm_client_t *c = connect_or_fail ();
   odm_violations_t v;
   bson_error_t err;
   bson_t *doc, *stale_filter, *stale_update, reply;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   bson_iter_t it;

   drop (c, "transactions");
   insert_transaction (c, ", \"refunds\": [{\"amount\": 5, \"reason\": \"other\"}], \"__v\": 0");

   /* libodm $push (checked) and $set (direct) each increment __v */
   ck_assert_msg (update_json (c, "transactions", tx_id, "{\"$push\": {\"refunds\": {\"amount\": 3, \"reason\": \"fraud\"}}}", NULL,
                               &v, &err),
                  "%s", err.message);
   odm_violations_cleanup (&v);
   doc = raw_get (c, "transactions", tx_id);
   ck_assert_int_eq (version_of (doc), 1);
   bson_destroy (doc);
   ck_assert_msg (update_json (c, "transactions", tx_id, "{\"$set\": {\"metadata.note\": \"n\"}}", NULL, &v, &err), "%s",
                  err.message);
   odm_violations_cleanup (&v);
   doc = raw_get (c, "transactions", tx_id);
   ck_assert_int_eq (version_of (doc), 2);
   bson_destroy (doc);

   /* A stale Mongoose save of the refunds array (its filter carries the __v it loaded,
    * 0) now matches nothing: Mongoose reports a VersionError instead of erasing a refund. */
   stale_filter = bson_new_from_json ((const uint8_t *) "{\"_id\": {\"$oid\": \"64b0000000000000000d0001\"}, \"__v\": 0}", -1, NULL);
   stale_update = bson_new_from_json (
      (const uint8_t *) "{\"$set\": {\"refunds\": [{\"amount\": 5, \"reason\": \"duplicate\"}]}, \"$inc\": {\"__v\": 1}}", -1, NULL);
   coll = raw_coll (c, "transactions", &mc);
   ck_assert (mongoc_collection_update_one (coll, stale_filter, stale_update, NULL, &reply, &err));
   ck_assert (bson_iter_init_find (&it, &reply, "matchedCount") && bson_iter_as_int64 (&it) == 0);
   bson_destroy (&reply);
   raw_release (c, coll, mc);
   bson_destroy (stale_filter);
   bson_destroy (stale_update);

   /* Mongoose's own increment goes through odm_update */
   ck_assert_msg (update_json (c, "transactions", tx_id, "{\"$inc\": {\"__v\": 1}}", NULL, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   doc = raw_get (c, "transactions", tx_id);
   ck_assert_int_eq (version_of (doc), 3);
   bson_destroy (doc);

   /* A save from a struct loaded before another write is refused, not silently applied. */
   {
      odm_transaction_t t, t2;
      bool found;
      bson_oid_t id;
      bson_oid_init_from_string (&id, "64b0000000000000000d0001");
      ck_assert (odm_transaction_get (c, &id, &t, &found, &err) && found);
      ck_assert (odm_transaction_get (c, &id, &t2, &found, &err) && found);
      bson_free (t.description);
      t.description = bson_strdup ("first");
      ck_assert_msg (odm_transaction_save (c, &t, &v, &err), "%s", err.message);
      odm_violations_cleanup (&v);
      bson_free (t2.description);
      t2.description = bson_strdup ("stale");
      ck_assert (!odm_transaction_save (c, &t2, &v, &err));
      ck_assert_uint_eq (err.code, ODM_ERROR_CONFLICT);
      odm_violations_cleanup (&v);
      /* the first struct now holds the stored version and can save again */
      bson_free (t.description);
      t.description = bson_strdup ("second");
      ck_assert_msg (odm_transaction_save (c, &t, &v, &err), "%s", err.message);
      odm_violations_cleanup (&v);
      odm_transaction_cleanup (&t);
      odm_transaction_cleanup (&t2);
   }
   doc = raw_get (c, "transactions", tx_id);
   ck_assert (bson_iter_init_find (&it, doc, "description") && !strcmp (bson_iter_utf8 (&it, NULL), "second"));
   ck_assert_int_eq (version_of (doc), 5);
   bson_destroy (doc);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ only what it names */

START_TEST (test_update_changes_only_what_it_names)
{
   odm_client_t *c = connect_or_fail ();
   odm_violations_t v;
   bson_error_t err;
   bson_t *before, *after;
   bson_iter_t a, b;
   const char *updates[] = {"{\"$set\": {\"metadata.note\": \"n\"}}",                              /* direct */
                            "{\"$push\": {\"refunds\": {\"amount\": 1, \"reason\": \"other\"}}}", /* checked */
                            "{\"$set\": {\"status\": \"completed\"}}"};
   size_t k;

   drop (c, "transactions");
   /* another service's document: an int64, nested fields out of spec order */
   insert_transaction (c, ", \"fees\": {\"platform\": {\"$numberLong\": \"2\"}, \"processing\": 1.5}, "
                          "\"tax\": {\"amount\": {\"$numberLong\": \"4\"}, \"rate\": 0.2}, \"__v\": 0");
   for (k = 0; k < sizeof updates / sizeof updates[0]; k++) {
      before = raw_get (c, "transactions", tx_id);
      ck_assert_msg (update_json (c, "transactions", tx_id, updates[k], NULL, &v, &err), "%s: %s", updates[k], err.message);
      odm_violations_cleanup (&v);
      after = raw_get (c, "transactions", tx_id);
      ck_assert (bson_iter_init (&a, before));
      while (bson_iter_next (&a)) {
         const char *key = bson_iter_key (&a);
         bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
         if (strstr (updates[k], key) || !strcmp (key, "__v") || !strcmp (key, "updatedAt")) {
            continue;
         }
         ck_assert_msg (bson_iter_init_find (&b, after, key), "%s: %s dropped", updates[k], key);
         bson_append_iter (&x, "v", 1, &a);
         bson_append_iter (&y, "v", 1, &b);
         ck_assert_msg (bson_equal (&x, &y), "%s: untouched field %s changed", updates[k], key);
         bson_destroy (&x);
         bson_destroy (&y);
      }
      ck_assert_int_eq (version_of (after), version_of (before) + 1);
      bson_destroy (before);
      bson_destroy (after);
   }
   odm_client_destroy (c);
}
END_TEST

START_TEST (test_preexisting_violation_policy)
{
   odm_client_t *c = connect_or_fail ();
   odm_violations_t v;
   bson_error_t err;
   bson_t *doc;
   bson_iter_t it;

   drop (c, "transactions");
   /* a refund above the amount, stored by a writer that skipped the hooks */
   insert_transaction (c, ", \"refunds\": [{\"amount\": 80, \"reason\": \"other\"}], \"__v\": 0");
   /* a direct update never reads the document: nothing to report */
   ck_assert_msg (update_json (c, "transactions", tx_id, "{\"$set\": {\"status\": \"disputed\"}}", NULL, &v, &err), "%s",
                  err.message);
   odm_violations_cleanup (&v);
   /* a checked one validates the whole result: the old violation is reported, not blocking */
   ck_assert_msg (update_json (c, "transactions", tx_id, "{\"$set\": {\"paymentMethod\": {\"type\": \"paypal\"}}}", NULL, &v,
                               &err),
                  "%s", err.message);
   ck_assert (odm_test_has_violation (&v, "refunds", "sum_not_greater", NULL));
   odm_violations_cleanup (&v);
   ck_assert (!update_json (c, "transactions", tx_id, "{\"$push\": {\"refunds\": {\"amount\": 1, \"reason\": \"other\"}}}",
                            NULL, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_VALIDATION);
   odm_violations_cleanup (&v);
   doc = raw_get (c, "transactions", tx_id);
   ck_assert (bson_iter_init_find (&it, doc, "status") && !strcmp (bson_iter_utf8 (&it, NULL), "disputed"));
   ck_assert (bson_iter_init (&it, doc) && !bson_iter_find_descendant (&it, "refunds.1", &it));
   bson_destroy (doc);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ upserts */

START_TEST (test_upsert_insert_is_predicted)
{
   odm_client_t *c = connect_or_fail ();
   odm_violations_t v;
   bson_error_t err;
   odm_update_opts_t uo = {.size = sizeof (odm_update_opts_t), .upsert = true, .now_ms = NOW};
   bson_t *doc;
   odm_transaction_t t;

   drop (c, "transactions");
   /* Equalities given inside $and and a one-branch $or are the server's too. */
   ck_assert_msg (update_json (c, "transactions",
                               "{\"$and\": [{\"transactionId\": \"up-1\"}, {\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}}], "
                               "\"$or\": [{\"type\": \"donation\"}]}",
                               "{\"$set\": {\"amount\": 10, \"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}}}",
                               &uo, &v, &err),
                  "%s", err.message);
   odm_violations_cleanup (&v);
   doc = raw_get (c, "transactions", "{\"transactionId\": \"up-1\"}");
   ck_assert (doc);
   /* every field is the spec's (or the version key); defaults, createdAt and __v are there */
   {
      bson_iter_t it;
      const odm_schema_t *s = odm_schema_find ("transactions");
      ck_assert (bson_iter_init (&it, doc));
      while (bson_iter_next (&it)) {
         uint32_t i;
         bool known = !strcmp (bson_iter_key (&it), "__v");
         for (i = 0; i < s->root->field_count && !known; i++) {
            known = !strcmp (s->root->fields[i].name, bson_iter_key (&it));
         }
         ck_assert_msg (known, "the upsert stored a field the spec does not have: %s", bson_iter_key (&it));
      }
      ck_assert_int_eq (version_of (doc), 0);
   }
   ck_assert_msg (odm_transaction_from_bson (doc, &t, ODM_DECODE_STRICT, &err), "%s", err.message);
   ck_assert (t.has_type == ODM_PRESENT && !strcmp (t.type, "donation"));
   ck_assert (t.has_createdAt == ODM_PRESENT && t.createdAt == NOW);
   ck_assert_str_eq (t.currency, "USD");
   odm_transaction_cleanup (&t);
   bson_destroy (doc);

   /* The insert branch must satisfy the spec: the required type is missing here. */
   ck_assert (!update_json (c, "transactions", "{\"$and\": [{\"transactionId\": \"up-2\"}]}",
                            "{\"$set\": {\"amount\": 10, \"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}, "
                            "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}}}",
                            &uo, &v, &err));
   ck_assert (odm_test_has_violation (&v, "type", "required", NULL));
   odm_violations_cleanup (&v);

   /* Filters whose insert document cannot be predicted are refused. */
   ck_assert (!update_json (c, "transactions", "{\"$or\": [{\"transactionId\": \"a\"}, {\"transactionId\": \"b\"}]}",
                            "{\"$set\": {\"amount\": 10}}", &uo, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_UNSUPPORTED);
   odm_violations_cleanup (&v);
   ck_assert (!update_json (c, "transactions", "{\"transactionId\": {\"$in\": [\"a\"]}}", "{\"$set\": {\"amount\": 10}}", &uo, &v,
                            &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_UNSUPPORTED);
   odm_violations_cleanup (&v);
   ck_assert (!update_json (c, "transactions", "{\"$expr\": {\"$eq\": [\"$transactionId\", \"a\"]}}", "{\"$set\": {\"amount\": 10}}",
                            &uo, &v, &err));
   odm_violations_cleanup (&v);
   {
      int64_t n = -1;
      ck_assert (odm_count (c, odm_schema_find ("transactions"), NULL, &n, &err));
      ck_assert_int_eq (n, 1);
   }
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ checked filters, timestamps */

START_TEST (test_checked_filter_and_timestamps)
{
   odm_client_t *c = connect_or_fail ();
   odm_violations_t v;
   bson_error_t err;
   bson_t *filter = bson_new_from_json ((const uint8_t *) "{\"$where\": \"sleep(100) || true\"}", -1, NULL);
   odm_find_opts_t fo = {.size = sizeof (odm_find_opts_t), .checked_filter = true};
   odm_update_opts_t uo = {.size = sizeof (odm_update_opts_t), .checked_filter = true};
   odm_cursor_t *cur;
   bson_t *doc;
   bson_iter_t it;

   drop (c, "transactions");
   insert_transaction (c, ", \"createdAt\": {\"$date\": 1600000000000}, \"__v\": 0");
   cur = odm_find (c, odm_schema_find ("transactions"), filter, &fo, &err);
   ck_assert (cur == NULL);
   ck_assert (strstr (err.message, "$where") != NULL);
   ck_assert (!update_json (c, "transactions", "{\"stauts\": \"x\"}", "{\"$set\": {\"status\": \"failed\"}}", &uo, &v, &err));
   ck_assert (odm_test_has_violation (&v, "stauts", "unknown", NULL));
   odm_violations_cleanup (&v);

   /* createdAt cannot be moved back or unset by any write path */
   ck_assert (!update_json (c, "transactions", tx_id, "{\"$unset\": {\"createdAt\": \"\"}}", NULL, &v, &err));
   odm_violations_cleanup (&v);
   {
      odm_transaction_t t;
      bool found;
      bson_oid_t id;
      bson_oid_init_from_string (&id, "64b0000000000000000d0001");
      ck_assert (odm_transaction_get (c, &id, &t, &found, &err) && found);
      t.createdAt = 0;
      ck_assert_msg (odm_transaction_save (c, &t, &v, &err), "%s", err.message);
      odm_violations_cleanup (&v);
      odm_transaction_cleanup (&t);
   }
   doc = raw_get (c, "transactions", tx_id);
   ck_assert (bson_iter_init_find (&it, doc, "createdAt") && bson_iter_date_time (&it) == 1600000000000LL);
   bson_destroy (doc);
   bson_destroy (filter);
   odm_client_destroy (c);
}
END_TEST

/* ------------------------------------------------------------------ a frozen server */

START_TEST (test_frozen_server_bounded_wait)
{
   const char *pidfile = getenv ("ODM_TEST_SERVER_PID");
   const char *uri = getenv ("ODM_TEST_URI");
   char *text, bounded[1024];
   pid_t pid;
   odm_client_t *c, *dflt;
   bson_error_t err;
   int64_t n;
   time_t t0;
   bool ok;

   /* The default bound is in force when the URI gives none. */
   dflt = odm_client_new ("mongodb://127.0.0.1:1/x", &err);
   ck_assert (dflt);
   ck_assert_int_eq (mongoc_uri_get_option_as_int32 (odm_client_uri (dflt), MONGOC_URI_SOCKETTIMEOUTMS, -1),
                     ODM_DEFAULT_SOCKET_TIMEOUT_MS);
   odm_client_destroy (dflt);

   ck_assert_msg (pidfile != NULL, "ODM_TEST_SERVER_PID is not set (scripts/live-tests.sh sets it)");
   text = odm_test_read_file (pidfile, NULL);
   ck_assert_msg (text != NULL, "%s", pidfile);
   pid = (pid_t) atoi (text);
   bson_free (text);
   ck_assert (pid > 1);
   bson_snprintf (bounded, sizeof bounded, "%s%ssocketTimeoutMS=1500", uri, strchr (uri, '?') ? "&" : "?");
   c = odm_client_new (bounded, &err);
   ck_assert (c);
   ck_assert (odm_client_ping (c, &err));

   ck_assert_msg (kill (pid, SIGSTOP) == 0, "kill %d", (int) pid);
   usleep (200000); /* kill returns before the process is stopped */
   t0 = time (NULL);
   ok = odm_count (c, odm_schema_find ("transactions"), NULL, &n, &err);
   kill (pid, SIGCONT);
   fprintf (stderr, "  a call to the frozen server failed after %ld s: %s\n", (long) (time (NULL) - t0),
            ok ? "(it did not)" : err.message);
   ck_assert_msg (!ok, "a call to a frozen server succeeded");
   ck_assert_msg (time (NULL) - t0 <= 10, "a call to a frozen server waited %ld s", (long) (time (NULL) - t0));
   /* the same client works again once the server answers */
   {
      int tries = 0;
      while (!(ok = odm_count (c, odm_schema_find ("transactions"), NULL, &n, &err)) && tries++ < 20) {
         usleep (250000);
      }
      ck_assert_msg (ok, "after the freeze: %s", err.message);
   }
   odm_client_destroy (c);
}
END_TEST

Suite *
integrity_suite (void)
{
   Suite *s = suite_create ("integrity");
   TCase *tc = tcase_create ("integrity");
   TCase *frozen = tcase_create ("frozen");
   tcase_add_test (tc, test_racing_updates_lose_nothing);
   tcase_add_test (tc, test_version_key_contract);
   tcase_add_test (tc, test_update_changes_only_what_it_names);
   tcase_add_test (tc, test_preexisting_violation_policy);
   tcase_add_test (tc, test_upsert_insert_is_predicted);
   tcase_add_test (tc, test_checked_filter_and_timestamps);
   tcase_set_timeout (tc, 600);
   tcase_add_test (frozen, test_frozen_server_bounded_wait);
   tcase_set_timeout (frozen, 120);
   suite_add_tcase (s, tc);
   suite_add_tcase (s, frozen);
   return s;
}
