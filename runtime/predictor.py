"""One predictor over every artifact and runtime: 28x28 images in, class probabilities out."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from runtime.backends import BACKENDS, SUFFIX_BACKEND, ModelLoadError, check_threads, read_model_bytes
from runtime.manifest import DEFAULT_FORMAT, MANIFEST_NAME, SWAP_JOURNAL, Artifact, ManifestError, load_manifest
from runtime.quant import Int8Params

MIN_CONFIDENCE = 0.60  # 10-output models: below this a prediction is reported as "low confidence", not as a digit
# 11-output models (class 10 = "not a digit"): the operating point chosen in models/reject/ (curve.png);
# export writes it into each artifact's manifest entry, this is the fallback for a model file without one.
NOT_A_DIGIT_MIN_CONFIDENCE = 0.50
NOT_A_DIGIT_CLASS = 10
NO_DIGIT = "no digit"
LOW_CONFIDENCE = "low confidence"
NOT_A_DIGIT = "not a digit"
OK = "ok"


class InputError(ValueError):
    """Images of the wrong shape, dtype or value range."""


def check_images(images) -> np.ndarray:
    """Validate a batch of 28x28 images: (N, 28, 28[, 1]) or (28, 28), uint8 0-255 or float 0-1."""
    if type(images) is np.ndarray and images.dtype == np.uint8 and images.shape[1:] == (28, 28) and len(images):
        return images  # the common case, kept cheap: it runs once per camera frame
    x = np.asarray(images)
    shape = x.shape
    if x.ndim == 2:
        x = x[None]
    elif x.ndim == 4 and shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise InputError(f"expected images of shape (N, 28, 28) or (N, 28, 28, 1), got {shape}")
    if len(x) == 0:
        raise InputError("empty batch: no images given")
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating):
        raise InputError(f"images must be uint8 (0-255) or float (0-1), got {x.dtype}")
    if not np.isfinite(x).all():
        raise InputError("images contain NaN or infinite values")
    if x.min() < -1e-6 or x.max() > 1.0 + 1e-6:
        raise InputError(f"float images must lie in [0, 1], got [{x.min():.3g}, {x.max():.3g}]; pass uint8 for 0-255")
    return x.astype(np.float32, copy=False)


def _crop_batch(images: list) -> np.ndarray:
    """Crops as one batch: stacked as they are when all are uint8 28x28 (the reader's), else each made float
    (N, 28, 28, 1) on its own (a uint8 crop stacked with a float one would be read as floats of 0-255)."""
    if all(isinstance(im, np.ndarray) and im.dtype == np.uint8 and im.shape == (28, 28) for im in images):
        return np.stack(images)
    one = [np.asarray(im)[..., 0] if np.ndim(im) == 3 and np.shape(im)[-1] == 1 else im for im in images]
    return np.concatenate([as_float_batch(im) for im in one])


def as_float_batch(images) -> np.ndarray:
    """Any accepted batch -> float32 (N, 28, 28, 1) in [0, 1], the float models' input."""
    x = check_images(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) * np.float32(1 / 255.0)
    return x[..., None]


@dataclass(frozen=True)
class DigitPrediction:
    """What the model read in one place of a frame; `digit` is None unless status is "ok"."""

    status: str  # "ok", "no digit", "low confidence" (10-output models) or "not a digit" (11-output models)
    digit: int | None = None
    confidence: float = 0.0  # the best digit's probability (outputs 0-9)
    best_guess: int | None = None  # the best digit, also when not confident enough to be reported as the digit
    probabilities: np.ndarray | None = None
    box: tuple[int, int, int, int] | None = None  # x, y, w, h in frame pixels
    input_28x28: np.ndarray | None = None  # exactly what the model saw (uint8, white on black)


def _spelled(digits: list[DigitPrediction]) -> str | None:
    if not digits or any(d.status != OK for d in digits):
        return None
    return "".join(str(d.digit) for d in digits)


@dataclass(frozen=True)
class Reading:
    """All digits of a frame in reading order, and the same digits per text line (top to bottom)."""

    digits: list[DigitPrediction] = field(default_factory=list)
    lines: list[list[DigitPrediction]] = field(default_factory=list)

    def __post_init__(self):
        if self.digits and not self.lines:  # a reading made from digits alone is one line
            object.__setattr__(self, "lines", [list(self.digits)])

    @property
    def number(self) -> str | None:
        """The digits of a one-line frame spelled left to right; None when there is none, one is uncertain,
        or the frame holds several lines (see `numbers`)."""
        return _spelled(self.digits) if len(self.lines) == 1 else None

    @property
    def numbers(self) -> list[str | None]:
        """Each line's number, top to bottom (None for a line with an uncertain digit)."""
        return [_spelled(line) for line in self.lines]


class Predictor:
    """A loaded model: built once, reused for every call.

    Thread-safe: one Predictor may be shared by threads. An interpreter is not
    (LiteRT raised, or returned another image's class, issue 11), so each
    other thread that calls predict() gets its own interpreter, built on its
    first call from the same verified bytes (a few ms, the model's memory
    again); the loading thread keeps `backend`. On 16 cores, 8 threads ran
    3.7x faster so than on one interpreter under a lock (onnxruntime,
    benchmarks/predictor_threads_16cpu.md; `mnist-edge bench threads`).
    Without `make_backend` the threads take turns on `backend` under a lock.
    """

    def __init__(self, backend, artifact: Artifact | None = None, make_backend=None):
        self.backend = backend
        self._make_backend = make_backend  # () -> another backend of the same model, for another thread
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._lock = threading.Lock()
        self.artifact = artifact
        self.format = artifact.format if artifact else Path(backend.path).suffix.lstrip(".")
        self.input_quant: Int8Params | None = backend.input.quant if backend.input.dtype == np.int8 else None
        self.output_quant: Int8Params | None = backend.output.quant if backend.output.dtype == np.int8 else None
        # uint8 pixels -> int8 input through a 256-entry table made with the model's own scale and zero point.
        self._pixel_table = (self.input_quant.quantize(np.arange(256, dtype=np.float32) / np.float32(255.0))
                             if self.input_quant else None)
        # int8 output -> probability through a table indexed by the output's bytes read as uint8
        # (same arithmetic as dequantize, one lookup instead of three array operations).
        self._output_table = (self.output_quant.dequantize(np.arange(256, dtype=np.uint8).view(np.int8))
                              if self.output_quant else None)
        self.num_classes = int(backend.output.shape[-1])
        if self.num_classes not in (10, 11):
            raise ModelLoadError(f"{backend.path}: {self.num_classes} outputs; expected 10 digits, or 10 + \"not a digit\"")
        output = artifact.output if artifact else {}
        # The model's own operating point: what a crop's best digit needs to be reported as a digit.
        self.min_confidence = float(output.get("min_confidence") or (
            NOT_A_DIGIT_MIN_CONFIDENCE if self.num_classes == 11 else MIN_CONFIDENCE))

    @property
    def rejects_non_digits(self) -> bool:
        """True for a model with the 11th output, "not a digit"."""
        return self.num_classes == 11

    @property
    def name(self) -> str:
        return f"{self.format}/{self.backend.name}"

    def to_model_input(self, images) -> np.ndarray:
        """The exact tensor the model receives: float [0, 1], or int8 through the model's own scale and zero point."""
        x = check_images(images)
        if self.input_quant is None:
            return as_float_batch(x)
        if x.dtype == np.uint8:
            return self._pixel_table.take(x)[..., None]
        return self.input_quant.quantize(x)[..., None]

    def _thread_backend(self):
        """This thread's own backend (the loading thread's is `backend`); None when it must share `backend`."""
        if threading.get_ident() == self._owner:
            return self.backend if self._make_backend else None
        if self._make_backend is None:
            return None
        mine = getattr(self._local, "backend", None)
        if mine is None:
            mine = self._local.backend = self._make_backend()
        return mine

    def predict(self, images, chunk: int = 256) -> np.ndarray:
        """Class probabilities, float32 (N, 10) or (N, 11) (the last: "not a digit"); large batches run in chunks."""
        x = self.to_model_input(images)
        backend = self._thread_backend()
        with self._lock if backend is None else contextlib.nullcontext():  # None: share self.backend, in turns
            backend = backend or self.backend
            if len(x) <= chunk:
                raw = backend.run(x)
            else:
                raw = np.concatenate([backend.run(x[i:i + chunk]) for i in range(0, len(x), chunk)])
        if self._output_table is not None:
            probs = self._output_table.take(raw.view(np.uint8))
        else:
            probs = raw.astype(np.float32, copy=False)
        return probs.reshape(len(probs), -1)

    def read_digits(self, frame, min_confidence: float | None = None) -> Reading:
        """Find every digit in a camera frame, MNIST-normalize each, predict them in one batch.

        `min_confidence` defaults to the model's own (self.min_confidence).
        """
        from runtime.preprocess import find_digits  # OpenCV: loaded only by what reads frames

        return self.read_crops(find_digits(frame, classify=self.predict), min_confidence)

    def read_crops(self, crops: list, min_confidence: float | None = None) -> Reading:
        """Predict digits found by runtime.preprocess.find_digits (one batch; crops already read while
        splitting touching digits keep their probabilities)."""
        if not crops:
            return Reading([])
        known = [getattr(c, "probabilities", None) for c in crops]
        todo = [i for i, p in enumerate(known) if p is None]
        if todo:
            for i, p in zip(todo, self.predict(_crop_batch([crops[i].image for i in todo]))):
                known[i] = p
        probs = np.stack(known)
        read_first = probs.copy()
        images = self._slashes_taken_out(crops, probs, min_confidence)
        statuses = self.statuses(probs, min_confidence)
        if self.rejects_non_digits:
            from runtime.dots import is_dotted  # OpenCV: loaded only by what reads frames

            read_as = [int(p[:NOT_A_DIGIT_CLASS].argmax()) for p in probs]
            # An i, j, ! or ? (a 1 or 7 with a dot of its own: runtime/dots.py) is a letter, as is what the model
            # reads as "not a digit" (a digit read unsure is not).
            dotted = [is_dotted(getattr(c, "dot", ""), d) for c, d in zip(crops, read_as)]
            statuses = [NOT_A_DIGIT if d else s for d, s in zip(dotted, statuses)]
            letters = [d or int(p.argmax()) == NOT_A_DIGIT_CLASS for d, p in zip(dotted, probs)]
            statuses = self._in_words(crops, statuses, read_as, letters,
                                      [float(p[d]) for p, d in zip(probs, read_as)])
            statuses = self._in_numbers(crops, statuses, probs, dotted, min_confidence)
        for i, status in enumerate(statuses):
            if status != OK and images[i] is not crops[i].image:  # a 0 read without its slash, overruled (its word)
                images[i], probs[i] = crops[i].image, read_first[i]
        digits, lines = [], {}
        for crop, image, p, status in zip(crops, images, probs, statuses):
            best = int(p[:NOT_A_DIGIT_CLASS].argmax())
            digit = DigitPrediction(status, best if status == OK else None, float(p[best]), best, p,
                                    crop.box, image)
            digits.append(digit)
            lines.setdefault(getattr(crop, "line", 0), []).append(digit)
        return Reading(digits, [lines[k] for k in sorted(lines)])

    def _slashes_taken_out(self, crops: list, probs: np.ndarray, min_confidence: float | None) -> list[np.ndarray]:
        """Each crop's model input: a crop not read surely that is a slashed 0 (runtime/slashed.py) is read again
        without its slash, and that reading (`probs`, in place) and image kept when it is a sure 0. Only crops
        the model reads under its own operating point (or as "not a digit") are looked at: a stricter
        `min_confidence` makes a surely read 8 unsure, not a candidate 0."""
        from runtime.slashed import without_slash  # OpenCV: loaded only by what reads frames

        images = [crop.image for crop in crops]
        if not self.rejects_non_digits:  # measured on the 11-output model only (a 10-output one made an 8 a 0)
            return images
        own = self.statuses(probs, self.min_confidence)
        unsure = [i for i, status in enumerate(self.statuses(probs, min_confidence)) if status != OK and own[i] != OK
                  and np.shape(images[i]) == (28, 28) and np.asarray(images[i]).dtype == np.uint8]
        rings = [(i, ring) for i in unsure if (ring := without_slash(images[i])) is not None]
        if not rings:
            return images
        threshold = self.min_confidence if min_confidence is None else min_confidence
        for (i, ring), p in zip(rings, self.predict(np.stack([ring for _, ring in rings]))):
            if int(p.argmax()) == 0 and float(p[0]) >= threshold:
                probs[i], images[i] = p, ring
        return images

    def _in_numbers(self, crops: list, statuses: list[str], probs: np.ndarray, dotted: list[bool],
                    min_confidence: float | None) -> list[str]:
        """Statuses with a glyph read as "not a digit" inside a long number read as its best digit
        (runtime/numbers.py; not an i or j); only at the model's own operating point or a laxer one: a stricter
        `min_confidence` is the caller's to keep."""
        from runtime.numbers import in_numbers

        if min_confidence is not None and min_confidence > self.min_confidence:
            return statuses
        out = list(statuses)
        for members in _by_line(crops):
            taken = in_numbers([crops[i].box for i in members], [statuses[i] == OK for i in members],
                               [statuses[i] != OK and not dotted[i] for i in members],
                               [float(probs[i][:NOT_A_DIGIT_CLASS].max()) for i in members])
            for i, take in zip(members, taken):
                if take:
                    out[i] = OK
        return out

    @staticmethod
    def _in_words(crops: list, statuses: list[str], digits: list[int], letters: list[bool],
                  confidences: list[float]) -> list[str]:
        """Statuses with the digits read among the letters of a word set to "not a digit" (runtime/words.py)."""
        from runtime.words import in_words

        out = list(statuses)
        for members in _by_line(crops):
            for i, status in zip(members, in_words([crops[i].box for i in members], [statuses[i] for i in members],
                                                   OK, NOT_A_DIGIT, [digits[i] for i in members],
                                                   [letters[i] for i in members],
                                                   [confidences[i] for i in members])):
                out[i] = status
        return out

    def statuses(self, probs: np.ndarray, min_confidence: float | None = None) -> list[str]:
        """"ok" where the best digit wins with at least `min_confidence`; else "not a digit" for a model
        with that output (its argmax, or a digit too unsure), "low confidence" for a 10-output model."""
        threshold = self.min_confidence if min_confidence is None else min_confidence
        # In float64: NumPy 2 would round a Python-float threshold to float32 and let it tie a probability just under it.
        confident = probs[:, :NOT_A_DIGIT_CLASS].max(axis=1).astype(np.float64) >= threshold
        if self.rejects_non_digits:
            confident &= probs.argmax(axis=1) != NOT_A_DIGIT_CLASS
            return [OK if c else NOT_A_DIGIT for c in confident]
        return [OK if c else LOW_CONFIDENCE for c in confident]

    def predict_digit(self, frame, min_confidence: float | None = None) -> DigitPrediction:
        """The frame's main (largest) digit, or status "no digit" when it holds none."""
        reading = self.read_digits(frame, min_confidence)
        if not reading.digits:
            return DigitPrediction(NO_DIGIT)
        return max(reading.digits, key=lambda d: d.box[2] * d.box[3])


def _by_line(crops: list) -> list[list[int]]:
    """The crops' indices grouped by text line (a crop without one is on line 0), lines in order of first crop."""
    by_line: dict[int, list[int]] = {}
    for i, crop in enumerate(crops):
        by_line.setdefault(getattr(crop, "line", 0), []).append(i)
    return list(by_line.values())


def _backend_for(path: Path, backend: str) -> str:
    if backend != "auto":
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from auto, {', '.join(BACKENDS)}")
        return backend
    try:
        return SUFFIX_BACKEND[path.suffix]
    except KeyError:
        raise ModelLoadError(f"{path}: unknown model type {path.suffix!r}; expected .tflite or .onnx") from None


def _artifact_beside(path: Path, manifest) -> Artifact | None:
    """The manifest entry of a model file: from `manifest`, else from a manifest.json beside it (None: a loose file).

    Fails closed: a manifest that exists but cannot be read or validated (a dangling link included), or that does
    not list the file, is an error, not a reason to skip the check.
    """
    folder = path.parent
    if manifest is None and not os.path.lexists(folder / MANIFEST_NAME) and not (folder / SWAP_JOURNAL).exists():
        return None
    loaded = load_manifest(manifest or path.parent)
    artifact = loaded.artifact_for_file(path)
    if artifact is None:
        raise ManifestError(f"{path}: not listed in {loaded.path}, so its sha256 cannot be checked; load a format "
                            f"it lists ({', '.join(loaded.artifacts) or 'none'}), or pass --no-verify to load "
                            "the file unchecked")
    return artifact


def load_predictor(
    model: str | os.PathLike = DEFAULT_FORMAT,
    backend: str = "auto",
    threads: int | None = None,
    manifest: str | os.PathLike | None = None,
    verify: bool = True,
    allow_failed: bool = False,
) -> Predictor:
    """Load a format named in the manifest ("tflite-int8", "onnx-fp32"...) or a model file.

    A file listed in a manifest beside it (or in `manifest`) has its sha256
    checked first, so a modified or corrupted model fails loudly; a manifest
    that is there but unreadable is an error. verify=False skips both, by
    choice. An artifact that failed its parity check at export is refused
    unless allow_failed=True.
    """
    check_threads(threads)
    artifact = None
    candidate = Path(model)
    if candidate.suffix in SUFFIX_BACKEND or candidate.exists():
        path = candidate
        if not path.is_file():
            raise ModelLoadError(f"{path}: no such model file")
        try:
            artifact = _artifact_beside(path, manifest)
        except ManifestError:
            if verify:
                raise
    else:
        artifact = load_manifest(manifest).artifact(str(model))
        path = artifact.path
    if artifact is not None and verify:
        artifact.verify()
    if artifact is not None and not artifact.passed and not allow_failed:
        raise ManifestError(f"{artifact.path}: {artifact.format} failed its parity check at export "
                            f"({'; '.join(artifact.parity.get('failures', [])) or 'marked failed'}); "
                            "pass allow_failed=True (--allow-failed) to load it anyway")
    name = _backend_for(path, backend)
    data = read_model_bytes(path)  # every thread's interpreter is built from these bytes, the ones verified
    if artifact is not None and verify and hashlib.sha256(data).hexdigest() != artifact.sha256:
        artifact.verify()  # the file changed since: the check above, again, names it
    make = functools.partial(BACKENDS[name], path, threads=threads, data=data)
    return Predictor(make(), artifact, make_backend=make)
