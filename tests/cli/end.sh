#!/usr/bin/env bash
# How the command ends (src/cli/memory.c, cli_end): once its work is committed,
# the word bank closed and its output written, the process ends at once; it
# does not free what it holds piece by piece nor run the libraries' exit
# handlers (a destructor loaded with LD_PRELOAD, tests/cli/exit_probe.c,
# leaves a mark only when they run). Its output, its exit status and its word
# bank are whole all the same: stdout through a pipe is flushed, the status is
# the command's, and the bank's log files are gone (it was closed). Builds
# with a sanitizer free everything and exit normally (not run there: meson.build).
# shellcheck source=../harness/wbtest.sh
. "${WB_SOURCE_ROOT:?}/tests/harness/wbtest.sh"
cd "$T" || exit 1
: "${WB_EXIT_PROBE_LIB:?}"
mark="$T/exit-handlers-ran"

# probe RC ARGS...: wordbank alone with the probe loaded (the mark starts
# absent); OUT, ERR and RC as wb sets them.
probe() {
    local want=$1; shift
    rm -f "$mark"
    LD_PRELOAD=$WB_EXIT_PROBE_LIB WB_EXIT_PROBE=$mark "$WB" "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out") ERR=$(cat "$T/.err")
    [ "$RC" = "$want" ] || { WHY="wordbank $* exited $RC, expected $want
$ERR"; return 1; }
}

# The probe itself works: a program that exits normally leaves the mark.
rm -f "$mark"
LD_PRELOAD=$WB_EXIT_PROBE_LIB WB_EXIT_PROBE=$mark /bin/true
check "the probe marks a normal exit (/bin/true)" test -e "$mark"

check "--version exits 0" probe 0 --version
check "...and prints the version" has "wordbank "
check "--version ends without the exit handlers" test ! -e "$mark"

# A generation run offline: its summary (JSON on a pipe) is whole, the work is
# in the bank, and the bank was closed (no -wal or -shm file left).
printf -- '- 猫: cat (the pet)\n' > words.txt
check "propagate --json offline exits 0" probe 0 --provider offline --db gen.db propagate words.txt --json --progress never
check "...and ends without the exit handlers" test ! -e "$mark"
check "...its JSON summary is whole on a pipe" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["status"] == "done" and v["entries_done"] == 1, v' "$OUT"
check "...the bank was closed (no log files left)" test ! -e gen.db-wal -a ! -e gen.db-shm
expect "list --json of that bank is 0" 0 --db gen.db list --json
check "...and shows the entry with its details and audio" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert [e["word"] for e in v] == ["猫"], v
assert v[0]["stages"]["details"]["state"] == "done", v
assert v[0]["stages"]["audio"]["state"] == "done", v' "$OUT"

# A failing command keeps its status and its message.
check "list on a missing bank exits 3" probe 3 --db missing.db list
check "...a failing command keeps its exit status (3) and says why" has "no word bank at missing.db"
check "...and ends without the exit handlers too" test ! -e "$mark"

# A command with nothing to send does not wait for libcurl, which it began to
# load on a thread of its own in case it would talk to the API (wb_preload):
# here the libcurl.so.4 found first is one whose load never ends
# (tests/cli/stuck/stuck_curl.c). The bank above has its details and audio;
# without pictures there is nothing to ask for.
stuck() {
    GEMINI_API_KEY=test-key-not-secret-123456 GEMINI_BASE_URL=http://127.0.0.1:9 \
        LD_LIBRARY_PATH=$WB_STUCK_CURL_DIR timeout 30 "$WB" --db gen.db --no-image \
        propagate words.txt --json --progress never >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out") ERR=$(cat "$T/.err")
    [ "$RC" = 0 ] || { WHY="exited $RC (124: still waiting after 30 s)
$ERR"; return 1; }
}
: "${WB_STUCK_CURL_DIR:?}"
check "the stuck libcurl is the one found (its load never ends)" bash -c \
    'LD_LIBRARY_PATH=$0 timeout 2 python3 -c "import ctypes; ctypes.CDLL(\"libcurl.so.4\")"; [ $? = 124 ]' \
    "$WB_STUCK_CURL_DIR"
check "propagate with nothing to send ends while libcurl's load is stuck (exit 0)" stuck
check "...with its summary: done, no request" python3 -c '
import json, sys
v = json.loads(sys.argv[1])
assert v["status"] == "done" and v["entries_done"] == 1, v
assert v["requests"] == 0, v' "$OUT"

# A large output through a pipe is whole (stdio's buffer is flushed at the end).
check "list --json of 1 entry through a pipe, read back whole (exit 0)" bash -c 'set -o pipefail; "$0" --db gen.db list --json | python3 -c "import json,sys; assert len(json.load(sys.stdin)) == 1"' "$WB"
finish
