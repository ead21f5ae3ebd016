/* Reads the configuration language into a PdConfig.
 *
 * inih does the INI grammar. Debian builds it with 200-character lines and
 * without line numbers, so inih reads through our own line reader: it counts
 * lines, sees section headers first (so an empty or misspelt section is still
 * reported at its line), and hands over-long values to the handler through a
 * side table instead of letting inih cut them. Keys and values are checked in
 * keys.c; this file owns sources, lines, sections and references. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "policy/loader-private.h"
#include "policy/suggest.h"

/* Lines longer than this go to inih as a placeholder; inih's own limit is
 * INI_MAX_LINE including the newline and NUL. */
#define LONG_LINE (INI_MAX_LINE - 8)
#define LONG_VALUE_MARK '\x01'

static const char *const section_kinds[] = { "daemon", "child", "app", "purchase", NULL };

void
pd_loader_error (PdLoader *loader, const char *file, guint line, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  if (line > 0)
    g_ptr_array_add (loader->errors, g_strdup_printf ("%s:%u: %s", file, line, message));
  else
    g_ptr_array_add (loader->errors, g_strdup_printf ("%s: %s", file, message));
}

gboolean
pd_lookup_user_nss (const char *name, uid_t *out_uid, gpointer user_data)
{
  char buffer[4096];
  struct passwd pw, *result = NULL;

  if (getpwnam_r (name, &pw, buffer, sizeof buffer, &result) != 0 || result == NULL)
    return FALSE;
  *out_uid = result->pw_uid;
  return TRUE;
}

PdLoader *
pd_loader_new (PdUserLookup lookup_user, gpointer lookup_data)
{
  PdLoader *loader = g_new0 (PdLoader, 1);

  loader->lookup_user = lookup_user != NULL ? lookup_user : pd_lookup_user_nss;
  loader->lookup_data = lookup_data;
  loader->config = pd_config_new ();
  loader->errors = g_ptr_array_new_with_free_func (g_free);
  loader->children = g_ptr_array_new_with_free_func (pd_child_build_free);
  loader->bad_rules = g_hash_table_new (NULL, NULL);
  return loader;
}

void
pd_loader_free (PdLoader *loader)
{
  if (loader == NULL)
    return;
  pd_config_free (loader->config);
  g_ptr_array_unref (loader->errors);
  g_ptr_array_unref (loader->children);
  g_hash_table_unref (loader->bad_rules);
  g_free (loader);
}

/* --- one source --------------------------------------------------------- */

typedef struct {
  PdLoader *loader;
  PdSection source;            /* what keys.c sees: file, kind, current section */
  const char *data;
  gsize len;
  gsize pos;
  guint line;                 /* the physical line the reader handed out last */
  gboolean line_indented;
  gboolean continuing;        /* an indented line now continues the last value */
  GPtrArray *long_values;     /* (element-type utf8) values of over-long lines */
  PdEntry pending;            /* a key whose value may continue on the next lines */
  GString *pending_value;
} SourceParse;

static void
flush_pending (SourceParse *parse)
{
  if (parse->pending.key == NULL)
    return;
  parse->pending.value = parse->pending_value->str;
  pd_apply_entry (parse->loader, &parse->source, &parse->pending);
  g_clear_pointer (&parse->pending.key, g_free);
  g_string_truncate (parse->pending_value, 0);
}

static gboolean
valid_name (const char *name)
{
  if (name[0] == '\0' || name[0] == '-' || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

/* "[child alice]": validates the header and makes it the current section. */
static void
begin_section (SourceParse *parse, const char *header)
{
  PdSection *src = &parse->source;
  g_autofree char *text = g_strstrip (g_strdup (header));
  char *name = strpbrk (text, " \t");
  const char *suggestion;

  flush_pending (parse);
  src->section = PD_SECTION_INVALID;
  src->child = NULL;
  src->rule = NULL;
  src->section_line = parse->line;
  parse->continuing = FALSE;

  if (name != NULL)
    {
      *name++ = '\0';
      g_strstrip (name);
    }

  if (strcmp (text, "daemon") == 0 && name == NULL)
    src->section = PD_SECTION_DAEMON;
  else if (strcmp (text, "child") == 0 || strcmp (text, "app") == 0 || strcmp (text, "purchase") == 0)
    {
      if (name == NULL || !valid_name (name))
        {
          pd_loader_error (parse->loader, src->file, parse->line,
                           name == NULL ? _("[%s] needs a name: write [%s NAME]")
                                        : _("[%s %s]: a name may hold only letters, digits, '_', '-' "
                                            "and '.'"),
                           text, name == NULL ? text : name);
          return;
        }
      src->section = text[0] == 'c' ? PD_SECTION_CHILD : text[0] == 'a' ? PD_SECTION_APP : PD_SECTION_PURCHASE;
    }
  else
    {
      suggestion = pd_suggest (text, section_kinds);
      if (strcmp (text, "daemon") == 0)
        pd_loader_error (parse->loader, src->file, parse->line, _("[daemon] takes no name"));
      else if (suggestion != NULL)
        pd_loader_error (parse->loader, src->file, parse->line,
                         _("unknown section [%s]; did you mean [%s%s%s]?"), header, suggestion,
                         name != NULL ? " " : "", name != NULL ? name : "");
      else
        pd_loader_error (parse->loader, src->file, parse->line,
                         _("unknown section [%s]; sections are [daemon], [child NAME], [app NAME] "
                           "and [purchase NAME]"), header);
      return;
    }

  if (src->kind == PD_SOURCE_RULES &&
      (src->section == PD_SECTION_DAEMON || src->section == PD_SECTION_CHILD))
    {
      pd_loader_error (parse->loader, src->file, parse->line,
                       _("[%s] does not belong in a rule set; rule sets hold only [app] and "
                         "[purchase] sections, put it in parentd.conf"), header);
      src->section = PD_SECTION_INVALID;
      return;
    }
  pd_begin_section (parse->loader, src, name);
}

/* Lines inih would reject as not "key = value": said here, with the line. */
static gboolean
line_has_delimiter (const char *line)
{
  return strpbrk (line, "=:") != NULL;
}

/* Over-long "key = value" lines reach inih as "key = \1N", with the value
 * kept whole in long_values[N]; over-long continuation lines as "  \1N". */
static void
shorten_long_line (SourceParse *parse, const char *line, gsize len, char *out, int num)
{
  const char *start = line + strspn (line, " \t");
  const char *delimiter = strpbrk (start, "=:");
  guint index = parse->long_values->len;

  if (start > line && parse->continuing)
    {
      g_ptr_array_add (parse->long_values, g_strndup (start, len - (gsize) (start - line)));
      g_snprintf (out, (gsize) num, "  %c%u", LONG_VALUE_MARK, index);
      return;
    }
  if (*start == '[' || delimiter == NULL || delimiter - line > LONG_LINE / 2)
    {
      pd_loader_error (parse->loader, parse->source.file, parse->line,
                       _("line too long to be a section header or key (%zu characters)"), len);
      out[0] = '\0';
      return;
    }
  g_ptr_array_add (parse->long_values, g_strndup (delimiter + 1, len - (gsize) (delimiter + 1 - line)));
  g_snprintf (out, (gsize) num, "%.*s= %c%u", (int) (delimiter - line), line, LONG_VALUE_MARK, index);
}

/* "daily_limit = 1h": a word of key characters, then '='. A pattern never
 * looks like that: it starts with "KIND:". */
static gboolean
looks_like_key (const char *text)
{
  gsize n = strspn (text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

  return n > 0 && text[n + strspn (text + n, " \t")] == '=';
}

static char *
read_line (char *str, int num, void *stream)
{
  SourceParse *parse = stream;
  const char *begin, *newline;
  gsize len, indent;
  gboolean stray_indent = FALSE;
  const char *start;

  if (parse->pos >= parse->len)
    {
      flush_pending (parse);
      return NULL;
    }

  begin = parse->data + parse->pos;
  newline = memchr (begin, '\n', parse->len - parse->pos);
  len = newline != NULL ? (gsize) (newline - begin) : parse->len - parse->pos;
  parse->pos += len + (newline != NULL ? 1 : 0);
  parse->line++;
  if (len > 0 && begin[len - 1] == '\r')
    len--;
  if (parse->line == 1 && len >= 3 && memcmp (begin, "\xEF\xBB\xBF", 3) == 0)
    begin += 3, len -= 3;

  if (memchr (begin, '\0', len) != NULL || memchr (begin, LONG_VALUE_MARK, len) != NULL)
    {
      pd_loader_error (parse->loader, parse->source.file, parse->line, _("control character in line"));
      str[0] = '\0';
      return str;
    }

  indent = 0;
  while (indent < len && (begin[indent] == ' ' || begin[indent] == '\t'))
    indent++;
  if (indent == len)
    parse->continuing = FALSE;     /* a blank line ends a value */
  else if (indent > 0 && !parse->continuing)
    {
      /* inih would still continue the value before the blank line; it gets
       * the line unindented, so that it stands on its own. */
      begin += indent, len -= indent;
      stray_indent = TRUE;
    }

  if (len < (gsize) LONG_LINE)
    {
      memcpy (str, begin, len);
      str[len] = '\0';
    }
  else
    {
      g_autofree char *whole = g_strndup (begin, len);
      shorten_long_line (parse, whole, len, str, num);
    }

  start = str + strspn (str, " \t");
  parse->line_indented = start > str;
  if (*start == '\0' || *start == ';' || *start == '#')
    return str;
  if (parse->line_indented && parse->continuing)
    {
      if (looks_like_key (start))
        {
          pd_loader_error (parse->loader, parse->source.file, parse->line,
                           _("this indented line would continue the value of '%s' (line %u); "
                             "remove the indentation to make it a key of its own"),
                           parse->pending.key != NULL ? parse->pending.key : "?",
                           parse->pending.key != NULL ? parse->pending.line : 0);
          str[0] = '\0';
        }
      return str;
    }
  if (*start == '[')
    {
      char *end = strchr (start, ']');
      if (end == NULL)
        {
          pd_loader_error (parse->loader, parse->source.file, parse->line,
                           _("section header without ']'"));
          parse->source.section = PD_SECTION_INVALID;
          str[0] = '\0';
          return str;
        }
      *end = '\0';
      begin_section (parse, start + 1);
      *end = ']';
      return str;
    }
  if (!line_has_delimiter (start) || (stray_indent && !looks_like_key (start)))
    {
      pd_loader_error (parse->loader, parse->source.file, parse->line,
                       stray_indent ? "this indented line continues nothing: a blank line, a "
                                      "section header or the start of the file comes before it"
                                    : "expected 'key = value', a [section] or a comment");
      str[0] = '\0';
      return str;
    }
  parse->continuing = TRUE;
  return str;
}

/* inih's inline comments need whitespace before ';'. inih strips them from
 * key lines but not from continuation lines, and never saw long values, so
 * every value gets the same treatment here. */
static char *
strip_inline_comment (const char *raw)
{
  char *value = g_strdup (raw);

  for (char *p = value; *p != '\0'; p++)
    if (*p == ';' && p > value && (p[-1] == ' ' || p[-1] == '\t'))
      {
        *p = '\0';
        break;
      }
  return g_strstrip (value);
}

/* Values split over indented lines join with ", " for comma lists and a
 * space otherwise; an explicit trailing comma is kept as it is. */
static void
append_continuation (SourceParse *parse, const char *value)
{
  GString *acc = parse->pending_value;

  if (acc->len > 0)
    {
      gboolean comma_list = pd_key_is_comma_list (parse->pending.key);
      if (comma_list && acc->str[acc->len - 1] != ',' && value[0] != ',')
        g_string_append (acc, ", ");
      else
        g_string_append_c (acc, ' ');
    }
  g_string_append (acc, value);
}

static int
handle_entry (void *user, const char *section, const char *name, const char *value)
{
  SourceParse *parse = user;
  g_autofree char *clean = NULL;

  if (value[0] == LONG_VALUE_MARK)
    {
      guint64 index = g_ascii_strtoull (value + 1, NULL, 10);
      g_assert (index < parse->long_values->len);
      value = g_ptr_array_index (parse->long_values, index);
    }
  value = clean = strip_inline_comment (value);

  if (parse->line_indented && parse->pending.key != NULL && strcmp (parse->pending.key, name) == 0)
    {
      append_continuation (parse, value);
      return 1;
    }

  flush_pending (parse);
  parse->pending.key = g_strdup (name);
  parse->pending.line = parse->line;
  g_string_assign (parse->pending_value, value);
  return 1;
}

void
pd_loader_add_data (PdLoader *loader, const char *name, const char *data, gsize len,
                    PdSourceKind kind)
{
  SourceParse parse = {
    .loader = loader,
    .source = { .file = g_intern_string (name), .kind = kind, .section = PD_SECTION_NONE },
    .data = data,
    .len = len,
  };
  PdSource *source;
  int result;

  g_return_if_fail (loader != NULL && name != NULL && (data != NULL || len == 0));

  parse.long_values = g_ptr_array_new_with_free_func (g_free);
  parse.pending_value = g_string_new (NULL);
  parse.source.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  source = g_new0 (PdSource, 1);
  source->name = g_strdup (name);
  source->kind = kind;
  source->text = g_strndup (data, len);
  source->len = len;
  g_ptr_array_add (loader->config->sources, source);

  result = ini_parse_stream (read_line, &parse, handle_entry, &parse);
  flush_pending (&parse);
  /* Our reader reports every line inih can reject; anything else is a gap
   * in that check, and still must not pass silently. */
  if (result > 0 && loader->errors->len == 0)
    pd_loader_error (loader, name, (guint) result, _("syntax error"));

  g_ptr_array_unref (parse.long_values);
  g_string_free (parse.pending_value, TRUE);
  g_hash_table_unref (parse.source.seen);
}

void
pd_loader_add_file (PdLoader *loader, const char *path, PdSourceKind kind)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      pd_loader_error (loader, path, 0, _("cannot read: %s"), error->message);
      return;
    }
  pd_loader_add_data (loader, path, contents, len, kind);
}

PdConfig *
pd_loader_finish (PdLoader *loader, GStrv *out_errors)
{
  PdConfig *config;

  g_return_val_if_fail (loader != NULL, NULL);

  pd_resolve_references (loader);

  if (loader->errors->len > 0)
    {
      if (out_errors != NULL)
        {
          g_ptr_array_add (loader->errors, NULL);
          /* The strings go to the caller; the array itself is freed. */
          *out_errors = (GStrv) g_ptr_array_free (loader->errors, FALSE);
          loader->errors = g_ptr_array_new_with_free_func (g_free);
        }
      return NULL;
    }
  if (out_errors != NULL)
    *out_errors = NULL;
  config = g_steal_pointer (&loader->config);
  loader->config = pd_config_new ();
  return config;
}

/* --- files and directories ---------------------------------------------- */

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The *.conf names in dir, sorted; a missing directory has none. */
static GPtrArray *
list_conf_files (PdLoader *loader, const char *dir)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GError) error = NULL;
  const char *name;

  if (dir == NULL)
    return names;
  handle = g_dir_open (dir, 0, &error);
  if (handle == NULL)
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        pd_loader_error (loader, dir, 0, _("cannot read directory: %s"), error->message);
      return names;
    }
  while ((name = g_dir_read_name (handle)) != NULL)
    if (g_str_has_suffix (name, ".conf") && name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  return names;
}

static gboolean
is_masked (const char *path)
{
  g_autofree char *target = g_file_read_link (path, NULL);

  return target != NULL && strcmp (target, "/dev/null") == 0;
}

static void
add_rule_sets (PdLoader *loader, const PdLoadPaths *paths)
{
  g_autoptr (GPtrArray) shipped = list_conf_files (loader, paths->rules_dir);
  g_autoptr (GPtrArray) admin = list_conf_files (loader, paths->admin_rules_dir);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();

  for (guint i = 0; i < shipped->len; i++)
    g_ptr_array_add (names, g_ptr_array_index (shipped, i));
  for (guint i = 0; i < admin->len; i++)
    if (!g_ptr_array_find_with_equal_func (shipped, g_ptr_array_index (admin, i), g_str_equal, NULL))
      g_ptr_array_add (names, g_ptr_array_index (admin, i));
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *admin_path = paths->admin_rules_dir != NULL
                                      ? g_build_filename (paths->admin_rules_dir, name, NULL) : NULL;
      g_autofree char *path = NULL;

      if (admin_path != NULL && is_masked (admin_path))
        continue;
      if (admin_path != NULL && g_file_test (admin_path, G_FILE_TEST_EXISTS))
        path = g_steal_pointer (&admin_path);
      else
        path = g_build_filename (paths->rules_dir, name, NULL);
      pd_loader_add_file (loader, path, PD_SOURCE_RULES);
    }
}

PdConfig *
pd_config_load (const PdLoadPaths *paths, GStrv *out_errors)
{
  g_autoptr (PdLoader) loader = NULL;
  g_autoptr (GPtrArray) dropins = NULL;

  g_return_val_if_fail (paths != NULL, NULL);

  loader = pd_loader_new (paths->lookup_user, paths->lookup_data);

  /* Rule sets first, so that the administrator's files have the last
   * word: a drop-in can add to or clear a shipped app. */
  add_rule_sets (loader, paths);

  /* A missing main file is an empty configuration: children may all live in
   * drop-ins. Any other failure to read it is an error. */
  if (paths->config_file != NULL && g_file_test (paths->config_file, G_FILE_TEST_EXISTS))
    pd_loader_add_file (loader, paths->config_file, PD_SOURCE_CONFIG);

  dropins = list_conf_files (loader, paths->dropin_dir);
  for (guint i = 0; i < dropins->len; i++)
    {
      g_autofree char *path = g_build_filename (paths->dropin_dir, g_ptr_array_index (dropins, i), NULL);
      pd_loader_add_file (loader, path, PD_SOURCE_CONFIG);
    }
  return pd_loader_finish (loader, out_errors);
}

char *
pd_config_summary (const PdConfig *config)
{
  guint n_children = config->children->len;
  guint n_apps = config->apps->len;
  guint n_purchases = config->purchases->len;
  guint n_patterns = pd_config_count_patterns (config);
  g_autofree char *children = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u child", "%u children",
                                                            n_children), n_children);
  g_autofree char *apps = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u app", "%u apps", n_apps),
                                           n_apps);
  g_autofree char *purchases = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u purchase rule",
                                                             "%u purchase rules", n_purchases),
                                                n_purchases);

  g_autofree char *patterns = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u pattern", "%u patterns",
                                                            n_patterns), n_patterns);

  /* TRANSLATORS: "2 children, 3 apps, 1 purchase rule (5 patterns)". */
  return g_strdup_printf (_("%s, %s, %s (%s)"), children, apps, purchases, patterns);
}

char *
pd_format_errors (const char *const *errors)
{
  GString *out = g_string_new (NULL);
  guint n = g_strv_length ((char **) errors);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%s\n", errors[i]);
  g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, "configuration rejected: %u error\n",
                                            "configuration rejected: %u errors\n", n), n);
  return g_string_free (out, FALSE);
}
