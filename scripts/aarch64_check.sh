#!/usr/bin/env bash
# Prove the device side on a Raspberry Pi's architecture: aarch64, Debian 12 (bookworm) userland,
# Python 3.11, the runtime extra's aarch64 wheels, run under qemu user-mode emulation on an
# x86_64 Debian-like host. Correctness only: speed under emulation means nothing.
#
#   scripts/aarch64_check.sh            (or: mnist-edge check-aarch64): fetch what is missing, then check
#   scripts/aarch64_check.sh --fetch    only fetch (scripts/install_test_tools.sh runs this before pytest)
#
# Steps: install qemu-user-static (apt, needs root); download bookworm's arm64 python3.11 and its
# libraries with apt (architecture set to arm64, nothing registered or installed) and unpack them
# with dpkg -x into the cache's root/; pip-download the runtime's aarch64 wheels and unzip them into
# the cache's site/; place a Pi 4's /proc/cpuinfo in the root (onnxruntime reads it at import and
# segfaults under qemu 7.2 on the host's x86 one); then run, emulated: every shipped LiteRT/ONNX
# artifact on real MNIST test digits (compared with the same run on the host), and the headless
# camera demo over the bundled sample. binfmt_misc is never touched: qemu is called explicitly.
#
# The cache (about 340 MB unpacked; the downloads are deleted once unpacked) is shared by every clone on
# the machine: ${AARCH64_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mnist-edge/aarch64}/<key>, the key a sha256 of
# the package lists and pins below, so a changed pin fetches a fresh root beside the old one. The run's
# own outputs (host and device predictions, JSON lines; under 1 MB) go to build/aarch64 ($AARCH64_WORK).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-$REPO/.venv/bin/python}
WORK=${AARCH64_WORK:-$REPO/build/aarch64}
FETCH_ONLY=0
case "${1:-}" in
  --fetch) FETCH_ONLY=1 ;;
  "") ;;
  *) echo "usage: scripts/aarch64_check.sh [--fetch]" >&2; exit 2 ;;
esac
# Enough to catch a wrong kernel (under qemu's "max" CPU model int8 models scored near chance) and a demo
# that reads differently; emulation is slow (most of this check's time), so a sample, not the full set.
IMAGES=${AARCH64_IMAGES:-100}
FRAMES=${AARCH64_FRAMES:-150}
# qemu's CPU models of the two Pis. Not qemu's default "max" CPU: it advertises extensions no Pi
# has (SVE, I8MM...), XNNPACK then picks int8 kernels that qemu 7.2 gets wrong (int8 and
# dynamic-range models score near chance), which says nothing about a real Pi.
CPUS=${AARCH64_CPUS:-cortex-a72 cortex-a76}
export MNIST_NPZ=${MNIST_NPZ:-$(cd .. && pwd)/shared/data/mnist.npz}
log() { printf '[aarch64] %s\n' "$*" >&2; }

# Versions: the runtime extra of pyproject.toml (read from it, not copied), and what its wheels need.
read -r -a RUNTIME_PINS <<< "$("$PY" -c 'import re; block = re.search(r"^runtime = \[(.*?)^\]", open("pyproject.toml").read(), re.S | re.M).group(1); print(" ".join(re.findall(r"\"([^\"]+)\"", block)))')"
[ "${#RUNTIME_PINS[@]}" -gt 0 ] || { log "no runtime extra found in pyproject.toml"; exit 2; }
WHEELS=("${RUNTIME_PINS[@]}"
        flatbuffers==25.12.19 protobuf==7.36.2 packaging==26.4 sympy==1.14.0 mpmath==1.3.0 coloredlogs humanfriendly
        backports.strenum==1.2.8 typing_extensions==4.16.0)
# python3.11's runtime closure in bookworm, less what a Python process never loads (perl, dpkg, tar, mime data).
DEBS=(python3.11 python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libgcc-s1 libstdc++6 gcc-12-base
      libexpat1 libffi8 libbz2-1.0 liblzma5 libsqlite3-0 libssl3 libncursesw6 libtinfo6 libreadline8 readline-common
      libuuid1 zlib1g libcrypt1 libnsl2 libtirpc3 libtirpc-common libzstd1 libgomp1 libdb5.3 libgdbm6 libgdbm-compat4
      libgssapi-krb5-2 libk5crypto3 libkeyutils1 libkrb5-3 libkrb5support0 libcom-err2 libselinux1 libpcre2-8-0
      libacl1 libmd0 media-types)

# The cache's key: what goes into it (bump the last word to force a fresh fetch).
KEY=$(printf '%s\n' bookworm-arm64 "${DEBS[@]}" "${WHEELS[@]}" layout-1 | sha256sum | cut -c1-16)
CACHE=${AARCH64_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mnist-edge/aarch64}/$KEY
ROOT=$CACHE/root
SITE=$CACHE/site

# A Raspberry Pi 4's cpuinfo (BCM2711, 4x Cortex-A72): onnxruntime parses it at import (part of the cache).
write_pi4_cpuinfo() {  # $1: the root
  mkdir -p "$1/proc"
  cat > "$1/proc/cpuinfo" <<'CPUINFO'
processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x0
CPU part	: 0xd08
CPU revision	: 3

Hardware	: BCM2835
Revision	: c03114
Model		: Raspberry Pi 4 Model B Rev 1.4
CPUINFO
}

if [ ! -f "$CACHE/.complete" ]; then
  # Fetched into a private folder, renamed into place when whole: clones running at once never see half a cache.
  mkdir -p "$(dirname "$CACHE")"
  TMP=$(mktemp -d "${CACHE}.partial.XXXXXX")
  trap 'rm -rf "$TMP"' EXIT
  log "fetching bookworm arm64 python3.11, its libraries and the runtime's aarch64 wheels into $CACHE"
  mkdir -p "$TMP/apt/lists/partial" "$TMP/apt/cache/archives/partial" "$TMP/debs" "$TMP/root" "$TMP/site" "$TMP/wheels"
  APT_OPTS=(-o APT::Architecture=arm64 -o APT::Architectures=arm64 -o "Dir::State::Lists=$TMP/apt/lists"
            -o "Dir::Cache=$TMP/apt/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${APT_OPTS[@]}" update -q >/dev/null
  (cd "$TMP/debs" && apt-get "${APT_OPTS[@]}" download "${DEBS[@]/%/:arm64}" >/dev/null)
  for deb in "$TMP"/debs/*.deb; do dpkg -x "$deb" "$TMP/root"; done
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 --platform manylinux_2_27_aarch64 \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_31_aarch64 --platform manylinux_2_34_aarch64 \
    --platform manylinux_2_35_aarch64 --platform any -d "$TMP/wheels" "${WHEELS[@]}"
  for whl in "$TMP"/wheels/*.whl; do "$PY" -m zipfile -e "$whl" "$TMP/site"; done
  write_pi4_cpuinfo "$TMP/root"
  rm -rf "$TMP/apt" "$TMP/debs" "$TMP/wheels"  # the downloads: only what they unpacked to is kept
  touch "$TMP/.complete"
  rm -rf "$CACHE"; mv "$TMP" "$CACHE"
  trap - EXIT
  log "cached: $(du -sh "$CACHE" | cut -f1) in $CACHE"
fi
[ "$FETCH_ONLY" = 1 ] && exit 0

if ! command -v qemu-aarch64-static >/dev/null; then
  log "installing qemu-user-static (apt; scripts/install_test_tools.sh does this before the tests)"
  if [ "$(id -u)" != 0 ]; then log "needs root for apt-get install qemu-user-static"; exit 2; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static >/dev/null
fi
mkdir -p "$WORK"


emulated() {  # run the aarch64 python3.11 on the repo, with the aarch64 wheels, as CPU model $QEMU_CPU
  PYTHONPATH="$SITE:$REPO" PYTHONNOUSERSITE=1 MNIST_NPZ="$MNIST_NPZ" MNIST_EDGE_MODELS="$REPO/models" \
    qemu-aarch64-static -cpu "$1" -L "$ROOT" "$ROOT/usr/bin/python3.11" "${@:2}"
}

log "host run: every artifact on $IMAGES MNIST test digits"
"$PY" -m runtime.selfcheck --images "$IMAGES" --out "$WORK/host.npz"
"$PY" -m camera_demo --source sample --headless --max-frames "$FRAMES" --jsonl "$WORK/host.jsonl" --force \
  > "$WORK/host-demo.log" 2>&1 || { cat "$WORK/host-demo.log" >&2; log "FAIL: the host's demo run"; exit 1; }

check_cpu() {  # every check under one CPU model; its output goes to $WORK/<cpu>.log
  local cpu=$1
  log "[$cpu] emulated interpreter: $(emulated "$cpu" -c 'import platform, sys; print(platform.machine(), sys.version.split()[0])')"
  log "[$cpu] every artifact on the same $IMAGES digits, compared with the host"
  emulated "$cpu" -m runtime.selfcheck --images "$IMAGES" --out "$WORK/device-$cpu.npz"
  "$PY" -m runtime.selfcheck --compare "$WORK/host.npz" "$WORK/device-$cpu.npz"
  log "[$cpu] headless camera demo over $FRAMES frames of the bundled sample"
  emulated "$cpu" -m camera_demo --source sample --headless --max-frames "$FRAMES" --jsonl "$WORK/device-$cpu.jsonl" --force
  "$PY" - "$WORK/host.jsonl" "$WORK/device-$cpu.jsonl" "$FRAMES" "$cpu" <<'PY'
import json, sys
host = [json.loads(l)["number"] for l in open(sys.argv[1])]
device = [json.loads(l)["number"] for l in open(sys.argv[2])]
frames, cpu = int(sys.argv[3]), sys.argv[4]
same = sum(a == b for a, b in zip(host, device))
print(f"[aarch64] [{cpu}] demo: {len(device)} frames read under emulation, {same}/{len(host)} identical to the host's", file=sys.stderr)
if len(device) != frames or len(host) != frames or same < 0.98 * frames:
    sys.exit(f"[aarch64] [{cpu}] FAIL: the emulated demo did not read the sample like the host")
PY
}

# The CPU models run side by side (each emulated process uses one core): half the time on a 2-core machine.
pids=()
for cpu in $CPUS; do
  check_cpu "$cpu" > "$WORK/$cpu.log" 2>&1 &
  pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed=1
done
for cpu in $CPUS; do cat "$WORK/$cpu.log" >&2; done
[ "$failed" = 0 ] || { log "FAIL (see above)"; exit 1; }
# The verdict is the result: on stdout (the log above is on stderr).
printf '[aarch64] PASS: on aarch64 (%s) the device side loads every artifact and predicts like the host; the demo runs\n' "$CPUS"
