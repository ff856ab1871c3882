"""Tiles for huge images: layout, seamless blending, agreement with whole-image translation, the folder path."""
import itertools
import threading

import numpy as np
import pytest
import torch
from torch import nn

from translation.cli import main
from translation.data.io import read_image, write_image
from translation.inference import folders
from translation.inference.folders import TranslateError, translate_folder
from translation.inference.tiles import Tiling, blend_tiles
from translation.inference.translator import Translator
from translation.nets import create_generator
from translation.nets.generators import ResnetGenerator
from translation.nets.layers import init_unit_scale

from conftest import blocky_image


def translator(net: nn.Module, mode: str = "eval") -> Translator:
    spec = {"kwargs": {"in_channels": 3, "out_channels": 3}}  # what a Translator reads of a net's spec
    return Translator(net, spec, "AtoB", mode, torch.device("cpu"))


@pytest.mark.parametrize("length", [1, 100, 192, 193, 250, 301, 1000, 4097])
@pytest.mark.parametrize("tile,overlap,multiple", [(192, 96, 4), (64, 16, 1), (512, 32, 256), (100, 0, 4)])
def test_tiles_cover_each_side_on_the_size_multiple_with_the_overlap(length, tile, overlap, multiple):
    tiling = Tiling.plan(tile, overlap, multiple)
    starts = tiling.starts(length)
    sizes = [min(tiling.tile, length - s) for s in starts]
    assert tiling.tile % multiple == 0 and starts[0] == 0
    assert all(s % multiple == 0 for s in starts) and starts == sorted(set(starts))
    assert starts[-1] + sizes[-1] == length  # the last tile reaches the edge
    assert all(size > tiling.tile - multiple for size in sizes) or length <= tiling.tile
    assert all(a + tiling.tile - b >= overlap for a, b in itertools.pairwise(starts))


def test_tiles_refuse_overlaps_that_leave_no_room():
    with pytest.raises(ValueError, match="--tile-overlap 40: .*half"):
        Tiling.plan(64, 40, 4)
    with pytest.raises(ValueError, match="size multiple \\(256 px\\)"):
        Tiling.plan(256, 100, 256)


def test_blend_is_exact_on_a_constant_and_has_no_seams_between_different_tiles():
    tiling = Tiling.plan(64, 32, 4)
    image = np.zeros((150, 230, 1), np.float32)

    def constant(tiles, indices):
        return [np.full(t.shape, 0.25, np.float32) for t in tiles]

    out = blend_tiles(constant, image, tiling, np.empty_like(image))
    np.testing.assert_allclose(out, 0.25, atol=1e-6)

    def checkerboard(tiles, indices):  # a hard seam would jump by 1 between neighbouring pixels
        columns = len(tiling.starts(230))
        return [np.full(t.shape, float((i // columns + i % columns) % 2), np.float32) for t, i in zip(tiles, indices)]

    out = blend_tiles(checkerboard, image, tiling, np.empty_like(image))
    assert out.min() >= 0 and out.max() <= 1 and np.ptp(out) > 0.99
    jumps = max(np.abs(np.diff(out, axis=0)).max(), np.abs(np.diff(out, axis=1)).max())
    assert jumps < 0.15  # the cosine ramp over 16 px rises by at most pi/32 per pixel


def test_tiled_equals_whole_where_the_receptive_field_fits_the_overlap():
    # batch norm in eval mode: a local net that looks at most 23 px away (7x7, two stride-2 3x3, one block of
    # two 3x3 at 1/4 scale, two transposed 3x3, 7x7), so a 96 px overlap (0-weight margin of 24) is exact
    net = init_unit_scale(ResnetGenerator(3, 3, ngf=4, norm="batch", n_blocks=1))
    t = translator(net)
    image = np.random.default_rng(0).random((250, 301, 3)).astype(np.float32)  # neither side a multiple of 4
    whole = t.translate(image)
    tiled = t.translate_tiled(image, t.tiling(192, 96), batch_size=3)
    assert tiled.shape == whole.shape and whole.std() > 0.05  # the net's output has structure
    assert np.abs(tiled - whole).max() < 1e-5  # borders included: the last tiles are padded as the whole image
    too_narrow = t.translate_tiled(image, t.tiling(192, 16))
    assert np.abs(too_narrow - whole).max() > 1e-3  # the test can see a blend that uses wrong pixels


def test_no_seams_on_a_constant_colour():
    # the net's own padding at a tile's edges marks the pixels near them: the 0-weight margins must hide it
    t = translator(init_unit_scale(ResnetGenerator(3, 3, ngf=4, norm="batch", n_blocks=1)))
    image = np.full((200, 260, 3), (0.2, 0.5, 0.7), np.float32)
    whole, tiled = t.translate(image), t.translate_tiled(image, t.tiling(96, 32))
    assert np.abs(tiled - whole).max() < 1e-3


def test_instance_norm_nets_tile_with_a_note():
    t = translator(create_generator("resnet_6blocks", ngf=4, norm="instance"), mode="paper")
    t.tiling(64, 16)  # no running statistics: paper mode changes nothing, so tiles are allowed
    assert "instance norm" in t.tiling_note
    assert translator(create_generator("resnet_6blocks", ngf=4, norm="batch")).tiling_note is None


def test_paper_mode_refuses_tiles_for_batch_norm_and_nothing_is_written(tmp_path):
    src = tmp_path / "in"
    write_image(src / "a.png", np.zeros((80, 80, 3)))
    t = translator(create_generator("resnet_6blocks", ngf=4, norm="batch"), mode="paper")
    with pytest.raises(TranslateError, match="--test-mode eval"):
        translate_folder(t, src, tmp_path / "out", tile=64, tile_overlap=16, progress=False)
    assert not (tmp_path / "out").exists()


def test_folder_tiles_only_large_images_writes_from_a_thread_and_repeats_its_bytes(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    src = tmp_path / "in"
    write_image(src / "big.png", blocky_image(rng, 200)[:, :150])
    write_image(src / "small.png", blocky_image(rng, 48))
    net = init_unit_scale(ResnetGenerator(3, 3, ngf=4, norm="batch", n_blocks=1))
    t = translator(net)
    threads = []
    write = folders.write_image
    monkeypatch.setattr(folders, "write_image",
                        lambda *a, **k: threads.append(threading.current_thread().name) or write(*a, **k))
    for run in ("tiled", "again"):
        summary = translate_folder(t, src, tmp_path / run, tile=64, tile_overlap=16, progress=False, num_workers=0)
        assert summary.translated == 2
    assert threads and threading.main_thread().name not in threads
    # reader processes hand images over in shared memory: the same bytes, errors reported the same way
    (src / "broken.png").write_bytes(b"not a png")
    summary = translate_folder(t, src, tmp_path / "readers", tile=64, tile_overlap=16, progress=False, num_workers=2)
    assert summary.translated == 2 and "broken.png" in summary.failures[0]
    for name in ("big.png", "small.png"):
        assert (tmp_path / "readers" / name).read_bytes() == (tmp_path / "tiled" / name).read_bytes()
    translate_folder(t, src, tmp_path / "whole", progress=False, num_workers=0)
    for name in ("big.png", "small.png"):
        assert (tmp_path / "tiled" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    assert (tmp_path / "tiled" / "small.png").read_bytes() == (tmp_path / "whole" / "small.png").read_bytes()
    # the big image went in tiles, quantised as it was blended: the same samples as writing the float result
    expected = t.translate_tiled(read_image(src / "big.png"), t.tiling(64, 16), batch_size=4)
    assert np.array_equal(read_image(tmp_path / "tiled" / "big.png"), np.round(expected * 255) / np.float32(255))


def test_a_failed_write_stops_the_run_with_its_error_and_leaves_no_temporary_file(tmp_path):
    src = tmp_path / "in"
    for name in ("a", "b", "c"):
        write_image(src / f"{name}.png", np.zeros((16, 16, 3)))
    out = tmp_path / "out"
    (out / "b.png").mkdir(parents=True)  # an output path that cannot be replaced by a file
    t = translator(create_generator("resnet_6blocks", ngf=4, norm="instance"))
    with pytest.raises(IsADirectoryError):
        translate_folder(t, src, out, overwrite=True, batch_size=1, progress=False, num_workers=0)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_cli_tiles_and_refuses_what_does_not_go_with_them(tmp_path, capsys):
    checkpoint = tmp_path / "net.pth"  # an official-format state dict: pix2pix's U-Net, batch norm
    torch.save(create_generator("unet_64", ngf=4, norm="batch", dropout=True).state_dict(), checkpoint)
    src = tmp_path / "in"
    write_image(src / "a.png", blocky_image(np.random.default_rng(0), 200))
    base = ["translate", str(checkpoint), str(src), "--netG", "unet_64", "--ngf", "4", "--no-progress"]
    for extra, message in ((["--tile-overlap", "8"], "--tile-overlap goes with --tile"),
                           (["--tile", "64", "--tile-overlap", "40"], "--tile-overlap 40: at most half"),
                           (["--tile", "64", "--to", "Young"], "--tile is for models that translate between two"),
                           (["--tile", "64", "--tile-overlap", "8", "--test-mode", "eval"], "size multiple (64 px)"),
                           (["--tile", "128"], "--test-mode eval")):  # official files default to paper mode
        assert main([*base, str(tmp_path / "refused"), *extra]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "refused").exists()
    assert main([*base, str(tmp_path / "out"), "--tile", "128", "--test-mode", "eval"]) == 0
    assert read_image(tmp_path / "out" / "a.png").shape == (200, 200, 3)


def test_tiling_a_unet_with_a_narrow_overlap_warns_and_a_resnet_does_not(tmp_path, capsys):
    src = tmp_path / "in"
    write_image(src / "a.png", blocky_image(np.random.default_rng(0), 160))
    for net in ("unet_64", "resnet_6blocks"):  # official-format state dicts, read in eval mode
        torch.save(create_generator(net, ngf=4, norm="batch", dropout=True).state_dict(), tmp_path / f"{net}.pth")
    base = ["translate", "--netG", "unet_64", "--ngf", "4", "--no-progress", "--test-mode", "eval",
            "--tile", "128", str(tmp_path / "unet_64.pth"), str(src)]
    assert main([*base, str(tmp_path / "narrow"), "--tile-overlap", "16"]) == 0
    err = capsys.readouterr().err
    assert ("warning: unet_64 sees all of each tile, so its tiles differ from the whole image and a --tile-overlap "
            "of 16 px can leave a visible grid; use --tile-overlap 32 or more (up to 64)") in err
    assert main([*base, str(tmp_path / "wide"), "--tile-overlap", "32"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["translate", "--netG", "resnet_6blocks", "--ngf", "4", "--no-progress", "--test-mode", "eval",
                 "--tile", "64", "--tile-overlap", "8", str(tmp_path / "resnet_6blocks.pth"), str(src),
                 str(tmp_path / "resnet")]) == 0
    assert "warning" not in capsys.readouterr().err
