"""Training health: the classic signs that a GAN run has failed, said once in the log and in TensorBoard.

Each sign is an *episode*: one line when it starts, one when it clears, never a line per step.

  D has won          D's adversarial loss stayed near 0 for `won_window` logs in a row: D is certain and
                     G's gradient vanishes. "Near 0" depends on the loss (HealthThresholds.near_zero), or
                     is the model's own `health_near_zero` (EBGAN: 5% of its margin, the energies' scale).
                     A WGAN critic's loss has no floor (its scores have no fixed offset), so for `wgan` the
                     sign is instead the critic gap E[D(real)] - E[D(fake)] = -(D's adversarial terms)
                     rising steadily and at least `critic_growth`-fold over `trend_window` logs.
  D stopped working  G's adversarial loss fell steadily over `trend_window` logs while D's rose: G found
                     something D cannot judge. Not judged for `wgan`: G's loss -E[D(fake)] drifts with the
                     critic's free offset, and a shrinking gap is what a WGAN should do.
  diversity collapse the mean pairwise L1 distance of G's outputs on a fixed probe batch fell below
                     `diversity_fraction` of the same statistic on the probe's real images (mode collapse;
                     for translation models: different inputs give near-identical outputs).

"Steadily" is Kendall's tau of the window against time (1: every later value is higher), which ignores
the scale of a loss and is hard for noise to fake: for 20 independent values |tau| >= 0.6 is a 3.7 sigma
event. Label smoothing raises D's floor above 0 (the entropy of its targets), which hides "D has won".

Nothing is judged, or recorded, during a warm-up of `warmup_steps` steps: a fresh generator gives nearly the
same image for every input (weights drawn from N(0, 0.02) pass little of the input through: a tiny pix2pix U-Net
starts at 0.09x the real images' diversity, which reads as a collapse) and the first losses are the start's
transient, not a trend. Adam moves each weight by about the learning rate per step, so only after
0.02 / 2e-4 = 100 steps (200 at StarGAN's 1e-4) can a weight have moved as far as its starting size; measured,
that U-Net (ngf 8, 32 px) passes 0.25x at step 60 and 0.6x at 200; a wider one (ngf 32, 64 px) is past
0.25x by step 10. The loss windows start filling after the warm-up, so a verdict on losses also needs
`won_window` or `trend_window` logs after it.

Which loss terms are adversarial (no model needs to declare anything): a term named after a net (NoiseGAN's
"G"; CycleGAN's D_A, D_B, G_A, G_B) is that net's, and D_real, D_fake (of net D) and G_GAN, G_fake (of net G)
are the conventional names of pix2pix, StarGAN and the noise GANs. Penalties, classification,
reconstruction and L1 terms are not adversarial. A model whose names differ declares them as a class
attribute `adversarial_terms = {"D": ("D_real", "D_fake"), "G": ("G_adv",)}`. D's loss is the mean of its
terms (pix2pix's (D_real + D_fake) / 2 is on CycleGAN's halved D_A scale); G net G_x is judged against D_x,
or against the only D.

The probe: a fixed batch of the training set (spread over it, each sample's seed fixed) goes through the
model's own shared forward, in chunks of the training batch size (batch norm sees batches as in training),
under a fixed seed (fixed z for noise GANs, fixed targets for StarGAN). Outputs named fake* are compared
with real* of the same suffix (fake_B with real_B, NoiseGAN's fake with real). The nets keep their
train/eval mode; the global RNG and the nets' buffers (batch-norm statistics) are restored afterwards, so
probing never changes a run (exact resume holds). The windows are not saved: after a resume they refill.
"""
from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

import torch
from torch.utils.data import default_collate

from translation.data.transforms import sample_seed

# the adversarial terms' conventional names, and the net each belongs to
CONVENTIONAL_TERMS = {"D_real": "D", "D_fake": "D", "G_GAN": "G", "G_fake": "G"}
# a D loss below this is "near 0": BCE 0.05 = D gives the right answer p ~ 0.95 on average (-ln 0.95);
# squares 0.02 = LSGAN outputs within ~0.14 of their targets; hinge 0.05 = nearly every score past the margin
NEAR_ZERO = {"minimax": 0.05, "vanilla": 0.05, "nonsaturating": 0.05, "ragan": 0.05, "lsgan": 0.02,
             "ralsgan": 0.02, "hinge": 0.05}
CRITICS = ("wgan",)


@dataclass(frozen=True)
class HealthThresholds:
    won_window: int = 10  # logs in a row D's loss must stay near 0
    near_zero: dict = field(default_factory=lambda: dict(NEAR_ZERO))  # per --gan-mode; a mode not here: not judged
    trend_window: int = 20  # logs over which a steady trend is judged
    trend_tau: float = 0.6  # |Kendall tau| that counts as steady; an episode clears below half of it
    min_change: float = 0.1  # G's fall must also be >= this fraction of its typical size (not a flat drift)
    critic_growth: float = 2.0  # a critic has won when its gap grew steadily by this factor over the window
    diversity_fraction: float = 0.25  # collapse: outputs' pairwise distance below this fraction of real data's
    probe_size: int = 16  # images in the fixed probe batch
    warmup_steps: int = 200  # steps before anything is judged (see the module's docstring)


def adversarial_terms(names, nets) -> dict[str, list[str]]:
    """{net: its adversarial loss terms} among the logged term `names`, by the naming rule above."""
    found: dict[str, list[str]] = {}
    for name in names:
        net = name if name in nets else CONVENTIONAL_TERMS.get(name)
        if net is not None and net[:1] in ("D", "G"):
            found.setdefault(net, []).append(name)
    return found


def judge_of(generator: str, discriminators: list[str]) -> str | None:
    """The D that judges G net `generator`: D_x for G_x, else the only D."""
    same = "D" + generator[1:]
    return same if same in discriminators else (discriminators[0] if len(discriminators) == 1 else None)


def kendall_tau(values) -> float:
    """Rank correlation of `values` with time: +1 always rising, -1 always falling, ~0 noise."""
    values = list(values)
    pairs = [(a, b) for i, a in enumerate(values) for b in values[i + 1:]]
    return sum((b > a) - (b < a) for a, b in pairs) / max(len(pairs), 1)


def halves(values) -> tuple[float, float]:
    """Means of the first and the second half of a window."""
    values = list(values)
    half = len(values) // 2
    return statistics.fmean(values[:half]), statistics.fmean(values[half:])


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean L1 distance per element between every two images of a batch."""
    flat = images.detach().float().flatten(1)
    n = flat.size(0)
    if n < 2:
        return float("nan")
    # one row against the rest at a time: cdist would hold n x n x pixels at once
    total = sum(float((flat[i + 1:] - flat[i]).abs().mean(1).sum()) for i in range(n - 1))
    return total / (n * (n - 1) / 2)


class HealthMonitor:
    """Fed with numbers, says what went wrong. `observe` takes each log's mean loss terms, `diversity` a
    probe's generated and real images; both return the lines to print (usually none) and, given a
    TensorBoard `writer`, write health/ scalars (0/1 per condition, the critic gap, the diversity ratio) and
    each line as text."""

    def __init__(self, gan_mode: str, nets, thresholds: HealthThresholds = HealthThresholds(), writer=None,
                 terms: dict | None = None, near_zero: float | None = None):
        self.gan_mode, self.nets, self.t, self.writer = gan_mode, tuple(nets), thresholds, writer
        self.terms = {net: list(names) for net, names in terms.items()} if terms else None
        self.critic = gan_mode in CRITICS
        # a model whose D loss is on its own scale (EBGAN's energies) says what near 0 is for it
        self.near_zero = near_zero if near_zero is not None else thresholds.near_zero.get(gan_mode)
        self.d_history: dict[str, deque] = {}  # D net -> its loss (a critic: its gap) per log
        self.pair_history: dict[str, deque] = {}  # G net -> (G's loss, its D's loss) per log where both ran
        self.active: set[str] = set()  # the episodes going on, e.g. "D_won/D_A"

    # --- losses ---------------------------------------------------------------------------------------
    def warming_up(self, step: int) -> bool:
        return step < self.t.warmup_steps

    def observe(self, step: int, losses: dict[str, float]) -> list[str]:
        if self.warming_up(step):
            return []
        terms = self.terms or adversarial_terms(losses, self.nets)
        values = {net: [losses[name] for name in names if name in losses] for net, names in terms.items()}
        values = {net: v for net, v in values.items() if v}  # a G trained every n-th step may be absent
        d_nets = [net for net in terms if net.startswith("D")]
        messages = []
        for net in d_nets:
            if net in values:
                messages += self._judge_d(step, net, values[net])
        for net in (net for net in terms if net.startswith("G")):
            d = judge_of(net, d_nets)
            if net in values and d in values and not self.critic:
                messages += self._judge_g(step, net, sum(values[net]), statistics.fmean(values[d]))
        return messages

    def _judge_d(self, step: int, net: str, terms: list[float]) -> list[str]:
        t = self.t
        if self.critic:
            gap = -sum(terms)
            history = self.d_history.setdefault(net, deque(maxlen=t.trend_window))
            history.append(gap)
            self._scalar(f"health/critic_gap/{net}", gap, step)
            if len(history) < t.trend_window:
                return []
            tau, (before, after) = kendall_tau(history), halves(history)
            growing = tau >= t.trend_tau and before > 0 and after >= t.critic_growth * before
            return self._episode(
                step, f"D_won/{net}", starts=growing, clears=tau < t.trend_tau / 2,
                started=f"{net} has won: the critic gap E[D(real)] - E[D(fake)] grew steadily from {before:.3g} "
                        f"to {after:.3g} over the last {t.trend_window} logs; G is falling behind",
                cleared=f"{net} no longer winning: the critic gap stopped growing ({gap:.3g})")
        if self.near_zero is None:
            return []
        loss = statistics.fmean(terms)
        history = self.d_history.setdefault(net, deque(maxlen=t.won_window))
        history.append(loss)
        if len(history) < t.won_window:
            return []
        return self._episode(
            step, f"D_won/{net}", starts=max(history) < self.near_zero,
            clears=statistics.median(history) >= self.near_zero,
            started=f"{net} has won: its loss stayed below {self.near_zero:g} for the last {t.won_window} logs "
                    f"(now {loss:.3g}); G gets almost no gradient",
            cleared=f"{net} no longer winning: its loss is back to {loss:.3g}")

    def _judge_g(self, step: int, net: str, g_loss: float, d_loss: float) -> list[str]:
        t = self.t
        history = self.pair_history.setdefault(net, deque(maxlen=t.trend_window))
        history.append((g_loss, d_loss))
        if len(history) < t.trend_window:
            return []
        g_series, d_series = [g for g, _ in history], [d for _, d in history]
        g_tau, d_tau = kendall_tau(g_series), kendall_tau(d_series)
        before, after = halves(g_series)
        fall = (before - after) / (statistics.fmean(abs(g) for g in g_series) + 1e-12)
        self._scalar(f"health/G_trend/{net}", g_tau, step)
        return self._episode(
            step, f"D_stopped/{net}", starts=g_tau <= -t.trend_tau and d_tau >= t.trend_tau
            and fall >= t.min_change, clears=g_tau > -t.trend_tau / 2 or d_tau < t.trend_tau / 2,
            started=f"{net}'s adversarial loss fell steadily ({before:.3g} -> {after:.3g}) while its "
                    f"discriminator's rose over the last {t.trend_window} logs: G may have found something D "
                    "cannot judge; look at the samples",
            cleared=f"{net}'s adversarial loss no longer falls steadily against a rising D loss")

    # --- diversity ------------------------------------------------------------------------------------
    def diversity(self, step: int, generated: torch.Tensor, real: torch.Tensor, name: str = "fake") -> list[str]:
        """Compare the outputs' mean pairwise distance with the real images'; `name` tells probes apart."""
        if self.warming_up(step):
            return []
        real_spread = mean_pairwise_distance(real)
        if not real_spread > 0:  # fewer than 2 images, or identical real images: nothing to compare with
            return []
        ratio = mean_pairwise_distance(generated) / real_spread
        self._scalar(f"health/diversity/{name}", ratio, step)
        fraction = self.t.diversity_fraction
        return self._episode(
            step, f"collapse/{name}", starts=ratio < fraction, clears=ratio >= fraction,
            started=f"{name}: sample diversity collapsed: the probe's outputs differ {ratio:.2f}x as much as "
                    f"real images (below {fraction:g}); the generator makes nearly the same image for "
                    "different inputs (mode collapse)",
            cleared=f"{name}: sample diversity recovered ({ratio:.2f}x the real images')")

    # --- episodes and TensorBoard ---------------------------------------------------------------------
    def _episode(self, step: int, key: str, starts: bool, clears: bool, started: str, cleared: str) -> list[str]:
        message = None
        if key not in self.active and starts:
            self.active.add(key)
            message = f"health warning at step {step}: {started}"
        elif key in self.active and clears:
            self.active.discard(key)
            message = f"health at step {step}: {cleared}"
        self._scalar(f"health/{key}", float(key in self.active), step)
        if message is None:
            return []
        if self.writer is not None:
            self.writer.add_text("health", message, step)
        return [message]

    def _scalar(self, tag: str, value: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar(tag, value, step)


# --- the probe ---------------------------------------------------------------------------------------------
def probe_batch(dataset, size: int) -> dict | None:
    """`size` samples spread over the data set, each with a fixed seed of its own (unpaired data then gives
    each A a different B partner), collated; None when there are fewer than 2."""
    n = min(size, len(dataset))
    if n < 2:
        return None
    indices = torch.linspace(0, len(dataset) - 1, n).round().long().tolist()
    return default_collate([dataset[(i, sample_seed(0, 0, i))] for i in indices])


def _chunks(batch: dict, size: int):
    n = next(len(v) for v in batch.values() if isinstance(v, torch.Tensor))
    for start in range(0, n, size):
        yield {key: value[start:start + size] for key, value in batch.items()}


@torch.no_grad()
def probe_outputs(model, batch: dict, chunk_size: int, autocast, seed: int = 0) -> dict[str, tuple]:
    """{name: (generated, real)} from the model's shared forward on `batch` (see the module's docstring)."""
    nets = model.nets
    saved = {name: buffer.clone() for name, buffer in nets.named_buffers()}
    devices = [model.device] if model.device.type == "cuda" else []
    outputs: dict[str, list] = {}
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        for chunk in _chunks(batch, chunk_size):
            chunk = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in chunk.items()}
            with autocast():
                out = model.forward(chunk)
            for key, value in out.items():
                if isinstance(value, torch.Tensor) and value.dim() == 4:
                    outputs.setdefault(key, []).append(value.float())
    for name, buffer in nets.named_buffers():
        buffer.copy_(saved[name])
    images = {key: torch.cat(parts) for key, parts in outputs.items()}
    return {key: (images[key], images["real" + key[4:]]) for key in images
            if key.startswith("fake") and "real" + key[4:] in images}


class TrainingHealth:
    """The monitor wired to a run: `losses` at each log, `samples` at each image sheet; both return lines
    for the log."""

    def __init__(self, model, dataset, writer, autocast, batch_size: int,
                 thresholds: HealthThresholds = HealthThresholds()):
        self.model, self.dataset, self.autocast, self.batch_size = model, dataset, autocast, batch_size
        self.thresholds = thresholds
        self.monitor = HealthMonitor(getattr(model.config, "gan_mode", ""), model.nets, thresholds, writer,
                                     terms=getattr(model, "adversarial_terms", None),
                                     near_zero=getattr(model, "health_near_zero", None))
        self.probe: dict | None = None
        self.probe_failed = False

    def losses(self, step: int, means: dict[str, float]) -> list[str]:
        return self.monitor.observe(step, means)

    def samples(self, step: int) -> list[str]:
        if self.monitor.warming_up(step):  # not even the probe's forward
            return []
        if self.probe is None and not self.probe_failed:
            try:
                self.probe = probe_batch(self.dataset, self.thresholds.probe_size)
            except Exception as error:  # any data error: the loader reports bad files; health just goes without
                self.probe_failed = True
                return [f"health: no diversity probe ({error}); diversity is not checked in this run"]
            self.probe_failed = self.probe is None
        if self.probe is None:
            return []
        messages = []
        for name, (generated, real) in probe_outputs(self.model, self.probe, self.batch_size, self.autocast).items():
            messages += self.monitor.diversity(step, generated, real, name)
        return messages
