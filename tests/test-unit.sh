#!/bin/sh
# The shipped systemd unit and data files: systemd-analyze verify must say
# nothing (unknown keys only warn), and the XML files must parse.
set -u
builddir=${top_builddir:-.}
srcdir=${top_srcdir:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "1..4"
n=0
check () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

unit="$tmp/parentd.service"
sed "s|^ExecStart=.*|ExecStart=$builddir/daemon/parentd|" "$builddir/systemd/parentd.service" > "$unit"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify --man=no "$unit" > "$tmp/verify.out" 2>&1
  rc=$?
  # Messages about the host's own units are not ours.
  grep -v -e '^/usr/lib/systemd' -e '^/lib/systemd' -e '^/etc/systemd' "$tmp/verify.out" \
    | grep -v '^$' > "$tmp/verify.ours" || true
  [ $rc = 0 ] && [ ! -s "$tmp/verify.ours" ]
  check $? "systemd-analyze verify parentd.service says nothing"
  sed 's/^/# /' "$tmp/verify.ours"
  systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -1 | sed 's/^/# /'
else
  echo "ok $((n = n + 1)) - systemd-analyze verify # SKIP systemd-analyze is not installed"
fi

grep -q '^Type=notify$' "$unit" && grep -q '^BusName=org.parentd1$' "$unit" && \
  grep -q '^WatchdogSec=' "$unit" && grep -q '^StateDirectory=parentd$' "$unit"
check $? "the unit is Type=notify with BusName, WatchdogSec and StateDirectory"

for f in "$srcdir/data/org.parentd1.conf" "$srcdir/data/org.parentd1.policy"; do
  /usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f" || exit 1
done
check $? "the bus policy and polkit policy are well-formed XML"

grep -q "isInGroup(\"[a-z_][a-z0-9_-]*\")" "$builddir/data/org.parentd1.rules"
check $? "the polkit rules name the configured parents' group"
