#!/usr/bin/env python
"""The noise GANs on the built-in digits after the same budget, scored in the digit classifier's feature space:
README's table (`fid_digits` lower is better, 0 for the real digits against themselves; `is_digits` higher, 9.22
for the real digits).

    .venv/bin/python tools/gan_digit_table.py [--models dcgan,infogan,ebgan,biggan] [--steps 1500] [--batch-size 64]
                                              [--samples 1000] [--workdir /tmp/gan_digit_table]

Each model trains from the command line as a user would (`translation train MODEL --data digits --image-size 32
--steps N --batch-size B`, its paper's other defaults, widths as below), draws `--samples` images with
`translation sample` (seed 0; a conditional model draws the classes in turn) and is scored with `translation
evaluate REAL SAMPLES --features digits --metrics fid,is` against `translation prepare digits`'s 1,797 files.
A step is one discriminator update (biggan's G moves every 4th step, its paper's n_critic): the same data seen.
Prints a Markdown table: model, training time, fid_digits, is_digits.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

# CPU widths: 32 filters where the family's default is 64 (as `make demo-gan`); biggan at --ch 8 (its 64 would
# take hours here: BigGAN's blocks keep 4 x ch channels at every resolution)
WIDTHS = {"biggan": ["--ch", "8"]}
DEFAULT_WIDTH = ["--ngf", "32", "--ndf", "32"]


def translation(*args: str) -> str:
    """Run `translation ARGS`; its stdout, or the command and its stderr on failure."""
    done = subprocess.run([sys.executable, "-m", "translation", *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"translation {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def score(model: str, workdir: Path, real: Path, steps: int, batch_size: int, samples: int) -> dict:
    runs = workdir / "runs"
    started = time.time()
    translation("train", model, "--data", "digits", "--image-size", "32", "--steps", str(steps), "--batch-size",
                str(batch_size), *WIDTHS.get(model, DEFAULT_WIDTH), "--checkpoints-dir", str(runs), "--name", model,
                "--device", "cpu", "--no-progress", "--save-every", str(steps), "--image-every", str(steps))
    seconds = time.time() - started
    out = workdir / "samples" / model
    translation("sample", str(runs / model), str(out), "-n", str(samples), "--seed", "0", "--overwrite")
    found = json.loads(translation("evaluate", str(real), str(out), "--features", "digits", "--metrics", "fid,is",
                                   "--json"))["results"]
    return {"model": model, "seconds": seconds, **{name: found[name] for name in ("fid_digits", "is_digits")}}


def value(result: dict) -> str:
    """A metric's value from `evaluate --json` ({value, std, ...}), with its spread when it has one."""
    return f"{result['value']:.2f}" + (f" ± {result['std']:.2f}" if result.get("std") else "")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="dcgan,infogan,ebgan,biggan")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--workdir", default="/tmp/gan_digit_table")
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    real = workdir / "real_digits"
    if not real.is_dir():
        translation("prepare", "digits", str(real))
    rows = []
    for model in args.models.split(","):
        row = score(model, workdir, real, args.steps, args.batch_size, args.samples)
        print(f"{model}: {row}", file=sys.stderr, flush=True)
        rows.append(row)
    print(f"| model | training ({args.steps} steps of {args.batch_size}) | fid_digits | is_digits |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| `{row['model']}` | {row['seconds']:.0f} s | {value(row['fid_digits'])} | {value(row['is_digits'])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
