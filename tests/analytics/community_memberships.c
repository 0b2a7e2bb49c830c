/* Analytics of community_memberships, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 50
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define MAR1 (ODM_AX_EPOCH + 60 * ODM_AX_DAY)
static odm_community_membership_t docs[N];

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 16);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_membership_t *d = &docs[i];
      int64_t roll, user, group;
      size_t k;
      odm_community_membership_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (16000 + i));
      d->has__id = ODM_PRESENT;
      /* a (user, group) pair not taken yet: the pair is unique */
      do {
         user = odm_ax_rng_range (&r, 0, 9);
         group = odm_ax_rng_range (&r, 0, 5);
         odm_ax_oid (&d->userId, (uint32_t) (100 + user));
         odm_ax_oid (&d->groupId, (uint32_t) (200 + group));
         for (k = 0; k < i && !(bson_oid_equal (&docs[k].userId, &d->userId) &&
                                bson_oid_equal (&docs[k].groupId, &d->groupId));
              k++) {
         }
      } while (k < i);
      d->has_userId = ODM_PRESENT;
      d->has_groupId = ODM_PRESENT;
      roll = odm_ax_rng_range (&r, 0, 9);
      odm_ax_set_string (&d->role, roll < 7 ? "member" : roll < 9 ? "moderator" : "admin");
      roll = odm_ax_rng_range (&r, 0, 19);
      odm_ax_set_string (&d->status, roll < 12 ? "active" : roll < 15 ? "pending" : roll < 17 ? "suspended" : "left");
      d->joinedAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_joinedAt = ODM_PRESENT;
      d->createdAt = d->joinedAt;
      d->has_createdAt = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 4) < 2) {
         odm_ax_oid (&d->invitedBy, (uint32_t) (100 + odm_ax_rng_range (&r, 0, 9)));
         d->has_invitedBy = ODM_PRESENT;
      }
      d->permissions.canPost = strcmp (d->status, "suspended") != 0;
      d->permissions.canModerate = !strcmp (d->role, "admin") || (!strcmp (d->role, "moderator") && i % 3 != 0);
      d->has_permissions = ODM_PRESENT;
   }
   /* An admin stored without canModerate: the derivation sets it on insert. */
   odm_ax_set_string (&docs[9].role, "admin");
   docs[9].permissions.canModerate = false;
   /* A membership whose role is null: no staff, and the null row of role_distribution. */
   odm_ax_unset_string (&docs[20].role, &docs[20].has_role, ODM_NULL);
   /* Boundaries: documents exactly at 2024-02-01 and 2024-03-01. */
   docs[5].joinedAt = FEB1;
   docs[6].joinedAt = MAR1;
   *n = N;
   return docs;
}

static bool
in_window (const odm_community_membership_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->joinedAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a group or a user, or a role */
   double count, active, pending, suspended, left, staff, invited, can_post, can_moderate;
   int64_t first, last;
   bson_oid_t groups[N];
   size_t ngroups;
} group_t;

/* A new group: its first and last dates at the ends, for the first date to replace. */
static const group_t blank = {.first = INT64_MAX, .last = INT64_MIN};

static void
add (group_t *g, const odm_community_membership_t *d)
{
   g->count++;
   g->active += !strcmp (d->status, "active");
   g->pending += !strcmp (d->status, "pending");
   g->suspended += !strcmp (d->status, "suspended");
   g->left += !strcmp (d->status, "left");
   g->staff += odm_str_eq (d->role, "moderator") || odm_str_eq (d->role, "admin"); /* a null role is no staff */
   g->invited += d->has_invitedBy == ODM_PRESENT;
   g->can_post += d->permissions.canPost;
   /* the derivation: an admin can always moderate */
   g->can_moderate += d->permissions.canModerate || odm_str_eq (d->role, "admin");
   g->first = d->joinedAt < g->first ? d->joinedAt : g->first;
   g->last = d->joinedAt > g->last ? d->joinedAt : g->last;
   odm_ax_oid_set_add (g->groups, &g->ngroups, &d->groupId);
}

static int
by_active_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->active, y->active);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ group_membership */

typedef odm_community_membership_group_membership_params_t gm_t;

static void
expect_group_membership (const void *params, bson_t *rows)
{
   const gm_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) &&
          odm_ax_oid_ok (p->has_groupId, &p->groupId, &docs[i].groupId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &docs[i].groupId, NULL, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_active_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "memberCount", BCON_DOUBLE (g[i].count), "activeCount",
                              BCON_DOUBLE (g[i].active), "pendingCount", BCON_DOUBLE (g[i].pending), "suspendedCount",
                              BCON_DOUBLE (g[i].suspended), "leftCount", BCON_DOUBLE (g[i].left), "staffCount",
                              BCON_DOUBLE (g[i].staff));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const gm_t gm_all = {0};
static const gm_t gm_window = {.from = FEB1, .has_from = 1, .to = MAR1, .has_to = 1};
static const gm_t gm_top2 = {.limit = 2, .has_limit = 1};
static const gm_t gm_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};
static gm_t gm_group; /* set in the module init below */

/* ------------------------------------------------------------ user_participation */

typedef odm_community_membership_user_participation_params_t up_t;

static void
expect_user_participation (const void *params, bson_t *rows)
{
   const up_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) &&
          (!p->has_status || !strcmp (p->status, docs[i].status))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &docs[i].userId, NULL, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "groupCount", BCON_DOUBLE (g[i].count), "activeCount",
                              BCON_DOUBLE (g[i].active), "staffCount", BCON_DOUBLE (g[i].staff), "invitedCount",
                              BCON_DOUBLE (g[i].invited), "firstJoinedAt", BCON_DATE_TIME (g[i].first),
                              "lastJoinedAt", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const up_t up_all = {0};
static const up_t up_active = {.status = "active", .has_status = 1};
static const up_t up_top3 = {.limit = 3, .has_limit = 1};
static const up_t up_window = {.from = FEB1, .has_from = 1, .to = MAR1, .has_to = 1};

/* ------------------------------------------------------------ role_distribution */

typedef odm_community_membership_role_distribution_params_t rd_t;

static void
expect_role_distribution (const void *params, bson_t *rows)
{
   const rd_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) &&
          odm_ax_oid_ok (p->has_groupId, &p->groupId, &docs[i].groupId) &&
          (!p->has_status || !strcmp (p->status, docs[i].status))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, docs[i].role, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = bson_new ();
      odm_ax_append_str_or_null (row, "_id", g[i].key.null, g[i].key.s);
      BCON_APPEND (row, "memberCount", BCON_DOUBLE (g[i].count), "groupCount",
                              BCON_DOUBLE ((double) g[i].ngroups), "canPostCount", BCON_DOUBLE (g[i].can_post),
                              "canModerateCount", BCON_DOUBLE (g[i].can_moderate));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const rd_t rd_all = {0};
static const rd_t rd_window = {.from = FEB1, .has_from = 1, .to = MAR1, .has_to = 1};
static rd_t rd_group_active;

static const odm_ax_case_t cases[] = {
   {"all", &odm_community_membership_group_membership_aggregation, &gm_all, expect_group_membership},
   {"window [Feb 1, Mar 1)", &odm_community_membership_group_membership_aggregation, &gm_window,
    expect_group_membership},
   {"top 2 with a tie", &odm_community_membership_group_membership_aggregation, &gm_top2, expect_group_membership},
   {"one group", &odm_community_membership_group_membership_aggregation, &gm_group, expect_group_membership},
   {"window of one document", &odm_community_membership_group_membership_aggregation, &gm_one_doc,
    expect_group_membership},
   {"all", &odm_community_membership_user_participation_aggregation, &up_all, expect_user_participation},
   {"active only", &odm_community_membership_user_participation_aggregation, &up_active, expect_user_participation},
   {"top 3 with a tie", &odm_community_membership_user_participation_aggregation, &up_top3,
    expect_user_participation},
   {"window [Feb 1, Mar 1)", &odm_community_membership_user_participation_aggregation, &up_window,
    expect_user_participation},
   {"all", &odm_community_membership_role_distribution_aggregation, &rd_all, expect_role_distribution},
   {"window [Feb 1, Mar 1)", &odm_community_membership_role_distribution_aggregation, &rd_window,
    expect_role_distribution},
   {"one group, active", &odm_community_membership_role_distribution_aggregation, &rd_group_active,
    expect_role_distribution},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&gm_group.groupId, 202);
   gm_group.has_groupId = 1;
   odm_ax_oid (&rd_group_active.groupId, 204);
   rd_group_active.has_groupId = 1;
   rd_group_active.status = "active";
   rd_group_active.has_status = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_memberships = {
   &odm_community_membership_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
