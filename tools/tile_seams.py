"""How far `translate --tile` is from the whole image for U-Nets, by overlap: the figures behind the warning
in translation/inference/tiles.py (UNET_OVERLAP_FRACTION) and README's --tile paragraph.

A U-Net's innermost layer sees its whole input, so a tile's output depends on everything in the tile and
blending cannot make it equal the whole image's; how far apart they are depends on the overlap. This trains
pix2pix U-Nets briefly (and takes random ones, step 0) on the demo's outline -> object task, then
translates a larger image whole and tiled (eval mode) at overlaps from 1/16 to 1/2 of the tile, and prints
the largest and mean absolute differences in 1/255, the share of pixels more than 8/255 apart, and the
largest jump of the difference between neighbouring pixels (a seam: a smooth difference shows no grid).

    python tools/tile_seams.py --out /tmp/tile_seams --nets unet_128 --steps 0 150
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def edge_mosaic(size: int, rows: int, columns: int) -> np.ndarray:
    """A large input: outlines of rows x columns still-life objects (the demo's renderer), each size px."""
    from translation.demo.edges2photo import edges_and_photos

    edges = [e for _, e, _ in edges_and_photos(rows * columns, size, np.random.default_rng(1))]
    return np.concatenate([np.concatenate(edges[r * columns:(r + 1) * columns], axis=1) for r in range(rows)])


def paired_set(root: Path, size: int) -> Path:
    """Outline -> object pairs (`translation demo pix2pix`'s task): filling a shape needs context."""
    from translation.demo.edges2photo import build_edges2photo

    if not (root / "train").is_dir():
        build_edges2photo(root, size=size, train_count=48, test_count=0)
    return root


def translator(data: Path, runs: Path, net: str, size: int, ngf: int, steps: int):
    """The generator after `steps` pix2pix steps (0: random weights at unit scale), in eval mode."""
    import torch

    from translation.models.pix2pix import Pix2PixConfig, Pix2PixModel
    from translation.nets.layers import init_unit_scale
    from translation.nets.registry import build_net
    from translation.training.trainer import Trainer
    from translation.inference.translator import Translator, load_translator

    if not steps:
        spec = {"kind": "generator", "name": net,
                "kwargs": {"in_channels": 3, "out_channels": 3, "ngf": ngf, "norm": "batch", "dropout": True}}
        return Translator(init_unit_scale(build_net(spec)), spec, "AtoB", "eval", torch.device("cpu"))
    config = Pix2PixConfig(data=str(data), name=f"{net}_ngf{ngf}_step{steps}", checkpoints_dir=str(runs),
                           netG=net, ngf=ngf, ndf=16, load_size=size + size // 8, crop_size=size, batch_size=1,
                           num_workers=0, steps=steps, log_every=100, image_every=10 ** 6, save_every=10 ** 6,
                           device="cpu", seed=0)
    trained = config.run_dir / "latest.pt"  # trained by an earlier call: measured again as it is
    return load_translator(trained if trained.is_file() else Trainer(Pix2PixModel, config, progress=False).fit(),
                           test_mode="eval")


def differences(translator, image: np.ndarray, tile: int, fractions) -> list[tuple]:
    whole = translator.translate_batch([image], [0])[0]
    rows = []
    for fraction in fractions:
        overlap = int(tile * fraction)
        tiled = translator.translate_tiled(image, translator.tiling(tile, overlap))
        signed = (tiled - whole) * 255
        diff = np.abs(signed)
        # a seam is a jump in the difference between neighbouring pixels; a smooth difference is not seen as one
        jump = max(np.abs(np.diff(signed, axis=0)).max(), np.abs(np.diff(signed, axis=1)).max())
        rows.append((overlap, fraction, float(diff.max()), float(diff.mean()), float((diff > 8).mean()),
                     float(jump)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the data set and the runs")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 100], help="0: random weights at unit scale")
    parser.add_argument("--ngf", type=int, default=16)
    parser.add_argument("--nets", nargs="+", default=["unet_128", "unet_256"])
    args = parser.parse_args(argv)
    fractions = (1 / 16, 1 / 8, 1 / 4, 3 / 8, 1 / 2)
    # unet_N needs sides that are multiples of N: tiles of 2N on an image 4N x 3N
    for net in args.nets:
        size = int(net.split("_")[1])
        data = paired_set(args.out / f"data_{size}", size)
        image = edge_mosaic(size, 3, 4)
        for steps in args.steps:
            generator = translator(data, args.out / "runs", net, size, args.ngf, steps)
            print(f"{net} ngf {args.ngf}, {steps} steps, tile {2 * size} on {4 * size}x{3 * size}:")
            for overlap, fraction, largest, mean, share, jump in differences(generator, image, 2 * size, fractions):
                print(f"  overlap {overlap:4d} ({fraction:.3f} of the tile): max {largest:6.1f}/255, "
                      f"mean {mean:5.2f}/255, {100 * share:5.2f}% of pixels > 8/255 apart, largest jump "
                      f"between neighbours {jump:5.1f}/255", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
