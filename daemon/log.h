/* Logging: GLib's structured log, which goes to the journal when stderr is
 * connected to it and is readable text on stderr otherwise. Events an
 * administrator may search for carry a MESSAGE_ID:
 *   journalctl MESSAGE_ID=<id>   */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PD_MESSAGE_STARTED          "f5b8b7f5f86b4cb28f9b8d43260c992d"
#define PD_MESSAGE_LIMIT_REACHED    "56f5ba66911d439cb0f42dd3dbc33eea"
#define PD_MESSAGE_LOCK             "88f689dacfbf43a8b37badde4b181457"
#define PD_MESSAGE_CONFIG_REJECTED  "181f26f724e74273a1508bfa2f418085"
#define PD_MESSAGE_CLOCK_JUMP       "8729df3417a147969fb133f89658a8de"
#define PD_MESSAGE_STATE_RECOVERED  "dff4b4adb8c349a688af9790cf3124be"
#define PD_MESSAGE_PURCHASE_HELD    "a21d7daafa734d1ca49667355d4c0f0b"
#define PD_MESSAGE_TAMPER           "f7d79e111b674d26aec48b58b02c0c77"
#define PD_MESSAGE_STATE_UNSAVED    "c4a9484ffd454975932e3b308b344ba3"
#define PD_MESSAGE_REQUEST          "5ba2c4d16878428e84f6102f978bcf55"

/* pd_event (G_LOG_LEVEL_MESSAGE, PD_MESSAGE_LOCK, "PARENTD_CHILD", name,
 *           "MESSAGE", "Locking %s: no time left", name); */
#define pd_event(level, message_id, ...) \
  g_log_structured (G_LOG_DOMAIN, (level), "MESSAGE_ID", (message_id), __VA_ARGS__)

G_END_DECLS
