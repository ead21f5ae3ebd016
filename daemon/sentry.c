/* The sentry: stops a child's purchase attempt the moment it execs, on a
 * thread that nothing else in the daemon can hold up. See sentry.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>

#include "daemon/connector.h"
#include "daemon/pidfd.h"
#include "daemon/procfacts.h"
#include "daemon/sentry.h"
#include "policy/error.h"
#include "policy/matcher.h"

#define RCVBUF_BYTES (4 * 1024 * 1024)
/* A stop the main loop has not settled in this long is killed: the loop
 * lost the exec (a flood overran its buffer), and a purchase must not go
 * on without a parent (fail closed). Marks of the other kinds are dropped. */
#define EXPIRE_US (10 * G_USEC_PER_SEC)
/* Execs older than this are left to the main loop: their race is run, and
 * the loop's own mark of them may have expired. */
#define TOO_OLD_NS (5 * G_GUINT64_CONSTANT (1000000000))

typedef enum {
  MARK_STOPPED,   /* the sentry stopped it; the main loop has not decided */
  MARK_PASSED,    /* the sentry saw it and let it be */
  MARK_SETTLED,   /* the main loop decided before the sentry saw it */
} MarkKind;

typedef struct {
  pid_t pid;
  guint64 exec_ns;      /* names the exec: a pid may exec again */
} MarkKey;

typedef struct {
  MarkKey key;
  MarkKind kind;
  uid_t uid;            /* the process's when the mark was made */
  gint64 since;         /* g_get_monotonic_time () */
} Mark;

struct _PdSentry {
  int sock;             /* (owned) the proc connector, exec events only */
  int wake_fd;          /* (owned) eventfd: the thread is to end */
  int proc_fd;          /* (owned) /proc */
  gboolean listening;   /* a member of the proc connector's group */
  GThread *thread;

  /* What to look for; the thread holds this lock for each exec. */
  GMutex config_lock;
  PdMatcher *matcher;   /* (owned) (nullable) */
  PdMatch *match;       /* (owned) */
  PdMatch *program_match;
  gboolean urls_only;   /* every purchase pattern is a url: one */
  PdFactsBuffer facts;

  /* The marks, the watched uids and the counts; taken by both threads. */
  GMutex marks_lock;
  GHashTable *marks;    /* (owned) MarkKey → Mark (one allocation) */
  uid_t *uids;          /* (owned) children under ask or block */
  guint n_uids;
  gint64 swept;
  PdSentryStats stats;
};

static guint
mark_hash (gconstpointer key)
{
  const MarkKey *k = key;

  return (guint) k->pid ^ (guint) (k->exec_ns >> 7);
}

static gboolean
mark_equal (gconstpointer a, gconstpointer b)
{
  const MarkKey *x = a, *y = b;

  return x->pid == y->pid && x->exec_ns == y->exec_ns;
}

/* Through a pidfd, as procmon.c signals: a process that has ended and
 * whose pid was taken since is not signalled. The window left is between
 * the exec event and pidfd_open, microseconds. */
static gboolean
signal_pid (pid_t pid, int sig)
{
  int fd = pd_pidfd_open (pid);
  gboolean sent;

  if (fd < 0)
    return FALSE;
  sent = pd_pidfd_send_signal (fd, sig) == 0;
  close (fd);
  return sent;
}

static gboolean
watched (PdSentry *sentry, uid_t uid)
{
  for (guint i = 0; i < sentry->n_uids; i++)
    if (sentry->uids[i] == uid)
      return TRUE;
  return FALSE;
}

static void
add_mark (PdSentry *sentry, pid_t pid, guint64 exec_ns, MarkKind kind, uid_t uid)
{
  Mark *mark = g_new (Mark, 1);

  *mark = (Mark) { { pid, exec_ns }, kind, uid, g_get_monotonic_time () };
  g_hash_table_replace (sentry->marks, &mark->key, mark);
}

/* Called with marks_lock held, at most once a second. */
static void
sweep (PdSentry *sentry)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  Mark *mark;

  if (now - sentry->swept < G_USEC_PER_SEC)
    return;
  sentry->swept = now;
  g_hash_table_iter_init (&iter, sentry->marks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &mark))
    {
      if (now - mark->since < EXPIRE_US)
        continue;
      if (mark->kind == MARK_STOPPED)
        {
          g_warning ("Process %d, stopped as a purchase attempt, got no decision in %d s; killed",
                     (int) mark->key.pid, (int) (EXPIRE_US / G_USEC_PER_SEC));
          (void) signal_pid (mark->key.pid, SIGKILL);
          sentry->stats.expired++;
        }
      g_hash_table_iter_remove (&iter);
    }
}

/* Whether pid's exec matches a purchase rule. Called with config_lock. */
/* Whether any argument of pid is a URL: with only url: patterns to match,
 * the many execs without one cost one read of /proc/PID/cmdline. */
static gboolean
has_url_argument (PdSentry *sentry, pid_t pid)
{
  char path[32];
  char *args = sentry->facts.args;
  gsize size = sizeof sentry->facts.args;
  ssize_t len;
  int fd;

  g_snprintf (path, sizeof path, "%d/cmdline", (int) pid);
  fd = openat (sentry->proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  len = read (fd, args, size - 1);
  close (fd);
  if (len <= 0)
    return FALSE;
  args[len] = '\0';
  for (const char *arg = args; arg < args + len; arg += strlen (arg) + 1)
    if (pd_arg_is_url (arg))
      return TRUE;
  /* A URL cut off by a long command line: let the full read decide. */
  return (gsize) len == size - 1;
}

static gboolean
is_purchase (PdSentry *sentry, pid_t pid)
{
  PdFactsBuffer *f = &sentry->facts;

  if (sentry->urls_only && !has_url_argument (sentry, pid))
    return FALSE;
  if (!pd_facts_read (pid, f))
    return FALSE;
  pd_matcher_classify (sentry->matcher, &f->facts, sentry->match);
  if (sentry->match->n_purchases > 0)
    return TRUE;
  if (f->program[0] == '\0')
    return FALSE;
  /* What an interpreter was asked to run, as apps.c classifies it. */
  {
    PdProcessFacts program = f->facts;

    program.exe = f->program;
    pd_matcher_classify (sentry->matcher, &program, sentry->program_match);
  }
  return sentry->program_match->n_purchases > 0;
}

static void
on_exec (PdSentry *sentry, pid_t pid, guint64 exec_ns)
{
  MarkKey key = { pid, exec_ns };
  char name[16];
  struct stat st;
  struct timespec now;
  gboolean purchase, skip;
  Mark *mark;

  clock_gettime (CLOCK_MONOTONIC, &now);
  if ((guint64) now.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) now.tv_nsec > exec_ns + TOO_OLD_NS)
    return;
  g_snprintf (name, sizeof name, "%d", (int) pid);
  if (fstatat (sentry->proc_fd, name, &st, 0) < 0)
    return;

  g_mutex_lock (&sentry->marks_lock);
  skip = !watched (sentry, st.st_uid);
  mark = skip ? NULL : g_hash_table_lookup (sentry->marks, &key);
  if (mark != NULL && mark->kind == MARK_SETTLED)
    {
      g_hash_table_remove (sentry->marks, &key);   /* decided already */
      skip = TRUE;
    }
  g_mutex_unlock (&sentry->marks_lock);
  if (skip)
    return;

  g_mutex_lock (&sentry->config_lock);
  purchase = sentry->matcher != NULL && is_purchase (sentry, pid);
  g_mutex_unlock (&sentry->config_lock);

  g_mutex_lock (&sentry->marks_lock);
  mark = g_hash_table_lookup (sentry->marks, &key);
  if (mark != NULL && mark->kind == MARK_SETTLED)
    g_hash_table_remove (sentry->marks, &key);     /* decided meanwhile */
  else if (purchase && watched (sentry, st.st_uid)  /* still, after a new config */
           && signal_pid (pid, SIGSTOP))
    {
      add_mark (sentry, pid, exec_ns, MARK_STOPPED, st.st_uid);
      sentry->stats.stopped++;
    }
  else
    add_mark (sentry, pid, exec_ns, MARK_PASSED, st.st_uid);
  sweep (sentry);
  g_mutex_unlock (&sentry->marks_lock);
}

static void
handle_message (PdSentry *sentry, const void *buf, size_t len)
{
  const struct nlmsghdr *nlh = buf;
  const struct cn_msg *cn = NLMSG_DATA (nlh);
  struct proc_event ev;

  if (len < NLMSG_HDRLEN + sizeof *cn || nlh->nlmsg_len > len || cn->id.idx != CN_IDX_PROC
      || cn->id.val != CN_VAL_PROC)
    return;
  memset (&ev, 0, sizeof ev);
  memcpy (&ev, cn->data, MIN ((size_t) cn->len, MIN (len - NLMSG_HDRLEN - sizeof *cn, sizeof ev)));
  if (ev.what == PROC_EVENT_EXEC)
    on_exec (sentry, ev.event_data.exec.process_tgid, ev.timestamp_ns);
}

static gpointer
run (gpointer data)
{
  PdSentry *sentry = data;
  struct pollfd fds[2] = { { sentry->sock, POLLIN, 0 }, { sentry->wake_fd, POLLIN, 0 } };
  guint64 buf[256 / sizeof (guint64)];
  struct sched_param param = { .sched_priority = 1 };
  int err;

  /* Nice values only weigh the CPU's shares: a woken thread may still
   * wait for a busy CPU's time slice, milliseconds a program can act in.
   * The lowest real-time priority runs it at once. Its work per exec is
   * bounded, and the kernel caps real-time threads at 95% of the CPU. */
  err = pthread_setschedparam (pthread_self (), SCHED_FIFO, &param);
  if (err != 0)
    g_debug ("The sentry runs without real-time priority: %s", g_strerror (err));

  for (;;)
    {
      ssize_t n;

      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0 && errno != EINTR)
        break;
      if (fds[1].revents != 0)
        break;
      /* Lost events (ENOBUFS) are the main loop's to recover, by a scan. */
      while ((n = recv (sentry->sock, buf, sizeof buf, MSG_DONTWAIT)) > 0 || (n < 0 && errno == ENOBUFS))
        if (n > 0)
          handle_message (sentry, buf, (size_t) n);
    }
  return NULL;
}

/* With no child under ask or block, the sentry leaves the connector's
 * group: it is woken by no exec at all. */
static void
listen_to_execs (PdSentry *sentry, gboolean on)
{
  int group = CN_IDX_PROC;

  if (on == sentry->listening)
    return;
  if (setsockopt (sentry->sock, SOL_NETLINK, on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP,
                  &group, sizeof group) < 0)
    {
      g_warning ("Cannot %s exec events for the sentry: %s", on ? "listen to" : "stop listening to",
                 g_strerror (errno));
      return;
    }
  sentry->listening = on;
}

/* Only exec events reach the socket: the sentry wakes for nothing else.
 * The main loop's subscription has checked that the kernel agrees; the
 * sentry does not wait for an answer of its own. */
static gboolean
subscribe (PdSentry *sentry, GError **error)
{
  struct sock_filter code[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS,
              NLMSG_HDRLEN + sizeof (struct cn_msg) + offsetof (struct proc_event, what)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_EXEC), 0, 1),
    BPF_STMT (BPF_RET | BPF_K, 0xffffffff),
    BPF_STMT (BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = { G_N_ELEMENTS (code), code };
  guint32 cookie = g_random_int () & 0x7fffffff;
  gboolean forced;

  sentry->sock = pd_connector_open (0, &prog, RCVBUF_BYTES, &forced, error);
  if (sentry->sock < 0)
    return FALSE;
  if (!pd_connector_listen (sentry->sock, cookie, PROC_EVENT_EXEC, FALSE))
    {
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot subscribe to exec events: %s",
                   g_strerror (errno));
      return FALSE;
    }
  if (pd_connector_has_event_filter ())
    (void) pd_connector_listen (sentry->sock, cookie, PROC_EVENT_EXEC, TRUE);
  sentry->listening = TRUE;
  listen_to_execs (sentry, FALSE);   /* until a configuration asks for it */
  return TRUE;
}

PdSentry *
pd_sentry_new (GError **error)
{
  g_autoptr (PdSentry) sentry = g_new0 (PdSentry, 1);

  sentry->sock = sentry->wake_fd = -1;
  g_mutex_init (&sentry->config_lock);
  g_mutex_init (&sentry->marks_lock);
  sentry->marks = g_hash_table_new_full (mark_hash, mark_equal, NULL, g_free);
  sentry->proc_fd = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  sentry->wake_fd = eventfd (0, EFD_CLOEXEC);
  if (sentry->proc_fd < 0 || sentry->wake_fd < 0)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot start the sentry: %s", g_strerror (errno));
      return NULL;
    }
  if (!subscribe (sentry, error))
    return NULL;
  sentry->thread = g_thread_new ("pd-sentry", run, sentry);
  return g_steal_pointer (&sentry);
}

void
pd_sentry_free (PdSentry *sentry)
{
  if (sentry == NULL)
    return;
  if (sentry->thread != NULL)
    {
      guint64 one = 1;

      if (write (sentry->wake_fd, &one, sizeof one) != sizeof one)
        g_warning ("Cannot stop the sentry thread: %s", g_strerror (errno));
      g_thread_join (sentry->thread);
      g_debug ("The sentry stopped %" G_GUINT64_FORMAT " purchase attempts; %" G_GUINT64_FORMAT
               " were let run, %" G_GUINT64_FORMAT " got no decision", sentry->stats.stopped,
               sentry->stats.resumed, sentry->stats.expired);
    }
  if (sentry->sock >= 0)
    close (sentry->sock);
  if (sentry->wake_fd >= 0)
    close (sentry->wake_fd);
  if (sentry->proc_fd >= 0)
    close (sentry->proc_fd);
  g_clear_pointer (&sentry->match, pd_match_free);
  g_clear_pointer (&sentry->program_match, pd_match_free);
  g_clear_pointer (&sentry->matcher, pd_matcher_free);
  g_hash_table_unref (sentry->marks);
  g_free (sentry->uids);
  g_mutex_clear (&sentry->config_lock);
  g_mutex_clear (&sentry->marks_lock);
  g_free (sentry);
}

/* Resumes the stops of users no longer under ask or block: the main loop
 * lets their purchases run now, and its decision may never come (a user
 * who is no child any more is not followed), or comes for a uid that
 * settle ignores. Called with marks_lock held. */
static void
release_unwatched (PdSentry *sentry)
{
  GHashTableIter iter;
  Mark *mark;

  g_hash_table_iter_init (&iter, sentry->marks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &mark))
    if (mark->kind == MARK_STOPPED && !watched (sentry, mark->uid))
      {
        (void) signal_pid (mark->key.pid, SIGCONT);
        sentry->stats.resumed++;
        g_hash_table_iter_remove (&iter);
      }
}

void
pd_sentry_set_config (PdSentry *sentry, const PdConfig *config)
{
  g_autofree uid_t *uids = g_new0 (uid_t, MAX (config->children->len, 1));
  guint n = 0;

  for (guint i = 0; i < config->children->len; i++)
    {
      const PdChild *child = g_ptr_array_index (config->children, i);

      if (child->purchases == PD_PURCHASES_ASK || child->purchases == PD_PURCHASES_BLOCK)
        uids[n++] = child->uid;
    }

  g_mutex_lock (&sentry->config_lock);
  g_clear_pointer (&sentry->match, pd_match_free);
  g_clear_pointer (&sentry->program_match, pd_match_free);
  g_clear_pointer (&sentry->matcher, pd_matcher_free);
  sentry->urls_only = TRUE;
  for (guint i = 0; i < config->purchases->len; i++)
    {
      const PdRule *rule = g_ptr_array_index (config->purchases, i);

      for (guint j = 0; j < rule->patterns->len; j++)
        sentry->urls_only &= ((const PdPattern *) g_ptr_array_index (rule->patterns, j))->kind == PD_MATCH_URL;
    }
  if (n > 0 && config->purchases->len > 0)
    {
      sentry->matcher = pd_matcher_new (config);
      sentry->match = pd_match_new (sentry->matcher);
      sentry->program_match = pd_match_new (sentry->matcher);
    }
  g_mutex_unlock (&sentry->config_lock);
  listen_to_execs (sentry, sentry->matcher != NULL);

  g_mutex_lock (&sentry->marks_lock);
  g_free (sentry->uids);
  sentry->uids = g_steal_pointer (&uids);
  sentry->n_uids = sentry->matcher != NULL ? n : 0;
  release_unwatched (sentry);
  g_mutex_unlock (&sentry->marks_lock);
}

/* A stop of pid, whichever exec it was. Called with marks_lock held. */
static Mark *
find_stop_of (PdSentry *sentry, pid_t pid)
{
  GHashTableIter iter;
  Mark *mark;

  g_hash_table_iter_init (&iter, sentry->marks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &mark))
    if (mark->key.pid == pid && mark->kind == MARK_STOPPED)
      return mark;
  return NULL;
}

void
pd_sentry_settle (PdSentry *sentry, pid_t pid, uid_t uid, guint64 exec_ns, gboolean let_run)
{
  MarkKey key = { pid, exec_ns };
  Mark *mark;

  if (sentry == NULL)
    return;
  g_mutex_lock (&sentry->marks_lock);
  if (!watched (sentry, uid))
    {
      g_mutex_unlock (&sentry->marks_lock);
      return;
    }
  if (exec_ns == 0)
    {
      /* A scan or a fork: what the main loop read may predate the exec
       * the sentry stopped, so it resumes nothing; a process it holds or
       * killed is its own from now on. */
      if (!let_run && (mark = find_stop_of (sentry, pid)) != NULL)
        g_hash_table_remove (sentry->marks, &mark->key);
      g_mutex_unlock (&sentry->marks_lock);
      return;
    }
  mark = g_hash_table_lookup (sentry->marks, &key);
  if (mark != NULL && mark->kind == MARK_STOPPED && let_run)
    {
      (void) signal_pid (pid, SIGCONT);
      sentry->stats.resumed++;
    }
  if (mark != NULL)
    g_hash_table_remove (sentry->marks, &mark->key);
  else
    add_mark (sentry, pid, exec_ns, MARK_SETTLED, uid);
  sweep (sentry);
  g_mutex_unlock (&sentry->marks_lock);
}

void
pd_sentry_get_stats (PdSentry *sentry, PdSentryStats *out)
{
  g_mutex_lock (&sentry->marks_lock);
  *out = sentry->stats;
  g_mutex_unlock (&sentry->marks_lock);
}
