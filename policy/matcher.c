/* The matcher: compiles the match patterns of a configuration into one index
 * per kind, and classifies processes against it without allocating. The
 * parsers of its inputs (URLs, systemd app scopes) are in facts.c. */
#include "config.h"

#include <fnmatch.h>
#include <locale.h>
#include <string.h>

#include "policy/matcher.h"

/* How the index works
 *
 * Patterns have fnmatch(3) semantics with flags 0: '*' matches '/' as well,
 * so "/usr/games/" followed by '*' covers subdirectories too, and
 * "steam://purchase/" followed by '*' every deeper path. Matching is on
 * bytes, in the C locale whatever the daemon's locale is: '?' is one byte,
 * and glibc's fnmatch then neither converts to wide characters nor
 * allocates, however long the subject.
 *
 * Each kind has its own index. A pattern without wildcards goes into a hash
 * table of exact strings. Any other pattern is keyed by the literal bytes
 * every match must start with (its prefix) or, when that is shorter, end with
 * (its suffix), in a hash table keyed by (bytes, length). A subject is hashed
 * once, byte by byte, and the table is probed only at the lengths some key
 * has, so the cost grows with the number of distinct key lengths, not with
 * the number of patterns. Patterns with neither (such as "*steam*") are
 * scanned: they, and patterns sharing a short key ("http*://..."), are the
 * part that grows linearly.
 *
 * A candidate must also contain the literal runs between its wildcards, in
 * order ("*java*Mindustry*.jar*": "java", then "Mindustry", then ".jar").
 * For a pattern of literals and '*' alone, that and the prefix and suffix
 * are the whole match, so fnmatch is not called; otherwise it is a
 * pre-filter. Nothing is tried for a rule that has already matched. */

/* Affix keys are at most this long, so that their lengths fit one guint64;
 * longer affixes are compared in full per pattern. */
#define PD_AFFIX_MAX 64

#define PD_FNV_OFFSET G_GUINT64_CONSTANT (14695981039346656037)
#define PD_FNV_PRIME G_GUINT64_CONSTANT (1099511628211)

typedef enum {
  PD_TABLE_EXACT,
  PD_TABLE_PREFIX,
  PD_TABLE_SUFFIX,
  PD_N_TABLES,
  PD_TABLE_FLOATING = PD_N_TABLES,
} PdTableKind;

typedef struct {
  const char *glob;    /* (unowned) from the configuration */
  guint rule;          /* apps first, then purchase rules */
  gboolean literal;    /* no wildcard: the exact table has compared it */
  gboolean star_only;  /* literals and '*' only: the runs decide, not fnmatch */
  gsize prefix_len;    /* every match starts with glob[0, prefix_len) */
  const char *suffix;  /* (unowned) every match ends with it; points into glob */
  gsize suffix_len;
  const char *runs;    /* (unowned) every match contains these in order; */
  guint n_runs;        /* NUL-separated, in PdMatcher.runs */
} PdCompiled;

/* The patterns that share one key. */
typedef struct {
  guint64 hash;
  const char *key;     /* (unowned) key_len bytes, in subject order */
  gsize key_len;
  guint first;         /* into PdIndex.patterns */
  guint n;
} PdGroup;

typedef struct {
  PdGroup *groups;     /* (owned) */
  guint n_groups;
  guint *slots;        /* (owned) open addressing: group index + 1, 0 = empty */
  guint mask;
  guint64 lengths;     /* bit L-1 set when some affix key is L bytes long */
  gsize max_len;       /* longest affix key */
} PdTable;

typedef struct {
  PdCompiled *patterns;  /* (owned) exact, prefix and suffix groups, then floating */
  guint n_patterns;
  PdTable tables[PD_N_TABLES];
  guint floating_first;
} PdIndex;

struct _PdMatcher {
  guint n_apps;
  guint n_purchases;
  PdIndex kinds[PD_N_MATCH_KINDS];
  GStringChunk *runs;     /* (owned) PdCompiled.runs */
  locale_t c_locale;      /* (owned) (nullable) */
};

/* What pd_match_new() really allocates: the scratch space that lets classify
 * deduplicate without writing to the shared matcher. */
typedef struct {
  PdMatch pub;           /* first, so PdMatch * converts */
  guint n_apps;
  guint n_purchases;
  guint64 *seen;         /* (owned) one bit per rule; all clear between calls */
} PdMatchStorage;

typedef struct {
  PdMatchStorage *match;
  const char *url;       /* (nullable) the argument matched against url: */
  gsize url_len;
} PdScan;

typedef struct {
  PdCompiled compiled;
  PdTableKind table;
  const char *key;
  gsize key_len;
  guint64 hash;
} PdBuildItem;

static inline guint64
fnv_step (guint64 hash, char c)
{
  return (hash ^ (guchar) c) * PD_FNV_PRIME;
}

static inline guint
slot_of (guint64 hash, guint mask)
{
  return (guint) (hash ^ (hash >> 32)) & mask;
}

static guint64
hash_forward (const char *bytes, gsize len)
{
  guint64 hash = PD_FNV_OFFSET;
  gsize i;

  for (i = 0; i < len; i++)
    hash = fnv_step (hash, bytes[i]);
  return hash;
}

/* Suffixes are hashed from their last byte, the way a subject is scanned. */
static guint64
hash_backward (const char *bytes, gsize len)
{
  guint64 hash = PD_FNV_OFFSET;
  gsize i;

  for (i = len; i > 0; i--)
    hash = fnv_step (hash, bytes[i - 1]);
  return hash;
}

/* The literal runs of glob[from, to), which starts and ends with a
 * wildcard, in a pattern without brackets or escapes. */
static void
find_runs (PdMatcher *matcher, PdCompiled *c, gsize from, gsize to)
{
  g_autoptr(GString) runs = g_string_new (NULL);
  gsize i = from;

  while (i < to)
    {
      gsize run;

      i += strspn (c->glob + i, "*?");
      run = MIN (strcspn (c->glob + i, "*?"), to - i);
      if (run > 0)
        {
          g_string_append_len (runs, c->glob + i, (gssize) run);
          g_string_append_c (runs, '\0');
          c->n_runs++;
        }
      i += run;
    }
  if (c->n_runs > 0)
    c->runs = g_string_chunk_insert_len (matcher->runs, runs->str, (gssize) runs->len);
}

static void
compile_pattern (PdMatcher *matcher, const char *glob, guint rule, PdBuildItem *item)
{
  gsize len = strlen (glob);
  PdCompiled *c = &item->compiled;
  gboolean simple = strpbrk (glob, "[\\") == NULL;

  memset (item, 0, sizeof *item);
  c->glob = glob;
  c->rule = rule;
  c->suffix = glob + len;

  if (strpbrk (glob, "*?[\\") == NULL)
    {
      c->literal = TRUE;
      item->table = PD_TABLE_EXACT;
      item->key = glob;
      item->key_len = len;
      item->hash = hash_forward (glob, len);
      return;
    }

  /* The prefix ends at the first character that can start a wildcard or an
   * escape. The suffix starts after the last one, counting ']' too when
   * there are brackets, since it may close one. Brackets and escapes would
   * need a parser to find the runs; such patterns have none. */
  c->prefix_len = strcspn (glob, "*?[\\");
  while (c->suffix_len < len && strchr (simple ? "*?" : "*?[]\\", c->suffix[-1]) == NULL)
    {
      c->suffix--;
      c->suffix_len++;
    }
  if (simple)
    {
      c->star_only = strchr (glob, '?') == NULL;
      find_runs (matcher, c, c->prefix_len, len - c->suffix_len);
    }

  if (c->prefix_len > 0 && c->prefix_len >= c->suffix_len)
    {
      item->table = PD_TABLE_PREFIX;
      item->key = glob;
      item->key_len = MIN (c->prefix_len, PD_AFFIX_MAX);
      item->hash = hash_forward (item->key, item->key_len);
    }
  else if (c->suffix_len > 0)
    {
      item->table = PD_TABLE_SUFFIX;
      item->key_len = MIN (c->suffix_len, PD_AFFIX_MAX);
      item->key = glob + len - item->key_len;
      item->hash = hash_backward (item->key, item->key_len);
    }
  else
    {
      item->table = PD_TABLE_FLOATING;
    }
}

static gint
build_item_compare (gconstpointer a, gconstpointer b)
{
  const PdBuildItem *x = a;
  const PdBuildItem *y = b;
  int cmp;

  if (x->table != y->table)
    return x->table < y->table ? -1 : 1;
  if (x->key_len != y->key_len)
    return x->key_len < y->key_len ? -1 : 1;
  cmp = x->key_len > 0 ? memcmp (x->key, y->key, x->key_len) : 0;
  if (cmp != 0)
    return cmp;
  if (x->compiled.rule != y->compiled.rule)
    return x->compiled.rule < y->compiled.rule ? -1 : 1;
  return 0;
}

static void
table_insert_slot (PdTable *table, guint group)
{
  guint i = slot_of (table->groups[group].hash, table->mask);

  while (table->slots[i] != 0)
    i = (i + 1) & table->mask;
  table->slots[i] = group + 1;
}

/* items[first, first + n) all belong to this table, sorted by key. */
static void
table_build (PdTable *table, PdTableKind kind, const PdBuildItem *items, guint first, guint n)
{
  guint size = 8;
  guint i;

  if (n == 0)
    return;

  table->groups = g_new0 (PdGroup, n);
  for (i = first; i < first + n; i++)
    {
      PdGroup *last = table->n_groups > 0 ? &table->groups[table->n_groups - 1] : NULL;

      if (last != NULL && last->key_len == items[i].key_len &&
          memcmp (last->key, items[i].key, last->key_len) == 0)
        {
          last->n++;
          continue;
        }
      last = &table->groups[table->n_groups++];
      last->hash = items[i].hash;
      last->key = items[i].key;
      last->key_len = items[i].key_len;
      last->first = i;
      last->n = 1;
      if (kind != PD_TABLE_EXACT)
        {
          /* Affix keys are never empty: such patterns are floating. */
          g_assert (last->key_len >= 1 && last->key_len <= PD_AFFIX_MAX);
          table->lengths |= G_GUINT64_CONSTANT (1) << (last->key_len - 1);
          table->max_len = MAX (table->max_len, last->key_len);
        }
    }

  /* At most half full, so every probe ends at an empty slot. */
  while (size < 2 * table->n_groups)
    size *= 2;
  table->mask = size - 1;
  table->slots = g_new0 (guint, size);
  for (i = 0; i < table->n_groups; i++)
    table_insert_slot (table, i);
}

static void
index_build (PdIndex *index, GArray *items)
{
  guint counts[PD_N_TABLES + 1] = { 0 };
  guint first = 0;
  guint i;

  g_array_sort (items, build_item_compare);
  index->n_patterns = items->len;
  index->patterns = g_new0 (PdCompiled, MAX (items->len, 1));
  for (i = 0; i < items->len; i++)
    {
      const PdBuildItem *item = &g_array_index (items, PdBuildItem, i);

      index->patterns[i] = item->compiled;
      counts[item->table]++;
    }

  for (i = 0; i < PD_N_TABLES; i++)
    {
      table_build (&index->tables[i], i, (const PdBuildItem *) (gpointer) items->data,
                   first, counts[i]);
      first += counts[i];
    }
  index->floating_first = first;
}

static void
add_rules (PdMatcher *matcher, GArray **items, const GPtrArray *rules, guint first_rule)
{
  guint r, p;

  for (r = 0; rules != NULL && r < rules->len; r++)
    {
      const PdRule *rule = g_ptr_array_index (rules, r);

      for (p = 0; rule->patterns != NULL && p < rule->patterns->len; p++)
        {
          const PdPattern *pattern = g_ptr_array_index (rule->patterns, p);
          PdBuildItem item;

          if ((guint) pattern->kind >= PD_N_MATCH_KINDS || pattern->glob == NULL)
            {
              g_warning ("Ignoring malformed pattern in rule %s", rule->name);
              continue;
            }
          compile_pattern (matcher, pattern->glob, first_rule + r, &item);
          g_array_append_val (items[pattern->kind], item);
        }
    }
}

PdMatcher *
pd_matcher_new (const PdConfig *config)
{
  PdMatcher *matcher;
  GArray *items[PD_N_MATCH_KINDS];
  guint k;

  g_return_val_if_fail (config != NULL, NULL);

  matcher = g_new0 (PdMatcher, 1);
  matcher->n_apps = config->apps != NULL ? config->apps->len : 0;
  matcher->n_purchases = config->purchases != NULL ? config->purchases->len : 0;
  matcher->runs = g_string_chunk_new (256);
  /* Without it fnmatch follows the daemon's locale, which may allocate. */
  matcher->c_locale = newlocale (LC_ALL_MASK, "C", (locale_t) 0);

  for (k = 0; k < PD_N_MATCH_KINDS; k++)
    items[k] = g_array_new (FALSE, FALSE, sizeof (PdBuildItem));
  add_rules (matcher, items, config->apps, 0);
  add_rules (matcher, items, config->purchases, matcher->n_apps);
  for (k = 0; k < PD_N_MATCH_KINDS; k++)
    {
      index_build (&matcher->kinds[k], items[k]);
      g_array_unref (items[k]);
    }

  return matcher;
}

void
pd_matcher_free (PdMatcher *matcher)
{
  guint k, t;

  if (matcher == NULL)
    return;
  for (k = 0; k < PD_N_MATCH_KINDS; k++)
    {
      for (t = 0; t < PD_N_TABLES; t++)
        {
          g_free (matcher->kinds[k].tables[t].groups);
          g_free (matcher->kinds[k].tables[t].slots);
        }
      g_free (matcher->kinds[k].patterns);
    }
  g_string_chunk_free (matcher->runs);
  if (matcher->c_locale != (locale_t) 0)
    freelocale (matcher->c_locale);
  g_free (matcher);
}

PdMatch *
pd_match_new (const PdMatcher *matcher)
{
  PdMatchStorage *storage;

  g_return_val_if_fail (matcher != NULL, NULL);

  storage = g_new0 (PdMatchStorage, 1);
  storage->n_apps = matcher->n_apps;
  storage->n_purchases = matcher->n_purchases;
  storage->pub.apps = g_new0 (guint, MAX (matcher->n_apps, 1));
  storage->pub.purchases = g_new0 (guint, MAX (matcher->n_purchases, 1));
  storage->seen = g_new0 (guint64, (matcher->n_apps + matcher->n_purchases) / 64 + 1);
  return &storage->pub;
}

void
pd_match_free (PdMatch *match)
{
  PdMatchStorage *storage = (PdMatchStorage *) match;

  if (match == NULL)
    return;
  g_free (storage->pub.apps);
  g_free (storage->pub.purchases);
  g_free (storage->seen);
  g_free (storage);
}

static inline gboolean
rule_seen (const PdMatchStorage *match, guint rule)
{
  return (match->seen[rule / 64] >> (rule % 64)) & 1;
}

static void
record_hit (PdScan *scan, guint rule)
{
  PdMatchStorage *match = scan->match;

  match->seen[rule / 64] |= G_GUINT64_CONSTANT (1) << (rule % 64);
  if (rule < match->n_apps)
    match->pub.apps[match->pub.n_apps++] = rule;
  else
    match->pub.purchases[match->pub.n_purchases++] = rule - match->n_apps;
  if (scan->url != NULL && match->pub.url == NULL)
    {
      match->pub.url = scan->url;
      match->pub.url_len = scan->url_len;
    }
}

/* Whether the runs occur in order, without overlapping, between the prefix
 * and the suffix. The leftmost occurrence of each is the best choice, so this
 * is linear, and for a star-only pattern it is the whole match. */
static gboolean
runs_in_order (const PdCompiled *c, const char *s, gsize len)
{
  const char *from = s + c->prefix_len;
  const char *end = s + len - c->suffix_len;
  const char *run = c->runs;
  guint i;

  for (i = 0; i < c->n_runs; i++)
    {
      gsize run_len = strlen (run);
      const char *hit = strstr (from, run);

      if (hit == NULL || hit + run_len > end)
        return FALSE;
      from = hit + run_len;
      run += run_len + 1;
    }
  return TRUE;
}

static void
try_pattern (PdScan *scan, const PdCompiled *c, const char *s, gsize len)
{
  if (rule_seen (scan->match, c->rule))
    return;
  if (!c->literal)
    {
      if (len < c->prefix_len + c->suffix_len ||
          memcmp (s, c->glob, c->prefix_len) != 0 ||
          memcmp (s + len - c->suffix_len, c->suffix, c->suffix_len) != 0 ||
          !runs_in_order (c, s, len))
        return;
      if (!c->star_only && fnmatch (c->glob, s, 0) != 0)
        return;
    }
  record_hit (scan, c->rule);
}

static const PdGroup *
table_lookup (const PdTable *table, guint64 hash, const char *bytes, gsize len)
{
  guint i = slot_of (hash, table->mask);

  while (table->slots[i] != 0)
    {
      const PdGroup *group = &table->groups[table->slots[i] - 1];

      if (group->hash == hash && group->key_len == len &&
          memcmp (group->key, bytes, len) == 0)
        return group;
      i = (i + 1) & table->mask;
    }
  return NULL;
}

static void
try_group (PdScan *scan, const PdIndex *index, const PdGroup *group, const char *s, gsize len)
{
  guint i;

  if (group == NULL)
    return;
  for (i = group->first; i < group->first + group->n; i++)
    try_pattern (scan, &index->patterns[i], s, len);
}

/* s is NUL-terminated at s[len]. */
static void
match_subject (PdScan *scan, const PdIndex *index, const char *s, gsize len)
{
  const PdTable *exact = &index->tables[PD_TABLE_EXACT];
  const PdTable *prefix = &index->tables[PD_TABLE_PREFIX];
  const PdTable *suffix = &index->tables[PD_TABLE_SUFFIX];
  gsize walk = exact->n_groups > 0 ? len : MIN (len, prefix->max_len);
  guint64 hash = PD_FNV_OFFSET;
  gsize i;

  /* One pass hashes every prefix the prefix table has a key length for,
   * and, when there are exact patterns, the whole subject. */
  for (i = 0; i < walk; i++)
    {
      hash = fnv_step (hash, s[i]);
      if (i < PD_AFFIX_MAX && (prefix->lengths >> i) & 1)
        try_group (scan, index, table_lookup (prefix, hash, s, i + 1), s, len);
    }
  if (exact->n_groups > 0)
    try_group (scan, index, table_lookup (exact, hash, s, len), s, len);

  hash = PD_FNV_OFFSET;
  walk = MIN (len, suffix->max_len);
  for (i = 0; i < walk; i++)
    {
      hash = fnv_step (hash, s[len - 1 - i]);
      if ((suffix->lengths >> i) & 1)
        try_group (scan, index,
                   table_lookup (suffix, hash, s + len - 1 - i, i + 1), s, len);
    }

  for (i = index->floating_first; i < index->n_patterns; i++)
    try_pattern (scan, &index->patterns[i], s, len);
}

static void
match_field (PdScan *scan, const PdMatcher *matcher, PdMatchKind kind, const char *s)
{
  const PdIndex *index = &matcher->kinds[kind];

  if (s == NULL || index->n_patterns == 0)
    return;
  match_subject (scan, index, s, strlen (s));
}

/* Every argument that is a URL, in order, so that out->url is the first
 * one that matched. */
static void
match_urls (PdScan *scan, const PdMatcher *matcher, const char *args, gsize args_len)
{
  const PdIndex *index = &matcher->kinds[PD_MATCH_URL];
  const char *end;
  const char *arg;

  if (args == NULL || index->n_patterns == 0)
    return;
  end = args + args_len;
  for (arg = args; arg < end; )
    {
      const char *nul = memchr (arg, '\0', (gsize) (end - arg));

      /* The header asks for the final NUL; without it the last argument is
       * not a C string, and matching it would mean copying, so it is not. */
      if (nul == NULL)
        break;
      if (pd_arg_is_url (arg))
        {
          scan->url = arg;
          scan->url_len = (gsize) (nul - arg);
          match_subject (scan, index, arg, scan->url_len);
        }
      arg = nul + 1;
    }
  scan->url = NULL;
  scan->url_len = 0;
}

static void
sort_small (guint *v, guint n)
{
  guint i, j;

  /* Insertion sort: a process matches a handful of rules at most. */
  for (i = 1; i < n; i++)
    {
      guint x = v[i];

      for (j = i; j > 0 && v[j - 1] > x; j--)
        v[j] = v[j - 1];
      v[j] = x;
    }
}

void
pd_matcher_classify (const PdMatcher *matcher, const PdProcessFacts *facts, PdMatch *out)
{
  PdMatchStorage *match = (PdMatchStorage *) out;
  PdScan scan = { match, NULL, 0 };
  locale_t saved = (locale_t) 0;
  guint i;

  g_return_if_fail (matcher != NULL);
  g_return_if_fail (out != NULL);
  g_return_if_fail (match->n_apps == matcher->n_apps &&
                    match->n_purchases == matcher->n_purchases);

  out->n_apps = 0;
  out->n_purchases = 0;
  out->url = NULL;
  out->url_len = 0;
  if (facts == NULL)
    return;

  if (matcher->c_locale != (locale_t) 0)
    saved = uselocale (matcher->c_locale);

  /* URLs first, so that out->url is set even when the same rule also
   * matches through another kind. */
  match_urls (&scan, matcher, facts->args, facts->args_len);
  match_field (&scan, matcher, PD_MATCH_EXE, facts->exe);
  match_field (&scan, matcher, PD_MATCH_COMM, facts->comm);
  match_field (&scan, matcher, PD_MATCH_CMDLINE, facts->cmdline);
  match_field (&scan, matcher, PD_MATCH_DESKTOP, facts->app_id);
  if (facts->flatpak_id != NULL &&
      (facts->app_id == NULL || strcmp (facts->app_id, facts->flatpak_id) != 0))
    match_field (&scan, matcher, PD_MATCH_DESKTOP, facts->flatpak_id);
  match_field (&scan, matcher, PD_MATCH_FLATPAK, facts->flatpak_id);

  if (saved != (locale_t) 0)
    uselocale (saved);

  sort_small (out->apps, out->n_apps);
  sort_small (out->purchases, out->n_purchases);
  for (i = 0; i < out->n_apps; i++)
    match->seen[out->apps[i] / 64] = 0;
  for (i = 0; i < out->n_purchases; i++)
    match->seen[(out->purchases[i] + match->n_apps) / 64] = 0;
}
