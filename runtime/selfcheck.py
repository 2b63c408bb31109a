"""`python -m runtime.selfcheck`: every shipped artifact predicts MNIST test digits here; optionally compare with another machine.

Run it on a device (or under emulation) with `--out device.npz`, on the host
with `--out host.npz`, then `--compare host.npz device.npz`: predictions must
agree within the int8 rounding step.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

import numpy as np

INT8_STEP = 1 / 256  # one step of the int8 output's scale (probabilities 0..1 in 256 levels)


def run_selfcheck(images: int = 500, formats: list[str] | None = None, data=None, manifest=None) -> dict[str, np.ndarray]:
    """Probabilities of every artifact (LiteRT and onnxruntime) on the first `images` test digits."""
    from runtime.manifest import load_manifest
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor

    data = load_mnist(data)
    x, y = data.x_test[:images], data.y_test[:images]
    out = {"labels": y}
    for name, artifact in load_manifest(manifest).artifacts.items():
        if formats and name not in formats:
            continue
        start = time.perf_counter()
        predictor = load_predictor(name, backend=artifact.runtime, threads=1, manifest=manifest)
        probs = predictor.predict(x)
        out[name] = probs
        print(f"{name:15s} {predictor.backend.library:15s} accuracy {100 * (probs.argmax(1) == y).mean():6.2f} % "
              f"on {len(y)} digits ({time.perf_counter() - start:.1f} s) [{platform.machine()}]", file=sys.stderr)
    return out


def compare(host: dict, device: dict, step: float = INT8_STEP) -> list[str]:
    """Problems found comparing two selfcheck results; empty when they agree within the int8 step.

    A top-1 difference counts only where the host's two best classes are more
    than one step apart (a near-tie may legitimately round either way).
    """
    problems = []
    for name in sorted(set(host) - {"labels"}):
        if name not in device:
            problems.append(f"{name}: missing from the device run")
            continue
        a, b = host[name], device[name]
        if a.shape != b.shape:
            problems.append(f"{name}: shapes differ {a.shape} vs {b.shape}")
            continue
        diff = float(np.abs(a - b).max())
        top2 = np.sort(a, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > step
        flips = int(((a.argmax(1) != b.argmax(1)) & clear).sum())
        if diff > step + 1e-6 or flips:
            problems.append(f"{name}: max |p_host - p_device| = {diff:.5f} (limit {step:.5f}), {flips} clear top-1 flips")
        else:
            print(f"{name:15s} agrees: max abs diff {diff:.2e}, top-1 identical on "
                  f"{int((a.argmax(1) == b.argmax(1)).sum())}/{len(a)}", file=sys.stderr)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime.selfcheck", description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the probabilities to this .npz")
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--formats", default=None, help="comma-separated subset")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--compare", nargs=2, metavar=("HOST.npz", "DEVICE.npz"), help="compare two earlier runs")
    args = parser.parse_args(argv)
    if args.compare:
        with np.load(args.compare[0]) as host, np.load(args.compare[1]) as device:
            problems = compare(dict(host), dict(device))
        for problem in problems:
            print(f"MISMATCH {problem}", file=sys.stderr)
        return 1 if problems else 0
    if args.images <= 0:
        parser.error("--images must be positive")
    result = run_selfcheck(args.images, args.formats.split(",") if args.formats else None, args.data)
    if args.out:
        np.savez(args.out, **result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
