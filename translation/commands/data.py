"""`translation data check PATH`: report what is in a data set and what will break training."""
from __future__ import annotations

import argparse
import pathlib
import sys

from translation.data.check import LAYOUTS, check_dataset, format_report


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="inspect data sets", description="Inspect data sets.")
    actions = data.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="counts, sizes, modes, unreadable files, duplicates, A/B mismatches",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Print what is in a data set and what will break training. Exit status 1 when there are "
                    "errors (unreadable files, A/B mismatches, images smaller than --crop-size, ...), or "
                    "warnings with --strict.")
    check.add_argument("path", type=pathlib.Path, help="data set folder, e.g. data/facades")
    check.add_argument("--crop-size", type=int, help="the training crop: smaller images are errors")
    check.add_argument("--load-size", type=int,
                       help="the size images are resized to before cropping (then only load < crop is an error)")
    check.add_argument("--layout", choices=LAYOUTS, help="skip auto-detection")
    check.add_argument("--strict", action="store_true", help="warnings (duplicates, mixed channels) fail too")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=run_check)


def run_check(args) -> int:
    try:
        result = check_dataset(args.path, args.crop_size, args.load_size, args.layout, not args.no_progress)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(format_report(result))
    return 1 if result.errors or (args.strict and result.warnings) else 0
