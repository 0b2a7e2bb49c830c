/* Stage 3a: a collection's header: structs, path constants, setters, typed wrappers and the
 * analytics' types. */
#include "model.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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
         bool by_pointer = f->kind == K_STRING || f->kind == K_OID || f->kind == K_MIXED;
         out (h, "/* Appends a copy of VALUE to %s%s. */\n", f->name, by_pointer ? " (NULL: nothing is appended)" : "");
         out (h, "static inline void\n%s_add_%s (%s *obj, %s%svalue)\n{\n", st, fn, ct,
              f->kind == K_STRING ? "const char *" : f->kind == K_OID ? "const bson_oid_t *" : f->kind == K_MIXED ? "const bson_value_t *" : c_type_of (f),
              "");
         if (by_pointer) {
            out (h, "   if (!value) {\n      return;\n   }\n");
         }
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
         out (h, "/* Sets %s to a copy of *VALUE (NULL: absent). */\n", f->name);
         out (h, "static inline void\n%s_set_%s (%s *obj, const bson_oid_t *value)\n{\n", st, fn, ct);
         out (h, "   if (!value) {\n      memset (&obj->%s, 0, sizeof obj->%s);\n      obj->has_%s = ODM_ABSENT;\n      return;\n   }\n",
              fn, fn, fn);
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
           "   return odm_view_init_bson (view ? &view->v : NULL, &%s_schema, doc, flags, error);\n}\n\n",
           st, vs, st);
      out (h,
           "/* The next document of CURSOR as a view (valid until the next call on CURSOR); see "
           "odm_cursor_next_view. */\n"
           "static inline bool\n%s_cursor_next_view (odm_cursor_t *cursor, %s_view_t *view)\n{\n"
           "   return odm_cursor_next_view (cursor, view ? &view->v : NULL);\n}\n\n",
           st, vs);
   }
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      const char *fn = f->cname;
      if (f->array) {
         out (h, "/* %s: an iterator over its elements (odm_view_next_*). */\n", f->name);
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, odm_view_array_t *array)\n{\n"
              "   return odm_view_array (view ? &view->v : NULL, %zu, array);\n}\n\n",
              vs, fn, vs, i);
         if (f->kind == K_OBJECT) {
            out (h,
                 "static inline bool\n%s_view_next_%s (odm_view_array_t *array, %s_view_t *elem)\n{\n"
                 "   return odm_view_next_object (array, elem ? &elem->v : NULL);\n}\n\n",
                 vs, fn, f->object->stem);
         }
         continue;
      }
      switch (f->kind) {
      case K_STRING:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, const char **str, uint32_t *len)\n{\n"
              "   return odm_view_string (view ? &view->v : NULL, %zu, str, len);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_NUMBER:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, double *value)\n{\n"
              "   return odm_view_number (view ? &view->v : NULL, %zu, value);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_BOOL:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, bool *value)\n{\n"
              "   return odm_view_bool (view ? &view->v : NULL, %zu, value);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_DATE:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, int64_t *ms)\n{\n"
              "   return odm_view_date (view ? &view->v : NULL, %zu, ms);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_OID:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, const bson_oid_t **oid)\n{\n"
              "   return odm_view_oid (view ? &view->v : NULL, %zu, oid);\n}\n\n",
              vs, fn, vs, i);
         break;
      case K_OBJECT:
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, %s_view_t *sub)\n{\n"
              "   return odm_view_object (view ? &view->v : NULL, %zu, sub ? &sub->v : NULL);\n}\n\n",
              vs, fn, vs, f->object->stem, i);
         break;
      default: /* K_MIXED */
         out (h,
              "static inline uint8_t\n%s_view_%s (const %s_view_t *view, bson_iter_t *it)\n{\n"
              "   return odm_view_mixed (view ? &view->v : NULL, %zu, it);\n}\n\n",
              vs, fn, vs, i);
         break;
      }
   }
}

void
emit_header (const spec_t *sp, const char *outdir)
{
   buf_t h = {0};
   size_t i;
   char *guard = strcmp (hdr_dir, "odm/gen") ? fmt ("ODM_GEN_%s_%s_H", hdr_dir, sp->collection)
                                             : fmt ("ODM_GEN_%s_H", sp->collection), *g;
   char *path;
   const char *st = sp->root.stem;

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
   if (sp->n_validators) {
      out (&h, "/* The spec's custom validators (\"validate\"): define these in your program (odm_validator_fn,\n"
               " * odm-hooks.h: VALUE is never absent or null; return whether it is valid; USER is NULL). */\n");
      for (i = 0; i < sp->n_validators; i++) {
         size_t k;
         bool seen = false;
         for (k = 0; k < i && !seen; k++) {
            seen = !strcmp (sp->validators[k].field->validate_fn, sp->validators[i].field->validate_fn);
         }
         if (!seen) {
            out (&h, "bool\n%s (const bson_value_t *value, void *user);\n", sp->validators[i].field->validate_fn);
         }
      }
      out (&h, "\n");
   }
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

   path = fmt ("%s/%s/%s.h", outdir, hdr_dir, sp->collection);
   write_if_changed (path, &h);
   bson_free (path);
   bson_free (h.s);
   bson_free (guard);
}
