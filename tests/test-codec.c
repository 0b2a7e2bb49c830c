/* Codec tests: every collection's full and minimal fixture round-trips byte-identical
 * through the generated tables; strict typing with full paths; unknown fields kept;
 * failed decodes leave nothing behind. */
#include "test-util.h"

#include <stdio.h>
#include <string.h>

/* Every path of D is present in OBJ: scalars set, arrays non-empty, each element complete. */
static void
assert_all_present (const odm_object_desc_t *d, const void *obj, const char *coll, const char *path)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      char sub[512];
      snprintf (sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
      ck_assert_msg (odm_field_state (f, obj) == ODM_PRESENT, "%s.full.json: %s is not set", coll, sub);
      if (f->flags & ODM_F_ARRAY) {
         size_t n, k;
         const char *items = odm_field_array (f, obj, &n);
         ck_assert_msg (n > 0, "%s.full.json: array %s is empty", coll, sub);
         for (k = 0; k < n && f->kind == ODM_KIND_OBJECT; k++) {
            assert_all_present (f->object, items + k * f->elem_size, coll, sub);
         }
      } else if (f->kind == ODM_KIND_OBJECT) {
         assert_all_present (f->object, odm_field_value (f, obj), coll, sub);
      }
   }
}

/* Exactly the required paths (and _id) of D are present in OBJ. */
static void
assert_only_required (const odm_object_desc_t *d, const void *obj, const char *coll, const char *path)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t st = odm_field_state (f, obj);
      char sub[512];
      snprintf (sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->name);
      if (f->kind == ODM_KIND_OBJECT && !(f->flags & ODM_F_ARRAY)) {
         assert_only_required (f->object, odm_field_value (f, obj), coll, sub);
      } else if ((f->flags & (ODM_F_REQUIRED | ODM_F_AUTO_ID))) {
         ck_assert_msg (st == ODM_PRESENT, "%s.min.json: required %s is missing", coll, sub);
      } else {
         ck_assert_msg (st == ODM_ABSENT, "%s.min.json: optional %s is set", coll, sub);
      }
   }
}

static void
assert_same_bson (const bson_t *a, const bson_t *b, const char *what)
{
   if (a->len != b->len || memcmp (bson_get_data (a), bson_get_data (b), a->len) != 0) {
      char *ja = bson_as_canonical_extended_json (a, NULL);
      char *jb = bson_as_canonical_extended_json (b, NULL);
      ck_abort_msg ("%s: BSON differs\n expected %s\n      got %s", what, ja, jb);
   }
}

/* File -> BSON -> struct -> BSON -> struct -> BSON, all byte-identical to the file. */
static void
roundtrip_fixture (const odm_schema_t *s, const char *variant)
{
   char name[256];
   bson_t *in, out1, out2;
   bson_error_t err;
   odm_violations_t v;
   void *doc = bson_malloc0 (s->root->size);
   void *doc2 = bson_malloc0 (s->root->size);

   snprintf (name, sizeof name, "%s.%s.json", s->collection, variant);
   in = odm_test_load_json (name);
   ck_assert_msg (in != NULL, "fixture tests/data/%s is missing", name);
   ck_assert_msg (odm_from_bson (s, in, doc, ODM_DECODE_STRICT, &err), "%s: %s", name, err.message);
   if (strcmp (variant, "full") == 0) {
      assert_all_present (s->root, doc, s->collection, "");
   } else {
      assert_only_required (s->root, doc, s->collection, "");
   }
   ck_assert_msg (odm_to_bson (s, doc, &out1, &err), "%s: %s", name, err.message);
   assert_same_bson (in, &out1, name);
   ck_assert_msg (odm_from_bson (s, &out1, doc2, ODM_DECODE_STRICT, &err), "%s: %s", name, err.message);
   ck_assert (odm_to_bson (s, doc2, &out2, &err));
   assert_same_bson (in, &out2, name);

   /* The fixtures are valid documents. */
   if (!odm_validate (s, doc, NULL, &v)) {
      odm_test_print_violations (name, &v);
   }
   ck_assert_msg (v.count == 0, "%s: %zu violations, first %s: %s", name, v.count, v.items[0].path,
                  v.items[0].message);
   odm_violations_cleanup (&v);

   bson_destroy (&out1);
   bson_destroy (&out2);
   bson_destroy (in);
   odm_cleanup (s, doc);
   odm_cleanup (s, doc2);
   bson_free (doc);
   bson_free (doc2);
}

START_TEST (test_roundtrip_full)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   roundtrip_fixture (all[_i], "full");
}
END_TEST

START_TEST (test_roundtrip_min)
{
   size_t n;
   const odm_schema_t *const *all = odm_schemas (&n);
   roundtrip_fixture (all[_i], "min");
}
END_TEST

START_TEST (test_wrong_type_names_path)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("sessionId", "s1", "settings", "{", "temperature", BCON_UTF8 ("hot"), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.domain, ODM_ERROR_DOMAIN);
   ck_assert_uint_eq (err.code, ODM_ERROR_TYPE);
   ck_assert_str_eq (err.message, "settings.temperature: expected number, got string");
   /* A failed decode leaves the struct empty. */
   ck_assert_ptr_null (s.sessionId);
   ck_assert_uint_eq (s.has_sessionId, ODM_ABSENT);
   bson_destroy (b);

   b = BCON_NEW ("tags", "[", "a", BCON_INT32 (3), "]");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "tags.1: expected string, got int");
   bson_destroy (b);

   b = BCON_NEW ("userId", "not-an-id");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "userId: expected objectId, got string");
   bson_destroy (b);

   b = BCON_NEW ("stats", BCON_INT32 (1));
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "stats: expected object, got int");
   bson_destroy (b);
}
END_TEST

START_TEST (test_decode_error_as_violation)
{
   odm_chat_session_t s;
   bson_error_t err;
   odm_violations_t v;
   bson_t *b = BCON_NEW ("settings", "{", "temperature", BCON_UTF8 ("hot"), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   odm_violations_init (&v);
   odm_violations_add_error (&v, &err);
   ck_assert_uint_eq (v.count, 1);
   ck_assert_str_eq (v.items[0].path, "settings.temperature");
   ck_assert_str_eq (v.items[0].rule, "type");
   ck_assert_str_eq (v.items[0].message, "expected number, got string");
   odm_violations_cleanup (&v);
   bson_destroy (b);
   /* A whole-input error has no path. */
   {
      uint8_t bad[] = {0x0c, 0, 0, 0, 0x02, 'a', 0, 0xff, 0xff, 0xff, 0x7f, 0};
      bson_t corrupt;
      odm_chat_session_t t;
      ck_assert (bson_init_static (&corrupt, bad, sizeof bad));
      ck_assert (!odm_chat_session_from_bson (&corrupt, &t, 0, &err));
      odm_violations_init (&v);
      odm_violations_add_error (&v, &err);
      ck_assert_str_eq (v.items[0].path, "");
      ck_assert_str_eq (v.items[0].rule, "bson");
      odm_violations_cleanup (&v);
   }
}
END_TEST

START_TEST (test_failed_decode_frees_partial)
{
   /* Strings and arrays decoded before the error must be released (ASan/valgrind check). */
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("sessionId", "s1", "name", "n", "tags", "[", "a", "b", "]", "settings", "{", "mode",
                         "fast", "maxTokens", BCON_BOOL (true), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (err.message, "settings.maxTokens: expected number, got bool");
   ck_assert_ptr_null (s.tags.items);
   ck_assert_ptr_null (s.settings.mode);
   bson_destroy (b);
}
END_TEST

START_TEST (test_unknown_fields_kept)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out, *expected;
   bson_t *b = BCON_NEW ("sessionId", "s1", "legacy", BCON_INT32 (7), "settings", "{", "mode", "fast", "x", "y",
                         "}", "__v", BCON_INT32 (0));
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_str_eq (s.settings.mode, "fast");
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   /* Known fields in spec order, then unknown ones in input order, at each level. */
   expected = BCON_NEW ("sessionId", "s1", "settings", "{", "mode", "fast", "x", "y", "}", "legacy", BCON_INT32 (7),
                        "__v", BCON_INT32 (0));
   ck_assert (bson_equal (&out, expected));
   bson_destroy (&out);
   bson_destroy (expected);
   odm_chat_session_cleanup (&s);

   ck_assert (!odm_chat_session_from_bson (b, &s, ODM_DECODE_STRICT, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_UNKNOWN_FIELD);
   ck_assert_str_eq (err.message, "legacy: field is not in the schema of odm_chat_session_t");
   bson_destroy (b);
}
END_TEST

START_TEST (test_null_and_empty_roundtrip)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out;
   bson_t *b = BCON_NEW ("description", BCON_NULL, "tags", "[", "]", "settings", "{", "}", "stats", BCON_NULL);
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (s.has_description, ODM_NULL);
   ck_assert_uint_eq (s.has_tags, ODM_PRESENT);
   ck_assert_uint_eq (s.tags.count, 0);
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   ck_assert (bson_equal (&out, b));
   bson_destroy (&out);
   odm_chat_session_cleanup (&s);
   bson_destroy (b);
}
END_TEST

START_TEST (test_duplicate_and_corrupt)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t *b = BCON_NEW ("name", "a", "name", "b");
   uint8_t bad[] = {0x0c, 0, 0, 0, 0x02, 'a', 0, 0xff, 0xff, 0xff, 0x7f, 0};
   bson_t corrupt;

   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_DUPLICATE_FIELD);
   ck_assert_str_eq (err.message, "name: field appears twice");
   bson_destroy (b);

   ck_assert (bson_init_static (&corrupt, bad, sizeof bad));
   ck_assert (!odm_chat_session_from_bson (&corrupt, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_CORRUPT_BSON);

   /* Invalid UTF-8 in a string: truncated, overlong, surrogate, beyond U+10FFFF, NUL. */
   {
      static const char *const bad_utf8[] = {"\xc3\x28", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a\0b", "\xe2\x82"};
      static const int lens[] = {2, 2, 3, 4, 3, 2};
      size_t i;
      for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
         b = bson_new ();
         bson_append_utf8 (b, "name", 4, bad_utf8[i], lens[i]);
         ck_assert_msg (!odm_chat_session_from_bson (b, &s, 0, &err), "bad UTF-8 case %zu accepted", i);
         ck_assert_uint_eq (err.code, ODM_ERROR_CORRUPT_BSON);
         bson_destroy (b);
      }
      b = bson_new ();
      bson_append_utf8 (b, "name", 4, "\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9", -1);
      ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
      odm_chat_session_cleanup (&s);
      bson_destroy (b);
   }
}
END_TEST

START_TEST (test_numbers)
{
   odm_chat_session_t s;
   bson_error_t err;
   bson_t out;
   bson_iter_t it;
   bson_t *b = BCON_NEW ("settings", "{", "temperature", BCON_INT64 (1), "maxTokens", BCON_DOUBLE (2000.0), "}",
                         "stats", "{", "messageCount", BCON_DOUBLE (-0.0), "totalTokens", BCON_DOUBLE (3e9), "}");
   ck_assert (odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert (s.settings.temperature == 1.0);
   ck_assert (odm_chat_session_to_bson (&s, &out, &err));
   /* Written as js-bson writes JavaScript numbers: int32 when integral and in range. */
   ck_assert (bson_iter_init_find (&it, &out, "settings") && bson_iter_recurse (&it, &it));
   ck_assert (bson_iter_find (&it, "temperature") && BSON_ITER_HOLDS_INT32 (&it));
   ck_assert (bson_iter_find (&it, "maxTokens") && BSON_ITER_HOLDS_INT32 (&it));
   ck_assert (bson_iter_init_find (&it, &out, "stats") && bson_iter_recurse (&it, &it));
   ck_assert (bson_iter_find (&it, "messageCount") && BSON_ITER_HOLDS_DOUBLE (&it)); /* -0 */
   ck_assert (bson_iter_find (&it, "totalTokens") && BSON_ITER_HOLDS_DOUBLE (&it));
   bson_destroy (&out);
   odm_chat_session_cleanup (&s);
   bson_destroy (b);

   b = BCON_NEW ("stats", "{", "totalTokens", BCON_INT64 (INT64_C (1) << 60), "}");
   ck_assert (!odm_chat_session_from_bson (b, &s, 0, &err));
   ck_assert_uint_eq (err.code, ODM_ERROR_RANGE);
   bson_destroy (b);
}
END_TEST

START_TEST (test_init_defaults)
{
   odm_chat_session_t s;
   odm_agent_personalization_t p;
   odm_chat_session_init (&s);
   ck_assert (s.settings.has_temperature && s.settings.temperature == 0.7);
   ck_assert (s.settings.has_maxTokens && s.settings.maxTokens == 2000);
   ck_assert_str_eq (s.settings.mode, "balanced");
   ck_assert (s.stats.has_messageCount && s.stats.messageCount == 0);
   ck_assert (s.stats.has_lastMessageAt && s.stats.lastMessageAt > 1700000000000);
   ck_assert (s.has_tags == ODM_PRESENT && s.tags.count == 0);
   ck_assert (!s.has__id && !s.has_createdAt && !s.sessionId);
   odm_chat_session_cleanup (&s);

   odm_agent_personalization_init (&p);
   ck_assert_str_eq (p.conversationStyle, "casual");
   ck_assert_str_eq (p.notifications.sound, "gentle");
   ck_assert (p.notifications.has_enabled && p.notifications.enabled);
   odm_agent_personalization_cleanup (&p);
}
END_TEST

START_TEST (test_copy)
{
   odm_chat_session_t a, b;
   bson_t ba, bb;
   odm_chat_session_init (&a);
   a.sessionId = bson_strdup ("s");
   a.tags.items = bson_malloc (sizeof (char *));
   a.tags.items[0] = bson_strdup ("t");
   a.tags.count = 1;
   ck_assert (odm_copy (&odm_chat_session_schema, &a, &b));
   ck_assert (a.sessionId != b.sessionId);
   ck_assert (odm_chat_session_to_bson (&a, &ba, NULL) && odm_chat_session_to_bson (&b, &bb, NULL));
   ck_assert (bson_equal (&ba, &bb));
   bson_destroy (&ba);
   bson_destroy (&bb);
   odm_chat_session_cleanup (&a);
   odm_chat_session_cleanup (&b);
}
END_TEST

Suite *
codec_suite (void)
{
   Suite *s = suite_create ("codec");
   TCase *tc = tcase_create ("codec");
   size_t n;
   odm_schemas (&n);
   tcase_add_loop_test (tc, test_roundtrip_full, 0, (int) n);
   tcase_add_loop_test (tc, test_roundtrip_min, 0, (int) n);
   tcase_add_test (tc, test_wrong_type_names_path);
   tcase_add_test (tc, test_failed_decode_frees_partial);
   tcase_add_test (tc, test_decode_error_as_violation);
   tcase_add_test (tc, test_unknown_fields_kept);
   tcase_add_test (tc, test_null_and_empty_roundtrip);
   tcase_add_test (tc, test_duplicate_and_corrupt);
   tcase_add_test (tc, test_numbers);
   tcase_add_test (tc, test_init_defaults);
   tcase_add_test (tc, test_copy);
   suite_add_tcase (s, tc);
   return s;
}
