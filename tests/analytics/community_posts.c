/* Analytics of community_posts, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
static odm_community_post_t docs[N];
static const char *const categories[] = {"tutorial", "discussion", "question", "showcase", "news"};
static const char *const statuses[] = {"published", "published", "published", "published", "published",
                                       "draft",     "draft",     "archived",  "archived",  "deleted"};
static const char *const visibilities[] = {"public", "public", "public", "community", "private"};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)

/* Sets the status and keeps the post consistent with it: published and archived posts
 * have a publication date, drafts have none and no audience yet. */
static void
set_status (odm_community_post_t *d, const char *status)
{
   odm_ax_set_string (&d->status, status);
   if (odm_str_eq (status, "published") || odm_str_eq (status, "archived")) {
      if (d->has_publishedAt != ODM_PRESENT) {
         d->publishedAt = d->createdAt + ODM_AX_DAY + 3600000;
         d->has_publishedAt = ODM_PRESENT;
      }
   } else if (odm_str_eq (status, "draft")) {
      d->has_publishedAt = ODM_ABSENT;
      d->publishedAt = 0;
      d->stats.views = d->stats.likes = d->stats.comments = d->stats.shares = 0;
   }
}

static void
set_stats (odm_community_post_t *d, double views, double likes, double comments, double shares)
{
   d->stats.views = views;
   d->stats.likes = likes;
   d->stats.comments = comments;
   d->stats.shares = shares;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 12);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_post_t *d = &docs[i];
      const char *status = statuses[odm_ax_rng_range (&r, 0, 9)];
      odm_community_post_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (4000 + i));
      d->has__id = ODM_PRESENT;
      /* authors 500 and 501 write 12 posts each (501's statuses mirror 500's: a tie),
       * authors 502 to 505 nine each */
      odm_ax_oid (&d->authorId, i < 12 ? 500 : i < 24 ? 501 : (uint32_t) (502 + i % 4));
      d->has_authorId = ODM_PRESENT;
      d->title = bson_strdup_printf ("Post %zu", i);
      d->content = bson_strdup ("Here are some tips for the community.");
      odm_ax_set_string (&d->category, categories[odm_ax_rng_range (&r, 0, 4)]);
      odm_ax_set_string (&d->visibility, visibilities[odm_ax_rng_range (&r, 0, 4)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, -20, 170) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->publishedAt = d->createdAt + odm_ax_rng_range (&r, 0, 3 * 86400000);
      d->has_publishedAt = ODM_PRESENT;
      d->stats.views = (double) odm_ax_rng_range (&r, 0, 3000);
      d->stats.likes = (double) odm_ax_rng_range (&r, 0, 1 + (int64_t) d->stats.views / 10);
      d->stats.comments = (double) odm_ax_rng_range (&r, 0, 60);
      d->stats.shares = (double) odm_ax_rng_range (&r, 0, 40);
      /* a third state no word count nor reading time */
      if (i % 3 != 0) {
         d->metadata.wordCount = (double) odm_ax_rng_range (&r, 200, 3000);
         d->metadata.has_wordCount = ODM_PRESENT;
         d->metadata.readingTime = (double) ((int64_t) d->metadata.wordCount / 250 + 1);
         d->metadata.has_readingTime = ODM_PRESENT;
      }
      d->metadata.featured = i % 7 == 0;
      if (i % 10 == 0) {
         d->attachments.items = bson_malloc0 (sizeof *d->attachments.items);
         d->attachments.count = 1;
         d->attachments.items[0].url = bson_strdup ("https://example.com/chart.png");
         d->attachments.items[0].name = bson_strdup ("chart.png");
         d->attachments.items[0].type = bson_strdup ("image");
         d->attachments.items[0].size = 20480;
         d->attachments.items[0].has_size = ODM_PRESENT;
      }
      set_status (d, status);
   }
   /* The most engaging: post 2, then posts 0 and 1 tied (same engagement and views). */
   set_status (&docs[0], "published");
   set_status (&docs[1], "published");
   set_status (&docs[2], "published");
   set_stats (&docs[0], 5000, 400, 80, 20);
   set_stats (&docs[1], 5000, 410, 70, 20);
   set_stats (&docs[2], 6000, 300, 100, 100);
   /* Boundaries: publications exactly at Feb 1 and Apr 1, creations exactly at Feb 1 and
    * Apr 1. */
   docs[5].createdAt = FEB1 - 2 * ODM_AX_DAY;
   docs[5].publishedAt = FEB1;
   docs[6].createdAt = APR1 - 3 * ODM_AX_DAY;
   docs[6].publishedAt = APR1;
   docs[5].has_publishedAt = docs[6].has_publishedAt = ODM_PRESENT;
   set_status (&docs[5], "published");
   set_status (&docs[6], "published");
   docs[30].createdAt = FEB1;
   docs[31].createdAt = APR1;
   if (docs[30].has_publishedAt) {
      docs[30].publishedAt = FEB1 + 7200000;
   }
   if (docs[31].has_publishedAt) {
      docs[31].publishedAt = APR1 + 7200000;
   }
   for (i = 12; i < 24; i++) {
      set_status (&docs[i], docs[i - 12].status);
   }
   *n = N;
   return docs;
}

/* publishedAt in the window; a post without one passes only when there is no window */
static bool
published_in (const odm_community_post_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   if (d->has_publishedAt != ODM_PRESENT) {
      return !has_from && !has_to;
   }
   return odm_ax_in_window (d->publishedAt, has_from, from, has_to, to);
}

static double
engagement (const odm_community_post_t *d)
{
   return d->stats.likes + d->stats.comments + d->stats.shares;
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* an author, or a category or a period */
   double n, published, drafts, views, likes, comments, shares, featured;
   odm_ax_acc_t reading, words;
   int64_t first, latest;
   const char *set[N];
   size_t nset;
} group_t;

/* A new group: its first and last dates at the ends, for the first date to replace. */
static const group_t blank = {.first = INT64_MAX, .latest = INT64_MIN};

static void
add (group_t *x, const odm_community_post_t *d)
{
   x->n++;
   x->published += odm_str_eq (d->status, "published");
   x->drafts += odm_str_eq (d->status, "draft");
   x->views += d->stats.views;
   x->likes += d->stats.likes;
   x->comments += d->stats.comments;
   x->shares += d->stats.shares;
   if (d->metadata.has_readingTime == ODM_PRESENT) {
      odm_ax_acc_add (&x->reading, d->metadata.readingTime);
   }
   if (d->metadata.has_wordCount == ODM_PRESENT) {
      odm_ax_acc_add (&x->words, d->metadata.wordCount);
   }
   x->featured += d->metadata.featured;
   x->first = d->createdAt < x->first ? d->createdAt : x->first;
   x->latest = d->createdAt > x->latest ? d->createdAt : x->latest;
   odm_ax_str_set_add (x->set, &x->nset, d->category);
}

/* ------------------------------------------------------------ popular_posts */

typedef odm_community_post_popular_posts_params_t pp_t;

static int
by_engagement_views_id (const void *a, const void *b)
{
   const odm_community_post_t *x = *(odm_community_post_t *const *) a, *y = *(odm_community_post_t *const *) b;
   int c = odm_ax_cmp_double_desc (engagement (x), engagement (y));
   c = c ? c : odm_ax_cmp_double_desc (x->stats.views, y->stats.views);
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_popular_posts (const void *params, bson_t *rows)
{
   const pp_t *p = params;
   const odm_community_post_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      const odm_community_post_t *d = &docs[i];
      if (!odm_str_eq (d->status, p->has_status ? p->status : "published") ||
          (p->has_visibility && !odm_str_eq (d->visibility, p->visibility)) ||
          (p->has_category && !odm_str_eq (d->category, p->category)) ||
          !published_in (d, p->has_from, p->from, p->has_to, p->to)) {
         continue;
      }
      sel[ns++] = d;
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_engagement_views_id);
   for (i = 0; i < ns && i < limit; i++) {
      const odm_community_post_t *d = sel[i];
      bson_t *row = BCON_NEW ("_id", BCON_OID (&d->_id), "title", BCON_UTF8 (d->title), "authorId",
                              BCON_OID (&d->authorId), "category", BCON_UTF8 (d->category), "views",
                              BCON_DOUBLE (d->stats.views), "likes", BCON_DOUBLE (d->stats.likes), "comments",
                              BCON_DOUBLE (d->stats.comments), "shares", BCON_DOUBLE (d->stats.shares), "engagement",
                              BCON_DOUBLE (engagement (d)));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pp_t pp_default = {0};
static const pp_t pp_top2 = {.limit = 2, .has_limit = 1};
static const pp_t pp_public_window = {
   .visibility = "public", .has_visibility = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const pp_t pp_archived_tutorials = {
   .status = "archived", .has_status = 1, .category = "tutorial", .has_category = 1, .limit = 100, .has_limit = 1};
static const pp_t pp_one = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};

/* ------------------------------------------------------------ category_engagement */

typedef odm_community_post_category_engagement_params_t ce_t;

static int
by_views_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->views, y->views);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_category_engagement (const void *params, bson_t *rows)
{
   const ce_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_post_t *d = &docs[i];
      if (!odm_str_eq (d->status, p->has_status ? p->status : "published") ||
          !odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to)) {
         continue;
      }
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, d->category, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_views_then_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "posts", g[i].n);
      BSON_APPEND_DOUBLE (&row, "views", g[i].views);
      BSON_APPEND_DOUBLE (&row, "likes", g[i].likes);
      BSON_APPEND_DOUBLE (&row, "comments", g[i].comments);
      BSON_APPEND_DOUBLE (&row, "shares", g[i].shares);
      BSON_APPEND_DOUBLE (&row, "averageViews", g[i].views / g[i].n);
      odm_ax_append_num_or_null (&row, "engagementRate", g[i].views > 0,
                                 (g[i].likes + g[i].comments + g[i].shares) / g[i].views);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const ce_t ce_default = {0};
static const ce_t ce_drafts = {.status = "draft", .has_status = 1};
static const ce_t ce_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ author_contributions */

typedef odm_community_post_author_contributions_params_t ac_t;

static int
by_posts_published_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   c = c ? c : odm_ax_cmp_double_desc (x->published, y->published);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_author_contributions (const void *params, bson_t *rows)
{
   const ac_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_post_t *d = &docs[i];
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_authorId, &p->authorId, &d->authorId) ||
          (p->has_category && !odm_str_eq (d->category, p->category))) {
         continue;
      }
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->authorId, NULL, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_posts_published_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "posts", BCON_DOUBLE (g[i].n), "published",
                              BCON_DOUBLE (g[i].published), "drafts", BCON_DOUBLE (g[i].drafts), "views",
                              BCON_DOUBLE (g[i].views), "likes", BCON_DOUBLE (g[i].likes), "categories",
                              BCON_DOUBLE ((double) g[i].nset), "firstPostAt", BCON_DATE_TIME (g[i].first),
                              "latestPostAt", BCON_DATE_TIME (g[i].latest));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ac_t ac_all = {0};
static const ac_t ac_top1 = {.limit = 1, .has_limit = 1};
static ac_t ac_author; /* author 503, set below */
static const ac_t ac_tutorials_window = {
   .category = "tutorial", .has_category = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const ac_t ac_one = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ content_performance */

typedef odm_community_post_content_performance_params_t cp_t;

static void
expect_content_performance (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_post_t *d = &docs[i];
      char key[32];
      if (!odm_str_eq (d->status, "published") || d->has_publishedAt != ODM_PRESENT ||
          !odm_ax_in_window (d->publishedAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_category && !odm_str_eq (d->category, p->category))) {
         continue;
      }
      odm_ax_period (d->publishedAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "posts", g[i].n);
      BSON_APPEND_DOUBLE (&row, "averageViews", g[i].views / g[i].n);
      BSON_APPEND_DOUBLE (&row, "averageLikes", g[i].likes / g[i].n);
      BSON_APPEND_DOUBLE (&row, "averageComments", g[i].comments / g[i].n);
      odm_ax_append_avg (&row, "averageReadingTime", &g[i].reading);
      odm_ax_append_avg (&row, "averageWordCount", &g[i].words);
      BSON_APPEND_DOUBLE (&row, "featured", g[i].featured);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const cp_t cp_month = {0};
static const cp_t cp_day = {.period = "day", .has_period = 1};
static const cp_t cp_week = {.period = "week", .has_period = 1};
static const cp_t cp_year = {.period = "year", .has_period = 1};
static const cp_t cp_showcase_window = {
   .category = "showcase", .has_category = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"published, default limit 10", &odm_community_post_popular_posts_aggregation, &pp_default, expect_popular_posts},
   {"top 2 through the post 0/1 tie", &odm_community_post_popular_posts_aggregation, &pp_top2, expect_popular_posts},
   {"public, published in [Feb 1, Apr 1)", &odm_community_post_popular_posts_aggregation, &pp_public_window,
    expect_popular_posts},
   {"archived tutorials", &odm_community_post_popular_posts_aggregation, &pp_archived_tutorials, expect_popular_posts},
   {"window of one post", &odm_community_post_popular_posts_aggregation, &pp_one, expect_popular_posts},
   {"published", &odm_community_post_category_engagement_aggregation, &ce_default, expect_category_engagement},
   {"drafts (no views: null rate)", &odm_community_post_category_engagement_aggregation, &ce_drafts,
    expect_category_engagement},
   {"window [Feb 1, Apr 1)", &odm_community_post_category_engagement_aggregation, &ce_window,
    expect_category_engagement},
   {"all", &odm_community_post_author_contributions_aggregation, &ac_all, expect_author_contributions},
   {"top 1 through the 500/501 tie", &odm_community_post_author_contributions_aggregation, &ac_top1,
    expect_author_contributions},
   {"one author", &odm_community_post_author_contributions_aggregation, &ac_author, expect_author_contributions},
   {"tutorials, window [Feb 1, Apr 1)", &odm_community_post_author_contributions_aggregation, &ac_tutorials_window,
    expect_author_contributions},
   {"window of one post", &odm_community_post_author_contributions_aggregation, &ac_one, expect_author_contributions},
   {"by month", &odm_community_post_content_performance_aggregation, &cp_month, expect_content_performance},
   {"by day", &odm_community_post_content_performance_aggregation, &cp_day, expect_content_performance},
   {"by ISO week", &odm_community_post_content_performance_aggregation, &cp_week, expect_content_performance},
   {"by year", &odm_community_post_content_performance_aggregation, &cp_year, expect_content_performance},
   {"showcase, published in [Feb 1, Apr 1)", &odm_community_post_content_performance_aggregation,
    &cp_showcase_window, expect_content_performance},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&ac_author.authorId, 503);
   ac_author.has_authorId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_posts = {&odm_community_post_schema, dataset_and_params, cases,
                                                              sizeof cases / sizeof cases[0]};
