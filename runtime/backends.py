"""Thin wrappers over each inference library: load once, run a batch of model-dtype inputs.

Libraries are imported lazily, inside the backend that needs them, so a
device with only LiteRT installed never touches onnxruntime. Never imports
TensorFlow: a .tflite file runs in LiteRT or tflite-runtime.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.quant import Int8Params, params_or_none
from runtime.quiet import native_output_silenced


MAX_THREADS = 64  # interpreter threads; far more segfaulted LiteRT and hung onnxruntime (issue 11)


def check_threads(threads: int | None) -> None:
    """None (the library's default) or 1..MAX_THREADS; anything else a ValueError that says the range."""
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")


class BackendUnavailableError(ImportError):
    """The library a backend needs is not installed; the message names the pip package."""


class ModelLoadError(ValueError):
    """The model file is missing, corrupt, truncated or not of the expected kind."""


@dataclass(frozen=True)
class TensorInfo:
    """dtype, shape (batch first; -1 where it may vary) and int8 parameters of a model tensor."""

    dtype: np.dtype
    shape: tuple[int, ...]
    quant: Int8Params | None


def import_tflite_interpreter():
    """(Interpreter class, library name): LiteRT, then tflite-runtime."""
    broken = []
    for module, library in (("ai_edge_litert.interpreter", "ai-edge-litert"),
                            ("tflite_runtime.interpreter", "tflite-runtime")):
        try:
            return importlib.import_module(module).Interpreter, library
        except ImportError as error:
            if _interrupted(error):  # Ctrl-C while its native part loaded can surface as an ImportError
                raise KeyboardInterrupt from error
            if importlib.util.find_spec(module.partition(".")[0]) is not None:
                broken.append(f"{library} is installed but did not load ({error})")
    if broken:
        raise BackendUnavailableError("no TFLite interpreter could be loaded: " + "; ".join(broken))
    raise BackendUnavailableError(
        "no TFLite interpreter is installed: pip install ai-edge-litert==2.3.0 "
        "(or pip install 'mnist-edge[runtime]')"
    )


def _interrupted(error: BaseException) -> bool:
    """Was this error raised while a KeyboardInterrupt (Ctrl-C, or a stop signal raised as one) unwound?"""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def tflite_operators(model: bytes | str | Path) -> tuple[object, list[dict]]:
    """A TFLite model's interpreter (tensors allocated) and its operators in order (op_name, inputs, outputs)."""
    cls, _ = import_tflite_interpreter()
    # Without the default XNNPACK delegate: its node would be listed as one more operator ("DELEGATE").
    resolver = importlib.import_module(cls.__module__).OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    with native_output_silenced():
        interpreter = cls(**source, experimental_op_resolver_type=resolver)
        interpreter.allocate_tensors()
    return interpreter, interpreter._get_ops_details()  # the public API has no op list


def read_model_bytes(path: Path, data: bytes | None = None) -> bytes:
    """The model file's bytes (or `data`, the same file already read and verified), with clear errors."""
    path = Path(path)
    if data is not None:
        if not data:
            raise ModelLoadError(f"{path}: the model file is empty")
        return data
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file")
    data = path.read_bytes()
    if not data:
        raise ModelLoadError(f"{path}: the model file is empty")
    return data


def _check_tflite_bytes(path: Path, data: bytes) -> None:
    # A FlatBuffer TFLite model carries the identifier "TFL3" at bytes 4-8.
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelLoadError(f"{path}: not a TFLite model (no TFL3 identifier)")


class LiteRTBackend:
    """A .tflite model in LiteRT (or its fallbacks); the batch dimension is resized on demand."""

    name = "litert"

    def __init__(self, path: Path, threads: int | None = None, data: bytes | None = None):
        self.path = Path(path)
        data = read_model_bytes(self.path, data)
        _check_tflite_bytes(self.path, data)
        interpreter_class, self.library = import_tflite_interpreter()
        try:
            with native_output_silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++
                self._interp = interpreter_class(model_content=data, num_threads=threads)
                self._interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{self.path}: {self.library} cannot load this model ({exc})") from exc
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self.input = TensorInfo(np.dtype(self._in["dtype"]), tuple(int(d) for d in self._in["shape_signature"]),
                                params_or_none(*self._in["quantization"]))
        self.output = TensorInfo(np.dtype(self._out["dtype"]), tuple(int(d) for d in self._out["shape_signature"]),
                                 params_or_none(*self._out["quantization"]))
        self._resizable = self.input.shape[0] == -1
        self._batch = int(self._in["shape"][0])

    def run(self, batch: np.ndarray) -> np.ndarray:
        if not self._resizable and len(batch) != self._batch:
            return np.concatenate([self.run(batch[i:i + 1]) for i in range(len(batch))])
        if len(batch) != self._batch:
            self._interp.resize_tensor_input(self._in["index"], [len(batch), *batch.shape[1:]])
            self._interp.allocate_tensors()
            self._batch = len(batch)
        self._interp.set_tensor(self._in["index"], batch)
        self._interp.invoke()
        return self._interp.get_tensor(self._out["index"])  # get_tensor returns a copy


_ORT_DTYPES = {"tensor(float)": np.float32, "tensor(int8)": np.int8, "tensor(uint8)": np.uint8}


class OnnxRuntimeBackend:
    """An .onnx model in onnxruntime's CPU execution provider."""

    name = "onnxruntime"
    library = "onnxruntime"

    def __init__(self, path: Path, threads: int | None = None, data: bytes | None = None):
        self.path = Path(path)
        data = read_model_bytes(self.path, data)
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError as exc:
            raise BackendUnavailableError("onnxruntime is not installed: pip install onnxruntime==1.32.0") from exc
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # x86-64 without VNNI sums int8 products in saturating 16 bits unless told not to (onnxruntime issue
        # 14642): measured on an AVX2 Zen 3, the int8 CNN read 99.44 % instead of its exported 99.47 %.
        options.add_session_config_entry("session.x64quantprecision", "1")
        try:
            self._session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own pybind exception types
            raise ModelLoadError(f"{self.path}: onnxruntime cannot load this model ({exc})") from exc
        meta_in, meta_out = self._session.get_inputs()[0], self._session.get_outputs()[0]
        self._input_name = meta_in.name
        self.input = TensorInfo(np.dtype(_ORT_DTYPES.get(meta_in.type, np.float32)),
                                tuple(d if isinstance(d, int) else -1 for d in meta_in.shape), None)
        self.output = TensorInfo(np.dtype(_ORT_DTYPES.get(meta_out.type, np.float32)),
                                 tuple(d if isinstance(d, int) else -1 for d in meta_out.shape), None)

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._input_name: batch})[0]


class TflmBackend:
    """An int8 .tflite model in the TensorFlow Lite Micro Python interpreter (batch 1, one image at a time)."""

    name = "tflm"
    library = "tflite-micro"

    def __init__(self, path: Path, threads: int | None = None, arena_size: int | None = None, data: bytes | None = None):
        self.path = Path(path)
        data = read_model_bytes(self.path, data)
        _check_tflite_bytes(self.path, data)
        try:
            tflm = importlib.import_module("tflite_micro.python.tflite_micro.runtime")
        except ImportError as exc:
            raise BackendUnavailableError(
                "the TFLM interpreter is not installed: pip install tflite-micro==0.dev20261023182759 (x86_64 only)"
            ) from exc
        try:
            self._interp = tflm.Interpreter.from_bytes(data, arena_size=arena_size)
        except Exception as exc:  # its Python flatbuffer parsing raises struct.error, IndexError...
            raise ModelLoadError(f"{self.path}: TFLM cannot load this model ({exc})") from exc
        details_in, details_out = self._interp.get_input_details(0), self._interp.get_output_details(0)

        def info(details) -> TensorInfo:
            qp = details["quantization_parameters"]
            quant = params_or_none(float(qp["scales"][0]), int(qp["zero_points"][0])) if len(qp["scales"]) else None
            return TensorInfo(np.dtype(details["dtype"]), tuple(int(d) for d in details["shape"]), quant)

        self.input, self.output = info(details_in), info(details_out)

    def run(self, batch: np.ndarray) -> np.ndarray:
        outputs = []
        for image in batch:
            self._interp.set_input(image[None], 0)
            self._interp.invoke()
            outputs.append(np.array(self._interp.get_output(0)).reshape(-1))
        return np.stack(outputs)


BACKENDS = {"litert": LiteRTBackend, "onnxruntime": OnnxRuntimeBackend, "tflm": TflmBackend}
SUFFIX_BACKEND = {".tflite": "litert", ".onnx": "onnxruntime"}
