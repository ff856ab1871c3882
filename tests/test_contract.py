"""The contract every registered model keeps, checked for each one from the registry (not from a hand list).

For every model name the registry knows, from its tiny config (tests/tiny_configs.py):
  - one engine step on a CPU trains each phase's nets, and leaves the weights and gradients of the nets a
    phase freezes as they were; the health monitor finds each generator's adversarial terms and its judge's,
    and generated images to probe;
  - its config survives the run's config.yaml;
  - the saved checkpoint, loaded as `translate` / `sample` load it, gives the pixels the trained model in
    memory gives (the moving average and the raw weights both);
  - two steps, a checkpoint and a resumed third step end exactly where three uninterrupted steps end.
A model registered without a tiny config fails here by name. And, read from the source: no gradient code in
models/ or losses/ beyond the exceptions named here, and no private attribute reached across classes.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import math
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from translation.checkpoint import read_checkpoint
from translation.config import from_dict, load_yaml
from translation.inference.domain_translator import DomainRequest, DomainTranslator, load_domain_translator
from translation.inference.mask_inputs import hole_fill
from translation.inference.sampling import Sampler, load_sampler
from translation.inference.translator import Translator, load_translator
from translation.models import CONFIGS, model_class
from translation.models.base import MODELS, GANModel, register_model
from translation.training.engine import Engine
from translation.training.health import adversarial_terms, judge_of, probe_outputs
from translation.training.trainer import Trainer
from translation.utils.device import seed_everything

from conftest import REPO
from tiny_configs import missing_tiny_configs, registered_models, tiny_config, tiny_data

CPU = torch.device("cpu")
# a short run that writes its checkpoint at the end only; a moving average, so that inference has both
# kinds of weights to choose from
RUN = dict(steps=3, log_every=1000, image_every=1000, save_every=1000, seed=1, ema_decay=0.9)


def test_every_registered_model_has_a_tiny_config():
    assert missing_tiny_configs() == [], "add a tiny config for these models to TINY in tests/tiny_configs.py"


def test_a_model_registered_without_a_tiny_config_is_named(monkeypatch):
    base = CONFIGS["dcgan"]

    @dataclasses.dataclass
    class UntestedConfig(base):
        pass

    monkeypatch.setitem(CONFIGS, "untested", UntestedConfig)
    try:
        @register_model("untested")
        class Untested(model_class("dcgan")):
            config_class = UntestedConfig

        assert missing_tiny_configs() == ["untested"]
        with pytest.raises(KeyError, match="model 'untested' has no tiny config: add one to TINY"):
            tiny_config("untested", "digits")
    finally:
        MODELS.pop("untested", None)  # CONFIGS is restored by monkeypatch


# --- one engine step ---------------------------------------------------------------------------------------
def _weights_and_gradients(model: GANModel, keys) -> dict:
    return {key: [(p.detach().clone(), None if p.grad is None else p.grad.clone())
                  for p in model.nets[key].parameters()] for key in keys}


def _same(a: list, b: list) -> bool:
    return all(torch.equal(p, q) and (g is None) == (h is None) and (g is None or torch.equal(g, h))
               for (p, g), (q, h) in zip(a, b))


def _moved(a: list, b: list) -> bool:
    return any(not torch.equal(p, q) for (p, _), (q, _) in zip(a, b))


@pytest.mark.parametrize("name", registered_models())
def test_one_step_trains_each_phases_nets_and_no_other(name, tmp_path):
    config = tiny_config(name, tiny_data(name, tmp_path / "data"), tmp_path / "runs")
    seed_everything(0)
    cls = model_class(name)
    data = cls.build_dataset(config)
    model = cls(config, CPU, data)
    batch = next(iter(DataLoader(data, batch_size=config.batch_size)))
    engine = Engine(model)
    seen = {}

    def watched(phase):
        frozen = [key for key in model.nets if key not in phase.nets]
        before = {}

        def loss(outputs):  # the phase starts: its nets are unfrozen, the others frozen
            before.update(_weights_and_gradients(model, model.nets))
            return phase.loss(outputs)

        def after_step():  # right after the optimizer's step, before the phase's own hooks
            after = _weights_and_gradients(model, model.nets)
            seen[phase.name] = ([key for key in frozen if not _same(before[key], after[key])],
                                [key for key in phase.nets if not _moved(before[key], after[key])])

        return dataclasses.replace(phase, loss=loss, after_step=(after_step, *phase.after_step))

    engine.phases = [watched(phase) for phase in engine.phases]
    step = math.lcm(*(phase.every for phase in engine.phases)) - 1  # a step at which every phase is due
    engine.step(batch, step)
    assert set(seen) == {phase.name for phase in engine.phases}
    for phase, (touched, still) in seen.items():
        assert touched == [], f"{name}: phase {phase} changed the weights or gradients of frozen nets {touched}"
        assert still == [], f"{name}: phase {phase} did not train its nets {still}"
    losses = engine.losses.pop_means()
    assert losses and all(math.isfinite(value) for value in losses.values()), losses

    # what the health monitor reads: each generator's adversarial terms and its judge's, and generated
    # images beside real ones from the shared forward for the diversity probe
    terms = getattr(model, "adversarial_terms", None) or adversarial_terms(losses, model.nets)
    critics = [net for net in terms if net.startswith("D")]
    judged = any(spec["kind"] == "discriminator" for spec in model.net_specs.values())
    for key in model.generators() if judged else ():  # a model without a D (srresnet) has no adversarial terms
        assert terms.get(key) and judge_of(key, critics), f"{name}: health finds no adversarial terms for {key} " \
            f"or its discriminator among {sorted(losses)}: name them after the nets, or declare adversarial_terms"
    probes = probe_outputs(model, batch, chunk_size=config.batch_size, autocast=nullcontext)
    assert probes, f"{name}: no output of forward() is named fake*, beside a real* one, for the diversity probe"
    assert all(fake.shape[1:] == real.shape[1:] for fake, real in probes.values())


# --- a run: config, checkpoint, inference, resume ----------------------------------------------------------
def _equal(a, b, where="checkpoint") -> None:
    """Nested dicts, lists and tensors equal to the bit, naming the first place they differ."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            _equal(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        if not (isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)):
            pytest.fail(f"{where} differs")  # the first difference; the tensors themselves say little
    elif a != b:
        pytest.fail(f"{where}: {a!r} != {b!r}")


def _in_memory(trainer: Trainer, key: str, use_ema: bool) -> tuple[torch.nn.Module, str]:
    """A copy of the trained generator as it is in memory: its moving average where the run keeps one."""
    ema = trainer.engine.ema.get(key) if use_ema else None
    return copy.deepcopy(ema.average if ema is not None else trainer.model.nets[key]), "raw" if ema is None else "ema"


def _same_pixels_after_loading(trainer: Trainer, use_ema: bool) -> list[str]:
    """Each generator's outputs from the saved checkpoint and from memory; returns the tasks compared."""
    model, run_dir = trainer.model, trainer.run_dir
    records = model.generators()
    tasks = []
    rng = np.random.default_rng(0)
    for key, record in records.items():
        spec = model.net_specs[key]
        net, weights = _in_memory(trainer, key, use_ema)
        if record["task"] == "translate":
            loaded = load_translator(run_dir, record["direction"], use_ema=use_ema)
            kept = Translator(net, spec, record["direction"], model.test_mode, CPU, weights=weights,
                              hole_fill=hole_fill(record))
        elif record["task"] == "translate_to_domain":
            request = DomainRequest(to=[record["domains"][0]], source=[record["domains"][-1]])
            loaded = load_domain_translator(run_dir, request, use_ema=use_ema)
            kept = DomainTranslator(net, spec, record, request, model.test_mode, CPU, weights=weights)
        else:
            loaded = load_sampler(run_dir, use_ema=use_ema, generator=key)
            kept = Sampler({key: net.eval()}, record["z_dim"], list(record["classes"] or []), weights, CPU)
            z = kept.noise(4, seed=0)
            labels = torch.arange(4) % len(kept.classes) if kept.classes else None
            assert loaded.weights == weights and loaded.classes == kept.classes
            for a, b in zip(loaded.generate(z, labels), kept.generate(z, labels)):
                assert np.array_equal(a, b), f"{key}: the loaded sampler draws other pixels"
            tasks.append(record["task"])
            continue
        assert (loaded.weights, loaded.test_mode) == (weights, model.test_mode)
        # inpainting generators (record "inpaint") read a mask with each image, not a channel of it: a middle hole
        inpaint = record.get("inpaint", False)
        image = rng.random((24, 24, loaded.read_channels if inpaint else loaded.in_channels)).astype(np.float32)
        mask = np.pad(np.ones((8, 8, 1), np.float32), ((8, 8), (8, 8), (0, 0))) if inpaint else None
        assert np.array_equal(loaded.translate(image, seed=5, mask=mask), kept.translate(image, seed=5, mask=mask)), \
            f"{key}: the loaded translator gives other pixels"
        tasks.append(record["task"])
    return tasks


@pytest.mark.parametrize("name", registered_models())
def test_a_run_saves_loads_and_resumes_exactly(name, tmp_path):
    cls = model_class(name)
    data = tiny_data(name, tmp_path / "data")
    config = tiny_config(name, data, tmp_path / "straight", **RUN)
    straight = Trainer(cls, config, progress=False)
    straight.fit()

    assert from_dict(CONFIGS[name], load_yaml(config.run_dir / "config.yaml")) == config

    assert _same_pixels_after_loading(straight, use_ema=True)
    _same_pixels_after_loading(straight, use_ema=False)

    split = tiny_config(name, data, tmp_path / "split", **RUN)
    first = Trainer(cls, split, progress=False)
    first.fit(until_step=2)
    assert first.stopped and first.step == 2
    Trainer(cls, split, resume=True, progress=False).fit()
    whole, resumed = read_checkpoint(config.run_dir), read_checkpoint(split.run_dir)
    assert whole["step"] == resumed["step"] == 3
    ignored = {"config"}  # the run folders differ
    _equal({k: v for k, v in whole.items() if k not in ignored}, {k: v for k, v in resumed.items() if k not in ignored})


# --- read from the source ----------------------------------------------------------------------------------
PACKAGE = REPO / "translation"
# what only the engine does: gradients, optimizer steps, freezing, mixed precision, reading weights' gradients
ENGINE_ONLY = {"backward", "step", "zero_grad", "requires_grad", "requires_grad_", "autograd.grad", "grad",
               "GradScaler", "autocast"}
# (file, function, name) that a loss needs for a gradient of its own, which updates no net
ALLOWED_GRADIENT_CODE = {
    # the penalties' gradient of D's scores with respect to the images (WGAN-GP, DRAGAN, R1)
    ("losses/regularizers.py", "_input_gradients", "requires_grad_"),
    ("losses/regularizers.py", "_input_gradients", "autograd.grad"),
    # UnrolledGAN's look-ahead: gradient steps on copies of D's weights, kept in G's graph; D is not touched
    ("losses/unrolled.py", "unrolled_critic", "requires_grad_"),
    ("losses/unrolled.py", "unrolled_critic", "autograd.grad"),
    # the VGG19 of the perceptual loss is a fixed measuring net, never trained: no gradients for its weights
    ("losses/vgg.py", "load_vgg19_features", "requires_grad_"),
}


def _enclosing(tree: ast.AST):
    """(node, name of the innermost enclosing function or class, or "<module>") for every node."""
    def walk(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else scope
            yield child, inner
            yield from walk(child, inner)
    return walk(tree, "<module>")


def _gradient_code(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute) and node.attr == "grad":
        base = node.value
        return "autograd.grad" if (getattr(base, "attr", None) or getattr(base, "id", None)) == "autograd" else "grad"
    if isinstance(node, ast.Attribute) and node.attr in ENGINE_ONLY:
        return node.attr
    if isinstance(node, ast.Name) and node.id in ENGINE_ONLY - {"grad"}:  # `grad` is a fine variable name
        return node.id
    if isinstance(node, ast.alias) and node.name in ENGINE_ONLY:  # from torch.autograd import grad
        return node.name
    return None


def test_models_and_losses_never_touch_gradients_themselves():
    """The line between models and the engine: loss methods and losses return terms; backward, stepping,
    zeroing, freezing and autocast are the engine's, except the named uses a loss needs for itself
    (docstrings and comments may talk about them)."""
    found = set()
    for folder in ("models", "losses"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            for node, scope in _enclosing(ast.parse(path.read_text())):
                name = _gradient_code(node)
                if name:
                    found.add((f"{folder}/{path.name}", scope, name, getattr(node, "lineno", 0)))
    offenders = sorted(f"{file}:{line} in {scope}: {name}" for file, scope, name, line in found
                       if (file, scope, name) not in ALLOWED_GRADIENT_CODE)
    assert offenders == [], "gradient code belongs to training/engine.py"
    stale = ALLOWED_GRADIENT_CODE - {(file, scope, name) for file, scope, name, _ in found}
    assert stale == set(), "allowed but no longer there: remove from ALLOWED_GRADIENT_CODE"


# private attributes of another library's classes that a subclass of ours must use: (file, class, attribute)
ALLOWED_INHERITED_PRIVATES = {
    ("commands/arguments.py", "Parser", "_option_string_actions"),  # argparse.ArgumentParser's flag table
}


def test_no_private_attribute_is_reached_from_another_class():
    """`self._x` only in the class that defines _x (a subclass asks its parent through a public method),
    and `obj._x` never on an object of ours (torch's private classes, nn.modules.batchnorm._BatchNorm, are
    torch's to name)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        file = path.relative_to(PACKAGE).as_posix()
        tree = ast.parse(path.read_text())
        for cls in (node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)):
            own = set()
            for node in ast.walk(cls):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    own.add(node.name)
                elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                    own.add(node.attr)
                elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    own.add(node.id)  # class-level assignments
            for node in ast.walk(cls):
                if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                        and node.value.id in ("self", "cls") and node.attr not in own
                        and (file, cls.name, node.attr) not in ALLOWED_INHERITED_PRIVATES):
                    offenders.append(f"{file}:{node.lineno}: {cls.name} reaches {node.value.id}.{node.attr}, "
                                     "which another class defines")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _private(node.attr):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                    continue  # the class's own, checked above
                root = node.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if not (isinstance(root, ast.Name) and root.id in ("torch", "nn")):
                    offenders.append(f"{file}:{node.lineno}: {ast.unparse(node)} reaches into another object")
    assert offenders == []


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")
