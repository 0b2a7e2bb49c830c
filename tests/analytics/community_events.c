/* Analytics of community_events, verified on a seeded data set with expectations
 * computed here in C from the same structs. The natural date is startDate. */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define N 60
#define FEB1 (ODM_AX_EPOCH + 31 * ODM_AX_DAY)
#define APR1 (ODM_AX_EPOCH + 91 * ODM_AX_DAY)
static odm_community_event_t docs[N];
static const char *const types[] = {"meetup", "webinar", "workshop", "conference"};
static const char *const statuses[] = {"draft", "upcoming", "ongoing", "completed", "cancelled"};
static const char *const places[] = {"virtual", "physical", "hybrid"};

static double
type_total (const char *type)
{
   double t = 0;
   size_t i;
   for (i = 0; i < N; i++) {
      t += strcmp (docs[i].eventType, type) ? 0 : docs[i].registeredCount;
   }
   return t;
}

static const void *
dataset (size_t *n)
{
   odm_ax_rng_t r;
   size_t i;
   double a, b;
   odm_ax_rng_seed (&r, 17);
   memset (docs, 0, sizeof docs);
   for (i = 0; i < N; i++) {
      odm_community_event_t *d = &docs[i];
      odm_community_event_init (d);
      odm_ax_oid (&d->_id, (uint32_t) (17000 + i));
      d->has__id = ODM_PRESENT;
      d->title = bson_strdup_printf ("Event %zu", i);
      d->has_title = ODM_PRESENT;
      d->description = bson_strdup ("A community event");
      d->has_description = ODM_PRESENT;
      odm_ax_oid (&d->organizerId, (uint32_t) (300 + odm_ax_rng_range (&r, 1, 6)));
      d->has_organizerId = ODM_PRESENT;
      if (odm_ax_rng_range (&r, 0, 3) > 0) { /* a quarter have no group */
         odm_ax_oid (&d->groupId, (uint32_t) (400 + odm_ax_rng_range (&r, 1, 3)));
         d->has_groupId = ODM_PRESENT;
      }
      d->eventType = bson_strdup (types[odm_ax_rng_range (&r, 0, 3)]);
      d->has_eventType = ODM_PRESENT;
      odm_ax_set_string (&d->status, statuses[odm_ax_rng_range (&r, 0, 4)]);
      d->startDate = ODM_AX_EPOCH + odm_ax_rng_range (&r, 0, 150) * ODM_AX_DAY + odm_ax_rng_range (&r, 0, 86399999);
      d->has_startDate = ODM_PRESENT;
      d->endDate = d->startDate + odm_ax_rng_range (&r, 1, 8) * 3600000;
      d->has_endDate = ODM_PRESENT;
      d->createdAt = d->startDate - 20 * ODM_AX_DAY;
      d->has_createdAt = ODM_PRESENT;
      d->location.type = bson_strdup (places[odm_ax_rng_range (&r, 0, 2)]);
      d->location.has_type = ODM_PRESENT;
      if (strcmp (d->location.type, "virtual")) {
         d->location.coordinates.items = bson_malloc0 (2 * sizeof (double));
         d->location.coordinates.items[0] = -74.006;
         d->location.coordinates.items[1] = 40.7128;
         d->location.coordinates.count = 2;
         d->location.has_coordinates = ODM_PRESENT;
      }
      d->has_location = ODM_PRESENT;
      /* a third have no capacity (and any number of registrations) */
      if (odm_ax_rng_range (&r, 0, 2) > 0) {
         d->capacity = (double) odm_ax_rng_range (&r, 1, 20) * 10;
         d->has_capacity = ODM_PRESENT;
         d->registeredCount = (double) odm_ax_rng_range (&r, 0, (int64_t) d->capacity);
      } else {
         d->registeredCount = (double) odm_ax_rng_range (&r, 0, 300);
      }
      if (i % 9 == 4) {
         d->registeredCount = 0; /* the default: left as init set it */
      }
   }
   /* Ties: organizers 307 and 308 run two events each with the same figures. */
   for (i = 0; i < 4; i++) {
      odm_ax_oid (&docs[20 + i].organizerId, i < 2 ? 307 : 308);
   }
   for (i = 0; i < 2; i++) {
      docs[22 + i].registeredCount = docs[20 + i].registeredCount;
      docs[22 + i].capacity = docs[20 + i].capacity;
      docs[22 + i].has_capacity = docs[20 + i].has_capacity;
      odm_ax_set_string (&docs[22 + i].status, docs[20 + i].status);
   }
   /* Ties: meetups and conferences draw the same registrations in total (a capacity-less
    * event of the smaller one gets the difference). */
   a = type_total ("meetup");
   b = type_total ("conference");
   for (i = 24; i < N; i++) {
      if (!docs[i].has_capacity && !strcmp (docs[i].eventType, a < b ? "meetup" : "conference")) {
         docs[i].registeredCount += a < b ? b - a : a - b;
         break;
      }
   }
   /* Boundaries: events starting exactly at 2024-02-01 and 2024-04-01. */
   docs[10].startDate = FEB1;
   docs[10].endDate = FEB1 + 3600000;
   docs[11].startDate = APR1;
   docs[11].endDate = APR1 + 3600000;
   *n = N;
   return docs;
}

static bool
selected (const odm_community_event_t *d, uint8_t has_from, int64_t from, uint8_t has_to, int64_t to,
          const char *status, const char *type, const bson_oid_t *group)
{
   return (!has_from || d->startDate >= from) && (!has_to || d->startDate < to) &&
          (!status || !strcmp (status, d->status)) && (!type || !strcmp (type, d->eventType)) &&
          (!group || (d->has_groupId && bson_oid_equal (group, &d->groupId)));
}

/* ------------------------------------------------------------ per-key groups */

typedef struct {
   odm_ax_key_t key; /* an organizer, or an event type or a period */
   double count, registered, capacity, completed, cancelled;
   odm_ax_acc_t fill; /* registered / capacity, where there is a capacity */
   bson_oid_t organizers[N];
   size_t norganizers;
} group_t;

static void
add (group_t *g, const odm_community_event_t *d)
{
   g->count++;
   g->registered += d->registeredCount;
   if (d->has_capacity) {
      g->capacity += d->capacity;
      odm_ax_acc_add (&g->fill, d->registeredCount / d->capacity);
   }
   g->completed += !strcmp (d->status, "completed");
   g->cancelled += !strcmp (d->status, "cancelled");
   odm_ax_oid_set_add (g->organizers, &g->norganizers, &d->organizerId);
}

static int
by_registered_then_key (const void *a, const void *b)
{
   const group_t *x = a, *y = b;
   int c = odm_ax_cmp_double_desc (x->registered, y->registered);
   return c ? c : odm_ax_key_cmp (&x->key, &y->key);
}

/* ------------------------------------------------------------ event_attendance */

typedef odm_community_event_event_attendance_params_t ea_t;

static void
expect_event_attendance (const void *params, bson_t *rows)
{
   const ea_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      char key[32];
      if (!selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_status ? p->status : NULL,
                     p->has_eventType ? p->eventType : NULL, NULL)) {
         continue;
      }
      odm_ax_period (docs[i].startDate, p->has_period ? p->period : "month", key, sizeof key);
      add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, key, NULL), &docs[i]);
   }
   odm_ax_sort (g, ng, sizeof g[0], odm_ax_by_key);
   for (i = 0; i < ng; i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "eventCount", BCON_DOUBLE (g[i].count),
                              "totalRegistered", BCON_DOUBLE (g[i].registered), "totalCapacity",
                              BCON_DOUBLE (g[i].capacity), "averageRegistered",
                              BCON_DOUBLE (g[i].registered / g[i].count));
      odm_ax_append_avg (row, "averageFillRate", &g[i].fill);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const ea_t ea_month = {0};
static const ea_t ea_day = {.period = "day", .has_period = 1};
static const ea_t ea_week = {.period = "week", .has_period = 1};
static const ea_t ea_year = {.period = "year", .has_period = 1};
static const ea_t ea_completed_webinars = {.status = "completed", .has_status = 1, .eventType = "webinar",
                                           .has_eventType = 1};
static const ea_t ea_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

/* ------------------------------------------------------------ popular_event_types */

typedef odm_community_event_popular_event_types_params_t pt_t;

static void
expect_popular_event_types (const void *params, bson_t *rows)
{
   const pt_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, p->has_status ? p->status : NULL, NULL,
                    p->has_groupId ? &p->groupId : NULL)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, NULL, docs[i].eventType, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_registered_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_UTF8 (g[i].key.s), "eventCount", BCON_DOUBLE (g[i].count),
                              "totalRegistered", BCON_DOUBLE (g[i].registered), "averageRegistered",
                              BCON_DOUBLE (g[i].registered / g[i].count), "organizerCount",
                              BCON_DOUBLE ((double) g[i].norganizers));
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const pt_t pt_all = {0};
static const pt_t pt_top2 = {.limit = 2, .has_limit = 1};
static const pt_t pt_upcoming = {.status = "upcoming", .has_status = 1};
static const pt_t pt_one_doc = {.from = FEB1, .has_from = 1, .to = FEB1 + 1, .has_to = 1};
static pt_t pt_group;

/* ------------------------------------------------------------ organizer_performance */

typedef odm_community_event_organizer_performance_params_t op_t;

static void
expect_organizer_performance (const void *params, bson_t *rows)
{
   const op_t *p = params;
   static group_t g[N];
   size_t ng = 0, i;
   for (i = 0; i < N; i++) {
      if (selected (&docs[i], p->has_from, p->from, p->has_to, p->to, NULL, p->has_eventType ? p->eventType : NULL,
                    NULL)) {
         add (odm_ax_group_for (g, &ng, sizeof g[0], NULL, &docs[i].organizerId, NULL, NULL), &docs[i]);
      }
   }
   odm_ax_sort (g, ng, sizeof g[0], by_registered_then_key);
   for (i = 0; i < ng && odm_ax_within_limit (i, p->has_limit, p->limit); i++) {
      bson_t *row = BCON_NEW ("_id", BCON_OID (&g[i].key.oid), "eventCount", BCON_DOUBLE (g[i].count), "completedCount",
                              BCON_DOUBLE (g[i].completed), "cancelledCount", BCON_DOUBLE (g[i].cancelled),
                              "totalRegistered", BCON_DOUBLE (g[i].registered));
      odm_ax_append_avg (row, "averageFillRate", &g[i].fill);
      odm_ax_append_row (rows, row);
      bson_destroy (row);
   }
}

static const op_t op_all = {0};
static const op_t op_top = {.limit = 7, .has_limit = 1};
static const op_t op_meetups = {.eventType = "meetup", .has_eventType = 1};
static const op_t op_window = {.from = FEB1, .has_from = 1, .to = APR1, .has_to = 1};

static const odm_ax_case_t cases[] = {
   {"by month", &odm_community_event_event_attendance_aggregation, &ea_month, expect_event_attendance},
   {"by day", &odm_community_event_event_attendance_aggregation, &ea_day, expect_event_attendance},
   {"by ISO week", &odm_community_event_event_attendance_aggregation, &ea_week, expect_event_attendance},
   {"by year", &odm_community_event_event_attendance_aggregation, &ea_year, expect_event_attendance},
   {"completed webinars", &odm_community_event_event_attendance_aggregation, &ea_completed_webinars,
    expect_event_attendance},
   {"window [Feb 1, Apr 1)", &odm_community_event_event_attendance_aggregation, &ea_window, expect_event_attendance},
   {"all", &odm_community_event_popular_event_types_aggregation, &pt_all, expect_popular_event_types},
   {"top 2 with a tie", &odm_community_event_popular_event_types_aggregation, &pt_top2, expect_popular_event_types},
   {"upcoming", &odm_community_event_popular_event_types_aggregation, &pt_upcoming, expect_popular_event_types},
   {"one group", &odm_community_event_popular_event_types_aggregation, &pt_group, expect_popular_event_types},
   {"window of one event", &odm_community_event_popular_event_types_aggregation, &pt_one_doc,
    expect_popular_event_types},
   {"all", &odm_community_event_organizer_performance_aggregation, &op_all, expect_organizer_performance},
   {"top 7 with a tie", &odm_community_event_organizer_performance_aggregation, &op_top,
    expect_organizer_performance},
   {"meetups", &odm_community_event_organizer_performance_aggregation, &op_meetups, expect_organizer_performance},
   {"window [Feb 1, Apr 1)", &odm_community_event_organizer_performance_aggregation, &op_window,
    expect_organizer_performance},
};

static const void *
dataset_and_params (size_t *n)
{
   const void *d = dataset (n);
   odm_ax_oid (&pt_group.groupId, 402);
   pt_group.has_groupId = 1;
   return d;
}

const odm_analytics_module_t odm_analytics_community_events = {
   &odm_community_event_schema, dataset_and_params, cases, sizeof cases / sizeof cases[0]};
