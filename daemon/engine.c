/* The engine: per-child runtime, the check that credits time, asks the
 * policy, warns and enforces, and the timers that bring the next check.
 * Nothing polls: a check runs when logind reports a change, when a
 * threshold or boundary the policy predicted is due, at the 15-second
 * checkpoint while anyone counts, and when the wall clock is set. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "daemon/engine-private.h"
#include "daemon/enforce.h"
#include "daemon/ledger.h"
#include "daemon/log.h"
#include "daemon/requests.h"
#include "policy/error.h"
#include "policy/loader.h"

#define CHECKPOINT_SECONDS 15
#define RELOCK_SECONDS 10
#define SAVE_RETRY_SECONDS 30

static void schedule_checkpoint (PdEngine *engine);
static void prune (PdEngine *engine);

/* --- runtime ------------------------------------------------------------- */

static void
runtime_free (gpointer data)
{
  PdRuntime *rt = data;

  g_clear_handle_id (&rt->timer, g_source_remove);
  g_clear_pointer (&rt->app_warned, g_hash_table_unref);
  g_clear_pointer (&rt->app_closed, g_hash_table_unref);
  g_free (rt);
}

PdRuntime *
pd_engine_runtime (PdEngine *engine, uid_t uid)
{
  return g_hash_table_lookup (engine->children, GUINT_TO_POINTER (uid));
}

PdChildRecord *
pd_engine_record (PdEngine *engine, const PdRuntime *rt)
{
  return pd_state_child (engine->state, rt->uid, rt->policy->name);
}

static gint64
live_elapsed_us (const PdRuntime *rt)
{
  PdTick now;

  if (!rt->counting)
    return 0;
  pd_clock_tick (&now);
  return pd_clock_elapsed_us (&rt->since, &now);
}

/* Moves counted time into the ledger, for the screen and for the apps
 * that ran meanwhile, and restarts the count at now. */
void
pd_engine_credit (PdEngine *engine, PdRuntime *rt, gint64 now)
{
  PdTick tick;

  pd_clock_tick (&tick);
  if (rt->counting)
    pd_ledger_credit (pd_engine_record (engine, rt), &engine->config->daemon, engine->tz,
                      rt->since_wall, now, pd_clock_elapsed_us (&rt->since, &tick),
                      pd_engine_running_apps (engine, rt), &rt->carry_us);
  rt->since = tick;
  rt->since_wall = now;
}

void
pd_engine_evaluate (PdEngine *engine, PdRuntime *rt, gint64 now, PdVerdict *out,
                    gint64 *out_used, gint64 *out_bonus)
{
  PdChildRecord *record = pd_engine_record (engine, rt);
  PdDayRecord *day = pd_ledger_today (record, &engine->config->daemon, engine->tz, now);
  PdUsage usage = {
    .used = day->used + (live_elapsed_us (rt) + rt->carry_us) / G_USEC_PER_SEC,
    .bonus = day->bonus,
    .locked_until = record->locked_until,
  };

  pd_evaluate (&engine->config->daemon, rt->policy, &usage, now, engine->tz, out);
  /* Kept with the day, for the history: the policy may change later. */
  day->limit_known = TRUE;
  day->limit = out->limit_today;
  if (out_used != NULL)
    *out_used = usage.used;
  if (out_bonus != NULL)
    *out_bonus = usage.bonus;
}

/* --- warnings -------------------------------------------------------------- */

/* Gives the warning for the smallest threshold crossed and not yet given;
 * thresholds above what is left again (after a grant) are re-armed. */
static void
warn (PdEngine *engine, PdRuntime *rt, guint *given, const char *what, gint64 left)
{
  const PdDaemonSettings *settings = &engine->config->daemon;
  gboolean due = FALSE;

  for (guint i = 0; i < settings->n_warnings; i++)
    {
      guint bit = 1u << i;

      if (left > settings->warnings[i])
        *given &= ~bit;
      else if (!(*given & bit))
        *given |= bit, due = TRUE;
    }
  if (due && left > 0)
    {
      g_debug ("Warning %s: %s, %" G_GINT64_FORMAT " s left", rt->policy->name, what, left);
      pd_engine_emit (engine, rt->uid, "Warning", g_variant_new ("(st)", what, (guint64) left));
    }
}

static void
give_warnings (PdEngine *engine, PdRuntime *rt, const PdVerdict *v, gint64 now)
{
  if (strcmp (rt->warned_day, v->day.date) != 0)
    {
      g_strlcpy (rt->warned_day, v->day.date, sizeof rt->warned_day);
      rt->warned_daily = rt->warned_hours = 0;
    }
  /* Only a child at the screen is warned; one who comes back is warned then. */
  if (!rt->counting)
    return;
  if (v->remaining_today != PD_UNLIMITED && v->remaining_today > 0)
    warn (engine, rt, &rt->warned_daily, "daily", v->remaining_today);
  if (v->allowed_until != 0)
    warn (engine, rt, &rt->warned_hours, "hours", v->allowed_until - now);
}

/* --- enforcement ----------------------------------------------------------- */

static const char *
limit_kind (PdChildState state)
{
  switch (state)
    {
    case PD_STATE_LOCKED_OUT: return "lock-out";
    case PD_STATE_OUTSIDE_HOURS: return "hours";
    default: return "daily";
    }
}

/* Whether the on_limit action is due now: no time left, a lock-out, or
 * allowed hours over and their grace passed (a daemon that starts outside
 * allowed hours gives no grace). */
static gboolean
action_due (PdEngine *engine, PdRuntime *rt, const PdVerdict *v, gint64 now)
{
  if (rt->in_hours && !v->in_allowed_hours)
    rt->hours_ended = now;
  else if (v->in_allowed_hours)
    rt->hours_ended = 0;
  rt->in_hours = v->in_allowed_hours;

  switch (v->state)
    {
    case PD_STATE_EXHAUSTED:
    case PD_STATE_LOCKED_OUT:
      return TRUE;
    case PD_STATE_OUTSIDE_HOURS:
      return rt->hours_ended == 0 || now - rt->hours_ended >= engine->config->daemon.grace;
    default:
      return FALSE;
    }
}

static const char *
action_name (PdEngine *engine, const PdChild *child)
{
  switch (child->on_limit)
    {
    case PD_ON_LIMIT_LOGOUT: return "logout";
    case PD_ON_LIMIT_CLOSE_APPS: return engine->apps != NULL ? "close-apps" : "lock";
    case PD_ON_LIMIT_LOCK:
    default: return "lock";
    }
}

/* LimitReached goes out when time runs out, at the start of grace, so
 * that a desktop can say what is coming; once per limit. */
static void
tell_limit (PdEngine *engine, PdRuntime *rt, const PdVerdict *v)
{
  gboolean reached = v->state == PD_STATE_GRACE || v->state == PD_STATE_EXHAUSTED ||
                     v->state == PD_STATE_OUTSIDE_HOURS || v->state == PD_STATE_LOCKED_OUT;

  if (reached && !rt->limit_told)
    pd_engine_emit (engine, rt->uid, "LimitReached",
                    g_variant_new ("(ss)", limit_kind (v->state), action_name (engine, rt->policy)));
  rt->limit_told = reached;
}

static void
act (PdEngine *engine, PdRuntime *rt, const PdVerdict *v)
{
  const PdChild *child = rt->policy;
  g_autoptr (GPtrArray) paths = pd_sessions_paths (engine->sessions, rt->uid);
  const char *action = action_name (engine, child);
  gboolean first = !rt->acting;

  if (first)
    {
      rt->acting = TRUE;
      pd_engine_save_now (engine);
      pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_LIMIT_REACHED, "PARENTD_CHILD", child->name,
                "PARENTD_LIMIT", limit_kind (v->state), "PARENTD_ACTION", action,
                "MESSAGE", "%s reached the %s limit; action: %s", child->name,
                limit_kind (v->state), action);
    }
  /* Closed once; what starts later is stopped at exec. */
  if (child->on_limit == PD_ON_LIMIT_CLOSE_APPS && engine->apps != NULL)
    {
      if (first)
        pd_engine_close_apps (engine, rt);
      return;
    }
  if (paths->len == 0)
    return;
  if (child->on_limit == PD_ON_LIMIT_LOGOUT)
    {
      pd_enforce_logout (engine->bus, paths);
      return;
    }
  /* close-apps needs process monitoring; without it, locking is the
   * closest thing that still holds the limit (fail closed). */
  if (pd_sessions_any_unlocked (engine->sessions, rt->uid))
    {
      pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_LOCK, "PARENTD_CHILD", child->name,
                "MESSAGE", "Locking the sessions of %s (%s)", child->name, limit_kind (v->state));
      pd_enforce_lock (engine->bus, paths);
    }
}

/* --- scheduling ------------------------------------------------------------ */

static gboolean
on_child_timer (gpointer data)
{
  PdRuntime *rt = data;

  rt->timer = 0;
  pd_engine_check (rt->engine, rt);
  return G_SOURCE_REMOVE;
}

static void
consider (gint64 *next, gint64 candidate)
{
  if (candidate > 0 && (*next == 0 || candidate < *next))
    *next = candidate;
}

/* Seconds until the next moment the verdict can change by itself. */
static gint64
seconds_to_next_check (PdEngine *engine, PdRuntime *rt, const PdVerdict *v, gint64 now, gint64 used,
                       gint64 bonus)
{
  const PdDaemonSettings *settings = &engine->config->daemon;
  gint64 next = 0;

  consider (&next, v->next_change - now);
  if (rt->counting && v->limit_today != PD_UNLIMITED)
    {
      gint64 left = v->limit_today + bonus - used;

      for (guint i = 0; i < settings->n_warnings; i++)
        consider (&next, left - settings->warnings[i]);
      consider (&next, left);
      consider (&next, left + settings->grace);
    }
  if (v->allowed_until != 0)
    for (guint i = 0; i < settings->n_warnings; i++)
      consider (&next, v->allowed_until - now - settings->warnings[i]);
  if (rt->hours_ended != 0)
    consider (&next, rt->hours_ended + settings->grace - now);
  if (rt->acting && pd_sessions_any_unlocked (engine->sessions, rt->uid))
    consider (&next, RELOCK_SECONDS);
  return next;
}

static void
schedule (PdEngine *engine, PdRuntime *rt, gint64 delay)
{
  g_clear_handle_id (&rt->timer, g_source_remove);
  if (delay > 0)
    rt->timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, (guint) MIN (delay, 24 * 3600),
                                            on_child_timer, rt, NULL);
}

void
pd_engine_check (PdEngine *engine, PdRuntime *rt)
{
  gint64 now = pd_clock_wall ();
  gboolean was_counting = rt->counting;
  PdVerdict v;
  gint64 used, bonus, next;

  pd_engine_credit (engine, rt, now);
  prune (engine);
  rt->counting = pd_sessions_counting (engine->sessions, rt->uid);
  if (rt->counting != was_counting)
    g_debug ("%s %s counting", rt->policy->name, rt->counting ? "starts" : "stops");

  pd_engine_evaluate (engine, rt, now, &v, &used, &bonus);
  give_warnings (engine, rt, &v, now);
  tell_limit (engine, rt, &v);
  if (action_due (engine, rt, &v, now))
    act (engine, rt, &v);
  else
    rt->acting = FALSE;

  next = seconds_to_next_check (engine, rt, &v, now, used, bonus);
  pd_engine_check_apps (engine, rt, now, &next);
  schedule (engine, rt, next);
  schedule_checkpoint (engine);
  if (engine->events.child_changed != NULL)
    engine->events.child_changed (rt->uid, engine->events.user_data);
}

void
pd_engine_check_all (PdEngine *engine)
{
  GHashTableIter iter;
  gpointer rt;

  g_hash_table_iter_init (&iter, engine->children);
  while (g_hash_table_iter_next (&iter, NULL, &rt))
    pd_engine_check (engine, rt);
}

/* --- saving ---------------------------------------------------------------- */

/* The configuration in force goes to the store, so that a later start with
 * a broken file can fall back to it; retried with the state until it
 * succeeds. */
static gboolean
remember_config (PdEngine *engine, GError **error)
{
  if (!engine->config_saved)
    engine->config_saved = pd_store_save_config (engine->store, engine->config, error);
  return engine->config_saved;
}

gboolean
pd_engine_save_now (PdEngine *engine)
{
  g_autoptr (GError) error = NULL;

  if (pd_store_save (engine->store, engine->state, &error) && remember_config (engine, &error))
    {
      if (engine->save_failing)
        g_message ("State saved again in %s", pd_store_dir (engine->store));
      engine->save_failing = FALSE;
      return TRUE;
    }
  /* Keep running on what is in memory: stopping would end enforcement,
   * which is worse than losing history. Say it once, retry quietly. */
  if (!engine->save_failing)
    pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_STATE_UNSAVED, "MESSAGE",
              "Cannot save state: %s; keeping it in memory and retrying every %d s",
              error->message, SAVE_RETRY_SECONDS);
  engine->save_failing = TRUE;
  return FALSE;
}

static gboolean
on_save_soon (gpointer data)
{
  PdEngine *engine = data;
  g_autoptr (GError) error = NULL;

  gint64 started = g_get_monotonic_time ();
  gboolean saved;

  engine->save_soon = 0;
  saved = pd_store_save_in_background (engine->store, engine->state, &error);
  /* Time the main loop cannot answer, which is why purchases are stopped
   * on a thread of their own (sentry.c). */
  g_debug ("Handing the state to the writer took %" G_GINT64_FORMAT " µs",
           g_get_monotonic_time () - started);
  if (saved || engine->save_failing)
    return G_SOURCE_REMOVE;
  pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_STATE_UNSAVED, "MESSAGE",
            "Cannot save state: %s; keeping it in memory and retrying every %d s",
            error->message, SAVE_RETRY_SECONDS);
  engine->save_failing = TRUE;
  schedule_checkpoint (engine);
  return G_SOURCE_REMOVE;
}

void
pd_engine_save_soon (PdEngine *engine)
{
  if (engine->save_soon == 0)
    engine->save_soon = g_timeout_add (500, on_save_soon, engine);
}

static gboolean
any_counting (PdEngine *engine)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, engine->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((PdRuntime *) value)->counting)
      return TRUE;
  return FALSE;
}

static gboolean
on_checkpoint (gpointer data)
{
  PdEngine *engine = data;

  engine->checkpoint = 0;
  pd_engine_check_all (engine);
  pd_engine_save_now (engine);
  schedule_checkpoint (engine);
  if (engine->events.checkpoint != NULL)
    engine->events.checkpoint (engine->events.user_data);
  return G_SOURCE_REMOVE;
}

/* While anyone counts, or while saving fails, credit and save every 15 s:
 * a crash then loses at most that much. Otherwise nothing wakes us. */
static void
schedule_checkpoint (PdEngine *engine)
{
  gboolean needed = any_counting (engine) || engine->save_failing || !engine->config_saved;

  if (needed && engine->checkpoint == 0)
    engine->checkpoint = g_timeout_add_seconds (engine->save_failing || !engine->config_saved
                                                  ? SAVE_RETRY_SECONDS : CHECKPOINT_SECONDS,
                                                on_checkpoint, engine);
  else if (!needed)
    g_clear_handle_id (&engine->checkpoint, g_source_remove);
}

void
pd_engine_save (PdEngine *engine)
{
  GHashTableIter iter;
  gpointer rt;
  gint64 now = pd_clock_wall ();

  g_hash_table_iter_init (&iter, engine->children);
  while (g_hash_table_iter_next (&iter, NULL, &rt))
    pd_engine_credit (engine, rt, now);
  pd_engine_save_now (engine);
}

/* --- signals to the outside --------------------------------------------------- */

void
pd_engine_emit (PdEngine *engine, uid_t uid, const char *signal, GVariant *parameters)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (parameters);

  if (engine->events.child_signal != NULL)
    engine->events.child_signal (uid, signal, owned, engine->events.user_data);
}

void
pd_engine_requests_changed (PdEngine *engine)
{
  if (engine->events.requests_changed != NULL)
    engine->events.requests_changed (engine->events.user_data);
}

static gboolean
on_request_expiry (gpointer data)
{
  PdEngine *engine = data;
  g_autoptr (GPtrArray) expired = NULL;

  engine->request_timer = 0;
  expired = pd_requests_expire (engine->state, pd_clock_wall ());
  for (guint i = 0; i < expired->len; i++)
    {
      PdRequest *r = g_ptr_array_index (expired, i);

      r->answered = r->expires;
      if (r->kind == PD_REQUEST_PURCHASE)
        pd_engine_purchase_decided (engine, r);
      pd_engine_emit (engine, r->uid, "RequestAnswered", g_variant_new ("(tst)", r->id, "expired", (guint64) 0));
    }
  if (expired->len > 0)
    {
      pd_engine_save_now (engine);
      pd_engine_requests_changed (engine);
    }
  pd_engine_schedule_requests (engine);
  return G_SOURCE_REMOVE;
}

void
pd_engine_schedule_requests (PdEngine *engine)
{
  gint64 next = pd_requests_next_expiry (engine->state);

  g_clear_handle_id (&engine->request_timer, g_source_remove);
  if (next != 0)
    engine->request_timer = g_timeout_add_seconds ((guint) CLAMP (next - pd_clock_wall (), 0, 24 * 3600),
                                                   on_request_expiry, engine);
}

/* --- configuration and life cycle ------------------------------------------ */

/* Makes the runtimes match the configuration in force: children kept keep
 * their counting state, removed ones are credited and dropped. */
static void
sync_children (PdEngine *engine)
{
  GPtrArray *children = engine->config->children;
  g_autofree uid_t *uids = g_new0 (uid_t, MAX (children->len, 1));
  g_autofree gboolean *text = g_new0 (gboolean, MAX (children->len, 1));
  GHashTableIter iter;
  gpointer key, value;
  gint64 now = pd_clock_wall ();

  g_hash_table_iter_init (&iter, engine->children);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      PdRuntime *rt = value;
      const PdChild *child = pd_config_find_child_by_uid (engine->config, rt->uid);

      if (child == NULL)
        {
          pd_engine_credit (engine, rt, now);
          g_hash_table_iter_remove (&iter);
        }
      else
        rt->policy = child;
    }

  for (guint i = 0; i < children->len; i++)
    {
      const PdChild *child = g_ptr_array_index (children, i);
      PdRuntime *rt = pd_engine_runtime (engine, child->uid);

      if (rt == NULL)
        {
          rt = g_new0 (PdRuntime, 1);
          rt->engine = engine;
          rt->uid = child->uid;
          rt->policy = child;
          rt->in_hours = TRUE;
          pd_clock_tick (&rt->since);
          rt->since_wall = now;
          g_hash_table_insert (engine->children, GUINT_TO_POINTER (child->uid), rt);
        }
      uids[i] = child->uid;
      text[i] = child->count_text_sessions;
    }
  pd_sessions_set_children (engine->sessions, uids, text, children->len);
}

static PdConfig *
load_config (PdEngine *engine, GStrv *errors)
{
  PdLoadPaths paths = {
    .config_file = engine->config_file,
    .dropin_dir = engine->dropin_dir,
    .rules_dir = engine->rules_dir,
    .admin_rules_dir = engine->admin_rules_dir,
  };

  return pd_config_load (&paths, errors);
}

static void
set_config_errors (PdEngine *engine, GStrv errors)
{
  g_strfreev (engine->config_errors);
  engine->config_errors = errors != NULL ? errors : g_new0 (char *, 1);
}

/* At start a broken configuration falls back to the last one that loaded;
 * a daemon that stopped enforcing over a typo would be a gift to a child. */
static gboolean
load_initial_config (PdEngine *engine, GError **error)
{
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdLoader) loader = NULL;
  g_auto (GStrv) saved_errors = NULL;
  g_autoptr (GError) saved_error = NULL;
  g_autofree char *report = NULL;

  engine->config = load_config (engine, &errors);
  if (engine->config != NULL)
    {
      set_config_errors (engine, NULL);
      remember_config (engine, NULL);   /* a failure is said, and retried, with the state */
      return TRUE;
    }

  report = pd_format_errors ((const char *const *) errors);
  loader = pd_loader_new (NULL, NULL);
  if (pd_store_load_config (engine->store, loader, &saved_error))
    engine->config = pd_loader_finish (loader, &saved_errors);
  if (engine->config == NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                   _("The configuration has errors and no earlier configuration was saved; "
                     "fix these and start again:\n%s"), report);
      return FALSE;
    }
  engine->config_saved = TRUE;   /* it came from the store */
  pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_CONFIG_REJECTED, "MESSAGE",
            "THE CONFIGURATION WAS REJECTED; still enforcing the last one that loaded. "
            "Fix these and run 'parentctl reload':\n%s", report);
  set_config_errors (engine, g_steal_pointer (&errors));
  return TRUE;
}

gboolean
pd_engine_reload (PdEngine *engine, GError **error)
{
  g_auto (GStrv) errors = NULL;
  PdConfig *fresh = load_config (engine, &errors);
  PdConfig *old;

  if (fresh == NULL)
    {
      g_autofree char *report = pd_format_errors ((const char *const *) errors);

      pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_CONFIG_REJECTED, "MESSAGE",
                "Reload rejected; the configuration in force is unchanged:\n%s", report);
      set_config_errors (engine, g_steal_pointer (&errors));
      if (engine->events.config_changed != NULL)
        engine->events.config_changed (engine->events.user_data);
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG, "%s", report);
      return FALSE;
    }

  pd_engine_save (engine);
  old = engine->config;
  engine->config = fresh;
  sync_children (engine);
  if (engine->apps != NULL)
    pd_apps_set_config (engine->apps, fresh);
  pd_config_free (old);
  set_config_errors (engine, NULL);
  engine->config_saved = FALSE;
  pd_engine_save_now (engine);
  g_message ("Configuration reloaded: %s", engine->config->sources->len > 0
                                             ? "new settings in force" : "empty");
  if (engine->events.config_changed != NULL)
    engine->events.config_changed (engine->events.user_data);
  pd_engine_check_all (engine);
  return TRUE;
}

static void
on_sessions_changed (uid_t uid, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  if (rt != NULL)
    pd_engine_check (engine, rt);
}

static void
on_sleep (gboolean sleeping, gpointer data)
{
  PdEngine *engine = data;

  g_message ("%s", sleeping ? "Suspending: counting stops" : "Resumed");
  pd_engine_check_all (engine);
  if (sleeping)
    pd_engine_save_now (engine);
}

static void
on_clock_jump (gpointer data)
{
  PdEngine *engine = data;

  pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_CLOCK_JUMP, "MESSAGE",
            "The wall clock was set to %" G_GINT64_FORMAT "; recomputing the day. "
            "Usage is kept per date, so no day's allowance comes back", pd_clock_wall ());
  g_clear_pointer (&engine->tz, g_time_zone_unref);
  engine->tz = g_time_zone_new_local ();
  pd_engine_check_all (engine);
  pd_engine_save_now (engine);
}

/* Drops history older than history_days, once per policy day. */
static void
prune (PdEngine *engine)
{
  gint64 now = pd_clock_wall ();
  gint64 keep = (gint64) engine->config->daemon.history_days * 24 * 3600;
  PdDay today, oldest;

  pd_day_at (&engine->config->daemon, engine->tz, now, &today);
  if (strcmp (today.date, engine->today) == 0)
    return;
  g_strlcpy (engine->today, today.date, sizeof engine->today);
  pd_day_at (&engine->config->daemon, engine->tz, now - keep, &oldest);
  pd_state_prune (engine->state, oldest.date, now - keep);
}

PdEngine *
pd_engine_new (const PdEngineOptions *options, GError **error)
{
  g_autoptr (PdEngine) engine = g_new0 (PdEngine, 1);
  g_autoptr (GError) clock_error = NULL;

  engine->config_file = g_strdup (options->config_file);
  engine->dropin_dir = g_build_filename (options->config_dir, "parentd.conf.d", NULL);
  engine->admin_rules_dir = g_build_filename (options->config_dir, "rules.d", NULL);
  engine->rules_dir = g_strdup (options->rules_dir);
  engine->bus = g_object_ref (options->bus);
  engine->tz = g_time_zone_new_local ();
  engine->children = g_hash_table_new_full (NULL, NULL, NULL, runtime_free);

  engine->store = pd_store_new (options->state_dir, error);
  if (engine->store == NULL || !load_initial_config (engine, error))
    return NULL;

  engine->state = pd_store_load (engine->store, &engine->state_problem);
  if (engine->state_problem != NULL)
    pd_event (G_LOG_LEVEL_WARNING, PD_MESSAGE_STATE_RECOVERED, "MESSAGE", "%s",
              engine->state_problem);
  prune (engine);

  engine->sessions = pd_sessions_new (engine->bus, on_sessions_changed, on_sleep, engine);
  sync_children (engine);
  pd_engine_start_apps (engine);
  engine->clock_watch = pd_clock_watch_jumps (on_clock_jump, engine, &clock_error);
  if (engine->clock_watch == 0)
    g_warning ("%s; a changed clock is noticed at the next check only", clock_error->message);
  pd_engine_schedule_requests (engine);
  pd_engine_check_all (engine);
  return g_steal_pointer (&engine);
}

void
pd_engine_set_events (PdEngine *engine, const PdEngineEvents *events)
{
  engine->events = *events;
}

char *
pd_engine_status_line (PdEngine *engine)
{
  guint n = g_hash_table_size (engine->children);
  guint counting = 0;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, engine->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    counting += ((PdRuntime *) value)->counting;
  return g_strdup_printf ("%u %s, %u counting%s%s%s", n, n == 1 ? "child" : "children", counting,
                          engine->config_errors[0] != NULL ? "; CONFIGURATION REJECTED, old one in force" : "",
                          engine->state_problem != NULL ? "; " : "",
                          engine->state_problem != NULL ? engine->state_problem : "");
}

void
pd_engine_free (PdEngine *engine)
{
  if (engine == NULL)
    return;
  g_clear_handle_id (&engine->checkpoint, g_source_remove);
  g_clear_handle_id (&engine->request_timer, g_source_remove);
  g_clear_handle_id (&engine->clock_watch, g_source_remove);
  g_clear_handle_id (&engine->hold_guard, g_source_remove);
  g_clear_handle_id (&engine->save_soon, g_source_remove);
  g_clear_pointer (&engine->hold_strikes, g_hash_table_unref);
  g_clear_pointer (&engine->apps, pd_apps_free);
  g_clear_pointer (&engine->children, g_hash_table_unref);
  g_clear_pointer (&engine->sessions, pd_sessions_free);
  g_clear_pointer (&engine->state, pd_state_free);
  g_clear_pointer (&engine->store, pd_store_free);
  g_clear_pointer (&engine->config, pd_config_free);
  g_clear_pointer (&engine->config_errors, g_strfreev);
  g_clear_pointer (&engine->tz, g_time_zone_unref);
  g_clear_object (&engine->bus);
  g_free (engine->state_problem);
  g_free (engine->config_file);
  g_free (engine->dropin_dir);
  g_free (engine->rules_dir);
  g_free (engine->admin_rules_dir);
  g_free (engine);
}
