/* libodm: operator updates that cannot bypass the rules and cannot lose a write.
 *
 * An update is parsed into items (one per operator field), each checked against the spec
 * (path, type, argument shape, depth). Then one of two paths runs (docs/live.md):
 *
 *  - direct: when every item touches only paths whose rules can be checked without the
 *    rest of the document (types, bounds, enums, lengths), the values are checked here and
 *    the update goes to the server as the operator update it is, in one round trip, with a
 *    filter that guards what only the stored value can tell ($inc n by 5 with max 100
 *    carries n <= 95). The server applies it atomically.
 *  - checked: otherwise each matching document is read, the update applied in memory, the
 *    pre-save path run on the result (cross-field rules, derivations), and only the paths
 *    that changed are written back, conditioned on the document's version key `__v` (and
 *    the rule inputs) being what was read. Retried when it changed.
 *
 * This file plans and writes; parsing, checking and applying in memory are in
 * src/odm-update-apply.c.
 *
 * Every libodm write increments `__v`, Mongoose's versionKey, so libodm's guard and
 * Mongoose's see each other's writes. */
#include "odm-update-private.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ATTEMPTS 16

/* ------------------------------------------------------------- rule inputs */

/* The paths that the schema's cross-field rules and derivations read or write, parsed
 * once from the spec: an update touching one of them takes the checked path. */
typedef struct sens {
   const odm_schema_t *schema;
   char **paths;
   size_t n;
   struct sens *next;
} sens_t;

static pthread_mutex_t sens_lock = PTHREAD_MUTEX_INITIALIZER;
static sens_t *sens_list;

static void
sens_collect (bson_iter_t *it, sens_t *s)
{
   while (bson_iter_next (it)) {
      const char *k = bson_iter_key (it);
      if (BSON_ITER_HOLDS_UTF8 (it) && (!strcmp (k, "path") || !strcmp (k, "than") || !strcmp (k, "of") ||
                                        !strcmp (k, "from") || !strcmp (k, "to") || !strcmp (k, "paths"))) {
         s->paths = bson_realloc (s->paths, (s->n + 1) * sizeof *s->paths);
         s->paths[s->n++] = bson_strdup (bson_iter_utf8 (it, NULL));
      } else if (BSON_ITER_HOLDS_DOCUMENT (it) || BSON_ITER_HOLDS_ARRAY (it)) {
         bson_iter_t sub;
         bool paths_array = !strcmp (k, "paths") && BSON_ITER_HOLDS_ARRAY (it);
         if (bson_iter_recurse (it, &sub)) {
            if (paths_array) {
               while (bson_iter_next (&sub)) {
                  if (BSON_ITER_HOLDS_UTF8 (&sub)) {
                     s->paths = bson_realloc (s->paths, (s->n + 1) * sizeof *s->paths);
                     s->paths[s->n++] = bson_strdup (bson_iter_utf8 (&sub, NULL));
                  }
               }
            } else {
               sens_collect (&sub, s);
            }
         }
      }
   }
}

static const sens_t *
sens_get (const odm_schema_t *schema)
{
   sens_t *s;
   pthread_mutex_lock (&sens_lock);
   for (s = sens_list; s && s->schema != schema; s = s->next) {
   }
   if (!s) {
      bson_t *spec = schema->spec_json ? bson_new_from_json ((const uint8_t *) schema->spec_json, -1, NULL) : NULL;
      bson_iter_t it, sub;
      s = bson_malloc0 (sizeof *s);
      s->schema = schema;
      if (spec) {
         if (bson_iter_init_find (&it, spec, "rules") && bson_iter_recurse (&it, &sub)) {
            sens_collect (&sub, s);
         }
         if (bson_iter_init_find (&it, spec, "derive") && bson_iter_recurse (&it, &sub)) {
            sens_collect (&sub, s);
         }
         bson_destroy (spec);
      } else if (schema->rules || schema->derive) {
         /* no spec text: every path is a rule input */
         s->paths = bson_malloc (sizeof *s->paths);
         s->paths[0] = bson_strdup ("");
         s->n = 1;
      }
      s->next = sens_list;
      sens_list = s;
   }
   pthread_mutex_unlock (&sens_lock);
   return s;
}

/* PATH without its array indexes ("refunds.0.amount" -> "refunds.amount"). */
static void
strip_indexes (const char *path, char *out, size_t size)
{
   size_t o = 0;
   const char *seg = path;
   while (*seg && o + 1 < size) {
      size_t n = strcspn (seg, ".");
      if (!odm_upd_all_digits (seg, n)) {
         if (o && o + 1 < size) {
            out[o++] = '.';
         }
         if (o + n >= size) {
            n = size - o - 1;
         }
         memcpy (out + o, seg, n);
         o += n;
      }
      seg += n;
      if (*seg == '.') {
         seg++;
      }
   }
   out[o] = '\0';
}

static bool
related (const char *a, const char *b)
{
   return !*b || !*a || odm_upd_path_within (a, b) || odm_upd_path_within (b, a);
}

static bool
touches_rule_input (const sens_t *s, const char *path)
{
   char p[ODM_PATH_MAX];
   size_t i;
   strip_indexes (path, p, sizeof p);
   for (i = 0; i < s->n; i++) {
      if (related (p, s->paths[i])) {
         return true;
      }
   }
   return false;
}

/* ------------------------------------------------------------- planning */

typedef struct {
   odm_client_t *client;
   const odm_schema_t *schema;
   const bson_t *update;
   items_t items;
   const odm_update_opts_t *opts;
   int64_t now_ms;
   odm_violations_t *v;
   bson_error_t *error;
   mongoc_collection_t *coll;
   const char *updated_at; /* the schema's updatedAt field, or NULL */
   bool user_version;      /* the update itself changes __v */
   bool direct;            /* planned for the direct path */
   const char *why;        /* why not direct */
   bson_t guards;          /* the direct path's filter conditions */
   odm_update_result_t *result;
} upd_t;

static const char *
updated_at_field (const odm_schema_t *schema)
{
   uint32_t i;
   for (i = 0; i < schema->root->field_count; i++) {
      if (schema->root->fields[i].flags & ODM_F_UPDATED_AT) {
         return schema->root->fields[i].name;
      }
   }
   return NULL;
}

/* Whether the item can go to the server as it is; *WHY says why not. */
static bool
item_direct (const sens_t *s, const item_t *it, const char **why)
{
   const odm_field_t *f = it->r.field;
   if (it->r.version) {
      return true;
   }
   if (touches_rule_input (s, it->path)) {
      *why = "a cross-field rule or derivation reads this path";
      return false;
   }
   if (it->r.in_mixed) {
      return true;
   }
   if (it->r.in_array) {
      *why = "the path is inside an array";
      return false;
   }
   if (f->kind == ODM_KIND_OBJECT) {
      *why = "the value is a subdocument (defaults and ids below it)";
      return false;
   }
   if (f->flags & ODM_F_LOWERCASE) {
      *why = "the field is lowercased before saving";
      return false;
   }
   if (it->op == OP_UNSET && (f->flags & (ODM_F_DEFAULT | ODM_F_DEFAULT_NOW))) {
      *why = "the field has a default";
      return false;
   }
   if (it->op == OP_MUL && (f->flags & (ODM_F_MIN | ODM_F_MAX))) {
      *why = "$mul on a bounded field";
      return false;
   }
   if (it->op == OP_SETONINSERT) {
      *why = "$setOnInsert";
      return false;
   }
   return true;
}

/* The probe: a document holding only the values the update writes, decoded and validated;
 * violations at or below an item's path are the update's. */
static void
probe_values (upd_t *u)
{
   const odm_schema_t *s = u->schema;
   bson_t probe = BSON_INITIALIZER, built;
   items_t sets = {0};
   size_t i, k;
   void *doc;
   bson_error_t e;
   bool any = false;
   apply_ctx_t c = {.inserting = true, .now_ms = u->now_ms, .error = &e};

   for (i = 0; i < u->items.n; i++) {
      item_t *it = &u->items.v[i];
      if (it->r.version || it->r.in_mixed) {
         continue;
      }
      if (it->op == OP_SET || it->op == OP_MIN || it->op == OP_MAX || it->op == OP_PUSH || it->op == OP_ADDTOSET ||
          it->op == OP_CURRENTDATE) {
         item_t copy = *it;
         if (it->op == OP_MIN || it->op == OP_MAX) {
            copy.op = OP_SET;
         }
         odm_upd_items_add (&sets, copy.op, copy.path, &copy.arg, &copy.r);
         any = true;
      }
   }
   if (!any) {
      bson_free (sets.v);
      bson_destroy (&probe);
      return;
   }
   qsort (sets.v, sets.n, sizeof *sets.v, odm_upd_item_cmp);
   for (i = 0; i < sets.n; i++) {
      sets.v[i].done = false;
   }
   bson_init (&built);
   if (!odm_upd_apply_level (&c, &probe, false, sets.v, 0, sets.n, 0, &built, 0)) {
      odm_violations_add_error (u->v, &e);
      bson_destroy (&built);
      bson_destroy (&probe);
      bson_free (sets.v);
      return;
   }
   doc = bson_malloc0 (s->root->size);
   if (!odm_from_bson (s, &built, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_violations_add_error (u->v, &e);
   } else {
      /* A direct update touches no rule input, hook or validator (plan), so the field rules
       * are all there is to check; those of paths the update does not set are dropped (the
       * probe holds only what it sets). */
      odm_violations_t pv;
      odm_violations_init (&pv);
      odm_validate_fields (s, doc, &pv);
      for (k = 0; k < pv.count; k++) {
         for (i = 0; i < sets.n; i++) {
            if (odm_upd_path_within (pv.items[k].path, sets.v[i].path)) {
               odm_violations_add (u->v, pv.items[k].path, pv.items[k].rule, pv.items[k].message);
               break;
            }
         }
      }
      odm_violations_cleanup (&pv);
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   bson_destroy (&built);
   bson_destroy (&probe);
   bson_free (sets.v);
}

/* Filter conditions that make the server refuse what only the stored value can tell. */
static void
add_guards (upd_t *u)
{
   size_t i, n = 0;
   char key[16];
   bson_init (&u->guards);
   for (i = 0; i < u->items.n; i++) {
      const item_t *it = &u->items.v[i];
      const odm_field_t *f = it->r.field;
      bson_t cond, range, alt, a0, a1;
      double d, lo = -INFINITY, hi = INFINITY;
      bool absent_ok;
      if (it->op != OP_INC || it->r.version || it->r.in_mixed || !(f->flags & (ODM_F_MIN | ODM_F_MAX))) {
         continue;
      }
      d = odm_upd_num (&it->arg);
      if (f->flags & ODM_F_MIN) {
         lo = f->min - d;
      }
      if (f->flags & ODM_F_MAX) {
         hi = f->max - d;
      }
      absent_ok = (!(f->flags & ODM_F_MIN) || d >= f->min) && (!(f->flags & ODM_F_MAX) || d <= f->max);
      bson_snprintf (key, sizeof key, "%zu", n++);
      bson_append_document_begin (&u->guards, key, -1, &cond);
      if (absent_ok) {
         bson_append_array_begin (&cond, "$or", 3, &alt);
         bson_append_document_begin (&alt, "0", 1, &a0);
      }
      bson_append_document_begin (absent_ok ? &a0 : &cond, it->path, -1, &range);
      if (f->flags & ODM_F_MIN) {
         BSON_APPEND_DOUBLE (&range, "$gte", lo);
      }
      if (f->flags & ODM_F_MAX) {
         BSON_APPEND_DOUBLE (&range, "$lte", hi);
      }
      bson_append_document_end (absent_ok ? &a0 : &cond, &range);
      if (absent_ok) {
         bson_t ex;
         bson_append_document_end (&alt, &a0);
         bson_append_document_begin (&alt, "1", 1, &a1);
         bson_append_document_begin (&a1, it->path, -1, &ex);
         BSON_APPEND_BOOL (&ex, "$exists", false);
         bson_append_document_end (&a1, &ex);
         bson_append_document_end (&alt, &a1);
         bson_append_array_end (&cond, &alt);
      }
      bson_append_document_end (&u->guards, &cond);
   }
}

static void
plan (upd_t *u)
{
   const sens_t *s = sens_get (u->schema);
   size_t i;
   u->direct = true;
   u->why = NULL;
   if (odm_schema_has_hooks (u->schema)) {
      /* The program's hooks and validators (odm-hooks.h) see whole documents. */
      u->direct = false;
      u->why = "the schema has hooks or validators of the program (odm_hook_add, odm_validator_add)";
   }
   for (i = 0; i < u->items.n && u->direct; i++) {
      u->direct = item_direct (s, &u->items.v[i], &u->why);
   }
   for (i = 0; i < u->items.n; i++) {
      if (u->items.v[i].r.version) {
         u->user_version = true;
      }
   }
}

/* ------------------------------------------------------------- the write, direct */

/* UPDATE as sent: the caller's operators, plus updatedAt and the version increment. */
static void
direct_update_doc (upd_t *u, bson_t *out)
{
   bson_iter_t it;
   bool has_set = false, has_inc = false;
   bson_init (out);
   bson_iter_init (&it, u->update);
   while (bson_iter_next (&it)) {
      const char *op = bson_iter_key (&it);
      bson_t sub;
      bson_iter_t f;
      bson_append_document_begin (out, op, -1, &sub);
      bson_iter_recurse (&it, &f);
      while (bson_iter_next (&f)) {
         bson_append_iter (&sub, NULL, 0, &f);
      }
      if (!strcmp (op, "$set") && u->updated_at) {
         BSON_APPEND_DATE_TIME (&sub, u->updated_at, u->now_ms);
         has_set = true;
      }
      if (!strcmp (op, "$inc") && !u->user_version) {
         BSON_APPEND_INT32 (&sub, ODM_UPD_VERSION_KEY, 1);
         has_inc = true;
      }
      bson_append_document_end (out, &sub);
   }
   if (!has_set && u->updated_at) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN (out, "$set", &sub);
      BSON_APPEND_DATE_TIME (&sub, u->updated_at, u->now_ms);
      bson_append_document_end (out, &sub);
   }
   if (!has_inc && !u->user_version) {
      bson_t sub;
      BSON_APPEND_DOCUMENT_BEGIN (out, "$inc", &sub);
      BSON_APPEND_INT32 (&sub, ODM_UPD_VERSION_KEY, 1);
      bson_append_document_end (out, &sub);
   }
}

static void
and_filter (const bson_t *filter, const bson_t *guards, bson_t *out)
{
   bson_t arr, g;
   bson_iter_t it;
   uint32_t n = 1;
   char key[16];
   bson_init (out);
   if (bson_empty (guards)) {
      bson_concat (out, filter);
      return;
   }
   BSON_APPEND_ARRAY_BEGIN (out, "$and", &arr);
   BSON_APPEND_DOCUMENT (&arr, "0", filter);
   bson_iter_init (&it, guards);
   while (bson_iter_next (&it)) {
      const uint8_t *data;
      uint32_t len;
      bson_iter_document (&it, &len, &data);
      bson_init_static (&g, data, len);
      bson_snprintf (key, sizeof key, "%u", n++);
      BSON_APPEND_DOCUMENT (&arr, key, &g);
   }
   bson_append_array_end (out, &arr);
}

static int64_t
reply_count (const bson_t *reply, const char *name)
{
   bson_iter_t it;
   return bson_iter_init_find (&it, reply, name) ? bson_iter_as_int64 (&it) : 0;
}

static bool
is_duplicate (const bson_error_t *e)
{
   return odm_is_duplicate_key_error (e); /* domain and code */
}

/* Sends the update as it is. *HIT: whether a document matched filter and guards. */
static bool
direct_one (upd_t *u, const bson_t *filter, bool many, int64_t *matched, bool *hit)
{
   bson_t upd, cond, reply, opts = BSON_INITIALIZER;
   bool ok;
   direct_update_doc (u, &upd);
   and_filter (filter, &u->guards, &cond);
   if (u->opts && u->opts->mongoc_opts) {
      bson_concat (&opts, u->opts->mongoc_opts);
   }
   odm_session_append (u->opts ? u->opts->session : NULL, &opts);
   ok = many ? mongoc_collection_update_many (u->coll, &cond, &upd, &opts, &reply, u->error)
             : mongoc_collection_update_one (u->coll, &cond, &upd, &opts, &reply, u->error);
   *hit = false;
   if (ok) {
      int64_t m = reply_count (&reply, "matchedCount");
      *hit = m > 0;
      *matched += m;
      if (u->result) {
         u->result->modified += reply_count (&reply, "modifiedCount");
      }
   } else if (is_duplicate (u->error)) {
      /* the document the update would have made, for the duplicate-key report */
      bson_t *stored = NULL, made;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bson_t fo = BSON_INITIALIZER;
      bson_error_t keep = *u->error, e2;
      BSON_APPEND_INT32 (&fo, "limit", 1);
      odm_session_append (u->opts ? u->opts->session : NULL, &fo);
      cur = mongoc_collection_find_with_opts (u->coll, filter, &fo, NULL);
      if (mongoc_cursor_next (cur, &d)) {
         stored = bson_copy (d);
      }
      mongoc_cursor_destroy (cur);
      bson_destroy (&fo);
      if (stored && odm_upd_apply_items (&u->items, stored, false, u->now_ms, &made, &e2)) {
         odm_map_duplicate_doc (u->schema, &keep, u->v, u->coll, &made);
         bson_destroy (&made);
      } else {
         odm_map_duplicate_doc (u->schema, &keep, u->v, u->coll, NULL);
      }
      *u->error = keep;
      bson_destroy (stored);
   }
   bson_destroy (&reply);
   bson_destroy (&opts);
   bson_destroy (&cond);
   bson_destroy (&upd);
   return ok;
}

/* ------------------------------------------------------------- the write, checked */

/* The pre-existing violations policy: a violation of the result blocks the update when the
 * stored document did not already have it, or when the update touches its path. */
static bool
blocking (const upd_t *u, const odm_violation_t *after, const odm_violations_t *before)
{
   size_t i;
   bool existed = false;
   char a[ODM_PATH_MAX], b[ODM_PATH_MAX];
   for (i = 0; i < before->count && !existed; i++) {
      existed = !strcmp (before->items[i].path, after->path) && !strcmp (before->items[i].rule, after->rule);
   }
   if (!existed) {
      return true;
   }
   strip_indexes (after->path, a, sizeof a);
   for (i = 0; i < u->items.n; i++) {
      strip_indexes (u->items.v[i].path, b, sizeof b);
      if (related (a, b)) {
         return true;
      }
   }
   return false;
}

/* Paths (top-down, no two nested) where A and B differ; arrays are compared whole.
 * A and B come from the same encoder, so their keys are in the same order with a few
 * added or removed: one walk over both, a lookup only where they step apart. */
static void
diff_add (char ***out, size_t *n, const char *path)
{
   *out = bson_realloc (*out, (*n + 1) * sizeof **out);
   (*out)[(*n)++] = bson_strdup (path);
}

static void
diff_paths (const bson_t *a, const bson_t *b, odm_path_t *prefix, char ***out, size_t *n, int depth)
{
   bson_iter_t ia, ib;
   bool ia_valid;
   if (!bson_iter_init (&ia, a) || !bson_iter_init (&ib, b)) {
      return;
   }
   ia_valid = bson_iter_next (&ia);
   while (bson_iter_next (&ib)) {
      const char *k = bson_iter_key (&ib);
      size_t old = odm_path_push (prefix, k, strlen (k));
      if (!ia_valid || strcmp (bson_iter_key (&ia), k) != 0) {
         bson_iter_t fa;
         if (!bson_iter_init_find (&fa, a, k)) {
            diff_add (out, n, prefix->buf); /* added */
            odm_path_pop (prefix, old);
            continue;
         }
         /* the A keys before K were removed */
         while (ia_valid && strcmp (bson_iter_key (&ia), k) != 0) {
            size_t o2;
            odm_path_pop (prefix, old);
            o2 = odm_path_push (prefix, bson_iter_key (&ia), strlen (bson_iter_key (&ia)));
            diff_add (out, n, prefix->buf);
            odm_path_pop (prefix, o2);
            old = odm_path_push (prefix, k, strlen (k));
            ia_valid = bson_iter_next (&ia);
         }
         if (!ia_valid) {
            ia = fa;
            ia_valid = true;
         }
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&ia) && BSON_ITER_HOLDS_DOCUMENT (&ib) && depth < ODM_UPD_DEPTH_MAX) {
         bson_t sa, sb;
         const uint8_t *da, *db;
         uint32_t la, lb;
         bson_iter_document (&ia, &la, &da);
         bson_iter_document (&ib, &lb, &db);
         if (la != lb || memcmp (da, db, la) != 0) {
            bson_init_static (&sa, da, la);
            bson_init_static (&sb, db, lb);
            diff_paths (&sa, &sb, prefix, out, n, depth + 1);
         }
      } else if (bson_iter_type (&ia) != bson_iter_type (&ib) ||
                 !odm_upd_values_equal (bson_iter_value (&ia), bson_iter_value (&ib))) {
         diff_add (out, n, prefix->buf);
      }
      odm_path_pop (prefix, old);
      ia_valid = bson_iter_next (&ia);
   }
   while (ia_valid) {
      size_t old = odm_path_push (prefix, bson_iter_key (&ia), strlen (bson_iter_key (&ia)));
      diff_add (out, n, prefix->buf);
      odm_path_pop (prefix, old);
      ia_valid = bson_iter_next (&ia);
   }
}

static int
str_path_cmp (const void *a, const void *b)
{
   return odm_upd_path_cmp (*(const char *const *) a, *(const char *const *) b);
}

/* Builds {$set: {...}, $unset: {...}} from FINAL for PATHS (sorted, nested ones dropped). */
static void
diff_update (const bson_t *final, char **paths, size_t n, bool bump_version, bson_t *out)
{
   bson_t set = BSON_INITIALIZER, unset = BSON_INITIALIZER, inc;
   size_t i;
   const char *last = NULL;
   qsort (paths, n, sizeof *paths, str_path_cmp);
   for (i = 0; i < n; i++) {
      bson_iter_t root, v;
      if (last && odm_upd_path_within (paths[i], last)) {
         continue;
      }
      last = paths[i];
      bson_iter_init (&root, final);
      if (bson_iter_find_descendant (&root, paths[i], &v)) {
         bson_append_value (&set, paths[i], -1, bson_iter_value (&v));
      } else {
         BSON_APPEND_UTF8 (&unset, paths[i], "");
      }
   }
   bson_init (out);
   if (!bson_empty (&set)) {
      BSON_APPEND_DOCUMENT (out, "$set", &set);
   }
   if (!bson_empty (&unset)) {
      BSON_APPEND_DOCUMENT (out, "$unset", &unset);
   }
   if (bump_version) {
      BSON_APPEND_DOCUMENT_BEGIN (out, "$inc", &inc);
      BSON_APPEND_INT32 (&inc, ODM_UPD_VERSION_KEY, 1);
      bson_append_document_end (out, &inc);
   }
   bson_destroy (&set);
   bson_destroy (&unset);
}

static void
free_paths (char **p, size_t n)
{
   size_t i;
   for (i = 0; i < n; i++) {
      bson_free (p[i]);
   }
   bson_free (p);
}

/* In memory: applies the items to STORED (NULL: an upsert's insert branch, from BASE),
 * runs the pre-save path, and makes FINAL (the document to store) and the list of paths
 * that changed. Violations and ERROR as odm_update reports them. */
static bool
make_final (upd_t *u, const bson_t *stored, const bson_t *base, bson_t *final, char ***changed, size_t *nchanged)
{
   const odm_schema_t *s = u->schema;
   bson_t work, pre = BSON_INITIALIZER, post = BSON_INITIALIZER;
   void *doc = bson_malloc0 (s->root->size), *prev = NULL;
   odm_prepare_opts_t po = {.is_update = stored != NULL, .now_ms = u->now_ms};
   odm_violations_t local, before;
   bson_error_t e;
   bool ok = false;
   size_t i;

   bson_init (final);
   odm_violations_init (&local);
   odm_violations_init (&before);
   *changed = NULL;
   *nchanged = 0;
   /* a stored document (from the server or the caller) is walked only once its bytes are
    * known good: the decoder's check, iterative */
   if (stored && !odm_bson_check (stored, u->error)) {
      bson_init (&work);
      goto done;
   }
   if (!odm_upd_apply_items (&u->items, stored ? stored : base, stored == NULL, u->now_ms, &work, u->error)) {
      goto done_nowork;
   }
   if (!odm_from_bson (s, &work, doc, ODM_DECODE_DEFAULT, &e)) {
      odm_violations_add_error (u->v, &e);
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   if (stored) {
      prev = bson_malloc0 (s->root->size);
      if (odm_from_bson (s, stored, prev, ODM_DECODE_DEFAULT, &e)) {
         po.previous = prev;
      }
   }
   bson_destroy (&pre);
   if (!odm_to_bson (s, doc, &pre, u->error)) {
      goto done;
   }
   odm_prepare (s, doc, &po, &local);
   if (local.count && stored && po.previous) {
      odm_prepare_opts_t bo = {.is_update = true, .now_ms = u->now_ms, .previous = prev};
      odm_validate (s, prev, &bo, &before);
   }
   for (i = 0; i < local.count; i++) {
      if (!stored || blocking (u, &local.items[i], &before)) {
         odm_violations_add (u->v, local.items[i].path, local.items[i].rule, local.items[i].message);
      }
   }
   if (u->v->count) {
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   /* What remains are the stored document's own violations, untouched: reported, not blocking. */
   for (i = 0; i < local.count; i++) {
      odm_violations_add (u->v, local.items[i].path, local.items[i].rule, local.items[i].message);
   }
   if (!odm_check_doc_keys (s, doc, u->v)) {
      odm_violations_to_error (u->v, u->error);
      goto done;
   }
   bson_destroy (&post);
   if (!odm_to_bson (s, doc, &post, u->error)) {
      goto done;
   }
   if (!stored) {
      /* a new document: the encoding is the document */
      bson_destroy (final);
      bson_copy_to (&post, final);
      ok = true;
      goto done;
   }
   /* The pre-save path's own changes (derivations, updatedAt, defaults, lowercase), laid
    * over the applied update so that untouched fields keep their bytes. */
   {
      odm_path_t p;
      items_t extra = {0};
      char **pp = NULL;
      size_t np = 0, k;
      const sens_t *sn = sens_get (s);
      bool hooked = odm_schema_has_hooks (s); /* a pre-save hook's changes are written too */
      odm_path_init (&p);
      diff_paths (&pre, &post, &p, &pp, &np, 0);
      /* Only what the update touches, derivations and updatedAt: defaults, lowercasing and
       * minimizing of fields the update does not name leave the stored bytes alone. */
      for (k = 0; k < np; k++) {
         size_t j;
         bool keep = hooked || (u->updated_at && !strcmp (pp[k], u->updated_at)) || touches_rule_input (sn, pp[k]);
         for (j = 0; j < u->items.n && !keep; j++) {
            keep = related (pp[k], u->items.v[j].path);
         }
         if (!keep) {
            bson_free (pp[k]);
            memmove (&pp[k], &pp[k + 1], (np - k - 1) * sizeof *pp);
            np--;
            k--;
         }
      }
      for (k = 0; k < np; k++) {
         bson_iter_t root, v;
         resolved_t r = {0};
         bson_value_t nullv = {.value_type = BSON_TYPE_NULL};
         bson_iter_init (&root, &post);
         if (bson_iter_find_descendant (&root, pp[k], &v)) {
            odm_upd_items_add (&extra, OP_SET, pp[k], bson_iter_value (&v), &r);
         } else {
            odm_upd_items_add (&extra, OP_UNSET, pp[k], &nullv, &r);
         }
      }
      if (extra.n) {
         qsort (extra.v, extra.n, sizeof *extra.v, odm_upd_item_cmp);
         /* drop nested duplicates */
         for (k = 1; k < extra.n; k++) {
            if (odm_upd_path_within (extra.v[k].path, extra.v[k - 1].path)) {
               memmove (&extra.v[k], &extra.v[k + 1], (extra.n - k - 1) * sizeof *extra.v);
               extra.n--;
               k--;
            }
         }
      }
      bson_destroy (final);
      ok = odm_upd_apply_items (&extra, &work, false, u->now_ms, final, u->error);
      *changed = bson_malloc ((u->items.n + np + 1) * sizeof **changed);
      for (k = 0; k < u->items.n; k++) {
         (*changed)[(*nchanged)++] = bson_strdup (u->items.v[k].path);
      }
      for (k = 0; k < np; k++) {
         (*changed)[(*nchanged)++] = pp[k];
      }
      bson_free (pp);
      bson_free (extra.v);
   }
done:
   bson_destroy (&work);
done_nowork:
   bson_destroy (&pre);
   bson_destroy (&post);
   odm_violations_cleanup (&local);
   odm_violations_cleanup (&before);
   if (prev) {
      odm_cleanup (s, prev);
      bson_free (prev);
   }
   odm_cleanup (s, doc);
   bson_free (doc);
   return ok;
}

/* The guard of a checked write: the version read, and the rule inputs' values read. */
static void
version_guard (const odm_schema_t *schema, const bson_t *stored, bson_t *cond)
{
   bson_iter_t it;
   const sens_t *s = sens_get (schema);
   bson_init (cond);
   if (bson_iter_init_find (&it, stored, "_id")) {
      bson_append_iter (cond, "_id", 3, &it);
   }
   if (bson_iter_init_find (&it, stored, ODM_UPD_VERSION_KEY)) {
      bson_t eq;
      BSON_APPEND_DOCUMENT_BEGIN (cond, ODM_UPD_VERSION_KEY, &eq);
      bson_append_iter (&eq, "$eq", 3, &it);
      bson_append_document_end (cond, &eq);
   } else {
      bson_t ex;
      BSON_APPEND_DOCUMENT_BEGIN (cond, ODM_UPD_VERSION_KEY, &ex);
      BSON_APPEND_BOOL (&ex, "$exists", false);
      bson_append_document_end (cond, &ex);
   }
   /* Writers that do not version their writes (a Mongoose $set of a scalar) are seen
    * through the rule inputs: their top-level fields must still hold what was read. */
   if (bson_iter_init (&it, stored)) {
      while (bson_iter_next (&it)) {
         const char *k = bson_iter_key (&it);
         size_t i;
         bool input = false;
         if (!strcmp (k, "_id") || !strcmp (k, ODM_UPD_VERSION_KEY)) {
            continue;
         }
         for (i = 0; i < s->n && !input; i++) {
            input = odm_upd_path_within (s->paths[i], k) || !*s->paths[i];
         }
         if (input) {
            bson_t eq;
            BSON_APPEND_DOCUMENT_BEGIN (cond, k, &eq);
            bson_append_iter (&eq, "$eq", 3, &it);
            bson_append_document_end (cond, &eq);
         }
      }
   }
   {
      /* rule inputs the stored document lacks must still be absent */
      size_t i;
      for (i = 0; i < s->n; i++) {
         char top[ODM_PATH_MAX];
         bson_iter_t f;
         size_t n = strcspn (s->paths[i], ".");
         if (!n || n >= sizeof top) {
            continue;
         }
         memcpy (top, s->paths[i], n);
         top[n] = '\0';
         if (!bson_iter_init_find (&f, stored, top) && !bson_has_field (cond, top)) {
            bson_t ex;
            BSON_APPEND_DOCUMENT_BEGIN (cond, top, &ex);
            BSON_APPEND_BOOL (&ex, "$exists", false);
            bson_append_document_end (cond, &ex);
         }
      }
   }
}

static void
backoff (int attempt)
{
   struct timespec ts;
   long us = (long) (rand () % (200 * (attempt + 1))) + 50;
   ts.tv_sec = 0;
   ts.tv_nsec = us * 1000;
   nanosleep (&ts, NULL);
}

/* One upsert with no match: the insert branch as the server will build it. Returns
 * false with ERROR; *DONE false when someone inserted a match meanwhile. */
static bool upsert_insert (upd_t *u, const bson_t *filter, bool *done);

/* One document through the checked path. *MATCHED += 0/1. */
static bool
checked_one (upd_t *u, const bson_t *filter, int64_t *matched)
{
   int attempt;
   for (attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      bson_t opts = BSON_INITIALIZER, *stored = NULL, final, reply, cond, wupd, wopts = BSON_INITIALIZER;
      mongoc_cursor_t *cur;
      const bson_t *d;
      char **changed;
      size_t nchanged;
      bool ok;

      if (u->result) {
         u->result->attempts++;
      }
      if (attempt) {
         backoff (attempt);
      }
      BSON_APPEND_INT32 (&opts, "limit", 1);
      odm_session_append (u->opts ? u->opts->session : NULL, &opts);
      cur = mongoc_collection_find_with_opts (u->coll, filter, &opts, NULL);
      if (mongoc_cursor_next (cur, &d)) {
         stored = bson_copy (d);
      }
      ok = !mongoc_cursor_error (cur, u->error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&opts);
      if (!ok) {
         bson_destroy (stored);
         return false;
      }
      if (!stored) {
         bool done = true;
         if (!u->opts || !u->opts->upsert) {
            return true;
         }
         if (!upsert_insert (u, filter, &done)) {
            return false;
         }
         if (done) {
            return true;
         }
         continue; /* someone inserted a match meanwhile: update it instead */
      }
      odm_violations_cleanup (u->v);
      odm_violations_init (u->v);
      if (!make_final (u, stored, NULL, &final, &changed, &nchanged)) {
         bson_destroy (stored);
         bson_destroy (&final);
         return false;
      }
      diff_update (&final, changed, nchanged, !u->user_version, &wupd);
      free_paths (changed, nchanged);
      version_guard (u->schema, stored, &cond);
      if (u->opts && u->opts->mongoc_opts) {
         bson_concat (&wopts, u->opts->mongoc_opts);
      }
      odm_session_append (u->opts ? u->opts->session : NULL, &wopts);
      ok = mongoc_collection_update_one (u->coll, &cond, &wupd, &wopts, &reply, u->error);
      bson_destroy (&cond);
      bson_destroy (&wupd);
      bson_destroy (&wopts);
      bson_destroy (stored);
      if (!ok) {
         bson_destroy (&reply);
         odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &final);
         bson_destroy (&final);
         return false;
      }
      if (reply_count (&reply, "matchedCount") == 1) {
         odm_hooks_post_save_bson (u->schema, &final, true, u->now_ms);
      }
      bson_destroy (&final);
      if (reply_count (&reply, "matchedCount") == 1) {
         if (u->result) {
            u->result->modified += reply_count (&reply, "modifiedCount");
         }
         bson_destroy (&reply);
         (*matched)++;
         return true;
      }
      bson_destroy (&reply);
   }
   odm_set_error (u->error, ODM_ERROR_CONFLICT, NULL, "%s: the document kept changing during the update (%d attempts)",
                  u->schema->collection, MAX_ATTEMPTS);
   return false;
}

/* ------------------------------------------------------------- upserts */

/* The equality conditions the server copies from an upsert's filter into the new
 * document: top-level and dotted fields, $eq, $and and a one-branch $or. What the server
 * would build cannot be predicted from anything else that sets values ($in, $all,
 * several $or branches, $nor, $expr, $where): refused. */
static bool
upsert_equalities (const bson_t *filter, bson_t *base, bson_t *paths, int depth, bson_error_t *error)
{
   bson_iter_t it;
   if (depth > ODM_UPD_DEPTH_MAX) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the upsert filter nests deeper than %d levels", ODM_UPD_DEPTH_MAX);
      return false;
   }
   if (!bson_iter_init (&it, filter)) {
      odm_set_error (error, ODM_ERROR_CORRUPT_BSON, NULL, "the upsert filter is not valid BSON");
      return false;
   }
   while (bson_iter_next (&it)) {
      const char *k = bson_iter_key (&it);
      if (k[0] == '$') {
         bson_iter_t arr, br;
         uint32_t branches = 0;
         bool is_and = !strcmp (k, "$and"), is_or = !strcmp (k, "$or");
         if (!strcmp (k, "$comment")) {
            continue;
         }
         if ((!is_and && !is_or) || !BSON_ITER_HOLDS_ARRAY (&it) || !bson_iter_recurse (&it, &arr)) {
            odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL,
                           "upsert: the document the server would insert cannot be predicted from %s", k);
            return false;
         }
         br = arr;
         while (bson_iter_next (&br)) {
            branches++;
         }
         if (is_or && branches != 1) {
            odm_set_error (error, ODM_ERROR_UNSUPPORTED, NULL,
                           "upsert: the document the server would insert cannot be predicted from $or with %u branches",
                           branches);
            return false;
         }
         while (bson_iter_next (&arr)) {
            bson_t sub;
            const uint8_t *data;
            uint32_t len;
            if (!BSON_ITER_HOLDS_DOCUMENT (&arr)) {
               odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s takes an array of documents", k);
               return false;
            }
            bson_iter_document (&arr, &len, &data);
            bson_init_static (&sub, data, len);
            if (!upsert_equalities (&sub, base, paths, depth + 1, error)) {
               return false;
            }
         }
         continue;
      }
      {
         const bson_value_t *val = bson_iter_value (&it);
         bson_value_t eqv;
         bool equality = true;
         if (BSON_ITER_HOLDS_DOCUMENT (&it)) {
            bson_iter_t sub;
            bson_iter_recurse (&it, &sub);
            if (bson_iter_next (&sub) && bson_iter_key (&sub)[0] == '$') {
               equality = false;
               bson_iter_recurse (&it, &sub);
               while (bson_iter_next (&sub)) {
                  const char *o = bson_iter_key (&sub);
                  if (!strcmp (o, "$eq")) {
                     eqv = *bson_iter_value (&sub);
                     val = &eqv;
                     equality = true;
                  } else if (!strcmp (o, "$in") || !strcmp (o, "$all")) {
                     odm_set_error (error, ODM_ERROR_UNSUPPORTED, k,
                                    "upsert: the document the server would insert cannot be predicted from %s", o);
                     return false;
                  }
               }
            }
         }
         if (!equality) {
            continue;
         }
         if (bson_has_field (paths, k)) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, k, "upsert: the filter sets this path twice");
            return false;
         }
         BSON_APPEND_BOOL (paths, k, true);
         {
            items_t one = {0};
            resolved_t r = {0};
            bson_t next;
            bson_error_t e;
            odm_upd_items_add (&one, OP_SET, k, val, &r);
            if (!odm_upd_apply_items (&one, base, true, 0, &next, &e)) {
               bson_free (one.v);
               odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, k, "upsert: the filter's equalities conflict");
               return false;
            }
            bson_free (one.v);
            bson_reinit (base);
            bson_concat (base, &next);
            bson_destroy (&next);
         }
      }
   }
   return true;
}

static bool
upsert_insert (upd_t *u, const bson_t *filter, bool *done)
{
   bson_t base = BSON_INITIALIZER, fixed = BSON_INITIALIZER, final, up = BSON_INITIALIZER, soi,
          uopts = BSON_INITIALIZER, reply;
   char **changed = NULL;
   size_t nchanged = 0;
   bool ok = false;

   *done = true;
   if (!upsert_equalities (filter, &base, &fixed, 0, u->error)) {
      goto out;
   }
   odm_violations_cleanup (u->v);
   odm_violations_init (u->v);
   if (!make_final (u, NULL, &base, &final, &changed, &nchanged)) {
      bson_destroy (&final);
      goto out;
   }
   if (!bson_has_field (&final, ODM_UPD_VERSION_KEY)) {
      BSON_APPEND_INT32 (&final, ODM_UPD_VERSION_KEY, 0);
   }
   /* Every field, the filter's equalities too: servers differ in which equalities they
    * copy (FerretDB v1 takes none from $and), and setting them again changes nothing. */
   BSON_APPEND_DOCUMENT_BEGIN (&up, "$setOnInsert", &soi);
   bson_concat (&soi, &final);
   bson_append_document_end (&up, &soi);
   if (u->opts && u->opts->mongoc_opts) {
      bson_copy_to_excluding_noinit (u->opts->mongoc_opts, &uopts, "upsert", NULL);
   }
   BSON_APPEND_BOOL (&uopts, "upsert", true);
   odm_session_append (u->opts ? u->opts->session : NULL, &uopts);
   ok = mongoc_collection_update_one (u->coll, filter, &up, &uopts, &reply, u->error);
   if (!ok) {
      odm_map_duplicate_doc (u->schema, u->error, u->v, u->coll, &final);
   } else {
      *done = reply_count (&reply, "upsertedCount") == 1;
      if (*done && u->result) {
         u->result->upserted = true;
      }
      if (*done) {
         odm_hooks_post_save_bson (u->schema, &final, false, u->now_ms);
      }
   }
   bson_destroy (&reply);
   bson_destroy (&final);
out:
   free_paths (changed, nchanged);
   bson_destroy (&up);
   bson_destroy (&uopts);
   bson_destroy (&base);
   bson_destroy (&fixed);
   return ok;
}

/* ------------------------------------------------------------- entry points */

static bool
start (upd_t *u, const odm_schema_t *schema, const bson_t *update, const odm_update_opts_t *opts,
       odm_violations_t *violations, odm_violations_t *local, bson_error_t *error)
{
   memset (u, 0, sizeof *u);
   u->v = violations ? violations : local;
   odm_violations_init (u->v);
   bson_init (&u->guards);
   u->error = error;
   if (!schema || schema->magic != ODM_SCHEMA_MAGIC) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "schema is NULL or not a libodm schema");
      return false;
   }
   u->schema = schema;
   u->update = update;
   u->opts = opts;
   u->result = opts ? opts->result : NULL;
   if (u->result) {
      memset (u->result, 0, sizeof *u->result);
   }
   u->now_ms = opts && opts->now_ms ? opts->now_ms : odm_now_ms ();
   u->updated_at = updated_at_field (schema);
   if (!odm_upd_check_update (schema, update, &u->items, u->v, error)) {
      return false;
   }
   if (u->v->count) {
      odm_violations_to_error (u->v, error);
      return false;
   }
   plan (u);
   if (u->direct) {
      probe_values (u);
      if (u->v->count) {
         odm_violations_to_error (u->v, error);
         return false;
      }
      bson_destroy (&u->guards);
      add_guards (u);
   }
   return true;
}

static void
finish (upd_t *u, odm_violations_t *local)
{
   bson_free (u->items.v);
   bson_destroy (&u->guards);
   if (u->v == local) {
      odm_violations_cleanup (local);
   }
}

bool
odm_update_plan (const odm_schema_t *schema, const bson_t *update, odm_update_path_t *path, const char **why,
                 odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   bool ok = start (&u, schema, update, NULL, violations, &local, error);
   if (path) {
      *path = ok ? (u.direct ? ODM_UPDATE_DIRECT : ODM_UPDATE_CHECKED) : ODM_UPDATE_REFUSED;
   }
   if (why) {
      *why = ok && !u.direct ? u.why : NULL;
   }
   finish (&u, &local);
   return ok;
}

bool
odm_update_apply (const odm_schema_t *schema, const bson_t *stored, const bson_t *update,
                  const odm_update_opts_t *opts_in, bson_t *out, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   bool ok = false;
   char **changed = NULL;
   size_t nchanged = 0;
   odm_update_opts_t o, *opts = &o;
   bson_error_t scratch;

   if (!error) {
      error = &scratch; /* the options' error is kept across start() below */
   }
   if (!out) {
      if (violations) {
         odm_violations_init (violations);
      }
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   bson_init (out);
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error)) {
      opts = NULL; /* start() fails below with the options error kept */
   }
   if (!opts || !start (&u, schema, update, opts, violations, &local, error)) {
      if (!opts) {
         bson_error_t keep = *error;
         memset (&u, 0, sizeof u);
         u.v = violations ? violations : &local;
         odm_violations_init (u.v);
         bson_init (&u.guards);
         *error = keep;
      }
      goto done;
   }
   if (!stored) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "the stored document is NULL");
      goto done;
   }
   if (!odm_bson_check (stored, error)) {
      goto done;
   }
   bson_destroy (out);
   ok = make_final (&u, stored, NULL, out, &changed, &nchanged);
   if (ok && !u.user_version) {
      /* the version increment the write would carry */
      bson_iter_t it;
      bson_t next = BSON_INITIALIZER;
      int64_t ver = bson_iter_init_find (&it, out, ODM_UPD_VERSION_KEY) && BSON_ITER_HOLDS_NUMBER (&it) ? bson_iter_as_int64 (&it) : 0;
      bson_copy_to_excluding_noinit (out, &next, ODM_UPD_VERSION_KEY, NULL);
      if (bson_has_field (out, ODM_UPD_VERSION_KEY)) {
         BSON_APPEND_INT64 (&next, ODM_UPD_VERSION_KEY, ver + 1);
      } else {
         BSON_APPEND_INT32 (&next, ODM_UPD_VERSION_KEY, 1);
      }
      bson_destroy (out);
      bson_steal (out, &next);
   }
   free_paths (changed, nchanged);
done:
   finish (&u, &local);
   return ok;
}

bool
odm_update (odm_client_t *client, const odm_schema_t *schema, const bson_t *filter, const bson_t *update,
            const odm_update_opts_t *opts_in, int64_t *matched, odm_violations_t *violations, bson_error_t *error)
{
   odm_violations_t local;
   upd_t u;
   mongoc_client_t *mc;
   int64_t n = 0;
   bool ok;
   bson_t empty = BSON_INITIALIZER;
   odm_update_opts_t o, *opts = &o;
   bool opts_ok = odm_opts_load (&o, sizeof o, opts_in, ODM_UPDATE_OPTS_MIN, "odm_update_opts_t", error);
   bool upsert = o.upsert, multi = o.multi;

   if (matched) {
      *matched = 0;
   }
   if (!client || !opts_ok) {
      memset (&u, 0, sizeof u);
      u.v = violations ? violations : &local;
      odm_violations_init (u.v);
      bson_init (&u.guards);
      if (!client && opts_ok) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client is NULL");
      }
      finish (&u, &local);
      return false;
   }
   if (!start (&u, schema, update, opts, violations, &local, error)) {
      finish (&u, &local);
      return false;
   }
   if (!filter) {
      filter = &empty;
   }
   if (opts && opts->checked_filter) {
      odm_violations_t fv;
      if (!odm_filter_check (schema, filter, &fv)) {
         size_t i;
         for (i = 0; i < fv.count; i++) {
            odm_violations_add (u.v, fv.items[i].path, fv.items[i].rule, fv.items[i].message);
         }
         odm_violations_to_error (&fv, error);
         odm_violations_cleanup (&fv);
         bson_destroy (&empty);
         finish (&u, &local);
         return false;
      }
      odm_violations_cleanup (&fv);
   }
   if (!odm_check_session (client, o.session, o.mongoc_opts, error)) {
      bson_destroy (&empty);
      finish (&u, &local);
      return false;
   }
   u.client = client;
   u.coll = odm_client_collection_for (client, o.session, schema, &mc);
   if (u.result) {
      u.result->path = u.direct ? ODM_UPDATE_DIRECT : ODM_UPDATE_CHECKED;
      u.result->why = u.direct ? NULL : u.why;
   }

   if (u.direct && !upsert && (!multi || bson_empty (&u.guards))) {
      /* One round trip; the server applies it atomically. */
      bool hit;
      if (u.result) {
         u.result->attempts = 1;
      }
      ok = direct_one (&u, filter, multi, &n, &hit);
      if (ok && !hit && !bson_empty (&u.guards)) {
         /* Nothing matched filter and guards: no document, or the update would break a
          * bound. The checked path tells which, and reports the rule. */
         if (u.result) {
            u.result->path = ODM_UPDATE_CHECKED;
            u.result->why = "the direct update's guard did not match";
         }
         ok = checked_one (&u, filter, &n);
      }
   } else if (multi) {
      /* Every matching _id first, then each one on its own. */
      bson_t fopts = BSON_INITIALIZER, proj;
      mongoc_cursor_t *cur;
      const bson_t *d;
      bson_value_t *ids = NULL;
      size_t count = 0, cap = 0, i;
      BSON_APPEND_DOCUMENT_BEGIN (&fopts, "projection", &proj);
      BSON_APPEND_INT32 (&proj, "_id", 1);
      bson_append_document_end (&fopts, &proj);
      odm_session_append (o.session, &fopts);
      cur = mongoc_collection_find_with_opts (u.coll, filter, &fopts, NULL);
      while (mongoc_cursor_next (cur, &d)) {
         bson_iter_t it;
         if (bson_iter_init_find (&it, d, "_id")) {
            if (count == cap) {
               cap = cap ? cap * 2 : 16;
               ids = bson_realloc (ids, cap * sizeof *ids);
            }
            bson_value_copy (bson_iter_value (&it), &ids[count++]);
         }
      }
      ok = !mongoc_cursor_error (cur, error);
      mongoc_cursor_destroy (cur);
      bson_destroy (&fopts);
      for (i = 0; ok && i < count; i++) {
         bson_t one = BSON_INITIALIZER, and, a1;
         bool hit = false;
         BSON_APPEND_ARRAY_BEGIN (&one, "$and", &and);
         BSON_APPEND_DOCUMENT (&and, "0", filter);
         BSON_APPEND_DOCUMENT_BEGIN (&and, "1", &a1);
         bson_append_value (&a1, "_id", 3, &ids[i]);
         bson_append_document_end (&and, &a1);
         bson_append_array_end (&one, &and);
         if (u.direct) {
            ok = direct_one (&u, &one, false, &n, &hit);
         }
         if (ok && !hit) {
            ok = checked_one (&u, &one, &n);
         }
         bson_destroy (&one);
      }
      if (ok && count == 0 && upsert) {
         ok = checked_one (&u, filter, &n);
      }
      for (i = 0; i < count; i++) {
         bson_value_destroy (&ids[i]);
      }
      bson_free (ids);
   } else {
      /* Upserts read first (the insert branch is validated as a create); others take the
       * checked path. */
      ok = checked_one (&u, filter, &n);
   }
   odm_client_release_for (client, o.session, u.coll, mc);
   if (matched) {
      *matched = n;
   }
   if (u.result) {
      u.result->matched = n;
   }
   bson_destroy (&empty);
   finish (&u, &local);
   return ok;
}
