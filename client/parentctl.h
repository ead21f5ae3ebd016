/* Shared by parentctl's command files. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Exit statuses, as the contract fixes them. */
#define PCTL_EXIT_OK 0
#define PCTL_EXIT_FAILURE 1
#define PCTL_EXIT_USAGE 2

/* Prints "parentctl: MESSAGE" and a hint to stderr; returns PCTL_EXIT_USAGE. */
int pctl_usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* "1 h 05 min", "25 min", "40 s": durations the way people read them. */
char *pctl_format_duration_words (gint64 seconds);

int pctl_check_config (const char *file, const char *at, const char *used);

G_END_DECLS
