"""A small int8 digit detector, trained only to be compared with the classical reader (issue 9, deliver 1).

CenterNet-style: the working-size gray frame (240x320) in, a heatmap of digit centres and each digit's
height and width out, at a quarter of the resolution. Trained on field-test scenes (bench/field_scenes.py)
written with MNIST *train* digits under another seed than the field test's; the same scene generator
makes the frames it is compared on, an advantage the hand-tuned classical reader had too.

    python -m bench.detector_train --scenes 5000 --epochs 12 --out models/detector   # needs TensorFlow
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
from pathlib import Path

import numpy as np

from runtime.files import file_in_the_way
from runtime.progress import progress as report_progress

INPUT_HW = (240, 320)  # the reader's working size for a 4:3 frame (runtime/ink.py WORK_SIDE)
STRIDE = 4
TRAIN_SEED = 1000  # the field test uses 0 and 7
BUNDLE = ("detector.int8.tflite", "detector_train.json")
MIN_SCENES, MAX_SCENES = 100, 50_000
SCENE_BYTES = INPUT_HW[0] * INPUT_HW[1] + (INPUT_HW[0] // STRIDE) * (INPUT_HW[1] // STRIDE) * 4 * 4  # frame, targets


def scene_conditions() -> list[str]:
    from bench.field_scenes import CONDITIONS

    return list(CONDITIONS)


_POOL = None  # each scene worker's DigitPool of MNIST train digits


def _init_worker(x_train, y_train) -> None:
    global _POOL
    from bench.field_scenes import DigitPool

    # Stopping is the main process's to handle (one message); it ends the pool, which sends SIGTERM: die quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    _POOL = DigitPool(x_train, y_train)


def one_scene(job: tuple[str, int]) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """(working gray 240x320 uint8, digit boxes x, y, w, h in its pixels) of one training scene."""
    condition, index = job
    pool = _POOL
    import cv2

    from bench.field_scenes import generate
    from runtime.ink import working_gray

    sample = generate(condition, index, pool, TRAIN_SEED)
    gray, factor = working_gray(cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY))
    gray, scale = fit_input(gray)
    return gray, [tuple(v / factor * scale for v in box) for box in sample.boxes]


def fit_input(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """A working-size gray frame as the detector's input, and the scale from frame to input pixels: resized
    to fit (its shape kept) and padded on the right and bottom by its own edge (a 4:3 frame just fits)."""
    import cv2

    h, w = gray.shape
    scale = min(INPUT_HW[0] / h, INPUT_HW[1] / w)
    if scale != 1.0:
        size = (max(1, min(INPUT_HW[1], round(w * scale))), max(1, min(INPUT_HW[0], round(h * scale))))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    pad_y, pad_x = INPUT_HW[0] - gray.shape[0], INPUT_HW[1] - gray.shape[1]
    if pad_y or pad_x:
        gray = cv2.copyMakeBorder(gray, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    return gray, scale


def targets(boxes, shape=(INPUT_HW[0] // STRIDE, INPUT_HW[1] // STRIDE)) -> np.ndarray:
    """(h, w, 4): centre heatmap (Gaussian peaks), log height and log width (in output cells), size mask."""
    out = np.zeros(shape + (4,), np.float32)
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float32)
    for x, y, w, h in boxes:
        cx, cy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        if not (0 <= cx < shape[1] and 0 <= cy < shape[0]):
            continue
        sx, sy = max(0.5, w / STRIDE / 6), max(0.5, h / STRIDE / 6)
        peak = np.exp(-((xs - cx) ** 2 / (2 * sx ** 2) + (ys - cy) ** 2 / (2 * sy ** 2)))
        np.maximum(out[..., 0], peak, out=out[..., 0])
        i, j = int(cy), int(cx)
        out[i, j, 0] = 1.0
        out[i, j, 1:] = (np.log(max(h, 1) / STRIDE), np.log(max(w, 1) / STRIDE), 1.0)
    return out


def build_model():
    """About 0.1 GMAC at 240x320: a small encoder to 1/16 and back to 1/4 with skips."""
    import tensorflow as tf
    from tensorflow.keras import layers

    def conv(x, filters, stride=1, kernel=3):
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False)(x)
        return layers.ReLU()(layers.BatchNormalization()(x))

    inp = layers.Input((*INPUT_HW, 1))
    x = layers.Rescaling(1 / 127.5, -1.0)(inp)
    x = conv(x, 8, 2)
    s4 = conv(conv(x, 16, 2), 16)
    s8 = conv(conv(s4, 32, 2), 32)
    s16 = conv(conv(s8, 48, 2), 48)
    y = layers.Concatenate()([layers.UpSampling2D()(s16), s8])
    y = conv(conv(y, 32, kernel=1), 32)
    y = layers.Concatenate()([layers.UpSampling2D()(y), s4])
    y = conv(conv(y, 16, kernel=1), 16)
    heat = layers.Conv2D(1, 1, activation="sigmoid", bias_initializer=tf.keras.initializers.Constant(-2.19),
                         name="heat")(y)
    size = layers.Conv2D(2, 1, name="size")(y)
    return tf.keras.Model(inp, layers.Concatenate(name="out")([heat, size]))


def loss_fn(truth, pred):
    """CenterNet's penalty-reduced focal loss on the heatmap + L1 on log size at the centres."""
    import tensorflow as tf

    heat, gauss, size_t, mask = pred[..., 0], truth[..., 0], truth[..., 1:3], truth[..., 3]
    heat = tf.clip_by_value(heat, 1e-4, 1 - 1e-4)
    pos = tf.cast(gauss >= 1.0, tf.float32)
    pos_loss = -tf.math.log(heat) * (1 - heat) ** 2 * pos
    neg_loss = -tf.math.log(1 - heat) * heat ** 2 * (1 - gauss) ** 4 * (1 - pos)
    n = tf.maximum(tf.reduce_sum(pos), 1.0)
    size_loss = tf.reduce_sum(tf.abs(pred[..., 1:3] - size_t) * mask[..., None]) / n
    return (tf.reduce_sum(pos_loss) + tf.reduce_sum(neg_loss)) / n + 0.5 * size_loss


def make_scenes(count: int, x_train, y_train, workers: int = 2):
    from multiprocessing import Pool


    names = scene_conditions()
    jobs = [(names[i % len(names)], i // len(names)) for i in range(count)]
    images, heat = np.zeros((count, *INPUT_HW, 1), np.uint8), []
    with Pool(workers, initializer=_init_worker, initargs=(x_train, y_train)) as workers_pool:
        for k, (gray, boxes) in enumerate(report_progress(workers_pool.imap(one_scene, jobs, chunksize=16), count,
                                                          "scenes", "scenes")):
            images[k, ..., 0] = gray
            heat.append(targets(boxes))
    return images, np.stack(heat)


def to_int8_tflite(model, images: np.ndarray) -> bytes:
    import tensorflow as tf

    def representative():
        for k in range(0, min(len(images), 200)):
            yield [images[k:k + 1].astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.uint8
    converter.inference_output_type = tf.float32
    return converter.convert()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detector_train", description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=5000, help="generated training scenes (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=12, help="training epochs (default: %(default)s)")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ)")
    parser.add_argument("--out", default="models/detector", help="folder for the model and its report (default: %(default)s)")
    args = parser.parse_args(argv)
    if not MIN_SCENES <= args.scenes <= MAX_SCENES or args.epochs < 1:
        parser.error(f"--scenes must lie in {MIN_SCENES}..{MAX_SCENES} (each holds {SCENE_BYTES // 1024} KiB "
                     "in memory) and --epochs must be at least 1")
    out = Path(args.out)
    blocked = file_in_the_way(out)
    if blocked is not None:
        parser.error(f"--out {out}: {blocked} is a file, not a folder")

    from runtime.files import replace_together
    from runtime.mnist_data import MnistDataError, load_mnist

    try:
        mnist = load_mnist(args.data)
    except (MnistDataError, OSError) as exc:
        print(f"python -m bench.detector_train: cannot load MNIST: {exc}", file=sys.stderr)
        return 2
    from bench.cli import stop_report, stops_as_interrupts

    try:
        with stops_as_interrupts():
            return _train(args, out, mnist, replace_together)
    except KeyboardInterrupt as exc:
        how, code = stop_report(exc)
        print(f"python -m bench.detector_train: {how}; no result half-written (the model and its report are "
              "replaced together or not at all)", file=sys.stderr)
        return code


def _train(args, out: Path, mnist, replace_together) -> int:
    start = time.time()
    images, truth = make_scenes(args.scenes, mnist.x_train, mnist.y_train)  # worker processes: before TensorFlow
    made = time.time() - start
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    model = build_model()
    model.compile(tf.keras.optimizers.Adam(tf.keras.optimizers.schedules.CosineDecay(2e-3, args.epochs * (
        int(0.95 * len(images)) // 16))), loss_fn)
    held = int(0.05 * len(images))
    with contextlib.redirect_stdout(sys.stderr):  # Keras's epoch lines are progress: stderr; stdout gets the report
        history = model.fit(images[held:], truth[held:], batch_size=16, epochs=args.epochs,
                            validation_data=(images[:held], truth[:held]), verbose=2)
    blob = to_int8_tflite(model, images[held:])
    report = {"scenes": args.scenes, "epochs": args.epochs, "seed": TRAIN_SEED, "digits": "MNIST train set",
              "conditions": scene_conditions(), "input": list(INPUT_HW), "stride": STRIDE,
              "params": int(model.count_params()), "tflite_bytes": len(blob),
              "loss": [round(float(v), 4) for v in history.history["loss"]],
              "val_loss": [round(float(v), 4) for v in history.history["val_loss"]],
              "seconds_scenes": round(made, 1), "seconds_total": round(time.time() - start, 1)}
    replace_together({out / BUNDLE[0]: blob, out / BUNDLE[1]: (json.dumps(report, indent=2) + "\n").encode()})
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
