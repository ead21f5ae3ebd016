/* parentctl: the command-line client. This file owns the command line:
 * global options and dispatch to one function per command. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/parentctl.h"

static const char usage_text[] =
  "Usage: parentctl [OPTIONS] COMMAND [ARGS...]\n"
  "\n"
  "Commands:\n"
  "  check-config [FILE]     Validate the configuration offline (no daemon needed)\n"
  "      --at \"YYYY-MM-DD HH:MM\"  also show what the policy says at that moment\n"
  "      --used DURATION          screen time already used that day (with --at)\n"
  "\n"
  "Options:\n"
  "  -h, --help              Show this help\n"
  "      --version           Show the version\n";

int
pctl_usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "parentctl: %s\nTry 'parentctl --help'.\n", message);
  return PCTL_EXIT_USAGE;
}

char *
pctl_format_duration_words (gint64 seconds)
{
  gint64 s = seconds < 0 ? -seconds : seconds;
  const char *sign = seconds < 0 ? "-" : "";

  if (s >= 3600)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT " h %02" G_GINT64_FORMAT " min", sign, s / 3600,
                            (s % 3600) / 60);
  if (s >= 60)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT " min", sign, s / 60);
  return g_strdup_printf ("%s%" G_GINT64_FORMAT " s", sign, s);
}

static int
run_check_config (int argc, char **argv)
{
  g_autofree char *at = NULL;
  g_autofree char *used = NULL;
  const GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "Show the policy at this local time", "\"YYYY-MM-DD HH:MM\"" },
    { "used", 0, 0, G_OPTION_ARG_STRING, &used, "Screen time used that day (with --at)", "DURATION" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[FILE]");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_summary (context, "Validate the configuration offline.");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return pctl_usage_error ("%s", error->message);
  if (argc > 2)
    return pctl_usage_error ("check-config takes at most one FILE");
  if (used != NULL && at == NULL)
    return pctl_usage_error ("--used goes with --at");
  return pctl_check_config (argc == 2 ? argv[1] : NULL, at, used);
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2 || strcmp (argv[1], "-h") == 0 || strcmp (argv[1], "--help") == 0)
    {
      fputs (usage_text, argc < 2 ? stderr : stdout);
      return argc < 2 ? PCTL_EXIT_USAGE : PCTL_EXIT_OK;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("parentctl %s\n", PACKAGE_VERSION);
      return PCTL_EXIT_OK;
    }
  if (strcmp (argv[1], "check-config") == 0)
    return run_check_config (argc - 1, argv + 1);
  return pctl_usage_error ("unknown command '%s'", argv[1]);
}
