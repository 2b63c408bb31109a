"""The layout holds: what each package imports, read statically from the code (nothing is imported here).

Imports are `import` statements plus dotted module names written as strings
(`importlib.import_module("onnxruntime")`, a subcommand table's "bench.cli"),
so a lazy import counts like any other.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"train", "export", "runtime", "camera_demo", "bench", "mnist_edge"}
MODULE_STRING = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*(:[a-z_]\w*)?$")
# What runtime/ and camera_demo/ may import from outside the project, with the distribution of the
# `runtime` extra that provides it; None: optional, deliberately not in the extra (reason given).
DEVICE_THIRD_PARTY = {
    "numpy": "numpy",
    "cv2": "opencv-python-headless",
    "ai_edge_litert": "ai-edge-litert",
    "onnxruntime": "onnxruntime",
    "tqdm": "tqdm",  # progress bars (runtime/progress.py)
    "tflite_runtime": None,  # the older TFLite interpreter, a fallback when a device has it instead of LiteRT
    "tflite_micro": None,  # the TFLM interpreter: x86_64 dev builds only, in the export extra
    "picamera2": None,  # Raspberry Pi OS package (apt install python3-picamera2), not on PyPI for the Pi
}
NEVER_ON_A_DEVICE = {"tensorflow", "keras", "tf2onnx", "train", "export", "bench"}
LIBRARIES = set(DEVICE_THIRD_PARTY) | {"tensorflow", "keras", "tf2onnx", "matplotlib", "tqdm"}


def _imports(path: Path) -> set[str]:
    """Top-level names a file imports, by statement or as a dotted module name in a string."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.match(node.value):
            root = node.value.split(".")[0].split(":")[0]
            dotted = root != node.value
            if root in LIBRARIES or (dotted and root in PROJECT):  # "train" alone is a word, "train.cli" a module
                names.add(root)
    return names


def _package_imports(package: str) -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): _imports(p) for p in sorted((ROOT / package).glob("*.py"))}


def _runtime_extra() -> list[str]:
    """pyproject.toml's runtime extra (read as scripts/aarch64_check.sh reads it; tomllib needs Python 3.11)."""
    block = re.search(r"^runtime = \[(.*?)^\]", (ROOT / "pyproject.toml").read_text(), re.S | re.M).group(1)
    return re.findall(r'"([^"]+)"', block)


def _third_party(names: set[str]) -> set[str]:
    return {n for n in names if n not in sys.stdlib_module_names and n not in PROJECT}


@pytest.mark.parametrize("package", ["runtime", "camera_demo"])
def test_device_packages_import_no_tensorflow_and_nothing_upstream(package):
    offenders = {f: sorted(names & NEVER_ON_A_DEVICE) for f, names in _package_imports(package).items()
                 if names & NEVER_ON_A_DEVICE}
    assert not offenders, f"device code imports {offenders}"


def test_runtime_does_not_import_the_camera_demo_or_anything_above_it():
    offenders = {f: sorted(names & {"camera_demo"}) for f, names in _package_imports("runtime").items()
                 if "camera_demo" in names}
    assert not offenders


def test_export_does_not_import_train():
    assert not [f for f, names in _package_imports("export").items() if names & {"train", "bench"}]


def test_nothing_imports_bench_but_bench_and_the_console_script():
    files = {**_package_imports("train"), **_package_imports("export"), **_package_imports("runtime"),
             **_package_imports("camera_demo")}
    assert not [f for f, names in files.items() if "bench" in names]
    assert "bench" in _imports(ROOT / "mnist_edge.py")  # the `mnist-edge bench` family is reached from there


def test_the_runtime_extra_holds_exactly_what_device_code_imports():
    found = set()
    for package in ("runtime", "camera_demo"):
        for names in _package_imports(package).values():
            found |= _third_party(names)
    unknown = found - set(DEVICE_THIRD_PARTY)
    assert not unknown, f"device code imports {sorted(unknown)}: add it to the runtime extra and DEVICE_THIRD_PARTY"
    needed = {DEVICE_THIRD_PARTY[name] for name in found} - {None}
    listed = {re.split(r"[=<>;\[ ]", spec, maxsplit=1)[0] for spec in _runtime_extra()}
    assert listed == needed


def test_the_device_default_format_is_a_registered_one():
    """runtime/ cannot import the registry, so its default format name is checked against it here."""
    from export.formats import FORMATS, INT8_FORMAT
    from runtime.manifest import DEFAULT_FORMAT

    assert DEFAULT_FORMAT == INT8_FORMAT and DEFAULT_FORMAT in FORMATS


def test_reading_the_format_registry_imports_no_converter():
    import subprocess

    code = ("import sys, export.formats as f; assert f.FORMATS; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tf2onnx', 'export.tflite', 'export.onnx_export') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_predicting_28x28_images_loads_no_opencv():
    """OpenCV (about 17 MB of a fresh process) is loaded only by what reads frames: a classifier-only user, such
    as `mnist-edge predict` on MNIST, does not pay for it (a top-level import in the predictor once did)."""
    import subprocess

    code = ("import sys, numpy as np; from runtime.predictor import load_predictor; "
            "p = load_predictor('tflite-int8'); p.statuses(p.predict(np.zeros((2, 28, 28), np.uint8))); "
            "print('cv2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
