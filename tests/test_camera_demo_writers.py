"""camera_demo/writers.py and the demo's outputs as one set: a recording that is not whole never replaces an older
one, a failed run keeps every older file, frames of another size are resized into the recording, not dropped."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_demo.app import DemoConfig, run_demo
from camera_demo.cli import main as camera_main
from camera_demo.sources import Frame, FrameSource
from camera_demo.writers import OutputError, Recorder, frames_in_video

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
OLD_VIDEO, OLD_JSONL = b"an older recording", b'{"an": "older run"}\n'


def _frames(n: int, size=(160, 120)) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size[1], size[0], 3), np.uint8) for _ in range(n)]


def _older_files(folder: Path) -> tuple[Path, Path]:
    video, jsonl = folder / "r.mp4", folder / "j.jsonl"
    video.write_bytes(OLD_VIDEO)
    jsonl.write_bytes(OLD_JSONL)
    return video, jsonl


def _file_size_limit(limit: int):
    def apply():  # a disk that fills up after `limit` bytes of any one file: writes past it fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_recording_onto_a_full_disk_fails_and_keeps_the_older_files(tmp_path):
    video, jsonl = _older_files(tmp_path)
    command = [sys.executable, "-m", "camera_demo", "--source", "sample", "--headless", "--max-frames", "30",
               "--record", str(video), "--jsonl", str(jsonl), "--force"]
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=300,
                          preexec_fn=_file_size_limit(20_000), cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert "cannot finish the recording" in done.stderr and "holds 0 of the 30 frames" in done.stderr
    assert "Traceback" not in done.stderr and "moov atom" not in done.stderr
    # The JSON lines were whole, but they belong with the recording: neither replaces its older file.
    assert video.read_bytes() == OLD_VIDEO and jsonl.read_bytes() == OLD_JSONL
    assert not list(tmp_path.glob(".*part*"))


class _DroppingWriter:
    """What OpenCV's VideoWriter does on a full disk: accepts every frame, writes some, reports nothing."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def write(self, image):
        self.calls += 1
        if self.calls <= 3:
            self.real.write(image)

    def release(self):
        self.real.release()


def test_a_video_missing_frames_is_an_error_not_a_recording(tmp_path):
    video, _ = _older_files(tmp_path)
    recorder = Recorder(str(video), 30, force=True)
    frames = _frames(6)
    recorder.write(frames[0])
    recorder._writer = _DroppingWriter(recorder._writer)
    for image in frames[1:]:
        recorder.write(image)
    with pytest.raises(OutputError, match="holds 4 of the 6 frames.*earlier file is left as it was"):
        recorder.close()
    assert video.read_bytes() == OLD_VIDEO and not list(tmp_path.glob(".*part*"))


class _InterruptedAfterWriting:
    """Writes the frame, then a stop signal's KeyboardInterrupt lands before the recorder counts it."""

    def __init__(self, real):
        self.real = real

    def write(self, image):
        self.real.write(image)
        raise KeyboardInterrupt

    def release(self):
        self.real.release()


def test_a_stop_between_a_write_and_its_count_keeps_the_recording(tmp_path):
    """A second stop signal in --serve raised KeyboardInterrupt there: the check then found one frame more
    than counted and threw the whole recording away ("holds 15 of the 14 frames")."""
    video = tmp_path / "r.mp4"
    recorder = Recorder(str(video), 30, force=False)
    frames = _frames(5)
    for image in frames[:4]:
        recorder.write(image)
    recorder._writer = _InterruptedAfterWriting(recorder._writer)
    with pytest.raises(KeyboardInterrupt):
        recorder.write(frames[4])
    assert recorder.close() is not None and video.exists()
    assert frames_in_video(video) == 5 == recorder.frames


class _BrokenCamera(FrameSource):
    name = "broken camera"

    def __init__(self, images):
        self.images = images

    def frames(self):
        for k, image in enumerate(self.images):
            yield Frame(image, k, k / 30)
        raise OSError("the driver crashed")


def test_a_run_that_fails_keeps_every_older_output(tmp_path):
    from runtime.predictor import load_predictor

    video, jsonl = _older_files(tmp_path)
    config = DemoConfig(headless=True, jsonl=str(jsonl), record=str(video), force=True)
    with pytest.raises(OSError, match="driver crashed"):
        run_demo(config, source=_BrokenCamera(_frames(5)), predictor=load_predictor("tflite-int8", threads=1))
    assert video.read_bytes() == OLD_VIDEO and jsonl.read_bytes() == OLD_JSONL  # 5 frames of each, all dropped
    assert not list(tmp_path.glob(".*part*"))


def test_a_jsonl_write_failing_mid_run_keeps_the_older_recording(tmp_path, capsys, monkeypatch):
    from camera_demo import writers

    real_write, calls = writers.JsonLines.write, []

    def fills_up(self, record):  # the disk is full from the fourth line on, after three frames were recorded
        calls.append(record)
        if len(calls) > 3:
            raise OutputError(f"cannot write --jsonl {self.path}: disk full")
        real_write(self, record)

    monkeypatch.setattr(writers.JsonLines, "write", fills_up)
    video, jsonl = _older_files(tmp_path)
    assert camera_main(["--source", "sample", "--headless", "--max-frames", "10", "--jsonl", str(jsonl),
                        "--record", str(video), "--force"]) == 2
    assert "disk full" in capsys.readouterr().err
    assert video.read_bytes() == OLD_VIDEO and jsonl.read_bytes() == OLD_JSONL
    assert not list(tmp_path.glob(".*part*"))


def test_frames_of_another_size_are_resized_into_the_recording(tmp_path):
    said = []
    recorder = Recorder(str(tmp_path / "r.mp4"), 30, force=False, say=said.append)
    images = _frames(2) + _frames(2, size=(200, 90)) + [cv2.cvtColor(_frames(1)[0], cv2.COLOR_BGR2GRAY)]
    for image in images:
        recorder.write(image)
    assert recorder.close() == str(tmp_path / "r.mp4")
    assert recorder.frames == 5 == frames_in_video(tmp_path / "r.mp4")
    assert len(said) == 1 and "frame 3 is 200x90, the recording 160x120" in said[0]
    ok, first = cv2.VideoCapture(str(tmp_path / "r.mp4")).read()
    assert ok and first.shape == (120, 160, 3)


def test_a_folder_of_images_of_different_sizes_is_recorded_whole(tmp_path, capsys):
    folder = tmp_path / "shots"
    folder.mkdir()
    for k, size in enumerate([(160, 120), (320, 240), (100, 300)]):
        cv2.imwrite(str(folder / f"{k}.png"), _frames(1, size)[0])
    assert camera_main(["--source", str(folder), "--headless", "--record", str(tmp_path / "r.mp4"),
                        "--jsonl", str(tmp_path / "j.jsonl")]) == 0
    assert "resized to it" in capsys.readouterr().err
    assert frames_in_video(tmp_path / "r.mp4") == 3


def test_a_frame_rate_the_video_cannot_hold_is_said_plainly(tmp_path, capfd):
    recorder = Recorder(str(tmp_path / "r.mp4"), 0.001, force=False)
    with pytest.raises(OutputError, match=r"cannot write an MPEG-4 video of 160x120 at 0.001 fps$"):
        recorder.write(_frames(1)[0])
    recorder.discard()
    assert capfd.readouterr().err == ""  # FFmpeg's own lines stay off the terminal
    assert not list(tmp_path.iterdir())
