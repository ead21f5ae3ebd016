/* Shared by bus.c (the pipeline every call goes through, the Manager, the
 * signals) and bus-child.c (the Child objects); no other file includes it. */
#pragma once

#include "daemon/bus.h"

G_BEGIN_DECLS

#define PD_BUS_CHILD_PATH_PREFIX "/org/parentd1/child/"
#define PD_BUS_CHILD_INTERFACE "org.parentd1.Child"
#define PD_BUS_PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
#define PD_BUS_MAX_SECONDS (24 * 60 * 60)

/* Reference-counted (g_rc_box): registrations, name watches and calls
 * waiting for polkit each hold a reference, so pd_bus_free never leaves
 * them pointing at freed memory. engine is NULL once freed. */
struct _PdBus {
  GDBusConnection *connection;  /* (owned) */
  PdEngine *engine;             /* (unowned) (nullable) NULL after pd_bus_free */
  PdAuth *auth;                 /* (unowned) */
  GCancellable *cancellable;    /* (owned) cancelled by pd_bus_free */
  guint manager_id;
  GHashTable *children;         /* (owned) uid -> PdBusChild (owned) */
  GHashTable *subscribers;      /* (owned) unique name (owned) -> Subscriber (owned) */
  GStrv config_errors;          /* (owned) ConfigErrors as last announced */
};

/* user_data of a registration or a name watch. */
typedef struct {
  PdBus *bus;                   /* (owned) a reference */
  uid_t uid;                    /* Child objects */
  char *name;                   /* (owned) (nullable) watched subscriber */
} PdBusTarget;

PdBus *pd_bus_ref (PdBus *bus);
void pd_bus_unref (PdBus *bus);
PdBusTarget *pd_bus_target_new (PdBus *bus, uid_t uid, const char *name);
void pd_bus_target_free (gpointer target);

/* Who may make a call; got_caller in bus.c decides. */
typedef enum {
  PD_ACCESS_NONE,        /* anyone, without even asking who */
  PD_ACCESS_ANY,         /* anyone; the caller's uid is wanted */
  PD_ACCESS_FILTERED,    /* a child: itself only; else view (non-interactive): all; else nothing */
  PD_ACCESS_READ_CHILD,  /* the child itself, or view */
  PD_ACCESS_SELF,        /* the child itself only */
  PD_ACCESS_MANAGE,      /* manage */
} PdBusAccess;

typedef struct _PdBusCall PdBusCall;
/* Returns the reply (NULL: an empty one) or sets error. */
typedef GVariant *(*PdBusCallFunc) (PdBusCall *call, GError **error);

struct _PdBusCall {
  PdBus *bus;                           /* (owned) a reference */
  GDBusMethodInvocation *invocation;    /* (owned) */
  PdBusCallFunc func;
  PdBusAccess access;
  gboolean on_child;
  uid_t child;                          /* valid when on_child */
  uid_t caller;
  gboolean all;                         /* PD_ACCESS_FILTERED: may see every child */
};

typedef struct {
  const char *interface;
  const char *method;
  PdBusAccess access;
  /* Checks the arguments before anything else: they say nothing about
   * anyone, and a wrong call should not cost a password prompt. */
  gboolean (*validate) (GVariant *parameters, GError **error);  /* (nullable) */
  PdBusCallFunc func;
} PdBusMethod;

/* Runs invocation (owned) through methods: validation, identification,
 * authorization by access, then the method's func. */
void pd_bus_dispatch (PdBus *bus, const PdBusMethod *methods, gsize n_methods,
                      GDBusMethodInvocation *invocation, gboolean on_child, uid_t child);
GVariant *pd_bus_call_parameters (PdBusCall *call);
/* FALSE with PD_ERROR_INVALID_ARGS naming what when seconds is out of range. */
gboolean pd_bus_check_seconds (gint64 seconds, gint64 min, gint64 max, const char *what,
                               GError **error);
/* PropertiesChanged with the names only. */
void pd_bus_emit_invalidated (PdBus *bus, const char *path, const char *interface,
                              const char *const *names, gsize n_names);

/* bus-child.c */
char *pd_bus_child_path (uid_t uid);
/* Registers the engine's children in bus->children and unregisters the others. */
gboolean pd_bus_sync_children (PdBus *bus, GError **error);
void pd_bus_child_free (gpointer child);

G_END_DECLS
