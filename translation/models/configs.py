"""The options of pix2pix and CycleGAN, apart from their code: this module imports nothing heavy, so the
command line can show and check every option before torch loads (see translation/names.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Optional

from translation.config import TrainConfig, default, option
from translation.data.geometry import DEFAULT_CROP_SIZE, DEFAULT_LOAD_SIZE, DEFAULT_PREPROCESS, flags_error
from translation.names import (CONDITIONS, DIFFAUGMENT_POLICIES, DIRECTIONS, GAN_MODES, GAN_MODES_WITH_LABELS,
                               GENERATOR_SIZE_MULTIPLES, HD_GENERATORS, IMAGE_GENERATORS, INITS, LR_POLICIES,
                               MASK_KINDS, NOISE_GENERATORS, NORMS, OPTIMIZERS, PATCH_DISCRIMINATORS, PREPROCESS_MODES,
                               SR_DISCRIMINATORS, SR_GENERATORS, STARGAN_CELEBA_ATTRS, STARGAN_HAIR_COLOURS)
from translation.names import ENERGY_DISCRIMINATORS


@dataclass
class GANConfig(TrainConfig):
    """both players: adversarial loss, optimizers and initialisation"""

    gan_mode: str = option("vanilla", "adversarial loss (vanilla and nonsaturating: G maximises log D(G(z)), "
                                      "the practical loss of Goodfellow et al. 2014; minimax: the saturating "
                                      "log(1 - D(G(z))))", choices=GAN_MODES)
    optimizer: str = option("adam", "optimizer of both players", choices=OPTIMIZERS)
    # the bounds are the optimizers' own: torch refuses a learning rate of 0 and an Adam beta of 1
    lr: float = option(2e-4, "initial learning rate", above=0.0)
    lr_D: Optional[float] = option(None, "discriminator learning rate if different from --lr (two time-scale "
                                         "update rule, Heusel et al. 2017)", flag="--lr-D", above=0.0)
    beta1: float = option(0.5, "Adam beta1", minimum=0.0, below=1.0)
    beta2: float = option(0.999, "Adam beta2", minimum=0.0, below=1.0)
    init: str = option("normal", "weight initialisation (pytorch: the layers' own defaults, as the official "
                                 "StarGAN)", choices=INITS)
    init_gain: float = option(0.02, "scale of the initial weights", minimum=0.0)
    spectral_norm: bool = option(False, "spectral normalisation of every discriminator layer (Miyato et al. 2018)")


@dataclass
class ImageTranslationConfig(GANConfig):
    """pix2pix and CycleGAN: image geometry and nets"""

    preprocess: str = option(DEFAULT_PREPROCESS, "training-time resizing", choices=PREPROCESS_MODES)
    load_size: int = option(DEFAULT_LOAD_SIZE, "images are resized to this size first", minimum=1)
    crop_size: int = option(DEFAULT_CROP_SIZE, "then randomly cropped to this size", minimum=1)
    flip: bool = option(True, "random horizontal flips (--no-flip to disable)")
    input_nc: int = option(3, "channels of the input images (1 = grayscale)", minimum=1)
    output_nc: int = option(3, "channels of the output images", minimum=1)
    netG: str = option("unet_256", "generator architecture", choices=IMAGE_GENERATORS, flag="--netG")
    netD: str = option("basic", "discriminator architecture: basic (70x70 PatchGAN), n_layers, pixel",
                       choices=PATCH_DISCRIMINATORS, flag="--netD")
    n_layers_D: int = option(3, "discriminator depth: strided convs of --netD n_layers and of each multi-scale "
                                "D (--multiscale-D, pix2pixhd)", flag="--n-layers-D", minimum=1)
    # ngf and ndf are every family's (StarGAN and the noise GANs take them from here)
    ngf: int = option(64, "generator width: filters of its outermost conv layers (the MLP: its first hidden "
                          "layer; the others 2 and 4 times as wide)", minimum=1)
    ndf: int = option(64, "discriminator width: filters of its first conv layer (the MLP: its last hidden "
                          "layer; the others 2 and 4 times as wide)", minimum=1)
    norm: str = option("batch", "normalisation layers", choices=NORMS)
    dropout: bool = option(False, "dropout in the generator (at test time too for pix2pix, as its paper)")
    # pix2pixHD's upgrades, off by default so that pix2pix and CycleGAN stay as their papers
    multiscale_D: int = option(0, "pix2pixHD's multi-scale discriminator in place of --netD: this many n-layer "
                                  "PatchGANs (--n-layers-D) on the image and its 2x, 4x ... downsampled copies "
                                  "(0: off)", flag="--multiscale-D", minimum=0)
    lambda_feat: float = option(0.0, "weight of the discriminator feature matching loss (pix2pixHD; needs a "
                                     "multi-scale D; CycleGAN matches each cycle's reconstruction to its input)",
                                flag="--lambda-feat", minimum=0.0)
    lambda_vgg: float = option(0.0, "weight of the VGG19 perceptual loss (pix2pixHD; CycleGAN: on each cycle's "
                                    "reconstruction); its weights: `translation download vgg19-weights`",
                               flag="--lambda-vgg", minimum=0.0)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.lambda_feat > 0 and not self.multiscale_D:
            raise ValueError("--lambda-feat matches the features of pix2pixHD's multi-scale discriminator: add "
                             "--multiscale-D 2 (or 3), or use --lambda-feat 0")
        problem = flags_error(self.preprocess, self.load_size, self.crop_size)
        if problem:
            raise ValueError(problem)
        multiple = GENERATOR_SIZE_MULTIPLES[self.netG]
        if "crop" in self.preprocess and self.crop_size % multiple:
            raise ValueError(f"--crop-size {self.crop_size} is not a multiple of {multiple}, which --netG {self.netG} "
                             f"needs (its height and width are halved {multiple.bit_length() - 1} times); choose "
                             f"a multiple of {multiple} or another --netG")
        halvings = {"basic": 3, "n_layers": self.n_layers_D}.get(self.netD)  # the PatchGAN's stride-2 convs
        if halvings and "crop" in self.preprocess and self.crop_size >> halvings < 3:  # its last 2 convs take 2 px
            layers = "" if self.netD == "basic" else f" --n-layers-D {self.n_layers_D}"
            raise ValueError(f"--crop-size {self.crop_size} is too small for --netD {self.netD}{layers}: its "
                             f"{halvings} halvings leave {self.crop_size >> halvings} px, and its last two "
                             "convolutions need 3; use a larger --crop-size or fewer discriminator layers")


@dataclass
class Pix2PixConfig(ImageTranslationConfig):
    """pix2pix: paired translation (aligned A|B files or A/ B/ folders)"""

    # The shared defaults (unet_256, batch norm, basic D, vanilla GAN, Adam 2e-4 beta1 0.5, 286 -> 256) are
    # pix2pix's already; only these differ.
    dropout: bool = default(True)
    lambda_l1: float = option(100.0, "weight of the L1 reconstruction loss (pix2pix: paper eq. 4; super-resolution: "
                                     "the L1 pixel loss on [0, 1] images, as BasicSR; deepfill: each of its two "
                                     "terms, on the coarse and on the refined output, theirs l1_loss_alpha)",
                              flag="--lambda-l1", minimum=0.0)
    direction: str = option("AtoB", "AtoB: left/A images are inputs; BtoA: the reverse", choices=DIRECTIONS)


@dataclass
class CycleGANConfig(ImageTranslationConfig):
    """CycleGAN: unpaired translation in both directions (trainA/ trainB/ folders)"""

    # Paper / official defaults where they differ from the shared ones (Adam 2e-4 beta1 0.5, batch 1,
    # 286 -> 256 crops, flips, 100 + 100 epochs and the basic 70x70 PatchGAN already match CycleGAN).
    netG: str = default("resnet_9blocks")  # both generators
    norm: str = default("instance")
    gan_mode: str = default("lsgan")
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
class Pix2PixHDConfig(GANConfig):
    """pix2pixHD: high-resolution paired translation (label maps or images), multi-scale D, feature matching"""

    # The official pix2pixHD defaults (Adam 2e-4 beta1 0.5, batch 1, 100 + 100 epochs are the shared ones)
    gan_mode: str = default("lsgan")
    init: str = default("normal_keep_bias")  # the official weights_init leaves conv biases at PyTorch's default
    preprocess: str = default("scale_width", like=ImageTranslationConfig)
    load_size: int = default(1024, like=ImageTranslationConfig)
    crop_size: int = default(512, like=ImageTranslationConfig)
    flip: bool = default(True, like=ImageTranslationConfig)
    input_nc: int = default(3, like=ImageTranslationConfig)  # with --label-nc 0
    output_nc: int = default(3, like=ImageTranslationConfig)
    norm: str = default("instance", like=ImageTranslationConfig)
    ngf: int = default(64, like=ImageTranslationConfig)
    ndf: int = default(64, like=ImageTranslationConfig)
    n_layers_D: int = default(3, like=ImageTranslationConfig)
    direction: str = default("AtoB", like=Pix2PixConfig)
    label_nc: int = option(0, "classes of the input label maps, one-hot encoded (integer ids 0..N-1 in one-channel "
                              "images); 0: the inputs are images, as pix2pix (the official default is 35, "
                              "Cityscapes')", minimum=0)
    instance: bool = option(False, "add the boundaries of instance maps (ROOT/train_inst/) as an input channel "
                                   "(on by default in the official code)")
    netG: str = option("global", "generator: global (G1) or local (G1 inside the local enhancer G2, trained "
                                 "coarse to fine: see --init-from)", choices=HD_GENERATORS, flag="--netG")
    n_downsample_global: int = option(4, "stride-2 convolutions of the global generator", minimum=1)
    n_blocks_global: int = option(9, "residual blocks of the global generator", minimum=0)
    n_local_enhancers: int = option(1, "local enhancers around the global generator (--netG local)", minimum=1)
    n_blocks_local: int = option(3, "residual blocks of each local enhancer", minimum=0)
    num_D: int = option(2, "discriminators, on the image and its 2x, 4x ... downsampled copies (3 for 1024 px)",
                        flag="--num-D", minimum=1)
    lambda_feat: float = default(10.0, like=ImageTranslationConfig)
    lambda_vgg: float = default(10.0, like=ImageTranslationConfig)  # the official weights it by lambda_feat
    ganFeat_loss: bool = option(True, "the feature matching loss (--no-ganFeat-loss: off, as --lambda-feat 0)",
                                flag="--ganFeat-loss")
    vgg_loss: bool = option(True, "the VGG loss (--no-vgg-loss: off, as --lambda-vgg 0)")
    init_from: Optional[str] = option(None, "start from this trained run (folder or checkpoint), read when the run "
                                            "starts: pix2pixhd --netG local takes its global part from a --netG "
                                            "global run (coarse to fine); srgan/esrgan take the generator from a "
                                            "srresnet run with the same generator options (BasicSR's "
                                            "pretrain_network_g)")
    niter_fix_global: int = option(0, "epochs in which --netG local trains only its local enhancer, the global "
                                      "part frozen", flag="--niter-fix-global", minimum=0)

    @property
    def size_multiple(self) -> int:
        """What crops and sizes must be a multiple of: the generator halves them this many times."""
        return 2 ** (self.n_downsample_global + (self.n_local_enhancers if self.netG == "local" else 0))

    def check_combinations(self) -> None:
        super().check_combinations()
        problem = flags_error(self.preprocess, self.load_size, self.crop_size)
        if problem:
            raise ValueError(problem)
        multiple = self.size_multiple
        if "crop" in self.preprocess and self.crop_size % multiple:
            raise ValueError(f"--crop-size {self.crop_size} is not a multiple of {multiple}, which --netG "
                             f"{self.netG} needs (its height and width are halved {multiple.bit_length() - 1} "
                             f"times); choose a multiple of {multiple}")
        if self.netG == "global" and (self.init_from or self.niter_fix_global):
            raise ValueError("--init-from and --niter-fix-global start and freeze the global part of --netG local")
        if self.niter_fix_global and not self.init_from:
            raise ValueError("--niter-fix-global freezes a global part trained before: give it with --init-from")


@dataclass
class StarGANConfig(GANConfig):
    """StarGAN: one generator for many domains (CelebA attributes or one folder per domain)"""

    # Shared options at the defaults of the paper and the official code (Choi et al. 2018, sec. 4.3; its
    # 200k iterations decay linearly over the last 100k: --steps with --epochs : --epochs-decay = 1 : 1)
    steps: int = default(200000)
    batch_size: int = default(16)
    log_every: int = default(10)
    image_every: int = default(1000)
    save_every: int = default(10000)
    gan_mode: str = default("wgan")  # WGAN with a gradient penalty
    lr: float = default(1e-4)
    init: str = default("pytorch")

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
    flip: bool = default(True, like=ImageTranslationConfig)
    input_nc: int = default(3, like=ImageTranslationConfig)  # the output has as many
    ngf: int = default(64, like=ImageTranslationConfig)  # the official conv_dim
    ndf: int = default(64, like=ImageTranslationConfig)
    g_blocks: int = option(6, "residual blocks in the generator (official g_repeat_num)", minimum=1)
    d_layers: int = option(6, "strided conv layers in the discriminator (official d_repeat_num)", minimum=1)
    lambda_cls: float = option(1.0, "weight of the domain classification loss (paper eq. 7)", minimum=0.0)
    lambda_rec: float = option(10.0, "weight of the reconstruction loss (paper eq. 7)", minimum=0.0)
    # lambda_gp and n_critic are the noise GANs' too
    lambda_gp: float = option(10.0, "WGAN-GP gradient penalty weight (Gulrajani et al. 2017; StarGAN's eq. 8; "
                                    "0 = off)", minimum=0.0)
    n_critic: int = option(5, "discriminator updates per generator update", minimum=1)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.image_size % 2 ** self.d_layers:
            raise ValueError(f"--image-size {self.image_size} must be a multiple of 2 ** --d-layers "
                             f"({2 ** self.d_layers}): the discriminator's classifier covers what is left after "
                             f"{self.d_layers} halvings")
        if self.attrs is not None and len(set(self.attrs)) != len(self.attrs):
            raise ValueError(f"--attrs names an attribute twice: {', '.join(self.attrs)}")


@dataclass
class NoiseGANConfig(GANConfig):
    """GANs that draw images from noise: data, nets, penalties and the training techniques of the literature"""

    builtin_data: ClassVar[bool] = True  # --data may name a built-in set (digits, mnist, ...) instead of a folder

    # The family's schedule: a constant learning rate, as the DCGAN, WGAN and SNGAN papers train
    epochs_decay: int = default(0)
    batch_size: int = default(64)
    image_every: int = default(250)

    image_size: int = option(64, "image side in pixels", minimum=8)
    channels: int = option(0, "image channels (0: the data's own: 1 for digits and MNIST, 3 for CIFAR-10)",
                           minimum=0)
    conditional: bool = option(False, "learn p(image | class) from the data's labels (cGAN: class sub-folders, or "
                                      "the labels of digits/MNIST/CIFAR-10)")
    arch: str = option("dcgan", "network family of G and D", choices=NOISE_GENERATORS)
    z_dim: int = option(100, "size of the noise vector z", minimum=1)
    ngf: int = default(64, like=ImageTranslationConfig)
    ndf: int = default(64, like=ImageTranslationConfig)
    norm_D: str = option("batch", "normalisation in the discriminator (none for critics with a gradient penalty "
                                  "or spectral norm)", choices=NORMS, flag="--norm-D")
    condition: str = option("concat", "how a conditional D sees the label: concatenated to its input, or a "
                                      "projection (Miyato & Koyama 2018)", choices=CONDITIONS)
    minibatch_std: bool = option(False, "D sees the batch's standard deviation as an extra feature map "
                                        "(Karras et al. 2018), against mode collapse")
    minibatch_discrimination: int = option(0, "D compares samples within the batch with this many kernels "
                                              "(Salimans et al. 2016; 0 = off)", minimum=0)
    n_critic: int = default(1, like=StarGANConfig)
    optimizer_D: Optional[str] = option(None, "the discriminator's optimizer if different from --optimizer "
                                              "(e.g. Adam for G, SGD for D)", choices=OPTIMIZERS,
                                        flag="--optimizer-D")
    clip: float = option(0.0, "clamp D's weights to [-c, c] after each step (WGAN; 0 = off)", minimum=0.0)
    lambda_gp: float = default(0.0, like=StarGANConfig)
    lambda_dragan: float = option(0.0, "DRAGAN penalty weight (Kodali et al. 2017; 0 = off)", minimum=0.0)
    lambda_r1: float = option(0.0, "R1 penalty gamma (Mescheder et al. 2018; 0 = off)", minimum=0.0)
    smooth_real: Optional[list[float]] = option(None, "one-sided label smoothing: D's target for real images, one "
                                                      "value (0.9) or a range drawn per image (0.7 1.2)",
                                                minimum=0.0)
    flip_labels: float = option(0.0, "probability that D's target for an image is swapped (noisy labels)",
                                minimum=0.0, maximum=1.0)
    instance_noise: float = option(0.0, "std of Gaussian noise added to D's inputs, annealed to 0 over training "
                                        "(Sønderby et al. 2017; 0 = off)", minimum=0.0)
    feature_matching: float = option(0.0, "weight of G's feature matching loss on D's last hidden layer "
                                          "(Salimans et al. 2016; 0 = off)", minimum=0.0)
    unrolled_steps: int = option(0, "G's loss against D unrolled this many steps ahead on the batch, G's gradient "
                                    "flowing through them; D itself is not changed (Metz et al. 2017; 0 = off)",
                                 minimum=0)
    diffaugment: Optional[list[str]] = option(None, "differentiable augmentation of reals and fakes before D "
                                                    "(Zhao et al. 2020), e.g. color,translation,cutout",
                                              choices=DIFFAUGMENT_POLICIES, commas=True)
    attention: int = option(0, "a self-attention layer (SAGAN, Zhang et al. 2019) after the layer of G and of D whose "
                               "feature maps are this many px (biggan: in the nets that have maps of that size); "
                               "0 = none", minimum=0)
    trains_biggan: ClassVar[bool] = False  # --arch biggan: only `train biggan` gives BigGAN's nets their options

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.arch == "dcgan" and (self.image_size & (self.image_size - 1) or self.image_size < 16):
            raise ValueError(f"--image-size {self.image_size}: --arch dcgan makes powers of two from 16 (32, 64, "
                             "128, ...)")
        if self.arch == "mlp" and self.norm_D == "instance":
            raise ValueError("--norm-D instance: --arch mlp has no feature maps to normalise per instance; use "
                             "batch or none")
        if self.channels not in (0, 1, 3):
            raise ValueError(f"--channels {self.channels}: images have 1 (gray) or 3 (colour) channels, or 0 for "
                             "the data's own")
        targets = self.smooth_real is not None or self.flip_labels > 0
        if targets and self.gan_mode not in GAN_MODES_WITH_LABELS:
            raise ValueError(f"--smooth-real and --flip-labels change D's targets, which --gan-mode "
                             f"{self.gan_mode} does not have (it has scores, not labels)")
        if self.unrolled_steps and self.feature_matching > 0:
            raise ValueError("--unrolled-steps and --feature-matching are two G losses; choose one")
        if self.smooth_real is not None and len(self.smooth_real) not in (1, 2):
            raise ValueError("--smooth-real takes one value (0.9) or a range (0.7 1.2)")
        if self.arch == "biggan" and not self.trains_biggan:
            raise ValueError("--arch biggan: BigGAN's nets train with `translation train biggan` (its --ch, "
                             "--shared-dim, --hier, --lambda-ortho)")
        if self.attention and self.arch == "mlp":
            raise ValueError(f"--attention {self.attention}: --arch mlp has no feature maps to attend over")
        sides = [4 << i for i in range(max(self.image_size.bit_length() - 3, 0))]  # dcgan's maps below the image
        if self.attention and self.arch == "dcgan" and self.attention not in sides:
            raise ValueError(f"--attention {self.attention}: --arch dcgan at {self.image_size} px has feature maps of "
                             f"{', '.join(map(str, sides))} px")


@dataclass
class VanillaGANConfig(NoiseGANConfig):
    """gan: the original MLP GAN (Goodfellow et al. 2014) on 28x28 images"""

    # the paper's practical, non-saturating G loss (--gan-mode vanilla) is the family's default already
    arch: str = default("mlp")
    image_size: int = default(28)
    ngf: int = default(256)  # hidden layers 256, 512, 1024
    ndf: int = default(256)  # hidden layers 1024, 512, 256
    norm_D: str = default("none")  # the classic MLP D has none (and dropout 0.3)


@dataclass
class DCGANConfig(NoiseGANConfig):
    """dcgan: deep convolutional GAN (Radford et al. 2016)"""

    batch_size: int = default(128)


@dataclass
class WGANConfig(NoiseGANConfig):
    """wgan: Wasserstein GAN with weight clipping (Arjovsky et al. 2017, algorithm 1)"""

    gan_mode: str = default("wgan")
    optimizer: str = default("rmsprop")
    lr: float = default(5e-5)
    clip: float = default(0.01)
    n_critic: int = default(5)


@dataclass
class WGANGPConfig(NoiseGANConfig):
    """wgan-gp: Wasserstein GAN with gradient penalty (Gulrajani et al. 2017, algorithm 1)"""

    gan_mode: str = default("wgan")
    lr: float = default(1e-4)
    beta1: float = default(0.0)
    beta2: float = default(0.9)
    lambda_gp: float = default(10.0)
    n_critic: int = default(5)
    norm_D: str = default("none")  # the paper's critic has none, which the penalty needs


@dataclass
class LSGANConfig(NoiseGANConfig):
    """lsgan: least squares GAN (Mao et al. 2017)"""

    gan_mode: str = default("lsgan")


@dataclass
class SNGANConfig(NoiseGANConfig):
    """sngan: hinge loss and a spectrally normalised discriminator (Miyato et al. 2018)"""

    gan_mode: str = default("hinge")
    spectral_norm: bool = default(True)
    norm_D: str = default("none")  # the paper's D has no norm besides spectral norm


@dataclass
class CGANConfig(NoiseGANConfig):
    """cgan: conditional GAN (Mirza & Osindero 2014): G and D see the class label"""

    conditional: bool = default(True)


@dataclass
class MADGANConfig(NoiseGANConfig):
    """madgan: k generators, one D that tells which made a sample or that it is real (Ghosh et al. 2018)"""

    # DCGAN's nets and optimiser; the paper's image experiments build on DCGAN
    batch_size: int = default(128)
    generators: int = option(4, "generators k, each drawing --batch-size images per step (the discriminator has "
                                "k + 1 classes: one per generator, and real)", minimum=2)
    lambda_diversity: float = option(0.0, "weight of MAD-GAN-Sim's competing objective: for the same z, each "
                                          "generator must be judged more real than every other by a margin that "
                                          "grows with the similarity of their samples (0 = off)", minimum=0.0)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.gan_mode not in ("minimax", "vanilla", "nonsaturating"):
            raise ValueError(f"--gan-mode {self.gan_mode}: madgan's discriminator is a (k+1)-way classifier "
                             "trained with cross-entropy; its generators take minimax (log(1 - D_real)) or "
                             "vanilla/nonsaturating (-log D_real)")
        if self.smooth_real is not None or self.flip_labels > 0:
            raise ValueError("--smooth-real and --flip-labels change a binary real/fake target; madgan's "
                             "discriminator has k + 1 classes (which generator, or real)")
        if self.conditional and self.condition == "projection":
            raise ValueError("--condition projection adds one score per image; madgan's discriminator gives "
                             "k + 1 scores: use --condition concat")
        if self.unrolled_steps:
            raise ValueError("--unrolled-steps unrolls a binary D's loss; madgan's discriminator is a (k+1)-way "
                             "classifier")


@dataclass
class MRGANConfig(NoiseGANConfig):
    """mrgan: mode regularized GAN, manifold-diffusion training with an encoder (Che et al. 2017, MDGAN)"""

    batch_size: int = default(128)
    lambda_geometric: float = option(0.2, "weight of the geometric regularizer d(x, G(E(x))) = ||x - G(E(x))||^2 "
                                          "(squared L2 distance per image) in the manifold step", minimum=0.0)


@dataclass
class EBGANConfig(NoiseGANConfig):
    """ebgan: energy-based GAN, an auto-encoder D whose reconstruction error is the energy (Zhao et al. 2017)"""

    # the family's nets, Adam 2e-4 beta1 0.5 and batch 64 (the paper's LSUN/CelebA batch); D is --arch's auto-encoder
    margin: float = option(10.0, "hinge margin m of D's loss E(x) + max(0, m - E(G(z))), E(x) = ||Dec(Enc(x)) - x|| "
                                 "(L2 norm per image, which grows with the image side); 10 is the paper's MNIST "
                                 "value; it uses 20 at 64 px (LSUN, CelebA), 40 and 80 at 128 and 256 px (ImageNet)",
                           above=0.0)
    lambda_pt: float = option(0.1, "weight of the pulling-away term on the encoder's codes of the fake batch, the "
                                   "mean squared cosine similarity of every two codes (EBGAN-PT: 0.1 as the paper; 0 "
                                   "= plain EBGAN)", flag="--lambda-pt", minimum=0.0)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.gan_mode != "vanilla":
            raise ValueError(f"--gan-mode {self.gan_mode}: ebgan's losses are the energy and its --margin, not a GAN "
                             "loss; leave --gan-mode out")
        for flag, used in (("--smooth-real", self.smooth_real is not None), ("--flip-labels", self.flip_labels > 0),
                           ("--feature-matching", self.feature_matching > 0),
                           ("--unrolled-steps", self.unrolled_steps > 0), ("--minibatch-std", self.minibatch_std),
                           ("--minibatch-discrimination", self.minibatch_discrimination > 0)):
            if used:
                raise ValueError(f"{flag}: ebgan's discriminator is an auto-encoder that gives an energy, with no "
                                 "labels to change and no score head or hidden layer of a classifier")
        if self.attention:
            raise ValueError(f"--attention {self.attention}: ebgan's auto-encoder discriminator has no "
                             "self-attention layer (the paper's has none), and the option puts one in G and D alike")
        if self.conditional and self.condition == "projection":
            raise ValueError("--condition projection adds to a classifier's score; ebgan's auto-encoder takes the "
                             "label with its input: use --condition concat")
        if f"{self.arch}_ae" not in ENERGY_DISCRIMINATORS:
            raise ValueError(f"--arch {self.arch}: ebgan's auto-encoder discriminator comes in "
                             f"{', '.join(name[:-3] for name in ENERGY_DISCRIMINATORS)}")


@dataclass
class InfoGANConfig(NoiseGANConfig):
    """infogan: latent codes that Q, a head on D's body, must recover from the image (Chen et al. 2016)"""

    # the official code's MNIST run (launchers/run_mnist_exp.py): z of 62, one 10-way and two continuous codes,
    # batch 128, Adam beta1 0.5, G 1e-3 and D (with Q) 2e-4; the family's DCGAN nets at 32 px (MNIST's 28, rounded up)
    z_dim: int = default(62)
    image_size: int = default(32)
    batch_size: int = default(128)
    lr: float = default(1e-3)
    lr_D: Optional[float] = default(2e-4)
    categorical: list[int] = option([10], "categorical codes, each uniform over this many categories (one-hot "
                                          "in G's input; 10 10: two codes; 0: none)", minimum=0)
    continuous: int = option(2, "continuous codes, each uniform in [-1, 1]", minimum=0)
    lambda_info: float = option(1.0, "weight of the mutual-information lower bound (Q's cross-entropy for the "
                                     "categorical codes, Gaussian log-likelihood for the continuous ones)",
                                minimum=0.0)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.categorical != [0] and any(k < 2 for k in self.categorical):
            raise ValueError(f"--categorical {' '.join(map(str, self.categorical))}: each categorical code has at "
                             "least 2 categories (or give 0 alone for none)")
        if self.categorical == [0] and self.continuous == 0:
            raise ValueError("--categorical 0 and --continuous 0: infogan needs at least one latent code")
        if self.conditional:
            raise ValueError("--conditional: infogan learns its categories from the data without labels (its "
                             "categorical codes); use cgan to draw a given class")


def biggan_resolutions(image_size: int) -> tuple[list[int], list[int]]:
    """The sides of the maps BigGAN's G blocks output (8 px up to the image) and its D blocks (halving from the
    image, down to 8 px at 32 px and 4 px above): where --attention may go."""
    g = [8 << i for i in range(max(image_size.bit_length() - 3, 0))]
    d = [image_size >> i for i in range(1, 3 if image_size == 32 else max(image_size.bit_length() - 2, 1))]
    return g, d


@dataclass
class BigGANConfig(NoiseGANConfig):
    """biggan: BigGAN (Brock et al. 2019) at 32-128 px, as BigGAN-PyTorch's CIFAR-10 script"""

    # scripts/launch_cifar_ema.sh: batch 50, 4 D steps per G step, G and D Adam 2e-4 betas (0, 0.999), N(0, 0.02)
    # weights (the family's init), hinge loss, no attention, no ortho reg, EMA 0.9999; BigGAN.py: dim_z 128
    trains_biggan: ClassVar[bool] = True
    arch: str = default("biggan")
    image_size: int = default(32)
    z_dim: int = default(128)
    batch_size: int = default(50)
    n_critic: int = default(4)
    beta1: float = default(0.0)
    gan_mode: str = default("hinge")
    spectral_norm: bool = default(True)
    norm_D: str = default("none")
    conditional: bool = default(True)
    condition: str = default("projection")
    ema_decay: float = default(0.9999)
    ch: Optional[int] = option(None, "width of G and D (BigGAN's G_ch and D_ch): G's blocks have 4 ch channels at "
                                     "32 px, 16 ch down to 2 ch at 64 px", minimum=1,
                               unset="--ngf for G and --ndf for D, 64 as BigGAN's")
    shared_dim: int = option(0, "G's batch norms take gain and bias from one shared class embedding of this size "
                                "(BigGAN's G_shared; 128, z's size, is its Generator class's default) instead of "
                                "per-layer class embeddings (0, its CIFAR script)", minimum=0)
    hier: bool = option(False, "hierarchical z: z in one chunk per G block plus one for its first layer, each "
                               "block's chunk joined to the shared class embedding (needs --shared-dim)")
    lambda_ortho: float = option(0.0, "weight of BigGAN's orthogonal regularization of G's weights (1e-4 in its "
                                      "ImageNet scripts, 0 in the CIFAR one)", flag="--lambda-ortho", minimum=0.0)

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.arch != "biggan":
            raise ValueError(f"--arch {self.arch}: biggan trains BigGAN's nets (for --arch {self.arch} with the hinge "
                             "loss and spectral norm, train sngan)")
        if self.image_size not in (32, 64, 128):
            raise ValueError(f"--image-size {self.image_size}: biggan has BigGAN-PyTorch's architectures for 32, 64 "
                             "and 128 px")
        if not self.spectral_norm:
            raise ValueError("--no-spectral-norm: biggan's G and D are spectrally normalised throughout, as "
                             "BigGAN-PyTorch's (whose D has no switch for it)")
        if self.init not in ("normal", "orthogonal", "xavier", "pytorch"):
            raise ValueError(f"--init {self.init}: biggan initialises as BigGAN-PyTorch: normal (N(0, --init-gain), "
                             "its N02), orthogonal (its ortho), xavier (its glorot, uniform) or pytorch")
        for flag, used in (("--norm-D", self.norm_D != "none"), ("--minibatch-std", self.minibatch_std),
                           ("--minibatch-discrimination", self.minibatch_discrimination > 0),
                           ("--condition concat", self.condition != "projection")):
            if used:
                raise ValueError(f"{flag}: biggan's discriminator is BigGAN's (residual blocks, no batch norm, a "
                                 "projection of the class)")
        if self.shared_dim and not self.conditional:
            raise ValueError("--shared-dim is the size of a shared class embedding: it needs --conditional")
        if self.hier and self.conditional and not self.shared_dim:
            raise ValueError("--hier joins each chunk of z to the shared class embedding: set --shared-dim (e.g. 128)")
        g, d = biggan_resolutions(self.image_size)
        slots = len(g) + 1
        if self.hier and self.z_dim % slots:
            raise ValueError(f"--hier at {self.image_size} px splits z into {slots} chunks: --z-dim must be a multiple "
                             f"of {slots}, got {self.z_dim}")
        if self.attention and self.attention not in g + d:
            raise ValueError(f"--attention {self.attention}: at {self.image_size} px biggan's G has feature maps of "
                             f"{', '.join(map(str, g))} px and its D of {', '.join(map(str, d))} px")


# --- super-resolution (BasicSR's options files: train_MSRResNet_x4, train_MSRGAN_x4, train_ESRGAN_x4) -----------
SR_SCALES = {"msrresnet": (2, 3, 4), "rrdbnet": (1, 2, 4)}  # what each generator upsamples by
SR_BLOCKS = {"msrresnet": 16, "rrdbnet": 23}  # BasicSR's num_block


@dataclass
class SuperResConfig(GANConfig):
    """super-resolution: scale, patches, generator and learning-rate schedule"""

    # BasicSR's train_MSRResNet_x4.yml: 1M iterations of 16 patches, Adam 2e-4 betas (0.9, 0.99), EMA 0.999,
    # its own initialisation (nets/superres.py), cosine annealing in 4 cycles
    steps: int = default(1000000)
    batch_size: int = default(16)
    ema_decay: float = default(0.999)
    beta1: float = default(0.9)
    beta2: float = default(0.99)
    init: str = default("pytorch")  # the SR nets apply BasicSR's init themselves; "pytorch" keeps it
    scale: int = option(4, "upscaling factor: the output is scale x the input's height and width (msrresnet 2, 3, "
                           "4; rrdbnet 1, 2, 4); --data must hold LR_bicubic/X<scale>", choices=(1, 2, 3, 4))
    gt_size: int = option(128, "side of the random HR training patches (the LR patch is gt_size / scale)",
                          minimum=1)
    input_nc: int = default(3, like=ImageTranslationConfig)  # the output has as many
    netG: str = option("msrresnet", "generator: msrresnet (SRResNet without batch norm) or rrdbnet (ESRGAN's)",
                       choices=SR_GENERATORS, flag="--netG")
    ngf: int = default(64, like=ImageTranslationConfig)
    n_blocks: Optional[int] = option(None, "residual blocks of the generator (RRDBs for rrdbnet)", minimum=0,
                                     unset="16 for msrresnet, 23 for rrdbnet")
    growth: int = option(32, "rrdbnet: channels each conv of a dense block adds", minimum=1)
    lambda_l1: float = default(1.0, like=Pix2PixConfig)
    lr_policy: str = option("cosine", "learning-rate schedule over the run's steps: linear (the official pix2pix "
                                      "decay, --epochs : --epochs-decay), cosine (annealing with restarts, "
                                      "BasicSR's CosineAnnealingRestartLR), multistep (x --lr-gamma at each "
                                      "--lr-milestones)", choices=LR_POLICIES)
    lr_restarts: int = option(4, "cosine: the run's steps in this many equal cycles, each from the full rate down "
                                 "to --lr-min (BasicSR: 4 x 250k of 1M)", minimum=1)
    lr_min: float = option(1e-7, "cosine: the lowest learning rate (BasicSR's eta_min); an optimizer with another "
                                 "rate (--lr-D) ends at the same fraction of it", minimum=0.0)
    lr_milestones: list[float] = option([0.125, 0.25, 0.5, 0.75],
                                        "multistep: fractions of the run's steps after which the rate is "
                                        "multiplied by --lr-gamma (BasicSR: 50k, 100k, 200k, 300k of 400k)",
                                        minimum=0.0, maximum=1.0)
    lr_gamma: float = option(0.5, "multistep: the factor at each milestone", above=0.0, maximum=1.0)
    init_from: Optional[str] = default(None, like=Pix2PixHDConfig)

    @property
    def blocks(self) -> int:
        return SR_BLOCKS[self.netG] if self.n_blocks is None else self.n_blocks

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.scale not in SR_SCALES[self.netG]:
            raise ValueError(f"--scale {self.scale}: --netG {self.netG} upscales by "
                             f"{', '.join(map(str, SR_SCALES[self.netG]))}")
        if self.gt_size % self.scale:
            low = self.gt_size // self.scale * self.scale
            raise ValueError(f"--gt-size {self.gt_size} must be a multiple of --scale {self.scale} (the LR patch is "
                             f"gt_size / scale): e.g. {low or self.scale} or {low + self.scale}")
        unshuffle = 4 // self.scale if self.netG == "rrdbnet" else 1  # rrdbnet x2 / x1 pixel-unshuffle the input
        if (self.gt_size // self.scale) % unshuffle:
            raise ValueError(f"--gt-size {self.gt_size}: --netG rrdbnet x{self.scale} needs LR patches (gt_size / "
                             f"scale) that are multiples of {unshuffle}")
        if self.spectral_norm:
            raise ValueError("--spectral-norm: the super-resolution nets (BasicSR's) have no spectral normalisation")
        if self.lr_policy == "cosine" and self.lr_min >= self.lr:
            raise ValueError(f"--lr-min {self.lr_min} must be below --lr {self.lr}: cosine annealing goes from --lr "
                             "down to --lr-min")


@dataclass
class SRResNetConfig(SuperResConfig):
    """srresnet: super-resolution with an L1 pixel loss (MSRResNet, or RRDBNet for ESRGAN's PSNR stage)"""

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.lr_D is not None:
            raise ValueError("--lr-D: srresnet trains no discriminator")
        if self.lambda_l1 == 0:
            raise ValueError("--lambda-l1 0: the L1 pixel loss is srresnet's only loss")


@dataclass
class SRGANConfig(SuperResConfig):
    """srgan: super-resolution GAN, L1 + VGG19 perceptual + adversarial loss (Ledig et al. 2017; BasicSR's MSRGAN)"""

    # BasicSR's train_MSRGAN_x4.yml: 400k iterations, Adam 1e-4 for both, halved at 50k, 100k, 200k, 300k
    steps: int = default(400000)
    lr: float = default(1e-4)
    lr_policy: str = default("multistep")
    lambda_l1: float = default(1e-2)
    netD: str = option("vgg128", "discriminator: the VGG-style D of SRGAN/ESRGAN for 128 (or 256) px patches, "
                                 "--gt-size", choices=SR_DISCRIMINATORS, flag="--netD")
    ndf: int = default(64, like=ImageTranslationConfig)
    lambda_perceptual: float = option(1.0, "weight of the perceptual loss: L1 between VGG19 conv5_4 features "
                                           "(before the ReLU) of output and target, ImageNet-normalised; its "
                                           "weights: `translation download vgg19-weights`", minimum=0.0)
    lambda_gan: float = option(5e-3, "weight of the generator's adversarial loss (srgan/esrgan: 5e-3 as BasicSR; "
                                     "deepfill: 1, theirs gan_loss_alpha)", minimum=0.0)
    vgg_weights: str = option("", "torchvision's VGG19 weights file for the perceptual loss (default: "
                                  "vgg19-dcbbe1a8.pth in the torch hub cache)")

    def check_combinations(self) -> None:
        super().check_combinations()
        patch = int(self.netD[len("vgg"):])
        if self.gt_size != patch:
            raise ValueError(f"--netD {self.netD} judges {patch} px patches: use --gt-size {patch} (got "
                             f"{self.gt_size}), or --netD vgg{256 if patch == 128 else 128}")
        self.check_gan_mode()

    def check_gan_mode(self) -> None:
        if self.gan_mode in ("ragan", "ralsgan"):
            raise ValueError(f"--gan-mode {self.gan_mode}: the relativistic GAN of super-resolution is esrgan's "
                             "(train esrgan, which takes --netG msrresnet too)")


@dataclass
class ESRGANConfig(SRGANConfig):
    """esrgan: enhanced SRGAN, RRDBNet and a relativistic average GAN (Wang et al. 2018; BasicSR's ESRGAN)"""

    netG: str = default("rrdbnet")
    gan_mode: str = default("ragan")

    def check_gan_mode(self) -> None:
        if self.gan_mode != "ragan":
            raise ValueError(f"--gan-mode {self.gan_mode}: esrgan is the relativistic average GAN (ragan) with "
                             "BasicSR's terms; train srgan for another GAN loss")


# --- inpainting (otenim/GLCIC-PyTorch train.py; JiahuiYu/generative_inpainting inpaint.yml, v2) --------------------
INPAINT_MASKS = ("files",) + MASK_KINDS + ("glcic",)  # "glcic": GLCIC's rectangles inside the local area


@dataclass
class InpaintConfig(GANConfig):
    """inpainting: images, masks and the training crop"""

    # both references train at a constant learning rate on batches of 16, from their layers' own initialisation
    epochs_decay: int = default(0)
    batch_size: int = default(16)
    init: str = default("pytorch")  # the inpainting nets set theirs up in their constructors; "pytorch" keeps it
    preprocess: str = default("resize_and_crop", like=ImageTranslationConfig)
    load_size: int = default(256, like=ImageTranslationConfig)
    crop_size: int = default(256, like=ImageTranslationConfig)
    flip: bool = default(True, like=ImageTranslationConfig)
    input_nc: int = default(3, like=ImageTranslationConfig)  # the output has as many
    masks: str = option("files", "where the holes come from: files (ROOT/train/masks/ beside ROOT/train/images/, "
                                 "as `prepare inpaint --layout masks` writes them), or drawn per sample from its "
                                 "seed: free_form (DeepFill's brush strokes), rectangles, deepfill (box + strokes), "
                                 "glcic (glcic only: rectangles inside a --local-size area)", choices=INPAINT_MASKS)

    size_multiple: ClassVar[int] = 8

    def check_combinations(self) -> None:
        super().check_combinations()
        problem = flags_error(self.preprocess, self.load_size, self.crop_size)
        if problem:
            raise ValueError(problem)
        if self.preprocess not in ("resize_and_crop", "crop", "scale_width_and_crop"):
            raise ValueError(f"--preprocess {self.preprocess}: a batch of inpainting crops needs one size; use "
                             "resize_and_crop, crop or scale_width_and_crop")
        if self.crop_size % self.size_multiple:
            raise ValueError(f"--crop-size {self.crop_size} must be a multiple of {self.size_multiple} for "
                             f"{self.describe_size_multiple()}")
        if self.spectral_norm:
            raise ValueError("--spectral-norm: the inpainting discriminators are as their references (sn_patch has "
                             "spectral norm built in, GLCIC's D has none)")

    def describe_size_multiple(self) -> str:
        return "the nets"


@dataclass
class GLCICConfig(InpaintConfig):
    """glcic: globally and locally consistent completion (Iizuka et al. 2017), trained in three stages"""

    # GLCIC-PyTorch train.py: 90k + 10k + 400k steps of 16 images, 160 px crops, 96 px local area, Adadelta
    steps: int = default(500000)
    optimizer: str = default("adadelta")
    lr: float = default(1.0)  # Adadelta's (torch's default, as theirs)
    load_size: int = default(160, like=ImageTranslationConfig)
    crop_size: int = default(160, like=ImageTranslationConfig)
    masks: str = default("glcic")
    ngf: int = default(64, like=ImageTranslationConfig)
    ndf: int = default(64, like=ImageTranslationConfig)
    steps_c: int = option(90000, "stage 1: steps training the completion net alone on the MSE in the holes "
                                 "(theirs: --steps_1 90000)", flag="--steps-c", minimum=0)
    steps_d: int = option(10000, "stage 2: then steps training the discriminator alone (theirs: --steps_2 10000); "
                                 "after them both train together", flag="--steps-d", minimum=0)
    alpha: float = option(4e-4, "stage 3: weight of the adversarial terms (G: (MSE + alpha x GAN) / 2; D: alpha x "
                                "(real + fake) / 2)", minimum=0.0)
    local_size: int = option(96, "side of the local discriminator's crop around the holes (a multiple of 32; "
                                 "theirs --ld_input_size 96 at 160 px)", minimum=32)
    arc: str = option("celeba", "discriminator variant: celeba, or places2 (a sixth stride-2 conv in the global D, "
                                "--crop-size a multiple of 64)", choices=("celeba", "places2"))
    mpv: Optional[list[float]] = option(None, "the hole fill: mean pixel value per channel in [0, 1] (theirs --mpv)",
                                        minimum=0.0, maximum=1.0, unset="the mean over the training images")

    size_multiple: ClassVar[int] = 32  # the discriminators' five stride-2 convs before a linear layer

    def describe_size_multiple(self) -> str:
        return "the discriminators (five stride-2 convs before a linear layer)"

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.arc == "places2" and self.crop_size % 64:
            raise ValueError(f"--arc places2: --crop-size {self.crop_size} must be a multiple of 64 (six stride-2 "
                             "convs in the global discriminator)")
        if self.local_size % 32 or self.local_size > self.crop_size:
            raise ValueError(f"--local-size {self.local_size} must be a multiple of 32 and at most --crop-size "
                             f"{self.crop_size}")
        if self.mpv is not None and len(self.mpv) not in (1, self.input_nc):
            raise ValueError(f"--mpv takes one value or one per channel ({self.input_nc}), got {len(self.mpv)}")
        if self.gan_mode not in GAN_MODES_WITH_LABELS:
            raise ValueError(f"--gan-mode {self.gan_mode}: GLCIC's context discriminator is trained on labels "
                             f"(real 1, fake 0); choose one of {', '.join(GAN_MODES_WITH_LABELS)}")


@dataclass
class DeepFillConfig(InpaintConfig):
    """deepfill: DeepFill v2, gated convolutions coarse to fine with contextual attention and SN-PatchGAN"""

    # inpaint.yml: 256 px images (resized, random_crop False), box + strokes, hinge loss, Adam 1e-4 (0.5, 0.999)
    lr: float = default(1e-4)
    gan_mode: str = default("hinge")
    masks: str = default("deepfill")
    ngf: int = default(48, like=ImageTranslationConfig)  # theirs: cnum
    ndf: int = default(64, like=ImageTranslationConfig)
    lambda_l1: float = default(1.0, like=Pix2PixConfig)
    lambda_gan: float = default(1.0, like=SRGANConfig)

    def describe_size_multiple(self) -> str:
        return "deepfill (two stride-2 convs, then the attention's rate 2)"

    def check_combinations(self) -> None:
        super().check_combinations()
        if self.masks == "glcic":
            raise ValueError("--masks glcic draws GLCIC's local area for its local discriminator; deepfill takes "
                             "files, free_form, rectangles or deepfill")
        if self.ngf % 4:
            raise ValueError(f"--ngf {self.ngf}: deepfill's width (theirs cnum) must be a multiple of 4")
