/* Analytics of job_applications, verified on a seeded data set with expectations computed
 * here in C from the same structs. */
#include "harness.h"

#include <check.h>

#include <stdio.h>
#include <string.h>

#define N 64
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_job_application_t docs[N];

static const char *
status_of (size_t i)
{
   /* per 30: 7 submitted, 7 under_review, 6 interview_scheduled, 5 rejected, 5 accepted */
   size_t k = i % 30;
   return k < 7 ? "submitted" : k < 14 ? "under_review" : k < 20 ? "interview_scheduled" : k < 25 ? "rejected" : "accepted";
}

static void
add_interviews (odm_ax_rng_t *r, odm_job_application_t *d, size_t count, size_t i)
{
   size_t k;
   d->interviews.items = count ? bson_malloc0 (count * sizeof d->interviews.items[0]) : NULL;
   d->interviews.count = count;
   for (k = 0; k < count; k++) {
      odm_job_application_interview_t *v = &d->interviews.items[k];
      v->round = (double) (k + 1);
      v->has_round = ODM_PRESENT;
      v->scheduledAt = d->createdAt + (int64_t) (k + 1) * 3 * ODM_AX_DAY;
      v->has_scheduledAt = ODM_PRESENT;
      odm_ax_oid (&v->interviewerId, (uint32_t) (500 + odm_ax_rng_range (r, 1, 4)));
      v->has_interviewerId = ODM_PRESENT;
      if ((i + k) % 3 != 0) { /* a third of the interviews are not rated */
         v->rating = (double) odm_ax_rng_range (r, 1, 5);
         v->has_rating = ODM_PRESENT;
      }
   }
}

static const void *
dataset (size_t *n)
{
   /* the hires' jobs: 301 and 302 tie with three hires each */
   static const uint32_t hired_jobs[] = {301, 302, 303, 301, 304, 302, 305, 301, 302, 303};
   odm_ax_rng_t r;
   size_t i, hired = 0;
   odm_ax_rng_seed (&r, 24);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_job_application_t *d = &docs[i];
      const char *status = status_of (i);
      size_t k;
      odm_job_application_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (24000 + i));
      d->has__id = ODM_PRESENT;
      odm_ax_set_string (&d->status, status);
      if (i >= 14 && i < 18) {
         odm_ax_oid (&d->jobId, i < 16 ? 306 : 307); /* two small jobs with perfect ratings */
      } else if (!strcmp (status, "accepted")) {
         odm_ax_oid (&d->jobId, hired_jobs[hired++ % 10]);
      } else {
         odm_ax_oid (&d->jobId, (uint32_t) (300 + odm_ax_rng_range (&r, 1, 5)));
      }
      d->has_jobId = ODM_PRESENT;
      /* an applicant who has not applied to this job yet: the pair is unique */
      do {
         odm_ax_oid (&d->applicantId, (uint32_t) (100 + odm_ax_rng_range (&r, 1, 20)));
         for (k = 0; k < i && !(bson_oid_equal (&docs[k].applicantId, &d->applicantId) &&
                                bson_oid_equal (&docs[k].jobId, &d->jobId));
              k++) {
         }
      } while (k < i);
      d->has_applicantId = ODM_PRESENT;
      d->createdAt = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_createdAt = ODM_PRESENT;
      d->resume.filename = bson_strdup_printf ("applicant-%zu.pdf", i);
      d->resume.has_filename = ODM_PRESENT;
      d->resume.url = bson_strdup_printf ("https://files.example/resume/%zu", i);
      d->resume.has_url = ODM_PRESENT;
      d->resume.uploadedAt = d->createdAt;
      if (i % 4 == 0) {
         d->coverLetter = bson_strdup ("I am excited to apply for this position.");
      }
      if (!strcmp (status, "submitted")) {
         add_interviews (&r, d, 0, i);
      } else if (!strcmp (status, "under_review")) {
         add_interviews (&r, d, (size_t) odm_ax_rng_range (&r, 0, 1), i);
      } else if (!strcmp (status, "interview_scheduled")) {
         add_interviews (&r, d, (size_t) odm_ax_rng_range (&r, 1, 2), i);
      } else if (!strcmp (status, "rejected")) {
         add_interviews (&r, d, (size_t) odm_ax_rng_range (&r, 0, 2), i);
      } else {
         add_interviews (&r, d, (size_t) odm_ax_rng_range (&r, 1, 3), i);
      }
      if (!strcmp (status, "accepted")) {
         d->offer.status = bson_strdup (i % 7 == 3 ? "pending" : "accepted");
         d->offer.has_status = ODM_PRESENT;
         if (i % 5 != 0) {
            d->offer.salary = (double) (60000 + 5000 * odm_ax_rng_range (&r, 0, 8));
            d->offer.has_salary = ODM_PRESENT;
         }
         if (i % 6 != 5) { /* some hires have no start date yet */
            d->offer.startDate = d->createdAt + odm_ax_rng_range (&r, 14, 60) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
            d->offer.has_startDate = ODM_PRESENT;
         }
         d->has_offer = ODM_PRESENT;
      } else if (!strcmp (status, "rejected") && i % 2 == 0) {
         d->offer.status = bson_strdup ("rejected"); /* the candidate declined an offer */
         d->offer.has_status = ODM_PRESENT;
         d->offer.salary = (double) (55000 + 1000 * (int) (i % 9));
         d->offer.has_salary = ODM_PRESENT;
         d->has_offer = ODM_PRESENT;
      } else if (!strcmp (status, "interview_scheduled") && i % 4 == 1) {
         d->offer.salary = 70000; /* a salary discussed, no offer made */
         d->offer.has_salary = ODM_PRESENT;
         d->has_offer = ODM_PRESENT;
      }
   }
   /* Ties: jobs 306 and 307 have only rated interviews of 5 (and an unrated one). */
   for (i = 14; i < 18; i++) {
      size_t k;
      for (k = 0; k < docs[i].interviews.count; k++) {
         odm_job_application_interview_t *v = &docs[i].interviews.items[k];
         v->rating = 5;
         v->has_rating = k == 1 ? ODM_ABSENT : ODM_PRESENT;
      }
   }
   /* Explicit nulls count as absent: a hire whose start date is null, an interview whose
    * rating is null (MongoDB's $exists: true matches both), an offer whose status is null. */
   for (i = 0; i < N && !(!strcmp (docs[i].status, "accepted") && docs[i].offer.has_startDate == ODM_ABSENT); i++) {
   }
   ck_assert (i < N);
   docs[i].offer.has_startDate = ODM_NULL;
   for (i = 0; i < N && !(docs[i].interviews.count > 0 && docs[i].interviews.items[0].has_rating == ODM_ABSENT); i++) {
   }
   ck_assert (i < N);
   docs[i].interviews.items[0].has_rating = ODM_NULL;
   for (i = 0; i < N && !(!strcmp (docs[i].status, "interview_scheduled") && docs[i].has_offer == ODM_PRESENT); i++) {
   }
   ck_assert (i < N);
   docs[i].offer.has_status = ODM_NULL;
   /* Boundaries: hires exactly at 2024-02-01 and 2024-04-01, another in March. */
   for (i = 25; i < 28; i++) {
      int64_t at = i == 25 ? FEB1 : i == 26 ? APR1 : FEB1 + 40 * ODM_AX_DAY;
      docs[i].offer.startDate += at - docs[i].createdAt;
      docs[i].resume.uploadedAt = at;
      docs[i].createdAt = at;
   }
   *n = N;
   return docs;
}

static bool
in_window (const odm_job_application_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to)
{
   return odm_ax_in_window (d->createdAt, has_from, from, has_to, to);
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* a job, or a status or a period */
   double count, a, b, c, d;
   odm_ax_acc_t avg;
   bson_oid_t set[N];
   size_t nset;
} group_t;

static int
by_count_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->count, y->count);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_d_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->d, y->d);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

static int
by_avg_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->avg.sum / x->avg.n, y->avg.sum / y->avg.n);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ funnel */

typedef odm_job_application_funnel_params_t fu_t;

static void
expect_funnel (const void *params, bson_t *rows)
{
   const fu_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   double total = 0;
   for (i = 0; i < N; i++) {
      const odm_job_application_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || !odm_ax_oid_ok (p->has_jobId, &p->jobId, &d->jobId)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, d->status, NULL);
      x->count++;
      x->a += d->interviews.count > 0;
      odm_ax_acc_add (&x->avg, (double) d->interviews.count);
      total++;
   }
   odm_ax_sort (g, ng, sizeof g[0], by_count_then_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "applications", BCON_DOUBLE (g[i].count), "share",
                              BCON_DOUBLE (g[i].count / total), "interviewed", BCON_DOUBLE (g[i].a), "averageInterviews",
                              BCON_DOUBLE (g[i].avg.sum / g[i].avg.n));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const fu_t fu_all = {0};
static const fu_t fu_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static const fu_t fu_one_doc = {.from = APR1, .has_from = 1, .to = APR1 + 1, .has_to = 1};
static fu_t fu_job; /* set in the module init below */

/* ------------------------------------------------------------ hiring_success */

typedef odm_job_application_hiring_success_params_t hs_t;

static void
expect_hiring_success (const void *params, bson_t *rows)
{
   const hs_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_job_application_t *d = &docs[i];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to)) {
         continue;
      }
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->jobId, NULL, NULL);
      x->count++;
      x->a += d->interviews.count > 0;
      x->b += d->offer.has_status == ODM_PRESENT;
      x->c += d->offer.has_status == ODM_PRESENT && !strcmp (d->offer.status, "accepted");
      x->d += !strcmp (d->status, "accepted");
      if (d->offer.has_status == ODM_PRESENT && d->offer.has_salary == ODM_PRESENT) { /* the offers' salaries */
         odm_ax_acc_add (&x->avg, d->offer.salary);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_d_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "applications", BCON_DOUBLE (g[i].count), "interviewed",
                              BCON_DOUBLE (g[i].a), "offers", BCON_DOUBLE (g[i].b), "offersAccepted", BCON_DOUBLE (g[i].c),
                              "hires", BCON_DOUBLE (g[i].d), "hireRate", BCON_DOUBLE (g[i].d / g[i].count));
      odm_ax_append_num_or_null (row, "offerAcceptanceRate", g[i].b > 0, g[i].c / g[i].b);
      odm_ax_append_avg (row, "averageOfferSalary", &g[i].avg);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const hs_t hs_all = {0};
static const hs_t hs_top1 = {.limit = 1, .has_limit = 1};
static const hs_t hs_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ candidate_quality */

typedef odm_job_application_candidate_quality_params_t cq_t;

static void
expect_candidate_quality (const void *params, bson_t *rows)
{
   const cq_t *p = params;
   static group_t g[N];
   size_t ng = 0, i, k;
   for (i = 0; i < N; i++) {
      const odm_job_application_t *d = &docs[i];
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to)) {
         continue;
      }
      for (k = 0; k < d->interviews.count; k++) {
         const odm_job_application_interview_t *v = &d->interviews.items[k];
         group_t *x;
         if (v->has_rating != ODM_PRESENT || (p->has_round && v->round != p->round)) {
            continue;
         }
         x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, &d->jobId, NULL, NULL);
         x->count++;
         odm_ax_oid_set_add (x->set, &x->nset, &d->applicantId);
         odm_ax_acc_add (&x->avg, v->rating);
         x->a += v->rating >= 4;
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_avg_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "ratedInterviews", BCON_DOUBLE (g[i].count), "candidates",
                              BCON_DOUBLE ((double) g[i].nset), "averageRating", BCON_DOUBLE (g[i].avg.sum / g[i].avg.n),
                              "highestRating", BCON_DOUBLE (g[i].avg.max), "strongRatings", BCON_DOUBLE (g[i].a));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const cq_t cq_all = {0};
static const cq_t cq_top1 = {.limit = 1, .has_limit = 1};
static const cq_t cq_round1 = {.round = 1, .has_round = 1};
static const cq_t cq_round2_window = {.round = 2, .has_round = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ time_to_hire */

typedef odm_job_application_time_to_hire_params_t th_t;

static void
expect_time_to_hire (const void *params, bson_t *rows)
{
   const th_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      const odm_job_application_t *d = &docs[i];
      char key[32];
      group_t *x;
      if (!in_window (d, p->has_from, p->from, p->has_to, p->to) || strcmp (d->status, "accepted") ||
          d->offer.has_startDate != ODM_PRESENT || !odm_ax_oid_ok (p->has_jobId, &p->jobId, &d->jobId)) {
         continue;
      }
      odm_ax_period (d->createdAt, p->has_period ? p->period : "month", key, sizeof key);
      x = odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL);
      x->count++;
      odm_ax_acc_add (&x->avg, (double) (d->offer.startDate - d->createdAt) / (double) ODM_AX_DAY);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "hires", BCON_DOUBLE (g[i].count), "averageDays",
                              BCON_DOUBLE (g[i].avg.sum / g[i].avg.n), "fastestDays", BCON_DOUBLE (g[i].avg.min),
                              "slowestDays", BCON_DOUBLE (g[i].avg.max));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const th_t th_month = {0};
static const th_t th_week = {.period = "week", .has_period = 1};
static const th_t th_year_window = {.period = "year", .has_period = 1, .from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};
static th_t th_day_job; /* set in the module init below */

static const odm_ax_case_t cases[] = {
   {"all", &odm_job_application_funnel_aggregation, &fu_all, expect_funnel},
   {"one job", &odm_job_application_funnel_aggregation, &fu_job, expect_funnel},
   {"window [Feb 1, Apr 1)", &odm_job_application_funnel_aggregation, &fu_window, expect_funnel},
   {"window of one document", &odm_job_application_funnel_aggregation, &fu_one_doc, expect_funnel},
   {"all", &odm_job_application_hiring_success_aggregation, &hs_all, expect_hiring_success},
   {"top 1 through a tie", &odm_job_application_hiring_success_aggregation, &hs_top1, expect_hiring_success},
   {"window [Feb 1, Apr 1)", &odm_job_application_hiring_success_aggregation, &hs_window, expect_hiring_success},
   {"all", &odm_job_application_candidate_quality_aggregation, &cq_all, expect_candidate_quality},
   {"top 1 through a tie", &odm_job_application_candidate_quality_aggregation, &cq_top1, expect_candidate_quality},
   {"round 1", &odm_job_application_candidate_quality_aggregation, &cq_round1, expect_candidate_quality},
   {"round 2, window [Feb 1, Apr 1)", &odm_job_application_candidate_quality_aggregation, &cq_round2_window,
    expect_candidate_quality},
   {"by month", &odm_job_application_time_to_hire_aggregation, &th_month, expect_time_to_hire},
   {"by ISO week", &odm_job_application_time_to_hire_aggregation, &th_week, expect_time_to_hire},
   {"by year, window [Feb 1, Apr 1)", &odm_job_application_time_to_hire_aggregation, &th_year_window,
    expect_time_to_hire},
   {"by day, one job", &odm_job_application_time_to_hire_aggregation, &th_day_job, expect_time_to_hire},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&fu_job.jobId, 302);
   fu_job.has_jobId = 1;
   th_day_job.period = "day";
   th_day_job.has_period = 1;
   odm_ax_oid (&th_day_job.jobId, 301);
   th_day_job.has_jobId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_job_applications = {
   &odm_job_application_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
