/* The matcher benchmark: 200 rules holding 1,000 patterns, classified by the
 * index and by a naive fnmatch loop in the same run, and the allocations the
 * index makes while it classifies (there must be none). See README.md. */
#include "config.h"

#include <fnmatch.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "policy/matcher.h"

/* --- counting allocations -------------------------------------------------- */

/* The binary's own malloc, calloc and realloc come first in symbol lookup,
 * for GLib and for glibc's internal callers alike, and forward to glibc's
 * allocator. Sanitizers bring their own allocator, so there it is off. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PD_BENCH_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define PD_BENCH_SANITIZED 1
#endif
#endif

static gsize n_allocations;

#ifndef PD_BENCH_SANITIZED
extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);

void *
malloc (size_t size)
{
  n_allocations++;
  return __libc_malloc (size);
}

void *
calloc (size_t n, size_t size)
{
  n_allocations++;
  return __libc_calloc (n, size);
}

void *
realloc (void *ptr, size_t size)
{
  n_allocations++;
  return __libc_realloc (ptr, size);
}
#endif

/* The counter counts only if a known allocation shows up in it. */
static gboolean
allocation_counter_works (void)
{
  gsize before = n_allocations;

  g_free (g_strdup ("x"));
  free (strdup ("y"));
  return n_allocations >= before + 2;
}

/* --- a realistic configuration --------------------------------------------- */

static const char *const app_names[] = {
  "supertux2", "supertuxkart", "minetest", "0ad", "wesnoth", "openttd", "xonotic",
  "hedgewars", "frozen-bubble", "neverball", "armagetronad", "etr", "pingus",
  "warzone2100", "teeworlds", "lutris", "heroic", "itch", "prismlauncher",
  "minecraft-launcher", "multimc", "atlauncher", "steam", "chromium", "google-chrome",
  "brave-browser", "epiphany", "vivaldi", "opera", "discord", "telegram-desktop",
  "signal-desktop", "element-desktop", "slack", "zoom", "vlc", "mpv", "celluloid",
  "kodi", "spotify",
};

static const char *const shop_hosts[] = {
  "store.steampowered.com", "checkout.steampowered.com", "www.paypal.com",
  "checkout.stripe.com", "pay.google.com", "www.humblebundle.com", "www.gog.com",
  "store.epicgames.com", "itch.io", "www.microsoft.com", "store.ubisoft.com",
  "www.ea.com", "secure.xsolla.com", "checkout.shopify.com", "pay.amazon.com",
  "www.roblox.com", "store.playstation.com", "www.nintendo.com", "payments.discord.com",
  "buy.itunes.apple.com",
};

static void add (PdRule *rule, PdMatchKind kind, const char *format, ...) G_GNUC_PRINTF (3, 4);

static void
add (PdRule *rule, PdMatchKind kind, const char *format, ...)
{
  g_autofree char *glob = NULL;
  va_list args;

  va_start (args, format);
  glob = g_strdup_vprintf (format, args);
  va_end (args);
  pd_rule_add_pattern (rule, kind, glob, "bench.conf", rule->patterns->len + 1);
}

/* Five patterns per app, in the shapes rule sets use. */
static void
add_app (PdConfig *config, guint i)
{
  const char *base = app_names[i % G_N_ELEMENTS (app_names)];
  g_autofree char *name = i < G_N_ELEMENTS (app_names)
      ? g_strdup (base) : g_strdup_printf ("%s%u", base, i / (guint) G_N_ELEMENTS (app_names));
  g_autofree char *comm = g_strndup (name, 15);
  PdRule *rule = pd_rule_new (name);

  switch (i % 4)
    {
    case 0:
      add (rule, PD_MATCH_COMM, "%s", comm);
      add (rule, PD_MATCH_EXE, "/usr/bin/%s", name);
      add (rule, PD_MATCH_EXE, "/usr/lib/%s/*", name);
      add (rule, PD_MATCH_DESKTOP, "org.%s.App", name);
      add (rule, PD_MATCH_FLATPAK, "org.%s.App", name);
      break;
    case 1:
      add (rule, PD_MATCH_COMM, "%.14s*", name);
      add (rule, PD_MATCH_EXE, "/usr/games/%s*", name);
      add (rule, PD_MATCH_EXE, "/opt/%s/*", name);
      add (rule, PD_MATCH_DESKTOP, "com.%s.*", name);
      if (i % 8 == 1)
        add (rule, PD_MATCH_CMDLINE, "*org.%s.EntryPoint*", name);
      else
        add (rule, PD_MATCH_CMDLINE, "*/%s-?.?*.jar*", name);
      break;
    case 2:
      add (rule, PD_MATCH_COMM, "%s", comm);
      add (rule, PD_MATCH_EXE, "*/%s", name);
      add (rule, PD_MATCH_EXE, "/home/*/.local/share/%s/*", name);
      add (rule, PD_MATCH_DESKTOP, "%s", name);
      add (rule, PD_MATCH_FLATPAK, "io.github.%s", name);
      break;
    default:
      add (rule, PD_MATCH_COMM, "%s", comm);
      add (rule, PD_MATCH_EXE, "/snap/%s/*", name);
      add (rule, PD_MATCH_CMDLINE, "*java*%s*.jar*", name);
      add (rule, PD_MATCH_DESKTOP, "*.%s", name);
      add (rule, PD_MATCH_URL, "%s://*", name);
      break;
    }
  g_ptr_array_add (config->apps, rule);
}

/* Five url: patterns per purchase rule, shaped like the shipped ones: most
 * start "http*://", so they share one short prefix. */
static void
add_purchase (PdConfig *config, guint i)
{
  const char *host = shop_hosts[i % G_N_ELEMENTS (shop_hosts)];
  g_autofree char *name = g_strdup_printf ("shop%u-%s", i, host);
  PdRule *rule = pd_rule_new (name);

  if (i == 0)
    {
      add (rule, PD_MATCH_URL, "steam://purchase/*");
      add (rule, PD_MATCH_URL, "steam://purchase/subscription/*");
    }
  else
    {
      add (rule, PD_MATCH_URL, "http*://%s/cart%u*", host, i);
      add (rule, PD_MATCH_URL, "steam://openurl*/http*://%s/checkout%u*", host, i);
    }
  add (rule, PD_MATCH_URL, "http*://%s/checkout%s*", host, i < 20 ? "" : "/v2");
  add (rule, PD_MATCH_URL, "https://%s/purchase/%u/*", host, i);
  add (rule, PD_MATCH_URL, "http*://*.%s/*/pay/%u*", host, i);
  g_ptr_array_add (config->purchases, rule);
}

/* Four apps to one purchase rule, five patterns each. */
static PdConfig *
bench_config (guint n_rules)
{
  PdConfig *config = pd_config_new ();
  guint i;

  for (i = 0; i < n_rules - n_rules / 5; i++)
    add_app (config, i);
  for (i = 0; i < n_rules / 5; i++)
    add_purchase (config, i);
  return config;
}

/* --- realistic processes --------------------------------------------------- */

typedef struct {
  const char *exe, *comm, *app_id, *flatpak_id;
  const char *argv[12];
} ProcSpec;

static const ProcSpec proc_specs[] = {
  { "/usr/lib/systemd/systemd", "systemd", NULL, NULL, { "/usr/lib/systemd/systemd", "--user" } },
  { "/usr/bin/bash", "bash", "org.gnome.Terminal", NULL, { "bash" } },
  { "/usr/bin/gnome-shell", "gnome-shell", NULL, NULL, { "/usr/bin/gnome-shell" } },
  { "/usr/libexec/gnome-terminal-server", "gnome-terminal-", "org.gnome.Terminal", NULL,
    { "/usr/libexec/gnome-terminal-server" } },
  { "/usr/bin/ls", "ls", "org.gnome.Terminal", NULL, { "ls", "--color=auto", "-la" } },
  { "/usr/bin/git", "git", "org.gnome.Terminal", NULL, { "git", "status", "--short" } },
  { "/usr/bin/make", "make", "org.gnome.Terminal", NULL, { "make", "-j8", "check" } },
  { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "cc1", NULL, NULL,
    { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-quiet", "-I", "/home/alice/src/proj/include",
      "-D_GNU_SOURCE", "src/main.c", "-O2", "-Wall", "-o", "/tmp/ccX1.s" } },
  { "/usr/bin/pipewire", "pipewire", NULL, NULL, { "/usr/bin/pipewire" } },
  { "/usr/bin/wireplumber", "wireplumber", NULL, NULL, { "/usr/bin/wireplumber" } },
  { "/usr/bin/dbus-daemon", "dbus-daemon", NULL, NULL,
    { "/usr/bin/dbus-daemon", "--session", "--address=systemd:", "--nofork", "--nopidfile",
      "--systemd-activation", "--syslog-only" } },
  { "/usr/bin/Xwayland", "Xwayland", NULL, NULL,
    { "/usr/bin/Xwayland", ":0", "-rootless", "-noreset", "-accessx", "-core", "-listenfd", "4" } },
  { "/usr/libexec/tracker-miner-fs-3", "tracker-miner-f", NULL, NULL,
    { "/usr/libexec/tracker-miner-fs-3" } },
  { "/usr/bin/python3.11", "update-manager", "update-manager", NULL,
    { "/usr/bin/python3", "/usr/bin/update-manager", "--no-update" } },
  { "/usr/bin/nautilus", "nautilus", "org.gnome.Nautilus", NULL,
    { "/usr/bin/nautilus", "--gapplication-service" } },
  { "/usr/bin/evince", "evince", "org.gnome.Evince", NULL,
    { "evince", "/home/alice/Documents/homework.pdf" } },
  { "/usr/bin/gedit", "gedit", "org.gnome.gedit", NULL,
    { "gedit", "file:///home/alice/notes.txt" } },
  { "/usr/bin/xdg-open", "xdg-open", NULL, NULL,
    { "xdg-open", "https://en.wikipedia.org/wiki/Linux?action=view" } },
  { "/usr/bin/bwrap", "bwrap", NULL, "org.gnome.Calculator",
    { "bwrap", "--args", "41", "gnome-calculator" } },
  /* Long command lines, as Electron and Chromium pass them. */
  { "/usr/share/code/code", "code", "code", NULL,
    { "/usr/share/code/code", "--type=renderer", "@SWITCHES@" } },
  { "/usr/lib/chromium/chromium", "chromium", "chromium", NULL,
    { "/usr/lib/chromium/chromium", "--type=renderer", "@SWITCHES@" } },
  /* These match. */
  { "/usr/lib/steam/steam", "steam", "steam", NULL,
    { "/usr/lib/steam/steam", "-silent", "steam://purchase/440" } },
  { "/usr/games/supertux2", "supertux2", "org.supertuxproject.SuperTux", NULL, { "supertux2" } },
  /* fnmatch runs on this one's 3 KiB command line ("*" "/atlauncher-?.?*.jar*"). */
  { "/usr/lib/jvm/java-17/bin/java", "java", NULL, NULL,
    { "java", "-Xmx2G", "-cp", "@CLASSPATH@", "-jar",
      "/home/alice/.atlauncher/atlauncher-3.4.jar", "--workDir", "/home/alice/.atlauncher" } },
  { "/app/bin/firefox", "firefox", NULL, "org.mozilla.firefox",
    { "firefox", "--new-window", "https://checkout.stripe.com/checkout/cs_123?x=1" } },
  { "/usr/bin/xdg-open", "xdg-open", NULL, NULL,
    { "xdg-open", "https://www.paypal.com/checkout/v2?token=EC-123" } },
  { "/home/alice/.local/share/itch/app-26/itch", "itch", NULL, NULL, { "itch" } },
};

typedef struct {
  PdProcessFacts facts;
  GString *args;    /* (owned) */
  char *cmdline;    /* (owned) */
} Proc;

/* "@SWITCHES@" stands for Chromium-style switches and "@CLASSPATH@" for a
 * Java class path, about 3 KiB each: long enough that glibc's fnmatch would
 * allocate in a UTF-8 locale. */
static GPtrArray *
expand_argv (const char *const *argv)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (; *argv != NULL; argv++)
    if (g_str_equal (*argv, "@SWITCHES@"))
      for (i = 0; i < 40; i++)
        g_ptr_array_add (out, g_strdup_printf (
            "--enable-features=Feature%u,WebRTCPipeWireCapturer,Vulkan%u", i, i));
    else if (g_str_equal (*argv, "@CLASSPATH@"))
      {
        GString *classpath = g_string_new (NULL);

        for (i = 0; classpath->len < 3000; i++)
          g_string_append_printf (classpath, "%s/home/alice/.minecraft/libraries/org/lib%u/%u.0/lib%u.jar",
                                  i > 0 ? ":" : "", i, i, i);
        g_ptr_array_add (out, g_string_free (classpath, FALSE));
      }
    else
      g_ptr_array_add (out, g_strdup (*argv));
  g_ptr_array_add (out, NULL);
  return out;
}

static void
proc_init (Proc *proc, const ProcSpec *spec)
{
  g_autoptr(GString) joined = g_string_new (NULL);
  g_autoptr(GPtrArray) argv = expand_argv (spec->argv);
  guint i;

  memset (proc, 0, sizeof *proc);
  proc->args = g_string_new (NULL);
  for (i = 0; g_ptr_array_index (argv, i) != NULL; i++)
    {
      const char *arg = g_ptr_array_index (argv, i);

      g_string_append_len (proc->args, arg, (gssize) strlen (arg) + 1);
      if (joined->len > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, arg);
    }
  proc->cmdline = g_strdup (joined->str);
  proc->facts.exe = spec->exe;
  proc->facts.comm = spec->comm;
  proc->facts.app_id = spec->app_id;
  proc->facts.flatpak_id = spec->flatpak_id;
  proc->facts.args = proc->args->str;
  proc->facts.args_len = proc->args->len;
  proc->facts.cmdline = proc->cmdline;
}

static void
proc_clear (Proc *proc)
{
  g_string_free (proc->args, TRUE);
  g_free (proc->cmdline);
}

/* --- the naive baseline ------------------------------------------------------ */

/* What the matcher replaces: fnmatch over every pattern of every rule, with
 * the same semantics (C locale, url: on each URL argument). */
typedef struct {
  guint n_apps, n_purchases;
  guint *apps, *purchases;    /* (owned) */
  const char *url;
} NaiveMatch;

static gboolean
naive_glob (const char *glob, const char *subject)
{
  return subject != NULL && fnmatch (glob, subject, 0) == 0;
}

static gboolean
naive_pattern (const PdPattern *pattern, const PdProcessFacts *facts)
{
  const char *arg;

  switch (pattern->kind)
    {
    case PD_MATCH_EXE:
      return naive_glob (pattern->glob, facts->exe);
    case PD_MATCH_COMM:
      return naive_glob (pattern->glob, facts->comm);
    case PD_MATCH_CMDLINE:
      return naive_glob (pattern->glob, facts->cmdline);
    case PD_MATCH_DESKTOP:
      return naive_glob (pattern->glob, facts->app_id) ||
             naive_glob (pattern->glob, facts->flatpak_id);
    case PD_MATCH_FLATPAK:
      return naive_glob (pattern->glob, facts->flatpak_id);
    case PD_MATCH_URL:
      for (arg = facts->args; arg < facts->args + facts->args_len; arg += strlen (arg) + 1)
        if (pd_arg_is_url (arg) && naive_glob (pattern->glob, arg))
          return TRUE;
      return FALSE;
    case PD_N_MATCH_KINDS:
    default:
      g_assert_not_reached ();
    }
  return FALSE;
}

static gboolean
naive_rule (const PdRule *rule, const PdProcessFacts *facts)
{
  guint p;

  for (p = 0; p < rule->patterns->len; p++)
    if (naive_pattern (g_ptr_array_index (rule->patterns, p), facts))
      return TRUE;
  return FALSE;
}

static const char *
naive_first_url (const PdConfig *config, const PdProcessFacts *facts)
{
  const char *arg;
  guint list, r, p;

  for (arg = facts->args; arg < facts->args + facts->args_len; arg += strlen (arg) + 1)
    for (list = 0; pd_arg_is_url (arg) && list < 2; list++)
      {
        GPtrArray *rules = list == 0 ? config->apps : config->purchases;

        for (r = 0; r < rules->len; r++)
          {
            const PdRule *rule = g_ptr_array_index (rules, r);

            for (p = 0; p < rule->patterns->len; p++)
              {
                const PdPattern *pattern = g_ptr_array_index (rule->patterns, p);

                if (pattern->kind == PD_MATCH_URL && naive_glob (pattern->glob, arg))
                  return arg;
              }
          }
      }
  return NULL;
}

static void
naive_classify (const PdConfig *config, locale_t c_locale, const PdProcessFacts *facts,
                NaiveMatch *out)
{
  locale_t saved = uselocale (c_locale);
  guint r;

  out->n_apps = out->n_purchases = 0;
  for (r = 0; r < config->apps->len; r++)
    if (naive_rule (g_ptr_array_index (config->apps, r), facts))
      out->apps[out->n_apps++] = r;
  for (r = 0; r < config->purchases->len; r++)
    if (naive_rule (g_ptr_array_index (config->purchases, r), facts))
      out->purchases[out->n_purchases++] = r;
  out->url = out->n_purchases + out->n_apps > 0 ? naive_first_url (config, facts) : NULL;
  uselocale (saved);
}

static gboolean
same_result (const PdMatch *a, const NaiveMatch *b)
{
  return a->n_apps == b->n_apps && a->n_purchases == b->n_purchases && a->url == b->url &&
         memcmp (a->apps, b->apps, a->n_apps * sizeof (guint)) == 0 &&
         memcmp (a->purchases, b->purchases, a->n_purchases * sizeof (guint)) == 0;
}

/* --- timing ------------------------------------------------------------------ */

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

int
main (int argc, char **argv)
{
  gint rounds = 2000;
  gint n_rules = 200;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Times to classify every process (2000)", "N" },
    { "rules", 0, 0, G_OPTION_ARG_INT, &n_rules, "Rules, five patterns each (200)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- benchmark the matcher");
  g_autoptr(GError) error = NULL;
  g_autoptr(PdConfig) config = NULL;
  g_autoptr(PdMatcher) matcher = NULL;
  g_autoptr(PdMatch) match = NULL;
  Proc procs[G_N_ELEMENTS (proc_specs)];
  const guint n_procs = G_N_ELEMENTS (proc_specs);
  NaiveMatch naive;
  locale_t c_locale;
  gboolean counting;
  guint n_matching = 0, sink = 0;
  gsize allocations;
  gint64 start, indexed_ns, naive_ns;
  double per_indexed, per_naive;
  guint64 n_calls;
  gint r;
  guint i;

  /* The daemon's locale, as systemd gives it; the matcher must not care. */
  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || rounds < 1 || n_rules < 5)
    {
      g_printerr ("bench-matcher: %s\n", error != NULL ? error->message
                  : "--rounds must be at least 1 and --rules at least 5");
      return 2;
    }

  c_locale = newlocale (LC_ALL_MASK, "C", (locale_t) 0);
  config = bench_config ((guint) n_rules);
  naive.apps = g_new (guint, config->apps->len);
  naive.purchases = g_new (guint, config->purchases->len);
  matcher = pd_matcher_new (config);
  match = pd_match_new (matcher);
  for (i = 0; i < n_procs; i++)
    proc_init (&procs[i], &proc_specs[i]);

  /* The index must agree with the baseline before its speed means anything. */
  for (i = 0; i < n_procs; i++)
    {
      pd_matcher_classify (matcher, &procs[i].facts, match);
      naive_classify (config, c_locale, &procs[i].facts, &naive);
      if (!same_result (match, &naive))
        {
          g_printerr ("bench-matcher: index and baseline disagree on %s\n", procs[i].cmdline);
          return 1;
        }
      n_matching += match->n_apps + match->n_purchases > 0;
    }

  /* Rounds alternate between the two, so that both see the same machine
   * load; allocations are counted during the index's turns only. */
  counting = allocation_counter_works ();
  allocations = 0;
  indexed_ns = naive_ns = 0;
  for (r = 0; r < rounds; r++)
    {
      gsize before = n_allocations;

      start = now_ns ();
      for (i = 0; i < n_procs; i++)
        {
          pd_matcher_classify (matcher, &procs[i].facts, match);
          sink += match->n_apps + match->n_purchases;
        }
      indexed_ns += now_ns () - start;
      allocations += n_allocations - before;

      start = now_ns ();
      for (i = 0; i < n_procs; i++)
        {
          naive_classify (config, c_locale, &procs[i].facts, &naive);
          sink += naive.n_apps + naive.n_purchases;
        }
      naive_ns += now_ns () - start;
    }

  n_calls = (guint64) rounds * n_procs;
  per_indexed = (double) indexed_ns / (double) n_calls;
  per_naive = (double) naive_ns / (double) n_calls;

  if (json)
    {
      g_print ("{\"rules\":%u,\"apps\":%u,\"purchases\":%u,\"patterns\":%u,\"processes\":%u,"
               "\"matching_processes\":%u,\"classifications\":%" G_GUINT64_FORMAT ","
               "\"indexed_ns\":%.1f,\"naive_ns\":%.1f,\"speedup\":%.1f,\"allocations\":",
               config->apps->len + config->purchases->len, config->apps->len,
               config->purchases->len, pd_config_count_patterns (config), n_procs, n_matching,
               n_calls, per_indexed, per_naive, per_naive / per_indexed);
      if (counting)
        g_print ("%" G_GSIZE_FORMAT "}\n", allocations);
      else
        g_print ("null}\n");
    }
  else
    {
      g_print ("rules:       %u (%u apps, %u purchase rules), %u patterns\n",
               config->apps->len + config->purchases->len, config->apps->len,
               config->purchases->len, pd_config_count_patterns (config));
      g_print ("processes:   %u, %u of them match a rule; %d rounds, %" G_GUINT64_FORMAT
               " classifications each\n", n_procs, n_matching, rounds, n_calls);
      g_print ("indexed:     %10.1f ns per classification\n", per_indexed);
      g_print ("naive:       %10.1f ns per classification (fnmatch over every pattern)\n",
               per_naive);
      g_print ("speed-up:    %10.1fx\n", per_naive / per_indexed);
      if (counting)
        g_print ("allocations during %" G_GUINT64_FORMAT " classifications: %" G_GSIZE_FORMAT
                 " (LC_CTYPE=%s)\n", n_calls, allocations, setlocale (LC_CTYPE, NULL));
      else
        g_print ("allocations: not counted (sanitizer build)\n");
    }

  for (i = 0; i < n_procs; i++)
    proc_clear (&procs[i]);
  g_free (naive.apps);
  g_free (naive.purchases);
  freelocale (c_locale);
  /* Keeps the loops from being optimised away. */
  return sink == 0 ? 1 : (counting && allocations != 0 ? 1 : 0);
}
