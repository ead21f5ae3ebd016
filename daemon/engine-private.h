/* Shared by the two halves of the engine: engine.c (the checks, timers and
 * enforcement) and engine-api.c (queries and commands). Not for others. */
#pragma once

#include "daemon/apps.h"
#include "daemon/clock.h"
#include "daemon/engine.h"
#include "daemon/sessions.h"
#include "daemon/store.h"
#include "policy/eval.h"

G_BEGIN_DECLS

typedef struct {
  PdEngine *engine;           /* (unowned) */
  uid_t uid;
  const PdChild *policy;      /* (unowned) in engine->config */
  gboolean counting;
  PdTick since;               /* when counted time was last credited */
  gint64 since_wall;
  gint64 carry_us;
  char warned_day[11];        /* the day the warning bits belong to */
  guint warned_daily;         /* bit i: warnings[i] given for the daily limit */
  guint warned_hours;         /* bit i: warnings[i] given for the end of allowed hours */
  gboolean in_hours;          /* at the last check */
  gint64 hours_ended;         /* wall time allowed hours ended while we watched; 0 = not */
  gboolean acting;            /* the on_limit action is in force */
  gboolean limit_told;        /* LimitReached was sent for the limit in force */
  char apps_day[11];          /* the day the app bits below belong to */
  GHashTable *app_warned;     /* (owned) app index + 1 -> warning bits given today */
  GHashTable *app_closed;     /* (owned) app index + 1: closed at its limit today */
  guint timer;                /* the next check */
} PdRuntime;

struct _PdEngine {
  PdEngineEvents events;
  char *config_file;          /* (owned) */
  char *dropin_dir;           /* (owned) */
  char *rules_dir;            /* (owned) */
  char *admin_rules_dir;      /* (owned) */
  PdConfig *config;           /* (owned) the configuration in force */
  GStrv config_errors;        /* (owned) problems of the configuration on disk */
  PdStore *store;             /* (owned) */
  PdState *state;             /* (owned) */
  char *state_problem;        /* (owned) (nullable) what was lost at start */
  GDBusConnection *bus;       /* (owned) */
  PdSessions *sessions;       /* (owned) */
  PdApps *apps;               /* (owned) (nullable) without process monitoring */
  GHashTable *children;       /* (owned) uid -> PdRuntime (owned) */
  GTimeZone *tz;              /* (owned) */
  guint checkpoint;           /* periodic save while anything counts */
  guint request_timer;        /* the next request expiry */
  guint clock_watch;
  gboolean save_failing;
  gboolean config_saved;      /* the configuration in force is in the store */
  guint hold_guard;           /* checks held purchases stay frozen */
  GHashTable *hold_strikes;   /* (owned) (nullable) ids of holds found running once */
  guint save_soon;            /* a save gathered from many small changes */
  gint64 told_second;         /* PurchaseAttempt signals sent in this second */
  guint told;
  char today[11];             /* the policy day history was last pruned for */
};

PdRuntime *pd_engine_runtime (PdEngine *engine, uid_t uid);
PdChildRecord *pd_engine_record (PdEngine *engine, const PdRuntime *rt);
/* Credits time, evaluates, warns, enforces and schedules the next check. */
void pd_engine_check (PdEngine *engine, PdRuntime *rt);
void pd_engine_check_all (PdEngine *engine);
/* The verdict now, including counted time not yet credited. Changes nothing. */
void pd_engine_evaluate (PdEngine *engine, PdRuntime *rt, gint64 now, PdVerdict *out,
                         gint64 *out_used, gint64 *out_bonus);
gboolean pd_engine_save_now (PdEngine *engine);
/* Saves within half a second: for changes that come in floods (purchase
 * attempts), so that the exec path never waits for an fsync. */
void pd_engine_save_soon (PdEngine *engine);
void pd_engine_schedule_requests (PdEngine *engine);
/* engine-apps.c: per-app time, app limits, and the exec verdict. */
void pd_engine_start_apps (PdEngine *engine);
/* The apps the child runs now, for crediting; NULL without monitoring. */
const char *const *pd_engine_running_apps (PdEngine *engine, const PdRuntime *rt);
/* Warns about and closes apps at their limits; *next gets the seconds to
 * the next app threshold, if sooner. */
void pd_engine_check_apps (PdEngine *engine, PdRuntime *rt, gint64 now, gint64 *next);
/* close-apps: ends the child's app processes; FALSE without monitoring. */
gboolean pd_engine_close_apps (PdEngine *engine, PdRuntime *rt);
/* purchases.c: holds, the purchase log. */
PdPurchaseVerdict pd_engine_on_purchase (uid_t uid, pid_t pid, const guint *rules, guint n_rules,
                                const guint *apps, guint n_apps, const char *target,
                                gpointer user_data);
/* A purchase request was answered or expired: resume or kill its processes. */
void pd_engine_purchase_decided (PdEngine *engine, PdRequest *request);
/* At start: expire holds whose processes are gone. */
void pd_engine_purchases_resume (PdEngine *engine);
/* Watches that held processes stay frozen while any hold is pending. */
void pd_engine_guard_holds (PdEngine *engine);

/* Credits counted time and restarts the count (engine.c). */
void pd_engine_credit (PdEngine *engine, PdRuntime *rt, gint64 now);

void pd_engine_emit (PdEngine *engine, uid_t uid, const char *signal, GVariant *parameters);
void pd_engine_requests_changed (PdEngine *engine);

G_END_DECLS
