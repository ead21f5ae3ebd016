/* clock.c owns every clock read of the daemon, and notices when someone
 * sets the wall clock. The policy never reads a clock: the engine passes
 * what it gets here. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A moment on the two clocks that do not jump: CLOCK_BOOTTIME (runs
 * through suspend) and CLOCK_MONOTONIC (stops during suspend). */
typedef struct {
  gint64 boot_us;
  gint64 mono_us;
} PdTick;

void pd_clock_tick (PdTick *out);
/* Microseconds of use between two ticks. Suspend never counts: the daemon
 * stops counting at PrepareForSleep, and if that signal was missed the
 * difference between the two clocks gives the suspend away. */
gint64 pd_clock_elapsed_us (const PdTick *since, const PdTick *now);

/* Wall time, unix seconds. */
gint64 pd_clock_wall (void);

typedef void (*PdClockJumpFunc) (gpointer user_data);
/* Calls func whenever the wall clock is set (a timerfd with
 * TFD_TIMER_CANCEL_ON_SET). Returns a source id; 0 with error when timerfd
 * is unavailable. */
guint pd_clock_watch_jumps (PdClockJumpFunc func, gpointer user_data, GError **error);

G_END_DECLS
