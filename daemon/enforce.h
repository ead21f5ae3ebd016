/* enforce.c owns the actions taken on a child's sessions through logind:
 * locking and ending them. Fire and forget: a failure is logged, and the
 * next check acts again. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* org.freedesktop.login1.Session.Lock on each session path. */
void pd_enforce_lock (GDBusConnection *bus, GPtrArray *session_paths);
/* org.freedesktop.login1.Session.Terminate on each session path. */
void pd_enforce_logout (GDBusConnection *bus, GPtrArray *session_paths);

G_END_DECLS
