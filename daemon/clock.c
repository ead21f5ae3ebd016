/* Clocks and wall-clock jump detection. */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "policy/error.h"

/* More than this between the clocks is a suspend that went unannounced. */
#define SUSPEND_SLACK_US (2 * G_USEC_PER_SEC)

static gint64
read_clock (clockid_t id)
{
  struct timespec ts;

  if (clock_gettime (id, &ts) != 0)
    g_error ("clock_gettime(%d) failed: %s", (int) id, g_strerror (errno));
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

void
pd_clock_tick (PdTick *out)
{
  out->boot_us = read_clock (CLOCK_BOOTTIME);
  out->mono_us = read_clock (CLOCK_MONOTONIC);
}

gint64
pd_clock_elapsed_us (const PdTick *since, const PdTick *now)
{
  gint64 boot = now->boot_us - since->boot_us;
  gint64 mono = now->mono_us - since->mono_us;

  if (boot < 0 || mono < 0)
    return 0;
  return boot - mono > SUSPEND_SLACK_US ? mono : boot;
}

gint64
pd_clock_wall (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

typedef struct {
  int fd;
  PdClockJumpFunc func;
  gpointer user_data;
} JumpWatch;

static gboolean
arm (int fd)
{
  /* An absolute timer far in the future: it never fires, but every setting
   * of the clock cancels it, which is what we wait for. */
  struct itimerspec spec = { .it_value = { .tv_sec = G_MAXINT32 } };

  return timerfd_settime (fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &spec, NULL) == 0;
}

static gboolean
on_jump (int fd, GIOCondition condition, gpointer data)
{
  JumpWatch *watch = data;
  guint64 expirations;

  if (read (fd, &expirations, sizeof expirations) < 0 && errno == ECANCELED)
    watch->func (watch->user_data);
  if (!arm (fd))
    g_warning ("Cannot re-arm the clock watch: %s; clock changes go unnoticed", g_strerror (errno));
  return G_SOURCE_CONTINUE;
}

static void
jump_watch_free (gpointer data)
{
  JumpWatch *watch = data;

  close (watch->fd);
  g_free (watch);
}

guint
pd_clock_watch_jumps (PdClockJumpFunc func, gpointer user_data, GError **error)
{
  JumpWatch *watch;
  int fd = timerfd_create (CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);

  if (fd < 0 || !arm (fd))
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot watch the wall clock: %s",
                   g_strerror (saved));
      return 0;
    }
  watch = g_new0 (JumpWatch, 1);
  watch->fd = fd;
  watch->func = func;
  watch->user_data = user_data;
  return g_unix_fd_add_full (G_PRIORITY_DEFAULT, fd, G_IO_IN, on_jump, watch, jump_watch_free);
}
