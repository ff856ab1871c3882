"""Translate every image under a folder into another folder, keeping relative paths.

Guarantees: never writes inside the input tree; never overwrites an existing output unless asked;
a file that cannot be read is reported by name and skipped while the rest are translated; files that
are not images are named in the summary (hidden ones are left alone, see io.scan_images); outputs are
written atomically; the same checkpoint and input give the same bytes.

Pipeline: worker processes read (and decode) images ahead where they have cores to run on, the main thread
runs the net on batches of images of one padded size, and a writer thread encodes and writes, so decoding
and encoding overlap the net. Images
larger than `tile` go in overlapping tiles (tiles.py), their output quantised as it is blended.
"""
from __future__ import annotations

import os
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from translation.data.arrays import read_channels
from translation.data.label_maps import LabelRangeError, check_label_range, read_id_map
from translation.data.io import (IMAGE_EXTENSIONS, ImageReadError, read_warnings, scan_images, skipped_not_images,
                                 write_image)
from translation.data.workers import ignore_stop_signals, start_workers
from translation.inference.label_inputs import InstanceMapError, find_instance_map, instance_map_index, prepared_input
from translation.inference.mask_inputs import MaskError, find_mask, prepared_masked, read_input_mask
from translation.inference.translator import Translator, image_seed
from translation.names import OUTPUT_FORMATS


@dataclass
class Job:
    source: Path
    target: Path
    name: str  # path relative to the input root, used in messages and for the per-image seed


@dataclass
class Summary:
    translated: int = 0
    skipped_existing: int = 0
    failures: list[str] = field(default_factory=list)
    not_images: list[str] = field(default_factory=list)  # relative names of the other files under INPUT
    warnings: list[str] = field(default_factory=list)  # read with a caveat (an animated GIF's first frame)
    # (input, output) of every image whose output is in place: translated now, or kept from before
    pairs: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


class TranslateError(ValueError):
    """The request as a whole cannot be carried out (bad paths), before anything is written."""


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def plan_jobs(input_path, output_dir, fmt: str = "png", overwrite: bool = False) -> tuple[list[Job], Summary]:
    """Decide what to translate where; refuses overlapping trees and name collisions up front."""
    src, dst = Path(input_path).resolve(), Path(output_dir).resolve()
    if not src.exists():
        raise TranslateError(f"{input_path}: no such file or folder")
    root = src.parent if src.is_file() else src
    # a folder's tree is input throughout; one file is only when the output folder holds it (as _side_input's
    # files): `translate G photo.png out/` with out/ beside photo.png is fine
    if dst in src.parents if src.is_file() else _overlaps(root, dst):
        raise TranslateError(f"output {output_dir} and input {input_path} overlap: choose an output folder "
                             "outside the input (translate never writes into its input)")
    sources, others = scan_images(src)
    not_images = [str(p.relative_to(root)) for p in others]
    if not sources:
        found = f"; {skipped_not_images(not_images)}" if not_images else ""
        raise TranslateError(f"{input_path}: no images found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})"
                             + found)
    summary, jobs, claimed = Summary(not_images=not_images), [], {}
    for source in sources:
        name = str(source.relative_to(root))
        target = dst / Path(name).with_suffix("." + fmt)
        if target in claimed:
            summary.failures.append(f"{source}: output {target} would also be written from {claimed[target]}")
            continue
        claimed[target] = source
        if target.exists() and not overwrite:
            summary.skipped_existing += 1
            summary.pairs.append((source, target))
            continue
        jobs.append(Job(source, target, name))
    return jobs, summary


class _Reader(Dataset):
    """Reads (and optionally resizes) images in worker processes; errors and warnings come back as values.
    `instance`: the --instance file or folder, `index` its images by name (None for a file); `mask`,
    `mask_index`: the same for --mask."""

    def __init__(self, jobs: list[Job], channels: int, size: int | None, label_nc: int = 0,
                 instance: Path | None = None, index: dict[str, Path] | None = None,
                 mask: Path | None = None, mask_index: dict[str, Path] | None = None):
        self.jobs, self.channels, self.size, self.label_nc = jobs, channels, size, label_nc
        self.instance, self.index = instance, index
        self.mask, self.mask_index = mask, mask_index

    def __len__(self):
        return len(self.jobs)

    def __getitem__(self, i):
        job = self.jobs[i]
        try:
            with read_warnings() as notes:
                image = self._read(job.source)
                instance_ids = self._read_instance(job) if self.instance else None
                if self.mask:
                    path = find_mask(job.name, self.mask, self.mask_index, str(job.source))
                    mask = read_input_mask(path, job.source)
            if self.mask:
                image = prepared_masked(image, mask, self.size, str(job.source), f"its mask {path}")
            else:
                image = prepared_input(image, instance_ids, self.label_nc, self.size, str(job.source))
        except (ImageReadError, LabelRangeError, InstanceMapError, MaskError) as error:
            return i, None, str(error), []
        # a tensor crosses from a worker process through shared memory; an array would be pickled, which
        # holds two more copies of a huge image
        return i, torch.from_numpy(image), None, notes


    def _read(self, path: Path) -> np.ndarray:
        if not self.label_nc:
            return read_channels(path, self.channels)
        ids = read_id_map(path)  # a label map (pix2pixHD --label-nc): its integer ids
        check_label_range(ids, self.label_nc, path)
        return ids

    def _read_instance(self, job: Job) -> np.ndarray:
        path = find_instance_map(job.name, self.instance, self.index, str(job.source))
        try:
            return read_id_map(path)
        except ImageReadError as error:
            raise InstanceMapError(f"{job.source}: its instance map {error}") from None


def _instance_maps(translator: Translator, input_path, output_dir, instance) -> tuple[Path | None, dict | None]:
    """(the --instance file or folder, its images by name: None for a file); refused up front where the model
    and the request disagree."""
    if translator.instance and instance is None:
        raise TranslateError("this model was trained with --instance: it reads an instance map with each input; "
                             "give them with --instance FOLDER (one per input, same relative path and name) or "
                             "--instance FILE (one input image)")
    if instance is None:
        return None, None
    if not translator.instance:
        raise TranslateError(f"--instance {instance}: this model was trained without instance maps (no "
                             "--instance); translate without it")
    return _side_input("--instance", instance, "instance maps", input_path, output_dir)


def _masks(translator: Translator, input_path, output_dir, mask) -> tuple[Path | None, dict | None]:
    """(the --mask file or folder, its images by name: None for a file); refused up front where the model and
    the request disagree."""
    inpaints = getattr(translator, "inpaint", False)
    if inpaints and mask is None:
        raise TranslateError("this model fills holes: give the mask of each input with --mask FOLDER (one per "
                             "input, same relative path and name, white = fill) or --mask FILE (one input image)")
    if mask is None:
        return None, None
    if not inpaints:
        raise TranslateError(f"--mask {mask}: this model does not inpaint (its checkpoint records no hole fill); "
                             "translate without it")
    return _side_input("--mask", mask, "masks", input_path, output_dir)


def _side_input(flag: str, given, what: str, input_path, output_dir) -> tuple[Path, dict | None]:
    """A file or folder read beside the inputs (`flag` FILE_OR_FOLDER, one of `what` per input): checked to exist,
    to be a folder when INPUT is, and to stay clear of the output; with its images by name (None for a file)."""
    path = Path(given).resolve()
    if not path.exists():
        raise TranslateError(f"{flag} {given}: no such file or folder")
    if path.is_file() and not Path(input_path).is_file():
        raise TranslateError(f"{flag} {given} is one file, but {input_path} is a folder: give the folder of "
                             f"{what} (same relative paths and names as the inputs)")
    dst = Path(output_dir).resolve()
    if dst in path.parents if path.is_file() else _overlaps(path, dst):  # never written over, as the inputs
        raise TranslateError(f"output {output_dir} and {flag} {given} overlap: choose an output folder "
                             "outside both inputs")
    return path, None if path.is_file() else instance_map_index(path)


def _first(items):
    return items[0]


class _Writer:
    """Encodes and writes outputs on a thread of its own while the net runs. One thread: atomic writes read
    the umask by setting it, which threads writing at once would race on. `done(job)` runs in the calling
    thread once a job's file is in place; at most `waiting` outputs wait, which bounds their memory."""

    def __init__(self, bit_depth: int, waiting: int, done):
        self.bit_depth, self.waiting, self.done = bit_depth, waiting, done
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="translate-writer")
        self.queue: deque = deque()

    def submit(self, job: Job, image: np.ndarray) -> None:
        self.queue.append((job, self.pool.submit(write_image, job.target, image, bit_depth=self.bit_depth)))
        while len(self.queue) > self.waiting:
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        job, future = self.queue.popleft()
        future.result()  # a failed write raises here, in the caller's thread
        self.done(job)

    def close(self) -> None:
        """Wait for every write; on an error, the writes not yet started are dropped."""
        try:
            while self.queue:
                self._finish_oldest()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


# outputs above this (4096 x 4096) made in one forward hold gigabytes of a super-resolution net's features
LARGE_OUTPUT_PIXELS = 4096 * 4096


def _large_output(translator: Translator, size: tuple[int, int]) -> bool:
    return translator.scale ** 2 * size[0] * size[1] > LARGE_OUTPUT_PIXELS


def reader_processes(translator: Translator) -> int:
    """How many processes read ahead by default: 2 where they get cores of their own (the net runs on a GPU, or
    leaves CPU cores free), else none. On a CPU whose every core runs the net they only take turns with it:
    2 reader processes made 256 px translation 1.1-1.9x slower on a 2-core CPU (tools/benchmark.py)."""
    if translator.device.type != "cpu":
        return 2
    return min(2, max(0, (os.cpu_count() or 1) - torch.get_num_threads()))


def translate_folder(translator: Translator, input_path, output_dir, fmt: str = "png", batch_size: int = 4,
                     size: int | None = None, overwrite: bool = False, seed: int = 0, bit_depth: int = 8,
                     num_workers: int | None = None, progress: bool = True, tile: int | None = None,
                     tile_overlap: int = 32, instance=None, mask=None) -> Summary:
    """`num_workers`: reader processes (None: see reader_processes); `tile`: translate images larger than
    this in overlapping tiles (see tiles.py); `instance`: for --instance models, the instance map (one input
    image) or the folder holding one per input under the same relative path and name; `mask`: for inpainting
    models, the mask (white = fill) of one input image or the folder of them, found as instance maps are."""
    if fmt not in OUTPUT_FORMATS:
        raise TranslateError(f"--format must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    try:
        tiling = translator.tiling(tile, tile_overlap) if tile else None
    except ValueError as error:
        raise TranslateError(str(error)) from None
    jobs, summary = plan_jobs(input_path, output_dir, fmt, overwrite)
    instance, index = _instance_maps(translator, input_path, output_dir, instance)
    mask, mask_index = _masks(translator, input_path, output_dir, mask)
    for message in summary.failures:
        print(f"error: {message}", file=sys.stderr)
    workers = (reader_processes(translator) if num_workers is None else num_workers) if len(jobs) > 1 else 0
    # with tiles, images may be huge: each worker holds one ahead, not two
    ahead = {"prefetch_factor": 1 if tiling else 2} if workers else {}
    reader = DataLoader(_Reader(jobs, translator.read_channels, size, translator.label_nc, instance, index, mask,
                                mask_index),
                        batch_size=1, collate_fn=_first,
                        num_workers=workers, worker_init_fn=ignore_stop_signals, **ahead)
    per_batch = batch_size if translator.batches_images else 1
    pending: dict[tuple[int, int], list[tuple[Job, np.ndarray]]] = {}
    # As every command's bar: none when stderr is not a terminal (logs), and cleared when done, so the
    # summary line is the one that stays (leave=True drew 100% at the last update and again at close).
    bar = tqdm(total=len(jobs), disable=not progress or None, leave=False, unit="img", desc="translate",
               file=sys.stderr)
    note = tiling and translator.tiling_note
    large_output_note = None if tiling or translator.scale == 1 else (
        f"note: x{translator.scale} outputs over {LARGE_OUTPUT_PIXELS // 10 ** 6} MP are made whole, which takes "
        "memory in proportion to the output (gigabytes for a photo); --tile 256 makes any size in bounded memory")

    def written(job: Job) -> None:
        summary.translated += 1
        summary.pairs.append((job.source, job.target))
        bar.update(1)

    writer = _Writer(bit_depth, 2 * per_batch, written)  # one batch being written, the next one waiting

    def run(group: list[tuple[Job, np.ndarray]]) -> None:
        outs = translator.translate_batch([img for _, img in group], [image_seed(seed, j.name) for j, _ in group])
        for (job, _), out in zip(group, outs):
            writer.submit(job, out)

    def run_tiled(job: Job, image: np.ndarray) -> None:
        nonlocal note
        if note:
            bar.write(note, file=sys.stderr)
            note = None

        def rows(done: int, total: int) -> None:
            bar.set_postfix_str(f"{job.name}: tile rows {done}/{total}")

        # 8/16-bit output: no float copy of a huge image, and the writer has nothing left to convert
        out = translator.translate_tiled(image, tiling, image_seed(seed, job.name), batch_size,
                                         np.uint8 if bit_depth == 8 else np.uint16, rows)
        bar.set_postfix_str("")
        writer.submit(job, out)

    try:
        for index, image, error, notes in start_workers(reader):
            for message in notes:
                summary.warnings.append(message)
                bar.write(f"warning: {message}", file=sys.stderr)
            if error is not None:
                summary.failures.append(error)
                bar.write(f"error: {error} (skipped)", file=sys.stderr)
                bar.update(1)
                continue
            image = image.numpy()
            if large_output_note and _large_output(translator, image.shape[:2]):
                bar.write(large_output_note, file=sys.stderr)  # once a run
                large_output_note = None
            if tiling and tiling.needed(*image.shape[:2]):
                run_tiled(jobs[index], image)
                continue
            key = translator.padded_size(*image.shape[:2])
            pending.setdefault(key, []).append((jobs[index], image))
            if len(pending[key]) >= per_batch:
                run(pending.pop(key))
        for group in pending.values():
            run(group)
    finally:
        writer.close()
    bar.close()
    summary.pairs.sort()  # in the input's order, wherever each was written from
    return summary
