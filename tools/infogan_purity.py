"""How well an InfoGAN checkpoint's first categorical code (c0) sorts the built-in digits, two ways:

  samples   G draws n images per category of c0 (z and the other codes from their priors); the digits classifier
            (metrics/digits.py) names each: purity = each category's share of its most common digit, averaged
  Q on data Q(D's features) names a category for each of the 1,797 real digits (the paper's use of c1 as a
            classifier: "5% error ... by matching each category in c1 to a digit type")
Each also gives the error after the best one-to-one matching of categories to digits (Hungarian). And the
mutual-information lower bound per kind of code and Q's accuracy on G's samples (models/infogan.py).

    .venv/bin/python tools/infogan_purity.py checkpoints/infogan_digits [-n 200] [--seed 0]
"""
from __future__ import annotations

import argparse
from types import SimpleNamespace

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from translation.checkpoint import read_checkpoint
from translation.data.image_sets import open_image_set
from translation.inference.sampling import load_sampler
from translation.nets.latent_codes import LatentCodes
from translation.metrics.digits import digit_features
from translation.models.infogan import mutual_information
from translation.nets import build_net


def scores(counts: np.ndarray) -> dict[str, float]:
    """counts[category, digit] -> purity (mean share of each category's top digit), the error after the best
    one-to-one category -> digit matching, and how many digits are some category's top digit."""
    rows, cols = linear_sum_assignment(-counts)
    purity = float(np.mean(counts.max(1) / np.maximum(counts.sum(1), 1)))
    return {"purity": purity, "matched_error": 1.0 - counts[rows, cols].sum() / counts.sum(),
            "digits_covered": len(set(counts.argmax(1).tolist()))}


def sample_counts(checkpoint, n: int = 200, seed: int = 0) -> np.ndarray:
    """counts[category of c0, digit the classifier names] over n samples per category."""
    sampler = load_sampler(checkpoint)
    k = sampler.codes.categorical[0]
    counts = np.zeros((k, 10), np.int64)
    for category in range(k):
        z = sampler.codes.set_code(sampler.noise(n, seed + category), "c0", category)
        _, logits = digit_features(sampler.generate(z))
        counts[category] = np.bincount(logits.argmax(1), minlength=10)
    return counts


def trained(checkpoint) -> SimpleNamespace:
    """The checkpoint's nets G, D and Q (trained weights) and codes, as mutual_information reads a model."""
    obj = read_checkpoint(checkpoint)
    nets = {}
    for key in ("G", "D", "Q"):
        nets[key] = build_net(obj["net_specs"][key])
        nets[key].load_state_dict(obj["nets"][key])
    codes = LatentCodes.from_record(obj["generators"]["G"]["codes"])
    return SimpleNamespace(nets=nets, codes=codes, device=torch.device("cpu"))


@torch.no_grad()
def q_counts(model: SimpleNamespace) -> np.ndarray:
    """counts[category Q names for c0, true digit] over the built-in digits."""
    D, Q, k = model.nets["D"].eval(), model.nets["Q"].eval(), model.codes.categorical[0]
    data = open_image_set("digits", D.image_size, labels=True)
    images = torch.stack([data[i]["image"] for i in range(len(data))])
    logits = Q(D.features(images))[:, :k]
    counts = np.zeros((k, 10), np.int64)
    np.add.at(counts, (logits.argmax(1).numpy(), np.asarray(data.labels)), 1)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("-n", type=int, default=200, help="samples per category (default: 200)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = trained(args.checkpoint)
    found = mutual_information(model, 2000, args.seed)
    print("MI lower bound (nats): " + ", ".join(f"{k} {v:.3f}" for k, v in found.items() if k.startswith("mi")) +
          f" (at most: cat {sum(np.log(model.codes.categorical)):.3f}); Q's accuracy on G's c0: "
          f"{found.get('accuracy_c0', float('nan')):.3f}")
    for name, counts in (("samples", sample_counts(args.checkpoint, args.n, args.seed)),
                         ("Q on the real digits", q_counts(model))):
        found = scores(counts)
        print(f"{name}: purity {found['purity']:.3f}, error after matching {found['matched_error']:.3f}, "
              f"{found['digits_covered']} of 10 digits are some category's top digit")
        print("  top digit per category:", " ".join(str(d) for d in counts.argmax(1)))


if __name__ == "__main__":
    main()
