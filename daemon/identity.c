/* identity.c owns the identity of the executables the configuration names
 * (size and a content hash, cached per file), so that a renamed copy of one
 * is recognised, whether it runs itself or through an interpreter. */
#define _GNU_SOURCE  /* O_PATH */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/identity.h"

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
  rd = openat (pd_facts_proc_dir (), path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
      return openat (pd_facts_proc_dir (), name, O_PATH | O_CLOEXEC);
    }
  g_snprintf (name, sizeof name, "%d/%s", (int) pid, path[0] == '/' ? "root" : "cwd");
  dir = openat (pd_facts_proc_dir (), name, O_PATH | O_DIRECTORY | O_CLOEXEC);
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
  match_fd (ids, openat (pd_facts_proc_dir (), name, O_PATH | O_CLOEXEC), out);
  /* Opened from the argument, not from facts->program, which joins the
   * working directory as parentd sees it (a chroot shows in it) with an
   * argument as the process sees it. */
  if (facts != NULL &&
      (arg = pd_facts_program_arg (facts->facts.exe, facts->facts.args,
                                   facts->facts.args_len)) != NULL)
    match_fd (ids, open_program (pid, arg), out);
}
