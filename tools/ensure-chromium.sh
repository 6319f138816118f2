#!/bin/sh
# Browser tests drive Debian's Chromium; never a browser downloaded by a test tool.
set -eu
for exe in /usr/bin/chromium /usr/bin/chromium-browser; do
  [ -x "$exe" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here (not root or no apt-get);" >&2
  echo "the browser tests will be skipped. Install it with: sudo apt-get install chromium" >&2
fi
