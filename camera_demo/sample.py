"""The bundled sample: MNIST test digits as dark ink on paper under a moving light, with the truth.

`python -m camera_demo.sample` rebuilds camera_demo/sample/ (refuses to
replace it without --force). Shots of one to three digits, each held for a
few frames while the light sweeps across the page, then hard shots (faint
pencil, a cast shadow, a yellow note, ruled paper, heavy JPEG, dim light:
camera_demo.synthetic.HARD_LOOKS), written as MP4 at 640x480 plus
labels.json with the number (and the look) every frame shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
VIDEO_NAME = "digits.mp4"
LABELS_NAME = "labels.json"
FPS = 30
SIZE = (480, 640)


def make_sample(mnist, out_dir: Path, shots: int = 96, frames_per_shot: int = 6, seed: int = 2026,
                force: bool = False, hard_shots: int = 24) -> dict:
    """Render the sample into out_dir (`shots` ordinary ones, then `hard_shots` cycling through HARD_LOOKS);
    returns the labels record."""
    from runtime.files import ArtifactExistsError, atomic_write_json
    from camera_demo.synthetic import HARD_LOOKS, render

    out_dir = Path(out_dir)
    video, labels_path = out_dir / VIDEO_NAME, out_dir / LABELS_NAME
    if not force and (video.exists() or labels_path.exists()):
        raise ArtifactExistsError(f"{out_dir} already holds a sample; pass --force to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix=".mp4", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    writer = cv2.VideoWriter(str(tmp_path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (SIZE[1], SIZE[0]))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write MP4 (mp4v) here")
    frames = []
    try:
        looks = list(HARD_LOOKS)
        for shot in range(shots + hard_shots):
            look = "ordinary" if shot < shots else looks[(shot - shots) % len(looks)]
            effects = HARD_LOOKS.get(look, {})
            count = 1 if shot % 2 == 0 else int(rng.integers(2, 4))
            idx = rng.choice(len(mnist.x_test), count, replace=False)
            digits = [mnist.x_test[i] for i in idx]
            number = "".join(str(int(mnist.y_test[i])) for i in idx)
            shot_seed = int(rng.integers(2**31))
            angle0 = rng.uniform(0, 2 * np.pi)
            height = (110, 200) if count == 1 else (90, 150)
            for k in range(frames_per_shot):
                # Same page and camera for the whole shot; the light sweeps round.
                frame = render(digits, [int(mnist.y_test[i]) for i in idx], np.random.default_rng(shot_seed),
                               size=SIZE, digit_height=height, light_angle=angle0 + 0.5 * k, **effects)
                writer.write(frame.image)
                frames.append({"frame": len(frames), "shot": shot, "number": number, "look": look,
                               "test_indices": [int(i) for i in idx]})
    finally:
        writer.release()
    tmp_path.chmod(0o644)
    tmp_path.replace(video)
    record = {"video": VIDEO_NAME, "fps": FPS, "width": SIZE[1], "height": SIZE[0], "seed": seed,
              "shots": shots + hard_shots, "hard_shots": hard_shots, "frames_per_shot": frames_per_shot,
              "source": "MNIST test set", "frames": frames}
    atomic_write_json(labels_path, record, overwrite=True)
    return record


def load_labels(sample_dir: Path = SAMPLE_DIR) -> dict:
    """The sample's truth: labels.json, with each frame's number."""
    return json.loads((Path(sample_dir) / LABELS_NAME).read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m camera_demo.sample", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(SAMPLE_DIR), help="folder for digits.mp4 and labels.json (default: the bundled one)")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, the Keras cache, download)")
    parser.add_argument("--shots", type=int, default=96, help="ordinary shots of one to three digits")
    parser.add_argument("--hard-shots", type=int, default=24, help="shots with a hard look after the ordinary ones")
    parser.add_argument("--frames-per-shot", type=int, default=6, help="frames each shot is held (the light moves)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--force", action="store_true", help="replace a sample already in --out")
    args = parser.parse_args(argv)
    if min(args.shots, args.hard_shots) < 0 or args.shots + args.hard_shots < 1 or args.frames_per_shot < 1:
        parser.error("--shots and --hard-shots must be >= 0 with at least one shot in all, --frames-per-shot >= 1")
    from runtime.files import ArtifactExistsError
    from runtime.mnist_data import MnistDataError, load_mnist

    try:
        mnist = load_mnist(args.data)
    except MnistDataError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    try:
        record = make_sample(mnist, Path(args.out), args.shots, args.frames_per_shot, args.seed, args.force,
                             args.hard_shots)
    except ArtifactExistsError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    size = (Path(args.out) / VIDEO_NAME).stat().st_size
    print(f"wrote {len(record['frames'])} frames ({size / 1e6:.1f} MB) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
