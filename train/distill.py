"""Knowledge distillation: a trained teacher's soft digit targets blended into the training labels.

For each augmented training batch the teacher reads the same images; where an
image is a digit the teacher reads right, its target becomes
(1 - weight) x the one-hot label + weight x the teacher's ten digit
probabilities softened by a temperature (probabilities ** (1 / T),
renormalised: softmax(logits / T)). Everything else keeps its hard label: the
"not a digit" crops, and digits the teacher misreads (a slashed 0 or a crossed 7
it never saw is not taught as its guess). The student is trained with
cross-entropy on these targets; validation and test keep hard labels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import keras
import tensorflow as tf

DIGITS = 10


def load_teacher(path: str | Path) -> keras.Model:
    """A trained .keras model reading 28x28x1 images into 10 digit outputs (or 11, with "not a digit"), or a
    clear ValueError / FileNotFoundError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"teacher model {path}: no such file")
    try:
        teacher = keras.models.load_model(path, compile=False)
    except Exception as exc:  # a zip that is not a Keras archive, a truncated file: Keras raises many kinds
        raise ValueError(f"teacher model {path}: not a readable .keras model ({exc.__class__.__name__}: {exc})") from exc
    shape_in, shape_out = tuple(teacher.input_shape[1:]), int(teacher.output_shape[-1])
    if shape_in != (28, 28, 1) or shape_out not in (DIGITS, DIGITS + 1):
        raise ValueError(f"teacher model {path}: reads {shape_in} into {shape_out} outputs; a teacher reads "
                         f"(28, 28, 1) images into 10 digits (or 11, with \"not a digit\")")
    teacher.trainable = False
    return teacher


def soft_targets(teacher: keras.Model, num_classes: int, weight: float, temperature: float) -> Callable:
    """A tf.data map (images, int labels) -> (images, float targets over `num_classes`), as the module says."""
    if not 0 < weight <= 1 or not temperature > 0:
        raise ValueError(f"teacher weight must be in (0, 1] and temperature > 0, got {weight} and {temperature}")

    def targets(images, labels):
        probs = tf.cast(teacher(images, training=False), tf.float32)[:, :DIGITS]
        probs = probs / tf.reduce_sum(probs, axis=1, keepdims=True)
        soft = tf.pow(tf.maximum(probs, 1e-12), 1.0 / temperature)
        soft = soft / tf.reduce_sum(soft, axis=1, keepdims=True)
        soft = tf.pad(soft, [[0, 0], [0, num_classes - DIGITS]])
        labels = tf.cast(labels, tf.int32)
        agrees = tf.logical_and(labels < DIGITS, tf.cast(tf.argmax(probs, axis=1), tf.int32) == labels)
        w = tf.where(agrees, weight, 0.0)[:, None]
        return images, (1.0 - w) * tf.one_hot(labels, num_classes) + w * soft

    return targets
