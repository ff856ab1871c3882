"""An exported ONNX file run with ONNX Runtime: `translation translate FILE.onnx INPUT OUTPUT` for image
generators (label maps and instance maps for pix2pixHD files, as the checkpoint reads them; --mask for
inpainting files), `translation sample FILE.onnx OUTPUT` for noise generators.

The session stands in for the generator inside the ordinary Translator / DomainTranslator / Sampler, so
reading, padding to the recorded size multiple, cropping back, drawing z (seed, truncation, walks) and writing
are those of running the checkpoint. The test mode, direction, generator and weights were fixed at export;
options that ask for others are refused rather than ignored.
"""
from __future__ import annotations

import json

import numpy as np
import torch
from torch import nn

from translation.export.graph import ExportError
from translation.export.source import PRODUCER
from translation.export.writers import INSTALL
from translation.inference.label_inputs import split_prepared
from translation.inference.translator import Translator


# the element types of the graphs' inputs: images, z and StarGAN's labels are float, class indices int64
_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32}


class OnnxNet(nn.Module):
    """An ONNX Runtime session called like the generator it was exported from: net(image[, labels]) or
    net(z[, labels]), the inputs in the graph's order (a None, an unconditional model's labels, is left out)."""

    def __init__(self, session, size_multiple: int = 1, scale: int = 1, value_range: tuple = (-1.0, 1.0)):
        super().__init__()
        self.session, self.size_multiple = session, size_multiple
        # what Translator reads of a net: super-resolution files give scale x the input's size, in [0, 1]
        self.scale, self.value_range = scale, value_range
        self.inputs = [(node.name, _NUMPY_TYPES[node.type]) for node in session.get_inputs()]

    def forward(self, *inputs: torch.Tensor | None) -> torch.Tensor:
        feeds = {name: x.cpu().numpy().astype(dtype) for (name, dtype), x in zip(self.inputs, inputs)
                 if x is not None}
        return torch.from_numpy(self.session.run(["output"], feeds)[0])


class OnnxInpaintingNet(OnnxNet):
    """An inpainting file (export/inpaint.py): called as net(image, mask), as deepfill is, so the Translator hands
    it the image and the mask apart (mask_inputs.takes_mask reads this signature)."""

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return super().forward(image, mask)


class OnnxTranslator(Translator):
    """Label-map files (pix2pixHD): the graph one-hot encodes the ids itself and takes the boundaries as an input
    of their own (export/source.py), so the padded ids and boundaries go in as they are. Inpainting files get the
    image and mask as checkpoints' nets do; the graph fills and composites again (idempotent)."""

    def net_inputs(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.inpaint:
            return super().net_inputs(batch)
        return split_prepared(batch, self.instance)

    @property
    def batches_images(self) -> bool:
        # the exported graph normalises each image on its own statistics (or stored ones) and draws no random
        # numbers, so images can share a run in either test mode
        return True


def open_session(path, device: str = "auto"):
    """An ONNX Runtime session on `device` ("auto": a CUDA GPU when ONNX Runtime has one) and its metadata."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError(f"running {path} needs ONNX Runtime, which is not installed: {INSTALL}") from None
    available = ort.get_available_providers()
    if device == "cuda" and "CUDAExecutionProvider" not in available:
        raise ExportError("--device cuda: this ONNX Runtime has no CUDA provider (pip install onnxruntime-gpu)")
    if device not in ("auto", "cpu", "cuda"):
        raise ExportError(f"--device {device}: ONNX files run on cpu or cuda")
    use_cuda = device != "cpu" and "CUDAExecutionProvider" in available
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if use_cuda else ["CPUExecutionProvider"]
    try:
        session = ort.InferenceSession(str(path), providers=providers)
    except Exception as error:  # noqa: BLE001 (ONNX Runtime's own types, for missing, corrupt or foreign files)
        raise ExportError(f"{path}: cannot be opened by ONNX Runtime ({str(error).splitlines()[0]})") from None
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    if metadata.get("producer") != PRODUCER:
        raise ExportError(f"{path} was not written by `translation export`: it does not record the size multiple "
                          "and channels its input needs")
    return session, metadata


def load_onnx_translator(path, direction: str | None = None, test_mode: str | None = None,
                         to: list[str] | None = None, source: list[str] | None = None, device: str = "auto",
                         precision: str = "fp32", use_ema: bool = True, channels_last: bool | None = None,
                         compile: bool = False) -> Translator:
    """A Translator (or DomainTranslator, with `to`) that runs the exported file `path`."""
    session, meta = open_session(path, device)
    return onnx_translator_from(session, meta, path, direction, test_mode, to, source, precision, use_ema,
                                channels_last, compile)


def onnx_translator_from(session, meta: dict, path, direction: str | None = None, test_mode: str | None = None,
                         to: list[str] | None = None, source: list[str] | None = None, precision: str = "fp32",
                         use_ema: bool = True, channels_last: bool | None = None,
                         compile: bool = False) -> Translator:
    """load_onnx_translator's translator from a session open_session opened (a server keeps it)."""
    task = meta["task"]
    _refuse_what_was_fixed(path, meta, direction, test_mode, to, source)
    _refuse_runtime_options(meta, precision, use_ema, channels_last, compile)
    # files from before super-resolution record neither: same size out, [-1, 1]
    inpaint = meta.get("inpaint") == "true"
    net = (OnnxInpaintingNet if inpaint else OnnxNet)(
        session, int(meta["size_multiple"]), int(meta.get("scale", 1)),
        tuple(float(v) for v in meta.get("value_range", "-1 1").split()))
    spec = {"name": meta["architecture"],
            "kwargs": {"in_channels": int(meta["in_channels"]), "out_channels": int(meta["out_channels"])}}
    if task == "translate":
        return OnnxTranslator(net, spec, meta["direction"], meta["test_mode"], torch.device("cpu"),
                              weights=meta["weights"], label_nc=int(meta.get("label_nc", 0)),
                              instance=meta.get("instance") == "true",
                              hole_fill=json.loads(meta["hole_fill"]) if inpaint else None)
    from translation.inference.domain_translator import DomainRequest, DomainTranslator

    record = {"domains": json.loads(meta["domains"]), "label_kind": meta["label_kind"],
              "exclusive": json.loads(meta["exclusive"])}
    return DomainTranslator(net, spec, record, DomainRequest(to, source), meta["test_mode"], torch.device("cpu"),
                            weights=meta["weights"])


def load_onnx_sampler(path, device: str = "auto", use_ema: bool = True, generator: str | None = None,
                      precision: str = "fp32", channels_last: bool | None = None, compile: bool = False):
    """A Sampler that draws with the exported noise generator `path`: the same seed gives the same z, hence
    the checkpoint's images (within float rounding)."""
    session, meta = open_session(path, device)
    return onnx_sampler_from(session, meta, path, use_ema, generator, precision, channels_last, compile)


def onnx_sampler_from(session, meta: dict, path, use_ema: bool = True, generator: str | None = None,
                      precision: str = "fp32", channels_last: bool | None = None, compile: bool = False):
    """load_onnx_sampler's sampler from a session open_session opened."""
    from translation.inference.sampling import Sampler
    from translation.nets.latent_codes import LatentCodes

    if meta["task"] != "sample":
        raise ExportError(f"{path} translates images rather than drawing them from noise: use "
                          f"`translation translate {path} INPUT OUTPUT`")
    key = meta["generator"]
    if generator is not None and generator not in (key, "0"):
        raise ExportError(f"--generator {generator}: this exported file holds one generator, {key}; export the "
                          f"checkpoint with --generator {generator} for that one")
    _refuse_runtime_options(meta, precision, use_ema, channels_last, compile)
    codes = LatentCodes.from_record(json.loads(meta["codes"])) if "codes" in meta else None  # InfoGAN's
    return Sampler({key: OnnxNet(session)}, int(meta["z_dim"]), json.loads(meta["classes"]), meta["weights"],
                   torch.device("cpu"), codes=codes)


def _refuse_what_was_fixed(path, meta: dict, direction, test_mode, to, source) -> None:
    task, what = meta["task"], "this exported file"
    checks = [
        (task == "sample", "", (f"{path} draws images from noise (z) rather than translating them: use "
                                f"`translation sample {path} OUTPUT`")),
        (task == "translate" and to, "--to", f"{what} translates {meta.get('direction')}, not to named domains"),
        (task == "translate_to_domain" and not to, "--to",
         f"{what} translates to named domains ({', '.join(json.loads(meta.get('domains', '[]')))}): say which"),
        (task == "translate_to_domain" and meta.get("label_kind") == "multi_label" and to and not source,
         "--from", "the discriminator that reads what each input is was not exported: say it with --from NAMES"),
        (direction and direction != meta.get("direction"), "--direction",
         (f"{what} translates {meta.get('direction', 'to named domains')}; export the checkpoint with --direction "
          f"{direction} for that")),
        (test_mode and test_mode != meta.get("test_mode"), "--test-mode",
         f"{what} was exported in {meta.get('test_mode')} mode; export again with --test-mode {test_mode}"),
    ]
    _raise_first(checks)


def _refuse_runtime_options(meta: dict, precision: str, use_ema: bool, channels_last: bool | None,
                            compile: bool) -> None:
    what = "this exported file"
    checks = [
        (precision != "fp32", "--precision", f"{what} runs in float32, as exported"),
        # ONNX Runtime chooses its own layouts and compiles the graph itself
        (channels_last, "--channels-last", f"{what} runs in ONNX Runtime, which chooses its own memory layout"),
        (compile, "--compile", f"{what} runs in ONNX Runtime, which optimises the graph itself; torch.compile "
                               "is for checkpoints"),
        (not use_ema and meta.get("weights") == "ema", "--no-ema",
         f"{what} holds the EMA weights; export with --no-ema for the trained ones"),
    ]
    _raise_first(checks)


def _raise_first(checks: list[tuple[bool, str, str]]) -> None:
    for failed, flag, why in checks:
        if failed:
            raise ExportError(f"{flag}: {why}" if flag else why)
