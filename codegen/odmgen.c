/* odmgen: turns libodm collection specs (JSON, docs/spec-format.md) into C.
 *
 *   odmgen [--set NAME] OUTDIR SPEC.json...     (odmgen --help for the whole command line)
 *
 * For each spec it writes OUTDIR/NAME/<collection>.h (structs, typed wrappers) and
 * OUTDIR/<collection>.c (descriptor tables, rule and derivation functions); then the set's
 * OUTDIR/NAME.h and OUTDIR/NAME.c (its schema list and odm_register_NAME, which adds it to
 * the runtime's registry). libodm's own build passes --platform: the shipped collections go
 * to OUTDIR/odm/gen/, with OUTDIR/odm/odm-collections.h and OUTDIR/odm-collections.c.
 * Output depends only on the specs, not on their order on the command line: same input,
 * same bytes. A file is rewritten only when its content changes. */
#include <bson/bson.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ODMGEN_ABI 1
#ifndef ODMGEN_VERSION
#define ODMGEN_VERSION "unknown"
#endif

enum { K_STRING = 1, K_NUMBER, K_BOOL, K_DATE, K_OID, K_OBJECT, K_MIXED };
enum { D_NONE, D_NUMBER, D_STRING, D_BOOL, D_NOW };

typedef struct object object_t;

typedef struct {
   char *name;
   char *cname;
   int kind;
   bool array;
   bool required, unique, lowercase, auto_id, created_at, updated_at;
   bool null_is_zero; /* the hook's range check reads null as 0 (JavaScript's < and >) */
   bool has_min, has_max, has_minlength, has_maxlength;
   double min, max;
   long minlength, maxlength;
   char **enums;
   size_t n_enums;
   int dflt;
   double dflt_number;
   char *dflt_string;
   bool dflt_bool;
   char *ref;
   char *msg[6]; /* required, min, max, minlength, maxlength, enum */
   char *comment;
   object_t *object;
} field_t;

struct object {
   char *ctype;  /* odm_chat_session_settings_t */
   char *stem;   /* odm_chat_session_settings */
   char *path;   /* settings (for comments) */
   field_t *fields;
   size_t n;
};

typedef struct {
   char *keys_json;
   char *name;
   bool unique;
   int declared;
   int declared_unique;
   int prefix_of;
   char *comment;
   char **key_paths;
   int *key_dirs;
   size_t n_keys;
} index_t;

typedef struct {
   char *name, *type, *doc, *dflt_string;
   double dflt_number;
   bool has_default, required;
   int kind; /* K_* or P_PERIOD */
} param_t;

#define P_PERIOD 100

typedef struct {
   char *name, *c_name, *doc, *pipeline_json;
   param_t *params;
   size_t n_params;
   object_t *row;
} agg_t;

typedef struct {
   const char *file;
   char *collection, *model, *c_name;
   bool timestamps;
   object_t root;
   object_t **objects; /* all objects, children before parents */
   size_t n_objects;
   index_t *indexes;
   size_t n_indexes;
   char **aggregations;
   size_t n_aggregations;
   agg_t *aggs; /* the analytics declared as pipelines */
   size_t n_aggs;
   bson_t rules, derive;
   char *text;
   int path_count;
} spec_t;

/* ------------------------------------------------------------------ utilities */

static const char *cur_file = "";
/* Where a collection's header goes under OUTDIR: "odm/gen" (the platform) or the set name. */
static const char *hdr_dir = "odm/gen";

static void
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

static char *
xstrdup (const char *s)
{
   return s ? bson_strdup (s) : NULL;
}

static char *
fmt (const char *f, ...)
{
   va_list ap;
   char *s;
   va_start (ap, f);
   s = bson_strdupv_printf (f, ap);
   va_end (ap);
   return s;
}

/* A growable output buffer. */
typedef struct {
   char *s;
   size_t len, cap;
} buf_t;

static void
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
static char *
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
static char *
ctext (const char *s)
{
   char *r = xstrdup (s), *p;
   while ((p = strstr (r, "*/"))) {
      p[0] = '*', p[1] = ' ';
   }
   return r;
}

/* Shortest text that reads back as V; integral values without an exponent. */
static char *
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

static char *
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

static char *
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

static bool
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

/* ----------------------------------------------------------------- JSON access */

static const char *
want_utf8 (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_UTF8 (it)) {
      die (where, "\"%s\" must be a string", bson_iter_key (it));
   }
   return bson_iter_utf8 (it, NULL);
}

static bool
want_bool (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_BOOL (it)) {
      die (where, "\"%s\" must be true or false", bson_iter_key (it));
   }
   return bson_iter_bool (it);
}

static double
want_number (bson_iter_t *it, const char *where)
{
   if (!BSON_ITER_HOLDS_NUMBER (it)) {
      die (where, "\"%s\" must be a number", bson_iter_key (it));
   }
   return bson_iter_as_double (it);
}

static void
want_array (bson_iter_t *it, bson_iter_t *child, const char *where)
{
   if (!BSON_ITER_HOLDS_ARRAY (it) || !bson_iter_recurse (it, child)) {
      die (where, "\"%s\" must be an array", bson_iter_key (it));
   }
}

static void
want_doc (bson_iter_t *it, bson_iter_t *child, const char *where)
{
   if (!BSON_ITER_HOLDS_DOCUMENT (it) || !bson_iter_recurse (it, child)) {
      die (where, "\"%s\" must be an object", bson_iter_key (it));
   }
}

/* ------------------------------------------------------------------- parsing */

static void parse_fields (spec_t *sp, object_t *obj, bson_iter_t *arr, const char *where, bool subdoc);

static int
kind_of (const char *t, const char *where)
{
   static const struct {
      const char *name;
      int kind;
   } kinds[] = {{"string", K_STRING}, {"number", K_NUMBER}, {"boolean", K_BOOL},
                {"date", K_DATE},     {"objectid", K_OID},  {"object", K_OBJECT},
                {"mixed", K_MIXED}};
   size_t i;
   for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
      if (strcmp (t, kinds[i].name) == 0) {
         return kinds[i].kind;
      }
   }
   die (where, "unknown type \"%s\"", t);
   return 0;
}

static object_t *
new_object (spec_t *sp, const char *stem, const char *path)
{
   object_t *o = bson_malloc0 (sizeof *o);
   o->stem = xstrdup (stem);
   o->ctype = fmt ("%s_t", stem);
   o->path = xstrdup (path);
   (void) sp;
   return o;
}

static void
register_object (spec_t *sp, object_t *o)
{
   sp->objects = bson_realloc (sp->objects, (sp->n_objects + 1) * sizeof *sp->objects);
   sp->objects[sp->n_objects++] = o;
}

/* Parses the body of a FIELD (or an array's "of" element when IS_ELEM) into F. */
static void
parse_field (spec_t *sp, object_t *parent, field_t *f, bson_iter_t *it, const char *where, bool is_elem)
{
   const char *type = NULL;
   bson_iter_t fields_it, of_it;
   bool has_fields = false, has_of = false;
   const char *elem_c_name = NULL;

   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      char *w = fmt ("%s.%s", where, k);
      if (!strcmp (k, "name") && !is_elem) {
         f->name = xstrdup (want_utf8 (it, w));
      } else if (!strcmp (k, "type")) {
         type = want_utf8 (it, w);
      } else if (!strcmp (k, "fields")) {
         want_array (it, &fields_it, w);
         has_fields = true;
      } else if (!strcmp (k, "of") && !is_elem) {
         want_doc (it, &of_it, w);
         has_of = true;
      } else if (!strcmp (k, "c_name")) {
         elem_c_name = want_utf8 (it, w);
      } else if (!strcmp (k, "required")) {
         f->required = want_bool (it, w);
      } else if (!strcmp (k, "unique")) {
         f->unique = want_bool (it, w);
      } else if (!strcmp (k, "lowercase")) {
         f->lowercase = want_bool (it, w);
      } else if (!strcmp (k, "null_is_zero")) {
         f->null_is_zero = want_bool (it, w);
      } else if (!strcmp (k, "min")) {
         f->has_min = true, f->min = want_number (it, w);
      } else if (!strcmp (k, "max")) {
         f->has_max = true, f->max = want_number (it, w);
      } else if (!strcmp (k, "minlength")) {
         f->has_minlength = true, f->minlength = (long) want_number (it, w);
      } else if (!strcmp (k, "maxlength")) {
         f->has_maxlength = true, f->maxlength = (long) want_number (it, w);
      } else if (!strcmp (k, "ref")) {
         f->ref = xstrdup (want_utf8 (it, w));
      } else if (!strcmp (k, "comment")) {
         f->comment = xstrdup (want_utf8 (it, w));
      } else if (!strcmp (k, "enum")) {
         bson_iter_t e;
         want_array (it, &e, w);
         while (bson_iter_next (&e)) {
            f->enums = bson_realloc (f->enums, (f->n_enums + 1) * sizeof (char *));
            f->enums[f->n_enums++] = xstrdup (want_utf8 (&e, w));
         }
      } else if (!strcmp (k, "default")) {
         if (BSON_ITER_HOLDS_UTF8 (it) && !strcmp (bson_iter_utf8 (it, NULL), "now")) {
            f->dflt = D_NOW;
         } else if (BSON_ITER_HOLDS_UTF8 (it)) {
            f->dflt = D_STRING, f->dflt_string = xstrdup (bson_iter_utf8 (it, NULL));
         } else if (BSON_ITER_HOLDS_BOOL (it)) {
            f->dflt = D_BOOL, f->dflt_bool = bson_iter_bool (it);
         } else if (BSON_ITER_HOLDS_NUMBER (it)) {
            f->dflt = D_NUMBER, f->dflt_number = bson_iter_as_double (it);
         } else {
            die (w, "default must be a string, number, boolean or \"now\"");
         }
      } else if (!strcmp (k, "messages")) {
         static const char *const rules[] = {"required", "min", "max", "minlength", "maxlength", "enum"};
         bson_iter_t m;
         want_doc (it, &m, w);
         while (bson_iter_next (&m)) {
            size_t r;
            for (r = 0; r < 6 && strcmp (bson_iter_key (&m), rules[r]); r++) {
            }
            if (r == 6) {
               die (w, "no rule \"%s\" to give a message for", bson_iter_key (&m));
            }
            f->msg[r] = xstrdup (want_utf8 (&m, w));
         }
      } else {
         die (w, "unknown key \"%s\"", k);
      }
      bson_free (w);
   }
   if (!type) {
      die (where, "missing \"type\"");
   }
   if (!is_elem && !f->name) {
      die (where, "missing \"name\"");
   }
   if (!strcmp (type, "array")) {
      bson_iter_t body;
      if (is_elem || !has_of) {
         die (where, "an array needs \"of\" (and cannot be an array element)");
      }
      if (f->required || f->has_min || f->has_max || f->has_minlength || f->has_maxlength ||
          f->n_enums || f->dflt || f->lowercase || f->unique) {
         die (where, "put element rules on \"of\"; arrays take no rules or default");
      }
      f->array = true;
      body = of_it;
      {
         char *w = fmt ("%s.of", where);
         field_t elem;
         memset (&elem, 0, sizeof elem);
         parse_field (sp, parent, &elem, &body, w, true);
         if (elem.kind == K_OBJECT && !elem.object) {
            die (w, "object element without fields");
         }
         elem.name = f->name;
         elem.comment = f->comment;
         elem.array = true;
         *f = elem;
         bson_free (w);
      }
      return;
   }
   f->kind = kind_of (type, where);
   if (f->null_is_zero && (f->kind != K_NUMBER || f->required || !(f->has_min || f->has_max))) {
      die (where, "\"null_is_zero\" is for a number field with \"min\" or \"max\" that is not required");
   }
   if (f->kind == K_OBJECT) {
      char *stem, *path;
      if (!has_fields) {
         die (where, "an object needs \"fields\" (use type \"mixed\" for free-form objects)");
      }
      if (is_elem) {
         if (!elem_c_name || !is_snake (elem_c_name)) {
            die (where, "an array of objects needs a snake_case \"c_name\" for its element");
         }
         stem = fmt ("%s_%s", parent->stem, elem_c_name);
      } else {
         stem = fmt ("%s_%s", parent->stem, f->name);
      }
      path = fmt ("%s%s%s", parent->path, *parent->path ? "." : "", f->name ? f->name : elem_c_name);
      f->object = new_object (sp, stem, path);
      {
         char *list = fmt ("%s.fields", where);
         parse_fields (sp, f->object, &fields_it, list, is_elem);
         bson_free (list);
      }
      register_object (sp, f->object);
      bson_free (stem);
      bson_free (path);
   } else if (has_fields) {
      die (where, "only type \"object\" takes \"fields\"");
   }
   if ((f->has_min || f->has_max) && f->kind != K_NUMBER) {
      die (where, "min/max apply to numbers only");
   }
   if ((f->has_minlength || f->has_maxlength || f->n_enums || f->lowercase) && f->kind != K_STRING) {
      die (where, "minlength/maxlength/enum/lowercase apply to strings only");
   }
   if (f->dflt == D_NOW && f->kind != K_DATE) {
      die (where, "default \"now\" applies to dates only");
   }
   if ((f->dflt == D_STRING && f->kind != K_STRING) || (f->dflt == D_NUMBER && f->kind != K_NUMBER) ||
       (f->dflt == D_BOOL && f->kind != K_BOOL)) {
      die (where, "the default does not have the field's type");
   }
   if (f->ref && f->kind != K_OID) {
      die (where, "ref applies to objectid fields only");
   }
   if (f->dflt == D_STRING && f->n_enums) {
      size_t i;
      bool ok = false;
      for (i = 0; i < f->n_enums; i++) {
         ok = ok || !strcmp (f->enums[i], f->dflt_string);
      }
      if (!ok) {
         die (where, "default \"%s\" is not one of the enum values", f->dflt_string);
      }
   }
}

static void
add_field (object_t *obj, field_t *f)
{
   obj->fields = bson_realloc (obj->fields, (obj->n + 1) * sizeof (field_t));
   obj->fields[obj->n++] = *f;
}

static void
parse_fields (spec_t *sp, object_t *obj, bson_iter_t *arr, const char *where, bool subdoc)
{
   size_t i;
   if (subdoc) {
      field_t id;
      memset (&id, 0, sizeof id);
      id.name = xstrdup ("_id");
      id.cname = xstrdup ("_id");
      id.kind = K_OID;
      id.auto_id = true;
      id.comment = xstrdup ("ObjectId Mongoose gives every subdocument; generated by prepare");
      add_field (obj, &id);
   }
   while (bson_iter_next (arr)) {
      bson_iter_t body;
      field_t f;
      char *w = fmt ("%s[%s]", where, bson_iter_key (arr)); /* WHERE: the list's JSON path */
      memset (&f, 0, sizeof f);
      want_doc (arr, &body, w);
      parse_field (sp, obj, &f, &body, w, false);
      f.cname = c_member (f.name, w);
      for (i = 0; i < obj->n; i++) {
         if (!strcmp (obj->fields[i].name, f.name)) {
            die (w, "field \"%s\" is listed twice", f.name);
         }
      }
      add_field (obj, &f);
      bson_free (w);
   }
}

/* Checks that every {"$param": "x"} in the pipeline names a declared parameter. */
static void
check_slots (const agg_t *a, bson_iter_t *it, const char *where)
{
   while (bson_iter_next (it)) {
      if (!strcmp (bson_iter_key (it), "$param")) {
         size_t i;
         bool ok = false;
         const char *name = want_utf8 (it, where);
         for (i = 0; i < a->n_params && !ok; i++) {
            ok = !strcmp (a->params[i].name, name);
         }
         if (!ok) {
            die (where, "pipeline uses undeclared parameter \"%s\"", name);
         }
      } else if (BSON_ITER_HOLDS_DOCUMENT (it) || BSON_ITER_HOLDS_ARRAY (it)) {
         bson_iter_t sub;
         bson_iter_recurse (it, &sub);
         check_slots (a, &sub, where);
      }
   }
}

/* An analytic: {name, c_name, doc, params, pipeline, row}. */
static void
parse_agg (spec_t *sp, bson_iter_t *it, const char *where)
{
   bson_iter_t body;
   agg_t a;
   bool have_pipeline = false, have_row = false;
   memset (&a, 0, sizeof a);
   bson_iter_recurse (it, &body);
   while (bson_iter_next (&body)) {
      const char *k = bson_iter_key (&body);
      char *w = fmt ("%s.%s", where, k);
      if (!strcmp (k, "name")) {
         a.name = xstrdup (want_utf8 (&body, w));
      } else if (!strcmp (k, "c_name")) {
         a.c_name = xstrdup (want_utf8 (&body, w));
      } else if (!strcmp (k, "doc")) {
         a.doc = xstrdup (want_utf8 (&body, w));
      } else if (!strcmp (k, "params")) {
         bson_iter_t pl;
         want_array (&body, &pl, w);
         while (bson_iter_next (&pl)) {
            bson_iter_t pb;
            param_t p;
            memset (&p, 0, sizeof p);
            want_doc (&pl, &pb, w);
            while (bson_iter_next (&pb)) {
               const char *pk = bson_iter_key (&pb);
               if (!strcmp (pk, "name")) {
                  p.name = xstrdup (want_utf8 (&pb, w));
               } else if (!strcmp (pk, "type")) {
                  p.type = xstrdup (want_utf8 (&pb, w));
               } else if (!strcmp (pk, "doc")) {
                  p.doc = xstrdup (want_utf8 (&pb, w));
               } else if (!strcmp (pk, "required")) {
                  p.required = want_bool (&pb, w);
               } else if (!strcmp (pk, "default")) {
                  p.has_default = true;
                  if (BSON_ITER_HOLDS_UTF8 (&pb)) {
                     p.dflt_string = xstrdup (bson_iter_utf8 (&pb, NULL));
                  } else if (BSON_ITER_HOLDS_BOOL (&pb)) {
                     p.dflt_number = bson_iter_bool (&pb);
                  } else {
                     p.dflt_number = want_number (&pb, w);
                  }
               } else {
                  die (w, "unknown parameter key \"%s\"", pk);
               }
            }
            if (!p.name || !p.type) {
               die (w, "a parameter needs \"name\" and \"type\"");
            }
            c_member (p.name, w);
            p.kind = !strcmp (p.type, "period") ? P_PERIOD : kind_of (p.type, w);
            if (p.kind == K_OBJECT || p.kind == K_MIXED) {
               die (w, "parameters are scalars (string, number, boolean, date, objectid, period)");
            }
            if (p.has_default && (p.kind == K_DATE || p.kind == K_OID)) {
               die (w, "date and objectid parameters take no default");
            }
            a.params = bson_realloc (a.params, (a.n_params + 1) * sizeof p);
            a.params[a.n_params++] = p;
         }
      } else if (!strcmp (k, "pipeline")) {
         const uint8_t *data;
         uint32_t len;
         bson_t arr, wrap = BSON_INITIALIZER;
         bson_iter_t chk;
         want_array (&body, &chk, w);
         bson_iter_array (&body, &len, &data);
         bson_init_static (&arr, data, len);
         bson_append_array (&wrap, "pipeline", 8, &arr);
         a.pipeline_json = bson_as_canonical_extended_json (&wrap, NULL);
         bson_destroy (&wrap);
         have_pipeline = true;
      } else if (!strcmp (k, "row")) {
         bson_iter_t rl;
         want_array (&body, &rl, w);
         if (!a.c_name) {
            die (w, "\"c_name\" must come before \"row\"");
         }
         {
            char *stem = fmt ("%s_%s_row", sp->root.stem, a.c_name), *path = fmt ("%s row", a.c_name);
            a.row = new_object (sp, stem, path);
            parse_fields (sp, a.row, &rl, w, false);
            register_object (sp, a.row);
            bson_free (stem);
            bson_free (path);
         }
         have_row = true;
      } else {
         die (w, "unknown key \"%s\"", k);
      }
      bson_free (w);
   }
   if (!a.name || !a.c_name || !a.doc || !have_pipeline || !have_row) {
      die (where, "an analytic needs \"name\", \"c_name\", \"doc\", \"pipeline\" and \"row\"");
   }
   if (!is_snake (a.c_name)) {
      die (where, "c_name \"%s\" is not snake_case", a.c_name);
   }
   {
      bson_iter_t again;
      bson_t *pj = bson_new_from_json ((const uint8_t *) a.pipeline_json, -1, NULL);
      bson_iter_init (&again, pj);
      check_slots (&a, &again, where);
      bson_destroy (pj);
   }
   {
      size_t i;
      for (i = 0; i < sp->n_aggs; i++) {
         if (!strcmp (sp->aggs[i].c_name, a.c_name)) {
            die (where, "two analytics are named %s", a.c_name);
         }
      }
   }
   sp->aggs = bson_realloc (sp->aggs, (sp->n_aggs + 1) * sizeof a);
   sp->aggs[sp->n_aggs++] = a;
}

static int
count_paths (const object_t *o)
{
   size_t i;
   int n = 0;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      if (!strcmp (f->name, "_id")) {
         continue;
      }
      n += (f->kind == K_OBJECT && !f->array) ? count_paths (f->object) : 1;
   }
   return n;
}

/* Finds the field at dotted PATH from the root; index keys may go through arrays of
 * subdocuments ("interviews.scheduledAt"), rule paths may not (they become C expressions). */
static const field_t *
lookup_in (const spec_t *sp, const char *path, char **c_expr, char **c_has, const char *where, bool through_arrays)
{
   const object_t *o = &sp->root;
   char *copy = xstrdup (path), *save = NULL, *seg;
   const field_t *f = NULL;
   buf_t expr = {0}, has = {0};
   out (&expr, "doc->");
   for (seg = strtok_r (copy, ".", &save); seg; seg = strtok_r (NULL, ".", &save)) {
      size_t i;
      if (!o) {
         die (where, "path \"%s\" goes through a non-object", path);
      }
      f = NULL;
      for (i = 0; i < o->n; i++) {
         if (!strcmp (o->fields[i].name, seg)) {
            f = &o->fields[i];
         }
      }
      if (!f) {
         die (where, "path \"%s\": no field \"%s\"", path, seg);
      }
      bson_free (has.s);
      has.s = NULL, has.len = has.cap = 0;
      out (&has, "%shas_%s", expr.s, f->cname);
      out (&expr, "%s", f->cname);
      o = (f->kind == K_OBJECT && (!f->array || through_arrays)) ? f->object : NULL;
      if (o) {
         out (&expr, ".");
      }
   }
   bson_free (copy);
   if (!f) {
      die (where, "empty path");
   }
   if (c_expr) {
      *c_expr = expr.s;
   } else {
      bson_free (expr.s);
   }
   if (c_has) {
      *c_has = has.s;
   } else {
      bson_free (has.s);
   }
   return f;
}

static const field_t *
lookup (const spec_t *sp, const char *path, char **c_expr, char **c_has, const char *where)
{
   return lookup_in (sp, path, c_expr, c_has, where, false);
}

static void
add_index (spec_t *sp, const bson_t *keys, bool unique, const char *comment, const char *where)
{
   bson_iter_t k;
   buf_t name = {0};
   size_t i;
   index_t ix;
   char *json;

   memset (&ix, 0, sizeof ix);
   if (!bson_iter_init (&k, keys) || bson_count_keys (keys) == 0) {
      die (where, "index \"keys\" must be a non-empty object");
   }
   while (bson_iter_next (&k)) {
      int dir = (int) want_number (&k, where);
      if (dir != 1 && dir != -1) {
         die (where, "index direction must be 1 or -1");
      }
      lookup_in (sp, bson_iter_key (&k), NULL, NULL, where, true);
      out (&name, "%s%s_%d", name.len ? "_" : "", bson_iter_key (&k), dir);
      ix.key_paths = bson_realloc (ix.key_paths, (ix.n_keys + 1) * sizeof (char *));
      ix.key_dirs = bson_realloc (ix.key_dirs, (ix.n_keys + 1) * sizeof (int));
      ix.key_paths[ix.n_keys] = xstrdup (bson_iter_key (&k));
      ix.key_dirs[ix.n_keys++] = dir;
   }
   for (i = 0; i < sp->n_indexes; i++) {
      if (!strcmp (sp->indexes[i].name, name.s)) {
         sp->indexes[i].declared++;
         sp->indexes[i].declared_unique += unique;
         sp->indexes[i].unique = sp->indexes[i].unique || unique; /* unique wins */
         if (!sp->indexes[i].comment && comment) {
            sp->indexes[i].comment = xstrdup (comment);
         }
         bson_free (name.s);
         return;
      }
   }
   json = bson_as_relaxed_extended_json (keys, NULL);
   ix.keys_json = json;
   ix.name = name.s;
   ix.unique = unique;
   ix.declared = 1;
   ix.declared_unique = unique;
   ix.prefix_of = -1;
   ix.comment = xstrdup (comment);
   sp->indexes = bson_realloc (sp->indexes, (sp->n_indexes + 1) * sizeof ix);
   sp->indexes[sp->n_indexes++] = ix;
}

static void
field_unique_indexes (spec_t *sp, const object_t *o, const char *prefix)
{
   size_t i;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      char *path = fmt ("%s%s", prefix, f->name);
      if (f->unique) {
         bson_t keys = BSON_INITIALIZER;
         BSON_APPEND_INT32 (&keys, path, 1);
         add_index (sp, &keys, true, "field-level unique", path);
         bson_destroy (&keys);
      }
      if (f->kind == K_OBJECT && !f->array) {
         char *p2 = fmt ("%s.", path);
         field_unique_indexes (sp, f->object, p2);
         bson_free (p2);
      }
      bson_free (path);
   }
}

static void
mark_prefixes (spec_t *sp)
{
   size_t i, j, k;
   for (i = 0; i < sp->n_indexes; i++) {
      index_t *a = &sp->indexes[i];
      if (a->unique) {
         continue; /* a unique index is a constraint, never redundant */
      }
      for (j = 0; j < sp->n_indexes && a->prefix_of < 0; j++) {
         const index_t *b = &sp->indexes[j];
         bool prefix = i != j && b->n_keys > a->n_keys;
         for (k = 0; prefix && k < a->n_keys; k++) {
            prefix = !strcmp (a->key_paths[k], b->key_paths[k]) && a->key_dirs[k] == b->key_dirs[k];
         }
         if (prefix) {
            a->prefix_of = (int) j;
         }
      }
   }
}

static char *
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

static void
parse_spec (spec_t *sp, const char *file)
{
   size_t len;
   bson_error_t err;
   bson_t *doc;
   bson_iter_t it, child;
   bool have_fields = false;
   bson_iter_t fields_it;

   memset (sp, 0, sizeof *sp);
   sp->file = file;
   cur_file = file;
   sp->text = read_file (file, &len);
   doc = bson_new_from_json ((const uint8_t *) sp->text, (ssize_t) len, &err);
   if (!doc) {
      die ("(json)", "%s", err.message);
   }
   bson_init (&sp->rules);
   bson_init (&sp->derive);
   bson_iter_init (&it, doc);
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (!strcmp (k, "collection")) {
         sp->collection = xstrdup (want_utf8 (&it, k));
      } else if (!strcmp (k, "model")) {
         sp->model = xstrdup (want_utf8 (&it, k));
      } else if (!strcmp (k, "c_name")) {
         sp->c_name = xstrdup (want_utf8 (&it, k));
      } else if (!strcmp (k, "timestamps")) {
         sp->timestamps = want_bool (&it, k);
      } else if (!strcmp (k, "fields")) {
         want_array (&it, &fields_it, k);
         have_fields = true;
      } else if (!strcmp (k, "indexes") || !strcmp (k, "aggregations") || !strcmp (k, "notes")) {
         want_array (&it, &child, k);
      } else if (!strcmp (k, "rules") || !strcmp (k, "derive")) {
         const uint8_t *data;
         uint32_t dlen;
         bson_t tmp, *dst = !strcmp (k, "rules") ? &sp->rules : &sp->derive;
         want_array (&it, &child, k);
         bson_iter_array (&it, &dlen, &data);
         bson_init_static (&tmp, data, dlen);
         bson_destroy (dst);
         bson_copy_to (&tmp, dst);
      } else {
         die (k, "unknown top-level key");
      }
   }
   if (!sp->collection || !sp->model || !sp->c_name || !have_fields) {
      die ("(top)", "\"collection\", \"model\", \"c_name\" and \"fields\" are required");
   }
   if (!is_snake (sp->c_name)) {
      die ("c_name", "\"%s\" is not snake_case", sp->c_name);
   }
   sp->root.stem = fmt ("odm_%s", sp->c_name);
   sp->root.ctype = fmt ("odm_%s_t", sp->c_name);
   sp->root.path = xstrdup ("");
   {
      field_t id;
      memset (&id, 0, sizeof id);
      id.name = xstrdup ("_id");
      id.cname = xstrdup ("_id");
      id.kind = K_OID;
      id.auto_id = true;
      id.comment = xstrdup ("primary key; generated by prepare when absent");
      add_field (&sp->root, &id);
   }
   parse_fields (sp, &sp->root, &fields_it, "fields", false);
   if (sp->timestamps) {
      static const char *const ts[] = {"createdAt", "updatedAt"};
      int i;
      for (i = 0; i < 2; i++) {
         field_t t;
         size_t j;
         for (j = 0; j < sp->root.n; j++) {
            if (!strcmp (sp->root.fields[j].name, ts[i])) {
               die ("fields", "\"%s\" comes from timestamps: do not list it", ts[i]);
            }
         }
         memset (&t, 0, sizeof t);
         t.name = xstrdup (ts[i]);
         t.cname = xstrdup (ts[i]);
         t.kind = K_DATE;
         t.created_at = i == 0;
         t.updated_at = i == 1;
         t.comment = xstrdup (i == 0 ? "timestamps: set on create" : "timestamps: set on every save");
         add_field (&sp->root, &t);
      }
   }
   register_object (sp, &sp->root);
   sp->path_count = count_paths (&sp->root);

   /* Indexes: field-level unique first (as Mongoose creates them), then schema.index calls. */
   field_unique_indexes (sp, &sp->root, "");
   bson_iter_init (&it, doc);
   while (bson_iter_next (&it)) {
      if (!strcmp (bson_iter_key (&it), "indexes")) {
         bson_iter_recurse (&it, &child);
         while (bson_iter_next (&child)) {
            bson_iter_t ix;
            const char *comment = NULL;
            bool unique = false;
            bson_t keys = BSON_INITIALIZER;
            char *w = fmt ("indexes[%s]", bson_iter_key (&child));
            want_doc (&child, &ix, w);
            while (bson_iter_next (&ix)) {
               const char *k = bson_iter_key (&ix);
               if (!strcmp (k, "keys")) {
                  const uint8_t *data;
                  uint32_t dlen;
                  bson_t tmp;
                  bson_iter_t kd;
                  want_doc (&ix, &kd, w);
                  bson_iter_document (&ix, &dlen, &data);
                  bson_init_static (&tmp, data, dlen);
                  bson_destroy (&keys);
                  bson_copy_to (&tmp, &keys);
               } else if (!strcmp (k, "unique")) {
                  unique = want_bool (&ix, w);
               } else if (!strcmp (k, "comment")) {
                  comment = want_utf8 (&ix, w);
               } else {
                  die (w, "unknown key \"%s\"", k);
               }
            }
            add_index (sp, &keys, unique, comment, w);
            bson_destroy (&keys);
            bson_free (w);
         }
      } else if (!strcmp (bson_iter_key (&it), "aggregations")) {
         bson_iter_recurse (&it, &child);
         while (bson_iter_next (&child)) {
            char *w = fmt ("aggregations[%s]", bson_iter_key (&child));
            const char *name;
            if (BSON_ITER_HOLDS_DOCUMENT (&child)) {
               parse_agg (sp, &child, w);
               name = sp->aggs[sp->n_aggs - 1].name;
            } else {
               name = want_utf8 (&child, w);
            }
            sp->aggregations = bson_realloc (sp->aggregations, (sp->n_aggregations + 1) * sizeof (char *));
            sp->aggregations[sp->n_aggregations++] = xstrdup (name);
            bson_free (w);
         }
      }
   }
   mark_prefixes (sp);
   bson_destroy (doc);
}

/* ------------------------------------------------------------------ emitting */

static const char *
c_type_of (const field_t *f)
{
   switch (f->kind) {
   case K_STRING: return "char *";
   case K_NUMBER: return "double ";
   case K_BOOL: return "bool ";
   case K_DATE: return "int64_t ";
   case K_OID: return "bson_oid_t ";
   case K_MIXED: return "bson_value_t ";
   case K_OBJECT: return f->object->ctype;
   default: return "?";
   }
}

static const char *
kind_const (const field_t *f)
{
   static const char *const k[] = {"", "ODM_KIND_STRING", "ODM_KIND_NUMBER", "ODM_KIND_BOOL", "ODM_KIND_DATE",
                                   "ODM_KIND_OID", "ODM_KIND_OBJECT", "ODM_KIND_MIXED"};
   return k[f->kind];
}

/* One-line summary of a field's rules for the struct comment. */
static char *
describe (const field_t *f)
{
   buf_t b = {0};
   static const char *const kn[] = {"", "string", "number", "boolean", "date (ms since epoch)", "ObjectId",
                                    "object", "any BSON value"};
   size_t i;
   out (&b, "%s%s", f->array ? "array of " : "", f->kind == K_OBJECT ? f->object->path : kn[f->kind]);
   if (f->required) out (&b, ", required");
   if (f->unique) out (&b, ", unique");
   if (f->lowercase) out (&b, ", lowercase");
   if (f->has_min) { char *n = num_text (f->min, false); out (&b, ", min %s", n); bson_free (n); }
   if (f->has_max) { char *n = num_text (f->max, false); out (&b, ", max %s", n); bson_free (n); }
   if (f->has_minlength) out (&b, ", minlength %ld", f->minlength);
   if (f->has_maxlength) out (&b, ", maxlength %ld", f->maxlength);
   if (f->n_enums) {
      out (&b, ", one of");
      for (i = 0; i < f->n_enums; i++) out (&b, " %s", f->enums[i]);
   }
   if (f->dflt == D_NOW) out (&b, ", default now");
   if (f->dflt == D_STRING) out (&b, ", default \"%s\"", f->dflt_string);
   if (f->dflt == D_BOOL) out (&b, ", default %s", f->dflt_bool ? "true" : "false");
   if (f->dflt == D_NUMBER) { char *n = num_text (f->dflt_number, false); out (&b, ", default %s", n); bson_free (n); }
   if (f->array) out (&b, ", default []");
   if (f->ref) out (&b, ", ref %s", f->ref);
   if (f->comment) out (&b, " -- %s", f->comment);
   {
      char *r = ctext (b.s);
      bson_free (b.s);
      return r;
   }
}

static void
emit_struct (buf_t *h, const char *collection, const object_t *o)
{
   size_t i;
   out (h, "/* %s%s%s */\n", collection, o->path[0] ? "." : " document", o->path);
   out (h, "typedef struct %s {\n", o->stem);
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      char *d = describe (f);
      out (h, "   /* %s */\n", d);
      if (f->array) {
         out (h, "   struct {\n      %s%s*items;\n      size_t count;\n   } %s;\n", c_type_of (f),
              f->kind == K_OBJECT ? " " : "", f->cname);
      } else {
         out (h, "   %s%s%s;\n", c_type_of (f), f->kind == K_OBJECT ? " " : "", f->cname);
      }
      out (h, "   uint8_t has_%s;\n", f->cname);
      bson_free (d);
   }
   out (h, "   /* fields not in the schema, kept by decode and re-encoded after the others */\n");
   out (h, "   bson_t *_extra;\n");
   out (h, "} %s;\n\n", o->ctype);
}

/* What a field asks of the pre-save walk and of the validator, as ODM_O_* bits for the
 * object that holds it (nested objects and array elements add theirs). */
static unsigned
object_flags (const object_t *o)
{
   unsigned fl = 0;
   size_t i;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      if (f->lowercase) fl |= 1u;  /* ODM_O_LOWERCASE */
      if (f->dflt != D_NONE || f->auto_id || f->created_at || f->updated_at || f->array) {
         fl |= 2u; /* ODM_O_DEFAULTS */
      }
      if (f->required || f->has_min || f->has_max || f->has_minlength || f->has_maxlength || f->n_enums ||
          f->null_is_zero || f->kind == K_NUMBER) {
         fl |= 4u; /* ODM_O_VALUE_RULES */
      }
      if (f->kind == K_OBJECT) fl |= object_flags (f->object);
   }
   return fl;
}

static void
emit_object_flags (buf_t *c, const object_t *o)
{
   static const char *const names[] = {"ODM_O_LOWERCASE", "ODM_O_DEFAULTS", "ODM_O_VALUE_RULES"};
   unsigned fl = object_flags (o);
   size_t i, n = 0;
   out (c, "   .flags = ");
   for (i = 0; i < sizeof names / sizeof names[0]; i++) {
      if (fl & (1u << i)) out (c, "%s%s", n++ ? " | " : "", names[i]);
   }
   out (c, "%s,\n};\n\n", n ? "" : "0");
}

static void
emit_desc (buf_t *c, const object_t *o)
{
   size_t i, j;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      if (f->n_enums) {
         out (c, "static const char *const %s_%s_enum[] = {", o->stem, f->cname);
         for (j = 0; j < f->n_enums; j++) {
            char *s = cstr (f->enums[j]);
            out (c, "%s%s", j ? ", " : "", s);
            bson_free (s);
         }
         out (c, "};\n");
      }
      for (j = 0; j < 6 && !f->msg[j]; j++) {
      }
      if (j < 6) {
         static const char *const names[] = {"required", "min", "max", "minlength", "maxlength", "enumeration"};
         out (c, "static const odm_messages_t %s_%s_messages = {\n", o->stem, f->cname);
         for (j = 0; j < 6; j++) {
            if (f->msg[j]) {
               char *s = cstr (f->msg[j]);
               out (c, "   .%s = %s,\n", names[j], s);
               bson_free (s);
            }
         }
         out (c, "};\n");
      }
   }
   out (c, "static const odm_field_t %s_fields[] = {\n", o->stem);
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      buf_t fl = {0};
      char *name = cstr (f->name);
      if (f->array) out (&fl, " | ODM_F_ARRAY");
      if (f->required) out (&fl, " | ODM_F_REQUIRED");
      if (f->unique) out (&fl, " | ODM_F_UNIQUE");
      if (f->lowercase) out (&fl, " | ODM_F_LOWERCASE");
      if (f->has_min) out (&fl, " | ODM_F_MIN");
      if (f->has_max) out (&fl, " | ODM_F_MAX");
      if (f->has_minlength) out (&fl, " | ODM_F_MINLENGTH");
      if (f->has_maxlength) out (&fl, " | ODM_F_MAXLENGTH");
      if (f->dflt == D_NUMBER || f->dflt == D_STRING || f->dflt == D_BOOL) out (&fl, " | ODM_F_DEFAULT");
      if (f->dflt == D_NOW) out (&fl, " | ODM_F_DEFAULT_NOW");
      if (f->auto_id) out (&fl, " | ODM_F_AUTO_ID");
      if (f->created_at) out (&fl, " | ODM_F_CREATED_AT");
      if (f->updated_at) out (&fl, " | ODM_F_UPDATED_AT");
      if (f->n_enums) out (&fl, " | ODM_F_ENUM");
      if (f->null_is_zero) out (&fl, " | ODM_F_NULL_IS_ZERO");
      out (c, "   {.name = %s,\n    .name_len = %zu,\n    .kind = %s,\n    .flags = %s,\n", name,
           strlen (f->name), kind_const (f), fl.len ? fl.s + 3 : "0");
      out (c, "    .offset = offsetof (%s, %s),\n    .presence = offsetof (%s, has_%s),\n", o->ctype, f->cname,
           o->ctype, f->cname);
      if (f->array) {
         out (c, "    .elem_size = sizeof (*((%s *) 0)->%s.items),\n", o->ctype, f->cname);
      }
      if (f->has_min) { char *n = num (f->min); out (c, "    .min = %s,\n", n); bson_free (n); }
      if (f->has_max) { char *n = num (f->max); out (c, "    .max = %s,\n", n); bson_free (n); }
      if (f->has_minlength) out (c, "    .minlength = %ld,\n", f->minlength);
      if (f->has_maxlength) out (c, "    .maxlength = %ld,\n", f->maxlength);
      if (f->n_enums) {
         out (c, "    .enum_values = %s_%s_enum,\n    .enum_count = %zu,\n", o->stem, f->cname, f->n_enums);
      }
      if (f->kind == K_OBJECT) out (c, "    .object = &%s_desc,\n", f->object->stem);
      if (f->dflt == D_NUMBER) { char *n = num (f->dflt_number); out (c, "    .dflt_number = %s,\n", n); bson_free (n); }
      if (f->dflt == D_STRING) { char *s = cstr (f->dflt_string); out (c, "    .dflt_string = %s,\n", s); bson_free (s); }
      if (f->dflt == D_BOOL) out (c, "    .dflt_bool = %s,\n", f->dflt_bool ? "true" : "false");
      if (f->ref) { char *s = cstr (f->ref); out (c, "    .ref = %s,\n", s); bson_free (s); }
      for (j = 0; j < 6 && !f->msg[j]; j++) {
      }
      if (j < 6) out (c, "    .messages = &%s_%s_messages,\n", o->stem, f->cname);
      out (c, "   },\n");
      bson_free (fl.s);
      bson_free (name);
   }
   out (c, "};\n");
   out (c, "static const odm_object_desc_t %s_desc = {\n   .c_type = \"%s\",\n   .size = sizeof (%s),\n", o->stem,
        o->ctype, o->ctype);
   out (c, "   .extra = offsetof (%s, _extra),\n   .field_count = %zu,\n   .fields = %s_fields,\n", o->ctype, o->n,
        o->stem);
   emit_object_flags (c, o);
}

/* ------------------------------------------------------------ rules and derive */

static const char *
get_str (const bson_t *d, const char *key, const char *where)
{
   bson_iter_t it;
   if (!bson_iter_init_find (&it, d, key)) {
      die (where, "missing \"%s\"", key);
   }
   return want_utf8 (&it, where);
}

static double
get_num (const bson_t *d, const char *key, const char *where)
{
   bson_iter_t it;
   if (!bson_iter_init_find (&it, d, key)) {
      die (where, "missing \"%s\"", key);
   }
   return want_number (&it, where);
}

static void
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

static const field_t *
want_path (const spec_t *sp, const bson_t *d, const char *key, int kind, bool array, char **expr, char **has,
           const char *where)
{
   const char *path = get_str (d, key, where);
   const field_t *f = lookup (sp, path, expr, has, where);
   if (kind && (f->kind != kind || f->array != array)) {
      die (where, "\"%s\" (%s) does not have the type this rule reads", key, path);
   }
   return f;
}

/* C condition for a `when` {path, equals}. */
static char *
when_cond (const spec_t *sp, const bson_t *d, const char *where)
{
   bson_iter_t it, w;
   bson_t wd;
   const uint8_t *data;
   uint32_t len;
   char *expr, *s, *r;
   if (!bson_iter_init_find (&it, d, "when")) {
      die (where, "missing \"when\"");
   }
   want_doc (&it, &w, where);
   bson_iter_document (&it, &len, &data);
   bson_init_static (&wd, data, len);
   {
      static const char *const keys[] = {"path", "equals", NULL};
      check_keys (&wd, keys, where);
   }
   want_path (sp, &wd, "path", K_STRING, false, &expr, NULL, where);
   s = cstr (get_str (&wd, "equals", where));
   r = fmt ("odm_str_eq (%s, %s)", expr, s);
   bson_free (expr);
   bson_free (s);
   return r;
}

/* A rule's "null_is_zero": the operand paths (of PATH_A and PATH_B) that the platform's hook
 * compares unguarded, so that JavaScript reads null as 0 (the epoch for a date). Their has/value
 * expressions are wrapped so that null becomes a present 0. */
static void
null_as_zero (const bson_t *d, const char *path_a, const char *path_b, int kind, char **a, char **ha, char **b,
              char **hb, const char *where)
{
   bson_iter_t it, l;
   if (!bson_iter_init_find (&it, d, "null_is_zero")) {
      return;
   }
   want_array (&it, &l, where);
   while (bson_iter_next (&l)) {
      const char *p = want_utf8 (&l, where);
      char **e = NULL, **h = NULL, *ne, *nh; /* die () does not return; clang cannot tell */
      if (!strcmp (p, path_a)) {
         e = a, h = ha;
      } else if (path_b && !strcmp (p, path_b)) {
         e = b, h = hb;
      } else {
         die (where, "\"null_is_zero\" names \"%s\", which this rule does not compare", p);
      }
      if (!strncmp (*h, "ODM_JS_", 7)) {
         die (where, "\"null_is_zero\" names \"%s\" twice", p);
      }
      ne = fmt ("%s (%s, %s)", kind == K_DATE ? "ODM_JS_DATE" : "ODM_JS_NUMBER", *h, *e);
      nh = fmt ("ODM_JS_HAS (%s)", *h);
      bson_free (*e), bson_free (*h);
      *e = ne, *h = nh;
   }
}

/* The ODM_REGEX_* flags of a "pattern" rule's "flags" (JavaScript's i, m, s; u is implied),
 * after checking that PCRE2 compiles RE as the runtime will (src/odm-regex.c). */
static const char *
regex_flags (const char *re, const char *flags, const char *where)
{
   static char buf[96];
   uint32_t opts = PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF;
   pcre2_compile_context *cc = pcre2_compile_context_create (NULL);
   pcre2_code *code;
   int err;
   PCRE2_SIZE off;
   const char *f;
   buf[0] = '\0';
   for (f = flags; *f; f++) {
      const char *name = *f == 'i' ? "ODM_REGEX_IGNORE_CASE" : *f == 'm' ? "ODM_REGEX_MULTILINE"
                         : *f == 's' ? "ODM_REGEX_DOT_ALL" : *f == 'u' ? "" : NULL;
      if (!name || (*name && strstr (buf, name))) {
         die (where, "\"flags\": \"%s\": only i, m, s and u, each once", flags);
      }
      if (*name) {
         strcat (buf, *buf ? " | " : "");
         strcat (buf, name);
      }
      opts |= *f == 'i' ? PCRE2_CASELESS : *f == 'm' ? PCRE2_MULTILINE : *f == 's' ? PCRE2_DOTALL : 0;
   }
   pcre2_set_compile_extra_options (cc, PCRE2_EXTRA_ALT_BSUX);
   code = pcre2_compile ((PCRE2_SPTR) re, PCRE2_ZERO_TERMINATED, opts, &err, &off, cc);
   pcre2_compile_context_free (cc);
   if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message (err, msg, sizeof msg);
      die (where, "\"regex\": /%s/ does not compile at offset %zu: %s", re, (size_t) off, (const char *) msg);
   }
   pcre2_code_free (code);
   return *buf ? buf : "0";
}

static void
emit_rules (buf_t *c, const spec_t *sp)
{
   bson_iter_t it;
   bool any = false;
   const char *stem = sp->root.stem;

   bson_iter_init (&it, &sp->rules);
   while (bson_iter_next (&it)) {
      bson_t d;
      const uint8_t *data;
      uint32_t len;
      bson_iter_t body;
      char *where = fmt ("rules[%s]", bson_iter_key (&it));
      const char *kind, *path, *msg;
      char *a = NULL, *ha = NULL, *b = NULL, *hb = NULL, *m, *p;

      want_doc (&it, &body, where);
      bson_iter_document (&it, &len, &data);
      bson_init_static (&d, data, len);
      if (!any) {
         out (c, "/* The spec's cross-field rules for %s, in the spec's order. */\n", sp->collection);
         out (c, "static void\n%s_rules (const void *doc_, odm_rule_ctx_t *ctx)\n{\n", stem);
         out (c, "   const %s *doc = doc_;\n", sp->root.ctype);
         any = true;
      }
      kind = get_str (&d, "kind", where);
      path = get_str (&d, "path", where);
      msg = get_str (&d, "message", where);
      m = cstr (msg);
      p = cstr (path);
      if (!strcmp (kind, "min") || !strcmp (kind, "max")) {
         static const char *const keys[] = {"kind", "path", "value", "message", "null_is_zero", NULL};
         char *v = num (get_num (&d, "value", where));
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_NUMBER, false, &a, &ha, where);
         null_as_zero (&d, get_str (&d, "path", where), NULL, K_NUMBER, &a, &ha, NULL, NULL, where);
         out (c, "   odm_rule_%s (ctx, %s,\n      %s, %s,\n      %s, %s);\n", kind, p, ha, a, v, m);
         bson_free (v);
      } else if (!strcmp (kind, "after") || !strcmp (kind, "not_greater")) {
         static const char *const keys[] = {"kind", "path", "than", "message", "null_is_zero", NULL};
         int k = !strcmp (kind, "after") ? K_DATE : K_NUMBER;
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", k, false, &a, &ha, where);
         want_path (sp, &d, "than", k, false, &b, &hb, where);
         null_as_zero (&d, get_str (&d, "path", where), get_str (&d, "than", where), k, &a, &ha, &b, &hb, where);
         out (c, "   odm_rule_%s (ctx, %s,\n      %s, %s,\n      %s, %s,\n      %s);\n", kind, p, ha, a, hb, b, m);
      } else if (!strcmp (kind, "max_items") || !strcmp (kind, "items_if_any")) {
         static const char *const keys[] = {"kind", "path", "value", "message", NULL};
         double v = get_num (&d, "value", where);
         const field_t *f;
         check_keys (&d, keys, where);
         f = want_path (sp, &d, "path", 0, false, &a, NULL, where);
         if (!f->array) {
            die (where, "\"%s\" is not an array", path);
         }
         out (c, "   odm_rule_%s (ctx, %s, %s.count, %.0f, %s);\n", kind, p, a, v, m);
      } else if (!strcmp (kind, "sum_not_greater")) {
         static const char *const keys[] = {"kind", "path", "field", "than", "message", NULL};
         const field_t *arr, *ef = NULL;
         const char *field = get_str (&d, "field", where);
         size_t i;
         check_keys (&d, keys, where);
         arr = want_path (sp, &d, "path", K_OBJECT, true, &a, NULL, where);
         for (i = 0; i < arr->object->n; i++) {
            if (!strcmp (arr->object->fields[i].name, field)) {
               ef = &arr->object->fields[i];
            }
         }
         if (!ef || ef->kind != K_NUMBER || ef->array) {
            die (where, "\"field\" must name a number field of the subdocuments");
         }
         want_path (sp, &d, "than", K_NUMBER, false, &b, &hb, where);
         out (c, "   {\n      double sum = 0;\n      size_t i;\n");
         out (c, "      for (i = 0; i < %s.count; i++) {\n", a);
         out (c, "         if (%s.items[i].has_%s == ODM_PRESENT) {\n", a, ef->cname);
         out (c, "            sum += %s.items[i].%s;\n         }\n      }\n", a, ef->cname);
         out (c, "      odm_rule_sum_not_greater (ctx, %s, %s.count, sum, %s, %s, %s);\n   }\n", p, a, hb, b, m);
      } else if (!strcmp (kind, "pattern") && bson_has_field (&d, "regex")) {
         static const char *const keys[] = {"kind", "path", "regex", "flags", "message", NULL};
         const char *re = get_str (&d, "regex", where);
         const char *flags = bson_has_field (&d, "flags") ? get_str (&d, "flags", where) : "";
         char *src;
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_STRING, false, &a, NULL, where);
         src = cstr (re);
         out (c, "   {\n      static odm_regex_t re = {.source = %s, .flags = %s};\n", src, regex_flags (re, flags, where));
         out (c, "      odm_rule_regex (ctx, %s, %s, &re, %s);\n   }\n", p, a, m);
         bson_free (src);
      } else if (!strcmp (kind, "pattern")) {
         static const char *const keys[] = {"kind", "path", "pattern", "message", NULL};
         const char *pat = get_str (&d, "pattern", where);
         const char *cpat = !strcmp (pat, "email") ? "ODM_PATTERN_EMAIL"
                            : !strcmp (pat, "username") ? "ODM_PATTERN_USERNAME"
                            : !strcmp (pat, "slug") ? "ODM_PATTERN_SLUG"
                                                     : NULL;
         check_keys (&d, keys, where);
         if (!cpat) {
            die (where, "unknown pattern \"%s\"", pat);
         }
         want_path (sp, &d, "path", K_STRING, false, &a, NULL, where);
         out (c, "   odm_rule_pattern (ctx, %s, %s, %s, %s);\n", p, a, cpat, m);
      } else if (!strcmp (kind, "minlength")) {
         static const char *const keys[] = {"kind", "path", "value", "message", NULL};
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_STRING, false, &a, NULL, where);
         out (c, "   odm_rule_minlength (ctx, %s, %s, %.0f, %s);\n", p, a, get_num (&d, "value", where), m);
      } else if (!strcmp (kind, "byte_length_equals")) {
         static const char *const keys[] = {"kind", "path", "than", "message", NULL};
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_STRING, false, &a, NULL, where);
         want_path (sp, &d, "than", K_NUMBER, false, &b, &hb, where);
         out (c, "   odm_rule_byte_length_equals (ctx, %s, %s, %s, %s, %s);\n", p, a, hb, b, m);
      } else if (!strcmp (kind, "not_equal_id")) {
         static const char *const keys[] = {"kind", "path", "message", NULL};
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_OID, false, &a, &ha, where);
         out (c, "   odm_rule_not_equal_id (ctx, %s, %s, &%s, doc->has__id, &doc->_id, %s);\n", p, ha, a, m);
      } else if (!strcmp (kind, "future_on_create")) {
         static const char *const keys[] = {"kind", "path", "message", NULL};
         char *pa, *pha;
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_DATE, false, &a, &ha, where);
         pa = fmt ("prev->%s", a + 5);
         pha = fmt ("prev->%s", ha + 5);
         out (c, "   {\n      const %s *prev = ctx->opts ? ctx->opts->previous : NULL;\n", sp->root.ctype);
         out (c, "      odm_rule_future_on_create (ctx, %s, %s, %s, prev ? &%s : NULL, prev ? &%s : NULL, %s);\n   }\n",
              p, ha, a, pha, pa, m);
         bson_free (pa);
         bson_free (pha);
      } else if (!strcmp (kind, "requires")) {
         static const char *const keys[] = {"kind", "path", "when", "paths", "message", NULL};
         char *cond = when_cond (sp, &d, where);
         bson_iter_t pi, pl;
         buf_t hv = {0};
         check_keys (&d, keys, where);
         if (!bson_iter_init_find (&pi, &d, "paths")) {
            die (where, "missing \"paths\"");
         }
         want_array (&pi, &pl, where);
         while (bson_iter_next (&pl)) {
            char *e, *h;
            const field_t *f = lookup (sp, want_utf8 (&pl, where), &e, &h, where);
            if (f->kind == K_STRING && !f->array) {
               out (&hv, "%s%s != NULL", hv.len ? " && " : "", e);
            } else {
               out (&hv, "%s%s == ODM_PRESENT", hv.len ? " && " : "", h);
            }
            bson_free (e);
            bson_free (h);
         }
         if (!hv.len) {
            die (where, "\"paths\" is empty");
         }
         out (c, "   odm_rule_requires (ctx, %s, %s,\n                      %s, %s);\n", p, cond, hv.s, m);
         bson_free (cond);
         bson_free (hv.s);
      } else {
         die (where, "unknown rule kind \"%s\"", kind);
      }
      bson_free (a), bson_free (ha), bson_free (b), bson_free (hb), bson_free (m), bson_free (p);
      bson_free (where);
   }
   if (any) {
      out (c, "}\n\n");
   }
}

/* "doc->has_a != ODM_NULL && doc->a.has_b != ODM_NULL && " for the objects that hold PATH
 * (empty when PATH is top-level). */
static char *
not_null_parents (const spec_t *sp, const char *path, const char *where)
{
   buf_t r = {0};
   const char *dot;
   out (&r, "%s", "");
   for (dot = strchr (path, '.'); dot; dot = strchr (dot + 1, '.')) {
      char *prefix = bson_strndup (path, (size_t) (dot - path)), *h;
      lookup (sp, prefix, NULL, &h, where);
      out (&r, "%s != ODM_NULL && ", h);
      bson_free (h);
      bson_free (prefix);
   }
   return r.s;
}

static void
emit_derive (buf_t *c, const spec_t *sp)
{
   bson_iter_t it;
   bool any = false;
   bson_iter_init (&it, &sp->derive);
   while (bson_iter_next (&it)) {
      bson_t d;
      const uint8_t *data;
      uint32_t len;
      bson_iter_t body;
      char *where = fmt ("derive[%s]", bson_iter_key (&it));
      const char *kind;
      char *a = NULL, *ha = NULL, *b = NULL, *hb = NULL, *x = NULL, *hx = NULL;

      want_doc (&it, &body, where);
      bson_iter_document (&it, &len, &data);
      bson_init_static (&d, data, len);
      if (!any) {
         out (c, "/* The seed's pre-save derivations for %s; run before validation. */\n", sp->collection);
         out (c, "static void\n%s_derive (void *doc_, odm_rule_ctx_t *ctx)\n{\n", sp->root.stem);
         out (c, "   %s *doc = doc_;\n   (void) ctx;\n", sp->root.ctype);
         any = true;
      }
      kind = get_str (&d, "kind", where);
      if (!strcmp (kind, "now_when") || !strcmp (kind, "true_when")) {
         static const char *const keys[] = {"kind", "path", "when", NULL};
         bool now = !strcmp (kind, "now_when");
         char *cond = when_cond (sp, &d, where);
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", now ? K_DATE : K_BOOL, false, &a, &ha, where);
         if (now) {
            out (c, "   if (%s && %s != ODM_PRESENT) {\n      %s = ctx->now_ms;\n      %s = ODM_PRESENT;\n   }\n",
                 cond, ha, a, ha);
         } else {
            out (c, "   if (%s) {\n      %s = true;\n      %s = ODM_PRESENT;\n   }\n", cond, a, ha);
         }
         bson_free (cond);
      } else if (!strcmp (kind, "count_of")) {
         static const char *const keys[] = {"kind", "path", "of", NULL};
         const field_t *f;
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_NUMBER, false, &a, &ha, where);
         f = want_path (sp, &d, "of", 0, false, &b, &hb, where);
         if (!f->array) {
            die (where, "\"of\" must be an array");
         }
         /* The hook reads `if (of && count !== of.length)`: a null array is falsy and keeps the
          * given count; a null object holding the count stays null (nothing is derived into it). */
         x = not_null_parents (sp, get_str (&d, "path", where), where);
         out (c, "   if (%s%s != ODM_NULL) {\n", x, hb);
         out (c, "      %s = (double) %s.count;\n      %s = ODM_PRESENT;\n   }\n", a, b, ha);
      } else if (!strcmp (kind, "seconds_between")) {
         static const char *const keys[] = {"kind", "path", "from", "to", NULL};
         check_keys (&d, keys, where);
         want_path (sp, &d, "path", K_NUMBER, false, &a, &ha, where);
         want_path (sp, &d, "from", K_DATE, false, &b, &hb, where);
         want_path (sp, &d, "to", K_DATE, false, &x, &hx, where);
         {
            /* Checked arithmetic (dates far apart overflow int64): see odm_derive_seconds_between. */
            bson_iter_t pit;
            const char *dpath = bson_iter_init_find (&pit, &d, "path") && BSON_ITER_HOLDS_UTF8 (&pit)
                                   ? bson_iter_utf8 (&pit, NULL)
                                   : "";
            out (c, "   odm_derive_seconds_between (ctx, \"%s\", %s, %s, %s, %s, &%s, &%s);\n", dpath, hb, b, hx, x, a, ha);
         }
      } else {
         die (where, "unknown derivation kind \"%s\"", kind);
      }
      bson_free (a), bson_free (ha), bson_free (b), bson_free (hb), bson_free (x), bson_free (hx);
      bson_free (where);
   }
   if (any) {
      out (c, "}\n\n");
   }
}

/* ----------------------------------------------------------------- files */

static void
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
static void
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

static const char *
base_name (const char *p)
{
   const char *s = strrchr (p, '/');
   return s ? s + 1 : p;
}

static const char *
param_c_type (const param_t *p)
{
   switch (p->kind) {
   case K_STRING:
   case P_PERIOD: return "const char *";
   case K_NUMBER: return "double ";
   case K_BOOL: return "bool ";
   case K_DATE: return "int64_t ";
   case K_OID: return "bson_oid_t ";
   default: return "?";
   }
}

/* Header part of the analytics: params and row structs are typedefs, the run is inline. */
static void
emit_aggs_h (buf_t *h, const spec_t *sp)
{
   size_t i, j;
   const char *st = sp->root.stem;
   if (!sp->n_aggs) {
      return;
   }
   out (h, "/* ---- Analytics (odm-analytics.h): the spec's named aggregations as pipelines. ---- */\n\n");
   for (i = 0; i < sp->n_aggs; i++) {
      const agg_t *a = &sp->aggs[i];
      char *doc = ctext (a->doc), *name = ctext (a->name);
      out (h, "/* %s: %s */\ntypedef struct %s_%s_params {\n", name, doc, st, a->c_name);
      for (j = 0; j < a->n_params; j++) {
         const param_t *p = &a->params[j];
         char *pd = ctext (p->doc ? p->doc : "");
         out (h, "   /* %s%s%s%s%s */\n", p->kind == P_PERIOD ? "day, week, month or year" : p->type,
              p->required ? ", required" : "", p->has_default ? ", has a default" : ", optional", *pd ? " -- " : "", pd);
         out (h, "   %s%s;\n   uint8_t has_%s;\n", param_c_type (p), p->name, p->name);
         bson_free (pd);
      }
      if (!a->n_params) {
         out (h, "   uint8_t unused; /* no parameters */\n");
      }
      out (h, "} %s_%s_params_t;\n\n", st, a->c_name);
      out (h, "extern ODM_API const odm_aggregation_t %s_%s_aggregation;\n\n", st, a->c_name);
      out (h,
           "/* Runs \"%s\"; *ROWS is an array of *N rows, freed with %s_%s_rows_free. */\n"
           "static inline bool\n%s_%s (odm_client_t *client, const %s_%s_params_t *params, %s **rows, size_t *n, "
           "bson_error_t *error)\n{\n   return odm_aggregate (client, &%s_schema, &%s_%s_aggregation, params, (void **) "
           "rows, n, error);\n}\n\n",
           name, st, a->c_name, st, a->c_name, st, a->c_name, a->row->ctype, st, st, a->c_name);
      out (h, "static inline void\n%s_%s_rows_free (%s *rows, size_t n)\n{\n   odm_rows_free (&%s_%s_aggregation, rows, n);\n}\n\n",
           st, a->c_name, a->row->ctype, st, a->c_name);
      bson_free (doc);
      bson_free (name);
   }
}

static void
emit_aggs_c (buf_t *c, const spec_t *sp)
{
   size_t i, j;
   const char *st = sp->root.stem;
   static const char *const kinds[] = {"", "ODM_KIND_STRING", "ODM_KIND_NUMBER", "ODM_KIND_BOOL", "ODM_KIND_DATE", "ODM_KIND_OID"};
   for (i = 0; i < sp->n_aggs; i++) {
      const agg_t *a = &sp->aggs[i];
      char *nm = cstr (a->name), *doc = cstr (a->doc);
      if (a->n_params) {
         out (c, "static const odm_param_t %s_%s_params[] = {\n", st, a->c_name);
         for (j = 0; j < a->n_params; j++) {
            const param_t *p = &a->params[j];
            char *pd = cstr (p->doc ? p->doc : "");
            out (c, "   {.name = \"%s\",\n    .kind = %s,\n    .offset = offsetof (%s_%s_params_t, %s),\n", p->name,
                 p->kind == P_PERIOD ? "ODM_PARAM_PERIOD" : kinds[p->kind], st, a->c_name, p->name);
            out (c, "    .presence = offsetof (%s_%s_params_t, has_%s),\n    .required = %s,\n", st, a->c_name, p->name,
                 p->required ? "true" : "false");
            if (p->has_default) {
               out (c, "    .has_default = true,\n");
               if (p->dflt_string) {
                  char *ds = cstr (p->dflt_string);
                  out (c, "    .dflt_string = %s,\n", ds);
                  bson_free (ds);
               } else {
                  char *dn = num (p->dflt_number);
                  out (c, "    .dflt_number = %s,\n", dn);
                  bson_free (dn);
               }
            }
            out (c, "    .doc = %s},\n", pd);
            bson_free (pd);
         }
         out (c, "};\n");
      }
      out (c, "static const char %s_%s_pipeline[] =\n", st, a->c_name);
      {
         char *pj = cstr (a->pipeline_json);
         out (c, "   %s;\n", pj);
         bson_free (pj);
      }
      out (c, "const odm_aggregation_t %s_%s_aggregation = {\n   .name = %s,\n   .c_name = \"%s\",\n   .doc = %s,\n",
           st, a->c_name, nm, a->c_name, doc);
      out (c, "   .pipeline_json = %s_%s_pipeline,\n   .param_count = %zu,\n", st, a->c_name, a->n_params);
      if (a->n_params) {
         out (c, "   .params = %s_%s_params,\n", st, a->c_name);
      }
      out (c, "   .params_size = sizeof (%s_%s_params_t),\n   .row = &%s_desc,\n};\n\n", st, a->c_name, a->row->stem);
      bson_free (nm);
      bson_free (doc);
   }
   if (sp->n_aggs) {
      out (c, "static const odm_aggregation_t *const %s_analytics[] = {\n", st);
      for (i = 0; i < sp->n_aggs; i++) {
         out (c, "   &%s_%s_aggregation,\n", st, sp->aggs[i].c_name);
      }
      out (c, "};\n\n");
   }
}

/* Path constants: "#define ODM_CHAT_SESSION_PATH_SETTINGS_MODE "settings.mode"", one per
 * schema path (through nested objects and arrays of them, as queries name them), so that a
 * misspelt path in a filter, sort or projection is a compile error. camelCase becomes
 * SNAKE_CASE ("_id" gives PATH__ID); a name that would collide stops the generator. */
static void
emit_path_macro_name (buf_t *name, const char *path)
{
   const char *p;
   bool start = true;
   for (p = path; *p; p++) {
      unsigned char ch = (unsigned char) *p;
      if (*p == '.') {
         out (name, "_");
         start = true;
         continue;
      }
      if (isupper (ch) && !start && p > path && islower ((unsigned char) p[-1])) {
         out (name, "_");
      }
      out (name, "%c", isalnum (ch) ? toupper (ch) : '_');
      start = false;
   }
}

static void
emit_paths (buf_t *h, const char *stem, const object_t *o, const char *prefix, char ***seen, size_t *n_seen)
{
   size_t i, k;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      char *path = prefix ? fmt ("%s.%s", prefix, f->name) : xstrdup (f->name);
      buf_t name = {0};
      char *upper = xstrdup (stem);
      char *u;
      for (u = upper; *u; u++) {
         *u = (char) toupper ((unsigned char) *u);
      }
      out (&name, "%s_PATH_", upper);
      emit_path_macro_name (&name, path);
      for (k = 0; k < *n_seen; k++) {
         if (!strcmp ((*seen)[k], name.s)) {
            die (path, "path constant %s would name two paths", name.s);
         }
      }
      *seen = realloc (*seen, (*n_seen + 1) * sizeof **seen);
      (*seen)[(*n_seen)++] = xstrdup (name.s);
      out (h, "#define %s \"%s\"\n", name.s, path);
      if (f->kind == K_OBJECT && f->object) {
         emit_paths (h, stem, f->object, path, seen, n_seen);
      }
      free (upper);
      free (name.s);
      free (path);
   }
}

static void emit_find_by_unique (buf_t *h, const spec_t *sp, const index_t *ix);

/* Setters for the fields of O and of the objects below it: each frees what the field held
 * and sets its has_ flag, so that a default or an earlier value never leaks and a scalar
 * is never left without its flag. Arrays get an _add_ that appends one element. */
static void
emit_setters (buf_t *h, const object_t *o)
{
   size_t i;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      const char *fn = f->cname, *ct = o->ctype, *st = o->stem;
      if (f->array) {
         if (f->kind == K_OBJECT) {
            out (h, "/* Appends a zeroed %s to %s (defaults are filled by prepare); returns it. */\n", f->object->ctype,
                 f->name);
            out (h, "static inline %s *\n%s_add_%s (%s *obj)\n{\n", f->object->ctype, st, fn, ct);
            out (h, "   %s *e;\n   obj->%s.items = (%s *) bson_realloc (obj->%s.items, (obj->%s.count + 1) * sizeof *e);\n",
                 f->object->ctype, fn, f->object->ctype, fn, fn);
            out (h, "   e = &obj->%s.items[obj->%s.count++];\n   memset (e, 0, sizeof *e);\n", fn, fn);
            out (h, "   obj->has_%s = ODM_PRESENT;\n   return e;\n}\n\n", fn);
            emit_setters (h, f->object);
            continue;
         }
         out (h, "/* Appends a copy of VALUE to %s. */\n", f->name);
         out (h, "static inline void\n%s_add_%s (%s *obj, %s%svalue)\n{\n", st, fn, ct,
              f->kind == K_STRING ? "const char *" : f->kind == K_OID ? "const bson_oid_t *" : f->kind == K_MIXED ? "const bson_value_t *" : c_type_of (f),
              "");
         out (h, "   obj->%s.items = (%s%s*) bson_realloc (obj->%s.items, (obj->%s.count + 1) * sizeof *obj->%s.items);\n",
              fn, c_type_of (f), f->kind == K_STRING ? "" : "", fn, fn, fn);
         switch (f->kind) {
         case K_STRING: out (h, "   obj->%s.items[obj->%s.count++] = bson_strdup (value);\n", fn, fn); break;
         case K_OID: out (h, "   bson_oid_copy (value, &obj->%s.items[obj->%s.count++]);\n", fn, fn); break;
         case K_MIXED: out (h, "   bson_value_copy (value, &obj->%s.items[obj->%s.count++]);\n", fn, fn); break;
         default: out (h, "   obj->%s.items[obj->%s.count++] = value;\n", fn, fn); break;
         }
         out (h, "   obj->has_%s = ODM_PRESENT;\n}\n\n", fn);
         continue;
      }
      if (f->kind == K_OBJECT) {
         emit_setters (h, f->object);
         continue;
      }
      switch (f->kind) {
      case K_STRING:
         out (h, "/* Sets %s to a copy of VALUE (NULL: absent), freeing what it held. */\n", f->name);
         out (h, "static inline void\n%s_set_%s (%s *obj, const char *value)\n{\n", st, fn, ct);
         out (h, "   char *copy = value ? bson_strdup (value) : NULL;\n   bson_free (obj->%s);\n   obj->%s = copy;\n", fn, fn);
         out (h, "   obj->has_%s = value ? ODM_PRESENT : ODM_ABSENT;\n}\n\n", fn);
         break;
      case K_MIXED:
         out (h, "/* Sets %s to a copy of VALUE (NULL: absent), freeing what it held. */\n", f->name);
         out (h, "static inline void\n%s_set_%s (%s *obj, const bson_value_t *value)\n{\n", st, fn, ct);
         out (h, "   bson_value_t copy;\n   memset (&copy, 0, sizeof copy);\n   if (value) {\n      bson_value_copy (value, &copy);\n   }\n");
         out (h, "   if (obj->%s.value_type != BSON_TYPE_EOD) {\n      bson_value_destroy (&obj->%s);\n   }\n", fn, fn);
         out (h, "   obj->%s = copy;\n   obj->has_%s = value ? ODM_PRESENT : ODM_ABSENT;\n}\n\n", fn, fn);
         break;
      case K_OID:
         out (h, "static inline void\n%s_set_%s (%s *obj, const bson_oid_t *value)\n{\n", st, fn, ct);
         out (h, "   bson_oid_copy (value, &obj->%s);\n   obj->has_%s = ODM_PRESENT;\n}\n\n", fn, fn);
         break;
      default:
         out (h, "static inline void\n%s_set_%s (%s *obj, %svalue)\n{\n", st, fn, ct, c_type_of (f));
         out (h, "   obj->%s = value;\n   obj->has_%s = ODM_PRESENT;\n}\n\n", fn, fn);
         break;
      }
      /* absent again (unset) */
      out (h, "static inline void\n%s_unset_%s (%s *obj)\n{\n", st, fn, ct);
      if (f->kind == K_STRING) {
         out (h, "   bson_free (obj->%s);\n   obj->%s = NULL;\n", fn, fn);
      } else if (f->kind == K_MIXED) {
         out (h, "   if (obj->%s.value_type != BSON_TYPE_EOD) {\n      bson_value_destroy (&obj->%s);\n   }\n", fn, fn);
         out (h, "   memset (&obj->%s, 0, sizeof obj->%s);\n", fn, fn);
      } else {
         out (h, "   memset (&obj->%s, 0, sizeof obj->%s);\n", fn, fn);
      }
      out (h, "   obj->has_%s = ODM_ABSENT;\n}\n\n", fn);
   }
}

/* Zero-copy views (odm-view.h), typed: for O and the objects below it, a view type
 * <stem>_view_t wrapping odm_view_t (so that a view of one object cannot be read with
 * another's accessors), and per field <stem>_view_<field> calling the generic accessor
 * of its kind with the field's index in the descriptor. ST (the schema's stem, at the
 * root only) adds <st>_view, which makes a view of a stored document, and
 * <st>_cursor_next_view. Nested objects come first: their view types are used above them.
 * Self-contained, so that it moves as one piece. */
static void
emit_view_accessors (buf_t *h, const object_t *o, const char *st)
{
   size_t i;
   const char *vs = o->stem;

   if (st) {
      out (h, "/* Zero-copy views (odm-view.h): the stored document's fields read from its BSON bytes, checked\n"
              " * once, nothing copied or allocated; a view borrows the bytes it was made from. */\n\n");
   }
   for (i = 0; i < o->n; i++) {
      if (o->fields[i].kind == K_OBJECT) {
         emit_view_accessors (h, o->fields[i].object, NULL);
      }
   }
   out (h, "/* A view of %s%s. */\ntypedef struct {\n   odm_view_t v;\n} %s_view_t;\n\n", o->path && *o->path ? "" : "a ",
        o->path && *o->path ? o->path : "document", vs);
   if (st) {
      out (h,
           "/* Checks DOC (borrowed: it must outlive VIEW) and makes VIEW read it; see odm_view_init. */\n"
           "static inline bool\n%s_view (%s_view_t *view, const bson_t *doc, uint32_t flags, bson_error_t *error)\n{\n"
           "   return odm_view_init_bson (&view->v, &%s_schema, doc, flags, error);\n}\n\n",
           st, vs, st);
      out (h,
           "/* The next document of CURSOR as a view (valid until the next call on CURSOR); see "
           "odm_cursor_next_view. */\n"
           "static inline bool\n%s_cursor_next_view (odm_cursor_t *cursor, %s_view_t *view)\n{\n"
           "   return odm_cursor_next_view (cursor, &view->v);\n}\n\n",
           st, vs);
   }
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      const char *fn = f->cname;
      if (f->array) {
         out (h, "/* %s: an iterator over its elements (odm_view_next_*). */\n", f->name);
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, odm_view_array_t *array)\n{\n"
              "   return odm_view_array (&view->v, %zu, array);\n}\n\n",
              vs, fn, vs, i);
         if (f->kind == K_OBJECT) {
            out (h,
                 "static inline bool\n%s_view_next_%s (odm_view_array_t *array, %s_view_t *elem)\n{\n"
                 "   return odm_view_next_object (array, &elem->v);\n}\n\n",
                 vs, fn, f->object->stem);
         }
         continue;
      }
      switch (f->kind) {
      case K_STRING:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, const char **str, uint32_t *len)\n{\n"
              "   return odm_view_string (&view->v, %zu, str, len);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_NUMBER:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, double *value)\n{\n"
              "   return odm_view_number (&view->v, %zu, value);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_BOOL:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, bool *value)\n{\n"
              "   return odm_view_bool (&view->v, %zu, value);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_DATE:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, int64_t *ms)\n{\n"
              "   return odm_view_date (&view->v, %zu, ms);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_OID:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, const bson_oid_t **oid)\n{\n"
              "   return odm_view_oid (&view->v, %zu, oid);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_OBJECT:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, %s_view_t *sub)\n{\n"
              "   return odm_view_object (&view->v, %zu, &sub->v);\n}\n\n",
              vs, fn, vs, f->object->stem, i);
         break;
      default: /* K_MIXED */
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, bson_iter_t *it)\n{\n"
              "   return odm_view_mixed (&view->v, %zu, it);\n}\n\n",
              vs, fn, vs, i);
         break;
      }
   }
}

static void
emit_spec (const spec_t *sp, const char *outdir)
{
   buf_t h = {0}, c = {0};
   size_t i;
   char *guard = strcmp (hdr_dir, "odm/gen") ? fmt ("ODM_GEN_%s_%s_H", hdr_dir, sp->collection)
                                             : fmt ("ODM_GEN_%s_H", sp->collection), *g;
   char *path;
   const char *st = sp->root.stem;
   bool has_rules = bson_count_keys (&sp->rules) > 0, has_derive = bson_count_keys (&sp->derive) > 0;

   for (g = guard; *g; g++) {
      *g = (char) toupper ((unsigned char) *g);
   }
   out (&h, "/* Generated by odmgen (codegen ABI %d) from %s. Do not edit: edit the spec. */\n",
        ODMGEN_ABI, base_name (sp->file));
   out (&h, "#ifndef %s\n#define %s\n\n#include <odm/odm.h>\n\n", guard, guard);
   out (&h, "#if ODM_CODEGEN_ABI != %d\n#error \"%s.h was generated for codegen ABI %d: regenerate this file with this "
            "libodm's odmgen\"\n#endif\n\n",
        ODMGEN_ABI, sp->collection, ODMGEN_ABI);
   out (&h, "ODM_BEGIN_DECLS\n\n");
   out (&h, "/* Collection \"%s\" (Mongoose model %s): %d schema paths%s. */\n\n", sp->collection, sp->model,
        sp->path_count, sp->timestamps ? ", with timestamps" : "");
   for (i = 0; i < sp->n_objects; i++) {
      emit_struct (&h, sp->collection, sp->objects[i]);
   }
   {
      char **seen = NULL;
      size_t n_seen = 0, k;
      out (&h, "/* Every schema path, for filters, sorts and projections (a typo is a compile error). */\n");
      emit_paths (&h, st, &sp->root, NULL, &seen, &n_seen);
      out (&h, "\n");
      for (k = 0; k < n_seen; k++) {
         free (seen[k]);
      }
      free (seen);
   }
   out (&h, "/* The descriptor the generic API (odm-doc.h) takes. */\nextern ODM_API const odm_schema_t %s_schema;\n\n",
        st);
   out (&h, "/* Setters: <type>_set_<field> frees the old value (a default too) and sets has_<field>;\n"
            " * <type>_unset_<field> makes it absent; <type>_add_<array> appends. */\n");
   emit_setters (&h, &sp->root);
   out (&h, "/* Typed wrappers: see odm-doc.h for what each does and who owns what. */\n");
   out (&h, "static inline void\n%s_init (%s *doc)\n{\n   odm_init (&%s_schema, doc);\n}\n\n", st, sp->root.ctype, st);
   out (&h, "static inline void\n%s_cleanup (%s *doc)\n{\n   odm_cleanup (&%s_schema, doc);\n}\n\n", st,
        sp->root.ctype, st);
   out (&h,
        "static inline bool\n%s_to_bson (const %s *doc, bson_t *out, bson_error_t *error)\n{\n   return odm_to_bson "
        "(&%s_schema, doc, out, error);\n}\n\n",
        st, sp->root.ctype, st);
   out (&h,
        "static inline bool\n%s_from_bson (const bson_t *in, %s *doc, uint32_t flags, bson_error_t *error)\n{\n   "
        "return odm_from_bson (&%s_schema, in, doc, flags, error);\n}\n\n",
        st, sp->root.ctype, st);
   out (&h,
        "static inline bool\n%s_validate (const %s *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)\n{\n"
        "   return odm_validate (&%s_schema, doc, opts, out);\n}\n\n",
        st, sp->root.ctype, st);
   out (&h,
        "static inline bool\n%s_prepare (%s *doc, const odm_prepare_opts_t *opts, odm_violations_t *out)\n{\n"
        "   return odm_prepare (&%s_schema, doc, opts, out);\n}\n\n",
        st, sp->root.ctype, st);
   emit_view_accessors (&h, &sp->root, st);
   out (&h, "/* Live layer (odm-client.h): typed CRUD; every write runs the pre-save path. */\n");
   out (&h,
        "static inline bool\n%s_insert (odm_client_t *client, %s *doc, odm_violations_t *violations, bson_error_t "
        "*error)\n{\n   return odm_insert_one (client, &%s_schema, doc, NULL, violations, error);\n}\n\n",
        st, sp->root.ctype, st);
   out (&h,
        "static inline bool\n%s_save (odm_client_t *client, %s *doc, odm_violations_t *violations, bson_error_t "
        "*error)\n{\n   return odm_save (client, &%s_schema, doc, NULL, violations, error);\n}\n\n",
        st, sp->root.ctype, st);
   out (&h,
        "/* The document with this _id. */\nstatic inline bool\n%s_get (odm_client_t *client, const bson_oid_t *id, %s *out, bool *found, "
        "bson_error_t *error)\n{\n   return odm_find_by_id (client, &%s_schema, id, out, found, error);\n}\n\n",
        st, sp->root.ctype, st);
   for (i = 0; i < sp->n_indexes; i++) {
      emit_find_by_unique (&h, sp, &sp->indexes[i]);
   }
   emit_aggs_h (&h, sp);
   out (&h, "ODM_END_DECLS\n\n#endif /* %s */\n", guard);

   out (&c, "/* Generated by odmgen (codegen ABI %d) from %s. Do not edit: edit the spec. */\n", ODMGEN_ABI,
        base_name (sp->file));
   out (&c, "#include <stddef.h>\n\n#include <%s/%s.h>\n\n", hdr_dir, sp->collection);
   for (i = 0; i < sp->n_objects; i++) {
      const object_t *o = sp->objects[i];
      size_t j;
      for (j = 0; j < o->n; j++) {
         if (o->fields[j].array) {
            out (&c, "_Static_assert (offsetof (%s, %s.count) == offsetof (%s, %s) + sizeof (void *), \"array layout\");\n",
                 o->ctype, o->fields[j].cname, o->ctype, o->fields[j].cname);
         }
      }
   }
   out (&c, "\n");
   for (i = 0; i < sp->n_objects; i++) {
      emit_desc (&c, sp->objects[i]);
   }
   emit_rules (&c, sp);
   emit_derive (&c, sp);
   out (&c, "/* Indexes: the spec's declarations merged by key pattern (unique wins). */\n");
   out (&c, "static const odm_index_t %s_indexes[] = {\n", st);
   for (i = 0; i < sp->n_indexes; i++) {
      const index_t *ix = &sp->indexes[i];
      char *k = cstr (ix->keys_json), *n = cstr (ix->name), *cm = ix->comment ? cstr (ix->comment) : NULL;
      out (&c, "   {.keys_json = %s,\n    .name = %s,\n    .unique = %s,\n    .declared = %d,\n"
                "    .declared_unique = %d,\n    .prefix_of = %d,\n",
           k, n, ix->unique ? "true" : "false", ix->declared, ix->declared_unique, ix->prefix_of);
      out (&c, "    .comment = %s},\n", cm ? cm : "NULL");
      bson_free (k), bson_free (n), bson_free (cm);
   }
   out (&c, "};\n\n");
   out (&c, "static const char *const %s_aggregations[] = {\n", st);
   for (i = 0; i < sp->n_aggregations; i++) {
      char *s = cstr (sp->aggregations[i]);
      out (&c, "   %s,\n", s);
      bson_free (s);
   }
   out (&c, "   NULL};\n\n");
   emit_aggs_c (&c, sp);
   out (&c, "static const char %s_spec_json[] =\n", st);
   {
      char *line = sp->text, *nl;
      while (*line) {
         char *s;
         nl = strchr (line, '\n');
         if (nl) *nl = '\0';
         s = cstr (line);
         out (&c, "   %s \"\\n\"\n", s);
         bson_free (s);
         if (!nl) break;
         *nl = '\n';
         line = nl + 1;
      }
   }
   out (&c, "   ;\n\n");
   out (&c, "const odm_schema_t %s_schema = {\n   .magic = ODM_SCHEMA_MAGIC,\n   .abi = %d,\n", st, ODMGEN_ABI);
   out (&c, "   .collection = \"%s\",\n   .model = \"%s\",\n   .c_name = \"%s\",\n   .root = &%s_desc,\n", sp->collection,
        sp->model, sp->c_name, st);
   out (&c, "   .index_count = %zu,\n   .indexes = %s_indexes,\n", sp->n_indexes, st);
   out (&c, "   .aggregation_count = %zu,\n   .aggregations = %s_aggregations,\n", sp->n_aggregations, st);
   out (&c, "   .rules = %s%s,\n", has_rules ? st : "NULL", has_rules ? "_rules" : "");
   out (&c, "   .derive = %s%s,\n", has_derive ? st : "NULL", has_derive ? "_derive" : "");
   if (sp->n_aggs) {
      out (&c, "   .analytics_count = %zu,\n   .analytics = %s_analytics,\n", sp->n_aggs, st);
   }
   out (&c, "   .spec_json = %s_spec_json,\n   .path_count = %d,\n};\n", st, sp->path_count);

   path = fmt ("%s/%s/%s.h", outdir, hdr_dir, sp->collection);
   write_if_changed (path, &h);
   bson_free (path);
   path = fmt ("%s/%s.c", outdir, sp->collection);
   write_if_changed (path, &c);
   bson_free (path);
   bson_free (h.s);
   bson_free (c.s);
   bson_free (guard);
}

/* find_by_<keys> for a unique index whose keys are scalars outside arrays. */
static void
emit_find_by_unique (buf_t *h, const spec_t *sp, const index_t *ix)
{
   buf_t fname = {0}, params = {0}, body = {0};
   size_t k;
   const char *st = sp->root.stem;
   if (!ix->unique) {
      return;
   }
   for (k = 0; k < ix->n_keys; k++) {
      const char *path = ix->key_paths[k];
      const field_t *f = lookup_in (sp, path, NULL, NULL, "indexes", true);
      char *pname = xstrdup (path), *q;
      for (q = pname; *q; q++) {
         if (*q == '.') {
            *q = '_';
         }
      }
      if (f->array || strchr (path, '.') != NULL) {
         bson_free (pname);
         goto skip;
      }
      out (&fname, "%s%s", k ? "_" : "", pname);
      switch (f->kind) {
      case K_STRING:
         out (&params, "const char *%s, ", pname);
         out (&body, "   BSON_APPEND_UTF8 (&filter, \"%s\", %s);\n", path, pname);
         break;
      case K_OID:
         out (&params, "const bson_oid_t *%s, ", pname);
         out (&body, "   BSON_APPEND_OID (&filter, \"%s\", %s);\n", path, pname);
         break;
      case K_DATE:
         out (&params, "int64_t %s, ", pname);
         out (&body, "   BSON_APPEND_DATE_TIME (&filter, \"%s\", %s);\n", path, pname);
         break;
      case K_NUMBER:
         out (&params, "double %s, ", pname);
         out (&body, "   BSON_APPEND_DOUBLE (&filter, \"%s\", %s);\n", path, pname);
         break;
      case K_BOOL:
         out (&params, "bool %s, ", pname);
         out (&body, "   BSON_APPEND_BOOL (&filter, \"%s\", %s);\n", path, pname);
         break;
      default:
         bson_free (pname);
         goto skip;
      }
      bson_free (pname);
   }
   out (h, "/* The document with this unique %s (index %s). */\n", ix->n_keys > 1 ? "key" : "value", ix->name);
   out (h, "static inline bool\n%s_find_by_%s (odm_client_t *client, %s%s *out, bool *found, bson_error_t *error)\n{\n",
        st, fname.s, params.s, sp->root.ctype);
   out (h, "   bson_t filter = BSON_INITIALIZER;\n   bool ok;\n%s", body.s);
   out (h, "   ok = odm_find_one (client, &%s_schema, &filter, out, found, error);\n   bson_destroy (&filter);\n   return ok;\n}\n\n", st);
skip:
   bson_free (fname.s);
   bson_free (params.s);
   bson_free (body.s);
}

static int
cmp_spec (const void *a, const void *b)
{
   return strcmp ((*(spec_t *const *) a)->collection, (*(spec_t *const *) b)->collection);
}

static const char usage_text[] =
   "usage: odmgen [--set NAME] OUTDIR SPEC.json...\n"
   "       odmgen --help | --version\n"
   "\n"
   "Generates C for the collections described by the SPEC.json files (docs/spec-format.md)\n"
   "into OUTDIR, as one spec set named NAME (snake_case; default \"app\"):\n"
   "  OUTDIR/NAME.h              includes every collection header of the set and declares\n"
   "                             bool odm_register_NAME (bson_error_t *error);\n"
   "  OUTDIR/NAME/COLLECTION.h   the structs, setters and typed wrappers of one collection\n"
   "  OUTDIR/COLLECTION.c        its descriptor tables, rules and derivations\n"
   "  OUTDIR/NAME.c              the set's schema list and odm_register_NAME\n"
   "Compile the .c files with the include path OUTDIR and link them with libodm\n"
   "(pkg-config --cflags --libs libodm). Call odm_register_NAME once before using the\n"
   "set through odm_schemas() / odm_schema_find(); the typed functions work without it.\n"
   "Registration fails, naming both sets, if a collection or C name is already taken\n"
   "(by the platform specification's 29 collections or by another set).\n"
   "\n"
   "  --set NAME   the set's name (its header, registration function and directory)\n"
   "  --platform   libodm's own build: the shipped collections (odm/gen/, odm/odm-collections.h)\n"
   "  --help       this text\n"
   "  --version    odmgen's version and codegen ABI\n"
   "\n"
   "Output depends only on the specs: same specs, same bytes; files are rewritten only when\n"
   "their content changes. Errors name the spec file, the JSON path in it and what is wrong,\n"
   "and exit with status 1; usage errors exit with status 2.\n";

/* The platform set: the layout libodm's headers include (odm/gen/, odm/odm-collections.h). */
static void
emit_platform_set (spec_t **specs, int n, const char *outdir)
{
   buf_t h = {0}, c = {0};
   char *path;
   int i;
   out (&h, "/* Generated by odmgen (codegen ABI %d). Do not edit. */\n", ODMGEN_ABI);
   out (&h, "/* Every collection of the specs. Included by <odm/odm.h>. */\n");
   out (&h, "#ifndef ODM_COLLECTIONS_H\n#define ODM_COLLECTIONS_H\n\n");
   for (i = 0; i < n; i++) {
      out (&h, "#include <odm/gen/%s.h>\n", specs[i]->collection);
   }
   out (&h, "\n#define ODM_COLLECTION_COUNT %d\n\n#endif /* ODM_COLLECTIONS_H */\n", n);
   out (&c, "/* Generated by odmgen (codegen ABI %d). Do not edit. */\n", ODMGEN_ABI);
   out (&c, "#include <odm/odm.h>\n\n");
   out (&c, "/* The platform specification's collections, sorted by collection name. The runtime's\n"
            " * registry (src/odm-registry.c) registers them before any other set. */\n");
   out (&c, "extern const odm_schema_t *const odm_platform_schemas[];\nextern const size_t odm_platform_schema_count;\n\n");
   out (&c, "const odm_schema_t *const odm_platform_schemas[] = {\n");
   for (i = 0; i < n; i++) {
      out (&c, "   &%s_schema,\n", specs[i]->root.stem);
   }
   out (&c, "};\n\nconst size_t odm_platform_schema_count = %d;\n", n);
   path = fmt ("%s/odm/odm-collections.h", outdir);
   write_if_changed (path, &h);
   bson_free (path);
   path = fmt ("%s/odm-collections.c", outdir);
   write_if_changed (path, &c);
   bson_free (path);
   bson_free (h.s);
   bson_free (c.s);
}

/* A user's set: OUTDIR/SET.h (umbrella + odm_register_SET) and OUTDIR/SET.c. */
static void
emit_user_set (spec_t **specs, int n, const char *set, const char *outdir)
{
   buf_t h = {0}, c = {0};
   char *path, *guard = fmt ("ODM_SET_%s_H", set), *g;
   int i;
   for (g = guard; *g; g++) {
      *g = (char) toupper ((unsigned char) *g);
   }
   out (&h, "/* Generated by odmgen (codegen ABI %d). Do not edit: edit the specs. */\n", ODMGEN_ABI);
   out (&h, "/* The spec set \"%s\": every collection of it, and its registration. */\n", set);
   out (&h, "#ifndef %s\n#define %s\n\n#include <odm/odm.h>\n\n", guard, guard);
   for (i = 0; i < n; i++) {
      out (&h, "#include <%s/%s.h>\n", set, specs[i]->collection);
   }
   guard[strlen (guard) - 2] = '\0'; /* ODM_SET_NAME */
   out (&h, "\nODM_BEGIN_DECLS\n\n#define ODM_%s_COLLECTION_COUNT %d\n\n", guard + 8, n);
   guard[strlen (guard)] = '_';
   out (&h, "/* This set's schemas, sorted by collection name. */\nextern const odm_schema_t *const odm_%s_schemas[%d];\n\n",
        set, n);
   out (&h, "/* Adds this set to libodm's registry, so that odm_schemas() and odm_schema_find() see it\n"
            " * next to the platform specification's collections. Calling it again is harmless. Fails\n"
            " * (false, ERROR says which collection or C name and which set holds it) when another\n"
            " * registered set already defines one of this set's collections or C names. */\n");
   out (&h, "bool\nodm_register_%s (bson_error_t *error);\n\nODM_END_DECLS\n\n#endif /* %s */\n", set, guard);
   out (&c, "/* Generated by odmgen (codegen ABI %d). Do not edit: edit the specs. */\n", ODMGEN_ABI);
   out (&c, "#include <%s.h>\n\n", set);
   out (&c, "const odm_schema_t *const odm_%s_schemas[%d] = {\n", set, n);
   for (i = 0; i < n; i++) {
      out (&c, "   &%s_schema,\n", specs[i]->root.stem);
   }
   out (&c, "};\n\nbool\nodm_register_%s (bson_error_t *error)\n{\n", set);
   out (&c, "   return odm_schemas_register (\"%s\", odm_%s_schemas, %d, error);\n}\n", set, set, n);
   path = fmt ("%s/%s.h", outdir, set);
   write_if_changed (path, &h);
   bson_free (path);
   path = fmt ("%s/%s.c", outdir, set);
   write_if_changed (path, &c);
   bson_free (path);
   bson_free (h.s);
   bson_free (c.s);
   bson_free (guard);
}

int
main (int argc, char **argv)
{
   spec_t **specs;
   int i, n, first;
   const char *set = "app", *outdir;
   bool platform = false;
   char *path;

   for (first = 1; first < argc && argv[first][0] == '-'; first++) {
      if (!strcmp (argv[first], "--help") || !strcmp (argv[first], "-h")) {
         fputs (usage_text, stdout);
         return 0;
      } else if (!strcmp (argv[first], "--version")) {
         printf ("odmgen %s (codegen ABI %d)\n", ODMGEN_VERSION, ODMGEN_ABI);
         return 0;
      } else if (!strcmp (argv[first], "--platform")) {
         platform = true;
      } else if (!strcmp (argv[first], "--set") && first + 1 < argc) {
         set = argv[++first];
      } else if (!strncmp (argv[first], "--set=", 6)) {
         set = argv[first] + 6;
      } else if (!strcmp (argv[first], "--")) {
         first++;
         break;
      } else {
         fprintf (stderr, "odmgen: unknown option \"%s\"\n%s", argv[first], usage_text);
         return 2;
      }
   }
   if (argc - first < 2) {
      fputs (usage_text, stderr);
      return 2;
   }
   if (!platform && (!is_snake (set) || !strcmp (set, "platform") || !strcmp (set, "odm"))) {
      fprintf (stderr, "odmgen: --set \"%s\": a set name is snake_case and not \"platform\" or \"odm\"\n", set);
      return 2;
   }
   outdir = argv[first];
   n = argc - first - 1;
   hdr_dir = platform ? "odm/gen" : set;
   specs = bson_malloc0 ((size_t) n * sizeof *specs);
   path = fmt ("%s/%s", outdir, hdr_dir);
   mkdirs (path);
   bson_free (path);
   for (i = 0; i < n; i++) {
      specs[i] = bson_malloc0 (sizeof (spec_t));
      parse_spec (specs[i], argv[first + 1 + i]);
   }
   qsort (specs, (size_t) n, sizeof *specs, cmp_spec);
   for (i = 0; i < n; i++) {
      int j;
      cur_file = specs[i]->file;
      for (j = 0; j < i; j++) {
         if (!strcmp (specs[i]->collection, specs[j]->collection)) {
            die ("collection", "collection \"%s\" is also defined by %s", specs[i]->collection, specs[j]->file);
         }
         if (!strcmp (specs[i]->c_name, specs[j]->c_name)) {
            die ("c_name", "C name \"%s\" is also used by %s", specs[i]->c_name, specs[j]->file);
         }
      }
      if (!platform && !strcmp (specs[i]->collection, set)) {
         die ("collection", "collection \"%s\" has the name of its set: choose another --set", set);
      }
   }
   for (i = 0; i < n; i++) {
      cur_file = specs[i]->file;
      emit_spec (specs[i], outdir);
   }
   if (platform) {
      emit_platform_set (specs, n, outdir);
   } else {
      emit_user_set (specs, n, set, outdir);
   }
   return 0;
}
