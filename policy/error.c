/* The parentd error domain. */
#include "config.h"

#include "policy/error.h"

G_DEFINE_QUARK (pd-error-quark, pd_error)
