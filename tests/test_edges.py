"""translation.data.edges: black-on-white edge maps, and the kornia path matching NumPy."""
import numpy as np
import pytest
import torch

from translation.data.edges import canny_edges, hed_like_edges


def square(size=48, noise=0.0, seed=0):
    """A white square on black, optionally noisy: its outline is the only real edge."""
    img = np.zeros((size, size, 3), np.float32)
    img[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 1.0
    if noise:
        img += np.random.default_rng(seed).normal(0, noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)


def near_outline(mask, size=48, margin=2):
    lo, hi = size // 4, 3 * size // 4
    ys, xs = np.nonzero(mask)
    on_ring = (
        ((np.abs(ys - lo) <= margin) | (np.abs(ys - hi) <= margin) | (np.abs(xs - lo) <= margin) | (np.abs(xs - hi) <= margin))
        & (ys >= lo - margin) & (ys <= hi + margin) & (xs >= lo - margin) & (xs <= hi + margin)
    )
    return on_ring.mean() if len(ys) else 0.0


@pytest.mark.parametrize("fn", [canny_edges, hed_like_edges])
def test_black_lines_on_white_along_the_outline(fn):
    out = fn(square())
    assert out.shape == (48, 48, 1) and out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, 1.0}
    lines = out[..., 0] < 0.5
    assert out.mean() > 0.8  # mostly white
    assert near_outline(lines) == 1.0
    # Each side of the square is found along most of its length.
    assert lines[12 - 2 : 12 + 3, 14:34].any(axis=0).mean() > 0.9


@pytest.mark.parametrize("fn", [canny_edges, hed_like_edges])
def test_flat_image_has_no_edges_and_gray_input_works(fn):
    assert (fn(np.full((20, 24, 3), 0.4, np.float32)) == 1.0).all()
    assert fn(square()[..., :1]).shape == (48, 48, 1)


def test_hed_like_lines_are_thin():
    lines = hed_like_edges(square())[..., 0] < 0.5
    # Thinning: no 2x2 block is entirely on.
    blocks = lines[:-1, :-1] & lines[1:, :-1] & lines[:-1, 1:] & lines[1:, 1:]
    assert not blocks.any()


def test_hed_like_threshold_and_small_components():
    img = np.zeros((40, 40, 1), np.float32)
    img[10:30, 10:30] = 0.05  # contrast 0.05 < 25/255: below the threshold
    assert (hed_like_edges(img) == 1.0).all()
    img[10:30, 10:30] = 0.5
    assert (hed_like_edges(img) == 0.0).any()
    dots = np.zeros((40, 40, 1), np.float32)
    dots[20, 20] = 1.0  # a single bright pixel: a ring under 5 px after thinning? must be gone
    kept = hed_like_edges(dots, min_component=5)
    loose = hed_like_edges(dots, min_component=0)
    assert (loose == 0.0).any()  # there is something to remove ...
    assert (kept == 1.0).all()  # ... and it is removed


def test_kornia_path_matches_numpy_on_cpu_tensors():
    rng = np.random.default_rng(1)
    images = [square(noise=0.05, seed=s) for s in range(3)] + [rng.random((48, 48, 3), dtype=np.float32)]
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    out = hed_like_edges(batch)
    assert isinstance(out, torch.Tensor) and out.shape == (4, 1, 48, 48)
    for img, t in zip(images, out):
        ref = hed_like_edges(img)[..., 0]
        assert (t[0].numpy() != ref).mean() < 0.005  # float ties at the threshold only
    single = hed_like_edges(batch[0])
    assert single.shape == (1, 48, 48)
    via_device = hed_like_edges(images[0], device="cpu")
    assert via_device.shape == (48, 48, 1) and isinstance(via_device, np.ndarray)
    assert (via_device != hed_like_edges(images[0])).mean() < 0.005


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    img = square(noise=0.05)
    gpu = hed_like_edges(torch.from_numpy(img).permute(2, 0, 1).cuda())
    assert gpu.is_cuda
    assert (gpu[0].cpu().numpy() != hed_like_edges(img)[..., 0]).mean() < 0.005
