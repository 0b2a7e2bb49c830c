/* libodm: decode, bytes -> struct. The byte check every input goes through first
 * (iterative, so any input is safe), then the typed walk over the descriptor tables. */
#include "odm-private.h"

#include <string.h>

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
bool
odm_regex_options_ok (const char *o)
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
   check_level_t *lv;
   odm_path_t path;
   int d = 0;
   bool ok = true;

   odm_path_init (&path);
   if (base_path && *base_path) {
      odm_path_push (&path, base_path, strlen (base_path));
   }
   lv = bson_malloc (sizeof *lv * (size_t) (ODM_MAX_DEPTH + 1));
   if (!bson_iter_init_from_data (&lv[0].it, data, len)) {
      bson_free (lv);
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
         } else if (!odm_regex_options_ok (opts)) {
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
   bson_free (lv);
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
   odm_array_set (base, f, items, count);
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

static bool
decode_object (const odm_object_desc_t *d, bson_iter_t *it, void *base, decode_ctx_t *c)
{
   uint32_t next = 0;
   odm_keyset_t unknown = {NULL, 0, 0};
   bool ok = true;

   while (bson_iter_next (it)) {
      uint32_t key_len = bson_iter_key_len (it);
      const char *key = bson_iter_key (it);
      const odm_field_t *f = odm_find_field (d, &next, key, key_len);
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
         if (odm_key_is_refused (key, key_len)) {
            ok = odm_key_error (c->error, c->path.buf, d, key, key_len);
            break;
         }
         if (!raw_array_keys (it, c)) {
            ok = false;
            break;
         }
         if (!odm_keyset_add (&unknown, key, key_len)) {
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
      if (odm_has_get (base, f) != ODM_ABSENT) {
         odm_set_error (c->error, ODM_ERROR_DUPLICATE_FIELD, c->path.buf, "field appears twice");
         ok = false;
         break;
      }
      if (bson_iter_type (it) == BSON_TYPE_NULL) {
         odm_has_set (base, f, ODM_NULL);
      } else {
         /* Mark first: a partly decoded value must still be freed on failure. */
         odm_has_set (base, f, ODM_PRESENT);
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
   odm_keyset_free (&unknown);
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
