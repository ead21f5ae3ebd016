/* What each key of the configuration language means: values are checked and
 * stored here, and names that point across sections (apps named by a child,
 * users) are resolved once every source has been read. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <string.h>

#include "policy/error.h"
#include "policy/loader-private.h"
#include "policy/suggest.h"

#define UNSET_SPEC 8   /* more than any set of weekdays */

typedef struct {
  char *name;         /* (owned) */
  const char *file;   /* interned */
  guint line;
} AppRef;

typedef struct {
  AppRef ref;
  gint64 limit[PD_DAYS];
  guint8 spec[PD_DAYS];
} AppLimitBuild;

static const char *const daemon_keys[] = {
  "day_starts_at", "warnings", "grace", "history_days", "purchase_hold", NULL
};
static const char *const child_keys[] = {
  "uid", "daily_limit", "allowed_hours", "app_limit", "blocked_apps", "always_allowed",
  "on_limit", "purchases", "count_text_sessions", NULL
};
static const char *const rule_keys[] = { "match", NULL };
static const char *const on_limit_values[] = { "lock", "logout", "close-apps", NULL };
static const char *const purchase_values[] = { "allow", "log", "ask", "block", NULL };

/* The kernel keeps at most 15 characters of a process name. */
#define COMM_MAX 15

static void
app_ref_free (gpointer data)
{
  AppRef *ref = data;

  g_free (ref->name);
  g_free (ref);
}

static void
app_limit_build_free (gpointer data)
{
  AppLimitBuild *build = data;

  g_free (build->ref.name);
  g_free (build);
}

void
pd_child_build_free (gpointer data)
{
  PdChildBuild *build = data;

  g_ptr_array_unref (build->app_limits_list);
  g_ptr_array_unref (build->blocked);
  g_ptr_array_unref (build->always);
  g_free (build);
}

gboolean
pd_key_is_comma_list (const char *key)
{
  return strcmp (key, "match") == 0 || strcmp (key, "blocked_apps") == 0 ||
         strcmp (key, "always_allowed") == 0 || g_str_has_prefix (key, "allowed_hours");
}

/* --- sections ------------------------------------------------------------ */

static PdChildBuild *
find_or_add_child (PdLoader *loader, PdSection *source, const char *name)
{
  PdChildBuild *build;
  PdChild *child;

  for (guint i = 0; i < loader->children->len; i++)
    {
      build = g_ptr_array_index (loader->children, i);
      if (strcmp (build->child->name, name) == 0)
        return build;
    }

  child = pd_child_new (name);
  child->file = source->file;
  child->line = source->section_line;
  g_ptr_array_add (loader->config->children, child);

  build = g_new0 (PdChildBuild, 1);
  build->child = child;
  memset (build->limit_spec, UNSET_SPEC, sizeof build->limit_spec);
  memset (build->hours_spec, UNSET_SPEC, sizeof build->hours_spec);
  build->app_limits_list = g_ptr_array_new_with_free_func (app_limit_build_free);
  build->blocked = g_ptr_array_new_with_free_func (app_ref_free);
  build->always = g_ptr_array_new_with_free_func (app_ref_free);
  g_ptr_array_add (loader->children, build);
  return build;
}

static PdRule *
find_or_add_rule (GPtrArray *rules, PdSection *source, const char *name)
{
  PdRule *rule;

  for (guint i = 0; i < rules->len; i++)
    {
      rule = g_ptr_array_index (rules, i);
      if (strcmp (rule->name, name) == 0)
        return rule;
    }
  rule = pd_rule_new (name);
  rule->file = source->file;
  rule->line = source->section_line;
  g_ptr_array_add (rules, rule);
  return rule;
}

void
pd_begin_section (PdLoader *loader, PdSection *source, const char *name)
{
  g_autofree char *id = NULL;

  switch (source->section)
    {
    case PD_SECTION_DAEMON:
      id = g_strdup ("daemon");
      break;
    case PD_SECTION_CHILD:
      id = g_strdup_printf ("child %s", name);
      source->child = find_or_add_child (loader, source, name);
      break;
    case PD_SECTION_APP:
    case PD_SECTION_PURCHASE:
      /* Dots would make "app_limit.NAME.DAYS" ambiguous. */
      if (strchr (name, '.') != NULL)
        {
          pd_loader_error (loader, source->file, source->section_line,
                           _("the name '%s' may not contain '.'; use '-' or '_' instead"), name);
          source->section = PD_SECTION_INVALID;
          return;
        }
      id = g_strdup_printf ("%s %s", source->section == PD_SECTION_APP ? "app" : "purchase", name);
      source->rule = find_or_add_rule (source->section == PD_SECTION_APP ? loader->config->apps
                                                                         : loader->config->purchases,
                                       source, name);
      break;
    case PD_SECTION_NONE:
    case PD_SECTION_INVALID:
    default:
      g_return_if_reached ();
    }
  source->section_id = g_intern_string (id);
}

/* --- values ----------------------------------------------------------------- */

static void
report (PdLoader *loader, PdSection *source, const PdEntry *entry, const GError *error)
{
  pd_loader_error (loader, source->file, entry->line, "%s: %s", entry->key, error->message);
}

static gboolean
parse_choice (const char *value, const char *const *choices, guint *out, GError **error)
{
  const char *suggestion;
  g_autofree char *list = NULL;

  for (guint i = 0; choices[i] != NULL; i++)
    if (strcmp (value, choices[i]) == 0)
      return (*out = i), TRUE;

  suggestion = pd_suggest (value, choices);
  list = g_strjoinv (", ", (char **) choices);
  if (suggestion != NULL)
    g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                 _("unknown value '%s'; did you mean '%s'? (one of %s)"), value, suggestion, list);
  else
    g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                 _("unknown value '%s'; use one of %s"), value, list);
  return FALSE;
}

static gboolean
parse_uint (const char *value, guint64 min, guint64 max, guint64 *out, GError **error)
{
  guint64 n;

  if (!g_ascii_string_to_unsigned (value, 10, min, max, &n, NULL))
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                   _("'%s' is not a whole number from %" PRIu64 " to %" PRIu64),
                   value, min, max);
      return FALSE;
    }
  *out = n;
  return TRUE;
}

static gboolean
apply_daemon_key (PdDaemonSettings *d, const char *key, const char *value, GError **error)
{
  guint64 n;
  int minutes;

  if (strcmp (key, "day_starts_at") == 0)
    return pd_parse_clock (value, FALSE, &minutes, error) && ((d->day_starts_at = minutes), TRUE);
  if (strcmp (key, "warnings") == 0)
    {
      if (strcmp (value, "none") == 0)
        return (d->n_warnings = 0), TRUE;
      if (!pd_parse_duration_list (value, d->warnings, PD_MAX_WARNINGS, &d->n_warnings, error))
        return FALSE;
      if (d->n_warnings > 0 && d->warnings[d->n_warnings - 1] == 0)
        {
          g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                       _("a warning must come before time runs out, so 0 is not allowed"));
          return FALSE;
        }
      return TRUE;
    }
  if (strcmp (key, "grace") == 0)
    return pd_parse_duration (value, &d->grace, error);
  if (strcmp (key, "history_days") == 0)
    return parse_uint (value, 1, 3650, &n, error) && ((d->history_days = (guint) n), TRUE);
  if (strcmp (key, "purchase_hold") == 0)
    {
      if (!pd_parse_duration (value, &d->purchase_hold, error))
        return FALSE;
      if (d->purchase_hold == 0)
        {
          g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                       _("a hold of 0 denies every purchase at once; use 'purchases = block' for that"));
          return FALSE;
        }
      return TRUE;
    }
  g_return_val_if_reached (FALSE);
}

/* "daily_limit.weekend" -> days of the suffix; no suffix is every day. */
static gboolean
day_suffix (const char *suffix, guint8 *mask, GError **error)
{
  if (suffix == NULL)
    return (*mask = 0x7f), TRUE;
  return pd_parse_days (suffix, mask, error);
}

static guint8
day_count (guint8 mask)
{
  return (guint8) __builtin_popcount (mask);
}

/* A setting covering fewer days wins; among equals, the later one. */
static void
set_limit_days (gint64 *limits, guint8 *spec, guint8 mask, gint64 value)
{
  guint8 count = day_count (mask);

  for (int d = 0; d < PD_DAYS; d++)
    if ((mask & (1u << d)) && count <= spec[d])
      limits[d] = value, spec[d] = count;
}

static void
set_hours_days (PdHours *hours, guint8 *spec, guint8 mask, const PdHours *value)
{
  guint8 count = day_count (mask);

  for (int d = 0; d < PD_DAYS; d++)
    if ((mask & (1u << d)) && count <= spec[d])
      hours[d] = *value, spec[d] = count;
}

static AppLimitBuild *
app_limit_build (PdChildBuild *build, const char *app, PdSection *source, guint line)
{
  AppLimitBuild *limit;

  for (guint i = 0; i < build->app_limits_list->len; i++)
    {
      limit = g_ptr_array_index (build->app_limits_list, i);
      if (strcmp (limit->ref.name, app) == 0)
        return limit;
    }
  limit = g_new0 (AppLimitBuild, 1);
  limit->ref.name = g_strdup (app);
  limit->ref.file = source->file;
  limit->ref.line = line;
  for (int d = 0; d < PD_DAYS; d++)
    limit->limit[d] = PD_UNLIMITED, limit->spec[d] = UNSET_SPEC;
  g_ptr_array_add (build->app_limits_list, limit);
  return limit;
}

/* "chat-x, games" or "chat-x games": names only; they are resolved once
 * every rule set has been read. A later setting replaces an earlier one. */
static gboolean
set_app_list (GPtrArray *refs, PdSection *source, const PdEntry *entry, GError **error)
{
  g_auto (GStrv) names = g_strsplit_set (entry->value, ", \t", 0);

  g_ptr_array_set_size (refs, 0);
  for (guint i = 0; names[i] != NULL; i++)
    {
      AppRef *ref;

      if (names[i][0] == '\0')
        continue;
      ref = g_new0 (AppRef, 1);
      ref->name = g_strdup (names[i]);
      ref->file = source->file;
      ref->line = entry->line;
      g_ptr_array_add (refs, ref);
    }
  return TRUE;
}

static gboolean
apply_child_key (PdChildBuild *build, PdSection *source, const PdEntry *entry, const char *base,
                 const char *suffix, GError **error)
{
  PdChild *child = build->child;
  guint8 mask;
  guint choice;
  guint64 n;

  if (strcmp (base, "daily_limit") == 0)
    {
      gint64 limit;
      if (!day_suffix (suffix, &mask, error) || !pd_parse_limit (entry->value, &limit, error))
        return FALSE;
      set_limit_days (child->daily_limit, build->limit_spec, mask, limit);
      return TRUE;
    }
  if (strcmp (base, "allowed_hours") == 0)
    {
      PdHours hours;
      if (!day_suffix (suffix, &mask, error) || !pd_parse_hours (entry->value, &hours, error))
        return FALSE;
      set_hours_days (child->allowed_hours, build->hours_spec, mask, &hours);
      return TRUE;
    }
  if (strcmp (base, "app_limit") == 0)
    {
      g_autofree char *app = NULL;
      const char *days = NULL;
      gint64 limit;
      AppLimitBuild *target;

      if (suffix == NULL || suffix[0] == '\0')
        {
          g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                       _("name the app: app_limit.APP = DURATION, e.g. app_limit.games = 45m"));
          return FALSE;
        }
      days = strchr (suffix, '.');
      app = days != NULL ? g_strndup (suffix, (gsize) (days - suffix)) : g_strdup (suffix);
      if (days != NULL)
        days++;
      if (!day_suffix (days, &mask, error) || !pd_parse_limit (entry->value, &limit, error))
        return FALSE;
      target = app_limit_build (build, app, source, entry->line);
      set_limit_days (target->limit, target->spec, mask, limit);
      return TRUE;
    }

  if (suffix != NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                   _("'%s' has no per-day form; only daily_limit, allowed_hours and app_limit do"), base);
      return FALSE;
    }
  if (strcmp (base, "uid") == 0)
    {
      if (!parse_uint (entry->value, 1, G_MAXUINT32 - 1, &n, error))
        return FALSE;
      child->uid = (uid_t) n;
      child->uid_pinned = TRUE;
      return TRUE;
    }
  if (strcmp (base, "blocked_apps") == 0)
    return set_app_list (build->blocked, source, entry, error);
  if (strcmp (base, "always_allowed") == 0)
    return set_app_list (build->always, source, entry, error);
  if (strcmp (base, "on_limit") == 0)
    return parse_choice (entry->value, on_limit_values, &choice, error) &&
           ((child->on_limit = (PdOnLimit) choice), TRUE);
  if (strcmp (base, "purchases") == 0)
    return parse_choice (entry->value, purchase_values, &choice, error) &&
           ((child->purchases = (PdPurchaseMode) choice), TRUE);
  if (strcmp (base, "count_text_sessions") == 0)
    return pd_parse_bool (entry->value, &child->count_text_sessions, error);
  g_return_val_if_reached (FALSE);
}

static gboolean
add_pattern (PdRule *rule, PdSection *source, const PdEntry *entry, const char *item, GError **error)
{
  const char *colon = strchr (item, ':');
  PdMatchKind kind;
  const char *glob;

  if (colon == NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                   _("'%s' needs a kind: write KIND:PATTERN, e.g. comm:%s or exe:/usr/bin/%s"),
                   item, item, item);
      return FALSE;
    }
  if (!pd_match_kind_from_string (item, (gsize) (colon - item), &kind))
    {
      static const char *const kinds[] = { "exe", "comm", "cmdline", "url", "desktop", "flatpak", NULL };
      g_autofree char *word = g_strndup (item, (gsize) (colon - item));
      const char *suggestion = pd_suggest (word, kinds);

      if (suggestion != NULL)
        g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                     _("unknown match kind '%s'; did you mean '%s'?; kinds are exe, comm, cmdline, "
                       "url, desktop and flatpak"), word, suggestion);
      else
        g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                     _("unknown match kind '%s'; kinds are exe, comm, cmdline, url, desktop and "
                       "flatpak"), word);
      return FALSE;
    }
  glob = colon + 1;
  if (glob[0] == '\0')
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG, _("'%s' has an empty pattern"), item);
      return FALSE;
    }
  if (kind == PD_MATCH_COMM && strpbrk (glob, "*?[") == NULL && strlen (glob) > COMM_MAX)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG,
                   _("'%s' can never match: the kernel keeps only %d characters of a process "
                     "name; write comm:%.*s or match by exe:"), item, COMM_MAX, COMM_MAX, glob);
      return FALSE;
    }
  pd_rule_add_pattern (rule, kind, glob, source->file, entry->line);
  return TRUE;
}

/* Repeated "match =" keys add patterns; an empty one clears those read so
 * far, so that a drop-in can redefine an app. */
static gboolean
apply_match (PdRule *rule, PdSection *source, const PdEntry *entry, GError **error)
{
  g_auto (GStrv) items = g_strsplit (entry->value, ",", 0);
  gboolean any = FALSE;

  if (entry->value[0] == '\0')
    {
      g_ptr_array_set_size (rule->patterns, 0);
      return TRUE;
    }
  for (guint i = 0; items[i] != NULL; i++)
    {
      g_strstrip (items[i]);
      if (items[i][0] == '\0')
        continue;
      if (!add_pattern (rule, source, entry, items[i], error))
        return FALSE;
      any = TRUE;
    }
  if (!any)
    g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG, _("no patterns in '%s'"), entry->value);
  return any;
}

static gboolean
known_key (const char *const *keys, const char *base)
{
  return g_strv_contains (keys, base);
}

/* The section a key belongs to, when it is not the one it stands in. */
static const char *
home_of_key (const char *base)
{
  if (g_strv_contains (daemon_keys, base))
    return "[daemon]";
  if (g_strv_contains (child_keys, base))
    return "[child NAME]";
  if (g_strv_contains (rule_keys, base))
    return "[app NAME] or [purchase NAME]";
  return NULL;
}

static void
unknown_key (PdLoader *loader, PdSection *source, const PdEntry *entry, const char *base,
             const char *const *keys)
{
  const char *suggestion = pd_suggest (base, keys);
  const char *home = home_of_key (base);

  if (!g_strv_contains (keys, base) && home != NULL)
    pd_loader_error (loader, source->file, entry->line,
                     _("'%s' does not belong in [%s]; it goes in %s"), entry->key,
                     source->section_id, home);
  else if (g_strv_contains (keys, base))
    pd_loader_error (loader, source->file, entry->line,
                     _("%s: '%s' has no per-day form; only daily_limit, allowed_hours and "
                       "app_limit do"), entry->key, base);
  else if (suggestion != NULL)
    pd_loader_error (loader, source->file, entry->line,
                     _("unknown key '%s' in [%s]; did you mean '%s'?"), entry->key,
                     source->section_id, suggestion);
  else
    pd_loader_error (loader, source->file, entry->line, _("unknown key '%s' in [%s]"),
                     entry->key, source->section_id);
}

/* Scalar keys may appear once per section per file; "match" may repeat. */
static gboolean
check_duplicate (PdLoader *loader, PdSection *source, const PdEntry *entry)
{
  g_autofree char *id = g_strdup_printf ("%s\n%s", source->section_id, entry->key);
  gpointer first = g_hash_table_lookup (source->seen, id);

  if (first != NULL)
    {
      pd_loader_error (loader, source->file, entry->line,
                       _("'%s' is set twice in [%s] (first at line %u); remove one"),
                       entry->key, source->section_id, GPOINTER_TO_UINT (first));
      return FALSE;
    }
  g_hash_table_insert (source->seen, g_steal_pointer (&id), GUINT_TO_POINTER (entry->line));
  return TRUE;
}

static gboolean
value_required (const PdEntry *entry, GError **error)
{
  if (entry->value[0] != '\0' || strcmp (entry->key, "blocked_apps") == 0 ||
      strcmp (entry->key, "always_allowed") == 0)
    return TRUE;
  g_set_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG, _("missing value"));
  return FALSE;
}

void
pd_apply_entry (PdLoader *loader, PdSection *source, const PdEntry *entry)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_strdup (entry->key);
  char *suffix = strchr (base, '.');
  gboolean ok = TRUE;

  if (suffix != NULL)
    *suffix++ = '\0';

  switch (source->section)
    {
    case PD_SECTION_NONE:
      pd_loader_error (loader, source->file, entry->line,
                       _("'%s' is outside any section; put it under [daemon] or [child NAME]"), entry->key);
      return;
    case PD_SECTION_INVALID:
      return;  /* the header was reported; one message is enough */
    case PD_SECTION_DAEMON:
      if (suffix != NULL || !known_key (daemon_keys, base))
        {
          unknown_key (loader, source, entry, base, daemon_keys);
          return;
        }
      if (check_duplicate (loader, source, entry))
        ok = value_required (entry, &error) &&
             apply_daemon_key (&loader->config->daemon, entry->key, entry->value, &error);
      break;
    case PD_SECTION_CHILD:
      if (!known_key (child_keys, base))
        {
          unknown_key (loader, source, entry, base, child_keys);
          return;
        }
      if (check_duplicate (loader, source, entry))
        ok = value_required (entry, &error) &&
             apply_child_key (source->child, source, entry, base, suffix, &error);
      break;
    case PD_SECTION_APP:
    case PD_SECTION_PURCHASE:
      if (suffix != NULL || !known_key (rule_keys, base))
        {
          unknown_key (loader, source, entry, base, rule_keys);
          return;
        }
      ok = apply_match (source->rule, source, entry, &error);
      if (!ok)
        g_hash_table_add (loader->bad_rules, source->rule);
      break;
    default:
      g_return_if_reached ();
    }
  if (!ok)
    report (loader, source, entry, error);
}

/* --- references, once everything is read --------------------------------- */

static GPtrArray *
rule_names (GPtrArray *rules)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < rules->len; i++)
    g_ptr_array_add (names, ((PdRule *) g_ptr_array_index (rules, i))->name);
  g_ptr_array_add (names, NULL);
  return names;
}

/* The app index for a name, or -1 with the error said at the reference. */
static int
resolve_app (PdLoader *loader, const PdChild *child, const AppRef *ref)
{
  int index = pd_config_find_app (loader->config, ref->name);
  g_autoptr (GPtrArray) names = NULL;
  const char *suggestion;

  if (index >= 0)
    return index;
  if (pd_config_find_purchase (loader->config, ref->name) >= 0)
    {
      pd_loader_error (loader, ref->file, ref->line,
                       _("'%s' is a [purchase] rule, not an [app]; purchases are governed by "
                         "'purchases =' in [child %s]"), ref->name, child->name);
      return -1;
    }
  names = rule_names (loader->config->apps);
  suggestion = pd_suggest (ref->name, (const char *const *) names->pdata);
  if (suggestion != NULL)
    pd_loader_error (loader, ref->file, ref->line,
                     _("unknown app '%s' in [child %s]; did you mean '%s'?"), ref->name, child->name,
                     suggestion);
  else
    pd_loader_error (loader, ref->file, ref->line,
                     _("unknown app '%s' in [child %s]; define it with [app %s] and a 'match =' line"),
                     ref->name, child->name, ref->name);
  return -1;
}

static void
resolve_app_list (PdLoader *loader, const PdChild *child, GPtrArray *refs, GArray *out)
{
  for (guint i = 0; i < refs->len; i++)
    {
      int app = resolve_app (loader, child, g_ptr_array_index (refs, i));
      guint index = (guint) app;

      gboolean present = FALSE;

      for (guint j = 0; app >= 0 && j < out->len; j++)
        present |= g_array_index (out, guint, j) == index;
      if (app >= 0 && !present)
        g_array_append_val (out, index);
    }
}

static void
resolve_child (PdLoader *loader, PdChildBuild *build)
{
  PdChild *child = build->child;

  if (!child->uid_pinned && !loader->lookup_user (child->name, &child->uid, loader->lookup_data))
    pd_loader_error (loader, child->file, child->line,
                     _("unknown user '%s'; create the user first, or pin the uid with "
                       "'uid = NUMBER' if it comes from a directory not reachable at boot"),
                     child->name);
  else if (child->uid == 0)
    pd_loader_error (loader, child->file, child->line,
                     _("'%s' is root (uid 0); a child must be an ordinary user"), child->name);

  resolve_app_list (loader, child, build->blocked, child->blocked_apps);
  resolve_app_list (loader, child, build->always, child->always_allowed);

  for (guint i = 0; i < child->blocked_apps->len; i++)
    {
      guint app = g_array_index (child->blocked_apps, guint, i);
      if (pd_child_always_allows_app (child, app))
        pd_loader_error (loader, child->file, child->line,
                         _("[child %s] lists '%s' in both blocked_apps and always_allowed; keep one"),
                         child->name, ((PdRule *) g_ptr_array_index (loader->config->apps, app))->name);
    }

  for (guint i = 0; i < build->app_limits_list->len; i++)
    {
      const AppLimitBuild *limit = g_ptr_array_index (build->app_limits_list, i);
      int app = resolve_app (loader, child, &limit->ref);
      PdAppLimit entry;

      if (app < 0)
        continue;
      entry.app = (guint) app;
      memcpy (entry.limit, limit->limit, sizeof entry.limit);
      g_array_append_val (child->app_limits, entry);
    }
}

void
pd_resolve_references (PdLoader *loader)
{
  GPtrArray *children = loader->config->children;

  for (guint i = 0; i < loader->children->len; i++)
    resolve_child (loader, g_ptr_array_index (loader->children, i));

  for (guint i = 0; i < children->len; i++)
    for (guint j = 0; j < i; j++)
      {
        const PdChild *a = g_ptr_array_index (children, j);
        const PdChild *b = g_ptr_array_index (children, i);
        if (a->uid == b->uid && a->uid != 0)
          pd_loader_error (loader, b->file, b->line,
                           _("[child %s] has the same uid %u as [child %s]"), b->name,
                           (guint) b->uid, a->name);
      }

  for (guint k = 0; k < 2; k++)
    {
      GPtrArray *rules = k == 0 ? loader->config->apps : loader->config->purchases;
      for (guint i = 0; i < rules->len; i++)
        {
          const PdRule *rule = g_ptr_array_index (rules, i);
          if (rule->patterns->len == 0 && !g_hash_table_contains (loader->bad_rules, rule))
            pd_loader_error (loader, rule->file, rule->line,
                             _("[%s %s] has no patterns; add a line such as 'match = comm:NAME'"),
                             k == 0 ? "app" : "purchase", rule->name);
        }
    }
}
