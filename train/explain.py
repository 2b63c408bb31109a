"""`mnist-edge explain`: what the shipped CNN looks at, what its filters see, where it errs, where int8 differs.

Writes into one folder: per-pixel attributions for a correctly classified
and a misclassified test digit of each class (every candidate class; SHAP's
DeepExplainer as the notebook drew them, or integrated gradients), the
filters and activations of each convolution layer, the misclassified digits
of any format by true class and by (true, predicted) pair, and the test
digits on which the int8 model and the float model disagree.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from runtime.progress import progress as report_progress

FLOAT_FORMAT = "keras"
METHODS = ("auto", "shap", "ig")
BACKGROUND_SEED = 0
MAX_DISAGREEMENTS_SHOWN = 20


def pick_examples(labels: np.ndarray, preds: np.ndarray, classes: int = 10) -> tuple[list[int], list[int]]:
    """The first correctly classified and the first misclassified test image of each class (where there is one)."""
    correct, wrong = [], []
    for c in range(classes):
        right = np.flatnonzero((labels == c) & (preds == c))
        miss = np.flatnonzero((labels == c) & (preds != c))
        correct += [int(right[0])] if len(right) else []
        wrong += [int(miss[0])] if len(miss) else []
    return correct, wrong


def attribute(model, images: np.ndarray, method: str, background: np.ndarray):
    from train.attributions import integrated_gradients, shap_deep

    if method == "shap":
        return shap_deep(model, images, background)
    return integrated_gradients(model, images)


def choose_method(method: str) -> tuple[str, str]:
    """The method to use and why: shap when asked or when it imports here; otherwise integrated gradients."""
    from train.attributions import shap_status

    if method == "ig":
        return "ig", "integrated gradients, as asked (--method ig)"
    ok, detail = shap_status()
    if ok:
        return "shap", f"SHAP DeepExplainer, shap {detail}: it runs with this TensorFlow/Keras and its additivity check passes"
    if method == "shap":
        raise RuntimeError(f"--method shap, but shap does not import here ({detail}); pip install shap==0.51.0")
    return "ig", f"integrated gradients: shap does not import here ({detail})"


def conv_layers(model) -> list:
    import keras

    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]


def filter_maps(layer) -> tuple[np.ndarray, list[str]]:
    """One 2-D map per filter: its kernel on its strongest input channel (all of it for a one-channel input)."""
    kernel = layer.get_weights()[0]  # (h, w, in, out)
    maps, captions = [], []
    for f in range(kernel.shape[-1]):
        strongest = int(np.argmax(np.linalg.norm(kernel[..., f].reshape(-1, kernel.shape[2]), axis=0)))
        maps.append(kernel[:, :, strongest, f])
        captions.append(f"#{f}" if kernel.shape[2] == 1 else f"#{f} (in {strongest})")
    return np.stack(maps), captions


def format_probs(fmt: str, float_probs: np.ndarray, images: np.ndarray, models_dir: Path) -> np.ndarray:
    """Test-set probabilities of a format: the float Keras model's, or an artifact's from the manifest."""
    if fmt == FLOAT_FORMAT:
        return float_probs
    from runtime.predictor import load_predictor

    return load_predictor(fmt, manifest=models_dir).predict(images)


def pair_table(labels: np.ndarray, preds: np.ndarray) -> list[dict]:
    wrong = labels != preds
    pairs, counts = np.unique(np.stack([labels[wrong], preds[wrong]], 1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts)) if len(counts) else []
    return [{"true": int(pairs[i, 0]), "predicted": int(pairs[i, 1]), "count": int(counts[i])} for i in order]


@dataclass
class Inputs:
    """What every section of the report works from."""

    model: object  # the float Keras model
    images: np.ndarray  # uint8 (N, 28, 28) test images
    labels: np.ndarray
    x: np.ndarray  # the same as the model's float input (N, 28, 28, 1)
    float_probs: np.ndarray
    background: np.ndarray  # SHAP's reference sample of training images
    method: str
    out_dir: Path


def attribution_section(d: Inputs) -> tuple[dict, dict]:
    """Attributions for a correct and a misclassified digit of each class; (summary, files)."""
    from train.explain_figures import plot_attributions

    summary, files = {}, {}
    for kind, indices in zip(("correct", "misclassified"), pick_examples(d.labels, d.float_probs.argmax(1))):
        if not indices:
            continue
        result = attribute(d.model, d.x[indices], d.method, d.background)
        summary[f"attributions_{kind}"] = {"indices": indices, "method": result.method, "note": result.note,
                                           "max_sum_error": result.sum_error(d.float_probs[indices])}
        files[f"attributions_{kind}"] = plot_attributions(
            d.x[indices], result.values, d.float_probs[indices], d.labels[indices],
            f"{result.method}: {kind} test digits, per candidate class (red favours, blue opposes)",
            d.out_dir / f"attributions_{kind}.png").name
    return summary, files


def layer_section(d: Inputs, digit: int) -> tuple[dict, dict]:
    """Filters of each convolution layer and its activations for one test digit."""
    import keras

    from train.explain_figures import plot_maps

    files = {}
    for layer in conv_layers(d.model):
        maps, captions = filter_maps(layer)
        files[f"filters_{layer.name}"] = plot_maps(
            maps, captions, f"{layer.name}: {maps.shape[0]} filters {maps.shape[1]}x{maps.shape[2]}",
            d.out_dir / f"filters_{layer.name}.png", cmap="bwr", symmetric=True).name
        activation = keras.Model(d.model.inputs, layer.output).predict(d.x[digit:digit + 1], verbose=0)[0]
        files[f"activations_{layer.name}"] = plot_maps(
            np.moveaxis(activation, -1, 0), [f"#{c}" for c in range(activation.shape[-1])],
            f"{layer.name} activations for test image {digit} (true {d.labels[digit]})",
            d.out_dir / f"activations_{layer.name}.png", cmap="magma").name
    return {"activation_digit": {"index": digit, "label": int(d.labels[digit])}}, files


def error_section(d: Inputs, fmt: str, probs: np.ndarray) -> tuple[dict, dict]:
    """A format's misclassified digits, by true class and by (true, predicted) pair."""
    from train.explain_figures import plot_errors_by_pair
    from train.report import plot_misclassified

    preds = probs.argmax(1)
    tag = fmt.replace("-", "_")
    files = {
        "errors_by_true_class": plot_misclassified(d.images, d.labels, preds,
                                                   d.out_dir / f"errors_by_true_class_{tag}.png", fmt).name,
        "errors_by_pair": plot_errors_by_pair(d.images, d.labels, preds,
                                              f"{fmt}: misclassified test digits by (true, predicted) pair",
                                              d.out_dir / f"errors_by_pair_{tag}.png").name,
    }
    return {"errors": {"format": fmt, "accuracy": float((preds == d.labels).mean()),
                       "misclassified": int((preds != d.labels).sum()), "pairs": pair_table(d.labels, preds)}}, files


def int8_section(d: Inputs, int8_format: str, int8_probs: np.ndarray) -> tuple[dict, dict]:
    """The digits the int8 and the float model read differently: float-model attributions, both probability vectors."""
    from train.explain_figures import plot_disagreements

    float_pred = d.float_probs.argmax(1)
    differ = np.flatnonzero(int8_probs.argmax(1) != float_pred)
    summary = {"format": int8_format, "disagreements": int(len(differ)),
               "agreement": float(1 - len(differ) / len(d.labels)),
               "images": [{"index": int(i), "true": int(d.labels[i]), "float": int(float_pred[i]),
                           "int8": int(int8_probs[i].argmax()),
                           "float_probs": [round(float(p), 4) for p in d.float_probs[i]],
                           "int8_probs": [round(float(p), 4) for p in int8_probs[i]]} for i in differ]}
    shown = differ[:MAX_DISAGREEMENTS_SHOWN]
    if not len(shown):
        return {"int8_vs_float": summary}, {}
    result = attribute(d.model, d.x[shown], d.method, d.background)
    summary["attribution"] = f"{result.method} of the float model (the int8 model has no gradients)"
    path = plot_disagreements(d.x[shown], d.float_probs[shown], int8_probs[shown], d.labels[shown], result.values,
                              f"{int8_format} vs float: the {len(differ)} test digits they read differently "
                              f"({result.method} of the float model)", d.out_dir / "int8_disagreements.png",
                              int8_format)
    return {"int8_vs_float": summary}, {"int8_disagreements": path.name}


def explain(models_dir: Path, out_dir: Path, keras_path: Path | None = None, fmt: str = FLOAT_FORMAT,
            int8_format: str = "tflite-int8", method: str = "auto", digit: int = 0, limit: int | None = None,
            background_size: int = 100, data: str | None = None, progress: bool = True) -> dict:
    """Compute everything and write the folder; returns the summary also saved as explain.json."""
    import keras

    from runtime.files import atomic_write_json, atomic_write_text
    from runtime.manifest import load_manifest
    from runtime.mnist_data import load_mnist
    from train.dataset import to_model_input

    models_dir, out_dir = Path(models_dir), Path(out_dir)
    manifest = load_manifest(models_dir)
    if keras_path is None:
        keras_path = manifest.path.parent / manifest.data["source_model"]["file"]
    for name in {fmt, int8_format} - {FLOAT_FORMAT}:
        manifest.artifact(name)  # fails early, naming what the manifest has
    method, why = choose_method(method)
    mnist = load_mnist(data)
    images, labels = (mnist.x_test[:limit], mnist.y_test[:limit]) if limit else (mnist.x_test, mnist.y_test)
    if not 0 <= digit < len(images):
        raise ValueError(f"--digit must be a test-image index in [0, {len(images) - 1}], got {digit}")
    steps = iter(report_progress(range(5), 5, "explain", "steps", enabled=progress))
    next(steps)  # started
    model = keras.models.load_model(keras_path)
    x = to_model_input(images)
    picks = np.sort(np.random.default_rng(BACKGROUND_SEED).choice(len(mnist.x_train), background_size, replace=False))
    d = Inputs(model, images, labels, x, model.predict(x, batch_size=512, verbose=0),
               to_model_input(mnist.x_train[picks]), method, out_dir)
    summary = {"model": str(keras_path), "outputs": int(model.output_shape[-1]), "test_images": int(len(labels)),
               "float_accuracy": float((d.float_probs.argmax(1) == labels).mean()), "method": method,
               "method_why": why, "files": {}}
    next(steps)
    sections = (lambda: attribution_section(d), lambda: layer_section(d, digit),
                lambda: error_section(d, fmt, format_probs(fmt, d.float_probs, images, models_dir)),
                lambda: int8_section(d, int8_format, format_probs(int8_format, d.float_probs, images, models_dir)))
    for section in sections:
        part, files = section()
        summary.update(part)
        summary["files"].update(files)
        next(steps, None)
    atomic_write_json(out_dir / "explain.json", summary, overwrite=True)
    atomic_write_text(out_dir / "README.md", readme(summary), overwrite=True)
    return summary


def readme(s: dict) -> str:
    files = s["files"]
    lines = [f"# Inside `{Path(s['model']).name}` ({s['outputs']} outputs)", "",
             f"Written by `mnist-edge explain` on {s['test_images']:,} MNIST test images; float accuracy "
             f"{100 * s['float_accuracy']:.2f} %.", "",
             "## Attributions", "", f"Method: {s['method_why']}.", ""]
    for kind in ("correct", "misclassified"):
        a = s.get(f"attributions_{kind}")
        if a:
            lines.append(f"- `{files[f'attributions_{kind}']}`: {len(a['indices'])} {kind} digits (test indices "
                         f"{a['indices']}), {a['method']} ({a['note']}); largest |sum of attributions - (output - reference)| "
                         f"= {a['max_sum_error']:.2e}.")
    lines += ["", "Each row: the digit, then one map per candidate class, titled with its probability; red pixels "
              "raise that class's probability, blue ones lower it (colours symmetric per row).", "",
              "## Filters and activations", ""]
    lines += [f"- `{name}`" for key, name in files.items() if key.startswith(("filters_", "activations_"))]
    lines.append(f"- activations are for test image {s['activation_digit']['index']} "
                 f"(a {s['activation_digit']['label']}); a multi-channel filter is shown on its strongest input channel.")
    e = s["errors"]
    lines += ["", f"## Errors of {e['format']}", "",
              f"{e['misclassified']} misclassified ({100 * e['accuracy']:.2f} % accuracy): `{files['errors_by_true_class']}` "
              f"(by true class), `{files['errors_by_pair']}` (by pair, most frequent first).", "",
              "| true | predicted | count |", "|---:|---:|---:|"]
    lines += [f"| {p['true']} | {p['predicted']} | {p['count']} |" for p in e["pairs"]]
    q = s["int8_vs_float"]
    lines += ["", f"## {q['format']} against the float model", "",
              f"They disagree on {q['disagreements']} test digits (agreement {100 * q['agreement']:.2f} %)."]
    if q["disagreements"]:
        lines += [f"`{files['int8_disagreements']}`: each digit, {q['attribution']} for the float model's and the "
                  "int8 model's pick, and both probability vectors.", "",
                  "| test index | true | float | int8 | float p(float pick) | int8 p(int8 pick) |", "|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {i['index']} | {i['true']} | {i['float']} | {i['int8']} | {i['float_probs'][i['float']]:.3f} "
                  f"| {i['int8_probs'][i['int8']]:.3f} |" for i in q["images"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge explain", description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default="models", help="folder with manifest.json (default: the shipped models)")
    parser.add_argument("--model", default=None, help="float Keras model (default: the manifest's source model)")
    parser.add_argument("--format", default=FLOAT_FORMAT, help="format whose errors to analyse: keras (float) or one in the manifest")
    parser.add_argument("--int8-format", default="tflite-int8", help="quantized format to set against the float model")
    parser.add_argument("--method", choices=METHODS, default="auto", help="auto: SHAP if it imports, else integrated gradients")
    parser.add_argument("--digit", type=int, default=0, help="test-image index whose activations to show")
    parser.add_argument("--limit", type=int, default=None, help="only the first N test images")
    parser.add_argument("--background", type=int, default=100, help="SHAP background: training images")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--out", default="models/explain", help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error(f"--limit must be positive, got {args.limit}")
    if args.background <= 0:
        parser.error(f"--background must be positive, got {args.background}")
    from export.tf_quiet import quiet_tensorflow

    quiet_tensorflow(False)

    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError

    try:
        s = explain(Path(args.models_dir), Path(args.out), Path(args.model) if args.model else None, args.format,
                    args.int8_format, args.method, args.digit, args.limit, args.background, args.data,
                    not args.no_progress)
    except (ManifestError, MnistDataError, ValueError, RuntimeError, FileNotFoundError) as exc:
        print(f"mnist-edge explain: error: {exc}", file=sys.stderr)
        return 2
    print(f"method: {s['method_why']}")
    for kind in ("correct", "misclassified"):
        if f"attributions_{kind}" in s:
            print(f"attributions, {kind}: {len(s[f'attributions_{kind}']['indices'])} digits, "
                  f"max sum error {s[f'attributions_{kind}']['max_sum_error']:.2e}")
    print(f"errors of {s['errors']['format']}: {s['errors']['misclassified']} of {s['test_images']}")
    print(f"{s['int8_vs_float']['format']} vs float: {s['int8_vs_float']['disagreements']} disagreements")
    print(f"-> {args.out}/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
