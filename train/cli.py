"""`python -m train` / `mnist-edge train`: train a zoo model (or all of them) with its report."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from pathlib import Path

from train.models import MODEL_ZOO, SHIPPED_MODEL

MAX_FORMS = 200_000  # about 100 s of drawing and 160 MB; the shipped model used 6,000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mnist-edge train", description=__doc__)
    parser.add_argument("--model", default=SHIPPED_MODEL, choices=list(MODEL_ZOO), help="zoo model to train")
    parser.add_argument("--all", action="store_true", help="train every zoo model (reusing finished runs in --out) and write the summary table")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training data (default: 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default: 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate, the initial one for cosine (default: 0.001)")
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="constant: the notebook's recipe; cosine: decay to 0 over the run (the shipped model's recipe)")
    parser.add_argument("--ema", type=float, default=None, metavar="MOMENTUM",
                        help="keep an exponential moving average of the weights (e.g. 0.999), validate and keep it instead of the raw weights")
    parser.add_argument("--label-smoothing", type=float, default=0.0, help="cross-entropy label smoothing (e.g. 0.05)")
    parser.add_argument("--init-from", default=None, metavar="MODEL.keras",
                        help="start from this trained model's weights (same --model and --num-classes): fine-tuning")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the weights, the batch order and the augmentation (default: 0)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training and N test images (the notebook's n_examples)")
    parser.add_argument("--val-size", type=int, default=5000, help="training images held out to pick the best checkpoint (0: none; default: 5000)")
    augment = parser.add_mutually_exclusive_group()
    augment.add_argument("--augment", dest="augment", action="store_true", default=None, help="force augmentation on")
    augment.add_argument("--no-augment", dest="augment", action="store_false", help="force augmentation off")
    parser.add_argument("--num-classes", type=int, choices=(10, 11), default=10,
                        help="11: add a \"not a digit\" output (class 10) trained on rendered negatives (CNNs only)")
    parser.add_argument("--negatives", type=int, default=10000, help="rendered non-digit training crops with --num-classes 11 (default: 10000)")
    parser.add_argument("--extra-crops", default=None, metavar="CROPS.npz",
                        help="labelled 28x28 crops added to training (x, y), e.g. the reader's own: `mnist-edge bench crops`")
    parser.add_argument("--forms", type=int, default=0, metavar="N",
                        help="add N training digits rewritten as other writers form them: crossed 7s, 1s with a long flag, slashed 0s; with --limit "
                             "at most a fifth of the training digits, as --negatives (default: 0)")
    parser.add_argument("--teacher", default=None, metavar="MODEL.keras",
                        help="distil from this trained model (10 or 11 outputs): a digit it reads right is taught "
                             "its softened probabilities too (train/distill.py)")
    parser.add_argument("--teacher-weight", type=float, default=0.5,
                        help="with --teacher: the teacher's share of a digit's target, in (0, 1] (default: 0.5)")
    parser.add_argument("--teacher-temperature", type=float, default=2.0,
                        help="with --teacher: the temperature softening its probabilities (default: 2)")
    parser.add_argument("--style", action="store_true",
                        help="writer-style augmentation too: stroke width, slant, elastic distortion, blur, contrast")
    parser.add_argument("--style-p", type=float, default=0.5,
                        help="with --style: fraction of images given each of stroke width, slant, elastic (default 0.5)")
    parser.add_argument("--data", default=None, help="path to mnist.npz (default: $MNIST_NPZ, then the Keras cache, then download)")
    parser.add_argument("--out", default=None, help="run folder (with --all: the folder holding one run per model)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue an interrupted run from its last checkpoint")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of the progress bar (the default when stderr is not a terminal)")
    return parser


def _positive(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name in ("epochs", "batch_size"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    if args.limit is not None and args.limit <= 0:
        parser.error(f"--limit must be positive, got {args.limit}")
    if args.val_size < 0:
        parser.error(f"--val-size must be >= 0, got {args.val_size}")
    if not 0 <= args.style_p <= 1:
        parser.error(f"--style-p must be in [0, 1], got {args.style_p}")
    if not 0 <= args.forms <= MAX_FORMS:
        parser.error(f"--forms must be between 0 and {MAX_FORMS:,}, got {args.forms}")
    if args.negatives <= 0:
        parser.error(f"--negatives must be positive, got {args.negatives}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    if args.ema is not None and not 0 < args.ema < 1:
        parser.error(f"--ema must be in (0, 1), got {args.ema}")
    if not 0 <= args.label_smoothing < 1:
        parser.error(f"--label-smoothing must be in [0, 1), got {args.label_smoothing}")
    if args.init_from is not None and args.all:
        parser.error("--init-from starts one model from trained weights; it cannot be combined with --all")
    if args.init_from is not None and args.resume:
        parser.error("--resume continues a run from its own checkpoint; --init-from starts a new one")
    if args.init_from is not None and Path(args.init_from).is_dir():
        parser.error(f"--init-from {args.init_from}: a folder; give the trained model's .keras file")
    if args.init_from is not None and not Path(args.init_from).is_file():
        parser.error(f"--init-from {args.init_from}: no such file")
    if args.teacher is not None and Path(args.teacher).is_dir():
        parser.error(f"--teacher {args.teacher}: a folder; give the trained model's .keras file")
    if args.teacher is not None and not Path(args.teacher).is_file():
        parser.error(f"--teacher {args.teacher}: no such file")
    if args.teacher is not None and args.all:
        parser.error("--teacher distils into one model; it cannot be combined with --all")
    if not (math.isfinite(args.teacher_weight) and 0 < args.teacher_weight <= 1):
        parser.error(f"--teacher-weight must be in (0, 1], got {args.teacher_weight}")
    if not (math.isfinite(args.teacher_temperature) and args.teacher_temperature > 0):
        parser.error(f"--teacher-temperature must be a positive number, got {args.teacher_temperature}")
    if args.extra_crops is not None and Path(args.extra_crops).is_dir():
        parser.error(f"--extra-crops {args.extra_crops}: a folder; give the .npz file")
    if args.extra_crops is not None and not Path(args.extra_crops).is_file():
        parser.error(f"--extra-crops {args.extra_crops}: no such file")
    if args.resume and args.all:
        parser.error("--resume continues one run; it cannot be combined with --all")
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        parser.error(f"--out {args.out}: not a folder (a run folder holds the checkpoints, the model and its report)")


def run_one(config, run_dir: Path, resume: bool, verbose: int) -> dict:
    """Train (or resume) one run, then write its pictures; returns its metrics."""
    from train.fit import train
    from train.report import write_run_report

    with contextlib.redirect_stdout(sys.stderr):  # Keras's progress bar is a log: stdout keeps the result line
        result = train(config, run_dir, resume=resume, verbose=verbose)
    write_run_report(result.run_dir, result.test_images, result.test_labels, result.test_probs)
    m = result.metrics
    asked = {"forms": (config.forms, m["train_forms"]),
             "negatives": (config.negatives if config.num_classes == 11 else 0, m["train_negatives"])}
    capped = [f"--{name} {want}: {got:,} joined training" for name, (want, got) in asked.items() if got < want]
    if capped:  # --limit caps them at a fifth of the training digits (the config keeps the count asked)
        print(f"mnist-edge train: {'; '.join(capped)} (at most a fifth of the training digits under --limit)",
              file=sys.stderr)
    print(f"{m['model']}: test accuracy {100 * m['test_accuracy']:.2f} % ({m['test_errors']} errors), "
          f"train accuracy {100 * m['train_accuracy']:.2f} %, {m['train_seconds']:.0f} s -> {result.run_dir}")
    return m


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _positive(parser, args)
    options = [t.split("=")[0] for t in (sys.argv[1:] if argv is None else argv) if t.startswith("--")]
    ignored = [o for o in options if o not in ("--resume", "--quiet")]
    teacherless = [o for o in options if o.startswith("--teacher-")] if args.teacher is None else []
    if teacherless and not args.resume:  # they would be recorded in config.json and do nothing
        parser.error(f"{', '.join(teacherless)}: needs --teacher MODEL.keras")
    if args.resume and ignored:  # the run's own config.json says how it trains (--epochs was dropped silently)
        parser.error(f"--resume continues a run with the options it was started with ({args.resume}/config.json); "
                     f"{', '.join(ignored)} would not be used: leave them out, or start a new run from its model "
                     f"(--init-from {args.resume}/model.keras)")

    from runtime.mnist_data import MnistDataError
    from export.tf_quiet import quiet_tensorflow

    verbose = 2 if args.quiet or not sys.stderr.isatty() else 1  # a log file gets lines, not redrawn bars
    if not args.all and not args.resume:
        args.out = args.out or f"runs/{args.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    from runtime.stops import stop_report, stops_as_interrupts

    # An --out that already holds something is refused unless resumed: a stop before that check leaves it as it was.
    theirs = not args.all and not args.resume and _holds_files(args.out)
    try:
        with stops_as_interrupts():  # SIGTERM and SIGHUP (timeout, systemctl, a lost SSH session) end it as Ctrl-C does
            quiet_tensorflow(False)  # inside: TensorFlow's import takes seconds, and a stop then is a stop too
            return _run(parser, args, verbose)
    except (MnistDataError, FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"mnist-edge train: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an --out that cannot be written: read-only, full, a device
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mnist-edge train: error: cannot write the run: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # checkpoints are written atomically: the run folder holds whole files only
        run_dir = args.resume or args.out
        if args.all:
            how = (f"finished runs in {args.out or 'runs/zoo'} are reused by --all; continue the one in progress with "
                   "--resume RUN_DIR")
        elif theirs:
            how = f"nothing was written ({run_dir} held files before and is left as it was)"
        elif (Path(run_dir) / "checkpoints" / "last.keras").is_file():  # train.fit's checkpoint
            how = f"continue with --resume {run_dir}"
        elif (Path(run_dir) / "config.json").is_file():
            how = f"no epoch was saved yet: start it again with --resume {run_dir}"
        else:
            how = "nothing was written: start it again"
        stopped, code = stop_report(exc)
        print(f"mnist-edge train: {stopped}; {how}", file=sys.stderr)
        return code


def _holds_files(folder) -> bool:
    return bool(folder) and Path(folder).is_dir() and any(Path(folder).iterdir())


def _run(parser, args, verbose: int) -> int:
    """Train what the arguments ask: one run, a resumed run, or the whole zoo."""
    from train.fit import TrainConfig, load_config

    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.json").exists():
            parser.error(f"--resume {run_dir}: no config.json there, not a run folder")
        run_one(load_config(run_dir), run_dir, resume=True, verbose=verbose)
        return 0
    # Files as absolute paths: --resume reads them again from config.json, maybe from another folder.
    def absolute(path):
        return None if path is None else str(Path(path).absolute())

    common = dict(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                  lr_schedule=args.lr_schedule, seed=args.seed, limit=args.limit,
                  val_size=args.val_size, augment=args.augment, data=absolute(args.data),
                  num_classes=args.num_classes, negatives=args.negatives, style=args.style,
                  style_p=args.style_p,
                  ema_momentum=args.ema, label_smoothing=args.label_smoothing, init_from=absolute(args.init_from),
                  extra_crops=absolute(args.extra_crops), forms=args.forms, teacher=absolute(args.teacher),
                  teacher_weight=args.teacher_weight, teacher_temperature=args.teacher_temperature)
    if args.all:
        from train.report import summary_rows, write_summary

        zoo_dir = Path(args.out or "runs/zoo")
        for name in MODEL_ZOO:
            run_dir = zoo_dir / name
            if (run_dir / "metrics.json").exists():
                print(f"{name}: reusing {run_dir}")
                continue
            run_one(TrainConfig(model=name, **{**common, "augment": None}), run_dir, resume=False, verbose=verbose)
        rows = summary_rows([zoo_dir / n for n in MODEL_ZOO],
                            {n: s.notebook_test_accuracy for n, s in MODEL_ZOO.items()})
        md, _ = write_summary(rows, zoo_dir)
        print(md.read_text())
        return 0
    run_dir = Path(args.out)
    run_one(TrainConfig(model=args.model, **common), run_dir, resume=False, verbose=verbose)
    return 0
