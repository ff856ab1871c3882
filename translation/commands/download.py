"""`translation download NAME | model NAME | --list`: official data sets and pretrained models."""
from __future__ import annotations

import pathlib
import sys

from translation.commands.arguments import float_above, int_at_least
from translation.data import catalog, zoo
from translation.utils import vgg_weights


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "download", help="download official data sets and pretrained models",
        description="Download the official pix2pix/CycleGAN data sets into DATA-DIR/<name>/ and pretrained models "
                    "into CHECKPOINTS-DIR/<name>_pretrained/latest_net_G.pth. Partial downloads resume; the SHA-256 "
                    "is recorded; archives are checked before extraction.",
        epilog="examples:\n  translation download --list\n  translation download facades\n"
               "  translation download model horse2zebra\n"
               "  translation download inception-weights   # for FID/KID/IS, into the torch hub cache\n"
               "  translation download vgg19-weights       # for the VGG perceptual loss (pix2pixHD)\n"
               "  translation download facades --url http://mirror.example/facades.tar.gz")
    parser.add_argument("what", nargs="*", metavar="NAME",
                        help="data set name(s), inception-weights, vgg19-weights, or: model NAME")
    parser.add_argument("--list", action="store_true", help="show the names, kinds and approximate sizes")
    parser.add_argument("--url", help="download from this URL (a mirror) instead of the official server")
    parser.add_argument("--sha256", help="expected SHA-256; a mismatch deletes the file and fails")
    parser.add_argument("--data-dir", type=pathlib.Path, default=pathlib.Path("data"), help="default: data")
    parser.add_argument("--checkpoints-dir", type=pathlib.Path, default=pathlib.Path("checkpoints"),
                        help="default: checkpoints")
    parser.add_argument("--force", action="store_true", help="replace an existing data set or model")
    parser.add_argument("--keep-archive", action="store_true", help="keep the archive in DATA-DIR/.downloads/")
    parser.add_argument("--retries", type=int_at_least(1), default=3,
                        help="tries in a row without progress (default: 3)")
    parser.add_argument("--timeout", type=float_above(0.0), default=30.0, help="seconds without data before a retry")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.list:
        print(catalog.table())
        print(f"{vgg_weights.DOWNLOAD_NAME}: torchvision's VGG19 weights for the VGG perceptual loss, "
              f"{vgg_weights.SIZE}, into the torch hub cache")
        return 0
    what = list(args.what)
    is_model = bool(what) and what[0] == "model"
    names = what[1:] if is_model else what
    if not names:
        print("error: name a data set or `model NAME` (see `translation download --list`)", file=sys.stderr)
        return 2
    if (args.url or args.sha256) and len(names) > 1:
        print("error: --url and --sha256 go with a single name", file=sys.stderr)
        return 2
    options = dict(url=args.url, sha256=args.sha256, force=args.force, retries=args.retries,
                   timeout=args.timeout, progress=not args.no_progress)
    try:
        for name in names:
            single_file = is_model or name in (catalog.INCEPTION_WEIGHTS.name, vgg_weights.DOWNLOAD_NAME)
            if is_model:
                done = zoo.install_model(name, args.checkpoints_dir, **options)
            elif name == vgg_weights.DOWNLOAD_NAME:
                done = vgg_weights.install_vgg19_weights(**options)
            elif single_file:
                from translation.metrics.weights import install_inception_weights

                done = install_inception_weights(**options)
            else:
                done = zoo.install_dataset(name, args.data_dir, keep_archive=args.keep_archive, **options)
            _report(done, single_file)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume the download", file=sys.stderr)
        return 130
    except (zoo.DownloadError, zoo.InstallError, zoo.UnsafeArchiveError, zoo.UnknownNameError,
            FileExistsError, OSError) as error:
        message = error.args[0] if isinstance(error, LookupError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0


def _report(done: zoo.Installed, is_model: bool) -> None:
    from translation.data.io import list_images

    if done.note:
        print(f"note: {done.note}", file=sys.stderr)
    verb = "already present" if done.already else "downloaded"
    if is_model:
        print(f"{verb}: {done.path} (sha256 {done.sha256})")
        return
    folders = sorted(p for p in done.path.iterdir() if p.is_dir() and not p.name.startswith("."))
    counts = ", ".join(f"{p.name} {len(list_images(p))}" for p in folders) or f"{len(list_images(done.path))} images"
    print(f"{verb}: {done.path} ({counts}; sha256 {done.sha256}, recorded in {done.path / zoo.SOURCE_FILE})")
