"""Drawing the demo's overlay: boxes, digits with confidence, the 28x28 input inset, the number, FPS and stage times."""

from __future__ import annotations

import cv2
import numpy as np

GREEN, AMBER, RED, WHITE, BLACK = (60, 200, 60), (0, 190, 255), (40, 40, 230), (255, 255, 255), (0, 0, 0)
INSET = 112  # the 28x28 input shown at 4x


def _label(image, text, origin, color, scale=0.6):
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    x, y = origin
    y = max(y, h + 4)
    cv2.rectangle(image, (x, y - h - 4), (x + w + 4, y + base - 2), BLACK, -1)
    cv2.putText(image, text, (x + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, color, 2, cv2.LINE_AA)


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """A displayable uint8 BGR copy of any frame the sources deliver (gray, BGRA, 16-bit, float)."""
    frame = np.asarray(frame)
    if frame.dtype == np.uint16:
        frame = (frame >> 8).astype(np.uint8)
    elif frame.dtype != np.uint8:
        frame = np.clip(np.nan_to_num(frame.astype(np.float32)) * 255 + 0.5, 0, 255).astype(np.uint8)
    if frame.ndim == 2 or frame.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(frame.reshape(frame.shape[:2])), cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return frame.copy()


def draw(frame: np.ndarray, reading, shown_number: str | None, fps: float | None, stages_ms: dict) -> np.ndarray:
    """A copy of the frame with the overlay."""
    out = to_bgr(frame)
    for d in reading.digits:
        x, y, w, h = d.box
        color = GREEN if d.status == "ok" else AMBER
        cv2.rectangle(out, (x, y), (x + w, y + h), color, 2)
        text = f"{d.digit} {100 * d.confidence:.0f}%" if d.status == "ok" else f"? ({d.best_guess} {100 * d.confidence:.0f}%)"
        _label(out, text, (x, y - 4), color)
    if reading.digits:
        main = max(reading.digits, key=lambda d: d.box[2] * d.box[3])
        inset = cv2.resize(main.input_28x28, (INSET, INSET), interpolation=cv2.INTER_NEAREST)
        h, w = out.shape[:2]
        if h > INSET + 30 and w > INSET + 10:
            out[h - INSET - 8:h - 8, w - INSET - 8:w - 8] = cv2.cvtColor(inset, cv2.COLOR_GRAY2BGR)
            cv2.rectangle(out, (w - INSET - 9, h - INSET - 9), (w - 8, h - 8), WHITE, 1)
            _label(out, "model input", (w - INSET - 8, h - INSET - 12), WHITE, 0.45)
    headline = f"number: {shown_number}" if shown_number else "no digit"
    _label(out, headline, (8, 30), GREEN if shown_number else RED, 0.8)
    timing = " ".join(f"{k} {v:.1f}" for k, v in stages_ms.items())
    _label(out, (f"{fps:.0f} FPS  " if fps else "") + f"ms: {timing}", (8, 58), WHITE, 0.45)
    return out
