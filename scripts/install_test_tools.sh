#!/usr/bin/env bash
# What the test suite needs beyond pip, installed and fetched BEFORE pytest (the README's test command and
# .ci/run run this), so no test downloads or installs anything:
#   - apt packages: qemu-user-static (the aarch64 check); g++, the Arm bare-metal toolchain and qemu-system-arm
#     (the microcontroller tests: scripts/install_mcu_toolchain.sh); chromium and chromium-driver (the browser
#     tests of `camera --serve`: scripts/install_browser.sh);
#   - the aarch64 check's bookworm arm64 Python and the runtime's aarch64 wheels, into a cache shared by every
#     clone on the machine (scripts/aarch64_check.sh --fetch; about 340 MB, fetched once per set of pins).
# Debian 12 / Ubuntu; apt needs root. Does nothing that is already done. Without root or apt it names what is
# missing; under CI=true it then exits 2, elsewhere 0 (the tests that need it are skipped, saying why).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
log() { printf '[test-tools] %s\n' "$*" >&2; }

status=0
missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    log "missing, needs root and apt: apt-get install -y ${missing[*]}"
    status=2
  else
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  fi
fi

scripts/install_mcu_toolchain.sh || status=2
scripts/install_browser.sh || status=2

if command -v apt-get >/dev/null && command -v dpkg >/dev/null; then
  PYTHON=$PY scripts/aarch64_check.sh --fetch
else
  log "no apt-get/dpkg: cannot fetch the aarch64 root for the aarch64 check"
  status=2
fi
if [ "$status" != 0 ] && [ -z "${CI:-}" ]; then status=0; fi
exit $status
