/* Analytics of user_favorites, verified on a seeded data set with expectations computed
 * here in C from the same structs. The collection has no timestamps: its date is addedAt. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_user_favorite_t docs[N];
static const char *const item_types[] = {"agent", "post", "comment", "session", "canvas_project"};
static const char *const categories[] = {"ai-assistants", "coding", "research"};

static double
total_accesses (const char *category)
{
   double t = 0;
   size_t i;
   for (i = 0; i < N; i++) {
      t += docs[i].category && !strcmp (docs[i].category, category) ? docs[i].accessCount : 0;
   }
   return t;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 28);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_user_favorite_t *d = &docs[i];
      uint32_t item;
      odm_user_favorite_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (28000 + i));
      d->has__id = ODM_PRESENT;
      /* a (user, item) pair not taken yet; items 690 and 691 are favorited by six users each */
      do {
         item = i < 12 ? (uint32_t) (690 + i / 6) : (uint32_t) (600 + odm_ax_rng_range (&r, 0, 15));
         odm_ax_oid (&d->userId, i < 12 ? (uint32_t) (101 + i % 6) : (uint32_t) (100 + odm_ax_rng_range (&r, 1, 8)));
         odm_ax_oid (&d->itemId, item);
         for (k = 0; k < i && !(bson_oid_equal (&docs[k].userId, &d->userId) && bson_oid_equal (&docs[k].itemId, &d->itemId));
              k++) {
         }
      } while (k < i);
      d->has_userId = ODM_PRESENT;
      d->has_itemId = ODM_PRESENT;
      d->itemType = bson_strdup (item_types[item % 5]); /* an item has one type */
      if (i % 4 != 3) {
         d->category = bson_strdup (categories[odm_ax_rng_range (&r, 0, 2)]);
      }
      if (i % 5 == 0) {
         d->notes = bson_strdup ("Great for coding tasks");
      }
      k = (size_t) odm_ax_rng_range (&r, 0, 2);
      d->tags.items = k ? bson_malloc0 (k * sizeof (char *)) : NULL;
      for (d->tags.count = 0; d->tags.count < k; d->tags.count++) {
         d->tags.items[d->tags.count] = bson_strdup (d->tags.count ? "helpful" : "coding");
      }
      d->addedAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      /* the two popular items are opened alike; a fifth of the favorites are never opened */
      d->accessCount = i < 12 ? (double) (i % 6) : i % 5 == 2 ? 0 : (double) odm_ax_rng_range (&r, 1, 12);
      d->lastAccessed = d->accessCount > 0 ? d->addedAt + odm_ax_rng_range (&r, 0, 20) * ODM_AX_DAY + 3600000 : d->addedAt;
   }
   /* Ties: the coding and research favorites were opened equally often in total. */
   {
      double coding = total_accesses ("coding"), research = total_accesses ("research");
      for (i = N - 1; i > 0 && !(docs[i].category && !strcmp (docs[i].category, coding < research ? "coding" : "research"));
           i--) {
      }
      docs[i].accessCount += coding < research ? research - coding : coding - research;
      if (docs[i].lastAccessed == docs[i].addedAt) {
         docs[i].lastAccessed += 3600000;
      }
   }
   /* Boundaries: favorites added exactly at 2024-02-01 and 2024-04-01. */
   docs[20].addedAt = FEB1;
   docs[21].addedAt = APR1;
   for (i = 20; i < 22; i++) {
      docs[i].lastAccessed = docs[i].addedAt + (docs[i].accessCount > 0 ? ODM_AX_DAY : 0);
   }
   *n = N;
   return docs;
}

static bool
in_window (const odm_user_favorite_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->addedAt, has_from, from, has_to, to);
}

static bool
matches (const odm_user_favorite_t *d, uint8_t has_user, const bson_oid_t *user, uint8_t has_type, const char *type)
{
   return (!has_user || bson_oid_equal (user, &d->userId)) && (!has_type || !strcmp (type, d->itemType));
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a user and an item type, an item (its id and type) or a category */
   double count, accesses, never;
   int64_t first, last;
   bson_oid_t set[N];
   size_t nset;
} group_t;

/* A new group: its first and last dates at the ends, for the first date to replace. */
static const group_t blank = {.first = INT64_MAX, .last = INT64_MIN};

static void
add (group_t *g, const odm_user_favorite_t *d, int64_t first, int64_t last)
{
   g->count++;
   g->accesses += d->accessCount;
   g->never += d->accessCount == 0;
   g->first = first < g->first ? first : g->first;
   g->last = last > g->last ? last : g->last;
   odm_ax_oid_set_add (g->set, &g->nset, &d->userId);
}

static int
by_count_oid_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_count_accesses_key_oid (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   c = c ? c : odm_ax_cmp_double_desc (x->accesses, y->accesses);
   /* the _id is {type, id}: type first, unlike odm_ax_key_cmp */
   c = c ? c : strcmp (x->key.s, y->key.s);
   return c ? c : odm_ax_cmp_oid (&x->key.oid, &y->key.oid);
}

static int
by_accesses_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->accesses, y->accesses);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ user_preferences */

typedef odm_user_favorite_user_preferences_params_t up_t;

static void
expect_user_preferences (const void *params, bson_t *rows)
{
   const up_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_favorite_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          matches (d, p->has_userId, &p->userId, p->has_itemType, p->itemType)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->userId, d->itemType, NULL), d, d->addedAt,
              d->addedAt);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_oid_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", "{", "userId", BCON_OID (&g[i].key.oid), "itemType", BCON_UTF8 (g[i].key.s), "}",
                              "favorites", BCON_DOUBLE (g[i].count), "totalAccesses", BCON_DOUBLE (g[i].accesses),
                              "lastAddedAt", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const up_t up_all = {0};
static const up_t up_top2 = {.limit = 2, .has_limit = 1};
static const up_t up_agents_window = {.itemType = "agent", .has_itemType = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static up_t up_user; /* set in the module init below */

/* ------------------------------------------------------------ content_popularity */

typedef odm_user_favorite_content_popularity_params_t cp_t;

static void
expect_content_popularity (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_favorite_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && matches (d, 0, NULL, p->has_itemType, p->itemType)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, &d->itemId, d->itemType, NULL), d, d->addedAt,
              d->lastAccessed);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_accesses_key_oid);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", "{", "itemType", BCON_UTF8 (g[i].key.s), "itemId", BCON_OID (&g[i].key.oid), "}",
                              "favorites", BCON_DOUBLE (g[i].count), "totalAccesses", BCON_DOUBLE (g[i].accesses),
                              "firstAddedAt", BCON_DATE_TIME (g[i].first), "lastAccessed", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cp_t cp_all = {0};
static const cp_t cp_top2 = {.limit = 2, .has_limit = 1};
static const cp_t cp_posts = {.itemType = "post", .has_itemType = 1};
static const cp_t cp_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ engagement */

typedef odm_user_favorite_engagement_params_t en_t;

static void
expect_engagement (const void *params, bson_t *rows)
{
   const en_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_favorite_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          matches (d, p->has_userId, &p->userId, p->has_itemType, p->itemType)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], &blank, NULL, d->category ? d->category : "uncategorized", NULL),
              d, d->addedAt, d->lastAccessed);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_accesses_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "favorites", BCON_DOUBLE (g[i].count), "uniqueUsers",
                              BCON_DOUBLE ((double) g[i].nset), "totalAccesses", BCON_DOUBLE (g[i].accesses),
                              "averageAccesses", BCON_DOUBLE (g[i].accesses / g[i].count), "neverOpened",
                              BCON_DOUBLE (g[i].never), "lastAccessed", BCON_DATE_TIME (g[i].last));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const en_t en_all = {0};
static const en_t en_top3 = {.limit = 3, .has_limit = 1};
static const en_t en_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};
static en_t en_user_posts; /* set in the module init below */

static const odm_ax_case_t cases[] = {
   {"all", &odm_user_favorite_user_preferences_aggregation, &up_all, expect_user_preferences},
   {"top 2 through a tie", &odm_user_favorite_user_preferences_aggregation, &up_top2, expect_user_preferences},
   {"agents, window [Feb 1, Apr 1)", &odm_user_favorite_user_preferences_aggregation, &up_agents_window,
    expect_user_preferences},
   {"one user", &odm_user_favorite_user_preferences_aggregation, &up_user, expect_user_preferences},
   {"all", &odm_user_favorite_content_popularity_aggregation, &cp_all, expect_content_popularity},
   {"top 2 through a tie", &odm_user_favorite_content_popularity_aggregation, &cp_top2, expect_content_popularity},
   {"posts", &odm_user_favorite_content_popularity_aggregation, &cp_posts, expect_content_popularity},
   {"window [Feb 1, Apr 1)", &odm_user_favorite_content_popularity_aggregation, &cp_window, expect_content_popularity},
   {"all", &odm_user_favorite_engagement_aggregation, &en_all, expect_engagement},
   {"top 3 through a tie", &odm_user_favorite_engagement_aggregation, &en_top3, expect_engagement},
   {"window of one document", &odm_user_favorite_engagement_aggregation, &en_one_doc, expect_engagement},
   {"one user's posts", &odm_user_favorite_engagement_aggregation, &en_user_posts, expect_engagement},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&up_user.userId, 103);
   up_user.has_userId = 1;
   odm_ax_oid (&en_user_posts.userId, 102);
   en_user_posts.has_userId = 1;
   en_user_posts.itemType = "post";
   en_user_posts.has_itemType = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_user_favorites = {
   &odm_user_favorite_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
