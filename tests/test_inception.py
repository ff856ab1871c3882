"""The FID Inception against pytorch-fid (a test-only dependency), on a weights file of the real format with
random values: the same features and statistics, each reading the other's .npz (pytorch-fid's FID is its
formula on those statistics, which test_metric_formulas.py holds equal to ours; its 2048-d matrix square root
runs once in the suite, in test_evaluate.py); weights lookup, SHA-256 check, download into the hub cache, the
feature cache. Nothing is downloaded from the internet."""
from __future__ import annotations

import hashlib
import os
import shutil

import numpy as np
import pytest
import torch
from translation.data.io import write_image
from translation.metrics import weights
from translation.metrics.cache import cached_folder_features
from translation.metrics.features import NoImagesError, check_comparable, folder_features
from translation.metrics.inception import load_inception
from translation.metrics.stats import load_stats, save_stats, statistics
from translation.metrics.weights import InceptionWeightsError, InceptionWeightsNotFound, find_inception_weights

from test_download import cli, server  # noqa: F401  (server: the local HTTP server fixture on 127.0.0.1)

pytest.importorskip("pytorch_fid")  # a test-only dependency (setup.cfg: the test extra)
from pytorch_fid import fid_score
from pytorch_fid import inception as pf_inception

N = 20  # images per folder: Inception on a CPU is ~0.2 s per image


def relative(ours, theirs) -> float:
    """Largest difference relative to the largest magnitude of the reference."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def fid(features_1, features_2) -> float:
    """FID by its definition, exactly and fast when there are fewer images than dimensions: with X the
    centred features over sqrt(N - 1), sigma = X^T X, and the trace of sqrtm(sigma_1 sigma_2) is the sum of
    the singular values of X_1 X_2^T (N_1 x N_2) instead of a 2048 x 2048 matrix square root."""
    x1, x2 = ((f - f.mean(axis=0)) / np.sqrt(len(f) - 1) for f in (features_1, features_2))
    mean_gap = features_1.mean(axis=0) - features_2.mean(axis=0)
    cross = np.linalg.svd(x1 @ x2.T, compute_uv=False).sum()
    return float(mean_gap @ mean_gap + (x1 ** 2).sum() + (x2 ** 2).sum() - 2 * cross)


def make_folder(root, seed: int, n: int = N, dark: bool = False):
    """64x48 pictures with structure (colour blocks over a gradient), so that features vary between images."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, 64, dtype=np.float32)[None, :, None]
    for i in range(n):
        blocks = np.kron(rng.random((3, 4, 3), dtype=np.float32), np.ones((16, 16, 1), np.float32))
        image = 0.6 * blocks + 0.4 * ramp * rng.random(3, dtype=np.float32)
        write_image(root / f"{i:03d}.png", image * (0.5 if dark else 1.0))
    return root


@pytest.fixture(scope="module")
def setup(tmp_path_factory, inception_weights):
    """Random weights in the real file's format, two folders, our features of both (A through the cache)."""
    root = tmp_path_factory.mktemp("inception")
    a, b = make_folder(root / "a", seed=1), make_folder(root / "b", seed=2, dark=True)
    model = load_inception(inception_weights)
    ours_a = cached_folder_features(a, model, batch_size=10, cache_dir=root / "cache")
    ours_b = folder_features(b, model, batch_size=10)
    return {"root": root, "weights": inception_weights, "a": a, "b": b, "model": model, "ours_a": ours_a,
            "ours_b": ours_b}


def pytorch_fid_on_random_weights(monkeypatch, weights_file):
    """pytorch-fid builds its network from our file instead of downloading the real one."""
    def load(url, *args, **kwargs):
        assert url == weights.URL  # the file pytorch-fid would fetch is the one we stand in for
        return torch.load(weights_file, map_location="cpu", weights_only=True)

    monkeypatch.setattr(pf_inception, "load_state_dict_from_url", load)


@pytest.fixture(scope="module")
def theirs_a(setup):
    """pytorch-fid's Inception on folder A, run once: the activations it computes (kept on their way, the real
    function runs) and the .npz its save_fid_stats writes from them."""
    path, kept = setup["root"] / "theirs_a.npz", []
    get_activations = fid_score.get_activations

    def keep(*args, **kwargs):
        kept.append(get_activations(*args, **kwargs))
        return kept[-1]

    with pytest.MonkeyPatch.context() as monkeypatch:
        pytorch_fid_on_random_weights(monkeypatch, setup["weights"])
        monkeypatch.setattr(fid_score, "get_activations", keep)
        fid_score.save_fid_stats([str(setup["a"]), str(path)], batch_size=10, device="cpu", dims=2048,
                                 num_workers=0)
    (activations,) = kept
    return {"activations": activations, "npz": path}


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv(weights.ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    assert torch.hub.get_dir().startswith(str(tmp_path))  # nothing has fixed the hub dir elsewhere
    return tmp_path


# --------------------------------------------------------------------------- parity with pytorch-fid


def test_features_equal_pytorch_fids(setup, theirs_a):
    ours = setup["ours_a"]
    assert [setup["a"] / f for f in ours.files] == sorted(setup["a"].glob("*.png"))  # pytorch-fid's order
    assert ours.features.shape == (N, 2048) and ours.features.dtype == np.float64
    assert np.isfinite(ours.features).all() and ours.features.std(axis=0).mean() > 1e-3  # not degenerate
    assert relative(ours.features, theirs_a["activations"]) < 1e-4


def test_pytorch_fid_reads_our_npz(setup):
    ours_b = save_stats(setup["root"] / "ours_b.npz", setup["ours_b"].features, setup["ours_b"].protocol)
    # calculate_fid_given_paths([A, our .npz]) hands its Frechet distance (the formula test_metric_formulas.py
    # holds equal to ours) A's statistics, equal to ours (next test), and our file's, read exactly
    mu_b, sigma_b = fid_score.compute_statistics_of_path(str(ours_b.path), None, 10, 2048, "cpu", 0)
    assert np.array_equal(mu_b, ours_b.mu) and np.array_equal(sigma_b, ours_b.sigma)
    assert fid(setup["ours_a"].features, setup["ours_b"].features) > 1.0  # two different sets: well away from 0


def test_we_read_pytorch_fids_npz(setup, theirs_a):
    theirs = load_stats(theirs_a["npz"])
    mu, sigma = statistics(setup["ours_a"].features)
    assert theirs.protocol == {} and theirs.features is None and theirs.sigma.dtype == np.float64
    assert relative(mu, theirs.mu) < 1e-4 and relative(sigma, theirs.sigma) < 1e-4
    check_comparable(setup["ours_a"].protocol, theirs.protocol)  # a pytorch-fid file counts as its protocol


def test_stats_file_keeps_features_and_protocol(setup, tmp_path):
    saved = save_stats(tmp_path / "s.npz", setup["ours_a"].features, setup["ours_a"].protocol, keep_features=True)
    back = load_stats(tmp_path / "s.npz")
    assert back.mu.dtype == np.float64 and back.sigma.shape == (2048, 2048) and back.count == N
    assert np.array_equal(back.features, setup["ours_a"].features) and back.protocol["resize"] == "pytorch-fid"
    assert np.array_equal(back.sigma, saved.sigma)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="has no mu and sigma"):
        load_stats(tmp_path / "other.npz")


def test_logits_are_the_1008_classifier_outputs(setup):
    out = setup["ours_a"]
    state = torch.load(setup["weights"], map_location="cpu", weights_only=True)
    weight, bias = (state[k].double().numpy() for k in ("fc.weight", "fc.bias"))
    assert out.logits.shape == (N, 1008)
    assert relative(out.logits_unbiased, out.features @ weight.T) < 1e-5
    assert relative(out.logits, out.features @ weight.T + bias) < 1e-5


# --------------------------------------------------------------------------- the weights file


def test_sha256_in_the_name_is_checked(setup, tmp_path):
    fake = tmp_path / weights.FILE_NAME
    fake.write_bytes(b"not the weights")
    with pytest.raises(InceptionWeightsError, match="SHA-256 is .*but the name says 6726825d") as error:
        load_inception(fake)
    assert "translation download inception-weights" in str(error.value)
    digest = hashlib.sha256(setup["weights"].read_bytes()).hexdigest()
    right = tmp_path / f"random_inception-{digest[:8]}.pth"
    os.link(setup["weights"], right)
    model = load_inception(right)
    assert model.weights_sha256 == digest and not model.standard


def test_not_a_weights_file(tmp_path):
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(InceptionWeightsError, match="not the FID Inception weights file: 4[0-9]{2} keys missing"):
        load_inception(tmp_path / "other.pth")


def test_weights_lookup_order(setup, no_weights_anywhere, monkeypatch):
    with pytest.raises(InceptionWeightsNotFound) as error:
        find_inception_weights()
    message = str(error.value)
    hub = no_weights_anywhere / "torch" / "hub" / "checkpoints" / weights.FILE_NAME
    for needed in (str(hub), weights.URL, "translation download inception-weights", "--inception-weights",
                   weights.ENV):
        assert needed in message
    with pytest.raises(InceptionWeightsNotFound, match="--inception-weights .*missing.pth: no such file"):
        find_inception_weights(no_weights_anywhere / "missing.pth")
    hub.parent.mkdir(parents=True)
    os.link(setup["weights"], hub)
    assert find_inception_weights() == hub  # the hub cache, where pytorch-fid keeps it
    monkeypatch.setenv(weights.ENV, str(setup["weights"]))
    assert find_inception_weights() == setup["weights"]  # the variable before the cache
    assert find_inception_weights(hub) == hub  # the option before the variable


def test_download_into_the_hub_cache(setup, no_weights_anywhere, server, monkeypatch, capsys):  # noqa: F811
    data = setup["weights"].read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    # The random file stands in for the real one: its name and digest replace the real file's.
    monkeypatch.setattr(weights, "FILE_NAME", f"pt_inception-test-{digest[:8]}.pth")
    monkeypatch.setattr(weights, "SHA256", digest)
    monkeypatch.setattr("translation.data.download.time.sleep", lambda seconds: None)
    server.files["/w.pth"], server.files["/bad.pth"] = data, data[:-1] + b"x"
    server.drop["/w.pth"] = 1  # cut half-way: resumed
    assert cli("inception-weights", "--url", server.url("/w.pth")) == 0
    hub = no_weights_anywhere / "torch" / "hub" / "checkpoints" / weights.FILE_NAME
    assert hub.read_bytes() == data and digest in capsys.readouterr().out
    assert load_inception().weights_path == hub  # found there without being told
    assert cli("inception-weights", "--url", server.url("/w.pth")) == 0
    assert "already present" in capsys.readouterr().out

    monkeypatch.setenv("TORCH_HOME", str(no_weights_anywhere / "other"))
    assert cli("inception-weights", "--url", server.url("/bad.pth")) == 1
    assert "SHA-256" in capsys.readouterr().err
    assert not [p for p in (no_weights_anywhere / "other").rglob("*") if p.is_file()]


def test_download_is_listed(capsys):
    assert cli("--list") == 0
    assert "inception-weights" in capsys.readouterr().out


# --------------------------------------------------------------------------- folders and the cache


def test_second_run_reuses_the_cache(setup, monkeypatch):
    first = setup["ours_a"]
    assert not first.from_cache and first.cache_path.parent == setup["root"] / "cache"

    def no_network(*args, **kwargs):
        raise AssertionError("the network ran although the features were cached")

    monkeypatch.setattr(type(setup["model"]), "forward", no_network)
    again = cached_folder_features(setup["a"], setup["model"], batch_size=10, cache_dir=setup["root"] / "cache")
    assert again.from_cache and "reused from the cache" in again.summary()
    assert np.array_equal(again.features, first.features) and again.files == first.files


def test_changed_content_misses_the_cache(setup, tmp_path):
    folder = tmp_path / "few"
    folder.mkdir()
    for name in ("000.png", "001.png"):
        shutil.copy2(setup["a"] / name, folder / name)
    cache = tmp_path / "cache"
    first = cached_folder_features(folder, setup["model"], cache_dir=cache)
    assert not first.from_cache and cached_folder_features(folder, setup["model"], cache_dir=cache).from_cache
    # Same size and mtime, other bytes: a stat-based key would be fooled.
    stat = (folder / "001.png").stat()
    (folder / "001.png").write_bytes((setup["a"] / "002.png").read_bytes()[:stat.st_size].ljust(stat.st_size, b"\0"))
    os.utime(folder / "001.png", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert not cached_folder_features(folder, setup["model"], cache_dir=cache).from_cache


def test_mixed_sizes_modes_and_unreadable_files(setup, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(5)
    rgb = (rng.random((40, 30, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a_rgb.png")
    Image.fromarray(np.dstack([rgb, np.full((40, 30), 7, np.uint8)])).save(tmp_path / "b_rgba.png")  # alpha dropped
    Image.fromarray(rgb[:, :, 0]).save(tmp_path / "c_gray.png")
    Image.fromarray(rgb).resize((70, 50)).convert("P").save(tmp_path / "d_palette.png")
    (tmp_path / "e_broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (tmp_path / "notes.txt").write_text("not an image")
    result = folder_features(tmp_path, setup["model"], batch_size=3)
    assert [p.name for p in result.files] == ["a_rgb.png", "b_rgba.png", "c_gray.png", "d_palette.png"]
    assert [p.name for p, _ in result.skipped] == ["e_broken.png"] and "e_broken.png" in result.summary()
    assert np.isfinite(result.features).all()
    assert relative(result.features[1], result.features[0]) < 1e-6  # RGBA read as pytorch-fid does: alpha dropped


def test_empty_and_unreadable_folders(setup, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoImagesError, match="empty holds no images"):
        folder_features(tmp_path / "empty", setup["model"])
    (tmp_path / "nested" / "inner").mkdir(parents=True)
    shutil.copy(setup["a"] / "000.png", tmp_path / "nested" / "inner")
    with pytest.raises(NoImagesError, match="its subfolders do") as refused:
        folder_features(tmp_path / "nested", setup["model"])
    assert "recursive" not in str(refused.value)  # no command offers that: the hint names only what exists
    assert len(folder_features(tmp_path / "nested", setup["model"], recursive=True)) == 1
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"junk")
    with pytest.raises(NoImagesError, match="none of its 1 images could be read"):
        folder_features(tmp_path / "broken", setup["model"])


def test_clean_resize_and_bf16_are_labelled(setup, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("000.png", "001.png"):
        shutil.copy(setup["a"] / name, folder / name)
    reference = setup["ours_a"].features[:2]
    clean = folder_features(folder, setup["model"], resize="clean")
    assert clean.protocol["resize"] == "clean" and "clean resize" in clean.summary()
    assert 1e-4 < relative(clean.features, reference) < 0.5  # another resize: close, not equal
    with pytest.raises(ValueError, match="resize pytorch-fid but .* resize clean"):
        check_comparable(setup["ours_a"].protocol, clean.protocol)
    half = folder_features(folder, setup["model"], precision="bf16")
    assert "bf16" in half.summary() and relative(half.features, reference) < 0.05
    with pytest.raises(ValueError, match="precision"):
        check_comparable(setup["ours_a"].protocol, half.protocol)
