"""`translation prepare ...`: build paired, unpaired and multi-domain data sets from plain folders, and write
the built-in digits as files."""
from __future__ import annotations

import pathlib
import sys

from translation.commands.arguments import DefaultsHelpFormatter, float_above, float_at_least, int_at_least
from translation.names import MASK_KINDS, PAIRED_TASKS, PREPARE_LAYOUTS, STARGAN_TEST_COUNT

DEFAULT_SIZE = 256  # the official pix2pix/CycleGAN sets are 256 x 256
DOMAIN_SIZE = 128  # StarGAN's CelebA resolution
SR_LAYOUT = "sr"  # prepare superres only: HR and LR folders at 1/scale (translation/data/sr_layout.py)
MASKS_LAYOUT = "masks"  # prepare inpaint only: images and their mask files (translation/data/inpaint_layout.py)


def register(subparsers) -> None:
    prepare = subparsers.add_parser(
        "prepare", help="build data sets from folders of images",
        description="Build data sets in the layouts training reads. Inputs are never modified; outputs are "
                    "written atomically and a summary with counts per split is printed at the end.")
    tasks = prepare.add_subparsers(dest="prepare_task", metavar="TASK", required=True)

    for task, help_text in PAIRED_TASKS.items():
        parser = tasks.add_parser(task, help=help_text, description=f"Paired set: {help_text}. A is the "
                                  "input made from each photo, B the photo; aligned A|B files in train/val/test.",
                                  formatter_class=DefaultsHelpFormatter)
        parser.add_argument("photos", type=pathlib.Path, help="folder of photos (searched recursively)")
        parser.add_argument("out", type=pathlib.Path, help="output data set folder, e.g. data/edges2photos")
        _add_size(parser, DEFAULT_SIZE)
        _add_fractions(parser, val=0.1, test=0.1)
        layout_help = "aligned: OUT/<split>/ A|B files; folders: OUT/A/<split>/ and OUT/B/<split>/"
        if task == "superres":
            layout_help += (f"; {SR_LAYOUT}: OUT/<split>/HR/ and OUT/<split>/LR_bicubic/X<scale>/, HR cropped to "
                            "multiples of --scale and LR at 1/scale by MATLAB's bicubic imresize, for srresnet, "
                            "srgan and esrgan (the other layouts upsample A back to full size, for pix2pix)")
        if task == "inpaint":
            layout_help += (f"; {MASKS_LAYOUT}: OUT/<split>/images/ and OUT/<split>/masks/ (same names, masks 8-bit "
                            "PNG, white = hole), the photos untouched, for glcic and deepfill (the other layouts "
                            "paint the holes white into A, for pix2pix)")
        extra = {"superres": (SR_LAYOUT,), "inpaint": (MASKS_LAYOUT,)}.get(task, ())
        parser.add_argument("--layout", choices=PREPARE_LAYOUTS + extra,
                            default="aligned", help=layout_help)
        _add_common(parser)
        if task == "edges":
            parser.add_argument("--method", choices=("canny", "hed-like"), default="canny",
                                help="hed-like: the post-processing of the official edges2shoes/handbags sets")
            parser.add_argument("--device", default="auto",
                                help="for hed-like: auto (CUDA if available), cpu, cuda, cuda:1, ...")
        elif task == "superres":
            parser.add_argument("--scale", type=int_at_least(2), default=4, help="downscaling factor of A")
        elif task == "denoise":
            parser.add_argument("--sigma", type=float_at_least(0.0), default=25.0,
                                help="noise standard deviation on 0-255")
        elif task == "inpaint":
            parser.add_argument("--holes", type=int_at_least(1), default=1, help="holes per image")
            parser.add_argument("--hole-size", type=float_above(0.0, 1.0), default=0.25,
                                help="hole side as a fraction of the image")
            parser.add_argument("--mask-kind", choices=MASK_KINDS,
                                help=f"--layout {MASKS_LAYOUT} only: draw each mask as the models train on them "
                                     "(free_form: DeepFill's brush strokes; rectangles: GLCIC's holes; deepfill: "
                                     "a box and strokes) instead of --holes squares of --hole-size")
        parser.set_defaults(func=run_paired)

    combine = tasks.add_parser(
        "combine", help="A and B folders → aligned A|B files",
        formatter_class=DefaultsHelpFormatter,
        description="Pair files of --a and --b by name (extension ignored) into A|B files (A left). "
                    "train/val/test sub-folders are kept; flat folders are split by file-name hash. Every "
                    "unmatched name and size mismatch is listed and nothing is written unless you ask.")
    combine.add_argument("--a", required=True, type=pathlib.Path, help="folder of A images")
    combine.add_argument("--b", required=True, type=pathlib.Path, help="folder of B images")
    combine.add_argument("out", type=pathlib.Path, help="output data set folder")
    combine.add_argument("--resize", action="store_true", help="scale B to A's size where they differ")
    combine.add_argument("--skip-unmatched", action="store_true",
                         help="write the pairs that match and list the others, instead of stopping")
    _add_size(combine, 0)
    _add_fractions(combine, val=0.1, test=0.1, note=" (flat folders only)")
    _add_bit_depth(combine)
    _add_common(combine)
    combine.set_defaults(func=run_combine)

    split = tasks.add_parser("split", help="aligned A|B files → A/ and B/ folders",
                             formatter_class=DefaultsHelpFormatter,
                             description="The inverse of combine: OUT/A/<split>/ and OUT/B/<split>/.")
    split.add_argument("aligned", type=pathlib.Path, help="a data set folder, or one split folder of it")
    split.add_argument("out", type=pathlib.Path, help="output folder")
    _add_bit_depth(split)
    _add_common(split)
    split.set_defaults(func=run_split)

    unpaired = tasks.add_parser("unpaired", help="two folders → trainA/ trainB/ testA/ testB/",
                                formatter_class=DefaultsHelpFormatter)
    unpaired.add_argument("--a", required=True, type=pathlib.Path, help="folder of domain A images")
    unpaired.add_argument("--b", required=True, type=pathlib.Path, help="folder of domain B images")
    unpaired.add_argument("out", type=pathlib.Path, help="output data set folder")
    _add_size(unpaired, DEFAULT_SIZE)
    unpaired.add_argument("--test-fraction", type=float_at_least(0.0, 1.0), default=0.1,
                          help="share of each domain kept for test")
    _add_channels(unpaired)
    _add_common(unpaired)
    unpaired.set_defaults(func=run_unpaired)

    domains = tasks.add_parser(
        "domains", help="one folder per domain (StarGAN), from folders or CelebA attributes",
        formatter_class=DefaultsHelpFormatter,
        description="Writes OUT/train/<domain>/ and OUT/test/<domain>/. Give --domain NAME=FOLDER (repeat), "
                    "or --folders ROOT (each sub-folder a domain), or --celeba-attrs with --images and --attrs.")
    domains.add_argument("out", type=pathlib.Path, help="output data set folder")
    domains.add_argument("--domain", action="append", default=[], metavar="NAME=FOLDER", help="a domain")
    domains.add_argument("--folders", type=pathlib.Path, help="a folder whose sub-folders are the domains")
    domains.add_argument("--celeba-attrs", type=pathlib.Path, help="list_attr_celeba.txt")
    domains.add_argument("--images", type=pathlib.Path, help="the CelebA image folder (img_align_celeba)")
    domains.add_argument("--attrs", default="Black_Hair,Blond_Hair,Brown_Hair,Male,Young",
                         help="comma-separated CelebA attributes (StarGAN's default five)")
    domains.add_argument("--test-count", type=int_at_least(0), default=STARGAN_TEST_COUNT,
                         help="CelebA: test images, taken as the official StarGAN does (the lines shuffled with seed 1234, "
                              "then the first N)")
    domains.add_argument("--test-fraction", type=float_at_least(0.0, 1.0), default=0.1,
                         help="folders: share kept for test")
    _add_size(domains, DOMAIN_SIZE)
    _add_channels(domains)
    _add_common(domains)
    domains.set_defaults(func=run_domains)

    digits = tasks.add_parser(
        "digits", help="the built-in digits as PNG files (a real set for evaluate --features digits)",
        formatter_class=DefaultsHelpFormatter,
        description="Writes the 1,797 images `--data digits` trains on, as training sees them at --image-size "
                    "(gray, 1 channel), to OUT/<index>.png (scikit-learn's order), or OUT/<class>/<index>.png "
                    "with --by-class.")
    digits.add_argument("out", type=pathlib.Path, help="output folder, e.g. real_digits")
    digits.add_argument("--image-size", type=int_at_least(8), default=32,
                        help="image side in pixels, as train's --image-size")
    digits.add_argument("--by-class", action="store_true",
                        help="one sub-folder per digit (0/ to 9/): the labels `train --data OUT --conditional` "
                             "reads")
    _add_common(digits, ext=False)  # PNG: lossless, as the digits are compared pixel for pixel
    digits.set_defaults(func=run_digits)


def _add_size(parser, default: int) -> None:
    parser.add_argument("--size", type=int_at_least(0), default=default,
                        help="resize the shorter side to SIZE and centre-crop to SIZE x SIZE (0: keep sizes)")


def _add_fractions(parser, val: float, test: float, note: str = "") -> None:
    parser.add_argument("--val-fraction", type=float_at_least(0.0, 1.0), default=val,
                        help=f"share of files in val{note}")
    parser.add_argument("--test-fraction", type=float_at_least(0.0, 1.0), default=test,
                        help=f"share of files in test{note}")


def _add_bit_depth(parser) -> None:
    parser.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="16 for .png/.tif only")


def _add_channels(parser) -> None:
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3, help="1: gray, 3: RGB")


def _add_common(parser, ext: bool = True) -> None:
    if ext:
        parser.add_argument("--ext", default="png", help="output format: png (lossless), jpg, webp, bmp, tif")
    parser.add_argument("--overwrite", action="store_true", help="allow writing into a folder that has images")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _finish(report, out, what: str) -> int:
    print(report.summary(out, what))
    return 0


def _guarded(body):
    """Known failures print one message and return 1; no traceback."""
    def run(args) -> int:
        try:
            return body(args)
        except (ValueError, OSError) as error:  # PrepareError is a ValueError
            print(f"error: {error}", file=sys.stderr)
            return 1
    run.__name__ = body.__name__
    return run


def _maker(args):
    from translation.data import prepare as prep

    task = args.prepare_task
    if task == "edges":
        device = args.device
        if args.method == "hed-like" and device == "auto":
            import torch
            device = "cuda" if torch.cuda.is_available() else None  # None: the NumPy/OpenCV path
        elif device in ("auto", "cpu"):
            device = None
        if device and str(device).startswith("cuda"):
            import torch
            if not torch.cuda.is_available():
                raise prep.PrepareError(f"--device {device}: CUDA is not available here; use --device cpu")
        return prep.edges_maker(args.method, device)
    if task == "colorize":
        return prep.colorize_maker()
    if task == "superres":
        return prep.superres_maker(args.scale)
    if task == "denoise":
        return prep.denoise_maker(args.sigma)
    return prep.inpaint_maker(args.holes, args.hole_size)


@_guarded
def run_paired(args) -> int:
    from translation.data import prepare as prep
    from translation.data.prepare.common import normalise_ext

    ext = normalise_ext(args.ext)
    write, what = None, "pairs"
    if args.layout == SR_LAYOUT:
        write, what = prep.superres_writer(args.out, args.scale, ext), "HR/LR pairs"
    elif args.layout == MASKS_LAYOUT:
        from translation.data.prepare.tasks import inpaint_writer

        write, what = inpaint_writer(args.out, args.holes, args.hole_size, ext, args.mask_kind), "images with masks"
    elif getattr(args, "mask_kind", None):
        raise prep.PrepareError(f"--mask-kind {args.mask_kind} writes mask files: use it with --layout {MASKS_LAYOUT}")
    report = prep.prepare_paired(args.prepare_task, None if write else _maker(args), args.photos, args.out,
                                 args.size, args.val_fraction, args.test_fraction, args.layout, ext,
                                 args.overwrite, not args.no_progress, write)
    return _finish(report, args.out, what)


@_guarded
def run_combine(args) -> int:
    from translation.data import prepare as prep
    from translation.data.prepare.common import normalise_ext

    report = prep.combine_folders(args.a, args.b, args.out, args.size, args.resize, args.skip_unmatched,
                                  args.val_fraction, args.test_fraction, normalise_ext(args.ext), args.bit_depth,
                                  args.overwrite, not args.no_progress)
    return _finish(report, args.out, "pairs")


@_guarded
def run_split(args) -> int:
    from translation.data import prepare as prep
    from translation.data.prepare.common import normalise_ext

    report = prep.split_aligned(args.aligned, args.out, normalise_ext(args.ext), args.bit_depth,
                                args.overwrite, not args.no_progress)
    return _finish(report, args.out, "A/B pairs")


@_guarded
def run_unpaired(args) -> int:
    from translation.data import prepare as prep
    from translation.data.prepare.common import normalise_ext

    report = prep.prepare_unpaired(args.a, args.b, args.out, args.size, args.test_fraction, args.channels,
                                   normalise_ext(args.ext), args.overwrite, not args.no_progress)
    return _finish(report, args.out, "images")


@_guarded
def run_domains(args) -> int:
    from translation.data import prepare as prep
    from translation.data.prepare.common import normalise_ext

    ext = normalise_ext(args.ext)
    sources = sum(bool(x) for x in (args.domain, args.folders, args.celeba_attrs))
    if sources != 1:
        raise prep.PrepareError("give exactly one of --domain NAME=FOLDER, --folders ROOT, --celeba-attrs FILE")
    if args.celeba_attrs:
        if not args.images:
            raise prep.PrepareError("--celeba-attrs needs --images (the folder the file names refer to)")
        attrs = [a.strip() for a in args.attrs.split(",") if a.strip()]
        report = prep.prepare_celeba(args.celeba_attrs, args.images, args.out, attrs, args.size,
                                     args.test_count, ext, args.overwrite, not args.no_progress)
        return _finish(report, args.out, "images")
    if args.folders:
        domains = prep.domains_from_root(args.folders)
    else:
        domains = {}
        for spec in args.domain:
            name, sep, folder = spec.partition("=")
            if not sep or not name or not folder:
                raise prep.PrepareError(f"--domain {spec!r}: write it as NAME=FOLDER")
            if name in domains:
                raise prep.PrepareError(f"--domain {name} given twice")
            domains[name] = pathlib.Path(folder)
    report = prep.prepare_domain_folders(domains, args.out, args.size, args.test_fraction, args.channels, ext,
                                         args.overwrite, not args.no_progress, root=args.folders)
    return _finish(report, args.out, "images")


@_guarded
def run_digits(args) -> int:
    from translation.data import prepare as prep

    report = prep.prepare_digits(args.out, args.image_size, args.by_class, args.overwrite, not args.no_progress)
    size = args.image_size
    layout = ", one sub-folder per class" if args.by_class else ""
    print(f"wrote {report.total:,} digits ({size}x{size}, {len(report.counts)} classes) to {args.out}{layout}")
    return 0
