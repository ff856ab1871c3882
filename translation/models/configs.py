"""The options of pix2pix and CycleGAN, apart from their code: this module imports nothing heavy, so the
command line can show and check every option before torch loads (see translation/names.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from translation.config import TrainConfig, option
from translation.data.geometry import flags_error
from translation.names import (DIRECTIONS, GAN_MODES, GENERATOR_SIZE_MULTIPLES, IMAGE_GENERATORS, INITS, NORMS,
                               OPTIMIZERS, PATCH_DISCRIMINATORS, PREPROCESS_MODES, STARGAN_CELEBA_ATTRS,
                               STARGAN_HAIR_COLOURS)


@dataclass
class GANConfig(TrainConfig):
    """both players: adversarial loss, optimizers and initialisation"""

    gan_mode: str = option("vanilla", "adversarial loss", choices=GAN_MODES)
    optimizer: str = option("adam", "optimizer of both players", choices=OPTIMIZERS)
    lr: float = option(2e-4, "initial learning rate", minimum=0.0)
    lr_D: Optional[float] = option(None, "discriminator learning rate if different from --lr (two time-scale "
                                         "update rule, Heusel et al. 2017)", flag="--lr-D", minimum=0.0)
    beta1: float = option(0.5, "Adam beta1", minimum=0.0, maximum=1.0)
    beta2: float = option(0.999, "Adam beta2", minimum=0.0, maximum=1.0)
    init: str = option("normal", "weight initialisation (pytorch: the layers' own defaults)", choices=INITS)
    init_gain: float = option(0.02, "scale of the initial weights", minimum=0.0)


@dataclass
class ImageTranslationConfig(GANConfig):
    """pix2pix and CycleGAN: image geometry and nets"""

    preprocess: str = option("resize_and_crop", "training-time resizing", choices=PREPROCESS_MODES)
    load_size: int = option(286, "images are resized to this size first", minimum=1)
    crop_size: int = option(256, "then randomly cropped to this size", minimum=1)
    flip: bool = option(True, "random horizontal flips (--no-flip to disable)")
    input_nc: int = option(3, "channels of the input images (1 = grayscale)", minimum=1)
    output_nc: int = option(3, "channels of the output images", minimum=1)
    netG: str = option("unet_256", "generator architecture", choices=IMAGE_GENERATORS, flag="--netG")
    netD: str = option("basic", "discriminator architecture: basic (70x70 PatchGAN), n_layers, pixel",
                       choices=PATCH_DISCRIMINATORS, flag="--netD")
    n_layers_D: int = option(3, "discriminator depth when --netD n_layers", flag="--n-layers-D", minimum=1)
    ngf: int = option(64, "generator filters in the first/last conv layer", minimum=1)
    ndf: int = option(64, "discriminator filters in the first conv layer", minimum=1)
    norm: str = option("batch", "normalisation layers", choices=NORMS)
    dropout: bool = option(False, "dropout in the generator")

    def check_combinations(self) -> None:
        super().check_combinations()
        problem = flags_error(self.preprocess, self.load_size, self.crop_size)
        if problem:
            raise ValueError(problem)
        multiple = GENERATOR_SIZE_MULTIPLES[self.netG]
        if "crop" in self.preprocess and self.crop_size % multiple:
            raise ValueError(f"--crop-size {self.crop_size} is not a multiple of {multiple}, which --netG {self.netG} "
                             f"needs (its height and width are halved {multiple.bit_length() - 1} times); choose "
                             f"a multiple of {multiple} or another --netG")


@dataclass
class Pix2PixConfig(ImageTranslationConfig):
    """pix2pix: paired translation (aligned A|B files or A/ B/ folders)"""

    # The shared defaults (unet_256, batch norm, basic D, vanilla GAN, Adam 2e-4 beta1 0.5, 286 -> 256) are
    # pix2pix's already; only these differ.
    dropout: bool = option(True, "dropout in the generator; the paper keeps it on at test time too")
    lambda_l1: float = option(100.0, "weight of the L1 reconstruction loss (paper eq. 4)", flag="--lambda-l1",
                              minimum=0.0)
    direction: str = option("AtoB", "AtoB: left/A images are inputs; BtoA: the reverse", choices=DIRECTIONS)


@dataclass
class CycleGANConfig(ImageTranslationConfig):
    """CycleGAN: unpaired translation in both directions (trainA/ trainB/ folders)"""

    # Paper / official defaults where they differ from the shared ones (Adam 2e-4 beta1 0.5, batch 1,
    # 286 -> 256 crops, flips, 100 + 100 epochs and the basic 70x70 PatchGAN already match CycleGAN).
    netG: str = option("resnet_9blocks", "generator architecture (both generators)", choices=IMAGE_GENERATORS,
                       flag="--netG")
    norm: str = option("instance", "normalisation layers", choices=NORMS)
    gan_mode: str = option("lsgan", "adversarial loss", choices=GAN_MODES)
    lambda_A: float = option(10.0, "weight of the cycle loss A -> B -> A (paper eq. 2)", flag="--lambda-A",
                             minimum=0.0)
    lambda_B: float = option(10.0, "weight of the cycle loss B -> A -> B (paper eq. 2)", flag="--lambda-B",
                             minimum=0.0)
    lambda_identity: float = option(0.5, "weight of the identity loss relative to lambda_A/B (paper sec. 5.2; "
                                         "0 disables it and its forward passes)", minimum=0.0)
    pool_size: int = option(50, "past fakes each discriminator also sees (Shrivastava et al. 2017; 0 = none)",
                            minimum=0)
    serial_batches: bool = option(False, "take A in file order and pair A[i] with B[i mod |B|] instead of "
                                         "shuffling A and picking a random B")

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.lambda_identity > 0 and self.input_nc != self.output_nc:
            raise ValueError(f"the identity loss feeds B images to G_A (A -> B), so it needs --input-nc == "
                             f"--output-nc (got {self.input_nc} and {self.output_nc}); use --lambda-identity 0")


@dataclass
class StarGANConfig(GANConfig):
    """StarGAN: one generator for many domains (CelebA attributes or one folder per domain)"""

    # Shared options at the defaults of the paper and the official code (Choi et al. 2018, sec. 4.3; its
    # 200k iterations decay linearly over the last 100k: --steps with --epochs : --epochs-decay = 1 : 1)
    steps: int = option(200000, "training iterations, split between constant and decaying learning rate in "
                                "the ratio epochs : epochs_decay (0: train by epochs instead)", minimum=0)
    batch_size: int = option(16, "images per batch", minimum=1)
    log_every: int = option(10, "iterations between loss logs (TensorBoard and progress bar)", minimum=1)
    image_every: int = option(1000, "iterations between image sheets (TensorBoard and samples/)", minimum=1)
    save_every: int = option(10000, "iterations between checkpoints (one is always written at the end)",
                             minimum=1)
    gan_mode: str = option("wgan", "adversarial loss (the paper: WGAN with gradient penalty)", choices=GAN_MODES)
    lr: float = option(1e-4, "initial learning rate", minimum=0.0)
    init: str = option("pytorch", "weight initialisation (pytorch: the layers' own defaults, as the official "
                                  "StarGAN)", choices=INITS)

    attrs: Optional[list[str]] = option(None, "CelebA layout: the attributes to learn (columns of "
                                              "list_attr_celeba.txt), e.g. Black_Hair,Male; not set: StarGAN's "
                                              f"{','.join(STARGAN_CELEBA_ATTRS)}. Domain folders name their "
                                              "own domains", commas=True)
    exclusive: list[str] = option([",".join(STARGAN_HAIR_COLOURS)],
                                  "groups of attributes that exclude each other, comma-separated, one group per "
                                  "value: translating to one switches the others of its group off")
    image_size: int = option(128, "images are centre-cropped, then resized to this size", minimum=1)
    crop_size: Optional[int] = option(None, "centre crop before resizing (not set: 178 for CelebA, 256 for "
                                            "domain folders, as the official code)", minimum=1)
    flip: bool = option(True, "random horizontal flips (--no-flip to disable)")
    input_nc: int = option(3, "image channels (1 = grayscale)", minimum=1)
    ngf: int = option(64, "generator filters in the first conv layer (official conv_dim)", minimum=1)
    ndf: int = option(64, "discriminator filters in the first conv layer", minimum=1)
    g_blocks: int = option(6, "residual blocks in the generator (official g_repeat_num)", minimum=1)
    d_layers: int = option(6, "strided conv layers in the discriminator (official d_repeat_num)", minimum=1)
    lambda_cls: float = option(1.0, "weight of the domain classification loss (paper eq. 7)", minimum=0.0)
    lambda_rec: float = option(10.0, "weight of the reconstruction loss (paper eq. 7)", minimum=0.0)
    lambda_gp: float = option(10.0, "weight of the gradient penalty (paper eq. 8)", minimum=0.0)
    n_critic: int = option(5, "discriminator updates per generator update", minimum=1)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.image_size % 2 ** self.d_layers:
            raise ValueError(f"--image-size {self.image_size} must be a multiple of 2 ** --d-layers "
                             f"({2 ** self.d_layers}): the discriminator's classifier covers what is left after "
                             f"{self.d_layers} halvings")
        if self.attrs is not None and len(set(self.attrs)) != len(self.attrs):
            raise ValueError(f"--attrs names an attribute twice: {', '.join(self.attrs)}")
