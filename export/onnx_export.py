"""Keras -> ONNX with tf2onnx, and ONNX -> int8 (QDQ, S8S8, per-channel) with onnxruntime's quantizer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf

ONNX_OPSET = 17
INPUT_NAME = "image"


def to_onnx_fp32(model: keras.Model, calibration: np.ndarray | None = None) -> bytes:
    """tf2onnx from a tf.function with an explicit signature (from_keras breaks on Keras 3)."""
    import tf2onnx

    signature = [tf.TensorSpec([None, 28, 28, 1], tf.float32, name=INPUT_NAME)]

    @tf.function(input_signature=signature)
    def serve(image):
        return {"probabilities": model(image, training=False)}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=signature, opset=ONNX_OPSET)
    onnx.checker.check_model(proto)
    return proto.SerializeToString()


def to_onnx_int8(model: keras.Model, calibration: np.ndarray) -> bytes:
    """Static int8 quantization of the fp32 ONNX model, calibrated on the saved calibration images."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._batches = iter([{INPUT_NAME: image[None].astype(np.float32)} for image in calibration])

        def get_next(self):
            return next(self._batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        fp32, prepped, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "prep.onnx", Path(tmp) / "int8.onnx"
        fp32.write_bytes(to_onnx_fp32(model))
        quant_pre_process(str(fp32), str(prepped), skip_symbolic_shape=False)
        quantize_static(
            str(prepped), str(int8), Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
        proto = onnx.load(str(int8))
        onnx.checker.check_model(proto)
        return proto.SerializeToString()
