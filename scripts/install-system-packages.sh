#!/usr/bin/env bash
# Installs the Debian packages Assay needs (OpenBLAS, SQLite and OpenSSL headers; the openssl command,
# which makes the TLS test's certificate; chromium, which
# the tests drive headless to check the HTML reports) when they are missing.
set -euo pipefail
missing=()
for package in libopenblas-dev libsqlite3-dev libssl-dev openssl chromium; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
