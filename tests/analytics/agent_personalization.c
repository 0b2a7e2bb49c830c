/* Analytics of agent_personalization, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_agent_personalization_t docs[N];
static const char *const modes[] = {"professional", "balanced", "creative", "fast", "coding"};
static const char *const styles[] = {"formal", "casual", "technical"};
static const char *const actions[] = {"debug", "optimize", "explain"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 29);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_agent_personalization_t *d = &docs[i];
      odm_agent_personalization_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (29000 + i));
      d->has__id = ODM_PRESENT;
      /* a (user, agent) pair not taken yet; agents 207 and 208 are personalized by ten users each */
      do {
         odm_ax_oid (&d->userId, i < 20 ? (uint32_t) (101 + i % 10) : (uint32_t) (100 + odm_ax_rng_range (&r, 1, 10)));
         odm_ax_oid (&d->agentId, i < 20 ? (uint32_t) (207 + i / 10) : (uint32_t) (200 + odm_ax_rng_range (&r, 1, 6)));
         for (k = 0; k < i && !(bson_oid_equal (&docs[k].userId, &d->userId) && bson_oid_equal (&docs[k].agentId, &d->agentId));
              k++) {
         }
      } while (k < i);
      d->has_userId = ODM_PRESENT;
      d->has_agentId = ODM_PRESENT;
      if (i % 3 != 0) {
         d->customName = bson_strdup_printf ("My Buddy %zu", i);
      }
      if (i % 4 == 1 || i % 4 == 2) {
         d->systemPrompt = bson_strdup ("You are a coding assistant who explains every step.");
      }
      if (i % 5 == 3) {
         d->color = bson_strdup ("from-purple-500 to-pink-500");
         d->welcomeMessage = bson_strdup ("Hey there! Ready to code?");
      }
      /* settings: some keep the defaults (0.7, 2000, balanced) */
      if (i % 5 != 0) {
         d->settings.temperature = (double) odm_ax_rng_range (&r, 0, 20) / 10.0;
         d->settings.maxTokens = (double) (500 * odm_ax_rng_range (&r, 1, 8));
         odm_ax_set_string (&d->settings.mode, modes[odm_ax_rng_range (&r, 0, 4)]);
      }
      k = (size_t) odm_ax_rng_range (&r, 0, 3);
      d->quickActions.items = k ? bson_malloc0 (k * sizeof (char *)) : NULL;
      for (d->quickActions.count = 0; d->quickActions.count < k; d->quickActions.count++) {
         d->quickActions.items[d->quickActions.count] = bson_strdup (actions[d->quickActions.count]);
      }
      if (i % 3 != 1) {
         odm_ax_set_string (&d->conversationStyle, styles[odm_ax_rng_range (&r, 0, 2)]);
      }
      d->notifications.enabled = i % 6 != 0;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
   }
   /* No mode: docs[40] written by another client without one (no default filled), docs[41]
    * with an explicit null, in the same month: one null group (the two are distinct
    * group keys unless the pipeline normalises them). docs[42]'s conversation style is
    * null: not a distinct style. */
   docs[40].createdAt = FEB1 + 10 * ODM_AX_DAY;
   odm_ax_unset_string (&docs[40].settings.mode, &docs[40].settings.has_mode, ODM_ABSENT);
   docs[41].createdAt = FEB1 + 11 * ODM_AX_DAY;
   odm_ax_unset_string (&docs[41].settings.mode, &docs[41].settings.has_mode, ODM_NULL);
   odm_ax_unset_string (&docs[42].conversationStyle, &docs[42].has_conversationStyle, ODM_NULL);
   /* Boundaries: personalizations exactly at 2024-02-01 and 2024-04-01. */
   docs[30].createdAt = FEB1;
   docs[31].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
in_window (const odm_agent_personalization_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* an agent or a user, or a period and a mode */
   double count, a, b, c, d, temperature, tokens;
   int64_t first, last;
   const char *modes[N], *styles[N];
   size_t nmodes, nstyles;
} group_t;

/* A new group: its first and last dates at the ends, for the first date to replace. */
static const group_t blank = {.first = INT64_MAX, .last = INT64_MIN};

/* A mode, or NULL when the document has none (missing or null): the null key, one group. */
static const char *
mode_of (const odm_agent_personalization_t *d)
{
   return d->settings.mode; /* present while set */
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ usage */

typedef odm_agent_personalization_usage_params_t us_t;

static void
expect_usage (const void *params, bson_t *rows)
{
   const us_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_personalization_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->agentId, NULL, NULL);
      x->count++;
      x->a += d->customName != NULL;
      x->b += d->systemPrompt != NULL;
      x->c += d->quickActions.count > 0;
      x->d += d->notifications.enabled;
      x->temperature += d->settings.temperature;
      x->tokens += d->settings.maxTokens;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "personalizations", BCON_DOUBLE (g[i].count), "customNamed",
                              BCON_DOUBLE (g[i].a), "customPrompts", BCON_DOUBLE (g[i].b), "withQuickActions",
                              BCON_DOUBLE (g[i].c), "notificationsEnabled", BCON_DOUBLE (g[i].d), "averageTemperature",
                              BCON_DOUBLE (g[i].temperature / g[i].count), "averageMaxTokens",
                              BCON_DOUBLE (g[i].tokens / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const us_t us_all = {0};
static const us_t us_top1 = {.limit = 1, .has_limit = 1};
static const us_t us_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static us_t us_agent; /* set in the module init below */

/* ------------------------------------------------------------ customization_trends */

typedef odm_agent_personalization_customization_trends_params_t ct_t;

static void
expect_customization_trends (const void *params, bson_t *rows)
{
   const ct_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_personalization_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, key, mode_of (d));
      x->count++;
      x->temperature += d->settings.temperature;
      x->tokens += d->settings.maxTokens;
      x->a += d->systemPrompt != NULL;
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = bson_new (), id;
      BSON_APPEND_DOCUMENT_BEGIN (row, "_id", &id);
      BSON_APPEND_UTF8 (&id, "period", g[i].key.s);
      odm_ax_append_str_or_null (&id, "mode", g[i].key.null2, g[i].key.s2);
      bson_append_document_end (row, &id);
      BCON_APPEND (row, "personalizations", BCON_DOUBLE (g[i].count), "averageTemperature",
                              BCON_DOUBLE (g[i].temperature / g[i].count), "averageMaxTokens",
                              BCON_DOUBLE (g[i].tokens / g[i].count), "customPrompts", BCON_DOUBLE (g[i].a));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ct_t ct_month = {0};
static const ct_t ct_day_window = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const ct_t ct_year = {.period = "year", .has_period = 1};
static ct_t ct_week_agent; /* set in the module init below */

/* ------------------------------------------------------------ user_engagement */

typedef odm_agent_personalization_user_engagement_params_t ue_t;

static void
expect_user_engagement (const void *params, bson_t *rows)
{
   const ue_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_personalization_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->userId, NULL, NULL);
      x->count++;
      x->a += (double) d->quickActions.count;
      if (mode_of (d)) { /* a missing or null mode or style is not a value */
         odm_ax_str_set_add (x->modes, &x->nmodes, d->settings.mode);
      }
      if (d->conversationStyle) {
         odm_ax_str_set_add (x->styles, &x->nstyles, d->conversationStyle);
      }
      x->first = d->createdAt < x->first ? d->createdAt : x->first;
      x->last = d->createdAt > x->last ? d->createdAt : x->last;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "agentsPersonalized", BCON_DOUBLE (g[i].count), "quickActions",
                              BCON_DOUBLE (g[i].a), "distinctModes", BCON_DOUBLE ((double) g[i].nmodes), "distinctStyles",
                              BCON_DOUBLE ((double) g[i].nstyles), "firstPersonalizedAt", BCON_DATE_TIME (g[i].first),
                              "lastPersonalizedAt", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ue_t ue_all = {0};
static const ue_t ue_top2 = {.limit = 2, .has_limit = 1};
static const ue_t ue_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};
static ue_t ue_user; /* set in the module init below */

static const odm_ax_case_t cases[] = {
   {"all", &odm_agent_personalization_usage_aggregation, &us_all, expect_usage},
   {"top 1 through a tie", &odm_agent_personalization_usage_aggregation, &us_top1, expect_usage},
   {"window [Feb 1, Apr 1)", &odm_agent_personalization_usage_aggregation, &us_window, expect_usage},
   {"one agent", &odm_agent_personalization_usage_aggregation, &us_agent, expect_usage},
   {"by month", &odm_agent_personalization_customization_trends_aggregation, &ct_month, expect_customization_trends},
   {"by ISO week, one agent", &odm_agent_personalization_customization_trends_aggregation, &ct_week_agent,
    expect_customization_trends},
   {"by day, window [Feb 1, Apr 1)", &odm_agent_personalization_customization_trends_aggregation, &ct_day_window,
    expect_customization_trends},
   {"by year", &odm_agent_personalization_customization_trends_aggregation, &ct_year, expect_customization_trends},
   {"all", &odm_agent_personalization_user_engagement_aggregation, &ue_all, expect_user_engagement},
   {"top 2 through a tie", &odm_agent_personalization_user_engagement_aggregation, &ue_top2, expect_user_engagement},
   {"window of one document", &odm_agent_personalization_user_engagement_aggregation, &ue_one_doc,
    expect_user_engagement},
   {"one user", &odm_agent_personalization_user_engagement_aggregation, &ue_user, expect_user_engagement},
};

static bool
as_is (size_t i)
{
   return i == 40;
}

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&us_agent.agentId, 203);
   us_agent.has_agentId = 1;
   ct_week_agent.period = "week";
   ct_week_agent.has_period = 1;
   odm_ax_oid (&ct_week_agent.agentId, 207);
   ct_week_agent.has_agentId = 1;
   odm_ax_oid (&ue_user.userId, 104);
   ue_user.has_userId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_agent_personalization = {
   &odm_agent_personalization_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0], as_is};
