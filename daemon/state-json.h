/* state-json.c owns the versioned JSON format of PdState (state.json), and
 * the small typed JSON helpers that store.c shares with it. No I/O. */
#pragma once

#include <json-glib/json-glib.h>

#include "daemon/state.h"

G_BEGIN_DECLS

/* What could not be read, for the problem sentence. Zero it before
 * reading. */
typedef struct {
  char *reason;           /* (owned) (nullable) why nothing could be read */
  gint64 future_version;  /* 0, or the newer version the file has */
  gboolean all_children;  /* the children member itself was unusable */
  gboolean all_requests;
  gboolean request_counter;
  guint children;         /* records dropped */
  guint days;
  guint purchases;
  guint requests;
} PdStateLosses;

void pd_state_losses_clear (PdStateLosses *losses);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PdStateLosses, pd_state_losses_clear)
gboolean pd_state_losses_any (const PdStateLosses *losses);

/* The document for state, with now (unix seconds) as its "saved" moment.
 * Children sorted by uid and names sorted, so that equal states give equal
 * documents. (transfer full) */
JsonNode *pd_state_to_json (const PdState *state, gint64 now);

/* As much of the state in data as can be read, each child, day and request
 * taken whole or not at all; what was not is counted in losses. Never NULL
 * for valid arguments: nothing readable is an empty state. */
PdState *pd_state_from_json (const char *data, gsize len, PdStateLosses *losses);

/* Members of a JsonBuilder's current object. A string that is not UTF-8 is
 * made valid; NULL becomes null. */
void pd_json_add_int (JsonBuilder *builder, const char *name, gint64 value);
void pd_json_add_string (JsonBuilder *builder, const char *name, const char *value);

/* Typed members of object: FALSE (or NULL) when missing or of any other
 * type. A string must be valid UTF-8; a nullable one may be null (*out
 * NULL). */
gboolean pd_json_get_int (JsonObject *object, const char *name, gint64 *out);
gboolean pd_json_get_string (JsonObject *object, const char *name, gboolean nullable,
                             const char **out);
JsonArray *pd_json_get_array (JsonObject *object, const char *name);

/* The document's top-level object, owned by parser, or NULL with
 * *out_reason set. */
JsonObject *pd_json_parse_document (JsonParser *parser, const char *data, gsize len,
                                    char **out_reason);

G_END_DECLS
