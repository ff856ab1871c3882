"""`translation train MODEL [options]`: train a registered model."""
from __future__ import annotations

import sys
from pathlib import Path

from translation.checkpoint import LATEST, read_checkpoint
from translation.config import add_arguments, from_dict, given_flags, load_yaml, resolve
from translation.models import CONFIGS
from translation.names import BUILTIN_SETS, builtin_set


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model", description="Train a model.")
    models = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    for name, config_class in CONFIGS.items():
        summary = (config_class.__doc__ or "").strip().splitlines()[0]
        parser = models.add_parser(name, help=summary, description=summary)
        parser.add_argument("--config", metavar="FILE.yaml", help="options from a YAML file; flags override it")
        parser.add_argument("--resume", action="store_true",
                            help="continue the run <checkpoints-dir>/<name> exactly where it stopped")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
        add_arguments(parser, config_class)
        parser.set_defaults(func=run, check=check, config_class=config_class)


def check(args) -> None:
    """Every option, the YAML file's included, before torch loads or a folder is made."""
    args.options = resolve(args.config_class, args, args.config)
    if args.resume:
        return  # the saved run's options come in when it is read (run)
    if not args.options.data:
        raise ValueError("--data is required (the data set folder), or set `data:` in --config")
    data = args.options.data
    by_name = getattr(args.config_class, "builtin_data", False) and builtin_set(data)
    if not Path(data).is_dir() and not by_name:
        also = f", nor one of the built-in sets ({', '.join(BUILTIN_SETS)})" if by_name is None else ""
        raise ValueError(f"--data {data}: no such data set folder{also}")


def run(args) -> int:
    if args.resume:
        config, checkpoint = _resume_config(args.config_class, args)
    else:
        config, checkpoint = args.options, None
    from translation.models import model_class
    from translation.training.trainer import Trainer, TrainingError

    trainer = Trainer(model_class(args.model), config, resume=args.resume, progress=not args.no_progress,
                      checkpoint=checkpoint)
    try:
        trainer.fit()
    except TrainingError as error:
        if trainer.is_main or not error.everywhere:  # an error all processes share is reported once
            print(f"error: {error}", file=sys.stderr)
        return 1
    return trainer.exit_status  # 130 stopped by a signal: saved, but not finished (0 under torchrun)


def _resume_config(config_class, args):
    """On resume the saved run's options are the base; the file and flags given now override them.
    Returns (config, the checkpoint read), so latest.pt is read once."""
    latest = args.options.run_dir / LATEST
    if not latest.is_file():
        raise ValueError(f"--resume: no checkpoint at {latest}")
    saved = read_checkpoint(latest)
    values = dict(saved["config"])
    if args.config:
        values.update(load_yaml(args.config))
    flags = given_flags(config_class, args)
    values.update(flags)
    return from_dict(config_class, values, source=str(latest), flags_given=frozenset(flags)), saved
