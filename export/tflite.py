"""Keras -> TFLite in the four flavours: float32, float16 weights, dynamic range, full int8."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


def _converter(model: keras.Model, batch_size: int | None = None) -> tf.lite.TFLiteConverter:
    if batch_size is not None:
        # A fixed batch of 1 gives TFLM a static graph: Flatten becomes one RESHAPE
        # instead of SHAPE/STRIDED_SLICE/PACK/RESHAPE.
        image = keras.Input((28, 28, 1), batch_size=batch_size, name="image")
        model = keras.Model(image, model(image, training=False), name=model.name)
    return tf.lite.TFLiteConverter.from_keras_model(model)


def to_tflite_fp32(model: keras.Model, calibration: np.ndarray | None = None) -> bytes:
    return _converter(model).convert()


def to_tflite_fp16(model: keras.Model, calibration: np.ndarray | None = None) -> bytes:
    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return converter.convert()


def to_tflite_dynamic(model: keras.Model, calibration: np.ndarray | None = None) -> bytes:
    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def to_tflite_int8(model: keras.Model, calibration: np.ndarray) -> bytes:
    """Full integer: int8 weights and activations, int8 input and output, int8 builtins only, batch 1."""
    converter = _converter(model, batch_size=1)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]

    def representative_dataset():
        for image in calibration:
            yield [image[None].astype(np.float32)]

    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()
