/* Stage 1: a JSON spec becomes the typed model (model.h). Every error names the spec file and
 * the JSON path of the mistake ("fields[2].of.fields[0]: unknown key \"x\""). */
#include "model.h"

#include <ctype.h>
#include <string.h>

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
      } else if (!strcmp (k, "validate")) {
         bson_iter_t vd;
         want_doc (it, &vd, w);
         while (bson_iter_next (&vd)) {
            const char *vk = bson_iter_key (&vd);
            char *vw = fmt ("%s.%s", w, vk);
            if (!strcmp (vk, "fn")) {
               const char *fn = want_utf8 (&vd, vw), *q;
               char *cm;
               for (q = fn; *q && (isalnum ((unsigned char) *q) || *q == '_'); q++) {
               }
               if (!*fn || *q || isdigit ((unsigned char) *fn)) {
                  die (vw, "\"%s\" is not a C identifier", fn);
               }
               cm = c_member (fn, vw);
               if (strcmp (cm, fn) != 0) {
                  die (vw, "\"%s\" is a C keyword, not a function name", fn);
               }
               bson_free (cm);
               f->validate_fn = xstrdup (fn);
            } else if (!strcmp (vk, "message")) {
               f->validate_msg = xstrdup (want_utf8 (&vd, vw));
            } else {
               die (vw, "unknown key \"%s\"", vk);
            }
            bson_free (vw);
         }
         if (!f->validate_fn || !f->validate_msg) {
            die (w, "a validator needs \"fn\" and \"message\"");
         }
      } else if (!strcmp (k, "messages")) {
         bson_iter_t m;
         want_doc (it, &m, w);
         while (bson_iter_next (&m)) {
            size_t r;
            for (r = 0; r < N_FIELD_RULES && strcmp (bson_iter_key (&m), field_rule_keys[r]); r++) {
            }
            if (r == N_FIELD_RULES) {
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
          f->n_enums || f->dflt || f->lowercase || f->unique || f->validate_fn) {
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
   if (f->kind == K_OBJECT && f->validate_fn) {
      die (where, "a validator goes on a value, not on an object");
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
      f->object = new_object (stem, path);
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

/* An analytic: {name, c_name, doc, params, pipeline, row}. */
static void
parse_agg (spec_t *sp, bson_iter_t *it, const char *where)
{
   bson_iter_t body;
   agg_t a;
   bool have_pipeline = false, have_row = false;
   memset (&a, 0, sizeof a);
   a.where = xstrdup (where);
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
         if (a.pipeline) {
            bson_destroy (a.pipeline);
         }
         a.pipeline = bson_copy (&wrap);
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
            a.row = new_object (stem, path);
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

/* A spec's "rules" or "derive" list: each entry's row of the rule-kind table (rules.c) and its
 * object; the check stage reads the operands. */
static void
parse_rules (spec_t *sp, const bson_t *list, bool derivation)
{
   bson_iter_t it;
   bson_iter_init (&it, list);
   while (bson_iter_next (&it)) {
      rule_t r;
      bson_iter_t body;
      const uint8_t *data;
      uint32_t len;
      bson_t d;
      const char *kind;
      memset (&r, 0, sizeof r);
      r.where = fmt ("%s[%s]", derivation ? "derive" : "rules", bson_iter_key (&it));
      want_doc (&it, &body, r.where);
      bson_iter_document (&it, &len, &data);
      bson_init_static (&d, data, len);
      kind = get_str (&d, "kind", r.where);
      if (!derivation) {
         r.path = cstr (get_str (&d, "path", r.where));
         r.msg = cstr (get_str (&d, "message", r.where));
      }
      r.row = rule_kind_find (kind, derivation, &d);
      if (!r.row) {
         die (r.where, "unknown %s kind \"%s\"", derivation ? "derivation" : "rule", kind);
      }
      r.body = bson_copy (&d);
      if (derivation) {
         sp->derive = bson_realloc (sp->derive, (sp->n_derive + 1) * sizeof r);
         sp->derive[sp->n_derive++] = r;
      } else {
         sp->rules = bson_realloc (sp->rules, (sp->n_rules + 1) * sizeof r);
         sp->rules[sp->n_rules++] = r;
      }
   }
}

void
parse_spec (spec_t *sp, const char *file)
{
   size_t len;
   bson_error_t err;
   bson_t *doc, rules = BSON_INITIALIZER, derive = BSON_INITIALIZER;
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
         bson_t tmp, *dst = !strcmp (k, "rules") ? &rules : &derive;
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
   parse_rules (sp, &rules, false);
   parse_rules (sp, &derive, true);
   bson_destroy (&rules);
   bson_destroy (&derive);
   bson_destroy (doc);
}
