/* libodm: running the generated analytics: parameter substitution into the declared
 * pipeline, aggregation on the server (cursor, never the whole collection in the client
 * beyond the result rows), typed row decoding with the same codec as documents. */
#include "odm-private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
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

/* JavaScript's Date range, which the platform's services read: +/-8.64e15 ms. */
#define ODM_JS_DATE_MAX INT64_C (8640000000000000)
/* The largest whole number a double holds exactly: the bound of an integer parameter. */
#define ODM_PARAM_INT_MAX 9007199254740991.0

/* Whether parameter NAME of AGG is the operand of a $limit or $skip stage (MongoDB takes
 * a positive integer there, $skip a non-negative one): 1 for $limit, 2 for $skip. */
static int
count_stage_of (const odm_aggregation_t *agg, const char *name)
{
   static const char *const ops[] = {"$limit", "$skip"};
   const char *p = agg->pipeline_json;
   int k;
   for (k = 0; k < 2; k++) {
      /* The template is canonical Extended JSON written by odmgen: "$limit" : { "$param" : "x" } */
      char *needle = bson_strdup_printf ("\"%s\" : { \"$param\" : \"%s\" }", ops[k], name);
      bool found = strstr (p, needle) != NULL;
      bson_free (needle);
      if (found) {
         return k + 1;
      }
   }
   return 0;
}

/* Up to 40 bytes of S for a message, never cut inside a UTF-8 character, with control
 * and invalid bytes shown as '?'. */
static void
shown (const char *s, char *buf, size_t size)
{
   size_t i = 0, o = 0, max = size - 4 < 40 ? size - 4 : 40;
   while (s[i]) {
      unsigned char c = (unsigned char) s[i];
      size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      size_t j;
      bool ok = len > 0 && bson_utf8_validate (s + i, len, false);
      for (j = 1; ok && j < len; j++) {
         ok = s[i + j] != '\0';
      }
      if (!ok) {
         len = 1;
      }
      if (o + (ok ? len : 1) > max) {
         memcpy (buf + o, "...", 3);
         o += 3;
         break;
      }
      if (!ok || c < 0x20 || c == 0x7f) {
         buf[o++] = '?';
      } else {
         memcpy (buf + o, s + i, len);
         o += len;
      }
      i += len;
   }
   buf[o] = '\0';
}

/* Checks a number parameter's value: finite everywhere, a whole number from 1 as the
 * operand of $limit (MongoDB refuses $limit: 0 and negative ones), from 0 for $skip. */
static bool
check_number (const odm_aggregation_t *agg, const odm_param_t *p, double d, bson_error_t *error)
{
   char num[32];
   int stage = count_stage_of (agg, p->name);
   odm_format_number (d, num, sizeof num);
   if (d != d || d == HUGE_VAL || d == -HUGE_VAL) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be a finite number%s, not %s",
                     stage == 1   ? " (a whole number from 1 to 9007199254740991)"
                     : stage == 2 ? " (a whole number from 0 to 9007199254740991)"
                                  : "",
                     num);
      return false;
   }
   if (stage && (d != floor (d) || d < (stage == 1 ? 1.0 : 0.0) || d > ODM_PARAM_INT_MAX)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name,
                     "must be a whole number from %d to 9007199254740991 (the %s stage's operand), not %s",
                     stage == 1 ? 1 : 0, stage == 1 ? "$limit" : "$skip", num);
      return false;
   }
   return true;
}

static bool
check_date (const odm_param_t *p, int64_t ms, bson_error_t *error)
{
   if (ms < -ODM_JS_DATE_MAX || ms > ODM_JS_DATE_MAX) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name,
                     "must be a date within JavaScript's range (+/-8640000000000000 ms from 1970), not %" PRId64 " ms",
                     ms);
      return false;
   }
   return true;
}

/* The value of parameter P from PARAMS (or its default) into V; false when unset, or
 * when the value is out of range (then *BAD is set and ERROR says why). */
static bool
param_value (const odm_aggregation_t *agg, const odm_param_t *p, const void *params, bson_value_t *v,
             bson_error_t *error, bool *bad)
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
         if (has == ODM_PRESENT) {
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "is set (has_%s) but the string is NULL", p->name);
            *bad = true;
         }
         return false;
      }
      if (!bson_utf8_validate (s, strlen (s), false)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be valid UTF-8");
         *bad = true;
         return false;
      }
      if (p->kind == ODM_PARAM_PERIOD) {
         const char *f = period_format (s);
         if (!f) {
            char q[48];
            shown (s, q, sizeof q);
            odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "period must be day, week, month or year, not \"%s\"", q);
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
      if (!check_number (agg, p, d, error)) {
         *bad = true;
         return false;
      }
      if (d == floor (d) && d >= -ODM_PARAM_INT_MAX && d <= ODM_PARAM_INT_MAX) {
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
      if (!check_date (p, *(const int64_t *) at, error)) {
         *bad = true;
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

/* ------------------------------------------------------------ parameters from text */

static bool
digits (const char **s, int n, int *out)
{
   int i, v = 0;
   for (i = 0; i < n; i++) {
      if ((*s)[i] < '0' || (*s)[i] > '9') {
         return false;
      }
      v = v * 10 + ((*s)[i] - '0');
   }
   *s += n;
   *out = v;
   return true;
}

/* Days from 1970-01-01 to Y-M-D of the proleptic Gregorian calendar. */
static int64_t
days_from_civil (int64_t y, int m, int d)
{
   int64_t era, yoe, doy, doe;
   y -= m <= 2;
   era = (y >= 0 ? y : y - 399) / 400;
   yoe = y - era * 400;
   doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
   doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
   return era * 146097 + doe - 719468;
}

bool
odm_parse_date (const char *text, int64_t *ms)
{
   const char *s = text;
   int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, sign = 0;
   static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
   int64_t t;
   if (!text || !*text || !ms) {
      return false;
   }
   /* milliseconds since the epoch: an optional sign and digits only */
   {
      const char *q = s + (*s == '-' || *s == '+');
      bool all = *q != '\0';
      for (; *q; q++) {
         all = all && *q >= '0' && *q <= '9';
      }
      if (all) {
         char *end;
         long long v;
         errno = 0;
         v = strtoll (s, &end, 10);
         if (errno || *end || v < -ODM_JS_DATE_MAX || v > ODM_JS_DATE_MAX) {
            return false;
         }
         *ms = v;
         return true;
      }
   }
   if (!digits (&s, 4, &y) || *s++ != '-' || !digits (&s, 2, &mo) || *s++ != '-' || !digits (&s, 2, &d)) {
      return false;
   }
   if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
       (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))) {
      return false;
   }
   if (*s == 'T' || *s == 't' || *s == ' ') {
      s++;
      if (!digits (&s, 2, &h) || *s++ != ':' || !digits (&s, 2, &mi)) {
         return false;
      }
      if (*s == ':') {
         s++;
         if (!digits (&s, 2, &sec)) {
            return false;
         }
         if (*s == '.') {
            int n = 0;
            s++;
            while (*s >= '0' && *s <= '9') {
               if (n < 3) {
                  frac = frac * 10 + (*s - '0');
               }
               n++;
               s++;
            }
            if (n == 0 || n > 9) {
               return false;
            }
            for (; n < 3; n++) {
               frac *= 10;
            }
         }
      }
      if (h > 23 || mi > 59 || sec > 59) {
         return false;
      }
      if (*s == 'Z' || *s == 'z') {
         s++;
      } else if (*s == '+' || *s == '-') {
         sign = *s++ == '-' ? -1 : 1;
         if (!digits (&s, 2, &oh)) {
            return false;
         }
         if (*s == ':') {
            s++;
         }
         if (*s && !digits (&s, 2, &om)) {
            return false;
         }
         if (oh > 23 || om > 59) {
            return false;
         }
      }
   }
   if (*s) {
      return false;
   }
   t = days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t) sign * (oh * 3600 + om * 60);
   t = t * 1000 + frac;
   if (t < -ODM_JS_DATE_MAX || t > ODM_JS_DATE_MAX) {
      return false;
   }
   *ms = t;
   return true;
}

const odm_param_t *
odm_param_find (const odm_aggregation_t *agg, const char *name)
{
   return agg && name ? find_param (agg, name) : NULL;
}

bool
odm_param_parse (const odm_aggregation_t *agg, void *params, const char *name, const char *text, bson_error_t *error)
{
   const odm_param_t *p;
   void *at;
   char q[48];
   if (!agg || !params || !name || !text) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "aggregation, params, name or text is NULL");
      return false;
   }
   if (!(p = find_param (agg, name))) {
      char list[256] = "";
      uint32_t i;
      size_t len = 0;
      for (i = 0; i < agg->param_count && len + strlen (agg->params[i].name) + 3 < sizeof list; i++) {
         len += (size_t) bson_snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "", agg->params[i].name);
      }
      shown (name, q, sizeof q);
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "%s has no parameter \"%s\" (%s%s)", agg->c_name, q,
                     agg->param_count ? "parameters: " : "it takes none", list);
      return false;
   }
   at = ODM_AT (params, p->offset);
   shown (text, q, sizeof q);
   switch (p->kind) {
   case ODM_KIND_STRING:
      if (!bson_utf8_validate (text, strlen (text), false)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be valid UTF-8");
         return false;
      }
      *(const char **) at = text;
      break;
   case ODM_PARAM_PERIOD:
      if (!period_format (text)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be day, week, month or year, not \"%s\"", q);
         return false;
      }
      *(const char **) at = text;
      break;
   case ODM_KIND_NUMBER: {
      char *end;
      double d;
      const char *t = text;
      while (*t == ' ') {
         t++;
      }
      d = strtod (text, &end);
      if (!*t || *end || end == text) {
         int stage = count_stage_of (agg, p->name);
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be %s, not \"%s\"",
                        stage == 1   ? "a whole number from 1 to 9007199254740991"
                        : stage == 2 ? "a whole number from 0 to 9007199254740991"
                                     : "a finite number (e.g. 3 or 2.5)",
                        q);
         return false;
      }
      if (!check_number (agg, p, d, error)) {
         return false;
      }
      *(double *) at = d;
      break;
   }
   case ODM_KIND_BOOL:
      if (strcmp (text, "true") && strcmp (text, "false")) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be true or false, not \"%s\"", q);
         return false;
      }
      *(bool *) at = !strcmp (text, "true");
      break;
   case ODM_KIND_DATE: {
      int64_t ms;
      if (!odm_parse_date (text, &ms)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name,
                        "must be a date: milliseconds since 1970-01-01T00:00:00Z, or ISO 8601 as 2024-03-01, "
                        "2024-03-01T12:30[:00[.000]] with Z, +01:00 or -0500 (no offset: UTC), within +/-8.64e15 ms; "
                        "not \"%s\"",
                        q);
         return false;
      }
      *(int64_t *) at = ms;
      break;
   }
   case ODM_KIND_OID:
      if (strlen (text) != 24 || !bson_oid_is_valid (text, 24)) {
         odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "must be an ObjectId of 24 hex digits, not \"%s\"", q);
         return false;
      }
      bson_oid_init_from_string ((bson_oid_t *) at, text);
      break;
   default:
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, p->name, "has a kind libodm cannot set from text");
      return false;
   }
   *(uint8_t *) ODM_AT (params, p->presence) = ODM_PRESENT;
   return true;
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
         if (param_value (s->agg, p, s->params, &v, s->error, &s->bad)) {
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
   bson_t *tmpl, tmpl_storage;
   bson_t stages;
   subst_t s;
   bson_iter_t it;
   uint32_t k = 0;

   if (!out) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "out is NULL");
      return false;
   }
   bson_init (out);
   if (!agg) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "aggregation is NULL");
      return false;
   }
   /* The pipeline is stored as {"pipeline": [...]} BSON, read in place. */
   if (!odm_aggregation_template (agg, &tmpl_storage)) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "aggregation %s has no pipeline (generated by an older odmgen?)",
                     agg->c_name ? agg->c_name : "?");
      return false;
   }
   tmpl = &tmpl_storage;
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
   return odm_aggregate_with_opts (client, schema, agg, params, NULL, rows, n, error);
}

bool
odm_aggregate_with_opts (odm_client_t *client, const odm_schema_t *schema, const odm_aggregation_t *agg,
                         const void *params, const odm_aggregate_opts_t *opts_in, void **rows, size_t *n,
                         bson_error_t *error)
{
   bson_t pipeline, opts = BSON_INITIALIZER;
   odm_aggregate_opts_t o;
   mongoc_client_t *mc;
   mongoc_collection_t *coll;
   mongoc_cursor_t *cur;
   const bson_t *d;
   size_t count = 0, cap = 0;
   char *items = NULL;
   bool ok = true;

   if (!rows || !n) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "rows or n is NULL");
      return false;
   }
   *rows = NULL;
   *n = 0;
   if (!client || !schema || !agg) {
      odm_set_error (error, ODM_ERROR_INVALID_ARGUMENT, NULL, "client, schema or aggregation is NULL");
      return false;
   }
   if (!odm_opts_load (&o, sizeof o, opts_in, ODM_AGGREGATE_OPTS_MIN, "odm_aggregate_opts_t", error)) {
      return false;
   }
   if (!odm_check_session (client, o.session, o.mongoc_opts, error)) {
      return false;
   }
   if (o.mongoc_opts) {
      bson_concat (&opts, o.mongoc_opts);
   }
   odm_session_append (o.session, &opts);
   if (!odm_aggregation_pipeline (agg, params, &pipeline, error)) {
      bson_destroy (&opts);
      bson_destroy (&pipeline);
      return false;
   }
   coll = odm_client_collection_for (client, o.session, schema, &mc);
   cur = mongoc_collection_aggregate (coll, MONGOC_QUERY_NONE, &pipeline, &opts, o.read_prefs);
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
   odm_client_release_for (client, o.session, coll, mc);
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
   if (!out) {
      return false;
   }
   bson_init (out);
   return agg && row && odm_encode_desc (agg->row, row, out);
}
