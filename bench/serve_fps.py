"""What serving to browsers costs: frames delivered to 1 and 5 MJPEG clients on loopback, and CPU, against the headless demo.

`mnist-edge bench serve` runs the demo on the bundled sample in a child
process pinned to one core, at a camera's 30 FPS and as fast as it goes:
headless with JSON lines (`mnist-edge demo`), then `--serve` with 0, 1 and 5
clients reading the MJPEG stream from this process (on another core). The
child's CPU time (all its threads: loop, JPEG encoding, sending) per frame
read is the cost; each figure is the median of --passes runs, each pass running
every case in turn.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from runtime.manifest import DEFAULT_FORMAT

REPO = Path(__file__).resolve().parents[1]
CASES = [("headless", 0), ("serve", 0), ("serve", 1), ("serve", 5)]
PACES = {"30 FPS (a camera)": 30.0, "as fast as it goes": None}
FRAMES = {30.0: 300, None: 1000}  # frames read per run: 10 s at 30 FPS; a few seconds unpaced
SERVER_CORE = 0


class MjpegClient:
    """Reads a multipart/x-mixed-replace stream part by part (as a browser does); counts frames and their times."""

    def __init__(self, host: str, port: int, path: str = "/stream.mjpg", headers: dict | None = None,
                 timeout: float = 10.0, receive_buffer: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        self.file = self.sock.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers = self._read_headers()
        self.times: list[float] = []
        self.last: bytes | None = None
        if self.status == 200:
            boundary = self.headers["content-type"].split("boundary=")[1]
            self.boundary = b"--" + boundary.encode() + b"\r\n"
            if self.file.readline() != self.boundary:
                raise ValueError("the stream does not start with its boundary")

    def _read_headers(self) -> dict:
        headers = {}
        for line in iter(self.file.readline, b"\r\n"):
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return headers

    def read_frame(self) -> bytes | None:
        """The next JPEG, or None when the server ended the stream."""
        part = self._read_headers()
        if "content-length" not in part:
            return None
        data = self.file.read(int(part["content-length"]))
        if self.file.readline() != b"\r\n" or self.file.readline() != self.boundary:
            raise ValueError("a part does not end with the boundary")
        self.times.append(time.perf_counter())
        self.last = data
        return data

    def read_until_closed(self) -> None:
        try:
            while self.read_frame() is not None:
                pass
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        self.file.close()
        self.sock.close()


def _child(spec: dict) -> None:
    """One measured run (in its own process, pinned to one core): prints the port when serving, then the result."""
    import cv2

    from camera_demo.app import DemoConfig, run_demo
    from camera_demo.broadcast import Broadcast
    from camera_demo.web_server import ServeSettings, start_server, stop_server
    from camera_demo.sources import PacedLoop, open_source
    from runtime.predictor import load_predictor

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {spec["core"]})
    cv2.setNumThreads(1)
    predictor = load_predictor(spec["model"], threads=1)
    source = PacedLoop(open_source("sample"), lambda: open_source("sample"), spec["fps"])
    serving = spec["mode"] == "serve"
    config = DemoConfig(source="sample", headless=True, jsonl="" if serving else os.devnull, force=True,
                        max_frames=spec["frames"])
    hub = server = None
    if serving:
        hub = Broadcast(source.name)
        server = start_server(ServeSettings(port=0, max_clients=16), hub)
        print(f"port {server.server_address[1]}", flush=True)
        deadline = time.monotonic() + 60
        while server.counters()["streams"] < spec["clients"] and time.monotonic() < deadline:
            time.sleep(0.01)
    cpu, wall = time.process_time(), time.perf_counter()
    summary = run_demo(config, source=source, predictor=predictor, sink=hub, say=lambda msg: None)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    sent = 0
    if serving:
        sent = server.counters()["frames_sent"]
        stop_server(server, hub)
    print(json.dumps({"frames": summary.frames, "seconds": wall, "cpu_s": cpu, "frames_sent": sent,
                      "stage_ms": summary.stage_ms}), flush=True)


def run_case(mode: str, clients: int, fps: float | None, model: str, core: int = 0) -> dict:
    """One run: the child reads the sample; `clients` MJPEG readers here (on another core) watch it."""
    spec = {"mode": mode, "clients": clients, "fps": fps, "frames": FRAMES[fps], "model": model, "core": core}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    log = tempfile.TemporaryFile("w+")
    child = subprocess.Popen([sys.executable, "-m", "bench.serve_fps", "--child", json.dumps(spec)], cwd=REPO,
                             env=env, stdout=subprocess.PIPE, stderr=log, text=True)
    readers, threads = [], []
    try:
        line = child.stdout.readline()
        if mode == "serve":
            port = int(line.split()[1])
            readers = [MjpegClient("127.0.0.1", port) for _ in range(clients)]
            threads = [threading.Thread(target=r.read_until_closed, daemon=True) for r in readers]
            for t in threads:
                t.start()
            line = child.stdout.readline()
        if child.wait(timeout=600) != 0 or not line:
            log.seek(0)
            raise RuntimeError(f"the measured run ({mode}, {clients} clients) failed: exit {child.returncode}\n{log.read()}")
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    for t in threads:
        t.join(timeout=10)
    for r in readers:
        r.close()
    result = json.loads(line)
    seconds = result["seconds"]
    delivered = [len(r.times) / seconds for r in readers]
    return {"mode": mode, "clients": clients, "pace_fps": fps, "frames": result["frames"], "seconds": seconds,
            "fps_read": result["frames"] / seconds, "fps_delivered": delivered,
            "cpu_percent": 100 * result["cpu_s"] / seconds, "cpu_ms_per_frame": 1000 * result["cpu_s"] / result["frames"],
            "stage_ms": result["stage_ms"]}


def _median_row(runs: list[dict]) -> dict:
    row = {k: runs[0][k] for k in ("mode", "clients", "pace_fps", "frames")}
    for key in ("fps_read", "cpu_percent", "cpu_ms_per_frame"):
        row[key] = float(np.median([r[key] for r in runs]))
    row["fps_delivered_median"] = float(np.median([np.median(r["fps_delivered"]) for r in runs])) if row["clients"] else None
    row["fps_delivered_min"] = float(min(min(r["fps_delivered"]) for r in runs)) if row["clients"] else None
    row["runs"] = runs
    return row


def run_benchmark(passes: int = 3, model: str = DEFAULT_FORMAT, progress: bool = True) -> dict:
    from runtime.progress import progress as report_progress

    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, os.sched_getaffinity(0) - {SERVER_CORE})  # the clients: off the demo's core
    load_before = os.getloadavg()
    cases = [(pace, fps, mode, clients) for pace, fps in PACES.items() for mode, clients in CASES]
    runs = {case: [] for case in cases}
    # each pass runs every case, so a change in the machine's load hits all of them
    every = [case for _ in range(passes) for case in cases]
    for case in report_progress(every, len(every), "bench serve", "runs", enabled=progress):
        pace, fps, mode, clients = case
        runs[case].append(run_case(mode, clients, fps, model, SERVER_CORE))
    rows = [{"pace": case[0], **_median_row(runs[case])} for case in cases]
    for row in rows:
        base = next(r for r in rows if r["pace"] == row["pace"] and r["mode"] == "headless")
        row["cpu_ms_per_frame_over_headless"] = row["cpu_ms_per_frame"] - base["cpu_ms_per_frame"]
    return {
        "benchmark": "camera_serve",
        "source": "bundled sample (640x480 MP4), replayed in a loop",
        "model": model,
        "server_cores": 1,
        "clients": "MJPEG readers in the benchmark's process, on loopback",
        "machine": {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "python": platform.python_version()},
        "passes": passes,
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "rows": rows,
    }


def to_markdown(result: dict) -> str:
    lines = [
        f"Demo on the {result['source']}, {result['model']}, the process pinned to 1 core; clients read the MJPEG "
        f"stream on loopback from another process. Medians of {result['passes']} runs. CPU: the demo process, "
        f"all threads (loop, JPEG encoding, sending); headless = `mnist-edge demo` (JSON lines, no server). "
        f"Machine: {result['machine']['cpus']} CPUs, 1-minute load average {result['load_average_1min']['before']:.1f} "
        f"before and {result['load_average_1min']['after']:.1f} after (other jobs share the cores: frame rates "
        f"unpaced are bounded by the share this process got; CPU ms per frame is the steadier figure). "
        f"Over headless: the extra CPU per frame read that serving costs (JPEG encoding once per frame a client "
        f"takes, sending, the server's threads).",
        "",
        "| source pace | run | clients | frames read /s | delivered /s per client (median, min) | CPU % of a core "
        "| CPU ms per frame | over headless |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        delivered = f"{r['fps_delivered_median']:.1f} ({r['fps_delivered_min']:.1f})" if r["clients"] else "–"
        over = "–" if r["mode"] == "headless" else f"{r['cpu_ms_per_frame_over_headless']:+.2f} ms"
        lines.append(f"| {r['pace']} | {r['mode']} | {r['clients']} | {r['fps_read']:.1f} | {delivered} | "
                     f"{r['cpu_percent']:.0f} % | {r['cpu_ms_per_frame']:.2f} | {over} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    from bench.results import pyplot, save_figure

    plt = pyplot()
    fig, axes = plt.subplots(1, len(PACES), figsize=(10, 3.2), sharey=False)
    for ax, pace in zip(np.atleast_1d(axes), PACES):
        rows = [r for r in result["rows"] if r["pace"] == pace]
        labels = ["headless" if r["mode"] == "headless" else f"serve, {r['clients']} cl." for r in rows]
        values = [r["cpu_ms_per_frame"] for r in rows]
        ax.bar(labels, values, color=["#888"] + ["#3a7"] * (len(rows) - 1))
        for x, (value, r) in enumerate(zip(values, rows)):
            ax.text(x, value, f"{value:.2f}\n{r['fps_read']:.0f} FPS", ha="center", va="bottom", fontsize=8)
        ax.set(title=f"source: {pace}", ylabel="CPU ms per frame read")
        ax.set_ylim(0, max(values) * 1.3)
    fig.suptitle("camera demo: the cost of serving to browsers (one core)", y=1.03)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mnist-edge bench serve", description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="measured runs of each setting; the median is reported (default 3)")
    parser.add_argument("--model", default=DEFAULT_FORMAT, help=f"format in models/manifest.json (default {DEFAULT_FORMAT})")
    parser.add_argument("--out", default="benchmarks", help="folder for camera_serve.{md,json,png}")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)  # one measured run, in its own process
    args = parser.parse_args(argv)
    if args.child:
        _child(json.loads(args.child))
        return 0
    if args.passes <= 0:
        parser.error("--passes must be positive")
    from bench.results import write_benchmark

    result = run_benchmark(args.passes, args.model)
    table = to_markdown(result)
    print(table)
    write_benchmark(args.out, "camera_serve", result, table, plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
