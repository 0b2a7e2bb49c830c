/* The update engine without a server (odm_update_plan, odm_update_apply): argument
 * shapes, depth and size bounds, what an update may change, the direct/checked plan,
 * pre-existing violations, and odm_filter_check. The same code runs inside odm_update;
 * tests/test-integrity.c drives it against the wire servers. */
#include "test-util.h"

#include <string.h>

#define NOW 1750000000000LL


/* Applies UPDATE (JSON) to STORED; returns whether it was accepted. ERR/V/OUT filled. */
static bool
apply (const char *coll, const bson_t *stored, const char *update, bson_t *out, odm_violations_t *v, bson_error_t *err)
{
   bson_t *u = odm_test_json (update);
   odm_update_opts_t uo = {.size = sizeof (odm_update_opts_t), .now_ms = NOW};
   bool ok = odm_update_apply (odm_schema_find (coll), stored, u, &uo, out, v, err);
   bson_destroy (u);
   return ok;
}

static void
expect_refused (const char *coll, const char *update, uint32_t code, const char *path, const char *rule)
{
   bson_t *stored;
   bson_t out;
   odm_violations_t v;
   bson_error_t err;
   char name[128];
   bson_snprintf (name, sizeof name, "%s.full.json", coll);
   stored = odm_test_load_json (name);
   ck_assert_msg (!apply (coll, stored, update, &out, &v, &err), "%s: %s accepted", coll, update);
   ck_assert_msg (err.domain == ODM_ERROR_DOMAIN && err.code == code, "%s: code %u (%s), want %u", update, err.code,
                  err.message, code);
   if (rule) {
      ck_assert_msg (odm_test_has_violation (&v, path, rule, NULL), "%s: no %s violation at %s (%s)", update, rule, path,
                     err.message);
   } else if (path) {
      ck_assert_msg (strstr (err.message, path) != NULL, "%s: the error does not name %s: %s", update, path, err.message);
   }
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (stored);
}

/* ------------------------------------------------------------------ argument shapes */

START_TEST (test_argument_shapes)
{
   /* Each of these aborted the process (a libbson precondition) or was applied wrongly. */
   expect_refused ("transactions", "{\"$push\": {\"metadata.x\": {\"$each\": 1}}}", ODM_ERROR_INVALID_ARGUMENT, "metadata.x", NULL);
   expect_refused ("transactions", "{\"$addToSet\": {\"metadata.x\": {\"$each\": \"a\"}}}", ODM_ERROR_INVALID_ARGUMENT, "metadata.x", NULL);
   expect_refused ("chat_sessions", "{\"$push\": {\"tags\": {\"$each\": {\"0\": \"a\"}}}}", ODM_ERROR_INVALID_ARGUMENT, "tags", NULL);
   expect_refused ("chat_sessions", "{\"$push\": {\"tags\": {\"$each\": [\"a\"], \"$slice\": \"x\"}}}", ODM_ERROR_UNSUPPORTED, "tags", NULL);
   expect_refused ("chat_sessions", "{\"$addToSet\": {\"tags\": {\"$each\": [\"a\"], \"$position\": 0}}}", ODM_ERROR_INVALID_ARGUMENT, "tags", NULL);
   expect_refused ("chat_sessions", "{\"$pull\": {\"tags\": {\"$each\": [\"a\"]}}}", ODM_ERROR_INVALID_ARGUMENT, "tags", NULL);
   expect_refused ("chat_sessions", "{\"$push\": {\"tags\": {\"$bogus\": 1}}}", ODM_ERROR_INVALID_ARGUMENT, "tags", NULL);
   expect_refused ("chat_sessions", "{\"$push\": {\"tags\": {\"$sort\": 1}}}", ODM_ERROR_UNSUPPORTED, "tags", NULL);
   expect_refused ("transactions", "{\"$inc\": {\"metadata.n\": \"5\"}}", ODM_ERROR_INVALID_ARGUMENT, "metadata.n", NULL);
   expect_refused ("transactions", "{\"$pop\": {\"metadata.list\": 2}}", ODM_ERROR_INVALID_ARGUMENT, "metadata.list", NULL);
   expect_refused ("chat_sessions", "{\"$currentDate\": {\"stats.lastMessageAt\": 5}}", ODM_ERROR_INVALID_ARGUMENT,
                   "stats.lastMessageAt", NULL);
   expect_refused ("chat_sessions", "{\"$set\": {}}", ODM_ERROR_INVALID_ARGUMENT, "$set", NULL);
   expect_refused ("chat_sessions", "{\"$set\": 5}", ODM_ERROR_INVALID_ARGUMENT, "$set", NULL);
   expect_refused ("chat_sessions", "{\"$set\": {\"\": 1}}", ODM_ERROR_INVALID_ARGUMENT, "$set", NULL);
   expect_refused ("chat_sessions", "{\"$set\": {\"settings..mode\": \"fast\"}}", ODM_ERROR_INVALID_ARGUMENT, "$set", NULL);
   /* two operators on one path, or on a path and one below it: MongoDB refuses both */
   expect_refused ("chat_sessions", "{\"$set\": {\"settings\": {\"mode\": \"fast\"}}, \"$inc\": {\"settings.maxTokens\": 1}}",
                   ODM_ERROR_INVALID_ARGUMENT, "settings.maxTokens", NULL);
   expect_refused ("chat_sessions", "{\"$set\": {\"name\": \"a\"}, \"$unset\": {\"name\": \"\"}}", ODM_ERROR_INVALID_ARGUMENT,
                   "name", NULL);
}
END_TEST

/* ------------------------------------------------------------------ depth and size */

static char *
deep_path (const char *head, size_t levels)
{
   size_t i, n = strlen (head);
   char *p = bson_malloc (n + 2 * levels + 1);
   memcpy (p, head, n);
   for (i = 0; i < levels; i++) {
      p[n++] = '.';
      p[n++] = 'a';
   }
   p[n] = '\0';
   return p;
}

START_TEST (test_depth_bounds)
{
   const odm_schema_t *s = odm_schema_find ("transactions");
   bson_t *stored = odm_test_load_json ("transactions.full.json");
   bson_t u = BSON_INITIALIZER, set, out;
   odm_violations_t v;
   bson_error_t err;
   char *path = deep_path ("metadata", 20000);
   size_t i;

   /* A dotted path 20,000 levels deep overflowed the stack of the path walker. */
   BSON_APPEND_DOCUMENT_BEGIN (&u, "$set", &set);
   BSON_APPEND_INT32 (&set, path, 1);
   bson_append_document_end (&u, &set);
   ck_assert (!odm_update_apply (s, stored, &u, NULL, &out, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (&u);
   bson_free (path);

   /* 100 levels of path are MongoDB's limit, and allowed below a mixed field. */
   path = deep_path ("metadata", 98);
   bson_init (&u);
   BSON_APPEND_DOCUMENT_BEGIN (&u, "$set", &set);
   BSON_APPEND_INT32 (&set, path, 1);
   bson_append_document_end (&u, &set);
   ck_assert_msg (odm_update_apply (s, stored, &u, NULL, &out, &v, &err), "%s", err.message);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (&u);
   bson_free (path);

   /* A value nested 12,000 deep crashed libbson's recursive validation. */
   {
      bson_t *inner = bson_new ();
      for (i = 0; i < 12000; i++) {
         bson_t *outer = bson_new ();
         BSON_APPEND_DOCUMENT (outer, "a", inner);
         bson_destroy (inner);
         inner = outer;
      }
      bson_init (&u);
      BSON_APPEND_DOCUMENT_BEGIN (&u, "$set", &set);
      BSON_APPEND_DOCUMENT (&set, "metadata", inner);
      bson_append_document_end (&u, &set);
      ck_assert (!odm_update_apply (s, stored, &u, NULL, &out, &v, &err));
      ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
      ck_assert (strstr (err.message, "deeper") != NULL);
      odm_violations_cleanup (&v);
      bson_destroy (&out);
      bson_destroy (&u);
      bson_destroy (inner);
   }
   bson_destroy (stored);
}
END_TEST

START_TEST (test_array_index_bounds)
{
   bson_t *stored = odm_test_load_json ("chat_sessions.full.json"); /* tags has 3 elements */
   bson_t out;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;

   /* Padding an array to a billion nulls: refused, not attempted. */
   ck_assert (!apply ("chat_sessions", stored, "{\"$set\": {\"tags.999999999\": \"x\"}}", &out, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (strstr (err.message, "tags.999999999") && strstr (err.message, "past the end"));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   ck_assert (!apply ("chat_sessions", stored, "{\"$set\": {\"tags.4\": \"x\"}}", &out, &v, &err));
   odm_violations_cleanup (&v);
   bson_destroy (&out);

   /* An existing index, and the one just past the end (an append), are fine. */
   ck_assert_msg (apply ("chat_sessions", stored, "{\"$set\": {\"tags.1\": \"b\", \"tags.3\": \"d\"}}", &out, &v, &err), "%s",
                  err.message);
   ck_assert (bson_iter_init (&it, &out) && bson_iter_find_descendant (&it, "tags.3", &it));
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "d");
   ck_assert (bson_iter_init (&it, &out) && bson_iter_find_descendant (&it, "tags.1", &it));
   ck_assert_str_eq (bson_iter_utf8 (&it, NULL), "b");
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (stored);
}
END_TEST

START_TEST (test_add_to_set_many)
{
   /* $addToSet of 8,000 items (half of them repeats) keeps each distinct value once. */
   bson_t *stored = odm_test_load_json ("chat_sessions.full.json");
   bson_t u = BSON_INITIALIZER, op, each, out;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it, arr;
   char key[16], val[32];
   uint32_t i, n = 0;
   BSON_APPEND_DOCUMENT_BEGIN (&u, "$addToSet", &op);
   BSON_APPEND_DOCUMENT_BEGIN (&op, "tags", &each);
   {
      bson_t list;
      BSON_APPEND_ARRAY_BEGIN (&each, "$each", &list);
      for (i = 0; i < 8000; i++) {
         bson_snprintf (key, sizeof key, "%u", i);
         bson_snprintf (val, sizeof val, "t%u", i % 4000);
         BSON_APPEND_UTF8 (&list, key, val);
      }
      BSON_APPEND_UTF8 (&list, "8000", "billing"); /* already stored */
      bson_append_array_end (&each, &list);
   }
   bson_append_document_end (&op, &each);
   bson_append_document_end (&u, &op);
   ck_assert_msg (odm_update_apply (&odm_chat_session_schema, stored, &u, NULL, &out, &v, &err), "%s", err.message);
   ck_assert (bson_iter_init_find (&it, &out, "tags") && bson_iter_recurse (&it, &arr));
   while (bson_iter_next (&arr)) {
      n++;
   }
   ck_assert_uint_eq (n, 3 + 4000);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (&u);
   bson_destroy (stored);
}
END_TEST

/* ------------------------------------------------------------------ what an update may change */

START_TEST (test_managed_timestamps_immutable)
{
   expect_refused ("chat_sessions", "{\"$set\": {\"createdAt\": {\"$date\": 0}}}", ODM_ERROR_VALIDATION, "createdAt", "immutable");
   expect_refused ("chat_sessions", "{\"$unset\": {\"createdAt\": \"\"}}", ODM_ERROR_VALIDATION, "createdAt", "immutable");
   expect_refused ("chat_sessions", "{\"$min\": {\"createdAt\": {\"$date\": 0}}}", ODM_ERROR_VALIDATION, "createdAt", "immutable");
   expect_refused ("chat_sessions", "{\"$set\": {\"updatedAt\": {\"$date\": 0}}}", ODM_ERROR_VALIDATION, "updatedAt", "immutable");
   expect_refused ("chat_sessions", "{\"$currentDate\": {\"createdAt\": true}}", ODM_ERROR_VALIDATION, "createdAt", "immutable");
}
END_TEST

START_TEST (test_untouched_fields_keep_their_bytes)
{
   /* Written by another service: an int64, nested fields out of spec order, a field the
    * spec does not know. An update of one field leaves every other byte as it was. */
   bson_t *stored = odm_test_json ("{\"_id\": {\"$oid\": \"64b000000000000000000001\"}, \"sessionId\": \"s\", "
                          "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"agentId\": {\"$oid\": \"64b0000000000000000000b1\"}, "
                          "\"name\": \"n\", \"zz\": 1, \"settings\": {\"mode\": \"coding\", \"maxTokens\": {\"$numberLong\": \"2000\"}, "
                          "\"temperature\": 0.5}, \"stats\": {\"totalTokens\": {\"$numberLong\": \"7\"}, \"messageCount\": 3}, "
                          "\"createdAt\": {\"$date\": 1700000000000}, \"updatedAt\": {\"$date\": 1700000000000}, \"__v\": 4}");
   const char *updates[] = {"{\"$set\": {\"name\": \"renamed\"}}", "{\"$inc\": {\"stats.messageCount\": 1}}",
                            "{\"$push\": {\"tags\": \"x\"}}", "{\"$set\": {\"settings.temperature\": 0.9}}"};
   size_t k;
   for (k = 0; k < sizeof updates / sizeof updates[0]; k++) {
      bson_t out;
      odm_violations_t v;
      bson_error_t err;
      bson_iter_t a, b;
      ck_assert_msg (apply ("chat_sessions", stored, updates[k], &out, &v, &err), "%s: %s", updates[k], err.message);
      ck_assert (bson_iter_init (&a, stored));
      while (bson_iter_next (&a)) {
         const char *key = bson_iter_key (&a);
         bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
         if (strstr (updates[k], key) || !strcmp (key, "updatedAt") || !strcmp (key, "__v")) {
            continue;
         }
         if (!strcmp (key, "settings") && k == 3) {
            continue;
         }
         if (!strcmp (key, "stats") && k == 1) {
            continue;
         }
         ck_assert_msg (bson_iter_init_find (&b, &out, key), "%s: %s was dropped", updates[k], key);
         bson_append_iter (&x, "v", 1, &a);
         bson_append_iter (&y, "v", 1, &b);
         ck_assert_msg (bson_equal (&x, &y), "%s: %s changed", updates[k], key);
         bson_destroy (&x);
         bson_destroy (&y);
      }
      /* the version key moves on */
      ck_assert (bson_iter_init_find (&b, &out, "__v") && bson_iter_as_int64 (&b) == 5);
      if (k == 3) {
         /* settings: only temperature changed, the order and the int64 stay */
         bson_iter_t s;
         ck_assert (bson_iter_init (&s, &out) && bson_iter_find_descendant (&s, "settings.maxTokens", &s));
         ck_assert (BSON_ITER_HOLDS_INT64 (&s));
         ck_assert (bson_iter_init_find (&b, &out, "settings") && bson_iter_recurse (&b, &s) && bson_iter_next (&s));
         ck_assert_str_eq (bson_iter_key (&s), "mode");
      }
      if (k == 1) {
         bson_iter_t s;
         ck_assert (bson_iter_init (&s, &out) && bson_iter_find_descendant (&s, "stats.totalTokens", &s));
         ck_assert (BSON_ITER_HOLDS_INT64 (&s));
         ck_assert (bson_iter_init (&s, &out) && bson_iter_find_descendant (&s, "stats.messageCount", &s));
         ck_assert (BSON_ITER_HOLDS_INT32 (&s) && bson_iter_int32 (&s) == 4);
      }
      odm_violations_cleanup (&v);
      bson_destroy (&out);
   }
   bson_destroy (stored);
}
END_TEST

START_TEST (test_pull_matches_documents)
{
   /* $pull {reason: "fraud"} removes the refunds with that reason, whatever else they hold */
   bson_t *stored = odm_test_json ("{\"_id\": {\"$oid\": \"64b000000000000000000001\"}, \"transactionId\": \"t\", "
                          "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"type\": \"donation\", \"amount\": 50, "
                          "\"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}, \"refunds\": ["
                          "{\"amount\": 1, \"reason\": \"fraud\"}, {\"amount\": 2, \"reason\": \"other\"}, "
                          "{\"reason\": \"fraud\", \"amount\": 3}]}");
   bson_t out;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;
   ck_assert_msg (apply ("transactions", stored, "{\"$pull\": {\"refunds\": {\"reason\": \"fraud\"}}}", &out, &v, &err), "%s",
                  err.message);
   ck_assert (bson_iter_init (&it, &out) && bson_iter_find_descendant (&it, "refunds.0.amount", &it));
   ck_assert (bson_iter_as_double (&it) == 2);
   ck_assert (bson_iter_init (&it, &out) && !bson_iter_find_descendant (&it, "refunds.1", &it));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   ck_assert (!apply ("transactions", stored, "{\"$pull\": {\"refunds\": {\"amount\": {\"$gt\": 1}}}}", &out, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_UNSUPPORTED);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (stored);
}
END_TEST

START_TEST (test_arithmetic_types)
{
   bson_t *stored = odm_test_json ("{\"_id\": {\"$oid\": \"64b000000000000000000001\"}, \"transactionId\": \"t\", "
                          "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"type\": \"donation\", \"amount\": 5, "
                          "\"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}, "
                          "\"metadata\": {\"i\": 2147483647, \"l\": {\"$numberLong\": \"9223372036854775807\"}}}");
   bson_t out;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;
   /* int32 overflow becomes int64, as MongoDB does */
   ck_assert_msg (apply ("transactions", stored, "{\"$inc\": {\"metadata.i\": 1}}", &out, &v, &err), "%s", err.message);
   ck_assert (bson_iter_init (&it, &out) && bson_iter_find_descendant (&it, "metadata.i", &it));
   ck_assert (BSON_ITER_HOLDS_INT64 (&it) && bson_iter_int64 (&it) == 2147483648LL);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   /* int64 overflow is refused, never wrapped */
   ck_assert (!apply ("transactions", stored, "{\"$inc\": {\"metadata.l\": 1}}", &out, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (stored);
}
END_TEST

START_TEST (test_preexisting_violations)
{
   /* Stored by a writer that skipped the hooks: refunds above the amount. An update of an
    * unrelated field goes through and reports the old violation; one that touches the
    * refunds is refused. */
   bson_t *stored = odm_test_json ("{\"_id\": {\"$oid\": \"64b000000000000000000001\"}, \"transactionId\": \"t\", "
                          "\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"type\": \"donation\", \"amount\": 5, "
                          "\"description\": \"d\", \"paymentMethod\": {\"type\": \"card\"}, "
                          "\"refunds\": [{\"amount\": 9, \"reason\": \"other\"}], \"__v\": 1}");
   bson_t out;
   odm_violations_t v;
   bson_error_t err;
   ck_assert_msg (apply ("transactions", stored, "{\"$set\": {\"status\": \"completed\", \"paymentMethod.last4\": \"4242\"}}",
                         &out, &v, &err),
                  "%s", err.message);
   ck_assert (odm_test_has_violation (&v, "refunds", "sum_not_greater", NULL));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   ck_assert (!apply ("transactions", stored, "{\"$push\": {\"refunds\": {\"amount\": 1, \"reason\": \"other\"}}}", &out, &v, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_VALIDATION);
   ck_assert (odm_test_has_violation (&v, "refunds", "sum_not_greater", NULL));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   /* a new violation of another rule is refused even on an untouched path's neighbour */
   ck_assert (!apply ("transactions", stored, "{\"$set\": {\"amount\": -1}}", &out, &v, &err));
   ck_assert (odm_test_has_violation (&v, "amount", "min", NULL));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   bson_destroy (stored);
}
END_TEST

/* ------------------------------------------------------------------ the plan */

static odm_update_path_t
plan_of (const char *coll, const char *update)
{
   bson_t *u = odm_test_json (update);
   odm_update_path_t p;
   const char *why;
   odm_violations_t v;
   bson_error_t err;
   odm_update_plan (odm_schema_find (coll), u, &p, &why, &v, &err);
   odm_violations_cleanup (&v);
   bson_destroy (u);
   return p;
}

START_TEST (test_plan)
{
   /* single-field rules: sent as they are */
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$inc\": {\"stats.messageCount\": 1}}"), ODM_UPDATE_DIRECT);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$inc\": {\"settings.maxTokens\": 5}}"), ODM_UPDATE_DIRECT);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$set\": {\"settings.mode\": \"fast\"}, \"$push\": {\"tags\": \"a\"}}"),
                     ODM_UPDATE_DIRECT);
   ck_assert_int_eq (plan_of ("transactions", "{\"$set\": {\"metadata.source\": \"web\"}}"), ODM_UPDATE_DIRECT);
   ck_assert_int_eq (plan_of ("transactions", "{\"$inc\": {\"__v\": 1}}"), ODM_UPDATE_DIRECT);
   /* cross-field rules, derivations, subdocuments, lowercase, elements: checked */
   ck_assert_int_eq (plan_of ("transactions", "{\"$push\": {\"refunds\": {\"amount\": 1}}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("transactions", "{\"$set\": {\"amount\": 3}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("community_posts", "{\"$set\": {\"status\": \"published\"}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("users", "{\"$set\": {\"email\": \"A@B.CO\"}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$set\": {\"settings\": {\"mode\": \"fast\"}}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$set\": {\"tags.0\": \"a\"}}"), ODM_UPDATE_CHECKED);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$mul\": {\"settings.maxTokens\": 2}}"), ODM_UPDATE_CHECKED);
   /* refused before anything is sent: the rule is checked on the value itself */
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$set\": {\"settings.temperature\": 5}}"), ODM_UPDATE_REFUSED);
   ck_assert_int_eq (plan_of ("chat_sessions", "{\"$push\": {\"tags\": {\"$each\": [\"ok\", "
                                               "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]}}}"),
                     ODM_UPDATE_REFUSED);
}
END_TEST

START_TEST (test_version_key_updates)
{
   /* Mongoose's versionKey can be incremented through libodm, and every update moves it. */
   bson_t *stored = odm_test_load_json ("chat_sessions.full.json"), out;
   odm_violations_t v;
   bson_error_t err;
   bson_iter_t it;
   ck_assert_msg (apply ("chat_sessions", stored, "{\"$inc\": {\"__v\": 1}}", &out, &v, &err), "%s", err.message);
   ck_assert (bson_iter_init_find (&it, &out, "__v") && bson_iter_as_int64 (&it) == 1);
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   ck_assert (!apply ("chat_sessions", stored, "{\"$set\": {\"__v\": \"x\"}}", &out, &v, &err));
   odm_violations_cleanup (&v);
   bson_destroy (&out);
   {
      /* a document libodm wrote decodes strictly: __v is no unknown field (only at the top) */
      bson_t *with_v = odm_test_json ("{\"sessionId\": \"s\", \"__v\": 3}"), *nested = odm_test_json ("{\"settings\": {\"__v\": 3}}");
      odm_chat_session_t s;
      ck_assert_msg (odm_chat_session_from_bson (with_v, &s, ODM_DECODE_STRICT, &err), "%s", err.message);
      odm_chat_session_cleanup (&s);
      ck_assert (!odm_chat_session_from_bson (nested, &s, ODM_DECODE_STRICT, &err));
      odm_chat_session_cleanup (&s);
      bson_destroy (with_v);
      bson_destroy (nested);
   }
   bson_destroy (stored);
}
END_TEST

/* ------------------------------------------------------------------ keys and filters */

START_TEST (test_empty_keys_refused)
{
   bson_t *doc = odm_test_json ("{\"a\": {\"\": 1}}");
   odm_violations_t v;
   odm_violations_init (&v);
   ck_assert (!odm_check_keys (doc, &v));
   ck_assert (odm_test_has_violation (&v, "a.", "key", NULL) || v.count == 1);
   odm_violations_cleanup (&v);
   bson_destroy (doc);
}
END_TEST

static bool
filter_ok (const char *coll, const char *filter, const char *path, const char *rule)
{
   bson_t *f = odm_test_json (filter);
   odm_violations_t v;
   bool ok = odm_filter_check (odm_schema_find (coll), f, &v);
   if (path) {
      ck_assert_msg (odm_test_has_violation (&v, path, rule, NULL), "%s: no %s at %s", filter, rule, path);
   }
   odm_violations_cleanup (&v);
   bson_destroy (f);
   return ok;
}

START_TEST (test_checked_filters)
{
   /* what a service builds from request data */
   ck_assert (filter_ok ("chat_sessions", "{\"userId\": {\"$oid\": \"64b0000000000000000000a1\"}, \"tags\": \"a\"}", NULL, NULL));
   ck_assert (filter_ok ("support_tickets", "{\"conversation.attachments.url\": {\"$regex\": \"^https\"}}", NULL, NULL));
   ck_assert (filter_ok ("chat_sessions", "{\"$or\": [{\"name\": \"a\"}, {\"settings.mode\": {\"$in\": [\"fast\"]}}], "
                                          "\"tags.0\": {\"$exists\": true}}",
                         NULL, NULL));
   ck_assert (filter_ok ("transactions", "{\"metadata.anything.below\": 1, \"__v\": 2}", NULL, NULL));
   ck_assert (filter_ok ("support_tickets", "{\"conversation\": {\"$elemMatch\": {\"authorType\": \"agent\"}}}", NULL, NULL));
   /* server-side JavaScript, anywhere */
   ck_assert (!filter_ok ("chat_sessions", "{\"$where\": \"sleep(10000)\"}", "$where", "operator"));
   ck_assert (!filter_ok ("chat_sessions", "{\"$expr\": {\"$function\": {\"body\": \"x\", \"args\": [], \"lang\": \"js\"}}}",
                          "$expr.$function", "operator"));
   ck_assert (!filter_ok ("chat_sessions", "{\"$and\": [{\"$where\": \"1\"}]}", "$and.0.$where", "operator"));
   ck_assert (!filter_ok ("chat_sessions", "{\"$expr\": {\"$gt\": [{\"$accumulator\": {}}, 1]}}", "$expr.$gt.0.$accumulator",
                          "operator"));
   /* misspelt paths and operators */
   ck_assert (!filter_ok ("support_tickets", "{\"stauts\": \"open\"}", "stauts", "unknown"));
   ck_assert (!filter_ok ("support_tickets", "{\"conversation\": {\"$elemMatch\": {\"autor\": 1}}}", "conversation.$elemMatch.autor",
                          "unknown"));
   ck_assert (!filter_ok ("support_tickets", "{\"status\": {\"$eqq\": \"open\"}}", "status.$eqq", "operator"));
   ck_assert (!filter_ok ("support_tickets", "{\"$nand\": []}", "$nand", "operator"));
}
END_TEST

Suite *
update_suite (void)
{
   Suite *s = suite_create ("update");
   TCase *tc = tcase_create ("update");
   tcase_add_test (tc, test_argument_shapes);
   tcase_add_test (tc, test_depth_bounds);
   tcase_add_test (tc, test_array_index_bounds);
   tcase_add_test (tc, test_add_to_set_many);
   tcase_add_test (tc, test_managed_timestamps_immutable);
   tcase_add_test (tc, test_untouched_fields_keep_their_bytes);
   tcase_add_test (tc, test_arithmetic_types);
   tcase_add_test (tc, test_pull_matches_documents);
   tcase_add_test (tc, test_preexisting_violations);
   tcase_add_test (tc, test_plan);
   tcase_add_test (tc, test_version_key_updates);
   tcase_add_test (tc, test_empty_keys_refused);
   tcase_add_test (tc, test_checked_filters);
   tcase_set_timeout (tc, 60);
   suite_add_tcase (s, tc);
   return s;
}
