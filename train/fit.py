"""Train one zoo model into a run folder: checkpoints, CSV log, resume, metrics."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from runtime.files import atomic_write_json
from runtime.mnist_data import load_mnist
from train.augment import style_ranges
from train.distill import load_teacher, soft_targets
from train.dataset import (
    eval_dataset, load_extra_crops, split_validation, steps_per_epoch, to_model_input, training_dataset, with_extra,
    with_forms, with_negatives,
)
from train.models import MODEL_ZOO, build_model

LR_SCHEDULES = ("constant", "cosine")
NEGATIVES_SEED = 1011
FORMS_TRAIN_SEED = 4712  # the form test sets use train.digit_forms.FORMS_SEED (4711) on MNIST test digits


@dataclass
class TrainConfig:
    """Everything that defines a run; saved as config.json so a run can be resumed."""

    model: str = "cnn_aug"
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # the notebook: Adam at a constant 1e-3
    seed: int = 0
    limit: int | None = None
    val_size: int = 5000
    augment: bool | None = None  # None: the zoo entry decides
    data: str | None = None
    num_classes: int = 10  # 11: an extra "not a digit" output trained on rendered negatives
    negatives: int = 10000  # rendered non-digit training crops when num_classes is 11 (a tenth as many for validation)
    style: bool = False  # writer-style augmentation (stroke width, slant, elastic, blur, contrast)
    style_p: float = 0.5  # fraction of images each style effect is applied to (train.augment.style_ranges)
    ema_momentum: float | None = None  # an EMA of the weights, validated and kept instead of the raw ones
    label_smoothing: float = 0.0
    init_from: str | None = None  # a trained .keras model of the same architecture to start from (fine-tuning)
    extra_crops: str | None = None  # an .npz of labelled 28x28 crops added to training (`mnist-edge bench crops`)
    forms: int = 0  # training digits rewritten as other writers form them (crossed 7s, flagged 1s, slashed 0s; a tenth as many for validation)
    teacher: str | None = None  # a trained .keras model whose soft digit targets are blended in (train.distill)
    teacher_weight: float = 0.5  # the teacher's share of a digit's target
    teacher_temperature: float = 2.0  # softens the teacher's probabilities (softmax(logits / T))

    def resolved_augment(self) -> bool:
        return MODEL_ZOO[self.model].augment if self.augment is None else self.augment


@dataclass
class RunResult:
    run_dir: Path
    model_path: Path
    metrics: dict = field(default_factory=dict)
    test_images: np.ndarray | None = None  # uint8 (N, 28, 28), for the report's pictures
    test_labels: np.ndarray | None = None
    test_probs: np.ndarray | None = None  # the chosen model's probabilities on them


class AtomicCheckpoint(keras.callbacks.Callback):
    """Save last.keras every epoch and best.keras on a new best, each via temp file + rename."""

    def __init__(self, folder: Path, monitor: str = "val_accuracy", best_so_far: float = -np.inf):
        super().__init__()
        self.folder, self.monitor, self.best = folder, monitor, best_so_far

    def _save(self, name: str) -> None:
        tmp = self.folder / f".{name}.tmp.keras"
        self.model.save(tmp)
        os.replace(tmp, self.folder / f"{name}.keras")

    def on_epoch_end(self, epoch, logs=None):
        self._save("last")
        value = (logs or {}).get(self.monitor)
        if value is not None and value > self.best:
            self.best = value
            self._save("best")


class DivergedStops(keras.callbacks.Callback):
    """A loss that is no longer a number ends the run with a named error (the checkpoints before it are kept):
    a model trained on NaN is not a result."""

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise ValueError(f"training diverged: the loss is {loss} after epoch {epoch + 1}; start again with a "
                             "lower --lr (the checkpoints of the epochs before, if any, are kept)")


class EpochSeconds(keras.callbacks.Callback):
    """Each epoch's wall time as the log's `seconds` column (before CSVLogger): a run stopped and resumed still
    adds up all its epochs (metrics.json's train_seconds)."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


def versions() -> dict:
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
    }


def _optimizer(config: TrainConfig, steps: int) -> keras.optimizers.Optimizer:
    ema = {"use_ema": True, "ema_momentum": config.ema_momentum} if config.ema_momentum else {}
    if config.lr_schedule == "constant":
        return keras.optimizers.Adam(config.learning_rate, **ema)
    if config.lr_schedule == "cosine":
        # Decays to zero over the whole run; the step count lives in the
        # optimizer state, so a resumed run continues the same curve.
        return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(config.learning_rate, steps), **ema)
    raise ValueError(f"unknown lr schedule {config.lr_schedule!r}; choose from {LR_SCHEDULES}")


def _loss(config: TrainConfig) -> keras.losses.Loss:
    """Cross-entropy; with label smoothing or a teacher it takes one-hot (or soft) targets (see `one_hot` in
    train.dataset)."""
    if config.label_smoothing or config.teacher:
        return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    return keras.losses.SparseCategoricalCrossentropy()


def check_config(config: TrainConfig) -> None:
    """Raise ValueError for a config no run can use."""
    if config.model not in MODEL_ZOO:
        raise ValueError(f"unknown model {config.model!r}; choose from {', '.join(MODEL_ZOO)}")
    if not (math.isfinite(config.learning_rate) and config.learning_rate > 0):
        raise ValueError(f"learning rate must be a positive number, got {config.learning_rate}")
    if config.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"unknown lr schedule {config.lr_schedule!r}; choose from {LR_SCHEDULES}")
    if config.ema_momentum is not None and not 0 < config.ema_momentum < 1:
        raise ValueError(f"EMA momentum must be in (0, 1), got {config.ema_momentum}")
    if not 0 <= config.label_smoothing < 1:
        raise ValueError(f"label smoothing must be in [0, 1), got {config.label_smoothing}")
    if config.forms < 0:
        raise ValueError(f"forms must be >= 0, got {config.forms}")
    if config.teacher is not None and not isinstance(config.teacher, str):
        raise ValueError(f"teacher must be the path of a .keras model, got {config.teacher!r}")
    numbers = (config.teacher_weight, config.teacher_temperature)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in numbers) \
            or not (0 < config.teacher_weight <= 1 and config.teacher_temperature > 0):
        raise ValueError(f"teacher weight must be a number in (0, 1] and temperature a positive number, got "
                         f"{config.teacher_weight!r} and {config.teacher_temperature!r}")


def _completed_epochs(log_path: Path) -> tuple[int, float]:
    """Epochs already in a run's CSV log, and the best val_accuracy among them; a corrupt log is a ValueError."""
    if not log_path.exists():
        return 0, -np.inf
    try:
        with log_path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "epoch" not in reader.fieldnames:
                raise ValueError("no 'epoch' column")
            rows = list(reader)
        epochs = [int(r["epoch"]) for r in rows]
        if epochs != list(range(len(epochs))):
            raise ValueError(f"epochs {epochs[:5]}... are not 0, 1, 2...")
        values = [r.get("val_accuracy") for r in rows if r.get("val_accuracy") not in (None, "", "NA")]
        best = max((float(v) for v in values), default=-np.inf)
        if "seconds" in reader.fieldnames:
            bad = [r["seconds"] for r in rows if not (math.isfinite(float(r["seconds"])) and float(r["seconds"]) >= 0)]
            if bad:
                raise ValueError(f"seconds {bad[0]!r} is not a time")
    except (ValueError, TypeError, UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{log_path}: corrupt training log ({exc}); restore it or start a new run") from exc
    return len(rows), best


def _logged_seconds(log_path: Path) -> float | None:
    """The sum of the log's per-epoch `seconds`, or None when a row lacks it (a log written before the column)."""
    if not log_path.exists():
        return None
    with log_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    try:
        return float(sum(float(r["seconds"]) for r in rows)) if rows else None
    except (KeyError, TypeError, ValueError):
        return None


def _log_header(log_path: Path) -> list[str]:
    if not log_path.exists():
        return []
    with log_path.open(newline="") as handle:
        return next(csv.reader(handle), [])


def load_config(run_dir: Path) -> TrainConfig:
    """A run's saved config.json, with named errors for unreadable JSON, unknown or missing keys."""
    path = Path(run_dir) / "config.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable run config ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a run config is a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}; a run config has {', '.join(sorted(known))}")
    return TrainConfig(**data)


def _load_keras(path: Path, missing: str, unreadable: str):
    """A saved Keras model; a missing file is FileNotFoundError(`missing`), one Keras cannot read a ValueError
    (`unreadable`, with {kind}: the error's type), never Keras's own 'file not found' for a bad archive."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {missing}")
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # Keras raises many types (some claiming the file is missing) for a bad archive
        raise ValueError(f"{path}: {unreadable.format(kind=type(exc).__name__)}") from exc


def load_checkpoint(path: Path):
    """A saved Keras model; a corrupt or truncated file is a named ValueError, not 'file not found'."""
    return _load_keras(path, "no such checkpoint", "corrupt or truncated Keras file ({kind}); "
                       "delete it to restart from the one before, or start a new run")


def _copy_weights(source_path: Path, model) -> None:
    """Start `model` from a trained model's weights; a different architecture is a named ValueError."""
    source = _load_keras(source_path, "no such model to start from (--init-from)",
                         "not a readable Keras model ({kind}); --init-from needs a trained .keras file")
    theirs, ours = source.get_weights(), model.get_weights()
    if [w.shape for w in theirs] != [w.shape for w in ours]:
        raise ValueError(f"{source_path}: not the same architecture as {model.name} with {model.output_shape[-1]} "
                         f"outputs (it is {source.name} with {source.output_shape[-1]}); --init-from needs a model "
                         "of the one being trained (same --model and --num-classes)")
    model.set_weights(theirs)


def _resume_state(run_dir: Path, resume: bool) -> tuple[bool, int, float]:
    """(resume, first epoch, best validation so far): a run folder checked before anything is written."""
    ckpt_dir, log_path = run_dir / "checkpoints", run_dir / "log.csv"
    if resume and not (ckpt_dir / "last.keras").exists():
        if not (run_dir / "config.json").exists():
            raise FileNotFoundError(f"{run_dir}: nothing to resume, checkpoints/last.keras is missing")
        resume = False  # a run that failed before its first checkpoint: --resume starts it again
        log_path.unlink(missing_ok=True)
    elif not resume and run_dir.exists() and any(run_dir.iterdir()):
        raise FileExistsError(f"{run_dir} is not empty; use --resume to continue it (or start it again, when it "
                              "never finished an epoch) or pick another --out")
    initial_epoch, best_val = _completed_epochs(log_path) if resume else (0, -np.inf)  # a corrupt log fails now
    return resume, initial_epoch, best_val


def _splits(config: TrainConfig, data):
    """Train / validation / test, with the rendered negatives of an 11-output model, the other writers' forms and the
    extra crops; the hold-out size; and how many forms and extra crops joined training ({"train_forms": n,
    "extra_crops": n}: with --limit, fewer forms than asked)."""
    val_size = min(config.val_size, len(data.x_train) // 10) if config.limit else config.val_size
    splits = split_validation(data, val_size)
    if config.num_classes == 11:
        # Negatives are rendered with a seed of their own: the same crops whatever the training seed.
        n_neg = min(config.negatives, len(splits.x_train) // 5) if config.limit else config.negatives
        splits = with_negatives(splits, n_neg, n_neg // 10 if val_size else 0, NEGATIVES_SEED)
    n_forms = 0
    if config.forms:
        # As the negatives: with --limit, at most a fifth of the training digits (else a tiny run is all forms).
        n_forms = min(config.forms, len(splits.x_train) // 5) if config.limit else config.forms
        splits = with_forms(splits, n_forms, n_forms // 10 if val_size else 0, FORMS_TRAIN_SEED)
    extra = 0
    if config.extra_crops:
        x, y = load_extra_crops(config.extra_crops, config.num_classes)
        splits, extra = with_extra(splits, x, y), len(y)
    return splits, val_size, {"train_forms": n_forms, "extra_crops": extra}


def _metrics(config: TrainConfig, model, splits, data, chosen: Path, run_dir: Path, seconds: float,
             resume: bool, one_hot: int | None, added: dict | None = None) -> tuple[dict, np.ndarray]:
    """The run's metrics.json content, and the test set's probabilities (for the report's pictures)."""
    train_loss, train_acc = model.evaluate(eval_dataset(splits.x_train, splits.y_train, one_hot=one_hot), verbose=0)
    # One pass over the test set gives the metrics and the report's pictures alike.
    test_probs = model.predict(to_model_input(splits.x_test), batch_size=512, verbose=0)
    test_acc = float((test_probs.argmax(1) == splits.y_test).mean())
    picked = test_probs[np.arange(len(splits.y_test)), splits.y_test.astype(int)]
    test_loss = float(-np.log(np.clip(picked, 1e-7, 1.0)).mean())  # sparse categorical cross-entropy
    epochs_done, _ = _completed_epochs(run_dir / "log.csv")
    previous = json.loads((run_dir / "metrics.json").read_text()) if resume and (run_dir / "metrics.json").exists() else {}
    return {
        "model": config.model,
        "params": int(model.count_params()),
        "chosen_checkpoint": chosen.name,
        "train_accuracy": float(train_acc),
        "train_loss": float(train_loss),
        "test_accuracy": float(test_acc),
        "test_loss": float(test_loss),
        "test_errors": int(round((1 - test_acc) * len(splits.y_test))),
        "epochs": epochs_done,
        "train_images": len(splits.x_train),
        "val_images": len(splits.x_val),
        "test_images": len(splits.x_test),
        "train_seconds": logged if (logged := _logged_seconds(run_dir / "log.csv")) is not None
        else seconds + previous.get("train_seconds", 0.0),
        "config": asdict(config),
        "augment": config.resolved_augment(),
        "style": asdict(style_ranges(config.style_p)) if config.style else None,
        "num_classes": config.num_classes,
        "train_negatives": int((splits.y_train == 10).sum()),
        "train_forms": (added or {}).get("train_forms", 0),
        "extra_crops": (added or {}).get("extra_crops", 0),
        "data": data.source,
        "versions": versions(),
    }, test_probs


def train(
    config: TrainConfig, run_dir: Path, resume: bool = False, verbose: int = 0, extra_callbacks: list | None = None
) -> RunResult:
    """Train `config.model` into `run_dir` and evaluate it; returns the chosen model and metrics. Quiet unless
    `verbose` is 1 (a progress bar) or 2 (a line per epoch): Keras writes them to stdout, which the command line
    sends to stderr.

    The chosen model is the best epoch on the validation hold-out (never the
    test set); with no hold-out it is the last epoch.
    """
    check_config(config)
    run_dir = Path(run_dir)
    ckpt_dir = run_dir / "checkpoints"
    resume, initial_epoch, best_val = _resume_state(run_dir, resume)

    keras.utils.set_random_seed(config.seed)
    data = load_mnist(config.data, config.limit)  # before anything is written: bad data leaves no folder behind
    if not resume:
        model = build_model(config.model, config.num_classes)
        if config.init_from:  # checked before anything is written, like the data
            _copy_weights(Path(config.init_from), model)
    teacher = load_teacher(config.teacher) if config.teacher else None  # a bad teacher is refused before writing
    splits, val_size, added = _splits(config, data)  # a bad --extra-crops file is refused before the run folder exists
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    steps = steps_per_epoch(len(splits.x_train), config.batch_size)

    if resume:
        model = load_checkpoint(ckpt_dir / "last.keras")
    else:
        atomic_write_json(run_dir / "config.json", asdict(config), overwrite=True)
        model.compile(optimizer=_optimizer(config, steps * config.epochs), loss=_loss(config), metrics=["accuracy"])
    one_hot = int(model.output_shape[-1]) if config.label_smoothing or teacher is not None else None
    targets = None if teacher is None else soft_targets(teacher, one_hot, config.teacher_weight, config.teacher_temperature)

    train_ds = training_dataset(
        splits.x_train, splits.y_train, config.batch_size, config.seed,
        config.resolved_augment(), first_step=initial_epoch * steps, one_hot=None if targets else one_hot, targets=targets,
        style=style_ranges(config.style_p) if config.style else None,
    )
    val_ds = eval_dataset(splits.x_val, splits.y_val, one_hot=one_hot) if val_size else None
    monitor = "val_accuracy" if val_size else "accuracy"
    callbacks = [
        # The EMA weights are in the model while it is validated and checkpointed
        # (so best.keras holds them); the raw ones while it trains.
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.ema_momentum else []),
        DivergedStops(),  # before the checkpoint: last.keras keeps the epoch before a NaN
        AtomicCheckpoint(ckpt_dir, monitor=monitor, best_so_far=best_val),
        # The CSV's columns are fixed by its first header: an older log without `seconds` is continued without it.
        *([EpochSeconds()] if not resume or not (run_dir / "log.csv").exists()
          or "seconds" in _log_header(run_dir / "log.csv") else []),
        keras.callbacks.CSVLogger(str(run_dir / "log.csv"), append=resume),
        *(extra_callbacks or []),
    ]
    start = time.perf_counter()
    if initial_epoch < config.epochs:
        model.fit(
            train_ds, epochs=config.epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
            validation_data=val_ds, callbacks=callbacks, verbose=verbose, shuffle=False,
        )
    seconds = time.perf_counter() - start

    chosen = ckpt_dir / ("best.keras" if (ckpt_dir / "best.keras").exists() else "last.keras")
    model = load_checkpoint(chosen)
    model_path = run_dir / "model.keras"
    tmp = run_dir / ".model.tmp.keras"
    model.save(tmp)
    os.replace(tmp, model_path)
    metrics, test_probs = _metrics(config, model, splits, data, chosen, run_dir, seconds, resume, one_hot, added)
    atomic_write_json(run_dir / "metrics.json", metrics, overwrite=True)
    return RunResult(run_dir, model_path, metrics, splits.x_test, splits.y_test, test_probs)
