import random
import re

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from translation.data.datasets import DataSetError
from translation.data.io import read_image, write_image
from translation.names import STARGAN_CELEBA_ATTRS
from translation.data.labelled import LabelledDataset, describe_layout, open_labelled_set
from translation.data.prepare.domains import prepare_celeba

from conftest import CELEBA_TEST_ATTRS, make_celeba_set, make_domain_set


def attr_rows(root):
    """{file name: {attribute: ±1}} as written in root/list_attr_celeba.txt."""
    lines = (root / "list_attr_celeba.txt").read_text().splitlines()
    names = lines[1].split()
    return {f[0]: dict(zip(names, map(int, f[1:]))) for f in (line.split() for line in lines[2:])}


def write_attr_file(root, body, names=CELEBA_TEST_ATTRS[:3], count=None):
    lines = [str(count if count is not None else len(body)), " ".join(names)] + body
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root / "list_attr_celeba.txt"


# --------------------------------------------------------------------------- CelebA


def test_celeba_multi_hot_labels_for_the_chosen_attributes(tmp_path):
    make_celeba_set(tmp_path, n=6)
    ds = open_labelled_set(tmp_path, split="test", attrs=["Smiling", "Male"])
    assert describe_layout(tmp_path) == "celeba"
    assert ds.label_kind == "multi_label" and ds.domains == ["Smiling", "Male"] and ds.shuffle
    assert len(ds) == 6  # fewer than 1,999 lines: all test
    rows = attr_rows(tmp_path)
    for i in range(len(ds)):
        item = ds[i]
        values = rows[item["path"].rsplit("/", 1)[1]]
        expected = torch.tensor([values["Smiling"] == 1, values["Male"] == 1], dtype=torch.float32)
        assert torch.equal(item["label"], expected)
        assert item["label_index"].dtype == torch.int64 and item["label_index"].item() == -1
        assert item["A"].shape == (3, 128, 128) and item["A"].dtype == torch.float32
        assert -1 <= item["A"].min() and item["A"].max() <= 1
    assert {tuple(ds[i]["label"].tolist()) for i in range(6)} != {(0.0, 0.0)}  # the fixture varies


def test_celeba_default_attrs_are_stargans_and_img_align_celeba_is_found(tmp_path):
    make_celeba_set(tmp_path, n=3, image_dir="img_align_celeba")
    ds = open_labelled_set(tmp_path, split="test")
    assert ds.domains == STARGAN_CELEBA_ATTRS
    assert "img_align_celeba" in ds[0]["path"] and ds[0]["label"].shape == (5,)
    assert open_labelled_set(tmp_path, split="test", attrs="Male,Young").domains == ["Male", "Young"]


def test_celeba_split_is_the_official_shuffle(tmp_path):
    n = 2005
    (tmp_path / "images").mkdir()
    rng = np.random.default_rng(1)
    body = []
    for i in range(n):
        (tmp_path / "images" / f"{i:06d}.jpg").touch()  # building only checks that the files exist
        body.append(f"{i:06d}.jpg " + " ".join(f"{v:2d}" for v in rng.choice([1, -1], size=3)))
    write_attr_file(tmp_path, body)
    # the official data_loader.py, step by step
    with open(tmp_path / "list_attr_celeba.txt") as file:
        lines = [line.rstrip() for line in file][2:]
    state = random.getstate()
    random.seed(1234)
    random.shuffle(lines)
    random.setstate(state)
    official = {"test": [], "train": []}
    for i, line in enumerate(lines):
        official["test" if (i + 1) < 2000 else "train"].append(line.split())
    assert len(official["test"]) == 1999 and len(official["train"]) == n - 1999
    for split, expected in official.items():
        ds = open_labelled_set(tmp_path, split=split, attrs=["Brown_Hair", "Black_Hair"])
        assert [p.name for p in ds.files] == [fields[0] for fields in expected]
        wanted = np.array([[f[3] == "1", f[1] == "1"] for f in expected], dtype=np.float32)
        assert np.array_equal(ds.labels, wanted)
    first = open_labelled_set(tmp_path, split="train", attrs=["Blond_Hair"], max_dataset_size=4)
    assert [p.name for p in first.files] == [fields[0] for fields in official["train"][:4]]


def test_celeba_errors_name_the_file_and_line(tmp_path):
    make_celeba_set(tmp_path, n=3)
    attr_file = tmp_path / "list_attr_celeba.txt"
    with pytest.raises(DataSetError, match=re.escape(f"{attr_file}:2: no attribute Bald")) as error:
        open_labelled_set(tmp_path, split="test", attrs=["Male", "Bald"])
    assert ", ".join(CELEBA_TEST_ATTRS) in str(error.value)  # the valid names

    write_attr_file(tmp_path, ["000001.jpg 1 -1 1", "000002.jpg 1 -1"])
    with pytest.raises(DataSetError, match=re.escape(f"{attr_file}:4: 2 values for the 3 attributes")):
        open_labelled_set(tmp_path, split="test", attrs=["Male"])

    write_attr_file(tmp_path, ["000001.jpg 1 -1 1", "000002.jpg 1 -1 1", "000003.jpg 1 0 1"])
    with pytest.raises(DataSetError, match=re.escape(f"{attr_file}:5: '0' for Blond_Hair; values must be 1 or -1")):
        open_labelled_set(tmp_path, split="test", attrs=["Black_Hair"])

    write_attr_file(tmp_path, ["000001.jpg 1 -1 1"], count=202599)  # a truncated file is worth a note
    assert open_labelled_set(tmp_path, split="test", attrs=["Black_Hair"]).notes == [
        f"{attr_file}: line 1 says '202599' images, it lists 1"]

    write_attr_file(tmp_path, [])
    with pytest.raises(DataSetError, match=re.escape(f"{attr_file}: lists no images")):
        open_labelled_set(tmp_path, split="test", attrs=["Black_Hair"])


def test_celeba_missing_image_is_named_when_the_set_is_built(tmp_path):
    make_celeba_set(tmp_path, n=4)
    (tmp_path / "images" / "000003.jpg").unlink()
    (tmp_path / "images" / "000004.jpg").unlink()
    attr_file = tmp_path / "list_attr_celeba.txt"
    with pytest.raises(DataSetError) as error:
        open_labelled_set(tmp_path, split="test")
    message = str(error.value)
    line = 2 + int(re.search(r"images/(\d+)\.jpg", message).group(1))  # 000003.jpg is on line 5
    assert message.startswith(f"{attr_file}:{line}: {tmp_path / 'images'}/")
    assert "does not exist (and 1 more listed images are missing)" in message

    (tmp_path / "images").rename(tmp_path / "photos")
    with pytest.raises(DataSetError, match="no image folder: expected .*images/ or .*img_align_celeba/"):
        open_labelled_set(tmp_path, split="test")


def test_prepared_celeba_output_trains_on_the_same_multi_label_data(tmp_path):
    source = make_celeba_set(tmp_path / "celeba", n=8, height=48, width=40)
    attrs = ["Black_Hair", "Blond_Hair", "Male"]
    prepare_celeba(source / "list_attr_celeba.txt", source / "images", tmp_path / "out", attrs, size=32,
                   test_count=2, progress=False)
    assert describe_layout(tmp_path / "out") == "celeba"  # list_attr.txt wins over the train/<attr>/ folders
    rows = attr_rows(source)
    for split in ("train", "test"):
        ds = open_labelled_set(tmp_path / "out", split=split, image_size=32, flip=False)
        assert ds.label_kind == "multi_label" and ds.domains == attrs
        names = [p.stem for p in ds.files]
        assert len(names) == len(set(names))  # each image once, however many attributes it has
        for k, path in enumerate(ds.files):
            assert path.relative_to(tmp_path / "out").parts[0] == split
            values = rows[path.stem + ".jpg"]
            assert ds.labels[k].tolist() == [float(values[a] == 1) for a in attrs]
        # prepare cut the centre square already: used whole, not cropped again
        item = ds[0]
        assert torch.allclose(item["A"], torch.from_numpy(read_image(ds.files[0]).transpose(2, 0, 1)) * 2 - 1)
    with pytest.raises(DataSetError, match="no attribute Young"):
        open_labelled_set(tmp_path / "out", attrs=["Young"])


# --------------------------------------------------------------------------- folders


def test_folders_one_hot_labels_and_class_indices_sorted_by_name(tmp_path):
    make_domain_set(tmp_path, domains=("sad", "angry", "Happy"), n=2)
    ds = open_labelled_set(tmp_path)
    assert describe_layout(tmp_path) == "folders"
    assert ds.label_kind == "single_label" and ds.domains == ["Happy", "angry", "sad"]  # ImageFolder's order
    assert len(ds) == 6 and ds.notes == []
    for i in range(len(ds)):
        item = ds[i]
        domain = item["path"].split("/")[-2]
        k = ds.domains.index(domain)
        assert item["label_index"].dtype == torch.int64 and item["label_index"].item() == k
        assert torch.equal(item["label"], torch.nn.functional.one_hot(torch.tensor(k), 3).float())
    batch = default_collate([ds[(i, 0)] for i in range(4)])
    assert batch["label"].shape == (4, 3) and batch["label_index"].shape == (4,)
    assert torch.nn.functional.cross_entropy(torch.zeros(4, 3), batch["label_index"]).item() > 0


def test_folders_without_train_and_the_notes_on_files_left_out(tmp_path):
    make_domain_set(tmp_path / "data", domains=("a", "b"), n=2, split=".")
    (tmp_path / "data" / "a" / "readme.txt").write_text("x")
    write_image(tmp_path / "data" / "loose.png", np.zeros((8, 8, 3), np.float32))
    ds = open_labelled_set(tmp_path / "data")
    assert ds.domains == ["a", "b"] and len(ds) == 4
    assert ds.notes[0] == "skipped 1 file that is not an image (a/readme.txt)"
    assert "loose.png" in ds.notes[1] and "not in a domain folder" in ds.notes[1]


def test_folders_errors(tmp_path):
    make_domain_set(tmp_path / "one", domains=("only",))
    with pytest.raises(DataSetError, match=r"1 domain folder\(s\) \(only\)"):
        open_labelled_set(tmp_path / "one")
    make_domain_set(tmp_path / "empty", domains=("a", "b"))
    (tmp_path / "empty" / "train" / "c").mkdir()
    (tmp_path / "empty" / "train" / "c" / "x.txt").write_text("")
    with pytest.raises(DataSetError, match="domain folder\\(s\\) without images: c"):
        open_labelled_set(tmp_path / "empty")
    with pytest.raises(DataSetError, match="no test/ folder"):
        open_labelled_set(tmp_path / "empty", split="test")
    with pytest.raises(DataSetError, match="attrs choose columns of a CelebA attribute file"):
        open_labelled_set(tmp_path / "empty", attrs=["Male"])
    (tmp_path / "bare").mkdir()
    with pytest.raises(DataSetError, match="not a labelled data set. Expected list_attr_celeba.txt"):
        describe_layout(tmp_path / "bare")
    with pytest.raises(DataSetError, match="no such data set folder"):
        describe_layout(tmp_path / "missing")


def test_split_folder_without_train_is_not_taken_for_a_domain(tmp_path):
    make_domain_set(tmp_path, domains=("a", "b"), split="test")
    make_domain_set(tmp_path, domains=("c",), split=".")
    with pytest.raises(DataSetError, match="has test/ but no train/"):
        open_labelled_set(tmp_path)


def test_max_dataset_size_keeps_every_domain(tmp_path):
    make_domain_set(tmp_path, domains=("a", "b", "c"), n=4)
    ds = open_labelled_set(tmp_path, max_dataset_size=5)
    assert len(ds) == 5 and sorted(ds.indices) == [0, 0, 1, 1, 2]


# --------------------------------------------------------------------------- geometry


def two_colour_image(height, width, inner):
    """Red, with a green centre of `inner` rows x all columns (a tuple: rows, cols)."""
    image = np.zeros((height, width, 3), np.float32)
    image[..., 0] = 1.0
    top, left = (height - inner[0]) // 2, (width - inner[1]) // 2
    image[top:top + inner[0], left:left + inner[1]] = (0.0, 1.0, 0.0)
    return image


def green(tensor):
    """True where the pixel is green in [-1, 1] space."""
    return bool(torch.allclose(tensor, torch.tensor([-1.0, 1.0, -1.0]).view(3, 1, 1).expand_as(tensor), atol=0.02))


def test_centre_crop_then_resize_keeps_the_centre(tmp_path):
    for domain in ("a", "b"):
        write_image(tmp_path / "train" / domain / "x.png", two_colour_image(48, 40, (20, 20)))
    ds = open_labelled_set(tmp_path, crop_size=20, image_size=10, flip=False)
    assert ds[0]["A"].shape == (3, 10, 10) and green(ds[0]["A"])
    # unset, the crop is the official 256 cut to the shorter side: 40x40 out of 40 wide x 48 high
    for domain in ("a", "b"):
        write_image(tmp_path / "train" / domain / "x.png", two_colour_image(48, 40, (40, 40)))
    ds = open_labelled_set(tmp_path, image_size=16, flip=False)
    assert ds[0]["A"].shape == (3, 16, 16) and green(ds[0]["A"])
    big = open_labelled_set(tmp_path, image_size=64, flip=False)[0]["A"]  # enlarging works too
    assert big.shape == (3, 64, 64) and green(big)


def test_crop_larger_than_the_image_names_the_file(tmp_path):
    make_domain_set(tmp_path, domains=("a", "b"), n=1)
    ds = open_labelled_set(tmp_path, crop_size=45)
    with pytest.raises(DataSetError, match=r"a_0\.png \(40x48\): smaller than crop_size 45"):
        ds[0]
    celeba = make_celeba_set(tmp_path / "celeba", n=2)
    assert open_labelled_set(celeba, split="test", image_size=32)[0]["A"].shape == (3, 32, 32)  # 178 cut to 40


def test_gray_input(tmp_path):
    make_domain_set(tmp_path, domains=("a", "b"), n=1)
    item = open_labelled_set(tmp_path, input_nc=1, image_size=8)[0]
    assert item["A"].shape == (1, 8, 8)


def half_black_set(root, split):
    image = np.zeros((32, 32, 3), np.float32)
    image[:, 16:] = 1.0  # black left, white right
    for domain in ("a", "b"):
        write_image(root / split / domain / "x.png", image)


def test_flip_only_in_train_and_reproducible_under_a_seed(tmp_path):
    for split in ("train", "test"):
        half_black_set(tmp_path, split)
    train = open_labelled_set(tmp_path, image_size=32)
    left_white = [train[(0, seed)]["A"][:, :, 0].mean().item() > 0 for seed in range(16)]
    assert any(left_white) and not all(left_white)  # flipped about half the time
    again = open_labelled_set(tmp_path, image_size=32)
    for seed in range(16):
        assert torch.equal(train[(0, seed)]["A"], again[(0, seed)]["A"])
    test = open_labelled_set(tmp_path, split="test", image_size=32)
    assert all(test[(0, seed)]["A"][:, :, 0].mean().item() < 0 for seed in range(16))
    no_flip = open_labelled_set(tmp_path, image_size=32, flip=False)
    assert all(no_flip[(0, seed)]["A"][:, :, 0].mean().item() < 0 for seed in range(16))


def test_options_are_checked(tmp_path):
    make_domain_set(tmp_path, domains=("a", "b"), n=1)
    for bad in ({"image_size": 0}, {"crop_size": 0}, {"input_nc": 0}):
        with pytest.raises(ValueError, match="must be at least 1"):
            LabelledDataset(tmp_path, **bad)
