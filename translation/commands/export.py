"""`translation export CHECKPOINT --format onnx|torchscript -o FILE`: the generator as a file other runtimes load."""
from __future__ import annotations

import sys
from pathlib import Path

from translation.names import DIRECTIONS, EXPORT_FORMATS, TEST_MODES


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="write a checkpoint's generator as ONNX or TorchScript",
        description="Write the generator of CHECKPOINT as an ONNX or TorchScript file that computes what "
                    "`translation translate` computes with the checkpoint: its test mode, EMA weights when it has "
                    "them, any height and width (multiples of the size multiple the file records) and any "
                    "batch. Images go in and come out as N x C x H x W float32 in [-1, 1]; super-resolution "
                    "nets (msrresnet, rrdbnet) take [0, 1] and give N x C x scale H x scale W in [0, 1] (the "
                    "metadata scale and value_range say so). StarGAN generators take the target labels as a "
                    "second input (labels, N x domains); noise generators take z (and class indices). pix2pixHD "
                    "label-map models take the class ids (label, N x 1 x H x W float; one-hot inside the file), "
                    "and models trained with --instance the boundaries of the whole instance map (edges, N x 1 x "
                    "H x W: 1 where a pixel's id differs from a 4-neighbour's). `translation translate FILE.onnx "
                    "INPUT OUTPUT` runs an ONNX file with ONNX Runtime.",
        epilog="example:\n  translation export checkpoints/h2z --direction AtoB -o h2z.onnx")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="run directory or checkpoint file")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write (.onnx for ONNX)")
    p.add_argument("--format", default="onnx", choices=EXPORT_FORMATS, help="onnx (default) or torchscript")
    p.add_argument("--direction", choices=DIRECTIONS,
                   help="which way (default: the model's only direction, else AtoB)")
    p.add_argument("--test-mode", choices=TEST_MODES,
                   help="eval: running statistics, no dropout; paper: each image's own norm statistics. Default: "
                        "the model's, except that paper mode with dropout (pix2pix) is exported as eval, since "
                        "no exported graph draws PyTorch's random numbers")
    p.add_argument("--no-ema", action="store_true",
                   help="export the trained weights even when the checkpoint has their moving average (EMA)")
    p.add_argument("--generator", metavar="NAME", help="noise models with several generators (MAD-GAN): which one")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=run, check=check)


def check(args) -> None:
    output = Path(args.output)
    if args.format == "onnx" and output.suffix.lower() != ".onnx":
        raise ValueError(f"--output {output}: an ONNX file's name ends in .onnx (`translation translate` knows "
                         "it by that)")
    if output.exists() and not args.overwrite:
        raise ValueError(f"--output {output} exists; use --overwrite to replace it")


def run(args) -> int:
    from translation.export.writers import export_checkpoint

    exported = export_checkpoint(args.checkpoint, args.output, args.format, direction=args.direction,
                                 test_mode=args.test_mode, use_ema=not args.no_ema, generator=args.generator,
                                 overwrite=args.overwrite)
    for note in exported.notes:
        print(note, file=sys.stderr)
    inputs = " and ".join(exported.input_names)
    pad = f"; pad H and W to multiples of {exported.size_multiple}" if exported.metadata["task"] != "sample" else ""
    print(f"exported {exported.describe()} -> {args.output} ({args.format}, inputs {inputs}{pad})", file=sys.stderr)
    return 0
