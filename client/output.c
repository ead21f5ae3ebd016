/* parentctl's output: aligned tables for people, one JSON document for
 * programs, durations and moments the way people read them, and the
 * terminal's conventions (colour, width, pager). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/parentctl.h"

/* Without a terminal to ask, charts have this many columns of bar, so that
 * piped output is the same everywhere. */
#define DEFAULT_COLUMNS 80

/* --- the terminal ------------------------------------------------------------ */

void
pctl_terminal_init (void)
{
  const char *no_color = g_getenv ("NO_COLOR");
  const char *term = g_getenv ("TERM");
  struct winsize size;

  pctl_options.tty = isatty (STDOUT_FILENO);
  /* https://no-color.org: any non-empty NO_COLOR turns colour off. */
  pctl_options.color = pctl_options.tty && (no_color == NULL || no_color[0] == '\0') &&
                       term != NULL && strcmp (term, "dumb") != 0;
  pctl_options.utf8 = g_get_charset (NULL);
  pctl_options.columns = 0;
  if (pctl_options.tty)
    pctl_options.columns = ioctl (STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0
                               ? size.ws_col
                               : DEFAULT_COLUMNS;
}

static gboolean
colored (void)
{
  return pctl_options.color && !pctl_options.json;
}

const char *
pctl_color_for_state (const char *state)
{
  static const struct {
    const char *state;
    const char *sequence;
  } colors[] = {
    { "ok", "\033[32m" },              /* green: all is well */
    { "unlimited", "\033[32m" },
    { "always-allowed", "\033[32m" },
    { "approved", "\033[32m" },
    { "warning", "\033[33m" },         /* yellow: soon, or waiting for someone */
    { "grace", "\033[33m" },
    { "pending", "\033[33m" },
    { "held", "\033[33m" },
    { "exhausted", "\033[31m" },       /* red: no */
    { "outside-hours", "\033[31m" },
    { "locked-out", "\033[31m" },
    { "blocked", "\033[31m" },
    { "denied", "\033[31m" },
  };

  if (!colored () || state == NULL)
    return "";
  for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
    if (strcmp (state, colors[i].state) == 0)
      return colors[i].sequence;
  return "";
}

const char *
pctl_color_bold (void)
{
  return colored () ? "\033[1m" : "";
}

const char *
pctl_color_reset (void)
{
  return colored () ? "\033[0m" : "";
}

static pid_t pager_pid;

/* The pager to run, or NULL for none: $PARENTCTL_PAGER, else $PAGER, else
 * less or more from PATH. An empty value or "cat" means no pager. */
static char *
find_pager (gboolean *out_shell)
{
  const char *pager = g_getenv ("PARENTCTL_PAGER");
  g_autofree char *trimmed = NULL;

  if (pager == NULL)
    pager = g_getenv ("PAGER");
  *out_shell = pager != NULL;
  if (pager == NULL)
    {
      char *path = g_find_program_in_path ("less");
      return path != NULL ? path : g_find_program_in_path ("more");
    }
  trimmed = g_strstrip (g_strdup (pager));
  if (trimmed[0] == '\0' || strcmp (trimmed, "cat") == 0)
    return NULL;
  return g_steal_pointer (&trimmed);
}

void
pctl_pager_open (void)
{
  g_autofree char *pager = NULL;
  g_auto (GStrv) env = NULL;
  gboolean shell;
  int fds[2];
  pid_t pid;

  if (pager_pid > 0 || !pctl_options.tty || pctl_options.no_pager)
    return;
  pager = find_pager (&shell);
  if (pager == NULL)
    return;
  /* As systemd does: quit at once when all fits on one screen, pass
   * colours through, and leave the text on the screen. */
  env = g_environ_setenv (g_get_environ (), "LESS", "FRSXMK", FALSE);
  fflush (stdout);
  /* Without a pipe or a process, print straight to the terminal. */
  if (pipe (fds) < 0)
    return;
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return;
    }
  if (pid == 0)
    {
      /* GDBus has threads: only async-signal-safe calls until exec. */
      dup2 (fds[0], STDIN_FILENO);
      close (fds[0]);
      close (fds[1]);
      if (shell)
        execve ("/bin/sh", (char *[]) { (char *) "sh", (char *) "-c", pager, NULL }, env);
      else
        execve (pager, (char *[]) { pager, NULL }, env);
      _exit (127);
    }
  dup2 (fds[1], STDOUT_FILENO);
  close (fds[0]);
  close (fds[1]);
  pager_pid = pid;
}

void
pctl_pager_close (void)
{
  if (pager_pid <= 0)
    return;
  fflush (stdout);
  /* The pager sees the end of its input, and stays until it is quit. */
  close (STDOUT_FILENO);
  while (waitpid (pager_pid, NULL, 0) < 0 && errno == EINTR)
    ;
  pager_pid = 0;
}

/* --- tables ------------------------------------------------------------------ */

struct _PctlTable {
  guint columns;
  GPtrArray *rows;     /* (owned) (element-type GStrv) the header first */
  GPtrArray *colors;   /* (owned) (element-type GStrv) per row: a state word or "" per cell */
};

static char **
empty_colors (guint columns)
{
  char **colors = g_new0 (char *, columns + 1);

  for (guint c = 0; c < columns; c++)
    colors[c] = g_strdup ("");
  return colors;
}

PctlTable *
pctl_table_new (const char *const *header)
{
  PctlTable *table = g_new0 (PctlTable, 1);

  table->columns = g_strv_length ((char **) header);
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->colors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_ptr_array_add (table->rows, g_new0 (char *, table->columns + 1));
  for (guint c = 0; c < table->columns; c++)
    ((char **) table->rows->pdata[0])[c] = g_strdup (_(header[c]));
  g_ptr_array_add (table->colors, empty_colors (table->columns));
  return table;
}

void
pctl_table_add (PctlTable *table, const char *const *row)
{
  g_return_if_fail (g_strv_length ((char **) row) == table->columns);
  g_ptr_array_add (table->rows, g_strdupv ((char **) row));
  g_ptr_array_add (table->colors, empty_colors (table->columns));
}

void
pctl_table_color_state (PctlTable *table, guint column, const char *state)
{
  char **colors;

  g_return_if_fail (column < table->columns && table->rows->len > 1);
  colors = g_ptr_array_index (table->colors, table->colors->len - 1);
  g_free (colors[column]);
  colors[column] = g_strdup (state);
}

glong
pctl_display_width (const char *text)
{
  glong width = 0;
  const char *p = text;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      /* A byte of invalid UTF-8 shows as one replacement character. */
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          width++;
          p++;
          continue;
        }
      if (!g_unichar_iszerowidth (c))
        width += g_unichar_iswide (c) ? 2 : 1;
      p = g_utf8_next_char (p);
    }
  return width;
}

void
pctl_table_print (PctlTable *table)
{
  g_autofree glong *width = g_new0 (glong, table->columns);
  guint first = pctl_options.no_legend ? 1 : 0;

  pctl_pager_open ();
  /* Only the rows printed set the widths: a hidden header takes no room. */
  for (guint r = first; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      for (guint c = 0; c < table->columns; c++)
        width[c] = MAX (width[c], pctl_display_width (row[c]));
    }
  for (guint r = first; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);
      char **colors = g_ptr_array_index (table->colors, r);

      for (guint c = 0; c < table->columns; c++)
        {
          gboolean last = c + 1 == table->columns;
          const char *on = r == 0 ? pctl_color_bold () : pctl_color_for_state (colors[c]);
          /* Pad by terminal columns, not bytes or characters: names and
           * translations may be in any script, and CJK takes two columns. */
          glong pad = last ? 0 : width[c] - pctl_display_width (row[c]) + 2;

          printf ("%s%s%s%*s", on, row[c], on[0] ? pctl_color_reset () : "", (int) pad, "");
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
  g_ptr_array_unref (table->colors);
  g_free (table);
}

/* --- JSON -------------------------------------------------------------------- */

void
pctl_print_json (JsonNode *root)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, pctl_options.tty);
  text = json_generator_to_data (generator, NULL);
  pctl_pager_open ();
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
  fprintf (stderr, _("parentctl: '%s' is not a child you may see; 'parentctl list' shows the "
                     "children\n"), user);
  return PCTL_EXIT_FAILURE;
}

/* --- words ------------------------------------------------------------------- */

char *
pctl_format_duration_words (gint64 seconds)
{
  int64_t s = seconds < 0 ? -(int64_t) seconds : (int64_t) seconds;
  const char *sign = seconds < 0 ? "-" : "";

  /* PRId64, not G_GINT64_FORMAT: xgettext knows the <inttypes.h> macros
   * and keeps the whole message. */
  if (s >= 3600)
    /* TRANSLATORS: a duration in hours and minutes, e.g. "1 h 05 min" */
    return g_strdup_printf (_("%s%" PRId64 " h %02" PRId64 " min"), sign, s / 3600,
                            (s % 3600) / 60);
  /* Near the end, seconds matter to a child watching the clock. */
  if (s >= 60 && s < 600 && s % 60 != 0)
    /* TRANSLATORS: a duration in minutes and seconds, e.g. "4 min 05 s" */
    return g_strdup_printf (_("%s%" PRId64 " min %02" PRId64 " s"), sign, s / 60, s % 60);
  if (s >= 60)
    /* TRANSLATORS: a duration in minutes, e.g. "25 min" */
    return g_strdup_printf (_("%s%" PRId64 " min"), sign, s / 60);
  /* TRANSLATORS: a duration in seconds, e.g. "40 s" */
  return g_strdup_printf (_("%s%" PRId64 " s"), sign, s);
}

/* The units are those of the configuration language, so they are not
 * translated: what a table shows can be typed back into parentctl. */
char *
pctl_format_duration (gint64 seconds)
{
  gint64 s = seconds < 0 ? -seconds : seconds;
  const char *sign = seconds < 0 ? "-" : "";

  if (s >= 3600 && (s % 3600) / 60 == 0)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT "h", sign, s / 3600);
  if (s >= 3600)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT "h%02" G_GINT64_FORMAT "m", sign, s / 3600,
                            (s % 3600) / 60);
  /* As in sentences: seconds only under ten minutes. */
  if (s >= 60 && s < 600 && s % 60 != 0)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT "m%02" G_GINT64_FORMAT "s", sign, s / 60,
                            s % 60);
  if (s >= 60)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT "m", sign, s / 60);
  if (s == 0)
    return g_strdup ("0");
  return g_strdup_printf ("%s%" G_GINT64_FORMAT "s", sign, s);
}

char *
pctl_format_moment (guint64 unix_seconds)
{
  g_autoptr (GDateTime) when = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  GTimeSpan apart;

  if (unix_seconds == 0)
    return g_strdup ("-");
  when = g_date_time_new_from_unix_local ((gint64) unix_seconds);
  if (when == NULL)
    return g_strdup ("?");
  apart = g_date_time_difference (when, now);
  if (g_date_time_get_day_of_year (when) == g_date_time_get_day_of_year (now) &&
      g_date_time_get_year (when) == g_date_time_get_year (now))
    return g_date_time_format (when, "%H:%M");
  /* A weekday names one day only within six days either way. */
  if (ABS (apart) < 6 * G_TIME_SPAN_DAY)
    return g_date_time_format (when, "%a %H:%M");
  return g_date_time_format (when, "%Y-%m-%d %H:%M");
}

const char *
pctl_state_label (const char *state)
{
  static const struct {
    const char *state;
    const char *label;
  } labels[] = {
    /* TRANSLATORS: the states of a child, an app, a request and a purchase,
     * in tables; keep them short */
    { "ok", N_("ok") },
    { "warning", N_("warning") },
    { "grace", N_("grace") },
    { "exhausted", N_("exhausted") },
    { "outside-hours", N_("outside-hours") },
    { "locked-out", N_("locked-out") },
    { "unlimited", N_("unlimited") },
    { "blocked", N_("blocked") },
    { "always-allowed", N_("always-allowed") },
    { "pending", N_("pending") },
    { "approved", N_("approved") },
    { "denied", N_("denied") },
    { "expired", N_("expired") },
    { "held", N_("held") },
    { "logged", N_("logged") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (strcmp (state, labels[i].state) == 0)
      return _(labels[i].label);
  return state;
}

const char *
pctl_request_kind_label (const char *kind)
{
  static const struct {
    const char *kind;
    const char *label;
  } labels[] = {
    /* TRANSLATORS: the kinds of a request, in the KIND column of 'parentctl
     * requests': a child asks for more time, or a purchase waits for a parent */
    { "time", NC_("request kind", "time") },
    { "purchase", NC_("request kind", "purchase") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    if (strcmp (kind, labels[i].kind) == 0)
      return g_dpgettext2 (GETTEXT_PACKAGE, "request kind", labels[i].label);
  return kind;
}
