"""argparse pieces every command shares: the parser class, help formatting, and checked number types."""
from __future__ import annotations

import argparse
import dataclasses
import re
import textwrap

from translation.config import TrainConfig, add_field_argument


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


SPEED_FIELDS = ("precision", "channels_last", "compile")  # of TrainConfig: --precision, --channels-last, --compile


def add_speed_flags(parser, fields: tuple[str, ...] = SPEED_FIELDS, **defaults) -> None:
    """--precision, --channels-last (--no-channels-last) and --compile on a command that runs nets (translate,
    sample, evaluate; demo takes --precision): TrainConfig's fields, which `translation train` has too, with
    their help, choices and defaults, so the commands agree. `defaults`: a command's own default for one of
    them (evaluate: channels_last=True)."""
    declared = {f.name: f for f in dataclasses.fields(TrainConfig)}
    group = parser.add_argument_group("speed (outputs within the stated rounding of the default's)")
    for name in fields:
        add_field_argument(group, TrainConfig, name, defaults.get(name, declared[name].default))
