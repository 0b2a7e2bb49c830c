/* Analytics of community_metrics, verified on a seeded data set with expectations
 * computed here in C from the same structs. The natural date is the snapshot's date. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N_DAILY 50
#define N_WEEKLY 14
#define N_MONTHLY 6
#define N (N_DAILY + N_WEEKLY + N_MONTHLY)
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define MAR1 (ODM_AX_EPOCH + 60 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_community_metrics_t docs[N];
static const int64_t month_days[N_MONTHLY] = {0, 31, 60, 91, 121, 152};

static void
fill (odm_community_metrics_t *d, odm_ax_rng_t *r, const char *type, int64_t day, double users, double scale)
{
   odm_community_metrics_metrics_t *m = &d->metrics;
   d->type = bson_strdup (type);
   d->has_type = ODM_PRESENT;
   d->date = ODM_AX_EPOCH + day * ODM_AX_DAY;
   d->has_date = ODM_PRESENT;
   d->createdAt = d->date + 3600000; /* computed an hour after the snapshot */
   d->has_createdAt = ODM_PRESENT;
   m->totalUsers = users;
   m->activeUsers = users > 0 ? (double) odm_ax_rng_range (r, (int64_t) (users / 5), (int64_t) (users * 3 / 5)) : 0;
   m->newPosts = (double) odm_ax_rng_range (r, 0, 40) * scale;
   m->newComments = (double) odm_ax_rng_range (r, 0, 200) * scale;
   m->totalViews = (double) odm_ax_rng_range (r, 0, 10000) * scale;
   m->engagement.avgLikesPerPost = (double) odm_ax_rng_range (r, 0, 90) / 10;
   m->engagement.avgCommentsPerPost = (double) odm_ax_rng_range (r, 0, 50) / 10;
   m->engagement.avgViewsPerPost = (double) odm_ax_rng_range (r, 0, 4000) / 10;
   m->has_engagement = ODM_PRESENT;
   d->has_metrics = ODM_PRESENT;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k = 0;
   double users = 0;
   odm_ax_rng_seed (&r, 19);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_metrics_init (&docs[i]);
      odm_ax_oid (&docs[i]._id, (uint32_t) (19000 + i));
      docs[i].has__id = ODM_PRESENT;
   }
   /* Daily snapshots on distinct days, 2024-02-01 (day 31) and 2024-04-01 (day 91) among
    * them; the first one before any user joined (growth rate and active share: null). */
   for (i = 0; i < N_DAILY; i++, k++) {
      fill (&docs[k], &r, "daily", (int64_t) (2 * i + (i % 3 == 0)), users, 1);
      users += (double) odm_ax_rng_range (&r, -20, 60) + (i == 0 ? 800 : 0);
   }
   /* Weekly snapshots on Mondays (2024-01-01 is one), monthly ones on the 1st. */
   for (i = 0; i < N_WEEKLY; i++, k++) {
      fill (&docs[k], &r, "weekly", (int64_t) (7 * i), 900 + 40 * (double) i, 7);
   }
   for (i = 0; i < N_MONTHLY; i++, k++) {
      fill (&docs[k], &r, "monthly", month_days[i], 850 + 150 * (double) i, 30);
   }
   *n = N;
   return docs;
}

static bool
selected (const odm_community_metrics_t *d, const char *type, uint8_t has_from, int64_t from, uint8_t has_to,
          int64_t to)
{
   return !strcmp (d->type, type) && (!has_from || d->date >= from) && (!has_to || d->date < to);
}

/* ------------------------------------------------------------ per-period groups */

typedef struct {
   odm_ax_key_t key; /* a period */
   double count, total_users, active_users, posts, comments, views, peak_active;
   double likes, comments_pp, views_pp;
   odm_ax_acc_t rate; /* active / total users, where there are users */
   int64_t first_date, last_date;
   double first_users, last_users;
} group_t;

/* A new group: its first and last dates at the ends, for the first snapshot to replace;
 * no peak yet. */
static const group_t blank = {.first_date = INT64_MAX, .last_date = INT64_MIN, .peak_active = -1};

static void
add (group_t *g, const odm_community_metrics_t *d)
{
   const odm_community_metrics_metrics_t *m = &d->metrics;
   g->count++;
   g->total_users += m->totalUsers;
   g->active_users += m->activeUsers;
   g->posts += m->newPosts;
   g->comments += m->newComments;
   g->views += m->totalViews;
   g->peak_active = m->activeUsers > g->peak_active ? m->activeUsers : g->peak_active;
   if (m->totalUsers > 0) {
      odm_ax_acc_add (&g->rate, m->activeUsers / m->totalUsers);
   }
   g->likes += m->engagement.avgLikesPerPost;
   g->comments_pp += m->engagement.avgCommentsPerPost;
   g->views_pp += m->engagement.avgViewsPerPost;
   if (d->date < g->first_date) {
      g->first_date = d->date;
      g->first_users = m->totalUsers;
   }
   if (d->date > g->last_date) {
      g->last_date = d->date;
      g->last_users = m->totalUsers;
   }
}

/* Groups the snapshots of TYPE dated in the window by PERIOD; returns how many groups. */
static size_t
collect (group_t *g, const char *type, const char *period, uint8_t has_from, int64_t from, uint8_t has_to,
         int64_t to)
{
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (selected (&docs[i], type, has_from, from, has_to, to)) {
         odm_ax_period (docs[i].date, period, key, sizeof key);
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, key, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   return ng;
}

/* ------------------------------------------------------------ trend */

typedef odm_community_metrics_trend_params_t tr_t;

static void
expect_trend (const void *params, bson_t *rows)
{
   const tr_t *p = params;
   static group_t g[N];
   size_t ng, i;
   ng = collect (g, p->has_type ? p->type : "daily", p->has_period ? p->period : "month", p->has_from, p->from,
                 p->has_to, p->to);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "snapshotCount", BCON_DOUBLE (g[i].count),
                              "averageTotalUsers", BCON_DOUBLE (g[i].total_users / g[i].count),
                              "averageActiveUsers", BCON_DOUBLE (g[i].active_users / g[i].count), "newPosts",
                              BCON_DOUBLE (g[i].posts), "newComments", BCON_DOUBLE (g[i].comments), "totalViews",
                              BCON_DOUBLE (g[i].views));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const tr_t tr_default = {0};
static const tr_t tr_weekly = {.type = "weekly", .has_type = 1};
static const tr_t tr_monthly_year = {.type = "monthly", .has_type = 1, .period = "year", .has_period = 1};
static const tr_t tr_week_window = {.period = "week", .has_period = 1, .from = FEB1, .has_from = 1, .to = APR1,
                                    .has_to = 1};
static const tr_t tr_one_day = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = FEB1 + 1,
                                .has_to = 1};

/* ------------------------------------------------------------ growth */

typedef odm_community_metrics_growth_params_t gr_t;

static void
expect_growth (const void *params, bson_t *rows)
{
   const gr_t *p = params;
   static group_t g[N];
   size_t ng, i;
   ng = collect (g, p->has_type ? p->type : "daily", p->has_period ? p->period : "month", p->has_from, p->from,
                 p->has_to, p->to);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "snapshotCount", BCON_DOUBLE (g[i].count), "startUsers",
                              BCON_DOUBLE (g[i].first_users), "endUsers", BCON_DOUBLE (g[i].last_users),
                              "userGrowth", BCON_DOUBLE (g[i].last_users - g[i].first_users), "peakActiveUsers",
                              BCON_DOUBLE (g[i].peak_active), "newPosts", BCON_DOUBLE (g[i].posts));
      if (g[i].first_users > 0) {
         BSON_APPEND_DOUBLE (row, "growthRate", (g[i].last_users - g[i].first_users) / g[i].first_users);
      } else {
         BSON_APPEND_NULL (row, "growthRate");
      }
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const gr_t gr_default = {0};
static const gr_t gr_week = {.period = "week", .has_period = 1};
static const gr_t gr_weekly_window = {.type = "weekly", .has_type = 1, .from = FEB1, .has_from = 1, .to = APR1,
                                      .has_to = 1};
static const gr_t gr_monthly_year = {.type = "monthly", .has_type = 1, .period = "year", .has_period = 1};
static const gr_t gr_day_window = {.period = "day", .has_period = 1, .from = FEB1, .has_from = 1, .to = MAR1,
                                   .has_to = 1};

/* ------------------------------------------------------------ engagement */

typedef odm_community_metrics_engagement_params_t en_t;

static void
expect_engagement (const void *params, bson_t *rows)
{
   const en_t *p = params;
   static group_t g[N];
   size_t ng, i;
   ng = collect (g, p->has_type ? p->type : "daily", p->has_period ? p->period : "month", p->has_from, p->from,
                 p->has_to, p->to);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "snapshotCount", BCON_DOUBLE (g[i].count),
                              "likesPerPost", BCON_DOUBLE (g[i].likes / g[i].count), "commentsPerPost",
                              BCON_DOUBLE (g[i].comments_pp / g[i].count), "viewsPerPost",
                              BCON_DOUBLE (g[i].views_pp / g[i].count));
      odm_ax_append_avg (row, "activeRate", &g[i].rate);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const en_t en_default = {0};
static const en_t en_day_window = {.period = "day", .has_period = 1, .from = ODM_AX_EPOCH, .has_from = 1,
                                   .to = ODM_AX_EPOCH + 10 * ODM_AX_DAY, .has_to = 1};
static const en_t en_weekly = {.type = "weekly", .has_type = 1, .to = MAR1, .has_to = 1};
static const en_t en_monthly = {.type = "monthly", .has_type = 1, .period = "week", .has_period = 1};
static const en_t en_year = {.period = "year", .has_period = 1};

static const odm_ax_case_t cases[] = {
   {"daily by month", &odm_community_metrics_trend_aggregation, &tr_default, expect_trend},
   {"weekly by month", &odm_community_metrics_trend_aggregation, &tr_weekly, expect_trend},
   {"monthly by year", &odm_community_metrics_trend_aggregation, &tr_monthly_year, expect_trend},
   {"daily by ISO week, [Feb 1, Apr 1)", &odm_community_metrics_trend_aggregation, &tr_week_window, expect_trend},
   {"daily by day, one snapshot", &odm_community_metrics_trend_aggregation, &tr_one_day, expect_trend},
   {"daily by month", &odm_community_metrics_growth_aggregation, &gr_default, expect_growth},
   {"daily by ISO week", &odm_community_metrics_growth_aggregation, &gr_week, expect_growth},
   {"weekly, [Feb 1, Apr 1)", &odm_community_metrics_growth_aggregation, &gr_weekly_window, expect_growth},
   {"monthly by year", &odm_community_metrics_growth_aggregation, &gr_monthly_year, expect_growth},
   {"daily by day, [Feb 1, Mar 1)", &odm_community_metrics_growth_aggregation, &gr_day_window, expect_growth},
   {"daily by month", &odm_community_metrics_engagement_aggregation, &en_default, expect_engagement},
   {"daily by day, first 10 days", &odm_community_metrics_engagement_aggregation, &en_day_window,
    expect_engagement},
   {"weekly before Mar 1", &odm_community_metrics_engagement_aggregation, &en_weekly, expect_engagement},
   {"monthly by ISO week", &odm_community_metrics_engagement_aggregation, &en_monthly, expect_engagement},
   {"daily by year", &odm_community_metrics_engagement_aggregation, &en_year, expect_engagement},
};

const odm_analytics_module_t odm_analytics_community_metrics = {
   &odm_community_metrics_schema, dataset, cases, sizeof cases / sizeof cases[0]};
