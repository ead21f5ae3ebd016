/* "Did you mean": the nearest known name to a misspelt one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The candidate closest to word by edit distance, if close enough to be a
 * plausible typo; NULL otherwise. candidates is NULL-terminated. */
const char *pd_suggest (const char *word, const char *const *candidates);

G_END_DECLS
