/* The kernel's proc connector: the socket and the subscription. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "daemon/connector.h"
#include "policy/error.h"

/* Linux 6.6's subscription with an event-type filter (struct proc_input of
 * its <linux/cn_proc.h>; Debian 12's headers are 6.1's, without it). */
typedef struct
{
  guint32 mcast_op;     /* enum proc_cn_mcast_op */
  guint32 event_type;   /* enum proc_cn_event: a mask of PROC_EVENT_* */
} PdProcInput;
G_STATIC_ASSERT (sizeof (PdProcInput) == 8);

static gboolean legacy_for_testing;

int
pd_connector_open (int flags, const struct sock_fprog *filter, int rcvbuf_bytes,
                   gboolean *out_forced, GError **error)
{
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
  int sock = socket (AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | flags, NETLINK_CONNECTOR);
  int err;

  if (sock < 0)
    {
      err = errno;
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot receive process events: %s%s",
                   g_strerror (err), err == EPROTONOSUPPORT ? " (no proc connector)" : "");
      return -1;
    }
  *out_forced = setsockopt (sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof rcvbuf_bytes) == 0;
  if (!*out_forced)
    (void) setsockopt (sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
  /* Attached before bind: no event gets past it. */
  if (setsockopt (sock, SOL_SOCKET, SO_ATTACH_FILTER, filter, sizeof *filter) < 0)
    g_debug ("No socket filter on the proc connector: %s", g_strerror (errno));
  if (bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      err = errno;
      close (sock);
      g_set_error (error, PD_ERROR, PD_ERROR_FAILED, "cannot receive process events: %s",
                   g_strerror (err));
      return -1;
    }
  return sock;
}

gboolean
pd_connector_listen (int sock, guint32 cookie, guint32 events, gboolean with_filter)
{
  union {
    struct nlmsghdr nlh;
    char buf[NLMSG_SPACE (sizeof (struct cn_msg) + sizeof (PdProcInput))];
  } msg;
  PdProcInput input = { PROC_CN_MCAST_LISTEN, events };
  size_t len = with_filter ? sizeof input : sizeof input.mcast_op;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  struct cn_msg *cn = NLMSG_DATA (&msg.nlh);

  memset (&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = NLMSG_LENGTH (sizeof *cn + len);
  msg.nlh.nlmsg_type = NLMSG_DONE;
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->ack = cookie;
  cn->len = (guint16) len;
  memcpy (cn->data, &input, len);
  return sendto (sock, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof kernel) >= 0;
}

gboolean
pd_connector_has_event_filter (void)
{
  struct utsname u;
  guint major = 0, minor = 0;

  if (legacy_for_testing || uname (&u) < 0 || sscanf (u.release, "%u.%u", &major, &minor) != 2)
    return FALSE;
  return major > 6 || (major == 6 && minor >= 6);
}

void
pd_connector_set_legacy_for_testing (gboolean legacy)
{
  legacy_for_testing = legacy;
}
