/* Time accounting on the day records. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/ledger.h"
#include "policy/eval.h"

static void
credit_day (PdChildRecord *record, const char *date, gint64 seconds, const char *const *apps)
{
  PdDayRecord *day;

  if (seconds <= 0)
    return;
  day = pd_child_record_day (record, date);
  day->used += seconds;
  for (guint i = 0; apps != NULL && apps[i] != NULL; i++)
    pd_day_record_add_app (day, apps[i], seconds);
}

gint64
pd_ledger_credit (PdChildRecord *record, const PdDaemonSettings *settings, GTimeZone *tz,
                  gint64 since_wall, gint64 now_wall, gint64 elapsed_us,
                  const char *const *apps, gint64 *carry_us)
{
  PdDay today, earlier;
  gint64 total_us, seconds, before;

  g_return_val_if_fail (record != NULL && carry_us != NULL, 0);

  total_us = MAX (elapsed_us, 0) + *carry_us;
  seconds = total_us / G_USEC_PER_SEC;
  *carry_us = total_us % G_USEC_PER_SEC;
  if (seconds == 0)
    return 0;

  pd_day_at (settings, tz, now_wall, &today);
  /* Use that began before today's start belongs, up to that start, to the
   * day it began in. Wall times may have jumped, so the share is clamped to
   * what was really counted. */
  before = CLAMP (today.start - since_wall, 0, seconds);
  if (before > 0)
    {
      pd_day_at (settings, tz, since_wall, &earlier);
      credit_day (record, earlier.date, before, apps);
    }
  credit_day (record, today.date, seconds - before, apps);
  return seconds;
}

PdDayRecord *
pd_ledger_today (PdChildRecord *record, const PdDaemonSettings *settings, GTimeZone *tz,
                 gint64 now_wall)
{
  PdDay today;

  pd_day_at (settings, tz, now_wall, &today);
  return pd_child_record_day (record, today.date);
}

/* The day records of the last `days` calendar days up to the newest
 * record (today), newest first: not the last `days` records, since days
 * without use have none. (transfer container) */
static GPtrArray *
window (const PdChildRecord *record, guint days)
{
  GPtrArray *in = g_ptr_array_new ();
  char oldest[16] = "";
  guint y, m, d;

  if (record == NULL || record->days->len == 0 || days == 0)
    return in;
  if (sscanf (((const PdDayRecord *) g_ptr_array_index (record->days, 0))->date, "%4u-%2u-%2u",
              &y, &m, &d) == 3 && g_date_valid_dmy (d, m, y))
    {
      g_autoptr (GDate) date = g_date_new_dmy (d, m, y);

      g_date_subtract_days (date, days - 1);
      g_snprintf (oldest, sizeof oldest, "%04u-%02u-%02u", g_date_get_year (date),
                  g_date_get_month (date), g_date_get_day (date));
    }
  for (guint i = 0; i < record->days->len && in->len < days; i++)
    {
      PdDayRecord *day = g_ptr_array_index (record->days, i);

      if (strcmp (day->date, oldest) >= 0)
        g_ptr_array_add (in, day);
    }
  return in;
}

GVariant *
pd_ledger_usage (const PdChildRecord *record, guint days)
{
  g_autoptr (GPtrArray) in = window (record, days);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sta{st})"));
  for (guint i = 0; i < in->len; i++)
    {
      const PdDayRecord *day = g_ptr_array_index (in, i);
      GVariantBuilder apps;
      GHashTableIter iter;
      gpointer name, seconds;

      g_variant_builder_init (&apps, G_VARIANT_TYPE ("a{st}"));
      g_hash_table_iter_init (&iter, day->apps);
      while (g_hash_table_iter_next (&iter, &name, &seconds))
        g_variant_builder_add (&apps, "{st}", (const char *) name, (guint64) *(gint64 *) seconds);
      g_variant_builder_add (&builder, "(sta{st})", day->date, (guint64) MAX (day->used, 0), &apps);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
pd_ledger_limits (const PdChildRecord *record, guint days)
{
  g_autoptr (GPtrArray) in = window (record, days);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sx)"));
  for (guint i = 0; i < in->len; i++)
    {
      const PdDayRecord *day = g_ptr_array_index (in, i);

      if (day->limit_known)
        g_variant_builder_add (&builder, "(sx)", day->date, day->limit);
    }
  return g_variant_builder_end (&builder);
}
