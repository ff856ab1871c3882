"""A generator ready to translate images: loaded from our checkpoints or from official weight files.

Test-time behaviour ("test mode"):
  paper  as the pix2pix paper and the official test.py: dropout stays on and batch norm uses the
         statistics of the image being translated. Each image runs alone, with its own seed, so its
         output never depends on the other images of a run.
  eval   running batch-norm statistics and no dropout: deterministic, batched.
For instance-norm nets without dropout (CycleGAN) both give the same result.

`channels_last` and `compile` change how the net runs, not what it computes (see precision.inference_net):
`net` stays the plain module, `run_net` is what translating calls. `channels_last` None: the precision's
layout (bf16 on a CPU runs channels-last, Precision.runs_channels_last).

Huge images go in overlapping tiles (translate_tiled, tiles.py); paper mode refuses them for nets with
batch norm, whose statistics would then be each tile's.

Super-resolution nets (nets/superres.py) say their `scale`: the output is scale x the input's height and width
(tiles too), and their `value_range` (0, 1): they are fed and read in [0, 1], as BasicSR trained them, where
every other generator takes and gives [-1, 1]. Their inputs are padded to the size multiple only (no MIN_SIDE):
any padding would change the pixels near the image's edge from what BasicSR computes.

Inpainting nets (a generator record with inpaints(), mask_inputs.py) read each image with its mask as a last
channel: the net sees the image with its holes filled and the mask, and the output is composited (composite.py),
so outside the mask it is the input, bit for bit in the written file; tiled outputs are composited again after
the blend.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from translation.checkpoint import (CheckpointError, is_translation_checkpoint, load_file, resolve_checkpoint_path,
                                   upgrade)
from translation.data.arrays import to_image, to_tensor
from translation.inference.composite import composite, keep_known
from translation.inference.label_inputs import InputEncoder, InstanceMapError, prepared_input, split_prepared
from translation.inference.mask_inputs import MaskedInput, MaskError, hole_fill, prepared_masked, takes_mask
from translation.inference.tiles import Tiling, blend_tiles
from translation.inference.weights import choose_weights, load_generator_weights
from translation.names import HD_GENERATORS, SR_GENERATORS, TEST_MODES
from translation.nets import build_net
from translation.precision import inference_net, memory_format, precision_for

MIN_SIDE = 16  # images are padded to at least this size


@dataclass
class OfficialFlags:
    """Architecture flags needed to use a bare state dict saved by the official code."""
    netG: str | None = None
    norm: str = "batch"
    ngf: int = 64
    dropout: bool = True
    input_nc: int = 3
    output_nc: int = 3


class Translator:
    """`weights` says which weights the net holds: "raw" (the trained net) or "ema" (its moving average)."""

    def __init__(self, net: nn.Module, spec: dict, direction: str, test_mode: str, device: torch.device,
                 precision: str = "fp32", weights: str = "raw", channels_last: bool | None = None,
                 compile: bool = False, label_nc: int = 0, instance: bool = False,
                 hole_fill: list[float] | None = None):
        """`label_nc` > 0: the net reads label maps one-hot (pix2pixHD --label-nc): images are HxWx1 integer ids.
        `instance`: it also reads the boundaries of an instance map (--instance), given to `prepare`.
        `hole_fill`: an inpainting net, whose holes are filled with these values (in [-1, 1]) and which reads
        the mask (a channel of its input, or a second argument), given to `prepare`; its outputs are composited."""
        if test_mode not in TEST_MODES:
            raise ValueError(f"test mode must be one of {', '.join(TEST_MODES)}, got {test_mode!r}")
        self.net, self.spec, self.direction, self.test_mode, self.device = net, spec, direction, test_mode, device
        self.precision = precision_for(precision, device)
        self.weights, self.label_nc, self.instance = weights, label_nc, instance
        self.in_channels = spec["kwargs"]["in_channels"]  # the generator's: one-hot channels and boundaries too
        # what an input file holds: a label map's ids, or the image's channels
        self.inpaint = hole_fill is not None
        # G(image, mask) (deepfill) rather than G(cat(image, mask)) (glcic): the mask is not among in_channels
        self.mask_argument = self.inpaint and takes_mask(net)
        mask_channel = self.inpaint and not self.mask_argument
        self.read_channels = 1 if label_nc else self.in_channels - int(instance) - int(mask_channel)
        self.encoder = InputEncoder(label_nc, instance).to(device) if label_nc or instance else None
        self.out_channels = spec["kwargs"].get("out_channels", self.read_channels)
        self.size_multiple = int(getattr(net, "size_multiple", 1))
        self.scale = int(getattr(net, "scale", 1))  # output side / input side (super-resolution nets)
        self.value_range = tuple(float(v) for v in getattr(net, "value_range", (-1.0, 1.0)))
        if self.value_range not in ((-1.0, 1.0), (0.0, 1.0)):
            raise ValueError(f"{spec.get('name', 'this net')}: images in {self.value_range} are not supported "
                             "(only [-1, 1] and [0, 1])")
        self.min_side = MIN_SIDE if self.scale == 1 and self.value_range == (-1.0, 1.0) else 1
        if self.inpaint and self.out_channels != self.read_channels:
            raise ValueError(f"{spec.get('name', 'this net')}: an inpainting net gives the channels it reads "
                             f"({self.read_channels} + the mask), not {self.out_channels}")
        if self.inpaint:  # the fill as the net sees it: in its value range
            fill = [(v + 1.0) / 2.0 for v in hole_fill] if self.unit_range else list(hole_fill)
            self.encoder = MaskedInput(fill).to(device)
        net.to(device).eval()
        if test_mode == "paper":
            for module in net.modules():
                # norms with running statistics use the image's own, as in training; momentum 0 keeps the
                # stored ones from drifting
                if _has_running_statistics(module):
                    module.train()
                    module.momentum = 0.0
                elif isinstance(module, nn.modules.dropout._DropoutNd):
                    module.train()
        self.channels_last = self.precision.runs_channels_last(channels_last)
        self.layout = memory_format(self.channels_last)
        running = inference_net(net, self.channels_last, compile)  # after the modes are set: compile sees them
        self.compiled = None if running is net else running

    @property
    def run_net(self) -> nn.Module:
        """What translating calls: the compiled net, else `net` itself."""
        return self.net if self.compiled is None else self.compiled

    @property
    def batches_images(self) -> bool:
        """Whether several images may share one forward pass without changing any output."""
        return self.test_mode == "eval"

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        # at least min_side: ResNet's reflect padding needs more than one pixel after downsampling
        m, least = self.size_multiple, self.min_side
        return (math.ceil(max(height, least) / m) * m, math.ceil(max(width, least) / m) * m)

    @property
    def unit_range(self) -> bool:
        """Whether the net takes and gives images in [0, 1] (super-resolution nets) rather than [-1, 1]."""
        return self.value_range == (0.0, 1.0)

    @torch.no_grad()
    def translate_batch(self, images: list[np.ndarray], seeds: list[int]) -> list[np.ndarray]:
        """Translate HxWxC float images of one padded size; returns float (scale H)x(scale W)xC in [0, 1]."""
        sizes = [img.shape[:2] for img in images]
        ph, pw = self.padded_size(*sizes[0])
        batch = torch.stack([self._input(img, ph, pw) for img in images]).to(self.device)
        inputs = [x.contiguous(memory_format=self.layout) for x in self.net_inputs(batch)]
        with self.precision.autocast():
            if self.batches_images:
                out = self.run_net(*inputs)
            else:
                outs = []
                for i, seed in enumerate(seeds):
                    torch.manual_seed(seed)
                    outs.append(_result(self.run_net(*(x[i:i + 1] for x in inputs))))
                out = torch.cat(outs)
        out = _result(out)
        s = self.scale
        outs = [self._output(o[:, :s * h, :s * w]) for o, (h, w) in zip(out, sizes)]
        if self.inpaint:  # the net's pixels in the holes only: known pixels are the input's, exactly
            outs = [composite(o, img[..., :-1], img[..., -1:]) for o, img in zip(outs, images)]
        return outs

    def _output(self, tensor: torch.Tensor) -> np.ndarray:
        """One output CxHxW in the net's range -> HxWxC float32 in [0, 1] (clamped: SR nets have no output
        activation)."""
        if not self.unit_range:
            return to_image(tensor)
        return tensor.detach().float().cpu().clamp(0, 1).permute(1, 2, 0).contiguous().numpy()

    def _input(self, image: np.ndarray, height: int, width: int) -> torch.Tensor:
        """One prepared input padded to height x width: the image in [-1, 1] or the label map's ids, then any
        boundaries (label_inputs.py); padding repeats ids and boundaries, it makes no new ones."""
        if not self.label_nc and not self.instance and not self.inpaint:
            x = to_tensor(image) if not self.unit_range else \
                torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
            return _pad(x, height, width)
        x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
        if self.inpaint:  # the image in the net's range, the mask 0 and 1; padded together (mask_inputs.py)
            return _pad(torch.cat([x[:-1] if self.unit_range else x[:-1] * 2.0 - 1.0, x[-1:]]), height, width)
        if not self.label_nc:
            x = torch.cat([x[:-1] * 2.0 - 1.0, x[-1:]])  # as to_tensor; the boundaries stay 0 and 1
        return _pad(x, height, width)

    def net_inputs(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """What run_net takes for a padded batch: the generator's input (ids one-hot, boundaries appended)."""
        if self.encoder is None:
            return (batch,)
        if self.inpaint:
            x = self.encoder(batch)
            return (x[:, :-1], x[:, -1:]) if self.mask_argument else (x,)
        return (self.encoder(*split_prepared(batch, self.instance)),)

    def prepare(self, image: np.ndarray, instance_ids: np.ndarray | None = None, size: int | None = None,
                name: str = "the input", mask: np.ndarray | None = None) -> np.ndarray:
        """What translate_batch / translate_tiled take: `image` (HxWx1 ids for label-map models) resized to
        size x size when asked (ids to the nearest pixel), with the boundaries of `instance_ids` (HxWx1, the
        whole instance map) for --instance models, and `mask` (HxWx1, 1 = hole) for inpainting models; ValueError
        naming `name` when the instance map or mask is missing, or given to a model that reads none."""
        if self.inpaint != (mask is not None):
            raise MaskError(f"{name}: this model fills holes and reads a mask with each input (white = fill); none "
                            "was given" if self.inpaint else f"{name}: this model does not inpaint and reads no mask")
        if self.inpaint:
            return prepared_masked(image, mask, size, name)
        if self.instance and instance_ids is None:
            raise InstanceMapError(f"{name}: this model was trained with --instance and reads an instance map "
                                   "with each input; none was given")
        if instance_ids is not None and not self.instance:
            raise InstanceMapError(f"{name}: this model was trained without --instance and reads no instance map")
        return prepared_input(image, instance_ids, self.label_nc, size, name)

    def translate(self, image: np.ndarray, seed: int = 0, size: int | None = None,
                  instance_ids: np.ndarray | None = None, mask: np.ndarray | None = None) -> np.ndarray:
        return self.translate_batch([self.prepare(image, instance_ids, size, mask=mask)], [seed])[0]

    def tiling(self, tile: int, overlap: int) -> Tiling:
        """Tiles for this net (see tiles.py). Refused where each tile would take statistics of its own
        that the whole image would not: batch norm in paper mode."""
        if self.test_mode == "paper" and any(_has_running_statistics(m) for m in self.net.modules()):
            raise ValueError("--tile with --test-mode paper: this net's batch norm would use each tile's own "
                             "statistics, so tiles would disagree with each other and with the whole image; "
                             "use --test-mode eval (the running statistics) or translate whole images")
        return Tiling.plan(tile, overlap, self.size_multiple)

    @property
    def tiling_note(self) -> str | None:
        """What tiles change for this net, for the user; None where a wide enough overlap changes nothing."""
        if any(isinstance(m, nn.modules.instancenorm._InstanceNorm) and not m.track_running_stats
               for m in self.net.modules()):
            return ("note: this net's instance norm takes each tile's own statistics, so tones may drift "
                    "slightly from tile to tile (blended smoothly); a larger --tile comes closer to the whole "
                    "image")
        return None

    def translate_tiled(self, image: np.ndarray, tiling: Tiling, seed: int = 0, batch_size: int = 1,
                        dtype=np.float32, on_row=None) -> np.ndarray:
        """Translate HxWxC float `image` in tiles; the result ((scale H)x(scale W)) is float in [0, 1], or uint8/uint16
        samples."""
        per_batch = batch_size if self.batches_images else 1

        def translate(tiles, indices):
            seeds = [seed + index for index in indices]  # paper mode: each tile's dropout has a seed of its own
            return [out for start in range(0, len(tiles), per_batch)
                    for out in self.translate_batch(tiles[start:start + per_batch], seeds[start:start + per_batch])]

        height, width = image.shape[:2]
        out = np.empty((self.scale * height, self.scale * width, self.out_channels), dtype)
        out = blend_tiles(translate, image, tiling, out, on_row, self.scale)
        # each tile was composited, but the blend's float rounding must not reach a known pixel
        return keep_known(out, image[..., :-1], image[..., -1:]) if self.inpaint else out


def _has_running_statistics(module: nn.Module) -> bool:
    """Batch norm, and instance norm that keeps running statistics (StarGAN): in paper mode these use the
    statistics of what they are given."""
    return isinstance(module, nn.modules.batchnorm._BatchNorm) or (
        isinstance(module, nn.modules.instancenorm._InstanceNorm) and module.track_running_stats)


def _result(out):
    """The image a generator gives: the last stage of nets that return several (DeepFill's coarse, refined)."""
    return out[-1] if isinstance(out, (tuple, list)) else out


def image_seed(base_seed: int, name: str) -> int:
    """Per-image dropout seed from the run seed and the image's relative path."""
    return (zlib.crc32(name.encode("utf-8")) ^ (base_seed * 0x9E3779B1)) & 0x7FFFFFFF


def _pad(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Reflect-pad CxHxW at the bottom/right up to height x width (replicate where reflect cannot reach)."""
    dh, dw = height - x.shape[1], width - x.shape[2]
    if dh == 0 and dw == 0:
        return x
    mode = "reflect" if dh < x.shape[1] and dw < x.shape[2] else "replicate"
    return F.pad(x[None], (0, dw, 0, dh), mode=mode)[0]


def load_translator(checkpoint, direction: str | None = None, test_mode: str | None = None,
                    device: torch.device | str = "cpu", official: OfficialFlags | None = None,
                    precision: str = "fp32", use_ema: bool = True, channels_last: bool | None = None,
                    compile: bool = False) -> Translator:
    """Load the generator for `direction` from a run dir / checkpoint, or an official state dict.

    A checkpoint with an exponential moving average of that generator's weights gives the average (the
    translator's `weights` says "ema") unless use_ema is False. `channels_last`, `compile`: see Translator.
    """
    path = resolve_checkpoint_path(checkpoint)
    return translator_from(load_file(path), path, direction, test_mode, device, official, precision, use_ema,
                           channels_last, compile)


def translator_from(obj: dict, path: Path, direction: str | None = None, test_mode: str | None = None,
                    device: torch.device | str = "cpu", official: OfficialFlags | None = None,
                    precision: str = "fp32", use_ema: bool = True, channels_last: bool | None = None,
                    compile: bool = False) -> Translator:
    """load_translator's translator from the dict `obj` already read from `path` (a server keeps it, so that
    another direction or test mode does not read the file again)."""
    speed = {"channels_last": channels_last, "compile": compile}
    device = torch.device(device)
    if not is_translation_checkpoint(obj):
        return _load_official(path, obj, direction or "AtoB", test_mode, device, official, precision, speed)
    obj = upgrade(obj, path)
    directions = {record["direction"]: key for key, record in obj["generators"].items()
                  if record["task"] == "translate"}
    if not directions:
        named = [record for record in obj["generators"].values() if record["task"] == "translate_to_domain"]
        if named:
            domains = ", ".join(named[0]["domains"])
            raise CheckpointError(f"{path}: this model translates to named domains ({domains}): say which with "
                                  "--to NAMES, or --to all for a sheet of every one")
        tasks = sorted({record["task"] for record in obj["generators"].values()})
        raise CheckpointError(f"{path}: its generators do not translate between two domains (they "
                              f"{' / '.join(tasks)}), which `translate` needs")
    if direction is None:
        direction = next(iter(directions)) if len(directions) == 1 else "AtoB"
    if direction not in directions:
        raise CheckpointError(f"{path}: this model translates {', '.join(directions)} only, not {direction}")
    key = directions[direction]
    spec = obj["net_specs"][key]
    net = build_net(spec)
    record = obj["generators"][key]
    if "scale" in record and int(record["scale"]) != int(getattr(net, "scale", 1)):
        raise CheckpointError(f"{path}: generator {key} is recorded to upscale x{record['scale']}, but its net "
                              f"{spec['name']} upscales x{getattr(net, 'scale', 1)}")
    weights = choose_weights(record, use_ema)
    load_generator_weights(net, obj, key, weights)
    return Translator(net, spec, direction, test_mode or obj.get("test_mode", "eval"), device, precision, weights,
                      label_nc=int(record.get("label_nc", 0)), instance=bool(record.get("instance")),
                      hole_fill=hole_fill(record), **speed)


def _load_official(path: Path, state_dict: dict, direction: str, test_mode, device, flags,
                   precision: str, speed: dict) -> Translator:
    from translation.nets.official import flags_text, guess_generator_flags, load_official_state_dict

    if _is_superres_file(state_dict) or (flags is not None and flags.netG in SR_GENERATORS):
        raise CheckpointError(f"{path} holds super-resolution weights (BasicSR/ESRGAN): import it once with "
                              f"`translation import {path} --netG rrdbnet|msrresnet --scale N -o NAME` (ESRGAN and "
                              "Real-ESRGAN x4: rrdbnet --scale 4), then translate with the checkpoint that writes")
    looks_like = guess_generator_flags(state_dict) if isinstance(state_dict, dict) else {}
    if looks_like.get("netG") in HD_GENERATORS or (flags is not None and flags.netG in HD_GENERATORS):
        # its inputs (label maps, instance maps) are options of the file that translate's flags do not carry
        shape = f" ({flags_text(looks_like)})" if looks_like.get("netG") in HD_GENERATORS else ""
        raise CheckpointError(f"{path} is an official pix2pixHD generator{shape}: import it once with "
                              f"`translation import {path} --netG global|local ...` (with its --label-nc, "
                              "--no-instance, ...), then translate with the checkpoint that writes")
    if flags is None or flags.netG is None:
        guess = _describe_guess(guess_generator_flags, state_dict)
        raise CheckpointError(f"{path} is a bare state dict (official pix2pix/CycleGAN format): give its "
                              f"architecture with --netG and --norm (and --ngf, --no-dropout as trained){guess}")
    spec = {"kind": "generator", "name": flags.netG,
            "kwargs": {"in_channels": flags.input_nc, "out_channels": flags.output_nc, "ngf": flags.ngf,
                       "norm": flags.norm, "dropout": _dropout(state_dict, flags)}}
    net = build_net(spec)
    load_official_state_dict(net, state_dict, source=str(path))
    # the official test.py runs nets as in training unless --eval is given
    return Translator(net, spec, direction, test_mode or "paper", device, precision, **speed)


def _is_superres_file(obj) -> bool:
    """A BasicSR file ({'params_ema'} / {'params'}) or the ESRGAN repository's bare RRDBNet (RRDB_trunk.*)."""
    if not isinstance(obj, dict):
        return False
    from translation.nets.basicsr_weights import PARAM_KEYS

    return any(key in obj for key in PARAM_KEYS) or any(str(key).startswith("RRDB_trunk.") for key in obj) or (
        "conv_first.weight" in obj and "conv_last.weight" in obj)


def _dropout(state_dict: dict, flags: OfficialFlags) -> bool:
    """ResNet files say themselves whether they had dropout (it shifts the block keys), so
    `--netG resnet_9blocks` alone loads CycleGAN files; U-Net dropout leaves no trace: the flag decides."""
    from translation.nets.official import guess_generator_flags

    guessed = guess_generator_flags(state_dict).get("dropout")
    return flags.dropout if guessed is None or not flags.netG.startswith("resnet_") else guessed


def _describe_guess(guesser, state_dict) -> str:
    try:
        guess = guesser(state_dict)
    except Exception:  # a guess is a courtesy; failing to guess must not hide the real message
        return ""
    names = {"netG": "--netG", "ngf": "--ngf", "norm": "--norm", "in_channels": "--input-nc",
             "out_channels": "--output-nc"}
    flags = " ".join(f"{names[k]} {v}" for k, v in guess.items() if k in names and v is not None)
    return f"; this file looks like: {flags}" if flags else ""
