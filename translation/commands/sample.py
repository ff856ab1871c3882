"""`translation sample CHECKPOINT OUTPUT -n 64`: draw images from a GAN trained on noise."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from translation.commands.arguments import add_speed_flags, float_above, int_at_least
from translation.names import DEVICES


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sample", help="draw images from a trained GAN (dcgan, wgan-gp, cgan, ...)",
        description="Draw images from the generator of a GAN checkpoint into OUTPUT: one file per image, or one "
                    "grid. The same checkpoint and --seed give the same images; the generator's moving average "
                    "(EMA) is used when the checkpoint has one.",
        epilog="examples:\n  translation sample checkpoints/dcgan_digits out/ -n 64 --grid\n"
               "  translation sample checkpoints/cdcgan out/ -n 16 --label 3\n"
               "  translation sample checkpoints/dcgan_digits walk/ --interpolate 8\n"
               "  translation sample gan.onnx out/ -n 16   # a file from `translation export`, in ONNX Runtime\n"
               "  translation sample checkpoints/infogan_digits sweep/ --vary c1   # rows: c0's categories")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="run directory, checkpoint file, or an .onnx file from `translation export`")
    p.add_argument("output", metavar="OUTPUT", help="folder for the images")
    p.add_argument("-n", "--count", type=int_at_least(1), default=64, help="images to draw (default: 64)")
    p.add_argument("--label", help="conditional models: the class to draw, by name or index (default: the "
                                   "classes in turn)")
    p.add_argument("--grid", action="store_true", help="write one grid image (grid.png) instead of one file each")
    p.add_argument("--truncation", type=float_above(0.0), metavar="T",
                   help="draw z again wherever |z| > T: more typical, less varied images (off by default)")
    p.add_argument("--interpolate", type=int_at_least(2), metavar="STEPS",
                   help="write a grid of walks through z: each row goes from one seed's z to the next in STEPS")
    p.add_argument("--generator", metavar="N",
                   help="models with several generators (madgan): the one to draw with, by index or name (G2); "
                        "default: each in turn on the same z, one grid column each")
    p.add_argument("--code", action="append", type=code_value, metavar="NAME=VALUE",
                   help="infogan: fix a latent code in every image: c0=3 (a category of a categorical code) or "
                        "c1=0.5 (a continuous one, trained on [-1, 1]); repeatable; the other codes are drawn")
    p.add_argument("--vary", type=code_range, metavar="NAME[=LOW:HIGH]",
                   help="infogan: a grid along one code: a categorical code's categories as columns, or a "
                        "continuous code swept in 10 columns from -1 to 1 (or LOW:HIGH, e.g. c1=-2:2 as the "
                        "paper's figures) with one row per category of the first free categorical code, z fixed "
                        "for the whole grid; without such rows, -n / columns rows of their own z")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="noise seed (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace images that already exist")
    p.add_argument("--html", action="store_true",
                   help="also write OUTPUT/index.html showing the images (or the grid), each named and linked")
    p.add_argument("--no-ema", action="store_true", help="use the trained weights even when an EMA is saved")
    p.add_argument("--device", default="auto", choices=DEVICES, help="where to run the generator")
    add_speed_flags(p)
    p.set_defaults(func=run)


def code_value(text: str) -> tuple[str, float]:
    """--code c0=3 -> ("c0", 3.0); checked against the model's codes once it is loaded."""
    name, sep, value = text.partition("=")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not sep or not _code_name(name) or not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=VALUE, e.g. c0=3 (a category) or c1=0.5")
    return name, number


def code_range(text: str) -> tuple[str, float, float]:
    """--vary c1 -> ("c1", -1.0, 1.0); c1=-2:2 -> ("c1", -2.0, 2.0)."""
    name, sep, span = text.partition("=")
    low, high = -1.0, 1.0
    if sep:
        try:
            low, high = (float(x) for x in span.split(":"))
        except ValueError:
            low = high = math.nan
    if not _code_name(name) or not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise argparse.ArgumentTypeError(f"{text!r}: give a code (c1), or a code and the range to sweep (c1=-2:2, "
                                         "low < high)")
    return name, low, high


def _code_name(name: str) -> bool:
    return name[:1] == "c" and name[1:].isdigit()


def run(args) -> int:
    import torch

    from translation.data.io import write_image
    from translation.inference.sampling import class_labels, code_sweep, draw, grid, load_sampler, slerp
    from translation.utils.device import select_device

    if args.vary and args.interpolate:
        raise ValueError("--vary and --interpolate each make a grid of their own; choose one")
    if args.html:  # before any work: an index.html someone else wrote is not replaced without --overwrite
        from translation.inference.html_page import check_page

        check_page(args.output, args.overwrite)
    if args.checkpoint.lower().endswith(".onnx"):  # written by `translation export`: ONNX Runtime runs it
        from translation.inference.onnx_translator import load_onnx_sampler

        sampler = load_onnx_sampler(args.checkpoint, args.device, use_ema=not args.no_ema, generator=args.generator,
                                    precision=args.precision, channels_last=args.channels_last,
                                    compile=args.compile)
    else:
        sampler = load_sampler(args.checkpoint, select_device(args.device), use_ema=not args.no_ema,
                               generator=args.generator, precision=args.precision,
                               channels_last=args.channels_last, compile=args.compile)
    if sampler.arithmetic.advice:
        print(sampler.arithmetic.advice, file=sys.stderr)
    out = Path(args.output)
    n, keys = args.count, list(sampler.nets)
    k = len(keys)  # several generators take turns: each draws from the same z (or walk) as the others
    fixed = dict(args.code or [])
    if args.vary:
        name, low, high = args.vary
        images, columns = code_sweep(sampler, name, low, high, fixed, args.seed, args.truncation, n)
        n = len(images)
    elif args.interpolate:  # rows of walks from seed to seed + 1; row r: walk r // k, generator r mod k
        rows = max(1, n // args.interpolate)
        ends = sampler.noise(-(-rows // k) + 1, args.seed, args.truncation)
        z = torch.stack([slerp(ends[r // k], ends[r // k + 1], t / (args.interpolate - 1))
                         for r in range(rows) for t in range(args.interpolate)])
        which = torch.arange(rows).repeat_interleave(args.interpolate) % k
        n = len(z)
        images = sampler.generate(sampler.fix_codes(z, fixed), class_labels(sampler, n, args.label, k), which=which)
        columns = args.interpolate
    else:  # image i: z number i // k, generator i mod k
        images, columns = draw(sampler, n, args.seed, args.truncation, args.label, fixed)
    names = [f"sample_{i:04d}.png" for i in range(n)] if k == 1 else \
        [f"sample_{i // k:04d}_{keys[i % k]}.png" for i in range(n)]
    targets = [out / "grid.png"] if (args.grid or args.interpolate or args.vary) else [out / name for name in names]
    existing = [t for t in targets if t.exists()]
    if existing and not args.overwrite:
        raise ValueError(f"{existing[0]} exists (and {len(existing) - 1} more); use --overwrite or another OUTPUT"
                         if len(existing) > 1 else f"{existing[0]} exists; use --overwrite or another OUTPUT")
    if args.grid or args.interpolate or args.vary:
        write_image(targets[0], grid(images, columns))
    else:
        for target, image in zip(targets, images):
            write_image(target, image)
    what = f"{len(images)} images" + (f" of {args.label}" if args.label is not None else "") + "".join(
        f" {name}={value:g}" for name, value in fixed.items()) + (f" along {args.vary[0]}" if args.vary else "") + (
        f" from {', '.join(keys)} in turn" if k > 1 else f" from {keys[0]}" if args.generator is not None else "")
    how = [f"{sampler.weights} weights", f"seed {args.seed}"] + [name for name, on in (
        (args.precision, args.precision != "fp32"), ("channels-last", sampler.channels_last),
        ("compiled", args.compile)) if on]
    line = f"wrote {what} ({', '.join(how)}) -> {targets[0] if len(targets) == 1 else out}"
    print(line, file=sys.stderr)
    if args.html:
        from translation.inference.html_page import write_images_page

        page = write_images_page(out, targets, f"sample {args.checkpoint}", line,
                                 height=512 if len(targets) == 1 else 128)
        print(f"page: {page}", file=sys.stderr)
    return 0
