/* Analytics of chat_canvas_history, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 64
static odm_chat_canvas_history_t docs[N];
static const char *const statuses[] = {"completed", "completed", "completed", "completed", "failed", "failed", "pending", "processing"};
static const char *const providers[] = {"mistral", "openai", "anthropic"};
static const char *const models[] = {"mistral-large-latest", "gpt-4o", "claude-3"};
static const char *const errors[] = {"Timeout", "Rate limited", "Invalid output"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 16);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_canvas_history_t *d = &docs[i];
      int64_t m;
      odm_chat_canvas_history_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (9500 + i));
      d->has__id = ODM_PRESENT;
      d->historyId = bson_strdup_printf ("hist-%02zu", i);
      d->projectId = bson_strdup_printf ("canvas-%02d", (int) odm_ax_rng_range (&r, 1, 5));
      d->prompt = bson_strdup_printf ("Create page %zu", i);
      bson_free (d->status);
      d->status = bson_strdup (statuses[odm_ax_rng_range (&r, 0, 7)]);
      if (!strcmp (d->status, "completed")) {
         d->result.filesGenerated = (double) odm_ax_rng_range (&r, 1, 8);
         d->result.totalSize = d->result.filesGenerated * (double) odm_ax_rng_range (&r, 1000, 40000);
      } else if (!strcmp (d->status, "failed") && i % 7 != 3) { /* some failures record no message */
         d->result.error = bson_strdup (errors[odm_ax_rng_range (&r, 0, 2)]);
      }
      /* metadata: duration or tokens missing here and there; provider and model unknown on some */
      if (i % 6 != 2) {
         d->metadata.duration = (double) odm_ax_rng_range (&r, 2000, 90000);
         d->metadata.has_duration = ODM_PRESENT;
      }
      if (i % 5 != 1) {
         d->metadata.tokensUsed = (double) odm_ax_rng_range (&r, 100, 4000);
         d->metadata.has_tokensUsed = ODM_PRESENT;
      }
      m = odm_ax_rng_range (&r, 0, 2);
      if (i % 9 != 0) {
         d->metadata.provider = bson_strdup (providers[m]);
         if (i % 13 != 5) {
            d->metadata.model = bson_strdup (models[m]);
         }
      }
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
   }
   /* A tie: the first two anthropic/claude-3 generations move to openai/gpt-4o, leaving 17
    * for each pair, behind mistral's 18. */
   for (i = 0, k = 0; i < N && k < 2; i++) {
      if (docs[i].metadata.model && !strcmp (docs[i].metadata.model, "claude-3")) {
         bson_free (docs[i].metadata.provider);
         bson_free (docs[i].metadata.model);
         docs[i].metadata.provider = bson_strdup ("openai");
         docs[i].metadata.model = bson_strdup ("gpt-4o");
         k++;
      }
   }
   /* Boundaries: generations started exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_canvas_history_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a period, a provider and a model, or an error (null: none) */
   double count, completed, failed, in_progress, files;
   odm_ax_acc_t duration, tokens, created;
   const char *projects[N];
   size_t nprojects;
} group_t;

static void
add (group_t *g, const odm_chat_canvas_history_t *d)
{
   g->count++;
   g->completed += !strcmp (d->status, "completed");
   g->failed += !strcmp (d->status, "failed");
   g->in_progress += !strcmp (d->status, "pending") || !strcmp (d->status, "processing");
   g->files += d->result.filesGenerated;
   if (d->metadata.has_duration) {
      odm_ax_acc_add (&g->duration, d->metadata.duration);
   }
   if (d->metadata.has_tokensUsed) {
      odm_ax_acc_add (&g->tokens, d->metadata.tokensUsed);
   }
   odm_ax_acc_add (&g->created, (double) d->createdAt);
   odm_ax_str_set_add (g->projects, &g->nprojects, d->projectId);
}

/* ------------------------------------------------------------ success_rates */

typedef odm_chat_canvas_history_success_rates_params_t sr_t;

static void
expect_success_rates (const void *params, bson_t *rows)
{
   const sr_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_history_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_str_ok (p->has_projectId, p->projectId, d->projectId)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "attempts", BCON_DOUBLE (g[i].count), "completedCount",
                              BCON_DOUBLE (g[i].completed), "failedCount", BCON_DOUBLE (g[i].failed), "inProgressCount",
                              BCON_DOUBLE (g[i].in_progress), "successRate", BCON_DOUBLE (g[i].completed / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sr_t sr_month = {0};
static const sr_t sr_day = {.period = "day", .has_period = 1};
static const sr_t sr_week = {.period = "week", .has_period = 1};
static const sr_t sr_year = {.period = "year", .has_period = 1};
static const sr_t sr_project_window = {.projectId = "canvas-02", .has_projectId = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY,
                                       .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ performance_metrics */

typedef odm_chat_canvas_history_performance_metrics_params_t pm_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_performance_metrics (const void *params, bson_t *rows)
{
   const pm_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_history_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_status, p->status, d->status)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->metadata.provider ? d->metadata.provider : "unknown",
                                d->metadata.model ? d->metadata.model : "unknown"),
              d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER, id;
      BSON_APPEND_DOCUMENT_BEGIN (&row, "_id", &id);
      BSON_APPEND_UTF8 (&id, "provider", g[i].key.s);
      BSON_APPEND_UTF8 (&id, "model", g[i].key.s2);
      bson_append_document_end (&row, &id);
      BSON_APPEND_DOUBLE (&row, "generations", g[i].count);
      odm_ax_append_avg (&row, "averageDuration", &g[i].duration);
      odm_ax_append_num_or_null (&row, "minDuration", g[i].duration.n > 0, g[i].duration.min);
      odm_ax_append_num_or_null (&row, "maxDuration", g[i].duration.n > 0, g[i].duration.max);
      odm_ax_append_avg (&row, "averageTokens", &g[i].tokens);
      BSON_APPEND_DOUBLE (&row, "totalFiles", g[i].files);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const pm_t pm_all = {0};
static const pm_t pm_top2 = {.limit = 2, .has_limit = 1};
static const pm_t pm_completed = {.status = "completed", .has_status = 1};
static const pm_t pm_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static pm_t pm_one;

/* ------------------------------------------------------------ error_analysis */

typedef odm_chat_canvas_history_error_analysis_params_t ea_t;

static void
expect_error_analysis (const void *params, bson_t *rows)
{
   const ea_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_history_t *d = &docs[i];
      if (!strcmp (d->status, "failed") && in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          odm_ax_str_ok (p->has_projectId, p->projectId, d->projectId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->result.error, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "failures", g[i].count);
      BSON_APPEND_DOUBLE (&row, "projectCount", (double) g[i].nprojects);
      BSON_APPEND_DATE_TIME (&row, "lastFailureAt", (int64_t) g[i].created.max);
      odm_ax_append_avg (&row, "averageDuration", &g[i].duration);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const ea_t ea_all = {0};
static const ea_t ea_top2 = {.limit = 2, .has_limit = 1};
static const ea_t ea_project = {.projectId = "canvas-04", .has_projectId = 1};
static const ea_t ea_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_chat_canvas_history_success_rates_aggregation, &sr_month, expect_success_rates},
   {"by day", &odm_chat_canvas_history_success_rates_aggregation, &sr_day, expect_success_rates},
   {"by ISO week", &odm_chat_canvas_history_success_rates_aggregation, &sr_week, expect_success_rates},
   {"by year", &odm_chat_canvas_history_success_rates_aggregation, &sr_year, expect_success_rates},
   {"one project, window [Feb 1, Apr 1)", &odm_chat_canvas_history_success_rates_aggregation, &sr_project_window,
    expect_success_rates},
   {"all", &odm_chat_canvas_history_performance_metrics_aggregation, &pm_all, expect_performance_metrics},
   {"top 2 with a tie", &odm_chat_canvas_history_performance_metrics_aggregation, &pm_top2, expect_performance_metrics},
   {"completed", &odm_chat_canvas_history_performance_metrics_aggregation, &pm_completed, expect_performance_metrics},
   {"window [Feb 1, Apr 1)", &odm_chat_canvas_history_performance_metrics_aggregation, &pm_window, expect_performance_metrics},
   {"window of one generation without a duration", &odm_chat_canvas_history_performance_metrics_aggregation, &pm_one,
    expect_performance_metrics},
   {"all", &odm_chat_canvas_history_error_analysis_aggregation, &ea_all, expect_error_analysis},
   {"top 2 with a tie", &odm_chat_canvas_history_error_analysis_aggregation, &ea_top2, expect_error_analysis},
   {"one project", &odm_chat_canvas_history_error_analysis_aggregation, &ea_project, expect_error_analysis},
   {"window [Feb 1, Apr 1)", &odm_chat_canvas_history_error_analysis_aggregation, &ea_window, expect_error_analysis},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   pm_one.from = docs[20].createdAt; /* docs[20] records no duration */
   pm_one.has_from = 1;
   pm_one.to = docs[20].createdAt + 1;
   pm_one.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_canvas_history = {
   &odm_chat_canvas_history_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
