"""The `translation` command: one entry point, one module per sub-command in translation/commands/."""
from __future__ import annotations

import argparse
import importlib
import sys

from translation import __version__
from translation.runtime import NET_COMMANDS, configure_cpu_threads

# Each module defines register(subparsers) and sets `func` (args -> exit code) on its parser(s).
COMMANDS = ("train", "translate", "import_weights", "prepare", "data", "download", "demo")


class UserError(Exception):
    """An error whose message is for the user as it stands: printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="translation", description="Image-to-image translation: pix2pix, CycleGAN and friends.")
    parser.add_argument("--version", action="version", version=f"translation {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"translation.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"translation.commands.{name}":
                continue  # a command that is not part of this build
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = [word for word in (sys.argv[1:] if argv is None else argv) if not word.startswith("-")]
    # before any command module imports torch (see runtime.py)
    configure_cpu_threads(look_at_load=bool(words) and words[0] in NET_COMMANDS)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, OSError) as error:
        # Expected failures (bad flags, bad files, missing folders) carry a message naming the cause.
        print(f"error: {error}", file=sys.stderr)
        return 1 if not isinstance(error, UserError) else 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
