"""`make demo-inpaint`: rectangular holes in held-out still-life photos filled by a narrow GLCIC, on a CPU.

The photos are the pix2pix demo's procedural still lifes (demo/still_life.py: apples, oranges, lemons, pears, vases
and bottles on white paper, rendered with shading and highlights): 1,800 to train on, drawn from one random stream,
and 60 held out from another, each held-out photo with one GLCIC rectangle drawn from its name (the layout `prepare
inpaint --layout masks` writes), so the scores are on objects the model never saw. Training draws GLCIC's
rectangle per sample (`--masks glcic`: one box of 0.3-0.6 of a side inside a 32 px local area).

Why objects, not crops of photos: what lies under a 20-30 px hole in a 64 px photo crop of fur or china is
rarely more than the border's colours carried inward, which is what Telea does; at a CPU's budget a small net
did not beat it there (README: the figures). Here a hole cuts an object whose kind the rest of it gives away
(a bottle's neck, a vase's band, an apple's curve against the paper): the learned fill can draw the missing
part, and diffusion cannot. Rectangles, not free-form strokes: a block is where a learned fill can differ from
diffusion (Telea is close to exact on thin strokes); they are also what GLCIC trains on.

glcic trains a CPU-sized completion net (ngf 16 instead of 64) with Adam at 1e-3 (for a run this short; GLCIC's
Adadelta was not tried here): the MSE inside the holes alone, then a short discriminator stage and a joint stage.
The held-out photos are filled by translate's code (`translate --mask`: the known pixels kept exactly), by
OpenCV's Telea (cv2.inpaint, radius 5) and by the training set's mean colour (GLCIC's own hole fill), and scored
INSIDE THE HOLES only: L1 (mean absolute error per channel, [0, 1]) and PSNR (from the MSE over the hole's
pixels), each per photo, then the mean over photos. The sheet: masked input | mean fill | Telea | glcic |
original, a few held-out photos.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import cv2
import numpy as np

from translation.data.inpaint import mean_pixel
from translation.data.inpaint_layout import inpaint_folders, mask_to_file, read_mask
from translation.data.io import list_images, read_image, write_image
from translation.data.masks import draw_glcic_mask
from translation.demo.runs import say, start_afresh, train
from translation.demo.still_life import KINDS, render
from translation.inference.folders import translate_folder
from translation.inference.translator import load_translator
from translation.models.configs import GLCICConfig
from translation.models.inpainting import GLCICModel
from translation.visualize import make_sheet

CROP = 64  # the photos' side
LOCAL = 32  # GLCIC's local area (a multiple of 32): holes of 19-32 px at 64 px
TRAIN_COUNT, TEST_COUNT = 1800, 60
TRAIN_SEED, TEST_SEED = 0, 1  # separate random streams: no held-out object is trained on
RUN_NAME = "demo_glcic"
TELEA_RADIUS = 5
SHEET_COUNT = 6  # held-out photos on the sheet: the first of each kind
METHODS = ("mean fill", "telea", "glcic")


def name_seed(name: str) -> int:
    """A mask seed from a tile's name alone (not Python's salted hash): the same holes on every run."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def build_inpaint_set(root: Path, train_count: int = TRAIN_COUNT, test_count: int = TEST_COUNT, size: int = CROP,
                      local: int = LOCAL) -> dict[str, int]:
    """Training photos in train/images/ (masks drawn while training); held-out photos and their masks in test/.
    The kinds take turns; the two sets come from separate random streams, so no held-out object is trained on."""
    counts = {"train": 0, "test": 0}
    images, _ = inpaint_folders(root, "train")
    rng = np.random.default_rng(TRAIN_SEED)
    for i in range(train_count):
        kind = KINDS[i % len(KINDS)]
        write_image(images / f"{kind}_{i:04d}.png", render(kind, size, rng))
        counts["train"] += 1
    images, masks = inpaint_folders(root, "test")
    rng = np.random.default_rng(TEST_SEED)
    for i in range(test_count):
        stem = held_out_name(i)
        mask, _ = draw_glcic_mask(size, size, name_seed(stem), local)
        write_image(images / f"{stem}.png", render(KINDS[i % len(KINDS)], size, rng))
        write_image(masks / f"{stem}.png", mask_to_file(mask))
        counts["test"] += 1
    return counts


def held_out_name(index: int) -> str:
    return f"{KINDS[index % len(KINDS)]}_{index:04d}"


def demo_config(data: Path, checkpoints: Path, steps: int, steps_c: int, steps_d: int, precision: str = "fp32",
                ngf: int = 16, ndf: int = 16, batch_size: int = 16, crop: int = CROP, local: int = LOCAL,
                lr: float = 1e-3) -> GLCICConfig:
    return GLCICConfig(data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps, steps_c=steps_c,
                       steps_d=steps_d, ngf=ngf, ndf=ndf, batch_size=batch_size, preprocess="crop", load_size=crop,
                       crop_size=crop, local_size=local, optimizer="adam", lr=lr, beta1=0.5, num_workers=1,
                       log_every=25, image_every=max(steps, 1), save_every=max(steps, 1), device="cpu",
                       precision=precision)


def mean_fill_folder(images_dir: Path, masks_dir: Path, out_dir: Path, colour: np.ndarray) -> None:
    """Every hole set to one colour (in [0, 1]); the known pixels as they are."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in list_images(images_dir):
        hole = read_mask(masks_dir / f"{path.stem}.png") >= 0.5
        write_image(out_dir / path.name, np.where(hole, colour.reshape(1, 1, -1), read_image(path)))


def telea_folder(images_dir: Path, masks_dir: Path, out_dir: Path, radius: int = TELEA_RADIUS) -> None:
    """OpenCV's Telea inpainting (cv2.INPAINT_TELEA) of every 8-bit tile; the known pixels as they are."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in list_images(images_dir):
        image = np.round(read_image(path) * 255).astype(np.uint8)
        hole = (read_mask(masks_dir / f"{path.stem}.png")[:, :, 0] >= 0.5).astype(np.uint8) * 255
        filled = cv2.inpaint(np.ascontiguousarray(image), hole, radius, cv2.INPAINT_TELEA)
        write_image(out_dir / path.name, filled.astype(np.float32) / 255.0)


def hole_scores(filled: np.ndarray, original: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(L1, PSNR in dB) over the hole's pixels only (mask >= 0.5), images in [0, 1]; PSNR inf when exact."""
    hole = mask[:, :, 0] >= 0.5
    if not hole.any():
        raise ValueError("a mask without a hole has no hole scores")
    diff = filled[hole] - original[hole]  # (pixels, channels)
    mse = float(np.mean(diff ** 2))
    return float(np.mean(np.abs(diff))), (float("inf") if mse == 0 else 10 * np.log10(1.0 / mse))


def tile_scores(out_dir: Path, images_dir: Path, masks_dir: Path) -> np.ndarray:
    """(tiles, 2): each held-out photo's hole L1 and PSNR, in file order."""
    return np.array([hole_scores(read_image(out_dir / p.name), read_image(p), read_mask(masks_dir / f"{p.stem}.png"))
                     for p in list_images(images_dir)])


def folder_scores(per_tile: np.ndarray) -> dict[str, float]:
    """The mean over the photos of each one's hole L1 and PSNR."""
    l1, psnr = per_tile.mean(axis=0)
    return {"l1": float(l1), "psnr": float(psnr)}


def sheet(names: list[str], images_dir: Path, masks_dir: Path, outputs: dict[str, Path]) -> np.ndarray:
    """masked input (holes white) | mean fill | Telea | glcic | original, one held-out tile a row."""
    def masked_input(name: str) -> np.ndarray:
        return np.where(read_mask(masks_dir / f"{Path(name).stem}.png") >= 0.5, 1.0, read_image(images_dir / name))

    columns = {"masked input": [masked_input(n) for n in names]}
    columns.update({method: [read_image(outputs[method] / n) for n in names] for method in METHODS})
    columns["original (held out)"] = [read_image(images_dir / n) for n in names]
    return make_sheet(columns, min_size=3 * CROP)


def run_demo(workdir="demo_output", steps: int = 2000, steps_c: int | None = None, steps_d: int | None = None,
             precision: str = "fp32", ngf: int = 16, ndf: int = 16, batch_size: int = 16, lr: float = 1e-3,
             train_count: int = TRAIN_COUNT, test_count: int = TEST_COUNT, crop: int = CROP, local: int = LOCAL,
             sheet_count: int = SHEET_COUNT) -> dict:
    # default stages: two thirds MSE alone, a twentieth D alone, the rest joint (GLCIC: 18%, 2%, 80% of 500k)
    steps_c = round(steps * 2 / 3) if steps_c is None else steps_c
    steps_d = max(1, steps // 20) if steps_d is None else steps_d
    if steps_c + steps_d > steps:
        raise ValueError(f"the MSE ({steps_c}) and discriminator ({steps_d}) stages do not fit in {steps} steps")
    workdir = Path(workdir)
    data, checkpoints = workdir / "inpaint_photos", workdir / "checkpoints"
    outputs = {"mean fill": workdir / "filled_mean", "telea": workdir / "filled_telea",
               "glcic": workdir / "filled_glcic"}
    start_afresh(data, checkpoints / RUN_NAME, *outputs.values())

    t0 = time.time()
    counts = build_inpaint_set(data, train_count, test_count, crop, local)
    say(f"[1/4] wrote {data}: {counts['train']} still-life photos ({crop} px) to train on and {counts['test']} "
        f"held out (other objects), each held-out photo with a rectangular hole ({time.time() - t0:.1f} s)")

    say(f"[2/4] training glcic for {steps} steps on CPU ({steps_c} MSE alone, {steps_d} D alone, "
        f"{steps - steps_c - steps_d} joint; ngf {ngf}, ndf {ndf}, {crop} px crops, local {local} px, batch "
        f"{batch_size}, {precision})")
    config = demo_config(data, checkpoints, steps, steps_c, steps_d, precision, ngf, ndf, batch_size, crop, local, lr)
    run = train(GLCICModel, config, skipped="filled or scored")
    if run.checkpoint is None:
        return run.interrupted()

    images_dir, masks_dir = inpaint_folders(data, "test")
    translator = load_translator(run.checkpoint, precision=precision)
    translate_folder(translator, images_dir, outputs["glcic"], progress=False, mask=masks_dir)
    colour = mean_pixel(list_images(inpaint_folders(data, "train")[0]))
    mean_fill_folder(images_dir, masks_dir, outputs["mean fill"], colour)
    telea_folder(images_dir, masks_dir, outputs["telea"])
    say(f"[3/4] filled the {counts['test']} held-out holes with glcic, Telea (radius {TELEA_RADIUS}) and the mean "
        f"colour {np.round(colour * 255).astype(int).tolist()}")

    per_tile = {name: tile_scores(folder, images_dir, masks_dir) for name, folder in outputs.items()}
    results = {name: folder_scores(scores) for name, scores in per_tile.items()}
    names = [f"{held_out_name(i)}.png" for i in range(min(sheet_count, counts["test"]))]
    sheet_path = workdir / "sheet_inpaint.png"
    write_image(sheet_path, sheet(names, images_dir, masks_dir, outputs))
    for name in METHODS:
        say(f"[4/4] {name:9s}: in the holes L1 {results[name]['l1']:.4f}, PSNR {results[name]['psnr']:.2f} dB")
    for baseline in ("mean fill", "telea"):
        gain = results["glcic"]["psnr"] - results[baseline]["psnr"]
        wins = int((per_tile["glcic"][:, 1] > per_tile[baseline][:, 1]).sum())
        results["glcic"][f"wins_over_{baseline.replace(' ', '_')}"] = wins
        say(f"glcic {'beats' if gain > 0 else 'does not beat'} {baseline} by {gain:+.2f} dB in the holes (higher PSNR "
            f"on {wins} of {counts['test']} photos)")
    say(f"trained in {run.seconds:.0f} s; sheet: {sheet_path}; total {time.time() - t0:.0f} s")
    return {"models": results, "train_seconds": run.seconds, "counts": counts, "sheet": str(sheet_path),
            "mean_colour": colour.tolist(), "total_seconds": time.time() - t0}
