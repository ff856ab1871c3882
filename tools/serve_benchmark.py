"""How fast `translation serve` answers, beside `translation translate` on the same images, in one run.

    .venv/bin/python tools/serve_benchmark.py [--requests 200] [--clients 8] [--images 16] [--size 256]

Trains a default pix2pix (unet_256, ngf 64) for one step so the checkpoint is the real architecture, writes
`--images` PNGs of `--size` px, then:
  - `translation translate` on all of them and on one of them: the difference of the two wall times is what
    the extra images cost, so start-up and loading cancel out (images/s = (images - 1) / difference);
  - `translation serve` on the run (127.0.0.1, a free port), one warm-up request, then `--requests` POSTs of
    those images from `--clients` concurrent clients: p50 / p95 latency, images/s, and the server's resident
    memory after the warm-up and after the last request.
Everything stays on 127.0.0.1 and in a temporary folder; the run stops by itself (`--time-limit` seconds in
all, each request at most 120 s), and the server is stopped at the end whatever happens.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

CLI = [sys.executable, "-m", "translation"]
URL_LINE = re.compile(r"http://127\.0\.0\.1:(\d+)/")
RUN_NAME = "bench"


def smooth_image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Low-frequency colour noise: an image with structure at every scale a U-Net sees, not white noise."""
    small = rng.integers(0, 256, size=(max(2, height // 16), max(2, width // 16), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC))


def write_paired_data(folder: Path, size: int, count: int, rng: np.random.Generator) -> None:
    """Aligned A|B pairs, as pix2pix reads them (train/ folder)."""
    train = folder / "train"
    train.mkdir(parents=True)
    for i in range(count):
        pair = np.concatenate([smooth_image(rng, size, size), smooth_image(rng, size, size)], axis=1)
        Image.fromarray(pair).save(train / f"{i:03d}.png")


def train_one_step(workdir: Path, size: int, rng: np.random.Generator) -> Path:
    data = workdir / "pairs"
    write_paired_data(data, size, 2, rng)
    checkpoints = workdir / "checkpoints"
    subprocess.run(CLI + ["train", "pix2pix", "--data", str(data), "--name", RUN_NAME, "--steps", "1",
                          "--batch-size", "1", "--load-size", str(size), "--crop-size", str(size),
                          "--checkpoints-dir", str(checkpoints), "--no-progress"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return checkpoints / RUN_NAME


def timed(command: list[str], timeout: float) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
    return time.perf_counter() - start


def translate_rate(run: Path, images: Path, workdir: Path, count: int, deadline: float) -> tuple[float, float]:
    """images/s of `translation translate` beyond start-up, and the wall time of the whole folder."""
    one = workdir / "one_input"
    one.mkdir()
    first = min(images.iterdir())
    (one / first.name).write_bytes(first.read_bytes())
    whole = timed(CLI + ["translate", str(run), str(images), str(workdir / "out_all"), "--no-progress"],
                  deadline - time.monotonic())
    single = timed(CLI + ["translate", str(run), str(one), str(workdir / "out_one"), "--no-progress"],
                   deadline - time.monotonic())
    return (count - 1) / max(whole - single, 1e-9), whole


class Server:
    """`translation serve RUN --port 0`, read until it prints its URL; stopped with SIGINT, then killed."""

    def __init__(self, run: Path, timeout: float):
        self.process = subprocess.Popen(CLI + ["serve", str(run), "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.port = None
        seen = []
        for line in self.process.stdout:  # blocks on the server's own output: no polling, no sleep
            seen.append(line)
            match = URL_LINE.search(line)
            if match:
                self.port = int(match.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("translation serve ended without printing its URL:\n" + "".join(seen))

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024

    def post(self, path: str, body: bytes) -> tuple[int, bytes, float]:
        start = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": "image/png"})
            response = connection.getresponse()
            return response.status, response.read(), time.perf_counter() - start
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def serve_rate(server: Server, bodies: list[bytes], requests: int, clients: int, size: int) -> dict:
    path = f"/api/translate?model={RUN_NAME}"
    status, payload, _ = server.post(path, bodies[0])  # loads the model
    if status != 200:
        raise RuntimeError(f"warm-up request answered {status}: {payload[:300]!r}")
    if Image.open(io.BytesIO(payload)).size != (size, size):
        raise RuntimeError("the server's output is not the input's size")
    rss_before = server.rss_mb()
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda i: server.post(path, bodies[i % len(bodies)]), range(requests)))
    wall = time.perf_counter() - start
    latencies = [seconds for status, _, seconds in results if status == 200]
    return {"ok": len(latencies), "busy": sum(status == 503 for status, _, _ in results),
            "wall": wall, "rate": len(latencies) / wall, "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95), "rss_before": rss_before, "rss_after": server.rss_mb()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--images", type=int, default=16, help="distinct test images (default: 16)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--time-limit", type=float, default=1800, help="seconds for the whole run")
    args = parser.parse_args()
    if args.images < 2 or args.requests < 1 or args.clients < 1:
        parser.error("--images needs at least 2, --requests and --clients at least 1")
    deadline = time.monotonic() + args.time_limit
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="serve_benchmark_") as tmp:
        workdir = Path(tmp)
        print(f"training pix2pix (unet_256, ngf 64) for one step at {args.size} px ...", flush=True)
        run = train_one_step(workdir, args.size, rng)
        images = workdir / "inputs"
        images.mkdir()
        bodies = []
        for i in range(args.images):
            buffer = io.BytesIO()
            Image.fromarray(smooth_image(rng, args.size, args.size)).save(buffer, format="PNG")
            bodies.append(buffer.getvalue())
            (images / f"{i:03d}.png").write_bytes(bodies[-1])
        print(f"translation translate: {args.images} images and 1 image ...", flush=True)
        cli_rate, cli_wall = translate_rate(run, images, workdir, args.images, deadline)
        print(f"translation serve: {args.requests} requests from {args.clients} clients ...", flush=True)
        server = Server(run, deadline - time.monotonic())
        try:
            served = serve_rate(server, bodies, args.requests, args.clients, args.size)
        finally:
            server.stop()
    print(f"\n{args.size} px pix2pix (unet_256), {os.cpu_count()} CPUs")
    print(f"  translate: {cli_rate:.2f} images/s beyond start-up ({args.images} images in {cli_wall:.1f} s "
          "with start-up and loading)")
    print(f"  serve:     {served['rate']:.2f} images/s, {served['ok']}/{args.requests} answered 200 "
          f"({served['busy']} busy) in {served['wall']:.1f} s; latency p50 {served['p50'] * 1000:.0f} ms, "
          f"p95 {served['p95'] * 1000:.0f} ms")
    print(f"  translate / serve per image: {cli_rate / served['rate']:.2f}x")
    print(f"  server RSS: {served['rss_before']:.0f} MB after the warm-up, {served['rss_after']:.0f} MB after "
          f"{args.requests} requests ({served['rss_after'] - served['rss_before']:+.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
