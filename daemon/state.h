/* The daemon's durable state, as plain data: per-child day records,
 * lock-outs and requests. ledger.c and requests.c change it, store.c saves
 * and loads it; nothing here does I/O. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

#define PD_STATE_VERSION 1

/* One policy day of one child. */
typedef struct {
  char date[11];          /* "YYYY-MM-DD", the date the policy day starts on */
  gint64 used;            /* screen seconds counted */
  gint64 bonus;           /* seconds granted (negative: removed) */
  GHashTable *apps;       /* (owned) app name (owned) -> seconds, as GINT64 in a gint64* (owned) */
  gboolean limit_known;   /* the day was evaluated: limit is the policy's */
  gint64 limit;           /* that day's daily limit (seconds, PD_UNLIMITED), bonus apart */
} PdDayRecord;

/* One purchase attempt, as the purchase log keeps it. The target has no
 * query or fragment: card numbers and tokens live there. */
typedef struct {
  gint64 time;            /* unix seconds of the first attempt */
  char *rule;             /* (owned) */
  char *app;              /* (owned) "" when the process matched no app */
  char *target;           /* (owned) scheme, host and path */
  char *outcome;          /* (owned) held, approved, denied, expired, blocked, logged */
  guint64 request;        /* the purchase request, or 0 */
  guint count;            /* attempts coalesced into this record */
} PdPurchaseRecord;

typedef struct {
  uid_t uid;
  char *name;             /* (owned) login name when last seen */
  GPtrArray *days;        /* (owned) (element-type PdDayRecord) newest first */
  GPtrArray *purchases;   /* (owned) (element-type PdPurchaseRecord) oldest first */
  gint64 locked_until;    /* unix seconds; 0 = none */
  gboolean usage_lost;    /* today's record could not be recovered at start */
} PdChildRecord;

typedef enum {
  PD_REQUEST_TIME,
  PD_REQUEST_PURCHASE,
} PdRequestKind;

typedef enum {
  PD_REQUEST_PENDING,
  PD_REQUEST_APPROVED,
  PD_REQUEST_DENIED,
  PD_REQUEST_EXPIRED,
} PdRequestState;

typedef struct {
  guint64 id;
  uid_t uid;
  PdRequestKind kind;
  PdRequestState state;
  gint64 created;         /* unix seconds */
  gint64 expires;         /* unix seconds: end of the policy day, or the purchase hold */
  gint64 answered;        /* unix seconds; 0 while pending */
  gint64 seconds;         /* time asked (time) or granted (approved) */
  char *reason;           /* (owned) (nullable) */
  GHashTable *details;    /* (owned) string -> GVariant (owned): extra details for ListRequests */
} PdRequest;

typedef struct {
  GHashTable *children;   /* (owned) uid (GUINT_TO_POINTER) -> PdChildRecord (owned) */
  GPtrArray *requests;    /* (owned) (element-type PdRequest) oldest first */
  guint64 next_request_id;
} PdState;

PdState *pd_state_new (void);
void pd_state_free (PdState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdState, pd_state_free)

/* The record of a child, created on first use. */
PdChildRecord *pd_state_child (PdState *state, uid_t uid, const char *name);
PdChildRecord *pd_state_lookup_child (const PdState *state, uid_t uid);
/* The day record for date, created (at its place, newest first) on first use. */
PdDayRecord *pd_child_record_day (PdChildRecord *child, const char *date);
PdDayRecord *pd_child_record_lookup_day (const PdChildRecord *child, const char *date);
gint64 pd_day_record_app (const PdDayRecord *day, const char *app);
void pd_day_record_add_app (PdDayRecord *day, const char *app, gint64 seconds);
/* Appends a purchase record to the child's log (the strings are copied). */
PdPurchaseRecord *pd_child_record_add_purchase (PdChildRecord *child, gint64 time, const char *rule,
                                                const char *app, const char *target,
                                                const char *outcome, guint64 request);
/* Drops days older than oldest_date ("YYYY-MM-DD"), and answered requests
 * created before cutoff. */
void pd_state_prune (PdState *state, const char *oldest_date, gint64 cutoff);

/* A pending request with a given id, for store.c to rebuild saved ones;
 * everyone else uses pd_state_add_request, which assigns the id. */
PdRequest *pd_request_new (guint64 id, uid_t uid, PdRequestKind kind, gint64 created);
void pd_request_free (PdRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PdRequest, pd_request_free)

PdRequest *pd_state_add_request (PdState *state, uid_t uid, PdRequestKind kind, gint64 now);
PdRequest *pd_state_find_request (const PdState *state, guint64 id);

const char *pd_request_kind_to_string (PdRequestKind kind);
const char *pd_request_state_to_string (PdRequestState state);
gboolean pd_request_kind_from_string (const char *text, PdRequestKind *out);
gboolean pd_request_state_from_string (const char *text, PdRequestState *out);

G_END_DECLS
