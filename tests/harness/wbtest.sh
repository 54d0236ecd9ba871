# The shell tests' shared scaffolding (tests/cli/*.sh), sourced:
#
#   . "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
#
# Sets WB (the wordbank command, from WB_BIN) and ROOT (the source tree); T, a
# temporary folder removed at exit (with the fake server FAKE_PID, if a test
# started one); an environment of the test's own: HOME and the cache in T, no
# key, word bank or media folder from the caller, the API base URLs pointing
# at a closed loopback port. Then TAP: ok, skip, bad, check, run / chk, finish; and wb /
# has / hasnt / expect, which run wordbank and check its exit status and its
# stderr for sanitizer reports. A script may redefine any of them after
# sourcing this file.
set -u
WB=$(readlink -f "${WB_BIN:?}")
ROOT=${WB_SOURCE_ROOT:?}
T=$(mktemp -d)
FAKE_PID=
th_cleanup() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    chmod -R u+w "$T" 2>/dev/null
    rm -rf "$T"
}
trap th_cleanup EXIT
export HOME="$T" XDG_CACHE_HOME="$T/cache"
unset GEMINI_API_KEY GOOGLE_API_KEY OPENAI_API_KEY WORDBANK_MEDIA WORDBANK_DB
export GEMINI_BASE_URL=http://127.0.0.1:9 OPENAI_BASE_URL=http://127.0.0.1:9/v1

# ---- TAP ----
n=0 failed=0
WHY=
ok() { n=$((n+1)); echo "ok $n - $1"; }
skip() { n=$((n+1)); echo "ok $n - $1 # SKIP $2"; }
# bad NAME [DETAIL...]: a failed line; the last 15 lines of each DETAIL follow
# as comments.
bad() {
    n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $1"; shift
    for l in "$@"; do printf '%s\n' "$l" | tail -15 | sed 's/^/# /'; done
}
# check NAME COMMAND...: one line, ok when COMMAND succeeds; otherwise WHY (set
# by wb, has, hasnt) is its detail.
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$WHY"; fi; WHY=; }
# run COMMAND...: any command, its stdout in $T/out, its stderr in $T/err, its
# exit status in rc (for checks on files rather than on one wordbank call).
rc=0
run() { "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# chk NAME TEST...: one line, ok when TEST succeeds; otherwise the last run's
# exit status, stdout and stderr are its detail.
chk() {
    local name=$1; shift
    if "$@"; then ok "$name"; else
        bad "$name" "exit $rc" "$(sed 's/^/stdout: /' "$T/out" 2>/dev/null | head -15)" \
            "$(sed 's/^/stderr: /' "$T/err" 2>/dev/null | head -15)"
    fi
}
# finish: the plan; exits 1 when a line failed.
finish() { echo "1..$n"; exit $((failed > 0)); }

# ---- wordbank runs ----
SANITIZER_RE='ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:DEADLYSIGNAL'
# sanitized FILE: FILE (a program's stderr) holds no sanitizer report.
sanitized() { ! grep -qE "$SANITIZER_RE" "$1"; }

# wb RC [ARGS...]: runs wordbank; OUT and ERR hold its stdout and stderr, RC
# its exit status. True when the status is RC and stderr has no sanitizer
# report; otherwise WHY says what happened.
OUT= ERR= RC=
wb() {
    local want=$1; shift
    "$WB" "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out") ERR=$(cat "$T/.err")
    if ! sanitized "$T/.err"; then
        WHY="sanitizer report from: wordbank $*
$ERR"
        return 1
    fi
    if [ "$RC" != "$want" ]; then
        WHY="wordbank $* exited $RC, expected $want
$ERR"
        return 1
    fi
    return 0
}
# has TEXT / hasnt TEXT: stdout+stderr of the last wb contain TEXT (or not).
has() { grep -qF -- "$1" <<<"$OUT
$ERR" || { WHY="no '$1' in: $OUT
$ERR"; return 1; }; }
hasnt() { ! grep -qF -- "$1" <<<"$OUT
$ERR" || { WHY="'$1' found in: $OUT
$ERR"; return 1; }; }
# expect NAME RC ARGS...: one TAP line for the status (and no sanitizer report).
expect() { local name=$1; shift; check "$name" wb "$@"; }
