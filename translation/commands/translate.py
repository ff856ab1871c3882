"""`translation translate CHECKPOINT INPUT OUTPUT`: translate a folder (or one image)."""
from __future__ import annotations

import sys

from translation.commands.arguments import add_speed_flags, int_at_least, names
from translation.names import DEVICES, DIRECTIONS, NORMS, OUTPUT_FORMATS, TEST_MODES


def add_official_flags(parser) -> None:
    """Architecture flags for bare state dicts saved by the official pix2pix/CycleGAN code."""
    group = parser.add_argument_group("official weight files (bare state dicts only; ignored for our checkpoints)")
    group.add_argument("--netG", help="generator architecture, e.g. unet_256 (pix2pix), resnet_9blocks (CycleGAN)")
    group.add_argument("--norm", default="batch", choices=NORMS,
                       help="normalisation the weights were trained with (default: batch)")
    group.add_argument("--ngf", type=int_at_least(1), default=64, help="generator width (default: 64)")
    group.add_argument("--no-dropout", action="store_true",
                       help="the U-Net was trained without dropout (for ResNets it is read from the file)")
    group.add_argument("--input-nc", type=int_at_least(1), default=3, help="input channels (default: 3)")
    group.add_argument("--output-nc", type=int_at_least(1), default=3, help="output channels (default: 3)")


def official_flags(args):
    from translation.inference.translator import OfficialFlags

    return OfficialFlags(netG=args.netG, norm=args.norm, ngf=args.ngf, dropout=not args.no_dropout,
                         input_nc=args.input_nc, output_nc=args.output_nc)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "translate", help="translate a folder of images",
        description="Translate every image under INPUT (recursively) into OUTPUT, keeping relative paths.")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="run directory, checkpoint file, official .pth, or an .onnx file from `translation export` "
                        "(super-resolution models write scale x each input's size; released ESRGAN/BasicSR "
                        "weights: `translation import FILE --netG rrdbnet --scale 4` first)")
    p.add_argument("input", metavar="INPUT", help="image file or folder")
    p.add_argument("output", metavar="OUTPUT", help="output folder (must not overlap INPUT)")
    p.add_argument("--direction", choices=DIRECTIONS,
                   help="which way to translate (default: the model's only direction, else AtoB)")
    p.add_argument("--to", type=names, metavar="NAMES",
                   help="StarGAN: the attributes or domain to translate to, comma-separated (Blond_Hair,Young); "
                        "other attributes keep the input's values, except the rest of an exclusive group (hair "
                        "colours), which go off. all: a sheet per image with every single-domain translation")
    p.add_argument("--from", dest="source", type=names, metavar="NAMES",
                   help="StarGAN: what the inputs are (their attributes or domain). Default: what the "
                        "checkpoint's discriminator reads in each image (the summary says), else none")
    p.add_argument("--instance", metavar="FOLDER_OR_FILE",
                   help="pix2pixHD models trained with --instance: the instance maps (an id per object, as "
                        "Cityscapes' *_instanceIds.png), one per input under the same relative path and name (any "
                        "image extension; *_labelIds inputs also find *_instanceIds), or the one map of a single "
                        "input image. Their boundaries are an input channel of the net")
    p.add_argument("--mask", metavar="FOLDER_OR_FILE",
                   help="inpainting models (glcic, deepfill): the masks, white = fill, black = keep (1-channel; grey "
                        "from 128 up fills), one per input under the same relative path and name (any image "
                        "extension), or the one mask of a single input image. Outside the mask the output is the "
                        "input, sample for sample")
    p.add_argument("--format", default="png", choices=OUTPUT_FORMATS, help="output format (default: png)")
    p.add_argument("--bit-depth", type=int, default=8, choices=(8, 16), help="bits per channel for PNG output")
    p.add_argument("--batch-size", type=int_at_least(1), default=4,
                   help="images per forward pass in eval mode (default: 4)")
    p.add_argument("--resize", type=int_at_least(1), metavar="N",
                   help="process (and write) every image at N x N instead of its own size")
    p.add_argument("--test-mode", choices=TEST_MODES,
                   help="paper: dropout on + per-image batch-norm statistics, as the pix2pix paper and the "
                        "official test.py; eval: running statistics, no dropout. Default: the model's "
                        "(paper for pix2pix)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="seed for test-time dropout (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace outputs that already exist")
    p.add_argument("--device", default="auto", choices=DEVICES,
                   help="where to run the generator (default: auto: a GPU if there is one)")
    p.add_argument("--no-ema", action="store_true",
                   help="use the trained weights even when the checkpoint has their moving average (EMA)")
    p.add_argument("--num-workers", type=int_at_least(0),
                   help="image reading processes (default: 2 where they get cores of their own: the net runs on a "
                        "GPU or leaves CPU cores free; else 0, reading between batches)")
    p.add_argument("--tile", type=int_at_least(32), metavar="N",
                   help="translate images larger than N x N in overlapping N px tiles blended without seams, in "
                        "bounded memory (huge photos); N is rounded up to the generator's size multiple. "
                        "Super-resolution models: N px of input, each tile's output scale x N")
    p.add_argument("--tile-overlap", type=int_at_least(0), metavar="M",
                   help="pixels neighbouring tiles share, at most N/2 (default: 32); outputs match the whole "
                        "image's where the net looks no further than M/4 px. A U-Net sees all of each tile: "
                        "give it at least N/4")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--html", action="store_true",
                   help="also write OUTPUT/index.html: every input beside its output (StarGAN --to all: its "
                        "sheet), linked by relative path")
    add_speed_flags(p)
    add_official_flags(p)
    stargan = p.add_argument_group("official StarGAN generator files ({iter}-G.ckpt, with --to)")
    stargan.add_argument("--stargan-official", action="store_true",
                         help="CHECKPOINT is an official StarGAN generator (recognised without it too)")
    stargan.add_argument("--attrs", type=names, metavar="NAMES",
                         help="its labels are these CelebA attributes, in training order")
    stargan.add_argument("--domains", type=names, metavar="NAMES",
                         help="its labels are these one-hot domains (as RaFD), in training order")
    stargan.add_argument("--c-dim", type=int_at_least(1), help="its label count, checked against the file")
    p.set_defaults(func=run, check=check)


def check(args) -> None:
    domain_flags = [flag for flag, value in (("--from", args.source), ("--stargan-official", args.stargan_official),
                                             ("--attrs", args.attrs), ("--domains", args.domains),
                                             ("--c-dim", args.c_dim)) if value]
    if domain_flags and not args.to:
        raise ValueError(f"{domain_flags[0]} goes with --to (the domains to translate to)")
    if args.to and args.direction:
        raise ValueError("--to and --direction do not go together: --to is for models that translate to named "
                         "domains (StarGAN), --direction for those that translate between two")
    if args.to and "all" in args.to and len(args.to) > 1:
        raise ValueError("--to all stands alone (a sheet with every domain)")
    if args.tile_overlap is not None and not args.tile:
        raise ValueError("--tile-overlap goes with --tile (the tile size)")
    if args.tile and args.to:
        raise ValueError("--tile is for models that translate between two domains, not with --to")
    if args.instance and args.to:
        raise ValueError("--instance is for pix2pixHD models trained with it, not with --to")
    if args.mask and (args.to or args.instance):
        raise ValueError(f"--mask is for inpainting models, not with {'--to' if args.to else '--instance'}")
    if args.tile and 2 * (args.tile_overlap or 0) > args.tile:
        raise ValueError(f"--tile-overlap {args.tile_overlap}: at most half of --tile ({args.tile // 2})")
    if args.html:
        from translation.inference.html_page import check_page

        check_page(args.output, args.overwrite)


def run(args) -> int:
    from translation.inference.folders import translate_folder
    from translation.inference.tiles import unet_overlap_warning
    from translation.inference.translator import load_translator
    from translation.utils.device import select_device

    if args.checkpoint.lower().endswith(".onnx"):  # written by `translation export`: ONNX Runtime runs it
        from translation.inference.onnx_translator import load_onnx_translator

        translator = load_onnx_translator(args.checkpoint, args.direction, args.test_mode, args.to, args.source,
                                          args.device, args.precision, use_ema=not args.no_ema,
                                          channels_last=args.channels_last, compile=args.compile)
    elif args.to:
        from translation.inference.domain_translator import DomainRequest, OfficialStarGAN, load_domain_translator

        translator = load_domain_translator(
            args.checkpoint, DomainRequest(args.to, args.source), args.test_mode, select_device(args.device),
            OfficialStarGAN(args.attrs, args.domains, args.c_dim), precision=args.precision,
            use_ema=not args.no_ema, channels_last=args.channels_last, compile=args.compile)
    else:
        translator = load_translator(args.checkpoint, args.direction, args.test_mode, select_device(args.device),
                                     official_flags(args), precision=args.precision, use_ema=not args.no_ema,
                                     channels_last=args.channels_last, compile=args.compile)
    if translator.precision.advice:
        print(translator.precision.advice, file=sys.stderr)
    overlap = 32 if args.tile_overlap is None else args.tile_overlap
    try:
        tiling = translator.tiling(args.tile, overlap) if args.tile else None
    except ValueError:
        tiling = None  # tiles this net cannot take: translate_folder refuses them, saying why
    warning = tiling and unet_overlap_warning(translator.spec.get("name", ""), tiling)
    if warning:
        print(warning, file=sys.stderr)
    summary = translate_folder(translator, args.input, args.output, fmt=args.format, batch_size=args.batch_size,
                               size=args.resize, overwrite=args.overwrite, seed=args.seed,
                               bit_depth=args.bit_depth, num_workers=args.num_workers,
                               progress=not args.no_progress, tile=args.tile, tile_overlap=overlap,
                               instance=args.instance, mask=args.mask)
    parts = [f"translated {summary.translated}"]
    if summary.skipped_existing:
        parts.append(f"skipped {summary.skipped_existing} existing (use --overwrite to replace)")
    if summary.not_images:
        from translation.data.io import skipped_not_images
        parts.append(skipped_not_images(summary.not_images))
    if summary.failed:
        parts.append(f"failed {summary.failed}")
    how = [translator.direction, f"test mode {translator.test_mode}"]
    if translator.scale != 1:
        how.append(f"upscaled x{translator.scale}")
    if getattr(translator, "inpaint", False):
        how.append("holes filled, the rest kept")
    if translator.weights == "ema":
        how.append("EMA weights")
    if translator.precision.name != "fp32":
        how.append(translator.precision.name)
    how += [name for name, on in (("channels-last", translator.channels_last), ("compiled", args.compile)) if on]
    line = f"{', '.join(parts)} ({', '.join(how)}) -> {args.output}"
    print(line, file=sys.stderr)
    readings = getattr(translator, "readings", None)
    if readings and readings.images:
        seen = ", ".join(f"{name} {count}" for name, count in readings.counts.most_common()) or "none of them"
        print(f"what the discriminator read in the {readings.images} inputs (used as their own labels; --from "
              f"overrides): {seen}", file=sys.stderr)
    if args.html:
        from translation.inference.html_page import write_pairs_page

        page = write_pairs_page(args.output, summary.pairs, f"translate {args.input} with {args.checkpoint}", line,
                                f"output ({translator.direction})", summary.failures)
        print(f"page: {page}", file=sys.stderr)
    return 1 if summary.failed else 0
