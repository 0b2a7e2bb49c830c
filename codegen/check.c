/* Stage 2: semantic checks on the model: analytics' pipeline slots, the operands of every rule
 * and derivation (each kind's row in rules.c resolves them), and a set's collections. */
#include "model.h"

#include <string.h>

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

/* The fields of O (at PREFIX) with a "validate", depth first, into SP->validators; SEGS are
 * the descriptor entries from the root down to O. */
static void
find_validators (spec_t *sp, const object_t *o, const char *prefix, char **segs, size_t n_segs)
{
   size_t i, k;
   for (i = 0; i < o->n; i++) {
      const field_t *f = &o->fields[i];
      char *path = fmt ("%s%s%s", prefix, *prefix ? "." : "", f->name);
      char **s2 = bson_malloc ((n_segs + 1) * sizeof *s2);
      for (k = 0; k < n_segs; k++) {
         s2[k] = segs[k];
      }
      s2[n_segs] = fmt ("&%s_fields[%zu]", o->stem, i);
      if (f->validate_fn) {
         validator_t v;
         v.path = xstrdup (path);
         v.field = f;
         v.n_segs = n_segs + 1;
         v.segs = bson_malloc (v.n_segs * sizeof *v.segs);
         for (k = 0; k < v.n_segs; k++) {
            v.segs[k] = xstrdup (s2[k]);
         }
         sp->validators = bson_realloc (sp->validators, (sp->n_validators + 1) * sizeof v);
         sp->validators[sp->n_validators++] = v;
      }
      if (f->kind == K_OBJECT) {
         find_validators (sp, f->object, path, s2, n_segs + 1);
      }
      bson_free (s2[n_segs]);
      bson_free (s2);
      bson_free (path);
   }
}

/* An analytic's row is read, never validated: no "validate" in it. */
static void
no_validators (const object_t *o, const char *where)
{
   size_t i;
   for (i = 0; i < o->n; i++) {
      if (o->fields[i].validate_fn) {
         die (where, "row field \"%s\": a row is not validated (no \"validate\")", o->fields[i].name);
      }
      if (o->fields[i].kind == K_OBJECT) {
         no_validators (o->fields[i].object, where);
      }
   }
}

void
check_spec (spec_t *sp)
{
   size_t i;
   cur_file = sp->file;
   find_validators (sp, &sp->root, "", NULL, 0);
   for (i = 0; i < sp->n_aggs; i++) {
      bson_iter_t it;
      bson_iter_init (&it, sp->aggs[i].pipeline);
      check_slots (&sp->aggs[i], &it, sp->aggs[i].where);
      no_validators (sp->aggs[i].row, sp->aggs[i].where);
   }
   for (i = 0; i < sp->n_rules; i++) {
      sp->rules[i].row->check (sp, &sp->rules[i]);
   }
   for (i = 0; i < sp->n_derive; i++) {
      sp->derive[i].row->check (sp, &sp->derive[i]);
   }
}

/* The specs of one set, sorted by collection: no two define the same collection or C name,
 * and none is named like its set. */
void
check_set (spec_t **specs, int n, const char *set, bool platform)
{
   int i, j;
   for (i = 0; i < n; i++) {
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
}
