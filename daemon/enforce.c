/* enforce.c owns the actions on a child's sessions through logind: locking
 * and ending them, with Session.Lock and Session.Terminate on each session
 * object. Fire and forget: a failure is logged, and the next check acts
 * again. */
#include "config.h"

#include "daemon/enforce.h"

#define LOGIND_NAME   "org.freedesktop.login1"
#define SESSION_IFACE "org.freedesktop.login1.Session"

static void
session_called (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree char *what = user_data;   /* "METHOD PATH" */
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    g_warning ("logind %s failed: %s", what, error->message);
  else
    g_debug ("logind %s done", what);
}

/* Session.Lock on the object rather than Manager.LockSession by id: both
 * make logind emit the session's Lock signal, which the screen locker
 * obeys, and the path is what sessions.c hands us. */
static void
call_each (GDBusConnection *bus, GPtrArray *session_paths, const char *method)
{
  g_return_if_fail (G_IS_DBUS_CONNECTION (bus));
  g_return_if_fail (session_paths != NULL);

  for (guint i = 0; i < session_paths->len; i++)
    {
      const char *path = g_ptr_array_index (session_paths, i);

      if (!g_variant_is_object_path (path))
        {
          g_warning ("Not a session object path: %s", path);
          continue;
        }
      g_dbus_connection_call (bus, LOGIND_NAME, path, SESSION_IFACE, method, NULL,
                              G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                              session_called, g_strdup_printf ("%s %s", method, path));
    }
}

void
pd_enforce_lock (GDBusConnection *bus, GPtrArray *session_paths)
{
  call_each (bus, session_paths, "Lock");
}

void
pd_enforce_logout (GDBusConnection *bus, GPtrArray *session_paths)
{
  call_each (bus, session_paths, "Terminate");
}
