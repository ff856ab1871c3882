"""Trainable models by name; see base.py for what a model declares.

This package's top level stays light (no torch): the command line builds its parser and checks every option
from CONFIGS alone, and a model's code loads only when `model_class(name)` asks for it.
"""
from __future__ import annotations

import importlib

from translation.models.configs import (BigGANConfig, CGANConfig, CycleGANConfig, DCGANConfig, DeepFillConfig,
                                        EBGANConfig, ESRGANConfig, GLCICConfig, InfoGANConfig, LSGANConfig,
                                        MADGANConfig, MRGANConfig, Pix2PixConfig, Pix2PixHDConfig, SNGANConfig,
                                        SRGANConfig, SRResNetConfig, StarGANConfig, VanillaGANConfig, WGANConfig,
                                        WGANGPConfig)

# model name -> its options; the model itself is in translation/models/<name>.py, or the module MODULES names
CONFIGS = {"pix2pix": Pix2PixConfig, "cyclegan": CycleGANConfig, "stargan": StarGANConfig,
           "gan": VanillaGANConfig, "dcgan": DCGANConfig, "wgan": WGANConfig, "wgan-gp": WGANGPConfig,
           "lsgan": LSGANConfig, "sngan": SNGANConfig, "cgan": CGANConfig}
CONFIGS.update(madgan=MADGANConfig, mrgan=MRGANConfig)  # their own modules: models/madgan.py, models/mrgan.py
CONFIGS.update(pix2pixhd=Pix2PixHDConfig)
CONFIGS.update(srresnet=SRResNetConfig, srgan=SRGANConfig, esrgan=ESRGANConfig)  # models/superres.py
CONFIGS.update(glcic=GLCICConfig, deepfill=DeepFillConfig)  # models/inpainting.py
CONFIGS.update(infogan=InfoGANConfig)  # models/infogan.py
CONFIGS.update(ebgan=EBGANConfig)  # models/ebgan.py
CONFIGS.update(biggan=BigGANConfig)  # models/biggan.py
MODULES = {name: "gan" for name in ("gan", "dcgan", "wgan", "wgan-gp", "lsgan", "sngan", "cgan")}
MODULES.update(srresnet="superres", srgan="superres", esrgan="superres")
MODULES.update(glcic="inpainting", deepfill="inpainting")


def model_class(name: str):
    """The model class registered as `name` (importing its module registers it)."""
    from translation.models.base import MODELS

    if name not in CONFIGS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(CONFIGS)}")
    importlib.import_module(f"translation.models.{MODULES.get(name, name)}")
    return MODELS[name]
