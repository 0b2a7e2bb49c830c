/* Analytics of chat_sessions, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
static odm_chat_session_t docs[N];
static const char *const modes[] = {"professional", "balanced", "creative", "fast", "coding"};
static const char *const tags[] = {"work", "ideas", "code", "travel"};

/* stats: null (the encoder writes an object with content whatever its has_ flag). */
static void
null_stats (odm_chat_session_t *d)
{
   d->stats.has_messageCount = d->stats.has_totalTokens = d->stats.has_durationMs = d->stats.has_lastMessageAt = ODM_ABSENT;
   d->has_stats = ODM_NULL;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 11);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_session_t *d = &docs[i];
      odm_chat_session_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (5000 + i));
      d->has__id = ODM_PRESENT;
      d->sessionId = bson_strdup_printf ("session-%02zu", i);
      d->has_sessionId = ODM_PRESENT;
      odm_ax_oid (&d->userId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 6)));
      d->has_userId = ODM_PRESENT;
      /* agents 201 and 203 get 15 sessions each, 202 and 204 12, 205 6: ties in the top N */
      odm_ax_oid (&d->agentId, (uint32_t) (i % 10 == 9 ? 205 : 201 + i % 4));
      d->has_agentId = ODM_PRESENT;
      d->name = bson_strdup_printf ("Session %zu", i);
      d->has_name = ODM_PRESENT;
      if (i % 2 == 0) {
         d->description = bson_strdup ("a described session");
         d->has_description = ODM_PRESENT;
      }
      k = (size_t) odm_ax_rng_range (&r, 0, 2);
      d->tags.items = k ? bson_malloc0 (k * sizeof (char *)) : NULL;
      for (d->tags.count = 0; d->tags.count < k; d->tags.count++) {
         d->tags.items[d->tags.count] = bson_strdup (tags[(i + d->tags.count) % 4]);
      }
      d->settings.temperature = (double) odm_ax_rng_range (&r, 0, 20) / 10.0;
      d->settings.maxTokens = (double) odm_ax_rng_range (&r, 1, 4000);
      bson_free (d->settings.mode);
      d->settings.mode = bson_strdup (modes[odm_ax_rng_range (&r, 0, 4)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->stats.messageCount = (double) odm_ax_rng_range (&r, 0, 80);
      d->stats.totalTokens = d->stats.messageCount * (double) odm_ax_rng_range (&r, 50, 150);
      d->stats.durationMs = (double) odm_ax_rng_range (&r, 1000, 3600000);
      d->stats.lastMessageAt = d->createdAt + odm_ax_rng_range (&r, 0, 3 * 86400000);
      if (i % 9 == 4) {
         null_stats (d); /* a session without stats: $sum adds 0, $avg/$max skip it */
      }
   }
   /* Boundaries: sessions exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   /* Two users share the latest activity (a tie on lastMessageAt). */
   odm_ax_oid (&docs[2].userId, 101);
   odm_ax_oid (&docs[5].userId, 102);
   docs[2].stats.lastMessageAt = docs[5].stats.lastMessageAt = ODM_AX_EPOCH + 200 * ODM_AX_DAY;
   /* User 107 has only sessions without stats: no last activity. */
   odm_ax_oid (&docs[58].userId, 107);
   odm_ax_oid (&docs[40].userId, 107);
   null_stats (&docs[58]);
   null_stats (&docs[40]);
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_session_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

static bool
has_stats (const odm_chat_session_t *d)
{
   return d->has_stats != ODM_NULL;
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a user or an agent, or a mode or a period */
   double count;
   odm_ax_acc_t messages, tokens, duration, temperature, created, last;
   bson_oid_t set[N];
   size_t nset;
} group_t;

static void
add (group_t *g, const odm_chat_session_t *d)
{
   g->count++;
   if (has_stats (d)) {
      odm_ax_acc_add (&g->messages, d->stats.messageCount);
      odm_ax_acc_add (&g->tokens, d->stats.totalTokens);
      odm_ax_acc_add (&g->duration, d->stats.durationMs);
      odm_ax_acc_add (&g->last, (double) d->stats.lastMessageAt);
   }
   odm_ax_acc_add (&g->temperature, d->settings.temperature);
   odm_ax_acc_add (&g->created, (double) d->createdAt);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* Latest activity first; a group without any (null) sorts below every date. */
static int
by_last_then_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = x->last.n && y->last.n ? odm_ax_cmp_double_desc (x->last.max, y->last.max) : x->last.n ? -1 : y->last.n ? 1 : 0;
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ session_stats */

typedef odm_chat_session_session_stats_params_t ss_t;

static void
expect_session_stats (const void *params, bson_t *rows)
{
   const ss_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_session_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId) &&
          odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->settings.mode, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "sessionCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "totalMessages", g[i].messages.sum);
      odm_ax_append_avg (&row, "averageMessages", &g[i].messages);
      BSON_APPEND_DOUBLE (&row, "totalTokens", g[i].tokens.sum);
      odm_ax_append_avg (&row, "averageTokens", &g[i].tokens);
      odm_ax_append_avg (&row, "averageDurationMs", &g[i].duration);
      odm_ax_append_avg (&row, "averageTemperature", &g[i].temperature);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const ss_t ss_all = {0};
static const ss_t ss_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static ss_t ss_user_agent; /* set in the module init below */
static ss_t ss_one_session;

/* ------------------------------------------------------------ user_session_history */

typedef odm_chat_session_user_session_history_params_t uh_t;

static void
expect_user_session_history (const void *params, bson_t *rows)
{
   const uh_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_session_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId) &&
          odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         group_t *x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->userId, NULL, NULL);
         add (x, d);
         odm_ax_oid_set_add (x->set, &x->nset, &d->agentId);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_last_then_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &g[i].key.oid);
      BSON_APPEND_DOUBLE (&row, "sessionCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "agentCount", (double) g[i].nset);
      BSON_APPEND_DOUBLE (&row, "totalMessages", g[i].messages.sum);
      BSON_APPEND_DOUBLE (&row, "totalTokens", g[i].tokens.sum);
      BSON_APPEND_DATE_TIME (&row, "firstSessionAt", (int64_t) g[i].created.min);
      if (g[i].last.n) {
         BSON_APPEND_DATE_TIME (&row, "lastMessageAt", (int64_t) g[i].last.max);
      } else {
         BSON_APPEND_NULL (&row, "lastMessageAt");
      }
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const uh_t uh_all = {0};
static const uh_t uh_top1 = {.limit = 1, .has_limit = 1};
static uh_t uh_agent_window;
static uh_t uh_user;

/* ------------------------------------------------------------ agent_usage */

typedef odm_chat_session_agent_usage_params_t au_t;

static void
expect_agent_usage (const void *params, bson_t *rows)
{
   const au_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_session_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId)) {
         group_t *x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->agentId, NULL, NULL);
         add (x, d);
         odm_ax_oid_set_add (x->set, &x->nset, &d->userId);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &g[i].key.oid);
      BSON_APPEND_DOUBLE (&row, "sessionCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "userCount", (double) g[i].nset);
      BSON_APPEND_DOUBLE (&row, "totalMessages", g[i].messages.sum);
      BSON_APPEND_DOUBLE (&row, "totalTokens", g[i].tokens.sum);
      odm_ax_append_avg (&row, "averageMessages", &g[i].messages);
      odm_ax_append_avg (&row, "averageDurationMs", &g[i].duration);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const au_t au_all = {0};
static const au_t au_top1 = {.limit = 1, .has_limit = 1};
static const au_t au_top3 = {.limit = 3, .has_limit = 1};
static au_t au_user;
static const au_t au_empty_window = {.from = ODM_AX_EPOCH + 400 * ODM_AX_DAY, .has_from = 1};

/* ------------------------------------------------------------ message_rollup */

typedef odm_chat_session_message_rollup_params_t mr_t;

static void
expect_message_rollup (const void *params, bson_t *rows)
{
   const mr_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_session_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId) ||
          !odm_ax_oid_ok (p->has_agentId, &p->agentId, &d->agentId)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "sessionCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "totalMessages", g[i].messages.sum);
      BSON_APPEND_DOUBLE (&row, "totalTokens", g[i].tokens.sum);
      odm_ax_append_avg (&row, "averageMessages", &g[i].messages);
      odm_ax_append_num_or_null (&row, "maxMessages", g[i].messages.n > 0, g[i].messages.max);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const mr_t mr_month = {0};
static const mr_t mr_day = {.period = "day", .has_period = 1};
static const mr_t mr_week = {.period = "week", .has_period = 1};
static const mr_t mr_year = {.period = "year", .has_period = 1};
static mr_t mr_user_agent_window;

static const odm_ax_case_t cases[] = {
   {"all", &odm_chat_session_session_stats_aggregation, &ss_all, expect_session_stats},
   {"window [Feb 1, Apr 1)", &odm_chat_session_session_stats_aggregation, &ss_window, expect_session_stats},
   {"one user, one agent", &odm_chat_session_session_stats_aggregation, &ss_user_agent, expect_session_stats},
   {"window of one session", &odm_chat_session_session_stats_aggregation, &ss_one_session, expect_session_stats},
   {"all", &odm_chat_session_user_session_history_aggregation, &uh_all, expect_user_session_history},
   {"top 1 with a tie", &odm_chat_session_user_session_history_aggregation, &uh_top1, expect_user_session_history},
   {"one agent, window", &odm_chat_session_user_session_history_aggregation, &uh_agent_window, expect_user_session_history},
   {"one user", &odm_chat_session_user_session_history_aggregation, &uh_user, expect_user_session_history},
   {"all", &odm_chat_session_agent_usage_aggregation, &au_all, expect_agent_usage},
   {"top 1 with a tie", &odm_chat_session_agent_usage_aggregation, &au_top1, expect_agent_usage},
   {"top 3 with a tie", &odm_chat_session_agent_usage_aggregation, &au_top3, expect_agent_usage},
   {"one user", &odm_chat_session_agent_usage_aggregation, &au_user, expect_agent_usage},
   {"window after the data", &odm_chat_session_agent_usage_aggregation, &au_empty_window, expect_agent_usage, ODM_AX_NO_ROWS},
   {"by month", &odm_chat_session_message_rollup_aggregation, &mr_month, expect_message_rollup},
   {"by day", &odm_chat_session_message_rollup_aggregation, &mr_day, expect_message_rollup},
   {"by ISO week", &odm_chat_session_message_rollup_aggregation, &mr_week, expect_message_rollup},
   {"by year", &odm_chat_session_message_rollup_aggregation, &mr_year, expect_message_rollup},
   {"one user, one agent, window", &odm_chat_session_message_rollup_aggregation, &mr_user_agent_window, expect_message_rollup},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   bson_oid_copy (&docs[0].userId, &ss_user_agent.userId);
   ss_user_agent.has_userId = 1;
   bson_oid_copy (&docs[0].agentId, &ss_user_agent.agentId);
   ss_user_agent.has_agentId = 1;
   ss_one_session.from = docs[20].createdAt;
   ss_one_session.has_from = 1;
   ss_one_session.to = docs[20].createdAt + 1;
   ss_one_session.has_to = 1;
   odm_ax_oid (&uh_agent_window.agentId, 203);
   uh_agent_window.has_agentId = 1;
   uh_agent_window.from = docs[10].createdAt; /* inclusive */
   uh_agent_window.has_from = 1;
   uh_agent_window.to = docs[11].createdAt; /* exclusive */
   uh_agent_window.has_to = 1;
   odm_ax_oid (&uh_user.userId, 107);
   uh_user.has_userId = 1;
   odm_ax_oid (&au_user.userId, 103);
   au_user.has_userId = 1;
   bson_oid_copy (&docs[7].userId, &mr_user_agent_window.userId);
   mr_user_agent_window.has_userId = 1;
   bson_oid_copy (&docs[7].agentId, &mr_user_agent_window.agentId);
   mr_user_agent_window.has_agentId = 1;
   mr_user_agent_window.from = docs[7].createdAt; /* inclusive: the window starts on a session */
   mr_user_agent_window.has_from = 1;
   mr_user_agent_window.to = ODM_AX_EPOCH + 181 * ODM_AX_DAY;
   mr_user_agent_window.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_sessions = {
   &odm_chat_session_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
