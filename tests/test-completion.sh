#!/bin/bash
# The bash completion of parentctl (completion/parentctl), with and without
# the bash-completion package's helpers: completions are computed by calling
# _parentctl the way bash does, against a stub parentctl that prints fixed
# 'list' and 'requests' tables. Speaks TAP; automake's harness sets
# top_srcdir.
set -u

: "${top_srcdir:?top_srcdir must be set}"

SCRIPT="$top_srcdir/completion/parentctl"
BASH_COMPLETION=${BASH_COMPLETION_SCRIPT:-/usr/share/bash-completion/bash_completion}
export LC_ALL=C

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin" "$tmp/files" "$tmp/files/subdir"
touch "$tmp/files/alpha.conf" "$tmp/files/beta.conf"

# The stub: the children and the requests as parentctl prints them with
# --no-legend; every call's arguments go to calls.log. STUB_FAIL=1 plays a
# daemon that cannot be reached.
cat >"$tmp/bin/parentctl" <<STUB
#!/bin/sh
echo "\$*" >>"$tmp/calls.log"
if [ "\${STUB_FAIL:-0}" = 1 ]; then
  echo "parentctl: could not connect to parentd" >&2
  exit 1
fi
for arg; do
  case \$arg in
    list) printf 'alice\nbob\n'; exit 0 ;;
    requests)
      printf '%s\n' \
        '17  alice  time      pending   19:21      20 min: finishing homework' \
        '18  bob    purchase  pending   19:24      steam-purchase-link steam://purchase/730' \
        '12  alice  time      approved  yesterday  15 min: reading'
      exit 0 ;;
  esac
done
exit 2
STUB
chmod +x "$tmp/bin/parentctl"
export PATH="$tmp/bin:$PATH"

n=0

# complete_at MODE LINE: the completions bash would offer at the end of LINE,
# sorted, one a line, in $tmp/out; what the shell wrote to stderr in
# $tmp/err. MODE "full" loads bash-completion first, "plain" does not.
complete_at () {
  last_line="$2 ($1)"
  (cd "$tmp/files" && bash --norc --noprofile -c '
    if [ "$1" = full ]; then . "$2" || exit 99; fi
    . "$3" || exit 98
    line=$4
    COMP_LINE=$line COMP_POINT=${#line} COMP_TYPE=9 COMP_KEY=9
    # As readline splits: "=" is a word of its own (COMP_WORDBREAKS).
    words=${line//=/ = }
    read -ra COMP_WORDS <<<"$words"
    [[ $words == *" " && $line != *= ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _parentctl parentctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
  ' _ "$1" "$BASH_COMPLETION" "$SCRIPT" "$2") >"$tmp/raw" 2>"$tmp/err"
  rc=$?
  sort "$tmp/raw" >"$tmp/out"
}

diagnose () {
  echo "#   completing: '$last_line'"
  echo "#   exit status: $rc"
  sed 's/^/#   offered: /' "$tmp/out"
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

skip () {
  n=$((n + 1))
  echo "ok $n # SKIP $1"
}

# offers WORDS...: exactly these completions (in any order), and a quiet shell.
offers () {
  [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] &&
    [ "$(cat "$tmp/out")" = "$(printf '%s\n' "$@" | sort | sed '/^$/d')" ]
}
# offers_some WORDS...: at least these completions.
offers_some () {
  local word
  [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] || return 1
  for word; do grep -qxF -- "$word" "$tmp/out" || return 1; done
}
offers_nothing () { [ "$rc" -eq 0 ] && [ ! -s "$tmp/err" ] && [ ! -s "$tmp/out" ]; }

check "the script is valid bash" bash -n "$SCRIPT"

commands=(status list apps usage purchases grant lock unlock request requests approve deny reload check-config)
options=(--json --no-ask-password --no-legend --no-pager --days --help --version)

run_checks () {
  local mode=$1 m="($1)"

  complete_at "$mode" "parentctl "
  check "$m no command yet: every command" offers "${commands[@]}"
  complete_at "$mode" "parentctl gr"
  check "$m 'gr': grant" offers grant
  complete_at "$mode" "parentctl re"
  check "$m 're': reload, request, requests" offers reload request requests
  complete_at "$mode" "parentctl --"
  check "$m '--': the global options" offers "${options[@]}"
  complete_at "$mode" "parentctl --no-"
  check "$m '--no-': the three --no- options" offers --no-ask-password --no-legend --no-pager

  : >"$tmp/calls.log"
  complete_at "$mode" "parentctl grant "
  check "$m after grant: the children from 'parentctl list'" offers alice bob
  check "$m the children are asked for without a password prompt" \
    grep -q -- '--no-ask-password' "$tmp/calls.log"
  complete_at "$mode" "parentctl grant al"
  check "$m 'grant al': alice" offers alice
  complete_at "$mode" "parentctl --json status "
  check "$m options before the command are skipped" offers alice bob
  for command in apps usage purchases lock unlock; do
    complete_at "$mode" "parentctl $command "
    check "$m after $command: the children" offers alice bob
  done
  complete_at "$mode" "parentctl grant alice "
  check "$m after 'grant alice': durations, and -15m" offers 15m 30m 1h 2h -15m
  complete_at "$mode" "parentctl grant alice -"
  check "$m after 'grant alice', '-': -15m, a duration, not an option" offers -15m
  complete_at "$mode" "parentctl lock bob "
  check "$m after 'lock bob': durations" offers 15m 30m 1h 2h
  complete_at "$mode" "parentctl request "
  check "$m after request: durations" offers 15m 30m 1h 2h
  complete_at "$mode" "parentctl grant alice 30m "
  check "$m grant takes two arguments, then nothing" offers_nothing
  complete_at "$mode" "parentctl list "
  check "$m list takes no arguments" offers_nothing

  complete_at "$mode" "parentctl approve "
  check "$m after approve: the pending requests' ids" offers 17 18
  complete_at "$mode" "parentctl deny 1"
  check "$m 'deny 1': the pending ids that start with 1" offers 17 18
  complete_at "$mode" "parentctl approve 17 "
  check "$m after 'approve 17': durations" offers 15m 30m 1h 2h

  complete_at "$mode" "parentctl usage alice --days "
  check "$m after --days: numbers of days" offers 1 7 14 30
  complete_at "$mode" "parentctl usage --days="
  check "$m after --days=: numbers of days" offers 1 7 14 30
  complete_at "$mode" "parentctl --days=1"
  check "$m '--days=1': 1 and 14" offers 1 14
  complete_at "$mode" "parentctl --days=7 usage "
  check "$m --days=7 before the command is skipped" offers alice bob

  complete_at "$mode" "parentctl check-config "
  check "$m after check-config: files" offers_some alpha.conf beta.conf
  complete_at "$mode" "parentctl check-config al"
  check "$m 'check-config al': alpha.conf" offers alpha.conf
  complete_at "$mode" "parentctl check-config --"
  check "$m check-config's options: --at and --used too" offers "${options[@]}" --at --used
  complete_at "$mode" "parentctl check-config alpha.conf --used "
  check "$m after --used: durations" offers 15m 30m 1h 2h

  STUB_FAIL=1 complete_at "$mode" "parentctl grant "
  check "$m no daemon: no children, and nothing on the terminal" offers_nothing
  STUB_FAIL=1 complete_at "$mode" "parentctl approve "
  check "$m no daemon: no request ids, and nothing on the terminal" offers_nothing
}

run_checks plain
if [ -r "$BASH_COMPLETION" ]; then
  run_checks full
else
  skip "bash-completion is not installed ($BASH_COMPLETION): the checks with its helpers"
fi

echo "1..$n"
