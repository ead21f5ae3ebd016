/* parentd's entry point: options, the main loop, the bus name, signals
 * and systemd's notifications. Everything else is wired here and lives in
 * its own file. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "daemon/auth.h"
#include "daemon/bus.h"
#include "daemon/engine.h"
#include "daemon/log.h"
#include "policy/loader.h"

#define BUS_NAME "org.parentd1"
#define PD_NICE (-10)

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

typedef struct {
  GMainLoop *loop;          /* (owned) */
  PdEngine *engine;         /* (owned) */
  PdBus *bus;               /* (owned) */
  char *status;             /* (owned) last STATUS= sent */
  guint watchdog;           /* the next watchdog ping */
  guint watchdog_seconds;   /* 0: no watchdog */
  int exit_code;
} Daemon;

static void
notify_status (Daemon *daemon)
{
  g_autofree char *status = pd_engine_status_line (daemon->engine);

  if (g_strcmp0 (status, daemon->status) == 0)
    return;
  sd_notifyf (0, "STATUS=%s", status);
  g_free (daemon->status);
  daemon->status = g_steal_pointer (&status);
}

static void
on_child_changed (uid_t uid, gpointer data)
{
  Daemon *daemon = data;

  if (daemon->bus != NULL)
    pd_bus_child_changed (daemon->bus, uid);
  notify_status (daemon);
}

static void
on_child_signal (uid_t uid, const char *name, GVariant *parameters, gpointer data)
{
  Daemon *daemon = data;

  if (daemon->bus != NULL)
    pd_bus_child_signal (daemon->bus, uid, name, parameters);
}

static void
on_requests_changed (gpointer data)
{
  Daemon *daemon = data;

  if (daemon->bus != NULL)
    pd_bus_requests_changed (daemon->bus);
}

static void
on_config_changed (gpointer data)
{
  Daemon *daemon = data;

  if (daemon->bus != NULL)
    pd_bus_config_changed (daemon->bus);
  notify_status (daemon);
}

static gboolean
on_terminate (gpointer data)
{
  Daemon *daemon = data;

  g_message ("Stopping: saving state");
  sd_notify (0, "STOPPING=1");
  pd_engine_save (daemon->engine);
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_reload (gpointer data)
{
  Daemon *daemon = data;
  g_autoptr (GError) error = NULL;

  sd_notify (0, "RELOADING=1");
  /* A broken file was logged loudly by the engine; the old one stays. */
  pd_engine_reload (daemon->engine, &error);
  sd_notify (0, "READY=1");
  return G_SOURCE_CONTINUE;
}

static gboolean on_watchdog (gpointer data);

/* Pings systemd and pushes the next ping a full interval away: while the
 * engine checkpoints (every 15 s when anyone counts) the pings ride on its
 * wakeups, and the watchdog timer itself never fires. */
static void
ping_watchdog (Daemon *daemon)
{
  if (daemon->watchdog_seconds == 0)
    return;
  sd_notify (0, "WATCHDOG=1");
  g_clear_handle_id (&daemon->watchdog, g_source_remove);
  daemon->watchdog = g_timeout_add_seconds (daemon->watchdog_seconds, on_watchdog, daemon);
}

static gboolean
on_watchdog (gpointer data)
{
  Daemon *daemon = data;

  daemon->watchdog = 0;
  ping_watchdog (daemon);
  return G_SOURCE_REMOVE;
}

static void
on_checkpoint (gpointer data)
{
  ping_watchdog (data);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer data)
{
  Daemon *daemon = data;

  pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_STARTED, "MESSAGE", "parentd %s ready on %s",
            PACKAGE_VERSION, name);
  sd_notify (0, "READY=1");
  notify_status (daemon);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer data)
{
  Daemon *daemon = data;

  g_warning ("Lost the bus name %s (another instance took it, or the bus went away); "
             "stopping", name);
  daemon->exit_code = EXIT_FAILURE;
  pd_engine_save (daemon->engine);
  g_main_loop_quit (daemon->loop);
}

static int
run (const Options *options)
{
  Daemon daemon = { .exit_code = EXIT_SUCCESS };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (PdAuth) auth = NULL;
  PdEngineOptions engine_options = {
    .config_file = options->config_file,
    .config_dir = options->config_dir,
    .rules_dir = options->rules_dir,
    .state_dir = options->state_dir,
  };
  PdEngineEvents events = {
    .child_changed = on_child_changed,
    .child_signal = on_child_signal,
    .requests_changed = on_requests_changed,
    .config_changed = on_config_changed,
    .checkpoint = on_checkpoint,
    .user_data = &daemon,
  };
  guint64 watchdog_usec = 0;
  guint name_id;

  connection = g_bus_get_sync (options->session_bus ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM,
                               NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("parentd: cannot connect to the %s bus: %s\n",
                  options->session_bus ? "session" : "system", error->message);
      return EXIT_FAILURE;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  engine_options.bus = connection;
  daemon.engine = pd_engine_new (&engine_options, &error);
  if (daemon.engine == NULL)
    {
      g_printerr ("parentd: %s\n", error->message);
      return EXIT_FAILURE;
    }
  pd_engine_set_events (daemon.engine, &events);

  auth = pd_auth_new (connection);
  daemon.bus = pd_bus_new (connection, daemon.engine, auth, &error);
  if (daemon.bus == NULL)
    {
      g_printerr ("parentd: cannot export the D-Bus objects: %s\n", error->message);
      pd_engine_free (daemon.engine);
      return EXIT_FAILURE;
    }

  daemon.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_terminate, &daemon);
  g_unix_signal_add (SIGINT, on_terminate, &daemon);
  g_unix_signal_add (SIGHUP, on_reload, &daemon);
  /* Two thirds of the watchdog interval: more often than systemd needs,
   * less often than the checkpoint, which then carries the pings. */
  if (sd_watchdog_enabled (0, &watchdog_usec) > 0 && watchdog_usec > 0)
    {
      daemon.watchdog_seconds = (guint) MAX (watchdog_usec * 2 / 3 / G_USEC_PER_SEC, 1);
      ping_watchdog (&daemon);
    }

  name_id = g_bus_own_name_on_connection (connection, BUS_NAME,
                                          G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                          (options->replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0),
                                          on_name_acquired, on_name_lost, &daemon, NULL);
  g_main_loop_run (daemon.loop);

  g_bus_unown_name (name_id);
  g_clear_handle_id (&daemon.watchdog, g_source_remove);
  g_clear_pointer (&daemon.bus, pd_bus_free);
  g_clear_pointer (&daemon.engine, pd_engine_free);
  g_main_loop_unref (daemon.loop);
  g_free (daemon.status);
  return daemon.exit_code;
}

int
main (int argc, char **argv)
{
  g_auto (Options) options = { 0 };
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
#ifdef ENABLE_NLS
  /* For the errors callers get over the bus, in the daemon's locale. The
   * journal's lines stay in English. */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif

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
  if (options.verbose)
    g_log_set_debug_enabled (TRUE);
  /* A purchase must be frozen before the child's process acts, within
   * milliseconds, on a busy machine too: parentd goes ahead of ordinary
   * processes for the CPU. The unit sets Nice= itself; by hand as root this
   * does it; otherwise it stays as it is. */
  if (setpriority (PRIO_PROCESS, 0, PD_NICE) < 0)
    g_debug ("Cannot raise the priority to nice %d: %s", PD_NICE, g_strerror (errno));
  return run (&options);
}
