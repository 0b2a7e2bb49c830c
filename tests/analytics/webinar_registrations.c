/* Analytics of webinar_registrations, verified on a seeded data set with expectations
 * computed here in C from the same structs. attendance.duration is derived on insert
 * (seconds between joinedAt and leftAt): the expectations derive it the same way. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 64
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_webinar_registration_t docs[N];
static const char *const experiences[] = {"beginner", "intermediate", "advanced"};

static void
attend (odm_webinar_registration_t *d, odm_ax_rng_t *r, size_t i, double questions, double polls)
{
   odm_ax_set_string (&d->status, "attended");
   d->attendance.joinedAt = d->createdAt + 7 * ODM_AX_DAY;
   d->attendance.has_joinedAt = ODM_PRESENT;
   if (i % 5 != 0) { /* some left without a recorded time: no duration */
      d->attendance.leftAt = d->attendance.joinedAt + odm_ax_rng_range (r, 10, 90) * 60000 + odm_ax_rng_range (r, 0, 999);
      d->attendance.has_leftAt = ODM_PRESENT;
      d->certificate.issued = true;
      d->certificate.issuedAt = d->attendance.leftAt;
      d->certificate.has_issuedAt = ODM_PRESENT;
   }
   d->attendance.engagement.questionsAsked = questions;
   d->attendance.engagement.pollsResponded = polls;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i, nnull;
   odm_ax_rng_seed (&r, 25);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_webinar_registration_t *d = &docs[i];
      int64_t roll;
      size_t k;
      odm_webinar_registration_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (25000 + i));
      d->has__id = ODM_PRESENT;
      /* webinars 406 and 407 get nine registrations each, all attended, alike */
      odm_ax_oid (&d->webinarId, i < 18 ? (uint32_t) (i < 9 ? 406 : 407) : (uint32_t) (400 + odm_ax_rng_range (&r, 1, 5)));
      d->has_webinarId = ODM_PRESENT;
      /* a registrant not registered for this webinar yet: the pair is unique */
      do {
         odm_ax_oid (&d->registrantId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 30)));
         for (k = 0; k < i && !(bson_oid_equal (&docs[k].registrantId, &d->registrantId) &&
                                bson_oid_equal (&docs[k].webinarId, &d->webinarId));
              k++) {
         }
      } while (k < i);
      d->has_registrantId = ODM_PRESENT;
      roll = odm_ax_rng_range (&r, 0, 9);
      odm_ax_set_string (&d->registrationType, roll < 7 ? "attendee" : roll < 9 ? "speaker" : "organizer");
      d->registrationData.firstName = bson_strdup_printf ("First%zu", i);
      d->registrationData.has_firstName = ODM_PRESENT;
      d->registrationData.lastName = bson_strdup_printf ("Last%zu", i);
      d->registrationData.has_lastName = ODM_PRESENT;
      d->registrationData.email = bson_strdup_printf ("user%zu@example.com", i);
      d->registrationData.has_email = ODM_PRESENT;
      if (i % 3 != 0) {
         d->registrationData.company = bson_strdup_printf ("Company %zu", i % 5);
      }
      if (i % 4 != 3) {
         d->registrationData.experience = bson_strdup (experiences[(i + i / 4) % 3]);
      }
      d->has_registrationData = ODM_PRESENT;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 120) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      if (i < 18) {
         attend (d, &r, i % 9, (double) (3 + i % 9 % 3), (double) (i % 9 % 4));
      } else {
         roll = odm_ax_rng_range (&r, 0, 9);
         if (roll < 4) {
            attend (d, &r, i, (double) odm_ax_rng_range (&r, 0, 4), (double) odm_ax_rng_range (&r, 0, 6));
         } else {
            odm_ax_set_string (&d->status, roll < 5 ? "pending" : roll < 7 ? "confirmed" : roll < 9 ? "no_show" : "cancelled");
         }
      }
      /* most attendees rate the webinar; 406 and 407 get the same top ratings */
      if (!strcmp (d->status, "attended") && (i < 18 ? i % 9 : i) % 3 != 1) {
         d->feedback.rating = i < 18 ? 5 : (double) odm_ax_rng_range (&r, 1, 5);
         d->feedback.has_rating = ODM_PRESENT;
         if (i % 2 == 0) {
            d->feedback.comments = bson_strdup ("Useful session");
         }
         d->has_feedback = ODM_PRESENT;
      }
   }
   /* Explicit nulls count as absent (MongoDB's $exists: true matches them): attendees
    * whose feedback rating is null did not rate. */
   for (i = 0, nnull = 0; i < N && nnull < 2; i++) {
      if (!strcmp (docs[i].status, "attended") && docs[i].feedback.has_rating == ODM_ABSENT) {
         docs[i].feedback.has_rating = ODM_NULL;
         docs[i].has_feedback = ODM_PRESENT;
         nnull++;
      }
   }
   ck_assert (nnull == 2);
   /* Boundaries: registrations exactly at 2024-02-01 and 2024-04-01. */
   docs[20].createdAt = FEB1;
   docs[21].createdAt = APR1;
   *n = N;
   return docs;
}

static bool
in_window (const odm_webinar_registration_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* attendance.duration as the derivation stores it: whole seconds, when left after joined. */
static bool
duration_of (const odm_webinar_registration_t *d, double *seconds)
{
   const odm_webinar_registration_attendance_t *a = &d->attendance;
   if (a->has_joinedAt != ODM_PRESENT || a->has_leftAt != ODM_PRESENT || a->leftAt <= a->joinedAt) {
      return false;
   }
   *seconds = (double) ((a->leftAt - a->joinedAt) / 1000);
   return true;
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a webinar, or a registration type and an experience */
   double count, a, b, c, d, e;
   odm_ax_acc_t avg;
   bson_oid_t set[N];
   size_t nset;
} group_t;

static int
by_a_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->a, y->a);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_avg_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->avg.sum / x->avg.n, y->avg.sum / y->avg.n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ attendance */

typedef odm_webinar_registration_attendance_params_t at_t;

static void
expect_attendance (const void *params, bson_t *rows)
{
   const at_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_webinar_registration_t *d = &docs[i];
      group_t *x;
      double seconds;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_webinarId, &p->webinarId, &d->webinarId) ||
          (p->has_registrationType && strcmp (p->registrationType, d->registrationType))) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->webinarId, NULL, NULL);
      x->count++;
      x->a += !strcmp (d->status, "attended");
      x->b += !strcmp (d->status, "no_show");
      x->c += !strcmp (d->status, "cancelled");
      x->d += d->certificate.issued;
      if (duration_of (d, &seconds)) {
         odm_ax_acc_add (&x->avg, seconds);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_a_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "registrations", BCON_DOUBLE (g[i].count), "attended",
                              BCON_DOUBLE (g[i].a), "noShows", BCON_DOUBLE (g[i].b), "cancelled", BCON_DOUBLE (g[i].c),
                              "attendanceRate", BCON_DOUBLE (g[i].a / g[i].count), "certificatesIssued",
                              BCON_DOUBLE (g[i].d));
      odm_ax_append_avg (row, "averageDuration", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const at_t at_all = {0};
static const at_t at_top1 = {.limit = 1, .has_limit = 1};
static const at_t at_speakers_window = {.registrationType = "speaker", .has_registrationType = 1, .from = FEB1,
                                        .has_from = 1, .to = APR1, .has_to = 1};
static const at_t at_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};
static at_t at_webinar; /* set in the module init below */

/* ------------------------------------------------------------ demographics */

typedef odm_webinar_registration_demographics_params_t dm_t;

static void
expect_demographics (const void *params, bson_t *rows)
{
   const dm_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_webinar_registration_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_webinarId, &p->webinarId, &d->webinarId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->registrationType,
                            d->registrationData.experience ? d->registrationData.experience : "unspecified");
      x->count++;
      odm_ax_oid_set_add (x->set, &x->nset, &d->registrantId);
      x->a += d->registrationData.company != NULL;
      x->b += !strcmp (d->status, "attended");
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", "{", "registrationType", BCON_UTF8 (g[i].key.s), "experience", BCON_UTF8 (g[i].key.s2), "}",
                              "registrations", BCON_DOUBLE (g[i].count), "uniqueRegistrants",
                              BCON_DOUBLE ((double) g[i].nset), "withCompany", BCON_DOUBLE (g[i].a), "attended",
                              BCON_DOUBLE (g[i].b));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const dm_t dm_all = {0};
static const dm_t dm_top2 = {.limit = 2, .has_limit = 1};
static const dm_t dm_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static dm_t dm_webinar; /* set in the module init below */

/* ------------------------------------------------------------ engagement */

typedef odm_webinar_registration_engagement_params_t en_t;

static void
expect_engagement (const void *params, bson_t *rows)
{
   const en_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_webinar_registration_t *d = &docs[i];
      const odm_webinar_registration_attendance_engagement_t *e = &d->attendance.engagement;
      group_t *x;
      double seconds;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_webinarId, &p->webinarId, &d->webinarId) || strcmp (d->status, "attended")) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->webinarId, NULL, NULL);
      x->count++;
      x->a += e->questionsAsked;
      x->b += e->pollsResponded;
      x->c += e->questionsAsked + e->pollsResponded > 0;
      if (duration_of (d, &seconds)) {
         odm_ax_acc_add (&x->avg, seconds);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_a_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "attendees", BCON_DOUBLE (g[i].count), "totalQuestions",
                              BCON_DOUBLE (g[i].a), "totalPolls", BCON_DOUBLE (g[i].b), "averageQuestions",
                              BCON_DOUBLE (g[i].a / g[i].count), "averagePolls", BCON_DOUBLE (g[i].b / g[i].count),
                              "activeAttendees", BCON_DOUBLE (g[i].c));
      odm_ax_append_avg (row, "averageDuration", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const en_t en_all = {0};
static const en_t en_top1 = {.limit = 1, .has_limit = 1};
static const en_t en_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ content_effectiveness */

typedef odm_webinar_registration_content_effectiveness_params_t ce_t;

static void
expect_content_effectiveness (const void *params, bson_t *rows)
{
   const ce_t *p = params;
   static group_t g[N];
   size_t ng = 0, i, out = 0;
   for (i = 0; i < N; i++) {
      const odm_webinar_registration_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) ||
          !odm_ax_oid_ok (p->has_webinarId, &p->webinarId, &d->webinarId) || d->feedback.has_rating != ODM_PRESENT) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->webinarId, NULL, NULL);
      x->count++;
      odm_ax_acc_add (&x->avg, d->feedback.rating);
      x->a += d->feedback.rating >= 4;
      x->b += d->feedback.comments != NULL;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (out, p->has_limit, p->limit); i++) {
      bson_t *row;
      if (p->has_minRatings && g[i].count < p->minRatings) {
         continue;
      }
      row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "ratings", BCON_DOUBLE (g[i].count), "averageRating",
                      BCON_DOUBLE (g[i].avg.sum / g[i].avg.n), "lowestRating", BCON_DOUBLE (g[i].avg.min), "highestRating",
                      BCON_DOUBLE (g[i].avg.max), "positive", BCON_DOUBLE (g[i].a), "positiveShare",
                      BCON_DOUBLE (g[i].a / g[i].count), "withComments", BCON_DOUBLE (g[i].b));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
      out++;
   }
}

static const ce_t ce_all = {0};
static const ce_t ce_top1 = {.limit = 1, .has_limit = 1};
static const ce_t ce_min5 = {.minRatings = 5, .has_minRatings = 1};
static const ce_t ce_window_min2_top2 = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1, .minRatings = 2,
                                         .has_minRatings = 1, .limit = 2, .has_limit = 1};

static const odm_ax_case_t cases[] = {
   {"all", &odm_webinar_registration_attendance_aggregation, &at_all, expect_attendance},
   {"top 1 through a tie", &odm_webinar_registration_attendance_aggregation, &at_top1, expect_attendance},
   {"speakers, window [Feb 1, Apr 1)", &odm_webinar_registration_attendance_aggregation, &at_speakers_window,
    expect_attendance},
   {"window of one document", &odm_webinar_registration_attendance_aggregation, &at_one_doc, expect_attendance},
   {"one webinar", &odm_webinar_registration_attendance_aggregation, &at_webinar, expect_attendance},
   {"all", &odm_webinar_registration_demographics_aggregation, &dm_all, expect_demographics},
   {"top 2 through a tie", &odm_webinar_registration_demographics_aggregation, &dm_top2, expect_demographics},
   {"window [Feb 1, Apr 1)", &odm_webinar_registration_demographics_aggregation, &dm_window, expect_demographics},
   {"one webinar", &odm_webinar_registration_demographics_aggregation, &dm_webinar, expect_demographics},
   {"all", &odm_webinar_registration_engagement_aggregation, &en_all, expect_engagement},
   {"top 1 through a tie", &odm_webinar_registration_engagement_aggregation, &en_top1, expect_engagement},
   {"window [Feb 1, Apr 1)", &odm_webinar_registration_engagement_aggregation, &en_window, expect_engagement},
   {"all", &odm_webinar_registration_content_effectiveness_aggregation, &ce_all, expect_content_effectiveness},
   {"top 1 through a tie", &odm_webinar_registration_content_effectiveness_aggregation, &ce_top1,
    expect_content_effectiveness},
   {"at least 5 ratings", &odm_webinar_registration_content_effectiveness_aggregation, &ce_min5,
    expect_content_effectiveness},
   {"window, at least 2 ratings, top 2", &odm_webinar_registration_content_effectiveness_aggregation,
    &ce_window_min2_top2, expect_content_effectiveness},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&at_webinar.webinarId, 403);
   at_webinar.has_webinarId = 1;
   odm_ax_oid (&dm_webinar.webinarId, 402);
   dm_webinar.has_webinarId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_webinar_registrations = {
   &odm_webinar_registration_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
