"""`translation demo pix2pix|cyclegan`: the self-contained demos that `make demo` runs."""
from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="train and evaluate on an embedded data set (no download)",
                              description="Build a small data set from scikit-image photos, train, "
                                          "translate the held-out part and report quality.")
    p.add_argument("model", choices=("pix2pix", "cyclegan"), help="which demo to run")
    p.add_argument("--workdir", default="demo_output", help="where data, checkpoints and outputs go")
    p.add_argument("--steps", type=int, help="training iterations (default: pix2pix 4000, cyclegan 1600)")
    p.set_defaults(func=run)


def run(args) -> int:
    if args.model == "cyclegan":
        from translation.demo.cyclegan_demo import run_demo as run_cyclegan

        run_cyclegan(args.workdir, **({"steps": args.steps} if args.steps else {}))
        return 0
    from translation.demo.pix2pix_demo import run_demo

    run_demo(args.workdir, steps=args.steps or 4000)
    return 0
