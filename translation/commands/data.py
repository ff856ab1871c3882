"""`translation data check PATH`: report what is in a data set and what will break training."""
from __future__ import annotations

import pathlib
import sys

from translation.commands.arguments import DefaultsHelpFormatter, int_at_least
from translation.names import CHECK_LAYOUTS


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="inspect data sets", description="Inspect data sets.")
    actions = data.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="counts, sizes, modes, unreadable files, duplicates, A/B mismatches",
        formatter_class=DefaultsHelpFormatter,
        description="Print what is in a data set and what will break training. Exit status 1 when there are "
                    "errors (unreadable files, A/B mismatches, images smaller than --crop-size, ...), or "
                    "warnings with --strict.")
    check.add_argument("path", type=pathlib.Path, help="data set folder, e.g. data/facades")
    # The training flags, with training's defaults: an image is too small only if training would stop on it.
    from translation.data.geometry import (
        DEFAULT_CROP_SIZE,
        DEFAULT_LOAD_SIZE,
        DEFAULT_PREPROCESS,
    )
    from translation.names import PREPROCESS_MODES
    check.add_argument("--preprocess", choices=PREPROCESS_MODES, default=DEFAULT_PREPROCESS,
                       help="training-time resizing, as `train --preprocess`")
    check.add_argument("--load-size", type=int_at_least(1), default=DEFAULT_LOAD_SIZE,
                       help="as `train --load-size`: the size images are resized to before the crop")
    check.add_argument("--crop-size", type=int_at_least(1), default=DEFAULT_CROP_SIZE,
                       help="as `train --crop-size`: images that cannot give this crop are errors")
    check.add_argument("--label-nc", type=int_at_least(0), default=0,
                       help="as `train pix2pixhd --label-nc`: read the inputs as label maps and check every id "
                            "is below it (0: the inputs are images)")
    check.add_argument("--instance", action="store_true",
                       help="as `train pix2pixhd --instance`: every input needs its instance map")
    check.add_argument("--layout", choices=CHECK_LAYOUTS, help="skip auto-detection")
    check.add_argument("--strict", action="store_true", help="warnings (duplicates, mixed channels) fail too")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=run_check)


def run_check(args) -> int:
    from translation.data.check import check_dataset, format_report

    try:
        result = check_dataset(args.path, crop_size=args.crop_size, load_size=args.load_size, layout=args.layout,
                               progress=not args.no_progress, preprocess=args.preprocess,
                               label_nc=args.label_nc, instance=args.instance)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_report(result))
    return 1 if result.errors or (args.strict and result.warnings) else 0
