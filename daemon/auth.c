/* Caller identity (GetConnectionCredentials, cached per unique name) and
 * polkit's CheckAuthorization, both over D-Bus and both asynchronous. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "daemon/auth.h"
#include "policy/error.h"

#define DEFAULT_TIMEOUT_MS (5 * 1000)
#define DEFAULT_INTERACTIVE_TIMEOUT_MS (120 * 1000)

/* polkit's CheckAuthorizationFlags */
#define POLKIT_ALLOW_USER_INTERACTION 1u

/* The ways polkit can fail to answer; each is logged once per outage. */
typedef enum {
  POLKIT_ABSENT,
  POLKIT_TIMED_OUT,
  POLKIT_FAILED,
  POLKIT_N_FAILURES,
} PolkitFailure;

/* At most this many callers are remembered; later ones are looked up on
 * every call. It bounds the match rules parentd holds on the bus. */
#define MAX_CACHED_CALLERS 256

/* A yes to org.parentd1.view is believed this long for the same caller, so
 * that a parent's frontend reading properties does not cost a polkit round
 * trip per read. Only reading is cached; every change asks polkit. */
#define VIEW_CACHE_USEC (10 * G_USEC_PER_SEC)

/* A caller's uid, and the match rule that says when the caller leaves.
 * Unique names are never reused on a bus, so an entry can only go stale by
 * leaking, never by naming someone else. */
typedef struct {
  GDBusConnection *bus;         /* (owned) */
  guint subscription;
  gboolean known;               /* uid is filled in */
  guint32 uid;
  gint64 view_until;            /* monotonic µs: view granted until then */
} Caller;

static void
caller_free (gpointer data)
{
  Caller *caller = data;

  g_dbus_connection_signal_unsubscribe (caller->bus, caller->subscription);
  g_object_unref (caller->bus);
  g_free (caller);
}

/* Reference-counted (g_rc_box) so that calls still in flight when
 * pd_auth_free runs finish on memory that is still there. */
struct _PdAuth {
  GDBusConnection *bus;         /* (owned) */
  GHashTable *callers;          /* (owned) unique name (owned) -> Caller (owned) */
  guint timeout_ms;
  guint interactive_timeout_ms;
  gboolean warned[POLKIT_N_FAILURES];
};

static void
auth_clear (gpointer data)
{
  PdAuth *auth = data;

  g_clear_pointer (&auth->callers, g_hash_table_unref);
  g_clear_object (&auth->bus);
}

static PdAuth *
auth_ref (PdAuth *auth)
{
  return g_rc_box_acquire (auth);
}

static void
auth_unref (gpointer auth)
{
  g_rc_box_release_full (auth, auth_clear);
}

static void
on_name_owner_changed (GDBusConnection *connection, const char *sender, const char *path,
                       const char *interface, const char *signal, GVariant *parameters,
                       gpointer user_data)
{
  PdAuth *auth = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (new_owner[0] == '\0' && auth->callers != NULL)
    g_hash_table_remove (auth->callers, name);
}

/* One match rule per caller (arg0 = its name) rather than one for every
 * NameOwnerChanged on the bus: parentd sleeps while others come and go. It
 * reaches the bus before the lookup, so no departure slips in between. */
static void
remember_caller (PdAuth *auth, const char *sender)
{
  Caller *caller;

  if (g_hash_table_contains (auth->callers, sender) ||
      g_hash_table_size (auth->callers) >= MAX_CACHED_CALLERS)
    return;
  caller = g_new0 (Caller, 1);
  caller->bus = g_object_ref (auth->bus);
  caller->subscription =
    g_dbus_connection_signal_subscribe (auth->bus, "org.freedesktop.DBus", "org.freedesktop.DBus",
                                        "NameOwnerChanged", "/org/freedesktop/DBus", sender,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed,
                                        auth_ref (auth), auth_unref);
  g_hash_table_insert (auth->callers, g_strdup (sender), caller);
}

PdAuth *
pd_auth_new (GDBusConnection *bus)
{
  PdAuth *auth;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);

  auth = g_rc_box_new0 (PdAuth);
  auth->bus = g_object_ref (bus);
  auth->callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, caller_free);
  auth->timeout_ms = DEFAULT_TIMEOUT_MS;
  auth->interactive_timeout_ms = DEFAULT_INTERACTIVE_TIMEOUT_MS;
  return auth;
}

void
pd_auth_free (PdAuth *auth)
{
  if (auth == NULL)
    return;
  /* Drops the match rules, and with them their references to auth. */
  g_hash_table_remove_all (auth->callers);
  auth_unref (auth);
}

void
pd_auth_set_timeout (PdAuth *auth, guint noninteractive_ms, guint interactive_ms)
{
  g_return_if_fail (auth != NULL);
  g_return_if_fail (noninteractive_ms > 0 && interactive_ms > 0);

  auth->timeout_ms = noninteractive_ms;
  auth->interactive_timeout_ms = interactive_ms;
}

/* --- identity ----------------------------------------------------------- */

typedef struct {
  PdAuth *auth;                 /* (owned) a reference */
  char *sender;                 /* (owned) */
} UidData;

static void
uid_data_free (gpointer data)
{
  UidData *lookup = data;

  auth_unref (lookup->auth);
  g_free (lookup->sender);
  g_free (lookup);
}

static void
got_credentials (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  UidData *lookup = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) credentials = NULL;
  gboolean have_uid = FALSE;
  Caller *caller;
  guint32 uid = 0;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply != NULL)
    {
      g_variant_get (reply, "(@a{sv})", &credentials);
      have_uid = g_variant_lookup (credentials, "UnixUserID", "u", &uid);
    }
  caller = g_hash_table_lookup (lookup->auth->callers, lookup->sender);
  if (!have_uid)
    {
      /* Keep no match rule for a caller we could not name. */
      if (caller != NULL && !caller->known)
        g_hash_table_remove (lookup->auth->callers, lookup->sender);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      if (error != NULL)
        g_dbus_error_strip_remote_error (error);
      /* Fail closed: a caller we cannot name gets nothing. */
      g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                               _("Access denied: the bus could not tell who the caller is (%s)"),
                               error != NULL ? error->message : _("no user ID in its credentials"));
      return;
    }
  /* No entry: the caller left meanwhile, or the cache is full. */
  if (caller != NULL)
    {
      caller->uid = uid;
      caller->known = TRUE;
    }
  g_task_return_pointer (task, g_memdup2 (&uid, sizeof uid), g_free);
}

void
pd_auth_get_uid (PdAuth *auth, const char *sender, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  const Caller *caller;
  UidData *lookup;

  g_return_if_fail (auth != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pd_auth_get_uid);
  if (sender == NULL || !g_dbus_is_unique_name (sender))
    {
      g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                               _("Access denied: the caller has no unique bus name"));
      return;
    }
  caller = g_hash_table_lookup (auth->callers, sender);
  if (caller != NULL && caller->known)
    {
      g_task_return_pointer (task, g_memdup2 (&caller->uid, sizeof caller->uid), g_free);
      return;
    }
  remember_caller (auth, sender);
  lookup = g_new0 (UidData, 1);
  lookup->auth = auth_ref (auth);
  lookup->sender = g_strdup (sender);
  g_task_set_task_data (task, lookup, uid_data_free);
  g_dbus_connection_call (auth->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionCredentials",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, -1, cancellable, got_credentials,
                          g_steal_pointer (&task));
}

/* Errors: PD_ERROR_ACCESS_DENIED, or G_IO_ERROR_CANCELLED. finish never
 * touches auth, which may already be freed when a cancelled call ends. */
gboolean
pd_auth_get_uid_finish (PdAuth *auth, GAsyncResult *result, uid_t *out_uid, GError **error)
{
  g_autofree guint32 *uid = NULL;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pd_auth_get_uid, FALSE);

  uid = g_task_propagate_pointer (G_TASK (result), error);
  if (uid == NULL)
    return FALSE;
  if (out_uid != NULL)
    *out_uid = (uid_t) *uid;
  return TRUE;
}

/* --- polkit ------------------------------------------------------------- */

typedef struct {
  PdAuth *auth;                 /* (owned) a reference */
  char *sender;                 /* (owned) */
  char *action;                 /* (owned) */
  gboolean interactive;
  guint timeout_ms;
} CheckData;

static void
check_data_free (gpointer data)
{
  CheckData *check = data;

  auth_unref (check->auth);
  g_free (check->sender);
  g_free (check->action);
  g_free (check);
}

/* What the action lets a caller do, for the denial message. */
static const char *
action_purpose (const char *action)
{
  if (g_strcmp0 (action, PD_ACTION_MANAGE) == 0)
    return _("changing parental controls");
  if (g_strcmp0 (action, PD_ACTION_VIEW) == 0)
    return _("reading another user's parental-control data");
  return _("this");
}

static PolkitFailure
classify_failure (const GError *error)
{
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND))
    return POLKIT_ABSENT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT))
    return POLKIT_TIMED_OUT;
  return POLKIT_FAILED;
}

/* Fail closed: without polkit's answer nobody is authorized. Root
 * included: polkit is the one place that decides. */
static void
return_polkit_failure (GTask *task, CheckData *check, GError *error)
{
  PolkitFailure failure = classify_failure (error);
  g_autofree char *why = NULL;

  g_dbus_error_strip_remote_error (error);
  switch (failure)
    {
    case POLKIT_ABSENT:
      why = g_strdup (_("polkit (org.freedesktop.PolicyKit1) is not running"));
      break;
    case POLKIT_TIMED_OUT:
      why = g_strdup_printf (_("polkit did not answer within %u s"), (check->timeout_ms + 999) / 1000);
      break;
    case POLKIT_FAILED:
    case POLKIT_N_FAILURES:
    default:
      why = g_strdup_printf (_("polkit failed: %s"), error->message);
      break;
    }
  if (!check->auth->warned[failure])
    {
      check->auth->warned[failure] = TRUE;
      g_warning ("Cannot check authorization for %s: %s; denying every request that needs polkit "
                 "until it answers", check->action, why);
    }
  g_debug ("polkit check for %s failed: %s", check->action, error->message);
  g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                           /* TRANSLATORS: what the action allows ("changing parental
                            * controls"), the polkit action's id, and why polkit did not
                            * answer ("polkit did not answer within 25 s"). */
                           _("Access denied: %s needs the polkit action %s, but %s, so the "
                             "request was denied"), action_purpose (check->action), check->action,
                           why);
}

static void
checked_authorization (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  CheckData *check = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  gboolean authorized, challenge;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        return_polkit_failure (task, check, error);
      return;
    }
  /* polkit answers again: log the next outage too. */
  memset (check->auth->warned, 0, sizeof check->auth->warned);

  g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
  if (authorized)
    {
      Caller *caller = check->auth->callers != NULL
                         ? g_hash_table_lookup (check->auth->callers, check->sender) : NULL;

      if (caller != NULL && strcmp (check->action, PD_ACTION_VIEW) == 0)
        caller->view_until = g_get_monotonic_time () + VIEW_CACHE_USEC;
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (challenge && !check->interactive)
    g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                             _("Not authorized: %s needs the polkit action %s, which needs a "
                               "password, but the caller did not allow asking for one"),
                             action_purpose (check->action), check->action);
  else
    g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                             _("Not authorized: %s needs the polkit action %s; ask a parent, or "
                               "run as a member of the parents' group"),
                             action_purpose (check->action), check->action);
}

void
pd_auth_check (PdAuth *auth, const char *sender, const char *action, gboolean interactive,
               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GVariantBuilder subject_details;
  CheckData *check;

  g_return_if_fail (auth != NULL);
  g_return_if_fail (action != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pd_auth_check);
  if (sender == NULL || !g_dbus_is_unique_name (sender))
    {
      g_task_return_new_error (task, PD_ERROR, PD_ERROR_ACCESS_DENIED,
                               _("Access denied: the caller has no unique bus name"));
      return;
    }
  if (strcmp (action, PD_ACTION_VIEW) == 0)
    {
      Caller *caller = g_hash_table_lookup (auth->callers, sender);

      if (caller != NULL && caller->view_until > g_get_monotonic_time ())
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  check = g_new0 (CheckData, 1);
  check->auth = auth_ref (auth);
  check->sender = g_strdup (sender);
  check->action = g_strdup (action);
  check->interactive = interactive;
  check->timeout_ms = interactive ? auth->interactive_timeout_ms : auth->timeout_ms;
  g_task_set_task_data (task, check, check_data_free);

  g_variant_builder_init (&subject_details, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&subject_details, "{sv}", "name", g_variant_new_string (sender));
  /* No cancellation id: a check ends by its answer or by our timeout. */
  g_dbus_connection_call (auth->bus, "org.freedesktop.PolicyKit1",
                          "/org/freedesktop/PolicyKit1/Authority",
                          "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                          g_variant_new ("((sa{sv})s@a{ss}us)", "system-bus-name", &subject_details,
                                         action, g_variant_new_array (G_VARIANT_TYPE ("{ss}"),
                                                                      NULL, 0),
                                         interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, ""),
                          G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
                          (int) check->timeout_ms, cancellable, checked_authorization,
                          g_steal_pointer (&task));
}

gboolean
pd_auth_check_finish (PdAuth *auth, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pd_auth_check, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
