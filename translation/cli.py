"""The `translation` command: one entry point, one module per sub-command in translation/commands/.

Parsing comes first and is light: command modules import only argparse-level code at the top and load
torch, OpenCV and the rest inside the function that runs the command, so `--help`, `--version` and a
mistyped flag answer at once (a test holds every command to this).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from translation import __version__
from translation.commands.arguments import Parser
from translation.runtime import configure_cpu_threads

# Each module defines register(subparsers) and sets `func` (args -> exit code) on its parser(s), and may set
# `check` (args -> None, raises ValueError): the checks of its options that argparse cannot do, run before
# anything else (no torch, no files written).
COMMANDS = ("train", "translate", "sample", "evaluate", "import_weights", "prepare", "data", "download", "demo",
            "export", "serve")
COMMANDS += ("interpolate",)  # commands/interpolate.py: ESRGAN's network interpolation


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="translation", description="Image-to-image translation: pix2pix, CycleGAN and friends.")
    parser.add_argument("--version", action="version", version=f"translation {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"translation.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        if getattr(args, "check", None):
            args.check(args)
        # before the command imports torch (see runtime.py)
        configure_cpu_threads()
        return int(args.func(args) or 0)
    except (ValueError, OSError) as error:
        # Expected failures (bad flags, bad files, missing folders) carry a message naming the cause.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
