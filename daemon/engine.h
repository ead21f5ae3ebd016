/* engine.c is the core of the daemon: for each child it keeps the runtime
 * state (counting or not, warnings given, actions taken), asks the policy
 * what is allowed, schedules the next check, and calls the effects. bus.c
 * reads it and sends it commands after authorization. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include "daemon/state.h"
#include "policy/model.h"

G_BEGIN_DECLS

typedef struct _PdEngine PdEngine;

/* What the engine tells the outside; set by main.c to reach bus.c. */
typedef struct {
  /* Something about the child may have changed: bus.c re-reads the status
   * and invalidates the properties that differ. */
  void (*child_changed) (uid_t uid, gpointer user_data);
  /* A signal of org.parentd1.Child for the child's readers. */
  void (*child_signal) (uid_t uid, const char *name, GVariant *parameters, gpointer user_data);
  void (*requests_changed) (gpointer user_data);
  /* The set of children or ConfigErrors changed (a reload). */
  void (*config_changed) (gpointer user_data);
  /* The periodic checkpoint ran (main.c pings the watchdog then, so that
   * the two share a wakeup). */
  void (*checkpoint) (gpointer user_data);
  gpointer user_data;
} PdEngineEvents;

typedef struct {
  const char *config_file;      /* main configuration file */
  const char *config_dir;       /* holds parentd.conf.d/ and rules.d/ */
  const char *rules_dir;        /* shipped rule sets */
  const char *state_dir;
  GDBusConnection *bus;         /* where logind is */
} PdEngineOptions;

/* Loads the configuration (or, if it is broken, the last one that loaded,
 * saying so loudly) and the state, and starts following sessions. Fails
 * when there is no usable configuration or the state directory cannot be
 * made. */
PdEngine *pd_engine_new (const PdEngineOptions *options, GError **error);
void pd_engine_free (PdEngine *engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdEngine, pd_engine_free)

void pd_engine_set_events (PdEngine *engine, const PdEngineEvents *events);
/* Credits counted time and writes the state now (SIGTERM, suspend). */
void pd_engine_save (PdEngine *engine);
/* One line for sd_notify's STATUS=, e.g. "2 children, 1 counting". */
char *pd_engine_status_line (PdEngine *engine);

/* A snapshot of one child, for the bus and parentctl. */
typedef struct {
  uid_t uid;
  const char *name;          /* (unowned) valid until the next reload */
  const char *state;         /* the contract's State string */
  gboolean counting;
  guint64 used_today;
  gint64 bonus_today;
  gint64 limit_today;        /* -1: unlimited */
  gint64 remaining_today;    /* -1: unlimited */
  guint64 next_change;       /* unix seconds; 0: none */
  guint64 allowed_until;     /* unix seconds; 0: outside allowed hours or no end */
} PdChildStatus;

/* The children in configuration order. (transfer container) */
GArray *pd_engine_list_uids (PdEngine *engine);
gboolean pd_engine_child_status (PdEngine *engine, uid_t uid, PdChildStatus *out);
gboolean pd_engine_is_child (PdEngine *engine, uid_t uid);

/* The D-Bus shapes of the contract, ready to return. */
GVariant *pd_engine_get_apps (PdEngine *engine, uid_t uid);                 /* a(stxs) */
GVariant *pd_engine_get_usage (PdEngine *engine, uid_t uid, guint days);    /* a(sta{st}) */
GVariant *pd_engine_get_daily_limits (PdEngine *engine, uid_t uid, guint days);  /* a(sx) */
GVariant *pd_engine_get_purchases (PdEngine *engine, uid_t uid, guint days);/* a(tssss) */
/* Requests of one child, or of all when all is TRUE. */
GVariant *pd_engine_list_requests (PdEngine *engine, gboolean all, uid_t uid); /* a(tustsa{sv}) */
/* The uid a request belongs to; FALSE with PD_ERROR_NO_SUCH_REQUEST. */
gboolean pd_engine_request_owner (PdEngine *engine, guint64 id, uid_t *out_uid, GError **error);

/* Commands; the caller has checked authorization. Errors are PD_ERROR. */
gboolean pd_engine_grant (PdEngine *engine, uid_t uid, gint64 seconds, GError **error);
gboolean pd_engine_lock_out (PdEngine *engine, uid_t uid, guint seconds, GError **error);
gboolean pd_engine_request_time (PdEngine *engine, uid_t uid, guint seconds, const char *reason,
                                 guint64 *out_id, GError **error);
gboolean pd_engine_approve (PdEngine *engine, guint64 id, guint seconds, GError **error);
gboolean pd_engine_deny (PdEngine *engine, guint64 id, GError **error);
/* Re-reads the configuration; a broken one changes nothing and fails with
 * PD_ERROR_INVALID_CONFIG, the message holding every FILE:LINE line. */
gboolean pd_engine_reload (PdEngine *engine, GError **error);
/* Errors of the configuration as last read ("" items never). (transfer none) */
const char *const *pd_engine_config_errors (PdEngine *engine);

G_END_DECLS
