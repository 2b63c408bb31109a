"""Build and run a micro bundle's C++ with the prebuilt TFLM kit: an x86-64 program, a Cortex-M4 firmware under qemu.

The PC program is built by running the bundle README's own ```sh blocks on the
README's own ```cpp program, so what is proven is what a user is told to do.
The firmware compiles the bundle with the README's Cortex-M4 block, links it
with a driver that classifies test images linked into it, and runs on qemu's
MPS2 AN386 board (Cortex-M4, semihosting); the kit's QEMU plugin counts the
instructions between marks around each mnist_classify() call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
KIT_ENV = "TFLM_DIR"
HOST_TOOLS = ("g++",)
M4_TOOLS = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-size", "arm-none-eabi-nm", "qemu-system-arm", "gcc")
# Debian packages that provide the tools (scripts/install_mcu_toolchain.sh installs them).
PACKAGES = ("g++", "gcc-arm-none-eabi", "libnewlib-arm-none-eabi", "libstdc++-arm-none-eabi-newlib", "qemu-system-arm")
FIRMWARE_MAIN = Path(__file__).with_name("micro_firmware.cc")
BUNDLE_SOURCES = ("mnist_classifier.cc", "mnist_classifier.h", "mnist_model_data.cc", "mnist_model_data.h",
                  "mnist_model_ops.h")
APP_SOURCE = "mnist_app.cc"  # the README's program
QEMU = ["qemu-system-arm", "-M", "mps2-an386", "-cpu", "cortex-m4", "-nographic", "-monitor", "none",
        "-serial", "null", "-semihosting-config", "enable=on,target=native"]


class KitError(RuntimeError):
    """The kit or a tool is missing, or a build or run failed (the message holds the tool's output)."""


@dataclass
class Run:
    """What one C++ run classified: digits and int8 scores per image, the arena TFLM used."""

    digits: np.ndarray
    scores: np.ndarray
    arena_used_bytes: int | None = None
    instructions: list[int] = field(default_factory=list)  # per mnist_classify() call (plugin), M4 only


def kit_dir() -> Path:
    """$TFLM_DIR, else the repo's sibling shared/tflm."""
    return Path(os.environ.get(KIT_ENV) or REPO.parent / "shared" / "tflm").resolve()


def kit_version() -> str:
    """The kit's TFLM commit, from its README's provenance table ("tflite-micro@90b983c2b3f1")."""
    readme = kit_dir() / "README.md"
    match = re.search(r"tflite-micro \| `([0-9a-f]{12})", readme.read_text()) if readme.exists() else None
    return f"tflite-micro@{match.group(1)}" if match else "unknown"


def missing_tools(target: str) -> list[str]:
    """Tools (or the kit) that building for 'host' or 'm4' lacks here."""
    tools = HOST_TOOLS if target == "host" else M4_TOOLS
    missing = [t for t in tools if not shutil.which(t)]
    if not (kit_dir() / "lib").is_dir():
        missing.append(f"the TFLM kit at {kit_dir()} (set {KIT_ENV})")
    return missing


def _run(cmd, cwd: Path, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)
    if proc.returncode != 0:
        shown = cmd if isinstance(cmd, str) else " ".join(map(str, cmd))
        raise KitError(f"`{shown[:300]}` failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
    return proc


def readme_blocks(readme: str, lang: str) -> list[str]:
    """The README's fenced code blocks of one language, in order."""
    return re.findall(rf"^```{lang}\n(.*?)^```", readme, flags=re.M | re.S)


def _copy_bundle(bundle: Path, work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE_SOURCES:
        shutil.copy(bundle / name, work / name)


def run_script(script: str, work: Path) -> None:
    """Run README shell lines in `work` with $TFLM set to the kit."""
    _run(["bash", "-euo", "pipefail", "-c", script], work, env={**os.environ, "TFLM": str(kit_dir())})


def build_host(bundle: Path, work: Path) -> Path:
    """The README's program, built for x86-64 by the README's flags block and PC block, verbatim."""
    readme = (bundle / "README.md").read_text()
    sh, cpp = readme_blocks(readme, "sh"), readme_blocks(readme, "cpp")
    if len(sh) < 3 or not cpp:
        raise KitError(f"{bundle}/README.md: expected 3 sh blocks (flags, PC, Cortex-M4) and a cpp program")
    _copy_bundle(bundle, work)
    (work / APP_SOURCE).write_text(cpp[0])
    run_script(sh[0] + sh[1], work)
    return work / "mnist_app"


def run_host(program: Path, images: np.ndarray, classes: int) -> Run:
    """Pipe uint8 images (N, 28, 28) through the README program; parse `digit s0 .. s(k-1)` lines."""
    proc = subprocess.run([str(program)], input=np.ascontiguousarray(images, np.uint8).tobytes(),
                          capture_output=True, timeout=3600)
    if proc.returncode != 0:
        raise KitError(f"{program} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    rows = np.array([line.split() for line in proc.stdout.decode().splitlines()], dtype=np.int64).reshape(-1, classes + 1)
    arena = re.search(r"tensor arena: (\d+) bytes used", proc.stderr.decode())
    return Run(rows[:, 0], rows[:, 1:].astype(np.int8), int(arena.group(1)) if arena else None)


def _test_data_asm(work: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    (work / "x_test.u8").write_bytes(np.ascontiguousarray(images, np.uint8).tobytes())
    (work / "y_test.u8").write_bytes(np.ascontiguousarray(labels, np.uint8).tobytes())
    asm = work / "test_data.S"
    asm.write_text(f"""    .section .extmem.testdata, "a"
    .global g_test_count, g_test_item_bytes, g_test_x, g_test_y
    .balign 4
g_test_count: .word {len(images)}
g_test_item_bytes: .word {images[0].size}
    .balign 16
g_test_x: .incbin "x_test.u8"
g_test_y: .incbin "y_test.u8"
""")
    return asm


def build_firmware(bundle: Path, work: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Cortex-M4 firmware (CMSIS-NN library): the bundle compiled by the README's blocks, test images linked in."""
    readme = (bundle / "README.md").read_text()
    sh = readme_blocks(readme, "sh")
    _copy_bundle(bundle, work)
    run_script(sh[0] + sh[2], work)  # -> mnist_classifier.o mnist_model_data.o
    kit, target = kit_dir(), kit_dir() / "targets" / "cortex-m4"
    cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"]
    inc = [f"-I{kit / p}" for p in ("include", "include/third_party/flatbuffers/include",
                                     "include/third_party/gemmlowp", "include/third_party/ruy")]
    _run(["arm-none-eabi-gcc", *cpu, "-c", str(_test_data_asm(work, images, labels)), "-o", "test_data.o"], work)
    _run(["arm-none-eabi-g++", *cpu, "-std=c++17", "-O2", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
          "-DTF_LITE_STATIC_MEMORY", "-I.", *inc, "-c", str(FIRMWARE_MAIN), "-o", "firmware_main.o"], work)
    _run(["arm-none-eabi-gcc", *cpu, "-O2", "-c", str(target / "startup_mps2_an386.c"), "-o", "startup.o"], work)
    _run(["arm-none-eabi-g++", *cpu, "-nostartfiles", "-T", str(target / "mps2_an386.ld"), "-Wl,--gc-sections",
          "startup.o", "firmware_main.o", "mnist_classifier.o", "mnist_model_data.o", "test_data.o",
          str(kit / "lib" / "cortex-m4" / "libtensorflow-microlite.a"),
          "--specs=nano.specs", "--specs=rdimon.specs", "-lm", "-o", "firmware.elf"], work)
    return work / "firmware.elf"


def build_op_profiler(bundle: Path, work: Path, images: np.ndarray, labels: np.ndarray, arena: int,
                      library: str = "cortex-m4") -> Path:
    """The kit's bundle_eval firmware with a mark around every operator (-DKIT_PROFILE_OPS).

    library: "cortex-m4" (CMSIS-NN kernels) or "cortex-m4-reference" (TFLM's reference kernels).
    """
    kit, target, bundle = kit_dir(), kit_dir() / "targets" / "cortex-m4", Path(bundle).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"]
    flags = [*cpu, "-std=c++17", "-O2", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics",
             "-DTF_LITE_STATIC_MEMORY", "-ffunction-sections", "-fdata-sections",
             *(["-DCMSIS_NN"] if library == "cortex-m4" else []),
             f"-I{bundle}", *[f"-I{kit / p}" for p in ("include", "include/third_party/flatbuffers/include",
                                                        "include/third_party/gemmlowp", "include/third_party/ruy")]]
    defines = ['-DBUNDLE_DATA_H="mnist_model_data.h"', '-DBUNDLE_OPS_H="mnist_model_ops.h"',
               "-DBUNDLE_MODEL=g_mnist_model_data", "-DBUNDLE_RESOLVER=MnistOpResolver",
               "-DBUNDLE_REGISTER=RegisterMnistModelOps", f"-DBUNDLE_ARENA_BYTES={arena}",
               "-DKIT_EMBEDDED_TESTDATA", "-DKIT_CORTEX_M", "-DKIT_PROFILE_OPS"]
    _run(["arm-none-eabi-gcc", *cpu, "-c", str(_test_data_asm(work, images, labels)), "-o", "test_data.o"], work)
    _run(["arm-none-eabi-g++", *flags, *defines, "-c", str(kit / "examples" / "bundle_eval" / "bundle_eval.cc"),
          "-o", "bundle_eval.o"], work)
    _run(["arm-none-eabi-g++", *flags, "-c", str(bundle / "mnist_model_data.cc"), "-o", "model.o"], work)
    _run(["arm-none-eabi-gcc", *cpu, "-O2", "-c", str(target / "startup_mps2_an386.c"), "-o", "startup.o"], work)
    _run(["arm-none-eabi-g++", *cpu, "-nostartfiles", "-T", str(target / "mps2_an386.ld"), "-Wl,--gc-sections",
          "startup.o", "bundle_eval.o", "model.o", "test_data.o", str(kit / "lib" / library / "libtensorflow-microlite.a"),
          "--specs=nano.specs", "--specs=rdimon.specs", "-lm", "-o", "op_profile.elf"], work)
    return work / "op_profile.elf"


def parse_op_profile(log: str) -> list[tuple[str, int]]:
    """(operator name, mean instructions) in execution order, from bundle_eval's OP lines and the plugin's groups."""
    names = re.findall(r"^OP \d+ (\S+)", log, re.M)
    means = [int(m) for m in re.findall(r"^insn_marker: group \d+ n=\d+ mean=(\d+)", log, re.M)]
    if not names or len(means) != len(names):
        raise KitError(f"per-operator profile: {len(names)} OP lines, {len(means)} plugin groups:\n{log[-1500:]}")
    return list(zip(names, means))


def insn_plugin(work: Path) -> Path:
    """The kit's QEMU plugin, compiled once into `work`."""
    lib = work / "libinsn_marker.so"
    if not lib.exists():
        source = kit_dir() / "targets" / "cortex-m4" / "qemu_plugin" / "insn_marker.c"
        _run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(source)], work)
    return lib


def symbol_address(elf: Path, name: str) -> str:
    out = _run(["arm-none-eabi-nm", str(elf)], elf.parent).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return "0x" + parts[0]
    raise KitError(f"{elf}: no symbol {name}")


def run_qemu(elf: Path, count_instructions: bool = True, group: int | None = None, timeout: float = 1800) -> str:
    """Run a firmware on the emulated board; its semihosting output plus the plugin's lines (one per mark pair)."""
    cmd = list(QEMU)
    if count_instructions:
        plugin = f"{insn_plugin(elf.parent)},addr={symbol_address(elf, 'tflm_kit_mark')},verbose=1"
        cmd += ["-plugin", plugin + (f",group={group}" if group else ""), "-d", "plugin"]
    proc = _run(cmd + ["-kernel", str(elf)], elf.parent, timeout=timeout)
    return proc.stdout + proc.stderr


def parse_firmware(log: str, classes: int) -> Run:
    """OUT <i> <label> <digit> <scores...> lines, ARENA_USED, and the plugin's per-pair counts."""
    if "DONE" not in log:
        raise KitError(f"the firmware did not finish:\n{log[-2000:]}")
    rows = [line.split()[1:] for line in log.splitlines() if line.startswith("OUT ")]
    table = np.array(rows, dtype=np.int64).reshape(-1, classes + 3)
    arena = int(re.search(r"^ARENA_USED (\d+)", log, re.M).group(1))
    pairs = [int(m) for m in re.findall(r"^insn_marker: pair \d+ insns (\d+)", log, re.M)]
    return Run(table[:, 2], table[:, 3:].astype(np.int8), arena, pairs)


def instruction_summary(log: str) -> dict:
    """The plugin's closing line: pairs, mean, min, max instructions between marks."""
    m = re.search(r"insn_marker: pairs=(\d+) mean=(\d+) min=(\d+) max=(\d+)", log)
    if not m:
        raise KitError(f"no insn_marker summary in the qemu output:\n{log[-1500:]}")
    return dict(zip(("pairs", "mean", "min", "max"), map(int, m.groups())))


def elf_sections(elf: Path) -> dict[str, int]:
    """Section sizes (arm-none-eabi-size -A), bytes by name."""
    out = _run(["arm-none-eabi-size", "-A", str(elf)], elf.parent).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes
