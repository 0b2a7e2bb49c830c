/* Analytics of agents, verified on a seeded data set with expectations computed here in C
 * from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 48
static odm_agent_t docs[N];
/* Primary provider by i % 6 (NULL: none). */
static const char *const providers[] = {"openai", "anthropic", "gemini", "mistral", NULL, "openai"};
static const char *const common_specialties[] = {"coding", "writing", "analysis"};

static void
add_specialty (odm_agent_t *d, const char *s)
{
   d->specialties.items = bson_realloc (d->specialties.items, (d->specialties.count + 1) * sizeof (char *));
   d->specialties.items[d->specialties.count++] = bson_strdup (s);
   d->has_specialties = ODM_PRESENT;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 10);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_agent_t *d = &docs[i];
      int64_t s;
      odm_agent_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (2000 + i));
      d->has__id = ODM_PRESENT;
      d->id = bson_strdup_printf ("agent-%zu", i);
      d->name = bson_strdup_printf ("Agent %zu", i);
      d->systemPrompt = bson_strdup_printf ("You are agent %zu.", i);
      d->welcomeMessage = bson_strdup ("Hello!");
      if (providers[i % 6]) {
         d->aiProvider.primary = bson_strdup (providers[i % 6]);
         d->has_aiProvider = ODM_PRESENT;
      }
      /* ratings in halves (exact sums); unrated (0) every fourth agent and every gemini one;
       * mistral agents mirror the anthropic ones, so the two providers tie */
      d->stats.averageRating = (i % 4 == 0 || i % 6 == 2) ? 0 : (double) odm_ax_rng_range (&r, 2, 10) / 2;
      if (i % 6 == 3) {
         d->stats.averageRating = docs[i - 2].stats.averageRating;
      }
      d->stats.totalUsers = (double) odm_ax_rng_range (&r, 1, 800);
      d->stats.totalSessions = d->stats.totalUsers * (double) odm_ax_rng_range (&r, 1, 8);
      if (i % 11 == 0) {
         d->stats.totalUsers = 0; /* a new agent: no users, no sessions */
         d->stats.totalSessions = 0;
      }
      /* a third have no pricing at all */
      if (i % 3 != 0) {
         d->pricing.monthly = (double) odm_ax_rng_range (&r, 5, 50);
         d->pricing.has_monthly = ODM_PRESENT;
         d->pricing.daily = 1;
         d->pricing.has_daily = ODM_PRESENT;
         d->has_pricing = ODM_PRESENT;
      }
      /* one or two of the common specialties; research and design always together (a tie);
       * legal only on agents without pricing (its average price is null) */
      k = (size_t) odm_ax_rng_range (&r, 0, 2);
      add_specialty (d, common_specialties[k]);
      if (odm_ax_rng_range (&r, 0, 1)) {
         add_specialty (d, common_specialties[(k + 1) % 3]);
      }
      if (i % 5 == 1) {
         add_specialty (d, "research");
         add_specialty (d, "design");
      }
      if (i % 12 == 0) {
         add_specialty (d, "legal");
      }
      s = odm_ax_rng_range (&r, 0, 9);
      odm_ax_set_string (&d->status, s < 7 ? "active" : s < 9 ? "maintenance" : "deprecated");
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY;
      d->has_createdAt = ODM_PRESENT;
   }
   /* The most used: agent 2, then agents 0 and 1 tied (same users and sessions). */
   docs[0].stats.totalUsers = docs[1].stats.totalUsers = docs[2].stats.totalUsers = 900;
   docs[0].stats.totalSessions = docs[1].stats.totalSessions = 4000;
   docs[2].stats.totalSessions = 4500;
   /* Repeats count once: docs[1] lists research twice (the research/design tie stays),
    * docs[3] its first specialty twice. */
   add_specialty (&docs[1], "research");
   add_specialty (&docs[3], docs[3].specialties.items[0]);
   *n = N;
   return docs;
}

/* ------------------------------------------------------------ groups by string key */

typedef struct {
   odm_ax_key_t key; /* a provider or a specialty (null: none) */
   double n, sessions, users;
   odm_ax_acc_t rating, price;
} group_t;

/* ------------------------------------------------------------ popularity */

typedef odm_agent_popularity_params_t po_t;

static int
by_users_sessions_id (const void *a, const void *b)
{
   const odm_agent_t *x = *(odm_agent_t *const *) a, *y = *(odm_agent_t *const *) b;
   int c = odm_ax_cmp_double_desc (x->stats.totalUsers, y->stats.totalUsers);
   c = c ? c : odm_ax_cmp_double_desc (x->stats.totalSessions, y->stats.totalSessions);
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_popularity (const void *params, bson_t *rows)
{
   const po_t *p = params;
   const odm_agent_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      if ((p->has_status && !odm_str_eq (docs[i].status, p->status)) ||
          (p->has_provider && !odm_str_eq (docs[i].aiProvider.primary, p->provider))) {
         continue;
      }
      sel[ns++] = &docs[i];
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_users_sessions_id);
   for (i = 0; i < ns && i < limit; i++) {
      const odm_agent_t *d = sel[i];
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &d->_id);
      BSON_APPEND_UTF8 (&row, "id", d->id);
      BSON_APPEND_UTF8 (&row, "name", d->name);
      BSON_APPEND_DOUBLE (&row, "totalUsers", d->stats.totalUsers);
      BSON_APPEND_DOUBLE (&row, "totalSessions", d->stats.totalSessions);
      odm_ax_append_num_or_null (&row, "sessionsPerUser", d->stats.totalUsers > 0,
                                 d->stats.totalSessions / d->stats.totalUsers);
      BSON_APPEND_DOUBLE (&row, "averageRating", d->stats.averageRating);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const po_t po_default = {0};
static const po_t po_top2 = {.limit = 2, .has_limit = 1};
static const po_t po_openai_all = {.provider = "openai", .has_provider = 1, .limit = 100, .has_limit = 1};
static const po_t po_maintenance = {.status = "maintenance", .has_status = 1};

/* ------------------------------------------------------------ performance */

typedef odm_agent_performance_params_t pf_t;

/* best average first; providers without a rated agent (null average) last */
static int
by_avg_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c;
   if (!x->rating.n || !y->rating.n) {
      c = (int) (x->rating.n == 0) - (int) (y->rating.n == 0);
   } else {
      c = odm_ax_cmp_double_desc (x->rating.sum / x->rating.n, y->rating.sum / y->rating.n);
   }
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_performance (const void *params, bson_t *rows)
{
   const pf_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_agent_t *d = &docs[i];
      group_t *x;
      double rt = d->stats.averageRating;
      if (p->has_status && !odm_str_eq (d->status, p->status)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->aiProvider.primary, NULL);
      x->n++;
      x->sessions += d->stats.totalSessions;
      if (rt > 0) {
         odm_ax_acc_add (&x->rating, rt);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_then_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "agents", g[i].n);
      BSON_APPEND_DOUBLE (&row, "rated", g[i].rating.n);
      odm_ax_append_avg (&row, "averageRating", &g[i].rating);
      odm_ax_append_num_or_null (&row, "lowestRating", g[i].rating.n > 0, g[i].rating.min);
      odm_ax_append_num_or_null (&row, "highestRating", g[i].rating.n > 0, g[i].rating.max);
      BSON_APPEND_DOUBLE (&row, "averageSessions", g[i].sessions / g[i].n);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const pf_t pf_all = {0};
static const pf_t pf_active = {.status = "active", .has_status = 1};

/* ------------------------------------------------------------ usage */

typedef odm_agent_usage_params_t us_t;

static int
by_sessions_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->sessions, y->sessions);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_usage (const void *params, bson_t *rows)
{
   const us_t *p = params;
   group_t g[16];
   size_t ng = 0, i, k;
   for (i = 0; i < N; i++) {
      const odm_agent_t *d = &docs[i];
      if (p->has_status && !odm_str_eq (d->status, p->status)) {
         continue;
      }
      for (k = 0; k < d->specialties.count; k++) {
         group_t *x;
         if (!odm_ax_first_of (d->specialties.items, k)) {
            continue; /* an agent counts once per distinct specialty */
         }
         x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->specialties.items[k], NULL);
         x->n++;
         x->users += d->stats.totalUsers;
         x->sessions += d->stats.totalSessions;
         if (d->pricing.has_monthly == ODM_PRESENT) {
            odm_ax_acc_add (&x->price, d->pricing.monthly);
         }
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_sessions_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "agents", g[i].n);
      BSON_APPEND_DOUBLE (&row, "totalUsers", g[i].users);
      BSON_APPEND_DOUBLE (&row, "totalSessions", g[i].sessions);
      odm_ax_append_avg (&row, "averageMonthlyPrice", &g[i].price);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const us_t us_all = {0};
static const us_t us_top4 = {.limit = 4, .has_limit = 1};
static const us_t us_active = {.status = "active", .has_status = 1};

static const odm_ax_case_t cases[] = {
   {"default limit 10", &odm_agent_popularity_aggregation, &po_default, expect_popularity},
   {"top 2 through the agent 0/1 tie", &odm_agent_popularity_aggregation, &po_top2, expect_popularity},
   {"all openai agents (some without users)", &odm_agent_popularity_aggregation, &po_openai_all, expect_popularity},
   {"in maintenance", &odm_agent_popularity_aggregation, &po_maintenance, expect_popularity},
   {"all", &odm_agent_performance_aggregation, &pf_all, expect_performance},
   {"active", &odm_agent_performance_aggregation, &pf_active, expect_performance},
   {"all", &odm_agent_usage_aggregation, &us_all, expect_usage},
   {"top 4 through the design/research tie", &odm_agent_usage_aggregation, &us_top4, expect_usage},
   {"active", &odm_agent_usage_aggregation, &us_active, expect_usage},
};

const odm_analytics_module_t odm_analytics_agents = {&odm_agent_schema, dataset, cases, sizeof cases / sizeof cases[0]};
