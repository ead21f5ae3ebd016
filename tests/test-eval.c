/* Tests for policy/eval.c: policy days, allowed hours, verdicts and app
 * states. Expected moments are literal unix times, computed outside GLib
 * (the comment next to each repeats the local time it stands for). */
#include "config.h"

#include <string.h>

#include "policy/eval.h"

#define UNL PD_UNLIMITED
#define HM(h, m) ((h) * 60 + (m))
#define R(h1, m1, h2, m2) { HM (h1, m1), HM (h2, m2) }
#define ALWAYS { 1, { { 0, PD_MINUTES_PER_DAY } } }
#define NEVER { 0, { { 0, 0 } } }
#define HOURS1(a) { 1, { a } }
#define HOURS2(a, b) { 2, { a, b } }
#define HOURS3(a, b, c) { 3, { a, b, c } }
/* Monday to Friday one value, Saturday and Sunday another. */
#define WEEK(wd, we) { wd, wd, wd, wd, wd, we, we }
#define EVERY(d) { d, d, d, d, d, d, d }

#define DAY ((gint64) 86400)
#define HORIZON (8 * DAY)

/* The parts of a child that evaluation reads, written as constants. */
typedef struct {
  gint64 limit[PD_DAYS];
  PdHours hours[PD_DAYS];
} Kid;

static const Kid kid_basic = {
  WEEK (5400, 10800),
  WEEK (HOURS1 (R (7, 0, 20, 30)), HOURS2 (R (8, 0, 12, 0), R (14, 0, 22, 0))),
};
static const Kid kid_split = { WEEK (3600, 7200), EVERY (ALWAYS) };
static const Kid kid_always = { EVERY (UNL), EVERY (ALWAYS) };
static const Kid kid_unl_hours = { EVERY (UNL), EVERY (HOURS1 (R (7, 0, 20, 0))) };
static const Kid kid_never = { EVERY (3600), EVERY (NEVER) };
/* 21:00-01:00 on school nights, a Saturday override, nothing on Sunday. */
static const Kid kid_night = {
  EVERY (7200),
  {
    HOURS1 (R (21, 0, 1, 0)), HOURS1 (R (21, 0, 1, 0)), HOURS1 (R (21, 0, 1, 0)),
    HOURS1 (R (21, 0, 1, 0)), HOURS1 (R (21, 0, 1, 0)), HOURS1 (R (10, 0, 12, 0)), NEVER,
  },
};
/* Two ranges that touch at midnight make one span. */
static const Kid kid_evening = { EVERY (14400), EVERY (HOURS2 (R (0, 0, 2, 0), R (20, 0, 24, 0))) };
static const Kid kid_weekend_always = { EVERY (UNL), WEEK (HOURS1 (R (8, 0, 20, 0)), ALWAYS) };
static const Kid kid_multi = {
  EVERY (3600),
  EVERY (HOURS3 (R (7, 0, 8, 0), R (12, 0, 13, 0), R (18, 0, 20, 0))),
};
/* Allowed all week but one minute, so spans last almost a week. */
static const Kid kid_almost = {
  EVERY (UNL),
  { ALWAYS, ALWAYS, HOURS2 (R (0, 0, 3, 0), R (3, 1, 24, 0)), ALWAYS, ALWAYS, ALWAYS, ALWAYS },
};
/* Runs across the 02:00-03:00 hour that DST skips or repeats. */
static const Kid kid_late = { EVERY (7200), EVERY (HOURS1 (R (22, 0, 2, 30))) };

#define SETTINGS(dsa, grace_) \
  { .day_starts_at = (dsa), .warnings = { 900, 300, 60 }, .n_warnings = 3, .grace = (grace_), \
    .history_days = 90, .purchase_hold = 600 }

static const PdDaemonSettings defaults = SETTINGS (HM (4, 0), 60);
static const PdDaemonSettings midnight = SETTINGS (0, 60);
static const PdDaemonSettings start_0130 = SETTINGS (HM (1, 30), 60);
static const PdDaemonSettings start_0230 = SETTINGS (HM (2, 30), 60);
static const PdDaemonSettings grace_0 = SETTINGS (HM (4, 0), 0);
static const PdDaemonSettings grace_5m = SETTINGS (HM (4, 0), 300);
static const PdDaemonSettings no_warnings = { .day_starts_at = HM (4, 0), .grace = 60 };
static const PdDaemonSettings warn_10m = {
  .day_starts_at = HM (4, 0), .warnings = { 600 }, .n_warnings = 1, .grace = 60,
};

static PdChild *
child_new (const Kid *kid)
{
  PdChild *child = g_new0 (PdChild, 1);

  child->name = g_strdup ("kid");
  memcpy (child->daily_limit, kid->limit, sizeof child->daily_limit);
  memcpy (child->allowed_hours, kid->hours, sizeof child->allowed_hours);
  child->app_limits = g_array_new (FALSE, FALSE, sizeof (PdAppLimit));
  child->blocked_apps = g_array_new (FALSE, FALSE, sizeof (guint));
  child->always_allowed = g_array_new (FALSE, FALSE, sizeof (guint));
  return child;
}

static void
child_free (PdChild *child)
{
  g_free (child->name);
  g_array_unref (child->app_limits);
  g_array_unref (child->blocked_apps);
  g_array_unref (child->always_allowed);
  g_free (child);
}

static GTimeZone *
zone_new (const char *identifier)
{
  GTimeZone *tz = g_time_zone_new_identifier (identifier);

  g_assert_nonnull (tz);
  return tz;
}

/* ---- pd_day_at ------------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *zone;
  const PdDaemonSettings *settings;
  gint64 now;
  gint64 start;
  gint64 end;
  const char *date;
  int weekday;
} DayCase;

/* Standard time UTC-3, DST UTC-2 ending at 24:30 on the first Sunday of
 * November. */
#define FALL_OVER_MIDNIGHT "<-03>3<-02>,M3.2.0,M11.1.0/24:30"

static const DayCase day_cases[] = {
  { "utc-0400-just-before", "UTC", &defaults, 1749009599 /* 2025-06-04 03:59:59 */,
    1748923200 /* 2025-06-03 04:00 */, 1749009600 /* 2025-06-04 04:00 */, "2025-06-03", 1 },
  { "utc-0400-exact", "UTC", &defaults, 1749009600 /* 2025-06-04 04:00:00 */,
    1749009600 /* 2025-06-04 04:00 */, 1749096000 /* 2025-06-05 04:00 */, "2025-06-04", 2 },
  { "utc-0400-just-after", "UTC", &defaults, 1749009601 /* 2025-06-04 04:00:01 */,
    1749009600 /* 2025-06-04 04:00 */, 1749096000 /* 2025-06-05 04:00 */, "2025-06-04", 2 },
  { "utc-0000-just-before", "UTC", &midnight, 1749081599 /* 2025-06-04 23:59:59 */,
    1748995200 /* 2025-06-04 00:00 */, 1749081600 /* 2025-06-05 00:00 */, "2025-06-04", 2 },
  { "utc-0000-exact", "UTC", &midnight, 1749081600 /* 2025-06-05 00:00:00 */,
    1749081600 /* 2025-06-05 00:00 */, 1749168000 /* 2025-06-06 00:00 */, "2025-06-05", 3 },
  { "utc-sunday-night-is-sunday", "UTC", &defaults, 1749438000 /* 2025-06-09 03:00 */,
    1749355200 /* 2025-06-08 04:00 */, 1749441600 /* 2025-06-09 04:00 */, "2025-06-08", 6 },
  { "utc-new-year-night", "UTC", &defaults, 1767232800 /* 2026-01-01 02:00 */,
    1767153600 /* 2025-12-31 04:00 */, 1767240000 /* 2026-01-01 04:00 */, "2025-12-31", 2 },
  { "utc-leap-day", "UTC", &defaults, 1709262000 /* 2024-03-01 03:00 */,
    1709179200 /* 2024-02-29 04:00 */, 1709265600 /* 2024-03-01 04:00 */, "2024-02-29", 3 },
  { "berlin-summer-0400", "Europe/Berlin", &defaults, 1749002400 /* 2025-06-04 04:00:00+02:00 */,
    1749002400 /* 2025-06-04 04:00+02:00 */, 1749088800 /* 2025-06-05 04:00+02:00 */, "2025-06-04", 2 },
  { "berlin-spring-23h-day", "Europe/Berlin", &defaults, 1743296400 /* 2025-03-30 03:00+02:00 */,
    1743217200 /* 2025-03-29 04:00+01:00 */, 1743300000 /* 2025-03-30 04:00+02:00 */, "2025-03-29", 5 },
  { "berlin-spring-next-day", "Europe/Berlin", &defaults, 1743300000 /* 2025-03-30 04:00+02:00 */,
    1743300000 /* 2025-03-30 04:00+02:00 */, 1743386400 /* 2025-03-31 04:00+02:00 */, "2025-03-30", 6 },
  { "berlin-fall-25h-day-second-pass", "Europe/Berlin", &defaults, 1761442200 /* 2025-10-26 02:30+01:00 */,
    1761357600 /* 2025-10-25 04:00+02:00 */, 1761447600 /* 2025-10-26 04:00+01:00 */, "2025-10-25", 5 },
  { "berlin-fall-25h-day-first-pass", "Europe/Berlin", &defaults, 1761438600 /* 2025-10-26 02:30+02:00 */,
    1761357600 /* 2025-10-25 04:00+02:00 */, 1761447600 /* 2025-10-26 04:00+01:00 */, "2025-10-25", 5 },
  /* 02:30 does not exist on 2025-03-30: that day starts at 03:00 CEST. */
  { "berlin-start-in-gap-at-gap-end", "Europe/Berlin", &start_0230, 1743296400 /* 2025-03-30 03:00+02:00 */,
    1743296400 /* 2025-03-30 03:00+02:00 */, 1743381000 /* 2025-03-31 02:30+02:00 */, "2025-03-30", 6 },
  { "berlin-start-in-gap-before", "Europe/Berlin", &start_0230, 1743296399 /* 2025-03-30 01:59:59+01:00 */,
    1743211800 /* 2025-03-29 02:30+01:00 */, 1743296400 /* 2025-03-30 03:00+02:00 */, "2025-03-29", 5 },
  /* 02:30 happens twice on 2025-10-26: the day starts at the first. */
  { "berlin-start-repeated-second-pass", "Europe/Berlin", &start_0230, 1761441000 /* 2025-10-26 02:10+01:00 */,
    1761438600 /* 2025-10-26 02:30+02:00 */, 1761528600 /* 2025-10-27 02:30+01:00 */, "2025-10-26", 6 },
  { "berlin-start-repeated-before-first", "Europe/Berlin", &start_0230, 1761438540 /* 2025-10-26 02:29+02:00 */,
    1761352200 /* 2025-10-25 02:30+02:00 */, 1761438600 /* 2025-10-26 02:30+02:00 */, "2025-10-25", 5 },
  { "newyork-spring-23h-day", "America/New_York", &defaults, 1741505400 /* 2025-03-09 03:30-04:00 */,
    1741424400 /* 2025-03-08 04:00-05:00 */, 1741507200 /* 2025-03-09 04:00-04:00 */, "2025-03-08", 5 },
  { "newyork-fall-25h-day", "America/New_York", &defaults, 1762065000 /* 2025-11-02 01:30-05:00 */,
    1761984000 /* 2025-11-01 04:00-04:00 */, 1762074000 /* 2025-11-02 04:00-05:00 */, "2025-11-01", 5 },
  { "newyork-midnight-25h-day", "America/New_York", &midnight, 1762102800 /* 2025-11-02 12:00-05:00 */,
    1762056000 /* 2025-11-02 00:00-04:00 */, 1762146000 /* 2025-11-03 00:00-05:00 */, "2025-11-02", 6 },
  { "newyork-start-repeated", "America/New_York", &start_0130, 1762064100 /* 2025-11-02 01:15-05:00 */,
    1762061400 /* 2025-11-02 01:30-04:00 */, 1762151400 /* 2025-11-03 01:30-05:00 */, "2025-11-02", 6 },
  /* A made-up zone whose clock falls back from 00:30 to 23:30: the first
   * midnight starts the day, although 23:30-24:00 then comes again. */
  { "posix-fall-back-over-midnight-first-pass", FALL_OVER_MIDNIGHT, &midnight,
    1762134300 /* 2025-11-02 23:45-02:00 */,
    1762048800 /* 2025-11-02 00:00-02:00 */, 1762135200 /* 2025-11-03 00:00-02:00 */, "2025-11-02", 6 },
  { "posix-fall-back-over-midnight-second-pass", FALL_OVER_MIDNIGHT, &midnight,
    1762137900 /* 2025-11-02 23:45-03:00 */,
    1762135200 /* 2025-11-03 00:00-02:00 */, 1762225200 /* 2025-11-04 00:00-03:00 */, "2025-11-03", 0 },
  { "newyork-start-in-gap", "America/New_York", &start_0230, 1741503600 /* 2025-03-09 03:00-04:00 */,
    1741503600 /* 2025-03-09 03:00-04:00 */, 1741588200 /* 2025-03-10 02:30-04:00 */, "2025-03-09", 6 },
};

static void
test_day (gconstpointer data)
{
  const DayCase *c = data;
  GTimeZone *tz = zone_new (c->zone);
  PdDay day;

  pd_day_at (c->settings, tz, c->now, &day);
  g_assert_cmpint (day.start, ==, c->start);
  g_assert_cmpint (day.end, ==, c->end);
  g_assert_cmpstr (day.date, ==, c->date);
  g_assert_cmpint (day.weekday, ==, c->weekday);
  g_time_zone_unref (tz);
}

/* ---- pd_in_allowed_hours ------------------------------------------------------ */

typedef struct {
  const char *name;
  const char *zone;
  const Kid *kid;
  gint64 now;
  gboolean allowed;
} HoursCase;

/* 2025-06-02 is a Monday. */
static const HoursCase hours_cases[] = {
  { "basic-tue-0659", "UTC", &kid_basic, 1748933999 /* 2025-06-03 06:59:59 */, FALSE },
  { "basic-tue-0700", "UTC", &kid_basic, 1748934000 /* 2025-06-03 07:00 */, TRUE },
  { "basic-tue-2029", "UTC", &kid_basic, 1748982599 /* 2025-06-03 20:29:59 */, TRUE },
  { "basic-tue-2030", "UTC", &kid_basic, 1748982600 /* 2025-06-03 20:30 */, FALSE },
  { "basic-sat-0730-weekend-override", "UTC", &kid_basic, 1749281400 /* 2025-06-07 07:30 */, FALSE },
  { "basic-sat-1159", "UTC", &kid_basic, 1749297540 /* 2025-06-07 11:59 */, TRUE },
  { "basic-sat-1200", "UTC", &kid_basic, 1749297600 /* 2025-06-07 12:00 */, FALSE },
  { "basic-sat-1400", "UTC", &kid_basic, 1749304800 /* 2025-06-07 14:00 */, TRUE },
  { "basic-sun-2159", "UTC", &kid_basic, 1749419940 /* 2025-06-08 21:59 */, TRUE },
  { "night-tue-2059", "UTC", &kid_night, 1748984399 /* 2025-06-03 20:59:59 */, FALSE },
  { "night-tue-2100", "UTC", &kid_night, 1748984400 /* 2025-06-03 21:00 */, TRUE },
  { "night-tue-2359", "UTC", &kid_night, 1748995199 /* 2025-06-03 23:59:59 */, TRUE },
  { "night-wed-0000", "UTC", &kid_night, 1748995200 /* 2025-06-04 00:00 */, TRUE },
  { "night-wed-0030", "UTC", &kid_night, 1748997000 /* 2025-06-04 00:30 */, TRUE },
  { "night-wed-0059", "UTC", &kid_night, 1748998799 /* 2025-06-04 00:59:59 */, TRUE },
  { "night-wed-0100", "UTC", &kid_night, 1748998800 /* 2025-06-04 01:00 */, FALSE },
  { "night-sat-0030-from-friday", "UTC", &kid_night, 1749256200 /* 2025-06-07 00:30 */, TRUE },
  { "night-sat-0100", "UTC", &kid_night, 1749258000 /* 2025-06-07 01:00 */, FALSE },
  { "night-sat-1100-override", "UTC", &kid_night, 1749294000 /* 2025-06-07 11:00 */, TRUE },
  { "night-sat-2130-override", "UTC", &kid_night, 1749331800 /* 2025-06-07 21:30 */, FALSE },
  { "night-sun-0030-saturday-no-wrap", "UTC", &kid_night, 1749342600 /* 2025-06-08 00:30 */, FALSE },
  { "night-mon-0030-sunday-never", "UTC", &kid_night, 1749429000 /* 2025-06-09 00:30 */, FALSE },
  { "night-mon-2100", "UTC", &kid_night, 1749502800 /* 2025-06-09 21:00 */, TRUE },
  { "never-noon", "UTC", &kid_never, 1748952000 /* 2025-06-03 12:00 */, FALSE },
  { "always-midnight", "UTC", &kid_always, 1748908800 /* 2025-06-03 00:00 */, TRUE },
  { "evening-2359", "UTC", &kid_evening, 1748995199 /* 2025-06-03 23:59:59 */, TRUE },
  { "evening-0159", "UTC", &kid_evening, 1749002340 /* 2025-06-04 01:59 */, TRUE },
  { "evening-0200", "UTC", &kid_evening, 1749002400 /* 2025-06-04 02:00 */, FALSE },
  { "multi-0759", "UTC", &kid_multi, 1748937540 /* 2025-06-03 07:59 */, TRUE },
  { "multi-1230", "UTC", &kid_multi, 1748953800 /* 2025-06-03 12:30 */, TRUE },
  { "multi-1700", "UTC", &kid_multi, 1748970000 /* 2025-06-03 17:00 */, FALSE },
  /* Local clock time counts, not UTC: 21:30 in Berlin is 19:30 UTC. */
  { "berlin-night-local-clock", "Europe/Berlin", &kid_night, 1748979000 /* 2025-06-03 21:30+02:00 */, TRUE },
  { "berlin-night-0130-local-not-utc", "Europe/Berlin", &kid_night, 1748993400 /* 2025-06-04 01:30+02:00 */, FALSE },
  { "berlin-spring-0159", "Europe/Berlin", &kid_late, 1743296340 /* 2025-03-30 01:59+01:00 */, TRUE },
  { "berlin-spring-0300", "Europe/Berlin", &kid_late, 1743296400 /* 2025-03-30 03:00+02:00 */, FALSE },
  { "berlin-fall-0245-first-pass", "Europe/Berlin", &kid_late, 1761439500 /* 2025-10-26 02:45+02:00 */, FALSE },
  { "berlin-fall-0215-second-pass", "Europe/Berlin", &kid_late, 1761441300 /* 2025-10-26 02:15+01:00 */, TRUE },
  { "newyork-spring-sunday-0759", "America/New_York", &kid_basic, 1741521540 /* 2025-03-09 07:59-04:00 */, FALSE },
  { "newyork-spring-sunday-0800", "America/New_York", &kid_basic, 1741521600 /* 2025-03-09 08:00-04:00 */, TRUE },
  { "newyork-fall-0130-second-pass", "America/New_York", &kid_late, 1762065000 /* 2025-11-02 01:30-05:00 */, TRUE },
};

static void
test_hours (gconstpointer data)
{
  const HoursCase *c = data;
  GTimeZone *tz = zone_new (c->zone);
  PdChild *child = child_new (c->kid);

  g_assert_cmpint (pd_in_allowed_hours (child, tz, c->now), ==, c->allowed);
  child_free (child);
  g_time_zone_unref (tz);
}

/* ---- pd_evaluate --------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *zone;
  const Kid *kid;
  const PdDaemonSettings *settings;
  gint64 now;
  gint64 used;
  gint64 bonus;
  gint64 locked_until;
  PdChildState state;
  gint64 limit;
  gint64 remaining;
  gboolean in_hours;
  gint64 allowed_until;
  gint64 next_change;
  const char *date;
  int weekday;
} EvalCase;

#define TUE_1000 1748944800 /* 2025-06-03 10:00 */
#define TUE_2030 1748982600 /* 2025-06-03 20:30 */
#define WED_0400 1749009600 /* 2025-06-04 04:00 */

static const EvalCase eval_cases[] = {
  /* Limits, bonus, warnings and grace on a school day (limit 1h30m). */
  { .name = "ok", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 1800,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 3600, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "warning-at-threshold", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 4500,
    .state = PD_STATE_WARNING, .limit = 5400, .remaining = 900, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "ok-one-second-above-threshold", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 4499,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 901, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "grace-at-zero", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 5400,
    .state = PD_STATE_GRACE, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "grace-last-second", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 5459,
    .state = PD_STATE_GRACE, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "exhausted-when-grace-is-over", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 5460,
    .state = PD_STATE_EXHAUSTED, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "remaining-clamped-at-zero", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 9000,
    .state = PD_STATE_EXHAUSTED, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "bonus-positive", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 5400, .bonus = 1800,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 1800, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "bonus-positive-grace", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 7230, .bonus = 1800,
    .state = PD_STATE_GRACE, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "bonus-negative", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 1800, .bonus = -3000,
    .state = PD_STATE_WARNING, .limit = 5400, .remaining = 600, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "bonus-negative-clamped", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 1800, .bonus = -5400,
    .state = PD_STATE_EXHAUSTED, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "grace-zero-means-no-grace", .zone = "UTC", .kid = &kid_basic, .settings = &grace_0,
    .now = TUE_1000, .used = 5400,
    .state = PD_STATE_EXHAUSTED, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "grace-5m-inside", .zone = "UTC", .kid = &kid_basic, .settings = &grace_5m,
    .now = TUE_1000, .used = 5699,
    .state = PD_STATE_GRACE, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "grace-5m-over", .zone = "UTC", .kid = &kid_basic, .settings = &grace_5m,
    .now = TUE_1000, .used = 5700,
    .state = PD_STATE_EXHAUSTED, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "warning-threshold-10m-not-yet", .zone = "UTC", .kid = &kid_basic, .settings = &warn_10m,
    .now = TUE_1000, .used = 4500,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 900, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "warning-threshold-10m", .zone = "UTC", .kid = &kid_basic, .settings = &warn_10m,
    .now = TUE_1000, .used = 4800,
    .state = PD_STATE_WARNING, .limit = 5400, .remaining = 600, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "no-warnings-configured", .zone = "UTC", .kid = &kid_basic, .settings = &no_warnings,
    .now = 1748982540 /* 2025-06-03 20:29 */, .used = 5340,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 60, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  /* The end of allowed hours warns like the end of the allowance. */
  { .name = "warning-hours-ending", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1748981700 /* 2025-06-03 20:15 */, .used = 0,
    .state = PD_STATE_WARNING, .limit = 5400, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "ok-hours-ending-later", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1748981699 /* 2025-06-03 20:14:59 */, .used = 0,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  /* Outside hours: the next change is the next start or the day's end. */
  { .name = "outside-evening-next-is-day-end", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_2030,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 5400, .remaining = 5400, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "outside-morning-next-is-start", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1749013200 /* 2025-06-04 05:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 5400, .remaining = 5400, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749020400 /* 2025-06-04 07:00 */, .date = "2025-06-04", .weekday = 2 },
  { .name = "outside-beats-exhausted", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1749013200 /* 2025-06-04 05:00 */, .used = 9000,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 5400, .remaining = 0, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749020400 /* 2025-06-04 07:00 */, .date = "2025-06-04", .weekday = 2 },
  { .name = "weekend-limit", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1749290400 /* 2025-06-07 10:00 */, .used = 5400,
    .state = PD_STATE_OK, .limit = 10800, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = 1749297600 /* 2025-06-07 12:00 */, .next_change = 1749297600 /* 2025-06-07 12:00 */,
    .date = "2025-06-07", .weekday = 5 },
  { .name = "weekend-between-ranges", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1749301200 /* 2025-06-07 13:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 10800, .remaining = 10800, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749304800 /* 2025-06-07 14:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "weekend-late", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1749333600 /* 2025-06-07 22:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 10800, .remaining = 10800, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749355200 /* 2025-06-08 04:00 */, .date = "2025-06-07", .weekday = 5 },
  /* The limit follows the policy day: Saturday 03:59 still uses Friday's. */
  { .name = "limit-of-policy-day-friday", .zone = "UTC", .kid = &kid_split, .settings = &defaults,
    .now = 1749268799 /* 2025-06-07 03:59:59 */,
    .state = PD_STATE_OK, .limit = 3600, .remaining = 3600, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1749268800 /* 2025-06-07 04:00 */, .date = "2025-06-06", .weekday = 4 },
  { .name = "limit-of-policy-day-saturday", .zone = "UTC", .kid = &kid_split, .settings = &defaults,
    .now = 1749268800 /* 2025-06-07 04:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1749355200 /* 2025-06-08 04:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "limit-midnight-day-saturday", .zone = "UTC", .kid = &kid_split, .settings = &midnight,
    .now = 1749256200 /* 2025-06-07 00:30 */, .used = 600,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 6600, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1749340800 /* 2025-06-08 00:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "midnight-day-outside", .zone = "UTC", .kid = &kid_basic, .settings = &midnight,
    .now = 1748991600 /* 2025-06-03 23:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 5400, .remaining = 5400, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1748995200 /* 2025-06-04 00:00 */, .date = "2025-06-03", .weekday = 1 },
  /* Lock-outs. */
  { .name = "locked-out", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .locked_until = 1748946600 /* 2025-06-03 10:30 */,
    .state = PD_STATE_LOCKED_OUT, .limit = 5400, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = 1748946600 /* 2025-06-03 10:30 */, .date = "2025-06-03", .weekday = 1 },
  { .name = "lock-out-just-expired", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .locked_until = TUE_1000,
    .state = PD_STATE_OK, .limit = 5400, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "lock-out-past-hours-end", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1748980800 /* 2025-06-03 20:00 */, .locked_until = 1748983500 /* 2025-06-03 20:45 */,
    .state = PD_STATE_LOCKED_OUT, .limit = 5400, .remaining = 5400, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = TUE_2030, .date = "2025-06-03", .weekday = 1 },
  { .name = "lock-out-past-day-end", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = 1748984400 /* 2025-06-03 21:00 */, .locked_until = 1749016800 /* 2025-06-04 06:00 */,
    .state = PD_STATE_LOCKED_OUT, .limit = 5400, .remaining = 5400, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "lock-out-beats-exhausted", .zone = "UTC", .kid = &kid_basic, .settings = &defaults,
    .now = TUE_1000, .used = 9000, .locked_until = 1748948400 /* 2025-06-03 11:00 */,
    .state = PD_STATE_LOCKED_OUT, .limit = 5400, .remaining = 0, .in_hours = TRUE,
    .allowed_until = TUE_2030, .next_change = 1748948400 /* 2025-06-03 11:00 */, .date = "2025-06-03", .weekday = 1 },
  /* No daily limit. */
  { .name = "unlimited", .zone = "UTC", .kid = &kid_always, .settings = &defaults,
    .now = TUE_1000, .used = 50000,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-ignores-bonus", .zone = "UTC", .kid = &kid_always, .settings = &defaults,
    .now = TUE_1000, .bonus = -600,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-locked-out", .zone = "UTC", .kid = &kid_always, .settings = &defaults,
    .now = TUE_1000, .locked_until = 1749031200 /* 2025-06-04 10:00 */,
    .state = PD_STATE_LOCKED_OUT, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-hours-far", .zone = "UTC", .kid = &kid_unl_hours, .settings = &defaults,
    .now = 1748977200 /* 2025-06-03 19:00 */,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1748980800 /* 2025-06-03 20:00 */, .next_change = 1748980800 /* 2025-06-03 20:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-hours-warning", .zone = "UTC", .kid = &kid_unl_hours, .settings = &defaults,
    .now = 1748979900 /* 2025-06-03 19:45 */,
    .state = PD_STATE_WARNING, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1748980800 /* 2025-06-03 20:00 */, .next_change = 1748980800 /* 2025-06-03 20:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-hours-no-warnings", .zone = "UTC", .kid = &kid_unl_hours, .settings = &no_warnings,
    .now = 1748980740 /* 2025-06-03 19:59 */,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1748980800 /* 2025-06-03 20:00 */, .next_change = 1748980800 /* 2025-06-03 20:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "unlimited-outside", .zone = "UTC", .kid = &kid_unl_hours, .settings = &defaults,
    .now = 1748980800 /* 2025-06-03 20:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = UNL, .remaining = UNL, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "never", .zone = "UTC", .kid = &kid_never, .settings = &defaults,
    .now = 1748952000 /* 2025-06-03 12:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 3600, .remaining = 3600, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  /* Ranges past midnight. */
  { .name = "night-tue-2200", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1748988000 /* 2025-06-03 22:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1748998800 /* 2025-06-04 01:00 */, .next_change = 1748998800 /* 2025-06-04 01:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "night-wed-0030", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1748997000 /* 2025-06-04 00:30 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1748998800 /* 2025-06-04 01:00 */, .next_change = 1748998800 /* 2025-06-04 01:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "night-wed-0050-warning", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1748998200 /* 2025-06-04 00:50 */,
    .state = PD_STATE_WARNING, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1748998800 /* 2025-06-04 01:00 */, .next_change = 1748998800 /* 2025-06-04 01:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "night-wed-0100", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1748998800 /* 2025-06-04 01:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 7200, .remaining = 7200, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "night-sat-0030-from-friday", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1749256200 /* 2025-06-07 00:30 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1749258000 /* 2025-06-07 01:00 */, .next_change = 1749258000 /* 2025-06-07 01:00 */,
    .date = "2025-06-06", .weekday = 4 },
  { .name = "night-sat-0500-override-starts", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1749272400 /* 2025-06-07 05:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 7200, .remaining = 7200, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749290400 /* 2025-06-07 10:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "night-sat-1200", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1749297600 /* 2025-06-07 12:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 7200, .remaining = 7200, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749355200 /* 2025-06-08 04:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "night-sun-0030", .zone = "UTC", .kid = &kid_night, .settings = &defaults,
    .now = 1749342600 /* 2025-06-08 00:30 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 7200, .remaining = 7200, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749355200 /* 2025-06-08 04:00 */, .date = "2025-06-07", .weekday = 5 },
  { .name = "evening-span-over-midnight", .zone = "UTC", .kid = &kid_evening, .settings = &defaults,
    .now = 1748984400 /* 2025-06-03 21:00 */,
    .state = PD_STATE_OK, .limit = 14400, .remaining = 14400, .in_hours = TRUE,
    .allowed_until = 1749002400 /* 2025-06-04 02:00 */, .next_change = 1749002400 /* 2025-06-04 02:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "evening-midnight-is-no-end", .zone = "UTC", .kid = &kid_evening, .settings = &defaults,
    .now = 1748994600 /* 2025-06-03 23:50 */,
    .state = PD_STATE_OK, .limit = 14400, .remaining = 14400, .in_hours = TRUE,
    .allowed_until = 1749002400 /* 2025-06-04 02:00 */, .next_change = 1749002400 /* 2025-06-04 02:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "weekend-always-span", .zone = "UTC", .kid = &kid_weekend_always, .settings = &defaults,
    .now = 1749297600 /* 2025-06-07 12:00 */,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1749427200 /* 2025-06-09 00:00 */, .next_change = 1749355200 /* 2025-06-08 04:00 */,
    .date = "2025-06-07", .weekday = 5 },
  { .name = "weekend-always-friday-warning", .zone = "UTC", .kid = &kid_weekend_always,
    .settings = &defaults, .now = 1749239400 /* 2025-06-06 19:50 */,
    .state = PD_STATE_WARNING, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1749240000 /* 2025-06-06 20:00 */, .next_change = 1749240000 /* 2025-06-06 20:00 */,
    .date = "2025-06-06", .weekday = 4 },
  { .name = "multi-between-ranges", .zone = "UTC", .kid = &kid_multi, .settings = &defaults,
    .now = 1748941200 /* 2025-06-03 09:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 3600, .remaining = 3600, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1748952000 /* 2025-06-03 12:00 */, .date = "2025-06-03", .weekday = 1 },
  { .name = "multi-in-second-range", .zone = "UTC", .kid = &kid_multi, .settings = &defaults,
    .now = 1748953800 /* 2025-06-03 12:30 */,
    .state = PD_STATE_OK, .limit = 3600, .remaining = 3600, .in_hours = TRUE,
    .allowed_until = 1748955600 /* 2025-06-03 13:00 */, .next_change = 1748955600 /* 2025-06-03 13:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "multi-after-last-range", .zone = "UTC", .kid = &kid_multi, .settings = &defaults,
    .now = 1748980800 /* 2025-06-03 20:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 3600, .remaining = 3600, .in_hours = FALSE,
    .allowed_until = 0, .next_change = WED_0400, .date = "2025-06-03", .weekday = 1 },
  { .name = "multi-new-day-before-first", .zone = "UTC", .kid = &kid_multi, .settings = &defaults,
    .now = 1749011400 /* 2025-06-04 04:30 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 3600, .remaining = 3600, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749020400 /* 2025-06-04 07:00 */, .date = "2025-06-04", .weekday = 2 },
  /* A span of almost a week still ends within the 8 days looked ahead. */
  { .name = "almost-week-span", .zone = "UTC", .kid = &kid_almost, .settings = &defaults,
    .now = 1749006060 /* 2025-06-04 03:01 */,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1749610800 /* 2025-06-11 03:00 */, .next_change = WED_0400,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "almost-week-span-ending", .zone = "UTC", .kid = &kid_almost, .settings = &defaults,
    .now = 1749005400 /* 2025-06-04 02:50 */,
    .state = PD_STATE_WARNING, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1749006000 /* 2025-06-04 03:00 */, .next_change = 1749006000 /* 2025-06-04 03:00 */,
    .date = "2025-06-03", .weekday = 1 },
  { .name = "almost-week-the-one-minute", .zone = "UTC", .kid = &kid_almost, .settings = &defaults,
    .now = 1749006030 /* 2025-06-04 03:00:30 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = UNL, .remaining = UNL, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1749006060 /* 2025-06-04 03:01 */, .date = "2025-06-03", .weekday = 1 },
  /* Seven days and one hour across the fall-back. */
  { .name = "berlin-almost-week-span-over-fall-back", .zone = "Europe/Berlin", .kid = &kid_almost,
    .settings = &defaults, .now = 1761094860 /* 2025-10-22 03:01+02:00 */,
    .state = PD_STATE_UNLIMITED, .limit = UNL, .remaining = UNL, .in_hours = TRUE,
    .allowed_until = 1761703200 /* 2025-10-29 03:00+01:00 */, .next_change = 1761098400 /* 2025-10-22 04:00+02:00 */,
    .date = "2025-10-21", .weekday = 1 },
  /* DST in Berlin: days of 23 and 25 hours, hours across the gap. */
  { .name = "berlin-spring-day-end-23h", .zone = "Europe/Berlin", .kid = &kid_split,
    .settings = &defaults, .now = 1743246000 /* 2025-03-29 12:00+01:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1743300000 /* 2025-03-30 04:00+02:00 */, .date = "2025-03-29", .weekday = 5 },
  { .name = "berlin-fall-day-end-25h", .zone = "Europe/Berlin", .kid = &kid_split,
    .settings = &defaults, .now = 1761442200 /* 2025-10-26 02:30+01:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1761447600 /* 2025-10-26 04:00+01:00 */, .date = "2025-10-25", .weekday = 5 },
  /* 02:30 is skipped; the clock jumps from 02:00 to 03:00, past the end. */
  { .name = "berlin-spring-hours-end-in-gap", .zone = "Europe/Berlin", .kid = &kid_late,
    .settings = &defaults, .now = 1743294600 /* 2025-03-30 01:30+01:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1743296400 /* 2025-03-30 03:00+02:00 */, .next_change = 1743296400 /* 2025-03-30 03:00+02:00 */,
    .date = "2025-03-29", .weekday = 5 },
  /* 02:00-02:30 happens twice; the end comes first at the first 02:30. */
  { .name = "berlin-fall-hours-end-first-pass", .zone = "Europe/Berlin", .kid = &kid_late,
    .settings = &defaults, .now = 1761437700 /* 2025-10-26 02:15+02:00 */,
    .state = PD_STATE_WARNING, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1761438600 /* 2025-10-26 02:30+02:00 */, .next_change = 1761438600 /* 2025-10-26 02:30+02:00 */,
    .date = "2025-10-25", .weekday = 5 },
  { .name = "berlin-fall-hours-again-second-pass", .zone = "Europe/Berlin", .kid = &kid_late,
    .settings = &defaults, .now = 1761439500 /* 2025-10-26 02:45+02:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 7200, .remaining = 7200, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1761440400 /* 2025-10-26 02:00+01:00 */, .date = "2025-10-25", .weekday = 5 },
  { .name = "berlin-fall-hours-second-pass", .zone = "Europe/Berlin", .kid = &kid_late,
    .settings = &defaults, .now = 1761441000 /* 2025-10-26 02:10+01:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1761442200 /* 2025-10-26 02:30+01:00 */, .next_change = 1761442200 /* 2025-10-26 02:30+01:00 */,
    .date = "2025-10-25", .weekday = 5 },
  { .name = "berlin-start-in-gap", .zone = "Europe/Berlin", .kid = &kid_split,
    .settings = &start_0230, .now = 1743296340 /* 2025-03-30 01:59+01:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1743296400 /* 2025-03-30 03:00+02:00 */, .date = "2025-03-29", .weekday = 5 },
  /* DST in New York. */
  { .name = "newyork-spring-sunday-gap", .zone = "America/New_York", .kid = &kid_basic,
    .settings = &defaults, .now = 1741537800 /* 2025-03-09 12:30-04:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 10800, .remaining = 10800, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1741543200 /* 2025-03-09 14:00-04:00 */, .date = "2025-03-09", .weekday = 6 },
  { .name = "newyork-spring-before-day-start", .zone = "America/New_York", .kid = &kid_basic,
    .settings = &defaults, .now = 1741505400 /* 2025-03-09 03:30-04:00 */,
    .state = PD_STATE_OUTSIDE_HOURS, .limit = 10800, .remaining = 10800, .in_hours = FALSE,
    .allowed_until = 0, .next_change = 1741507200 /* 2025-03-09 04:00-04:00 */, .date = "2025-03-08", .weekday = 5 },
  { .name = "newyork-spring-hours-end-in-gap", .zone = "America/New_York", .kid = &kid_late,
    .settings = &defaults, .now = 1741502700 /* 2025-03-09 01:45-05:00 */,
    .state = PD_STATE_WARNING, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1741503600 /* 2025-03-09 03:00-04:00 */, .next_change = 1741503600 /* 2025-03-09 03:00-04:00 */,
    .date = "2025-03-08", .weekday = 5 },
  { .name = "newyork-fall-day-end-25h", .zone = "America/New_York", .kid = &kid_split,
    .settings = &defaults, .now = 1762065000 /* 2025-11-02 01:30-05:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 0, .next_change = 1762074000 /* 2025-11-02 04:00-05:00 */, .date = "2025-11-01", .weekday = 5 },
  /* 01:45 EDT to 02:30 EST is one span across the repeated hour. */
  { .name = "newyork-fall-hours-span-repeated-hour", .zone = "America/New_York", .kid = &kid_late,
    .settings = &defaults, .now = 1762062300 /* 2025-11-02 01:45-04:00 */,
    .state = PD_STATE_OK, .limit = 7200, .remaining = 7200, .in_hours = TRUE,
    .allowed_until = 1762068600 /* 2025-11-02 02:30-05:00 */, .next_change = 1762068600 /* 2025-11-02 02:30-05:00 */,
    .date = "2025-11-01", .weekday = 5 },
};

static void
test_eval (gconstpointer data)
{
  const EvalCase *c = data;
  GTimeZone *tz = zone_new (c->zone);
  PdChild *child = child_new (c->kid);
  PdUsage usage = { .used = c->used, .bonus = c->bonus, .locked_until = c->locked_until };
  PdVerdict v;

  pd_evaluate (c->settings, child, &usage, c->now, tz, &v);
  g_assert_cmpstr (pd_state_to_string (v.state), ==, pd_state_to_string (c->state));
  g_assert_cmpint (v.limit_today, ==, c->limit);
  g_assert_cmpint (v.remaining_today, ==, c->remaining);
  g_assert_cmpint (v.in_allowed_hours, ==, c->in_hours);
  g_assert_cmpint (v.allowed_until, ==, c->allowed_until);
  g_assert_cmpint (v.next_change, ==, c->next_change);
  g_assert_cmpstr (v.day.date, ==, c->date);
  g_assert_cmpint (v.day.weekday, ==, c->weekday);
  child_free (child);
  g_time_zone_unref (tz);
}

/* ---- sweeps: the edge walk against a minute-by-minute scan --------------------- */

typedef struct {
  const char *name;
  const char *zone;
  const Kid *kid;
  const PdDaemonSettings *settings;
  gint64 from;    /* a local midnight a few days before a DST change */
} SweepCase;

#define SWEEP_MINUTES (10 * 1440)
#define SWEEP_SAMPLES (2 * 1440)

static const SweepCase sweep_cases[] = {
  { "berlin-spring/late", "Europe/Berlin", &kid_late, &defaults, 1743202800 /* 2025-03-29 00:00+01:00 */ },
  { "berlin-spring/night", "Europe/Berlin", &kid_night, &start_0230, 1743202800 /* 2025-03-29 00:00+01:00 */ },
  { "berlin-spring/evening", "Europe/Berlin", &kid_evening, &midnight, 1743202800 /* 2025-03-29 00:00+01:00 */ },
  { "berlin-fall/late", "Europe/Berlin", &kid_late, &start_0230, 1761343200 /* 2025-10-25 00:00+02:00 */ },
  { "berlin-fall/basic", "Europe/Berlin", &kid_basic, &defaults, 1761343200 /* 2025-10-25 00:00+02:00 */ },
  { "berlin-fall/weekend-always", "Europe/Berlin", &kid_weekend_always, &defaults,
    1761343200 /* 2025-10-25 00:00+02:00 */ },
  { "newyork-spring/late", "America/New_York", &kid_late, &defaults, 1741410000 /* 2025-03-08 00:00-05:00 */ },
  { "newyork-spring/multi", "America/New_York", &kid_multi, &start_0230, 1741410000 /* 2025-03-08 00:00-05:00 */ },
  { "newyork-fall/late", "America/New_York", &kid_late, &start_0130, 1761969600 /* 2025-11-01 00:00-04:00 */ },
  { "newyork-fall/night", "America/New_York", &kid_night, &midnight, 1761969600 /* 2025-11-01 00:00-04:00 */ },
  { "utc/weekend-always", "UTC", &kid_weekend_always, &defaults, 1749081600 /* 2025-06-05 00:00 */ },
  { "utc/always", "UTC", &kid_always, &defaults, 1749081600 /* 2025-06-05 00:00 */ },
  { "berlin-fall/almost", "Europe/Berlin", &kid_almost, &defaults, 1761343200 /* 2025-10-25 00:00+02:00 */ },
  { "posix-fall-over-midnight/evening", FALL_OVER_MIDNIGHT, &kid_evening, &midnight,
    1762048800 /* 2025-11-02 00:00-02:00 */ },
};

static void
check_day_continuity (const PdDaemonSettings *settings, GTimeZone *tz, const PdDay *day)
{
  PdDay next, prev;

  g_assert_cmpint (day->end - day->start, >=, 23 * 3600);
  g_assert_cmpint (day->end - day->start, <=, 25 * 3600);
  pd_day_at (settings, tz, day->end, &next);
  g_assert_cmpint (next.start, ==, day->end);
  g_assert_cmpint (next.weekday, ==, (day->weekday + 1) % PD_DAYS);
  pd_day_at (settings, tz, day->start - 1, &prev);
  g_assert_cmpint (prev.end, ==, day->start);
}

static void
test_sweep (gconstpointer data)
{
  const SweepCase *c = data;
  GTimeZone *tz = zone_new (c->zone);
  PdChild *child = child_new (c->kid);
  PdUsage usage = { 0 };
  gboolean *allowed = g_new (gboolean, SWEEP_MINUTES);
  int *next_flip = g_new (int, SWEEP_MINUTES);

  for (int i = 0; i < SWEEP_MINUTES; i++)
    allowed[i] = pd_in_allowed_hours (child, tz, c->from + 60 * i);
  next_flip[SWEEP_MINUTES - 1] = -1;
  for (int i = SWEEP_MINUTES - 2; i >= 0; i--)
    next_flip[i] = allowed[i + 1] != allowed[i] ? i + 1 : next_flip[i + 1];

  for (int i = 0; i < SWEEP_SAMPLES; i++)
    {
      gint64 now = c->from + 60 * i + (i * 37) % 60;
      gint64 flip = next_flip[i] < 0 ? 0 : c->from + 60 * (gint64) next_flip[i];
      PdVerdict v;

      if (flip - now > HORIZON)
        flip = 0;
      pd_evaluate (c->settings, child, &usage, now, tz, &v);
      g_assert_cmpint (v.in_allowed_hours, ==, allowed[i]);
      g_assert_cmpint (v.allowed_until, ==, allowed[i] ? flip : 0);
      g_assert_cmpint (v.next_change, ==, flip != 0 ? MIN (flip, v.day.end) : v.day.end);
      g_assert_cmpint (v.day.start, <=, now);
      if (i % 60 == 0)
        check_day_continuity (c->settings, tz, &v.day);
    }

  g_free (next_flip);
  g_free (allowed);
  child_free (child);
  g_time_zone_unref (tz);
}

/* ---- pd_evaluate_app ------------------------------------------------------------- */

enum { APP_GAMES, APP_CHAT, APP_HOMEWORK, APP_VIDEO, APP_TV, APP_FORUM, APP_EDITOR, APP_OTHER };

typedef struct {
  const char *name;
  guint app;
  gint64 used;
  int weekday;
  PdAppState state;
  gint64 limit;
} AppCase;

static const AppCase app_cases[] = {
  { "games-unused", APP_GAMES, 0, 1, PD_APP_OK, 2700 },
  { "games-one-second-left", APP_GAMES, 2699, 1, PD_APP_OK, 2700 },
  { "games-exactly-at-limit", APP_GAMES, 2700, 1, PD_APP_EXHAUSTED, 2700 },
  { "games-over-limit", APP_GAMES, 5000, 4, PD_APP_EXHAUSTED, 2700 },
  { "games-saturday-limit", APP_GAMES, 2700, 5, PD_APP_OK, 7200 },
  { "games-sunday-exhausted", APP_GAMES, 7200, 6, PD_APP_EXHAUSTED, 7200 },
  { "chat-blocked", APP_CHAT, 0, 1, PD_APP_BLOCKED, UNL },
  { "homework-always-allowed", APP_HOMEWORK, 99999, 1, PD_APP_ALWAYS_ALLOWED, 600 },
  { "video-below", APP_VIDEO, 1799, 0, PD_APP_OK, 1800 },
  { "video-at-limit", APP_VIDEO, 1800, 0, PD_APP_EXHAUSTED, 1800 },
  { "video-unlimited-sunday", APP_VIDEO, 90000, 6, PD_APP_OK, UNL },
  { "tv-zero-limit", APP_TV, 0, 3, PD_APP_EXHAUSTED, 0 },
  { "forum-blocked-beats-limit", APP_FORUM, 0, 1, PD_APP_BLOCKED, 600 },
  { "editor-always-beats-blocked", APP_EDITOR, 0, 1, PD_APP_ALWAYS_ALLOWED, UNL },
  { "other-no-limit", APP_OTHER, 123456, 2, PD_APP_OK, UNL },
};

static PdChild *
app_child_new (void)
{
  static const PdAppLimit limits[] = {
    { APP_GAMES, WEEK (2700, 7200) },
    { APP_HOMEWORK, EVERY (600) },
    { APP_VIDEO, { 1800, 1800, 1800, 1800, 1800, 1800, UNL } },
    { APP_TV, EVERY (0) },
    { APP_FORUM, EVERY (600) },
  };
  static const guint blocked[] = { APP_CHAT, APP_FORUM, APP_EDITOR };
  static const guint always[] = { APP_HOMEWORK, APP_EDITOR };
  PdChild *child = child_new (&kid_always);

  g_array_append_vals (child->app_limits, limits, G_N_ELEMENTS (limits));
  g_array_append_vals (child->blocked_apps, blocked, G_N_ELEMENTS (blocked));
  g_array_append_vals (child->always_allowed, always, G_N_ELEMENTS (always));
  return child;
}

static void
test_app (gconstpointer data)
{
  const AppCase *c = data;
  PdChild *child = app_child_new ();
  gint64 limit = 12345;
  PdAppState state;

  state = pd_evaluate_app (child, c->app, c->used, c->weekday, &limit);
  g_assert_cmpstr (pd_app_state_to_string (state), ==, pd_app_state_to_string (c->state));
  g_assert_cmpint (limit, ==, c->limit);
  g_assert_cmpint (pd_evaluate_app (child, c->app, c->used, c->weekday, NULL), ==, c->state);
  child_free (child);
}

/* ---- names and preconditions --------------------------------------------------- */

typedef struct {
  int value;
  const char *name;
} NameCase;

static const NameCase state_names[] = {
  { PD_STATE_OK, "ok" }, { PD_STATE_WARNING, "warning" }, { PD_STATE_GRACE, "grace" },
  { PD_STATE_EXHAUSTED, "exhausted" }, { PD_STATE_OUTSIDE_HOURS, "outside-hours" },
  { PD_STATE_LOCKED_OUT, "locked-out" }, { PD_STATE_UNLIMITED, "unlimited" },
};

static const NameCase app_state_names[] = {
  { PD_APP_OK, "ok" }, { PD_APP_EXHAUSTED, "exhausted" }, { PD_APP_BLOCKED, "blocked" },
  { PD_APP_ALWAYS_ALLOWED, "always-allowed" },
};

static void
test_state_name (gconstpointer data)
{
  const NameCase *c = data;

  g_assert_cmpstr (pd_state_to_string ((PdChildState) c->value), ==, c->name);
}

static void
test_app_state_name (gconstpointer data)
{
  const NameCase *c = data;

  g_assert_cmpstr (pd_app_state_to_string ((PdAppState) c->value), ==, c->name);
}

static void
test_bad_weekday (void)
{
  PdChild *child = app_child_new ();

  g_test_expect_message ("parentd", G_LOG_LEVEL_CRITICAL, "*weekday*");
  g_assert_cmpint (pd_evaluate_app (child, APP_GAMES, 0, PD_DAYS, NULL), ==, PD_APP_OK);
  g_test_assert_expected_messages ();
  child_free (child);
}

static void
test_bad_state (void)
{
  g_test_expect_message ("parentd", G_LOG_LEVEL_CRITICAL, "*should not be reached*");
  g_assert_null (pd_state_to_string ((PdChildState) 99));
  g_test_assert_expected_messages ();
  g_test_expect_message ("parentd", G_LOG_LEVEL_CRITICAL, "*should not be reached*");
  g_assert_null (pd_app_state_to_string ((PdAppState) 99));
  g_test_assert_expected_messages ();
}

static void
test_bad_day_start (void)
{
  PdDaemonSettings settings = defaults;
  GTimeZone *tz = zone_new ("UTC");
  PdDay day = { .start = 7 };

  settings.day_starts_at = PD_MINUTES_PER_DAY;
  g_test_expect_message ("parentd", G_LOG_LEVEL_CRITICAL, "*day_starts_at*");
  pd_day_at (&settings, tz, 0, &day);
  g_test_assert_expected_messages ();
  g_assert_cmpint (day.start, ==, 7);
  g_time_zone_unref (tz);
}

#define ADD_TABLE(prefix, table, func)                                        \
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)                            \
    {                                                                         \
      g_autofree char *path = g_strconcat (prefix, (table)[i].name, NULL);    \
      g_test_add_data_func (path, &(table)[i], func);                         \
    }

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD_TABLE ("/eval/day/", day_cases, test_day);
  ADD_TABLE ("/eval/hours/", hours_cases, test_hours);
  ADD_TABLE ("/eval/state/", eval_cases, test_eval);
  ADD_TABLE ("/eval/sweep/", sweep_cases, test_sweep);
  ADD_TABLE ("/eval/app/", app_cases, test_app);
  ADD_TABLE ("/eval/name/state/", state_names, test_state_name);
  ADD_TABLE ("/eval/name/app-state/", app_state_names, test_app_state_name);
  g_test_add_func ("/eval/precondition/app-weekday", test_bad_weekday);
  g_test_add_func ("/eval/precondition/unknown-state", test_bad_state);
  g_test_add_func ("/eval/precondition/day-starts-at", test_bad_day_start);

  return g_test_run ();
}
