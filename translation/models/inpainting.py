"""Inpainting models on the engine, as their reference implementations train them:

    glcic     otenim/GLCIC-PyTorch train.py (Iizuka et al. 2017): the completion net alone on the MSE in the holes
              (--steps-c), then the context discriminator alone (--steps-d), then both, the GAN terms weighted by
              alpha; holes filled with the training set's mean pixel; Adadelta for both
    deepfill  JiahuiYu/generative_inpainting v2 (inpaint_model.py build_graph_with_losses, inpaint.yml): L1 on the
              coarse and the refined output, SN-PatchGAN hinge loss on (image, mask) with the completed image;
              Adam 1e-4 (0.5, 0.999)

Data are InpaintDataset's items: A (the image with its holes filled), B (the image), mask (N x 1 x H x W, 1 = hole),
all but the mask in [-1, 1]. The generator records carry inpaints(fill), so `translate --mask` fills holes and
keeps every known pixel.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as F

from translation.checkpoint import translates
from translation.data.masks import draw_glcic_mask
from translation.inference.composite import composite
from translation.inference.mask_inputs import inpaints
from translation.losses import adversarial_loss
from translation.models.base import GANModel, generator_and_discriminator_optimizers, register_model
from translation.models.configs import DeepFillConfig, GLCICConfig, InpaintConfig
from translation.nets.glcic import completion_input
from translation.training.phases import Phase


def _glcic_mask(height: int, width: int, rng: np.random.Generator, local_size: int) -> np.ndarray:
    return draw_glcic_mask(height, width, int(rng.integers(2 ** 63)), local_size)[0]


def build_inpaint_dataset(config: InpaintConfig, fill):
    """The training set: mask files, or masks drawn per sample from its seed; holes filled with `fill`."""
    from translation.data.inpaint import InpaintDataset

    masks = None if config.masks == "files" else config.masks
    if masks == "glcic":  # a partial of a module function: data workers pickle it
        masks = functools.partial(_glcic_mask, local_size=config.local_size)
    return InpaintDataset(config.data, "train", masks=masks, fill=fill, channels=config.input_nc,
                          preprocess=config.preprocess, load_size=config.load_size, crop_size=config.crop_size,
                          flip=config.flip, max_size=config.max_dataset_size)


def hole_areas(mask: torch.Tensor, size: int) -> list[tuple[int, int]]:
    """(top, left) of a size x size square per image that holds all of its holes, drawn uniformly among those that
    do (torch's generator). GLCIC draws the square first and its hole uniformly inside; given the hole, every
    square that holds it is then equally likely, so this is their local area, also for mask files. A hole larger
    than the square: the square centred on it; no hole: anywhere."""
    height, width = mask.shape[-2:]
    areas = []
    for hole in (mask[:, 0] >= 0.5).cpu():
        span = []
        for along, extent in ((hole.any(1), height), (hole.any(0), width)):
            where = along.nonzero().flatten().tolist()
            low, high = 0, extent - size
            if where:
                first, last = where[0], where[-1]
                low, high = max(low, last - size + 1), min(high, first)
                if low > high:  # the hole is wider than the square
                    low = high = min(max((first + last + 1) // 2 - size // 2, 0), extent - size)
            span.append(int(torch.randint(low, high + 1, ())))
        areas.append((span[0], span[1]))
    return areas


def random_areas(n: int, height: int, width: int, size: int) -> list[tuple[int, int]]:
    """(top, left) of a size x size square anywhere, per image (GLCIC's real crops: gen_hole_area)."""
    tops = torch.randint(0, height - size + 1, (n,)).tolist()
    lefts = torch.randint(0, width - size + 1, (n,)).tolist()
    return list(zip(tops, lefts))


def crop(images: torch.Tensor, areas: list[tuple[int, int]], size: int) -> torch.Tensor:
    return torch.stack([image[:, top:top + size, left:left + size] for image, (top, left) in zip(images, areas)])


@register_model("glcic")
class GLCICModel(GANModel):
    """glcic: the completion net and the global + local context discriminator, trained in three stages by step."""

    config_class = GLCICConfig
    test_mode = "eval"  # batch norm: its running statistics at inference

    def __init__(self, config: GLCICConfig, device, data=None):
        super().__init__(config, device)
        c = config
        self.mpv = torch.tensor(self.mean_pixel(c, data), dtype=torch.float32)
        self.add_net("G", "generator", "glcic", init=c.init, init_gain=c.init_gain, in_channels=c.input_nc + 1,
                     out_channels=c.input_nc, ngf=c.ngf)
        self.add_net("D", "discriminator", "glcic_context", init=c.init, init_gain=c.init_gain,
                     in_channels=c.input_nc, ndf=c.ndf, local_size=c.local_size, global_size=c.crop_size, arc=c.arc)
        self.gan = adversarial_loss(c.gan_mode)

    @staticmethod
    def mean_pixel(config: GLCICConfig, data=None) -> list[float]:
        """The hole fill in [0, 1], per channel: --mpv, or the training set's (the data set holds it in [-1, 1])."""
        if config.mpv is not None:
            return list(np.broadcast_to(np.asarray(config.mpv, np.float32), (config.input_nc,)))
        if data is None:
            raise ValueError("glcic fills holes with the training set's mean pixel: give the data set or --mpv")
        return [(float(v) + 1.0) / 2.0 for v in data.fill]

    @classmethod
    def build_dataset(cls, config: GLCICConfig):
        from translation.data.inpaint import find_masked_images, mean_pixel

        mpv = config.mpv
        if mpv is None:  # theirs: the mean of each training image's mean, per channel
            items = find_masked_images(config.data, "train", drawn=config.masks != "files")
            mpv = mean_pixel([item.image for item in items], config.input_nc)
        return build_inpaint_dataset(config, 2.0 * np.asarray(mpv, np.float32) - 1.0)

    def generators(self) -> dict[str, dict]:
        return {"G": {**translates("AtoB", paired=True), **inpaints((self.mpv * 2 - 1).tolist())}}

    def optimizers(self):
        specs = generator_and_discriminator_optimizers(self.config, ("G",), ("D",))
        if self.config.optimizer != "adadelta":
            return specs
        # theirs: Adadelta with torch's defaults for both nets (rho 0.9, eps 1e-6)
        return {name: dataclasses.replace(spec, eps=1e-6) for name, spec in specs.items()}

    def phases(self) -> list[Phase]:
        c = self.config
        joint = c.steps_c + c.steps_d
        phases = []  # a stage of 0 steps is left out
        if c.steps_c:
            phases.append(Phase("G_MSE", nets=("G",), optimizer="G", loss=self.loss_mse, stop=c.steps_c))
        if c.steps_d:  # stage 2 as theirs: (fake + real) / 2, without alpha
            phases.append(Phase("D_alone", nets=("D",), optimizer="D", loss=self.loss_D, weight=0.5,
                                start=c.steps_c, stop=joint))
        # stage 3, D then G as theirs: D alpha (fake + real) / 2, G (MSE + alpha GAN) / 2
        return phases + [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, weight=c.alpha / 2, start=joint),
                         Phase("G", nets=("G",), optimizer="G", loss=self.loss_G, weight=0.5, start=joint)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        mask, image = batch["mask"], (batch["B"] + 1) / 2
        output = self.G(completion_input(image, mask, self.mpv.to(image.device)))
        size = self.config.local_size
        height, width = image.shape[-2:]
        # both squares drawn every step, used or not: the random stream does not depend on the stage
        return {"real_A": batch["A"], "real_B": batch["B"], "fake_B": composite(output, image, mask) * 2 - 1,
                "output": output, "image": image, "mask": mask,
                "fake_areas": hole_areas(mask, size), "real_areas": random_areas(len(image), height, width, size)}

    def judge(self, images: torch.Tensor, areas) -> torch.Tensor:
        return self.D(crop(images, areas, self.config.local_size), images)

    def loss_mse(self, out: dict) -> dict[str, torch.Tensor]:
        mask = out["mask"]  # theirs: mse_loss(output * mask, x * mask), the mean over every sample
        return {"G_MSE": F.mse_loss(out["output"].float() * mask, out["image"].float() * mask)}

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        # theirs: D sees the net's raw output (not pasted into the image) and its crop at the hole area
        pred_fake = self.judge(out["output"].detach(), out["fake_areas"])
        pred_real = self.judge(out["image"], out["real_areas"])
        loss_real, loss_fake = self.gan.discriminator(pred_real, pred_fake)
        return {"D_fake": loss_fake, "D_real": loss_real}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        terms = self.loss_mse(out)
        terms["G_GAN"] = self.gan.generator(self.judge(out["output"], out["fake_areas"])) * self.config.alpha
        return terms

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        return {"input": outputs["real_A"], "completed": outputs["fake_B"], "target": outputs["real_B"]}


@register_model("deepfill")
class DeepFillModel(GANModel):
    """deepfill: the gated coarse-to-fine generator against SN-PatchGAN, D's step then G's on each batch."""

    config_class = DeepFillConfig
    test_mode = "eval"

    def __init__(self, config: DeepFillConfig, device, data=None):
        super().__init__(config, device)
        c = config
        self.add_net("G", "generator", "deepfill", init=c.init, init_gain=c.init_gain, in_channels=c.input_nc,
                     cnum=c.ngf)
        self.add_net("D", "discriminator", "sn_patch", init=c.init, init_gain=c.init_gain,
                     in_channels=c.input_nc + 1, ndf=c.ndf)
        self.gan = adversarial_loss(c.gan_mode)

    @classmethod
    def build_dataset(cls, config: DeepFillConfig):
        return build_inpaint_dataset(config, 0.0)  # theirs: x * (1 - mask) on [-1, 1] images

    def generators(self) -> dict[str, dict]:
        return {"G": {**translates("AtoB", paired=True), **inpaints(0.0)}}

    def optimizers(self):
        return generator_and_discriminator_optimizers(self.config, ("G",), ("D",))

    def phases(self) -> list[Phase]:
        # neuralgym runs D's trainer at each step's start, then G's; theirs d_loss = 0.5 hinge_pos + 0.5 hinge_neg
        return [Phase("D", nets=("D",), optimizer="D", loss=self.loss_D, weight=0.5),
                Phase("G", nets=("G",), optimizer="G", loss=self.loss_G)]

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        image, mask = batch["B"], batch["mask"]
        coarse, refined = self.G(batch["A"], mask)
        # theirs: batch_complete = x2 * mask + batch_incomplete * (1 - mask); D and the sheets see it
        return {"real_A": batch["A"], "real_B": image, "fake_B": composite(refined, image, mask),
                "coarse": coarse, "refined": refined, "mask": mask}

    def scores(self, out: dict, completed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D's scores of the real and the completed images, each with the mask, in one batch as theirs (one
        power iteration of spectral norm per pass)."""
        mask, real = out["mask"], out["real_B"]
        both = torch.cat([torch.cat([real, mask], 1), torch.cat([completed, mask], 1)])
        return self.D(both).chunk(2)

    def loss_D(self, out: dict) -> dict[str, torch.Tensor]:
        pos, neg = self.scores(out, out["fake_B"].detach())
        loss_real, loss_fake = self.gan.discriminator(pos, neg)
        return {"D_real": loss_real, "D_fake": loss_fake}

    def loss_G(self, out: dict) -> dict[str, torch.Tensor]:
        c, real = self.config, out["real_B"].float()
        pos, neg = self.scores(out, out["fake_B"])
        terms = {"G_GAN": self.gan.generator(neg, pos) * c.lambda_gan}
        if c.lambda_l1 > 0:  # theirs: ae_loss, the mean over the whole image of both stages
            terms["G_L1_coarse"] = F.l1_loss(out["coarse"].float(), real) * c.lambda_l1
            terms["G_L1"] = F.l1_loss(out["refined"].float(), real) * c.lambda_l1
        return terms

    def visuals(self, outputs: dict) -> dict[str, torch.Tensor]:
        coarse = composite(outputs["coarse"], outputs["real_B"], outputs["mask"])
        return {"input": outputs["real_A"], "coarse": coarse, "completed": outputs["fake_B"],
                "target": outputs["real_B"]}
