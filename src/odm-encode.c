/* libodm: encode, struct -> bytes. Writes exactly what decode reads back: each value is
 * checked as it is written, with decode's checks (UTF-8 of strings, dates in range, the
 * byte check over mixed values and unknown fields, nesting). The bytes are written
 * straight into a scratch buffer (on the stack up to 2 KB, then on the heap) and copied
 * once into the output, whose buffer is allocated at its final size; a document that
 * outgrows 64 KB of scratch is sized and finished in the output's own buffer instead
 * (wb_spill). */
#include "odm-private.h"
#include "odm-scan.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ the writer */

#define WB_STACK 2048
/* The most the scratch buffer grows to (the stack, then the heap) before a document moves
 * into its output, sized (wb_spill). */
#define WB_SCRATCH_MAX (64 * 1024)

typedef struct {
   uint8_t *data;
   size_t len, cap;
   size_t limit; /* past this size, wb_spill moves the document into OUT */
   bool heap;
   bool in_out;  /* DATA is OUT's buffer, reserved at the size of the document */
   bool too_big; /* past BSON's maximum size */
   bson_t *out;  /* the output (initialised, empty), or NULL: grow without limit */
   const odm_object_desc_t *root; /* what is being written, for wb_spill to size */
   const void *doc;
   uint8_t stack[WB_STACK];
} wbuf_t;

static bool wb_spill (wbuf_t *w, size_t n);

/* Room for N more bytes beyond what W has (out of line: the caller's room check is inline);
 * false when the document would pass INT32_MAX bytes. */
static bool
wb_grow (wbuf_t *w, size_t n)
{
   size_t cap;
   if (n > (size_t) INT32_MAX - w->len) {
      w->too_big = true;
      return false;
   }
   if (w->len + n > w->limit && wb_spill (w, n)) {
      return true;
   }
   for (cap = w->cap * 2; cap < w->len + n; cap *= 2) {
   }
   if (w->heap) {
      w->data = bson_realloc (w->data, cap);
   } else {
      uint8_t *grown = bson_malloc (cap);
      memcpy (grown, w->data, w->len);
      w->data = grown;
      w->heap = true;
   }
   w->cap = cap;
   return true;
}

/* Room for N more bytes; false when the document would pass INT32_MAX bytes. */
static inline bool
wb_room (wbuf_t *w, size_t n)
{
   return w->cap - w->len >= n || wb_grow (w, n);
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

/* wb_head for a key that is readable for 16 bytes and NUL from KEY_LEN on (a padded generated
 * name, ODM_NAME_PAD, or an array index key): type byte, key and NUL in two stores, where a
 * memcpy of KEY_LEN bytes costs a call. Exact room (the end of a document written in place)
 * takes wb_head. */
static inline bool
wb_head16 (wbuf_t *w, uint8_t type, const char *key, size_t key_len, size_t value_size)
{
   if (key_len < 16 && w->cap - w->len >= 1 + 16 + value_size) {
      w->data[w->len] = type;
      memcpy (w->data + w->len + 1, key, 16);
      w->len += 2 + key_len;
      return true;
   }
   return wb_head (w, type, key, key_len, value_size);
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

/* W writes into its stack buffer, then into a heap buffer up to WB_SCRATCH_MAX bytes; a
 * bigger document moves into OUT (when non-NULL), sized from D's struct at DOC. */
static void
wb_init (wbuf_t *w, bson_t *out, const odm_object_desc_t *d, const void *doc)
{
   w->data = w->stack;
   w->len = 0;
   w->cap = WB_STACK;
   w->limit = out ? WB_SCRATCH_MAX : SIZE_MAX;
   w->heap = false;
   w->in_out = false;
   w->too_big = false;
   w->out = out;
   w->root = d;
   w->doc = doc;
}

static void
wb_free (wbuf_t *w)
{
   if (w->heap) {
      bson_free (w->data);
   }
}

/* OUT (initialised, empty) becomes the document in W. */
static bool
wb_finish (wbuf_t *w, bson_t *out)
{
   uint8_t *dst;
   if (w->in_out && w->len == w->cap) {
      return true; /* written in place, at the size it was given */
   }
   if (w->in_out) { /* shorter than sized (never expected): copied out and back */
      uint8_t *copy = bson_malloc (w->len);
      bool ok;
      memcpy (copy, w->data, w->len);
      bson_reinit (out);
      ok = (dst = bson_reserve_buffer (out, (uint32_t) w->len)) != NULL;
      if (ok) {
         memcpy (dst, copy, w->len);
      }
      bson_free (copy);
      return ok;
   }
   if (!(dst = bson_reserve_buffer (out, (uint32_t) w->len))) {
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

/* Whether number V is written as an int32 (else as a double), as Mongoose's driver does. */
static inline bool
number_as_int32 (double v)
{
   return v >= -2147483648.0 && v <= 2147483647.0 && v == (double) (int32_t) v && !(v == 0.0 && signbit (v));
}

/* The head of an element: wb_head16 when the key is readable for 16 bytes (K16). */
#define WB_HEAD(w, type, key, key_len, k16, value_size)                        \
   ((k16) ? wb_head16 ((w), (type), (key), (key_len), (value_size)) \
          : wb_head ((w), (type), (key), (key_len), (value_size)))

static inline bool
put_number (wbuf_t *w, const char *key, size_t key_len, bool k16, double v)
{
   if (number_as_int32 (v)) {
      if (!WB_HEAD (w, BSON_TYPE_INT32, key, key_len, k16, 4)) {
         return false;
      }
      wb_u32 (w, (uint32_t) (int32_t) v);
   } else {
      uint64_t bits;
      if (!WB_HEAD (w, BSON_TYPE_DOUBLE, key, key_len, k16, 8)) {
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

/* One value of field F at P under KEY (K16: readable for 16 bytes, see wb_head16). Inline in
 * encode_object, its one caller: a call per value cost as much as writing most values. */
static ODM_ALWAYS_INLINE bool
encode_value (const odm_field_t *f, const void *p, wbuf_t *w, const char *key, size_t key_len, bool k16,
              encode_ctx_t *e)
{
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = *(char *const *) p;
      uint8_t *at;
      size_t n;
      bool ascii;
      if (!s) { /* an element (a NULL field is absent): decode would refuse it as null */
         return e ? encode_fail (e, ODM_ERROR_TYPE, key, key_len, "expected string, got NULL") : false;
      }
      n = strlen (s);
      if (n >= (size_t) INT32_MAX || !WB_HEAD (w, BSON_TYPE_UTF8, key, key_len, k16, 4 + n + 1)) {
         w->too_big = true;
         return false;
      }
      wb_u32 (w, (uint32_t) n + 1);
      at = w->data + w->len;
      ascii = odm_scan_copy_ascii (at, (const uint8_t *) s, n);
      w->len += n + 1;
      /* the rest of the check in the copy, whose bytes are in cache and may be read up to the
       * buffer's capacity (odm_scan_text reads whole blocks); a refusal discards the buffer */
      if (!ascii && e && !odm_scan_text (at, (uint32_t) n, (uint32_t) (w->cap - (size_t) (at - w->data)))) {
         return encode_fail (e, ODM_ERROR_CORRUPT_BSON, key, key_len, "string is not valid UTF-8");
      }
      return true;
   }
   case ODM_KIND_NUMBER:
      return put_number (w, key, key_len, k16, *(const double *) p);
   case ODM_KIND_BOOL:
      if (!WB_HEAD (w, BSON_TYPE_BOOL, key, key_len, k16, 1)) {
         return false;
      }
      w->data[w->len++] = *(const bool *) p ? 1 : 0;
      return true;
   case ODM_KIND_DATE: {
      uint64_t v;
      if (e && !odm_date_in_range (*(const int64_t *) p)) {
         return encode_fail (e, ODM_ERROR_RANGE, key, key_len, ODM_DATE_RANGE_MSG);
      }
      if (!WB_HEAD (w, BSON_TYPE_DATE_TIME, key, key_len, k16, 8)) {
         return false;
      }
      v = BSON_UINT64_TO_LE ((uint64_t) * (const int64_t *) p);
      wb_put (w, &v, 8);
      return true;
   }
   case ODM_KIND_OID:
      if (!WB_HEAD (w, BSON_TYPE_OID, key, key_len, k16, 12)) {
         return false;
      }
      wb_put (w, p, 12);
      return true;
   case ODM_KIND_MIXED:
      return put_mixed (w, p, key, key_len, e);
   case ODM_KIND_OBJECT: {
      size_t old = e && e->track ? odm_path_push (&e->path, key, key_len) : 0, at;
      bool ok;
      if (!WB_HEAD (w, BSON_TYPE_DOCUMENT, key, key_len, k16, 4)) {
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
   const bool padded = (d->flags & ODM_O_PADDED_NAMES) != 0;

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
         if (!WB_HEAD (w, BSON_TYPE_NULL, f->name, f->name_len, padded, 0)) {
            return false;
         }
         continue;
      }
      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         size_t k, at;
         size_t old = e && e->track ? odm_path_push (&e->path, f->name, f->name_len) : 0;
         bool ok = WB_HEAD (w, BSON_TYPE_ARRAY, f->name, f->name_len, padded, 4);
         /* the index key, counted up in decimal digits: "0", "1", ... "10"; it only grows, so
          * the bytes after its NUL stay NUL and it is readable for 16 bytes */
         char key[16] = "0";
         size_t kl = 1;
         if (!ok) {
            return false;
         }
         at = wb_begin (w);
         if (e) {
            e->depth++;
         }
         for (k = 0; ok && k < a.count; k++) {
            size_t j = kl;
            ok = encode_value (f, (const char *) a.items + k * f->elem_size, w, key, kl, true, e);
            while (j > 0 && key[j - 1] == '9') {
               key[--j] = '0';
            }
            if (j > 0) {
               key[j - 1]++;
            } else { /* 9, 99, ...: one more digit (at most 10 for a uint32_t count) */
               key[0] = '1';
               key[kl++] = '0';
            }
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
      } else if (!encode_value (f, ODM_AT_CONST (base, f->offset), w, f->name, f->name_len, padded, e)) {
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

/* ------------------------------------------------------------------ sizing */

/* What encode_object writes for D's struct at BASE, in bytes, added to *N: the same walk
 * without the checks or the bytes. False for what the writing fails on (a NULL string, a
 * dangling array, a mixed value libbson refuses); the writing then says why. */
static bool size_object (const odm_object_desc_t *d, const void *base, size_t *n);

static bool
size_value (const odm_field_t *f, const void *p, const char *key, size_t key_len, size_t *n)
{
   *n += 2 + key_len; /* type byte, key, its NUL */
   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = *(char *const *) p;
      if (!s) {
         return false;
      }
      *n += 4 + strlen (s) + 1;
      return true;
   }
   case ODM_KIND_NUMBER:
      *n += number_as_int32 (*(const double *) p) ? 4 : 8;
      return true;
   case ODM_KIND_BOOL:
      *n += 1;
      return true;
   case ODM_KIND_DATE:
      *n += 8;
      return true;
   case ODM_KIND_OID:
      *n += 12;
      return true;
   case ODM_KIND_MIXED: {
      /* rare and varied: libbson's own writer says how long, as put_mixed writes it */
      const bson_value_t *v = p;
      bson_t tmp;
      bool ok;
      if (!mixed_pointers_set (v) || key_len > INT32_MAX) {
         return false;
      }
      bson_init (&tmp);
      ok = bson_append_value (&tmp, key, (int) key_len, v);
      *n += ok ? tmp.len - 5 - (2 + key_len) : 0;
      bson_destroy (&tmp);
      return ok;
   }
   case ODM_KIND_OBJECT:
      *n += 4 + 1;
      return size_object (f->object, p, n);
   default:
      return false;
   }
}

static bool
size_object (const odm_object_desc_t *d, const void *base, size_t *n)
{
   uint32_t i;
   const bson_t *extra = *(bson_t *const *) ODM_AT_CONST (base, d->extra);
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t state;
      if ((f->flags & ODM_F_ARRAY) && odm_array_dangling (base, f)) {
         return false;
      }
      state = f->kind == ODM_KIND_OBJECT && odm_has_get (base, f) == ODM_PRESENT ? ODM_PRESENT
                                                                                 : odm_field_state_fast (f, base);
      if (state == ODM_ABSENT) {
         continue;
      }
      if (state == ODM_NULL) {
         *n += 2 + f->name_len;
      } else if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = odm_array_get (base, f);
         size_t k, digits = 1, next_power = 10;
         *n += 2 + f->name_len + 4 + 1;
         for (k = 0; k < a.count; k++) {
            char buf[16];
            const char *key = buf;
            if (k == next_power) { /* the index keys' length, without writing them */
               digits++;
               next_power *= 10;
            }
            if (f->kind == ODM_KIND_MIXED) { /* the one kind whose size needs the key itself */
               odm_index_key ((uint32_t) k, &key, buf, sizeof buf);
            }
            if (!size_value (f, (const char *) a.items + k * f->elem_size, key, digits, n)) {
               return false;
            }
         }
      } else if (!size_value (f, ODM_AT_CONST (base, f->offset), f->name, f->name_len, n)) {
         return false;
      }
      if (*n > (size_t) INT32_MAX) {
         return false;
      }
   }
   if (extra) {
      uint32_t len;
      memcpy (&len, bson_get_data (extra), 4);
      len = BSON_UINT32_FROM_LE (len);
      if (len < 5) {
         return false;
      }
      *n += len - 5;
   }
   return true;
}

/* W has outgrown its scratch limit (N more bytes are wanted): what it holds moves into
 * OUT's buffer, reserved at the size of the whole document (size_object), and the writing
 * goes on there; true then. Growing the scratch buffer to the document's size instead
 * (then copying and freeing it) made the allocator hand its memory back to the system and
 * fault it in again at every large write, which cost more than the writing (a 1 MB
 * document: 0.6 ms of page faults against 0.4 ms of work). When the size cannot be told
 * (what the writing fails on), or proves too small (never expected), the scratch buffer
 * grows without limit instead: false, for wb_grow to grow it. */
static bool
wb_spill (wbuf_t *w, size_t n)
{
   size_t size = 4 + 1;
   uint8_t *dst;
   if (!w->in_out && w->out && size_object (w->root, w->doc, &size) && size <= (size_t) INT32_MAX &&
       size >= w->len + n && (dst = bson_reserve_buffer (w->out, (uint32_t) size))) {
      memcpy (dst, w->data, w->len);
      wb_free (w);
      w->data = dst;
      w->cap = w->limit = size;
      w->heap = false;
      w->in_out = true;
      return true;
   }
   if (w->in_out) {
      uint8_t *copy = bson_malloc (w->len);
      memcpy (copy, w->data, w->len);
      bson_reinit (w->out);
      w->data = copy;
      w->cap = w->len; /* at least a document's length word: wb_grow doubles it */
      w->heap = true;
      w->in_out = false;
   }
   w->limit = SIZE_MAX;
   w->out = NULL;
   return false;
}

/* D's struct at DOC into OUT (initialised, empty); E: the checks, or NULL. Most documents
 * fit the scratch buffer and are copied into OUT once; a bigger one is written into OUT
 * itself (wb_spill). */
static bool
encode_root (const odm_object_desc_t *d, const void *doc, bson_t *out, encode_ctx_t *e)
{
   wbuf_t w;
   size_t at;
   bool ok;
   wb_init (&w, out, d, doc);
   at = wb_begin (&w);
   ok = encode_object (d, doc, &w, e) && wb_end (&w, at) && wb_finish (&w, out);
   if (!ok && w.in_out) {
      bson_reinit (out);
   }
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

/* odm_to_bson and odm_to_bson_into: OUT initialised here, or (REUSE) reinitialised. */
static bool
to_bson (const odm_schema_t *schema, const void *doc, bson_t *out, bool reuse, bson_error_t *error)
{
   encode_ctx_t e;
   bson_error_t local;

   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   if (!reuse) {
      bson_init (out);
   } else if (!bson_reserve_buffer (out, 5)) {
      /* libbson refuses a read-only (static) or child bson_t there without touching it;
       * bson_reinit would write into its bytes */
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out cannot grow (a static or child bson_t)");
      return false;
   } else {
      bson_reinit (out);
   }
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

bool
odm_to_bson (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error)
{
   return to_bson (schema, doc, out, false, error);
}

bool
odm_to_bson_into (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error)
{
   return to_bson (schema, doc, out, true, error);
}
