/* A helper of test-apps.py, compiled by it at test time (cc, into its
 * temporary directory; static too, for a process in a chroot). Copies of
 * it, with bytes appended so that each copy is a file of its own, are the
 * "games" of the tests.
 *
 *   apps-helper pause [ARG...]
 *       Waits forever. The arguments are there to be matched (url:, cmdline:).
 *   apps-helper ignore-term FILE [ARG...]
 *       Waits forever; each SIGTERM writes CLOCK_MONOTONIC (seconds, as
 *       Python's time.monotonic()) to FILE and is otherwise ignored.
 *   apps-helper run-as UID [--cgroup DIR] [--chroot DIR] [--stamp FILE] -- PROG [ARG...]
 *   apps-helper run-as UID [...] -- @ARGVFILE
 *       As root: joins the cgroup DIR, chroots into DIR, drops to UID (gid
 *       UID, no supplementary groups), writes CLOCK_MONOTONIC to FILE at the
 *       last moment before execve, and execs PROG. With @ARGVFILE, the
 *       argument vector is read from that file, one a line, so that it
 *       appears first in the exec'd process (not in this one's argv).
 *   apps-helper spawn N PROG M GAME [GAMEARG...]
 *       Runs N short-lived PROG (posix_spawn, a few at a time, all reaped)
 *       and, spread among them, M long-lived GAME GAMEARG...; prints the
 *       pids of the GAMEs, one a line, and exits once every PROG ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *term_file;

static int
format_now (char *buf, size_t len)
{
  struct timespec ts;
  char digits[32];
  int n = 0, d = 0;
  long long sec;
  long nsec;

  /* snprintf is not async-signal-safe: by hand. */
  clock_gettime (CLOCK_MONOTONIC, &ts);
  sec = ts.tv_sec;
  nsec = ts.tv_nsec;
  do
    digits[d++] = (char) ('0' + sec % 10), sec /= 10;
  while (sec > 0);
  while (d > 0 && (size_t) n < len - 12)
    buf[n++] = digits[--d];
  buf[n++] = '.';
  for (long div = 100000000; div > 0; div /= 10)
    buf[n++] = (char) ('0' + (nsec / div) % 10);
  buf[n++] = '\n';
  return n;
}

static void
write_now (const char *path)
{
  char buf[64];
  int n = format_now (buf, sizeof buf);
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

  if (fd >= 0)
    {
      if (write (fd, buf, (size_t) n) < 0)
        (void) 0;
      close (fd);
    }
}

static void
on_term (int sig)
{
  (void) sig;
  write_now (term_file);
}

static int __attribute__ ((noreturn))
wait_forever (void)
{
  for (;;)
    pause ();
}

/* Reads the argument vector from a file, one a line. */
static char **
read_argv (const char *path)
{
  static char text[65536];
  static char *args[256];
  int fd = open (path, O_RDONLY | O_CLOEXEC), n_args = 0;
  ssize_t len;

  if (fd < 0 || (len = read (fd, text, sizeof text - 1)) <= 0)
    {
      perror (path);
      return NULL;
    }
  close (fd);
  text[len] = '\0';
  for (char *line = strtok (text, "\n"); line != NULL && n_args < 255;
       line = strtok (NULL, "\n"))
    args[n_args++] = line;
  args[n_args] = NULL;
  return n_args > 0 ? args : NULL;
}

static int
run_as (int argc, char **argv)
{
  const char *cgroup = NULL, *root = NULL, *stamp = NULL;
  char **exec_argv;
  int i, stamp_fd = -1;
  uid_t uid;

  if (argc < 3)
    return 2;
  uid = (uid_t) strtoul (argv[2], NULL, 10);
  for (i = 3; i < argc && strcmp (argv[i], "--") != 0; i++)
    {
      if (i + 1 >= argc)
        return 2;
      if (strcmp (argv[i], "--cgroup") == 0)
        cgroup = argv[++i];
      else if (strcmp (argv[i], "--chroot") == 0)
        root = argv[++i];
      else if (strcmp (argv[i], "--stamp") == 0)
        stamp = argv[++i];
      else
        return 2;
    }
  if (i + 1 >= argc)
    return 2;
  /* Files are named outside the chroot: opened before it. */
  exec_argv = argv[i + 1][0] == '@' ? read_argv (argv[i + 1] + 1) : argv + i + 1;
  if (exec_argv == NULL)
    return 126;
  if (stamp != NULL &&
      (stamp_fd = open (stamp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    {
      perror (stamp);
      return 126;
    }
  if (cgroup != NULL)
    {
      char path[4096];
      FILE *f;

      snprintf (path, sizeof path, "%s/cgroup.procs", cgroup);
      f = fopen (path, "w");
      if (f == NULL || fprintf (f, "%d\n", (int) getpid ()) < 0 || fclose (f) != 0)
        {
          perror (path);
          return 126;
        }
    }
  if (root != NULL && (chroot (root) != 0 || chdir ("/") != 0))
    {
      perror (root);
      return 126;
    }
  if (setgroups (0, NULL) != 0 || setresgid (uid, uid, uid) != 0 ||
      setresuid (uid, uid, uid) != 0)
    {
      perror ("dropping to the uid");
      return 126;
    }
  if (stamp_fd >= 0)
    {
      char buf[64];
      int n = format_now (buf, sizeof buf);

      if (write (stamp_fd, buf, (size_t) n) != n)
        return 126;
      close (stamp_fd);
    }
  execv (exec_argv[0], exec_argv);
  perror (exec_argv[0]);
  return 127;
}

static int
is_game (const pid_t *games, long n, pid_t pid)
{
  for (long i = 0; i < n; i++)
    if (games[i] == pid)
      return 1;
  return 0;
}

static int
spawn (int argc, char **argv)
{
  long n, m, every, in_flight = 0, max_in_flight = 4, n_games = 0;
  char *prog_argv[2];
  pid_t *games;

  if (argc < 6)
    return 2;
  n = strtol (argv[2], NULL, 10);
  m = strtol (argv[4], NULL, 10);
  every = m > 0 ? n / m : 0;
  games = calloc ((size_t) m + 1, sizeof *games);
  prog_argv[0] = argv[3];
  prog_argv[1] = NULL;
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (long i = 0; i < n; i++)
    {
      pid_t pid;
      int err;

      if (m > 0 && i % every == every / 2 && i / every < m)
        {
          err = posix_spawn (&pid, argv[5], NULL, NULL, argv + 5, environ);
          if (err != 0)
            {
              fprintf (stderr, "spawn %s: %s\n", argv[5], strerror (err));
              return 1;
            }
          printf ("%d\n", (int) pid);
          games[n_games++] = pid;
        }
      while (in_flight >= max_in_flight)
        {
          int status;
          pid_t done = waitpid (-1, &status, 0);

          if (done < 0)
            {
              perror ("waitpid");
              return 1;
            }
          if (!is_game (games, n_games, done))
            in_flight--;
        }
      err = posix_spawn (&pid, argv[3], NULL, NULL, prog_argv, environ);
      if (err != 0)
        {
          fprintf (stderr, "spawn %s: %s\n", argv[3], strerror (err));
          return 1;
        }
      in_flight++;
    }
  while (in_flight > 0)
    {
      int status;

      pid_t done = waitpid (-1, &status, 0);

      if (done < 0)
        {
          perror ("waitpid");
          return 1;
        }
      if (!is_game (games, n_games, done))
        in_flight--;
    }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "pause") == 0)
    return wait_forever ();
  if (argc >= 3 && strcmp (argv[1], "ignore-term") == 0)
    {
      struct sigaction sa;

      memset (&sa, 0, sizeof sa);
      term_file = argv[2];
      sa.sa_handler = on_term;
      sa.sa_flags = SA_RESTART;
      sigaction (SIGTERM, &sa, NULL);
      return wait_forever ();
    }
  if (argc >= 2 && strcmp (argv[1], "run-as") == 0)
    return run_as (argc, argv);
  if (argc >= 2 && strcmp (argv[1], "spawn") == 0)
    return spawn (argc, argv);
  fprintf (stderr, "usage: see the head of apps-helper.c\n");
  return 2;
}
