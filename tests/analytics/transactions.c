/* Analytics of transactions, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 64
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_transaction_t docs[N];

static const char *
type_of (size_t i)
{
   /* per 8: 3 subscriptions, 3 consultations, a webinar, a donation (ties by count) */
   size_t k = i % 8;
   return k < 3 ? "subscription" : k < 6 ? "consultation" : k < 7 ? "webinar" : "donation";
}

static const char *
method_of (size_t i)
{
   /* card 27, paypal 14, bank_transfer 15, crypto 4, none 4 */
   size_t k = i % 12;
   if (i % 16 == 15) {
      return NULL;
   }
   return k < 5 ? "card" : k < 8 ? "paypal" : k < 11 ? "bank_transfer" : "crypto";
}

static void
add_refund (odm_transaction_t *d, double amount, const char *reason)
{
   odm_transaction_refund_t *f;
   d->refunds.items = bson_realloc (d->refunds.items, (d->refunds.count + 1) * sizeof d->refunds.items[0]);
   f = &d->refunds.items[d->refunds.count++];
   memset (f, 0, sizeof *f);
   f->amount = amount;
   f->has_amount = ODM_PRESENT;
   if (reason) {
      f->reason = bson_strdup (reason);
      f->has_reason = ODM_PRESENT;
   }
   f->processedAt = d->createdAt + 2 * ODM_AX_DAY;
   f->has_processedAt = ODM_PRESENT;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 26);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_transaction_t *d = &docs[i];
      const char *method = method_of (i);
      int64_t roll;
      odm_transaction_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (26000 + i));
      d->has__id = ODM_PRESENT;
      d->transactionId = bson_strdup_printf ("TXN-2024-%03zu", i);
      odm_ax_oid (&d->userId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 10)));
      d->has_userId = ODM_PRESENT;
      d->type = bson_strdup (type_of (i));
      d->amount = (double) odm_ax_rng_range (&r, 20, 200) + (double) odm_ax_rng_range (&r, 0, 99) / 100.0;
      d->has_amount = ODM_PRESENT;
      if (i % 6 == 0) {
         odm_ax_set_string (&d->currency, "EUR");
      }
      roll = odm_ax_rng_range (&r, 0, 19);
      odm_ax_set_string (&d->status, roll < 10 ? "completed" : roll < 13 ? "failed" : roll < 16 ? "pending" : roll < 18 ? "refunded" : "disputed");
      if (method) {
         d->paymentMethod.type = bson_strdup (method);
         d->paymentMethod.has_type = ODM_PRESENT;
         if (!strcmp (method, "card")) {
            d->paymentMethod.last4 = bson_strdup ("4242");
            d->paymentMethod.brand = bson_strdup (i % 2 ? "visa" : "mastercard");
         }
         d->has_paymentMethod = ODM_PRESENT;
      }
      d->description = bson_strdup_printf ("%s payment %zu", d->type, i);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      if (i % 3 != 2) { /* some transactions carry no tax */
         d->tax.rate = 0.08;
         d->tax.has_rate = ODM_PRESENT;
         d->tax.amount = (double) (int64_t) (d->amount * 8.0) / 100.0;
         d->tax.has_amount = ODM_PRESENT;
         d->has_tax = ODM_PRESENT;
      }
      if (i % 4 != 3) { /* fees known for most, the platform fee for half */
         d->fees.processing = 0.3 + (double) (int64_t) (d->amount * 2.9) / 100.0;
         d->fees.has_processing = ODM_PRESENT;
         if (i % 2 == 0) {
            d->fees.platform = 1.0;
            d->fees.has_platform = ODM_PRESENT;
         }
         d->has_fees = ODM_PRESENT;
      }
      if (!strcmp (d->status, "refunded")) {
         add_refund (d, d->amount, i % 2 ? NULL : "customer_request");
      }
   }
   /* Ties: three reasons refund exactly 30 in total (two refunds of 15, one of 30, 12.5 + 17.5). */
   docs[0].amount = docs[1].amount = docs[2].amount = docs[3].amount = 300; /* above any full refund */
   add_refund (&docs[0], 15, "duplicate");
   add_refund (&docs[1], 15, "duplicate");
   add_refund (&docs[2], 30, "fraud");
   add_refund (&docs[3], 12.5, "other");
   add_refund (&docs[3], 17.5, "other");
   /* Boundaries: transactions exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
in_window (const odm_transaction_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a period and a currency, a type, a payment method or a reason */
   double count, a, b, c, d, e;
   odm_ax_acc_t avg;
   bson_oid_t set[N];
   size_t nset;
} group_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_a_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->a, y->a);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ revenue */

typedef odm_transaction_revenue_params_t rv_t;

static void
expect_revenue (const void *params, bson_t *rows)
{
   const rv_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_transaction_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || strcmp (d->status, p->has_status ? p->status : "completed") ||
          (p->has_type && strcmp (p->type, d->type))) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, d->currency);
      x->count++;
      x->a += d->amount;
      x->b += d->tax.has_amount == ODM_PRESENT ? d->tax.amount : 0;
      x->c += d->fees.has_processing == ODM_PRESENT ? d->fees.processing : 0;
      x->d += d->fees.has_platform == ODM_PRESENT ? d->fees.platform : 0;
      {
         size_t k;
         for (k = 0; k < d->refunds.count; k++) { /* refunds are paid back: out of the net revenue */
            x->e += d->refunds.items[k].amount;
         }
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", "{", "period", BCON_UTF8 (g[i].key.s), "currency", BCON_UTF8 (g[i].key.s2), "}",
                              "transactions", BCON_DOUBLE (g[i].count), "grossRevenue", BCON_DOUBLE (g[i].a),
                              "taxCollected", BCON_DOUBLE (g[i].b), "processingFees", BCON_DOUBLE (g[i].c),
                              "platformFees", BCON_DOUBLE (g[i].d), "refunded", BCON_DOUBLE (g[i].e), "netRevenue",
                              BCON_DOUBLE (g[i].a - (g[i].b + g[i].c + g[i].d + g[i].e)), "averageAmount",
                              BCON_DOUBLE (g[i].a / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rv_t rv_month = {0};
static const rv_t rv_week_refunded = {.period = "week", .has_period = 1, .status = "refunded", .has_status = 1};
static const rv_t rv_day_subscriptions_window = {.period = "day", .has_period = 1, .type = "subscription", .has_type = 1,
                                                 .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const rv_t rv_year = {.period = "year", .has_period = 1};

/* ------------------------------------------------------------ success_rates */

typedef odm_transaction_success_rates_params_t sr_t;

static void
expect_success_rates (const void *params, bson_t *rows)
{
   const sr_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_transaction_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_paymentMethod && (!d->paymentMethod.type || strcmp (p->paymentMethod, d->paymentMethod.type)))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->type, NULL);
      x->count++;
      x->a += !strcmp (d->status, "completed");
      x->b += !strcmp (d->status, "failed");
      x->c += !strcmp (d->status, "pending");
      x->d += !strcmp (d->status, "refunded");
      x->e += !strcmp (d->status, "disputed");
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "transactions", BCON_DOUBLE (g[i].count), "completed",
                              BCON_DOUBLE (g[i].a), "failed", BCON_DOUBLE (g[i].b), "pending", BCON_DOUBLE (g[i].c),
                              "refunded", BCON_DOUBLE (g[i].d), "disputed", BCON_DOUBLE (g[i].e), "successRate",
                              BCON_DOUBLE (g[i].a / g[i].count), "failureRate", BCON_DOUBLE (g[i].b / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sr_t sr_all = {0};
static const sr_t sr_card = {.paymentMethod = "card", .has_paymentMethod = 1};
static const sr_t sr_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const sr_t sr_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ payment_methods */

typedef odm_transaction_payment_methods_params_t pm_t;

static void
expect_payment_methods (const void *params, bson_t *rows)
{
   const pm_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_transaction_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_type && strcmp (p->type, d->type))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->paymentMethod.type ? d->paymentMethod.type : "unknown",
                            NULL);
      x->count++;
      odm_ax_oid_set_add (x->set, &x->nset, &d->userId);
      x->a += d->amount;
      x->b += !strcmp (d->status, "completed");
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "transactions", BCON_DOUBLE (g[i].count), "uniqueUsers",
                              BCON_DOUBLE ((double) g[i].nset), "totalAmount", BCON_DOUBLE (g[i].a), "averageAmount",
                              BCON_DOUBLE (g[i].a / g[i].count), "completed", BCON_DOUBLE (g[i].b), "successRate",
                              BCON_DOUBLE (g[i].b / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pm_t pm_all = {0};
static const pm_t pm_top4 = {.limit = 4, .has_limit = 1};
static const pm_t pm_donations = {.type = "donation", .has_type = 1};
static const pm_t pm_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ refunds */

typedef odm_transaction_refunds_params_t rf_t;

static void
expect_refunds (const void *params, bson_t *rows)
{
   const rf_t *p = params;
   static group_t g[N];
   size_t ng = 0, i, k;
   for (i = 0; i < N; i++) {
      const odm_transaction_t *d = &docs[i];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || (p->has_type && strcmp (p->type, d->type))) {
         continue;
      }
      for (k = 0; k < d->refunds.count; k++) {
         const odm_transaction_refund_t *f = &d->refunds.items[k];
         group_t *x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, f->reason ? f->reason : "unspecified", NULL);
         x->count++;
         x->a += f->amount;
         odm_ax_acc_add (&x->avg, f->amount);
         odm_ax_oid_set_add (x->set, &x->nset, &d->_id);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_a_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "refunds", BCON_DOUBLE (g[i].count), "totalRefunded",
                              BCON_DOUBLE (g[i].a), "averageRefund", BCON_DOUBLE (g[i].avg.sum / g[i].avg.n),
                              "largestRefund", BCON_DOUBLE (g[i].avg.max), "transactions", BCON_DOUBLE ((double) g[i].nset));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rf_t rf_all = {0};
static const rf_t rf_subscriptions = {.type = "subscription", .has_type = 1};
static const rf_t rf_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"completed, by month", &odm_transaction_revenue_aggregation, &rv_month, expect_revenue},
   {"refunded, by ISO week", &odm_transaction_revenue_aggregation, &rv_week_refunded, expect_revenue},
   {"subscriptions by day, window [Feb 1, Apr 1)", &odm_transaction_revenue_aggregation, &rv_day_subscriptions_window,
    expect_revenue},
   {"completed, by year", &odm_transaction_revenue_aggregation, &rv_year, expect_revenue},
   {"all", &odm_transaction_success_rates_aggregation, &sr_all, expect_success_rates},
   {"card only", &odm_transaction_success_rates_aggregation, &sr_card, expect_success_rates},
   {"window [Feb 1, Apr 1)", &odm_transaction_success_rates_aggregation, &sr_window, expect_success_rates},
   {"window of one document", &odm_transaction_success_rates_aggregation, &sr_one_doc, expect_success_rates},
   {"all", &odm_transaction_payment_methods_aggregation, &pm_all, expect_payment_methods},
   {"top 4 through a tie", &odm_transaction_payment_methods_aggregation, &pm_top4, expect_payment_methods},
   {"donations", &odm_transaction_payment_methods_aggregation, &pm_donations, expect_payment_methods},
   {"window [Feb 1, Apr 1)", &odm_transaction_payment_methods_aggregation, &pm_window, expect_payment_methods},
   {"all", &odm_transaction_refunds_aggregation, &rf_all, expect_refunds},
   {"subscriptions", &odm_transaction_refunds_aggregation, &rf_subscriptions, expect_refunds},
   {"window [Feb 1, Apr 1)", &odm_transaction_refunds_aggregation, &rf_window, expect_refunds},
};

/* A transaction without a payment method breaks the spec (paymentMethod.type is
 * required): only another client stores one, so it is stored as written. */
static bool
as_is (size_t i)
{
   return method_of (i) == NULL;
}

const odm_analytics_module_t odm_analytics_transactions = {
   &odm_transaction_schema, dataset, cases, sizeof cases / sizeof cases[0], as_is};
