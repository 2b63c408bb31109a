"""runtime/scale.py: the writing's height at working size, and what is small writing to read at a finer scale."""

from __future__ import annotations

import numpy as np

from runtime.scale import MIN_WRITING_PX, SMALL_WRITING_PX, is_small_writing, writing_height


def stats(*pieces) -> np.ndarray:
    """cv2 stats rows of a frame's ink: (height, area) per piece, after the background row."""
    return np.array([[0, 0, 640, 480, 300000]] + [[0, 0, 5, h, a] for h, a in pieces], np.int32)


def test_writing_height_is_the_height_under_which_three_quarters_of_the_ink_lie():
    assert writing_height(stats((60, 900), (3, 9), (4, 12), (2, 4))) == 60  # a digit among specks
    assert writing_height(stats((60, 900), *[(4, 20)] * 60)) == 60  # dust outweighing it (a median said 4)
    assert writing_height(stats(*[(9, 40)] * 30, (3, 5))) == 9  # a page of small writing
    assert writing_height(stats((60, 0), (3, 0))) is None  # every piece dropped: no ink
    assert writing_height(stats()) is None


def test_small_writing_is_writing_of_one_size_between_the_limits():
    page = stats(*[(9, 40)] * 30, (10, 45), (3, 2))  # a page of small digits and a speck
    assert is_small_writing(page, 9.0)
    assert not is_small_writing(stats(*[(30, 200)] * 3), 30.0)  # writing read well at this scale
    assert not is_small_writing(stats(*[(4, 9)] * 200), 4.0)  # dust: under MIN_WRITING_PX
    dust = stats(*[(3, 6)] * 100, *[(6, 12)] * 60, *[(12, 20)] * 20)  # specks, hairs, blots of every size
    assert not is_small_writing(dust, 6.0)
    assert not is_small_writing(stats((13, 30), (12, 28), (14, 25)), 13.0)  # three hairs
    assert not is_small_writing(stats(*[(6, 20)] * 400), 6.0)  # a page of small print
    assert MIN_WRITING_PX <= 6.0 < SMALL_WRITING_PX
