/* bus.c owns the D-Bus objects: org.parentd1.Manager at /org/parentd1 and
 * one org.parentd1.Child per child at /org/parentd1/child/UID. Every call
 * and property read is authorized (auth.c) before the engine sees it.
 * Signals with a child's data go, unicast, only to subscribers who may
 * read that child. */
#pragma once

#include <gio/gio.h>

#include "daemon/auth.h"
#include "daemon/engine.h"

G_BEGIN_DECLS

typedef struct _PdBus PdBus;

/* Registers the objects on connection; the name is owned by main.c. */
PdBus *pd_bus_new (GDBusConnection *connection, PdEngine *engine, PdAuth *auth, GError **error);
void pd_bus_free (PdBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdBus, pd_bus_free)

/* The engine's events (see PdEngineEvents). */
void pd_bus_child_changed (PdBus *bus, uid_t uid);
void pd_bus_child_signal (PdBus *bus, uid_t uid, const char *name, GVariant *parameters);
void pd_bus_requests_changed (PdBus *bus);
/* Children were added or removed, or ConfigErrors changed. */
void pd_bus_config_changed (PdBus *bus);

G_END_DECLS
