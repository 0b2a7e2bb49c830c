/* odmgen's text helpers: errors, output buffers, C literals and names, JSON access, files. */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *cur_file = "";
const char *hdr_dir = "odm/gen";

void
die (const char *where, const char *fmt, ...)
{
   va_list ap;
   fprintf (stderr, "odmgen: %s: %s: ", cur_file, where);
   va_start (ap, fmt);
   vfprintf (stderr, fmt, ap);
   va_end (ap);
   fputc ('\n', stderr);
   exit (1);
}

char *
xstrdup (const char *s)
{
   return s ? bson_strdup (s) : NULL;
}

char *
fmt (const char *f, ...)
{
   va_list ap;
   char *s;
   va_start (ap, f);
   s = bson_strdupv_printf (f, ap);
   va_end (ap);
   return s;
}

void
out (buf_t *b, const char *f, ...)
{
   va_list ap;
   char *s;
   size_t n;
   va_start (ap, f);
   s = bson_strdupv_printf (f, ap);
   va_end (ap);
   n = strlen (s);
   if (b->len + n + 1 > b->cap) {
      b->cap = (b->len + n + 1) * 2;
      b->s = bson_realloc (b->s, b->cap);
   }
   memcpy (b->s + b->len, s, n + 1);
   b->len += n;
   bson_free (s);
}

/* C string literal for S. */
char *
cstr (const char *s)
{
   buf_t b = {0};
   out (&b, "\"");
   for (; *s; s++) {
      unsigned char c = (unsigned char) *s;
      if (c == '"' || c == '\\') {
         out (&b, "\\%c", c);
      } else if (c == '\n') {
         out (&b, "\\n");
      } else if (c < 0x20 || c >= 0x7f) {
         out (&b, "\\%03o", c);
      } else {
         out (&b, "%c", c);
      }
   }
   out (&b, "\"");
   return b.s;
}

/* Text for a comment: no comment terminators. */
char *
ctext (const char *s)
{
   char *r = xstrdup (s), *p;
   while ((p = strstr (r, "*/"))) {
      p[0] = '*', p[1] = ' ';
   }
   return r;
}

/* Shortest text that reads back as V; integral values without an exponent. */
char *
num_text (double v, bool c_literal)
{
   char buf[48];
   int prec;
   if (v == (double) (long long) v && v > -1e15 && v < 1e15) {
      snprintf (buf, sizeof buf, c_literal ? "%.1f" : "%.0f", v);
      return xstrdup (buf);
   }
   for (prec = 1; prec <= 17; prec++) {
      snprintf (buf, sizeof buf, "%.*g", prec, v);
      if (strtod (buf, NULL) == v) {
         break;
      }
   }
   return xstrdup (buf);
}

char *
num (double v)
{
   return num_text (v, true);
}

static const char *const c_keywords[] = {
   "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
   "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
   "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
   "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
   /* C++: generated headers compile as C++ too (tests/cxx-headers.sh) */
   "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "catch", "char8_t", "char16_t", "char32_t",
   "class", "compl", "concept", "consteval", "constexpr", "constinit", "const_cast", "co_await", "co_return",
   "co_yield", "decltype", "delete", "dynamic_cast", "explicit", "export", "friend", "mutable", "namespace", "new",
   "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private", "protected", "public",
   "reinterpret_cast", "requires", "static_assert", "static_cast", "template", "this", "thread_local", "throw",
   "try", "typeid", "typename", "using", "virtual", "wchar_t", "xor", "xor_eq", NULL};

char *
c_member (const char *name, const char *where)
{
   const char *p;
   int i;
   if (!*name || !(isalpha ((unsigned char) *name) || *name == '_')) {
      die (where, "field name \"%s\" is not a C identifier", name);
   }
   for (p = name; *p; p++) {
      if (!(isalnum ((unsigned char) *p) || *p == '_')) {
         die (where, "field name \"%s\" is not a C identifier", name);
      }
   }
   for (i = 0; c_keywords[i]; i++) {
      if (strcmp (name, c_keywords[i]) == 0) {
         return fmt ("%s_", name);
      }
   }
   return xstrdup (name);
}

bool
is_snake (const char *s)
{
   if (!*s || !islower ((unsigned char) *s)) {
      return false;
   }
   for (; *s; s++) {
      if (!(islower ((unsigned char) *s) || isdigit ((unsigned char) *s) || *s == '_')) {
         return false;
      }
   }
   return true;
}

const char *
want_utf8 (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_UTF8 (it)) {
      die (where, "\"%s\" must be a string", bson_iter_key (it));
   }
   return bson_iter_utf8 (it, NULL);
}

bool
want_bool (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_BOOL (it)) {
      die (where, "\"%s\" must be true or false", bson_iter_key (it));
   }
   return bson_iter_bool (it);
}

double
want_number (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_NUMBER (it)) {
      die (where, "\"%s\" must be a number", bson_iter_key (it));
   }
   return bson_iter_as_double (it);
}

void
want_array (bson_iter_t *it, bson_iter_t *child, const char *where)
{
   if (!BSON_ITER_HOLDS_ARRAY (it) || !bson_iter_recurse (it, child)) {
      die (where, "\"%s\" must be an array", bson_iter_key (it));
   }
}

void
want_doc (bson_iter_t *it, bson_iter_t *child, const char *where)
{
   if (!BSON_ITER_HOLDS_DOCUMENT (it) || !bson_iter_recurse (it, child)) {
      die (where, "\"%s\" must be an object", bson_iter_key (it));
   }
}

char *
read_file (const char *path, size_t *len)
{
   FILE *f = fopen (path, "rb");
   char *s;
   long n;
   if (!f) {
      fprintf (stderr, "odmgen: %s: %s\n", path, strerror (errno));
      exit (1);
   }
   fseek (f, 0, SEEK_END);
   n = ftell (f);
   fseek (f, 0, SEEK_SET);
   s = bson_malloc ((size_t) n + 1);
   if (fread (s, 1, (size_t) n, f) != (size_t) n) {
      fprintf (stderr, "odmgen: %s: read error\n", path);
      exit (1);
   }
   s[n] = '\0';
   fclose (f);
   *len = (size_t) n;
   return s;
}

void
mkdirs (const char *path)
{
   char *p = xstrdup (path), *s;
   for (s = p + 1; *s; s++) {
      if (*s == '/') {
         *s = '\0';
         mkdir (p, 0755);
         *s = '/';
      }
   }
   mkdir (p, 0755);
   bson_free (p);
}

/* Writes CONTENT to PATH unless it already holds exactly that (keeps make incremental). */
void
write_if_changed (const char *path, const buf_t *content)
{
   FILE *f = fopen (path, "rb");
   if (f) {
      size_t len;
      char *old;
      fclose (f);
      old = read_file (path, &len);
      if (len == content->len && memcmp (old, content->s, len) == 0) {
         bson_free (old);
         return;
      }
      bson_free (old);
   }
   f = fopen (path, "wb");
   if (!f || fwrite (content->s, 1, content->len, f) != content->len || fclose (f) != 0) {
      fprintf (stderr, "odmgen: cannot write %s\n", path);
      exit (1);
   }
}

const char *
base_name (const char *p)
{
   const char *s = strrchr (p, '/');
   return s ? s + 1 : p;
}

const char *
get_str (const bson_t *d, const char *key, const char *where)
{
   bson_iter_t it;
   if (!bson_iter_init_find (&it, d, key)) {
      die (where, "missing \"%s\"", key);
   }
   return want_utf8 (&it, where);
}

double
get_num (const bson_t *d, const char *key, const char *where)
{
   bson_iter_t it;
   if (!bson_iter_init_find (&it, d, key)) {
      die (where, "missing \"%s\"", key);
   }
   return want_number (&it, where);
}

void
check_keys (const bson_t *d, const char *const *allowed, const char *where)
{
   bson_iter_t it;
   bson_iter_init (&it, d);
   while (bson_iter_next (&it)) {
      size_t i;
      bool ok = false;
      for (i = 0; allowed[i] && !ok; i++) {
         ok = !strcmp (allowed[i], bson_iter_key (&it));
      }
      if (!ok) {
         die (where, "unknown key \"%s\"", bson_iter_key (&it));
      }
   }
}
