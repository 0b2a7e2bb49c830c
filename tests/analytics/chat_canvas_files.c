/* Analytics of chat_canvas_files, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
static odm_chat_canvas_file_t docs[N];
static const char *const types[] = {"html", "css", "js", "tsx", "json", "image", "other"};
static const char *const languages[] = {"html", "css", "javascript", "typescript"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, k;
   odm_ax_rng_seed (&r, 15);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_chat_canvas_file_t *d = &docs[i];
      size_t size;
      odm_chat_canvas_file_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (9000 + i));
      d->has__id = ODM_PRESENT;
      d->fileId = bson_strdup_printf ("file-%02zu", i);
      d->projectId = bson_strdup_printf ("canvas-%02d", (int) odm_ax_rng_range (&r, 1, 6));
      d->type = bson_strdup (types[odm_ax_rng_range (&r, 0, 6)]);
      d->name = bson_strdup_printf ("file%zu.%s", i, d->type);
      d->path = bson_strdup_printf ("src/%s", d->name);
      /* size is the UTF-8 byte length of content (a rule checks it) */
      size = (size_t) odm_ax_rng_range (&r, 1, 6000);
      d->content = bson_malloc (size + 1);
      memset (d->content, 'x', size);
      d->content[size] = '\0';
      d->size = (double) size;
      d->has_size = ODM_PRESENT;
      if (i % 2) {
         d->checksum = bson_strdup_printf ("sha256:%04zx", i);
      }
      if (i % 5) { /* some files record no language or framework */
         d->metadata.language = bson_strdup (languages[i % 4]);
         d->metadata.framework = bson_strdup ("vanilla");
      }
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 180) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->metadata.lastModified = d->createdAt;
   }
   /* A tie: canvas-01 and canvas-03 get 12 files each (the first two of canvas-05 move). */
   for (i = 0, k = 0; i < N && k < 2; i++) {
      if (!strcmp (docs[i].projectId, "canvas-05")) {
         docs[i].projectId[8] = '3';
         k++;
      }
   }
   /* Boundaries: files created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = ODM_AX_EPOCH + 31 * ODM_AX_DAY;
   docs[11].createdAt = ODM_AX_EPOCH + 91 * ODM_AX_DAY;
   *n = N;
   return docs;
}

static bool
in_window (const odm_chat_canvas_file_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ groups */

typedef struct {
   odm_ax_key_t key; /* a type, a project or a period */
   double count;
   odm_ax_acc_t size;
   const char *types[7];
   size_t ntypes;
} group_t;

static void
add (group_t *g, const odm_chat_canvas_file_t *d)
{
   g->count++;
   odm_ax_acc_add (&g->size, d->size);
   odm_ax_str_set_add (g->types, &g->ntypes, d->type);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ type_distribution */

typedef odm_chat_canvas_file_type_distribution_params_t td_t;

static void
expect_type_distribution (const void *params, bson_t *rows)
{
   const td_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_projectId, p->projectId, docs[i].projectId)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].type, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "fileCount", BCON_DOUBLE (g[i].count), "totalSize",
                              BCON_DOUBLE (g[i].size.sum), "averageSize", BCON_DOUBLE (g[i].size.sum / g[i].count), "largestSize",
                              BCON_DOUBLE (g[i].size.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const td_t td_all = {0};
static const td_t td_project = {.projectId = "canvas-03", .has_projectId = 1};
static const td_t td_window = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY, .has_to = 1};
static td_t td_one;

/* ------------------------------------------------------------ project_file_counts */

typedef odm_chat_canvas_file_project_file_counts_params_t pf_t;

static void
expect_project_file_counts (const void *params, bson_t *rows)
{
   const pf_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (in_window (&docs[i], p->has_from, p->from, p->has_to, p->to) && odm_ax_str_ok (p->has_type, p->type, docs[i].type)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].projectId, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "fileCount", BCON_DOUBLE (g[i].count), "typeCount",
                              BCON_DOUBLE ((double) g[i].ntypes), "totalSize", BCON_DOUBLE (g[i].size.sum), "largestSize",
                              BCON_DOUBLE (g[i].size.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pf_t pf_all = {0};
static const pf_t pf_top2 = {.limit = 2, .has_limit = 1};
static const pf_t pf_css = {.type = "css", .has_type = 1};
static const pf_t pf_window_top3 = {.from = ODM_AX_EPOCH + 31 * ODM_AX_DAY, .has_from = 1, .to = ODM_AX_EPOCH + 91 * ODM_AX_DAY,
                                    .has_to = 1, .limit = 3, .has_limit = 1};

/* ------------------------------------------------------------ size_analytics */

typedef odm_chat_canvas_file_size_analytics_params_t sa_t;

static void
expect_size_analytics (const void *params, bson_t *rows)
{
   const sa_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_chat_canvas_file_t *d = &docs[i];
      char key[32];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_str_ok (p->has_projectId, p->projectId, d->projectId) ||
          !odm_ax_str_ok (p->has_type, p->type, d->type)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), d);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "fileCount", BCON_DOUBLE (g[i].count), "totalSize",
                              BCON_DOUBLE (g[i].size.sum), "averageSize", BCON_DOUBLE (g[i].size.sum / g[i].count),
                              "smallestSize", BCON_DOUBLE (g[i].size.min), "largestSize", BCON_DOUBLE (g[i].size.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const sa_t sa_month = {0};
static const sa_t sa_day = {.period = "day", .has_period = 1};
static const sa_t sa_week = {.period = "week", .has_period = 1};
static const sa_t sa_year = {.period = "year", .has_period = 1};
static sa_t sa_project_type_window;

static const odm_ax_case_t cases[] = {
   {"all", &odm_chat_canvas_file_type_distribution_aggregation, &td_all, expect_type_distribution},
   {"one project", &odm_chat_canvas_file_type_distribution_aggregation, &td_project, expect_type_distribution},
   {"window [Feb 1, Apr 1)", &odm_chat_canvas_file_type_distribution_aggregation, &td_window, expect_type_distribution},
   {"window of one file", &odm_chat_canvas_file_type_distribution_aggregation, &td_one, expect_type_distribution},
   {"all", &odm_chat_canvas_file_project_file_counts_aggregation, &pf_all, expect_project_file_counts},
   {"top 2 with a tie", &odm_chat_canvas_file_project_file_counts_aggregation, &pf_top2, expect_project_file_counts},
   {"css files", &odm_chat_canvas_file_project_file_counts_aggregation, &pf_css, expect_project_file_counts},
   {"top 3, window [Feb 1, Apr 1)", &odm_chat_canvas_file_project_file_counts_aggregation, &pf_window_top3, expect_project_file_counts},
   {"by month", &odm_chat_canvas_file_size_analytics_aggregation, &sa_month, expect_size_analytics},
   {"by day", &odm_chat_canvas_file_size_analytics_aggregation, &sa_day, expect_size_analytics},
   {"by ISO week", &odm_chat_canvas_file_size_analytics_aggregation, &sa_week, expect_size_analytics},
   {"by year", &odm_chat_canvas_file_size_analytics_aggregation, &sa_year, expect_size_analytics},
   {"one project, one type, window", &odm_chat_canvas_file_size_analytics_aggregation, &sa_project_type_window,
    expect_size_analytics},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   td_one.from = docs[25].createdAt;
   td_one.has_from = 1;
   td_one.to = docs[25].createdAt + 1;
   td_one.has_to = 1;
   sa_project_type_window.projectId = docs[4].projectId;
   sa_project_type_window.has_projectId = 1;
   sa_project_type_window.type = docs[4].type;
   sa_project_type_window.has_type = 1;
   sa_project_type_window.from = docs[4].createdAt; /* inclusive: the window starts on a file */
   sa_project_type_window.has_from = 1;
   sa_project_type_window.to = ODM_AX_EPOCH + 181 * ODM_AX_DAY;
   sa_project_type_window.has_to = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_chat_canvas_files = {
   &odm_chat_canvas_file_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
