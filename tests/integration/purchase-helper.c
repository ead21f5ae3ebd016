/* A helper of test-purchases.py, compiled by it at test time (cc, into its
 * temporary directory), in two roles.
 *
 * Built with -DPDIT_HANDLER it is the "purchase handler": whatever its
 * arguments (they are there to be matched: steam steam://purchase/440,
 * firefox --new-window https://checkout...), it sleeps 10 ms, then creates
 * the file named by $PDIT_OUT and writes its pid there, and exits 0. A
 * $PDIT_OUT ending in '/' is a directory: the file is named by the pid. A
 * handler that the daemon freezes in time never creates its file.
 *
 * Built without it, it is the flood launcher:
 *   purchase-helper flood UID N ARGVFILE [GAP_US]
 *       As root: forks N processes (GAP_US microseconds apart, default 0) that drop to UID (gid UID, no
 *       supplementary groups) and exec the program named on the first line
 *       of ARGVFILE with the argument vector of the following lines (argv[0]
 *       first), "%N" in a line replaced by the process's number, so that the
 *       purchase URL appears first at the exec (not in this process's argv).
 *       Prints "spawned PID" for each, then "all-spawned", then "ended PID
 *       exit N" or "ended PID signal N" as each ends, and "all-ended". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef PDIT_HANDLER

int
main (void)
{
  const char *out = getenv ("PDIT_OUT");
  struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
  char path[4096], text[32];
  size_t len;
  int fd, n;

  if (out == NULL || (len = strlen (out)) == 0 || len > sizeof path - 16)
    return 2;
  /* nanosleep comes back after a SIGSTOP and SIGCONT for the time left. */
  while (nanosleep (&ten_ms, &ten_ms) != 0 && errno == EINTR)
    ;
  if (out[len - 1] == '/')
    snprintf (path, sizeof path, "%s%d", out, (int) getpid ());
  else
    snprintf (path, sizeof path, "%s", out);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return 1;
  n = snprintf (text, sizeof text, "%d\n", (int) getpid ());
  if (write (fd, text, (size_t) n) != n)
    return 1;
  return close (fd) == 0 ? 0 : 1;
}

#else

/* The argument vector in ARGVFILE, one a line: [0] is the program. */
static char **
read_lines (const char *path, int *out_n)
{
  static char text[65536];
  static char *lines[256];
  int fd = open (path, O_RDONLY | O_CLOEXEC), n = 0;
  ssize_t len;

  if (fd < 0 || (len = read (fd, text, sizeof text - 1)) <= 0)
    {
      perror (path);
      return NULL;
    }
  close (fd);
  text[len] = '\0';
  for (char *line = strtok (text, "\n"); line != NULL && n < 255; line = strtok (NULL, "\n"))
    lines[n++] = line;
  lines[n] = NULL;
  *out_n = n;
  return n >= 2 ? lines : NULL;
}

/* line with every "%N" replaced by number. (transfer full) */
static char *
substitute (const char *line, long number)
{
  size_t cap = strlen (line) * 2 + 64, o = 0;
  char *out = malloc (cap);

  for (const char *p = line; *p != '\0' && o + 24 < cap; p++)
    {
      if (p[0] == '%' && p[1] == 'N')
        {
          o += (size_t) snprintf (out + o, cap - o, "%ld", number);
          p++;
        }
      else
        out[o++] = *p;
    }
  out[o] = '\0';
  return out;
}

static int
flood (uid_t uid, long n, const char *argv_file, long gap_us)
{
  int n_lines;
  char **lines = read_lines (argv_file, &n_lines);
  long running = 0;

  if (lines == NULL)
    return 2;
  setvbuf (stdout, NULL, _IOLBF, 0);
  for (long i = 0; i < n; i++)
    {
      struct timespec gap = { gap_us / 1000000, (gap_us % 1000000) * 1000 };
      pid_t pid;

      if (i > 0 && gap_us > 0)
        while (nanosleep (&gap, &gap) != 0 && errno == EINTR)
          ;
      pid = fork ();

      if (pid < 0)
        {
          perror ("fork");
          break;
        }
      if (pid == 0)
        {
          char *args[256];

          for (int j = 1; j < n_lines; j++)
            args[j - 1] = substitute (lines[j], i);
          args[n_lines - 1] = NULL;
          if (setgroups (0, NULL) != 0 || setresgid (uid, uid, uid) != 0 ||
              setresuid (uid, uid, uid) != 0)
            _exit (126);
          execv (lines[0], args);
          _exit (127);
        }
      running++;
      printf ("spawned %d\n", (int) pid);
    }
  printf ("all-spawned\n");
  while (running > 0)
    {
      int status;
      pid_t pid = waitpid (-1, &status, 0);

      if (pid < 0)
        {
          if (errno == EINTR)
            continue;
          perror ("waitpid");
          return 1;
        }
      running--;
      if (WIFSIGNALED (status))
        printf ("ended %d signal %d\n", (int) pid, WTERMSIG (status));
      else
        printf ("ended %d exit %d\n", (int) pid, WEXITSTATUS (status));
    }
  printf ("all-ended\n");
  return 0;
}

int
main (int argc, char **argv)
{
  if ((argc == 5 || argc == 6) && strcmp (argv[1], "flood") == 0)
    return flood ((uid_t) strtoul (argv[2], NULL, 10), strtol (argv[3], NULL, 10), argv[4],
                  argc == 6 ? strtol (argv[5], NULL, 10) : 0);
  fprintf (stderr, "usage: see the head of purchase-helper.c\n");
  return 2;
}

#endif
