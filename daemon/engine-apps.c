/* The engine's side of apps: per-app time goes to the ledger with screen
 * time, app limits warn and then close the app, and every exec of a child
 * gets a verdict: blocked apps never run, exhausted apps do not start
 * again, and under close-apps no app starts once time is up. */
#include "config.h"

#include <string.h>

#include "daemon/engine-private.h"
#include "daemon/ledger.h"
#include "daemon/log.h"

static void
on_before_change (uid_t uid, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  /* The apps that ran until now get the time until now. */
  if (rt != NULL)
    pd_engine_credit (engine, rt, pd_clock_wall ());
}

static void
on_after_change (uid_t uid, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  if (rt != NULL)
    pd_engine_check (engine, rt);
}

static const char *
app_name (PdEngine *engine, guint app)
{
  return ((PdRule *) g_ptr_array_index (engine->config->apps, app))->name;
}

static gint64
app_used_today (PdEngine *engine, PdRuntime *rt, guint app, int *out_weekday)
{
  PdDay today;
  PdDayRecord *day;

  pd_day_at (&engine->config->daemon, engine->tz, pd_clock_wall (), &today);
  day = pd_child_record_day (pd_engine_record (engine, rt), today.date);
  if (out_weekday != NULL)
    *out_weekday = today.weekday;
  return pd_day_record_app (day, app_name (engine, app));
}

/* The exec path of a child's process: decided from the policy and today's
 * record, no I/O. */
static gboolean
on_exec_allowed (uid_t uid, const guint *apps, guint n_apps, gboolean app_process,
                 const char **reason, gpointer data)
{
  PdEngine *engine = data;
  PdRuntime *rt = pd_engine_runtime (engine, uid);

  if (rt == NULL)
    return TRUE;
  for (guint i = 0; i < n_apps; i++)
    if (pd_child_blocks_app (rt->policy, apps[i]))
      return (*reason = "a blocked app"), FALSE;
  for (guint i = 0; i < n_apps; i++)
    if (pd_child_always_allows_app (rt->policy, apps[i]))
      return TRUE;
  for (guint i = 0; i < n_apps; i++)
    {
      int weekday;
      gint64 used = app_used_today (engine, rt, apps[i], &weekday);

      if (pd_evaluate_app (rt->policy, apps[i], used, weekday, NULL) == PD_APP_EXHAUSTED)
        return (*reason = "its app limit for today is used up"), FALSE;
    }
  if (app_process && rt->acting && rt->policy->on_limit == PD_ON_LIMIT_CLOSE_APPS)
    return (*reason = "no time left today (close-apps)"), FALSE;
  return TRUE;
}

void
pd_engine_start_apps (PdEngine *engine)
{
  PdAppsEvents events = {
    .before_change = on_before_change,
    .after_change = on_after_change,
    .exec_allowed = on_exec_allowed,
    .purchase = pd_engine_on_purchase,
    .user_data = engine,
  };
  g_autoptr (GError) error = NULL;

  engine->apps = pd_apps_new (&events, &error);
  if (engine->apps == NULL)
    g_warning ("%s", error->message);
  else
    pd_apps_set_config (engine->apps, engine->config);
  pd_engine_purchases_resume (engine);
}

const char *const *
pd_engine_running_apps (PdEngine *engine, const PdRuntime *rt)
{
  return engine->apps != NULL ? pd_apps_running (engine->apps, rt->uid) : NULL;
}

gboolean
pd_engine_close_apps (PdEngine *engine, PdRuntime *rt)
{
  if (engine->apps == NULL)
    return FALSE;
  pd_apps_close (engine->apps, rt->uid, -1, rt->policy);
  return TRUE;
}

static guint
bits_of (GHashTable *table, guint app)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (table, GUINT_TO_POINTER (app + 1)));
}

static void
consider (gint64 *next, gint64 candidate)
{
  if (candidate > 0 && (*next == 0 || candidate < *next))
    *next = candidate;
}

/* One app with a limit that is running now: warn at the thresholds, close
 * it when the limit and grace are used up. */
static void
check_app (PdEngine *engine, PdRuntime *rt, guint app, gint64 used, gint64 limit, gint64 *next)
{
  const PdDaemonSettings *settings = &engine->config->daemon;
  const char *name = app_name (engine, app);
  g_autofree char *what = g_strdup_printf ("app:%s", name);
  gint64 left = limit - used;
  guint given = bits_of (rt->app_warned, app), due = 0;

  for (guint i = 0; i < settings->n_warnings; i++)
    {
      if (left > settings->warnings[i])
        given &= ~(1u << i);
      else if (!(given & (1u << i)))
        given |= 1u << i, due = 1;
      if (rt->counting)
        consider (next, left - settings->warnings[i]);
    }
  g_hash_table_insert (rt->app_warned, GUINT_TO_POINTER (app + 1), GUINT_TO_POINTER (given));
  if (due && left > 0 && rt->counting)
    pd_engine_emit (engine, rt->uid, "Warning", g_variant_new ("(st)", what, (guint64) left));

  if (left + settings->grace > 0)
    {
      if (rt->counting)
        consider (next, left + settings->grace);
      return;
    }
  if (g_hash_table_contains (rt->app_closed, GUINT_TO_POINTER (app + 1)))
    return;
  g_hash_table_add (rt->app_closed, GUINT_TO_POINTER (app + 1));
  pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_LIMIT_REACHED, "PARENTD_CHILD", rt->policy->name,
            "PARENTD_LIMIT", what, "PARENTD_ACTION", "close",
            "MESSAGE", "%s reached the limit for %s; closing it", rt->policy->name, name);
  pd_engine_emit (engine, rt->uid, "LimitReached", g_variant_new ("(ss)", what, "close"));
  pd_apps_close (engine->apps, rt->uid, (int) app, rt->policy);
}

void
pd_engine_check_apps (PdEngine *engine, PdRuntime *rt, gint64 now, gint64 *next)
{
  PdDay today;
  PdDayRecord *day;

  if (engine->apps == NULL)
    return;
  if (rt->app_warned == NULL)
    {
      rt->app_warned = g_hash_table_new (NULL, NULL);
      rt->app_closed = g_hash_table_new (NULL, NULL);
    }
  pd_day_at (&engine->config->daemon, engine->tz, now, &today);
  if (strcmp (rt->apps_day, today.date) != 0)
    {
      g_strlcpy (rt->apps_day, today.date, sizeof rt->apps_day);
      g_hash_table_remove_all (rt->app_warned);
      g_hash_table_remove_all (rt->app_closed);
    }
  day = pd_child_record_day (pd_engine_record (engine, rt), today.date);

  for (guint i = 0; i < rt->policy->app_limits->len; i++)
    {
      const PdAppLimit *limit = &g_array_index (rt->policy->app_limits, PdAppLimit, i);
      gint64 seconds = limit->limit[today.weekday];

      if (seconds == PD_UNLIMITED || pd_child_always_allows_app (rt->policy, limit->app) ||
          !pd_apps_is_running (engine->apps, rt->uid, limit->app))
        continue;
      check_app (engine, rt, limit->app, pd_day_record_app (day, app_name (engine, limit->app)),
                 seconds, next);
    }
}
