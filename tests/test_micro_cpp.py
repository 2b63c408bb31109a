"""The shipped TFLM bundles in the real TensorFlow Lite Micro C++ library (the prebuilt kit, ../shared/tflm).

For each bundle: its README's program, built by its README's commands, runs on
x86-64 and must give the TFLM Python interpreter's int8 scores exactly; a
Cortex-M4 firmware (CMSIS-NN kernels) runs under qemu's MPS2 AN386 board and must
give x86-64's scores. Everything is built once per session under build/.
Needs g++, arm-none-eabi-g++ and qemu-system-arm (scripts/install_mcu_toolchain.sh);
under CI a missing tool fails the tests instead of skipping them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from export import tflm_kit
from export.micro_check import compare_scores, firmware_memory
from runtime.predictor import load_predictor

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "test_micro_cpp"
# Bundle -> (x86-64 images, Cortex-M4 images). TFLM's reference kernels take ~50 ms per image of
# the seed CNN on x86-64, the emulated M4 ~40 ms: a sample of the test set here, all of it at export.
BUNDLES = {"micro": (200, 200), "edge/micro": (400, 300)}


@pytest.fixture(scope="session")
def toolchain():
    missing = tflm_kit.missing_tools("host") + tflm_kit.missing_tools("m4")
    if missing and os.geteuid() == 0:
        subprocess.run(["bash", str(REPO / "scripts" / "install_mcu_toolchain.sh")], check=False)
        missing = tflm_kit.missing_tools("host") + tflm_kit.missing_tools("m4")
    if missing:
        message = f"needs {', '.join(dict.fromkeys(missing))} (scripts/install_mcu_toolchain.sh)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the TFLM C++ tests: {message}")
        pytest.skip(message)


class Built:
    """One bundle built and run on both targets, with the Python interpreter's scores for the same images."""

    def __init__(self, name: str, mnist):
        self.bundle = REPO / "models" / name
        self.info = json.loads((self.bundle / "bundle.json").read_text())
        self.classes = self.info["output"]["shape"][1]
        n_x86, n_m4 = BUNDLES[name]
        self.work = BUILD / name.replace("/", "_")
        shutil.rmtree(self.work, ignore_errors=True)
        self.images, self.labels = mnist.x_test[:n_x86], mnist.y_test[:n_x86]
        tflm = load_predictor(self.bundle / "model.tflite", backend="tflm", verify=False)
        self.python_scores = tflm.backend.run(tflm.to_model_input(self.images)).reshape(n_x86, -1)
        self.program = tflm_kit.build_host(self.bundle, self.work / "x86_64")
        self.x86 = tflm_kit.run_host(self.program, self.images, self.classes)
        self.elf = tflm_kit.build_firmware(self.bundle, self.work / "cortex_m4", self.images[:n_m4], self.labels[:n_m4])
        self.m4 = tflm_kit.parse_firmware(tflm_kit.run_qemu(self.elf), self.classes)


@pytest.fixture(scope="module", params=list(BUNDLES), ids=lambda n: n.replace("/", "_"))
def built(request, toolchain, mnist):
    return Built(request.param, mnist)


def test_array_holds_exactly_the_model(built):
    source = (built.bundle / "mnist_model_data.cc").read_text()
    body = source[source.index("{") + 1:source.index("};")]
    array = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", body))
    assert array == (built.bundle / "model.tflite").read_bytes()
    assert f"g_mnist_model_data_len = {len(array)};" in source


def test_readme_program_on_x86_gives_the_python_interpreters_scores(built):
    """Hundreds of mnist_classify() calls in one process (the old example broke on the 4th), bit-exact."""
    diff = compare_scores(built.x86.scores, built.python_scores)
    assert diff["differing_values"] == 0, diff
    assert np.array_equal(built.x86.digits, built.python_scores.argmax(1))
    assert (built.x86.digits == built.labels).mean() >= 0.98
    # The arena in use is what the export measured in C++, and fits the size compiled in.
    assert built.x86.arena_used_bytes == built.info["cpp"]["x86_64"]["arena_used_bytes"]
    assert built.x86.arena_used_bytes <= built.info["arena"]["recommended_bytes"]


def test_cortex_m4_firmware_gives_the_x86_scores(built):
    n = len(built.m4.digits)
    assert n == BUNDLES[str(built.bundle.relative_to(REPO / "models"))][1]
    # CMSIS-NN and the reference kernels implement the same integer arithmetic: no value may differ.
    diff = compare_scores(built.m4.scores, built.x86.scores[:n])
    assert diff["differing_values"] == 0, diff
    assert (built.m4.digits == built.labels[:n]).mean() >= 0.98
    # 32-bit pointers: the M4 needs less arena than x86-64; the export recorded the same figure.
    assert built.m4.arena_used_bytes < built.x86.arena_used_bytes
    assert built.m4.arena_used_bytes == built.info["cpp"]["cortex_m4"]["arena_used_bytes"]
    assert len(built.m4.instructions) == n and min(built.m4.instructions) > 0
    recorded = built.info["cpp"]["cortex_m4"]["instructions_per_classify"]["mean"]
    assert np.mean(built.m4.instructions) == pytest.approx(recorded, rel=0.01)


def test_firmware_flash_holds_model_and_code(built):
    memory = firmware_memory(built.elf)
    assert memory["flash_bytes"] > built.info["model_bytes"]
    assert memory["flash_bytes"] == built.info["cpp"]["cortex_m4"]["flash_bytes"]
    assert memory["sections"][".bss"] >= built.info["arena"]["recommended_bytes"]


def test_setup_reports_a_too_small_arena_and_classify_refuses(built):
    """Every status is checked: with half the arena, set-up fails with TFLM's reason and the program exits 1."""
    work = built.work / "small_arena"
    shutil.copytree(built.program.parent, work)
    source = work / "mnist_classifier.cc"
    text = source.read_text()
    size = built.info["arena"]["recommended_bytes"]
    assert f"kTensorArenaSize = {size};" in text
    source.write_text(text.replace(f"kTensorArenaSize = {size};", f"kTensorArenaSize = {size // 2};"))
    blocks = tflm_kit.readme_blocks((built.bundle / "README.md").read_text(), "sh")
    tflm_kit.run_script(blocks[0] + blocks[1], work)
    proc = subprocess.run([str(work / "mnist_app")], input=built.images[:2].tobytes(), capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert b"AllocateTensors failed" in proc.stderr


def test_the_cpp_check_reports_its_steps_on_stderr(monkeypatch, capsys, tmp_path):
    """export's C++ proof takes minutes: with progress on, each of its four steps shows on stderr, never stdout."""
    import types

    import runtime.progress as progress_module
    from export import micro_check

    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)  # the real steps take minutes; these take nothing
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_S", 0.0)
    scores = np.zeros((3, 11), np.int8)
    run = types.SimpleNamespace(scores=scores, digits=np.zeros(3, int), arena_used_bytes=1000, instructions=[5, 5, 5])
    calls = []
    fakes = {"missing_tools": lambda target: [], "kit_version": lambda: "fake",
             "build_host": lambda bundle, work: calls.append("build_host") or work / "program",
             "run_host": lambda program, images, classes: calls.append("run_host") or run,
             "build_firmware": lambda bundle, work, images, labels: calls.append("build_firmware") or work / "fw.elf",
             "run_qemu": lambda elf: calls.append("run_qemu") or "log",
             "parse_firmware": lambda log, classes: run, "elf_sections": lambda elf: {".text": 10, ".bss": 20}}
    for name, fake in fakes.items():
        monkeypatch.setattr(tflm_kit, name, fake)
    images, labels = np.zeros((3, 28, 28), np.uint8), np.zeros(3, int)

    result = micro_check.check_bundle_cpp(tmp_path, images, labels, scores, 3, work=tmp_path, progress=True)
    out, err = capsys.readouterr()
    assert calls == ["build_host", "run_host", "build_firmware", "run_qemu"]
    assert result["x86_64"]["identical_images"] == 3 and result["cortex_m4"]["flash_bytes"] == 10
    lines = err.splitlines()
    assert lines[0].startswith("TFLM C++ check") and "1/4 steps" in lines[0]
    assert "4/4 steps in" in lines[-1] and out == ""

    micro_check.check_bundle_cpp(tmp_path, images, labels, scores, 3, work=tmp_path)  # the default: silent
    assert capsys.readouterr() == ("", "")
