/* Analytics of users, verified on a seeded data set with expectations computed here in C
 * from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 60
static odm_user_t docs[N];
static const char *const languages[] = {"en", "en", "fr", "de", "es"};
/* Locations by i % 10 (NULL: none): 18 Berlin, 18 Paris, 12 Tokyo, 6 San Francisco and
 * 6 without one, so Berlin/Paris and none/San Francisco tie. */
static const char *const locations[] = {NULL,    "Berlin", "Berlin", "Paris", "Paris",
                                        "Tokyo", "Tokyo",  "Berlin", "Paris", "San Francisco, CA"};

#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define MAR1 (ODM_AX_EPOCH + 60 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
#define MAY1 (ODM_AX_EPOCH + 121 * ODM_AX_DAY)

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   odm_ax_rng_seed (&r, 9);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_user_t *d = &docs[i];
      int64_t k;
      odm_user_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (1000 + i));
      d->has__id = ODM_PRESENT;
      d->email = bson_strdup_printf ("user%zu@example.com", i);
      d->username = bson_strdup_printf ("user_%zu", i);
      k = odm_ax_rng_range (&r, 0, 9);
      odm_ax_set_string (&d->role, k < 6 ? "user" : k < 8 ? "moderator" : "admin");
      k = odm_ax_rng_range (&r, 0, 9);
      odm_ax_set_string (&d->status, k < 7 ? "active" : k < 9 ? "suspended" : "deleted");
      d->emailVerified = odm_ax_rng_range (&r, 0, 1) == 1;
      odm_ax_set_string (&d->preferences.language, languages[odm_ax_rng_range (&r, 0, 4)]);
      if (locations[i % 10]) {
         d->profile.location = bson_strdup (locations[i % 10]);
         d->has_profile = ODM_PRESENT;
      }
      /* from mid-December 2023 to mid-July 2024 */
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, -20, 200) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      /* a third never logged in */
      if (i % 3 != 0) {
         d->lastLogin = d->createdAt + odm_ax_rng_range (&r, 0, 90) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
         d->has_lastLogin = ODM_PRESENT;
      }
   }
   /* Boundaries: registrations exactly at Feb 1 and Apr 1, last logins exactly at Mar 1
    * and May 1 (users 20 and 21 are admins so the filtered case sees them). */
   docs[10].createdAt = FEB1;
   docs[11].createdAt = APR1;
   docs[20].createdAt = FEB1 - 3 * ODM_AX_DAY;
   docs[20].lastLogin = MAR1;
   docs[20].has_lastLogin = ODM_PRESENT;
   docs[21].createdAt = FEB1 + 5 * ODM_AX_DAY;
   docs[21].lastLogin = MAY1;
   docs[21].has_lastLogin = ODM_PRESENT;
   /* A late registration (2024-12-20) that last logged in in 2025 (2025-01-09). No date
    * falls where the ISO week-year differs from the calendar year (Dec 30, 2024 to
    * Jan 1, 2025): mongo-java-server 1.47 formats %G as the calendar year there. */
   docs[40].createdAt = ODM_AX_EPOCH + 354 * ODM_AX_DAY + 36000000;
   docs[40].lastLogin = docs[40].createdAt + 20 * ODM_AX_DAY;
   docs[40].has_lastLogin = ODM_PRESENT;
   odm_ax_set_string (&docs[20].role, "admin");
   odm_ax_set_string (&docs[21].role, "admin");
   /* A user whose role is null is not staff. */
   odm_ax_unset_string (&docs[12].role, &docs[12].has_role, ODM_NULL);
   /* Users whose language is null: not a distinct language (MongoDB's $addToSet keeps
    * null as a value). */
   odm_ax_unset_string (&docs[4].preferences.language, &docs[4].preferences.has_language, ODM_NULL);
   odm_ax_unset_string (&docs[9].preferences.language, &docs[9].preferences.has_language, ODM_NULL);
   *n = N;
   return docs;
}

/* ------------------------------------------------------------ groups by string key */

typedef struct {
   odm_ax_key_t key; /* a location (null: none), or a period */
   double n, a, b;
   const char *set[N];
   size_t nset;
} group_t;

static int
by_n_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->n, y->n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ demographics */

typedef odm_user_demographics_params_t dm_t;

static void
expect_demographics (const void *params, bson_t *rows)
{
   const dm_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_t *d = &docs[i];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_status && !odm_str_eq (d->status, p->status)) || (p->has_role && !odm_str_eq (d->role, p->role))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->profile.location, NULL);
      x->n++;
      x->a += d->emailVerified;
      x->b += odm_str_eq (d->role, "admin") || odm_str_eq (d->role, "moderator"); /* a null role is no staff */
      if (d->preferences.language) { /* a missing or null language is not a language */
         odm_ax_str_set_add (x->set, &x->nset, d->preferences.language);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_n_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "users", g[i].n);
      BSON_APPEND_DOUBLE (&row, "verified", g[i].a);
      BSON_APPEND_DOUBLE (&row, "staff", g[i].b);
      BSON_APPEND_DOUBLE (&row, "languages", (double) g[i].nset);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const dm_t dm_all = {0};
static const dm_t dm_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const dm_t dm_top1 = {.limit = 1, .has_limit = 1};
static const dm_t dm_top4 = {.limit = 4, .has_limit = 1};
static const dm_t dm_active_staff = {.status = "active", .has_status = 1, .role = "moderator", .has_role = 1};
static dm_t dm_one; /* a window holding exactly one registration, set below */

/* ------------------------------------------------------------ activity */

typedef odm_user_activity_params_t ac_t;

static void
expect_activity (const void *params, bson_t *rows)
{
   const ac_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (d->has_lastLogin != ODM_PRESENT || !odm_ax_in_window (d->lastLogin, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_role && !odm_str_eq (d->role, p->role))) {
         continue;
      }
      odm_ax_period (d->lastLogin, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL);
      x->n++;
      x->a += d->emailVerified;
      x->b += odm_str_eq (d->status, "active");
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "users", g[i].n);
      BSON_APPEND_DOUBLE (&row, "verified", g[i].a);
      BSON_APPEND_DOUBLE (&row, "active", g[i].b);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const ac_t ac_month = {0};
static const ac_t ac_day = {.period = "day", .has_period = 1};
static const ac_t ac_week = {.period = "week", .has_period = 1};
static const ac_t ac_year = {.period = "year", .has_period = 1};
static const ac_t ac_admins_window = {
   .role = "admin", .has_role = 1, .from = MAR1, .has_from = 1, .to = MAY1, .has_to = 1};

/* ------------------------------------------------------------ registration_trends */

typedef odm_user_registration_trends_params_t rt_t;

static void
expect_registration_trends (const void *params, bson_t *rows)
{
   const rt_t *p = params;
   group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_user_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!odm_ax_in_window (d->createdAt, p->has_from, p->from, p->has_to, p->to) ||
          (p->has_role && !odm_str_eq (d->role, p->role))) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL);
      x->n++;
      x->a += d->emailVerified;
      x->b += d->has_lastLogin == ODM_PRESENT;
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t row = BSON_INITIALIZER;
      odm_ax_append_str_or_null (&row, "_id", g[i].key.null, g[i].key.s);
      BSON_APPEND_DOUBLE (&row, "registrations", g[i].n);
      BSON_APPEND_DOUBLE (&row, "verified", g[i].a);
      BSON_APPEND_DOUBLE (&row, "loggedIn", g[i].b);
      odm_ax_append_row (rows, &row);
      bson_destroy (&row);
   }
}

static const rt_t rt_month = {0};
static const rt_t rt_day = {.period = "day", .has_period = 1};
static const rt_t rt_week = {.period = "week", .has_period = 1};
static const rt_t rt_year = {.period = "year", .has_period = 1};
static const rt_t rt_moderators_window = {
   .role = "moderator", .has_role = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static rt_t rt_one; /* a window holding exactly one registration, set below */

static const odm_ax_case_t cases[] = {
   {"all", &odm_user_demographics_aggregation, &dm_all, expect_demographics},
   {"window [Feb 1, Apr 1)", &odm_user_demographics_aggregation, &dm_window, expect_demographics},
   {"top 1 through the Berlin/Paris tie", &odm_user_demographics_aggregation, &dm_top1, expect_demographics},
   {"top 4 through the none/San Francisco tie", &odm_user_demographics_aggregation, &dm_top4, expect_demographics},
   {"active moderators", &odm_user_demographics_aggregation, &dm_active_staff, expect_demographics},
   {"window of one user", &odm_user_demographics_aggregation, &dm_one, expect_demographics},
   {"by month", &odm_user_activity_aggregation, &ac_month, expect_activity},
   {"by day", &odm_user_activity_aggregation, &ac_day, expect_activity},
   {"by ISO week", &odm_user_activity_aggregation, &ac_week, expect_activity},
   {"by year", &odm_user_activity_aggregation, &ac_year, expect_activity},
   {"admins, last login in [Mar 1, May 1)", &odm_user_activity_aggregation, &ac_admins_window, expect_activity},
   {"by month", &odm_user_registration_trends_aggregation, &rt_month, expect_registration_trends},
   {"by day", &odm_user_registration_trends_aggregation, &rt_day, expect_registration_trends},
   {"by ISO week", &odm_user_registration_trends_aggregation, &rt_week, expect_registration_trends},
   {"by year", &odm_user_registration_trends_aggregation, &rt_year, expect_registration_trends},
   {"moderators, window [Feb 1, Apr 1)", &odm_user_registration_trends_aggregation, &rt_moderators_window,
    expect_registration_trends},
   {"window of one user", &odm_user_registration_trends_aggregation, &rt_one, expect_registration_trends},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   dm_one.from = docs[33].createdAt; /* inclusive */
   dm_one.has_from = 1;
   dm_one.to = docs[33].createdAt + 1; /* exclusive */
   dm_one.has_to = 1;
   rt_one.from = docs[10].createdAt; /* exactly Feb 1 */
   rt_one.has_from = 1;
   rt_one.to = docs[10].createdAt + 1;
   rt_one.has_to = 1;
   rt_one.period = "day";
   rt_one.has_period = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_users = {&odm_user_schema, dataset_and_params, cases,
                                                    sizeof cases / sizeof cases[0]};
