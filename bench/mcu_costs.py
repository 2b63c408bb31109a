"""`mnist-edge bench mcu`: what each shipped model costs on a microcontroller, measured in the real TFLM C++ library.

Per model (each folder with a micro/ bundle): MACs, int8 file size, tensor arena
(arena_used_bytes() on x86-64 and on a Cortex-M4), flash of the linked Cortex-M4
firmware (ELF sections), instructions per inference counted exactly by the kit's
QEMU plugin on the emulated Cortex-M4 (CMSIS-NN kernels; TFLM's reference kernels
for comparison), per operator too, and a latency estimate at typical clocks.
QEMU counts instructions, not cycles: the estimate assumes one instruction per
cycle (see LIMITS).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

CLOCKS_MHZ = {"Cortex-M4 @ 80 MHz": 80, "Cortex-M4 @ 168 MHz": 168, "Cortex-M7 @ 216 MHz": 216, "Cortex-M7 @ 480 MHz": 480}
LIMITS = (
    "Latency = instructions / clock, i.e. one instruction per cycle. QEMU counts executed instructions; it models no "
    "pipeline, caches, flash wait states or bus. On a real Cortex-M4 loads, multiply-accumulates with dependencies "
    "and taken branches take 2+ cycles and flash above ~30-40 MHz adds wait states (hidden by ST's ART accelerator "
    "or a cache when the code loops), so expect more cycles than instructions (roughly 1.1-1.5x). A Cortex-M7 runs "
    "the same Thumb-2/DSP code (CMSIS-NN has no M7-only path) but can issue two instructions per cycle, so it can "
    "beat the estimate, while cache misses on a model in external flash can cost more. Use the figures to compare "
    "models and kernels, and as an order of magnitude for a part; measure on the part (DWT->CYCCNT) to be sure.")
PUBLISHED = [
    ("Cortex-M4 with CMSIS-NN, MNIST-size CNNs (various reports)", "tens to a few hundred ms per image", "", ""),
    ("ST X-CUBE-AI MNIST model, Cortex-M7 @ 400 MHz", "3.4 ms", "21.7 KiB", "56.9 KiB"),
]


def model_folders(models: Path) -> list[Path]:
    """models/ and every subfolder holding a manifest and a micro/ bundle (models/edge/ ...)."""
    found = [models] + sorted(p for p in models.iterdir() if p.is_dir())
    return [p for p in found if (p / "micro" / "bundle.json").exists() and (p / "manifest.json").exists()]


def _accuracies(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    int8 = next(a for a in manifest["artifacts"] if a["format"] == "tflite-int8")
    cpp = json.loads((folder / "micro" / "bundle.json").read_text()).get("cpp") or {}
    return {"fp32": manifest["source_model"]["test_accuracy"], "int8_litert": int8["parity"]["accuracy"],
            "int8_tflm_cpp": cpp.get("x86_64", {}).get("accuracy"), "int8_tflm_cpp_images": cpp.get("x86_64", {}).get("images")}


def measure_model(folder: Path, work: Path, images: np.ndarray, labels: np.ndarray, ref_images: int) -> dict:
    """Everything for one model folder; builds under `work`."""
    from export import tflm_kit
    from export.macs import operator_macs
    from export.micro_check import firmware_memory

    bundle = folder / "micro"
    info = json.loads((bundle / "bundle.json").read_text())
    classes = info["output"]["shape"][1]
    elf = tflm_kit.build_firmware(bundle, work / "firmware", images, labels)
    run = tflm_kit.parse_firmware(tflm_kit.run_qemu(elf), classes)
    insns = np.array(run.instructions)
    program = tflm_kit.build_host(bundle, work / "x86_64")
    host = tflm_kit.run_host(program, images[:1], classes)
    ops = operator_macs(bundle / "model.tflite")
    arena = info["arena"]["recommended_bytes"]
    per_op = {}
    for library, n in (("cortex-m4", len(images)), ("cortex-m4-reference", ref_images)):
        prof = tflm_kit.build_op_profiler(bundle, work / library, images[:n], labels[:n], arena, library)
        per_op[library] = tflm_kit.parse_op_profile(tflm_kit.run_qemu(prof, group=len(ops), timeout=3600))
    rows = []
    for i, op in enumerate(ops):
        name, cmsis = per_op["cortex-m4"][i]
        ref_name, ref = per_op["cortex-m4-reference"][i]
        if not (name == ref_name == op.op):
            raise RuntimeError(f"operator {i}: {op.op} in the model, {name}/{ref_name} in the profiles")
        rows.append({"op": op.op, "shape": op.shape, "macs": op.macs, "instructions_cmsis_nn": cmsis,
                     "instructions_reference": ref})
    memory = firmware_memory(elf)
    mean = float(insns.mean())
    return {
        "folder": str(folder), "model": json.loads((folder / "manifest.json").read_text())["source_model"]["file"],
        "accuracy": _accuracies(folder), "accuracy_m4_sample": float((run.digits == labels).mean()),
        "images": int(len(images)), "macs": sum(o.macs for o in ops), "int8_file_bytes": info["model_bytes"],
        "arena_bytes": {"x86_64": host.arena_used_bytes, "cortex_m4": run.arena_used_bytes, "recommended": arena},
        "flash_bytes": {"total": memory["flash_bytes"], "model": info["model_bytes"],
                        "code": memory["flash_bytes"] - info["model_bytes"]},
        "static_ram_bytes": memory["ram_bytes"], "elf_sections": memory["sections"],
        "instructions_per_inference": {"mean": mean, "min": int(insns.min()), "max": int(insns.max())},
        "instructions_per_mac": mean / max(1, sum(o.macs for o in ops)),
        "latency_ms_estimate": {name: 1000 * mean / (mhz * 1e6) for name, mhz in CLOCKS_MHZ.items()},
        "operators": rows,
        "reference_kernel_images": ref_images,
    }


def to_markdown(result: dict) -> str:
    models = result["models"]
    head = "| | " + " | ".join(Path(m["model"]).stem for m in models) + " |"
    sep = "|---|" + "---:|" * len(models)

    def row(label, fn):
        return f"| {label} | " + " | ".join(fn(m) for m in models) + " |"

    acc = lambda key: (lambda m: f"{100 * m['accuracy'][key]:.2f} %")  # noqa: E731
    lines = [
        f"MCU costs, measured in the real TFLM C++ library (kit `{result['kit']}`); Cortex-M4 = qemu "
        f"`mps2-an386`, CMSIS-NN kernels, {models[0]['images']} MNIST test images per model.", "",
        head, sep,
        row("test accuracy fp32 (Keras)", acc("fp32")),
        row("test accuracy int8, LiteRT (XNNPACK)", acc("int8_litert")),
        row("test accuracy int8, TFLM C++ library (x86-64, at export)",
            lambda m: f"{100 * m['accuracy']['int8_tflm_cpp']:.2f} % of {m['accuracy']['int8_tflm_cpp_images']:,}"
            if m["accuracy"].get("int8_tflm_cpp") is not None else "-"),
        row("MACs per image", lambda m: f"{m['macs']:,}"),
        row("int8 model file", lambda m: f"{m['int8_file_bytes']:,} B"),
        row("tensor arena used, Cortex-M4", lambda m: f"{m['arena_bytes']['cortex_m4']:,} B"),
        row("tensor arena used, x86-64", lambda m: f"{m['arena_bytes']['x86_64']:,} B"),
        row("tensor arena shipped (kTensorArenaSize)", lambda m: f"{m['arena_bytes']['recommended']:,} B"),
        row("flash: model + code (firmware ELF)", lambda m: f"{m['flash_bytes']['total']:,} B"),
        row("flash: code (TFLM, kernels, newlib, test driver)", lambda m: f"{m['flash_bytes']['code']:,} B"),
        row("static RAM (.data + .bss, arena included)", lambda m: f"{m['static_ram_bytes']:,} B"),
        row("instructions per inference (CMSIS-NN)", lambda m: f"{m['instructions_per_inference']['mean'] / 1e6:.3f} M"),
        row("instructions per MAC", lambda m: f"{m['instructions_per_mac']:.2f}"),
        row("instructions per inference (reference kernels)",
            lambda m: f"{sum(o['instructions_reference'] for o in m['operators']) / 1e6:.1f} M"),
    ]
    for name in CLOCKS_MHZ:
        lines.append(row(f"latency estimate, {name}", lambda m, n=name: f"{m['latency_ms_estimate'][n]:.2f} ms"))
    lines += ["", "Published figures for MNIST-size models (from the issue; not measured here):", "",
              "| system | latency | RAM | flash |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in PUBLISHED]
    for m in models:
        lines += ["", f"Per operator, `{Path(m['model']).stem}` (instructions per inference; reference kernels on "
                      f"{m['reference_kernel_images']} images):", "",
                  "| # | operator | shape | MACs | CMSIS-NN | reference | instr./MAC (CMSIS-NN) |", "|---:|---|---|---:|---:|---:|---:|"]
        for i, o in enumerate(m["operators"]):
            per_mac = f"{o['instructions_cmsis_nn'] / o['macs']:.2f}" if o["macs"] else ""
            lines.append(f"| {i} | {o['op']} | {o['shape']} | {o['macs']:,} | {o['instructions_cmsis_nn']:,} | "
                         f"{o['instructions_reference']:,} | {per_mac} |")
    lines += ["", "How good the estimate is: " + LIMITS]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench mcu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="models", help="folder of the shipped models (default models/)")
    parser.add_argument("--images", type=int, default=100, help="test images per model on the emulated Cortex-M4")
    parser.add_argument("--reference-images", type=int, default=2,
                        help="images for the reference-kernel profile (slow: ~1.5 s each for the seed CNN)")
    parser.add_argument("--out", default="benchmarks", help="folder for mcu_costs.md / .json (default benchmarks/)")
    parser.add_argument("--data", default=None, help="mnist.npz (default: $MNIST_NPZ ...)")
    parser.add_argument("--table-only", action="store_true", help="rewrite mcu_costs.md from mcu_costs.json, measure nothing")
    args = parser.parse_args(argv)
    if args.images <= 0 or args.reference_images <= 0:
        parser.error("--images and --reference-images must be positive")
    if args.table_only:
        from runtime.files import atomic_write_text

        result = json.loads((Path(args.out) / "mcu_costs.json").read_text())
        atomic_write_text(Path(args.out) / "mcu_costs.md", to_markdown(result), overwrite=True)
        print(to_markdown(result))
        return 0
    models = Path(args.models)
    if not models.is_dir():
        parser.error(f"--models {models}: no such folder")

    from export import tflm_kit
    from runtime.files import replace_together
    from runtime.mnist_data import MnistDataError, load_mnist

    missing = list(dict.fromkeys(tflm_kit.missing_tools("host") + tflm_kit.missing_tools("m4")))
    if missing:
        print(f"mnist-edge bench mcu: error: missing {', '.join(missing)} (scripts/install_mcu_toolchain.sh)", file=sys.stderr)
        return 2
    folders = model_folders(models)
    if not folders:
        print(f"mnist-edge bench mcu: error: no model folder with a micro/ bundle under {models}", file=sys.stderr)
        return 2
    try:
        mnist = load_mnist(args.data)
    except MnistDataError as exc:
        print(f"mnist-edge bench mcu: error: {exc}", file=sys.stderr)
        return 2
    images, labels = mnist.x_test[:args.images], mnist.y_test[:args.images]
    results = []
    with tempfile.TemporaryDirectory(prefix="mcu_costs_") as tmp:
        for i, folder in enumerate(folders):
            print(f"[mcu] {folder}: building and running on the emulated Cortex-M4", file=sys.stderr)
            results.append(measure_model(folder, Path(tmp) / str(i), images, labels, args.reference_images))
    result = {"kit": tflm_kit.kit_version(), "clocks_mhz": CLOCKS_MHZ, "limits": LIMITS, "models": results}
    table = to_markdown(result)
    replace_together({Path(args.out) / "mcu_costs.json": (json.dumps(result, indent=2) + "\n").encode(),
                      Path(args.out) / "mcu_costs.md": table.encode()})
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
