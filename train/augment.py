"""Seeded, in-graph augmentation with the semantics of Keras' ImageDataGenerator.

The notebook used ImageDataGenerator(zoom_range=0.12, rotation_range=15,
width_shift_range=0.15, height_shift_range=0.10). That draws per image a
rotation in [-15, 15] degrees, independent x and y zoom factors in
[0.88, 1.12] (a factor above 1 samples a wider window: the digit shrinks),
shifts of up to 15 % of the width and 10 % of the height, and applies them
as ONE affine map about the image centre with bilinear interpolation and
'nearest' fill. Chaining Keras 3's RandomRotation/RandomZoom/RandomTranslation
instead resamples three times (blurring the strokes), ties x and y zoom
together and fills by reflection by default; this module does what the
notebook did, in one resampling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf


@dataclass(frozen=True)
class AugmentRanges:
    """The notebook's ranges: rotation in degrees, zoom and shifts as fractions."""

    rotation_deg: float = 15.0
    zoom: float = 0.12
    width_shift: float = 0.15
    height_shift: float = 0.10


NOTEBOOK_RANGES = AugmentRanges()


def sample_affine_params(batch_size, seed, ranges: AugmentRanges = NOTEBOOK_RANGES):
    """Per-image (theta_rad, zoom_x, zoom_y, shift_x_frac, shift_y_frac), shape (N, 5).

    `seed` is a pair of int32/int64 for tf.random's stateless ops: the same
    seed gives the same draw, so a run's augmentation can be replayed.
    """
    u = tf.random.stateless_uniform([batch_size, 5], seed=seed, minval=-1.0, maxval=1.0)
    theta = u[:, 0] * (ranges.rotation_deg * math.pi / 180.0)
    zoom_x = 1.0 + u[:, 1] * ranges.zoom
    zoom_y = 1.0 + u[:, 2] * ranges.zoom
    shift_x = u[:, 3] * ranges.width_shift
    shift_y = u[:, 4] * ranges.height_shift
    return tf.stack([theta, zoom_x, zoom_y, shift_x, shift_y], axis=1)


def affine_matrices(params, height: int, width: int):
    """Projective transforms (N, 8) mapping output pixels to input pixels.

    input = c + R(theta) @ diag(zx, zy) @ (p - c) + shift, with c the image
    centre ((size - 1) / 2, ImageDataGenerator's convention).
    """
    theta, zx, zy, sx, sy = tf.unstack(params, axis=1)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    cos, sin = tf.cos(theta), tf.sin(theta)
    a0, a1 = cos * zx, -sin * zy
    b0, b1 = sin * zx, cos * zy
    a2 = cx - (a0 * cx + a1 * cy) + sx * width
    b2 = cy - (b0 * cx + b1 * cy) + sy * height
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def augment_batch(images, seed, ranges: AugmentRanges = NOTEBOOK_RANGES):
    """Randomly rotate, zoom and shift a float batch (N, H, W, C); labels are not touched."""
    shape = tf.shape(images)
    params = sample_affine_params(shape[0], seed, ranges)
    transforms = affine_matrices(params, images.shape[1], images.shape[2])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=shape[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="NEAREST",
    )
