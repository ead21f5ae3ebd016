/* Tests of procmon.c against the real kernel: real processes under test
 * uids, the proc connector with and without the event-type filter, lost
 * events and reused pids. They need root (to take other uids and listen);
 * they are skipped otherwise. */
#define _GNU_SOURCE  /* setresuid (2), setresgid (2), pipe2 (2) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "daemon/procmon.h"
#include "policy/error.h"
#include "tests/test-children.h"

#define FOLLOWED_UID ((uid_t) 61201)
#define OTHER_UID ((uid_t) 61202)
#define KEEP_UID TEST_CHILD_KEEP_UID
#define DEADLINE_US (15 * G_USEC_PER_SEC)
/* About 10 s on a machine that does 200 fork+exec a second. */
#define FLOOD 2000
#define TINY_RCVBUF 4096

static const char *const sleep_argv[] = { "/bin/sleep", "60", NULL };
static const char *const true_argv[] = { "/bin/true", NULL };

typedef enum { EV_EXEC, EV_EXIT } EvKind;

typedef struct
{
  EvKind kind;
  pid_t pid;
  uid_t uid;
  gboolean from_scan;
  char exe[64];              /* /proc/PID/exe when an exec was reported */
} Ev;

typedef struct
{
  PdProcmon *pm;             /* (owned) (nullable) */
  GArray *log;               /* (owned) Ev, in the order reported */
  GArray *children;          /* (owned) pid_t: killed and reaped at teardown */
  GArray *strays;            /* (owned) pid_t: grandchildren, ours once orphaned */
  guint wake_id;             /* wakes the loop, so that WAIT_FOR sees its deadline */
  guint destroyed;           /* data destroyed by procmon */
  guint lost_warnings;       /* warnings about lost events */
  guint log_handler_id;      /* counts them where a test causes them, or 0 */
  GLogLevelFlags fatal_mask; /* to restore, with log_handler_id */
} Fixture;

/* Iterates the main loop until cond holds; fails after DEADLINE_US. */
#define WAIT_FOR(cond) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + DEADLINE_US; \
    while (!(cond)) \
      { \
        if (g_get_monotonic_time () > deadline_) \
          g_error ("Timed out waiting for %s", #cond); \
        g_main_context_iteration (NULL, TRUE); \
      } \
  } G_STMT_END

/* ---- what procmon reported ------------------------------------------------- */

typedef struct
{
  Fixture *f;
  pid_t pid;
} Data;

static void
data_free (gpointer p)
{
  Data *data = p;

  data->f->destroyed++;
  g_free (data);
}

static void
on_exec (pid_t pid, uid_t uid, gboolean from_scan, gpointer user_data)
{
  Fixture *f = user_data;
  Ev ev = { EV_EXEC, pid, uid, from_scan, "" };
  char path[64];
  ssize_t n;

  g_snprintf (path, sizeof path, "/proc/%d/exe", (int) pid);
  n = readlink (path, ev.exe, sizeof ev.exe - 1);
  ev.exe[MAX (n, 0)] = '\0';
  g_array_append_val (f->log, ev);
  if (pd_procmon_get_data (f->pm, pid) == NULL)
    {
      Data *data = g_new0 (Data, 1);

      data->f = f;
      data->pid = pid;
      pd_procmon_set_data (f->pm, pid, data, data_free);
    }
}

static void
on_exit_cb (pid_t pid, uid_t uid, gpointer user_data)
{
  Fixture *f = user_data;
  Ev ev = { EV_EXIT, pid, uid, FALSE, "" };
  Data *data = pd_procmon_get_data (f->pm, pid);

  /* Out of the table, but its data lives until this returns. */
  g_assert_nonnull (data);
  g_assert_cmpint (data->pid, ==, pid);
  g_array_append_val (f->log, ev);
}

static guint
count (Fixture *f, EvKind kind, pid_t pid)
{
  guint i, n = 0;

  for (i = 0; i < f->log->len; i++)
    {
      const Ev *ev = &g_array_index (f->log, Ev, i);

      n += ev->kind == kind && ev->pid == pid;
    }
  return n;
}

static const Ev *
last (Fixture *f, EvKind kind, pid_t pid)
{
  guint i;

  for (i = f->log->len; i > 0; i--)
    {
      const Ev *ev = &g_array_index (f->log, Ev, i - 1);

      if (ev->kind == kind && ev->pid == pid)
        return ev;
    }
  g_assert_not_reached ();
}

static void
collect_pid (pid_t pid, uid_t uid, gpointer data, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, pid);
}

/* The table's pids of uid ((uid_t) -1: all). */
static GArray *
table_pids (Fixture *f, uid_t uid)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (pid_t));

  pd_procmon_foreach (f->pm, uid, collect_pid, pids);
  return pids;
}

static gboolean
in_table (Fixture *f, pid_t pid)
{
  g_autoptr (GArray) pids = table_pids (f, (uid_t) -1);
  guint i;

  for (i = 0; i < pids->len; i++)
    if (g_array_index (pids, pid_t, i) == pid)
      return TRUE;
  return FALSE;
}

static gboolean
all_in_table (Fixture *f, const pid_t *pids, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (!in_table (f, pids[i]))
      return FALSE;
  return TRUE;
}

static gboolean
all_exited (Fixture *f, const pid_t *pids, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (count (f, EV_EXIT, pids[i]) == 0)
      return FALSE;
  return TRUE;
}

static PdProcmonStats
stats (Fixture *f)
{
  PdProcmonStats s;

  pd_procmon_get_stats (f->pm, &s);
  return s;
}

static void
follow (Fixture *f, uid_t uid)
{
  pd_procmon_follow (f->pm, &uid, 1);
}

static void
count_warning (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  Fixture *f = user_data;

  if (strstr (message, "events were lost") == NULL)
    g_error ("Unexpected warning: %s", message);
  f->lost_warnings++;
}

/* The warning about lost events is expected where a test causes them. */
static void
expect_lost_events (Fixture *f)
{
  f->fatal_mask = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  f->log_handler_id = g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, count_warning, f);
}

/* ---- children ---------------------------------------------------------------- */

typedef void (*ChildFunc) (gconstpointer data);

/* Forks a child that takes uid (KEEP_UID keeps the test's), dies with the
 * test, and runs fn; teardown kills and reaps it. */
static pid_t
fork_child (Fixture *f, uid_t uid, ChildFunc fn, gconstpointer data)
{
  pid_t pid = test_child_fork (uid, fn, data);

  g_array_append_val (f->children, pid);
  return pid;
}

static int
reap (Fixture *f, pid_t pid)
{
  int status = 0;
  guint i;

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  for (i = 0; i < f->children->len; i++)
    if (g_array_index (f->children, pid_t, i) == pid)
      g_array_remove_index_fast (f->children, i--);
  for (i = 0; i < f->strays->len; i++)
    if (g_array_index (f->strays, pid_t, i) == pid)
      g_array_remove_index_fast (f->strays, i--);
  return status;
}

static gboolean
alive (pid_t pid)
{
  siginfo_t info = { 0 };

  return waitid (P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

/* Until our child pid has ended, leaving it a zombie. */
static void
wait_dead (pid_t pid)
{
  siginfo_t info;

  g_assert_no_errno (waitid (P_PID, (id_t) pid, &info, WEXITED | WNOWAIT));
}

typedef struct
{
  const char *const *argv;
  int status_fd;              /* close-on-exec: EOF tells the exec happened */
  void (*before) (void);      /* (nullable) */
} ExecArgs;

static void
child_exec (gconstpointer data)
{
  const ExecArgs *args = data;
  int err;

  if (args->before != NULL)
    args->before ();
  execv (args->argv[0], (char *const *) args->argv);
  err = errno;
  (void) !write (args->status_fd, &err, sizeof err);
  _exit (127);
}

/* Runs argv as uid after before(), and returns once it exec'd. */
static pid_t
spawn (Fixture *f, uid_t uid, void (*before) (void), const char *const *argv)
{
  ExecArgs args = { argv, -1, before };
  int fds[2], err = 0;
  ssize_t n;
  pid_t pid;

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  args.status_fd = fds[1];
  pid = fork_child (f, uid, child_exec, &args);
  close (fds[1]);
  do
    n = read (fds[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  close (fds[0]);
  g_assert_cmpint (n, ==, 0);
  return pid;
}

static pid_t
run_as (Fixture *f, uid_t uid, const char *const *argv)
{
  return spawn (f, uid, NULL, argv);
}

static void
child_flood (gconstpointer data)
{
  int i, n = GPOINTER_TO_INT (data);

  for (i = 0; i < n; i++)
    {
      pid_t pid = fork ();

      if (pid == 0)
        {
          execv (true_argv[0], (char *const *) true_argv);
          _exit (127);
        }
      if (pid > 0)
        waitpid (pid, NULL, 0);
    }
}

/* n short processes as uid, one after the other. */
static void
flood (Fixture *f, uid_t uid, int n)
{
  reap (f, fork_child (f, uid, child_flood, GINT_TO_POINTER (n)));
}

/* Runs argv as uid under the pid want (just freed), through ns_last_pid.
 * -1 if other processes keep taking it. */
static pid_t
run_at_pid (Fixture *f, pid_t want, uid_t uid, const char *const *argv)
{
  int attempt;

  for (attempt = 0; attempt < 50; attempt++)
    {
      g_autofree char *text = g_strdup_printf ("%d", (int) want - 1);
      int fd = open ("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
      pid_t pid;

      if (fd < 0)
        return -1;
      (void) !write (fd, text, strlen (text));
      close (fd);
      pid = run_as (f, uid, argv);
      if (pid == want)
        return pid;
      kill (pid, SIGKILL);
      reap (f, pid);
    }
  return -1;
}

/* ---- fixture ----------------------------------------------------------------- */

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
fixture_init (Fixture *f)
{
  f->log = g_array_new (FALSE, FALSE, sizeof (Ev));
  f->children = g_array_new (FALSE, FALSE, sizeof (pid_t));
  f->strays = g_array_new (FALSE, FALSE, sizeof (pid_t));
  f->wake_id = g_timeout_add (50, wake, NULL);
}

static PdProcmon *
open_procmon (Fixture *f, gboolean legacy, GError **error)
{
  PdProcmonEvents events = { on_exec, on_exit_cb, f };

  pd_procmon_set_legacy_for_testing (legacy);
  return pd_procmon_new (&events, error);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture_init (f);
  f->pm = open_procmon (f, GPOINTER_TO_INT (data), &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  guint i;

  g_clear_pointer (&f->pm, pd_procmon_free);
  if (f->log_handler_id != 0)
    {
      g_log_remove_handler (G_LOG_DOMAIN, f->log_handler_id);
      g_log_set_always_fatal (f->fatal_mask);
    }
  g_clear_handle_id (&f->wake_id, g_source_remove);
  /* A stray is held by its parent, or by us (subreaper) once orphaned:
   * its pid is not reused before it is reaped. */
  for (i = 0; i < f->strays->len; i++)
    kill (g_array_index (f->strays, pid_t, i), SIGKILL);
  for (i = 0; i < f->children->len; i++)
    kill (g_array_index (f->children, pid_t, i), SIGKILL);
  for (i = 0; i < f->children->len; i++)
    waitpid (g_array_index (f->children, pid_t, i), NULL, 0);
  for (i = 0; i < f->strays->len; i++)
    waitpid (g_array_index (f->strays, pid_t, i), NULL, 0);
  g_array_unref (f->log);
  g_array_unref (f->children);
  g_array_unref (f->strays);
}

/* ---- tests ------------------------------------------------------------------- */

/* A child takes the followed uid (a uid change: reported), then execs:
 * reported again, through the EXEC event. */
static void
test_exec_followed (Fixture *f, gconstpointer data)
{
  pid_t pid;

  follow (f, FOLLOWED_UID);
  pid = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);
  g_assert_cmpuint (last (f, EV_EXEC, pid)->uid, ==, FOLLOWED_UID);
  g_assert_false (last (f, EV_EXEC, pid)->from_scan);
  g_assert_true (g_str_has_suffix (last (f, EV_EXEC, pid)->exe, "/sleep"));
  g_assert_true (in_table (f, pid));
  g_assert_cmpuint (stats (f).followed, >=, 1);
}

/* Nothing about other users: their processes run before a followed one,
 * whose report therefore comes after theirs were handled. (A followed
 * process already dead when its events are read is not reported.) */
static void
test_exec_unfollowed (Fixture *f, gconstpointer data)
{
  pid_t short_lived, long_lived, marker;

  follow (f, FOLLOWED_UID);
  short_lived = run_as (f, OTHER_UID, true_argv);
  reap (f, short_lived);
  long_lived = run_as (f, OTHER_UID, sleep_argv);
  marker = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, marker) >= 2);
  g_assert_cmpuint (count (f, EV_EXEC, short_lived), ==, 0);
  g_assert_cmpuint (count (f, EV_EXEC, long_lived), ==, 0);
  g_assert_false (in_table (f, long_lived));
  g_assert_cmpuint (stats (f).execs, >=, 3);
  g_assert_cmpuint (stats (f).followed, ==, 1);
}

static void
test_exit (Fixture *f, gconstpointer data)
{
  guint destroyed;
  pid_t pid;

  follow (f, FOLLOWED_UID);
  pid = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);
  g_assert_nonnull (pd_procmon_get_data (f->pm, pid));
  destroyed = f->destroyed;

  kill (pid, SIGKILL);
  reap (f, pid);
  WAIT_FOR (count (f, EV_EXIT, pid) >= 1);
  g_assert_cmpuint (last (f, EV_EXIT, pid)->uid, ==, FOLLOWED_UID);
  g_assert_false (in_table (f, pid));
  g_assert_null (pd_procmon_get_data (f->pm, pid));
  g_assert_cmpuint (f->destroyed, ==, destroyed + 1);
}

static void
child_shell_from_pipe (gconstpointer data)
{
  const int *fds = data;
  const char *const argv[] = { "/bin/sh", "-c", "read x; exec /bin/sleep 60", NULL };

  dup2 (fds[0], 0);
  close (fds[1]);
  execv (argv[0], (char *const *) argv);
  _exit (127);
}

/* A process that execs again long after it started (a script that starts
 * the game later) is reported at each exec. */
static void
test_late_exec (Fixture *f, gconstpointer data)
{
  int fds[2];
  guint i;
  pid_t pid;

  follow (f, FOLLOWED_UID);
  g_assert_no_errno (pipe (fds));
  pid = fork_child (f, FOLLOWED_UID, child_shell_from_pipe, fds);
  close (fds[0]);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);  /* the uid change, the shell */
  for (i = 0; i < f->log->len; i++)
    g_assert_false (g_str_has_suffix (g_array_index (f->log, Ev, i).exe, "/sleep"));

  g_assert_cmpint (write (fds[1], "go\n", 3), ==, 3);
  close (fds[1]);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 3);
  g_assert_true (g_str_has_suffix (last (f, EV_EXEC, pid)->exe, "/sleep"));
  g_assert_false (last (f, EV_EXEC, pid)->from_scan);
  g_assert_cmpuint (count (f, EV_EXIT, pid), ==, 0);
  g_assert_true (in_table (f, pid));
}

static void
wait_byte (int fd)
{
  char c;

  while (read (fd, &c, 1) < 0 && errno == EINTR)
    ;
}

static void
child_uid_changes (gconstpointer data)
{
  const int *fds = data;  /* read ends: go in, go out */
  pid_t parent = getppid ();

  wait_byte (fds[0]);
  if (setresuid (FOLLOWED_UID, FOLLOWED_UID, 0) < 0)
    _exit (126);
  test_child_die_with (parent);
  wait_byte (fds[1]);
  if (setresuid ((uid_t) -1, 0, (uid_t) -1) < 0)  /* back to euid 0 (saved) */
    _exit (126);
  test_child_die_with (parent);
  pause ();
}

/* A root process (a login manager, su) that takes the followed uid is
 * reported; when it leaves the followed uid, it leaves the table. */
static void
test_uid_change (Fixture *f, gconstpointer data)
{
  int go_in[2], go_out[2], read_ends[2];
  pid_t pid;

  follow (f, FOLLOWED_UID);
  g_assert_no_errno (pipe (go_in));
  g_assert_no_errno (pipe (go_out));
  read_ends[0] = go_in[0];
  read_ends[1] = go_out[0];
  pid = fork_child (f, KEEP_UID, child_uid_changes, read_ends);
  close (go_in[0]);
  close (go_out[0]);

  g_assert_cmpint (write (go_in[1], "x", 1), ==, 1);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 1);
  g_assert_cmpuint (count (f, EV_EXEC, pid), ==, 1);
  g_assert_cmpuint (last (f, EV_EXEC, pid)->uid, ==, FOLLOWED_UID);
  g_assert_false (last (f, EV_EXEC, pid)->from_scan);
  g_assert_true (in_table (f, pid));

  g_assert_cmpint (write (go_out[1], "x", 1), ==, 1);
  WAIT_FOR (count (f, EV_EXIT, pid) >= 1);
  g_assert_false (in_table (f, pid));
  g_assert_true (alive (pid));
  close (go_in[1]);
  close (go_out[1]);
}

static void
child_ready_then_pause (gconstpointer data)
{
  (void) !write (GPOINTER_TO_INT (data), "x", 1);
  pause ();
}

/* Processes that ran before the users were followed are found by the scan
 * at pd_procmon_follow, including one that took its uid without an exec
 * (not dumpable: its /proc files are root's, its /proc directory is not),
 * but not a zombie. Users no longer followed leave the table at once. */
static void
test_scan_at_follow (Fixture *f, gconstpointer data)
{
  pid_t a, b, c, other, zombie;
  pid_t pids[3];
  int fds[2];
  guint i;

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  a = run_as (f, FOLLOWED_UID, sleep_argv);
  b = run_as (f, FOLLOWED_UID, sleep_argv);
  c = fork_child (f, FOLLOWED_UID, child_ready_then_pause, GINT_TO_POINTER (fds[1]));
  wait_byte (fds[0]);
  close (fds[0]);
  close (fds[1]);
  other = run_as (f, OTHER_UID, sleep_argv);
  zombie = run_as (f, FOLLOWED_UID, true_argv);
  wait_dead (zombie);
  pids[0] = a, pids[1] = b, pids[2] = c;

  follow (f, FOLLOWED_UID);
  g_assert_cmpuint (stats (f).scans, ==, 1);
  for (i = 0; i < G_N_ELEMENTS (pids); i++)
    {
      g_assert_cmpuint (count (f, EV_EXEC, pids[i]), ==, 1);
      g_assert_true (last (f, EV_EXEC, pids[i])->from_scan);
      g_assert_cmpuint (last (f, EV_EXEC, pids[i])->uid, ==, FOLLOWED_UID);
    }
  g_assert_cmpuint (count (f, EV_EXEC, other), ==, 0);
  g_assert_cmpuint (count (f, EV_EXEC, zombie), ==, 0);
  g_assert_true (all_in_table (f, pids, G_N_ELEMENTS (pids)));

  follow (f, OTHER_UID);
  g_assert_true (all_exited (f, pids, G_N_ELEMENTS (pids)));
  g_assert_true (last (f, EV_EXEC, other)->from_scan);
  g_assert_true (in_table (f, other));

  pd_procmon_follow (f->pm, NULL, 0);
  g_assert_cmpuint (count (f, EV_EXIT, other), ==, 1);
  g_assert_false (in_table (f, other));
}

static void
test_signal (Fixture *f, gconstpointer data)
{
  pid_t pid, other;
  int status;

  follow (f, FOLLOWED_UID);
  pid = run_as (f, FOLLOWED_UID, sleep_argv);
  other = run_as (f, OTHER_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);

  g_assert_false (pd_procmon_signal (f->pm, other, SIGTERM));
  g_assert_true (alive (other));

  g_assert_true (pd_procmon_signal (f->pm, pid, SIGTERM));
  /* Dead but not waited for (a zombie), and the exit event not read yet:
   * gone all the same. */
  wait_dead (pid);
  g_assert_false (pd_procmon_signal (f->pm, pid, SIGTERM));
  status = reap (f, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGTERM);
  g_assert_false (pd_procmon_signal (f->pm, pid, SIGTERM));
  WAIT_FOR (count (f, EV_EXIT, pid) >= 1);
  g_assert_false (pd_procmon_signal (f->pm, pid, 0));
}

/* A pid reused while events were lost: the signal refuses the newcomer,
 * and the rescan replaces the entry (start times differ). */
static void
test_reused_pid (Fixture *f, gconstpointer data)
{
  pid_t pid, reused;
  int status;

  expect_lost_events (f);
  follow (f, FOLLOWED_UID);
  pid = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);

  /* From here the loop is not iterated: the kernel queues, then drops. */
  pd_procmon_set_rcvbuf_for_testing (f->pm, TINY_RCVBUF);
  flood (f, OTHER_UID, 50);
  kill (pid, SIGKILL);
  reap (f, pid);
  reused = run_at_pid (f, pid, FOLLOWED_UID, sleep_argv);
  if (reused < 0)
    {
      g_test_skip ("Cannot start a process under the same pid: the machine is too busy");
      return;
    }
  g_assert_false (pd_procmon_signal (f->pm, pid, SIGKILL));
  g_assert_true (alive (reused));
  g_assert_cmpuint (count (f, EV_EXIT, pid), ==, 0);
  pd_procmon_set_rcvbuf_for_testing (f->pm, 8 * 1024 * 1024);

  WAIT_FOR (count (f, EV_EXIT, pid) >= 1 && last (f, EV_EXEC, pid)->from_scan);
  g_assert_cmpuint (stats (f).overruns, >=, 1);
  g_assert_cmpuint (f->lost_warnings, >=, 1);
  g_assert_true (pd_procmon_signal (f->pm, reused, SIGTERM));
  status = reap (f, reused);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGTERM);
}

static void
child_fork_and_pause (gconstpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  pid_t grandchild = fork ();

  if (grandchild == 0)
    {
      /* No parent-death signal: it must outlive its parent. */
      alarm (TEST_CHILD_LIFETIME_S);
      pause ();
      _exit (0);
    }
  (void) !write (fd, &grandchild, sizeof grandchild);
  pause ();
}

/* A child forked by a followed process that never execs (a zygote's
 * renderer) is in the table, and stays when its parent ends. */
static void
test_fork_without_exec (Fixture *f, gconstpointer data)
{
  pid_t pid, grandchild = 0;
  int fds[2];

  follow (f, FOLLOWED_UID);
  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  pid = fork_child (f, FOLLOWED_UID, child_fork_and_pause, GINT_TO_POINTER (fds[1]));
  close (fds[1]);
  g_assert_cmpint (read (fds[0], &grandchild, sizeof grandchild), ==, sizeof grandchild);
  close (fds[0]);
  g_array_append_val (f->strays, grandchild);

  WAIT_FOR (count (f, EV_EXEC, grandchild) >= 1);
  g_assert_cmpuint (count (f, EV_EXEC, grandchild), ==, 1);
  g_assert_cmpuint (last (f, EV_EXEC, grandchild)->uid, ==, FOLLOWED_UID);
  g_assert_false (last (f, EV_EXEC, grandchild)->from_scan);
  g_assert_true (in_table (f, pid));

  kill (pid, SIGKILL);
  reap (f, pid);
  WAIT_FOR (count (f, EV_EXIT, pid) >= 1);
  g_assert_true (in_table (f, grandchild));
  g_assert_cmpuint (count (f, EV_EXIT, grandchild), ==, 0);

  g_assert_true (pd_procmon_signal (f->pm, grandchild, SIGKILL));
  WAIT_FOR (count (f, EV_EXIT, grandchild) >= 1);
  reap (f, grandchild);  /* ours: we are its subreaper */
}

static gpointer
thread_main (gpointer data)
{
  return data;
}

static void
start_threads (void)
{
  int i;

  for (i = 0; i < 8; i++)
    {
      pthread_t thread;

      if (pthread_create (&thread, NULL, thread_main, NULL) == 0)
        pthread_join (thread, NULL);
    }
}

/* Threads are not processes: their starts and ends change nothing. */
static void
test_threads (Fixture *f, gconstpointer data)
{
  pid_t pid;
  guint i;

  follow (f, FOLLOWED_UID);
  pid = spawn (f, FOLLOWED_UID, start_threads, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 2);
  g_assert_cmpuint (count (f, EV_EXIT, pid), ==, 0);
  g_assert_true (in_table (f, pid));
  /* No thread was reported (what else the log holds was found by the scan
   * at follow: leftovers of an earlier run that crashed). */
  for (i = 0; i < f->log->len; i++)
    if (g_array_index (f->log, Ev, i).pid != pid)
      g_assert_true (g_array_index (f->log, Ev, i).from_scan);
}

/* The daemon stalls (the loop is not iterated) while FLOOD short processes
 * and a few long ones start, and followed processes end: the kernel drops
 * events (a tiny buffer makes sure of it). Afterwards the table holds
 * exactly the live followed processes, and events flow again. */
static void
test_lost_events (Fixture *f, gconstpointer data)
{
  pid_t doomed[3], lasting[3], after;
  g_autoptr (GArray) table = NULL;
  gint64 start;
  guint i, j;

  expect_lost_events (f);
  follow (f, FOLLOWED_UID);
  for (i = 0; i < G_N_ELEMENTS (doomed); i++)
    doomed[i] = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (all_in_table (f, doomed, G_N_ELEMENTS (doomed)));

  pd_procmon_set_rcvbuf_for_testing (f->pm, TINY_RCVBUF);
  start = g_get_monotonic_time ();
  flood (f, FOLLOWED_UID, FLOOD);
  for (i = 0; i < G_N_ELEMENTS (doomed); i++)
    {
      kill (doomed[i], SIGKILL);
      reap (f, doomed[i]);
    }
  for (i = 0; i < G_N_ELEMENTS (lasting); i++)
    lasting[i] = run_as (f, FOLLOWED_UID, sleep_argv);
  g_test_message ("%d processes in %.1f s while stalled", FLOOD,
                  (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  /* What is lost is lost: a normal buffer from now on, so that the rest of
   * the machine cannot overflow it again and hide the events below. */
  pd_procmon_set_rcvbuf_for_testing (f->pm, 8 * 1024 * 1024);

  WAIT_FOR (stats (f).overruns >= 1 && all_in_table (f, lasting, G_N_ELEMENTS (lasting))
            && all_exited (f, doomed, G_N_ELEMENTS (doomed)));
  table = table_pids (f, FOLLOWED_UID);
  g_assert_cmpuint (table->len, ==, G_N_ELEMENTS (lasting));
  for (i = 0; i < G_N_ELEMENTS (lasting); i++)
    {
      g_assert_true (last (f, EV_EXEC, lasting[i])->from_scan);
      for (j = 0; j < G_N_ELEMENTS (doomed); j++)
        g_assert_cmpint (lasting[i], !=, doomed[j]);
    }
  /* Logged once per burst, not once per overrun. */
  g_assert_cmpuint (f->lost_warnings, >=, 1);
  g_assert_cmpuint (f->lost_warnings, <=, stats (f).overruns);
  g_test_message ("%" G_GUINT64_FORMAT " overruns, %u warnings, %" G_GUINT64_FORMAT " scans, %"
                  G_GUINT64_FORMAT " events read", stats (f).overruns, f->lost_warnings,
                  stats (f).scans, stats (f).events);

  after = run_as (f, FOLLOWED_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, after) >= 2);
  g_assert_false (last (f, EV_EXEC, after)->from_scan);
}

/* Since Linux 6.6 the proc connector serves users without CAP_NET_ADMIN;
 * before, pd_procmon_new fails with a message that names the capability.
 * In a subprocess that dropped root: it follows itself, and sees its own
 * child start and end. */
static void
test_unprivileged (gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  Fixture fixture = { 0 }, *f = &fixture;
  pid_t self = getpid (), pid;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  test_child_become (OTHER_UID);
  fixture_init (f);
  f->pm = open_procmon (f, GPOINTER_TO_INT (data), &error);
  if (f->pm == NULL)
    {
      g_assert_error (error, PD_ERROR, PD_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "CAP_NET_ADMIN"));
      g_test_message ("Unprivileged: %s", error->message);
      fixture_tear_down (f, NULL);
      return;
    }
  follow (f, OTHER_UID);
  g_assert_true (last (f, EV_EXEC, self)->from_scan);
  pid = run_as (f, KEEP_UID, sleep_argv);
  WAIT_FOR (count (f, EV_EXEC, pid) >= 1 && g_str_has_suffix (last (f, EV_EXEC, pid)->exe, "/sleep"));
  g_assert_false (last (f, EV_EXEC, pid)->from_scan);
  kill (pid, SIGKILL);
  reap (f, pid);
  WAIT_FOR (count (f, EV_EXIT, pid) >= 1);
  fixture_tear_down (f, NULL);
}

static void
skip_not_root (gconstpointer data)
{
  g_test_skip ("Needs root: takes test uids and listens to the proc connector");
}

typedef void (*TestFunc) (Fixture *f, gconstpointer data);

static const struct
{
  const char *name;
  TestFunc func;
  gboolean filtered_only;   /* long, and the same with the legacy subscription */
} tests[] = {
  { "exec-followed", test_exec_followed, FALSE },
  { "exec-unfollowed", test_exec_unfollowed, FALSE },
  { "exit", test_exit, FALSE },
  { "late-exec", test_late_exec, FALSE },
  { "uid-change", test_uid_change, FALSE },
  { "scan-at-follow", test_scan_at_follow, FALSE },
  { "signal", test_signal, FALSE },
  { "reused-pid", test_reused_pid, FALSE },
  { "fork-without-exec", test_fork_without_exec, FALSE },
  { "threads", test_threads, FALSE },
  { "lost-events", test_lost_events, TRUE },
};

int
main (int argc, char **argv)
{
  static const char *const modes[] = { "filtered", "legacy" };
  guint i, legacy;

  g_test_init (&argc, &argv, NULL);
  /* Orphaned grandchildren come to us, so that teardown can reap them. */
  prctl (PR_SET_CHILD_SUBREAPER, 1);

  for (legacy = 0; legacy < G_N_ELEMENTS (modes); legacy++)
    {
      for (i = 0; i < G_N_ELEMENTS (tests); i++)
        {
          g_autofree char *path = NULL;

          if (legacy && tests[i].filtered_only)
            continue;
          path = g_strdup_printf ("/procmon/%s/%s", modes[legacy], tests[i].name);
          if (geteuid () != 0)
            g_test_add_data_func (path, NULL, skip_not_root);
          else
            g_test_add (path, Fixture, GUINT_TO_POINTER (legacy), fixture_set_up, tests[i].func,
                        fixture_tear_down);
        }
      {
        g_autofree char *path = g_strdup_printf ("/procmon/%s/unprivileged", modes[legacy]);

        g_test_add_data_func (path, GUINT_TO_POINTER (legacy),
                              geteuid () != 0 ? skip_not_root : test_unprivileged);
      }
    }
  return g_test_run ();
}
