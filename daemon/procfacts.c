/* procfacts.c owns what parentd learns about one process from /proc (exe,
 * comm, argv, cgroup app ID, Flatpak ID, the program an interpreter runs),
 * and the identity of the executables the configuration names, so that a
 * renamed copy of one is recognised. */
#define _GNU_SOURCE  /* O_PATH, memrchr */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/procfacts.h"

/* What the kernel appends to the exe link of a deleted or replaced file. */
#define DELETED_SUFFIX " (deleted)"

/* File identity
 *
 * A file's identity is its size plus XXH64 (written out below; it agrees
 * with libxxhash's for every length) over 64 KiB blocks, chained through
 * the seed, which starts as the size. XXH64 runs at about 20 GB/s here,
 * GLib's SHA-256 at 0.5. It is not cryptographic on purpose: a collision
 * can only make a file look like a restricted app, never let one escape.
 *
 * A file of up to 4 MiB is hashed whole. A larger one is hashed in its
 * first and last MiB and in 16 blocks of 64 KiB spread evenly between: a
 * 300 MB game costs 3 MiB of reading (0.6 ms) instead of 300 MB (47 ms from
 * the page cache, seconds from disk), on the daemon's one thread. A renamed
 * copy is byte-identical, so it is recognised all the same. Hashing all of
 * it would buy nothing against evasion: one changed byte anywhere defeats
 * any content identity, and that is what the other match kinds are for.
 * What sampling risks is a false positive, two files of the same size that
 * agree in every sampled byte: for executables, two builds of one program.
 *
 * A file is read only when its size is a known one, and then once per
 * (device, inode, size, mtime, ctime) while that stays in an LRU cache of
 * 1,024 files; ctime too, because mtime can be set back. */
#define HASH_BLOCK (64 * 1024)
#define HASH_WHOLE_MAX (4 * 1024 * 1024)
#define HASH_EDGE (1024 * 1024)
#define HASH_SAMPLES 16
/* Bounds on what one configuration may make parentd hash and walk. */
#define MAX_FILES 2000
#define MAX_VISITS 20000
#define MAX_DEPTH 8
#define CACHE_SIZE 1024

#define P1 G_GUINT64_CONSTANT (0x9E3779B185EBCA87)
#define P2 G_GUINT64_CONSTANT (0xC2B2AE3D27D4EB4F)
#define P3 G_GUINT64_CONSTANT (0x165667B19E3779F9)
#define P4 G_GUINT64_CONSTANT (0x85EBCA77C2B2AE63)
#define P5 G_GUINT64_CONSTANT (0x27D4EB2F165667C5)

/* --- /proc ---------------------------------------------------------------- */

static int
proc_dir (void)
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

/* The program argument in args, or NULL. */
static const char *
program_arg (const char *exe, const char *args, gsize args_len)
{
  const Interpreter *in;
  ArgIter it = { args, args + args_len };

  if (exe == NULL || args == NULL || args_len == 0 || (in = interpreter_of (exe)) == NULL)
    return NULL;
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
  const char *arg = program_arg (exe, args, args_len);

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
  const char *arg = program_arg (out->facts.exe, out->facts.args, out->facts.args_len);
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
  dir = openat (proc_dir (), name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return FALSE;
  alive = read_exe (dir, out) && read_comm (dir, out) && read_args (dir, out) &&
          read_cgroup (dir, out) && read_program (dir, out);
  close (dir);
  return alive;
}

/* --- hashing -------------------------------------------------------------- */

static inline guint64
rotl64 (guint64 x, int r)
{
  return (x << r) | (x >> (64 - r));
}

static inline guint64
read64 (const guchar *p)
{
  guint64 v;

  memcpy (&v, p, sizeof v);
  return GUINT64_FROM_LE (v);
}

static inline guint64
xxh_round (guint64 acc, guint64 input)
{
  return rotl64 (acc + input * P2, 31) * P1;
}

static inline guint64
xxh_merge (guint64 acc, guint64 v)
{
  return (acc ^ xxh_round (0, v)) * P1 + P4;
}

/* XXH64 (Yann Collet's xxHash, 64-bit variant). */
static guint64
xxh64 (const guchar *p, gsize len, guint64 seed)
{
  const guchar *end = p + len;
  guint64 h;

  if (len >= 32)
    {
      guint64 v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;

      for (; end - p >= 32; p += 32)
        {
          v1 = xxh_round (v1, read64 (p));
          v2 = xxh_round (v2, read64 (p + 8));
          v3 = xxh_round (v3, read64 (p + 16));
          v4 = xxh_round (v4, read64 (p + 24));
        }
      h = rotl64 (v1, 1) + rotl64 (v2, 7) + rotl64 (v3, 12) + rotl64 (v4, 18);
      h = xxh_merge (xxh_merge (xxh_merge (xxh_merge (h, v1), v2), v3), v4);
    }
  else
    h = seed + P5;
  h += len;
  for (; end - p >= 8; p += 8)
    h = rotl64 (h ^ xxh_round (0, read64 (p)), 27) * P1 + P4;
  if (end - p >= 4)
    {
      guint32 v;

      memcpy (&v, p, sizeof v);
      h = rotl64 (h ^ (guint64) GUINT32_FROM_LE (v) * P1, 23) * P2 + P3;
      p += 4;
    }
  for (; p < end; p++)
    h = rotl64 (h ^ *p * P5, 11) * P1;
  h = (h ^ (h >> 33)) * P2;
  h = (h ^ (h >> 29)) * P3;
  return h ^ (h >> 32);
}

/* The w-th range of a file that its identity covers (see the top). */
static guint
hash_ranges (guint64 size, guint w, guint64 *offset, guint64 *len)
{
  guint64 middle = size - 2 * HASH_EDGE - HASH_BLOCK;

  if (size <= HASH_WHOLE_MAX)
    {
      *offset = 0;
      *len = size;
      return 1;
    }
  *len = w == 0 || w == HASH_SAMPLES + 1 ? HASH_EDGE : HASH_BLOCK;
  if (w == 0)
    *offset = 0;
  else if (w == HASH_SAMPLES + 1)
    *offset = size - HASH_EDGE;
  else
    *offset = HASH_EDGE + middle / (HASH_SAMPLES - 1) * (w - 1);
  return HASH_SAMPLES + 2;
}

static gboolean
hash_fd (int fd, guint64 size, guchar *block, guint64 *out)
{
  guint64 h = size, offset = 0, len = 0;
  guint w, n = 1;

  for (w = 0; w < n; w++)
    {
      n = hash_ranges (size, w, &offset, &len);
      while (len > 0)
        {
          gsize want = (gsize) MIN (len, HASH_BLOCK), got = 0;

          while (got < want)
            {
              gssize r = pread (fd, block + got, want - got, (off_t) (offset + got));

              if (r < 0 && errno == EINTR)
                continue;
              if (r <= 0)
                return FALSE;  /* shrank or failed: no identity */
              got += (gsize) r;
            }
          h = xxh64 (block, want, h);
          offset += want;
          len -= want;
        }
    }
  *out = h;
  return TRUE;
}

/* --- identities ----------------------------------------------------------- */

typedef struct {
  guint64 size;
  guint64 hash;
  guint app;
} Identity;

/* What makes a cached hash stale: ctime too, since mtime can be set back. */
typedef struct {
  guint64 dev, ino, size;
  gint64 mtime_ns, ctime_ns;
} FileKey;

typedef struct {
  FileKey key;
  guint64 hash;
  GList link;     /* in PdIdentities.lru; data points to this entry */
} CacheEntry;

struct _PdIdentities {
  GArray *known;          /* (owned) (element-type Identity) sorted, unique */
  guint n_apps;
  GHashTable *cache;      /* (owned) FileKey * -> (owned) CacheEntry * */
  GQueue lru;             /* most recently used first */
  guchar *block;          /* (owned) HASH_BLOCK bytes */
  guint64 hash_count;
  guint n_files;          /* files looked at while building */
  guint n_visits;         /* directory entries walked while building */
};

static guint
file_key_hash (gconstpointer p)
{
  const FileKey *k = p;
  guint64 h = k->ino * P1 ^ k->dev * P2 ^ k->size * P3 ^ (guint64) k->mtime_ns ^
              (guint64) k->ctime_ns * P5;

  return (guint) (h ^ (h >> 32));
}

static gboolean
file_key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (FileKey)) == 0;
}

static int
identity_cmp (gconstpointer a, gconstpointer b)
{
  const Identity *x = a, *y = b;

  if (x->size != y->size)
    return x->size < y->size ? -1 : 1;
  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return x->app < y->app ? -1 : x->app > y->app;
}

/* The hash of the regular file behind fd (O_PATH will do), from the cache
 * or read now. */
static gboolean
file_hash (PdIdentities *ids, int fd, const struct stat *st, guint64 *hash)
{
  FileKey key = { (guint64) st->st_dev, (guint64) st->st_ino, (guint64) st->st_size,
                  st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_mtim.tv_nsec,
                  st->st_ctim.tv_sec * G_GINT64_CONSTANT (1000000000) + st->st_ctim.tv_nsec };
  CacheEntry *entry = g_hash_table_lookup (ids->cache, &key);
  char path[32];
  int rd;
  gboolean ok;

  if (entry != NULL)
    {
      g_queue_unlink (&ids->lru, &entry->link);
      g_queue_push_head_link (&ids->lru, &entry->link);
      *hash = entry->hash;
      return TRUE;
    }
  /* Reopened through the fd, so that a deleted file still reads. */
  g_snprintf (path, sizeof path, "self/fd/%d", fd);
  rd = openat (proc_dir (), path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (rd < 0)
    return FALSE;
  ok = hash_fd (rd, key.size, ids->block, hash);
  close (rd);
  ids->hash_count++;
  if (!ok)
    return FALSE;

  entry = g_new0 (CacheEntry, 1);
  entry->key = key;
  entry->hash = *hash;
  entry->link.data = entry;
  g_hash_table_insert (ids->cache, &entry->key, entry);
  g_queue_push_head_link (&ids->lru, &entry->link);
  if (ids->lru.length > CACHE_SIZE)
    {
      GList *oldest = g_queue_pop_tail_link (&ids->lru);

      g_hash_table_remove (ids->cache, &((CacheEntry *) oldest->data)->key);
    }
  return TRUE;
}

static gboolean
stat_regular (int fd, struct stat *st)
{
  return fstat (fd, st) == 0 && S_ISREG (st->st_mode) && st->st_size > 0;
}

static void
add_file (PdIdentities *ids, const char *path, gboolean follow, guint app)
{
  int fd = open (path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  struct stat st;
  Identity id = { 0, 0, app };

  if (fd < 0)
    return;
  ids->n_files++;
  if (stat_regular (fd, &st) && file_hash (ids, fd, &st, &id.hash))
    {
      id.size = (guint64) st.st_size;
      g_array_append_val (ids->known, id);
    }
  close (fd);
}

static gboolean
over_budget (const PdIdentities *ids)
{
  return ids->n_files >= MAX_FILES || ids->n_visits >= MAX_VISITS;
}

/* A trailing '*' matches '/' too, so everything below a directory it
 * matched is covered: its executables are identities. */
static void
walk (PdIdentities *ids, const char *path, guint app, guint depth)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && !over_budget (ids) && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      struct stat st;

      ids->n_visits++;
      if (lstat (child, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode) && depth < MAX_DEPTH)
        walk (ids, child, app, depth + 1);
      else if (S_ISREG (st.st_mode) && (st.st_mode & 0111) != 0)
        add_file (ids, child, FALSE, app);
    }
}

static void
add_pattern (PdIdentities *ids, const PdPattern *pattern, guint app)
{
  glob_t matches;
  gsize i;

  /* exe: is an absolute path; nothing else can be enumerated. */
  if (pattern->glob[0] != '/')
    return;
  if (strpbrk (pattern->glob, "*?[\\") == NULL)
    {
      add_file (ids, pattern->glob, TRUE, app);  /* named on purpose: follow it */
      return;
    }
  if (glob (pattern->glob, GLOB_NOSORT | GLOB_PERIOD, NULL, &matches) != 0)
    return;
  for (i = 0; i < matches.gl_pathc && !over_budget (ids); i++)
    {
      const char *base = strrchr (matches.gl_pathv[i], '/');
      struct stat st;

      /* GLOB_PERIOD (fnmatch's '*' matches a leading dot) yields these. */
      if (base != NULL && (strcmp (base, "/.") == 0 || strcmp (base, "/..") == 0))
        continue;
      if (lstat (matches.gl_pathv[i], &st) != 0)
        continue;
      if (S_ISREG (st.st_mode))
        add_file (ids, matches.gl_pathv[i], FALSE, app);
      else if (S_ISDIR (st.st_mode) && g_str_has_suffix (pattern->glob, "*"))
        walk (ids, matches.gl_pathv[i], app, 1);
    }
  globfree (&matches);
  if (over_budget (ids))
    g_warning ("%s:%u: exe:%s: stopped after %u files and %u directory entries; "
               "renamed copies of files beyond those are not recognised",
               pattern->file, pattern->line, pattern->glob, ids->n_files, ids->n_visits);
}

PdIdentities *
pd_identities_new (const PdConfig *config)
{
  PdIdentities *ids;
  guint a, p, kept = 0;

  g_return_val_if_fail (config != NULL, NULL);

  ids = g_new0 (PdIdentities, 1);
  ids->known = g_array_new (FALSE, FALSE, sizeof (Identity));
  ids->n_apps = config->apps->len;
  ids->cache = g_hash_table_new_full (file_key_hash, file_key_equal, NULL, g_free);
  g_queue_init (&ids->lru);
  ids->block = g_malloc (HASH_BLOCK);

  for (a = 0; a < config->apps->len && !over_budget (ids); a++)
    {
      const PdRule *rule = g_ptr_array_index (config->apps, a);

      for (p = 0; p < rule->patterns->len && !over_budget (ids); p++)
        {
          const PdPattern *pattern = g_ptr_array_index (rule->patterns, p);

          if (pattern->kind == PD_MATCH_EXE)
            add_pattern (ids, pattern, a);
        }
    }

  g_array_sort (ids->known, identity_cmp);
  for (a = 0; a < ids->known->len; a++)
    if (kept == 0 || identity_cmp (&g_array_index (ids->known, Identity, a),
                                   &g_array_index (ids->known, Identity, kept - 1)) != 0)
      g_array_index (ids->known, Identity, kept++) = g_array_index (ids->known, Identity, a);
  g_array_set_size (ids->known, kept);
  g_debug ("%u executable identities from %u files", kept, ids->n_files);
  return ids;
}

void
pd_identities_free (PdIdentities *ids)
{
  if (ids == NULL)
    return;
  g_array_unref (ids->known);
  g_hash_table_unref (ids->cache);
  g_free (ids->block);
  g_free (ids);
}

guint64
pd_identities_hash_count (const PdIdentities *ids)
{
  g_return_val_if_fail (ids != NULL, 0);
  return ids->hash_count;
}

/* The first known identity of this size, or known->len. */
static guint
first_of_size (const PdIdentities *ids, guint64 size)
{
  guint lo = 0, hi = ids->known->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (ids->known, Identity, mid).size < size)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
add_app (PdMatch *out, guint app, guint capacity)
{
  guint i = 0;

  while (i < out->n_apps && out->apps[i] < app)
    i++;
  if (i < out->n_apps && out->apps[i] == app)
    return;
  g_return_if_fail (out->n_apps < capacity);
  memmove (out->apps + i + 1, out->apps + i, (out->n_apps - i) * sizeof *out->apps);
  out->apps[i] = app;
  out->n_apps++;
}

/* Adds the apps of the file behind fd (closed here), if it is known. */
static void
match_fd (PdIdentities *ids, int fd, PdMatch *out)
{
  struct stat st;
  guint i;
  guint64 hash;

  if (fd < 0)
    return;
  if (stat_regular (fd, &st) &&
      (i = first_of_size (ids, (guint64) st.st_size)) < ids->known->len &&
      g_array_index (ids->known, Identity, i).size == (guint64) st.st_size &&
      file_hash (ids, fd, &st, &hash))
    for (; i < ids->known->len; i++)
      {
        const Identity *id = &g_array_index (ids->known, Identity, i);

        if (id->size != (guint64) st.st_size)
          break;
        if (id->hash == hash)
          add_app (out, id->app, ids->n_apps);
      }
  close (fd);
}

/* The program an interpreter runs, opened as the process itself would:
 * relative to its working directory, or in its root with symlinks resolved
 * there too (RESOLVE_IN_ROOT), whatever its mount namespace or chroot. That
 * refuses magic links, so a descriptor the process runs ("bash <(cat
 * game.sh)", "python3 /dev/fd/3") is opened through /proc/PID/fd. */
static int
open_program (pid_t pid, const char *path)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
  const char *fd_num = g_str_has_prefix (path, "/dev/fd/") ? path + 8
                       : g_str_has_prefix (path, "/proc/self/fd/") ? path + 14 : NULL;
  char name[64];
  int dir, fd;

  if (fd_num != NULL)
    {
      g_snprintf (name, sizeof name, "%d/fd/%.20s", (int) pid, fd_num);
      return openat (proc_dir (), name, O_PATH | O_CLOEXEC);
    }
  g_snprintf (name, sizeof name, "%d/%s", (int) pid, path[0] == '/' ? "root" : "cwd");
  dir = openat (proc_dir (), name, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return -1;
  fd = path[0] == '/' ? (int) syscall (SYS_openat2, dir, path, &how, sizeof how) : -1;
  if (path[0] != '/' || (fd < 0 && errno == ENOSYS))
    fd = openat (dir, path + strspn (path, "/"), O_PATH | O_CLOEXEC);
  close (dir);
  return fd;
}

void
pd_identities_match (PdIdentities *ids, pid_t pid, const PdFactsBuffer *facts, PdMatch *out)
{
  char name[32];
  const char *arg;

  g_return_if_fail (ids != NULL);
  g_return_if_fail (out != NULL);

  if (ids->known->len == 0)
    return;
  g_snprintf (name, sizeof name, "%d/exe", (int) pid);
  match_fd (ids, openat (proc_dir (), name, O_PATH | O_CLOEXEC), out);
  /* Opened from the argument, not from facts->program, which joins the
   * working directory as parentd sees it (a chroot shows in it) with an
   * argument as the process sees it. */
  if (facts != NULL &&
      (arg = program_arg (facts->facts.exe, facts->facts.args, facts->facts.args_len)) != NULL)
    match_fd (ids, open_program (pid, arg), out);
}
