"""The reference notebook's models as Keras models, in one registry.

Keras is imported inside the builders: the registry's names (for `mnist-edge train --help`) load without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import keras


INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10  # the digits; an 11th output (index 10) means "not a digit"
NOT_A_DIGIT_CLASS = 10

# SGDClassifier's default alpha; its elastic net used l1_ratio=0.15.
LINEAR_ALPHA = 1e-4
ELASTIC_L1_RATIO = 0.15


def _linear(name: str, regularizer) -> keras.Model:
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE, name="image"),
            layers.Flatten(),
            layers.Dense(NUM_CLASSES, activation="softmax", kernel_regularizer=regularizer),
        ],
        name=name,
    )


def build_linear_l1() -> keras.Model:
    """Softmax regression with an L1 (Lasso) penalty."""
    from keras import regularizers

    return _linear("linear_l1", regularizers.L1(LINEAR_ALPHA))


def build_linear_l2() -> keras.Model:
    """Softmax regression with an L2 (Ridge) penalty."""
    from keras import regularizers

    return _linear("linear_l2", regularizers.L2(LINEAR_ALPHA))


def build_linear_elasticnet() -> keras.Model:
    """Softmax regression with an elastic-net penalty."""
    from keras import regularizers

    return _linear(
        "linear_elasticnet",
        regularizers.L1L2(l1=LINEAR_ALPHA * ELASTIC_L1_RATIO, l2=LINEAR_ALPHA * (1 - ELASTIC_L1_RATIO)),
    )


def _mlp(name: str, dropout: float) -> keras.Model:
    import keras
    from keras import layers

    stack = [keras.Input(INPUT_SHAPE, name="image"), layers.Flatten()]
    for width in (256, 128, 64, 32):
        stack.append(layers.Dense(width, activation="relu"))
        if dropout:
            stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(NUM_CLASSES, activation="softmax"))
    return keras.Sequential(stack, name=name)


def build_mlp() -> keras.Model:
    """MLP 784-256-128-64-32-10."""
    return _mlp("mlp", 0.0)


def build_mlp_dropout() -> keras.Model:
    """MLP 784-256-128-64-32-10 with dropout 0.3 after each hidden layer."""
    return _mlp("mlp_dropout", 0.3)


def build_cnn(name: str = "cnn", num_classes: int = NUM_CLASSES) -> keras.Model:
    """The notebook's CNN: 342,522 parameters (342,651 with the 11th, "not a digit", output)."""
    if num_classes not in (NUM_CLASSES, NUM_CLASSES + 1):
        raise ValueError(f"num_classes must be 10 (digits) or 11 (digits + not a digit), got {num_classes}")
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE, name="image"),
            layers.Conv2D(32, 7, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.3),
            layers.Conv2D(48, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.3),
            layers.Dense(num_classes, activation="softmax"),
        ],
        name=name,
    )


def build_edge_cnn(name: str = "edge_cnn", num_classes: int = NUM_CLASSES) -> keras.Model:
    """A CNN sized for int8 on microcontrollers: 826,560 MACs per image, 29,402 parameters.

    Only operators TFLM and CMSIS-NN run well: 3x3 'valid' convolutions (batch
    norm folded into them by the TFLite converter: 29,066 weights and biases
    remain; then ReLU), 2x2 max pooling,
    one dense layer, softmax; no dropout. Unpadded convolutions shrink the maps
    (28 -> 26 -> 13 -> 11 -> 5 -> 3), so the MACs go into channels (16, 32, 64).
    Its recipe (models/edge/README.md): augmentation, 40 epochs, batch 64, Adam
    3e-3 with cosine decay, label smoothing 0.05, and the moving average of the
    weights (EMA, momentum 0.999) validated and kept.
    """
    import keras
    from keras import layers

    stack = [keras.Input(INPUT_SHAPE, name="image")]
    for filters, pool in ((16, True), (32, True), (64, False)):
        stack += [layers.Conv2D(filters, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU()]
        if pool:
            stack.append(layers.MaxPooling2D(2))
    stack += [layers.Flatten(), layers.Dense(num_classes, activation="softmax")]
    return keras.Sequential(stack, name=name)


@dataclass(frozen=True)
class ModelSpec:
    """A zoo entry: how to build it, whether it trains with augmentation, the notebook's figure."""

    name: str
    build: Callable[..., keras.Model]
    augment: bool
    params: int
    notebook_test_accuracy: float | None


MODEL_ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("linear_l1", build_linear_l1, False, 7_850, 0.905),
        ModelSpec("linear_l2", build_linear_l2, False, 7_850, 0.918),
        ModelSpec("linear_elasticnet", build_linear_elasticnet, False, 7_850, 0.915),
        ModelSpec("mlp", build_mlp, False, 244_522, 0.9796),
        ModelSpec("mlp_dropout", build_mlp_dropout, False, 244_522, 0.9812),
        ModelSpec("cnn", build_cnn, False, 342_522, 0.9941),
        ModelSpec("cnn_aug", lambda **kw: build_cnn("cnn_aug", **kw), True, 342_522, 0.9946),
        ModelSpec("edge_cnn", build_edge_cnn, True, 29_402, None),  # not in the notebook
    )
}
SHIPPED_MODEL = "cnn_aug"


CONVOLUTIONAL = ("cnn", "cnn_aug")  # the zoo models that take num_classes=11


def build_model(name: str, num_classes: int = NUM_CLASSES) -> keras.Model:
    """Build a fresh, uncompiled zoo model by name; the CNNs can get the 11th "not a digit" output."""
    if name not in MODEL_ZOO:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODEL_ZOO)}")
    if num_classes == NUM_CLASSES:
        return MODEL_ZOO[name].build()
    if name not in CONVOLUTIONAL:
        raise ValueError(f"only {' and '.join(CONVOLUTIONAL)} take num_classes={num_classes}; {name} has 10 outputs")
    return MODEL_ZOO[name].build(num_classes=num_classes)
