"""Where int8 loses precision, per tensor, with the field's own tools, and what keeping a layer float buys.

TFLite: tf.lite.experimental.QuantizationDebugger re-quantizes the Keras
model with the saved calibration images (the same recipe as export's int8
model) and compares each quantized op's output with its float counterpart.
ONNX: onnxruntime.quantization.qdq_loss_debug runs the shipped QDQ model and
the float model it was quantized from and gives each tensor's SQNR.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

IDEAL_RMSE_OVER_SCALE = 0.289  # uniform rounding error: 1/sqrt(12) of a quantization step
LOOK_RMSE_OVER_SCALE = 0.7  # TensorFlow's guide: above this a layer deserves a look


def short_name(tensor: str) -> str:
    """A readable label for a converter's long tensor name: its first part without the model's scope prefix."""
    parts = tensor.split(";")[0].split(":")[0].split("/")
    while len(parts) > 2 and parts[0] == parts[1]:
        parts = parts[1:]
    return "/".join(parts[1:] if len(parts) > 1 else parts)


@contextlib.contextmanager
def c_stdout_to_stderr():
    """Send what C code prints on stdout (the MLIR quantizer's "fully_quantize: ..." lines) to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def converter_output_quiet():
    """The MLIR quantizer's "fully_quantize: ..." lines: dropped, or with -v sent to stderr (never to stdout)."""
    import runtime.quiet

    if runtime.quiet.SHOW_NATIVE_OUTPUT:
        with c_stdout_to_stderr():
            yield
    else:
        with runtime.quiet.native_output_silenced():
            yield


# ----------------------------------------------------------------------------------------------- TFLite

def _int8_converter(model, calibration: np.ndarray):
    """The converter export.tflite.to_tflite_int8 uses, so the debugger quantizes exactly as export does."""
    import tensorflow as tf

    from export.tflite import _converter

    converter = _converter(model, batch_size=1)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image[None].astype(np.float32)] for image in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter


def tflite_debugger(model, calibration: np.ndarray, debug_images: np.ndarray):
    """A QuantizationDebugger over the model quantized as export does, run on `debug_images`."""
    import tensorflow as tf

    import warnings

    tf.get_logger().setLevel("ERROR")
    with converter_output_quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice: the debugger uses it inside
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=_int8_converter(model, calibration),
            debug_dataset=lambda: ([image[None].astype(np.float32)] for image in debug_images))
        debugger.run()
    return debugger


def _op_outputs(model_bytes: bytes) -> list[tuple[str, str, np.dtype]]:
    """(op name, output tensor name, dtype) of every op of a TFLite model, in order."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=model_bytes)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    return [(op["op_name"], tensors[i]["name"], tensors[i]["dtype"])
            for op in interpreter._get_ops_details() for i in op["outputs"]]  # public API has no op list


def tflite_layer_rows(debugger) -> list[dict]:
    """One row per quantized op output: mean error, max abs error, RMSE, RMSE/scale (0.29 ideal, > 0.7 look).

    Names are those of the calibrated model, which export's int8 model shares.
    """
    from ai_edge_litert.interpreter import Interpreter

    calibrated = [name for _, name, _ in _op_outputs(debugger.calibrated_model)]
    quant = Interpreter(model_content=debugger.quant_model)
    tensors = {t["index"]: t for t in quant.get_tensor_details()}
    producer = {i: op["op_name"] for op in quant._get_ops_details() for i in op["outputs"]}
    rows = []
    for op in quant._get_ops_details():
        if op["op_name"] != "NumericVerify":
            continue
        checked = tensors[op["inputs"][0]]
        stats = debugger.layer_statistics[tensors[op["outputs"][0]]["name"]]
        # The debug model names a tensor as the calibrated model does plus a digit suffix.
        name = max((c for c in calibrated if checked["name"].startswith(c) and checked["name"][len(c):].isdigit()),
                   key=len, default=checked["name"])
        scale = float(checked["quantization_parameters"]["scales"][0])
        rmse = float(np.sqrt(stats["mean_squared_error"]))
        # The converter names the model's output after the SavedModel call (StatefulPartitionedCall:0).
        layer = "model output" if name.startswith("StatefulPartitionedCall") else short_name(name)
        rows.append({"tensor": name, "layer": layer, "op": producer[op["inputs"][0]],
                     "elements": int(stats["num_elements"]), "scale": scale,
                     "zero_point": int(checked["quantization_parameters"]["zero_points"][0]),
                     "mean_error": float(stats["mean_error"]), "max_abs_error": float(stats["max_abs_error"]),
                     "rmse": rmse, "rmse_over_scale": rmse / scale})
    return rows


def tflite_variant(debugger, denylisted: list[str]) -> bytes:
    """The model quantized as export does (int8 in and out), with the `denylisted` op outputs kept float."""
    import tensorflow as tf

    with converter_output_quiet():
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=list(denylisted) or None, fully_quantize=True)
        return debugger.get_nondebug_quantized_model()


def quantized_activations_tflite(model_bytes: bytes) -> list[str]:
    """Names of the int8 activation tensors (op outputs) of a TFLite model: what a per-layer report must cover."""
    return [name for op, name, dtype in _op_outputs(model_bytes)
            if dtype == np.int8 and op not in ("QUANTIZE", "DEQUANTIZE")]


# ------------------------------------------------------------------------------------------------- ONNX

class _Reader:
    """onnxruntime's CalibrationDataReader protocol over float images, one per call."""

    def __init__(self, images: np.ndarray, input_name: str):
        self._items = iter([{input_name: image[None].astype(np.float32)} for image in images])

    def get_next(self):
        return next(self._items, None)

    def __iter__(self):
        return iter(self.get_next, None)


def prepared_float(fp32_path: Path, folder: Path) -> Path:
    """quant_pre_process of the float ONNX model: the graph export's quantizer actually quantized."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    out = folder / "prepared.onnx"
    quant_pre_process(str(fp32_path), str(out), skip_symbolic_shape=False)
    return out


def _input_name(path: Path) -> str:
    import onnx

    return onnx.load(str(path)).graph.input[0].name


def _activation_quant_params(graph) -> dict[str, tuple[float, int]]:
    """{activation tensor: (scale, zero point)} from the QuantizeLinear nodes of a QDQ graph."""
    from onnx import numpy_helper

    init = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    params = {}
    for node in graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in init:
            name = node.input[0].removesuffix("_QuantizeLinear_Input")
            zero_point = int(init[node.input[2]]) if len(node.input) > 2 and node.input[2] in init else 0
            params[name] = (float(init[node.input[1]]), zero_point)
    return params


def onnx_layer_rows(fp32_path: Path, int8_path: Path, debug_images: np.ndarray) -> list[dict]:
    """SQNR (dB) per quantized tensor: local (before vs after its QDQ pair) and cumulative (float model vs QDQ model).

    onnxruntime's quantizer folds a ReLU into the QuantizeLinear after a Conv/Gemm (zero point -128 clamps at 0),
    so the tensor before the pair still holds the negatives the ReLU removes; local SQNR clips them at the int8
    range's floor first, so it measures rounding and saturation, not the folded ReLU.
    """
    import onnx
    from onnxruntime.quantization import qdq_loss_debug as qdq

    graph = onnx.load(str(int8_path)).graph
    quant = _activation_quant_params(graph)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared = prepared_float(fp32_path, tmp)
        name = _input_name(prepared)
        runs = {}
        for tag, path in (("float", prepared), ("qdq", Path(int8_path))):
            augmented = tmp / f"{tag}.augmented.onnx"
            qdq.modify_model_output_intermediate_tensors(str(path), str(augmented))
            runs[tag] = qdq.collect_activations(str(augmented), _Reader(debug_images, name))
        matched = qdq.create_activation_matching(runs["qdq"], runs["float"])
        weights = qdq.compute_weight_error(qdq.create_weight_matching(str(prepared), str(int8_path)))
    sqnr = qdq.compute_signal_to_quantization_noice_ratio
    producer = {out: node for node in graph.node for out in node.output}
    order = {t: i for i, t in enumerate(quant)}
    rows = []
    for tensor in sorted(matched, key=lambda t: order.get(t, len(order))):
        m = matched[tensor]
        scale, zero_point = quant.get(tensor, (None, 0))
        floor = scale * (-128 - zero_point) if scale else -np.inf
        local = sqnr([np.maximum(a, floor) for a in m["pre_qdq"]], m["post_qdq"])
        # compute_activation_error needs a float twin for every tensor; the input's Reshape has none.
        cumulative = sqnr(m["float"], m["post_qdq"]) if m.get("float") else float("nan")
        node = producer.get(f"{tensor}_QuantizeLinear_Input") or producer.get(tensor)
        rows.append({"tensor": tensor, "layer": short_name(tensor), "kind": "activation",
                     "op": node.op_type if node else "input", "node": node.name if node else None,
                     "scale": scale, "zero_point": zero_point,
                     "sqnr_local_db": float(local), "sqnr_cumulative_db": float(cumulative)})
    for tensor, value in weights.items():
        rows.append({"tensor": tensor, "layer": short_name(tensor), "kind": "weight", "op": "initializer", "node": None,
                     "scale": None, "zero_point": None, "sqnr_local_db": float(value), "sqnr_cumulative_db": float("nan")})
    return rows


def quantized_activations_onnx(int8_path: Path) -> list[str]:
    """Activation tensors a QDQ model quantizes (QuantizeLinear inputs that are not initializers)."""
    import onnx

    graph = onnx.load(str(int8_path)).graph
    initializers = {i.name for i in graph.initializer}
    suffix = "_QuantizeLinear_Input"
    return [n.input[0][: -len(suffix)] if n.input[0].endswith(suffix) else n.input[0]
            for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] not in initializers]


def float_nodes_for(graph, tensor: str) -> list[str]:
    """Names of the float graph's nodes that compute `tensor`: its producer, and the Conv/Gemm under a ReLU.

    Looked up by tensor, not node name: tf2onnx numbers some node names (Conv__91) per conversion, so the
    names in the int8 artifact need not be those of the float model it is re-quantized from.
    """
    producer = {out: node for node in graph.node for out in node.output}
    node = producer.get(tensor)
    if node is None:
        raise ValueError(f"no node computes {tensor!r} in the float ONNX model")
    names = [node.name]
    if node.op_type in ("Relu", "Clip") and node.input[0] in producer:  # the quantizer folds these into the QDQ pair
        names.insert(0, producer[node.input[0]].name)
    return names


def onnx_variant(fp32_path: Path, calibration: np.ndarray, keep_float: list[str]) -> bytes:
    """Export's ONNX int8 recipe (QDQ, S8S8, per-channel) with the layers computing the `keep_float` tensors left float."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared = prepared_float(fp32_path, tmp)
        graph = onnx.load(str(prepared)).graph
        exclude = [name for tensor in keep_float for name in float_nodes_for(graph, tensor)]
        out = tmp / "int8.onnx"
        reader = _Reader(calibration, _input_name(prepared))
        quantize_static(str(prepared), str(out), reader, quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=exclude)
        proto = onnx.load(str(out))
        onnx.checker.check_model(proto)
        return proto.SerializeToString()
