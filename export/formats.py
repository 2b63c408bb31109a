"""The one registry of export formats that export, the benchmark and the tests iterate. Adding a format is adding an entry.

Plain data: each converter is named "module:function" and imported only when
used, so reading the registry imports no TensorFlow.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Tolerance:
    """How close an export must stay to the float Keras model on the 10,000 test images."""

    min_agreement: float  # fraction of images with the same top-1 class as the float model
    max_accuracy_drop_pp: float  # percentage points of test accuracy it may lose


EXACT = Tolerance(min_agreement=0.9999, max_accuracy_drop_pp=0.01)
QUANTIZED = Tolerance(min_agreement=0.998, max_accuracy_drop_pp=0.10)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str  # appended to the model's stem to name the file
    runtimes: tuple[str, ...]  # backends in runtime.backends that run it; the first is its own
    convert: str  # "module:function": (keras model, float calibration images (N, 28, 28, 1) or None) -> file bytes
    tolerance: Tolerance
    needs_calibration: bool
    description: str

    @property
    def runtime(self) -> str:
        return self.runtimes[0]

    @property
    def runs_on_micro(self) -> bool:
        """TFLM runs it: export checks it there too and writes the microcontroller bundle from it."""
        return "tflm" in self.runtimes

    def converter(self) -> Callable:
        """The converter function, imported now (it imports TensorFlow or tf2onnx)."""
        module, _, function = self.convert.partition(":")
        return getattr(importlib.import_module(module), function)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("tflite-fp32", ".fp32.tflite", ("litert",), "export.tflite:to_tflite_fp32", EXACT, False,
                     "TFLiteConverter, no optimization"),
        ExportFormat("tflite-fp16", ".fp16.tflite", ("litert",), "export.tflite:to_tflite_fp16", EXACT, False,
                     "float16 weights, float32 compute"),
        ExportFormat("tflite-dynamic", ".dynamic.tflite", ("litert",), "export.tflite:to_tflite_dynamic", QUANTIZED,
                     False, "dynamic range: int8 weights, float activations"),
        ExportFormat("tflite-int8", ".int8.tflite", ("litert", "tflm"), "export.tflite:to_tflite_int8", QUANTIZED, True,
                     "full integer: int8 weights and activations, int8 input/output, batch 1 (TFLM-ready)"),
        ExportFormat("onnx-fp32", ".fp32.onnx", ("onnxruntime",), "export.onnx_export:to_onnx_fp32", EXACT, False,
                     "tf2onnx, checked with onnx.checker"),
        ExportFormat("onnx-int8", ".int8.onnx", ("onnxruntime",), "export.onnx_export:to_onnx_int8", QUANTIZED, True,
                     "onnxruntime quantize_static: QDQ, S8S8, per-channel"),
    )
}
# The shipped model's format (`python -m export --int8`); runtime/manifest.py's DEFAULT_FORMAT names the
# same one on the device side, which never imports export/ (tests/test_layering.py checks they agree).
INT8_FORMAT = "tflite-int8"
# The float model every benchmark row is compared with when Keras is not installed.
FLOAT_REFERENCE_FORMAT = "tflite-fp32"


def select_formats(names: list[str] | None) -> list[ExportFormat]:
    """Formats by name in registry order; all of them for None."""
    if not names:
        return list(FORMATS.values())
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return [f for f in FORMATS.values() if f.name in names]
