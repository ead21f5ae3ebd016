/* requests.c owns the rules of requests on the state: filing a child's
 * request for time (rate limits, the reason's shape), answering, expiring,
 * and listing. No I/O and no clock: moments are arguments. */
#pragma once

#include <glib.h>

#include "daemon/state.h"

G_BEGIN_DECLS

#define PD_REQUESTS_MAX_PENDING 3
#define PD_REQUESTS_MIN_INTERVAL 60   /* seconds between two requests of a child */
#define PD_REQUESTS_REASON_MAX 200    /* characters */
#define PD_REQUESTS_LISTED 50         /* answered requests ListRequests shows, newest */

/* The reason as stored: control characters dropped, at most 200
 * characters. NULL with PD_ERROR_INVALID_ARGS if not UTF-8. */
char *pd_requests_clean_reason (const char *reason, GError **error);

/* Files a time request; expires is the end of the child's day. Fails with
 * PD_ERROR_TOO_MANY_REQUESTS past the limits. */
PdRequest *pd_requests_file_time (PdState *state, uid_t uid, gint64 seconds, const char *reason,
                                  gint64 now, gint64 expires, GError **error);

/* The pending request id, or an error: PD_ERROR_NO_SUCH_REQUEST for an
 * unknown id, or one already answered or expired (the message says which
 * and when). */
PdRequest *pd_requests_pending (PdState *state, guint64 id, GError **error);

/* Marks pending requests past their expiry as expired; returns them
 * (transfer container), possibly empty. */
GPtrArray *pd_requests_expire (PdState *state, gint64 now);
/* The earliest expiry among pending requests, or 0. */
gint64 pd_requests_next_expiry (const PdState *state);

typedef const char *(*PdNameFunc) (uid_t uid, gpointer user_data);
/* ListRequests: a(tustsa{sv}), oldest first; every request when all, else
 * those of uid: all pending ones and the PD_REQUESTS_LISTED most recent
 * answered ones. Details: "child" (s), and for time requests "seconds" (t)
 * and "reason" (s). */
GVariant *pd_requests_list (const PdState *state, gboolean all, uid_t uid, PdNameFunc name_of,
                            gpointer user_data);

G_END_DECLS
