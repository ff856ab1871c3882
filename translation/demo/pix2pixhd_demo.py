"""`make demo-pix2pixhd`: pix2pixHD beside pix2pix on the same task and the same budget, on a CPU.

The task is the pix2pix demo's (edges -> photos of rendered still lifes, edges2photo.py) at twice its
resolution, 128 px, where pix2pix's single PatchGAN starts to give way. Three runs train the same number of
steps at the same batch size, from the same images, used as they are (no resize, crop or flip: the light
comes from the left). pix2pix: unet_128, its L1 loss and basic PatchGAN. pix2pix with pix2pixHD's
discriminator: the same, with two PatchGAN scales and feature matching (--multiscale-D 2 --lambda-feat 10).
pix2pixHD: the global generator, two discriminator scales, feature matching; the VGG loss when its weights
file is present (without internet it cannot be fetched: the demo says which it did). Each translates the
held-out edges; the demo prints PSNR and SSIM of each against the held-out photos and writes a sheet of
them side by side.
"""
from __future__ import annotations

import time
from pathlib import Path

from translation.data.io import list_images, read_image, write_image
from translation.demo.edges2photo import build_edges2photo
from translation.demo.pix2pix_demo import scores, sheet_rows
from translation.demo.runs import say, start_afresh, train
from translation.inference.folders import translate_folder
from translation.inference.translator import load_translator
from translation.models import model_class
from translation.models.configs import Pix2PixConfig, Pix2PixHDConfig
from translation.visualize import make_sheet

SIZE = 128
# what the demo compares: its name -> (model, run name, the sheet's column)
RUNS = {"pix2pix": ("pix2pix", "demo_hd_pix2pix", "pix2pix"),
        "pix2pix_msd": ("pix2pix", "demo_hd_pix2pix_msd", "pix2pix + multi-scale D, FM"),
        "pix2pixhd": ("pix2pixhd", "demo_hd_pix2pixhd", "pix2pixHD")}


def vgg_weights_present() -> bool:
    from translation.utils.hub_weights import hub_checkpoint
    from translation.utils.vgg_weights import FILE_NAME

    return hub_checkpoint(FILE_NAME).is_file()


def demo_configs(data: Path, checkpoints: Path, steps: int, precision: str, use_vgg: bool) -> dict:
    """The two runs: the same data, steps, batch and schedule; each model's own nets and losses."""
    shared = dict(data=str(data), checkpoints_dir=str(checkpoints), steps=steps, batch_size=4, preprocess="none",
                  flip=False, num_workers=1, log_every=25, image_every=250, save_every=250, device="cpu",
                  precision=precision)
    pix2pix = dict(netG="unet_128", ngf=32, ndf=32, **shared)
    return {"pix2pix": Pix2PixConfig(name=RUNS["pix2pix"][1], **pix2pix),
            "pix2pix_msd": Pix2PixConfig(name=RUNS["pix2pix_msd"][1], multiscale_D=2, lambda_feat=10.0, **pix2pix),
            # G1 at a quarter of the official width: ngf 16, 11.4 M parameters beside unet_128's 10.5 M at ngf 32
            "pix2pixhd": Pix2PixHDConfig(name=RUNS["pix2pixhd"][1], netG="global", ngf=16, ndf=32, num_D=2,
                                         lambda_vgg=10.0 if use_vgg else 0.0, **shared)}


def run_demo(workdir="demo_output", steps: int = 400, per_kind: int = 1, precision: str = "fp32",
             train_count: int = 600, test_count: int = 30) -> dict:
    workdir = Path(workdir)
    data, checkpoints = workdir / "edges2photo_128", workdir / "checkpoints"
    outputs = {name: workdir / f"translated_{name}_128" for name in RUNS}
    start_afresh(data, *(checkpoints / run for _, run, _ in RUNS.values()), *outputs.values())

    t0 = time.time()
    n_train, n_test = build_edges2photo(data, size=SIZE, train_count=train_count, test_count=test_count)
    say(f"[1/4] rendered {data}: {n_train} training pairs at {SIZE} px (edges | photo), {n_test} held out "
        f"({time.time() - t0:.1f} s)")
    use_vgg = vgg_weights_present()
    say("      pix2pixHD " + ("uses the VGG loss (its weights file is present)" if use_vgg else
                              "trains without the VGG loss: its weights file is absent (`translation download "
                              "vgg19-weights` fetches it where there is internet)"))

    seconds = {}
    configs = demo_configs(data, checkpoints, steps, precision, use_vgg)
    for i, (name, config) in enumerate(configs.items()):
        say(f"[2/4] ({i + 1}/{len(configs)}) training {RUNS[name][2]} for {steps} steps on CPU ({SIZE}x{SIZE}, "
            f"batch 4, {precision})")
        run = train(model_class(RUNS[name][0]), config, skipped="translated or scored")
        if run.checkpoint is None:
            return run.interrupted()
        seconds[name] = run.seconds
        translator = load_translator(run.checkpoint, test_mode="eval", precision=precision)
        translate_folder(translator, data / "test" / "A", outputs[name], progress=False)

    say("[3/4] translated the held-out edges with each")
    names = [p.name for p in list_images(data / "test" / "A")]
    photos = [read_image(data / "test" / "B" / n) for n in names]
    images = {name: [read_image(outputs[name] / n) for n in names] for name in RUNS}
    results = {name: scores(images[name], photos) for name in RUNS}
    rows = sheet_rows(names, per_kind)
    sheet_path = workdir / "sheet_pix2pixhd.png"
    columns = {"edges (input)": [read_image(data / "test" / "A" / names[i]) for i in rows]}
    columns.update({RUNS[name][2]: [images[name][i] for i in rows] for name in RUNS})
    columns["photo (held out)"] = [photos[i] for i in rows]
    write_image(sheet_path, make_sheet(columns))
    for name in RUNS:
        say(f"[4/4] {RUNS[name][2]:28s}: held-out PSNR {results[name]['psnr']:.2f} dB, SSIM "
            f"{results[name]['ssim']:.3f} (trained in {seconds[name]:.0f} s)")
    say(f"sheet: {sheet_path}; total {time.time() - t0:.0f} s")
    return {"models": results, "train_seconds": seconds, "vgg": use_vgg, "sheet": str(sheet_path),
            "total_seconds": time.time() - t0}

