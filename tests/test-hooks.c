/* The seed's hook rules and derivations, each at its boundary on both sides.
 * Each case starts from the collection's valid full fixture, applies edits (dotted path
 * -> new JSON value, {"$remove": 1} to remove), runs the pre-save path at a fixed clock,
 * and checks the exact violations (path, rule, seed message) or the derived values. */
#include "test-util.h"

#include <string.h>

#define NOW INT64_C (1750000000000)

/* The full fixture of COLL with EDITS applied. */
bson_t *
odm_test_fixture_with (const char *coll, const char *edits_json)
{
   char name[128];
   bson_t *doc, *edits;
   bson_iter_t it;
   bson_error_t err;

   snprintf (name, sizeof name, "%s.full.json", coll);
   doc = odm_test_load_json (name);
   ck_assert_msg (doc != NULL, "no fixture %s", name);
   edits = bson_new_from_json ((const uint8_t *) edits_json, -1, &err);
   ck_assert_msg (edits != NULL, "edits: %s", err.message);
   bson_iter_init (&it, edits);
   while (bson_iter_next (&it)) {
      bson_t *next = bson_new ();
      bson_iter_t r;
      bool remove = BSON_ITER_HOLDS_DOCUMENT (&it) && bson_iter_recurse (&it, &r) && bson_iter_find (&r, "$remove");
      odm_test_set_path (doc, bson_iter_key (&it), remove ? NULL : bson_iter_value (&it), next);
      bson_destroy (doc);
      doc = next;
   }
   bson_destroy (edits);
   return doc;
}

/* Runs prepare on COLL's fixture with EDITS; returns the violations, and the prepared
 * document in OUT when OUT is non-NULL. */
static void
run (const char *coll, const char *edits, const odm_prepare_opts_t *opts, odm_violations_t *v, bson_t *out)
{
   const odm_schema_t *s = odm_schema_find (coll);
   bson_t *in = odm_test_fixture_with (coll, edits);
   bson_error_t err;
   void *doc;
   odm_prepare_opts_t def = {.now_ms = NOW};

   ck_assert_msg (s != NULL, "no schema %s", coll);
   doc = bson_malloc0 (s->root->size);
   ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err), "%s: %s", coll, err.message);
   odm_prepare (s, doc, opts ? opts : &def, v);
   if (out) {
      ck_assert (odm_to_bson (s, doc, out, &err));
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   bson_destroy (in);
}

static void
expect_ok (const char *coll, const char *edits)
{
   odm_violations_t v;
   run (coll, edits, NULL, &v, NULL);
   if (v.count) {
      odm_test_print_violations (coll, &v);
   }
   ck_assert_msg (v.count == 0, "%s %s: expected valid, got %zu violation(s)", coll, edits, v.count);
   odm_violations_cleanup (&v);
}

static void
expect_fail_opts (const char *coll, const char *edits, const odm_prepare_opts_t *opts, const char *path,
                  const char *rule, const char *message)
{
   odm_violations_t v;
   run (coll, edits, opts, &v, NULL);
   if (v.count != 1) {
      odm_test_print_violations (coll, &v);
   }
   ck_assert_msg (v.count == 1, "%s %s: expected 1 violation, got %zu", coll, edits, v.count);
   ck_assert_msg (odm_test_has_violation (&v, path, rule, message), "%s %s: got %s [%s] %s", coll, edits,
                  v.items[0].path, v.items[0].rule, v.items[0].message);
   odm_violations_cleanup (&v);
}

static void
expect_fail (const char *coll, const char *edits, const char *path, const char *rule, const char *message)
{
   expect_fail_opts (coll, edits, NULL, path, rule, message);
}

/* The value at dotted PATH of the prepared fixture. */
static bool
prepared_value (const char *coll, const char *edits, const char *path, bson_value_t *value)
{
   odm_violations_t v;
   bson_t out;
   bson_iter_t it, found;
   bool ok;
   run (coll, edits, NULL, &v, &out);
   odm_violations_cleanup (&v);
   ok = bson_iter_init (&it, &out) && bson_iter_find_descendant (&it, path, &found);
   if (ok) {
      bson_value_copy (bson_iter_value (&found), value);
   }
   bson_destroy (&out);
   return ok;
}

static int64_t
prepared_date (const char *coll, const char *edits, const char *path)
{
   bson_value_t v;
   ck_assert_msg (prepared_value (coll, edits, path, &v), "%s: %s absent", coll, path);
   ck_assert_int_eq (v.value_type, BSON_TYPE_DATE_TIME);
   return v.value.v_datetime;
}

static double
prepared_number (const char *coll, const char *edits, const char *path)
{
   bson_value_t v;
   ck_assert_msg (prepared_value (coll, edits, path, &v), "%s: %s absent", coll, path);
   ck_assert (v.value_type == BSON_TYPE_INT32 || v.value_type == BSON_TYPE_DOUBLE);
   return v.value_type == BSON_TYPE_INT32 ? v.value.v_int32 : v.value.v_double;
}

/* A JSON array of N copies of ITEM. */
static char *
array_of (size_t n, const char *item)
{
   size_t i;
   char *s = bson_strdup ("[");
   for (i = 0; i < n; i++) {
      char *t = bson_strdup_printf ("%s%s%s", s, i ? "," : "", item);
      bson_free (s);
      s = t;
   }
   {
      char *t = bson_strdup_printf ("%s]", s);
      bson_free (s);
      return t;
   }
}

static char *
edit1 (const char *path, const char *value_json)
{
   return bson_strdup_printf ("{\"%s\": %s}", path, value_json);
}

static char *
str_of (size_t n, const char *unit)
{
   size_t i;
   char *s = bson_strdup ("\"");
   for (i = 0; i < n; i++) {
      char *t = bson_strdup_printf ("%s%s", s, unit);
      bson_free (s);
      s = t;
   }
   {
      char *t = bson_strdup_printf ("%s\"", s);
      bson_free (s);
      return t;
   }
}

#define DATE(ms) "{\"$date\": {\"$numberLong\": \"" #ms "\"}}"

START_TEST (test_chat_settings_favorites)
{
   char *ten = array_of (10, "\"explain\""), *eleven = array_of (11, "\"explain\"");
   char *e10 = edit1 ("quickActions.favorites", ten), *e11 = edit1 ("quickActions.favorites", eleven);
   expect_ok ("chat_settings", e10);
   expect_fail ("chat_settings", e11, "quickActions.favorites", "max_items", "Maximum 10 favorite quick actions allowed");
   bson_free (ten), bson_free (eleven), bson_free (e10), bson_free (e11);
}
END_TEST

START_TEST (test_chat_sessions_and_personalization_ranges)
{
   static const char *const colls[] = {"chat_sessions", "agent_personalization"};
   int i;
   for (i = 0; i < 2; i++) {
      expect_ok (colls[i], "{\"settings.temperature\": 2, \"settings.maxTokens\": 4000}");
      expect_ok (colls[i], "{\"settings.temperature\": 0, \"settings.maxTokens\": 1}");
      expect_fail (colls[i], "{\"settings.temperature\": 2.0001}", "settings.temperature", "max",
                   "Temperature must be between 0 and 2");
      expect_fail (colls[i], "{\"settings.temperature\": -0.5}", "settings.temperature", "min",
                   "Temperature must be between 0 and 2");
      expect_fail (colls[i], "{\"settings.maxTokens\": 4001}", "settings.maxTokens", "max",
                   "Max tokens must be between 1 and 4000");
      expect_fail (colls[i], "{\"settings.maxTokens\": 0}", "settings.maxTokens", "min",
                   "Max tokens must be between 1 and 4000");
   }
}
END_TEST

START_TEST (test_chat_feedback)
{
   char *f1000 = str_of (1000, "x"), *f1001 = str_of (1001, "x");
   char *e1 = edit1 ("feedback", f1000), *e2 = edit1 ("feedback", f1001);
   expect_ok ("chat_feedback", "{\"rating\": 1}");
   expect_ok ("chat_feedback", "{\"rating\": 5}");
   expect_fail ("chat_feedback", "{\"rating\": 0.99}", "rating", "min", "Rating must be between 1 and 5");
   expect_fail ("chat_feedback", "{\"rating\": 5.01}", "rating", "max", "Rating must be between 1 and 5");
   expect_ok ("chat_feedback", e1);
   expect_fail ("chat_feedback", e2, "feedback", "maxlength", "Feedback text cannot exceed 1000 characters");
   expect_fail ("chat_feedback", "{\"categories\": [\"speed\", \"tone\"]}", "categories.1", "enum", NULL);
   bson_free (f1000), bson_free (f1001), bson_free (e1), bson_free (e2);
}
END_TEST

START_TEST (test_non_negative_counters)
{
   expect_ok ("chat_quick_actions", "{\"usageCount\": 0}");
   expect_fail ("chat_quick_actions", "{\"usageCount\": -1}", "usageCount", "min", "Usage count cannot be negative");
   expect_ok ("chat_canvas_projects", "{\"stats.filesGenerated\": 0, \"stats.totalSize\": 0}");
   expect_fail ("chat_canvas_projects", "{\"stats.filesGenerated\": -1}", "stats.filesGenerated", "min",
                "Files generated count cannot be negative");
   expect_fail ("chat_canvas_projects", "{\"stats.totalSize\": -0.5}", "stats.totalSize", "min",
                "Total size cannot be negative");
   expect_ok ("chat_canvas_history", "{\"result.filesGenerated\": 0, \"metadata.duration\": 0}");
   expect_fail ("chat_canvas_history", "{\"result.filesGenerated\": -1}", "result.filesGenerated", "min",
                "Files generated count cannot be negative");
   expect_fail ("chat_canvas_history", "{\"metadata.duration\": -1}", "metadata.duration", "min",
                "Duration cannot be negative");
   expect_ok ("community_metrics", "{\"metrics.totalUsers\": 0, \"metrics.activeUsers\": 0}");
   expect_fail ("community_metrics", "{\"metrics.totalUsers\": -1}", "metrics.totalUsers", "min",
                "User counts cannot be negative");
   expect_fail ("community_metrics", "{\"metrics.activeUsers\": -1}", "metrics.activeUsers", "min",
                "User counts cannot be negative");
   expect_ok ("community_content", "{\"metadata.size\": 0}");
   expect_fail ("community_content", "{\"metadata.size\": -1}", "metadata.size", "min", "Size cannot be negative");
}
END_TEST

START_TEST (test_canvas_file_size_is_utf8_bytes)
{
   /* "h\u00e9llo" is 5 UTF-16 units but 6 bytes: the declared size is bytes (seed-notes 3). */
   expect_ok ("chat_canvas_files", "{\"content\": \"h\u00e9llo\", \"size\": 6}");
   expect_fail ("chat_canvas_files", "{\"content\": \"h\u00e9llo\", \"size\": 5}", "content", "byte_length_equals",
                "Content length does not match declared size");
   expect_fail ("chat_canvas_files", "{\"content\": \"hello\", \"size\": 6}", "content", "byte_length_equals",
                "Content length does not match declared size");
   {
      odm_violations_t v;
      run ("chat_canvas_files", "{\"content\": \"x\", \"size\": -1}", NULL, &v, NULL);
      ck_assert_uint_eq (v.count, 2); /* both rules broken: both reported */
      ck_assert (odm_test_has_violation (&v, "size", "min", "File size cannot be negative"));
      ck_assert (odm_test_has_violation (&v, "content", "byte_length_equals", NULL));
      odm_violations_cleanup (&v);
   }
}
END_TEST

START_TEST (test_subscription_dates_and_price)
{
   expect_ok ("agent_subscriptions", "{\"startDate\": " DATE (1700000000000) ", \"expiryDate\": " DATE (1700000000001) "}");
   expect_fail ("agent_subscriptions", "{\"startDate\": " DATE (1700000000000) ", \"expiryDate\": " DATE (1700000000000) "}",
                "expiryDate", "after", "Expiry date must be after start date");
   expect_fail ("agent_subscriptions", "{\"price\": -1}", "price", "min", "Price cannot be negative");
   expect_ok ("agent_subscriptions", "{\"price\": 0}");
   /* startDate absent: its default (now) applies before the check. */
   expect_fail ("agent_subscriptions", "{\"startDate\": {\"$remove\": 1}, \"expiryDate\": " DATE (1750000000000) "}",
                "expiryDate", "after", "Expiry date must be after start date");
}
END_TEST

START_TEST (test_email_and_username_patterns)
{
   static const char *const good[] = {"a@b.co", "John.Doe+x@Example.COM", "a@b..c", "\xc3\xa9@\xc3\xa9.fr", NULL};
   static const char *const bad[] = {"a@b", "a b@c.de", "@b.co", "a@.co", "a@b.", "a@@b.co", "a@b@c.de",
                                     "a\xc2\xa0@b.co", "a@b.co\xe2\x80\xa8", "a\\t@b.co", NULL};
   int i;
   for (i = 0; good[i]; i++) {
      char *e = bson_strdup_printf ("{\"email\": \"%s\"}", good[i]);
      expect_ok ("users", e);
      expect_ok ("contact_messages", e);
      bson_free (e);
   }
   for (i = 0; bad[i]; i++) {
      char *e = bson_strdup_printf ("{\"email\": \"%s\"}", bad[i]);
      expect_fail ("users", e, "email", "pattern", "Invalid email format");
      expect_fail ("contact_messages", e, "email", "pattern", "Invalid email format");
      bson_free (e);
   }
   expect_ok ("users", "{\"username\": \"John_Doe_99\"}");
   expect_fail ("users", "{\"username\": \"john-doe\"}", "username", "pattern",
                "Username can only contain letters, numbers, and underscores");
   expect_fail ("users", "{\"username\": \"j\u00f6hn\"}", "username", "pattern",
                "Username can only contain letters, numbers, and underscores");
}
END_TEST

START_TEST (test_agents)
{
   expect_ok ("agents", "{\"stats.averageRating\": 5, \"pricing.daily\": 0}");
   expect_fail ("agents", "{\"stats.averageRating\": 5.1}", "stats.averageRating", "max",
                "Average rating must be between 0 and 5");
   expect_fail ("agents", "{\"stats.averageRating\": -0.1}", "stats.averageRating", "min",
                "Average rating must be between 0 and 5");
   expect_fail ("agents", "{\"pricing.weekly\": -1}", "pricing.weekly", "min", "Pricing cannot be negative");
}
END_TEST

START_TEST (test_contact_message_length)
{
   expect_ok ("contact_messages", "{\"message\": \"0123456789\"}");
   expect_fail ("contact_messages", "{\"message\": \"012345678\"}", "message", "minlength",
                "Message must be at least 10 characters long");
   /* Five U+1F600 are ten UTF-16 units, as JavaScript counts. */
   expect_ok ("contact_messages", "{\"message\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}");
   /* Nine U+65E5 are 27 bytes but nine units (the byte count settles nothing below 30);
    * ten are 30 bytes and ten units. */
   expect_fail ("contact_messages",
                "{\"message\": \"\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\"}",
                "message", "minlength", NULL);
   expect_ok ("contact_messages",
              "{\"message\": \"\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\xe6\x97\xa5\"}");
}
END_TEST

START_TEST (test_community_posts)
{
   char *x300 = str_of (300, "x"), *x301 = str_of (301, "x");
   char *e1 = edit1 ("excerpt", x300), *e2 = edit1 ("excerpt", x301);
   expect_ok ("community_posts", e1);
   expect_fail ("community_posts", e2, "excerpt", "maxlength", "Excerpt cannot exceed 300 characters");
   ck_assert (prepared_date ("community_posts", "{\"status\": \"published\", \"publishedAt\": {\"$remove\": 1}}",
                             "publishedAt") == NOW);
   ck_assert (prepared_date ("community_posts", "{\"status\": \"published\", \"publishedAt\": " DATE (1700000000000) "}",
                             "publishedAt") == 1700000000000);
   {
      bson_value_t v;
      ck_assert (!prepared_value ("community_posts", "{\"status\": \"draft\", \"publishedAt\": {\"$remove\": 1}}",
                                  "publishedAt", &v));
   }
   bson_free (x300), bson_free (x301), bson_free (e1), bson_free (e2);
}
END_TEST

START_TEST (test_community_comments)
{
   odm_violations_t v;
   expect_ok ("community_comments", "{\"content\": \"x\"}");
   expect_fail ("community_comments", "{\"content\": \"\"}", "content", "required", "Comment content cannot be empty");
   run ("community_comments", "{\"_id\": {\"$oid\": \"64b0000000000000000000cc\"}, \"parentId\": {\"$oid\": \"64b0000000000000000000cc\"}}",
        NULL, &v, NULL);
   ck_assert_uint_eq (v.count, 1);
   ck_assert (odm_test_has_violation (&v, "parentId", "not_equal_id", "Comment cannot be its own parent"));
   odm_violations_cleanup (&v);
}
END_TEST

START_TEST (test_community_groups)
{
   char *r20 = array_of (20, "\"Be kind\""), *r21 = array_of (21, "\"Be kind\"");
   char *e20 = edit1 ("rules", r20), *e21 = edit1 ("rules", r21);
   expect_ok ("community_groups", "{\"slug\": \"react-devs-2024\"}");
   expect_ok ("community_groups", "{\"slug\": \"React-Devs\"}"); /* lowercase applies first */
   expect_fail ("community_groups", "{\"slug\": \"react_devs\"}", "slug", "pattern",
                "Slug can only contain lowercase letters, numbers, and hyphens");
   expect_ok ("community_groups", e20);
   expect_fail ("community_groups", e21, "rules", "max_items", "Maximum 20 rules allowed");
   bson_free (r20), bson_free (r21), bson_free (e20), bson_free (e21);
}
END_TEST

START_TEST (test_memberships_admin_moderates)
{
   bson_value_t v;
   ck_assert (prepared_value ("community_memberships", "{\"role\": \"admin\", \"permissions.canModerate\": false}",
                              "permissions.canModerate", &v));
   ck_assert (v.value_type == BSON_TYPE_BOOL && v.value.v_bool);
   ck_assert (prepared_value ("community_memberships", "{\"role\": \"member\", \"permissions.canModerate\": false}",
                              "permissions.canModerate", &v));
   ck_assert (v.value_type == BSON_TYPE_BOOL && !v.value.v_bool);
}
END_TEST

START_TEST (test_community_events)
{
   expect_fail ("community_events", "{\"startDate\": " DATE (1800000000000) ", \"endDate\": " DATE (1800000000000) "}",
                "endDate", "after", "End date must be after start date");
   expect_ok ("community_events", "{\"startDate\": " DATE (1800000000000) ", \"endDate\": " DATE (1800000000001) "}");
   expect_ok ("community_events", "{\"capacity\": 100, \"registeredCount\": 100}");
   expect_fail ("community_events", "{\"capacity\": 100, \"registeredCount\": 101}", "registeredCount", "not_greater",
                "Registered count cannot exceed capacity");
   expect_ok ("community_events", "{\"capacity\": {\"$remove\": 1}, \"registeredCount\": 5000}");
   /* Coordinates only when given (seed-notes 1): none is fine, then exactly two. */
   expect_ok ("community_events", "{\"location.coordinates\": []}");
   expect_ok ("community_events", "{\"location.coordinates\": {\"$remove\": 1}}");
   expect_ok ("community_events", "{\"location.coordinates\": [-74.006, 40.7128]}");
   expect_fail ("community_events", "{\"location.coordinates\": [1]}", "location.coordinates", "items_if_any",
                "Coordinates must be [longitude, latitude]");
   expect_fail ("community_events", "{\"location.coordinates\": [1, 2, 3]}", "location.coordinates", "items_if_any",
                "Coordinates must be [longitude, latitude]");
}
END_TEST

START_TEST (test_community_content_image_dimensions)
{
   expect_ok ("community_content", "{\"type\": \"image\", \"metadata.dimensions\": {\"width\": 800, \"height\": 600}}");
   expect_fail ("community_content", "{\"type\": \"image\", \"metadata.dimensions\": {\"$remove\": 1}}",
                "metadata.dimensions", "requires", "Image content must have dimensions");
   expect_fail ("community_content", "{\"type\": \"image\", \"metadata.dimensions\": {\"width\": 800}}",
                "metadata.dimensions", "requires", "Image content must have dimensions");
   expect_ok ("community_content", "{\"type\": \"video\", \"metadata.dimensions\": {\"$remove\": 1}}");
}
END_TEST

START_TEST (test_moderation_and_tickets)
{
   ck_assert (prepared_date ("community_moderation", "{\"status\": \"resolved\", \"resolvedAt\": {\"$remove\": 1}}",
                             "resolvedAt") == NOW);
   {
      bson_value_t v;
      ck_assert (!prepared_value ("community_moderation", "{\"status\": \"pending\", \"resolvedAt\": {\"$remove\": 1}}",
                                  "resolvedAt", &v));
   }
   expect_ok ("community_moderation", "{\"metadata.confidence\": 1}");
   expect_fail ("community_moderation", "{\"metadata.confidence\": 1.01}", "metadata.confidence", "max",
                "Confidence must be between 0 and 1");
   ck_assert (prepared_date ("support_tickets", "{\"status\": \"resolved\", \"resolution.resolvedAt\": {\"$remove\": 1}}",
                             "resolution.resolvedAt") == NOW);
   expect_ok ("support_tickets", "{\"satisfaction.rating\": 5}");
   expect_fail ("support_tickets", "{\"satisfaction.rating\": 6}", "satisfaction.rating", "max",
                "Satisfaction rating must be between 1 and 5");
}
END_TEST

START_TEST (test_suggestion_votes_count)
{
   ck_assert (prepared_number ("community_suggestions",
                               "{\"votes.count\": 25, \"votes.voters\": [{\"$oid\": \"64b0000000000000000000a1\"}, "
                               "{\"$oid\": \"64b0000000000000000000a2\"}]}",
                               "votes.count") == 2);
   ck_assert (prepared_number ("community_suggestions", "{\"votes.count\": 7, \"votes.voters\": []}", "votes.count") == 0);
   /* Absent voters default to [] (as Mongoose's arrays do): the count follows them. */
   ck_assert (prepared_number ("community_suggestions", "{\"votes.count\": 7, \"votes.voters\": {\"$remove\": 1}}",
                               "votes.count") == 0);
   /* Null voters are falsy in the hook: the given count is kept. */
   ck_assert (prepared_number ("community_suggestions", "{\"votes.count\": 25, \"votes.voters\": null}", "votes.count") == 25);
   /* A null votes object stays null: nothing is derived into it. */
   {
      bson_value_t v;
      ck_assert (prepared_value ("community_suggestions", "{\"votes\": null}", "votes", &v));
      ck_assert_int_eq (v.value_type, BSON_TYPE_NULL);
      ck_assert (prepared_value ("community_suggestions", "{\"votes.voters\": null}", "votes.voters", &v));
      ck_assert_int_eq (v.value_type, BSON_TYPE_NULL);
   }
}
END_TEST

START_TEST (test_consultation_future_on_create_or_change)
{
   odm_prepare_opts_t update = {.is_update = true, .now_ms = NOW};
   expect_ok ("consultations", "{\"scheduledAt\": " DATE (1750000000001) "}");
   expect_fail ("consultations", "{\"scheduledAt\": " DATE (1750000000000) "}", "scheduledAt", "future_on_create",
                "Scheduled time must be in the future");
   /* A past consultation saved again (completed, with feedback) is fine (seed-notes 4). */
   {
      odm_violations_t v;
      run ("consultations", "{\"scheduledAt\": " DATE (1700000000000) ", \"status\": \"completed\"}", &update, &v, NULL);
      ck_assert_uint_eq (v.count, 0);
      odm_violations_cleanup (&v);
   }
   expect_ok ("consultations", "{\"feedback.clientRating\": 1, \"feedback.consultantRating\": 5}");
   expect_fail ("consultations", "{\"feedback.clientRating\": 6}", "feedback.clientRating", "max",
                "Client rating must be between 1 and 5");
   expect_fail ("consultations", "{\"feedback.consultantRating\": 0}", "feedback.consultantRating", "min",
                "Consultant rating must be between 1 and 5");
   expect_fail ("consultations", "{\"duration\": 14}", "duration", "min", NULL);
   expect_ok ("consultations", "{\"duration\": 480}");
}
END_TEST

START_TEST (test_consultation_changed_on_update)
{
   const odm_schema_t *s = odm_schema_find ("consultations");
   bson_t *stored_bson = odm_test_fixture_with ("consultations", "{\"scheduledAt\": " DATE (1700000000000) "}");
   void *stored = bson_malloc0 (s->root->size);
   odm_prepare_opts_t update = {.is_update = true, .now_ms = NOW};
   odm_violations_t v;

   ck_assert (odm_from_bson (s, stored_bson, stored, 0, NULL));
   update.previous = stored;
   /* Unchanged past date: fine. Moved to another past date: checked, refused. */
   run ("consultations", "{\"scheduledAt\": " DATE (1700000000000) "}", &update, &v, NULL);
   ck_assert_uint_eq (v.count, 0);
   odm_violations_cleanup (&v);
   expect_fail_opts ("consultations", "{\"scheduledAt\": " DATE (1700000500000) "}", &update, "scheduledAt", "future_on_create",
                     "Scheduled time must be in the future");
   odm_cleanup (s, stored);
   bson_free (stored);
   bson_destroy (stored_bson);
}
END_TEST

START_TEST (test_job_application_interviews)
{
   expect_ok ("job_applications", "{\"interviews.0.rating\": 5}");
   expect_fail ("job_applications", "{\"interviews.0.rating\": 6}", "interviews.0.rating", "max",
                "Interview rating must be between 1 and 5");
   expect_fail ("job_applications", "{\"interviews.0.rating\": 0.5}", "interviews.0.rating", "min",
                "Interview rating must be between 1 and 5");
}
END_TEST

START_TEST (test_webinar_attendance)
{
   expect_fail ("webinar_registrations",
                "{\"attendance.joinedAt\": " DATE (1700000000000) ", \"attendance.leftAt\": " DATE (1700000000000) "}",
                "attendance.leftAt", "after", "Left time must be after joined time");
   ck_assert (prepared_number ("webinar_registrations",
                               "{\"attendance.joinedAt\": " DATE (1700000000000) ", \"attendance.leftAt\": " DATE (
                                  1700003600999) ", \"attendance.duration\": 1}",
                               "attendance.duration") == 3600);
   ck_assert (prepared_number ("webinar_registrations",
                               "{\"attendance.joinedAt\": " DATE (1700000000000) ", \"attendance.leftAt\": " DATE (
                                  1700000000001) "}",
                               "attendance.duration") == 0);
   expect_fail ("webinar_registrations", "{\"feedback.rating\": 0}", "feedback.rating", "min",
                "Feedback rating must be between 1 and 5");
}
END_TEST

START_TEST (test_transaction_refunds_and_tax)
{
   expect_ok ("transactions", "{\"amount\": 20, \"refunds\": [{\"amount\": 12.5}, {\"amount\": 7.5}]}");
   expect_fail ("transactions", "{\"amount\": 20, \"refunds\": [{\"amount\": 12.5}, {\"amount\": 7.51}]}", "refunds",
                "sum_not_greater", "Total refunds cannot exceed transaction amount");
   expect_ok ("transactions", "{\"amount\": 0, \"refunds\": []}");
   expect_ok ("transactions", "{\"tax.rate\": 1}");
   expect_fail ("transactions", "{\"tax.rate\": 1.01}", "tax.rate", "max", "Tax rate must be between 0 and 1");
   expect_fail ("transactions", "{\"tax.rate\": -0.01}", "tax.rate", "min", "Tax rate must be between 0 and 1");
}
END_TEST

START_TEST (test_lab_experiments)
{
   ck_assert (prepared_date ("lab_experiments", "{\"status\": \"completed\", \"timeline.completedAt\": {\"$remove\": 1}}",
                             "timeline.completedAt") == NOW);
   expect_ok ("lab_experiments", "{\"budget.allocated\": 5000, \"budget.spent\": 5000}");
   expect_fail ("lab_experiments", "{\"budget.allocated\": 5000, \"budget.spent\": 5000.01}", "budget.spent",
                "not_greater", "Spent amount cannot exceed allocated budget");
   expect_ok ("lab_experiments", "{\"budget.allocated\": {\"$remove\": 1}, \"budget.spent\": 5000.01}");
}
END_TEST

/* Null in the hooks' comparisons (docs/differences.md, "Null in cross-field rules"): where a
 * hook compares a field unguarded, JavaScript reads null as 0 (`null < 1` is true, a null date
 * is the epoch); where the hook guards it (`if (x && ...)`) or Mongoose's required refuses it
 * first, null is left to those. Absent (undefined) compares false in JavaScript: accepted. */
START_TEST (test_null_in_hook_comparisons)
{
   static const char *const colls[] = {"chat_sessions", "agent_personalization"};
   int i;
   for (i = 0; i < 2; i++) {
      /* maxTokens < 1 with null: refused; temperature < 0 || > 2 with null (0): accepted. */
      expect_fail (colls[i], "{\"settings.maxTokens\": null}", "settings.maxTokens", "min",
                   "Max tokens must be between 1 and 4000");
      expect_ok (colls[i], "{\"settings.temperature\": null}");
   }
   expect_ok ("agents", "{\"stats.averageRating\": null, \"pricing.daily\": null, \"pricing.weekly\": null}");
   expect_ok ("chat_quick_actions", "{\"usageCount\": null}");
   expect_ok ("community_metrics", "{\"metrics.totalUsers\": null, \"metrics.activeUsers\": null}");
   /* spent > allocated: a null allocated is 0, so any spending is refused; a null spent is 0. */
   expect_fail ("lab_experiments", "{\"budget.allocated\": null, \"budget.spent\": 1}", "budget.spent", "not_greater",
                "Spent amount cannot exceed allocated budget");
   expect_ok ("lab_experiments", "{\"budget.allocated\": null, \"budget.spent\": 0}");
   expect_ok ("lab_experiments", "{\"budget.allocated\": null, \"budget.spent\": null}");
   expect_ok ("lab_experiments", "{\"budget.allocated\": 10, \"budget.spent\": null}");
   expect_ok ("lab_experiments", "{\"budget.allocated\": {\"$remove\": 1}, \"budget.spent\": 1}");
   /* expiryDate <= startDate: a null startDate is the epoch. */
   expect_ok ("agent_subscriptions", "{\"startDate\": null, \"expiryDate\": " DATE (1700000000000) "}");
   expect_fail ("agent_subscriptions", "{\"startDate\": null, \"expiryDate\": " DATE (0) "}", "expiryDate", "after",
                "Expiry date must be after start date");
   expect_fail ("agent_subscriptions", "{\"startDate\": null, \"expiryDate\": " DATE (-1000) "}", "expiryDate", "after",
                "Expiry date must be after start date");
   /* Required operands: null is a required violation, once (Mongoose validates before hooks). */
   expect_fail ("agent_subscriptions", "{\"expiryDate\": null}", "expiryDate", "required", NULL);
   expect_fail ("community_events", "{\"startDate\": null}", "startDate", "required", NULL);
   /* this.capacity && registeredCount > capacity: a null capacity skips it; a null count is 0. */
   expect_ok ("community_events", "{\"capacity\": null, \"registeredCount\": 5000}");
   expect_ok ("community_events", "{\"capacity\": 10, \"registeredCount\": null}");
   /* joinedAt && leftAt guard the attendance check. */
   expect_ok ("webinar_registrations", "{\"attendance.joinedAt\": null, \"attendance.leftAt\": " DATE (1700000000000) "}");
   expect_ok ("webinar_registrations", "{\"attendance.joinedAt\": " DATE (1700000000000) ", \"attendance.leftAt\": null}");
}
END_TEST

/* Mongoose's minimize: a save stores no empty object (in mixed values, recursively; array
 * elements stay), and a nested object or mixed field left empty is not stored. */
START_TEST (test_minimize_empty_objects)
{
   bson_value_t v;
   bson_t expect, got;
   bson_error_t err;
   ck_assert (!prepared_value ("transactions", "{\"metadata\": {}}", "metadata", &v));
   ck_assert (!prepared_value ("transactions", "{\"metadata\": {\"a\": {}, \"b\": {\"c\": {}}}}", "metadata", &v));
   ck_assert (!prepared_value ("transactions", "{\"stripe\": {}}", "stripe", &v));
   ck_assert (prepared_value ("transactions",
                              "{\"metadata\": {\"a\": {}, \"b\": 1, \"c\": {\"d\": {}}, \"e\": [{}, {\"f\": {}}, []], "
                              "\"g\": [], \"h\": null}}",
                              "metadata", &v));
   ck_assert_int_eq (v.value_type, BSON_TYPE_DOCUMENT);
   ck_assert (bson_init_static (&got, v.value.v_doc.data, v.value.v_doc.data_len));
   ck_assert (bson_init_from_json (&expect, "{\"b\": 1, \"e\": [{}, {}, []], \"g\": [], \"h\": null}", -1, &err));
   ck_assert_msg (bson_equal (&got, &expect), "got %s", bson_as_relaxed_extended_json (&got, NULL));
   bson_destroy (&expect);
   bson_value_destroy (&v);
   /* Non-empty values are stored byte for byte. */
   ck_assert (prepared_value ("transactions", "{\"metadata\": {\"x\": {\"y\": [1, {\"z\": 2}]}}}", "metadata.x.y.1.z", &v));
   ck_assert_int_eq (v.value_type, BSON_TYPE_INT32);
   /* An empty mixed value inside a nested object, and the nested object then empty too. */
   ck_assert (!prepared_value ("lab_experiments", "{\"methodology\": {\"parameters\": {}}}", "methodology", &v));
   ck_assert (!prepared_value ("lab_experiments", "{\"results.metrics\": {}}", "results.metrics", &v));
   /* An empty object deep inside arrays of arrays, or sixty levels down, is found and dropped;
    * a value holding no empty object is stored byte for byte. */
   ck_assert (prepared_value ("transactions", "{\"metadata\": {\"e\": [[{\"f\": {}, \"g\": 1}], [[]]]}}", "metadata", &v));
   ck_assert (bson_init_static (&got, v.value.v_doc.data, v.value.v_doc.data_len));
   ck_assert (bson_init_from_json (&expect, "{\"e\": [[{\"g\": 1}], [[]]]}", -1, &err));
   ck_assert_msg (bson_equal (&got, &expect), "got %s", bson_as_relaxed_extended_json (&got, NULL));
   bson_destroy (&expect);
   bson_value_destroy (&v);
   for (int empty = 0; empty < 2; empty++) {
      char json[1024] = "{\"metadata\": ";
      char want[1024] = "";
      for (int i = 0; i < 60; i++) {
         strcat (json, i % 3 == 2 ? "[{\"a\": " : "{\"a\": ");
         strcat (want, i % 3 == 2 ? "[{\"a\": " : "{\"a\": ");
      }
      strcat (json, empty ? "{\"x\": 1, \"y\": {}}" : "{\"x\": 1, \"y\": {\"z\": [{}]}}");
      strcat (want, empty ? "{\"x\": 1}" : "{\"x\": 1, \"y\": {\"z\": [{}]}}");
      for (int i = 59; i >= 0; i--) {
         strcat (json, i % 3 == 2 ? "}]" : "}");
         strcat (want, i % 3 == 2 ? "}]" : "}");
      }
      strcat (json, "}");
      ck_assert (prepared_value ("transactions", json, "metadata", &v));
      ck_assert (bson_init_static (&got, v.value.v_doc.data, v.value.v_doc.data_len));
      ck_assert (bson_init_from_json (&expect, want, -1, &err));
      ck_assert_msg (got.len == expect.len && memcmp (bson_get_data (&got), bson_get_data (&expect), got.len) == 0,
                     "depth 60, %s: got %s", empty ? "an empty object" : "no empty object",
                     bson_as_relaxed_extended_json (&got, NULL));
      bson_destroy (&expect);
      bson_value_destroy (&v);
   }
   /* null is a value: kept. */
   ck_assert (prepared_value ("transactions", "{\"metadata\": null}", "metadata", &v));
   ck_assert_int_eq (v.value_type, BSON_TYPE_NULL);
}
END_TEST

Suite *
hooks_suite (void)
{
   Suite *s = suite_create ("hooks");
   TCase *tc = tcase_create ("hooks");
   tcase_add_test (tc, test_chat_settings_favorites);
   tcase_add_test (tc, test_chat_sessions_and_personalization_ranges);
   tcase_add_test (tc, test_chat_feedback);
   tcase_add_test (tc, test_non_negative_counters);
   tcase_add_test (tc, test_canvas_file_size_is_utf8_bytes);
   tcase_add_test (tc, test_subscription_dates_and_price);
   tcase_add_test (tc, test_email_and_username_patterns);
   tcase_add_test (tc, test_agents);
   tcase_add_test (tc, test_contact_message_length);
   tcase_add_test (tc, test_community_posts);
   tcase_add_test (tc, test_community_comments);
   tcase_add_test (tc, test_community_groups);
   tcase_add_test (tc, test_memberships_admin_moderates);
   tcase_add_test (tc, test_community_events);
   tcase_add_test (tc, test_community_content_image_dimensions);
   tcase_add_test (tc, test_moderation_and_tickets);
   tcase_add_test (tc, test_suggestion_votes_count);
   tcase_add_test (tc, test_consultation_future_on_create_or_change);
   tcase_add_test (tc, test_consultation_changed_on_update);
   tcase_add_test (tc, test_job_application_interviews);
   tcase_add_test (tc, test_webinar_attendance);
   tcase_add_test (tc, test_transaction_refunds_and_tax);
   tcase_add_test (tc, test_lab_experiments);
   tcase_add_test (tc, test_null_in_hook_comparisons);
   tcase_add_test (tc, test_minimize_empty_objects);
   suite_add_tcase (s, tc);
   return s;
}
