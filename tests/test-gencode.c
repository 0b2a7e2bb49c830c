/* The generated per-object code against the descriptor tables it was generated from.
 *
 * odmgen emits, for every object type, its field rules (odm_object_desc_t.validate) and its
 * defaults (.defaults) as straight-line C; the runtime also walks the same checks from the
 * tables. Here every schema is cloned with that code left out (the walk alone), and both
 * versions validate and prepare the same documents: the fixtures, and each fixture with one
 * field changed in the struct, field after field, in every way the rules can see (NaN,
 * out-of-range and null numbers, a value without its has_ flag, empty, over-long and
 * unlisted strings, null and absent values). The violations must be the same, in the same
 * order, with the same paths, rules and messages, and the prepared documents the same bytes
 * (new ObjectIds aside). */
#include "test-util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------- the table-only clone */

static const odm_object_desc_t *
clone_desc (const odm_object_desc_t *d)
{
   odm_object_desc_t *c = bson_malloc (sizeof *c);
   odm_field_t *fields = bson_malloc (sizeof *fields * (d->field_count ? d->field_count : 1));
   uint32_t i;
   *c = *d;
   c->validate = NULL; /* the walk of FIELDS, not the generated code */
   c->defaults = NULL;
   c->minimize = NULL;
   c->minimize_count = 0;
   for (i = 0; i < d->field_count; i++) {
      fields[i] = d->fields[i];
      if (fields[i].object) {
         fields[i].object = clone_desc (fields[i].object);
      }
   }
   c->fields = fields;
   return c;
}

static void
free_desc (const odm_object_desc_t *d)
{
   uint32_t i;
   for (i = 0; i < d->field_count; i++) {
      if (d->fields[i].object) {
         free_desc (d->fields[i].object);
      }
   }
   bson_free ((void *) d->fields);
   bson_free ((void *) d);
}

static odm_schema_t *
clone_schema (const odm_schema_t *s)
{
   odm_schema_t *c = bson_malloc (sizeof *c);
   uint32_t i;
   *c = *s;
   c->root = clone_desc (s->root);
   /* the timestamps: the clone's own table entries */
   for (i = 0; i < s->root->field_count; i++) {
      if (s->created_at == &s->root->fields[i]) {
         c->created_at = &c->root->fields[i];
      }
      if (s->updated_at == &s->root->fields[i]) {
         c->updated_at = &c->root->fields[i];
      }
   }
   return c;
}

/* ------------------------------------------------------------- struct mutations */

typedef enum {
   M_NAN, M_BIG, M_SMALL, M_NULL, M_UNFLAGGED, M_ABSENT, M_EMPTY, M_LONG, M_WORD,
   M_PREFIX, M_NEAR, /* enums: a listed value's first byte alone; the value, its last byte changed */
   M_COUNT
} mut_t;

typedef struct {
   const odm_schema_t *schema;
   int target; /* the field to change, depth first */
   int counter;
   mut_t kind;
   bool applied;
} walk_t;

static char long_text[3 * 1200 + 1];

/* Frees what the object of type D at P owns (odm_cleanup through a schema rooted at D). */
static void
cleanup_object (const odm_schema_t *schema, const odm_object_desc_t *d, void *p)
{
   odm_schema_t at = *schema;
   at.root = d;
   odm_cleanup (&at, p);
}

/* Applies W's mutation to the TARGETth field under D at BASE (depth first, into nested
 * objects and array elements). */
static void
mutate (const odm_object_desc_t *d, void *base, walk_t *w)
{
   uint32_t i;
   for (i = 0; i < d->field_count && !w->applied; i++) {
      const odm_field_t *f = &d->fields[i];
      char *p = (char *) base + f->offset;
      uint8_t *has = (uint8_t *) base + f->presence;
      if (w->counter++ == w->target) {
         if (f->flags & ODM_F_ARRAY) {
            if (w->kind == M_NULL || w->kind == M_ABSENT) {
               /* an empty array, null or absent (what it held is freed) */
               size_t count, k;
               char *items = (char *) odm_field_array (f, base, &count);
               for (k = 0; k < count; k++) {
                  if (f->kind == ODM_KIND_STRING) {
                     bson_free (*(char **) (items + k * f->elem_size));
                  } else if (f->kind == ODM_KIND_OBJECT) {
                     cleanup_object (w->schema, f->object, items + k * f->elem_size);
                  } else if (f->kind == ODM_KIND_MIXED) {
                     bson_value_destroy ((bson_value_t *) (items + k * f->elem_size));
                  }
               }
               bson_free (items);
               memset (p, 0, sizeof (void *) + sizeof (size_t));
               *has = w->kind == M_NULL ? ODM_NULL : ODM_ABSENT;
               w->applied = true;
            }
         } else if (f->kind == ODM_KIND_NUMBER) {
            double *v = (double *) p;
            switch (w->kind) {
            case M_NAN: *v = NAN; *has = ODM_PRESENT; w->applied = true; break;
            case M_BIG: *v = 1e9; *has = ODM_PRESENT; w->applied = true; break;
            case M_SMALL: *v = -1e9; *has = ODM_PRESENT; w->applied = true; break;
            case M_NULL: *v = 0; *has = ODM_NULL; w->applied = true; break;
            case M_UNFLAGGED: *v = 3; *has = ODM_ABSENT; w->applied = true; break;
            case M_ABSENT: *v = 0; *has = ODM_ABSENT; w->applied = true; break;
            default: break;
            }
         } else if (f->kind == ODM_KIND_STRING) {
            char **s = (char **) p;
            const char *nv = w->kind == M_EMPTY ? "" : w->kind == M_LONG ? long_text : w->kind == M_WORD ? "zzz" : NULL;
            char near[128];
            if (f->enum_count && (w->kind == M_PREFIX || w->kind == M_NEAR) &&
                strlen (f->enum_values[0]) < sizeof near) {
               /* the generated check tests a value's first byte, then the rest */
               size_t len = strlen (f->enum_values[0]);
               memcpy (near, f->enum_values[0], len + 1);
               if (w->kind == M_PREFIX) {
                  near[len > 1 ? 1 : 0] = '\0';
               } else if (len) {
                  near[len - 1] = (char) (near[len - 1] ^ 1);
               }
               nv = near;
            }
            if (nv || w->kind == M_NULL || w->kind == M_ABSENT) {
               bson_free (*s);
               *s = nv ? bson_strdup (nv) : NULL;
               *has = nv ? ODM_PRESENT : w->kind == M_NULL ? ODM_NULL : ODM_ABSENT;
               w->applied = true;
            }
         } else if (f->kind == ODM_KIND_BOOL || f->kind == ODM_KIND_DATE || f->kind == ODM_KIND_OID) {
            if (w->kind == M_UNFLAGGED) {
               p[0] = 1; /* a value, without its has_ flag */
               *has = ODM_ABSENT;
               w->applied = true;
            } else if (w->kind == M_NULL || w->kind == M_ABSENT) {
               *has = w->kind == M_NULL ? ODM_NULL : ODM_ABSENT;
               w->applied = true;
            }
         } else if (f->kind == ODM_KIND_OBJECT && w->kind == M_NULL) {
            cleanup_object (w->schema, f->object, p);
            *has = ODM_NULL;
            w->applied = true;
         }
         if (w->applied) {
            return;
         }
      }
      if (f->kind == ODM_KIND_OBJECT) {
         if (f->flags & ODM_F_ARRAY) {
            size_t count, k;
            char *items = (char *) odm_field_array (f, base, &count);
            for (k = 0; k < count && !w->applied; k++) {
               mutate (f->object, items + k * f->elem_size, w);
            }
         } else {
            mutate (f->object, p, w);
         }
      }
   }
}

/* ------------------------------------------------------------------ comparison */

static void
same_violations (const char *what, const odm_violations_t *a, const odm_violations_t *b)
{
   size_t i;
   if (a->count != b->count) {
      odm_test_print_violations ("generated code", a);
      odm_test_print_violations ("table walk", b);
   }
   ck_assert_msg (a->count == b->count, "%s: %zu violations from the generated code, %zu from the tables", what,
                  a->count, b->count);
   for (i = 0; i < a->count; i++) {
      ck_assert_msg (!strcmp (a->items[i].path, b->items[i].path) && !strcmp (a->items[i].rule, b->items[i].rule) &&
                        !strcmp (a->items[i].message, b->items[i].message),
                     "%s: violation %zu differs: %s [%s] %s vs %s [%s] %s", what, i, a->items[i].path, a->items[i].rule,
                     a->items[i].message, b->items[i].path, b->items[i].rule, b->items[i].message);
   }
}

/* B with every ObjectId zeroed (prepare gives absent _id values new, different ones). */
static void
zero_oids (const bson_t *in, bson_t *out)
{
   bson_iter_t it;
   bson_iter_init (&it, in);
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (BSON_ITER_HOLDS_OID (&it)) {
         bson_oid_t z;
         memset (&z, 0, sizeof z);
         bson_append_oid (out, k, -1, &z);
      } else if (BSON_ITER_HOLDS_DOCUMENT (&it) || BSON_ITER_HOLDS_ARRAY (&it)) {
         const uint8_t *data;
         uint32_t len;
         bson_t sub, child;
         bool doc = BSON_ITER_HOLDS_DOCUMENT (&it);
         if (doc) {
            bson_iter_document (&it, &len, &data);
         } else {
            bson_iter_array (&it, &len, &data);
         }
         ck_assert (bson_init_static (&sub, data, len));
         if (doc) {
            bson_append_document_begin (out, k, -1, &child);
         } else {
            bson_append_array_begin (out, k, -1, &child);
         }
         zero_oids (&sub, &child);
         if (doc) {
            bson_append_document_end (out, &child);
         } else {
            bson_append_array_end (out, &child);
         }
      } else {
         bson_append_iter (out, k, -1, &it);
      }
   }
}

/* Decodes FIXTURE twice, applies mutation W to both, and holds the generated code (GEN) to
 * the walk (TAB): validate, then prepare. Returns whether the mutation applied. */
static bool
compare_one (const odm_schema_t *gen, const odm_schema_t *tab, const bson_t *fixture, int target, mut_t kind,
             const char *what)
{
   void *a = bson_malloc0 (gen->root->size), *b = bson_malloc0 (gen->root->size);
   odm_prepare_opts_t opts = {.now_ms = INT64_C (1700100000000)};
   odm_violations_t va, vb;
   walk_t wa = {.schema = gen, .target = target, .kind = kind}, wb = {.schema = tab, .target = target, .kind = kind};
   bool applied;
   char label[200];

   ck_assert (odm_from_bson (gen, fixture, a, 0, NULL));
   ck_assert (odm_from_bson (tab, fixture, b, 0, NULL));
   if (target >= 0) {
      mutate (gen->root, a, &wa);
      mutate (tab->root, b, &wb);
      ck_assert_int_eq (wa.applied, wb.applied);
   }
   applied = target < 0 || wa.applied;
   if (applied) {
      bson_t ea, eb, za = BSON_INITIALIZER, zb = BSON_INITIALIZER;
      bool oka, okb;
      snprintf (label, sizeof label, "%s, field #%d, mutation %d: validate", what, target, (int) kind);
      oka = odm_validate (gen, a, &opts, &va);
      okb = odm_validate (tab, b, &opts, &vb);
      ck_assert_int_eq (oka, okb);
      same_violations (label, &va, &vb);
      odm_violations_cleanup (&va);
      odm_violations_cleanup (&vb);

      snprintf (label, sizeof label, "%s, field #%d, mutation %d: prepare", what, target, (int) kind);
      oka = odm_prepare (gen, a, &opts, &va);
      okb = odm_prepare (tab, b, &opts, &vb);
      ck_assert_int_eq (oka, okb);
      same_violations (label, &va, &vb);
      odm_violations_cleanup (&va);
      odm_violations_cleanup (&vb);
      oka = odm_to_bson (gen, a, &ea, NULL);
      okb = odm_to_bson (tab, b, &eb, NULL);
      ck_assert_int_eq (oka, okb);
      if (oka) {
         zero_oids (&ea, &za);
         zero_oids (&eb, &zb);
         ck_assert_msg (za.len == zb.len && !memcmp (bson_get_data (&za), bson_get_data (&zb), za.len),
                        "%s: the prepared documents differ", label);
         bson_destroy (&ea);
         bson_destroy (&eb);
      }
      bson_destroy (&za);
      bson_destroy (&zb);
   }
   odm_cleanup (gen, a);
   odm_cleanup (tab, b);
   bson_free (a);
   bson_free (b);
   return applied;
}

START_TEST (test_generated_matches_tables)
{
   size_t n, i, v;
   const odm_schema_t *const *all = odm_schemas (&n);
   static const char *const variants[] = {"full", "min"};
   int compared = 0;

   for (i = 0; i + 3 <= sizeof long_text - 1; i += 3) {
      memcpy (long_text + i, "\xE2\x82\xAC", 3); /* 1,200 euro signs: 3,600 bytes, 1,200 UTF-16 units */
   }
   for (i = 0; i < n; i++) {
      odm_schema_t *tab = clone_schema (all[i]);
      ck_assert_ptr_nonnull (all[i]->root->validate); /* every generated object has its code */
      for (v = 0; v < 2; v++) {
         char name[200];
         bson_t *fixture;
         int target, kind, fields = 0;
         walk_t count = {.schema = all[i], .target = -1};
         void *doc;
         snprintf (name, sizeof name, "%s.%s.json", all[i]->collection, variants[v]);
         fixture = odm_test_load_json (name);
         if (!fixture) {
            continue; /* a user-registered schema without fixtures */
         }
         snprintf (name, sizeof name, "%s %s", all[i]->collection, variants[v]);
         compare_one (all[i], tab, fixture, -1, M_NAN, name);
         doc = bson_malloc0 (all[i]->root->size);
         ck_assert (odm_from_bson (all[i], fixture, doc, 0, NULL));
         mutate (all[i]->root, doc, &count); /* counts the fields */
         fields = count.counter;
         odm_cleanup (all[i], doc);
         bson_free (doc);
         for (target = 0; target < fields; target++) {
            for (kind = 0; kind < M_COUNT; kind++) {
               compared += compare_one (all[i], tab, fixture, target, (mut_t) kind, name);
            }
         }
         bson_destroy (fixture);
      }
      free_desc (tab->root);
      bson_free (tab);
   }
   ck_assert_int_gt (compared, 1000);
}
END_TEST

/* What the generated tables say of themselves agrees: the timestamps the schema points to
 * are the root fields flagged so; each object's minimize list names nested objects and
 * mixed values only, in field order, and ODM_O_MINIMIZE is set exactly when the list is
 * not empty or an object below has the flag. (That the list leaves nothing out that
 * minimize would change is test_generated_matches_tables' business: the tables' walk
 * looks at every field.) */
static bool
check_minimize_lists (const odm_object_desc_t *d)
{
   uint32_t i, k;
   bool below = false;
   for (i = 0; i < d->field_count; i++) {
      if (d->fields[i].object && check_minimize_lists (d->fields[i].object)) {
         below = true;
      }
   }
   for (k = 0; k < d->minimize_count; k++) {
      const odm_field_t *f = &d->fields[d->minimize[k]];
      ck_assert_uint_lt (d->minimize[k], d->field_count);
      ck_assert (k == 0 || d->minimize[k] > d->minimize[k - 1]);
      ck_assert_msg (f->kind == ODM_KIND_OBJECT || f->kind == ODM_KIND_MIXED, "%s: %s in the minimize list",
                     d->c_type, f->name);
   }
   ck_assert_msg (((d->flags & ODM_O_MINIMIZE) != 0) == (d->minimize_count > 0 || below),
                  "%s: ODM_O_MINIMIZE disagrees with the minimize lists", d->c_type);
   return (d->flags & ODM_O_MINIMIZE) != 0;
}

START_TEST (test_tables_agree)
{
   size_t n, i;
   const odm_schema_t *const *all = odm_schemas (&n);
   for (i = 0; i < n; i++) {
      const odm_object_desc_t *r = all[i]->root;
      uint32_t k;
      for (k = 0; k < r->field_count; k++) {
         const odm_field_t *f = &r->fields[k];
         ck_assert_int_eq ((f->flags & ODM_F_CREATED_AT) != 0, all[i]->created_at == f);
         ck_assert_int_eq ((f->flags & ODM_F_UPDATED_AT) != 0, all[i]->updated_at == f);
      }
      (void) check_minimize_lists (r);
   }
}
END_TEST

Suite *
gencode_suite (void)
{
   Suite *s = suite_create ("gencode");
   TCase *tc = tcase_create ("gencode");
   tcase_set_timeout (tc, 120);
   tcase_add_test (tc, test_generated_matches_tables);
   tcase_add_test (tc, test_tables_agree);
   suite_add_tcase (s, tc);
   return s;
}
