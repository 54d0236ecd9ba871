#!/usr/bin/env bash
# libwordbank as others get it: `meson install --destdir` of the built tree,
# then, against the installed copy only: every header compiles on its own as
# C17 and as C++ (-Wall -Wextra -pedantic -Werror); the shared library has a
# versioned soname and exports only wb_* names, exactly the functions the
# installed headers declare, with C linkage (a C++ program links every one);
# examples/embed.c, built with `pkg-config --cflags --libs wordbank`, adds
# 猫 / cat offline and prints ねこ, and examples/embed_async.c adds 犬 / dog
# from a poll loop and prints いぬ. Prints TAP.
set -u
BUILD=$(readlink -f "${WB_BUILD_ROOT:?}")
ROOT=$(readlink -f "${WB_SOURCE_ROOT:?}")
CC=${CC:-cc}
CXX=${CXX:-g++}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME="$T" XDG_CACHE_HOME="$T/cache"
unset GEMINI_API_KEY GOOGLE_API_KEY OPENAI_API_KEY WORDBANK_DB WORDBANK_MEDIA
export GEMINI_BASE_URL=http://127.0.0.1:9 OPENAI_BASE_URL=http://127.0.0.1:9/v1
n=0 failed=0
ok() { n=$((n+1)); echo "ok $n - $1"; }
bad() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
finish() { echo "1..$n"; exit $((failed > 0)); }
# clean FILE: no sanitizer report in a program's stderr (a sanitizer tree's
# library is checked here too).
clean() { ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|Sanitizer:DEADLYSIGNAL' "$1"; }

DEST="$T/dest"
if out=$(meson install -C "$BUILD" --destdir "$DEST" --no-rebuild 2>&1); then
    ok "meson install --destdir succeeds"
else
    bad "meson install --destdir succeeds" "$(tail -5 <<<"$out")"
    finish
fi
pc=$(find "$DEST" -name wordbank.pc -path '*/pkgconfig/*' | head -1)
inc=$(find "$DEST" -type d -name wordbank -path '*/include/wordbank' | head -1)
so=$(find "$DEST" -name 'libwordbank.so.*.*' -type f | head -1)
if [ -n "$pc" ] && [ -n "$inc" ] && [ -n "$so" ] && [ -f "$inc/wordbank.h" ] && [ -f "$inc/version.h" ]; then
    ok "installed: wordbank.pc, include/wordbank/ (with version.h), libwordbank.so"
else
    bad "installed: wordbank.pc, include/wordbank/ (with version.h), libwordbank.so" \
        "pc=$pc inc=$inc so=$so"
    finish
fi
incdir=$(dirname "$inc")
libdir=$(dirname "$so")
# A sanitizer tree's library needs its runtime in the programs built here too.
san=()
if readelf -d "$so" | grep -q 'libasan'; then san=(-fsanitize=address,undefined); fi

# The headers in the tree and the installed ones are the same set.
want=$( (cd "$ROOT/include/wordbank" && ls *.h; echo version.h) | sort -u)
have=$(cd "$inc" && ls *.h | sort)
if [ "$want" = "$have" ]; then ok "every public header is installed"; else
    bad "every public header is installed" "$(diff <(echo "$want") <(echo "$have"))"; fi

# Each header on its own, as C17 and as C++.
c_bad=() cxx_bad=() guard_bad=()
for h in "$inc"/*.h; do
    b=$(basename "$h")
    printf '#include <wordbank/%s>\nint wb__unused_header_test;\n' "$b" > "$T/one.c"
    "$CC" -std=c17 -Wall -Wextra -pedantic -Werror -I"$incdir" -c "$T/one.c" -o /dev/null \
        2>"$T/cc.err" || c_bad+=("$b: $(head -3 "$T/cc.err" | tr '\n' ' ')")
    cp "$T/one.c" "$T/one.cc"
    "$CXX" -std=c++17 -Wall -Wextra -pedantic -Werror -I"$incdir" -c "$T/one.cc" -o /dev/null \
        2>"$T/cxx.err" || cxx_bad+=("$b: $(head -3 "$T/cxx.err" | tr '\n' ' ')")
    # A header that declares functions wraps them in extern "C".
    if grep -q '^WB_API' "$h" && ! grep -q '^extern "C" {' "$h"; then guard_bad+=("$b"); fi
done
if [ ${#c_bad[@]} -eq 0 ]; then ok "each header compiles alone as C17 -Wall -Wextra -pedantic -Werror"
else bad "each header compiles alone as C17 -Wall -Wextra -pedantic -Werror" "${c_bad[@]}"; fi
if [ ${#cxx_bad[@]} -eq 0 ]; then ok "each header compiles alone as C++17 -Wall -Wextra -pedantic -Werror"
else bad "each header compiles alone as C++17 -Wall -Wextra -pedantic -Werror" "${cxx_bad[@]}"; fi
if [ ${#guard_bad[@]} -eq 0 ]; then ok "each header with declarations has extern \"C\" guards"
else bad "each header with declarations has extern \"C\" guards" "${guard_bad[@]}"; fi

# The soname carries the major version of version.h.
major=$(sed -n 's/^#define WB_VERSION_MAJOR \([0-9]*\)$/\1/p' "$inc/version.h")
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [ -n "$major" ] && [ "$soname" = "libwordbank.so.$major" ] && [ -e "$libdir/$soname" ]; then
    ok "soname is libwordbank.so.$major"
else bad "soname is libwordbank.so.MAJOR" "major=$major soname=$soname"; fi

# Every function the installed headers declare (gcc -aux-info lists each
# prototype with the file it comes from), whether it says WB_API or not.
for h in "$inc"/*.h; do echo "#include <wordbank/$(basename "$h")>"; done > "$T/all.c"
"$CC" -std=c17 -I"$incdir" -aux-info "$T/aux.txt" -c "$T/all.c" -o /dev/null 2>"$T/aux.err" ||
    bad "the headers compile together" "$(head -3 "$T/aux.err")"
# aux-info writes "/* FILE:LINE:NC */ extern int wb_x (...);", one prototype a line:
# the name is the word before the parameter list.
grep -F "/* $incdir/wordbank/" "$T/aux.txt" | sed -E 's/^\/\*[^*]*\*\/ *//; s/ \(.*//; s/.*[ *]//' |
    sort -u > "$T/declared"
nm -D --defined-only "$so" | awk '{print $3}' | sort -u > "$T/exported"
stray=$(grep -v '^wb_' "$T/exported")
if [ -s "$T/exported" ] && [ -z "$stray" ]; then ok "the library exports only wb_* names ($(wc -l < "$T/exported"))"
else bad "the library exports only wb_* names" "$(head -20 <<<"$stray")"; fi
undeclared=$(comm -23 "$T/exported" "$T/declared")
if [ -z "$undeclared" ]; then ok "every exported name is declared in an installed header"
else bad "every exported name is declared in an installed header" $undeclared; fi
hidden=$(comm -13 "$T/exported" "$T/declared")
if [ -s "$T/declared" ] && [ -z "$hidden" ]; then
    ok "every declared function is exported (WB_API on each, $(wc -l < "$T/declared"))"
else bad "every declared function is exported (WB_API on each)" $hidden; fi

# C linkage: a C++ program that takes the address of every declared function
# links against the installed library (a header without extern "C" would ask
# for mangled names).
{
    echo '#include <wordbank/wordbank.h>'
    echo 'int main() { const void *p[] = {'
    sed 's/.*/  (const void *)\&&,/' "$T/declared"
    echo '}; return p[0] == nullptr; }'
} > "$T/link.cc"
if "$CXX" -std=c++17 "${san[@]}" -I"$incdir" "$T/link.cc" -L"$libdir" -lwordbank -o "$T/link" 2>"$T/link.err"; then
    ok "a C++ program links every declared function (C linkage)"
else bad "a C++ program links every declared function (C linkage)" "$(head -5 "$T/link.err")"; fi

# The example, built out of the tree through pkg-config, against the installed copy.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$DEST"
flags=$(pkg-config --cflags --libs wordbank 2>&1)
if [ $? -eq 0 ] && grep -q -- "-I$DEST" <<<"$flags" && grep -q -- '-lwordbank' <<<"$flags"; then
    ok "pkg-config --cflags --libs wordbank names the installed copy"
else bad "pkg-config --cflags --libs wordbank names the installed copy" "$flags"; fi
ver=$(sed -n 's/^#define WB_VERSION_STRING "\(.*\)"$/\1/p' "$inc/version.h")
if [ "$(pkg-config --modversion wordbank)" = "$ver" ]; then ok "pkg-config version is version.h's ($ver)"
else bad "pkg-config version is version.h's" "$(pkg-config --modversion wordbank) vs $ver"; fi
cp "$ROOT/examples/embed.c" "$T/embed.c"
# shellcheck disable=SC2086
if "$CC" -std=c17 -Wall -Wextra -pedantic -Werror "${san[@]}" "$T/embed.c" $flags -o "$T/embed" 2>"$T/embed.err"; then
    ok "examples/embed.c builds with pkg-config"
else
    bad "examples/embed.c builds with pkg-config" "$(head -5 "$T/embed.err")"
    finish
fi
lib_used=$(LD_LIBRARY_PATH="$libdir" ldd "$T/embed" | awk '/libwordbank/ {print $3}')
if [ "$(readlink -f "$lib_used")" = "$(readlink -f "$so")" ]; then ok "embed loads the installed libwordbank"
else bad "embed loads the installed libwordbank" "$lib_used"; fi
cd "$T"
out=$(LD_LIBRARY_PATH="$libdir" ./embed "$T/bank/embed.db" 2>"$T/embed.log")
rc=$?
if [ $rc -eq 0 ] && [ "$out" = "ねこ" ] && clean "$T/embed.log"; then ok "embed adds 猫 / cat offline and prints ねこ"
else bad "embed adds 猫 / cat offline and prints ねこ" "rc=$rc out=$out" "$(tail -3 "$T/embed.log")"; fi
if grep -q "^libwordbank $ver (headers $ver)$" "$T/embed.log"; then ok "wb_version() is $ver"
else bad "wb_version() is $ver" "$(tail -2 "$T/embed.log")"; fi
# The entry is in the bank the example named, as the command sees it.
if [ -f "$T/bank/embed.db" ] &&
    out=$("$BUILD/src/cli/wordbank" --db "$T/bank/embed.db" show 猫 --json 2>"$T/show.err") &&
    clean "$T/show.err" && grep -q '"reading": *"ねこ"' <<<"$out"; then
    ok "the entry is in the example's word bank (wordbank show)"
else bad "the entry is in the example's word bank (wordbank show)" "$(head -5 <<<"$out")" \
    "$(head -5 "$T/show.err")"; fi
# The asynchronous add, watched by an event loop (poll on the job's descriptor).
cp "$ROOT/examples/embed_async.c" "$T/embed_async.c"
# shellcheck disable=SC2086
if "$CC" -std=c17 -Wall -Wextra -pedantic -Werror "${san[@]}" "$T/embed_async.c" $flags \
    -o "$T/embed_async" 2>"$T/embed_async.err" &&
    out=$(LD_LIBRARY_PATH="$libdir" ./embed_async "$T/bank/embed.db" 2>"$T/embed_async.log") &&
    [ "$out" = "いぬ" ] && grep -q "callback said 0" "$T/embed_async.log"; then
    ok "examples/embed_async.c adds 犬 / dog without blocking its loop and prints いぬ"
else bad "examples/embed_async.c adds 犬 / dog without blocking its loop and prints いぬ" \
    "out=$out" "$(head -5 "$T/embed_async.err" "$T/embed_async.log")"; fi
finish
