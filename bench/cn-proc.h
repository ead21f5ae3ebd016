/* The kernel's proc connector for bench/exec-floor and bench/exec-launch:
 * subscribe, with the kernel's event-type filter where it exists (Linux 6.6
 * and later), and find the event in a message. Plain C and static, without
 * GLib: the floor must cost no more than any listener has to. Needs root
 * (CAP_NET_ADMIN) before Linux 6.6. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>

/* 8 MiB held 20,000 execs of a listener stalled for 3 s (testing.md). */
#define CN_PROC_RCVBUF (8 * 1024 * 1024)

/* Linux 6.6's struct proc_input (Debian 12's headers are 6.1's). */
typedef struct
{
  uint32_t mcast_op;
  uint32_t event_type;
} CnProcInput;

static inline int
cn_proc_kernel_has_filter (void)
{
  struct utsname u;
  int major = 0, minor = 0;

  if (uname (&u) < 0 || sscanf (u.release, "%d.%d", &major, &minor) != 2)
    return 0;
  return major > 6 || (major == 6 && minor >= 6);
}

/* A proc connector socket that receives the events in mask (PROC_EVENT_*,
 * ORed) where the kernel filters, and every event where it does not. The
 * subscription is active when this returns: the kernel handles it within
 * send (2). -1 with errno on failure; *filtered says which it got. */
static inline int
cn_proc_open (uint32_t mask, int *filtered)
{
  struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
  struct {
    struct nlmsghdr nl;
    struct cn_msg cn;
    CnProcInput input;
  } msg;
  int sock, rcvbuf = CN_PROC_RCVBUF, with_filter = cn_proc_kernel_has_filter ();
  size_t payload = with_filter ? sizeof (CnProcInput) : sizeof (uint32_t);

  sock = socket (PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (sock < 0)
    return -1;
  if (setsockopt (sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    (void) setsockopt (sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  addr.nl_pid = 0;   /* the kernel picks a port */
  if (bind (sock, (struct sockaddr *) &addr, sizeof addr) < 0)
    goto fail;

  memset (&msg, 0, sizeof msg);
  msg.nl.nlmsg_len = NLMSG_LENGTH (sizeof (struct cn_msg) + payload);
  msg.nl.nlmsg_type = NLMSG_DONE;
  msg.nl.nlmsg_pid = 0;
  msg.cn.id.idx = CN_IDX_PROC;
  msg.cn.id.val = CN_VAL_PROC;
  msg.cn.len = (uint16_t) payload;
  msg.input.mcast_op = PROC_CN_MCAST_LISTEN;
  msg.input.event_type = mask;
  if (send (sock, &msg, msg.nl.nlmsg_len, 0) < 0)
    goto fail;
  if (filtered != NULL)
    *filtered = with_filter;
  return sock;

fail:
  {
    int saved = errno;

    close (sock);
    errno = saved;
    return -1;
  }
}

/* Where an event's fields are in a message, for the socket filter. */
#define CN_PROC_EVENT_AT (NLMSG_HDRLEN + sizeof (struct cn_msg))
#define CN_PROC_DATA_AT (CN_PROC_EVENT_AT + offsetof (struct proc_event, event_data))

/* A socket filter that drops the events of threads in the kernel (their
 * forks, exits and uid changes), as daemon/procmon.c does, so that a floor
 * which takes parentd's event types also takes only the events parentd
 * takes. -1 with errno on failure. */
static inline int
cn_proc_drop_threads (int sock)
{
  enum { ACCEPT = 13, DROP = 14 };
  struct sock_filter code[] = {
    /* 0 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CN_PROC_EVENT_AT + offsetof (struct proc_event, what)),
    /* 1 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_FORK), 5 - 2, 0),
    /* 2 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_EXIT), 9 - 3, 0),
    /* 3 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, htonl (PROC_EVENT_UID), 9 - 4, 0),
    /* 4 */ BPF_STMT (BPF_JMP | BPF_JA, ACCEPT - 5),
    /* 5 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CN_PROC_DATA_AT + offsetof (struct fork_proc_event, child_pid)),
    /* 6 */ BPF_STMT (BPF_MISC | BPF_TAX, 0),
    /* 7 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CN_PROC_DATA_AT + offsetof (struct fork_proc_event, child_tgid)),
    /* 8 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_X, 0, ACCEPT - 9, DROP - 9),
    /* 9 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CN_PROC_DATA_AT + offsetof (struct exit_proc_event, process_pid)),
    /* 10 */ BPF_STMT (BPF_MISC | BPF_TAX, 0),
    /* 11 */ BPF_STMT (BPF_LD | BPF_W | BPF_ABS, CN_PROC_DATA_AT + offsetof (struct exit_proc_event, process_tgid)),
    /* 12 */ BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_X, 0, ACCEPT - 13, DROP - 13),
    /* ACCEPT */ BPF_STMT (BPF_RET | BPF_K, 0xffffffff),
    /* DROP */ BPF_STMT (BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = { sizeof code / sizeof code[0], code };

  /* uid events keep pid and tgid where exit events keep them. */
  _Static_assert (offsetof (struct id_proc_event, process_tgid) ==
                  offsetof (struct exit_proc_event, process_tgid), "id and exit events differ");
  return setsockopt (sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

/* Copies the event of one received message into *ev (the message's data
 * need not be aligned for it). 0 if it is not a proc event. */
static inline int
cn_proc_event (const void *buf, size_t len, struct proc_event *ev)
{
  const struct nlmsghdr *nl = buf;
  struct cn_msg cn;
  const char *data;

  if (len < NLMSG_LENGTH (sizeof (struct cn_msg)) || !NLMSG_OK (nl, len) ||
      nl->nlmsg_type != NLMSG_DONE)
    return 0;
  data = NLMSG_DATA (nl);
  memcpy (&cn, data, sizeof cn);
  if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC ||
      cn.len < offsetof (struct proc_event, event_data) + 8 ||
      NLMSG_LENGTH (sizeof (struct cn_msg) + cn.len) > len)
    return 0;
  memset (ev, 0, sizeof *ev);
  memcpy (ev, data + sizeof cn, cn.len < sizeof *ev ? cn.len : sizeof *ev);
  return 1;
}
