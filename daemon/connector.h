/* connector.c owns the subscription to the kernel's proc connector, which
 * two listeners hold: procmon.c (every event it follows) and sentry.c
 * (exec events only, on a thread of its own). */
#pragma once

#include <glib.h>
#include <linux/filter.h>

G_BEGIN_DECLS

/* A proc-connector socket (flags: SOCK_NONBLOCK or 0) with filter
 * attached, a receive buffer of rcvbuf_bytes (*out_forced: beyond the
 * system's maximum, which needs CAP_NET_ADMIN), bound to the connector's
 * multicast group. Not subscribed yet. -1 with an error. */
int pd_connector_open (int flags, const struct sock_fprog *filter, int rcvbuf_bytes,
                       gboolean *out_forced, GError **error);

/* Subscribes sock to the events in the mask (PROC_EVENT_*): the legacy
 * way, or with the event-type filter of Linux 6.6 (with_filter). The
 * kernel answers with an event whose ack is cookie + 1. */
gboolean pd_connector_listen (int sock, guint32 cookie, guint32 events, gboolean with_filter);

/* Whether the kernel has the event-type filter (Linux 6.6 and later);
 * older ones ignore such a subscription without a word. */
gboolean pd_connector_has_event_filter (void);

/* Tests: behave as on a kernel without the event-type filter. */
void pd_connector_set_legacy_for_testing (gboolean legacy);

G_END_DECLS
