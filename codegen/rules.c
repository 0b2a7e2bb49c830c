/* THE rule-kind table: one row per kind of a spec's "rules" and "derive" lists.
 *
 * A row is the kind a spec writes (which is also the rule name a violation reports: the
 * kinds are ODM_RULE_KINDS / ODM_DERIVE_KINDS of <odm/odm-vocabulary.h>, the list the
 * runtime's primitives report from), the keys the kind reads, the runtime primitive the
 * generated code calls (src/odm-validate.c), a check function (check stage: resolves and
 * type-checks the operand paths into C expressions, naming the JSON path of a mistake) and
 * an emit function (emit stage: one call of the primitive).
 *
 * Adding a rule kind: a row here, a primitive in src/odm-validate.c declared in
 * include/odm/odm-rules.h, the kind in ODM_RULE_KINDS, and a test (docs/spec-format.md). */
#include "model.h"

#include "../src/odm-regex-js.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds, in the vocabulary's order: every row names one of these. */
static const char *const kind_names[] = {
#define X(k) #k,
   ODM_RULE_KINDS (X) ODM_DERIVE_KINDS (X)
#undef X
};

const char *const field_rule_keys[N_FIELD_RULES] = {
#define X(rule, member) #rule,
   ODM_FIELD_RULES (X)
#undef X
};

const char *const field_rule_members[N_FIELD_RULES] = {
#define X(rule, member) #member,
   ODM_FIELD_RULES (X)
#undef X
};

/* ------------------------------------------------------------------ helpers */

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
      char **e = NULL, **h = NULL, *ne, *nh;
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

/* The ODM_REGEX_* flags of a "pattern" rule's "flags" (JavaScript's letters,
 * ODM_REGEX_LETTERS), after checking that RE compiles as the runtime will compile it. */
static char *
regex_flags (const char *re, const char *flags, const char *where)
{
   static const struct {
      char letter;
      const char *name;
      uint32_t bit;
   } letters[] = {
#define X(letter, flag, option) {letter, #flag, flag},
      ODM_REGEX_LETTERS (X)
#undef X
   };
   buf_t names = {0};
   uint32_t bits = 0;
   pcre2_code *code;
   int err;
   PCRE2_SIZE off;
   const char *f;
   for (f = flags; *f; f++) {
      size_t i;
      bool known = *f == 'u'; /* implied */
      for (i = 0; i < sizeof letters / sizeof letters[0]; i++) {
         if (letters[i].letter == *f) {
            if (bits & letters[i].bit) {
               known = false;
               break;
            }
            bits |= letters[i].bit;
            out (&names, "%s%s", names.len ? " | " : "", letters[i].name);
            known = true;
         }
      }
      if (!known) {
         die (where, "\"flags\": \"%s\": only i, m, s and u, each once", flags);
      }
   }
   code = odm_regex_js_compile (re, bits, &err, &off);
   if (!code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message (err, msg, sizeof msg);
      die (where, "\"regex\": /%s/ does not compile at offset %zu: %s", re, (size_t) off, (const char *) msg);
   }
   pcre2_code_free (code);
   if (!names.len) {
      return xstrdup ("0");
   }
   return names.s;
}

/* "doc->has_a != ODM_NULL && doc->a.has_b != ODM_NULL" for the objects that hold PATH
 * ("true" when PATH is top-level). */
static char *
not_null_parents (const spec_t *sp, const char *path, const char *where)
{
   buf_t r = {0};
   const char *dot;
   for (dot = strchr (path, '.'); dot; dot = strchr (dot + 1, '.')) {
      char *prefix = bson_strndup (path, (size_t) (dot - path)), *h;
      lookup (sp, prefix, NULL, &h, where);
      out (&r, "%s%s != ODM_NULL", r.len ? " && " : "", h);
      bson_free (h);
      bson_free (prefix);
   }
   return r.len ? r.s : xstrdup ("true");
}

/* ------------------------------------------------------------------ the rows */

static const char *const keys_value_nz[] = {"kind", "path", "value", "message", "null_is_zero", NULL};
static const char *const keys_than_nz[] = {"kind", "path", "than", "message", "null_is_zero", NULL};
static const char *const keys_value[] = {"kind", "path", "value", "message", NULL};
static const char *const keys_sum[] = {"kind", "path", "field", "than", "message", NULL};
static const char *const keys_regex[] = {"kind", "path", "regex", "flags", "message", NULL};
static const char *const keys_pattern[] = {"kind", "path", "pattern", "message", NULL};
static const char *const keys_than[] = {"kind", "path", "than", "message", NULL};
static const char *const keys_path[] = {"kind", "path", "message", NULL};
static const char *const keys_requires[] = {"kind", "path", "when", "paths", "message", NULL};
static const char *const keys_when[] = {"kind", "path", "when", NULL};
static const char *const keys_count_of[] = {"kind", "path", "of", NULL};
static const char *const keys_seconds[] = {"kind", "path", "from", "to", NULL};

/* min, max: a number against a constant. */
static void
check_bound (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   r->text = num (get_num (d, "value", r->where));
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_NUMBER, false, &r->a, &r->ha, r->where);
   null_as_zero (d, get_str (d, "path", r->where), NULL, K_NUMBER, &r->a, &r->ha, NULL, NULL, r->where);
}

static void
emit_bound (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s,\n      %s, %s,\n      %s, %s);\n", r->row->primitive, r->path, r->ha, r->a, r->text, r->msg);
}

/* after (dates), not_greater (numbers): two fields compared. */
static void
check_compare (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   int k = r->row->operand;
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", k, false, &r->a, &r->ha, r->where);
   want_path (sp, d, "than", k, false, &r->b, &r->hb, r->where);
   null_as_zero (d, get_str (d, "path", r->where), get_str (d, "than", r->where), k, &r->a, &r->ha, &r->b, &r->hb,
                 r->where);
}

static void
emit_compare (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s,\n      %s, %s,\n      %s, %s,\n      %s);\n", r->row->primitive, r->path, r->ha, r->a, r->hb,
        r->b, r->msg);
}

/* max_items, items_if_any: an array's element count against a constant. */
static void
check_count (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   double v = get_num (d, "value", r->where);
   const field_t *f;
   check_keys (d, r->row->keys, r->where);
   f = want_path (sp, d, "path", 0, false, &r->a, NULL, r->where);
   if (!f->array) {
      die (r->where, "\"%s\" is not an array", get_str (d, "path", r->where));
   }
   r->text = fmt ("%.0f", v);
}

static void
emit_count (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s, %s.count, %s, %s);\n", r->row->primitive, r->path, r->a, r->text, r->msg);
}

/* sum_not_greater: a number summed over an array of subdocuments against a field. */
static void
check_sum (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   const field_t *arr, *ef = NULL;
   const char *field = get_str (d, "field", r->where);
   size_t i;
   check_keys (d, r->row->keys, r->where);
   arr = want_path (sp, d, "path", K_OBJECT, true, &r->a, NULL, r->where);
   for (i = 0; i < arr->object->n; i++) {
      if (!strcmp (arr->object->fields[i].name, field)) {
         ef = &arr->object->fields[i];
      }
   }
   if (!ef || ef->kind != K_NUMBER || ef->array) {
      die (r->where, "\"field\" must name a number field of the subdocuments");
   }
   r->elem = ef;
   r->elem_object = arr->object;
   want_path (sp, d, "than", K_NUMBER, false, &r->b, &r->hb, r->where);
}

static void
emit_sum (buf_t *c, const spec_t *sp, const rule_t *r)
{
   const char *et = r->elem_object->ctype, *fn = r->elem->cname;
   (void) sp;
   out (c, "   %s (ctx, %s,\n      %s.items, %s.count, sizeof *%s.items,\n", r->row->primitive, r->path, r->a, r->a, r->a);
   out (c, "      offsetof (%s, %s), offsetof (%s, has_%s),\n      %s, %s,\n      %s);\n", et, fn, et, fn, r->hb, r->b,
        r->msg);
}

/* pattern with "regex": the spec's own regular expression. */
static void
check_regex (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   const char *re = get_str (d, "regex", r->where);
   const char *flags = bson_has_field (d, "flags") ? get_str (d, "flags", r->where) : "";
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_STRING, false, &r->a, NULL, r->where);
   r->b = cstr (re);
   r->text = regex_flags (re, flags, r->where);
}

static void
emit_regex (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   {\n      static odm_regex_t re = {.source = %s, .flags = %s};\n", r->b, r->text);
   out (c, "      %s (ctx, %s, %s, &re, %s);\n   }\n", r->row->primitive, r->path, r->a, r->msg);
}

/* pattern with "pattern": one of the platform specification's named patterns. */
static void
check_named_pattern (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   const char *pat = get_str (d, "pattern", r->where);
   const char *cpat = !strcmp (pat, "email")      ? "ODM_PATTERN_EMAIL"
                      : !strcmp (pat, "username") ? "ODM_PATTERN_USERNAME"
                      : !strcmp (pat, "slug")     ? "ODM_PATTERN_SLUG"
                                                  : NULL;
   check_keys (d, r->row->keys, r->where);
   if (!cpat) {
      die (r->where, "unknown pattern \"%s\"", pat);
   }
   want_path (sp, d, "path", K_STRING, false, &r->a, NULL, r->where);
   r->text = xstrdup (cpat);
}

static void
emit_string_const (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s, %s, %s, %s);\n", r->row->primitive, r->path, r->a, r->text, r->msg);
}

/* minlength: a string's length in UTF-16 units against a constant. */
static void
check_minlength (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_STRING, false, &r->a, NULL, r->where);
   r->text = fmt ("%.0f", get_num (d, "value", r->where));
}

/* byte_length_equals: a string's length in bytes against a number field. */
static void
check_byte_length (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_STRING, false, &r->a, NULL, r->where);
   want_path (sp, d, "than", K_NUMBER, false, &r->b, &r->hb, r->where);
}

static void
emit_byte_length (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s, %s, %s, %s, %s);\n", r->row->primitive, r->path, r->a, r->hb, r->b, r->msg);
}

/* not_equal_id: an ObjectId field that must not be the document's own _id. */
static void
check_oid (const spec_t *sp, rule_t *r)
{
   check_keys (r->body, r->row->keys, r->where);
   want_path (sp, r->body, "path", K_OID, false, &r->a, &r->ha, r->where);
}

static void
emit_not_equal_id (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s, %s, &%s, doc->has__id, &doc->_id, %s);\n", r->row->primitive, r->path, r->ha, r->a, r->msg);
}

/* future_on_create: a date in the future when created or changed. */
static void
check_date (const spec_t *sp, rule_t *r)
{
   check_keys (r->body, r->row->keys, r->where);
   want_path (sp, r->body, "path", K_DATE, false, &r->a, &r->ha, r->where);
}

static void
emit_future (buf_t *c, const spec_t *sp, const rule_t *r)
{
   char *pa = fmt ("prev->%s", r->a + 5), *pha = fmt ("prev->%s", r->ha + 5);
   out (c, "   {\n      const %s *prev = ctx->opts ? ctx->opts->previous : NULL;\n", sp->root.ctype);
   out (c, "      %s (ctx, %s, %s, %s, prev ? &%s : NULL, prev ? &%s : NULL, %s);\n   }\n", r->row->primitive, r->path,
        r->ha, r->a, pha, pa, r->msg);
   bson_free (pa);
   bson_free (pha);
}

/* requires: when a string field equals a value, other fields must be present. */
static void
check_requires (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   bson_iter_t pi, pl;
   buf_t hv = {0};
   r->text = when_cond (sp, d, r->where);
   check_keys (d, r->row->keys, r->where);
   if (!bson_iter_init_find (&pi, d, "paths")) {
      die (r->where, "missing \"paths\"");
   }
   want_array (&pi, &pl, r->where);
   while (bson_iter_next (&pl)) {
      char *e, *h;
      const field_t *f = lookup (sp, want_utf8 (&pl, r->where), &e, &h, r->where);
      if (f->kind == K_STRING && !f->array) {
         out (&hv, "%s%s != NULL", hv.len ? " && " : "", e);
      } else {
         out (&hv, "%s%s == ODM_PRESENT", hv.len ? " && " : "", h);
      }
      bson_free (e);
      bson_free (h);
   }
   if (!hv.len) {
      die (r->where, "\"paths\" is empty");
   }
   r->b = hv.s;
}

static void
emit_requires (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   out (c, "   %s (ctx, %s, %s,\n                      %s, %s);\n", r->row->primitive, r->path, r->text, r->b, r->msg);
}

/* now_when (a date), true_when (a boolean): set when a string field equals a value. */
static void
check_when (const spec_t *sp, rule_t *r)
{
   r->text = when_cond (sp, r->body, r->where);
   check_keys (r->body, r->row->keys, r->where);
   want_path (sp, r->body, "path", r->row->operand, false, &r->a, &r->ha, r->where);
}

static void
emit_when (buf_t *c, const spec_t *sp, const rule_t *r)
{
   char *p = cstr (get_str (r->body, "path", r->where));
   (void) sp;
   out (c, "   %s (ctx, %s,\n      %s,\n      &%s, &%s);\n", r->row->primitive, p, r->text, r->ha, r->a);
   bson_free (p);
}

/* count_of: a number field holds an array's element count. */
static void
check_count_of (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   const field_t *f;
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_NUMBER, false, &r->a, &r->ha, r->where);
   f = want_path (sp, d, "of", 0, false, &r->b, &r->hb, r->where);
   if (!f->array) {
      die (r->where, "\"of\" must be an array");
   }
   /* The hook reads `if (of && count !== of.length)`: a null array is falsy and keeps the
    * given count; a null object holding the count stays null (nothing is derived into it). */
   r->x = not_null_parents (sp, get_str (d, "path", r->where), r->where);
}

static void
emit_count_of (buf_t *c, const spec_t *sp, const rule_t *r)
{
   char *p = cstr (get_str (r->body, "path", r->where));
   (void) sp;
   out (c, "   %s (ctx, %s, %s, %s, %s.count,\n      &%s, &%s);\n", r->row->primitive, p, r->x, r->hb, r->b, r->ha, r->a);
   bson_free (p);
}

/* seconds_between: whole seconds from one date to another. */
static void
check_seconds (const spec_t *sp, rule_t *r)
{
   const bson_t *d = r->body;
   check_keys (d, r->row->keys, r->where);
   want_path (sp, d, "path", K_NUMBER, false, &r->a, &r->ha, r->where);
   want_path (sp, d, "from", K_DATE, false, &r->b, &r->hb, r->where);
   want_path (sp, d, "to", K_DATE, false, &r->x, &r->hx, r->where);
   r->text = cstr (get_str (d, "path", r->where));
}

static void
emit_seconds (buf_t *c, const spec_t *sp, const rule_t *r)
{
   (void) sp;
   /* Checked arithmetic (dates far apart overflow int64): see odm_derive_seconds_between. */
   out (c, "   %s (ctx, %s, %s, %s, %s, %s, &%s, &%s);\n", r->row->primitive, r->text, r->hb, r->b, r->hx, r->x, r->a,
        r->ha);
}

#define RULE(k, keys, prim, operand, check, emit) {#k, false, NULL, keys, prim, operand, check, emit}
#define DERIVE(k, keys, prim, operand, check, emit) {#k, true, NULL, keys, prim, operand, check, emit}

/* kind, keys it reads, runtime primitive, operand type, check, emit. */
const rule_kind_t rule_kinds[] = {
   RULE (min, keys_value_nz, "odm_rule_min", K_NUMBER, check_bound, emit_bound),
   RULE (max, keys_value_nz, "odm_rule_max", K_NUMBER, check_bound, emit_bound),
   RULE (after, keys_than_nz, "odm_rule_after", K_DATE, check_compare, emit_compare),
   RULE (not_greater, keys_than_nz, "odm_rule_not_greater", K_NUMBER, check_compare, emit_compare),
   RULE (max_items, keys_value, "odm_rule_max_items", 0, check_count, emit_count),
   RULE (items_if_any, keys_value, "odm_rule_items_if_any", 0, check_count, emit_count),
   RULE (sum_not_greater, keys_sum, "odm_rule_sum_not_greater", K_NUMBER, check_sum, emit_sum),
   {"pattern", false, "regex", keys_regex, "odm_rule_regex", K_STRING, check_regex, emit_regex},
   RULE (pattern, keys_pattern, "odm_rule_pattern", K_STRING, check_named_pattern, emit_string_const),
   RULE (minlength, keys_value, "odm_rule_minlength", K_STRING, check_minlength, emit_string_const),
   RULE (byte_length_equals, keys_than, "odm_rule_byte_length_equals", K_STRING, check_byte_length, emit_byte_length),
   RULE (not_equal_id, keys_path, "odm_rule_not_equal_id", K_OID, check_oid, emit_not_equal_id),
   RULE (future_on_create, keys_path, "odm_rule_future_on_create", K_DATE, check_date, emit_future),
   RULE (requires, keys_requires, "odm_rule_requires", 0, check_requires, emit_requires),
   DERIVE (now_when, keys_when, "odm_derive_now_when", K_DATE, check_when, emit_when),
   DERIVE (true_when, keys_when, "odm_derive_true_when", K_BOOL, check_when, emit_when),
   DERIVE (count_of, keys_count_of, "odm_derive_count_of", K_NUMBER, check_count_of, emit_count_of),
   DERIVE (seconds_between, keys_seconds, "odm_derive_seconds_between", K_NUMBER, check_seconds, emit_seconds),
};

const size_t rule_kind_count = sizeof rule_kinds / sizeof rule_kinds[0];

/* The row for KIND in "rules" (or "derive" when DERIVATION) given the object BODY; NULL when
 * there is none. A kind the vocabulary does not list has no row (checked at first use). */
const rule_kind_t *
rule_kind_find (const char *kind, bool derivation, const bson_t *body)
{
   static bool checked;
   size_t i, j;
   if (!checked) {
      /* every row's kind is in the vocabulary, every kind has a row */
      for (i = 0; i < rule_kind_count; i++) {
         for (j = 0; j < ODM_RULE_KIND_COUNT && strcmp (rule_kinds[i].kind, kind_names[j]); j++) {
         }
         if (j == ODM_RULE_KIND_COUNT) {
            fprintf (stderr, "odmgen: rule kind \"%s\" is not in ODM_RULE_KINDS\n", rule_kinds[i].kind);
            abort ();
         }
      }
      for (j = 0; j < ODM_RULE_KIND_COUNT; j++) {
         for (i = 0; i < rule_kind_count && strcmp (rule_kinds[i].kind, kind_names[j]); i++) {
         }
         if (i == rule_kind_count) {
            fprintf (stderr, "odmgen: rule kind \"%s\" has no row\n", kind_names[j]);
            abort ();
         }
      }
      checked = true;
   }
   for (i = 0; i < rule_kind_count; i++) {
      const rule_kind_t *row = &rule_kinds[i];
      if (row->derivation == derivation && !strcmp (row->kind, kind) &&
          (!row->only_with || bson_has_field (body, row->only_with))) {
         return row;
      }
   }
   return NULL;
}
