"""The detector's reading of a frame: heatmap peaks -> digit boxes -> each box's ink as MNIST 28x28 -> classifier.

Only for the comparison with the classical reader (bench/detector_compare.py); LiteRT, no TensorFlow.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from bench.detector_train import INPUT_HW, STRIDE, fit_input
from runtime.preprocess import DigitCrop

PEAK = 0.3  # heatmap level of a digit's centre
MAX_OVERLAP = 0.3  # intersection over union above which two boxes are the same digit
MARGIN = 0.08  # of the box, added round it before its ink is found
CROP_SIDE = 120  # px: each box is scaled to this shorter side before its ink is found


def iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    w = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-6)


class DetectorReader:
    """Reads frames with the int8 detector for boxes and the predictor's classifier for digits."""

    def __init__(self, path: str | Path, predictor):
        from runtime.backends import ModelLoadError, import_tflite_interpreter, read_model_bytes
        from runtime.quiet import native_output_silenced

        data = read_model_bytes(Path(path))  # ModelLoadError: missing, empty
        interpreter_class, library = import_tflite_interpreter()
        try:
            with native_output_silenced():
                self.interpreter = interpreter_class(model_content=data, num_threads=1)
                self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"{path}: {library} cannot load this model ({exc})") from exc
        inp, out = self.interpreter.get_input_details()[0], self.interpreter.get_output_details()[0]
        want_in, want_out = (1, *INPUT_HW, 1), (1, INPUT_HW[0] // STRIDE, INPUT_HW[1] // STRIDE, 3)
        if tuple(inp["shape"]) != want_in or inp["dtype"] != np.uint8 or tuple(out["shape"]) != want_out:
            raise ModelLoadError(f"{path}: not a digit detector (input {tuple(map(int, inp['shape']))} "
                                 f"{np.dtype(inp['dtype']).name}, output {tuple(map(int, out['shape']))}; "
                                 f"expected {want_in} uint8 -> {want_out})")
        self.input, self.output = inp["index"], out["index"]
        self.predictor = predictor
        self._lock = threading.Lock()  # one interpreter: one frame at a time

    def boxes(self, gray: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Digit boxes (x, y, w, h) in the detector's input pixels."""
        with self._lock:
            self.interpreter.set_tensor(self.input, np.ascontiguousarray(gray)[None, ..., None])
            self.interpreter.invoke()
            out = self.interpreter.get_tensor(self.output)[0]
        heat = out[..., 0]
        peaks = (heat >= PEAK) & (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8)))
        found = []
        for i, j in sorted(zip(*np.nonzero(peaks)), key=lambda ij: -heat[ij]):  # strongest first
            h, w = np.exp(out[i, j, 1]) * STRIDE, np.exp(out[i, j, 2]) * STRIDE
            box = ((j + 0.5) * STRIDE - w / 2, (i + 0.5) * STRIDE - h / 2, w, h)
            if all(iou(box, kept) < MAX_OVERLAP for kept in found):  # one digit, one box
                found.append(box)
        return found

    def crops(self, frame) -> list[DigitCrop]:
        """What Predictor.read_crops takes: each detected digit's box in frame pixels, 28x28 image, text line."""
        from runtime.lines import group_lines
        from runtime.preprocess import to_mnist_28x28, working_gray

        gray, factor = working_gray(frame)
        small, scale = fit_input(gray)
        boxes = [tuple(v / scale for v in box) for box in self.boxes(small)]  # in working pixels
        out = []
        for line, members in enumerate(group_lines(boxes)):
            for k in members:
                x, y, w, h = boxes[k]
                x0, y0 = int(max(0, x - MARGIN * w)), int(max(0, y - MARGIN * h))
                x1, y1 = int(min(gray.shape[1], x + w * (1 + MARGIN))), int(min(gray.shape[0], y + h * (1 + MARGIN)))
                piece = gray[y0:y1, x0:x1]
                if min(piece.shape) < 4:
                    continue
                # At 120 px or more the box gets the frame reader's full ink finding (lighting, faint pencil,
                # rules), not its plain one-digit-crop mode: only where the digit is comes from the detector.
                f = min(CROP_SIDE / min(piece.shape), 4 * CROP_SIDE / max(piece.shape))
                piece = cv2.resize(piece, None, fx=f, fy=f, interpolation=cv2.INTER_LINEAR)
                image = to_mnist_28x28(piece)
                if image is not None:
                    box = tuple(int(round(v * factor)) for v in (x0, y0, x1 - x0, y1 - y0))
                    out.append(DigitCrop(box, image, line))
        return out

    def read_digits(self, frame, min_confidence: float | None = None):
        """Like Predictor.read_digits, with the detector finding the digits."""
        return self.predictor.read_crops(self.crops(frame), min_confidence)
