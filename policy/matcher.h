/* The matcher: which apps and purchase rules a process matches. It runs on
 * every exec of a child, so patterns are compiled once per configuration and
 * classification allocates nothing. */
#pragma once

#include <glib.h>

#include "policy/model.h"

G_BEGIN_DECLS

/* What is known about a process. Every string may be NULL when unknown. */
typedef struct {
  const char *exe;         /* resolved /proc/PID/exe ("(deleted)" suffix removed) */
  const char *comm;        /* kernel process name */
  const char *args;        /* argv as the kernel keeps it: NUL-separated */
  gsize args_len;          /* bytes in args, including the final NUL */
  const char *cmdline;     /* argv joined by single spaces */
  const char *app_id;      /* application ID from the systemd scope */
  const char *flatpak_id;  /* Flatpak application ID */
} PdProcessFacts;

typedef struct _PdMatcher PdMatcher;

/* Compiles every pattern of the configuration; config must outlive it. */
PdMatcher *pd_matcher_new (const PdConfig *config);
void pd_matcher_free (PdMatcher *matcher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdMatcher, pd_matcher_free)

/* Caller-owned result storage, allocated once per matcher and reused. */
typedef struct {
  guint n_apps;
  guint *apps;               /* indices into PdConfig.apps, ascending */
  guint n_purchases;
  guint *purchases;          /* indices into PdConfig.purchases, ascending */
  const char *url;           /* (unowned) the argument a url: pattern matched, else NULL */
  gsize url_len;
} PdMatch;

PdMatch *pd_match_new (const PdMatcher *matcher);
void pd_match_free (PdMatch *match);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdMatch, pd_match_free)

/* Fills out with every app and purchase rule the facts match. Allocates
 * nothing. */
void pd_matcher_classify (const PdMatcher *matcher, const PdProcessFacts *facts, PdMatch *out);

/* Whether an argument is a URL: a scheme ("steam", "https") followed by ':'
 * and at least one more character. */
gboolean pd_arg_is_url (const char *arg);

/* Writes the URL with its query and fragment dropped (scheme, host and path
 * kept) into buf, NUL-terminated and truncated to buflen; returns the length
 * it needed. */
gsize pd_url_redact (const char *url, char *buf, gsize buflen);

/* The application ID a desktop launched a process with, from one line or the
 * whole of /proc/PID/cgroup: "app-gnome-org.foo.Bar-1234.scope" gives
 * "org.foo.Bar", as do "app-flatpak-org.foo.Bar-5678.scope",
 * "app-org.foo.Bar-1.scope", "app-org.foo.Bar@abc.service" and
 * "snap.foo.foo-1234.scope" ("foo"). Writes into buf; FALSE when there is
 * none, or when it does not fit (a cut ID could match the wrong pattern). */
gboolean pd_app_id_from_cgroup (const char *cgroup, char *buf, gsize buflen);

G_END_DECLS
