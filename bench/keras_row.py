"""The Keras float model as a row of `mnist-edge bench latency`, when TensorFlow is installed: what moving off it buys.

The runtime benchmark never imports TensorFlow; it runs this module in a
separate process (`python -m bench.keras_row SPEC_JSON`), which prints one
JSON line in the same shape as bench/latency_worker.py's rows.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from bench.latency_worker import LARGE_BATCH, timed_blocks, peak_rss_mb


def keras_row(spec: dict) -> dict:
    """The float Keras model measured like every other row, in its own process."""
    started = time.perf_counter()
    out: dict = {"format": spec["format"], "runtime": "keras", "threads": spec["threads"]}
    import keras

    from runtime.mnist_data import load_mnist, to_model_input as to_input

    imported = time.perf_counter()
    model = keras.models.load_model(spec["keras_model"])
    loaded = time.perf_counter()
    out.update(library=f"keras {keras.__version__}", import_s=imported - started, load_s=loaded - imported)
    data = load_mnist(spec["data"])
    model.predict_on_batch(to_input(data.x_test[:1]))
    out["import_load_predict_s"] = time.perf_counter() - started
    out["peak_rss_mb_after_first_predict"] = peak_rss_mb()
    images = data.x_test[: spec["accuracy_images"]]
    out["predictions"] = model.predict(to_input(images), batch_size=500, verbose=0).argmax(1).astype(int).tolist()
    out["accuracy_images"] = int(len(images))
    singles = [to_input(data.x_test[i:i + 1]) for i in range(64)]
    times = timed_blocks({"predictor": (model.predict_on_batch, singles)}, singles, min(spec["runs"], 300))
    t = times["predictor"]
    out.update(predictor_median_ms=1000 * float(np.median(t)), predictor_p99_ms=1000 * float(np.percentile(t, 99)),
               predictor_runs=int(len(t)), batch1_images_per_s=1000 / (1000 * float(np.median(t))))
    batch = to_input(data.x_test[:LARGE_BATCH])
    model.predict_on_batch(batch)
    reps = [time.perf_counter()]
    for _ in range(5):
        model.predict_on_batch(batch)
        reps.append(time.perf_counter())
    out.update(large_batch=LARGE_BATCH, large_batch_images_per_s=LARGE_BATCH / float(np.median(np.diff(reps))))
    out["peak_rss_mb"] = peak_rss_mb()
    return out


if __name__ == "__main__":
    print(json.dumps(keras_row(json.loads(sys.argv[1]))))
