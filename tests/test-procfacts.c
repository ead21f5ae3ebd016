/* Tests of procfacts.c on real processes: the facts of a process, the
 * program behind an interpreter or ld.so, and file identity against renamed,
 * deleted and altered copies. Each case runs in a subprocess, so that its
 * temporary directory, cgroup and processes go even when it fails. */
#define _GNU_SOURCE  /* O_PATH */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <utime.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "daemon/identity.h"
#include "daemon/procfacts.h"

#define SLEEP "/usr/bin/sleep"
#define LDSO "/lib64/ld-linux-x86-64.so.2"

/* --- helpers ------------------------------------------------------------- */

static const char *
test_dir (void)
{
  const char *dir = g_getenv ("PD_TEST_DIR");

  g_assert_nonnull (dir);
  return dir;
}

static char *
in_dir (const char *name)
{
  return g_build_filename (test_dir (), name, NULL);
}

/* Where a spawned process goes: a cgroup (joined) and a root (chroot). */
typedef struct {
  const char *cgroup;
  const char *root;
} Place;

static void
child_setup (gpointer data)
{
  const Place *place = data;

  /* Its own process group, so that stop() ends a script's children too. */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (place != NULL && place->cgroup != NULL)
    {
      g_autofree char *procs = g_build_filename (place->cgroup, "cgroup.procs", NULL);
      int fd = open (procs, O_WRONLY | O_CLOEXEC);

      if (fd < 0 || write (fd, "0", 1) != 1)
        _exit (127);
      close (fd);
    }
  if (place != NULL && place->root != NULL && (chroot (place->root) != 0 || chdir ("/") != 0))
    _exit (127);
}

static char *
exe_of (pid_t pid)
{
  g_autofree char *link = g_strdup_printf ("/proc/%d/exe", (int) pid);

  return g_file_read_link (link, NULL);
}

/* Starts argv in cwd (or here) and waits until it has exec'd. */
static GPid
spawn_in (const char *cwd, const char *const *argv, const Place *place)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = exe_of (getpid ());
  GPid pid;
  int i;

  g_spawn_async (cwd, (char **) argv, NULL,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, child_setup,
                 (gpointer) place, &pid, &error);
  g_assert_no_error (error);
  for (i = 0; i < 5000; i++)
    {
      g_autofree char *exe = exe_of (pid);

      if (exe != NULL && g_strcmp0 (exe, self) != 0)
        return pid;
      g_usleep (1000);
    }
  g_error ("%s did not start", argv[0]);
}

static GPid
spawn (const char *const *argv)
{
  return spawn_in (NULL, argv, NULL);
}

static void
stop (GPid pid)
{
  kill (-pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

/* Copies from to an executable to; with flip_at >= 0, one bit of the byte
 * there (or of the last byte) changed. */
static void
copy_file (const char *from, const char *to, goffset flip_at)
{
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  if (flip_at >= 0)
    data[MIN ((gsize) flip_at, len - 1)] ^= 0x01;
  g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
  g_assert_cmpint (g_chmod (to, 0755), ==, 0);
}

static void
write_file (const char *path, const char *text)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* A configuration with one app per "NAME=KIND:GLOB" spec. */
static PdConfig *
config_of (const char *const *specs)
{
  PdConfig *config = pd_config_new ();

  for (; *specs != NULL; specs++)
    {
      g_auto(GStrv) parts = g_strsplit (*specs, "=", 2);
      const char *colon = strchr (parts[1], ':');
      PdRule *rule = pd_rule_new (parts[0]);
      PdMatchKind kind;

      g_assert_true (pd_match_kind_from_string (parts[1], (gsize) (colon - parts[1]), &kind));
      pd_rule_add_pattern (rule, kind, colon + 1, "test.conf", 1);
      g_ptr_array_add (config->apps, rule);
    }
  return config;
}

typedef struct {
  PdConfig *config;
  PdMatcher *matcher;
  PdIdentities *ids;
  PdMatch *match;
  PdFactsBuffer facts;
} Setup;

static Setup *
setup_new (const char *const *specs)
{
  Setup *s = g_new0 (Setup, 1);

  s->config = config_of (specs);
  s->matcher = pd_matcher_new (s->config);
  s->ids = pd_identities_new (s->config);
  s->match = pd_match_new (s->matcher);
  return s;
}

static void
setup_free (Setup *s)
{
  pd_match_free (s->match);
  pd_identities_free (s->ids);
  pd_matcher_free (s->matcher);
  pd_config_free (s->config);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Setup, setup_free)

/* The apps that identity alone adds for pid, as "1,3". */
static char *
identify (Setup *s, GPid pid)
{
  GString *out = g_string_new (NULL);
  guint i;

  g_assert_true (pd_facts_read (pid, &s->facts));
  s->match->n_apps = 0;
  pd_identities_match (s->ids, pid, &s->facts, s->match);
  for (i = 0; i < s->match->n_apps; i++)
    g_string_append_printf (out, "%s%u", i > 0 ? "," : "", s->match->apps[i]);
  return g_string_free (out, FALSE);
}

/* --- facts --------------------------------------------------------------- */

static void
test_sleep (void)
{
  const char *argv[] = { SLEEP, "60", NULL };
  GPid pid = spawn (argv);
  PdFactsBuffer b;

  g_assert_true (pd_facts_read (pid, &b));
  g_assert_cmpstr (b.facts.exe, ==, SLEEP);
  g_assert_cmpstr (b.facts.comm, ==, "sleep");
  g_assert_cmpuint (b.facts.args_len, ==, sizeof SLEEP + 3);
  g_assert_cmpmem (b.facts.args, b.facts.args_len, SLEEP "\0" "60", sizeof SLEEP + 3);
  g_assert_cmpstr (b.facts.cmdline, ==, SLEEP " 60");
  g_assert_cmpstr (b.program, ==, "");
  stop (pid);
}

static void
test_long_args (void)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  PdFactsBuffer b;
  GPid pid;
  gsize i;

  g_ptr_array_add (argv, (gpointer) SLEEP);
  g_ptr_array_add (argv, (gpointer) "60");
  for (i = 0; i < 3000; i++)
    g_ptr_array_add (argv, (gpointer) "0.00");
  g_ptr_array_add (argv, NULL);
  pid = spawn ((const char *const *) argv->pdata);

  g_assert_true (pd_facts_read (pid, &b));
  /* Cut at an argument boundary: whole "0.00" arguments, NUL-terminated. */
  g_assert_cmpuint (b.facts.args_len, <=, PD_FACTS_ARGS_MAX);
  g_assert_cmpuint (b.facts.args_len, >, PD_FACTS_ARGS_MAX - 5);
  g_assert_cmpint (b.facts.args[b.facts.args_len - 1], ==, '\0');
  g_assert_cmpuint ((b.facts.args_len - sizeof SLEEP - 3) % 5, ==, 0);
  g_assert_cmpmem (b.facts.args + b.facts.args_len - 5, 5, "0.00", 5);
  g_assert_cmpuint (strlen (b.facts.cmdline), ==, b.facts.args_len - 1);
  for (i = 0; i + 1 < b.facts.args_len; i++)
    g_assert_true (b.facts.args[i] != '\0' || b.facts.cmdline[i] == ' ');
  stop (pid);
}

/* A copy renamed and then deleted while it runs: the exe link follows the
 * rename, drops " (deleted)", and the file still identifies. */
static void
test_deleted (void)
{
  g_autofree char *copy = in_dir ("napper");
  g_autofree char *renamed = in_dir ("napper-renamed");
  const char *argv[] = { copy, "60", NULL };
  const char *specs[] = { "nothing=comm:nothing", "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  GPid pid;

  copy_file (SLEEP, copy, -1);
  pid = spawn (argv);
  g_assert_cmpint (g_rename (copy, renamed), ==, 0);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.facts.exe, ==, renamed);

  g_assert_cmpint (g_unlink (renamed), ==, 0);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.facts.exe, ==, renamed);
  g_assert_cmpstr (s->facts.facts.comm, ==, "napper");
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "1");
  stop (pid);
}

static void
test_vanished (void)
{
  const char *argv[] = { "/bin/true", NULL };
  g_autoptr(GError) error = NULL;
  PdFactsBuffer b;
  GPid pid;
  int i;

  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                 &error);
  g_assert_no_error (error);
  /* A zombie has exited: it is gone, for parentd. */
  for (i = 0; i < 5000; i++)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
      g_autofree char *stat = NULL;

      if (g_file_get_contents (path, &stat, NULL, NULL) && strstr (stat, ") Z ") != NULL)
        break;
      g_usleep (1000);
    }
  g_assert_false (pd_facts_read (pid, &b));
  waitpid (pid, NULL, 0);
  g_assert_false (pd_facts_read (pid, &b));
  g_assert_null (b.facts.exe);
}

/* Without CAP_SYS_PTRACE another user's exe is unreadable: the rest is
 * still there. */
static void
test_unprivileged (void)
{
  const char *argv[] = { SLEEP, "60", NULL };
  GPid pid;
  PdFactsBuffer b;

  pid = spawn (argv);
  g_assert_cmpint (seteuid (65534), ==, 0);
  g_assert_true (pd_facts_read (pid, &b));
  g_assert_cmpint (seteuid (0), ==, 0);
  g_assert_null (b.facts.exe);
  g_assert_cmpstr (b.facts.comm, ==, "sleep");
  g_assert_cmpstr (b.facts.cmdline, ==, SLEEP " 60");
  stop (pid);
}

static void
test_cgroup_none (void)
{
  const char *argv[] = { SLEEP, "60", NULL };
  GPid pid = spawn (argv);
  g_autofree char *path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_autofree char *cgroup = NULL;
  char app_id[256];
  PdFactsBuffer b;

  g_assert_true (g_file_get_contents (path, &cgroup, NULL, NULL));
  g_assert_true (pd_facts_read (pid, &b));
  if (pd_app_id_from_cgroup (cgroup, app_id, sizeof app_id))
    g_assert_cmpstr (b.facts.app_id, ==, app_id);
  else
    g_assert_null (b.facts.app_id);
  g_assert_null (b.facts.flatpak_id);
  stop (pid);
}

/* A root of our own in the test directory: sleep, ld.so and libc. */
static void
make_root (void)
{
  const char *dirs[] = { "bin", "lib64", "lib/x86_64-linux-gnu", NULL };
  const char *files[][2] = {
    { SLEEP, "bin/sleep" }, { SLEEP, "bin/game" }, { LDSO, "lib64/ld-linux-x86-64.so.2" },
    { "/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6" } };
  guint i;

  for (i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *dir = in_dir (dirs[i]);

      g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
    }
  for (i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *to = in_dir (files[i][1]);

      copy_file (files[i][0], to, -1);
    }
}

/* A process in an app-flatpak scope whose root holds .flatpak-info: made
 * here with a cgroup of our own and a chroot. */
static void
test_flatpak (void)
{
  Place place = { g_getenv ("PD_TEST_CGROUP"), test_dir () };
  const char *argv[] = { "/bin/sleep", "60", NULL };
  g_autofree char *info = in_dir (".flatpak-info");
  g_autofree char *exe = in_dir ("bin/sleep");
  PdFactsBuffer b;
  GPid pid;

  g_assert_nonnull (place.cgroup);
  make_root ();
  write_file (info, "[Application]\nname=org.example.Game\nruntime=runtime/x\n\n"
                    "[Instance]\nname=org.example.Other\n");
  pid = spawn_in (NULL, argv, &place);
  g_assert_true (pd_facts_read (pid, &b));
  g_assert_cmpstr (b.facts.app_id, ==, "org.example.Game");
  g_assert_cmpstr (b.facts.flatpak_id, ==, "org.example.Game");
  /* The exe link shows the path from this process's root. */
  g_assert_cmpstr (b.facts.exe, ==, exe);
  stop (pid);
}

/* --- the program behind an interpreter ------------------------------------ */

static void
test_program_parse (void)
{
  /* exe, argv (| for NUL), expected program ("" for none) */
  static const char *const cases[][3] = {
    { "/usr/bin/python3.11", "python3|game.py|--fast", "/home/k/game.py" },
    { "/usr/bin/python3.11", "python3|-u|-OO|-X|dev|-Wignore|./g/game.py", "/home/k/g/game.py" },
    { "/usr/bin/python3.11", "python3|-c|import game", "" },
    { "/usr/bin/python3.11", "python3|-um|game", "" },
    { "/usr/bin/python3.11", "python3|--check-hash-based-pycs|never|/opt/g.py", "/opt/g.py" },
    { "/usr/bin/python3.11", "python3|-", "" },
    { "/usr/bin/python3.11", "python3", "" },
    { "/usr/bin/perl", "perl|-w|-I|lib|-MFoo|game.pl", "/home/k/game.pl" },
    { "/usr/bin/perl", "perl|-wle|print 1", "" },
    { "/usr/bin/ruby3.1", "ruby|-r|json|-W0|game.rb", "/home/k/game.rb" },
    { "/usr/bin/node", "node|--inspect|-r|ts-node|--title|x|game.js", "/home/k/game.js" },
    { "/usr/bin/node", "node|-e|require('./game')", "" },
    { "/usr/bin/dash", "sh|-e|+x|./run.sh", "/home/k/run.sh" },
    { "/usr/bin/bash", "bash|--norc|--rcfile|rc|-o|pipefail|-x|run.sh", "/home/k/run.sh" },
    { "/usr/bin/bash", "bash|-xc|./game", "" },
    { "/usr/bin/bash", "bash|/dev/fd/63", "/dev/fd/63" },
    { "/usr/bin/lua5.4", "lua|-l|socket|game.lua", "/home/k/game.lua" },
    { "/usr/lib/jvm/x/bin/java", "java|-Xmx1G|-cp|a.jar|-Dx=y|-jar|mc.jar|nogui", "/home/k/mc.jar" },
    { "/usr/lib/jvm/x/bin/java", "java|-cp|a.jar|net.Game", "" },
    { "/usr/lib/jvm/x/bin/java", "java|Game.java", "/home/k/Game.java" },
    { "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
      "ld.so|--library-path|/x|--preload|y.so|--inhibit-cache|--argv0|a|/tmp/game|-f", "/tmp/game" },
    { "/lib/ld-2.31.so", "ld.so|../bin/game", "/home/k/../bin/game" },
    { "/lib/ld-linux-aarch64.so.1", "ld.so|--list", "" },
    { "/usr/bin/sleep", "sleep|60", "" },
    { "/usr/bin/pythonic-game", "pythonic-game|x.py", "/home/k/x.py" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *args = g_strconcat (cases[i][1], "|", NULL);
      gsize len = strlen (args), j;
      char buf[PD_FACTS_PATH_MAX];
      gboolean found;

      for (j = 0; j < len; j++)
        if (args[j] == '|')
          args[j] = '\0';
      found = pd_facts_find_program (cases[i][0], args, len, "/home/k/", buf, sizeof buf);
      g_test_message ("%s %s", cases[i][0], cases[i][1]);
      g_assert_cmpstr (buf, ==, cases[i][2]);
      g_assert_true (found == (cases[i][2][0] != '\0'));
    }
}

/* ld.so running a renamed copy of a known binary: its program is the copy,
 * and the copy is identified, though neither exe nor comm says so. */
static void
test_ldso (void)
{
  g_autofree char *copy = in_dir ("game-copy");
  const char *abs_argv[] = { LDSO, "--argv0", "innocent", copy, "60", NULL };
  const char *rel_argv[] = { LDSO, "./game-copy", "60", NULL };
  const char *specs[] = { "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  GPid pid;

  copy_file (SLEEP, copy, -1);
  pid = spawn (abs_argv);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_true (g_str_has_suffix (s->facts.facts.exe, "/ld-linux-x86-64.so.2"));
  g_assert_cmpstr (s->facts.program, ==, copy);
  pd_matcher_classify (s->matcher, &s->facts.facts, s->match);
  g_assert_cmpuint (s->match->n_apps, ==, 0);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "0");
  stop (pid);

  pid = spawn_in (test_dir (), rel_argv, NULL);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.program, ==, copy);
  stop (pid);
}

static void
test_sh_relative (void)
{
  g_autofree char *script = in_dir ("script.sh");
  g_autofree char *copy = in_dir ("innocent.sh");
  const char *argv[] = { "/bin/sh", "-e", "./innocent.sh", "arg", NULL };
  g_autofree char *spec = g_strconcat ("script=exe:", script, NULL);
  const char *specs[] = { "none=comm:none", spec, NULL };
  g_autoptr(Setup) s = NULL;
  g_autofree char *apps = NULL;
  GPid pid;

  write_file (script, "sleep 60\n");
  s = setup_new (specs);
  copy_file (script, copy, -1);
  pid = spawn_in (test_dir (), argv, NULL);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.program, ==, copy);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "1");
  stop (pid);
}

static void
test_python_relative (void)
{
  g_autofree char *game = in_dir ("game.py");
  const char *argv[] = { "/usr/bin/python3", "-u", "-X", "dev", "game.py", NULL };
  PdFactsBuffer b;
  GPid pid;

  write_file (game, "import time\ntime.sleep(60)\n");
  pid = spawn_in (test_dir (), argv, NULL);
  g_assert_true (pd_facts_read (pid, &b));
  g_assert_true (g_str_has_prefix (b.facts.comm, "python3"));
  g_assert_cmpstr (b.program, ==, game);
  stop (pid);
}

/* A program named by its path inside the process's own root (here a
 * chroot, where /bin/game exists and the daemon's /bin/game does not) is
 * identified in that root. */
static void
test_chroot (void)
{
  Place place = { NULL, test_dir () };
  const char *argv[] = { LDSO, "/bin/game", "60", NULL };
  const char *specs[] = { "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  GPid pid;

  make_root ();
  g_assert_false (g_file_test ("/bin/game", G_FILE_TEST_EXISTS));
  pid = spawn_in (NULL, argv, &place);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.program, ==, "/bin/game");
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "0");
  stop (pid);
}

/* --- identity ------------------------------------------------------------- */

static void
test_renamed_copy (void)
{
  g_autofree char *copy = in_dir ("totally-not-sleep");
  const char *argv[] = { copy, "60", NULL };
  const char *specs[] = { "other=exe:/nonexistent", "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  GPid pid;

  copy_file (SLEEP, copy, -1);
  pid = spawn (argv);
  g_assert_true (pd_facts_read (pid, &s->facts));
  g_assert_cmpstr (s->facts.facts.exe, ==, copy);
  pd_matcher_classify (s->matcher, &s->facts.facts, s->match);
  g_assert_cmpuint (s->match->n_apps, ==, 0);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "1");
  stop (pid);
}

/* Same size, one byte different (the last: the section header table, which
 * running does not read): not the same program. */
static void
test_same_size_different (void)
{
  g_autofree char *copy = in_dir ("almost-sleep");
  const char *argv[] = { copy, "60", NULL };
  const char *specs[] = { "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  guint64 hashed = pd_identities_hash_count (s->ids);
  GStatBuf a, b;
  GPid pid;

  copy_file (SLEEP, copy, G_MAXINT64);
  g_assert_cmpint (g_stat (SLEEP, &a), ==, 0);
  g_assert_cmpint (g_stat (copy, &b), ==, 0);
  g_assert_cmpint (a.st_size, ==, b.st_size);
  pid = spawn (argv);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "");
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, hashed + 1);
  stop (pid);
}

/* A file above the whole-hash size (4 MiB) is identified by its sampled
 * bytes: a renamed copy matches, a change in the first MiB does not, and
 * a change between two sampled blocks goes unseen (the trade-off that
 * identity.c explains). */
static void
test_big_file (void)
{
  g_autofree char *game = in_dir ("big-game.sh");
  g_autofree char *copy = in_dir ("renamed.sh");
  g_autofree char *altered = in_dir ("altered.sh");
  g_autofree char *unseen = in_dir ("unseen.sh");
  g_autofree char *spec = g_strconcat ("big=exe:", game, NULL);
  const char *specs[] = { spec, NULL };
  const char *copy_argv[] = { "/bin/sh", copy, NULL };
  const char *altered_argv[] = { "/bin/sh", altered, NULL };
  const char *unseen_argv[] = { "/bin/sh", unseen, NULL };
  g_autoptr(GString) text = g_string_new ("sleep 60\n");
  g_autoptr(Setup) s = NULL;
  g_autofree char *apps = NULL;
  GPid pid;

  while (text->len < 6 * 1024 * 1024)
    g_string_append (text, "# padding padding padding padding padding padding padding\n");
  write_file (game, text->str);
  s = setup_new (specs);
  copy_file (game, copy, -1);
  copy_file (game, altered, 1000);
  /* The first sampled block after the first MiB is 64 KiB long. */
  copy_file (game, unseen, 1024 * 1024 + 100 * 1024);

  pid = spawn (copy_argv);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "0");
  stop (pid);
  g_clear_pointer (&apps, g_free);

  pid = spawn (altered_argv);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "");
  stop (pid);
  g_clear_pointer (&apps, g_free);

  pid = spawn (unseen_argv);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "0");
  stop (pid);
}

static void
test_cache (void)
{
  g_autofree char *copy = in_dir ("copy");
  const char *argv[] = { copy, "60", NULL };
  const char *sh_argv[] = { "/bin/sh", "-c", "sleep 60; exit 0", NULL };
  const char *specs[] = { "sleepy=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  g_autofree char *apps = NULL;
  GPid a, b, c;

  /* Loading hashed the known file; running it is a cache hit. */
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 1);
  copy_file (SLEEP, copy, -1);
  a = spawn (argv);
  b = spawn (argv);
  c = spawn (sh_argv);
  apps = identify (s, a);
  g_assert_cmpstr (apps, ==, "0");
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 2);
  g_free (identify (s, a));
  g_free (identify (s, b));
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 2);
  /* No known binary has sh's size: not even hashed. */
  g_free (identify (s, c));
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 2);
  /* A changed file (here only its times) is hashed again. */
  g_assert_cmpint (g_utime (copy, NULL), ==, 0);
  g_free (identify (s, a));
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 3);
  stop (a);
  stop (b);
  stop (c);
}

/* A glob expands like glob(3), and a trailing '*' covers the executables
 * below the directories it matched; symlinks are not followed. */
static void
test_glob (void)
{
  g_autofree char *games = in_dir ("games");
  g_autofree char *sub = in_dir ("games/sub");
  g_autofree char *game = in_dir ("games/sub/game");
  g_autofree char *link = in_dir ("games/python");
  g_autofree char *glob = g_strconcat ("globbed=exe:", games, "/*", NULL);
  const char *specs[] = { glob, NULL };
  g_autofree char *copy = in_dir ("copy");
  const char *argv[] = { copy, "60", NULL };
  const char *py_argv[] = { "/usr/bin/python3", "-c", "import time; time.sleep(60)", NULL };
  g_autoptr(Setup) s = NULL;
  g_autofree char *apps = NULL;
  g_autofree char *py = NULL;
  GPid pid, py_pid;

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  copy_file (SLEEP, game, -1);
  copy_file (SLEEP, copy, -1);
  g_assert_cmpint (symlink ("/usr/bin/python3", link), ==, 0);
  s = setup_new (specs);
  g_assert_cmpuint (pd_identities_hash_count (s->ids), ==, 1);

  pid = spawn (argv);
  apps = identify (s, pid);
  g_assert_cmpstr (apps, ==, "0");
  stop (pid);
  py_pid = spawn (py_argv);
  py = identify (s, py_pid);
  g_assert_cmpstr (py, ==, "");
  stop (py_pid);
}

/* Identity adds to what the matcher found: ascending, no duplicates. */
static void
test_merge (void)
{
  const char *argv[] = { SLEEP, "60", NULL };
  const char *specs[] = { "a=comm:sleep", "b=exe:/nonexistent", "c=exe:" SLEEP,
                          "d=comm:sleep", "e=exe:" SLEEP, NULL };
  g_autoptr(Setup) s = setup_new (specs);
  GPid pid = spawn (argv);

  g_assert_true (pd_facts_read (pid, &s->facts));
  pd_matcher_classify (s->matcher, &s->facts.facts, s->match);
  g_assert_cmpuint (s->match->n_apps, ==, 4);
  s->match->n_apps = 2;
  s->match->apps[0] = 0;
  s->match->apps[1] = 3;
  pd_identities_match (s->ids, pid, &s->facts, s->match);
  g_assert_cmpuint (s->match->n_apps, ==, 4);
  g_assert_cmpuint (s->match->apps[0], ==, 0);
  g_assert_cmpuint (s->match->apps[1], ==, 2);
  g_assert_cmpuint (s->match->apps[2], ==, 3);
  g_assert_cmpuint (s->match->apps[3], ==, 4);
  pd_identities_match (s->ids, pid, &s->facts, s->match);
  g_assert_cmpuint (s->match->n_apps, ==, 4);
  stop (pid);
}

/* --- isolation ------------------------------------------------------------ */

static gboolean
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (!g_file_test (child, G_FILE_TEST_IS_SYMLINK) && g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

/* A cgroup of our own on the cgroup2 hierarchy, or NULL. */
static char *
make_cgroup (void)
{
  const char *roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      g_autofree char *procs = g_build_filename (roots[i], "cgroup.procs", NULL);
      g_autofree char *path = g_strdup_printf ("%s/app-flatpak-org.example.Game-%d.scope",
                                               roots[i], (int) getpid ());

      if (g_file_test (procs, G_FILE_TEST_EXISTS) && g_mkdir (path, 0755) == 0)
        return g_steal_pointer (&path);
    }
  return NULL;
}

static void
remove_cgroup (const char *path)
{
  int i;

  /* Its processes die with the subprocess; the kernel empties it soon. */
  for (i = 0; i < 2000 && g_rmdir (path) != 0 && errno == EBUSY; i++)
    g_usleep (1000);
}

/* What a case needs of the machine; without it, it is skipped. */
typedef enum {
  NEEDS_ROOT = 1 << 0,      /* to drop privileges, chroot, make cgroups */
  NEEDS_CGROUP = 1 << 1,    /* a cgroup2 hierarchy we may write */
  NEEDS_GLIBC = 1 << 2,     /* x86_64 glibc, to fill a chroot */
  NEEDS_PYTHON = 1 << 3,
} Needs;

typedef struct {
  const char *path;
  GTestFunc func;
  Needs needs;
} Case;

static const char *
unmet (Needs needs, const char *cgroup)
{
  if ((needs & NEEDS_ROOT) && geteuid () != 0)
    return "needs root";
  if ((needs & NEEDS_CGROUP) && cgroup == NULL)
    return "needs a writable cgroup2 hierarchy";
  if ((needs & NEEDS_GLIBC) && !g_file_test ("/lib/x86_64-linux-gnu/libc.so.6", G_FILE_TEST_EXISTS))
    return "needs x86_64 glibc";
  if ((needs & NEEDS_PYTHON) && !g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    return "needs /usr/bin/python3";
  return NULL;
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *cgroup = NULL;
  const char *why;

  if (g_test_subprocess ())
    {
      c->func ();
      return;
    }
  if ((c->needs & NEEDS_CGROUP) && geteuid () == 0)
    cgroup = make_cgroup ();
  if ((why = unmet (c->needs, cgroup)) != NULL)
    {
      if (cgroup != NULL)
        remove_cgroup (cgroup);
      g_test_skip (why);
      return;
    }
  dir = g_dir_make_tmp ("pd-procfacts-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("PD_TEST_DIR", dir, TRUE);
  if (cgroup != NULL)
    g_setenv ("PD_TEST_CGROUP", cgroup, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (cgroup != NULL)
    remove_cgroup (cgroup);
  g_unsetenv ("PD_TEST_CGROUP");
  g_assert_true (rm_rf (dir));
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  static const Case cases[] = {
    { "/procfacts/read/sleep", test_sleep, 0 },
    { "/procfacts/read/long-args", test_long_args, 0 },
    { "/procfacts/read/deleted", test_deleted, 0 },
    { "/procfacts/read/vanished", test_vanished, 0 },
    { "/procfacts/read/unprivileged", test_unprivileged, NEEDS_ROOT },
    { "/procfacts/read/cgroup-none", test_cgroup_none, 0 },
    { "/procfacts/read/flatpak", test_flatpak, NEEDS_ROOT | NEEDS_CGROUP | NEEDS_GLIBC },
    { "/procfacts/program/parse", test_program_parse, 0 },
    { "/procfacts/program/ldso", test_ldso, NEEDS_GLIBC },
    { "/procfacts/program/sh-relative", test_sh_relative, 0 },
    { "/procfacts/program/python-relative", test_python_relative, NEEDS_PYTHON },
    { "/procfacts/program/chroot", test_chroot, NEEDS_ROOT | NEEDS_GLIBC },
    { "/procfacts/identity/renamed-copy", test_renamed_copy, 0 },
    { "/procfacts/identity/same-size-different", test_same_size_different, 0 },
    { "/procfacts/identity/big-file", test_big_file, 0 },
    { "/procfacts/identity/cache", test_cache, 0 },
    { "/procfacts/identity/glob", test_glob, NEEDS_PYTHON },
    { "/procfacts/identity/merge", test_merge, 0 },
  };
  guint i;

  g_test_init (&argc, &argv, NULL);
  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    g_test_add_data_func (cases[i].path, &cases[i], run_case);
  return g_test_run ();
}
