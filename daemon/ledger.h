/* ledger.c turns counted time into the state's day records: it splits use
 * at day boundaries, keeps sub-second remainders, and answers the history
 * queries. It reads no clock: moments come in as arguments. */
#pragma once

#include <glib.h>

#include "daemon/state.h"
#include "policy/model.h"

G_BEGIN_DECLS

/* Credits elapsed_us of use, which ran from since_wall to now_wall (unix
 * seconds), to the policy days it belongs to. apps (nullable,
 * NULL-terminated) are the apps that ran the whole time; they get the same
 * seconds. *carry_us keeps what is left below a second for next time.
 * Returns the whole seconds credited. */
gint64 pd_ledger_credit (PdChildRecord *record, const PdDaemonSettings *settings, GTimeZone *tz,
                         gint64 since_wall, gint64 now_wall, gint64 elapsed_us,
                         const char *const *apps, gint64 *carry_us);

/* Today's record, created if missing. */
PdDayRecord *pd_ledger_today (PdChildRecord *record, const PdDaemonSettings *settings,
                              GTimeZone *tz, gint64 now_wall);

/* GetUsage: a(sta{st}) date, total, per-app seconds; newest first, at most
 * days entries. */
GVariant *pd_ledger_usage (const PdChildRecord *record, guint days);
/* a(sx): the daily limit of each of those days that has one recorded
 * (seconds, or -1 for unlimited), newest first. */
GVariant *pd_ledger_limits (const PdChildRecord *record, guint days);

G_END_DECLS
