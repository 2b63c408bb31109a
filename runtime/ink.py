"""Where the ink is: lighting flattened, then thresholds set by the frame's own noise, with hysteresis.

No absolute contrast floor: a thin pen in room light or a faint pencil may be
10-15 grey levels above the paper, which is plenty when the paper's own noise
is 1-2 levels. Strong pixels (far above the noise) seed the ink; weaker pixels
are kept where they connect to a seed, so faint stroke ends stay attached.
"""

from __future__ import annotations

import cv2
import numpy as np

from runtime.paper import closing, has_hard_step, shadows_kept

WORK_SIDE = 240  # frames are analysed with their shorter side at most this (a digit needs ~10-20 px)
SMALL_FRAME_SIDE = 100  # below this the frame is a crop around one digit: its median is the paper
STROKE_WINDOW = 9  # px at half working size: the median window that removes strokes but keeps regions
DARK_STROKES_MARGIN = 1.5  # the dark extremes of that residual must be this much stronger than the bright
STROKE_TAILS = (0.5, 0.2)  # % of the residual at each end: a lone 1 or a small digit is under 0.5 % of a frame,
# its tail lost in the noise's (field seed 0: 10 frames of 3,300 read as light ink, 9 of them read as no digit)
NOISE_FLOOR = 1.0  # grey levels; the noise of an 8-bit camera is never less (quantization, JPEG)
SEED_SIGMAS = 7.0  # a pixel this many noise sigmas above the paper is certainly ink
KEEP_SIGMAS = 3.0  # a pixel this far above the paper is ink if it touches a seed
STROKE_EDGE = 0.35  # a stroke ends where its ink falls below this fraction of the stroke's core
STROKE_NEIGHBOURHOOD = 7  # px at working size: how far "near" reaches for STROKE_EDGE
WEAK_VS_STRONGEST = 0.2  # of the frame's strongest ink: weaker pixels are never ink (JPEG blocks beside a stroke, specks)
INK_FRACTION = 0.5  # of the frame's strongest ink (its 99.9th percentile): above this a pixel is ink, not paper
TAIL_SIGMAS = 5.0  # the paper's 90th percentile of signal is at most this many sigmas (JPEG blocks: flat, then steps)
NOISE_SAMPLES = 20_000  # pixels sampled for the noise and the paper's level
FAINT_MAX_AREA = 2 * 320 * 240  # px at working size: larger frames (pages, strips) get no faint-ink pass (its cost)
FAINT_SIGMAS = 7.5  # a frame whose top 0.1 % of ink is below this many noise sigmas holds only faint ink (pencil)
LINE_LENGTH = 13  # px at working size: the stroke piece a faint-ink pass averages along (a digit is 20+ px tall)
LINE_ORIENTATIONS = 8  # directions of that piece, 22.5 degrees apart
SHADOW_GAIN = 1.5  # at most: ink under a shadow is weighed against ink in the light as if this much brighter
STEP_VS_INK = 1.5  # a step of the light this many times the frame's strongest ink is no faint stroke (a shadow's edge)
STEP_BLUR = 3.0  # px at working size: a blur that flattens a stroke (to a quarter of a 2 px one) and keeps a step
STEP_REACH = 7  # px at working size: the window that step is measured over, and how far round it the faint pass is blind
PLAIN_SEED_SIGMAS = 8.0  # a faint-pass seed's line average (without the sides taken off) stands this far out too
FLANK_OFFSET = 2.0  # px at working size: the piece is weighed against two parallel ones this far to either side
LINE_SEED_SIGMAS = 10.0  # seeds of the line-averaged signal: paper grain and fabric reach 9.0 (camera_demo/synthetic)
LONG_SIGMAS = 5.0  # a piece of the line-averaged signal this far above the paper...
LONG_STROKE = 20  # ...and this long (px at working size) is a stroke: it seeds the ink
LINE_SCALE = 4.0  # grey levels per robust sigma of the line-averaged signal (it is stored as uint8)
BLOCK_PERIODS = (8, 16, 24)  # px in the frame: JPEG's 8x8 blocks, and the same sent at half or a third of the size
BLOCKY = 3.0  # a frame whose steps at one block phase are this x the median phase's is heavily JPEG-compressed (video codecs and JPEG at quality 50-90 of a noise-free page reach 2-6)
BLOCKY_STROKE_EDGE = 0.4  # there, weak ink must reach this of the strongest ink...
BLOCKY_NEIGHBOURHOOD = 15  # ...within this many px at working size (a block beside a stroke is its artefact)


def working_gray(gray: np.ndarray, work_side: float = WORK_SIDE) -> tuple[np.ndarray, float]:
    """Gray frame with its shorter side at most `work_side`, and the factor from working to frame pixels."""
    side = min(gray.shape)
    if side <= work_side:
        return gray, 1.0
    factor = side / work_side
    size = (max(1, round(gray.shape[1] / factor)), max(1, round(gray.shape[0] / factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), factor


def _sample(image: np.ndarray) -> np.ndarray:
    step = max(1, int(np.ceil(np.sqrt(image.size / NOISE_SAMPLES))))
    return image[::step, ::step]


CALC_HIST_MAX = 1 << 24  # OpenCV counts in float32: exact below this many values


def counts_u8(values: np.ndarray) -> np.ndarray:
    """np.bincount(values.ravel(), minlength=256) of uint8 values, by OpenCV (a third of its time) for an
    image of fewer than CALC_HIST_MAX pixels; anything else (several channels, another dtype, more values)
    by np.bincount itself."""
    values = np.asarray(values)
    if values.dtype != np.uint8 or values.ndim > 2 or not 0 < values.size < CALC_HIST_MAX:
        return np.bincount(values.ravel(), minlength=256)
    return cv2.calcHist([np.ascontiguousarray(values)], [0], None, [256], [0, 256]).ravel().astype(np.int64)


def sample_counts(image: np.ndarray) -> np.ndarray:
    """The histogram of about NOISE_SAMPLES pixels of a uint8 image, on a regular grid."""
    return counts_u8(_sample(image))


def at_least(image: np.ndarray, level: float) -> np.ndarray:
    """0/1 uint8 mask of `image >= level` for a uint8 image (one OpenCV pass, no bool temporaries)."""
    if image.dtype != np.uint8 or image.ndim != 2 or not image.size or not np.isfinite(level):
        return (image >= level).view(np.uint8)
    threshold = int(np.ceil(level))  # an integer pixel is >= level exactly when it is >= ceil(level)
    if threshold <= 0:
        return np.ones_like(image)
    if threshold > 255:
        return np.zeros_like(image)
    return cv2.threshold(image, threshold - 1, 1, cv2.THRESH_BINARY)[1]


def median_u8(values: np.ndarray) -> int:
    """Median of uint8 values by histogram (linear time, no sort)."""
    return quantile_u8(counts_u8(values), 0.5)


def quantile_u8(counts: np.ndarray, q: float) -> int:
    """The q-quantile (lower) of uint8 values given their histogram `counts` (256 bins)."""
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1]) if len(cumulative) else 0
    return int(np.searchsorted(cumulative, max(1, int(np.ceil(q * total)))))  # q = 0.5: (total + 1) // 2


def median_of_counts(counts: np.ndarray) -> float:
    """np.median of the values whose histogram is `counts` (the mean of the two middle values for an even count)."""
    total = int(counts.sum())
    cumulative = np.cumsum(counts)
    lower = int(np.searchsorted(cumulative, (total + 1) // 2))
    upper = int(np.searchsorted(cumulative, total // 2 + 1))
    return (lower + upper) / 2.0


def spread_of_counts(counts: np.ndarray) -> float:
    """np.median(|v - m|) of uint8 values v whose histogram is `counts`, m their lower median (median_u8)."""
    m = quantile_u8(counts, 0.5)
    return median_of_counts(np.bincount(np.abs(np.arange(len(counts)) - m), weights=counts, minlength=256))


def percentiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """np.percentile(values, qs) (linear interpolation) from one sort, without its per-call overhead. A sort:
    NumPy's partition at several kth took 4-7x as long (4,800 floats: 78 vs 23 us; 19,200 int16: 453 vs 70)."""
    flat = np.sort(values, axis=None)
    where = [q / 100.0 * (flat.size - 1) for q in qs]
    out = []
    for w in where:
        lo = int(np.floor(w))
        hi = min(lo + 1, flat.size - 1)
        out.append(float(flat[lo]) + (w - lo) * (float(flat[hi]) - float(flat[lo])))
    return out


def ink_is_dark(gray: np.ndarray) -> bool:
    """Dark ink on light paper (a photo) or light ink on dark ground (an MNIST image)?

    Ink is the rare extreme: compare how far the darkest and the brightest
    1 % lie from the median, after removing slow lighting changes (so a dim
    page is still paper, not ink).
    """
    small = cv2.resize(gray, (max(3, gray.shape[1] // 4), max(3, gray.shape[0] // 4)),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    if min(small.shape) >= 16:
        k = min(small.shape) // 4 * 2 + 1
        small = small - cv2.blur(small, (k, k))
    lo, med, hi = percentiles(small, (1, 50, 99))
    if (med - lo) >= (hi - med):
        return True
    return min(gray.shape) >= SMALL_FRAME_SIDE and _strokes_are_dark(gray)


def _strokes_are_dark(gray: np.ndarray) -> bool:
    """A second look at a large frame that seemed to hold light ink: are its thin features clearly dark?

    A bright sticky note on a dark desk, or a lit patch beside a cast shadow, is
    a large bright region, and a bright extreme to the first look; a median
    filter keeps such regions and their edges and removes only what is thinner
    than its window (strokes), so the residual holds the strokes alone.
    Measured on the field test (30 frames each): sticky notes judged right
    19 -> 30, cast shadows 25 -> 29, and 0 of 600 MNIST-style images (light ink)
    judged dark, as before.
    """
    half = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    residual = half.astype(np.int16) - cv2.medianBlur(half, STROKE_WINDOW).astype(np.int16)
    for tail in STROKE_TAILS:
        lo, med, hi = percentiles(residual, (tail, 50, 100 - tail))
        if lo == med == hi:  # both tails flat: a noise-free frame whose ink is under 0.5 % of it (a lone 1 on a wide page)
            lo, med, hi = percentiles(residual, (0.05, 50, 99.95))
        if (med - lo) > DARK_STROKES_MARGIN * (hi - med):
            return True
    return False


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width of a 0/1 mask: twice its area over its boundary (a band of width w: 2 L w / 2 L)."""
    area = cv2.countNonZero(ink)
    boundary = area - cv2.countNonZero(cv2.erode(ink, np.ones((3, 3), np.uint8)))
    return 2.0 * area / max(boundary, 1) if area else 0.0


def flatten(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """`flatten_with_paper` without the paper."""
    signal, sigma, _ = flatten_with_paper(gray)
    return signal, sigma


def flatten_with_paper(gray: np.ndarray) -> tuple[np.ndarray, float, np.ndarray | None]:
    """How far each pixel is below its paper (uint8, 0 = paper), whatever the lighting; the noise sigma; and,
    where the light steps (a cast shadow, a note's edge), the paper (uint8, dark-ink polarity) for
    `in_paper_terms`, None where the light is smooth (measured on the field test: the ratio tests in paper
    terms there only moved pieces of letters, specks and a frame's dim corners into the ink).

    Dark ink on light paper is the usual case; light ink on a dark ground (an
    MNIST-style image) is inverted first. The paper is estimated by a closing
    (max then min filter) a little wider than the strokes: it follows gradients
    and keeps a cast shadow's hard edge, and a narrower window fills less of a
    shadow's sharp corner; what it still fills is given back to the shadow
    (`runtime.paper.shadows_kept`). The signal stays in grey levels because the camera
    noise does (a shadow's ink is fainter, and so judged against the same noise).
    """
    if gray.dtype != np.uint8 or gray.ndim != 2 or min(gray.shape) < 3:
        raise ValueError(f"flatten needs a uint8 gray frame of at least 3x3, got {gray.dtype} of shape {gray.shape}")
    dark = ink_is_dark(gray)
    side = min(gray.shape)
    g = gray if dark else 255 - gray  # from here on: dark ink on light paper
    if side < SMALL_FRAME_SIDE:  # a crop of one digit: not blurred, its strokes are few pixels wide
        return cv2.subtract(np.full_like(g, median_u8(g)), g), noise_of_signal(g), None
    g = cv2.GaussianBlur(g, (3, 3), 0)
    sigma = noise_of_signal(g)
    k = int(np.clip(side // 5, 7, 51)) | 1  # wider than the boldest stroke of a digit filling the frame
    paper = closing(g, k)
    signal = cv2.subtract(paper, g)
    # Texture (paper grain, fabric) is smooth at the pixel scale, so neighbour differences miss it: the
    # signal's own robust spread on the paper counts too.
    counts = sample_counts(signal)
    sigma = max(sigma, 1.4826 * spread_of_counts(counts))
    # JPEG's flat blocks fool both estimates (no difference inside a block, steps between): the paper's own
    # tail says how far its blocks step. Only the paper: ink (above INK_FRACTION of the frame's strongest) is
    # left out, so a bold digit that fills a tenth of the frame is not taken for noise.
    paper_counts = counts[:int(np.ceil(INK_FRACTION * quantile_u8(counts, 0.999)))]
    if paper_counts.sum():
        sigma = max(sigma, quantile_u8(paper_counts, 0.9) / TAIL_SIGMAS)
    strokes = at_least(signal, np.nextafter(SEED_SIGMAS * sigma, np.inf))  # signal > SEED_SIGMAS * sigma
    narrower = int(np.clip(4 * stroke_width(strokes) + 3, 7, k)) | 1
    if narrower < k - 4:
        k = narrower
        paper = closing(g, k)
        signal = cv2.subtract(paper, g)
    if not has_hard_step(paper, sigma):
        return signal, sigma, None
    paper = shadows_kept(paper, g, strokes, k)  # a cast shadow: the closing filled its corners as if they were strokes
    return cv2.subtract(paper, g), sigma, paper


def in_paper_terms(signal: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """The signal as a fraction of its own paper's light (uint8, scaled to the frame's lightest paper), for the
    tests that weigh ink against other ink: a digit in a cast shadow, or the half of one, keeps its strokes
    against those in the light (a shadow at 0.4-0.7 of the light takes as much off its ink). Lifted at most
    SHADOW_GAIN times: the dark round a note is a desk, and the thin line along the note's edge there, lifted
    twice, read as a 1 (field test, seeds 0 and 7)."""
    level = float(quantile_u8(sample_counts(paper), 0.99))  # the light's paper: everything else is lifted to it
    gain = np.minimum(level / np.maximum(paper.astype(np.float32), 1.0), SHADOW_GAIN)
    return np.clip(signal * gain + 0.5, 0, 255).astype(np.uint8)


def noise_of_signal(image: np.ndarray) -> float:
    """The noise sigma of an image: robust spread (MAD) of neighbour differences, which ink and light barely touch."""
    step = max(1, int(np.ceil(np.sqrt(image.size / NOISE_SAMPLES))))
    rows = np.ascontiguousarray(image[::step])
    steps = cv2.absdiff(rows[:, 1:], rows[:, :-1])[:, ::step]
    return max(1.4826 * median_u8(steps) / np.sqrt(2), NOISE_FLOOR)


def ink_signal(gray: np.ndarray) -> np.ndarray:
    """How strongly each pixel is ink (uint8, 0 = paper), whatever the lighting and polarity (see `flatten`)."""
    return flatten(gray)[0]


def blockiness(gray: np.ndarray) -> float:
    """How strongly a frame steps on a JPEG block grid: for each axis, the mean step between neighbours at
    each phase of a block period, the largest phase over the median one (best period); the weaker axis counts.
    About 1 for a noisy camera frame, 2-6 for a noise-free page at JPEG quality 50-90 or through a video codec,
    4-15 at quality 4-15.
    Every 16th line is enough (a tenth of a millisecond at 640x480). `gray`: uint8 HxW (`to_gray`'s output)."""
    if gray.dtype != np.uint8 or gray.ndim != 2:
        raise ValueError(f"blockiness needs a uint8 gray frame, got {gray.dtype} of shape {gray.shape}")
    ratios = []
    for lines in (gray[::16], np.ascontiguousarray(gray[:, ::16].T)):
        steps = cv2.absdiff(lines[:, 1:], lines[:, :-1]).sum(axis=0, dtype=np.int32)
        best = 0.0
        for period in BLOCK_PERIODS:
            n = len(steps) // period * period
            if n >= 2 * period:
                phases = np.sort(steps[:n].reshape(-1, period).sum(axis=0))
                best = max(best, float(phases[-1]) / max(float(phases[period // 2]), 1.0))
        ratios.append(best)
    return min(ratios)


def ink_masks(signal: np.ndarray, sigma: float, seed_sigmas: float = SEED_SIGMAS, edge: float = STROKE_EDGE,
              reach: int = STROKE_NEIGHBOURHOOD, counts: np.ndarray | None = None,
              relative: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(weak, strong, any) masks: pixels KEEP_SIGMAS and SEED_SIGMAS noise sigmas above the paper, and
    every pixel KEEP_SIGMAS above it whatever is near (where ruled lines are looked for: whole).

    A weak pixel must also reach `edge` (STROKE_EDGE) of the strongest ink within
    `reach` px, so the blur halo round a dark stroke does not fatten it (and join it
    to its neighbour) while a faint stroke elsewhere keeps its own, lower edge; and
    WEAK_VS_STRONGEST of the frame's strongest ink (its 99.9th percentile), so the
    steps of JPEG blocks beside a stroke and specks on the paper do not join the
    strokes (measured on a noise-free JPEG frame, its noise sigma is 1-2 grey levels).
    `counts`: the signal's `sample_counts` when the caller has them. `relative`: the signal in its paper's
    terms (`in_paper_terms`), for those two fractions of other ink, so a shadow's ink is not held to the
    light's; the noise thresholds stay in grey levels.
    """
    signal = np.asarray(signal)
    if signal.dtype != np.uint8:
        signal = np.clip(signal + 0.5, 0, 255).astype(np.uint8)
    counts = sample_counts(signal) if counts is None else counts
    med = quantile_u8(counts, 0.5)
    above = at_least(signal, med + KEEP_SIGMAS * sigma)
    ratio, ratio_counts = (signal, counts) if relative is None else (relative, sample_counts(relative))
    nearby = cv2.dilate(ratio, np.ones((reach, reach), np.uint8))
    edges = cv2.LUT(nearby, _scaled_levels(edge))  # cv2.multiply(nearby, edge), by table
    weak = cv2.bitwise_and(above, cv2.compare(ratio, edges, cv2.CMP_GE))
    weak = cv2.bitwise_and(weak, at_least(ratio, WEAK_VS_STRONGEST * quantile_u8(ratio_counts, 0.999)))
    strong = at_least(signal, med + seed_sigmas * sigma).view(bool)
    return weak, strong, above


def _scaled_levels(factor: float) -> np.ndarray:
    """Every grey level times `factor`, rounded and saturated as cv2.multiply does it (a lookup table)."""
    return cv2.multiply(np.arange(256, dtype=np.uint8).reshape(1, 256), factor, dtype=cv2.CV_8U)


def hysteresis(weak: np.ndarray, strong: np.ndarray):
    """Components of `weak` that hold a `strong` pixel: (mask 0/255, labels, stats) with only those kept.

    stats rows are cv2's (x, y, w, h, area) per label; a dropped label has area 0.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(weak, 8, cv2.CV_32S, cv2.CCL_GRANA)
    keep = np.zeros(count, bool)
    seeds = cv2.bitwise_and(np.asarray(strong).view(np.uint8), cv2.threshold(weak, 0, 1, cv2.THRESH_BINARY)[1])
    keep[labels[seeds.view(bool)]] = True
    keep[0] = False
    stats[~keep, 4] = 0
    lut = keep.view(np.uint8) * 255
    if count <= 256:  # a table lookup on 8-bit labels is 4x faster than take on 32-bit ones
        table = np.zeros(256, np.uint8)
        table[:count] = lut
        mask = cv2.LUT(labels.astype(np.uint8), table)
    else:
        mask = lut.take(labels)
    return mask, labels, stats


def _line_kernels() -> list[np.ndarray]:
    """Normalised straight segments of LINE_LENGTH pixels, one per orientation."""
    c = LINE_LENGTH // 2
    kernels = []
    for k in range(LINE_ORIENTATIONS):
        angle = np.pi * k / LINE_ORIENTATIONS
        kernel = np.zeros((LINE_LENGTH, LINE_LENGTH), np.float32)
        for t in np.linspace(-c, c, 4 * LINE_LENGTH):
            kernel[int(round(c + t * np.sin(angle))), int(round(c + t * np.cos(angle)))] = 1.0
        kernels.append(kernel / kernel.sum())
    return kernels


def _flank_kernels() -> list[np.ndarray]:
    """Per orientation, a small kernel that takes from a pixel the mean of the two pixels FLANK_OFFSET to
    either side across that orientation (bilinear weights): applied after a line kernel, the piece minus its
    two parallel neighbours."""
    side = 2 * int(np.ceil(FLANK_OFFSET)) + 1
    c = side // 2
    kernels = []
    for k in range(LINE_ORIENTATIONS):
        angle = np.pi * k / LINE_ORIENTATIONS
        kernel = np.zeros((side, side), np.float32)
        kernel[c, c] = 1.0
        for sign in (1, -1):  # the normal to (cos, sin) is (-sin, cos) in (x, y)
            x, y = c - sign * FLANK_OFFSET * np.sin(angle), c + sign * FLANK_OFFSET * np.cos(angle)
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            fx, fy = x - x0, y - y0
            for dy, wy in ((0, 1 - fy), (1, fy)):
                for dx, wx in ((0, 1 - fx), (1, fx)):
                    if wx * wy > 1e-6:
                        kernel[y0 + dy, x0 + dx] -= 0.5 * wx * wy
        kernels.append(kernel)
    return kernels


LINE_KERNELS = _line_kernels()
FLANK_KERNELS = _flank_kernels()


def along_strokes(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The ink signal averaged along its best-fitting short straight piece, less the same average on either
    side of it; and that average alone: (uint8 ridge signal, uint8 line average, their noise sigma).

    For ink too faint to stand out pixel by pixel (pencil at a tenth of a pen's
    contrast on grainy paper): a stroke is a line, so averaging along it keeps its
    level while paper grain, which has no direction, averages down. Grain comes in
    blotches wider than a pencil line, which a line average keeps; a stroke stands
    above the parallel pieces FLANK_OFFSET to either side, a blotch or a shading
    spreads under them too, so those are taken off. The best of LINE_ORIENTATIONS
    directions is kept per pixel for each; their noise is measured as a robust
    spread over the frame (the max over directions is not Gaussian) and both are
    scaled to LINE_SCALE grey levels per sigma.
    """
    s = signal.astype(np.float32)
    plain = ridge = None
    for line, flank in zip(LINE_KERNELS, FLANK_KERNELS):
        along = cv2.filter2D(s, -1, line, borderType=cv2.BORDER_REPLICATE)
        sides_off = cv2.filter2D(along, -1, flank, borderType=cv2.BORDER_REPLICATE)
        plain = along if plain is None else np.maximum(plain, along, out=plain)
        ridge = sides_off if ridge is None else np.maximum(ridge, sides_off, out=ridge)
    return _in_sigmas(ridge), _in_sigmas(plain), LINE_SCALE


def _in_sigmas(best: np.ndarray) -> np.ndarray:
    """A line-filtered signal as uint8, its median at 0 and LINE_SCALE grey levels per robust sigma."""
    sample = _sample(best)
    level = float(np.median(sample))
    spread = max(1.4826 * float(np.median(np.abs(sample - level))), 0.25)
    return np.clip((best - level) * (LINE_SCALE / spread) + 0.5, 0, 255).astype(np.uint8)


def faint_seeds(ridge: np.ndarray, plain: np.ndarray, sigma: float, strong: np.ndarray) -> np.ndarray:
    """Seeds of the faint-ink pass: `strong` (the ridge signal's) plus its long pieces (`long_stroke_seeds`),
    kept where the plain line average too stands PLAIN_SEED_SIGMAS above the paper. A wood grain's rings and
    a weave's threads are ridges too, side by side, but their line average does not stand out: blank wood
    showed a digit in 28 of 60 frames and woven cloth in 24 with the ridge's seeds alone (tests/hard_scenes.py
    `bare_surface`), 0 and 5 now (0 and 4 before the ridge); 7 sigmas left the cloth at 13."""
    seeds = long_stroke_seeds(ridge, sigma, strong)
    return seeds & at_least(plain, median_u8(_sample(plain)) + PLAIN_SEED_SIGMAS * sigma).view(bool)


def light_steps(gray: np.ndarray, signal: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Where the light itself steps (0/255): a cast shadow's edge, a note's edge on a desk. In a frame of faint
    ink (`is_faint`), a step of the gray frame over STEP_REACH px that is STEP_VS_INK times the strongest ink
    of `signal` is no stroke, but the paper estimate leaves a thin line along it that reads as a "1"."""
    counts = sample_counts(signal) if counts is None else counts
    ink = max(quantile_u8(counts, 0.999) - quantile_u8(counts, 0.5), 1)
    window = np.ones((STEP_REACH, STEP_REACH), np.uint8)
    smooth = cv2.GaussianBlur(gray, (0, 0), STEP_BLUR)
    steps = cv2.morphologyEx(smooth, cv2.MORPH_GRADIENT, window)
    return cv2.dilate(at_least(steps, STEP_VS_INK * ink), window)


def is_faint(signal: np.ndarray, sigma: float, counts: np.ndarray | None = None) -> bool:
    """Nothing in the frame stands out pixel by pixel: its strongest 0.1 % of ink is under FAINT_SIGMAS.
    Never for a frame larger than FAINT_MAX_AREA at working size (a long strip, a 4:1 panorama): the
    line-averaged pass would cost seconds there.

    Measured on the field test's frames (bench/field_scenes.py, 30 each): faint
    pencil 2.0-6.7 sigmas, a thin pen 7.8-22, dim and noisy light 13-39, clean 41+.
    """
    if signal.size > FAINT_MAX_AREA:
        return False
    counts = sample_counts(signal) if counts is None else counts
    return quantile_u8(counts, 0.999) - quantile_u8(counts, 0.5) < FAINT_SIGMAS * sigma


def long_stroke_seeds(signal: np.ndarray, sigma: float, strong: np.ndarray) -> np.ndarray:
    """`strong` plus every piece of the line-averaged signal above LONG_SIGMAS that runs LONG_STROKE pixels:
    a stroke is long where grain is short (blank and textured paper: at most 12 px at 5 sigmas)."""
    above = at_least(signal, median_u8(_sample(signal)) + LONG_SIGMAS * sigma)
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(above, 8, cv2.CV_32S, cv2.CCL_GRANA)
    long = np.zeros(count, bool)
    long[1:] = stats[1:, 2:4].max(axis=1) >= LONG_STROKE
    return strong | long[labels]
