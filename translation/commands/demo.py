"""`translation demo pix2pix`: the self-contained demo that `make demo` runs."""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="train and evaluate on an embedded data set (no download)",
                              description="Build a small data set from scikit-image photos, train, "
                                          "translate the held-out part and report quality.")
    p.add_argument("model", choices=("pix2pix",), help="which demo to run")
    p.add_argument("--workdir", default="demo_output", help="where data, checkpoints and outputs go")
    p.add_argument("--steps", type=int, default=4000, help="training iterations")
    p.set_defaults(func=run)


def run(args) -> int:
    from translation.demo.pix2pix_demo import run_demo

    run_demo(args.workdir, steps=args.steps)
    return 0
