"""Export a Keras model to every selected format, check each against the float model, write the manifest."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from export.calibration import DEFAULT_COUNT, DEFAULT_SEED, calibration_record, saved_or_drawn_indices
from export.formats import FORMATS, ExportFormat, Tolerance, select_formats
from export.micro import BUNDLE_FILES, write_micro_bundle
from export.micro_check import check_bundle_cpp
from export.parity import ParityResult, check_parity, parity_table
from export.staging import commit, fault_point, new_staging_dir, recover
from runtime.files import ArtifactExistsError, atomic_write_bytes, atomic_write_json, atomic_write_text
from runtime.manifest import MANIFEST_NAME, PASSED, SWAP_JOURNAL, artifact_entry, classes_entry, sha256_of, write_manifest
from runtime.mnist_data import load_mnist, to_model_input
from runtime.predictor import load_predictor
from runtime.progress import batches
from runtime.progress import progress as report_progress
from runtime.quiet import native_output_silenced

CALIBRATION_FILE = "calibration_indices.json"
# TFLM's kernels and LiteRT's (XNNPACK by default) are two implementations of the same int8 arithmetic
# that round a few requantizations differently by one int8 step: on edge_cnn that flips the top-1 class
# of 1 test image in 10,000. More than 2 in 10,000 means a real fault. The C++ library is held to
# bit-exactness instead (export/micro_check.py, tests/test_micro_cpp.py).
TFLM_MAX_DIFFERING_FRACTION = 0.0002
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
    kept: dict[str, str] = field(default_factory=dict)  # format -> why the earlier file stayed in place

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


def _converter_versions() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("tensorflow-cpu", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert", "tflite-micro"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


@dataclass
class NonDigitCheck:
    """Held-out non-digit crops, the float model's probabilities on them and the operating point."""

    images: np.ndarray
    float_probs: np.ndarray
    min_confidence: float


def operating_point(model_path: Path, num_classes: int, min_confidence: float | None) -> tuple[float | None, Path | None]:
    """An 11-output model's "not a digit" threshold and its held-out non-digits file, both from
    `mnist-edge reject-report` (reject/ beside the model, made for this very model); a given threshold wins."""
    if num_classes == 10:
        return None, None
    path = model_path.resolve().parent / OPERATING_POINT_FILE  # beside the model itself, not a link to it
    if not path.is_file():
        if min_confidence is not None:
            return float(min_confidence), None
        raise ExportError(f"{model_path} has a \"not a digit\" output but {path} is missing; run "
                          f"`mnist-edge reject-report --model {model_path} --baseline BEFORE.keras --out {path.parent}` "
                          "(BEFORE: the model it replaces, for the before/after columns) or pass --min-confidence")
    point = json.loads(path.read_text())
    if point.get("model_sha256") != sha256_of(model_path):
        raise ExportError(f"{path} was made for another model than {model_path} (sha256 differs); rerun reject-report")
    non_digits = path.parent / point["non_digits_file"] if point.get("non_digits_file") else None
    return float(point["min_confidence"] if min_confidence is None else min_confidence), non_digits


MAX_REJECTION_DIFF_PP = 1.0


def _non_digit_check(model, non_digits_file: Path | None, min_confidence: float | None) -> NonDigitCheck | None:
    """The reject report's saved held-out non-digits (fonts and seed training never used), for an 11-output model."""
    if non_digits_file is None:
        return None
    if not non_digits_file.is_file():
        raise ExportError(f"{non_digits_file}: missing (named by {OPERATING_POINT_FILE}); rerun reject-report")
    with np.load(non_digits_file) as saved:
        images = saved["images"]
    return NonDigitCheck(images, model.predict(to_model_input(images), batch_size=500, verbose=0), min_confidence)


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


def _tflm_parity(path: Path, images: np.ndarray, litert_probs: np.ndarray, progress: bool) -> tuple[dict, np.ndarray]:
    """Run the int8 model in the TFLM interpreter on every image; compare with LiteRT image by image.

    Also returns TFLM's raw int8 outputs, which the C++ check compares value by value.
    """
    predictor = load_predictor(path, backend="tflm", verify=False)
    step = 100  # TFLM runs one image at a time (~9 ms each here): run in slices to show progress
    raw = np.concatenate([predictor.backend.run(predictor.to_model_input(images[s])) for s in report_progress(
        batches(len(images), step), total=len(images), desc="TFLM check", unit="images", enabled=progress,
        weights=lambda s: s.stop - s.start)])
    raw = raw.reshape(len(images), -1)
    probs = predictor.output_quant.dequantize(raw)
    same = probs.argmax(1) == litert_probs.argmax(1)
    return ({"images": int(len(images)), "top1_same_as_litert": float(same.mean()), "differing_images": int((~same).sum()),
             "max_abs_prob_diff_vs_litert": float(np.abs(probs - litert_probs).max())}, raw)


@dataclass
class Exported:
    """One format's conversion: its parity result, its manifest entry, the file's bytes and its predictor."""

    result: ParityResult
    entry: dict
    blob: bytes
    predictor: object
    tflm_scores: np.ndarray | None = None  # the TFLM interpreter's int8 outputs on the test set (micro formats)


def export_one(fmt: ExportFormat, model, path: Path, calibration: np.ndarray, mnist, float_probs: np.ndarray,
               tolerance: Tolerance, force: bool = False, progress: bool = True,
               non_digits: NonDigitCheck | None = None, classes: dict | None = None) -> Exported:
    """Convert to one format, write the file, run it on the test set, check it against the float model.

    An 11-output model is also checked on rendered non-digits (`non_digits`); `classes` describes its outputs.
    """
    started = time.perf_counter()
    with native_output_silenced():  # the converters' "Saved artifact ..." and I0000/W0000 lines (-v shows them)
        blob = fmt.converter()(model, calibration if fmt.needs_calibration else None)
    convert_s = time.perf_counter() - started
    atomic_write_bytes(path, blob, overwrite=force)
    fault_point(f"written:{fmt.name}")
    predictor = load_predictor(path, backend=fmt.runtime, verify=False)
    probs = predictor.predict(mnist.x_test)
    result = check_parity(fmt.name, fmt.runtime, probs, float_probs, mnist.y_test, tolerance)
    if non_digits is not None:
        _non_digit_parity(result, predictor.predict(non_digits.images), non_digits.float_probs, non_digits.min_confidence)
    tflm_scores = None
    if fmt.runs_on_micro:
        tflm, tflm_scores = _tflm_parity(path, mnist.x_test, probs, progress)
        result.extra["tflm"] = tflm
        if tflm["differing_images"] > TFLM_MAX_DIFFERING_FRACTION * len(mnist.x_test):
            result.failures.append(f"TFLM and LiteRT disagree on {tflm['differing_images']} test images")
    entry = artifact_entry(fmt.name, path, fmt.runtime, fmt.description, predictor.backend,
                           calibration=CALIBRATION_FILE if fmt.needs_calibration else None,
                           convert_seconds=convert_s, parity=result.to_dict(), classes=classes)
    return Exported(result, entry, blob, predictor, tflm_scores)


def _prepare_out_dir(out_dir: Path, planned: list[Path], force: bool) -> None:
    _check_writable(out_dir)
    in_the_way = [p for p in planned if p.exists()]
    if in_the_way and not force:
        raise ArtifactExistsError(
            f"{len(in_the_way)} file(s) exist and would be replaced: "
            + ", ".join(str(p) for p in in_the_way[:6]) + (" ..." if len(in_the_way) > 6 else "")
            + "; pass --force to overwrite")


def _previous_source(out_dir: Path) -> tuple[bool, str | None, str, list]:
    """The folder's current export: (is there one, the sha256 of its source model or None when its manifest
    cannot say, the source's file name or why not, the file names its manifest lists)."""
    from runtime.manifest import ManifestError, load_manifest

    if not os.path.lexists(out_dir / MANIFEST_NAME):
        return False, None, "", []
    try:
        data = load_manifest(out_dir).data
    except ManifestError as exc:
        return True, None, f"its manifest cannot be read: {str(exc).splitlines()[0][:200]}", []
    names = [entry.get("file") for entry in data.get("artifacts", []) if isinstance(entry, dict)]
    source = data.get("source_model")
    if not isinstance(source, dict) or not isinstance(source.get("sha256"), str):
        return True, None, "its manifest names no source model", names
    return True, source["sha256"], str(source.get("file", "?")), names


def _check_same_model(out_dir: Path, model_path: Path, force: bool) -> None:
    """A folder holding another model's export (or one whose manifest cannot say which) is replaced whole
    (`_retired`), so only with --force."""
    there, sha, what, _ = _previous_source(out_dir)
    if there and sha != sha256_of(model_path) and not force:
        raise ArtifactExistsError(
            f"{out_dir} holds the export of another model ({what}); with --force its files are replaced and those "
            "of formats not exported now removed, as one set; or choose another --out")


def _calibration_images(out_dir: Path, staging: Path, mnist, count: int, seed: int) -> tuple[np.ndarray, dict]:
    """The calibration images (the saved index list replayed when it matches) and the manifest's record of them."""
    indices = saved_or_drawn_indices(out_dir / CALIBRATION_FILE, mnist.y_train, count, seed)
    path = staging / CALIBRATION_FILE
    atomic_write_json(path, calibration_record(indices, seed), overwrite=True)
    record = {"file": CALIBRATION_FILE, "sha256": sha256_of(path), "count": int(len(indices)), "seed": seed,
              "split": "train"}
    return to_model_input(mnist.x_train[indices]), record


def _write_parity_files(out_dir: Path, model_path: Path, manifest: dict, errors: dict) -> None:
    """parity.json and parity.md: every artifact the folder's manifest lists, not only this run's."""
    listed = manifest["artifacts"]
    float_accuracy = manifest["source_model"]["test_accuracy"]
    summary = {"source_model": model_path.name, "float_accuracy": float_accuracy,
               "ok": not errors and all(e["parity"]["passed"] for e in listed),
               "results": [e["parity"] for e in listed], "errors": errors}
    atomic_write_json(out_dir / "parity.json", summary, overwrite=True)
    table = parity_table(summary["results"], errors, {e["format"]: e["bytes"] for e in listed})
    atomic_write_text(out_dir / "parity.md", f"Parity of every export with `{model_path.name}` (float accuracy "
                      f"{100 * float_accuracy:.2f} %) on the {manifest['test_set']['images']:,} MNIST test images\n\n"
                      + table, overwrite=True)


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
    cpp: bool = False,
    m4_images: int = 1000,
    min_confidence: float | None = None,
) -> ExportReport:
    """Export, check and describe. One format failing does not stop the others.

    cpp: also prove the TFLM bundle in the real C++ library (export/micro_check.py): every test
    image on x86-64, the first `m4_images` on an emulated Cortex-M4; needs the TFLM kit and toolchains.

    An 11-output model (class 10 = "not a digit") carries its operating point
    (`min_confidence`, else reject/operating_point.json beside the model) into the manifest and the TFLM bundle.
    """
    model_path, out_dir = Path(model_path), Path(out_dir)
    selected = select_formats(formats)
    micro = micro and any(f.runs_on_micro for f in selected)
    model = load_source_model(model_path)
    _check_writable(out_dir)
    recovered = recover(out_dir)
    if recovered and progress:
        print(f"mnist-edge export: {recovered}", file=sys.stderr)
    num_classes = int(model.output_shape[-1])
    if num_classes not in (10, 11):
        raise ExportError(f"{model_path}: {num_classes} outputs; expected 10 digits, or 10 + \"not a digit\"")
    threshold, non_digits_file = operating_point(model_path, num_classes, min_confidence)
    _check_same_model(out_dir, model_path, force)  # first: its refusal says why a whole set would go
    _prepare_out_dir(out_dir, _planned_files(out_dir, stem, selected, micro), force)
    mnist = load_mnist(data)
    float_probs = model.predict(to_model_input(mnist.x_test), batch_size=500, verbose=0)
    staging = new_staging_dir(out_dir)
    try:
        report = _export_into(staging, out_dir, model, model_path, selected, micro, mnist, float_probs,
                              calibration_size, calibration_seed, tolerances, stem, progress, cpp, m4_images,
                              num_classes, threshold, non_digits_file)
        fault_point("before-commit")
        commit(staging, out_dir, remove=_retired(staging, out_dir, report, model_path, stem))
    finally:
        if staging.exists() and not (out_dir / SWAP_JOURNAL).exists():
            shutil.rmtree(staging, ignore_errors=True)
    return report


def _export_into(staging: Path, out_dir: Path, model, model_path: Path, selected: list[ExportFormat], micro: bool,
                 mnist, float_probs: np.ndarray, calibration_size: int, calibration_seed: int,
                 tolerances: dict | None, stem: str, progress: bool, cpp: bool, m4_images: int,
                 num_classes: int = 10, threshold: float | None = None, non_digits_file=None) -> ExportReport:
    """Every file of the export written into `staging`; a failed format never replaces a passing one in `out_dir`."""
    calibration, calibration_info = _calibration_images(out_dir, staging, mnist, calibration_size, calibration_seed)
    previous = _passing_entries(out_dir, model_path)
    non_digits = _non_digit_check(model, non_digits_file, threshold)
    classes = classes_entry(num_classes, threshold)
    report = ExportReport(out_dir)
    entries = []
    for fmt in report_progress(selected, total=len(selected), desc="export", unit="formats", enabled=progress):
        try:
            done = export_one(fmt, model, staging / f"{stem}{fmt.suffix}", calibration, mnist, float_probs,
                              (tolerances or {}).get(fmt.name, fmt.tolerance), True, progress, non_digits, classes)
            report.results.append(done.result)
            report.sizes[fmt.name] = len(done.blob)
            entries.append(done.entry)
            if fmt.runs_on_micro and micro and done.result.passed:
                check = None
                if cpp:
                    def check(bundle, scores=done.tflm_scores):
                        return check_bundle_cpp(bundle, mnist.x_test, mnist.y_test, scores, m4_images,
                                                progress=progress)
                report.micro = write_micro_bundle(
                    done.blob, staging / MICRO_DIR, done.predictor.input_quant, done.predictor.output_quant,
                    source=model_path.name, source_sha=sha256_of(model_path), accuracy=done.result.accuracy,
                    overwrite=True, title=f"MNIST digits, `{model.name}`", cpp_check=check,
                    min_confidence=threshold)
                done.entry["extra"] = {"micro_bundle": f"{MICRO_DIR}/", "tflm": done.result.extra["tflm"],
                                       "arena": report.micro["arena"], "ops": report.micro["ops"],
                                       "cpp": report.micro.get("cpp")}
        except Exception as exc:  # isolate: report this format, go on with the others
            report.errors[fmt.name] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]

    entries = _keep_passing(entries, previous, staging, report)
    report.table = parity_table([r.to_dict() for r in report.results], report.errors, report.sizes)
    manifest = write_manifest(out_dir, model_path, entries,
                              source_accuracy=float((float_probs.argmax(1) == mnist.y_test).mean()),
                              x_test=mnist.x_test, calibration=calibration_info,
                              converters=_converter_versions(), order=list(FORMATS), write_to=staging)
    _write_parity_files(staging, model_path, manifest, report.errors)
    return report


def _stale_micro(staging: Path, out_dir: Path, report: ExportReport) -> list[str]:
    """micro/ goes with the int8 model it was made from: a new int8 model without a new bundle retires the old one."""
    from export.formats import INT8_FORMAT

    new_int8 = any(r.format == INT8_FORMAT for r in report.results) and INT8_FORMAT not in report.kept
    if new_int8 and not (staging / MICRO_DIR).exists() and (out_dir / MICRO_DIR).exists():
        return [MICRO_DIR]
    return []


def _retired(staging: Path, out_dir: Path, report: ExportReport, model_path: Path, stem: str) -> list[str]:
    """What the new set retires from `out_dir` in the same swap: an old micro/ bundle (_stale_micro), and when
    the folder held another model's export (or one whose manifest cannot say), its artifacts that the new set
    does not replace, with its micro/ bundle: left beside the new manifest they would describe another model (a
    micro/ flashed from there most of all). Only names an export writes: files ending in a format's suffix (the
    old manifest's, or this stem's when it cannot be read), and micro/."""
    retired = _stale_micro(staging, out_dir, report)
    there, sha, _, names = _previous_source(out_dir)
    if not there or sha == sha256_of(model_path):
        return retired
    suffixes = tuple(f.suffix for f in FORMATS.values())
    names = names + [f"{stem}{suffix}" for suffix in suffixes]
    files = [name for name in names if isinstance(name, str) and name.endswith(suffixes) and "/" not in name
             and (out_dir / name).is_file() and not (staging / name).exists()]
    bundle = [MICRO_DIR] if (out_dir / MICRO_DIR).is_dir() and not (staging / MICRO_DIR).exists() else []
    return sorted(set(retired + files + bundle))


def _passing_entries(out_dir: Path, model_path: Path) -> dict[str, dict]:
    """The output folder's current artifacts that passed their parity check and whose file is intact, if they
    were made from the same model (another model's file never stands in for a failed new one)."""
    from runtime.manifest import ManifestError, load_manifest

    try:
        manifest = load_manifest(out_dir)
    except ManifestError:
        return {}
    source = manifest.data.get("source_model")
    if not isinstance(source, dict) or source.get("sha256") != sha256_of(model_path):
        return {}
    kept = {}
    for entry in manifest.data["artifacts"]:
        artifact = manifest.artifacts[entry["format"]]
        if artifact.passed and artifact.path.is_file() and sha256_of(artifact.path) == artifact.sha256:
            kept[entry["format"]] = {**entry, "kept_from_export": manifest.data.get("created")}
    return kept


def _keep_passing(entries: list[dict], previous: dict[str, dict], staging: Path, report: ExportReport) -> list[dict]:
    """A new file that failed its parity check does not replace a passing one: drop it from staging, keep the old entry."""
    out = []
    for entry in entries:
        old = previous.get(entry["format"])
        if entry.get("status", PASSED) != PASSED and old is not None:
            (staging / entry["file"]).unlink(missing_ok=True)
            report.kept[entry["format"]] = f"the new {entry['format']} failed its parity check; the earlier passing {old['file']} stays"
            out.append(old)
        else:
            out.append(entry)
    return out
