/* The configuration model: construction, defaults and look-ups. */
#include "config.h"

#include <string.h>

#include "policy/model.h"

static const char *const match_kind_names[PD_N_MATCH_KINDS] = {
  [PD_MATCH_EXE] = "exe",
  [PD_MATCH_COMM] = "comm",
  [PD_MATCH_CMDLINE] = "cmdline",
  [PD_MATCH_URL] = "url",
  [PD_MATCH_DESKTOP] = "desktop",
  [PD_MATCH_FLATPAK] = "flatpak",
};

void
pd_daemon_settings_init (PdDaemonSettings *settings)
{
  g_return_if_fail (settings != NULL);

  *settings = (PdDaemonSettings) {
    .day_starts_at = 4 * 60,
    .warnings = { 15 * 60, 5 * 60, 60 },
    .n_warnings = 3,
    .grace = 60,
    .history_days = 90,
    .purchase_hold = 10 * 60,
  };
}

static void
pattern_free (gpointer data)
{
  PdPattern *pattern = data;

  g_free (pattern->glob);
  g_free (pattern);
}

static void
rule_free (gpointer data)
{
  PdRule *rule = data;

  g_free (rule->name);
  g_ptr_array_unref (rule->patterns);
  g_free (rule);
}

static void
source_free (gpointer data)
{
  PdSource *source = data;

  g_free (source->name);
  g_free (source->text);
  g_free (source);
}

static void
child_free (gpointer data)
{
  PdChild *child = data;

  g_free (child->name);
  g_array_unref (child->app_limits);
  g_array_unref (child->blocked_apps);
  g_array_unref (child->always_allowed);
  g_free (child);
}

PdConfig *
pd_config_new (void)
{
  PdConfig *config = g_new0 (PdConfig, 1);

  pd_daemon_settings_init (&config->daemon);
  config->children = g_ptr_array_new_with_free_func (child_free);
  config->apps = g_ptr_array_new_with_free_func (rule_free);
  config->purchases = g_ptr_array_new_with_free_func (rule_free);
  config->sources = g_ptr_array_new_with_free_func (source_free);
  return config;
}

void
pd_config_free (PdConfig *config)
{
  if (config == NULL)
    return;
  g_ptr_array_unref (config->children);
  g_ptr_array_unref (config->apps);
  g_ptr_array_unref (config->purchases);
  g_ptr_array_unref (config->sources);
  g_free (config);
}

/* The constructors below are for the loader; children and rules start with
 * the language's defaults. */
PdChild *
pd_child_new (const char *name)
{
  PdChild *child = g_new0 (PdChild, 1);

  child->name = g_strdup (name);
  for (int d = 0; d < PD_DAYS; d++)
    {
      child->daily_limit[d] = PD_UNLIMITED;
      child->allowed_hours[d].n_ranges = 1;
      child->allowed_hours[d].ranges[0] = (PdRange) { 0, PD_MINUTES_PER_DAY };
    }
  child->app_limits = g_array_new (FALSE, FALSE, sizeof (PdAppLimit));
  child->blocked_apps = g_array_new (FALSE, FALSE, sizeof (guint));
  child->always_allowed = g_array_new (FALSE, FALSE, sizeof (guint));
  child->on_limit = PD_ON_LIMIT_LOCK;
  child->purchases = PD_PURCHASES_ASK;
  child->count_text_sessions = TRUE;
  return child;
}

PdRule *
pd_rule_new (const char *name)
{
  PdRule *rule = g_new0 (PdRule, 1);

  rule->name = g_strdup (name);
  rule->patterns = g_ptr_array_new_with_free_func (pattern_free);
  return rule;
}

void
pd_rule_add_pattern (PdRule *rule, PdMatchKind kind, const char *glob, const char *file,
                     guint line)
{
  PdPattern *pattern = g_new0 (PdPattern, 1);

  pattern->kind = kind;
  pattern->glob = g_strdup (glob);
  pattern->file = g_intern_string (file);
  pattern->line = line;
  g_ptr_array_add (rule->patterns, pattern);
}

const PdChild *
pd_config_find_child (const PdConfig *config, const char *name)
{
  for (guint i = 0; i < config->children->len; i++)
    {
      const PdChild *child = g_ptr_array_index (config->children, i);
      if (strcmp (child->name, name) == 0)
        return child;
    }
  return NULL;
}

const PdChild *
pd_config_find_child_by_uid (const PdConfig *config, uid_t uid)
{
  for (guint i = 0; i < config->children->len; i++)
    {
      const PdChild *child = g_ptr_array_index (config->children, i);
      if (child->uid == uid)
        return child;
    }
  return NULL;
}

static int
find_rule (GPtrArray *rules, const char *name)
{
  for (guint i = 0; i < rules->len; i++)
    {
      const PdRule *rule = g_ptr_array_index (rules, i);
      if (strcmp (rule->name, name) == 0)
        return (int) i;
    }
  return -1;
}

int
pd_config_find_app (const PdConfig *config, const char *name)
{
  return find_rule (config->apps, name);
}

int
pd_config_find_purchase (const PdConfig *config, const char *name)
{
  return find_rule (config->purchases, name);
}

guint
pd_config_count_patterns (const PdConfig *config)
{
  guint n = 0;

  for (guint i = 0; i < config->apps->len; i++)
    n += ((PdRule *) g_ptr_array_index (config->apps, i))->patterns->len;
  for (guint i = 0; i < config->purchases->len; i++)
    n += ((PdRule *) g_ptr_array_index (config->purchases, i))->patterns->len;
  return n;
}

static gboolean
app_list_contains (const GArray *apps, guint app)
{
  for (guint i = 0; i < apps->len; i++)
    if (g_array_index (apps, guint, i) == app)
      return TRUE;
  return FALSE;
}

gboolean
pd_child_blocks_app (const PdChild *child, guint app)
{
  return app_list_contains (child->blocked_apps, app);
}

gboolean
pd_child_always_allows_app (const PdChild *child, guint app)
{
  return app_list_contains (child->always_allowed, app);
}

gint64
pd_child_app_limit (const PdChild *child, guint app, int weekday)
{
  g_return_val_if_fail (weekday >= 0 && weekday < PD_DAYS, PD_UNLIMITED);

  for (guint i = 0; i < child->app_limits->len; i++)
    {
      const PdAppLimit *limit = &g_array_index (child->app_limits, PdAppLimit, i);
      if (limit->app == app)
        return limit->limit[weekday];
    }
  return PD_UNLIMITED;
}

const char *
pd_match_kind_to_string (PdMatchKind kind)
{
  g_return_val_if_fail (kind < PD_N_MATCH_KINDS, NULL);
  return match_kind_names[kind];
}

gboolean
pd_match_kind_from_string (const char *text, gsize len, PdMatchKind *out)
{
  for (int k = 0; k < PD_N_MATCH_KINDS; k++)
    if (strlen (match_kind_names[k]) == len && strncmp (text, match_kind_names[k], len) == 0)
      {
        *out = (PdMatchKind) k;
        return TRUE;
      }
  return FALSE;
}

const char *
pd_on_limit_to_string (PdOnLimit on_limit)
{
  switch (on_limit)
    {
    case PD_ON_LIMIT_LOCK: return "lock";
    case PD_ON_LIMIT_LOGOUT: return "logout";
    case PD_ON_LIMIT_CLOSE_APPS: return "close-apps";
    default: g_return_val_if_reached (NULL);
    }
}

const char *
pd_purchase_mode_to_string (PdPurchaseMode mode)
{
  switch (mode)
    {
    case PD_PURCHASES_ALLOW: return "allow";
    case PD_PURCHASES_LOG: return "log";
    case PD_PURCHASES_ASK: return "ask";
    case PD_PURCHASES_BLOCK: return "block";
    default: g_return_val_if_reached (NULL);
    }
}
