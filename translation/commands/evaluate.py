"""`translation evaluate REAL FAKE --metrics fid,kid`: how close generated images are to real ones."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from translation.commands.arguments import add_speed_flags, int_at_least
from translation.names import DEVICES, FEATURE_RESIZES, FEATURE_SPACES


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="FID, KID, IS, ... of generated images against real ones; PSNR/SSIM/L1 of paired ones",
        description="Score the images in FAKE against those in REAL. Unpaired metrics (fid, kid, is, mode_score, "
                    "mmd, wasserstein, 1nn, precision_recall, or all) use the Inception features of pytorch-fid "
                    "(the same network, weights file and preprocessing, so FID matches its numbers); the real "
                    "set's features are cached. --paired scores each output against the target of the same "
                    "name (psnr, ssim, l1); --y-channel and --crop-border score them as super-resolution papers "
                    "do (BasicSR's protocol).",
        epilog="examples:\n  translation evaluate testB/ results/ --metrics fid,kid\n"
               "  translation evaluate REAL/ --save-stats real_stats.npz\n"
               "  translation evaluate real_stats.npz results/ --metrics fid\n"
               "  translation evaluate targets/ outputs/ --paired --metrics psnr,ssim,l1\n"
               "  translation evaluate hr/ sr_x4/ --paired --metrics psnr,ssim --y-channel --crop-border 4\n"
               "  translation evaluate digits_real/ samples/ --features digits --metrics fid,is")
    p.add_argument("real", metavar="REAL", help="folder of real images, or a statistics file from --save-stats")
    p.add_argument("fake", metavar="FAKE", nargs="?", help="folder of generated images")
    p.add_argument("--metrics", help="comma-separated, or all (default: fid,kid; --paired: psnr,ssim,l1)")
    p.add_argument("--paired", action="store_true", help="match files by name and score each pair")
    p.add_argument("--y-channel", action="store_true",
                   help="--paired: score the BT.601 luma (Y of MATLAB's rgb2ycbcr, 16-235) of RGB images, with "
                        "BasicSR's PSNR and SSIM, as super-resolution papers report them")
    p.add_argument("--crop-border", metavar="N", type=int_at_least(0), default=0,
                   help="--paired: leave N pixels of every side out of the scores (super-resolution: N = the "
                        "scale; default: 0)")
    p.add_argument("--save-stats", metavar="FILE.npz",
                   help="write REAL's mean, covariance and features (pytorch-fid reads the file too)")
    p.add_argument("--features", choices=FEATURE_SPACES, default="inception",
                   help="feature space: pytorch-fid's Inception, or a small classifier of the built-in digits "
                        "(scores named *_digits; no weights file needed)")
    p.add_argument("--inception-weights", metavar="FILE",
                   help="pt_inception-2015-12-05-6726825d.pth (default: $TRANSLATION_INCEPTION_WEIGHTS, then "
                        "the torch hub cache; `translation download inception-weights` fetches it)")
    p.add_argument("--resize", choices=FEATURE_RESIZES, default="pytorch-fid",
                   help="pytorch-fid: bilinear resize inside the network, as published FIDs; clean: PIL bicubic "
                        "with antialiasing first (clean-fid); results say which")
    p.add_argument("--batch-size", type=int_at_least(1), default=50, help="images per forward pass (default: 50)")
    p.add_argument("--device", default="auto", choices=DEVICES, help="where to run the network (default: auto)")
    p.add_argument("--seed", type=int_at_least(0), default=2020,
                   help="seed of the random draws: KID's subsets, the shuffle before the Inception Score's splits "
                        "(so that file order does not matter), ... (default: 2020, torch-fidelity's)")
    p.add_argument("--no-cache", action="store_true", help="compute REAL's features again instead of reusing them")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    # channels-last by default: 1.6x faster Inception features on a CPU, within 1e-6 (metrics/features.py)
    add_speed_flags(p, channels_last=True)
    p.set_defaults(func=run, check=check)


def check(args) -> None:
    if args.fake is None and not args.save_stats:
        raise ValueError("give FAKE (the generated images), or --save-stats to only save REAL's statistics")
    if args.paired and (args.save_stats or args.features != "inception"):
        raise ValueError("--paired compares images pixel by pixel: --save-stats and --features do not apply")
    if (args.paired or args.features == "digits") and (args.compile or args.precision != "fp32"):
        flag = "--compile" if args.compile else "--precision"
        raise ValueError(f"{flag} is for the Inception network; {'--paired' if args.paired else '--features digits'}"
                         " does not run it")
    if (args.y_channel or args.crop_border) and not args.paired:
        flag = "--y-channel" if args.y_channel else "--crop-border"
        raise ValueError(f"{flag} is for --paired scores (PSNR, SSIM, L1 against targets)")
    if args.paired and args.fake is None:
        raise ValueError("--paired needs FAKE (the outputs to score against REAL's targets)")
    if args.metrics and not args.paired:
        from translation.metrics.formulas import parse_metric_names

        parse_metric_names(args.metrics)


def run(args) -> int:
    from translation.metrics import evaluation
    from translation.metrics.formulas import format_table, parse_metric_names, results_to_dict

    _check_paths(args)
    if args.paired:
        names = [m.strip() for m in (args.metrics or "psnr,ssim,l1").split(",") if m.strip()]
        results = evaluation.paired(args.real, args.fake, names, y_channel=args.y_channel,
                                    crop_border=args.crop_border)
        notes = []
    else:
        metrics = parse_metric_names(args.metrics or "fid,kid")
        real, fake = _feature_sets(args)
        notes = real.notes + (fake.notes if fake else [])
        if args.save_stats:
            from translation.metrics.stats import save_stats

            save_stats(args.save_stats, real.features, keep_features=True)
            notes.append(f"saved the statistics of {real.count} images to {args.save_stats}")
        if fake is None:
            print("\n".join(notes), file=sys.stderr)
            return 0
        suffix = "_digits" if args.features == "digits" else ""
        # `all` means every metric these sets allow; a metric named on its own must give a number
        wants_all = "all" in [word.strip().lower() for word in (args.metrics or "").split(",")]
        results = evaluation.unpaired(real, fake, metrics, seed=args.seed, suffix=suffix,
                                      skipped=notes if wants_all else None)
    for note in notes:  # for people, on stderr; --json keeps stdout for machines
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps({"results": results_to_dict(results), "notes": notes}, indent=2))
    else:
        print(format_table(results))
    return 0


def _check_paths(args) -> None:
    """The folders and files the user named, before any network or weights file is looked for: a mistyped
    path is named as such, not reported as a missing download."""
    from translation.metrics.features import list_folder_images

    # the Inception features read a folder's own images; the digits and --paired read its subfolders too
    recursive = args.paired or args.features == "digits"
    if Path(args.real).suffix == ".npz" and not args.paired:
        if not Path(args.real).is_file():
            raise ValueError(f"{args.real}: no such statistics file")
    else:
        list_folder_images(args.real, recursive)
    if args.fake is not None:
        list_folder_images(args.fake, recursive)


def _feature_sets(args):
    from translation.metrics import evaluation

    if Path(args.real).suffix == ".npz":
        if args.save_stats:
            raise ValueError("REAL is already a statistics file")
        real = evaluation.stats_feature_set(args.real)
    if args.features == "digits":
        if Path(args.real).suffix != ".npz":
            real = evaluation.digit_feature_set(args.real)
        return real, evaluation.digit_feature_set(args.fake) if args.fake else None
    from translation.metrics.features import run_inception_as
    from translation.metrics.inception import load_inception
    from translation.metrics.weights import InceptionWeightsError

    try:
        model = load_inception(args.inception_weights, args.device)
    except InceptionWeightsError as error:
        raise ValueError(str(error)) from None
    run_inception_as(model, args.channels_last, args.compile)
    options = (args.batch_size, model_device(model), args.precision, args.resize)
    if Path(args.real).suffix != ".npz":
        real = evaluation.inception_feature_set(args.real, model, *options, cached=not args.no_cache)
    fake = evaluation.inception_feature_set(args.fake, model, *options, cached=False) if args.fake else None
    if not model.standard:
        real.notes.append("these are not pytorch-fid's weights: the numbers do not compare with published ones")
    return real, fake


def model_device(model):
    return next(model.parameters()).device
