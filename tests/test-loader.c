/* Unit tests for the loader: every key, every error with its FILE:LINE,
 * continuation and long lines, sources overriding each other. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/eval.h"
#include "policy/loader.h"

/* The rule set every test configuration may refer to. */
static const char base_rules[] =
  "[app games]\n"
  "match = comm:supertux2, exe:/usr/games/*\n"
  "[app chat-x]\n"
  "match = comm:chatx\n"
  "[app homework]\n"
  "match = desktop:org.gnome.Calculator\n"
  "[purchase steam]\n"
  "match = url:steam://purchase/*\n";

static gboolean
fake_lookup (const char *name, uid_t *out_uid, gpointer user_data)
{
  static const struct { const char *name; uid_t uid; } users[] = {
    { "alice", 1001 }, { "bob", 1002 }, { "carol", 1003 }, { "root", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    if (strcmp (users[i].name, name) == 0)
      return (*out_uid = users[i].uid), TRUE;
  return FALSE;
}

/* Loads text as "test.conf" followed by the base rules; NULL on errors. */
static PdConfig *
load_sources (const char *const *texts, GStrv *errors)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);

  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autofree char *name = i == 0 ? g_strdup ("test.conf") : g_strdup_printf ("drop-in-%u.conf", i);
      pd_loader_add_data (loader, name, texts[i], strlen (texts[i]), PD_SOURCE_CONFIG);
    }
  pd_loader_add_data (loader, "rules.conf", base_rules, strlen (base_rules), PD_SOURCE_RULES);
  return pd_loader_finish (loader, errors);
}

static PdConfig *
load_ok (const char *text)
{
  const char *texts[] = { text, NULL };
  g_auto (GStrv) errors = NULL;
  PdConfig *config = load_sources (texts, &errors);

  if (config == NULL)
    g_error ("unexpected errors:\n%s", g_strjoinv ("\n", errors));
  g_assert_null (errors);
  return config;
}

static const PdChild *
child (const PdConfig *config, const char *name)
{
  const PdChild *c = pd_config_find_child (config, name);

  g_assert_nonnull (c);
  return c;
}

/* --- errors: each case is its own test ------------------------------------ */

typedef struct {
  const char *name;
  const char *text;
  const char *error;   /* the first error, exactly */
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "unknown-section", "[daemon]\ngrace = 1m\n\n[chlid alice]\n",
    "test.conf:4: unknown section [chlid alice]; did you mean [child alice]?" },
  { "unknown-section-far", "[bedtime]\n",
    "test.conf:1: unknown section [bedtime]; sections are [daemon], [child NAME], [app NAME] and [purchase NAME]" },
  { "unknown-key-suggest", "[child alice]\ndaily_limt = 1h\n",
    "test.conf:2: unknown key 'daily_limt' in [child alice]; did you mean 'daily_limit'?" },
  { "unknown-key-daemon", "[daemon]\nwarnigns = 5m\n",
    "test.conf:2: unknown key 'warnigns' in [daemon]; did you mean 'warnings'?" },
  { "unknown-key-plain", "[child alice]\nbedtime = 21:00\n",
    "test.conf:2: unknown key 'bedtime' in [child alice]" },
  { "unknown-key-app", "[app x]\nmatch = comm:x\nmatches = comm:y\n",
    "test.conf:3: unknown key 'matches' in [app x]; did you mean 'match'?" },
  { "bad-duration", "[child alice]\n\ndaily_limit = 1h3\n",
    "test.conf:3: daily_limit: bad limit '1h3'; write a duration such as 1h30m, or 'unlimited'" },
  { "duration-too-long", "[daemon]\ngrace = 25h\n",
    "test.conf:2: grace: duration '25h' is longer than 24h" },
  { "bad-time", "[daemon]\nday_starts_at = 4:00\n",
    "test.conf:2: day_starts_at: bad time '4:00'; write HH:MM, e.g. 07:30" },
  { "bad-days", "[child alice]\ndaily_limit.holidays = 3h\n",
    "test.conf:2: daily_limit.holidays: bad days 'holidays'; write mon..sun, a range such as mon-fri, 'weekdays' or 'weekend'" },
  { "bad-range", "[child alice]\nallowed_hours = 07:00-25:00\n",
    "test.conf:2: allowed_hours: bad time '25:00': hours go from 00 to 23 and minutes from 00 to 59" },
  { "empty-range", "[child alice]\nallowed_hours = 07:00-07:00\n",
    "test.conf:2: allowed_hours: range '07:00-07:00' is empty; for the whole day write 'always'" },
  { "unknown-app-suggest", "[child alice]\nblocked_apps = gmaes\n",
    "test.conf:2: unknown app 'gmaes' in [child alice]; did you mean 'games'?" },
  { "unknown-app-plain", "[child alice]\nalways_allowed = zoo\n",
    "test.conf:2: unknown app 'zoo' in [child alice]; define it with [app zoo] and a 'match =' line" },
  { "unknown-app-limit", "[child alice]\n\napp_limit.gaems = 45m\n",
    "test.conf:3: unknown app 'gaems' in [child alice]; did you mean 'games'?" },
  { "purchase-as-app", "[child alice]\nblocked_apps = steam\n",
    "test.conf:2: 'steam' is a [purchase] rule, not an [app]; purchases are governed by 'purchases =' in [child alice]" },
  { "unknown-user", "[daemon]\n[child zed]\ndaily_limit = 1h\n",
    "test.conf:2: unknown user 'zed'; create the user first, or pin the uid with 'uid = NUMBER' if it comes from a directory not reachable at boot" },
  { "root-child", "[child root]\n",
    "test.conf:1: 'root' is root (uid 0); a child must be an ordinary user" },
  { "uid-zero", "[child alice]\nuid = 0\n",
    "test.conf:2: uid: '0' is not a whole number from 1 to 4294967294" },
  { "uid-text", "[child alice]\nuid = alice\n",
    "test.conf:2: uid: 'alice' is not a whole number from 1 to 4294967294" },
  { "same-uid", "[child alice]\n[child bob]\nuid = 1001\n",
    "test.conf:2: [child bob] has the same uid 1001 as [child alice]" },
  { "unknown-kind", "[app x]\nmatch = exec:/usr/bin/x\n",
    "test.conf:2: match: unknown match kind 'exec'; did you mean 'exe'?; kinds are exe, comm, cmdline, url, desktop and flatpak" },
  { "no-kind", "[app x]\nmatch = supertux2\n",
    "test.conf:2: match: 'supertux2' needs a kind: write KIND:PATTERN, e.g. comm:supertux2 or exe:/usr/bin/supertux2" },
  { "empty-glob", "[app x]\nmatch = exe:\n",
    "test.conf:2: match: 'exe:' has an empty pattern" },
  { "comm-too-long", "[app x]\nmatch = comm:supertuxkart-launcher\n",
    "test.conf:2: match: 'comm:supertuxkart-launcher' can never match: the kernel keeps only 15 characters of a process name; write comm:supertuxkart-la or match by exe:" },
  { "no-patterns", "[app x]\n",
    "test.conf:1: [app x] has no patterns; add a line such as 'match = comm:NAME'" },
  { "cleared-patterns", "[purchase y]\nmatch = url:https://a/*\nmatch =\n",
    "test.conf:1: [purchase y] has no patterns; add a line such as 'match = comm:NAME'" },
  { "duplicate-key", "[child alice]\ndaily_limit = 1h\nallowed_hours = always\ndaily_limit = 2h\n",
    "test.conf:4: 'daily_limit' is set twice in [child alice] (first at line 2); remove one" },
  { "duplicate-across-headers", "[daemon]\ngrace = 1m\n[child alice]\n[daemon]\ngrace = 2m\n",
    "test.conf:5: 'grace' is set twice in [daemon] (first at line 2); remove one" },
  { "history-range", "[daemon]\nhistory_days = 0\n",
    "test.conf:2: history_days: '0' is not a whole number from 1 to 3650" },
  { "history-text", "[daemon]\nhistory_days = lots\n",
    "test.conf:2: history_days: 'lots' is not a whole number from 1 to 3650" },
  { "outside-section", "grace = 1m\n",
    "test.conf:1: 'grace' is outside any section; put it under [daemon] or [child NAME]" },
  { "missing-bracket", "[daemon\ngrace = 1m\n",
    "test.conf:1: section header without ']'" },
  { "no-delimiter", "[daemon]\ngrace 1m\n",
    "test.conf:2: expected 'key = value', a [section] or a comment" },
  { "child-without-name", "[child]\n",
    "test.conf:1: [child] needs a name: write [child NAME]" },
  { "daemon-with-name", "[daemon main]\n",
    "test.conf:1: [daemon] takes no name" },
  { "bad-name", "[child al ice]\n",
    "test.conf:1: [child al ice]: a name may hold only letters, digits, '_', '-' and '.'" },
  { "dotted-app", "[app my.game]\nmatch = comm:x\n",
    "test.conf:1: the name 'my.game' may not contain '.'; use '-' or '_' instead" },
  { "on-limit", "[child alice]\non_limit = lokc\n",
    "test.conf:2: on_limit: unknown value 'lokc'; did you mean 'lock'? (one of lock, logout, close-apps)" },
  { "purchases", "[child alice]\npurchases = deny\n",
    "test.conf:2: purchases: unknown value 'deny'; use one of allow, log, ask, block" },
  { "bool", "[child alice]\ncount_text_sessions = maybe\n",
    "test.conf:2: count_text_sessions: bad boolean 'maybe'; write yes or no" },
  { "warning-zero", "[daemon]\nwarnings = 5m 0\n",
    "test.conf:2: warnings: a warning must come before time runs out, so 0 is not allowed" },
  { "hold-zero", "[daemon]\npurchase_hold = 0\n",
    "test.conf:2: purchase_hold: a hold of 0 denies every purchase at once; use 'purchases = block' for that" },
  { "no-day-form", "[child alice]\non_limit.weekend = logout\n",
    "test.conf:2: on_limit.weekend: 'on_limit' has no per-day form; only daily_limit, allowed_hours and app_limit do" },
  { "daemon-day-form", "[daemon]\ngrace.weekend = 1m\n",
    "test.conf:2: grace.weekend: 'grace' has no per-day form; only daily_limit, allowed_hours and app_limit do" },
  { "app-limit-no-app", "[child alice]\napp_limit = 1h\n",
    "test.conf:2: app_limit: name the app: app_limit.APP = DURATION, e.g. app_limit.games = 45m" },
  { "missing-value", "[child alice]\ndaily_limit =\n",
    "test.conf:2: daily_limit: missing value" },
  { "blocked-and-allowed", "[child alice]\nblocked_apps = games\nalways_allowed = games\n",
    "test.conf:1: [child alice] lists 'games' in both blocked_apps and always_allowed; keep one" },
  { "error-in-continuation", "[child alice]\nallowed_hours = 07:00-12:00,\n  13:00-2x:00\n",
    "test.conf:2: allowed_hours: bad time '2x:00'; write HH:MM, e.g. 07:30" },
  { "error-after-long-line",
    "[app x]\nmatch = comm:x, cmdline:*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa*\n"
    "[child alice]\nbogus = 1\n",
    "test.conf:4: unknown key 'bogus' in [child alice]" },
  { "key-in-wrong-section", "[child alice]\ngrace = 1m\n",
    "test.conf:2: 'grace' does not belong in [child alice]; it goes in [daemon]" },
  { "indented-key", "[child alice]\ndaily_limit = 1h\n  allowed_hours = always\n",
    "test.conf:3: this indented line would continue the value of 'daily_limit' (line 2); remove the indentation to make it a key of its own" },
  { "continuation-after-blank", "[app x]\nmatch = comm:a\n\n   comm:b\n",
    "test.conf:4: this indented line continues nothing: a blank line, a section header or the start of the file comes before it" },
  { "control-character", "[daemon]\ngrace = 1m\x01\n",
    "test.conf:2: control character in line" },
  { "long-section-header",
    "[app aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
    "test.conf:1: line too long to be a section header or key (208 characters)" },
};

static void
test_error_case (gconstpointer data)
{
  const ErrorCase *c = data;
  const char *texts[] = { c->text, NULL };
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = load_sources (texts, &errors);

  g_assert_null (config);
  g_assert_nonnull (errors);
  g_assert_cmpstr (errors[0], ==, c->error);
}

static void
test_all_errors_reported (void)
{
  const char *texts[] = {
    "[daemon]\n"             /* 1 */
    "grace = soon\n"         /* 2 */
    "[child alice]\n"        /* 3 */
    "daily_limit = 1h\n"     /* 4 */
    "on_limit = nap\n"       /* 5 */
    "blocked_apps = zzz\n"   /* 6 */
    "[app q]\n"              /* 7 */
    "match = nope:x\n",      /* 8 */
    NULL
  };
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = load_sources (texts, &errors);

  g_assert_null (config);
  /* [app q] has no patterns, but saying so would only repeat line 8. */
  g_assert_cmpuint (g_strv_length (errors), ==, 4);
  g_assert_true (g_str_has_prefix (errors[0], "test.conf:2: grace: "));
  g_assert_true (g_str_has_prefix (errors[1], "test.conf:5: on_limit: "));
  g_assert_true (g_str_has_prefix (errors[2], "test.conf:8: match: "));
  g_assert_true (g_str_has_prefix (errors[3], "test.conf:6: unknown app 'zzz'"));
}

static void
test_rules_hold_no_children (void)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  static const char rules[] = "[app a]\nmatch = comm:a\n\n[child alice]\ndaily_limit = 1h\n[daemon]\n";
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = NULL;

  pd_loader_add_data (loader, "games.conf", rules, strlen (rules), PD_SOURCE_RULES);
  config = pd_loader_finish (loader, &errors);
  g_assert_null (config);
  g_assert_cmpuint (g_strv_length (errors), ==, 2);
  g_assert_cmpstr (errors[0], ==, "games.conf:4: [child alice] does not belong in a rule set; rule sets "
                                  "hold only [app] and [purchase] sections, put it in parentd.conf");
  g_assert_true (g_str_has_prefix (errors[1], "games.conf:6: [daemon] does not belong"));
}

/* --- every key ------------------------------------------------------------ */

static void
test_defaults (void)
{
  g_autoptr (PdConfig) config = load_ok ("; nothing but a comment\n");
  g_autoptr (PdConfig) kid = load_ok ("[child alice]\n");
  const PdChild *c = child (kid, "alice");

  g_assert_cmpint (config->daemon.day_starts_at, ==, 240);
  g_assert_cmpuint (config->daemon.n_warnings, ==, 3);
  g_assert_cmpint (config->daemon.warnings[0], ==, 900);
  g_assert_cmpint (config->daemon.warnings[2], ==, 60);
  g_assert_cmpint (config->daemon.grace, ==, 60);
  g_assert_cmpuint (config->daemon.history_days, ==, 90);
  g_assert_cmpint (config->daemon.purchase_hold, ==, 600);
  g_assert_cmpuint (config->children->len, ==, 0);
  g_assert_cmpuint (config->apps->len, ==, 3);
  g_assert_cmpuint (config->purchases->len, ==, 1);

  g_assert_cmpuint (c->uid, ==, 1001);
  g_assert_false (c->uid_pinned);
  for (int d = 0; d < PD_DAYS; d++)
    {
      g_assert_cmpint (c->daily_limit[d], ==, PD_UNLIMITED);
      g_assert_cmpint (c->allowed_hours[d].n_ranges, ==, 1);
      g_assert_cmpint (c->allowed_hours[d].ranges[0].end, ==, 1440);
    }
  g_assert_cmpint (c->on_limit, ==, PD_ON_LIMIT_LOCK);
  g_assert_cmpint (c->purchases, ==, PD_PURCHASES_ASK);
  g_assert_true (c->count_text_sessions);
}

static void
test_daemon_keys (void)
{
  g_autoptr (PdConfig) config = load_ok ("[daemon]\n"
                                         "day_starts_at = 05:30\n"
                                         "warnings = 10m 2m   ; shorter list\n"
                                         "grace = 30s\n"
                                         "history_days = 30\n"
                                         "purchase_hold = 5m\n");

  g_assert_cmpint (config->daemon.day_starts_at, ==, 330);
  g_assert_cmpuint (config->daemon.n_warnings, ==, 2);
  g_assert_cmpint (config->daemon.warnings[0], ==, 600);
  g_assert_cmpint (config->daemon.warnings[1], ==, 120);
  g_assert_cmpint (config->daemon.grace, ==, 30);
  g_assert_cmpuint (config->daemon.history_days, ==, 30);
  g_assert_cmpint (config->daemon.purchase_hold, ==, 300);
}

static void
test_no_warnings (void)
{
  g_autoptr (PdConfig) config = load_ok ("[daemon]\nwarnings = none\n");

  g_assert_cmpuint (config->daemon.n_warnings, ==, 0);
}

static void
test_child_keys (void)
{
  g_autoptr (PdConfig) config = load_ok ("[child alice]\n"
                                         "uid = 2001\n"
                                         "daily_limit = 1h30m\n"
                                         "allowed_hours = 07:00-20:30\n"
                                         "app_limit.games = 45m\n"
                                         "blocked_apps = chat-x\n"
                                         "always_allowed = homework\n"
                                         "on_limit = close-apps\n"
                                         "purchases = block\n"
                                         "count_text_sessions = no\n");
  const PdChild *c = child (config, "alice");
  int games = pd_config_find_app (config, "games");

  g_assert_cmpuint (c->uid, ==, 2001);
  g_assert_true (c->uid_pinned);
  g_assert_cmpint (c->daily_limit[0], ==, 5400);
  g_assert_cmpint (c->daily_limit[6], ==, 5400);
  g_assert_cmpint (c->allowed_hours[3].ranges[0].start, ==, 420);
  g_assert_cmpint (c->allowed_hours[3].ranges[0].end, ==, 1230);
  g_assert_cmpint (pd_child_app_limit (c, (guint) games, 2), ==, 2700);
  g_assert_true (pd_child_blocks_app (c, (guint) pd_config_find_app (config, "chat-x")));
  g_assert_true (pd_child_always_allows_app (c, (guint) pd_config_find_app (config, "homework")));
  g_assert_false (pd_child_blocks_app (c, (guint) games));
  g_assert_cmpint (c->on_limit, ==, PD_ON_LIMIT_CLOSE_APPS);
  g_assert_cmpint (c->purchases, ==, PD_PURCHASES_BLOCK);
  g_assert_false (c->count_text_sessions);
}

static void
test_other_choices (void)
{
  g_autoptr (PdConfig) config = load_ok ("[child alice]\non_limit = logout\npurchases = log\n"
                                         "[child bob]\non_limit = lock\npurchases = allow\n"
                                         "daily_limit = unlimited\n");

  g_assert_cmpint (child (config, "alice")->on_limit, ==, PD_ON_LIMIT_LOGOUT);
  g_assert_cmpint (child (config, "alice")->purchases, ==, PD_PURCHASES_LOG);
  g_assert_cmpint (child (config, "bob")->purchases, ==, PD_PURCHASES_ALLOW);
  g_assert_cmpint (child (config, "bob")->daily_limit[4], ==, PD_UNLIMITED);
}

static void
test_day_overrides (void)
{
  g_autoptr (PdConfig) config = load_ok ("[child alice]\n"
                                         "daily_limit.sat = 4h\n"        /* most specific wins */
                                         "daily_limit = 1h\n"
                                         "daily_limit.weekend = 3h\n"
                                         "daily_limit.fri-mon = 2h\n"
                                         "allowed_hours = 07:00-20:30\n"
                                         "allowed_hours.sat-sun = 08:00-12:00, 14:00-22:00\n"
                                         "allowed_hours.wed = never\n"
                                         "app_limit.games = 30m\n"
                                         "app_limit.games.weekend = 2h\n");
  const PdChild *c = child (config, "alice");
  guint games = (guint) pd_config_find_app (config, "games");

  g_assert_cmpint (c->daily_limit[0], ==, 7200);  /* mon: fri-mon (4 days) beats the plain key */
  g_assert_cmpint (c->daily_limit[1], ==, 3600);
  g_assert_cmpint (c->daily_limit[4], ==, 7200);
  g_assert_cmpint (c->daily_limit[5], ==, 4 * 3600);
  g_assert_cmpint (c->daily_limit[6], ==, 3 * 3600);
  g_assert_cmpint (c->allowed_hours[0].n_ranges, ==, 1);
  g_assert_cmpint (c->allowed_hours[2].n_ranges, ==, 0);
  g_assert_cmpint (c->allowed_hours[5].n_ranges, ==, 2);
  g_assert_cmpint (c->allowed_hours[6].ranges[1].end, ==, 22 * 60);
  g_assert_cmpint (pd_child_app_limit (c, games, 0), ==, 1800);
  g_assert_cmpint (pd_child_app_limit (c, games, 6), ==, 7200);
  g_assert_cmpint (pd_child_app_limit (c, (guint) pd_config_find_app (config, "chat-x"), 6), ==, PD_UNLIMITED);
}

static void
test_app_limit_only_some_days (void)
{
  g_autoptr (PdConfig) config = load_ok ("[child alice]\napp_limit.games.weekdays = 20m\n");
  const PdChild *c = child (config, "alice");
  guint games = (guint) pd_config_find_app (config, "games");

  g_assert_cmpint (pd_child_app_limit (c, games, 1), ==, 1200);
  g_assert_cmpint (pd_child_app_limit (c, games, 5), ==, PD_UNLIMITED);
}

static const PdPattern *
pattern (const PdConfig *config, const char *app, guint i)
{
  const PdRule *rule = g_ptr_array_index (config->apps, pd_config_find_app (config, app));

  g_assert_cmpuint (i, <, rule->patterns->len);
  return g_ptr_array_index (rule->patterns, i);
}

static void
test_match_kinds (void)
{
  g_autoptr (PdConfig) config = load_ok ("[app every]\n"
                                         "match = exe:/usr/games/*, comm:supertux2\n"
                                         "match = cmdline:python3 *game.py*\n"
                                         "match = url:https://example.com/#/play  ; '#' is not a comment here\n"
                                         "match = desktop:org.foo.Bar, flatpak:org.foo.*\n");
  const PdRule *rule = g_ptr_array_index (config->apps, pd_config_find_app (config, "every"));
  static const struct { PdMatchKind kind; const char *glob; guint line; } expected[] = {
    { PD_MATCH_EXE, "/usr/games/*", 2 }, { PD_MATCH_COMM, "supertux2", 2 },
    { PD_MATCH_CMDLINE, "python3 *game.py*", 3 }, { PD_MATCH_URL, "https://example.com/#/play", 4 },
    { PD_MATCH_DESKTOP, "org.foo.Bar", 5 }, { PD_MATCH_FLATPAK, "org.foo.*", 5 },
  };

  g_assert_cmpuint (rule->patterns->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const PdPattern *p = pattern (config, "every", i);
      g_assert_cmpint (p->kind, ==, expected[i].kind);
      g_assert_cmpstr (p->glob, ==, expected[i].glob);
      g_assert_cmpuint (p->line, ==, expected[i].line);
      g_assert_cmpstr (p->file, ==, "test.conf");
    }
}

static void
test_purchase_section (void)
{
  g_autoptr (PdConfig) config = load_ok ("[purchase shop]\nmatch = url:https://shop.example/checkout*\n");
  const PdRule *rule = g_ptr_array_index (config->purchases, pd_config_find_purchase (config, "shop"));

  g_assert_cmpuint (config->purchases->len, ==, 2);
  g_assert_cmpuint (rule->patterns->len, ==, 1);
}

static void
test_continuation_values (void)
{
  g_autoptr (PdConfig) config = load_ok ("[app multi]\n"
                                         "match = comm:one,\n"
                                         "    comm:two\n"
                                         "    comm:three   ; no comma needed\n"
                                         "[child alice]\n"
                                         "allowed_hours = 07:00-08:00\n"
                                         "\t12:00-13:00\n"
                                         "blocked_apps = games\n"
                                         "  chat-x\n"
                                         "[daemon]\n"
                                         "warnings = 30m\n"
                                         "   10m 1m\n");
  const PdChild *c = child (config, "alice");

  g_assert_cmpuint (((PdRule *) g_ptr_array_index (config->apps, pd_config_find_app (config, "multi")))->patterns->len, ==, 3);
  g_assert_cmpstr (pattern (config, "multi", 2)->glob, ==, "three");
  g_assert_cmpint (c->allowed_hours[0].n_ranges, ==, 2);
  g_assert_cmpint (c->allowed_hours[0].ranges[1].start, ==, 720);
  g_assert_cmpuint (c->blocked_apps->len, ==, 2);
  g_assert_cmpuint (config->daemon.n_warnings, ==, 3);
}

/* inih cuts lines at 200 characters; the loader must not lose the rest. */
static void
test_long_line (void)
{
  g_autoptr (GString) text = g_string_new ("[app long]\nmatch = ");
  g_autoptr (PdConfig) config = NULL;
  const PdRule *rule;

  for (int i = 0; i < 40; i++)
    g_string_append_printf (text, "%sexe:/opt/games/title-number-%02d/bin/*", i ? ", " : "", i);
  g_string_append (text, "   ; a comment after a long value\n");
  g_string_append (text, "  comm:continued\n[child alice]\ndaily_limit = 1h\n");
  g_assert_cmpuint (text->len, >, 1200);

  config = load_ok (text->str);
  rule = g_ptr_array_index (config->apps, pd_config_find_app (config, "long"));
  g_assert_cmpuint (rule->patterns->len, ==, 41);
  g_assert_cmpstr (pattern (config, "long", 39)->glob, ==, "/opt/games/title-number-39/bin/*");
  g_assert_cmpstr (pattern (config, "long", 40)->glob, ==, "continued");
  g_assert_cmpint (child (config, "alice")->daily_limit[0], ==, 3600);
}

static void
test_long_continuation_line (void)
{
  g_autoptr (GString) text = g_string_new ("[app long]\nmatch = comm:first\n    ");
  g_autoptr (PdConfig) config = NULL;

  for (int i = 0; i < 20; i++)
    g_string_append_printf (text, "%scmdline:*some-long-argument-%02d*", i ? ", " : "", i);
  g_string_append (text, "\n");
  config = load_ok (text->str);
  g_assert_cmpstr (pattern (config, "long", 20)->glob, ==, "*some-long-argument-19*");
}

/* A blank line ends a value; an indented key after it stands on its own. */
static void
test_blank_line_ends_value (void)
{
  g_autoptr (PdConfig) config = load_ok ("[app x]\nmatch = comm:a,\n   comm:b\n\n"
                                         "[child alice]\ndaily_limit = 1h\n\n   on_limit = logout\n");

  g_assert_cmpuint (((PdRule *) g_ptr_array_index (config->apps, pd_config_find_app (config, "x")))->patterns->len, ==, 2);
  g_assert_cmpint (child (config, "alice")->on_limit, ==, PD_ON_LIMIT_LOGOUT);
}

static void
test_line_endings_and_bom (void)
{
  g_autoptr (PdConfig) config = load_ok ("\xEF\xBB\xBF[daemon]\r\ngrace = 2m\r\n# hash comment\r\n[child alice]\r\n"
                                         "daily_limit = 45m");   /* no final newline */

  g_assert_cmpint (config->daemon.grace, ==, 120);
  g_assert_cmpint (child (config, "alice")->daily_limit[0], ==, 2700);
}

static void
test_match_clear (void)
{
  g_autoptr (PdConfig) config = load_ok ("[app mine]\nmatch = comm:old\nmatch =\nmatch = comm:new\n");

  g_assert_cmpuint (((PdRule *) g_ptr_array_index (config->apps, pd_config_find_app (config, "mine")))->patterns->len, ==, 1);
  g_assert_cmpstr (pattern (config, "mine", 0)->glob, ==, "new");
}

static void
test_dropins_override (void)
{
  const char *texts[] = {
    "[daemon]\ngrace = 1m\n[child alice]\ndaily_limit = 1h\nblocked_apps = games\n",
    "[daemon]\ngrace = 2m\n[child alice]\ndaily_limit = 2h\nblocked_apps =\n",
    "[child bob]\ndaily_limit = 30m\n[app games]\nmatch = comm:extra\n",
    NULL
  };
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = load_sources (texts, &errors);
  const PdChild *alice;

  g_assert_null (errors);
  alice = child (config, "alice");
  g_assert_cmpint (config->daemon.grace, ==, 120);
  g_assert_cmpint (alice->daily_limit[2], ==, 7200);
  g_assert_cmpuint (alice->blocked_apps->len, ==, 0);
  g_assert_cmpint (child (config, "bob")->daily_limit[2], ==, 1800);
  /* The drop-in adds to the app defined later by the rule set. */
  g_assert_cmpuint (((PdRule *) g_ptr_array_index (config->apps, pd_config_find_app (config, "games")))->patterns->len, ==, 3);
  g_assert_cmpuint (config->sources->len, ==, 4);
}

static void
test_more_specific_survives_later_plain (void)
{
  const char *texts[] = {
    "[child alice]\ndaily_limit.weekend = 3h\n",
    "[child alice]\ndaily_limit = 1h\n",
    NULL
  };
  g_autoptr (PdConfig) config = load_sources (texts, NULL);

  g_assert_cmpint (child (config, "alice")->daily_limit[5], ==, 3 * 3600);
  g_assert_cmpint (child (config, "alice")->daily_limit[0], ==, 3600);
}

static void
test_summary (void)
{
  g_autoptr (PdConfig) config = load_ok ("[child alice]\n[child bob]\n");
  g_autofree char *summary = pd_config_summary (config);

  g_assert_cmpstr (summary, ==, "2 children, 3 apps, 1 purchase rule (5 patterns)");
}

static void
test_format_errors (void)
{
  const char *errors[] = { "a.conf:1: one", "a.conf:2: two", NULL };
  g_autofree char *text = pd_format_errors (errors);

  g_assert_cmpstr (text, ==, "a.conf:1: one\na.conf:2: two\nconfiguration rejected: 2 errors\n");
}

/* --- files and directories ------------------------------------------------ */

static char *
write_file (const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
rm_rf (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_path = g_build_filename (path, name, NULL);
      if (g_file_test (child_path, G_FILE_TEST_IS_DIR) && !g_file_test (child_path, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child_path);
      else
        g_unlink (child_path);
    }
  g_rmdir (path);
}

static void
test_load_directories (void)
{
  g_autofree char *root = g_dir_make_tmp ("pd-loader-XXXXXX", NULL);
  g_autofree char *etc = g_build_filename (root, "etc", NULL);
  g_autofree char *dropins = g_build_filename (etc, "parentd.conf.d", NULL);
  g_autofree char *admin = g_build_filename (etc, "rules.d", NULL);
  g_autofree char *shipped = g_build_filename (root, "share", NULL);
  g_autofree char *main_file = NULL;
  g_autofree char *masked = g_build_filename (admin, "chat.conf", NULL);
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = NULL;
  PdLoadPaths paths = { 0 };

  g_assert_cmpint (g_mkdir_with_parents (dropins, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (admin, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (shipped, 0700), ==, 0);
  main_file = write_file (etc, "parentd.conf", "[child alice]\ndaily_limit = 1h\nblocked_apps = games\n");
  g_free (write_file (dropins, "20-later.conf", "[child alice]\ndaily_limit = 3h\n"));
  g_free (write_file (dropins, "10-earlier.conf", "[child alice]\ndaily_limit = 2h\n"
                                                  "[app extra-game]\nmatch = comm:extra\n"));
  g_free (write_file (dropins, "30-mine.conf", "[app games]\nmatch =\nmatch = comm:mine\n"));
  g_free (write_file (dropins, "ignored.txt", "this is not read\n"));
  g_free (write_file (shipped, "games.conf", "[app games]\nmatch = comm:shipped\n"));
  g_free (write_file (shipped, "chat.conf", "[app chat]\nmatch = comm:chat\n"));
  g_free (write_file (admin, "games.conf", "[app games]\nmatch = comm:admin\n"));
  g_free (write_file (admin, "extra.conf", "[purchase shop]\nmatch = url:https://shop/*\n"));
  g_assert_cmpint (symlink ("/dev/null", masked), ==, 0);

  paths = (PdLoadPaths) { main_file, dropins, shipped, admin, fake_lookup, NULL };
  config = pd_config_load (&paths, &errors);
  g_assert_null (errors);
  g_assert_nonnull (config);
  g_assert_cmpint (child (config, "alice")->daily_limit[0], ==, 3 * 3600);
  g_assert_cmpint (pd_config_find_app (config, "chat"), ==, -1);      /* masked */
  /* The admin's file replaced the shipped one, and a drop-in, read after
   * every rule set, cleared it and set its own pattern. */
  g_assert_cmpstr (pattern (config, "games", 0)->glob, ==, "mine");
  g_assert_cmpuint (((PdRule *) g_ptr_array_index (config->apps, 0))->patterns->len, ==, 1);
  g_assert_cmpint (pd_config_find_app (config, "extra-game"), >=, 0);
  g_assert_cmpint (pd_config_find_purchase (config, "shop"), ==, 0);   /* admin-only file */
  g_assert_cmpuint (config->sources->len, ==, 6);
  g_assert_cmpint (((PdSource *) g_ptr_array_index (config->sources, 0))->kind, ==, PD_SOURCE_RULES);
  g_assert_cmpint (((PdSource *) g_ptr_array_index (config->sources, 5))->kind, ==, PD_SOURCE_CONFIG);

  /* A missing main file is an empty configuration. */
  g_clear_pointer (&config, pd_config_free);
  paths.config_file = "/nonexistent/parentd.conf";
  paths.dropin_dir = "/nonexistent/parentd.conf.d";
  config = pd_config_load (&paths, &errors);
  g_assert_nonnull (config);
  g_assert_cmpuint (config->children->len, ==, 0);

  rm_rf (root);
}

static void
test_unreadable_file (void)
{
  g_autoptr (PdLoader) loader = pd_loader_new (fake_lookup, NULL);
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = NULL;

  pd_loader_add_file (loader, "/nonexistent/dir/x.conf", PD_SOURCE_CONFIG);
  config = pd_loader_finish (loader, &errors);
  g_assert_null (config);
  g_assert_true (g_str_has_prefix (errors[0], "/nonexistent/dir/x.conf: cannot read: "));
}

/* What the shipped files say must load: the default configuration and every
 * rule set in the source tree. */
static void
test_shipped_files (void)
{
  const char *srcdir = g_getenv ("top_srcdir");
  g_autofree char *rules = NULL;
  g_autofree char *conf = NULL;
  g_auto (GStrv) errors = NULL;
  g_autoptr (PdConfig) config = NULL;
  PdLoadPaths paths = { 0 };

  if (srcdir == NULL)
    {
      g_test_skip ("top_srcdir is not set");
      return;
    }
  rules = g_build_filename (srcdir, "policy", "rules.d", NULL);
  conf = g_build_filename (srcdir, "policy", "parentd.conf", NULL);
  paths = (PdLoadPaths) { conf, NULL, rules, NULL, fake_lookup, NULL };
  config = pd_config_load (&paths, &errors);
  if (errors != NULL)
    g_error ("shipped files do not load:\n%s", g_strjoinv ("\n", errors));
  g_assert_cmpuint (config->children->len, ==, 0);
  g_assert_cmpuint (config->apps->len, >=, 20);
  g_assert_cmpuint (config->purchases->len, >=, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/loader/error/%s", error_cases[i].name);
      g_test_add_data_func (path, &error_cases[i], test_error_case);
    }
  g_test_add_func ("/loader/error/all-reported-in-order", test_all_errors_reported);
  g_test_add_func ("/loader/error/rules-hold-no-children", test_rules_hold_no_children);
  g_test_add_func ("/loader/error/unreadable-file", test_unreadable_file);
  g_test_add_func ("/loader/keys/defaults", test_defaults);
  g_test_add_func ("/loader/keys/daemon", test_daemon_keys);
  g_test_add_func ("/loader/keys/no-warnings", test_no_warnings);
  g_test_add_func ("/loader/keys/child", test_child_keys);
  g_test_add_func ("/loader/keys/other-choices", test_other_choices);
  g_test_add_func ("/loader/keys/day-overrides", test_day_overrides);
  g_test_add_func ("/loader/keys/app-limit-some-days", test_app_limit_only_some_days);
  g_test_add_func ("/loader/keys/match-kinds", test_match_kinds);
  g_test_add_func ("/loader/keys/purchase", test_purchase_section);
  g_test_add_func ("/loader/keys/match-clear", test_match_clear);
  g_test_add_func ("/loader/lines/continuation", test_continuation_values);
  g_test_add_func ("/loader/lines/long", test_long_line);
  g_test_add_func ("/loader/lines/long-continuation", test_long_continuation_line);
  g_test_add_func ("/loader/lines/endings-and-bom", test_line_endings_and_bom);
  g_test_add_func ("/loader/lines/blank-line-ends-value", test_blank_line_ends_value);
  g_test_add_func ("/loader/sources/drop-ins-override", test_dropins_override);
  g_test_add_func ("/loader/sources/specific-survives", test_more_specific_survives_later_plain);
  g_test_add_func ("/loader/sources/directories", test_load_directories);
  g_test_add_func ("/loader/sources/shipped-files", test_shipped_files);
  g_test_add_func ("/loader/summary", test_summary);
  g_test_add_func ("/loader/format-errors", test_format_errors);
  return g_test_run ();
}
