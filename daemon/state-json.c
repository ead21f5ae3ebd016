/* state-json.c owns the format of state.json: a PdState to JSON and back,
 * read leniently record by record, with what could not be read counted.
 *
 * state.json (PD_STATE_VERSION 1; moments are unix seconds, durations
 * seconds):
 *   {"version":1, "saved":T, "next_request_id":N,
 *    "children":[{"uid":U, "name":S|null, "locked_until":T,
 *                 "days":[{"date":"YYYY-MM-DD", "used":N, "bonus":N,
 *                          "limit":N (optional, -1 unlimited),
 *                          "apps":{"NAME":N, ...}}, ...],
 *                 "purchases":[{"time":T, "rule":S, "app":S, "target":S,
 *                               "outcome":S, "request":N, "count":N}, ...]}, ...],
 *    "requests":[{"id":N, "uid":U, "kind":"time"|"purchase",
 *                 "state":"pending"|"approved"|"denied"|"expired",
 *                 "created":T, "expires":T, "answered":T, "seconds":N,
 *                 "reason":S|null,
 *                 "details":{"KEY":{"type":"GVARIANT TYPE", "value":S}}}, ...]}
 * where S is the detail in GVariant text format (g_variant_print with
 * types): unlike json_gvariant_deserialize, g_variant_parse checks every
 * value (object paths, signatures) and reports a bad one as an error.
 * Members a reader does not know are ignored, so version 1 may gain
 * members; anything else bumps it. */
#include "config.h"

#include <string.h>

#include "daemon/state-json.h"
#include "policy/units.h"

/* ---- writing state.json --------------------------------------------------- */

void
pd_json_add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* JSON must be UTF-8, or the whole file would read back as corrupt; names
 * come from configuration files and may hold any bytes. */
void
pd_json_add_string (JsonBuilder *builder, const char *name, const char *value)
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
  pd_json_add_string (builder, "date", day->date);
  pd_json_add_int (builder, "used", day->used);
  pd_json_add_int (builder, "bonus", day->bonus);
  if (day->limit_known)
    pd_json_add_int (builder, "limit", day->limit);
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
build_purchase (JsonBuilder *builder, const PdPurchaseRecord *record)
{
  json_builder_begin_object (builder);
  pd_json_add_int (builder, "time", record->time);
  pd_json_add_string (builder, "rule", record->rule);
  pd_json_add_string (builder, "app", record->app);
  pd_json_add_string (builder, "target", record->target);
  pd_json_add_string (builder, "outcome", record->outcome);
  pd_json_add_int (builder, "request", (gint64) record->request);
  pd_json_add_int (builder, "count", record->count);
  json_builder_end_object (builder);
}

static void
build_child (JsonBuilder *builder, const PdChildRecord *child)
{
  guint i;

  json_builder_begin_object (builder);
  pd_json_add_int (builder, "uid", child->uid);
  pd_json_add_string (builder, "name", child->name);
  pd_json_add_int (builder, "locked_until", child->locked_until);
  json_builder_set_member_name (builder, "days");
  json_builder_begin_array (builder);
  for (i = 0; i < child->days->len; i++)
    build_day (builder, g_ptr_array_index (child->days, i));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "purchases");
  json_builder_begin_array (builder);
  for (i = 0; i < child->purchases->len; i++)
    build_purchase (builder, g_ptr_array_index (child->purchases, i));
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
      pd_json_add_string (builder, "type", g_variant_get_type_string (value));
      pd_json_add_string (builder, "value", text);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static void
build_request (JsonBuilder *builder, const PdRequest *request)
{
  json_builder_begin_object (builder);
  pd_json_add_int (builder, "id", (gint64) request->id);
  pd_json_add_int (builder, "uid", request->uid);
  pd_json_add_string (builder, "kind", pd_request_kind_to_string (request->kind));
  pd_json_add_string (builder, "state", pd_request_state_to_string (request->state));
  pd_json_add_int (builder, "created", request->created);
  pd_json_add_int (builder, "expires", request->expires);
  pd_json_add_int (builder, "answered", request->answered);
  pd_json_add_int (builder, "seconds", request->seconds);
  pd_json_add_string (builder, "reason", request->reason);
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

JsonNode *
pd_state_to_json (const PdState *state, gint64 now)
{
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (GList) uids = NULL;
  const GList *l;
  guint i;

  g_return_val_if_fail (state != NULL, NULL);

  builder = json_builder_new ();
  uids = g_list_sort (g_hash_table_get_keys (state->children), compare_uids);
  json_builder_begin_object (builder);
  pd_json_add_int (builder, "version", PD_STATE_VERSION);
  pd_json_add_int (builder, "saved", now);
  pd_json_add_int (builder, "next_request_id", (gint64) state->next_request_id);
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

/* ---- reading JSON: typed members, FALSE on any other type ----------------- */

gboolean
pd_json_get_int (JsonObject *object, const char *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
pd_json_get_string (JsonObject *object, const char *name, gboolean nullable, const char **out)
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

JsonArray *
pd_json_get_array (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

JsonObject *
pd_json_parse_document (JsonParser *parser, const char *data, gsize len, char **out_reason)
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

void
pd_state_losses_clear (PdStateLosses *losses)
{
  g_free (losses->reason);
}

gboolean
pd_state_losses_any (const PdStateLosses *losses)
{
  return losses->reason != NULL || losses->future_version != 0 || losses->all_children
         || losses->all_requests || losses->request_counter || losses->children != 0
         || losses->days != 0 || losses->purchases != 0 || losses->requests != 0;
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
      if (!pd_json_get_int (apps, l->data, &seconds) || seconds < 0)
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
  gint64 used, bonus, seconds, limit = PD_UNLIMITED;
  gboolean limit_known;
  JsonObject *apps;
  PdDayRecord *day;

  if (object == NULL || !pd_json_get_string (object, "date", FALSE, &date) || !date_valid (date)
      || !pd_json_get_int (object, "used", &used) || used < 0
      || !pd_json_get_int (object, "bonus", &bonus))
    return FALSE;
  /* "limit" came later: a day without one simply has none known. */
  limit_known = json_object_has_member (object, "limit");
  if (limit_known && (!pd_json_get_int (object, "limit", &limit) || limit < PD_UNLIMITED))
    return FALSE;
  apps = get_object (object, "apps");
  if (apps == NULL || !apps_valid (apps) || pd_child_record_lookup_day (child, date) != NULL)
    return FALSE;
  day = pd_child_record_day (child, date);
  day->used = used;
  day->bonus = bonus;
  day->limit_known = limit_known;
  day->limit = limit;
  names = json_object_get_members (apps);
  for (l = names; l != NULL; l = l->next)
    {
      pd_json_get_int (apps, l->data, &seconds);
      pd_day_record_add_app (day, l->data, seconds);
    }
  return TRUE;
}

static gboolean
read_purchase (PdChildRecord *child, JsonNode *node)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *rule, *app, *target, *outcome;
  gint64 time, request, count;
  PdPurchaseRecord *record;

  if (object == NULL || !pd_json_get_int (object, "time", &time)
      || !pd_json_get_string (object, "rule", FALSE, &rule)
      || !pd_json_get_string (object, "app", FALSE, &app)
      || !pd_json_get_string (object, "target", FALSE, &target)
      || !pd_json_get_string (object, "outcome", FALSE, &outcome)
      || !pd_json_get_int (object, "request", &request) || request < 0
      || !pd_json_get_int (object, "count", &count) || count < 1 || count > G_MAXUINT)
    return FALSE;
  record = pd_child_record_add_purchase (child, time, rule, app, target, outcome, (guint64) request);
  record->count = (guint) count;
  return TRUE;
}

static gboolean
read_child (PdState *state, JsonNode *node, PdStateLosses *losses)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  PdChildRecord *child;
  const char *name;
  gint64 uid, locked_until;
  JsonArray *days, *purchases;
  guint i;

  if (object == NULL || !pd_json_get_int (object, "uid", &uid) || !uid_valid (uid)
      || !pd_json_get_string (object, "name", TRUE, &name)
      || !pd_json_get_int (object, "locked_until", &locked_until))
    return FALSE;
  days = pd_json_get_array (object, "days");
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
  /* Older files have no purchase log: nothing to read, nothing lost. */
  purchases = pd_json_get_array (object, "purchases");
  for (i = 0; purchases != NULL && i < json_array_get_length (purchases); i++)
    if (!read_purchase (child, json_array_get_element (purchases, i)))
      losses->purchases++;
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

      if (detail == NULL || !pd_json_get_string (detail, "type", FALSE, &type)
          || !g_variant_type_string_is_valid (type)
          || !g_variant_type_is_definite (G_VARIANT_TYPE (type))
          || !pd_json_get_string (detail, "value", FALSE, &text))
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

  if (!pd_json_get_int (object, "id", &id) || id < 1 || !pd_json_get_int (object, "uid", &uid)
      || !uid_valid (uid)
      || !pd_json_get_string (object, "kind", FALSE, &kind_name)
      || !pd_request_kind_from_string (kind_name, &kind)
      || !pd_json_get_string (object, "state", FALSE, &state_name)
      || !pd_request_state_from_string (state_name, &request_state)
      || !pd_json_get_int (object, "created", &created))
    return NULL;
  request = pd_request_new ((guint64) id, (uid_t) uid, kind, created);
  request->state = request_state;
  details = get_object (object, "details");
  if (!pd_json_get_int (object, "expires", &request->expires)
      || !pd_json_get_int (object, "answered", &request->answered)
      || !pd_json_get_int (object, "seconds", &request->seconds)
      || !pd_json_get_string (object, "reason", TRUE, &reason) || details == NULL
      || !read_details (request->details, details))
    return NULL;
  request->reason = g_strdup (reason);
  return g_steal_pointer (&request);
}

static void
read_requests (PdState *state, JsonObject *root, PdStateLosses *losses)
{
  JsonArray *requests = pd_json_get_array (root, "requests");
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
read_request_counter (PdState *state, JsonObject *root, PdStateLosses *losses)
{
  gint64 next = 1;
  guint i;

  if (!pd_json_get_int (root, "next_request_id", &next) || next < 1)
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

PdState *
pd_state_from_json (const char *data, gsize len, PdStateLosses *losses)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (PdState) state = NULL;
  JsonObject *root;
  JsonArray *children;
  gint64 version;
  guint i;

  g_return_val_if_fail (data != NULL && losses != NULL, NULL);

  parser = json_parser_new ();
  state = pd_state_new ();
  root = pd_json_parse_document (parser, data, len, &losses->reason);
  if (root == NULL)
    return g_steal_pointer (&state);
  if (!pd_json_get_int (root, "version", &version) || version < 1)
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
  children = pd_json_get_array (root, "children");
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
