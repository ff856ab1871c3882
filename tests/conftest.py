"""Shared test helpers: tiny generated data sets and tiny configs (CPU, 32 px, ngf 8)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from translation.data.io import write_image

REPO = Path(__file__).resolve().parents[1]
# Data made with the official implementations (README.json says how), kept in the repository so every clone
# runs the parity tests; TRANSLATION_FIXTURES points elsewhere to check other files.
FIXTURES = Path(os.environ.get("TRANSLATION_FIXTURES", REPO / "tests" / "fixtures" / "official"))
V1_FIXTURES = REPO / "tests" / "fixtures" / "v1"  # checkpoints written by format-1 code (make_v1_fixtures.py)


def blocky_image(rng: np.random.Generator, size: int, channels: int = 3) -> np.ndarray:
    """A few flat colour blocks: structure a tiny net can learn in a few steps."""
    cells = rng.random((4, 4, channels)).astype(np.float32)
    return np.kron(cells, np.ones((size // 4, size // 4, 1), np.float32))


def make_paired_set(root: Path, n: int = 8, size: int = 32, phase: str = "train", seed: int = 0) -> Path:
    """Aligned A|B files where B = 1 - A (a trivially learnable mapping)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        a = blocky_image(rng, size)
        write_image(root / phase / f"{i:03d}.png", np.concatenate([a, 1.0 - a], axis=1))
    return root


def tiny_pix2pix_config(data: Path, run_root: Path, **overrides):
    """The tiny pix2pix (tests/tiny_configs.py) on a 20-step run: logs every 5, draws and saves every 10."""
    from tiny_configs import tiny_options
    from translation.models.pix2pix import Pix2PixConfig

    values = dict(data=str(data), name="tiny", checkpoints_dir=str(run_root), **tiny_options("pix2pix"), steps=20,
                  log_every=5, image_every=10, save_every=10, seed=3)
    values.update(overrides)
    return Pix2PixConfig(**values)


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tests use tiny tensors: a second OpenMP thread only adds sync cost, and spins badly when another
    process (a DataLoader worker, a subprocess under test) shares the 2 cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """What the code caches (feature statistics, the digits classifier) goes to a folder of this test run,
    not the user's ~/.cache: tests start from nothing and leave nothing behind."""
    previous = os.environ.get("TRANSLATION_CACHE_DIR")
    os.environ["TRANSLATION_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("TRANSLATION_CACHE_DIR", None)
    else:
        os.environ["TRANSLATION_CACHE_DIR"] = previous


@pytest.fixture
def paired_set(tmp_path) -> Path:
    return make_paired_set(tmp_path / "data")


CELEBA_TEST_ATTRS = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Smiling", "Young")


def make_celeba_set(root: Path, n: int = 6, attrs=CELEBA_TEST_ATTRS, height: int = 48, width: int = 40,
                    image_dir: str = "images", seed: int = 0) -> Path:
    """A tiny CelebA: root/list_attr_celeba.txt (the official format, random ±1 values) and root/<image_dir>/."""
    rng = np.random.default_rng(seed)
    lines = [str(n), " ".join(attrs)]
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        write_image(root / image_dir / name, rng.random((height, width, 3)).astype(np.float32))
        lines.append(name + " " + " ".join(f"{v:2d}" for v in rng.choice([1, -1], size=len(attrs))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root


def make_domain_set(root: Path, domains=("angry", "happy", "sad"), n: int = 3, height: int = 48, width: int = 40,
                    split: str = "train", seed: int = 0) -> Path:
    """A tiny folder-per-domain set (the RaFD layout): root/<split>/<domain>/*.png, a grey level per domain."""
    rng = np.random.default_rng(seed)
    for k, domain in enumerate(domains):
        for i in range(n):
            level = (k + 1) / (len(domains) + 1) + rng.uniform(-0.05, 0.05, (height, width, 1))
            write_image(root / split / domain / f"{domain}_{i}.png", np.repeat(level, 3, axis=2).astype(np.float32))
    return root


def killed_mid_save(target: Path, size: int = 1000) -> Path:
    """The temporary file a process killed (kill -9) while atomically writing `target` leaves behind: written
    by a real process of this machine that has ended."""
    import subprocess
    import sys

    code = ("import os, sys\nfrom translation.utils.files import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(bytes(int(sys.argv[2])))\n"
            "    print(tmp, flush=True)\n"
            "    os._exit(9)  # no cleanup, as under kill -9\n")
    done = subprocess.run([sys.executable, "-c", code, str(target), str(size)], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert done.returncode == 9, done.stderr
    return Path(done.stdout.strip())
