"""`translation demo pix2pix|cyclegan|stargan`: the self-contained demos that `make demo` runs."""
from __future__ import annotations

import sys

from translation.commands.arguments import add_speed_flags, int_at_least


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="train and evaluate on an embedded data set (no download)",
                              description="Render a small data set (still lifes of fruit, vases and bottles; "
                                          "gan: scikit-learn's digits; superres: scikit-image's photos), train, "
                                          "translate the held-out part (gan: draw samples) and report quality "
                                          "against a baseline.")
    p.add_argument("model", choices=("pix2pix", "cyclegan", "stargan", "gan", "pix2pixhd", "superres", "inpaint"),
                   help="which demo to run (pix2pixhd: pix2pixHD beside pix2pix at 128 px, the same budget; "
                        "superres: srresnet x4 on scikit-image's photos beside bicubic; inpaint: "
                        "glcic filling holes in held-out still lifes beside OpenCV's Telea and a mean fill)")
    p.add_argument("--workdir", default="demo_output", help="where data, checkpoints and outputs go")
    p.add_argument("--steps", type=int_at_least(1), help="training iterations (default: each demo's own)")
    add_speed_flags(p, fields=("precision",))  # for training and translating; the layout follows it
    p.set_defaults(func=run)


def run(args) -> int:
    if args.model == "cyclegan":
        from translation.demo.cyclegan_demo import run_demo
    elif args.model == "stargan":
        from translation.demo.stargan_demo import run_demo
    elif args.model == "gan":
        from translation.demo.gan_demo import run_demo
    elif args.model == "pix2pixhd":
        from translation.demo.pix2pixhd_demo import run_demo
    elif args.model == "superres":
        from translation.demo.superres_demo import run_demo
    elif args.model == "inpaint":
        from translation.demo.inpaint_demo import run_demo
    else:
        from translation.demo.pix2pix_demo import run_demo
    from translation.training.trainer import TrainingError

    steps = {"steps": args.steps} if args.steps else {}
    try:
        result = run_demo(args.workdir, precision=args.precision, **steps)
    except TrainingError as error:  # one line, as `translation train` says it
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 130 if result.get("interrupted") else 0  # stopped early: say so in the exit code too
