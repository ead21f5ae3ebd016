/* The configuration model: daemon settings, children, apps and purchase
 * rules, exactly as the configuration language defines them. Built by the
 * loader, read by everything else, never changed after loading. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "policy/units.h"

G_BEGIN_DECLS

typedef enum {
  PD_ON_LIMIT_LOCK,
  PD_ON_LIMIT_LOGOUT,
  PD_ON_LIMIT_CLOSE_APPS,
} PdOnLimit;

typedef enum {
  PD_PURCHASES_ALLOW,
  PD_PURCHASES_LOG,
  PD_PURCHASES_ASK,
  PD_PURCHASES_BLOCK,
} PdPurchaseMode;

typedef enum {
  PD_MATCH_EXE,
  PD_MATCH_COMM,
  PD_MATCH_CMDLINE,
  PD_MATCH_URL,
  PD_MATCH_DESKTOP,
  PD_MATCH_FLATPAK,
  PD_N_MATCH_KINDS,
} PdMatchKind;

#define PD_MAX_WARNINGS 8

typedef enum {
  PD_SOURCE_CONFIG,   /* may hold every section */
  PD_SOURCE_RULES,    /* a rule set: only [app] and [purchase] */
} PdSourceKind;

/* A file the configuration was read from, kept whole so that the daemon can
 * save the last configuration that loaded and read it again later. */
typedef struct {
  char *name;          /* (owned) path */
  PdSourceKind kind;
  char *text;          /* (owned) */
  gsize len;
} PdSource;

typedef struct {
  PdMatchKind kind;
  char *glob;          /* (owned) fnmatch(3) pattern */
  const char *file;    /* (unowned) interned path, for messages */
  guint line;
} PdPattern;

/* An [app] or a [purchase] section. */
typedef struct {
  char *name;          /* (owned) */
  GPtrArray *patterns; /* (owned) (element-type PdPattern) */
  const char *file;    /* (unowned) interned; where the section first appeared */
  guint line;
} PdRule;

typedef struct {
  guint app;                /* index into PdConfig.apps */
  gint64 limit[PD_DAYS];    /* seconds, or PD_UNLIMITED; index 0 = Monday */
} PdAppLimit;

typedef struct {
  char *name;                       /* (owned) login name */
  uid_t uid;
  gboolean uid_pinned;              /* uid came from "uid =", not the user database */
  gint64 daily_limit[PD_DAYS];      /* seconds, or PD_UNLIMITED */
  PdHours allowed_hours[PD_DAYS];
  GArray *app_limits;               /* (owned) (element-type PdAppLimit) */
  GArray *blocked_apps;             /* (owned) (element-type guint) app indices */
  GArray *always_allowed;           /* (owned) (element-type guint) app indices */
  PdOnLimit on_limit;
  PdPurchaseMode purchases;
  gboolean count_text_sessions;
  const char *file;                 /* (unowned) interned */
  guint line;
} PdChild;

typedef struct {
  int day_starts_at;                    /* minutes after local midnight */
  gint64 warnings[PD_MAX_WARNINGS];     /* seconds left, longest first */
  guint n_warnings;
  gint64 grace;                         /* seconds */
  guint history_days;
  gint64 purchase_hold;                 /* seconds */
} PdDaemonSettings;

typedef struct {
  PdDaemonSettings daemon;
  GPtrArray *children;   /* (owned) (element-type PdChild) */
  GPtrArray *apps;       /* (owned) (element-type PdRule) */
  GPtrArray *purchases;  /* (owned) (element-type PdRule) */
  GPtrArray *sources;    /* (owned) (element-type PdSource) every file read, in order */
} PdConfig;

/* A configuration with the defaults: no children, no rules. */
PdConfig *pd_config_new (void);
void pd_config_free (PdConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdConfig, pd_config_free)

void pd_daemon_settings_init (PdDaemonSettings *settings);

/* Constructors for the loader and for tests. A new child has the language's
 * defaults (unlimited, always allowed, lock, ask, text sessions count). The
 * caller adds the result to a PdConfig, which then owns it. */
PdChild *pd_child_new (const char *name);
PdRule *pd_rule_new (const char *name);
void pd_rule_add_pattern (PdRule *rule, PdMatchKind kind, const char *glob, const char *file,
                          guint line);

const PdChild *pd_config_find_child (const PdConfig *config, const char *name);
const PdChild *pd_config_find_child_by_uid (const PdConfig *config, uid_t uid);
/* Index of the [app] called name, or -1. */
int pd_config_find_app (const PdConfig *config, const char *name);
int pd_config_find_purchase (const PdConfig *config, const char *name);
/* Number of match patterns in all apps and purchase rules. */
guint pd_config_count_patterns (const PdConfig *config);

gboolean pd_child_blocks_app (const PdChild *child, guint app);
gboolean pd_child_always_allows_app (const PdChild *child, guint app);
/* The child's limit for one app on one weekday, or PD_UNLIMITED. */
gint64 pd_child_app_limit (const PdChild *child, guint app, int weekday);

const char *pd_match_kind_to_string (PdMatchKind kind);
gboolean pd_match_kind_from_string (const char *text, gsize len, PdMatchKind *out);
const char *pd_on_limit_to_string (PdOnLimit on_limit);
const char *pd_purchase_mode_to_string (PdPurchaseMode mode);

G_END_DECLS
