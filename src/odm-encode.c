/* libodm: encode, struct -> bytes. Writes exactly what decode reads back: each value is
 * checked as it is written, with decode's checks (UTF-8 of strings, dates in range, the
 * byte check over mixed values and unknown fields, nesting). The bytes are written
 * straight into a buffer (on the stack up to 2 KB) and copied once into the output, whose
 * buffer is allocated at its final size. */
#include "odm-private.h"
#include "odm-scan.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ the writer */

#define WB_STACK 2048

typedef struct {
   uint8_t *data;
   size_t len, cap;
   bool heap;
   bool too_big; /* past BSON's maximum size */
   uint8_t stack[WB_STACK];
} wbuf_t;

/* Room for N more bytes; false when the document would pass INT32_MAX bytes. */
static inline bool
wb_room (wbuf_t *w, size_t n)
{
   size_t cap;
   if (w->cap - w->len >= n) {
      return true;
   }
   if (n > (size_t) INT32_MAX - w->len) {
      w->too_big = true;
      return false;
   }
   for (cap = w->cap * 2; cap < w->len + n; cap *= 2) {
   }
   if (w->heap) {
      w->data = bson_realloc (w->data, cap);
   } else {
      w->data = bson_malloc (cap);
      memcpy (w->data, w->stack, w->len);
      w->heap = true;
   }
   w->cap = cap;
   return true;
}

static inline void
wb_put (wbuf_t *w, const void *p, size_t n)
{
   memcpy (w->data + w->len, p, n);
   w->len += n;
}

static inline void
wb_u32 (wbuf_t *w, uint32_t v)
{
   v = BSON_UINT32_TO_LE (v);
   wb_put (w, &v, 4);
}

/* Type byte and key of an element whose value takes VALUE_SIZE bytes (room made). */
static inline bool
wb_head (wbuf_t *w, uint8_t type, const char *key, size_t key_len, size_t value_size)
{
   if (!wb_room (w, 2 + key_len + value_size)) {
      return false;
   }
   w->data[w->len++] = type;
   wb_put (w, key, key_len);
   w->data[w->len++] = 0;
   return true;
}

/* A document's length word, filled by wb_end; returns its offset. */
static inline size_t
wb_begin (wbuf_t *w)
{
   size_t at = w->len;
   w->len += 4; /* room made by the caller's head, or by wb_init */
   return at;
}

static inline bool
wb_end (wbuf_t *w, size_t at)
{
   uint32_t n;
   if (!wb_room (w, 1)) {
      return false;
   }
   w->data[w->len++] = 0;
   n = BSON_UINT32_TO_LE ((uint32_t) (w->len - at));
   memcpy (w->data + at, &n, 4);
   return true;
}

static void
wb_init (wbuf_t *w)
{
   w->data = w->stack;
   w->len = 0;
   w->cap = WB_STACK;
   w->heap = false;
   w->too_big = false;
}

static void
wb_free (wbuf_t *w)
{
   if (w->heap) {
      bson_free (w->data);
   }
}

/* OUT (initialised, empty) becomes a copy of the document in W. */
static bool
wb_finish (wbuf_t *w, bson_t *out)
{
   uint8_t *dst = bson_reserve_buffer (out, (uint32_t) w->len);
   if (!dst) {
      return false;
   }
   memcpy (dst, w->data, w->len);
   return true;
}

/* --------------------------------------------------------------------- encode */

/* What the encoder checks as it goes (NULL for analytics rows, which are never written):
 * strings, dates, mixed values and the unknown fields kept beside the struct's own, as
 * decode checks them. The keys it writes itself (field names, array indexes) need none. */
typedef struct {
   odm_path_t path;   /* kept only when TRACK: see odm_to_bson */
   bool track;
   bson_error_t *error;
   bool failed;
   int depth; /* of the document being written: the top-level one is 1 */
} encode_ctx_t;

/* Reports MSG at the path of KEY (in the document being written). */
static bool
encode_fail (encode_ctx_t *e, uint32_t code, const char *key, size_t key_len, const char *msg)
{
   size_t old = odm_path_push (&e->path, key, key_len);
   odm_set_error (e->error, code, e->path.buf, "%s", msg);
   odm_path_pop (&e->path, old);
   e->failed = true;
   return false;
}

static bool encode_object (const odm_object_desc_t *d, const void *base, wbuf_t *w, encode_ctx_t *e);

static bool
put_number (wbuf_t *w, const char *key, size_t key_len, double v)
{
   if (v >= -2147483648.0 && v <= 2147483647.0 && v == (double) (int32_t) v && !(v == 0.0 && signbit (v))) {
      if (!wb_head (w, BSON_TYPE_INT32, key, key_len, 4)) {
         return false;
      }
      wb_u32 (w, (uint32_t) (int32_t) v);
   } else {
      uint64_t bits;
      if (!wb_head (w, BSON_TYPE_DOUBLE, key, key_len, 8)) {
         return false;
      }
      memcpy (&bits, &v, 8);
      bits = BSON_UINT64_TO_LE (bits);
      wb_put (w, &bits, 8);
   }
   return true;
}

/* Whether the pointers of mixed value V that libbson reads are set: a bson_value_t filled
 * by hand (or zeroed, with only its type set) may hold NULL where bytes are due. */
static bool
mixed_pointers_set (const bson_value_t *v)
{
   switch (v->value_type) {
   case BSON_TYPE_UTF8: return v->value.v_utf8.str != NULL;
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY: return v->value.v_doc.data != NULL;
   case BSON_TYPE_BINARY: return v->value.v_binary.data != NULL || v->value.v_binary.data_len == 0;
   case BSON_TYPE_REGEX: return v->value.v_regex.regex != NULL && v->value.v_regex.options != NULL;
   case BSON_TYPE_DBPOINTER: return v->value.v_dbpointer.collection != NULL;
   case BSON_TYPE_CODE: return v->value.v_code.code != NULL;
   case BSON_TYPE_CODEWSCOPE:
      return v->value.v_codewscope.code != NULL &&
             (v->value.v_codewscope.scope_data != NULL || v->value.v_codewscope.scope_len == 0);
   case BSON_TYPE_SYMBOL: return v->value.v_symbol.symbol != NULL;
   default: return true;
   }
}

/* A mixed value: libbson writes it into a scratch document, whose element is copied. */
static bool
put_mixed (wbuf_t *w, const bson_value_t *v, const char *key, size_t key_len, encode_ctx_t *e)
{
   /* libbson writes code, code-with-scope and DBPointer strings up to their first NUL:
    * a value that would be cut is refused (its string holds a NUL, as decode refuses).
    * libbson also sorts regex options and drops unknown ones: only sorted known ones pass. */
   bool cut;
   bson_t tmp;
   bool ok;
   if (!mixed_pointers_set (v)) {
      return e ? encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len, "value is not valid BSON (a NULL where its bytes are due)")
               : false;
   }
   cut = (v->value_type == BSON_TYPE_CODE && strlen (v->value.v_code.code) != v->value.v_code.code_len) ||
              (v->value_type == BSON_TYPE_CODEWSCOPE &&
               strlen (v->value.v_codewscope.code) != v->value.v_codewscope.code_len) ||
              (v->value_type == BSON_TYPE_DBPOINTER &&
               strlen (v->value.v_dbpointer.collection) != v->value.v_dbpointer.collection_len) ||
              (v->value_type == BSON_TYPE_REGEX && !odm_regex_options_ok (v->value.v_regex.options));
   if (cut || key_len > INT32_MAX) {
      return e ? encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len,
                              cut ? "string is not valid UTF-8" : "value is not valid BSON")
               : false;
   }
   bson_init (&tmp);
   if (!bson_append_value (&tmp, key, (int) key_len, v)) {
      bson_destroy (&tmp);
      return e ? encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len, "value is not valid BSON") : false;
   }
   if (e) {
      /* the value as written: decode's checks of a value it keeps as raw bytes */
      const uint8_t *data = bson_get_data (&tmp);
      size_t old = odm_path_push (&e->path, key, key_len);
      ok = odm_check_element (data + 4, data + tmp.len - 1, e->path.buf, e->depth, e->error);
      odm_path_pop (&e->path, old);
      if (!ok) {
         e->failed = true;
         bson_destroy (&tmp);
         return false;
      }
   }
   ok = wb_room (w, tmp.len - 5);
   if (ok) {
      wb_put (w, bson_get_data (&tmp) + 4, tmp.len - 5);
   }
   bson_destroy (&tmp);
   return ok;
}

static bool
encode_value (const odm_field_t *f, const void *p, wbuf_t *w, const char *key, size_t key_len, encode_ctx_t *e)
{
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = *(char *const *) p;
      const uint8_t *at;
      size_t n;
      if (!s) { /* an element (a NULL field is absent): decode would refuse it as null */
         return e ? encode_fail (e, ODM_ERROR_TYPE, key, key_len, "expected string, got NULL") : false;
      }
      n = strlen (s);
      if (n >= (size_t) INT32_MAX || !wb_head (w, BSON_TYPE_UTF8, key, key_len, 4 + n + 1)) {
         w->too_big = true;
         return false;
      }
      wb_u32 (w, (uint32_t) n + 1);
      at = w->data + w->len;
      wb_put (w, s, n + 1);
      /* checked in the copy, whose bytes are in cache and may be read up to the buffer's
       * capacity (odm_scan_text reads whole blocks); a refusal discards the buffer */
      if (e && !odm_scan_text (at, (uint32_t) n, (uint32_t) (w->cap - (size_t) (at - w->data)))) {
         return encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len, "string is not valid UTF-8");
      }
      return true;
   }
   case ODM_KIND_NUMBER:
      return put_number (w, key, key_len, *(const double *) p);
   case ODM_KIND_BOOL:
      if (!wb_head (w, BSON_TYPE_BOOL, key, key_len, 1)) {
         return false;
      }
      w->data[w->len++] = *(const bool *) p ? 1 : 0;
      return true;
   case ODM_KIND_DATE: {
      uint64_t v;
      if (e && !odm_date_in_range (*(const int64_t *) p)) {
         return encode_fail (e, ODM_ERROR_RANGE, key, key_len,
                             ODM_DATE_RANGE_MSG);
      }
      if (!wb_head (w, BSON_TYPE_DATE_TIME, key, key_len, 8)) {
         return false;
      }
      v = BSON_UINT64_TO_LE ((uint64_t) * (const int64_t *) p);
      wb_put (w, &v, 8);
      return true;
   }
   case ODM_KIND_OID:
      if (!wb_head (w, BSON_TYPE_OID, key, key_len, 12)) {
         return false;
      }
      wb_put (w, p, 12);
      return true;
   case ODM_KIND_MIXED:
      return put_mixed (w, p, key, key_len, e);
   case ODM_KIND_OBJECT: {
      size_t old = e && e->track ? odm_path_push (&e->path, key, key_len) : 0, at;
      bool ok;
      if (!wb_head (w, BSON_TYPE_DOCUMENT, key, key_len, 4)) {
         return false;
      }
      at = wb_begin (w);
      if (e) {
         e->depth++;
      }
      ok = encode_object (f->object, p, w, e) && wb_end (w, at);
      if (e) {
         e->depth--;
      }
      if (e && e->track && ok) {
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
encode_object (const odm_object_desc_t *d, const void *base, wbuf_t *w, encode_ctx_t *e)
{
   uint32_t i;
   bson_t *extra = *(bson_t *const *) ODM_AT_CONST (base, d->extra);

   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t state;

      if ((f->flags & ODM_F_ARRAY) && odm_array_dangling (base, f)) {
         /* odm_array_get reads it as empty: written, it would lose the items it claims */
         return e ? encode_fail (e, ODM_ERROR_INVALID_ARGUMENT, f->name, f->name_len,
                                 "the array's count is not 0 but its items are NULL")
                  : false;
      }

      /* A nested object that decode or the code marked present is written without first
       * looking for content in it (odm_field_state's walk over its fields). */
      if (f->kind == ODM_KIND_OBJECT && odm_has_get (base, f) == ODM_PRESENT) {
         state = ODM_PRESENT;
      } else {
         state = odm_field_state_fast (f, base);
      }

      if (state == ODM_ABSENT) {
         continue;
      }
      if (state == ODM_NULL) {
         if (!wb_head (w, BSON_TYPE_NULL, f->name, f->name_len, 0)) {
            return false;
         }
         continue;
      }
      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         size_t k, at;
         size_t old = e && e->track ? odm_path_push (&e->path, f->name, f->name_len) : 0;
         bool ok = wb_head (w, BSON_TYPE_ARRAY, f->name, f->name_len, 4);
         if (!ok) {
            return false;
         }
         at = wb_begin (w);
         if (e) {
            e->depth++;
         }
         for (k = 0; ok && k < a.count; k++) {
            char buf[16];
            const char *key;
            size_t kl = odm_index_key ((uint32_t) k, &key, buf, sizeof buf);
            ok = encode_value (f, (const char *) a.items + k * f->elem_size, w, key, kl, e);
         }
         if (e) {
            e->depth--;
         }
         if (!ok || !wb_end (w, at)) {
            return false;
         }
         if (e && e->track) {
            odm_path_pop (&e->path, old);
         }
      } else if (!encode_value (f, ODM_AT_CONST (base, f->offset), w, f->name, f->name_len, e)) {
         return false;
      }
   }
   if (extra) {
      /* its length from its bytes: a bson_new'd struct may lack its type's alignment */
      const uint8_t *data = bson_get_data (extra);
      uint32_t len;
      memcpy (&len, data, 4);
      len = BSON_UINT32_FROM_LE (len);
      if (e && (!check_extra (d, extra, e) ||
                !odm_bson_check_at (data, len, e->path.buf, e->depth - 1, ODM_CHECK_ARRAY_KEYS, e->error))) {
         e->failed = true;
         return false;
      }
      if (len < 5 || !wb_room (w, len - 5)) {
         return false;
      }
      wb_put (w, data + 4, len - 5);
   }
   return true;
}

/* D's struct at DOC into OUT (initialised, empty); E: the checks, or NULL. */
static bool
encode_root (const odm_object_desc_t *d, const void *doc, bson_t *out, encode_ctx_t *e)
{
   wbuf_t w;
   size_t at;
   bool ok;
   wb_init (&w);
   at = wb_begin (&w);
   ok = encode_object (d, doc, &w, e) && wb_end (&w, at) && wb_finish (&w, out);
   wb_free (&w);
   return ok;
}

bool
odm_encode_desc (const odm_object_desc_t *d, const void *doc, bson_t *out)
{
   bson_reinit (out);
   return encode_root (d, doc, out, NULL);
}

/* One pass of odm_to_bson over DOC into OUT (left empty when it fails), keeping the path
 * of what is being written when TRACK. */
static bool
encode_pass (const odm_schema_t *schema, const void *doc, bson_t *out, encode_ctx_t *e, bool track,
             bson_error_t *error)
{
   odm_path_init (&e->path);
   e->track = track;
   e->error = error;
   e->failed = false;
   e->depth = 1;
   if (encode_root (schema->root, doc, out, e)) {
      return true;
   }
   bson_reinit (out);
   return false;
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
   /* The first pass keeps no path (a valid document needs none); a document that fails is
    * written again keeping it, and fails at the same place, which its error names. */
   if (encode_pass (schema, doc, out, &e, false, &local) ||
       encode_pass (schema, doc, out, &e, true, error ? error : &local)) {
      return true;
   }
   if (!e.failed) {
      odm_set_error (error, ODM_ERROR_ENCODE, e.path.len ? e.path.buf : schema->collection,
                     "document exceeds the maximum BSON size");
   }
   return false;
}
