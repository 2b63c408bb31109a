"""The edge-sized model shipped in models/edge/: its budget, its operators, its exports' parity through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from export.formats import FORMATS, INT8_FORMAT
from export.macs import model_macs, operator_macs
from runtime.manifest import load_manifest
from runtime.predictor import load_predictor
from train.models import build_edge_cnn

EDGE = Path(__file__).resolve().parents[1] / "models" / "edge"
# Operators TFLM runs with CMSIS-NN kernels (or that cost nothing: RESHAPE) on a Cortex-M.
MCU_FRIENDLY = {"CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D", "AVERAGE_POOL_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"}


@pytest.fixture(scope="module")
def manifest():
    return load_manifest(EDGE)


def test_builder_takes_the_number_of_classes():
    assert build_edge_cnn().output_shape == (None, 10)
    assert build_edge_cnn(num_classes=11).output_shape == (None, 11)


def test_budget_and_operators(manifest):
    int8 = manifest.artifact(INT8_FORMAT).path
    assert model_macs(int8) <= 900_000  # a tenth of the seed CNN's 9,058,048
    assert int8.stat().st_size <= 40 * 1024
    ops = {row.op for row in operator_macs(int8)}
    assert ops <= MCU_FRIENDLY, ops - MCU_FRIENDLY
    # Batch norm is folded into the convolutions and dropout is gone: no such operators remain.
    assert not ops & {"MUL", "ADD", "SUB", "DIV", "RSQRT"}


def test_every_format_passed_its_parity_check(manifest):
    assert list(manifest.artifacts) == list(FORMATS)
    for artifact in manifest.artifacts.values():
        artifact.verify()
        assert artifact.parity["passed"] and artifact.parity["images"] == 10_000, artifact.format


def test_int8_accuracy_in_litert_and_tflm(manifest, mnist):
    """The int8 model's accuracy as recorded, at least the issue's target of 99.5 %, and TFLM predicting like LiteRT.

    models/edge/README.md has every seed of the recipe (the shipped one was chosen on the validation hold-out).
    """
    litert = load_predictor(INT8_FORMAT, manifest=EDGE)
    litert_top1 = litert.predict(mnist.x_test).argmax(1)
    accuracy = (litert_top1 == mnist.y_test).mean()
    assert accuracy == pytest.approx(manifest.artifact(INT8_FORMAT).parity["accuracy"])
    assert accuracy >= 0.995
    tflm = load_predictor(EDGE / "micro" / "model.tflite", backend="tflm", verify=False)
    sample = slice(0, 2000)  # ~1 ms per image in TFLM; the export ran all 10,000
    assert (tflm.predict(mnist.x_test[sample]).argmax(1) != litert_top1[sample]).sum() <= 1
