/* Shared between the two halves of the loader: loader.c (sources, lines,
 * sections) and keys.c (what each key means). Not for anyone else. */
#pragma once

#include "policy/loader.h"

G_BEGIN_DECLS

typedef enum {
  PD_SECTION_NONE,      /* before the first header */
  PD_SECTION_INVALID,   /* a bad header: its keys are skipped, it was reported once */
  PD_SECTION_DAEMON,
  PD_SECTION_CHILD,
  PD_SECTION_APP,
  PD_SECTION_PURCHASE,
} PdSectionKind;

/* What keys.c keeps about a child while sources are still coming: how
 * specific each per-day value is, and app names to resolve at the end. */
typedef struct {
  PdChild *child;                 /* (unowned) owned by the config */
  guint8 limit_spec[PD_DAYS];     /* days the setting covered: fewer wins */
  guint8 hours_spec[PD_DAYS];
  GPtrArray *app_limits_list;     /* (owned) (element-type AppLimitBuild) */
  GPtrArray *blocked;             /* (owned) (element-type AppRef) */
  GPtrArray *always;              /* (owned) (element-type AppRef) */
} PdChildBuild;

struct _PdLoader {
  PdUserLookup lookup_user;
  gpointer lookup_data;
  PdConfig *config;       /* (owned) being built */
  GPtrArray *errors;      /* (owned) (element-type utf8) "FILE:LINE: message" */
  GPtrArray *children;    /* (owned) (element-type PdChildBuild) */
  GHashTable *bad_rules;  /* (owned) rules with a rejected match line: "no patterns" would only repeat it */
};

/* The parse position within one source, as keys.c needs it: the file and
 * the section being read. */
typedef struct {
  const char *file;           /* interned */
  PdSourceKind kind;
  PdSectionKind section;
  guint section_line;
  const char *section_id;     /* interned "child alice", for messages and duplicates */
  PdChildBuild *child;        /* (unowned) for [child] */
  PdRule *rule;               /* (unowned) for [app] and [purchase] */
  GHashTable *seen;           /* (owned) "section\nkey" set in this source */
} PdSection;

typedef struct {
  char *key;          /* (owned) */
  const char *value;  /* whole value, continuation lines joined */
  guint line;         /* where the key stands */
} PdEntry;

void pd_loader_error (PdLoader *loader, const char *file, guint line, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

void pd_begin_section (PdLoader *loader, PdSection *source, const char *name);
void pd_apply_entry (PdLoader *loader, PdSection *source, const PdEntry *entry);
gboolean pd_key_is_comma_list (const char *key);
void pd_resolve_references (PdLoader *loader);
void pd_child_build_free (gpointer build);

G_END_DECLS
