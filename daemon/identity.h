/* identity.c recognises the executables the configuration names by their
 * content (size and a hash, cached per file), so that a renamed copy of one
 * matches, whether it runs itself or through an interpreter or ld.so. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "daemon/procfacts.h"
#include "policy/matcher.h"

G_BEGIN_DECLS

/* The identity of the executables the configuration names: each literal
 * exe: path (and each file an exe: glob matches when the set is built),
 * as (size, hash) -> app indices. */
typedef struct _PdIdentities PdIdentities;

PdIdentities *pd_identities_new (const PdConfig *config);
void pd_identities_free (PdIdentities *identities);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdIdentities, pd_identities_free)

/* Adds to out (an app index list, as PdMatch) the apps whose known binary
 * has the same identity as the file behind /proc/PID/exe, or as the
 * program an interpreter or ld.so runs. Files are hashed only when their
 * size matches a known binary, and once per (device, inode, mtime). */
void pd_identities_match (PdIdentities *identities, pid_t pid, const PdFactsBuffer *facts,
                          PdMatch *out);

/* How many files have been hashed since creation (for tests: a cached file
 * is not hashed again). */
guint64 pd_identities_hash_count (const PdIdentities *identities);

G_END_DECLS
