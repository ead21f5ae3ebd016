/* Requests: time requests from children, answered by parents. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "daemon/requests.h"
#include "policy/error.h"

char *
pd_requests_clean_reason (const char *reason, GError **error)
{
  GString *clean;
  guint count = 0;

  if (!g_utf8_validate (reason, -1, NULL))
    {
      g_set_error (error, PD_ERROR, PD_ERROR_INVALID_ARGS, _("The reason is not valid UTF-8"));
      return NULL;
    }
  clean = g_string_new (NULL);
  for (const char *p = reason; *p != '\0' && count < PD_REQUESTS_REASON_MAX; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      /* Control characters could forge lines in a parent's terminal. */
      if (g_unichar_iscntrl (c) || g_unichar_type (c) == G_UNICODE_FORMAT)
        continue;
      g_string_append_unichar (clean, c);
      count++;
    }
  return g_string_free (clean, FALSE);
}

PdRequest *
pd_requests_file_time (PdState *state, uid_t uid, gint64 seconds, const char *reason, gint64 now,
                       gint64 expires, GError **error)
{
  guint pending = 0;
  gint64 last = G_MININT64;
  g_autofree char *clean = NULL;
  PdRequest *request;

  for (guint i = 0; i < state->requests->len; i++)
    {
      const PdRequest *r = g_ptr_array_index (state->requests, i);

      if (r->uid != uid || r->kind != PD_REQUEST_TIME)
        continue;
      pending += r->state == PD_REQUEST_PENDING;
      last = MAX (last, r->created);
    }
  if (pending >= PD_REQUESTS_MAX_PENDING)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_TOO_MANY_REQUESTS,
                   g_dngettext (GETTEXT_PACKAGE,
                                "You already have %u request waiting for a parent; wait for an answer",
                                "You already have %u requests waiting for a parent; wait for an answer",
                                pending),
                   pending);
      return NULL;
    }
  if (last != G_MININT64 && now - last < PD_REQUESTS_MIN_INTERVAL)
    {
      gint64 wait = PD_REQUESTS_MIN_INTERVAL - (now - last);

      g_set_error (error, PD_ERROR, PD_ERROR_TOO_MANY_REQUESTS,
                   g_dngettext (GETTEXT_PACKAGE,
                                "You asked less than a minute ago; try again in %" PRId64 " second",
                                "You asked less than a minute ago; try again in %" PRId64 " seconds",
                                (gulong) wait),
                   wait);
      return NULL;
    }
  clean = pd_requests_clean_reason (reason, error);
  if (clean == NULL)
    return NULL;

  request = pd_state_add_request (state, uid, PD_REQUEST_TIME, now);
  request->seconds = seconds;
  request->expires = expires;
  request->reason = g_steal_pointer (&clean);
  return request;
}

PdRequest *
pd_requests_pending (PdState *state, guint64 id, GError **error)
{
  PdRequest *request = pd_state_find_request (state, id);
  g_autoptr (GDateTime) when = NULL;
  g_autofree char *at = NULL;

  if (request == NULL)
    {
      g_set_error (error, PD_ERROR, PD_ERROR_NO_SUCH_REQUEST,
                   _("There is no request %" PRIu64 "; see 'parentctl requests'"), id);
      return NULL;
    }
  if (request->state == PD_REQUEST_PENDING)
    return request;

  /* A hold whose process died expired early: answered says when. */
  when = g_date_time_new_from_unix_local (request->answered != 0 ? request->answered
                                                                 : request->expires);
  at = when != NULL ? g_date_time_format (when, "%Y-%m-%d %H:%M") : g_strdup ("?");
  g_set_error (error, PD_ERROR, PD_ERROR_NO_SUCH_REQUEST,
               /* TRANSLATORS: a request id, its state ("approved", "denied" or
                * "expired") and when ("2026-11-28 18:05"). */
               _("Request %" PRIu64 " was already %s at %s and can no longer be answered"),
               id, pd_request_state_to_string (request->state), at);
  return NULL;
}

GPtrArray *
pd_requests_expire (PdState *state, gint64 now)
{
  GPtrArray *expired = g_ptr_array_new ();

  for (guint i = 0; i < state->requests->len; i++)
    {
      PdRequest *r = g_ptr_array_index (state->requests, i);

      if (r->state == PD_REQUEST_PENDING && r->expires != 0 && r->expires <= now)
        {
          r->state = PD_REQUEST_EXPIRED;
          g_ptr_array_add (expired, r);
        }
    }
  return expired;
}

gint64
pd_requests_next_expiry (const PdState *state)
{
  gint64 next = 0;

  for (guint i = 0; i < state->requests->len; i++)
    {
      const PdRequest *r = g_ptr_array_index (state->requests, i);

      if (r->state == PD_REQUEST_PENDING && r->expires != 0 && (next == 0 || r->expires < next))
        next = r->expires;
    }
  return next;
}

GVariant *
pd_requests_list (const PdState *state, gboolean all, uid_t uid, PdNameFunc name_of,
                  gpointer user_data)
{
  GVariantBuilder builder;

  guint first = 0, answered = 0;

  /* Every pending request, and the most recent answered ones: a list that
   * grew with the history would make each call cost more, and a child
   * calling it in a loop could slow the exec path down. */
  for (guint i = state->requests->len; i > 0; i--)
    {
      const PdRequest *r = g_ptr_array_index (state->requests, i - 1);

      if ((all || r->uid == uid) && r->state != PD_REQUEST_PENDING && ++answered > PD_REQUESTS_LISTED)
        {
          first = i;
          break;
        }
    }

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tustsa{sv})"));
  for (guint i = 0; i < state->requests->len; i++)
    {
      const PdRequest *r = g_ptr_array_index (state->requests, i);
      GVariantBuilder details;
      GHashTableIter iter;
      gpointer key, value;
      const char *name;

      if ((!all && r->uid != uid) || (i < first && r->state != PD_REQUEST_PENDING))
        continue;
      g_variant_builder_init (&details, G_VARIANT_TYPE ("a{sv}"));
      name = name_of != NULL ? name_of (r->uid, user_data) : NULL;
      if (name != NULL)
        g_variant_builder_add (&details, "{sv}", "child", g_variant_new_string (name));
      if (r->kind == PD_REQUEST_TIME)
        {
          g_variant_builder_add (&details, "{sv}", "seconds", g_variant_new_uint64 ((guint64) r->seconds));
          g_variant_builder_add (&details, "{sv}", "reason", g_variant_new_string (r->reason ? r->reason : ""));
        }
      if (r->details != NULL)
        {
          g_hash_table_iter_init (&iter, r->details);
          while (g_hash_table_iter_next (&iter, &key, &value))
            g_variant_builder_add (&details, "{sv}", (const char *) key, (GVariant *) value);
        }
      g_variant_builder_add (&builder, "(tustsa{sv})", r->id, (guint32) r->uid,
                             pd_request_kind_to_string (r->kind), (guint64) r->created,
                             pd_request_state_to_string (r->state), &details);
    }
  return g_variant_builder_end (&builder);
}
