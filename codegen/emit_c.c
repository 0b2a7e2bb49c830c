/* Stage 3b: a collection's source: descriptor tables, the rule and derivation functions (one
 * primitive call per rule, rules.c), indexes, analytics and the schema. */
#include "model.h"

#include <string.h>

/* NAME: the BSON bytes of JSON (what the runtime parsed from the JSON text on every call
 * before; it now takes these bytes as they are, with bson_init_static). */
static void
emit_bson_bytes (buf_t *c, const char *name, const char *json)
{
   bson_error_t err;
   bson_t *b = bson_new_from_json ((const uint8_t *) json, -1, &err);
   const uint8_t *data;
   uint32_t i;
   if (!b) {
      die (name, "generated JSON does not parse back: %s", err.message);
   }
   data = bson_get_data (b);
   out (c, "static const uint8_t %s[%u] = {", name, b->len);
   for (i = 0; i < b->len; i++) {
      out (c, "%s0x%02x,", i % 16 ? " " : "\n   ", data[i]);
   }
   out (c, "\n};\n");
   bson_destroy (b);
}

static const char *
kind_const (const field_t *f)
{
   static const char *const k[] = {"", "ODM_KIND_STRING", "ODM_KIND_NUMBER", "ODM_KIND_BOOL", "ODM_KIND_DATE",
                                   "ODM_KIND_OID", "ODM_KIND_OBJECT", "ODM_KIND_MIXED"};
   return k[f->kind];
}

static bool minimize_needed (const object_t *o);

/* Whether the pre-save path's minimize step (an empty nested object or mixed value is
 * dropped) has anything to do at field F. A nested object one of whose fields always gets
 * a value from the defaults (a default, or an array, which becomes []) is never empty
 * when minimize runs, after them: it is left out, unless something below it needs the
 * step. */
static bool
minimize_field (const field_t *f)
{
   size_t i;
   bool below;
   if (f->kind == K_MIXED) {
      return true;
   }
   if (f->kind != K_OBJECT) {
      return false;
   }
   below = minimize_needed (f->object); /* once: twice per level would double per level */
   if (f->array || below) {
      return below;
   }
   for (i = 0; i < f->object->n; i++) {
      const field_t *g = &f->object->fields[i];
      if (g->array || (g->dflt != D_NONE && g->kind != K_OBJECT)) {
         return false; /* filled by the defaults: never empty */
      }
   }
   return true;
}

static bool
minimize_needed (const object_t *o)
{
   size_t i;
   for (i = 0; i < o->n; i++) {
      if (minimize_field (&o->fields[i])) {
         return true;
      }
   }
   return false;
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
          f->null_is_zero || f->kind == K_NUMBER || (f->array && f->kind == K_STRING)) {
         fl |= 4u; /* ODM_O_VALUE_RULES */
      }
      if (f->kind == K_OBJECT) fl |= object_flags (f->object) & ~8u;
   }
   if (minimize_needed (o)) fl |= 8u; /* ODM_O_MINIMIZE */
   return fl;
}

static void
emit_object_flags (buf_t *c, const object_t *o)
{
   static const char *const names[] = {"ODM_O_LOWERCASE", "ODM_O_DEFAULTS", "ODM_O_VALUE_RULES", "ODM_O_MINIMIZE"};
   unsigned fl = object_flags (o);
   size_t i, n = 0;
   out (c, "   .flags = ");
   for (i = 0; i < sizeof names / sizeof names[0]; i++) {
      if (fl & (1u << i)) out (c, "%s%s", n++ ? " | " : "", names[i]);
   }
   out (c, "%sODM_O_PADDED_NAMES,\n};\n\n", n ? " | " : "");
}

/* Whether the validator has a value rule to check on each value of F (odm-validate.c's
 * has_value_rules, from the model; an element of an array of strings must not be NULL). */
static bool
value_rules (const field_t *f)
{
   return f->kind == K_OBJECT || f->kind == K_NUMBER || f->n_enums || f->has_minlength || f->has_maxlength ||
          (f->array && f->kind == K_STRING);
}

/* One object's field rules as straight-line code: per field, a test that is true whenever
 * the table walker would report something about it, and then odm_validate_field, which
 * reports it (so the messages and their order are the walker's). Nested objects are
 * checked by their own function, called directly. */
static void
emit_validate (buf_t *c, const object_t *o)
{
   size_t i, j, checks = 0;
   buf_t body = {0};
   out (c, "/* The field rules of one %s, tested inline; a field that fails its test goes to\n"
           " * odm_validate_field, which reports it as the table walker would. */\n",
        o->ctype);
   out (c, "static void\n%s_validate_fields (const void *obj, const odm_vframe_t *up, odm_violations_t *out)\n{\n", o->stem);
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      const char *m = f->cname;
      char *t[4] = {NULL, NULL, NULL, NULL};
      size_t n = 0;
      if (f->kind == K_OBJECT && !f->array) {
         if (f->required) {
            out (&body, "   odm_validate_field (&F[%zu], o, up, out); /* %s: required object */\n", i, f->name);
            checks++;
         } else {
            out (&body, "   {\n      const odm_vframe_t fr = {up, &F[%zu], 0};\n      %s_validate_fields (&o->%s, &fr, out);\n   }\n",
                 i, f->object->stem, m);
            checks++;
         }
         continue;
      }
      if (f->array) {
         if (f->required) t[n++] = fmt ("(o->%s.count == 0 && o->has_%s != ODM_PRESENT)", m, m);
         /* a count with NULL items goes to the walker too, which refuses it */
         t[n++] = value_rules (f) ? fmt ("o->%s.count != 0", m) : fmt ("(o->%s.count != 0 && !o->%s.items)", m, m);
      } else {
         if (f->required) {
            t[n++] = f->kind == K_STRING  ? fmt ("!o->%s || !*o->%s", m, m)
                     : f->kind == K_MIXED ? fmt ("odm_field_state (&F[%zu], o) != ODM_PRESENT", i)
                                          : fmt ("o->has_%s != ODM_PRESENT", m);
         }
         if (f->kind == K_NUMBER || f->kind == K_BOOL || f->kind == K_DATE || f->kind == K_OID) {
            t[n++] = fmt ("(o->has_%s == ODM_ABSENT && odm_nonzero (&o->%s, sizeof o->%s))", m, m, m);
         }
         if (f->kind == K_NUMBER && f->null_is_zero && !f->required &&
             ((f->has_min && 0.0 < f->min) || (f->has_max && 0.0 > f->max))) {
            t[n++] = fmt ("o->has_%s == ODM_NULL", m);
         }
         if (f->kind == K_NUMBER) {
            char *lo = f->has_min ? num (f->min) : NULL, *hi = f->has_max ? num (f->max) : NULL;
            buf_t b = {0};
            out (&b, "(o->has_%s == ODM_PRESENT && (isnan (o->%s)", m, m);
            if (lo) out (&b, " || o->%s < %s", m, lo);
            if (hi) out (&b, " || o->%s > %s", m, hi);
            out (&b, "))");
            t[n++] = b.s;
            bson_free (lo);
            bson_free (hi);
         } else if (f->kind == K_STRING && f->has_minlength) {
            t[n++] = fmt ("o->%s", m);
         } else if (f->kind == K_STRING && f->n_enums) {
            /* a listed value passes the enum (a maxlength is tested beside it; a minlength
             * sends every value to the walker, above) */
            buf_t b = {0};
            size_t k;
            out (&b, "(o->%s && !(", m);
            for (k = 0; k < f->n_enums; k++) {
               char *lit = cstr (f->enums[k]);
               char c0 = f->enums[k][0];
               out (&b, "%s", k ? " ||\n              " : "");
               if ((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9')) {
                  /* the first byte first: most values fail there, without a call */
                  out (&b, "(o->%s[0] == '%c' && strcmp (o->%s, %s) == 0)", m, c0, m, lit);
               } else {
                  out (&b, "strcmp (o->%s, %s) == 0", m, lit);
               }
               bson_free (lit);
            }
            out (&b, "))");
            if (f->has_maxlength) out (&b, " ||\n       (o->%s && strlen (o->%s) > %ld)", m, m, f->maxlength);
            t[n++] = b.s;
         } else if (f->kind == K_STRING && f->has_maxlength) {
            /* UTF-16 code units never outnumber UTF-8 bytes: within the byte count, within the limit */
            t[n++] = fmt ("(o->%s && strlen (o->%s) > %ld)", m, m, f->maxlength);
         }
      }
      if (n == 0) {
         out (&body, "   /* %s: nothing to check */\n", f->name);
         continue;
      }
      checks++;
      out (&body, "   if (");
      for (j = 0; j < n; j++) {
         out (&body, "%s%s", j ? " ||\n       " : "", t[j]);
         bson_free (t[j]);
      }
      out (&body, ") {\n      odm_validate_field (&F[%zu], o, up, out); /* %s */\n   }\n", i, f->name);
   }
   if (checks) {
      out (c, "   const %s *o = (const %s *) obj;\n   const odm_field_t *F = %s_fields;\n%s", o->ctype, o->ctype,
           o->stem, body.s);
   } else {
      out (c, "   (void) obj; /* no field here can break a rule */\n   (void) up;\n   (void) out;\n");
   }
   bson_free (body.s);
   out (c, "}\n");
}

/* One object's defaults as straight-line code (odm_fill_defaults' walk, from the model): an
 * absent field gets its default, an auto _id (when IDS) or the time NOW; an absent array
 * becomes an empty one; nested objects and array elements get theirs. Emitted for the
 * objects that have something to fill (ODM_O_DEFAULTS). */
static void
emit_defaults (buf_t *c, const object_t *o)
{
   size_t i;
   out (c, "/* The defaults of one %s: odm_prepare and odm_init fill absent fields with them. */\n", o->ctype);
   out (c, "static void\n%s_fill_defaults (void *obj, int64_t now, bool ids, odm_arena_t *arena)\n{\n", o->stem);
   out (c, "   %s *o = (%s *) obj;\n   (void) now; /* not every object has a date, an _id or a string to fill */\n   (void) ids;\n   (void) arena;\n",
        o->ctype, o->ctype);
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      const char *m = f->cname;
      bool child = f->kind == K_OBJECT && (object_flags (f->object) & 2u);
      if (f->array) {
         out (c, "   if (o->has_%s == ODM_ABSENT) {\n      o->has_%s = ODM_PRESENT; /* %s: an empty array */\n   }\n", m, m,
              f->name);
         if (child) {
            out (c, "   for (size_t k = 0; o->%s.items && k < o->%s.count; k++) {\n      %s_fill_defaults (&o->%s.items[k], now, ids, arena);\n   }\n", m, m,
                 f->object->stem, m);
         }
      } else if (f->kind == K_OBJECT) {
         if (child) {
            out (c, "   if (o->has_%s != ODM_NULL) {\n      %s_fill_defaults (&o->%s, now, ids, arena);\n   }\n", m, f->object->stem, m);
         }
      } else if (f->auto_id || f->dflt != D_NONE) {
         const char *absent = f->kind == K_STRING ? fmt ("o->has_%s == ODM_ABSENT && !o->%s", m, m) : fmt ("o->has_%s == ODM_ABSENT", m);
         char *v = NULL;
         if (f->auto_id && f->dflt == D_NONE) {
            out (c, "   if (ids && %s) {\n      odm_oid_new (&o->%s);\n      o->has_%s = ODM_PRESENT;\n   }\n", absent, m, m);
         } else {
            if (f->auto_id) {
               out (c, "   if (ids && %s) {\n      odm_oid_new (&o->%s);\n      o->has_%s = ODM_PRESENT;\n   } else ", absent, m, m);
            } else {
               out (c, "   ");
            }
            if (f->dflt == D_NOW) {
               v = xstrdup ("now");
            } else if (f->dflt == D_NUMBER) {
               v = num (f->dflt_number);
            } else if (f->dflt == D_STRING) {
               char *lit = cstr (f->dflt_string);
               v = fmt ("odm_arena_strdup (arena, %s)", lit);
               bson_free (lit);
            } else if (f->dflt == D_BOOL) {
               v = xstrdup (f->dflt_bool ? "true" : "false");
            }
            out (c, "if (%s) {\n      o->%s = %s;\n      o->has_%s = ODM_PRESENT;\n   }\n", absent, m, v, m);
            bson_free (v);
         }
         bson_free ((char *) absent);
      }
   }
   out (c, "}\n");
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
      for (j = 0; j < N_FIELD_RULES && !f->msg[j]; j++) {
      }
      if (j < N_FIELD_RULES) {
         out (c, "static const odm_messages_t %s_%s_messages = {\n", o->stem, f->cname);
         for (j = 0; j < N_FIELD_RULES; j++) {
            if (f->msg[j]) {
               char *s = cstr (f->msg[j]);
               out (c, "   .%s = %s,\n", field_rule_members[j], s);
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
      out (c, "   {.name = %s ODM_NAME_PAD,\n    .name_len = %zu,\n    .kind = %s,\n    .flags = %s,\n", name,
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
      for (j = 0; j < N_FIELD_RULES && !f->msg[j]; j++) {
      }
      if (j < N_FIELD_RULES) out (c, "    .messages = &%s_%s_messages,\n", o->stem, f->cname);
      out (c, "   },\n");
      bson_free (fl.s);
      bson_free (name);
   }
   out (c, "};\n");
   emit_validate (c, o);
   if (object_flags (o) & 2u) {
      emit_defaults (c, o);
   }
   out (c, "static const odm_object_desc_t %s_desc = {\n   .c_type = \"%s\",\n   .size = sizeof (%s),\n", o->stem,
        o->ctype, o->ctype);
   out (c, "   .extra = offsetof (%s, _extra),\n   .field_count = %zu,\n   .fields = %s_fields,\n", o->ctype, o->n,
        o->stem);
   {
      size_t n_min = 0;
      for (i = 0; i < o->n; i++) {
         n_min += minimize_field (&o->fields[i]);
      }
      if (n_min) {
         out (c, "   .minimize = (const uint32_t[]) {");
         for (i = 0, j = 0; i < o->n; i++) {
            if (minimize_field (&o->fields[i])) out (c, "%s%zu", j++ ? ", " : "", i);
         }
         out (c, "}, /* the fields minimize may drop when empty, or that hold such fields */\n   .minimize_count = %zu,\n", n_min);
      }
   }
   out (c, "   .validate = %s_validate_fields,\n", o->stem);
   if (object_flags (o) & 2u) {
      out (c, "   .defaults = %s_fill_defaults,\n", o->stem);
   }
   emit_object_flags (c, o);
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
         char *bytes = fmt ("%s_%s_pipeline_bson", st, a->c_name);
         out (c, "   %s;\n", pj);
         emit_bson_bytes (c, bytes, a->pipeline_json);
         bson_free (bytes);
         bson_free (pj);
      }
      out (c, "const odm_aggregation_t %s_%s_aggregation = {\n   .name = %s,\n   .c_name = \"%s\",\n   .doc = %s,\n",
           st, a->c_name, nm, a->c_name, doc);
      out (c, "   .pipeline_json = %s_%s_pipeline,\n", st, a->c_name);
      out (c, "   .pipeline_bson = %s_%s_pipeline_bson,\n   .pipeline_bson_len = sizeof %s_%s_pipeline_bson,\n", st,
           a->c_name, st, a->c_name);
      out (c, "   .param_count = %zu,\n", a->n_params);
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

/* The spec's cross-field rules: one call of its kind's primitive each (rules.c). */
static void
emit_rules (buf_t *c, const spec_t *sp)
{
   size_t i;
   if (!sp->n_rules) {
      return;
   }
   out (c, "/* The spec's cross-field rules for %s, in the spec's order. */\n", sp->collection);
   out (c, "static void\n%s_rules (const void *doc_, odm_rule_ctx_t *ctx)\n{\n", sp->root.stem);
   out (c, "   const %s *doc = doc_;\n", sp->root.ctype);
   for (i = 0; i < sp->n_rules; i++) {
      sp->rules[i].row->emit (c, sp, &sp->rules[i]);
   }
   out (c, "}\n\n");
}

/* The spec's derivations, in its order (rules.c). */
static void
emit_derive (buf_t *c, const spec_t *sp)
{
   size_t i;
   if (!sp->n_derive) {
      return;
   }
   out (c, "/* The spec's pre-save derivations for %s, in the spec's order; run before validation. */\n", sp->collection);
   out (c, "static void\n%s_derive (void *doc_, odm_rule_ctx_t *ctx)\n{\n", sp->root.stem);
   out (c, "   %s *doc = doc_;\n", sp->root.ctype);
   for (i = 0; i < sp->n_derive; i++) {
      sp->derive[i].row->emit (c, sp, &sp->derive[i]);
   }
   out (c, "}\n\n");
}

/* The fields' custom validators: the program's functions, with the descriptor entries along
 * each path (the runtime walks them as it walks odm_validator_add's). */
static void
emit_validators (buf_t *c, const spec_t *sp)
{
   size_t i, k;
   const char *st = sp->root.stem;
   if (!sp->n_validators) {
      return;
   }
   out (c, "/* The spec's custom validators (\"validate\"): functions of the program's, declared in the header. */\n");
   for (i = 0; i < sp->n_validators; i++) {
      out (c, "static const odm_field_t *const %s_validator%zu_segs[] = {", st, i);
      for (k = 0; k < sp->validators[i].n_segs; k++) {
         out (c, "%s%s", k ? ", " : "", sp->validators[i].segs[k]);
      }
      out (c, "};\n");
   }
   out (c, "static const odm_spec_validator_t %s_validators[] = {\n", st);
   for (i = 0; i < sp->n_validators; i++) {
      const validator_t *v = &sp->validators[i];
      char *p = cstr (v->path), *m = cstr (v->field->validate_msg);
      out (c, "   {.path = %s,\n    .message = %s,\n    .fn = %s,\n    .segs = %s_validator%zu_segs,\n    .n_segs = %zu},\n", p,
           m, v->field->validate_fn, st, i, v->n_segs);
      bson_free (p);
      bson_free (m);
   }
   out (c, "};\n\n");
}

void
emit_source (const spec_t *sp, const char *outdir)
{
   buf_t c = {0};
   size_t i;
   char *path;
   const char *st = sp->root.stem;
   bool has_rules = sp->n_rules > 0, has_derive = sp->n_derive > 0;

   out (&c, "/* Generated by odmgen (codegen ABI %d) from %s. Do not edit: edit the spec. */\n", ODMGEN_ABI,
        base_name (sp->file));
   out (&c, "#include <math.h>\n#include <stddef.h>\n#include <string.h>\n\n#include <%s/%s.h>\n\n", hdr_dir, sp->collection);
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
   emit_validators (&c, sp);
   out (&c, "/* Indexes: the spec's declarations merged by key pattern (unique wins); each key pattern\n"
            " * as BSON too. */\n");
   for (i = 0; i < sp->n_indexes; i++) {
      char *name = fmt ("%s_index%zu_keys", st, i), *cm = ctext (sp->indexes[i].keys_json);
      out (&c, "/* %s %s */\n", sp->indexes[i].name, cm);
      emit_bson_bytes (&c, name, sp->indexes[i].keys_json);
      bson_free (name);
      bson_free (cm);
   }
   out (&c, "static const odm_index_t %s_indexes[] = {\n", st);
   for (i = 0; i < sp->n_indexes; i++) {
      const index_t *ix = &sp->indexes[i];
      char *k = cstr (ix->keys_json), *n = cstr (ix->name), *cm = ix->comment ? cstr (ix->comment) : NULL;
      out (&c, "   {.keys_json = %s,\n    .keys_bson = %s_index%zu_keys,\n    .keys_bson_len = sizeof %s_index%zu_keys,\n", k,
           st, i, st, i);
      out (&c, "    .name = %s,\n    .unique = %s,\n    .declared = %d,\n    .declared_unique = %d,\n    .prefix_of = %d,\n", n,
           ix->unique ? "true" : "false", ix->declared, ix->declared_unique, ix->prefix_of);
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
   if (sp->n_validators) {
      out (&c, "   .validator_count = %zu,\n   .validators = %s_validators,\n", sp->n_validators, st);
   }
   for (i = 0; i < sp->root.n; i++) {
      if (sp->root.fields[i].created_at) out (&c, "   .created_at = &%s_fields[%zu],\n", st, i);
      if (sp->root.fields[i].updated_at) out (&c, "   .updated_at = &%s_fields[%zu],\n", st, i);
   }
   out (&c, "   .spec_json = %s_spec_json,\n   .path_count = %d,\n};\n", st, sp->path_count);

   path = fmt ("%s/%s.c", outdir, sp->collection);
   write_if_changed (path, &c);
   bson_free (path);
   bson_free (c.s);
}
