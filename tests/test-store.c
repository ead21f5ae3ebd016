/* Tests of the durable state: state.c's plain data, and store.c's atomic
 * writes, lenient recovery of corrupt files, full and read-only disks, and
 * the saved last good configuration. */
#define _GNU_SOURCE  /* unshare (2) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "daemon/store.h"
#include "policy/error.h"

/* ---- fixture: a fresh state directory, and maybe a tmpfs ------------------ */

typedef struct {
  char *dir;        /* (owned) a fresh temporary directory */
  char *mount;      /* (owned) (nullable) a tmpfs mounted by the test, in dir */
  PdStore *store;   /* (owned) on dir, or on mount */
} Fixture;

static void
remove_tree (const char *path)
{
  struct stat st;
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (lstat (path, &st) < 0)
    return;
  if (!S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }
  g_rmdir (path);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = pd_store_new (f->dir, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->store, pd_store_free);
  if (f->mount != NULL && umount2 (f->mount, MNT_DETACH) < 0)
    g_printerr ("cannot unmount %s: %s\n", f->mount, g_strerror (errno));
  g_clear_pointer (&f->mount, g_free);
  remove_tree (f->dir);
  g_clear_pointer (&f->dir, g_free);
}

/* Mounts a tmpfs in the fixture's directory and moves the store onto it.
 * FALSE, with the test skipped, where this process may not mount. */
static gboolean
mount_tmpfs (Fixture *f, const char *options)
{
  g_autofree char *mnt = g_build_filename (f->dir, "mnt", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (mnt, 0700), ==, 0);
  if (mount ("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a tmpfs here (%s): needs root "
                                              "or CAP_SYS_ADMIN", g_strerror (errno));

      g_test_skip (why);
      return FALSE;
    }
  f->mount = g_steal_pointer (&mnt);
  pd_store_free (f->store);
  f->store = pd_store_new (f->mount, &error);
  g_assert_no_error (error);
  return TRUE;
}

static char *
state_path (Fixture *f)
{
  return g_build_filename (pd_store_dir (f->store), "state.json", NULL);
}

static void
write_state_file (Fixture *f, const char *data, gssize len)
{
  g_autofree char *path = state_path (f);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *path, gsize *out_len)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, out_len, &error);
  g_assert_no_error (error);
  return data;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The directory's entries, sorted, joined by spaces. */
static char *
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* ---- states to save, and comparing them ----------------------------------- */

static PdState *
make_full_state (void)
{
  PdState *state = pd_state_new ();
  PdChildRecord *kid1 = pd_state_child (state, 61001, "kid1");
  PdChildRecord *kid2 = pd_state_child (state, 61002, "élève");
  PdDayRecord *day;
  PdRequest *request;
  const char *tags[] = { "games", "steam", NULL };

  kid1->locked_until = 1764300000;
  day = pd_child_record_day (kid1, "2025-11-28");
  day->used = 3600;
  day->bonus = 900;
  day->limit_known = TRUE;
  day->limit = 5400;
  pd_day_record_add_app (day, "games", 1200);
  pd_day_record_add_app (day, "browser", 300);
  day = pd_child_record_day (kid1, "2025-11-27");
  day->used = 5400;
  day->bonus = -600;
  day->limit_known = TRUE;
  day->limit = -1;   /* unlimited that day */
  day = pd_child_record_day (kid2, "2025-11-28");   /* no limit recorded */
  day->used = 60;
  pd_day_record_add_app (day, "jeux-vidéo", 45);

  request = pd_state_add_request (state, 61001, PD_REQUEST_TIME, 1764290000);
  request->state = PD_REQUEST_APPROVED;
  request->expires = 1764302400;
  request->answered = 1764290600;
  request->seconds = 1800;
  request->reason = g_strdup ("Devoirs 📚 — «finir» l'essai,\tplease\n\"now\"");

  request = pd_state_add_request (state, 61002, PD_REQUEST_PURCHASE, 1764291000);
  request->expires = 1764291600;
  g_hash_table_insert (request->details, g_strdup ("rule"), g_variant_ref_sink (g_variant_new_string ("steam")));
  g_hash_table_insert (request->details, g_strdup ("target"),
                       g_variant_ref_sink (g_variant_new_string ("https://store.steampowered.com/checkout")));
  g_hash_table_insert (request->details, g_strdup ("pid"), g_variant_ref_sink (g_variant_new_uint32 (4242)));
  g_hash_table_insert (request->details, g_strdup ("held_until"),
                       g_variant_ref_sink (g_variant_new_uint64 (1764291600)));
  g_hash_table_insert (request->details, g_strdup ("frozen"), g_variant_ref_sink (g_variant_new_boolean (TRUE)));
  g_hash_table_insert (request->details, g_strdup ("tags"), g_variant_ref_sink (g_variant_new_strv (tags, -1)));
  g_hash_table_insert (request->details, g_strdup ("extra"),
                       g_variant_ref_sink (g_variant_new_parsed ("{'scope': <objectpath '/org/x'>, "
                                                                 "'argv': <[b'steam', b'\\xff']>, "
                                                                 "'amount': <@md 4.99>}")));
  return state;
}

static void
assert_days_equal (const PdDayRecord *a, const PdDayRecord *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpstr (a->date, ==, b->date);
  g_assert_cmpint (a->used, ==, b->used);
  g_assert_cmpint (a->bonus, ==, b->bonus);
  g_assert_cmpint (a->limit_known, ==, b->limit_known);
  if (a->limit_known)
    g_assert_cmpint (a->limit, ==, b->limit);
  g_assert_cmpuint (g_hash_table_size (a->apps), ==, g_hash_table_size (b->apps));
  g_hash_table_iter_init (&iter, a->apps);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpint (*(gint64 *) value, ==, pd_day_record_app (b, key));
}

static void
assert_children_equal (const PdChildRecord *a, const PdChildRecord *b)
{
  guint i;

  g_assert_nonnull (b);
  g_assert_cmpuint (a->uid, ==, b->uid);
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->locked_until, ==, b->locked_until);
  g_assert_cmpuint (a->days->len, ==, b->days->len);
  for (i = 0; i < a->days->len && i < b->days->len; i++)
    assert_days_equal (g_ptr_array_index (a->days, i), g_ptr_array_index (b->days, i));
}

static void
assert_requests_equal (const PdRequest *a, const PdRequest *b)
{
  GHashTableIter iter;
  gpointer key, value;

  g_assert_cmpuint (a->id, ==, b->id);
  g_assert_cmpuint (a->uid, ==, b->uid);
  g_assert_cmpint (a->kind, ==, b->kind);
  g_assert_cmpint (a->state, ==, b->state);
  g_assert_cmpint (a->created, ==, b->created);
  g_assert_cmpint (a->expires, ==, b->expires);
  g_assert_cmpint (a->answered, ==, b->answered);
  g_assert_cmpint (a->seconds, ==, b->seconds);
  g_assert_cmpstr (a->reason, ==, b->reason);
  g_assert_cmpuint (g_hash_table_size (a->details), ==, g_hash_table_size (b->details));
  g_hash_table_iter_init (&iter, a->details);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GVariant *other = g_hash_table_lookup (b->details, key);

      g_assert_nonnull (other);
      g_assert_true (other != NULL && g_variant_equal (value, other));
    }
}

static void
assert_states_equal (const PdState *a, const PdState *b)
{
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_assert_cmpuint (g_hash_table_size (a->children), ==, g_hash_table_size (b->children));
  g_hash_table_iter_init (&iter, a->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    assert_children_equal (value, pd_state_lookup_child (b, ((PdChildRecord *) value)->uid));
  g_assert_cmpuint (a->requests->len, ==, b->requests->len);
  for (i = 0; i < a->requests->len && i < b->requests->len; i++)
    assert_requests_equal (g_ptr_array_index (a->requests, i), g_ptr_array_index (b->requests, i));
  g_assert_cmpuint (a->next_request_id, ==, b->next_request_id);
}

static PdState *
load_clean (Fixture *f)
{
  g_autofree char *problem = NULL;
  PdState *state = pd_store_load (f->store, &problem);

  g_assert_nonnull (state);
  g_assert_null (problem);
  return state;
}

static void
save_ok (Fixture *f, const PdState *state)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pd_store_save (f->store, state, &error));
  g_assert_no_error (error);
}

/* ---- state.c -------------------------------------------------------------- */

static void
test_state_days (void)
{
  g_autoptr (PdState) state = pd_state_new ();
  PdChildRecord *child = pd_state_child (state, 1001, "alice");
  PdDayRecord *day;

  g_assert_true (pd_state_child (state, 1001, NULL) == child);
  g_assert_cmpstr (child->name, ==, "alice");
  pd_state_child (state, 1001, "alice2");
  g_assert_cmpstr (child->name, ==, "alice2");
  g_assert_true (pd_state_lookup_child (state, 1001) == child);
  g_assert_null (pd_state_lookup_child (state, 1002));

  pd_child_record_day (child, "2025-11-27");
  pd_child_record_day (child, "2025-11-29");
  day = pd_child_record_day (child, "2025-11-28");
  pd_child_record_day (child, "2024-12-31");
  g_assert_true (pd_child_record_day (child, "2025-11-28") == day);
  g_assert_cmpuint (child->days->len, ==, 4);
  g_assert_cmpstr (((PdDayRecord *) g_ptr_array_index (child->days, 0))->date, ==, "2025-11-29");
  g_assert_cmpstr (((PdDayRecord *) g_ptr_array_index (child->days, 1))->date, ==, "2025-11-28");
  g_assert_cmpstr (((PdDayRecord *) g_ptr_array_index (child->days, 2))->date, ==, "2025-11-27");
  g_assert_cmpstr (((PdDayRecord *) g_ptr_array_index (child->days, 3))->date, ==, "2024-12-31");
  g_assert_true (pd_child_record_lookup_day (child, "2025-11-28") == day);
  g_assert_null (pd_child_record_lookup_day (child, "2025-11-30"));
  g_assert_null (pd_child_record_lookup_day (child, "2025-01-01"));

  g_assert_cmpint (pd_day_record_app (day, "games"), ==, 0);
  pd_day_record_add_app (day, "games", 60);
  pd_day_record_add_app (day, "games", 30);
  g_assert_cmpint (pd_day_record_app (day, "games"), ==, 90);
}

static void
test_state_requests (void)
{
  g_autoptr (PdState) state = pd_state_new ();
  PdRequest *a = pd_state_add_request (state, 1001, PD_REQUEST_TIME, 100);
  PdRequest *b = pd_state_add_request (state, 1002, PD_REQUEST_PURCHASE, 200);
  PdRequestKind kind;
  PdRequestState request_state;

  g_assert_cmpuint (a->id, ==, 1);
  g_assert_cmpuint (b->id, ==, 2);
  g_assert_cmpint (a->state, ==, PD_REQUEST_PENDING);
  g_assert_cmpint (b->created, ==, 200);
  g_assert_true (pd_state_find_request (state, 2) == b);
  g_assert_null (pd_state_find_request (state, 0));
  g_assert_null (pd_state_find_request (state, 3));

  g_assert_cmpstr (pd_request_kind_to_string (PD_REQUEST_PURCHASE), ==, "purchase");
  g_assert_cmpstr (pd_request_state_to_string (PD_REQUEST_EXPIRED), ==, "expired");
  g_assert_null (pd_request_kind_to_string ((PdRequestKind) 7));
  g_assert_null (pd_request_state_to_string ((PdRequestState) 7));
  g_assert_true (pd_request_kind_from_string ("time", &kind));
  g_assert_cmpint (kind, ==, PD_REQUEST_TIME);
  g_assert_true (pd_request_state_from_string ("denied", &request_state));
  g_assert_cmpint (request_state, ==, PD_REQUEST_DENIED);
  g_assert_false (pd_request_kind_from_string ("Time", &kind));
  g_assert_false (pd_request_state_from_string (NULL, &request_state));
}

static void
test_state_prune (void)
{
  g_autoptr (PdState) state = pd_state_new ();
  PdChildRecord *child = pd_state_child (state, 1001, "alice");
  PdChildRecord *empty = pd_state_child (state, 1002, "bob");
  const char *dates[] = { "2025-11-30", "2025-09-01", "2025-08-31", "2025-08-01", "2024-12-31" };
  PdRequest *request;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (dates); i++)
    pd_child_record_day (child, dates[i]);
  pd_state_add_request (state, 1001, PD_REQUEST_TIME, 100);            /* old, pending: kept */
  request = pd_state_add_request (state, 1001, PD_REQUEST_TIME, 100);  /* old, denied: dropped */
  request->state = PD_REQUEST_DENIED;
  request = pd_state_add_request (state, 1001, PD_REQUEST_PURCHASE, 500); /* new: kept */
  request->state = PD_REQUEST_EXPIRED;
  request = pd_state_add_request (state, 1001, PD_REQUEST_TIME, 499);  /* old, expired: dropped */
  request->state = PD_REQUEST_EXPIRED;

  pd_state_prune (state, "2025-09-01", 500);
  g_assert_cmpuint (child->days->len, ==, 2);
  g_assert_nonnull (pd_child_record_lookup_day (child, "2025-11-30"));
  g_assert_nonnull (pd_child_record_lookup_day (child, "2025-09-01"));
  g_assert_cmpuint (empty->days->len, ==, 0);
  g_assert_cmpuint (state->requests->len, ==, 2);
  g_assert_nonnull (pd_state_find_request (state, 1));
  g_assert_nonnull (pd_state_find_request (state, 3));
  /* Ids of pruned requests are never handed out again. */
  g_assert_cmpuint (pd_state_add_request (state, 1001, PD_REQUEST_TIME, 600)->id, ==, 5);
}

/* ---- saving and loading state.json ---------------------------------------- */

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = load_clean (f);
  g_autofree char *listing = list_dir (f->dir);

  g_assert_cmpuint (g_hash_table_size (state->children), ==, 0);
  g_assert_cmpuint (state->requests->len, ==, 0);
  g_assert_cmpuint (state->next_request_id, ==, 1);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = make_full_state ();
  g_autoptr (PdState) loaded = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = state_path (f);
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  JsonObject *root;

  save_ok (f, state);
  loaded = load_clean (f);
  assert_states_equal (state, loaded);
  g_assert_cmpuint (pd_state_add_request (loaded, 61001, PD_REQUEST_TIME, 0)->id, ==, 3);

  /* The file is the documented document. */
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "version"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (root, "next_request_id"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (root, "saved"), >=, before);
  g_assert_cmpint (json_object_get_int_member (root, "saved"), <=, before + 60);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "children")), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "requests")), ==, 2);
}

/* Names come from configuration files and may hold any bytes; they must
 * not make the whole file unreadable. */
static void
test_invalid_utf8 (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = pd_state_new ();
  g_autoptr (PdState) loaded = NULL;
  PdChildRecord *child = pd_state_child (state, 61001, "kid\xff");
  PdDayRecord *day = pd_child_record_day (child, "2025-11-28");
  PdChildRecord *loaded_child;
  PdDayRecord *loaded_day;

  day->used = 77;
  pd_day_record_add_app (day, "g\xe9mes", 30);
  save_ok (f, state);
  loaded = load_clean (f);
  loaded_child = pd_state_lookup_child (loaded, 61001);
  g_assert_nonnull (loaded_child);
  g_assert_true (loaded_child != NULL && g_utf8_validate (loaded_child->name, -1, NULL));
  loaded_day = loaded_child != NULL ? pd_child_record_lookup_day (loaded_child, "2025-11-28") : NULL;
  g_assert_nonnull (loaded_day);
  g_assert_cmpint (loaded_day != NULL ? loaded_day->used : 0, ==, 77);
  g_assert_cmpuint (loaded_day != NULL ? g_hash_table_size (loaded_day->apps) : 0, ==, 1);
}

static void
test_atomic (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = make_full_state ();
  g_autoptr (GError) error = NULL;
  g_autofree char *stale = g_build_filename (f->dir, ".state.json.Ab12Cd", NULL);
  g_autofree char *path = state_path (f);
  g_autofree char *listing = NULL;
  struct stat st;

  /* A temporary file left by a crash is removed when the store opens. */
  g_file_set_contents (stale, "half a state", -1, &error);
  g_assert_no_error (error);
  pd_store_free (f->store);
  f->store = pd_store_new (f->dir, &error);
  g_assert_no_error (error);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));

  save_ok (f, state);
  pd_state_child (state, 61003, "kid3");
  save_ok (f, state);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "state.json");
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
}

/* Loads a bad state.json, and checks it was moved aside whole and the
 * problem names both files. The recovered state is returned. */
static PdState *
load_corrupt (Fixture *f, const char *data, gssize len, const char *expect_in_problem)
{
  g_autofree char *path = state_path (f);
  g_autofree char *problem = NULL;
  g_autofree char *listing = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *moved_data = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  PdState *state;
  gsize moved_len = 0;
  gint64 when;
  char *end;

  write_state_file (f, data, len);
  state = pd_store_load (f->store, &problem);
  g_assert_nonnull (state);
  g_assert_nonnull (problem);
  g_test_message ("problem: %s", problem);
  listing = list_dir (f->dir);
  g_assert_true (g_str_has_prefix (listing, "state.json.corrupt-"));
  g_assert_null (strchr (listing, ' '));
  when = g_ascii_strtoll (listing + strlen ("state.json.corrupt-"), &end, 10);
  g_assert_cmpstr (end, ==, "");
  g_assert_cmpint (when, >=, before);
  g_assert_cmpint (when, <=, g_get_real_time () / G_USEC_PER_SEC);
  moved = g_build_filename (f->dir, listing, NULL);
  g_assert_nonnull (strstr (problem, path));
  g_assert_nonnull (strstr (problem, moved));
  g_assert_nonnull (strstr (problem, expect_in_problem));
  moved_data = read_file (moved, &moved_len);
  g_assert_cmpmem (moved_data, moved_len, data, len < 0 ? strlen (data) : (gsize) len);
  return state;
}

/* After a recovery, the state saves and loads cleanly again. */
static void
assert_recovers (Fixture *f, PdState *state)
{
  g_autoptr (PdState) again = NULL;

  save_ok (f, state);
  again = load_clean (f);
  assert_states_equal (state, again);
}

static void
assert_empty (const PdState *state)
{
  g_assert_cmpuint (g_hash_table_size (state->children), ==, 0);
  g_assert_cmpuint (state->requests->len, ==, 0);
  g_assert_cmpuint (state->next_request_id, ==, 1);
}

static void
test_corrupt_garbage (Fixture *f, gconstpointer data)
{
  static const char garbage[] = "\x7f" "ELF\x01\x00\xff\xfe not json {{{";
  g_autoptr (PdState) state = load_corrupt (f, garbage, sizeof garbage - 1,
                                            "usage history, lock-outs and requests were lost");

  assert_empty (state);
  assert_recovers (f, state);
}

static void
test_corrupt_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = load_corrupt (f, "", 0, "was corrupt (empty)");

  assert_empty (state);
  assert_recovers (f, state);
}

static void
test_corrupt_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) full = make_full_state ();
  g_autofree char *path = state_path (f);
  g_autofree char *text = NULL;
  g_autoptr (PdState) state = NULL;

  save_ok (f, full);
  text = read_file (path, NULL);
  /* As a crash without fsync could leave it on a careless writer. */
  state = load_corrupt (f, text, (gssize) strlen (text) / 2, "not JSON");
  assert_empty (state);
  assert_recovers (f, state);
}

static void
test_corrupt_not_object (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = load_corrupt (f, "[1, 2, 3]", -1, "not a JSON object");

  assert_empty (state);
}

static void
test_corrupt_bad_version (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state = load_corrupt (f, "{\"version\": \"1\", \"children\": []}", -1,
                                            "no valid version number");

  assert_empty (state);
}

static void
test_corrupt_wrong_types (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state =
    load_corrupt (f, "{\"version\": 1, \"next_request_id\": 1.5, \"children\": {}, "
                  "\"requests\": \"none\"}", -1,
                  "all usage history and lock-outs, all requests and the request counter "
                  "could not be read");

  assert_empty (state);
  assert_recovers (f, state);
}

/* One bad record of each kind among good ones: the good ones survive. */
static const char bad_records[] =
  "{\"version\": 1, \"saved\": 1764300000, \"next_request_id\": 2,\n"
  " \"children\": [\n"
  "  {\"uid\": 61001, \"name\": \"kid1\", \"locked_until\": 0, \"days\": [\n"
  "    {\"date\": \"2025-11-28\", \"used\": 3000, \"bonus\": 0, \"apps\": {\"games\": 100}},\n"
  "    {\"date\": \"2025-13-01\", \"used\": 10, \"bonus\": 0, \"apps\": {}},\n"
  "    {\"date\": \"2025-11-27\", \"used\": 20, \"bonus\": 0, \"apps\": {\"games\": -5}},\n"
  "    {\"date\": \"2025-11-26\", \"used\": 4000, \"bonus\": 600, \"apps\": {}}]},\n"
  "  {\"uid\": \"61002\", \"name\": \"kid2\", \"locked_until\": 0, \"days\": []},\n"
  "  {\"uid\": 61003, \"name\": null, \"locked_until\": 1764400000, \"days\": []},\n"
  "  {\"uid\": 61003, \"name\": \"dup\", \"locked_until\": 0, \"days\": []},\n"
  "  42],\n"
  " \"requests\": [\n"
  "  {\"id\": 1, \"uid\": 61001, \"kind\": \"time\", \"state\": \"pending\", \"created\": 5,\n"
  "   \"expires\": 9, \"answered\": 0, \"seconds\": 600, \"reason\": \"bitte 🙏\", \"details\": {}},\n"
  "  {\"id\": 2, \"uid\": 61001, \"kind\": \"refund\", \"state\": \"pending\", \"created\": 5,\n"
  "   \"expires\": 9, \"answered\": 0, \"seconds\": 600, \"reason\": null, \"details\": {}},\n"
  "  {\"id\": 1, \"uid\": 61001, \"kind\": \"time\", \"state\": \"pending\", \"created\": 5,\n"
  "   \"expires\": 9, \"answered\": 0, \"seconds\": 600, \"reason\": null, \"details\": {}},\n"
  "  {\"id\": 3, \"uid\": 61001, \"kind\": \"purchase\", \"state\": \"denied\", \"created\": 5,\n"
  "   \"expires\": 9, \"answered\": 7, \"seconds\": 0, \"reason\": null,\n"
  "   \"details\": {\"rule\": {\"type\": \"s\", \"value\": 5}}},\n"
  "  {\"id\": 4, \"uid\": 61001, \"kind\": \"purchase\", \"state\": \"denied\", \"created\": 5,\n"
  "   \"expires\": 9, \"answered\": 7, \"seconds\": 0, \"reason\": null,\n"
  "   \"details\": {\"path\": {\"type\": \"o\", \"value\": \"'not a path'\"}}},\n"
  "  {\"id\": 7, \"uid\": 61002, \"kind\": \"purchase\", \"state\": \"expired\", \"created\": 6,\n"
  "   \"expires\": 9, \"answered\": 9, \"seconds\": 0, \"reason\": null,\n"
  "   \"details\": {\"rule\": {\"type\": \"s\", \"value\": \"'steam'\"}}}]}\n";

static void
test_corrupt_bad_records (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) state =
    load_corrupt (f, bad_records, -1,
                  "3 child records, 2 day records and 4 requests could not be read, "
                  "the rest was recovered");
  PdChildRecord *kid1 = pd_state_lookup_child (state, 61001);
  PdChildRecord *kid3 = pd_state_lookup_child (state, 61003);
  PdRequest *request;

  g_assert_cmpuint (g_hash_table_size (state->children), ==, 2);
  g_assert_nonnull (kid1);
  g_assert_nonnull (kid3);
  g_assert_true (kid1 != NULL && kid1->usage_lost);
  g_assert_cmpuint (kid1 != NULL ? kid1->days->len : 0, ==, 2);
  g_assert_nonnull (kid1 != NULL ? pd_child_record_lookup_day (kid1, "2025-11-26") : NULL);
  g_assert_true (kid3 != NULL && !kid3->usage_lost && kid3->name == NULL);
  g_assert_cmpint (kid3 != NULL ? kid3->locked_until : 0, ==, 1764400000);

  g_assert_cmpuint (state->requests->len, ==, 2);
  request = pd_state_find_request (state, 1);
  g_assert_nonnull (request);
  g_assert_cmpstr (request != NULL ? request->reason : NULL, ==, "bitte 🙏");
  request = pd_state_find_request (state, 7);
  g_assert_nonnull (request);
  g_assert_cmpstr (request != NULL ? g_variant_get_string (g_hash_table_lookup (request->details, "rule"), NULL) : NULL,
                   ==, "steam");
  /* The counter never falls behind a kept request. */
  g_assert_cmpuint (state->next_request_id, ==, 8);
  assert_recovers (f, state);
}

/* json-glib decodes an escaped lone surrogate into bytes that are not
 * UTF-8, which no D-Bus string may carry. */
static void
test_corrupt_bad_string (Fixture *f, gconstpointer data)
{
  static const char doc[] =
    "{\"version\": 1, \"next_request_id\": 3, \"children\": [], \"requests\": [\n"
    " {\"id\": 1, \"uid\": 61001, \"kind\": \"time\", \"state\": \"denied\", \"created\": 5,"
    " \"expires\": 9, \"answered\": 7, \"seconds\": 60, \"reason\": \"x\\ud800y\", \"details\": {}},\n"
    " {\"id\": 2, \"uid\": 61001, \"kind\": \"time\", \"state\": \"denied\", \"created\": 5,"
    " \"expires\": 9, \"answered\": 7, \"seconds\": 60, \"reason\": \"ok\", \"details\": {}}]}";
  g_autoptr (PdState) state = load_corrupt (f, doc, -1, "1 request could not be read");

  g_assert_cmpuint (state->requests->len, ==, 1);
  g_assert_nonnull (pd_state_find_request (state, 2));
  assert_recovers (f, state);
}

static void
test_corrupt_unreadable (Fixture *f, gconstpointer data)
{
  g_autofree char *path = state_path (f);
  g_autofree char *problem = NULL;
  g_autofree char *listing = NULL;
  g_autoptr (PdState) state = NULL;

  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  state = pd_store_load (f->store, &problem);
  assert_empty (state);
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem != NULL ? problem : "", "unreadable"));
  listing = list_dir (f->dir);
  g_assert_true (g_str_has_prefix (listing, "state.json.corrupt-"));
  assert_recovers (f, state);
}

static void
test_future_version (Fixture *f, gconstpointer data)
{
  static const char future[] =
    "{\"version\": 2, \"saved\": 1900000000, \"children\": [{\"uid\": 61001, \"quantum\": true}]}";
  g_autoptr (PdState) state = load_corrupt (f, future, -1, "format version 2, newer than");

  assert_empty (state);
  assert_recovers (f, state);
}

/* ---- full and read-only disks -------------------------------------------- */

static void
assert_save_fails (Fixture *f, const PdState *state, const char *reason)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = state_path (f);

  g_assert_false (pd_store_save (f->store, state, &error));
  g_assert_error (error, PD_ERROR, PD_ERROR_FAILED);
  g_test_message ("error: %s", error != NULL ? error->message : "");
  g_assert_nonnull (strstr (error != NULL ? error->message : "", path));
  g_assert_nonnull (strstr (error != NULL ? error->message : "", reason));
}

static void
test_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) small = pd_state_new ();
  g_autoptr (PdState) full = make_full_state ();
  g_autoptr (PdState) loaded = NULL;
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  if (!mount_tmpfs (f, "size=1m,mode=0700"))
    return;
  path = state_path (f);
  pd_state_child (small, 61001, "kid1")->locked_until = 7;
  save_ok (f, small);
  before = read_file (path, NULL);
  g_assert_cmpint (mount ("tmpfs", f->mount, "tmpfs",
                          MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL), ==, 0);

  assert_save_fails (f, full, g_strerror (EROFS));
  after = read_file (path, NULL);
  g_assert_cmpstr (after, ==, before);
  loaded = load_clean (f);
  assert_states_equal (small, loaded);
}

/* Fills the file system with one file; returns its path. */
static char *
fill_disk (const char *dir)
{
  char *filler = g_build_filename (dir, "filler", NULL);
  char block[4096] = { 0 };
  int fd = open (filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  while (write (fd, block, sizeof block) > 0)
    ;
  g_assert_cmpint (errno, ==, ENOSPC);
  close (fd);
  return filler;
}

static void
test_full_disk (Fixture *f, gconstpointer data)
{
  g_autoptr (PdState) small = pd_state_new ();
  g_autoptr (PdState) full = make_full_state ();
  g_autoptr (PdState) loaded = NULL;
  g_autofree char *path = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *filler = NULL;
  g_autofree char *listing = NULL;

  if (!mount_tmpfs (f, "size=16k,mode=0700"))
    return;
  path = state_path (f);
  pd_state_child (small, 61001, "kid1")->locked_until = 7;
  save_ok (f, small);
  before = read_file (path, NULL);
  filler = fill_disk (f->mount);

  assert_save_fails (f, full, g_strerror (ENOSPC));
  after = read_file (path, NULL);
  g_assert_cmpstr (after, ==, before);
  listing = list_dir (f->mount);
  g_assert_cmpstr (listing, ==, "filler state.json");
  loaded = load_clean (f);
  assert_states_equal (small, loaded);

  /* Once there is room again, the retry succeeds. */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  save_ok (f, full);
  g_clear_pointer (&loaded, pd_state_free);
  loaded = load_clean (f);
  assert_states_equal (full, loaded);
}

/* ---- the last good configuration ------------------------------------------ */

static gboolean
fake_lookup (const char *name, uid_t *out_uid, gpointer user_data)
{
  if (strcmp (name, "kid1") != 0)
    return FALSE;
  *out_uid = 61001;
  return TRUE;
}

/* Latin-1 in a comment: bytes a config file may hold, and JSON may not. */
static const char main_conf[] =
  "; Configuration de la famille \xe9t\xe9 2025\n"
  "[daemon]\n"
  "history_days = 30\n"
  "[child kid1]\n"
  "daily_limit = 1h30m\n"
  "app_limit.games = 45m\n";
static const char rules_conf[] =
  "# Jeux vidéo\n"
  "[app games]\n"
  "match = comm:supertux2, exe:/usr/games/*\n";

static PdConfig *
load_config_texts (void)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_auto (GStrv) errors = NULL;
  PdConfig *config;

  pd_loader_add_data (loader, "/etc/parentd/parentd.conf", main_conf, strlen (main_conf),
                      PD_SOURCE_CONFIG);
  pd_loader_add_data (loader, "/usr/share/parentd/rules.d/games.conf", rules_conf,
                      strlen (rules_conf), PD_SOURCE_RULES);
  config = pd_loader_finish (loader, &errors);
  g_assert_null (errors);
  g_assert_nonnull (config);
  return config;
}

static void
test_config_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (PdConfig) config = load_config_texts ();
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_autoptr (PdConfig) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "last-good-config.json", NULL);
  g_autofree char *json = NULL;
  g_autofree char *listing = NULL;
  g_auto (GStrv) errors = NULL;
  guint i;

  g_assert_true (pd_store_save_config (f->store, config, &error));
  g_assert_no_error (error);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "last-good-config.json");
  json = read_file (path, NULL);
  g_assert_true (g_utf8_validate (json, -1, NULL));
  g_assert_nonnull (strstr (json, "\"text-base64\""));
  g_assert_nonnull (strstr (json, "Jeux vidéo"));

  g_assert_true (pd_store_load_config (f->store, loader, &error));
  g_assert_no_error (error);
  loaded = pd_loader_finish (loader, &errors);
  g_assert_null (errors);
  g_assert_nonnull (loaded);
  g_assert_cmpuint (loaded->sources->len, ==, config->sources->len);
  for (i = 0; i < config->sources->len && i < loaded->sources->len; i++)
    {
      const PdSource *a = g_ptr_array_index (config->sources, i);
      const PdSource *b = g_ptr_array_index (loaded->sources, i);

      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpmem (a->text, a->len, b->text, b->len);
    }
  g_assert_cmpuint (loaded->children->len, ==, 1);
  g_assert_cmpuint (loaded->daemon.history_days, ==, 30);
}

static void
test_config_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_autoptr (PdConfig) config = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) errors = NULL;

  g_assert_false (pd_store_load_config (f->store, loader, &error));
  g_assert_error (error, PD_ERROR, PD_ERROR_FAILED);
  config = pd_loader_finish (loader, &errors);
  g_assert_nonnull (config);
  g_assert_cmpuint (config != NULL ? config->sources->len : 1, ==, 0);
}

/* A saved configuration that is partly unreadable gives nothing at all. */
static void
test_config_corrupt (Fixture *f, gconstpointer data)
{
  static const char *const bad[] = {
    "{\"version\": 1, \"sources\": [{\"name\": \"a.conf\", \"kind\": \"config\", \"text\": \"\"}, "
    "{\"name\": \"b.conf\", \"kind\": \"policy\", \"text\": \"[daemon]\\n\"}]}",
    "{\"version\": 2, \"sources\": []}",
    "{\"version\": 1, \"sources\": [{\"name\": \"a.conf\", \"kind\": \"config\"}]}",
    "{\"version\": 1}",
    "\"sources\"",
    "{\"version\": 1, \"sources\": [",
  };
  g_autofree char *path = g_build_filename (f->dir, "last-good-config.json", NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
      g_autoptr (PdConfig) config = NULL;
      g_autoptr (GError) error = NULL;
      g_auto (GStrv) errors = NULL;

      g_file_set_contents (path, bad[i], -1, &error);
      g_assert_no_error (error);
      g_assert_false (pd_store_load_config (f->store, loader, &error));
      g_assert_error (error, PD_ERROR, PD_ERROR_FAILED);
      g_test_message ("error: %s", error != NULL ? error->message : "");
      g_assert_nonnull (strstr (error != NULL ? error->message : "", path));
      config = pd_loader_finish (loader, &errors);
      g_assert_cmpuint (config != NULL ? config->sources->len : 1, ==, 0);
    }
}

/* ---- main ------------------------------------------------------------------ */

#define ADD_FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Failed checks still reach the teardown, which unmounts and removes. */
  g_test_set_nonfatal_assertions ();
  /* A mount namespace of our own takes our tmpfs mounts with it even if
   * this process dies half way; without one, the teardown unmounts. */
  if (unshare (CLONE_NEWNS) == 0)
    mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL);

  g_test_add_func ("/state/days", test_state_days);
  g_test_add_func ("/state/requests", test_state_requests);
  g_test_add_func ("/state/prune", test_state_prune);
  ADD_FIXTURE_TEST ("/store/missing", test_missing);
  ADD_FIXTURE_TEST ("/store/round-trip", test_round_trip);
  ADD_FIXTURE_TEST ("/store/atomic", test_atomic);
  ADD_FIXTURE_TEST ("/store/invalid-utf8", test_invalid_utf8);
  ADD_FIXTURE_TEST ("/store/corrupt/garbage", test_corrupt_garbage);
  ADD_FIXTURE_TEST ("/store/corrupt/empty", test_corrupt_empty);
  ADD_FIXTURE_TEST ("/store/corrupt/truncated", test_corrupt_truncated);
  ADD_FIXTURE_TEST ("/store/corrupt/not-object", test_corrupt_not_object);
  ADD_FIXTURE_TEST ("/store/corrupt/bad-version", test_corrupt_bad_version);
  ADD_FIXTURE_TEST ("/store/corrupt/wrong-types", test_corrupt_wrong_types);
  ADD_FIXTURE_TEST ("/store/corrupt/bad-records", test_corrupt_bad_records);
  ADD_FIXTURE_TEST ("/store/corrupt/bad-string", test_corrupt_bad_string);
  ADD_FIXTURE_TEST ("/store/corrupt/unreadable", test_corrupt_unreadable);
  ADD_FIXTURE_TEST ("/store/future-version", test_future_version);
  ADD_FIXTURE_TEST ("/store/read-only", test_read_only);
  ADD_FIXTURE_TEST ("/store/full-disk", test_full_disk);
  ADD_FIXTURE_TEST ("/store/config/round-trip", test_config_round_trip);
  ADD_FIXTURE_TEST ("/store/config/missing", test_config_missing);
  ADD_FIXTURE_TEST ("/store/config/corrupt", test_config_corrupt);

  return g_test_run ();
}
