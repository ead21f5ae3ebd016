/* parentctl: the command-line client. This file owns the command line:
 * global options and dispatch to one function per command. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/parentctl.h"

PctlOptions pctl_options;

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *synopsis;
  const char *summary;
} Command;

static int run_check_config (int argc, char **argv);

static const Command commands[] = {
  { "status", pctl_cmd_status, "[USER]", "Time used and left today" },
  { "list", pctl_cmd_list, "", "The children, one a line" },
  { "apps", pctl_cmd_apps, "USER", "Apps with use, limit and state today" },
  { "grant", pctl_cmd_grant, "USER DURATION", "Give extra time today (-15m takes it away)" },
  { "lock", pctl_cmd_lock, "USER DURATION", "Lock a child out now, for that long" },
  { "unlock", pctl_cmd_unlock, "USER", "End a lock-out" },
  { "request", pctl_cmd_request, "DURATION [REASON]", "Ask a parent for more time (children)" },
  { "requests", pctl_cmd_requests, "", "Pending and recent requests" },
  { "purchases", pctl_cmd_purchases, "[USER]", "Purchase attempts (--days N, default 30)" },
  { "approve", pctl_cmd_approve, "ID [DURATION]", "Approve a request (optionally with another amount)" },
  { "deny", pctl_cmd_deny, "ID", "Deny a request" },
  { "reload", pctl_cmd_reload, "", "Make the daemon re-read its configuration" },
  { "check-config", run_check_config, "[FILE]", "Validate the configuration offline" },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: parentctl [OPTIONS] [COMMAND [ARGS...]]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *head = g_strdup_printf ("%s %s", commands[i].name, commands[i].synopsis);
      fprintf (out, "  %-28s %s\n", head, commands[i].summary);
    }
  fprintf (out, "\nWithout a command, parentctl shows the status.\n"
                "\nOptions:\n"
                "  --json              Print one JSON document (read commands)\n"
                "  --no-ask-password   Do not let polkit ask for a password\n"
                "  --no-legend         Print tables without their header\n"
                "  --no-pager          Do not pipe output into a pager\n"
                "  --days N            How many days 'usage' and 'purchases' cover\n"
                "  -h, --help          Show this help\n"
                "  --version           Show the version\n"
                "\ncheck-config takes --at \"YYYY-MM-DD HH:MM\" and --used DURATION to show\n"
                "what the policy says at a moment. See parentctl(1).\n");
}

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

/* Takes the global options out of argv wherever they stand; what is left
 * is the command and its arguments. Single-dash words stay: "-15m" is a
 * duration. check-config parses its own options. */
static gboolean
take_global_options (int *argc, char **argv, gboolean *help, gboolean *version)
{
  int out = 1;
  gboolean check_config = FALSE;

  for (int i = 1; i < *argc; i++)
    {
      const char *arg = argv[i];

      check_config |= out == 1 && strcmp (arg, "check-config") == 0;
      if (strcmp (arg, "--json") == 0)
        pctl_options.json = TRUE;
      else if (strcmp (arg, "--no-ask-password") == 0)
        pctl_options.no_ask_password = TRUE;
      else if (strcmp (arg, "--no-legend") == 0)
        pctl_options.no_legend = TRUE;
      else if (strcmp (arg, "--no-pager") == 0)
        pctl_options.no_pager = TRUE;
      else if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0)
        *help = TRUE;
      else if (strcmp (arg, "--version") == 0)
        *version = TRUE;
      else if (strcmp (arg, "--days") == 0 || g_str_has_prefix (arg, "--days="))
        {
          const char *value = arg[6] == '=' ? arg + 7 : (i + 1 < *argc ? argv[++i] : "");
          guint64 days;

          if (!g_ascii_string_to_unsigned (value, 10, 1, 3650, &days, NULL))
            {
              pctl_usage_error ("--days takes a number of days from 1 to 3650");
              return FALSE;
            }
          pctl_options.days = (guint) days;
        }
      else if (g_str_has_prefix (arg, "--") && !check_config)
        {
          pctl_usage_error ("unknown option '%s'", arg);
          return FALSE;
        }
      else
        argv[out++] = argv[i];
    }
  *argc = out;
  argv[out] = NULL;
  return TRUE;
}

int
main (int argc, char **argv)
{
  gboolean help = FALSE, version = FALSE;

  setlocale (LC_ALL, "");

  if (!take_global_options (&argc, argv, &help, &version))
    return PCTL_EXIT_USAGE;
  if (help)
    {
      print_usage (stdout);
      return PCTL_EXIT_OK;
    }
  if (version)
    {
      printf ("parentctl %s\n", PACKAGE_VERSION);
      return PCTL_EXIT_OK;
    }
  if (argc < 2)
    return pctl_cmd_status (1, (char *[]) { (char *) "status", NULL });

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  return pctl_usage_error ("unknown command '%s'", argv[1]);
}
