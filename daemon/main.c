/* parentd's entry point: options, and the configuration check. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy/loader.h"

typedef struct {
  char *config_file;    /* (owned) */
  char *config_dir;     /* (owned) */
  char *rules_dir;      /* (owned) */
  char *state_dir;      /* (owned) */
  gboolean session_bus;
  gboolean replace;
  gboolean check_config;
  gboolean verbose;
  gboolean version;
} Options;

static void
options_clear (Options *options)
{
  g_free (options->config_file);
  g_free (options->config_dir);
  g_free (options->rules_dir);
  g_free (options->state_dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static gboolean
parse_options (int *argc, char ***argv, Options *options, GError **error)
{
  const GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &options->config_file,
      "Main configuration file (default: CONFIG_DIR/parentd.conf)", "FILE" },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->config_dir,
      "Configuration directory with parentd.conf.d/ and rules.d/ (default: " PD_SYSCONFDIR ")", "DIR" },
    { "rules-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->rules_dir,
      "Shipped rule sets (default: " PD_RULESDIR ")", "DIR" },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->state_dir,
      "State directory (default: " PD_STATEDIR ")", "DIR" },
    { "session", 0, 0, G_OPTION_ARG_NONE, &options->session_bus,
      "Serve the session bus instead of the system bus (development)", NULL },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &options->replace,
      "Replace a running instance", NULL },
    { "check-config", 0, 0, G_OPTION_ARG_NONE, &options->check_config,
      "Validate the configuration and exit", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose, "Log debug messages", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version, "Print the version and exit", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context, "The parental-control daemon.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "unexpected argument '%s'", (*argv)[1]);
      return FALSE;
    }
  if (options->config_dir == NULL)
    options->config_dir = g_strdup (PD_SYSCONFDIR);
  if (options->config_file == NULL)
    options->config_file = g_build_filename (options->config_dir, "parentd.conf", NULL);
  if (options->rules_dir == NULL)
    options->rules_dir = g_strdup (PD_RULESDIR);
  if (options->state_dir == NULL)
    options->state_dir = g_strdup (PD_STATEDIR);
  return TRUE;
}

/* Errors go to stderr as FILE:LINE: message, one a line; success is one
 * summary line on stdout. */
static int
check_config (const Options *options)
{
  g_autofree char *dropins = g_build_filename (options->config_dir, "parentd.conf.d", NULL);
  g_autofree char *admin_rules = g_build_filename (options->config_dir, "rules.d", NULL);
  PdLoadPaths paths = {
    .config_file = options->config_file,
    .dropin_dir = dropins,
    .rules_dir = options->rules_dir,
    .admin_rules_dir = admin_rules,
  };
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = pd_config_load (&paths, &errors);
  g_autofree char *summary = NULL;

  if (config == NULL)
    {
      g_autofree char *report = pd_format_errors ((const char *const *) errors);
      fputs (report, stderr);
      return EXIT_FAILURE;
    }
  summary = pd_config_summary (config);
  printf ("configuration OK: %s\n", summary);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");

  if (!parse_options (&argc, &argv, &options, &error))
    {
      fprintf (stderr, "parentd: %s\nTry 'parentd --help'.\n", error->message);
      return 2;
    }
  if (options.version)
    {
      printf ("parentd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (options.check_config)
    return check_config (&options);

  fprintf (stderr, "parentd: only --check-config works in this version\n");
  return EXIT_FAILURE;
}
