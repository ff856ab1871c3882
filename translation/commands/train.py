"""`translation train MODEL [options]`: train a registered model."""
from __future__ import annotations

import sys

from translation.checkpoint import LATEST, read_checkpoint
from translation.config import add_arguments, from_dict, load_yaml, resolve
from translation.models import MODELS
from translation.training.trainer import Trainer, TrainingError


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model", description="Train a model.")
    models = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    for name, model_class in sorted(MODELS.items()):
        summary = (model_class.__doc__ or "").strip().splitlines()
        parser = models.add_parser(name, help=summary[0] if summary else None,
                                   description=summary[0] if summary else None)
        parser.add_argument("--config", metavar="FILE.yaml", help="options from a YAML file; flags override it")
        parser.add_argument("--resume", action="store_true",
                            help="continue the run <checkpoints-dir>/<name> exactly where it stopped")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
        add_arguments(parser, model_class.config_class)
        parser.set_defaults(func=run, model_class=model_class)


def run(args) -> int:
    model_class = args.model_class
    config_cls = model_class.config_class
    checkpoint = None
    if args.resume:
        config, checkpoint = _resume_config(config_cls, args)
    else:
        config = resolve(config_cls, args, args.config)
    if not config.data:
        raise ValueError("--data is required (the data set folder), or set `data:` in --config")
    trainer = Trainer(model_class, config, resume=args.resume, progress=not args.no_progress, checkpoint=checkpoint)
    try:
        trainer.fit()
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 130 if trainer.stopped else 0  # stopped by a signal: saved, but not finished


def _resume_config(config_cls, args):
    """On resume the saved run's options are the base; the file and flags given now override them.
    Returns (config, the checkpoint read), so latest.pt is read once."""
    probe = resolve(config_cls, args, args.config)
    latest = probe.run_dir / LATEST
    if not latest.is_file():
        raise ValueError(f"--resume: no checkpoint at {latest}")
    saved = read_checkpoint(latest)
    values = dict(saved["config"])
    if args.config:
        values.update(load_yaml(args.config))
    for key, value in vars(args).items():
        if key in values and value is not None:
            values[key] = value
    return from_dict(config_cls, values, source=str(latest)), saved
