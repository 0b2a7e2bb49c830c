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
      name_len = sizeof p->buf - 1 - old - sep; /* truncated; known paths never are */
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

void
odm_set_error (bson_error_t *error, uint32_t code, const char *path, const char *fmt, ...)
{
   char msg[sizeof error->message];
   va_list ap;

   if (!error) {
      return;
   }
   va_start (ap, fmt);
   vsnprintf (msg, sizeof msg, fmt, ap);
   va_end (ap);
   error->domain = ODM_ERROR_DOMAIN;
   error->code = code;
   if (path && *path) {
      bson_snprintf (error->message, sizeof error->message, "%s: %s", path, msg);
   } else {
      bson_snprintf (error->message, sizeof error->message, "%s", msg);
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
static bool
utf8_valid (const char *str, size_t len)
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

/* --------------------------------------------------------------------- encode */

static bool encode_object (const odm_object_desc_t *d, const void *base, bson_t *out);

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
encode_value (const odm_field_t *f, const void *p, bson_t *out, const char *key, int key_len)
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
   case ODM_KIND_MIXED:
      return bson_append_value (out, key, key_len, (const bson_value_t *) p);
   case ODM_KIND_OBJECT: {
      bson_t child;
      bool ok = bson_append_document_begin (out, key, key_len, &child);
      ok = ok && encode_object (f->object, p, &child);
      return bson_append_document_end (out, &child) && ok;
   }
   default:
      return false;
   }
}

static bool
encode_object (const odm_object_desc_t *d, const void *base, bson_t *out)
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
         bool ok = bson_append_array_begin (out, f->name, (int) f->name_len, &child);
         for (k = 0; ok && k < a.count; k++) {
            char buf[16];
            const char *key;
            size_t kl = bson_uint32_to_string ((uint32_t) k, &key, buf, sizeof buf);
            ok = encode_value (f, (const char *) a.items + k * f->elem_size, &child, key, (int) kl);
         }
         if (!bson_append_array_end (out, &child) || !ok) {
            return false;
         }
      } else if (!encode_value (f, ODM_AT_CONST (base, f->offset), out, f->name, (int) f->name_len)) {
         return false;
      }
   }
   if (extra && !bson_concat (out, extra)) {
      return false;
   }
   return true;
}

bool
odm_encode_desc (const odm_object_desc_t *d, const void *doc, bson_t *out)
{
   return encode_object (d, doc, out);
}

bool
odm_to_bson (const odm_schema_t *schema, const void *doc, bson_t *out, bson_error_t *error)
{
   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   bson_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
      return false;
   }
   if (!encode_object (schema->root, doc, out)) {
      bson_reinit (out);
      odm_set_error (error, ODM_ERROR_ENCODE, schema->collection,
                     "document exceeds the maximum BSON size");
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

/* libbson 1.23's bson_validate lets some corrupt nested documents through. Values that
 * libodm keeps as raw bytes (mixed values, unknown fields) are walked here in full:
 * each nested document must end in a NUL and iterate to its end without error. */
static bool
deep_check (const bson_iter_t *it, int depth)
{
   bson_iter_t child;
   const uint8_t *data;
   uint32_t len;

   if (BSON_ITER_HOLDS_UTF8 (it)) {
      uint32_t slen;
      const char *str = bson_iter_utf8 (it, &slen);
      return utf8_valid (str, slen);
   }
   if (!BSON_ITER_HOLDS_DOCUMENT (it) && !BSON_ITER_HOLDS_ARRAY (it)) {
      return true;
   }
   if (depth > 100) {
      return false;
   }
   if (BSON_ITER_HOLDS_DOCUMENT (it)) {
      bson_iter_document (it, &len, &data);
   } else {
      bson_iter_array (it, &len, &data);
   }
   if (len < 5 || data[len - 1] != 0 || !bson_iter_recurse (it, &child)) {
      return false;
   }
   {
      uint32_t k = 0;
      bool array = BSON_ITER_HOLDS_ARRAY (it);
      while (bson_iter_next (&child)) {
         if (!utf8_valid (bson_iter_key (&child), bson_iter_key_len (&child))) {
            return false;
         }
         if (array) {
            /* Array keys must be "0", "1", ... (libbson refuses to append others). */
            char want[16];
            bson_snprintf (want, sizeof want, "%u", k++);
            if (strcmp (bson_iter_key (&child), want) != 0) {
               return false;
            }
         }
         if (!deep_check (&child, depth + 1)) {
            return false;
         }
      }
   }
   return child.err_off == 0;
}

static bool
corrupt (decode_ctx_t *c)
{
   odm_set_error (c->error, ODM_ERROR_CORRUPT_BSON, c->path.buf, "corrupt BSON");
   return false;
}

static bool decode_object (const odm_object_desc_t *d, bson_iter_t *it, void *base, decode_ctx_t *c);

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
      s = bson_iter_utf8 (it, &len);
      if (!utf8_valid (s, len)) {
         odm_set_error (c->error, ODM_ERROR_CORRUPT_BSON, c->path.buf, "string is not valid UTF-8");
         return false;
      }
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
      if (!deep_check (it, 0)) {
         return corrupt (c);
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

   while (bson_iter_next (it)) {
      uint32_t key_len = bson_iter_key_len (it);
      const char *key = bson_iter_key (it);
      const odm_field_t *f = find_field (d, &next, key, key_len);
      size_t old;

      if (!utf8_valid (key, key_len)) {
         return corrupt (c);
      }
      old = odm_path_push (&c->path, key, key_len);

      if (!f) {
         bson_t **extra = (bson_t **) ODM_AT (base, d->extra);
         if (c->flags & ODM_DECODE_STRICT) {
            odm_set_error (c->error, ODM_ERROR_UNKNOWN_FIELD, c->path.buf,
                           "field is not in the schema of %s", d->c_type);
            return false;
         }
         if (!deep_check (it, 0)) {
            return corrupt (c);
         }
         if (!*extra) {
            *extra = bson_new ();
         } else if (bson_has_field (*extra, key)) {
            odm_set_error (c->error, ODM_ERROR_DUPLICATE_FIELD, c->path.buf, "field appears twice");
            return false;
         }
         if (!bson_append_iter (*extra, key, (int) key_len, it)) {
            return corrupt (c);
         }
         odm_path_pop (&c->path, old);
         continue;
      }
      if (has_get (base, f) != ODM_ABSENT) {
         odm_set_error (c->error, ODM_ERROR_DUPLICATE_FIELD, c->path.buf, "field appears twice");
         return false;
      }
      if (bson_iter_type (it) == BSON_TYPE_NULL) {
         has_set (base, f, ODM_NULL);
      } else {
         /* Mark first: a partly decoded value must still be freed on failure. */
         has_set (base, f, ODM_PRESENT);
         if (f->flags & ODM_F_ARRAY) {
            if (!decode_array (f, it, base, c)) {
               return false;
            }
         } else if (!decode_value (f, it, ODM_AT (base, f->offset), c)) {
            return false;
         }
      }
      odm_path_pop (&c->path, old);
   }
   if (it->err_off) {
      return corrupt (c);
   }
   return true;
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
   /* One pass over the bytes first: lengths and nesting. Strings, keys and raw values
    * are checked again on the way (see deep_check). */
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
