"""Multiply-accumulates per image of a .tflite model, operator by operator (what a microcontroller computes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class OperatorMacs:
    index: int
    op: str  # TFLite builtin name, e.g. CONV_2D
    macs: int  # 0 for operators without multiply-accumulates (pooling, reshape, softmax)
    shape: str  # e.g. "3x3x1->12 on 28x28" for a convolution


def operator_macs(model: bytes | str | Path) -> list[OperatorMacs]:
    """Every operator in execution order with its MACs per image.

    CONV_2D: output pixels x output channels x kernel height x width x input channels;
    DEPTHWISE_CONV_2D: output elements x kernel height x width; FULLY_CONNECTED: weight elements.
    """
    from runtime.backends import tflite_operators

    interp, ops = tflite_operators(model if isinstance(model, bytes) else Path(model).read_bytes())
    shapes = {t["index"]: tuple(int(d) for d in t["shape"]) for t in interp.get_tensor_details()}
    rows = []
    for op in ops:
        name, out = op["op_name"], shapes[op["outputs"][0]]
        macs, shape = 0, ""
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            weight = shapes[op["inputs"][1]]  # conv: (out_c, kh, kw, in_c); depthwise: (1, kh, kw, out_c)
            per_output = int(np.prod(weight[1:])) if name == "CONV_2D" else weight[1] * weight[2]
            macs = int(np.prod(out[1:])) * per_output
            cin = weight[3] if name == "CONV_2D" else shapes[op["inputs"][0]][3]
            shape = f"{weight[1]}x{weight[2]}x{cin}->{out[3]} on {out[1]}x{out[2]}"
        elif name == "FULLY_CONNECTED":
            weight = shapes[op["inputs"][1]]  # (units, inputs)
            macs = int(np.prod(weight))
            shape = f"{weight[1]}->{weight[0]}"
        rows.append(OperatorMacs(int(op["index"]), name, macs, shape))
    return rows


def model_macs(model: bytes | str | Path) -> int:
    """Total multiply-accumulates per image."""
    return sum(row.macs for row in operator_macs(model))
