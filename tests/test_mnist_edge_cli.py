"""mnist_edge.py: the dispatcher's version, help and missing-extra messages."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

import mnist_edge


def run_cli(*args: str, block: str | None = None) -> subprocess.CompletedProcess:
    """Run `mnist-edge ARGS` in a fresh interpreter; `block` makes that top-level module unimportable."""
    prelude = "import sys; " + (f"sys.modules[{block!r}] = None; " if block else "")
    code = prelude + f"import mnist_edge; sys.exit(mnist_edge.main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_version_is_the_installed_distribution():
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip().startswith("mnist-edge ")
    assert proc.stdout.split()[1][0].isdigit()


def test_unknown_command_is_exit_2_on_stderr():
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    assert "unknown command 'no-such-command'" in proc.stderr and proc.stdout == ""


def test_no_command_is_exit_2_with_an_error_line_on_stderr():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stderr.startswith("mnist-edge: a command is required") and "commands:" in proc.stderr
    assert proc.stdout == ""


def test_a_missing_extra_names_the_extra_and_exits_2():
    proc = run_cli("train", "--epochs", "1", block="keras")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert 'pip install -e ".[train]"' in proc.stderr


def test_check_aarch64_help_is_not_an_error():
    proc = run_cli("check-aarch64", "--help")
    assert proc.returncode == 0 and "AARCH64_IMAGES" in proc.stdout


def test_every_missing_module_maps_to_a_declared_extra():
    text = open(mnist_edge.__file__.replace("mnist_edge.py", "pyproject.toml")).read()
    for extra in set(mnist_edge.EXTRA_FOR_MODULE.values()):
        assert f"\n{extra} = [" in text, extra


def test_ctrl_c_while_a_subcommand_loads_is_one_line_and_exit_130(monkeypatch, capsys):
    """Ctrl-C in the first ~0.15 s of `python -m runtime` or `mnist-edge demo` (NumPy and OpenCV still
    importing) printed a KeyboardInterrupt traceback, and so did one while `mnist-edge train` loaded TensorFlow
    or `demo` checked its arguments (attack review); each is one line and 128 + the signal, as a later stop is."""
    def loading(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(mnist_edge.importlib, "import_module", loading)
    assert mnist_edge.run("predict", [], label="python -m runtime") == 130
    assert capsys.readouterr().err.strip() == "python -m runtime: interrupted (Ctrl-C) while starting"

    class Stopped(KeyboardInterrupt):  # as runtime/stops.py raises SIGTERM
        signum = signal.SIGTERM

    class Loaded:
        @staticmethod
        def main(argv):
            raise Stopped

    monkeypatch.setattr(mnist_edge.importlib, "import_module", lambda name: Loaded)
    assert mnist_edge.run("train", []) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip() == "mnist-edge train: stopped by SIGTERM"


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_stop_while_a_subcommand_is_imported_is_one_line(tmp_path, signame):
    """The dispatcher catches SIGTERM and SIGHUP before it imports the subcommand: a stop while its modules load
    (NumPy, OpenCV, TensorFlow: up to seconds) killed the process by the signal itself, silently (attack review)."""
    (tmp_path / "slow_subcommand.py").write_text(
        f"import os, signal, time\nos.kill(os.getpid(), signal.{signame})\ntime.sleep(30)\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import mnist_edge; "
            "mnist_edge.SUBCOMMANDS['slow'] = ('slow_subcommand', 'a test'); sys.exit(mnist_edge.run('slow', []))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 128 + getattr(signal, signame), done.stderr
    assert done.stderr == f"mnist-edge slow: stopped by {signame} while starting\n"
