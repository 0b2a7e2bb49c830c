/* Analytics of community_moderation, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 64
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
#define HOUR INT64_C (3600000)
static odm_community_moderation_t docs[N];
static const char *const actions[] = {"approve", "reject", "flag", "delete", "edit"};
static const char *const reasons[] = {"spam", "harassment", "inappropriate", "duplicate", "off-topic", "other"};
static const char *const statuses[] = {"pending", "in_review", "resolved"};
static const char *const priorities[] = {"low", "normal", "high", "urgent"};
static const char *const rules[] = {"spam-links", "profanity", "caps-lock", "repeat-post", "new-account"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k, nrules;
   odm_ax_rng_seed (&r, 20);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_moderation_t *d = &docs[i];
      odm_community_moderation_metadata_t *m = &d->metadata;
      odm_community_moderation_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (20000 + i));
      d->has__id = ODM_PRESENT;
      d->contentType = bson_strdup (odm_ax_rng_range (&r, 0, 2) ? "post" : "comment");
      d->has_contentType = ODM_PRESENT;
      odm_ax_oid (&d->contentId, (uint32_t) (600 + odm_ax_rng_range (&r, 1, 20)));
      d->has_contentId = ODM_PRESENT;
      d->action = bson_strdup (actions[odm_ax_rng_range (&r, 0, 4)]);
      d->has_action = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 4)) { /* a fifth give no reason */
         d->reason = bson_strdup (reasons[odm_ax_rng_range (&r, 0, 5)]);
         d->has_reason = ODM_PRESENT;
      }
      odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 2)]);
      odm_ax_set_string (&d->priority, priorities[odm_ax_rng_range (&r, 0, 3)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 3)) { /* a quarter are not assigned yet */
         odm_ax_oid (&d->moderatorId, (uint32_t) (700 + odm_ax_rng_range (&r, 1, 5)));
         d->has_moderatorId = ODM_PRESENT;
      }
      if (!strcmp (d->status, "resolved")) {
         d->resolvedAt = d->createdAt + odm_ax_rng_range (&r, 1, 96) * HOUR + odm_ax_rng_range (&r, 0, HOUR - 1);
         d->has_resolvedAt = ODM_PRESENT;
      }
      m->autoFlagged = odm_ax_rng_range (&r, 0, 4) < 2;
      if (m->autoFlagged || odm_ax_rng_range (&r, 0, 3) == 0) {
         m->confidence = (double) odm_ax_rng_range (&r, 0, 100) / 100;
         m->has_confidence = ODM_PRESENT;
      }
      if (!m->autoFlagged) {
         odm_ax_oid (&d->reporterId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 9)));
         d->has_reporterId = ODM_PRESENT;
      }
      /* distinct rules: a start and a count; reported cases mostly trigger none */
      nrules = (size_t) (m->autoFlagged ? odm_ax_rng_range (&r, 1, 3) : odm_ax_rng_range (&r, 0, 3) / 3);
      if (nrules) {
         size_t first = (size_t) odm_ax_rng_range (&r, 0, 4);
         m->rulesTriggered.items = bson_malloc0 (nrules * sizeof (char *));
         for (k = 0; k < nrules; k++) {
            m->rulesTriggered.items[k] = bson_strdup (rules[(first + k) % 5]);
         }
         m->rulesTriggered.count = nrules;
         m->has_rulesTriggered = ODM_PRESENT;
      }
      d->has_metadata = ODM_PRESENT;
   }
   /* A case reopened for review keeps its resolvedAt: it counts in the hours. */
   odm_ax_set_string (&docs[3].status, "in_review");
   docs[3].resolvedAt = docs[3].createdAt + 5 * HOUR;
   docs[3].has_resolvedAt = ODM_PRESENT;
   /* An explicit null moderator is no moderator (MongoDB's $exists: true matches it): no
    * null owner row. */
   for (i = 0; i < N && docs[i].has_moderatorId == ODM_PRESENT; i++) {
   }
   ck_assert (i < N);
   docs[i].has_moderatorId = ODM_NULL;
   /* An assigned case whose status is null is not open. */
   for (i = 0; i < N && !(docs[i].has_moderatorId == ODM_PRESENT && odm_str_eq (docs[i].status, "pending")); i++) {
   }
   ck_assert (i < N);
   odm_ax_unset_string (&docs[i].status, &docs[i].has_status, ODM_NULL);
   /* A case that lists a rule twice triggered it once. */
   for (i = 0; i < N && docs[i].metadata.rulesTriggered.count == 0; i++) {
   }
   ck_assert (i < N);
   {
      odm_community_moderation_metadata_t *m = &docs[i].metadata;
      m->rulesTriggered.items = bson_realloc (m->rulesTriggered.items, (m->rulesTriggered.count + 1) * sizeof (char *));
      m->rulesTriggered.items[m->rulesTriggered.count] = bson_strdup (m->rulesTriggered.items[0]);
      m->rulesTriggered.count++;
   }
   /* Boundaries: cases created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   for (i = 10; i < 12; i++) {
      if (docs[i].has_resolvedAt) {
         docs[i].resolvedAt = docs[i].createdAt + 7 * HOUR;
      }
   }
   *n = N;
   return docs;
}

static bool
in_window (const odm_community_moderation_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

static bool
is_removal (const odm_community_moderation_t *d)
{
   return !strcmp (d->action, "reject") || !strcmp (d->action, "delete");
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a moderator, or a content type and a reason, or a rule */
   double count, open, resolved, high, removed, dismissed, auto_flagged;
   odm_ax_acc_t hours, confidence; /* hours to the resolution, the flagging confidence */
   bson_oid_t items[N];
   size_t nitems;
} group_t;

static void
add (group_t *g, const odm_community_moderation_t *d)
{
   g->count++;
   g->resolved += odm_str_eq (d->status, "resolved");
   g->open += odm_str_eq (d->status, "pending") || odm_str_eq (d->status, "in_review"); /* a null status is not open */
   g->high += !strcmp (d->priority, "high") || !strcmp (d->priority, "urgent");
   if (d->has_resolvedAt) {
      odm_ax_acc_add (&g->hours, (double) (d->resolvedAt - d->createdAt) / 3600000.0);
   }
   g->removed += is_removal (d);
   g->dismissed += !strcmp (d->action, "approve");
   g->auto_flagged += d->metadata.autoFlagged;
   if (d->metadata.has_confidence) {
      odm_ax_acc_add (&g->confidence, d->metadata.confidence);
   }
   odm_ax_oid_set_add (g->items, &g->nitems, &d->contentId);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ moderator_workload */

typedef odm_community_moderation_moderator_workload_params_t mw_t;

static void
expect_moderator_workload (const void *params, bson_t *rows)
{
   const mw_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_moderation_t *d = &docs[i];
      if (d->has_moderatorId == ODM_PRESENT && in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          odm_ax_oid_ok (p->has_moderatorId, &p->moderatorId, &d->moderatorId) &&
          (!p->has_status || odm_str_eq (d->status, p->status))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->moderatorId, NULL, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "caseCount", BCON_DOUBLE (g[i].count), "openCount",
                              BCON_DOUBLE (g[i].open), "resolvedCount", BCON_DOUBLE (g[i].resolved),
                              "highPriorityCount", BCON_DOUBLE (g[i].high));
      odm_ax_append_avg (row, "averageResolutionHours", &g[i].hours);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const mw_t mw_all = {0};
static const mw_t mw_top3 = {.limit = 3, .has_limit = 1};
static const mw_t mw_pending = {.status = "pending", .has_status = 1};
static const mw_t mw_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static mw_t mw_one;

/* ------------------------------------------------------------ content_quality */

typedef odm_community_moderation_content_quality_params_t cq_t;

static void
expect_content_quality (const void *params, bson_t *rows)
{
   const cq_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_moderation_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          (!p->has_contentType || !strcmp (p->contentType, d->contentType))) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->contentType, d->has_reason ? d->reason : "unspecified"),
              d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", "{", "contentType", BCON_UTF8 (g[i].key.s), "reason", BCON_UTF8 (g[i].key.s2),
                              "}", "reportCount", BCON_DOUBLE (g[i].count), "contentCount",
                              BCON_DOUBLE ((double) g[i].nitems), "removedCount", BCON_DOUBLE (g[i].removed),
                              "autoFlaggedCount", BCON_DOUBLE (g[i].auto_flagged));
      odm_ax_append_avg (row, "averageConfidence", &g[i].confidence);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cq_t cq_all = {0};
static const cq_t cq_comments = {.contentType = "comment", .has_contentType = 1};
static const cq_t cq_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const cq_t cq_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ rule_effectiveness */

typedef odm_community_moderation_rule_effectiveness_params_t re_t;

static void
expect_rule_effectiveness (const void *params, bson_t *rows)
{
   const re_t *p = params;
   static group_t g[N];
   size_t ng = 0, i, k;
   for (i = 0; i < N; i++) {
      const odm_community_moderation_t *d = &docs[i];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_status && !odm_str_eq (d->status, p->status))) {
         continue;
      }
      for (k = 0; k < d->metadata.rulesTriggered.count; k++) { /* each distinct rule once */
         if (odm_ax_first_of (d->metadata.rulesTriggered.items, k)) {
            add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->metadata.rulesTriggered.items[k], NULL), d);
         }
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "triggerCount", BCON_DOUBLE (g[i].count),
                              "autoFlaggedCount", BCON_DOUBLE (g[i].auto_flagged), "upheldCount",
                              BCON_DOUBLE (g[i].removed), "dismissedCount", BCON_DOUBLE (g[i].dismissed),
                              "upheldRate", BCON_DOUBLE (g[i].removed / g[i].count));
      odm_ax_append_avg (row, "averageConfidence", &g[i].confidence);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const re_t re_all = {0};
static const re_t re_top = {.limit = 4, .has_limit = 1};
static const re_t re_resolved = {.status = "resolved", .has_status = 1};
static const re_t re_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"all", &odm_community_moderation_moderator_workload_aggregation, &mw_all, expect_moderator_workload},
   {"top 3 with a tie", &odm_community_moderation_moderator_workload_aggregation, &mw_top3,
    expect_moderator_workload},
   {"pending", &odm_community_moderation_moderator_workload_aggregation, &mw_pending, expect_moderator_workload},
   {"window [Feb 1, Apr 1)", &odm_community_moderation_moderator_workload_aggregation, &mw_window,
    expect_moderator_workload},
   {"one moderator", &odm_community_moderation_moderator_workload_aggregation, &mw_one, expect_moderator_workload},
   {"all", &odm_community_moderation_content_quality_aggregation, &cq_all, expect_content_quality},
   {"comments", &odm_community_moderation_content_quality_aggregation, &cq_comments, expect_content_quality},
   {"window [Feb 1, Apr 1)", &odm_community_moderation_content_quality_aggregation, &cq_window,
    expect_content_quality},
   {"window of one case", &odm_community_moderation_content_quality_aggregation, &cq_one_doc,
    expect_content_quality},
   {"all", &odm_community_moderation_rule_effectiveness_aggregation, &re_all, expect_rule_effectiveness},
   {"top 4 with a tie", &odm_community_moderation_rule_effectiveness_aggregation, &re_top,
    expect_rule_effectiveness},
   {"resolved", &odm_community_moderation_rule_effectiveness_aggregation, &re_resolved, expect_rule_effectiveness},
   {"window [Feb 1, Apr 1)", &odm_community_moderation_rule_effectiveness_aggregation, &re_window,
    expect_rule_effectiveness},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&mw_one.moderatorId, 703);
   mw_one.has_moderatorId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_moderation = {
   &odm_community_moderation_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
