/* Shared by parentctl's command files. */
#pragma once

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit statuses, as the contract fixes them. */
#define PCTL_EXIT_OK 0
#define PCTL_EXIT_FAILURE 1
#define PCTL_EXIT_USAGE 2

typedef struct {
  gboolean json;
  gboolean no_ask_password;
  gboolean no_legend;
  gboolean no_pager;
  guint days;              /* --days, 0 = the command's default */
} PctlOptions;

extern PctlOptions pctl_options;

/* Prints "parentctl: MESSAGE" and a hint to stderr; returns PCTL_EXIT_USAGE. */
int pctl_usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* Prints the daemon's message verbatim (or what to do when it is not
 * running); returns PCTL_EXIT_FAILURE. */
int pctl_fail (const GError *error);

/* "1 h 05 min", "25 min", "40 s": durations the way people read them. */
char *pctl_format_duration_words (gint64 seconds);
/* "HH:MM" today, or "Sat HH:MM" within a week, or "-" for 0. */
char *pctl_format_moment (guint64 unix_seconds);

/* --- talking to the daemon (client/call.c) --- */

/* Calls a method of parentd on the system bus; interactive authorization
 * unless --no-ask-password. */
GVariant *pctl_call (const char *path, const char *interface, const char *method,
                     GVariant *parameters, const char *reply_type, GError **error);
/* Reads all properties of a child's object. */
GVariant *pctl_child_properties (guint32 uid, GError **error);
/* Resolves a child given by name or uid through ListChildren. */
gboolean pctl_resolve_child (const char *user, guint32 *out_uid, char **out_name, GError **error);
char *pctl_child_path (guint32 uid);

/* --- output (client/output.c) --- */

/* A table: add rows of strings, print aligned with a header (unless
 * --no-legend). */
typedef struct _PctlTable PctlTable;
PctlTable *pctl_table_new (const char *const *header);
void pctl_table_add (PctlTable *table, const char *const *row);
void pctl_table_print (PctlTable *table);
void pctl_table_free (PctlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PctlTable, pctl_table_free)

/* Prints one JSON document and a newline. */
void pctl_print_json (JsonNode *root);
/* An int member, or null when value is negative (unlimited / none). */
void pctl_json_add_int_or_null (JsonBuilder *builder, const char *member, gint64 value);

/* One app of the contract's JSON: {"name","used_today","limit","state"}. */
void pctl_json_add_app (JsonBuilder *builder, const char *name, guint64 used, gint64 limit,
                        const char *state);
/* Says USER is not a child the caller may see; returns PCTL_EXIT_FAILURE. */
int pctl_not_visible (const char *user);

/* --- commands --- */

int pctl_check_config (const char *file, const char *at, const char *used);
int pctl_cmd_status (int argc, char **argv);
int pctl_cmd_list (int argc, char **argv);
int pctl_cmd_grant (int argc, char **argv);
int pctl_cmd_lock (int argc, char **argv);
int pctl_cmd_unlock (int argc, char **argv);
int pctl_cmd_request (int argc, char **argv);
int pctl_cmd_requests (int argc, char **argv);
int pctl_cmd_approve (int argc, char **argv);
int pctl_cmd_deny (int argc, char **argv);
int pctl_cmd_reload (int argc, char **argv);
int pctl_cmd_purchases (int argc, char **argv);
int pctl_cmd_apps (int argc, char **argv);

G_END_DECLS
