"""runtime/cuts.py: where a line's ink may be cut, and the ink of a span between two cuts."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.cuts import MIN_CUT_PIECE, PATH_STEP, Bound, LineInk, cheapest_path, cheapest_paths


def two_overlapping_strokes() -> np.ndarray:
    """A 18x16 mask: a bar across the top left (rows 0-5, columns 0-9) and one across the bottom right (rows
    12-17, columns 6-15). Every upright column crosses ink; a path bending between them crosses none."""
    ink = np.zeros((18, 16), bool)
    ink[0:6, 0:10] = True
    ink[12:18, 6:16] = True
    return ink


def test_the_cheapest_path_bends_round_ink_no_upright_cut_avoids():
    ink = two_overlapping_strokes()
    assert ink.any(axis=0).all()  # no free column
    path = cheapest_path(ink)
    assert len(path) == 18 and not ink[np.arange(18), path].any()
    assert (np.abs(np.diff(path)) <= 1).all()
    assert (path[0:6] >= 10).all() and (path[12:18] <= 5).all()


def test_the_cheapest_path_goes_straight_through_one_thin_stroke_rather_than_far_round_it():
    ink = np.zeros((20, 9), bool)
    ink[10, :] = True  # a level stroke across the whole band: crossing it costs 1
    path = cheapest_path(ink)
    assert len(set(path.tolist())) == 1  # no step sideways (each costs PATH_STEP)
    assert PATH_STEP < 1


def line_of(ink: np.ndarray) -> LineInk:
    labels = ink.astype(np.int32)  # one piece of ink, label 1
    signal = (ink * 255).astype(np.uint8)
    h, w = ink.shape
    return LineInk(labels, signal, [(0, 0, w, h)], [[1]], float(h))


def test_a_path_bound_parts_the_ink_row_by_row():
    ink = two_overlapping_strokes()
    path = tuple(int(v) for v in cheapest_path(ink))
    cut = Bound(int(np.mean(path)), 0, 0, 0.0, inside=True, path=path, top=0)
    left_edge, right_edge = Bound(0, 0, 0, 0.0), Bound(16, 0, 0, 0.0)
    _, left_box = line_of(ink).render_between(0, 0, left_edge, cut)
    _, right_box = line_of(ink).render_between(0, 0, cut, right_edge)
    assert left_box == (0, 0, 10, 6) and right_box == (6, 12, 10, 6)


def test_a_path_bound_gives_its_ends_columns_above_and_below_the_box():
    cut = Bound(5, 0, 0, 0.0, inside=True, path=(4, 5, 6), top=10)
    assert cut.at(np.array([0, 10, 11, 12, 30], np.float32)).tolist() == [4, 4, 5, 6, 6]
    assert cut.family == "path" and cut.bends and not Bound(5, 0, 0, 0.0, inside=True).bends


@pytest.mark.parametrize("height", [20, 60])
def test_path_cuts_keep_off_the_boxs_edges(height):
    rng = np.random.default_rng(height)
    ink = rng.random((height, 2 * height)) < 0.3
    margin = max(2, int(MIN_CUT_PIECE * height))
    cuts = line_of(ink).path_cuts(0)
    assert cuts
    for cut in cuts:
        assert len(cut.path) == height and min(cut.path) >= margin and max(cut.path) < 2 * height - margin


def test_a_mask_of_0_and_255_gives_the_paths_of_its_bool_mask():
    rng = np.random.default_rng(5)
    for _ in range(50):
        ink = rng.random((20, 9)) < 0.25
        assert (cheapest_path(ink * np.uint8(255)) == cheapest_path(ink)).all()


def test_a_path_does_not_slip_through_a_thin_diagonal_stroke():
    """A 1-px diagonal stroke across the whole mask: every path crosses it. Stepping sideways between two of its
    8-connected pixels crossed it for free (attack review), so a cut through a stroke counted no stroke."""
    ink = np.eye(12, dtype=bool)
    path = cheapest_path(ink)
    assert ink[np.arange(12), path].sum() >= 1


def test_paths_for_several_bands_are_each_bands_own():
    rng = np.random.default_rng(6)
    ink = rng.random((30, 40)) < 0.3
    bands = [(0, 12), (5, 20), (28, 40)]
    for (lo, hi), path in zip(bands, cheapest_paths(ink, bands)):
        alone = cheapest_path(ink[:, lo:hi]) + lo
        assert (path >= lo).all() and (path < hi).all()
        assert (path == alone).all()


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (5,)])
def test_a_mask_without_rows_or_columns_is_refused(shape):
    with pytest.raises(ValueError, match="2-D mask"):
        cheapest_path(np.zeros(shape, bool))


@pytest.mark.parametrize("band", [(2, 2), (4, 2), (-2, 3), (3, 10), (0.5, 3), (1, 2, 3)])
def test_a_band_that_is_not_whole_columns_of_the_mask_is_refused(band):
    with pytest.raises(ValueError, match="a band is two whole column numbers"):
        cheapest_paths(np.zeros((5, 6), bool), [band])
