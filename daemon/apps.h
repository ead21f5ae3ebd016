/* apps.c owns which apps each child runs: every exec of a child's process
 * is classified (facts from /proc, the policy matcher, file identity), the
 * live processes of each (child, app) are counted, and app processes are
 * signalled: killed at exec when the engine says no, or closed (SIGTERM,
 * then SIGKILL 5 s later) when a limit is reached. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "policy/model.h"

G_BEGIN_DECLS

typedef struct _PdApps PdApps;

/* What became of a purchase attempt's process. */
typedef enum {
  PD_PURCHASE_RUNS,     /* let be: logged, allowed, or approved before */
  PD_PURCHASE_HELD,     /* stopped until a parent answers */
  PD_PURCHASE_KILLED,
} PdPurchaseVerdict;

typedef struct {
  /* The apps a child runs are about to change: the engine credits the time
   * so far to the apps that ran until now. */
  void (*before_change) (uid_t uid, gpointer user_data);
  /* They changed: the engine checks the child again. */
  void (*after_change) (uid_t uid, gpointer user_data);
  /* May this process run? apps are the matched app indices; app_process
   * says it is an app at all (matched, or in a desktop's app scope).
   * FALSE kills it at once; *reason (static) says why, for the log. */
  gboolean (*exec_allowed) (uid_t uid, const guint *apps, guint n_apps, gboolean app_process,
                            const char **reason, gpointer user_data);
  /* The process matched purchase rules (indices into PdConfig.purchases);
   * target is where it was going, without query or fragment. Called
   * before exec_allowed, as early as the exec path allows, so that a hold
   * can freeze it before it acts. */
  PdPurchaseVerdict (*purchase) (uid_t uid, pid_t pid, const guint *rules, guint n_rules,
                        const guint *apps, guint n_apps, const char *target,
                        gpointer user_data);
  gpointer user_data;
} PdAppsEvents;

/* Starts process monitoring. NULL with an error naming the missing
 * capability; the daemon then goes on counting screen time only. */
PdApps *pd_apps_new (const PdAppsEvents *events, GError **error);
void pd_apps_free (PdApps *apps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdApps, pd_apps_free)

/* A new configuration: compiles its patterns, follows its children and
 * classifies their live processes again. config must outlive the next
 * call. */
void pd_apps_set_config (PdApps *apps, const PdConfig *config);

/* The names of the apps uid runs now, NULL-terminated. (transfer none)
 * Valid until the next change of that child's apps. */
const char *const *pd_apps_running (PdApps *apps, uid_t uid);
gboolean pd_apps_is_running (PdApps *apps, uid_t uid, guint app);

/* Ends the processes of uid's app (app >= 0), or every app process of uid
 * except those of always_allowed apps (app < 0): SIGTERM now, SIGKILL 5 s
 * later to any that is still there. */
void pd_apps_close (PdApps *apps, uid_t uid, int app, const PdChild *policy);

/* Sends sig to a followed process, safe against pid reuse. FALSE if it is
 * gone or not followed. */
gboolean pd_apps_signal (PdApps *apps, pid_t pid, int sig);
/* The same, to the process that had start time start: FALSE if pid now
 * names another process. */
gboolean pd_apps_signal_process (PdApps *apps, pid_t pid, guint64 start, int sig);
/* The start time of a followed process (see pd_procmon_start_time). */
guint64 pd_apps_start_time (PdApps *apps, pid_t pid);

G_END_DECLS
