/* sentry.c owns the first answer to a purchase attempt: a thread of its
 * own, with its own subscription to the kernel's exec events, stops
 * (SIGSTOP) at once every process of a child under "purchases = ask" or
 * "block" whose exec matches a purchase rule.
 *
 * Why a thread: the main loop's exec path decides what a purchase is
 * (hold, kill, log), but it waits behind whatever the loop is doing: a
 * state save took 7 to 20 ms on the development machines, long enough for
 * a program to act. The sentry only stops; the main loop still decides,
 * and settles each stop: pd_sentry_settle resumes a process the decision
 * lets run, and keeps the sentry from stopping one it has already let
 * run. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "policy/model.h"

G_BEGIN_DECLS

typedef struct _PdSentry PdSentry;

/* Subscribes to exec events and starts the thread. NULL with an error
 * when the kernel will not send them (the main loop's path still holds,
 * only later). */
PdSentry *pd_sentry_new (GError **error);
void pd_sentry_free (PdSentry *sentry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdSentry, pd_sentry_free)

/* The children to watch and the rules to match, from config, which must
 * outlive the next call. Waits for the thread to finish the exec at hand,
 * and resumes the processes it stopped of users no longer under ask or
 * block: no decision on them may come. */
void pd_sentry_set_config (PdSentry *sentry, const PdConfig *config);

/* The main loop's decision on one exec (exec_ns from
 * pd_procmon_exec_ns; 0 for a process found by a scan): let_run resumes
 * the process if the sentry stopped it; otherwise the decision keeps it
 * stopped or killed it. */
void pd_sentry_settle (PdSentry *sentry, pid_t pid, uid_t uid, guint64 exec_ns, gboolean let_run);

typedef struct {
  guint64 stopped;     /* processes stopped */
  guint64 resumed;     /* of those, resumed when the main loop let them run */
  guint64 expired;     /* stops no decision came for, killed (fail closed) */
} PdSentryStats;

void pd_sentry_get_stats (PdSentry *sentry, PdSentryStats *out);

G_END_DECLS
