#!/bin/sh
# Regenerates the build system from configure.ac and Makefile.am.
set -e
srcdir=$(dirname "$0")
test -n "$srcdir" || srcdir=.
mkdir -p "$srcdir/m4" "$srcdir/build-aux"
autoreconf --force --install --verbose "$srcdir"
if [ -z "$NOCONFIGURE" ]; then
  exec "$srcdir/configure" "$@"
fi
