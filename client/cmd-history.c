/* parentctl apps and purchases: what the daemon recorded today of a
 * child's apps, and of purchase attempts. */
#include "config.h"

#include <stdio.h>

#include "client/parentctl.h"

#define DEFAULT_DAYS 30

static void
add_purchases (PctlTable *table, JsonBuilder *b, guint32 uid, const char *name, GVariant *list)
{
  GVariantIter iter;
  guint64 time;
  const char *rule, *app, *target, *outcome;

  g_variant_iter_init (&iter, list);
  while (g_variant_iter_next (&iter, "(t&s&s&s&s)", &time, &rule, &app, &target, &outcome))
    {
      g_autofree char *when = pctl_format_moment (time);
      const char *row[] = { when, name, rule, app[0] ? app : "-", target, pctl_state_label (outcome), NULL };

      pctl_table_add (table, row);
      pctl_table_color_state (table, 5, outcome);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "time");
      json_builder_add_int_value (b, (gint64) time);
      json_builder_set_member_name (b, "child");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "rule");
      json_builder_add_string_value (b, rule);
      json_builder_set_member_name (b, "app");
      if (app[0])
        json_builder_add_string_value (b, app);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "target");
      json_builder_add_string_value (b, target);
      json_builder_set_member_name (b, "outcome");
      json_builder_add_string_value (b, outcome);
      json_builder_end_object (b);
    }
}

int
pctl_cmd_purchases (int argc, char **argv)
{
  const char *const header[] = { _("TIME"), _("CHILD"), _("RULE"), _("APP"), _("TARGET"),
                                 _("OUTCOME"), NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) children = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  g_autoptr (PctlTable) table = pctl_table_new (header);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint days = pctl_options.days > 0 ? pctl_options.days : DEFAULT_DAYS;
  const char *only = argc > 1 ? argv[1] : NULL;
  guint32 uid;
  const char *name;
  guint shown = 0, rows = 0;

  if (argc > 2)
    return pctl_usage_error (_("usage: parentctl purchases [USER] [--days N]"));
  children = pctl_call ("/org/parentd1", "org.parentd1.Manager", "ListChildren", NULL, "(a(uso))", &error);
  if (children == NULL)
    return pctl_fail (error);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "purchases");
  json_builder_begin_array (b);
  g_variant_get (children, "(a(uso))", &iter);
  while (g_variant_iter_next (iter, "(u&s&o)", &uid, &name, NULL))
    {
      g_autofree char *path = pctl_child_path (uid);
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GVariant) list = NULL;

      if (only != NULL && !g_str_equal (only, name))
        continue;
      reply = pctl_call (path, "org.parentd1.Child", "GetPurchases", g_variant_new ("(u)", days),
                         "(a(tssss))", &error);
      if (reply == NULL)
        return pctl_fail (error);
      list = g_variant_get_child_value (reply, 0);
      rows += (guint) g_variant_n_children (list);
      add_purchases (table, b, uid, name, list);
      shown++;
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  if (only != NULL && shown == 0)
    return pctl_not_visible (only);
  root = json_builder_get_root (b);
  if (pctl_options.json)
    pctl_print_json (root);
  else if (rows == 0)
    printf (ngettext ("No purchase attempts in the last %u day.\n",
                      "No purchase attempts in the last %u days.\n", days), days);
  else
    pctl_table_print (table);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_apps (int argc, char **argv)
{
  const char *const header[] = { _("APP"), _("USED"), _("LIMIT"), _("STATE"), NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (PctlTable) table = pctl_table_new (header);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  GVariantIter *iter;
  const char *app, *state;
  guint64 used;
  gint64 limit;
  guint32 uid;
  guint rows = 0;

  if (argc != 2)
    return pctl_usage_error (_("usage: parentctl apps USER"));
  if (!pctl_resolve_child (argv[1], &uid, &name, &error))
    return pctl_fail (error);
  path = pctl_child_path (uid);
  reply = pctl_call (path, "org.parentd1.Child", "GetApps", NULL, "(a(stxs))", &error);
  if (reply == NULL)
    return pctl_fail (error);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "child");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "apps");
  json_builder_begin_array (b);
  g_variant_get (reply, "(a(stxs))", &iter);
  while (g_variant_iter_next (iter, "(&stx&s)", &app, &used, &limit, &state))
    {
      g_autofree char *used_words = pctl_format_duration ((gint64) used);
      g_autofree char *limit_words = limit >= 0 ? pctl_format_duration (limit) : g_strdup ("-");
      const char *row[] = { app, used_words, limit_words, pctl_state_label (state), NULL };

      pctl_table_add (table, row);
      pctl_table_color_state (table, 3, state);
      pctl_json_add_app (b, app, used, limit, state);
      rows++;
    }
  g_variant_iter_free (iter);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  if (pctl_options.json)
    pctl_print_json (root);
  else if (rows == 0)
    printf (_("%s has used no app today, and none has a limit or is blocked.\n"), name);
  else
    pctl_table_print (table);
  return PCTL_EXIT_OK;
}
