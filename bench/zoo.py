"""`mnist-edge zoo`: every notebook model in every export format, measured side by side in one run.

For each zoo model: the float Keras model (the shipped one from models/, a
cached run in runs/zoo/<model>/, or trained there now with the notebook's
recipe), its exports (the shipped ones, cached ones, or exported now through
the format registry), then per artifact: accuracy on the test set, agreement
with its float model, batch-1 latency here (median, one thread, all artifacts
timed in interleaved rounds) and, for int8, the TFLM arena.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from runtime.progress import progress as report_progress

DEFAULT_RUNS_DIR = Path("runs/zoo")


@contextlib.contextmanager
def output_to(log_path: Path, enabled: bool = True):
    """Send everything printed meanwhile, by Python or by C code (TensorFlow, tf2onnx), to a log file."""
    if not enabled:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "a") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            log.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def shipped_sources(models_dir: Path) -> dict[str, Path]:
    """{model name: manifest folder} for manifests in models_dir and its subfolders whose source file exists."""
    from runtime.manifest import MANIFEST_NAME

    found = {}
    for manifest_path in [models_dir / MANIFEST_NAME, *sorted(models_dir.glob(f"*/{MANIFEST_NAME}"))]:
        if not manifest_path.is_file():
            continue
        source = json.loads(manifest_path.read_text()).get("source_model", {}).get("file")
        if source and (manifest_path.parent / source).is_file():
            found.setdefault(Path(source).stem, manifest_path.parent)
    return found


def _check_recipe(run_dir: Path, epochs: int, limit: int | None) -> None:
    """A cached run is reused only if it was trained with this zoo's epochs and limit (a 1-epoch trial run in
    the cache would silently become the table's figures); ValueError says what differs."""
    try:
        config = json.loads((run_dir / "config.json").read_text())
        trained = (int(config["epochs"]), config["limit"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{run_dir}: a cached run without a readable config.json ({exc}); move it away to train "
                         "it again") from None
    if trained != (epochs, limit):
        raise ValueError(f"{run_dir}: a cached run trained with --epochs {trained[0]} --limit {trained[1]}, not this "
                         f"zoo's --epochs {epochs} --limit {limit}; move it away to train it again, or pass those "
                         "options to compare it as it is")


def trained_model(name: str, runs_dir: Path, shipped: dict[str, Path], train_missing: bool,
                  data: str | None, epochs: int, limit: int | None) -> tuple[Path, str] | None:
    """The model's float Keras file: shipped, cached in runs_dir/name, or trained there now (notebook recipe)."""
    if name in shipped:
        manifest = json.loads((shipped[name] / "manifest.json").read_text())
        return shipped[name] / manifest["source_model"]["file"], "shipped"
    run_dir = runs_dir / name
    if (run_dir / "model.keras").is_file():
        _check_recipe(run_dir, epochs, limit)
        return run_dir / "model.keras", "cached run"
    if not train_missing:
        return None
    from train.fit import TrainConfig, train

    if run_dir.exists():  # an interrupted run: start it again cleanly
        import shutil

        shutil.rmtree(run_dir)
    result = train(TrainConfig(model=name, epochs=epochs, data=data, limit=limit), run_dir, verbose=0)
    return result.model_path, "trained now"


def exported(name: str, keras_path: Path, run_dir: Path, shipped: dict[str, Path], formats: list[str] | None,
             data: str | None) -> Path:
    """The manifest folder of the model's exports; exported now (all registry formats) unless cached."""
    from runtime.manifest import ManifestError, load_manifest, sha256_of

    if name in shipped:
        return shipped[name]
    out = run_dir / "exports"
    try:
        manifest = load_manifest(out)
        wanted = set(formats or _registry_names())
        if manifest.data["source_model"]["sha256"] == sha256_of(keras_path) and wanted <= set(manifest.artifacts):
            return out
    except ManifestError:
        pass
    from export.pipeline import export_model

    export_model(keras_path, out, formats=formats, micro=False, data=data, force=True, stem=name, progress=False)
    return out


def _registry_names() -> list[str]:
    from export.formats import FORMATS

    return list(FORMATS)


def float_eval(keras_path: Path, mnist, val_size: int = 5000) -> dict:
    """The float model's parameters, train accuracy (training split, fit's hold-out excluded) and test probabilities."""
    import keras

    from train.dataset import split_validation, to_model_input

    model = keras.models.load_model(keras_path)
    splits = split_validation(mnist, min(val_size, len(mnist.x_train) // 10))
    train_probs = model.predict(to_model_input(splits.x_train), batch_size=512, verbose=0)
    test_probs = model.predict(to_model_input(mnist.x_test), batch_size=512, verbose=0)
    return {"params": int(model.count_params()), "outputs": int(test_probs.shape[1]),
            "train_accuracy": float((train_probs.argmax(1) == splits.y_train).mean()), "test_probs": test_probs}


def tflm_arena(artifact) -> dict | None:
    """TFLM arena of an int8 TFLite artifact: the export's micro bundle figure, else measured now."""
    if artifact.extra.get("arena"):
        return {**artifact.extra["arena"], "source": "micro bundle"}
    from export.micro import measure_arena

    try:
        report = measure_arena(artifact.path.read_bytes())
    except Exception as exc:  # TFLM cannot run it: say why in the row
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"measured_bytes": report.measured_bytes, "recommended_bytes": report.recommended_bytes,
            "source": "RecordingMicroAllocator, measured now"}


def median_latencies_ms(predictors: dict, image: np.ndarray, rounds: int, per_round: int, progress: bool) -> dict:
    """Median single-image predict time per predictor, timed in interleaved rounds so drift hits all alike."""
    times = {key: [] for key in predictors}
    for predictor in predictors.values():  # warm-up
        for _ in range(10):
            predictor.predict(image)
    for _ in report_progress(range(rounds), rounds, "latency", "rounds", enabled=progress):
        for key, predictor in predictors.items():
            for _ in range(per_round):
                start = time.perf_counter()
                predictor.predict(image)
                times[key].append(time.perf_counter() - start)
    return {key: 1000 * float(np.median(t)) for key, t in times.items()}


def run_zoo(models: list[str] | None = None, formats: list[str] | None = None, models_dir: Path = Path("models"),
            runs_dir: Path = DEFAULT_RUNS_DIR, data: str | None = None, train_missing: bool = True,
            epochs: int = 20, limit: int | None = None, latency_runs: int = 200, progress: bool = True,
            verbose: bool = False) -> dict:
    """Gather one row per (model, format); returns the result dict the report writers take."""
    from bench.costs import model_macs
    from runtime.manifest import load_manifest
    from runtime.mnist_data import load_mnist
    from runtime.predictor import load_predictor
    from train.models import MODEL_ZOO

    names = models or list(MODEL_ZOO)
    unknown = [n for n in names if n not in MODEL_ZOO]
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODEL_ZOO)}")
    if formats:
        from export.formats import select_formats

        formats = [f.name for f in select_formats(formats)]
    mnist = load_mnist(data, limit)
    shipped = shipped_sources(Path(models_dir))
    rows, predictors, skipped = [], {}, {}
    for name in report_progress(names, len(names), "zoo", "models", enabled=progress):
        log = Path(runs_dir) / f"{name}.log"  # training and converter chatter, kept out of the terminal
        with output_to(log, enabled=not verbose):
            found = trained_model(name, Path(runs_dir), shipped, train_missing, data, epochs, limit)
            if found is None:
                skipped[name] = f"no shipped model and no run in {Path(runs_dir) / name} (drop --no-train to train it)"
                continue
            keras_path, origin = found
            export_dir = exported(name, keras_path, Path(runs_dir) / name, shipped, formats, data)
        manifest = load_manifest(export_dir)
        evaluated = float_eval(keras_path, mnist)
        float_pred = evaluated["test_probs"].argmax(1)
        float_acc = float((float_pred == mnist.y_test).mean())
        fp32 = manifest.artifacts.get("tflite-fp32")
        macs = model_macs(fp32.path) if fp32 else None
        for fmt, artifact in manifest.artifacts.items():
            if formats and fmt not in formats:
                continue
            # Zoo exports are compared, not shipped: one below export's parity tolerance is a row like any other.
            predictor = load_predictor(artifact.path, threads=1, manifest=export_dir, allow_failed=True)
            pred = predictor.predict(mnist.x_test).argmax(1)
            row = {"model": name, "origin": origin, "format": fmt, "params": evaluated["params"], "macs": macs,
                   "bytes": artifact.path.stat().st_size, "outputs": evaluated["outputs"],
                   "float_train_accuracy": evaluated["train_accuracy"], "float_test_accuracy": float_acc,
                   "test_accuracy": float((pred == mnist.y_test).mean()),
                   "agreement_with_float": float((pred == float_pred).mean()), "file": _shown(artifact.path)}
            row["accuracy_drop_pp"] = 100 * (float_acc - row["test_accuracy"])
            if fmt == "tflite-int8":
                row["tflm_arena"] = tflm_arena(artifact)
            rows.append(row)
            predictors[(name, fmt)] = predictor
    image = mnist.x_test[:1]
    per_round = max(1, latency_runs // 10)
    latencies = median_latencies_ms(predictors, image, 10, per_round, progress)
    for row in rows:
        row["latency_ms"] = latencies[(row["model"], row["format"])]
    return {"benchmark": "zoo", "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "test_images": int(len(mnist.y_test)), "latency": {"batch": 1, "threads": 1, "timed_calls": 10 * per_round,
                                                              "statistic": "median", "what": "Predictor.predict"},
            "machine": _machine(), "rows": rows, "skipped": skipped}


def _shown(path: Path) -> str:
    """A path relative to the working folder when it lies below it (so the committed JSON holds no home folders)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _machine() -> dict:
    import os
    import platform

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge zoo", description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None, help="comma-separated zoo models (default: all in train/models.py)")
    parser.add_argument("--formats", default=None, help="comma-separated export formats (default: all in the registry)")
    parser.add_argument("--models-dir", default="models", help="shipped models: a manifest here or in a subfolder "
                        "whose source file is <model>.keras is reused, not retrained")
    parser.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR), help=f"cache of trained zoo runs and their "
                        f"exports (default {DEFAULT_RUNS_DIR}/)")
    parser.add_argument("--no-train", action="store_true", help="skip models with no shipped or cached run instead of training them")
    parser.add_argument("--epochs", type=int, default=20, help="epochs for a model trained now (the notebook's 20)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training and test images (quick runs)")
    parser.add_argument("--data", default=None, help="path to mnist.npz")
    parser.add_argument("--latency-runs", type=int, default=200, help="timed single-image calls per artifact")
    parser.add_argument("--out", default=None, help="folder for zoo.{md,json} and the two PNGs (default: the "
                        "--runs-dir, so a trial leaves the committed models/zoo alone; --out models/zoo to update those)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("-v", "--verbose", action="store_true", help="show training and converter output (else in <runs-dir>/<model>.log)")
    args = parser.parse_args(argv)
    for option in ("epochs", "latency_runs", "limit"):
        value = getattr(args, option)
        if value is not None and value <= 0:
            parser.error(f"--{option.replace('_', '-')} must be positive, got {value}")

    from bench.cli import stop_report, stops_as_interrupts
    from bench.zoo_report import write_report
    from export.tf_quiet import quiet_tensorflow
    from runtime.files import file_in_the_way
    from runtime.manifest import ManifestError
    from runtime.mnist_data import MnistDataError

    for flag, folder in (("--runs-dir", args.runs_dir), ("--out", args.runs_dir if args.out is None else args.out)):
        if not str(folder).strip():
            parser.error(f"{flag} is empty; give a folder")
        blocking = file_in_the_way(folder)
        if blocking is None and os.path.islink(folder) and not os.path.exists(folder):
            blocking = Path(folder)  # a link to nothing: mkdir fails on it after all the work
        if blocking is not None:  # before minutes of training and timing, not after
            parser.error(f"{flag} {folder}: {blocking} is not a folder")

    quiet_tensorflow(args.verbose)  # its start-up lines on stderr otherwise (fresh-clone review)
    split = lambda s: [x.strip() for x in s.split(",") if x.strip()] if s else None  # noqa: E731
    try:
        with stops_as_interrupts():
            result = run_zoo(split(args.models), split(args.formats), Path(args.models_dir), Path(args.runs_dir),
                             args.data, not args.no_train, args.epochs, args.limit, args.latency_runs,
                             not args.no_progress, args.verbose)
            table = write_report(result, Path(args.out or args.runs_dir))
    except (ValueError, ManifestError, MnistDataError, OSError) as exc:
        print(f"mnist-edge zoo: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # training checkpoints and the report are written whole (atomic renames)
        how, code = stop_report(exc)
        print(f"mnist-edge zoo: {how}; no result half-written (runs finished in {args.runs_dir} are reused next time)",
              file=sys.stderr)
        return code
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
