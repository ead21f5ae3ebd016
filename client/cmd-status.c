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

static void
print_allowance (const ChildView *c)
{
  g_autofree char *used = pctl_format_duration_words ((gint64) c->used);
  g_autofree char *until = pctl_format_moment (c->allowed_until);

  if (c->remaining >= 0)
    {
      g_autofree char *left = pctl_format_duration_words (c->remaining);

      if (c->allowed_until != 0)
        /* TRANSLATORS: "1 h 05 min left today; allowed until 20:30." */
        printf (_("%s left today; allowed until %s.\n"), left, until);
      else
        printf (_("%s left today.\n"), left);
    }
  else if (c->allowed_until != 0)
    printf (_("No daily limit today; allowed until %s; %s used.\n"), until, used);
  else
    printf (_("No daily limit today; %s used.\n"), used);
}

static void
print_bonus (const ChildView *c)
{
  g_autofree char *bonus = pctl_format_duration_words (ABS (c->bonus));

  if (c->bonus > 0)
    printf (_("That includes %s extra that a parent gave you today.\n"), bonus);
  else if (c->bonus < 0)
    printf (_("A parent took %s away today.\n"), bonus);
}

/* A child reading about themselves gets sentences, not a table. */
static void
print_own_status (const ChildView *c)
{
  g_autofree char *used = pctl_format_duration_words ((gint64) c->used);
  g_autofree char *next = pctl_format_moment (c->next_change);

  if (g_str_equal (c->state, "locked-out"))
    {
      if (c->next_change != 0)
        printf (_("You are locked out until %s.\n"), next);
      else
        printf (_("You are locked out.\n"));
      return;
    }
  if (g_str_equal (c->state, "outside-hours"))
    {
      if (c->next_change != 0)
        printf (_("It is outside your allowed hours; you may use the computer again from %s.\n"),
                next);
      else
        printf (_("It is outside your allowed hours, and none are coming up.\n"));
      return;
    }
  if (g_str_equal (c->state, "grace") && c->remaining != 0)
    printf (_("Your allowed hours are over; save your work now.\n"));
  else if (g_str_equal (c->state, "grace"))
    printf (_("Your time for today is up (%s used); save your work now.\n"), used);
  else if (g_str_equal (c->state, "exhausted"))
    printf (_("Your time for today is used up (%s used). Ask for more with "
              "'parentctl request 15m \"why\"'.\n"), used);
  else
    print_allowance (c);
  print_bonus (c);
}

static void
add_row (PctlTable *table, const ChildView *c)
{
  g_autofree char *used = pctl_format_duration ((gint64) c->used);
  g_autofree char *limit = c->limit >= 0 ? pctl_format_duration (c->limit) : g_strdup (_("unlimited"));
  g_autofree char *left = c->remaining >= 0 ? pctl_format_duration (c->remaining) : g_strdup ("-");
  g_autofree char *amount = pctl_format_duration (c->bonus);
  /* A sign on any bonus: it is added to (or taken from) the limit. */
  g_autofree char *bonus = c->bonus > 0 ? g_strconcat ("+", amount, NULL)
                                        : g_strdup (c->bonus < 0 ? amount : "-");
  g_autofree char *next = pctl_format_moment (c->next_change);
  const char *row[] = { c->name, pctl_state_label (c->state), used, limit, left, bonus, next, NULL };

  pctl_table_add (table, row);
  pctl_table_color_state (table, 1, c->state);
}

/* USER on the command line: a login name or a uid. */
static gboolean
is_wanted (const char *only, guint32 uid, const char *name)
{
  guint64 wanted;

  if (only == NULL || g_str_equal (only, name))
    return TRUE;
  return g_ascii_string_to_unsigned (only, 10, 0, G_MAXUINT32, &wanted, NULL) && wanted == uid;
}

int
pctl_cmd_status (int argc, char **argv)
{
  static const char *const header[] = {
    N_("CHILD"), N_("STATE"), N_("USED"), N_("LIMIT"), N_("LEFT"), N_("BONUS"), N_("NEXT CHANGE"), NULL
  };
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
    return pctl_usage_error (_("status takes at most one USER"));
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

      if (!is_wanted (only, uid, name))
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
    printf (_("No children are configured, or none you may see.\n"));
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
    return pctl_usage_error (_("list takes no arguments"));
  reply = list_children (&error);
  if (reply == NULL)
    return pctl_fail (error);

  json_builder_begin_object (json);
  json_builder_set_member_name (json, "children");
  json_builder_begin_array (json);
  if (!pctl_options.json)
    pctl_pager_open ();
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
