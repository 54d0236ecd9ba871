#!/bin/sh
# Runs the fake server's node tests as TAP. The scale test holds 2,000
# connections (about 4,100 descriptors across test and server), so raise
# the open-file limit first, then exec node.
# usage: run.sh NODE TEST.mjs...
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
node=$1
shift
exec "$node" --test --test-reporter=tap "$@"
