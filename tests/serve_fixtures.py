"""Tiny real runs on disk for the tests of `translation serve` (the API's and the browser's).

Each function trains one tiny model (tests/tiny_configs.py) for a step on a CPU and returns its run folder,
with latest.pt and the training sheet under samples/, as `translation train` leaves them. `make_runs(root)`
writes all four kinds under root/runs/: what `translation serve root/runs` lists as pix2pix, cyclegan,
stargan and cgan. `label_map_run` trains pix2pixHD on label maps (with instance maps if asked).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tiny_configs import tiny_data, tiny_options

# one step, the checkpoint and the sheet at its end; no moving average (EMA runs add one with ema_decay=0.9)
ONE_STEP = {"steps": 1, "log_every": 1000, "image_every": 1000, "save_every": 1000, "seed": 1}
# the multi-label StarGAN's attributes: the two hair colours form the default exclusive group
ATTRIBUTES = ("Black_Hair", "Blond_Hair", "Young")
LABEL_NC = 5  # the label-map runs' classes


def train_run(model: str, data, runs: Path, name: str, **overrides) -> Path:
    """Train `model`'s tiny config on `data` for one step into runs/name; returns the run folder."""
    from translation.config import from_dict
    from translation.models import CONFIGS, model_class
    from translation.training.trainer import Trainer

    values = dict(data=str(data), name=name, checkpoints_dir=str(runs), **tiny_options(model, **ONE_STEP))
    config = from_dict(CONFIGS[model], {**values, **overrides})  # checked as the command line checks it
    Trainer(model_class(model), config, progress=False).fit()
    return Path(config.run_dir)


def attribute_set(folder: Path, n: int = 4, seed: int = 0) -> Path:
    """A multi-label set in the layout `prepare domains --celeba-attrs` writes: list_attr.txt naming
    train/<...>.png with 1/-1 per attribute."""
    from translation.data.io import write_image

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        values = [1 if i % 2 == 0 else -1, -1 if i % 2 == 0 else 1, 1 if i < n // 2 else -1]
        name = f"train/faces/{i}.png"
        write_image(folder / name, rng.random((36, 36, 3)).astype(np.float32))
        rows.append(f"{name} " + " ".join(f"{v:2d}" for v in values))
    (folder / "list_attr.txt").write_text(f"{n}\n{' '.join(ATTRIBUTES)}\n" + "\n".join(rows) + "\n")
    return folder


def pix2pix_run(runs: Path, data: Path, name: str = "pix2pix", **overrides) -> Path:
    return train_run("pix2pix", tiny_data("pix2pix", data / "paired"), runs, name, **overrides)


def cyclegan_run(runs: Path, data: Path, name: str = "cyclegan", **overrides) -> Path:
    return train_run("cyclegan", tiny_data("cyclegan", data / "unpaired"), runs, name, **overrides)


def stargan_run(runs: Path, data: Path, name: str = "stargan", multi_label: bool = True, **overrides) -> Path:
    """Multi-label (Black_Hair, Blond_Hair exclusive; Young), or single-label folder domains."""
    if multi_label:
        return train_run("stargan", str(attribute_set(data / "attributes")), runs, name, **overrides)
    return train_run("stargan", tiny_data("stargan", data / "domains"), runs, name, **overrides)


def gan_run(runs: Path, data: Path, name: str = "cgan", model: str = "cgan", **overrides) -> Path:
    """A noise GAN: cgan draws the classes dark and light; "dcgan" for an unconditional one."""
    return train_run(model, tiny_data(model, data / "classes"), runs, name, **overrides)


def label_map_run(runs: Path, data: Path, name: str = "labels", label_nc: int = LABEL_NC, instance: bool = False,
                  **overrides) -> Path:
    """pix2pixHD on label maps (ids 0..label_nc-1, 32 px) and, with `instance`, instance maps."""
    from test_label_maps import official_set

    folder = official_set(data / f"label_maps_{label_nc}{'_inst' if instance else ''}", n=2, n_labels=label_nc,
                          instance=instance)
    return train_run("pix2pixhd", folder, runs, name, label_nc=label_nc, instance=instance, **overrides)


def make_runs(root: Path) -> dict[str, Path]:
    """One run of each kind under root/runs (data under root/data); {kind: run folder}."""
    root = Path(root)
    runs, data = root / "runs", root / "data"
    return {"pix2pix": pix2pix_run(runs, data), "cyclegan": cyclegan_run(runs, data),
            "stargan": stargan_run(runs, data), "cgan": gan_run(runs, data)}



def inpaint_run(runs: Path, data: Path, name: str = "glcic", **overrides) -> Path:
    """glcic (ngf 4) a step on 64 px blocky photos with GLCIC's drawn holes: all but random weights, so it fills
    holes with colours of its own; its record says it inpaints, with the training set's mean pixel as the fill."""
    return train_run("glcic", tiny_data("glcic", data / "inpaint"), runs, name, **overrides)
