#!/bin/bash
# The validation commands end to end: the real parentd --check-config and
# parentctl check-config on real files, drop-in and rule-set directories.
# Speaks TAP; automake's harness sets top_srcdir and top_builddir.
set -u

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"

PARENTD="$top_builddir/daemon/parentd"
PARENTCTL="$top_builddir/client/parentctl"
SHIPPED_RULES="$top_srcdir/policy/rules.d"
DEFAULT_CONF="$top_srcdir/policy/parentd.conf"
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
export TZ=UTC LC_ALL=C.UTF-8

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-check-config.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
# Every parentctl below sees only the rule sets a test gives it.
export PARENTD_RULES_DIR="$tmp/no-rules"
mkdir "$tmp/no-rules" "$tmp/no-config-dir"

# --- TAP helpers ---------------------------------------------------------------

# run CMD...: runs it, keeping stdout in $tmp/out, stderr in $tmp/err and the
# exit status in $rc.
run () {
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  last_cmd="$*"
}

diagnose () {
  echo "#   command: $last_cmd"
  echo "#   exit status: $rc"
  sed 's/^/#   stdout: /' "$tmp/out"
  sed 's/^/#   stderr: /' "$tmp/err"
}

# check DESCRIPTION CMD...: one test point; CMD decides.
check () {
  local description=$1
  shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $description"
  else
    echo "not ok $n - $description"
    diagnose
  fi
}

status_is () { [ "$rc" -eq "$1" ]; }
stdout_is () { [ "$(cat "$tmp/out")" = "$1" ]; }
stdout_has () { grep -qE -- "$1" "$tmp/out"; }
stderr_has () { grep -qF -- "$1" "$tmp/err"; }
stderr_empty () { [ ! -s "$tmp/err" ]; }
# status_and CODE CMD...: the exit status was CODE and CMD holds too.
status_and () { [ "$rc" -eq "$1" ] && shift && "$@"; }
stdout_empty () { [ ! -s "$tmp/out" ]; }

# The "(N patterns)" / "N apps" numbers of the summary line in stdout.
summary_number () { sed -n "s/^configuration OK: .*[ (]\([0-9]*\) $1.*/\1/p" "$tmp/out"; }

# check-config with parentd, given a main file, a config dir and rules.
parentd_check () { run "$PARENTD" --check-config --config "$1" --config-dir "$2" --rules-dir "$3"; }

# --- the shipped default configuration ----------------------------------------

parentd_check "$DEFAULT_CONF" "$tmp/no-config-dir" "$SHIPPED_RULES"
check "parentd: shipped parentd.conf and rules.d pass" status_is 0
check "parentd: shipped configuration prints one summary line" \
  stdout_has '^configuration OK: 0 children, [1-9][0-9]* apps, [1-9][0-9]* purchase rules \([1-9][0-9]* patterns\)$'
check "parentd: shipped configuration writes nothing to stderr" stderr_empty
shipped_summary=$(cat "$tmp/out")
shipped_apps=$(summary_number apps)

PARENTD_RULES_DIR="$SHIPPED_RULES" run "$PARENTCTL" check-config "$DEFAULT_CONF"
check "parentctl: shipped parentd.conf and rules.d pass" status_is 0
same_summary () { [ -n "$shipped_summary" ] && stdout_is "$shipped_summary"; }
check "parentctl: summary line equals parentd's" same_summary

# --- a configuration with mistakes on known lines -------------------------------

bad="$tmp/bad.conf"
cat >"$bad" <<'EOF'
# mistakes on known lines; the line numbers below are what is tested
[daemon]
day_start_at = 04:00
grace = 5 minutes

[child bob]
uid = 61002
daily_limt = 2h
allowed_hours = 07:00-25:00
blocked_apps = mygam
on_limit = lok
purchases = maybe

[ap games]
match = comm:foo

[app mygame]
match = com:mygame
match = comm:mygame

[child pd-no-such-user]
daily_limit = 1h
EOF
parentd_check "$bad" "$tmp/no-config-dir" "$tmp/no-rules"
check "errors: exit status 1" status_is 1
check "errors: nothing on stdout" stdout_empty
check "errors: unknown daemon key at line 3 with suggestion" \
  stderr_has "$bad:3: unknown key 'day_start_at' in [daemon]; did you mean 'day_starts_at'?"
check "errors: bad duration at line 4" stderr_has "$bad:4: grace: "
check "errors: misspelt child key at line 8 with suggestion" \
  stderr_has "$bad:8: unknown key 'daily_limt' in [child bob]; did you mean 'daily_limit'?"
check "errors: bad clock time at line 9" stderr_has "$bad:9: allowed_hours: "
check "errors: unknown app at line 10 with suggestion" \
  stderr_has "$bad:10: unknown app 'mygam' in [child bob]; did you mean 'mygame'?"
check "errors: bad on_limit value at line 11 with suggestion" \
  stderr_has "$bad:11: on_limit: unknown value 'lok'; did you mean 'lock'?"
check "errors: bad purchases value at line 12" stderr_has "$bad:12: purchases: unknown value 'maybe'"
check "errors: unknown section at line 14 with suggestion" \
  stderr_has "$bad:14: unknown section [ap games]; did you mean [app games]?"
check "errors: unknown match kind at line 18 with suggestion" \
  stderr_has "$bad:18: match: unknown match kind 'com'; did you mean 'comm'?"
check "errors: unknown user at its section header, line 21" \
  stderr_has "$bad:21: unknown user 'pd-no-such-user'"
n_lines=$(grep -cE "^$bad:[0-9]+: " "$tmp/err")
check "errors: every message but the total is FILE:LINE: message" \
  [ "$n_lines" -eq "$(($(wc -l <"$tmp/err") - 1))" ]
check "errors: the total counts exactly the 10 errors" \
  [ "$n_lines" -eq 10 -a "$(tail -n 1 "$tmp/err")" = "configuration rejected: 10 errors" ]
cp "$tmp/err" "$tmp/parentd-errors"

run "$PARENTCTL" check-config "$bad"
check "parentctl errors: exit status 1" status_is 1
same_errors () { [ -s "$tmp/err" ] && cmp -s "$tmp/err" "$tmp/parentd-errors"; }
check "parentctl errors: same messages as parentd" same_errors

# --- drop-ins in the config dir ---------------------------------------------------

cfg="$tmp/cfg"
mkdir -p "$cfg/parentd.conf.d"
cat >"$cfg/parentd.conf" <<'EOF'
[child alice]
uid = 61001
blocked_apps = no-such-app
EOF
# Lexical order: 50 before 60, whatever order the files were made in. The
# empty "match =" in 60 clears what 50 added: 1 pattern if 60 comes last,
# 3 if it came first.
cat >"$cfg/parentd.conf.d/60-second.conf" <<'EOF'
[app x]
match =
match = comm:c
EOF
cat >"$cfg/parentd.conf.d/50-first.conf" <<'EOF'
[app x]
match = comm:a, comm:b

[child alice]
blocked_apps = x
EOF
echo 'not a configuration: not read' >"$cfg/parentd.conf.d/README"
parentd_check "$cfg/parentd.conf" "$cfg" "$tmp/no-rules"
check "drop-ins: a drop-in overrides the main file" status_is 0
check "drop-ins: read in lexical order, the later one overriding" \
  stdout_has '^configuration OK: 1 child, 1 app, 0 purchase rules \(1 patterns?\)$'

printf '[child alice]\ndaily_limit = lots\n' >"$cfg/parentd.conf.d/70-bad.conf"
parentd_check "$cfg/parentd.conf" "$cfg" "$tmp/no-rules"
check "drop-ins: an error names the drop-in file and line" \
  stderr_has "$cfg/parentd.conf.d/70-bad.conf:2: daily_limit: "
check "drop-ins: an error in a drop-in rejects the whole configuration" status_is 1

# --- rule sets: copies of the shipped ones, replaced and masked by the admin ------------

shipped="$tmp/shipped-rules"
admin="$tmp/admin"
mkdir -p "$admin/rules.d"
cp -r "$SHIPPED_RULES" "$shipped"
game=$(sed -n 's/^\[app \([^]]*\)\].*/\1/p' "$shipped/games.conf" | head -n 1)
n_game_apps=$(grep -c '^\[app ' "$shipped/games.conf")
printf '[child alice]\nuid = 61001\napp_limit.%s = 1h\n' "$game" >"$admin/parentd.conf"

parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: a copy of the shipped rules gives the same counts" \
  [ "$rc" -eq 0 -a -n "$shipped_apps" -a "$(summary_number apps)" = "$shipped_apps" ]
total_patterns=$(summary_number patterns)

ln -s /dev/null "$admin/rules.d/games.conf"
parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: masking games.conf makes its apps unknown" \
  stderr_has "$admin/parentd.conf:3: unknown app '$game' in [child alice]"
rm "$admin/parentd.conf"
parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: a /dev/null symlink masks every app of the file" \
  [ "$rc" -eq 0 -a "$(summary_number apps)" -eq "$((shipped_apps - n_game_apps))" ]
masked_patterns=$(summary_number patterns)

rm "$admin/rules.d/games.conf"
printf '# the admin'"'"'s own games.conf\n[app %s]\nmatch = comm:only-this\n' "$game" \
  >"$admin/rules.d/games.conf"
parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: an admin file of the same name replaces the shipped one" \
  [ "$rc" -eq 0 -a "$(summary_number apps)" -eq "$((shipped_apps - n_game_apps + 1))" \
    -a "$(summary_number patterns)" -eq "$((masked_patterns + 1))" ]

rm "$admin/rules.d/games.conf"
printf '[app pd-extra]\nmatch = comm:pd-extra\n' >"$admin/rules.d/zz-extra.conf"
parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: an admin file of a new name is added" \
  [ "$rc" -eq 0 -a "$(summary_number apps)" -eq "$((shipped_apps + 1))" \
    -a "$(summary_number patterns)" -eq "$((total_patterns + 1))" ]

printf '[app pd-extra]\nmatch = comm:pd-extra\n\n[child eve]\nuid = 61005\n' \
  >"$admin/rules.d/zz-extra.conf"
parentd_check "$admin/parentd.conf" "$admin" "$shipped"
check "rules.d: a [child] in a rule set is an error at its line" \
  status_and 1 stderr_has "$admin/rules.d/zz-extra.conf:4: [child eve] does not belong in a rule set"

# --- values continued on indented lines ---------------------------------------

cont="$tmp/continued.conf"
cat >"$cont" <<'EOF'
[app cont]
match = comm:a,
    comm:b,
  comm:c
match = comm:d

[child dave]
uid = 61003
allowed_hours = 07:00-08:00,
    19:00-20:30
blocked_apps = cont
EOF
run "$PARENTCTL" check-config "$cont" --at "2025-06-04 19:30"
check "continuation: accepted" status_is 0
check "continuation: every continued pattern is kept" \
  stdout_has '^configuration OK: 1 child, 1 app, 0 purchase rules \(4 patterns\)$'
check "continuation: a continued range is in force" stdout_has '^dave at 19:30 .*allowed until 20:30'

printf '[child dave]\nuid = 61003\nallowed_hours = 07:00-08:00,\n    19:00-26:00\ndaily_limit = 2h\n' >"$cont"
run "$PARENTCTL" check-config "$cont"
check "continuation: an error in a continued value is reported at its key's line" \
  status_and 1 stderr_has "$cont:3: allowed_hours: "

# --- lines longer than inih's 200 characters ------------------------------------

long="$tmp/long.conf"
patterns=$(for i in $(seq 1 29); do printf 'comm:long-game-%02d, ' "$i"; done)
{
  echo "[app long]"
  echo "match = ${patterns}comm:the-last-one"
  echo "[child frank]"
  echo "uid = 61006"
  echo "blocked_apps = long"
} >"$long"
line_length=$(sed -n 2p "$long" | wc -c)
run "$PARENTCTL" check-config "$long"
check "long line: a ${line_length}-character line is accepted" status_is 0
check "long line: all 30 patterns are kept, the last one too" \
  stdout_has '^configuration OK: 1 child, 1 app, 0 purchase rules \(30 patterns\)$'

sed -i 's/comm:the-last-one/kind:the-last-one/; $a daily_limit = lots' "$long"
run "$PARENTCTL" check-config "$long"
check "long line: an error at its very end is reported at its line" \
  stderr_has "$long:2: match: unknown match kind 'kind'"
check "long line: line numbers after it stay right" stderr_has "$long:6: daily_limit: "

{
  echo "[app long]"
  echo "match = comm:first,"
  echo "    ${patterns}comm:the-last-one"
} >"$long"
run "$PARENTCTL" check-config "$long"
check "long line: a long continuation line keeps every pattern" \
  stdout_has '^configuration OK: 0 children, 1 app, 0 purchase rules \(31 patterns\)$'

# --- evaluation at a moment ------------------------------------------------------

eval_conf="$tmp/eval.conf"
cat >"$eval_conf" <<'EOF'
[child alice]
uid = 61001
daily_limit = 1h30m
daily_limit.weekend = 3h
allowed_hours = 07:00-20:30
EOF
run "$PARENTCTL" check-config "$eval_conf" --at "2025-06-07 19:55" --used 2h35m
check "--at: Saturday uses the weekend limit" \
  stdout_has '^alice at 19:55 on Saturday 2025-06-07: 25 min left; allowed until 20:30'
run "$PARENTCTL" check-config "$eval_conf" --at "2025-06-04 21:00"
check "--at: outside allowed hours says when they start" \
  stdout_has '^alice at 21:00 on Wednesday 2025-06-04: outside allowed hours; allowed again from 07:00'

# --- no main file -------------------------------------------------------------------

parentd_check "$tmp/no-such.conf" "$tmp/no-config-dir" "$tmp/no-rules"
check "missing --config: an empty configuration, exit 0" \
  stdout_is "configuration OK: 0 children, 0 apps, 0 purchase rules (0 patterns)"
run "$PARENTCTL" check-config "$tmp/no-such.conf"
check "parentctl: a FILE that does not exist is an error, exit 1" \
  status_and 1 stderr_has "$tmp/no-such.conf"

# --- usage errors, --help, --version ------------------------------------------------

run "$PARENTD" --no-such-option
check "parentd: unknown option is a usage error, exit 2" \
  status_and 2 stderr_has "Try 'parentd --help'"
run "$PARENTD" --check-config stray-argument
check "parentd: a stray argument is a usage error, exit 2" status_is 2
run "$PARENTCTL" --no-such-option
check "parentctl: unknown option is a usage error, exit 2" \
  status_and 2 stderr_has "Try 'parentctl --help'"
run "$PARENTCTL" no-such-command
check "parentctl: unknown command is a usage error, exit 2" \
  status_and 2 stderr_has "no-such-command"
run "$PARENTCTL" check-config one two
check "parentctl: two FILEs are a usage error, exit 2" status_is 2
run "$PARENTCTL" check-config "$eval_conf" --at "tomorrow"
check "parentctl: a bad --at is a usage error, exit 2" status_is 2
run "$PARENTCTL" check-config "$eval_conf" --at "2025-06-04 12:00" --used lots
check "parentctl: a bad --used is a usage error, exit 2" status_is 2
run "$PARENTCTL" check-config "$eval_conf" --used 1h
check "parentctl: --used without --at is a usage error, exit 2" status_is 2

run "$PARENTD" --help
check "parentd --help: exit 0 and lists --check-config" status_and 0 stdout_has '--check-config'
run "$PARENTCTL" --help
check "parentctl --help: exit 0 and lists check-config" status_and 0 stdout_has 'check-config'
run "$PARENTD" --version
check "parentd --version: prints the version" status_and 0 stdout_is "parentd $VERSION"
run "$PARENTCTL" --version
check "parentctl --version: prints the version" status_and 0 stdout_is "parentctl $VERSION"

echo "1..$n"
