/* exec-floor: the floor of bench/bench-exec. A bare proc-connector listener
 * that learns the uid of each exec and nothing else: what any exec watcher
 * must pay, and what parentd pays for a process of a user it does not
 * follow. It subscribes to EXEC events only (the kernel filters them on
 * Linux 6.6 and later), blocks in recvmmsg (2) without a main loop, and
 * looks up each exec's uid with one fstatat (2) of /proc/PID, as
 * daemon/procmon.c does.
 *
 *   exec-floor [--events exec|daemon] [--uid UID]...
 *
 * Prints "ready" once subscribed. On SIGUSR1 it prints one line of JSON with
 * its counters and goes on; on SIGTERM or SIGINT it prints it and exits.
 * --uid counts that uid's execs apart (up to 8); --events daemon subscribes
 * to the events parentd takes (fork, exec, uid and exit, without threads'
 * events, which a socket filter drops as parentd's does) and still only
 * looks at execs: that tells the cost of receiving them apart. */
#define _GNU_SOURCE  /* recvmmsg (2) */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench/cn-proc.h"

#define BATCH 32
#define MESSAGE_BYTES 256
#define MAX_UIDS 8

static volatile sig_atomic_t report_due, stop_due;

static struct {
  unsigned long long messages, execs, vanished, other_uids, overruns;
  unsigned long long per_uid[MAX_UIDS];
} counts;

static uid_t uids[MAX_UIDS];
static int n_uids;

static void
on_signal (int sig)
{
  if (sig == SIGUSR1)
    report_due = 1;
  else
    stop_due = 1;
}

static void
report (int filtered, const char *events)
{
  struct rusage ru;
  int i;

  getrusage (RUSAGE_SELF, &ru);
  printf ("{\"messages\": %llu, \"execs\": %llu, \"vanished\": %llu, \"overruns\": %llu, "
          "\"other_uids\": %llu, \"filtered\": %s, \"events\": \"%s\", "
          "\"utime_us\": %lld, \"stime_us\": %lld, \"uids\": {",
          counts.messages, counts.execs, counts.vanished, counts.overruns, counts.other_uids,
          filtered ? "true" : "false", events,
          (long long) ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
          (long long) ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
  for (i = 0; i < n_uids; i++)
    printf ("%s\"%u\": %llu", i > 0 ? ", " : "", (unsigned) uids[i], counts.per_uid[i]);
  printf ("}}\n");
  fflush (stdout);
}

/* "PID" in buf, without printf: this is the hot path. */
static const char *
pid_name (char *buf, size_t size, pid_t pid)
{
  char *p = buf + size - 1;
  unsigned value = (unsigned) pid;

  *p = '\0';
  do
    {
      *--p = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0 && p > buf);
  return p;
}

static void
on_exec (int proc_fd, pid_t pid)
{
  char buf[16];
  struct stat st;
  int i;

  counts.execs++;
  if (fstatat (proc_fd, pid_name (buf, sizeof buf, pid), &st, 0) < 0)
    {
      counts.vanished++;   /* normal for short-lived processes */
      return;
    }
  for (i = 0; i < n_uids; i++)
    if (st.st_uid == uids[i])
      {
        counts.per_uid[i]++;
        return;
      }
  counts.other_uids++;
}

int
main (int argc, char **argv)
{
  static struct mmsghdr msgs[BATCH];
  static struct iovec iov[BATCH];
  static unsigned long long buf[BATCH][MESSAGE_BYTES / sizeof (unsigned long long)];
  struct sigaction sa;
  const char *events = "exec";
  uint32_t mask = PROC_EVENT_EXEC;
  int sock, proc_fd, filtered = 0, i;

  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--uid") == 0 && i + 1 < argc && n_uids < MAX_UIDS)
        uids[n_uids++] = (uid_t) strtoul (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--events") == 0 && i + 1 < argc &&
               (strcmp (argv[i + 1], "exec") == 0 || strcmp (argv[i + 1], "daemon") == 0))
        {
          events = argv[++i];
          if (strcmp (events, "daemon") == 0)
            mask = PROC_EVENT_FORK | PROC_EVENT_EXEC | PROC_EVENT_UID | PROC_EVENT_EXIT;
        }
      else
        {
          fprintf (stderr, "usage: %s [--events exec|daemon] [--uid UID]...\n", argv[0]);
          return 2;
        }
    }

  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;   /* no SA_RESTART: recvmmsg returns EINTR */
  sigemptyset (&sa.sa_mask);
  sigaction (SIGUSR1, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);

  proc_fd = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  sock = cn_proc_open (mask, &filtered);
  if (sock >= 0 && mask != PROC_EVENT_EXEC && cn_proc_drop_threads (sock) < 0)
    sock = -1;
  if (proc_fd < 0 || sock < 0)
    {
      fprintf (stderr, "exec-floor: cannot listen to the proc connector: %s (needs root)\n",
               strerror (errno));
      return 1;
    }
  for (i = 0; i < BATCH; i++)
    {
      iov[i].iov_base = buf[i];
      iov[i].iov_len = sizeof buf[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  printf ("ready\n");
  fflush (stdout);

  while (!stop_due)
    {
      /* Blocks for the first message, then takes what else is queued. */
      int n = recvmmsg (sock, msgs, BATCH, MSG_WAITFORONE, NULL);

      if (report_due)
        {
          report_due = 0;
          report (filtered, events);
        }
      if (n < 0)
        {
          if (errno == ENOBUFS)
            counts.overruns++;
          else if (errno != EINTR)
            {
              fprintf (stderr, "exec-floor: recvmmsg: %s\n", strerror (errno));
              return 1;
            }
          continue;
        }
      for (i = 0; i < n; i++)
        {
          struct proc_event ev;

          counts.messages++;
          if (cn_proc_event (buf[i], msgs[i].msg_len, &ev) && ev.what == PROC_EVENT_EXEC)
            on_exec (proc_fd, ev.event_data.exec.process_tgid);
        }
    }
  report (filtered, events);
  return 0;
}
