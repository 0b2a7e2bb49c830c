/* Analytics of community_content, verified on a seeded data set with expectations
 * computed here in C from the same structs. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 64
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_community_content_t docs[N];
static const char *const image_formats[] = {"png", "jpg", NULL};
static const char *const video_formats[] = {"mp4", "webm", NULL};
static const char *const file_formats[] = {"pdf", "zip"};

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 18);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_content_t *d = &docs[i];
      odm_community_content_metadata_t *m = &d->metadata;
      int64_t roll = odm_ax_rng_range (&r, 0, 19);
      const char *format = NULL;
      odm_community_content_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (18000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_oid (&d->postId, (uint32_t) (500 + odm_ax_rng_range (&r, 1, 12)));
      d->has_postId = ODM_PRESENT;
      d->type = bson_strdup (roll < 7 ? "image" : roll < 12 ? "video" : roll < 17 ? "file" : "link");
      d->has_type = ODM_PRESENT;
      d->url = bson_strdup_printf ("https://cdn.example.com/c/%zu", i);
      d->has_url = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 1)) {
         d->thumbnail = bson_strdup_printf ("https://cdn.example.com/t/%zu", i);
         d->has_thumbnail = ODM_PRESENT;
      }
      d->order = (double) (i % 4);
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->has_metadata = ODM_PRESENT;
      if (!strcmp (d->type, "image")) {
         format = image_formats[odm_ax_rng_range (&r, 0, 2)];
         m->dimensions.width = (double) odm_ax_rng_range (&r, 1, 16) * 100;
         m->dimensions.height = (double) odm_ax_rng_range (&r, 1, 9) * 100;
         m->dimensions.has_width = m->dimensions.has_height = ODM_PRESENT;
         m->has_dimensions = ODM_PRESENT;
      } else if (!strcmp (d->type, "video")) {
         format = video_formats[odm_ax_rng_range (&r, 0, 2)];
         if (odm_ax_rng_range (&r, 0, 3)) { /* some videos do not give a duration */
            m->duration = (double) odm_ax_rng_range (&r, 5, 600);
            m->has_duration = ODM_PRESENT;
         }
         if (odm_ax_rng_range (&r, 0, 1)) {
            m->dimensions.width = 1920;
            m->dimensions.height = 1080;
            m->dimensions.has_width = m->dimensions.has_height = ODM_PRESENT;
            m->has_dimensions = ODM_PRESENT;
         }
      } else if (!strcmp (d->type, "file")) {
         format = file_formats[odm_ax_rng_range (&r, 0, 1)];
      }
      if (format) {
         m->format = bson_strdup (format);
         m->has_format = ODM_PRESENT;
      }
      /* links give no size; a few others neither */
      if (strcmp (d->type, "link") && odm_ax_rng_range (&r, 0, 7)) {
         m->size = (double) odm_ax_rng_range (&r, 0, 5000000);
         m->has_size = ODM_PRESENT;
      }
   }
   docs[7].metadata.size = 0; /* an empty file still counts as sized */
   docs[7].metadata.has_size = ODM_PRESENT;
   /* Boundaries: content created exactly at 2024-02-01 and 2024-04-01. */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
selected (const odm_community_content_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to,
          const char *type)
{
   return (!has_from || d->createdAt >= from) && (!has_to || d->createdAt < to) && (!type || !strcmp (type, d->type));
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a type, or a type and a format, or a period */
   double count, thumbnails;
   odm_ax_acc_t size, duration, pixels;
   bson_oid_t posts[N];
   size_t nposts;
} group_t;

static void
add (group_t *g, const odm_community_content_t *d)
{
   const odm_community_content_metadata_t *m = &d->metadata;
   g->count++;
   g->thumbnails += d->has_thumbnail == ODM_PRESENT;
   if (m->has_size) {
      odm_ax_acc_add (&g->size, m->size);
   }
   if (m->has_duration) {
      odm_ax_acc_add (&g->duration, m->duration);
   }
   if (m->has_dimensions && m->dimensions.has_width && m->dimensions.has_height) {
      odm_ax_acc_add (&g->pixels, m->dimensions.width * m->dimensions.height);
   }
   odm_ax_oid_set_add (g->posts, &g->nposts, &d->postId);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ content_types */

typedef odm_community_content_content_types_params_t ct_t;

static void
expect_content_types (const void *params, bson_t *rows)
{
   const ct_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, NULL)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].type, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "itemCount", BCON_DOUBLE (g[i].count), "postCount",
                              BCON_DOUBLE ((double) g[i].nposts), "thumbnailCount", BCON_DOUBLE (g[i].thumbnails));
      odm_ax_append_avg (row, "averageSize", &g[i].size);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ct_t ct_all = {0};
static const ct_t ct_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const ct_t ct_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};

/* ------------------------------------------------------------ storage_usage */

typedef odm_community_content_storage_usage_params_t su_t;

static void
expect_storage_usage (const void *params, bson_t *rows)
{
   const su_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (!selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_type ? p->type : NULL)) {
         continue;
      }
      odm_ax_period (docs[i].createdAt, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), &docs[i]);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "itemCount", BCON_DOUBLE (g[i].count), "sizedCount",
                              BCON_DOUBLE (g[i].size.n), "totalSize", BCON_DOUBLE (g[i].size.sum));
      odm_ax_append_avg (row, "averageSize", &g[i].size);
      odm_ax_append_num_or_null (row, "largestSize", g[i].size.n > 0, g[i].size.max);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const su_t su_month = {0};
static const su_t su_day = {.period = "day", .has_period = 1};
static const su_t su_week = {.period = "week", .has_period = 1};
static const su_t su_year = {.period = "year", .has_period = 1};
static const su_t su_links = {.type = "link", .has_type = 1};
static const su_t su_files_window = {.type = "file", .has_type = 1, .from = FEB1, .has_from = 1, .to = APR1,
                                     .has_to = 1};

/* ------------------------------------------------------------ media_performance */

typedef odm_community_content_media_performance_params_t mp_t;

static void
expect_media_performance (const void *params, bson_t *rows)
{
   const mp_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_community_content_t *d = &docs[i];
      if ((!strcmp (d->type, "image") || !strcmp (d->type, "video")) &&
          selected (d, p->has_from, p->from, p->has_to, p->to, p->has_type ? p->type : NULL)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->type,
                                d->metadata.has_format ? d->metadata.format : "unknown"),
              d);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", "{", "type", BCON_UTF8 (g[i].key.s), "format", BCON_UTF8 (g[i].key.s2), "}",
                              "itemCount", BCON_DOUBLE (g[i].count));
      odm_ax_append_avg (row, "averageSize", &g[i].size);
      odm_ax_append_avg (row, "averageDuration", &g[i].duration);
      odm_ax_append_avg (row, "averagePixels", &g[i].pixels);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const mp_t mp_all = {0};
static const mp_t mp_top = {.limit = 3, .has_limit = 1};
static const mp_t mp_videos = {.type = "video", .has_type = 1};
static const mp_t mp_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const mp_t mp_files = {.type = "file", .has_type = 1}; /* not media: nothing */

static const odm_ax_case_t cases[] = {
   {"all", &odm_community_content_content_types_aggregation, &ct_all, expect_content_types},
   {"window [Feb 1, Apr 1)", &odm_community_content_content_types_aggregation, &ct_window, expect_content_types},
   {"window of one item", &odm_community_content_content_types_aggregation, &ct_one_doc, expect_content_types},
   {"by month", &odm_community_content_storage_usage_aggregation, &su_month, expect_storage_usage},
   {"by day", &odm_community_content_storage_usage_aggregation, &su_day, expect_storage_usage},
   {"by ISO week", &odm_community_content_storage_usage_aggregation, &su_week, expect_storage_usage},
   {"by year", &odm_community_content_storage_usage_aggregation, &su_year, expect_storage_usage},
   {"links (no sizes)", &odm_community_content_storage_usage_aggregation, &su_links, expect_storage_usage},
   {"files, window [Feb 1, Apr 1)", &odm_community_content_storage_usage_aggregation, &su_files_window,
    expect_storage_usage},
   {"all", &odm_community_content_media_performance_aggregation, &mp_all, expect_media_performance},
   {"top 3 with a tie", &odm_community_content_media_performance_aggregation, &mp_top, expect_media_performance},
   {"videos", &odm_community_content_media_performance_aggregation, &mp_videos, expect_media_performance},
   {"window [Feb 1, Apr 1)", &odm_community_content_media_performance_aggregation, &mp_window,
    expect_media_performance},
   {"files are not media", &odm_community_content_media_performance_aggregation, &mp_files, expect_media_performance, ODM_AX_NO_ROWS},
};

const odm_analytics_module_t odm_analytics_community_content = {
   &odm_community_content_schema, dataset, cases, sizeof cases / sizeof cases[0]};
