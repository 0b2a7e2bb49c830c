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

void
check_spec (spec_t *sp)
{
   size_t i;
   cur_file = sp->file;
   for (i = 0; i < sp->n_aggs; i++) {
      bson_iter_t it;
      bson_iter_init (&it, sp->aggs[i].pipeline);
      check_slots (&sp->aggs[i], &it, sp->aggs[i].where);
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
