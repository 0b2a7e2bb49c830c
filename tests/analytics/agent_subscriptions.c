/* Analytics of agent_subscriptions, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
static odm_agent_subscription_t docs[N];
static const char *const plans[] = {"daily", "weekly", "monthly"};
static const double plan_days[] = {1, 7, 30};
static const double plan_price[] = {1.99, 4.5, 19};
static const char *const statuses[] = {"active", "active", "expired", "cancelled"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, moved = 0;
   odm_ax_rng_seed (&r, 17);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_agent_subscription_t *d = &docs[i];
      int64_t p;
      odm_agent_subscription_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (9800 + i));
      d->has__id = ODM_PRESENT;
      /* 15 users with 4 agents each (one subscription per user and agent): agents 202, 203
       * and 204 get 15 subscriptions, 201 gets 8 and 205 7. */
      odm_ax_oid (&d->userId, (uint32_t) (101 + i / 4));
      d->has_userId = ODM_PRESENT;
      odm_ax_oid (&d->agentId, (uint32_t) (201 + i % 4 + (i / 4) % 2));
      d->has_agentId = ODM_PRESENT;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->startDate = d->createdAt + odm_ax_rng_range (&r, 0, 2) * 3600000;
      d->has_startDate = ODM_PRESENT;
      p = odm_ax_rng_range (&r, 0, 2);
      if (p == 1 && moved < 1) { /* a tie: weekly and monthly get 21 subscriptions each */
         p = 0;
         moved++;
      }
      d->plan = bson_strdup (plans[p]);
      d->price = plan_price[p] + (double) odm_ax_rng_range (&r, 0, 3); /* prices vary within a plan */
      d->has_price = ODM_PRESENT;
      d->expiryDate = d->startDate + (int64_t) plan_days[p] * ODM_AX_DAY;
      d->has_expiryDate = ODM_PRESENT;
      bson_free (d->status);
      d->status = bson_strdup (statuses[odm_ax_rng_range (&r, 0, 3)]);
      d->autoRenew = strcmp (d->status, "cancelled") && odm_ax_rng_range (&r, 0, 3) > 0;
      if (i % 3) {
         d->stripeSubscriptionId = bson_strdup_printf ("sub_%06zu", i);
      } else {
         bson_free (d->paymentMethod);
         d->paymentMethod = bson_strdup ("paypal");
      }
      /* a cancellation usually records when (not always) and sometimes why */
      if (!strcmp (d->status, "cancelled") && i % 7 != 0) {
         d->metadata.cancelledAt = d->startDate + odm_ax_rng_range (&r, 1, (int64_t) plan_days[p] * 24 - 1) * 3600000;
         d->metadata.has_cancelledAt = ODM_PRESENT;
         if (i % 2) {
            d->metadata.cancelReason = bson_strdup ("too expensive");
         }
      }
   }
   /* Boundaries: subscriptions created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_agent_subscription_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* an agent, or a plan or a period */
   double count, revenue, active_revenue, active, expired, cancelled, auto_renew;
   odm_ax_acc_t days; /* from the start to the cancellation */
   bson_oid_t users[N], agents[N];
   size_t nusers, nagents;
} group_t;

static void
add (group_t *g, const odm_agent_subscription_t *d)
{
   bool active = !strcmp (d->status, "active");
   g->count++;
   g->revenue += d->price;
   g->active_revenue += active ? d->price : 0;
   g->active += active;
   g->expired += !strcmp (d->status, "expired");
   g->cancelled += !strcmp (d->status, "cancelled");
   g->auto_renew += d->autoRenew;
   if (d->metadata.has_cancelledAt == ODM_PRESENT) {
      odm_ax_acc_add (&g->days, (double) (d->metadata.cancelledAt - d->startDate) / 86400000.0);
   }
   odm_ax_oid_set_add (g->users, &g->nusers, &d->userId);
   odm_ax_oid_set_add (g->agents, &g->nagents, &d->agentId);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static double
churn_rate (const group_t *g)
{
   return (g->cancelled + g->expired) / g->count;
}

static int
by_churn_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (churn_rate (x), churn_rate (y));
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ revenue */

typedef odm_agent_subscription_revenue_params_t rv_t;

static void
expect_revenue (const void *params, bson_t *rows)
{
   const rv_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_subscription_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId) ||
          !odm_ax_str_ok (p->has_plan, p->plan, d->plan)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "subscriptionCount", BCON_DOUBLE (g[i].count), "revenue",
                              BCON_DOUBLE (g[i].revenue), "averagePrice", BCON_DOUBLE (g[i].revenue / g[i].count),
                              "activeRevenue", BCON_DOUBLE (g[i].active_revenue), "autoRenewCount", BCON_DOUBLE (g[i].auto_renew));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rv_t rv_month = {0};
static const rv_t rv_day = {.period = "day", .has_period = 1};
static const rv_t rv_week = {.period = "week", .has_period = 1};
static const rv_t rv_year = {.period = "year", .has_period = 1};
static rv_t rv_agent_plan_window;

/* ------------------------------------------------------------ subscription_metrics */

typedef odm_agent_subscription_subscription_metrics_params_t sm_t;

static void
expect_subscription_metrics (const void *params, bson_t *rows)
{
   const sm_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_subscription_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->agentId, NULL, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "subscriptionCount", BCON_DOUBLE (g[i].count), "activeCount",
                              BCON_DOUBLE (g[i].active), "expiredCount", BCON_DOUBLE (g[i].expired), "cancelledCount",
                              BCON_DOUBLE (g[i].cancelled), "autoRenewCount", BCON_DOUBLE (g[i].auto_renew), "revenue",
                              BCON_DOUBLE (g[i].revenue));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sm_t sm_all = {0};
static const sm_t sm_top2 = {.limit = 2, .has_limit = 1};
static sm_t sm_agent;
static const sm_t sm_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ churn */

typedef odm_agent_subscription_churn_params_t ch_t;

static void
expect_churn (const void *params, bson_t *rows)
{
   const ch_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_subscription_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->plan, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_churn_then_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "subscriptionCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "cancelledCount", g[i].cancelled);
      BSON_APPEND_DOUBLE (&row, "expiredCount", g[i].expired);
      BSON_APPEND_DOUBLE (&row, "churnRate", churn_rate (&g[i]));
      BSON_APPEND_DOUBLE (&row, "autoRenewOffCount", g[i].count - g[i].auto_renew);
      odm_ax_append_avg (&row, "averageDaysToCancel", &g[i].days);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const ch_t ch_all = {0};
static ch_t ch_agent;
static const ch_t ch_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static ch_t ch_one;

/* ------------------------------------------------------------ plan_popularity */

typedef odm_agent_subscription_plan_popularity_params_t pp_t;

static void
expect_plan_popularity (const void *params, bson_t *rows)
{
   const pp_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_subscription_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_status, p->status, d->status)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->plan, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "subscriptionCount", BCON_DOUBLE (g[i].count), "userCount",
                              BCON_DOUBLE ((double) g[i].nusers), "agentCount", BCON_DOUBLE ((double) g[i].nagents),
                              "averagePrice", BCON_DOUBLE (g[i].revenue / g[i].count), "revenue", BCON_DOUBLE (g[i].revenue));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pp_t pp_all = {0};
static const pp_t pp_top1 = {.limit = 1, .has_limit = 1};
static const pp_t pp_cancelled = {.status = "cancelled", .has_status = 1};
static const pp_t pp_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_agent_subscription_revenue_aggregation, &rv_month, expect_revenue},
   {"by day", &odm_agent_subscription_revenue_aggregation, &rv_day, expect_revenue},
   {"by ISO week", &odm_agent_subscription_revenue_aggregation, &rv_week, expect_revenue},
   {"by year", &odm_agent_subscription_revenue_aggregation, &rv_year, expect_revenue},
   {"one agent, one plan, window", &odm_agent_subscription_revenue_aggregation, &rv_agent_plan_window, expect_revenue},
   {"all", &odm_agent_subscription_subscription_metrics_aggregation, &sm_all, expect_subscription_metrics},
   {"top 2 with a tie", &odm_agent_subscription_subscription_metrics_aggregation, &sm_top2, expect_subscription_metrics},
   {"one agent", &odm_agent_subscription_subscription_metrics_aggregation, &sm_agent, expect_subscription_metrics},
   {"window [Feb 1, Apr 1)", &odm_agent_subscription_subscription_metrics_aggregation, &sm_window, expect_subscription_metrics},
   {"all", &odm_agent_subscription_churn_aggregation, &ch_all, expect_churn},
   {"one agent", &odm_agent_subscription_churn_aggregation, &ch_agent, expect_churn},
   {"window [Feb 1, Apr 1)", &odm_agent_subscription_churn_aggregation, &ch_window, expect_churn},
   {"window of one cancellation without a time", &odm_agent_subscription_churn_aggregation, &ch_one, expect_churn},
   {"all", &odm_agent_subscription_plan_popularity_aggregation, &pp_all, expect_plan_popularity},
   {"top 1 with a tie", &odm_agent_subscription_plan_popularity_aggregation, &pp_top1, expect_plan_popularity},
   {"cancelled", &odm_agent_subscription_plan_popularity_aggregation, &pp_cancelled, expect_plan_popularity},
   {"window [Feb 1, Apr 1)", &odm_agent_subscription_plan_popularity_aggregation, &pp_window, expect_plan_popularity},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   size_t i;
   bson_oid_copy (&docs[5].agentId, &rv_agent_plan_window.agentId);
   rv_agent_plan_window.has_agentId = 1;
   rv_agent_plan_window.plan = docs[5].plan;
   rv_agent_plan_window.has_plan = 1;
   rv_agent_plan_window.from = docs[10].createdAt; /* inclusive */
   rv_agent_plan_window.has_from = 1;
   rv_agent_plan_window.to = docs[11].createdAt + 60 * ODM_AX_DAY;
   rv_agent_plan_window.has_to = 1;
   odm_ax_oid (&sm_agent.agentId, 205);
   sm_agent.has_agentId = 1;
   odm_ax_oid (&ch_agent.agentId, 203);
   ch_agent.has_agentId = 1;
   for (i = 0; i < N; i++) { /* the first cancellation that records no time */
      if (!strcmp (docs[i].status, "cancelled") && !docs[i].metadata.has_cancelledAt) {
         ch_one.from = docs[i].createdAt;
         ch_one.has_from = 1;
         ch_one.to = docs[i].createdAt + 1;
         ch_one.has_to = 1;
         break;
      }
   }
   return d;
}

const odm_analytics_module_t odm_analytics_agent_subscriptions = {
   &odm_agent_subscription_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
