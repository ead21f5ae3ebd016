/* Unit tests for the value syntax (policy/units.c) and "did you mean". */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "policy/error.h"
#include "policy/suggest.h"
#include "policy/units.h"

typedef struct {
  const char *text;
  gboolean ok;
  gint64 seconds;
} DurationCase;

static const DurationCase duration_cases[] = {
  { "0", TRUE, 0 },
  { "45s", TRUE, 45 },
  { "30m", TRUE, 1800 },
  { "1h30m", TRUE, 5400 },
  { "2h", TRUE, 7200 },
  { "1h0m5s", TRUE, 3605 },
  { "24h", TRUE, 86400 },
  { "1h30m15s", TRUE, 5415 },
  { "25h", FALSE, 0 },
  { "23h61m", FALSE, 0 },   /* 24h01m: longer than a day */
  { "", FALSE, 0 },
  { "45", FALSE, 0 },
  { "m", FALSE, 0 },
  { "30m1h", FALSE, 0 },
  { "1h1h", FALSE, 0 },
  { "1d", FALSE, 0 },
  { "-5m", FALSE, 0 },
  { " 5m", FALSE, 0 },
  { "1.5h", FALSE, 0 },
  { "9999999h", FALSE, 0 },
};

static void
test_duration (gconstpointer data)
{
  const DurationCase *c = data;
  g_autoptr (GError) error = NULL;
  gint64 seconds = -42;
  gboolean ok = pd_parse_duration (c->text, &seconds, &error);

  g_assert_cmpint (ok, ==, c->ok);
  if (c->ok)
    {
      g_assert_no_error (error);
      g_assert_cmpint (seconds, ==, c->seconds);
    }
  else
    {
      g_assert_error (error, PD_ERROR, PD_ERROR_INVALID_CONFIG);
      g_assert_cmpint (seconds, ==, -42);
    }
}

static void
test_signed_duration (void)
{
  gint64 s;

  g_assert_true (pd_parse_signed_duration ("-15m", &s, NULL));
  g_assert_cmpint (s, ==, -900);
  g_assert_true (pd_parse_signed_duration ("+1h", &s, NULL));
  g_assert_cmpint (s, ==, 3600);
  g_assert_true (pd_parse_signed_duration ("45s", &s, NULL));
  g_assert_cmpint (s, ==, 45);
  g_assert_false (pd_parse_signed_duration ("--5m", &s, NULL));
  g_assert_false (pd_parse_signed_duration ("-", &s, NULL));
}

static void
test_limit (void)
{
  gint64 s;
  g_autoptr (GError) error = NULL;

  g_assert_true (pd_parse_limit ("unlimited", &s, NULL));
  g_assert_cmpint (s, ==, PD_UNLIMITED);
  g_assert_true (pd_parse_limit ("1h", &s, NULL));
  g_assert_cmpint (s, ==, 3600);
  g_assert_false (pd_parse_limit ("forever", &s, &error));
  g_assert_nonnull (strstr (error->message, "'unlimited'"));
}

static void
test_format_duration (void)
{
  static const struct { gint64 s; const char *text; } cases[] = {
    { 0, "0" }, { 45, "45s" }, { 1800, "30m" }, { 5400, "1h30m" }, { 7200, "2h" },
    { 3605, "1h5s" }, { -900, "-15m" }, { 86400, "24h" }, { 90061, "25h1m1s" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = pd_format_duration (cases[i].s);
      gint64 back;

      g_assert_cmpstr (text, ==, cases[i].text);
      /* What we print, we read back. */
      if (cases[i].s >= 0 && cases[i].s <= PD_MAX_DURATION)
        {
          g_assert_true (pd_parse_duration (text, &back, NULL));
          g_assert_cmpint (back, ==, cases[i].s);
        }
    }
}

static void
test_clock (void)
{
  int m;

  g_assert_true (pd_parse_clock ("00:00", FALSE, &m, NULL));
  g_assert_cmpint (m, ==, 0);
  g_assert_true (pd_parse_clock ("07:30", FALSE, &m, NULL));
  g_assert_cmpint (m, ==, 450);
  g_assert_true (pd_parse_clock ("23:59", FALSE, &m, NULL));
  g_assert_cmpint (m, ==, 1439);
  g_assert_false (pd_parse_clock ("24:00", FALSE, &m, NULL));
  g_assert_true (pd_parse_clock ("24:00", TRUE, &m, NULL));
  g_assert_cmpint (m, ==, 1440);
  g_assert_false (pd_parse_clock ("24:01", TRUE, &m, NULL));
  g_assert_false (pd_parse_clock ("7:30", FALSE, &m, NULL));
  g_assert_false (pd_parse_clock ("07:60", FALSE, &m, NULL));
  g_assert_false (pd_parse_clock ("25:00", FALSE, &m, NULL));
  g_assert_false (pd_parse_clock ("07.30", FALSE, &m, NULL));
  g_assert_false (pd_parse_clock ("", FALSE, &m, NULL));
}

static void
test_hours (void)
{
  PdHours h;
  g_autoptr (GError) error = NULL;

  g_assert_true (pd_parse_hours ("always", &h, NULL));
  g_assert_cmpint (h.n_ranges, ==, 1);
  g_assert_cmpint (h.ranges[0].start, ==, 0);
  g_assert_cmpint (h.ranges[0].end, ==, 1440);

  g_assert_true (pd_parse_hours ("never", &h, NULL));
  g_assert_cmpint (h.n_ranges, ==, 0);

  g_assert_true (pd_parse_hours ("08:00-12:00, 14:00-22:00", &h, NULL));
  g_assert_cmpint (h.n_ranges, ==, 2);
  g_assert_cmpint (h.ranges[1].start, ==, 14 * 60);
  g_assert_cmpint (h.ranges[1].end, ==, 22 * 60);

  /* Past midnight: the end is before the start. */
  g_assert_true (pd_parse_hours ("21:00-01:00", &h, NULL));
  g_assert_cmpint (h.ranges[0].start, ==, 21 * 60);
  g_assert_cmpint (h.ranges[0].end, ==, 60);

  g_assert_true (pd_parse_hours ("20:00-24:00", &h, NULL));
  g_assert_cmpint (h.ranges[0].end, ==, 1440);

  g_assert_false (pd_parse_hours ("10:00-10:00", &h, &error));
  g_assert_nonnull (strstr (error->message, "always"));
  g_clear_error (&error);
  g_assert_false (pd_parse_hours ("", &h, NULL));
  g_assert_false (pd_parse_hours ("08:00", &h, NULL));
  g_assert_false (pd_parse_hours ("08:00-", &h, NULL));
  g_assert_false (pd_parse_hours ("08:00-12:00,", &h, NULL));
  g_assert_false (pd_parse_hours ("sometimes", &h, NULL));
  g_assert_false (pd_parse_hours ("00:00-01:00,01:00-02:00,02:00-03:00,03:00-04:00,"
                                  "04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00,08:00-09:00",
                                  &h, NULL));
}

typedef struct {
  const char *text;
  gboolean ok;
  guint8 mask;
} DaysCase;

static const DaysCase days_cases[] = {
  { "mon", TRUE, 0x01 },
  { "sun", TRUE, 0x40 },
  { "Sat", TRUE, 0x20 },
  { "mon-fri", TRUE, 0x1f },
  { "sat-sun", TRUE, 0x60 },
  { "fri-mon", TRUE, 0x71 },   /* wraps around the week */
  { "weekdays", TRUE, 0x1f },
  { "weekend", TRUE, 0x60 },
  { "wed-wed", TRUE, 0x04 },
  { "monday", FALSE, 0 },
  { "mon-", FALSE, 0 },
  { "", FALSE, 0 },
  { "mon,tue", FALSE, 0 },
  { "holidays", FALSE, 0 },
};

static void
test_days (gconstpointer data)
{
  const DaysCase *c = data;
  guint8 mask = 0xff;

  g_assert_cmpint (pd_parse_days (c->text, &mask, NULL), ==, c->ok);
  if (c->ok)
    g_assert_cmphex (mask, ==, c->mask);
}

static void
test_duration_list (void)
{
  gint64 values[4];
  guint n;

  g_assert_true (pd_parse_duration_list ("1m 15m 5m", values, 4, &n, NULL));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (values[0], ==, 900);
  g_assert_cmpint (values[1], ==, 300);
  g_assert_cmpint (values[2], ==, 60);

  g_assert_true (pd_parse_duration_list ("5m, 5m,1m", values, 4, &n, NULL));
  g_assert_cmpuint (n, ==, 2);

  g_assert_false (pd_parse_duration_list ("1m 2m 3m 4m 5m", values, 4, &n, NULL));
  g_assert_false (pd_parse_duration_list ("1m soon", values, 4, &n, NULL));
}

static void
test_bool (void)
{
  gboolean b;

  g_assert_true (pd_parse_bool ("yes", &b, NULL) && b);
  g_assert_true (pd_parse_bool ("On", &b, NULL) && b);
  g_assert_true (pd_parse_bool ("1", &b, NULL) && b);
  g_assert_true (pd_parse_bool ("no", &b, NULL) && !b);
  g_assert_true (pd_parse_bool ("false", &b, NULL) && !b);
  g_assert_false (pd_parse_bool ("maybe", &b, NULL));
}

static void
test_suggest (void)
{
  static const char *const keys[] = { "daily_limit", "allowed_hours", "app_limit", "on_limit", NULL };
  static const char *const values[] = { "lock", "logout", "close-apps", NULL };

  g_assert_cmpstr (pd_suggest ("daily_limt", keys), ==, "daily_limit");
  g_assert_cmpstr (pd_suggest ("alowed_hours", keys), ==, "allowed_hours");
  g_assert_cmpstr (pd_suggest ("DAILY_LIMIT", keys), ==, "daily_limit");
  g_assert_cmpstr (pd_suggest ("lokc", values), ==, "lock");
  g_assert_cmpstr (pd_suggest ("close_apps", values), ==, "close-apps");
  g_assert_null (pd_suggest ("xyz", values));
  g_assert_null (pd_suggest ("bedtime", keys));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (duration_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/units/duration/%u-%s", i,
                                               duration_cases[i].text[0] ? duration_cases[i].text : "empty");
      g_test_add_data_func (path, &duration_cases[i], test_duration);
    }
  for (guint i = 0; i < G_N_ELEMENTS (days_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/units/days/%u-%s", i,
                                               days_cases[i].text[0] ? days_cases[i].text : "empty");
      g_test_add_data_func (path, &days_cases[i], test_days);
    }
  g_test_add_func ("/units/signed-duration", test_signed_duration);
  g_test_add_func ("/units/limit", test_limit);
  g_test_add_func ("/units/format-duration", test_format_duration);
  g_test_add_func ("/units/clock", test_clock);
  g_test_add_func ("/units/hours", test_hours);
  g_test_add_func ("/units/duration-list", test_duration_list);
  g_test_add_func ("/units/bool", test_bool);
  g_test_add_func ("/units/suggest", test_suggest);
  return g_test_run ();
}
