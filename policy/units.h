/* The value syntax of the configuration language: durations, clock times,
 * ranges of hours and sets of weekdays. Pure parsing and formatting. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PD_UNLIMITED ((gint64) -1)
#define PD_MAX_DURATION ((gint64) 24 * 3600)
#define PD_MINUTES_PER_DAY 1440
#define PD_MAX_RANGES 8

/* Weekday indices as used everywhere in parentd: 0 = Monday ... 6 = Sunday. */
#define PD_DAYS 7

/* A span of local clock time, in minutes after midnight. end may be 1440
 * ("24:00"). When end < start the span runs past midnight into the next
 * calendar day. start == end is never stored. */
typedef struct {
  guint16 start;
  guint16 end;
} PdRange;

/* Allowed hours for one weekday. "always" is the single range 00:00-24:00;
 * "never" is no range at all. */
typedef struct {
  guint8 n_ranges;
  PdRange ranges[PD_MAX_RANGES];
} PdHours;

/* "0", "45s", "30m", "1h30m", "2h"; at most 24h. */
gboolean pd_parse_duration (const char *text, gint64 *out_seconds, GError **error);
/* The same, with an optional leading '-' or '+', for grants ("-15m"). */
gboolean pd_parse_signed_duration (const char *text, gint64 *out_seconds, GError **error);
/* A duration or "unlimited" (PD_UNLIMITED). */
gboolean pd_parse_limit (const char *text, gint64 *out_seconds, GError **error);
/* Formats seconds the way they are written in the configuration: "1h30m",
 * "45s", "0"; negative values get a '-'. */
char *pd_format_duration (gint64 seconds);

/* "HH:MM", 00:00 to 23:59; with allow_24, also "24:00". */
gboolean pd_parse_clock (const char *text, gboolean allow_24, int *out_minutes, GError **error);
/* "HH:MM-HH:MM, ...", "always" or "never". */
gboolean pd_parse_hours (const char *text, PdHours *out, GError **error);
/* A single day (mon..sun), a range (mon-fri, fri-mon), "weekdays" or
 * "weekend". Bit 0 is Monday. */
gboolean pd_parse_days (const char *text, guint8 *out_mask, GError **error);

/* A space- or comma-separated list of durations, sorted longest first,
 * duplicates dropped. */
gboolean pd_parse_duration_list (const char *text, gint64 *out, guint max, guint *out_n, GError **error);

/* A boolean in the usual spellings: yes/no, true/false, on/off, 1/0. */
gboolean pd_parse_bool (const char *text, gboolean *out, GError **error);

G_END_DECLS
