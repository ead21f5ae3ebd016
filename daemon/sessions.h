/* sessions.c owns logind: it follows the sessions of the configured
 * children over D-Bus (never polling, never sd-login) and says, per child,
 * whether screen time counts now. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef struct _PdSessions PdSessions;

/* Called whenever anything about a child's sessions changes: a session
 * appeared or went, or Active, IdleHint, LockedHint, Type or Class changed. */
typedef void (*PdSessionsChangedFunc) (uid_t uid, gpointer user_data);
/* PrepareForSleep: TRUE before suspend, FALSE after resume. */
typedef void (*PdSessionsSleepFunc) (gboolean sleeping, gpointer user_data);

/* Starts following logind on bus (org.freedesktop.login1): ListSessions
 * now and whenever logind (re)appears, then signals only. */
PdSessions *pd_sessions_new (GDBusConnection *bus, PdSessionsChangedFunc changed,
                             PdSessionsSleepFunc sleep, gpointer user_data);
void pd_sessions_free (PdSessions *sessions);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdSessions, pd_sessions_free)

/* The children to follow; count_text[i] says whether tty and ssh sessions
 * of uids[i] count (count_text_sessions). Other users are ignored. */
void pd_sessions_set_children (PdSessions *sessions, const uid_t *uids,
                               const gboolean *count_text, guint n);

/* At least one session of uid counts: class "user", Active, not IdleHint,
 * not LockedHint, graphical or (count_text) text; and the machine is not
 * preparing for sleep. */
gboolean pd_sessions_counting (PdSessions *sessions, uid_t uid);
/* Whether uid has any session that logind does not report locked. */
gboolean pd_sessions_any_unlocked (PdSessions *sessions, uid_t uid);
guint pd_sessions_count (PdSessions *sessions, uid_t uid);
/* Object paths of uid's sessions (those that count_text allows), for
 * enforce.c. (transfer container) */
GPtrArray *pd_sessions_paths (PdSessions *sessions, uid_t uid);
gboolean pd_sessions_sleeping (PdSessions *sessions);
/* Whether logind is on the bus now. While it is not, the last known state
 * stands. */
gboolean pd_sessions_logind_present (PdSessions *sessions);

G_END_DECLS
