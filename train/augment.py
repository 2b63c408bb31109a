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


# ---- Writer style: stroke width, slant, elastic distortion, blur and contrast ----
# MNIST has one pen and a few hundred writers; other people's digits are thicker
# or thinner, slanted and differently shaped. These ops are drawn per image from
# a stateless seed (same seed, same batch) and applied before the affine map.


@dataclass(frozen=True)
class StyleRanges:
    """Per-image style ranges; each effect is applied to a `*_p` fraction of the images.

    stroke: thickness in [-thinner, thicker]; 1 = one 3x3 dilation (about 2 px
    wider), 2 = two, -1 = one 3x3 erosion; fractions blend with the original.
    slant: horizontal shear x += s * (y - centre). elastic_px: standard
    deviation of the displacement on a coarse 4x4 grid, interpolated smoothly
    over the image (Simard et al.'s elastic distortion, made cheap).
    """

    stroke_p: float = 0.5
    thicker: float = 1.5
    thinner: float = 0.8
    slant_p: float = 0.5
    slant: float = 0.35
    elastic_p: float = 0.5
    elastic_px: float = 1.0
    blur_p: float = 0.2
    contrast_p: float = 0.2
    contrast_min: float = 0.6


STYLE_RANGES = StyleRanges()


def style_ranges(p: float) -> StyleRanges:
    """STYLE_RANGES with stroke width, slant and elastic each applied to a fraction p of the images
    (blur and contrast to 0.4 p)."""
    if not 0 <= p <= 1:
        raise ValueError(f"style probability must be in [0, 1], got {p}")
    return StyleRanges(stroke_p=p, slant_p=p, elastic_p=p, blur_p=0.4 * p, contrast_p=0.4 * p)
ELASTIC_GRID = 4


def _maybe(u, p, value, default):
    """value where u < p, else default (u uniform in [0, 1), one per image)."""
    return tf.where(u < p, value, default)


def change_stroke_width(images, thickness):
    """Thicken (thickness > 0) or thin (< 0) strokes by grey-level dilation/erosion (3x3 max/min pooling)."""
    t = tf.reshape(thickness, [-1, 1, 1, 1])
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    dilated2 = tf.nn.max_pool2d(dilated, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    thick = images + tf.minimum(t, 1.0) * (dilated - images) + tf.maximum(t - 1.0, 0.0) * (dilated2 - dilated)
    thin = images + tf.minimum(-t, 1.0) * (eroded - images)
    # A thin pen still writes at full ink (the runtime stretches strokes to 255): restore the peak.
    peak = tf.reduce_max(images, axis=[1, 2, 3], keepdims=True)
    thin = tf.clip_by_value(thin * peak / tf.maximum(tf.reduce_max(thin, axis=[1, 2, 3], keepdims=True), 0.2), 0.0, 1.0)
    return tf.where(t >= 0, thick, thin)


def warp_slant_elastic(images, shear, displacement):
    """Resample (N, H, W, 1) at x + shear * (y - cy) + dx, y + dy (bilinear, edge pixels repeat).

    `displacement` is (N, H, W, 2) in pixels (dx, dy).
    """
    shape = tf.shape(images)
    n, h, w = shape[0], images.shape[1], images.shape[2]
    gy, gx = tf.meshgrid(tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij")
    cy = (h - 1) / 2.0
    x = gx[None] + tf.reshape(shear, [-1, 1, 1]) * (gy[None] - cy) + displacement[..., 0]
    y = gy[None] + displacement[..., 1]
    x0, y0 = tf.floor(x), tf.floor(y)
    fx, fy = x - x0, y - y0
    flat = tf.reshape(images, [n, h * w])

    def pick(yy, xx):
        yy = tf.clip_by_value(tf.cast(yy, tf.int32), 0, h - 1)
        xx = tf.clip_by_value(tf.cast(xx, tf.int32), 0, w - 1)
        return tf.gather(flat, tf.reshape(yy * w + xx, [n, h * w]), batch_dims=1)

    top = pick(y0, x0) * tf.reshape(1 - fx, [n, -1]) + pick(y0, x0 + 1) * tf.reshape(fx, [n, -1])
    bottom = pick(y0 + 1, x0) * tf.reshape(1 - fx, [n, -1]) + pick(y0 + 1, x0 + 1) * tf.reshape(fx, [n, -1])
    out = top * tf.reshape(1 - fy, [n, -1]) + bottom * tf.reshape(fy, [n, -1])
    return tf.reshape(out, [n, h, w, 1])


def _blur(images):
    k = tf.constant([1.0, 2.0, 1.0]) / 4.0
    kernel = tf.reshape(k[:, None] * k[None, :], [3, 3, 1, 1])
    return tf.nn.conv2d(images, kernel, 1, "SAME")


def style_batch(images, seed, style: StyleRanges = STYLE_RANGES):
    """Random stroke width, slant, elastic distortion, blur and contrast for a float batch (N, 28, 28, 1)."""
    shape = tf.shape(images)
    n, h, w = shape[0], images.shape[1], images.shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 3)
    gate = tf.random.stateless_uniform([n, 5], seed=seeds[0])
    u = tf.random.stateless_uniform([n, 4], seed=seeds[1], minval=-1.0, maxval=1.0)
    thickness = _maybe(gate[:, 0], style.stroke_p,
                       tf.where(u[:, 0] >= 0, u[:, 0] * style.thicker, u[:, 0] * style.thinner), 0.0)
    shear = _maybe(gate[:, 1], style.slant_p, u[:, 1] * style.slant, 0.0)
    coarse = tf.random.stateless_normal([n, ELASTIC_GRID, ELASTIC_GRID, 2], seed=seeds[2]) * style.elastic_px
    coarse = coarse * tf.reshape(tf.cast(gate[:, 2] < style.elastic_p, tf.float32), [-1, 1, 1, 1])
    displacement = tf.image.resize(coarse, [h, w], method="bicubic")
    blur = tf.reshape(tf.cast(gate[:, 3] < style.blur_p, tf.float32) * (u[:, 2] * 0.5 + 0.5), [-1, 1, 1, 1])
    contrast = _maybe(gate[:, 4], style.contrast_p,
                      style.contrast_min + (1 - style.contrast_min) * (u[:, 3] * 0.5 + 0.5), 1.0)

    out = change_stroke_width(images, thickness)
    out = warp_slant_elastic(out, shear, displacement)
    out = out + blur * (_blur(out) - out)
    return tf.clip_by_value(out * tf.reshape(contrast, [-1, 1, 1, 1]), 0.0, 1.0)
