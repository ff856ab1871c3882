"""`make demo-cyclegan`: build the embedded plain <-> warm-toned set, train CycleGAN on CPU, show both ways.

Same code paths as the CLI (Trainer, load_translator, translate_folder); only the sizes are small enough
for a 2-core CPU: 64x64 crops, resnet_6blocks with ngf 16, ndf 16 and batch 4 instead of 256 px,
resnet_9blocks, ngf/ndf 64 and batch 1. About 6-7 minutes; the short run leaves some blur and checkerboard
artefacts, but the tone moves both ways (A -> B warm and flat, B -> A gets its blues and reds back).
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.styles import build_styles
from translation.inference import translate_folder
from translation.models.cyclegan import CycleGANConfig, CycleGANModel
from translation.training.trainer import Trainer
from translation.translator import load_translator
from translation.visualize import make_sheet

RUN_NAME = "demo_cyclegan"


def demo_config(data: Path, checkpoints: Path, steps: int, precision: str = "fp32") -> CycleGANConfig:
    return CycleGANConfig(
        data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
        netG="resnet_6blocks", ngf=16, ndf=16, batch_size=4, load_size=72, crop_size=64, num_workers=1,
        log_every=25, image_every=250, save_every=250, device="cpu", precision=precision)


def mean_l1(images: list[np.ndarray], targets: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(a - b).mean() for a, b in zip(images, targets)]))


def run_demo(workdir="demo_output", steps: int = 1600, sheet_rows: int = 8, precision: str = "fp32") -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "plain2toned", workdir / "checkpoints", workdir / "cyclegan_translated"
    # a demo starts from scratch, but leaves the other demos' outputs in the same workdir alone
    for folder in (data, checkpoints / RUN_NAME, outputs):
        shutil.rmtree(folder, ignore_errors=True)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    t0 = time.time()
    n_a, n_b, n_test = build_styles(data)
    say(f"[1/4] built {data}: {n_a} plain (trainA) and {n_b} warm-toned (trainB) crops from disjoint parts "
        f"of the photos, {n_test} held-out crops per domain ({time.time() - t0:.1f} s)")

    t1 = time.time()
    say(f"[2/4] training CycleGAN for {steps} steps on CPU (resnet_6blocks ngf 16, 64x64, batch 4, {precision})")
    trainer = Trainer(CycleGANModel, demo_config(data, checkpoints, steps, precision))
    checkpoint = trainer.fit()
    train_seconds = time.time() - t1
    if trainer.stopped:
        say(f"training was interrupted at step {trainer.step} of {steps}: the demo stops here, nothing was "
            "translated or scored (run it again to start over)")
        return {"interrupted": True, "step": trainer.step}

    say("[3/4] translating the held-out crops both ways")
    a_to_b = load_translator(checkpoint, "AtoB", precision=precision)
    b_to_a = load_translator(checkpoint, "BtoA", precision=precision)
    translated = {}
    for direction, translator, source in (("AtoB", a_to_b, data / "testA"), ("BtoA", b_to_a, data / "testB")):
        summary = translate_folder(translator, source, outputs / direction, progress=False)
        translated[direction] = summary.translated

    names = [p.name for p in list_images(data / "testA")]
    real_a = [read_image(data / "testA" / n) for n in names]
    real_b = [read_image(data / "testB" / n) for n in names]  # the held-out A crops, restyled
    fake_b = [read_image(outputs / "AtoB" / n) for n in names]
    fake_a = [read_image(outputs / "BtoA" / n) for n in names]
    rec_a = [b_to_a.translate(x) for x in fake_b]
    rec_b = [a_to_b.translate(x) for x in fake_a]
    # testB is testA restyled, so each direction can be scored against the truth it never trained on
    scores = {"AtoB_l1": mean_l1(fake_b, real_b), "BtoA_l1": mean_l1(fake_a, real_a),
              "identity_l1": mean_l1(real_a, real_b)}
    rows = np.linspace(0, len(names) - 1, min(sheet_rows, len(names))).astype(int)
    pick = lambda images: [images[i] for i in rows]  # noqa: E731
    sheet_path = workdir / "cyclegan_sheet.png"
    write_image(sheet_path, make_sheet({"real A": pick(real_a), "A->B": pick(fake_b), "A->B->A": pick(rec_a),
                                        "real B": pick(real_b), "B->A": pick(fake_a), "B->A->B": pick(rec_b)}))
    say(f"[4/4] held-out {len(names)} crops, mean abs error to the true other style (0-1 scale): "
        f"A->B {scores['AtoB_l1']:.3f}, B->A {scores['BtoA_l1']:.3f} (the input unchanged: "
        f"{scores['identity_l1']:.3f}; at this short CPU run blur and artefacts cost more than the tone gains)")
    say(f"training took {train_seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {checkpoint}\ntranslated:  {outputs}/AtoB ({translated['AtoB']} images), "
        f"{outputs}/BtoA ({translated['BtoA']} images)\n"
        f"sheet:       {sheet_path}  (real A | A->B | A->B->A | real B | B->A | B->A->B)\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {**scores, "sheet": str(sheet_path), "train_seconds": train_seconds,
            "total_seconds": time.time() - t0}
