/* parentctl status and list: what the daemon says about the children the
 * caller may see. */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "client/parentctl.h"

typedef struct {
  guint32 uid;
  const char *name;
  const char *state;
  gboolean counting;
  guint64 used;
  gint64 bonus;
  gint64 limit;
  gint64 remaining;
  guint64 next_change;
  guint64 allowed_until;
} ChildView;

static void
read_child (GVariant *props, guint32 uid, const char *name, ChildView *out)
{
  *out = (ChildView) { .uid = uid, .name = name, .state = "?", .limit = -1, .remaining = -1 };
  g_variant_lookup (props, "State", "&s", &out->state);
  g_variant_lookup (props, "Counting", "b", &out->counting);
  g_variant_lookup (props, "UsedToday", "t", &out->used);
  g_variant_lookup (props, "BonusToday", "x", &out->bonus);
  g_variant_lookup (props, "LimitToday", "x", &out->limit);
  g_variant_lookup (props, "RemainingToday", "x", &out->remaining);
  g_variant_lookup (props, "NextChange", "t", &out->next_change);
  g_variant_lookup (props, "AllowedUntil", "t", &out->allowed_until);
}

static GVariant *
list_children (GError **error)
{
  return pctl_call ("/org/parentd1", "org.parentd1.Manager", "ListChildren", NULL, "(a(uso))",
                    error);
}

static void
json_child (JsonBuilder *b, const ChildView *c, GVariant *apps)
{
  GVariantIter iter;
  const char *name, *state;
  guint64 used;
  gint64 limit;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, c->name);
  json_builder_set_member_name (b, "uid");
  json_builder_add_int_value (b, c->uid);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, c->state);
  json_builder_set_member_name (b, "counting");
  json_builder_add_boolean_value (b, c->counting);
  json_builder_set_member_name (b, "used_today");
  json_builder_add_int_value (b, (gint64) c->used);
  pctl_json_add_int_or_null (b, "limit_today", c->limit);
  pctl_json_add_int_or_null (b, "remaining_today", c->remaining);
  json_builder_set_member_name (b, "bonus_today");
  json_builder_add_int_value (b, c->bonus);
  pctl_json_add_int_or_null (b, "next_change", c->next_change > 0 ? (gint64) c->next_change : -1);
  json_builder_set_member_name (b, "apps");
  json_builder_begin_array (b);
  g_variant_iter_init (&iter, apps);
  while (g_variant_iter_next (&iter, "(&stx&s)", &name, &used, &limit, &state))
    {
      pctl_json_add_app (b, name, used, limit, state);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* A child reading about themselves gets sentences, not a table. */
static void
print_own_status (const ChildView *c)
{
  g_autofree char *used = pctl_format_duration_words ((gint64) c->used);
  g_autofree char *left = c->remaining >= 0 ? pctl_format_duration_words (c->remaining) : NULL;
  g_autofree char *until = pctl_format_moment (c->allowed_until);
  g_autofree char *next = pctl_format_moment (c->next_change);

  if (g_str_equal (c->state, "locked-out"))
    printf ("You are locked out until %s.\n", next);
  else if (g_str_equal (c->state, "outside-hours"))
    printf ("It is outside your allowed hours; you may use the computer again from %s.\n", next);
  else if (g_str_equal (c->state, "exhausted") || g_str_equal (c->state, "grace"))
    printf ("Your time for today is used up (%s used). Ask for more with "
            "'parentctl request 15m \"why\"'.\n", used);
  else if (left != NULL)
    printf ("%s left today%s%s.\n", left, c->allowed_until ? "; allowed until " : "",
            c->allowed_until ? until : "");
  else
    printf ("No daily limit today%s%s; %s used.\n", c->allowed_until ? "; allowed until " : "",
            c->allowed_until ? until : "", used);
}

static void
add_row (PctlTable *table, const ChildView *c)
{
  g_autofree char *used = pctl_format_duration_words ((gint64) c->used);
  g_autofree char *limit = c->limit >= 0 ? pctl_format_duration_words (c->limit) : g_strdup ("unlimited");
  g_autofree char *left = c->remaining >= 0 ? pctl_format_duration_words (c->remaining) : g_strdup ("-");
  g_autofree char *bonus = c->bonus != 0 ? pctl_format_duration_words (c->bonus) : g_strdup ("-");
  g_autofree char *next = pctl_format_moment (c->next_change);
  const char *row[] = { c->name, c->state, used, limit, left, bonus, next, NULL };

  pctl_table_add (table, row);
}

int
pctl_cmd_status (int argc, char **argv)
{
  static const char *const header[] = { "CHILD", "STATE", "USED", "LIMIT", "LEFT", "BONUS", "NEXT CHANGE", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  g_autoptr (PctlTable) table = pctl_table_new (header);
  g_autoptr (JsonBuilder) json = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *only = argc > 1 ? argv[1] : NULL;
  guint32 uid;
  const char *name;
  guint shown = 0;
  ChildView last = { 0 };
  g_autoptr (GVariant) last_props = NULL;   /* keeps last's strings alive */

  if (argc > 2)
    return pctl_usage_error ("status takes at most one USER");
  reply = list_children (&error);
  if (reply == NULL)
    return pctl_fail (error);

  json_builder_begin_object (json);
  json_builder_set_member_name (json, "children");
  json_builder_begin_array (json);
  g_variant_get (reply, "(a(uso))", &iter);
  while (g_variant_iter_next (iter, "(u&s&o)", &uid, &name, NULL))
    {
      g_autoptr (GVariant) props = NULL;
      g_autoptr (GVariant) apps = NULL;
      g_autoptr (GVariant) app_list = NULL;
      g_autofree char *path = pctl_child_path (uid);
      ChildView c;

      if (only != NULL && !g_str_equal (only, name))
        continue;
      props = pctl_child_properties (uid, &error);
      apps = props != NULL ? pctl_call (path, "org.parentd1.Child", "GetApps", NULL, "(a(stxs))", &error) : NULL;
      if (apps == NULL)
        return pctl_fail (error);
      read_child (props, uid, name, &c);
      app_list = g_variant_get_child_value (apps, 0);
      json_child (json, &c, app_list);
      add_row (table, &c);
      last = c;
      g_clear_pointer (&last_props, g_variant_unref);
      last_props = g_variant_ref (props);
      shown++;
    }
  json_builder_end_array (json);
  json_builder_end_object (json);

  if (only != NULL && shown == 0)
    return pctl_not_visible (only);
  root = json_builder_get_root (json);
  if (pctl_options.json)
    pctl_print_json (root);
  else if (shown == 1 && last.uid == getuid ())
    print_own_status (&last);
  else if (shown == 0)
    printf ("No children are configured, or none you may see.\n");
  else
    pctl_table_print (table);
  return PCTL_EXIT_OK;
}

int
pctl_cmd_list (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  g_autoptr (JsonBuilder) json = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint32 uid;
  const char *name;

  if (argc > 1)
    return pctl_usage_error ("list takes no arguments");
  reply = list_children (&error);
  if (reply == NULL)
    return pctl_fail (error);

  json_builder_begin_object (json);
  json_builder_set_member_name (json, "children");
  json_builder_begin_array (json);
  g_variant_get (reply, "(a(uso))", &iter);
  while (g_variant_iter_next (iter, "(u&s&o)", &uid, &name, NULL))
    {
      json_builder_begin_object (json);
      json_builder_set_member_name (json, "name");
      json_builder_add_string_value (json, name);
      json_builder_set_member_name (json, "uid");
      json_builder_add_int_value (json, uid);
      json_builder_end_object (json);
      if (!pctl_options.json)
        printf ("%s\n", name);
    }
  json_builder_end_array (json);
  json_builder_end_object (json);
  root = json_builder_get_root (json);
  if (pctl_options.json)
    pctl_print_json (root);
  return PCTL_EXIT_OK;
}
