"""train/fit.py and train/report.py: a short real training, reports, checkpoint resume."""

from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest

from train.fit import TrainConfig, train


def _png_ok(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


class _StopAfterFirstEpoch(keras.callbacks.Callback):
    """Interrupts a run after epoch 1, as a killed process would (after its checkpoint)."""

    def on_epoch_end(self, epoch, logs=None):
        self.model.stop_training = True


def test_short_real_training_beats_90_percent(mnist_path, tmp_path):
    from train.cli import main

    run = tmp_path / "run"
    code = main(["--model", "cnn_aug", "--epochs", "3", "--limit", "6000", "--lr-schedule", "cosine",
                 "--data", str(mnist_path), "--out", str(run), "--quiet"])
    assert code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    # Held out: the first 6,000 test images, never seen in training or checkpoint choice.
    assert metrics["test_images"] == 6000 and metrics["train_images"] == 5400
    assert metrics["test_accuracy"] > 0.90
    assert metrics["params"] == 342_522 and metrics["augment"] is True
    for name in ("curves", "confusion_percent", "confusion_errors", "misclassified"):
        assert _png_ok(run / f"{name}.png"), name
    matrix = np.array(json.loads((run / "confusion_matrix.json").read_text()))
    assert matrix.sum() == 6000
    assert np.trace(matrix) == pytest.approx(metrics["test_accuracy"] * 6000, abs=0.5)
    reloaded = keras.models.load_model(run / "model.keras")
    assert reloaded.count_params() == 342_522


def test_resume_continues_an_interrupted_run(mnist_path, tmp_path, capsys):
    run = tmp_path / "run"
    config = TrainConfig(model="linear_l2", epochs=3, limit=2000, data=str(mnist_path), lr_schedule="cosine")
    first = train(config, run, extra_callbacks=[_StopAfterFirstEpoch()])
    assert capsys.readouterr().out == ""  # the library is quiet by default (Keras's bar went to stdout)
    assert first.metrics["epochs"] == 1
    (run / "metrics.json").unlink()  # as a stop (Ctrl-C, SIGTERM) leaves it: the first epoch's time is in the log
    steps = -(-1800 // 32)
    last = keras.models.load_model(run / "checkpoints" / "last.keras")
    assert int(last.optimizer.iterations) == steps

    with pytest.raises(FileExistsError, match="not empty"):
        train(config, run, verbose=0)
    resumed = train(config, run, resume=True, verbose=0)
    assert resumed.metrics["epochs"] == 3
    with (run / "log.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    seconds = [float(r["seconds"]) for r in rows]
    assert seconds[0] == pytest.approx(first.metrics["train_seconds"], abs=0.5)  # the first session's epoch
    assert resumed.metrics["train_seconds"] == pytest.approx(sum(seconds))  # counted after the resume too
    last = keras.models.load_model(run / "checkpoints" / "last.keras")
    assert int(last.optimizer.iterations) == 3 * steps


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(TrainConfig(model="mlp", epochs=1), tmp_path, resume=True, verbose=0)


def test_corrupt_run_files_are_named_errors_before_training(mnist_path, tmp_path):
    from train.fit import load_config

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "mlp", "epochs": 1, "colour": "red"}))
    with pytest.raises(ValueError, match="unknown key\\(s\\) colour"):
        load_config(run)
    (run / "config.json").write_text(json.dumps({"model": "linear_l2", "epochs": 2, "data": str(mnist_path)}))
    (run / "checkpoints" / "last.keras").write_bytes(b"PK\x03\x04 not really a keras archive")
    (run / "log.csv").write_text("epoch,accuracy,val_accuracy\n0,0.5,not-a-number\n")
    with pytest.raises(ValueError, match="corrupt training log"):
        train(load_config(run), run, resume=True, verbose=0)
    (run / "log.csv").write_text("epoch,accuracy,val_accuracy\n0,0.5,0.5\n")
    with pytest.raises(ValueError, match="corrupt or truncated Keras file"):
        train(load_config(run), run, resume=True, verbose=0)


def test_a_training_that_failed_early_can_be_rerun_or_resumed(mnist_path, tmp_path):
    from train.cli import main

    run = tmp_path / "run"
    args = ["--model", "linear_l2", "--epochs", "1", "--limit", "500", "--val-size", "0", "--out", str(run), "--quiet"]
    assert main([*args, "--data", str(tmp_path / "missing.npz")]) == 2
    assert main([*args, "--data", str(mnist_path)]) == 0  # the failed run left nothing in the way
    # A run killed before its first checkpoint (config written, no last.keras): --resume starts it again.
    stuck = tmp_path / "stuck"
    (stuck / "checkpoints").mkdir(parents=True)
    (stuck / "config.json").write_text(json.dumps({"model": "linear_l2", "epochs": 1, "limit": 500, "val_size": 0,
                                                   "data": str(mnist_path)}))
    assert main(["--resume", str(stuck), "--quiet"]) == 0
    assert json.loads((stuck / "metrics.json").read_text())["epochs"] == 1


def test_ema_weights_are_the_ones_validated_and_kept(mnist_path, tmp_path):
    """With --ema the model validated each epoch, and the one kept, is the moving average; label smoothing reaches the loss."""
    from runtime.mnist_data import load_mnist
    from train.dataset import eval_dataset, split_validation

    config = TrainConfig(model="linear_l2", epochs=2, limit=2000, data=str(mnist_path), ema_momentum=0.9,
                         label_smoothing=0.1)
    result = train(config, tmp_path / "run", verbose=0)
    kept = keras.models.load_model(result.model_path)
    assert kept.optimizer.use_ema and kept.loss.get_config()["label_smoothing"] == 0.1
    with (tmp_path / "run" / "log.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    best = max(rows, key=lambda r: float(r["val_accuracy"]))
    splits = split_validation(load_mnist(str(mnist_path), 2000), 200)
    val_loss, val_accuracy = kept.evaluate(eval_dataset(splits.x_val, splits.y_val, one_hot=10), verbose=0)
    # The checkpoint holds exactly the weights whose validation the log recorded (the EMA's, not the raw ones).
    assert val_loss == pytest.approx(float(best["val_loss"]), rel=1e-5)
    assert val_accuracy == pytest.approx(float(best["val_accuracy"]))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["ema_momentum"] == 0.9
    assert result.metrics["train_accuracy"] > 0.8


def test_init_from_starts_from_a_trained_model_and_refuses_another_architecture(mnist_path, tmp_path):
    """--init-from: a fine-tune starts where the given model ended (its first epoch is already good);
    a model of another architecture or output count is a named error before anything is trained."""
    first = tmp_path / "first"
    train(TrainConfig(model="linear_l2", epochs=2, limit=3000, data=str(mnist_path)), first, verbose=0)
    tuned = train(TrainConfig(model="linear_l2", epochs=1, limit=3000, data=str(mnist_path), learning_rate=1e-5,
                              init_from=str(first / "model.keras")), tmp_path / "tuned", verbose=0)
    scratch = train(TrainConfig(model="linear_l2", epochs=1, limit=3000, data=str(mnist_path), learning_rate=1e-5),
                    tmp_path / "scratch", verbose=0)
    assert tuned.metrics["test_accuracy"] > scratch.metrics["test_accuracy"] + 0.2
    with pytest.raises(ValueError, match="not the same architecture"):
        train(TrainConfig(model="cnn", epochs=1, limit=3000, data=str(mnist_path),
                          init_from=str(first / "model.keras")), tmp_path / "other", verbose=0)
    assert not (tmp_path / "other").exists()


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((3, 28, 28), np.uint8)}, "not an .npz holding x and y"),
    ({"x": np.zeros((3, 28, 28), np.float32), "y": np.zeros(3, np.uint8)}, "x must be uint8 (N, 28, 28)"),
    ({"x": np.zeros((3, 28, 27), np.uint8), "y": np.zeros(3, np.uint8)}, "x must be uint8 (N, 28, 28)"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.zeros(2, np.uint8)}, "one integer label per image"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([0, 11, 2])}, "labels must lie in 0..10, found 0..11"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([0.0, 1.0, 2.0])}, "one integer label per image"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([True, False, True])}, "one integer label per image"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([1, 2, 3], "m8[s]")}, "one integer label per image"),
    ({"x": np.zeros((0, 28, 28), np.uint8), "y": np.zeros(0, np.uint8)}, "empty (no crops)"),
    ({"x": np.zeros((3, 28, 28), np.uint8), "y": np.array([b"a", b"b", b"c"], dtype=object)}, "not an .npz holding x and y"),
])
def test_extra_crops_that_are_not_labelled_28x28_images_are_refused(tmp_path, arrays, message):
    from train.dataset import load_extra_crops

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        load_extra_crops(_npz(tmp_path / "c.npz", **arrays), 11)
    packed = tmp_path / "packed.npz"  # compressed, then one byte of its deflate stream flipped
    np.savez_compressed(packed, x=np.arange(3 * 784, dtype=np.uint8).reshape(3, 28, 28), y=np.zeros(3, np.uint8))
    flipped = bytearray(packed.read_bytes())
    flipped[len(flipped) // 3] ^= 0xFF
    for name, data in (("junk.npz", b"not a zip"), ("zero.npz", b""), ("cut.npz", (tmp_path / "c.npz").read_bytes()[:40]),
                       ("flipped.npz", bytes(flipped))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError, match="not an .npz"):
            load_extra_crops(tmp_path / name, 11)
    np.save(tmp_path / "one.npy", np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"a single array \(\.npy\)"):
        load_extra_crops(tmp_path / "one.npy", 11)


def test_extra_crops_join_training_only(mnist_path, tmp_path):
    from runtime.mnist_data import load_mnist
    from train.dataset import load_extra_crops, split_validation, with_extra

    x = np.full((4, 28, 28), 7, np.uint8)
    splits = split_validation(load_mnist(mnist_path, 600), 60)
    joined = with_extra(splits, *load_extra_crops(_npz(tmp_path / "c.npz", x=x, y=np.array([1, 2, 10, 3])), 11))
    assert len(joined.x_train) == len(splits.x_train) + 4 and list(joined.y_train[-4:]) == [1, 2, 10, 3]
    assert joined.x_val is splits.x_val and joined.x_test is splits.x_test
    with pytest.raises(ValueError, match="train with --num-classes 11"):
        load_extra_crops(tmp_path / "c.npz", 10)  # a 10-output model has no class 10


def test_a_refused_extra_crops_file_leaves_no_run_folder(mnist_path, tmp_path, capsys):
    """The crops are checked before the run folder exists: the same --out works once the file is fixed."""
    from train.cli import main

    bad = _npz(tmp_path / "bad.npz", x=np.zeros((2, 28, 28), np.uint8), y=np.array([0.5, 1.5]))
    run = tmp_path / "run"
    argv = ["--num-classes", "11", "--negatives", "100", "--limit", "500", "--val-size", "50", "--epochs", "1",
            "--data", str(mnist_path), "--out", str(run), "--quiet", "--extra-crops"]
    assert main(argv + [str(bad)]) == 2
    assert "one integer label per image" in capsys.readouterr().err
    assert not run.exists()


def test_metrics_count_the_forms_that_joined_training(mnist_path, tmp_path, capsys):
    """--forms under --limit is capped at a fifth of the training digits; metrics.json says how many joined (the
    config keeps the count asked: the fresh-clone review could not tell from the run folder)."""
    import json

    from train.cli import main

    run = tmp_path / "run"
    assert main(["--model", "linear_l2", "--forms", "1000", "--limit", "500", "--val-size", "0", "--epochs", "1",
                 "--data", str(mnist_path), "--out", str(run), "--quiet"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["forms"] == 1000
    assert metrics["train_forms"] == 500 // 5 and metrics["train_images"] == 500 + 100
    # ...and the console says so (it trained on 100 forms without a word: fresh-clone review)
    assert ("mnist-edge train: --forms 1000: 100 joined training (at most a fifth of the training digits under --limit)"
            in capsys.readouterr().err)


def test_a_corrupt_seconds_column_is_a_corrupt_log_and_a_nan_loss_ends_the_run(mnist_path, tmp_path):
    """Attack review: a log row's seconds edited to nan, inf or -1e6 reached metrics.json (NaN is not JSON); a
    --teacher-temperature near 0 gave a NaN loss and a run that reported success with an 8.8 % model."""
    run = tmp_path / "run"
    config = TrainConfig(model="linear_l2", epochs=2, limit=600, data=str(mnist_path))
    train(config, run, extra_callbacks=[_StopAfterFirstEpoch()])
    good = (run / "log.csv").read_text()
    header, row = good.splitlines()[:2]
    at = header.split(",").index("seconds")
    for value in ("nan", "inf", "-1000000", "abc", ""):
        cells = row.split(",")
        cells[at] = value
        (run / "log.csv").write_text(header + "\n" + ",".join(cells) + "\n")
        with pytest.raises(ValueError, match="corrupt training log"):
            train(config, run, resume=True)
    diverging = TrainConfig(model="linear_l2", epochs=2, limit=600, data=str(mnist_path), learning_rate=1e38)
    with pytest.raises(ValueError, match="training diverged"):
        train(diverging, tmp_path / "nan")
