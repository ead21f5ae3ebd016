/* The engine's queries and commands, as bus.c calls them after it has
 * authorized the caller. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "daemon/engine-private.h"
#include "daemon/ledger.h"
#include "daemon/log.h"
#include "daemon/requests.h"
#include "policy/error.h"

static PdRuntime *
runtime_or_error (PdEngine *engine, uid_t uid, GError **error)
{
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  if (rt == NULL)
    g_set_error (error, PD_ERROR, PD_ERROR_NO_SUCH_CHILD,
                 _("uid %u is not a child in the configuration"), (guint) uid);
  return rt;
}

GArray *
pd_engine_list_uids (PdEngine *engine)
{
  GPtrArray *children = engine->config->children;
  GArray *uids = g_array_sized_new (FALSE, FALSE, sizeof (uid_t), children->len);

  for (guint i = 0; i < children->len; i++)
    g_array_append_val (uids, ((PdChild *) g_ptr_array_index (children, i))->uid);
  return uids;
}

gboolean
pd_engine_is_child (PdEngine *engine, uid_t uid)
{
  return pd_engine_runtime (engine, uid) != NULL;
}

gboolean
pd_engine_child_status (PdEngine *engine, uid_t uid, PdChildStatus *out)
{
  PdRuntime *rt = pd_engine_runtime (engine, uid);
  gint64 now = pd_clock_wall ();
  PdVerdict v;
  gint64 used, bonus;

  if (rt == NULL)
    return FALSE;
  pd_engine_evaluate (engine, rt, now, &v, &used, &bonus);
  *out = (PdChildStatus) {
    .uid = uid,
    .name = rt->policy->name,
    .state = pd_state_to_string (v.state),
    .counting = rt->counting,
    .used_today = (guint64) MAX (used, 0),
    .bonus_today = bonus,
    .limit_today = v.limit_today,
    .remaining_today = v.remaining_today,
    .next_change = (guint64) MAX (v.next_change, 0),
    .allowed_until = (guint64) MAX (v.allowed_until, 0),
  };
  /* Allowed hours just ended, action not yet taken: that is grace too. */
  if (v.state == PD_STATE_OUTSIDE_HOURS && rt->hours_ended != 0 &&
      now - rt->hours_ended < engine->config->daemon.grace)
    out->state = pd_state_to_string (PD_STATE_GRACE);
  return TRUE;
}

static void
add_app (GVariantBuilder *builder, GHashTable *seen, PdEngine *engine, const PdRuntime *rt,
         guint app, gint64 used, int weekday)
{
  const PdRule *rule = g_ptr_array_index (engine->config->apps, app);
  gint64 limit;
  PdAppState state;

  if (!g_hash_table_add (seen, rule->name))
    return;
  state = pd_evaluate_app (rt->policy, app, used, weekday, &limit);
  g_variant_builder_add (builder, "(stxs)", rule->name, (guint64) MAX (used, 0), limit,
                         pd_app_state_to_string (state));
}

/* The apps the policy names for this child, then any other app used today. */
GVariant *
pd_engine_get_apps (PdEngine *engine, uid_t uid)
{
  PdRuntime *rt = pd_engine_runtime (engine, uid);
  GVariantBuilder builder;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  PdDay today;
  PdDayRecord *day;
  const PdChild *child;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(stxs)"));
  if (rt == NULL)
    return g_variant_builder_end (&builder);
  child = rt->policy;
  /* Running apps' time so far goes to the ledger first, so that the
   * answer is up to the second. */
  pd_engine_credit (engine, rt, pd_clock_wall ());
  pd_day_at (&engine->config->daemon, engine->tz, pd_clock_wall (), &today);
  day = pd_child_record_day (pd_engine_record (engine, rt), today.date);

  for (guint app = 0; app < engine->config->apps->len; app++)
    {
      const char *name = ((PdRule *) g_ptr_array_index (engine->config->apps, app))->name;
      gint64 used = pd_day_record_app (day, name);
      gboolean named = pd_child_blocks_app (child, app) || pd_child_always_allows_app (child, app) ||
                       pd_child_app_limit (child, app, today.weekday) != PD_UNLIMITED;

      for (guint d = 0; !named && d < PD_DAYS; d++)
        named = pd_child_app_limit (child, app, (int) d) != PD_UNLIMITED;
      if (named || used > 0)
        add_app (&builder, seen, engine, rt, app, used, today.weekday);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
pd_engine_get_usage (PdEngine *engine, uid_t uid, guint days)
{
  PdRuntime *rt = pd_engine_runtime (engine, uid);
  gint64 now = pd_clock_wall ();

  if (rt == NULL)
    return pd_ledger_usage (NULL, days);
  /* Up to the second, as GetApps; and today is always the newest entry,
   * so that a client knows which policy day is today. */
  pd_engine_credit (engine, rt, now);
  pd_ledger_today (pd_engine_record (engine, rt), &engine->config->daemon, engine->tz, now);
  return pd_ledger_usage (pd_engine_record (engine, rt), days);
}

GVariant *
pd_engine_get_daily_limits (PdEngine *engine, uid_t uid, guint days)
{
  PdRuntime *rt = pd_engine_runtime (engine, uid);
  PdVerdict v;

  if (rt == NULL)
    return pd_ledger_limits (NULL, days);
  /* Today's limit as the policy says now, a reload included. */
  pd_engine_evaluate (engine, rt, pd_clock_wall (), &v, NULL, NULL);
  return pd_ledger_limits (pd_engine_record (engine, rt), days);
}

static const char *
name_of_uid (uid_t uid, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  return rt != NULL ? rt->policy->name : NULL;
}

GVariant *
pd_engine_list_requests (PdEngine *engine, gboolean all, uid_t uid)
{
  return pd_requests_list (engine->state, all, uid, name_of_uid, engine);
}

gboolean
pd_engine_request_owner (PdEngine *engine, guint64 id, uid_t *out_uid, GError **error)
{
  PdRequest *request = pd_state_find_request (engine->state, id);

  if (request == NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_NO_SUCH_REQUEST,
                   _("There is no request %" PRIu64 "; see 'parentctl requests'"), id);
      return FALSE;
    }
  *out_uid = request->uid;
  return TRUE;
}

/* Adds seconds to today's bonus. Time given counts from now: what the
 * child overran in grace is not taken out of it. */
static void
give_time (PdEngine *engine, PdRuntime *rt, gint64 seconds)
{
  gint64 now = pd_clock_wall ();
  PdDayRecord *day = pd_ledger_today (pd_engine_record (engine, rt), &engine->config->daemon,
                                      engine->tz, now);
  PdVerdict v;

  pd_engine_evaluate (engine, rt, now, &v, NULL, NULL);
  if (seconds > 0 && v.limit_today != PD_UNLIMITED)
    day->bonus += MAX (0, day->used - (v.limit_today + day->bonus));
  day->bonus += seconds;
}

/* A change a parent made: saved at once, and the child re-checked. */
static void
changed (PdEngine *engine, PdRuntime *rt)
{
  pd_engine_save_now (engine);
  pd_engine_check (engine, rt);
}

gboolean
pd_engine_grant (PdEngine *engine, uid_t uid, gint64 seconds, GError **error)
{
  PdRuntime *rt = runtime_or_error (engine, uid, error);
  PdDayRecord *day;

  if (rt == NULL)
    return FALSE;
  pd_engine_credit (engine, rt, pd_clock_wall ());
  give_time (engine, rt, seconds);
  day = pd_ledger_today (pd_engine_record (engine, rt), &engine->config->daemon, engine->tz,
                         pd_clock_wall ());
  g_message ("%s: %+" G_GINT64_FORMAT " s today (bonus now %" G_GINT64_FORMAT " s)",
             rt->policy->name, seconds, day->bonus);
  changed (engine, rt);
  return TRUE;
}

gboolean
pd_engine_lock_out (PdEngine *engine, uid_t uid, guint seconds, GError **error)
{
  PdRuntime *rt = runtime_or_error (engine, uid, error);
  PdChildRecord *record;

  if (rt == NULL)
    return FALSE;
  record = pd_engine_record (engine, rt);
  record->locked_until = seconds > 0 ? pd_clock_wall () + seconds : 0;
  g_message ("%s: %s", rt->policy->name, seconds > 0 ? "locked out" : "lock-out ended");
  changed (engine, rt);
  return TRUE;
}

gboolean
pd_engine_request_time (PdEngine *engine, uid_t uid, guint seconds, const char *reason,
                        guint64 *out_id, GError **error)
{
  PdRuntime *rt = runtime_or_error (engine, uid, error);
  gint64 now = pd_clock_wall ();
  PdVerdict v;
  PdRequest *request;

  if (rt == NULL)
    return FALSE;
  pd_engine_evaluate (engine, rt, now, &v, NULL, NULL);
  request = pd_requests_file_time (engine->state, uid, seconds, reason, now, v.day.end, error);
  if (request == NULL)
    return FALSE;
  pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_REQUEST, "PARENTD_CHILD", rt->policy->name,
            "MESSAGE", "%s asks for %u more seconds (request %" G_GUINT64_FORMAT ")",
            rt->policy->name, seconds, request->id);
  *out_id = request->id;
  pd_engine_save_now (engine);
  pd_engine_schedule_requests (engine);
  pd_engine_requests_changed (engine);
  return TRUE;
}

static gboolean
answer (PdEngine *engine, guint64 id, gboolean approve, guint seconds, GError **error)
{
  PdRequest *request = pd_requests_pending (engine->state, id, error);
  gint64 now = pd_clock_wall ();
  PdRuntime *rt;

  if (request == NULL)
    return FALSE;
  rt = pd_engine_runtime (engine, request->uid);
  request->state = approve ? PD_REQUEST_APPROVED : PD_REQUEST_DENIED;
  request->answered = now;
  if (approve && seconds > 0)
    request->seconds = seconds;
  if (request->kind == PD_REQUEST_PURCHASE)
    pd_engine_purchase_decided (engine, request);
  if (approve && rt != NULL && request->kind == PD_REQUEST_TIME)
    {
      pd_engine_credit (engine, rt, now);
      give_time (engine, rt, request->seconds);
    }
  g_message ("Request %" G_GUINT64_FORMAT " of %s: %s", request->id,
             rt != NULL ? rt->policy->name : "a former child",
             pd_request_state_to_string (request->state));

  pd_engine_emit (engine, request->uid, "RequestAnswered",
                  g_variant_new ("(tst)", request->id, pd_request_state_to_string (request->state),
                                 (guint64) (approve ? request->seconds : 0)));
  pd_engine_save_now (engine);
  pd_engine_schedule_requests (engine);
  pd_engine_requests_changed (engine);
  if (rt != NULL)
    pd_engine_check (engine, rt);
  return TRUE;
}

gboolean
pd_engine_approve (PdEngine *engine, guint64 id, guint seconds, GError **error)
{
  return answer (engine, id, TRUE, seconds, error);
}

gboolean
pd_engine_deny (PdEngine *engine, guint64 id, GError **error)
{
  return answer (engine, id, FALSE, 0, error);
}

const char *const *
pd_engine_config_errors (PdEngine *engine)
{
  return (const char *const *) engine->config_errors;
}
