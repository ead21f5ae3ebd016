/* The D-Bus objects of parentd: who may call what (through auth.c), the
 * checking of arguments, property invalidations and unicast signals. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/bus-private.h"
#include "daemon/pd-dbus-info.h"
#include "policy/error.h"

#define MANAGER_PATH "/org/parentd1"
#define MANAGER_INTERFACE "org.parentd1.Manager"

typedef struct {
  uid_t uid;
  gboolean view;                /* passed a non-interactive view check at Subscribe */
  guint watch_id;
} Subscriber;

PdBus *
pd_bus_ref (PdBus *bus)
{
  return g_rc_box_acquire (bus);
}

static void
bus_clear (gpointer data)
{
  PdBus *bus = data;

  g_clear_object (&bus->cancellable);
  g_clear_object (&bus->connection);
  g_clear_pointer (&bus->config_errors, g_strfreev);
}

void
pd_bus_unref (PdBus *bus)
{
  g_rc_box_release_full (bus, bus_clear);
}

PdBusTarget *
pd_bus_target_new (PdBus *bus, uid_t uid, const char *name)
{
  PdBusTarget *target = g_new0 (PdBusTarget, 1);

  target->bus = pd_bus_ref (bus);
  target->uid = uid;
  target->name = g_strdup (name);
  return target;
}

void
pd_bus_target_free (gpointer data)
{
  PdBusTarget *target = data;

  pd_bus_unref (target->bus);
  g_free (target->name);
  g_free (target);
}

/* --- errors ------------------------------------------------------------- */

static void
register_errors (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered))
    {
      /* AccessDenied, InvalidArgs and Failed are not registered: those
       * org.freedesktop.DBus.Error names belong to G_DBUS_ERROR already,
       * and a name maps to one domain. return_error maps them. */
      g_dbus_error_register_error (PD_ERROR, PD_ERROR_INVALID_CONFIG,
                                   "org.parentd1.Error.InvalidConfig");
      g_dbus_error_register_error (PD_ERROR, PD_ERROR_NO_SUCH_CHILD,
                                   "org.parentd1.Error.NoSuchChild");
      g_dbus_error_register_error (PD_ERROR, PD_ERROR_NO_SUCH_REQUEST,
                                   "org.parentd1.Error.NoSuchRequest");
      g_dbus_error_register_error (PD_ERROR, PD_ERROR_TOO_MANY_REQUESTS,
                                   "org.parentd1.Error.TooManyRequests");
      g_once_init_leave (&registered, 1);
    }
}

/* Every error leaves with its message verbatim. */
static void
return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  const char *name = "org.freedesktop.DBus.Error.Failed";

  if (error->domain == PD_ERROR)
    switch ((PdError) error->code)
      {
      case PD_ERROR_ACCESS_DENIED:
        name = "org.freedesktop.DBus.Error.AccessDenied";
        break;
      case PD_ERROR_INVALID_ARGS:
        name = "org.freedesktop.DBus.Error.InvalidArgs";
        break;
      case PD_ERROR_INVALID_CONFIG:
      case PD_ERROR_NO_SUCH_CHILD:
      case PD_ERROR_NO_SUCH_REQUEST:
      case PD_ERROR_TOO_MANY_REQUESTS:
        g_dbus_method_invocation_return_gerror (invocation, error);
        return;
      case PD_ERROR_FAILED:
      default:
        break;
      }
  g_dbus_method_invocation_return_dbus_error (invocation, name, error->message);
}

/* --- properties ----------------------------------------------------------- */

static const char *const *
config_errors (PdEngine *engine)
{
  static const char *const none[] = { NULL };
  const char *const *errors = pd_engine_config_errors (engine);

  return errors != NULL ? errors : none;
}

static GVariant *
manager_property (PdBus *bus, const char *property)
{
  if (strcmp (property, "Version") == 0)
    return g_variant_new_string (PACKAGE_VERSION);
  if (strcmp (property, "ConfigErrors") == 0)
    return g_variant_new_strv (config_errors (bus->engine), -1);
  return NULL;
}

void
pd_bus_emit_invalidated (PdBus *bus, const char *path, const char *interface,
                         const char *const *names, gsize n_names)
{
  g_autoptr (GError) error = NULL;

  /* Names only, never values: the signal is broadcast. */
  if (!g_dbus_connection_emit_signal (bus->connection, NULL, path, PD_BUS_PROPERTIES_INTERFACE,
                                      "PropertiesChanged",
                                      g_variant_new ("(s@a{sv}@as)", interface,
                                                     g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                          NULL, 0),
                                                     g_variant_new_strv (names, (gssize) n_names)),
                                      &error))
    g_debug ("Cannot emit PropertiesChanged on %s: %s", path, error->message);
}

/* --- the calls ------------------------------------------------------------- */

static void
call_free (PdBusCall *call)
{
  pd_bus_unref (call->bus);
  g_clear_object (&call->invocation);
  g_free (call);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdBusCall, call_free)

GVariant *
pd_bus_call_parameters (PdBusCall *call)
{
  return g_dbus_method_invocation_get_parameters (call->invocation);
}

static gboolean
call_allows_interaction (PdBusCall *call)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (call->invocation);

  return (g_dbus_message_get_flags (message) &
          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
}

static void
call_finish (PdBusCall *call, GError *error)
{
  g_autoptr (PdBusCall) owned = call;
  g_autoptr (GError) run_error = NULL;
  GVariant *reply;

  /* Also what a call cancelled by pd_bus_free ends with. */
  if (call->bus->engine == NULL)
    error = run_error = g_error_new (PD_ERROR, PD_ERROR_FAILED, _("parentd is shutting down"));
  if (error == NULL && call->on_child && !pd_engine_is_child (call->bus->engine, call->child))
    error = run_error = g_error_new (PD_ERROR, PD_ERROR_NO_SUCH_CHILD,
                                     _("uid %u is no longer a child (the configuration changed)"),
                                     (guint) call->child);
  if (error != NULL)
    {
      g_debug ("%s.%s on %s from %s: %s",
               g_dbus_method_invocation_get_interface_name (call->invocation),
               g_dbus_method_invocation_get_method_name (call->invocation),
               g_dbus_method_invocation_get_object_path (call->invocation),
               g_dbus_method_invocation_get_sender (call->invocation), error->message);
      return_error (g_steal_pointer (&call->invocation), error);
      return;
    }
  reply = call->func (call, &run_error);
  if (run_error != NULL)
    {
      g_assert (reply == NULL);
      return_error (g_steal_pointer (&call->invocation), run_error);
      return;
    }
  g_dbus_method_invocation_return_value (g_steal_pointer (&call->invocation), reply);
}

static void
checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PdBusCall *call = user_data;
  g_autoptr (GError) error = NULL;
  gboolean authorized = pd_auth_check_finish (call->bus->auth, result, &error);

  if (call->access == PD_ACCESS_FILTERED)
    {
      /* Not an error: the caller sees nothing. */
      call->all = authorized;
      call_finish (call, NULL);
      return;
    }
  call_finish (call, authorized ? NULL : error);
}

static void
got_caller (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PdBusCall *call = user_data;
  g_autoptr (GError) error = NULL;
  const char *sender = g_dbus_method_invocation_get_sender (call->invocation);
  const char *action = PD_ACTION_MANAGE;
  gboolean interactive = call_allows_interaction (call);

  if (!pd_auth_get_uid_finish (call->bus->auth, result, &call->caller, &error) ||
      call->bus->engine == NULL)
    {
      call_finish (call, error);
      return;
    }
  switch (call->access)
    {
    case PD_ACCESS_NONE:
    case PD_ACCESS_ANY:
      call_finish (call, NULL);
      return;
    case PD_ACCESS_FILTERED:
      if (pd_engine_is_child (call->bus->engine, call->caller))
        {
          call_finish (call, NULL);
          return;
        }
      /* These filter rather than fail, so they never ask for a password:
       * listing should not pop up a prompt. */
      action = PD_ACTION_VIEW;
      interactive = FALSE;
      break;
    case PD_ACCESS_READ_CHILD:
      if (call->caller == call->child)
        {
          call_finish (call, NULL);
          return;
        }
      action = PD_ACTION_VIEW;
      break;
    case PD_ACCESS_SELF:
      if (call->caller != call->child)
        error = g_error_new (PD_ERROR, PD_ERROR_ACCESS_DENIED,
                             _("Access denied: only the child can ask for time for themselves; "
                               "a parent gives time with GrantTime"));
      call_finish (call, error);
      return;
    case PD_ACCESS_MANAGE:
    default:
      break;
    }
  /* root can rewrite the configuration and stop the daemon anyway: asking
   * polkit about it would add nothing but a way for 'sudo parentctl' to
   * fail when polkit is down. */
  if (call->caller == 0)
    {
      call->all = TRUE;
      call_finish (call, NULL);
      return;
    }
  pd_auth_check (call->bus->auth, sender, action, interactive, call->bus->cancellable, checked,
                 call);
}

void
pd_bus_dispatch (PdBus *bus, const PdBusMethod *methods, gsize n_methods,
                 GDBusMethodInvocation *invocation, gboolean on_child, uid_t child)
{
  const char *interface = g_dbus_method_invocation_get_interface_name (invocation);
  const char *name = g_dbus_method_invocation_get_method_name (invocation);
  GVariant *parameters = g_dbus_method_invocation_get_parameters (invocation);
  g_autoptr (GError) error = NULL;
  const PdBusMethod *method = NULL;
  PdBusCall *call;

  for (gsize i = 0; i < n_methods && method == NULL; i++)
    if (strcmp (interface, methods[i].interface) == 0 && strcmp (name, methods[i].method) == 0)
      method = &methods[i];
  if (method == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownMethod",
                                                  _("No such method"));
      return;
    }
  if (method->validate != NULL && !method->validate (parameters, &error))
    {
      return_error (invocation, error);
      return;
    }
  call = g_new0 (PdBusCall, 1);
  call->bus = pd_bus_ref (bus);
  call->invocation = invocation;
  call->access = method->access;
  call->on_child = on_child;
  call->child = child;
  call->func = method->func;
  if (method->access == PD_ACCESS_NONE || bus->engine == NULL)
    {
      call_finish (call, NULL);
      return;
    }
  pd_auth_get_uid (bus->auth, g_dbus_method_invocation_get_sender (invocation), bus->cancellable,
                   got_caller, call);
}

gboolean
pd_bus_check_seconds (gint64 seconds, gint64 min, gint64 max, const char *what, GError **error)
{
  if (seconds >= min && seconds <= max)
    return TRUE;
  g_set_error (error, PD_ERROR, PD_ERROR_INVALID_ARGS,
               /* TRANSLATORS: %s is what is out of range ("The time to grant"). */
               _("%s must be between %" PRId64 " and %" PRId64
                 " seconds, not %" PRId64), what, min, max, seconds);
  return FALSE;
}

/* --- org.parentd1.Manager --------------------------------------------------- */

static GVariant *
manager_get (PdBusCall *call, GError **error)
{
  const char *property;
  GVariant *value;

  g_variant_get (pd_bus_call_parameters (call), "(&s&s)", NULL, &property);
  value = manager_property (call->bus, property);
  if (value == NULL)
    {
      /* In the interface XML but not served here: a build out of step. */
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, _("Property %s is not implemented"), property);
      return NULL;
    }
  return g_variant_new ("(v)", value);
}

static GVariant *
manager_get_all (PdBusCall *call, GError **error)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "Version", manager_property (call->bus, "Version"));
  g_variant_builder_add (&builder, "{sv}", "ConfigErrors",
                         manager_property (call->bus, "ConfigErrors"));
  return g_variant_new ("(a{sv})", &builder);
}

static GVariant *
list_children (PdBusCall *call, GError **error)
{
  g_autoptr (GArray) uids = pd_engine_list_uids (call->bus->engine);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(uso)"));
  for (guint i = 0; uids != NULL && i < uids->len; i++)
    {
      uid_t uid = g_array_index (uids, uid_t, i);
      PdChildStatus status;
      g_autofree char *path = NULL;

      if ((!call->all && uid != call->caller) ||
          !pd_engine_child_status (call->bus->engine, uid, &status))
        continue;
      path = pd_bus_child_path (uid);
      g_variant_builder_add (&builder, "(uso)", (guint32) uid, status.name, path);
    }
  return g_variant_new ("(a(uso))", &builder);
}

static GVariant *
list_requests (PdBusCall *call, GError **error)
{
  /* A caller who is neither a child nor a viewer gets an empty list rather
   * than an error: there is nothing of theirs to list. */
  if (!call->all && !pd_engine_is_child (call->bus->engine, call->caller))
    return g_variant_new_parsed ("(@a(tustsa{sv}) [],)");
  return g_variant_new ("(@a(tustsa{sv}))",
                        pd_engine_list_requests (call->bus->engine, call->all, call->caller));
}

static GVariant *
reload (PdBusCall *call, GError **error)
{
  pd_engine_reload (call->bus->engine, error);
  return NULL;
}

static GVariant *
approve_request (PdBusCall *call, GError **error)
{
  guint64 id;
  guint32 seconds;

  g_variant_get (pd_bus_call_parameters (call), "(tu)", &id, &seconds);
  pd_engine_approve (call->bus->engine, id, seconds, error);
  return NULL;
}

static GVariant *
deny_request (PdBusCall *call, GError **error)
{
  guint64 id;

  g_variant_get (pd_bus_call_parameters (call), "(t)", &id);
  pd_engine_deny (call->bus->engine, id, error);
  return NULL;
}

static void
subscriber_free (gpointer data)
{
  Subscriber *subscriber = data;

  g_bus_unwatch_name (subscriber->watch_id);
  g_free (subscriber);
}

static void
subscriber_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  PdBusTarget *target = user_data;

  g_debug ("Subscriber %s left the bus", name);
  if (target->bus->subscribers != NULL)
    g_hash_table_remove (target->bus->subscribers, target->name);
}

static GVariant *
subscribe (PdBusCall *call, GError **error)
{
  PdBus *bus = call->bus;
  const char *sender = g_dbus_method_invocation_get_sender (call->invocation);
  Subscriber *subscriber = g_new0 (Subscriber, 1);

  subscriber->uid = call->caller;
  subscriber->view = call->all;
  /* If the sender has already left, the watch reports it at once. */
  subscriber->watch_id =
    g_bus_watch_name_on_connection (bus->connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE, NULL,
                                    subscriber_vanished, pd_bus_target_new (bus, 0, sender),
                                    pd_bus_target_free);
  g_hash_table_replace (bus->subscribers, g_strdup (sender), subscriber);
  g_debug ("%s (uid %u) subscribed%s", sender, (guint) call->caller,
           call->all ? " with view" : "");
  return NULL;
}

static GVariant *
unsubscribe (PdBusCall *call, GError **error)
{
  g_hash_table_remove (call->bus->subscribers,
                       g_dbus_method_invocation_get_sender (call->invocation));
  return NULL;
}

static gboolean
validate_approve (GVariant *parameters, GError **error)
{
  guint32 seconds;

  g_variant_get (parameters, "(tu)", NULL, &seconds);
  return pd_bus_check_seconds (seconds, 0, PD_BUS_MAX_SECONDS, _("The time to grant"), error);
}

static const PdBusMethod manager_methods[] = {
  { PD_BUS_PROPERTIES_INTERFACE, "Get", PD_ACCESS_NONE, NULL, manager_get },
  { PD_BUS_PROPERTIES_INTERFACE, "GetAll", PD_ACCESS_NONE, NULL, manager_get_all },
  { MANAGER_INTERFACE, "ListChildren", PD_ACCESS_FILTERED, NULL, list_children },
  { MANAGER_INTERFACE, "ListRequests", PD_ACCESS_FILTERED, NULL, list_requests },
  { MANAGER_INTERFACE, "Reload", PD_ACCESS_MANAGE, NULL, reload },
  { MANAGER_INTERFACE, "ApproveRequest", PD_ACCESS_MANAGE, validate_approve, approve_request },
  { MANAGER_INTERFACE, "DenyRequest", PD_ACCESS_MANAGE, NULL, deny_request },
  { MANAGER_INTERFACE, "Subscribe", PD_ACCESS_FILTERED, NULL, subscribe },
  { MANAGER_INTERFACE, "Unsubscribe", PD_ACCESS_ANY, NULL, unsubscribe },
};

static void
manager_method_call (GDBusConnection *connection, const char *sender, const char *path,
                     const char *interface, const char *method, GVariant *parameters,
                     GDBusMethodInvocation *invocation, gpointer user_data)
{
  PdBusTarget *target = user_data;

  pd_bus_dispatch (target->bus, manager_methods, G_N_ELEMENTS (manager_methods), invocation,
                   FALSE, 0);
}

/* get_property and set_property are NULL so that property reads come to
 * method_call too, and are authorized asynchronously like methods. */
static const GDBusInterfaceVTable manager_vtable = { manager_method_call, NULL, NULL, { 0 } };

/* --- the object ------------------------------------------------------------ */

PdBus *
pd_bus_new (GDBusConnection *connection, PdEngine *engine, PdAuth *auth, GError **error)
{
  g_autoptr (PdBus) bus = NULL;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);
  g_return_val_if_fail (engine != NULL && auth != NULL, NULL);

  register_errors ();
  bus = g_rc_box_new0 (PdBus);
  bus->connection = g_object_ref (connection);
  bus->engine = engine;
  bus->auth = auth;
  bus->cancellable = g_cancellable_new ();
  bus->children = g_hash_table_new_full (NULL, NULL, NULL, pd_bus_child_free);
  bus->subscribers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, subscriber_free);
  bus->config_errors = g_strdupv ((char **) config_errors (engine));
  bus->manager_id =
    g_dbus_connection_register_object (connection, MANAGER_PATH,
                                       (GDBusInterfaceInfo *) &org_parentd1_manager_interface,
                                       &manager_vtable, pd_bus_target_new (bus, 0, NULL),
                                       pd_bus_target_free, error);
  if (bus->manager_id == 0 || !pd_bus_sync_children (bus, error))
    return NULL;
  return g_steal_pointer (&bus);
}

void
pd_bus_free (PdBus *bus)
{
  if (bus == NULL)
    return;
  /* Calls in flight end with an error, without touching the engine. */
  g_cancellable_cancel (bus->cancellable);
  bus->engine = NULL;
  bus->auth = NULL;
  if (bus->manager_id != 0)
    g_dbus_connection_unregister_object (bus->connection, bus->manager_id);
  bus->manager_id = 0;
  g_clear_pointer (&bus->children, g_hash_table_unref);
  g_clear_pointer (&bus->subscribers, g_hash_table_unref);
  pd_bus_unref (bus);
}

void
pd_bus_child_signal (PdBus *bus, uid_t uid, const char *name, GVariant *parameters)
{
  g_autoptr (GVariant) owned = NULL;
  g_autofree char *path = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (bus != NULL);
  g_return_if_fail (name != NULL);

  if (parameters != NULL)
    owned = g_variant_ref_sink (parameters);
  path = pd_bus_child_path (uid);
  g_hash_table_iter_init (&iter, bus->subscribers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const Subscriber *subscriber = value;
      g_autoptr (GError) error = NULL;

      if (subscriber->uid != uid && !subscriber->view)
        continue;
      if (!g_dbus_connection_emit_signal (bus->connection, key, path, PD_BUS_CHILD_INTERFACE, name,
                                          owned, &error))
        g_debug ("Cannot send %s to %s: %s", name, (const char *) key, error->message);
    }
}

void
pd_bus_requests_changed (PdBus *bus)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (bus != NULL);

  if (!g_dbus_connection_emit_signal (bus->connection, NULL, MANAGER_PATH, MANAGER_INTERFACE,
                                      "RequestsChanged", NULL, &error))
    g_debug ("Cannot emit RequestsChanged: %s", error->message);
}

void
pd_bus_config_changed (PdBus *bus)
{
  g_autoptr (GError) error = NULL;
  const char *const *errors;
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (bus != NULL);

  if (!pd_bus_sync_children (bus, &error))
    g_warning ("Cannot publish every child on the bus: %s", error->message);
  g_hash_table_iter_init (&iter, bus->children);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    pd_bus_child_changed (bus, (uid_t) GPOINTER_TO_UINT (key));

  errors = config_errors (bus->engine);
  if (!g_strv_equal ((const char *const *) bus->config_errors, errors))
    {
      const char *const names[] = { "ConfigErrors" };

      g_strfreev (bus->config_errors);
      bus->config_errors = g_strdupv ((char **) errors);
      pd_bus_emit_invalidated (bus, MANAGER_PATH, MANAGER_INTERFACE, names, G_N_ELEMENTS (names));
    }
}
