/* libodm: decode, bytes -> struct, in one walk over the bytes.
 *
 * The walk follows the schema: each element's structure (lengths, terminators), its key
 * (strict UTF-8) and its value (type, UTF-8, range) are checked where the element is
 * read, once. A value kept as raw bytes (a mixed field, an unknown field) is checked by
 * the iterative byte check below before it is copied, so nothing recursive ever runs on
 * input nesting: the typed walk recurses only as deep as the schema. The same byte check
 * runs on what encode writes (odm_bson_check), so encode refuses what decode refuses. */
#include "odm-private.h"
#include "odm-scan.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------- UTF-8 */

/* Strict UTF-8 as a table-driven automaton: each byte has a class, each (state, class)
 * a next state. Classes split the continuation bytes where the second byte of E0, ED, F0
 * and F4 sequences is restricted (no overlong forms, no surrogates, nothing above
 * U+10FFFF); NUL has a class of its own, so that it is refused. */
enum { U8_OK = 0, U8_BAD = 8 };

static const uint8_t u8_class[256] = {
   /* 00 NUL */ 0,
   /* 01-7F ASCII */
   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
   1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
   /* 80-8F */ 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
   /* 90-9F */ 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
   /* A0-BF */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
   /* C0-C1 */ 5, 5,
   /* C2-DF */ 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
   /* E0 */ 7,
   /* E1-EC */ 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8,
   /* ED */ 9,
   /* EE-EF */ 8, 8,
   /* F0 */ 10,
   /* F1-F3 */ 11, 11, 11,
   /* F4 */ 12,
   /* F5-FF */ 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
};

/* States: 0 between characters; 1, 2, 3 continuation bytes still wanted (any of 80-BF);
 * 4 after E0 (A0-BF, then one), 5 after ED (80-9F, then one), 6 after F0 (90-BF, then
 * two), 7 after F4 (80-8F, then two); 8 refused (for good). */
static const uint8_t u8_next[9][16] = {
   /*        NUL ASCII 80-8F 90-9F A0-BF C0,F5+ C2-DF E0 E1-EF ED F0 F1-F3 F4 */
   /* 0 */ {8, 0, 8, 8, 8, 8, 1, 4, 2, 5, 6, 3, 7, 8, 8, 8},
   /* 1 */ {8, 8, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 2 */ {8, 8, 1, 1, 1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 3 */ {8, 8, 2, 2, 2, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 4 */ {8, 8, 8, 8, 1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 5 */ {8, 8, 1, 1, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 6 */ {8, 8, 8, 2, 2, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 7 */ {8, 8, 2, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
   /* 8 */ {8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8},
};

#define U8_ONES UINT64_C (0x0101010101010101)
#define U8_HIGHS UINT64_C (0x8080808080808080)

/* Whether the 8 bytes of W are all 01-7F: no high bit, and no zero byte (the classic
 * "has a zero byte" test, exact when no byte has its high bit set). */
static inline bool
u8_word_ascii (uint64_t w)
{
   return (((w - U8_ONES) & ~w) | w) & U8_HIGHS ? false : true;
}

bool
odm_utf8_valid (const char *str, size_t len)
{
   const unsigned char *s = (const unsigned char *) str;
   size_t i = 0;

   for (;;) {
      unsigned state;
      /* ASCII (01-7F) runs: 32 bytes at a time (SSE2), stopping on the first byte that is
       * not ASCII; then a word at a time; then byte by byte */
#if defined(__SSE2__)
      while (len - i >= 32) {
         const __m128i zero = _mm_setzero_si128 ();
         __m128i x = _mm_loadu_si128 ((const __m128i *) (const void *) (s + i));
         __m128i y = _mm_loadu_si128 ((const __m128i *) (const void *) (s + i + 16));
         uint32_t m = (uint32_t) (_mm_movemask_epi8 (x) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, zero))) |
                      (uint32_t) (_mm_movemask_epi8 (y) | _mm_movemask_epi8 (_mm_cmpeq_epi8 (y, zero))) << 16;
         if (m) {
            i += (size_t) __builtin_ctz (m);
            goto other;
         }
         i += 32;
      }
#endif
      while (len - i >= 8) {
         uint64_t w;
         memcpy (&w, s + i, 8);
         if (!u8_word_ascii (w)) {
            break;
         }
         i += 8;
      }
      while (i < len && (unsigned char) (s[i] - 1) < 0x7F) {
         i++;
      }
      if (i == len) {
         return true;
      }
#if defined(__SSE2__)
   other:
#endif
      /* one character that is not ASCII (or a NUL) through the automaton */
      state = u8_next[U8_OK][u8_class[s[i++]]];
      while (state != U8_OK) {
         if (state == U8_BAD || i == len) {
            return false;
         }
         state = u8_next[state][u8_class[s[i++]]];
      }
   }
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

static inline uint32_t
rd32 (const uint8_t *p)
{
   uint32_t v;
   memcpy (&v, p, sizeof v);
   return BSON_UINT32_FROM_LE (v);
}

static inline int64_t
rd64 (const uint8_t *p)
{
   uint64_t v;
   memcpy (&v, p, sizeof v);
   return (int64_t) BSON_UINT64_FROM_LE (v);
}

#define BAD_SIZE ((size_t) -1)

/* value_size (below) for the types it does not size inline: a boolean (its byte checked),
 * code, symbols, binary, regular expressions, DB pointers, code with scope, and the types
 * without bytes. */
static size_t
rare_value_size (uint8_t t, const uint8_t *v, size_t avail)
{
   size_t l;
   switch ((bson_type_t) t) {
   case BSON_TYPE_NULL:
   case BSON_TYPE_UNDEFINED:
   case BSON_TYPE_MAXKEY:
   case BSON_TYPE_MINKEY:
      return 0;
   case BSON_TYPE_BOOL:
      return avail >= 1 && v[0] <= 1 ? 1 : BAD_SIZE;
   case BSON_TYPE_CODE:
   case BSON_TYPE_SYMBOL:
      if (avail < 5 || (l = rd32 (v)) < 1 || l > avail - 4 || v[4 + l - 1] != 0) {
         return BAD_SIZE;
      }
      return 4 + l;
   case BSON_TYPE_BINARY:
      if (avail < 5 || (l = rd32 (v)) > avail - 5) {
         return BAD_SIZE;
      }
      if (v[4] == BSON_SUBTYPE_BINARY_DEPRECATED && (l < 4 || rd32 (v + 5) != l - 4)) {
         return BAD_SIZE;
      }
      return 5 + l;
   case BSON_TYPE_REGEX: {
      const uint8_t *a = memchr (v, 0, avail), *b;
      if (!a || !(b = memchr (a + 1, 0, avail - (size_t) (a + 1 - v)))) {
         return BAD_SIZE;
      }
      return (size_t) (b + 1 - v);
   }
   case BSON_TYPE_DBPOINTER:
      if (avail < 4 || (l = rd32 (v)) < 1 || l > avail - 4 || avail - 4 - l < 12 || v[4 + l - 1] != 0) {
         return BAD_SIZE;
      }
      return 4 + l + 12;
   case BSON_TYPE_CODEWSCOPE: {
      size_t sl, dl;
      /* total, then the code string, then the scope document, which ends the value */
      if (avail < 14 || (l = rd32 (v)) < 14 || l > avail) {
         return BAD_SIZE;
      }
      sl = rd32 (v + 4);
      if (sl < 1 || sl > l - 13 || v[8 + sl - 1] != 0) {
         return BAD_SIZE;
      }
      dl = rd32 (v + 8 + sl);
      if (dl < 5 || 8 + sl + dl != l || v[l - 1] != 0) {
         return BAD_SIZE;
      }
      return l;
   }
   default: /* end of document, or not a BSON type */
      return BAD_SIZE;
   }
}

/* The size of the value of type T at V, AVAIL bytes lying between V and the terminator
 * of the enclosing document; BAD_SIZE when it does not fit or its structure is wrong:
 * lengths, terminators of strings and documents, a boolean other than 0 or 1, the inner
 * length of binary subtype 2, an unknown type. Strings, nested documents and arrays and
 * the fixed-size scalars (what stored documents are made of) without a call; the others
 * through rare_value_size. */
static inline size_t
value_size (uint8_t t, const uint8_t *v, size_t avail)
{
   size_t l;
   if (t == BSON_TYPE_UTF8) {
      if (avail < 5 || (l = rd32 (v)) < 1 || l > avail - 4 || v[4 + l - 1] != 0) {
         return BAD_SIZE;
      }
      return 4 + l;
   }
   if (t != BSON_TYPE_BOOL && (l = odm_bson_fixed_size (t))) { /* a boolean's byte is checked */
      return avail >= l ? l : BAD_SIZE;
   }
   if (t == BSON_TYPE_DOCUMENT || t == BSON_TYPE_ARRAY) {
      if (avail < 5 || (l = rd32 (v)) < 5 || l > avail || v[l - 1] != 0) {
         return BAD_SIZE;
      }
      return l;
   }
   return rare_value_size (t, v, avail);
}

/* One element as the walks read it. */
typedef struct {
   uint8_t type;
   const char *key;
   uint32_t key_len;
   const uint8_t *value;
   size_t size;       /* of the value */
   const uint8_t *at; /* the type byte */
} elem_t;

/* Reads the element at *P (END: the terminator of its document) and moves *P past it.
 * 1: an element; 0: the end of the document; -1: corrupt. */
static ODM_ALWAYS_INLINE int
elem_next (const uint8_t **p, const uint8_t *end, elem_t *e)
{
   const uint8_t *k;
   uint32_t kl;
   if (*p >= end) {
      return 0;
   }
   e->at = *p;
   e->type = **p;
   k = *p + 1;
   if ((kl = odm_scan_key_len (k, (uint32_t) (end - k))) == (uint32_t) (end - k)) {
      return -1; /* no NUL before the terminator */
   }
   e->key = (const char *) k;
   e->key_len = kl;
   e->value = k + kl + 1;
   e->size = value_size (e->type, e->value, (size_t) (end - e->value));
   if (e->size == BAD_SIZE) {
      return -1;
   }
   *p = e->value + e->size;
   return 1;
}

/* The path of what is being read, as a chain of stack frames: made into text only when
 * an error is reported, so a valid input costs no string work. */
typedef struct pframe {
   const struct pframe *up;
   const char *key; /* NULL: an array index */
   uint32_t key_len;
   uint32_t index;
   const char *text; /* a base path in text, when non-NULL (then key is unused) */
} pframe_t;

static void
frame_path (const pframe_t *f, odm_path_t *out)
{
   if (!f) {
      odm_path_init (out);
      return;
   }
   frame_path (f->up, out);
   if (f->text) {
      if (*f->text) {
         odm_path_push (out, f->text, strlen (f->text));
      }
   } else if (f->key) {
      odm_path_push (out, f->key, f->key_len);
   } else {
      odm_path_push_index (out, f->index);
   }
}

static bool
fail_at (bson_error_t *error, uint32_t code, const pframe_t *where, const char *msg)
{
   odm_path_t path;
   if (error) {
      frame_path (where, &path);
      odm_set_error (error, code, path.buf, "%s", msg);
   }
   return false;
}

/* The checks of one scalar value (everything but documents and arrays, and the scope of
 * code with scope, which the walk enters): UTF-8 of string-bearing values, regex
 * options, dates in range. WHERE names the element. */
static bool
check_scalar (const elem_t *e, const pframe_t *where, bson_error_t *error)
{
   const uint8_t *v = e->value;
   switch ((bson_type_t) e->type) {
   case BSON_TYPE_UTF8:
   case BSON_TYPE_CODE:
   case BSON_TYPE_SYMBOL:
      if (!odm_utf8_valid ((const char *) v + 4, e->size - 5)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, where, "string is not valid UTF-8");
      }
      return true;
   case BSON_TYPE_REGEX: {
      const char *pat = (const char *) v, *opts;
      size_t pl = strlen (pat);
      opts = pat + pl + 1;
      if (!odm_utf8_valid (pat, pl) || !odm_utf8_valid (opts, e->size - pl - 2)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, where, "regex is not valid UTF-8");
      }
      if (!odm_regex_options_ok (opts)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, where,
                         "regex options must be distinct letters of \"ilmsux\" in alphabetical order");
      }
      return true;
   }
   case BSON_TYPE_DBPOINTER:
      if (!odm_utf8_valid ((const char *) v + 4, rd32 (v) - 1)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, where, "DBPointer namespace is not valid UTF-8");
      }
      return true;
   case BSON_TYPE_CODEWSCOPE:
      if (!odm_utf8_valid ((const char *) v + 8, rd32 (v + 4) - 1)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, where, "code is not valid UTF-8");
      }
      return true;
   case BSON_TYPE_DATE_TIME:
      if (!odm_date_in_range (rd64 (v))) {
         return fail_at (error, ODM_ERROR_RANGE, where, ODM_DATE_RANGE_MSG);
      }
      return true;
   default:
      return true;
   }
}

/* The document (or array, or code-with-scope scope) an element holds: its elements lie
 * between *FIRST and *END (its terminator). False for other types. */
static bool
elem_children (const elem_t *e, const uint8_t **first, const uint8_t **end)
{
   const uint8_t *doc;
   if (e->type == BSON_TYPE_DOCUMENT || e->type == BSON_TYPE_ARRAY) {
      doc = e->value;
   } else if (e->type == BSON_TYPE_CODEWSCOPE) {
      doc = e->value + 8 + rd32 (e->value + 4);
   } else {
      return false;
   }
   *first = doc + 4;
   *end = doc + rd32 (doc) - 1;
   return true;
}

/* One level of the iterative walk. */
typedef struct {
   const uint8_t *p, *end;
   bool array;        /* keys must be "0", "1", ... */
   uint32_t index;    /* the next expected key */
   pframe_t frame;    /* the element that holds this level (unused at level 0) */
} check_level_t;

/* The walk over the elements between FIRST and END (a terminator), iterative whatever
 * the input: every element's structure, key and scalar checks, and each document, array
 * and scope entered in turn. BASE names the place of the whole (the level holding it is
 * at BASE_DEPTH). TOP_ARRAY: the level itself is an array whose keys are checked. */
static bool
check_walk (const uint8_t *first, const uint8_t *end, const pframe_t *base, int base_depth, uint32_t flags,
            bool top_array, bson_error_t *error)
{
   check_level_t lv[ODM_MAX_DEPTH + 1];
   int d = 0;

   lv[0].p = first;
   lv[0].end = end;
   lv[0].array = top_array;
   lv[0].index = 0;
   for (;;) {
      check_level_t *l = &lv[d];
      const pframe_t *here = d ? &l->frame : base;
      pframe_t at;
      elem_t e;
      int r = elem_next (&l->p, l->end, &e);

      if (r == 0) {
         if (--d < 0) {
            return true;
         }
         continue;
      }
      if (r < 0) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, here, "corrupt BSON");
      }
      if (!odm_utf8_valid (e.key, e.key_len)) {
         return fail_at (error, ODM_ERROR_CORRUPT_BSON, here, "a key is not valid UTF-8");
      }
      at.up = here;
      at.key = e.key;
      at.key_len = e.key_len;
      at.index = 0;
      at.text = NULL;
      if (l->array) {
         char want[16];
         const char *w;
         size_t wl = odm_index_key (l->index++, &w, want, sizeof want);
         if (wl != e.key_len || memcmp (w, e.key, wl) != 0) {
            return fail_at (error, ODM_ERROR_CORRUPT_BSON, here, "array keys must be 0, 1, 2, ... in order");
         }
      }
      if (!check_scalar (&e, &at, error)) {
         return false;
      }
      if (elem_children (&e, &lv[d + 1].p, &lv[d + 1].end)) {
         if (base_depth + d + 2 > ODM_MAX_DEPTH) {
            return fail_at (error, ODM_ERROR_RANGE, &at, "nesting is deeper than 100 levels");
         }
         d++;
         lv[d].array = e.type == BSON_TYPE_ARRAY && (flags & ODM_CHECK_ARRAY_KEYS);
         lv[d].index = 0;
         lv[d].frame = at;
      }
   }
}

/* Iterative (no recursion, whatever the input): see odm-private.h. */
bool
odm_bson_check_at (const uint8_t *data, size_t len, const char *base_path, int base_depth, uint32_t flags,
                   bson_error_t *error)
{
   pframe_t base = {NULL, NULL, 0, 0, base_path ? base_path : ""};
   if (!data || len < 5 || len > INT32_MAX || rd32 (data) != len || data[len - 1] != 0) {
      return fail_at (error, ODM_ERROR_CORRUPT_BSON, &base, "corrupt BSON");
   }
   return check_walk (data + 4, data + len - 1, &base, base_depth, flags,
                      (flags & (ODM_CHECK_ARRAY_KEYS | ODM_CHECK_TOP_ARRAY)) == (ODM_CHECK_ARRAY_KEYS | ODM_CHECK_TOP_ARRAY),
                      error);
}

bool
odm_bson_check (const bson_t *doc, bson_error_t *error)
{
   return odm_bson_check_at (bson_get_data (doc), doc->len, NULL, 0, ODM_CHECK_ARRAY_KEYS, error);
}

/* For the encoder, which writes mixed values: the checks decode runs on a value it keeps
 * as raw bytes, on the element at AT (END: the terminator of its document). */
bool
odm_check_element (const uint8_t *at, const uint8_t *end, const char *path, int depth, bson_error_t *error)
{
   pframe_t where = {NULL, NULL, 0, 0, path ? path : ""};
   const uint8_t *p = at, *first, *cend;
   elem_t e;
   if (elem_next (&p, end, &e) <= 0) {
      return fail_at (error, ODM_ERROR_CORRUPT_BSON, &where, "corrupt BSON");
   }
   if (!check_scalar (&e, &where, error)) {
      return false;
   }
   if (!elem_children (&e, &first, &cend)) {
      return true;
   }
   if (depth + 1 > ODM_MAX_DEPTH) {
      return fail_at (error, ODM_ERROR_RANGE, &where, "nesting is deeper than 100 levels");
   }
   return check_walk (first, cend, &where, depth, ODM_CHECK_ARRAY_KEYS, e.type == BSON_TYPE_ARRAY, error);
}

/* --------------------------------------------------------------------- decode */

typedef struct {
   uint32_t flags;
   bson_error_t *error;
   const uint8_t *doc; /* the whole input, for libbson's iterators over kept values */
   size_t doc_len;
   odm_arena_t *arena; /* NULL: the document owns each string and array */
} decode_ctx_t;

/* A copy of N bytes at SRC, from the arena or the heap. */
static inline void *
copy_bytes (decode_ctx_t *c, const void *src, size_t n)
{
   void *p = c->arena ? odm_arena_alloc (c->arena, n, 1) : bson_malloc (n);
   memcpy (p, src, n);
   return p;
}

/* Kept value E (a mixed field) into *OUT: a copy libbson owns, or, in an arena, the
 * value's bytes copied into the arena and *OUT pointing into them. */
static bool
copy_value (const elem_t *e, decode_ctx_t *c, bson_value_t *out)
{
   bson_iter_t it;
   const uint8_t *from = e->value;
   uint8_t *to;
   if (!bson_iter_init_from_data_at_offset (&it, c->doc, c->doc_len, (uint32_t) (e->at - c->doc), e->key_len)) {
      return false;
   }
   if (!c->arena) {
      bson_value_copy (bson_iter_value (&it), out);
      return true;
   }
   *out = *bson_iter_value (&it); /* pointers into the input: moved to the arena's copy */
   to = e->size ? copy_bytes (c, from, e->size) : NULL;
#define REBASE(ptr) ((ptr) = (void *) (to + ((const uint8_t *) (ptr) - from)))
   switch (out->value_type) {
   case BSON_TYPE_UTF8: REBASE (out->value.v_utf8.str); break;
   case BSON_TYPE_DOCUMENT:
   case BSON_TYPE_ARRAY: REBASE (out->value.v_doc.data); break;
   case BSON_TYPE_BINARY: REBASE (out->value.v_binary.data); break;
   case BSON_TYPE_REGEX:
      REBASE (out->value.v_regex.regex);
      REBASE (out->value.v_regex.options);
      break;
   case BSON_TYPE_DBPOINTER: REBASE (out->value.v_dbpointer.collection); break;
   case BSON_TYPE_CODE: REBASE (out->value.v_code.code); break;
   case BSON_TYPE_CODEWSCOPE:
      REBASE (out->value.v_codewscope.code);
      REBASE (out->value.v_codewscope.scope_data);
      break;
   case BSON_TYPE_SYMBOL: REBASE (out->value.v_symbol.symbol); break;
   default: break;
   }
#undef REBASE
   return true;
}

static bool
type_error (decode_ctx_t *c, const pframe_t *where, const char *expected, uint8_t got)
{
   odm_path_t path;
   if (c->error) {
      frame_path (where, &path);
      odm_set_error (c->error, ODM_ERROR_TYPE, path.buf, "expected %s, got %s", expected,
                     bson_type_name ((bson_type_t) got));
   }
   return false;
}

/* A value kept as raw bytes (mixed, unknown field; at DEPTH, the level of its document):
 * all of it is checked, and its arrays' keys must be "0", "1", ... (typed arrays are
 * re-keyed on encode and need not be). */
static bool
check_raw (const elem_t *e, const pframe_t *where, int depth, decode_ctx_t *c)
{
   const uint8_t *first, *end;
   if (!check_scalar (e, where, c->error)) {
      return false;
   }
   if (!elem_children (e, &first, &end)) {
      return true;
   }
   if (depth + 1 > ODM_MAX_DEPTH) {
      return fail_at (c->error, ODM_ERROR_RANGE, where, "nesting is deeper than 100 levels");
   }
   return check_walk (first, end, where, depth, ODM_CHECK_ARRAY_KEYS, e->type == BSON_TYPE_ARRAY, c->error);
}

/* An iterator on element E of the input, for libbson's copies of kept values. */
static bool
elem_iter (const elem_t *e, decode_ctx_t *c, bson_iter_t *it)
{
   return bson_iter_init_from_data_at_offset (it, c->doc, c->doc_len, (uint32_t) (e->at - c->doc), e->key_len);
}

static bool decode_object (const odm_object_desc_t *d, const uint8_t *p, const uint8_t *end, void *base,
                           const pframe_t *up, int depth, decode_ctx_t *c);

/* Decodes value E of kind f->kind at P (DEPTH: the level of the document holding E). The
 * caller has handled null. */
static ODM_ALWAYS_INLINE bool
decode_value (const odm_field_t *f, const elem_t *e, void *p, const pframe_t *where, int depth, decode_ctx_t *c)
{
   const uint8_t *v = e->value;

   switch (f->kind) {
   case ODM_KIND_STRING: {
      size_t len;
      char *copy;
      if (e->type != BSON_TYPE_UTF8) {
         return type_error (c, where, "string", e->type);
      }
      len = e->size - 5;
      if (!odm_scan_text (v + 4, (uint32_t) len, (uint32_t) (c->doc + c->doc_len - (v + 4)))) {
         return fail_at (c->error, ODM_ERROR_CORRUPT_BSON, where, "string is not valid UTF-8");
      }
      copy = copy_bytes (c, v + 4, len + 1); /* with its terminator */
      *(char **) p = copy;
      return true;
   }
   case ODM_KIND_NUMBER:
      if (e->type == BSON_TYPE_DOUBLE) {
         uint64_t bits;
         memcpy (&bits, v, sizeof bits);
         bits = BSON_UINT64_FROM_LE (bits);
         memcpy (p, &bits, sizeof bits);
      } else if (e->type == BSON_TYPE_INT32) {
         *(double *) p = (double) (int32_t) rd32 (v);
      } else if (e->type == BSON_TYPE_INT64) {
         int64_t x = rd64 (v);
         if (x > (INT64_C (1) << 53) || x < -(INT64_C (1) << 53)) {
            odm_path_t path;
            frame_path (where, &path);
            odm_set_error (c->error, ODM_ERROR_RANGE, path.buf, "long %" PRId64 " cannot be held exactly by a number", x);
            return false;
         }
         *(double *) p = (double) x;
      } else {
         return type_error (c, where, "number", e->type);
      }
      return true;
   case ODM_KIND_BOOL:
      if (e->type != BSON_TYPE_BOOL) {
         return type_error (c, where, "boolean", e->type);
      }
      *(bool *) p = v[0] != 0;
      return true;
   case ODM_KIND_DATE:
      if (e->type != BSON_TYPE_DATE_TIME) {
         return type_error (c, where, "date", e->type);
      }
      if (!odm_date_in_range (rd64 (v))) { /* check_scalar's check, inline */
         return fail_at (c->error, ODM_ERROR_RANGE, where, ODM_DATE_RANGE_MSG);
      }
      *(int64_t *) p = rd64 (v);
      return true;
   case ODM_KIND_OID:
      if (e->type != BSON_TYPE_OID) {
         return type_error (c, where, "objectId", e->type);
      }
      memcpy (p, v, sizeof (bson_oid_t));
      return true;
   case ODM_KIND_MIXED:
      if (!check_raw (e, where, depth, c)) {
         return false;
      }
      if (!copy_value (e, c, (bson_value_t *) p)) {
         return fail_at (c->error, ODM_ERROR_CORRUPT_BSON, where, "corrupt BSON");
      }
      return true;
   case ODM_KIND_OBJECT:
      if (e->type != BSON_TYPE_DOCUMENT) {
         return type_error (c, where, "object", e->type);
      }
      if (depth + 1 > ODM_MAX_DEPTH) {
         return fail_at (c->error, ODM_ERROR_RANGE, where, "nesting is deeper than 100 levels");
      }
      return decode_object (f->object, v + 4, v + e->size - 1, p, where, depth + 1, c);
   default:
      return type_error (c, where, kind_name (f->kind), e->type);
   }
}

/* An array field (its elements at DEPTH + 1). */
static bool
decode_array (const odm_field_t *f, const elem_t *arr, void *base, const pframe_t *where, int depth, decode_ctx_t *c)
{
   const uint8_t *first, *end, *p;
   size_t count = 0, k = 0;
   char *items;
   elem_t e;
   int r;

   if (arr->type != BSON_TYPE_ARRAY) {
      return type_error (c, where, "array", arr->type);
   }
   if (depth + 1 > ODM_MAX_DEPTH) {
      return fail_at (c->error, ODM_ERROR_RANGE, where, "nesting is deeper than 100 levels");
   }
   elem_children (arr, &first, &end);
   /* count (and check the structure of) the elements, then read them */
   for (p = first; (r = elem_next (&p, end, &e)) > 0;) {
      count++;
   }
   if (r < 0) {
      return fail_at (c->error, ODM_ERROR_CORRUPT_BSON, where, "corrupt BSON");
   }
   if (!count) {
      items = NULL;
   } else if (c->arena) {
      items = odm_arena_alloc (c->arena, count * f->elem_size, sizeof (max_align_t));
      memset (items, 0, count * f->elem_size);
   } else {
      items = bson_malloc0 (count * f->elem_size);
   }
   /* Attach before decoding elements, so a failure part-way is freed by odm_cleanup. */
   odm_array_set (base, f, items, count);
   for (p = first; elem_next (&p, end, &e) > 0; k++) {
      pframe_t el = {where, NULL, 0, (uint32_t) k, NULL};
      if (!odm_scan_text ((const uint8_t *) e.key, e.key_len, (uint32_t) (end - (const uint8_t *) e.key))) {
         return fail_at (c->error, ODM_ERROR_CORRUPT_BSON, where, "a key is not valid UTF-8");
      }
      if (e.type == BSON_TYPE_NULL && f->kind != ODM_KIND_MIXED) {
         return type_error (c, &el, kind_name (f->kind), BSON_TYPE_NULL);
      }
      if (!decode_value (f, &e, items + k * f->elem_size, &el, depth + 1, c)) {
         return false;
      }
   }
   return true;
}

static bool
decode_object (const odm_object_desc_t *d, const uint8_t *p, const uint8_t *end, void *base, const pframe_t *up,
               int depth, decode_ctx_t *c)
{
   uint32_t next = 0;
   odm_keyset_t unknown = {NULL, 0, 0};
   bool ok = true;
   elem_t e;
   int r;

   while ((r = elem_next (&p, end, &e)) > 0) {
      const odm_field_t *f;
      pframe_t at = {up, e.key, e.key_len, 0, NULL};

      /* A key equal to a field's name is valid UTF-8 (the generator checked the name). */
      f = odm_scan_field (d, &next, (const uint8_t *) e.key, e.key_len,
                          (uint32_t) (c->doc + c->doc_len - (const uint8_t *) e.key));
      if (!f && !odm_utf8_valid (e.key, e.key_len)) {
         ok = fail_at (c->error, ODM_ERROR_CORRUPT_BSON, up, "a key is not valid UTF-8");
         break;
      }
      if (!f) {
         bson_t **extra = (bson_t **) ODM_AT (base, d->extra);
         bson_iter_t it;
         /* The version key every libodm write keeps (docs/live.md) belongs to every
          * top-level document, strict or not; it is kept with the unknown fields. */
         bool version = depth == 1 && e.key_len == sizeof ODM_VERSION_KEY - 1 &&
                        !memcmp (e.key, ODM_VERSION_KEY, e.key_len);
         if ((c->flags & ODM_DECODE_STRICT) && !version) {
            odm_path_t path;
            frame_path (&at, &path);
            odm_set_error (c->error, ODM_ERROR_UNKNOWN_FIELD, path.buf, "field is not in the schema of %s",
                           d->c_type);
            ok = false;
            break;
         }
         if (odm_key_is_refused (e.key, e.key_len)) {
            odm_path_t path;
            frame_path (&at, &path);
            ok = odm_key_error (c->error, path.buf, d, e.key, e.key_len);
            break;
         }
         if (!check_raw (&e, &at, depth, c)) {
            ok = false;
            break;
         }
         if (!odm_keyset_add (&unknown, e.key, e.key_len)) {
            ok = fail_at (c->error, ODM_ERROR_DUPLICATE_FIELD, &at, "field appears twice");
            break;
         }
         if (!*extra) {
            *extra = bson_new ();
         }
         if (!elem_iter (&e, c, &it) || !bson_append_iter (*extra, e.key, (int) e.key_len, &it)) {
            ok = fail_at (c->error, ODM_ERROR_CORRUPT_BSON, &at, "corrupt BSON");
            break;
         }
         continue;
      }
      if (odm_has_get (base, f) != ODM_ABSENT) {
         ok = fail_at (c->error, ODM_ERROR_DUPLICATE_FIELD, &at, "field appears twice");
         break;
      }
      if (e.type == BSON_TYPE_NULL) {
         odm_has_set (base, f, ODM_NULL);
         continue;
      }
      /* Mark first: a partly decoded value must still be freed on failure. */
      odm_has_set (base, f, ODM_PRESENT);
      if (f->flags & ODM_F_ARRAY) {
         if (!decode_array (f, &e, base, &at, depth, c)) {
            ok = false;
            break;
         }
      } else if (!decode_value (f, &e, ODM_AT (base, f->offset), &at, depth, c)) {
         ok = false;
         break;
      }
   }
   odm_keyset_free (&unknown);
   if (c->arena) {
      /* the unknown fields move to the arena: a static bson_t over a copy of the bytes */
      bson_t **extra = (bson_t **) ODM_AT (base, d->extra);
      if (*extra) {
         bson_t *heap = *extra;
         bson_t *moved = odm_arena_alloc (c->arena, sizeof (bson_t), _Alignof (bson_t));
         /* the length from the bytes: libbson's bson_new does not give the struct the
          * alignment its type declares, so its members are not read here */
         const uint8_t *data = bson_get_data (heap);
         uint32_t len = rd32 (data);
         bson_init_static (moved, copy_bytes (c, data, len), len);
         bson_destroy (heap);
         *extra = moved;
      }
   }
   if (ok && r < 0) {
      return fail_at (c->error, ODM_ERROR_CORRUPT_BSON, up, "corrupt BSON");
   }
   return ok;
}

bool
odm_decode_desc (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, bson_error_t *error)
{
   return odm_decode_desc_in (d, in, doc, flags, NULL, error);
}

bool
odm_decode_desc_in (const odm_object_desc_t *d, const bson_t *in, void *doc, uint32_t flags, odm_arena_t *arena,
                    bson_error_t *error)
{
   decode_ctx_t c;
   const uint8_t *data;
   uint32_t len;

   memset (doc, 0, d->size);
   if (!in) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "input is NULL");
      return false;
   }
   data = bson_get_data (in);
   len = rd32 (data); /* not in->len: a bson_new'd struct may lack its type's alignment */
   if (len < 5 || len > INT32_MAX || data[len - 1] != 0) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL, "input is not valid BSON");
      return false;
   }
   c.flags = flags;
   c.error = error;
   c.doc = data;
   c.doc_len = len;
   c.arena = arena;
   if (!decode_object (d, data + 4, data + len - 1, doc, NULL, 1, &c)) {
      if (arena) {
         memset (doc, 0, d->size); /* what it took stays in the arena until the reset */
      } else {
         odm_cleanup_desc (d, doc);
      }
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
odm_from_bson_arena (const odm_schema_t *schema,
                     const bson_t *in,
                     void *doc,
                     uint32_t flags,
                     odm_arena_t *arena,
                     bson_error_t *error)
{
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc || !arena) {
      if (doc && schema && schema->magic == ODM_SCHEMA_MAGIC) {
         memset (doc, 0, schema->root->size);
      }
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema, document or arena is NULL");
      return false;
   }
   return odm_decode_desc_in (schema->root, in, doc, flags, arena, error);
}

bool
odm_copy (const odm_schema_t *schema, const void *src, void *dst)
{
   bson_t tmp;
   bool ok;
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !dst) {
      return false;
   }
   /* DST is initialised on failure too: empty when SRC cannot be written */
   ok = odm_to_bson (schema, src, &tmp, NULL) && odm_from_bson (schema, &tmp, dst, ODM_DECODE_DEFAULT, NULL);
   if (!ok) {
      memset (dst, 0, schema->root->size); /* a failed decode left it empty; a failed encode, untouched */
   }
   bson_destroy (&tmp);
   return ok;
}
