/* The latency client and reference services of bench/bench-daemon: times
 * synchronous calls from one sd-bus connection, alternating in blocks between
 * the bus's own GetId (the floor), a trivial sd-bus service and a trivial
 * GDBus service (what any service costs, in each library's threading model)
 * and a parentd property, so that all see the same load. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <systemd/sd-bus.h>

#define REFERENCE_PATH "/org/parentd1/bench"
#define REFERENCE_IFACE "org.parentd1.bench.Reference"

enum { TARGET_GETID, TARGET_SDBUS, TARGET_GDBUS, TARGET_PARENTD, N_TARGETS };

static const char *const target_names[N_TARGETS] = { "getid", "sdbus", "gdbus", "parentd" };

typedef struct {
  sd_bus *bus;                  /* (unowned) */
  const char *reference[N_TARGETS];  /* well-known names of the reference services, or NULL */
  const char *child_path;       /* parentd object of the child */
  guint64 used_today;           /* the last value parentd answered */
} Client;

/* --- the reference services ------------------------------------------------ */

static const char reference_xml[] =
  "<node><interface name='" REFERENCE_IFACE "'>"
  "<property name='UsedToday' type='t' access='read'/>"
  "</interface></node>";

/* Properties come to method_call, as in parentd (get_property is NULL
 * there), so both take the same path through GDBus; this one answers at
 * once, without authorization or engine. */
static void
reference_method_call (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *method, GVariant *parameters,
                       GDBusMethodInvocation *invocation, gpointer user_data)
{
  if (g_str_equal (method, "Get"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(v)", g_variant_new_uint64 (42)));
  else
    g_dbus_method_invocation_return_dbus_error (invocation,
                                                "org.freedesktop.DBus.Error.NotSupported",
                                                "Only Get is supported");
}

static const GDBusInterfaceVTable reference_vtable = { reference_method_call, NULL, NULL, { 0 } };

static gboolean
on_quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer loop)
{
  g_printerr ("bench-query: lost or could not own %s\n", name);
  g_main_loop_quit (loop);
}

static int
serve_gdbus (const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GDBusNodeInfo) info = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint owner_id;

  connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  info = g_dbus_node_info_new_for_xml (reference_xml, &error);
  if (connection == NULL || info == NULL ||
      g_dbus_connection_register_object (connection, REFERENCE_PATH, info->interfaces[0],
                                         &reference_vtable, NULL, NULL, &error) == 0)
    {
      g_printerr ("bench-query: cannot serve %s: %s\n", name, error->message);
      return EXIT_FAILURE;
    }
  g_unix_signal_add (SIGTERM, on_quit, loop);
  g_unix_signal_add (SIGINT, on_quit, loop);
  /* The name is taken after the object exists: owning it means ready. */
  owner_id = g_bus_own_name_on_connection (connection, name, G_BUS_NAME_OWNER_FLAGS_NONE, NULL,
                                           on_name_lost, loop, NULL);
  g_main_loop_run (loop);
  g_bus_unown_name (owner_id);
  return EXIT_SUCCESS;
}

static int
sdbus_get_used (sd_bus *bus, const char *path, const char *interface, const char *property,
                sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  return sd_bus_message_append (reply, "t", (uint64_t) 42);
}

static const sd_bus_vtable sdbus_vtable[] = {
  SD_BUS_VTABLE_START (0),
  SD_BUS_PROPERTY ("UsedToday", "t", sdbus_get_used, 0, 0),
  SD_BUS_VTABLE_END
};

/* One thread, answering in the thread that reads: the least any service
 * can cost. Ends on SIGTERM's default action. */
static int
serve_sdbus (const char *name)
{
  sd_bus *bus = NULL;
  int r = sd_bus_open_system (&bus);

  if (r >= 0)
    r = sd_bus_add_object_vtable (bus, NULL, REFERENCE_PATH, REFERENCE_IFACE, sdbus_vtable, NULL);
  if (r >= 0)
    r = sd_bus_request_name (bus, name, 0);
  while (r >= 0)
    {
      r = sd_bus_process (bus, NULL);
      if (r == 0)
        r = sd_bus_wait (bus, UINT64_MAX);
    }
  g_printerr ("bench-query: cannot serve %s: %s\n", name, g_strerror (-r));
  sd_bus_flush_close_unref (bus);
  return EXIT_FAILURE;
}

/* --- the client ------------------------------------------------------------- */

static guint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}

/* One synchronous call; FALSE with a message on failure. */
static gboolean
call_once (Client *client, int target, GError **gerror)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  guint64 value = 0;
  int r;

  switch (target)
    {
    case TARGET_GETID:
      r = sd_bus_call_method (client->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "GetId", &error, &reply, NULL);
      break;
    case TARGET_SDBUS:
    case TARGET_GDBUS:
      r = sd_bus_get_property_trivial (client->bus, client->reference[target], REFERENCE_PATH,
                                       REFERENCE_IFACE, "UsedToday", &error, 't', &value);
      break;
    case TARGET_PARENTD:
    default:
      r = sd_bus_get_property_trivial (client->bus, "org.parentd1", client->child_path,
                                       "org.parentd1.Child", "UsedToday", &error, 't', &value);
      client->used_today = value;
      break;
    }
  sd_bus_message_unref (reply);
  if (r < 0)
    g_set_error (gerror, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", target_names[target],
                 sd_bus_error_is_set (&error) ? error.message : g_strerror (-r));
  sd_bus_error_free (&error);
  return r >= 0;
}

static int
compare_u64 (const void *a, const void *b)
{
  guint64 x = *(const guint64 *) a, y = *(const guint64 *) b;

  return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p of all at or below it. */
static double
percentile_us (const guint64 *sorted, gsize n, double p)
{
  gsize rank = (gsize) (p * (double) n + 0.999999);

  return (double) sorted[CLAMP (rank, 1, n) - 1] / 1000.0;
}

typedef struct {
  double p50, p90, p99, max, min, mean;
} Stats;

static Stats
summarize (guint64 *samples, gsize n)
{
  Stats s;
  double sum = 0;

  qsort (samples, n, sizeof *samples, compare_u64);
  for (gsize i = 0; i < n; i++)
    sum += (double) samples[i];
  s.p50 = percentile_us (samples, n, 0.50);
  s.p90 = percentile_us (samples, n, 0.90);
  s.p99 = percentile_us (samples, n, 0.99);
  s.max = (double) samples[n - 1] / 1000.0;
  s.min = (double) samples[0] / 1000.0;
  s.mean = sum / (double) n / 1000.0;
  return s;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *serve_gdbus_name = NULL;
  g_autofree char *serve_sdbus_name = NULL;
  g_autofree char *gdbus_name = NULL;
  g_autofree char *sdbus_name = NULL;
  g_autofree char *child_path = NULL;
  gint calls = 10000, block = 100, warmup = 300;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &calls, "Timed calls of each kind (10000)", "N" },
    { "block", 0, 0, G_OPTION_ARG_INT, &block, "Calls of one kind in a row (100)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed calls of each kind first (300)", "N" },
    { "child-path", 0, 0, G_OPTION_ARG_STRING, &child_path, "parentd child object to read",
      "PATH" },
    { "gdbus", 0, 0, G_OPTION_ARG_STRING, &gdbus_name,
      "Also time the GDBus reference service owning NAME", "NAME" },
    { "sdbus", 0, 0, G_OPTION_ARG_STRING, &sdbus_name,
      "Also time the sd-bus reference service owning NAME", "NAME" },
    { "serve-gdbus", 0, 0, G_OPTION_ARG_STRING, &serve_gdbus_name,
      "Be the GDBus reference service, owning NAME, until SIGTERM", "NAME" },
    { "serve-sdbus", 0, 0, G_OPTION_ARG_STRING, &serve_sdbus_name,
      "Be the sd-bus reference service, owning NAME, until SIGTERM", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  guint64 *samples[N_TARGETS] = { NULL };
  gboolean used[N_TARGETS] = { TRUE, FALSE, FALSE, TRUE };
  gsize done[N_TARGETS] = { 0 };
  Client client = { 0 };
  sd_bus *bus = NULL;
  int r;

  context = g_option_context_new ("- D-Bus latency client of bench-daemon");
  g_option_context_set_summary (context,
                                "Run by bench/bench-daemon on its private bus "
                                "(DBUS_SYSTEM_BUS_ADDRESS); see bench/README.md.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-query: %s\n", error->message);
      return 2;
    }
  if (serve_gdbus_name != NULL)
    return serve_gdbus (serve_gdbus_name);
  if (serve_sdbus_name != NULL)
    return serve_sdbus (serve_sdbus_name);
  if (child_path == NULL || calls < 1 || block < 1 || warmup < 0)
    {
      g_printerr ("bench-query: --child-path is required; --calls and --block must be >= 1\n");
      return 2;
    }

  r = sd_bus_open_system (&bus);
  if (r < 0)
    {
      g_printerr ("bench-query: cannot connect to the system bus: %s\n", g_strerror (-r));
      return 1;
    }
  client.bus = bus;
  client.reference[TARGET_SDBUS] = sdbus_name;
  client.reference[TARGET_GDBUS] = gdbus_name;
  client.child_path = child_path;
  used[TARGET_SDBUS] = sdbus_name != NULL;
  used[TARGET_GDBUS] = gdbus_name != NULL;

  for (int t = 0; t < N_TARGETS; t++)
    if (used[t])
      {
        samples[t] = g_new (guint64, calls);
        for (int i = 0; i < warmup; i++)
          if (!call_once (&client, t, &error))
            goto failed;
      }

  /* Blocks in turn, each round in the opposite order to the one before, so
   * that no kind always follows another. */
  for (gsize round = 0; done[TARGET_GETID] < (gsize) calls; round++)
    for (int k = 0; k < N_TARGETS; k++)
      {
        int t = (round % 2 == 0) ? k : N_TARGETS - 1 - k;

        if (!used[t])
          continue;
        for (int i = 0; i < block && done[t] < (gsize) calls; i++)
          {
            guint64 start = now_ns ();

            if (!call_once (&client, t, &error))
              goto failed;
            samples[t][done[t]++] = now_ns () - start;
          }
      }
  sd_bus_flush_close_unref (bus);

  if (json)
    g_print ("{\"calls\":%d,\"block\":%d,\"warmup\":%d,\"used_today\":%" G_GUINT64_FORMAT,
             calls, block, warmup, client.used_today);
  else
    g_print ("%d calls of each kind, in blocks of %d, after %d untimed (microseconds)\n"
             "%-10s %9s %9s %9s %9s %9s\n", calls, block, warmup, "", "p50", "p90", "p99",
             "max", "mean");
  for (int t = 0; t < N_TARGETS; t++)
    {
      Stats s;

      if (!used[t])
        continue;
      s = summarize (samples[t], (gsize) calls);
      if (json)
        g_print (",\"%s\":{\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,"
                 "\"min_us\":%.2f,\"mean_us\":%.2f}", target_names[t], s.p50, s.p90, s.p99,
                 s.max, s.min, s.mean);
      else
        g_print ("%-10s %9.1f %9.1f %9.1f %9.1f %9.1f\n", target_names[t], s.p50, s.p90, s.p99,
                 s.max, s.mean);
    }
  if (json)
    g_print ("}\n");
  for (int t = 0; t < N_TARGETS; t++)
    g_free (samples[t]);
  return EXIT_SUCCESS;

failed:
  g_printerr ("bench-query: %s\n", error->message);
  sd_bus_flush_close_unref (bus);
  for (int t = 0; t < N_TARGETS; t++)
    g_free (samples[t]);
  return 1;
}
