/* store.c owns the state directory: state.json, written atomically and read
 * back leniently (its format is state-json.c's), moved aside when corrupt,
 * and last-good-config.json, the last configuration that loaded.
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

#include "daemon/state-json.h"
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
  /* Background writes of state.json, one at a time and in order. */
  GThreadPool *writer;   /* (owned) (nullable) made on first use */
  GMutex lock;           /* guards what follows, and serialises every write */
  GCond drained;
  guint queued;          /* writes not finished yet */
  char *failure;         /* (owned) (nullable) the last background write's error */
};

typedef struct {
  char *data;         /* (owned) */
  gsize len;
} Write;

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
  g_mutex_init (&store->lock);
  g_cond_init (&store->drained);
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
  /* Waits for the writes still queued: they are the latest state. */
  if (store->writer != NULL)
    g_thread_pool_free (store->writer, FALSE, TRUE);
  g_mutex_clear (&store->lock);
  g_cond_clear (&store->drained);
  g_free (store->failure);
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

static char *
state_text (const PdState *state, gsize *len)
{
  g_autoptr (JsonNode) root = pd_state_to_json (state, g_get_real_time () / G_USEC_PER_SEC);
  g_autoptr (JsonGenerator) generator = json_generator_new ();

  /* Pretty: an administrator may need to read it after a bad day. */
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, len);
}

/* Every write of state.json holds the lock, so that the file always ends
 * up with the latest state asked for, whichever thread wrote it. */
static void
write_in_background (gpointer data, gpointer user_data)
{
  Write *write = data;
  PdStore *store = user_data;
  g_autoptr (GError) error = NULL;

  g_mutex_lock (&store->lock);
  if (!write_atomically (store, store->state_path, write->data, write->len, &error))
    {
      g_free (store->failure);
      store->failure = g_strdup (error->message);
    }
  else
    g_clear_pointer (&store->failure, g_free);
  store->queued--;
  g_cond_broadcast (&store->drained);
  g_mutex_unlock (&store->lock);
  g_free (write->data);
  g_free (write);
}

gboolean
pd_store_save (PdStore *store, const PdState *state, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  gboolean ok;

  g_return_val_if_fail (store != NULL && state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = state_text (state, &len);
  g_mutex_lock (&store->lock);
  /* Queued writes hold older states: they go first. */
  while (store->queued > 0)
    g_cond_wait (&store->drained, &store->lock);
  ok = write_atomically (store, store->state_path, data, len, error);
  if (ok)
    g_clear_pointer (&store->failure, g_free);
  g_mutex_unlock (&store->lock);
  return ok;
}

gboolean
pd_store_save_in_background (PdStore *store, const PdState *state, GError **error)
{
  Write *write;
  gboolean ok;

  g_return_val_if_fail (store != NULL && state != NULL, FALSE);

  if (store->writer == NULL)
    store->writer = g_thread_pool_new (write_in_background, store, 1, TRUE, NULL);
  write = g_new0 (Write, 1);
  write->data = state_text (state, &write->len);

  g_mutex_lock (&store->lock);
  ok = store->failure == NULL;
  if (!ok)
    g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "%s", store->failure);
  store->queued++;
  g_mutex_unlock (&store->lock);
  g_thread_pool_push (store->writer, write, NULL);
  return ok;
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
describe_dropped (const PdStateLosses *losses)
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
  if (losses->purchases != 0)
    g_ptr_array_add (parts, plural (losses->purchases, "purchase record", "purchase records"));
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
describe_problem (const char *path, const char *where, const PdStateLosses *losses)
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
recover (PdStore *store, const char *data, gsize len, const PdStateLosses *losses)
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
  g_auto (PdStateLosses) losses = { NULL };
  char *problem = NULL;
  gsize len = 0;

  g_return_val_if_fail (store != NULL, pd_state_new ());

  if (g_file_get_contents (store->state_path, &data, &len, &error))
    state = pd_state_from_json (data, len, &losses);
  else if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    losses.reason = g_strdup_printf ("unreadable: %s", error->message);
  if (state == NULL)
    state = pd_state_new ();
  /* Fail open: the daemon runs on what could be read rather than not at
   * all; the caller logs and shows the problem, so no loss is silent. */
  if (pd_state_losses_any (&losses))
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
  pd_json_add_int (builder, "version", CONFIG_VERSION);
  pd_json_add_int (builder, "saved", g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "sources");
  json_builder_begin_array (builder);
  for (i = 0; i < config->sources->len; i++)
    {
      const PdSource *source = g_ptr_array_index (config->sources, i);

      json_builder_begin_object (builder);
      add_bytes (builder, "name", source->name, strlen (source->name));
      pd_json_add_string (builder, "kind", source_kind_to_string (source->kind));
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

  if (pd_json_get_string (object, name, FALSE, &text))
    {
      *out_len = strlen (text);
      return g_strdup (text);
    }
  if (!pd_json_get_string (object, member, FALSE, &text))
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

  if (object == NULL || !pd_json_get_string (object, "kind", FALSE, &kind_name)
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
  JsonObject *root = pd_json_parse_document (parser, data, len, &reason);
  JsonArray *array = root != NULL ? pd_json_get_array (root, "sources") : NULL;
  gint64 version = 0;
  guint i;

  if (root != NULL && !pd_json_get_int (root, "version", &version))
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
