#!/usr/bin/env bash
# Install the Debian packages listed in the given files (one name per line, '#' comments) that are
# not installed yet. Needs root and apt-get; elsewhere it names the missing packages and fails.
set -euo pipefail
wanted=$( { cat "$@" 2>/dev/null || true; } | sed -e 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
[ -n "$wanted" ] || exit 0
missing=""
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "缺少系统软件包：$missing — 请以 root 运行：apt-get install -y$missing" >&2
  exit 1
fi
echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $missing >/dev/null
}
