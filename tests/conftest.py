"""Shared test helpers: tiny generated data sets and tiny configs (CPU, 32 px, ngf 8)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from slowest_first import (  # noqa: F401 (hooks)
    longest_first,
    pytest_configure,
    pytest_configure_node,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)

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
    """One thread per process: tests use tiny tensors, where a second OpenMP thread only adds sync cost, and
    `make test` runs two pytest workers on the 2 cores (pytest-xdist). This holds for torch and numpy's BLAS
    here and, through OMP_NUM_THREADS, for every process a test starts (a CLI run, torchrun's ranks; DataLoader
    workers take one thread anyway and mostly wait on a full queue): a test keeps one core busy while its
    process waits for the one it started. Tests that keep two processes computing are marked both_cores."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    previous = os.environ.get("OMP_NUM_THREADS")
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)
    _restore_env("OMP_NUM_THREADS", previous)


def _restore_env(name: str, previous: str | None) -> None:
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous


def _run_root(tmp_path_factory) -> Path:
    """The folder of this test run: under pytest-xdist, the one its workers share (each has a subfolder)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory):
    """What the code caches (feature statistics, the digits classifier) goes to a folder of this test run,
    not the user's ~/.cache: tests start from nothing and leave nothing behind. The workers of one run share
    it, so the digits classifier is trained once a run (the cache writes atomically, and its entries do not
    depend on who wrote them: no test asserts that something is computed rather than read back)."""
    previous = os.environ.get("TRANSLATION_CACHE_DIR")
    folder = _run_root(tmp_path_factory) / "cache"
    folder.mkdir(exist_ok=True)
    os.environ["TRANSLATION_CACHE_DIR"] = str(folder)
    yield
    _restore_env("TRANSLATION_CACHE_DIR", previous)


@pytest.fixture(scope="session")
def digits_classifier(tmp_path_factory, private_cache):
    """The digits classifier (~12 s to train), trained into the run's cache by the first worker to ask while
    the others wait to read it: `make test` hands out the longest tests first, and the ones that need it would
    otherwise train it on both workers at once."""
    import fcntl

    from translation.metrics.digits import digit_classifier

    with open(_run_root(tmp_path_factory) / "digits.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return digit_classifier()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory) -> Path:
    """A weights file of the FID Inception's format with random values (95 MB), written once per worker and
    read-only, so that no test can change what the others read."""
    import torch

    from translation.metrics.inception import random_weights

    path = tmp_path_factory.mktemp("inception") / "random_inception.pth"
    torch.save(random_weights(seed=0), path)
    path.chmod(0o444)
    return path


# --------------------------------------------------------------------------- two workers (pytest-xdist)

@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """`make test` runs `-n 2 --dist loadgroup`: each test goes to whichever worker is free, except that the
    tests of a file that share a module- or class-scoped fixture form one group, run by one worker, so that the
    fixture is built once, and so do the tests that need the digits classifier (else one worker would wait for
    the other to train it). The longest go first (slowest_first.py)."""
    for item in items:
        if item.get_closest_marker("xdist_group"):
            continue
        if any(defs[-1].scope in ("module", "class", "package") for defs in item._fixtureinfo.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
        elif "digits_classifier" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("digits_classifier"))
    yield  # pytest-xdist's hook appends "@group" to the grouped tests' ids
    # pytest 9.2 keeps a node's id in `_id`; pytest-xdist 3.8 still writes the grouped id to `_nodeid`, where it
    # is ignored and the groups silently split (pytest-xdist issue #1386): carry it over
    from _pytest.nodeid import NodeId

    for item in items:
        grouped = getattr(item, "_nodeid", None)
        if isinstance(grouped, str) and "@" in grouped and "@" not in item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(grouped)
    longest_first(items, config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    """A both_cores test (torchrun's two ranks, each computing) has the machine to itself: while it
    runs, from its fixtures' set-up to their teardown, the other workers wait between tests. A readers-writer
    lock on files the workers share: a gate, then the room, shared by ordinary tests, exclusive for both_cores;
    holding the gate while waiting for the room keeps new tests out, so the both_cores test cannot starve."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    import fcntl

    root = _run_root(item.config._tmp_path_factory)  # what the tmp_path_factory fixture returns
    exclusive = item.get_closest_marker("both_cores") is not None
    with open(root / "cores.gate", "a") as gate, open(root / "cores.room", "a") as room:
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(room, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        if not exclusive:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(room, fcntl.LOCK_UN)
            fcntl.flock(gate, fcntl.LOCK_UN)


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
