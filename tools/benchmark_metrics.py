#!/usr/bin/env python
"""Speed of the FID Inception features, ours against pytorch-fid's, printed as tables (no assertions).

    .venv/bin/python tools/benchmark_metrics.py [--images 50] [--size 256] [--device cpu|cuda]
                                                [--sections extract,total] [--weights PATH]

extract  images/s of feature extraction from a folder of PNGs (reading included): pytorch-fid's
         get_activations, ours in fp32 and bf16 (fp16 too on a GPU), ours in the default memory layout
         (what pytorch-fid runs) and in channels-last (what ours runs)
total    wall time from two folders to their mu/sigma, model loading included: pytorch-fid (what
         calculate_fid_given_paths does before its Frechet distance) against ours, and ours again with the
         real set's features in the cache (a second evaluation against the same folder). The Frechet
         distance itself, the same formula on either side, is left out: at 2048 dimensions its matrix
         square root takes longer than the features of a few hundred images on a CPU and would hide both.

Without the real weights file, random weights of the same shapes are used: speed does not depend on the
values. Compare figures as ratios within one run: a shared machine is noisy, so the variants run in turn,
each repeated, and the fastest repetition is kept.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmark import interleaved

from translation.runtime import configure_cpu_threads, set_thread_count


def make_folder(folder: Path, count: int, size: int, seed: int) -> list:
    import numpy as np

    from translation.data.io import write_image

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size, dtype=np.float32)[None, :, None]
    for i in range(count):
        blocks = np.kron(rng.random((8, 8, 3), dtype=np.float32), np.ones((size // 8, size // 8, 1), np.float32))
        write_image(folder / f"{i:04d}.png", 0.7 * blocks + 0.3 * ramp)
    return sorted(folder.glob("*.png"))


def weights_file(given, tmp: Path) -> tuple:
    """(path, what it is): the real file where found, else random weights written to ``tmp``."""
    import torch

    from translation.metrics.inception import random_weights
    from translation.metrics.weights import InceptionWeightsNotFound, find_inception_weights

    try:
        return find_inception_weights(given), "the FID Inception weights"
    except InceptionWeightsNotFound:
        path = tmp / "random_inception.pth"
        torch.save(random_weights(0), path)
        return path, "random weights (the real file is absent; speed does not depend on the values)"


def point_pytorch_fid_at(path: Path):
    """pytorch-fid's module with its weights loader reading ``path``; None where it is not installed."""
    try:
        from pytorch_fid import fid_score
        from pytorch_fid import inception as pf_inception
    except ImportError:
        return None
    import torch

    pf_inception.load_state_dict_from_url = lambda *a, **k: torch.load(path, map_location="cpu", weights_only=True)
    fid_score.tqdm = lambda batches: batches  # its progress bars would break the table
    return fid_score


def pytorch_fid_workers() -> int:
    """What pytorch-fid's command line uses: min(8, CPUs) DataLoader processes."""
    import os

    return min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def extract_rows(files, weights: Path, device, batch_size: int, repeat: int) -> list:
    import torch

    from translation.metrics.features import features_of_files
    from translation.metrics.inception import load_inception

    model = load_inception(weights, device)
    precisions = ["fp32", "bf16"] + (["fp16"] if device.type == "cuda" else [])
    runs = {f"ours, {p}, channels-last": (lambda p=p: features_of_files(files, model, batch_size, device, p))
            for p in precisions}
    plain = load_inception(weights, device)  # a second copy: the layout is a property of the model's weights
    runs["ours, fp32, default layout"] = lambda: features_of_files(files, plain, batch_size, device,
                                                                   channels_last=False)
    fid_score = point_pytorch_fid_at(weights)
    if fid_score is not None:
        reference = fid_score.InceptionV3([3]).to(device)
        runs["pytorch-fid get_activations, fp32"] = lambda: fid_score.get_activations(
            files, reference, min(batch_size, len(files)), 2048, device, pytorch_fid_workers())
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = interleaved(runs, repeat, sync)
    base = times.get("pytorch-fid get_activations, fp32")
    return [(label, seconds, f"{len(files) / seconds:6.2f} img/s"
             + (f"  x{base / seconds:.2f} vs pytorch-fid" if base else "")) for label, seconds in times.items()]


def total_rows(real: Path, fake: Path, weights: Path, device, batch_size: int, repeat: int) -> list:
    from translation.metrics.cache import cached_folder_features
    from translation.metrics.features import folder_features
    from translation.metrics.inception import load_inception
    from translation.metrics.stats import statistics

    cache = Path(tempfile.mkdtemp(prefix="features-cache-"))
    counter = iter(range(10**9))

    def ours(cache_dir):
        model = load_inception(weights, device)
        real_features = cached_folder_features(real, model, batch_size, device, cache_dir=cache_dir)
        return statistics(real_features.features), statistics(folder_features(fake, model, batch_size).features)

    runs = {"ours, fp32": lambda: ours(cache / f"fresh{next(counter)}"),  # a new cache folder: a miss
            "ours, fp32, real set cached": lambda: ours(cache / "kept")}
    fid_score = point_pytorch_fid_at(weights)
    if fid_score is not None:
        def theirs():
            model = fid_score.InceptionV3([3]).to(device)
            size = min(batch_size, len(list(real.glob("*.png"))))  # more would make it print a warning
            return [fid_score.compute_statistics_of_path(str(folder), model, size, 2048, device,
                                                         pytorch_fid_workers()) for folder in (real, fake)]
        runs["pytorch-fid, fp32"] = theirs
    times = interleaved(runs, repeat)
    base = times.get("pytorch-fid, fp32")
    return [(f"two folders to mu/sigma, {label}", seconds, f"x{base / seconds:.2f} vs pytorch-fid" if base else "")
            for label, seconds in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--sections", default="extract,total")
    parser.add_argument("--images", type=int, default=50, help="images per folder (default: 50)")
    parser.add_argument("--size", type=int, default=256, help="their side in pixels (default: 256)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="timed rounds after two warm-up rounds")
    parser.add_argument("--weights", help="the weights file (default: found as `translation evaluate` does)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: one per core)")
    args = parser.parse_args()
    configure_cpu_threads()  # the wait policy the `translation` command would take, before torch loads

    import torch

    set_thread_count(args.threads)

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        weights, what = weights_file(args.weights, tmp)
        real = make_folder(tmp / "real", args.images, args.size, seed=0)
        make_folder(tmp / "fake", args.images, args.size, seed=1)
        print(f"device {device} ({name}), torch {torch.__version__}; {args.images} images of {args.size} px per "
              f"folder, batch {args.batch_size}; {what}")
        rows = []
        if "extract" in args.sections:
            rows += extract_rows(real, weights, device, args.batch_size, args.repeat)
        if "total" in args.sections:
            rows += total_rows(tmp / "real", tmp / "fake", weights, device, args.batch_size, args.repeat)
        width = max(len(r[0]) for r in rows)
        for label, seconds, note in rows:
            print(f"{label:<{width}}  {seconds:8.2f} s  {note}", flush=True)


if __name__ == "__main__":
    main()
