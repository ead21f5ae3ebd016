/* sessions.c owns logind: it follows the sessions of the configured children
 * over D-Bus (org.freedesktop.login1; never sd-login, never polling) and
 * answers, per child, whether screen time counts now. */
#include "config.h"

#include "daemon/sessions.h"

#define LOGIND_NAME      "org.freedesktop.login1"
#define LOGIND_PATH      "/org/freedesktop/login1"
#define MANAGER_IFACE    "org.freedesktop.login1.Manager"
#define SESSION_IFACE    "org.freedesktop.login1.Session"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* A failed ListSessions while logind is on the bus would leave us blind
 * until logind restarts; try again after this long. */
#define LIST_RETRY_SECONDS 5

static const char *const manager_signals[] = { "SessionNew", "SessionRemoved", "PrepareForSleep" };

/* Failure mode: while logind is off the bus (crashed, restarting), every
 * session keeps its last known state: a child who was counting keeps
 * counting, a locked session stays locked as far as we know, and
 * enforcement acts on the last known paths (and retries once logind is
 * back). The alternative, forgetting the sessions, would hand a child free
 * time or release a lock just because logind died, which a child could
 * cause on purpose. When logind returns, its ListSessions replaces the
 * table. */

typedef struct
{
  char *path;          /* (owned) */
  uid_t uid;
  gboolean uid_known;  /* FALSE after SessionNew until GetAll answers */
  /* The values below are current only while loaded is TRUE: GetAll answered
   * and the uid is followed. Other sessions are kept with their uid only,
   * so that following a new child needs no ListSessions. */
  gboolean loaded;
  gboolean active;
  gboolean idle;
  gboolean locked;
  char *type;          /* (owned) */
  char *klass;         /* (owned) */
} PdLogindSession;

struct _PdSessions
{
  GDBusConnection *bus;            /* (owned) */
  PdSessionsChangedFunc changed;
  PdSessionsSleepFunc sleep;
  gpointer user_data;

  GCancellable *cancellable;       /* (owned) cancelled on free */
  guint watch_id;
  guint manager_subscriptions[G_N_ELEMENTS (manager_signals)];
  guint properties_subscription;
  guint retry_id;                  /* ListSessions retry timeout, or 0 */

  char *logind_owner;              /* (owned) (nullable) unique name while present */
  /* Bumped at each appearance and disappearance of logind, so that replies
   * to calls made to an earlier logind are dropped. */
  guint generation;
  gboolean sleeping;
  /* A resync tells about its changes at once, when the last of its GetAll
   * calls has answered, so that nobody sees the table half reloaded. */
  guint resync_pending;
  GArray *resync_uids;             /* (owned) */

  GHashTable *sessions;            /* (owned) path → PdLogindSession (owned) */
  GHashTable *children;            /* (owned) uid → count_text */
};

/* What an asynchronous call needs when it answers. self is valid unless the
 * call was cancelled, which every callback checks first. */
typedef struct
{
  PdSessions *self;     /* (unowned) */
  guint generation;
  gboolean resync;      /* a GetAll of the resync */
  char *path;           /* (owned) (nullable) */
  char *property;       /* (owned) (nullable) for Get */
} PdCallData;

static void list_sessions (PdSessions *self);

static PdCallData *
call_data_new (PdSessions *self, const char *path, const char *property)
{
  PdCallData *data = g_new0 (PdCallData, 1);

  data->self = self;
  data->generation = self->generation;
  data->path = g_strdup (path);
  data->property = g_strdup (property);
  return data;
}

static void
call_data_free (PdCallData *data)
{
  g_free (data->path);
  g_free (data->property);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdCallData, call_data_free)

/* The PdSessions a reply is for, or NULL if the reply is to be dropped:
 * cancelled (self is gone) or meant for an earlier logind. */
static PdSessions *
reply_target (PdCallData *data, const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      data->generation != data->self->generation)
    return NULL;
  return data->self;
}

static PdLogindSession *
session_new (const char *path)
{
  PdLogindSession *s = g_new0 (PdLogindSession, 1);

  s->path = g_strdup (path);
  s->type = g_strdup ("unspecified");
  s->klass = g_strdup ("user");
  return s;
}

static void
session_free (gpointer p)
{
  PdLogindSession *s = p;

  g_free (s->path);
  g_free (s->type);
  g_free (s->klass);
  g_free (s);
}

static GHashTable *
session_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, NULL, session_free);
}

static gboolean
is_followed (PdSessions *self, uid_t uid, gboolean *count_text)
{
  gpointer value;

  if (!g_hash_table_lookup_extended (self->children, GUINT_TO_POINTER (uid), NULL, &value))
    return FALSE;
  if (count_text != NULL)
    *count_text = GPOINTER_TO_UINT (value) != 0;
  return TRUE;
}

/* ssh and console logins are "tty" or "unspecified". Every other type is
 * treated as graphical: "x11", "wayland" and "mir", and also types that
 * logind may add later (such as "web"), so that an unknown kind of session
 * counts rather than escapes. */
static gboolean
type_is_text (const char *type)
{
  return g_str_equal (type, "tty") || g_str_equal (type, "unspecified");
}

/* A session the child's limits apply to: a full user session (not a
 * greeter, lock screen or background session), and a text session only if
 * count_text_sessions says so. */
static gboolean
session_relevant (PdSessions *self, const PdLogindSession *s)
{
  gboolean count_text = FALSE;

  if (!s->loaded || !is_followed (self, s->uid, &count_text))
    return FALSE;
  if (!g_str_equal (s->klass, "user"))
    return FALSE;
  return count_text || !type_is_text (s->type);
}

typedef struct
{
  guint relevant;
  guint unlocked;
  guint counting;   /* as if awake */
} PdTally;

/* Counts uid's relevant sessions, and adds their paths to paths if given. */
static PdTally
tally (PdSessions *self, uid_t uid, GPtrArray *paths)
{
  PdTally t = { 0, 0, 0 };
  GHashTableIter iter;
  PdLogindSession *s;

  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    {
      if (s->uid != uid || !session_relevant (self, s))
        continue;
      t.relevant++;
      t.unlocked += !s->locked;
      t.counting += s->active && !s->idle && !s->locked;
      if (paths != NULL)
        g_ptr_array_add (paths, g_strdup (s->path));
    }
  return t;
}

/* uids collects the uids to tell about, once each. */
static void
add_uid (GArray *uids, uid_t uid)
{
  for (guint i = 0; i < uids->len; i++)
    if (g_array_index (uids, uid_t, i) == uid)
      return;
  g_array_append_val (uids, uid);
}

/* Called last in each handler, after the tables are consistent, since the
 * callback may query them or change the children. */
static void
emit_changed (PdSessions *self, GArray *uids)
{
  for (guint i = 0; i < uids->len; i++)
    self->changed (g_array_index (uids, uid_t, i), self->user_data);
}

static gboolean
set_bool (gboolean *field, gboolean value)
{
  if (*field == value)
    return FALSE;
  *field = value;
  return TRUE;
}

static gboolean
set_string (char **field, const char *value)
{
  if (g_str_equal (*field, value))
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

/* Applies one property; returns whether a value that matters changed. */
static gboolean
apply_property (PdLogindSession *s, const char *name, GVariant *value)
{
  gboolean is_bool = g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN);
  gboolean is_string = g_variant_is_of_type (value, G_VARIANT_TYPE_STRING);

  if (is_bool && g_str_equal (name, "Active"))
    return set_bool (&s->active, g_variant_get_boolean (value));
  if (is_bool && g_str_equal (name, "IdleHint"))
    return set_bool (&s->idle, g_variant_get_boolean (value));
  if (is_bool && g_str_equal (name, "LockedHint"))
    return set_bool (&s->locked, g_variant_get_boolean (value));
  if (is_string && g_str_equal (name, "Type"))
    return set_string (&s->type, g_variant_get_string (value, NULL));
  if (is_string && g_str_equal (name, "Class"))
    return set_string (&s->klass, g_variant_get_string (value, NULL));
  return FALSE;
}

static const char *const tracked_properties[] = {
  "Active", "IdleHint", "LockedHint", "Type", "Class", NULL
};

/* Applies a whole GetAll answer. A property it lacks takes logind's
 * default, as older logind versions and mocks omit some: LockedHint FALSE,
 * Type "unspecified", Class "user". */
static gboolean
apply_all (PdLogindSession *s, GVariant *props)
{
  gboolean active = FALSE, idle = FALSE, locked = FALSE;
  const char *type = "unspecified", *klass = "user";

  g_variant_lookup (props, "Active", "b", &active);
  g_variant_lookup (props, "IdleHint", "b", &idle);
  g_variant_lookup (props, "LockedHint", "b", &locked);
  g_variant_lookup (props, "Type", "&s", &type);
  g_variant_lookup (props, "Class", "&s", &klass);
  /* | rather than ||: every field is set. */
  return set_bool (&s->active, active) | set_bool (&s->idle, idle) |
         set_bool (&s->locked, locked) | set_string (&s->type, type) |
         set_string (&s->klass, klass);
}

/* Takes in a GetAll answer; returns whether to tell about *uid. */
static gboolean
session_take_all (PdSessions *self, const char *path, GVariant *reply, const GError *error,
                  uid_t *uid)
{
  PdLogindSession *s = g_hash_table_lookup (self->sessions, path);
  g_autoptr(GVariant) props = NULL;
  guint32 user;
  gboolean was_loaded;
  gboolean changed;

  if (s == NULL)
    return FALSE;
  if (reply == NULL)
    {
      /* A session whose properties never came has most likely ended
       * already: drop it. One that was known keeps its last state. */
      g_debug ("Cannot read session %s: %s", path, error->message);
      if (!s->loaded)
        g_hash_table_remove (self->sessions, path);
      return FALSE;
    }

  g_variant_get (reply, "(@a{sv})", &props);
  if (g_variant_lookup (props, "User", "(u&o)", &user, NULL))
    {
      s->uid = user;
      s->uid_known = TRUE;
    }
  if (!s->uid_known)
    {
      g_debug ("Session %s has no User; ignoring it", path);
      g_hash_table_remove (self->sessions, path);
      return FALSE;
    }
  if (!is_followed (self, s->uid, NULL))
    {
      s->loaded = FALSE;
      return FALSE;
    }

  was_loaded = s->loaded;
  changed = apply_all (s, props);
  s->loaded = TRUE;
  *uid = s->uid;
  g_debug ("Session %s of uid %u: active=%d idle=%d locked=%d type=%s class=%s",
           s->path, (guint) s->uid, s->active, s->idle, s->locked, s->type, s->klass);
  return changed || !was_loaded;
}

/* Tells about the resync's uids, once its last GetAll has answered (or
 * logind went away meanwhile). */
static void
finish_resync (PdSessions *self)
{
  g_autoptr(GArray) uids = g_steal_pointer (&self->resync_uids);

  self->resync_pending = 0;
  self->resync_uids = g_array_new (FALSE, FALSE, sizeof (uid_t));
  emit_changed (self, uids);
}

static void
session_got_all (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PdCallData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  PdSessions *self;
  uid_t uid;
  gboolean tell;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  self = reply_target (data, error);
  if (self == NULL)
    return;

  tell = session_take_all (self, data->path, reply, error, &uid);
  if (!data->resync)
    {
      if (tell)
        self->changed (uid, self->user_data);
      return;
    }
  if (tell)
    add_uid (self->resync_uids, uid);
  g_assert (self->resync_pending > 0);
  if (--self->resync_pending == 0)
    finish_resync (self);
}

static void
fetch_session (PdSessions *self, PdLogindSession *s, gboolean resync)
{
  PdCallData *data = call_data_new (self, s->path, NULL);

  data->resync = resync;
  if (resync)
    self->resync_pending++;
  g_dbus_connection_call (self->bus, LOGIND_NAME, s->path, PROPERTIES_IFACE, "GetAll",
                          g_variant_new ("(s)", SESSION_IFACE), G_VARIANT_TYPE ("(a{sv})"),
                          G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, session_got_all, data);
}

static void
session_got_property (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PdCallData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  PdSessions *self;
  PdLogindSession *s;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  self = reply_target (data, error);
  if (self == NULL)
    return;
  s = g_hash_table_lookup (self->sessions, data->path);
  if (s == NULL || !s->loaded)
    return;
  if (reply == NULL)
    {
      g_debug ("Cannot read %s of session %s: %s", data->property, data->path, error->message);
      return;
    }

  g_variant_get (reply, "(v)", &value);
  if (apply_property (s, data->property, value))
    self->changed (s->uid, self->user_data);
}

static void
fetch_property (PdSessions *self, PdLogindSession *s, const char *property)
{
  g_dbus_connection_call (self->bus, LOGIND_NAME, s->path, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", SESSION_IFACE, property), G_VARIANT_TYPE ("(v)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, session_got_property,
                          call_data_new (self, s->path, property));
}

static void
forget_session (gpointer key, gpointer value, gpointer user_data)
{
  PdSessions *self = user_data;
  PdLogindSession *s = value;

  if (s->loaded)
    {
      g_debug ("Session %s of uid %u is gone", s->path, (guint) s->uid);
      add_uid (self->resync_uids, s->uid);
    }
}

/* Replaces the table with logind's list. Sessions that are still there
 * keep their last known values until their GetAll answers, so that nothing
 * flickers; a path now held by another uid counts as a new session. */
static void
replace_sessions (PdSessions *self, GVariant *list)
{
  g_autoptr(GHashTable) old = self->sessions;
  GVariantIter iter;
  guint32 uid;
  const char *path;
  PdLogindSession *s;

  self->sessions = session_table_new ();
  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(&su&s&s&o)", NULL, &uid, NULL, NULL, &path))
    {
      if (g_hash_table_contains (self->sessions, path))
        continue;
      s = g_hash_table_lookup (old, path);
      if (s != NULL && s->uid_known && s->uid == uid)
        g_hash_table_steal (old, path);
      else
        s = session_new (path);
      s->uid = uid;
      s->uid_known = TRUE;
      g_hash_table_insert (self->sessions, s->path, s);
      if (is_followed (self, uid, NULL))
        fetch_session (self, s, TRUE);
      else
        s->loaded = FALSE;
    }

  g_hash_table_foreach (old, forget_session, self);
}

static gboolean
retry_list_sessions (gpointer user_data)
{
  PdSessions *self = user_data;

  self->retry_id = 0;
  list_sessions (self);
  return G_SOURCE_REMOVE;
}

static void
sessions_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PdCallData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) list = NULL;
  PdSessions *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  self = reply_target (data, error);
  if (self == NULL)
    return;
  if (reply == NULL)
    {
      g_warning ("Cannot list logind sessions (trying again in %d s; the last known "
                 "sessions stand meanwhile): %s", LIST_RETRY_SECONDS, error->message);
      if (self->retry_id == 0)
        self->retry_id = g_timeout_add_seconds (LIST_RETRY_SECONDS, retry_list_sessions, self);
      return;
    }

  g_variant_get (reply, "(@a(susso))", &list);
  g_debug ("logind lists %" G_GSIZE_FORMAT " sessions", g_variant_n_children (list));
  replace_sessions (self, list);
  if (self->resync_pending == 0)
    finish_resync (self);
}

static void
list_sessions (PdSessions *self)
{
  g_dbus_connection_call (self->bus, LOGIND_NAME, LOGIND_PATH, MANAGER_IFACE, "ListSessions",
                          NULL, G_VARIANT_TYPE ("(a(susso))"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, sessions_listed, call_data_new (self, NULL, NULL));
}

/* Sleep stops counting for everyone: tells the sleep callback, then each
 * followed uid that counts when awake, since its counting() flips. */
static void
set_sleeping (PdSessions *self, gboolean sleeping)
{
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (uid_t));
  GHashTableIter iter;
  gpointer key;

  if (self->sleeping == sleeping)
    return;
  g_message ("%s", sleeping ? "The system is going to sleep" : "The system has resumed");
  self->sleeping = sleeping;

  g_hash_table_iter_init (&iter, self->children);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (tally (self, GPOINTER_TO_UINT (key), NULL).counting > 0)
      add_uid (uids, GPOINTER_TO_UINT (key));

  self->sleep (sleeping, self->user_data);
  emit_changed (self, uids);
}

/* If logind restarted while the machine slept, PrepareForSleep(false) was
 * never seen: ask, so that counting does not stay off for good. */
static void
got_preparing_for_sleep (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PdCallData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;
  PdSessions *self;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  self = reply_target (data, error);
  if (self == NULL)
    return;
  if (reply == NULL)
    {
      g_debug ("Cannot read PreparingForSleep: %s", error->message);
      return;
    }
  g_variant_get (reply, "(v)", &value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    set_sleeping (self, g_variant_get_boolean (value));
}

/* Drops whatever was in flight with the previous logind. A resync cut
 * short still tells about what it already changed. */
static void
forget_logind (PdSessions *self)
{
  g_clear_pointer (&self->logind_owner, g_free);
  self->generation++;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  finish_resync (self);
}

static void
logind_appeared (GDBusConnection *bus, const char *name, const char *owner, gpointer user_data)
{
  PdSessions *self = user_data;

  forget_logind (self);
  self->logind_owner = g_strdup (owner);
  g_message ("logind is on the bus (%s); reading its sessions", owner);

  list_sessions (self);
  g_dbus_connection_call (bus, LOGIND_NAME, LOGIND_PATH, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", MANAGER_IFACE, "PreparingForSleep"),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                          got_preparing_for_sleep, call_data_new (self, NULL, NULL));
}

static void
logind_vanished (GDBusConnection *bus, const char *name, gpointer user_data)
{
  PdSessions *self = user_data;

  if (self->logind_owner != NULL)
    g_warning ("logind left the bus; keeping the last known state of %u sessions until it returns",
               g_hash_table_size (self->sessions));
  else
    g_warning ("logind (%s) is not on the bus; no session is known until it appears", LOGIND_NAME);
  forget_logind (self);
}

/* The bus only routes broadcasts from logind to our match rules; anyone can
 * still send us a unicast signal. Only the current owner of login1 is
 * believed. */
static gboolean
from_logind (PdSessions *self, const char *sender)
{
  return self->logind_owner != NULL && g_strcmp0 (sender, self->logind_owner) == 0;
}

static void
session_new_signal (PdSessions *self, GVariant *parameters)
{
  const char *path;
  PdLogindSession *s;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(so)")))
    return;
  g_variant_get (parameters, "(&s&o)", NULL, &path);
  if (g_hash_table_contains (self->sessions, path))
    return;
  /* The uid is not in the signal: GetAll tells it, and whether to keep
   * following the session. */
  s = session_new (path);
  g_hash_table_insert (self->sessions, s->path, s);
  fetch_session (self, s, FALSE);
}

static void
session_removed_signal (PdSessions *self, GVariant *parameters)
{
  const char *path;
  PdLogindSession *s;
  gboolean tell;
  uid_t uid;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(so)")))
    return;
  g_variant_get (parameters, "(&s&o)", NULL, &path);
  s = g_hash_table_lookup (self->sessions, path);
  if (s == NULL)
    return;
  tell = s->loaded;
  uid = s->uid;
  g_debug ("Session %s removed", path);
  g_hash_table_remove (self->sessions, path);
  if (tell)
    self->changed (uid, self->user_data);
}

static void
manager_signal (GDBusConnection *bus, const char *sender, const char *path,
                const char *interface, const char *signal, GVariant *parameters,
                gpointer user_data)
{
  PdSessions *self = user_data;

  if (!from_logind (self, sender))
    return;
  if (g_str_equal (signal, "SessionNew"))
    session_new_signal (self, parameters);
  else if (g_str_equal (signal, "SessionRemoved"))
    session_removed_signal (self, parameters);
  else if (g_str_equal (signal, "PrepareForSleep") &&
           g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    {
      gboolean sleeping;

      g_variant_get (parameters, "(b)", &sleeping);
      set_sleeping (self, sleeping);
    }
}

static void
properties_changed (GDBusConnection *bus, const char *sender, const char *path,
                    const char *interface, const char *signal, GVariant *parameters,
                    gpointer user_data)
{
  PdSessions *self = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  PdLogindSession *s;
  GVariantIter iter;
  const char *name;
  GVariant *value;
  gboolean any = FALSE;

  if (!from_logind (self, sender) ||
      !g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  /* A session still waiting for GetAll gets a newer answer from it: logind
   * answers in order. */
  s = g_hash_table_lookup (self->sessions, path);
  if (s == NULL || !s->loaded)
    return;

  g_variant_get (parameters, "(&s@a{sv}^a&s)", NULL, &changed, &invalidated);
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      any |= apply_property (s, name, value);
      g_variant_unref (value);
    }
  for (guint i = 0; invalidated[i] != NULL; i++)
    if (g_strv_contains (tracked_properties, invalidated[i]))
      fetch_property (self, s, invalidated[i]);

  if (any)
    self->changed (s->uid, self->user_data);
}

PdSessions *
pd_sessions_new (GDBusConnection *bus, PdSessionsChangedFunc changed,
                 PdSessionsSleepFunc sleep, gpointer user_data)
{
  PdSessions *self;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), NULL);
  g_return_val_if_fail (changed != NULL && sleep != NULL, NULL);

  self = g_new0 (PdSessions, 1);
  self->bus = g_object_ref (bus);
  self->changed = changed;
  self->sleep = sleep;
  self->user_data = user_data;
  self->cancellable = g_cancellable_new ();
  self->sessions = session_table_new ();
  self->resync_uids = g_array_new (FALSE, FALSE, sizeof (uid_t));
  self->children = g_hash_table_new (g_direct_hash, g_direct_equal);

  /* Subscribe before watching, so that nothing between ListSessions and
   * its answer is missed. */
  for (guint i = 0; i < G_N_ELEMENTS (manager_signals); i++)
    self->manager_subscriptions[i] =
      g_dbus_connection_signal_subscribe (bus, LOGIND_NAME, MANAGER_IFACE, manager_signals[i],
                                          LOGIND_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                          manager_signal, self, NULL);
  self->properties_subscription =
    g_dbus_connection_signal_subscribe (bus, LOGIND_NAME, PROPERTIES_IFACE, "PropertiesChanged",
                                        NULL, SESSION_IFACE, G_DBUS_SIGNAL_FLAGS_NONE,
                                        properties_changed, self, NULL);
  self->watch_id = g_bus_watch_name_on_connection (bus, LOGIND_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                   logind_appeared, logind_vanished, self, NULL);
  return self;
}

void
pd_sessions_free (PdSessions *self)
{
  if (self == NULL)
    return;

  /* Replies still on their way see the cancellation first and never touch
   * self. */
  g_cancellable_cancel (self->cancellable);
  g_bus_unwatch_name (self->watch_id);
  for (guint i = 0; i < G_N_ELEMENTS (self->manager_subscriptions); i++)
    g_dbus_connection_signal_unsubscribe (self->bus, self->manager_subscriptions[i]);
  g_dbus_connection_signal_unsubscribe (self->bus, self->properties_subscription);
  g_clear_handle_id (&self->retry_id, g_source_remove);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->bus);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_pointer (&self->children, g_hash_table_unref);
  g_clear_pointer (&self->resync_uids, g_array_unref);
  g_free (self->logind_owner);
  g_free (self);
}

void
pd_sessions_set_children (PdSessions *self, const uid_t *uids,
                          const gboolean *count_text, guint n)
{
  g_autoptr(GHashTable) old = NULL;
  g_autoptr(GArray) notify = NULL;
  GHashTableIter iter;
  PdLogindSession *s;

  g_return_if_fail (self != NULL);
  g_return_if_fail (n == 0 || (uids != NULL && count_text != NULL));

  old = self->children;
  self->children = g_hash_table_new (g_direct_hash, g_direct_equal);
  for (guint i = 0; i < n; i++)
    g_hash_table_insert (self->children, GUINT_TO_POINTER (uids[i]),
                         GUINT_TO_POINTER (count_text[i] ? 1 : 0));

  notify = g_array_new (FALSE, FALSE, sizeof (uid_t));
  g_hash_table_iter_init (&iter, self->sessions);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    {
      gboolean text_now;
      gpointer text_before;

      if (!s->uid_known)
        continue;
      if (!is_followed (self, s->uid, &text_now))
        {
          /* Not followed any more: its values would go stale. */
          s->loaded = FALSE;
          continue;
        }
      if (!s->loaded)
        {
          /* Newly followed; with logind away, the resync fetches it. */
          if (self->logind_owner != NULL)
            fetch_session (self, s, FALSE);
        }
      else if (g_hash_table_lookup_extended (old, GUINT_TO_POINTER (s->uid), NULL, &text_before) &&
               (GPOINTER_TO_UINT (text_before) != 0) != text_now && type_is_text (s->type))
        add_uid (notify, s->uid);
    }
  emit_changed (self, notify);
}

gboolean
pd_sessions_counting (PdSessions *self, uid_t uid)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return !self->sleeping && tally (self, uid, NULL).counting > 0;
}

gboolean
pd_sessions_any_unlocked (PdSessions *self, uid_t uid)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return tally (self, uid, NULL).unlocked > 0;
}

guint
pd_sessions_count (PdSessions *self, uid_t uid)
{
  g_return_val_if_fail (self != NULL, 0);
  return tally (self, uid, NULL).relevant;
}

GPtrArray *
pd_sessions_paths (PdSessions *self, uid_t uid)
{
  GPtrArray *paths;

  g_return_val_if_fail (self != NULL, NULL);
  paths = g_ptr_array_new_with_free_func (g_free);
  tally (self, uid, paths);
  return paths;
}

gboolean
pd_sessions_sleeping (PdSessions *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->sleeping;
}

gboolean
pd_sessions_logind_present (PdSessions *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->logind_owner != NULL;
}
