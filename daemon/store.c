/* store.c owns the state directory: state.json, written atomically and read
 * back leniently, and last-good-config.json, the last configuration that
 * loaded.
 *
 * state.json (PD_STATE_VERSION 1; moments are unix seconds, durations
 * seconds):
 *   {"version":1, "saved":T, "next_request_id":N,
 *    "children":[{"uid":U, "name":S|null, "locked_until":T,
 *                 "days":[{"date":"YYYY-MM-DD", "used":N, "bonus":N,
 *                          "apps":{"NAME":N, ...}}, ...]}, ...],
 *    "requests":[{"id":N, "uid":U, "kind":"time"|"purchase",
 *                 "state":"pending"|"approved"|"denied"|"expired",
 *                 "created":T, "expires":T, "answered":T, "seconds":N,
 *                 "reason":S|null,
 *                 "details":{"KEY":{"type":"GVARIANT TYPE", "value":S}}}, ...]}
 * where S is the detail in GVariant text format (g_variant_print with
 * types): unlike json_gvariant_deserialize, g_variant_parse checks every
 * value (object paths, signatures) and reports a bad one as an error.
 * Members a reader does not know are ignored, so version 1 may gain
 * members; anything else bumps it.
 *
 * last-good-config.json:
 *   {"version":1, "saved":T,
 *    "sources":[{"name":S, "kind":"config"|"rules", "text":S}, ...]}
 * A name or text that is not valid UTF-8 (or holds a NUL) is stored as
 * "name-base64" or "text-base64" instead, so that it comes back byte for
 * byte. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "daemon/store.h"
#include "policy/error.h"

#define STATE_FILE "state.json"
#define CONFIG_FILE "last-good-config.json"
#define CONFIG_VERSION 1
/* g_mkstemp_full's template suffix. */
#define TEMP_SUFFIX ".XXXXXX"

struct _PdStore {
  char *dir;          /* (owned) */
  char *state_path;   /* (owned) */
  char *config_path;  /* (owned) */
};

/* ---- the atomic writer ---------------------------------------------------- */

/* A temporary file that is removed unless it was renamed into place. */
typedef struct {
  char *path;   /* (owned) (nullable) NULL once renamed or never created */
  int fd;       /* -1 once closed */
} TempFile;

static void
temp_file_clear (TempFile *tmp)
{
  if (tmp->fd >= 0)
    close (tmp->fd);
  if (tmp->path != NULL)
    g_unlink (tmp->path);
  g_free (tmp->path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TempFile, temp_file_clear)

static gboolean
save_failed (GError **error, const char *path, const char *step, int errsv)
{
  g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot save %s: %s: %s", path, step,
               g_strerror (errsv));
  return FALSE;
}

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          if (n == 0)
            errno = EIO;
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* The rename is durable only once the directory entry is on disk. */
static gboolean
sync_dir (const char *dir, const char *path, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int errsv;

  if (fd < 0)
    return save_failed (error, path, "opening the directory", errno);
  /* Some file systems cannot fsync a directory (EINVAL); the rename has
   * happened, and is as durable as they make it. */
  errsv = fsync (fd) < 0 && errno != EINVAL ? errno : 0;
  close (fd);
  if (errsv != 0)
    return save_failed (error, path, "fsync of the directory", errsv);
  return TRUE;
}

/* Replaces path (in the store's directory) with data, so that a crash or a
 * failure at any point leaves either the old file or the new one, whole. */
static gboolean
write_atomically (PdStore *store, const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_auto (TempFile) tmp = { NULL, -1 };
  int fd;

  tmp.path = g_strconcat (store->dir, "/.", base, TEMP_SUFFIX, NULL);
  tmp.fd = g_mkstemp_full (tmp.path, O_RDWR | O_CLOEXEC, 0600);
  if (tmp.fd < 0)
    {
      int errsv = errno;

      /* Nothing was created, and the name may now be someone else's. */
      g_clear_pointer (&tmp.path, g_free);
      return save_failed (error, path, "creating a temporary file", errsv);
    }
  if (!write_all (tmp.fd, data, len))
    return save_failed (error, path, "writing", errno);
  if (fsync (tmp.fd) < 0)
    return save_failed (error, path, "fsync", errno);
  fd = tmp.fd;
  tmp.fd = -1;
  /* Some file systems report a failed write-back only at close. */
  if (close (fd) < 0)
    return save_failed (error, path, "closing", errno);
  if (rename (tmp.path, path) < 0)
    return save_failed (error, path, "renaming", errno);
  g_clear_pointer (&tmp.path, g_free);
  return sync_dir (store->dir, path, error);
}

static gboolean
save_json (PdStore *store, const char *path, JsonNode *root, GError **error)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *data = NULL;
  gsize len = 0;

  /* Pretty: an administrator may need to read it after a bad day. */
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &len);
  return write_atomically (store, path, data, len, error);
}

/* A temporary file left by a crash in the middle of a save. */
static gboolean
is_temp_file (const char *name)
{
  gsize len = strlen (name);
  gsize suffix = strlen (TEMP_SUFFIX);

  if (len <= suffix || name[len - suffix] != '.')
    return FALSE;
  return strncmp (name, "." STATE_FILE ".", strlen ("." STATE_FILE ".")) == 0
         || strncmp (name, "." CONFIG_FILE ".", strlen ("." CONFIG_FILE ".")) == 0;
}

static void
remove_temp_files (const char *dir_path)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      if (is_temp_file (name))
        {
          g_autofree char *path = g_build_filename (dir_path, name, NULL);

          g_unlink (path);
        }
    }
}

PdStore *
pd_store_new (const char *dir, GError **error)
{
  PdStore *store;

  g_return_val_if_fail (dir != NULL, NULL);

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int errsv = errno;

      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot create state directory %s: %s", dir,
                   g_strerror (errsv));
      return NULL;
    }
  /* Only one daemon owns the directory, so any temporary file is stale. */
  remove_temp_files (dir);
  store = g_new0 (PdStore, 1);
  store->dir = g_strdup (dir);
  store->state_path = g_build_filename (dir, STATE_FILE, NULL);
  store->config_path = g_build_filename (dir, CONFIG_FILE, NULL);
  return store;
}

void
pd_store_free (PdStore *store)
{
  if (store == NULL)
    return;
  g_free (store->dir);
  g_free (store->state_path);
  g_free (store->config_path);
  g_free (store);
}

const char *
pd_store_dir (PdStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);

  return store->dir;
}

/* ---- writing state.json --------------------------------------------------- */

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* JSON must be UTF-8, or the whole file would read back as corrupt; names
 * come from configuration files and may hold any bytes. */
static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value == NULL)
    json_builder_add_null_value (builder);
  else if (g_utf8_validate (value, -1, NULL))
    json_builder_add_string_value (builder, value);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (value, -1);

      json_builder_add_string_value (builder, valid);
    }
}

static void
set_member_name (JsonBuilder *builder, const char *name)
{
  g_autofree char *valid = g_utf8_make_valid (name, -1);

  json_builder_set_member_name (builder, valid);
}

/* Sorted keys, so that equal states give equal files. (transfer container) */
static GList *
sorted_keys (GHashTable *table)
{
  return g_list_sort (g_hash_table_get_keys (table), (GCompareFunc) strcmp);
}

static void
build_day (JsonBuilder *builder, const PdDayRecord *day)
{
  g_autoptr (GList) apps = sorted_keys (day->apps);
  const GList *l;

  json_builder_begin_object (builder);
  add_string (builder, "date", day->date);
  add_int (builder, "used", day->used);
  add_int (builder, "bonus", day->bonus);
  json_builder_set_member_name (builder, "apps");
  json_builder_begin_object (builder);
  for (l = apps; l != NULL; l = l->next)
    {
      set_member_name (builder, l->data);
      json_builder_add_int_value (builder, pd_day_record_app (day, l->data));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
}

static void
build_child (JsonBuilder *builder, const PdChildRecord *child)
{
  guint i;

  json_builder_begin_object (builder);
  add_int (builder, "uid", child->uid);
  add_string (builder, "name", child->name);
  add_int (builder, "locked_until", child->locked_until);
  json_builder_set_member_name (builder, "days");
  json_builder_begin_array (builder);
  for (i = 0; i < child->days->len; i++)
    build_day (builder, g_ptr_array_index (child->days, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
}

static void
build_details (JsonBuilder *builder, GHashTable *details)
{
  g_autoptr (GList) keys = sorted_keys (details);
  const GList *l;

  json_builder_begin_object (builder);
  for (l = keys; l != NULL; l = l->next)
    {
      GVariant *value = g_hash_table_lookup (details, l->data);
      g_autofree char *text = g_variant_print (value, TRUE);

      set_member_name (builder, l->data);
      json_builder_begin_object (builder);
      add_string (builder, "type", g_variant_get_type_string (value));
      add_string (builder, "value", text);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static void
build_request (JsonBuilder *builder, const PdRequest *request)
{
  json_builder_begin_object (builder);
  add_int (builder, "id", (gint64) request->id);
  add_int (builder, "uid", request->uid);
  add_string (builder, "kind", pd_request_kind_to_string (request->kind));
  add_string (builder, "state", pd_request_state_to_string (request->state));
  add_int (builder, "created", request->created);
  add_int (builder, "expires", request->expires);
  add_int (builder, "answered", request->answered);
  add_int (builder, "seconds", request->seconds);
  add_string (builder, "reason", request->reason);
  json_builder_set_member_name (builder, "details");
  build_details (builder, request->details);
  json_builder_end_object (builder);
}

static gint
compare_uids (gconstpointer a, gconstpointer b)
{
  guint ua = GPOINTER_TO_UINT (a);
  guint ub = GPOINTER_TO_UINT (b);

  return ua < ub ? -1 : ua > ub;
}

static JsonNode *
state_to_json (const PdState *state, gint64 now)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (GList) uids = g_list_sort (g_hash_table_get_keys (state->children), compare_uids);
  const GList *l;
  guint i;

  json_builder_begin_object (builder);
  add_int (builder, "version", PD_STATE_VERSION);
  add_int (builder, "saved", now);
  add_int (builder, "next_request_id", (gint64) state->next_request_id);
  json_builder_set_member_name (builder, "children");
  json_builder_begin_array (builder);
  for (l = uids; l != NULL; l = l->next)
    build_child (builder, g_hash_table_lookup (state->children, l->data));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "requests");
  json_builder_begin_array (builder);
  for (i = 0; i < state->requests->len; i++)
    build_request (builder, g_ptr_array_index (state->requests, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

gboolean
pd_store_save (PdStore *store, const PdState *state, GError **error)
{
  g_autoptr (JsonNode) root = NULL;

  g_return_val_if_fail (store != NULL && state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  root = state_to_json (state, g_get_real_time () / G_USEC_PER_SEC);
  return save_json (store, store->state_path, root, error);
}

/* ---- reading JSON: typed members, FALSE on any other type ----------------- */

static gboolean
get_int (JsonObject *object, const char *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
get_string (JsonObject *object, const char *name, gboolean nullable, const char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node != NULL && nullable && JSON_NODE_HOLDS_NULL (node))
    {
      *out = NULL;
      return TRUE;
    }
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  /* An escaped lone surrogate decodes to bytes that no D-Bus string may
   * carry; such a record is as bad as one of the wrong type. */
  return g_utf8_validate (*out, -1, NULL);
}

static JsonObject *
get_object (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* The document's top-level object, or NULL with *out_reason set. */
static JsonObject *
parse_document (JsonParser *parser, const char *data, gsize len, char **out_reason)
{
  g_autoptr (GError) error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data, (gssize) len, &error))
    {
      *out_reason = g_strdup_printf ("not JSON: %s", error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      *out_reason = g_strdup (root == NULL ? "empty" : "not a JSON object");
      return NULL;
    }
  return json_node_get_object (root);
}

/* ---- reading state.json: lenient per record -------------------------------- */

/* What could not be read, for the problem sentence. */
typedef struct {
  char *reason;           /* (owned) (nullable) why nothing could be read */
  gint64 future_version;  /* 0, or the newer version the file has */
  gboolean all_children;  /* the children member itself was unusable */
  gboolean all_requests;
  gboolean request_counter;
  guint children;         /* records dropped */
  guint days;
  guint requests;
} Losses;

static void
losses_clear (Losses *losses)
{
  g_free (losses->reason);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Losses, losses_clear)

static gboolean
losses_any (const Losses *losses)
{
  return losses->reason != NULL || losses->future_version != 0 || losses->all_children
         || losses->all_requests || losses->request_counter || losses->children != 0
         || losses->days != 0 || losses->requests != 0;
}

static gboolean
uid_valid (gint64 uid)
{
  /* (uid_t) -1 means "no user" to every system call. */
  return uid >= 0 && uid < (gint64) G_MAXUINT32;
}

static int
digits (const char *text, guint n)
{
  int value = 0;
  guint i;

  for (i = 0; i < n; i++)
    value = value * 10 + (text[i] - '0');
  return value;
}

/* "YYYY-MM-DD" and a real date: a malformed one would sort wrongly. */
static gboolean
date_valid (const char *date)
{
  static const char shape[] = "dddd-dd-dd";
  guint i;

  if (date == NULL || strlen (date) != strlen (shape))
    return FALSE;
  for (i = 0; shape[i] != '\0'; i++)
    {
      if (shape[i] == 'd' ? !g_ascii_isdigit (date[i]) : date[i] != shape[i])
        return FALSE;
    }
  return g_date_valid_dmy ((GDateDay) digits (date + 8, 2), (GDateMonth) digits (date + 5, 2),
                           (GDateYear) digits (date, 4));
}

static gboolean
apps_valid (JsonObject *apps)
{
  g_autoptr (GList) names = json_object_get_members (apps);
  const GList *l;
  gint64 seconds;

  for (l = names; l != NULL; l = l->next)
    {
      if (!get_int (apps, l->data, &seconds) || seconds < 0)
        return FALSE;
    }
  return TRUE;
}

/* A day is taken whole or not at all. */
static gboolean
read_day (PdChildRecord *child, JsonNode *node)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autoptr (GList) names = NULL;
  const GList *l;
  const char *date;
  gint64 used, bonus, seconds;
  JsonObject *apps;
  PdDayRecord *day;

  if (object == NULL || !get_string (object, "date", FALSE, &date) || !date_valid (date)
      || !get_int (object, "used", &used) || used < 0 || !get_int (object, "bonus", &bonus))
    return FALSE;
  apps = get_object (object, "apps");
  if (apps == NULL || !apps_valid (apps) || pd_child_record_lookup_day (child, date) != NULL)
    return FALSE;
  day = pd_child_record_day (child, date);
  day->used = used;
  day->bonus = bonus;
  names = json_object_get_members (apps);
  for (l = names; l != NULL; l = l->next)
    {
      get_int (apps, l->data, &seconds);
      pd_day_record_add_app (day, l->data, seconds);
    }
  return TRUE;
}

static gboolean
read_child (PdState *state, JsonNode *node, Losses *losses)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  PdChildRecord *child;
  const char *name;
  gint64 uid, locked_until;
  JsonArray *days;
  guint i;

  if (object == NULL || !get_int (object, "uid", &uid) || !uid_valid (uid)
      || !get_string (object, "name", TRUE, &name)
      || !get_int (object, "locked_until", &locked_until))
    return FALSE;
  days = get_array (object, "days");
  if (days == NULL || pd_state_lookup_child (state, (uid_t) uid) != NULL)
    return FALSE;
  child = pd_state_child (state, (uid_t) uid, name);
  child->locked_until = locked_until;
  for (i = 0; i < json_array_get_length (days); i++)
    {
      if (read_day (child, json_array_get_element (days, i)))
        continue;
      losses->days++;
      /* The store cannot tell which policy day is today; the engine is
       * told that some day of this child, perhaps today, was lost. */
      child->usage_lost = TRUE;
    }
  return TRUE;
}

static gboolean
read_details (GHashTable *details, JsonObject *object)
{
  g_autoptr (GList) keys = json_object_get_members (object);
  const GList *l;

  for (l = keys; l != NULL; l = l->next)
    {
      JsonObject *detail = get_object (object, l->data);
      const char *type, *text;
      GVariant *variant;

      if (detail == NULL || !get_string (detail, "type", FALSE, &type)
          || !g_variant_type_string_is_valid (type)
          || !g_variant_type_is_definite (G_VARIANT_TYPE (type))
          || !get_string (detail, "value", FALSE, &text))
        return FALSE;
      variant = g_variant_parse (G_VARIANT_TYPE (type), text, NULL, NULL, NULL);
      if (variant == NULL)
        return FALSE;
      g_hash_table_insert (details, g_strdup (l->data), variant);
    }
  return TRUE;
}

static PdRequest *
read_request (JsonObject *object)
{
  g_autoptr (PdRequest) request = NULL;
  const char *kind_name, *state_name, *reason;
  PdRequestKind kind;
  PdRequestState request_state;
  gint64 id, uid, created;
  JsonObject *details;

  if (!get_int (object, "id", &id) || id < 1 || !get_int (object, "uid", &uid) || !uid_valid (uid)
      || !get_string (object, "kind", FALSE, &kind_name)
      || !pd_request_kind_from_string (kind_name, &kind)
      || !get_string (object, "state", FALSE, &state_name)
      || !pd_request_state_from_string (state_name, &request_state)
      || !get_int (object, "created", &created))
    return NULL;
  request = pd_request_new ((guint64) id, (uid_t) uid, kind, created);
  request->state = request_state;
  details = get_object (object, "details");
  if (!get_int (object, "expires", &request->expires)
      || !get_int (object, "answered", &request->answered)
      || !get_int (object, "seconds", &request->seconds)
      || !get_string (object, "reason", TRUE, &reason) || details == NULL
      || !read_details (request->details, details))
    return NULL;
  request->reason = g_strdup (reason);
  return g_steal_pointer (&request);
}

static void
read_requests (PdState *state, JsonObject *root, Losses *losses)
{
  JsonArray *requests = get_array (root, "requests");
  guint i;

  if (requests == NULL)
    {
      losses->all_requests = TRUE;
      return;
    }
  for (i = 0; i < json_array_get_length (requests); i++)
    {
      JsonNode *node = json_array_get_element (requests, i);
      g_autoptr (PdRequest) request = NULL;

      if (JSON_NODE_HOLDS_OBJECT (node))
        request = read_request (json_node_get_object (node));
      if (request == NULL || pd_state_find_request (state, request->id) != NULL)
        losses->requests++;
      else
        g_ptr_array_add (state->requests, g_steal_pointer (&request));
    }
}

static void
read_request_counter (PdState *state, JsonObject *root, Losses *losses)
{
  gint64 next = 1;
  guint i;

  if (!get_int (root, "next_request_id", &next) || next < 1)
    {
      losses->request_counter = TRUE;
      next = 1;
    }
  state->next_request_id = (guint64) next;
  /* Never hand out an id a kept request has, even if the counter was lost. */
  for (i = 0; i < state->requests->len; i++)
    {
      const PdRequest *request = g_ptr_array_index (state->requests, i);

      state->next_request_id = MAX (state->next_request_id, request->id + 1);
    }
}

static PdState *
state_from_json (const char *data, gsize len, Losses *losses)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (PdState) state = pd_state_new ();
  JsonObject *root = parse_document (parser, data, len, &losses->reason);
  JsonArray *children;
  gint64 version;
  guint i;

  if (root == NULL)
    return g_steal_pointer (&state);
  if (!get_int (root, "version", &version) || version < 1)
    {
      losses->reason = g_strdup ("no valid version number");
      return g_steal_pointer (&state);
    }
  /* A newer parentd's file is not ours to interpret, nor to destroy. */
  if (version > PD_STATE_VERSION)
    {
      losses->future_version = version;
      return g_steal_pointer (&state);
    }
  children = get_array (root, "children");
  losses->all_children = children == NULL;
  for (i = 0; children != NULL && i < json_array_get_length (children); i++)
    {
      if (!read_child (state, json_array_get_element (children, i), losses))
        losses->children++;
    }
  read_requests (state, root, losses);
  read_request_counter (state, root, losses);
  return g_steal_pointer (&state);
}

/* ---- moving a bad file aside, and saying so ------------------------------- */

/* path.corrupt-<now>, or, when that exists, path.corrupt-<now>.N. */
static char *
corrupt_name (const char *path)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  char *name = g_strdup_printf ("%s.corrupt-%" G_GINT64_FORMAT, path, now);
  guint n;

  for (n = 1; g_file_test (name, G_FILE_TEST_EXISTS); n++)
    {
      g_free (name);
      name = g_strdup_printf ("%s.corrupt-%" G_GINT64_FORMAT ".%u", path, now, n);
    }
  return name;
}

/* Keeps the bad file for a human to look at, out of the way of the next
 * save. When it cannot be renamed, the bytes read are copied. */
static char *
move_aside (PdStore *store, const char *path, const char *data, gsize len, GError **error)
{
  g_autofree char *target = corrupt_name (path);
  int errsv;

  if (rename (path, target) == 0)
    return g_steal_pointer (&target);
  errsv = errno;
  if (data != NULL && write_atomically (store, target, data, len, NULL))
    return g_steal_pointer (&target);
  g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "%s", g_strerror (errsv));
  return NULL;
}

static char *
plural (guint n, const char *one, const char *many)
{
  return g_strdup_printf ("%u %s", n, n == 1 ? one : many);
}

/* "1 child record, 2 day records and the request counter". */
static char *
describe_dropped (const Losses *losses)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) text = g_string_new (NULL);
  guint i;

  if (losses->all_children)
    g_ptr_array_add (parts, g_strdup ("all usage history and lock-outs"));
  if (losses->children != 0)
    g_ptr_array_add (parts, plural (losses->children, "child record", "child records"));
  if (losses->days != 0)
    g_ptr_array_add (parts, plural (losses->days, "day record", "day records"));
  if (losses->all_requests)
    g_ptr_array_add (parts, g_strdup ("all requests"));
  if (losses->requests != 0)
    g_ptr_array_add (parts, plural (losses->requests, "request", "requests"));
  if (losses->request_counter)
    g_ptr_array_add (parts, g_strdup ("the request counter"));
  for (i = 0; i < parts->len; i++)
    {
      if (i > 0)
        g_string_append (text, i + 1 == parts->len ? " and " : ", ");
      g_string_append (text, g_ptr_array_index (parts, i));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
describe_problem (const char *path, const char *where, const Losses *losses)
{
  g_autofree char *dropped = NULL;

  if (losses->future_version != 0)
    return g_strdup_printf ("state file %s has format version %" G_GINT64_FORMAT
                            ", newer than this parentd reads (%d), and %s; it was not read, "
                            "so usage history, lock-outs and requests start empty",
                            path, losses->future_version, PD_STATE_VERSION, where);
  if (losses->reason != NULL)
    return g_strdup_printf ("state file %s was corrupt (%s) and %s; usage history, lock-outs "
                            "and requests were lost", path, losses->reason, where);
  dropped = describe_dropped (losses);
  return g_strdup_printf ("state file %s was partly corrupt and %s; %s could not be read, "
                          "the rest was recovered", path, where, dropped);
}

static char *
recover (PdStore *store, const char *data, gsize len, const Losses *losses)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *moved = move_aside (store, store->state_path, data, len, &error);
  g_autofree char *where = NULL;

  if (moved != NULL)
    where = g_strdup_printf ("was moved to %s", moved);
  else
    where = g_strdup_printf ("could not be moved aside (%s), so the next save replaces it",
                             error->message);
  return describe_problem (store->state_path, where, losses);
}

PdState *
pd_store_load (PdStore *store, char **out_problem)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (PdState) state = NULL;
  g_auto (Losses) losses = { NULL };
  char *problem = NULL;
  gsize len = 0;

  g_return_val_if_fail (store != NULL, pd_state_new ());

  if (g_file_get_contents (store->state_path, &data, &len, &error))
    state = state_from_json (data, len, &losses);
  else if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    losses.reason = g_strdup_printf ("unreadable: %s", error->message);
  if (state == NULL)
    state = pd_state_new ();
  /* Fail open: the daemon runs on what could be read rather than not at
   * all; the caller logs and shows the problem, so no loss is silent. */
  if (losses_any (&losses))
    problem = recover (store, data, len, &losses);
  if (out_problem != NULL)
    *out_problem = problem;
  else
    g_free (problem);
  return g_steal_pointer (&state);
}

/* ---- the last good configuration ------------------------------------------ */

static const char *
source_kind_to_string (PdSourceKind kind)
{
  return kind == PD_SOURCE_RULES ? "rules" : "config";
}

static gboolean
source_kind_from_string (const char *text, PdSourceKind *out)
{
  if (g_strcmp0 (text, "config") == 0)
    *out = PD_SOURCE_CONFIG;
  else if (g_strcmp0 (text, "rules") == 0)
    *out = PD_SOURCE_RULES;
  else
    return FALSE;
  return TRUE;
}

/* name, or name-base64 when the bytes are no UTF-8 JSON string. */
static void
add_bytes (JsonBuilder *builder, const char *name, const char *data, gsize len)
{
  if (g_utf8_validate_len (data, len, NULL))
    {
      g_autofree char *text = g_strndup (data, len);

      json_builder_set_member_name (builder, name);
      json_builder_add_string_value (builder, text);
    }
  else
    {
      g_autofree char *member = g_strconcat (name, "-base64", NULL);
      g_autofree char *encoded = g_base64_encode ((const guchar *) data, len);

      json_builder_set_member_name (builder, member);
      json_builder_add_string_value (builder, encoded);
    }
}

gboolean
pd_store_save_config (PdStore *store, const PdConfig *config, GError **error)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint i;

  g_return_val_if_fail (store != NULL && config != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  json_builder_begin_object (builder);
  add_int (builder, "version", CONFIG_VERSION);
  add_int (builder, "saved", g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "sources");
  json_builder_begin_array (builder);
  for (i = 0; i < config->sources->len; i++)
    {
      const PdSource *source = g_ptr_array_index (config->sources, i);

      json_builder_begin_object (builder);
      add_bytes (builder, "name", source->name, strlen (source->name));
      add_string (builder, "kind", source_kind_to_string (source->kind));
      add_bytes (builder, "text", source->text, source->len);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return save_json (store, store->config_path, root, error);
}

/* A saved source, read whole before any goes to the loader. */
typedef struct {
  char *name;   /* (owned) */
  PdSourceKind kind;
  GBytes *text; /* (owned) */
} SavedSource;

static void
saved_source_free (gpointer data)
{
  SavedSource *source = data;

  g_free (source->name);
  g_bytes_unref (source->text);
  g_free (source);
}

/* The bytes of name or name-base64, NUL-terminated for convenience. */
static char *
get_bytes (JsonObject *object, const char *name, gsize *out_len)
{
  g_autofree char *member = g_strconcat (name, "-base64", NULL);
  const char *text;
  guchar *raw;
  gsize len = 0;

  if (get_string (object, name, FALSE, &text))
    {
      *out_len = strlen (text);
      return g_strdup (text);
    }
  if (!get_string (object, member, FALSE, &text))
    return NULL;
  raw = g_base64_decode (text, &len);
  raw = g_realloc (raw, len + 1);
  raw[len] = '\0';
  *out_len = len;
  return (char *) raw;
}

static SavedSource *
read_source (JsonNode *node)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  g_autofree char *name = NULL;
  char *text;
  const char *kind_name;
  PdSourceKind kind;
  SavedSource *source;
  gsize len = 0;

  if (object == NULL || !get_string (object, "kind", FALSE, &kind_name)
      || !source_kind_from_string (kind_name, &kind))
    return NULL;
  name = get_bytes (object, "name", &len);
  text = name != NULL ? get_bytes (object, "text", &len) : NULL;
  if (text == NULL)
    return NULL;
  source = g_new0 (SavedSource, 1);
  source->name = g_steal_pointer (&name);
  source->kind = kind;
  source->text = g_bytes_new_take (text, len);
  return source;
}

/* Every source, or NULL with error: a part of a configuration is not one. */
static GPtrArray *
read_sources (const char *path, const char *data, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) sources = g_ptr_array_new_with_free_func (saved_source_free);
  g_autofree char *reason = NULL;
  JsonObject *root = parse_document (parser, data, len, &reason);
  JsonArray *array = root != NULL ? get_array (root, "sources") : NULL;
  gint64 version = 0;
  guint i;

  if (root != NULL && !get_int (root, "version", &version))
    reason = g_strdup ("no valid version number");
  else if (root != NULL && version != CONFIG_VERSION)
    reason = g_strdup_printf ("unknown version %" G_GINT64_FORMAT, version);
  else if (root != NULL && array == NULL)
    reason = g_strdup ("no sources");
  for (i = 0; reason == NULL && i < json_array_get_length (array); i++)
    {
      SavedSource *source = read_source (json_array_get_element (array, i));

      if (source == NULL)
        reason = g_strdup_printf ("source %u is malformed", i + 1);
      else
        g_ptr_array_add (sources, source);
    }
  if (reason != NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "saved configuration %s is corrupt: %s",
                   path, reason);
      return NULL;
    }
  return g_steal_pointer (&sources);
}

gboolean
pd_store_load_config (PdStore *store, PdLoader *loader, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) sources = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;
  guint i;

  g_return_val_if_fail (store != NULL && loader != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_file_get_contents (store->config_path, &data, &len, &local_error))
    {
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "no saved configuration: %s",
                   local_error->message);
      return FALSE;
    }
  /* Fail closed: a saved configuration that is read only in part would
   * enforce less than the parent configured, so none of it is used. */
  sources = read_sources (store->config_path, data, len, error);
  if (sources == NULL)
    return FALSE;
  for (i = 0; i < sources->len; i++)
    {
      const SavedSource *source = g_ptr_array_index (sources, i);
      gsize text_len = 0;
      const char *text = g_bytes_get_data (source->text, &text_len);

      pd_loader_add_data (loader, source->name, text, text_len, source->kind);
    }
  return TRUE;
}
