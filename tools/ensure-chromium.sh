#!/bin/sh
# Browser tests drive Debian's Chromium; never a browser downloaded by a test tool.
set -eu
for exe in /usr/bin/chromium /usr/bin/chromium-browser; do
  [ -x "$exe" ] && exit 0
done
# A hosted CI runner (not root) may already have Google's Chrome; the tests use it there.
[ -x /usr/bin/google-chrome ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="none"; fi
if [ "$SUDO" != none ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here (not root or no apt-get);" >&2
  echo "the browser tests will be skipped. Install it with: sudo apt-get install chromium" >&2
fi
