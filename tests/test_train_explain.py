"""train/explain.py and train/attributions.py on the shipped CNN and real MNIST test digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.pngcheck import assert_picture
from train.explain import main as explain_main
from train.explain import pair_table, pick_examples
from train.explain_figures import attribution_size_px

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"


@pytest.fixture(scope="module")
def model():
    import keras

    return keras.models.load_model(MODELS / "cnn_aug.keras")


@pytest.fixture(scope="module")
def digits(mnist):
    return (mnist.x_test[:3].astype(np.float32) / 255.0)[..., None]


def test_integrated_gradients_have_the_input_shape_and_complete(model, digits):
    from train.attributions import integrated_gradients

    result = integrated_gradients(model, digits)
    classes = model.output_shape[-1]
    assert result.values.shape == (*digits.shape, classes)
    probs = model.predict(digits, verbose=0)
    # Completeness: for every image and class, attributions sum to f(x) - f(black image).
    assert result.sum_error(probs) < 0.01
    # They are not all zero: the predicted class's map carries most of that class's rise in probability.
    top = probs.argmax(1)
    assert all(result.values[n, ..., top[n]].sum() > 0.3 for n in range(len(digits)))


def test_shap_deep_explainer_is_additive(model, digits, mnist):
    from train.attributions import shap_deep

    background = (mnist.x_train[:20].astype(np.float32) / 255.0)[..., None]
    result = shap_deep(model, digits[:2], background)
    assert result.values.shape == (2, 28, 28, 1, model.output_shape[-1])
    expected = model.predict(background, verbose=0).mean(0)
    np.testing.assert_allclose(result.reference, expected, atol=1e-4)
    assert result.sum_error(model.predict(digits[:2], verbose=0)) < 1e-3


def test_examples_and_error_pairs_follow_the_predictions(mnist):
    labels = mnist.y_test[:500]
    preds = labels.copy()
    planted = [int(np.flatnonzero(labels == c)[1]) for c in (1, 4, 7)]  # the second 1, 4 and 7 read wrong
    preds[planted] = (labels[planted] + 1) % 10
    correct, wrong = pick_examples(labels, preds)
    assert sorted(labels[correct]) == list(range(10)) and all(preds[i] == labels[i] for i in correct)
    assert sorted(wrong) == sorted(planted)
    pairs = pair_table(labels, preds)
    assert sum(p["count"] for p in pairs) == 3 and {(p["true"], p["predicted"]) for p in pairs} == {(1, 2), (4, 5), (7, 8)}
    assert all(p["true"] != p["predicted"] for p in pairs)


def test_explain_writes_the_folder(tmp_path, mnist_path, capsys):
    out = tmp_path / "explain"
    code = explain_main(["--models-dir", str(MODELS), "--out", str(out), "--limit", "400", "--background", "10",
                         "--data", str(mnist_path), "--format", "tflite-int8", "--no-progress"])
    assert code == 0
    summary = json.loads((out / "explain.json").read_text())
    assert "method:" in capsys.readouterr().out
    classes = summary["outputs"]
    for kind in ("correct", "misclassified"):
        block = summary.get(f"attributions_{kind}")
        if block:
            assert block["max_sum_error"] < 1e-3
            assert_picture(out / summary["files"][f"attributions_{kind}"],
                           attribution_size_px(len(block["indices"]), classes))
    assert len(summary["attributions_correct"]["indices"]) == 10
    for key, name in summary["files"].items():
        assert_picture(out / name)
    assert {"filters_conv2d", "activations_conv2d"} <= set(summary["files"]) or \
        sum(k.startswith("filters_") for k in summary["files"]) == 2
    assert summary["errors"]["format"] == "tflite-int8"
    assert summary["errors"]["misclassified"] == sum(p["count"] for p in summary["errors"]["pairs"])
    readme = (out / "README.md").read_text()
    assert summary["method_why"] in readme


def test_unknown_format_is_a_clear_error(tmp_path, mnist_path, capsys):
    code = explain_main(["--models-dir", str(MODELS), "--out", str(tmp_path), "--format", "tflite-int4",
                         "--data", str(mnist_path), "--no-progress"])
    assert code == 2
    assert "tflite-int4" in capsys.readouterr().err
