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

import math
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

DIGITS = 10


def load_teacher(path: str | Path) -> keras.Model:
    """A trained .keras model reading 28x28x1 images into probabilities over 10 digits (or 11, with "not a
    digit"), or a clear ValueError / FileNotFoundError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"teacher model {path}: no such file")
    try:
        teacher = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for a bad archive, some claiming the file is missing
        raise ValueError(f"teacher model {path}: not a readable .keras model ({type(exc).__name__})") from exc
    needs = "a teacher reads (28, 28, 1) images into 10 digits (or 11, with \"not a digit\")"
    if len(teacher.inputs) != 1 or len(teacher.outputs) != 1:
        raise ValueError(f"teacher model {path}: {len(teacher.inputs)} inputs and {len(teacher.outputs)} outputs; "
                         f"{needs}, one input and one output")
    shape_in, shape_out = tuple(teacher.inputs[0].shape[1:]), tuple(teacher.outputs[0].shape[1:])
    if shape_in != (28, 28, 1) or shape_out not in ((DIGITS,), (DIGITS + 1,)):
        outputs = " x ".join(str(n) for n in shape_out) or "a scalar"
        raise ValueError(f"teacher model {path}: reads {shape_in} into {outputs} outputs; {needs}")
    probe = np.random.default_rng(0).random((8, 28, 28, 1)).astype(np.float32) * (np.arange(8) / 7.0)[:, None, None, None]
    out = np.asarray(teacher(probe, training=False), np.float64)
    if not (np.isfinite(out).all() and out.min() >= -1e-6 and np.allclose(out.sum(axis=1), 1.0, atol=1e-3)):
        raise ValueError(f"teacher model {path}: its outputs are not probabilities (rows summing to 1: no softmax "
                         "on its last layer?)")
    teacher.trainable = False
    return teacher


def soft_targets(teacher: keras.Model, num_classes: int, weight: float, temperature: float) -> Callable:
    """A tf.data map (images, int labels) -> (images, float targets over `num_classes`), as the module says."""
    if not (math.isfinite(weight) and 0 < weight <= 1 and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"teacher weight must be in (0, 1] and temperature a positive number, got {weight} and "
                         f"{temperature}")

    def targets(images, labels):
        read = tf.cast(teacher(images, training=False), tf.float32)
        probs = read[:, :DIGITS]
        # softmax(log p / T): in log space, so a low temperature gives the argmax, not 0 / 0
        soft = tf.nn.softmax(tf.math.log(tf.maximum(probs, 1e-30)) / temperature, axis=1)
        soft = tf.pad(soft, [[0, 0], [0, num_classes - DIGITS]])
        labels = tf.cast(labels, tf.int32)
        # "reads it right": its argmax over all its outputs (an 11-output teacher's "not a digit" included)
        agrees = tf.logical_and(labels < DIGITS, tf.cast(tf.argmax(read, axis=1), tf.int32) == labels)
        w = tf.where(agrees, weight, 0.0)[:, None]
        return images, (1.0 - w) * tf.one_hot(labels, num_classes) + w * soft

    return targets
