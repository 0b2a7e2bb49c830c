/* libodm: the seed's named analytics as typed, parameterised aggregation pipelines.
 * Include <odm/odm.h>, not this file.
 *
 * Each analytic is declared in its collection's spec (MongoDB's aggregation language with
 * {"$param": "name"} slots, see docs/spec-format.md); odmgen generates a params struct, a
 * row struct and a typed function:
 *
 *   odm_chat_feedback_agent_performance_params_t p = {0};
 *   odm_chat_feedback_agent_performance_row_t *rows;
 *   size_t n;
 *   if (odm_chat_feedback_agent_performance (client, &p, &rows, &n, &error)) { ...;
 *      odm_chat_feedback_agent_performance_rows_free (rows, n); }
 *
 * A parameter that is not set (has_<name> == 0, no default) removes what uses it: the
 * key holding the slot, and the operator object or stage that becomes empty. */
#if !defined(ODM_INSIDE) && !defined(ODM_COMPILATION)
#error "Only <odm/odm.h> can be included directly."
#endif

#ifndef ODM_ANALYTICS_H
#define ODM_ANALYTICS_H

#include <bson/bson.h>

#include "odm-client.h"
#include "odm-macros.h"
#include "odm-schema.h"

ODM_BEGIN_DECLS

/* A parameter of kind ODM_PARAM_PERIOD is a string "day", "week", "month" or "year",
 * substituted as the matching $dateToString format ("%Y-%m-%d", "%G-W%V", "%Y-%m", "%Y"). */
#define ODM_PARAM_PERIOD 100u

typedef struct {
   const char *name;
   uint32_t kind;      /* odm_kind_t (string, number, bool, date, objectId) or ODM_PARAM_PERIOD */
   uint32_t offset;    /* in the params struct */
   uint32_t presence;  /* of its uint8_t has_<name> */
   bool required;
   bool has_default;
   double dflt_number;
   const char *dflt_string;
   const char *doc;
} odm_param_t;

struct odm_aggregation {
   const char *name;          /* the seed's name: "Agent performance metrics" */
   const char *c_name;        /* "agent_performance" */
   const char *doc;           /* what it measures */
   const char *pipeline_json; /* the pipeline with its $param slots */
   uint32_t param_count;
   const odm_param_t *params;
   uint32_t params_size;      /* sizeof the params struct */
   const odm_object_desc_t *row;
};

/* The pipeline with PARAMS substituted, into OUT (initialised here, always).
 * Fails when a required parameter is missing or a period is not one of the four. */
ODM_API bool
odm_aggregation_pipeline (const odm_aggregation_t *agg, const void *params, bson_t *out, bson_error_t *error);

/* Runs AGG on SCHEMA's collection and decodes every row. *ROWS (an array of *N row
 * structs, NULL when there are none) is owned by the caller: free it with odm_rows_free.
 * On failure *ROWS is NULL and *N is 0. */
ODM_API bool
odm_aggregate (odm_client_t *client, const odm_schema_t *schema, const odm_aggregation_t *agg, const void *params,
               void **rows, size_t *n, bson_error_t *error);

ODM_API void
odm_rows_free (const odm_aggregation_t *agg, void *rows, size_t n);

/* Encodes one row of AGG into OUT (initialised here, always). */
ODM_API bool
odm_row_to_bson (const odm_aggregation_t *agg, const void *row, bson_t *out);

/* The analytic of SCHEMA whose c_name or name is NAME, or NULL. */
ODM_API const odm_aggregation_t *
odm_aggregation_find (const odm_schema_t *schema, const char *name);

ODM_END_DECLS

#endif /* ODM_ANALYTICS_H */
