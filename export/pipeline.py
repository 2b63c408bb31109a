"""Export a Keras model to every selected format, check each against the float model, write the manifest."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from export.calibration import DEFAULT_COUNT, DEFAULT_SEED, balanced_indices, calibration_record
from export.formats import INT8_FORMAT, ExportFormat, Tolerance, select_formats
from export.micro import BUNDLE_FILES, write_micro_bundle
from export.parity import ParityResult, check_parity, parity_table
from runtime.files import ArtifactExistsError, atomic_write_bytes, atomic_write_json, atomic_write_text
from runtime.manifest import MANIFEST_NAME, SCHEMA_VERSION, sha256_of
from runtime.mnist_data import load_mnist
from runtime.predictor import load_predictor

CALIBRATION_FILE = "calibration_indices.json"
MICRO_DIR = "micro"
OPERATING_POINT_FILE = "reject/operating_point.json"  # beside the source model, from `mnist-edge reject-report`


class ExportError(RuntimeError):
    """The export cannot start: bad source model, unwritable output folder, files in the way."""


@dataclass
class ExportReport:
    out_dir: Path
    results: list[ParityResult] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    micro: dict | None = None
    table: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.passed for r in self.results)


def load_source_model(path: Path):
    """The float Keras model, with a clear error for a missing or corrupt file."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such model file (train one with `mnist-edge train`)")
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras raises many types for a bad archive
        raise ExportError(f"{path}: cannot load as a Keras model ({type(exc).__name__}: {exc})") from exc


def _planned_files(out_dir: Path, stem: str, formats: list[ExportFormat], micro: bool) -> list[Path]:
    files = [out_dir / f"{stem}{f.suffix}" for f in formats]
    if micro:
        files += [out_dir / MICRO_DIR / name for name in BUNDLE_FILES]
    return files


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"{out_dir}: cannot create the output folder ({exc})") from exc
    if not os.access(out_dir, os.W_OK):
        raise ExportError(f"{out_dir}: the output folder is not writable")


def _tensor_entry(info) -> dict:
    entry = {"dtype": str(info.dtype), "shape": list(info.shape)}
    entry["quantization"] = info.quant.to_dict() if info.quant else None
    return entry


def _classes_entry(num_classes: int, min_confidence: float | None) -> dict:
    """What the outputs mean; for an 11-output model also the runtime's operating point."""
    if num_classes == 10:
        return {"classes": [str(k) for k in range(10)]}
    return {"classes": [str(k) for k in range(10)] + ["not a digit"], "not_a_digit_class": 10,
            "min_confidence": min_confidence}


def _converter_versions() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("tensorflow-cpu", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert", "tflite-micro"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


def operating_point(model_path: Path, num_classes: int, min_confidence: float | None) -> float | None:
    """The "not a digit" threshold of an 11-output model: given, or read from the report made for this very model."""
    if num_classes == 10:
        return None
    if min_confidence is not None:
        return float(min_confidence)
    path = model_path.parent / OPERATING_POINT_FILE
    if not path.is_file():
        raise ExportError(f"{model_path} has a \"not a digit\" output but {path} is missing; run "
                          f"`mnist-edge reject-report --model {model_path} --out {path.parent}` or pass --min-confidence")
    point = json.loads(path.read_text())
    if point.get("model_sha256") != sha256_of(model_path):
        raise ExportError(f"{path} was made for another model than {model_path} (sha256 differs); rerun reject-report")
    return float(point["min_confidence"])


NON_DIGIT_PARITY_COUNT = 2000
MAX_REJECTION_DIFF_PP = 1.0


def _non_digit_set(num_classes: int, mnist) -> np.ndarray | None:
    """Held-out rendered non-digits (the reject report's fonts and seed; fragments of MNIST test digits), 11 outputs only."""
    if num_classes == 10:
        return None
    from train.negatives import HELD_OUT_FONTS, render_negatives
    from train.reject_report import HELD_OUT_SEED

    images, _ = render_negatives(NON_DIGIT_PARITY_COUNT, HELD_OUT_SEED, HELD_OUT_FONTS, mnist.x_test, mnist.y_test)
    return images


def _non_digit_parity(result: ParityResult, probs: np.ndarray, float_probs: np.ndarray, threshold: float) -> None:
    """The "not a digit" output survives the export: same share of non-digits rejected at the operating point."""
    def rejected(p):
        return (p.argmax(1) == 10) | (p[:, :10].max(1) < threshold)

    same = probs.argmax(1) == float_probs.argmax(1)
    diff_pp = 100.0 * abs(rejected(probs).mean() - rejected(float_probs).mean())
    result.extra["non_digits"] = {"images": int(len(probs)), "top1_agreement": float(same.mean()),
                                  "rejected": float(rejected(probs).mean()), "float_rejected": float(rejected(float_probs).mean()),
                                  "decision_agreement": float((rejected(probs) == rejected(float_probs)).mean())}
    if diff_pp > MAX_REJECTION_DIFF_PP:
        result.failures.append(f"non-digit rejection differs from the float model's by {diff_pp:.2f} pp "
                               f"> {MAX_REJECTION_DIFF_PP} pp")


def _tflm_parity(path: Path, images: np.ndarray, litert_probs: np.ndarray, progress: bool) -> dict:
    """Run the int8 model in the TFLM interpreter on every image; compare with LiteRT image by image."""
    predictor = load_predictor(path, backend="tflm", verify=False)
    step = 100  # TFLM runs one image at a time (~9 ms each here): predict in slices to show progress
    probs = np.concatenate([predictor.predict(images[i:i + step])
                            for i in tqdm(range(0, len(images), step), desc="TFLM", disable=not progress, leave=False)])
    same = probs.argmax(1) == litert_probs.argmax(1)
    return {"images": int(len(images)), "top1_same_as_litert": float(same.mean()), "differing_images": int((~same).sum()),
            "max_abs_prob_diff_vs_litert": float(np.abs(probs - litert_probs).max())}


def export_model(
    model_path: str | Path,
    out_dir: str | Path,
    formats: list[str] | None = None,
    micro: bool = True,
    data: str | None = None,
    calibration_size: int = DEFAULT_COUNT,
    calibration_seed: int = DEFAULT_SEED,
    tolerances: dict[str, Tolerance] | None = None,
    force: bool = False,
    stem: str = "mnist_cnn",
    progress: bool = True,
    min_confidence: float | None = None,
) -> ExportReport:
    """Export, check and describe. One format failing does not stop the others.

    An 11-output model (class 10 = "not a digit") carries its operating point
    (`min_confidence`, else reject/operating_point.json beside the model) into the manifest and the TFLM bundle.
    """
    model_path, out_dir = Path(model_path), Path(out_dir)
    selected = select_formats(formats)
    micro = micro and any(f.name == INT8_FORMAT for f in selected)
    model = load_source_model(model_path)
    num_classes = int(model.output_shape[-1])
    if num_classes not in (10, 11):
        raise ExportError(f"{model_path}: {num_classes} outputs; expected 10 digits, or 10 + \"not a digit\"")
    threshold = operating_point(model_path, num_classes, min_confidence)
    _check_writable(out_dir)
    in_the_way = [p for p in _planned_files(out_dir, stem, selected, micro) if p.exists()]
    if in_the_way and not force:
        raise ArtifactExistsError(
            f"{len(in_the_way)} file(s) exist and would be replaced: "
            + ", ".join(str(p) for p in in_the_way[:6]) + (" ..." if len(in_the_way) > 6 else "")
            + "; pass --force to overwrite")

    mnist = load_mnist(data)
    x_test = (mnist.x_test.astype(np.float32) / 255.0)[..., None]
    float_probs = model.predict(x_test, batch_size=500, verbose=0)
    indices = balanced_indices(mnist.y_train, calibration_size, calibration_seed)
    calibration = (mnist.x_train[indices].astype(np.float32) / 255.0)[..., None]
    atomic_write_json(out_dir / CALIBRATION_FILE, calibration_record(indices, calibration_seed), overwrite=True)

    non_digits = _non_digit_set(num_classes, mnist)
    float_neg = model.predict(non_digits.astype(np.float32)[..., None] / 255.0, batch_size=500, verbose=0) if non_digits is not None else None

    report = ExportReport(out_dir)
    entries = []
    for fmt in tqdm(selected, desc="export", disable=not progress):
        path = out_dir / f"{stem}{fmt.suffix}"
        try:
            started = time.perf_counter()
            blob = fmt.convert(model, calibration if fmt.needs_calibration else None)
            convert_s = time.perf_counter() - started
            atomic_write_bytes(path, blob, overwrite=force)
            predictor = load_predictor(path, backend=fmt.runtime, verify=False)
            probs = predictor.predict(mnist.x_test)
            tolerance = (tolerances or {}).get(fmt.name, fmt.tolerance)
            result = check_parity(fmt.name, fmt.runtime, probs, float_probs, mnist.y_test, tolerance)
            if non_digits is not None:
                _non_digit_parity(result, predictor.predict(non_digits), float_neg, threshold)
            if fmt.name == INT8_FORMAT:
                tflm = _tflm_parity(path, mnist.x_test, probs, progress)
                result.extra["tflm"] = tflm
                if tflm["differing_images"]:
                    result.failures.append(f"TFLM and LiteRT disagree on {tflm['differing_images']} test images")
            report.results.append(result)
            report.sizes[fmt.name] = len(blob)
            entries.append({
                "format": fmt.name, "file": path.name, "bytes": len(blob), "sha256": sha256_of(path),
                "runtime": fmt.runtime, "description": fmt.description,
                "input": _tensor_entry(predictor.backend.input),
                "output": {**_tensor_entry(predictor.backend.output), **_classes_entry(num_classes, threshold)},
                "calibration": CALIBRATION_FILE if fmt.needs_calibration else None,
                "convert_seconds": round(convert_s, 2), "parity": result.to_dict(),
            })
            if fmt.name == INT8_FORMAT and micro and result.passed:
                report.micro = write_micro_bundle(
                    blob, out_dir / MICRO_DIR, predictor.input_quant, predictor.output_quant,
                    source=model_path.name, source_sha=sha256_of(model_path), accuracy=result.accuracy,
                    overwrite=force, num_classes=num_classes, min_confidence=threshold)
                entries[-1]["extra"] = {"micro_bundle": f"{MICRO_DIR}/", "tflm": result.extra["tflm"],
                                        "arena": report.micro["arena"], "ops": report.micro["ops"]}
        except Exception as exc:  # isolate: report this format, go on with the others
            report.errors[fmt.name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]

    report.table = parity_table([r.to_dict() for r in report.results], report.errors, report.sizes)
    manifest = _write_manifest(out_dir, model_path, entries, float_probs, mnist, calibration_seed, len(indices))
    # The folder's parity report covers every artifact its manifest lists, not only this run's.
    listed = manifest["artifacts"]
    float_accuracy = manifest["source_model"]["test_accuracy"]
    summary = {"source_model": model_path.name, "float_accuracy": float_accuracy,
               "ok": not report.errors and all(e["parity"]["passed"] for e in listed),
               "results": [e["parity"] for e in listed], "errors": report.errors}
    atomic_write_json(out_dir / "parity.json", summary, overwrite=True)
    table = parity_table(summary["results"], report.errors, {e["format"]: e["bytes"] for e in listed})
    atomic_write_text(out_dir / "parity.md", f"Parity of every export with `{model_path.name}` (float accuracy "
                      f"{100 * float_accuracy:.2f} %) on the {manifest['test_set']['images']:,} MNIST test images\n\n"
                      + table, overwrite=True)
    return report


def _write_manifest(out_dir: Path, model_path: Path, entries: list[dict], float_probs, mnist,
                    calibration_seed: int, calibration_count: int) -> dict:
    """Write manifest.json, keeping earlier entries of the same source model that were not re-exported."""
    import hashlib

    source_sha = sha256_of(model_path)
    manifest_path = out_dir / MANIFEST_NAME
    kept = []
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text())
            if old.get("source_model", {}).get("sha256") == source_sha:
                fresh = {e["format"] for e in entries}
                kept = [e for e in old.get("artifacts", []) if e["format"] not in fresh and (out_dir / e["file"]).exists()]
        except (json.JSONDecodeError, KeyError, TypeError):
            kept = []
    try:
        source_file = os.path.relpath(model_path.resolve(), out_dir.resolve())
    except ValueError:
        source_file = str(model_path.resolve())
    manifest = {
        "schema": SCHEMA_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source_model": {"file": source_file, "sha256": source_sha,
                         "test_accuracy": float((float_probs.argmax(1) == mnist.y_test).mean())},
        "test_set": {"images": int(len(mnist.y_test)),
                     "x_test_sha256": hashlib.sha256(mnist.x_test.tobytes()).hexdigest()},
        "calibration": {"file": CALIBRATION_FILE, "sha256": sha256_of(out_dir / CALIBRATION_FILE),
                        "count": calibration_count, "seed": calibration_seed, "split": "train"},
        "converters": _converter_versions(),
        "artifacts": kept + entries,
    }
    order = {name: i for i, name in enumerate(["tflite-fp32", "tflite-fp16", "tflite-dynamic", "tflite-int8", "onnx-fp32", "onnx-int8"])}
    manifest["artifacts"].sort(key=lambda e: order.get(e["format"], 99))
    atomic_write_json(manifest_path, manifest, overwrite=True)
    return manifest
