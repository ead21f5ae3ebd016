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
  const char *synopsis;   /* the command line's own words: not translated */
  const char *summary;    /* N_() */
  const char *help;       /* N_() what 'parentctl COMMAND --help' adds */
} Command;

static int run_check_config (int argc, char **argv);

static const Command commands[] = {
  { "status", pctl_cmd_status, "[USER]", N_("Time used and left today"),
    N_("A parent sees a table of every child, or of USER only; a child sees a\n"
       "sentence about itself. USER is a login name or a uid.\n"
       "Options: --json, --no-legend, --no-pager.") },
  { "list", pctl_cmd_list, "", N_("The children, one a line"),
    N_("Options: --json, --no-pager.") },
  { "apps", pctl_cmd_apps, "USER", N_("Apps with use, limit and state today"),
    N_("Options: --json, --no-legend, --no-pager.") },
  { "usage", pctl_cmd_usage, "[USER] [--days N]", N_("Daily screen time, as a chart, and the time per app"),
    N_("One bar a day, oldest first, for the last N days (default 7), then the\n"
       "time in each app over those days. Without USER, a child sees itself.\n"
       "Options: --days N, --json, --no-legend, --no-pager.") },
  { "grant", pctl_cmd_grant, "USER DURATION", N_("Give extra time today (-15m takes it away)"),
    N_("DURATION is written as in the configuration: 45s, 30m, 1h30m, 2h; at most 24h.\n"
       "Options: --no-ask-password.") },
  { "lock", pctl_cmd_lock, "USER DURATION", N_("Lock a child out now, for that long"),
    N_("DURATION is written as in the configuration: 45s, 30m, 1h30m, 2h; at most 24h.\n"
       "Options: --no-ask-password.") },
  { "unlock", pctl_cmd_unlock, "USER", N_("End a lock-out"),
    N_("Options: --no-ask-password.") },
  { "request", pctl_cmd_request, "DURATION [REASON]", N_("Ask a parent for more time (children)"),
    N_("DURATION is written as in the configuration: 15m, 1h; the words after it\n"
       "are the reason, at most 200 characters.") },
  { "requests", pctl_cmd_requests, "", N_("Pending and recent requests"),
    N_("Options: --json, --no-legend, --no-pager.") },
  { "purchases", pctl_cmd_purchases, "[USER] [--days N]", N_("Purchase attempts (--days N, default 30)"),
    N_("Options: --days N, --json, --no-legend, --no-pager.") },
  { "approve", pctl_cmd_approve, "ID [DURATION]", N_("Approve a request (optionally with another amount)"),
    N_("ID is a number from 'parentctl requests'. For a time request, DURATION\n"
       "grants that much instead of the time asked for.\n"
       "Options: --no-ask-password.") },
  { "deny", pctl_cmd_deny, "ID", N_("Deny a request"),
    N_("ID is a number from 'parentctl requests'.\n"
       "Options: --no-ask-password.") },
  { "reload", pctl_cmd_reload, "", N_("Make the daemon re-read its configuration"),
    N_("Options: --no-ask-password.") },
  { "check-config", run_check_config, "[FILE]",
    N_("Validate the configuration offline"),
    N_("Without FILE, checks the installed configuration with its drop-ins; no\n"
       "daemon is needed. --at \"YYYY-MM-DD HH:MM\" also shows what the policy\n"
       "says at that local time, with --used DURATION of screen time used that day.") },
};

/* The command being run, for the hint after a usage error. */
static const Command *current;

static void
print_usage (FILE *out)
{
  fprintf (out, _("Usage: parentctl [OPTIONS] [COMMAND [ARGS...]]\n\nCommands:\n"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *head = g_strdup_printf ("%s %s", commands[i].name, commands[i].synopsis);
      fprintf (out, "  %-28s %s\n", head, _(commands[i].summary));
    }
  fprintf (out, _("\nWithout a command, parentctl shows the status.\n"
                  "\nOptions:\n"
                  "  --json              Print one JSON document (read commands)\n"
                  "  --no-ask-password   Do not let polkit ask for a password\n"
                  "  --no-legend         Print tables and charts without their header and legend\n"
                  "  --no-pager          Do not pipe output into a pager\n"
                  "  --days N            How many days 'usage' and 'purchases' cover\n"
                  "  -h, --help          Show this help (with a command: that command's help)\n"
                  "  --version           Show the version\n"
                  "\n'parentctl COMMAND --help' says more about a command. See parentctl(1).\n"));
}

static void
print_command_usage (const Command *command)
{
  printf (_("Usage: parentctl %s %s\n"), command->name, command->synopsis);
  /* TRANSLATORS: a command's summary ("End a lock-out") made a sentence,
   * at the top of 'parentctl COMMAND --help' */
  printf (C_("summary", "\n%s.\n"), _(command->summary));
  printf ("\n%s\n", _(command->help));
  printf (_("See 'parentctl --help' for the options of every command, and parentctl(1).\n"));
}

int
pctl_usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "parentctl: %s\n", message);
  if (current != NULL)
    fprintf (stderr, _("Try 'parentctl %s --help'.\n"), current->name);
  else
    fprintf (stderr, _("Try 'parentctl --help'.\n"));
  return PCTL_EXIT_USAGE;
}

static int
run_check_config (int argc, char **argv)
{
  g_autofree char *at = NULL;
  g_autofree char *used = NULL;
  const GOptionEntry entries[] = {
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, N_("Show the policy at this local time"), "\"YYYY-MM-DD HH:MM\"" },
    { "used", 0, 0, G_OPTION_ARG_STRING, &used, N_("Screen time used that day (with --at)"), "DURATION" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[FILE]");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Validate the configuration offline."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return pctl_usage_error ("%s", error->message);
  if (argc > 2)
    return pctl_usage_error (_("check-config takes at most one FILE"));
  if (used != NULL && at == NULL)
    return pctl_usage_error (_("--used goes with --at"));
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

          if (value[0] == '\0')
            {
              pctl_usage_error (_("--days needs a number of days, e.g. --days 14"));
              return FALSE;
            }
          if (!g_ascii_string_to_unsigned (value, 10, 1, 3650, &days, NULL))
            {
              pctl_usage_error (_("--days takes a number of days from 1 to 3650, not '%s'"), value);
              return FALSE;
            }
          pctl_options.days = (guint) days;
        }
      else if (g_str_has_prefix (arg, "--") && !check_config)
        {
          pctl_usage_error (_("unknown option '%s'"), arg);
          return FALSE;
        }
      else
        argv[out++] = argv[i];
    }
  *argc = out;
  argv[out] = NULL;
  return TRUE;
}

static const Command *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (name, commands[i].name) == 0)
      return &commands[i];
  return NULL;
}

int
main (int argc, char **argv)
{
  gboolean help = FALSE, version = FALSE;
  const Command *command;
  int status;

  setlocale (LC_ALL, "");
#ifdef ENABLE_NLS
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
#endif
  pctl_terminal_init ();

  if (!take_global_options (&argc, argv, &help, &version))
    return PCTL_EXIT_USAGE;
  command = argc >= 2 ? find_command (argv[1]) : find_command ("status");
  if (command == NULL)
    return pctl_usage_error (_("unknown command '%s'"), argv[1]);
  if (help && argc >= 2)
    {
      print_command_usage (command);
      return PCTL_EXIT_OK;
    }
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

  current = command;
  if (argc < 2)
    status = command->run (1, (char *[]) { (char *) "status", NULL });
  else
    status = command->run (argc - 1, argv + 1);
  pctl_pager_close ();
  return status;
}
