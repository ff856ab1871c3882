#!/usr/bin/env python
"""Throughput figures for the main code paths, printed as a table (no assertions), optionally saved as JSON
and drawn as a bar chart.

    .venv/bin/python tools/benchmark.py [--device cpu|cuda] [--sections steps,generators,translate,onnx,threading]
                                        [--json FILE] [--chart FILE.png] [--quick] [--compile] [--no-memory]
                                        [--only StarGAN] [--variants fp32,bf16]

peak       the machine's matmul peak in fp32 and bf16 (large square matmuls, the best of several sizes at the
           start and of the rounds of every group, which time one beside their variants): the physical limit
           every row's achieved GFLOP/s is compared with (measured whenever a section needs it)
steps      one training step at the models' default sizes: pix2pix (unet_256, 256 px, batch 1 and 4),
           CycleGAN (resnet_9blocks, 256 px, batch 1), StarGAN (128 px, batch 16; one call is 5 steps, a full
           n_critic cycle of 4 D-only steps and one D+G step, and the time shown is their mean), per precision
           and memory layout (--compile adds torch.compile rows: slow to warm up)
generators generator inference (eval mode, no gradients): unet_256 and resnet_9blocks at 256 px batch 1,
           StarGAN's G at 128 px batch 16, same variants
translate  folder translation of 256 px JPEGs end to end: a plain fp32 read-translate-write loop vs the
           pipeline (reader processes, batches, writer thread) in fp32 and bf16
onnx       ONNX Runtime against PyTorch eager fp32 for resnet_9blocks' forward (tools/onnx_speed.py)
tiles      peak RSS of one 8000x6000 photo translated with --tile 512 (a fresh process; 20+ minutes on a
           2-core CPU; --tile-ngf 16 for a quick look, --tile-precision bf16)
quality    `make demo` trained --demo-steps steps (300) in fp32 and in bf16: held-out PSNR and SSIM of each
threading  the demo's training step rate on an idle machine and beside one CPU-bound program, for each
           OpenMP wait policy (what translation/runtime.py chooses from); each case runs in a fresh process
           (onnx, tiles, quality and threading are CPU sections, left out with --device cuda)

Each row: seconds per step (steps), per forward pass of a batch (generators) or per image (translate);
images/s; achieved GFLOP/s (FLOPs counted on one call of the fp32 eager variant, which every variant of the
same architecture shares) and its share of the matmul peak of the row's precision; peak memory, measured in
a fresh process that builds the case and runs it twice (CPU: peak resident memory, VmHWM; CUDA: max
allocated; translate: the main process, not its reader processes). Compare figures as ratios within one
run: a shared machine is noisy, so the variants of one architecture are timed in turn and the fastest of
--repeat rounds kept.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from measure import count_flops, interleaved, matmul, matmul_peak, peak_memory_gb  # noqa: E402  (tools/ is not a package)


# --- cases: one timed call each, built by name so that a fresh process can build the same one --------------

@dataclass
class Case:
    fn: Callable[[], object]
    images: int  # images per call
    units: int  # what one row's seconds are per: steps (train), forward passes (generators), images (translate)
    precision: str


VARIANTS = {  # name: (precision, channels-last, torch.compile)
    "fp32": ("fp32", False, False),
    "bf16": ("bf16", False, False),
    "bf16 channels-last": ("bf16", True, False),
}
COMPILED = {"fp32 compiled": ("fp32", False, True), "bf16 channels-last compiled": ("bf16", True, True)}
MATMUL_DTYPES = {"fp32": "float32", "bf16": "bfloat16"}  # torch dtypes by name: torch loads late
STARGAN_DOMAINS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]  # its CelebA default


def training_setup(name: str, quick: bool):
    """(model builder, batch, steps per call) of a train-step group at its default size (--quick: narrow
    nets, small images)."""
    import torch

    from translation.models.configs import CycleGANConfig, Pix2PixConfig, StarGANConfig

    narrow = {"ngf": 8, "ndf": 8} if quick else {}
    if name.startswith("pix2pix"):
        from translation.models.pix2pix import Pix2PixModel

        batch_size = 4 if name.endswith("batch 4") else 1
        config = Pix2PixConfig(batch_size=batch_size, **narrow)
        images = torch.rand(2, batch_size, 3, 256, 256) * 2 - 1  # unet_256 needs 256 px, even --quick
        return (lambda device: Pix2PixModel(config, device)), {"A": images[0], "B": images[1]}, 1
    if name.startswith("CycleGAN"):
        from translation.models.cyclegan import CycleGANModel

        config, size = CycleGANConfig(pool_size=0, **narrow), 64 if quick else 256
        images = torch.rand(2, 1, 3, size, size) * 2 - 1
        return (lambda device: CycleGANModel(config, device)), {"A": images[0], "B": images[1]}, 1
    from types import SimpleNamespace

    from translation.models.stargan import StarGANModel

    config = StarGANConfig(**({**narrow, "image_size": 64, "batch_size": 2} if quick else {}))
    n = config.batch_size
    data = SimpleNamespace(domains=STARGAN_DOMAINS, label_kind="multi_label")
    batch = {"A": torch.rand(n, 3, config.image_size, config.image_size) * 2 - 1,
             "label": (torch.rand(n, len(STARGAN_DOMAINS)) > 0.5).float(), "label_index": torch.full((n,), -1)}
    return (lambda device: StarGANModel(config, device, data)), batch, config.n_critic


def train_step_case(name: str, device, quick: bool, variant: str, workdir: Path) -> Case:
    import torch

    from translation.training.engine import Engine

    build, batch, steps = training_setup(name, quick)
    precision, channels_last, compiled = {**VARIANTS, **COMPILED}[variant]
    torch.manual_seed(0)
    model = build(device)
    for net in model.nets.values():
        net.train()
    engine = Engine(model, precision=precision, channels_last=channels_last, compile=compiled)
    counter = itertools.count()  # each call starts on a multiple of `steps`: StarGAN's G runs once per call

    def run():
        for _ in range(steps):
            engine.step(batch, next(counter))

    return Case(run, images=steps * len(batch["A"]), units=steps, precision=precision)


def generator_setup(name: str, quick: bool):
    """(net, inputs) of a generator at its default size (--quick: narrow, small)."""
    import torch

    from translation.nets import create_generator

    ngf = {"ngf": 8} if quick else {}
    if name.startswith("unet_256"):
        return create_generator("unet_256", norm="batch", **ngf), (torch.rand(1, 3, 256, 256) * 2 - 1,)
    if name.startswith("resnet_9blocks"):
        size = 64 if quick else 256
        return create_generator("resnet_9blocks", norm="instance", **ngf), (torch.rand(1, 3, size, size) * 2 - 1,)
    n, size = (2, 32) if quick else (16, 128)
    net = create_generator("stargan", n_labels=len(STARGAN_DOMAINS), **ngf)
    return net, (torch.rand(n, 3, size, size) * 2 - 1, (torch.rand(n, len(STARGAN_DOMAINS)) > 0.5).float())


def generator_case(name: str, device, quick: bool, variant: str, workdir: Path) -> Case:
    import torch

    from translation.precision import inference_net, precision_for

    precision, channels_last, compiled = {**VARIANTS, **COMPILED}[variant]
    torch.manual_seed(0)
    net, inputs = generator_setup(name, quick)
    run_net = inference_net(net.to(device).eval(), channels_last, compiled)  # as translate runs it
    inputs = [x.to(device) for x in inputs]
    if channels_last:
        inputs = [x.to(memory_format=torch.channels_last) if x.dim() == 4 else x for x in inputs]
    autocast = precision_for(precision, device).autocast

    def run():
        with torch.inference_mode(), autocast():
            run_net(*inputs)

    return Case(run, images=len(inputs[0]), units=1, precision=precision)


def photo_like(rng, height: int, width: int):
    """uint8 HxWx3 with smooth gradients and a few edges, so JPEG sizes and decode times are a photo's."""
    import numpy as np

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    waves = [np.sin(x / rng.uniform(20, 200) + rng.uniform(0, 6)) * np.cos(y / rng.uniform(20, 200)) for _ in range(3)]
    image = np.stack(waves, axis=2) * 0.35 + 0.5
    image[(x // 97 + y // 61) % 5 == 0] *= 0.6
    return (image * 255).astype(np.uint8)


TRANSLATE_VARIANTS = {  # name: (precision, pipeline, reader processes (None: translate_folder's default))
    "plain fp32 loop": ("fp32", False, None),
    "pipeline fp32": ("fp32", True, None),
    "pipeline bf16": ("bf16", True, None),
    "pipeline bf16, 2 reader processes": ("bf16", True, 2),
}


def translate_case(name: str, device, quick: bool, variant: str, workdir: Path) -> Case:
    """Folder translation of 256x256 JPEGs (--quick: 4 of 64 px, narrow nets) end to end, eval mode: a plain
    read-translate-write loop, or translate_folder (batches of 4, a writer thread, reader processes where
    there are cores for them, or 2 whatever the cores)."""
    import numpy as np
    import torch

    from translation.data.arrays import read_channels
    from translation.data.io import write_image
    from translation.inference.folders import translate_folder
    from translation.nets import create_generator, spec_of
    from translation.inference.translator import Translator

    count, size = (4, 64) if quick else (16, 256)
    src, out = workdir / f"jpegs_{size}", workdir / "out" / name / variant
    if not src.is_dir():  # the same photos for every case, and for the fresh processes that measure memory
        rng = np.random.default_rng(0)
        for i in range(count):
            write_image(src / f"{i}.jpg", photo_like(rng, size, size))
    precision, pipeline, readers = TRANSLATE_VARIANTS[variant]
    torch.manual_seed(0)
    net_name, norm = ("unet_256", "batch") if name.startswith("pix2pix") else ("resnet_9blocks", "instance")
    net = create_generator(net_name, norm=norm, **({"ngf": 8} if quick else {}))
    translator = Translator(net, spec_of(net), "AtoB", "eval", device, precision)

    def plain_loop():
        for path in sorted(src.iterdir()):
            write_image(out / path.with_suffix(".png").name, translator.translate(read_channels(path, 3)))

    def folder():
        translate_folder(translator, src, out, overwrite=True, progress=False, num_workers=readers)

    return Case(folder if pipeline else plain_loop, images=count, units=count, precision=precision)


GROUPS = {  # name: (section, case builder, variants)
    "pix2pix unet_256": ("steps", train_step_case, VARIANTS),
    "pix2pix unet_256 batch 4": ("steps", train_step_case, VARIANTS),
    "CycleGAN resnet_9blocks": ("steps", train_step_case, VARIANTS),
    "StarGAN 128 px batch 16": ("steps", train_step_case, VARIANTS),
    "unet_256 (pix2pix G)": ("generators", generator_case, VARIANTS),
    "resnet_9blocks (CycleGAN G)": ("generators", generator_case, VARIANTS),
    "StarGAN G 128 px batch 16": ("generators", generator_case, VARIANTS),
    "pix2pix unet_256 JPEG folder": ("translate", translate_case, TRANSLATE_VARIANTS),
    "CycleGAN resnet_9blocks JPEG folder": ("translate", translate_case, TRANSLATE_VARIANTS),
}
QUICK_SKIPS = {"pix2pix unet_256 batch 4"}  # the batch-1 row exercises the same code


@dataclass
class Run:
    """What every group of a run shares."""
    device: object
    quick: bool
    repeat: int
    compile: bool
    memory: bool
    variants: list[str] | None  # only these (None: all)
    workdir: Path
    peaks: dict  # precision: matmul GFLOP/s
    machine: dict  # device name, torch version, threads: copied into every row

    def sync(self):
        import torch

        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def group_rows(name: str, run: Run) -> list[dict]:
    """Time the variants of group `name` in turn; FLOPs from its first (fp32 eager) variant; peak memory of
    each from a fresh process."""
    import torch

    section, build, variants = GROUPS[name]
    names = [v for v in variants if run.variants is None or v in run.variants]
    if run.compile and variants is VARIANTS:
        names += list(COMPILED)
    if not names:  # --variants left none of this group's
        return []
    cases = {v: build(name, run.device, run.quick, v, run.workdir) for v in names}
    baseline = names[0]
    flops = count_flops(cases[baseline].fn)  # also the baseline's first warm-up
    # the matmul peak timed in the same rounds: a shared machine's load then weighs on it as on the rows
    size = run.machine["matmul_sizes"][-2]
    peak_calls = {p: matmul(run.device, getattr(torch, dtype), size) for p, dtype in MATMUL_DTYPES.items()}
    times = interleaved({**{v: case.fn for v, case in cases.items()},
                         **{f"matmul {p}": fn for p, (fn, _) in peak_calls.items()}}, run.repeat, run.sync, warmup=1)
    for p, (_, matmul_flops) in peak_calls.items():
        run.peaks[p] = max(run.peaks[p], matmul_flops / 1e9 / times[f"matmul {p}"])
    rows = []
    for variant, case in cases.items():
        seconds = times[variant]
        gflops = flops / 1e9 / seconds
        rows.append({**run.machine, "name": f"{name}, {variant}", "section": section, "precision": case.precision,
                     "seconds": seconds / case.units, "images_per_s": case.images / seconds,
                     "gflop_per_call": flops / 1e9, "gflops": gflops, "matmul_peak_gflops": run.peaks[case.precision],
                     "fraction_of_peak": gflops / run.peaks[case.precision],
                     "peak_memory_gb": fresh_process_peak(name, variant, run) if run.memory else None,
                     "note": f"x{times[baseline] / seconds:.2f} vs {baseline}"})
    return rows


def fresh_process_peak(group: str, variant: str, run: Run) -> float:
    """Peak memory of one case, built and run twice in a fresh process (so the peak is its alone)."""
    spec = {"group": group, "variant": variant, "device": str(run.device), "quick": run.quick,
            "workdir": str(run.workdir)}
    out = subprocess.run([sys.executable, __file__, "--worker-peak-memory", json.dumps(spec)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"peak memory of {group}, {variant}: the worker failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.split()[-1])


def case_peak_memory(spec: dict) -> float:
    """Worker: build the case `spec` names, run it twice, return this process's peak memory in GiB."""
    import torch

    device = torch.device(spec["device"])
    case = GROUPS[spec["group"]][1](spec["group"], device, spec["quick"], spec["variant"], Path(spec["workdir"]))
    case.fn()
    case.fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return peak_memory_gb(device)


def peak_rows(run: Run) -> list[dict]:
    sizes = run.machine["matmul_sizes"]
    return [{**run.machine, "name": f"matmul peak, {precision} (square {sizes}, the best)", "section": "peak",
             "precision": precision, "seconds": None, "images_per_s": None, "gflop_per_call": None,
             "gflops": gflops, "fraction_of_peak": None, "peak_memory_gb": None, "note": ""}
            for precision, gflops in run.peaks.items()]


ONNX_GROUP = "resnet_9blocks, ONNX Runtime vs PyTorch"  # what --only matches for the onnx section


def onnx_rows(run: Run) -> list[dict]:
    """ONNX Runtime vs PyTorch eager fp32, resnet_9blocks forward at 256 px batch 1 (--quick: ngf 8, 64 px),
    through tools/onnx_speed.py; both runtimes live in one process, so no peak memory of their own."""
    from onnx_speed import compare

    ngf, size = (8, 64) if run.quick else (64, 256)
    r = compare("resnet_9blocks", size=size, batch=1, repeat=max(run.repeat, 3), ngf=ngf)
    # the peak again, right after: the start-up figure of a loaded machine can sit far below it
    import torch

    size_peak = run.machine["matmul_sizes"][-2]
    run.peaks["fp32"] = max(run.peaks["fp32"], matmul_peak(run.device, torch.float32, (size_peak,), repeat=3))
    rows = []
    for label, seconds in (("PyTorch eager fp32", r["pytorch_s"]), ("ONNX Runtime", r["onnxruntime_s"])):
        gflops = r["flops"] / 1e9 / seconds
        rows.append({**run.machine, "name": f"resnet_9blocks {size} px forward, {label}", "section": "onnx",
                     "precision": "fp32", "seconds": seconds, "images_per_s": 1 / seconds,
                     "gflop_per_call": r["flops"] / 1e9, "gflops": gflops, "matmul_peak_gflops": run.peaks["fp32"],
                     "fraction_of_peak": gflops / run.peaks["fp32"], "peak_memory_gb": None,
                     "note": f"x{r['pytorch_s'] / seconds:.2f} vs PyTorch; outputs differ by at most "
                             f"{r['max_abs_difference']:.1e}"})
    return rows


# --- tiles: a huge photo in a fresh process -----------------------------------------------------------------

def tile_memory(folder: str, netG: str, ngf: int, precision: str) -> str:
    """Worker (a fresh process, so the peak is this run's alone): translate the photo in `folder` with --tile
    512 --tile-overlap 32; prints the peak resident memory in GB and the seconds taken."""
    import torch

    from translation.inference.folders import translate_folder
    from translation.nets import create_generator, spec_of
    from translation.inference.translator import Translator

    net = create_generator(netG, norm="instance", ngf=ngf)
    translator = Translator(net, spec_of(net), "AtoB", "eval", torch.device("cpu"), precision)
    start = time.perf_counter()
    translate_folder(translator, Path(folder) / "in", Path(folder) / "out", progress=False, tile=512, tile_overlap=32)
    seconds = time.perf_counter() - start
    return f"{peak_memory_gb(torch.device('cpu')):.2f} {seconds:.1f}"


def tile_rows(run: Run, precision: str, ngf: int) -> list[dict]:
    """Peak RSS of translating an 8000x6000 photo (--quick: 1200x900) in 512 px tiles (resnet_9blocks)."""
    import numpy as np

    from translation.data.io import write_image

    height, width = (900, 1200) if run.quick else (6000, 8000)
    with tempfile.TemporaryDirectory() as tmp:
        write_image(Path(tmp) / "in" / "huge.jpg", photo_like(np.random.default_rng(0), height, width))
        out = subprocess.run([sys.executable, __file__, "--worker-tile-memory",
                              f"{tmp},resnet_9blocks,{ngf},{precision}"], capture_output=True, text=True, check=True)
    peak_gb, seconds = map(float, out.stdout.split()[-2:])
    return [{**run.machine, "name": f"translate a {width}x{height} JPEG, --tile 512 --tile-overlap 32, "
                                    f"resnet_9blocks ngf {ngf}, {precision}",
             "section": "tiles", "precision": precision, "seconds": seconds, "images_per_s": 1 / seconds,
             "gflop_per_call": None, "gflops": None, "fraction_of_peak": None, "peak_memory_gb": peak_gb,
             "note": "peak RSS, target < 3 GB"}]


# --- quality: bf16 must not cost quality ---------------------------------------------------------------------

def quality_rows(run: Run, steps: int) -> list[dict]:
    """`make demo` (pix2pix, unet_64, 64 px, batch 4) for `steps` steps in fp32 and in bf16, the same data
    and seed: held-out PSNR and SSIM of each (the target: bf16 within 0.3 dB of fp32). --quick: 20 steps
    on 64 training pairs."""
    from translation.demo.pix2pix_demo import run_demo

    sizes = {"steps": 20, "train_count": 64, "test_count": 8} if run.quick else {"steps": steps}
    results = {p: run_demo(run.workdir / f"demo_{p}", precision=p, **sizes) for p in ("fp32", "bf16")}
    steps = sizes["steps"]
    rows = []
    for precision, r in results.items():
        change = r["psnr"] - results["fp32"]["psnr"]
        rows.append({**run.machine, "name": f"make demo, {steps} training steps, {precision}: held-out quality",
                     "section": "quality", "precision": precision, "seconds": r["train_seconds"] / steps,
                     "images_per_s": 4 * steps / r["train_seconds"], "gflop_per_call": None, "gflops": None,
                     "fraction_of_peak": None, "peak_memory_gb": None, "psnr": r["psnr"], "ssim": r["ssim"],
                     "note": f"PSNR {r['psnr']:.2f} dB ({change:+.2f} vs fp32), SSIM {r['ssim']:.3f}"})
    return rows


# --- threading: fresh processes, so OpenMP reads each policy at start-up ------------------------------------

POLICIES = {  # what translation/runtime.py sets (bounded spin), and the alternatives it was measured against
    "OpenMP default (spin)": {},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "bounded spin (runtime.py)": {"GOMP_SPINCOUNT": "1000"},
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


def threading_rows(run: Run, seconds: float, repeat: int) -> list[dict]:
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
        rows.append({**run.machine, "name": f"demo step, {label}: idle | beside one busy program",
                     "section": "threading", "precision": "fp32", "seconds": 1 / rates[False],
                     "images_per_s": 4 * rates[False], "gflop_per_call": None, "gflops": None,
                     "fraction_of_peak": None, "peak_memory_gb": None,
                     "note": f"{rates[False]:.1f} | {rates[True]:.1f} steps/s"})
    return rows


# --- the table -----------------------------------------------------------------------------------------------

NAME_WIDTH = 72


def print_row(row: dict) -> None:
    def show(value, fmt, scale=1.0):
        return format("-", f">{fmt.split('.')[0]}") if value is None else format(value * scale, fmt)

    print(f"{row['name']:<{NAME_WIDTH}}  {show(row['seconds'], '10.1f', 1000)}  {show(row['images_per_s'], '8.2f')}  "
          f"{show(row['gflops'], '8.1f')}  {show(row['fraction_of_peak'], '6.1%')}  "
          f"{show(row['peak_memory_gb'], '7.2f')}  {row['note']}", flush=True)


SECTIONS = ("steps", "generators", "translate", "onnx", "tiles", "quality", "threading")
FLOP_SECTIONS = ("steps", "generators", "translate", "onnx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--sections", default="steps,generators,translate,onnx,threading",
                        help=f"comma-separated, of {', '.join(SECTIONS)} (tiles, quality: on request)")
    parser.add_argument("--repeat", type=int, default=None, help="rounds per case, the fastest kept (default 3; "
                                                                 "--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="narrow nets, small images, one round: a smoke test")
    parser.add_argument("--variants", default=None, help="only these variants, comma-separated (e.g. fp32,bf16)")
    parser.add_argument("--only", default=None, help="only the architectures whose name contains this (e.g. StarGAN)")
    parser.add_argument("--compile", action="store_true", help="add torch.compile rows to steps and generators")
    parser.add_argument("--no-memory", action="store_true", help="skip the fresh processes that measure peak memory")
    parser.add_argument("--json", type=Path, help="write every row to this JSON file")
    parser.add_argument("--chart", type=Path, help="draw the rows' share of the matmul peak into this PNG")
    parser.add_argument("--demo-steps", type=int, default=300, help="training steps of each quality run")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each threading measurement")
    parser.add_argument("--tile-ngf", type=int, default=64, help="generator width for the tiles section")
    parser.add_argument("--tile-precision", default="fp32", choices=("fp32", "bf16"),
                        help="precision for the tiles section")
    parser.add_argument("--worker-demo-step", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--worker-tile-memory", help=argparse.SUPPRESS)
    parser.add_argument("--worker-peak-memory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_demo_step:
        print(f"{demo_step_rate(args.worker_demo_step):.3f}")
        return
    from translation.runtime import configure_cpu_threads

    configure_cpu_threads()  # before torch loads: OpenMP's wait policy as the `translation` command sets it
    if args.worker_tile_memory:
        folder, netG, ngf, precision = args.worker_tile_memory.split(",")
        print(tile_memory(folder, netG, int(ngf), precision))
        return
    if args.worker_peak_memory:
        print(f"{case_peak_memory(json.loads(args.worker_peak_memory)):.4f}")
        return
    sections = args.sections.split(",")
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"--sections: unknown {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.device and not (args.device == "cpu" or re.fullmatch(r"cuda(:\d+)?", args.device)):
        parser.error(f"--device {args.device}: choose cpu or cuda (cuda:N for one GPU of several)")
    if args.demo_steps < 1:
        parser.error(f"--demo-steps {args.demo_steps}: must be at least 1")
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: must be at least 1")
    if args.chart and args.chart.suffix.lower() != ".png":
        parser.error(f"--chart {args.chart}: the chart is a PNG, name it .png")
    variants = args.variants.split(",") if args.variants else None
    known = {**VARIANTS, **TRANSLATE_VARIANTS}
    if variants and not set(variants) & set(known):
        parser.error(f"--variants: none of {args.variants!r} is a variant; they are {', '.join(known)}")

    import torch

    from translation.utils.files import atomic_write_text

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: PyTorch sees no GPU here; use --device cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_name()
    sizes = (256, 512) if args.quick else (1024, 2048, 4096)
    machine = {"device": str(device), "device_name": name, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "matmul_sizes": list(sizes)}
    print(f"device {device} ({name}), torch {torch.__version__}, {machine['threads']} threads", flush=True)
    repeat = args.repeat or (1 if args.quick else 3)
    print(f"{'':<{NAME_WIDTH}}  {'ms':>10}  {'img/s':>8}  {'GFLOP/s':>8}  {'peak':>6}  {'mem GB':>7}", flush=True)
    rows = []

    def add(new_rows: list[dict]) -> None:
        """Print each group's rows as it finishes and rewrite the JSON: a full run takes an hour, and one
        stopped early keeps what it measured."""
        rows.extend(new_rows)
        for row in new_rows:
            print_row(row)
        if args.json:
            atomic_write_text(args.json, json.dumps({"machine": {**machine, "matmul_peak_gflops": run.peaks},
                                                     "rows": rows}, indent=1) + "\n")

    with tempfile.TemporaryDirectory() as workdir:
        run = Run(device, args.quick, repeat, args.compile, not args.no_memory, variants, Path(workdir), {}, machine)
        if set(sections) & set(FLOP_SECTIONS):
            run.peaks = {p: matmul_peak(device, getattr(torch, d), sizes, repeat=1 if args.quick else 3)
                         for p, d in MATMUL_DTYPES.items()}
            print(f"matmul peak at the start: {run.peaks['fp32']:.1f} GFLOP/s fp32, {run.peaks['bf16']:.1f} bf16 "
                  "(each group times it again in its rounds; the best so far is what its rows are compared with)",
                  flush=True)

        def wanted(group: str) -> bool:
            return args.only is None or args.only.lower() in group.lower()

        for group, (section, _, _) in GROUPS.items():
            if section in sections and wanted(group) and not (args.quick and group in QUICK_SKIPS):
                add(group_rows(group, run))
        if "onnx" in sections and device.type == "cpu" and wanted(ONNX_GROUP):
            add(onnx_rows(run))
        if run.peaks:
            add(peak_rows(run))  # the best of the whole run
        if "tiles" in sections and device.type == "cpu":
            add(tile_rows(run, args.tile_precision, args.tile_ngf))
        if "quality" in sections and device.type == "cpu":  # the demo trains on the CPU
            add(quality_rows(run, args.demo_steps))
        if "threading" in sections and device.type == "cpu":
            add(threading_rows(run, args.seconds, max(1, repeat - 1)))
    if args.json:
        print(f"wrote {len(rows)} rows to {args.json}")
    if args.chart:
        from bar_chart import draw_chart

        bars = draw_chart(rows, f"{name}, torch {torch.__version__}, {machine['threads']} threads", args.chart)
        print(f"wrote {bars} bars to {args.chart}")


def _cpu_name() -> str:
    """The processor's model name (Linux), or the platform's."""
    import platform

    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
