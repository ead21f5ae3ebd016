/* Evaluation of a child's policy at one moment: the policy day, allowed
 * hours, time left, the state and the next moment anything changes. Pure:
 * time and time zone are arguments. */
#include "config.h"

#include <string.h>

#include "policy/eval.h"

#define SECONDS_PER_DAY ((gint64) 86400)
/* How far ahead an allowed span's end is looked for; beyond it the span
 * counts as never ending (e.g. "always" on every day). */
#define HORIZON (8 * SECONDS_PER_DAY)
/* GDate's Julian day number of 1970-01-01, which was a Thursday. */
#define EPOCH_JULIAN 719163
#define EPOCH_WEEKDAY 3

static gint64
floor_div (gint64 a, gint64 b)
{
  return a / b - (a % b < 0 ? 1 : 0);
}

static gint64
floor_mod (gint64 a, gint64 b)
{
  return a - floor_div (a, b) * b;
}

/* Local wall-clock time at instant t, as seconds since the local epoch. */
static gint64
wall_at (GTimeZone *tz, gint64 t)
{
  int interval = g_time_zone_find_interval (tz, G_TIME_TYPE_UNIVERSAL, t);

  return t + g_time_zone_get_offset (tz, interval);
}

/* The instant at which the wall clock shows wall. A time skipped by a DST
 * gap becomes the first instant after the gap; a time that happens twice
 * becomes its first occurrence (DST still in force), because that is when
 * the clock first shows it. */
static gint64
unix_at_wall (GTimeZone *tz, gint64 wall)
{
  int interval = g_time_zone_adjust_time (tz, G_TIME_TYPE_DAYLIGHT, &wall);

  return wall - g_time_zone_get_offset (tz, interval);
}

static int
weekday_of (gint64 days)
{
  return (int) floor_mod (days + EPOCH_WEEKDAY, PD_DAYS);
}

/* Start of the policy day that begins on local date `days` (since epoch). */
static gint64
day_start (const PdDaemonSettings *settings, GTimeZone *tz, gint64 days)
{
  return unix_at_wall (tz, days * SECONDS_PER_DAY + settings->day_starts_at * 60);
}

void
pd_day_at (const PdDaemonSettings *settings, GTimeZone *tz, gint64 now, PdDay *out)
{
  gint64 days;
  GDate date;

  g_return_if_fail (settings != NULL);
  g_return_if_fail (settings->day_starts_at >= 0 && settings->day_starts_at < PD_MINUTES_PER_DAY);
  g_return_if_fail (tz != NULL);
  g_return_if_fail (out != NULL);

  /* Compare instants, not clock times: after a fall-back the clock may show
   * a time before day_starts_at again although the day has begun. */
  days = floor_div (wall_at (tz, now), SECONDS_PER_DAY);
  while (now < day_start (settings, tz, days))
    days--;
  while (now >= day_start (settings, tz, days + 1))
    days++;
  out->start = day_start (settings, tz, days);
  out->end = day_start (settings, tz, days + 1);
  out->weekday = weekday_of (days);

  g_date_clear (&date, 1);
  g_date_set_julian (&date, (guint32) (days + EPOCH_JULIAN));
  g_snprintf (out->date, sizeof out->date, "%04d-%02d-%02d", (int) g_date_get_year (&date),
              (int) g_date_get_month (&date), (int) g_date_get_day (&date));

  g_assert (out->start <= now && now < out->end);
}

/* Whether minute m of a calendar day with weekday w is allowed. */
static gboolean
hours_allow (const PdHours hours[PD_DAYS], int w, int m)
{
  const PdHours *today = &hours[w];
  const PdHours *yesterday = &hours[(w + PD_DAYS - 1) % PD_DAYS];

  for (guint i = 0; i < today->n_ranges; i++)
    {
      const PdRange *r = &today->ranges[i];

      if (r->end < r->start ? m >= r->start : (m >= r->start && m < r->end))
        return TRUE;
    }
  /* A range that runs past midnight belongs to the day it starts on. */
  for (guint i = 0; i < yesterday->n_ranges; i++)
    {
      const PdRange *r = &yesterday->ranges[i];

      if (r->end < r->start && m < r->end)
        return TRUE;
    }
  return FALSE;
}

static gboolean
allowed_at_wall (const PdChild *child, gint64 wall)
{
  gint64 days = floor_div (wall, SECONDS_PER_DAY);
  int minute = (int) (floor_mod (wall, SECONDS_PER_DAY) / 60);

  return hours_allow (child->allowed_hours, weekday_of (days), minute);
}

gboolean
pd_in_allowed_hours (const PdChild *child, GTimeZone *tz, gint64 now)
{
  g_return_val_if_fail (child != NULL, FALSE);
  g_return_val_if_fail (tz != NULL, FALSE);

  return allowed_at_wall (child, wall_at (tz, now));
}

static int
earliest_after (const PdHours *hours, int m, int best)
{
  for (guint i = 0; i < hours->n_ranges; i++)
    {
      if (hours->ranges[i].start > m && hours->ranges[i].start < best)
        best = hours->ranges[i].start;
      if (hours->ranges[i].end > m && hours->ranges[i].end < best)
        best = hours->ranges[i].end;
    }
  return best;
}

/* The first clock minute after m on weekday w at which allowedness may
 * change: any range edge of that day or the day before, or midnight. Extra
 * candidates only cost a step; a missing one would be a bug. */
static int
next_edge_minute (const PdHours hours[PD_DAYS], int w, int m)
{
  int best = earliest_after (&hours[w], m, PD_MINUTES_PER_DAY);

  return earliest_after (&hours[(w + PD_DAYS - 1) % PD_DAYS], m, best);
}

/* The first instant in (lo, hi] whose UTC offset differs from lo's, given
 * that hi's does. */
static gint64
offset_change_in (GTimeZone *tz, gint64 lo, gint64 hi)
{
  gint64 offset = wall_at (tz, lo) - lo;

  while (hi - lo > 1)
    {
      gint64 mid = lo + (hi - lo) / 2;

      if (wall_at (tz, mid) - mid == offset)
        lo = mid;
      else
        hi = mid;
    }
  return hi;
}

/* The first instant after now at which being inside allowed hours changes,
 * or 0 if it does not within HORIZON. Walks from clock edge to clock edge;
 * a UTC offset change on the way is a step of its own, since the clock
 * jumps there and may skip or repeat an edge. */
static gint64
next_hours_change (const PdChild *child, GTimeZone *tz, gint64 now)
{
  gboolean allowed_now = pd_in_allowed_hours (child, tz, now);
  gint64 t = now;

  while (t - now <= HORIZON)
    {
      gint64 wall = wall_at (tz, t);
      gint64 second_of_day = floor_mod (wall, SECONDS_PER_DAY);
      int w = weekday_of (floor_div (wall, SECONDS_PER_DAY));
      int edge = next_edge_minute (child->allowed_hours, w, (int) (second_of_day / 60));
      gint64 next = t + edge * 60 - second_of_day;

      if (wall_at (tz, next) - next != wall - t)
        next = offset_change_in (tz, t, next);
      t = next;
      if (t - now <= HORIZON && allowed_at_wall (child, wall_at (tz, t)) != allowed_now)
        return t;
    }
  return 0;
}

static gboolean
within_warning (const PdDaemonSettings *settings, gint64 seconds_left)
{
  return settings->n_warnings > 0 && seconds_left <= settings->warnings[0];
}

static PdChildState
decide_state (const PdDaemonSettings *settings, const PdUsage *usage, const PdVerdict *v,
              gint64 now)
{
  gboolean hours_ending = v->allowed_until != 0 && within_warning (settings, v->allowed_until - now);

  if (usage->locked_until > now)
    return PD_STATE_LOCKED_OUT;
  if (!v->in_allowed_hours)
    return PD_STATE_OUTSIDE_HOURS;
  if (v->limit_today == PD_UNLIMITED)
    return hours_ending ? PD_STATE_WARNING : PD_STATE_UNLIMITED;
  if (v->remaining_today == 0)
    {
      /* Grace counts from the moment the allowance ran out. */
      gint64 overrun = usage->used - (v->limit_today + usage->bonus);

      return overrun < settings->grace ? PD_STATE_GRACE : PD_STATE_EXHAUSTED;
    }
  if (hours_ending || within_warning (settings, v->remaining_today))
    return PD_STATE_WARNING;
  return PD_STATE_OK;
}

void
pd_evaluate (const PdDaemonSettings *settings, const PdChild *child, const PdUsage *usage,
             gint64 now, GTimeZone *tz, PdVerdict *out)
{
  gint64 hours_change;

  g_return_if_fail (settings != NULL);
  g_return_if_fail (child != NULL);
  g_return_if_fail (usage != NULL);
  g_return_if_fail (usage->used >= 0);
  g_return_if_fail (tz != NULL);
  g_return_if_fail (out != NULL);

  memset (out, 0, sizeof *out);
  pd_day_at (settings, tz, now, &out->day);
  out->limit_today = child->daily_limit[out->day.weekday];
  if (out->limit_today == PD_UNLIMITED)
    out->remaining_today = PD_UNLIMITED;
  else
    out->remaining_today = MAX (0, out->limit_today + usage->bonus - usage->used);

  out->in_allowed_hours = pd_in_allowed_hours (child, tz, now);
  hours_change = next_hours_change (child, tz, now);
  out->allowed_until = out->in_allowed_hours ? hours_change : 0;

  out->next_change = out->day.end;
  if (hours_change != 0)
    out->next_change = MIN (out->next_change, hours_change);
  if (usage->locked_until > now)
    out->next_change = MIN (out->next_change, usage->locked_until);

  out->state = decide_state (settings, usage, out, now);

  g_assert (out->remaining_today >= 0 || out->remaining_today == PD_UNLIMITED);
  g_assert (out->allowed_until == 0 || out->allowed_until > now);
  g_assert (out->next_change > now && out->next_change <= out->day.end);
}

PdAppState
pd_evaluate_app (const PdChild *child, guint app, gint64 used, int weekday, gint64 *out_limit)
{
  gint64 limit;

  g_return_val_if_fail (child != NULL, PD_APP_OK);
  g_return_val_if_fail (weekday >= 0 && weekday < PD_DAYS, PD_APP_OK);
  g_return_val_if_fail (used >= 0, PD_APP_OK);

  limit = pd_child_app_limit (child, app, weekday);
  if (out_limit != NULL)
    *out_limit = limit;

  if (pd_child_always_allows_app (child, app))
    return PD_APP_ALWAYS_ALLOWED;
  if (pd_child_blocks_app (child, app))
    return PD_APP_BLOCKED;
  if (limit != PD_UNLIMITED && used >= limit)
    return PD_APP_EXHAUSTED;
  return PD_APP_OK;
}

const char *
pd_state_to_string (PdChildState state)
{
  switch (state)
    {
    case PD_STATE_OK: return "ok";
    case PD_STATE_WARNING: return "warning";
    case PD_STATE_GRACE: return "grace";
    case PD_STATE_EXHAUSTED: return "exhausted";
    case PD_STATE_OUTSIDE_HOURS: return "outside-hours";
    case PD_STATE_LOCKED_OUT: return "locked-out";
    case PD_STATE_UNLIMITED: return "unlimited";
    default: g_return_val_if_reached (NULL);
    }
}

const char *
pd_app_state_to_string (PdAppState state)
{
  switch (state)
    {
    case PD_APP_OK: return "ok";
    case PD_APP_EXHAUSTED: return "exhausted";
    case PD_APP_BLOCKED: return "blocked";
    case PD_APP_ALWAYS_ALLOWED: return "always-allowed";
    default: g_return_val_if_reached (NULL);
    }
}
