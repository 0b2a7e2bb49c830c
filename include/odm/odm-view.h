/* libodm: zero-copy views over stored BSON. Include <odm/odm.h>, not this file.
 *
 * A view reads a stored document's fields straight from its BSON bytes: nothing is
 * copied and nothing is allocated. odm_view_init checks the bytes once, making the same
 * promises as odm_from_bson (docs/untrusted-input.md: structure, strict UTF-8 without NUL,
 * nesting, dates in JavaScript's range, keys, duplicates, and the schema's type of every
 * field), and refuses what odm_from_bson refuses with the same error code. After that no
 * accessor can fail on the bytes or hand out a value of another type than the schema's.
 *
 * Lifetime, the one rule: a view, and every string, ObjectId, sub-view and array iterator
 * read from it, borrows the bytes it was made from and is valid only while those bytes
 * are alive and unchanged (for odm_cursor_next_view: until the next call on the cursor or
 * its destruction).
 *
 * Fields are named by their index in the object's descriptor (odm_object_desc_t.fields,
 * spec order); odm_view_field finds one by name, and the generated headers give typed
 * accessors (odm_chat_session_view_name (&v, &s, &len)) over the same functions. Every
 * accessor returns the field's state, ODM_ABSENT, ODM_NULL or ODM_PRESENT, as the copying
 * decode's has_<field> member would hold it, and writes its out-parameters only when the
 * field is present. An index out of range, or an accessor of another kind than the
 * field's (odm_view_string on a number field), returns ODM_ABSENT. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_VIEW_H
#define ODM_VIEW_H

#include <string.h>

#include <bson/bson.h>

#include "odm-error.h"
#include "odm-macros.h"
#include "odm-schema.h"

ODM_BEGIN_DECLS

/* Fields whose element offset a view keeps (the platform specification's objects have at
 * most 19 fields). A field past this index is still read correctly, by a walk over the
 * object's elements at each access. */
#define ODM_VIEW_MAX_FIELDS 32

/* A view of one object (a document, a nested object or an array element). Plain data: copy
 * it freely; there is nothing to clean up. Read it only through the functions below. */
typedef struct {
   const odm_object_desc_t *desc;
   const uint8_t *data; /* the object's BSON bytes (borrowed) */
   uint32_t len;
   uint32_t at[ODM_VIEW_MAX_FIELDS]; /* field i's element at data + at[i]; 0 = absent
                                      * (and past the object's field count) */
} odm_view_t;

/* An iterator over an array field's elements (borrowed like its view). */
typedef struct {
   const odm_field_t *field;
   const uint8_t *data; /* the array's BSON bytes */
   uint32_t len;
   uint32_t next; /* offset of the next element */
} odm_view_array_t;

/* Checks LEN bytes at DATA as a stored document of SCHEMA (FLAGS as for odm_from_bson:
 * ODM_DECODE_STRICT refuses unknown fields) and makes VIEW read them. VIEW is initialised
 * here, always: on failure it is empty (every field absent) and ERROR says why, exactly as
 * odm_from_bson would (same code, same path and message: a refusal is reported by running
 * the copying decode on the bytes). Allocates nothing when it accepts them. Views are plain
 * data read-only after init: any number of threads may read one at once. */
ODM_API bool
odm_view_init (odm_view_t *view, const odm_schema_t *schema, const uint8_t *data, size_t len, uint32_t flags,
               bson_error_t *error);

/* The same over a bson_t (borrowed, like DATA above). */
ODM_API bool
odm_view_init_bson (odm_view_t *view, const odm_schema_t *schema, const bson_t *doc, uint32_t flags,
                    bson_error_t *error);

/* The index of the field named NAME in VIEW's object, or -1. */
ODM_API int
odm_view_field (const odm_view_t *view, const char *name);

/* ODM_ABSENT, ODM_NULL or ODM_PRESENT, whatever the field's kind (inline, below):
 *   uint8_t odm_view_state (const odm_view_t *view, uint32_t field);
 * The scalars, inline too (a read is a few loads, no call):
 *   A string: *STR points into the bytes, NUL-terminated (BSON strings are), *LEN bytes
 *   long without the NUL (LEN may be NULL); valid UTF-8 without NUL inside.
 *     uint8_t odm_view_string (const odm_view_t *view, uint32_t field, const char **str, uint32_t *len);
 *   A number (stored as double, int32, or int64 within +/-2^53; read as a double).
 *     uint8_t odm_view_number (const odm_view_t *view, uint32_t field, double *value);
 *     uint8_t odm_view_bool (const odm_view_t *view, uint32_t field, bool *value);
 *   A date: milliseconds since the Unix epoch, within JavaScript's range.
 *     uint8_t odm_view_date (const odm_view_t *view, uint32_t field, int64_t *ms);
 *   An ObjectId: *OID points into the bytes.
 *     uint8_t odm_view_oid (const odm_view_t *view, uint32_t field, const bson_oid_t **oid); */

/* A nested object, as a view of its own (SUB is initialised here, always). */
ODM_API uint8_t
odm_view_object (const odm_view_t *view, uint32_t field, odm_view_t *sub);

/* A mixed value: IT is positioned on it (bson_iter_value etc. read it, borrowed). */
ODM_API uint8_t
odm_view_mixed (const odm_view_t *view, uint32_t field, bson_iter_t *it);

/* An array field: ARRAY (initialised here, always; empty unless present) iterates over its
 * elements with the odm_view_next_* function of the field's kind. */
ODM_API uint8_t
odm_view_array (const odm_view_t *view, uint32_t field, odm_view_array_t *array);

/* How many elements ARRAY has in all. */
ODM_API uint32_t
odm_view_array_count (const odm_view_array_t *array);

/* The next element: true and the value, or false at the end (or for another kind than the
 * array's). Elements of typed arrays are never null (the check refuses them). */
ODM_API bool
odm_view_next_string (odm_view_array_t *array, const char **str, uint32_t *len);
ODM_API bool
odm_view_next_number (odm_view_array_t *array, double *value);
ODM_API bool
odm_view_next_bool (odm_view_array_t *array, bool *value);
ODM_API bool
odm_view_next_date (odm_view_array_t *array, int64_t *ms);
ODM_API bool
odm_view_next_oid (odm_view_array_t *array, const bson_oid_t **oid);
ODM_API bool
odm_view_next_object (odm_view_array_t *array, odm_view_t *sub);
/* Mixed arrays: elements may be null (IT then holds BSON_TYPE_NULL). */
ODM_API bool
odm_view_next_mixed (odm_view_array_t *array, bson_iter_t *it);

/* ---------------------------------------------------------------------------------------
 * The inline accessors' implementation (not API: call the accessors above). */

/* The offset of field FIELD's element when FIELD is past the view's table (a walk over the
 * object's elements), 0 when absent. */
ODM_API uint32_t
odm_view_impl_elem_slow (const odm_view_t *view, uint32_t field);

/* Field FIELD's state; when present, *VAL its value and *TYPE its BSON type. KIND 0: any
 * kind and array or not; otherwise the field must be a non-array of KIND. */
static inline uint8_t
odm_view_impl_find (const odm_view_t *view, uint32_t field, uint32_t kind, const uint8_t **val, uint8_t *type)
{
   const odm_field_t *f;
   uint32_t o;
   if (!view) {
      return ODM_ABSENT;
   }
   /* the table is 0 for absent fields and for indexes past the object's fields, so an absent
    * field costs one load */
   o = field < ODM_VIEW_MAX_FIELDS ? view->at[field] : odm_view_impl_elem_slow (view, field);
   if (!o) {
      return ODM_ABSENT;
   }
   f = &view->desc->fields[field];
   if (kind && (f->kind != kind || (f->flags & ODM_F_ARRAY))) {
      return ODM_ABSENT;
   }
   if (view->data[o] == BSON_TYPE_NULL) {
      return ODM_NULL;
   }
   *type = view->data[o];
   *val = view->data + o + 1 + f->name_len + 1;
   return ODM_PRESENT;
}

static inline uint8_t
odm_view_state (const odm_view_t *view, uint32_t field)
{
   const uint8_t *p;
   uint8_t t;
   return odm_view_impl_find (view, field, 0, &p, &t);
}

static inline uint8_t
odm_view_string (const odm_view_t *view, uint32_t field, const char **str, uint32_t *len)
{
   const uint8_t *p = NULL;
   uint8_t t;
   uint8_t s = odm_view_impl_find (view, field, ODM_KIND_STRING, &p, &t);
   if (s == ODM_PRESENT) {
      uint32_t n;
      memcpy (&n, p, sizeof n);
      if (str) {
         *str = (const char *) p + 4;
      }
      if (len) {
         *len = BSON_UINT32_FROM_LE (n) - 1;
      }
   }
   return s;
}

static inline uint8_t
odm_view_number (const odm_view_t *view, uint32_t field, double *value)
{
   const uint8_t *p = NULL;
   uint8_t t = 0;
   uint8_t s = odm_view_impl_find (view, field, ODM_KIND_NUMBER, &p, &t);
   if (s == ODM_PRESENT && value) {
      if (t == BSON_TYPE_DOUBLE) {
         double d;
         memcpy (&d, p, sizeof d);
         *value = BSON_DOUBLE_FROM_LE (d);
      } else if (t == BSON_TYPE_INT32) {
         int32_t i;
         memcpy (&i, p, sizeof i);
         *value = (double) (int32_t) BSON_UINT32_FROM_LE ((uint32_t) i);
      } else {
         int64_t i;
         memcpy (&i, p, sizeof i);
         *value = (double) (int64_t) BSON_UINT64_FROM_LE ((uint64_t) i);
      }
   }
   return s;
}

static inline uint8_t
odm_view_bool (const odm_view_t *view, uint32_t field, bool *value)
{
   const uint8_t *p = NULL;
   uint8_t t;
   uint8_t s = odm_view_impl_find (view, field, ODM_KIND_BOOL, &p, &t);
   if (s == ODM_PRESENT && value) {
      *value = *p != 0;
   }
   return s;
}

static inline uint8_t
odm_view_date (const odm_view_t *view, uint32_t field, int64_t *ms)
{
   const uint8_t *p = NULL;
   uint8_t t;
   uint8_t s = odm_view_impl_find (view, field, ODM_KIND_DATE, &p, &t);
   if (s == ODM_PRESENT && ms) {
      int64_t v;
      memcpy (&v, p, sizeof v);
      *ms = (int64_t) BSON_UINT64_FROM_LE ((uint64_t) v);
   }
   return s;
}

static inline uint8_t
odm_view_oid (const odm_view_t *view, uint32_t field, const bson_oid_t **oid)
{
   const uint8_t *p = NULL;
   uint8_t t;
   uint8_t s = odm_view_impl_find (view, field, ODM_KIND_OID, &p, &t);
   if (s == ODM_PRESENT && oid) {
      *oid = (const bson_oid_t *) p;
   }
   return s;
}

ODM_END_DECLS

#endif /* ODM_VIEW_H */
