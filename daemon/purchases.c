/* Purchase attempts: the engine's answer to a child's process that matched
 * a purchase rule, per the child's "purchases" setting, the purchase log,
 * and the hold: under "ask" the process is frozen (SIGSTOP) and a purchase
 * request filed; approval resumes it, denial or the end of purchase_hold
 * kills it.
 *
 * A hold survives a restart: the frozen process stays frozen (nothing
 * resumes it), the request and its pids are in the state, and the restarted
 * daemon finds the process again by its scan. A request whose processes
 * are all gone is expired then.
 *
 * SIGSTOP can be undone: the child owns the process and may send it
 * SIGCONT, and the kernel does when its process group is orphaned. While a
 * hold is pending parentd looks every 100 ms; a held process found
 * running is stopped again, and if it runs again at the next look it is
 * killed and the hold denied (fail closed): a process resumed behind a
 * parent's back gets at most about 200 ms. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon/engine-private.h"
#include "daemon/log.h"

/* PurchaseAttempt signals a second, at most. */
#define TELL_PER_SECOND 10
/* Answered purchases a new attempt is compared with (a fork of one). */
#define RECENT_ANSWERS 16
/* How often held processes are checked to be still frozen. */
#define HOLD_GUARD_MS 100
/* Held purchases per child at once; past this, attempts are killed: a
 * flood must not grow state or freeze a hundred processes. */
#define MAX_PENDING_PURCHASES 5
/* Processes one hold keeps frozen; further repeats of the same purchase
 * are killed, so that a flood costs a bounded amount per attempt. */
#define MAX_PROCS_PER_HOLD 8
/* Repeats of the same attempt within this long, among the last this many
 * records, share one log record. */
#define COALESCE_RECORDS 32
#define COALESCE_SECONDS (10 * 60)
/* The log keeps at most this many records per child (oldest go first). */
#define MAX_RECORDS 1000

static const char *
rule_name (PdEngine *engine, guint rule)
{
  return ((PdRule *) g_ptr_array_index (engine->config->purchases, rule))->name;
}

static const char *
first_app (PdEngine *engine, const guint *apps, guint n_apps)
{
  return n_apps > 0 ? ((PdRule *) g_ptr_array_index (engine->config->apps, apps[0]))->name : "";
}

/* Records an attempt, or counts it into the same recent record. Only the
 * last few records are looked at, so that a flood costs the same per
 * attempt however long the log. */
static PdPurchaseRecord *
record_attempt (PdChildRecord *child, gint64 now, const char *rule, const char *app,
                const char *target, const char *outcome, guint64 request)
{
  for (guint i = child->purchases->len, seen = 0; i > 0 && seen < COALESCE_RECORDS; i--, seen++)
    {
      PdPurchaseRecord *r = g_ptr_array_index (child->purchases, i - 1);

      if (now - r->time > COALESCE_SECONDS)
        break;
      if (strcmp (r->rule, rule) == 0 && strcmp (r->target, target) == 0 &&
          strcmp (r->outcome, outcome) == 0 && r->request == request)
        {
          r->count++;
          return r;
        }
    }
  if (child->purchases->len >= MAX_RECORDS)
    g_ptr_array_remove_index (child->purchases, 0);
  return pd_child_record_add_purchase (child, now, rule, app, target, outcome, request);
}

/* Attempts killed past the cap are a flood: they share one record per
 * rule (the first target, and a count), so that the log, and the state
 * written after every change, stay small however many there are. */
static void
record_flood (PdChildRecord *child, gint64 now, const char *rule, const char *app,
              const char *target)
{
  for (guint i = child->purchases->len, seen = 0; i > 0 && seen < COALESCE_RECORDS; i--, seen++)
    {
      PdPurchaseRecord *r = g_ptr_array_index (child->purchases, i - 1);

      if (now - r->time > COALESCE_SECONDS)
        break;
      if (r->request == 0 && strcmp (r->rule, rule) == 0 && strcmp (r->outcome, "blocked") == 0)
        {
          r->count++;
          return;
        }
    }
  record_attempt (child, now, rule, app, target, "blocked", 0);
}

static void
tell (PdEngine *engine, uid_t uid, gint64 now, const char *rule, const char *app,
      const char *outcome)
{
  /* A flood must not become a flood of notifications on a parent's
   * desktop, nor cost the exec path a bus message per attempt: at most
   * TELL_PER_SECOND signals a second; the log has every attempt. */
  if (now != engine->told_second)
    engine->told_second = now, engine->told = 0;
  if (engine->told++ >= TELL_PER_SECOND)
    return;
  pd_engine_emit (engine, uid, "PurchaseAttempt",
                  g_variant_new ("(tsss)", (guint64) now, rule, app, outcome));
}

static GVariant *
detail (PdRequest *request, const char *key)
{
  return g_hash_table_lookup (request->details, key);
}

static const char *
detail_string (PdRequest *request, const char *key)
{
  GVariant *value = detail (request, key);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
           ? g_variant_get_string (value, NULL) : "";
}

/* A held process: the pid and its start time, which together name one
 * process for good; the pid alone may be reused by another. */
typedef struct {
  guint32 pid;
  guint64 start;
} Proc;

/* The frozen processes of a purchase request. (transfer full) */
static GArray *
request_procs (PdRequest *request)
{
  GVariant *value = detail (request, "procs");
  GArray *procs = g_array_new (FALSE, FALSE, sizeof (Proc));
  GVariantIter iter;
  Proc proc;

  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE ("a(ut)")))
    {
      g_variant_iter_init (&iter, value);
      while (g_variant_iter_next (&iter, "(ut)", &proc.pid, &proc.start))
        g_array_append_val (procs, proc);
    }
  return procs;
}

/* "procs" names the processes for good; "pid" and "pids" are what a
 * parent's tools show. */
static void
set_request_procs (PdRequest *request, GArray *procs)
{
  GVariantBuilder builder, pids;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ut)"));
  g_variant_builder_init (&pids, G_VARIANT_TYPE ("au"));
  for (guint i = 0; i < procs->len; i++)
    {
      g_variant_builder_add (&builder, "(ut)", g_array_index (procs, Proc, i).pid,
                             g_array_index (procs, Proc, i).start);
      g_variant_builder_add (&pids, "u", g_array_index (procs, Proc, i).pid);
    }
  g_hash_table_insert (request->details, g_strdup ("procs"),
                       g_variant_ref_sink (g_variant_builder_end (&builder)));
  g_hash_table_insert (request->details, g_strdup ("pids"),
                       g_variant_ref_sink (g_variant_builder_end (&pids)));
  if (procs->len > 0)
    g_hash_table_insert (request->details, g_strdup ("pid"),
                         g_variant_ref_sink (g_variant_new_uint32 (g_array_index (procs, Proc, 0).pid)));
}

static gboolean
request_has (PdRequest *request, Proc proc)
{
  g_autoptr (GArray) procs = request_procs (request);

  for (guint j = 0; j < procs->len; j++)
    if (g_array_index (procs, Proc, j).pid == proc.pid && g_array_index (procs, Proc, j).start == proc.start)
      return TRUE;
  return FALSE;
}

static gboolean
request_has_pid (PdRequest *request, guint32 pid)
{
  g_autoptr (GArray) procs = request_procs (request);

  for (guint j = 0; j < procs->len; j++)
    if (g_array_index (procs, Proc, j).pid == pid)
      return TRUE;
  return FALSE;
}

static void
add_proc (PdRequest *request, Proc proc)
{
  g_autoptr (GArray) procs = request_procs (request);

  g_array_append_val (procs, proc);
  set_request_procs (request, procs);
}

static gboolean any_alive (PdEngine *engine, PdRequest *request);

/* Ends a pending hold that no parent answered: expired, or denied because
 * it was tampered with; its processes are resumed or killed to match. */
static void
end_hold (PdEngine *engine, PdRequest *request, PdRequestState state)
{
  request->state = state;
  request->answered = pd_clock_wall ();
  pd_engine_purchase_decided (engine, request);
}

/* The pending hold this attempt belongs to: the one holding this very
 * process, or one for the same rule and target. Holds whose processes died
 * are expired by the guard, not here: this runs for every attempt of a
 * flood, and must cost the same whatever the holds are. */
static PdRequest *
pending_purchase (PdEngine *engine, uid_t uid, const char *rule, const char *target, Proc proc,
                  guint *out_pending)
{
  PdRequest *same = NULL;

  *out_pending = 0;
  for (guint i = 0; i < engine->state->requests->len; i++)
    {
      PdRequest *r = g_ptr_array_index (engine->state->requests, i);

      if (r->uid != uid || r->kind != PD_REQUEST_PURCHASE || r->state != PD_REQUEST_PENDING)
        continue;
      if (request_has (r, proc))
        return r;   /* already held: found again by a scan after a restart */
      /* Its process's pid names another process now: the held one is gone. */
      if (request_has_pid (r, proc.pid) && !any_alive (engine, r))
        {
          end_hold (engine, r, PD_REQUEST_EXPIRED);
          pd_engine_requests_changed (engine);
          continue;
        }
      (*out_pending)++;
      if (strcmp (detail_string (r, "rule"), rule) == 0 &&
          strcmp (detail_string (r, "target"), target) == 0)
        same = r;
    }
  return same;
}

/* The state letter ('T' stopped) and parent of a process, from
 * /proc/PID/stat, after the command name (which may hold spaces and
 * parentheses). FALSE if it is gone. */
static gboolean
read_stat (pid_t pid, char *out_state, pid_t *out_parent)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  const char *close_paren;
  char state;
  int ppid;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (close_paren = strrchr (text, ')')) == NULL ||
      sscanf (close_paren + 1, " %c %d", &state, &ppid) != 2)
    return FALSE;
  *out_state = state;
  *out_parent = (pid_t) ppid;
  return TRUE;
}

/* A purchase already decided for this process, or for the process that
 * forked it (a forked copy carries the same arguments): the answer stands
 * for it too. Another process with the same target is a new purchase. */
static PdRequest *
decided_for (PdEngine *engine, uid_t uid, Proc proc)
{
  Proc parent = { 0, 0 };
  guint looked = 0;

  /* The most recent answers only: a fork of an answered purchase comes
   * soon after the answer, and a flood must not cost more as answers
   * pile up. */
  for (guint i = engine->state->requests->len; i > 0 && looked < RECENT_ANSWERS; i--)
    {
      PdRequest *r = g_ptr_array_index (engine->state->requests, i - 1);

      if (r->uid != uid || r->kind != PD_REQUEST_PURCHASE || r->state == PD_REQUEST_PENDING)
        continue;
      looked++;
      if (parent.pid == 0)
        {
          pid_t parent_pid = 0;
          char state;

          read_stat ((pid_t) proc.pid, &state, &parent_pid);

          parent.pid = (guint32) MAX (parent_pid, 1);
          parent.start = parent_pid > 1 ? pd_apps_start_time (engine->apps, parent_pid) : 0;
        }
      if (request_has (r, proc) || (parent.start != 0 && request_has (r, parent)))
        return r;
    }
  return NULL;
}

/* A held process found running is stopped again and gets a strike; one
 * found running on two looks in a row was resumed on purpose. The first
 * look forgives a process that had not yet taken its SIGSTOP (one in an
 * uninterruptible sleep takes it late). */
static gboolean
resumed_behind_our_back (PdEngine *engine, PdRequest *request)
{
  g_autoptr (GArray) procs = request_procs (request);
  gboolean running = FALSE;

  for (guint j = 0; j < procs->len; j++)
    {
      Proc proc = g_array_index (procs, Proc, j);
      char state;
      pid_t parent;

      if (pd_apps_start_time (engine->apps, (pid_t) proc.pid) != proc.start ||
          !read_stat ((pid_t) proc.pid, &state, &parent))
        continue;   /* gone, and the pid perhaps taken by another */
      if (state != 'T' && state != 't' && state != 'Z' && state != 'X')
        {
          pd_apps_signal_process (engine->apps, (pid_t) proc.pid, proc.start, SIGSTOP);
          running = TRUE;
        }
    }
  if (!running)
    {
      g_hash_table_remove (engine->hold_strikes, &request->id);
      return FALSE;
    }
  if (g_hash_table_contains (engine->hold_strikes, &request->id))
    return TRUE;
  g_hash_table_add (engine->hold_strikes, g_memdup2 (&request->id, sizeof request->id));
  return FALSE;
}

static gboolean
on_hold_guard (gpointer data)
{
  PdEngine *engine = data;
  gboolean pending = FALSE, changed = FALSE;

  for (guint i = 0; i < engine->state->requests->len; i++)
    {
      PdRequest *r = g_ptr_array_index (engine->state->requests, i);

      if (r->kind != PD_REQUEST_PURCHASE || r->state != PD_REQUEST_PENDING)
        continue;
      if (!any_alive (engine, r))
        {
          /* The child ended the frozen process: nothing is left to answer. */
          end_hold (engine, r, PD_REQUEST_EXPIRED);
          changed = TRUE;
          continue;
        }
      if (!resumed_behind_our_back (engine, r))
        {
          pending = TRUE;
          continue;
        }
      pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_TAMPER, "PARENTD_TARGET", detail_string (r, "target"),
                "MESSAGE", "A held purchase (request %" G_GUINT64_FORMAT ", %s) was resumed without a "
                "parent's answer; it was killed and the request denied", r->id,
                detail_string (r, "target"));
      end_hold (engine, r, PD_REQUEST_DENIED);
      changed = TRUE;
    }
  if (changed)
    {
      pd_engine_save_soon (engine);
      pd_engine_requests_changed (engine);
    }
  if (pending)
    return G_SOURCE_CONTINUE;
  engine->hold_guard = 0;
  return G_SOURCE_REMOVE;
}

void
pd_engine_guard_holds (PdEngine *engine)
{
  if (engine->hold_strikes == NULL)
    engine->hold_strikes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  if (engine->hold_guard == 0 && engine->apps != NULL)
    engine->hold_guard = g_timeout_add (HOLD_GUARD_MS, on_hold_guard, engine);
}

/* Under "ask": freeze first, then decide what the hold belongs to. */
static PdPurchaseVerdict
hold (PdEngine *engine, PdRuntime *rt, pid_t pid, const char *rule, const char *app,
      const char *target, gint64 now)
{
  PdChildRecord *child = pd_engine_record (engine, rt);
  Proc proc = { (guint32) pid, pd_apps_start_time (engine->apps, pid) };
  guint pending;
  PdRequest *request;

  pd_apps_signal (engine->apps, pid, SIGSTOP);
  request = decided_for (engine, rt->uid, proc);
  if (request != NULL)
    {
      gboolean approved = request->state == PD_REQUEST_APPROVED;

      if (!request_has (request, proc))
        add_proc (request, proc);
      pd_apps_signal_process (engine->apps, pid, proc.start, approved ? SIGCONT : SIGKILL);
      return approved ? PD_PURCHASE_RUNS : PD_PURCHASE_KILLED;
    }
  request = pending_purchase (engine, rt->uid, rule, target, proc, &pending);
  if (request != NULL)
    {
      g_autoptr (GArray) procs = request_procs (request);

      if (request_has (request, proc))
        return PD_PURCHASE_HELD;
      if (procs->len >= MAX_PROCS_PER_HOLD)
        {
          pd_apps_signal_process (engine->apps, pid, proc.start, SIGKILL);
          record_attempt (child, now, rule, app, target, "blocked", 0);
          tell (engine, rt->uid, now, rule, app, "blocked");
          pd_engine_save_soon (engine);
          return PD_PURCHASE_KILLED;
        }
      /* The same purchase again: it waits on the same answer. */
      add_proc (request, proc);
      record_attempt (child, now, rule, app, target, "held", request->id);
      tell (engine, rt->uid, now, rule, app, "held");
      pd_engine_save_soon (engine);
      return PD_PURCHASE_HELD;
    }
  if (pending >= MAX_PENDING_PURCHASES)
    {
      pd_apps_signal (engine->apps, pid, SIGKILL);
      record_flood (child, now, rule, app, target);
      tell (engine, rt->uid, now, rule, app, "blocked");
      g_message ("%s: %u purchases already wait for a parent; killed another (%s)",
                 rt->policy->name, pending, target);
      pd_engine_save_soon (engine);
      return PD_PURCHASE_KILLED;
    }

  request = pd_state_add_request (engine->state, rt->uid, PD_REQUEST_PURCHASE, now);
  request->expires = now + engine->config->daemon.purchase_hold;
  g_hash_table_insert (request->details, g_strdup ("rule"), g_variant_ref_sink (g_variant_new_string (rule)));
  g_hash_table_insert (request->details, g_strdup ("app"), g_variant_ref_sink (g_variant_new_string (app)));
  g_hash_table_insert (request->details, g_strdup ("target"), g_variant_ref_sink (g_variant_new_string (target)));
  add_proc (request, proc);
  record_attempt (child, now, rule, app, target, "held", request->id);

  pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_PURCHASE_HELD, "PARENTD_CHILD", rt->policy->name,
            "PARENTD_RULE", rule, "MESSAGE",
            "%s tried to buy (%s, %s); held as request %" G_GUINT64_FORMAT " for up to %" G_GINT64_FORMAT
            " s: answer with 'parentctl approve %" G_GUINT64_FORMAT "' or 'parentctl deny %" G_GUINT64_FORMAT "'",
            rt->policy->name, rule, target, request->id, engine->config->daemon.purchase_hold,
            request->id, request->id);
  tell (engine, rt->uid, now, rule, app, "held");
  pd_engine_save_soon (engine);
  pd_engine_schedule_requests (engine);
  pd_engine_requests_changed (engine);
  pd_engine_guard_holds (engine);
  return PD_PURCHASE_HELD;
}

PdPurchaseVerdict
pd_engine_on_purchase (uid_t uid, pid_t pid, const guint *rules, guint n_rules, const guint *apps,
                       guint n_apps, const char *target, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);
  gint64 now = pd_clock_wall ();
  const char *rule, *app;

  if (rt == NULL || n_rules == 0 || rt->policy->purchases == PD_PURCHASES_ALLOW)
    return PD_PURCHASE_RUNS;
  rule = rule_name (engine, rules[0]);
  app = first_app (engine, apps, n_apps);
  switch (rt->policy->purchases)
    {
    case PD_PURCHASES_ASK:
      return hold (engine, rt, pid, rule, app, target, now);
    case PD_PURCHASES_BLOCK:
      pd_apps_signal (engine->apps, pid, SIGKILL);
      record_attempt (pd_engine_record (engine, rt), now, rule, app, target, "blocked", 0);
      tell (engine, uid, now, rule, app, "blocked");
      g_message ("%s: blocked a purchase (%s, %s)", rt->policy->name, rule, target);
      pd_engine_save_soon (engine);
      return PD_PURCHASE_KILLED;
    case PD_PURCHASES_LOG:
    case PD_PURCHASES_ALLOW:
    default:
      record_attempt (pd_engine_record (engine, rt), now, rule, app, target, "logged", 0);
      tell (engine, uid, now, rule, app, "logged");
      pd_engine_save_soon (engine);
      return PD_PURCHASE_RUNS;
    }
}

/* A held purchase is decided: resume (approved) or kill (denied, expired)
 * its processes, and say so in the log. */
void
pd_engine_purchase_decided (PdEngine *engine, PdRequest *request)
{
  g_autoptr (GArray) procs = request_procs (request);
  gboolean approved = request->state == PD_REQUEST_APPROVED;
  const char *outcome = pd_request_state_to_string (request->state);
  PdChildRecord *child = pd_state_lookup_child (engine->state, request->uid);

  for (guint i = 0; engine->apps != NULL && i < procs->len; i++)
    {
      Proc proc = g_array_index (procs, Proc, i);

      /* Killed while stopped it dies at once; resumed, it goes on. */
      pd_apps_signal_process (engine->apps, (pid_t) proc.pid, proc.start, approved ? SIGCONT : SIGKILL);
    }
  for (guint i = 0; child != NULL && i < child->purchases->len; i++)
    {
      PdPurchaseRecord *r = g_ptr_array_index (child->purchases, i);

      if (r->request == request->id)
        {
          g_free (r->outcome);
          r->outcome = g_strdup (outcome);
        }
    }
  tell (engine, request->uid, pd_clock_wall (), detail_string (request, "rule"),
        detail_string (request, "app"), outcome);
}

static gboolean
any_alive (PdEngine *engine, PdRequest *request)
{
  g_autoptr (GArray) procs = request_procs (request);

  for (guint i = 0; i < procs->len; i++)
    if (pd_apps_signal_process (engine->apps, (pid_t) g_array_index (procs, Proc, i).pid,
                                g_array_index (procs, Proc, i).start, 0))
      return TRUE;
  return FALSE;
}

/* After a start: holds whose processes the scan found again wait on; the
 * rest can never be resumed and expire now. */
void
pd_engine_purchases_resume (PdEngine *engine)
{
  gboolean changed = FALSE;

  for (guint i = 0; i < engine->state->requests->len; i++)
    {
      PdRequest *r = g_ptr_array_index (engine->state->requests, i);

      if (r->kind != PD_REQUEST_PURCHASE || r->state != PD_REQUEST_PENDING ||
          (engine->apps != NULL && any_alive (engine, r)))
        continue;
      end_hold (engine, r, PD_REQUEST_EXPIRED);
      changed = TRUE;
    }
  if (changed)
    {
      pd_engine_save_soon (engine);
      pd_engine_requests_changed (engine);
    }
  pd_engine_guard_holds (engine);
}

GVariant *
pd_engine_get_purchases (PdEngine *engine, uid_t uid, guint days)
{
  PdChildRecord *child = pd_state_lookup_child (engine->state, uid);
  gint64 since = pd_clock_wall () - (gint64) days * 24 * 3600;
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tssss)"));
  for (guint i = child != NULL ? child->purchases->len : 0; i > 0; i--)
    {
      const PdPurchaseRecord *r = g_ptr_array_index (child->purchases, i - 1);

      /* Not break: records are kept in time order, but a clock set back,
       * or a state file written by hand, may break that order. */
      if (r->time < since)
        continue;
      g_variant_builder_add (&builder, "(tssss)", (guint64) r->time, r->rule, r->app, r->target,
                             r->outcome);
    }
  return g_variant_builder_end (&builder);
}
