/* libodm: encode, struct -> bytes. Writes exactly what decode reads back: each value is
 * checked as it is written, with decode's checks (UTF-8 of strings, dates in range, the
 * byte check over mixed values and unknown fields, nesting). */
#include "odm-private.h"

#include <math.h>
#include <string.h>

/* --------------------------------------------------------------------- encode */

/* What the encoder checks as it goes (NULL for analytics rows, which are never written):
 * strings, dates, mixed values and the unknown fields kept beside the struct's own, as
 * decode checks them. The keys it writes itself (field names, array indexes) need none. */
typedef struct {
   odm_path_t path;
   bson_error_t *error;
   bool failed;
   int depth; /* of the document being written: the top-level one is 1 */
} encode_ctx_t;

/* Reports MSG at the path of KEY (in the document being written). */
static bool
encode_fail (encode_ctx_t *e, uint32_t code, const char *key, int key_len, const char *msg)
{
   size_t old = odm_path_push (&e->path, key, (size_t) key_len);
   odm_set_error (e->error, code, e->path.buf, "%s", msg);
   odm_path_pop (&e->path, old);
   e->failed = true;
   return false;
}

static bool encode_object (const odm_object_desc_t *d, const void *base, bson_t *out, encode_ctx_t *e);

static bool
append_number (bson_t *b, const char *key, int key_len, double v)
{
   if (v >= -2147483648.0 && v <= 2147483647.0 && v == (double) (int32_t) v &&
       !(v == 0.0 && signbit (v))) {
      return bson_append_int32 (b, key, key_len, (int32_t) v);
   }
   return bson_append_double (b, key, key_len, v);
}

static bool
encode_value (const odm_field_t *f, const void *p, bson_t *out, const char *key, int key_len, encode_ctx_t *e)
{
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = *(char *const *) p;
      size_t n = strlen (s);
      if (e && !odm_utf8_valid (s, n)) {
         return encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len, "string is not valid UTF-8");
      }
      return bson_append_utf8 (out, key, key_len, s, (int) n);
   }
   case ODM_KIND_NUMBER:
      return append_number (out, key, key_len, *(const double *) p);
   case ODM_KIND_BOOL:
      return bson_append_bool (out, key, key_len, *(const bool *) p);
   case ODM_KIND_DATE:
      if (e && !odm_date_in_range (*(const int64_t *) p)) {
         return encode_fail (e, ODM_ERROR_RANGE, key, key_len,
                             "date is outside JavaScript's range (+/-8.64e15 ms from 1970)");
      }
      return bson_append_date_time (out, key, key_len, *(const int64_t *) p);
   case ODM_KIND_OID:
      return bson_append_oid (out, key, key_len, (const bson_oid_t *) p);
   case ODM_KIND_MIXED: {
      /* libbson writes code, code-with-scope and DBPointer strings up to their first NUL:
       * a value that would be cut is refused (its string holds a NUL, as decode refuses).
       * libbson also sorts regex options and drops unknown ones: only sorted known ones pass. */
      const bson_value_t *v = p;
      bool cut = (v->value_type == BSON_TYPE_CODE && strlen (v->value.v_code.code) != v->value.v_code.code_len) ||
                 (v->value_type == BSON_TYPE_CODEWSCOPE &&
                  strlen (v->value.v_codewscope.code) != v->value.v_codewscope.code_len) ||
                 (v->value_type == BSON_TYPE_DBPOINTER &&
                  strlen (v->value.v_dbpointer.collection) != v->value.v_dbpointer.collection_len) ||
                 (v->value_type == BSON_TYPE_REGEX && !odm_regex_options_ok (v->value.v_regex.options));
      uint32_t before = out->len;
      if (!cut && bson_append_value (out, key, key_len, v)) {
         /* the value as written: the element starts where the terminator was */
         const uint8_t *data = bson_get_data (out);
         if (e) {
            size_t old = odm_path_push (&e->path, key, (size_t) key_len);
            bool ok = odm_check_element (data + before - 1, data + out->len - 1, e->path.buf, e->depth, e->error);
            odm_path_pop (&e->path, old);
            e->failed = !ok;
            return ok;
         }
         return true;
      }
      if (e) {
         size_t old = odm_path_push (&e->path, key, (size_t) key_len);
         odm_set_error (e->error, ODM_ERROR_CORRUPT_BSON, e->path.buf,
                        cut ? "string is not valid UTF-8" : "value is not valid BSON");
         odm_path_pop (&e->path, old);
         e->failed = true;
      }
      return false;
   }
   case ODM_KIND_OBJECT: {
      bson_t child;
      size_t old = e ? odm_path_push (&e->path, key, (size_t) key_len) : 0;
      bool ok = bson_append_document_begin (out, key, key_len, &child);
      if (e) {
         e->depth++;
      }
      ok = ok && encode_object (f->object, p, &child, e);
      ok = bson_append_document_end (out, &child) && ok;
      if (e) {
         e->depth--;
      }
      if (e && ok) {
         odm_path_pop (&e->path, old);
      }
      return ok;
   }
   default:
      return false;
   }
}

/* The unknown fields of one object must read back as unknown fields: no key the decoder
 * refuses ('$' first, a '.'), none that is also a schema field, none twice. */
static bool
check_extra (const odm_object_desc_t *d, const bson_t *extra, encode_ctx_t *e)
{
   bson_iter_t it;
   odm_keyset_t seen = {NULL, 0, 0};
   bool ok = true;

   if (!bson_iter_init (&it, extra)) {
      odm_set_error (e->error, ODM_ERROR_CORRUPT_BSON, e->path.buf, "unknown fields are not valid BSON");
      return false;
   }
   while (ok && bson_iter_next (&it)) {
      const char *key = bson_iter_key (&it);
      uint32_t len = bson_iter_key_len (&it);
      size_t old = odm_path_push (&e->path, key, len);
      if (odm_key_is_refused (key, len)) {
         ok = odm_key_error (e->error, e->path.buf, d, key, len);
      } else if (odm_find_field (d, &(uint32_t){0}, key, len)) {
         odm_set_error (e->error, ODM_ERROR_DUPLICATE_FIELD, e->path.buf,
                        "is a field of the schema: set it in the struct, not among the unknown fields");
         ok = false;
      } else if (!odm_keyset_add (&seen, key, len)) {
         odm_set_error (e->error, ODM_ERROR_DUPLICATE_FIELD, e->path.buf, "field appears twice");
         ok = false;
      }
      if (ok) {
         odm_path_pop (&e->path, old);
      }
   }
   bson_free (seen.slots);
   return ok;
}

static bool
encode_object (const odm_object_desc_t *d, const void *base, bson_t *out, encode_ctx_t *e)
{
   uint32_t i;
   bson_t *extra = *(bson_t *const *) ODM_AT_CONST (base, d->extra);

   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t state = odm_field_state (f, base);

      if (state == ODM_ABSENT) {
         continue;
      }
      if (state == ODM_NULL) {
         if (!bson_append_null (out, f->name, (int) f->name_len)) {
            return false;
         }
         continue;
      }
      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         bson_t child;
         size_t k;
         size_t old = e ? odm_path_push (&e->path, f->name, f->name_len) : 0;
         bool ok = bson_append_array_begin (out, f->name, (int) f->name_len, &child);
         if (e) {
            e->depth++;
         }
         for (k = 0; ok && k < a.count; k++) {
            char buf[16];
            const char *key;
            size_t kl = bson_uint32_to_string ((uint32_t) k, &key, buf, sizeof buf);
            ok = encode_value (f, (const char *) a.items + k * f->elem_size, &child, key, (int) kl, e);
         }
         if (e) {
            e->depth--;
         }
         if (!bson_append_array_end (out, &child) || !ok) {
            return false;
         }
         if (e) {
            odm_path_pop (&e->path, old);
         }
      } else if (!encode_value (f, ODM_AT_CONST (base, f->offset), out, f->name, (int) f->name_len, e)) {
         return false;
      }
   }
   if (extra && e &&
       (!check_extra (d, extra, e) ||
        !odm_bson_check_at (bson_get_data (extra), extra->len, e->path.buf, e->depth - 1, ODM_CHECK_ARRAY_KEYS, e->error))) {
      e->failed = true;
      return false;
   }
   if (extra && !bson_concat (out, extra)) {
      return false;
   }
   return true;
}

bool
odm_encode_desc (const odm_object_desc_t *d, const void *doc, bson_t *out)
{
   return encode_object (d, doc, out, NULL);
}

bool
odm_to_bson (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error)
{
   encode_ctx_t e;
   bson_error_t local;

   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   bson_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
      return false;
   }
   odm_path_init (&e.path);
   e.error = error ? error : &local;
   e.failed = false;
   e.depth = 1;
   if (!encode_object (schema->root, doc, out, &e)) {
      bson_reinit (out);
      if (!e.failed) {
         odm_set_error (error, ODM_ERROR_ENCODE, e.path.len ? e.path.buf : schema->collection,
                        "document exceeds the maximum BSON size");
      }
      return false;
   }
   return true;
}
