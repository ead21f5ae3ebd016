/* The value syntax of the configuration language. Every parser takes the
 * trimmed text of one value and says exactly what is wrong with it. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "policy/error.h"
#include "policy/units.h"

static const char *const day_names[PD_DAYS] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static gboolean
fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (PD_ERROR, PD_ERROR_INVALID_CONFIG, format, args));
  va_end (args);
  return FALSE;
}

gboolean
pd_parse_duration (const char *text, gint64 *out_seconds, GError **error)
{
  const char *p = text;
  gint64 total = 0;
  int last_unit = 0;  /* 1 = h, 2 = m, 3 = s: units must come largest first, once each */

  g_return_val_if_fail (text != NULL && out_seconds != NULL, FALSE);

  if (strcmp (text, "0") == 0)
    {
      *out_seconds = 0;
      return TRUE;
    }
  if (*p == '\0')
    return fail (error, _("empty duration; write e.g. 45m, 1h30m or 0"));

  while (*p != '\0')
    {
      gint64 n = 0;
      int unit;
      int digits = 0;

      while (g_ascii_isdigit (*p) && digits < 6)
        n = n * 10 + (*p++ - '0'), digits++;
      if (digits == 0 || g_ascii_isdigit (*p))
        return fail (error, _("bad duration '%s'; write e.g. 45s, 30m, 1h30m or 0"), text);
      switch (*p)
        {
        case 'h': unit = 1; n *= 3600; break;
        case 'm': unit = 2; n *= 60; break;
        case 's': unit = 3; break;
        default:
          return fail (error, _("bad duration '%s': a number needs a unit h, m or s (e.g. 45m)"), text);
        }
      if (unit <= last_unit)
        return fail (error, _("bad duration '%s': units go largest first, once each (e.g. 1h30m)"), text);
      last_unit = unit;
      total += n;
      p++;
    }

  if (total > PD_MAX_DURATION)
    return fail (error, _("duration '%s' is longer than 24h"), text);
  *out_seconds = total;
  return TRUE;
}

gboolean
pd_parse_signed_duration (const char *text, gint64 *out_seconds, GError **error)
{
  gint64 sign = 1;

  g_return_val_if_fail (text != NULL && out_seconds != NULL, FALSE);

  if (*text == '-' || *text == '+')
    sign = (*text++ == '-') ? -1 : 1;
  if (!pd_parse_duration (text, out_seconds, error))
    return FALSE;
  *out_seconds *= sign;
  return TRUE;
}

gboolean
pd_parse_limit (const char *text, gint64 *out_seconds, GError **error)
{
  g_return_val_if_fail (text != NULL && out_seconds != NULL, FALSE);

  if (strcmp (text, "unlimited") == 0)
    {
      *out_seconds = PD_UNLIMITED;
      return TRUE;
    }
  if (!pd_parse_duration (text, out_seconds, NULL))
    return fail (error, _("bad limit '%s'; write a duration such as 1h30m, or 'unlimited'"), text);
  return TRUE;
}

char *
pd_format_duration (gint64 seconds)
{
  GString *out = g_string_new (NULL);
  guint64 s;

  if (seconds < 0)
    g_string_append_c (out, '-');
  s = (guint64) (seconds < 0 ? -seconds : seconds);
  if (s == 0)
    g_string_append_c (out, '0');
  if (s >= 3600)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "h", s / 3600);
  if (s % 3600 >= 60)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "m", (s % 3600) / 60);
  if (s % 60 != 0)
    g_string_append_printf (out, "%" G_GUINT64_FORMAT "s", s % 60);
  return g_string_free (out, FALSE);
}

gboolean
pd_parse_clock (const char *text, gboolean allow_24, int *out_minutes, GError **error)
{
  int h, m;

  g_return_val_if_fail (text != NULL && out_minutes != NULL, FALSE);

  if (strlen (text) != 5 || !g_ascii_isdigit (text[0]) || !g_ascii_isdigit (text[1]) ||
      text[2] != ':' || !g_ascii_isdigit (text[3]) || !g_ascii_isdigit (text[4]))
    return fail (error, _("bad time '%s'; write HH:MM, e.g. 07:30"), text);

  h = (text[0] - '0') * 10 + (text[1] - '0');
  m = (text[3] - '0') * 10 + (text[4] - '0');
  if (allow_24 && h == 24 && m == 0)
    {
      *out_minutes = PD_MINUTES_PER_DAY;
      return TRUE;
    }
  if (h > 23 || m > 59)
    return fail (error, _("bad time '%s': hours go from 00 to 23 and minutes from 00 to 59"), text);
  *out_minutes = h * 60 + m;
  return TRUE;
}

static gboolean
parse_range (const char *text, PdRange *out, GError **error)
{
  g_auto (GStrv) ends = g_strsplit (text, "-", 0);
  int start, end;

  if (g_strv_length (ends) != 2)
    return fail (error, _("bad range '%s'; write HH:MM-HH:MM, e.g. 07:00-20:30"), text);
  g_strstrip (ends[0]);
  g_strstrip (ends[1]);
  if (!pd_parse_clock (ends[0], FALSE, &start, error) ||
      !pd_parse_clock (ends[1], TRUE, &end, error))
    return FALSE;
  if (start == end)
    return fail (error, _("range '%s' is empty; for the whole day write 'always'"), text);
  out->start = (guint16) start;
  out->end = (guint16) end;
  return TRUE;
}

gboolean
pd_parse_hours (const char *text, PdHours *out, GError **error)
{
  g_auto (GStrv) parts = NULL;
  PdHours hours = { 0 };

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);

  if (strcmp (text, "always") == 0)
    {
      hours.n_ranges = 1;
      hours.ranges[0] = (PdRange) { 0, PD_MINUTES_PER_DAY };
      *out = hours;
      return TRUE;
    }
  if (strcmp (text, "never") == 0)
    {
      *out = hours;
      return TRUE;
    }

  parts = g_strsplit (text, ",", 0);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        return fail (error, _("empty range in '%s'"), text);
      if (hours.n_ranges == PD_MAX_RANGES)
        return fail (error, _("too many ranges in '%s' (at most %d)"), text, PD_MAX_RANGES);
      if (!parse_range (parts[i], &hours.ranges[hours.n_ranges], error))
        return FALSE;
      hours.n_ranges++;
    }
  if (hours.n_ranges == 0)
    return fail (error, _("no hours given; write ranges such as 07:00-20:30, or 'always' or 'never'"));
  *out = hours;
  return TRUE;
}

static int
day_index (const char *text)
{
  for (int i = 0; i < PD_DAYS; i++)
    if (g_ascii_strcasecmp (text, day_names[i]) == 0)
      return i;
  return -1;
}

gboolean
pd_parse_days (const char *text, guint8 *out_mask, GError **error)
{
  const char *dash;
  int first, last;
  guint8 mask = 0;

  g_return_val_if_fail (text != NULL && out_mask != NULL, FALSE);

  if (g_ascii_strcasecmp (text, "weekdays") == 0)
    return (*out_mask = 0x1f), TRUE;
  if (g_ascii_strcasecmp (text, "weekend") == 0)
    return (*out_mask = 0x60), TRUE;

  dash = strchr (text, '-');
  if (dash == NULL)
    {
      first = last = day_index (text);
    }
  else
    {
      g_autofree char *head = g_strndup (text, (gsize) (dash - text));
      first = day_index (head);
      last = day_index (dash + 1);
    }
  if (first < 0 || last < 0)
    return fail (error, _("bad days '%s'; write mon..sun, a range such as mon-fri, "
                   "'weekdays' or 'weekend'"), text);

  /* A range may wrap around the week: fri-mon is Friday to Monday. */
  for (int d = first;; d = (d + 1) % PD_DAYS)
    {
      mask |= (guint8) (1u << d);
      if (d == last)
        break;
    }
  *out_mask = mask;
  return TRUE;
}

gboolean
pd_parse_duration_list (const char *text, gint64 *out, guint max, guint *out_n, GError **error)
{
  g_auto (GStrv) words = g_strsplit_set (text, " \t,", 0);
  guint n = 0;

  g_return_val_if_fail (out != NULL && out_n != NULL, FALSE);

  for (guint i = 0; words[i] != NULL; i++)
    {
      gint64 value;
      guint at;

      if (words[i][0] == '\0')
        continue;
      if (!pd_parse_duration (words[i], &value, error))
        return FALSE;
      /* Insert sorted, longest first; a repeat adds nothing. */
      for (at = 0; at < n && out[at] > value; at++)
        ;
      if (at < n && out[at] == value)
        continue;
      if (n == max)
        return fail (error, _("too many durations in '%s' (at most %u)"), text, max);
      memmove (&out[at + 1], &out[at], (n - at) * sizeof (*out));
      out[at] = value;
      n++;
    }
  *out_n = n;
  return TRUE;
}

gboolean
pd_parse_bool (const char *text, gboolean *out, GError **error)
{
  static const char *const yes[] = { "yes", "true", "on", "1" };
  static const char *const no[] = { "no", "false", "off", "0" };

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      if (g_ascii_strcasecmp (text, yes[i]) == 0)
        return (*out = TRUE), TRUE;
      if (g_ascii_strcasecmp (text, no[i]) == 0)
        return (*out = FALSE), TRUE;
    }
  return fail (error, _("bad boolean '%s'; write yes or no"), text);
}
