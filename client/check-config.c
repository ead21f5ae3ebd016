/* parentctl check-config: validates a configuration offline, and with --at
 * shows what the policy says for each child at a given moment. Links the
 * policy library and nothing else: no daemon is needed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "client/parentctl.h"
#include "policy/eval.h"
#include "policy/loader.h"

static const char *const weekday_names[PD_DAYS] = {
  N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
  N_("Sunday")
};

/* "YYYY-MM-DD HH:MM" in local time. */
static gboolean
parse_moment (const char *text, GTimeZone *tz, gint64 *out)
{
  int y, mo, d, h, mi;
  char tail;
  g_autoptr (GDateTime) when = NULL;

  if (sscanf (text, "%4d-%2d-%2d %2d:%2d%c", &y, &mo, &d, &h, &mi, &tail) != 5)
    return FALSE;
  when = g_date_time_new (tz, y, mo, d, h, mi, 0);
  if (when == NULL)
    return FALSE;
  *out = g_date_time_to_unix (when);
  return TRUE;
}

static char *
clock_at (GTimeZone *tz, gint64 moment)
{
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (moment);
  g_autoptr (GDateTime) local = g_date_time_to_timezone (when, tz);

  return g_date_time_format (local, "%H:%M");
}

/* When allowed hours next begin. The verdict's next change may be only the
 * start of a new policy day, so step through the changes until one lies
 * inside allowed hours; 0 if none does within a week's worth of changes. */
static gint64
next_allowed_start (const PdConfig *config, const PdChild *child, const PdUsage *usage,
                    gint64 from, GTimeZone *tz)
{
  gint64 moment = from;

  for (guint i = 0; i < 64 && moment != 0; i++)
    {
      PdVerdict later;

      if (pd_in_allowed_hours (child, tz, moment))
        return moment;
      pd_evaluate (&config->daemon, child, usage, moment, tz, &later);
      if (later.next_change <= moment)
        return 0;
      moment = later.next_change;
    }
  return 0;
}

/* "allowed again from 07:00", naming the weekday when that is not today. */
static void
explain_outside_hours (const PdConfig *config, const PdChild *child, const PdUsage *usage,
                       const PdVerdict *verdict, GDateTime *local, GTimeZone *tz)
{
  gint64 start = next_allowed_start (config, child, usage, verdict->next_change, tz);
  g_autoptr (GDateTime) start_utc = NULL;
  g_autoptr (GDateTime) start_local = NULL;
  g_autofree char *clock = NULL;

  if (start == 0)
    {
      printf ("%s\n", _("outside allowed hours, and none are ahead"));
      return;
    }
  start_utc = g_date_time_new_from_unix_utc (start);
  start_local = g_date_time_to_timezone (start_utc, tz);
  clock = g_date_time_format (start_local, "%H:%M");
  if (g_date_time_get_day_of_year (start_local) == g_date_time_get_day_of_year (local) &&
      g_date_time_get_year (start_local) == g_date_time_get_year (local))
    printf (_("outside allowed hours; allowed again from %s\n"), clock);
  else
    /* TRANSLATORS: a clock time ("07:00") and a weekday ("Monday"). */
    printf (_("outside allowed hours; allowed again from %s on %s\n"), clock,
            _(weekday_names[g_date_time_get_day_of_week (start_local) - 1]));
}

static void
explain_child (const PdConfig *config, const PdChild *child, gint64 now, gint64 used, GTimeZone *tz)
{
  PdUsage usage = { .used = used };
  PdVerdict verdict;
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (now);
  g_autoptr (GDateTime) local = g_date_time_to_timezone (when, tz);
  g_autofree char *moment = g_date_time_format (local, "%H:%M");
  g_autofree char *date = g_date_time_format (local, "%Y-%m-%d");
  g_autofree char *left = NULL;
  g_autofree char *until = NULL;
  const char *state;

  pd_evaluate (&config->daemon, child, &usage, now, tz, &verdict);
  /* TRANSLATORS: a child's name, a clock time, a weekday and a date ("2026-11-28"). */
  printf (_("%s at %s on %s %s: "), child->name, moment,
          _(weekday_names[g_date_time_get_day_of_week (local) - 1]), date);
  if (!verdict.in_allowed_hours)
    {
      explain_outside_hours (config, child, &usage, &verdict, local, tz);
      return;
    }
  if (verdict.remaining_today == PD_UNLIMITED)
    left = g_strdup (_("no daily limit"));
  else
    {
      g_autofree char *amount = pctl_format_duration_words (verdict.remaining_today);
      /* TRANSLATORS: %s is an amount of time ("1 h 05 min"). */
      left = g_strdup_printf (_("%s left"), amount);
    }
  until = verdict.allowed_until != 0 ? clock_at (tz, verdict.allowed_until) : NULL;
  state = pctl_state_label (pd_state_to_string (verdict.state));
  if (until != NULL)
    /* TRANSLATORS: how much time is left, a clock time and the state ("warning"). */
    printf (_("%s; allowed until %s (%s)\n"), left, until, state);
  else
    /* TRANSLATORS: how much time is left and the state ("unlimited"). */
    printf (_("%s (%s)\n"), left, state);
}

int
pctl_check_config (const char *file, const char *at, const char *used_text)
{
  g_autofree char *main_file = g_build_filename (PD_SYSCONFDIR, "parentd.conf", NULL);
  g_autofree char *dropins = g_build_filename (PD_SYSCONFDIR, "parentd.conf.d", NULL);
  g_autofree char *admin_rules = g_build_filename (PD_SYSCONFDIR, "rules.d", NULL);
  /* A FILE given is checked alone, with the installed rule sets: it is a
   * candidate main file, not one more drop-in. */
  PdLoadPaths paths = {
    .config_file = file != NULL ? file : main_file,
    .dropin_dir = file != NULL ? NULL : dropins,
    .rules_dir = g_getenv ("PARENTD_RULES_DIR") != NULL ? g_getenv ("PARENTD_RULES_DIR") : PD_RULESDIR,
    .admin_rules_dir = admin_rules,
  };
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = NULL;
  g_autoptr (GTimeZone) tz = g_time_zone_new_local ();
  g_autofree char *summary = NULL;
  gint64 now = 0, used = 0;

  if (at != NULL && !parse_moment (at, tz, &now))
    return pctl_usage_error (_("--at takes a local time as \"YYYY-MM-DD HH:MM\", not '%s'"), at);
  if (used_text != NULL && (!pd_parse_duration (used_text, &used, NULL)))
    return pctl_usage_error (_("--used takes a duration such as 2h35m, not '%s'"), used_text);
  if (file != NULL && !g_file_test (file, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, _("%s: no such file\n"), file);
      return EXIT_FAILURE;
    }

  config = pd_config_load (&paths, &errors);
  if (config == NULL)
    {
      g_autofree char *report = pd_format_errors ((const char *const *) errors);
      fputs (report, stderr);
      return EXIT_FAILURE;
    }

  summary = pd_config_summary (config);
  printf (_("configuration OK: %s\n"), summary);
  for (guint i = 0; at != NULL && i < config->children->len; i++)
    explain_child (config, g_ptr_array_index (config->children, i), now, used, tz);
  return EXIT_SUCCESS;
}
