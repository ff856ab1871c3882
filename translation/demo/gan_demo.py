"""`make demo-gan`: a class-conditional DCGAN learns scikit-learn's handwritten digits on the CPU, then draws
a grid with one row per digit.

Same code paths as the CLI (Trainer, the sampler of `translation sample`); only the sizes are small: 32 px
images, ngf/ndf 32 instead of 64 px and 64. Whether the samples are digits, and the digits asked for, is
scored by a plain classifier trained on the real digits (scikit-learn's logistic regression on 8x8
images, the data set's own resolution): its accuracy on samples of each asked-for digit, next to its
accuracy on held-out real digits.
"""
from __future__ import annotations

import functools
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from translation.data.arrays import resize
from translation.data.io import write_image
from translation.models.configs import DCGANConfig
from translation.models.gan import DCGAN
from translation.sampling import grid, load_sampler
from translation.training.trainer import Trainer

RUN_NAME = "demo_gan"
PER_CLASS = 10  # samples drawn for each digit: the grid's columns


def demo_config(checkpoints: Path, steps: int, precision: str = "fp32") -> DCGANConfig:
    return DCGANConfig(data="digits", name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
                       conditional=True, image_size=32, ngf=32, ndf=32, batch_size=64, ema_decay=0.999,
                       num_workers=0, log_every=50, image_every=250, save_every=500, device="cpu",
                       precision=precision)


@functools.lru_cache(maxsize=1)  # fitted once per process: the tests and the demo ask more than once
def digit_classifier(seed: int = 0):
    """(classifier, accuracy on held-out real digits): logistic regression on the 8x8 digits in [0, 1]."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(digits.data / 16.0, digits.target, test_size=0.25,
                                                        random_state=seed, stratify=digits.target)
    classifier = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    return classifier, float(classifier.score(x_test, y_test))


def as_digit_features(images: list[np.ndarray]) -> np.ndarray:
    """Samples (32x32, with the one-pixel border the data set adds) back at the digits' own 8x8 in [0, 1]."""
    inner = [image[3:-3, 3:-3] if image.shape[0] == 32 else image for image in images]  # 32 px = 10 px x 3.2
    return np.stack([resize(image, 8, 8)[..., 0].ravel() for image in inner])


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

    classifier, real_accuracy = digit_classifier()
    predicted = classifier.predict(as_digit_features(images))
    accuracy = float(np.mean(predicted == labels.numpy()))
    say(f"[3/3] a digit classifier trained on real digits reads {accuracy:.0%} of the samples as the digit "
        f"asked for (on held-out real digits: {real_accuracy:.0%}; guessing: 10%)")
    say(f"training took {train_seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {checkpoint}\ngrid:        {grid_path}  (row k: ten samples of digit k)\n"
        f"more:        translation sample {checkpoint.parent} samples/ -n 64 --label 7 --grid\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {"accuracy": accuracy, "real_accuracy": real_accuracy, "grid": str(grid_path),
            "train_seconds": train_seconds, "total_seconds": time.time() - t0}
