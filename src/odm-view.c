/* libodm: zero-copy views over stored BSON (odm-view.h).
 *
 * odm_view_init walks the bytes once, guided by the schema: every typed field's BSON type,
 * every string's UTF-8 (odm-scan.h's odm_scan_text), dates, int64 numbers, duplicates and
 * keys (matched to fields with odm-scan.h's scans, as decode matches them). An
 * object that holds a mixed value or an unknown field has its bytes checked by the
 * decoder's own byte check (odm_bson_check_at), as decode checks them. Refusals are
 * reported by the copying decode itself, so that the error (code, path, message) is
 * exactly odm_from_bson's; that is the only path that allocates. The accessors then read
 * the checked bytes without checking them again. */
#include "odm-private.h"
#include "odm-scan.h"

#include <string.h>

/* ------------------------------------------------------------ raw bytes */

static uint32_t
rd32 (const uint8_t *p)
{
   uint32_t v;
   memcpy (&v, p, sizeof v);
   return BSON_UINT32_FROM_LE (v);
}

static int64_t
rd64 (const uint8_t *p)
{
   uint64_t v;
   memcpy (&v, p, sizeof v);
   return (int64_t) BSON_UINT64_FROM_LE (v);
}

static double
rdd (const uint8_t *p)
{
   uint64_t v;
   double d;
   memcpy (&v, p, sizeof v);
   v = BSON_UINT64_FROM_LE (v);
   memcpy (&d, &v, sizeof d);
   return d;
}

/* The size of a value of a type stored documents seldom hold, at P, in bytes that
 * odm_view_init has checked. */
static uint32_t
rare_value_size (uint8_t t, const uint8_t *p)
{
   switch (t) {
   case BSON_TYPE_CODE:
   case BSON_TYPE_SYMBOL:
      return 4 + rd32 (p);
   case BSON_TYPE_CODEWSCOPE:
      return rd32 (p);
   case BSON_TYPE_BINARY:
      return 5 + rd32 (p);
   case BSON_TYPE_REGEX: {
      size_t a = strlen ((const char *) p) + 1;
      return (uint32_t) (a + strlen ((const char *) p + a) + 1);
   }
   case BSON_TYPE_DBPOINTER:
      return 4 + rd32 (p) + 12;
   default: /* undefined, null, minKey, maxKey */
      return 0;
   }
}

/* The size of a value of type T at P, in bytes that odm_view_init has checked: strings,
 * documents, arrays and the fixed-size types without a jump table (a switch's target
 * changes with the type of nearly every value: callgrind's branch simulation counted
 * three mispredictions per mixed document here). */
static inline uint32_t
value_size (uint8_t t, const uint8_t *p)
{
   uint32_t n;
   if (t == BSON_TYPE_UTF8) {
      return 4 + rd32 (p);
   }
   if ((n = odm_bson_fixed_size (t))) {
      return n;
   }
   if (t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY) {
      return rd32 (p);
   }
   return rare_value_size (t, p);
}

/* Points VIEW at checked bytes and fills its table in one walk over the elements. */
static void
view_fill (odm_view_t *v, const odm_object_desc_t *d, const uint8_t *data, uint32_t len)
{
   uint32_t o = 4, next = 0;
   v->desc = d;
   v->data = data;
   v->len = len;
   /* absent fields: a fixed-size clear is a few stores, a loop over the fields a branch each */
   memset (v->at, 0, sizeof v->at);
   while (o < len - 1) {
      uint8_t t = data[o];
      uint32_t kl;
      const odm_field_t *f = NULL;
#if defined(__SSE2__)
      if ((d->flags & ODM_O_PADDED_NAMES) && len - o - 1 >= 16 && (f = odm_scan_field_nul (d, &next, data + o + 1))) {
         kl = f->name_len; /* as in fast_object */
      } else
#endif
      {
         kl = odm_scan_key_len (data + o + 1, len - o - 1);
         f = odm_scan_field (d, &next, data + o + 1, kl, len - o - 1);
      }
      if (f && next - 1 < ODM_VIEW_MAX_FIELDS) {
         v->at[next - 1] = o;
      }
      o += 1 + kl + 1;
      o += value_size (t, data + o);
   }
}

static void
view_empty (odm_view_t *v, const odm_object_desc_t *d)
{
   static const uint8_t empty[5] = {5, 0, 0, 0, 0};
   memset (v, 0, sizeof *v);
   v->desc = d;
   v->data = empty;
   v->len = sizeof empty;
}

/* --------------------------------------------------------------- the check */

/* The walk keeps no path: a refusal is reported by the copying decode (report ()), which
 * names it; the walk's own reason is only the fallback. */
typedef struct {
   uint32_t flags;
   const uint8_t *end; /* of the whole input: what may be read past an object's end */
   bson_error_t error;
} vctx_t;

static bool
vfail (vctx_t *c, uint32_t code, const char *msg)
{
   odm_set_error (&c->error, code, NULL, "%s", msg);
   return false;
}

/* The unknown keys of one object, to refuse one seen twice. Slots start on the stack;
 * only an object with more than 32 unknown fields takes the heap. */
#define VKEYS_INLINE 64
typedef struct {
   const char *key;
   size_t len;
} vkey_t;
typedef struct {
   vkey_t inline_slots[VKEYS_INLINE];
   vkey_t *slots;
   size_t cap, count;
} vkeys_t;

static size_t
vkey_hash (const char *k, size_t len)
{
   uint64_t h = UINT64_C (1469598103934665603);
   size_t i;
   for (i = 0; i < len; i++) {
      h = (h ^ (unsigned char) k[i]) * UINT64_C (1099511628211);
   }
   return (size_t) h;
}

static bool vkeys_add (vkeys_t *s, const char *key, size_t len);

static void
vkeys_grow (vkeys_t *s)
{
   vkey_t *old = s->slots;
   size_t old_cap = s->cap, i;
   s->cap = old_cap * 2;
   s->slots = bson_malloc0 (s->cap * sizeof *s->slots);
   s->count = 0;
   for (i = 0; i < old_cap; i++) {
      if (old[i].key) {
         vkeys_add (s, old[i].key, old[i].len);
      }
   }
   if (old != s->inline_slots) {
      bson_free (old);
   }
}

/* False when KEY was already there. */
static bool
vkeys_add (vkeys_t *s, const char *key, size_t len)
{
   size_t i;
   if (!s->slots) {
      memset (s->inline_slots, 0, sizeof s->inline_slots);
      s->slots = s->inline_slots;
      s->cap = VKEYS_INLINE;
   }
   if ((s->count + 1) * 2 > s->cap) {
      vkeys_grow (s);
   }
   for (i = vkey_hash (key, len) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
      vkey_t *k = &s->slots[i];
      if (!k->key) {
         k->key = key;
         k->len = len;
         s->count++;
         return true;
      }
      if (k->len == len && memcmp (k->key, key, len) == 0) {
         return false;
      }
   }
}

static void
vkeys_free (vkeys_t *s)
{
   if (s->slots && s->slots != s->inline_slots) {
      bson_free (s->slots);
   }
}

/* Decode keeps raw values' arrays as they are: their keys must be 0, 1, ... */
static bool
raw_keys_ok (bson_iter_t *it, vctx_t *c)
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
   return data && odm_bson_check_at (data, len, NULL, 0, flags, &c->error);
}

static bool check_object (const odm_object_desc_t *d, const uint8_t *data, uint32_t len, int depth, uint32_t *at,
                          vctx_t *c);

/* One value of F's kind (not null); DEPTH is the level of the object holding it. */
static bool
check_value (const odm_field_t *f, bson_iter_t *it, int depth, vctx_t *c)
{
   bson_type_t t = bson_iter_type (it);
   switch (f->kind) {
   case ODM_KIND_STRING: {
      uint32_t n = 0;
      const char *s;
      if (t != BSON_TYPE_UTF8) {
         return vfail (c, ODM_ERROR_TYPE, "expected string");
      }
      s = bson_iter_utf8 (it, &n);
      return odm_utf8_valid (s, n) || vfail (c, ODM_ERROR_CORRUPT_BSON, "string is not valid UTF-8");
   }
   case ODM_KIND_NUMBER:
      if (t == BSON_TYPE_INT64) {
         int64_t v = bson_iter_int64 (it);
         return (v <= (INT64_C (1) << 53) && v >= -(INT64_C (1) << 53)) ||
                vfail (c, ODM_ERROR_RANGE, "long cannot be held exactly by a number");
      }
      return t == BSON_TYPE_DOUBLE || t == BSON_TYPE_INT32 || vfail (c, ODM_ERROR_TYPE, "expected number");
   case ODM_KIND_BOOL:
      return t == BSON_TYPE_BOOL || vfail (c, ODM_ERROR_TYPE, "expected boolean");
   case ODM_KIND_DATE:
      if (t != BSON_TYPE_DATE_TIME) {
         return vfail (c, ODM_ERROR_TYPE, "expected date");
      }
      return odm_date_in_range (bson_iter_date_time (it)) || vfail (c, ODM_ERROR_RANGE, "date out of range");
   case ODM_KIND_OID:
      return t == BSON_TYPE_OID || vfail (c, ODM_ERROR_TYPE, "expected objectId");
   case ODM_KIND_MIXED:
      return raw_keys_ok (it, c); /* the bytes: the holding object's byte check */
   case ODM_KIND_OBJECT: {
      const uint8_t *data = NULL;
      uint32_t len = 0;
      uint32_t at[ODM_VIEW_MAX_FIELDS];
      if (t != BSON_TYPE_DOCUMENT) {
         return vfail (c, ODM_ERROR_TYPE, "expected object");
      }
      if (depth + 1 > ODM_MAX_DEPTH) {
         return vfail (c, ODM_ERROR_RANGE, "nesting is deeper than 100 levels");
      }
      bson_iter_document (it, &len, &data);
      if (!data || len < 5 || data[len - 1] != 0) {
         return vfail (c, ODM_ERROR_CORRUPT_BSON, "corrupt subdocument");
      }
      return check_object (f->object, data, len, depth + 1, at, c);
   }
   default:
      return vfail (c, ODM_ERROR_TYPE, "unknown kind");
   }
}

static bool
check_array (const odm_field_t *f, bson_iter_t *it, int depth, vctx_t *c)
{
   bson_iter_t child;
   const uint8_t *data = NULL;
   uint32_t len = 0;

   if (bson_iter_type (it) != BSON_TYPE_ARRAY) {
      return vfail (c, ODM_ERROR_TYPE, "expected array");
   }
   if (depth + 1 > ODM_MAX_DEPTH) {
      return vfail (c, ODM_ERROR_RANGE, "nesting is deeper than 100 levels");
   }
   bson_iter_array (it, &len, &data);
   if (!data || len < 5 || data[len - 1] != 0 || !bson_iter_init_from_data (&child, data, len)) {
      return vfail (c, ODM_ERROR_CORRUPT_BSON, "corrupt BSON");
   }
   while (bson_iter_next (&child)) {
      if (!odm_utf8_valid (bson_iter_key (&child), bson_iter_key_len (&child))) {
         return vfail (c, ODM_ERROR_CORRUPT_BSON, "a key is not valid UTF-8");
      }
      if (bson_iter_type (&child) == BSON_TYPE_NULL) {
         if (f->kind != ODM_KIND_MIXED) {
            return vfail (c, ODM_ERROR_TYPE, "null in an array");
         }
      } else if (!check_value (f, &child, depth + 1, c)) {
         return false;
      }
   }
   return !child.err_off || vfail (c, ODM_ERROR_CORRUPT_BSON, "corrupt BSON");
}

/* An earlier element of DATA (before offset END) with KEY: a field past the view's table
 * seen twice. */
static bool
seen_before (const uint8_t *data, uint32_t len, uint32_t end, const char *key)
{
   bson_iter_t it;
   if (!bson_iter_init_from_data (&it, data, len)) {
      return false;
   }
   while (bson_iter_next (&it) && it.off < end) {
      if (!strcmp (bson_iter_key (&it), key)) {
         return true;
      }
   }
   return false;
}

/* Whether a value of type T has bytes that odm_bson_check_at checks (strings, dates,
 * nested documents): a raw value of another type needs no check. */
static bool
needs_byte_check (bson_type_t t)
{
   switch (t) {
   case BSON_TYPE_UTF8:
   case BSON_TYPE_CODE:
   case BSON_TYPE_SYMBOL:
   case BSON_TYPE_REGEX:
   case BSON_TYPE_DBPOINTER:
   case BSON_TYPE_DATE_TIME:
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
   case BSON_TYPE_CODEWSCOPE:
      return true;
   default:
      return false;
   }
}

/* The object at DATA (LEN bytes) of type D, at level DEPTH (the document is level 1).
 * AT (ODM_VIEW_MAX_FIELDS entries) receives the offsets of the fields found. */
static bool
check_object (const odm_object_desc_t *d, const uint8_t *data, uint32_t len, int depth, uint32_t *at, vctx_t *c)
{
   bson_iter_t it;
   uint32_t next = 0;
   bool raw_checked = false, ok = true;
   vkeys_t unknown;

   unknown.slots = NULL;
   unknown.cap = unknown.count = 0;
   memset (at, 0, sizeof (uint32_t) * ODM_VIEW_MAX_FIELDS);
   if (!bson_iter_init_from_data (&it, data, len)) {
      return vfail (c, ODM_ERROR_CORRUPT_BSON, "corrupt BSON");
   }
   while (ok && bson_iter_next (&it)) {
      const char *key = bson_iter_key (&it);
      uint32_t kl = bson_iter_key_len (&it);
      const odm_field_t *f = odm_find_field (d, &next, key, (uint32_t) kl);

      if ((!f || f->kind == ODM_KIND_MIXED) && !raw_checked && needs_byte_check (bson_iter_type (&it))) {
         /* bytes the schema does not type: the decoder's byte check over this object (a
          * number, such as the version key __v, has nothing to check) */
         if (!odm_bson_check_at (data, len, NULL, depth - 1, 0, &c->error)) {
            ok = false;
            break;
         }
         raw_checked = true;
      }
      if (!f) {
         bool version = depth == 1 && kl == sizeof ODM_VERSION_KEY - 1 && !memcmp (key, ODM_VERSION_KEY, kl);
         if (!raw_checked && !odm_utf8_valid (key, kl)) {
            ok = vfail (c, ODM_ERROR_CORRUPT_BSON, "a key is not valid UTF-8");
         } else if ((c->flags & ODM_DECODE_STRICT) && !version) {
            ok = vfail (c, ODM_ERROR_UNKNOWN_FIELD, "field is not in the schema");
         } else if (kl == 0 || key[0] == '$' || memchr (key, '.', kl)) {
            ok = vfail (c, ODM_ERROR_KEY, "keys may not be empty, start with '$' or contain '.'");
         } else if (!raw_keys_ok (&it, c)) {
            ok = false;
         } else if (!vkeys_add (&unknown, key, kl)) {
            ok = vfail (c, ODM_ERROR_DUPLICATE_FIELD, "field appears twice");
         }
      } else {
         uint32_t i = (uint32_t) (f - d->fields);
         if (i < ODM_VIEW_MAX_FIELDS ? at[i] != 0 : seen_before (data, len, it.off, key)) {
            ok = vfail (c, ODM_ERROR_DUPLICATE_FIELD, "field appears twice");
         } else {
            if (i < ODM_VIEW_MAX_FIELDS) {
               at[i] = it.off;
            }
            if (bson_iter_type (&it) != BSON_TYPE_NULL) {
               ok = (f->flags & ODM_F_ARRAY) ? check_array (f, &it, depth, c) : check_value (f, &it, depth, c);
            }
         }
      }
   }
   vkeys_free (&unknown);
   return ok && (!it.err_off || vfail (c, ODM_ERROR_CORRUPT_BSON, "corrupt BSON"));
}

/* ------------------------------------------------------------ the fast walk */

/* The common case, walked without bson_iter: objects whose elements are the schema's own
 * fields in the types the schema gives them (and unknown numbers, such as the version key
 * __v). It reads every length within the bounds of its object and accepts only what it
 * fully checks; anything else (a malformed element, another type, an unknown string or
 * object, a mixed value, more than a few unknown fields) makes it hand the object to the
 * bson_iter walk above (FAST_SLOW), which then accepts or refuses. Both walks accept
 * exactly what the copying decode accepts (tests/test-view.c, tests/fuzz/fuzz-view.c). */
#define FAST_OK 1
#define FAST_REFUSED 0
#define FAST_SLOW (-1)
#define FAST_UNKNOWN_MAX 8

static bool check_any (const odm_object_desc_t *d, const uint8_t *data, uint32_t len, int depth, uint32_t *at,
                       vctx_t *c);

/* A BSON document's frame at P with AVAIL bytes to its parent's end: *LEN its length. */
static bool
frame_ok (const uint8_t *p, uint32_t avail, uint32_t *len)
{
   uint32_t l;
   if (avail < 5) {
      return false;
   }
   l = rd32 (p);
   if (l < 5 || l > avail || p[l - 1] != 0) {
      return false;
   }
   *len = l;
   return true;
}

/* A string value at P (AVAIL bytes to the end of its object): its frame, its terminator
 * and its UTF-8; *SIZE its size. */
static inline int
fast_string (const uint8_t *p, uint32_t avail, uint32_t *size)
{
   uint32_t l;
   if (avail < 5) {
      return FAST_SLOW;
   }
   l = rd32 (p);
   if (l < 1 || l > avail - 4 || p[4 + l - 1] != 0) {
      return FAST_SLOW;
   }
   *size = 4 + l;
   return odm_scan_text (p + 4, l - 1, avail - 4) ? FAST_OK : FAST_SLOW;
}

/* A mixed value of BSON type T at P: numbers, booleans, ids, strings and dates checked
 * here, documents and arrays by the decoder's byte check (with their arrays' keys, as decode
 * keeps them raw), anything else by the bson_iter walk. */
static int
fast_mixed (uint8_t t, const uint8_t *p, uint32_t avail, int depth, vctx_t *c, uint32_t *size)
{
   uint32_t l;
   switch (t) {
   case BSON_TYPE_NULL:
      *size = 0;
      return FAST_OK;
   case BSON_TYPE_INT32:
   case BSON_TYPE_INT64:
   case BSON_TYPE_DOUBLE:
   case BSON_TYPE_OID:
      *size = t == BSON_TYPE_INT32 ? 4 : t == BSON_TYPE_OID ? 12 : 8;
      return avail >= *size ? FAST_OK : FAST_SLOW;
   case BSON_TYPE_BOOL:
      *size = 1;
      return avail >= 1 && p[0] <= 1 ? FAST_OK : FAST_SLOW;
   case BSON_TYPE_DATE_TIME:
      *size = 8;
      return avail >= 8 && odm_date_in_range (rd64 (p)) ? FAST_OK : FAST_SLOW;
   case BSON_TYPE_UTF8:
      return fast_string (p, avail, size);
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY:
      if (!frame_ok (p, avail, &l)) {
         return FAST_SLOW;
      }
      *size = l;
      /* the value is at level DEPTH + 1: the byte check counts its own levels from there */
      return odm_bson_check_at (p, l, NULL, depth,
                                ODM_CHECK_ARRAY_KEYS | (t == BSON_TYPE_ARRAY ? ODM_CHECK_TOP_ARRAY : 0), &c->error)
                ? FAST_OK
                : FAST_SLOW;
   default:
      return FAST_SLOW;
   }
}

/* A value of a scalar kind (string, number, bool, date, id) of BSON type T at P (AVAIL
 * bytes to the end of its object): *SIZE its size. Inline in the walks: most values are
 * these, and a call each cost more than the check. It branches on the field's kind, which
 * names the one type (or three, for numbers) it may hold: a switch on the type compiled to
 * a jump table whose target changed with nearly every value and was mispredicted seven
 * times per document of the mixed set (callgrind's branch simulation). */
static inline int
fast_scalar (const odm_field_t *f, uint8_t t, const uint8_t *p, uint32_t avail, uint32_t *size)
{
   if (f->kind == ODM_KIND_STRING) {
      return t == BSON_TYPE_UTF8 ? fast_string (p, avail, size) : FAST_SLOW;
   }
   if (f->kind == ODM_KIND_DATE) {
      *size = 8;
      return t == BSON_TYPE_DATE_TIME && avail >= 8 && odm_date_in_range (rd64 (p)) ? FAST_OK : FAST_SLOW;
   }
   if (f->kind == ODM_KIND_NUMBER) {
      if (t == BSON_TYPE_INT32) {
         *size = 4;
         return avail >= 4 ? FAST_OK : FAST_SLOW;
      }
      *size = 8;
      if ((t != BSON_TYPE_DOUBLE && t != BSON_TYPE_INT64) || avail < 8) {
         return FAST_SLOW;
      }
      if (t == BSON_TYPE_INT64) {
         int64_t v = rd64 (p);
         if (v > (INT64_C (1) << 53) || v < -(INT64_C (1) << 53)) {
            return FAST_SLOW;
         }
      }
      return FAST_OK;
   }
   if (f->kind == ODM_KIND_BOOL) {
      *size = 1;
      return t == BSON_TYPE_BOOL && avail >= 1 && p[0] <= 1 ? FAST_OK : FAST_SLOW;
   }
   if (f->kind == ODM_KIND_OID) {
      *size = 12;
      return t == BSON_TYPE_OID && avail >= 12 ? FAST_OK : FAST_SLOW;
   }
   return FAST_SLOW; /* an object or mixed kind: fast_value */
}

/* One value of F's kind of BSON type T at P (AVAIL bytes to the end of its object):
 * *SIZE its size. */
static int
fast_value (const odm_field_t *f, uint8_t t, const uint8_t *p, uint32_t avail, int depth, vctx_t *c, uint32_t *size)
{
   uint32_t l;
   if (f->kind == ODM_KIND_MIXED) {
      return fast_mixed (t, p, avail, depth, c, size);
   }
   if (t == BSON_TYPE_DOCUMENT) {
      if (f->kind != ODM_KIND_OBJECT || depth + 1 > ODM_MAX_DEPTH || !frame_ok (p, avail, &l)) {
         return FAST_SLOW;
      }
      *size = l;
      return check_any (f->object, p, l, depth + 1, NULL, c) ? FAST_OK : FAST_REFUSED;
   }
   return fast_scalar (f, t, p, avail, size);
}

/* fast_value, with the scalar kinds inline. */
static inline int
fast_any (const odm_field_t *f, uint8_t t, const uint8_t *p, uint32_t avail, int depth, vctx_t *c, uint32_t *size)
{
   if (f->kind == ODM_KIND_OBJECT || f->kind == ODM_KIND_MIXED) {
      return fast_value (f, t, p, avail, depth, c, size);
   }
   return fast_scalar (f, t, p, avail, size);
}

/* An array field's value at P (AVAIL bytes to the end of its object). */
static int
fast_array (const odm_field_t *f, const uint8_t *p, uint32_t avail, int depth, vctx_t *c, uint32_t *size)
{
   uint32_t l, o = 4, end;
   if (depth + 1 > ODM_MAX_DEPTH || !frame_ok (p, avail, &l)) {
      return FAST_SLOW;
   }
   *size = l;
   end = l - 1;
   while (o < end) {
      uint8_t t = p[o++];
      const uint8_t *key = p + o;
      uint32_t vs = 0, kl = odm_scan_key_len (key, end - o);
      int r;
      if (kl == end - o || (t == BSON_TYPE_NULL && f->kind != ODM_KIND_MIXED) || odm_scan_ascii (key, kl, end - o) != kl) {
         return FAST_SLOW;
      }
      o += kl + 1;
      if ((r = fast_any (f, t, p + o, end - o, depth + 1, c, &vs)) != FAST_OK) {
         return r;
      }
      o += vs;
   }
   return o == end ? FAST_OK : FAST_SLOW;
}

static int
fast_object (const odm_object_desc_t *d, const uint8_t *data, uint32_t len, int depth, uint32_t *at, vctx_t *c)
{
   uint32_t o = 4, end = len - 1, next = 0, nunknown = 0, seen = 0;
   const uint8_t *unknown[FAST_UNKNOWN_MAX];

   if (at) { /* absent fields: see view_fill */
      memset (at, 0, sizeof (uint32_t) * ODM_VIEW_MAX_FIELDS);
   }
   while (o < end) {
      uint32_t start = o, kl, vs = 0, idx;
      uint8_t t = data[o++];
      const uint8_t *key = data + o;
      const odm_field_t *f = NULL;
      int r;
#if defined(__SSE2__)
      if ((d->flags & ODM_O_PADDED_NAMES) && c->end - key >= 16 && (f = odm_scan_field_nul (d, &next, key)) &&
          f->name_len < end - o) {
         kl = f->name_len; /* the common case: a field's name, found with its NUL */
      } else
#endif
      {
         if ((kl = odm_scan_key_len (key, end - o)) == end - o) {
            return FAST_SLOW;
         }
         f = odm_scan_field (d, &next, key, kl, (uint32_t) (c->end - key));
      }
      idx = f ? next - 1 : 0;
      o += kl + 1;
      if (!f) {
         /* an unknown number (the version key __v): nothing in its bytes to check */
         bool version = depth == 1 && kl == sizeof ODM_VERSION_KEY - 1 && !memcmp (key, ODM_VERSION_KEY, kl);
         uint32_t k;
         if (((c->flags & ODM_DECODE_STRICT) && !version) || nunknown == FAST_UNKNOWN_MAX || kl == 0 ||
             key[0] == '$' || memchr (key, '.', kl) || odm_scan_ascii (key, kl, end - o + kl + 1) != kl) {
            return FAST_SLOW;
         }
         for (k = 0; k < nunknown; k++) {
            if (!strcmp ((const char *) unknown[k], (const char *) key)) {
               return FAST_SLOW;
            }
         }
         unknown[nunknown++] = key;
         switch (t) {
         case BSON_TYPE_INT32:
            vs = 4;
            break;
         case BSON_TYPE_INT64:
         case BSON_TYPE_DOUBLE:
            vs = 8;
            break;
         default:
            return FAST_SLOW;
         }
         if (vs > end - o) {
            return FAST_SLOW;
         }
      } else {
         if (idx >= ODM_VIEW_MAX_FIELDS || (seen & (UINT32_C (1) << idx))) {
            return FAST_SLOW;
         }
         seen |= UINT32_C (1) << idx;
         if (at) {
            at[idx] = start;
         }
         if (t == BSON_TYPE_NULL) {
            vs = 0;
         } else if (f->flags & ODM_F_ARRAY) {
            if (t != BSON_TYPE_ARRAY) {
               return FAST_SLOW;
            }
            if ((r = fast_array (f, data + o, end - o, depth, c, &vs)) != FAST_OK) {
               return r;
            }
         } else if ((r = fast_any (f, t, data + o, end - o, depth, c, &vs)) != FAST_OK) {
            return r;
         }
      }
      o += vs;
   }
   if (o != end) {
      return FAST_SLOW;
   }
   return FAST_OK;
}

/* The object at DATA (LEN bytes, its frame checked): the fast walk, else the bson_iter one.
 * AT (or NULL) receives the offsets of its fields. */
static bool
check_any (const odm_object_desc_t *d, const uint8_t *data, uint32_t len, int depth, uint32_t *at, vctx_t *c)
{
   uint32_t local[ODM_VIEW_MAX_FIELDS];
   int r = fast_object (d, data, len, depth, at, c);
   if (r != FAST_SLOW) {
      return r == FAST_OK;
   }
   return check_object (d, data, len, depth, at ? at : local, c);
}

/* The walk refused the bytes: the copying decode says why, in its own words. */
static void
report (const odm_object_desc_t *d, const uint8_t *data, size_t len, uint32_t flags, vctx_t *c, bson_error_t *error)
{
   bson_t in;
   void *doc;
   bson_error_t e;

   if (!error) {
      return;
   }
   if (!bson_init_static (&in, data, len)) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL, "input is not valid BSON");
      return;
   }
   doc = bson_malloc (d->size);
   if (!odm_decode_desc (d, &in, doc, flags, &e)) {
      *error = e;
   } else {
      /* never expected (the fuzz harness checks it): the walk's own reason */
      *error = c->error;
      odm_cleanup_desc (d, doc);
   }
   bson_free (doc);
}

bool
odm_view_init (odm_view_t *view, const odm_schema_t *schema, const uint8_t *data, size_t len, uint32_t flags,
               bson_error_t *error)
{
   vctx_t c;

   if (!view) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "view is NULL");
      return false;
   }
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      memset (view, 0, sizeof *view);
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema is NULL");
      return false;
   }
   if (!data) {
      view_empty (view, schema->root);
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "input is NULL");
      return false;
   }
   c.flags = flags;
   c.end = data + len;
   /* the error a refusal sets (a bson_error_t is half a kilobyte: zeroing it all cost a
    * tenth of a small document's check) */
   c.error.domain = 0;
   c.error.code = 0;
   c.error.message[0] = '\0';
   if (len < 5 || len > INT32_MAX || rd32 (data) != len || data[len - 1] != 0 ||
       !check_any (schema->root, data, (uint32_t) len, 1, view->at, &c)) {
      view_empty (view, schema->root);
      report (schema->root, data, len, flags, &c, error);
      return false;
   }
   view->desc = schema->root;
   view->data = data;
   view->len = (uint32_t) len;
   return true;
}

bool
odm_view_init_bson (odm_view_t *view, const odm_schema_t *schema, const bson_t *doc, uint32_t flags,
                    bson_error_t *error)
{
   if (!doc) {
      return odm_view_init (view, schema, NULL, 0, flags, error);
   }
   return odm_view_init (view, schema, bson_get_data (doc), doc->len, flags, error);
}

/* ------------------------------------------------------------ accessors */

int
odm_view_field (const odm_view_t *v, const char *name)
{
   uint32_t next = 0;
   const odm_field_t *f;
   if (!v || !v->desc || !name) {
      return -1;
   }
   f = odm_find_field (v->desc, &next, name, (uint32_t) strlen (name));
   return f ? (int) (f - v->desc->fields) : -1;
}

uint32_t
odm_view_impl_elem_slow (const odm_view_t *v, uint32_t i)
{
   const odm_field_t *f;
   uint32_t o = 4;
   if (!v || !v->desc || i >= v->desc->field_count) {
      return 0;
   }
   f = &v->desc->fields[i];
   while (o < v->len - 1) {
      uint8_t t = v->data[o];
      const char *key = (const char *) v->data + o + 1;
      size_t kl = strlen (key);
      if (kl == f->name_len && !memcmp (key, f->name, kl)) {
         return o;
      }
      o += 1 + (uint32_t) kl + 1;
      o += value_size (t, v->data + o);
   }
   return 0;
}

/* The offset of field I's element, 0 when absent. */
static uint32_t
elem_at (const odm_view_t *v, uint32_t i)
{
   return i < ODM_VIEW_MAX_FIELDS ? v->at[i] : odm_view_impl_elem_slow (v, i);
}

/* Field I's state; *VAL receives its value's address when present. Wrong kind or array-ness:
 * absent. */
static uint8_t
lookup (const odm_view_t *v, uint32_t i, uint32_t kind, bool array, const uint8_t **val, uint8_t *type)
{
   const odm_field_t *f;
   uint32_t o;
   /* as odm_view_impl_find: 0 in the table for absent fields and past the object's fields */
   if (!v || !(o = elem_at (v, i))) {
      return ODM_ABSENT;
   }
   f = &v->desc->fields[i];
   if ((kind && f->kind != kind) || (array != ((f->flags & ODM_F_ARRAY) != 0))) {
      return ODM_ABSENT;
   }
   if (v->data[o] == BSON_TYPE_NULL) {
      return ODM_NULL;
   }
   *type = v->data[o];
   *val = v->data + o + 1 + f->name_len + 1;
   return ODM_PRESENT;
}

static void
read_string (const uint8_t *p, const char **str, uint32_t *len)
{
   if (str) {
      *str = (const char *) p + 4;
   }
   if (len) {
      *len = rd32 (p) - 1;
   }
}

static double
read_number (uint8_t t, const uint8_t *p)
{
   if (t == BSON_TYPE_DOUBLE) {
      return rdd (p);
   }
   if (t == BSON_TYPE_INT32) {
      return (double) (int32_t) rd32 (p);
   }
   return (double) rd64 (p);
}

uint8_t
odm_view_object (const odm_view_t *v, uint32_t i, odm_view_t *sub)
{
   const uint8_t *p;
   uint8_t t, s = lookup (v, i, ODM_KIND_OBJECT, false, &p, &t);
   if (!sub) {
      return s;
   }
   if (s == ODM_PRESENT) {
      view_fill (sub, v->desc->fields[i].object, p, rd32 (p));
   } else {
      view_empty (sub, v && v->desc && i < v->desc->field_count ? v->desc->fields[i].object : NULL);
   }
   return s;
}

uint8_t
odm_view_mixed (const odm_view_t *v, uint32_t i, bson_iter_t *it)
{
   const uint8_t *p;
   uint8_t t, s = lookup (v, i, ODM_KIND_MIXED, false, &p, &t);
   if (s != ODM_ABSENT && it) {
      const odm_field_t *f = &v->desc->fields[i];
      uint32_t o = elem_at (v, i);
      if (!bson_iter_init_from_data_at_offset (it, v->data, v->len, o, f->name_len)) {
         return ODM_ABSENT; /* not reached: the bytes were checked */
      }
   }
   return s;
}

uint8_t
odm_view_array (const odm_view_t *v, uint32_t i, odm_view_array_t *a)
{
   const uint8_t *p;
   uint8_t t, s = lookup (v, i, 0, true, &p, &t);
   if (!a) {
      return s;
   }
   memset (a, 0, sizeof *a);
   if (v && v->desc && i < v->desc->field_count) {
      a->field = &v->desc->fields[i];
   }
   if (s == ODM_PRESENT) {
      a->data = p;
      a->len = rd32 (p);
      a->next = 4;
   }
   return s;
}

uint32_t
odm_view_array_count (const odm_view_array_t *a)
{
   uint32_t o = 4, n = 0;
   if (!a || !a->data) {
      return 0;
   }
   while (o < a->len - 1) {
      uint8_t t = a->data[o];
      o += 1 + odm_scan_key_len (a->data + o + 1, a->len - o - 1) + 1;
      o += value_size (t, a->data + o);
      n++;
   }
   return n;
}

/* The next element's value (and type, key length); false at the end or for another kind. */
static bool
next_elem (odm_view_array_t *a, uint32_t kind, const uint8_t **val, uint8_t *type, uint32_t *start,
           uint32_t *klen)
{
   uint32_t o, kl;
   if (!a || !a->data || !a->field || a->field->kind != kind || a->next >= a->len - 1) {
      return false;
   }
   o = a->next;
   *type = a->data[o];
   kl = odm_scan_key_len (a->data + o + 1, a->len - o - 1);
   *val = a->data + o + 1 + kl + 1;
   a->next = o + 1 + kl + 1 + value_size (*type, *val);
   if (start) {
      *start = o;
      *klen = kl;
   }
   return true;
}

bool
odm_view_next_string (odm_view_array_t *a, const char **str, uint32_t *len)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_STRING, &p, &t, NULL, NULL)) {
      return false;
   }
   read_string (p, str, len);
   return true;
}

bool
odm_view_next_number (odm_view_array_t *a, double *value)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_NUMBER, &p, &t, NULL, NULL)) {
      return false;
   }
   if (value) {
      *value = read_number (t, p);
   }
   return true;
}

bool
odm_view_next_bool (odm_view_array_t *a, bool *value)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_BOOL, &p, &t, NULL, NULL)) {
      return false;
   }
   if (value) {
      *value = *p != 0;
   }
   return true;
}

bool
odm_view_next_date (odm_view_array_t *a, int64_t *ms)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_DATE, &p, &t, NULL, NULL)) {
      return false;
   }
   if (ms) {
      *ms = rd64 (p);
   }
   return true;
}

bool
odm_view_next_oid (odm_view_array_t *a, const bson_oid_t **oid)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_OID, &p, &t, NULL, NULL)) {
      return false;
   }
   if (oid) {
      *oid = (const bson_oid_t *) p;
   }
   return true;
}

bool
odm_view_next_object (odm_view_array_t *a, odm_view_t *sub)
{
   const uint8_t *p;
   uint8_t t;
   if (!next_elem (a, ODM_KIND_OBJECT, &p, &t, NULL, NULL)) {
      return false;
   }
   if (sub) {
      view_fill (sub, a->field->object, p, rd32 (p));
   }
   return true;
}

bool
odm_view_next_mixed (odm_view_array_t *a, bson_iter_t *it)
{
   const uint8_t *p;
   uint8_t t;
   uint32_t start, kl;
   if (!next_elem (a, ODM_KIND_MIXED, &p, &t, &start, &kl)) {
      return false;
   }
   if (it && !bson_iter_init_from_data_at_offset (it, a->data, a->len, start, kl)) {
      return false; /* not reached: the bytes were checked */
   }
   return true;
}
