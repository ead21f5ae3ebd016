/* The org.parentd1.Child objects, one per child at /org/parentd1/child/UID:
 * their properties, methods and invalidations. Calls go through
 * pd_bus_dispatch, which authorizes them. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "daemon/bus-private.h"
#include "daemon/pd-dbus-info.h"
#include "daemon/requests.h"
#include "policy/error.h"

/* The largest history_days the configuration accepts. */
#define MAX_HISTORY_DAYS 3650

/* A registered Child object, with the status its readers last saw. */
typedef struct {
  GDBusConnection *connection;  /* (owned) */
  guint registration_id;
  gboolean have_last;
  PdChildStatus last;           /* name and state point at the copies below */
  char *name;                   /* (owned) */
  char *state;                  /* (owned) */
} PdBusChild;

static const char *const child_properties[] = {
  "Uid", "Name", "State", "Counting", "UsedToday", "BonusToday", "LimitToday", "RemainingToday",
  "NextChange", "AllowedUntil",
};

static GVariant *
child_property (const PdChildStatus *status, const char *property)
{
  if (strcmp (property, "Uid") == 0)
    return g_variant_new_uint32 ((guint32) status->uid);
  if (strcmp (property, "Name") == 0)
    return g_variant_new_string (status->name != NULL ? status->name : "");
  if (strcmp (property, "State") == 0)
    return g_variant_new_string (status->state != NULL ? status->state : "");
  if (strcmp (property, "Counting") == 0)
    return g_variant_new_boolean (status->counting);
  if (strcmp (property, "UsedToday") == 0)
    return g_variant_new_uint64 (status->used_today);
  if (strcmp (property, "BonusToday") == 0)
    return g_variant_new_int64 (status->bonus_today);
  if (strcmp (property, "LimitToday") == 0)
    return g_variant_new_int64 (status->limit_today);
  if (strcmp (property, "RemainingToday") == 0)
    return g_variant_new_int64 (status->remaining_today);
  if (strcmp (property, "NextChange") == 0)
    return g_variant_new_uint64 (status->next_change);
  if (strcmp (property, "AllowedUntil") == 0)
    return g_variant_new_uint64 (status->allowed_until);
  return NULL;
}

/* --- org.parentd1.Child ------------------------------------------------------ */

static gboolean
call_child_status (PdBusCall *call, PdChildStatus *out, GError **error)
{
  if (pd_engine_child_status (call->bus->engine, call->child, out))
    return TRUE;
  g_set_error (error, PD_ERROR, PD_ERROR_NO_SUCH_CHILD, _("uid %u is not a child"),
               (guint) call->child);
  return FALSE;
}

static GVariant *
child_get (PdBusCall *call, GError **error)
{
  const char *property;
  PdChildStatus status;
  GVariant *value;

  g_variant_get (pd_bus_call_parameters (call), "(&s&s)", NULL, &property);
  if (!call_child_status (call, &status, error))
    return NULL;
  value = child_property (&status, property);
  if (value == NULL)
    {
      /* In the interface XML but not served here: a build out of step. */
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, _("Property %s is not implemented"), property);
      return NULL;
    }
  return g_variant_new ("(v)", value);
}

static GVariant *
child_get_all (PdBusCall *call, GError **error)
{
  GVariantBuilder builder;
  PdChildStatus status;

  if (!call_child_status (call, &status, error))
    return NULL;
  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  for (gsize i = 0; i < G_N_ELEMENTS (child_properties); i++)
    g_variant_builder_add (&builder, "{sv}", child_properties[i],
                           child_property (&status, child_properties[i]));
  return g_variant_new ("(a{sv})", &builder);
}

static GVariant *
get_apps (PdBusCall *call, GError **error)
{
  return g_variant_new ("(@a(stxs))", pd_engine_get_apps (call->bus->engine, call->child));
}

/* 0 asks for today only; more than any history keeps asks for all. */
static guint
call_days (PdBusCall *call)
{
  guint32 days;

  g_variant_get (pd_bus_call_parameters (call), "(u)", &days);
  return CLAMP (days, 1, MAX_HISTORY_DAYS);
}

static GVariant *
get_usage (PdBusCall *call, GError **error)
{
  return g_variant_new ("(@a(sta{st}))",
                        pd_engine_get_usage (call->bus->engine, call->child, call_days (call)));
}

static GVariant *
get_daily_limits (PdBusCall *call, GError **error)
{
  return g_variant_new ("(@a(sx))",
                        pd_engine_get_daily_limits (call->bus->engine, call->child, call_days (call)));
}

static GVariant *
get_purchases (PdBusCall *call, GError **error)
{
  return g_variant_new ("(@a(tssss))",
                        pd_engine_get_purchases (call->bus->engine, call->child,
                                                 call_days (call)));
}

static gboolean
validate_request_time (GVariant *parameters, GError **error)
{
  guint32 seconds;
  const char *reason;
  gsize length = 0;

  g_variant_get (parameters, "(u&s)", &seconds, &reason);
  if (!pd_bus_check_seconds (seconds, 1, PD_BUS_MAX_SECONDS, _("The time asked for"), error))
    return FALSE;
  /* Counted as requests.c stores it: without control and format characters. */
  for (const char *p = reason; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      length += !(g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT);
    }
  if (length > PD_REQUESTS_REASON_MAX)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_ARGS,
                   _("The reason must be at most %d characters, not %zu"),
                   PD_REQUESTS_REASON_MAX, length);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
request_time (PdBusCall *call, GError **error)
{
  guint32 seconds;
  const char *reason;
  guint64 id;

  g_variant_get (pd_bus_call_parameters (call), "(u&s)", &seconds, &reason);
  if (!pd_engine_request_time (call->bus->engine, call->child, seconds, reason, &id, error))
    return NULL;
  return g_variant_new ("(t)", id);
}

static gboolean
validate_grant (GVariant *parameters, GError **error)
{
  gint64 seconds;

  g_variant_get (parameters, "(x)", &seconds);
  return pd_bus_check_seconds (seconds, -PD_BUS_MAX_SECONDS, PD_BUS_MAX_SECONDS,
                               _("The time to grant"), error);
}

static GVariant *
grant_time (PdBusCall *call, GError **error)
{
  gint64 seconds;

  g_variant_get (pd_bus_call_parameters (call), "(x)", &seconds);
  pd_engine_grant (call->bus->engine, call->child, seconds, error);
  return NULL;
}

static gboolean
validate_lock_out (GVariant *parameters, GError **error)
{
  guint32 seconds;

  g_variant_get (parameters, "(u)", &seconds);
  return pd_bus_check_seconds (seconds, 0, PD_BUS_MAX_SECONDS, _("The lock-out"), error);
}

static GVariant *
lock_out (PdBusCall *call, GError **error)
{
  guint32 seconds;

  g_variant_get (pd_bus_call_parameters (call), "(u)", &seconds);
  pd_engine_lock_out (call->bus->engine, call->child, seconds, error);
  return NULL;
}

static const PdBusMethod child_methods[] = {
  { PD_BUS_PROPERTIES_INTERFACE, "Get", PD_ACCESS_READ_CHILD, NULL, child_get },
  { PD_BUS_PROPERTIES_INTERFACE, "GetAll", PD_ACCESS_READ_CHILD, NULL, child_get_all },
  { PD_BUS_CHILD_INTERFACE, "GetApps", PD_ACCESS_READ_CHILD, NULL, get_apps },
  { PD_BUS_CHILD_INTERFACE, "GetUsage", PD_ACCESS_READ_CHILD, NULL, get_usage },
  { PD_BUS_CHILD_INTERFACE, "GetDailyLimits", PD_ACCESS_READ_CHILD, NULL, get_daily_limits },
  { PD_BUS_CHILD_INTERFACE, "GetPurchases", PD_ACCESS_READ_CHILD, NULL, get_purchases },
  { PD_BUS_CHILD_INTERFACE, "RequestTime", PD_ACCESS_SELF, validate_request_time, request_time },
  { PD_BUS_CHILD_INTERFACE, "GrantTime", PD_ACCESS_MANAGE, validate_grant, grant_time },
  { PD_BUS_CHILD_INTERFACE, "LockOut", PD_ACCESS_MANAGE, validate_lock_out, lock_out },
};

static void
child_method_call (GDBusConnection *connection, const char *sender, const char *path,
                   const char *interface, const char *method, GVariant *parameters,
                   GDBusMethodInvocation *invocation, gpointer user_data)
{
  PdBusTarget *target = user_data;

  pd_bus_dispatch (target->bus, child_methods, G_N_ELEMENTS (child_methods), invocation, TRUE,
                   target->uid);
}

static const GDBusInterfaceVTable child_vtable = { child_method_call, NULL, NULL, { 0 } };

char *
pd_bus_child_path (uid_t uid)
{
  return g_strdup_printf (PD_BUS_CHILD_PATH_PREFIX "%u", (guint) uid);
}

void
pd_bus_child_free (gpointer data)
{
  PdBusChild *child = data;

  g_dbus_connection_unregister_object (child->connection, child->registration_id);
  g_object_unref (child->connection);
  g_free (child->name);
  g_free (child->state);
  g_free (child);
}

static void
bus_child_remember (PdBusChild *child, const PdChildStatus *status)
{
  g_free (child->name);
  g_free (child->state);
  child->name = g_strdup (status->name);
  child->state = g_strdup (status->state);
  child->last = *status;
  child->last.name = child->name;
  child->last.state = child->state;
  child->have_last = TRUE;
}

static gboolean
register_child (PdBus *bus, uid_t uid, GError **error)
{
  g_autofree char *path = pd_bus_child_path (uid);
  PdBusChild *child;
  PdChildStatus status;
  guint id;

  id = g_dbus_connection_register_object (bus->connection, path,
                                          (GDBusInterfaceInfo *) &org_parentd1_child_interface,
                                          &child_vtable, pd_bus_target_new (bus, uid, NULL),
                                          pd_bus_target_free, error);
  if (id == 0)
    return FALSE;
  child = g_new0 (PdBusChild, 1);
  child->connection = g_object_ref (bus->connection);
  child->registration_id = id;
  if (pd_engine_child_status (bus->engine, uid, &status))
    bus_child_remember (child, &status);
  g_hash_table_insert (bus->children, GUINT_TO_POINTER (uid), child);
  return TRUE;
}

gboolean
pd_bus_sync_children (PdBus *bus, GError **error)
{
  g_autoptr (GArray) uids = pd_engine_list_uids (bus->engine);
  g_autoptr (GHashTable) wanted = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  gpointer key;
  gboolean ok = TRUE;

  for (guint i = 0; uids != NULL && i < uids->len; i++)
    g_hash_table_add (wanted, GUINT_TO_POINTER (g_array_index (uids, uid_t, i)));
  g_hash_table_iter_init (&iter, bus->children);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (wanted, key))
      g_hash_table_iter_remove (&iter);
  g_hash_table_iter_init (&iter, wanted);
  while (ok && g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (bus->children, key))
      ok = register_child (bus, (uid_t) GPOINTER_TO_UINT (key), error);
  return ok;
}

void
pd_bus_child_changed (PdBus *bus, uid_t uid)
{
  PdBusChild *child;
  PdChildStatus status;
  const char *changed[G_N_ELEMENTS (child_properties)];
  gsize n_changed = 0;

  g_return_if_fail (bus != NULL);

  child = g_hash_table_lookup (bus->children, GUINT_TO_POINTER (uid));
  if (child == NULL || !pd_engine_child_status (bus->engine, uid, &status))
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (child_properties); i++)
    {
      g_autoptr (GVariant) now = g_variant_ref_sink (child_property (&status, child_properties[i]));
      g_autoptr (GVariant) before = NULL;

      if (child->have_last)
        before = g_variant_ref_sink (child_property (&child->last, child_properties[i]));
      if (before == NULL || !g_variant_equal (before, now))
        changed[n_changed++] = child_properties[i];
    }
  bus_child_remember (child, &status);
  if (n_changed > 0)
    {
      g_autofree char *path = pd_bus_child_path (uid);

      pd_bus_emit_invalidated (bus, path, PD_BUS_CHILD_INTERFACE, changed, n_changed);
    }
}

