"""`make demo-stargan`: build the embedded colour-grading set, train StarGAN on CPU, translate to every grade.

Same code paths as the CLI (Trainer, load_domain_translator, translate_folder); only the sizes are small
enough for a 2-core CPU: 32x32 crops, ngf/ndf 16, 3 residual blocks and a 3-layer critic instead of
128 px, 64/64, 6 and 6, for 4,000 steps. Each held-out crop exists in every grade, so each X -> Y
translation is scored against the true Y. The tones come out right; at this size and length the outputs
keep blur and some checkerboard, so the error to the true grade sits only a little below the input's own.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.graded_photos import GRADES, build_graded_photos
from translation.demo.runs import say, start_afresh, train
from translation.domain_translator import DomainRequest, load_domain_translator
from translation.inference import translate_folder
from translation.models.configs import StarGANConfig
from translation.models.stargan import StarGANModel
from translation.visualize import make_sheet

RUN_NAME = "demo_stargan"


def demo_config(data: Path, checkpoints: Path, steps: int, size: int = 32, precision: str = "fp32") -> StarGANConfig:
    # Where a few thousand CPU steps need other settings than the paper's 200,000 (README: what was tried):
    # a 3-layer critic (a PatchGAN's size) and LSGAN with a light gradient penalty keep the critic's scores
    # small, so they do not drown the reconstruction loss, which is raised so that content comes through
    # early; one critic step per generator step, a higher learning rate and an average of the generator's
    # weights (EMA) for translating.
    return StarGANConfig(
        data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps, image_size=size,
        ngf=16, ndf=16, g_blocks=3, d_layers=3, gan_mode="lsgan", lambda_gp=1.0, lambda_rec=30.0,
        n_critic=1, lr=5e-4, batch_size=8, ema_decay=0.995, num_workers=1, log_every=25, image_every=250,
        save_every=250, device="cpu", precision=precision)


def translate_all(checkpoint: Path, test: Path, outputs: Path, precision: str) -> int:
    """outputs/<grade>/<from grade>/ as `translate --to <grade>`, and outputs/all/ as `--to all` (sheets);
    returns the number of sheets."""
    for target in GRADES:
        translator = load_domain_translator(checkpoint, DomainRequest([target]), precision=precision)
        translate_folder(translator, test, outputs / target, progress=False)
    sheets = load_domain_translator(checkpoint, DomainRequest(["all"]), precision=precision)
    return translate_folder(sheets, test, outputs / "all", progress=False).translated


def score(translated: Path, test: Path, names: list[str]) -> dict:
    """Mean absolute error (0-1 scale) of every X -> Y output, and of the input itself, to the true Y: per
    pixel, and of the average colour alone (the grade's tone, apart from blur and artefacts)."""
    errors: dict[str, list[float]] = {"mae": [], "baseline_mae": [], "colour_mae": [], "baseline_colour_mae": []}
    for target in GRADES:
        for source in GRADES:
            if source == target:
                continue  # nothing to translate: the baseline would be 0
            for name in names:
                truth = read_image(test / target / name)
                for kind, image in (("", read_image(translated / target / source / name)),
                                    ("baseline_", read_image(test / source / name))):
                    errors[kind + "mae"].append(np.abs(image - truth).mean())
                    errors[kind + "colour_mae"].append(np.abs(image.mean((0, 1)) - truth.mean((0, 1))).mean())
    return {**{key: float(np.mean(values)) for key, values in errors.items()}, "pairs": len(errors["mae"])}


def combined_sheet(translated: Path, test: Path, names: list[str]) -> np.ndarray:
    """One row per held-out crop, each from another grade in turn: the input, then each grade's output
    beside the true one."""
    grades = list(GRADES)
    rows = [(grades[i % len(grades)], name) for i, name in enumerate(names)]
    columns = {"input": [read_image(test / source / name) for source, name in rows]}
    for target in grades:
        columns[f"-> {target}"] = [read_image(translated / target / source / name) for source, name in rows]
        columns[f"true {target}"] = [read_image(test / target / name) for _, name in rows]
    return make_sheet(columns)


def run_demo(workdir="demo_output", steps: int = 4000, precision: str = "fp32", size: int = 32,
             crops_per_cell: int = 4, test_per_photo: int = 2, sheet_rows: int = 7) -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "graded_photos", workdir / "checkpoints", workdir / "stargan_translated"
    start_afresh(data, checkpoints / RUN_NAME, outputs)

    t0 = time.time()
    counts, n_test = build_graded_photos(data, size=size, crops_per_cell=crops_per_cell,
                                         test_per_photo=test_per_photo)
    say(f"[1/4] built {data}: {sum(counts.values())} training crops, {min(counts.values())} per grade "
        f"({', '.join(GRADES)}), no pixel in two grades; {n_test} held-out crops, each in every grade "
        f"({time.time() - t0:.1f} s)")

    config = demo_config(data, checkpoints, steps, size, precision)
    say(f"[2/4] training StarGAN for {steps} steps on CPU ({size}x{size}, ngf/ndf {config.ngf}, {config.g_blocks} "
        f"residual blocks, batch {config.batch_size}, n_critic {config.n_critic}, {precision})")
    run = train(StarGANModel, config, "translated or scored")
    if run.stopped_at is not None:
        return run.interrupted()

    say("[3/4] translating the held-out crops to every grade (as `translate --to NAME` and `--to all`)")
    test = data / "test"
    n_sheets = translate_all(run.checkpoint, test, outputs, precision)
    names = [p.name for p in list_images(test / next(iter(GRADES)))]
    scores = score(outputs, test, names)
    sheet_path = workdir / "stargan_sheet.png"
    picked = [names[i] for i in np.linspace(0, len(names) - 1, min(sheet_rows, len(names))).astype(int)]
    write_image(sheet_path, combined_sheet(outputs, test, picked))
    say(f"[4/4] held-out {len(names)} crops x {len(GRADES)} grades, {scores['pairs']} translations to another "
        f"grade, mean abs error to the true grade (0-1 scale): per pixel {scores['mae']:.3f} (the input unchanged: "
        f"{scores['baseline_mae']:.3f}), of the average colour {scores['colour_mae']:.3f} (the input: "
        f"{scores['baseline_colour_mae']:.3f})")
    say(f"training took {run.seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {run.checkpoint}\ntranslated:  {outputs}/<grade>/<from grade>/ (one folder per target), "
        f"{outputs}/all/ ({n_sheets} sheets: input | every grade)\n"
        f"sheet:       {sheet_path}  (input | -> grade | true grade, for each grade)\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {**scores, "sheet": str(sheet_path), "train_seconds": run.seconds, "total_seconds": time.time() - t0}
