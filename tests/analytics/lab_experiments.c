/* Analytics of lab_experiments, verified on a seeded data set with expectations computed
 * here in C from the same structs. timeline.completedAt is derived on insert for a
 * completed experiment without one (the load's clock): the expectations know it. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_lab_experiment_t docs[N];
static const char *const statuses[] = {"planning", "running", "completed", "paused", "failed"};
static const char *const artifact_types[] = {"model", "dataset", "code", "report"};

static const char *
category_of (size_t i)
{
   /* per 10: 3 nlp, 3 computer_vision, 2 reinforcement_learning, 2 other (ties by count) */
   size_t k = i % 10;
   return k < 3 ? "nlp" : k < 6 ? "computer_vision" : k < 8 ? "reinforcement_learning" : "other";
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 27);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_lab_experiment_t *d = &docs[i];
      size_t count;
      odm_lab_experiment_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (27000 + i));
      d->has__id = ODM_PRESENT;
      d->experimentId = bson_strdup_printf ("EXP-2024-%03zu", i);
      /* researchers 107 and 108 complete five experiments each, more than anyone else */
      odm_ax_oid (&d->researcherId, i < 10 ? (uint32_t) (i < 5 ? 107 : 108) : (uint32_t) (100 + odm_ax_rng_range (&r, 1, 6)));
      d->has_researcherId = ODM_PRESENT;
      d->title = bson_strdup_printf ("Experiment %zu", i);
      odm_ax_set_string (&d->category, category_of (i));
      odm_ax_set_string (&d->status, i < 10 ? "completed" : statuses[odm_ax_rng_range (&r, 0, 4)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      if (i % 2 == 0) {
         d->methodology.model = bson_strdup ("gpt-3.5-turbo");
         d->methodology.dataset = bson_strdup ("code-search-net");
         d->has_methodology = ODM_PRESENT;
      }
      /* artifacts from completed and failed experiments */
      count = strcmp (d->status, "completed") && strcmp (d->status, "failed") ? 0 : (size_t) odm_ax_rng_range (&r, 0, 3);
      d->results.artifacts.items = count ? bson_malloc0 (count * sizeof d->results.artifacts.items[0]) : NULL;
      for (k = 0; k < count; k++) {
         odm_lab_experiment_results_artifact_t *a = &d->results.artifacts.items[k];
         a->name = bson_strdup_printf ("artifact-%zu-%zu", i, k);
         a->has_name = ODM_PRESENT;
         a->url = bson_strdup_printf ("https://files.example/%zu/%zu", i, k);
         a->has_url = ODM_PRESENT;
         a->type = bson_strdup (artifact_types[(i + k) % 4]);
         a->has_type = ODM_PRESENT;
      }
      d->results.artifacts.count = count;
      /* 0 to 3 distinct collaborators */
      count = (size_t) odm_ax_rng_range (&r, 0, 3);
      d->collaborators.items = count ? bson_malloc0 (count * sizeof (bson_oid_t)) : NULL;
      for (k = 0; k < count; k++) {
         odm_ax_oid (&d->collaborators.items[k], (uint32_t) (100 + (i + k * 3) % 9));
      }
      d->collaborators.count = count;
      /* budgets: most allocated, spending known for some; one spending without allocation */
      if (i % 5 != 4) {
         d->budget.allocated = (double) (1000 * odm_ax_rng_range (&r, 1, 10));
         d->budget.has_allocated = ODM_PRESENT;
         if (i % 3 != 0) {
            d->budget.spent = d->budget.allocated * (double) odm_ax_rng_range (&r, 0, 100) / 100.0;
            d->budget.has_spent = ODM_PRESENT;
         }
      } else if (i % 2 == 0) {
         d->budget.spent = 500;
         d->budget.has_spent = ODM_PRESENT;
      }
      if (i % 7 == 0) {
         odm_ax_set_string (&d->budget.currency, "EUR");
      }
      /* timeline: started unless planning; completed ones finish 5 to 60 days later, except
       * every eleventh, which has neither date (completedAt is then derived on insert) */
      if (strcmp (d->status, "planning") && !(i % 11 == 0 && !strcmp (d->status, "completed"))) {
         d->timeline.startedAt = d->createdAt + 2 * ODM_AX_DAY;
         d->timeline.has_startedAt = ODM_PRESENT;
         if (!strcmp (d->status, "completed")) {
            d->timeline.completedAt =
               d->timeline.startedAt + odm_ax_rng_range (&r, 5, 60) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
            d->timeline.has_completedAt = ODM_PRESENT;
         }
         d->has_timeline = ODM_PRESENT;
      }
   }
   /* Explicit nulls count as absent (MongoDB's $exists: true matches them): experiments
    * whose allocated budget is null (and nothing spent) have no budget. */
   for (i = 0, k = 0; i < N && k < 2; i++) {
      if (docs[i].budget.has_allocated == ODM_ABSENT && docs[i].budget.has_spent == ODM_ABSENT) {
         docs[i].budget.has_allocated = ODM_NULL;
         docs[i].has_budget = ODM_PRESENT;
         k++;
      }
   }
   ck_assert (k == 2);
   /* Boundaries: experiments exactly at 2024-02-01 and 2024-04-01. */
   docs[20].createdAt = FEB1;
   docs[21].createdAt = APR1;
   for (i = 20; i < 22; i++) {
      if (docs[i].timeline.has_startedAt == ODM_PRESENT) {
         int64_t shift = docs[i].createdAt + 2 * ODM_AX_DAY - docs[i].timeline.startedAt;
         docs[i].timeline.startedAt += shift;
         docs[i].timeline.completedAt += shift;
      }
   }
   *n = N;
   return docs;
}

static bool
in_window (const odm_lab_experiment_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a researcher, or a category or a period */
   double count, a, b, c, d, e;
   odm_ax_acc_t avg, avg2;
   bson_oid_t set[N];
   size_t nset;
} group_t;

static int
by_a_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->a, y->a);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_rate_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->a / x->count, y->a / y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ researcher_productivity */

typedef odm_lab_experiment_researcher_productivity_params_t rp_t;

static void
expect_researcher_productivity (const void *params, bson_t *rows)
{
   const rp_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_lab_experiment_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_category && strcmp (p->category, d->category))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->researcherId, NULL, NULL);
      x->count++;
      x->a += !strcmp (d->status, "completed");
      x->b += !strcmp (d->status, "running");
      x->c += !strcmp (d->status, "failed");
      x->d += (double) d->results.artifacts.count;
      odm_ax_acc_add (&x->avg, (double) d->collaborators.count);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_a_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "experiments", BCON_DOUBLE (g[i].count), "completed",
                              BCON_DOUBLE (g[i].a), "running", BCON_DOUBLE (g[i].b), "failed", BCON_DOUBLE (g[i].c),
                              "completionRate", BCON_DOUBLE (g[i].a / g[i].count), "artifacts", BCON_DOUBLE (g[i].d),
                              "averageCollaborators", BCON_DOUBLE (g[i].avg.sum / g[i].avg.n));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rp_t rp_all = {0};
static const rp_t rp_top1 = {.limit = 1, .has_limit = 1};
static const rp_t rp_nlp_window = {.category = "nlp", .has_category = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const rp_t rp_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};

/* ------------------------------------------------------------ success_rates */

typedef odm_lab_experiment_success_rates_params_t sr_t;

static void
expect_success_rates (const void *params, bson_t *rows)
{
   const sr_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_lab_experiment_t *d = &docs[i];
      const odm_lab_experiment_timeline_t *t = &d->timeline;
      bool completed = !strcmp (d->status, "completed");
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (!completed && strcmp (d->status, "failed")) ||
          !odm_ax_oid_ok (p->has_researcherId, &p->researcherId, &d->researcherId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->category, NULL);
      x->count++;
      x->a += completed;
      x->b += !completed;
      /* a completed experiment without completedAt gets one on insert, but without
       * startedAt its duration is still unknown */
      if (completed && t->has_startedAt == ODM_PRESENT && t->has_completedAt == ODM_PRESENT) {
         odm_ax_acc_add (&x->avg, (double) (t->completedAt - t->startedAt) / (double) ODM_AX_DAY);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_rate_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "finished", BCON_DOUBLE (g[i].count), "completed",
                              BCON_DOUBLE (g[i].a), "failed", BCON_DOUBLE (g[i].b), "successRate",
                              BCON_DOUBLE (g[i].a / g[i].count));
      odm_ax_append_avg (row, "averageDaysToComplete", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sr_t sr_all = {0};
static const sr_t sr_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static sr_t sr_researcher; /* set in the module init below */

/* ------------------------------------------------------------ resource_utilization */

typedef odm_lab_experiment_resource_utilization_params_t ru_t;

static void
expect_resource_utilization (const void *params, bson_t *rows)
{
   const ru_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_lab_experiment_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_category && strcmp (p->category, d->category)) ||
          strcmp (d->budget.currency, p->has_currency ? p->currency : "USD") || d->budget.has_allocated != ODM_PRESENT) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL);
      x->count++;
      x->a += d->budget.allocated;
      if (d->budget.has_spent == ODM_PRESENT) {
         x->b += d->budget.spent;
         odm_ax_acc_add (&x->avg, d->budget.spent);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "experiments", BCON_DOUBLE (g[i].count), "totalAllocated",
                              BCON_DOUBLE (g[i].a), "totalSpent", BCON_DOUBLE (g[i].b));
      odm_ax_append_avg (row, "averageSpent", &g[i].avg);
      odm_ax_append_num_or_null (row, "utilization", g[i].a > 0, g[i].b / g[i].a);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ru_t ru_month = {0};
static const ru_t ru_eur_year = {.currency = "EUR", .has_currency = 1, .period = "year", .has_period = 1};
static const ru_t ru_nlp_week = {.category = "nlp", .has_category = 1, .period = "week", .has_period = 1};
static const ru_t ru_day_window = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ category_performance */

typedef odm_lab_experiment_category_performance_params_t cp_t;

static void
expect_category_performance (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_lab_experiment_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_status && strcmp (p->status, d->status))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->category, NULL);
      x->count++;
      odm_ax_oid_set_add (x->set, &x->nset, &d->researcherId);
      x->a += !strcmp (d->status, "completed");
      x->b += (double) d->results.artifacts.count;
      if (d->budget.has_allocated == ODM_PRESENT) {
         odm_ax_acc_add (&x->avg, d->budget.allocated);
      }
      if (d->budget.has_spent == ODM_PRESENT) {
         odm_ax_acc_add (&x->avg2, d->budget.spent);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "experiments", BCON_DOUBLE (g[i].count), "researchers",
                              BCON_DOUBLE ((double) g[i].nset), "completed", BCON_DOUBLE (g[i].a), "completionRate",
                              BCON_DOUBLE (g[i].a / g[i].count), "artifacts", BCON_DOUBLE (g[i].b));
      odm_ax_append_avg (row, "averageAllocated", &g[i].avg);
      odm_ax_append_avg (row, "averageSpent", &g[i].avg2);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cp_t cp_all = {0};
static const cp_t cp_top1 = {.limit = 1, .has_limit = 1};
static const cp_t cp_completed = {.status = "completed", .has_status = 1};
static const cp_t cp_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"all", &odm_lab_experiment_researcher_productivity_aggregation, &rp_all, expect_researcher_productivity},
   {"top 1 through a tie", &odm_lab_experiment_researcher_productivity_aggregation, &rp_top1,
    expect_researcher_productivity},
   {"nlp, window [Feb 1, Apr 1)", &odm_lab_experiment_researcher_productivity_aggregation, &rp_nlp_window,
    expect_researcher_productivity},
   {"window of one document", &odm_lab_experiment_researcher_productivity_aggregation, &rp_one_doc,
    expect_researcher_productivity},
   {"all", &odm_lab_experiment_success_rates_aggregation, &sr_all, expect_success_rates},
   {"one researcher", &odm_lab_experiment_success_rates_aggregation, &sr_researcher, expect_success_rates},
   {"window [Feb 1, Apr 1)", &odm_lab_experiment_success_rates_aggregation, &sr_window, expect_success_rates},
   {"USD by month", &odm_lab_experiment_resource_utilization_aggregation, &ru_month, expect_resource_utilization},
   {"EUR by year", &odm_lab_experiment_resource_utilization_aggregation, &ru_eur_year, expect_resource_utilization},
   {"nlp by ISO week", &odm_lab_experiment_resource_utilization_aggregation, &ru_nlp_week, expect_resource_utilization},
   {"by day, window [Feb 1, Apr 1)", &odm_lab_experiment_resource_utilization_aggregation, &ru_day_window,
    expect_resource_utilization},
   {"all", &odm_lab_experiment_category_performance_aggregation, &cp_all, expect_category_performance},
   {"top 1 through a tie", &odm_lab_experiment_category_performance_aggregation, &cp_top1, expect_category_performance},
   {"completed", &odm_lab_experiment_category_performance_aggregation, &cp_completed, expect_category_performance},
   {"window [Feb 1, Apr 1)", &odm_lab_experiment_category_performance_aggregation, &cp_window,
    expect_category_performance},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&sr_researcher.researcherId, 103);
   sr_researcher.has_researcherId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_lab_experiments = {
   &odm_lab_experiment_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
