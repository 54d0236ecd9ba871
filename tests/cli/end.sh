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

# A large output through a pipe is whole (stdio's buffer is flushed at the end).
check "list --json of 1 entry through a pipe, read back whole" bash -c '"$0" --db gen.db list --json | python3 -c "import json,sys; assert len(json.load(sys.stdin)) == 1"' "$WB"
finish
