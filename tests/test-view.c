/* The zero-copy read path (odm-view.h): every accessor agrees with the copying decode, field
 * by field, on the full and minimal fixtures of every collection; hostile bytes are refused
 * at init with odm_from_bson's error; reading allocates nothing. */
#include "test-util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------- view vs decoded struct */

static void compare_object (const odm_object_desc_t *d, const odm_view_t *v, const void *base, const char *path);

static void
compare_mixed (const bson_iter_t *it, const bson_value_t *val, const char *path)
{
   bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
   ck_assert_msg (bson_append_iter (&a, "v", 1, it), "%s: view's mixed value", path);
   ck_assert_msg (bson_append_value (&b, "v", 1, val), "%s: struct's mixed value", path);
   ck_assert_msg (a.len == b.len && !memcmp (bson_get_data (&a), bson_get_data (&b), a.len), "%s: mixed differs",
                  path);
   bson_destroy (&a);
   bson_destroy (&b);
}

static void
compare_number (double a, double b, const char *path)
{
   ck_assert_msg ((isnan (a) && isnan (b)) || (a == b && signbit (a) == signbit (b)), "%s: %g != %g", path, a, b);
}

/* Element K of array field F read from A against the struct's item P. */
static void
compare_elem (const odm_field_t *f, odm_view_array_t *a, const void *p, const char *path)
{
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = NULL;
      uint32_t n = 0;
      ck_assert_msg (odm_view_next_string (a, &s, &n), "%s: missing element", path);
      ck_assert_msg (n == strlen (*(char *const *) p) && !strcmp (s, *(char *const *) p), "%s: \"%s\" != \"%s\"",
                     path, s, *(char *const *) p);
      ck_assert_int_eq (s[n], 0);
      break;
   }
   case ODM_KIND_NUMBER: {
      double d = 0;
      ck_assert_msg (odm_view_next_number (a, &d), "%s: missing element", path);
      compare_number (d, *(const double *) p, path);
      break;
   }
   case ODM_KIND_BOOL: {
      bool b = false;
      ck_assert_msg (odm_view_next_bool (a, &b), "%s: missing element", path);
      ck_assert_msg (b == *(const bool *) p, "%s", path);
      break;
   }
   case ODM_KIND_DATE: {
      int64_t ms = 0;
      ck_assert_msg (odm_view_next_date (a, &ms), "%s: missing element", path);
      ck_assert_msg (ms == *(const int64_t *) p, "%s", path);
      break;
   }
   case ODM_KIND_OID: {
      const bson_oid_t *oid = NULL;
      ck_assert_msg (odm_view_next_oid (a, &oid), "%s: missing element", path);
      ck_assert_msg (bson_oid_equal (oid, (const bson_oid_t *) p), "%s", path);
      break;
   }
   case ODM_KIND_OBJECT: {
      odm_view_t sub;
      ck_assert_msg (odm_view_next_object (a, &sub), "%s: missing element", path);
      compare_object (f->object, &sub, p, path);
      break;
   }
   case ODM_KIND_MIXED: {
      bson_iter_t it;
      ck_assert_msg (odm_view_next_mixed (a, &it), "%s: missing element", path);
      compare_mixed (&it, (const bson_value_t *) p, path);
      break;
   }
   default:
      ck_abort_msg ("%s: unknown kind", path);
   }
}

/* Accessors of every other kind than F's say absent. */
static void
other_kinds_absent (const odm_view_t *v, uint32_t i, const odm_field_t *f, const char *path)
{
   const char *s;
   double d;
   bool b;
   int64_t ms;
   const bson_oid_t *oid;
   odm_view_t sub;
   bson_iter_t it;
   odm_view_array_t arr;
   bool array = (f->flags & ODM_F_ARRAY) != 0;
#define ABSENT_UNLESS(k_, call) \
   ck_assert_msg ((!array && f->kind == (k_)) || (call) == ODM_ABSENT, "%s: read as another kind", path)
   ABSENT_UNLESS (ODM_KIND_STRING, odm_view_string (v, i, &s, NULL));
   ABSENT_UNLESS (ODM_KIND_NUMBER, odm_view_number (v, i, &d));
   ABSENT_UNLESS (ODM_KIND_BOOL, odm_view_bool (v, i, &b));
   ABSENT_UNLESS (ODM_KIND_DATE, odm_view_date (v, i, &ms));
   ABSENT_UNLESS (ODM_KIND_OID, odm_view_oid (v, i, &oid));
   ABSENT_UNLESS (ODM_KIND_OBJECT, odm_view_object (v, i, &sub));
   ABSENT_UNLESS (ODM_KIND_MIXED, odm_view_mixed (v, i, &it));
#undef ABSENT_UNLESS
   if (!array) {
      ck_assert_msg (odm_view_array (v, i, &arr) == ODM_ABSENT, "%s: read as an array", path);
   }
}

static void
compare_object (const odm_object_desc_t *d, const odm_view_t *v, const void *base, const char *path)
{
   uint32_t i;
   ck_assert_ptr_eq (v->desc, d);
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t has = *(const uint8_t *) ((const char *) base + f->presence);
      uint8_t state = odm_view_state (v, i);
      const void *p = odm_field_value (f, base);
      char fp[512];

      snprintf (fp, sizeof fp, "%s%s%s", path, *path ? "." : "", f->name);
      ck_assert_msg (state == has, "%s: view says %d, decode %d", fp, state, has);
      ck_assert_int_eq (odm_view_field (v, f->name), (int) i);
      other_kinds_absent (v, i, f, fp);
      if (f->flags & ODM_F_ARRAY) {
         odm_view_array_t a;
         size_t count = 0, k;
         const char *items = odm_field_array (f, base, &count);
         ck_assert_int_eq (odm_view_array (v, i, &a), state);
         if (state != ODM_PRESENT) {
            ck_assert_int_eq (count, 0);
            ck_assert_int_eq (odm_view_array_count (&a), 0);
            continue;
         }
         ck_assert_msg (odm_view_array_count (&a) == count, "%s: %u elements, decode %zu", fp,
                        odm_view_array_count (&a), count);
         for (k = 0; k < count; k++) {
            char ep[540];
            snprintf (ep, sizeof ep, "%s.%zu", fp, k);
            compare_elem (f, &a, items + k * f->elem_size, ep);
         }
         ck_assert_msg (!odm_view_next_string (&a, NULL, NULL) && !odm_view_next_number (&a, NULL) &&
                           !odm_view_next_object (&a, NULL) && !odm_view_next_mixed (&a, NULL),
                        "%s: an element past the end", fp);
         continue;
      }
      switch (f->kind) {
      case ODM_KIND_STRING: {
         const char *s = NULL;
         uint32_t n = 0;
         ck_assert_int_eq (odm_view_string (v, i, &s, &n), state);
         if (state == ODM_PRESENT) {
            const char *want = *(char *const *) p;
            ck_assert_msg (n == strlen (want) && !strcmp (s, want), "%s: \"%s\" != \"%s\"", fp, s, want);
         }
         break;
      }
      case ODM_KIND_NUMBER: {
         double x = 0;
         ck_assert_int_eq (odm_view_number (v, i, &x), state);
         if (state == ODM_PRESENT) {
            compare_number (x, *(const double *) p, fp);
         }
         break;
      }
      case ODM_KIND_BOOL: {
         bool b = false;
         ck_assert_int_eq (odm_view_bool (v, i, &b), state);
         ck_assert_msg (state != ODM_PRESENT || b == *(const bool *) p, "%s", fp);
         break;
      }
      case ODM_KIND_DATE: {
         int64_t ms = 0;
         ck_assert_int_eq (odm_view_date (v, i, &ms), state);
         ck_assert_msg (state != ODM_PRESENT || ms == *(const int64_t *) p, "%s", fp);
         break;
      }
      case ODM_KIND_OID: {
         const bson_oid_t *oid = NULL;
         ck_assert_int_eq (odm_view_oid (v, i, &oid), state);
         ck_assert_msg (state != ODM_PRESENT || bson_oid_equal (oid, (const bson_oid_t *) p), "%s", fp);
         break;
      }
      case ODM_KIND_OBJECT: {
         odm_view_t sub;
         ck_assert_int_eq (odm_view_object (v, i, &sub), state);
         compare_object (f->object, &sub, p, fp); /* absent or null: an empty view, an empty struct */
         break;
      }
      case ODM_KIND_MIXED: {
         bson_iter_t it;
         ck_assert_int_eq (odm_view_mixed (v, i, &it), state);
         if (state == ODM_PRESENT) {
            compare_mixed (&it, (const bson_value_t *) p, fp);
         } else if (state == ODM_NULL) {
            ck_assert_int_eq (bson_iter_type (&it), BSON_TYPE_NULL);
         }
         break;
      }
      default:
         ck_abort_msg ("%s: unknown kind", fp);
      }
   }
}

/* ------------------------------------------------ one input, both readers */

static const char *const fixture_names[] = {"full", "min"};

/* Decodes and views LEN bytes at DATA: both accept or both refuse with the same error; when
 * both accept, every field agrees. Returns whether they accepted. */
static bool
check_agrees (const odm_schema_t *s, const uint8_t *data, size_t len, uint32_t flags, const char *what)
{
   bson_t in;
   void *doc = bson_malloc0 (s->root->size);
   bson_error_t de = {0}, ve = {0};
   odm_view_t v;
   bool dok, vok;

   dok = bson_init_static (&in, data, len) && odm_from_bson (s, &in, doc, flags, &de);
   if (!bson_init_static (&in, data, len)) {
      bson_free (doc);
      return false; /* not a bson_t at all: nothing for decode to say */
   }
   vok = odm_view_init (&v, s, data, len, flags, &ve);
   ck_assert_msg (dok == vok, "%s %s: decode %s (%s), view %s (%s)", s->collection, what, dok ? "accepts" : "refuses",
                  de.message, vok ? "accepts" : "refuses", ve.message);
   if (dok) {
      compare_object (s->root, &v, doc, "");
   } else {
      uint32_t i;
      ck_assert_msg (de.code == ve.code && de.domain == ve.domain && !strcmp (de.message, ve.message),
                     "%s %s: decode says %u \"%s\", view %u \"%s\"", s->collection, what, de.code, de.message,
                     ve.code, ve.message);
      for (i = 0; i < s->root->field_count; i++) {
         ck_assert_int_eq (odm_view_state (&v, i), ODM_ABSENT);
      }
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   return dok;
}

static bson_t *
load_fixture (const odm_schema_t *s, const char *variant)
{
   char name[256];
   snprintf (name, sizeof name, "%s.%s.json", s->collection, variant);
   return odm_test_load_json (name);
}

START_TEST (test_fixtures_agree)
{
   size_t n, i, k, loaded = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      for (k = 0; k < 2; k++) {
         bson_t *b = load_fixture (all[i], fixture_names[k]);
         if (!b) {
            continue;
         }
         loaded++;
         ck_assert (check_agrees (all[i], bson_get_data (b), b->len, ODM_DECODE_DEFAULT, fixture_names[k]));
         ck_assert (check_agrees (all[i], bson_get_data (b), b->len, ODM_DECODE_STRICT, fixture_names[k]));
         bson_destroy (b);
      }
   }
   ck_assert_uint_ge (loaded, 58); /* the 29 collections' full and minimal fixtures */
}
END_TEST

static uint64_t rng = 0x243F6A8885A308D3ull;

static uint32_t
next_rand (void)
{
   rng ^= rng << 13;
   rng ^= rng >> 7;
   rng ^= rng << 17;
   return (uint32_t) (rng >> 11);
}

/* Deterministic mutations of every fixture (bit flips, byte stores, cuts): the view accepts
 * exactly what decode accepts, refuses with the same error, and agrees on what it accepts. */
START_TEST (test_mutations_agree)
{
   size_t n, i, k, m, accepted = 0, refused = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      for (k = 0; k < 2; k++) {
         bson_t *b = load_fixture (all[i], fixture_names[k]);
         if (!b) {
            continue;
         }
         for (m = 0; m < 150; m++) {
            uint8_t *buf = bson_malloc (b->len);
            size_t len = b->len, at;
            memcpy (buf, bson_get_data (b), len);
            at = 4 + next_rand () % (len - 5);
            switch (next_rand () % 4) {
            case 0:
               buf[at] ^= (uint8_t) (1u << (next_rand () % 8));
               break;
            case 1:
               buf[at] = (uint8_t) next_rand ();
               break;
            case 2: { /* a cut, the length fixed up */
               uint32_t l;
               len = at + 1;
               buf[len - 1] = 0;
               l = BSON_UINT32_TO_LE ((uint32_t) len);
               memcpy (buf, &l, 4);
               break;
            }
            default:
               buf[at] = (uint8_t) "\x00\x02\x03\x04\x0a\x10\x12\x7f\xff\xc0\xed"[next_rand () % 11];
               break;
            }
            if (check_agrees (all[i], buf, len, m % 3 ? ODM_DECODE_DEFAULT : ODM_DECODE_STRICT, "mutated")) {
               accepted++;
            } else {
               refused++;
            }
            bson_free (buf);
         }
         bson_destroy (b);
      }
   }
   ck_assert_uint_gt (accepted, 100);
   ck_assert_uint_gt (refused, 100);
}
END_TEST

/* ------------------------------------------------------------- hostile */

/* Expects both readers to refuse B (in full, or its first LEN bytes with the length fixed
 * up when LEN is non-zero) with CODE. */
static void
expect_refused (const odm_schema_t *s, const uint8_t *data, size_t len, uint32_t flags, uint32_t code,
                const char *what)
{
   odm_view_t v;
   bson_error_t e = {0};
   ck_assert_msg (!check_agrees (s, data, len, flags, what), "%s: accepted", what);
   ck_assert_msg (!odm_view_init (&v, s, data, len, flags, &e), "%s: accepted", what);
   ck_assert_msg (e.code == code, "%s: code %u (%s), expected %u", what, e.code, e.message, code);
}

static void
expect_refused_json (const char *coll, const char *edits, uint32_t flags, uint32_t code)
{
   const odm_schema_t *s = odm_schema_find (coll);
   bson_t *b = odm_test_fixture_with (coll, edits);
   expect_refused (s, bson_get_data (b), b->len, flags, code, edits);
   bson_destroy (b);
}

/* The fixture's bytes with the string value at dotted PATH's byte AT set to BYTE. */
static uint8_t *
poke_string (const bson_t *b, const char *path, uint32_t at, uint8_t byte)
{
   bson_iter_t it, d;
   uint32_t n;
   const char *str;
   uint8_t *buf = bson_malloc (b->len);
   memcpy (buf, bson_get_data (b), b->len);
   ck_assert (bson_iter_init (&it, b) && bson_iter_find_descendant (&it, path, &d) && BSON_ITER_HOLDS_UTF8 (&d));
   str = bson_iter_utf8 (&d, &n);
   ck_assert_uint_lt (at, n);
   buf[(const uint8_t *) str - bson_get_data (b) + at] = byte;
   return buf;
}

START_TEST (test_hostile_refused)
{
   const odm_schema_t *s = odm_schema_find ("chat_sessions");
   bson_t *b = odm_test_load_json ("chat_sessions.full.json");
   uint8_t *buf;
   size_t i;
   bson_t deep = BSON_INITIALIZER, *wrap;

   /* truncated: the length says more than there is, or the last byte is cut */
   expect_refused (s, bson_get_data (b), b->len - 1, 0, ODM_ERROR_CORRUPT_BSON, "truncated");
   buf = bson_malloc (b->len);
   memcpy (buf, bson_get_data (b), b->len);
   buf[0] = (uint8_t) (buf[0] - 1);
   expect_refused (s, buf, b->len - 1, 0, ODM_ERROR_CORRUPT_BSON, "cut short");
   bson_free (buf);

   /* strict UTF-8, no NUL, in typed strings, array strings and nested strings */
   buf = poke_string (b, "name", 0, 0xff);
   expect_refused (s, buf, b->len, 0, ODM_ERROR_CORRUPT_BSON, "name: 0xff");
   bson_free (buf);
   buf = poke_string (b, "name", 1, 0x00);
   expect_refused (s, buf, b->len, 0, ODM_ERROR_CORRUPT_BSON, "name: NUL");
   bson_free (buf);
   buf = poke_string (b, "tags.0", 0, 0xc0);
   expect_refused (s, buf, b->len, 0, ODM_ERROR_CORRUPT_BSON, "tags.0: overlong");
   bson_free (buf);
   buf = poke_string (b, "settings.mode", 0, 0xed);
   expect_refused (s, buf, b->len, 0, ODM_ERROR_CORRUPT_BSON, "settings.mode: 0xed");
   bson_free (buf);

   /* the schema's types: a view never hands out a value of another type */
   expect_refused_json ("chat_sessions", "{\"name\": 5}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"settings.temperature\": \"hot\"}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"settings\": [1]}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"tags\": \"a\"}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"tags\": [\"a\", 2]}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"tags\": [null]}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"userId\": \"64b0000000000000000000a1\"}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"createdAt\": 1}", 0, ODM_ERROR_TYPE);
   expect_refused_json ("chat_sessions", "{\"stats.messageCount\": {\"$numberLong\": \"9007199254740993\"}}", 0,
                        ODM_ERROR_RANGE);
   expect_refused_json ("chat_sessions", "{\"createdAt\": {\"$date\": {\"$numberLong\": \"8640000000000001\"}}}", 0,
                        ODM_ERROR_RANGE);
   /* unknown fields: keys, strictness, their bytes */
   expect_refused_json ("chat_sessions", "{\"extra\": 1}", ODM_DECODE_STRICT, ODM_ERROR_UNKNOWN_FIELD);
   expect_refused_json ("chat_sessions", "{\"settings.extra\": 1}", ODM_DECODE_STRICT, ODM_ERROR_UNKNOWN_FIELD);
   expect_refused_json ("chat_sessions", "{\"$bad\": 1}", 0, ODM_ERROR_KEY);
   expect_refused_json ("chat_sessions", "{\"note\": {\"$date\": {\"$numberLong\": \"-8640000000000001\"}}}", 0,
                        ODM_ERROR_RANGE);
   expect_refused_json ("community_metrics", "{\"note\": {\"a\": {\"$date\": {\"$numberLong\": \"9640000000000001\"}}}}",
                        0, ODM_ERROR_RANGE);

   /* duplicates: a schema field twice, an unknown field twice */
   {
      bson_t dup;
      bson_init (&dup);
      bson_concat (&dup, b);
      BSON_APPEND_UTF8 (&dup, "name", "again");
      expect_refused (s, bson_get_data (&dup), dup.len, 0, ODM_ERROR_DUPLICATE_FIELD, "name twice");
      bson_reinit (&dup);
      bson_concat (&dup, b);
      BSON_APPEND_INT32 (&dup, "x", 1);
      BSON_APPEND_INT32 (&dup, "x", 2);
      expect_refused (s, bson_get_data (&dup), dup.len, 0, ODM_ERROR_DUPLICATE_FIELD, "x twice");
      bson_reinit (&dup);
      bson_concat (&dup, b);
      for (i = 0; i < 100; i++) { /* more unknown fields than a view's inline key set holds */
         char k[16];
         snprintf (k, sizeof k, "u%zu", i);
         BSON_APPEND_INT32 (&dup, k, (int32_t) i);
      }
      ck_assert (check_agrees (s, bson_get_data (&dup), dup.len, 0, "100 unknown fields"));
      BSON_APPEND_INT32 (&dup, "u57", 1);
      expect_refused (s, bson_get_data (&dup), dup.len, 0, ODM_ERROR_DUPLICATE_FIELD, "u57 twice");
      bson_destroy (&dup);
   }

   /* nesting deeper than 100 levels, in an unknown field and in a mixed value */
   BSON_APPEND_INT32 (&deep, "x", 1);
   for (i = 0; i < 120; i++) {
      wrap = bson_new ();
      BSON_APPEND_DOCUMENT (wrap, "d", &deep);
      bson_destroy (&deep);
      bson_copy_to (wrap, &deep);
      bson_destroy (wrap);
   }
   {
      bson_t doc;
      const odm_schema_t *m = odm_schema_find ("transactions");
      bson_t *mf = odm_test_load_json ("transactions.full.json");
      bson_init (&doc);
      bson_concat (&doc, b);
      BSON_APPEND_DOCUMENT (&doc, "deep", &deep);
      expect_refused (s, bson_get_data (&doc), doc.len, 0, ODM_ERROR_RANGE, "deep unknown field");
      bson_destroy (&doc);
      for (i = 0; i < m->root->field_count; i++) {
         const odm_field_t *f = &m->root->fields[i];
         if (f->kind == ODM_KIND_MIXED && !(f->flags & ODM_F_ARRAY)) {
            bson_value_t dv;
            bson_t edited;
            dv.value_type = BSON_TYPE_DOCUMENT;
            dv.value.v_doc.data = (uint8_t *) bson_get_data (&deep);
            dv.value.v_doc.data_len = deep.len;
            bson_init (&edited);
            odm_test_set_path (mf, f->name, &dv, &edited);
            expect_refused (m, bson_get_data (&edited), edited.len, 0, ODM_ERROR_RANGE, "deep mixed value");
            bson_destroy (&edited);
            break;
         }
      }
      ck_assert_uint_lt (i, m->root->field_count); /* transactions has a mixed field (metadata) */
      bson_destroy (mf);
   }
   bson_destroy (&deep);

   /* the nesting limit exactly: an unknown field and a mixed value, 95 to 102 levels deep in
    * all (the document is level 1): both readers agree on each */
   {
      const odm_schema_t *m = odm_schema_find ("transactions");
      bson_t *mf = odm_test_load_json ("transactions.full.json");
      int levels, accepted = 0;
      for (levels = 95; levels <= 102; levels++) {
         bson_t inner = BSON_INITIALIZER, doc, edited;
         bson_value_t dv;
         int l;
         BSON_APPEND_INT32 (&inner, "x", 1);
         for (l = 3; l < levels; l++) { /* INNER is level LEVELS; wrap it up to level 2 */
            bson_t *w = bson_new ();
            BSON_APPEND_DOCUMENT (w, "d", &inner);
            bson_destroy (&inner);
            bson_copy_to (w, &inner);
            bson_destroy (w);
         }
         bson_init (&doc);
         bson_concat (&doc, b);
         BSON_APPEND_DOCUMENT (&doc, "deep", &inner);
         accepted += check_agrees (s, bson_get_data (&doc), doc.len, 0, "deep unknown field at the limit");
         dv.value_type = BSON_TYPE_DOCUMENT;
         dv.value.v_doc.data = (uint8_t *) bson_get_data (&inner);
         dv.value.v_doc.data_len = inner.len;
         bson_init (&edited);
         odm_test_set_path (mf, "metadata", &dv, &edited);
         accepted += check_agrees (m, bson_get_data (&edited), edited.len, 0, "deep mixed value at the limit");
         bson_destroy (&edited);
         bson_destroy (&doc);
         bson_destroy (&inner);
      }
      ck_assert_int_gt (accepted, 0);
      ck_assert_int_lt (accepted, 16);
      bson_destroy (mf);
   }
   bson_destroy (b);
}
END_TEST

/* --------------------------------------------------------- allocations */

static size_t allocs;

static void *
count_malloc (size_t n)
{
   allocs++;
   return malloc (n);
}

static void *
count_calloc (size_t n, size_t m)
{
   allocs++;
   return calloc (n, m);
}

static void *
count_realloc (void *p, size_t n)
{
   allocs++;
   return realloc (p, n);
}

static void *
count_aligned_alloc (size_t a, size_t n)
{
   allocs++;
   return aligned_alloc (a, n);
}

static void
count_free (void *p)
{
   free (p);
}

/* Reads every field of V (and below), returning a checksum so nothing is optimised away. */
static double
read_all (const odm_view_t *v)
{
   const odm_object_desc_t *d = v->desc;
   double sum = 0;
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->flags & ODM_F_ARRAY) {
         odm_view_array_t a;
         const char *s;
         uint32_t n;
         double x;
         bool b;
         int64_t ms;
         const bson_oid_t *oid;
         odm_view_t sub;
         bson_iter_t it;
         odm_view_array (v, i, &a);
         sum += odm_view_array_count (&a);
         while (odm_view_next_string (&a, &s, &n) || odm_view_next_number (&a, &x) || odm_view_next_bool (&a, &b) ||
                odm_view_next_date (&a, &ms) || odm_view_next_oid (&a, &oid) || odm_view_next_mixed (&a, &it)) {
            sum += 1;
         }
         while (odm_view_next_object (&a, &sub)) {
            sum += read_all (&sub);
         }
         continue;
      }
      switch (f->kind) {
      case ODM_KIND_STRING: {
         const char *s;
         uint32_t n = 0;
         if (odm_view_string (v, i, &s, &n) == ODM_PRESENT) {
            sum += n + (unsigned char) s[0];
         }
         break;
      }
      case ODM_KIND_NUMBER: {
         double x = 0;
         odm_view_number (v, i, &x);
         sum += x;
         break;
      }
      case ODM_KIND_BOOL: {
         bool b = false;
         odm_view_bool (v, i, &b);
         sum += b;
         break;
      }
      case ODM_KIND_DATE: {
         int64_t ms = 0;
         odm_view_date (v, i, &ms);
         sum += (double) (ms & 0xff);
         break;
      }
      case ODM_KIND_OID: {
         const bson_oid_t *oid;
         if (odm_view_oid (v, i, &oid) == ODM_PRESENT) {
            sum += oid->bytes[11];
         }
         break;
      }
      case ODM_KIND_OBJECT: {
         odm_view_t sub;
         odm_view_object (v, i, &sub);
         sum += read_all (&sub);
         break;
      }
      case ODM_KIND_MIXED: {
         bson_iter_t it;
         if (odm_view_mixed (v, i, &it) == ODM_PRESENT) {
            sum += bson_iter_type (&it);
         }
         break;
      }
      default:
         break;
      }
   }
   return sum;
}

/* An unknown field of every BSON type in turn, ahead of the schema's fields, at the root
 * and in a nested object: a view finds each field after it where decode does (the view
 * skips values by their type's size: strings, documents and the fixed sizes without a
 * table). One type per document, so that a wrong size loses the fields after it rather
 * than landing, by chance, back on an element's start. */
#define EVERY_TYPE_COUNT 22

static void
append_one_type (bson_t *b, int which)
{
   bson_decimal128_t dec = {UINT64_C (0x0123456789abcdef), UINT64_C (0x3040000000000000)};
   bson_oid_t oid;
   bson_t scope = BSON_INITIALIZER, sub = BSON_INITIALIZER, arr = BSON_INITIALIZER;
   bson_oid_init_from_string (&oid, "64b0000000000000000000a1");
   BSON_APPEND_INT32 (&scope, "x", 1);
   BSON_APPEND_UTF8 (&sub, "k", "v");
   BSON_APPEND_UTF8 (&arr, "0", "v");
   switch (which) {
   case 0: BSON_APPEND_DOUBLE (b, "u", 1.5); break;
   case 1: BSON_APPEND_UTF8 (b, "u", "text"); break;
   case 2: BSON_APPEND_DOCUMENT (b, "u", &sub); break;
   case 3: BSON_APPEND_ARRAY (b, "u", &arr); break;
   case 4: BSON_APPEND_BINARY (b, "u", BSON_SUBTYPE_BINARY, (const uint8_t *) "abcdefgh", 8); break;
   case 5: BSON_APPEND_BINARY (b, "u", BSON_SUBTYPE_BINARY_DEPRECATED, (const uint8_t *) "abcdefgh", 8); break;
   case 6: BSON_APPEND_UNDEFINED (b, "u"); break;
   case 7: BSON_APPEND_OID (b, "u", &oid); break;
   case 8: BSON_APPEND_BOOL (b, "u", true); break;
   case 9: BSON_APPEND_DATE_TIME (b, "u", 1700000000000); break;
   case 10: BSON_APPEND_NULL (b, "u"); break;
   case 11: BSON_APPEND_REGEX (b, "u", "^a.*b$", "i"); break;
   case 12: bson_append_dbpointer (b, "u", -1, "coll", &oid); break;
   case 13: BSON_APPEND_CODE (b, "u", "f()"); break;
   case 14: BSON_APPEND_SYMBOL (b, "u", "sym"); break;
   case 15: BSON_APPEND_CODE_WITH_SCOPE (b, "u", "g()", &scope); break;
   case 16: BSON_APPEND_INT32 (b, "u", 7); break;
   case 17: BSON_APPEND_TIMESTAMP (b, "u", 5, 6); break;
   case 18: BSON_APPEND_INT64 (b, "u", 8); break;
   case 19: BSON_APPEND_DECIMAL128 (b, "u", &dec); break;
   case 20: BSON_APPEND_MAXKEY (b, "u"); break;
   default: BSON_APPEND_MINKEY (b, "u"); break;
   }
   bson_destroy (&scope);
   bson_destroy (&sub);
   bson_destroy (&arr);
}

START_TEST (test_unknown_fields_of_every_type)
{
   const odm_schema_t *s = odm_schema_find ("chat_sessions");
   bson_t *fixture = odm_test_load_json ("chat_sessions.full.json");
   bson_error_t err;
   odm_view_t fv;
   ck_assert (fixture);
   ck_assert (odm_view_init (&fv, s, bson_get_data (fixture), fixture->len, 0, &err));
   for (int which = 0; which < EVERY_TYPE_COUNT; which++) {
      bson_t doc = BSON_INITIALIZER, settings;
      bson_iter_t it;
      odm_view_t v;
      char what[64];
      uint32_t present = 0;
      append_one_type (&doc, which);
      ck_assert (bson_iter_init (&it, fixture));
      while (bson_iter_next (&it)) {
         if (!strcmp (bson_iter_key (&it), "settings")) {
            bson_t old;
            uint32_t len;
            const uint8_t *data;
            bson_iter_document (&it, &len, &data);
            ck_assert (bson_init_static (&old, data, len));
            bson_append_document_begin (&doc, "settings", -1, &settings);
            append_one_type (&settings, which);
            bson_concat (&settings, &old);
            bson_append_document_end (&doc, &settings);
         } else {
            ck_assert (bson_append_iter (&doc, NULL, 0, &it));
         }
      }
      snprintf (what, sizeof what, "an unknown field of type %d first", which);
      ck_assert_msg (check_agrees (s, bson_get_data (&doc), doc.len, ODM_DECODE_DEFAULT, what), "%s: refused", what);
      /* the fields after it are found, not absent in both: those of the fixture */
      ck_assert (odm_view_init (&v, s, bson_get_data (&doc), doc.len, 0, &err));
      for (uint32_t i = 0; i < s->root->field_count; i++) {
         ck_assert_msg (odm_view_state (&v, i) == odm_view_state (&fv, i), "%s: %s", what, s->root->fields[i].name);
         present += odm_view_state (&v, i) == ODM_PRESENT;
         if (!strcmp (s->root->fields[i].name, "settings")) {
            odm_view_t sv, fsv;
            ck_assert_int_eq (odm_view_object (&v, i, &sv), ODM_PRESENT);
            ck_assert_int_eq (odm_view_object (&fv, i, &fsv), ODM_PRESENT);
            for (uint32_t k = 0; k < sv.desc->field_count; k++) {
               ck_assert_msg (odm_view_state (&sv, k) == odm_view_state (&fsv, k), "%s: settings.%s", what,
                              sv.desc->fields[k].name);
               present += odm_view_state (&sv, k) == ODM_PRESENT;
            }
         }
      }
      ck_assert_uint_ge (present, 10);
      bson_destroy (&doc);
   }
   bson_destroy (fixture);
}
END_TEST

START_TEST (test_zero_allocations)
{
   static const bson_mem_vtable_t counting = {count_malloc, count_calloc, count_realloc, count_free,
                                              count_aligned_alloc, {0}};
   size_t n, i, k, viewed = 0;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      for (k = 0; k < 2; k++) {
         bson_t *b = load_fixture (all[i], fixture_names[k]), with;
         odm_view_t v;
         double sum;
         bson_t note;
         if (!b) {
            continue;
         }
         /* as stored by libodm (the version key) and by another service (unknown fields
          * with strings, dates and objects, which the byte check walks) */
         bson_init (&with);
         bson_concat (&with, b);
         BSON_APPEND_INT32 (&with, "__v", 3);
         BSON_APPEND_UTF8 (&with, "legacyNote", "kept");
         bson_init (&note);
         BSON_APPEND_DATE_TIME (&note, "at", 1700000000000);
         BSON_APPEND_DOCUMENT (&with, "legacy", &note);
         bson_destroy (&note);

         allocs = 0;
         bson_mem_set_vtable (&counting);
         ck_assert (odm_view_init (&v, all[i], bson_get_data (b), b->len, 0, NULL));
         sum = read_all (&v);
         ck_assert (odm_view_init (&v, all[i], bson_get_data (&with), with.len, 0, NULL));
         sum += read_all (&v);
         bson_mem_restore_vtable ();
         ck_assert_msg (allocs == 0, "%s.%s: %zu allocations", all[i]->collection, fixture_names[k], allocs);
         ck_assert (sum == sum);
         ck_assert (check_agrees (all[i], bson_get_data (&with), with.len, 0, "with unknown fields"));
         viewed++;
         bson_destroy (&with);
         bson_destroy (b);
      }
   }
   ck_assert_uint_ge (viewed, 58);
}
END_TEST

/* The counting allocator sees the copying decode's allocations: the count above is not
 * zero for want of seeing them. */
START_TEST (test_allocations_counted)
{
   static const bson_mem_vtable_t counting = {count_malloc, count_calloc, count_realloc, count_free,
                                              count_aligned_alloc, {0}};
   bson_t *b = odm_test_load_json ("chat_sessions.full.json");
   odm_chat_session_t doc;
   allocs = 0;
   bson_mem_set_vtable (&counting);
   ck_assert (odm_chat_session_from_bson (b, &doc, 0, NULL));
   odm_chat_session_cleanup (&doc);
   bson_mem_restore_vtable ();
   ck_assert_uint_gt (allocs, 0);
   bson_destroy (b);
}
END_TEST

/* --------------------------------------------------------- misuse */

START_TEST (test_arguments)
{
   odm_view_t v;
   bson_error_t e;
   const odm_schema_t *s = odm_schema_find ("chat_sessions");
   const char *str = "x";
   ck_assert (!odm_view_init (&v, NULL, (const uint8_t *) "\x05\0\0\0\0", 5, 0, &e));
   ck_assert_int_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert (!odm_view_init (&v, s, NULL, 0, 0, &e));
   ck_assert_int_eq (e.code, ODM_ERROR_INVALID_ARGUMENT);
   ck_assert_int_eq (odm_view_string (&v, 4, &str, NULL), ODM_ABSENT);
   ck_assert_str_eq (str, "x"); /* untouched when not present */
   ck_assert (odm_view_init (&v, s, (const uint8_t *) "\x05\0\0\0\0", 5, 0, &e));
   ck_assert_int_eq (odm_view_state (&v, 1000), ODM_ABSENT);
   ck_assert_int_eq (odm_view_string (&v, 1000, &str, NULL), ODM_ABSENT);
   ck_assert_int_eq (odm_view_field (&v, "nope"), -1);
   ck_assert_int_eq (odm_view_field (&v, "name"), 4);
}
END_TEST

/* ------------------------------------------- objects wider than the table */

/* A hand-made schema of 40 number fields (no shipped object has more than 19): fields past
 * ODM_VIEW_MAX_FIELDS are read by a walk, checked for duplicates by the bson_iter walk, and
 * still agree with the copying decode. */
#define WIDE_FIELDS 40
typedef struct {
   double v[WIDE_FIELDS];
   uint8_t has[WIDE_FIELDS];
   bson_t *_extra;
} wide_t;

static odm_field_t wide_fields[WIDE_FIELDS];
static char wide_names[WIDE_FIELDS][8];
static const odm_object_desc_t wide_desc = {"wide_t", sizeof (wide_t), offsetof (wide_t, _extra), WIDE_FIELDS,
                                            wide_fields, 0};
static const odm_schema_t wide_schema = {.magic = ODM_SCHEMA_MAGIC, .abi = ODM_CODEGEN_ABI, .collection = "wide",
                                         .model = "Wide", .c_name = "wide", .root = &wide_desc};

static void
wide_init (void)
{
   int i;
   for (i = 0; i < WIDE_FIELDS; i++) {
      snprintf (wide_names[i], sizeof wide_names[i], "f%d", i);
      wide_fields[i].name = wide_names[i];
      wide_fields[i].name_len = (uint32_t) strlen (wide_names[i]);
      wide_fields[i].kind = ODM_KIND_NUMBER;
      wide_fields[i].offset = (uint32_t) (offsetof (wide_t, v) + sizeof (double) * (size_t) i);
      wide_fields[i].presence = (uint32_t) (offsetof (wide_t, has) + (size_t) i);
   }
}

START_TEST (test_wide_object)
{
   bson_t doc = BSON_INITIALIZER;
   odm_view_t v;
   double x = 0;
   int i;

   wide_init ();
   for (i = WIDE_FIELDS - 1; i >= 0; i -= 2) { /* every other field, out of order */
      BSON_APPEND_DOUBLE (&doc, wide_names[i], i * 1.5);
   }
   ck_assert (check_agrees (&wide_schema, bson_get_data (&doc), doc.len, 0, "40 fields"));
   ck_assert (odm_view_init_bson (&v, &wide_schema, &doc, 0, NULL));
   ck_assert_int_eq (odm_view_number (&v, 39, &x), ODM_PRESENT);
   ck_assert (x == 39 * 1.5);
   ck_assert_int_eq (odm_view_state (&v, 38), ODM_ABSENT);
   ck_assert_int_eq (odm_view_field (&v, "f37"), 37);
   BSON_APPEND_NULL (&doc, "f38");
   ck_assert (check_agrees (&wide_schema, bson_get_data (&doc), doc.len, 0, "40 fields, one null"));
   ck_assert (odm_view_init_bson (&v, &wide_schema, &doc, 0, NULL));
   ck_assert_int_eq (odm_view_state (&v, 38), ODM_NULL);
   BSON_APPEND_DOUBLE (&doc, "f35", 1);
   expect_refused (&wide_schema, bson_get_data (&doc), doc.len, 0, ODM_ERROR_DUPLICATE_FIELD, "f35 twice");
   bson_destroy (&doc);
}
END_TEST

/* ------------------------------------------------- the README's example */

/* README.md, "Zero-copy reads": the same code, compiled and run here. */
static void
print_session (const bson_t *stored, FILE *out)
{
   odm_chat_session_view_t v;
   odm_chat_session_settings_view_t settings;
   odm_view_array_t tags;
   const char *name, *mode, *tag;
   uint32_t name_len;
   bson_error_t error;

   if (!odm_chat_session_view (&v, stored, 0, &error)) {
      fprintf (out, "refused: %s\n", error.message); /* what odm_from_bson would say */
      return;
   }
   if (odm_chat_session_view_name (&v, &name, &name_len) == ODM_PRESENT) {
      fprintf (out, "%.*s", (int) name_len, name);
   }
   if (odm_chat_session_view_settings (&v, &settings) == ODM_PRESENT &&
       odm_chat_session_settings_view_mode (&settings, &mode, NULL) == ODM_PRESENT) {
      fprintf (out, " (%s)", mode);
   }
   odm_chat_session_view_tags (&v, &tags);
   while (odm_view_next_string (&tags, &tag, NULL)) {
      fprintf (out, " #%s", tag);
   }
   fprintf (out, "\n");
}

START_TEST (test_readme_example)
{
   bson_t *full = odm_test_load_json ("chat_sessions.full.json");
   bson_t *bad = odm_test_fixture_with ("chat_sessions", "{\"name\": 12}");
   odm_chat_session_t doc;
   bson_error_t err;
   char *text = NULL, *want;
   size_t len = 0, k;
   FILE *out = open_memstream (&text, &len);
   bson_string_t *w = bson_string_new ("");

   ck_assert (out != NULL);
   print_session (full, out);
   print_session (bad, out);
   fclose (out);
   /* what the copying decode says about the same bytes */
   ck_assert (odm_chat_session_from_bson (full, &doc, 0, &err));
   ck_assert (doc.name && doc.settings.mode && doc.tags.count > 0);
   bson_string_append_printf (w, "%s (%s)", doc.name, doc.settings.mode);
   for (k = 0; k < doc.tags.count; k++) {
      bson_string_append_printf (w, " #%s", doc.tags.items[k]);
   }
   odm_chat_session_cleanup (&doc);
   ck_assert (!odm_chat_session_from_bson (bad, &doc, 0, &err));
   bson_string_append_printf (w, "\nrefused: %s\n", err.message);
   want = bson_string_free (w, false);
   ck_assert_str_eq (text, want);
   bson_free (want);
   free (text);
   bson_destroy (full);
   bson_destroy (bad);
}
END_TEST

/* The typed accessors are the generic ones with the field's index. */
START_TEST (test_typed_accessors)
{
   bson_t *b = odm_test_load_json ("consultations.full.json");
   odm_consultation_view_t v;
   odm_view_t g;
   size_t i;
   ck_assert (odm_consultation_view (&v, b, 0, NULL));
   ck_assert (odm_view_init_bson (&g, &odm_consultation_schema, b, 0, NULL));
   ck_assert (v.v.desc == g.desc && v.v.data == g.data && v.v.len == g.len);
   ck_assert_mem_eq (v.v.at, g.at, sizeof g.at[0] * odm_consultation_schema.root->field_count);
   for (i = 0; i < odm_consultation_schema.root->field_count; i++) {
      ck_assert_int_eq (odm_view_state (&v.v, (uint32_t) i), odm_view_state (&g, (uint32_t) i));
   }
   {
      const bson_oid_t *a, *c;
      ck_assert_int_eq (odm_consultation_view__id (&v, &a), ODM_PRESENT);
      ck_assert_int_eq (odm_view_oid (&g, (uint32_t) odm_view_field (&g, "_id"), &c), ODM_PRESENT);
      ck_assert_ptr_eq (a, c);
   }
   bson_destroy (b);
}
END_TEST

Suite *
view_suite (void)
{
   Suite *s = suite_create ("view");
   TCase *tc = tcase_create ("view");
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_fixtures_agree);
   tcase_add_test (tc, test_mutations_agree);
   tcase_add_test (tc, test_hostile_refused);
   tcase_add_test (tc, test_unknown_fields_of_every_type);
   tcase_add_test (tc, test_zero_allocations);
   tcase_add_test (tc, test_allocations_counted);
   tcase_add_test (tc, test_arguments);
   tcase_add_test (tc, test_readme_example);
   tcase_add_test (tc, test_typed_accessors);
   tcase_add_test (tc, test_wide_object);
   suite_add_tcase (s, tc);
   return s;
}
