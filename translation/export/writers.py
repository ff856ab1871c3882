"""Writing an Exportable as an ONNX or TorchScript file, atomically, with its metadata.

ONNX goes through torch.export (PyTorch's default ONNX exporter since 2.9; the TorchScript-based one is
deprecated): height and width are declared as multiples of the size multiple, so the graph takes any padded
size, and the batch is free. TorchScript files are traced; PyTorch has deprecated TorchScript too, but it
is still what LibTorch (C++) loads, so it stays on offer.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from translation.export.graph import ExportError
from translation.export.source import Exportable, load_exportable
from translation.inference.translator import MIN_SIDE
from translation.names import EXPORT_FORMATS
from translation.utils.files import atomic_path

INSTALL = "pip install onnx onnxscript onnxruntime (or this package's extra: pip install -e '.[export]')"


def require(*modules: str) -> None:
    """Fail with how to install, before any work, when an optional package is missing."""
    import importlib

    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f"ONNX needs the {' and '.join(missing)} package{'s' * (len(missing) > 1)}, which "
                          f"{'are' if len(missing) > 1 else 'is'} not installed: {INSTALL}")


def export_checkpoint(checkpoint, output, fmt: str = "onnx", *, direction: str | None = None,
                      test_mode: str | None = None, use_ema: bool = True, generator: str | None = None,
                      overwrite: bool = False) -> Exportable:
    """Export the generator of `checkpoint` to the file `output`; returns what was exported."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    output = Path(output)
    if output.exists() and not overwrite:
        raise ExportError(f"{output} exists; use --overwrite to replace it")
    if fmt == "onnx":
        require("onnx", "onnxscript")
    exportable = load_exportable(checkpoint, direction, test_mode, use_ema, generator)
    (write_onnx if fmt == "onnx" else write_torchscript)(exportable, output)
    return exportable


def _sides(exportable: Exportable, at_least: int) -> tuple[int, int]:
    """An example height and width: multiples of the size multiple, at least MIN_SIDE, and of `at_least`
    multiples (torch.export takes a size of one multiple for a constant)."""
    m = exportable.size_multiple
    k = max(at_least, math.ceil(MIN_SIDE / m))
    return m * k, m * (k + 1)


def write_onnx(exportable: Exportable, path: Path) -> None:
    from torch.export import Dim

    m = exportable.size_multiple
    dims = {"batch": Dim("batch"), "height": m * Dim("height"), "width": m * Dim("width")}
    shapes = tuple({axis: dims[name] for axis, name in axes.items()} for axes in exportable.dynamic_axes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        # inputs that share the batch axis (image and labels) share its name, as intended
        warnings.filterwarnings("ignore", message=r"# The axis name: [\w*]+ will not be used")
        program = torch.onnx.export(exportable.net, exportable.make_inputs(2, *_sides(exportable, 2)), dynamo=True,
                                    input_names=exportable.input_names, output_names=["output"],
                                    dynamic_shapes=shapes, verbose=False)
    program.model.metadata_props.update(exportable.metadata)
    with atomic_path(path) as tmp:
        program.save(str(tmp))


class _Scripted(nn.Module):
    """The traced net with its record as TorchScript attributes (module.size_multiple, module.metadata)."""

    def __init__(self, net, metadata: dict[str, str]):
        super().__init__()
        self.net, self.metadata, self.size_multiple = net, metadata, int(metadata.get("size_multiple", 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class _ScriptedWithLabels(_Scripted):
    """The same for nets with a second input: StarGAN's target labels, a noise generator's classes, or
    pix2pixHD's instance boundaries."""

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        return self.net(x, labels)


def write_torchscript(exportable: Exportable, path: Path) -> None:
    inputs = exportable.make_inputs(1, *_sides(exportable, 1))
    with warnings.catch_warnings():
        # deprecation notices of torch.jit, and the tracer's notes on the nets' own shape checks, which are
        # Python-only: the tests run traced files at other sizes than the example
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(exportable.net, inputs)
        wrapper = (_ScriptedWithLabels if len(inputs) == 2 else _Scripted)(traced, exportable.metadata)
        scripted = torch.jit.script(wrapper)
        with atomic_path(path) as tmp:
            torch.jit.save(scripted, str(tmp))
