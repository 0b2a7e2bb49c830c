/* Analytics of contact_messages, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 64
static odm_contact_message_t docs[N];
static const char *const statuses[] = {"pending", "read", "replied", "closed"};
static const char *const priorities[] = {"low", "normal", "normal", "high", "urgent"};
static const char *const categories[] = {"general", "technical", "billing", "feature_request", "bug_report"};
/* Agent named by i % 8 (NULL: none): Mistral Expert and Code Wizard 16 each, Data Sage and
 * Art Muse 8 each, so both pairs tie. */
static const char *const agents[] = {NULL, "Mistral Expert", "Code Wizard", "Mistral Expert",
                                     NULL, "Code Wizard",    "Data Sage",   "Art Muse"};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
#define HOUR INT64_C (3600000)

static void
move_to (odm_contact_message_t *d, int64_t t)
{
   d->response.respondedAt += t - d->createdAt;
   d->createdAt = t;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 11);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_contact_message_t *d = &docs[i];
      int64_t s;
      odm_contact_message_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (3000 + i));
      d->has__id = ODM_PRESENT;
      s = odm_ax_rng_range (&r, 1, 12); /* twelve senders write several times */
      d->name = bson_strdup_printf ("Sender %d", (int) s);
      d->email = bson_strdup_printf ("sender%d@example.com", (int) s);
      d->subject = bson_strdup_printf ("Question %zu", i);
      d->message = bson_strdup ("I would like to know more about your agents.");
      if (agents[i % 8]) {
         d->agentName = bson_strdup (agents[i % 8]);
      }
      odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 3)]);
      odm_ax_set_string (&d->priority, priorities[odm_ax_rng_range (&r, 0, 4)]);
      odm_ax_set_string (&d->category, categories[odm_ax_rng_range (&r, 0, 4)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, -10, 170) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      /* replied messages and half the closed ones have a response, 1 to 96 hours later,
       * by one of two staff members */
      if (!strcmp (d->status, "replied") || (!strcmp (d->status, "closed") && i % 2 == 0)) {
         d->response.content = bson_strdup ("Thank you for your message.");
         odm_ax_oid (&d->response.respondedBy, (uint32_t) (90 + odm_ax_rng_range (&r, 1, 2)));
         d->response.has_respondedBy = ODM_PRESENT;
         d->response.respondedAt =
            d->createdAt + odm_ax_rng_range (&r, 1, 96) * HOUR + odm_ax_rng_range (&r, 0, 3599999);
         d->response.has_respondedAt = ODM_PRESENT;
         d->has_response = ODM_PRESENT;
         odm_ax_oid (&d->assignedTo, 90 + (uint32_t) (i % 2 + 1));
         d->has_assignedTo = ODM_PRESENT;
      }
   }
   /* Boundaries: messages exactly at Feb 1 and Apr 1 (their responses move with them). */
   move_to (&docs[10], FEB1);
   move_to (&docs[11], APR1);
   *n = N;
   return docs;
}

static bool
answered (const odm_contact_message_t *d)
{
   return d->response.has_respondedAt == ODM_PRESENT;
}

/* ------------------------------------------------------------ groups by string key */

typedef struct {
   odm_ax_key_t key; /* a period, a priority, a category or an agent */
   double n, a, b, c;
   odm_ax_acc_t hours; /* from the message to the response */
   int64_t latest;
   const char *set[N];
   size_t nset;
} group_t;

/* A new group: no latest date yet. */
static const group_t blank = {.latest = INT64_MIN};

static int
by_n_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ volume */

typedef odm_contact_message_volume_params_t vo_t;

static void
expect_volume (const void *params, bson_t *rows)
{
   const vo_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_contact_message_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_category && !odm_str_eq (d->category, p->category)) ||
          (p->has_priority && !odm_str_eq (d->priority, p->priority))) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, key, NULL);
      x->n++;
      x->a += odm_str_eq (d->priority, "urgent");
      x->b += odm_str_eq (d->status, "pending");
      x->c += answered (d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "messages", BCON_DOUBLE (g[i].n), "urgent",
                              BCON_DOUBLE (g[i].a), "pending", BCON_DOUBLE (g[i].b), "answered", BCON_DOUBLE (g[i].c));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const vo_t vo_month = {0};
static const vo_t vo_day = {.period = "day", .has_period = 1};
static const vo_t vo_week = {.period = "week", .has_period = 1};
static const vo_t vo_year = {.period = "year", .has_period = 1};
static const vo_t vo_technical_window = {
   .category = "technical", .has_category = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const vo_t vo_urgent = {.priority = "urgent", .has_priority = 1, .period = "week", .has_period = 1};

/* ------------------------------------------------------------ response_times */

typedef odm_contact_message_response_times_params_t rt_t;

static int
by_avg_asc_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = -odm_ax_cmp_double_desc (x->hours.sum / x->hours.n, y->hours.sum / y->hours.n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_response_times (const void *params, bson_t *rows)
{
   const rt_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_contact_message_t *d = &docs[i];
      group_t *x;
      double h;
      if (!answered (d) || !odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_category && !odm_str_eq (d->category, p->category)) ||
          !odm_ax_oid_ok (p->has_respondedBy, &p->respondedBy, &d->response.respondedBy)) {
         continue;
      }
      h = (double) (d->response.respondedAt - d->createdAt) / 3600000;
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, d->priority, NULL);
      x->n++;
      odm_ax_acc_add (&x->hours, h);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_asc_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "answered", BCON_DOUBLE (g[i].n), "averageHours",
                              BCON_DOUBLE (g[i].hours.sum / g[i].hours.n), "fastestHours", BCON_DOUBLE (g[i].hours.min),
                              "slowestHours", BCON_DOUBLE (g[i].hours.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rt_t rt_all = {0};
static const rt_t rt_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const rt_t rt_billing = {.category = "billing", .has_category = 1};
static rt_t rt_staff; /* answered by user 91, set below */
static rt_t rt_one;   /* a window holding exactly one answered message, set below */

/* ------------------------------------------------------------ category_distribution */

typedef odm_contact_message_category_distribution_params_t cd_t;

static void
expect_category_distribution (const void *params, bson_t *rows)
{
   const cd_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_contact_message_t *d = &docs[i];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_status && !odm_str_eq (d->status, p->status))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, d->category, NULL);
      x->n++;
      x->a += odm_str_eq (d->priority, "high") || odm_str_eq (d->priority, "urgent");
      x->b += odm_str_eq (d->status, "pending");
      x->c += answered (d);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_n_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "messages", BCON_DOUBLE (g[i].n), "highPriority",
                              BCON_DOUBLE (g[i].a), "pending", BCON_DOUBLE (g[i].b), "answered", BCON_DOUBLE (g[i].c));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cd_t cd_all = {0};
static const cd_t cd_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const cd_t cd_pending = {.status = "pending", .has_status = 1};

/* ------------------------------------------------------------ agent_inquiries */

typedef odm_contact_message_agent_inquiries_params_t ai_t;

static void
expect_agent_inquiries (const void *params, bson_t *rows)
{
   const ai_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_contact_message_t *d = &docs[i];
      group_t *x;
      if (!d->agentName || !odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_status && !odm_str_eq (d->status, p->status))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, d->agentName, NULL);
      x->n++;
      odm_ax_str_set_add (x->set, &x->nset, d->email);
      x->b += odm_str_eq (d->status, "pending");
      x->c += answered (d);
      x->latest = d->createdAt > x->latest ? d->createdAt : x->latest;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_n_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "inquiries", BCON_DOUBLE (g[i].n), "senders",
                              BCON_DOUBLE ((double) g[i].nset), "pending", BCON_DOUBLE (g[i].b), "answered",
                              BCON_DOUBLE (g[i].c), "latestAt", BCON_DATE_TIME (g[i].latest));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ai_t ai_all = {0};
static const ai_t ai_top1 = {.limit = 1, .has_limit = 1};
static const ai_t ai_top3 = {.limit = 3, .has_limit = 1};
static const ai_t ai_pending_window = {
   .status = "pending", .has_status = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_contact_message_volume_aggregation, &vo_month, expect_volume},
   {"by day", &odm_contact_message_volume_aggregation, &vo_day, expect_volume},
   {"by ISO week", &odm_contact_message_volume_aggregation, &vo_week, expect_volume},
   {"by year", &odm_contact_message_volume_aggregation, &vo_year, expect_volume},
   {"technical, window [Feb 1, Apr 1)", &odm_contact_message_volume_aggregation, &vo_technical_window, expect_volume},
   {"urgent by week", &odm_contact_message_volume_aggregation, &vo_urgent, expect_volume},
   {"all", &odm_contact_message_response_times_aggregation, &rt_all, expect_response_times},
   {"window [Feb 1, Apr 1)", &odm_contact_message_response_times_aggregation, &rt_window, expect_response_times},
   {"billing", &odm_contact_message_response_times_aggregation, &rt_billing, expect_response_times},
   {"answered by user 91", &odm_contact_message_response_times_aggregation, &rt_staff, expect_response_times},
   {"window of one message", &odm_contact_message_response_times_aggregation, &rt_one, expect_response_times},
   {"all", &odm_contact_message_category_distribution_aggregation, &cd_all, expect_category_distribution},
   {"window [Feb 1, Apr 1)", &odm_contact_message_category_distribution_aggregation, &cd_window,
    expect_category_distribution},
   {"pending", &odm_contact_message_category_distribution_aggregation, &cd_pending, expect_category_distribution},
   {"all", &odm_contact_message_agent_inquiries_aggregation, &ai_all, expect_agent_inquiries},
   {"top 1 through the Code Wizard/Mistral Expert tie", &odm_contact_message_agent_inquiries_aggregation, &ai_top1,
    expect_agent_inquiries},
   {"top 3 through the Art Muse/Data Sage tie", &odm_contact_message_agent_inquiries_aggregation, &ai_top3,
    expect_agent_inquiries},
   {"pending, window [Feb 1, Apr 1)", &odm_contact_message_agent_inquiries_aggregation, &ai_pending_window,
    expect_agent_inquiries},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   size_t i;
   odm_ax_oid (&rt_staff.respondedBy, 91);
   rt_staff.has_respondedBy = 1;
   for (i = 0; i < N && !answered (&docs[i]); i++) {
   }
   rt_one.from = docs[i].createdAt; /* inclusive */
   rt_one.has_from = 1;
   rt_one.to = docs[i].createdAt + 1; /* exclusive */
   rt_one.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_contact_messages = {&odm_contact_message_schema, dataset_and_params, cases,
                                                               sizeof cases / sizeof cases[0]};
