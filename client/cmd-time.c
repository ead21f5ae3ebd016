/* parentctl grant, lock, unlock, request, requests, approve, deny and
 * reload: the commands that change something, and the request list. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "client/parentctl.h"
#include "policy/units.h"

#define MANAGER "org.parentd1.Manager"
#define CHILD "org.parentd1.Child"

/* Calls a method on a child's object; on success *out_name is the child's
 * name, for the message that says what was done. */
static int
call_child (const char *user, const char *method, GVariant *parameters, char **out_name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  guint32 uid;
  g_autoptr (GVariant) owned = g_variant_ref_sink (parameters);

  if (!pctl_resolve_child (user, &uid, &name, &error))
    return pctl_fail (error);
  path = pctl_child_path (uid);
  reply = pctl_call (path, CHILD, method, owned, NULL, &error);
  if (reply == NULL)
    return pctl_fail (error);
  *out_name = g_steal_pointer (&name);
  return PCTL_EXIT_OK;
}

static gboolean
parse_duration_arg (const char *text, gboolean allow_sign, gint64 *out)
{
  return allow_sign ? pd_parse_signed_duration (text, out, NULL) : pd_parse_duration (text, out, NULL);
}

int
pctl_cmd_grant (int argc, char **argv)
{
  gint64 seconds;
  g_autofree char *words = NULL;
  g_autofree char *name = NULL;
  int status;

  if (argc != 3)
    return pctl_usage_error (_("usage: parentctl grant USER DURATION (e.g. 30m, or -15m to take time away)"));
  if (!parse_duration_arg (argv[2], TRUE, &seconds) || seconds == 0)
    return pctl_usage_error (_("'%s' is not a duration; write e.g. 30m, 1h15m or -15m"), argv[2]);
  status = call_child (argv[1], "GrantTime", g_variant_new ("(x)", seconds), &name);
  if (status != PCTL_EXIT_OK)
    return status;
  words = pctl_format_duration_words (seconds < 0 ? -seconds : seconds);
  if (seconds < 0)
    /* TRANSLATORS: the first %s is an amount of time ("15 min"), the second a child's name. */
    printf (_("Took %s away from %s today.\n"), words, name);
  else
    /* TRANSLATORS: the first %s is a child's name, the second an amount of time ("30 min"). */
    printf (_("Granted %s %s more today.\n"), name, words);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_lock (int argc, char **argv)
{
  gint64 seconds;
  g_autofree char *words = NULL;
  g_autofree char *name = NULL;
  int status;

  if (argc != 3)
    return pctl_usage_error (_("usage: parentctl lock USER DURATION (e.g. 1h)"));
  if (!parse_duration_arg (argv[2], FALSE, &seconds) || seconds == 0)
    return pctl_usage_error (_("'%s' is not a duration; write e.g. 30m or 2h"), argv[2]);
  status = call_child (argv[1], "LockOut", g_variant_new ("(u)", (guint32) seconds), &name);
  if (status != PCTL_EXIT_OK)
    return status;
  words = pctl_format_duration_words (seconds);
  /* TRANSLATORS: the first %s is a child's name, the second an amount of time ("1 h 00 min"). */
  printf (_("Locked %s out for %s.\n"), name, words);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_unlock (int argc, char **argv)
{
  g_autofree char *name = NULL;
  int status;

  if (argc != 2)
    return pctl_usage_error (_("usage: parentctl unlock USER"));
  status = call_child (argv[1], "LockOut", g_variant_new ("(u)", 0u), &name);
  if (status == PCTL_EXIT_OK)
    printf (_("Ended the lock-out of %s.\n"), name);
  return status;
}

int
pctl_cmd_request (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path = pctl_child_path ((guint32) getuid ());
  g_autofree char *reason = argc > 2 ? g_strjoinv (" ", argv + 2) : g_strdup ("");
  gint64 seconds;
  guint64 id;

  if (argc < 2)
    return pctl_usage_error (_("usage: parentctl request DURATION [REASON]"));
  if (!parse_duration_arg (argv[1], FALSE, &seconds) || seconds == 0)
    return pctl_usage_error (_("'%s' is not a duration; write e.g. 15m or 1h"), argv[1]);
  reply = pctl_call (path, CHILD, "RequestTime", g_variant_new ("(us)", (guint32) seconds, reason),
                     "(t)", &error);
  if (reply == NULL)
    return pctl_fail (error);
  g_variant_get (reply, "(t)", &id);
  /* TRANSLATORS: %s is the duration as typed ("15m"). */
  printf (_("Asked for %s more (request %" PRIu64 "). A parent will answer.\n"),
          argv[1], id);
  return PCTL_EXIT_OK;
}

static void
json_string_or_null (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

int
pctl_cmd_requests (int argc, char **argv)
{
  const char *const header[] = { _("ID"), _("CHILD"), _("KIND"), _("STATE"), _("CREATED"), _("WHAT"),
                                 NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  g_autoptr (PctlTable) table = pctl_table_new (header);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint64 id, created;
  guint32 uid;
  const char *kind, *state;
  GVariant *raw_details;
  guint n = 0;

  if (argc > 1)
    return pctl_usage_error (_("requests takes no arguments"));
  reply = pctl_call ("/org/parentd1", MANAGER, "ListRequests", NULL, "(a(tustsa{sv}))", &error);
  if (reply == NULL)
    return pctl_fail (error);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "requests");
  json_builder_begin_array (b);
  g_variant_get (reply, "(a(tustsa{sv}))", &iter);
  while (g_variant_iter_next (iter, "(tu&st&s@a{sv})", &id, &uid, &kind, &created, &state, &raw_details))
    {
      g_autoptr (GVariant) details = raw_details;
      const char *child = NULL, *reason = NULL, *rule = NULL, *app = NULL, *target = NULL;
      guint64 seconds = 0;
      gboolean has_seconds = g_variant_lookup (details, "seconds", "t", &seconds);
      g_autofree char *id_text = g_strdup_printf ("%" G_GUINT64_FORMAT, id);
      g_autofree char *when = pctl_format_moment (created);
      g_autofree char *what = NULL;

      g_variant_lookup (details, "child", "&s", &child);
      g_variant_lookup (details, "reason", "&s", &reason);
      g_variant_lookup (details, "rule", "&s", &rule);
      if (g_variant_lookup (details, "app", "&s", &app) && app[0] == '\0')
        app = NULL;   /* no app matched: null, as the contract's JSON says */
      g_variant_lookup (details, "target", "&s", &target);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, (gint64) id);
      json_string_or_null (b, "child", child);
      json_builder_set_member_name (b, "uid");
      json_builder_add_int_value (b, uid);
      json_string_or_null (b, "kind", kind);
      json_string_or_null (b, "state", state);
      json_builder_set_member_name (b, "created");
      json_builder_add_int_value (b, (gint64) created);
      pctl_json_add_int_or_null (b, "seconds", has_seconds ? (gint64) seconds : -1);
      json_string_or_null (b, "reason", reason);
      json_string_or_null (b, "rule", rule);
      json_string_or_null (b, "app", app);
      json_string_or_null (b, "target", target);
      json_builder_end_object (b);

      if (has_seconds)
        {
          g_autofree char *amount = pctl_format_duration ((gint64) seconds);
          what = reason != NULL && reason[0] ? g_strdup_printf ("%s: %s", amount, reason) : g_strdup (amount);
        }
      else
        what = g_strdup_printf ("%s %s", rule ? rule : "", target ? target : "");
      {
        const char *row[] = { id_text, child ? child : "?", pctl_request_kind_label (kind),
                              pctl_state_label (state), when, what, NULL };
        pctl_table_add (table, row);
        pctl_table_color_state (table, 3, state);
      }
      n++;
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  if (pctl_options.json)
    pctl_print_json (root);
  else if (n == 0)
    printf ("%s\n", _("No requests."));
  else
    pctl_table_print (table);
  return PCTL_EXIT_OK;
}

static gboolean
parse_id (const char *text, guint64 *out)
{
  return g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT64, out, NULL);
}

int
pctl_cmd_approve (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint64 id;
  gint64 seconds = 0;

  if (argc < 2 || argc > 3)
    return pctl_usage_error (_("usage: parentctl approve ID [DURATION]"));
  if (!parse_id (argv[1], &id))
    return pctl_usage_error (_("'%s' is not a request id; 'parentctl requests' lists them"), argv[1]);
  if (argc == 3 && (!parse_duration_arg (argv[2], FALSE, &seconds) || seconds == 0))
    return pctl_usage_error (_("'%s' is not a duration; write e.g. 15m"), argv[2]);
  reply = pctl_call ("/org/parentd1", MANAGER, "ApproveRequest",
                     g_variant_new ("(tu)", id, (guint32) seconds), NULL, &error);
  if (reply == NULL)
    return pctl_fail (error);
  printf (_("Approved request %" PRIu64 ".\n"), id);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_deny (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  guint64 id;

  if (argc != 2)
    return pctl_usage_error (_("usage: parentctl deny ID"));
  if (!parse_id (argv[1], &id))
    return pctl_usage_error (_("'%s' is not a request id; 'parentctl requests' lists them"), argv[1]);
  reply = pctl_call ("/org/parentd1", MANAGER, "DenyRequest", g_variant_new ("(t)", id), NULL, &error);
  if (reply == NULL)
    return pctl_fail (error);
  printf (_("Denied request %" PRIu64 ".\n"), id);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_reload (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  if (argc != 1)
    return pctl_usage_error (_("reload takes no arguments"));
  reply = pctl_call ("/org/parentd1", MANAGER, "Reload", NULL, NULL, &error);
  if (reply == NULL)
    return pctl_fail (error);
  printf ("%s\n", _("Configuration reloaded."));
  return PCTL_EXIT_OK;
}
