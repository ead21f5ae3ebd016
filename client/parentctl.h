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
  /* Decided once at start, before a pager replaces stdout: */
  gboolean tty;            /* stdout is a terminal */
  gboolean color;          /* stdout is a terminal, NO_COLOR unset, TERM not dumb */
  gboolean utf8;           /* the locale's charset can show box and block characters */
  guint columns;           /* the terminal's width; 0 when stdout is not a terminal */
} PctlOptions;

extern PctlOptions pctl_options;

/* Prints "parentctl: MESSAGE" and a hint to stderr; returns PCTL_EXIT_USAGE. */
int pctl_usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* Prints the daemon's message verbatim (or what to do when it is not
 * running); returns PCTL_EXIT_FAILURE. */
int pctl_fail (const GError *error);

/* "1 h 05 min", "25 min", "40 s": durations the way people read them, in
 * sentences. Seconds show under ten minutes, when there are any. */
char *pctl_format_duration_words (gint64 seconds);
/* "1h30m", "45m", "4m20s", "40s", "-15m": the same in tables and charts,
 * the way the configuration writes them. */
char *pctl_format_duration (gint64 seconds);
/* "HH:MM" today, or "Sat HH:MM" within six days either way, or
 * "YYYY-MM-DD HH:MM", in local time; "-" for 0. */
char *pctl_format_moment (guint64 unix_seconds);
/* The state word of the contract, as shown to people (translated). */
const char *pctl_state_label (const char *state);
/* The kind of a request ("time", "purchase"), as shown to people. */
const char *pctl_request_kind_label (const char *kind);
/* How many terminal columns TEXT takes: two for a wide (CJK) character,
 * none for a combining one. */
glong pctl_display_width (const char *text);

/* --- the terminal (client/output.c) --- */

/* Fills in the terminal fields of pctl_options from stdout and the
 * environment. */
void pctl_terminal_init (void);
/* ANSI sequences, or "" when colour is off. */
const char *pctl_color_for_state (const char *state);
const char *pctl_color_bold (void);
const char *pctl_color_reset (void);
/* Pipes stdout into the pager from here on, when stdout is a terminal and
 * --no-pager was not given; does nothing the second time. */
void pctl_pager_open (void);
/* Closes the pager's pipe and waits for the person to quit it. */
void pctl_pager_close (void);

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
 * --no-legend). The header's words are marked with N_() and translated
 * here. */
typedef struct _PctlTable PctlTable;
PctlTable *pctl_table_new (const char *const *header);
void pctl_table_add (PctlTable *table, const char *const *row);
/* Colours column of the last row added by the contract's state word. */
void pctl_table_color_state (PctlTable *table, guint column, const char *state);
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
int pctl_cmd_usage (int argc, char **argv);

G_END_DECLS
