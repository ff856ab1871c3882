"""`translation interpolate A B --alpha 0.8 -o C`: ESRGAN's network interpolation (Wang et al. 2018, sec. 3.4).

Every generator weight of C is (1 - alpha) x A's + alpha x B's, for two checkpoints of one architecture (the
PSNR-oriented srresnet --netG rrdbnet run and the esrgan run started from it: alpha trades smoothness for
detail without retraining). C is a checkpoint that translates like A (A's model, options and test mode),
holding the generators only; each side gives the weights `translate` would use (the moving average where the
checkpoint has one, or the trained weights with --no-ema).
"""
from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "interpolate", help="blend the generators of two checkpoints of one architecture (ESRGAN's interpolation)",
        description="Write C, whose generator weights are (1 - alpha) x A's + alpha x B's. A and B must have the "
                    "same generators (name, options, every weight's shape); C translates like A and holds no "
                    "discriminator or optimizer state.",
        epilog="example:\n  translation interpolate checkpoints/rrdb_psnr checkpoints/esrgan --alpha 0.8 -o "
               "interp_08.pt\n  translation translate interp_08.pt LR/ SR/")
    p.add_argument("a", metavar="A", help="run directory or checkpoint file (alpha 0 gives its weights)")
    p.add_argument("b", metavar="B", help="run directory or checkpoint file (alpha 1 gives its weights)")
    p.add_argument("--alpha", type=float, required=True, help="B's share, from 0 (A) to 1 (B); ESRGAN shows 0.8")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="the checkpoint file to write")
    p.add_argument("--no-ema", action="store_true",
                   help="blend the trained weights even where a checkpoint has their moving average (EMA)")
    p.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=run, check=check)


def check(args) -> None:
    if not 0.0 <= args.alpha <= 1.0:  # also refuses nan
        raise ValueError(f"--alpha {args.alpha} must be in [0, 1]: B's share of each weight")
    output = Path(args.output)
    if output.is_dir():
        raise ValueError(f"--output {output} is a folder; name the checkpoint file to write")
    if output.exists() and not args.overwrite:
        raise ValueError(f"--output {output} exists; use --overwrite to replace it")


def generator_weights(state: dict, key: str, use_ema: bool) -> dict:
    """The weights of generator `key` that inference uses: its moving average when kept (and wanted)."""
    averaged = state.get("ema", {}).get("nets", {})
    return averaged[key] if use_ema and key in averaged else state["nets"][key]


def architecture_difference(a: dict, b: dict, key: str) -> str | None:
    """Why generator `key` of checkpoints a and b cannot be blended (the first differing weight), or None."""
    wa, wb = a["nets"][key], b["nets"][key]
    for name, tensor in wa.items():
        if name not in wb:
            return f"A's {key}.{name} is not in B"
        if wb[name].shape != tensor.shape:
            return (f"{key}.{name} is {tuple(tensor.shape)} in A and {tuple(wb[name].shape)} in B")
    extra = [name for name in wb if name not in wa]
    if extra:
        return f"B's {key}.{extra[0]} is not in A"
    sa, sb = a["net_specs"][key], b["net_specs"][key]
    if sa["name"] != sb["name"]:
        return f"{key} is {sa['name']} in A and {sb['name']} in B"
    option = next((k for k in sorted(set(sa["kwargs"]) | set(sb["kwargs"]))
                   if sa["kwargs"].get(k) != sb["kwargs"].get(k)), None)
    if option is not None:
        return f"{key}'s {option} is {sa['kwargs'].get(option)} in A and {sb['kwargs'].get(option)} in B"
    return None


def blend(wa: dict, wb: dict, alpha: float) -> dict:
    """(1 - alpha) a + alpha b per floating-point tensor (alpha 0 and 1 give a and b exactly); integer buffers
    (batch norm's step count) are A's."""
    return {name: ((1 - alpha) * t + alpha * wb[name]).to(t.dtype) if t.is_floating_point() else t.clone()
            for name, t in wa.items()}


def interpolate(a: dict, b: dict, alpha: float, use_ema: bool = True, sources: tuple[str, str] = ("A", "B")) -> dict:
    """The checkpoint state C from two read checkpoints (checkpoint.read_checkpoint)."""
    keys_a, keys_b = list(a["generators"]), list(b["generators"])
    if keys_a != keys_b:
        raise ValueError(f"{sources[0]} has generators {', '.join(keys_a)} and {sources[1]} "
                         f"{', '.join(keys_b)}: interpolation blends checkpoints of one architecture")
    nets = {}
    for key in keys_a:
        difference = architecture_difference(a, b, key)
        if difference:
            raise ValueError(f"{sources[0]} and {sources[1]} are different architectures: {difference}")
        nets[key] = blend(generator_weights(a, key, use_ema), generator_weights(b, key, use_ema), alpha)
    return {"model": a["model"], "config": a.get("config", {}), "net_specs": {k: a["net_specs"][k] for k in nets},
            "nets": nets, "generators": a["generators"], "test_mode": a["test_mode"],
            "interpolated": {"a": sources[0], "b": sources[1], "alpha": alpha, "ema": use_ema}}


def run(args) -> int:
    from translation.checkpoint import read_checkpoint, resolve_checkpoint_path, save_checkpoint

    paths = [resolve_checkpoint_path(args.a), resolve_checkpoint_path(args.b)]
    output = Path(args.output)
    if output.exists() and any(output.resolve() == path.resolve() for path in paths):
        raise ValueError(f"--output {output} is one of the checkpoints being blended; write C elsewhere")
    state = interpolate(read_checkpoint(paths[0]), read_checkpoint(paths[1]), args.alpha, use_ema=not args.no_ema,
                        sources=(str(paths[0]), str(paths[1])))
    save_checkpoint(output, state)
    print(f"wrote {output}: {1 - args.alpha:g} x {paths[0]} + {args.alpha:g} x {paths[1]} "
          f"({', '.join(state['nets'])})", file=sys.stderr)
    return 0
