/* libodm: a strict Extended JSON (v2, canonical and relaxed) reader.
 *
 * libbson's reader repairs what it should refuse (a non-hex $oid becomes zeros, {"$date": {}}
 * the epoch, an integer literal past 64 bits wraps), accepts text after the first value and
 * recurses without a bound. This one reads exactly one JSON object, refuses every malformed
 * Extended JSON wrapper with the path where it is, refuses integer literals outside int64
 * and number literals outside the double range, and bounds nesting at ODM_MAX_DEPTH before
 * descending (its recursion is at most ODM_MAX_DEPTH plus a few wrapper levels deep). */
#include "odm-private.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
   const char *p, *end, *start;
   odm_path_t path;
   bson_error_t *error;
   bool failed;
} jr_t;

/* A JSON value read into memory only where a wrapper needs to look at it before
 * deciding what to append: strings and numbers. */
typedef struct {
   char *str; /* bson_malloc'd, NUL-terminated (may hold NULs: see len) */
   size_t len;
} jstr_t;

static bool
jfail (jr_t *r, const char *fmt, const char *detail)
{
   if (!r->failed) {
      char msg[256];
      bson_snprintf (msg, sizeof msg, fmt, detail ? detail : "");
      odm_set_error (r->error, ODM_ERROR_JSON, r->path.buf, "%s (at byte %zu)", msg, (size_t) (r->p - r->start));
      r->failed = true;
   }
   return false;
}

static void
skip_ws (jr_t *r)
{
   while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) {
      r->p++;
   }
}

static bool
expect (jr_t *r, char c)
{
   skip_ws (r);
   if (r->p >= r->end || *r->p != c) {
      char want[2] = {c, 0};
      return jfail (r, "expected '%s'", want);
   }
   r->p++;
   return true;
}

static int
hexval (char c)
{
   if (c >= '0' && c <= '9') {
      return c - '0';
   }
   if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
   }
   if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
   }
   return -1;
}

static bool
read_u4 (jr_t *r, uint32_t *out)
{
   int i;
   *out = 0;
   if (r->end - r->p < 4) {
      return jfail (r, "truncated \\u escape", NULL);
   }
   for (i = 0; i < 4; i++) {
      int h = hexval (r->p[i]);
      if (h < 0) {
         return jfail (r, "bad \\u escape", NULL);
      }
      *out = (*out << 4) | (uint32_t) h;
   }
   r->p += 4;
   return true;
}

/* Reads a JSON string (at the opening quote) into S: escapes resolved, UTF-8 checked. */
static bool
read_string (jr_t *r, jstr_t *s)
{
   size_t cap = 32, n = 0;
   char *buf;
   skip_ws (r);
   if (r->p >= r->end || *r->p != '"') {
      return jfail (r, "expected a string", NULL);
   }
   r->p++;
   buf = bson_malloc (cap);
   for (;;) {
      unsigned char c;
      char enc[4];
      size_t k = 0;
      if (r->p >= r->end) {
         bson_free (buf);
         return jfail (r, "unterminated string", NULL);
      }
      c = (unsigned char) *r->p;
      if (c == '"') {
         r->p++;
         break;
      }
      if (c < 0x20) {
         bson_free (buf);
         return jfail (r, "control character in a string (escape it)", NULL);
      }
      if (c == '\\') {
         char e;
         r->p++;
         if (r->p >= r->end) {
            bson_free (buf);
            return jfail (r, "unterminated string", NULL);
         }
         e = *r->p++;
         switch (e) {
         case '"': enc[k++] = '"'; break;
         case '\\': enc[k++] = '\\'; break;
         case '/': enc[k++] = '/'; break;
         case 'b': enc[k++] = '\b'; break;
         case 'f': enc[k++] = '\f'; break;
         case 'n': enc[k++] = '\n'; break;
         case 'r': enc[k++] = '\r'; break;
         case 't': enc[k++] = '\t'; break;
         case 'u': {
            uint32_t cp, lo;
            if (!read_u4 (r, &cp)) {
               bson_free (buf);
               return false;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
               if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u') {
                  bson_free (buf);
                  return jfail (r, "lone UTF-16 surrogate in a \\u escape", NULL);
               }
               r->p += 2;
               if (!read_u4 (r, &lo)) {
                  bson_free (buf);
                  return false;
               }
               if (lo < 0xDC00 || lo > 0xDFFF) {
                  bson_free (buf);
                  return jfail (r, "lone UTF-16 surrogate in a \\u escape", NULL);
               }
               cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
               bson_free (buf);
               return jfail (r, "lone UTF-16 surrogate in a \\u escape", NULL);
            }
            if (cp < 0x80) {
               enc[k++] = (char) cp;
            } else if (cp < 0x800) {
               enc[k++] = (char) (0xC0 | (cp >> 6));
               enc[k++] = (char) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
               enc[k++] = (char) (0xE0 | (cp >> 12));
               enc[k++] = (char) (0x80 | ((cp >> 6) & 0x3F));
               enc[k++] = (char) (0x80 | (cp & 0x3F));
            } else {
               enc[k++] = (char) (0xF0 | (cp >> 18));
               enc[k++] = (char) (0x80 | ((cp >> 12) & 0x3F));
               enc[k++] = (char) (0x80 | ((cp >> 6) & 0x3F));
               enc[k++] = (char) (0x80 | (cp & 0x3F));
            }
            break;
         }
         default:
            bson_free (buf);
            return jfail (r, "bad escape in a string", NULL);
         }
      } else {
         /* One UTF-8 character, checked strictly. */
         size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
         if ((size_t) (r->end - r->p) < len || !odm_utf8_valid (r->p, len)) {
            bson_free (buf);
            return jfail (r, "string is not valid UTF-8", NULL);
         }
         memcpy (enc, r->p, len);
         k = len;
         r->p += len;
      }
      if (n + k + 1 > cap) {
         cap = (n + k + 1) * 2;
         buf = bson_realloc (buf, cap);
      }
      memcpy (buf + n, enc, k);
      n += k;
   }
   buf[n] = '\0';
   s->str = buf;
   s->len = n;
   return true;
}

/* ------------------------------------------------------------------ numbers */

/* A JSON number literal at r->p: its text in TEXT (NUL-terminated), whether it is an
 * integer (no fraction, no exponent). */
static bool
scan_number (jr_t *r, char *text, size_t cap, bool *integer)
{
   const char *s = r->p;
   size_t n;
   *integer = true;
   if (s < r->end && *s == '-') {
      s++;
   }
   if (s >= r->end || !(*s >= '0' && *s <= '9')) {
      return jfail (r, "not a JSON value", NULL);
   }
   if (*s == '0') {
      s++;
      if (s < r->end && *s >= '0' && *s <= '9') {
         return jfail (r, "a number may not have leading zeros", NULL);
      }
   } else {
      while (s < r->end && *s >= '0' && *s <= '9') {
         s++;
      }
   }
   if (s < r->end && *s == '.') {
      *integer = false;
      s++;
      if (s >= r->end || !(*s >= '0' && *s <= '9')) {
         return jfail (r, "a fraction needs digits", NULL);
      }
      while (s < r->end && *s >= '0' && *s <= '9') {
         s++;
      }
   }
   if (s < r->end && (*s == 'e' || *s == 'E')) {
      *integer = false;
      s++;
      if (s < r->end && (*s == '+' || *s == '-')) {
         s++;
      }
      if (s >= r->end || !(*s >= '0' && *s <= '9')) {
         return jfail (r, "an exponent needs digits", NULL);
      }
      while (s < r->end && *s >= '0' && *s <= '9') {
         s++;
      }
   }
   n = (size_t) (s - r->p);
   if (n >= cap) {
      return jfail (r, "number literal too long", NULL);
   }
   memcpy (text, r->p, n);
   text[n] = '\0';
   r->p = s;
   return true;
}

/* Integer text (optional '-', digits only) to int64; false when out of range. */
static bool
parse_int64 (const char *s, int64_t *out)
{
   char *end;
   long long v;
   if (!*s || (*s != '-' && !(*s >= '0' && *s <= '9'))) {
      return false;
   }
   if (*s == '-' && !(s[1] >= '0' && s[1] <= '9')) {
      return false;
   }
   errno = 0;
   v = strtoll (s, &end, 10);
   if (*end || errno == ERANGE) {
      return false;
   }
   *out = (int64_t) v;
   return true;
}

/* Finite double from text in JSON's number grammar; false when out of range. */
static bool
parse_double (const char *s, double *out)
{
   char *end;
   double v = strtod (s, &end);
   if (*end || isinf (v)) {
      return false;
   }
   *out = v;
   return true;
}

/* --------------------------------------------------------------- wrappers */

static bool read_value (jr_t *r, bson_t *parent, const char *key, size_t key_len, int depth);
static bool read_members (jr_t *r, bson_t *doc, int depth, const char *first_key, size_t first_len);

static bool
append_ok (jr_t *r, bool ok)
{
   return ok ? true : jfail (r, "the document grew past the maximum BSON size", NULL);
}

/* Reads ':' then a string value. */
static bool
member_string (jr_t *r, jstr_t *s)
{
   return expect (r, ':') && read_string (r, s);
}

/* After the last member of a wrapper: '}' must follow. */
static bool
end_wrapper (jr_t *r, const char *wrapper)
{
   skip_ws (r);
   if (r->p < r->end && *r->p == '}') {
      r->p++;
      return true;
   }
   return jfail (r, "%s takes no other keys", wrapper);
}

/* Reads the next member's key (after ','), or reports that the object ended. */
static bool
next_key (jr_t *r, jstr_t *key, bool *ended)
{
   skip_ws (r);
   *ended = false;
   if (r->p < r->end && *r->p == '}') {
      r->p++;
      *ended = true;
      return true;
   }
   return expect (r, ',') && read_string (r, key);
}

static bool
oid_from_hex (const char *s, size_t len, bson_oid_t *oid)
{
   size_t i;
   if (len != 24) {
      return false;
   }
   for (i = 0; i < 24; i++) {
      if (hexval (s[i]) < 0) {
         return false;
      }
   }
   bson_oid_init_from_string (oid, s);
   return true;
}

/* {"$oid": "..."} after its key; appends. */
static bool
wrap_oid (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   jstr_t s;
   bson_oid_t oid;
   bool ok;
   if (!member_string (r, &s)) {
      return r->failed ? false : jfail (r, "$oid takes a string of 24 hex digits", NULL);
   }
   ok = oid_from_hex (s.str, s.len, &oid);
   bson_free (s.str);
   if (!ok) {
      return jfail (r, "$oid takes a string of 24 hex digits", NULL);
   }
   return end_wrapper (r, "$oid") && append_ok (r, bson_append_oid (parent, key, (int) key_len, &oid));
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil (int64_t y, int64_t m, int64_t d)
{
   int64_t era, yoe, doy, doe;
   y -= m <= 2;
   era = (y >= 0 ? y : y - 399) / 400;
   yoe = y - era * 400;
   doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
   doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
   return era * 146097 + doe - 719468;
}

static bool
digits (const char *s, int n, int *out)
{
   int i, v = 0;
   for (i = 0; i < n; i++) {
      if (s[i] < '0' || s[i] > '9') {
         return false;
      }
      v = v * 10 + (s[i] - '0');
   }
   *out = v;
   return true;
}

/* ISO-8601 as Extended JSON writes it: YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM|+HHMM). */
bool
odm_parse_iso8601 (const char *s, int64_t *ms)
{
   int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
   int64_t frac = 0, scale = 1000;
   static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
   size_t len = strlen (s);
   const char *p;
   if (len < 20 || !digits (s, 4, &y) || s[4] != '-' || !digits (s + 5, 2, &mo) || s[7] != '-' ||
       !digits (s + 8, 2, &d) || s[10] != 'T' || !digits (s + 11, 2, &h) || s[13] != ':' ||
       !digits (s + 14, 2, &mi) || s[16] != ':' || !digits (s + 17, 2, &sec)) {
      return false;
   }
   if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59) {
      return false;
   }
   if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
      return false;
   }
   p = s + 19;
   if (*p == '.') {
      int n = 0;
      p++;
      while (*p >= '0' && *p <= '9') {
         if (n < 3) {
            frac = frac * 10 + (*p - '0');
            scale /= 10;
         }
         n++;
         p++;
      }
      if (n == 0 || n > 9) {
         return false;
      }
      frac *= scale;
   }
   if (*p == 'Z') {
      p++;
   } else if (*p == '+' || *p == '-') {
      sign = *p == '+' ? 1 : -1;
      p++;
      if (!digits (p, 2, &oh)) {
         return false;
      }
      p += 2;
      if (*p == ':') {
         p++;
      }
      if (!digits (p, 2, &om) || oh > 23 || om > 59) {
         return false;
      }
      p += 2;
   } else {
      return false;
   }
   if (*p) {
      return false;
   }
   *ms = ((days_from_civil (y, mo, d) * 24 + h) * 60 + mi) * 60 + sec;
   *ms = *ms * 1000 + frac - (int64_t) sign * ((int64_t) oh * 60 + om) * 60000;
   return true;
}

/* {"$numberLong": "..."} as the value of a wrapper member (the '{' is next). */
static bool
read_number_long_object (jr_t *r, int64_t *out)
{
   jstr_t k, v;
   bool ok;
   if (!expect (r, '{') || !read_string (r, &k)) {
      return false;
   }
   ok = strcmp (k.str, "$numberLong") == 0 && k.len == 11;
   bson_free (k.str);
   if (!ok) {
      return false;
   }
   if (!member_string (r, &v)) {
      return false;
   }
   ok = parse_int64 (v.str, out) && strlen (v.str) == v.len;
   bson_free (v.str);
   return ok && end_wrapper (r, "$numberLong");
}

static bool
wrap_date (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   int64_t ms;
   const char *msg = "$date takes an ISO-8601 string or {\"$numberLong\": \"<milliseconds>\"}";
   if (!expect (r, ':')) {
      return false;
   }
   skip_ws (r);
   if (r->p < r->end && *r->p == '"') {
      jstr_t s;
      bool ok;
      if (!read_string (r, &s)) {
         return false;
      }
      ok = strlen (s.str) == s.len && odm_parse_iso8601 (s.str, &ms);
      bson_free (s.str);
      if (!ok) {
         return jfail (r, "%s", msg);
      }
   } else if (r->p < r->end && *r->p == '{') {
      if (!read_number_long_object (r, &ms)) {
         r->failed = false;
         return jfail (r, "%s", msg);
      }
   } else {
      return jfail (r, "%s", msg);
   }
   return end_wrapper (r, "$date") && append_ok (r, bson_append_date_time (parent, key, (int) key_len, ms));
}

static bool
wrap_number (jr_t *r, const char *which, bson_t *parent, const char *key, size_t key_len)
{
   jstr_t s;
   bool ok = false;
   if (!member_string (r, &s)) {
      return r->failed ? false : jfail (r, "%s takes a string", which);
   }
   if (strlen (s.str) != s.len) {
      bson_free (s.str);
      return jfail (r, "%s takes a number in a string", which);
   }
   if (!strcmp (which, "$numberInt")) {
      int64_t v;
      ok = parse_int64 (s.str, &v) && v >= INT32_MIN && v <= INT32_MAX && end_wrapper (r, which) &&
           append_ok (r, bson_append_int32 (parent, key, (int) key_len, (int32_t) v));
      if (!ok && !r->failed) {
         jfail (r, "$numberInt takes a 32-bit integer in a string (\"-2147483648\" to \"2147483647\")", NULL);
      }
   } else if (!strcmp (which, "$numberLong")) {
      int64_t v;
      ok = parse_int64 (s.str, &v) && end_wrapper (r, which) &&
           append_ok (r, bson_append_int64 (parent, key, (int) key_len, v));
      if (!ok && !r->failed) {
         jfail (r, "$numberLong takes a 64-bit integer in a string", NULL);
      }
   } else if (!strcmp (which, "$numberDouble")) {
      double v = 0;
      bool parsed;
      if (!strcmp (s.str, "Infinity")) {
         v = INFINITY, parsed = true;
      } else if (!strcmp (s.str, "-Infinity")) {
         v = -INFINITY, parsed = true;
      } else if (!strcmp (s.str, "NaN")) {
         v = NAN, parsed = true;
      } else {
         /* JSON's number grammar, nothing else (no hex, no "inf", no spaces). */
         jr_t sub = *r;
         char text[400];
         bool integer;
         sub.p = s.str;
         sub.end = s.str + s.len;
         sub.failed = true; /* silent */
         parsed = scan_number (&sub, text, sizeof text, &integer) && sub.p == sub.end && parse_double (text, &v);
      }
      ok = parsed && end_wrapper (r, which) && append_ok (r, bson_append_double (parent, key, (int) key_len, v));
      if (!ok && !r->failed) {
         jfail (r, "$numberDouble takes a finite number, \"Infinity\", \"-Infinity\" or \"NaN\" in a string", NULL);
      }
   } else { /* $numberDecimal */
      bson_decimal128_t dec;
      ok = bson_decimal128_from_string (s.str, &dec) && end_wrapper (r, which) &&
           append_ok (r, bson_append_decimal128 (parent, key, (int) key_len, &dec));
      if (!ok && !r->failed) {
         jfail (r, "$numberDecimal takes a decimal number in a string", NULL);
      }
   }
   bson_free (s.str);
   return ok;
}

static bool
base64_decode (const char *s, size_t len, uint8_t **out, size_t *out_len)
{
   size_t i, n = 0, pad = 0;
   uint8_t *buf;
   uint32_t acc = 0;
   int bits = 0;
   if (len % 4) {
      return false;
   }
   buf = bson_malloc (len / 4 * 3 + 1);
   for (i = 0; i < len; i++) {
      char c = s[i];
      int v;
      if (c >= 'A' && c <= 'Z') {
         v = c - 'A';
      } else if (c >= 'a' && c <= 'z') {
         v = c - 'a' + 26;
      } else if (c >= '0' && c <= '9') {
         v = c - '0' + 52;
      } else if (c == '+') {
         v = 62;
      } else if (c == '/') {
         v = 63;
      } else if (c == '=' && i >= len - 2) {
         pad++;
         continue;
      } else {
         bson_free (buf);
         return false;
      }
      if (pad) {
         bson_free (buf);
         return false;
      }
      acc = (acc << 6) | (uint32_t) v;
      bits += 6;
      if (bits >= 8) {
         bits -= 8;
         buf[n++] = (uint8_t) (acc >> bits);
      }
   }
   /* Padding must complete the last quantum; leftover bits must be zero. */
   if ((pad == 1 && bits != 2) || (pad == 2 && bits != 4) || (acc & ((1u << bits) - 1)) != 0) {
      bson_free (buf);
      return false;
   }
   *out = buf;
   *out_len = n;
   return true;
}

static bool
subtype_from_hex (const char *s, size_t len, int *out)
{
   int h1, h2;
   if (len == 1 && (h1 = hexval (s[0])) >= 0) {
      *out = h1;
      return true;
   }
   if (len == 2 && (h1 = hexval (s[0])) >= 0 && (h2 = hexval (s[1])) >= 0) {
      *out = h1 * 16 + h2;
      return true;
   }
   return false;
}

static bool
append_binary (jr_t *r, bson_t *parent, const char *key, size_t key_len, int subtype, const char *b64, size_t b64_len)
{
   uint8_t *data;
   size_t n;
   bool ok;
   if (!base64_decode (b64, b64_len, &data, &n)) {
      return jfail (r, "$binary: base64 is not valid", NULL);
   }
   if (subtype == BSON_SUBTYPE_UUID && n != 16) {
      bson_free (data);
      return jfail (r, "$binary: a UUID (subtype 4) has 16 bytes", NULL);
   }
   ok = append_ok (r, bson_append_binary (parent, key, (int) key_len, (bson_subtype_t) subtype, data, (uint32_t) n));
   bson_free (data);
   return ok;
}

/* {"$binary": {"base64": ..., "subType": ...}} or the legacy {"$binary": ..., "$type": ...}. */
static bool
wrap_binary (jr_t *r, bson_t *parent, const char *key, size_t key_len, bool binary_first)
{
   jstr_t b64 = {NULL, 0}, st = {NULL, 0};
   int subtype = -1;
   bool ok = false, ended;
   const char *msg = "$binary takes {\"base64\": <string>, \"subType\": <1 or 2 hex digits>}";

   if (!expect (r, ':')) {
      return false;
   }
   skip_ws (r);
   if (binary_first && r->p < r->end && *r->p == '{') {
      /* canonical: two keys in any order */
      jstr_t k;
      int i;
      r->p++;
      for (i = 0; i < 2; i++) {
         if (i && !expect (r, ',')) {
            goto done;
         }
         if (!read_string (r, &k)) {
            goto done;
         }
         if (!strcmp (k.str, "base64") && !b64.str) {
            bson_free (k.str);
            if (!member_string (r, &b64)) {
               goto done;
            }
         } else if (!strcmp (k.str, "subType") && !st.str) {
            bson_free (k.str);
            if (!member_string (r, &st)) {
               goto done;
            }
         } else {
            bson_free (k.str);
            jfail (r, "%s", msg);
            goto done;
         }
      }
      if (!end_wrapper (r, "$binary's document") || !end_wrapper (r, "$binary")) {
         goto done;
      }
   } else {
      /* legacy: {"$binary": "<base64>", "$type": "<hex>"} in either order */
      jstr_t k;
      if (!read_string (r, binary_first ? &b64 : &st)) {
         goto done;
      }
      if (!next_key (r, &k, &ended) || ended) {
         if (!r->failed) {
            jfail (r, "%s", msg);
         }
         goto done;
      }
      if (strcmp (k.str, binary_first ? "$type" : "$binary") != 0) {
         bson_free (k.str);
         jfail (r, "%s", msg);
         goto done;
      }
      bson_free (k.str);
      if (!member_string (r, binary_first ? &st : &b64) || !end_wrapper (r, "$binary")) {
         goto done;
      }
   }
   if (!b64.str || !st.str || !subtype_from_hex (st.str, st.len, &subtype)) {
      jfail (r, "%s", msg);
      goto done;
   }
   ok = append_binary (r, parent, key, key_len, subtype, b64.str, b64.len);
done:
   bson_free (b64.str);
   bson_free (st.str);
   if (!ok && !r->failed) {
      jfail (r, "%s", msg);
   }
   return ok;
}

static bool
wrap_uuid (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   jstr_t s;
   uint8_t bytes[16];
   size_t i, n = 0;
   bool ok = true;
   if (!member_string (r, &s)) {
      return false;
   }
   if (s.len != 36) {
      ok = false;
   }
   for (i = 0; ok && i < 36; i++) {
      if (i == 8 || i == 13 || i == 18 || i == 23) {
         ok = s.str[i] == '-';
      } else if (hexval (s.str[i]) < 0 || hexval (s.str[i + 1]) < 0) {
         ok = false;
      } else {
         bytes[n++] = (uint8_t) (hexval (s.str[i]) * 16 + hexval (s.str[i + 1]));
         i++;
      }
   }
   bson_free (s.str);
   if (!ok || n != 16) {
      return jfail (r, "$uuid takes a string of the form 00000000-0000-0000-0000-000000000000", NULL);
   }
   return end_wrapper (r, "$uuid") &&
          append_ok (r, bson_append_binary (parent, key, (int) key_len, BSON_SUBTYPE_UUID, bytes, 16));
}

/* Regex options: letters of "ilmsux", each at most once, any order; written sorted. */
static bool
sorted_options (const char *in, size_t len, char *out)
{
   static const char order[] = "ilmsux";
   bool seen[6] = {false};
   size_t i, n = 0;
   if (strlen (in) != len) {
      return false;
   }
   for (i = 0; i < len; i++) {
      const char *p = strchr (order, in[i]);
      if (!in[i] || !p || seen[p - order]) {
         return false;
      }
      seen[p - order] = true;
   }
   for (i = 0; i < 6; i++) {
      if (seen[i]) {
         out[n++] = order[i];
      }
   }
   out[n] = '\0';
   return true;
}

static bool
append_regex (jr_t *r, bson_t *parent, const char *key, size_t key_len, const jstr_t *pat, const jstr_t *opt)
{
   char sorted[8];
   if (strlen (pat->str) != pat->len) {
      return jfail (r, "a regex pattern may not hold a NUL", NULL);
   }
   if (!sorted_options (opt->str, opt->len, sorted)) {
      return jfail (r, "regex options are letters of \"ilmsux\", each at most once", NULL);
   }
   return append_ok (r, bson_append_regex (parent, key, (int) key_len, pat->str, sorted));
}

/* {"$regularExpression": {"pattern": ..., "options": ...}} */
static bool
wrap_regular_expression (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   jstr_t pat = {NULL, 0}, opt = {NULL, 0}, k;
   const char *msg = "$regularExpression takes {\"pattern\": <string>, \"options\": <string>}";
   bool ok = false;
   int i;
   if (!expect (r, ':') || !expect (r, '{')) {
      goto done;
   }
   for (i = 0; i < 2; i++) {
      if ((i && !expect (r, ',')) || !read_string (r, &k)) {
         goto done;
      }
      if (!strcmp (k.str, "pattern") && !pat.str) {
         bson_free (k.str);
         if (!member_string (r, &pat)) {
            goto done;
         }
      } else if (!strcmp (k.str, "options") && !opt.str) {
         bson_free (k.str);
         if (!member_string (r, &opt)) {
            goto done;
         }
      } else {
         bson_free (k.str);
         goto done;
      }
   }
   ok = end_wrapper (r, "$regularExpression's document") && end_wrapper (r, "$regularExpression") &&
        append_regex (r, parent, key, key_len, &pat, &opt);
done:
   bson_free (pat.str);
   bson_free (opt.str);
   if (!ok && !r->failed) {
      jfail (r, "%s", msg);
   }
   return ok;
}

/* {"$timestamp": {"t": <uint32>, "i": <uint32>}} */
static bool
wrap_timestamp (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   const char *msg = "$timestamp takes {\"t\": <0 to 4294967295>, \"i\": <0 to 4294967295>}";
   int64_t t = -1, inc = -1;
   int i;
   if (!expect (r, ':') || !expect (r, '{')) {
      return r->failed ? false : jfail (r, "%s", msg);
   }
   for (i = 0; i < 2; i++) {
      jstr_t k;
      char text[64];
      bool integer;
      int64_t v;
      int64_t *dst;
      if ((i && !expect (r, ',')) || !read_string (r, &k)) {
         r->failed = false;
         return jfail (r, "%s", msg);
      }
      dst = !strcmp (k.str, "t") ? &t : !strcmp (k.str, "i") ? &inc : NULL;
      bson_free (k.str);
      if (!dst || *dst >= 0 || !expect (r, ':')) {
         r->failed = false;
         return jfail (r, "%s", msg);
      }
      skip_ws (r);
      if (!scan_number (r, text, sizeof text, &integer) || !integer || !parse_int64 (text, &v) || v < 0 ||
          v > (int64_t) UINT32_MAX) {
         r->failed = false;
         return jfail (r, "%s", msg);
      }
      *dst = v;
   }
   return end_wrapper (r, "$timestamp's document") && end_wrapper (r, "$timestamp") &&
          append_ok (r, bson_append_timestamp (parent, key, (int) key_len, (uint32_t) t, (uint32_t) inc));
}

/* {"$minKey": 1}, {"$maxKey": 1}, {"$undefined": true} */
static bool
wrap_constant (jr_t *r, const char *which, bson_t *parent, const char *key, size_t key_len)
{
   bool ok;
   if (!expect (r, ':')) {
      return false;
   }
   skip_ws (r);
   if (!strcmp (which, "$undefined")) {
      ok = r->end - r->p >= 4 && !memcmp (r->p, "true", 4);
      if (!ok) {
         return jfail (r, "$undefined takes true", NULL);
      }
      r->p += 4;
      return end_wrapper (r, which) && append_ok (r, bson_append_undefined (parent, key, (int) key_len));
   }
   ok = r->p < r->end && *r->p == '1' && (r->p + 1 == r->end || !(r->p[1] >= '0' && r->p[1] <= '9') ) &&
        (r->p + 1 == r->end || (r->p[1] != '.' && r->p[1] != 'e' && r->p[1] != 'E'));
   if (!ok) {
      return jfail (r, "%s takes 1", which);
   }
   r->p++;
   if (!end_wrapper (r, which)) {
      return false;
   }
   return append_ok (r, !strcmp (which, "$minKey") ? bson_append_minkey (parent, key, (int) key_len)
                                                   : bson_append_maxkey (parent, key, (int) key_len));
}

/* {"$code": ...} or {"$code": ..., "$scope": {...}} in either order. */
static bool
wrap_code (jr_t *r, bson_t *parent, const char *key, size_t key_len, bool code_first, int depth)
{
   jstr_t code = {NULL, 0}, k;
   bson_t scope;
   bool has_scope = false, ok = false, ended;
   bson_init (&scope);
   if (code_first) {
      if (!member_string (r, &code)) {
         goto done;
      }
   } else {
      if (!expect (r, ':') || !expect (r, '{') || depth + 1 > ODM_MAX_DEPTH) {
         if (!r->failed) {
            jfail (r, "nesting is deeper than 100 levels", NULL);
         }
         goto done;
      }
      if (!read_members (r, &scope, depth + 1, NULL, 0)) {
         goto done;
      }
      has_scope = true;
   }
   if (!next_key (r, &k, &ended)) {
      goto done;
   }
   if (!ended) {
      bool want_scope = code_first && !strcmp (k.str, "$scope");
      bool want_code = !code_first && !strcmp (k.str, "$code");
      bson_free (k.str);
      if (want_scope) {
         if (!expect (r, ':') || !expect (r, '{') || depth + 1 > ODM_MAX_DEPTH) {
            if (!r->failed) {
               jfail (r, "nesting is deeper than 100 levels", NULL);
            }
            goto done;
         }
         if (!read_members (r, &scope, depth + 1, NULL, 0)) {
            goto done;
         }
         has_scope = true;
      } else if (want_code) {
         if (!member_string (r, &code)) {
            goto done;
         }
      } else {
         jfail (r, "$code takes a string and an optional $scope document, nothing else", NULL);
         goto done;
      }
      if (!end_wrapper (r, "$code")) {
         goto done;
      }
   }
   if (!code.str) {
      jfail (r, "$scope needs $code", NULL);
      goto done;
   }
   if (strlen (code.str) != code.len) {
      jfail (r, "$code may not hold a NUL", NULL);
      goto done;
   }
   ok = append_ok (r, has_scope ? bson_append_code_with_scope (parent, key, (int) key_len, code.str, &scope)
                                : bson_append_code (parent, key, (int) key_len, code.str));
done:
   bson_free (code.str);
   bson_destroy (&scope);
   return ok;
}

/* {"$dbPointer": {"$ref": <string>, "$id": {"$oid": ...}}} */
static bool
wrap_dbpointer (jr_t *r, bson_t *parent, const char *key, size_t key_len)
{
   const char *msg = "$dbPointer takes {\"$ref\": <string>, \"$id\": {\"$oid\": <24 hex digits>}}";
   jstr_t ref = {NULL, 0}, k;
   bson_oid_t oid;
   bool has_oid = false, ok = false;
   int i;
   if (!expect (r, ':') || !expect (r, '{')) {
      goto done;
   }
   for (i = 0; i < 2; i++) {
      if ((i && !expect (r, ',')) || !read_string (r, &k)) {
         goto done;
      }
      if (!strcmp (k.str, "$ref") && !ref.str) {
         bson_free (k.str);
         if (!member_string (r, &ref)) {
            goto done;
         }
      } else if (!strcmp (k.str, "$id") && !has_oid) {
         jstr_t ok_key, hex;
         bson_free (k.str);
         if (!expect (r, ':') || !expect (r, '{') || !read_string (r, &ok_key)) {
            goto done;
         }
         if (strcmp (ok_key.str, "$oid") != 0) {
            bson_free (ok_key.str);
            goto done;
         }
         bson_free (ok_key.str);
         if (!member_string (r, &hex)) {
            goto done;
         }
         has_oid = oid_from_hex (hex.str, hex.len, &oid);
         bson_free (hex.str);
         if (!has_oid || !end_wrapper (r, "$oid")) {
            goto done;
         }
      } else {
         bson_free (k.str);
         goto done;
      }
   }
   if (!end_wrapper (r, "$dbPointer's document") || !end_wrapper (r, "$dbPointer")) {
      goto done;
   }
   if (strlen (ref.str) != ref.len) {
      goto done;
   }
   ok = append_ok (r, bson_append_dbpointer (parent, key, (int) key_len, ref.str, &oid));
done:
   bson_free (ref.str);
   if (!ok && !r->failed) {
      jfail (r, "%s", msg);
   }
   return ok;
}

/* --------------------------------------------------------------- structure */

static bool
key_ok (jr_t *r, const jstr_t *k)
{
   if (strlen (k->str) != k->len) {
      return jfail (r, "a key may not hold a NUL", NULL);
   }
   return true;
}

/* Members of an object whose '{' has been read, into DOC, up to and including '}'.
 * FIRST_KEY: the first member's key when the caller has read it already. */
static bool
read_members (jr_t *r, bson_t *doc, int depth, const char *first_key, size_t first_len)
{
   bool first = true;
   for (;;) {
      jstr_t k;
      size_t old;
      bool ok;
      if (first && first_key) {
         k.str = bson_strndup (first_key, first_len);
         k.len = first_len;
      } else {
         skip_ws (r);
         if (r->p < r->end && *r->p == '}' && first) {
            r->p++;
            return true;
         }
         if (!first && !expect (r, ',')) {
            return false;
         }
         if (!read_string (r, &k)) {
            return false;
         }
      }
      first = false;
      if (!key_ok (r, &k)) {
         bson_free (k.str);
         return false;
      }
      old = odm_path_push (&r->path, k.str, k.len);
      ok = expect (r, ':') && read_value (r, doc, k.str, k.len, depth);
      bson_free (k.str);
      if (!ok) {
         return false;
      }
      odm_path_pop (&r->path, old);
      skip_ws (r);
      if (r->p < r->end && *r->p == '}') {
         r->p++;
         return true;
      }
   }
}

/* An object at r->p (after '{'), the value of KEY in PARENT; DEPTH: the parent's level. */
static bool
read_object (jr_t *r, bson_t *parent, const char *key, size_t key_len, int depth)
{
   jstr_t k;
   bson_t child;
   bool ok;
   skip_ws (r);
   if (r->p < r->end && *r->p == '}') {
      if (depth + 1 > ODM_MAX_DEPTH) {
         return jfail (r, "nesting is deeper than 100 levels", NULL);
      }
      r->p++;
      return append_ok (r, bson_append_document_begin (parent, key, (int) key_len, &child) &&
                              bson_append_document_end (parent, &child));
   }
   if (!read_string (r, &k)) {
      return false;
   }
   /* Extended JSON wrappers: the first key says which. */
   if (k.str[0] == '$') {
      const char *w = k.str;
      ok = true;
      if (!strcmp (w, "$oid")) {
         ok = wrap_oid (r, parent, key, key_len);
      } else if (!strcmp (w, "$date")) {
         ok = wrap_date (r, parent, key, key_len);
      } else if (!strcmp (w, "$numberInt") || !strcmp (w, "$numberLong") || !strcmp (w, "$numberDouble") ||
                 !strcmp (w, "$numberDecimal")) {
         ok = wrap_number (r, w, parent, key, key_len);
      } else if (!strcmp (w, "$binary") || !strcmp (w, "$type")) {
         /* "$type" first is the legacy binary form only when its value is a string. */
         const char *save = r->p;
         bool legacy_type = false;
         if (!strcmp (w, "$type")) {
            skip_ws (r);
            if (r->p < r->end && *r->p == ':') {
               r->p++;
               skip_ws (r);
               legacy_type = r->p < r->end && *r->p == '"';
            }
            r->p = save;
         }
         if (!strcmp (w, "$binary") || legacy_type) {
            ok = wrap_binary (r, parent, key, key_len, !strcmp (w, "$binary"));
         } else {
            goto plain; /* a query's {"$type": ...} */
         }
      } else if (!strcmp (w, "$uuid")) {
         ok = wrap_uuid (r, parent, key, key_len);
      } else if (!strcmp (w, "$regularExpression")) {
         ok = wrap_regular_expression (r, parent, key, key_len);
      } else if (!strcmp (w, "$regex")) {
         /* Legacy {"$regex": <string>, "$options": <string>}; with a non-string value it is
          * a query operator, a plain document. */
         const char *save = r->p;
         jstr_t pat, opt, k2;
         bool ended;
         skip_ws (r);
         if (r->p < r->end && *r->p == ':') {
            r->p++;
            skip_ws (r);
         }
         if (r->p >= r->end || *r->p != '"') {
            r->p = save;
            goto plain;
         }
         if (!read_string (r, &pat)) {
            bson_free (k.str);
            return false;
         }
         ok = next_key (r, &k2, &ended) && !ended;
         if (ok) {
            ok = !strcmp (k2.str, "$options");
            bson_free (k2.str);
         }
         if (ok && member_string (r, &opt)) {
            ok = end_wrapper (r, "$regex") && append_regex (r, parent, key, key_len, &pat, &opt);
            bson_free (opt.str);
         } else {
            ok = false;
         }
         bson_free (pat.str);
         if (!ok && !r->failed) {
            jfail (r, "$regex takes {\"$regex\": <string>, \"$options\": <string>}", NULL);
         }
      } else if (!strcmp (w, "$timestamp")) {
         ok = wrap_timestamp (r, parent, key, key_len);
      } else if (!strcmp (w, "$minKey") || !strcmp (w, "$maxKey") || !strcmp (w, "$undefined")) {
         ok = wrap_constant (r, w, parent, key, key_len);
      } else if (!strcmp (w, "$code") || !strcmp (w, "$scope")) {
         ok = wrap_code (r, parent, key, key_len, !strcmp (w, "$code"), depth);
      } else if (!strcmp (w, "$symbol")) {
         jstr_t s;
         ok = member_string (r, &s);
         if (ok) {
            ok = strlen (s.str) == s.len ? end_wrapper (r, "$symbol") &&
                                              append_ok (r, bson_append_symbol (parent, key, (int) key_len, s.str, (int) s.len))
                                         : jfail (r, "$symbol may not hold a NUL", NULL);
            bson_free (s.str);
         } else if (!r->failed) {
            jfail (r, "$symbol takes a string", NULL);
         }
      } else if (!strcmp (w, "$dbPointer")) {
         ok = wrap_dbpointer (r, parent, key, key_len);
      } else {
         goto plain; /* $ref/$id (a DBRef) and other $-keys: a plain document */
      }
      bson_free (k.str);
      return ok;
   }
plain:
   if (depth + 1 > ODM_MAX_DEPTH) {
      bson_free (k.str);
      return jfail (r, "nesting is deeper than 100 levels", NULL);
   }
   if (!bson_append_document_begin (parent, key, (int) key_len, &child)) {
      bson_free (k.str);
      return append_ok (r, false);
   }
   ok = read_members (r, &child, depth + 1, k.str, k.len);
   bson_free (k.str);
   return append_ok (r, bson_append_document_end (parent, &child)) && ok;
}

static bool
read_array (jr_t *r, bson_t *parent, const char *key, size_t key_len, int depth)
{
   bson_t child;
   uint32_t i = 0;
   bool ok = true;
   if (depth + 1 > ODM_MAX_DEPTH) {
      return jfail (r, "nesting is deeper than 100 levels", NULL);
   }
   if (!bson_append_array_begin (parent, key, (int) key_len, &child)) {
      return append_ok (r, false);
   }
   skip_ws (r);
   if (r->p < r->end && *r->p == ']') {
      r->p++;
   } else {
      for (;;) {
         char buf[16];
         const char *ik;
         size_t il = odm_index_key (i, &ik, buf, sizeof buf);
         size_t old = odm_path_push_index (&r->path, i);
         ok = read_value (r, &child, ik, il, depth + 1);
         if (!ok) {
            break;
         }
         odm_path_pop (&r->path, old);
         i++;
         skip_ws (r);
         if (r->p < r->end && *r->p == ']') {
            r->p++;
            break;
         }
         if (!expect (r, ',')) {
            ok = false;
            break;
         }
      }
   }
   return append_ok (r, bson_append_array_end (parent, &child)) && ok;
}

static bool
literal (jr_t *r, const char *word)
{
   size_t n = strlen (word);
   if ((size_t) (r->end - r->p) >= n && memcmp (r->p, word, n) == 0) {
      r->p += n;
      return true;
   }
   return false;
}

/* A value, appended to PARENT as KEY. DEPTH: the level of PARENT (top-level document: 1). */
static bool
read_value (jr_t *r, bson_t *parent, const char *key, size_t key_len, int depth)
{
   skip_ws (r);
   if (r->p >= r->end) {
      return jfail (r, "unexpected end of the text", NULL);
   }
   switch (*r->p) {
   case '{':
      r->p++;
      return read_object (r, parent, key, key_len, depth);
   case '[':
      r->p++;
      return read_array (r, parent, key, key_len, depth);
   case '"': {
      jstr_t s;
      bool ok;
      if (!read_string (r, &s)) {
         return false;
      }
      ok = append_ok (r, bson_append_utf8 (parent, key, (int) key_len, s.str, (int) s.len));
      bson_free (s.str);
      return ok;
   }
   case 't':
      if (literal (r, "true")) {
         return append_ok (r, bson_append_bool (parent, key, (int) key_len, true));
      }
      break;
   case 'f':
      if (literal (r, "false")) {
         return append_ok (r, bson_append_bool (parent, key, (int) key_len, false));
      }
      break;
   case 'n':
      if (literal (r, "null")) {
         return append_ok (r, bson_append_null (parent, key, (int) key_len));
      }
      break;
   default: {
      char text[400];
      bool integer;
      const char *at = r->p;
      if (!scan_number (r, text, sizeof text, &integer)) {
         return false;
      }
      if (integer && strcmp (text, "-0") != 0) {
         int64_t v;
         if (!parse_int64 (text, &v)) {
            r->p = at;
            return jfail (r, "integer %s is outside the 64-bit range (write it with a fraction or an exponent "
                             "to mean the nearest double)", text);
         }
         if (v >= INT32_MIN && v <= INT32_MAX) {
            return append_ok (r, bson_append_int32 (parent, key, (int) key_len, (int32_t) v));
         }
         return append_ok (r, bson_append_int64 (parent, key, (int) key_len, v));
      } else {
         double v;
         if (!parse_double (text, &v)) {
            r->p = at;
            return jfail (r, "number %s is outside the range of a double", text);
         }
         return append_ok (r, bson_append_double (parent, key, (int) key_len, v));
      }
   }
   }
   return jfail (r, "not a JSON value", NULL);
}

bool
odm_json_to_bson (const char *json, size_t len, bson_t *out, bson_error_t *error)
{
   jr_t r;
   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   bson_init (out);
   if (!json) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "json is NULL");
      return false;
   }
   r.p = r.start = json;
   r.end = json + len;
   r.error = error;
   r.failed = false;
   odm_path_init (&r.path);
   skip_ws (&r);
   if (r.p >= r.end || *r.p != '{') {
      jfail (&r, "expected one JSON object", NULL);
   } else {
      r.p++;
      if (read_members (&r, out, 1, NULL, 0)) {
         skip_ws (&r);
         if (r.p != r.end) {
            odm_path_init (&r.path);
            jfail (&r, "text after the JSON object (one object per line)", NULL);
         }
      }
   }
   if (r.failed) {
      bson_reinit (out);
      return false;
   }
   return true;
}
