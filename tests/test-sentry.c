/* Tests of sentry.c against the real kernel: real processes under test
 * uids exec purchase attempts, and the sentry's thread stops them with no
 * main loop running anywhere in this program. They need root (to take
 * other uids and listen to the proc connector); skipped otherwise.
 *
 * The uids are not test-procmon's, so that the two can run side by side
 * (test-procmon counts every process of its uids). */
#define _GNU_SOURCE  /* setresuid (2), setresgid (2), pipe2 (2) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <glib.h>

#include "daemon/connector.h"
#include "daemon/procmon.h"
#include "daemon/sentry.h"
#include "policy/loader.h"
#include "tests/test-children.h"

#define ASK_UID ((uid_t) 61211)
#define LOG_UID ((uid_t) 61212)
#define KEEP_UID TEST_CHILD_KEEP_UID
#define DEADLINE_US (15 * G_USEC_PER_SEC)
/* sentry.c's EXPIRE_US, and a margin for the sweep, which runs at most
 * once a second. */
#define EXPIRE_S 10
#define EXPIRE_DEADLINE_US ((EXPIRE_S + 5) * G_USEC_PER_SEC)
/* pd_sentry_free wakes the thread and joins it: far less than this. */
#define FREE_LIMIT_US (2 * G_USEC_PER_SEC)

/* Both run /bin/sleep. In a purchase attempt the URL is argv[0]: sleep
 * ignores it, and the matcher reads every argument. */
static const char *const purchase_argv[] = { "steam://purchase/1", "60", NULL };
static const char *const sleep_argv[] = { "sleep", "60", NULL };

static const char rules[] =
  "[purchase steam]\n"
  "match = url:steam://purchase/*\n";

/* kid1 under ask, kid2 only logged. */
static const char config_ask[] =
  "[child kid1]\n"
  "purchases = ask\n"
  "[child kid2]\n"
  "purchases = log\n";

/* The other way round, and block. */
static const char config_swapped[] =
  "[child kid1]\n"
  "purchases = log\n"
  "[child kid2]\n"
  "purchases = block\n";

typedef struct
{
  PdSentry *sentry;          /* (owned) (nullable) */
  PdConfig *config;          /* (owned) (nullable) what the sentry was given last */
  PdConfig *old_config;      /* (owned) (nullable) the one before */
  int listener;              /* (owned) the test's own proc connector: exec times */
  GHashTable *exec_ns;       /* (owned) pid → the latest exec's timestamp_ns */
  GArray *children;          /* (owned) pid_t: killed and reaped at teardown */
  guint expired_warnings;    /* atomic */
  gint freed;                /* atomic: pd_sentry_free returned */
  guint log_handler_id;      /* where a test expects a warning, or 0 */
  GLogLevelFlags fatal_mask; /* to restore, with log_handler_id */
} Fixture;

/* Polls cond (no main loop: there is none to iterate); fails after
 * DEADLINE_US. */
#define WAIT_FOR(cond) \
  G_STMT_START { \
    gint64 deadline_ = g_get_monotonic_time () + DEADLINE_US; \
    while (!(cond)) \
      { \
        if (g_get_monotonic_time () > deadline_) \
          g_error ("Timed out waiting for %s", #cond); \
        (void) poll (NULL, 0, 1); \
      } \
  } G_STMT_END

/* ---- configuration ------------------------------------------------------------ */

static gboolean
fake_lookup (const char *name, uid_t *out_uid, gpointer user_data)
{
  if (strcmp (name, "kid1") == 0)
    return (*out_uid = ASK_UID), TRUE;
  if (strcmp (name, "kid2") == 0)
    return (*out_uid = LOG_UID), TRUE;
  return FALSE;
}

static PdConfig *
load (const char *text)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_auto (GStrv) errors = NULL;
  PdConfig *config;

  pd_loader_add_data (loader, "test.conf", text, strlen (text), PD_SOURCE_CONFIG);
  pd_loader_add_data (loader, "rules.conf", rules, sizeof rules - 1, PD_SOURCE_RULES);
  config = pd_loader_finish (loader, &errors);
  if (config == NULL)
    g_error ("unexpected errors:\n%s", g_strjoinv ("\n", errors));
  return config;
}

/* The config must outlive the next call: the fixture keeps the last two. */
static void
set_config (Fixture *f, const char *text)
{
  g_clear_pointer (&f->old_config, pd_config_free);
  f->old_config = g_steal_pointer (&f->config);
  f->config = load (text);
  pd_sentry_set_config (f->sentry, f->config);
}

static PdSentryStats
stats (Fixture *f)
{
  PdSentryStats s;

  pd_sentry_get_stats (f->sentry, &s);
  return s;
}

/* ---- the test's own exec events --------------------------------------------- */

static int
open_listener (void)
{
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
  int bytes = 8 * 1024 * 1024;
  int sock = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);

  g_assert_no_errno (sock);
  (void) setsockopt (sock, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes);
  g_assert_no_errno (bind (sock, (struct sockaddr *) &addr, sizeof addr));
  g_assert_true (pd_connector_listen (sock, 1, PROC_EVENT_EXEC, FALSE));
  if (pd_connector_has_event_filter ())
    g_assert_true (pd_connector_listen (sock, 1, PROC_EVENT_EXEC, TRUE));
  return sock;
}

static void
read_events (Fixture *f)
{
  guint64 buf[1024 / sizeof (guint64)];
  ssize_t n;

  while ((n = recv (f->listener, buf, sizeof buf, 0)) > 0 || (n < 0 && errno == ENOBUFS))
    {
      const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;
      const struct cn_msg *cn = NLMSG_DATA (nlh);
      struct proc_event ev;

      if (n < 0 || (size_t) n < NLMSG_HDRLEN + sizeof *cn + offsetof (struct proc_event, event_data)
          || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
        continue;
      memset (&ev, 0, sizeof ev);
      memcpy (&ev, cn->data, MIN ((size_t) n - NLMSG_HDRLEN - sizeof *cn, sizeof ev));
      if (ev.what == PROC_EVENT_EXEC)
        g_hash_table_insert (f->exec_ns, GINT_TO_POINTER (ev.event_data.exec.process_tgid),
                             g_memdup2 (&ev.timestamp_ns, sizeof ev.timestamp_ns));
    }
  g_assert_cmpint (errno, ==, EAGAIN);
}

/* The kernel's time of pid's exec, as the sentry got it. */
static guint64
exec_ns_of (Fixture *f, pid_t pid)
{
  guint64 *ns;

  WAIT_FOR ((read_events (f), ns = g_hash_table_lookup (f->exec_ns, GINT_TO_POINTER (pid))) != NULL);
  g_assert_cmpuint (*ns, !=, 0);
  return *ns;
}

/* ---- children ------------------------------------------------------------------ */

typedef struct {
  const char *const *argv;
  int report_fd;       /* gets errno if the exec fails; closes on exec */
} Exec;

static void
child_exec (gconstpointer data)
{
  const Exec *e = data;
  int err;

  execv ("/bin/sleep", (char *const *) e->argv);
  err = errno;
  (void) !write (e->report_fd, &err, sizeof err);
  _exit (127);
}

/* Runs /bin/sleep with argv as uid (KEEP_UID: root), and returns once it
 * exec'd. */
static pid_t
spawn (Fixture *f, uid_t uid, const char *const *argv)
{
  int fds[2], err = 0;
  ssize_t n;
  pid_t pid;
  Exec e;

  g_assert_no_errno (pipe2 (fds, O_CLOEXEC));
  e = (Exec) { argv, fds[1] };
  pid = test_child_fork (uid, child_exec, &e);
  g_array_append_val (f->children, pid);
  close (fds[1]);
  do
    n = read (fds[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  close (fds[0]);
  g_assert_cmpint (n, ==, 0);  /* EOF: the exec happened */
  return pid;
}

/* The state letter of /proc/PID/stat: 'T' when stopped. */
static char
state (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (paren = strrchr (text, ')')) == NULL
      || paren[1] != ' ')
    return '?';
  return paren[2];
}

static gboolean
stopped (pid_t pid)
{
  return state (pid) == 'T';
}

/* Alive and not stopped: running, asleep (sleep (1)) or in a page fault. */
static gboolean
runs (pid_t pid)
{
  char c = state (pid);

  return c == 'R' || c == 'S' || c == 'D';
}

static gboolean
dead (pid_t pid)
{
  siginfo_t info = { 0 };

  return waitid (P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
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
  return status;
}

/* A purchase attempt of the child under ask, which the sentry stops: once
 * it is stopped, the sentry has handled every exec before it (one socket,
 * one thread, in order). Settled, so that the counts are final. */
static pid_t
marker (Fixture *f)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);

  WAIT_FOR (stopped (pid));
  pd_sentry_settle (f->sentry, pid, ASK_UID, exec_ns_of (f, pid), TRUE);
  WAIT_FOR (!stopped (pid));
  return pid;
}

/* ---- fixture ----------------------------------------------------------------- */

static void
count_warning (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
  Fixture *f = user_data;

  if (strstr (message, "got no decision") == NULL)
    g_error ("Unexpected warning: %s", message);
  g_atomic_int_inc (&f->expired_warnings);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->children = g_array_new (FALSE, FALSE, sizeof (pid_t));
  f->exec_ns = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  f->listener = open_listener ();
  f->sentry = pd_sentry_new (&error);
  g_assert_no_error (error);
  g_assert_nonnull (f->sentry);
  set_config (f, config_ask);
}

static gpointer
free_sentry (gpointer data)
{
  Fixture *f = data;

  pd_sentry_free (f->sentry);
  g_atomic_int_set (&f->freed, TRUE);
  return NULL;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  gint64 start = g_get_monotonic_time ();
  GThread *freeing;
  guint i;

  /* The sentry's thread ends promptly, whatever it holds stopped. Freed
   * on a thread of its own, so that a hang fails instead of hanging. */
  freeing = g_thread_new ("free-sentry", free_sentry, f);
  while (!g_atomic_int_get (&f->freed))
    {
      if (g_get_monotonic_time () - start > FREE_LIMIT_US)
        g_error ("pd_sentry_free did not return in %d s", (int) (FREE_LIMIT_US / G_USEC_PER_SEC));
      (void) poll (NULL, 0, 1);
    }
  g_thread_join (freeing);
  f->sentry = NULL;
  if (f->log_handler_id != 0)
    {
      g_log_remove_handler (G_LOG_DOMAIN, f->log_handler_id);
      g_log_set_always_fatal (f->fatal_mask);
    }
  for (i = 0; i < f->children->len; i++)
    kill (g_array_index (f->children, pid_t, i), SIGKILL);
  for (i = 0; i < f->children->len; i++)
    waitpid (g_array_index (f->children, pid_t, i), NULL, 0);
  g_array_unref (f->children);
  g_hash_table_unref (f->exec_ns);
  close (f->listener);
  g_clear_pointer (&f->config, pd_config_free);
  g_clear_pointer (&f->old_config, pd_config_free);
}

/* ---- tests ------------------------------------------------------------------- */

/* The point of the sentry: the attempt is stopped with no main loop run. */
static void
test_stop (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);

  WAIT_FOR (stopped (pid));
  WAIT_FOR (stats (f).stopped == 1);
  g_assert_cmpuint (stats (f).resumed, ==, 0);
  g_assert_cmpuint (stats (f).expired, ==, 0);
}

/* Only the decision on that very exec resumes it: not one on another exec
 * of the pid, nor one from a scan (exec_ns 0), which may predate it. */
static void
test_settle_resumes (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);
  guint64 ns;

  WAIT_FOR (stopped (pid));
  ns = exec_ns_of (f, pid);

  pd_sentry_settle (f->sentry, pid, ASK_UID, ns + 1, TRUE);
  pd_sentry_settle (f->sentry, pid, ASK_UID, 0, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 0);
  g_assert_true (stopped (pid));

  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 1);
  WAIT_FOR (!stopped (pid));
  g_assert_false (dead (pid));

  /* Settled once: a second decision changes nothing. */
  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 1);
}

/* A decision to hold keeps it stopped: the main loop's from then on. */
static void
test_settle_holds (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);
  guint64 ns;

  WAIT_FOR (stopped (pid));
  ns = exec_ns_of (f, pid);
  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, FALSE);
  /* The mark is gone: a later "let run" is not the sentry's to act on. */
  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 0);
  g_assert_true (stopped (pid));
}

/* A scan's decision to hold (exec_ns 0) takes the stop over as well. */
static void
test_scan_holds (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);
  guint64 ns;

  WAIT_FOR (stopped (pid));
  ns = exec_ns_of (f, pid);
  pd_sentry_settle (f->sentry, pid, ASK_UID, 0, FALSE);
  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 0);
  g_assert_true (stopped (pid));
}

/* An exec of the child under ask that matches no purchase rule runs on.
 * It exec'd before the marker, so it was handled first. */
static void
test_no_match_runs (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, sleep_argv);

  marker (f);
  g_assert_cmpuint (stats (f).stopped, ==, 1);
  g_assert_true (runs (pid));
}

/* The same attempt by a child under log, and by root (no child), runs. */
static void
test_other_uids_run (Fixture *f, gconstpointer data)
{
  pid_t logged = spawn (f, LOG_UID, purchase_argv);
  pid_t root = spawn (f, KEEP_UID, purchase_argv);

  marker (f);
  g_assert_cmpuint (stats (f).stopped, ==, 1);
  g_assert_true (runs (logged));
  g_assert_true (runs (root));
}

/* A new configuration applies to the next exec: kid1 now logged, kid2
 * blocked. */
static void
test_set_config (Fixture *f, gconstpointer data)
{
  pid_t logged, blocked;

  set_config (f, config_swapped);
  logged = spawn (f, ASK_UID, purchase_argv);
  blocked = spawn (f, LOG_UID, purchase_argv);
  WAIT_FOR (stopped (blocked));
  WAIT_FOR (stats (f).stopped == 1);
  g_assert_true (runs (logged));
}

/* A stop made under ask, and a new configuration under which that child's
 * purchases run (or it is no child any more): the main loop's decision may
 * never come, or comes for a uid the sentry no longer watches. The
 * process must not stay stopped, nor be killed at the expiry. */
static void
test_set_config_releases (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);
  guint64 ns;

  WAIT_FOR (stopped (pid));
  ns = exec_ns_of (f, pid);
  set_config (f, config_swapped);
  WAIT_FOR (!stopped (pid));
  g_assert_cmpuint (stats (f).resumed, ==, 1);
  /* The main loop's decision, with the new configuration, comes late. */
  pd_sentry_settle (f->sentry, pid, ASK_UID, ns, TRUE);
  g_assert_cmpuint (stats (f).resumed, ==, 1);
  g_assert_false (dead (pid));
}

/* A stop no decision came for is killed (fail closed). The sweep runs on
 * activity, at most once a second: a settle of another exec makes some.
 * Slow: waits the whole expiry, 10 s. */
static void
test_expiry (Fixture *f, gconstpointer data)
{
  pid_t pid = spawn (f, ASK_UID, purchase_argv);
  gint64 stopped_at, deadline;
  guint64 poke = 1;
  int status;

  f->fatal_mask = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  f->log_handler_id = g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, count_warning, f);
  WAIT_FOR (stopped (pid));
  stopped_at = g_get_monotonic_time ();
  deadline = stopped_at + EXPIRE_DEADLINE_US;
  while (!dead (pid))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the expiry of process %d", (int) pid);
      /* No such pid: an exec the main loop let run, of no process. */
      pd_sentry_settle (f->sentry, G_MAXINT32, ASK_UID, poke++, TRUE);
      (void) poll (NULL, 0, 100);
    }
  g_assert_cmpint (g_get_monotonic_time () - stopped_at, >=, (EXPIRE_S - 1) * G_USEC_PER_SEC);
  status = reap (f, pid);
  g_assert_true (WIFSIGNALED (status));
  g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
  g_assert_cmpuint (stats (f).expired, ==, 1);
  g_assert_cmpuint (g_atomic_int_get (&f->expired_warnings), ==, 1);
}

/* Settling before the sentry sees the exec (MARK_SETTLED) is not tested:
 * nothing here can hold the sentry's thread back deterministically. */

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
} tests[] = {
  { "stop", test_stop },
  { "settle-resumes", test_settle_resumes },
  { "settle-holds", test_settle_holds },
  { "scan-holds", test_scan_holds },
  { "no-match-runs", test_no_match_runs },
  { "other-uids-run", test_other_uids_run },
  { "set-config", test_set_config },
  { "set-config-releases", test_set_config_releases },
  { "expiry", test_expiry },
};

int
main (int argc, char **argv)
{
  guint i;

  g_test_init (&argc, &argv, NULL);
  for (i = 0; i < G_N_ELEMENTS (tests); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sentry/%s", tests[i].name);

      if (geteuid () != 0)
        g_test_add_data_func (path, NULL, skip_not_root);
      else
        g_test_add (path, Fixture, NULL, fixture_set_up, tests[i].func, fixture_tear_down);
    }
  return g_test_run ();
}
