"""Evaluation during training (--eval-every N --eval-data DIR): every N steps and at the end of the schedule,
the generator turns a fixed set of inputs (or fixed z) into images as inference would, `translation
evaluate`'s code scores them against the real images, the numbers go to TensorBoard (eval/fid, ...) and to
a line above the progress bar, and the checkpoint of the best step by the first metric is kept as best.pt.

What is evaluated, as a user of the official code expects:
  cyclegan    --eval-data .../testB: G_A (A->B) on the sibling testA/; .../testA: G_B on testB/; a folder
              named otherwise: G_A on --eval-inputs
  pix2pix     --eval-data an aligned test/ or val/ folder of A|B files (or one with A/ and B/): G on the
              inputs (--direction as in training), the targets are the real set and psnr/ssim/l1's reference
  stargan     the test split of --eval-inputs (default: --data), each image to every domain (one change
              each, as the sample sheets); --eval-data holds the real images
  noise GANs  fixed z, the images `translation sample -n COUNT --seed 0` draws (classes in turn)
  super-res.  --eval-data a split of the SR layout (data/sr4/val, holding HR/ and LR_bicubic/X<scale>/): G on the
              LR images, scored against HR as BasicSR's validation: Y channel, a border of the scale cropped
  inpainting  --eval-data a split of the masks layout (data/places/val, holding images/ and masks/, as `prepare
              inpaint --layout masks` writes it): G fills each image's holes as `translate --mask` does (the
              composite: known pixels are the image's), scored against the image; paired metrics over the whole
              image (the known pixels agree exactly, so L1 is the holes' L1 times their share of the image)
pix2pix and CycleGAN translate each image whole at its own size, StarGAN its data set's centre crop at
--image-size; one seed per image name (`translate`'s defaults), the model's test mode, and the moving
average of the weights where the run keeps one. KID's subsets have evaluate's seed (2020).

Files: <run>/eval/latest/ holds the last evaluation's images (`translation evaluate` on them gives the
numbers logged); pix2pix's targets are written to <run>/eval/real/; <run>/best.pt is the best step's checkpoint.
Evaluation leaves the run as it would be without it: the generator is rebuilt from its weights into a net of
its own (training's batch-norm statistics are not touched) and every random state is restored afterwards.
"""
from __future__ import annotations

import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import torch

from translation.data.arrays import read_channels, to_image
from translation.data.datasets import load_pair
from translation.data.inpaint_layout import check_mask_size, read_mask
from translation.data.io import write_image
from translation.data.label_maps import check_label_range, read_id_map
from translation.inference.mask_inputs import hole_fill
from translation.inference.translator import Translator, image_seed
from translation.metrics import evaluation
from translation.metrics.features import NoImagesError, list_folder_images
from translation.metrics.formulas import PAIRED_METRICS, improves, parse_eval_metrics
from translation.nets import build_net
from translation.training.random_state import capture_rng_state, restore_rng_state
from translation.utils.files import atomic_path

BEST = "best.pt"
EVAL_DIR = "eval"
SEED = 0  # translate's and sample's default --seed: the same images those commands give
INCEPTION_BATCH = 50  # evaluate's default --batch-size
TRANSLATE_BATCH = 16  # images of one size per generator pass where the test mode allows batches


class PeriodicEvaluation:
    """Built once per run, before anything is written: every problem is a ValueError naming the flag."""

    def __init__(self, config, model, engine, device: torch.device, run_dir: Path):
        self.config, self.model, self.engine, self.device = config, model, engine, device
        self.run_dir = run_dir
        self.folder = run_dir / EVAL_DIR
        self.metrics = parse_eval_metrics(config.eval_metrics)
        self.suffix = "_digits" if config.eval_features == "digits" else ""
        records = model.generators()
        tasks = {record["task"] for record in records.values()}
        self.targets: list | None = None  # pix2pix: (name, target image) of each input
        # what the generators declare decides: pairs when one learned from aligned pairs (pix2pix)
        from_pairs = any(record.get("paired") for record in records.values())
        # super-resolution generators record their scale (models/superres.py)
        scales = {int(record["scale"]) for record in records.values() if "scale" in record}
        inpaints = any(record.get("inpaint") for record in records.values())  # mask_inputs.inpaints
        self.kind = ("samples" if "sample" in tasks else "domains" if "translate_to_domain" in tasks
                     else "superres" if scales else "inpaint" if inpaints else "pairs" if from_pairs
                     else "unpaired")
        # how `translation evaluate` scores the pairs: BasicSR's protocol for super-resolution
        self.protocol = {"y_channel": True, "crop_border": max(scales)} if scales else {}
        if config.eval_inputs and self.kind in ("samples", "pairs", "superres", "inpaint"):
            raise ValueError(f"--eval-inputs {config.eval_inputs}: this model's evaluation takes no inputs folder "
                             + ("(it draws from fixed z)" if self.kind == "samples" else
                                "(the inputs are --eval-data's, beside their targets)"))
        getattr(self, f"_plan_{self.kind}")(records)
        paired = [m for m in self.metrics if m in PAIRED_METRICS]
        if paired and self.targets is None:
            raise ValueError(f"--eval-metrics {config.eval_metrics}: {', '.join(paired)} compare outputs with "
                             "their targets, which only paired data (pix2pix) has")
        unpaired = len(paired) < len(self.metrics)
        if unpaired:
            self._check_sizes()
        self.inception = self._inception() if unpaired else None
        self._real = None  # the real set's features, computed at the first evaluation
        self._targets_written = False
        self._warned: set[str] = set()

    # --- what is evaluated -----------------------------------------------------------------------------
    def _images(self, folder, flag: str) -> list[Path]:
        try:
            files = list_folder_images(folder)
        except NoImagesError as error:
            raise ValueError(f"{flag} {error}") from None  # the message starts with the folder
        return files[:self.config.eval_count] if self.config.eval_count else files

    def _plan_unpaired(self, records: dict) -> None:
        """CycleGAN: the real set names the direction, and its sibling folder the inputs."""
        c = self.config
        self.real_dir = Path(c.eval_data)
        self._images(self.real_dir, "--eval-data")
        name = self.real_dir.resolve().name
        domain = name[-1] if name[-1:] in ("A", "B") else "B"
        direction = "AtoB" if domain == "B" else "BtoA"
        inputs = Path(c.eval_inputs) if c.eval_inputs else None
        if inputs is None:
            sibling = self.real_dir.resolve().with_name(name[:-1] + ("A" if domain == "B" else "B"))
            if name[-1:] not in ("A", "B") or not sibling.is_dir():
                raise ValueError(f"--eval-data {c.eval_data}: give the images to translate with --eval-inputs "
                                 f"(a real set named like testB/ has its inputs beside it, in testA/)")
            inputs = sibling
        self.key = next(key for key, record in records.items() if record["direction"] == direction)
        self.direction = direction
        self.inputs = [(path.name, path) for path in self._images(inputs, "--eval-inputs")]

    def _split_folder(self) -> Path:
        """--eval-data of paired and super-resolution runs: one split (test/, val/), not the whole data set."""
        folder = Path(self.config.eval_data)
        if (folder / "train").is_dir():
            raise ValueError(f"--eval-data {folder}: give the split to evaluate on itself ({folder / 'test'} or "
                             f"{folder / 'val'}), not the data set folder")
        return folder

    def _plan_pairs(self, records: dict) -> None:
        """pix2pix: inputs and targets from one aligned (or A/ B/) folder."""
        from translation.data.datasets import DataSetError, PairedDataset

        c = self.config
        folder = self._split_folder()
        self.key = next(key for key, record in records.items() if record.get("paired"))
        self.direction = records[self.key]["direction"]  # --direction, as in training
        label_nc, instance = getattr(c, "label_nc", 0), getattr(c, "instance", False)  # pix2pixHD's inputs
        try:
            pairs = PairedDataset(folder, _official_split(folder), self.direction, c.input_nc, c.output_nc,
                                  max_size=c.eval_count, label_nc=label_nc, instance=instance)
        except (DataSetError, ValueError) as error:
            raise ValueError(f"--eval-data {folder}: {error}") from None
        self.inputs = [(Path(pair.a).stem + ".png", pair) for pair in pairs.pairs]
        self.targets = []  # read at the first evaluation, written to eval/real/
        self.real_dir = self.folder / "real"

    def _plan_superres(self, records: dict) -> None:
        """Super-resolution: LR inputs and HR targets of one split of the SR layout (sizes checked now)."""
        from translation.data.datasets import DataSetError
        from translation.data.superres import SuperResDataset

        c = self.config
        folder = self._split_folder()
        self.key = next(key for key, record in records.items() if "scale" in record)
        self.direction = records[self.key]["direction"]
        try:
            pairs = SuperResDataset(folder.parent, folder.name, scale=self.protocol["crop_border"], gt_size=0,
                                    augment=False, channels=c.input_nc, max_size=c.eval_count)
        except (DataSetError, ValueError) as error:
            raise ValueError(f"--eval-data {folder}: {error}") from None
        self.inputs = [(Path(pair.b).stem + ".png", pair) for pair in pairs.pairs]
        self.targets = []  # HR, read at the first evaluation, written to eval/real/ as pix2pix's
        self.real_dir = self.folder / "real"

    def _plan_inpaint(self, records: dict) -> None:
        """Inpainting: images and their mask files of one split of the masks layout (names paired and sizes
        checked now, from the files' headers); the images are the targets."""
        from translation.data.datasets import DataSetError
        from translation.data.inpaint import InpaintDataset

        c = self.config
        folder = self._split_folder()
        self.key = next(key for key, record in records.items() if record.get("inpaint"))
        self.direction = records[self.key]["direction"]
        try:
            items = InpaintDataset(folder.parent, folder.name, preprocess="none", flip=False,
                                   max_size=c.eval_count).items
        except (DataSetError, ValueError) as error:
            raise ValueError(f"--eval-data {folder}: {error} (the evaluation fills the same holes every time: "
                             "mask files beside the images)") from None
        self.inputs = [(Path(item.image).stem + ".png", item) for item in items]
        self.targets = []  # the images, written to eval/real/ at the first evaluation as pix2pix's targets
        self.real_dir = self.folder / "real"

    def _plan_domains(self, records: dict) -> None:
        """StarGAN: the test split of a labelled data set, each image to every domain."""
        from translation.data.datasets import DataSetError
        from translation.data.labelled import open_labelled_set

        c = self.config
        self.real_dir = Path(c.eval_data)
        self._images(self.real_dir, "--eval-data")
        source = c.eval_inputs or c.data
        flag = "--eval-inputs" if c.eval_inputs else "--data"
        try:
            self.labelled = open_labelled_set(source, "test", attrs=c.attrs, crop_size=c.crop_size,
                                              image_size=c.image_size, flip=False, input_nc=c.input_nc,
                                              max_dataset_size=c.eval_count)
        except (DataSetError, ValueError, OSError) as error:
            raise ValueError(f"{flag} {source}: {error} (StarGAN evaluates on the test split of --eval-inputs, "
                             "by default of --data)") from None
        if not len(self.labelled):
            raise ValueError(f"{flag} {source}: its test split holds no images")
        self.key = next(iter(records))
        self.record = records[self.key]

    def _plan_samples(self, records: dict) -> None:
        c = self.config
        self.real_dir = Path(c.eval_data)
        self.count = c.eval_count or len(self._images(self.real_dir, "--eval-data"))
        self.keys = [key for key, record in records.items() if record["task"] == "sample"]
        self.record = records[self.keys[0]]

    def _check_sizes(self) -> None:
        """A covariance (FID) or a kernel mean (KID) needs two images a side."""
        if self.kind == "samples":
            outputs = self.count
        elif self.kind == "domains":
            outputs = len(self.labelled) * len(self.record["domains"])
        else:
            outputs = len(self.inputs)
        real = len(self.inputs) if self.targets is not None else len(self._images(self.real_dir, "--eval-data"))
        if min(real, outputs) < 2:
            which = f"--eval-data {self.config.eval_data} holds" if real < 2 else "the evaluation makes"
            raise ValueError(f"--eval-metrics {self.config.eval_metrics}: {which} {min(real, outputs)} image(s); "
                             "the unpaired metrics compare sets of at least 2")

    def _inception(self):
        if self.config.eval_features == "digits":
            return None
        from translation.metrics.inception import load_inception
        from translation.metrics.weights import InceptionWeightsError

        try:
            model = load_inception(self.config.inception_weights or None, self.device)
        except InceptionWeightsError as error:
            one_line = " ".join(str(error).split())  # its advice spans lines: one line here, as every check
            raise ValueError(f"--eval-every needs the FID Inception weights: {one_line}") from None
        if not model.standard:
            print("note: --eval-every: these are not pytorch-fid's Inception weights: the numbers do not compare "
                  "with published ones", file=sys.stderr)
        return model

    # --- one evaluation --------------------------------------------------------------------------------
    def due(self, step: int, total: int) -> bool:
        return step % self.config.eval_every == 0 or step == total

    def run(self, step: int, writer, best: dict) -> tuple[dict | None, list[str]]:
        """Evaluate at `step` and log to TensorBoard; (the new best slot or None, lines for the user)."""
        started = time.time()
        results = self.evaluate()
        for result in results:
            writer.add_scalar(f"eval/{result.name}", result.value, step)
        new_best = self.better(results, best, step)
        lines = [f"warning: eval: {w}" for w in self._new_warnings(results)]
        lines.append(summary_line(step, results, new_best or best) + f" in {time.time() - started:.0f} s")
        return new_best, lines

    def _new_warnings(self, results: list) -> list[str]:
        """Each warning once per run (FID's on a small set would otherwise repeat at every evaluation)."""
        fresh = [w for r in results for w in r.warnings if w not in self._warned]
        self._warned.update(fresh)
        return fresh

    def evaluate(self) -> list:
        """Write the images of this step to eval/latest/ and score them; every random state is as before."""
        state = capture_rng_state()
        try:
            latest = self._write_outputs()
            return self._score(latest)
        finally:
            restore_rng_state(state)

    def _generator(self, key: str) -> tuple[torch.nn.Module, str]:
        """A fresh net holding the weights inference would use (the moving average where the run keeps one)."""
        ema = self.engine.ema.get(key)
        net = build_net(self.model.net_specs[key])
        net.load_state_dict((ema.average if ema is not None else self.model.nets[key]).state_dict())
        return net, "ema" if ema is not None else "raw"

    def _outputs(self):
        """(file name, image in [0, 1]) of every output of this evaluation."""
        if self.kind == "samples":
            yield from self._samples()
        elif self.kind == "domains":
            yield from self._domain_outputs()
        else:
            yield from self._translations()

    def _translations(self):
        net, weights = self._generator(self.key)
        record = self.model.generators()[self.key]
        translator = Translator(net, self.model.net_specs[self.key], self.direction, self.model.test_mode,
                                self.device, weights=weights, label_nc=int(record.get("label_nc", 0)),
                                instance=bool(record.get("instance")), hole_fill=hole_fill(record))
        per_batch = TRANSLATE_BATCH if translator.batches_images else 1
        group: list = []
        for name, image in self._inputs(translator):
            if group and (len(group) == per_batch or group[0][1].shape != image.shape):
                yield from self._translate(translator, group)
                group = []
            group.append((name, image))
        yield from self._translate(translator, group)

    @staticmethod
    def _translate(translator: Translator, group: list):
        outputs = translator.translate_batch([image for _, image in group], [image_seed(SEED, n) for n, _ in group])
        yield from zip((name for name, _ in group), outputs)

    def _inputs(self, translator: Translator):
        for name, source in self.inputs:
            if self.targets is None:
                yield name, read_channels(source, translator.in_channels)
                continue
            # pix2pix: the pair read as training reads it (the direction applied), at its own size
            c = self.config
            if self.kind == "superres":  # Pair(a=LR, b=HR); no --direction
                image, target = read_channels(source.a, c.input_nc), read_channels(source.b, c.input_nc)
            elif self.kind == "inpaint":  # MaskedImage: the image is the target, its mask says what to fill
                target = read_channels(source.image, translator.read_channels)
                mask = read_mask(source.mask)
                check_mask_size(mask, target.shape, source.mask, source.image)  # a file replaced since the check
                image = translator.prepare(target, mask=mask, name=str(source.image))
            elif translator.label_nc or translator.instance:  # pix2pixHD: label (and instance) maps
                image, target = self._label_input(translator, source)
                image = translator.prepare(image, read_id_map(source.inst) if translator.instance else None,
                                           name=str(source.a))
            else:
                forward = c.direction == "AtoB"
                a, b = load_pair(source, *((c.input_nc, c.output_nc) if forward else (c.output_nc, c.input_nc)))
                image, target = (a, b) if forward else (b, a)
            if not self._targets_written:
                self.targets.append((name, target))
            yield name, image

    def _label_input(self, translator: Translator, pair) -> tuple:
        """(input, target) of a pix2pixHD pair: the input a label map of ids (checked) or an image."""
        c = self.config
        source, target = (pair.a, pair.b) if c.direction == "AtoB" else (pair.b, pair.a)
        if translator.label_nc:
            ids = read_id_map(source)
            check_label_range(ids, translator.label_nc, source)
            return ids, read_channels(target, c.output_nc)
        return read_channels(source, c.input_nc), read_channels(target, c.output_nc)

    @torch.no_grad()
    def _domain_outputs(self):
        from translation.labels import exclusive_indices, one_change_each

        net, weights = self._generator(self.key)
        spec = self.model.net_specs[self.key]
        translator = Translator(net, spec, "to every domain", self.model.test_mode, self.device, weights=weights)
        domains, kind = self.record["domains"], self.record["label_kind"]
        exclusive = exclusive_indices(domains, self.record.get("exclusive", []))
        for index in range(len(self.labelled)):
            sample = self.labelled[index]
            path = Path(sample["path"])
            targets = torch.cat(one_change_each(sample["label"][None], kind, exclusive)).to(self.device)
            torch.manual_seed(image_seed(SEED, path.name))  # paper mode: as DomainTranslator, a seed per image
            images = translator.net(sample["A"][None].to(self.device).expand(len(domains), -1, -1, -1), targets)
            for domain, image in zip(domains, images):
                yield f"{path.stem}_{domain}.png", to_image(image)

    def _samples(self):
        from translation.inference.sampling import Sampler
        from translation.nets.latent_codes import LatentCodes

        nets, weights = {}, "raw"
        for key in self.keys:
            nets[key], weights = self._generator(key)
            nets[key].to(self.device).eval()
        sampler = Sampler(nets, self.record["z_dim"], list(self.record.get("classes") or []), weights, self.device,
                          codes=LatentCodes.from_record(self.record.get("codes")))  # InfoGAN: codes from their priors
        n, k = self.count, len(self.keys)
        # as `translation sample -n n --seed 0`: image i from z number i // k and generator i mod k
        z = sampler.noise(math.ceil(n / k), SEED).repeat_interleave(k, dim=0)[:n]
        labels = torch.tensor([i // k % len(sampler.classes) for i in range(n)]) if sampler.classes else None
        images = sampler.generate(z, labels, which=torch.arange(n) % k)
        names = [f"sample_{i:04d}.png" for i in range(n)] if k == 1 else \
            [f"sample_{i // k:04d}_{self.keys[i % k]}.png" for i in range(n)]
        yield from zip(names, images)

    def _write_outputs(self) -> Path:
        latest = self._replace_folder(self.folder / "latest", self._outputs())
        if self.targets is not None and not self._targets_written:  # pix2pix: once per process, as read
            self._replace_folder(self.real_dir, self.targets)
            self._targets_written = True
            self.targets.clear()  # on disk now; only their being there (not None) matters from here on
        return latest

    @staticmethod
    def _replace_folder(folder: Path, images) -> Path:
        """Write (name, image) pairs to a fresh folder that then replaces `folder`: never a mix of two steps."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        for leftover in folder.parent.glob(f".{folder.name}.*"):  # from a run killed mid-evaluation
            shutil.rmtree(leftover, ignore_errors=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        for name, image in images:
            write_image(fresh / name, image)
        if folder.exists():
            shutil.rmtree(folder)
        fresh.rename(folder)
        return folder

    def _score(self, latest: Path) -> list:
        paired = [m for m in self.metrics if m in PAIRED_METRICS]
        unpaired = [m for m in self.metrics if m not in PAIRED_METRICS]
        results = {}
        if paired:
            scores = evaluation.paired(self.real_dir, latest, paired, **self.protocol)
            results.update(zip(paired, scores))
        if unpaired:
            fake = self._features(latest, cached=False)
            if self._real is None:
                self._real = self._features(self.real_dir, cached=True)
            scores = evaluation.unpaired(self._real, fake, unpaired, suffix=self.suffix)
            results.update(zip(unpaired, scores))
        return [results[m] for m in self.metrics]

    def _features(self, folder: Path, cached: bool):
        if self.inception is None:
            return evaluation.digit_feature_set(folder)
        return evaluation.inception_feature_set(folder, self.inception, INCEPTION_BATCH, self.device, "fp32",
                                                "pytorch-fid", cached=cached)

    # --- the best step ---------------------------------------------------------------------------------
    @staticmethod
    def better(results: list, best: dict, step: int) -> dict | None:
        """The new best slot if this evaluation's first metric beats `best` (a best by another metric, from a
        resumed run evaluated otherwise, is replaced), else None."""
        first = results[0]
        previous = best["value"] if best.get("metric") == first.name else None
        if improves(first.name, first.value, previous):
            return {"metric": first.name, "value": float(first.value), "step": step}
        return None

    def keep_best(self, checkpoint: Path) -> Path:
        """Copy the checkpoint just saved to best.pt (atomically: a crash leaves the previous best whole)."""
        with atomic_path(self.run_dir / BEST) as tmp:
            shutil.copyfile(checkpoint, tmp)
        return self.run_dir / BEST


def summary_line(step: int, results: list, best: dict) -> str:
    """`eval step 500: fid 77.2, kid 0.0123 (best fid 70.1 at step 400)` for above the progress bar."""
    numbers = ", ".join(f"{r.name} {r.value:.4g}" for r in results)
    return f"eval step {step}: {numbers} (best {best['metric']} {best['value']:.4g} at step {best['step']})"



def _official_split(folder: Path) -> str:
    """The split to evaluate on in `folder`: a pix2pixHD data set's test_*/val_* folders (its splits are
    <split>_label/, <split>_img/ side by side, not folders of their own), else the folder itself as "train"."""
    for split in ("test", "val"):
        if any((folder / f"{split}_{kind}").is_dir() for kind in ("label", "A")):
            return split
    if any((folder / f"train_{kind}").is_dir() for kind in ("label", "A")):
        raise ValueError(f"--eval-data {folder}: its official pix2pixHD folders hold no test_label/ (or test_A/) "
                         "to evaluate on, only the training split")
    return "train"
