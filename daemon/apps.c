/* Which apps each child runs, and the signals to their processes. */
#include "config.h"

#include <signal.h>
#include <string.h>

#include "daemon/apps.h"
#include "daemon/identity.h"
#include "daemon/procfacts.h"
#include "daemon/procmon.h"
#include "daemon/sentry.h"
#include "policy/matcher.h"

#define KILL_AFTER_SECONDS 5

/* What a process of a child is, as procmon's per-process data. */
typedef struct {
  guint n_apps;
  guint *apps;            /* (owned) ascending app indices */
  gboolean app_process;   /* matched an [app], or runs in a desktop's app scope */
} ProcApps;

/* The live processes per app of one child. */
typedef struct {
  GHashTable *counts;     /* (owned) app index + 1 -> live processes */
  GPtrArray *names;       /* (owned) NULL-terminated, the apps with a live process */
} ChildApps;

struct _PdApps {
  PdAppsEvents events;
  PdProcmon *procmon;         /* (owned) */
  PdSentry *sentry;           /* (owned) (nullable) the first stop of a purchase */
  const PdConfig *config;     /* (unowned) */
  PdMatcher *matcher;         /* (owned) */
  PdMatch *match;             /* (owned) scratch for the process itself */
  PdMatch *program_match;     /* (owned) scratch for what an interpreter runs */
  PdIdentities *identities;   /* (owned) */
  PdFactsBuffer *facts;       /* (owned) scratch, reused from exec to exec */
  GHashTable *children;       /* (owned) uid -> ChildApps (owned) */
  GHashTable *closings;       /* (owned) pending SIGKILL timers: Closing -> source id */
};

static void
proc_apps_free (gpointer data)
{
  ProcApps *proc = data;

  g_free (proc->apps);
  g_free (proc);
}

static void
child_apps_free (gpointer data)
{
  ChildApps *child = data;

  g_hash_table_unref (child->counts);
  g_ptr_array_unref (child->names);
  g_free (child);
}

static ChildApps *
child_apps (PdApps *apps, uid_t uid)
{
  ChildApps *child = g_hash_table_lookup (apps->children, GUINT_TO_POINTER (uid));

  if (child == NULL)
    {
      child = g_new0 (ChildApps, 1);
      child->counts = g_hash_table_new (NULL, NULL);
      child->names = g_ptr_array_new ();
      g_ptr_array_add (child->names, NULL);
      g_hash_table_insert (apps->children, GUINT_TO_POINTER (uid), child);
    }
  return child;
}

static void
rebuild_names (PdApps *apps, ChildApps *child)
{
  g_ptr_array_set_size (child->names, 0);
  for (guint app = 0; apps->config != NULL && app < apps->config->apps->len; app++)
    if (g_hash_table_contains (child->counts, GUINT_TO_POINTER (app + 1)))
      g_ptr_array_add (child->names, ((PdRule *) g_ptr_array_index (apps->config->apps, app))->name);
  g_ptr_array_add (child->names, NULL);
}

/* Adds delta (+1 or -1) to each app's live count; TRUE if an app started
 * or stopped running. */
static gboolean
count (PdApps *apps, uid_t uid, const ProcApps *proc, int delta)
{
  ChildApps *child;
  gboolean changed = FALSE;

  if (proc == NULL || proc->n_apps == 0)
    return FALSE;
  child = child_apps (apps, uid);
  for (guint i = 0; i < proc->n_apps; i++)
    {
      gpointer key = GUINT_TO_POINTER (proc->apps[i] + 1);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (child->counts, key));

      if (delta < 0 && n <= 1)
        g_hash_table_remove (child->counts, key), changed |= n == 1;
      else if (delta > 0)
        g_hash_table_insert (child->counts, key, GUINT_TO_POINTER (n + 1)), changed |= n == 0;
      else
        g_hash_table_insert (child->counts, key, GUINT_TO_POINTER (n - 1));
    }
  if (changed)
    rebuild_names (apps, child);
  return changed;
}

static gboolean
same_apps (const ProcApps *a, const ProcApps *b)
{
  guint na = a != NULL ? a->n_apps : 0, nb = b != NULL ? b->n_apps : 0;

  return na == nb && (na == 0 || memcmp (a->apps, b->apps, na * sizeof (guint)) == 0);
}

/* Adds the indices of b to a (both ascending, no duplicates). */
static void
merge_match (PdMatch *a, const PdMatch *b)
{
  for (guint i = 0; i < b->n_apps; i++)
    {
      guint at = 0;

      while (at < a->n_apps && a->apps[at] < b->apps[i])
        at++;
      if (at < a->n_apps && a->apps[at] == b->apps[i])
        continue;
      memmove (&a->apps[at + 1], &a->apps[at], (a->n_apps - at) * sizeof (guint));
      a->apps[at] = b->apps[i];
      a->n_apps++;
    }
}

/* Where a purchase attempt was going: the URL a url: rule matched, else the
 * first URL among the arguments, else the program; never a query or a
 * fragment, where card numbers and tokens live. */
static void
purchase_target (const PdFactsBuffer *f, const PdMatch *match, char *buf, gsize buflen)
{
  const char *url = match->url;

  for (const char *arg = f->facts.args; url == NULL && arg != NULL && arg < f->facts.args + f->facts.args_len;
       arg += strlen (arg) + 1)
    if (pd_arg_is_url (arg))
      url = arg;
  if (url != NULL)
    pd_url_redact (url, buf, buflen);
  else
    g_strlcpy (buf, f->facts.exe != NULL ? f->facts.exe : "", buflen);
}

/* Holds, kills or lets be a process that matched purchase rules. */
static PdPurchaseVerdict
handle_purchase (PdApps *apps, pid_t pid, uid_t uid)
{
  char target[PD_FACTS_PATH_MAX];

  if (apps->match->n_purchases == 0)
    return PD_PURCHASE_RUNS;
  purchase_target (apps->facts, apps->match, target, sizeof target);
  return apps->events.purchase (uid, pid, apps->match->purchases, apps->match->n_purchases,
                                apps->match->apps, apps->match->n_apps, target,
                                apps->events.user_data);
}

/* What pid runs, by its facts, by file identity, and by the program an
 * interpreter or ld.so was asked to run. NULL when it vanished. */
static ProcApps *
classify (PdApps *apps, pid_t pid)
{
  PdFactsBuffer *f = apps->facts;
  ProcApps *proc;

  if (apps->matcher == NULL || !pd_facts_read (pid, f))
    return NULL;
  pd_matcher_classify (apps->matcher, &f->facts, apps->match);
  pd_identities_match (apps->identities, pid, f, apps->match);
  if (f->program[0] != '\0')
    {
      PdProcessFacts program = f->facts;

      program.exe = f->program;
      pd_matcher_classify (apps->matcher, &program, apps->program_match);
      merge_match (apps->match, apps->program_match);
    }

  proc = g_new0 (ProcApps, 1);
  proc->n_apps = apps->match->n_apps;
  proc->apps = g_memdup2 (apps->match->apps, proc->n_apps * sizeof (guint));
  proc->app_process = proc->n_apps > 0 || f->facts.app_id != NULL;
  return proc;
}

static void
on_process_exec (pid_t pid, uid_t uid, gboolean from_scan, gpointer user_data)
{
  PdApps *apps = user_data;
  ProcApps *old = pd_procmon_get_data (apps->procmon, pid);
  ProcApps *proc = classify (apps, pid);
  guint64 exec_ns = pd_procmon_exec_ns (apps->procmon);
  PdPurchaseVerdict verdict;
  const char *reason = NULL;
  gboolean changed;

  if (proc == NULL)
    {
      /* gone already; its exit is on the way */
      pd_sentry_settle (apps->sentry, pid, uid, exec_ns, FALSE);
      return;
    }
  verdict = handle_purchase (apps, pid, uid);
  pd_sentry_settle (apps->sentry, pid, uid, exec_ns, verdict == PD_PURCHASE_RUNS);
  if (verdict == PD_PURCHASE_KILLED)
    {
      proc_apps_free (proc);
      return;
    }
  if (!apps->events.exec_allowed (uid, proc->apps, proc->n_apps, proc->app_process, &reason,
                                  apps->events.user_data))
    {
      g_message ("Stopping process %d of uid %u (%s): %s", (int) pid, (guint) uid,
                 apps->facts->facts.comm != NULL ? apps->facts->facts.comm : "?",
                 reason != NULL ? reason : "not allowed now");
      pd_procmon_signal (apps->procmon, pid, SIGKILL);
      proc_apps_free (proc);
      return;
    }

  changed = !same_apps (old, proc);
  if (changed)
    apps->events.before_change (uid, apps->events.user_data);
  count (apps, uid, old, -1);
  count (apps, uid, proc, +1);
  pd_procmon_set_data (apps->procmon, pid, proc, proc_apps_free);
  if (changed)
    apps->events.after_change (uid, apps->events.user_data);
}

static void
on_process_exit (pid_t pid, uid_t uid, gpointer user_data)
{
  PdApps *apps = user_data;
  ProcApps *proc = pd_procmon_get_data (apps->procmon, pid);

  if (proc == NULL || proc->n_apps == 0)
    return;
  apps->events.before_change (uid, apps->events.user_data);
  count (apps, uid, proc, -1);
  apps->events.after_change (uid, apps->events.user_data);
}

PdApps *
pd_apps_new (const PdAppsEvents *events, GError **error)
{
  g_autoptr (PdApps) apps = g_new0 (PdApps, 1);
  PdProcmonEvents procmon_events = { on_process_exec, on_process_exit, NULL };
  g_autoptr (GError) sentry_error = NULL;

  apps->events = *events;
  apps->facts = g_new0 (PdFactsBuffer, 1);
  apps->children = g_hash_table_new_full (NULL, NULL, NULL, child_apps_free);
  apps->closings = g_hash_table_new (NULL, NULL);
  procmon_events.user_data = apps;
  apps->procmon = pd_procmon_new (&procmon_events, error);
  if (apps->procmon == NULL)
    return NULL;
  /* Fails open to the main loop's own stop, which comes later. */
  apps->sentry = pd_sentry_new (&sentry_error);
  if (apps->sentry == NULL)
    g_warning ("Purchase attempts are stopped only by the main loop: %s", sentry_error->message);
  return g_steal_pointer (&apps);
}

void
pd_apps_free (PdApps *apps)
{
  GHashTableIter iter;
  gpointer source;

  if (apps == NULL)
    return;
  g_hash_table_iter_init (&iter, apps->closings);
  while (g_hash_table_iter_next (&iter, NULL, &source))
    g_source_remove (GPOINTER_TO_UINT (source));
  g_clear_pointer (&apps->closings, g_hash_table_unref);
  /* procmon first: destroying its table frees per-process data. */
  g_clear_pointer (&apps->procmon, pd_procmon_free);
  g_clear_pointer (&apps->sentry, pd_sentry_free);
  g_clear_pointer (&apps->match, pd_match_free);
  g_clear_pointer (&apps->program_match, pd_match_free);
  g_clear_pointer (&apps->matcher, pd_matcher_free);
  g_clear_pointer (&apps->identities, pd_identities_free);
  g_clear_pointer (&apps->children, g_hash_table_unref);
  g_free (apps->facts);
  g_free (apps);
}

typedef struct {
  pid_t pid;
  uid_t uid;
} PidUid;

static void
collect (pid_t pid, uid_t uid, gpointer data, gpointer user_data)
{
  PidUid entry = { pid, uid };

  g_array_append_val ((GArray *) user_data, entry);
}

static GArray *
table (PdApps *apps, uid_t uid)
{
  GArray *entries = g_array_new (FALSE, FALSE, sizeof (PidUid));

  pd_procmon_foreach (apps->procmon, uid, collect, entries);
  return entries;
}

void
pd_apps_set_config (PdApps *apps, const PdConfig *config)
{
  g_autoptr (GArray) before = NULL;
  g_autoptr (GArray) after = NULL;
  g_autofree uid_t *uids = g_new0 (uid_t, MAX (config->children->len, 1));
  GHashTableIter iter;
  gpointer value;

  g_clear_pointer (&apps->match, pd_match_free);
  g_clear_pointer (&apps->program_match, pd_match_free);
  g_clear_pointer (&apps->matcher, pd_matcher_free);
  g_clear_pointer (&apps->identities, pd_identities_free);
  apps->config = config;
  if (apps->sentry != NULL)
    pd_sentry_set_config (apps->sentry, config);
  apps->matcher = pd_matcher_new (config);
  apps->match = pd_match_new (apps->matcher);
  apps->program_match = pd_match_new (apps->matcher);
  apps->identities = pd_identities_new (config);

  /* App indices may have moved: forget every classification and count
   * again from scratch. */
  g_hash_table_iter_init (&iter, apps->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_hash_table_remove_all (((ChildApps *) value)->counts);
      rebuild_names (apps, value);
    }
  before = table (apps, (uid_t) -1);
  for (guint i = 0; i < before->len; i++)
    pd_procmon_set_data (apps->procmon, g_array_index (before, PidUid, i).pid, NULL, NULL);

  /* Processes of children no longer configured leave through on_process_exit;
   * those of new children arrive, classified, through on_process_exec. */
  for (guint i = 0; i < config->children->len; i++)
    uids[i] = ((PdChild *) g_ptr_array_index (config->children, i))->uid;
  pd_procmon_follow (apps->procmon, uids, config->children->len);

  after = table (apps, (uid_t) -1);
  for (guint i = 0; i < after->len; i++)
    {
      const PidUid *entry = &g_array_index (after, PidUid, i);

      if (pd_procmon_get_data (apps->procmon, entry->pid) == NULL)
        on_process_exec (entry->pid, entry->uid, TRUE, apps);
    }
}

gboolean
pd_apps_signal (PdApps *apps, pid_t pid, int sig)
{
  return pd_procmon_signal (apps->procmon, pid, sig);
}

gboolean
pd_apps_signal_process (PdApps *apps, pid_t pid, guint64 start, int sig)
{
  return start != 0 && pd_procmon_start_time (apps->procmon, pid) == start &&
         pd_procmon_signal (apps->procmon, pid, sig);
}

guint64
pd_apps_start_time (PdApps *apps, pid_t pid)
{
  return pd_procmon_start_time (apps->procmon, pid);
}

const char *const *
pd_apps_running (PdApps *apps, uid_t uid)
{
  return (const char *const *) child_apps (apps, uid)->names->pdata;
}

gboolean
pd_apps_is_running (PdApps *apps, uid_t uid, guint app)
{
  return g_hash_table_contains (child_apps (apps, uid)->counts, GUINT_TO_POINTER (app + 1));
}

typedef struct {
  PdApps *apps;            /* (unowned) */
  GArray *pids;            /* (owned) PidUid */
} Closing;

static void
closing_free (gpointer data)
{
  Closing *closing = data;

  g_array_unref (closing->pids);
  g_free (closing);
}

static gboolean
kill_survivors (gpointer data)
{
  Closing *closing = data;

  for (guint i = 0; i < closing->pids->len; i++)
    pd_procmon_signal (closing->apps->procmon, g_array_index (closing->pids, PidUid, i).pid, SIGKILL);
  g_hash_table_remove (closing->apps->closings, closing);
  return G_SOURCE_REMOVE;
}

static gboolean
should_close (const ProcApps *proc, int app, const PdChild *policy)
{
  if (proc == NULL)
    return FALSE;
  if (app >= 0)
    {
      for (guint i = 0; i < proc->n_apps; i++)
        if (proc->apps[i] == (guint) app)
          return TRUE;
      return FALSE;
    }
  /* close-apps spares always_allowed apps, and anything that is no app. */
  for (guint i = 0; i < proc->n_apps; i++)
    if (pd_child_always_allows_app (policy, proc->apps[i]))
      return FALSE;
  return proc->app_process;
}

void
pd_apps_close (PdApps *apps, uid_t uid, int app, const PdChild *policy)
{
  g_autoptr (GArray) entries = table (apps, uid);
  Closing *closing = g_new0 (Closing, 1);

  closing->apps = apps;
  closing->pids = g_array_new (FALSE, FALSE, sizeof (PidUid));
  for (guint i = 0; i < entries->len; i++)
    {
      const PidUid *entry = &g_array_index (entries, PidUid, i);

      if (should_close (pd_procmon_get_data (apps->procmon, entry->pid), app, policy) &&
          pd_procmon_signal (apps->procmon, entry->pid, SIGTERM))
        g_array_append_val (closing->pids, *entry);
    }
  if (closing->pids->len == 0)
    {
      closing_free (closing);
      return;
    }
  g_message ("Closing %u process%s of uid %u; SIGKILL in %d s for any still there",
             closing->pids->len, closing->pids->len == 1 ? "" : "es", (guint) uid,
             KILL_AFTER_SECONDS);
  g_hash_table_insert (apps->closings, closing,
                       GUINT_TO_POINTER (g_timeout_add_seconds_full (G_PRIORITY_DEFAULT,
                                                                     KILL_AFTER_SECONDS,
                                                                     kill_survivors, closing,
                                                                     closing_free)));
}
