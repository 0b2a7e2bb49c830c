/* libFuzzer harness over the zero-copy read path (odm-view.h). Input: as fuzz_decode's, one
 * byte choosing the collection (and ODM_DECODE_STRICT), then BSON bytes.
 * Promises checked: odm_view_init never crashes, leaks or reads out of bounds; it accepts
 * exactly what odm_from_bson accepts and refuses the rest with the same error (code and
 * message); a refused view is empty; and on bytes both accept, every accessor reads what
 * the copying decode decoded, field by field, nested objects and array elements too, while
 * the accessors of other kinds say absent. */
#include "fuzz-common.h"

#include <math.h>
#include <stdint.h>

static void compare_object (const odm_object_desc_t *d, const odm_view_t *v, const void *base);

static void
mismatch (const odm_field_t *f, const char *what)
{
   fuzz_fail ("view", what, f->name);
}

static void
compare_mixed (const odm_field_t *f, const bson_iter_t *it, const bson_value_t *val)
{
   bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
   if (!bson_append_iter (&a, "v", 1, it) || !bson_append_value (&b, "v", 1, val) || a.len != b.len ||
       memcmp (bson_get_data (&a), bson_get_data (&b), a.len) != 0) {
      mismatch (f, "a mixed value differs");
   }
   bson_destroy (&a);
   bson_destroy (&b);
}

static bool
same_number (double a, double b)
{
   return (isnan (a) && isnan (b)) || (a == b && signbit (a) == signbit (b));
}

/* One value of F: read through A (an array's next element) or, when A is NULL, field I of V. */
static void
compare_value (const odm_field_t *f, const odm_view_t *v, uint32_t i, odm_view_array_t *a, const void *p)
{
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = NULL;
      uint32_t n = 0;
      bool ok = a ? odm_view_next_string (a, &s, &n) : odm_view_string (v, i, &s, &n) == ODM_PRESENT;
      if (!ok || n != strlen (*(char *const *) p) || memcmp (s, *(char *const *) p, (size_t) n + 1) != 0) {
         mismatch (f, "a string differs");
      }
      break;
   }
   case ODM_KIND_NUMBER: {
      double x = 0;
      bool ok = a ? odm_view_next_number (a, &x) : odm_view_number (v, i, &x) == ODM_PRESENT;
      if (!ok || !same_number (x, *(const double *) p)) {
         mismatch (f, "a number differs");
      }
      break;
   }
   case ODM_KIND_BOOL: {
      bool b = false;
      bool ok = a ? odm_view_next_bool (a, &b) : odm_view_bool (v, i, &b) == ODM_PRESENT;
      if (!ok || b != *(const bool *) p) {
         mismatch (f, "a boolean differs");
      }
      break;
   }
   case ODM_KIND_DATE: {
      int64_t ms = 0;
      bool ok = a ? odm_view_next_date (a, &ms) : odm_view_date (v, i, &ms) == ODM_PRESENT;
      if (!ok || ms != *(const int64_t *) p) {
         mismatch (f, "a date differs");
      }
      break;
   }
   case ODM_KIND_OID: {
      const bson_oid_t *oid = NULL;
      bool ok = a ? odm_view_next_oid (a, &oid) : odm_view_oid (v, i, &oid) == ODM_PRESENT;
      if (!ok || !bson_oid_equal (oid, (const bson_oid_t *) p)) {
         mismatch (f, "an ObjectId differs");
      }
      break;
   }
   case ODM_KIND_OBJECT: {
      odm_view_t sub;
      bool ok = a ? odm_view_next_object (a, &sub) : odm_view_object (v, i, &sub) == ODM_PRESENT;
      if (!ok) {
         mismatch (f, "a nested object is missing");
      }
      compare_object (f->object, &sub, p);
      break;
   }
   default: {
      bson_iter_t it;
      bool ok = a ? odm_view_next_mixed (a, &it) : odm_view_mixed (v, i, &it) == ODM_PRESENT;
      if (!ok) {
         mismatch (f, "a mixed value is missing");
      }
      compare_mixed (f, &it, (const bson_value_t *) p);
      break;
   }
   }
}

static void
compare_object (const odm_object_desc_t *d, const odm_view_t *v, const void *base)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t has = *((const uint8_t *) base + f->presence), state = odm_view_state (v, i);
      bool array = (f->flags & ODM_F_ARRAY) != 0;
      const char *s;
      double x;
      odm_view_array_t arr;

      if (state != has) {
         mismatch (f, "absent/null/present differs");
      }
      /* another kind's accessor: absent, never a value */
      if ((array || f->kind != ODM_KIND_STRING) && odm_view_string (v, i, &s, NULL) != ODM_ABSENT) {
         mismatch (f, "read as a string");
      }
      if ((array || f->kind != ODM_KIND_NUMBER) && odm_view_number (v, i, &x) != ODM_ABSENT) {
         mismatch (f, "read as a number");
      }
      if (!array && odm_view_array (v, i, &arr) != ODM_ABSENT) {
         mismatch (f, "read as an array");
      }
      if (array) {
         size_t count = 0, k;
         const char *items = odm_field_array (f, base, &count);
         odm_view_array (v, i, &arr);
         if (odm_view_array_count (&arr) != (state == ODM_PRESENT ? count : 0)) {
            mismatch (f, "array length differs");
         }
         for (k = 0; state == ODM_PRESENT && k < count; k++) {
            compare_value (f, v, i, &arr, items + k * f->elem_size);
         }
         continue;
      }
      if (state == ODM_PRESENT) {
         compare_value (f, v, i, NULL, odm_field_value (f, base));
      } else if (f->kind == ODM_KIND_OBJECT) {
         odm_view_t sub;
         odm_view_object (v, i, &sub);
         compare_object (f->object, &sub, odm_field_value (f, base)); /* both empty */
      }
   }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
   unsigned rest;
   const odm_schema_t *s;
   bson_t in;
   bson_error_t de = {0}, ve = {0};
   odm_view_t v;
   void *doc;
   uint32_t flags;
   bool dok, vok;

   if (size < 6) {
      return 0;
   }
   s = fuzz_schema (data[0], &rest);
   flags = rest % 2 ? ODM_DECODE_STRICT : ODM_DECODE_DEFAULT;
   /* the view over the raw bytes, whatever they are */
   vok = odm_view_init (&v, s, data + 1, size - 1, flags, &ve);
   if (!bson_init_static (&in, data + 1, size - 1)) {
      if (vok) {
         fuzz_fail ("view", "accepted bytes that are not a BSON document", NULL);
      }
      return 0;
   }
   doc = malloc (s->root->size);
   dok = odm_from_bson (s, &in, doc, flags, &de);
   if (dok != vok) {
      fprintf (stderr, "fuzz view: %s: decode %s (%s), view %s (%s)\n", s->collection, dok ? "accepts" : "refuses",
               de.message, vok ? "accepts" : "refuses", ve.message);
      abort ();
   }
   if (dok) {
      compare_object (s->root, &v, doc);
      odm_cleanup (s, doc);
   } else {
      uint32_t i;
      if (de.code != ve.code || de.domain != ve.domain || strcmp (de.message, ve.message) != 0) {
         fprintf (stderr, "fuzz view: %s: decode says %u \"%s\", view %u \"%s\"\n", s->collection, de.code, de.message,
                  ve.code, ve.message);
         abort ();
      }
      for (i = 0; i < s->root->field_count; i++) {
         if (odm_view_state (&v, i) != ODM_ABSENT) {
            fuzz_fail ("view", "a refused view is not empty", s->root->fields[i].name);
         }
      }
   }
   free (doc);
   return 0;
}
