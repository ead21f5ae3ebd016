/* auth.c owns caller identity and polkit. Identity comes from the bus
 * (GetConnectionCredentials); authorization from polkit's
 * CheckAuthorization over D-Bus, asynchronously, never blocking the main
 * loop. Every failure to get an answer denies (fail closed). */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define PD_ACTION_MANAGE "org.parentd1.manage"
#define PD_ACTION_VIEW "org.parentd1.view"

typedef struct _PdAuth PdAuth;

/* bus is where callers and polkit (org.freedesktop.PolicyKit1) are. */
PdAuth *pd_auth_new (GDBusConnection *bus);
void pd_auth_free (PdAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdAuth, pd_auth_free)

/* The unix uid of a bus name, from the bus daemon; cached per unique name
 * until the name leaves the bus. */
void pd_auth_get_uid (PdAuth *auth, const char *sender, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);
gboolean pd_auth_get_uid_finish (PdAuth *auth, GAsyncResult *result, uid_t *out_uid,
                                 GError **error);

/* Asks polkit whether sender may do action. interactive lets polkit ask for
 * a password (the caller allowed it: G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION).
 * TRUE: authorized. FALSE with PD_ERROR_ACCESS_DENIED: not authorized, or
 * polkit is absent, failed or did not answer in time; the message says which
 * and what to do. */
void pd_auth_check (PdAuth *auth, const char *sender, const char *action, gboolean interactive,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
gboolean pd_auth_check_finish (PdAuth *auth, GAsyncResult *result, GError **error);

/* Timeouts, for tests: a non-interactive check gives polkit this long. */
void pd_auth_set_timeout (PdAuth *auth, guint noninteractive_ms, guint interactive_ms);

G_END_DECLS
