#!/usr/bin/env bash
# Prove the device side on a Raspberry Pi's architecture: aarch64, Debian 12 (bookworm) userland,
# Python 3.11, the runtime extra's aarch64 wheels, run under qemu user-mode emulation on an
# x86_64 Debian-like host. Correctness only: speed under emulation means nothing.
#
#   scripts/aarch64_check.sh            (or: mnist-edge check-aarch64)
#
# Steps: install qemu-user-static (apt, needs root); download bookworm's arm64 python3.11 and its
# libraries with apt (architecture set to arm64, nothing registered or installed) and unpack them
# with dpkg -x into build/aarch64/root; pip-download the runtime's aarch64 wheels and unzip them into
# build/aarch64/site; place a Pi 4's /proc/cpuinfo in the root (onnxruntime reads it at import and
# segfaults under qemu 7.2 on the host's x86 one); then run, emulated: every shipped LiteRT/ONNX
# artifact on real MNIST test digits (compared with the same run on the host), and the headless
# camera demo over the bundled sample. binfmt_misc is never touched: qemu is called explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PYTHON:-$REPO/.venv/bin/python}
WORK=${AARCH64_WORK:-$REPO/build/aarch64}
ROOT=$WORK/root
SITE=$WORK/site
IMAGES=${AARCH64_IMAGES:-300}
FRAMES=${AARCH64_FRAMES:-300}
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

if ! command -v qemu-aarch64-static >/dev/null; then
  log "installing qemu-user-static (apt)"
  if [ "$(id -u)" != 0 ]; then log "needs root for apt-get install qemu-user-static"; exit 2; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static >/dev/null
fi

if [ ! -x "$ROOT/usr/bin/python3.11" ]; then
  log "downloading bookworm arm64 python3.11 and libraries"
  mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/debs" "$ROOT"
  APT_OPTS=(-o APT::Architecture=arm64 -o APT::Architectures=arm64 -o "Dir::State::Lists=$WORK/apt/lists"
            -o "Dir::Cache=$WORK/apt/cache" -o Debug::NoLocking=1)
  apt-get "${APT_OPTS[@]}" update -q >/dev/null
  (cd "$WORK/debs" && apt-get "${APT_OPTS[@]}" download "${DEBS[@]/%/:arm64}" >/dev/null)
  for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
fi

if [ ! -f "$SITE/.complete" ]; then
  log "downloading the runtime's aarch64 wheels"
  rm -rf "$SITE" "$WORK/wheels"; mkdir -p "$SITE" "$WORK/wheels"
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 --implementation cp --abi cp311 \
    --platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64 --platform manylinux_2_27_aarch64 \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_31_aarch64 --platform manylinux_2_34_aarch64 \
    --platform manylinux_2_35_aarch64 --platform any -d "$WORK/wheels" "${WHEELS[@]}"
  for whl in "$WORK"/wheels/*.whl; do "$PY" -m zipfile -e "$whl" "$SITE"; done
  touch "$SITE/.complete"
fi

# A Raspberry Pi 4's cpuinfo (BCM2711, 4x Cortex-A72): onnxruntime parses it at import.
mkdir -p "$ROOT/proc"
cat > "$ROOT/proc/cpuinfo" <<'CPUINFO'
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

emulated() {  # run the aarch64 python3.11 on the repo, with the aarch64 wheels, as CPU model $QEMU_CPU
  PYTHONPATH="$SITE:$REPO" PYTHONNOUSERSITE=1 MNIST_NPZ="$MNIST_NPZ" MNIST_EDGE_MODELS="$REPO/models" \
    qemu-aarch64-static -cpu "$1" -L "$ROOT" "$ROOT/usr/bin/python3.11" "${@:2}"
}

log "host run: every artifact on $IMAGES MNIST test digits"
"$PY" -m runtime.selfcheck --images "$IMAGES" --out "$WORK/host.npz"
"$PY" -m camera_demo --source sample --headless --max-frames "$FRAMES" --jsonl "$WORK/host.jsonl" --force 2>/dev/null
for cpu in $CPUS; do
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
done
log "PASS: on aarch64 ($CPUS) the device side loads every artifact and predicts like the host; the demo runs"
