/* libFuzzer target for the configuration loader: any bytes, read as a main
 * file and again as a rule set, must give either a configuration or errors,
 * and free cleanly. Each configuration that loads is also evaluated. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "policy/eval.h"
#include "policy/loader.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Every name is a user: a uid derived from the name, never 0. */
static gboolean
fake_lookup (const char *name, uid_t *out_uid, gpointer user_data)
{
  *out_uid = 1000 + g_str_hash (name) % 60000;
  return TRUE;
}

/* In Europe/Berlin: a Monday afternoon, a Sunday at 04:00 (the default
 * start of a day), and the first hour after the spring DST change. */
static const gint64 moments[] = { 1749470400, 1749952800, 1743296400 };

static void
evaluate (const PdConfig *config, GTimeZone *tz)
{
  gint64 app_used[4] = { 0, 600, 3600, 86400 };

  for (guint c = 0; c < config->children->len; c++)
    {
      const PdChild *child = g_ptr_array_index (config->children, c);

      for (guint m = 0; m < G_N_ELEMENTS (moments); m++)
        {
          PdUsage usage = {
            .used = 3600 * (gint64) m,
            .bonus = 600,
            .locked_until = m == 2 ? moments[m] + 60 : 0,
            .app_used = app_used,
            .n_app_used = MIN (config->apps->len, G_N_ELEMENTS (app_used)),
          };
          PdVerdict verdict;
          gint64 limit;

          pd_evaluate (&config->daemon, child, &usage, moments[m], tz, &verdict);
          for (guint a = 0; a < config->apps->len; a++)
            pd_evaluate_app (child, a, a < usage.n_app_used ? app_used[a] : 0,
                             verdict.day.weekday, &limit);
        }
    }
}

static void
load_once (const uint8_t *data, size_t size, gboolean also_as_rules, GTimeZone *tz)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_autoptr (PdConfig) config = NULL;
  g_auto (GStrv) errors = NULL;

  pd_loader_add_data (loader, "fuzz.conf", (const char *) data, size, PD_SOURCE_CONFIG);
  if (also_as_rules)
    pd_loader_add_data (loader, "fuzz-rules.conf", (const char *) data, size, PD_SOURCE_RULES);
  config = pd_loader_finish (loader, &errors);

  /* Exactly one of the two, and errors are never an empty list. */
  g_assert ((config == NULL) != (errors == NULL));
  if (config != NULL)
    {
      g_autofree char *summary = pd_config_summary (config);

      g_assert (g_str_has_suffix (summary, ")"));
      evaluate (config, tz);
    }
  else
    {
      g_autofree char *report = pd_format_errors ((const char *const *) errors);

      g_assert (errors[0] != NULL);
      g_assert (g_str_has_suffix (report, " errors\n") || g_str_has_suffix (report, " error\n"));
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static GTimeZone *tz = NULL;   /* (owned) for the whole run */

  if (tz == NULL)
    {
      tz = g_time_zone_new_identifier ("Europe/Berlin");
      if (tz == NULL)
        tz = g_time_zone_new_utc ();
    }

  /* Alone as the main file, where [child] sections are allowed; then once
   * more as a rule set after it, so that sections merge across sources. */
  load_once (data, size, FALSE, tz);
  load_once (data, size, TRUE, tz);
  return 0;
}
