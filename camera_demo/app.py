"""The camera demo's loop: frames in, digits read, overlay shown or recorded, JSON lines out."""

from __future__ import annotations

import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from camera_demo.overlay import draw
from camera_demo.shots import ShotTally
from camera_demo.smoothing import NumberSmoother
from camera_demo.sources import FrameSource, SourceError, SourceLost, has_display, open_source, why_no_window
from camera_demo.stopping import STOP_SIGNALS, catch_stop_signals, describe
from camera_demo.writers import JsonLines, OutputError, Recorder, same_file  # noqa: F401 (Recorder: public here too)
from runtime.files import atomic_write_bytes, atomic_write_json
from runtime.manifest import DEFAULT_FORMAT
from runtime.preprocess import FrameError, find_digits

WINDOW = "mnist-edge"


@dataclass
class DemoConfig:
    source: str = "auto"
    model: str = DEFAULT_FORMAT
    backend: str = "auto"
    threads: int | None = 1
    width: int | None = 640
    height: int | None = 480
    fps: float | None = None
    headless: bool | None = None  # None: headless when there is no display
    jsonl: str | None = None  # file, or "-" for stdout; headless default: stdout
    record: str | None = None
    snapshot_dir: str = "snapshots"
    max_frames: int | None = None
    min_confidence: float | None = None  # None: the model's own (runtime.predictor.Predictor.min_confidence)
    smooth_window: int = 5
    force: bool = False
    verify: bool = True  # the model's sha256 against its manifest
    allow_failed: bool = False  # load a model that failed its parity check at export


@dataclass
class DemoSummary:
    source: str
    frames: int = 0
    seconds: float = 0.0
    stage_ms: dict = field(default_factory=dict)  # median per stage
    labelled_frames: int = 0
    correct_raw: int = 0
    correct_smoothed: int = 0
    ended_by: str = "end of source"
    signal: int | None = None  # the signal that stopped the run (SIGINT for Ctrl-C)
    recorded: str | None = None
    snapshots: list[str] = field(default_factory=list)
    jsonl_on_stdout: bool = False  # then the summary goes to stderr, not between the JSON lines
    shots: ShotTally = field(default_factory=ShotTally)  # labelled sources: per shot, read right and how soon
    source_fps: float | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds else 0.0

    def accuracy(self, smoothed: bool = False) -> float | None:
        if not self.labelled_frames:
            return None
        return (self.correct_smoothed if smoothed else self.correct_raw) / self.labelled_frames


def choose_source(spec: str, width, height, fps, say=print) -> FrameSource:
    """Open the asked source; for "auto", the Pi camera, then webcam 0, then the bundled sample."""
    if spec != "auto":
        return open_source(spec, width, height, fps)
    tried = []
    import importlib.util

    candidates = ["0"]
    if importlib.util.find_spec("picamera2"):
        candidates.insert(0, "picam")
    else:
        say("no Pi camera: Picamera2 is not importable (on a Pi: sudo apt install python3-picamera2, and a venv "
            "made with --system-site-packages); trying webcam 0")
    for candidate in candidates:
        try:
            return open_source(candidate, width, height, fps)
        except SourceError as exc:
            tried.append(f"{candidate}: {exc}")
    say("no camera found (" + "; ".join(tried) + ") -> playing the bundled sample instead")
    return open_source("sample")


def frame_record(frame, reading, shown, stages_ms: dict) -> dict:
    """One JSON line: what was read in this frame and how long each stage took."""
    return {
        "frame": frame.index,
        **({"file": frame.file} if getattr(frame, "file", None) else {}),
        "t": round(frame.timestamp, 4),
        "number": reading.number,
        "shown": shown,
        "digits": [{"status": d.status, "digit": d.digit, "best_guess": d.best_guess,
                    "confidence": round(d.confidence, 4), "box": list(d.box)} for d in reading.digits],
        "latency_ms": {k: round(v, 3) for k, v in stages_ms.items()},
    }


def save_snapshot(folder: Path, frame, reading, record: dict, force: bool = True) -> str:
    """frame PNG + each 28x28 model input PNG + the prediction as JSON."""
    stem = folder / f"snapshot-{frame.index:06d}"
    ok, png = cv2.imencode(".png", frame.image)
    atomic_write_bytes(f"{stem}.png", png.tobytes(), overwrite=force)
    for k, d in enumerate(reading.digits):
        ok, png = cv2.imencode(".png", d.input_28x28)
        atomic_write_bytes(f"{stem}-input{k}.png", png.tobytes(), overwrite=force)
    atomic_write_json(f"{stem}.json", record, overwrite=force)
    return f"{stem}.json"


KEYS = {ord("q"): "quit", ord("s"): "snapshot", ord(" "): "freeze"}  # in the window; space toggles freezing


@dataclass(frozen=True)
class Truth:
    shot: int
    number: str
    look: str = ""  # the sample's hard shots name theirs (camera_demo.synthetic.HARD_LOOKS)


def sample_fps() -> float:
    from camera_demo.sample import load_labels

    return float(load_labels()["fps"])


def sample_labels(source: FrameSource) -> list[Truth] | None:
    """The shot and number of every frame of the bundled sample, when the source is that very file."""
    from camera_demo.sample import SAMPLE_DIR, VIDEO_NAME, load_labels

    if Path(source.name).resolve() != (SAMPLE_DIR / VIDEO_NAME).resolve():
        return None
    return [Truth(f["shot"], f["number"], f.get("look", "")) for f in load_labels()["frames"]]


class Outputs:
    """Where each annotated frame goes (JSON lines, recording, window, a web sink); closed whatever ends the run.

    A sink (camera_demo.broadcast.Broadcast) gets every annotated frame with its reading, and may
    send actions back ("freeze", "quit") like keys in the window.
    """

    def __init__(self, config: DemoConfig, sink=None):
        self.sink = sink
        self.quit_reason = "q pressed"
        self.window = not (config.headless if config.headless is not None else not has_display())
        if config.headless is False and (why := why_no_window()) is not None:
            raise OutputError(f"--window: no window can be shown: {why}; drop --window for JSON lines")
        target = config.jsonl if config.jsonl is not None else (None if self.window else "-")
        if same_file(target, config.record):
            raise OutputError(f"--record and --jsonl both name {config.record}; give them different files")
        self.recorder = Recorder(config.record, config.fps or 30.0, config.force) if config.record else None
        try:
            self.jsonl = JsonLines(target, config.force) if target else None
        except BaseException:
            if self.recorder:
                self.recorder.discard()
            raise
        self._failed: set[str] = set()  # outputs whose write failed: their temp file is dropped, not kept

    def write(self, record: dict, annotated: np.ndarray, reading=None) -> None:
        if self.sink is not None:
            self.sink.publish(record, annotated, reading)
        for name, output, item in (("jsonl", self.jsonl, record), ("record", self.recorder, annotated)):
            if output is None:
                continue
            try:
                output.write(item)
            except OutputError:
                self._failed.add(name)
                raise
        if self.window:
            cv2.imshow(WINDOW, annotated)

    def key(self) -> str | None:
        """The action of the key pressed since the last frame, else the sink's (None headless without one)."""
        action = KEYS.get(cv2.waitKey(1) & 0xFF) if self.window else None
        if action is None and self.sink is not None:
            action = self.sink.action()
            if action == "quit":
                self.quit_reason = self.sink.stop_reason or "stopped"
        return action

    def close(self, ok: bool = True) -> str | None:
        """Close everything; the recording's path, if one was written.

        The files are one set: each is finished and checked first, and only when all are
        whole (and the run did not fail: `ok`) do they replace the earlier ones, together;
        otherwise every partial file is dropped and the earlier ones stay.
        """
        outputs = [o for o in (self.recorder, self.jsonl) if o is not None]
        error, recorded = None, False
        try:
            if ok and not self._failed:
                for output in outputs:
                    if output is self.recorder:
                        recorded = output.finish()
                    else:
                        output.finish()
        except OutputError as exc:
            error = exc
        finally:
            if self.window:
                cv2.destroyAllWindows()
        if error or not ok or self._failed:
            for output in outputs:
                output.discard()
            if error:
                raise error
            return None
        if self.jsonl is not None:
            self.jsonl.commit()
        return self.recorder.commit() if recorded else None


def read_frame(frame, capture_ms: float, predictor, smoother: NumberSmoother, min_confidence: float,
               fps: float | None) -> tuple:
    """Find, predict, smooth and draw one frame: (reading, shown number, annotated image, JSON record)."""
    t1 = time.perf_counter()
    frame_error = None
    try:
        crops = find_digits(frame.image, classify=predictor.predict)  # touching digits split by the model
    except FrameError as exc:  # a frame that cannot hold a digit: say so, keep going
        crops, frame_error = [], str(exc)
    t2 = time.perf_counter()
    reading = predictor.read_crops(crops, min_confidence)
    t3 = time.perf_counter()
    shown = smoother.update(reading.number)
    annotated = draw(frame.image, reading, shown, fps,
                     {"cap": capture_ms, "pre": 1000 * (t2 - t1), "pred": 1000 * (t3 - t2)})
    stages = {"capture": capture_ms, "preprocess": 1000 * (t2 - t1), "predict": 1000 * (t3 - t2),
              "overlay": 1000 * (time.perf_counter() - t3)}
    record = frame_record(frame, reading, shown, stages)
    if frame_error:
        record["error"] = frame_error
    return reading, shown, annotated, record


def _tally(summary: DemoSummary, stage_times: dict, record: dict, labels: list[Truth] | None, index: int) -> None:
    """Count a processed frame: its stage times and, on the labelled sample, whether it read right."""
    for k, v in record["latency_ms"].items():
        stage_times[k].append(v)
    if labels is not None and index < len(labels):
        summary.labelled_frames += 1
        truth = labels[index]
        summary.correct_raw += int(record["number"] == truth.number)
        summary.correct_smoothed += int(record["shown"] == truth.number)
        summary.shots.add(truth.shot, truth.number, record["shown"], truth.look)
    summary.frames += 1


def run_demo(config: DemoConfig, source: FrameSource | None = None, predictor=None, labels: list[Truth] | None = None,
             say=lambda msg: print(msg, file=sys.stderr), sink=None) -> DemoSummary:
    """Run until the source ends, q is pressed, max_frames, a stop signal or a lost camera; outputs are always closed.

    Ctrl-C, SIGTERM and SIGHUP all end the loop the same orderly way (camera_demo/stopping.py),
    so the recording and the JSON lines are finished whichever of them arrives.
    `sink`: where else each annotated frame goes, and actions come from (the web server's Broadcast).
    """
    if predictor is None:
        from runtime.predictor import load_predictor

        predictor = load_predictor(config.model, backend=config.backend, threads=config.threads,
                                   verify=config.verify, allow_failed=config.allow_failed)
    if source is None:
        source = choose_source(config.source, config.width, config.height, config.fps, say)
    if labels is None:
        labels = sample_labels(source)
    smoother = NumberSmoother(config.smooth_window, (config.smooth_window // 2) + 1)
    summary = DemoSummary(source.name)
    stage_times: dict[str, list[float]] = {"capture": [], "preprocess": [], "predict": [], "overlay": []}
    frozen = False
    started = time.perf_counter()
    # Ctrl-C, SIGTERM and SIGHUP: the loop ends after the frame in hand. With a sink, its owner
    # (camera_demo/serve.py) handles them and asks the loop to stop through the sink. Caught before the outputs
    # open their temporary files, so a stop while they open still closes (and drops) them.
    stop = catch_stop_signals(STOP_SIGNALS if sink is None else ())
    ok = False  # an error that ends the run drops every partial output (Outputs.close)
    outputs = None
    try:
        outputs = Outputs(config, sink)
        summary.jsonl_on_stdout = outputs.jsonl is not None and outputs.jsonl.path is None
        summary.source_fps = sample_fps() if labels is not None else None
        frames = source.frames()
        while (config.max_frames is None or summary.frames < config.max_frames) and not stop.requested:
            t0 = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            capture_ms = 1000 * (time.perf_counter() - t0)
            if getattr(frame, "file", None):  # an image file is a shot of its own: nothing to vote over across files
                smoother = NumberSmoother(1, 1)
            if not frozen:  # frozen: frames are grabbed (the camera keeps up) but not read
                elapsed = time.perf_counter() - started
                reading, _, annotated, record = read_frame(frame, capture_ms, predictor, smoother, config.min_confidence,
                                                           (summary.frames + 1) / elapsed if elapsed else None)
                outputs.write(record, annotated, reading)
                _tally(summary, stage_times, record, labels, frame.index)
            action = outputs.key()
            if action == "quit":
                summary.ended_by = outputs.quit_reason
                break
            if action == "snapshot" and not frozen:
                summary.snapshots.append(save_snapshot(Path(config.snapshot_dir), frame, reading, record))
                say(f"snapshot: {summary.snapshots[-1]}")
            if action == "freeze":
                frozen = not frozen
        else:  # the loop's condition ended it, not a break
            summary.ended_by = f"stopped after {plural(summary.frames, 'frame')} (--max-frames)"
        ok = True
    except SourceLost as exc:
        summary.ended_by = f"source lost: {exc}"
        say(f"camera lost: {exc}; closing cleanly")
        ok = True
    except KeyboardInterrupt:  # a second stop signal (Stopped) while the loop was stuck, or a raw Ctrl-C
        stop.signum = stop.signum or int(signal.SIGINT)
        ok = True
    finally:
        stop.closing()
        summary.seconds = time.perf_counter() - started
        source.close()
        try:
            summary.recorded = outputs.close(ok) if outputs is not None else None
        finally:
            stop.restore()
    if stop.requested:
        summary.signal, summary.ended_by = stop.signum, describe(stop.signum)
    summary.stage_ms = {k: float(np.median(v)) for k, v in stage_times.items() if v}
    summary.shots.close()
    return summary


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def format_summary(summary: DemoSummary) -> str:
    stages = ", ".join(f"{k} {v:.2f} ms" for k, v in summary.stage_ms.items())
    lines = [f"{plural(summary.frames, 'frame')} from {summary.source} in {summary.seconds:.1f} s: {summary.fps:.0f} FPS "
             f"(median per frame: {stages}); "
             + (summary.ended_by if summary.ended_by.startswith("stopped") else f"ended by {summary.ended_by}")]
    if summary.labelled_frames:
        lines.append(summary.shots.summary(summary.source_fps))
    if summary.recorded:
        lines.append(f"recorded: {summary.recorded}")
    return "\n".join(lines)
