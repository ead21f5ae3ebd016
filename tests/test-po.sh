#!/bin/bash
# The translations: each po/LANG.po compiles with its format strings
# checked, covers every message of the sources, and parentctl prints a
# translation from its catalogue in LOCALEDIR (seen through a private mount
# namespace, so nothing is installed). Speaks TAP; automake's harness sets
# top_srcdir and top_builddir.
set -u

: "${top_srcdir:?top_srcdir must be set}" "${top_builddir:?top_builddir must be set}"

PARENTCTL="$top_builddir/client/parentctl"
PO="$top_srcdir/po"
# Languages whose translation is not written yet (issue 6): their
# completeness is a TODO test point. Remove a language once its .po is
# complete, or tools/test counts the unexpected pass as a failure.
todo_langs=" "
export LC_ALL=C.UTF-8

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-po.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0

# point OK DESCRIPTION [DIRECTIVE]: one test point.
point () {
  n=$((n + 1))
  if [ "$1" = yes ]; then
    echo "ok $n - $2${3:+ # $3}"
  else
    echo "not ok $n - $2${3:+ # $3}"
  fi
}

todo_for () {
  case $todo_langs in *" $1 "*) echo "TODO issue 6: $1 is not translated yet" ;; esac
}

if ! command -v msgfmt >/dev/null || ! command -v msgcmp >/dev/null; then
  echo "1..0 # SKIP msgfmt and msgcmp (Debian: gettext) are not installed"
  exit 0
fi

# --- POTFILES.in names every source file with a message for people ----------------

missing=$(cd "$top_srcdir" && grep -lE '(^|[^[:alnum:]_])(N?_|C_|g_dngettext|ngettext) ?\(' \
             client/*.c daemon/*.c policy/*.c |
            grep -vxFf <(grep -v '^#' po/POTFILES.in))
[ -z "$missing" ] && ok=yes || ok=no
point "$ok" "po/POTFILES.in lists every source file with translatable messages"
[ "$ok" = yes ] || sed 's/^/#   not in po\/POTFILES.in: /' <<<"$missing"

# --- each language ------------------------------------------------------------------

for lang in $(grep -v '^#' "$PO/LINGUAS"); do
  po="$PO/$lang.po"
  if msgfmt --check --statistics -o "$tmp/$lang.mo" "$po" 2>"$tmp/stats"; then ok=yes; else ok=no; fi
  point "$ok" "$lang.po compiles, its format strings matching the originals"
  sed 's/^/#   /' "$tmp/stats"

  # "N translated messages." and nothing untranslated or fuzzy.
  grep -qE '^[0-9]+ translated messages?\.$' "$tmp/stats" && ok=yes || ok=no
  point "$ok" "$lang.po is complete" "$(todo_for "$lang")"

  # Until it is translated, 'make -C po update-po' may not have run since
  # the last new message.
  if [ -n "$(todo_for "$lang")" ]; then
    point yes "$lang.po has every message of parentd.pot" "SKIP $lang is not translated yet"
    continue
  fi
  if [ -f "$PO/parentd.pot" ] && msgcmp --use-untranslated "$po" "$PO/parentd.pot" 2>"$tmp/cmp"; then
    ok=yes
  else
    ok=no
  fi
  point "$ok" "$lang.po has every message of parentd.pot ('make -C po update-po' merges them)"
  [ "$ok" = yes ] || head -n 5 "$tmp/cmp" | sed 's/^/#   /'
done

# --- parentctl finds its catalogue in LOCALEDIR -------------------------------------

# The zh_CN catalogue compiled above, where parentctl looks for it; until
# zh_CN is translated, a catalogue of two messages, one of parentctl's own
# and one of policy/'s. LANGUAGE picks it: C.UTF-8 is enough for glibc to
# honour LANGUAGE, and zh_CN.UTF-8 need not be generated.
localedir=$(sed -n 's/^localedir = //p' "$top_builddir/po/Makefile")
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/po/Makefile")
datarootdir=$(sed -n 's/^datarootdir = //p' "$top_builddir/po/Makefile")
localedir=${localedir//\$\{datarootdir\}/$datarootdir}
localedir=${localedir//\$(datarootdir)/$datarootdir}
localedir=${localedir//\$\{prefix\}/$prefix}
localedir=${localedir//\$(prefix)/$prefix}
# The deepest directory of it that exists is the one mounted over.
top=$localedir
while [ "$top" != / ] && [ ! -d "$top" ]; do
  top=$(dirname "$top")
done
mkdir -p "$tmp/over/${localedir#"$top"}/zh_CN/LC_MESSAGES"
cat >"$tmp/test.po" <<'EOF'
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "configuration OK: %s\n"
msgstr "配置无误：%s\n"

msgid "%s, %s, %s (%u patterns)"
msgstr "%s、%s、%s（%u 个模式）"
EOF
catalogue="$tmp/over/${localedir#"$top"}/zh_CN/LC_MESSAGES/parentd.mo"
if [ -f "$tmp/zh_CN.mo" ] && [ -z "$(todo_for zh_CN)" ]; then
  cp "$tmp/zh_CN.mo" "$catalogue"
  translated=yes
else
  msgfmt -o "$catalogue" "$tmp/test.po"
  translated=no
fi

# zh_CN ARGS...: parentctl ARGS with the catalogue mounted over LOCALEDIR.
zh_CN () {
  LANGUAGE=zh_CN PARENTD_RULES_DIR="$top_srcdir/policy/rules.d" \
    unshare -rm sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
    "$tmp/over" "$top" "$PARENTCTL" "$@"
}

if ! grep -q '^#define ENABLE_NLS 1' "$top_builddir/config.h"; then
  point yes "parentctl prints translations" "SKIP built with --disable-nls"
elif [ "$top" = / ] || ! unshare -rm true 2>/dev/null; then
  point yes "parentctl prints translations" "SKIP no private mount namespace here"
else
  zh_CN check-config "$top_srcdir/policy/parentd.conf" >"$tmp/out" 2>&1
  grep -qE '^配置无误：.*、.*（[0-9]+ 个模式）$' "$tmp/out" && ok=yes || ok=no
  point "$ok" "parentctl prints parentctl's and policy/'s messages from its catalogue"
  [ "$ok" = yes ] || sed 's/^/#   output: /' "$tmp/out"

  if [ "$translated" = no ]; then
    point yes "parentctl --help in zh_CN is Chinese" "SKIP zh_CN is not translated yet"
  else
    # Every line of the help that is not a command line or an option is
    # translated: the usage, the commands' summaries and the options'.
    zh_CN --help >"$tmp/help" 2>&1
    grep -qx '用法：parentctl \[选项\] \[命令 \[参数...\]\]' "$tmp/help" &&
      grep -qE '^  status \[USER\] +今天已用和剩余的时间$' "$tmp/help" &&
      grep -qE '^  --json +输出一个 JSON 文档' "$tmp/help" &&
      ! grep -qE '^  [^ ].*  [A-Z][a-z]+ [a-z]' "$tmp/help" && ok=yes || ok=no
    point "$ok" "parentctl --help in zh_CN is Chinese"
    [ "$ok" = yes ] || sed 's/^/#   output: /' "$tmp/help"
  fi
fi

echo "1..$n"
