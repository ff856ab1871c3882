"""One tiny configuration per registered model: the nets, sizes and data a test trains it on in well under a
second on a CPU. The contract test (test_contract.py) runs every model of the registry from here, and fails
for a model registered without an entry, so that a new model is tested from the day it is added.

TINY[name].options are the model's config fields (ngf, image size, ...); TINY[name].make_data(folder) writes
the training data under `folder` (or names a built-in set) and returns --data. Run options (batch 2, no data
workers, CPU) are RUN's. Tests that need other values pass them as overrides: tiny_config(name, ...,
n_critic=5).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from conftest import blocky_image, make_domain_set, make_paired_set

# run options every tiny config shares: small batches, the data read in this process, nothing on a GPU
RUN = dict(batch_size=2, num_workers=0, device="cpu")
# the noise GANs: 16 px, 4 filters in the first/last layers, an 8-d z
NOISE = dict(image_size=16, ngf=4, ndf=4, z_dim=8)


def paired_data(folder: Path) -> str:
    return str(make_paired_set(folder, n=4, size=32))


def unpaired_data(folder: Path) -> str:
    from test_unpaired import make_unpaired_set

    return str(make_unpaired_set(folder, n_a=3, n_b=2, size=32))


def domain_data(folder: Path) -> str:
    return str(make_domain_set(folder, n=2))


def class_folders(folder: Path) -> str:
    """Two classes of 16 px blocky images, one sub-folder each (what the conditional GANs read labels from).
    Not the built-in digits: loading scikit-learn would take longer than training."""
    from translation.data.io import write_image

    rng = np.random.default_rng(0)
    for label in ("dark", "light"):
        for i in range(2):
            image = blocky_image(rng, 16) * 0.5 + (0.5 if label == "light" else 0.0)
            write_image(folder / label / f"{i}.png", image)
    return str(folder)


@dataclass(frozen=True)
class Tiny:
    make_data: Callable[[Path], str]
    options: dict


TINY: dict[str, Tiny] = {
    # unet_32 has no dropout layer, so this run draws no random numbers; test_training.py resumes unet_64's
    "pix2pix": Tiny(paired_data, dict(netG="unet_32", ngf=8, ndf=8, load_size=32, crop_size=32)),
    "cyclegan": Tiny(unpaired_data, dict(netG="resnet_6blocks", ngf=4, ndf=4, load_size=36, crop_size=32,
                                         pool_size=2)),  # full after one step: then it flips coins
    "stargan": Tiny(domain_data, dict(ngf=4, ndf=4, g_blocks=1, d_layers=2, image_size=16, crop_size=32,
                                      n_critic=2)),
    **{name: Tiny(class_folders, dict(NOISE)) for name in ("gan", "dcgan", "wgan", "wgan-gp", "lsgan", "sngan", "cgan")},
    "madgan": Tiny(class_folders, dict(NOISE, generators=2)),
    "mrgan": Tiny(class_folders, dict(NOISE)),
    # pix2pixHD's global G halving twice, two 2-layer Ds; no VGG loss (its weights are not downloaded in tests)
    "pix2pixhd": Tiny(paired_data, dict(ngf=4, ndf=4, n_downsample_global=2, n_blocks_global=1, n_layers_D=2,
                                        preprocess="resize_and_crop", load_size=32, crop_size=32, lambda_vgg=0.0)),
}
TINY["infogan"] = Tiny(class_folders, dict(NOISE, categorical=[3], continuous=1))  # Q on D's features
# BigGAN's 32 px nets at ch 2 (8 channels: the least self-attention takes), every option on; G every 2nd step
TINY["biggan"] = Tiny(class_folders, dict(image_size=32, ch=2, z_dim=8, shared_dim=4, hier=True, attention=16,
                                          lambda_ortho=1e-4, n_critic=2))
TINY["ebgan"] = Tiny(class_folders, dict(NOISE))  # its dcgan auto-encoder D: 16 px to 2x2 codes and back


def registered_models() -> list[str]:
    """Every model name the registry knows: the command line's (CONFIGS) and any class registered in code."""
    from translation.models import CONFIGS
    from translation.models.base import MODELS

    return sorted(set(CONFIGS) | set(MODELS))


def missing_tiny_configs() -> list[str]:
    """Registered models without an entry in TINY."""
    return [name for name in registered_models() if name not in TINY]


def tiny(name: str) -> Tiny:
    if name not in TINY:
        raise KeyError(f"model {name!r} has no tiny config: add one to TINY in tests/tiny_configs.py")
    return TINY[name]


def tiny_data(name: str, folder: Path) -> str:
    """--data for the model: its tiny data set written under `folder`, or a built-in set's name."""
    return tiny(name).make_data(Path(folder))


def tiny_options(name: str, **overrides) -> dict:
    """The model's tiny options with the run options, without data or run folder."""
    return {**RUN, **tiny(name).options, **overrides}


def tiny_config(name: str, data, runs=".", **overrides):
    """The model's tiny config (checked as the command line checks it), training on `data` into `runs`/tiny."""
    from translation.config import from_dict
    from translation.models import CONFIGS

    values = dict(data=str(data), name="tiny", checkpoints_dir=str(runs), **tiny_options(name))
    values.update(overrides)
    return from_dict(CONFIGS[name], values)


def tiny_flags(name: str, **overrides) -> list[str]:
    """The same options as command-line flags (--ngf 4 ...), for tests of the command line."""
    import dataclasses

    from translation.config import flag_name
    from translation.models import CONFIGS

    fields = {f.name: f for f in dataclasses.fields(CONFIGS[name])}
    flags = []
    for key, value in tiny_options(name, **overrides).items():
        flag = flag_name(fields[key])
        if isinstance(value, bool):  # booleans are --x / --no-x
            flags.append(flag if value else "--no-" + flag[2:])
        else:
            flags += [flag, str(value)]
    return flags


# --- super-resolution (srresnet, srgan, esrgan) ------------------------------------------------------------------
def superres_data(folder: Path, size: int = 128, scale: int = 4, n: int = 3) -> str:
    """HR blocky images and their MATLAB-bicubic x`scale` LR in the layout `prepare superres --layout sr` writes."""
    from translation.data.imresize import bicubic_downscale
    from translation.data.io import write_image
    from translation.data.sr_layout import sr_folders

    rng = np.random.default_rng(0)
    hr_dir, lr_dir = sr_folders(folder, "train", scale)
    for i in range(n):
        hr = blocky_image(rng, size)
        write_image(hr_dir / f"{i}.png", hr)
        write_image(lr_dir / f"{i}.png", bicubic_downscale(hr, scale))
    return str(folder)


# x4 with 4 features and one block; srgan/esrgan's VGG-style D takes 128 px patches (32 px LR); no perceptual loss
# (its VGG19 weights are not downloaded in tests: tests/test_superres_models.py trains with random ones)
SR_TINY = dict(ngf=4, n_blocks=1)
TINY.update({
    "srresnet": Tiny(superres_data, dict(SR_TINY, gt_size=16)),
    "srgan": Tiny(superres_data, dict(SR_TINY, ndf=4, gt_size=128, lambda_perceptual=0.0)),
    "esrgan": Tiny(superres_data, dict(SR_TINY, growth=4, ndf=4, gt_size=128, lambda_perceptual=0.0)),
})


# --- inpainting (glcic, deepfill) ---------------------------------------------------------------------------------
def inpaint_photos(folder: Path, size: int = 64, n: int = 4) -> str:
    """A flat folder of blocky photos (the inpainting models draw their masks per sample); 4: no batch of one,
    which batch norm at glcic's 1x1 local features (32 px crops) cannot take."""
    from translation.data.io import write_image

    rng = np.random.default_rng(0)
    for i in range(n):
        write_image(folder / f"{i}.png", blocky_image(rng, size))
    return str(folder)


INPAINT_TINY = dict(ngf=4, ndf=4, load_size=64, crop_size=64)
TINY.update({
    # straight to the joint stage (both nets in every step); tests/test_inpaint_models.py walks the stages
    "glcic": Tiny(inpaint_photos, dict(INPAINT_TINY, local_size=32, steps_c=0, steps_d=0)),
    "deepfill": Tiny(inpaint_photos, dict(INPAINT_TINY, ngf=8)),
})
