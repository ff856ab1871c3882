#!/usr/bin/env python
"""Throughput figures for the main code paths, printed as a table (no assertions).

    .venv/bin/python tools/benchmark.py [--device cpu|cuda] [--size 256]

Measures: generator forward time (unet_256, resnet_9blocks), one pix2pix training step, and folder
translation with batch 1 vs batch 4 in eval mode. Compare figures as ratios within one run: a shared
CPU is noisy.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from translation.data.io import write_image  # noqa: E402
from translation.inference import translate_folder  # noqa: E402
from translation.models.pix2pix import Pix2PixConfig, Pix2PixModel  # noqa: E402
from translation.nets import create_generator  # noqa: E402
from translation.translator import Translator  # noqa: E402


def timed(fn, repeat: int) -> float:
    fn()  # warm-up (allocations, cuDNN autotune)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    device, size = torch.device(args.device), args.size
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}, {size}x{size}")

    rows = []
    for name, norm in (("unet_256", "batch"), ("resnet_9blocks", "instance")):
        net = create_generator(name, norm=norm).to(device).eval()
        x = torch.randn(1, 3, size, size, device=device)
        with torch.no_grad():
            seconds = timed(lambda: net(x), args.repeat)
        rows.append((f"{name} forward, batch 1", seconds, 1 / seconds, "img/s"))

    config = Pix2PixConfig(load_size=size, crop_size=size, device=args.device)
    model = Pix2PixModel(config, device).train()
    batch = {"A": torch.randn(1, 3, size, size), "B": torch.randn(1, 3, size, size)}
    seconds = timed(lambda: model.training_step(batch), args.repeat)
    rows.append(("pix2pix training step (unet_256 + basic D, batch 1)", seconds, 1 / seconds, "it/s"))

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        rng = np.random.default_rng(0)
        for i in range(8):
            write_image(src / f"{i}.png", rng.random((size, size, 3)))
        net = create_generator("resnet_9blocks", norm="instance", ngf=32)
        spec = {"kwargs": {"in_channels": 3, "out_channels": 3}}
        translator = Translator(net, spec, "AtoB", "eval", device)
        for batch_size in (1, 4):
            out = Path(tmp) / f"out{batch_size}"
            start = time.perf_counter()
            translate_folder(translator, src, out, batch_size=batch_size, progress=False, num_workers=0)
            seconds = (time.perf_counter() - start) / 8
            rows.append((f"translate folder, resnet_9blocks ngf 32, batch {batch_size}", seconds, 1 / seconds,
                         "img/s"))

    width = max(len(r[0]) for r in rows)
    for label, seconds, rate, unit in rows:
        print(f"{label:<{width}}  {seconds * 1000:9.1f} ms  {rate:8.2f} {unit}")


if __name__ == "__main__":
    main()
