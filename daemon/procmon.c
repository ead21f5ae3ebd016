/* procmon.c owns the kernel's process events (the proc connector), the
 * /proc scans that recover lost ones, and the table of the followed users'
 * live processes. */
#define _GNU_SOURCE  /* recvmmsg (2) */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>

#include <glib-unix.h>

#include "daemon/connector.h"
#include "daemon/pidfd.h"
#include "daemon/procmon.h"
#include "policy/error.h"


/* 8 MiB held 20,000 execs while the listener stalled for 3 s on the
 * development machines; the default buffer lost events. */
#define RCVBUF_BYTES (8 * 1024 * 1024)
#define BATCH 32              /* messages per recvmmsg (2) */
#define MESSAGE_BYTES 256     /* one message is 76 bytes */
/* Messages per wakeup, so that a fork bomb cannot starve the main loop's
 * other sources; the socket stays readable and the loop comes back. */
#define DRAIN_MAX 65536
#define FORK_REPORT_MS 50     /* see on_fork */
/* The kernel answers a subscription at once; this bounds one that would
 * not (start-up only). */
#define ACK_WAIT_MS 250

#define NO_EVENTS_MESSAGE \
  "cannot receive process events: the proc connector needs CAP_NET_ADMIN (run parentd as " \
  "root); app limits, blocked apps and purchase holds are off, screen time is still counted"

/* A followed exec handled later than this is counted and logged. */
#define LATE_EXEC_MS 2
#define EVENT_MASK (PROC_EVENT_FORK | PROC_EVENT_EXEC | PROC_EVENT_UID | PROC_EVENT_EXIT)

/* Where an event's fields are in a message, for the socket filter. Exec,
 * exit and id events all start with process_pid and process_tgid. */
#define EVENT_AT (NLMSG_HDRLEN + sizeof (struct cn_msg))
#define WHAT_AT (EVENT_AT + offsetof (struct proc_event, what))
#define DATA_AT (EVENT_AT + offsetof (struct proc_event, event_data))
#define CHILD_PID_AT (DATA_AT + offsetof (struct fork_proc_event, child_pid))
#define CHILD_TGID_AT (DATA_AT + offsetof (struct fork_proc_event, child_tgid))
#define PID_AT (DATA_AT + offsetof (struct exec_proc_event, process_pid))
#define TGID_AT (DATA_AT + offsetof (struct exec_proc_event, process_tgid))
G_STATIC_ASSERT (offsetof (struct exit_proc_event, process_tgid) == 4);
G_STATIC_ASSERT (offsetof (struct id_proc_event, process_tgid) == 4);
/* The bytes of an event read at least (fork and id events: 16 of data). */
#define EVENT_MIN_BYTES (offsetof (struct proc_event, event_data) + 16)

typedef struct
{
  pid_t pid;
  uid_t uid;
  guint64 start_time;      /* /proc/PID/stat field 22: tells a reused pid */
  guint generation;        /* of the last scan that saw it */
  gboolean reported;       /* FALSE while a forked child waits for its exec */
  gpointer data;           /* (owned) (nullable) the engine's, freed with destroy */
  GDestroyNotify destroy;
} PdProcEntry;

struct _PdProcmon
{
  PdProcmonEvents events;
  int sock;                 /* (owned) the proc connector */
  int proc_fd;              /* (owned) /proc */
  guint watch_id;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_nl from[BATCH];
  guint64 buf[BATCH][MESSAGE_BYTES / sizeof (guint64)];
  guint32 cookie;           /* of the legacy subscription, whose answer */
  int ack;                  /* is an errno, or -1 while none came */

  uid_t *followed;          /* (owned) (nullable) sorted, without duplicates */
  guint n_followed;

  GHashTable *table;        /* (owned) pid → PdProcEntry (owned) */
  PdProcEntry *dying;       /* (nullable) the entry whose exit is being told */
  GArray *forked;           /* (owned) pids of forked children not reported yet */
  guint forked_id;          /* the timeout that reports them, or 0 */
  guint generation;         /* of the last scan */
  gboolean overrun;         /* in a burst of lost events (logged once) */
  guint64 exec_ns;          /* the kernel's time of the exec being told, or 0 */
  PdProcmonStats stats;
};


/* ---- /proc ---------------------------------------------------------------- */

/* The effective uid of pid: the owner of the directory /proc/PID (the euid
 * even when the process is not dumpable, unlike the files in it). One
 * system call. FALSE if it vanished, which is normal for short-lived ones. */
static gboolean
proc_euid (PdProcmon *self, pid_t pid, uid_t *out)
{
  char name[16];
  struct stat st;

  g_snprintf (name, sizeof name, "%d", (int) pid);
  if (fstatat (self->proc_fd, name, &st, 0) < 0)
    return FALSE;
  *out = st.st_uid;
  return TRUE;
}

/* The start time of a live process, field 22 of /proc/PID/stat (clock
 * ticks after boot): with the pid, it names one process for the life of
 * the system. FALSE if the process vanished, or is dead but not waited for
 * (a zombie: state Z or X with no other thread left), so that a parent
 * that never waits does not keep an app running. */
static gboolean
read_start_time (PdProcmon *self, pid_t pid, guint64 *out)
{
  char path[32], buf[1024];
  guint64 threads = 0;
  const char *p;
  char *end, state;
  ssize_t n;
  int fd, i;

  g_snprintf (path, sizeof path, "%d/stat", (int) pid);
  fd = openat (self->proc_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  /* The command name (field 2) may hold spaces and parentheses: count from
   * the last ')'. Field 3 (state) follows the first space after it, field
   * 20 (threads) the 18th, field 22 the 20th. */
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ')
    return FALSE;
  state = p[2];
  for (i = 1; i <= 20 && p != NULL; i++)
    if ((p = strchr (p + 1, ' ')) != NULL && i == 18)
      threads = g_ascii_strtoull (p + 1, NULL, 10);
  if (p == NULL || ((state == 'Z' || state == 'X') && threads <= 1))
    return FALSE;
  *out = g_ascii_strtoull (p + 1, &end, 10);
  return end != p + 1;
}

/* ---- the table ------------------------------------------------------------ */

static int
compare_uids (const void *a, const void *b)
{
  uid_t x = *(const uid_t *) a, y = *(const uid_t *) b;

  return (x > y) - (x < y);
}

static gboolean
is_followed (const PdProcmon *self, uid_t uid)
{
  return self->n_followed > 0
         && bsearch (&uid, self->followed, self->n_followed, sizeof uid, compare_uids) != NULL;
}

static PdProcEntry *
lookup (PdProcmon *self, pid_t pid)
{
  return g_hash_table_lookup (self->table, GINT_TO_POINTER (pid));
}

static void
entry_free (gpointer p)
{
  PdProcEntry *entry = p;

  if (entry->destroy != NULL)
    entry->destroy (entry->data);
  g_free (entry);
}

static PdProcEntry *
add_entry (PdProcmon *self, pid_t pid, uid_t uid, guint64 start_time)
{
  PdProcEntry *entry = g_new0 (PdProcEntry, 1);

  entry->pid = pid;
  entry->uid = uid;
  entry->start_time = start_time;
  entry->generation = self->generation;
  g_hash_table_insert (self->table, GINT_TO_POINTER (pid), entry);
  return entry;
}

static void
report (PdProcmon *self, PdProcEntry *entry, gboolean from_scan)
{
  entry->reported = TRUE;
  self->events.exec (entry->pid, entry->uid, from_scan, self->events.user_data);
}

static void
add_and_report (PdProcmon *self, pid_t pid, uid_t uid, gboolean from_scan)
{
  guint64 start_time;

  if (read_start_time (self, pid, &start_time))
    report (self, add_entry (self, pid, uid, start_time), from_scan);
}

/* The engine hears of an exit only if it heard of the exec. While it
 * hears, the entry is out of the table but its data is still readable. */
static void
remove_entry (PdProcmon *self, PdProcEntry *entry)
{
  g_hash_table_steal (self->table, GINT_TO_POINTER (entry->pid));
  if (entry->reported)
    {
      self->dying = entry;
      self->events.exit (entry->pid, entry->uid, self->events.user_data);
      self->dying = NULL;
    }
  entry_free (entry);
}

/* ---- scans ---------------------------------------------------------------- */

static void
scan_one (PdProcmon *self, const char *name)
{
  PdProcEntry *entry;
  guint64 pid, start_time;
  struct stat st;

  if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL)
      || fstatat (self->proc_fd, name, &st, 0) < 0 || !is_followed (self, st.st_uid)
      || !read_start_time (self, (pid_t) pid, &start_time))
    return;
  entry = lookup (self, (pid_t) pid);
  /* The pid was reused, or the uid changed, while events were lost. */
  if (entry != NULL && (entry->start_time != start_time || entry->uid != st.st_uid))
    remove_entry (self, g_steal_pointer (&entry));
  if (entry == NULL)
    entry = add_entry (self, (pid_t) pid, st.st_uid, start_time);
  entry->generation = self->generation;
  if (!entry->reported)
    report (self, entry, TRUE);
}

/* Finds every process of the followed users, and drops from the table what
 * is gone. If /proc cannot be read, the table stays as it is: enforcement
 * keeps acting on what it knew (fails closed). */
static void
rescan (PdProcmon *self)
{
  g_autoptr (GArray) gone = g_array_new (FALSE, FALSE, sizeof (pid_t));
  GHashTableIter iter;
  gpointer value;
  guint i;

  self->generation++;
  self->stats.scans++;
  if (self->n_followed > 0)
    {
      DIR *dir = opendir ("/proc");
      struct dirent *de;

      if (dir == NULL)
        {
          g_warning ("Cannot scan /proc: %s; the table of processes may be stale", g_strerror (errno));
          return;
        }
      while ((de = readdir (dir)) != NULL)
        scan_one (self, de->d_name);
      closedir (dir);
    }

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((PdProcEntry *) value)->generation != self->generation)
      g_array_append_val (gone, ((PdProcEntry *) value)->pid);
  for (i = 0; i < gone->len; i++)
    {
      PdProcEntry *entry = lookup (self, g_array_index (gone, pid_t, i));

      if (entry != NULL)
        remove_entry (self, entry);
    }
}

/* ---- events --------------------------------------------------------------- */

/* pid runs as uid now (its effective uid, the owner of /proc/PID), after
 * an exec or a change of uid. It enters the table, leaves it (an exec of a
 * setuid program, a switch to another user), or is reported again after
 * an exec, so that a late exec is classified again. */
static void
update (PdProcmon *self, pid_t pid, uid_t uid, gboolean exec)
{
  PdProcEntry *entry = lookup (self, pid);
  gboolean followed = is_followed (self, uid);
  guint64 start_time;

  if (entry != NULL && (!followed || entry->uid != uid))
    remove_entry (self, g_steal_pointer (&entry));
  /* Events from several CPUs may come out of order: the exit of the
   * process that had this pid before can come after the new one's exec.
   * A different start time tells the two apart. */
  if (entry != NULL && read_start_time (self, pid, &start_time) && start_time != entry->start_time)
    remove_entry (self, g_steal_pointer (&entry));
  if (followed && entry == NULL)
    add_and_report (self, pid, uid, FALSE);
  else if (followed && exec)
    report (self, entry, FALSE);
}

/* How long after the kernel's event (CLOCK_MONOTONIC) a followed exec is
 * handled, said in the debug log when it is long: the main loop's delay,
 * which the sentry thread (sentry.c) keeps off the stop of a purchase. */
static void
note_lateness (pid_t pid, guint64 event_ns)
{
  struct timespec now;
  guint64 now_ns, late_us;

  if (event_ns == 0 || clock_gettime (CLOCK_MONOTONIC, &now) != 0)
    return;
  now_ns = (guint64) now.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) now.tv_nsec;
  late_us = now_ns > event_ns ? (now_ns - event_ns) / 1000 : 0;
  if (late_us < LATE_EXEC_MS * 1000)
    return;
  g_debug ("The exec of process %d was handled %" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT " ms after it happened",
           (int) pid, late_us / 1000, late_us % 1000);
}

/* The hot path. For a user nobody follows: one fstatat (2), a binary search
 * of the followed uids and a hash lookup; no allocation. */
static void
on_exec (PdProcmon *self, pid_t pid, guint64 event_ns)
{
  uid_t uid;
  gboolean followed;

  self->stats.execs++;
  if (self->n_followed == 0 || !proc_euid (self, pid, &uid))
    return;
  followed = is_followed (self, uid);
  self->stats.followed += followed;
  if (followed)
    note_lateness (pid, event_ns);
  self->exec_ns = event_ns;
  update (self, pid, uid, TRUE);
  self->exec_ns = 0;
}

static gboolean
report_forked (gpointer user_data)
{
  PdProcmon *self = user_data;
  guint i;

  /* No event is read meanwhile: the callbacks cannot add to forked. */
  for (i = 0; i < self->forked->len; i++)
    {
      PdProcEntry *entry = lookup (self, g_array_index (self->forked, pid_t, i));

      if (entry != NULL && !entry->reported)
        report (self, entry, FALSE);
    }
  g_array_set_size (self->forked, 0);
  self->forked_id = 0;
  return G_SOURCE_REMOVE;
}

/* A child forked by a process in the table runs its parent's program. If
 * it never execs (a worker, a zygote's renderer), no EXEC event tells of
 * it: killing an app's processes would miss it, and the app would seem to
 * end with the parent while the child plays on. So it enters the table at
 * once and is reported FORK_REPORT_MS later unless it exec'd first: a fork
 * and an exec, the usual pair, are classified once, not twice. A fork
 * outside the table costs a hash lookup. */
static void
on_fork (PdProcmon *self, pid_t parent, pid_t child, pid_t child_tgid)
{
  PdProcEntry *entry;
  guint64 start_time;

  if (child != child_tgid || g_hash_table_size (self->table) == 0)
    return;  /* a thread, or no followed process runs */
  entry = lookup (self, parent);
  if (entry == NULL || lookup (self, child) != NULL || !read_start_time (self, child, &start_time))
    return;
  add_entry (self, child, entry->uid, start_time);
  g_array_append_val (self->forked, child);
  if (self->forked_id == 0)
    self->forked_id = g_timeout_add (FORK_REPORT_MS, report_forked, self);
}

static void
handle_event (PdProcmon *self, const struct proc_event *ev)
{
  PdProcEntry *entry;

  self->stats.events++;
  /* Only thread-group leaders are processes: a thread's exit is not its
   * process's, and its uid is not the one /proc/PID shows. (The socket
   * filter drops threads' events already.) */
  switch (ev->what)
    {
    case PROC_EVENT_EXEC:
      on_exec (self, ev->event_data.exec.process_tgid, ev->timestamp_ns);
      break;
    case PROC_EVENT_FORK:
      on_fork (self, ev->event_data.fork.parent_tgid, ev->event_data.fork.child_pid,
               ev->event_data.fork.child_tgid);
      break;
    case PROC_EVENT_UID:
      if (ev->event_data.id.process_pid == ev->event_data.id.process_tgid)
        update (self, ev->event_data.id.process_pid, ev->event_data.id.e.euid, FALSE);
      break;
    case PROC_EVENT_EXIT:
      if (ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid
          && (entry = lookup (self, ev->event_data.exit.process_pid)) != NULL)
        remove_entry (self, entry);
      break;
    default:
      break;  /* without the event-type filter, the kernel sends every kind */
    }
}

/* Checks one message from the kernel (port 0) and hands its event on, or
 * takes it as the answer to the subscription. */
static void
handle_message (PdProcmon *self, const struct sockaddr_nl *from, const void *buf, size_t len)
{
  const struct nlmsghdr *nlh = buf;
  const struct cn_msg *cn = NLMSG_DATA (nlh);
  struct proc_event ev;
  size_t payload;

  if (from->nl_pid != 0 || len < NLMSG_HDRLEN + sizeof *cn || nlh->nlmsg_len > len
      || nlh->nlmsg_len < NLMSG_HDRLEN + sizeof *cn || nlh->nlmsg_type != NLMSG_DONE)
    return;
  payload = MIN ((size_t) cn->len, nlh->nlmsg_len - NLMSG_HDRLEN - sizeof *cn);
  if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC || payload < EVENT_MIN_BYTES)
    return;
  /* Copied: the event is not 8-byte aligned in the message. */
  memset (&ev, 0, sizeof ev);
  memcpy (&ev, cn->data, MIN (payload, sizeof ev));
  if (ev.what == PROC_EVENT_NONE && cn->ack == self->cookie + 1)
    self->ack = (int) ev.event_data.ack.err;
  else if (ev.what != PROC_EVENT_NONE)
    handle_event (self, &ev);
}

/* One recvmmsg (2): the number of messages read, or -1 with errno. */
static int
receive_batch (PdProcmon *self)
{
  int i, n;

  for (i = 0; i < BATCH; i++)
    self->msgs[i].msg_hdr.msg_namelen = sizeof self->from[i];
  n = recvmmsg (self->sock, self->msgs, BATCH, MSG_DONTWAIT, NULL);
  for (i = 0; i < n; i++)
    if (!(self->msgs[i].msg_hdr.msg_flags & MSG_TRUNC))
      handle_message (self, &self->from[i], self->buf[i], self->msgs[i].msg_len);
  return n;
}

/* Drains the socket. A batch shorter than BATCH means the queue was empty,
 * so a quiet wakeup costs one recvmmsg. After lost events (ENOBUFS, once
 * per overflow), /proc is scanned again; the source never stops. */
static gboolean
on_socket (int fd, GIOCondition condition, gpointer user_data)
{
  PdProcmon *self = user_data;
  gboolean lost = FALSE;
  guint total = 0;
  int n, err;

  do
    {
      n = receive_batch (self);
      err = n < 0 ? errno : 0;
      if (err == ENOBUFS)
        {
          lost = TRUE;
          self->stats.overruns++;
        }
      else if (err != 0 && err != EINTR && err != EAGAIN)
        g_debug ("Reading process events failed: %s", g_strerror (err));
      total += (guint) MAX (n, 0);
    }
  while ((n == BATCH || err == ENOBUFS || err == EINTR) && total < DRAIN_MAX);

  if (lost)
    {
      if (!self->overrun)
        g_warning ("Process events were lost (the receive buffer was full); scanning /proc again");
      self->overrun = TRUE;
      rescan (self);
    }
  else if (total > 0)
    self->overrun = FALSE;
  return G_SOURCE_CONTINUE;
}

/* ---- the connector -------------------------------------------------------- */

/* The kernel answers a legacy subscription with an event of type NONE
 * whose ack is the request's plus one, carrying an errno or 0. It does not
 * answer at all when nobody listens afterwards (a refusal, with no other
 * listener) or outside the initial PID and user namespaces. */
static int
wait_for_ack (PdProcmon *self)
{
  gint64 deadline = g_get_monotonic_time () + ACK_WAIT_MS * 1000;
  struct pollfd pfd = { self->sock, POLLIN, 0 };

  while (self->ack < 0)
    {
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      int err = receive_batch (self) < 0 ? errno : 0;

      if (err != 0 && err != EAGAIN && err != EINTR && err != ENOBUFS)
        return err;
      if (self->ack < 0 && left_ms <= 0)
        return ETIMEDOUT;
      if (self->ack < 0 && err == EAGAIN)
        (void) poll (&pfd, 1, (int) left_ms);
    }
  return self->ack;
}

/* Drops in the kernel what the daemon ignores, so that it costs no wakeup
 * and no buffer space: threads' forks, exits and uid changes (a desktop
 * starts and ends threads far more often than processes) and, without the
 * event-type filter, the other kinds of event. Loads are in network order,
 * hence htonl on constants; comparing pid with tgid needs none. */
static void
open_socket (PdProcmon *self, GError **error, gboolean *out_forced)
{
  enum { ACCEPT = 14, DROP = 15 };
  struct sock_filter code[] = {
    /* 0 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, WHAT_AT),
    /* 1 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_EXEC), ACCEPT - 2, 0),
    /* 2 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_NONE), ACCEPT - 3, 0),
    /* 3 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_FORK), 6 - 4, 0),
    /* 4 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_EXIT), 10 - 5, 0),
    /* 5 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_UID), 10 - 6, DROP - 6),
    /* 6 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CHILD_PID_AT),
    /* 7 */ BPF_STMT (BPF_MISC | BPF_TAX, 0),
    /* 8 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CHILD_TGID_AT),
    /* 9 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_X, 0, ACCEPT - 10, DROP - 10),
    /* 10 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, PID_AT),
    /* 11 */ BPF_STMT (BPF_MISC | BPF_TAX, 0),
    /* 12 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, TGID_AT),
    /* 13 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_X, 0, ACCEPT - 14, DROP - 14),
    /* ACCEPT */ BPF_STMT (BPF_RET | BPF_K, 0xffffffff),
    /* DROP */ BPF_STMT (BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = { G_N_ELEMENTS (code), code };

  G_STATIC_ASSERT (G_N_ELEMENTS (code) == DROP + 1);
  self->sock = pd_connector_open (SOCK_NONBLOCK, &prog, RCVBUF_BYTES, out_forced, error);
}

/* Subscribes the legacy way, whose answer tells whether the kernel agreed
 * (before 6.6, only with CAP_NET_ADMIN), then narrows it down with the
 * event-type filter where the kernel has one. Failure mode: without
 * process events parentd knows nothing of apps, but still counts screen
 * time (fails open for apps only); the error says so, for the log. */
static gboolean
open_connector (PdProcmon *self, GError **error)
{
  gboolean forced;
  int err;

  open_socket (self, error, &forced);
  if (self->sock < 0)
    return FALSE;
  if (!forced)
    g_message ("The receive buffer of process events is the system's maximum (no CAP_NET_ADMIN): "
               "events may be lost under load, and are recovered by scanning /proc");

  self->cookie = g_random_int () & 0x7fffffff;
  self->ack = -1;
  if (!pd_connector_listen (self->sock, self->cookie, EVENT_MASK, FALSE))
    err = errno;
  else
    err = wait_for_ack (self);
  if (err != 0)
    {
      gboolean denied = err == EPERM || err == EACCES || err == ETIMEDOUT;

      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "%s (%s)",
                   denied ? NO_EVENTS_MESSAGE : "cannot receive process events",
                   err == ETIMEDOUT ? "no answer from the kernel, which answers only in the "
                                      "initial PID and user namespaces" : g_strerror (err));
      return FALSE;
    }
  if (pd_connector_has_event_filter ()
      && !pd_connector_listen (self->sock, self->cookie, EVENT_MASK, TRUE))
    g_debug ("No event-type filter on the proc connector: %s", g_strerror (errno));
  return TRUE;
}

/* ---- public --------------------------------------------------------------- */

/* The socket's source may recurse: GLib then leaves its poll record alone
 * around each dispatch, which saves four system calls on every wakeup of
 * this, the busiest source of the daemon (measured in bench-exec). Nothing
 * in on_socket iterates the main loop, so it never actually recurses. */
static guint
watch_socket (PdProcmon *self)
{
  g_autoptr (GSource) source = g_unix_fd_source_new (self->sock, G_IO_IN | G_IO_ERR);

  g_source_set_can_recurse (source, TRUE);
  /* Ahead of bus calls and timers: a purchase must be frozen, and a
   * blocked app killed, within milliseconds of its exec. */
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, G_SOURCE_FUNC (on_socket), self, NULL);
  return g_source_attach (source, NULL);
}

PdProcmon *
pd_procmon_new (const PdProcmonEvents *events, GError **error)
{
  g_autoptr (PdProcmon) self = NULL;
  int i;

  g_return_val_if_fail (events != NULL && events->exec != NULL && events->exit != NULL, NULL);

  self = g_new0 (PdProcmon, 1);
  self->events = *events;
  self->sock = -1;
  self->proc_fd = -1;
  self->table = g_hash_table_new_full (NULL, NULL, NULL, entry_free);
  self->forked = g_array_new (FALSE, FALSE, sizeof (pid_t));
  for (i = 0; i < BATCH; i++)
    {
      self->iov[i] = (struct iovec) { self->buf[i], sizeof self->buf[i] };
      self->msgs[i].msg_hdr.msg_iov = &self->iov[i];
      self->msgs[i].msg_hdr.msg_iovlen = 1;
      self->msgs[i].msg_hdr.msg_name = &self->from[i];
    }
  self->proc_fd = open ("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->proc_fd < 0)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot open /proc: %s", g_strerror (errno));
      return NULL;
    }
  if (!open_connector (self, error))
    return NULL;
  self->watch_id = watch_socket (self);
  return g_steal_pointer (&self);
}

void
pd_procmon_free (PdProcmon *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->watch_id, g_source_remove);
  g_clear_handle_id (&self->forked_id, g_source_remove);
  if (self->sock >= 0)
    close (self->sock);
  if (self->proc_fd >= 0)
    close (self->proc_fd);
  g_hash_table_unref (self->table);
  g_array_unref (self->forked);
  g_free (self->followed);
  g_free (self);
}

void
pd_procmon_follow (PdProcmon *self, const uid_t *uids, guint n)
{
  g_autofree uid_t *sorted = g_new (uid_t, MAX (n, 1));
  guint i, m = 0;

  g_return_if_fail (self != NULL);
  g_return_if_fail (uids != NULL || n == 0);

  if (n > 0)
    memcpy (sorted, uids, n * sizeof *uids);
  qsort (sorted, n, sizeof *sorted, compare_uids);
  for (i = 0; i < n; i++)
    if (m == 0 || sorted[m - 1] != sorted[i])
      sorted[m++] = sorted[i];
  if (m == self->n_followed && (m == 0 || memcmp (sorted, self->followed, m * sizeof *sorted) == 0))
    return;
  g_free (self->followed);
  self->followed = g_steal_pointer (&sorted);
  self->n_followed = m;
  /* Finds the new users' processes, and drops those of users no longer
   * followed (the scan does not see them). */
  rescan (self);
}

/* Data for a pid not in the table is destroyed at once: the process left
 * before the engine got round to it. */
void
pd_procmon_set_data (PdProcmon *self, pid_t pid, gpointer data, GDestroyNotify destroy)
{
  PdProcEntry *entry;

  g_return_if_fail (self != NULL);

  entry = lookup (self, pid);
  if (entry == NULL)
    {
      if (destroy != NULL)
        destroy (data);
      return;
    }
  if (entry->destroy != NULL && entry->data != data)
    entry->destroy (entry->data);
  entry->data = data;
  entry->destroy = destroy;
}

gpointer
pd_procmon_get_data (PdProcmon *self, pid_t pid)
{
  PdProcEntry *entry;

  g_return_val_if_fail (self != NULL, NULL);

  entry = lookup (self, pid);
  if (entry == NULL && self->dying != NULL && self->dying->pid == pid)
    entry = self->dying;
  return entry != NULL ? entry->data : NULL;
}

void
pd_procmon_foreach (PdProcmon *self, uid_t uid, PdProcFunc func, gpointer user_data)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  g_hash_table_iter_init (&iter, self->table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PdProcEntry *entry = value;

      if (uid == (uid_t) -1 || entry->uid == uid)
        func (entry->pid, entry->uid, entry->data, user_data);
    }
}

gboolean
pd_procmon_signal (PdProcmon *self, pid_t pid, int sig)
{
  PdProcEntry *entry;
  guint64 start_time;
  gboolean sent;
  int pidfd;

  g_return_val_if_fail (self != NULL, FALSE);

  entry = lookup (self, pid);
  if (entry == NULL)
    return FALSE;
  /* The pidfd holds whichever process has the pid now. If that one started
   * when the recorded one did, it is the recorded one, and the signal
   * cannot reach a process that takes the pid over after this check. */
  pidfd = pd_pidfd_open (pid);
  if (pidfd < 0)
    return FALSE;
  sent = read_start_time (self, pid, &start_time) && start_time == entry->start_time
         && pd_pidfd_send_signal (pidfd, sig) == 0;
  close (pidfd);
  return sent;
}

guint64
pd_procmon_exec_ns (PdProcmon *self)
{
  return self->exec_ns;
}

guint64
pd_procmon_start_time (PdProcmon *self, pid_t pid)
{
  PdProcEntry *entry = lookup (self, pid);

  return entry != NULL ? entry->start_time : 0;
}

void
pd_procmon_get_stats (PdProcmon *self, PdProcmonStats *out)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (out != NULL);

  *out = self->stats;
}

void
pd_procmon_set_rcvbuf_for_testing (PdProcmon *self, int bytes)
{
  g_return_if_fail (self != NULL);

  if (setsockopt (self->sock, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    (void) setsockopt (self->sock, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

void
pd_procmon_set_legacy_for_testing (gboolean legacy)
{
  pd_connector_set_legacy_for_testing (legacy);
}
