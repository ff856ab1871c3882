"""pix2pixHD's inputs: label maps read as integer ids and one-hot, instance maps as boundaries, the official
folders, and label values out of range refused before training (translation/data/label_maps.py)."""
import numpy as np
import pytest
import torch
from PIL import Image

from translation.data.datasets import DataSetError, PairedDataset
from translation.data.geometry import preprocess_size
from translation.data.io import ImageReadError, write_image
from translation.data.label_maps import LabelRangeError, boundaries, read_id_map
from translation.data.transforms import PairTransform


def save_ids(path, ids, mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":  # PIL makes 16-bit gray from uint16 arrays by itself
        Image.fromarray(np.asarray(ids, dtype=np.uint16)).save(path)
    else:
        Image.fromarray(np.asarray(ids, dtype=np.uint8), mode=mode).save(path)


def blocks(rng, size, n_labels):
    """A map of 4x4 blocks of ids below n_labels."""
    return np.kron(rng.integers(0, n_labels, (4, 4)), np.ones((size // 4, size // 4), np.int64))


def official_set(root, n=3, size=32, n_labels=5, instance=False):
    """train_label/ train_img/ (train_inst/) with Cityscapes' differing suffixes."""
    rng = np.random.default_rng(0)
    for i in range(n):
        labels = blocks(rng, size, n_labels)
        save_ids(root / "train_label" / f"city_{i}_gtFine_labelIds.png", labels)
        write_image(root / "train_img" / f"city_{i}_leftImg8bit.png", np.repeat(labels[..., None] / n_labels, 3, 2))
        if instance:
            save_ids(root / "train_inst" / f"city_{i}_gtFine_instanceIds.png", labels * 1000 + i, mode="I;16")
    return root


def hd_transform(mode="none", instance=False, **kwargs):
    return PairTransform(mode, flip=False, targets=("A", "B", "inst") if instance else ("A", "B"),
                         ids=("A", "inst") if instance else ("A",), **kwargs)


def test_id_maps_keep_integer_ids_gray_16bit_and_palette_indices(tmp_path):
    ids = np.array([[0, 3], [7, 300]])
    save_ids(tmp_path / "g16.png", ids, mode="I;16")
    assert read_id_map(tmp_path / "g16.png")[..., 0].tolist() == ids.tolist()
    palette = Image.fromarray(np.array([[0, 1], [2, 1]], np.uint8), mode="P")
    palette.putpalette([0, 0, 0, 200, 10, 10, 10, 200, 10] + [0] * 759)  # colours unlike the indices
    palette.save(tmp_path / "p.png")
    assert read_id_map(tmp_path / "p.png")[..., 0].tolist() == [[0, 1], [2, 1]]
    Image.fromarray(np.full((2, 2, 3), 9, np.uint8)).save(tmp_path / "gray_as_rgb.png")
    assert (read_id_map(tmp_path / "gray_as_rgb.png") == 9).all()
    Image.fromarray(np.array([[[9, 0, 0]]], np.uint8)).save(tmp_path / "colour.png")
    with pytest.raises(ImageReadError, match="colour.png.*--label-nc 0"):
        read_id_map(tmp_path / "colour.png")


def test_boundaries_mark_both_sides_of_every_4_neighbour_change():
    ids = torch.tensor([[[5, 5, 5, 5], [5, 7, 7, 5], [5, 5, 5, 5], [5, 5, 5, 5]]])
    expected = torch.tensor([[[0, 1, 1, 0], [1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 0, 0]]]).float()
    assert torch.equal(boundaries(ids), expected)
    assert boundaries(torch.full((1, 3, 3), 4)).sum() == 0  # one instance: no edge


def test_official_folders_pair_in_order_one_hot_and_instance_edges(tmp_path):
    root = official_set(tmp_path, instance=True)
    ds = PairedDataset(root, label_nc=5, instance=True, transform=hd_transform(instance=True))
    item = ds[1]
    labels = read_id_map(root / "train_label" / "city_1_gtFine_labelIds.png")[..., 0]
    assert item["A"].shape == (6, 32, 32) and item["path"].endswith("city_1_gtFine_labelIds.png")
    assert torch.equal(item["A"][:5].argmax(0), torch.from_numpy(labels).long())
    assert torch.equal(item["A"][:5].sum(0), torch.ones(32, 32))  # one-hot: exactly one class per pixel
    assert torch.equal(item["A"][5], boundaries(torch.from_numpy(labels)))  # instance ids follow the labels
    image = item["B"][0]  # its own image: gray = label / 5, in [-1, 1]
    assert torch.allclose((image + 1) / 2 * 5, torch.from_numpy(labels).float(), atol=0.03)


def test_resizing_and_cropping_never_mixes_ids(tmp_path):
    root = official_set(tmp_path, size=32, n_labels=5)
    ds = PairedDataset(root, label_nc=5, transform=hd_transform("resize_and_crop", load_size=45, crop_size=16))
    for seed in range(4):
        a = ds[(0, seed)]["A"]
        assert a.shape == (5, 16, 16) and set(a.unique().tolist()) == {0.0, 1.0}
        assert torch.equal(a.sum(0), torch.ones(16, 16))


def test_label_out_of_range_is_refused_naming_file_and_value_before_training(tmp_path):
    root = official_set(tmp_path, n_labels=5)
    save_ids(root / "train_label" / "city_2_gtFine_labelIds.png", np.full((32, 32), 9))
    with pytest.raises(LabelRangeError, match=r"city_2_gtFine_labelIds.png: label value 9 is outside 0..4"):
        PairedDataset(root, label_nc=5, transform=hd_transform())
    assert len(PairedDataset(root, label_nc=10, transform=hd_transform())) == 3


def test_named_folders_with_instance_maps_match_by_name(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("b", "a"):
        labels = blocks(rng, 16, 3)
        save_ids(tmp_path / "train" / "A" / f"{name}.png", labels)
        write_image(tmp_path / "train" / "B" / f"{name}.png", rng.random((16, 16, 3)).astype(np.float32))
        save_ids(tmp_path / "train" / "inst" / f"{name}.png", np.zeros((16, 16)) if name == "a" else labels)
    ds = PairedDataset(tmp_path, label_nc=3, instance=True, transform=hd_transform(instance=True))
    assert [p.inst.name for p in ds.pairs] == ["a.png", "b.png"]
    assert ds[0]["A"][3].sum() == 0 and ds[1]["A"][3].sum() > 0
    (tmp_path / "train" / "inst" / "b.png").unlink()
    with pytest.raises(DataSetError, match="1 input images have no instance map.*: b"):
        PairedDataset(tmp_path, label_nc=3, instance=True, transform=hd_transform(instance=True))


def test_rgb_inputs_with_instance_edges_and_label_maps_refuse_aligned_files(tmp_path):
    from conftest import make_paired_set

    root = make_paired_set(tmp_path, n=2, size=16)
    with pytest.raises(DataSetError, match="aligned A\\|B files hold images"):
        PairedDataset(root, label_nc=4, transform=hd_transform())
    save_ids(root / "train_inst" / "000.png", np.eye(16))
    save_ids(root / "train_inst" / "001.png", np.zeros((16, 16)))
    ds = PairedDataset(root, instance=True, transform=PairTransform("none", flip=False, targets=("A", "B", "inst"),
                                                                    ids=("inst",)))
    item = ds[0]
    assert item["A"].shape == (4, 16, 16) and torch.allclose(item["A"][:3], -item["B"], atol=1e-6)  # B = 1 - A
    assert item["A"][3].sum() > 0 and ds[1]["A"][3].sum() == 0


def test_sizes_round_to_the_nets_multiple_where_nothing_crops():
    assert preprocess_size(100, 70, "none", 0, 0, multiple=16) == (96, 64)
    assert preprocess_size(100, 70, "none", 0, 0) == (100, 72)  # pix2pix's multiple of 4 stays
    assert preprocess_size(500, 1000, "scale_width", 1000, 256, multiple=32) == (512, 992)
    assert preprocess_size(500, 1000, "scale_width", 1000, 256) == (500, 1000)
    t = hd_transform("none", multiple=32)
    out = t({"A": np.zeros((70, 50, 1), np.int32), "B": np.zeros((70, 50, 3), np.float32)}, seed=0)
    assert out["A"].shape == (1, 64, 64) and out["A"].dtype == torch.int64 and out["B"].shape == (3, 64, 64)
