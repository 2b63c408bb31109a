"""tf.data pipelines: a fixed validation hold-out, scaling to [0, 1], augmentation in training only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from runtime.mnist_data import MnistData, to_model_input
from train.augment import NOTEBOOK_RANGES, AugmentRanges, StyleRanges, augment_batch, style_batch

# The validation hold-out is drawn with its own fixed seed, so it is the same
# images whatever the training seed: runs are comparable.
VALIDATION_SEED = 20261125


@dataclass(frozen=True)
class Splits:
    """uint8 images (N, 28, 28) and labels for training, validation and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def with_negatives(splits: Splits, n_train: int, n_val: int, seed: int) -> Splits:
    """Add rendered "not a digit" crops (label 10) to training and validation; the test set stays MNIST.

    Fragments of digits are cut from each split's own digits, so no validation
    digit leaks into training.
    """
    from train.negatives import TRAIN_FONTS, render_negatives
    from train.models import NOT_A_DIGIT_CLASS

    neg_train, _ = render_negatives(n_train, seed, TRAIN_FONTS, splits.x_train, splits.y_train)
    neg_val, _ = render_negatives(n_val, seed + 1, TRAIN_FONTS, splits.x_val, splits.y_val)
    label = np.uint8(NOT_A_DIGIT_CLASS)
    return Splits(
        np.concatenate([splits.x_train, neg_train]), np.concatenate([splits.y_train, np.full(n_train, label)]),
        np.concatenate([splits.x_val, neg_val]), np.concatenate([splits.y_val, np.full(n_val, label)]),
        splits.x_test, splits.y_test,
    )


def with_forms(splits: Splits, n_train: int, n_val: int, seed: int) -> Splits:
    """Add digits rewritten as other writers form them (train/digit_forms.py: crossed 7s, flagged 1s, slashed 0s), drawn from
    each split's own digits of the form's class, in equal shares, to training and validation."""
    if n_train < 0 or n_val < 0:
        raise ValueError(f"form counts must be >= 0, got {n_train} and {n_val}")
    rng = np.random.default_rng(seed)
    x_train, y_train = _with_forms_of(splits.x_train, splits.y_train, n_train, rng, seed, "train")
    x_val, y_val = _with_forms_of(splits.x_val, splits.y_val, n_val, rng, seed + 100, "val")
    return Splits(x_train, y_train, x_val, y_val, splits.x_test, splits.y_test)


def _with_forms_of(x: np.ndarray, y: np.ndarray, total: int, rng: np.random.Generator, seed: int, split: str):
    """One split's images and labels with `total` forms of its own digits appended."""
    from train.digit_forms import FORM_DIGITS, written_as

    xs, ys = [x], [y]
    for k, (form, digit) in enumerate(FORM_DIGITS.items()):
        count = total // len(FORM_DIGITS) + (k < total % len(FORM_DIGITS))
        if not count:
            continue
        pool = np.nonzero(y == digit)[0]
        if not len(pool):
            raise ValueError(f"no {digit}s in the {split} split to write as {form}")
        chosen = rng.choice(pool, count, replace=count > len(pool))
        xs.append(written_as(x[chosen], form, seed + k))
        ys.append(y[chosen])
    return np.concatenate(xs), np.concatenate(ys)


def load_extra_crops(path: str | Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Labelled 28x28 crops from an .npz (x: uint8 (N, 28, 28), y: labels below `num_classes`), e.g. the
    reader's own crops of generated frames (`mnist-edge bench crops`); ValueError when they are not that."""
    import zipfile
    import zlib

    where = f"--extra-crops {path}"
    if Path(path).is_dir():
        raise ValueError(f"{where}: a folder; give the .npz file")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array (.npy), not an .npz")
        with data:
            x, y = data["x"], data["y"]
    except FileNotFoundError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"{where}: not an .npz holding x and y ({exc or type(exc).__name__})") from exc
    except MemoryError as exc:  # a header claiming an array larger than memory
        raise ValueError(f"{where}: its arrays do not fit in memory ({exc})") from exc
    if not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray):
        raise ValueError(f"{where}: not an .npz holding x and y arrays")
    if x.dtype != np.uint8 or x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"{where}: x must be uint8 (N, 28, 28), got {x.dtype} {x.shape}")
    if not len(x):
        raise ValueError(f"{where}: empty (no crops)")
    if y.shape != (len(x),) or y.dtype.kind not in "iu":  # not bool, float, timedelta (NumPy calls it an integer)
        raise ValueError(f"{where}: y must hold one integer label per image, got {y.dtype} {y.shape} for {len(x)} images")
    if y.min() < 0 or y.max() >= num_classes:
        hint = " (label 10 is \"not a digit\": train with --num-classes 11)" if num_classes == 10 and y.max() == 10 else ""
        raise ValueError(f"{where}: labels must lie in 0..{num_classes - 1}, found {int(y.min())}..{int(y.max())}{hint}")
    return x, y.astype(np.uint8)


def with_extra(splits: Splits, x: np.ndarray, y: np.ndarray) -> Splits:
    """Training gets the extra crops too; validation and test stay as they are."""
    return Splits(np.concatenate([splits.x_train, x]), np.concatenate([splits.y_train, y]),
                  splits.x_val, splits.y_val, splits.x_test, splits.y_test)


def split_validation(data: MnistData, val_size: int) -> Splits:
    """Hold out `val_size` training images (fixed choice) for checkpoint selection."""
    n = len(data.x_train)
    if not 0 <= val_size < n:
        raise ValueError(f"validation size must be in [0, {n - 1}], got {val_size}")
    order = np.random.default_rng(VALIDATION_SEED).permutation(n)
    val_idx, train_idx = np.sort(order[:val_size]), np.sort(order[val_size:])
    return Splits(
        data.x_train[train_idx], data.y_train[train_idx],
        data.x_train[val_idx], data.y_train[val_idx],
        data.x_test, data.y_test,
    )


def steps_per_epoch(n_images: int, batch_size: int) -> int:
    return -(-n_images // batch_size)


def training_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    seed: int,
    augment: bool,
    ranges: AugmentRanges = NOTEBOOK_RANGES,
    first_step: int = 0,
    style: StyleRanges | None = None,
    one_hot: int | None = None,
    targets=None,
) -> tf.data.Dataset:
    """An endless, shuffled, batched stream; batch k is augmented with seed (seed, k).

    `first_step` continues the augmentation stream where a resumed run left off.
    `style` (with augment) adds writer-style changes before the affine map;
    `one_hot` (a class count) gives one-hot labels, for label smoothing;
    `targets` maps each augmented batch's (images, int labels) to (images, targets): a teacher's
    (train.distill.soft_targets; `one_hot` None).
    """

    def augmented(step, batch):
        seed_pair = tf.stack([tf.cast(seed, tf.int64), step])
        images = style_batch(batch[0], seed_pair, style) if style is not None else batch[0]
        return augment_batch(images, seed_pair, ranges), batch[1]

    ds = tf.data.Dataset.from_tensor_slices((to_model_input(x), _labels(y, one_hot)))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(batch_size).enumerate(start=first_step)
    if augment:
        ds = ds.map(augmented, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        ds = ds.map(lambda step, batch: batch)
    if targets is not None:
        ds = ds.map(targets)
    return ds.prefetch(tf.data.AUTOTUNE)


def eval_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 512, one_hot: int | None = None) -> tf.data.Dataset:
    """Unaugmented, unshuffled batches for evaluation."""
    return tf.data.Dataset.from_tensor_slices((to_model_input(x), _labels(y, one_hot))).batch(batch_size)


def _labels(y: np.ndarray, one_hot: int | None) -> np.ndarray:
    """int32 class indices, or float32 one-hot rows over `one_hot` classes."""
    y = y.astype(np.int32)
    return y if one_hot is None else np.eye(one_hot, dtype=np.float32)[y]
