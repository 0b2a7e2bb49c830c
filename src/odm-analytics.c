/* libodm: running the generated analytics: parameter substitution into the declared
 * pipeline, aggregation on the server (cursor, never the whole collection in the client
 * beyond the result rows), typed row decoding with the same codec as documents. */
#include "odm-private.h"

#include <string.h>

static const odm_param_t *
find_param (const odm_aggregation_t *agg, const char *name)
{
   uint32_t i;
   for (i = 0; i < agg->param_count; i++) {
      if (!strcmp (agg->params[i].name, name)) {
         return &agg->params[i];
      }
   }
   return NULL;
}

static const char *
period_format (const char *p)
{
   if (!p) {
      return NULL;
   }
   if (!strcmp (p, "day")) {
      return "%Y-%m-%d";
   }
   if (!strcmp (p, "week")) {
      return "%G-W%V";
   }
   if (!strcmp (p, "month")) {
      return "%Y-%m";
   }
   if (!strcmp (p, "year")) {
      return "%Y";
   }
   return NULL;
}

/* The value of parameter P from PARAMS (or its default) into V; false when unset. */
static bool
param_value (const odm_param_t *p, const void *params, bson_value_t *v, bson_error_t *error, bool *bad)
{
   uint8_t has = params ? *(const uint8_t *) ODM_AT_CONST (params, p->presence) : 0;
   const void *at = params ? ODM_AT_CONST (params, p->offset) : NULL;
   memset (v, 0, sizeof *v);
   if (has != ODM_PRESENT && !p->has_default) {
      return false;
   }
   switch (p->kind) {
   case ODM_KIND_STRING:
   case ODM_PARAM_PERIOD: {
      const char *s = has == ODM_PRESENT ? *(char *const *) at : p->dflt_string;
      if (!s) {
         return false;
      }
      if (p->kind == ODM_PARAM_PERIOD) {
         const char *f = period_format (s);
         if (!f) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "period must be day, week, month or year, not \"%s\"", s);
            *bad = true;
            return false;
         }
         s = f;
      }
      v->value_type = BSON_TYPE_UTF8;
      v->value.v_utf8.str = (char *) s;
      v->value.v_utf8.len = (uint32_t) strlen (s);
      return true;
   }
   case ODM_KIND_NUMBER: {
      double d = has == ODM_PRESENT ? *(const double *) at : p->dflt_number;
      if (d == (double) (int64_t) d && d > -9e15 && d < 9e15) {
         v->value_type = BSON_TYPE_INT64; /* $limit and $skip want integers */
         v->value.v_int64 = (int64_t) d;
      } else {
         v->value_type = BSON_TYPE_DOUBLE;
         v->value.v_double = d;
      }
      return true;
   }
   case ODM_KIND_BOOL:
      v->value_type = BSON_TYPE_BOOL;
      v->value.v_bool = has == ODM_PRESENT ? *(const bool *) at : p->dflt_number != 0;
      return true;
   case ODM_KIND_DATE:
      if (has != ODM_PRESENT) {
         return false;
      }
      v->value_type = BSON_TYPE_DATE_TIME;
      v->value.v_datetime = *(const int64_t *) at;
      return true;
   case ODM_KIND_OID:
      if (has != ODM_PRESENT) {
         return false;
      }
      v->value_type = BSON_TYPE_OID;
      bson_oid_copy ((const bson_oid_t *) at, &v->value.v_oid);
      return true;
   default:
      return false;
   }
}

typedef struct {
   const odm_aggregation_t *agg;
   const void *params;
   bson_error_t *error;
   bool bad;
} subst_t;

/* If IT holds {"$param": "name"}, returns the name. */
static const char *
slot_name (const bson_iter_t *it)
{
   bson_iter_t sub;
   if (!BSON_ITER_HOLDS_DOCUMENT (it) || !bson_iter_recurse (it, &sub) || !bson_iter_next (&sub) ||
       strcmp (bson_iter_key (&sub), "$param") != 0 || !BSON_ITER_HOLDS_UTF8 (&sub)) {
      return NULL;
   }
   {
      const char *name = bson_iter_utf8 (&sub, NULL);
      return bson_iter_next (&sub) ? NULL : name;
   }
}

/* Copies SRC into DST with slots filled. Returns whether any slot was dropped below. */
static bool
subst (subst_t *s, const bson_t *src, bson_t *dst, bool array)
{
   bson_iter_t it;
   bool dropped = false;
   uint32_t k = 0;
   bson_iter_init (&it, src);
   while (bson_iter_next (&it)) {
      const char *slot = slot_name (&it);
      char key[16];
      const char *out_key = bson_iter_key (&it);
      if (array) {
         bson_snprintf (key, sizeof key, "%u", k);
         out_key = key;
      }
      if (slot) {
         const odm_param_t *p = find_param (s->agg, slot);
         bson_value_t v;
         if (!p) {
            odm_set_error (s->error, ODM_ERROR_INVALID_ARGUMENT, slot, "the pipeline names an undeclared parameter");
            s->bad = true;
            return true;
         }
         if (param_value (p, s->params, &v, s->error, &s->bad)) {
            bson_append_value (dst, out_key, -1, &v);
            k++;
         } else {
            if (p->required && !s->bad) {
               odm_set_error (s->error, ODM_ERROR_INVALID_ARGUMENT, p->name, "required parameter is not set");
               s->bad = true;
            }
            dropped = true;
         }
         continue;
      }
      if (BSON_ITER_HOLDS_DOCUMENT (&it) || BSON_ITER_HOLDS_ARRAY (&it)) {
         const uint8_t *data;
         uint32_t len;
         bson_t sub, child;
         bool is_arr = BSON_ITER_HOLDS_ARRAY (&it), sub_dropped;
         if (is_arr) {
            bson_iter_array (&it, &len, &data);
         } else {
            bson_iter_document (&it, &len, &data);
         }
         bson_init_static (&sub, data, len);
         bson_init (&child);
         sub_dropped = subst (s, &sub, &child, is_arr);
         if (sub_dropped && bson_empty (&child) && !bson_empty (&sub)) {
            /* {"$gte": <unset>} and friends disappear with their slot. */
            dropped = true;
         } else {
            if (is_arr) {
               bson_append_array (dst, out_key, -1, &child);
            } else {
               bson_append_document (dst, out_key, -1, &child);
            }
            k++;
         }
         bson_destroy (&child);
         continue;
      }
      bson_append_iter (dst, out_key, -1, &it);
      k++;
   }
   return dropped;
}

bool
odm_aggregation_pipeline (const odm_aggregation_t *agg, const void *params, bson_t *out, bson_error_t *error)
{
   bson_t *tmpl;
   bson_t stages;
   subst_t s;
   bson_iter_t it;
   uint32_t k = 0;

   bson_init (out);
   if (!agg) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "aggregation is NULL");
      return false;
   }
   /* The pipeline is stored as {"pipeline": [...]} JSON. */
   tmpl = bson_new_from_json ((const uint8_t *) agg->pipeline_json, -1, error);
   if (!tmpl) {
      return false;
   }
   s.agg = agg;
   s.params = params;
   s.error = error;
   s.bad = false;
   bson_init (&stages);
   if (bson_iter_init_find (&it, tmpl, "pipeline") && BSON_ITER_HOLDS_ARRAY (&it)) {
      bson_iter_t st;
      bson_iter_recurse (&it, &st);
      /* Stage by stage: a stage whose operand vanished (e.g. $limit of an unset limit) goes. */
      while (bson_iter_next (&st)) {
         const uint8_t *data;
         uint32_t len;
         bson_t stage, filled;
         char key[16];
         if (!BSON_ITER_HOLDS_DOCUMENT (&st)) {
            continue;
         }
         bson_iter_document (&st, &len, &data);
         bson_init_static (&stage, data, len);
         bson_init (&filled);
         subst (&s, &stage, &filled, false);
         if (!bson_empty (&filled)) {
            bson_snprintf (key, sizeof key, "%u", k++);
            bson_append_document (&stages, key, -1, &filled);
         }
         bson_destroy (&filled);
      }
   }
   bson_destroy (tmpl);
   if (s.bad) {
      bson_destroy (&stages);
      return false;
   }
   bson_append_array (out, "pipeline", 8, &stages);
   bson_destroy (&stages);
   return true;
}

void
odm_rows_free (const odm_aggregation_t *agg, void *rows, size_t n)
{
   size_t i;
   if (!agg || !rows) {
      return;
   }
   for (i = 0; i < n; i++) {
      odm_cleanup_desc (agg->row, (char *) rows + i * agg->row->size);
   }
   bson_free (rows);
}

bool
odm_aggregate (odm_client_t *client, const odm_schema_t *schema, const odm_aggregation_t *agg, const void *params,
               void **rows, size_t *n, bson_error_t *error)
{
   bson_t pipeline, opts = BSON_INITIALIZER;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   mongoc_cursor_t *cur;
   const bson_t *d;
   size_t count = 0, cap = 0;
   char *items = NULL;
   bool ok = true;

   *rows = NULL;
   *n = 0;
   if (!client || !schema || !agg) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client, schema or aggregation is NULL");
      return false;
   }
   if (!odm_aggregation_pipeline (agg, params, &pipeline, error)) {
      bson_destroy (&pipeline);
      return false;
   }
   coll = odm_client_collection (client, schema, &mc);
   cur = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, &pipeline, &opts, NULL);
   while (ok && mongoc_cursor_next (cur, &d)) {
      if (count == cap) {
         cap = cap ? cap * 2 : 16;
         items = bson_realloc (items, cap * agg->row->size);
      }
      if (!odm_decode_desc (agg->row, d, items + count * agg->row->size, ODM_DECODE_DEFAULT, error)) {
         ok = false;
         break;
      }
      count++;
   }
   if (ok && mongoc_cursor_error (cur, error)) {
      ok = false;
   }
   mongoc_cursor_destroy (cur);
   odm_client_release (client, coll, mc);
   bson_destroy (&pipeline);
   bson_destroy (&opts);
   if (!ok) {
      odm_rows_free (agg, items, count);
      return false;
   }
   *rows = items;
   *n = count;
   return true;
}

const odm_aggregation_t *
odm_aggregation_find (const odm_schema_t *schema, const char *name)
{
   uint32_t i;
   if (!schema || !name) {
      return NULL;
   }
   for (i = 0; i < schema->analytics_count; i++) {
      if (!strcmp (schema->analytics[i]->c_name, name) || !strcmp (schema->analytics[i]->name, name)) {
         return schema->analytics[i];
      }
   }
   return NULL;
}

bool
odm_row_to_bson (const odm_aggregation_t *agg, const void *row, bson_t *out)
{
   bson_init (out);
   return agg && row && odm_encode_desc (agg->row, row, out);
}
