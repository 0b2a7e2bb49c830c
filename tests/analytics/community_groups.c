/* Analytics of community_groups, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 48
static odm_community_group_t docs[N];
/* Category by i % 8: Technology 18, Design 12, Science 12, Gaming 6. */
static const char *const categories[] = {"Technology", "Technology", "Design", "Science",
                                         "Technology", "Design",     "Gaming", "Science"};
static const char *const privacies[] = {"public", "public", "private", "invite-only"};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)

static void
set_stats (odm_community_group_t *d, double members, double posts, double active)
{
   d->stats.members = members;
   d->stats.posts = posts;
   d->stats.activeToday = active;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k, m;
   odm_ax_rng_seed (&r, 15);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_group_t *d = &docs[i];
      odm_community_group_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (7000 + i));
      d->has__id = ODM_PRESENT;
      d->name = bson_strdup_printf ("Group %zu", i);
      d->slug = bson_strdup_printf ("group-%zu", i);
      d->category = bson_strdup (categories[i % 8]);
      odm_ax_set_string (&d->privacy, privacies[odm_ax_rng_range (&r, 0, 3)]);
      odm_ax_oid (&d->ownerId, (uint32_t) (600 + i % 5));
      d->has_ownerId = ODM_PRESENT;
      m = (size_t) odm_ax_rng_range (&r, 0, 3);
      d->moderators.items = m ? bson_malloc0 (m * sizeof (bson_oid_t)) : NULL;
      for (k = 0; k < m; k++) {
         odm_ax_oid (&d->moderators.items[k], (uint32_t) (610 + k));
      }
      d->moderators.count = m;
      if (i % 4 == 0) {
         d->rules.items = bson_malloc0 (2 * sizeof (char *));
         d->rules.items[0] = bson_strdup ("Be respectful");
         d->rules.items[1] = bson_strdup ("No spam");
         d->rules.count = 2;
      }
      d->stats.members = (double) odm_ax_rng_range (&r, 1, 2000);
      d->stats.activeToday = (double) odm_ax_rng_range (&r, 0, (int64_t) d->stats.members / 3);
      d->stats.posts = (double) odm_ax_rng_range (&r, 0, (int64_t) d->stats.members / 2);
      if (i % 9 == 0) {
         set_stats (d, 0, (double) odm_ax_rng_range (&r, 0, 5), 0); /* new: no members yet */
      }
      d->settings.requireApproval = odm_str_eq (d->privacy, "invite-only") || odm_ax_rng_range (&r, 0, 3) == 0;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, -30, 170) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
   }
   /* The largest: group 2, then groups 0 and 1 tied (same members and posts). */
   set_stats (&docs[0], 5000, 300, 100);
   set_stats (&docs[1], 5000, 300, 250);
   set_stats (&docs[2], 5000, 400, 50);
   /* The most engaged: groups 3 and 4 tied (90 of 100 active), then group 5 (45 of 50,
    * the same share but fewer members). */
   set_stats (&docs[3], 100, 10, 90);
   set_stats (&docs[4], 100, 20, 90);
   set_stats (&docs[5], 50, 10, 45);
   /* Boundaries: groups created exactly at Feb 1 and Apr 1. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   *n = N;
   return docs;
}

/* ------------------------------------------------------------ popularity */

typedef odm_community_group_popularity_params_t po_t;

static int
by_members_posts_id (const void *a, const void *b)
{
   const odm_community_group_t *x = *(odm_community_group_t *const *) a, *y = *(odm_community_group_t *const *) b;
   int c = odm_ax_cmp_double_desc (x->stats.members, y->stats.members);
   c = c ? c : odm_ax_cmp_double_desc (x->stats.posts, y->stats.posts);
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_popularity (const void *params, bson_t *rows)
{
   const po_t *p = params;
   const odm_community_group_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      if ((p->has_category && !odm_str_eq (docs[i].category, p->category)) ||
          (p->has_privacy && !odm_str_eq (docs[i].privacy, p->privacy))) {
         continue;
      }
      sel[ns++] = &docs[i];
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_members_posts_id);
   for (i = 0; i < ns && i < limit; i++) {
      const odm_community_group_t *d = sel[i];
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &d->_id);
      BSON_APPEND_UTF8 (&row, "name", d->name);
      BSON_APPEND_UTF8 (&row, "slug", d->slug);
      BSON_APPEND_UTF8 (&row, "category", d->category);
      BSON_APPEND_DOUBLE (&row, "members", d->stats.members);
      BSON_APPEND_DOUBLE (&row, "posts", d->stats.posts);
      BSON_APPEND_DOUBLE (&row, "activeToday", d->stats.activeToday);
      odm_ax_append_num_or_null (&row, "postsPerMember", d->stats.members > 0, d->stats.posts / d->stats.members);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const po_t po_default = {0};
static const po_t po_top2 = {.limit = 2, .has_limit = 1};
static const po_t po_public_design = {.category = "Design", .has_category = 1, .privacy = "public", .has_privacy = 1};
/* all science groups, group 27 has no members (null posts per member) */
static const po_t po_science_all = {.category = "Science", .has_category = 1, .limit = 100, .has_limit = 1};

/* ------------------------------------------------------------ category_distribution */

typedef odm_community_group_category_distribution_params_t cd_t;

typedef struct {
   odm_ax_key_t key; /* a category */
   double n, pub, priv, invite, approval, members;
} group_t;

static int
by_n_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_category_distribution (const void *params, bson_t *rows)
{
   const cd_t *p = params;
   group_t g[8];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_group_t *d = &docs[i];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_privacy && !odm_str_eq (d->privacy, p->privacy))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->category, NULL);
      x->n++;
      x->pub += odm_str_eq (d->privacy, "public");
      x->priv += odm_str_eq (d->privacy, "private");
      x->invite += odm_str_eq (d->privacy, "invite-only");
      x->approval += d->settings.requireApproval;
      x->members += d->stats.members;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_n_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "groups", BCON_DOUBLE (g[i].n), "public",
                              BCON_DOUBLE (g[i].pub), "private", BCON_DOUBLE (g[i].priv), "inviteOnly",
                              BCON_DOUBLE (g[i].invite), "requireApproval", BCON_DOUBLE (g[i].approval), "members",
                              BCON_DOUBLE (g[i].members), "averageMembers", BCON_DOUBLE (g[i].members / g[i].n));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cd_t cd_all = {0};
static const cd_t cd_invite_only = {.privacy = "invite-only", .has_privacy = 1};
static const cd_t cd_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const cd_t cd_one = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ member_engagement */

typedef odm_community_group_member_engagement_params_t me_t;

/* highest share of active members first; groups without members (null share) last */
static int
by_share_members_id (const void *a, const void *b)
{
   const odm_community_group_t *x = *(odm_community_group_t *const *) a, *y = *(odm_community_group_t *const *) b;
   int c;
   if (x->stats.members <= 0 || y->stats.members <= 0) {
      c = (int) (x->stats.members <= 0) - (int) (y->stats.members <= 0);
   } else {
      c = odm_ax_cmp_double_desc (x->stats.activeToday / x->stats.members, y->stats.activeToday / y->stats.members);
   }
   c = c ? c : odm_ax_cmp_double_desc (x->stats.members, y->stats.members);
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_member_engagement (const void *params, bson_t *rows)
{
   const me_t *p = params;
   const odm_community_group_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   double min_members = p->has_minMembers ? p->minMembers : 1;
   for (i = 0; i < N; i++) {
      if (docs[i].stats.members < min_members || (p->has_category && !odm_str_eq (docs[i].category, p->category)) ||
          (p->has_privacy && !odm_str_eq (docs[i].privacy, p->privacy))) {
         continue;
      }
      sel[ns++] = &docs[i];
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_share_members_id);
   for (i = 0; i < ns && i < limit; i++) {
      const odm_community_group_t *d = sel[i];
      bool has = d->stats.members > 0;
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &d->_id);
      BSON_APPEND_UTF8 (&row, "name", d->name);
      BSON_APPEND_DOUBLE (&row, "members", d->stats.members);
      BSON_APPEND_DOUBLE (&row, "activeToday", d->stats.activeToday);
      BSON_APPEND_DOUBLE (&row, "posts", d->stats.posts);
      odm_ax_append_num_or_null (&row, "activeShare", has, d->stats.activeToday / d->stats.members);
      odm_ax_append_num_or_null (&row, "postsPerMember", has, d->stats.posts / d->stats.members);
      BSON_APPEND_DOUBLE (&row, "moderators", (double) d->moderators.count);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const me_t me_default = {0};
static const me_t me_top1 = {.limit = 1, .has_limit = 1};
static const me_t me_top3 = {.limit = 3, .has_limit = 1};
/* every group, those without members included (null shares, last) */
static const me_t me_everything = {.minMembers = 0, .has_minMembers = 1, .limit = 100, .has_limit = 1};
static const me_t me_large_tech = {
   .category = "Technology", .has_category = 1, .minMembers = 1000, .has_minMembers = 1};
static const me_t me_private = {.privacy = "private", .has_privacy = 1};

static const odm_ax_case_t cases[] = {
   {"default limit 10", &odm_community_group_popularity_aggregation, &po_default, expect_popularity},
   {"top 2 through the group 0/1 tie", &odm_community_group_popularity_aggregation, &po_top2, expect_popularity},
   {"public design groups", &odm_community_group_popularity_aggregation, &po_public_design, expect_popularity},
   {"every science group", &odm_community_group_popularity_aggregation, &po_science_all, expect_popularity},
   {"all", &odm_community_group_category_distribution_aggregation, &cd_all, expect_category_distribution},
   {"invite-only", &odm_community_group_category_distribution_aggregation, &cd_invite_only,
    expect_category_distribution},
   {"window [Feb 1, Apr 1)", &odm_community_group_category_distribution_aggregation, &cd_window,
    expect_category_distribution},
   {"window of one group", &odm_community_group_category_distribution_aggregation, &cd_one,
    expect_category_distribution},
   {"default", &odm_community_group_member_engagement_aggregation, &me_default, expect_member_engagement},
   {"top 1 through the group 3/4 tie", &odm_community_group_member_engagement_aggregation, &me_top1,
    expect_member_engagement},
   {"top 3: equal share, fewer members", &odm_community_group_member_engagement_aggregation, &me_top3,
    expect_member_engagement},
   {"every group (minMembers 0)", &odm_community_group_member_engagement_aggregation, &me_everything,
    expect_member_engagement},
   {"technology groups of 1000 members or more", &odm_community_group_member_engagement_aggregation,
    &me_large_tech, expect_member_engagement},
   {"private", &odm_community_group_member_engagement_aggregation, &me_private, expect_member_engagement},
};

const odm_analytics_module_t odm_analytics_community_groups = {&odm_community_group_schema, dataset, cases,
                                                               sizeof cases / sizeof cases[0]};
