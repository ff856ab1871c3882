"""What pix2pix and CycleGAN share: the options of their nets, losses, optimizers and image geometry."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from translation.config import TrainConfig, option
from translation.data.transforms import PREPROCESS_MODES, PairTransform
from translation.losses import adversarial_losses
from translation.nets import INITS, NORMS, list_discriminators, list_generators
from translation.training.phases import OPTIMIZERS, OptimizerSpec


@dataclass
class ImageTranslationConfig(TrainConfig):
    """pix2pix and CycleGAN: image geometry, nets, losses and optimizers"""

    preprocess: str = option("resize_and_crop", "training-time resizing", choices=PREPROCESS_MODES)
    load_size: int = option(286, "images are resized to this size first", minimum=1)
    crop_size: int = option(256, "then randomly cropped to this size", minimum=1)
    flip: bool = option(True, "random horizontal flips (--no-flip to disable)")
    input_nc: int = option(3, "channels of the input images (1 = grayscale)", minimum=1)
    output_nc: int = option(3, "channels of the output images", minimum=1)
    netG: str = option("unet_256", "generator architecture", choices=list_generators, flag="--netG")
    netD: str = option("basic", "discriminator architecture: basic (70x70 PatchGAN), n_layers, pixel",
                       choices=list_discriminators, flag="--netD")
    n_layers_D: int = option(3, "discriminator depth when --netD n_layers", flag="--n-layers-D", minimum=1)
    ngf: int = option(64, "generator filters in the first/last conv layer", minimum=1)
    ndf: int = option(64, "discriminator filters in the first conv layer", minimum=1)
    norm: str = option("batch", "normalisation layers", choices=NORMS)
    dropout: bool = option(False, "dropout in the generator")
    init: str = option("normal", "weight initialisation", choices=INITS)
    init_gain: float = option(0.02, "scale of the initial weights")
    gan_mode: str = option("vanilla", "adversarial loss", choices=adversarial_losses)
    optimizer: str = option("adam", "optimizer of both players", choices=OPTIMIZERS)
    lr: float = option(2e-4, "initial learning rate", minimum=0.0)
    lr_D: Optional[float] = option(None, "discriminator learning rate if different from --lr (two time-scale "
                                         "update rule, Heusel et al. 2017)", flag="--lr-D", minimum=0.0)
    beta1: float = option(0.5, "Adam beta1", minimum=0.0, maximum=1.0)
    beta2: float = option(0.999, "Adam beta2", minimum=0.0, maximum=1.0)

    def pair_transform(self) -> PairTransform:
        return PairTransform(self.preprocess, self.load_size, self.crop_size, self.flip)


def generator_and_discriminator_optimizers(config: ImageTranslationConfig, generators: tuple[str, ...],
                                           discriminators: tuple[str, ...]) -> dict[str, OptimizerSpec]:
    """One optimizer over the generators and one over the discriminators, as the official code."""
    common = {"kind": config.optimizer, "betas": (config.beta1, config.beta2)}
    return {"G": OptimizerSpec(generators, lr=config.lr, **common),
            "D": OptimizerSpec(discriminators, lr=config.lr_D if config.lr_D is not None else config.lr, **common)}
