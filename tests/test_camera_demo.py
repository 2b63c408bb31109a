"""camera_demo/: the headless run over the bundled sample, sources that fail, snapshots, the CLI."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camera_demo.app import DemoConfig, choose_source, format_summary, run_demo, save_snapshot
from camera_demo.cli import main as camera_main
from camera_demo.sample import SAMPLE_DIR, load_labels
from camera_demo.shots import ShotTally
from camera_demo.smoothing import NumberSmoother
from camera_demo.sources import Frame, FrameSource, ImagesSource, SourceLost, open_source
from runtime.predictor import load_predictor
from camera_demo.synthetic import render

JSONL_KEYS = {"frame", "t", "number", "shown", "digits", "latency_ms"}
DIGIT_KEYS = {"status", "digit", "best_guess", "confidence", "box"}


@pytest.fixture(scope="module")
def int8():
    return load_predictor("tflite-int8", threads=1)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, int8):
    out = tmp_path_factory.mktemp("demo")
    config = DemoConfig(source="sample", headless=True, jsonl=str(out / "frames.jsonl"), record=str(out / "annotated.mp4"))
    summary = run_demo(config, predictor=int8)
    lines = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    return summary, lines, out


def test_headless_run_reads_the_right_digits(sample_run):
    summary, lines, _ = sample_run
    frames = load_labels()["frames"]
    truth = [f["number"] for f in frames]
    assert summary.frames == len(truth) == len(lines) == 720
    right = total = 0
    for line, number in [(line, f["number"]) for line, f in zip(lines, frames) if f["look"] == "ordinary"]:
        read = [str(d["digit"]) if d["status"] == "ok" else "?" for d in line["digits"]]
        total += len(number)
        if len(read) == len(number):
            right += sum(a == b for a, b in zip(read, number))
    assert right / total >= 0.98, f"{right} of {total} digits read right"
    assert summary.accuracy() >= 0.95
    # What a user sees: each of the 96 ordinary shots ends showing its number, settled within a few frames.
    shots = [r for r in summary.shots.results if r.look == "ordinary"]
    assert len(shots) == 96 and sum(r.settled_after is not None for r in shots) >= 0.95 * 96
    assert max(r.settled_after for r in shots if r.settled_after is not None) <= 3


def test_the_samples_hard_shots_are_read(sample_run):
    """24 hard shots, 4 of each look (faint pencil, cast shadow, yellow note, ruled paper, heavy JPEG, dim
    and noisy). Measured when added: every look 4/4 but cast shadow 3/4 and heavy JPEG 3/4 (frames: 19 and 18
    of 24)."""
    summary, _, _ = sample_run
    hard = [r for r in summary.shots.results if r.look not in ("", "ordinary")]
    assert len(hard) == 24 and len({r.look for r in hard}) == 6
    assert sum(r.settled_after is not None for r in hard) >= 20
    assert "hard shots read right: cast shadow" in summary.shots.summary(30)


def test_multi_digit_frames_give_the_right_number(sample_run):
    _, lines, _ = sample_run
    truth = [f["number"] for f in load_labels()["frames"]]
    multi = [(line["number"], number) for line, number in zip(lines, truth) if len(number) > 1]
    assert len(multi) >= 200
    assert sum(read == number for read, number in multi) / len(multi) >= 0.95


def test_jsonl_schema(sample_run):
    _, lines, _ = sample_run
    for k, line in enumerate(lines):
        assert set(line) == JSONL_KEYS and line["frame"] == k
        assert set(line["latency_ms"]) == {"capture", "preprocess", "predict", "overlay"}
        assert all(isinstance(v, float) and v >= 0 for v in line["latency_ms"].values())
        for d in line["digits"]:
            assert set(d) == DIGIT_KEYS and len(d["box"]) == 4 and 0 <= d["confidence"] <= 1
            assert d["status"] in ("ok", "low confidence", "not a digit")
            assert (d["digit"] is None) == (d["status"] != "ok")
        assert line["number"] is None or line["number"] == "".join(str(d["digit"]) for d in line["digits"])


def test_recording_holds_every_annotated_frame(sample_run):
    summary, _, out = sample_run
    capture = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == summary.frames
    ok, first = capture.read()
    assert ok and first.shape == (480, 640, 3)
    assert summary.recorded == str(out / "annotated.mp4")


class FailingCamera(FrameSource):
    """A live camera that delivers some frames, then fails (unplugged) or is interrupted (Ctrl-C)."""

    live = True
    name = "fake camera"

    def __init__(self, images, error):
        self.images, self.error, self.closed = images, error, False

    def frames(self):
        for k, image in enumerate(self.images):
            yield Frame(image, k, k / 30)
        raise self.error

    def close(self):
        self.closed = True


@pytest.fixture(scope="module")
def twenty_frames(mnist):
    rng = np.random.default_rng(9)
    return [render([mnist.x_test[i]], [int(mnist.y_test[i])], rng).image for i in range(20)]


@pytest.mark.parametrize("error, ended", [(SourceLost("unplugged"), "source lost"), (KeyboardInterrupt(), "interrupted")])
def test_failure_mid_stream_ends_cleanly_and_keeps_the_output(tmp_path, twenty_frames, int8, error, ended):
    camera = FailingCamera(twenty_frames, error)
    config = DemoConfig(headless=True, jsonl=str(tmp_path / "f.jsonl"), record=str(tmp_path / "r.mp4"))
    summary = run_demo(config, source=camera, predictor=int8)
    assert summary.ended_by.startswith(ended) and camera.closed
    assert summary.frames == 20
    assert len((tmp_path / "f.jsonl").read_text().splitlines()) == 20
    assert int(cv2.VideoCapture(str(tmp_path / "r.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == 20
    assert not list(tmp_path.glob(".*part*"))  # the temp recording was moved into place


def test_a_camera_that_stops_is_retried_then_reported(monkeypatch):
    from camera_demo import sources

    class DeadCapture:
        def __init__(self):
            self.reads = 0

        def read(self):
            self.reads += 1
            return (True, np.zeros((48, 64, 3), np.uint8)) if self.reads <= 3 else (False, None)

        def release(self):
            pass

    source = sources.CaptureSource.__new__(sources.CaptureSource)
    source.live, source.name, source._cap = True, "camera 0 (/dev/video0)", DeadCapture()
    monkeypatch.setattr(sources, "RETRY_PAUSE_S", 0.0)
    frames = source.frames()
    assert [next(frames).index for _ in range(3)] == [0, 1, 2]
    with pytest.raises(SourceLost, match=r"camera 0 .* after 3 frames \(5 failed reads\)"):
        next(frames)
    assert source._cap.reads == 3 + sources.READ_RETRIES


def test_odd_frames_are_handled(tmp_path, int8, twenty_frames):
    odd = [cv2.cvtColor(twenty_frames[0], cv2.COLOR_BGR2GRAY), cv2.cvtColor(twenty_frames[1], cv2.COLOR_BGR2BGRA),
           np.zeros((8, 8, 3), np.uint8), twenty_frames[2][:, :, :1], (twenty_frames[3] / 255.0).astype(np.float32),
           np.zeros((1, 640, 3), np.uint8)]
    camera = FailingCamera(odd, SourceLost("end"))
    summary = run_demo(DemoConfig(headless=True, jsonl=str(tmp_path / "odd.jsonl")), source=camera, predictor=int8)
    lines = [json.loads(line) for line in (tmp_path / "odd.jsonl").read_text().splitlines()]
    assert summary.frames == len(odd) == len(lines)
    assert "too small" in lines[2]["error"] and "too small" in lines[5]["error"]
    assert lines[0]["number"] is not None and lines[1]["number"] is not None
    assert camera.closed


def test_snapshot_files(tmp_path, int8, twenty_frames):
    frame = Frame(twenty_frames[0], 42, 1.4)
    reading = int8.read_digits(frame.image)
    path = save_snapshot(tmp_path, frame, reading, {"number": reading.number})
    assert Path(path) == tmp_path / "snapshot-000042.json"
    assert json.loads(Path(path).read_text()) == {"number": reading.number}
    assert cv2.imread(str(tmp_path / "snapshot-000042.png")).shape == twenty_frames[0].shape
    inset = cv2.imread(str(tmp_path / "snapshot-000042-input0.png"), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(inset, reading.digits[0].input_28x28)


def test_image_folder_source(tmp_path, twenty_frames, int8, mnist):
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"{k:02d}.png"), twenty_frames[k])
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(str(tmp_path))
    assert isinstance(source, ImagesSource)
    summary = run_demo(DemoConfig(headless=True, jsonl=str(tmp_path / "out.jsonl")), source=source, predictor=int8)
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert summary.frames == 3
    expected = [str(int(mnist.y_test[i])) for i in range(3)]
    assert [line["number"] for line in lines] == expected
    # Each image is a shot of its own: named in its JSON line, shown as read (no vote across unrelated images).
    assert [Path(line["file"]).name for line in lines] == ["00.png", "01.png", "02.png"]
    assert [line["shown"] for line in lines] == expected
    single = run_demo(DemoConfig(headless=True, jsonl=str(tmp_path / "one.jsonl")),
                      source=open_source(str(tmp_path / "01.png")), predictor=int8)
    assert format_summary(single).startswith("1 frame from")


def test_no_camera_falls_back_to_the_sample():
    messages = []
    source = choose_source("auto", 640, 480, None, say=messages.append)
    try:
        assert source.name.endswith("digits.mp4") and Path(source.name).parent == SAMPLE_DIR
        assert "no camera found" in messages[-1] and "0:" in messages[-1]
        if "picamera2" not in sys.modules:  # not importable here: auto says so before trying the webcam
            assert "Picamera2 is not importable" in messages[0]
    finally:
        source.close()


def test_smoothing_hides_glitches_not_changes():
    smoother = NumberSmoother(window=5, needed=3)
    shown = [smoother.update(v) for v in ["7", "7", "7", "1", "7", "7", "42", "42", "42", None, "42"]]
    # Nothing until a value is seen twice; the one-frame "1" never shows; "42" shows on its second frame.
    assert shown == [None, "7", "7", "7", "7", "7", "7", "42", "42", "42", "42"]
    with pytest.raises(ValueError):
        NumberSmoother(window=3, needed=4)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--source", "missing.mp4", "--headless"], "missing.mp4: no such file or folder"),
        (["--source", "missing_folder/", "--headless"], "mnist-edge camera: error: missing_folder/: no such file or folder"),
        (["--source", "7", "--headless"], "/dev/video7"),
        (["--source", "picam", "--headless"], "Picamera2"),
        (["--source", "empty_dir", "--headless"], "no images"),
    ],
)
def test_cli_source_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty_dir").mkdir()
    monkeypatch.setitem(sys.modules, "picamera2", None)
    assert camera_main(argv) == 2
    assert message in capsys.readouterr().err


def test_demo_errors_say_demo(tmp_path, monkeypatch, capsys):
    from camera_demo.cli import demo_main

    monkeypatch.chdir(tmp_path)
    assert demo_main(["--source", "missing_folder/"]) == 2
    err = capsys.readouterr().err
    assert "mnist-edge demo: error: missing_folder/: no such file or folder" in err and "mnist-edge camera" not in err
    assert not (tmp_path / "runs").exists()


def test_cli_argument_errors_and_no_silent_overwrite(tmp_path, capsys):
    with pytest.raises(SystemExit):
        camera_main(["--threads", "0"])
    assert "--threads must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        camera_main(["--min-confidence", "2"])
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"keep me")
    assert camera_main(["--source", "sample", "--headless", "--record", str(existing), "--max-frames", "3"]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert existing.read_bytes() == b"keep me"


@pytest.mark.parametrize("flag, name", [("--record", "out.mp4"), ("--jsonl", "out.jsonl")])
def test_an_output_under_a_file_names_the_file_in_the_way(flag, name, tmp_path, capsys):
    """`--record notes.txt/out.mp4` where notes.txt is a file said only "File exists" (the folder could not be
    made); it names the file in the way, exit 2, and writes nothing."""
    blocking = tmp_path / "notes.txt"
    blocking.write_text("keep me")
    assert camera_main(["--source", "sample", "--headless", flag, str(blocking / name), "--max-frames", "2"]) == 2
    assert f"{blocking} is a file, not a folder" in capsys.readouterr().err
    assert blocking.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_window_that_cannot_be_shown_is_a_named_error(tmp_path, monkeypatch, capsys):
    """`--window` with no display, or with OpenCV's headless build (the runtime extra's), crashed in cv2.imshow
    with two tracebacks (exit 1); it says why, exit 2, nothing written. `demo --window`: the demo is headless."""
    from camera_demo.cli import demo_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert camera_main(["--source", "sample", "--window", "--max-frames", "2"]) == 2
    err = capsys.readouterr().err
    assert "--window: no window can be shown: no display" in err and "Traceback" not in err
    monkeypatch.setenv("DISPLAY", ":99")  # set, but this OpenCV (headless) has no GUI, or no X server answers
    assert camera_main(["--source", "sample", "--window", "--max-frames", "2"]) == 2
    assert "--window: no window can be shown" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        demo_main(["--window"])
    assert info.value.code == 2 and "the demo is headless" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_headless_run_writes_jsonl_to_stdout(capsys):
    assert camera_main(["--source", "sample", "--headless", "--max-frames", "12"]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert len(lines) == 12 and set(lines[0]) == JSONL_KEYS
    # The JSON lines own stdout, so the summary goes to stderr; --max-frames says it ended the run.
    assert "12 frames from" in captured.err and "stopped after 12 frames (--max-frames)" in captured.err
    assert "of 2 shots read right" in captured.err


def test_cli_summary_is_the_result_on_stdout(tmp_path, capsys):
    assert camera_main(["--source", "sample", "--headless", "--max-frames", "12", "--jsonl", str(tmp_path / "f.jsonl")]) == 0
    captured = capsys.readouterr()
    assert "12 frames from" in captured.out and "shots read right" in captured.out
    assert "frames from" not in captured.err


def test_shot_tally_counts_shots_and_time_to_a_stable_reading():
    tally = ShotTally()
    for shot, truth, shown in [(0, "3", None), (0, "3", "3"), (0, "3", "3"),  # right from its 2nd frame
                               (1, "10", "3"), (1, "10", "10"), (1, "10", "1"), (1, "10", "10"),  # settles on frame 4
                               (2, "7", "1"), (2, "7", "1")]:  # never right
        tally.add(shot, truth, shown)
    tally.close()
    assert [(r.frames, r.settled_after) for r in tally.results] == [(3, 2), (4, 4), (2, None)]
    line = tally.summary(fps=30)
    assert line.startswith("2 of 3 shots read right") and "median of 3 frames (100 ms at 30 FPS), at most 4" in line
    assert "hard shots" not in line
    tally.add(3, "5", "5", "faint pencil")
    tally.add(4, "6", "8", "faint pencil")
    assert tally.summary().endswith("; hard shots read right: faint pencil 1/2")


def test_window_keys_snapshot_freeze_and_quit(tmp_path, monkeypatch, int8):
    """The window loop, with OpenCV's GUI calls replaced by a scripted keyboard (no display here)."""
    import camera_demo.app as app

    keys = iter([-1, ord("s"), ord(" "), -1, ord(" "), -1, ord("q")] + [-1] * 100)
    shown = []
    monkeypatch.setattr(app.cv2, "imshow", lambda name, image: shown.append(image.shape))
    monkeypatch.setattr(app.cv2, "waitKey", lambda delay: next(keys))
    monkeypatch.setattr(app.cv2, "destroyAllWindows", lambda: None)
    monkeypatch.setattr(app, "why_no_window", lambda: None)  # a window could be shown
    config = DemoConfig(source="sample", headless=False, snapshot_dir=str(tmp_path / "snaps"))
    summary = run_demo(config, predictor=int8, say=lambda msg: None)
    # Frames 0-2 shown; 's' after frame 1 saved it; space after frame 2 froze: frames 3 and 4 were
    # grabbed but not processed, space during frame 4 unfroze; frames 5 and 6 shown; 'q' quit.
    assert summary.ended_by == "q pressed"
    assert summary.frames == 5 and len(shown) == 5 and shown[0] == (480, 640, 3)
    assert [Path(p).name for p in summary.snapshots] == ["snapshot-000001.json"]
    assert (tmp_path / "snaps" / "snapshot-000001.png").exists()


def test_demo_help_shows_the_demos_defaults(capsys):
    from camera_demo.cli import demo_main

    for entry, expected in ((demo_main, ("(default: sample)", "runs/demo/frames.jsonl")), (camera_main, ("(default: auto)",))):
        with pytest.raises(SystemExit) as stop:
            entry(["--help"])
        assert stop.value.code == 0
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
        assert all(e in text for e in expected), (entry.__name__, text)


@pytest.mark.parametrize("argv, message", [(["--fps", "nan"], "--fps is frames per second, from 0.1 to 1000; got nan"),
                                           (["--fps", "0.001"], "--fps is frames per second, from 0.1 to 1000; got 0.001"),
                                           (["--fps", "1e9"], "--fps is frames per second, from 0.1 to 1000; got 1e+09"),
                                           (["--source", ""], "--source is empty"),
                                           (["--threads", "100000"], "--threads must be from 1 to 64")])
def test_nonsense_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        camera_main(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_camera_index_too_large_for_opencv(capsys):
    assert camera_main(["--source", "99999999999999999999", "--headless"]) == 2
    err = capsys.readouterr().err
    assert "no such camera index" in err and "Traceback" not in err


def test_a_folder_source_skips_an_unreadable_file(tmp_path, mnist, capsys):
    rng = np.random.default_rng(3)
    for k, name in enumerate(["a.png", "c.png"]):
        cv2.imwrite(str(tmp_path / name), render([mnist.x_test[k]], [int(mnist.y_test[k])], rng).image)
    (tmp_path / "b.jpg").write_text("not an image")
    frames = list(ImagesSource(tmp_path).frames())
    assert len(frames) == 2 and [f.index for f in frames] == [0, 1]
    assert "b.jpg: not a readable image, skipped" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--shots", "2", "--hard-shots", "-1"], ["--shots", "-3", "--hard-shots", "2"],
                                  ["--shots", "0", "--hard-shots", "0"], ["--frames-per-shot", "0"]])
def test_sample_builder_refuses_bad_counts(args, tmp_path, capsys):
    from camera_demo.sample import main as sample_main

    with pytest.raises(SystemExit) as stop:
        sample_main(["--out", str(tmp_path / "s"), *args])
    assert stop.value.code == 2 and "--shots" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_stop_while_the_outputs_open_leaves_no_temporary_file(monkeypatch, tmp_path, int8):
    """Attack review: Ctrl-C between the outputs opening their temporary files and the loop's `try` (reading
    the sample's frame rate) left an empty `.frames.*.part.jsonl` behind; the outputs now open inside it."""
    import camera_demo.app as app

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "sample_fps", interrupted)
    summary = run_demo(DemoConfig(source="sample", headless=True, jsonl=str(tmp_path / "frames.jsonl")), predictor=int8)
    assert summary.signal == signal.SIGINT and summary.frames == 0
    assert [p.name for p in tmp_path.iterdir() if p.name != "frames.jsonl"] == []
