/* procfacts.c owns what parentd learns about one process from /proc (exe,
 * comm, argv, cgroup app ID, Flatpak ID, the program an interpreter runs).
 * The identity of the files behind them is identity.c's. */
#define _GNU_SOURCE  /* O_PATH, memrchr */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "daemon/procfacts.h"

/* What the kernel appends to the exe link of a deleted or replaced file. */
#define DELETED_SUFFIX " (deleted)"

/* --- /proc ---------------------------------------------------------------- */

int
pd_facts_proc_dir (void)
{
  static gsize fd_plus_one = 0;

  if (g_once_init_enter (&fd_plus_one))
    {
      int fd = open ("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);

      if (fd < 0)
        g_error ("Cannot open /proc: %s", g_strerror (errno));
      g_once_init_leave (&fd_plus_one, (gsize) fd + 1);
    }
  return (int) fd_plus_one - 1;
}

static gboolean
vanished (int err)
{
  return err == ENOENT || err == ESRCH;
}

/* Reads up to size bytes of dir/name; the count, or -errno. A short read
 * is the end (true of /proc and of regular files), which saves a read per
 * file. O_NONBLOCK because some of these files are in the process's own
 * namespace: a FIFO there must not hang the daemon. */
static gssize
read_at (int dir, const char *name, char *buf, gsize size)
{
  gsize got = 0;
  int fd = openat (dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  int err = 0;

  if (fd < 0)
    return -errno;
  while (got < size)
    {
      gsize want = size - got;
      gssize n = read (fd, buf + got, want);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        err = errno;
      if (n <= 0)
        break;
      got += (gsize) n;
      if ((gsize) n < want)
        break;
    }
  close (fd);
  return err != 0 && got == 0 ? -err : (gssize) got;
}

/* readlink into buf, NUL-terminated, " (deleted)" removed; the length, or
 * -errno (-ENAMETOOLONG when it does not fit: a cut path is a wrong one). */
static gssize
link_at (int dir, const char *name, char *buf, gsize size)
{
  gssize n = readlinkat (dir, name, buf, size);

  if (n < 0)
    return -errno;
  if ((gsize) n >= size)
    return -ENAMETOOLONG;
  buf[n] = '\0';
  if ((gsize) n > strlen (DELETED_SUFFIX) && g_str_has_suffix (buf, DELETED_SUFFIX))
    buf[n -= (gssize) strlen (DELETED_SUFFIX)] = '\0';
  return n;
}

/* --- the program behind an interpreter ------------------------------------ */

/* The interpreters whose argv names the program they run: python*, pypy*,
 * perl*, ruby*, node, nodejs, lua* (luajit too), java (-jar FILE, or a
 * Game.java source file), the shells sh, bash, dash, zsh, ksh, mksh, ash
 * and yash, and the dynamic loader (ld-*.so*, ld64.so*). Each one's options
 * are skipped as it parses them, so that "python3 -X dev -u game.py" finds
 * game.py. What argv cannot show is out of reach: code given inline
 * ("python3 -c", "sh -c", "perl -e"), a module ("python3 -m"), a java
 * @argfile, and a name without '/' that bash or ld.so looks up in PATH or
 * the library path (it is resolved against the working directory only). */

typedef enum { ARGS_LOADER, ARGS_GETOPT, ARGS_JAVA } ArgStyle;

typedef struct {
  const char *name;
  gboolean prefix;                  /* name is a prefix of the basename */
  ArgStyle style;
  const char *with_arg;             /* short options taking an argument */
  const char *rest;                 /* short options taking the rest of their cluster */
  const char *no_file;              /* short options that mean no program file */
  const char *const *long_with_arg; /* long options taking the next argument */
  const char *const *long_no_file;
  gboolean plus;                    /* "+x" is an option cluster too (shells) */
} Interpreter;

static const char *const python_long[] = { "--check-hash-based-pycs", NULL };
static const char *const node_long[] = {
  "--require", "--import", "--loader", "--experimental-loader", "--input-type", "--title",
  "--conditions", NULL };
static const char *const node_long_no_file[] = { "--eval", "--print", NULL };
static const char *const shell_long[] = { "--rcfile", "--init-file", NULL };
static const char *const loader_with_arg[] = {
  "--library-path", "--inhibit-rpath", "--audit", "--preload", "--argv0",
  "--glibc-hwcaps-prefix", "--glibc-hwcaps-mask", NULL };
static const char *const java_with_arg[] = {
  "-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path",
  "--add-modules", "--add-opens", "--add-exports", "--add-reads", "--limit-modules",
  "--patch-module", "--source", "--enable-native-access", NULL };
static const char *const java_no_file[] = { "--module", NULL };

#define SHELL(n) { n, FALSE, ARGS_GETOPT, "oO", "", "cs", shell_long, NULL, TRUE }
static const Interpreter interpreters[] = {
  { "python", TRUE, ARGS_GETOPT, "WXQ", "", "cm", python_long, NULL, FALSE },
  { "pypy", TRUE, ARGS_GETOPT, "WXQ", "", "cm", python_long, NULL, FALSE },
  { "perl", TRUE, ARGS_GETOPT, "I", "CdDiMmxVF", "eE", NULL, NULL, FALSE },
  { "ruby", TRUE, ARGS_GETOPT, "CEIr", "FKTWx", "e", NULL, NULL, FALSE },
  { "node", FALSE, ARGS_GETOPT, "rC", "", "ep", node_long, node_long_no_file, FALSE },
  { "nodejs", FALSE, ARGS_GETOPT, "rC", "", "ep", node_long, node_long_no_file, FALSE },
  { "lua", TRUE, ARGS_GETOPT, "lj", "O", "eb", NULL, NULL, FALSE },
  { "java", FALSE, ARGS_JAVA, NULL, NULL, NULL, java_with_arg, NULL, FALSE },
  SHELL ("sh"), SHELL ("bash"), SHELL ("dash"), SHELL ("zsh"), SHELL ("ksh"),
  SHELL ("mksh"), SHELL ("ash"), SHELL ("yash"),
};
static const Interpreter loader = {
  "ld.so", FALSE, ARGS_LOADER, NULL, NULL, NULL, loader_with_arg, NULL, FALSE };

static const Interpreter *
interpreter_of (const char *exe)
{
  const char *base = strrchr (exe, '/');
  guint i;

  base = base != NULL ? base + 1 : exe;
  /* ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ld-2.31.so, ld64.so.2 */
  if ((g_str_has_prefix (base, "ld-") || g_str_has_prefix (base, "ld64.")) &&
      strstr (base, ".so") != NULL)
    return &loader;
  for (i = 0; i < G_N_ELEMENTS (interpreters); i++)
    {
      const Interpreter *in = &interpreters[i];

      if (in->prefix ? g_str_has_prefix (base, in->name) : strcmp (base, in->name) == 0)
        return in;
    }
  return NULL;
}

typedef struct {
  const char *p, *end;
} ArgIter;

static const char *
next_arg (ArgIter *it)
{
  const char *arg = it->p;

  if (it->p >= it->end)
    return NULL;
  it->p += strnlen (it->p, (gsize) (it->end - it->p)) + 1;
  return arg;
}

/* Whether arg is one of the long options, alone or as "--name=value". */
static gboolean
long_option_in (const char *const *names, const char *arg)
{
  gsize len = strcspn (arg, "=");

  for (; names != NULL && *names != NULL; names++)
    if (strlen (*names) == len && strncmp (*names, arg, len) == 0)
      return TRUE;
  return FALSE;
}

static const char *
program_loader (ArgIter *it)
{
  static const char *const flags[] = {
    "--list", "--verify", "--inhibit-cache", "--list-tunables", "--list-diagnostics",
    "--help", "--version", "--", NULL };
  const char *arg;

  while ((arg = next_arg (it)) != NULL)
    {
      if (long_option_in (loader_with_arg, arg) && strchr (arg, '=') == NULL)
        next_arg (it);
      else if (!long_option_in (flags, arg))
        return g_str_has_prefix (arg, "--") ? NULL : arg;  /* ld.so refuses it */
    }
  return NULL;
}

static const char *
program_java (ArgIter *it)
{
  const char *arg;

  while ((arg = next_arg (it)) != NULL)
    {
      if (strcmp (arg, "-jar") == 0)
        return next_arg (it);
      if (long_option_in (java_with_arg, arg) && strchr (arg, '=') == NULL)
        next_arg (it);
      else if (strcmp (arg, "-m") == 0 || long_option_in (java_no_file, arg))
        return NULL;
      else if (arg[0] != '-')
        /* A main class has no file of its own; "java Game.java" runs a
         * source file. An @argfile is not followed. */
        return g_str_has_suffix (arg, ".java") ? arg : NULL;
    }
  return NULL;
}

static const char *
program_getopt (const Interpreter *in, ArgIter *it)
{
  const char *arg;

  while ((arg = next_arg (it)) != NULL)
    {
      gsize i;

      if (strcmp (arg, "--") == 0)
        {
          arg = next_arg (it);
          break;
        }
      if (g_str_has_prefix (arg, "--"))
        {
          if (long_option_in (in->long_no_file, arg))
            return NULL;
          if (long_option_in (in->long_with_arg, arg) && strchr (arg, '=') == NULL)
            next_arg (it);
          continue;
        }
      if (!(arg[0] == '-' || (arg[0] == '+' && in->plus)) || arg[1] == '\0')
        break;
      for (i = 1; arg[i] != '\0'; i++)
        {
          if (strchr (in->no_file, arg[i]) != NULL)
            return NULL;
          if (strchr (in->with_arg, arg[i]) != NULL)
            {
              if (arg[i + 1] == '\0')
                next_arg (it);
              break;
            }
          if (strchr (in->rest, arg[i]) != NULL)
            break;
        }
    }
  /* "-" is standard input. */
  return arg == NULL || arg[0] == '\0' || strcmp (arg, "-") == 0 ? NULL : arg;
}

const char *
pd_facts_program_arg (const char *exe, const char *args, gsize args_len)
{
  const Interpreter *in;
  ArgIter it;

  if (exe == NULL || args == NULL || args_len == 0 || (in = interpreter_of (exe)) == NULL)
    return NULL;
  /* Only now: args + args_len on a NULL args would be undefined. */
  it = (ArgIter) { args, args + args_len };
  next_arg (&it);  /* argv[0] */
  switch (in->style)
    {
    case ARGS_LOADER:
      return program_loader (&it);
    case ARGS_JAVA:
      return program_java (&it);
    case ARGS_GETOPT:
    default:
      return program_getopt (in, &it);
    }
}

/* Appends "/" and rel (without leading "./") to the directory that buf
 * holds in its first dir_len bytes. */
static gboolean
append_path (char *buf, gsize buflen, gsize dir_len, const char *rel)
{
  gsize rel_len;

  while (rel[0] == '.' && rel[1] == '/')
    rel += 2 + strspn (rel + 2, "/");
  rel_len = strlen (rel);
  if (dir_len > 0 && buf[dir_len - 1] == '/')
    dir_len--;
  if (dir_len + 1 + rel_len >= buflen)
    return FALSE;
  buf[dir_len] = '/';
  memcpy (buf + dir_len + 1, rel, rel_len + 1);
  return TRUE;
}

gboolean
pd_facts_find_program (const char *exe, const char *args, gsize args_len, const char *cwd,
                       char *buf, gsize buflen)
{
  const char *arg = pd_facts_program_arg (exe, args, args_len);

  g_return_val_if_fail (buf != NULL && buflen > 0, FALSE);

  buf[0] = '\0';
  if (arg == NULL)
    return FALSE;
  if (arg[0] == '/')
    return g_strlcpy (buf, arg, buflen) < buflen;
  if (cwd == NULL || cwd[0] != '/' || strlen (cwd) >= buflen)
    return FALSE;
  memcpy (buf, cwd, strlen (cwd));
  if (!append_path (buf, buflen, strlen (cwd), arg))
    buf[0] = '\0';
  return buf[0] != '\0';
}

/* --- facts ---------------------------------------------------------------- */

/* Each reader returns FALSE only when the process is gone; any other
 * failure (EACCES without CAP_SYS_PTRACE) leaves its fact NULL. */

static gboolean
read_exe (int dir, PdFactsBuffer *out)
{
  gssize n = link_at (dir, "exe", out->exe, sizeof out->exe);

  /* No exe: the process has exited, or is exiting (its memory is gone).
   * A kernel thread, which never has one, reads as gone too. */
  if (vanished ((int) -n))
    return FALSE;
  if (n > 0)
    out->facts.exe = out->exe;
  return TRUE;
}

static gboolean
read_comm (int dir, PdFactsBuffer *out)
{
  gssize n = read_at (dir, "comm", out->comm, sizeof out->comm - 1);

  if (n < 0)
    return !vanished ((int) -n);
  if (n > 0 && out->comm[n - 1] == '\n')
    n--;
  out->comm[n] = '\0';
  out->facts.comm = out->comm;
  return TRUE;
}

static gboolean
read_args (int dir, PdFactsBuffer *out)
{
  gssize n = read_at (dir, "cmdline", out->args, sizeof out->args);
  gsize len = (gsize) MAX (n, 0);
  gsize i;

  if (n <= 0)
    return n == 0 || !vanished ((int) -n);  /* empty: a zombie or a kernel thread */
  if (len == sizeof out->args && out->args[len - 1] != '\0')
    {
      /* Cut at the last argument that fits whole, or cut the only one. */
      const char *nul = memrchr (out->args, '\0', len - 1);

      len = nul != NULL ? (gsize) (nul - out->args) + 1 : len;
      out->args[len - 1] = '\0';
    }
  else if (out->args[len - 1] != '\0')
    out->args[len++] = '\0';  /* a process that rewrote its argv */

  for (i = 0; i + 1 < len; i++)
    out->cmdline[i] = out->args[i] != '\0' ? out->args[i] : ' ';
  out->cmdline[len - 1] = '\0';
  out->facts.args = out->args;
  out->facts.args_len = len;
  out->facts.cmdline = out->cmdline;
  return TRUE;
}

/* The "name=" of the [Application] group of /.flatpak-info, which Flatpak
 * puts in every sandbox. */
static void
read_flatpak_id (int dir, PdFactsBuffer *out)
{
  char info[4096];
  gssize n = read_at (dir, "root/.flatpak-info", info, sizeof info - 1);
  const char *line;

  if (n <= 0)
    return;
  info[n] = '\0';
  line = strstr (info, "[Application]\n");
  if (line == NULL || (line != info && line[-1] != '\n'))
    return;
  for (line = strchr (line, '\n') + 1; *line != '\0' && *line != '[';)
    {
      gsize len = strcspn (line, "\n");

      if (g_str_has_prefix (line, "name="))
        {
          gsize value = strcspn (line + 5, "\r\n");

          if (value > 0 && value < sizeof out->flatpak_id)
            {
              memcpy (out->flatpak_id, line + 5, value);
              out->flatpak_id[value] = '\0';
              out->facts.flatpak_id = out->flatpak_id;
            }
          return;
        }
      line += len + (line[len] == '\n');
    }
}

static gboolean
read_cgroup (int dir, PdFactsBuffer *out)
{
  char cgroup[8192];
  gssize n = read_at (dir, "cgroup", cgroup, sizeof cgroup - 1);

  if (n < 0)
    return !vanished ((int) -n);
  if ((gsize) n == sizeof cgroup - 1)
    {
      /* Too long for the buffer: drop the line it cut. */
      char *nl = memrchr (cgroup, '\n', (gsize) n);

      n = nl != NULL ? nl - cgroup : 0;
    }
  cgroup[n] = '\0';
  if (pd_app_id_from_cgroup (cgroup, out->app_id, sizeof out->app_id))
    out->facts.app_id = out->app_id;
  /* Only a process that a Flatpak scope holds costs the extra read. */
  if (strstr (cgroup, "/app-flatpak-") != NULL)
    read_flatpak_id (dir, out);
  return TRUE;
}

static gboolean
read_program (int dir, PdFactsBuffer *out)
{
  const char *arg = pd_facts_program_arg (out->facts.exe, out->facts.args, out->facts.args_len);
  char cwd[PD_FACTS_PATH_MAX];
  gssize n = 0;

  if (arg != NULL && arg[0] != '/' && (n = link_at (dir, "cwd", cwd, sizeof cwd)) < 0)
    return !vanished ((int) -n);
  if (arg != NULL)
    pd_facts_find_program (out->facts.exe, out->facts.args, out->facts.args_len,
                           arg[0] != '/' ? cwd : NULL, out->program, sizeof out->program);
  return TRUE;
}

gboolean
pd_facts_read (pid_t pid, PdFactsBuffer *out)
{
  char name[16];
  int dir;
  gboolean alive;

  g_return_val_if_fail (pid > 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (&out->facts, 0, sizeof out->facts);
  out->exe[0] = out->comm[0] = out->app_id[0] = out->flatpak_id[0] = out->program[0] = '\0';

  /* Every read goes through this directory, so all facts come from the
   * same process even if its pid is reused meanwhile. */
  g_snprintf (name, sizeof name, "%d", (int) pid);
  dir = openat (pd_facts_proc_dir (), name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return FALSE;
  alive = read_exe (dir, out) && read_comm (dir, out) && read_args (dir, out) &&
          read_cgroup (dir, out) && read_program (dir, out);
  close (dir);
  return alive;
}
