#!/usr/bin/env python
"""Throughput figures for the main code paths, printed as tables (no assertions).

    .venv/bin/python tools/benchmark.py [--device cpu|cuda] [--sections steps,translate,threading]

steps      one training step of pix2pix (unet_256) and CycleGAN (resnet_9blocks) at their default sizes
           (256 px, batch 1; pix2pix at batch 4 too), per precision and memory layout, the variants timed in
           turn (--compile adds torch.compile rows: slow to warm up)
translate  folder translation of 256 px JPEGs end to end: a plain fp32 read-translate-write loop vs the
           pipeline (reader processes, batches, writer thread) in fp32 and bf16
tiles      peak RSS of one 8000x6000 photo translated with --tile 512 (a fresh process; 20+ minutes on a
           2-core CPU; --tile-ngf 16 for a quick look, --tile-precision bf16)
threading  the demo's training step rate on an idle machine and beside one CPU-bound program, for each
           OpenMP wait policy (what translation/runtime.py chooses from); each case runs in a fresh process

Compare figures as ratios within one run: a shared machine is noisy, so each case is repeated and the
fastest repetition kept.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def interleaved(fns: dict, repeat: int, sync=lambda: None) -> dict:
    """Fastest time of each function over `repeat` rounds that call them in turn: drifts of a shared
    machine's speed hit every variant alike, so their ratios hold."""
    for fn in fns.values():
        fn()
        fn()
    sync()
    best = {key: float("inf") for key in fns}
    for _ in range(repeat):
        for key, fn in fns.items():
            start = time.perf_counter()
            fn()
            sync()
            best[key] = min(best[key], time.perf_counter() - start)
    return best


def step_rows(device, repeat: int, compile: bool) -> list[tuple[str, float, str]]:
    import torch

    from translation.models.cyclegan import CycleGANConfig, CycleGANModel
    from translation.models.pix2pix import Pix2PixConfig, Pix2PixModel
    from translation.training.engine import Engine

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    variants = [("fp32", False, False), ("bf16", False, False), ("bf16", True, False)]
    if compile:
        variants += [("fp32", False, True), ("bf16", True, True)]
    models = [("pix2pix unet_256", Pix2PixModel, Pix2PixConfig(), 1),
              ("pix2pix unet_256 batch 4", Pix2PixModel, Pix2PixConfig(batch_size=4), 4),
              ("CycleGAN resnet_9blocks", CycleGANModel, CycleGANConfig(pool_size=0), 1)]
    rows = []
    for label, model_class, config, batch_size in models:
        batch = {"A": torch.randn(batch_size, 3, 256, 256), "B": torch.randn(batch_size, 3, 256, 256)}
        steps = {}
        for precision, channels_last, compiled in variants:
            torch.manual_seed(0)
            model = model_class(config, device)
            for net in model.nets.values():
                net.train()
            engine = Engine(model, precision=precision, channels_last=channels_last, compile=compiled)
            name = precision + (" channels-last" if channels_last else "") + (" compiled" if compiled else "")
            counter = iter(range(10**9))
            steps[name] = lambda engine=engine, counter=counter: engine.step(batch, next(counter))
        times = interleaved(steps, repeat, sync)
        for name, seconds in times.items():
            rows.append((f"{label} train step, {name}", seconds, f"x{times['fp32'] / seconds:.2f} vs fp32"))
    return rows


def photo_like(rng, height: int, width: int):
    """uint8 HxWx3 with smooth gradients and a few edges, so JPEG sizes and decode times are a photo's."""
    import numpy as np

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = [np.sin(x / rng.uniform(20, 200) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(20, 200)) for _ in range(3)]
    image = np.stack(waves, axis=2) * 0.35 + 0.5
    image[(x // 97 + y // 61) % 5 == 0] *= 0.6
    return (image * 255).astype(np.uint8)


def translate_rows(device, repeat: int, images: int = 16) -> list[tuple[str, float, str]]:
    """Folder translation of 256x256 JPEGs end to end, eval mode: a plain fp32 read-translate-write loop
    vs translate_folder with its defaults (batches of 4, a writer thread, reader processes where there are
    cores for them) in fp32 and bf16, and with 2 reader processes whatever the cores."""
    import numpy as np
    import torch

    from translation.data.arrays import read_channels
    from translation.data.io import write_image
    from translation.inference import translate_folder
    from translation.nets import create_generator, spec_of
    from translation.translator import Translator

    def plain_loop(translator, src, out):
        for path in sorted(src.iterdir()):
            write_image(out / path.with_suffix(".png").name, translator.translate(read_channels(path, 3)))

    def folder(translator, name, **options):
        return lambda: translate_folder(translator, src, out / name, overwrite=True, progress=False, **options)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        rng = np.random.default_rng(0)
        for i in range(images):
            write_image(src / f"{i}.jpg", photo_like(rng, 256, 256))
        for label, name, norm in (("pix2pix unet_256", "unet_256", "batch"),
                                  ("CycleGAN resnet_9blocks", "resnet_9blocks", "instance")):
            torch.manual_seed(0)
            net = create_generator(name, norm=norm)
            fp32, bf16 = (Translator(net, spec_of(net), "AtoB", "eval", device, p) for p in ("fp32", "bf16"))
            variants = {
                "plain fp32 loop": lambda translator=fp32: plain_loop(translator, src, out / "plain"),
                "pipeline fp32": folder(fp32, "fp32"),
                "pipeline bf16": folder(bf16, "bf16"),
                "pipeline bf16, 2 reader processes": folder(bf16, "bf16_2", num_workers=2),
            }
            times = interleaved(variants, repeat)
            for variant, seconds in times.items():
                rows.append((f"translate {images} JPEGs 256 px, {label}, {variant}", seconds / images,
                             f"{images / seconds:.2f} img/s, x{times['plain fp32 loop'] / seconds:.2f} vs plain"))
    return rows


def tile_memory(folder: str, netG: str, ngf: int, precision: str) -> str:
    """Worker (a fresh process, so the peak is this run's alone): translate the photo in `folder` with --tile
    512 --tile-overlap 32; prints the peak resident memory in GB and the seconds taken."""
    import torch

    from translation.inference import translate_folder
    from translation.nets import create_generator, spec_of
    from translation.translator import Translator

    net = create_generator(netG, norm="instance", ngf=ngf)
    translator = Translator(net, spec_of(net), "AtoB", "eval", torch.device("cpu"), precision)
    start = time.perf_counter()
    translate_folder(translator, Path(folder) / "in", Path(folder) / "out", progress=False, tile=512, tile_overlap=32)
    seconds = time.perf_counter() - start
    peak = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
    return f"{int(peak.split()[1]) / 2**20:.2f} {seconds:.1f}"


def tile_rows(precision: str, ngf: int) -> list[tuple[str, float, str]]:
    """Peak RSS of translating an 8000x6000 photo in 512 px tiles (resnet_9blocks, CycleGAN's net)."""
    import numpy as np

    from translation.data.io import write_image

    with tempfile.TemporaryDirectory() as tmp:
        write_image(Path(tmp) / "in" / "huge.jpg", photo_like(np.random.default_rng(0), 6000, 8000))
        out = subprocess.run([sys.executable, __file__, "--worker-tile-memory",
                              f"{tmp},resnet_9blocks,{ngf},{precision}"], capture_output=True, text=True, check=True)
    peak_gb, seconds = map(float, out.stdout.split()[-2:])
    return [(f"translate an 8000x6000 JPEG, --tile 512 --tile-overlap 32, resnet_9blocks ngf {ngf}, {precision}",
             seconds, f"peak RSS {peak_gb:.2f} GB (target < 3 GB)")]


# --- threading: fresh processes, so OpenMP reads each policy at start-up ------------------------------------

POLICIES = {  # what translation/runtime.py chooses between, and the alternatives it was measured against
    "OpenMP default (spin)": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "bounded spin (runtime.py, idle)": {"GOMP_SPINCOUNT": "1000"},
    "one thread": {"OMP_NUM_THREADS": "1"},
}


def demo_step_rate(seconds: float) -> float:
    """Worker: the demo's training steps per second for `seconds` (run in a subprocess)."""
    import torch

    from translation.demo.pix2pix_demo import demo_config
    from translation.models.pix2pix import Pix2PixModel
    from translation.training.engine import Engine

    torch.manual_seed(0)
    model = Pix2PixModel(demo_config(Path("."), Path("."), 1), torch.device("cpu"))
    engine = Engine(model)
    batch = {"A": torch.randn(4, 3, 64, 64), "B": torch.randn(4, 3, 64, 64)}
    for step in range(3):
        engine.step(batch, step)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        engine.step(batch, count)
        count += 1
    return count / (time.perf_counter() - start)


def threading_rows(seconds: float, repeat: int) -> list[tuple[str, float, str]]:
    rows = []
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    for label, settings in POLICIES.items():
        rates = {}
        for busy in (False, True):
            best = 0.0
            for _ in range(repeat):
                competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
                try:
                    out = subprocess.run([sys.executable, __file__, "--worker-demo-step", str(seconds)],
                                         env={**base, **settings}, capture_output=True, text=True, check=True)
                    best = max(best, float(out.stdout.split()[-1]))
                finally:
                    if competitor:
                        competitor.kill()
                        competitor.wait()
            rates[busy] = best
        rows.append((f"demo step, {label}: idle | beside one busy program", 1 / rates[False],
                     f"{rates[False]:.1f} | {rates[True]:.1f} steps/s"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--sections", default="steps,translate,threading")  # tiles: on request
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compile", action="store_true", help="add torch.compile rows to the step table")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each threading measurement")
    parser.add_argument("--tile-ngf", type=int, default=64, help="generator width for the tiles section")
    parser.add_argument("--tile-precision", default="fp32", help="precision for the tiles section")
    parser.add_argument("--worker-demo-step", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--worker-tile-memory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_demo_step:
        print(f"{demo_step_rate(args.worker_demo_step):.3f}")
        return
    if args.worker_tile_memory:
        folder, netG, ngf, precision = args.worker_tile_memory.split(",")
        print(tile_memory(folder, netG, int(ngf), precision))
        return

    import torch

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device {device} ({name}), torch {torch.__version__}")
    sections = args.sections.split(",")
    rows = []
    if "steps" in sections:
        rows += step_rows(device, args.repeat, args.compile)
    if "translate" in sections:
        rows += translate_rows(device, args.repeat)
    if "tiles" in sections and device.type == "cpu":
        rows += tile_rows(args.tile_precision, args.tile_ngf)
    if "threading" in sections and device.type == "cpu":
        rows += threading_rows(args.seconds, max(1, args.repeat - 1))
    width = max(len(r[0]) for r in rows)
    for label, seconds, note in rows:
        print(f"{label:<{width}}  {seconds * 1000:9.1f} ms  {note}", flush=True)


if __name__ == "__main__":
    main()
