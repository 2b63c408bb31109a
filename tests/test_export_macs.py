"""export/macs.py: MACs per operator against hand-computed values (the seed CNN and a tiny model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from export.macs import model_macs, operator_macs

MODELS = Path(__file__).resolve().parents[1] / "models"


def test_seed_cnn_macs():
    rows = operator_macs(MODELS / "mnist_cnn.int8.tflite")
    # conv 7x7x1->32 on 28x28 = 1,229,312; conv 5x5x32->48 on 14x14 = 7,526,400;
    # dense 2352->128 = 301,056; dense 128->11 (ten digits and "not a digit") = 1,408
    assert [(r.op, r.macs) for r in rows if r.macs] == [
        ("CONV_2D", 1_229_312), ("CONV_2D", 7_526_400), ("FULLY_CONNECTED", 301_056), ("FULLY_CONNECTED", 1_408)]
    assert [r.op for r in rows] == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                                    "FULLY_CONNECTED", "FULLY_CONNECTED", "SOFTMAX"]
    assert model_macs(MODELS / "mnist_cnn.int8.tflite") == 1_229_312 + 7_526_400 + 301_056 + 1_408
    assert rows[0].shape == "7x7x1->32 on 28x28"


@pytest.fixture(scope="module")
def tiny_tflite() -> bytes:
    import keras
    from keras import layers

    from export.tflite import to_tflite_fp32

    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(2, 3, strides=2, padding="valid"),   # 13x13x2 outputs x 3*3*1 = 3,042
        layers.DepthwiseConv2D(3, padding="same"),        # 13x13x2 outputs x 3*3 = 3,042
        layers.Conv2D(4, 1),                               # 13x13x4 outputs x 1*1*2 = 1,352
        layers.MaxPooling2D(2),                            # 0 (6x6x4 = 144 values)
        layers.Flatten(),
        layers.Dense(5),                                   # 144 x 5 = 720
    ])
    return to_tflite_fp32(model, None)


def test_tiny_model_macs(tiny_tflite):
    rows = operator_macs(tiny_tflite)
    assert [(r.op, r.macs) for r in rows if r.macs] == [
        ("CONV_2D", 3_042), ("DEPTHWISE_CONV_2D", 3_042), ("CONV_2D", 1_352), ("FULLY_CONNECTED", 720)]
    assert model_macs(tiny_tflite) == 8_156
    assert [r.op for r in rows][:4] == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "MAX_POOL_2D"]
    assert rows[3].macs == 0 and "DELEGATE" not in [r.op for r in rows]
