/* Analytics of chat_settings, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 50
static odm_chat_setting_t docs[N];
static const char *const themes[] = {"auto", "light", "dark", "neural"};
static const char *const font_sizes[] = {"small", "medium", "large"};
static const char *const favorites[] = {"explain", "summarize", "code", "translate", "debug"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 12);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_setting_t *d = &docs[i];
      odm_chat_setting_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (6000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_oid (&d->userId, (uint32_t) (1000 + i)); /* one settings document per user */
      d->has_userId = ODM_PRESENT;
      /* themes: dark and light 14 users each, auto and neural 10: ties in the top N */
      bson_free (d->theme);
      d->theme = bson_strdup (i < 40 ? themes[i % 4] : themes[i % 2 ? 2 : 1]);
      bson_free (d->fontSize);
      d->fontSize = bson_strdup (font_sizes[odm_ax_rng_range (&r, 0, 2)]);
      d->notifications.messageReceived = odm_ax_rng_range (&r, 0, 3) > 0;
      d->notifications.agentResponses = odm_ax_rng_range (&r, 0, 1);
      d->notifications.systemUpdates = odm_ax_rng_range (&r, 0, 3) == 0;
      d->autoSave = odm_ax_rng_range (&r, 0, 4) > 0;
      d->quickActions.enabled = odm_ax_rng_range (&r, 0, 2) > 0;
      k = (size_t) odm_ax_rng_range (&r, 0, 4);
      d->quickActions.favorites.items = k ? bson_malloc0 (k * sizeof (char *)) : NULL;
      for (d->quickActions.favorites.count = 0; d->quickActions.favorites.count < k; d->quickActions.favorites.count++) {
         d->quickActions.favorites.items[d->quickActions.favorites.count] =
            bson_strdup (favorites[(i + d->quickActions.favorites.count) % 5]);
      }
      d->privacy.saveHistory = odm_ax_rng_range (&r, 0, 4) > 0;
      d->privacy.allowAnalytics = odm_ax_rng_range (&r, 0, 2) > 0;
      d->privacy.shareConversations = odm_ax_rng_range (&r, 0, 3) == 0;
      d->accessibility.highContrast = odm_ax_rng_range (&r, 0, 3) == 0;
      d->accessibility.reducedMotion = odm_ax_rng_range (&r, 0, 2) == 0;
      d->accessibility.screenReader = odm_ax_rng_range (&r, 0, 5) == 0;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      /* Some documents lack a whole section (stored as null): its flags count as off, its
       * favorites as none, and without privacy the user matches neither allowAnalytics value. */
      if (i % 11 == 5) {
         d->accessibility.has_highContrast = d->accessibility.has_reducedMotion = d->accessibility.has_screenReader = ODM_ABSENT;
         d->has_accessibility = ODM_NULL;
      }
      if (i % 13 == 7) {
         for (k = 0; k < d->quickActions.favorites.count; k++) {
            bson_free (d->quickActions.favorites.items[k]);
         }
         bson_free (d->quickActions.favorites.items);
         d->quickActions.favorites.items = NULL;
         d->quickActions.favorites.count = 0;
         d->quickActions.has_enabled = d->quickActions.has_favorites = ODM_ABSENT;
         d->has_quickActions = ODM_NULL;
      }
      if (i % 17 == 3) {
         d->privacy.has_saveHistory = d->privacy.has_allowAnalytics = d->privacy.has_shareConversations = ODM_ABSENT;
         d->has_privacy = ODM_NULL;
      }
   }
   /* No theme and no font size: docs[48] as another client wrote it (both missing, no
    * defaults filled), docs[49] with explicit nulls. One null group (theme and font size
    * null) in preference_breakdown, one null theme in theme_popularity; 48 and 49 would
    * otherwise be light and dark, so the ties above stay. */
   for (i = 48; i < 50; i++) {
      uint8_t state = i == 48 ? ODM_ABSENT : ODM_NULL;
      odm_ax_unset_string (&docs[i].theme, &docs[i].has_theme, state);
      odm_ax_unset_string (&docs[i].fontSize, &docs[i].has_fontSize, state);
      docs[i].privacy.allowAnalytics = true;
      docs[i].has_privacy = ODM_PRESENT;
   }
   /* Boundaries: settings created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_setting_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* privacy.allowAnalytics equals the parameter (a null privacy section matches no value). */
static bool
analytics_ok (const odm_chat_setting_t *d, uint8_t has, bool want)
{
   return !has || (d->has_privacy != ODM_NULL && d->privacy.allowAnalytics == want);
}

static bool
on (uint8_t section, bool flag)
{
   return section != ODM_NULL && flag;
}

/* ------------------------------------------------------------ groups */

enum { AUTO_SAVE, QUICK_ACTIONS, MSG_NOTIF, AGENT_NOTIF, SYSTEM_NOTIF, SAVE_HISTORY, SHARE, HIGH_CONTRAST, REDUCED_MOTION,
       SCREEN_READER, NCOUNTERS };

typedef struct {
   odm_ax_key_t key; /* a theme, a theme and a font size (missing or null ones: null), or a period */
   double count;
   double c[NCOUNTERS];
   double favorites;
   int64_t first, last;
} group_t;

static void
add (group_t *g, const odm_chat_setting_t *d)
{
   g->first = !g->count || d->createdAt < g->first ? d->createdAt : g->first;
   g->last = !g->count || d->createdAt > g->last ? d->createdAt : g->last;
   g->count++;
   g->c[AUTO_SAVE] += d->autoSave;
   g->c[QUICK_ACTIONS] += on (d->has_quickActions, d->quickActions.enabled);
   g->c[MSG_NOTIF] += on (d->has_notifications, d->notifications.messageReceived);
   g->c[AGENT_NOTIF] += on (d->has_notifications, d->notifications.agentResponses);
   g->c[SYSTEM_NOTIF] += on (d->has_notifications, d->notifications.systemUpdates);
   g->c[SAVE_HISTORY] += on (d->has_privacy, d->privacy.saveHistory);
   g->c[SHARE] += on (d->has_privacy, d->privacy.shareConversations);
   g->c[HIGH_CONTRAST] += on (d->has_accessibility, d->accessibility.highContrast);
   g->c[REDUCED_MOTION] += on (d->has_accessibility, d->accessibility.reducedMotion);
   g->c[SCREEN_READER] += on (d->has_accessibility, d->accessibility.screenReader);
   g->favorites += d->has_quickActions == ODM_NULL ? 0 : (double) d->quickActions.favorites.count;
}

static int
by_count_then_keys (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ preference_breakdown */

typedef odm_chat_setting_preference_breakdown_params_t pb_t;

static void
expect_preference_breakdown (const void *params, bson_t *rows)
{
   const pb_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_setting_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && analytics_ok (d, p->has_allowAnalytics, p->allowAnalytics)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->theme, d->fontSize), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_keys);
   for (i = 0; i < ng; i++) {
      bson_t *row = bson_new (), id;
      BSON_APPEND_DOCUMENT_BEGIN (row, "_id", &id);
      odm_ax_append_str_or_null (&id, "theme", g[i].key.null, g[i].key.s);
      odm_ax_append_str_or_null (&id, "fontSize", g[i].key.null2, g[i].key.s2);
      bson_append_document_end (row, &id);
      BCON_APPEND (row, "userCount", BCON_DOUBLE (g[i].count), "autoSaveCount", BCON_DOUBLE (g[i].c[AUTO_SAVE]),
                              "highContrastCount", BCON_DOUBLE (g[i].c[HIGH_CONTRAST]), "reducedMotionCount",
                              BCON_DOUBLE (g[i].c[REDUCED_MOTION]), "screenReaderCount", BCON_DOUBLE (g[i].c[SCREEN_READER]));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pb_t pb_all = {0};
static const pb_t pb_allowing = {.allowAnalytics = true, .has_allowAnalytics = 1};
static const pb_t pb_refusing_window = {.allowAnalytics = false, .has_allowAnalytics = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY,
                                        .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static pb_t pb_one;

/* ------------------------------------------------------------ theme_popularity */

typedef odm_chat_setting_theme_popularity_params_t tp_t;

static void
expect_theme_popularity (const void *params, bson_t *rows)
{
   const tp_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   double total = 0;
   for (i = 0; i < N; i++) {
      const odm_chat_setting_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && analytics_ok (d, p->has_allowAnalytics, p->allowAnalytics)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->theme, NULL), d);
         total++;
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_keys);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = bson_new ();
      odm_ax_append_str_or_null (row, "_id", g[i].key.null, g[i].key.s);
      BCON_APPEND (row, "userCount", BCON_DOUBLE (g[i].count), "share",
                              BCON_DOUBLE (g[i].count / total), "highContrastCount", BCON_DOUBLE (g[i].c[HIGH_CONTRAST]),
                              "firstChosenAt", BCON_DATE_TIME (g[i].first), "lastChosenAt", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const tp_t tp_all = {0};
static const tp_t tp_top1 = {.limit = 1, .has_limit = 1};
static const tp_t tp_top3 = {.limit = 3, .has_limit = 1};
static const tp_t tp_allowing_window = {.allowAnalytics = true, .has_allowAnalytics = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY,
                                        .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ feature_usage */

typedef odm_chat_setting_feature_usage_params_t fu_t;

static void
expect_feature_usage (const void *params, bson_t *rows)
{
   const fu_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_setting_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          !analytics_ok (d, p->has_allowAnalytics, p->allowAnalytics)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW (
         "_id", BCON_UTF8 (g[i].key.s), "userCount", BCON_DOUBLE (g[i].count), "autoSaveCount", BCON_DOUBLE (g[i].c[AUTO_SAVE]),
         "quickActionsCount", BCON_DOUBLE (g[i].c[QUICK_ACTIONS]), "messageNotificationsCount", BCON_DOUBLE (g[i].c[MSG_NOTIF]),
         "agentNotificationsCount", BCON_DOUBLE (g[i].c[AGENT_NOTIF]), "systemNotificationsCount",
         BCON_DOUBLE (g[i].c[SYSTEM_NOTIF]), "saveHistoryCount", BCON_DOUBLE (g[i].c[SAVE_HISTORY]),
         "shareConversationsCount", BCON_DOUBLE (g[i].c[SHARE]), "averageFavorites", BCON_DOUBLE (g[i].favorites / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const fu_t fu_month = {0};
static const fu_t fu_day = {.period = "day", .has_period = 1};
static const fu_t fu_week = {.period = "week", .has_period = 1};
static const fu_t fu_year = {.period = "year", .has_period = 1};
static fu_t fu_refusing_window;

static const odm_ax_case_t cases[] = {
   {"all", &odm_chat_setting_preference_breakdown_aggregation, &pb_all, expect_preference_breakdown},
   {"users allowing analytics", &odm_chat_setting_preference_breakdown_aggregation, &pb_allowing, expect_preference_breakdown},
   {"users refusing analytics, window [Feb 1, Apr 1)", &odm_chat_setting_preference_breakdown_aggregation, &pb_refusing_window,
    expect_preference_breakdown},
   {"window of one document", &odm_chat_setting_preference_breakdown_aggregation, &pb_one, expect_preference_breakdown},
   {"all", &odm_chat_setting_theme_popularity_aggregation, &tp_all, expect_theme_popularity},
   {"top 1 with a tie", &odm_chat_setting_theme_popularity_aggregation, &tp_top1, expect_theme_popularity},
   {"top 3 with a tie", &odm_chat_setting_theme_popularity_aggregation, &tp_top3, expect_theme_popularity},
   {"users allowing analytics, window [Feb 1, Apr 1)", &odm_chat_setting_theme_popularity_aggregation, &tp_allowing_window,
    expect_theme_popularity},
   {"by month", &odm_chat_setting_feature_usage_aggregation, &fu_month, expect_feature_usage},
   {"by day", &odm_chat_setting_feature_usage_aggregation, &fu_day, expect_feature_usage},
   {"by ISO week", &odm_chat_setting_feature_usage_aggregation, &fu_week, expect_feature_usage},
   {"by year", &odm_chat_setting_feature_usage_aggregation, &fu_year, expect_feature_usage},
   {"users refusing analytics, window", &odm_chat_setting_feature_usage_aggregation, &fu_refusing_window, expect_feature_usage},
};

static bool
as_is (size_t i)
{
   return i == 48;
}

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   pb_one.from = docs[5].createdAt;
   pb_one.has_from = 1;
   pb_one.to = docs[5].createdAt + 1;
   pb_one.has_to = 1;
   fu_refusing_window.allowAnalytics = false;
   fu_refusing_window.has_allowAnalytics = 1;
   fu_refusing_window.from = docs[10].createdAt; /* inclusive */
   fu_refusing_window.has_from = 1;
   fu_refusing_window.to = docs[11].createdAt; /* exclusive */
   fu_refusing_window.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_settings = {
   &odm_chat_setting_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0], as_is};
