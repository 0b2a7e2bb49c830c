#include "harness.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
odm_ax_rng_seed (odm_ax_rng_t *r, uint64_t seed)
{
   r->state = seed * 0x9E3779B97F4A7C15ull + 1;
}

uint32_t
odm_ax_rng_next (odm_ax_rng_t *r)
{
   r->state ^= r->state << 13;
   r->state ^= r->state >> 7;
   r->state ^= r->state << 17;
   return (uint32_t) (r->state >> 11);
}

int64_t
odm_ax_rng_range (odm_ax_rng_t *r, int64_t lo, int64_t hi)
{
   return lo + (int64_t) (odm_ax_rng_next (r) % (uint64_t) (hi - lo + 1));
}

void
odm_ax_oid (bson_oid_t *oid, uint32_t n)
{
   char hex[25];
   snprintf (hex, sizeof hex, "64b0%020u", n);
   bson_oid_init_from_string (oid, hex);
}

void
odm_ax_append_row (bson_t *rows, const bson_t *row)
{
   char key[16];
   snprintf (key, sizeof key, "%u", bson_count_keys (rows));
   bson_append_document (rows, key, -1, row);
}

int
odm_ax_cmp_double_desc (double a, double b)
{
   return a > b ? -1 : a < b ? 1 : 0;
}

int
odm_ax_cmp_oid (const bson_oid_t *a, const bson_oid_t *b)
{
   return bson_oid_compare (a, b);
}

void
odm_ax_sort (void *base, size_t n, size_t size, int (*cmp) (const void *, const void *))
{
   /* insertion sort: stable, and the data sets are small */
   char *b = base, *tmp = malloc (size);
   size_t i, j;
   for (i = 1; i < n; i++) {
      memcpy (tmp, b + i * size, size);
      for (j = i; j > 0 && cmp (b + (j - 1) * size, tmp) > 0; j--) {
         memcpy (b + j * size, b + (j - 1) * size, size);
      }
      memcpy (b + j * size, tmp, size);
   }
   free (tmp);
}

bool
odm_ax_in_window (int64_t t, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return (!has_from || t >= from) && (!has_to || t < to);
}

bool
odm_ax_within_limit (size_t i, uint8_t has_limit, double limit)
{
   return !has_limit || i < (size_t) limit;
}

bool
odm_ax_str_ok (uint8_t has, const char *want, const char *v)
{
   return !has || !strcmp (want, v);
}

bool
odm_ax_oid_ok (uint8_t has, const bson_oid_t *want, const bson_oid_t *v)
{
   return !has || bson_oid_equal (want, v);
}

void
odm_ax_set_string (char **field, const char *value)
{
   bson_free (*field);
   *field = bson_strdup (value);
}

void
odm_ax_unset_string (char **field, uint8_t *has, uint8_t state)
{
   bson_free (*field);
   *field = NULL;
   *has = state;
}

void
odm_ax_period (int64_t ms, const char *period, char *buf, size_t size)
{
   time_t t = (time_t) (ms / 1000);
   struct tm tm;
   gmtime_r (&t, &tm);
   if (!strcmp (period, "day")) {
      strftime (buf, size, "%Y-%m-%d", &tm);
   } else if (!strcmp (period, "week")) {
      strftime (buf, size, "%G-W%V", &tm);
   } else if (!strcmp (period, "year")) {
      strftime (buf, size, "%Y", &tm);
   } else {
      strftime (buf, size, "%Y-%m", &tm);
   }
}

static bool
is_num (const bson_iter_t *it)
{
   return BSON_ITER_HOLDS_DOUBLE (it) || BSON_ITER_HOLDS_INT32 (it) || BSON_ITER_HOLDS_INT64 (it);
}

/* Compares one expected row with the actual one: same keys (any order), numbers within
 * 1e-9 relative, everything else equal. Returns a description of the first difference. */
static bool
same_row (const bson_t *want, const bson_t *got, char *why, size_t size)
{
   bson_iter_t w, g;
   if (bson_count_keys (want) != bson_count_keys (got)) {
      snprintf (why, size, "%u fields expected, %u got", bson_count_keys (want), bson_count_keys (got));
      return false;
   }
   bson_iter_init (&w, want);
   while (bson_iter_next (&w)) {
      const char *k = bson_iter_key (&w);
      if (!bson_iter_init_find (&g, got, k)) {
         snprintf (why, size, "field %s missing", k);
         return false;
      }
      if (is_num (&w) && is_num (&g)) {
         double a = bson_iter_as_double (&w), b = bson_iter_as_double (&g);
         if (fabs (a - b) > 1e-9 * fmax (1.0, fmax (fabs (a), fabs (b)))) {
            snprintf (why, size, "%s: expected %.17g, got %.17g", k, a, b);
            return false;
         }
      } else if (BSON_ITER_HOLDS_DOCUMENT (&w) && BSON_ITER_HOLDS_DOCUMENT (&g)) {
         bson_t a, b;
         const uint8_t *d;
         uint32_t l;
         bson_iter_document (&w, &l, &d);
         bson_init_static (&a, d, l);
         bson_iter_document (&g, &l, &d);
         bson_init_static (&b, d, l);
         if (!same_row (&a, &b, why, size)) {
            return false;
         }
      } else {
         bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
         bool eq;
         bson_append_iter (&a, "v", 1, &w);
         bson_append_iter (&b, "v", 1, &g);
         eq = bson_equal (&a, &b);
         bson_destroy (&a);
         bson_destroy (&b);
         if (!eq) {
            snprintf (why, size, "field %s differs", k);
            return false;
         }
      }
   }
   return true;
}

static void
shorten (char *json, size_t max)
{
   size_t len = strlen (json);
   if (len > max) {
      while (max > 0 && ((unsigned char) json[max] & 0xC0) == 0x80) {
         max--;
      }
      memcpy (json + max - 3, "...", 4);
   }
}

void
odm_ax_run_case (odm_client_t *client, const odm_analytics_module_t *m, const odm_ax_case_t *c)
{
   void *rows = NULL;
   size_t n = 0, i;
   bson_error_t err;
   bson_t want = BSON_INITIALIZER, got = BSON_INITIALIZER;
   bson_iter_t wi;
   char *wj, *gj;

   ck_assert_msg (odm_aggregate (client, m->schema, c->agg, c->params, &rows, &n, &err), "%s %s: %s",
                  c->agg->c_name, c->label, err.message);
   c->expect (c->params, &want);
   for (i = 0; i < n; i++) {
      bson_t row;
      const odm_field_t *id = NULL;
      uint32_t f;
      for (f = 0; f < c->agg->row->field_count && !id; f++) {
         id = strcmp (c->agg->row->fields[f].name, "_id") ? NULL : &c->agg->row->fields[f];
      }
      if (id) {
         /* A null group key is a row with has__id == ODM_NULL (never a zeroed owner that
          * reads as present); the comparison below checks which rows have one. */
         uint8_t st = odm_field_state (id, (char *) rows + i * c->agg->row->size);
         bson_iter_t w;
         char key[24];
         snprintf (key, sizeof key, "%zu", i);
         if (bson_iter_init_find (&w, &want, key) && BSON_ITER_HOLDS_DOCUMENT (&w) && bson_iter_recurse (&w, &w) &&
             bson_iter_find (&w, "_id")) {
            ck_assert_msg (st == (BSON_ITER_HOLDS_NULL (&w) ? ODM_NULL : ODM_PRESENT),
                           "%s %s: row %zu: has__id is %u, expected %s", c->agg->c_name, c->label, i, st,
                           BSON_ITER_HOLDS_NULL (&w) ? "ODM_NULL" : "ODM_PRESENT");
         }
      }
      ck_assert (odm_row_to_bson (c->agg, (char *) rows + i * c->agg->row->size, &row));
      odm_ax_append_row (&got, &row);
      bson_destroy (&row);
   }
   odm_rows_free (c->agg, rows, n);
   wj = bson_as_relaxed_extended_json (&want, NULL);
   gj = bson_as_relaxed_extended_json (&got, NULL);
   /* check's messages have a size limit: show the start of each (cut at a character). */
   shorten (wj, 1500);
   shorten (gj, 1500);
   ck_assert_msg (c->expect_none || bson_count_keys (&want) > 0,
                  "%s.%s %s: the expectation is no rows, but the case does not say so (ODM_AX_NO_ROWS): "
                  "a case that selects nothing verifies nothing",
                  m->schema->collection, c->agg->c_name, c->label);
   ck_assert_msg (!c->expect_none || bson_count_keys (&want) == 0,
                  "%s.%s %s: declared ODM_AX_NO_ROWS, but the expectation has %u rows", m->schema->collection,
                  c->agg->c_name, c->label, bson_count_keys (&want));
   ck_assert_msg (bson_count_keys (&want) == n, "%s.%s %s: %u rows expected, %zu got\n want %s\n  got %s",
                  m->schema->collection, c->agg->c_name, c->label, bson_count_keys (&want), n, wj, gj);
   bson_iter_init (&wi, &want);
   for (i = 0; bson_iter_next (&wi); i++) {
      bson_iter_t gi;
      bson_t a, b;
      const uint8_t *d;
      uint32_t l;
      char why[256], key[16];
      snprintf (key, sizeof key, "%zu", i);
      ck_assert (bson_iter_init_find (&gi, &got, key));
      bson_iter_document (&wi, &l, &d);
      bson_init_static (&a, d, l);
      bson_iter_document (&gi, &l, &d);
      bson_init_static (&b, d, l);
      ck_assert_msg (same_row (&a, &b, why, sizeof why), "%s.%s %s: row %zu: %s\n want %s\n  got %s",
                     m->schema->collection, c->agg->c_name, c->label, i, why, wj, gj);
   }
   bson_free (wj);
   bson_free (gj);
   bson_destroy (&want);
   bson_destroy (&got);
}

void
odm_ax_oid_set_add (bson_oid_t *set, size_t *n, const bson_oid_t *oid)
{
   size_t k;
   for (k = 0; k < *n; k++) {
      if (bson_oid_equal (&set[k], oid)) {
         return;
      }
   }
   bson_oid_copy (oid, &set[(*n)++]);
}

void
odm_ax_str_set_add (const char **set, size_t *n, const char *s)
{
   size_t k;
   for (k = 0; k < *n; k++) {
      if (!strcmp (set[k], s)) {
         return;
      }
   }
   set[(*n)++] = s;
}

bool
odm_ax_first_of (char *const *items, size_t k)
{
   size_t j;
   for (j = 0; j < k && strcmp (items[j], items[k]); j++) {
   }
   return j == k;
}

void
odm_ax_acc_add (odm_ax_acc_t *a, double v)
{
   a->min = !a->n || v < a->min ? v : a->min;
   a->max = !a->n || v > a->max ? v : a->max;
   a->n++;
   a->sum += v;
}

void
odm_ax_append_avg (bson_t *row, const char *key, const odm_ax_acc_t *a)
{
   odm_ax_append_num_or_null (row, key, a->n > 0, a->n > 0 ? a->sum / a->n : 0);
}

void
odm_ax_append_num_or_null (bson_t *row, const char *key, bool has, double v)
{
   if (has) {
      BSON_APPEND_DOUBLE (row, key, v);
   } else {
      BSON_APPEND_NULL (row, key);
   }
}

static bool
same_part (bool null_a, const char *a, bool null_b, const char *b)
{
   return null_a || null_b ? null_a == null_b : !strcmp (a, b);
}

static int
cmp_part (bool null_a, const char *a, bool null_b, const char *b)
{
   return null_a || null_b ? (int) null_b - (int) null_a : strcmp (a, b);
}

static void
set_part (char *part, size_t size, bool *null, const char *s)
{
   /* a longer key would be cut, and two keys could become one */
   ck_assert_msg (!s || strlen (s) < size, "group key too long: %s", s);
   *null = !s;
   bson_strncpy (part, s ? s : "", size);
}

void *
odm_ax_group_for (void *groups, size_t *n, size_t size, const void *blank, const bson_oid_t *oid, const char *s,
                  const char *s2)
{
   odm_ax_key_t want;
   char *g = groups;
   size_t i;
   memset (&want, 0, sizeof want);
   if (oid) {
      bson_oid_copy (oid, &want.oid);
   }
   set_part (want.s, sizeof want.s, &want.null, s);
   set_part (want.s2, sizeof want.s2, &want.null2, s2);
   for (i = 0; i < *n; i++) {
      const odm_ax_key_t *k = (const odm_ax_key_t *) (g + i * size);
      if (bson_oid_equal (&k->oid, &want.oid) && same_part (k->null, k->s, want.null, want.s) &&
          same_part (k->null2, k->s2, want.null2, want.s2)) {
         return g + i * size;
      }
   }
   g += (*n)++ * size;
   if (blank) {
      memcpy (g, blank, size);
   } else {
      memset (g, 0, size);
   }
   memcpy (g, &want, sizeof want);
   return g;
}

int
odm_ax_key_cmp (const odm_ax_key_t *a, const odm_ax_key_t *b)
{
   int c = bson_oid_compare (&a->oid, &b->oid);
   c = c ? c : cmp_part (a->null, a->s, b->null, b->s);
   return c ? c : cmp_part (a->null2, a->s2, b->null2, b->s2);
}

int
odm_ax_by_key (const void *a, const void *b)
{
   return odm_ax_key_cmp (a, b);
}

void
odm_ax_append_str_or_null (bson_t *doc, const char *name, bool null, const char *s)
{
   if (null) {
      BSON_APPEND_NULL (doc, name);
   } else {
      BSON_APPEND_UTF8 (doc, name, s);
   }
}
