/* Tests for the matcher: every kind of pattern, URLs among arguments, the
 * index against a naive reference, and the URL and cgroup helpers. */
#include "config.h"

#include <fnmatch.h>
#include <locale.h>
#include <string.h>

#include <glib.h>

#include "policy/matcher.h"

/* --- helpers ------------------------------------------------------------- */

/* A rule written as "app|NAME|KIND:GLOB|KIND:GLOB..." or "purchase|...". */
static void
add_rule (PdConfig *config, const char *spec)
{
  g_auto(GStrv) parts = g_strsplit (spec, "|", -1);
  PdRule *rule;
  guint i;

  g_assert_cmpuint (g_strv_length (parts), >=, 2);
  rule = pd_rule_new (parts[1]);
  for (i = 2; parts[i] != NULL; i++)
    {
      const char *colon = strchr (parts[i], ':');
      PdMatchKind kind;

      g_assert_nonnull (colon);
      g_assert_true (pd_match_kind_from_string (parts[i], (gsize) (colon - parts[i]), &kind));
      pd_rule_add_pattern (rule, kind, colon + 1, "test.conf", i);
    }
  if (g_str_equal (parts[0], "app"))
    g_ptr_array_add (config->apps, rule);
  else if (g_str_equal (parts[0], "purchase"))
    g_ptr_array_add (config->purchases, rule);
  else
    g_assert_not_reached ();
}

static PdConfig *
config_from (const char *const *specs)
{
  PdConfig *config = pd_config_new ();

  for (; *specs != NULL; specs++)
    add_rule (config, *specs);
  return config;
}

/* Facts with owned storage for the argument vector. */
typedef struct {
  PdProcessFacts facts;
  GString *args;     /* (owned) NUL-separated */
  char *cmdline;     /* (owned) */
} Proc;

static void
proc_set_argv (Proc *proc, const char *const *argv)
{
  g_autoptr(GString) joined = g_string_new (NULL);

  if (proc->args != NULL)
    g_string_free (proc->args, TRUE);
  g_free (proc->cmdline);
  proc->args = g_string_new (NULL);
  for (; *argv != NULL; argv++)
    {
      g_string_append_len (proc->args, *argv, (gssize) strlen (*argv) + 1);
      if (joined->len > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, *argv);
    }
  proc->cmdline = g_strdup (joined->str);
  proc->facts.args = proc->args->str;
  proc->facts.args_len = proc->args->len;
  proc->facts.cmdline = proc->cmdline;
}

static void
proc_clear (Proc *proc)
{
  if (proc->args != NULL)
    g_string_free (proc->args, TRUE);
  g_free (proc->cmdline);
  memset (proc, 0, sizeof *proc);
}

/* "apps=a,b purchases=c url=..." with rule names, for readable asserts. */
static char *
describe (const PdConfig *config, const PdMatch *match)
{
  GString *out = g_string_new ("apps=");
  guint i;

  for (i = 0; i < match->n_apps; i++)
    {
      const PdRule *rule = g_ptr_array_index (config->apps, match->apps[i]);

      if (i > 0)
        g_assert_cmpuint (match->apps[i - 1], <, match->apps[i]);
      g_string_append_printf (out, "%s%s", i > 0 ? "," : "", rule->name);
    }
  g_string_append (out, " purchases=");
  for (i = 0; i < match->n_purchases; i++)
    {
      const PdRule *rule = g_ptr_array_index (config->purchases, match->purchases[i]);

      if (i > 0)
        g_assert_cmpuint (match->purchases[i - 1], <, match->purchases[i]);
      g_string_append_printf (out, "%s%s", i > 0 ? "," : "", rule->name);
    }
  if (match->url != NULL)
    {
      g_assert_cmpuint (strlen (match->url), ==, match->url_len);
      g_string_append_printf (out, " url=%s", match->url);
    }
  return g_string_free (out, FALSE);
}

static char *
classify (const PdConfig *config, const PdProcessFacts *facts)
{
  g_autoptr(PdMatcher) matcher = pd_matcher_new (config);
  g_autoptr(PdMatch) match = pd_match_new (matcher);

  pd_matcher_classify (matcher, facts, match);
  return describe (config, match);
}

static const char *const basic_rules[] = {
  "app|games|comm:supertux2|exe:/usr/games/*|desktop:org.supertuxproject.SuperTux",
  "app|minecraft|cmdline:java * -jar *minecraft*|exe:*/minecraft-launcher|comm:minecraft-la?nc",
  "app|browser|exe:/usr/lib/firefox/firefox|flatpak:org.mozilla.firefox|comm:[Ff]irefox",
  "app|steam|exe:/usr/lib/steam/*|comm:steam|desktop:steam",
  "app|chat|flatpak:com.discordapp.*|desktop:*.Discord",
  "purchase|steam-store|url:steam://purchase/*|url:https://store.steampowered.com/checkout*",
  "purchase|stripe|url:https://checkout.stripe.com/*",
  "purchase|mailto|url:mailto:*@shop.example",
  NULL,
};

static char *
classify_basic (const char *exe, const char *comm, const char *const *argv,
                const char *app_id, const char *flatpak_id)
{
  g_autoptr(PdConfig) config = config_from (basic_rules);
  Proc proc = { { 0 } };
  char *result;

  proc.facts.exe = exe;
  proc.facts.comm = comm;
  proc.facts.app_id = app_id;
  proc.facts.flatpak_id = flatpak_id;
  if (argv != NULL)
    proc_set_argv (&proc, argv);
  result = classify (config, &proc.facts);
  proc_clear (&proc);
  return result;
}

#define ASSERT_CLASSIFY(expected, exe, comm, argv, app_id, flatpak_id) \
  G_STMT_START { \
    g_autofree char *got_ = classify_basic (exe, comm, argv, app_id, flatpak_id); \
    g_assert_cmpstr (got_, ==, expected); \
  } G_STMT_END

/* --- one kind at a time ---------------------------------------------------- */

static void
test_exe_exact (void)
{
  ASSERT_CLASSIFY ("apps=browser purchases=", "/usr/lib/firefox/firefox", NULL, NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", "/usr/lib/firefox/firefox-bin", NULL, NULL, NULL, NULL);
}

static void
test_exe_glob (void)
{
  ASSERT_CLASSIFY ("apps=games purchases=", "/usr/games/supertux2", NULL, NULL, NULL, NULL);
  /* '*' matches '/' too: subdirectories are covered. */
  ASSERT_CLASSIFY ("apps=games purchases=", "/usr/games/lib/x/y", NULL, NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps=steam purchases=", "/usr/lib/steam/bin_steam.sh", NULL, NULL, NULL, NULL);
}

static void
test_exe_glob_no_match (void)
{
  ASSERT_CLASSIFY ("apps= purchases=", "/usr/gamesx/supertux2", NULL, NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", "/usr/games", NULL, NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", "/usr/local/games/supertux2", NULL, NULL, NULL, NULL);
}

static void
test_exe_suffix (void)
{
  ASSERT_CLASSIFY ("apps=minecraft purchases=", "/opt/mc/bin/minecraft-launcher", NULL, NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", "/opt/mc/bin/minecraft-launcher.sh", NULL, NULL, NULL, NULL);
}

static void
test_comm_exact (void)
{
  ASSERT_CLASSIFY ("apps=games purchases=", NULL, "supertux2", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, "supertux", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, "supertux22", NULL, NULL, NULL);
}

static void
test_comm_glob (void)
{
  ASSERT_CLASSIFY ("apps=minecraft purchases=", NULL, "minecraft-launc", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps=minecraft purchases=", NULL, "minecraft-la nc", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, "minecraft-lXunc", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps=browser purchases=", NULL, "Firefox", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps=browser purchases=", NULL, "firefox", NULL, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, "xfirefox", NULL, NULL, NULL);
}

static void
test_cmdline_glob (void)
{
  const char *const argv[] = { "java", "-Xmx2G", "-jar", "/home/a/minecraft/launcher.jar", NULL };
  const char *const other[] = { "java", "-jar", "/home/a/tool.jar", NULL };

  ASSERT_CLASSIFY ("apps=minecraft purchases=", "/usr/bin/java", "java", argv, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", "/usr/bin/java", "java", other, NULL, NULL);
}

static void
test_cmdline_exact (void)
{
  const char *const rules[] = { "app|calc|cmdline:python3 -m calculator", NULL };
  g_autoptr(PdConfig) config = config_from (rules);
  const char *const yes[] = { "python3", "-m", "calculator", NULL };
  const char *const no[] = { "python3", "-m", "calculator", "--x", NULL };
  Proc proc = { { 0 } };
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  proc_set_argv (&proc, yes);
  a = classify (config, &proc.facts);
  proc_set_argv (&proc, no);
  b = classify (config, &proc.facts);
  proc_clear (&proc);
  g_assert_cmpstr (a, ==, "apps=calc purchases=");
  g_assert_cmpstr (b, ==, "apps= purchases=");
}

static void
test_url_among_args (void)
{
  const char *const argv[] = { "steam", "-silent", "steam://purchase/440", NULL };

  ASSERT_CLASSIFY ("apps=steam purchases=steam-store url=steam://purchase/440",
                   "/usr/lib/steam/steam", "steam", argv, NULL, NULL);
}

static void
test_url_with_query (void)
{
  const char *const argv[] = {
    "firefox", "--new-window", "https://checkout.stripe.com/pay/cs_123?x=1", NULL
  };

  ASSERT_CLASSIFY ("apps=browser purchases=stripe url=https://checkout.stripe.com/pay/cs_123?x=1",
                   "/usr/lib/firefox/firefox", "firefox", argv, NULL, NULL);
}

static void
test_url_deep_path (void)
{
  const char *const argv[] = { "steam", "steam://purchase/subscription/1/2", NULL };

  ASSERT_CLASSIFY ("apps= purchases=steam-store url=steam://purchase/subscription/1/2",
                   NULL, NULL, argv, NULL, NULL);
}

/* Only whole arguments that are URLs count: not a URL inside an option, not
 * the joined command line. */
static void
test_url_not_an_argument (void)
{
  const char *const inside[] = { "steam", "--open=steam://purchase/440", NULL };
  const char *const split[] = { "steam://purchase", "/440", NULL };
  const char *const drive[] = { "wine", "C:steam://purchase/440", NULL };

  ASSERT_CLASSIFY ("apps= purchases=", NULL, NULL, inside, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, NULL, split, NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, NULL, drive, NULL, NULL);
}

static void
test_url_first_reported (void)
{
  const char *const argv[] = {
    "browser", "https://example.com/", "https://checkout.stripe.com/a",
    "steam://purchase/1", NULL
  };

  ASSERT_CLASSIFY ("apps= purchases=steam-store,stripe url=https://checkout.stripe.com/a",
                   NULL, NULL, argv, NULL, NULL);
}

static void
test_url_opaque (void)
{
  const char *const yes[] = { "mail", "mailto:orders@shop.example", NULL };
  const char *const no[] = { "mail", "mailto:orders@shop.example.net", NULL };

  ASSERT_CLASSIFY ("apps= purchases=mailto url=mailto:orders@shop.example", NULL, NULL, yes,
                   NULL, NULL);
  ASSERT_CLASSIFY ("apps= purchases=", NULL, NULL, no, NULL, NULL);
}

/* An argument vector without its final NUL breaks the header's contract; the
 * last argument is then ignored rather than read past the end. */
static void
test_url_unterminated_args (void)
{
  g_autoptr(PdConfig) config = config_from (basic_rules);
  static const char args[] = "steam\0-silent\0steam://purchase/2";
  PdProcessFacts facts = { 0 };
  g_autofree char *all = NULL;
  g_autofree char *cut = NULL;

  facts.args = args;
  facts.args_len = sizeof args;
  all = classify (config, &facts);
  /* A copy, so that a read past the end shows under AddressSanitizer. */
  facts.args_len = sizeof args - 1;
  facts.args = g_memdup2 (args, facts.args_len);
  cut = classify (config, &facts);
  g_free ((char *) facts.args);
  g_assert_cmpstr (all, ==, "apps= purchases=steam-store url=steam://purchase/2");
  g_assert_cmpstr (cut, ==, "apps= purchases=");
}

static void
test_desktop_app_id (void)
{
  ASSERT_CLASSIFY ("apps=games purchases=", NULL, NULL, NULL, "org.supertuxproject.SuperTux", NULL);
  ASSERT_CLASSIFY ("apps=steam purchases=", NULL, NULL, NULL, "steam", NULL);
  ASSERT_CLASSIFY ("apps=chat purchases=", NULL, NULL, NULL, "com.discordapp.Discord", NULL);
}

static void
test_desktop_flatpak_id (void)
{
  ASSERT_CLASSIFY ("apps=games purchases=", NULL, NULL, NULL, NULL, "org.supertuxproject.SuperTux");
  ASSERT_CLASSIFY ("apps=games purchases=", NULL, NULL, NULL, "org.other.App",
                   "org.supertuxproject.SuperTux");
}

static void
test_flatpak (void)
{
  ASSERT_CLASSIFY ("apps=browser purchases=", NULL, NULL, NULL, NULL, "org.mozilla.firefox");
  ASSERT_CLASSIFY ("apps=chat purchases=", NULL, NULL, NULL, NULL, "com.discordapp.Discord");
  /* flatpak: looks at the Flatpak ID only, never at the scope's app ID. */
  ASSERT_CLASSIFY ("apps= purchases=", NULL, NULL, NULL, "org.mozilla.firefox", NULL);
}

static void
test_multiple_apps (void)
{
  const char *const argv[] = { "steam", "steam://purchase/9", "https://checkout.stripe.com/x", NULL };

  /* Matched in the order exe, comm, desktop; reported in configuration order. */
  ASSERT_CLASSIFY ("apps=games,browser,steam purchases=steam-store,stripe url=steam://purchase/9",
                   "/usr/games/x", "firefox", argv, "steam", NULL);
}

static void
test_deduplicated (void)
{
  const char *const argv[] = { "supertux2", NULL };
  const char *const rules[] = {
    "app|twice|comm:st*|comm:*2|comm:supertux2|exe:/usr/games/*|cmdline:supertux2",
    "app|dup|comm:supertux2|comm:supertux2",
    NULL,
  };
  g_autoptr(PdConfig) config = config_from (rules);
  Proc proc = { { 0 } };
  g_autofree char *got = NULL;

  proc.facts.comm = "supertux2";
  proc.facts.exe = "/usr/games/supertux2";
  proc.facts.app_id = proc.facts.flatpak_id = "org.supertuxproject.SuperTux";
  proc_set_argv (&proc, argv);
  got = classify (config, &proc.facts);
  proc_clear (&proc);
  g_assert_cmpstr (got, ==, "apps=twice,dup purchases=");
}

static void
test_no_match (void)
{
  const char *const argv[] = { "bash", "-c", "echo steam", NULL };

  ASSERT_CLASSIFY ("apps= purchases=", "/usr/bin/bash", "bash", argv, "org.gnome.Terminal", NULL);
}

static void
test_null_facts (void)
{
  const char *const rules[] = { "app|all|exe:*|comm:*|cmdline:*|desktop:*|flatpak:*", NULL };
  g_autoptr(PdConfig) config = config_from (rules);
  g_autoptr(PdMatcher) matcher = pd_matcher_new (config);
  g_autoptr(PdMatch) match = pd_match_new (matcher);
  PdProcessFacts facts = { 0 };

  pd_matcher_classify (matcher, &facts, match);
  g_assert_cmpuint (match->n_apps, ==, 0);
  pd_matcher_classify (matcher, NULL, match);
  g_assert_cmpuint (match->n_apps, ==, 0);
  /* An empty string is known, and "*" matches it. */
  facts.comm = "";
  pd_matcher_classify (matcher, &facts, match);
  g_assert_cmpuint (match->n_apps, ==, 1);
}

static void
test_empty_config (void)
{
  g_autoptr(PdConfig) config = pd_config_new ();
  g_autoptr(PdMatcher) matcher = pd_matcher_new (config);
  g_autoptr(PdMatch) match = pd_match_new (matcher);
  PdProcessFacts facts = { .exe = "/usr/bin/true", .comm = "true" };

  pd_matcher_classify (matcher, &facts, match);
  g_assert_cmpuint (match->n_apps, ==, 0);
  g_assert_cmpuint (match->n_purchases, ==, 0);
  g_assert_null (match->url);
}

/* One PdMatch reused: the dedup scratch space must be clean after each call. */
static void
test_match_reused (void)
{
  g_autoptr(PdConfig) config = config_from (basic_rules);
  g_autoptr(PdMatcher) matcher = pd_matcher_new (config);
  g_autoptr(PdMatch) match = pd_match_new (matcher);
  g_autoptr(PdMatch) other = pd_match_new (matcher);
  const char *const argv[] = { "steam", "steam://purchase/1", NULL };
  Proc proc = { { 0 } };
  PdProcessFacts nothing = { .comm = "bash" };
  guint round;

  proc.facts.comm = "steam";
  proc_set_argv (&proc, argv);
  for (round = 0; round < 3; round++)
    {
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;
      g_autofree char *c = NULL;

      pd_matcher_classify (matcher, &proc.facts, match);
      pd_matcher_classify (matcher, &nothing, other);
      a = describe (config, match);
      b = describe (config, other);
      g_assert_cmpstr (a, ==, "apps=steam purchases=steam-store url=steam://purchase/1");
      g_assert_cmpstr (b, ==, "apps= purchases=");
      pd_matcher_classify (matcher, &proc.facts, other);
      c = describe (config, other);
      g_assert_cmpstr (c, ==, a);
    }
  proc_clear (&proc);
}

static void
test_escapes_and_brackets (void)
{
  const char *const rules[] = {
    "app|star|comm:a\\*b",
    "app|bracket|exe:/opt/game[0-9]/bin/*",
    "app|negated|comm:x[!y]z",
    "app|class|comm:[[:digit:]][[:digit:]]*",
    "app|literal-bracket|comm:odd]name",
    NULL,
  };
  g_autoptr(PdConfig) config = config_from (rules);
  const struct { const char *exe, *comm, *expected; } cases[] = {
    { NULL, "a*b", "apps=star purchases=" },
    { NULL, "axb", "apps= purchases=" },
    { "/opt/game7/bin/run", NULL, "apps=bracket purchases=" },
    { "/opt/gameX/bin/run", NULL, "apps= purchases=" },
    { NULL, "xaz", "apps=negated purchases=" },
    { NULL, "xyz", "apps= purchases=" },
    { NULL, "42abc", "apps=class purchases=" },
    { NULL, "4abc", "apps= purchases=" },
    { NULL, "odd]name", "apps=literal-bracket purchases=" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PdProcessFacts facts = { .exe = cases[i].exe, .comm = cases[i].comm };
      g_autofree char *got = classify (config, &facts);

      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

/* Affix keys are capped; longer literal prefixes and suffixes still count in
 * full. */
static void
test_long_affixes (void)
{
  g_autofree char *dir = g_strnfill (100, 'd');
  g_autofree char *prefix_rule = g_strdup_printf ("app|prefix|exe:/%s/*", dir);
  g_autofree char *suffix_rule = g_strdup_printf ("app|suffix|exe:*/%s.bin", dir);
  g_autofree char *exact_rule = g_strdup_printf ("app|exact|exe:/x/%s", dir);
  const char *const rules[] = { prefix_rule, suffix_rule, exact_rule, NULL };
  g_autoptr(PdConfig) config = config_from (rules);
  g_autofree char *in_dir = g_strdup_printf ("/%s/game", dir);
  g_autofree char *near_dir = g_strdup_printf ("/%.99se/game", dir);
  g_autofree char *suffixed = g_strdup_printf ("/y/%s.bin", dir);
  g_autofree char *near_suffix = g_strdup_printf ("/y/e%s.bin", dir + 1);
  g_autofree char *exact = g_strdup_printf ("/x/%s", dir);
  const struct { const char *exe, *expected; } cases[] = {
    { in_dir, "apps=prefix purchases=" },
    { near_dir, "apps= purchases=" },
    { suffixed, "apps=suffix purchases=" },
    { near_suffix, "apps= purchases=" },
    { exact, "apps=exact purchases=" },
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PdProcessFacts facts = { .exe = cases[i].exe };
      g_autofree char *got = classify (config, &facts);

      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

/* Matching is on bytes in the C locale, whatever the daemon's locale: '?' is
 * one byte, so "é" (two bytes in UTF-8) needs "??" or "*". */
static void
test_bytes_not_characters (void)
{
  const char *const rules[] = {
    "app|one|comm:caf?",
    "app|two|comm:caf??",
    "app|star|comm:caf*",
    NULL,
  };
  g_autoptr(PdConfig) config = config_from (rules);
  PdProcessFacts facts = { .comm = "caf\xc3\xa9" };
  g_autofree char *got = classify (config, &facts);

  g_assert_cmpstr (got, ==, "apps=two,star purchases=");
}

/* Long command lines (Electron apps pass kilobytes) match like short ones. */
static void
test_long_cmdline (void)
{
  const char *const rules[] = { "app|electron|cmdline:* --type=renderer *discord*", NULL };
  g_autoptr(PdConfig) config = config_from (rules);
  g_autoptr(GString) cmdline = g_string_new ("/opt/discord/Discord --type=renderer");
  PdProcessFacts facts = { 0 };
  g_autofree char *miss = NULL;
  g_autofree char *hit = NULL;

  while (cmdline->len < 8192)
    g_string_append (cmdline, " --enable-features=SomeFeature,OtherFeature");
  facts.cmdline = cmdline->str;
  miss = classify (config, &facts);
  g_string_append (cmdline, " --app-path=/opt/discord/resources/discord.asar");
  facts.cmdline = cmdline->str;
  hit = classify (config, &facts);
  g_assert_cmpstr (miss, ==, "apps= purchases=");
  g_assert_cmpstr (hit, ==, "apps=electron purchases=");
}

/* --- the index against a naive reference --------------------------------- */

static locale_t c_locale;

static gboolean
naive_fnmatch (const char *glob, const char *subject)
{
  locale_t saved = uselocale (c_locale);
  gboolean matched = subject != NULL && fnmatch (glob, subject, 0) == 0;

  uselocale (saved);
  return matched;
}

static const char *
naive_url (const PdPattern *pattern, const PdProcessFacts *facts)
{
  const char *arg;

  for (arg = facts->args; arg != NULL && arg < facts->args + facts->args_len;
       arg += strlen (arg) + 1)
    if (pd_arg_is_url (arg) && naive_fnmatch (pattern->glob, arg))
      return arg;
  return NULL;
}

static gboolean
naive_pattern (const PdPattern *pattern, const PdProcessFacts *facts)
{
  switch (pattern->kind)
    {
    case PD_MATCH_EXE:
      return naive_fnmatch (pattern->glob, facts->exe);
    case PD_MATCH_COMM:
      return naive_fnmatch (pattern->glob, facts->comm);
    case PD_MATCH_CMDLINE:
      return naive_fnmatch (pattern->glob, facts->cmdline);
    case PD_MATCH_URL:
      return naive_url (pattern, facts) != NULL;
    case PD_MATCH_DESKTOP:
      return naive_fnmatch (pattern->glob, facts->app_id) ||
             naive_fnmatch (pattern->glob, facts->flatpak_id);
    case PD_MATCH_FLATPAK:
      return naive_fnmatch (pattern->glob, facts->flatpak_id);
    case PD_N_MATCH_KINDS:
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

/* Same format as describe(); the URL is the first argument any url: pattern
 * of any rule matches. */
static char *
naive_classify (const PdConfig *config, const PdProcessFacts *facts)
{
  GString *out = g_string_new ("apps=");
  const char *url = NULL;
  const char *arg;
  guint list, r, p;

  for (list = 0; list < 2; list++)
    {
      GPtrArray *rules = list == 0 ? config->apps : config->purchases;
      gboolean first = TRUE;

      if (list == 1)
        g_string_append (out, " purchases=");
      for (r = 0; r < rules->len; r++)
        {
          const PdRule *rule = g_ptr_array_index (rules, r);

          for (p = 0; p < rule->patterns->len; p++)
            if (naive_pattern (g_ptr_array_index (rule->patterns, p), facts))
              {
                g_string_append_printf (out, "%s%s", first ? "" : ",", rule->name);
                first = FALSE;
                break;
              }
        }
    }
  for (arg = facts->args; url == NULL && arg != NULL && arg < facts->args + facts->args_len;
       arg += strlen (arg) + 1)
    for (list = 0; url == NULL && list < 2; list++)
      {
        GPtrArray *rules = list == 0 ? config->apps : config->purchases;

        for (r = 0; url == NULL && r < rules->len; r++)
          {
            const PdRule *rule = g_ptr_array_index (rules, r);

            for (p = 0; url == NULL && p < rule->patterns->len; p++)
              {
                const PdPattern *pattern = g_ptr_array_index (rule->patterns, p);

                if (pattern->kind == PD_MATCH_URL && pd_arg_is_url (arg) &&
                    naive_fnmatch (pattern->glob, arg))
                  url = arg;
              }
          }
      }
  if (url != NULL)
    g_string_append_printf (out, " url=%s", url);
  return g_string_free (out, FALSE);
}

/* Pieces that collide often, so that random patterns and subjects meet. */
static const char *const pieces[] = {
  "/usr", "/bin", "/games", "/opt", "/", "steam", "org.", "foo", "Bar", "-", ".",
  "mine", "craft", "launcher", "x", "1", "23", "\xc3\xa9", " ", "--", "a", "b",
  "https://", "steam://", "store.", "com", "/checkout", "?", "=", "@", ":", "[", "]", "*",
};

static const char *
random_piece (void)
{
  return pieces[g_test_rand_int_range (0, G_N_ELEMENTS (pieces))];
}

static char *
random_string (guint min_pieces, guint max_pieces)
{
  GString *s = g_string_new (NULL);
  guint n = (guint) g_test_rand_int_range ((gint32) min_pieces, (gint32) max_pieces + 1);
  guint i;

  for (i = 0; i < n; i++)
    g_string_append (s, random_piece ());
  return g_string_free (s, FALSE);
}

/* Patterns and subjects both grow from these, so that hits and near misses
 * are common. */
#define N_BASES 300
static char *bases[N_BASES];

static const char *
random_base (void)
{
  return bases[g_test_rand_int_range (0, N_BASES)];
}

/* A base with wildcards mixed in, so that patterns have literal prefixes,
 * suffixes and middles of every length the index distinguishes. */
static char *
random_glob (void)
{
  const char *base = random_base ();
  GString *glob = g_string_new (NULL);
  gsize i;

  if (g_test_rand_int_range (0, 6) == 0)
    g_string_append_c (glob, '*');
  for (i = 0; base[i] != '\0'; i++)
    {
      switch (g_test_rand_int_range (0, 60))
        {
        case 0: case 1: case 2:
          /* A star stands for a few of the base's bytes. */
          g_string_append_c (glob, '*');
          while (base[i + 1] != '\0' && g_test_rand_int_range (0, 2) == 0)
            i++;
          break;
        case 3:
          g_string_append_c (glob, '?');
          break;
        case 4:
          g_string_append_printf (glob, "[%c-z]", base[i]);
          break;
        case 5:
          g_string_append_printf (glob, "[!%c]", base[i]);
          break;
        case 6:
          g_string_append_printf (glob, "\\%c", base[i]);
          break;
        case 7:
          g_string_append (glob, "[[:alpha:]]");
          break;
        default:
          g_string_append_c (glob, base[i]);
        }
    }
  if (g_test_rand_int_range (0, 6) == 0)
    g_string_append_c (glob, '*');
  return g_string_free (glob, FALSE);
}

/* Every fourth rule is a purchase rule; patterns land on random rules. */
static PdConfig *
random_config (guint n_rules, guint n_patterns)
{
  PdConfig *config = pd_config_new ();
  g_autoptr(GPtrArray) rules = g_ptr_array_new ();
  guint i;

  for (i = 0; i < n_rules; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%u", i);
      PdRule *rule = pd_rule_new (name);

      g_ptr_array_add (i % 4 == 3 ? config->purchases : config->apps, rule);
      g_ptr_array_add (rules, rule);
    }
  for (i = 0; i < n_patterns; i++)
    {
      PdRule *rule = g_ptr_array_index (rules, g_test_rand_int_range (0, (gint32) n_rules));
      PdMatchKind kind = (PdMatchKind) g_test_rand_int_range (0, PD_N_MATCH_KINDS);
      g_autofree char *glob = random_glob ();

      pd_rule_add_pattern (rule, kind, glob, "random.conf", i + 1);
    }
  return config;
}

/* A base, maybe with more around it, or now and then anything at all. */
static char *
random_subject (void)
{
  switch (g_test_rand_int_range (0, 6))
    {
    case 0:
      return random_string (0, 6);
    case 1:
      return g_strconcat (random_piece (), random_base (), NULL);
    case 2:
      return g_strconcat (random_base (), random_piece (), NULL);
    default:
      return g_strdup (random_base ());
    }
}

static const char *
maybe (char *s)
{
  return g_test_rand_int_range (0, 5) == 0 ? NULL : s;
}

static void
test_random_against_naive (void)
{
  g_autoptr(PdConfig) config = NULL;
  g_autoptr(PdMatcher) matcher = NULL;
  g_autoptr(PdMatch) match = NULL;
  guint matched = 0, hits = 0;
  guint i;

  for (i = 0; i < N_BASES; i++)
    bases[i] = random_string (1, 6);
  config = random_config (200, 1000);
  matcher = pd_matcher_new (config);
  match = pd_match_new (matcher);

  g_assert_cmpuint (config->apps->len + config->purchases->len, ==, 200);
  g_assert_cmpuint (pd_config_count_patterns (config), ==, 1000);
  for (i = 0; i < 4000; i++)
    {
      g_autofree char *exe = random_subject ();
      g_autofree char *comm = random_subject ();
      g_autofree char *app_id = random_subject ();
      g_autofree char *flatpak_id = random_subject ();
      g_autofree char *arg0 = random_subject ();
      g_autofree char *arg1 = random_subject ();
      g_autofree char *arg2 = random_subject ();
      const char *argv[] = { arg0, arg1, arg2, NULL };
      Proc proc = { { 0 } };
      g_autofree char *got = NULL;
      g_autofree char *want = NULL;

      proc.facts.exe = maybe (exe);
      proc.facts.comm = maybe (comm);
      proc.facts.app_id = maybe (app_id);
      proc.facts.flatpak_id = maybe (flatpak_id);
      proc_set_argv (&proc, argv);
      if (g_test_rand_int_range (0, 5) == 0)
        proc.facts.cmdline = NULL;
      pd_matcher_classify (matcher, &proc.facts, match);
      got = describe (config, match);
      want = naive_classify (config, &proc.facts);
      g_assert_cmpstr (got, ==, want);
      matched += match->n_apps + match->n_purchases > 0;
      hits += match->n_apps + match->n_purchases;
      proc_clear (&proc);
    }
  for (i = 0; i < N_BASES; i++)
    g_clear_pointer (&bases[i], g_free);
  /* Of the 800,000 decisions (4,000 processes times 200 rules), hits and
   * misses must both be common, or the comparison proves little. */
  g_test_message ("%u of 4000 random processes matched something, %u rules in all",
                  matched, hits);
  g_assert_cmpuint (hits, >, 4000);
  g_assert_cmpuint (hits, <, 400000);
}

/* Every string of length n over the alphabet, in order; FALSE after the last. */
static gboolean
next_string (char *s, gsize n, const char *alphabet)
{
  gsize i;

  for (i = n; i > 0; i--)
    {
      const char *at = strchr (alphabet, s[i - 1]);

      if (at[1] != '\0')
        {
          s[i - 1] = at[1];
          return TRUE;
        }
      s[i - 1] = alphabet[0];
    }
  return FALSE;
}

/* Every pattern of up to six characters over {a, b, *, ?}, one rule each,
 * against every string of up to six over {a, b}: overlapping runs ("*aa*aa*"
 * on "aaa"), stars next to prefixes and suffixes, all of it. */
static void
test_exhaustive_small_alphabet (void)
{
  g_autoptr(PdConfig) config = pd_config_new ();
  g_autoptr(PdMatcher) matcher = NULL;
  g_autoptr(PdMatch) match = NULL;
  char buf[8];
  gsize n;
  guint checked = 0;

  for (n = 1; n <= 6; n++)
    {
      memset (buf, 0, sizeof buf);
      memset (buf, 'a', n);
      do
        {
          PdRule *rule = pd_rule_new (buf);

          pd_rule_add_pattern (rule, PD_MATCH_COMM, buf, "exhaustive.conf", 1);
          g_ptr_array_add (config->apps, rule);
        }
      while (next_string (buf, n, "ab*?"));
    }
  matcher = pd_matcher_new (config);
  match = pd_match_new (matcher);

  for (n = 0; n <= 6; n++)
    {
      memset (buf, 0, sizeof buf);
      memset (buf, 'a', n);
      do
        {
          PdProcessFacts facts = { .comm = buf };
          guint r, found = 0;

          pd_matcher_classify (matcher, &facts, match);
          for (r = 0; r < config->apps->len; r++)
            {
              const PdRule *rule = g_ptr_array_index (config->apps, r);
              gboolean want = naive_fnmatch (rule->name, buf);
              gboolean got = found < match->n_apps && match->apps[found] == r;

              if (got != want)
                g_error ("pattern \"%s\" on \"%s\": fnmatch says %d, matcher %d",
                         rule->name, buf, want, got);
              found += got;
              checked++;
            }
          g_assert_cmpuint (found, ==, match->n_apps);
        }
      while (n > 0 && next_string (buf, n, "ab"));
    }
  g_assert_cmpuint (checked, ==, 5460 * 127);
}

/* 200 realistic rules: each process matches exactly its own app. */
static void
test_many_rules (void)
{
  g_autoptr(PdConfig) config = pd_config_new ();
  g_autoptr(PdMatcher) matcher = NULL;
  g_autoptr(PdMatch) match = NULL;
  guint i;

  for (i = 0; i < 200; i++)
    {
      g_autofree char *spec = g_strdup_printf (
          "app|game%u|comm:game%u|exe:/opt/game%u/*|desktop:org.example.Game%u|"
          "cmdline:*--profile=game%u *|flatpak:org.example.Game%u.*", i, i, i, i, i, i);

      add_rule (config, spec);
    }
  matcher = pd_matcher_new (config);
  match = pd_match_new (matcher);
  for (i = 0; i < 200; i++)
    {
      g_autofree char *comm = g_strdup_printf ("game%u", i);
      g_autofree char *exe = g_strdup_printf ("/opt/game%u/bin/run", i);
      g_autofree char *cmdline = g_strdup_printf ("run --profile=game%u --fast", i);
      g_autofree char *app_id = g_strdup_printf ("org.example.Game%u", i);
      g_autofree char *flatpak = g_strdup_printf ("org.example.Game%u.Beta", i);
      const PdProcessFacts one[] = {
        { .comm = comm }, { .exe = exe }, { .cmdline = cmdline }, { .app_id = app_id },
        { .flatpak_id = flatpak },
      };
      guint f;

      for (f = 0; f < G_N_ELEMENTS (one); f++)
        {
          pd_matcher_classify (matcher, &one[f], match);
          g_assert_cmpuint (match->n_apps, ==, 1);
          g_assert_cmpuint (match->apps[0], ==, i);
        }
    }
}

/* --- pd_arg_is_url ------------------------------------------------------- */

typedef struct {
  const char *arg;
  gboolean is_url;
} UrlCase;

static const UrlCase url_cases[] = {
  { "steam://purchase/123", TRUE },
  { "https://x", TRUE },
  { "mailto:a@b", TRUE },
  { "git+ssh://host/repo", TRUE },
  { "x-scheme.v2:thing", TRUE },
  { "ab:c", TRUE },
  { "--flag", FALSE },
  { "/path/to/file", FALSE },
  { "a:", FALSE },
  { "https:", FALSE },
  { "C:\\Windows", FALSE },
  { "1http://x", FALSE },
  { ":foo", FALSE },
  { "-https://x", FALSE },
  { "ht tp://x", FALSE },
  { "steam", FALSE },
  { "", FALSE },
};

static void
test_arg_is_url (gconstpointer data)
{
  const UrlCase *c = data;

  g_assert_cmpint (pd_arg_is_url (c->arg), ==, c->is_url);
}

static void
test_arg_is_url_null (void)
{
  g_assert_false (pd_arg_is_url (NULL));
}

/* --- pd_url_redact ------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *url;
  gsize buflen;
  const char *expected;
  gsize needed;
} RedactCase;

static const RedactCase redact_cases[] = {
  { "query", "https://checkout.stripe.com/pay/cs_123?x=1", 256,
    "https://checkout.stripe.com/pay/cs_123", 38 },
  { "fragment", "https://example.com/a#frag", 256, "https://example.com/a", 21 },
  { "query-and-fragment", "https://example.com/a?b=1#c", 256, "https://example.com/a", 21 },
  { "userinfo", "https://user:pass@example.com/a?b#c", 256, "https://example.com/a", 21 },
  { "token-user", "https://token@host", 256, "https://host", 12 },
  { "several-at", "https://a@b@host/x", 256, "https://host/x", 14 },
  { "at-in-path", "https://host/path@x?y", 256, "https://host/path@x", 19 },
  { "at-in-query", "https://u@host?q@r", 256, "https://host", 12 },
  { "port", "https://host:8443/p", 256, "https://host:8443/p", 19 },
  { "steam", "steam://purchase/440", 256, "steam://purchase/440", 20 },
  { "opaque", "mailto:a@b.example?subject=x", 256, "mailto:a@b.example", 18 },
  { "truncated", "https://checkout.stripe.com/pay?x", 10, "https://c", 31 },
  { "truncated-userinfo", "https://user@host/path", 11, "https://ho", 17 },
  { "exact-fit", "https://h/p?q", 12, "https://h/p", 11 },
  { "one-byte", "https://h/p", 1, "", 11 },
};

static void
test_url_redact (gconstpointer data)
{
  const RedactCase *c = data;
  char buf[256];
  gsize needed;

  memset (buf, 'Z', sizeof buf);
  needed = pd_url_redact (c->url, buf, c->buflen);
  g_assert_cmpstr (buf, ==, c->expected);
  g_assert_cmpuint (needed, ==, c->needed);
  if (c->buflen < sizeof buf)
    g_assert_cmpint (buf[c->buflen], ==, 'Z');
}

static void
test_url_redact_measure (void)
{
  g_assert_cmpuint (pd_url_redact ("https://u@h/p?q", NULL, 0), ==, 11);
}

/* --- pd_app_id_from_cgroup ----------------------------------------------- */

typedef struct {
  const char *name;
  const char *cgroup;
  const char *expected;  /* NULL: no app ID */
} CgroupCase;

#define USER_APP_SLICE "0::/user.slice/user-1000.slice/user@1000.service/app.slice/"

static const CgroupCase cgroup_cases[] = {
  { "gnome", USER_APP_SLICE "app-gnome-org.gnome.Evince-12345.scope", "org.gnome.Evince" },
  { "gnome-no-dots", USER_APP_SLICE "app-gnome-firefox-4242.scope", "firefox" },
  { "flatpak", USER_APP_SLICE "app-flatpak-org.foo.Bar-5678.scope", "org.foo.Bar" },
  { "kde-scope", USER_APP_SLICE "app-org.kde.konsole-123.scope", "org.kde.konsole" },
  { "kde-launcher", USER_APP_SLICE "app-KDE-org.kde.okular-12345.service", "org.kde.okular" },
  { "service-random", USER_APP_SLICE "app-org.kde.dolphin@a1b2c3.service", "org.kde.dolphin" },
  { "service-plain", USER_APP_SLICE "app-org.foo.Bar.service", "org.foo.Bar" },
  { "service-launcher-random", USER_APP_SLICE "app-gnome-org.foo.Bar@x9.service", "org.foo.Bar" },
  { "no-launcher-no-dots", USER_APP_SLICE "app-supertux2-99.scope", "supertux2" },
  { "escaped", USER_APP_SLICE "app-gnome-org.gnome.Terminal\\x2dfoo-12.scope",
    "org.gnome.Terminal-foo" },
  { "escaped-no-dots", USER_APP_SLICE "app-gnome-google\\x2dchrome-1234.scope", "google-chrome" },
  { "escaped-nul", USER_APP_SLICE "app-gnome-bad\\x00id-1.scope", NULL },
  { "snap", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/snap.foo.foo-1234.scope",
    "foo" },
  { "snap-service", "0::/system.slice/snap.lxd.daemon.service", "lxd" },
  { "bare-unit", "app-gnome-org.foo.Bar-1.scope", "org.foo.Bar" },
  { "bare-path", "/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.foo.Bar-7.scope",
    "org.foo.Bar" },
  { "whole-file", "12:pids:/user.slice/user-1000.slice\n"
    "1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n"
    USER_APP_SLICE "app-gnome-org.foo.Bar-1.scope\n", "org.foo.Bar" },
  { "v1-last-line", "2:cpu:/\n1:name=systemd:/user.slice/user-1000.slice/user@1000.service/"
    "app.slice/app-org.foo.Baz-7.scope\n", "org.foo.Baz" },
  { "delegated-below", USER_APP_SLICE "app-gnome-org.foo.Bar-1.scope/worker", "org.foo.Bar" },
  { "session", "0::/user.slice/user-1000.slice/session-2.scope", NULL },
  { "app-slice", "0::/user.slice/user-1000.slice/user@1000.service/app.slice", NULL },
  { "system-service", "0::/system.slice/snapd.service", NULL },
  { "user-manager", "0::/user.slice/user-1000.slice/user@1000.service/init.scope", NULL },
  { "root", "0::/", NULL },
  { "empty", "", NULL },
  { "dash-only", USER_APP_SLICE "app--1.scope", NULL },
};

static void
test_app_id_from_cgroup (gconstpointer data)
{
  const CgroupCase *c = data;
  char buf[128] = "untouched";
  gboolean found = pd_app_id_from_cgroup (c->cgroup, buf, sizeof buf);

  if (c->expected == NULL)
    g_assert_false (found);
  else
    {
      g_assert_true (found);
      g_assert_cmpstr (buf, ==, c->expected);
    }
}

static void
test_app_id_small_buffer (void)
{
  char buf[8];

  g_assert_false (pd_app_id_from_cgroup (USER_APP_SLICE "app-gnome-org.gnome.Evince-1.scope",
                                         buf, sizeof buf));
  g_assert_true (pd_app_id_from_cgroup (USER_APP_SLICE "app-gnome-org.x-1.scope", buf, sizeof buf));
  g_assert_cmpstr (buf, ==, "org.x");
  g_assert_false (pd_app_id_from_cgroup (NULL, buf, sizeof buf));
}

int
main (int argc, char **argv)
{
  guint i;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  c_locale = newlocale (LC_ALL_MASK, "C", (locale_t) 0);

  g_test_add_func ("/matcher/exe/exact", test_exe_exact);
  g_test_add_func ("/matcher/exe/glob", test_exe_glob);
  g_test_add_func ("/matcher/exe/glob-no-match", test_exe_glob_no_match);
  g_test_add_func ("/matcher/exe/suffix", test_exe_suffix);
  g_test_add_func ("/matcher/comm/exact", test_comm_exact);
  g_test_add_func ("/matcher/comm/glob", test_comm_glob);
  g_test_add_func ("/matcher/cmdline/glob", test_cmdline_glob);
  g_test_add_func ("/matcher/cmdline/exact", test_cmdline_exact);
  g_test_add_func ("/matcher/url/among-args", test_url_among_args);
  g_test_add_func ("/matcher/url/with-query", test_url_with_query);
  g_test_add_func ("/matcher/url/deep-path", test_url_deep_path);
  g_test_add_func ("/matcher/url/not-an-argument", test_url_not_an_argument);
  g_test_add_func ("/matcher/url/first-reported", test_url_first_reported);
  g_test_add_func ("/matcher/url/opaque", test_url_opaque);
  g_test_add_func ("/matcher/url/unterminated-args", test_url_unterminated_args);
  g_test_add_func ("/matcher/desktop/app-id", test_desktop_app_id);
  g_test_add_func ("/matcher/desktop/flatpak-id", test_desktop_flatpak_id);
  g_test_add_func ("/matcher/flatpak", test_flatpak);
  g_test_add_func ("/matcher/multiple-apps", test_multiple_apps);
  g_test_add_func ("/matcher/deduplicated", test_deduplicated);
  g_test_add_func ("/matcher/no-match", test_no_match);
  g_test_add_func ("/matcher/null-facts", test_null_facts);
  g_test_add_func ("/matcher/empty-config", test_empty_config);
  g_test_add_func ("/matcher/match-reused", test_match_reused);
  g_test_add_func ("/matcher/escapes-and-brackets", test_escapes_and_brackets);
  g_test_add_func ("/matcher/long-affixes", test_long_affixes);
  g_test_add_func ("/matcher/bytes-not-characters", test_bytes_not_characters);
  g_test_add_func ("/matcher/long-cmdline", test_long_cmdline);
  g_test_add_func ("/matcher/random-against-naive", test_random_against_naive);
  g_test_add_func ("/matcher/many-rules", test_many_rules);
  g_test_add_func ("/matcher/exhaustive-small-alphabet", test_exhaustive_small_alphabet);

  for (i = 0; i < G_N_ELEMENTS (url_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/matcher/arg-is-url/%u", i);

      g_test_add_data_func (path, &url_cases[i], test_arg_is_url);
    }
  g_test_add_func ("/matcher/arg-is-url/null", test_arg_is_url_null);
  for (i = 0; i < G_N_ELEMENTS (redact_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/matcher/url-redact/%s", redact_cases[i].name);

      g_test_add_data_func (path, &redact_cases[i], test_url_redact);
    }
  g_test_add_func ("/matcher/url-redact/measure", test_url_redact_measure);
  for (i = 0; i < G_N_ELEMENTS (cgroup_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/matcher/app-id/%s", cgroup_cases[i].name);

      g_test_add_data_func (path, &cgroup_cases[i], test_app_id_from_cgroup);
    }
  g_test_add_func ("/matcher/app-id/small-buffer", test_app_id_small_buffer);

  return g_test_run ();
}
