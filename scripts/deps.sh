#!/usr/bin/env bash
# Installs the Debian packages wordbank needs to build, run and test, when they
# are missing. As root it runs apt-get itself; otherwise it prints the exact
# command to run and fails. Idempotent and quiet when everything is there.
set -euo pipefail

# Build, library and runtime packages (one concern a line).
PKGS=(
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev python3
  libssl-dev libcurl4-openssl-dev libuv1-dev libsqlite3-dev libjansson-dev libzip-dev
  libmp3lame-dev libavcodec-dev libavformat-dev libavutil-dev libswresample-dev libswscale-dev libyuv-dev
  libopusenc-dev libopus-dev libpng-dev libjpeg62-turbo-dev libwebp-dev
  libmecab-dev mecab mecab-ipadic-utf8 open-jtalk-mecab-naist-jdic edict libespeak-ng-dev espeak-ng-data
  libcmark-dev
  openssl ca-certificates
)
# Only for the tests and benchmarks: a browser and a Japanese font for the page
# tests, ffmpeg for the original's audio baseline, tmux for the terminal test,
# Pelican (with Python-Markdown) for the Pelican plugin's site test, g++ for the
# install test (every public header compiles as C++), clang-format (14, the
# version .clang-format is checked with) for the format test.
if [ "${1:-}" = "--test" ]; then
  PKGS+=(chromium fonts-ipafont-gothic ffmpeg tmux sqlite3 procps curl pelican g++ clang-format)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm may come from elsewhere (a nodesource build bundles npm):
# only ask Debian for them when the commands are missing.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "wordbank needs these Debian packages; run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 3
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
$cmd -qq >&2
