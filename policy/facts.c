/* The small parsers the matcher's inputs need: which arguments are URLs,
 * a URL with its query and fragment dropped, and the application ID in a
 * process's cgroup. None of them allocates: they run on the exec path. */
#include "config.h"

#include <string.h>

#include "policy/matcher.h"

static gsize
url_scheme_len (const char *s)
{
  gsize n;

  if (s == NULL || !g_ascii_isalpha (s[0]))
    return 0;
  for (n = 1; g_ascii_isalnum (s[n]) || s[n] == '+' || s[n] == '-' || s[n] == '.'; n++)
    ;
  /* One letter before ':' is a drive ("C:"), not a scheme. */
  return s[n] == ':' && n >= 2 ? n : 0;
}

gboolean
pd_arg_is_url (const char *arg)
{
  gsize n = url_scheme_len (arg);

  return n > 0 && arg[n + 1] != '\0';
}

static void
emit (char *buf, gsize buflen, gsize *pos, const char *bytes, gsize len)
{
  if (*pos + 1 < buflen)
    memcpy (buf + *pos, bytes, MIN (len, buflen - 1 - *pos));
  *pos += len;
}

gsize
pd_url_redact (const char *url, char *buf, gsize buflen)
{
  gsize scheme = url_scheme_len (url);
  gsize kept = 0;
  gsize end;
  const char *rest;

  g_return_val_if_fail (url != NULL, 0);
  g_return_val_if_fail (buf != NULL || buflen == 0, 0);

  end = strcspn (url, "?#");
  rest = url;
  if (scheme > 0 && strncmp (url + scheme, "://", 3) == 0)
    {
      const char *authority = url + scheme + 3;
      gsize authority_len = strcspn (authority, "/?#");
      const char *at = NULL;
      gsize i;

      /* Userinfo ("user:token@") carries credentials: drop it. */
      for (i = 0; i < authority_len; i++)
        if (authority[i] == '@')
          at = authority + i;
      if (at != NULL)
        {
          emit (buf, buflen, &kept, url, scheme + 3);
          rest = at + 1;
          end -= (gsize) (rest - url);
        }
    }
  emit (buf, buflen, &kept, rest, end);
  if (buflen > 0)
    buf[MIN (kept, buflen - 1)] = '\0';
  return kept;
}

/* Copies an application ID, undoing systemd's unit name escapes ("\x2d"
 * for '-'). FALSE when it does not fit or would contain a NUL. */
static gboolean
unescape_id (const char *id, gsize len, char *buf, gsize buflen)
{
  gsize i, o = 0;

  if (len == 0)
    return FALSE;
  for (i = 0; i < len; i++)
    {
      char c = id[i];

      if (c == '\\' && i + 3 < len && id[i + 1] == 'x' &&
          g_ascii_isxdigit (id[i + 2]) && g_ascii_isxdigit (id[i + 3]))
        {
          c = (char) (g_ascii_xdigit_value (id[i + 2]) * 16 + g_ascii_xdigit_value (id[i + 3]));
          i += 3;
          if (c == '\0')
            return FALSE;
        }
      if (o + 1 >= buflen)
        return FALSE;
      buf[o++] = c;
    }
  buf[o] = '\0';
  return TRUE;
}

static gboolean
all_digits (const char *s, gsize len)
{
  gsize i;

  for (i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return len > 0;
}

/* The app ID in one unit name, after the systemd convention
 * app[-<launcher>]-<ApplicationID>[@<RANDOM>].service and
 * app[-<launcher>]-<ApplicationID>-<RANDOM>.scope, or snap.<name>.*. */
static gboolean
app_id_from_unit (const char *unit, gsize len, char *buf, gsize buflen)
{
  gboolean scope;
  const char *id, *end, *dash, *at;

  scope = len > 6 && memcmp (unit + len - 6, ".scope", 6) == 0;
  if (scope)
    len -= 6;
  else if (len > 8 && memcmp (unit + len - 8, ".service", 8) == 0)
    len -= 8;
  else
    return FALSE;
  end = unit + len;

  if (len > 5 && memcmp (unit, "snap.", 5) == 0)
    {
      const char *dot = memchr (unit + 5, '.', len - 5);

      return dot != NULL && unescape_id (unit + 5, (gsize) (dot - (unit + 5)), buf, buflen);
    }
  if (len <= 4 || memcmp (unit, "app-", 4) != 0)
    return FALSE;
  id = unit + 4;

  at = memchr (id, '@', (gsize) (end - id));
  dash = g_strrstr_len (id, end - id, "-");
  if (at != NULL)
    end = at;
  else if (dash != NULL && (scope || all_digits (dash + 1, (gsize) (end - dash - 1))))
    /* Scopes always end in -RANDOM; older services used -PID. */
    end = dash;

  /* A launcher ("gnome", "flatpak", "KDE") is a first token without dots;
   * a dash inside an application ID is escaped, so the first one ends it. */
  dash = memchr (id, '-', (gsize) (end - id));
  if (dash != NULL && memchr (id, '.', (gsize) (dash - id)) == NULL)
    id = dash + 1;
  return unescape_id (id, (gsize) (end - id), buf, buflen);
}

/* The cgroup path: the unified ("0::") line of /proc/PID/cgroup, else its
 * last line, without the "N:controllers:" head. A bare path is taken as is. */
static const char *
cgroup_path (const char *text, gsize *out_len)
{
  const char *line = text;
  const char *chosen = NULL;
  gsize chosen_len = 0;
  const char *colon;

  while (*line != '\0')
    {
      gsize len = strcspn (line, "\r\n");

      if (len > 0)
        {
          chosen = line;
          chosen_len = len;
          if (g_str_has_prefix (line, "0::"))
            break;
        }
      line += len;
      line += strspn (line, "\r\n");
    }
  if (chosen == NULL)
    return NULL;

  /* "N:controllers:path" */
  if (g_ascii_isdigit (chosen[0]) && (colon = memchr (chosen, ':', chosen_len)) != NULL)
    {
      const char *second = memchr (colon + 1, ':', chosen_len - (gsize) (colon + 1 - chosen));

      if (second != NULL && all_digits (chosen, (gsize) (colon - chosen)))
        {
          chosen_len -= (gsize) (second + 1 - chosen);
          chosen = second + 1;
        }
    }
  *out_len = chosen_len;
  return chosen;
}

gboolean
pd_app_id_from_cgroup (const char *cgroup, char *buf, gsize buflen)
{
  const char *path;
  gsize len = 0;

  g_return_val_if_fail (buf != NULL || buflen == 0, FALSE);

  if (cgroup == NULL || (path = cgroup_path (cgroup, &len)) == NULL)
    return FALSE;

  /* The deepest app unit wins: a process may sit in a cgroup that the
   * app's scope or service delegated below itself. */
  while (len > 0)
    {
      const char *slash = g_strrstr_len (path, (gssize) len, "/");
      const char *component = slash != NULL ? slash + 1 : path;
      gsize component_len = len - (gsize) (component - path);

      if (component_len > 0 && app_id_from_unit (component, component_len, buf, buflen))
        return TRUE;
      len = slash != NULL ? (gsize) (slash - path) : 0;
    }
  return FALSE;
}
