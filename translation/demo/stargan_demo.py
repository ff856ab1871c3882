"""`make demo-stargan`: render still-life objects in four colours, train StarGAN on CPU, repaint the held-out ones.

Same code paths as the CLI (Trainer, load_domain_translator, translate_folder); only the sizes are small
enough for a 2-core CPU (see demo_config). Each held-out object exists in every colour, so each X -> Y
translation is scored against the true Y: per pixel, by the mean colour of the painted body, and by which
colour that body reads as, each beside the input left unchanged.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.colour_scores import scores
from translation.demo.coloured_objects import COLOURS, build_coloured_objects
from translation.demo.runs import say, start_afresh, train
from translation.inference.domain_translator import DomainRequest, load_domain_translator
from translation.inference.folders import translate_folder
from translation.models.configs import StarGANConfig
from translation.models.stargan import StarGANModel
from translation.visualize import make_sheet

RUN_NAME = "demo_stargan"


def demo_config(data: Path, checkpoints: Path, steps: int, size: int = 32, precision: str = "fp32") -> StarGANConfig:
    # Where a few thousand CPU steps need other settings than the paper's 200,000 (README: what was tried):
    # a small generator, a 3-layer critic (a PatchGAN's size) and LSGAN with a light gradient penalty, one
    # critic step per generator step, and an average of the generator's weights (EMA) for translating. The
    # critic stays as wide as the paper's (ndf 64): with ndf 16 it could not tell the generator's speckle
    # from paint, and the outputs kept it. The paper's loss weights; lr 2e-4 (5e-4 swung between good and
    # broken outputs). No flips: the light comes from the left in every photo.
    return StarGANConfig(
        data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps, image_size=size,
        ngf=16, ndf=64, g_blocks=3, d_layers=3, gan_mode="lsgan", lambda_gp=1.0, lambda_rec=10.0,
        n_critic=1, lr=2e-4, batch_size=8, ema_decay=0.998, flip=False, num_workers=1, log_every=25,
        image_every=250, save_every=250, device="cpu", precision=precision)


def translate_all(checkpoint: Path, test: Path, outputs: Path, precision: str) -> int:
    """outputs/<colour>/<from colour>/ as `translate --to <colour>`, and outputs/all/ as `--to all` (sheets);
    returns the number of sheets."""
    for target in COLOURS:
        translator = load_domain_translator(checkpoint, DomainRequest([target]), precision=precision)
        translate_folder(translator, test, outputs / target, progress=False)
    sheets = load_domain_translator(checkpoint, DomainRequest(["all"]), precision=precision)
    return translate_folder(sheets, test, outputs / "all", progress=False).translated


def score(translated: Path, test: Path, names: list[str]) -> dict:
    """Every X -> Y output (X != Y) against the true Y, and the input X itself as if it were the output."""
    model, unchanged = [], []
    for name in names:
        truths = {colour: read_image(test / colour / name) for colour in COLOURS}
        for target in COLOURS:
            for source in COLOURS:
                if source != target:  # nothing to translate: the unchanged input would be exact
                    model.append((read_image(translated / target / source / name), target, truths))
                    unchanged.append((truths[source], target, truths))
    baseline = scores(unchanged)
    return {**scores(model), **{f"baseline_{key}": value for key, value in baseline.items() if key != "pairs"}}


def sheet_rows(names: list[str]) -> list[tuple[str, str]]:
    """(source colour, name): one held-out object of each kind, the source colours taking turns."""
    kinds: dict[str, str] = {}
    for name in names:
        kinds.setdefault(name.split("_")[0], name)
    colours = list(COLOURS)
    return [(colours[i % len(colours)], name) for i, name in enumerate(kinds.values())]


def combined_sheet(translated: Path, test: Path, rows: list[tuple[str, str]]) -> np.ndarray:
    """The input, then each colour's output beside the true rendering."""
    columns = {"input": [read_image(test / source / name) for source, name in rows]}
    for target in COLOURS:
        columns[f"-> {target}"] = [read_image(translated / target / source / name) for source, name in rows]
        columns[f"true {target}"] = [read_image(test / target / name) for _, name in rows]
    return make_sheet(columns)


def run_demo(workdir="demo_output", steps: int = 2000, precision: str = "fp32", size: int = 32,
             train_count: int = 960, test_count: int = 24) -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "coloured_objects", workdir / "checkpoints", workdir / "stargan_translated"
    start_afresh(data, checkpoints / RUN_NAME, outputs)

    t0 = time.time()
    counts, n_test = build_coloured_objects(data, size=size, train_count=train_count, test_count=test_count)
    say(f"[1/4] rendered {data}: {sum(counts.values())} objects (apples, oranges, lemons, pears, vases, bottles), "
        f"{min(counts.values())} painted {', '.join(COLOURS)} each, no object in two colours; {n_test} held-out "
        f"objects, each in every colour ({time.time() - t0:.1f} s)")

    config = demo_config(data, checkpoints, steps, size, precision)
    say(f"[2/4] training StarGAN for {steps} steps on CPU ({size}x{size}, ngf {config.ngf}, ndf {config.ndf}, "
        f"{config.g_blocks} residual blocks, batch {config.batch_size}, n_critic {config.n_critic}, {precision})")
    run = train(StarGANModel, config, "translated or scored")
    if run.stopped_at is not None:
        return run.interrupted()

    say("[3/4] repainting the held-out objects in every colour (as `translate --to NAME` and `--to all`)")
    test = data / "test"
    n_sheets = translate_all(run.checkpoint, test, outputs, precision)
    names = [p.name for p in list_images(test / next(iter(COLOURS)))]
    result = score(outputs, test, names)
    sheet_path = workdir / "stargan_sheet.png"
    write_image(sheet_path, combined_sheet(outputs, test, sheet_rows(names)))
    say(f"[4/4] held-out {len(names)} objects x {len(COLOURS)} colours, {result['pairs']} repaintings to another "
        f"colour: became the target colour {result['became_target']:.0%} (the input unchanged: "
        f"{result['baseline_became_target']:.0%}); mean abs error to the true rendering (0-1 scale): of the body's "
        f"mean colour {result['paint_error']:.3f} (the input: {result['baseline_paint_error']:.3f}), per pixel on "
        f"the body {result['body_mae']:.3f} (the input: {result['baseline_body_mae']:.3f}), per pixel over the "
        f"whole image {result['mae']:.3f} (the input: {result['baseline_mae']:.3f})")
    say(f"training took {run.seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {run.checkpoint}\ntranslated:  {outputs}/<colour>/<from colour>/ (one folder per target), "
        f"{outputs}/all/ ({n_sheets} sheets: input | every colour)\n"
        f"sheet:       {sheet_path}  (input | -> colour | true colour, for each colour)\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {**result, "sheet": str(sheet_path), "train_seconds": run.seconds, "total_seconds": time.time() - t0}
