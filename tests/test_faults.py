"""Fault injection (issue 11): stop signals during a recording, SIGKILL during an export, threads sharing one
predictor, read-only folders and a full disk. Real processes, real signals, real MNIST."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_demo.cli import main as camera_main
from runtime.manifest import SWAP_JOURNAL, ManifestError, load_manifest, sha256_of
from runtime.predictor import load_predictor

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}


def read_only_dir(tmp_path: Path) -> Path:
    """A folder this process cannot create files in: chmod 555, or (as root, whom chmod does not stop) /sys."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        return Path("/sys")
    return folder


# ---- signals during a recording --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def long_video(tmp_path_factory, mnist) -> Path:
    """A 2,000-frame video of MNIST digits: long enough to still be playing when the signal comes."""
    path = tmp_path_factory.mktemp("video") / "long.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (160, 120))
    for k in range(2000):
        canvas = np.full((120, 160, 3), 255, np.uint8)
        digit = cv2.resize(255 - mnist.x_test[k % 100], (84, 84))
        canvas[18:102, 38:122] = digit[..., None]
        writer.write(canvas)
    writer.release()
    return path


def _part_lines(folder: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in folder.glob(".j.*.part.jsonl"))


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGHUP", "timeout"])
def test_every_stop_signal_finishes_the_recording(tmp_path, long_video, how):
    command = [sys.executable, "-m", "camera_demo", "--headless", "--source", str(long_video),
               "--record", str(tmp_path / "r.mp4"), "--jsonl", str(tmp_path / "j.jsonl")]
    if how == "timeout":  # what a cron time limit runs: timeout forwards its SIGTERM to the demo
        command = ["timeout", "120", *command]
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while _part_lines(tmp_path) < 5:
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM if how == "timeout" else getattr(signal, how))
    _, err = process.communicate(timeout=60)
    expected = {"SIGINT": 130, "SIGTERM": 0, "SIGHUP": 129}.get(how)  # SIGTERM: asked to stop, a clean end
    if expected is not None:
        assert process.returncode == expected, err.decode()
    lines = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    assert 5 <= len(lines) < 2000
    video = cv2.VideoCapture(str(tmp_path / "r.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == len(lines)  # every frame read is in the video
    ok, frame = video.read()
    assert ok and frame.shape == (120, 160, 3)
    assert not list(tmp_path.glob(".*part*"))  # temp files moved into place, none left behind


def test_first_signal_asks_second_breaks_handlers_restored():
    from camera_demo.stopping import Stopped, stop_on_signals

    before, before_hup = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    with pytest.raises(Stopped):
        with stop_on_signals() as stop:
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.2)  # the handler runs at the next bytecode: the first signal only asks
            assert stop.signum == signal.SIGHUP
            os.kill(os.getpid(), signal.SIGTERM)  # the second breaks out of a loop that is stuck
            time.sleep(5)
    assert signal.getsignal(signal.SIGTERM) == before and signal.getsignal(signal.SIGHUP) == before_hup


def test_the_same_sigterm_twice_at_once_is_one_request_but_a_second_ctrl_c_breaks_out():
    """coreutils `timeout` sends SIGTERM to the command and to its process group: the demo gets it twice.
    A person's second Ctrl-C, however quick, still breaks out of a stuck loop."""
    from camera_demo.stopping import Stopped, stop_on_signals

    with stop_on_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
        assert stop.signum == signal.SIGTERM
    with pytest.raises(Stopped):
        with stop_on_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)


def test_serve_takes_a_doubled_sigterm_as_one_request():
    from camera_demo.broadcast import Broadcast
    from camera_demo.serve import stop_on_signals as serve_stop_on_signals

    hub = Broadcast()
    with serve_stop_on_signals(hub):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)
    assert hub.stop_reason == "SIGTERM"
    hub = Broadcast()
    with pytest.raises(KeyboardInterrupt):
        with serve_stop_on_signals(hub):
            os.kill(os.getpid(), signal.SIGHUP)
            time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)


# ---- kills during an export ------------------------------------------------------------------------------

def _export_set(folder: Path) -> str:
    """Assert the invariant: every manifest entry matches its file, the micro bundle holds the int8 model; its sha."""
    manifest = load_manifest(folder)
    for artifact in manifest.artifacts.values():
        artifact.verify()
    int8 = manifest.artifact("tflite-int8").path
    bundle = json.loads((folder / "micro" / "bundle.json").read_text())
    assert bundle["model_sha256"] == sha256_of(int8) == sha256_of(folder / "micro" / "model.tflite")
    assert manifest.data["calibration"]["sha256"] == sha256_of(folder / "calibration_indices.json")
    return sha256_of(int8)


def _export_killed_at(point: str, out: Path, npz: Path) -> None:
    env = {**ENV, "MNIST_EDGE_EXPORT_KILL_AT": point}
    # Another calibration than the shipped one makes a new set. This test is about the kill, not the parity, but the
    # export must pass to publish: with the model of 2026-11-27 afternoon, seed 77 quantizes one of the 1,000 images
    # to a near tie that TFLM and LiteRT break differently (refused, rightly); seed 78 passes, at a 0.10 pp drop.
    run = subprocess.run([sys.executable, "-m", "export", "--formats", "tflite-int8", "--calibration-seed", "78",
                          "--calibration-size", "100", "--max-drop-quant", "0.3", "--data", str(npz), "--out", str(out),
                          "--force", "--quiet", "--no-cpp"],
                         env=env, capture_output=True, timeout=240)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]


@pytest.fixture(scope="module")
def small_npz(mnist, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "mnist_small.npz"
    # 1,000 test images: with 200, one image the int8 model reads differently is 0.5 % of agreement, and the
    # export (rightly) refuses to publish a format under 99.8 % (the model of 2026-11-27 has one in the first 200).
    np.savez(path, x_train=mnist.x_train[:2000], y_train=mnist.y_train[:2000],
             x_test=mnist.x_test[:1000], y_test=mnist.y_test[:1000])
    return path


def _shipped_copy(folder: Path) -> Path:
    """The shipped export (the 'old set'), without the files that are not the export's."""
    folder.mkdir()
    for path in MODELS.iterdir():
        if path.name == "micro":
            shutil.copytree(path, folder / "micro")
        elif path.is_file():
            shutil.copy2(path, folder / path.name)
    return folder


def test_a_killed_export_leaves_the_old_set_or_the_new_one(tmp_path, small_npz):
    old = _export_set(_shipped_copy(tmp_path / "old"))

    # Killed after the new int8 file was written (the case), then once the whole new set is staged.
    out = _shipped_copy(tmp_path / "out")
    _export_killed_at("written:tflite-int8", out, small_npz)
    assert _export_set(out) == old
    _export_killed_at("staged", out, small_npz)
    assert _export_set(out) == old
    staged = tmp_path / "staged"
    shutil.copytree(out, staged, symlinks=True)  # old set + a complete staging folder: replayed below

    from export.staging import STAGING_PREFIX, recover

    recover(out)
    assert _export_set(out) == old and not list(out.glob(".export-*"))

    # Killed during the swap itself: readers refuse the folder until recovery, which rolls forward.
    news = set()
    for point in ("committed", "swap:manifest.json", "swap:micro", "swapped"):
        case = tmp_path / point.replace(":", "_")
        shutil.copytree(staged, case, symlinks=True)
        staging = next(case.glob(f"{STAGING_PREFIX}*"))
        run = subprocess.run([sys.executable, "-c", f"from export.staging import commit; commit({str(staging)!r}, {str(case)!r})"],
                             env={**ENV, "MNIST_EDGE_EXPORT_KILL_AT": point}, capture_output=True, timeout=60)
        assert run.returncode == -signal.SIGKILL, run.stderr.decode()
        if (case / SWAP_JOURNAL).exists():
            for model, manifest in (("tflite-int8", case), (case / "mnist_cnn.int8.tflite", None)):
                with pytest.raises(ManifestError, match="stopped while swapping"):
                    load_predictor(model, manifest=manifest)
        else:
            news.add(_export_set(case))
        recover(case)
        news.add(_export_set(case))
        assert not list(case.glob(".export-*"))
    assert len(news) == 1 and news != {old}  # every case ends with the same, new, complete set


# ---- threads sharing one predictor -----------------------------------------------------------------------

@pytest.mark.parametrize("fmt, design", [("tflite-int8", "per thread"), ("tflite-int8", "lock"), ("onnx-fp32", "per thread")])
def test_one_predictor_shared_by_threads_answers_as_one_thread(mnist, fmt, design):
    from runtime.predictor import Predictor

    predictor = load_predictor(fmt, threads=1)
    if design == "lock":  # no way to build more interpreters: the threads take turns on the one
        predictor = Predictor(predictor.backend, predictor.artifact)
    images = mnist.x_test[:600]
    expected = np.stack([predictor.predict(images[i:i + 1 + i % 3])[0] for i in range(len(images))])
    answers, errors = {}, []

    def work(worker: int) -> None:
        try:
            for i in range(worker, len(images), 6):  # 6 threads x 100 images x 5 rounds = 3,000 calls
                for _ in range(5):
                    answers.setdefault(i, []).append(predictor.predict(images[i:i + 1 + i % 3])[0])
        except Exception as exc:  # noqa: BLE001 (any error is a failure of the test)
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(map(len, answers.values())) == 3000
    for i, got in answers.items():
        assert all(np.array_equal(g, expected[i]) for g in got), f"image {i}: another image's answer"


# ---- read-only folders, a directory in the way, a full disk ----------------------------------------------

def _camera(tmp_path, *extra) -> int:
    return camera_main(["--source", "sample", "--headless", "--max-frames", "3", *extra])


def test_record_into_a_read_only_folder(tmp_path, capsys):
    folder = read_only_dir(tmp_path)
    assert _camera(tmp_path, "--record", str(folder / "r.mp4"), "--jsonl", str(tmp_path / "j.jsonl")) == 2
    err = capsys.readouterr().err
    assert "cannot write the recording" in err and "Traceback" not in err
    assert not (folder / "r.mp4").exists() and not (tmp_path / "j.jsonl").exists()
    assert not list(tmp_path.glob(".*part*"))


def test_jsonl_into_a_read_only_folder_or_onto_a_directory(tmp_path, capsys):
    folder = read_only_dir(tmp_path)
    assert _camera(tmp_path, "--jsonl", str(folder / "j.jsonl")) == 2
    assert "cannot write the JSON lines" in capsys.readouterr().err
    (tmp_path / "a_dir").mkdir()
    assert _camera(tmp_path, "--jsonl", str(tmp_path / "a_dir"), "--force") == 2
    assert "is a directory" in capsys.readouterr().err


def test_jsonl_onto_a_full_disk(tmp_path, capsys):
    assert _camera(tmp_path, "--jsonl", "/dev/full", "--record", str(tmp_path / "r.mp4")) == 2
    err = capsys.readouterr().err
    assert "/dev/full: disk full" in err and "Traceback" not in err
    assert not (tmp_path / "r.mp4").exists() and not list(tmp_path.glob(".*part*"))  # nothing half-written
    assert _camera(tmp_path, "--record", "/dev/full") == 2  # never a temp file in /dev renamed over the device
    assert "not a regular file" in capsys.readouterr().err
    assert Path("/dev/full").is_char_device()


def test_record_and_jsonl_on_the_same_path_are_refused(tmp_path, capsys):
    same = str(tmp_path / "out.mp4")
    assert _camera(tmp_path, "--record", same, "--jsonl", same) == 2
    assert "give them different files" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_two_recorders_on_one_path_do_not_share_a_temp_file(tmp_path):
    from camera_demo.writers import Recorder

    a, b = Recorder(str(tmp_path / "r.mp4"), 30, force=True), Recorder(str(tmp_path / "r.mp4"), 30, force=True)
    assert a._tmp != b._tmp
    a.close(), b.close()  # no frame written: only the temp files go, nothing is renamed
    assert not list(tmp_path.iterdir())


# ---- signals while reading image files -------------------------------------------------------------------

@pytest.mark.parametrize("how, code", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_predict_on_files_stops_between_results_on_every_signal(tmp_path, mnist, how, code):
    """`mnist-edge predict` on many files: each stop signal ends it after a whole line, with 128 + the signal
    and one line on stderr, no traceback (Ctrl-C printed a KeyboardInterrupt traceback and exited -2;
    SIGTERM and SIGHUP killed it with the default handlers)."""
    image = tmp_path / "digit.png"
    cv2.imwrite(str(image), cv2.resize(255 - mnist.x_test[0], (112, 112)))
    files = [str(image)] * 20000
    # A shell's background job starts with Ctrl-C ignored, and Python keeps it so (as predict should): the
    # signal is restored here, or the suite run with `&` would see predict read all 20,000 files.
    process = subprocess.Popen([sys.executable, "-m", "runtime", *files], cwd=REPO, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    first = process.stdout.readline()  # the model is loaded and reading
    process.send_signal(getattr(signal, how))
    rest, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "Traceback" not in err and f"mnist-edge predict: {'interrupted' if how == 'SIGINT' else 'stopped'}" in err
    lines = [first, *rest.splitlines(keepends=True)]
    assert 1 <= len(lines) < len(files) and all(line.startswith(f"{image}: 7") and line.endswith("\n") for line in lines)
