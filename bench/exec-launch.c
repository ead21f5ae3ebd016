/* exec-launch: the process launcher of bench/bench-exec.
 *
 *   exec-launch latency --uid UID --gid GID [--trials N] [--first-trial K]
 *                       [--timeout-ms MS] [--gap-ms MS] -- PATH ARGV0 [ARG...]
 *     N times: fork; the child drops to UID/GID, reads CLOCK_MONOTONIC and
 *     execs PATH; the parent waits until the child is stopped or dead (a
 *     SIGCHLD through a signalfd, then waitid (2) with WEXITED|WSTOPPED),
 *     or MS pass. It listens on the proc connector too, for the kernel's
 *     own timestamps of the child's exec and exit. In the arguments, "@N@"
 *     becomes the trial's number (from --first-trial K, 0 by default) and
 *     "@C@" a colon: the launcher's own argv, which its child carries until
 *     it execs, must not hold the URL that the daemon looks for in the
 *     program's. One line per trial on stdout:
 *       trial I PID OUTCOME CODE T_EXECVE T_EXEC_EVENT T_EXIT_EVENT T_SEEN
 *     OUTCOME is signaled (CODE: the signal), stopped (CODE: the signal),
 *     exited (CODE: the status), timeout or failed (CODE: errno); the times
 *     are CLOCK_MONOTONIC in ns, 0 when unknown: the child's last clock
 *     read before execve, the kernel's EXEC and EXIT events, and when the
 *     parent woke to the SIGCHLD. A process still there is killed (SIGKILL)
 *     before the next trial.
 *
 *   exec-launch burst [--uid UID --gid GID] --count N -- PATH ARGV0 [ARG...]
 *     Drops to UID/GID once, then forks and execs PATH N times, one after
 *     the other, as a shell runs commands. Prints "burst N FAILED NS".
 *
 *   exec-launch hold MS [ARG...]
 *     Sleeps MS milliseconds and exits 0: a stand-in for a program that
 *     keeps running (the purchase handler), whatever its arguments. */
#define _GNU_SOURCE  /* pipe2 (2) */
#include "config.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>

#include "bench/cn-proc.h"

#define MESSAGE_BYTES 256
/* After the parent saw the outcome, how long it waits for the kernel's
 * events of the trial still in its socket. */
#define EVENT_GRACE_NS (200 * 1000000LL)

typedef struct {
  uid_t uid;
  gid_t gid;
  int have_ids;
  long trials, first, timeout_ms, gap_ms, count;
  const char *path;
  char **argv;
  int argc;
} Options;

static long long
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die (const char *what)
{
  fprintf (stderr, "exec-launch: %s: %s\n", what, strerror (errno));
  exit (1);
}

/* Drops to the uid and gid; the parent-death signal, which a change of
 * credentials clears, is set again so that nothing outlives the benchmark. */
static int
drop_to (const Options *o)
{
  pid_t parent = getppid ();

  if (!o->have_ids)
    return 0;
  if (setgroups (0, NULL) < 0 || setgid (o->gid) < 0 || setuid (o->uid) < 0)
    return -1;
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (125);
  return 0;
}

/* ---- latency -------------------------------------------------------------- */

typedef struct {
  long long exec_ns, exit_ns;
} KernelTimes;

/* Reads what the socket holds, keeping the exec and exit times of pid. */
static void
drain_events (int sock, pid_t pid, KernelTimes *kt)
{
  unsigned long long buf[MESSAGE_BYTES / sizeof (unsigned long long)];

  for (;;)
    {
      struct proc_event ev;
      ssize_t n = recv (sock, buf, sizeof buf, MSG_DONTWAIT);

      if (n < 0)
        {
          if (errno == EINTR || errno == ENOBUFS)
            continue;   /* lost events: this trial may lack kernel times */
          return;
        }
      if (!cn_proc_event (buf, (size_t) n, &ev))
        continue;
      if (ev.what == PROC_EVENT_EXEC && ev.event_data.exec.process_tgid == pid)
        kt->exec_ns = (long long) ev.timestamp_ns;
      else if (ev.what == PROC_EVENT_EXIT && ev.event_data.exit.process_pid == pid &&
               ev.event_data.exit.process_tgid == pid)
        kt->exit_ns = (long long) ev.timestamp_ns;
    }
}

/* argv of a trial: "@N@" is the trial's number, "@C@" a colon. */
static void
substitute (char **out, char **in, int n, long trial)
{
  static char buffers[64][512];
  int i;

  for (i = 0; i < n; i++)
    {
      const char *s = in[i];
      size_t len = 0;

      while (*s != '\0' && len + 24 < sizeof buffers[i])
        {
          if (strncmp (s, "@N@", 3) == 0)
            len += (size_t) snprintf (buffers[i] + len, sizeof buffers[i] - len, "%ld", trial), s += 3;
          else if (strncmp (s, "@C@", 3) == 0)
            buffers[i][len++] = ':', s += 3;
          else
            buffers[i][len++] = *s++;
        }
      buffers[i][len] = '\0';
      out[i] = buffers[i];
    }
  out[n] = NULL;
}

static void
child_exec (const Options *o, int fd, char **argv, const sigset_t *old_mask)
{
  long long t = 0;
  int err;

  sigprocmask (SIG_SETMASK, old_mask, NULL);
  if (drop_to (o) == 0)
    {
      t = now_ns ();
      if (write (fd, &t, sizeof t) != sizeof t)
        _exit (126);
      execv (o->path, argv);
    }
  else if (write (fd, &t, sizeof t) != sizeof t)
    _exit (126);
  err = errno;
  if (write (fd, &err, sizeof err) != sizeof err)
    _exit (126);
  _exit (127);
}

static int
run_latency (const Options *o)
{
  sigset_t chld, old_mask;
  char *argv[64];
  int sock, sfd, filtered = 0;
  long trial;

  if (o->argc >= 64)
    return fprintf (stderr, "exec-launch: too many arguments\n"), 2;
  sock = cn_proc_open (PROC_EVENT_EXEC | PROC_EVENT_EXIT, &filtered);
  if (sock < 0)
    fprintf (stderr, "exec-launch: no proc connector (%s): no kernel timestamps\n",
             strerror (errno));
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, &old_mask);
  sfd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0)
    die ("signalfd");

  for (trial = o->first; trial < o->first + o->trials; trial++)
    {
      KernelTimes kt = { 0, 0 };
      long long t_execve = 0, t_seen = 0, deadline, grace_end;
      const char *outcome = NULL;
      int fds[2], code = 0, err = 0;
      siginfo_t si;
      pid_t pid;
      ssize_t n;

      substitute (argv, o->argv, o->argc, trial);
      if (pipe2 (fds, O_CLOEXEC) < 0)
        die ("pipe2");
      if (sock >= 0)
        drain_events (sock, -1, &kt);   /* what earlier trials left */
      pid = fork ();
      if (pid < 0)
        die ("fork");
      if (pid == 0)
        child_exec (o, fds[1], argv, &old_mask);
      close (fds[1]);

      deadline = now_ns () + o->timeout_ms * 1000000LL;
      while (outcome == NULL)
        {
          struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { sock, POLLIN, 0 } };
          long long left = deadline - now_ns ();
          int r;

          if (left <= 0)
            {
              outcome = "timeout";
              kill (pid, SIGKILL);
              waitid (P_PID, (id_t) pid, &si, WEXITED);
              break;
            }
          r = poll (pfd, sock >= 0 ? 2 : 1, (int) ((left + 999999) / 1000000));
          if (r < 0 && errno != EINTR)
            die ("poll");
          if (r <= 0)
            continue;
          if (pfd[0].revents & POLLIN)
            {
              struct signalfd_siginfo ssi;
              long long t = now_ns ();

              while (read (sfd, &ssi, sizeof ssi) == sizeof ssi)
                ;
              memset (&si, 0, sizeof si);
              if (waitid (P_PID, (id_t) pid, &si, WEXITED | WSTOPPED | WNOHANG) < 0)
                die ("waitid");
              if (si.si_pid != pid)
                continue;
              t_seen = t;
              code = si.si_status;
              if (si.si_code == CLD_STOPPED || si.si_code == CLD_TRAPPED)
                {
                  outcome = "stopped";
                  kill (pid, SIGKILL);
                  waitid (P_PID, (id_t) pid, &si, WEXITED);
                }
              else if (si.si_code == CLD_EXITED)
                outcome = "exited";
              else
                outcome = "signaled";
            }
          if (sock >= 0 && (pfd[1].revents & POLLIN))
            drain_events (sock, pid, &kt);
        }

      /* The child's clock read before execve, and whether execve failed. */
      n = read (fds[0], &t_execve, sizeof t_execve);
      if (n != sizeof t_execve)
        t_execve = 0;
      if (read (fds[0], &err, sizeof err) == sizeof err)
        outcome = "failed", code = err;
      close (fds[0]);

      /* The kernel's events were sent when they happened; collect them. */
      grace_end = now_ns () + EVENT_GRACE_NS;
      while (sock >= 0 && (kt.exec_ns == 0 || kt.exit_ns == 0) && now_ns () < grace_end)
        {
          struct pollfd pfd = { sock, POLLIN, 0 };

          if (poll (&pfd, 1, 10) > 0)
            drain_events (sock, pid, &kt);
        }
      printf ("trial %ld %d %s %d %lld %lld %lld %lld\n", trial, (int) pid, outcome, code,
              t_execve, kt.exec_ns, kt.exit_ns, t_seen);
      fflush (stdout);
      if (o->gap_ms > 0)
        {
          struct timespec gap = { o->gap_ms / 1000, (o->gap_ms % 1000) * 1000000L };

          nanosleep (&gap, NULL);
        }
    }
  return 0;
}

/* ---- burst ---------------------------------------------------------------- */

static int
run_burst (const Options *o)
{
  long i, failed = 0;
  long long start;

  if (drop_to (o) < 0)
    die ("dropping to the uid");
  start = now_ns ();
  for (i = 0; i < o->count; i++)
    {
      int status;
      pid_t pid = fork ();

      if (pid < 0)
        die ("fork");
      if (pid == 0)
        {
          execv (o->path, o->argv);
          _exit (127);
        }
      if (waitpid (pid, &status, 0) < 0 || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
        failed++;
    }
  printf ("burst %ld %ld %lld\n", o->count, failed, now_ns () - start);
  return failed == o->count ? 1 : 0;
}

/* ---- main ----------------------------------------------------------------- */

static long
number (const char *s)
{
  char *end;
  long v = strtol (s, &end, 10);

  if (*s == '\0' || *end != '\0' || v < 0)
    {
      fprintf (stderr, "exec-launch: not a number: %s\n", s);
      exit (2);
    }
  return v;
}

int
main (int argc, char **argv)
{
  Options o = { 0, 0, 0, 500, 0, 2000, 0, 1000, NULL, NULL, 0 };
  const char *mode = argc > 1 ? argv[1] : "";
  int i;

  if (strcmp (mode, "hold") == 0 && argc > 2)
    {
      long ms = number (argv[2]);
      struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

      while (nanosleep (&ts, &ts) < 0 && errno == EINTR)
        ;
      return 0;
    }
  for (i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0 && i + 2 < argc)
        {
          o.path = argv[i + 1];
          o.argv = &argv[i + 2];
          o.argc = argc - i - 2;
          break;
        }
      if (i + 1 >= argc)
        break;
      if (strcmp (argv[i], "--uid") == 0)
        o.uid = (uid_t) number (argv[++i]), o.have_ids |= 1;
      else if (strcmp (argv[i], "--gid") == 0)
        o.gid = (gid_t) number (argv[++i]), o.have_ids |= 2;
      else if (strcmp (argv[i], "--trials") == 0)
        o.trials = number (argv[++i]);
      else if (strcmp (argv[i], "--first-trial") == 0)
        o.first = number (argv[++i]);
      else if (strcmp (argv[i], "--timeout-ms") == 0)
        o.timeout_ms = number (argv[++i]);
      else if (strcmp (argv[i], "--gap-ms") == 0)
        o.gap_ms = number (argv[++i]);
      else if (strcmp (argv[i], "--count") == 0)
        o.count = number (argv[++i]);
      else
        break;
    }
  if (o.path == NULL || (o.have_ids != 0 && o.have_ids != 3) ||
      (strcmp (mode, "latency") != 0 && strcmp (mode, "burst") != 0) ||
      (strcmp (mode, "latency") == 0 && o.have_ids == 0))
    {
      fprintf (stderr,
               "usage: exec-launch latency --uid UID --gid GID [--trials N] [--first-trial K]"
               " [--timeout-ms MS] [--gap-ms MS] -- PATH ARGV0 [ARG...]\n"
               "       exec-launch burst [--uid UID --gid GID] --count N -- PATH ARGV0 [ARG...]\n"
               "       exec-launch hold MS [ARG...]\n");
      return 2;
    }
  o.have_ids = o.have_ids == 3;
  return strcmp (mode, "latency") == 0 ? run_latency (&o) : run_burst (&o);
}
