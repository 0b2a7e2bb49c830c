/* Analytics of community_suggestions, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_community_suggestion_t docs[N];
static const char *const categories[] = {"ui", "feature", "bug", "performance", "accessibility"};
static const char *const statuses[] = {"submitted", "under_review", "planned", "in_progress", "completed", "declined"};
static const char *const priorities[] = {"low", "medium", "high"};

static void
set_voters (odm_community_suggestion_t *d, size_t count, uint32_t first)
{
   size_t k;
   bson_free (d->votes.voters.items);
   d->votes.voters.items = count ? bson_malloc0 (count * sizeof (bson_oid_t)) : NULL;
   for (k = 0; k < count; k++) {
      odm_ax_oid (&d->votes.voters.items[k], first + (uint32_t) k);
   }
   d->votes.voters.count = count;
   d->votes.count = (double) count;
   d->has_votes = ODM_PRESENT;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k, ncomments;
   odm_ax_rng_seed (&r, 21);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_suggestion_t *d = &docs[i];
      odm_community_suggestion_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (21000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_oid (&d->authorId, (uint32_t) (800 + odm_ax_rng_range (&r, 1, 8)));
      d->has_authorId = ODM_PRESENT;
      d->title = bson_strdup_printf ("Suggestion %zu", i);
      d->has_title = ODM_PRESENT;
      d->description = bson_strdup ("It would help if ...");
      d->has_description = ODM_PRESENT;
      d->category = bson_strdup (categories[odm_ax_rng_range (&r, 0, 4)]);
      d->has_category = ODM_PRESENT;
      if (i % 5) { /* every fifth keeps the defaults: submitted, medium */
         odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 5)]);
         odm_ax_set_string (&d->priority, priorities[odm_ax_rng_range (&r, 0, 2)]);
      }
      set_voters (d, (size_t) odm_ax_rng_range (&r, 0, 12), (uint32_t) (100 + odm_ax_rng_range (&r, 0, 20)));
      if (odm_ax_rng_range (&r, 0, 4) < 2) {
         odm_ax_oid (&d->assignedTo, (uint32_t) (900 + odm_ax_rng_range (&r, 1, 3)));
         d->has_assignedTo = ODM_PRESENT;
      }
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      ncomments = (size_t) odm_ax_rng_range (&r, 0, 4);
      if (ncomments) {
         d->comments.items = bson_malloc0 (ncomments * sizeof d->comments.items[0]);
         for (k = 0; k < ncomments; k++) {
            odm_community_suggestion_comment_t *c = &d->comments.items[k];
            odm_ax_oid (&c->authorId, (uint32_t) (100 + odm_ax_rng_range (&r, 0, 20)));
            c->has_authorId = ODM_PRESENT;
            c->content = bson_strdup ("+1");
            c->has_content = ODM_PRESENT;
            c->createdAt = d->createdAt + (int64_t) (k + 1) * ODM_AX_DAY;
            c->has_createdAt = ODM_PRESENT;
         }
         d->comments.count = ncomments;
         d->has_comments = ODM_PRESENT;
      }
   }
   /* A stale vote count: the derivation recounts the voters on insert. */
   docs[5].votes.count = 99;
   /* Boundaries: suggestions created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
selected (const odm_community_suggestion_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to,
          const char *category)
{
   return (!has_from || d->createdAt >= from) && (!has_to || d->createdAt < to) &&
          (!category || !strcmp (category, d->category));
}

/* The vote count as stored: the number of voters. */
static double
votes (const odm_community_suggestion_t *d)
{
   return (double) d->votes.voters.count;
}

static bool
status_is (const odm_community_suggestion_t *d, const char *a, const char *b, const char *c)
{
   return !strcmp (d->status, a) || (b && !strcmp (d->status, b)) || (c && !strcmp (d->status, c));
}

/* ------------------------------------------------------------ popular_suggestions */

typedef odm_community_suggestion_popular_suggestions_params_t ps_t;

static int
by_votes_then_id (const void *a, const void *b)
{
   const odm_community_suggestion_t *x = *(const odm_community_suggestion_t *const *) a;
   const odm_community_suggestion_t *y = *(const odm_community_suggestion_t *const *) b;
   int c = odm_ax_cmp_double_desc (votes (x), votes (y));
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_popular_suggestions (const void *params, bson_t *rows)
{
   const ps_t *p = params;
   const odm_community_suggestion_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_category ? p->category : NULL) &&
          (!p->has_status || !strcmp (p->status, docs[i].status))) {
         sel[ns++] = &docs[i];
      }
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_votes_then_id);
   for (i = 0; i < ns && i < limit; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&sel[i]->_id), "title", BCON_UTF8 (sel[i]->title), "category",
                              BCON_UTF8 (sel[i]->category), "status", BCON_UTF8 (sel[i]->status), "voteCount",
                              BCON_DOUBLE (votes (sel[i])), "commentCount",
                              BCON_DOUBLE ((double) sel[i]->comments.count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ps_t ps_default = {0};
static const ps_t ps_top4 = {.limit = 4, .has_limit = 1};
static const ps_t ps_features = {.category = "feature", .has_category = 1, .limit = 100, .has_limit = 1};
static const ps_t ps_planned_window = {.status = "planned", .has_status = 1, .from = FEB1, .has_from = 1,
                                       .to = APR1, .has_to = 1};
static const ps_t ps_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* an author, or a priority */
   double count, awaiting, progress, completed, declined, assigned, votes, comments, accepted;
} group_t;

static void
add (group_t *g, const odm_community_suggestion_t *d)
{
   g->count++;
   g->awaiting += status_is (d, "submitted", "under_review", NULL);
   g->progress += status_is (d, "planned", "in_progress", NULL);
   g->completed += status_is (d, "completed", NULL, NULL);
   g->declined += status_is (d, "declined", NULL, NULL);
   g->accepted += status_is (d, "planned", "in_progress", "completed");
   g->assigned += d->has_assignedTo == ODM_PRESENT;
   g->votes += votes (d);
   g->comments += (double) d->comments.count;
}

/* ------------------------------------------------------------ implementation_priority */

typedef odm_community_suggestion_implementation_priority_params_t ip_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_implementation_priority (const void *params, bson_t *rows)
{
   const ip_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_category ? p->category : NULL) &&
          (!p->has_assignedTo || (docs[i].has_assignedTo && bson_oid_equal (&p->assignedTo, &docs[i].assignedTo)))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].priority, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "suggestionCount", BCON_DOUBLE (g[i].count),
                              "awaitingReviewCount", BCON_DOUBLE (g[i].awaiting), "inProgressCount",
                              BCON_DOUBLE (g[i].progress), "completedCount", BCON_DOUBLE (g[i].completed),
                              "declinedCount", BCON_DOUBLE (g[i].declined), "assignedCount",
                              BCON_DOUBLE (g[i].assigned), "totalVotes", BCON_DOUBLE (g[i].votes), "averageVotes",
                              BCON_DOUBLE (g[i].votes / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ip_t ip_all = {0};
static const ip_t ip_bugs = {.category = "bug", .has_category = 1};
static const ip_t ip_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static ip_t ip_assignee;

/* ------------------------------------------------------------ user_engagement */

typedef odm_community_suggestion_user_engagement_params_t ue_t;

static int
by_votes_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->votes, y->votes);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_user_engagement (const void *params, bson_t *rows)
{
   const ue_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_category ? p->category : NULL)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &docs[i].authorId, NULL, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_votes_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "suggestionCount", BCON_DOUBLE (g[i].count),
                              "votesReceived", BCON_DOUBLE (g[i].votes), "commentsReceived",
                              BCON_DOUBLE (g[i].comments), "acceptedCount", BCON_DOUBLE (g[i].accepted));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ue_t ue_all = {0};
static const ue_t ue_top = {.limit = 4, .has_limit = 1};
static const ue_t ue_ui = {.category = "ui", .has_category = 1};
static const ue_t ue_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"default top 10", &odm_community_suggestion_popular_suggestions_aggregation, &ps_default,
    expect_popular_suggestions},
   {"top 4 with a tie", &odm_community_suggestion_popular_suggestions_aggregation, &ps_top4,
    expect_popular_suggestions},
   {"every feature", &odm_community_suggestion_popular_suggestions_aggregation, &ps_features,
    expect_popular_suggestions},
   {"planned, window [Feb 1, Apr 1)", &odm_community_suggestion_popular_suggestions_aggregation, &ps_planned_window,
    expect_popular_suggestions},
   {"window of one suggestion", &odm_community_suggestion_popular_suggestions_aggregation, &ps_one_doc,
    expect_popular_suggestions},
   {"all", &odm_community_suggestion_implementation_priority_aggregation, &ip_all, expect_implementation_priority},
   {"bugs", &odm_community_suggestion_implementation_priority_aggregation, &ip_bugs, expect_implementation_priority},
   {"window [Feb 1, Apr 1)", &odm_community_suggestion_implementation_priority_aggregation, &ip_window,
    expect_implementation_priority},
   {"one assignee", &odm_community_suggestion_implementation_priority_aggregation, &ip_assignee,
    expect_implementation_priority},
   {"all", &odm_community_suggestion_user_engagement_aggregation, &ue_all, expect_user_engagement},
   {"top 4 with a tie", &odm_community_suggestion_user_engagement_aggregation, &ue_top, expect_user_engagement},
   {"ui", &odm_community_suggestion_user_engagement_aggregation, &ue_ui, expect_user_engagement},
   {"window [Feb 1, Apr 1)", &odm_community_suggestion_user_engagement_aggregation, &ue_window,
    expect_user_engagement},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&ip_assignee.assignedTo, 902);
   ip_assignee.has_assignedTo = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_suggestions = {
   &odm_community_suggestion_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
