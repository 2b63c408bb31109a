"""`mnist-edge bench threads`: what sharing one Predictor between threads costs (its lock) against a Predictor per thread.

Each thread runs single-image predict() calls on real MNIST test digits, as
a server or camera pipeline would; throughput is the median of the repeats,
all variants measured side by side in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time

import numpy as np

from runtime.manifest import DEFAULT_FORMAT


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
    from runtime.predictor import load_predictor

    shared = load_predictor(fmt, threads=1)
    unlocked = load_predictor(fmt, threads=1)
    unlocked._lock = contextlib.nullcontext()  # reference only: one thread, so nothing to protect
    t0 = time.perf_counter()
    own = [load_predictor(fmt, threads=1) for _ in range(max(thread_counts))]
    load_ms = 1000 * (time.perf_counter() - t0) / len(own)
    for p in [shared, unlocked, *own]:  # warm up
        p.predict(images[:8])
    rows = []
    single = {"lock": [], "no lock": []}
    for _ in range(repeats):
        single["lock"].append(_throughput([shared], images, calls))
        single["no lock"].append(_throughput([unlocked], images, calls))
    rows.append({"threads": 1, "variant": "one predictor, no lock (reference)", "calls_per_s": float(np.median(single["no lock"]))})
    rows.append({"threads": 1, "variant": "one predictor, lock", "calls_per_s": float(np.median(single["lock"]))})
    for n in thread_counts:
        shared_runs, own_runs = [], []
        for _ in range(repeats):
            shared_runs.append(_throughput([shared] * n, images, calls))
            own_runs.append(_throughput(own[:n], images, calls))
        rows.append({"threads": n, "variant": "shared predictor (lock)", "calls_per_s": float(np.median(shared_runs))})
        rows.append({"threads": n, "variant": "predictor per thread", "calls_per_s": float(np.median(own_runs))})
    return {"format": fmt, "calls_per_thread": calls, "repeats": repeats, "load_ms_per_predictor": load_ms,
            "rows": rows}


def table(result: dict) -> str:
    lines = [f"Single-image predict() on {result['format']}, {result['calls_per_thread']} calls per thread, "
             f"median of {result['repeats']} runs; loading a predictor takes {result['load_ms_per_predictor']:.0f} ms",
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
    if not counts or min(counts) < 1 or args.calls < 1 or args.repeats < 1:
        parser.error("--threads, --calls and --repeats must be positive")

    from runtime.files import atomic_write_json, atomic_write_text
    from runtime.mnist_data import load_mnist

    images = load_mnist(args.data).x_test[:1000]
    result = measure(args.format, counts, args.calls, args.repeats, images)
    md = table(result)
    print(md)
    atomic_write_json(f"{args.out}/predictor_threads.json", result, overwrite=True)
    atomic_write_text(f"{args.out}/predictor_threads.md", md, overwrite=True)
    print(f"wrote {args.out}/predictor_threads.json and .md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
