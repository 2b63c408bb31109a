#!/usr/bin/env bash
# Install what the browser tests of `mnist-edge camera --serve` need (tests/test_camera_demo_serve.py):
# Debian's chromium and chromium-driver, which selenium (dev extra) drives headless. Debian 12 / Ubuntu,
# apt, needs root; does nothing when both are there.
set -euo pipefail
PACKAGES=(chromium chromium-driver)
TOOLS=(chromium chromedriver)
log() { printf '[browser] %s\n' "$*" >&2; }

missing=()
for tool in "${TOOLS[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ ${#missing[@]} -eq 0 ] && exit 0

log "missing: ${missing[*]}; installing ${PACKAGES[*]} (apt)"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "needs root and apt-get: apt-get install -y ${PACKAGES[*]}"
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${PACKAGES[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${PACKAGES[@]}" >/dev/null; }
log "installed"
