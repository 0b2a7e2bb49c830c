/* Analytics of consultations, verified on a seeded data set with expectations computed
 * here in C from the same structs. The natural date is scheduledAt. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_consultation_t docs[N];
static const char *const categories[] = {"technical", "business", "career", "creative"};
static const char *const types[] = {"one-on-one", "group", "workshop"};
static const char *const statuses[] = {"draft", "scheduled", "confirmed", "in_progress", "completed", "cancelled"};
static const char *const payments[] = {"pending", "paid", "refunded"};

static const char *
category_of (size_t i)
{
   /* 18 technical, 18 business, 12 career, 12 creative: ties among the most booked */
   size_t k = i % 10;
   return categories[k < 3 ? 0 : k < 6 ? 1 : k < 8 ? 2 : 3];
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 23);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_consultation_t *d = &docs[i];
      int64_t roll;
      odm_consultation_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (23000 + i));
      d->has__id = ODM_PRESENT;
      d->consultationId = bson_strdup_printf ("CONS-2024-%03zu", i);
      odm_ax_oid (&d->clientId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 8)));
      d->has_clientId = ODM_PRESENT;
      odm_ax_oid (&d->consultantId, (uint32_t) (200 + odm_ax_rng_range (&r, 1, 5)));
      d->has_consultantId = ODM_PRESENT;
      d->title = bson_strdup_printf ("Consultation %zu", i);
      odm_ax_set_string (&d->category, category_of (i));
      odm_ax_set_string (&d->type, types[odm_ax_rng_range (&r, 0, 2)]);
      roll = odm_ax_rng_range (&r, 0, 11);
      odm_ax_set_string (&d->status, statuses[roll < 6 ? roll : roll < 9 ? 4 : 5]);
      /* in the future of the load's clock (ODM_AX_EPOCH): the rule future_on_create */
      d->scheduledAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 1, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_scheduledAt = ODM_PRESENT;
      d->duration = (double) (15 * odm_ax_rng_range (&r, 1, 8));
      d->has_duration = ODM_PRESENT;
      d->pricing.amount = (double) (10 * odm_ax_rng_range (&r, 0, 20)) + (i % 4 == 1 ? 0.5 : 0);
      d->pricing.has_amount = ODM_PRESENT;
      if (i % 5 == 0) {
         odm_ax_set_string (&d->pricing.currency, "EUR");
      }
      odm_ax_set_string (&d->pricing.paymentStatus, payments[odm_ax_rng_range (&r, 0, 2)]);
      if (i % 3 != 0) {
         d->location.type = bson_strdup (i % 2 ? "virtual" : "physical");
         d->location.has_type = ODM_PRESENT;
      }
      /* client ratings on most completed consultations (some fractional), none elsewhere */
      if (!strcmp (d->status, "completed") && i % 5 != 1) {
         d->feedback.clientRating = (double) odm_ax_rng_range (&r, 1, 5);
         if (i % 6 == 0 && d->feedback.clientRating > 1) {
            d->feedback.clientRating -= 0.5;
         }
         d->feedback.has_clientRating = ODM_PRESENT;
         d->has_feedback = ODM_PRESENT;
      }
      d->createdAt = ODM_AX_EPOCH - ODM_AX_DAY * (int64_t) (i % 7);
      d->has_createdAt = ODM_PRESENT;
   }
   /* Ties: consultants 206 and 207 each complete six consultations, more than anyone else. */
   for (i = 0; i < 12; i++) {
      odm_consultation_t *d = &docs[40 + i];
      odm_ax_oid (&d->consultantId, i < 6 ? 206 : 207);
      odm_ax_set_string (&d->status, "completed");
      if (i % 3 != 2 && d->feedback.has_clientRating != ODM_PRESENT) {
         d->feedback.clientRating = (double) (1 + (i * 7) % 5);
         d->feedback.has_clientRating = ODM_PRESENT;
         d->has_feedback = ODM_PRESENT;
      }
   }
   /* Explicit nulls count as absent (MongoDB's $exists: true matches them): completed
    * consultations whose client rating is null are not rated. */
   for (i = 0, k = 0; i < N && k < 2; i++) {
      if (!strcmp (docs[i].status, "completed") && docs[i].feedback.has_clientRating == ODM_ABSENT) {
         docs[i].feedback.has_clientRating = ODM_NULL;
         docs[i].has_feedback = ODM_PRESENT;
         k++;
      }
   }
   ck_assert (k == 2);
   /* Boundaries: consultations exactly at 2024-02-01 and 2024-04-01. */
   docs[10].scheduledAt = FEB1;
   docs[11].scheduledAt = APR1;
   *n = N;
   return docs;
}

static bool
in_window (const odm_consultation_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->scheduledAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a consultant, or a period and a currency, a period or a category */
   double count, a, b, c, d;
   odm_ax_acc_t avg;
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
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ revenue */

typedef odm_consultation_revenue_params_t rv_t;

static void
expect_revenue (const void *params, bson_t *rows)
{
   const rv_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_consultation_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_category && strcmp (p->category, d->category))) {
         continue;
      }
      odm_ax_period (d->scheduledAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, d->pricing.currency);
      x->count++;
      if (!strcmp (d->pricing.paymentStatus, "paid")) {
         x->a += d->pricing.amount;
         odm_ax_acc_add (&x->avg, d->pricing.amount);
      } else if (!strcmp (d->pricing.paymentStatus, "refunded")) {
         x->b += d->pricing.amount;
      } else {
         x->c += d->pricing.amount;
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", "{", "period", BCON_UTF8 (g[i].key.s), "currency", BCON_UTF8 (g[i].key.s2), "}",
                              "consultations", BCON_DOUBLE (g[i].count), "paidRevenue", BCON_DOUBLE (g[i].a),
                              "refundedAmount", BCON_DOUBLE (g[i].b), "pendingAmount", BCON_DOUBLE (g[i].c));
      odm_ax_append_avg (row, "averagePaidAmount", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rv_t rv_month = {0};
static const rv_t rv_week = {.period = "week", .has_period = 1};
static const rv_t rv_day = {.period = "day", .has_period = 1};
static const rv_t rv_year_technical_window = {.period = "year", .has_period = 1, .category = "technical", .has_category = 1,
                                              .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ consultant_performance */

typedef odm_consultation_consultant_performance_params_t cp_t;

static void
expect_consultant_performance (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_consultation_t *d = &docs[i];
      group_t *x;
      bool completed = !strcmp (d->status, "completed");
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_category && strcmp (p->category, d->category))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->consultantId, NULL, NULL);
      x->count++;
      x->a += completed;
      x->b += !strcmp (d->status, "cancelled");
      x->c += completed ? d->duration : 0;
      if (d->feedback.has_clientRating == ODM_PRESENT) {
         x->d++;
         odm_ax_acc_add (&x->avg, d->feedback.clientRating);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_a_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "consultations", BCON_DOUBLE (g[i].count), "completed",
                              BCON_DOUBLE (g[i].a), "cancelled", BCON_DOUBLE (g[i].b), "completionRate",
                              BCON_DOUBLE (g[i].a / g[i].count), "minutesDelivered", BCON_DOUBLE (g[i].c), "ratings",
                              BCON_DOUBLE (g[i].d));
      odm_ax_append_avg (row, "averageClientRating", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cp_t cp_all = {0};
static const cp_t cp_top1 = {.limit = 1, .has_limit = 1};
static const cp_t cp_career_window = {.category = "career", .has_category = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const cp_t cp_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};

/* ------------------------------------------------------------ client_satisfaction */

typedef odm_consultation_client_satisfaction_params_t cs_t;

static void
expect_client_satisfaction (const void *params, bson_t *rows)
{
   const cs_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_consultation_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || d->feedback.has_clientRating != ODM_PRESENT ||
          !odm_ax_oid_ok (p->has_consultantId, &p->consultantId, &d->consultantId)) {
         continue;
      }
      odm_ax_period (d->scheduledAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL);
      x->count++;
      odm_ax_acc_add (&x->avg, d->feedback.clientRating);
      x->a += d->feedback.clientRating >= 4;
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "ratings", BCON_DOUBLE (g[i].count), "averageRating",
                              BCON_DOUBLE (g[i].avg.sum / g[i].avg.n), "lowestRating", BCON_DOUBLE (g[i].avg.min),
                              "satisfied", BCON_DOUBLE (g[i].a), "satisfactionRate", BCON_DOUBLE (g[i].a / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cs_t cs_month = {0};
static const cs_t cs_day_window = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static cs_t cs_week_consultant; /* set in the module init below */

/* ------------------------------------------------------------ category_popularity */

typedef odm_consultation_category_popularity_params_t pop_t;

static void
expect_category_popularity (const void *params, bson_t *rows)
{
   const pop_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_consultation_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_type && strcmp (p->type, d->type))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->category, NULL);
      x->count++;
      odm_ax_oid_set_add (x->set, &x->nset, &d->clientId);
      x->a += d->duration;
      odm_ax_acc_add (&x->avg, d->pricing.amount);
      x->b += !strcmp (d->status, "cancelled");
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "consultations", BCON_DOUBLE (g[i].count), "uniqueClients",
                              BCON_DOUBLE ((double) g[i].nset), "minutesBooked", BCON_DOUBLE (g[i].a), "averagePrice",
                              BCON_DOUBLE (g[i].avg.sum / g[i].avg.n), "cancelled", BCON_DOUBLE (g[i].b));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pop_t pop_all = {0};
static const pop_t pop_top1 = {.limit = 1, .has_limit = 1};
static const pop_t pop_top3 = {.limit = 3, .has_limit = 1};
static const pop_t pop_workshop_window = {.type = "workshop", .has_type = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_consultation_revenue_aggregation, &rv_month, expect_revenue},
   {"by ISO week", &odm_consultation_revenue_aggregation, &rv_week, expect_revenue},
   {"by day", &odm_consultation_revenue_aggregation, &rv_day, expect_revenue},
   {"by year, technical, window [Feb 1, Apr 1)", &odm_consultation_revenue_aggregation, &rv_year_technical_window,
    expect_revenue},
   {"all", &odm_consultation_consultant_performance_aggregation, &cp_all, expect_consultant_performance},
   {"top 1 through a tie", &odm_consultation_consultant_performance_aggregation, &cp_top1, expect_consultant_performance},
   {"career, window [Feb 1, Apr 1)", &odm_consultation_consultant_performance_aggregation, &cp_career_window,
    expect_consultant_performance},
   {"window of one document", &odm_consultation_consultant_performance_aggregation, &cp_one_doc,
    expect_consultant_performance},
   {"by month", &odm_consultation_client_satisfaction_aggregation, &cs_month, expect_client_satisfaction},
   {"by day, window [Feb 1, Apr 1)", &odm_consultation_client_satisfaction_aggregation, &cs_day_window,
    expect_client_satisfaction},
   {"by ISO week, one consultant", &odm_consultation_client_satisfaction_aggregation, &cs_week_consultant,
    expect_client_satisfaction},
   {"all", &odm_consultation_category_popularity_aggregation, &pop_all, expect_category_popularity},
   {"top 1 through a tie", &odm_consultation_category_popularity_aggregation, &pop_top1, expect_category_popularity},
   {"top 3 through a tie", &odm_consultation_category_popularity_aggregation, &pop_top3, expect_category_popularity},
   {"workshops, window [Feb 1, Apr 1)", &odm_consultation_category_popularity_aggregation, &pop_workshop_window,
    expect_category_popularity},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   cs_week_consultant.period = "week";
   cs_week_consultant.has_period = 1;
   odm_ax_oid (&cs_week_consultant.consultantId, 206);
   cs_week_consultant.has_consultantId = 1;
   return d;
}

/* A consultation without a location breaks the spec (location.type is required): only
 * another client stores one, so it is stored as written. */
static bool
as_is (size_t i)
{
   return i % 3 == 0;
}

const odm_analytics_module_t odm_analytics_consultations = {
   &odm_consultation_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0], as_is};
