/* The daemon's durable state as plain data: children's day records,
 * lock-outs and requests. No I/O here; store.c reads and writes it. */
#include "config.h"

#include <string.h>

#include "daemon/state.h"

static void
day_record_free (gpointer data)
{
  PdDayRecord *day = data;

  g_hash_table_unref (day->apps);
  g_free (day);
}

static void
purchase_record_free (gpointer data)
{
  PdPurchaseRecord *record = data;

  g_free (record->rule);
  g_free (record->app);
  g_free (record->target);
  g_free (record->outcome);
  g_free (record);
}

static void
child_record_free (gpointer data)
{
  PdChildRecord *child = data;

  g_free (child->name);
  g_ptr_array_unref (child->days);
  g_ptr_array_unref (child->purchases);
  g_free (child);
}

PdPurchaseRecord *
pd_child_record_add_purchase (PdChildRecord *child, gint64 time, const char *rule, const char *app,
                              const char *target, const char *outcome, guint64 request)
{
  PdPurchaseRecord *record = g_new0 (PdPurchaseRecord, 1);

  record->time = time;
  record->rule = g_strdup (rule);
  record->app = g_strdup (app != NULL ? app : "");
  record->target = g_strdup (target);
  record->outcome = g_strdup (outcome);
  record->request = request;
  record->count = 1;
  g_ptr_array_add (child->purchases, record);
  return record;
}

PdRequest *
pd_request_new (guint64 id, uid_t uid, PdRequestKind kind, gint64 created)
{
  PdRequest *request = g_new0 (PdRequest, 1);

  request->id = id;
  request->uid = uid;
  request->kind = kind;
  request->state = PD_REQUEST_PENDING;
  request->created = created;
  request->details = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_variant_unref);
  return request;
}

void
pd_request_free (PdRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->reason);
  g_hash_table_unref (request->details);
  g_free (request);
}

PdState *
pd_state_new (void)
{
  PdState *state = g_new0 (PdState, 1);

  state->children = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                           child_record_free);
  state->requests = g_ptr_array_new_with_free_func ((GDestroyNotify) pd_request_free);
  /* 0 is never an id, so that a D-Bus caller's 0 can never match. */
  state->next_request_id = 1;
  return state;
}

void
pd_state_free (PdState *state)
{
  if (state == NULL)
    return;
  g_hash_table_unref (state->children);
  g_ptr_array_unref (state->requests);
  g_free (state);
}

PdChildRecord *
pd_state_lookup_child (const PdState *state, uid_t uid)
{
  g_return_val_if_fail (state != NULL, NULL);

  return g_hash_table_lookup (state->children, GUINT_TO_POINTER (uid));
}

PdChildRecord *
pd_state_child (PdState *state, uid_t uid, const char *name)
{
  PdChildRecord *child;

  g_return_val_if_fail (state != NULL, NULL);

  child = pd_state_lookup_child (state, uid);
  if (child == NULL)
    {
      child = g_new0 (PdChildRecord, 1);
      child->uid = uid;
      child->days = g_ptr_array_new_with_free_func (day_record_free);
      child->purchases = g_ptr_array_new_with_free_func (purchase_record_free);
      g_hash_table_insert (state->children, GUINT_TO_POINTER (uid), child);
    }
  /* The record follows the login name, which may be renamed while the uid,
   * and so the history, stays. */
  if (name != NULL && g_strcmp0 (child->name, name) != 0)
    {
      g_free (child->name);
      child->name = g_strdup (name);
    }
  return child;
}

/* Index of the first day not newer than date; days are newest first. */
static guint
day_position (const PdChildRecord *child, const char *date)
{
  guint i;

  for (i = 0; i < child->days->len; i++)
    {
      const PdDayRecord *day = g_ptr_array_index (child->days, i);

      if (strcmp (day->date, date) <= 0)
        break;
    }
  return i;
}

PdDayRecord *
pd_child_record_lookup_day (const PdChildRecord *child, const char *date)
{
  guint i;
  PdDayRecord *day;

  g_return_val_if_fail (child != NULL && date != NULL, NULL);

  i = day_position (child, date);
  if (i == child->days->len)
    return NULL;
  day = g_ptr_array_index (child->days, i);
  return strcmp (day->date, date) == 0 ? day : NULL;
}

PdDayRecord *
pd_child_record_day (PdChildRecord *child, const char *date)
{
  PdDayRecord *day;

  g_return_val_if_fail (child != NULL && date != NULL, NULL);
  g_return_val_if_fail (strlen (date) == sizeof day->date - 1, NULL);

  day = pd_child_record_lookup_day (child, date);
  if (day != NULL)
    return day;
  day = g_new0 (PdDayRecord, 1);
  memcpy (day->date, date, sizeof day->date);
  day->apps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_ptr_array_insert (child->days, (gint) day_position (child, date), day);
  return day;
}

gint64
pd_day_record_app (const PdDayRecord *day, const char *app)
{
  const gint64 *seconds;

  g_return_val_if_fail (day != NULL && app != NULL, 0);

  seconds = g_hash_table_lookup (day->apps, app);
  return seconds != NULL ? *seconds : 0;
}

void
pd_day_record_add_app (PdDayRecord *day, const char *app, gint64 seconds)
{
  gint64 *total;

  g_return_if_fail (day != NULL && app != NULL);

  total = g_hash_table_lookup (day->apps, app);
  if (total == NULL)
    {
      total = g_new0 (gint64, 1);
      g_hash_table_insert (day->apps, g_strdup (app), total);
    }
  *total += seconds;
}

static void
prune_days (PdChildRecord *child, const char *oldest_date)
{
  guint keep = day_position (child, oldest_date);

  /* Newest first: everything from the first day not newer than
   * oldest_date on is old, except oldest_date itself. */
  if (keep < child->days->len)
    {
      const PdDayRecord *day = g_ptr_array_index (child->days, keep);

      if (strcmp (day->date, oldest_date) == 0)
        keep++;
    }
  if (keep < child->days->len)
    g_ptr_array_remove_range (child->days, keep, child->days->len - keep);
}

void
pd_state_prune (PdState *state, const char *oldest_date, gint64 cutoff)
{
  GHashTableIter iter;
  gpointer value;
  guint i = 0;

  g_return_if_fail (state != NULL && oldest_date != NULL);

  g_hash_table_iter_init (&iter, state->children);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PdChildRecord *child = value;

      prune_days (child, oldest_date);
      while (child->purchases->len > 0 &&
             ((PdPurchaseRecord *) g_ptr_array_index (child->purchases, 0))->time < cutoff)
        g_ptr_array_remove_index (child->purchases, 0);
    }

  /* A pending request stays however old it is: it still waits for an
   * answer, and it expires through its own deadline. */
  while (i < state->requests->len)
    {
      const PdRequest *request = g_ptr_array_index (state->requests, i);

      if (request->state != PD_REQUEST_PENDING && request->created < cutoff)
        g_ptr_array_remove_index (state->requests, i);
      else
        i++;
    }
}

PdRequest *
pd_state_add_request (PdState *state, uid_t uid, PdRequestKind kind, gint64 now)
{
  PdRequest *request;

  g_return_val_if_fail (state != NULL, NULL);

  request = pd_request_new (state->next_request_id++, uid, kind, now);
  g_ptr_array_add (state->requests, request);
  return request;
}

PdRequest *
pd_state_find_request (const PdState *state, guint64 id)
{
  guint i;

  g_return_val_if_fail (state != NULL, NULL);

  for (i = 0; i < state->requests->len; i++)
    {
      PdRequest *request = g_ptr_array_index (state->requests, i);

      if (request->id == id)
        return request;
    }
  return NULL;
}

static const char *const kind_names[] = {
  [PD_REQUEST_TIME] = "time",
  [PD_REQUEST_PURCHASE] = "purchase",
};

static const char *const state_names[] = {
  [PD_REQUEST_PENDING] = "pending",
  [PD_REQUEST_APPROVED] = "approved",
  [PD_REQUEST_DENIED] = "denied",
  [PD_REQUEST_EXPIRED] = "expired",
};

const char *
pd_request_kind_to_string (PdRequestKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS (kind_names))
    return NULL;
  return kind_names[kind];
}

const char *
pd_request_state_to_string (PdRequestState state)
{
  if ((guint) state >= G_N_ELEMENTS (state_names))
    return NULL;
  return state_names[state];
}

static gboolean
name_index (const char *const *names, guint n_names, const char *text, guint *out)
{
  guint i;

  for (i = 0; text != NULL && i < n_names; i++)
    {
      if (strcmp (names[i], text) == 0)
        {
          *out = i;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
pd_request_kind_from_string (const char *text, PdRequestKind *out)
{
  guint i;

  if (!name_index (kind_names, G_N_ELEMENTS (kind_names), text, &i))
    return FALSE;
  *out = (PdRequestKind) i;
  return TRUE;
}

gboolean
pd_request_state_from_string (const char *text, PdRequestState *out)
{
  guint i;

  if (!name_index (state_names, G_N_ELEMENTS (state_names), text, &i))
    return FALSE;
  *out = (PdRequestState) i;
  return TRUE;
}
