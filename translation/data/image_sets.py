"""Images, optionally with class labels, for unconditional and class-conditional GANs.

open_image_set(data, ...) reads one of:
  digits          the 1,797 8×8 handwritten digits inside scikit-learn (values 0..16, labels 0-9; no
                  download). Each gets a one-pixel background margin, as MNIST centres its 20 px digits in
                  28 px, and is enlarged bicubically (arrays.resize), so strokes stay strokes, not blocks.
  mnist, fashion-mnist, cifar10
                  torchvision's training splits in ROOT (default data/: data/MNIST/, data/FashionMNIST/,
                  data/cifar-10-batches-py/), downloaded there by torchvision when missing. Files already
                  there need no network; a download that fails is one line saying where to put the files.
  a folder        every image under it, recursively. With labels, each immediate sub-folder holding images
                  is a class (names sorted, as torchvision's ImageFolder); images beside the class folders
                  are not used. `notes` name those, files that are not images and sub-folders without images.
A folder wins over a built-in name: `digits` reads ./digits/ where there is one, and a note says so.

labels=False gives an unconditional set (no classes, every label -1) whatever the data holds; labels=True
gives class indices, and is an error naming why where the data has none.

Images are the centre square resized to image_size (the same as resizing the shorter side and cropping the
centre), with 1 or 3 channels (gray repeated, colour to luminance), as C×H×W float in [-1, 1]. Nothing is
random unless flip=True: a horizontal flip drawn from the sample's seed (off by default: digits must not
be mirrored).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from translation.data.arrays import read_channels, resize, to_channels, to_tensor
from translation.data.datasets import DataSetError
from translation.data.io import scan_images, skipped_not_images
from translation.names import BUILTIN_SETS, builtin_set

# built-in name -> (torchvision class, the folder it keeps under ROOT)
_TORCHVISION = {"mnist": ("MNIST", "MNIST"), "fashion-mnist": ("FashionMNIST", "FashionMNIST"),
                "cifar10": ("CIFAR10", "cifar-10-batches-py")}
DIGIT_CLASSES = [str(d) for d in range(10)]  # torchvision's MNIST says "0 - zero"; digits and mnist agree here


class ImageSet(Dataset):
    """Yields {"image": C×H×W float in [-1, 1], "label": int64 scalar (-1 when unlabelled), "path": str}.

    `images` are files (read when indexed) or an N×H×W×C array (uint8, or float in [0, 1]); `paths` name
    each (a file, or "mnist[123]": the index in the source set). Indexed by (index, seed) as the other data
    sets, the seed driving the flip, so a sample is the same in every worker and after a resume; a plain
    index means seed 0.
    """

    def __init__(self, name: str, images, paths: list[str], labels, classes: list[str], image_size: int,
                 channels: int, notes=(), flip: bool = False):
        self.name, self.images, self.paths = name, images, list(paths)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.classes, self.notes = list(classes), list(notes)
        self.image_size, self.channels, self.flip = image_size, channels, flip
        self.shuffle = True  # the trainer draws a fresh order every epoch

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, key):
        index, seed = key if isinstance(key, tuple) else (key, 0)
        if isinstance(self.images, np.ndarray):
            image = self.images[index]
            image = image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image
            # resized before a gray image is repeated to 3 channels: a third of the work
            image = to_channels(centre_square(image, self.image_size), self.channels, self.paths[index])
        else:
            image = centre_square(read_channels(self.images[index], self.channels), self.image_size)
        if self.flip and np.random.default_rng(seed).random() < 0.5:
            image = image[:, ::-1]
        return {"image": to_tensor(image), "label": torch.tensor(self.labels[index]), "path": self.paths[index]}


def centre_square(image: np.ndarray, size: int) -> np.ndarray:
    """The centre square (offsets rounded as torchvision's CenterCrop), resized to size × size."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = round((h - side) / 2.0), round((w - side) / 2.0)
    return resize(image[top:top + side, left:left + side], size, size)


def open_image_set(data, image_size: int, channels: int | None = None, labels: bool = False, root="data",
                   max_dataset_size: int = 0, flip: bool = False) -> ImageSet:
    """The images named by `data` (a built-in name or a folder; see the module docstring).

    channels None: the data's own, 1 for digits, mnist and fashion-mnist, 3 for cifar10 and folders.
    max_dataset_size keeps the first images; with labels, the first of every class in turn.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be at least 1, got {image_size}")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if max_dataset_size < 0:
        raise ValueError(f"max_dataset_size must be 0 (all) or more, got {max_dataset_size}")
    folder, builtin = Path(data), builtin_set(data)
    notes = []
    if folder.is_dir():
        shadow = (f"{data}: reading the folder {folder.resolve()}/, not the built-in {builtin} data set (move or "
                  "rename the folder to use that)") if builtin else ""
        try:
            images, index, classes, own_channels, found = _folder_entries(folder, labels)
        except DataSetError as error:
            raise DataSetError(f"{error}. {shadow}" if shadow else str(error)) from None
        notes = ([shadow] if shadow else []) + found
        name, paths = str(folder), [str(p) for p in images]
    elif builtin:
        images, index, classes, own_channels = builtin_digits() if builtin == "digits" else _torchvision(builtin, root)
        name, paths = builtin, [f"{builtin}[{i}]" for i in range(len(images))]
    elif folder.exists():
        raise DataSetError(f"{data}: not a folder; give a folder of images or one of: {', '.join(BUILTIN_SETS)}")
    else:
        raise DataSetError(f"{data}: no such folder, and not a built-in data set ({', '.join(BUILTIN_SETS)})")
    if not labels:
        index, classes = np.full(len(images), -1, dtype=np.int64), []
    if max_dataset_size and max_dataset_size < len(index):
        keep = first_of_each_class(index, max_dataset_size) if labels else np.arange(max_dataset_size)
        images = images[keep] if isinstance(images, np.ndarray) else [images[i] for i in keep]
        paths, index = [paths[i] for i in keep], index[keep]
    return ImageSet(name, images, paths, index, classes, image_size, channels or own_channels, notes, flip)


def first_of_each_class(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first `count` images taking every class in turn, in data set order: a prefix of a
    class-sorted folder would be one class."""
    rank = np.zeros(len(labels), dtype=np.int64)  # the image's place within its class
    for value in np.unique(labels):
        members = labels == value
        rank[members] = np.arange(members.sum())
    return np.sort(np.lexsort((labels, rank))[:count])


def builtin_digits():
    """scikit-learn's 1,797 digits as (images, labels, classes, channels), whatever folders lie about."""
    from sklearn.datasets import load_digits  # imported here: only this set needs scikit-learn

    digits = load_digits()
    # a background margin, as MNIST's: strokes do not touch the frame, and bicubic has no edge to smear
    images = np.pad(digits.images / 16.0, ((0, 0), (1, 1), (1, 1)))[..., None].astype(np.float32)
    return images, digits.target.astype(np.int64), DIGIT_CLASSES, 1


def _torchvision(name: str, root):
    import torchvision.datasets  # imported here: the other sets do not need it

    class_name, folder = _TORCHVISION[name]
    source = getattr(torchvision.datasets, class_name)
    try:
        dataset = source(str(root), train=True, download=False)  # present: no network, no checksum pass
    except RuntimeError:  # missing or incomplete
        try:
            dataset = source(str(root), train=True, download=True)
        except Exception as error:  # URLError, torchvision's RuntimeError, a broken archive, a full disk...
            lines = str(error).strip().splitlines() or [type(error).__name__]
            raise DataSetError(f"{name}: not in {Path(root) / folder}/ and the download failed ({lines[-1].strip()}); "
                               f"without network access, copy torchvision's {folder}/ folder into {root}/ "
                               "from a machine that has it") from None
    images = np.asarray(dataset.data)  # uint8: N×28×28 (MNIST, Fashion-MNIST) or N×32×32×3 (CIFAR-10)
    images = images[..., None] if images.ndim == 3 else images
    classes = DIGIT_CLASSES if name == "mnist" else list(dataset.classes)
    return images, np.asarray(dataset.targets, dtype=np.int64), classes, images.shape[-1]


def _folder_entries(root: Path, labels: bool):
    """(files, class indices or None, class names, 3 channels, notes) of every image under `root`."""
    images, others = scan_images(root)
    notes = [skipped_not_images([p.relative_to(root).as_posix() for p in others])] if others else []
    if not images:
        raise DataSetError(f"{root}: no images in it or its sub-folders (PNG, JPEG, BMP, TIFF, WebP, GIF)")
    if not labels:
        return images, None, [], 3, notes
    groups, loose = {}, []
    for path in images:
        parts = path.relative_to(root).parts
        (groups.setdefault(parts[0], []) if len(parts) > 1 else loose).append(path)
    classes = sorted(groups)
    if len(classes) < 2:
        found = f"one class sub-folder ({classes[0]}/)" if classes else "its images are not in sub-folders"
        raise DataSetError(f"{root}: class labels were asked for, but {found}; labels come from one sub-folder "
                           "of images per class, two or more")
    empty = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")
                   and d.name not in groups)
    if empty:  # a class folder left empty would shift every later class index: say so
        notes.append(f"sub-folder(s) of {root}/ without images, not classes: {', '.join(empty)}")
    if loose:
        shown = ", ".join(p.name for p in loose[:5]) + (f" and {len(loose) - 5} more" if len(loose) > 5 else "")
        notes.append(f"{len(loose)} image(s) in {root}/ itself, outside the class folders, are not used: {shown}")
    files = [path for name in classes for path in groups[name]]
    index = np.array([k for k, name in enumerate(classes) for _ in groups[name]], dtype=np.int64)
    return files, index, classes, 3, notes
