/* procmon.c owns the kernel's process events: the proc connector (EXEC,
 * EXIT and UID changes), a full /proc scan at start and after lost events,
 * and the table of the followed users' live processes. It identifies
 * nothing: it says that a followed process exec'd or ended, and the engine
 * classifies it. The per-exec path for a user nobody follows costs one uid
 * lookup. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _PdProcmon PdProcmon;

typedef struct {
  /* A followed user's process exec'd, changed its uid to a followed one, or
   * was found by a scan (from_scan). A child forked by a process in the
   * table that has not exec'd within 50 ms is reported too (it runs its
   * parent's program). The pid is in the table from now on. */
  void (*exec) (pid_t pid, uid_t uid, gboolean from_scan, gpointer user_data);
  /* A process in the table ended, left the followed uids, or was not found
   * by a rescan. It is out of the table; data given with pd_procmon_set_data
   * has been destroyed after this returns. */
  void (*exit) (pid_t pid, uid_t uid, gpointer user_data);
  gpointer user_data;
} PdProcmonEvents;

/* Opens the proc connector (needs CAP_NET_ADMIN before Linux 6.6), with a
 * receive buffer of several MiB and the kernel's event-type filter where it
 * exists. NULL with a PD_ERROR whose message names the missing capability. */
PdProcmon *pd_procmon_new (const PdProcmonEvents *events, GError **error);
void pd_procmon_free (PdProcmon *procmon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdProcmon, pd_procmon_free)

/* The users to follow (sorted or not). Newly followed users' processes are
 * found by a scan of /proc and reported through exec (from_scan TRUE);
 * processes of users no longer followed are reported through exit. */
void pd_procmon_follow (PdProcmon *procmon, const uid_t *uids, guint n);

/* Per-process data of the engine's, destroyed when the process leaves the
 * table. */
void pd_procmon_set_data (PdProcmon *procmon, pid_t pid, gpointer data, GDestroyNotify destroy);
gpointer pd_procmon_get_data (PdProcmon *procmon, pid_t pid);

typedef void (*PdProcFunc) (pid_t pid, uid_t uid, gpointer data, gpointer user_data);
/* Calls func for each process in the table of uid (or of all followed users
 * when uid is (uid_t) -1). func must not change the table. */
void pd_procmon_foreach (PdProcmon *procmon, uid_t uid, PdProcFunc func, gpointer user_data);

/* Sends sig to a process in the table, safely against pid reuse (pidfd and
 * the start time recorded when it entered the table). FALSE if it is gone. */
gboolean pd_procmon_signal (PdProcmon *procmon, pid_t pid, int sig);

/* When the process in the table under pid started (clock ticks after
 * boot, as /proc/PID/stat says); with the pid, it names one process for
 * good. 0 if pid is not in the table. */
guint64 pd_procmon_start_time (PdProcmon *procmon, pid_t pid);

/* While an exec event is being told: the kernel's time of it (ns of
 * CLOCK_MONOTONIC), which names that one exec; 0 when the process came
 * from a scan or a fork. */
guint64 pd_procmon_exec_ns (PdProcmon *procmon);

typedef struct {
  guint64 events;      /* proc connector messages handled */
  guint64 execs;       /* EXEC events */
  guint64 followed;    /* EXEC events of followed users */
  guint64 overruns;    /* ENOBUFS: events lost, /proc rescanned */
  guint64 scans;
} PdProcmonStats;

void pd_procmon_get_stats (PdProcmon *procmon, PdProcmonStats *out);

/* For tests only. Sets the receive buffer (the kernel's minimum if smaller),
 * so that a stalled test loses events. */
void pd_procmon_set_rcvbuf_for_testing (PdProcmon *procmon, int bytes);
/* For tests only. Makes later pd_procmon_new subscribe as on kernels before
 * 6.6, without the event-type filter: every kind of event arrives. */
void pd_procmon_set_legacy_for_testing (gboolean legacy);

G_END_DECLS
