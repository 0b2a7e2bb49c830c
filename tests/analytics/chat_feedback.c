/* Analytics of chat_feedback, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 64
static odm_chat_feedback_t docs[N];
static const char *const categories[] = {"accuracy", "helpfulness", "speed", "creativity", "formatting", "relevance"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 3);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_feedback_t *d = &docs[i];
      odm_chat_feedback_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (3000 + i));
      d->has__id = ODM_PRESENT;
      d->conversationId = bson_strdup_printf ("session-%zu", i % 9);
      odm_ax_oid (&d->userId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 6)));
      d->has_userId = ODM_PRESENT;
      odm_ax_oid (&d->agentId, (uint32_t) (200 + odm_ax_rng_range (&r, 1, 4)));
      d->has_agentId = ODM_PRESENT;
      d->rating = (double) odm_ax_rng_range (&r, 1, 5);
      if (i % 7 == 0) {
         d->rating -= 0.5; /* fractional ratings exist */
         d->rating = d->rating < 1 ? 1 : d->rating;
      }
      d->has_rating = ODM_PRESENT;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      /* 0 to 3 distinct categories; some feedback has none */
      k = (size_t) odm_ax_rng_range (&r, 0, 3);
      d->categories.items = k ? bson_malloc0 (k * sizeof (char *)) : NULL;
      for (d->categories.count = 0; d->categories.count < k; d->categories.count++) {
         d->categories.items[d->categories.count] = bson_strdup (categories[(i + d->categories.count * 2) % 6]);
      }
   }
   /* Ties: agent 205 and 206 get exactly the same ratings (two 4s each). */
   for (i = 0; i < 4; i++) {
      odm_ax_oid (&docs[i].agentId, i < 2 ? 205 : 206);
      docs[i].rating = 4;
   }
   /* A feedback entry that lists a category twice tagged it once. */
   for (i = 0; i < N && docs[i].categories.count == 0; i++) {
   }
   ck_assert (i < N);
   docs[i].categories.items = bson_realloc (docs[i].categories.items, (docs[i].categories.count + 1) * sizeof (char *));
   docs[i].categories.items[docs[i].categories.count] = bson_strdup (docs[i].categories.items[0]);
   docs[i].categories.count++;
   /* Boundaries: documents exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_feedback_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* an agent or a user, or a category or a period */
   double count, positive;
   odm_ax_acc_t rating;
} group_t;

static void
add (group_t *g, double rating)
{
   g->count++;
   odm_ax_acc_add (&g->rating, rating);
   g->positive += rating >= 4;
}

static int
by_avg_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->rating.sum / x->count, y->rating.sum / y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ agent_performance */

typedef odm_chat_feedback_agent_performance_params_t ap_t;

static void
expect_agent_performance (const void *params, bson_t *rows)
{
   const ap_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &docs[i].agentId, NULL, NULL), docs[i].rating);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "feedbackCount", BCON_DOUBLE (g[i].count), "averageRating",
                              BCON_DOUBLE (g[i].rating.sum / g[i].count), "lowestRating", BCON_DOUBLE (g[i].rating.min),
                              "highestRating", BCON_DOUBLE (g[i].rating.max), "positiveCount", BCON_DOUBLE (g[i].positive));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ap_t ap_all = {0};
static const ap_t ap_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static const ap_t ap_top2 = {.limit = 2, .has_limit = 1};
static const ap_t ap_empty_window = {.from = ODM_AX_EPOCH + 400 * ODM_AX_DAY, .has_from = 1};

/* ------------------------------------------------------------ feedback_trend */

typedef odm_chat_feedback_feedback_trend_params_t ft_t;

static void
expect_feedback_trend (const void *params, bson_t *rows)
{
   const ft_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (!in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_agentId, &p->agentId, &docs[i].agentId)) {
         continue;
      }
      odm_ax_period (docs[i].createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), docs[i].rating);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "feedbackCount", BCON_DOUBLE (g[i].count),
                              "averageRating", BCON_DOUBLE (g[i].rating.sum / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ft_t ft_month = {0};
static const ft_t ft_day = {.period = "day", .has_period = 1};
static const ft_t ft_week = {.period = "week", .has_period = 1};
static ft_t ft_agent_window; /* set in the module init below */

/* ------------------------------------------------------------ user_satisfaction */

typedef odm_chat_feedback_user_satisfaction_params_t us_t;

static void
expect_user_satisfaction (const void *params, bson_t *rows)
{
   const us_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &docs[i].userId, NULL, NULL), docs[i].rating);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "feedbackCount", BCON_DOUBLE (g[i].count), "averageRating",
                              BCON_DOUBLE (g[i].rating.sum / g[i].count), "satisfiedCount", BCON_DOUBLE (g[i].positive),
                              "satisfactionRate", BCON_DOUBLE (g[i].positive / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const us_t us_all = {0};
static const us_t us_top3_window = {.limit = 3, .has_limit = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ category_insights */

typedef odm_chat_feedback_category_insights_params_t ci_t;

static void
expect_category_insights (const void *params, bson_t *rows)
{
   const ci_t *p = params;
   group_t g[N * 3];
   size_t ng = 0, i, k;
   for (i = 0; i < N; i++) {
      if (!in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_agentId, &p->agentId, &docs[i].agentId)) {
         continue;
      }
      for (k = 0; k < docs[i].categories.count; k++) {
         if (odm_ax_first_of (docs[i].categories.items, k)) { /* once per distinct category */
            add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].categories.items[k], NULL), docs[i].rating);
         }
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "mentions", BCON_DOUBLE (g[i].count), "averageRating",
                              BCON_DOUBLE (g[i].rating.sum / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ci_t ci_all = {0};
static ci_t ci_agent;

static const odm_ax_case_t cases[] = {
   {"all", &odm_chat_feedback_agent_performance_aggregation, &ap_all, expect_agent_performance},
   {"window [Feb 1, Apr 1)", &odm_chat_feedback_agent_performance_aggregation, &ap_window, expect_agent_performance},
   {"top 2 with a tie", &odm_chat_feedback_agent_performance_aggregation, &ap_top2, expect_agent_performance},
   {"window after the data", &odm_chat_feedback_agent_performance_aggregation, &ap_empty_window, expect_agent_performance, ODM_AX_NO_ROWS},
   {"by month", &odm_chat_feedback_feedback_trend_aggregation, &ft_month, expect_feedback_trend},
   {"by day", &odm_chat_feedback_feedback_trend_aggregation, &ft_day, expect_feedback_trend},
   {"by ISO week", &odm_chat_feedback_feedback_trend_aggregation, &ft_week, expect_feedback_trend},
   {"one agent, window", &odm_chat_feedback_feedback_trend_aggregation, &ft_agent_window, expect_feedback_trend},
   {"all", &odm_chat_feedback_user_satisfaction_aggregation, &us_all, expect_user_satisfaction},
   {"top 3 before Apr 1", &odm_chat_feedback_user_satisfaction_aggregation, &us_top3_window, expect_user_satisfaction},
   {"all", &odm_chat_feedback_category_insights_aggregation, &ci_all, expect_category_insights},
   {"one agent", &odm_chat_feedback_category_insights_aggregation, &ci_agent, expect_category_insights},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&ft_agent_window.agentId, 202);
   ft_agent_window.has_agentId = 1;
   ft_agent_window.from = docs[10].createdAt; /* inclusive */
   ft_agent_window.has_from = 1;
   ft_agent_window.to = docs[11].createdAt; /* exclusive */
   ft_agent_window.has_to = 1;
   odm_ax_oid (&ci_agent.agentId, 203);
   ci_agent.has_agentId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_feedback = {
   &odm_chat_feedback_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
