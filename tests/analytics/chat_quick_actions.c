/* Analytics of chat_quick_actions, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 50
#define NCAT 5
static odm_chat_quick_action_t docs[N];
static const char *const categories[NCAT] = {"Analysis", "Coding", "Fun", "Learning", "Writing"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, c, rank[NCAT];
   double total[NCAT] = {0};
   odm_ax_rng_seed (&r, 13);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_quick_action_t *d = &docs[i];
      odm_chat_quick_action_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (7000 + i));
      d->has__id = ODM_PRESENT;
      d->actionId = bson_strdup_printf ("action-%02zu", i);
      d->label = bson_strdup_printf ("Action %zu", i);
      d->prompt = bson_strdup_printf ("Please do thing %zu:", i);
      d->category = bson_strdup (categories[odm_ax_rng_range (&r, 0, NCAT - 1)]);
      if (i % 3) {
         d->icon = bson_strdup ("SparklesIcon");
      }
      d->usageCount = (double) odm_ax_rng_range (&r, 0, 1500);
      d->isActive = odm_ax_rng_range (&r, 0, 3) > 0;
      d->isDefault = i < 12;
      if (d->isDefault) {
         d->has_createdBy = ODM_NULL; /* system defaults: createdBy null */
      } else if (i % 10 != 3) {
         odm_ax_oid (&d->createdBy, (uint32_t) (101 + i % 4));
         d->has_createdBy = ODM_PRESENT;
      } /* else: a custom action whose creator is not recorded (absent) */
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
   }
   /* The two most used actions tie (same category, far above the others). */
   bson_free (docs[1].category);
   docs[1].category = bson_strdup (docs[0].category);
   docs[0].usageCount = docs[1].usageCount = 10000;
   docs[0].isActive = docs[1].isActive = true;
   /* The second and third categories by total usage tie: the third one's first action
    * makes up the difference. */
   for (i = 0; i < N; i++) {
      for (c = 0; c < NCAT; c++) {
         total[c] += strcmp (docs[i].category, categories[c]) ? 0 : docs[i].usageCount;
      }
   }
   for (c = 0; c < NCAT; c++) {
      rank[c] = c;
   }
   for (c = 1; c < NCAT; c++) { /* rank by total, descending */
      size_t k = c;
      while (k > 0 && total[rank[k - 1]] < total[rank[k]]) {
         size_t t = rank[k];
         rank[k] = rank[k - 1];
         rank[k - 1] = t;
         k--;
      }
   }
   for (i = 0; i < N; i++) {
      if (!strcmp (docs[i].category, categories[rank[2]])) {
         docs[i].usageCount += total[rank[1]] - total[rank[2]];
         break;
      }
   }
   /* Users 101, 102 and 103 each created 9 custom actions (a tie). */
   odm_ax_oid (&docs[12].createdBy, 102);
   /* Boundaries: actions created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   docs[20].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[21].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_quick_action_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ action_usage */

typedef odm_chat_quick_action_action_usage_params_t au_t;

static int
by_usage_then_id (const void *a, const void *b)
{
   const odm_chat_quick_action_t *x = *(const odm_chat_quick_action_t *const *) a, *y = *(const odm_chat_quick_action_t *const *) b;
   int c = odm_ax_cmp_double_desc (x->usageCount, y->usageCount);
   return c ? c : odm_ax_cmp_oid (&x->_id, &y->_id);
}

static void
expect_action_usage (const void *params, bson_t *rows)
{
   const au_t *p = params;
   const odm_chat_quick_action_t *sel[N];
   size_t ns = 0, i, limit = p->has_limit ? (size_t) p->limit : 10;
   for (i = 0; i < N; i++) {
      const odm_chat_quick_action_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && (!p->has_category || !strcmp (p->category, d->category)) &&
          (!p->has_isActive || p->isActive == d->isActive)) {
         sel[ns++] = d;
      }
   }
   odm_ax_sort (sel, ns, sizeof sel[0], by_usage_then_id);
   for (i = 0; i < ns && i < limit; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&sel[i]->_id), "actionId", BCON_UTF8 (sel[i]->actionId), "label",
                              BCON_UTF8 (sel[i]->label), "category", BCON_UTF8 (sel[i]->category), "usageCount",
                              BCON_DOUBLE (sel[i]->usageCount), "isDefault", BCON_BOOL (sel[i]->isDefault));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const au_t au_default = {0};
static const au_t au_top1 = {.limit = 1, .has_limit = 1};
static const au_t au_coding_active = {.category = "Coding", .has_category = 1, .isActive = true, .has_isActive = 1,
                                      .limit = 50, .has_limit = 1};
static const au_t au_inactive_window = {.isActive = false, .has_isActive = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1,
                                        .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a creator, or a category */
   double count, defaults, active;
   odm_ax_acc_t usage;
   const char *cats[NCAT];
   size_t ncats;
} group_t;

static void
add (group_t *g, const odm_chat_quick_action_t *d)
{
   g->count++;
   g->defaults += d->isDefault;
   g->active += d->isActive;
   odm_ax_acc_add (&g->usage, d->usageCount);
   odm_ax_str_set_add (g->cats, &g->ncats, d->category);
}

/* ------------------------------------------------------------ category_popularity */

typedef odm_chat_quick_action_category_popularity_params_t cp_t;

static int
by_usage_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->usage.sum, y->usage.sum);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_category_popularity (const void *params, bson_t *rows)
{
   const cp_t *p = params;
   group_t g[NCAT];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_quick_action_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && (!p->has_isActive || p->isActive == d->isActive) &&
          (!p->has_isDefault || p->isDefault == d->isDefault)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->category, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_usage_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "actionCount", BCON_DOUBLE (g[i].count), "defaultCount",
                              BCON_DOUBLE (g[i].defaults), "totalUsage", BCON_DOUBLE (g[i].usage.sum), "averageUsage",
                              BCON_DOUBLE (g[i].usage.sum / g[i].count), "maxUsage", BCON_DOUBLE (g[i].usage.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cp_t cp_all = {0};
static const cp_t cp_top2 = {.limit = 2, .has_limit = 1};
static const cp_t cp_active = {.isActive = true, .has_isActive = 1};
static const cp_t cp_custom_active = {.isDefault = false, .has_isDefault = 1, .isActive = true, .has_isActive = 1};
static const cp_t cp_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ user_customization */

typedef odm_chat_quick_action_user_customization_params_t uc_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static void
expect_user_customization (const void *params, bson_t *rows)
{
   const uc_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_quick_action_t *d = &docs[i];
      if (d->has_createdBy == ODM_PRESENT && in_window (d, p->has_from, p->from, p->has_to, p->to) &&
          odm_ax_oid_ok (p->has_createdBy, &p->createdBy, &d->createdBy)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->createdBy, NULL, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "actionCount", BCON_DOUBLE (g[i].count), "activeCount",
                              BCON_DOUBLE (g[i].active), "categoryCount", BCON_DOUBLE ((double) g[i].ncats), "totalUsage",
                              BCON_DOUBLE (g[i].usage.sum), "averageUsage", BCON_DOUBLE (g[i].usage.sum / g[i].count));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const uc_t uc_all = {0};
static const uc_t uc_top1 = {.limit = 1, .has_limit = 1};
static uc_t uc_user;
static const uc_t uc_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"no parameters (10 by default)", &odm_chat_quick_action_action_usage_aggregation, &au_default, expect_action_usage},
   {"top 1 with a tie", &odm_chat_quick_action_action_usage_aggregation, &au_top1, expect_action_usage},
   {"active Coding actions", &odm_chat_quick_action_action_usage_aggregation, &au_coding_active, expect_action_usage},
   {"inactive, window [Feb 1, Apr 1)", &odm_chat_quick_action_action_usage_aggregation, &au_inactive_window, expect_action_usage},
   {"all", &odm_chat_quick_action_category_popularity_aggregation, &cp_all, expect_category_popularity},
   {"top 2 with a tie", &odm_chat_quick_action_category_popularity_aggregation, &cp_top2, expect_category_popularity},
   {"active only", &odm_chat_quick_action_category_popularity_aggregation, &cp_active, expect_category_popularity},
   {"custom and active", &odm_chat_quick_action_category_popularity_aggregation, &cp_custom_active, expect_category_popularity},
   {"window [Feb 1, Apr 1)", &odm_chat_quick_action_category_popularity_aggregation, &cp_window, expect_category_popularity},
   {"all", &odm_chat_quick_action_user_customization_aggregation, &uc_all, expect_user_customization},
   {"top 1 with a tie", &odm_chat_quick_action_user_customization_aggregation, &uc_top1, expect_user_customization},
   {"one user", &odm_chat_quick_action_user_customization_aggregation, &uc_user, expect_user_customization},
   {"window [Feb 1, Apr 1)", &odm_chat_quick_action_user_customization_aggregation, &uc_window, expect_user_customization},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&uc_user.createdBy, 102);
   uc_user.has_createdBy = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_quick_actions = {
   &odm_chat_quick_action_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
