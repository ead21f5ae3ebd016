/* parentctl's link to the daemon: the system bus, method calls with
 * interactive authorization, and what to say when the daemon is absent. */
#include "config.h"

#include <stdio.h>

#include "client/parentctl.h"

#define BUS_NAME "org.parentd1"
#define MANAGER_PATH "/org/parentd1"
#define CHILD_INTERFACE "org.parentd1.Child"
/* Long enough for a person to type a password at a polkit prompt. */
#define CALL_TIMEOUT_MS (120 * 1000)

static GDBusConnection *
system_bus (GError **error)
{
  static GDBusConnection *bus;

  if (bus == NULL)
    bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  return bus;
}

GVariant *
pctl_call (const char *path, const char *interface, const char *method, GVariant *parameters,
           const char *reply_type, GError **error)
{
  GDBusConnection *bus = system_bus (error);
  GDBusCallFlags flags = pctl_options.no_ask_password ? G_DBUS_CALL_FLAGS_NONE
                                                      : G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;

  if (bus == NULL)
    return NULL;
  return g_dbus_connection_call_sync (bus, BUS_NAME, path, interface, method, parameters,
                                      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                                      flags | G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS,
                                      NULL, error);
}

char *
pctl_child_path (guint32 uid)
{
  return g_strdup_printf ("%s/child/%u", MANAGER_PATH, uid);
}

GVariant *
pctl_child_properties (guint32 uid, GError **error)
{
  g_autofree char *path = pctl_child_path (uid);
  g_autoptr (GVariant) reply = pctl_call (path, "org.freedesktop.DBus.Properties", "GetAll",
                                          g_variant_new ("(s)", CHILD_INTERFACE), "(a{sv})", error);

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

gboolean
pctl_resolve_child (const char *user, guint32 *out_uid, char **out_name, GError **error)
{
  g_autoptr (GVariant) reply = pctl_call (MANAGER_PATH, "org.parentd1.Manager", "ListChildren",
                                          NULL, "(a(uso))", error);
  g_autoptr (GVariantIter) iter = NULL;
  guint32 uid;
  const char *name;
  guint64 wanted = G_MAXUINT64;

  if (reply == NULL)
    return FALSE;
  g_ascii_string_to_unsigned (user, 10, 0, G_MAXUINT32, &wanted, NULL);
  g_variant_get (reply, "(a(uso))", &iter);
  while (g_variant_iter_next (iter, "(u&s&o)", &uid, &name, NULL))
    if (g_strcmp0 (name, user) == 0 || uid == wanted)
      {
        *out_uid = uid;
        if (out_name != NULL)
          *out_name = g_strdup (name);
        return TRUE;
      }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
               _("'%s' is not a child you may see; 'parentctl list' shows the children"), user);
  return FALSE;
}

int
pctl_fail (const GError *error)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  g_autoptr (GError) copy = g_error_copy (error);

  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_strcmp0 (remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0)
    {
      fputs (_("parentctl: parentd is not running; start it with 'systemctl start parentd' "
               "(as root)\n"), stderr);
      return PCTL_EXIT_FAILURE;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_FILE_NOT_FOUND))
    {
      fprintf (stderr, _("parentctl: cannot reach the system bus: %s\n"), error->message);
      return PCTL_EXIT_FAILURE;
    }
  g_dbus_error_strip_remote_error (copy);
  fprintf (stderr, "parentctl: %s\n", copy->message);
  return PCTL_EXIT_FAILURE;
}
