/* Analytics of chat_canvas_projects, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 56
static odm_chat_canvas_project_t docs[N];
static const char *const templates[] = {"SaaS Landing", "Portfolio", "Dashboard", "Blog", "E-commerce"};
static const char *const categories[] = {"Landing", "Personal", "Business"};
static const char *const statuses[] = {"active", "active", "active", "archived", "deleted"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 14);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_canvas_project_t *d = &docs[i];
      odm_chat_canvas_project_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (8000 + i));
      d->has__id = ODM_PRESENT;
      d->projectId = bson_strdup_printf ("canvas-%02zu", i);
      odm_ax_oid (&d->userId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 5)));
      d->has_userId = ODM_PRESENT;
      if (i % 3) {
         d->conversationId = bson_strdup_printf ("session-%zu", i % 7);
      }
      d->name = bson_strdup_printf ("Project %zu", i);
      if (i % 4 == 1) {
         d->description = bson_strdup ("a described project");
      }
      d->template_ = bson_strdup (templates[odm_ax_rng_range (&r, 0, 4)]);
      d->category = bson_strdup (categories[odm_ax_rng_range (&r, 0, 2)]);
      bson_free (d->status);
      d->status = bson_strdup (statuses[odm_ax_rng_range (&r, 0, 4)]);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->stats.filesGenerated = (double) odm_ax_rng_range (&r, 0, 12);
      d->stats.totalSize = d->stats.filesGenerated * (double) odm_ax_rng_range (&r, 1000, 50000);
      d->stats.lastModified = d->createdAt + odm_ax_rng_range (&r, 0, 20 * 86400000LL);
      if (i % 8 == 6) {
         /* a project without stats (stored as null): $sum adds 0, $avg and $max skip it */
         d->stats.has_filesGenerated = d->stats.has_totalSize = d->stats.has_lastModified = ODM_ABSENT;
         d->has_stats = ODM_NULL;
      }
   }
   /* Ties: Blog and E-commerce get 14 projects each (the first three Blog projects become
    * E-commerce ones); users 102 and 104 get 12 each, behind 103's 13. */
   for (i = 0, k = 0; i < N && k < 3; i++) {
      if (!strcmp (docs[i].template_, "Blog")) {
         bson_free (docs[i].template_);
         docs[i].template_ = bson_strdup ("E-commerce");
         k++;
      }
   }
   odm_ax_oid (&docs[38].userId, 102);
   /* Boundaries: projects created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_canvas_project_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a user, or a template or a period */
   double count, active, archived, deleted;
   odm_ax_acc_t files, size, modified;
   bson_oid_t users[N];
   size_t nusers;
} group_t;

static void
add (group_t *g, const odm_chat_canvas_project_t *d)
{
   g->count++;
   g->active += !strcmp (d->status, "active");
   g->archived += !strcmp (d->status, "archived");
   g->deleted += !strcmp (d->status, "deleted");
   if (d->has_stats != ODM_NULL) {
      odm_ax_acc_add (&g->files, d->stats.filesGenerated);
      odm_ax_acc_add (&g->size, d->stats.totalSize);
      odm_ax_acc_add (&g->modified, (double) d->stats.lastModified);
   }
   odm_ax_oid_set_add (g->users, &g->nusers, &d->userId);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ user_project_stats */

typedef odm_chat_canvas_project_user_project_stats_params_t up_t;

static void
expect_user_project_stats (const void *params, bson_t *rows)
{
   const up_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_project_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_status, p->status, d->status) &&
          odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->userId, NULL, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_OID (&row, "_id", &g[i].key.oid);
      BSON_APPEND_DOUBLE (&row, "projectCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "activeCount", g[i].active);
      BSON_APPEND_DOUBLE (&row, "archivedCount", g[i].archived);
      BSON_APPEND_DOUBLE (&row, "deletedCount", g[i].deleted);
      BSON_APPEND_DOUBLE (&row, "totalFiles", g[i].files.sum);
      BSON_APPEND_DOUBLE (&row, "totalSize", g[i].size.sum);
      odm_ax_append_avg (&row, "averageSize", &g[i].size);
      if (g[i].modified.n) {
         BSON_APPEND_DATE_TIME (&row, "lastModified", (int64_t) g[i].modified.max);
      } else {
         BSON_APPEND_NULL (&row, "lastModified");
      }
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const up_t up_all = {0};
static const up_t up_top2 = {.limit = 2, .has_limit = 1};
static up_t up_user_active;
static const up_t up_archived_window = {.status = "archived", .has_status = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1,
                                        .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static up_t up_one;

/* ------------------------------------------------------------ template_usage */

typedef odm_chat_canvas_project_template_usage_params_t tu_t;

static void
expect_template_usage (const void *params, bson_t *rows)
{
   const tu_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_project_t *d = &docs[i];
      if (in_window (d, p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_status, p->status, d->status) &&
          odm_ax_str_ok (p->has_category, p->category, d->category)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->template_, NULL), d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "projectCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "userCount", (double) g[i].nusers);
      odm_ax_append_avg (&row, "averageFiles", &g[i].files);
      odm_ax_append_avg (&row, "averageSize", &g[i].size);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const tu_t tu_all = {0};
static const tu_t tu_top1 = {.limit = 1, .has_limit = 1};
static const tu_t tu_business = {.category = "Business", .has_category = 1};
static const tu_t tu_active_window = {.status = "active", .has_status = 1, .from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1,
                                      .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};

/* ------------------------------------------------------------ file_generation */

typedef odm_chat_canvas_project_file_generation_params_t fg_t;

static void
expect_file_generation (const void *params, bson_t *rows)
{
   const fg_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_project_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_str_ok (p->has_category, p->category, d->category) ||
          !odm_ax_oid_ok (p->has_userId, &p->userId, &d->userId)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      BSON_APPEND_UTF8 (&row, "_id", g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "projectCount", g[i].count);
      BSON_APPEND_DOUBLE (&row, "totalFiles", g[i].files.sum);
      BSON_APPEND_DOUBLE (&row, "totalSize", g[i].size.sum);
      odm_ax_append_avg (&row, "averageFiles", &g[i].files);
      odm_ax_append_num_or_null (&row, "maxFiles", g[i].files.n > 0, g[i].files.max);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const fg_t fg_month = {0};
static const fg_t fg_day = {.period = "day", .has_period = 1};
static const fg_t fg_week = {.period = "week", .has_period = 1};
static const fg_t fg_year = {.period = "year", .has_period = 1};
static fg_t fg_user_category_window;

static const odm_ax_case_t cases[] = {
   {"all", &odm_chat_canvas_project_user_project_stats_aggregation, &up_all, expect_user_project_stats},
   {"top 2 with a tie", &odm_chat_canvas_project_user_project_stats_aggregation, &up_top2, expect_user_project_stats},
   {"one user, active", &odm_chat_canvas_project_user_project_stats_aggregation, &up_user_active, expect_user_project_stats},
   {"archived, window [Feb 1, Apr 1)", &odm_chat_canvas_project_user_project_stats_aggregation, &up_archived_window,
    expect_user_project_stats},
   {"window of one project without stats", &odm_chat_canvas_project_user_project_stats_aggregation, &up_one,
    expect_user_project_stats},
   {"all", &odm_chat_canvas_project_template_usage_aggregation, &tu_all, expect_template_usage},
   {"top 1 with a tie", &odm_chat_canvas_project_template_usage_aggregation, &tu_top1, expect_template_usage},
   {"one category", &odm_chat_canvas_project_template_usage_aggregation, &tu_business, expect_template_usage},
   {"active, window [Feb 1, Apr 1)", &odm_chat_canvas_project_template_usage_aggregation, &tu_active_window, expect_template_usage},
   {"by month", &odm_chat_canvas_project_file_generation_aggregation, &fg_month, expect_file_generation},
   {"by day", &odm_chat_canvas_project_file_generation_aggregation, &fg_day, expect_file_generation},
   {"by ISO week", &odm_chat_canvas_project_file_generation_aggregation, &fg_week, expect_file_generation},
   {"by year", &odm_chat_canvas_project_file_generation_aggregation, &fg_year, expect_file_generation},
   {"one user, one category, window", &odm_chat_canvas_project_file_generation_aggregation, &fg_user_category_window,
    expect_file_generation},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&up_user_active.userId, 102);
   up_user_active.has_userId = 1;
   up_user_active.status = "active";
   up_user_active.has_status = 1;
   up_one.from = docs[14].createdAt; /* docs[14] has no stats */
   up_one.has_from = 1;
   up_one.to = docs[14].createdAt + 1;
   up_one.has_to = 1;
   bson_oid_copy (&docs[3].userId, &fg_user_category_window.userId);
   fg_user_category_window.has_userId = 1;
   fg_user_category_window.category = docs[3].category;
   fg_user_category_window.has_category = 1;
   /* The window starts at docs[3] itself (inclusive bound), so the combined filter keeps
    * at least that project; others of the window differ in user or category. */
   fg_user_category_window.from = docs[3].createdAt;
   fg_user_category_window.has_from = 1;
   fg_user_category_window.to = docs[3].createdAt + 90 * ODM_AX_DAY;
   fg_user_category_window.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_canvas_projects = {
   &odm_chat_canvas_project_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
