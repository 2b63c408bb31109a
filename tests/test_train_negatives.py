"""train/negatives.py, train/style_shift.py and the style ops of train/augment.py, on real MNIST digits."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from train.augment import StyleRanges, change_stroke_width, style_batch, warp_slant_elastic
from train.dataset import to_model_input
from train.negatives import HELD_OUT_FONTS, KINDS, MIN_SPREAD, TRAIN_FONTS, render_negatives, spread, ttf_folder
from train.style_shift import STYLES, style_shifted


def _centre_of_mass(images):
    ys, xs = np.mgrid[0:28, 0:28]
    mass = images.sum(axis=(1, 2)).astype(float)
    return (images * ys).sum(axis=(1, 2)) / mass, (images * xs).sum(axis=(1, 2)) / mass


def _ink_width(images):
    """Ink pixels per image (a stroke-width proxy for the same digits)."""
    return (images > 0.5 * images.max(axis=(1, 2), keepdims=True)).sum(axis=(1, 2))


def test_negatives_are_fitted_like_mnist_digits_and_replayable(mnist):
    images, kinds = render_negatives(300, 5, TRAIN_FONTS, mnist.x_train[:2000], mnist.y_train[:2000])
    again, _ = render_negatives(300, 5, TRAIN_FONTS, mnist.x_train[:2000], mnist.y_train[:2000])
    np.testing.assert_array_equal(images, again)
    assert images.shape == (300, 28, 28) and images.dtype == np.uint8
    assert set(kinds) == set(KINDS)
    cy, cx = _centre_of_mass(images.astype(float))
    assert np.abs(cy - 13.5).max() < 1.0 and np.abs(cx - 13.5).max() < 1.0  # centred by mass, as MNIST
    # The ink fits a 20x20 box (as an MNIST digit's does), with at most a pixel of the shift's spill.
    rows, cols = (images > 0).any(axis=2), (images > 0).any(axis=1)
    longest = np.maximum(rows.sum(1), cols.sum(1))
    assert np.median(longest) >= 19 and longest.max() <= 22


def test_held_out_negatives_share_no_font_with_training():
    assert not set(TRAIN_FONTS) & set(HELD_OUT_FONTS)
    images, kinds = render_negatives(50, 6, HELD_OUT_FONTS)  # without digits: no fragment kinds
    assert not any(k.startswith("digit") for k in kinds) and images.max() > 200


def test_both_font_sets_hold_truetype_fonts_that_exist():
    for fonts in (TRAIN_FONTS, HELD_OUT_FONTS):
        ttf = [f for f in fonts if isinstance(f, str)]
        assert len(ttf) >= 5 and all((ttf_folder() / f).is_file() for f in ttf)


def test_spread_tells_a_straight_stroke_from_a_digit(mnist):
    ones = mnist.y_test == 1
    spreads = np.array([spread(x) for x in mnist.x_test[:3000]])
    assert (spreads[ones[:3000]] < MIN_SPREAD).mean() > 0.97  # a 1, upright or slanted, is one stroke (98.2 %)
    assert (spreads[~ones[:3000]] >= MIN_SPREAD).mean() > 0.93
    assert spread(np.zeros((28, 28), np.uint8)) == 0.0


def test_camera_negatives_are_the_readers_own_cuts_never_a_lone_stroke(mnist):
    images, kinds = render_negatives(400, 8, TRAIN_FONTS, mnist.x_train[:2000], mnist.y_train[:2000])
    camera = images[kinds == "camera"]
    assert len(camera) >= 25
    assert all(spread(x) >= MIN_SPREAD for x in camera)  # what a 1 could be is never taught as "not a digit"
    # Photographed small and blurred: softer than a clean rendering (fewer saturated pixels per ink pixel).
    glyphs = images[kinds == "glyph"]
    saturated = lambda xs: ((xs > 250).sum() / (xs > 30).sum())
    assert saturated(camera) < saturated(glyphs)


def test_stroke_width_thickens_and_thins_real_digits(mnist):
    x = tf.constant(to_model_input(mnist.x_test[:64]))
    base = _ink_width(x.numpy()[..., 0])
    thick = _ink_width(change_stroke_width(x, tf.fill([64], 1.0)).numpy()[..., 0])
    thin = change_stroke_width(x, tf.fill([64], -0.8)).numpy()[..., 0]
    assert (thick > 1.3 * base).mean() > 0.95
    assert (_ink_width(thin) < base).mean() > 0.95
    assert np.abs(thin.max(axis=(1, 2)) - x.numpy()[..., 0].max(axis=(1, 2))).max() < 1e-5  # full ink kept
    same = change_stroke_width(x, tf.zeros([64])).numpy()
    np.testing.assert_allclose(same, x.numpy(), atol=1e-6)


def test_slant_shears_a_vertical_bar():
    bar = np.zeros((2, 28, 28, 1), np.float32)
    bar[:, 4:24, 13:15] = 1.0
    out = warp_slant_elastic(tf.constant(bar), tf.constant([0.3, 0.0]), tf.zeros([2, 28, 28, 2])).numpy()[..., 0]
    top, bottom = out[0, 5].argmax(), out[0, 22].argmax()
    assert top - bottom == pytest.approx(0.3 * 17, abs=1.5)  # input x = x + s (y - c): the bar leans
    np.testing.assert_allclose(out[1], bar[1, ..., 0], atol=1e-6)  # no shear, no displacement: identity


def test_style_batch_is_seeded_and_in_range(mnist):
    x = tf.constant(to_model_input(mnist.x_train[:32]))
    seed = tf.constant([3, 9], tf.int64)
    a, b = style_batch(x, seed).numpy(), style_batch(x, seed).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, style_batch(x, tf.constant([3, 10], tf.int64)).numpy())
    assert a.min() >= 0.0 and a.max() <= 1.0
    off = StyleRanges(stroke_p=0, slant_p=0, elastic_p=0, blur_p=0, contrast_p=0)
    np.testing.assert_allclose(style_batch(x, seed, off).numpy(), x.numpy(), atol=1e-6)


def test_style_shifted_test_set(mnist):
    x = mnist.x_test[:100]
    sets = {s: style_shifted(x, s) for s in STYLES}
    np.testing.assert_array_equal(sets["clean"], x)
    np.testing.assert_array_equal(sets["elastic"], style_shifted(x, "elastic"))  # fixed seed
    clean = _ink_width(x.astype(float))
    assert (_ink_width(sets["thick"].astype(float)) > clean).mean() > 0.9
    assert (_ink_width(sets["thin"].astype(float)) < clean).mean() > 0.9
    for style in ("slanted", "elastic"):
        assert (np.abs(sets[style].astype(int) - x).sum(axis=(1, 2)) > 0).all()
    with pytest.raises(ValueError, match="unknown style"):
        style_shifted(x, "bold")


def test_computer_modern_draws_no_tex_symbol_for_a_negative():
    """cmr10 and friends map < > { } _ " to TeX's ¡ ¿ – ˝ ˙ ” (¡ is a 1): those are never asked of them."""
    from train.negatives import TEX_MISMAPPED, characters_for

    assert not TEX_MISMAPPED & set(characters_for("cmr10.ttf"))
    assert TEX_MISMAPPED <= set(characters_for("DejaVuSans.ttf"))


def test_doodles_are_every_shape_drawn_wobbly_and_fitted():
    """The doodle kind: each shape is drawn (ink in a fitted 28x28 crop), never a lone straight stroke
    (that would be a 1), and two draws of a shape differ (the hand's wobble, slant, width)."""
    from train.negatives import DOODLES, _doodle, _doodle_paths, _fit

    rng = np.random.default_rng(0)
    for kind in DOODLES:
        assert _doodle_paths(rng, kind), kind
    crops = np.stack([_fit(_doodle(rng, None, None)) for _ in range(200)])
    assert (crops.max(axis=(1, 2)) > 100).all()  # ink in every crop (a 2 px stroke shrunk to 28x28 is grey)
    spreads = np.array([spread(c) for c in crops])
    assert (spreads >= MIN_SPREAD).mean() > 0.9  # shapes, not strokes
    assert len({c.tobytes() for c in crops}) == 200
