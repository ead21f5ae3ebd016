/* store.c owns the state directory: the state file, written atomically,
 * and the copy of the last configuration that loaded. */
#pragma once

#include <gio/gio.h>

#include "daemon/state.h"
#include "policy/loader.h"

G_BEGIN_DECLS

typedef struct _PdStore PdStore;

/* dir is created (0700) if missing. */
PdStore *pd_store_new (const char *dir, GError **error);
void pd_store_free (PdStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdStore, pd_store_free)

const char *pd_store_dir (PdStore *store);

/* Loads state.json. A missing file is an empty state. A corrupt or
 * unreadable one is moved aside as state.json.corrupt-<unix time> and as
 * much as can be recovered is returned, with *out_problem (nullable) saying
 * what happened, for the log and the status. Never returns NULL. */
PdState *pd_store_load (PdStore *store, char **out_problem);

/* Writes state.json atomically: a temporary file, fsync, rename, fsync of
 * the directory. On failure (a full or read-only disk) the old file is left
 * intact and an error returned; the caller keeps the state in memory and
 * retries later. */
gboolean pd_store_save (PdStore *store, const PdState *state, GError **error);

/* The same, written by a worker thread, so that the caller never waits for
 * the disk; writes land in the order asked, and pd_store_save and
 * pd_store_free wait for those queued. FALSE, with the error, when the
 * previous background write failed (the caller says so and retries). */
gboolean pd_store_save_in_background (PdStore *store, const PdState *state, GError **error);

/* The last configuration that loaded: every source's name, kind and text,
 * saved atomically as one file (last-good-config.json). */
gboolean pd_store_save_config (PdStore *store, const PdConfig *config, GError **error);
/* Adds the saved sources to loader in their order. FALSE, with error, when
 * none was saved or it cannot be read. */
gboolean pd_store_load_config (PdStore *store, PdLoader *loader, GError **error);

G_END_DECLS
