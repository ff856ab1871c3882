"""`translation train MODEL [options]`: train a registered model with the generic trainer."""
from __future__ import annotations

import sys

from translation.config import add_arguments, from_dict, load_yaml, resolve
from translation.models import MODELS
from translation.training.checkpoint import LATEST, load_checkpoint
from translation.training.trainer import Trainer, TrainingError


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train a model", description="Train a model.")
    models = train.add_subparsers(dest="model", metavar="MODEL", required=True)
    for name, model_class in sorted(MODELS.items()):
        summary = (model_class.__doc__ or "").strip().splitlines()
        parser = models.add_parser(name, help=summary[0] if summary else None)
        parser.add_argument("--config", metavar="FILE.yaml", help="options from a YAML file; flags override it")
        parser.add_argument("--resume", action="store_true",
                            help="continue the run <checkpoints-dir>/<name> exactly where it stopped")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
        add_arguments(parser, model_class.config_class)
        parser.set_defaults(func=run, model_class=model_class)


def run(args) -> int:
    model_class = args.model_class
    config_cls = model_class.config_class
    if args.resume:
        config = _resume_config(config_cls, args)
    else:
        config = resolve(config_cls, args, args.config)
    if not config.data:
        raise ValueError("--data is required (the data set folder), or set `data:` in --config")
    trainer = Trainer(model_class, config, resume=args.resume, progress=not args.no_progress)
    try:
        trainer.fit()
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 130 if trainer.stopped else 0  # stopped by a signal: saved, but not finished


def _resume_config(config_cls, args):
    """On resume the saved run's options are the base; the file and flags given now override them."""
    probe = resolve(config_cls, args, args.config)
    saved = load_checkpoint(probe.run_dir / LATEST) if (probe.run_dir / LATEST).is_file() else None
    if saved is None:
        raise ValueError(f"--resume: no checkpoint at {probe.run_dir / LATEST}")
    values = dict(saved["config"])
    if args.config:
        values.update(load_yaml(args.config))
    for key, value in vars(args).items():
        if key in values and value is not None:
            values[key] = value
    return from_dict(config_cls, values, source=str(probe.run_dir / LATEST))
