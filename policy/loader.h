/* Reads the configuration language into a PdConfig. Every problem is
 * reported as "FILE:LINE: message"; a configuration with any problem is
 * rejected whole. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "policy/model.h"

G_BEGIN_DECLS

/* Resolves a login name to a uid. Injected so that the loader stays pure;
 * pd_lookup_user_nss is the real one. */
typedef gboolean (*PdUserLookup) (const char *name, uid_t *out_uid, gpointer user_data);
gboolean pd_lookup_user_nss (const char *name, uid_t *out_uid, gpointer user_data);

typedef struct _PdLoader PdLoader;

PdLoader *pd_loader_new (PdUserLookup lookup_user, gpointer lookup_data);
void pd_loader_free (PdLoader *loader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdLoader, pd_loader_free)

/* Sources are applied in the order they are added; later ones override. */
void pd_loader_add_data (PdLoader *loader, const char *name, const char *data, gsize len,
                         PdSourceKind kind);
/* Reads a file; an unreadable file is itself an error of the configuration. */
void pd_loader_add_file (PdLoader *loader, const char *path, PdSourceKind kind);

/* Validates references between sections and returns the configuration, or
 * NULL with *out_errors (NULL-terminated, "FILE:LINE: message") set. */
PdConfig *pd_loader_finish (PdLoader *loader, GStrv *out_errors);

typedef struct {
  const char *config_file;      /* main file, e.g. /etc/parentd/parentd.conf */
  const char *dropin_dir;       /* e.g. /etc/parentd/parentd.conf.d */
  const char *rules_dir;        /* shipped rule sets, /usr/share/parentd/rules.d */
  const char *admin_rules_dir;  /* the admin's, /etc/parentd/rules.d */
  PdUserLookup lookup_user;     /* NULL: pd_lookup_user_nss */
  gpointer lookup_data;
} PdLoadPaths;

/* The whole configuration: the rule sets, where an admin file of the same
 * name replaces a shipped one and a symlink to /dev/null masks it; then
 * the main file (a missing one is an empty configuration); then the
 * drop-ins in lexical order. Later sources override earlier ones. */
PdConfig *pd_config_load (const PdLoadPaths *paths, GStrv *out_errors);

/* The errors one a line, then "configuration rejected: N errors". */
char *pd_format_errors (const char *const *errors);

/* "2 children, 40 apps, 12 purchase rules (310 patterns)". */
char *pd_config_summary (const PdConfig *config);

G_END_DECLS
