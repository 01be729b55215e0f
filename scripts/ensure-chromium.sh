#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser test (test/browser/demo.e2e.spec.ts).
# Idempotent: does nothing when /usr/bin/chromium (or $CHROMIUM_PATH) already exists.
set -euo pipefail
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM_PATH" ]; then
  echo "[chromium] found $CHROMIUM_PATH ($("$CHROMIUM_PATH" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
echo "[chromium] installing chromium with apt-get"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
"$CHROMIUM_PATH" --version
