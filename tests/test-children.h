/* Children of the tests against the real kernel (test-procmon,
 * test-sentry): processes under a test uid that die with the test. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* A uid for test_child_fork: the child keeps the test's. */
#define TEST_CHILD_KEEP_UID ((uid_t) -1)
/* alarm (2) in every child: none outlives a crashed test by more. */
#define TEST_CHILD_LIFETIME_S 60

/* Takes uid as real, effective and saved uid and gid, with no groups;
 * exits 126 if it cannot. */
void test_child_become (uid_t uid);
/* SIGKILL when parent dies (set again after each change of uid, which
 * clears it); exits at once if parent is gone already. */
void test_child_die_with (pid_t parent);
/* Forks a child that takes uid (TEST_CHILD_KEEP_UID: the test's), dies
 * with the test, runs fn and exits 0. */
pid_t test_child_fork (uid_t uid, void (*fn) (gconstpointer data), gconstpointer data);

G_END_DECLS
