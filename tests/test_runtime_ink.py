"""runtime/ink.py's histogram and threshold helpers: the same answers as the NumPy they replace, on any input."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.ink import at_least, counts_u8, median_u8, percentiles, quantile_u8


@pytest.mark.parametrize("shape", [(1,), (7,), (240, 320), (3, 5000), (4, 4, 3)])
def test_counts_are_np_bincount_s_for_every_shape(shape):
    values = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    assert np.array_equal(counts_u8(values), np.bincount(values.ravel(), minlength=256))
    view = values[..., ::2] if values.ndim > 1 else values[::2]  # not contiguous
    assert np.array_equal(counts_u8(view), np.bincount(view.ravel(), minlength=256))


def test_a_three_channel_or_wider_typed_array_counts_every_value():
    three = np.dstack([np.zeros((4, 4), np.uint8), np.full((4, 4), 200, np.uint8), np.full((4, 4), 200, np.uint8)])
    assert counts_u8(three).sum() == 48 and median_u8(three) == 200
    for dtype in (np.int16, np.int64, bool):
        values = np.array([[0, 1], [1, 1]], dtype)
        assert median_u8(values) == 1


def test_counts_beyond_float32_s_exact_range_stay_exact():
    """OpenCV counts in float32; 2**24 + 3 zeros and 2**24 + 5 ones: the lower median is 1, not 0."""
    values = np.concatenate([np.zeros((1 << 24) + 3, np.uint8), np.ones((1 << 24) + 5, np.uint8)])
    counts = counts_u8(values)
    assert counts[0] == (1 << 24) + 3 and counts[1] == (1 << 24) + 5
    assert median_u8(values) == 1


def test_quantiles_match_numpy_and_empty_counts_give_0():
    values = np.random.default_rng(1).integers(0, 256, 10_001).astype(np.uint8)
    counts = counts_u8(values)
    for q in (0.001, 0.5, 0.9, 0.999):
        assert quantile_u8(counts, q) == int(np.sort(values)[max(1, int(np.ceil(q * values.size))) - 1])
    assert quantile_u8(np.zeros(0, np.int64), 0.5) == 0


@pytest.mark.parametrize("level", [-np.inf, -3.0, 0.0, 0.5, 7.0, 7.000001, 254.9, 255.0, 255.0001, 1e9, np.inf, np.nan])
def test_at_least_is_the_comparison_it_replaces(level):
    image = np.random.default_rng(2).integers(0, 256, (60, 80)).astype(np.uint8)
    for img in (image, image[:, ::3], image[0], image[:0]):
        got = at_least(img, level)
        assert got.dtype == np.uint8 and got.shape == img.shape
        assert np.array_equal(got, (img >= level).astype(np.uint8))


def test_percentiles_match_np_percentile():
    rng = np.random.default_rng(3)
    for values in (rng.random((60, 80)).astype(np.float32), rng.integers(-300, 300, (2, 7)).astype(np.int16),
                   np.array([[5.0]])):
        assert np.allclose(percentiles(values, (0.5, 1, 50, 99, 99.5)),
                           np.percentile(values, (0.5, 1, 50, 99, 99.5)), rtol=0, atol=1e-4)


def test_a_lone_thin_stroke_on_a_wide_noise_free_page_is_dark_ink():
    """A "1" on a 200x900 clean page is under 0.5 % of it: both tails of the polarity look were flat and the
    page was read as light ink, finding nothing (attack review)."""
    import cv2

    from runtime.ink import ink_is_dark

    for h, w in ((200, 900), (240, 2000), (120, 1500)):
        page = np.full((h, w), 230, np.uint8)
        cv2.putText(page, "1", (w // 2 - 20, h // 2 + 40), cv2.FONT_HERSHEY_SIMPLEX, 3, 20, 8)
        assert ink_is_dark(page)


def test_a_lone_thin_digit_beside_a_cast_shadow_is_dark_ink():
    """A "1" or a small digit is under 0.5 % of a noisy frame: at the polarity look's 0.5 % tails its strokes were
    lost in the noise, a shadow's lit side was the bright extreme, and the frame was read as light ink, finding
    nothing (field seed 0: 10 of 3,300 frames, 9 of them read as no digit). The 0.2 % tails see the strokes;
    light ink (an MNIST-style image, enlarged) is still light."""
    import cv2

    from runtime.ink import ink_is_dark

    rng = np.random.default_rng(3)
    for k in range(10):
        page = np.full((240, 320), 200.0, np.float32)
        page[:, : 100 + 12 * k] *= 0.55  # the shadow's side
        x = 130 + 12 * k
        cv2.line(page, (x + 10, 90), (x, 150), 30, 2)
        page = np.clip(page + rng.normal(0, 3, page.shape), 0, 255).astype(np.uint8)
        assert ink_is_dark(page), k
        light = np.full((240, 320), 20, np.float32)  # light ink on a dark ground, as MNIST draws it
        cv2.line(light, (x + 10, 60), (x, 180), 230, 2 + k % 2 * 6)
        assert not ink_is_dark(np.clip(light + rng.normal(0, 3, light.shape), 0, 255).astype(np.uint8)), k


def test_light_steps_mark_a_shadow_s_edge_and_not_a_faint_stroke():
    """The faint pass is blind along a step of the light (a cast shadow's edge, a note's edge on a desk), not
    along a pencil stroke however long: a stroke is paper on both sides, a step is not."""
    import cv2

    from runtime.ink import flatten, is_faint, light_steps

    rng = np.random.default_rng(3)
    gray = 200 + rng.normal(0, 1.5, (240, 320))
    gray[:, 200:] -= 50  # a hard shadow over the right part of the page
    stroke = np.zeros((240, 320), np.uint8)
    cv2.line(stroke, (80, 40), (90, 200), 255, 2)
    gray = np.clip(gray - 10 * (stroke > 0), 0, 255).astype(np.uint8)
    signal, sigma = flatten(gray)
    steps = light_steps(gray, signal).view(bool)
    assert steps[:, 196:204].any(axis=1).all()
    assert not steps[:, 60:110].any()
    no_shadow = gray.copy()
    no_shadow[:, 200:] += 50
    assert not light_steps(no_shadow, flatten(no_shadow)[0]).any() and is_faint(*flatten(no_shadow))


def test_in_paper_terms_gives_a_shadow_s_ink_the_contrast_of_the_light_s():
    """One pen across a hard shadow at 0.7 of the light: in grey levels its shadowed half has 0.7 of the
    contrast (a deeper shadow's ink fell under the fifth of the frame's strongest ink that weak ink must
    reach); in its paper's terms both halves are alike. A desk far darker than the note on it is lifted no
    more than SHADOW_GAIN."""
    import cv2

    from runtime.ink import SHADOW_GAIN, flatten_with_paper, in_paper_terms

    rng = np.random.default_rng(4)
    light = np.full((240, 320), 1.0)
    light[:, 160:] = 0.7
    stroke = np.zeros((240, 320), np.uint8)
    cv2.line(stroke, (60, 120), (260, 120), 255, 3)
    gray = np.clip(220 * light * np.where(stroke > 0, 0.4, 1.0) + rng.normal(0, 1.0, light.shape), 0, 255)
    signal, _, paper = flatten_with_paper(gray.astype(np.uint8))
    lit, shaded = np.median(signal[119:122, 80:140]), np.median(signal[119:122, 180:240])
    assert shaded < 0.8 * lit
    relative = in_paper_terms(signal, paper)
    lit, shaded = np.median(relative[119:122, 80:140]), np.median(relative[119:122, 180:240])
    assert abs(shaded - lit) <= 0.1 * lit
    dark_desk = in_paper_terms(np.full((8, 8), 10, np.uint8), np.array([[200] * 6 + [40] * 2] * 8, np.uint8))
    assert dark_desk[:, :6].max() == 10 and dark_desk.max() == round(10 * SHADOW_GAIN)
