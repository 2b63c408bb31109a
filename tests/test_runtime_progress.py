"""runtime/progress.py and runtime/quiet.py: progress that suits where stderr goes; C libraries' output silenced."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import runtime.progress as progress_module
from runtime.progress import batches, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_plain_lines_with_an_estimate(monkeypatch):
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_S", 0.0)
    log = io.StringIO()
    parts = batches(1000, 100)
    assert list(progress(parts, total=1000, desc="TFLM", unit="images", stream=log,
                         weights=lambda s: s.stop - s.start)) == parts
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("TFLM: 100/1,000 images (10 %)") and "left" in lines[0]
    assert lines[-1].startswith("TFLM: 1,000/1,000 images in")
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()


def test_quick_work_and_disabled_progress_print_nothing():
    log = io.StringIO()
    assert list(progress(range(5), total=5, desc="x", stream=log)) == list(range(5))
    assert list(progress(range(5), total=5, desc="x", stream=Terminal(), enabled=False)) == list(range(5))
    assert log.getvalue() == ""


def test_a_terminal_gets_a_tqdm_bar(monkeypatch):
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
    terminal = Terminal()
    assert sum(progress(range(50), total=50, desc="export", unit="formats", stream=terminal)) == sum(range(50))
    assert "\r" in terminal.getvalue() and "export:" in terminal.getvalue() and "/50 " in terminal.getvalue()


def test_native_output_is_silenced_unless_asked():
    """What a C library writes straight to file descriptors 1 and 2 (as LiteRT's delegate line) is dropped."""
    code = ("import os; from runtime.quiet import native_output_silenced\n"
            "with native_output_silenced():\n    os.write(1, b'native out\\n'); os.write(2, b'native err\\n'); print('py')\n"
            "with native_output_silenced(enabled=False):\n    os.write(2, b'shown\\n')\n"
            "print('after')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "after\n" and proc.stderr == "shown\n"
