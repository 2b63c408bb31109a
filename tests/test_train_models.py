"""train/models.py: every zoo model builds with the notebook's parameter count."""

from __future__ import annotations

import pytest

from train.models import MODEL_ZOO, build_model


@pytest.mark.parametrize("name", list(MODEL_ZOO))
def test_parameter_count(name):
    model = build_model(name)
    assert model.count_params() == MODEL_ZOO[name].params
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)


def test_cnn_is_the_notebooks_architecture():
    model = build_model("cnn_aug")
    assert model.count_params() == 342_522
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Conv2D", "MaxPooling2D", "Dropout", "Conv2D", "MaxPooling2D", "Dropout",
                     "Flatten", "Dense", "Dropout", "Dense"]
    assert [model.layers[i].kernel_size for i in (0, 3)] == [(7, 7), (5, 5)]
    assert [model.layers[i].filters for i in (0, 3)] == [32, 48]
    assert all(model.layers[i].rate == 0.3 for i in (2, 5, 8))


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        build_model("resnet")


def test_cnn_with_the_not_a_digit_output():
    model = build_model("cnn_aug", num_classes=11)
    assert model.output_shape == (None, 11)
    assert model.count_params() == 342_522 + 129  # one more unit on the 128-wide dense layer
    assert [type(layer).__name__ for layer in model.layers] == [
        type(layer).__name__ for layer in build_model("cnn_aug").layers]
    with pytest.raises(ValueError, match="num_classes=11"):
        build_model("mlp", num_classes=11)
    with pytest.raises(ValueError, match="10 \\(digits\\) or 11"):
        build_model("cnn", num_classes=12)
