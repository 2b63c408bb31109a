"""`mnist-edge bench threads`: one Predictor shared by threads, its two safe designs: one interpreter under a lock, or one per thread.

Each thread runs single-image predict() calls on real MNIST test digits, as
a server or camera pipeline would; throughput is the median of the repeats,
both variants measured side by side, alternating, in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

import numpy as np

from runtime.manifest import DEFAULT_FORMAT

MAX_PYTHON_THREADS = 256  # threads sharing one predictor; each holds a stack and, per thread, an interpreter


def _throughput(predictors: list, images: np.ndarray, calls: int) -> float:
    """Calls per second with one thread per predictor in `predictors` (the same object repeated: shared)."""
    start = threading.Barrier(len(predictors) + 1)

    def work(predictor, offset: int) -> None:
        start.wait()
        for k in range(calls):
            i = (offset + k) % len(images)
            predictor.predict(images[i:i + 1])

    threads = [threading.Thread(target=work, args=(p, 97 * n)) for n, p in enumerate(predictors)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return len(predictors) * calls / (time.perf_counter() - t0)


def measure(fmt: str, thread_counts: list[int], calls: int, repeats: int, images: np.ndarray) -> dict:
    """Calls/s of one shared Predictor: one interpreter under a lock, against an interpreter per thread (the default)."""
    from runtime.predictor import Predictor, load_predictor

    t0 = time.perf_counter()
    per_thread = load_predictor(fmt, threads=1)
    load_ms = 1000 * (time.perf_counter() - t0)
    locked = Predictor(per_thread.backend, per_thread.artifact)  # no make_backend: threads take turns, under its lock
    variants = {"one interpreter, lock": locked, "interpreter per thread": per_thread}
    for predictor in variants.values():  # warm up, and build each thread's interpreter before timing
        _throughput([predictor] * max(thread_counts), images, 8)
    rows = []
    for n in [1, *thread_counts]:
        runs = {name: [] for name in variants}
        for _ in range(repeats):  # the variants alternate, so a busy moment hits both alike
            for name, predictor in variants.items():
                runs[name].append(_throughput([predictor] * n, images, calls))
        rows += [{"threads": n, "variant": name, "calls_per_s": float(np.median(v))} for name, v in runs.items()]
    return {"format": fmt, "calls_per_thread": calls, "repeats": repeats, "load_ms": load_ms,
            "cpus": os.cpu_count(), "rows": rows}


def table(result: dict) -> str:
    lines = [f"One Predictor shared by threads: single-image predict() on {result['format']}, "
             f"{result['calls_per_thread']} calls per thread, median of {result['repeats']} runs, {result['cpus']} CPUs; "
             f"loading takes {result['load_ms']:.0f} ms",
             "", "| threads | variant | calls/s |", "|---:|---|---:|"]
    lines += [f"| {r['threads']} | {r['variant']} | {r['calls_per_s']:,.0f} |" for r in result["rows"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench threads", description=__doc__.splitlines()[0])
    parser.add_argument("--format", default=DEFAULT_FORMAT)
    parser.add_argument("--threads", default="2,4", help="comma-separated thread counts")
    parser.add_argument("--calls", type=int, default=2000, help="predict() calls per thread")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--out", default="benchmarks", help="folder for predictor_threads.json and .md")
    args = parser.parse_args(argv)
    try:
        counts = [int(n) for n in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads takes comma-separated integers, got {args.threads!r}")
    if not counts or not all(1 <= n <= MAX_PYTHON_THREADS for n in counts):
        parser.error(f"--threads takes counts from 1 to {MAX_PYTHON_THREADS}, got {args.threads!r}")
    if args.calls < 1 or args.repeats < 1:
        parser.error("--calls and --repeats must be positive")

    from runtime.files import replace_together
    from runtime.mnist_data import load_mnist

    images = load_mnist(args.data).x_test[:1000]
    result = measure(args.format, counts, args.calls, args.repeats, images)
    md = table(result)
    print(md)
    replace_together({f"{args.out}/predictor_threads.json": (json.dumps(result, indent=2) + "\n").encode(),
                      f"{args.out}/predictor_threads.md": md.encode()})
    print(f"wrote {args.out}/predictor_threads.json and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
