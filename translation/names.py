"""The names (and the few defaults) the command line shows, in one module that imports nothing heavy.

The CLI builds its parser and checks every option from these before torch, OpenCV or albumentations load,
so `translation --help` and a mistyped flag answer at once. The code that implements each name checks
itself against this list when it registers (a generator added to nets/ but not here fails at import), so
the two cannot drift apart.
"""

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")
DIRECTIONS = ("AtoB", "BtoA")  # A -> B and B -> A, the official naming

# nets/
# generator -> what its height and width must be a multiple of (2 ** halvings; the translator pads to it)
GENERATOR_SIZE_MULTIPLES = {"unet_32": 32, "unet_64": 64, "unet_128": 128, "unet_256": 256,
                            "resnet_6blocks": 4, "resnet_9blocks": 4, "stargan": 4,
                            # pix2pixHD's, at their default 4 halvings (+1 for the local enhancer's pooled input)
                            "global": 16, "local": 32}
# generators that draw images from noise (G(z) or G(z, label)), and the critics that go with them
NOISE_GENERATORS = ("mlp", "dcgan", "biggan")  # biggan: BigGAN's residual nets (nets/biggan.py), for `train biggan`
SAMPLE_DISCRIMINATORS = ("mlp", "dcgan", "biggan")
# super-resolution (BasicSR's archs): G(image) -> scale x larger image, in [0, 1]; D(128 or 256 px patch) -> logit.
# Not in GENERATOR_SIZE_MULTIPLES: what an input must be a multiple of depends on the scale (net.size_multiple)
SR_GENERATORS = ("msrresnet", "rrdbnet")
SR_DISCRIMINATORS = ("vgg128", "vgg256")
# inpainting: G(image, mask) with 1 = hole; GLCIC's completion net and context D (local + global crops), DeepFill
# v2's gated coarse-to-fine G and SN-PatchGAN D. Not in GENERATOR_SIZE_MULTIPLES: a hole is not a translation
INPAINT_GENERATORS = ("glcic", "deepfill")
INPAINT_DISCRIMINATORS = ("glcic_context", "sn_patch")
MASK_KINDS = ("free_form", "rectangles", "deepfill")  # data/masks.py: brush strokes, GLCIC's boxes, DeepFill's mix
GENERATORS = tuple(GENERATOR_SIZE_MULTIPLES) + NOISE_GENERATORS + SR_GENERATORS + INPAINT_GENERATORS
DISCRIMINATORS = (("basic", "n_layers", "pixel", "stargan", "multiscale") + SAMPLE_DISCRIMINATORS + SR_DISCRIMINATORS
                  + INPAINT_DISCRIMINATORS)
# InfoGAN's Q head: D's last hidden features -> the latent codes' parameters (nets/info_head.py; trained with D)
CODE_HEADS = ("infogan_q",)
DISCRIMINATORS += CODE_HEADS
# EBGAN's auto-encoder discriminators (nets/autoencoder.py): D(x) -> the energy ||Dec(Enc(x)) - x|| per image
ENERGY_DISCRIMINATORS = ("mlp_ae", "dcgan_ae")
DISCRIMINATORS += ENERGY_DISCRIMINATORS
# what pix2pix and CycleGAN can use: G(image) -> image, and D(image) -> patch scores
IMAGE_GENERATORS = ("unet_32", "unet_64", "unet_128", "unet_256", "resnet_6blocks", "resnet_9blocks")
PATCH_DISCRIMINATORS = ("basic", "n_layers", "pixel")
# pix2pixHD's: G(image) -> image without dropout, and a D whose output is a list per scale of its layers' outputs
HD_GENERATORS = ("global", "local")
MULTISCALE_DISCRIMINATORS = ("multiscale",)
NORMS = ("batch", "instance", "none")
# pytorch: the layers' defaults (StarGAN); normal_keep_bias: N(0, gain) conv weights with the layers' default
# biases (pix2pixHD's weights_init touches conv weights only)
INITS = ("normal", "xavier", "kaiming", "orthogonal", "pytorch", "normal_keep_bias")
CONDITIONS = ("concat", "projection")  # how a conditional noise GAN's D sees the label

# losses/ and training/
GAN_MODES = ("minimax", "vanilla", "nonsaturating", "lsgan", "wgan", "hinge", "ragan", "ralsgan")
# the losses whose D learns labels (1 real, 0 fake), which label smoothing and flips change (has_targets)
GAN_MODES_WITH_LABELS = ("minimax", "vanilla", "nonsaturating", "lsgan")
OPTIMIZERS = ("adam", "rmsprop", "sgd", "adadelta")  # adadelta: GLCIC's
# the learning-rate schedules (training/schedule.py): the official linear decay, BasicSR's cosine annealing with
# restarts and its step decay
LR_POLICIES = ("linear", "cosine", "multistep")
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")  # DiffAugment's three (Zhao et al. 2020)

# data/ and inference
PREPROCESS_MODES = ("resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "none")
TEST_MODES = ("paper", "eval")
OUTPUT_FORMATS = ("png", "jpg", "webp")
EXPORT_FORMATS = ("onnx", "torchscript")  # translation export --format

# metrics/: the feature spaces of the unpaired metrics (evaluate --features, train --eval-features), and
# how images are resized for Inception (evaluate --resize)
FEATURE_SPACES = ("inception", "digits")
FEATURE_RESIZES = ("pytorch-fid", "clean")

# data preparation (data/prepare/) and checks (data/check.py)
PAIRED_TASKS = {
    "edges": "edges → photo (Canny, or --method hed-like as the official edges2* sets)",
    "colorize": "gray → colour",
    "superres": "low resolution (÷ --scale, then bicubic back) → photo",
    "denoise": "photo + Gaussian noise (--sigma on 0-255) → photo",
    "inpaint": "photo with white holes (--holes, --hole-size) → photo",
}
PREPARE_LAYOUTS = ("aligned", "folders", "both")
# data sets a GAN trains on by name (`--data digits`): scikit-learn's digits, and torchvision's three
BUILTIN_SETS = ("digits", "mnist", "fashion-mnist", "cifar10")
_SET_ALIASES = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}


def builtin_set(data) -> str | None:
    """The built-in set that `data` names ("MNIST", "fashion_mnist", "cifar-10" too), or None."""
    key = str(data).strip().lower().replace("_", "-")
    key = _SET_ALIASES.get(key, key)
    return key if key in BUILTIN_SETS else None
CHECK_LAYOUTS = ("aligned", "folders", "unpaired", "domains", "pix2pixhd")
# StarGAN's CelebA test split: after shuffling the attribute file's lines with random.seed(1234), the official
# code keeps line i for test if (i + 1) < 2000, which is 1,999 images
STARGAN_TEST_COUNT = 1999
STARGAN_CELEBA_ATTRS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]  # its default --selected_attrs
STARGAN_HAIR_COLOURS = ["Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair"]  # exclusive in its create_labels


def check_registered(kind: str, name: str, declared: tuple) -> None:
    """Called by each registry when something registers: the CLI only offers what is declared above."""
    if name not in declared:
        raise ValueError(f"{kind} {name!r} is registered but not declared in translation/names.py; add it there "
                         "so the command line offers it")
