import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from translation.data.arrays import resize
from translation.data.datasets import DataSetError
from translation.data.image_sets import BUILTIN_SETS, builtin_set, open_image_set
from translation.data.io import ImageReadError, write_image


@pytest.fixture(scope="module")
def sklearn_digits():
    from sklearn.datasets import load_digits

    return load_digits()


def level_image(level: float, height: int = 12, width: int = 12) -> np.ndarray:
    return np.full((height, width, 3), level, dtype=np.float32)


def make_class_folders(root, classes=("cat", "dog"), counts=(3, 2)):
    """root/<class>/*.png with one grey level per class, so a label can be checked against its pixels."""
    for k, (name, count) in enumerate(zip(classes, counts)):
        for i in range(count):
            write_image(root / name / f"{i}.png", level_image(0.2 + 0.6 * k))
    return root


def no_network(monkeypatch):
    """Every download fails at once, as on a machine without network access (nothing leaves this one)."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network disabled in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def write_idx(path, array: np.ndarray):
    """A uint8 file in MNIST's IDX format (magic 0 0 8 ndim, big-endian sizes, the bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_mnist_files(root, folder="MNIST", n=6):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    for split in ("train", "t10k"):
        write_idx(root / folder / "raw" / f"{split}-images-idx3-ubyte", images)
        write_idx(root / folder / "raw" / f"{split}-labels-idx1-ubyte", labels)
    return images, labels


# --------------------------------------------------------------------------- digits


def test_digits_all_1797_with_their_labels(sklearn_digits):
    ds = open_image_set("digits", 28, labels=True)
    assert len(ds) == 1797 and ds.classes == [str(d) for d in range(10)] and ds.channels == 1 and ds.shuffle
    assert np.array_equal(ds.labels, sklearn_digits.target) and set(ds.labels) == set(range(10))
    batch = next(iter(DataLoader(ds, batch_size=1797)))
    assert batch["image"].shape == (1797, 1, 28, 28) and batch["image"].dtype == torch.float32
    assert batch["label"].dtype == torch.int64 and torch.equal(batch["label"], torch.from_numpy(ds.labels))
    assert batch["image"].min() == -1 and batch["image"].max() > 0.99 and batch["image"].max() <= 1
    assert batch["path"][17] == "digits[17]" and ds.notes == []


@pytest.mark.parametrize("size", [28, 32, 64])
def test_digits_are_the_sklearn_digits_enlarged_with_a_margin(sklearn_digits, size):
    ds = open_image_set("digits", size)
    for i in (0, 5, 1000):
        image = ds[i]["image"]
        assert image.shape == (1, size, size)
        back = resize((image[0].numpy()[:, :, None] + 1) / 2, 10, 10)[:, :, 0]  # shrink to the 8×8 + margin
        original = np.pad(sklearn_digits.images[i] / 16.0, 1)
        assert np.abs(back - original).mean() < 0.06  # same digit, same way up, not mirrored
        assert np.abs(back - original[:, ::-1]).mean() > 2 * np.abs(back - original).mean()
        edge = np.concatenate([image[0, 0], image[0, -1], image[0, :, 0], image[0, :, -1]])
        assert edge.max() < -0.9  # the margin: strokes stay off the frame


def test_digits_as_three_channels_and_unlabelled():
    ds = open_image_set("digits", 32, channels=3)
    image = ds[3]["image"]
    assert ds.channels == 3 and image.shape == (3, 32, 32)
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    assert torch.equal(image[0], open_image_set("digits", 32)[3]["image"][0])
    assert ds.classes == [] and ds[3]["label"].item() == -1 and set(ds.labels) == {-1}


def test_builtin_sets():
    assert BUILTIN_SETS == ("digits", "mnist", "fashion-mnist", "cifar10")
    assert [builtin_set(n) for n in ("Digits", "MNIST", "fashion_mnist", "FashionMNIST", "cifar-10")] == \
        ["digits", "mnist", "fashion-mnist", "fashion-mnist", "cifar10"]
    assert builtin_set("data/mnist") is None and builtin_set("celeba") is None


def test_a_folder_named_like_a_builtin_set_wins_and_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "digits" / "a.png", level_image(0.5))
    ds = open_image_set("digits", 16)
    assert len(ds) == 1 and ds.channels == 3 and ds.paths == ["digits/a.png"]
    assert any("not the built-in digits data set" in note for note in ds.notes)
    (tmp_path / "mnist").mkdir()  # an empty folder still wins, and its error says why the built-in was not read
    with pytest.raises(DataSetError, match="mnist: no images in it .*not the built-in mnist data set"):
        open_image_set("mnist", 16)


def test_unknown_names_and_non_folders(tmp_path):
    with pytest.raises(DataSetError, match="no such folder, and not a built-in data set \\(digits, mnist, "):
        open_image_set(str(tmp_path / "missing"), 32)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataSetError, match="not a folder"):
        open_image_set(str(tmp_path / "x.txt"), 32)


def test_options_are_checked():
    for kwargs, message in (({"image_size": 0}, "image_size"), ({"image_size": 8, "channels": 4}, "channels"),
                            ({"image_size": 8, "max_dataset_size": -1}, "max_dataset_size")):
        with pytest.raises(ValueError, match=message):
            open_image_set("digits", **kwargs)


# --------------------------------------------------------------------------- folders


def test_flat_folder_is_unconditional_and_notes_other_files(tmp_path):
    write_image(tmp_path / "a.png", level_image(0.25))
    write_image(tmp_path / "b.jpg", level_image(0.75))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".DS_Store").write_text("hidden: ignored")
    ds = open_image_set(tmp_path, 8)
    assert len(ds) == 2 and ds.classes == [] and ds.channels == 3
    item = ds[0]
    assert item["image"].shape == (3, 8, 8) and item["label"].item() == -1 and item["path"].endswith("a.png")
    assert torch.allclose(item["image"], torch.full((3, 8, 8), -0.5), atol=0.01)
    assert ds.notes == ["skipped 1 file that is not an image (notes.txt)"]
    with pytest.raises(DataSetError, match="class labels were asked for, but its images are not in sub-folders"):
        open_image_set(tmp_path, 8, labels=True)


def test_class_folders_give_sorted_classes_and_their_indices(tmp_path):
    make_class_folders(tmp_path, classes=("dog", "cat"), counts=(2, 3))  # dog darker, cat lighter
    write_image(tmp_path / "cat" / "more" / "deep.png", level_image(0.8))  # deeper still the class's
    write_image(tmp_path / "loose.png", level_image(0.5))
    (tmp_path / "empty").mkdir()
    (tmp_path / "dog" / "readme.md").write_text("x")
    ds = open_image_set(tmp_path, 8, labels=True)
    assert ds.classes == ["cat", "dog"] and len(ds) == 6
    assert list(ds.labels) == [0, 0, 0, 0, 1, 1]
    for i in range(len(ds)):
        item = ds[i]
        level = item["image"].mean().item() / 2 + 0.5
        assert item["path"].split("/")[-2] in (ds.classes[item["label"]], "more")
        assert abs(level - (0.8 if item["label"] == 0 else 0.2)) < 0.01
    notes = " | ".join(ds.notes)
    assert "skipped 1 file that is not an image (dog/readme.md)" in notes
    assert "1 image(s) in" in notes and "loose.png" in notes and "not classes: empty" in notes

    unconditional = open_image_set(tmp_path, 8)  # every image, the loose one too, no labels
    assert len(unconditional) == 7 and unconditional.classes == [] and set(unconditional.labels) == {-1}


def test_one_class_folder_is_not_enough_for_labels(tmp_path):
    make_class_folders(tmp_path, classes=("cat",), counts=(2,))
    with pytest.raises(DataSetError, match=r"one class sub-folder \(cat/\)"):
        open_image_set(tmp_path, 8, labels=True)
    assert len(open_image_set(tmp_path, 8)) == 2


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(DataSetError, match="no images in it or its sub-folders"):
        open_image_set(tmp_path, 8)


def test_folder_images_are_the_centre_square_resized(tmp_path):
    image = np.zeros((20, 40, 3), np.float32)
    image[:, 10:30] = 1.0  # white centre square between black side bands
    image[:, 10:20, 0] = 0.0  # its left half cyan, the right half white: which way round is checked
    write_image(tmp_path / "wide.png", image)
    out = (open_image_set(tmp_path, 10)[0]["image"] + 1) / 2
    assert out.shape == (3, 10, 10)
    assert torch.allclose(out[1:], torch.ones(2, 10, 10), atol=0.02)  # no black band survives
    assert out[0, :, :4].max() < 0.05 and out[0, :, 6:].min() > 0.95
    gray = open_image_set(tmp_path, 10, channels=1)[0]["image"]
    assert gray.shape == (1, 10, 10)
    assert abs((gray[0, 5, 0].item() + 1) / 2 - (0.587 + 0.114)) < 0.02  # luminance of cyan


def test_an_unreadable_file_is_an_error_naming_it_when_read(tmp_path):
    write_image(tmp_path / "good.png", level_image(0.5))
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    ds = open_image_set(tmp_path, 8)
    with pytest.raises(ImageReadError, match="bad.png"):
        ds[0]
    assert ds[1]["image"].shape == (3, 8, 8)


def test_max_dataset_size_takes_every_class_in_turn(tmp_path):
    make_class_folders(tmp_path, classes=("a", "b", "c"), counts=(4, 1, 3))
    ds = open_image_set(tmp_path, 8, labels=True, max_dataset_size=4)
    assert list(ds.labels) == [0, 0, 1, 2]
    assert [p.split("/")[-1] for p in ds.paths] == ["0.png", "1.png", "0.png", "0.png"]
    assert len(open_image_set(tmp_path, 8, max_dataset_size=3)) == 3
    assert len(open_image_set(tmp_path, 8, max_dataset_size=100)) == 8

    digits = open_image_set("digits", 16, labels=True, max_dataset_size=30)
    assert len(digits) == 30 and np.bincount(digits.labels).tolist() == [3] * 10
    first = open_image_set("digits", 16, max_dataset_size=5)
    assert first.paths == [f"digits[{i}]" for i in range(5)] and len(first.labels) == 5


def test_items_are_reproducible_and_flip_only_when_asked(tmp_path):
    image = np.zeros((8, 8, 3), np.float32)
    image[:, :4] = 1.0  # left half white
    write_image(tmp_path / "half.png", image)
    plain = open_image_set(tmp_path, 8)
    assert all(torch.equal(plain[(0, seed)]["image"], plain[0]["image"]) for seed in range(20))
    assert torch.equal(open_image_set(tmp_path, 8)[0]["image"], plain[0]["image"])  # a second open too

    flipping = open_image_set(tmp_path, 8, flip=True)
    flipped = [not torch.equal(flipping[(0, seed)]["image"], plain[0]["image"]) for seed in range(20)]
    assert 0 < sum(flipped) < 20
    for seed in range(20):
        again = flipping[(0, seed)]["image"]
        assert torch.equal(again, flipping[(0, seed)]["image"])
        assert torch.equal(again, plain[0]["image"].flip(-1) if flipped[seed] else plain[0]["image"])


# --------------------------------------------------------------------------- torchvision sets


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"),
                                          ("cifar10", "cifar-10-batches-py")])
def test_a_failed_download_is_one_clear_line(tmp_path, monkeypatch, name, folder):
    no_network(monkeypatch)
    with pytest.raises(DataSetError) as error:
        open_image_set(name, 32, root=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{name}: not in {tmp_path / folder}/ and the download failed (")
    assert "network disabled in this test" in message
    assert f"copy torchvision's {folder}/ folder into {tmp_path}/" in message


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_files_already_there_are_read_offline(tmp_path, monkeypatch, name, folder):
    images, labels = make_mnist_files(tmp_path, folder)
    no_network(monkeypatch)
    ds = open_image_set(name, 28, labels=True, root=tmp_path)
    assert len(ds) == 6 and ds.channels == 1 and list(ds.labels) == list(labels)
    assert len(ds.classes) == 10 and (ds.classes[3] == "3" if name == "mnist" else ds.classes[1] == "Trouser")
    item = ds[2]
    assert item["path"] == f"{name}[2]" and item["label"].item() == 2
    assert torch.allclose(item["image"][0], torch.from_numpy(images[2] / 127.5 - 1).float(), atol=1e-6)
    enlarged = open_image_set(name, 32, channels=3, root=tmp_path)[2]["image"]
    assert enlarged.shape == (3, 32, 32) and enlarged.min() >= -1 and enlarged.max() <= 1
