/* procfacts.c reads what the matcher needs to know about a process from
 * /proc, into fixed buffers (no allocation on the exec path), and sees
 * through the tricks that hide a program: a deleted or replaced binary, a
 * program started through the dynamic loader or an interpreter (the real
 * program is in argv). A renamed copy is identity.h's. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "policy/matcher.h"

G_BEGIN_DECLS

#define PD_FACTS_PATH_MAX 4096
#define PD_FACTS_ARGS_MAX 8192

/* The facts of one process, in place. Reused from exec to exec. */
typedef struct {
  PdProcessFacts facts;            /* points into the buffers below */
  char exe[PD_FACTS_PATH_MAX];
  char comm[32];
  char args[PD_FACTS_ARGS_MAX];    /* NUL-separated, possibly cut */
  char cmdline[PD_FACTS_ARGS_MAX];
  char app_id[256];
  char flatpak_id[256];
  /* The program an interpreter or ld.so was asked to run (argv), resolved
   * against the process's working directory (as /proc/PID/cwd reads to
   * parentd); empty if none. */
  char program[PD_FACTS_PATH_MAX];
} PdFactsBuffer;

/* Reads exe, comm, argv, cgroup (app ID) and the Flatpak ID of pid. FALSE
 * when the process vanished meanwhile (normal for short-lived ones), or has
 * exited (a zombie), or is a kernel thread. */
gboolean pd_facts_read (pid_t pid, PdFactsBuffer *out);

/* The program file that exe (an interpreter such as python3 or sh, java's
 * -jar, or the dynamic loader) runs according to its argument vector (args,
 * NUL-separated, as in PdProcessFacts), made absolute against cwd when it is
 * relative. Writes into buf; FALSE when exe is none of those, runs no file
 * (python3 -c, -m), or the path does not fit. Pure: reads no file. */
gboolean pd_facts_find_program (const char *exe, const char *args, gsize args_len,
                                const char *cwd, char *buf, gsize buflen);

/* The program argument that pd_facts_find_program reads, as the process
 * gave it (not made absolute: identity.c opens it in the process's own root
 * or working directory); points into args. NULL as there. */
const char *pd_facts_program_arg (const char *exe, const char *args, gsize args_len);

/* /proc (O_PATH), opened once and kept: every read of a process, here and
 * in identity.c, goes through it. */
int pd_facts_proc_dir (void);

G_END_DECLS
