/* bench: hand-written libbson code for chat_sessions (flat), community_posts (nested) and
 * support_tickets (arrays of subdocuments), on the generated structs. See handwritten.h
 * for what "the same work" means; odm_bench verifies it before timing. */
#include "handwritten.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Shared helpers: some are unused when a baseline is compiled out (its spec is missing). */
#define HELPER static __attribute__ ((unused))

/* "key", its length: for bson_append_* */
#define K(lit) lit, (int) (sizeof lit - 1)
#define KEY_IS(k, kl, lit) ((kl) == sizeof lit - 1 && memcmp ((k), lit, sizeof lit - 1) == 0)

/* ====================================================================== shared pieces */

/* A path to a value, kept as a chain of stack nodes and only turned into text for an
 * error or a violation ("conversation.0.attachments.1.url"). */
typedef struct hw_path {
   const struct hw_path *up;
   const char *key; /* NULL: an array index */
   size_t n;        /* length of key, or the index */
} hw_path_t;

HELPER void
hw_path_append (const hw_path_t *p, char *buf, size_t size, size_t *len)
{
   char tmp[24];
   const char *s;
   size_t n;

   if (!p) {
      return;
   }
   hw_path_append (p->up, buf, size, len);
   if (p->key) {
      s = p->key;
      n = p->n;
   } else {
      n = (size_t) snprintf (tmp, sizeof tmp, "%zu", p->n);
      s = tmp;
   }
   if (*len + (*len ? 1u : 0u) >= size - 1) {
      return;
   }
   if (*len) {
      buf[(*len)++] = '.';
   }
   if (n > size - 1 - *len) {
      n = size - 1 - *len;
   }
   memcpy (buf + *len, s, n);
   *len += n;
   buf[*len] = '\0';
}

HELPER const char *
hw_path_str (const hw_path_t *p, char *buf, size_t size)
{
   size_t len = 0;
   buf[0] = '\0';
   hw_path_append (p, buf, size, &len);
   return buf;
}

HELPER bool
hw_fail (bson_error_t *error, uint32_t code, const hw_path_t *p, const char *fmt, ...) BSON_GNUC_PRINTF (4, 5);

HELPER bool
hw_fail (bson_error_t *error, uint32_t code, const hw_path_t *p, const char *fmt, ...)
{
   char path[512];
   char msg[sizeof error->message];
   va_list ap;

   if (!error) {
      return false;
   }
   va_start (ap, fmt);
   vsnprintf (msg, sizeof msg, fmt, ap);
   va_end (ap);
   hw_path_str (p, path, sizeof path);
   error->domain = ODM_ERROR_DOMAIN;
   error->code = code;
   if (*path) {
      bson_snprintf (error->message, sizeof error->message, "%s: %s", path, msg);
   } else {
      bson_snprintf (error->message, sizeof error->message, "%s", msg);
   }
   return false;
}

HELPER const char *
hw_type_name (bson_type_t t)
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

HELPER bool
hw_type_error (bson_error_t *error, const hw_path_t *p, const char *expected, bson_type_t got)
{
   return hw_fail (error, ODM_ERROR_TYPE, p, "expected %s, got %s", expected, hw_type_name (got));
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL. */
HELPER bool
hw_utf8_valid (const char *str, size_t len)
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

/* ---------------------------------------------------------------------- decode */

/* Before a known field's value: refuses a second occurrence, records null.
 * Returns -1 on error, 0 when the value was null (nothing more to read), 1 to read it. */
HELPER int
hw_begin (bson_iter_t *it, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   if (*has != ODM_ABSENT) {
      hw_fail (error, ODM_ERROR_DUPLICATE_FIELD, p, "field appears twice");
      return -1;
   }
   if (bson_iter_type (it) == BSON_TYPE_NULL) {
      *has = ODM_NULL;
      return 0;
   }
   *has = ODM_PRESENT;
   return 1;
}

HELPER bool
hw_get_string (bson_iter_t *it, char **v, const hw_path_t *p, bson_error_t *error)
{
   uint32_t len;
   const char *s;
   char *copy;

   if (bson_iter_type (it) != BSON_TYPE_UTF8) {
      return hw_type_error (error, p, "string", bson_iter_type (it));
   }
   s = bson_iter_utf8 (it, &len);
   if (!hw_utf8_valid (s, len)) {
      return hw_fail (error, ODM_ERROR_CORRUPT_BSON, p, "string is not valid UTF-8");
   }
   copy = bson_malloc ((size_t) len + 1);
   memcpy (copy, s, len);
   copy[len] = '\0';
   *v = copy;
   return true;
}

HELPER bool
hw_get_number (bson_iter_t *it, double *v, const hw_path_t *p, bson_error_t *error)
{
   switch (bson_iter_type (it)) {
   case BSON_TYPE_DOUBLE:
      *v = bson_iter_double (it);
      return true;
   case BSON_TYPE_INT32:
      *v = (double) bson_iter_int32 (it);
      return true;
   case BSON_TYPE_INT64: {
      int64_t i = bson_iter_int64 (it);
      if (i > (INT64_C (1) << 53) || i < -(INT64_C (1) << 53)) {
         return hw_fail (error, ODM_ERROR_RANGE, p, "long %" PRId64 " cannot be held exactly by a number", i);
      }
      *v = (double) i;
      return true;
   }
   default:
      return hw_type_error (error, p, "number", bson_iter_type (it));
   }
}

HELPER int
hw_field_string (bson_iter_t *it, char **v, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   return r > 0 ? (hw_get_string (it, v, p, error) ? 1 : -1) : r;
}

HELPER int
hw_field_number (bson_iter_t *it, double *v, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   return r > 0 ? (hw_get_number (it, v, p, error) ? 1 : -1) : r;
}

HELPER int
hw_field_bool (bson_iter_t *it, bool *v, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   if (r > 0) {
      if (bson_iter_type (it) != BSON_TYPE_BOOL) {
         hw_type_error (error, p, "boolean", bson_iter_type (it));
         return -1;
      }
      *v = bson_iter_bool (it);
   }
   return r;
}

HELPER int
hw_field_date (bson_iter_t *it, int64_t *v, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   if (r > 0) {
      if (bson_iter_type (it) != BSON_TYPE_DATE_TIME) {
         hw_type_error (error, p, "date", bson_iter_type (it));
         return -1;
      }
      *v = bson_iter_date_time (it);
   }
   return r;
}

HELPER int
hw_field_oid (bson_iter_t *it, bson_oid_t *v, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   if (r > 0) {
      if (bson_iter_type (it) != BSON_TYPE_OID) {
         hw_type_error (error, p, "objectId", bson_iter_type (it));
         return -1;
      }
      bson_oid_copy (bson_iter_oid (it), v);
   }
   return r;
}

/* A nested object: positions CHILD on its fields. Returns as begin() does. */
HELPER int
hw_field_object (bson_iter_t *it, bson_iter_t *child, uint8_t *has, const hw_path_t *p, bson_error_t *error)
{
   int r = hw_begin (it, has, p, error);
   if (r > 0) {
      if (bson_iter_type (it) != BSON_TYPE_DOCUMENT) {
         hw_type_error (error, p, "object", bson_iter_type (it));
         return -1;
      }
      if (!bson_iter_recurse (it, child)) {
         hw_fail (error, ODM_ERROR_CORRUPT_BSON, p, "corrupt subdocument");
         return -1;
      }
   }
   return r;
}

/* Counts an array's elements and allocates them zeroed (one allocation, no regrowth).
 * Returns as begin() does; on 1, CHILD is ready for the first element. */
HELPER int
hw_array_begin (bson_iter_t *it, bson_iter_t *child, uint8_t *has, size_t elem_size, void **items, size_t *count,
             const hw_path_t *p, bson_error_t *error)
{
   size_t n = 0;
   int r = hw_begin (it, has, p, error);

   if (r <= 0) {
      return r;
   }
   if (bson_iter_type (it) != BSON_TYPE_ARRAY) {
      hw_type_error (error, p, "array", bson_iter_type (it));
      return -1;
   }
   if (!bson_iter_recurse (it, child)) {
      hw_fail (error, ODM_ERROR_CORRUPT_BSON, p, "corrupt array");
      return -1;
   }
   while (bson_iter_next (child)) {
      n++;
   }
   *items = n ? bson_malloc0 (n * elem_size) : NULL;
   *count = n;
   bson_iter_recurse (it, child);
   return 1;
}

HELPER int
hw_field_string_array (bson_iter_t *it, char ***items, size_t *count, uint8_t *has, const hw_path_t *p,
                    bson_error_t *error)
{
   bson_iter_t child;
   void *mem = NULL;
   size_t k = 0;
   int r = hw_array_begin (it, &child, has, sizeof (char *), &mem, count, p, error);

   if (r <= 0) {
      return r;
   }
   *items = mem; /* attached first: a failure part-way is freed by the cleanup */
   while (bson_iter_next (&child)) {
      hw_path_t e = {p, NULL, k};
      if (bson_iter_type (&child) == BSON_TYPE_NULL) {
         hw_type_error (error, &e, "string", BSON_TYPE_NULL);
         return -1;
      }
      if (!hw_get_string (&child, &(*items)[k], &e, error)) {
         return -1;
      }
      k++;
   }
   return 1;
}

typedef bool (*elem_decode_fn) (bson_iter_t *fields, void *elem, const hw_path_t *p, uint32_t flags,
                                bson_error_t *error);

/* Decodes each element of an array of subdocuments (already allocated by array_begin). */
HELPER bool
hw_object_elements (bson_iter_t *child, char *items, size_t elem_size, elem_decode_fn fn, const hw_path_t *p,
                 uint32_t flags, bson_error_t *error)
{
   size_t k = 0;
   while (bson_iter_next (child)) {
      hw_path_t e = {p, NULL, k};
      bson_iter_t fields;
      bson_type_t t = bson_iter_type (child);
      if (t != BSON_TYPE_DOCUMENT) {
         return hw_type_error (error, &e, "object", t);
      }
      if (!bson_iter_recurse (child, &fields)) {
         return hw_fail (error, ODM_ERROR_CORRUPT_BSON, &e, "corrupt subdocument");
      }
      if (!fn (&fields, items + k * elem_size, &e, flags, error)) {
         return false;
      }
      k++;
   }
   return true;
}

/* A field this struct does not have: kept in _extra (in order), or refused when strict. */
HELPER int
hw_unknown (bson_iter_t *it, bson_t **extra, const char *key, uint32_t kl, uint32_t flags, const char *c_type,
         const hw_path_t *p, bson_error_t *error)
{
   if (flags & ODM_DECODE_STRICT) {
      hw_fail (error, ODM_ERROR_UNKNOWN_FIELD, p, "field is not in the schema of %s", c_type);
      return -1;
   }
   if (!*extra) {
      *extra = bson_new ();
   } else if (bson_has_field (*extra, key)) {
      hw_fail (error, ODM_ERROR_DUPLICATE_FIELD, p, "field appears twice");
      return -1;
   }
   bson_append_iter (*extra, key, (int) kl, it);
   return 1;
}

/* Validates the whole input first (lengths, nesting, UTF-8): then iterating is safe. */
HELPER bool
hw_decode_start (const bson_t *in, bson_iter_t *it, bson_error_t *error)
{
   size_t offset = 0;
   if (!in) {
      return hw_fail (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "input is NULL");
   }
   if (!bson_validate (in, BSON_VALIDATE_UTF8, &offset)) {
      return hw_fail (error, ODM_ERROR_CORRUPT_BSON, NULL, "input is not valid BSON or has invalid UTF-8 (at byte %zu)",
                   offset);
   }
   if (!bson_iter_init (it, in)) {
      return hw_fail (error, ODM_ERROR_CORRUPT_BSON, NULL, "input is not valid BSON");
   }
   return true;
}

/* ---------------------------------------------------------------------- encode */

HELPER bool
hw_put_number (bson_t *b, const char *key, int kl, double v)
{
   if (v >= -2147483648.0 && v <= 2147483647.0 && v == (double) (int32_t) v && !(v == 0.0 && signbit (v))) {
      return bson_append_int32 (b, key, kl, (int32_t) v);
   }
   return bson_append_double (b, key, kl, v);
}

/* Scalars: written when has_ says present, null when it says null. */
HELPER bool
hw_opt_number (bson_t *b, const char *key, int kl, uint8_t has, double v)
{
   return has == ODM_ABSENT ? true : has == ODM_NULL ? bson_append_null (b, key, kl) : hw_put_number (b, key, kl, v);
}

HELPER bool
hw_opt_bool (bson_t *b, const char *key, int kl, uint8_t has, bool v)
{
   return has == ODM_ABSENT ? true : has == ODM_NULL ? bson_append_null (b, key, kl) : bson_append_bool (b, key, kl, v);
}

HELPER bool
hw_opt_date (bson_t *b, const char *key, int kl, uint8_t has, int64_t v)
{
   return has == ODM_ABSENT ? true
          : has == ODM_NULL ? bson_append_null (b, key, kl)
                            : bson_append_date_time (b, key, kl, v);
}

HELPER bool
hw_opt_oid (bson_t *b, const char *key, int kl, uint8_t has, const bson_oid_t *v)
{
   return has == ODM_ABSENT ? true : has == ODM_NULL ? bson_append_null (b, key, kl) : bson_append_oid (b, key, kl, v);
}

/* Strings: written when non-NULL; otherwise null when has_ says null. */
HELPER bool
hw_opt_string (bson_t *b, const char *key, int kl, uint8_t has, const char *s)
{
   return s ? bson_append_utf8 (b, key, kl, s, -1) : has == ODM_NULL ? bson_append_null (b, key, kl) : true;
}

/* Arrays and nested objects: written when they have content; otherwise as has_ says
 * (absent, an empty one, or null). *WRITE tells the caller to write the content. */
HELPER bool
hw_opt_container (bson_t *b, const char *key, int kl, uint8_t has, bool content, bool *write)
{
   *write = content || (has != ODM_ABSENT && has != ODM_NULL);
   return !content && has == ODM_NULL ? bson_append_null (b, key, kl) : true;
}

HELPER bool
hw_put_string_array (bson_t *b, const char *key, int kl, char *const *items, size_t count)
{
   bson_t arr;
   size_t k;
   bool ok = bson_append_array_begin (b, key, kl, &arr);
   for (k = 0; ok && k < count; k++) {
      char buf[16];
      const char *ik;
      size_t ikl = bson_uint32_to_string ((uint32_t) k, &ik, buf, sizeof buf);
      ok = bson_append_utf8 (&arr, ik, (int) ikl, items[k], -1);
   }
   return bson_append_array_end (b, &arr) && ok;
}

HELPER bool
hw_opt_string_array (bson_t *b, const char *key, int kl, uint8_t has, char *const *items, size_t count)
{
   bool write;
   return hw_opt_container (b, key, kl, has, count > 0, &write) && (!write || hw_put_string_array (b, key, kl, items, count));
}

HELPER bool
hw_encode_finish (bool ok, const char *collection, bson_t *out, bson_error_t *error)
{
   if (!ok) {
      hw_path_t p = {NULL, collection, strlen (collection)};
      bson_reinit (out);
      return hw_fail (error, ODM_ERROR_ENCODE, &p, "document exceeds the maximum BSON size");
   }
   return true;
}

/* -------------------------------------------------------------------- validate */

/* Length in UTF-16 code units, as JavaScript's String.length. */
HELPER size_t
hw_utf16_len (const char *s)
{
   size_t n = 0;
   const unsigned char *p = (const unsigned char *) s;
   for (; *p; p++) {
      if ((*p & 0xC0) != 0x80) {
         n += (*p >= 0xF0) ? 2 : 1;
      }
   }
   return n;
}

HELPER void
hw_format_number (double v, char *buf, size_t size)
{
   int prec;
   for (prec = 6; prec <= 17; prec++) {
      snprintf (buf, size, "%.*g", prec, v);
      if (strtod (buf, NULL) == v) {
         return;
      }
   }
}

/* Adds a violation at UP.KEY (KEY NULL: at UP itself), with CUSTOM or the formatted text. */
HELPER void
hw_violation (odm_violations_t *out, const hw_path_t *up, const char *key, const char *rule, const char *custom,
           const char *fmt, ...) BSON_GNUC_PRINTF (6, 7);

HELPER void
hw_violation (odm_violations_t *out, const hw_path_t *up, const char *key, const char *rule, const char *custom,
           const char *fmt, ...)
{
   char path[512], msg[512];
   hw_path_t p = {up, key, key ? strlen (key) : 0};
   va_list ap;

   hw_path_str (key ? &p : up, path, sizeof path);
   if (custom) {
      odm_violations_add (out, path, rule, custom);
      return;
   }
   va_start (ap, fmt);
   vsnprintf (msg, sizeof msg, fmt, ap);
   va_end (ap);
   odm_violations_add (out, path, rule, msg);
}

HELPER void
hw_required (odm_violations_t *out, bool missing, const hw_path_t *up, const char *key)
{
   if (missing) {
      hw_violation (out, up, key, "required", NULL, "is required");
   }
}

HELPER void
hw_check_maxlength (odm_violations_t *out, const char *s, size_t max, const hw_path_t *up, const char *key,
                 const char *custom)
{
   size_t len;
   if (s && (len = hw_utf16_len (s)) > max) {
      hw_violation (out, up, key, "maxlength", custom, "must be at most %zu characters long (got %zu)", max, len);
   }
}

HELPER void
hw_check_enum (odm_violations_t *out, const char *s, const char *const *values, size_t n, const hw_path_t *up,
            const char *key)
{
   char list[400];
   size_t i, len = 0;

   if (!s) {
      return;
   }
   for (i = 0; i < n; i++) {
      if (strcmp (s, values[i]) == 0) {
         return;
      }
   }
   list[0] = '\0';
   for (i = 0; i < n && len < sizeof list - 1; i++) {
      len += (size_t) bson_snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "", values[i]);
   }
   hw_violation (out, up, key, "enum", NULL, "\"%.60s\" is not one of: %s", s, list);
}

/* A present number without bounds: only NaN is refused. */
HELPER void
hw_check_number (odm_violations_t *out, uint8_t has, double v, const hw_path_t *up, const char *key)
{
   if (has == ODM_PRESENT && isnan (v)) {
      hw_violation (out, up, key, "number", NULL, "is not a number (NaN)");
   }
}

/* A present number with bounds: NaN refused, then MIN and MAX (MSG: the seed's text, or NULL). */
HELPER void
hw_check_range (odm_violations_t *out, uint8_t has, double v, double min, double max, const char *msg,
             const hw_path_t *up, const char *key)
{
   char a[40], b[40];
   if (has != ODM_PRESENT) {
      return;
   }
   if (isnan (v)) {
      hw_violation (out, up, key, "number", NULL, "is not a number (NaN)");
      return;
   }
   if (v < min) {
      hw_format_number (min, a, sizeof a);
      hw_format_number (v, b, sizeof b);
      hw_violation (out, up, key, "min", msg, "must be at least %s (got %s)", a, b);
   }
   if (v > max) {
      hw_format_number (max, a, sizeof a);
      hw_format_number (v, b, sizeof b);
      hw_violation (out, up, key, "max", msg, "must be at most %s (got %s)", a, b);
   }
}

/* check_range for a path the seed's hook compares unguarded ("null_is_zero" in the spec):
 * JavaScript reads a null there as 0, so a null is checked as 0 against MIN and MAX. */
HELPER void
hw_check_range_null_is_zero (odm_violations_t *out, uint8_t has, double v, double min, double max, const char *msg,
                          const hw_path_t *up, const char *key)
{
   char a[40];
   if (has != ODM_NULL) {
      hw_check_range (out, has, v, min, max, msg, up, key);
      return;
   }
   if (0.0 < min) {
      hw_format_number (min, a, sizeof a);
      hw_violation (out, up, key, "min", msg, "must be at least %s (got null, which the hook reads as 0)", a);
   }
   if (0.0 > max) {
      hw_format_number (max, a, sizeof a);
      hw_violation (out, up, key, "max", msg, "must be at most %s (got null, which the hook reads as 0)", a);
   }
}

HELPER bool
hw_validate_finish (odm_violations_t *out, odm_violations_t *local)
{
   bool ok = out->count == 0;
   if (out == local) {
      odm_violations_cleanup (local);
   }
   return ok;
}

/* --------------------------------------------------------------------- prepare */

HELPER int64_t
hw_clock_of (const odm_prepare_opts_t *opts)
{
   return (opts && opts->now_ms) ? opts->now_ms : odm_now_ms ();
}

HELPER void
hw_default_id (bson_oid_t *v, uint8_t *has)
{
   if (*has == ODM_ABSENT) {
      bson_oid_init (v, NULL);
      *has = ODM_PRESENT;
   }
}

HELPER void
hw_default_number (double *v, uint8_t *has, double d)
{
   if (*has == ODM_ABSENT) {
      *v = d;
      *has = ODM_PRESENT;
   }
}

HELPER void
hw_default_date (int64_t *v, uint8_t *has, int64_t d)
{
   if (*has == ODM_ABSENT) {
      *v = d;
      *has = ODM_PRESENT;
   }
}

HELPER void
hw_default_string (char **v, uint8_t *has, const char *d)
{
   if (*has == ODM_ABSENT && !*v) {
      *v = bson_strdup (d);
      *has = ODM_PRESENT;
   }
}

/* Arrays default to [] (Mongoose). */
HELPER void
hw_default_array (uint8_t *has)
{
   if (*has == ODM_ABSENT) {
      *has = ODM_PRESENT;
   }
}

HELPER void
hw_timestamps (int64_t *created, uint8_t *has_created, int64_t *updated, uint8_t *has_updated,
            const odm_prepare_opts_t *opts, int64_t now)
{
   if (*has_created != ODM_PRESENT && !(opts && opts->is_update)) {
      *created = now;
      *has_created = ODM_PRESENT;
   }
   *updated = now;
   *has_updated = ODM_PRESENT;
}

/* =============================================================== chat_sessions (flat) */
#ifdef ODM_BENCH_HAVE_CHAT_SESSIONS

static bool
cs_settings_content (const odm_chat_session_settings_t *s)
{
   return s->_extra || s->has_temperature || s->has_maxTokens || s->mode || s->has_mode == ODM_NULL;
}

static bool
cs_stats_content (const odm_chat_session_stats_t *s)
{
   return s->_extra || s->has_messageCount || s->has_totalTokens || s->has_durationMs || s->has_lastMessageAt;
}

static bool
cs_encode_doc (const odm_chat_session_t *d, bson_t *out)
{
   bson_t child;
   bool ok, write;

   ok = hw_opt_oid (out, K ("_id"), d->has__id, &d->_id) &&
        hw_opt_string (out, K ("sessionId"), d->has_sessionId, d->sessionId) &&
        hw_opt_oid (out, K ("userId"), d->has_userId, &d->userId) &&
        hw_opt_oid (out, K ("agentId"), d->has_agentId, &d->agentId) &&
        hw_opt_string (out, K ("name"), d->has_name, d->name) &&
        hw_opt_string (out, K ("description"), d->has_description, d->description) &&
        hw_opt_string_array (out, K ("tags"), d->has_tags, d->tags.items, d->tags.count);
   if (ok && hw_opt_container (out, K ("settings"), d->has_settings, cs_settings_content (&d->settings), &write) && write) {
      const odm_chat_session_settings_t *s = &d->settings;
      ok = bson_append_document_begin (out, K ("settings"), &child);
      ok = ok && hw_opt_number (&child, K ("temperature"), s->has_temperature, s->temperature) &&
           hw_opt_number (&child, K ("maxTokens"), s->has_maxTokens, s->maxTokens) &&
           hw_opt_string (&child, K ("mode"), s->has_mode, s->mode) && (!s->_extra || bson_concat (&child, s->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   if (ok && hw_opt_container (out, K ("stats"), d->has_stats, cs_stats_content (&d->stats), &write) && write) {
      const odm_chat_session_stats_t *s = &d->stats;
      ok = bson_append_document_begin (out, K ("stats"), &child);
      ok = ok && hw_opt_number (&child, K ("messageCount"), s->has_messageCount, s->messageCount) &&
           hw_opt_number (&child, K ("totalTokens"), s->has_totalTokens, s->totalTokens) &&
           hw_opt_number (&child, K ("durationMs"), s->has_durationMs, s->durationMs) &&
           hw_opt_date (&child, K ("lastMessageAt"), s->has_lastMessageAt, s->lastMessageAt) &&
           (!s->_extra || bson_concat (&child, s->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   return ok && hw_opt_date (out, K ("createdAt"), d->has_createdAt, d->createdAt) &&
          hw_opt_date (out, K ("updatedAt"), d->has_updatedAt, d->updatedAt) &&
          (!d->_extra || bson_concat (out, d->_extra));
}

static bool
cs_encode (const void *doc, bson_t *out, bson_error_t *error)
{
   bson_init (out);
   if (!doc) {
      return hw_fail (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
   }
   return hw_encode_finish (cs_encode_doc (doc, out), "chat_sessions", out, error);
}

static bool
cs_decode_settings (bson_iter_t *it, odm_chat_session_settings_t *s, const hw_path_t *up, uint32_t flags,
                    bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "temperature")) {
         r = hw_field_number (it, &s->temperature, &s->has_temperature, &p, error);
      } else if (KEY_IS (k, kl, "maxTokens")) {
         r = hw_field_number (it, &s->maxTokens, &s->has_maxTokens, &p, error);
      } else if (KEY_IS (k, kl, "mode")) {
         r = hw_field_string (it, &s->mode, &s->has_mode, &p, error);
      } else {
         r = hw_unknown (it, &s->_extra, k, kl, flags, "odm_chat_session_settings_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cs_decode_stats (bson_iter_t *it, odm_chat_session_stats_t *s, const hw_path_t *up, uint32_t flags,
                 bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "messageCount")) {
         r = hw_field_number (it, &s->messageCount, &s->has_messageCount, &p, error);
      } else if (KEY_IS (k, kl, "totalTokens")) {
         r = hw_field_number (it, &s->totalTokens, &s->has_totalTokens, &p, error);
      } else if (KEY_IS (k, kl, "durationMs")) {
         r = hw_field_number (it, &s->durationMs, &s->has_durationMs, &p, error);
      } else if (KEY_IS (k, kl, "lastMessageAt")) {
         r = hw_field_date (it, &s->lastMessageAt, &s->has_lastMessageAt, &p, error);
      } else {
         r = hw_unknown (it, &s->_extra, k, kl, flags, "odm_chat_session_stats_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cs_decode_doc (bson_iter_t *it, odm_chat_session_t *d, uint32_t flags, bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {NULL, k, kl};
      bson_iter_t child;
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &d->_id, &d->has__id, &p, error);
      } else if (KEY_IS (k, kl, "sessionId")) {
         r = hw_field_string (it, &d->sessionId, &d->has_sessionId, &p, error);
      } else if (KEY_IS (k, kl, "userId")) {
         r = hw_field_oid (it, &d->userId, &d->has_userId, &p, error);
      } else if (KEY_IS (k, kl, "agentId")) {
         r = hw_field_oid (it, &d->agentId, &d->has_agentId, &p, error);
      } else if (KEY_IS (k, kl, "name")) {
         r = hw_field_string (it, &d->name, &d->has_name, &p, error);
      } else if (KEY_IS (k, kl, "description")) {
         r = hw_field_string (it, &d->description, &d->has_description, &p, error);
      } else if (KEY_IS (k, kl, "tags")) {
         r = hw_field_string_array (it, &d->tags.items, &d->tags.count, &d->has_tags, &p, error);
      } else if (KEY_IS (k, kl, "settings")) {
         r = hw_field_object (it, &child, &d->has_settings, &p, error);
         if (r > 0 && !cs_decode_settings (&child, &d->settings, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "stats")) {
         r = hw_field_object (it, &child, &d->has_stats, &p, error);
         if (r > 0 && !cs_decode_stats (&child, &d->stats, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "createdAt")) {
         r = hw_field_date (it, &d->createdAt, &d->has_createdAt, &p, error);
      } else if (KEY_IS (k, kl, "updatedAt")) {
         r = hw_field_date (it, &d->updatedAt, &d->has_updatedAt, &p, error);
      } else {
         r = hw_unknown (it, &d->_extra, k, kl, flags, "odm_chat_session_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cs_decode (const bson_t *in, void *doc, uint32_t flags, bson_error_t *error)
{
   odm_chat_session_t *d = doc;
   bson_iter_t it;

   memset (d, 0, sizeof *d);
   if (!hw_decode_start (in, &it, error)) {
      return false;
   }
   if (!cs_decode_doc (&it, d, flags, error)) {
      odm_chat_session_cleanup (d);
      return false;
   }
   return true;
}

static void
cs_validate_into (const odm_chat_session_t *d, odm_violations_t *out)
{
   static const char *const modes[] = {"professional", "balanced", "creative", "fast", "coding"};
   static const hw_path_t tags = {NULL, "tags", 4}, settings = {NULL, "settings", 8}, stats = {NULL, "stats", 5};
   size_t k;

   hw_required (out, !d->sessionId || !*d->sessionId, NULL, "sessionId");
   hw_required (out, d->has_userId != ODM_PRESENT, NULL, "userId");
   hw_required (out, d->has_agentId != ODM_PRESENT, NULL, "agentId");
   hw_required (out, !d->name || !*d->name, NULL, "name");
   hw_check_maxlength (out, d->name, 100, NULL, "name", NULL);
   hw_check_maxlength (out, d->description, 500, NULL, "description", NULL);
   for (k = 0; k < d->tags.count; k++) {
      hw_path_t e = {&tags, NULL, k};
      hw_check_maxlength (out, d->tags.items[k], 50, &e, NULL, NULL);
   }
   /* The nested objects have no required field: checking their (absent) fields when the
    * object itself is absent finds nothing, so no presence test is needed here. */
   hw_check_range_null_is_zero (out, d->settings.has_temperature, d->settings.temperature, 0, 2,
                             "Temperature must be between 0 and 2", &settings, "temperature");
   hw_check_range_null_is_zero (out, d->settings.has_maxTokens, d->settings.maxTokens, 1, 4000,
                             "Max tokens must be between 1 and 4000", &settings, "maxTokens");
   hw_check_enum (out, d->settings.mode, modes, 5, &settings, "mode");
   hw_check_number (out, d->stats.has_messageCount, d->stats.messageCount, &stats, "messageCount");
   hw_check_number (out, d->stats.has_totalTokens, d->stats.totalTokens, &stats, "totalTokens");
   hw_check_number (out, d->stats.has_durationMs, d->stats.durationMs, &stats, "durationMs");
}

static bool
cs_validate (const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_violations_t local;
   (void) opts; /* chat_sessions has no rule that reads the clock or the previous document */
   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   cs_validate_into (doc, out);
   return hw_validate_finish (out, &local);
}

static bool
cs_prepare (void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_chat_session_t *d = doc;
   odm_violations_t local;
   int64_t now;

   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   now = hw_clock_of (opts);
   hw_default_id (&d->_id, &d->has__id);
   hw_default_array (&d->has_tags);
   if (d->has_settings != ODM_NULL) {
      hw_default_number (&d->settings.temperature, &d->settings.has_temperature, 0.7);
      hw_default_number (&d->settings.maxTokens, &d->settings.has_maxTokens, 2000);
      hw_default_string (&d->settings.mode, &d->settings.has_mode, "balanced");
   }
   if (d->has_stats != ODM_NULL) {
      hw_default_number (&d->stats.messageCount, &d->stats.has_messageCount, 0);
      hw_default_number (&d->stats.totalTokens, &d->stats.has_totalTokens, 0);
      hw_default_number (&d->stats.durationMs, &d->stats.has_durationMs, 0);
      hw_default_date (&d->stats.lastMessageAt, &d->stats.has_lastMessageAt, now);
   }
   hw_timestamps (&d->createdAt, &d->has_createdAt, &d->updatedAt, &d->has_updatedAt, opts, now);
   cs_validate_into (d, out);
   return hw_validate_finish (out, &local);
}

#endif /* ODM_BENCH_HAVE_CHAT_SESSIONS */

/* ============================================================ community_posts (nested) */
#ifdef ODM_BENCH_HAVE_COMMUNITY_POSTS

/* Named through the document type, so the spec's choice of element c_name does not matter. */
typedef __typeof__ (((odm_community_post_t *) 0)->stats) cp_stats_t;
typedef __typeof__ (((odm_community_post_t *) 0)->metadata) cp_metadata_t;
typedef __typeof__ (*((odm_community_post_t *) 0)->attachments.items) cp_attachment_t;

static const char *const cp_categories[] = {"tutorial", "discussion", "question", "showcase", "news"};
static const char *const cp_statuses[] = {"draft", "published", "archived", "deleted"};
static const char *const cp_visibilities[] = {"public", "community", "private"};
static const char *const cp_attachment_types[] = {"image", "video", "file"};

static bool
cp_stats_content (const cp_stats_t *s)
{
   return s->_extra || s->has_views || s->has_likes || s->has_comments || s->has_shares;
}

static bool
cp_metadata_content (const cp_metadata_t *m)
{
   return m->_extra || m->has_readingTime || m->has_wordCount || m->has_featured || m->has_pinned;
}

static bool
cp_encode_attachment (bson_t *out, const cp_attachment_t *a)
{
   return hw_opt_oid (out, K ("_id"), a->has__id, &a->_id) && hw_opt_string (out, K ("type"), a->has_type, a->type) &&
          hw_opt_string (out, K ("url"), a->has_url, a->url) && hw_opt_string (out, K ("name"), a->has_name, a->name) &&
          hw_opt_number (out, K ("size"), a->has_size, a->size) && (!a->_extra || bson_concat (out, a->_extra));
}

static bool
cp_encode_doc (const odm_community_post_t *d, bson_t *out)
{
   bson_t child;
   bool ok, write;

   ok = hw_opt_oid (out, K ("_id"), d->has__id, &d->_id) &&
        hw_opt_oid (out, K ("authorId"), d->has_authorId, &d->authorId) &&
        hw_opt_string (out, K ("title"), d->has_title, d->title) &&
        hw_opt_string (out, K ("content"), d->has_content, d->content) &&
        hw_opt_string (out, K ("excerpt"), d->has_excerpt, d->excerpt) &&
        hw_opt_string_array (out, K ("tags"), d->has_tags, d->tags.items, d->tags.count) &&
        hw_opt_string (out, K ("category"), d->has_category, d->category) &&
        hw_opt_string (out, K ("status"), d->has_status, d->status) &&
        hw_opt_string (out, K ("visibility"), d->has_visibility, d->visibility);
   if (ok && hw_opt_container (out, K ("stats"), d->has_stats, cp_stats_content (&d->stats), &write) && write) {
      const cp_stats_t *s = &d->stats;
      ok = bson_append_document_begin (out, K ("stats"), &child);
      ok = ok && hw_opt_number (&child, K ("views"), s->has_views, s->views) &&
           hw_opt_number (&child, K ("likes"), s->has_likes, s->likes) &&
           hw_opt_number (&child, K ("comments"), s->has_comments, s->comments) &&
           hw_opt_number (&child, K ("shares"), s->has_shares, s->shares) && (!s->_extra || bson_concat (&child, s->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   if (ok && hw_opt_container (out, K ("metadata"), d->has_metadata, cp_metadata_content (&d->metadata), &write) &&
       write) {
      const cp_metadata_t *m = &d->metadata;
      ok = bson_append_document_begin (out, K ("metadata"), &child);
      ok = ok && hw_opt_number (&child, K ("readingTime"), m->has_readingTime, m->readingTime) &&
           hw_opt_number (&child, K ("wordCount"), m->has_wordCount, m->wordCount) &&
           hw_opt_bool (&child, K ("featured"), m->has_featured, m->featured) &&
           hw_opt_bool (&child, K ("pinned"), m->has_pinned, m->pinned) && (!m->_extra || bson_concat (&child, m->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   if (ok && hw_opt_container (out, K ("attachments"), d->has_attachments, d->attachments.count > 0, &write) && write) {
      bson_t arr, el;
      size_t k;
      ok = bson_append_array_begin (out, K ("attachments"), &arr);
      for (k = 0; ok && k < d->attachments.count; k++) {
         char buf[16];
         const char *ik;
         size_t ikl = bson_uint32_to_string ((uint32_t) k, &ik, buf, sizeof buf);
         ok = bson_append_document_begin (&arr, ik, (int) ikl, &el);
         ok = ok && cp_encode_attachment (&el, &d->attachments.items[k]);
         ok = bson_append_document_end (&arr, &el) && ok;
      }
      ok = bson_append_array_end (out, &arr) && ok;
   }
   return ok && hw_opt_date (out, K ("publishedAt"), d->has_publishedAt, d->publishedAt) &&
          hw_opt_date (out, K ("createdAt"), d->has_createdAt, d->createdAt) &&
          hw_opt_date (out, K ("updatedAt"), d->has_updatedAt, d->updatedAt) &&
          (!d->_extra || bson_concat (out, d->_extra));
}

static bool
cp_encode (const void *doc, bson_t *out, bson_error_t *error)
{
   bson_init (out);
   if (!doc) {
      return hw_fail (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
   }
   return hw_encode_finish (cp_encode_doc (doc, out), "community_posts", out, error);
}

static bool
cp_decode_stats (bson_iter_t *it, cp_stats_t *s, const hw_path_t *up, uint32_t flags, bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "views")) {
         r = hw_field_number (it, &s->views, &s->has_views, &p, error);
      } else if (KEY_IS (k, kl, "likes")) {
         r = hw_field_number (it, &s->likes, &s->has_likes, &p, error);
      } else if (KEY_IS (k, kl, "comments")) {
         r = hw_field_number (it, &s->comments, &s->has_comments, &p, error);
      } else if (KEY_IS (k, kl, "shares")) {
         r = hw_field_number (it, &s->shares, &s->has_shares, &p, error);
      } else {
         r = hw_unknown (it, &s->_extra, k, kl, flags, "odm_community_post_stats_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cp_decode_metadata (bson_iter_t *it, cp_metadata_t *m, const hw_path_t *up, uint32_t flags, bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "readingTime")) {
         r = hw_field_number (it, &m->readingTime, &m->has_readingTime, &p, error);
      } else if (KEY_IS (k, kl, "wordCount")) {
         r = hw_field_number (it, &m->wordCount, &m->has_wordCount, &p, error);
      } else if (KEY_IS (k, kl, "featured")) {
         r = hw_field_bool (it, &m->featured, &m->has_featured, &p, error);
      } else if (KEY_IS (k, kl, "pinned")) {
         r = hw_field_bool (it, &m->pinned, &m->has_pinned, &p, error);
      } else {
         r = hw_unknown (it, &m->_extra, k, kl, flags, "odm_community_post_metadata_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cp_decode_attachment (bson_iter_t *it, void *elem, const hw_path_t *up, uint32_t flags, bson_error_t *error)
{
   cp_attachment_t *a = elem;
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &a->_id, &a->has__id, &p, error);
      } else if (KEY_IS (k, kl, "type")) {
         r = hw_field_string (it, &a->type, &a->has_type, &p, error);
      } else if (KEY_IS (k, kl, "url")) {
         r = hw_field_string (it, &a->url, &a->has_url, &p, error);
      } else if (KEY_IS (k, kl, "name")) {
         r = hw_field_string (it, &a->name, &a->has_name, &p, error);
      } else if (KEY_IS (k, kl, "size")) {
         r = hw_field_number (it, &a->size, &a->has_size, &p, error);
      } else {
         r = hw_unknown (it, &a->_extra, k, kl, flags, "odm_community_post_attachment_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cp_decode_doc (bson_iter_t *it, odm_community_post_t *d, uint32_t flags, bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {NULL, k, kl};
      bson_iter_t child;
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &d->_id, &d->has__id, &p, error);
      } else if (KEY_IS (k, kl, "authorId")) {
         r = hw_field_oid (it, &d->authorId, &d->has_authorId, &p, error);
      } else if (KEY_IS (k, kl, "title")) {
         r = hw_field_string (it, &d->title, &d->has_title, &p, error);
      } else if (KEY_IS (k, kl, "content")) {
         r = hw_field_string (it, &d->content, &d->has_content, &p, error);
      } else if (KEY_IS (k, kl, "excerpt")) {
         r = hw_field_string (it, &d->excerpt, &d->has_excerpt, &p, error);
      } else if (KEY_IS (k, kl, "tags")) {
         r = hw_field_string_array (it, &d->tags.items, &d->tags.count, &d->has_tags, &p, error);
      } else if (KEY_IS (k, kl, "category")) {
         r = hw_field_string (it, &d->category, &d->has_category, &p, error);
      } else if (KEY_IS (k, kl, "status")) {
         r = hw_field_string (it, &d->status, &d->has_status, &p, error);
      } else if (KEY_IS (k, kl, "visibility")) {
         r = hw_field_string (it, &d->visibility, &d->has_visibility, &p, error);
      } else if (KEY_IS (k, kl, "stats")) {
         r = hw_field_object (it, &child, &d->has_stats, &p, error);
         if (r > 0 && !cp_decode_stats (&child, &d->stats, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "metadata")) {
         r = hw_field_object (it, &child, &d->has_metadata, &p, error);
         if (r > 0 && !cp_decode_metadata (&child, &d->metadata, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "attachments")) {
         void *items = NULL;
         r = hw_array_begin (it, &child, &d->has_attachments, sizeof *d->attachments.items, &items,
                          &d->attachments.count, &p, error);
         if (r > 0) {
            d->attachments.items = items; /* attached first: a failure part-way is freed by the cleanup */
         }
         if (r > 0 && !hw_object_elements (&child, items, sizeof *d->attachments.items, cp_decode_attachment, &p, flags,
                                        error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "publishedAt")) {
         r = hw_field_date (it, &d->publishedAt, &d->has_publishedAt, &p, error);
      } else if (KEY_IS (k, kl, "createdAt")) {
         r = hw_field_date (it, &d->createdAt, &d->has_createdAt, &p, error);
      } else if (KEY_IS (k, kl, "updatedAt")) {
         r = hw_field_date (it, &d->updatedAt, &d->has_updatedAt, &p, error);
      } else {
         r = hw_unknown (it, &d->_extra, k, kl, flags, "odm_community_post_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
cp_decode (const bson_t *in, void *doc, uint32_t flags, bson_error_t *error)
{
   odm_community_post_t *d = doc;
   bson_iter_t it;

   memset (d, 0, sizeof *d);
   if (!hw_decode_start (in, &it, error)) {
      return false;
   }
   if (!cp_decode_doc (&it, d, flags, error)) {
      odm_community_post_cleanup (d);
      return false;
   }
   return true;
}

static void
cp_validate_into (const odm_community_post_t *d, odm_violations_t *out)
{
   static const hw_path_t tags = {NULL, "tags", 4}, stats = {NULL, "stats", 5}, metadata = {NULL, "metadata", 8},
                          attachments = {NULL, "attachments", 11};
   size_t k;

   hw_required (out, d->has_authorId != ODM_PRESENT, NULL, "authorId");
   hw_required (out, !d->title || !*d->title, NULL, "title");
   hw_check_maxlength (out, d->title, 200, NULL, "title", NULL);
   hw_required (out, !d->content || !*d->content, NULL, "content");
   hw_check_maxlength (out, d->excerpt, 300, NULL, "excerpt", "Excerpt cannot exceed 300 characters");
   for (k = 0; k < d->tags.count; k++) {
      hw_path_t e = {&tags, NULL, k};
      hw_check_maxlength (out, d->tags.items[k], 50, &e, NULL, NULL);
   }
   hw_required (out, !d->category || !*d->category, NULL, "category");
   hw_check_enum (out, d->category, cp_categories, 5, NULL, "category");
   hw_check_enum (out, d->status, cp_statuses, 4, NULL, "status");
   hw_check_enum (out, d->visibility, cp_visibilities, 3, NULL, "visibility");
   /* stats and metadata have no required field: no presence test needed (see chat_sessions). */
   hw_check_number (out, d->stats.has_views, d->stats.views, &stats, "views");
   hw_check_number (out, d->stats.has_likes, d->stats.likes, &stats, "likes");
   hw_check_number (out, d->stats.has_comments, d->stats.comments, &stats, "comments");
   hw_check_number (out, d->stats.has_shares, d->stats.shares, &stats, "shares");
   hw_check_number (out, d->metadata.has_readingTime, d->metadata.readingTime, &metadata, "readingTime");
   hw_check_number (out, d->metadata.has_wordCount, d->metadata.wordCount, &metadata, "wordCount");
   for (k = 0; k < d->attachments.count; k++) {
      const cp_attachment_t *a = &d->attachments.items[k];
      hw_path_t e = {&attachments, NULL, k};
      hw_check_enum (out, a->type, cp_attachment_types, 3, &e, "type");
      hw_required (out, !a->url || !*a->url, &e, "url");
      hw_required (out, !a->name || !*a->name, &e, "name");
      hw_check_number (out, a->has_size, a->size, &e, "size");
   }
}

static bool
cp_validate (const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_violations_t local;
   (void) opts;
   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   cp_validate_into (doc, out);
   return hw_validate_finish (out, &local);
}

static bool
cp_prepare (void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_community_post_t *d = doc;
   odm_violations_t local;
   int64_t now;
   size_t k;

   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   now = hw_clock_of (opts);
   hw_default_id (&d->_id, &d->has__id);
   hw_default_array (&d->has_tags);
   hw_default_string (&d->status, &d->has_status, "draft");
   hw_default_string (&d->visibility, &d->has_visibility, "public");
   if (d->has_stats != ODM_NULL) {
      hw_default_number (&d->stats.views, &d->stats.has_views, 0);
      hw_default_number (&d->stats.likes, &d->stats.has_likes, 0);
      hw_default_number (&d->stats.comments, &d->stats.has_comments, 0);
      hw_default_number (&d->stats.shares, &d->stats.has_shares, 0);
   }
   if (d->has_metadata != ODM_NULL) {
      if (d->metadata.has_featured == ODM_ABSENT) {
         d->metadata.featured = false;
         d->metadata.has_featured = ODM_PRESENT;
      }
      if (d->metadata.has_pinned == ODM_ABSENT) {
         d->metadata.pinned = false;
         d->metadata.has_pinned = ODM_PRESENT;
      }
   }
   hw_default_array (&d->has_attachments);
   for (k = 0; k < d->attachments.count; k++) {
      hw_default_id (&d->attachments.items[k]._id, &d->attachments.items[k].has__id);
   }
   /* The hook: a published post gets its publishedAt. */
   if (d->status && strcmp (d->status, "published") == 0 && d->has_publishedAt != ODM_PRESENT) {
      d->publishedAt = now;
      d->has_publishedAt = ODM_PRESENT;
   }
   hw_timestamps (&d->createdAt, &d->has_createdAt, &d->updatedAt, &d->has_updatedAt, opts, now);
   cp_validate_into (d, out);
   return hw_validate_finish (out, &local);
}

#endif /* ODM_BENCH_HAVE_COMMUNITY_POSTS */

/* ===================================================== support_tickets (arrays of subdocs) */
#ifdef ODM_BENCH_HAVE_SUPPORT_TICKETS

static const char *const st_categories[] = {"technical", "billing", "account", "feature_request", "bug_report"};
static const char *const st_priorities[] = {"low", "medium", "high", "urgent"};
static const char *const st_statuses[] = {"open", "in_progress", "waiting_for_customer", "resolved", "closed"};
static const char *const st_author_types[] = {"customer", "agent"};

static bool
st_metadata_content (const odm_support_ticket_metadata_t *m)
{
   return m->_extra || m->browser || m->has_browser == ODM_NULL || m->os || m->has_os == ODM_NULL || m->userAgent ||
          m->has_userAgent == ODM_NULL || m->ipAddress || m->has_ipAddress == ODM_NULL;
}

static bool
st_resolution_content (const odm_support_ticket_resolution_t *r)
{
   return r->_extra || r->summary || r->has_summary == ODM_NULL || r->has_resolvedBy || r->has_resolvedAt;
}

static bool
st_satisfaction_content (const odm_support_ticket_satisfaction_t *s)
{
   return s->_extra || s->has_rating || s->feedback || s->has_feedback == ODM_NULL;
}

static bool
st_encode_attachment (bson_t *out, const odm_support_ticket_message_attachment_t *a)
{
   return hw_opt_oid (out, K ("_id"), a->has__id, &a->_id) && hw_opt_string (out, K ("name"), a->has_name, a->name) &&
          hw_opt_string (out, K ("url"), a->has_url, a->url) && hw_opt_number (out, K ("size"), a->has_size, a->size) &&
          (!a->_extra || bson_concat (out, a->_extra));
}

static bool
st_encode_message (bson_t *out, const odm_support_ticket_message_t *m)
{
   bool ok, write;

   ok = hw_opt_oid (out, K ("_id"), m->has__id, &m->_id) && hw_opt_oid (out, K ("authorId"), m->has_authorId, &m->authorId) &&
        hw_opt_string (out, K ("authorType"), m->has_authorType, m->authorType) &&
        hw_opt_string (out, K ("message"), m->has_message, m->message);
   if (ok && hw_opt_container (out, K ("attachments"), m->has_attachments, m->attachments.count > 0, &write) && write) {
      bson_t arr, el;
      size_t k;
      ok = bson_append_array_begin (out, K ("attachments"), &arr);
      for (k = 0; ok && k < m->attachments.count; k++) {
         char buf[16];
         const char *ik;
         size_t ikl = bson_uint32_to_string ((uint32_t) k, &ik, buf, sizeof buf);
         ok = bson_append_document_begin (&arr, ik, (int) ikl, &el);
         ok = ok && st_encode_attachment (&el, &m->attachments.items[k]);
         ok = bson_append_document_end (&arr, &el) && ok;
      }
      ok = bson_append_array_end (out, &arr) && ok;
   }
   return ok && hw_opt_date (out, K ("createdAt"), m->has_createdAt, m->createdAt) &&
          (!m->_extra || bson_concat (out, m->_extra));
}

static bool
st_encode_doc (const odm_support_ticket_t *d, bson_t *out)
{
   bson_t child;
   bool ok, write;

   ok = hw_opt_oid (out, K ("_id"), d->has__id, &d->_id) && hw_opt_string (out, K ("ticketId"), d->has_ticketId, d->ticketId) &&
        hw_opt_oid (out, K ("requesterId"), d->has_requesterId, &d->requesterId) &&
        hw_opt_oid (out, K ("assigneeId"), d->has_assigneeId, &d->assigneeId) &&
        hw_opt_string (out, K ("subject"), d->has_subject, d->subject) &&
        hw_opt_string (out, K ("description"), d->has_description, d->description) &&
        hw_opt_string (out, K ("category"), d->has_category, d->category) &&
        hw_opt_string (out, K ("priority"), d->has_priority, d->priority) &&
        hw_opt_string (out, K ("status"), d->has_status, d->status) &&
        hw_opt_string_array (out, K ("tags"), d->has_tags, d->tags.items, d->tags.count);
   if (ok && hw_opt_container (out, K ("metadata"), d->has_metadata, st_metadata_content (&d->metadata), &write) &&
       write) {
      const odm_support_ticket_metadata_t *m = &d->metadata;
      ok = bson_append_document_begin (out, K ("metadata"), &child);
      ok = ok && hw_opt_string (&child, K ("browser"), m->has_browser, m->browser) &&
           hw_opt_string (&child, K ("os"), m->has_os, m->os) &&
           hw_opt_string (&child, K ("userAgent"), m->has_userAgent, m->userAgent) &&
           hw_opt_string (&child, K ("ipAddress"), m->has_ipAddress, m->ipAddress) &&
           (!m->_extra || bson_concat (&child, m->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   if (ok && hw_opt_container (out, K ("conversation"), d->has_conversation, d->conversation.count > 0, &write) && write) {
      bson_t arr, el;
      size_t k;
      ok = bson_append_array_begin (out, K ("conversation"), &arr);
      for (k = 0; ok && k < d->conversation.count; k++) {
         char buf[16];
         const char *ik;
         size_t ikl = bson_uint32_to_string ((uint32_t) k, &ik, buf, sizeof buf);
         ok = bson_append_document_begin (&arr, ik, (int) ikl, &el);
         ok = ok && st_encode_message (&el, &d->conversation.items[k]);
         ok = bson_append_document_end (&arr, &el) && ok;
      }
      ok = bson_append_array_end (out, &arr) && ok;
   }
   if (ok && hw_opt_container (out, K ("resolution"), d->has_resolution, st_resolution_content (&d->resolution), &write) &&
       write) {
      const odm_support_ticket_resolution_t *r = &d->resolution;
      ok = bson_append_document_begin (out, K ("resolution"), &child);
      ok = ok && hw_opt_string (&child, K ("summary"), r->has_summary, r->summary) &&
           hw_opt_oid (&child, K ("resolvedBy"), r->has_resolvedBy, &r->resolvedBy) &&
           hw_opt_date (&child, K ("resolvedAt"), r->has_resolvedAt, r->resolvedAt) &&
           (!r->_extra || bson_concat (&child, r->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   if (ok &&
       hw_opt_container (out, K ("satisfaction"), d->has_satisfaction, st_satisfaction_content (&d->satisfaction), &write) &&
       write) {
      const odm_support_ticket_satisfaction_t *s = &d->satisfaction;
      ok = bson_append_document_begin (out, K ("satisfaction"), &child);
      ok = ok && hw_opt_number (&child, K ("rating"), s->has_rating, s->rating) &&
           hw_opt_string (&child, K ("feedback"), s->has_feedback, s->feedback) &&
           (!s->_extra || bson_concat (&child, s->_extra));
      ok = bson_append_document_end (out, &child) && ok;
   }
   return ok && hw_opt_date (out, K ("createdAt"), d->has_createdAt, d->createdAt) &&
          hw_opt_date (out, K ("updatedAt"), d->has_updatedAt, d->updatedAt) &&
          (!d->_extra || bson_concat (out, d->_extra));
}

static bool
st_encode (const void *doc, bson_t *out, bson_error_t *error)
{
   bson_init (out);
   if (!doc) {
      return hw_fail (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema or document is NULL");
   }
   return hw_encode_finish (st_encode_doc (doc, out), "support_tickets", out, error);
}

static bool
st_decode_metadata (bson_iter_t *it, odm_support_ticket_metadata_t *m, const hw_path_t *up, uint32_t flags,
                    bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "browser")) {
         r = hw_field_string (it, &m->browser, &m->has_browser, &p, error);
      } else if (KEY_IS (k, kl, "os")) {
         r = hw_field_string (it, &m->os, &m->has_os, &p, error);
      } else if (KEY_IS (k, kl, "userAgent")) {
         r = hw_field_string (it, &m->userAgent, &m->has_userAgent, &p, error);
      } else if (KEY_IS (k, kl, "ipAddress")) {
         r = hw_field_string (it, &m->ipAddress, &m->has_ipAddress, &p, error);
      } else {
         r = hw_unknown (it, &m->_extra, k, kl, flags, "odm_support_ticket_metadata_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode_attachment (bson_iter_t *it, void *elem, const hw_path_t *up, uint32_t flags, bson_error_t *error)
{
   odm_support_ticket_message_attachment_t *a = elem;
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &a->_id, &a->has__id, &p, error);
      } else if (KEY_IS (k, kl, "name")) {
         r = hw_field_string (it, &a->name, &a->has_name, &p, error);
      } else if (KEY_IS (k, kl, "url")) {
         r = hw_field_string (it, &a->url, &a->has_url, &p, error);
      } else if (KEY_IS (k, kl, "size")) {
         r = hw_field_number (it, &a->size, &a->has_size, &p, error);
      } else {
         r = hw_unknown (it, &a->_extra, k, kl, flags, "odm_support_ticket_message_attachment_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode_message (bson_iter_t *it, void *elem, const hw_path_t *up, uint32_t flags, bson_error_t *error)
{
   odm_support_ticket_message_t *m = elem;
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &m->_id, &m->has__id, &p, error);
      } else if (KEY_IS (k, kl, "authorId")) {
         r = hw_field_oid (it, &m->authorId, &m->has_authorId, &p, error);
      } else if (KEY_IS (k, kl, "authorType")) {
         r = hw_field_string (it, &m->authorType, &m->has_authorType, &p, error);
      } else if (KEY_IS (k, kl, "message")) {
         r = hw_field_string (it, &m->message, &m->has_message, &p, error);
      } else if (KEY_IS (k, kl, "attachments")) {
         bson_iter_t child;
         void *items = NULL;
         r = hw_array_begin (it, &child, &m->has_attachments, sizeof *m->attachments.items, &items,
                          &m->attachments.count, &p, error);
         if (r > 0) {
            m->attachments.items = items; /* attached first: a failure part-way is freed by the cleanup */
         }
         if (r > 0 && !hw_object_elements (&child, items, sizeof *m->attachments.items, st_decode_attachment, &p, flags,
                                        error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "createdAt")) {
         r = hw_field_date (it, &m->createdAt, &m->has_createdAt, &p, error);
      } else {
         r = hw_unknown (it, &m->_extra, k, kl, flags, "odm_support_ticket_message_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode_resolution (bson_iter_t *it, odm_support_ticket_resolution_t *res, const hw_path_t *up, uint32_t flags,
                      bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "summary")) {
         r = hw_field_string (it, &res->summary, &res->has_summary, &p, error);
      } else if (KEY_IS (k, kl, "resolvedBy")) {
         r = hw_field_oid (it, &res->resolvedBy, &res->has_resolvedBy, &p, error);
      } else if (KEY_IS (k, kl, "resolvedAt")) {
         r = hw_field_date (it, &res->resolvedAt, &res->has_resolvedAt, &p, error);
      } else {
         r = hw_unknown (it, &res->_extra, k, kl, flags, "odm_support_ticket_resolution_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode_satisfaction (bson_iter_t *it, odm_support_ticket_satisfaction_t *s, const hw_path_t *up, uint32_t flags,
                        bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {up, k, kl};
      int r;
      if (KEY_IS (k, kl, "rating")) {
         r = hw_field_number (it, &s->rating, &s->has_rating, &p, error);
      } else if (KEY_IS (k, kl, "feedback")) {
         r = hw_field_string (it, &s->feedback, &s->has_feedback, &p, error);
      } else {
         r = hw_unknown (it, &s->_extra, k, kl, flags, "odm_support_ticket_satisfaction_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode_doc (bson_iter_t *it, odm_support_ticket_t *d, uint32_t flags, bson_error_t *error)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      uint32_t kl = bson_iter_key_len (it);
      hw_path_t p = {NULL, k, kl};
      bson_iter_t child;
      int r;
      if (KEY_IS (k, kl, "_id")) {
         r = hw_field_oid (it, &d->_id, &d->has__id, &p, error);
      } else if (KEY_IS (k, kl, "ticketId")) {
         r = hw_field_string (it, &d->ticketId, &d->has_ticketId, &p, error);
      } else if (KEY_IS (k, kl, "requesterId")) {
         r = hw_field_oid (it, &d->requesterId, &d->has_requesterId, &p, error);
      } else if (KEY_IS (k, kl, "assigneeId")) {
         r = hw_field_oid (it, &d->assigneeId, &d->has_assigneeId, &p, error);
      } else if (KEY_IS (k, kl, "subject")) {
         r = hw_field_string (it, &d->subject, &d->has_subject, &p, error);
      } else if (KEY_IS (k, kl, "description")) {
         r = hw_field_string (it, &d->description, &d->has_description, &p, error);
      } else if (KEY_IS (k, kl, "category")) {
         r = hw_field_string (it, &d->category, &d->has_category, &p, error);
      } else if (KEY_IS (k, kl, "priority")) {
         r = hw_field_string (it, &d->priority, &d->has_priority, &p, error);
      } else if (KEY_IS (k, kl, "status")) {
         r = hw_field_string (it, &d->status, &d->has_status, &p, error);
      } else if (KEY_IS (k, kl, "tags")) {
         r = hw_field_string_array (it, &d->tags.items, &d->tags.count, &d->has_tags, &p, error);
      } else if (KEY_IS (k, kl, "metadata")) {
         r = hw_field_object (it, &child, &d->has_metadata, &p, error);
         if (r > 0 && !st_decode_metadata (&child, &d->metadata, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "conversation")) {
         void *items = NULL;
         r = hw_array_begin (it, &child, &d->has_conversation, sizeof *d->conversation.items, &items,
                          &d->conversation.count, &p, error);
         if (r > 0) {
            d->conversation.items = items; /* attached first: a failure part-way is freed by the cleanup */
         }
         if (r > 0 && !hw_object_elements (&child, items, sizeof *d->conversation.items, st_decode_message, &p, flags,
                                        error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "resolution")) {
         r = hw_field_object (it, &child, &d->has_resolution, &p, error);
         if (r > 0 && !st_decode_resolution (&child, &d->resolution, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "satisfaction")) {
         r = hw_field_object (it, &child, &d->has_satisfaction, &p, error);
         if (r > 0 && !st_decode_satisfaction (&child, &d->satisfaction, &p, flags, error)) {
            r = -1;
         }
      } else if (KEY_IS (k, kl, "createdAt")) {
         r = hw_field_date (it, &d->createdAt, &d->has_createdAt, &p, error);
      } else if (KEY_IS (k, kl, "updatedAt")) {
         r = hw_field_date (it, &d->updatedAt, &d->has_updatedAt, &p, error);
      } else {
         r = hw_unknown (it, &d->_extra, k, kl, flags, "odm_support_ticket_t", &p, error);
      }
      if (r < 0) {
         return false;
      }
   }
   return true;
}

static bool
st_decode (const bson_t *in, void *doc, uint32_t flags, bson_error_t *error)
{
   odm_support_ticket_t *d = doc;
   bson_iter_t it;

   memset (d, 0, sizeof *d);
   if (!hw_decode_start (in, &it, error)) {
      return false;
   }
   if (!st_decode_doc (&it, d, flags, error)) {
      odm_support_ticket_cleanup (d);
      return false;
   }
   return true;
}

static void
st_validate_into (const odm_support_ticket_t *d, odm_violations_t *out)
{
   static const hw_path_t tags = {NULL, "tags", 4}, conversation = {NULL, "conversation", 12},
                          resolution = {NULL, "resolution", 10}, satisfaction = {NULL, "satisfaction", 12};
   static const char rating_msg[] = "Satisfaction rating must be between 1 and 5";
   size_t k, j;

   hw_required (out, !d->ticketId || !*d->ticketId, NULL, "ticketId");
   hw_required (out, d->has_requesterId != ODM_PRESENT, NULL, "requesterId");
   hw_required (out, !d->subject || !*d->subject, NULL, "subject");
   hw_check_maxlength (out, d->subject, 200, NULL, "subject", NULL);
   hw_required (out, !d->description || !*d->description, NULL, "description");
   hw_check_maxlength (out, d->description, 2000, NULL, "description", NULL);
   hw_required (out, !d->category || !*d->category, NULL, "category");
   hw_check_enum (out, d->category, st_categories, 5, NULL, "category");
   hw_check_enum (out, d->priority, st_priorities, 4, NULL, "priority");
   hw_check_enum (out, d->status, st_statuses, 5, NULL, "status");
   for (k = 0; k < d->tags.count; k++) {
      hw_path_t e = {&tags, NULL, k};
      hw_check_maxlength (out, d->tags.items[k], 50, &e, NULL, NULL);
   }
   for (k = 0; k < d->conversation.count; k++) {
      const odm_support_ticket_message_t *m = &d->conversation.items[k];
      hw_path_t e = {&conversation, NULL, k};
      hw_path_t atts = {&e, "attachments", 11};
      hw_required (out, m->has_authorId != ODM_PRESENT, &e, "authorId");
      hw_required (out, !m->authorType || !*m->authorType, &e, "authorType");
      hw_check_enum (out, m->authorType, st_author_types, 2, &e, "authorType");
      hw_required (out, !m->message || !*m->message, &e, "message");
      for (j = 0; j < m->attachments.count; j++) {
         const odm_support_ticket_message_attachment_t *a = &m->attachments.items[j];
         hw_path_t ae = {&atts, NULL, j};
         hw_required (out, !a->name || !*a->name, &ae, "name");
         hw_required (out, !a->url || !*a->url, &ae, "url");
         hw_check_number (out, a->has_size, a->size, &ae, "size");
      }
   }
   /* resolution and satisfaction have no required field: no presence test needed. */
   hw_check_maxlength (out, d->resolution.summary, 500, &resolution, "summary", NULL);
   hw_check_range (out, d->satisfaction.has_rating, d->satisfaction.rating, 1, 5, rating_msg, &satisfaction, "rating");
   hw_check_maxlength (out, d->satisfaction.feedback, 500, &satisfaction, "feedback", NULL);
}

static bool
st_validate (const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_violations_t local;
   (void) opts;
   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   st_validate_into (doc, out);
   return hw_validate_finish (out, &local);
}

static bool
st_prepare (void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_support_ticket_t *d = doc;
   odm_violations_t local;
   int64_t now;
   size_t k, j;

   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   now = hw_clock_of (opts);
   hw_default_id (&d->_id, &d->has__id);
   hw_default_string (&d->priority, &d->has_priority, "medium");
   hw_default_string (&d->status, &d->has_status, "open");
   hw_default_array (&d->has_tags);
   hw_default_array (&d->has_conversation);
   for (k = 0; k < d->conversation.count; k++) {
      odm_support_ticket_message_t *m = &d->conversation.items[k];
      hw_default_id (&m->_id, &m->has__id);
      hw_default_array (&m->has_attachments);
      for (j = 0; j < m->attachments.count; j++) {
         hw_default_id (&m->attachments.items[j]._id, &m->attachments.items[j].has__id);
      }
      hw_default_date (&m->createdAt, &m->has_createdAt, now);
   }
   /* The hook: a resolved ticket gets its resolvedAt. */
   if (d->status && strcmp (d->status, "resolved") == 0 && d->resolution.has_resolvedAt != ODM_PRESENT) {
      d->resolution.resolvedAt = now;
      d->resolution.has_resolvedAt = ODM_PRESENT;
   }
   hw_timestamps (&d->createdAt, &d->has_createdAt, &d->updatedAt, &d->has_updatedAt, opts, now);
   st_validate_into (d, out);
   return hw_validate_finish (out, &local);
}

#endif /* ODM_BENCH_HAVE_SUPPORT_TICKETS */

/* ====================================================================== registry */

static const odm_bench_hand_t hands[] = {
#ifdef ODM_BENCH_HAVE_CHAT_SESSIONS
   {"chat_sessions", cs_encode, cs_decode, cs_validate, cs_prepare},
#endif
#ifdef ODM_BENCH_HAVE_COMMUNITY_POSTS
   {"community_posts", cp_encode, cp_decode, cp_validate, cp_prepare},
#endif
#ifdef ODM_BENCH_HAVE_SUPPORT_TICKETS
   {"support_tickets", st_encode, st_decode, st_validate, st_prepare},
#endif
   {NULL, NULL, NULL, NULL, NULL},
};

const odm_bench_hand_t *
odm_bench_hand_find (const char *collection)
{
   const odm_bench_hand_t *h;
   for (h = hands; h->collection; h++) {
      if (strcmp (h->collection, collection) == 0) {
         return h;
      }
   }
   return NULL;
}
