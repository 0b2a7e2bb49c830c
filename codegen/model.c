/* Building the model (objects, fields) and reading it (paths through it). */
#include "model.h"

#include <string.h>

object_t *
new_object (const char *stem, const char *path)
{
   object_t *o = bson_malloc0 (sizeof *o);
   o->stem = xstrdup (stem);
   o->ctype = fmt ("%s_t", stem);
   o->path = xstrdup (path);
   return o;
}

void
register_object (spec_t *sp, object_t *o)
{
   sp->objects = bson_realloc (sp->objects, (sp->n_objects + 1) * sizeof *sp->objects);
   sp->objects[sp->n_objects++] = o;
}

void
add_field (object_t *obj, const field_t *f)
{
   obj->fields = bson_realloc (obj->fields, (obj->n + 1) * sizeof (field_t));
   obj->fields[obj->n++] = *f;
}

int
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
const field_t *
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

const field_t *
lookup (const spec_t *sp, const char *path, char **c_expr, char **c_has, const char *where)
{
   return lookup_in (sp, path, c_expr, c_has, where, false);
}
