"""`make demo`: build the embedded edges->photo set, train pix2pix on CPU, translate, report.

Everything goes through the same code paths as the CLI (Trainer, translate_folder); only the sizes
are small enough for a 2-core CPU: 64x64 crops and the 6-level U-Net (unet_64) instead of 256/unet_256.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.edges2photo import build_edges2photo
from translation.inference import translate_folder
from translation.metrics.image_quality import psnr, ssim
from translation.models.pix2pix import Pix2PixConfig, Pix2PixModel
from translation.training.trainer import Trainer
from translation.translator import load_translator
from translation.visualize import make_sheet


def _right_half(aligned: np.ndarray) -> np.ndarray:
    return aligned[:, aligned.shape[1] // 2:]


def demo_config(data: Path, checkpoints: Path, steps: int, precision: str = "fp32") -> Pix2PixConfig:
    return Pix2PixConfig(
        data=str(data), name="demo_pix2pix", checkpoints_dir=str(checkpoints), steps=steps,
        netG="unet_64", ngf=32, ndf=32, batch_size=4, load_size=72, crop_size=64, num_workers=1,
        log_every=25, image_every=250, save_every=250, device="cpu", precision=precision)


def run_demo(workdir="demo_output", steps: int = 4000, sheet_rows: int = 8, precision: str = "fp32") -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "edges2photo", workdir / "checkpoints", workdir / "translated"
    for folder in (data, checkpoints, outputs):  # a demo always starts from scratch
        shutil.rmtree(folder, ignore_errors=True)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    t0 = time.time()
    n_train, n_test = build_edges2photo(data)
    say(f"[1/4] built {data}: {n_train} training pairs, {n_test} held-out pairs ({time.time() - t0:.1f} s)")

    t1 = time.time()
    say(f"[2/4] training pix2pix for {steps} steps on CPU (unet_64, 64x64, batch 4, {precision})")
    trainer = Trainer(Pix2PixModel, demo_config(data, checkpoints, steps, precision))
    checkpoint = trainer.fit()
    train_seconds = time.time() - t1
    if trainer.stopped:
        say(f"training was interrupted at step {trainer.step} of {steps}: the demo stops here, nothing was "
            "translated or scored (run it again to start over)")
        return {"interrupted": True, "step": trainer.step}

    say("[3/4] translating the held-out edges")
    translator = load_translator(checkpoint, test_mode="eval", precision=precision)
    summary = translate_folder(translator, data / "test" / "A", outputs, progress=False)

    names = [p.name for p in list_images(data / "test" / "A")]
    edges = [read_image(data / "test" / "A" / n) for n in names]
    photos = [read_image(data / "test" / "B" / n) for n in names]
    results = [read_image(outputs / n) for n in names]
    scores = {"psnr": float(np.mean([psnr(o, t) for o, t in zip(results, photos)])),
              "ssim": float(np.mean([ssim(o, t) for o, t in zip(results, photos)]))}
    # what a guess without the model scores: every output = the mean colour of the training photos
    mean_colour = np.mean([_right_half(read_image(p)).mean(axis=(0, 1)) for p in list_images(data / "train")],
                          axis=0)
    baseline = float(np.mean([psnr(np.broadcast_to(mean_colour, t.shape).astype(np.float32), t) for t in photos]))
    sheet_path = workdir / "sheet.png"
    rows = np.linspace(0, len(names) - 1, min(sheet_rows, len(names))).astype(int)
    write_image(sheet_path, make_sheet({"edges (input)": [edges[i] for i in rows],
                                        "pix2pix output": [results[i] for i in rows],
                                        "photo (held out)": [photos[i] for i in rows]}))
    say(f"[4/4] held-out {len(names)} images: PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f} "
        f"(mean-colour baseline PSNR {baseline:.2f} dB)")
    say(f"training took {train_seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {checkpoint}\ntranslated:  {outputs} ({summary.translated} images)\n"
        f"sheet:       {sheet_path}\nTensorBoard: tensorboard --logdir {checkpoints}")
    return {**scores, "baseline_psnr": baseline, "sheet": str(sheet_path), "train_seconds": train_seconds}
