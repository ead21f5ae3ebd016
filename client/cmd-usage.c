/* parentctl usage: a child's screen time over the last days, as a bar
 * chart for people or the contract's JSON, and the time in each app. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/parentctl.h"

#define DEFAULT_DAYS 7
/* Bar columns when stdout is not a terminal: the same output everywhere. */
#define PIPED_BAR_COLUMNS 40
#define MIN_BAR_COLUMNS 10
#define MAX_BAR_COLUMNS 100
/* "Sat 2026-11-28" and two spaces before the bar, or more where the
 * locale's weekday names are longer; the marker's spare column, a space
 * and the total ("23h59m") after it. */
#define LABEL_COLUMNS 16
#define LABEL_GAP 2
#define TOTAL_COLUMNS 6
#define FIXED_COLUMNS(label) ((label) + 1 + 1 + TOTAL_COLUMNS)

typedef struct {
  GDate date;
  guint64 total;
  gint64 limit;        /* seconds; -1 unlimited or not known */
  GVariant *apps;      /* (owned) (nullable) a{st} */
} Day;

static void
day_clear (gpointer data)
{
  Day *day = data;

  g_clear_pointer (&day->apps, g_variant_unref);
}

static gboolean
parse_date (const char *text, GDate *out)
{
  unsigned year, month, day;

  g_date_clear (out, 1);
  if (sscanf (text, "%4u-%2u-%2u", &year, &month, &day) != 3 ||
      !g_date_valid_dmy ((GDateDay) day, (GDateMonth) month, (GDateYear) year))
    return FALSE;
  g_date_set_dmy (out, (GDateDay) day, (GDateMonth) month, (GDateYear) year);
  return TRUE;
}

static char *
format_date (const GDate *date, const char *format)
{
  char text[64];

  if (g_date_strftime (text, sizeof text, format, date) == 0)
    return g_strdup ("?");
  return g_strdup (text);
}

/* Today's policy day is the daemon's to say (it starts at day_starts_at):
 * it is the date of the newest record. */
static gboolean
newest_date (GVariant *usage, GDate *out)
{
  g_autoptr (GVariant) newest = NULL;
  const char *date;

  if (g_variant_n_children (usage) == 0)
    return FALSE;
  newest = g_variant_get_child_value (usage, 0);
  g_variant_get_child (newest, 0, "&s", &date);
  return parse_date (date, out);
}

/* One entry a day of the period, newest first. The daemon keeps a record
 * for each day it counted, starting with today's (the newest entry); a day
 * without a record had no use counted, and shows as 0. limits (a(sx),
 * nullable: a daemon without GetDailyLimits) has the limit each day had;
 * today's is limit_today in any case. */
static GArray *
build_days (GVariant *usage, GVariant *limits, guint n_days, gint64 limit_today)
{
  g_autoptr (GHashTable) limit_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GArray *days = g_array_sized_new (FALSE, TRUE, sizeof (Day), n_days);
  /* date -> index in usage + 1; the strings live in usage */
  g_autoptr (GHashTable) by_date = g_hash_table_new (g_str_hash, g_str_equal);
  GDate today;
  gsize n_records = g_variant_n_children (usage);

  g_array_set_clear_func (days, day_clear);
  for (gsize r = n_records; r-- > 0;)
    {
      g_autoptr (GVariant) record = g_variant_get_child_value (usage, r);
      const char *date;

      g_variant_get_child (record, 0, "&s", &date);
      g_hash_table_insert (by_date, (gpointer) date, GSIZE_TO_POINTER (r + 1));
    }
  if (limits != NULL)
    {
      GVariantIter iter;
      const char *date;
      gint64 limit;

      g_variant_iter_init (&iter, limits);
      while (g_variant_iter_next (&iter, "(&sx)", &date, &limit))
        g_hash_table_insert (limit_of, g_strdup (date), g_memdup2 (&limit, sizeof limit));
    }
  if (!newest_date (usage, &today))
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();

      g_date_set_dmy (&today, (GDateDay) g_date_time_get_day_of_month (now),
                      (GDateMonth) g_date_time_get_month (now), (GDateYear) g_date_time_get_year (now));
    }

  for (guint i = 0; i < n_days; i++)
    {
      Day day = { .limit = -1 };
      g_autofree char *key = NULL;
      gsize r;

      day.date = today;
      g_date_subtract_days (&day.date, i);
      key = format_date (&day.date, "%Y-%m-%d");
      r = GPOINTER_TO_SIZE (g_hash_table_lookup (by_date, key));
      if (r > 0)
        {
          g_autoptr (GVariant) record = g_variant_get_child_value (usage, r - 1);

          g_variant_get_child (record, 1, "t", &day.total);
          day.apps = g_variant_get_child_value (record, 2);
        }
      if (i == 0)
        day.limit = limit_today;
      else if (g_hash_table_contains (limit_of, key))
        day.limit = *(const gint64 *) g_hash_table_lookup (limit_of, key);
      g_array_append_val (days, day);
    }
  return days;
}

static JsonNode *
usage_json (const char *child, GArray *days)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "child");
  json_builder_add_string_value (b, child);
  json_builder_set_member_name (b, "days");
  json_builder_begin_array (b);
  for (guint i = 0; i < days->len; i++)
    {
      const Day *day = &g_array_index (days, Day, i);
      g_autofree char *date = format_date (&day->date, "%Y-%m-%d");
      GVariantIter iter;
      const char *app;
      guint64 seconds;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "date");
      json_builder_add_string_value (b, date);
      json_builder_set_member_name (b, "total");
      json_builder_add_int_value (b, (gint64) day->total);
      pctl_json_add_int_or_null (b, "limit", day->limit);
      json_builder_set_member_name (b, "apps");
      json_builder_begin_object (b);
      if (day->apps != NULL)
        {
          g_variant_iter_init (&iter, day->apps);
          while (g_variant_iter_next (&iter, "{&st}", &app, &seconds))
            {
              json_builder_set_member_name (b, app);
              json_builder_add_int_value (b, (gint64) seconds);
            }
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static guint
bar_columns (guint label)
{
  if (pctl_options.columns == 0)
    return PIPED_BAR_COLUMNS;
  return CLAMP (pctl_options.columns, FIXED_COLUMNS (label) + MIN_BAR_COLUMNS,
                FIXED_COLUMNS (label) + MAX_BAR_COLUMNS) - FIXED_COLUMNS (label);
}

/* The day's label: the locale's weekday and the date. */
static char *
day_label (const Day *day)
{
  return format_date (&day->date, "%a %Y-%m-%d");
}

/* Columns for the labels: wide enough for the widest in this locale. */
static guint
label_columns (GArray *days)
{
  glong widest = 0;

  for (guint i = 0; i < days->len; i++)
    {
      g_autofree char *label = day_label (&g_array_index (days, Day, i));

      widest = MAX (widest, pctl_display_width (label));
    }
  return MAX (LABEL_COLUMNS, (guint) widest + LABEL_GAP);
}

static const char *
block (guint eighths)
{
  static const char *const utf8[] = { " ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█" };

  if (!pctl_options.utf8)
    return eighths >= 4 ? "#" : " ";
  return utf8[MIN (eighths, 8)];
}

static const char *
marker (void)
{
  return pctl_options.utf8 ? "│" : "|";
}

/* width columns of bar, in eighths of a column, and one more column, so
 * that a limit as long as the scale has room for its marker. Use past the
 * limit is red. */
static void
append_bar (GString *out, const Day *day, guint64 scale, guint width)
{
  guint eighths = (guint) ((day->total * width * 8 + scale / 2) / scale);
  gint64 mark = day->limit >= 0 ? (gint64) ((guint64) day->limit * width / scale) : -1;
  gboolean red = FALSE;

  /* Some use always shows. */
  if (day->total > 0 && eighths == 0)
    eighths = 1;
  for (guint cell = 0; cell <= width; cell++)
    {
      guint fill = eighths > cell * 8 ? MIN (eighths - cell * 8, 8) : 0;

      if ((gint64) cell == mark)
        {
          g_string_append_printf (out, "%s%s%s", pctl_color_bold (), marker (), pctl_color_reset ());
          continue;
        }
      if (mark >= 0 && (gint64) cell > mark && fill > 0 && !red)
        {
          g_string_append (out, pctl_color_for_state ("exhausted"));
          red = TRUE;
        }
      g_string_append (out, block (fill));
    }
  if (red)
    g_string_append (out, pctl_color_reset ());
}

static void
print_chart (GArray *days)
{
  guint label_width = label_columns (days);
  guint width = bar_columns (label_width);
  guint64 scale = 0, sum = 0;
  guint limits = 0;

  for (guint i = 0; i < days->len; i++)
    {
      const Day *day = &g_array_index (days, Day, i);

      scale = MAX (scale, day->total);
      if (day->limit >= 0)
        scale = MAX (scale, (guint64) day->limit), limits++;
      sum += day->total;
    }
  scale = MAX (scale, 1);

  /* Oldest first, as time runs down the page. */
  for (guint i = days->len; i-- > 0;)
    {
      const Day *day = &g_array_index (days, Day, i);
      g_autofree char *label = day_label (day);
      g_autofree char *total = pctl_format_duration ((gint64) day->total);
      g_autoptr (GString) line = g_string_new (NULL);
      glong pad = (glong) label_width - pctl_display_width (label);

      g_string_append_printf (line, "%s%*s", label, (int) pad, "");
      append_bar (line, day, scale, width);
      g_string_append_printf (line, " %*s", TOTAL_COLUMNS, total);
      printf ("%s\n", line->str);
    }

  if (!pctl_options.no_legend)
    {
      g_autofree char *cell = pctl_format_duration_words ((gint64) ((scale + width / 2) / width));
      g_autofree char *all = pctl_format_duration_words ((gint64) sum);
      g_autofree char *mean = pctl_format_duration_words ((gint64) (sum / days->len));

      putchar ('\n');
      if (limits > 1)
        /* TRANSLATORS: the legend of the usage chart; the first %s is a
         * block character, the second a duration, the third the limit's
         * marker character */
        printf (_("Each %s is %s of screen time; %s marks each day's limit.\n"), block (8), cell,
                marker ());
      else if (limits == 1)
        /* TRANSLATORS: the legend of the usage chart; the first %s is a
         * block character, the second a duration, the third the limit's
         * marker character */
        printf (_("Each %s is %s of screen time; %s marks today's limit.\n"), block (8), cell,
                marker ());
      else
        /* TRANSLATORS: the legend of the usage chart; %s is a block
         * character, then a duration */
        printf (_("Each %s is %s of screen time.\n"), block (8), cell);
      printf (g_dngettext (GETTEXT_PACKAGE, "%s in %u day, %s a day on average.\n",
                           "%s in %u days, %s a day on average.\n", days->len),
              all, days->len, mean);
    }
}

typedef struct {
  const char *name;
  guint64 seconds;
} AppTotal;

static char *
percent (guint64 part, guint64 whole)
{
  return g_strdup_printf ("%u%%", (guint) ((part * 100 + whole / 2) / whole));
}

static gint
by_time_then_name (gconstpointer a, gconstpointer b)
{
  const AppTotal *x = a, *y = b;

  if (x->seconds != y->seconds)
    return x->seconds > y->seconds ? -1 : 1;
  return g_utf8_collate (x->name, y->name);
}

/* The time in each app over the period, longest first, and its share of
 * the screen time (apps may run side by side, so shares may add up to
 * more than 100 %). */
static void
print_apps (GArray *days)
{
  static const char *const header[] = { N_("APP"), N_("TIME"), N_("SHARE"), NULL };
  /* app name -> its index in list + 1 */
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) list = g_array_new (FALSE, FALSE, sizeof (AppTotal));
  g_autoptr (PctlTable) table = pctl_table_new (header);
  guint64 screen = 0;

  for (guint i = 0; i < days->len; i++)
    {
      const Day *day = &g_array_index (days, Day, i);
      GVariantIter iter;
      const char *app;
      guint64 seconds;

      screen += day->total;
      if (day->apps == NULL)
        continue;
      g_variant_iter_init (&iter, day->apps);
      while (g_variant_iter_next (&iter, "{&st}", &app, &seconds))
        {
          guint at = GPOINTER_TO_UINT (g_hash_table_lookup (index, app));

          if (at == 0)
            {
              g_array_append_val (list, ((AppTotal) { .name = app }));
              at = list->len;
              g_hash_table_insert (index, (gpointer) app, GUINT_TO_POINTER (at));
            }
          g_array_index (list, AppTotal, at - 1).seconds += seconds;
        }
    }
  if (list->len == 0)
    return;
  g_array_sort (list, by_time_then_name);
  for (guint i = 0; i < list->len; i++)
    {
      const AppTotal *app = &g_array_index (list, AppTotal, i);
      g_autofree char *time = pctl_format_duration ((gint64) app->seconds);
      g_autofree char *share = screen > 0 ? percent (app->seconds, screen) : g_strdup ("-");
      const char *row[] = { app->name, time, share, NULL };

      pctl_table_add (table, row);
    }
  putchar ('\n');
  pctl_table_print (table);
}

/* The child to show: USER, or without one, the caller when a child. */
static int
resolve (int argc, char **argv, guint32 *out_uid, char **out_name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *self = NULL;

  if (argc > 2)
    return pctl_usage_error (_("usage takes at most one USER"));
  if (argc == 2)
    return pctl_resolve_child (argv[1], out_uid, out_name, &error) ? PCTL_EXIT_OK : pctl_fail (error);
  self = g_strdup_printf ("%u", (guint) getuid ());
  if (pctl_resolve_child (self, out_uid, out_name, &error))
    return PCTL_EXIT_OK;
  /* Not a child: the daemon answered, but the caller must say whom. */
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED) && !g_dbus_error_is_remote_error (error))
    return pctl_usage_error (_("say whose usage to show: parentctl usage USER"));
  return pctl_fail (error);
}

int
pctl_cmd_usage (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) props = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) usage = NULL;
  g_autoptr (GVariant) limits = NULL;
  g_autoptr (GArray) days = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  guint n_days = pctl_options.days > 0 ? pctl_options.days : DEFAULT_DAYS;
  gint64 limit_today = -1;
  guint32 uid;
  int status;

  status = resolve (argc, argv, &uid, &name);
  if (status != PCTL_EXIT_OK)
    return status;
  path = pctl_child_path (uid);
  /* The properties first: reading them makes sure today has its record. */
  props = pctl_child_properties (uid, &error);
  if (props != NULL)
    reply = pctl_call (path, "org.parentd1.Child", "GetUsage", g_variant_new ("(u)", n_days),
                       "(a(sta{st}))", &error);
  if (reply == NULL)
    return pctl_fail (error);
  g_variant_lookup (props, "LimitToday", "x", &limit_today);
  usage = g_variant_get_child_value (reply, 0);
  g_clear_pointer (&reply, g_variant_unref);
  reply = pctl_call (path, "org.parentd1.Child", "GetDailyLimits", g_variant_new ("(u)", n_days),
                     "(a(sx))", &error);
  if (reply != NULL)
    limits = g_variant_get_child_value (reply, 0);
  else if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
    g_clear_error (&error);   /* an older daemon: only today's limit is marked */
  else
    return pctl_fail (error);
  days = build_days (usage, limits, n_days, limit_today);

  if (pctl_options.json)
    {
      g_autoptr (JsonNode) root = usage_json (name, days);

      pctl_print_json (root);
      return PCTL_EXIT_OK;
    }
  pctl_pager_open ();
  print_chart (days);
  print_apps (days);
  return PCTL_EXIT_OK;
}
