/* Analytics of community_comments, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 72
static odm_community_comment_t docs[N];
static int parent[N]; /* index of the parent comment, -1 for a top-level one */
static const char *const statuses[] = {"published", "published", "published", "published",
                                       "published", "published", "published", "published",
                                       "deleted",   "spam"};
/* Author by i % 12: 600 and 601 write 18 comments each, 602 and 603 12, 604 and 605 6. */
static const uint32_t authors[] = {600, 600, 600, 601, 601, 601, 602, 602, 603, 603, 604, 605};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)

/* Post of comment i: 700 for 0-11, 701 for 12-23 (a mirror of 700's thread: same
 * statuses, likes and shape, so the two posts tie), 702 to 705 for the others. */
static uint32_t
post_of (size_t i)
{
   return i < 12 ? 700 : i < 24 ? 701 : (uint32_t) (702 + (i - 24) % 4);
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, j;
   odm_ax_rng_seed (&r, 13);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_comment_t *d = &docs[i];
      size_t k, nm;
      odm_community_comment_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (5000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_oid (&d->postId, post_of (i));
      d->has_postId = ODM_PRESENT;
      odm_ax_oid (&d->authorId, authors[i % 12]);
      d->has_authorId = ODM_PRESENT;
      d->content = bson_strdup_printf ("Comment %zu: great post!", i);
      /* one comment every two days, so parents are older than their replies */
      d->createdAt = ODM_AX_EPOCH + (int64_t) i * 2 * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      parent[i] = -1;
      if (i >= 12 && i < 24) {
         /* the mirror of comment i - 12 */
         const odm_community_comment_t *m = &docs[i - 12];
         odm_ax_set_string (&d->status, m->status);
         d->stats.likes = m->stats.likes;
         parent[i] = parent[i - 12] < 0 ? -1 : parent[i - 12] + 12;
      } else {
         odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 9)]);
         d->stats.likes = (double) odm_ax_rng_range (&r, 0, 20);
         if (i < 5) {
            /* a chain 0 <- 1 <- 2 <- 3 <- 4: comment 4 is four levels deep */
            parent[i] = (int) i - 1;
         } else if (odm_ax_rng_range (&r, 0, 2) > 0) {
            /* a reply to an earlier comment on the same post, if any */
            size_t cand[N], nc = 0;
            for (j = 0; j < i; j++) {
               if (post_of (j) == post_of (i)) {
                  cand[nc++] = j;
               }
            }
            if (nc) {
               parent[i] = (int) cand[odm_ax_rng_range (&r, 0, (int64_t) nc - 1)];
            }
         }
      }
      /* 0 to 2 mentioned users */
      nm = (size_t) odm_ax_rng_range (&r, 0, 2);
      d->mentions.items = nm ? bson_malloc0 (nm * sizeof (bson_oid_t)) : NULL;
      for (k = 0; k < nm; k++) {
         odm_ax_oid (&d->mentions.items[k], (uint32_t) (600 + (i + k) % 6));
      }
      d->mentions.count = nm;
   }
   for (i = 0; i < N; i++) {
      if (parent[i] >= 0) {
         bson_oid_copy (&docs[parent[i]]._id, &docs[i].parentId);
         docs[i].has_parentId = ODM_PRESENT;
         docs[parent[i]].stats.replies++;
      }
   }
   /* Boundaries: comments exactly at Feb 1 and Apr 1. */
   docs[15].createdAt = FEB1;
   docs[45].createdAt = APR1;
   *n = N;
   return docs;
}

/* ancestors of comment i, counted up to 3 */
static int
depth (size_t i)
{
   int d = 0, k = parent[i];
   while (k >= 0 && d < 3) {
      d++;
      k = parent[k];
   }
   return d;
}

/* ------------------------------------------------------------ groups by ObjectId */

typedef struct {
   odm_ax_key_t key; /* a post or an author */
   double n, replies, likes, mentions, published, spam, depth_sum, max_depth;
   int64_t latest;
   bson_oid_t set[N];
   size_t nset;
} group_t;

/* A new group: no latest date yet. */
static const group_t blank = {.latest = INT64_MIN};

/* ------------------------------------------------------------ engagement */

typedef odm_community_comment_engagement_params_t en_t;

static int
by_comments_likes_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   c = c ? c : odm_ax_cmp_double_desc (x->likes, y->likes);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_engagement (const void *params, bson_t *rows)
{
   const en_t *p = params;
   static group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_comment_t *d = &docs[i];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          !odm_str_eq (d->status, p->has_status ? p->status : "published") ||
          !odm_ax_oid_ok (p->has_postId, &p->postId, &d->postId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->postId, NULL, NULL);
      x->n++;
      x->replies += d->has_parentId == ODM_PRESENT;
      x->likes += d->stats.likes;
      odm_ax_oid_set_add (x->set, &x->nset, &d->authorId);
      x->latest = d->createdAt > x->latest ? d->createdAt : x->latest;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_comments_likes_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "comments", BCON_DOUBLE (g[i].n), "replies",
                              BCON_DOUBLE (g[i].replies), "likes", BCON_DOUBLE (g[i].likes), "averageLikes",
                              BCON_DOUBLE (g[i].likes / g[i].n), "commenters", BCON_DOUBLE ((double) g[i].nset),
                              "latestAt", BCON_DATE_TIME (g[i].latest));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const en_t en_default = {0};
static const en_t en_top1 = {.limit = 1, .has_limit = 1};
static en_t en_post; /* post 703, set below */
static const en_t en_spam = {.status = "spam", .has_status = 1};
static const en_t en_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ thread_depth */

typedef odm_community_comment_thread_depth_params_t td_t;

static int
by_depth_comments_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->max_depth, y->max_depth);
   c = c ? c : odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_thread_depth (const void *params, bson_t *rows)
{
   const td_t *p = params;
   static group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_comment_t *d = &docs[i];
      group_t *x;
      int dp = depth (i);
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_status && !odm_str_eq (d->status, p->status)) ||
          !odm_ax_oid_ok (p->has_postId, &p->postId, &d->postId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->postId, NULL, NULL);
      x->n++;
      x->replies += d->has_parentId == ODM_PRESENT;
      x->depth_sum += dp;
      x->max_depth = dp > x->max_depth ? dp : x->max_depth;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_depth_comments_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "comments", BCON_DOUBLE (g[i].n), "threads",
                              BCON_DOUBLE (g[i].n - g[i].replies), "replies", BCON_DOUBLE (g[i].replies), "maxDepth",
                              BCON_DOUBLE (g[i].max_depth), "averageDepth", BCON_DOUBLE (g[i].depth_sum / g[i].n));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const td_t td_all = {0};
static const td_t td_top1 = {.limit = 1, .has_limit = 1};
/* replies in the window whose ancestors are older than it still count them */
static const td_t td_published_window = {
   .status = "published", .has_status = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static td_t td_post; /* post 702, set below */

/* ------------------------------------------------------------ user_participation */

typedef odm_community_comment_user_participation_params_t up_t;

static int
by_comments_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_user_participation (const void *params, bson_t *rows)
{
   const up_t *p = params;
   static group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_comment_t *d = &docs[i];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_authorId, &p->authorId, &d->authorId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->authorId, NULL, NULL);
      x->n++;
      x->replies += d->has_parentId == ODM_PRESENT;
      odm_ax_oid_set_add (x->set, &x->nset, &d->postId);
      x->published += odm_str_eq (d->status, "published");
      x->spam += odm_str_eq (d->status, "spam");
      x->likes += d->stats.likes;
      x->mentions += (double) d->mentions.count;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_comments_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "comments", BCON_DOUBLE (g[i].n), "replies",
                              BCON_DOUBLE (g[i].replies), "posts", BCON_DOUBLE ((double) g[i].nset), "published",
                              BCON_DOUBLE (g[i].published), "spam", BCON_DOUBLE (g[i].spam), "likes",
                              BCON_DOUBLE (g[i].likes), "mentions", BCON_DOUBLE (g[i].mentions));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const up_t up_all = {0};
static const up_t up_top1 = {.limit = 1, .has_limit = 1};
static const up_t up_top3 = {.limit = 3, .has_limit = 1};
static up_t up_author; /* author 604, set below */
static const up_t up_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const up_t up_one = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"published", &odm_community_comment_engagement_aggregation, &en_default, expect_engagement},
   {"top 1 through the 700/701 tie", &odm_community_comment_engagement_aggregation, &en_top1, expect_engagement},
   {"one post", &odm_community_comment_engagement_aggregation, &en_post, expect_engagement},
   {"spam", &odm_community_comment_engagement_aggregation, &en_spam, expect_engagement},
   {"window [Feb 1, Apr 1)", &odm_community_comment_engagement_aggregation, &en_window, expect_engagement},
   {"all", &odm_community_comment_thread_depth_aggregation, &td_all, expect_thread_depth},
   {"top 1 through the 700/701 tie", &odm_community_comment_thread_depth_aggregation, &td_top1, expect_thread_depth},
   {"published, window [Feb 1, Apr 1)", &odm_community_comment_thread_depth_aggregation, &td_published_window,
    expect_thread_depth},
   {"one post", &odm_community_comment_thread_depth_aggregation, &td_post, expect_thread_depth},
   {"all", &odm_community_comment_user_participation_aggregation, &up_all, expect_user_participation},
   {"top 1 through the 600/601 tie", &odm_community_comment_user_participation_aggregation, &up_top1,
    expect_user_participation},
   {"top 3 through the 602/603 tie", &odm_community_comment_user_participation_aggregation, &up_top3,
    expect_user_participation},
   {"one author", &odm_community_comment_user_participation_aggregation, &up_author, expect_user_participation},
   {"window [Feb 1, Apr 1)", &odm_community_comment_user_participation_aggregation, &up_window,
    expect_user_participation},
   {"window of one comment", &odm_community_comment_user_participation_aggregation, &up_one,
    expect_user_participation},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&en_post.postId, 703);
   en_post.has_postId = 1;
   odm_ax_oid (&td_post.postId, 702);
   td_post.has_postId = 1;
   odm_ax_oid (&up_author.authorId, 604);
   up_author.has_authorId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_comments = {&odm_community_comment_schema, dataset_and_params,
                                                                 cases, sizeof cases / sizeof cases[0]};
