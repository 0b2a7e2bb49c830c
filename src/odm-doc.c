/* libodm: the generic codec. One walker over the generated descriptor tables does
 * init, cleanup, encode, decode and the per-field rules for every collection. */
#include "odm-private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

/* ------------------------------------------------------------------------ paths */

void
odm_path_init (odm_path_t *p)
{
   p->buf[0] = '\0';
   p->len = 0;
}

size_t
odm_path_push (odm_path_t *p, const char *name, size_t name_len)
{
   size_t old = p->len;
   size_t sep = old ? 1u : 0u;

   if (old + sep >= sizeof p->buf - 1) {
      return old;
   }
   if (name_len > sizeof p->buf - 1 - old - sep) {
      /* truncated (known paths never are), never inside a UTF-8 character */
      name_len = odm_utf8_cut (name, name_len, sizeof p->buf - 1 - old - sep);
   }
   if (old) {
      p->buf[p->len++] = '.';
   }
   memcpy (p->buf + p->len, name, name_len);
   p->len += name_len;
   p->buf[p->len] = '\0';
   return old;
}

size_t
odm_path_push_index (odm_path_t *p, size_t index)
{
   char tmp[16];
   const char *key;
   size_t n = bson_uint32_to_string ((uint32_t) index, &key, tmp, sizeof tmp);
   return odm_path_push (p, key, n);
}

void
odm_path_pop (odm_path_t *p, size_t old_len)
{
   p->len = old_len;
   p->buf[old_len] = '\0';
}

size_t
odm_utf8_cut (const char *s, size_t len, size_t max)
{
   size_t n;
   if (len <= max) {
      return len;
   }
   n = max;
   /* Back over continuation bytes to the first byte of the character that would be cut. */
   while (n > 0 && ((unsigned char) s[n] & 0xC0) == 0x80) {
      n--;
   }
   return n;
}

void
odm_copy_utf8 (char *dst, size_t cap, const char *src)
{
   size_t n;
   if (!cap) {
      return;
   }
   n = odm_utf8_cut (src, strlen (src), cap - 1);
   memmove (dst, src, n);
   dst[n] = '\0';
}

void
odm_set_error (bson_error_t *error, uint32_t code, const char *path, const char *fmt, ...)
{
   char msg[sizeof error->message];
   char *full;
   va_list ap;

   if (!error) {
      return;
   }
   va_start (ap, fmt);
   full = bson_strdupv_printf (fmt, ap);
   va_end (ap);
   odm_copy_utf8 (msg, sizeof msg, full);
   bson_free (full);
   error->domain = ODM_ERROR_DOMAIN;
   error->code = code;
   if (path && *path) {
      /* A path too long for the message keeps room for the message: the path is cut
       * (at a character boundary), so "path: message" still reads as one. */
      size_t room = sizeof error->message - 1 - 2, mlen = strlen (msg), plen = strlen (path);
      size_t keep = mlen < room / 2 ? room - mlen : room / 2;
      int pl = (int) odm_utf8_cut (path, plen, keep);
      full = bson_strdup_printf ("%.*s: %s", pl, path, msg);
      odm_copy_utf8 (error->message, sizeof error->message, full);
      bson_free (full);
   } else {
      odm_copy_utf8 (error->message, sizeof error->message, msg);
   }
}

void
odm_format_number (double v, char *buf, size_t size)
{
   int prec;
   for (prec = 6; prec <= 17; prec++) {
      snprintf (buf, size, "%.*g", prec, v);
      if (strtod (buf, NULL) == v) {
         return;
      }
   }
}

int64_t
odm_now_ms (void)
{
   struct timeval tv;
   gettimeofday (&tv, NULL);
   return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL.
 * (bson_validate's UTF-8 check lets some malformed sequences through.) */
bool
odm_utf8_valid (const char *str, size_t len)
{
   const unsigned char *s = (const unsigned char *) str, *end = s + len;
   while (s < end) {
      unsigned char c = *s;
      if (c < 0x80) {
         if (c == 0) {
            return false;
         }
         s++;
      } else if (c >= 0xC2 && c <= 0xDF) {
         if (end - s < 2 || (s[1] & 0xC0) != 0x80) {
            return false;
         }
         s += 2;
      } else if (c >= 0xE0 && c <= 0xEF) {
         if (end - s < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (c == 0xE0 && s[1] < 0xA0) ||
             (c == 0xED && s[1] >= 0xA0)) {
            return false;
         }
         s += 3;
      } else if (c >= 0xF0 && c <= 0xF4) {
         if (end - s < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80 ||
             (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)) {
            return false;
         }
         s += 4;
      } else {
         return false;
      }
   }
   return true;
}

/* ------------------------------------------------------------------- accessors */

typedef struct {
   void *items;
   size_t count;
} odm_array_view_t;

/* Arrays are generated as struct { T *items; size_t count; }; read them by bytes so no
 * aliasing rule is bent. */
static odm_array_view_t
array_get (const void *base, const odm_field_t *f)
{
   odm_array_view_t a;
   memcpy (&a.items, ODM_AT_CONST (base, f->offset), sizeof a.items);
   memcpy (&a.count, ODM_AT_CONST (base, f->offset + sizeof (void *)), sizeof a.count);
   return a;
}

static void
array_set (void *base, const odm_field_t *f, void *items, size_t count)
{
   memcpy (ODM_AT (base, f->offset), &items, sizeof items);
   memcpy (ODM_AT (base, f->offset + sizeof (void *)), &count, sizeof count);
}

static uint8_t
has_get (const void *base, const odm_field_t *f)
{
   return *(const uint8_t *) ODM_AT_CONST (base, f->presence);
}

static void
has_set (void *base, const odm_field_t *f, uint8_t v)
{
   *(uint8_t *) ODM_AT (base, f->presence) = v;
}

static bool object_has_content (const odm_object_desc_t *d, const void *base);

void *
odm_array_items (const void *base, const odm_field_t *f, size_t *count)
{
   odm_array_view_t a = array_get (base, f);
   *count = a.count;
   return a.items;
}

/* ODM_ABSENT, ODM_PRESENT or ODM_NULL, as the encoder will write the field. */
uint8_t
odm_field_state (const odm_field_t *f, const void *base)
{
   uint8_t has = has_get (base, f);

   if (f->flags & ODM_F_ARRAY) {
      if (array_get (base, f).count > 0) {
         return ODM_PRESENT;
      }
      return has;
   }
   switch (f->kind) {
   case ODM_KIND_STRING:
      if (*(char *const *) ODM_AT_CONST (base, f->offset)) {
         return ODM_PRESENT;
      }
      return has == ODM_NULL ? ODM_NULL : ODM_ABSENT;
   case ODM_KIND_OBJECT:
      if (object_has_content (f->object, ODM_AT_CONST (base, f->offset))) {
         return ODM_PRESENT;
      }
      return has;
   case ODM_KIND_MIXED:
      if (has == ODM_PRESENT &&
          ((const bson_value_t *) ODM_AT_CONST (base, f->offset))->value_type == 0) {
         return ODM_ABSENT;
      }
      return has;
   default:
      return has;
   }
}

static bool
object_has_content (const odm_object_desc_t *d, const void *base)
{
   uint32_t i;
   if (*(bson_t *const *) ODM_AT_CONST (base, d->extra)) {
      return true;
   }
   for (i = 0; i < d->field_count; i++) {
      if (odm_field_state (&d->fields[i], base) != ODM_ABSENT) {
         return true;
      }
   }
   return false;
}

const void *
odm_field_value (const odm_field_t *f, const void *obj)
{
   return ODM_AT_CONST (obj, f->offset);
}

const void *
odm_field_array (const odm_field_t *f, const void *obj, size_t *count)
{
   odm_array_view_t a = array_get (obj, f);
   *count = a.count;
   return a.items;
}

/* -------------------------------------------------------------------- cleanup */

static void cleanup_object (const odm_object_desc_t *d, void *base);

static void
cleanup_value (const odm_field_t *f, void *p)
{
   switch (f->kind) {
   case ODM_KIND_STRING:
      bson_free (*(char **) p);
      *(char **) p = NULL;
      break;
   case ODM_KIND_OBJECT:
      cleanup_object (f->object, p);
      break;
   case ODM_KIND_MIXED:
      if (((bson_value_t *) p)->value_type != 0) {
         bson_value_destroy ((bson_value_t *) p);
      }
      memset (p, 0, sizeof (bson_value_t));
      break;
   default:
      break;
   }
}

static void
cleanup_object (const odm_object_desc_t *d, void *base)
{
   uint32_t i;
   bson_t **extra = (bson_t **) ODM_AT (base, d->extra);

   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = array_get (base, f);
         size_t k;
         for (k = 0; k < a.count; k++) {
            cleanup_value (f, (char *) a.items + k * f->elem_size);
         }
         bson_free (a.items);
         array_set (base, f, NULL, 0);
      } else {
         cleanup_value (f, ODM_AT (base, f->offset));
      }
   }
   if (*extra) {
      bson_destroy (*extra);
      *extra = NULL;
   }
}

void
odm_cleanup (const odm_schema_t *schema, void *doc)
{
   if (!schema || !doc) {
      return;
   }
   cleanup_object (schema->root, doc);
   memset (doc, 0, schema->root->size);
}

/* ------------------------------------------------------------------- defaults */

/* Fills absent paths with their defaults; walks into nested objects and array elements.
 * IDS: also generate missing _id values (prepare, not init). */
void
odm_fill_defaults (const odm_object_desc_t *d, void *base, int64_t now, bool ids)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      uint8_t has = has_get (base, f);
      void *p = ODM_AT (base, f->offset);

      if (f->flags & ODM_F_ARRAY) {
         odm_array_view_t a = array_get (base, f);
         if (has == ODM_ABSENT) {
            has_set (base, f, ODM_PRESENT);
         }
         if (f->kind == ODM_KIND_OBJECT) {
            size_t k;
            for (k = 0; k < a.count; k++) {
               odm_fill_defaults (f->object, (char *) a.items + k * f->elem_size, now, ids);
            }
         }
         continue;
      }
      if (f->kind == ODM_KIND_OBJECT) {
         if (has != ODM_NULL) {
            odm_fill_defaults (f->object, p, now, ids);
         }
         continue;
      }
      if (has != ODM_ABSENT || (f->kind == ODM_KIND_STRING && *(char **) p)) {
         continue;
      }
      if (ids && (f->flags & ODM_F_AUTO_ID)) {
         bson_oid_init ((bson_oid_t *) p, NULL);
         has_set (base, f, ODM_PRESENT);
      } else if (f->flags & ODM_F_DEFAULT_NOW) {
         *(int64_t *) p = now;
         has_set (base, f, ODM_PRESENT);
      } else if (f->flags & ODM_F_DEFAULT) {
         switch (f->kind) {
         case ODM_KIND_STRING:
            *(char **) p = bson_strdup (f->dflt_string);
            break;
         case ODM_KIND_NUMBER:
            *(double *) p = f->dflt_number;
            break;
         case ODM_KIND_BOOL:
            *(bool *) p = f->dflt_bool;
            break;
         default:
            break;
         }
         has_set (base, f, ODM_PRESENT);
      }
   }
}

void
odm_init_at (const odm_schema_t *schema, void *doc, int64_t now_ms)
{
   BSON_ASSERT (schema && schema->magic == ODM_SCHEMA_MAGIC);
   memset (doc, 0, schema->root->size);
   odm_fill_defaults (schema->root, doc, now_ms, false);
}

void
odm_init (const odm_schema_t *schema, void *doc)
{
   odm_init_at (schema, doc, odm_now_ms ());
}

/* ------------------------------------------------------------------ key sets */

static const odm_field_t *find_field (const odm_object_desc_t *d, uint32_t *next, const char *key, uint32_t key_len);


/* The keys seen at one level, by exact bytes (no dotted lookup), in a hash table: checking
 * N keys costs O(N), whatever N is. Keys point into the input, which outlives the set. */
typedef struct {
   const char *key;
   uint32_t len;
} keyset_slot_t;

typedef struct {
   keyset_slot_t *slots;
   size_t cap, count;
} keyset_t;

static uint64_t
key_hash (const char *k, uint32_t len)
{
   uint64_t h = UINT64_C (1469598103934665603); /* FNV-1a */
   uint32_t i;
   for (i = 0; i < len; i++) {
      h = (h ^ (unsigned char) k[i]) * UINT64_C (1099511628211);
   }
   return h;
}

/* Adds KEY; false when it was already there. */
static bool
keyset_add (keyset_t *s, const char *key, uint32_t len)
{
   size_t i;
   if ((s->count + 1) * 2 > s->cap) {
      keyset_t grown;
      grown.cap = s->cap ? s->cap * 2 : 16;
      grown.count = 0;
      grown.slots = bson_malloc0 (grown.cap * sizeof *grown.slots);
      for (i = 0; i < s->cap; i++) {
         if (s->slots[i].key) {
            keyset_add (&grown, s->slots[i].key, s->slots[i].len);
         }
      }
      bson_free (s->slots);
      *s = grown;
   }
   for (i = (size_t) key_hash (key, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
      keyset_slot_t *sl = &s->slots[i];
      if (!sl->key) {
         sl->key = key;
         sl->len = len;
         s->count++;
         return true;
      }
      if (sl->len == len && memcmp (sl->key, key, len) == 0) {
         return false;
      }
   }
}

static void
keyset_free (keyset_t *s)
{
   bson_free (s->slots);
   s->slots = NULL;
   s->cap = s->count = 0;
}

/* The writer refuses these keys (odm_check_keys, rule "key": empty, '$' first, a '.'); at a
 * level that has a schema a dotted key would also read as a schema path
 * ("settings.temperature"). */
static bool
key_is_refused (const char *key, uint32_t len)
{
   return len == 0 || key[0] == '$' || memchr (key, '.', len) != NULL;
}

static bool
key_error (bson_error_t *error, const char *path, const odm_object_desc_t *d, const char *key, uint32_t len)
{
   const char *dot = memchr (key, '.', len);
   if (dot && dot > key && find_field (d, &(uint32_t){0}, key, (uint32_t) (dot - key))) {
      odm_set_error (error, ODM_ERROR_KEY, path,
                     "a key may not contain '.' (this one names the schema path %s: nest it instead)", path);
   } else {
      odm_set_error (error, ODM_ERROR_KEY, path, "keys may not be empty, start with '$' or contain '.'");
   }
   return false;
}

/* --------------------------------------------------------------------- encode */

/* What the encoder checks as it goes (NULL for analytics rows, which are never written):
 * the unknown fields kept beside the struct's own. The bytes themselves are checked by
 * odm_bson_check on the result. */
typedef struct {
   odm_path_t path;
   bson_error_t *error;
   bool failed;
} encode_ctx_t;

static bool encode_object (const odm_object_desc_t *d, const void *base, bson_t *out, encode_ctx_t *e);
static bool regex_options_ok (const char *o);

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
   case ODM_KIND_STRING:
      return bson_append_utf8 (out, key, key_len, *(char *const *) p, -1);
   case ODM_KIND_NUMBER:
      return append_number (out, key, key_len, *(const double *) p);
   case ODM_KIND_BOOL:
      return bson_append_bool (out, key, key_len, *(const bool *) p);
   case ODM_KIND_DATE:
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
                 (v->value_type == BSON_TYPE_REGEX && !regex_options_ok (v->value.v_regex.options));
      if (!cut && bson_append_value (out, key, key_len, v)) {
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
      ok = ok && encode_object (f->object, p, &child, e);
      ok = bson_append_document_end (out, &child) && ok;
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
   keyset_t seen = {NULL, 0, 0};
   bool ok = true;

   if (!bson_iter_init (&it, extra)) {
      odm_set_error (e->error, ODM_ERROR_CORRUPT_BSON, e->path.buf, "unknown fields are not valid BSON");
      return false;
   }
   while (ok && bson_iter_next (&it)) {
      const char *key = bson_iter_key (&it);
      uint32_t len = bson_iter_key_len (&it);
      size_t old = odm_path_push (&e->path, key, len);
      if (key_is_refused (key, len)) {
         ok = key_error (e->error, e->path.buf, d, key, len);
      } else if (find_field (d, &(uint32_t){0}, key, len)) {
         odm_set_error (e->error, ODM_ERROR_DUPLICATE_FIELD, e->path.buf,
                        "is a field of the schema: set it in the struct, not among the unknown fields");
         ok = false;
      } else if (!keyset_add (&seen, key, len)) {
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
         odm_array_view_t a = array_get (base, f);
         bson_t child;
         size_t k;
         size_t old = e ? odm_path_push (&e->path, f->name, f->name_len) : 0;
         bool ok = bson_append_array_begin (out, f->name, (int) f->name_len, &child);
         for (k = 0; ok && k < a.count; k++) {
            char buf[16];
            const char *key;
            size_t kl = bson_uint32_to_string ((uint32_t) k, &key, buf, sizeof buf);
            ok = encode_value (f, (const char *) a.items + k * f->elem_size, &child, key, (int) kl, e);
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
   if (extra && e && !check_extra (d, extra, e)) {
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
   if (!encode_object (schema->root, doc, out, &e)) {
      bson_reinit (out);
      if (!e.failed) {
         odm_set_error (error, ODM_ERROR_ENCODE, e.path.len ? e.path.buf : schema->collection,
                        "document exceeds the maximum BSON size");
      }
      return false;
   }
   /* The encoder refuses exactly what the decoder refuses: the same walk over the bytes
    * (nesting, UTF-8 of every string and key, dates in JavaScript's range). */
   if (!odm_bson_check (out, error)) {
      bson_reinit (out);
      return false;
   }
   return true;
}

/* --------------------------------------------------------------------- decode */

static const char *
bson_type_name (bson_type_t t)
{
   switch (t) {
   case BSON_TYPE_DOUBLE: return "double";
   case BSON_TYPE_UTF8: return "string";
   case BSON_TYPE_DOCUMENT: return "object";
   case BSON_TYPE_ARRAY: return "array";
   case BSON_TYPE_BINARY: return "binData";
   case BSON_TYPE_UNDEFINED: return "undefined";
   case BSON_TYPE_OID: return "objectId";
   case BSON_TYPE_BOOL: return "bool";
   case BSON_TYPE_DATE_TIME: return "date";
   case BSON_TYPE_NULL: return "null";
   case BSON_TYPE_REGEX: return "regex";
   case BSON_TYPE_DBPOINTER: return "dbPointer";
   case BSON_TYPE_CODE: return "javascript";
   case BSON_TYPE_SYMBOL: return "symbol";
   case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
   case BSON_TYPE_INT32: return "int";
   case BSON_TYPE_TIMESTAMP: return "timestamp";
   case BSON_TYPE_INT64: return "long";
   case BSON_TYPE_DECIMAL128: return "decimal";
   case BSON_TYPE_MAXKEY: return "maxKey";
   case BSON_TYPE_MINKEY: return "minKey";
   case BSON_TYPE_EOD:
   default: return "unknown type";
   }
}

static const char *
kind_name (uint32_t kind)
{
   switch (kind) {
   case ODM_KIND_STRING: return "string";
   case ODM_KIND_NUMBER: return "number";
   case ODM_KIND_BOOL: return "boolean";
   case ODM_KIND_DATE: return "date";
   case ODM_KIND_OID: return "objectId";
   case ODM_KIND_OBJECT: return "object";
   default: return "value";
   }
}

typedef struct {
   uint32_t flags;
   odm_path_t path;
   bson_error_t *error;
} decode_ctx_t;

/* ------------------------------------------------------------ the byte check */

/* Regex options libbson and MongoDB know, each at most once, in alphabetical order: the
 * only form that re-encodes byte-exact (libbson sorts options when it writes a regex). */
static bool
regex_options_ok (const char *o)
{
   static const char order[] = "ilmsux";
   const char *at = order;
   for (; *o; o++) {
      const char *p = strchr (at, *o);
      if (!p) {
         return false;
      }
      at = p + 1;
   }
   return true;
}

bool
odm_date_in_range (int64_t ms)
{
   return ms >= -ODM_DATE_MAX_MS && ms <= ODM_DATE_MAX_MS;
}

/* One level of the walk: the iterator, whether it is an array (keys "0", "1", ...), the
 * next expected index, and the path length to restore when the level ends. */
typedef struct {
   bson_iter_t it;
   bool array;
   uint32_t index;
   size_t path_len;
} check_level_t;

static bool
check_fail (bson_error_t *error, uint32_t code, odm_path_t *path, const char *msg)
{
   odm_set_error (error, code, path->buf, "%s", msg);
   return false;
}

/* Iterative (no recursion, whatever the input): see odm-private.h. */
bool
odm_bson_check_at (const uint8_t *data, size_t len, const char *base_path, int base_depth, uint32_t flags,
                   bson_error_t *error)
{
   check_level_t lv[ODM_MAX_DEPTH + 1]; /* on the stack: the check allocates nothing */
   odm_path_t path;
   int d = 0;
   bool ok = true;

   odm_path_init (&path);
   if (base_path && *base_path) {
      odm_path_push (&path, base_path, strlen (base_path));
   }
   if (!bson_iter_init_from_data (&lv[0].it, data, len)) {
      return check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "corrupt BSON");
   }
   lv[0].array = (flags & (ODM_CHECK_ARRAY_KEYS | ODM_CHECK_TOP_ARRAY)) == (ODM_CHECK_ARRAY_KEYS | ODM_CHECK_TOP_ARRAY);
   lv[0].index = 0;
   lv[0].path_len = path.len;

   while (ok && d >= 0) {
      check_level_t *l = &lv[d];
      const char *key;
      uint32_t klen;
      bson_type_t t;

      if (!bson_iter_next (&l->it)) {
         if (l->it.err_off) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "corrupt BSON");
            break;
         }
         odm_path_pop (&path, l->path_len);
         if (--d >= 0) {
            odm_path_pop (&path, lv[d].path_len);
         }
         continue;
      }
      key = bson_iter_key (&l->it);
      klen = bson_iter_key_len (&l->it);
      if (!odm_utf8_valid (key, klen)) {
         ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "a key is not valid UTF-8");
         break;
      }
      if (l->array) {
         char want[16];
         const char *w;
         size_t wl = bson_uint32_to_string (l->index++, &w, want, sizeof want);
         if (wl != klen || memcmp (w, key, klen) != 0) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "array keys must be 0, 1, 2, ... in order");
            break;
         }
      }
      /* lv[d].path_len: the length before this element's key, restored after it. */
      l->path_len = odm_path_push (&path, key, klen);
      t = bson_iter_type (&l->it);
      switch (t) {
      case BSON_TYPE_UTF8:
      case BSON_TYPE_CODE:
      case BSON_TYPE_SYMBOL: {
         uint32_t n = 0;
         const char *str = t == BSON_TYPE_UTF8   ? bson_iter_utf8 (&l->it, &n)
                           : t == BSON_TYPE_CODE ? bson_iter_code (&l->it, &n)
                                                 : bson_iter_symbol (&l->it, &n);
         if (!str || !odm_utf8_valid (str, n)) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "string is not valid UTF-8");
         }
         break;
      }
      case BSON_TYPE_REGEX: {
         const char *opts = NULL;
         const char *pat = bson_iter_regex (&l->it, &opts);
         if (!pat || !odm_utf8_valid (pat, strlen (pat)) || !opts || !odm_utf8_valid (opts, strlen (opts))) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "regex is not valid UTF-8");
         } else if (!regex_options_ok (opts)) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path,
                             "regex options must be distinct letters of \"ilmsux\" in alphabetical order");
         }
         break;
      }
      case BSON_TYPE_DBPOINTER: {
         uint32_t n = 0;
         const char *coll = NULL;
         const bson_oid_t *oid = NULL;
         bson_iter_dbpointer (&l->it, &n, &coll, &oid);
         if (!coll || !odm_utf8_valid (coll, n)) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "DBPointer namespace is not valid UTF-8");
         }
         break;
      }
      case BSON_TYPE_DATE_TIME:
         if (!odm_date_in_range (bson_iter_date_time (&l->it))) {
            ok = check_fail (error, ODM_ERROR_RANGE, &path,
                             "date is outside JavaScript's range (+/-8.64e15 ms from 1970)");
         }
         break;
      case BSON_TYPE_DOCUMENT:
      case BSON_TYPE_ARRAY:
      case BSON_TYPE_CODEWSCOPE: {
         const uint8_t *sub = NULL;
         uint32_t sublen = 0;
         if (base_depth + d + 2 > ODM_MAX_DEPTH) {
            ok = check_fail (error, ODM_ERROR_RANGE, &path, "nesting is deeper than 100 levels");
            break;
         }
         if (t == BSON_TYPE_CODEWSCOPE) {
            uint32_t n = 0;
            const char *code = bson_iter_codewscope (&l->it, &n, &sublen, &sub);
            if (!code || !odm_utf8_valid (code, n)) {
               ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "code is not valid UTF-8");
               break;
            }
         } else if (t == BSON_TYPE_DOCUMENT) {
            bson_iter_document (&l->it, &sublen, &sub);
         } else {
            bson_iter_array (&l->it, &sublen, &sub);
         }
         if (!sub || !bson_iter_init_from_data (&lv[d + 1].it, sub, sublen)) {
            ok = check_fail (error, ODM_ERROR_CORRUPT_BSON, &path, "corrupt BSON");
            break;
         }
         d++;
         lv[d].array = t == BSON_TYPE_ARRAY && (flags & ODM_CHECK_ARRAY_KEYS);
         lv[d].index = 0;
         lv[d].path_len = path.len;
         continue; /* the path keeps this key until the level ends */
      }
      default:
         break;
      }
      odm_path_pop (&path, l->path_len);
   }
   return ok;
}

bool
odm_bson_check (const bson_t *doc, bson_error_t *error)
{
   return odm_bson_check_at (bson_get_data (doc), doc->len, NULL, 0, ODM_CHECK_ARRAY_KEYS, error);
}

static bool
corrupt (decode_ctx_t *c)
{
   odm_set_error (c->error, ODM_ERROR_CORRUPT_BSON, c->path.buf, "corrupt BSON");
   return false;
}

static bool decode_object (const odm_object_desc_t *d, bson_iter_t *it, void *base, decode_ctx_t *c);

/* A value kept as raw bytes (mixed, unknown field) keeps its arrays' keys as they are, so
 * they must be "0", "1", ... (typed arrays are re-keyed on encode and need not be). */
static bool
raw_array_keys (bson_iter_t *it, decode_ctx_t *c)
{
   const uint8_t *data = NULL;
   uint32_t len = 0, flags = ODM_CHECK_ARRAY_KEYS;
   switch (bson_iter_type (it)) {
   case BSON_TYPE_ARRAY:
      flags |= ODM_CHECK_TOP_ARRAY;
      bson_iter_array (it, &len, &data);
      break;
   case BSON_TYPE_DOCUMENT:
      bson_iter_document (it, &len, &data);
      break;
   case BSON_TYPE_CODEWSCOPE: {
      uint32_t n;
      bson_iter_codewscope (it, &n, &len, &data);
      break;
   }
   default:
      return true;
   }
   return data && odm_bson_check_at (data, len, c->path.buf, 0, flags, c->error);
}

static bool
type_error (decode_ctx_t *c, const char *expected, bson_type_t got)
{
   odm_set_error (c->error, ODM_ERROR_TYPE, c->path.buf, "expected %s, got %s", expected,
                  bson_type_name (got));
   return false;
}

/* Decodes one value of kind f->kind at P. The caller has handled null. */
static bool
decode_value (const odm_field_t *f, bson_iter_t *it, void *p, decode_ctx_t *c)
{
   bson_type_t t = bson_iter_type (it);

   switch (f->kind) {
   case ODM_KIND_STRING: {
      uint32_t len;
      const char *s;
      char *copy;
      if (t != BSON_TYPE_UTF8) {
         return type_error (c, "string", t);
      }
      s = bson_iter_utf8 (it, &len); /* checked by odm_bson_check */
      copy = bson_malloc ((size_t) len + 1);
      memcpy (copy, s, len);
      copy[len] = '\0';
      *(char **) p = copy;
      return true;
   }
   case ODM_KIND_NUMBER:
      if (t == BSON_TYPE_DOUBLE) {
         *(double *) p = bson_iter_double (it);
      } else if (t == BSON_TYPE_INT32) {
         *(double *) p = (double) bson_iter_int32 (it);
      } else if (t == BSON_TYPE_INT64) {
         int64_t v = bson_iter_int64 (it);
         if (v > (INT64_C (1) << 53) || v < -(INT64_C (1) << 53)) {
            odm_set_error (c->error, ODM_ERROR_RANGE, c->path.buf,
                           "long %" PRId64 " cannot be held exactly by a number", v);
            return false;
         }
         *(double *) p = (double) v;
      } else {
         return type_error (c, "number", t);
      }
      return true;
   case ODM_KIND_BOOL:
      if (t != BSON_TYPE_BOOL) {
         return type_error (c, "boolean", t);
      }
      *(bool *) p = bson_iter_bool (it);
      return true;
   case ODM_KIND_DATE:
      if (t != BSON_TYPE_DATE_TIME) {
         return type_error (c, "date", t);
      }
      *(int64_t *) p = bson_iter_date_time (it);
      return true;
   case ODM_KIND_OID:
      if (t != BSON_TYPE_OID) {
         return type_error (c, "objectId", t);
      }
      bson_oid_copy (bson_iter_oid (it), (bson_oid_t *) p);
      return true;
   case ODM_KIND_MIXED:
      /* odm_bson_check_at has walked the whole input; raw values also need array keys. */
      if (!raw_array_keys (it, c)) {
         return false;
      }
      bson_value_copy (bson_iter_value (it), (bson_value_t *) p);
      return true;
   case ODM_KIND_OBJECT: {
      bson_iter_t child;
      const uint8_t *data;
      uint32_t len;
      if (t != BSON_TYPE_DOCUMENT) {
         return type_error (c, "object", t);
      }
      bson_iter_document (it, &len, &data);
      if (len < 5 || data[len - 1] != 0 || !bson_iter_recurse (it, &child)) {
         odm_set_error (c->error, ODM_ERROR_CORRUPT_BSON, c->path.buf, "corrupt subdocument");
         return false;
      }
      return decode_object (f->object, &child, p, c);
   }
   default:
      return type_error (c, kind_name (f->kind), t);
   }
}

static bool
decode_array (const odm_field_t *f, bson_iter_t *it, void *base, decode_ctx_t *c)
{
   bson_iter_t child;
   size_t count = 0, k = 0;
   char *items;

   if (bson_iter_type (it) != BSON_TYPE_ARRAY) {
      return type_error (c, "array", bson_iter_type (it));
   }
   {
      const uint8_t *data;
      uint32_t len;
      bson_iter_array (it, &len, &data);
      if (len < 5 || data[len - 1] != 0 || !bson_iter_recurse (it, &child)) {
         return corrupt (c);
      }
   }
   while (bson_iter_next (&child)) {
      count++;
   }
   if (child.err_off) {
      return corrupt (c);
   }
   items = count ? bson_malloc0 (count * f->elem_size) : NULL;
   /* Attach before decoding elements, so a failure part-way is freed by odm_cleanup. */
   array_set (base, f, items, count);
   bson_iter_recurse (it, &child);
   while (bson_iter_next (&child)) {
      size_t old = odm_path_push_index (&c->path, k);
      if (bson_iter_type (&child) == BSON_TYPE_NULL && f->kind != ODM_KIND_MIXED) {
         return type_error (c, kind_name (f->kind), BSON_TYPE_NULL);
      }
      if (!decode_value (f, &child, items + k * f->elem_size, c)) {
         return false;
      }
      odm_path_pop (&c->path, old);
      k++;
   }
   return true;
}

static const odm_field_t *
find_field (const odm_object_desc_t *d, uint32_t *next, const char *key, uint32_t key_len)
{
   uint32_t i;
   /* Documents usually come in spec order: try the field after the last one first. */
   if (*next < d->field_count) {
      const odm_field_t *f = &d->fields[*next];
      if (f->name_len == key_len && memcmp (f->name, key, key_len) == 0) {
         (*next)++;
         return f;
      }
   }
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      if (f->name_len == key_len && memcmp (f->name, key, key_len) == 0) {
         *next = i + 1;
         return f;
      }
   }
   return NULL;
}

static bool
decode_object (const odm_object_desc_t *d, bson_iter_t *it, void *base, decode_ctx_t *c)
{
   uint32_t next = 0;
   keyset_t unknown = {NULL, 0, 0};
   bool ok = true;

   while (bson_iter_next (it)) {
      uint32_t key_len = bson_iter_key_len (it);
      const char *key = bson_iter_key (it);
      const odm_field_t *f = find_field (d, &next, key, key_len);
      size_t old;

      old = odm_path_push (&c->path, key, key_len);

      if (!f) {
         bson_t **extra = (bson_t **) ODM_AT (base, d->extra);
         /* The version key every libodm write keeps (docs/live.md) belongs to every
          * top-level document, strict or not; it is kept with the unknown fields. */
         bool version = c->path.len == key_len && key_len == sizeof ODM_VERSION_KEY - 1 &&
                        !memcmp (key, ODM_VERSION_KEY, key_len);
         if ((c->flags & ODM_DECODE_STRICT) && !version) {
            odm_set_error (c->error, ODM_ERROR_UNKNOWN_FIELD, c->path.buf,
                           "field is not in the schema of %s", d->c_type);
            ok = false;
            break;
         }
         if (key_is_refused (key, key_len)) {
            ok = key_error (c->error, c->path.buf, d, key, key_len);
            break;
         }
         if (!raw_array_keys (it, c)) {
            ok = false;
            break;
         }
         if (!keyset_add (&unknown, key, key_len)) {
            odm_set_error (c->error, ODM_ERROR_DUPLICATE_FIELD, c->path.buf, "field appears twice");
            ok = false;
            break;
         }
         if (!*extra) {
            *extra = bson_new ();
         }
         if (!bson_append_iter (*extra, key, (int) key_len, it)) {
            ok = corrupt (c);
            break;
         }
         odm_path_pop (&c->path, old);
         continue;
      }
      if (has_get (base, f) != ODM_ABSENT) {
         odm_set_error (c->error, ODM_ERROR_DUPLICATE_FIELD, c->path.buf, "field appears twice");
         ok = false;
         break;
      }
      if (bson_iter_type (it) == BSON_TYPE_NULL) {
         has_set (base, f, ODM_NULL);
      } else {
         /* Mark first: a partly decoded value must still be freed on failure. */
         has_set (base, f, ODM_PRESENT);
         if (f->flags & ODM_F_ARRAY) {
            if (!decode_array (f, it, base, c)) {
               ok = false;
               break;
            }
         } else if (!decode_value (f, it, ODM_AT (base, f->offset), c)) {
            ok = false;
            break;
         }
      }
      odm_path_pop (&c->path, old);
   }
   keyset_free (&unknown);
   if (ok && it->err_off) {
      return corrupt (c);
   }
   return ok;
}

bool
odm_decode_desc (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, bson_error_t *error)
{
   decode_ctx_t c;
   bson_iter_t it;
   size_t offset = 0;

   memset (doc, 0, d->size);
   if (!in) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "input is NULL");
      return false;
   }
   /* One iterative pass over the bytes first (nothing recursive runs before it has bounded
    * the nesting): lengths, nesting, every key and string-bearing value, dates. */
   if (!odm_bson_check_at (bson_get_data (in), in->len, NULL, 0, 0, error)) {
      return false;
   }
   if (!bson_validate (in, BSON_VALIDATE_UTF8, &offset)) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL,
                     "input is not valid BSON or has invalid UTF-8 (at byte %zu)", offset);
      return false;
   }
   if (!bson_iter_init (&it, in)) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL, "input is not valid BSON");
      return false;
   }
   c.flags = flags;
   c.error = error;
   odm_path_init (&c.path);
   if (!decode_object (d, &it, doc, &c)) {
      odm_cleanup_desc (d, doc);
      return false;
   }
   return true;
}

void
odm_cleanup_desc (const odm_object_desc_t *d, void *doc)
{
   cleanup_object (d, doc);
   memset (doc, 0, d->size);
}

bool
odm_from_bson (const odm_schema_t *schema,
               const bson_t *in,
               void *doc,
               uint32_t flags,
               bson_error_t *error)
{
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
      return false;
   }
   return odm_decode_desc (schema->root, in, doc, flags, error);
}

bool
odm_copy (const odm_schema_t *schema, const void *src, void *dst)
{
   bson_t tmp;
   bool ok = odm_to_bson (schema, src, &tmp, NULL) &&
             odm_from_bson (schema, &tmp, dst, ODM_DECODE_DEFAULT, NULL);
   bson_destroy (&tmp);
   return ok;
}
