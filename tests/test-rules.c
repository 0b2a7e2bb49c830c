/* Field rules at their boundaries: required, enum, min/max, minlength/maxlength (in
 * UTF-16 code units, as Mongoose counts), lowercase, defaults, timestamps, _ids. */
#include "test-util.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const int64_t NOW = 1750000000000; /* fixed clock for prepare */

static void
session_valid (odm_chat_session_t *s)
{
   odm_init_at (&odm_chat_session_schema, s, NOW);
   s->sessionId = bson_strdup ("session-1");
   bson_oid_init_from_string (&s->userId, "64b0000000000000000000a1");
   s->has_userId = ODM_PRESENT;
   bson_oid_init_from_string (&s->agentId, "64b0000000000000000000b1");
   s->has_agentId = ODM_PRESENT;
   s->name = bson_strdup ("n");
}

static char *
repeat (const char *unit, size_t n)
{
   size_t len = strlen (unit), i;
   char *s = bson_malloc (len * n + 1);
   for (i = 0; i < n; i++) {
      memcpy (s + i * len, unit, len);
   }
   s[len * n] = '\0';
   return s;
}

/* Validates S and returns the number of violations, keeping them in V. */
static size_t
check (const odm_chat_session_t *s, odm_violations_t *v)
{
   odm_chat_session_validate (s, NULL, v);
   return v->count;
}

START_TEST (test_valid_baseline)
{
   odm_chat_session_t s;
   odm_violations_t v;
   session_valid (&s);
   ck_assert_uint_eq (check (&s, &v), 0);
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_number_bounds)
{
   static const struct {
      double temperature, maxTokens;
      const char *path, *rule, *message;
   } cases[] = {
      {2.0, 2000, NULL, NULL, NULL},
      {0.0, 1, NULL, NULL, NULL},
      {2.0001, 2000, "settings.temperature", "max", "Temperature must be between 0 and 2"},
      {-0.0001, 2000, "settings.temperature", "min", "Temperature must be between 0 and 2"},
      {1, 4000, NULL, NULL, NULL},
      {1, 4001, "settings.maxTokens", "max", "Max tokens must be between 1 and 4000"},
      {1, 0.999, "settings.maxTokens", "min", "Max tokens must be between 1 and 4000"},
   };
   size_t i;
   for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      odm_chat_session_t s;
      odm_violations_t v;
      session_valid (&s);
      s.settings.temperature = cases[i].temperature;
      s.settings.maxTokens = cases[i].maxTokens;
      check (&s, &v);
      if (!cases[i].path) {
         ck_assert_msg (v.count == 0, "case %zu: unexpected %s", i, v.count ? v.items[0].message : "");
      } else {
         ck_assert_msg (v.count == 1, "case %zu: %zu violations", i, v.count);
         ck_assert (odm_test_has_violation (&v, cases[i].path, cases[i].rule, cases[i].message));
      }
      odm_violations_cleanup (&v);
      odm_chat_session_cleanup (&s);
   }
}
END_TEST

START_TEST (test_maxlength_utf16)
{
   odm_chat_session_t s;
   odm_violations_t v;

   session_valid (&s);
   bson_free (s.name);
   s.name = repeat ("x", 100);
   ck_assert_uint_eq (check (&s, &v), 0);
   odm_violations_cleanup (&v);
   bson_free (s.name);
   s.name = repeat ("x", 101);
   ck_assert_uint_eq (check (&s, &v), 1);
   ck_assert (odm_test_has_violation (&v, "name", "maxlength", "must be at most 100 characters long (got 101)"));
   odm_violations_cleanup (&v);
   /* U+00E9 is 2 bytes but 1 UTF-16 unit: 100 of them pass. */
   bson_free (s.name);
   s.name = repeat ("\xc3\xa9", 100);
   ck_assert_uint_eq (check (&s, &v), 0);
   odm_violations_cleanup (&v);
   /* U+1F600 is 4 bytes and 2 UTF-16 units: 50 pass, 51 fail. */
   bson_free (s.name);
   s.name = repeat ("\xf0\x9f\x98\x80", 50);
   ck_assert_uint_eq (check (&s, &v), 0);
   odm_violations_cleanup (&v);
   bson_free (s.name);
   s.name = repeat ("\xf0\x9f\x98\x80", 51);
   ck_assert_uint_eq (check (&s, &v), 1);
   ck_assert (odm_test_has_violation (&v, "name", "maxlength", NULL));
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_array_element_rules)
{
   odm_chat_session_t s;
   odm_violations_t v;
   session_valid (&s);
   s.tags.items = bson_malloc (2 * sizeof (char *));
   s.tags.items[0] = repeat ("t", 50);
   s.tags.items[1] = repeat ("t", 51);
   s.tags.count = 2;
   ck_assert_uint_eq (check (&s, &v), 1);
   ck_assert (odm_test_has_violation (&v, "tags.1", "maxlength", NULL));
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_enum_and_required_all_reported)
{
   odm_chat_session_t s;
   odm_violations_t v;
   session_valid (&s);
   bson_free (s.settings.mode);
   s.settings.mode = bson_strdup ("turbo");
   bson_free (s.sessionId);
   s.sessionId = bson_strdup (""); /* Mongoose's required rejects the empty string */
   s.has_userId = ODM_NULL;
   odm_chat_session_unset_agentId (&s); /* value and flag: a value left without its flag is a "presence" violation */
   s.settings.temperature = 3;
   ck_assert_uint_eq (check (&s, &v), 5);
   ck_assert (odm_test_has_violation (&v, "sessionId", "required", "is required"));
   ck_assert (odm_test_has_violation (&v, "userId", "required", NULL));
   ck_assert (odm_test_has_violation (&v, "agentId", "required", NULL));
   ck_assert (odm_test_has_violation (
      &v, "settings.mode", "enum", "\"turbo\" is not one of: professional, balanced, creative, fast, coding"));
   ck_assert (odm_test_has_violation (&v, "settings.temperature", "max", NULL));
   odm_violations_cleanup (&v);

   /* Enum accepts each listed value. */
   bson_free (s.settings.mode);
   s.settings.mode = bson_strdup ("coding");
   bson_free (s.sessionId);
   s.sessionId = bson_strdup ("x");
   s.has_userId = s.has_agentId = ODM_PRESENT;
   s.settings.temperature = 1;
   ck_assert_uint_eq (check (&s, &v), 0);
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_violations_as_error)
{
   odm_chat_session_t s;
   odm_violations_t v;
   bson_error_t err;
   bson_t doc = BSON_INITIALIZER;
   session_valid (&s);
   s.settings.temperature = 9;
   check (&s, &v);
   odm_violations_to_error (&v, &err);
   ck_assert_uint_eq (err.code, ODM_ERROR_VALIDATION);
   ck_assert_str_eq (err.message, "settings.temperature: Temperature must be between 0 and 2 (max)");
   ck_assert (odm_violations_append_bson (&v, &doc, "errors"));
   {
      char *json = bson_as_relaxed_extended_json (&doc, NULL);
      ck_assert_str_eq (json, "{ \"errors\" : [ { \"path\" : \"settings.temperature\", \"rule\" : \"max\", "
                              "\"message\" : \"Temperature must be between 0 and 2\" } ] }");
      bson_free (json);
   }
   bson_destroy (&doc);
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_prepare_defaults_ids_timestamps)
{
   odm_chat_session_t s;
   odm_violations_t v;
   odm_prepare_opts_t create = {.is_update = false, .now_ms = NOW};
   odm_prepare_opts_t update = {.is_update = true, .now_ms = NOW + 5000};

   memset (&s, 0, sizeof s);
   s.sessionId = bson_strdup ("s");
   s.name = bson_strdup ("n");
   s.has_userId = s.has_agentId = ODM_PRESENT;
   ck_assert (odm_chat_session_prepare (&s, &create, &v));
   odm_violations_cleanup (&v);
   ck_assert_uint_eq (s.has__id, ODM_PRESENT);
   ck_assert (s.createdAt == NOW && s.updatedAt == NOW);
   ck_assert (s.settings.temperature == 0.7 && s.stats.lastMessageAt == NOW);
   ck_assert_str_eq (s.settings.mode, "balanced");
   ck_assert (s.has_tags == ODM_PRESENT);

   /* An update keeps createdAt, moves updatedAt, keeps values already set. */
   s.settings.temperature = 1.5;
   ck_assert (odm_chat_session_prepare (&s, &update, &v));
   odm_violations_cleanup (&v);
   ck_assert (s.createdAt == NOW && s.updatedAt == NOW + 5000);
   ck_assert (s.settings.temperature == 1.5);
   odm_chat_session_cleanup (&s);
}
END_TEST

START_TEST (test_lowercase_applied)
{
   odm_user_t u;
   odm_violations_t v;
   odm_prepare_opts_t o = {.now_ms = NOW};
   odm_user_init (&u);
   u.email = bson_strdup ("John.DOE@Example.COM");
   u.username = bson_strdup ("johndoe");
   ck_assert (odm_user_prepare (&u, &o, &v));
   ck_assert_str_eq (u.email, "john.doe@example.com");
   odm_violations_cleanup (&v);
   bson_free (u.email);
   u.email = bson_strdup ("\xc3\x89LODIE@EXAMPLE.FR"); /* É -> é, as JavaScript's toLowerCase */
   ck_assert (odm_user_prepare (&u, &o, &v));
   ck_assert_str_eq (u.email, "\xc3\xa9lodie@example.fr");
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);
}
END_TEST

START_TEST (test_minlength)
{
   odm_user_t u;
   odm_violations_t v;
   odm_user_init (&u);
   u.email = bson_strdup ("a@b.co");
   u.username = bson_strdup ("abc");
   ck_assert (odm_user_validate (&u, NULL, &v));
   odm_violations_cleanup (&v);
   bson_free (u.username);
   u.username = bson_strdup ("ab");
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "username", "minlength", "must be at least 3 characters long (got 2)"));
   odm_violations_cleanup (&v);
   bson_free (u.username);
   u.username = repeat ("a", 30);
   ck_assert (odm_user_validate (&u, NULL, &v));
   odm_violations_cleanup (&v);
   bson_free (u.username);
   u.username = repeat ("a", 31);
   ck_assert (!odm_user_validate (&u, NULL, &v));
   ck_assert (odm_test_has_violation (&v, "username", "maxlength", NULL));
   odm_violations_cleanup (&v);
   /* Lengths are UTF-16 units: the validator skips the count only when the byte length
    * settles it (at least 3 bytes per unit, at most 1), so values around those edges. */
   {
      static const struct {
         const char *s;
         bool too_short, too_long;
      } cases[] = {
         {"\xc3\xa9\xc3\xa9", true, false},              /* 4 bytes, 2 units */
         {"\xc3\xa9\xc3\xa9\xc3\xa9", false, false},     /* 6 bytes, 3 units */
         {"\xe6\x97\xa5\xe6\x9c\xac", true, false},      /* 6 bytes, 2 units */
         {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", false, false}, /* 9 bytes, 3 units */
         {"\xf0\x9f\x98\x80", true, false},              /* 4 bytes, 2 units */
         {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", false, false}, /* 8 bytes, 4 units */
      };
      size_t i;
      for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
         bson_free (u.username);
         u.username = bson_strdup (cases[i].s);
         odm_user_validate (&u, NULL, &v);
         ck_assert_msg (odm_test_has_violation (&v, "username", "minlength", NULL) == cases[i].too_short, "case %zu", i);
         ck_assert_msg (odm_test_has_violation (&v, "username", "maxlength", NULL) == cases[i].too_long, "case %zu", i);
         odm_violations_cleanup (&v);
      }
      bson_free (u.username);
      u.username = repeat ("\xe6\x97\xa5", 30); /* 90 bytes, 30 units: within 30 */
      odm_user_validate (&u, NULL, &v);
      ck_assert (!odm_test_has_violation (&v, "username", "maxlength", NULL));
      odm_violations_cleanup (&v);
      bson_free (u.username);
      u.username = repeat ("\xf0\x9f\x98\x80", 16); /* 64 bytes, 32 units */
      odm_user_validate (&u, NULL, &v);
      ck_assert (odm_test_has_violation (&v, "username", "maxlength", "must be at most 30 characters long (got 32)"));
      odm_violations_cleanup (&v);
   }
   odm_user_cleanup (&u);
}
END_TEST

START_TEST (test_subdocument_rules)
{
   odm_community_post_t p;
   odm_violations_t v;
   odm_prepare_opts_t o = {.now_ms = NOW};
   odm_community_post_init (&p);
   p.has_authorId = ODM_PRESENT;
   p.title = bson_strdup ("t");
   p.content = bson_strdup ("c");
   p.category = bson_strdup ("news");
   p.attachments.items = bson_malloc0 (2 * sizeof *p.attachments.items);
   p.attachments.count = 2;
   p.attachments.items[0].url = bson_strdup ("https://x");
   p.attachments.items[0].name = bson_strdup ("a.png");
   p.attachments.items[1].name = bson_strdup ("b.png");
   p.attachments.items[1].type = bson_strdup ("gif");
   ck_assert (!odm_community_post_prepare (&p, &o, &v));
   ck_assert_uint_eq (v.count, 2);
   ck_assert (odm_test_has_violation (&v, "attachments.1.url", "required", NULL));
   ck_assert (odm_test_has_violation (&v, "attachments.1.type", "enum", NULL));
   /* prepare gave each subdocument its _id, as Mongoose does. */
   ck_assert (p.attachments.items[0].has__id == ODM_PRESENT && p.attachments.items[1].has__id == ODM_PRESENT);
   ck_assert (!bson_oid_equal (&p.attachments.items[0]._id, &p.attachments.items[1]._id));
   odm_violations_cleanup (&v);
   odm_community_post_cleanup (&p);
}
END_TEST

START_TEST (test_nan_rejected)
{
   odm_chat_session_t s;
   odm_violations_t v;
   session_valid (&s);
   s.settings.temperature = NAN;
   ck_assert_uint_eq (check (&s, &v), 1);
   ck_assert (odm_test_has_violation (&v, "settings.temperature", "number", NULL));
   odm_violations_cleanup (&v);
   odm_chat_session_cleanup (&s);
}
END_TEST

/* Mongoose's nested paths (every object of the platform specification that is not an
 * array element) always exist, so their required children are required even when the
 * object is absent or null. For every collection and every such object with a required
 * leaf below it, the fixture without the object, and with it null, must report each
 * required leaf by its full path, through decode + validate and decode + prepare. */
static size_t
expect_required_below (const odm_object_desc_t *d, const char *prefix, const odm_violations_t *v, const char *what)
{
   uint32_t i;
   size_t n = 0;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      char path[256];
      bson_snprintf (path, sizeof path, "%s.%s", prefix, f->name);
      if (f->flags & ODM_F_ARRAY) {
         continue;
      }
      if (f->flags & ODM_F_REQUIRED) {
         if (!odm_test_has_violation (v, path, "required", NULL)) {
            odm_test_print_violations (what, v);
         }
         ck_assert_msg (odm_test_has_violation (v, path, "required", NULL), "%s: %s not reported as required", what,
                        path);
         n++;
      }
      if (f->kind == ODM_KIND_OBJECT) {
         n += expect_required_below (f->object, path, v, what);
      }
   }
   return n;
}

static bool
has_required_below (const odm_object_desc_t *d)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (!(f->flags & ODM_F_ARRAY) &&
          ((f->flags & ODM_F_REQUIRED) || (f->kind == ODM_KIND_OBJECT && has_required_below (f->object)))) {
         return true;
      }
   }
   return false;
}

static size_t
nested_required_cases (const odm_schema_t *s, const odm_object_desc_t *d, const char *prefix)
{
   uint32_t i;
   size_t n = 0;
   int how;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      char path[256];
      if (f->kind != ODM_KIND_OBJECT || (f->flags & ODM_F_ARRAY) || !has_required_below (f->object)) {
         continue;
      }
      bson_snprintf (path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", f->name);
      for (how = 0; how < 3; how++) {
         static const char *const value[] = {"{\"$remove\": 1}", "null", "{}"};
         char *edits = bson_strdup_printf ("{\"%s\": %s}", path, value[how]);
         char what[400];
         bson_t *in = odm_test_fixture_with (s->collection, edits);
         void *doc = bson_malloc0 (s->root->size);
         odm_prepare_opts_t o = {.now_ms = NOW};
         odm_violations_t v;
         bson_error_t err;
         bson_snprintf (what, sizeof what, "%s %s", s->collection, edits);
         ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err), "%s: %s", what, err.message);
         ck_assert_msg (!odm_validate (s, doc, &o, &v), "%s: validate accepted it", what);
         n += expect_required_below (f->object, path, &v, what);
         odm_violations_cleanup (&v);
         ck_assert_msg (!odm_prepare (s, doc, &o, &v), "%s: prepare accepted it", what);
         expect_required_below (f->object, path, &v, what);
         odm_violations_cleanup (&v);
         if (how < 2) { /* the update path: $unset it, or $set it to null, on the valid fixture */
            static const char *const op[] = {"{\"$unset\": {\"%s\": \"\"}}", "{\"$set\": {\"%s\": null}}"};
            char *uj = bson_strdup_printf (op[how], path);
            bson_t *stored = odm_test_fixture_with (s->collection, "{}");
            bson_t *update = bson_new_from_json ((const uint8_t *) uj, -1, &err);
            odm_update_opts_t uo = {.size = sizeof (odm_update_opts_t), .now_ms = NOW};
            bson_t result;
            ck_assert_msg (update != NULL, "%s", uj);
            ck_assert_msg (!odm_update_apply (s, stored, update, &uo, &result, &v, &err), "%s %s: update accepted it",
                           s->collection, uj);
            bson_snprintf (what, sizeof what, "%s %s", s->collection, uj);
            expect_required_below (f->object, path, &v, what);
            odm_violations_cleanup (&v);
            bson_destroy (&result);
            bson_destroy (update);
            bson_destroy (stored);
            bson_free (uj);
         }
         odm_cleanup (s, doc);
         bson_free (doc);
         bson_destroy (in);
         bson_free (edits);
      }
   }
   return n;
}

START_TEST (test_required_inside_absent_or_null_object)
{
   size_t count, i, n = 0;
   const odm_schema_t *const *all = odm_schemas (&count);
   for (i = 0; i < count; i++) {
      n += nested_required_cases (all[i], all[i]->root, "");
   }
   /* paymentMethod.type, consultations location.type and pricing.amount, community_events
    * location.type, job_applications resume.filename and resume.url, webinar_registrations
    * registrationData.firstName, .lastName and .email: 9 leaves, 3 ways each. */
   ck_assert_uint_eq (n, 27);
}
END_TEST

START_TEST (test_transaction_without_payment_method)
{
   bson_t *in = odm_test_fixture_with ("transactions", "{\"paymentMethod\": {\"$remove\": 1}}");
   odm_transaction_t t;
   odm_violations_t v;
   ck_assert (odm_transaction_from_bson (in, &t, ODM_DECODE_STRICT, NULL));
   ck_assert (!odm_transaction_validate (&t, NULL, &v));
   ck_assert_uint_eq (v.count, 1);
   ck_assert (odm_test_has_violation (&v, "paymentMethod.type", "required", "is required"));
   odm_violations_cleanup (&v);
   odm_transaction_cleanup (&t);
   bson_destroy (in);
}
END_TEST

static size_t
utf8_encode (uint32_t c, char *out)
{
   if (c < 0x80) {
      out[0] = (char) c;
      return 1;
   }
   out[0] = (char) (0xC0 | (c >> 6));
   out[1] = (char) (0x80 | (c & 0x3F));
   return 2;
}

/* Every code point of the blocks docs/differences.md promises (U+0001..U+017F,
 * U+0370..U+04FF) against JavaScript's toLowerCase() (tests/data/lowercase-js.txt, written by
 * node; the library's table comes from Python's Unicode data): alone and inside a word. */
START_TEST (test_lowercase_matches_javascript)
{
   static const uint32_t blocks[][2] = {{0x0001, 0x017F}, {0x0370, 0x04FF}};
   char path[1024], *text, *line, *save = NULL;
   char *expect[0x500] = {0};
   size_t b, changed = 0;
   uint32_t c;

   snprintf (path, sizeof path, "%s/lowercase-js.txt", ODM_TEST_DATA_DIR);
   text = odm_test_read_file (path, NULL);
   ck_assert_msg (text != NULL, "%s missing", path);
   for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save)) {
      unsigned int cp;
      char hex[32], bytes[16];
      size_t i, n;
      if (line[0] == '#') {
         continue;
      }
      ck_assert (sscanf (line, "%x %31s", &cp, hex) == 2 && cp < 0x500);
      n = strlen (hex) / 2;
      ck_assert (n < sizeof bytes);
      for (i = 0; i < n; i++) {
         unsigned int byte;
         ck_assert (sscanf (hex + 2 * i, "%2x", &byte) == 1);
         bytes[i] = (char) byte;
      }
      bytes[n] = '\0';
      expect[cp] = bson_strdup (bytes);
      changed++;
   }
   ck_assert_uint_ge (changed, 290);
   for (b = 0; b < 2; b++) {
      for (c = blocks[b][0]; c <= blocks[b][1]; c++) {
         char in[8], word[16], want[16], *got;
         size_t n = utf8_encode (c, in);
         const char *low = expect[c] ? expect[c] : NULL;
         in[n] = '\0';
         if (!low) {
            low = in;
         }
         got = odm_lowercase (in);
         ck_assert_msg (strcmp (got, low) == 0, "U+%04X: got %s, JavaScript %s", c, got, low);
         bson_free (got);
         /* inside a word, where final sigma does not apply */
         bson_snprintf (word, sizeof word, "A%sB", in);
         bson_snprintf (want, sizeof want, "a%sb", low);
         got = odm_lowercase (word);
         ck_assert_msg (strcmp (got, want) == 0, "A U+%04X B: got %s, JavaScript %s", c, got, want);
         bson_free (got);
         /* in place: the same, but U+0130 (which grows) is left as it is */
         odm_lowercase_inplace (in);
         ck_assert_msg (strcmp (in, c == 0x130 ? "\xc4\xb0" : low) == 0, "in place U+%04X", c);
      }
   }
   for (c = 0; c < 0x500; c++) {
      bson_free (expect[c]);
   }
   bson_free (text);
}
END_TEST

START_TEST (test_lowercase_dotted_capital_i_on_prepare)
{
   odm_user_t u;
   odm_violations_t v;
   odm_prepare_opts_t o = {.now_ms = NOW};
   odm_user_init (&u);
   /* "İSTANBUL@ÁΆ.GR": İ grows to i + U+0307, Á to á, Ά to ά */
   u.email = bson_strdup ("\xc4\xb0STANBUL@\xc3\x81\xce\x86.GR");
   u.username = bson_strdup ("ist");
   ck_assert (odm_user_prepare (&u, &o, &v));
   ck_assert_str_eq (u.email, "i\xcc\x87stanbul@\xc3\xa1\xce\xac.gr");
   odm_violations_cleanup (&v);
   odm_user_cleanup (&u);
}
END_TEST

/* Every rule kind's primitive, made to fail, reports the kind a spec writes as its rule
 * (before: not_equal_id reported "not_self", items_if_any "items", byte_length_equals
 * "byte_length", future_on_create "future", seconds_between "derive"). */
START_TEST (test_primitives_report_their_kind)
{
   static const char *const kinds[] = {
#define KIND(k) #k,
      ODM_RULE_KINDS (KIND)
#undef KIND
   };
   typedef struct {
      double v;
      uint8_t has_v;
   } elem_t;
   elem_t elems[2] = {{3, ODM_PRESENT}, {4, ODM_PRESENT}};
   bson_oid_t id;
   odm_regex_t re = {.source = "^a$", .flags = 0};
   odm_prepare_opts_t create = {0};
   odm_violations_t v;
   odm_rule_ctx_t ctx;
   double secs = 0;
   uint8_t has_secs = ODM_ABSENT;
   size_t i;

   odm_violations_init (&v);
   memset (&ctx, 0, sizeof ctx);
   ctx.out = &v;
   ctx.opts = &create;
   ctx.now_ms = NOW;
   bson_oid_init_from_string (&id, "64b0000000000000000000a1");
   /* in the order of ODM_RULE_KINDS */
   odm_rule_min (&ctx, "p", ODM_PRESENT, 0, 1, "m");
   odm_rule_max (&ctx, "p", ODM_PRESENT, 2, 1, "m");
   odm_rule_after (&ctx, "p", ODM_PRESENT, 1, ODM_PRESENT, 2, "m");
   odm_rule_not_greater (&ctx, "p", ODM_PRESENT, 3, ODM_PRESENT, 2, "m");
   odm_rule_max_items (&ctx, "p", 3, 2, "m");
   odm_rule_items_if_any (&ctx, "p", 1, 2, "m");
   odm_rule_sum_not_greater (&ctx, "p", elems, 2, sizeof elems[0], offsetof (elem_t, v), offsetof (elem_t, has_v),
                             ODM_PRESENT, 6, "m");
   odm_rule_regex (&ctx, "p", "b", &re, "m");
   odm_rule_minlength (&ctx, "p", "ab", 3, "m");
   odm_rule_byte_length_equals (&ctx, "p", "ab", ODM_PRESENT, 3, "m");
   odm_rule_not_equal_id (&ctx, "p", ODM_PRESENT, &id, ODM_PRESENT, &id, "m");
   odm_rule_future_on_create (&ctx, "p", ODM_PRESENT, NOW - 1, NULL, NULL, "m");
   odm_rule_requires (&ctx, "p", true, false, "m");
   ck_assert_uint_eq (v.count, sizeof kinds / sizeof kinds[0]);
   for (i = 0; i < v.count; i++) {
      ck_assert_str_eq (v.items[i].rule, kinds[i]);
   }
   /* the named patterns report "pattern" too */
   odm_rule_pattern (&ctx, "p", "not an email", ODM_PATTERN_EMAIL, "m");
   ck_assert_str_eq (v.items[v.count - 1].rule, "pattern");
   /* the one derivation that can fail */
   odm_derive_seconds_between (&ctx, "d", ODM_PRESENT, INT64_MIN, ODM_PRESENT, INT64_MAX, &secs, &has_secs);
   ck_assert_str_eq (v.items[v.count - 1].rule, "seconds_between");
   ck_assert_uint_eq (has_secs, ODM_ABSENT);
   odm_regex_cleanup (&re);
   odm_violations_cleanup (&v);
}
END_TEST

/* sum_not_greater sums only the present values; no elements or no bound: nothing to check. */
START_TEST (test_sum_not_greater)
{
   typedef struct {
      char pad;
      double amount;
      uint8_t has_amount;
   } refund_t;
   refund_t r[3] = {{0, 5, ODM_PRESENT}, {0, 100, ODM_NULL}, {0, 5, ODM_PRESENT}};
   odm_violations_t v;
   odm_rule_ctx_t ctx;
   odm_violations_init (&v);
   memset (&ctx, 0, sizeof ctx);
   ctx.out = &v;
#define SUM(n, has_than, than)                                                                                        \
   odm_rule_sum_not_greater (&ctx, "refunds", r, n, sizeof r[0], offsetof (refund_t, amount),                         \
                             offsetof (refund_t, has_amount), has_than, than, "too much")
   SUM (3, ODM_PRESENT, 10); /* 5 + 5: not greater */
   ck_assert_uint_eq (v.count, 0);
   SUM (3, ODM_ABSENT, 1);
   SUM (0, ODM_PRESENT, -1);
   ck_assert_uint_eq (v.count, 0);
   SUM (3, ODM_PRESENT, 9.5);
   ck_assert_uint_eq (v.count, 1);
   ck_assert (odm_test_has_violation (&v, "refunds", "sum_not_greater", "too much"));
#undef SUM
   odm_violations_cleanup (&v);
}
END_TEST

/* The derivation primitives: now_when keeps a present date, true_when sets, count_of leaves a
 * count whose holder or array is null. */
START_TEST (test_derive_primitives)
{
   odm_rule_ctx_t ctx;
   int64_t when = 7;
   uint8_t has_when = ODM_PRESENT, has_flag = ODM_ABSENT, has_count = ODM_ABSENT;
   bool flag = false;
   double count = 9;
   memset (&ctx, 0, sizeof ctx);
   ctx.now_ms = NOW;
   odm_derive_now_when (&ctx, "w", true, &has_when, &when);
   ck_assert_int_eq (when, 7);
   has_when = ODM_NULL;
   odm_derive_now_when (&ctx, "w", false, &has_when, &when);
   ck_assert_uint_eq (has_when, ODM_NULL);
   odm_derive_now_when (&ctx, "w", true, &has_when, &when);
   ck_assert_int_eq (when, NOW);
   ck_assert_uint_eq (has_when, ODM_PRESENT);
   odm_derive_true_when (&ctx, "f", false, &has_flag, &flag);
   ck_assert (!flag && has_flag == ODM_ABSENT);
   odm_derive_true_when (&ctx, "f", true, &has_flag, &flag);
   ck_assert (flag && has_flag == ODM_PRESENT);
   odm_derive_count_of (&ctx, "c", false, ODM_PRESENT, 2, &has_count, &count);
   odm_derive_count_of (&ctx, "c", true, ODM_NULL, 2, &has_count, &count);
   ck_assert (count == 9 && has_count == ODM_ABSENT);
   odm_derive_count_of (&ctx, "c", true, ODM_ABSENT, 0, &has_count, &count);
   ck_assert (count == 0 && has_count == ODM_PRESENT);
}
END_TEST

Suite *
rules_suite (void)
{
   Suite *s = suite_create ("rules");
   TCase *tc = tcase_create ("rules");
   tcase_add_test (tc, test_valid_baseline);
   tcase_add_test (tc, test_number_bounds);
   tcase_add_test (tc, test_maxlength_utf16);
   tcase_add_test (tc, test_array_element_rules);
   tcase_add_test (tc, test_enum_and_required_all_reported);
   tcase_add_test (tc, test_violations_as_error);
   tcase_add_test (tc, test_prepare_defaults_ids_timestamps);
   tcase_add_test (tc, test_lowercase_applied);
   tcase_add_test (tc, test_lowercase_matches_javascript);
   tcase_add_test (tc, test_lowercase_dotted_capital_i_on_prepare);
   tcase_add_test (tc, test_minlength);
   tcase_add_test (tc, test_subdocument_rules);
   tcase_add_test (tc, test_nan_rejected);
   tcase_add_test (tc, test_required_inside_absent_or_null_object);
   tcase_add_test (tc, test_transaction_without_payment_method);
   tcase_add_test (tc, test_primitives_report_their_kind);
   tcase_add_test (tc, test_sum_not_greater);
   tcase_add_test (tc, test_derive_primitives);
   suite_add_tcase (s, tc);
   return s;
}
