/* Analytics of community_likes, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 72
#define USERS 8
#define TARGETS 12 /* posts 800-805, comments 900-905 */
static odm_community_like_t docs[N];
static const char *const kinds[] = {"like",  "like",    "like",    "like", "love",
                                     "love", "laugh", "dislike", "dislike", "angry"};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, combo[USERS * TARGETS];
   odm_ax_rng_seed (&r, 14);
   memset (docs, 0, sizeof docs);
   /* 72 of the 96 (user, target) pairs, each at most once (the unique index) */
   for (i = 0; i < USERS * TARGETS; i++) {
      combo[i] = i;
   }
   for (i = USERS * TARGETS - 1; i > 0; i--) {
      size_t j = (size_t) odm_ax_rng_range (&r, 0, (int64_t) i), t = combo[i];
      combo[i] = combo[j];
      combo[j] = t;
   }
   for (i = 0; i < N; i++) {
      odm_community_like_t *d = &docs[i];
      size_t u = combo[i] / TARGETS, t = combo[i] % TARGETS;
      int64_t k = odm_ax_rng_range (&r, 0, 9);
      odm_community_like_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (6000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_oid (&d->userId, (uint32_t) (650 + u));
      d->has_userId = ODM_PRESENT;
      d->targetType = bson_strdup (t < 6 ? "post" : "comment");
      odm_ax_oid (&d->targetId, (uint32_t) (t < 6 ? 800 + t : 900 + t - 6));
      d->has_targetId = ODM_PRESENT;
      if (k > 3) { /* otherwise the default, like */
         odm_ax_set_string (&d->type, kinds[k]);
      }
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, -15, 160) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
   }
   /* A reaction whose type is null: counted as a reaction, not as a kind (MongoDB's
    * $addToSet keeps null as a value). */
   odm_ax_unset_string (&docs[7].type, &docs[7].has_type, ODM_NULL);
   /* Boundaries: reactions exactly at Feb 1 and Apr 1. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
positive (const odm_community_like_t *d)
{
   return odm_str_eq (d->type, "like") || odm_str_eq (d->type, "love") || odm_str_eq (d->type, "laugh");
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a period, a target (its type and id) or a user */
   double n, like, love, laugh, dislike, angry, pos, neg, posts, comments;
   int64_t first, latest;
   const void *set[N];
   size_t nset;
} group_t;

/* A new group: its first and last dates at the ends, for the first date to replace. */
static const group_t blank = {.first = INT64_MAX, .latest = INT64_MIN};

static void
add (group_t *x, const odm_community_like_t *d, bool users)
{
   size_t i;
   x->n++;
   x->like += odm_str_eq (d->type, "like");
   x->love += odm_str_eq (d->type, "love");
   x->laugh += odm_str_eq (d->type, "laugh");
   x->dislike += odm_str_eq (d->type, "dislike");
   x->angry += odm_str_eq (d->type, "angry");
   x->pos += positive (d);
   x->neg += odm_str_eq (d->type, "dislike") || odm_str_eq (d->type, "angry"); /* a null type is neither */
   x->posts += odm_str_eq (d->targetType, "post");
   x->comments += odm_str_eq (d->targetType, "comment");
   x->first = d->createdAt < x->first ? d->createdAt : x->first;
   x->latest = d->createdAt > x->latest ? d->createdAt : x->latest;
   /* distinct users (per period) or distinct reaction kinds (per user); a null kind is none */
   if (!users && !d->type) {
      return;
   }
   for (i = 0; i < x->nset; i++) {
      if (users ? bson_oid_equal (x->set[i], &d->userId) : !strcmp (x->set[i], d->type)) {
         return;
      }
   }
   x->set[x->nset++] = users ? (const void *) &d->userId : (const void *) d->type;
}

/* ------------------------------------------------------------ engagement */

typedef odm_community_like_engagement_params_t en_t;

static void
expect_engagement (const void *params, bson_t *rows)
{
   const en_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_like_t *d = &docs[i];
      char key[32];
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_targetType && !odm_str_eq (d->targetType, p->targetType))) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, key, NULL), d, true);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "reactions", BCON_DOUBLE (g[i].n), "likes",
                              BCON_DOUBLE (g[i].like), "loves", BCON_DOUBLE (g[i].love), "laughs",
                              BCON_DOUBLE (g[i].laugh), "dislikes", BCON_DOUBLE (g[i].dislike), "angry",
                              BCON_DOUBLE (g[i].angry), "users", BCON_DOUBLE ((double) g[i].nset));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const en_t en_month = {0};
static const en_t en_day = {.period = "day", .has_period = 1};
static const en_t en_week = {.period = "week", .has_period = 1};
static const en_t en_year = {.period = "year", .has_period = 1};
static const en_t en_comments_window = {
   .targetType = "comment", .has_targetType = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ content_popularity */

typedef odm_community_like_content_popularity_params_t cp_t;

static int
by_score_reactions_target (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->pos - x->neg, y->pos - y->neg);
   c = c ? c : odm_ax_cmp_double_desc (x->n, y->n);
   /* the _id is {type, id}: type first, unlike odm_ax_key_cmp */
   c = c ? c : strcmp (x->key.s, y->key.s);
   return c ? c : odm_ax_cmp_oid (&x->key.oid, &y->key.oid);
}

static void
expect_content_popularity (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   static group_t g[TARGETS];
   size_t ng = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      const odm_community_like_t *d = &docs[i];
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_targetType && !odm_str_eq (d->targetType, p->targetType))) {
         continue;
      }
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->targetId, d->targetType, NULL), d, true);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_score_reactions_target);
   for (i = 0; i < ng && i < limit; i++) {
      bson_t *row = BCON_NEW ("_id", "{", "targetType", BCON_UTF8 (g[i].key.s), "targetId", BCON_OID (&g[i].key.oid), "}",
                              "reactions", BCON_DOUBLE (g[i].n), "positive", BCON_DOUBLE (g[i].pos), "negative",
                              BCON_DOUBLE (g[i].neg), "score", BCON_DOUBLE (g[i].pos - g[i].neg));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cp_t cp_default = {0};
static const cp_t cp_all = {.limit = 100, .has_limit = 1};
/* comment 901 and post 805 tie on score and reactions at rows 5 and 6 */
static const cp_t cp_top5 = {.limit = 5, .has_limit = 1};
static const cp_t cp_posts_window = {
   .targetType = "post", .has_targetType = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const cp_t cp_one = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ user_interactions */

typedef odm_community_like_user_interactions_params_t ui_t;

static int
by_reactions_user (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_user_interactions (const void *params, bson_t *rows)
{
   const ui_t *p = params;
   static group_t g[USERS];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_like_t *d = &docs[i];
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId)) {
         continue;
      }
      add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->userId, NULL, NULL), d, false);
   }
   odm_ax_sort (g, ng, sizeof g[0], by_reactions_user);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "reactions", BCON_DOUBLE (g[i].n), "onPosts",
                              BCON_DOUBLE (g[i].posts), "onComments", BCON_DOUBLE (g[i].comments), "kinds",
                              BCON_DOUBLE ((double) g[i].nset), "firstAt", BCON_DATE_TIME (g[i].first), "latestAt",
                              BCON_DATE_TIME (g[i].latest));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ui_t ui_all = {0};
static const ui_t ui_top2 = {.limit = 2, .has_limit = 1};
static ui_t ui_user; /* user 653, set below */
static const ui_t ui_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_community_like_engagement_aggregation, &en_month, expect_engagement},
   {"by day", &odm_community_like_engagement_aggregation, &en_day, expect_engagement},
   {"by ISO week", &odm_community_like_engagement_aggregation, &en_week, expect_engagement},
   {"by year", &odm_community_like_engagement_aggregation, &en_year, expect_engagement},
   {"comments, window [Feb 1, Apr 1)", &odm_community_like_engagement_aggregation, &en_comments_window,
    expect_engagement},
   {"default limit 10", &odm_community_like_content_popularity_aggregation, &cp_default, expect_content_popularity},
   {"every target", &odm_community_like_content_popularity_aggregation, &cp_all, expect_content_popularity},
   {"top 5 through the comment 901/post 805 tie", &odm_community_like_content_popularity_aggregation, &cp_top5,
    expect_content_popularity},
   {"posts, window [Feb 1, Apr 1)", &odm_community_like_content_popularity_aggregation, &cp_posts_window,
    expect_content_popularity},
   {"window of one reaction", &odm_community_like_content_popularity_aggregation, &cp_one, expect_content_popularity},
   {"all", &odm_community_like_user_interactions_aggregation, &ui_all, expect_user_interactions},
   {"top 2 through the four-way tie at 10", &odm_community_like_user_interactions_aggregation, &ui_top2,
    expect_user_interactions},
   {"one user", &odm_community_like_user_interactions_aggregation, &ui_user, expect_user_interactions},
   {"window [Feb 1, Apr 1)", &odm_community_like_user_interactions_aggregation, &ui_window, expect_user_interactions},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&ui_user.userId, 653);
   ui_user.has_userId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_likes = {&odm_community_like_schema, dataset_and_params, cases,
                                                              sizeof cases / sizeof cases[0]};
