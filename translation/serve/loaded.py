"""The models a server keeps in memory: an LRU of at most --max-models, each read from disk once.

A loaded model keeps what its file holds for inference (the generators' weights, their moving averages and
StarGAN's discriminator, which reads what an input is; not the optimizers) or its ONNX Runtime session, plus
the translators built from it so far, one per direction, test mode and precision. Another direction, test
mode or StarGAN target therefore never reads the file again: a new direction or mode builds a net from the
weights in memory, a new target reuses the built nets (DomainTranslator.for_request).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import torch

from translation.checkpoint import load_file, upgrade
from translation.inference.domain_translator import DomainRequest, DomainTranslator, domain_translator_from
from translation.inference.sampling import Sampler, sampler_from
from translation.inference.translator import Translator, translator_from
from translation.serve.catalog import Model

CRITIC = "D"  # StarGAN's discriminator, whose classifier reads what an input is (domain_translator.py)


def for_inference(obj: dict) -> dict:
    """The parts of a checkpoint that inference reads: generators' weights and averages, and the critic."""
    keep = set(obj["generators"]) | {CRITIC}
    ema = obj.get("ema") or {}
    return {**{k: v for k, v in obj.items() if k not in ("optimizers", "scalers", "extra", "rng", "rng_ranks")},
            "nets": {k: v for k, v in obj["nets"].items() if k in keep},
            "ema": {**ema, "nets": {k: v for k, v in (ema.get("nets") or {}).items() if k in keep}}}


class Loaded:
    """One model, read once. `lock`: its nets run one request at a time (test-time dropout seeds the global
    random generator, and paper mode's batch norm writes its statistics)."""

    def __init__(self, model: Model, device: torch.device):
        self.model, self.device = model, device
        self.lock = threading.Lock()
        self.built: dict[tuple, object] = {}
        path = model.checked_path()
        self.path = path
        if model.onnx:
            from translation.inference.onnx_translator import open_session

            self.session, self.meta = open_session(path, "cuda" if device.type == "cuda" else "cpu")
            self.obj = None
        else:
            self.obj = for_inference(upgrade(load_file(path), path))

    def _built(self, key: tuple, build):
        if key not in self.built:
            self.built[key] = build()
        return self.built[key]

    def translator(self, direction: str | None, test_mode: str | None, precision: str = "fp32") -> Translator:
        if self.obj is None:
            from translation.inference.onnx_translator import onnx_translator_from

            return onnx_translator_from(self.session, self.meta, self.path, direction, test_mode, precision=precision)
        return self._built(("translate", direction, test_mode, precision), lambda: translator_from(
            self.obj, self.path, direction, test_mode, self.device, precision=precision))

    def domain_translator(self, request: DomainRequest, test_mode: str | None,
                          precision: str = "fp32") -> DomainTranslator:
        if self.obj is None:
            from translation.inference.onnx_translator import onnx_translator_from

            return onnx_translator_from(self.session, self.meta, self.path, None, test_mode, request.to,
                                        request.source, precision=precision)
        # the nets do not depend on the targets; with --from given, the classifier is not needed
        reads_inputs = request.source is None
        base = self._built(("domain", test_mode, precision, reads_inputs), lambda: domain_translator_from(
            self.obj, self.path, DomainRequest(["all"], request.source), test_mode, self.device,
            precision=precision))
        return base.for_request(request)

    def sampler(self, precision: str = "fp32") -> Sampler:
        if self.obj is None:
            from translation.inference.onnx_translator import onnx_sampler_from

            return self._built(("sample",), lambda: onnx_sampler_from(self.session, self.meta, self.path,
                                                                      precision=precision))
        return self._built(("sample", precision), lambda: sampler_from(self.obj, self.path, self.device,
                                                                       precision=precision))


class LoadedModels:
    """Loaded models by id, the least recently used dropped beyond `max_models`. `reads` counts files read."""

    def __init__(self, catalog: dict[str, Model], device: torch.device, max_models: int = 4):
        if max_models < 1:
            raise ValueError(f"--max-models {max_models}: keep at least one model loaded")
        self.catalog, self.device, self.max_models = catalog, device, max_models
        self.entries: OrderedDict[str, Loaded] = OrderedDict()
        self.lock = threading.Lock()
        self.reads = 0

    def get(self, model_id: str) -> Loaded:
        """The model, loaded now if it is not (under the lock: two requests for it read the file once)."""
        with self.lock:
            entry = self.entries.get(model_id)
            if entry is None:
                entry = Loaded(self.catalog[model_id], self.device)
                self.reads += 1
                self.entries[model_id] = entry
                while len(self.entries) > self.max_models:
                    self.entries.popitem(last=False)
            self.entries.move_to_end(model_id)
            return entry

    def loaded_ids(self) -> list[str]:
        with self.lock:
            return list(self.entries)
