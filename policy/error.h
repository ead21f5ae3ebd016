/* The one error domain of parentd. Every external error is mapped into it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PD_ERROR (pd_error_quark ())

typedef enum {
  PD_ERROR_FAILED,
  PD_ERROR_INVALID_CONFIG,
  PD_ERROR_INVALID_ARGS,
  PD_ERROR_ACCESS_DENIED,
  PD_ERROR_NO_SUCH_CHILD,
  PD_ERROR_NO_SUCH_REQUEST,
  PD_ERROR_TOO_MANY_REQUESTS,
} PdError;

GQuark pd_error_quark (void);

G_END_DECLS
