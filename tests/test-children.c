/* Children of the tests against the real kernel. */
#define _GNU_SOURCE  /* setresuid (2), setresgid (2) */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "tests/test-children.h"

void
test_child_become (uid_t uid)
{
  if (setgroups (0, NULL) < 0 || setresgid (uid, uid, uid) < 0 || setresuid (uid, uid, uid) < 0)
    {
      g_printerr ("Cannot become uid %u: %s\n", (guint) uid, g_strerror (errno));
      _exit (126);
    }
}

void
test_child_die_with (pid_t parent)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (0);
}

pid_t
test_child_fork (uid_t uid, void (*fn) (gconstpointer data), gconstpointer data)
{
  pid_t parent = getpid ();
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      alarm (TEST_CHILD_LIFETIME_S);
      if (uid != TEST_CHILD_KEEP_UID)
        test_child_become (uid);
      test_child_die_with (parent);
      fn (data);
      _exit (0);
    }
  return pid;
}
