"""argparse pieces every command shares: the parser class, help formatting, and checked number types."""
from __future__ import annotations

import argparse
import re
import textwrap

from translation.names import PRECISIONS


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose to the terminal, but keeps paragraphs with indented lines (examples) as written."""

    def _fill_text(self, text, width, indent):
        paragraphs = []
        for paragraph in re.split(r"\n\s*\n", text.strip()):
            if re.search(r"^\s", paragraph, flags=re.M):
                paragraphs.append(textwrap.indent(paragraph, indent))
            else:
                paragraphs.append(textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent,
                                                subsequent_indent=indent))
        return "\n\n".join(paragraphs)


class DefaultsHelpFormatter(HelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The same, with "(default: X)" after each option's help."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: the usage of a 60-option command would bury the message. Flags a
    command does not have are reported by that command, naming ours where the official code's were typed."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args=None, namespace=None):
        # A sub-command gets every word after its name, so no other parser could take what it leaves over:
        # say so here, where the command and its options are known (argparse would say it at the top).
        namespace, unknown = super().parse_known_args(args, namespace)
        if unknown:
            from translation.commands.flag_hints import hints

            said = hints(self.prog.split()[1:], list(self._option_string_actions), unknown)
            self.error(f"unrecognized arguments: {' '.join(unknown)}" + (f"; {'; '.join(said)}" if said else ""))
        return namespace, unknown

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def names(text: str) -> list[str]:
    """An argparse type: comma-separated names (Blond_Hair,Young)."""
    found = [part.strip() for part in text.split(",") if part.strip()]
    if not found:
        raise argparse.ArgumentTypeError("expected one or more comma-separated names")
    return found


def _number(kind: type, low, high, low_open: bool):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") \
                from None
        if value != value or (low is not None and (value <= low if low_open else value < low)) \
                or (high is not None and value > high):
            bound = (f"> {low}" if low_open else f">= {low}") if low is not None else ""
            bound += (" and " if bound and high is not None else "") + (f"<= {high}" if high is not None else "")
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value
    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def int_at_least(low: int, high: int | None = None):
    """An argparse type: an integer in [low, high]."""
    return _number(int, low, high, low_open=False)


def float_at_least(low: float, high: float | None = None):
    """An argparse type: a number in [low, high]."""
    return _number(float, low, high, low_open=False)


def float_above(low: float, high: float | None = None):
    """An argparse type: a number in (low, high]."""
    return _number(float, low, high, low_open=True)


def add_speed_flags(parser, channels_last: bool = False) -> None:
    """--precision, --channels-last (--no-channels-last) and --compile: how the net of translate, sample or
    evaluate runs. One definition, so the commands agree; `channels_last` is the command's default."""
    group = parser.add_argument_group("speed (outputs within the stated rounding of the default's)")
    group.add_argument("--precision", default="fp32", choices=PRECISIONS,
                       help="number format of the net's arithmetic: fp32, as the official code and published "
                            "numbers; bf16 is up to 2x faster on CPUs with AVX-512 BF16 or AMX and on recent GPUs, "
                            "within bfloat16 rounding of fp32 (images: a few 1/255; evaluate labels its scores "
                            "bf16); fp16 for GPUs without bf16 (default: fp32)")
    group.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=channels_last,
                       help="keep images and conv weights in NHWC memory layout: faster convolutions on many CPUs "
                            "and GPUs, outputs within 1e-6 of the default layout's "
                            f"(default: {'on' if channels_last else 'off'})")
    group.add_argument("--compile", action="store_true",
                       help="run the net through torch.compile: tens of seconds to compile first (and once more "
                            "for each of height, width and batch size that varies), then faster; outputs within "
                            "1e-5 of eager mode's")
