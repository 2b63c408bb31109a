"""train/cli.py and the `mnist-edge` dispatcher: argument errors and the zoo summary."""

from __future__ import annotations

import json
import sys

import pytest

import mnist_edge
from train.cli import main


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "0"], "--epochs must be positive"),
        (["--batch-size", "-1"], "--batch-size must be positive"),
        (["--limit", "0"], "--limit must be positive"),
        (["--model", "resnet"], "invalid choice: 'resnet'"),
        (["--augment", "--no-augment"], "not allowed with argument"),
        (["--all", "--resume", "x"], "cannot be combined with --all"),
        (["--lr", "nan"], "--lr must be a positive number, got nan"),
        (["--lr", "inf"], "--lr must be a positive number, got inf"),
        (["--lr", "0"], "--lr must be a positive number"),
        (["--seed", "-1"], "--seed must be 0 or more"),
        (["--ema", "nan"], "--ema must be in (0, 1)"),
        (["--label-smoothing", "nan"], "--label-smoothing must be in [0, 1)"),
        (["--style-p", "inf"], "--style-p must be in [0, 1]"),
        (["--out", "/dev/full"], "--out /dev/full: not a folder"),
        (["--init-from", "models/cnn_aug.keras", "--all"], "cannot be combined with --all"),
        (["--init-from", "models/cnn_aug.keras", "--resume", "runs/x"], "--init-from starts a new one"),
        (["--resume", "runs/x", "--epochs", "3"], "--epochs would not be used"),  # was ignored silently
        (["--resume=runs/x", "--lr=0.1", "--quiet"], "--lr would not be used"),
        (["--init-from", "models"], "--init-from models: a folder"),
        (["--init-from", "models/none.keras"], "--init-from models/none.keras: no such file"),
        (["--extra-crops", "models/none.npz"], "--extra-crops models/none.npz: no such file"),
    ],
)
def test_argument_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_corrupt_init_from_model_is_named_and_leaves_no_run_folder(mnist_path, tmp_path, capsys):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 not a zip")
    code = main(["--init-from", str(broken), "--model", "linear_l2", "--limit", "500", "--epochs", "1",
                 "--data", str(mnist_path), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "not a readable Keras model" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_missing_data_file_is_a_clear_error(tmp_path, capsys):
    code = main(["--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "run")])
    assert code == 2
    assert "missing.npz: no such file" in capsys.readouterr().err


def test_an_out_folder_that_cannot_be_made_is_a_clear_error(mnist_path, tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    code = main(["--model", "linear_l2", "--epochs", "1", "--limit", "200", "--val-size", "0", "--quiet",
                 "--data", str(mnist_path), "--out", str(tmp_path / "a_file" / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write the run:" in err and "a_file" in err and "Traceback" not in err


@pytest.mark.parametrize("written, hint", [
    ([], "nothing was written: start it again"),
    (["config.json"], "no epoch was saved yet: start it again with --resume {run}"),
    (["config.json", "checkpoints/last.keras"], "continue with --resume {run}")])
def test_ctrl_c_is_one_line_and_130(tmp_path, capsys, monkeypatch, written, hint):
    """The hint names a command that works: --resume continues a checkpoint and starts again a run that wrote its
    config but no epoch (its folder is not empty: the same command again is refused, the attack review found)."""
    import train.cli

    def interrupted(config, run_dir, resume, verbose):
        for name in written:
            (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (run_dir / name).write_text("x")
        raise KeyboardInterrupt

    monkeypatch.setattr(train.cli, "run_one", interrupted)
    assert main(["--model", "linear_l2", "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert err == f"mnist-edge train: interrupted; {hint.format(run=tmp_path / 'run')}\n"


def test_a_stop_before_the_out_folder_is_checked_leaves_another_run_alone(tmp_path, capsys, monkeypatch):
    """An --out that holds another run is refused unless resumed; stopped before that check, the hint must not
    send the user to --resume the other run (the attack review)."""
    import train.cli

    other = tmp_path / "other"
    (other / "checkpoints").mkdir(parents=True)
    (other / "checkpoints" / "last.keras").write_text("another run's checkpoint")

    def interrupted(config, run_dir, resume, verbose):
        raise KeyboardInterrupt

    monkeypatch.setattr(train.cli, "run_one", interrupted)
    assert main(["--model", "cnn", "--out", str(other)]) == 130
    assert capsys.readouterr().err == (f"mnist-edge train: interrupted; nothing was written ({other} held files before "
                                       "and is left as it was)\n")


def test_sigterm_is_one_line_and_143(tmp_path, capsys, monkeypatch):
    """`timeout` or systemctl stop during training: the same report as Ctrl-C (it died silently: fresh-clone review)."""
    import os
    import signal

    import train.cli

    def stopped(config, run_dir, resume, verbose):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the training")

    monkeypatch.setattr(train.cli, "run_one", stopped)
    assert main(["--model", "linear_l2", "--out", str(tmp_path / "run")]) == 128 + signal.SIGTERM
    err = capsys.readouterr().err
    assert err == "mnist-edge train: stopped by SIGTERM; nothing was written: start it again\n"


def _catching(pid: int, signum: int) -> bool:
    """Has process `pid` a handler for `signum` (Linux: /proc/PID/status, SigCgt)?"""
    from pathlib import Path

    status = Path(f"/proc/{pid}/status").read_text()
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(mask >> (signum - 1) & 1)


@pytest.mark.parametrize("after", [0.0, 0.4])
def test_sigterm_while_the_command_starts_is_one_line_and_143(tmp_path, mnist_path, after):
    """NumPy and TensorFlow take seconds to load; a stop then ended the process by the signal itself, silently (exit
    -15: the attack reviews). Sent as soon as the dispatcher catches SIGTERM (the command is importing its
    modules; without /proc, at 0.15 s), and 0.4 s later (TensorFlow is loading)."""
    import os
    import signal
    import subprocess
    import time

    env = {**os.environ, "MNIST_NPZ": str(mnist_path)}
    process = subprocess.Popen([sys.executable, "-m", "train", "--model", "linear_l2", "--epochs", "1", "--limit", "200",
                                "--out", str(tmp_path / "run")], stderr=subprocess.PIPE, text=True, env=env)
    if os.path.exists(f"/proc/{process.pid}/status"):
        deadline = time.monotonic() + 30
        while not _catching(process.pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.002)
    else:
        time.sleep(0.15)
    time.sleep(after)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err.strip().splitlines()[-1] and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_resumed_config_with_a_nan_learning_rate_is_refused():
    from train.fit import TrainConfig, check_config

    with pytest.raises(ValueError, match="learning rate must be a positive number, got nan"):
        check_config(TrainConfig(model="linear_l2", learning_rate=float("nan")))


def test_resume_of_a_non_run_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--resume", str(tmp_path)])
    assert "not a run folder" in capsys.readouterr().err


def test_all_writes_the_summary_table(mnist_path, tmp_path):
    zoo = tmp_path / "zoo"
    assert main(["--all", "--epochs", "1", "--limit", "1500", "--val-size", "0",
                 "--data", str(mnist_path), "--out", str(zoo), "--quiet"]) == 0
    rows = json.loads((zoo / "summary.json").read_text())
    assert [r["model"] for r in rows] == ["linear_l1", "linear_l2", "linear_elasticnet", "mlp",
                                          "mlp_dropout", "cnn", "cnn_aug", "edge_cnn"]
    # Far above chance (0.10) after one short epoch; not edge_cnn, whose batch norm's running statistics
    # (momentum 0.99) are still near their initial values after 47 steps, so its evaluation says little yet.
    assert all(0.25 < r["test_accuracy"] <= 1.0 for r in rows if r["model"] != "edge_cnn")
    table = (zoo / "summary.md").read_text()
    assert "| cnn_aug |" in table and "99.46" in table
    # A second --all reuses the finished runs instead of training again.
    mtime = (zoo / "cnn" / "model.keras").stat().st_mtime
    assert main(["--all", "--limit", "1500", "--data", str(mnist_path), "--out", str(zoo), "--quiet"]) == 0
    assert (zoo / "cnn" / "model.keras").stat().st_mtime == mtime


def test_console_script_dispatch(capsys):
    assert mnist_edge.main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err
    assert mnist_edge.main(["--help"]) == 0
    assert "train" in capsys.readouterr().out


def test_keras_progress_goes_to_stderr_and_the_result_to_stdout(mnist_path, tmp_path, capsys):
    assert main(["--model", "linear_l2", "--epochs", "1", "--limit", "1500", "--val-size", "0",
                 "--data", str(mnist_path), "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1].startswith("linear_l2: test accuracy") and len(out.splitlines()) == 1, out
    assert "step" in err  # Keras's progress bar: a log, on stderr
