"""`make demo`: render the embedded edges->photo set, train pix2pix on CPU, translate the held-out edges, report.

Everything goes through the same code paths as the CLI (Trainer, load_translator, translate_folder); only the
sizes are small enough for a 2-core CPU: 64x64 images and the 6-level U-Net (unet_64) instead of
256/unet_256. The images are used as they are (no resize, crop or flip): the objects already vary in
position and size, and a flip would move the light, which comes from the left in every photo.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.edges2photo import build_edges2photo
from translation.demo.runs import say, start_afresh, train
from translation.inference.folders import translate_folder
from translation.inference.translator import load_translator
from translation.metrics.image_quality import psnr, ssim
from translation.models.pix2pix import Pix2PixConfig, Pix2PixModel
from translation.visualize import make_sheet

RUN_NAME = "demo_pix2pix"


def demo_config(data: Path, checkpoints: Path, steps: int, precision: str = "fp32") -> Pix2PixConfig:
    return Pix2PixConfig(
        data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
        netG="unet_64", ngf=32, ndf=32, batch_size=4, preprocess="none", flip=False, num_workers=1,
        log_every=25, image_every=250, save_every=250, device="cpu", precision=precision)


def scores(outputs: list[np.ndarray], photos: list[np.ndarray]) -> dict:
    return {"psnr": float(np.mean([psnr(o, t) for o, t in zip(outputs, photos)])),
            "ssim": float(np.mean([ssim(o, t) for o, t in zip(outputs, photos)]))}


def sheet_rows(names: list[str], per_kind: int) -> list[int]:
    """The first `per_kind` held-out images of each kind (names start with the kind)."""
    seen: dict[str, int] = {}
    rows = []
    for i, name in enumerate(names):
        kind = name.split("_")[0]
        if seen.get(kind, 0) < per_kind:
            seen[kind] = seen.get(kind, 0) + 1
            rows.append(i)
    return rows


def run_demo(workdir="demo_output", steps: int = 3000, per_kind: int = 2, precision: str = "fp32",
             train_count: int = 1200, test_count: int = 60) -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "edges2photo", workdir / "checkpoints", workdir / "translated"
    start_afresh(data, checkpoints / RUN_NAME, outputs)

    t0 = time.time()
    n_train, n_test = build_edges2photo(data, train_count=train_count, test_count=test_count)
    say(f"[1/4] rendered {data}: {n_train} training pairs (edges | photo of an apple, orange, lemon, pear, vase "
        f"or bottle), {n_test} held-out pairs ({time.time() - t0:.1f} s)")

    say(f"[2/4] training pix2pix for {steps} steps on CPU (unet_64, 64x64, batch 4, {precision})")
    run = train(Pix2PixModel, demo_config(data, checkpoints, steps, precision), skipped="translated or scored")
    if run.checkpoint is None:
        return run.interrupted()

    say("[3/4] translating the held-out edges")
    translator = load_translator(run.checkpoint, test_mode="eval", precision=precision)
    summary = translate_folder(translator, data / "test" / "A", outputs, progress=False)

    names = [p.name for p in list_images(data / "test" / "A")]
    edges = [read_image(data / "test" / "A" / n) for n in names]
    photos = [read_image(data / "test" / "B" / n) for n in names]
    results = [read_image(outputs / n) for n in names]
    model = scores(results, photos)
    # what a guess without the model scores: every output = the average training photo
    average = np.mean([read_image(p)[:, photos[0].shape[1]:] for p in list_images(data / "train")], axis=0)
    baseline = scores([average] * len(photos), photos)
    sheet_path = workdir / "sheet.png"
    rows = sheet_rows(names, per_kind)
    write_image(sheet_path, make_sheet({"edges (input)": [edges[i] for i in rows],
                                        "pix2pix output": [results[i] for i in rows],
                                        "photo (held out)": [photos[i] for i in rows]}))
    say(f"[4/4] held-out {len(names)} images: PSNR {model['psnr']:.2f} dB, SSIM {model['ssim']:.3f} "
        f"(the average training photo: PSNR {baseline['psnr']:.2f} dB, SSIM {baseline['ssim']:.3f})")
    say(f"training took {run.seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {run.checkpoint}\ntranslated:  {outputs} ({summary.translated} images)\n"
        f"sheet:       {sheet_path}\nTensorBoard: tensorboard --logdir {checkpoints}")
    return {**model, "baseline_psnr": baseline["psnr"], "baseline_ssim": baseline["ssim"], "sheet": str(sheet_path),
            "train_seconds": run.seconds, "total_seconds": time.time() - t0}
