"""The int8 quantize/dequantize step, in one place for every runtime."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Int8Params:
    """Affine int8 quantization: real = scale * (q - zero_point)."""

    scale: float
    zero_point: int

    def quantize(self, real: np.ndarray) -> np.ndarray:
        """float -> int8 with round-half-to-even and saturation, as TFLite does."""
        q = np.round(np.asarray(real, dtype=np.float32) / np.float32(self.scale)) + self.zero_point
        return np.clip(q, -128, 127).astype(np.int8)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        return (np.asarray(q, dtype=np.float32) - np.float32(self.zero_point)) * np.float32(self.scale)

    def pixel_formula(self) -> str:
        """How a 0-255 camera pixel (white ink on black) becomes this model's input."""
        return f"q = clamp(round((pixel / 255) / {self.scale:.10g}) + ({self.zero_point}), -128, 127)"

    def to_dict(self) -> dict:
        return {"scale": float(self.scale), "zero_point": int(self.zero_point)}


def params_or_none(scale: float, zero_point: int) -> Int8Params | None:
    """TFLite reports (0.0, 0) for a tensor that is not quantized."""
    return Int8Params(float(scale), int(zero_point)) if scale else None
