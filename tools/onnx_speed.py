#!/usr/bin/env python
"""ONNX Runtime against PyTorch eager fp32 for one generator's forward pass on this machine's CPU.

    .venv/bin/python tools/onnx_speed.py [--net resnet_9blocks] [--size 256] [--batch 1] [--repeat 10] [--threads N]

The net (CycleGAN's defaults: instance norm, ngf 64, random weights) is exported as `translation export`
does and both runtimes use the same number of threads; the fastest of the interleaved repetitions is kept
(see benchmark.py). Prints the times, their ratio, the achieved GFLOP/s and the largest output difference;
`tools/benchmark.py --sections onnx` puts the same comparison in its table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from measure import count_flops, interleaved


def compare(net_name: str = "resnet_9blocks", size: int = 256, batch: int = 1, repeat: int = 10, ngf: int = 64,
            norm: str = "instance") -> dict:
    import numpy as np
    import onnxruntime as ort
    import torch

    from translation.export.graph import freeze_test_mode
    from translation.export.source import Exportable
    from translation.export.writers import write_onnx
    from translation.nets import create_generator

    torch.manual_seed(0)
    net = freeze_test_mode(create_generator(net_name, ngf=ngf, norm=norm).eval())
    exportable = Exportable(net, ["image"], [{0: "batch", 2: "height", 3: "width"}],
                            lambda n, h, w: (torch.randn(n, 3, h, w),), {"size_multiple": str(net.size_multiple)})
    x = torch.rand(batch, 3, size, size) * 2 - 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.onnx"
        write_onnx(exportable, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {"image": x.numpy()}
    with torch.no_grad():
        difference = float(np.abs(session.run(None, feeds)[0] - net(x).numpy()).max())
        best = interleaved({"pytorch": lambda: net(x), "onnxruntime": lambda: session.run(None, feeds)}, repeat)
        flops = count_flops(lambda: net(x))
    return {"net": net_name, "size": size, "batch": batch, "threads": torch.get_num_threads(), "flops": flops,
            "pytorch_s": best["pytorch"], "onnxruntime_s": best["onnxruntime"],
            "speedup": best["pytorch"] / best["onnxruntime"], "max_abs_difference": difference}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", default="resnet_9blocks")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="threads for both runtimes (default: PyTorch's)")
    args = parser.parse_args()
    from translation.runtime import configure_cpu_threads

    configure_cpu_threads()  # before torch loads: OpenMP's wait policy as the `translation` command sets it
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    r = compare(args.net, args.size, args.batch, args.repeat)
    print(f"{r['net']} {r['size']}x{r['size']} batch {r['batch']}, {r['threads']} threads: PyTorch eager fp32 "
          f"{r['pytorch_s'] * 1000:.0f} ms, ONNX Runtime {r['onnxruntime_s'] * 1000:.0f} ms "
          f"({r['speedup']:.2f}x; {r['flops'] / 1e9:.1f} GFLOP a pass: {r['flops'] / 1e9 / r['pytorch_s']:.0f} vs "
          f"{r['flops'] / 1e9 / r['onnxruntime_s']:.0f} GFLOP/s); outputs differ by at most "
          f"{r['max_abs_difference']:.1e}")


if __name__ == "__main__":
    main()
