"""`make demo-gan`: a class-conditional DCGAN learns scikit-learn's handwritten digits on the CPU, then draws
a grid with one row per digit.

Same code paths as the CLI (Trainer, the sampler of `translation sample`); only the sizes are small: 32 px
images, ngf/ndf 32 instead of 64 px and 64. Whether the samples are digits, and the digits asked for, is
scored by the small classifier of translation/metrics/digits.py, trained on the real digits: how many
samples it reads as the digit asked for, next to its accuracy on held-out real digits.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from translation.data.io import write_image
from translation.inference.sampling import grid, load_sampler
from translation.metrics.digits import digit_classifier, digit_features
from translation.models.configs import DCGANConfig
from translation.models.gan import DCGAN
from translation.training.trainer import Trainer

RUN_NAME = "demo_gan"
PER_CLASS = 10  # samples drawn for each digit: the grid's columns


def demo_config(checkpoints: Path, steps: int, precision: str = "fp32") -> DCGANConfig:
    return DCGANConfig(data="digits", name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
                       conditional=True, image_size=32, ngf=32, ndf=32, batch_size=64, ema_decay=0.999,
                       num_workers=0, log_every=50, image_every=250, save_every=500, device="cpu",
                       precision=precision)


def run_demo(workdir="demo_output", steps: int = 1500, precision: str = "fp32") -> dict:
    workdir = Path(workdir)
    checkpoints = workdir / "checkpoints"
    shutil.rmtree(checkpoints / RUN_NAME, ignore_errors=True)  # other demos' outputs stay
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    t0 = time.time()
    say(f"[1/3] training a conditional DCGAN on scikit-learn's 1,797 digits for {steps} steps on CPU "
        f"(32x32, ngf/ndf 32, batch 64, {precision})")
    trainer = Trainer(DCGAN, demo_config(checkpoints, steps, precision))
    checkpoint = trainer.fit()
    train_seconds = time.time() - t0
    if trainer.stopped:
        say(f"training was interrupted at step {trainer.step} of {steps}: the demo stops here, nothing was "
            "drawn or scored (run it again to start over)")
        return {"interrupted": True, "step": trainer.step}

    say(f"[2/3] drawing {PER_CLASS} samples of each digit (EMA weights)")
    sampler = load_sampler(checkpoint)
    labels = torch.arange(10).repeat_interleave(PER_CLASS)
    images = sampler.generate(sampler.noise(len(labels), seed=0), labels)
    grid_path = workdir / "gan_digits.png"
    write_image(grid_path, grid(images, columns=PER_CLASS))

    _, real_accuracy = digit_classifier()
    accuracy = float(np.mean(digit_features(images)[1].argmax(1) == labels.numpy()))
    say(f"[3/3] a digit classifier trained on real digits reads {accuracy:.0%} of the samples as the digit "
        f"asked for (on held-out real digits: {real_accuracy:.0%}; guessing: 10%)")
    say(f"training took {train_seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {checkpoint}\ngrid:        {grid_path}  (row k: ten samples of digit k)\n"
        f"more:        translation sample {checkpoint.parent} samples/ -n 64 --label 7 --grid\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {"accuracy": accuracy, "real_accuracy": real_accuracy, "grid": str(grid_path),
            "train_seconds": train_seconds, "total_seconds": time.time() - t0}
