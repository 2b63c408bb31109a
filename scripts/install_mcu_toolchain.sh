#!/usr/bin/env bash
# Install what the microcontroller tests need (tests/test_micro_cpp.py, bench/mcu_costs.py): a host C++
# compiler, the Arm bare-metal toolchain with newlib, and qemu's Arm system emulator. Debian 12 / Ubuntu,
# apt, needs root; does nothing when every tool is there. The prebuilt TFLM kit itself is not installed
# here: it is the repo's sibling shared/tflm (or $TFLM_DIR).
set -euo pipefail
PACKAGES=(g++ gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm)
TOOLS=(g++ gcc arm-none-eabi-gcc arm-none-eabi-g++ arm-none-eabi-size arm-none-eabi-nm qemu-system-arm)
log() { printf '[mcu-toolchain] %s\n' "$*" >&2; }

missing=()
for tool in "${TOOLS[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
# newlib's nano specs come with libnewlib-arm-none-eabi; a compiler without them cannot link firmware.
if command -v arm-none-eabi-gcc >/dev/null && [ ! -f "$(arm-none-eabi-gcc -print-file-name=nano.specs)" ]; then
  missing+=(nano.specs)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

log "missing: ${missing[*]}; installing ${PACKAGES[*]} (apt)"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "needs root and apt-get: apt-get install -y ${PACKAGES[*]}"
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "${PACKAGES[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${PACKAGES[@]}" >/dev/null; }
log "installed"
