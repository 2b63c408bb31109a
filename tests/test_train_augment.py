"""train/augment.py and train/dataset.py: ImageDataGenerator's ranges, seeded, training only."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from train.augment import NOTEBOOK_RANGES, AugmentRanges, augment_batch, sample_affine_params
from train.dataset import eval_dataset, split_validation, to_model_input, training_dataset


def _first_batches(ds, n):
    return [(x.numpy(), y.numpy()) for x, y in ds.take(n)]


def test_sampled_parameters_stay_in_the_notebooks_ranges():
    params = sample_affine_params(20000, tf.constant([1, 2], tf.int64)).numpy()
    theta, zx, zy, sx, sy = params.T
    r = NOTEBOOK_RANGES
    limits = [(np.degrees(theta), r.rotation_deg), (zx - 1, r.zoom), (zy - 1, r.zoom),
              (sx, r.width_shift), (sy, r.height_shift)]
    for values, bound in limits:
        assert np.abs(values).max() <= bound + 1e-6
        assert np.abs(values).max() > 0.98 * bound  # the whole range is used, not a sliver
    # x and y zoom are drawn independently, as ImageDataGenerator does.
    assert abs(np.corrcoef(zx, zy)[0, 1]) < 0.05


def test_shift_moves_a_digit_no_further_than_the_range(mnist):
    shift_only = AugmentRanges(rotation_deg=0.0, zoom=0.0, width_shift=0.15, height_shift=0.10)
    x = tf.constant(to_model_input(mnist.x_test[:256]))
    out = augment_batch(x, tf.constant([7, 0], tf.int64), shift_only).numpy()

    def centre(images):
        grid_y, grid_x = np.mgrid[0:28, 0:28]
        mass = images[..., 0].sum(axis=(1, 2))
        return ((images[..., 0] * grid_x).sum(axis=(1, 2)) / mass, (images[..., 0] * grid_y).sum(axis=(1, 2)) / mass)

    (x0, y0), (x1, y1) = centre(x.numpy()), centre(out)
    assert np.abs(x1 - x0).max() <= 0.15 * 28 + 0.5
    assert np.abs(y1 - y0).max() <= 0.10 * 28 + 0.5
    assert np.abs(x1 - x0).max() > 2.5  # it does shift


def test_rotation_turns_a_bar_within_15_degrees():
    bar = np.zeros((512, 28, 28, 1), np.float32)
    bar[:, 13:15, 4:24] = 1.0
    only_rotation = AugmentRanges(rotation_deg=15.0, zoom=0.0, width_shift=0.0, height_shift=0.0)
    out = augment_batch(tf.constant(bar), tf.constant([3, 4], tf.int64), only_rotation).numpy()[..., 0]
    angles = []
    for image in out:
        ys, xs = np.nonzero(image > 0.5)
        angles.append(math.degrees(math.atan(np.polyfit(xs, ys, 1)[0])))
    assert max(abs(a) for a in angles) <= 15.0 + 1.5
    assert max(abs(a) for a in angles) > 12.0


def test_same_seed_same_images_other_seed_other_images(mnist):
    x = tf.constant(to_model_input(mnist.x_test[:64]))
    a = augment_batch(x, tf.constant([5, 1], tf.int64)).numpy()
    b = augment_batch(x, tf.constant([5, 1], tf.int64)).numpy()
    c = augment_batch(x, tf.constant([5, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).mean() > 0.01


def test_augmentation_leaves_labels_untouched(mnist):
    x, y = mnist.x_train[:512], mnist.y_train[:512]
    plain = _first_batches(training_dataset(x, y, 64, seed=3, augment=False), 8)
    augmented = _first_batches(training_dataset(x, y, 64, seed=3, augment=True), 8)
    for (xp, yp), (xa, ya) in zip(plain, augmented):
        np.testing.assert_array_equal(yp, ya)
        assert not np.array_equal(xp, xa)
        assert xa.min() >= 0.0 and xa.max() <= 1.0


def test_training_stream_is_seeded(mnist):
    x, y = mnist.x_train[:256], mnist.y_train[:256]
    first = _first_batches(training_dataset(x, y, 32, seed=11, augment=True), 3)
    again = _first_batches(training_dataset(x, y, 32, seed=11, augment=True), 3)
    for (xa, ya), (xb, yb) in zip(first, again):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)


def test_no_augmentation_at_inference(mnist):
    x, y = mnist.x_test[:300], mnist.y_test[:300]
    images = np.concatenate([b.numpy() for b, _ in eval_dataset(x, y, batch_size=128)])
    np.testing.assert_array_equal(images, to_model_input(x))


def test_validation_hold_out_is_fixed(mnist):
    a, b = split_validation(mnist, 5000), split_validation(mnist, 5000)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert len(a.x_train) == 55000 and len(a.x_val) == 5000
    with pytest.raises(ValueError, match="validation size"):
        split_validation(mnist, 60000)
