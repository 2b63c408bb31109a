"""`mnist-edge quant-report`: per-layer quantization error of each int8 artifact, its worst layers, and what
keeping each of them float buys (accuracy and size, measured on the test set).

Per artifact a Markdown table and a PNG (`<format>.md`, `<format>.png`), all
figures in quant_report.json. TFLite rows come from TensorFlow's
QuantizationDebugger, ONNX rows from onnxruntime's qdq_loss_debug.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from export.quant_debug import IDEAL_RMSE_OVER_SCALE, LOOK_RMSE_OVER_SCALE
from runtime.progress import progress as report_progress

INT8_FORMATS = ("tflite-int8", "onnx-int8")


def _evaluate(blob: bytes, suffix: str, images: np.ndarray, labels: np.ndarray, reference: np.ndarray,
              float_probs: np.ndarray) -> dict:
    """Size, accuracy, agreement with the shipped artifact and with the float model, of a model given as bytes."""
    from runtime.predictor import load_predictor

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"variant{suffix}"
        path.write_bytes(blob)
        probs = load_predictor(path, verify=False).predict(images)
    pred = probs.argmax(1)
    return {"bytes": len(blob), "accuracy": float((pred == labels).mean()),
            "agreement_with_artifact": float((pred == reference).mean()),
            "agreement_with_float": float((pred == float_probs.argmax(1)).mean()),
            "mean_abs_prob_diff_vs_float": float(np.abs(probs - float_probs).mean())}


def tflite_report(artifact, keras_model, calibration, debug_images, images, labels, float_probs,
                  worst: int) -> dict:
    from export.quant_debug import quantized_activations_tflite, tflite_debugger, tflite_layer_rows, tflite_variant
    from runtime.predictor import load_predictor

    debugger = tflite_debugger(keras_model, calibration, debug_images)
    rows = tflite_layer_rows(debugger)
    shipped = artifact.path.read_bytes()
    expected = quantized_activations_tflite(shipped)
    reported = {r["tensor"] for r in rows}
    for r in rows:
        r["in_artifact"] = r["tensor"] in expected
    ranked = sorted(rows, key=lambda r: -r["rmse_over_scale"])[:worst]
    reference = load_predictor(artifact.path, verify=False).predict(images).argmax(1)
    evaluate = partial(_evaluate, suffix=".tflite", images=images, labels=labels, reference=reference,
                       float_probs=float_probs)
    variants = [{"kept_float": [], **evaluate(tflite_variant(debugger, []))}]
    for r in ranked:
        try:
            variant = evaluate(tflite_variant(debugger, [r["tensor"]]))
        except Exception as exc:  # the converter refuses some denylists: report it
            variant = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        variants.append({"kept_float": [r["tensor"]], "layer": r["layer"], **variant})
    return {"format": artifact.format, "tool": "tf.lite.experimental.QuantizationDebugger", "rows": rows,
            "worst": [r["tensor"] for r in ranked], "metric": "rmse_over_scale",
            "artifact_accuracy": float((reference == labels).mean()), "artifact_bytes": len(shipped),
            "missing_from_report": [t for t in expected if t not in reported], "variants": variants}


def onnx_report(artifact, fp32_path: Path, calibration, debug_images, images, labels, float_probs,
                worst: int) -> dict:
    from export.quant_debug import onnx_layer_rows, onnx_variant, quantized_activations_onnx
    from runtime.predictor import load_predictor

    rows = onnx_layer_rows(fp32_path, artifact.path, debug_images)
    expected = quantized_activations_onnx(artifact.path)
    reported = {r["tensor"] for r in rows if r["kind"] == "activation"}
    for r in rows:
        r["in_artifact"] = r["kind"] == "weight" or r["tensor"] in expected
    candidates = [r for r in rows if r["kind"] == "activation" and r["op"] not in ("input", "Reshape", "Transpose")]
    ranked = sorted(candidates, key=lambda r: r["sqnr_local_db"])[:worst]
    reference = load_predictor(artifact.path, verify=False).predict(images).argmax(1)
    evaluate = partial(_evaluate, suffix=".onnx", images=images, labels=labels, reference=reference,
                       float_probs=float_probs)
    variants = [{"kept_float": [], **evaluate(onnx_variant(fp32_path, calibration, []))}]
    for r in ranked:
        try:
            variant = evaluate(onnx_variant(fp32_path, calibration, [r["tensor"]]))
        except Exception as exc:
            variant = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        variants.append({"kept_float": [r["tensor"]], "layer": r["layer"], **variant})
    return {"format": artifact.format, "tool": "onnxruntime.quantization.qdq_loss_debug", "rows": rows,
            "worst": [r["tensor"] for r in ranked], "metric": "sqnr_local_db",
            "artifact_accuracy": float((reference == labels).mean()), "artifact_bytes": artifact.path.stat().st_size,
            "missing_from_report": [t for t in expected if t not in reported], "variants": variants}


def quant_report(models_dir: Path, out_dir: Path, formats: list[str] | None = None, debug_count: int = 500,
                 limit: int | None = None, worst: int = 2, data: str | None = None, progress: bool = True) -> dict:
    import keras

    from export.calibration import load_indices
    from export.quant_report_writer import write_outputs
    from runtime.manifest import ManifestError, load_manifest
    from runtime.mnist_data import load_mnist

    manifest = load_manifest(models_dir)
    names = formats or [f for f in INT8_FORMATS if f in manifest.artifacts]
    unknown = [f for f in names if f not in INT8_FORMATS]
    if unknown:
        raise ValueError(f"quant-report covers {', '.join(INT8_FORMATS)}; not {', '.join(unknown)}")
    if not names:
        raise ManifestError(f"{manifest.path}: no int8 artifact ({', '.join(INT8_FORMATS)}) to report on")
    artifacts = [manifest.artifact(f) for f in names]
    for artifact in artifacts:
        artifact.verify()
    folder = manifest.path.parent
    mnist = load_mnist(data)
    calibration = (mnist.x_train[load_indices(folder / manifest.data["calibration"]["file"])] / np.float32(255))[..., None]
    images, labels = (mnist.x_test[:limit], mnist.y_test[:limit]) if limit else (mnist.x_test, mnist.y_test)
    debug_images = (images[:debug_count] / np.float32(255))[..., None]
    keras_path = folder / manifest.data["source_model"]["file"]
    model = keras.models.load_model(keras_path)
    float_probs = model.predict((images / np.float32(255))[..., None], batch_size=512, verbose=0)
    float_accuracy = float((float_probs.argmax(1) == labels).mean())
    reports = []
    for artifact in report_progress(artifacts, len(artifacts), "quant-report", "formats", enabled=progress):
        if artifact.format == "tflite-int8":
            reports.append(tflite_report(artifact, model, calibration, debug_images, images, labels, float_probs,
                                         worst))
        else:
            fp32 = manifest.artifact("onnx-fp32").path
            reports.append(onnx_report(artifact, fp32, calibration, debug_images, images, labels, float_probs, worst))
    result = {"source_model": keras_path.name, "outputs": int(model.output_shape[-1]), "float_accuracy": float_accuracy,
              "test_images": int(len(labels)), "debug_images": int(len(debug_images)),
              "calibration_images": int(len(calibration)), "reports": reports,
              "thresholds": {"ideal_rmse_over_scale": IDEAL_RMSE_OVER_SCALE, "look_rmse_over_scale": LOOK_RMSE_OVER_SCALE}}
    write_outputs(result, Path(out_dir))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge quant-report", description=__doc__.split("\n\n")[0].replace("\n", " "),
                                     epilog=__doc__.split("\n\n", 1)[1].strip())
    parser.add_argument("--models-dir", default="models", help="folder with manifest.json (default: the shipped models)")
    parser.add_argument("--formats", default=None, help=f"comma-separated subset of {', '.join(INT8_FORMATS)}")
    parser.add_argument("--debug-images", type=int, default=500, help="test images the per-tensor errors are averaged over")
    parser.add_argument("--limit", type=int, default=None, help="accuracy on the first N test images only (default: all)")
    parser.add_argument("--worst", type=int, default=2, help="worst layers to try keeping float, one at a time")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--out", default="models/quant_report", help="output folder")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the TensorFlow converter's own output (on stderr)")
    args = parser.parse_args(argv)
    for option in ("debug_images", "limit", "worst"):
        value = getattr(args, option)
        if value is not None and value <= 0:
            parser.error(f"--{option.replace('_', '-')} must be positive, got {value}")

    import runtime.quiet
    from export.quant_report_writer import summary_lines
    from export.tf_quiet import quiet_tensorflow

    runtime.quiet.SHOW_NATIVE_OUTPUT = args.verbose
    quiet_tensorflow(args.verbose)
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError

    try:
        result = quant_report(Path(args.models_dir), Path(args.out),
                              args.formats.split(",") if args.formats else None, args.debug_images, args.limit,
                              args.worst, args.data, not args.no_progress)
    except (ManifestError, MnistDataError, ValueError, FileNotFoundError) as exc:
        print(f"mnist-edge quant-report: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary_lines(result)))
    print(f"-> {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
