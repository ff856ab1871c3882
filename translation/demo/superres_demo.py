"""`make demo-superres`: x4 super-resolution on the photos that ship with scikit-image, on a CPU.

Training photos: astronaut, rocket, immunohistochemistry and the left view of stereo_motorcycle. Held out:
chelsea (the cat) and coffee, photos the model never sees. Every photo is cut into non-overlapping 128 px tiles;
each tile is written in the super-resolution layout by `prepare superres --layout sr`'s own writer (HR, and its
LR by MATLAB's bicubic at 1/4), so training reads it as `translation train srresnet --data` would. srresnet
trains a CPU-sized MSRResNet (32 features, 4 residual blocks instead of 64 and 16) on random 64 px HR patches.

The held-out tiles are then upscaled by the model (translate's code) and by MATLAB's bicubic (imresize x4 of the
LR, the usual baseline) and scored by `translation evaluate --paired --y-channel --crop-border 4`'s function:
PSNR and SSIM on the BT.601 Y channel, 4 px border off, as the SRGAN paper's tables. The sheet shows a zoomed
region of a few held-out tiles: LR (nearest, to show its pixels) | bicubic | model | HR.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from translation.data.imresize import imresize
from translation.data.io import list_images, read_image, write_image
from translation.data.prepare.tasks import superres_writer
from translation.data.sr_layout import sr_folders
from translation.demo.runs import say, start_afresh, train
from translation.inference.folders import translate_folder
from translation.inference.translator import load_translator
from translation.metrics import evaluation
from translation.models.configs import SRResNetConfig
from translation.models.superres import SRResNetModel
from translation.visualize import make_sheet

SCALE = 4
TILE = 128  # HR side of every tile written (LR 32)
TRAIN_PHOTOS = ("astronaut", "rocket", "immunohistochemistry", "motorcycle")
HELD_OUT_PHOTOS = ("chelsea", "coffee")
RUN_NAME = "demo_srresnet_x4"
METRICS = ["psnr", "ssim"]
ZOOM = 48  # HR side of the region the sheet shows of each tile, enlarged to 192 px
SHEET_TILES = ("chelsea_r0_c1", "chelsea_r1_c2", "coffee_r1_c1", "coffee_r2_c3")


def load_photo(name: str) -> np.ndarray:
    """A photo bundled with scikit-image (in its wheel: nothing is downloaded), float32 in [0, 1]."""
    import skimage.data

    image = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    return image.astype(np.float32) / 255.0


def tiles(photo: np.ndarray, size: int = TILE):
    """(row, column, tile) of the non-overlapping size x size tiles of a photo, left to right, top to bottom."""
    for r in range(photo.shape[0] // size):
        for c in range(photo.shape[1] // size):
            yield r, c, photo[r * size:(r + 1) * size, c * size:(c + 1) * size]


def build_superres_set(root: Path, train_photos=TRAIN_PHOTOS, held_out=HELD_OUT_PHOTOS, size: int = TILE,
                       scale: int = SCALE) -> dict[str, int]:
    """Tiles of the training photos in train/, of the held-out photos in test/ (no photo in both)."""
    if set(train_photos) & set(held_out):
        raise ValueError(f"a photo cannot be both trained on and held out: {set(train_photos) & set(held_out)}")
    write = superres_writer(root, scale)
    counts = {}
    for split, photos in (("train", train_photos), ("test", held_out)):
        counts[split] = 0
        for name in photos:
            for r, c, tile in tiles(load_photo(name), size):
                problem = write(split, f"{name}_r{r}_c{c}", tile, None)
                if problem:
                    raise ValueError(f"{name}: {problem}")
                counts[split] += 1
    return counts


def demo_config(data: Path, checkpoints: Path, steps: int, precision: str = "fp32", ngf: int = 32,
                n_blocks: int = 4, gt_size: int = 64, batch_size: int = 16, lr: float = 4e-4) -> SRResNetConfig:
    # a run about 1000x shorter than BasicSR's: twice its learning rate, one cosine cycle (BasicSR: four over 1M
    # steps), and an average over about the last 100 steps (0.999 would reach back over most of the run)
    return SRResNetConfig(data=str(data), name=RUN_NAME, checkpoints_dir=str(checkpoints), steps=steps,
                          scale=SCALE, ngf=ngf, n_blocks=n_blocks, gt_size=gt_size, batch_size=batch_size,
                          lr=lr, lr_restarts=1, ema_decay=0.99, num_workers=1, log_every=25, image_every=max(steps, 1),
                          save_every=max(steps, 1), device="cpu", precision=precision)


def bicubic_folder(lr_dir: Path, out_dir: Path, scale: int = SCALE) -> None:
    """MATLAB's bicubic upsampling of every LR image (imresize(LR, scale, 'bicubic')), clipped as an 8-bit file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in list_images(lr_dir):
        write_image(out_dir / path.name, np.clip(imresize(read_image(path), scale=scale), 0.0, 1.0))


def sr_scores(hr_dir: Path, out_dir: Path, scale: int = SCALE) -> dict[str, float]:
    """Mean PSNR/SSIM over the held-out tiles, Y channel, `scale` px border: evaluate's own function."""
    results = evaluation.paired(hr_dir, out_dir, METRICS, y_channel=True, crop_border=scale)
    return {r.name: r.value for r in results}


def zoom_region(image: np.ndarray, size: int, scale: int = 1) -> np.ndarray:
    """The size x size region at the centre of an HR-sized image (size / scale of an LR one)."""
    side = size // scale
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return image[top:top + side, left:left + side]


def sheet(names: list[str], lr_dir: Path, bicubic_dir: Path, model_dir: Path, hr_dir: Path, zoom: int = ZOOM,
          scale: int = SCALE) -> np.ndarray:
    """LR (each pixel a scale x scale block) | bicubic | model | HR, the same zoomed region of each tile."""
    def region(folder: Path, name: str, lr: bool = False) -> np.ndarray:
        image = zoom_region(read_image(folder / name), zoom, scale if lr else 1)
        return image.repeat(scale, 0).repeat(scale, 1) if lr else image

    columns = {"LR (nearest)": [region(lr_dir, n, lr=True) for n in names],
               "bicubic": [region(bicubic_dir, n) for n in names],
               "srresnet": [region(model_dir, n) for n in names],
               "HR (held out)": [region(hr_dir, n) for n in names]}
    return make_sheet(columns, min_size=4 * zoom)


def run_demo(workdir="demo_output", steps: int = 2000, precision: str = "fp32", ngf: int = 32, n_blocks: int = 4,
             gt_size: int = 64, batch_size: int = 16, train_photos=TRAIN_PHOTOS, held_out=HELD_OUT_PHOTOS,
             tile: int = TILE, sheet_tiles=SHEET_TILES) -> dict:
    workdir = Path(workdir)
    data, checkpoints = workdir / "superres_x4", workdir / "checkpoints"
    outputs = {"bicubic": workdir / "upscaled_bicubic_x4", "srresnet": workdir / "upscaled_srresnet_x4"}
    start_afresh(data, checkpoints / RUN_NAME, *outputs.values())

    t0 = time.time()
    counts = build_superres_set(data, train_photos, held_out, tile)
    say(f"[1/4] wrote {data}: {counts['train']} training tiles ({tile} px HR, {tile // SCALE} px LR by MATLAB's "
        f"bicubic) of {', '.join(train_photos)}; {counts['test']} held-out tiles of {', '.join(held_out)}, photos "
        f"not trained on ({time.time() - t0:.1f} s)")

    say(f"[2/4] training srresnet x{SCALE} for {steps} steps on CPU (msrresnet, {ngf} features, {n_blocks} blocks, "
        f"{gt_size} px HR patches, batch {batch_size}, {precision})")
    config = demo_config(data, checkpoints, steps, precision, ngf, n_blocks, gt_size, batch_size)
    run = train(SRResNetModel, config, skipped="upscaled or scored")
    if run.checkpoint is None:
        return run.interrupted()

    hr_dir, lr_dir = sr_folders(data, "test", SCALE)
    translator = load_translator(run.checkpoint, precision=precision)
    translate_folder(translator, lr_dir, outputs["srresnet"], progress=False)
    bicubic_folder(lr_dir, outputs["bicubic"])
    say(f"[3/4] upscaled the {counts['test']} held-out tiles x{SCALE} with the model and with MATLAB's bicubic")

    results = {name: sr_scores(hr_dir, folder) for name, folder in outputs.items()}
    names = [f"{n}.png" for n in sheet_tiles if (hr_dir / f"{n}.png").is_file()] or \
        [p.name for p in list_images(hr_dir)][:4]
    sheet_path = workdir / "sheet_superres.png"
    write_image(sheet_path, sheet(names, lr_dir, outputs["bicubic"], outputs["srresnet"], hr_dir))
    for name in outputs:
        say(f"[4/4] {name:9s}: held-out PSNR {results[name]['psnr']:.2f} dB, SSIM {results[name]['ssim']:.4f} "
            f"(Y channel, {SCALE} px border)")
    gain = results["srresnet"]["psnr"] - results["bicubic"]["psnr"]
    say(f"srresnet {'beats' if gain > 0 else 'does not beat'} bicubic by {gain:+.2f} dB (trained in "
        f"{run.seconds:.0f} s); sheet: {sheet_path}; total {time.time() - t0:.0f} s")
    return {"models": results, "train_seconds": run.seconds, "counts": counts, "sheet": str(sheet_path),
            "total_seconds": time.time() - t0}
