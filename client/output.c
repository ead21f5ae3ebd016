/* parentctl's output: aligned tables for people, one JSON document for
 * programs, and durations and moments the way people read them. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "client/parentctl.h"

struct _PctlTable {
  guint columns;
  GPtrArray *rows;   /* (owned) (element-type GStrv) the header first */
};

PctlTable *
pctl_table_new (const char *const *header)
{
  PctlTable *table = g_new0 (PctlTable, 1);

  table->columns = g_strv_length ((char **) header);
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (table->rows, g_strdupv ((char **) header));
  return table;
}

void
pctl_table_add (PctlTable *table, const char *const *row)
{
  g_return_if_fail (g_strv_length ((char **) row) == table->columns);
  g_ptr_array_add (table->rows, g_strdupv ((char **) row));
}

void
pctl_table_print (PctlTable *table)
{
  g_autofree glong *width = g_new0 (glong, table->columns);

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      for (guint c = 0; c < table->columns; c++)
        width[c] = MAX (width[c], g_utf8_strlen (row[c], -1));
    }
  for (guint r = pctl_options.no_legend ? 1 : 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      for (guint c = 0; c < table->columns; c++)
        {
          gboolean last = c + 1 == table->columns;
          /* Pad by characters, not bytes: names may be in any script. */
          glong pad = last ? 0 : width[c] - g_utf8_strlen (row[c], -1) + 2;
          printf ("%s%*s", row[c], (int) pad, "");
        }
      putchar ('\n');
    }
}

void
pctl_table_free (PctlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

void
pctl_print_json (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, isatty (fileno (stdout)));
  text = json_generator_to_data (generator, NULL);
  printf ("%s\n", text);
}

void
pctl_json_add_int_or_null (JsonBuilder *builder, const char *member, gint64 value)
{
  json_builder_set_member_name (builder, member);
  if (value < 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, value);
}

void
pctl_json_add_app (JsonBuilder *builder, const char *name, guint64 used, gint64 limit,
                   const char *state)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "used_today");
  json_builder_add_int_value (builder, (gint64) used);
  pctl_json_add_int_or_null (builder, "limit", limit);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, state);
  json_builder_end_object (builder);
}

int
pctl_not_visible (const char *user)
{
  fprintf (stderr, "parentctl: '%s' is not a child you may see; 'parentctl list' shows the "
                   "children\n", user);
  return PCTL_EXIT_FAILURE;
}

char *
pctl_format_duration_words (gint64 seconds)
{
  gint64 s = seconds < 0 ? -seconds : seconds;
  const char *sign = seconds < 0 ? "-" : "";

  if (s >= 3600)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT " h %02" G_GINT64_FORMAT " min", sign, s / 3600,
                            (s % 3600) / 60);
  /* Near the end, seconds matter to a child watching the clock. */
  if (s >= 60 && s < 600 && s % 60 != 0)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT " min %02" G_GINT64_FORMAT " s", sign, s / 60, s % 60);
  if (s >= 60)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT " min", sign, s / 60);
  return g_strdup_printf ("%s%" G_GINT64_FORMAT " s", sign, s);
}

char *
pctl_format_moment (guint64 unix_seconds)
{
  g_autoptr (GDateTime) when = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();

  if (unix_seconds == 0)
    return g_strdup ("-");
  when = g_date_time_new_from_unix_local ((gint64) unix_seconds);
  if (when == NULL)
    return g_strdup ("?");
  if (g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (now) &&
      g_date_time_get_year (when) == g_date_time_get_year (now))
    return g_date_time_format (when, "%H:%M");
  if (g_date_time_difference (when, now) < 6 * G_TIME_SPAN_DAY)
    return g_date_time_format (when, "%a %H:%M");
  return g_date_time_format (when, "%Y-%m-%d %H:%M");
}
