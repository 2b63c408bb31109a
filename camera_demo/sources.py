"""Frame sources: webcam (OpenCV V4L2), Raspberry Pi camera (Picamera2), video file, image folder, one image."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
READ_RETRIES = 5  # consecutive failed reads before a live camera counts as gone
RETRY_PAUSE_S = 0.2
MAX_CAMERA_INDEX = 255  # larger numbers overflow OpenCV's int (a cv2.error, not a message)
MAX_LAG_S = 0.1  # a paced file source further behind its clock restarts it (a camera buffers a few frames, then drops)
# OpenCV logs every backend it probes ("[ WARN:0@0.01] ... can't open camera by index"): errors only.
if hasattr(cv2, "utils") and hasattr(cv2.utils, "logging"):
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


class SourceError(RuntimeError):
    """A source cannot be opened; the message names it and says what to try."""


class SourceLost(RuntimeError):
    """A live source stopped delivering frames mid-run (unplugged, busy, driver error)."""


@dataclass
class Frame:
    image: np.ndarray  # BGR uint8
    index: int
    timestamp: float  # seconds since the source opened
    file: str | None = None  # the image file it came from (image sources): each is a shot of its own


class FrameSource:
    """Base: iterate to get frames; close() releases the device."""

    name = "source"
    live = False
    fps: float | None = None  # a video file's own frame rate, when it says

    def frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CaptureSource(FrameSource):
    """cv2.VideoCapture: a webcam index (V4L2 on Linux) or a video file."""

    def __init__(self, target: int | str, width: int | None = None, height: int | None = None, fps: float | None = None):
        self.live = isinstance(target, int)
        self.name = f"camera {target} (/dev/video{target})" if self.live else str(target)
        if self.live:
            backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
            self._cap = cv2.VideoCapture(target, backend)
        else:
            if not Path(target).is_file():
                raise SourceError(f"{target}: no such video file")
            self._cap = cv2.VideoCapture(str(target))
        if not self._cap.isOpened():
            self._cap.release()
            if self.live:
                raise SourceError(
                    f"cannot open {self.name}: no such camera, or it is busy. Check `ls /dev/video*`, close other "
                    f"programs using it, try another --source index, or --source picam for a Raspberry Pi camera module")
            raise SourceError(f"{target}: OpenCV cannot decode this video file")
        if not self.live:
            self.fps = self._cap.get(cv2.CAP_PROP_FPS) or None
        if width:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self._cap.set(cv2.CAP_PROP_FPS, fps)

    def frames(self) -> Iterator[Frame]:
        start, index, failures = time.perf_counter(), 0, 0
        while True:
            ok, image = self._cap.read()
            if ok and image is not None and image.size:
                failures = 0
                yield Frame(image, index, time.perf_counter() - start)
                index += 1
                continue
            if not self.live:
                return  # end of the file
            failures += 1
            if failures >= READ_RETRIES:
                raise SourceLost(f"{self.name} stopped delivering frames after {index} frames "
                                 f"({READ_RETRIES} failed reads): unplugged or taken by another program?")
            time.sleep(RETRY_PAUSE_S)

    def close(self) -> None:
        self._cap.release()


class PiCameraSource(FrameSource):
    """The Raspberry Pi camera module through Picamera2 (libcamera); OpenCV cannot open CSI cameras there."""

    live = True
    name = "Raspberry Pi camera (Picamera2)"

    def __init__(self, width: int | None = None, height: int | None = None, fps: float | None = None):
        try:
            from picamera2 import Picamera2  # only on a Pi: sudo apt install python3-picamera2
        except ImportError as exc:
            raise SourceError("--source picam needs Picamera2: on Raspberry Pi OS `sudo apt install python3-picamera2` "
                              "and create the venv with --system-site-packages") from exc
        try:
            self._cam = Picamera2()
            config = self._cam.create_video_configuration(
                main={"size": (width or 640, height or 480), "format": "RGB888"},
                controls={"FrameRate": fps} if fps else {})
            self._cam.configure(config)
            self._cam.start()
        except Exception as exc:  # libcamera raises RuntimeError, IndexError (no camera)...
            raise SourceError(f"cannot start the Pi camera ({exc}); check the ribbon cable and `rpicam-hello --list-cameras`") from exc

    def frames(self) -> Iterator[Frame]:
        start, index = time.perf_counter(), 0
        while True:
            try:
                image = self._cam.capture_array("main")  # "RGB888" is BGR in memory, as OpenCV wants
            except Exception as exc:
                raise SourceLost(f"{self.name} failed after {index} frames: {exc}") from exc
            yield Frame(image[..., :3], index, time.perf_counter() - start)
            index += 1

    def close(self) -> None:
        try:
            self._cam.stop()
            self._cam.close()
        except Exception:
            pass


class ImagesSource(FrameSource):
    """One image file, or every image in a folder in name order."""

    def __init__(self, path: Path):
        path = Path(path)
        self.name = str(path)
        self.skipped: list[str] = []
        if path.is_dir():
            self._files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not self._files:
                raise SourceError(f"{path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        elif path.is_file():
            self._files = [path]
        else:
            raise SourceError(f"{path}: no such file or folder")

    def frames(self) -> Iterator[Frame]:
        """Each readable image in turn; an unreadable one is skipped with a warning (one bad file does not hide the rest)."""
        start, index = time.perf_counter(), 0
        for path in self._files:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                if len(self._files) == 1:
                    raise SourceError(f"{path}: not a readable image")
                print(f"warning: {path}: not a readable image, skipped", file=sys.stderr)
                self.skipped.append(str(path))
                continue
            yield Frame(image, index, time.perf_counter() - start, file=str(path))
            index += 1


class PacedLoop(FrameSource):
    """A file source played at `fps` (None: as fast as it decodes) and from the start again when it ends.

    For serving a video or images: a page watches them like a camera. Each pass numbers its frames
    from 0 again, so the bundled sample's labels still apply; the wait for the next frame's time is
    part of "capture", as it is for a camera.
    """

    def __init__(self, source: FrameSource, open_again: Callable[[], FrameSource], fps: float | None):
        self._source, self._open_again, self.period = source, open_again, (1 / fps if fps else 0.0)
        self.name, self.fps = source.name, fps

    def frames(self) -> Iterator[Frame]:
        due = time.perf_counter()
        while True:
            delivered = False
            for frame in self._source.frames():
                if self.period:  # on a camera's clock: a late frame is followed at once by the next, due one
                    due += self.period
                    wait = due - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                    elif wait < -MAX_LAG_S:  # far behind (a pause): restart the clock rather than rush
                        due = time.perf_counter()
                delivered = True
                yield frame
            if not delivered:
                return  # nothing to replay
            self._source.close()
            self._source = self._open_again()

    def close(self) -> None:
        self._source.close()


def open_source(spec: str, width: int | None = None, height: int | None = None, fps: float | None = None) -> FrameSource:
    """`0`, `1`...: webcam; `picam`: Pi camera; a video file; an image; a folder of images; `sample`: the bundled sample."""
    if spec == "sample":
        from camera_demo.sample import SAMPLE_DIR, VIDEO_NAME

        return CaptureSource(str(SAMPLE_DIR / VIDEO_NAME))
    if spec == "picam":
        return PiCameraSource(width, height, fps)
    if not spec.strip():
        raise SourceError("empty --source; give a camera index, picam, a file, a folder, sample or auto")
    if spec.isdigit():
        if int(spec) > MAX_CAMERA_INDEX:
            raise SourceError(f"--source {spec}: no such camera index (0-{MAX_CAMERA_INDEX}); `ls /dev/video*` lists them")
        return CaptureSource(int(spec), width, height, fps)
    path = Path(spec)
    if not path.exists():
        raise SourceError(f"{spec}: no such file or folder")
    if path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return ImagesSource(path)
    return CaptureSource(spec)


def has_display() -> bool:
    """Whether a window can be shown: a display is set and this OpenCV build has a GUI."""
    return why_no_window() is None


def why_no_window() -> str | None:
    """Why no window can be shown here (no display, an OpenCV without a GUI), or None if one can."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    try:
        cv2.namedWindow("mnist-edge probe", cv2.WINDOW_NORMAL)
        cv2.destroyWindow("mnist-edge probe")
        return None
    except cv2.error:  # opencv-python-headless: no GUI compiled in
        return ("this OpenCV has no GUI (opencv-python-headless, as the runtime extra installs); "
                "pip install opencv-python for a window")
