"""The digit reader (runtime/ink, rules, lines, segment via preprocess.find_digits) on hard frames of real MNIST test digits.

Frames come from bench/reader_frames.py (fixed seed). The floors sit a few
points under what the reader scores today on these very frames, so a change
that loses digits in any condition fails here.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from bench.reader_conditions import edit_distance, line_strings, score
from bench.reader_frames import CONDITIONS, make_frames
from runtime.lines import group_lines
from runtime.predictor import Reading, load_predictor
from runtime.preprocess import FrameError, find_digits

FRAMES_PER_CONDITION = 16
# condition: (digits read right, truth lines read exactly), in %, on FRAMES_PER_CONDITION frames of seed 1234
FLOORS = {
    "clean": (97, 95),
    "gradient + blue/black pen": (95, 90),
    "faint pencil (10-40 %)": (93, 88),
    "thin pen": (85, 80),
    "dim light + noise": (85, 80),
    "hard shadow": (80, 75),
    "yellow paper, blue ink": (85, 80),  # 89.3 with the model before 2026-11-27's, 85.7 after: one digit of 28
    "ruled paper": (88, 85),
    "squared paper": (85, 85),
    "specks": (85, 80),
    "blur + JPEG": (80, 85),
    "mixed heights": (80, 75),
    "touching pairs": (80, 70),
    "page, 2-6 lines": (88, 70),
    "40 digits": (88, 50),
    "tight crop at the edge": (75, 80),
}


@pytest.fixture(scope="module")
def int8():
    return load_predictor("tflite-int8", threads=1)


def read_lines(predictor, image) -> list[str]:
    return line_strings(predictor.read_digits(image))


def test_every_condition_has_a_floor():
    assert set(FLOORS) == set(CONDITIONS)


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_each_condition_is_read(condition, mnist, int8):
    totals = {"digits": 0, "right": 0, "lines": 0, "exact_lines": 0, "no_digit": 0}
    for frame in make_frames(mnist, condition, FRAMES_PER_CONDITION, seed=1234):
        for key, value in score(frame.lines, read_lines(int8, frame.image)).items():
            totals[key] += value
    digits = 100 * totals["right"] / totals["digits"]
    lines = 100 * totals["exact_lines"] / totals["lines"]
    floor_digits, floor_lines = FLOORS[condition]
    assert digits >= floor_digits and lines >= floor_lines, f"{condition}: {digits:.1f} % digits, {lines:.1f} % lines"
    assert totals["no_digit"] <= FRAMES_PER_CONDITION // 10, f"{condition}: {totals['no_digit']} frames without a digit"


def test_faint_pencil_is_read_where_the_old_contrast_floor_saw_nothing(mnist, int8):
    """Ink at 10-40 % of normal contrast: today's pipeline said "no digit" to most of these frames."""
    from bench.baseline_preprocess import find_digits as old_find_digits

    frames = make_frames(mnist, "faint pencil (10-40 %)", 16, seed=99)
    old_found = sum(bool(old_find_digits(f.image)) for f in frames)
    new_right = sum(read_lines(int8, f.image) == list(f.lines) for f in frames)
    assert old_found <= 4 and new_right >= 14, (old_found, new_right)


def _touching_pair(mnist, rng, overlap: int) -> tuple[np.ndarray, str]:
    """Two MNIST test digits pasted so their ink overlaps by `overlap` px (at 28 px per digit, x3)."""
    i, j = rng.integers(0, len(mnist.x_test), 2)
    a, b = (mnist.x_test[k][:, np.nonzero(mnist.x_test[k].max(axis=0) > 30)[0]] for k in (i, j))
    canvas = np.zeros((28, a.shape[1] + b.shape[1] - overlap + 16), np.uint8)
    canvas[:, 8:8 + a.shape[1]] = a
    x = 8 + a.shape[1] - overlap
    canvas[:, x:x + b.shape[1]] = np.maximum(canvas[:, x:x + b.shape[1]], b)
    big = cv2.resize(canvas, (canvas.shape[1] * 4, 112), interpolation=cv2.INTER_CUBIC)
    frame = np.full((200, max(200, big.shape[1] + 80)), 225, np.uint8)
    frame[44:156, 40:40 + big.shape[1]] = 225 - (big.astype(np.float32) * 0.75).astype(np.uint8)
    frame = np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
    return frame, f"{mnist.y_test[i]}{mnist.y_test[j]}"


def _read_exactly(int8, scenes) -> int:
    """How many of `scenes` ((frame, truth lines) pairs) the reader reads line for line."""
    from bench.field_test import reading_lines

    return sum(reading_lines(int8.read_digits(image)) == list(truth) for image, truth in scenes)


def _touching_pairs_read(mnist, int8, count: int) -> int:
    """How many of `count` touching pairs (seed 21, 2 px overlap) are read exactly."""
    rng = np.random.default_rng(21)
    right = 0
    for _ in range(count):
        frame, truth = _touching_pair(mnist, rng, overlap=2)
        right += int8.read_digits(frame).number == truth
    return right


def test_touching_pairs_are_split_by_recognition(mnist, int8):
    """Bold digits whose ink overlaps: today's pipeline reads 19 of these 60 pairs, the new one 38."""
    right = _touching_pairs_read(mnist, int8, 60)
    assert right >= 34, f"{right} of 60 touching pairs read exactly"
    # The split pieces carry the classifier's probabilities from the split (no second prediction needed).
    crops = find_digits(_touching_pair(mnist, np.random.default_rng(3), 2)[0], classify=int8.predict)
    assert len(crops) == 2 and all(c.probabilities is not None for c in crops)


def test_a_touching_pair_read_whole_as_not_a_digit_is_split_when_both_halves_are_sure(mnist, int8):
    """Pairs are among the model's negatives, so a touching pair can be read whole as "not a digit"; split into
    two digits read at 0.99 or more (neither a 1) it is read. These 100 pairs (2 px overlap): 63 -> 68 read
    exactly (4 px: 45 -> 46, 6 px: 24 -> 25); field test touching_pairs 66.5 -> 68.4 % (seed 0), 69.8 ->
    72.1 % (seed 7), 150 frames each."""
    right = _touching_pairs_read(mnist, int8, 100)
    assert right >= 66, f"{right} of 100 touching pairs read exactly"


def test_a_percent_sign_is_not_split_as_a_touching_pair(int8):
    """A % (two rings and a slash, apart) read whole as "not a digit" splits into a sure 9 and 6 like a touching
    pair; the pair split takes only one connected piece of ink. A printed % in 24 of matplotlib's fonts at 4
    sizes: read as two digits in 33 of 96 frames before the pair split, 39 with it, 33 with the one-piece rule.
    36 since 2026-11-28: on this noise-free page the polarity look had missed the ink of the smallest %s (under
    0.5 % of the frame) and found nothing; it sees them now (8 frames changed, 3 of them read as two digits). 40
    since 2026-11-30: the smallest (60 px) are read at the finer scale for small writing (runtime/scale.py)
    and split as the larger ones are, 10 of 24 fonts at every size (6 at 60 px before)."""
    from PIL import Image, ImageDraw, ImageFont

    from train.negatives import ttf_folder

    fonts = sorted(str(f) for f in ttf_folder().glob("*.ttf"))[:24]
    two_digits = 0
    for font in fonts:
        for size in (60, 90, 120, 160):
            image = Image.new("L", (640, 480), 235)
            ImageDraw.Draw(image).text((200, 150), "%", fill=30, font=ImageFont.truetype(font, size))
            two_digits += sum(d.status == "ok" for d in int8.read_digits(np.asarray(image)).digits) >= 2
    assert len(fonts) == 24 and two_digits <= 40, f"a % read as two digits in {two_digits} of {4 * len(fonts)} frames"


def test_a_light_digit_beside_a_dark_dot_is_kept(mnist, int8):
    """A box is dropped when its ink is under RELATIVE_INK of the frame's strongest; a dark dot or a marker line
    is not writing to compare with: only digit-shaped ink counts. Light MNIST test digits (25 % of a pen's
    contrast) beside a black dot: these 20 frames 0 -> 20 read; the attack review's light digits beside a dot 6 ->
    16 of 30, beside a marker line 9 -> 21."""
    read = 0
    for k in range(20):
        frame = np.full((480, 640), 215, np.float32)
        digit = cv2.resize(mnist.x_test[k], (112, 112)).astype(np.float32) / 255.0
        frame[180:292, 260:372] -= 55 * digit
        cv2.circle(frame, (80, 400), 12, 10, -1)
        frame = np.clip(frame + np.random.default_rng(k).normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
        read += int8.read_digits(cv2.GaussianBlur(frame, (3, 3), 0)).number == str(mnist.y_test[k])
    assert read >= 15, f"{read} of 20 light digits beside a dark dot read"


def test_group_lines_orders_top_to_bottom_left_to_right():
    # Two lines; a 7 with a long tail in the first must not swallow the second; a small 0 beside it stays.
    boxes = [(300, 110, 40, 50), (10, 10, 40, 50), (60, 10, 40, 75), (110, 30, 25, 28), (10, 110, 40, 50)]
    assert group_lines(boxes) == [[1, 2, 3], [4, 0]]
    assert group_lines([]) == []


def test_a_tilted_line_stays_one_line():
    """Three digits on a page turned about 20 degrees: the first and last seed lines of their own before the
    middle one joins either; their ends meet side by side, so they are one line (the field's rotated frames
    were read as "5" and "22" for 225: 89 -> 96 of 100 exact, seed 7). Two lines one above the other, and a
    line starting far to the right of the other's end, stay apart."""
    tilted = [(0, 0, 40, 50), (100, 36, 40, 50), (50, 18, 40, 50)]
    assert group_lines(tilted) == [[0, 2, 1]]
    assert group_lines(tilted + [(93, 50, 5, 5)]) == [[0, 2, 3, 1]]  # a dot where the ends meet (attack review)
    stacked = [(0, 0, 40, 50), (50, 0, 40, 50), (20, 60, 40, 50), (70, 60, 40, 50)]
    assert group_lines(stacked) == [[0, 1], [2, 3]]
    far = [(0, 0, 40, 50), (50, 0, 40, 50), (300, 36, 40, 50)]
    assert group_lines(far) == [[0, 1], [2]]


def test_grouping_many_lines_looks_at_each_pair_once(monkeypatch):
    """200 lines and a staircase of 200 boxes that joins pair by pair (the attack review's worst case: 2-4 s
    when every join rescanned every pair of lines, cubic in the lines; each pair is looked at once now, and a
    joined line against the others)."""
    import runtime.lines

    looks = []
    monkeypatch.setattr(runtime.lines, "_continues", lambda *a, real=runtime.lines._continues: looks.append(1) or real(*a))
    stair = [(i * 14, i * 10, 10, 20) for i in range(200)]
    stacked = [(5000, 10000 + i * 40, 10, 30) for i in range(200)]
    lines = group_lines(stacked + stair)
    assert len(lines) == 201 and list(range(200, 400)) in lines
    assert len(looks) < 3 * 400 ** 2  # quadratic: 400 x 399 pairs, plus 2 x (lines left) per join


def test_pages_come_out_line_by_line(mnist, int8):
    found_lines = 0
    frames = make_frames(mnist, "page, 2-6 lines", 12, seed=7)
    for frame in frames:
        reading = int8.read_digits(frame.image)
        found_lines += len(reading.lines) == len(frame.lines)
        assert [d for line in reading.lines for d in line] == reading.digits
        tops = [np.median([d.box[1] for d in line]) for line in reading.lines]
        assert tops == sorted(tops)
        assert reading.number is None and len(reading.numbers) == len(reading.lines)
    assert found_lines >= 11


def test_reading_number_means_one_line():
    from runtime.predictor import DigitPrediction

    digit = DigitPrediction("ok", 4, 0.99, 4)
    assert Reading([digit, digit]).number == "44" and Reading([digit, digit]).lines == [[digit, digit]]
    two = Reading([digit, digit], [[digit], [digit]])
    assert two.number is None and two.numbers == ["4", "4"]


def test_forty_digits_in_a_frame(mnist, int8):
    frame = make_frames(mnist, "40 digits", 1, seed=11)[0]
    reading = int8.read_digits(frame.image)
    want, got = "".join(frame.lines), "".join(line_strings(reading))
    assert len(want) == 40 and edit_distance(want, got) <= 4, (frame.lines, line_strings(reading))


def test_a_digit_touching_the_crop_edge_is_kept(mnist, int8):
    for i in range(40):
        digit = mnist.x_test[i]
        ys, xs = np.nonzero(digit > 30)
        crop = 255 - digit[ys.min():ys.max() + 1, max(0, xs.min() - 1):xs.max() + 2]  # dark ink touching top and bottom
        frame = cv2.resize(crop, (crop.shape[1] * 4, crop.shape[0] * 4), interpolation=cv2.INTER_CUBIC)
        assert int8.predict_digit(frame).best_guess is not None, f"test digit {i} lost at the crop's edge"


def _strip(mnist, width: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    strip = np.full((240, width), 215, np.uint8)
    for x in range(100, width - 200, 150):
        digit = cv2.resize(mnist.x_test[int(rng.integers(10000))], (120, 120))
        strip[60:180, x:x + 120] = 215 - (digit.astype(np.float32) * 0.7).astype(np.uint8)
    return np.clip(strip + rng.normal(0, 3, strip.shape), 0, 255).astype(np.uint8)


def test_cost_grows_linearly_with_frame_length(mnist, int8):
    """A 240 x 60000 strip (today's pipeline: 10.8 s) in well under a second of CPU; 4x the length ~4x the time."""
    cv2.setNumThreads(1)
    short, long = _strip(mnist, 15000), _strip(mnist, 60000)
    find_digits(short[:, :2000], classify=int8.predict)  # warm-up
    times = []
    for strip in (short, long):
        start = time.thread_time()  # CPU time of this thread: other processes on the machine do not count
        crops = find_digits(strip, classify=int8.predict)
        times.append(time.thread_time() - start)
        written = len(range(100, strip.shape[1] - 200, 150))
        assert abs(len(crops) - written) <= written // 50, (len(crops), written)  # the digits are found, not skipped
    # Linear would be 4x, quadratic 16x; memory traffic on the big arrays costs a little more than 4x.
    assert times[1] < 2.0 and times[1] < 10 * max(times[0], 0.01), times


@pytest.mark.parametrize("frame, message", [(None, "no frame"), (np.zeros((0, 0, 3), np.uint8), "empty frame"),
                                            (np.zeros((8, 300), np.uint8), "too small"),
                                            (np.full((40, 40), np.inf, np.float32), "NaN or infinite")])
def test_bad_frames_still_give_their_named_errors(frame, message, int8):
    with pytest.raises(FrameError, match=message):
        find_digits(frame)
    with pytest.raises(FrameError, match=message):
        int8.read_digits(frame)


@pytest.mark.parametrize("condition, floor_digits, floor_lines", [
    ("faint_pencil", 93, 90), ("faint_pencil_extreme", 55, 45), ("jpeg", 92, 90), ("tinted_note", 90, 85),
    ("cast_shadow", 89, 84), ("letters_mixed", 75, 70), ("mixed_heights", 85, 65), ("specks_dust", 88, 78),
    ("perspective_rotation", 93, 88), ("other_writers", 91, 86)])
def test_hard_conditions_of_the_field_test(condition, floor_digits, floor_lines, mnist, int8):
    """The field generator's hardest inks, papers and lines (bench/field_scenes.py, 40 frames, another seed
    than the benchmark's): pencil at 10-40 % contrast on grainy paper, and a lighter lead at 3-13 % (12 % of
    digits before the line-averaged pass), JPEG at quality 4-15 (47 % before the noise was read from the
    paper's tail too), a sticky note on a dark desk and hard cast shadows (ink judged light in a third of the notes before the median look at the
    strokes), digits with letters on their line (letters were cut into digit-like pieces before a span could
    be read whole as "not a digit"), small digits beside tall ones with tails (dropped as specks at 0.4 of
    the line's height), JPEG blocks and specks joined to the strokes (66.7 / 67.5 and 86.0 / 75.0 before weak ink
    had to reach a fifth of the frame's strongest), a cast shadow's narrow corner joined to the digit it touches
    (85.2 / 75.0 before the corners were given back to the shadow: 88.9 / 82.5). Measured when written (digits / exact lines): faint 84 / 78,
    extreme 39 / 25, JPEG 68 / 58 (98.7 / 97.5 since that floor), notes 96 / 93, shadows 85 / 75, letters
    85 / 73, mixed heights 91 / 75, specks 91.9 / 82.5. Faint 86.2 / 77.5 and extreme 38.8 / 25.0 until the
    line-averaged pass weighed each piece against its two sides (2026-11-29): 96.6 / 95.0 and 58.8 / 47.5
    (75.3 / 60.0 before its seeds had to stand out in the plain line average too, which blank wood and cloth
    needed: `test_bare_wood_and_cloth_show_no_digit`);
    hard shadows 88.9 / 80.0 until ink under a shadow was weighed against other ink in its paper's terms:
    90.1 / 85.0. Pages turned up to 20 degrees 95.4 / 85.0 until the two ends of a tilted line were joined
    (runtime/lines.py): 95.4 / 90.0. A crossed 7 or a 1 with a long flag among the digits (train/digit_forms.py):
    86.4 / 77.5 with the model shipped before they were in its training, 89.4 / 82.5 since (2026-11-29; with the
    flag drawn against the page, not the stem: 87.9 / 82.5 and 92.4 / 90.0). With slashed 0s among them too
    (2026-11-30): 83.3 / 72.5 and 90.9 / 85.0; a fine-tune with slashed 0s, not shipped (MNIST 99.43 %): 93.9 / 90.0;
    the shipped model with slashed 0s read again without their slash (runtime/slashed.py): 92.4 / 87.5."""
    samples = _field_frames(mnist, condition, 7, 40)
    hits, exact = _digits_hit(int8, samples)
    digits, lines = 100 * hits / sum(len("".join(s.lines)) for s in samples), 100 * exact / 40
    assert digits >= floor_digits and lines >= floor_lines, f"{condition}: {digits:.1f} % digits, {lines:.1f} % lines"


def test_faint_ink_pass_only_runs_where_nothing_stands_out(mnist):
    """A pen on clean paper is read pixel by pixel; a pencil stroke at 10 grey levels on grainy paper is not,
    and the line-averaged signal lifts it clear of the grain."""
    from runtime.ink import LINE_SEED_SIGMAS, along_strokes, flatten, is_faint

    rng = np.random.default_rng(5)
    paper = cv2.GaussianBlur(rng.normal(0, 1, (60, 80)).astype(np.float32), (0, 0), 1.0)
    paper = cv2.resize(paper, (320, 240), interpolation=cv2.INTER_CUBIC)
    paper = 200 + 4 * paper / paper.std() + rng.normal(0, 1.5, (240, 320))
    for contrast, faint in ((80, False), (10, True)):
        page = paper.copy()
        cv2.line(page, (100, 60), (140, 180), 0, 3)
        page = np.where(page == 0, paper - contrast, paper)
        signal, sigma = flatten(np.clip(page, 0, 255).astype(np.uint8))
        assert is_faint(signal, sigma) == faint
        if faint:
            along, _, along_sigma = along_strokes(signal)
            on_stroke = along[90:150, 112:128].max()
            assert on_stroke >= np.median(along) + LINE_SEED_SIGMAS * along_sigma
            grain = along.copy()
            grain[50:190, 90:150] = 0
            assert grain.max() < np.median(along) + LINE_SEED_SIGMAS * along_sigma


def test_blank_pages_under_a_hard_shadow_or_on_a_desk_rarely_show_a_digit(int8):
    """Nothing written: paper under a hard-edged cast shadow, a sticky note on a dark desk (60 frames each,
    tests/hard_scenes.py). Most of them are faint frames (nothing stands out), and the line-averaged pass
    read the thin line the paper estimate leaves along the edge as a 1: 17 of 120 frames showed a digit
    before the pass went blind along steps of the light (`runtime.ink.light_steps`), 9-10 after it. Those left are
    mostly a shadow's band or wedge read whole as a 1, and short pieces of an edge at the frame's border; the model
    trained on 1s with a long flag (2026-11-29) reads one more such band as a 1: 11."""
    from tests.hard_scenes import BLANK_LOOKS, blank_page

    shown = [(look, i) for look in BLANK_LOOKS for i in range(60)
             if any(d.status == "ok" for d in int8.read_digits(blank_page(i, look), int8.min_confidence).digits)]
    assert len(shown) <= 12, shown


def test_bare_wood_and_cloth_show_no_digit(int8):
    """A bare desk in view, 60 frames each of wood grain and woven cloth (tests/hard_scenes.py `bare_surface`):
    their rings and threads are faint parallel lines. The faint pass weighing pieces against their sides alone
    showed a digit in 28 and 24 frames (and took up to 160 ms on a frame); with its seeds held to the plain
    line average too (`runtime.ink.faint_seeds`), 0 and 5; the reader before either, 0 and 4; the model trained
    on 1s with a long flag (2026-11-29), 0 and 7 (two more threads read as a 1)."""
    from tests.hard_scenes import BARE_SURFACES, bare_surface

    shown = {surface: [i for i in range(60) if any(d.status == "ok" for d in
                       int8.read_digits(bare_surface(i, surface), int8.min_confidence).digits)]
             for surface in BARE_SURFACES}
    assert len(shown["wood"]) <= 1 and len(shown["fabric"]) <= 8, shown


def test_bold_digits_filling_the_frame_are_not_taken_for_noise(mnist, int8):
    """A bold number covering a tenth of the frame or more: its ink must not count as the paper's noise
    (the JPEG noise term first read the whole frame's 90th percentile: "2024" -> "1", "111" -> "888")."""
    for text in ("2024", "111", "42", "7777"):
        frame = np.full((480, 640), 235, np.uint8)
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 8, 20)
        cv2.putText(frame, text, ((640 - w) // 2, (480 + h) // 2), cv2.FONT_HERSHEY_SIMPLEX, 8, 20, 20, cv2.LINE_AA)
        assert int8.read_digits(frame).number == text
    enlarged = sum(int8.read_digits(cv2.resize(mnist.x_test[i], (112, 112))).number == str(mnist.y_test[i])
                   for i in range(100))
    assert enlarged >= 97


def test_the_faint_pass_leaves_long_strips_alone():
    """A blank 240x60000 strip is 'faint' everywhere; the line-averaged pass would cost seconds there."""
    from runtime.ink import FAINT_MAX_AREA, is_faint

    strip = np.zeros((240, 60000), np.uint8)
    assert strip.size > FAINT_MAX_AREA and not is_faint(strip, 1.0)
    assert is_faint(np.zeros((240, 320), np.uint8), 1.0)



def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_GRAYSCALE)


def _three_digits_on_paper(mnist, seed: int) -> tuple[np.ndarray, str]:
    """Three MNIST test digits on 640x480 paper with a light gradient, mottling and sensor noise."""
    rng = np.random.default_rng(seed)
    page = np.full((480, 640), rng.uniform(170, 220), np.float32) * np.linspace(0.8, 1.05, 640, dtype=np.float32)[None]
    page += 4 * cv2.resize(rng.normal(0, 1, (40, 54)).astype(np.float32), (640, 480), interpolation=cv2.INTER_CUBIC)
    picks = rng.integers(0, len(mnist.x_test), 3)
    for k, x in zip(picks, (100, 260, 420)):
        page[170:320, x:x + 150] -= 0.6 * cv2.resize(mnist.x_test[k], (150, 150), interpolation=cv2.INTER_LINEAR)
    raw = np.clip(page + rng.normal(0, 2.5, page.shape), 0, 255).astype(np.uint8)
    return raw, "".join(str(mnist.y_test[k]) for k in picks)


def test_heavy_jpeg_is_told_from_ordinary_frames(mnist):
    """JPEG at quality 8 steps on its 8x8 grid (blockiness far above 1), also when sent at a third of the size
    and enlarged (period 24, a little off); the same frame raw or at quality 90 does not."""
    from runtime.ink import BLOCKY, blockiness

    raw, _ = _three_digits_on_paper(mnist, 3)
    assert blockiness(raw) < 1.5 and blockiness(_jpeg(raw, 90)) < 2.0
    assert blockiness(_jpeg(raw, 8)) > BLOCKY
    small = _jpeg(cv2.resize(raw, (213, 160), interpolation=cv2.INTER_AREA), 4)
    assert blockiness(cv2.resize(small, (640, 480), interpolation=cv2.INTER_LINEAR)) > BLOCKY
    with pytest.raises(ValueError, match="uint8 gray"):
        blockiness(raw.astype(np.float32))  # differences of floats would be truncated: refused, not misread


@pytest.mark.parametrize("enlarged, floor", [(False, 24), (True, 11)])
def test_heavy_jpeg_numbers_are_read(enlarged, floor, mnist, int8):
    """30 frames of three digits at JPEG quality 4-15, at full size or sent at a third and enlarged (built
    here, not by the field generator). Before weak ink was judged against its whole block's strokes on such
    frames: 23 / 30 and 8 / 30 numbers exact; after: 25 and 12."""
    exact = 0
    for seed in range(30):
        raw, truth = _three_digits_on_paper(mnist, seed)
        quality = (4, 6, 8, 10, 15)[seed % 5]
        if enlarged:
            frame = cv2.resize(_jpeg(cv2.resize(raw, (213, 160), interpolation=cv2.INTER_AREA), quality), (640, 480),
                               interpolation=cv2.INTER_LINEAR)
        else:
            frame = _jpeg(raw, quality)
        exact += int8.read_digits(frame, int8.min_confidence).number == truth
    assert exact >= floor, f"{exact} / 30 numbers exact"



def test_a_lone_digit_read_surely_whole_is_not_tried_in_pieces(mnist, int8):
    """Classifier images per digit (splitting plus the final read), seed 5, 10 frames: a clean one-digit frame
    3.3 -> 1.0 and a page of 40 digits 1.93 -> 1.61 when the whole box is read first (runtime/segment.py);
    the pages' touching pairs read again along their slant add 0.33 (1.57 -> 1.90; 2.24 when every box of a
    run was cut along five slants at every valley); 2.21 since 2026-11-30, its writing (14-19 px at the working
    size) read at the finer scale for small writing (runtime/scale.py; seed 5, 30 frames: 97.1 -> 98.0 % of
    its digits read, 9 -> 12 frames exact)."""
    for name, most in (("clean", 1.2), ("40 digits", 2.3)):
        seen = [0]

        def counting(images):
            seen[0] += len(images)
            return int8.predict(images)

        digits = 0
        for frame in make_frames(mnist, name, 10, seed=5):
            crops = find_digits(frame.image, classify=counting)
            seen[0] += sum(c.probabilities is None for c in crops)
            digits += len("".join(frame.lines))
        assert seen[0] / digits <= most, f"{name}: {seen[0] / digits:.2f} classifier images per digit"


def test_non_digit_frames_of_the_field_test_rarely_report_a_digit(mnist, int8):
    """The field generator's frames with no digit (words, letters, symbols, scribbles; 40 frames of seed 7):
    17 reported a digit before a pair of one size with a 0 (OK), spaced-out letters outnumbering a digit
    (W A T E R) and dotted marks (Hi, ?) were read as letters (runtime/words.py, runtime/dots.py): 13; and 11
    since a line holding two letters or more and no digit read at 0.9 or more is writing ("A B C" with its B
    read as an 8 at 0.88; with one letter enough it was 6, at a price in real numbers beside one symbol)."""
    from bench.field_scenes import DigitPool, generate

    pool = DigitPool(mnist.x_test, mnist.y_test)
    reporting = [i for i in range(40)
                 if any(d.status == "ok" for d in int8.read_digits(generate("non_digit", i, pool, seed=7).image).digits)]
    assert len(reporting) <= 12, f"{len(reporting)} of 40 frames without a digit report one: {reporting}"


def test_a_letter_cut_into_a_letter_and_a_one_stays_a_letter(int8):
    """Printed and pen-drawn M, N and W (wider than a span read whole as a letter) on plain paper: cut into a
    piece read as "not a digit" and a leg read as 1, they reported a 1 in 9 of these 30 frames; with the box
    kept whole as one letter when its other pieces are 1s as tall as the box (runtime/segment.py,
    `_Run._letters_whole`), in 3."""
    from bench.field_scenes import text_hershey, text_ttf

    reporting = []
    for letter in "MNW":
        for k in range(10):
            rng = np.random.default_rng(1000 + k)
            alpha = (text_ttf if k % 2 == 0 else text_hershey)(letter, rng.uniform(80, 160), rng)
            frame = np.full((480, 640), 220, np.float32)
            h, w = min(alpha.shape[0], 360), min(alpha.shape[1], 440)
            frame[120:120 + h, 200:200 + w] -= 180 * alpha[:h, :w]
            reading = int8.read_digits(cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (3, 3), 0))
            if any(d.status == "ok" for d in reading.digits):
                reporting.append(letter)
    assert len(reporting) <= 4, f"{len(reporting)} of 30 letters report a digit: {''.join(reporting)}"


def test_a_one_touching_a_letter_is_still_read(mnist, int8):
    """MNIST 1s written touching a printed A, N or M on their right (handwriting's "A1"): the reader keeps the 1
    in some of them; a rule taking any 1 cut from a letter's ink for one of its strokes lost all of them
    (attack review: 605 of 612) and was withdrawn. Keeping a box whole as one letter when it is cut into only
    "not a digit" and 1s (the test above) costs some: with three letters (A, N, M; 12 frames) 6 -> 4, with ten
    (ANMKHRWUEL, 60 frames) 28 -> 19; the model trained on 1s with a long flag (2026-11-29): 2 and 19."""
    from bench.field_scenes import text_ttf

    ones = np.flatnonzero(mnist.y_test == 1)[:60]
    read = 0
    for k, index in enumerate(ones):
        frame = np.full((480, 640), 225, np.float32)
        letter = text_ttf("ANMKHRWUEL"[k % 10], 120, np.random.default_rng(k))
        frame[180:180 + letter.shape[0], 150:150 + letter.shape[1]] -= 190 * letter
        ys, xs = np.nonzero(mnist.x_test[index])
        one = mnist.x_test[index][ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        one = cv2.resize(one, (max(1, one.shape[1] * 120 // one.shape[0]), 120)).astype(np.float32) / 255.0
        x = 150 + letter.shape[1] - 3  # overlapping the letter's last column by 3 px
        frame[180:300, x:x + one.shape[1]] = np.minimum(frame[180:300, x:x + one.shape[1]], 225 - 190 * one)
        reading = int8.read_digits(cv2.GaussianBlur(np.clip(frame, 0, 255).astype(np.uint8), (3, 3), 0))
        read += any(d.status == "ok" and d.digit == 1 and d.box[0] >= x - 20 for d in reading.digits)
    assert read >= 17, f"the touching 1 read in {read} of 60 frames"


def test_a_stray_mark_beside_a_number_is_not_read_as_a_1(mnist, int8):
    """Field test frames (multi_digit, seed 0) where a pen's lift beside "1989" and a tick inside "807" had
    been read as 1s: "19891", "8017" (runtime/words.py, SHORT_ONE)."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (125, 129):
        scene = generate("multi_digit", index, pool, 0)
        reading = int8.read_digits(scene.image)
        assert reading_lines(reading) == list(scene.lines)
        assert [d.status for d in reading.digits].count("not a digit") == 1  # the mark is there, not a digit


def test_a_lone_1_on_a_wide_clean_page_is_read(int8):
    """Attack review: a printed "1" alone on a noise-free 200x900 page gave no digit at all."""
    page = np.full((200, 900), 230, np.uint8)
    cv2.putText(page, "1", (430, 140), cv2.FONT_HERSHEY_SIMPLEX, 3, 20, 8)
    assert read_lines(int8, page) == ["1"]


def test_a_small_wide_digit_beside_tall_ones_is_read(mnist, int8):
    """Field test frames (mixed_heights, seed 0) whose small 0, 2 or 5 beside tall 7s and 9s was dropped:
    wide for its own height, it was read as a run of pieces and skipped as a short one ("5277" -> "277").
    A lone box narrower than a digit of its line is one digit (runtime/segment.py)."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (9, 24, 49, 86, 117, 124):
        scene = generate("mixed_heights", index, pool, 0)
        assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines), index


def test_a_flat_0_is_not_cut_into_a_6_and_a_7(mnist, int8):
    """Field test frames (seed 0) whose flat 0, wider than tall, was read as two halves ("9067" -> "96767",
    "10" -> "167", "4540" -> "45467"): a span whose one enclosed hole is nearly as wide as its ink is a ring
    and is not charged for its width up to twice its height (runtime/segment.py, RING_WIDTH)."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for condition, index in (("multi_digit", 132), ("thin_pen", 39), ("squared_paper", 39)):
        scene = generate(condition, index, pool, 0)
        assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines), (condition, index)


def test_two_digits_touching_at_two_points_are_not_read_as_one_ring(mnist, int8):
    """Attack review: two touching digits whose strokes meet twice enclose one wide hole between them, like a
    flat 0; taken for a ring, "52" was read "2" and "01" read "4". Only a span read as a 0 may be a ring."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index, seed in ((23, 5), (18, 9)):
        scene = generate("touching_pairs", index, pool, seed)
        assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines), (index, seed)


def test_a_small_touching_pair_between_tall_digits_is_not_dropped(mnist, int8):
    """Attack review: a lone box narrower than a digit of its line was kept as one digit even when read as
    "not a digit" (a small touching pair): "2494" -> "24". Such a box is kept whole only if read as a digit,
    else it is tried in pieces like any run."""
    from bench.field_scenes import DigitPool
    from bench.field_test import reading_lines
    from tests.hard_scenes import small_touching_pair

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (52, 75, 76):
        image, truth = small_touching_pair(pool, index)
        assert reading_lines(int8.read_digits(image)) == list(truth), index


def test_small_letters_among_tall_digits_leave_the_digits_alone(mnist, int8):
    """Attack review: a small letter beside tall digits whose pieces were all skipped came back as a "not a
    digit" glyph, and made a word with the digits that rejected them all ("41" -> nothing, "962" -> "9")."""
    from bench.field_scenes import DigitPool
    from bench.field_test import reading_lines
    from tests.hard_scenes import make

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (1, 12, 137, 185):
        image, truth = make("small_letters", index, pool)
        assert reading_lines(int8.read_digits(image)) == list(truth), index



def test_a_5_whose_bar_is_written_apart_is_read(mnist, int8):
    """Field test frames (seed 0) whose 5 has its bar apart, off the top right of its body: the bar was
    dropped as a dash and the body read "not a digit" ("5" -> nothing, "59" -> "9"; runtime/pieces.py, BAR_*)."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for condition, index in (("clean", 53), ("mixed_heights", 72)):
        scene = generate(condition, index, pool, 0)
        assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines), (condition, index)


def test_a_dash_high_after_a_digit_is_not_taken_for_a_5s_bar(mnist, int8):
    """A flat dash off a digit's top right (tests/hard_scenes.py, no 5s) sits where a 5's bar written apart
    does: joined to the digit, "1" read nothing and "0" read "15". The join is kept only when the digit reads
    as a 5 with it at 0.99 or more, and more surely than as any digit without it (runtime/pieces.py,
    BAR_SURE): these 60 frames 57 exact before the bar was joined, 44 with every bar joined, 57 now."""
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import high_dash

    pool = DigitPool(mnist.x_test, mnist.y_test)
    right = _read_exactly(int8, (high_dash(pool, index) for index in range(60)))
    assert right >= 55, f"{right} of 60 frames with a high dash read exactly"


def test_a_5_whose_body_alone_reads_as_a_3_keeps_its_bar(mnist, int8):
    """Field frame (seed 7, mixed heights 73): a small 5 whose bar is apart reads as a 5 at 0.996 with its bar
    and as a 3 at 0.92 without; parting every bar whose body alone reads as a digit at 0.9 or more read "975"
    as "97"."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    scene = generate("mixed_heights", 73, DigitPool(mnist.x_test, mnist.y_test), 7)
    assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines)


def test_a_5_written_in_two_strokes_in_pencil_keeps_its_bar(mnist, int8):
    """5s whose bar is written apart, in pencil, faint or thin ink (tests/hard_scenes.py, five_bar_apart): read
    with the bar at 0.7-0.98 as a 5, their body alone as no digit, so parting the bar (kept only at 0.99) lost
    the 5 ("5" -> nothing, "95" -> "9", "526" -> "26") or read its body as a 3 ("555" -> "355"). The bar now
    stays when the 5 reads at 0.9 with it and its body alone under 0.9, or at 0.7 and its body alone as no
    digit (runtime/pieces.py, keeps_bar): of 300 such frames 250 -> 255 exact, none worse; these 5 were among
    the 50 lost ("250" -> "20", its 5 at 0.63 with the bar, stays lost: a letter with a dash reads so too)."""
    from bench.field_scenes import DigitPool
    from bench.field_test import reading_lines
    from tests.hard_scenes import five_bar_apart

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (20, 87, 153, 240, 298):
        image, truth = five_bar_apart(pool, index)
        assert reading_lines(int8.read_digits(image)) == list(truth), index


def test_a_letter_with_a_dash_high_after_it_is_not_a_5(mnist, int8):
    """A printed letter or symbol with a flat dash off its top right (tests/hard_scenes.py,
    letter_with_a_high_dash) reads as a 5 with the dash at 0.50-0.85 and as no digit alone: keeping every bar
    whose body alone reads as no digit turned "28" into "2815" and "53" into "535" (attack review: 240 such
    frames 139 -> 132 exact). The 5 must read at 0.7 with its bar then (runtime/pieces.py, BAR_AT_LEAST): 138
    (142 with the model of 2026-11-27; 139 with the one trained on 1s with a long flag, which reads frame 96's
    dash as a 5 again: "535")."""
    from bench.field_scenes import DigitPool
    from bench.field_test import reading_lines
    from tests.hard_scenes import letter_with_a_high_dash

    pool = DigitPool(mnist.x_test, mnist.y_test)
    image, truth = letter_with_a_high_dash(pool, 96)
    assert list(truth) == ["53"]
    exact = sum(reading_lines(int8.read_digits(image)) == list(truth)
                for image, truth in (letter_with_a_high_dash(pool, i) for i in range(240)))
    assert exact >= 135, f"{exact} of 240 frames read exactly"


def test_digits_written_leaning_and_touching_are_split_along_their_slant(mnist, int8):
    """Digits leaning right (0.3-0.5 x per y) whose ink touches (tests/hard_scenes.py): every upright cut
    crosses both, so a run not read as sure digits is read again with slanted cuts (runtime/segment.py,
    SLANTS). These 60 frames: 24 read exactly before, 32 with slanted cuts, 31 since only the boxes under the
    unread span are cut, at every valley only along their own lean (200 frames: 85 -> 109 -> 108)."""
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import leaning_touching

    pool = DigitPool(mnist.x_test, mnist.y_test)
    right = _read_exactly(int8, (leaning_touching(pool, index) for index in range(60)))
    assert right >= 29, f"{right} of 60 leaning touching frames read exactly"


def test_a_box_overlapping_its_neighbour_in_x_keeps_all_its_ink(mnist, int8):
    """Field test frames (seed 0) where a digit's box overlaps the next one's in x: a span starting or ending
    at a box's edge was clipped at the other box's edge, cutting the digit ("85" -> "83", "55" -> "53",
    "16" -> "13"); a box's edge now takes all of its ink."""
    from bench.field_scenes import DigitPool, generate
    from bench.field_test import reading_lines

    pool = DigitPool(mnist.x_test, mnist.y_test)
    for index in (60, 88, 124):
        scene = generate("touching_pairs", index, pool, 0)
        assert reading_lines(int8.read_digits(scene.image)) == list(scene.lines), index


def test_leaning_digits_written_apart_are_read_one_by_one(mnist, int8):
    """Digits leaning right written 2-8 px apart (tests/hard_scenes.py): their boxes overlap in x, so they
    were joined into one box, or read together as one "not a digit" span ("95" -> nothing). Read again with
    their pieces parted and a span over two boxes read only as a digit: these 60 frames 34 -> 42 exact (43 now; 200
    frames: 121 -> 140, 142 now; the box-edge fix gave 138 of them)."""
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import leaning_touching

    pool = DigitPool(mnist.x_test, mnist.y_test)
    right = _read_exactly(int8, (leaning_touching(pool, index, apart=True) for index in range(60)))
    assert right >= 40, f"{right} of 60 leaning frames written apart read exactly"


@pytest.mark.parametrize("apart", [False, True])
def test_reading_leaning_digits_again_classifies_only_new_spans_near_the_unread_one(mnist, int8, apart):
    """Classifier images per frame on 60 leaning frames (tests/hard_scenes.py): a run read again renders only
    spans it has not read, cuts only the boxes under the span left unread: at every valley along the slant
    nearest their ink's lean, along the other slants only where one stroke is crossed (runtime/cuts.py).
    Touching 57.5 -> 35.0, apart 66.2 -> 40.1 (24.4 and 32.9 before any reading again). Cut along paths too
    (2026-11-30): 35.5 -> 37.0 and 36.9 -> 37.9 (41.6 touching before a path that is an upright cut was left out,
    38.8 before boxes wider than 2.5 x the line height got none)."""
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import leaning_touching

    pool = DigitPool(mnist.x_test, mnist.y_test)
    seen = [0]

    def counting(images):
        seen[0] += len(images)
        return int8.predict(images)

    for index in range(60):
        crops = find_digits(leaning_touching(pool, index, apart=apart)[0], classify=counting)
        seen[0] += sum(c.probabilities is None for c in crops)
    assert seen[0] / 60 <= (46 if apart else 40), f"{seen[0] / 60:.1f} classifier images per frame"


def test_reading_again_stops_at_its_budget_of_new_spans(mnist, int8, monkeypatch):
    """A page of 16 leaning frames tiled (runtime/segment.py, RETRY_SPANS): with a budget of 12 new spans the
    second batch holds at most 12 images, and the page is still read (runs over the budget keep their upright
    reading)."""
    import runtime.segment as segment
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import leaning_touching

    pool = DigitPool(mnist.x_test, mnist.y_test)
    tiles = [cv2.resize(leaning_touching(pool, 500 + n, apart=n % 2 == 1)[0], (400, 300), interpolation=cv2.INTER_AREA)
             for n in range(16)]
    page = np.vstack([np.hstack(tiles[row * 4:row * 4 + 4]) for row in range(4)])
    batches = []

    def counting(images):
        batches.append(len(images))
        return int8.predict(images)

    full = find_digits(page, classify=counting)
    assert batches[-1] > 12, batches  # the page has more than 12 new spans to read again
    batches.clear()
    monkeypatch.setattr(segment, "RETRY_SPANS", 12)
    capped = find_digits(page, classify=counting)
    assert len(batches) == 3 and batches[-1] <= 12, batches  # read whole, the runs' spans, then again
    assert len(capped) >= 0.8 * len(full)


def test_the_first_reading_of_runs_stops_at_its_budget_of_spans(mnist, int8, monkeypatch):
    """Runs are read fewest spans first, up to SPANS per 320x240 of working frame (runtime/segment.py); the rest
    are cut at their valleys and read later, one crop per piece: a frame of dense scrawl costs a bounded time
    (the attack review's worst 640x480 frames: at most 1,077 classifier images -> 774, the same lines read)."""
    import runtime.segment as segment
    from bench.field_scenes import DigitPool
    from tests.hard_scenes import leaning_touching

    pool = DigitPool(mnist.x_test, mnist.y_test)
    frame = leaning_touching(pool, 7)[0]
    batches = []

    def counting(images):
        batches.append(len(images))
        return int8.predict(images)

    full = find_digits(frame, classify=counting)
    assert batches == [19] and all(c.probabilities is not None for c in full), batches  # one run of 19 spans
    batches.clear()
    monkeypatch.setattr(segment, "SPANS", 18)
    capped = find_digits(frame, classify=counting)
    assert batches == [] and capped and all(c.probabilities is None for c in capped)  # cut at its valleys, unread
    assert int8.read_crops(capped).digits  # and read as crops


def test_frames_read_with_no_spans_left_still_give_their_glyphs(mnist, int8, monkeypatch):
    """With the span budget spent (SPANS = 0) every run is cut at its valleys unread, small lone boxes read as
    no digit included (a small letter: its pieces were compared with its reading whole, which had no
    probabilities to compare then); frames of letters and of mixed heights are still read, without an error."""
    import runtime.segment as segment
    from bench.field_scenes import DigitPool, generate

    pool = DigitPool(mnist.x_test, mnist.y_test)
    monkeypatch.setattr(segment, "SPANS", 0)
    frames = [generate(condition, index, pool, 0).image for condition in ("letters_mixed", "mixed_heights", "non_digit")
              for index in range(12)]
    assert sum(bool(int8.read_digits(frame).digits) for frame in frames) >= 24


def test_letters_read_again_first_do_not_starve_a_pair_below_them(mnist, int8):
    """Lines of touching leaning letters above a leaning digit pair (tests/hard_scenes.py, letters_above_a_pair):
    every group of letters is read again, and runs were served top to bottom until the budget of new spans was
    spent, the pair's run skipped whole ("70" -> "2", "08" -> "6", "86" -> nothing). Runs partly read as digits
    go first now, then those needing fewest new spans: of 80 such frames the pair read in 56 -> 59 (56 with the
    model trained on 1s with a long flag, 2026-11-29; frame 46's "70" is among those it loses)."""
    from bench.field_scenes import DigitPool
    from bench.field_test import reading_lines
    from tests.hard_scenes import letters_above_a_pair

    pool = DigitPool(mnist.x_test, mnist.y_test)
    read = sum(truth[0] in reading_lines(int8.read_digits(image))
               for image, truth in (letters_above_a_pair(pool, i) for i in range(80)))
    assert read >= 54, f"the pair read in {read} of 80 frames"


def test_a_short_stroke_among_specks_below_the_writing_is_not_a_line(mnist, int8):
    """A hair 24 px long below a number, on a row of dust specks: the specks made its line look like writing
    (three boxes or more), so it was read as a line "1" of its own (the field's specks: 636 -> "636", "1");
    only digit-shaped boxes count now."""
    read = 0
    for seed in range(10):
        raw, truth = _three_digits_on_paper(mnist, seed)
        cv2.line(raw, (330, 380), (333, 404), 40, 2)
        for x in (60, 200, 470, 560):
            cv2.circle(raw, (x, 392), 4, 60, -1)
        read += read_lines(int8, raw) == [truth]
    assert read >= 9, f"{read} of 10 numbers read without a line for the hair"


def _field_frames(mnist, condition: str, seed: int, count: int) -> list:
    from bench.field_scenes import DigitPool, generate

    pool = DigitPool(mnist.x_test, mnist.y_test)
    return [generate(condition, i, pool, seed=seed) for i in range(count)]


def _digits_hit(predictor, samples, min_confidence=None) -> tuple[int, int]:
    from bench.field_test import align, reading_lines

    hits = exact = 0
    for sample in samples:
        read = reading_lines(predictor.read_digits(sample.image, min_confidence))
        a = align("".join(sample.lines), "".join(read))
        hits += len("".join(sample.lines)) - a.substitutions - a.deletions - a.insertions
        exact += read == list(sample.lines)
    return hits, exact


def test_a_digit_read_as_not_a_digit_inside_a_long_number_is_kept(mnist, int8, monkeypatch):
    """Field pages (bench/field_scenes.py, seed 7, 40 frames): the model says "not a digit" to some odd digits of
    a page, and a glyph so read inside a line of four or more sure digits is read as its best digit
    (runtime/numbers.py). Measured when written (2026-11-30): 801 -> 808 of 837 digits hit (insertions count against),
    18 -> 19 frames exact; 801 -> 806 and 18 since a glyph ending a line is left alone (attack review); 812 -> 813
    and 20 -> 22 since small writing is read at a finer scale (runtime/scale.py), which reads many of those
    digits itself (100 frames of seeds 0 / 7 / 11: +5 / +2 / +2 digits, +1 / +3 / +2 frames exact)."""
    import runtime.numbers

    samples = _field_frames(mnist, "pages", 7, 40)
    with_rule = _digits_hit(int8, samples)
    monkeypatch.setattr(runtime.numbers, "in_numbers", lambda boxes, read, candidates, weights: [False] * len(boxes))
    without_rule = _digits_hit(int8, samples)
    assert with_rule[0] >= without_rule[0] and with_rule[1] >= without_rule[1] + 2, (with_rule, without_rule)


def test_a_stricter_bar_than_the_models_own_keeps_unsure_digits_out_of_numbers(mnist, int8, monkeypatch):
    """At min_confidence 0.9 many more glyphs of a page are unsure: the caller's bar stands, none is looked at
    for the number around it; at the model's own bar they are."""
    import runtime.numbers

    samples = _field_frames(mnist, "pages", 7, 6)
    calls = []
    real = runtime.numbers.in_numbers
    monkeypatch.setattr(runtime.numbers, "in_numbers", lambda *args: calls.append(1) or real(*args))
    _digits_hit(int8, samples, 0.9)
    assert not calls
    _digits_hit(int8, samples)
    assert calls


def test_touching_digits_no_straight_cut_parts_are_cut_along_a_path(mnist, int8, monkeypatch):
    """Field touching pairs (bench/field_scenes.py, seed 11, 150 frames; 1-5 px of ink overlap): a run read again
    is also cut along the cheapest paths through little ink (runtime/cuts.py). Measured when written
    (2026-11-30): 93 -> 96 frames exact (seeds 0 and 7, 100 frames each: 62 -> 63, 68 -> 69; no frame lost); 93 -> 97
    with the attack review's fixes."""
    from runtime.cuts import LineInk

    samples = _field_frames(mnist, "touching_pairs", 11, 150)
    with_paths = _digits_hit(int8, samples)[1]
    monkeypatch.setattr(LineInk, "path_cuts", lambda self, k: [])
    without_paths = _digits_hit(int8, samples)[1]
    assert with_paths >= without_paths + 2, (with_paths, without_paths)


def test_a_page_of_small_writing_in_a_phone_photo_is_read_at_a_finer_scale(mnist, int8, monkeypatch):
    """A photo (2-12 MP) of a page of small writing (bench/field_scenes.py `page_photos`: digits 2-4.5 % of the
    shorter side, 5-11 px at the 240-px working size, where most were dropped as specks or read as blobs) is read
    again at the scale that makes its writing WRITING_PX tall. Measured when written (2026-11-30, seed 7, 6 frames):
    217 of 221 digits hit (3 frames exact), 108 (none) without the finer scale."""
    import runtime.scale

    samples = _field_frames(mnist, "page_photos", 7, 6)
    digits = sum(len("".join(s.lines)) for s in samples)
    finer = _digits_hit(int8, samples)
    monkeypatch.setattr(runtime.scale, "SMALL_WRITING_PX", 0)
    coarse = _digits_hit(int8, samples)
    assert finer[0] >= 0.9 * digits and coarse[0] < 0.5 * digits, (finer, coarse, digits)
