/* libodm: validation: the violations, the rule primitives the generated rules call, and the
 * walk over the field rules. The pre-save path (odm-prepare.c) ends here. */
#include "odm-private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ----------------------------------------------------------------- violations */

void
odm_violations_init (odm_violations_t *v)
{
   if (v) {
      memset (v, 0, sizeof *v);
   }
}

void
odm_violations_cleanup (odm_violations_t *v)
{
   size_t i;
   if (!v) {
      return;
   }
   for (i = 0; i < v->count; i++) {
      bson_free (v->items[i].path);
      bson_free (v->items[i].message);
   }
   bson_free (v->items);
   memset (v, 0, sizeof *v);
}

/* A copy of S that is valid UTF-8 whatever S holds (a message may quote input, and a
 * report is printed as JSON): each byte that does not start a valid character becomes
 * U+FFFD. */
char *
odm_utf8_clean (const char *s)
{
   size_t len = strlen (s), i = 0, n = 0;
   char *out;
   if (odm_utf8_valid (s, len)) {
      return bson_strdup (s);
   }
   out = bson_malloc (len * 3 + 1);
   while (i < len) {
      size_t k;
      for (k = 4; k >= 1; k--) {
         if (i + k <= len && odm_utf8_valid (s + i, k)) {
            break;
         }
      }
      if (k >= 1) {
         memcpy (out + n, s + i, k);
         n += k;
         i += k;
      } else {
         memcpy (out + n, "\xEF\xBF\xBD", 3);
         n += 3;
         i++;
      }
   }
   out[n] = '\0';
   return out;
}

void
odm_violations_add (odm_violations_t *v, const char *path, const char *rule, const char *message)
{
   odm_violation_t *it;
   if (!v) {
      return;
   }
   if (v->count == v->capacity) {
      v->capacity = v->capacity ? v->capacity * 2 : 4;
      v->items = bson_realloc (v->items, v->capacity * sizeof *v->items);
   }
   it = &v->items[v->count++];
   it->path = odm_utf8_clean (path ? path : "");
   it->rule = rule;
   it->message = odm_utf8_clean (message ? message : "");
}

void
odm_violations_add_error (odm_violations_t *v, const bson_error_t *error)
{
   const char *rule, *colon;
   char path[ODM_PATH_MAX] = "";
   if (!v || !error) {
      return;
   }
   switch (error->code) {
   case ODM_ERROR_TYPE: rule = "type"; break;
   case ODM_ERROR_UNKNOWN_FIELD: rule = "unknown"; break;
   case ODM_ERROR_DUPLICATE_FIELD: rule = "duplicate"; break;
   case ODM_ERROR_RANGE: rule = "range"; break;
   case ODM_ERROR_CORRUPT_BSON: rule = "bson"; break;
   case ODM_ERROR_KEY: rule = "key"; break;
   case ODM_ERROR_JSON: rule = "json"; break;
   default: rule = "error"; break;
   }
   /* odm_set_error writes "path: message" when it has a path; whole-input errors have none. */
   colon = error->domain == ODM_ERROR_DOMAIN ? strstr (error->message, ": ") : NULL;
   if (colon && !memchr (error->message, ' ', (size_t) (colon - error->message))) {
      size_t n = (size_t) (colon - error->message);
      n = odm_utf8_cut (error->message, n, sizeof path - 1);
      memcpy (path, error->message, n);
      path[n] = '\0';
      odm_violations_add (v, path, rule, colon + 2);
   } else {
      odm_violations_add (v, "", rule, error->message);
   }
}

void
odm_violations_to_error (const odm_violations_t *v, bson_error_t *error)
{
   size_t i;
   char *all;
   if (!error) {
      return;
   }
   error->domain = ODM_ERROR_DOMAIN;
   error->code = ODM_ERROR_VALIDATION;
   all = bson_strdup ("");
   for (i = 0; v && i < v->count && strlen (all) < sizeof error->message; i++) {
      char *more = bson_strdup_printf ("%s%s%s: %s (%s)", all, i ? "; " : "", v->items[i].path, v->items[i].message,
                                       v->items[i].rule);
      bson_free (all);
      all = more;
   }
   /* cut to the message's size at a character boundary */
   odm_copy_utf8 (error->message, sizeof error->message, all);
   bson_free (all);
}

bool
odm_violations_append_bson (const odm_violations_t *v, bson_t *doc, const char *key)
{
   bson_t arr, item;
   size_t i;
   bool ok;
   if (!doc || !key) {
      return false;
   }
   ok = bson_append_array_begin (doc, key, -1, &arr);
   for (i = 0; ok && v && i < v->count; i++) {
      char buf[16];
      const char *k;
      odm_index_key ((uint32_t) i, &k, buf, sizeof buf);
      ok = bson_append_document_begin (&arr, k, -1, &item) &&
           bson_append_utf8 (&item, "path", 4, v->items[i].path, -1) &&
           bson_append_utf8 (&item, "rule", 4, v->items[i].rule, -1) &&
           bson_append_utf8 (&item, "message", 7, v->items[i].message, -1) &&
           bson_append_document_end (&arr, &item);
   }
   return bson_append_array_end (doc, &arr) && ok;
}

/* ---------------------------------------------------------------- text helpers */

size_t
odm_utf16_length (const char *s)
{
   size_t n = 0;
   const unsigned char *p = (const unsigned char *) s;
   if (!s) {
      return 0;
   }
   /* ASCII a word at a time, the rest byte by byte: every byte but a continuation byte
    * starts a character, and 4-byte sequences are surrogate pairs */
   {
      const unsigned char *end = p + strlen (s);
      while (p < end) {
         size_t k, stop = end - p >= 8 ? 8 : (size_t) (end - p);
         uint64_t w;
         if (stop == 8) {
            memcpy (&w, p, sizeof w);
            if (!(w & UINT64_C (0x8080808080808080))) {
               p += 8, n += 8;
               continue;
            }
         }
         for (k = 0; k < stop; k++) {
            n += (p[k] & 0xC0) != 0x80;
            n += p[k] >= 0xF0;
         }
         p += stop;
      }
   }
   return n;
}

/* Decodes one UTF-8 code point at *P (advancing it); invalid bytes count as themselves. */
static uint32_t
next_cp (const unsigned char **p)
{
   const unsigned char *s = *p;
   uint32_t c = s[0];
   int n = 0, i;
   if (c < 0x80) {
      *p = s + 1;
      return c;
   }
   if ((c & 0xE0) == 0xC0) {
      n = 1, c &= 0x1F;
   } else if ((c & 0xF0) == 0xE0) {
      n = 2, c &= 0x0F;
   } else if ((c & 0xF8) == 0xF0) {
      n = 3, c &= 0x07;
   } else {
      *p = s + 1;
      return c;
   }
   for (i = 1; i <= n; i++) {
      if ((s[i] & 0xC0) != 0x80) {
         *p = s + 1;
         return s[0];
      }
      c = (c << 6) | (s[i] & 0x3F);
   }
   *p = s + n + 1;
   return c;
}

/* JavaScript's \s: WhiteSpace and LineTerminator of ECMA-262. */
static bool
js_space (uint32_t c)
{
   return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
          (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
          c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

static bool
match_email (const char *s)
{
   /* ^[^\s@]+@[^\s@]+\.[^\s@]+$ : one '@', no white space, a non-empty local part, and a
    * '.' in the domain with at least one character on each side. */
   const unsigned char *p = (const unsigned char *) s;
   const unsigned char *at = NULL, *dom;
   size_t dom_len, i;
   while (*p) {
      const unsigned char *start = p;
      uint32_t c = next_cp (&p);
      if (js_space (c)) {
         return false;
      }
      if (c == '@') {
         if (at) {
            return false;
         }
         at = start;
      }
   }
   if (!at || at == (const unsigned char *) s) {
      return false;
   }
   dom = at + 1;
   dom_len = strlen ((const char *) dom);
   for (i = 1; i + 1 < dom_len; i++) {
      if (dom[i] == '.') {
         return true;
      }
   }
   return false;
}

bool
odm_pattern_match (odm_pattern_t pattern, const char *s)
{
   const unsigned char *p = (const unsigned char *) s;
   if (!s || !*s) {
      return false;
   }
   switch (pattern) {
   case ODM_PATTERN_EMAIL:
      return match_email (s);
   case ODM_PATTERN_USERNAME:
      for (; *p; p++) {
         if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '_')) {
            return false;
         }
      }
      return true;
   case ODM_PATTERN_SLUG:
      for (; *p; p++) {
         if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
            return false;
         }
      }
      return true;
   default:
      return false;
   }
}

#include "odm-lowercase-table.h"

/* The lowercase of code point C in the blocks the table covers (every mapping there keeps
 * the UTF-8 length), else C. U+0130 is left to odm_lowercase. */
static uint32_t
js_lower (uint32_t c)
{
   size_t i;
   if (c < 0x80) {
      return (c >= 'A' && c <= 'Z') ? c + 32 : c;
   }
   for (i = 0; i < sizeof odm_lower_runs / sizeof odm_lower_runs[0]; i++) {
      if (c >= odm_lower_runs[i].first && c <= odm_lower_runs[i].last &&
          (c - odm_lower_runs[i].first) % odm_lower_runs[i].stride == 0) {
         return (uint32_t) ((int32_t) c + odm_lower_runs[i].delta);
      }
   }
   return c;
}

void
odm_lowercase_inplace (char *s)
{
   unsigned char *p = (unsigned char *) s;
   if (!s) {
      return;
   }
   while (*p) {
      const unsigned char *q = p;
      uint32_t c = next_cp (&q);
      size_t n = (size_t) (q - p);
      uint32_t l = js_lower (c);
      if (l != c) {
         if (n == 1) {
            p[0] = (unsigned char) l;
         } else if (n == 2 && l >= 0x80 && l < 0x800) {
            p[0] = (unsigned char) (0xC0 | (l >> 6));
            p[1] = (unsigned char) (0x80 | (l & 0x3F));
         }
      }
      p += n;
   }
}

char *
odm_lowercase_in (odm_arena_t *arena, const char *s)
{
   size_t n = 0, len;
   const char *p;
   char *r, *w;
   if (!s) {
      return NULL;
   }
   len = strlen (s);
   /* U+0130 (C4 B0, two bytes) becomes i + U+0307 (69 CC 87, three bytes). */
   for (p = s; (p = strstr (p, "\xC4\xB0")) != NULL; p += 2) {
      n++;
   }
   r = arena ? odm_arena_alloc (arena, len + n + 1, 1) : bson_malloc (len + n + 1);
   for (p = s, w = r; *p;) {
      if ((unsigned char) p[0] == 0xC4 && (unsigned char) p[1] == 0xB0) {
         memcpy (w, "i\xCC\x87", 3);
         w += 3, p += 2;
      } else {
         *w++ = *p++;
      }
   }
   *w = '\0';
   odm_lowercase_inplace (r);
   return r;
}

char *
odm_lowercase (const char *s)
{
   return odm_lowercase_in (NULL, s);
}

bool
odm_str_eq (const char *s, const char *literal)
{
   return s && strcmp (s, literal) == 0;
}

/* ------------------------------------------------------------- rule primitives */
/* One per kind of ODM_RULE_KINDS / ODM_DERIVE_KINDS (odm-vocabulary.h); each reports its kind
 * as the rule (ODM_RULE_NAME does not compile for a kind the vocabulary lacks). Generated
 * code calls them (codegen/rules.c has the row that names each). */

static void
fail (odm_rule_ctx_t *ctx, const char *path, const char *rule, const char *msg)
{
   odm_violations_add (ctx->out, path, rule, msg);
}

void
odm_rule_min (odm_rule_ctx_t *ctx, const char *path, uint8_t has, double v, double min, const char *msg)
{
   if (has == ODM_PRESENT && v < min) {
      fail (ctx, path, ODM_RULE_NAME (min), msg);
   }
}

void
odm_rule_max (odm_rule_ctx_t *ctx, const char *path, uint8_t has, double v, double max, const char *msg)
{
   if (has == ODM_PRESENT && v > max) {
      fail (ctx, path, ODM_RULE_NAME (max), msg);
   }
}

void
odm_rule_after (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, int64_t a, uint8_t has_b, int64_t b, const char *msg)
{
   if (has_a == ODM_PRESENT && has_b == ODM_PRESENT && a <= b) {
      fail (ctx, path, ODM_RULE_NAME (after), msg);
   }
}

void
odm_rule_not_greater (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, double a, uint8_t has_b, double b, const char *msg)
{
   if (has_a == ODM_PRESENT && has_b == ODM_PRESENT && a > b) {
      fail (ctx, path, ODM_RULE_NAME (not_greater), msg);
   }
}

void
odm_rule_max_items (odm_rule_ctx_t *ctx, const char *path, size_t count, size_t max, const char *msg)
{
   if (count > max) {
      fail (ctx, path, ODM_RULE_NAME (max_items), msg);
   }
}

void
odm_rule_items_if_any (odm_rule_ctx_t *ctx, const char *path, size_t count, size_t n, const char *msg)
{
   if (count != 0 && count != n) {
      fail (ctx, path, ODM_RULE_NAME (items_if_any), msg);
   }
}

void
odm_rule_sum_not_greater (odm_rule_ctx_t *ctx, const char *path, const void *items, size_t count, size_t elem_size,
                          size_t value_offset, size_t presence_offset, uint8_t has_than, double than, const char *msg)
{
   double sum = 0;
   size_t i;
   if (count == 0 || has_than != ODM_PRESENT) {
      return;
   }
   for (i = 0; i < count; i++) {
      const char *e = (const char *) items + i * elem_size;
      double v;
      if (e[presence_offset] == ODM_PRESENT) {
         memcpy (&v, e + value_offset, sizeof v);
         sum += v;
      }
   }
   if (sum > than) {
      fail (ctx, path, ODM_RULE_NAME (sum_not_greater), msg);
   }
}

void
odm_rule_pattern (odm_rule_ctx_t *ctx, const char *path, const char *s, odm_pattern_t pattern, const char *msg)
{
   if (s && *s && !odm_pattern_match (pattern, s)) {
      fail (ctx, path, ODM_RULE_NAME (pattern), msg);
   }
}

/* JavaScript counts a string's length in UTF-16 code units. A string has no more of them
 * than UTF-8 bytes and at least a third as many (three bytes at most per unit, four per
 * pair), so its byte count alone often settles a length limit, without counting units. */
static bool
bytes_surely_at_least (size_t bytes, size_t min_units)
{
   return bytes >= 3 * min_units;
}

/* Whether a string of BYTES UTF-8 bytes is within F's minlength and maxlength whatever it
 * holds (see above). Most strings are. */
static bool
lengths_surely_within (const odm_field_t *f, size_t bytes)
{
   return (!(f->flags & ODM_F_MAXLENGTH) || bytes <= f->maxlength) &&
          (!(f->flags & ODM_F_MINLENGTH) || bytes_surely_at_least (bytes, f->minlength));
}

void
odm_rule_minlength (odm_rule_ctx_t *ctx, const char *path, const char *s, size_t min, const char *msg)
{
   if (s && !bytes_surely_at_least (strlen (s), min) && odm_utf16_length (s) < min) {
      fail (ctx, path, ODM_RULE_NAME (minlength), msg);
   }
}

void
odm_rule_byte_length_equals (odm_rule_ctx_t *ctx, const char *path, const char *s, uint8_t has_size, double size, const char *msg)
{
   if (s && has_size == ODM_PRESENT && (double) strlen (s) != size) {
      fail (ctx, path, ODM_RULE_NAME (byte_length_equals), msg);
   }
}

void
odm_rule_not_equal_id (odm_rule_ctx_t *ctx, const char *path, uint8_t has_a, const bson_oid_t *a, uint8_t has_id, const bson_oid_t *id, const char *msg)
{
   if (has_a == ODM_PRESENT && has_id == ODM_PRESENT && bson_oid_equal (a, id)) {
      fail (ctx, path, ODM_RULE_NAME (not_equal_id), msg);
   }
}

void
odm_rule_future_on_create (odm_rule_ctx_t *ctx, const char *path, uint8_t has, int64_t v, const uint8_t *prev_has, const int64_t *prev, const char *msg)
{
   bool check;
   if (has != ODM_PRESENT) {
      return;
   }
   if (!ctx->opts || !ctx->opts->is_update) {
      check = true; /* create */
   } else if (prev_has && prev) {
      check = *prev_has != ODM_PRESENT || *prev != v; /* changed */
   } else {
      check = false; /* an update of a document we were not shown */
   }
   if (check && v <= ctx->now_ms) {
      fail (ctx, path, ODM_RULE_NAME (future_on_create), msg);
   }
}

void
odm_rule_requires (odm_rule_ctx_t *ctx, const char *path, bool cond, bool has, const char *msg)
{
   if (cond && !has) {
      fail (ctx, path, ODM_RULE_NAME (requires), msg);
   }
}

void
odm_derive_now_when (odm_rule_ctx_t *ctx, const char *path, bool cond, uint8_t *has, int64_t *v)
{
   (void) path;
   if (cond && *has != ODM_PRESENT) {
      *v = ctx->now_ms;
      *has = ODM_PRESENT;
   }
}

void
odm_derive_true_when (odm_rule_ctx_t *ctx, const char *path, bool cond, uint8_t *has, bool *v)
{
   (void) ctx, (void) path;
   if (cond) {
      *v = true;
      *has = ODM_PRESENT;
   }
}

void
odm_derive_count_of (odm_rule_ctx_t *ctx, const char *path, bool holder_not_null, uint8_t has_of, size_t count,
                     uint8_t *has, double *v)
{
   (void) ctx, (void) path;
   if (holder_not_null && has_of != ODM_NULL) {
      *v = (double) count;
      *has = ODM_PRESENT;
   }
}

void
odm_derive_seconds_between (odm_rule_ctx_t *ctx, const char *path, uint8_t has_from, int64_t from, uint8_t has_to,
                            int64_t to, double *out, uint8_t *has_out)
{
   int64_t diff;
   if (has_from != ODM_PRESENT || has_to != ODM_PRESENT || to <= from) {
      return;
   }
   if (__builtin_sub_overflow (to, from, &diff)) {
      fail (ctx, path, ODM_RULE_NAME (seconds_between),
            "cannot be computed: the two dates are too far apart for 64-bit milliseconds");
      return;
   }
   *out = (double) (diff / 1000);
   *has_out = ODM_PRESENT;
}

/* --------------------------------------------------------- field-rule walker */

static void
add_fmt (odm_violations_t *out, const char *path, const char *rule, const char *custom, const char *fmt, ...)
   BSON_GNUC_PRINTF (5, 6);

static void
add_fmt (odm_violations_t *out, const char *path, const char *rule, const char *custom, const char *fmt, ...)
{
   char msg[512];
   va_list ap;
   if (custom) {
      odm_violations_add (out, path, rule, custom);
      return;
   }
   va_start (ap, fmt);
   vsnprintf (msg, sizeof msg, fmt, ap);
   va_end (ap);
   odm_violations_add (out, path, rule, msg);
}

#define MSG(f, which) ((f)->messages ? (f)->messages->which : NULL)

/* The path of the value being checked, as a chain of stack frames: built into text only
 * when a violation is reported, so a valid document costs no string work. */
typedef odm_vframe_t frame_t;

static void
frame_text (const frame_t *fr, odm_path_t *out)
{
   if (!fr) {
      odm_path_init (out);
      return;
   }
   frame_text (fr->up, out);
   if (fr->field) {
      odm_path_push (out, fr->field->name, fr->field->name_len);
   } else {
      odm_path_push_index (out, fr->index);
   }
}

#define PATH(fr) (frame_text ((fr), &pbuf), pbuf.buf)

static void validate_object (const odm_object_desc_t *d, const void *base, const frame_t *up, odm_violations_t *out);
static void validate_field (const odm_field_t *f, const void *base, const frame_t *up, odm_violations_t *out);

static void
validate_value (const odm_field_t *f, const void *p, const frame_t *path, odm_violations_t *out)
{
   char a[40], b[40];
   odm_path_t pbuf;

   switch (f->kind) {
   case ODM_KIND_STRING: {
      const char *s = *(char *const *) p;
      size_t len;
      if (!s) {
         /* only an element can be NULL here (a NULL field is absent): decode refuses a null
          * element of a typed array, so the encoder refuses to write one */
         add_fmt (out, PATH (path), "type", NULL, "is NULL: an array of strings holds strings");
         return;
      }
      if (f->flags & ODM_F_ENUM) {
         uint32_t i;
         bool ok = false;
         for (i = 0; i < f->enum_count && !ok; i++) {
            ok = f->enum_values[i][0] == s[0] && strcmp (s, f->enum_values[i]) == 0; /* most fail at once */
         }
         if (!ok) {
            char list[400];
            size_t n = 0;
            list[0] = '\0';
            for (i = 0; i < f->enum_count && n < sizeof list - 1; i++) {
               n += (size_t) bson_snprintf (list + n, sizeof list - n, "%s%s", i ? ", " : "", f->enum_values[i]);
            }
            /* Quote at most 60 bytes of the value, never cutting a character. */
            int quoted = (int) odm_utf8_cut (s, strlen (s), 60);
            add_fmt (out, PATH (path), ODM_FIELD_RULE_NAME (enum), MSG (f, enumeration), "\"%.*s\" is not one of: %s", quoted, s, list);
         }
      }
      if ((f->flags & (ODM_F_MINLENGTH | ODM_F_MAXLENGTH)) && !lengths_surely_within (f, strlen (s))) {
         len = odm_utf16_length (s);
         if ((f->flags & ODM_F_MINLENGTH) && len < f->minlength) {
            add_fmt (out, PATH (path), ODM_FIELD_RULE_NAME (minlength), MSG (f, minlength),
                     "must be at least %u characters long (got %zu)", f->minlength, len);
         }
         if ((f->flags & ODM_F_MAXLENGTH) && len > f->maxlength) {
            add_fmt (out, PATH (path), ODM_FIELD_RULE_NAME (maxlength), MSG (f, maxlength),
                     "must be at most %u characters long (got %zu)", f->maxlength, len);
         }
      }
      return;
   }
   case ODM_KIND_NUMBER: {
      double v = *(const double *) p;
      if (isnan (v)) {
         add_fmt (out, PATH (path), "number", NULL, "is not a number (NaN)");
         return;
      }
      if ((f->flags & ODM_F_MIN) && v < f->min) {
         odm_format_number (f->min, a, sizeof a);
         odm_format_number (v, b, sizeof b);
         add_fmt (out, PATH (path), ODM_FIELD_RULE_NAME (min), MSG (f, min), "must be at least %s (got %s)", a, b);
      }
      if ((f->flags & ODM_F_MAX) && v > f->max) {
         odm_format_number (f->max, a, sizeof a);
         odm_format_number (v, b, sizeof b);
         add_fmt (out, PATH (path), ODM_FIELD_RULE_NAME (max), MSG (f, max), "must be at most %s (got %s)", a, b);
      }
      return;
   }
   case ODM_KIND_OBJECT:
      validate_object (f->object, p, path, out);
      return;
   default:
      return;
   }
}

/* Whether validate_value has anything to check on a value of F (an element of an array
 * of strings is checked for being NULL, whatever the rules). */
static bool
has_value_rules (const odm_field_t *f)
{
   return f->kind == ODM_KIND_OBJECT || f->kind == ODM_KIND_NUMBER ||
          (f->flags & (ODM_F_ENUM | ODM_F_MINLENGTH | ODM_F_MAXLENGTH)) ||
          (f->kind == ODM_KIND_STRING && (f->flags & ODM_F_ARRAY));
}

/* Whether a scalar field (number, boolean, date, ObjectId) holds a non-zero value: with
 * has_<field> ODM_ABSENT, that is a value written without its presence flag. */
static bool
unflagged_scalar (const odm_field_t *f, const void *base)
{
   const unsigned char *p = ODM_AT_CONST (base, f->offset);
   uint64_t a;
   uint32_t c = 0;
   switch (f->kind) {
   case ODM_KIND_NUMBER:
   case ODM_KIND_DATE: /* 8 bytes (a double or an int64_t) */
      memcpy (&a, p, 8);
      break;
   case ODM_KIND_BOOL:
      a = p[0];
      break;
   case ODM_KIND_OID: /* 12 bytes */
      memcpy (&a, p, 8);
      memcpy (&c, p + 8, 4);
      break;
   default:
      return false;
   }
   return (a | c) != 0;
}

/* The presence rule below, alone, for a subtree with no value rule (ODM_O_VALUE_RULES
 * clear): the only thing to find there is a scalar written without its flag. */
static void
presence_only (const odm_object_desc_t *d, const void *base, const frame_t *up, odm_violations_t *out)
{
   uint32_t i;
   odm_path_t pbuf;
   for (i = 0; i < d->field_count; i++) {
      const odm_field_t *f = &d->fields[i];
      frame_t fr = {up, f, 0};
      if ((f->flags & ODM_F_ARRAY) && odm_array_dangling (base, f)) {
         validate_field (f, base, up, out); /* which reports it */
      } else if (f->kind == ODM_KIND_OBJECT) {
         if (f->flags & ODM_F_ARRAY) {
            size_t count, k;
            const char *items = odm_array_items (base, f, &count);
            for (k = 0; k < count; k++) {
               frame_t el = {&fr, NULL, k};
               presence_only (f->object, items + k * f->elem_size, &el, out);
            }
         } else {
            presence_only (f->object, ODM_AT_CONST (base, f->offset), &fr, out);
         }
      } else if (!(f->flags & ODM_F_ARRAY) && odm_has_get (base, f) == ODM_ABSENT && unflagged_scalar (f, base)) {
         add_fmt (out, PATH (&fr), "presence", NULL,
                  "has a value but has_%s is ODM_ABSENT, so it would not be written: use the setter "
                  "(or set has_%s = ODM_PRESENT)",
                  f->name, f->name);
      }
   }
}

/* The field rules of F in the object at BASE, in this order: required, presence, a null
 * read as 0, the value rules (of each element, for arrays). */
static void
validate_field (const odm_field_t *f, const void *base, const frame_t *up, odm_violations_t *out)
{
   frame_t fr = {up, f, 0};
   odm_path_t pbuf;
   char a[40];
   uint8_t state;
   size_t claimed;

   if (f->kind == ODM_KIND_OBJECT && !(f->flags & ODM_F_ARRAY)) {
      /* A nested object is a Mongoose nested path, which always exists: absent or null,
       * its fields are absent, and the required ones among them are reported. Its state
       * (a walk of its fields) is needed only when it is required itself. */
      if ((f->flags & ODM_F_REQUIRED) && odm_field_state (f, base) != ODM_PRESENT) {
         add_fmt (out, PATH (&fr), ODM_FIELD_RULE_NAME (required), MSG (f, required), "is required");
      }
      validate_object (f->object, ODM_AT_CONST (base, f->offset), &fr, out);
      return;
   }
   if ((f->flags & ODM_F_ARRAY) && (claimed = odm_array_dangling (base, f)) != 0) {
      add_fmt (out, PATH (&fr), "type", NULL, "the array's count is %zu but its items are NULL", claimed);
      return;
   }
   state = odm_field_state_fast (f, base);
   if (f->flags & ODM_F_REQUIRED) {
      bool missing = state != ODM_PRESENT;
      if (!missing && f->kind == ODM_KIND_STRING && !(f->flags & ODM_F_ARRAY)) {
         missing = **(char *const *) ODM_AT_CONST (base, f->offset) == '\0';
      }
      if (missing) {
         add_fmt (out, PATH (&fr), ODM_FIELD_RULE_NAME (required), MSG (f, required), "is required");
      }
   }
   if (state == ODM_ABSENT && !(f->flags & ODM_F_ARRAY) && unflagged_scalar (f, base)) {
      /* `doc.rating = 9` without `doc.has_rating = ODM_PRESENT`: the encoder would drop
       * it silently, so it is refused here (the generated setters set both). */
      add_fmt (out, PATH (&fr), "presence", NULL,
               "has a value but has_%s is ODM_ABSENT, so it would not be written: use the setter "
               "(or set has_%s = ODM_PRESENT)",
               f->name, f->name);
   }
   if (state == ODM_NULL && (f->flags & ODM_F_NULL_IS_ZERO) && !(f->flags & (ODM_F_REQUIRED | ODM_F_ARRAY))) {
      /* The platform's hook checks this range unguarded, and JavaScript reads null as 0. */
      if ((f->flags & ODM_F_MIN) && 0.0 < f->min) {
         odm_format_number (f->min, a, sizeof a);
         add_fmt (out, PATH (&fr), ODM_FIELD_RULE_NAME (min), MSG (f, min), "must be at least %s (got null, which the hook reads as 0)", a);
      }
      if ((f->flags & ODM_F_MAX) && 0.0 > f->max) {
         odm_format_number (f->max, a, sizeof a);
         add_fmt (out, PATH (&fr), ODM_FIELD_RULE_NAME (max), MSG (f, max), "must be at most %s (got null, which the hook reads as 0)", a);
      }
      return;
   }
   if (state != ODM_PRESENT || !has_value_rules (f)) {
      return;
   }
   if (f->flags & ODM_F_ARRAY) {
      size_t count, k;
      const char *items = odm_array_items (base, f, &count);
      for (k = 0; k < count; k++) {
         frame_t el = {&fr, NULL, k};
         validate_value (f, items + k * f->elem_size, &el, out);
      }
   } else {
      validate_value (f, ODM_AT_CONST (base, f->offset), &fr, out);
   }
}

void
odm_validate_field (const odm_field_t *f, const void *obj, const odm_vframe_t *up, odm_violations_t *out)
{
   validate_field (f, obj, up, out);
}

/* The field rules of the object at BASE: the generated code of its type when there is one
 * (the same checks, tested inline), else a walk of its table. */
static void
validate_object (const odm_object_desc_t *d, const void *base, const frame_t *up, odm_violations_t *out)
{
   uint32_t i;
   if (d->validate) {
      d->validate (base, up, out);
      return;
   }
   if (!(d->flags & ODM_O_VALUE_RULES)) {
      presence_only (d, base, up, out); /* no rule here or below */
      return;
   }
   for (i = 0; i < d->field_count; i++) {
      validate_field (&d->fields[i], base, up, out);
   }
}

bool
odm_validate_into (const odm_schema_t *schema, const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   odm_rule_ctx_t ctx;

   ctx.opts = opts;
   ctx.now_ms = (opts && opts->now_ms) ? opts->now_ms : odm_now_ms ();
   ctx.out = out;
   /* A pre-validate hook reads the document (odm-hooks.h): the cast does not license a change. */
   odm_hooks_run (schema, ODM_HOOK_PRE_VALIDATE, (void *) doc, opts, ctx.now_ms, NULL, out);
   validate_object (schema->root, doc, NULL, out);
   if (schema->rules) {
      schema->rules (doc, &ctx);
   }
   odm_validators_run (schema, doc, out);
   return out->count == 0;
}

void
odm_validate_fields (const odm_schema_t *schema, const void *doc, odm_violations_t *out)
{
   validate_object (schema->root, doc, NULL, out);
}

bool
odm_violations_run (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
                    odm_violations_t *out, odm_checked_step_fn step)
{
   odm_violations_t local;
   bool ok;
   if (!out) {
      out = &local;
   }
   odm_violations_init (out);
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC || !doc) {
      odm_violations_add (out, "", "argument", "schema or document is NULL");
      ok = false;
   } else {
      ok = step (schema, doc, arena, opts, out);
   }
   if (out == &local) {
      odm_violations_cleanup (&local);
   }
   return ok;
}

static bool
validate_step (const odm_schema_t *schema, void *doc, odm_arena_t *arena, const odm_prepare_opts_t *opts,
               odm_violations_t *out)
{
   (void) arena;
   return odm_validate_into (schema, doc, opts, out);
}

bool
odm_validate (const odm_schema_t *schema, const void *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)
{
   /* validate_step only reads the document: the cast does not license a change */
   return odm_violations_run (schema, (void *) doc, NULL, opts, out, validate_step);
}
