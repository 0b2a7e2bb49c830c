/* Analytics of support_tickets, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 70
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
#define HOUR INT64_C (3600000)
static odm_support_ticket_t docs[N];
static const char *const categories[] = {"technical", "billing", "account", "feature_request", "bug_report"};
static const char *const priorities[] = {"low", "medium", "high", "urgent"};
static const char *const statuses[] = {"open", "in_progress", "waiting_for_customer", "resolved", "closed"};

/* Tickets of ASSIGNEE open or in progress. */
static size_t
open_count (const bson_oid_t *assignee)
{
   size_t i, c = 0;
   for (i = 0; i < N; i++) {
      c += docs[i].has_assigneeId == ODM_PRESENT && bson_oid_equal (&docs[i].assigneeId, assignee) &&
           (odm_str_eq (docs[i].status, "open") || odm_str_eq (docs[i].status, "in_progress"));
   }
   return c;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k, nmessages;
   bson_oid_t a951, a952, a954;
   odm_ax_rng_seed (&r, 22);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_support_ticket_t *d = &docs[i];
      bool done;
      odm_support_ticket_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (22000 + i));
      d->has__id = ODM_PRESENT;
      d->ticketId = bson_strdup_printf ("T-%04zu", i);
      d->has_ticketId = ODM_PRESENT;
      odm_ax_oid (&d->requesterId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 15)));
      d->has_requesterId = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 3)) { /* a quarter are unassigned */
         odm_ax_oid (&d->assigneeId, (uint32_t) (950 + odm_ax_rng_range (&r, 1, 4)));
         d->has_assigneeId = ODM_PRESENT;
      }
      d->subject = bson_strdup_printf ("Ticket %zu", i);
      d->has_subject = ODM_PRESENT;
      d->description = bson_strdup ("Something does not work");
      d->has_description = ODM_PRESENT;
      d->category = bson_strdup (categories[odm_ax_rng_range (&r, 0, 4)]);
      d->has_category = ODM_PRESENT;
      if (i % 4) { /* every fourth keeps the defaults: medium, open */
         odm_ax_set_string (&d->priority, priorities[odm_ax_rng_range (&r, 0, 3)]);
         odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 4)]);
      }
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      nmessages = (size_t) odm_ax_rng_range (&r, 0, 4);
      if (nmessages) {
         d->conversation.items = bson_malloc0 (nmessages * sizeof d->conversation.items[0]);
         for (k = 0; k < nmessages; k++) {
            odm_support_ticket_message_t *m = &d->conversation.items[k];
            bool agent = k % 2 == 1 && d->has_assigneeId;
            m->authorId = agent ? d->assigneeId : d->requesterId;
            m->has_authorId = ODM_PRESENT;
            m->authorType = bson_strdup (agent ? "agent" : "customer");
            m->has_authorType = ODM_PRESENT;
            m->message = bson_strdup_printf ("message %zu", k);
            m->has_message = ODM_PRESENT;
            m->createdAt = d->createdAt + (int64_t) (k + 1) * HOUR;
            m->has_createdAt = ODM_PRESENT;
         }
         d->conversation.count = nmessages;
         d->has_conversation = ODM_PRESENT;
      }
      /* Resolved tickets have a resolution date; closed ones mostly too. */
      done = !strcmp (d->status, "resolved") || !strcmp (d->status, "closed");
      if (!strcmp (d->status, "resolved") || (done && odm_ax_rng_range (&r, 0, 2))) {
         d->resolution.resolvedAt = d->createdAt + odm_ax_rng_range (&r, 1, 240) * HOUR + odm_ax_rng_range (&r, 0, HOUR);
         d->resolution.has_resolvedAt = ODM_PRESENT;
         d->has_resolution = ODM_PRESENT;
      }
      if (done && odm_ax_rng_range (&r, 0, 3)) {
         d->satisfaction.rating = (double) odm_ax_rng_range (&r, 1, 5);
         d->satisfaction.has_rating = ODM_PRESENT;
         d->has_satisfaction = ODM_PRESENT;
      }
   }
   /* Ties: tickets in work move from assignee 951 to 954 until 954 has as many as 952. */
   odm_ax_oid (&a951, 951);
   odm_ax_oid (&a952, 952);
   odm_ax_oid (&a954, 954);
   for (i = 0; i < N && open_count (&a954) < open_count (&a952); i++) {
      if (docs[i].has_assigneeId && bson_oid_equal (&docs[i].assigneeId, &a951) &&
          (odm_str_eq (docs[i].status, "open") || odm_str_eq (docs[i].status, "in_progress"))) {
         docs[i].assigneeId = a954;
      }
   }
   /* Feedback without a rating: not rated. */
   docs[4].satisfaction.feedback = bson_strdup ("no comment");
   docs[4].satisfaction.has_feedback = ODM_PRESENT;
   docs[4].has_satisfaction = ODM_PRESENT;
   /* Explicit nulls count as absent (MongoDB's $exists: true matches them): an unassigned
    * ticket whose assigneeId is null (no null owner row), an open ticket whose resolution
    * date is null (not resolved), a rating that is null. */
   for (i = 0; i < N && docs[i].has_assigneeId == ODM_PRESENT; i++) {
   }
   ck_assert (i < N);
   docs[i].has_assigneeId = ODM_NULL;
   for (i = 0; i < N && !(docs[i].resolution.has_resolvedAt == ODM_ABSENT && docs[i].has_assigneeId == ODM_PRESENT); i++) {
   }
   ck_assert (i < N);
   docs[i].resolution.has_resolvedAt = ODM_NULL;
   docs[i].has_resolution = ODM_PRESENT;
   for (i = 0; i < N && docs[i].satisfaction.has_rating == ODM_PRESENT; i++) {
   }
   ck_assert (i < N);
   docs[i].satisfaction.has_rating = ODM_NULL;
   docs[i].has_satisfaction = ODM_PRESENT;
   /* A ticket whose status is null is neither open nor done: not unresolved either. */
   odm_ax_unset_string (&docs[6].status, &docs[6].has_status, ODM_NULL);
   /* Boundaries: tickets created exactly at 2024-02-01 and 2024-04-01. */
   for (i = 10; i < 12; i++) {
      int64_t at = i == 10 ? FEB1 : APR1;
      if (docs[i].resolution.has_resolvedAt) {
         docs[i].resolution.resolvedAt += at - docs[i].createdAt;
      }
      docs[i].createdAt = at;
   }
   *n = N;
   return docs;
}

static bool
selected (const odm_support_ticket_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return (!has_from || d->createdAt >= from) && (!has_to || d->createdAt < to);
}

static bool
is (const char *value, const char *a, const char *b)
{
   return odm_str_eq (value, a) || (b && odm_str_eq (value, b)); /* a null status is none of them */
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* an assignee, or a period or a category */
   double count, open, waiting, done, high, messages, satisfied;
   odm_ax_acc_t rating, hours; /* hours to the resolution */
   bson_oid_t requesters[N];
   size_t nrequesters;
} group_t;

static void
add (group_t *g, const odm_support_ticket_t *d)
{
   g->count++;
   g->open += is (d->status, "open", "in_progress");
   g->waiting += is (d->status, "waiting_for_customer", NULL);
   g->done += is (d->status, "resolved", "closed");
   g->high += is (d->priority, "high", "urgent");
   g->messages += (double) d->conversation.count;
   if (d->satisfaction.has_rating == ODM_PRESENT) {
      odm_ax_acc_add (&g->rating, d->satisfaction.rating);
      g->satisfied += d->satisfaction.rating >= 4;
   }
   if (d->resolution.has_resolvedAt == ODM_PRESENT) {
      odm_ax_acc_add (&g->hours, (double) (d->resolution.resolvedAt - d->createdAt) / 3600000.0);
   }
   odm_ax_oid_set_add (g->requesters, &g->nrequesters, &d->requesterId);
}

/* ------------------------------------------------------------ support_workload */

typedef odm_support_ticket_support_workload_params_t sw_t;

static int
by_open_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->open, y->open);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_support_workload (const void *params, bson_t *rows)
{
   const sw_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (docs[i].has_assigneeId == ODM_PRESENT && selected (&docs[i], p->has_from, p->from, p->has_to, p->to) &&
          (!p->has_category || !strcmp (p->category, docs[i].category))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &docs[i].assigneeId, NULL, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_open_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "ticketCount", BCON_DOUBLE (g[i].count), "openCount",
                              BCON_DOUBLE (g[i].open), "waitingCount", BCON_DOUBLE (g[i].waiting), "doneCount",
                              BCON_DOUBLE (g[i].done), "highPriorityCount", BCON_DOUBLE (g[i].high), "messageCount",
                              BCON_DOUBLE (g[i].messages));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sw_t sw_all = {0};
static const sw_t sw_top = {.limit = 2, .has_limit = 1};
static const sw_t sw_billing = {.category = "billing", .has_category = 1};
static const sw_t sw_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ resolution_time */

typedef odm_support_ticket_resolution_time_params_t rt_t;

static void
expect_resolution_time (const void *params, bson_t *rows)
{
   const rt_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (docs[i].resolution.has_resolvedAt != ODM_PRESENT || !selected (&docs[i], p->has_from, p->from, p->has_to, p->to) ||
          (p->has_category && strcmp (p->category, docs[i].category)) ||
          (p->has_priority && strcmp (p->priority, docs[i].priority))) {
         continue;
      }
      odm_ax_period (docs[i].createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), &docs[i]);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "resolvedCount", BCON_DOUBLE (g[i].count),
                              "averageHours", BCON_DOUBLE (g[i].hours.sum / g[i].count), "fastestHours",
                              BCON_DOUBLE (g[i].hours.min), "slowestHours", BCON_DOUBLE (g[i].hours.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rt_t rt_month = {0};
static const rt_t rt_week = {.period = "week", .has_period = 1};
static const rt_t rt_day = {.period = "day", .has_period = 1};
static const rt_t rt_year_technical = {.period = "year", .has_period = 1, .category = "technical",
                                       .has_category = 1};
static const rt_t rt_urgent_window = {.priority = "urgent", .has_priority = 1, .from = FEB1, .has_from = 1,
                                      .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ customer_satisfaction */

typedef odm_support_ticket_customer_satisfaction_params_t cs_t;

static void
expect_customer_satisfaction (const void *params, bson_t *rows)
{
   const cs_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (!selected (&docs[i], p->has_from, p->from, p->has_to, p->to) ||
          (p->has_assigneeId && !(docs[i].has_assigneeId == ODM_PRESENT && bson_oid_equal (&p->assigneeId, &docs[i].assigneeId)))) {
         continue;
      }
      odm_ax_period (docs[i].createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), &docs[i]);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "ticketCount", BCON_DOUBLE (g[i].count), "ratedCount",
                              BCON_DOUBLE (g[i].rating.n), "satisfiedCount", BCON_DOUBLE (g[i].satisfied));
      odm_ax_append_avg (row, "averageRating", &g[i].rating);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cs_t cs_month = {0};
static const cs_t cs_week = {.period = "week", .has_period = 1};
static const cs_t cs_one_day = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = FEB1 + 1,
                                .has_to = 1};
static const cs_t cs_year = {.period = "year", .has_period = 1};
static cs_t cs_assignee;

/* ------------------------------------------------------------ category_distribution */

typedef odm_support_ticket_category_distribution_params_t cd_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_category_distribution (const void *params, bson_t *rows)
{
   const cd_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to) &&
          (!p->has_status || odm_str_eq (docs[i].status, p->status))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].category, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "ticketCount", BCON_DOUBLE (g[i].count),
                              "unresolvedCount", BCON_DOUBLE (g[i].open + g[i].waiting), "highPriorityCount",
                              BCON_DOUBLE (g[i].high), "requesterCount", BCON_DOUBLE ((double) g[i].nrequesters));
      odm_ax_append_avg (row, "averageRating", &g[i].rating);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cd_t cd_all = {0};
static const cd_t cd_open = {.status = "open", .has_status = 1};
static const cd_t cd_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"all", &odm_support_ticket_support_workload_aggregation, &sw_all, expect_support_workload},
   {"top 2 with a tie", &odm_support_ticket_support_workload_aggregation, &sw_top, expect_support_workload},
   {"billing", &odm_support_ticket_support_workload_aggregation, &sw_billing, expect_support_workload},
   {"window [Feb 1, Apr 1)", &odm_support_ticket_support_workload_aggregation, &sw_window, expect_support_workload},
   {"by month", &odm_support_ticket_resolution_time_aggregation, &rt_month, expect_resolution_time},
   {"by ISO week", &odm_support_ticket_resolution_time_aggregation, &rt_week, expect_resolution_time},
   {"by day", &odm_support_ticket_resolution_time_aggregation, &rt_day, expect_resolution_time},
   {"technical by year", &odm_support_ticket_resolution_time_aggregation, &rt_year_technical,
    expect_resolution_time},
   {"urgent, window [Feb 1, Apr 1)", &odm_support_ticket_resolution_time_aggregation, &rt_urgent_window,
    expect_resolution_time},
   {"by month", &odm_support_ticket_customer_satisfaction_aggregation, &cs_month, expect_customer_satisfaction},
   {"by ISO week", &odm_support_ticket_customer_satisfaction_aggregation, &cs_week, expect_customer_satisfaction},
   {"by day, one ticket", &odm_support_ticket_customer_satisfaction_aggregation, &cs_one_day,
    expect_customer_satisfaction},
   {"by year", &odm_support_ticket_customer_satisfaction_aggregation, &cs_year, expect_customer_satisfaction},
   {"one assignee", &odm_support_ticket_customer_satisfaction_aggregation, &cs_assignee,
    expect_customer_satisfaction},
   {"all", &odm_support_ticket_category_distribution_aggregation, &cd_all, expect_category_distribution},
   {"open", &odm_support_ticket_category_distribution_aggregation, &cd_open, expect_category_distribution},
   {"window [Feb 1, Apr 1)", &odm_support_ticket_category_distribution_aggregation, &cd_window,
    expect_category_distribution},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&cs_assignee.assigneeId, 952);
   cs_assignee.has_assigneeId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_support_tickets = {
   &odm_support_ticket_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
