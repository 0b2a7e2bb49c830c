/* libodm: the platform specification's named analytics as typed, parameterised aggregation pipelines.
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
   const char *name;          /* the platform specification's name: "Agent performance metrics" */
   const char *c_name;        /* "agent_performance" */
   const char *doc;           /* what it measures */
   const char *pipeline_json; /* {"pipeline": [...]} with its $param slots, as canonical JSON */
   const uint8_t *pipeline_bson; /* the same as BSON (bson_init_static), what the runtime reads */
   uint32_t pipeline_bson_len;
   uint32_t param_count;
   const odm_param_t *params;
   uint32_t params_size;      /* sizeof the params struct */
   const odm_object_desc_t *row;
};

/* The pipeline with PARAMS substituted, into OUT (initialised here, always).
 * Fails when a required parameter is missing or a set one is out of its range (a period
 * not one of the four, a non-finite number, a $limit below 1 or not whole, a date outside
 * JavaScript's range, a string that is NULL or not UTF-8); the message names it. */
ODM_API bool
odm_aggregation_pipeline (const odm_aggregation_t *agg, const void *params, bson_t *out, bson_error_t *error);

/* Sets parameter NAME of AGG's params struct PARAMS from TEXT (what `odm analytics run
 * --param NAME=TEXT` does) after checking it:
 *   string   valid UTF-8 (PARAMS keeps the pointer TEXT: it must outlive the call that uses PARAMS)
 *   period   day, week, month or year (pointer kept, as for strings)
 *   number   a finite number; the operand of $limit a whole number from 1 to 2^53-1 ($skip: from 0)
 *   boolean  true or false
 *   date     milliseconds since 1970-01-01T00:00:00Z, or ISO 8601 (see odm_parse_date)
 *   objectId 24 hex digits
 * Fails with ODM_ERROR_INVALID_ARGUMENT and a message that names the parameter and the
 * accepted forms; PARAMS is then unchanged. The same ranges are checked when a params
 * struct filled in C is run (odm_aggregation_pipeline, odm_aggregate). */
ODM_API bool
odm_param_parse (const odm_aggregation_t *agg, void *params, const char *name, const char *text, bson_error_t *error);

/* The parameter of AGG called NAME, or NULL. */
ODM_API const odm_param_t *
odm_param_find (const odm_aggregation_t *agg, const char *name);

/* Reads a date parameter's text into milliseconds since the epoch: digits with an optional
 * sign (milliseconds), or YYYY-MM-DD, optionally followed by T (or a space) HH:MM, :SS and
 * a fraction of 1 to 9 digits (read to the millisecond), and an offset Z, +HH, +HH:MM or
 * +HHMM (or -); without an offset the time is UTC. Refuses impossible dates (2023-02-29),
 * anything after the date, and dates outside JavaScript's range (+/-8.64e15 ms). */
ODM_API bool
odm_parse_date (const char *text, int64_t *ms);

/* Runs AGG on SCHEMA's collection and decodes every row. *ROWS (an array of *N row
 * structs, NULL when there are none) is owned by the caller: free it with odm_rows_free.
 * On failure *ROWS is NULL and *N is 0. */
ODM_API bool
odm_aggregate (odm_client_t *client, const odm_schema_t *schema, const odm_aggregation_t *agg, const void *params,
               void **rows, size_t *n, bson_error_t *error);

typedef struct {
   size_t size;                           /* sizeof (odm_aggregate_opts_t): use ODM_AGGREGATE_OPTS_INIT */
   const bson_t *mongoc_opts;             /* merged into libmongoc's aggregate options
                                           * (readConcern, maxTimeMS, allowDiskUse, comment...), or NULL */
   const mongoc_read_prefs_t *read_prefs; /* NULL = the URI's */
   odm_session_t *session;                /* run in this session, or NULL */
} odm_aggregate_opts_t;

#define ODM_AGGREGATE_OPTS_INIT {.size = sizeof (odm_aggregate_opts_t)}

/* odm_aggregate with options (see "Options structs" in odm-client.h). */
ODM_API bool
odm_aggregate_with_opts (odm_client_t *client, const odm_schema_t *schema, const odm_aggregation_t *agg,
                         const void *params, const odm_aggregate_opts_t *opts, void **rows, size_t *n,
                         bson_error_t *error);

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
