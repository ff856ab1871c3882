"""`make demo-cyclegan`: render unpaired apples and oranges, train CycleGAN on CPU, turn each into the other.

Same code paths as the CLI (Trainer, load_translator, translate_folder); only the sizes are small enough
for a 2-core CPU: 64x64 images, resnet_6blocks with ngf 16 and ndf 16 and the images used as they are (no
resize, crop or flip: the light comes from the left in every photo) instead of 256 px crops of 286 px,
resnet_9blocks, ngf/ndf 64 and flips. The batch is the paper's 1 (batch 4 for as long took twice the time
per step and left speckles and a halo: 0.054 from an orange to its apple against 0.023). The losses are the
paper's: LSGAN, cycle weight 10, identity 0.5, a pool of 50 fakes. Each held-out pose is rendered as both kinds (apple2orange.py), so
every translation is scored against the true other kind (fruit_scores.py), beside two answers that need
no model: the input left unchanged, and the average training image of the target kind.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from translation.data.io import list_images, read_image, write_image
from translation.demo.apple2orange import KIND_A, KIND_B, build_apple2orange
from translation.demo.fruit_scores import KindClassifier, score
from translation.demo.runs import say, start_afresh, train
from translation.inference.folders import translate_folder
from translation.inference.translator import load_translator
from translation.models.cyclegan import CycleGANConfig, CycleGANModel
from translation.visualize import make_sheet

RUN_NAME = "demo_cyclegan"
# direction: (input folder, the folder with its true answers, the input's kind, the kind it should become)
DIRECTIONS = {"AtoB": ("testA", "testB", KIND_A, KIND_B), "BtoA": ("testB", "testA", KIND_B, KIND_A)}


def demo_config(data: Path, checkpoints: Path, steps: int, precision: str = "fp32") -> CycleGANConfig:
    return CycleGANConfig(
        data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
        netG="resnet_6blocks", ngf=16, ndf=16, batch_size=1, preprocess="none", flip=False, num_workers=1,
        log_every=25, image_every=250, save_every=250, device="cpu", precision=precision)


def read_all(folder: Path, names: list[str] | None = None) -> list[np.ndarray]:
    paths = [folder / n for n in names] if names is not None else list_images(folder)
    return [read_image(p) for p in paths]


def score_translations(data: Path, outputs: Path) -> dict:
    """Each direction's files in `outputs` against the true other kind, beside the answers without a model;
    "true" scores the true answers themselves (error 0), for the shape they keep: an apple's stem and leaf
    are not on its orange."""
    names = [p.name for p in list_images(data / "testA")]
    training = {KIND_A: read_all(data / "trainA"), KIND_B: read_all(data / "trainB")}
    classifier = KindClassifier.fit(training)
    scores = {}
    for direction, (source, truth, _, kind) in DIRECTIONS.items():
        inputs, truths = read_all(data / source, names), read_all(data / truth, names)
        answers = {"CycleGAN": read_all(outputs / direction, names), "unchanged": inputs,
                   "average": [np.mean(training[kind], axis=0)] * len(names), "true": truths}
        scores[direction] = {name: score(inputs, images, truths, kind, classifier) for name, images in answers.items()}
    return scores


def report(scores: dict, count: int) -> None:
    say(f"[4/4] held-out {count} poses, each translation against the same pose rendered as the other kind:\n"
        f"    {'':26}{'error (0-1)':>12}{'reads as target':>17}{'shape kept (IoU)':>18}")
    for direction, (_, _, source, kind) in DIRECTIONS.items():
        labels = {"CycleGAN": f"{source} -> {kind}", "unchanged": "  the input unchanged",
                  "average": f"  the average {kind}", "true": f"  the true {kind}"}
        for name, label in labels.items():
            s = scores[direction][name]
            say(f"    {label:26}{s['l1']:12.3f}{s['became']:17.0%}{s['shape_iou']:18.2f}")


def sheet(data: Path, outputs: Path, rows: int, translators: dict) -> np.ndarray:
    """Evenly spread held-out poses: the apple, A->B and back, the orange of the same pose (A->B's true
    answer and B->A's input), B->A (whose true answer is the first column) and back."""
    names = [p.name for p in list_images(data / "testA")]
    names = [names[i] for i in np.linspace(0, len(names) - 1, min(rows, len(names))).astype(int)]
    apples, oranges = read_all(data / "testA", names), read_all(data / "testB", names)
    to_orange, to_apple = read_all(outputs / "AtoB", names), read_all(outputs / "BtoA", names)
    return make_sheet({"apple (A)": apples, "A->B": to_orange,
                       "A->B->A": [translators["BtoA"].translate(x) for x in to_orange],
                       "orange (B)": oranges, "B->A": to_apple,
                       "B->A->B": [translators["AtoB"].translate(x) for x in to_apple]})


def run_demo(workdir="demo_output", steps: int = 1600, sheet_rows: int = 8, precision: str = "fp32",
             train_count: int = 400, test_count: int = 40) -> dict:
    workdir = Path(workdir)
    data, checkpoints, outputs = workdir / "apple2orange", workdir / "checkpoints", workdir / "cyclegan_translated"
    start_afresh(data, checkpoints / RUN_NAME, outputs)

    t0 = time.time()
    n_a, n_b, n_test = build_apple2orange(data, train_count=train_count, test_count=test_count)
    say(f"[1/4] rendered {data}: {n_a} apples (trainA) and {n_b} oranges (trainB), each at a pose of its own; "
        f"{n_test} held-out poses rendered as both (testA, testB) ({time.time() - t0:.1f} s)")

    say(f"[2/4] training CycleGAN for {steps} steps on CPU (resnet_6blocks ngf 16, 64x64, batch 1, {precision})")
    run = train(CycleGANModel, demo_config(data, checkpoints, steps, precision), skipped="translated or scored")
    if run.checkpoint is None:
        return run.interrupted()

    say("[3/4] translating the held-out apples into oranges and the oranges into apples")
    translators = {d: load_translator(run.checkpoint, d, precision=precision) for d in DIRECTIONS}
    counts = {d: translate_folder(translators[d], data / source, outputs / d, progress=False).translated
              for d, (source, *_) in DIRECTIONS.items()}
    scores = score_translations(data, outputs)
    report(scores, n_test)
    sheet_path = workdir / "cyclegan_sheet.png"
    write_image(sheet_path, sheet(data, outputs, sheet_rows, translators))
    say(f"training took {run.seconds:.0f} s; total {time.time() - t0:.0f} s")
    say(f"checkpoint:  {run.checkpoint}\ntranslated:  {outputs}/AtoB ({counts['AtoB']} oranges), "
        f"{outputs}/BtoA ({counts['BtoA']} apples)\n"
        f"sheet:       {sheet_path}  (apple | A->B | A->B->A | the orange of the same pose | B->A | B->A->B)\n"
        f"TensorBoard: tensorboard --logdir {checkpoints}")
    return {**scores, "sheet": str(sheet_path), "train_seconds": run.seconds, "total_seconds": time.time() - t0}
