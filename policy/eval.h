/* Evaluation: given a child's policy, today's usage and the moment, what is
 * allowed, how much is left and what changes next. Pure: the moment and the
 * time zone are arguments; nothing here reads a clock. */
#pragma once

#include <glib.h>

#include "policy/model.h"

G_BEGIN_DECLS

typedef enum {
  PD_STATE_OK,
  PD_STATE_WARNING,
  PD_STATE_GRACE,
  PD_STATE_EXHAUSTED,
  PD_STATE_OUTSIDE_HOURS,
  PD_STATE_LOCKED_OUT,
  PD_STATE_UNLIMITED,
} PdChildState;

typedef enum {
  PD_APP_OK,
  PD_APP_EXHAUSTED,
  PD_APP_BLOCKED,
  PD_APP_ALWAYS_ALLOWED,
} PdAppState;

/* The policy day containing a moment: it starts at day_starts_at local time,
 * so it lasts 23 or 25 hours on DST change days. */
typedef struct {
  gint64 start;        /* unix seconds */
  gint64 end;          /* unix seconds; the next day's start */
  char date[11];       /* "YYYY-MM-DD": the local date on which the day starts */
  int weekday;         /* 0 = Monday, of that date */
} PdDay;

typedef struct {
  gint64 used;               /* screen seconds counted in this policy day */
  gint64 bonus;              /* seconds granted today; negative removes */
  gint64 locked_until;       /* unix seconds; 0 = no lock-out */
  const gint64 *app_used;    /* (nullable) seconds today, indexed like PdConfig.apps */
  guint n_app_used;
} PdUsage;

typedef struct {
  PdChildState state;
  PdDay day;
  gint64 limit_today;        /* seconds without bonus, or PD_UNLIMITED */
  gint64 remaining_today;    /* max (0, limit + bonus - used), or PD_UNLIMITED */
  gboolean in_allowed_hours;
  gint64 allowed_until;      /* unix: when the current allowed span ends; 0 if outside or never ending */
  gint64 next_change;        /* unix: next hours boundary, day start or lock-out end; 0 = none */
} PdVerdict;

void pd_day_at (const PdDaemonSettings *settings, GTimeZone *tz, gint64 now, PdDay *out);

/* Whether local clock time at now lies inside the child's allowed hours,
 * honouring ranges that began the previous calendar day and run past
 * midnight. */
gboolean pd_in_allowed_hours (const PdChild *child, GTimeZone *tz, gint64 now);

void pd_evaluate (const PdDaemonSettings *settings, const PdChild *child, const PdUsage *usage,
                  gint64 now, GTimeZone *tz, PdVerdict *out);

/* The state of one app for the child on a weekday, given its use today;
 * *out_limit gets the app's limit or PD_UNLIMITED. */
PdAppState pd_evaluate_app (const PdChild *child, guint app, gint64 used, int weekday,
                            gint64 *out_limit);

const char *pd_state_to_string (PdChildState state);
const char *pd_app_state_to_string (PdAppState state);

G_END_DECLS
