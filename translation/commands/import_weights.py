"""`translation import FILE --netG ... -o NAME_OR_DIR`: official weight files -> a self-describing checkpoint.

The official pix2pix/CycleGAN and pix2pixHD code save bare state dicts that only load with the right
architecture flags; BasicSR / ESRGAN / Real-ESRGAN release super-resolution weights ({'params_ema'} or
{'params'} files, or the ESRGAN repository's bare RRDB_ESRGAN_x4.pth) for `--netG msrresnet|rrdbnet --scale N`.
Importing checks the flags once (a mismatch says which keys/shapes failed and which flags to try) and writes
a checkpoint that records them, so `translation translate` needs no flags afterwards. A CycleGAN pair
(latest_net_G_A.pth + latest_net_G_B.pth) becomes one checkpoint that translates both ways.
"""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

from translation.checkpoint import (LATEST, CheckpointError, is_translation_checkpoint, load_file, save_checkpoint,
                                   translates)
from translation.commands.arguments import int_at_least
from translation.commands.translate import add_official_flags, official_flags
from translation.names import DIRECTIONS, HD_GENERATORS, SR_GENERATORS, TEST_MODES

OTHER = {"AtoB": "BtoA", "BtoA": "AtoB"}
NET_KEY = {"AtoB": "G_A", "BtoA": "G_B"}  # the official CycleGAN names: G_A maps A -> B


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help="turn official pix2pix/CycleGAN/pix2pixHD/ESRGAN .pth files into a checkpoint that needs "
                       "no flags",
        description="Read a bare state dict saved by the official pix2pix/CycleGAN code (latest_net_G.pth, "
                    "latest_net_G_A.pth, model-zoo files such as horse2zebra.pth) or pix2pixHD, or released "
                    "BasicSR/ESRGAN/Real-ESRGAN super-resolution weights, with the architecture flags it was "
                    "trained with, and write a checkpoint that records them.",
        epilog="examples:\n"
               "  translation import latest_net_G_A.pth --also latest_net_G_B.pth --netG resnet_9blocks "
               "--norm instance -o h2z_both\n"
               "  translation import ESRGAN_SRx4_DF2KOST_official-ff704c30.pth --netG rrdbnet --scale 4 -o esrgan")
    p.add_argument("weights", metavar="FILE", help="official generator weights (.pth)")
    p.add_argument("--also", metavar="FILE",
                   help="the generator of the opposite direction (e.g. latest_net_G_B.pth with "
                        "latest_net_G_A.pth): the checkpoint then translates both ways")
    p.add_argument("-o", "--output", required=True, metavar="NAME_OR_DIR",
                   help="a plain name writes <checkpoints-dir>/NAME/latest.pt; a path (with a /) writes "
                        "PATH/latest.pt; a path ending in .pt writes that file")
    p.add_argument("--checkpoints-dir", default="checkpoints", help="where a plain NAME goes (default: checkpoints)")
    p.add_argument("--direction", choices=DIRECTIONS, default="AtoB",
                   help="which way FILE translates (default: AtoB); --also translates the other way")
    p.add_argument("--test-mode", choices=TEST_MODES,
                   help="default test mode recorded in the checkpoint (default: paper for nets with batch norm "
                        "or dropout, as the official test.py; eval otherwise)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    add_official_flags(p)
    add_pix2pixhd_flags(p)
    add_superres_flags(p)
    p.set_defaults(func=run, norm=None)  # batch for pix2pix files, instance for pix2pixHD's: each code's default


def add_pix2pixhd_flags(parser) -> None:
    """The official pix2pixHD options that shape its generator, with its defaults (label2city: 35 classes and
    instance maps; the 1024 px model is `--netG local --ngf 32`)."""
    group = parser.add_argument_group("official pix2pixHD files (with --netG global or local; --norm is "
                                      "instance unless given)")
    group.add_argument("--label-nc", type=int_at_least(0), default=35,
                       help="classes of the label maps the net reads one-hot (default: 35, Cityscapes'); 0: it "
                            "reads images of --input-nc channels")
    group.add_argument("--no-instance", action="store_true",
                       help="the net was trained without instance maps (the official --no_instance)")
    group.add_argument("--n-downsample-global", type=int_at_least(1), default=4, help="default: 4")
    group.add_argument("--n-blocks-global", type=int_at_least(1), default=9, help="default: 9")
    group.add_argument("--n-local-enhancers", type=int_at_least(1), default=1, help="default: 1")
    group.add_argument("--n-blocks-local", type=int_at_least(1), default=3, help="default: 3")


def add_superres_flags(parser) -> None:
    """BasicSR's options that shape MSRResNet and RRDBNet (ESRGAN): --ngf is its num_feat."""
    group = parser.add_argument_group("super-resolution weights (BasicSR, ESRGAN, Real-ESRGAN; with --netG "
                                      "msrresnet or rrdbnet)")
    group.add_argument("--scale", type=int, choices=(1, 2, 3, 4),
                       help="how many times larger the output is (msrresnet 2, 3, 4; rrdbnet 1, 2, 4): required")
    group.add_argument("--n-blocks", type=int_at_least(0),
                       help="residual blocks (num_block; default: as many as the file holds, e.g. 23 for "
                            "ESRGAN, 16 for MSRResNet, 6 for Real-ESRGAN's anime_6B)")
    group.add_argument("--growth", type=int_at_least(1),
                       help="rrdbnet: channels each dense conv adds (num_grow_ch; default: the file's, 32 in "
                            "ESRGAN)")


def superres_file_flags(state_dict: dict, netG: str) -> dict:
    """What a BasicSR state dict says of its shape: scale, ngf, n_blocks (and growth), as flags; empty where its
    keys are not those of `netG`. The channel counts assume as many input as output channels."""
    try:
        first, last = state_dict["conv_first.weight"], state_dict["conv_last.weight"]
        ngf, n_in, n_out = first.shape[0], first.shape[1], last.shape[0]
        blocks = len({key.split(".")[1] for key in state_dict if key.startswith("body.")})
        if netG == "msrresnet":
            scale = 4 if "upconv2.weight" in state_dict else round((state_dict["upconv1.weight"].shape[0] / ngf)
                                                                   ** 0.5)
            return {"scale": scale, "ngf": ngf, "n_blocks": blocks}
        growth = state_dict["body.0.rdb1.conv1.weight"].shape[0] if blocks else None
        unshuffle = round((n_in / n_out) ** 0.5)  # rrdbnet x2 / x1 pixel-unshuffle their input by 2 / 4
        return {"scale": 4 // unshuffle, "ngf": ngf, "n_blocks": blocks, "growth": growth}
    except (KeyError, AttributeError, IndexError, ZeroDivisionError):
        return {}


def _one_generator_file(args, family: str) -> tuple[Path, dict]:
    """(path, contents) of FILE for a family with one generator: no --also, and not one of our checkpoints."""
    path = Path(args.weights)
    if args.also:
        raise ValueError(f"--also pairs CycleGAN's two generators; {family} has one")
    obj = load_file(path)
    if is_translation_checkpoint(obj):
        raise CheckpointError(f"{path} is already a translation checkpoint: translate with it directly")
    return path, obj


def import_superres(args, target: Path) -> int:
    """Released BasicSR/ESRGAN weights (nets/basicsr_weights.py) -> a checkpoint whose generator upscales by
    --scale: its record says {"scale": N}, as the super-resolution models' checkpoints do."""
    from translation.nets.basicsr_weights import basicsr_state_dict, load_basicsr_state_dict
    from translation.nets.official import WeightsMismatchError
    from translation.nets.registry import build_net

    path, obj = _one_generator_file(args, "a super-resolution model")
    state_dict = basicsr_state_dict(obj, str(path))
    found = superres_file_flags(state_dict, args.netG)
    looks_like = " ".join(f"--{name.replace('_', '-')} {value}" for name, value in found.items()
                          if value is not None and (name != "growth" or args.netG == "rrdbnet"))
    if args.scale is None:
        hint = f" (this file looks like: {looks_like})" if looks_like else ""
        raise ValueError(f"--scale: say how many times larger {path.name}'s outputs are{hint}")
    blocks = args.n_blocks if args.n_blocks is not None else found.get("n_blocks", 16)
    kwargs = {"in_channels": args.input_nc, "out_channels": args.output_nc, "ngf": args.ngf, "n_blocks": blocks,
              "scale": args.scale}
    if args.netG == "rrdbnet":
        kwargs["growth"] = args.growth if args.growth is not None else found.get("growth") or 32
    elif args.growth is not None:
        raise ValueError("--growth is rrdbnet's (its dense blocks); msrresnet has none")
    spec = {"kind": "generator", "name": args.netG, "kwargs": kwargs}
    try:
        net = build_net(spec)
        load_basicsr_state_dict(net, state_dict, str(path))
    except (WeightsMismatchError, ValueError) as error:
        hint = f"\nthis file looks like: --netG {args.netG} {looks_like}" if looks_like else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        return 1
    key = NET_KEY[args.direction]
    record = {**translates(args.direction), "scale": args.scale}
    save_checkpoint(target, {"model": "imported", "imported_from": {args.direction: str(path.resolve())},
                             "net_specs": {key: spec}, "generators": {key: record},
                             "test_mode": args.test_mode or "eval", "nets": {key: net.state_dict()}})
    run_ref = target.parent if target.name == LATEST else target
    growth = f" growth {kwargs['growth']}" if "growth" in kwargs else ""
    print(f"wrote {target}: {args.netG} x{args.scale} ngf {kwargs['ngf']} blocks {kwargs['n_blocks']}{growth}, "
          f"images in [0, 1]\ntranslate with: translation translate {run_ref} INPUT OUTPUT (outputs {args.scale}x "
          "the input's size; --tile 256 for large images)", file=sys.stderr)
    return 0


def pix2pixhd_spec(args) -> dict:
    """The spec of the official pix2pixHD generator the flags describe (the input: one-hot labels, or the image,
    then the instance boundaries)."""
    kwargs = dict(in_channels=(args.label_nc or args.input_nc) + int(not args.no_instance),
                  out_channels=args.output_nc, ngf=args.ngf, n_downsample_global=args.n_downsample_global,
                  n_blocks_global=args.n_blocks_global, norm=args.norm or "instance")
    if args.netG == "local":
        kwargs.update(n_local_enhancers=args.n_local_enhancers, n_blocks_local=args.n_blocks_local)
    return {"kind": "generator", "name": args.netG, "kwargs": kwargs}


def import_pix2pixhd(args, target: Path) -> int:
    from translation.nets.official import WeightsMismatchError, load_official_state_dict
    from translation.nets.registry import build_net

    path, state_dict = _one_generator_file(args, "pix2pixHD")
    spec = pix2pixhd_spec(args)
    net = build_net(spec)
    try:
        load_official_state_dict(net, state_dict, source=str(path))
    except WeightsMismatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    record = translates(args.direction)
    record.update({"label_nc": args.label_nc} if args.label_nc else {})
    record.update({} if args.no_instance else {"instance": True})
    test_mode = args.test_mode or default_test_mode(spec)
    key = NET_KEY[args.direction]
    save_checkpoint(target, {"model": "imported", "imported_from": {args.direction: str(path.resolve())},
                             "net_specs": {key: spec}, "generators": {key: record}, "test_mode": test_mode,
                             "nets": {key: net.state_dict()}})
    k = spec["kwargs"]
    reads = f"label maps of {args.label_nc} classes" if args.label_nc else f"{args.input_nc}-channel images"
    run_ref = target.parent if target.name == LATEST else target
    print(f"wrote {target}: pix2pixHD {spec['name']} ngf {k['ngf']} norm {k['norm']}, reads {reads}"
          f"{'' if args.no_instance else ' and instance maps'}, {args.direction}, test mode {test_mode}\n"
          f"translate with: translation translate {run_ref} INPUT OUTPUT"
          f"{'' if args.no_instance else ' --instance INSTANCE_MAPS'}", file=sys.stderr)
    return 0


def output_path(value: str, checkpoints_dir: str) -> Path:
    path = Path(value)
    if path.suffix == ".pt":
        return path
    if len(path.parts) == 1 and not value.startswith("."):  # a bare run name, like `train --name`
        path = Path(checkpoints_dir) / value
    return path / LATEST


def default_test_mode(spec: dict) -> str:
    kwargs = spec["kwargs"]
    return "paper" if kwargs["norm"] == "batch" or kwargs.get("dropout") else "eval"


def import_generator(path, direction: str, flags):
    """(spec, state_dict) of one official generator, checked against `flags` (OfficialFlags)."""
    from translation.inference.translator import load_translator

    if is_translation_checkpoint(load_file(path)):
        raise CheckpointError(f"{path} is already a translation checkpoint: translate with it directly")
    translator = load_translator(path, direction, "eval", "cpu", official=flags)
    return translator.spec, translator.net.state_dict()


def _pair_hint(path: Path, direction: str, has_also: bool) -> None:
    """The official CycleGAN writes G_A (A -> B) and G_B (B -> A) side by side: point at the obvious."""
    match = re.fullmatch(r"(.*_net_G_)([AB])\.pth", path.name)
    if not match:
        return
    if (match.group(2) == "B") == (direction == "AtoB"):
        print(f"note: the official CycleGAN's G_{match.group(2)} translates "
              f"{'B to A' if match.group(2) == 'B' else 'A to B'}; you imported it as {direction} "
              "(--direction sets this)", file=sys.stderr)
    sibling = path.with_name(f"{match.group(1)}{'B' if match.group(2) == 'A' else 'A'}.pth")
    if not has_also and sibling.is_file():
        print(f"note: {sibling} is next to it; add --also {sibling} to import both directions", file=sys.stderr)


def run(args) -> int:
    from translation.nets.official import WeightsMismatchError

    target = output_path(args.output, args.checkpoints_dir)
    if target.exists() and not args.overwrite:
        raise ValueError(f"{target} already exists (use --overwrite to replace it)")
    if args.netG in HD_GENERATORS:
        return import_pix2pixhd(args, target)
    if args.netG in SR_GENERATORS:
        return import_superres(args, target)
    given = [flag for flag, value in (("--scale", args.scale), ("--n-blocks", args.n_blocks),
                                      ("--growth", args.growth)) if value is not None]
    if given:
        raise ValueError(f"{given[0]} is for super-resolution weights (--netG {' or '.join(SR_GENERATORS)})")
    args.norm = args.norm or "batch"
    flags = official_flags(args)
    sources = [(Path(args.weights), args.direction, flags)]
    if args.also:
        swapped = dataclasses.replace(flags, input_nc=flags.output_nc, output_nc=flags.input_nc)
        sources.append((Path(args.also), OTHER[args.direction], swapped))
    specs, nets, generators = {}, {}, {}
    try:
        for path, direction, net_flags in sources:
            key = NET_KEY[direction]
            specs[key], nets[key] = import_generator(path, direction, net_flags)
            generators[key] = translates(direction)
    except WeightsMismatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _pair_hint(Path(args.weights), args.direction, bool(args.also))
    test_mode = args.test_mode or default_test_mode(next(iter(specs.values())))
    save_checkpoint(target, {
        "model": "imported",
        "imported_from": {d: str(p.resolve()) for p, d, _ in sources},
        "net_specs": specs, "generators": dict(sorted(generators.items())), "test_mode": test_mode, "nets": nets,
    })
    spec = next(iter(specs.values()))
    k = spec["kwargs"]
    run_ref = target.parent if target.name == LATEST else target
    print(f"wrote {target}: {spec['name']} ngf {k['ngf']} norm {k['norm']} dropout {k['dropout']}, "
          f"{' and '.join(sorted(r['direction'] for r in generators.values()))}, test mode {test_mode}\n"
          f"translate with: translation translate {run_ref} INPUT OUTPUT", file=sys.stderr)
    return 0
