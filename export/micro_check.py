"""Prove a written micro bundle in the real TFLM C++ library, as its README tells a user to build it.

x86-64: the README's program classifies `images`; its int8 scores must equal the
Python TFLM interpreter's. Cortex-M4 (CMSIS-NN kernels, qemu MPS2 AN386): a
firmware with the first `m4_images` of them linked in; its scores are compared
with x86-64's (CMSIS-NN and the reference kernels implement the same integer
arithmetic, so any difference is counted and reported, not hidden). Both runs
report the arena TFLM used (arena_used_bytes()); the firmware's ELF sections
give its flash and RAM.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from export import tflm_kit
from runtime.progress import progress as report_progress

# ELF sections (mps2_an386.ld) that a real part keeps in flash / in static RAM. Test data (.extmem) is
# neither; .heap and .stack are the linker script's fixed reservations (256 KiB, 64 KiB), not a need.
FLASH_SECTIONS = (".text", ".ARM.extab", ".ARM.exidx", ".copy.table", ".zero.table", ".data")
RAM_SECTIONS = (".data", ".bss")


def compare_scores(a: np.ndarray, b: np.ndarray) -> dict:
    same = (a == b).all(axis=1)
    return {"identical_images": int(same.sum()), "differing_images": int((~same).sum()),
            "differing_values": int((a != b).sum())}


def firmware_memory(elf: Path) -> dict:
    sections = tflm_kit.elf_sections(elf)
    return {"flash_bytes": sum(sections.get(s, 0) for s in FLASH_SECTIONS),
            "ram_bytes": sum(sections.get(s, 0) for s in RAM_SECTIONS), "sections": sections}


def check_bundle_cpp(bundle: Path, images: np.ndarray, labels: np.ndarray, tflm_scores: np.ndarray,
                     m4_images: int, work: Path | None = None, progress: bool = False) -> dict:
    """Build, run and compare on both targets; raises tflm_kit.KitError when a tool is missing or a step fails.

    `progress`: the four steps (minutes in all, the emulated Cortex-M4 most) reported on stderr like other
    long steps (runtime/progress.py: a bar on a terminal, a line every 10 s in a log).
    """
    missing = tflm_kit.missing_tools("host") + tflm_kit.missing_tools("m4")
    if missing:
        raise tflm_kit.KitError(f"cannot prove the bundle in C++: missing {', '.join(dict.fromkeys(missing))}")
    classes = tflm_scores.shape[1]
    m = min(m4_images, len(images))
    with tempfile.TemporaryDirectory(prefix="micro_check_") as tmp:
        work = Path(work or tmp)
        steps = [  # each takes the results so far
            ("program", lambda r: tflm_kit.build_host(Path(bundle), work / "x86_64")),
            ("x86", lambda r: tflm_kit.run_host(r["program"], images, classes)),
            ("elf", lambda r: tflm_kit.build_firmware(Path(bundle), work / "cortex_m4", images[:m], labels[:m])),
            ("log", lambda r: tflm_kit.run_qemu(r["elf"])),
        ]
        done = {}
        for name, step in report_progress(steps, total=len(steps), desc="TFLM C++ check (x86-64, Cortex-M4 under qemu)",
                                          unit="steps", enabled=progress):
            done[name] = step(done)
        x86 = done["x86"]
        m4 = tflm_kit.parse_firmware(done["log"], classes)
        m4_arena = m4.arena_used_bytes
        insns = np.array(m4.instructions, dtype=np.int64)
        memory = firmware_memory(done["elf"])
    vs_python = compare_scores(x86.scores, tflm_scores)
    vs_x86 = compare_scores(m4.scores, x86.scores[:m])
    return {
        "kit": f"prebuilt TFLM kit ({tflm_kit.kit_version()})",
        "x86_64": {"library": "lib/x86_64 (reference kernels)", "images": int(len(images)),
                   "accuracy": float((x86.digits == labels).mean()), "arena_used_bytes": x86.arena_used_bytes,
                   **vs_python, "compared_with": "TFLM Python interpreter (tflite-micro), int8 scores"},
        "cortex_m4": {"library": "lib/cortex-m4 (CMSIS-NN kernels)", "board": "qemu-system-arm -M mps2-an386",
                      "images": m, "accuracy": float((m4.digits == labels[:m]).mean()), "arena_used_bytes": m4_arena,
                      "identical_to_x86_images": vs_x86["identical_images"],
                      "differing_images": vs_x86["differing_images"], "differing_values": vs_x86["differing_values"],
                      "instructions_per_classify": {"mean": float(insns.mean()), "min": int(insns.min()),
                                                    "max": int(insns.max())} if len(insns) else None,
                      **{k: v for k, v in memory.items() if k != "sections"}, "elf_sections": memory["sections"]},
    }
