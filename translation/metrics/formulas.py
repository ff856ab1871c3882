"""The unpaired GAN metrics as functions on feature arrays (float64, shape (N, D)) and classifier logits.

Every function returns a MetricResult (value, std where the metric has one, details, warnings, what is ideal).
UNPAIRED_METRICS maps the names the CLI accepts to callables with one signature,
``metric(real_features, fake_features, real_logits=None, fake_logits=None, *, seed=None)``, so that
``translation evaluate --metrics all`` computes everything from one pass of feature extraction;
format_table and results_to_dict print and serialise a list of results.

Conventions, chosen to give the numbers of the standard tools on the same features:
  FID     pytorch-fid's calculate_frechet_distance step for step (scipy's sqrtm, the eps retry, the check on the
          imaginary part); method="eigh" gets the same trace from two symmetric eigen-decompositions, ~10x faster.
  KID     torch-fidelity's estimator and subset draws (numpy RandomState, generated subset drawn before the real
          one, seed 2020); subset_size is capped at the smaller set as clean-fid does (torch-fidelity refuses).
  IS      softmax over all the logits given: the FID Inception's 1008 logits without the bias (logits_unbiased),
          as the original TF code and torch-fidelity; samples shuffled with RandomState(2020), then 10 splits of
          consecutive samples, std with ddof=0: torch-fidelity's defaults (the original TF code does not
          shuffle, so files sorted by class gave it splits of one class each). Mode Score takes the same logits.
Sample sets larger than memory allows are handled in row chunks (translation.metrics.neighbours).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.linalg
from scipy.special import log_softmax

from translation.metrics import neighbours

DEFAULT_SEED = 2020  # torch-fidelity's default rng_seed, so that KID subsets match it
ArrayLike = Any  # numpy arrays, torch tensors (on the CPU) or nested lists


class MetricWarning(UserWarning):
    """A metric's value is computed but should be read with care (the reason is in the message)."""


class RankDeficientWarning(MetricWarning):
    """FID from fewer samples than feature dimensions + 1: the covariance estimates are singular."""


@dataclass
class MetricResult:
    """One metric's outcome. ``value`` is the headline number; ``details`` holds secondary numbers (recall next to
    precision, per-class accuracies, the subset size or bandwidth used); ``warnings`` what makes it doubtful."""
    name: str
    value: float
    std: float | None = None
    ideal: str = ""
    details: dict[str, float | int | str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "std": self.std, "ideal": self.ideal, "details": dict(self.details),
                "warnings": list(self.warnings)}


# ---------------------------------------------------------------------------------------------- inputs

def as_features(x: ArrayLike, what: str = "features") -> np.ndarray:
    """A float64 (N, D) array; a clear error for a wrong shape, no samples or non-finite values."""
    if hasattr(x, "detach"):  # a torch tensor
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what}: expected a 2-D array (samples, dimensions), got shape {x.shape}")
    if len(x) == 0:
        raise ValueError(f"{what}: no samples")
    if not np.isfinite(x).all():
        raise ValueError(f"{what}: {int((~np.isfinite(x)).sum())} values are NaN or infinite")
    return x


def _feature_pair(real: ArrayLike, fake: ArrayLike, what: str = "features") -> tuple[np.ndarray, np.ndarray]:
    real, fake = as_features(real, f"real {what}"), as_features(fake, f"generated {what}")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real and generated {what} differ in dimension: {real.shape[1]} vs {fake.shape[1]}")
    return real, fake


def _draw(rng: np.random.Generator, n: int, size: int) -> np.ndarray:
    """`size` distinct indices of range(n) in increasing order, or all of them when size >= n."""
    return np.arange(n) if size >= n else np.sort(rng.choice(n, size, replace=False))


# ---------------------------------------------------------------------------------------------- FID

def gaussian_statistics(features: ArrayLike, what: str = "features") -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, N - 1) of features, as pytorch-fid computes them for its .npz files."""
    x = as_features(features, what)
    if len(x) < 2:
        raise ValueError(f"{what}: a covariance needs at least 2 samples, got {len(x)}")
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _trace_sqrt_product_eigh(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    # S1 S2 is similar to S1^1/2 S2 S1^1/2, which is symmetric PSD: Tr (S1 S2)^1/2 = sum of sqrt of its eigenvalues
    r = _psd_sqrt(sigma1)
    m = r @ sigma2 @ r
    return float(np.sqrt(np.clip(np.linalg.eigvalsh((m + m.T) / 2), 0.0, None)).sum())


def _trace_sqrt_product_sqrtm(sigma1: np.ndarray, sigma2: np.ndarray, eps: float, notes: list[str]) -> float:
    # pytorch-fid's steps: sqrtm of the product; if not finite, retry with eps on both diagonals; drop an
    # imaginary part that is only rounding (diagonal within 1e-3)
    with warnings.catch_warnings(record=True) as caught:  # scipy's warning, as a note of the result instead
        warnings.simplefilter("always", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if any(issubclass(w.category, scipy.linalg.LinAlgWarning) for w in caught):
        notes.append("FID: the covariance product is singular (scipy's sqrtm may be inaccurate): a set "
                     "has fewer images than feature dimensions, or some features do not vary")
    if not np.isfinite(covmean).all():
        notes.append(f"FID: the covariance product is singular; added {eps} to the diagonals (as pytorch-fid)")
        offset = np.eye(len(sigma1)) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            # pytorch-fid raises here; the eigenvalue route still gives the principal root's trace
            notes.append(f"FID: sqrtm left an imaginary component of {np.abs(covmean.imag).max():.3g} "
                         "(pytorch-fid would stop with an error); the trace was taken by eigenvalues instead")
            return _trace_sqrt_product_eigh(sigma1, sigma2)
        covmean = covmean.real
    return float(np.trace(covmean))


def _frechet(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float,
             method: str) -> tuple[float, list[str]]:
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    notes: list[str] = []
    if method == "sqrtm":
        tr_covmean = _trace_sqrt_product_sqrtm(sigma1, sigma2, eps, notes)
    elif method == "eigh":
        tr_covmean = _trace_sqrt_product_eigh(sigma1, sigma2)
    else:
        raise ValueError(f"unknown FID method {method!r}: use 'sqrtm' (pytorch-fid's) or 'eigh'")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean), notes


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, *, eps: float = 1e-6,
                     method: str = "sqrtm") -> float:
    """Fréchet distance ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2) between two Gaussians (Heusel et al. 2017,
    "GANs trained by a two time-scale update rule converge to a local Nash equilibrium"). Ideal: 0.

    method="sqrtm" follows pytorch-fid's calculate_frechet_distance (same value to rounding); "eigh" computes
    Tr (S1 S2)^1/2 from the eigenvalues of S1^1/2 S2 S1^1/2 (the same number to ~1e-10 relative, several times
    faster at D = 2048). Notes on the computation (singular product, imaginary part) are MetricWarnings.
    """
    value, notes = _frechet(mu1, sigma1, mu2, sigma2, eps, method)
    for note in notes:
        warnings.warn(note, MetricWarning, stacklevel=2)
    return value


def _rank_warning(n_real: int | None, n_fake: int | None, dim: int) -> str | None:
    short = [f"{n} {side}" for side, n in (("real", n_real), ("generated", n_fake)) if n is not None and n < dim + 1]
    if not short:
        return None
    return (f"FID: {' and '.join(short)} samples for {dim} feature dimensions: the covariance estimates are "
            f"rank-deficient (full rank needs at least {dim + 1} samples per set), so FID is biased and hard to "
            "compare across set sizes; prefer KID, which is unbiased at any size")


def _fid_result(mu_real: ArrayLike, sigma_real: ArrayLike, mu_fake: ArrayLike, sigma_fake: ArrayLike,
                n_real: int | None, n_fake: int | None, eps: float, method: str) -> tuple[MetricResult, int]:
    """The FID result, and how many of its warnings (the first ones) are computation notes rather than the
    rank-deficiency warning."""
    value, notes = _frechet(mu_real, sigma_real, mu_fake, sigma_fake, eps, method)
    n_notes = len(notes)
    rank_note = _rank_warning(n_real, n_fake, int(np.size(mu_real)))
    notes += [rank_note] if rank_note else []
    details: dict[str, float | int | str] = {"method": method}
    details.update({k: n for k, n in (("n_real", n_real), ("n_fake", n_fake)) if n is not None})
    return MetricResult("fid", value, ideal="0 (lower is better)", details=details, warnings=notes), n_notes


def _warn_fid(result: MetricResult, n_notes: int) -> MetricResult:
    for i, note in enumerate(result.warnings):
        warnings.warn(note, MetricWarning if i < n_notes else RankDeficientWarning, stacklevel=3)
    return result


def fid_from_statistics(mu_real: ArrayLike, sigma_real: ArrayLike, mu_fake: ArrayLike, sigma_fake: ArrayLike, *,
                        n_real: int | None = None, n_fake: int | None = None, eps: float = 1e-6,
                        method: str = "sqrtm") -> MetricResult:
    """FID (Heusel et al. 2017) from saved statistics (pytorch-fid's .npz mu, sigma). Ideal: 0, lower is better.

    n_real / n_fake, the sample counts behind each sigma when known, enable the rank-deficiency warning
    (RankDeficientWarning, also in result.warnings): the value is still reported.
    """
    return _warn_fid(*_fid_result(mu_real, sigma_real, mu_fake, sigma_fake, n_real, n_fake, eps, method))


def fid(real_features: ArrayLike, fake_features: ArrayLike, *, eps: float = 1e-6,
        method: str = "sqrtm") -> MetricResult:
    """Fréchet Inception Distance (Heusel et al. 2017) between two feature sets (pytorch-fid: 2048-d pool3).
    Ideal: 0, lower is better. Fewer samples than dimensions + 1 gives a RankDeficientWarning (value still
    reported, and in result.warnings; KID is the metric for such sets)."""
    real, fake = _feature_pair(real_features, fake_features)
    mu_r, s_r = gaussian_statistics(real, "real features")
    mu_f, s_f = gaussian_statistics(fake, "generated features")
    return _warn_fid(*_fid_result(mu_r, s_r, mu_f, s_f, len(real), len(fake), eps, method))


# ---------------------------------------------------------------------------------------------- KID and MMD

def unbiased_mmd2(sum_xx: float, sum_yy: float, sum_xy: float, m: int, n: int) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) from kernel sums: sum_xx and sum_yy over distinct pairs (i != j),
    sum_xy over all m * n pairs."""
    if m < 2 or n < 2:
        raise ValueError(f"unbiased MMD needs at least 2 samples per set, got {m} and {n}")
    return sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2.0 * sum_xy / (m * n)


def _offdiag_sum(k: np.ndarray) -> float:
    return float(k.sum() - np.trace(k))


# the full Gram matrices are precomputed (and subsets indexed out of them) when together they hold at most this
# many values (256 MB: up to ~3,200 samples per set); larger sets compute each subset's kernels, as torch-fidelity
KID_GRAM_ENTRIES = 32_000_000


def kid(real_features: ArrayLike, fake_features: ArrayLike, *, subsets: int = 100, subset_size: int = 1000,
        degree: int = 3, gamma: float | None = None, coef0: float = 1.0, seed: int = DEFAULT_SEED) -> MetricResult:
    """Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"): the unbiased MMD^2 with the
    polynomial kernel k(x, y) = (gamma x.y + coef0)^degree, gamma = 1/D by default, averaged over `subsets`
    random subsets of `subset_size` samples per set (mean, std with ddof=0). Ideal: 0 (small negative values
    are noise around 0); unbiased at any set size, hence the metric for test sets of a few hundred images.

    Defaults are torch-fidelity's and clean-fid's (100 subsets of 1000); the subset size is capped at the smaller
    set (clean-fid's rule; details["subset_size"] says what was used). Subsets are drawn without replacement with
    numpy's RandomState(seed), generated then real, as torch-fidelity draws them (its input1 = generated), so the
    same features and seed give torch-fidelity's number.
    """
    real, fake = _feature_pair(real_features, fake_features)
    m = min(subset_size, len(real), len(fake))
    if m < 2 or subsets < 1:
        raise ValueError(f"KID needs at least 2 samples per set and 1 subset (got {len(real)} real, "
                         f"{len(fake)} generated, subsets={subsets})")
    gamma = 1.0 / real.shape[1] if gamma is None else gamma

    def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T * gamma + coef0) ** degree

    full = len(real) ** 2 + len(fake) ** 2 + len(real) * len(fake) <= KID_GRAM_ENTRIES
    if full:  # small sets: each kernel value once, not once per subset
        k_ff, k_rr, k_fr = gram(fake, fake), gram(real, real), gram(fake, real)
    whole = m == len(real) == len(fake)  # every subset is both whole sets: one value, std 0
    rng = np.random.RandomState(seed)
    mmds = np.empty(1 if whole else subsets)
    for i in range(len(mmds)):
        f = rng.choice(len(fake), m, replace=False)
        r = rng.choice(len(real), m, replace=False)
        if full:
            blocks = k_ff[np.ix_(f, f)], k_rr[np.ix_(r, r)], k_fr[np.ix_(f, r)]
        else:
            blocks = gram(fake[f], fake[f]), gram(real[r], real[r]), gram(fake[f], real[r])
        mmds[i] = unbiased_mmd2(_offdiag_sum(blocks[0]), _offdiag_sum(blocks[1]), float(blocks[2].sum()), m, m)
    notes = []
    if m < subset_size:
        notes.append(f"KID: subsets of {m} (the smaller set), not {subset_size}"
                     + ("; every subset is a whole set, so the std is 0" if whole else ""))
    return MetricResult("kid", float(mmds.mean()), float(mmds.std()), ideal="0 (lower is better)",
                        details={"subsets": subsets, "subset_size": m}, warnings=notes)


def median_heuristic_bandwidth(real_features: ArrayLike, fake_features: ArrayLike, *, max_samples: int = 1000,
                               seed: int = DEFAULT_SEED) -> float:
    """Median Euclidean distance between distinct points of the pooled sample (Gretton et al. 2012), on at most
    max_samples pooled points drawn with the seed."""
    real, fake = _feature_pair(real_features, fake_features)
    pooled = np.concatenate([real, fake])
    pooled = pooled[_draw(np.random.default_rng(seed), len(pooled), max_samples)]
    i, j = np.triu_indices(len(pooled), k=1)
    sigma = float(np.median(np.sqrt(neighbours.squared_distances(pooled, pooled)[i, j])))
    if sigma <= 0:
        raise ValueError("median heuristic: most pooled samples coincide (median distance 0); give a bandwidth")
    return sigma


def gaussian_mmd(real_features: ArrayLike, fake_features: ArrayLike, *, bandwidth: float | None = None,
                 seed: int = DEFAULT_SEED) -> MetricResult:
    """Kernel MMD^2 with the Gaussian kernel exp(-||x - y||^2 / (2 sigma^2)), unbiased estimator (Gretton et al.
    2012, "A kernel two-sample test"; one of the metrics compared by Xu et al. 2018, "An empirical study on
    evaluation metrics of generative adversarial networks"). sigma: `bandwidth`, or the median heuristic on up to
    1000 pooled samples drawn with `seed`. All pairs of both whole sets are used (in chunks).
    Ideal: 0 (small negative values are noise around 0).
    """
    real, fake = _feature_pair(real_features, fake_features)
    sigma = median_heuristic_bandwidth(real, fake, seed=seed) if bandwidth is None else float(bandwidth)
    if sigma <= 0:
        raise ValueError(f"MMD bandwidth must be positive, got {sigma}")

    def kernel(d2: np.ndarray) -> np.ndarray:
        return np.exp(-d2 / (2.0 * sigma**2))

    value = unbiased_mmd2(neighbours.kernel_sum(real, real, kernel, same=True),
                          neighbours.kernel_sum(fake, fake, kernel, same=True),
                          neighbours.kernel_sum(real, fake, kernel), len(real), len(fake))
    return MetricResult("mmd", value, ideal="0 (lower is better)",
                        details={"bandwidth": sigma, "bandwidth_from": "median" if bandwidth is None else "given"})


# ---------------------------------------------------------------------------------------------- IS and Mode Score

def class_log_probabilities(logits: ArrayLike, *, from_probabilities: bool = False) -> np.ndarray:
    """log p(y|x) per row: log-softmax of logits over all their columns, or the log of given probabilities."""
    x = as_features(logits, "probabilities" if from_probabilities else "logits")
    if not from_probabilities:
        return log_softmax(x, axis=1)
    if (x < 0).any() or not np.allclose(x.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("probabilities must be non-negative with rows summing to 1 (or pass logits)")
    with np.errstate(divide="ignore"):
        return np.log(x)


def _kl_rows(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """KL(p_i || q) per row, with 0 log 0 = 0."""
    p = np.exp(log_p)
    with np.errstate(invalid="ignore"):
        return np.where(p > 0, p * (log_p - log_q), 0.0).sum(axis=-1)


def _log_marginal(log_p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(np.exp(log_p).mean(axis=0))


def _split_scores(log_p: np.ndarray, splits: int, score: Callable[[np.ndarray], float],
                  shuffle_seed: int | None) -> np.ndarray:
    # consecutive splits [i N / s, (i + 1) N / s), as the original code and torch-fidelity cut them, of the
    # samples permuted first by RandomState(shuffle_seed) as torch-fidelity does: files named or foldered by
    # class would otherwise put one class in each split, and every split would score about 1
    n = len(log_p)
    if not 1 <= splits <= n:
        raise ValueError(f"{splits} splits need at least {splits} samples, got {n}")
    if shuffle_seed is not None and splits > 1:  # one split is the whole set, in any order
        log_p = log_p[np.random.RandomState(shuffle_seed).permutation(n)]
    return np.array([score(log_p[i * n // splits:(i + 1) * n // splits]) for i in range(splits)])


def _split_details(splits: int, shuffle_seed: int | None) -> dict[str, int | str]:
    details: dict[str, int | str] = {"splits": splits}
    if splits > 1:
        details["shuffle_seed"] = "none (file order)" if shuffle_seed is None else shuffle_seed
    return details


def inception_score(fake_logits: ArrayLike, *, splits: int = 10, from_probabilities: bool = False,
                    shuffle_seed: int | None = DEFAULT_SEED) -> MetricResult:
    """Inception Score (Salimans et al. 2016, "Improved techniques for training GANs"):
    exp(E_x KL(p(y|x) || p(y))) per split, mean and std (ddof=0) over `splits` splits of the samples shuffled
    with numpy's RandomState(shuffle_seed), as torch-fidelity (seed 2020); shuffle_seed=None keeps the given
    order, as the original code (whose number then depends on how the files are sorted).
    Ideal: higher; at most the number of classes (1 for uniform predictions, k for confident predictions spread
    evenly over k classes).

    The softmax runs over all the columns given. For the original's numbers pass the FID Inception's 1008 logits
    without the classifier bias (features.py's logits_unbiased): the original TF code took pool3 @ W, no bias,
    over 1008 outputs (8 of them unused classes), and torch-fidelity does the same.
    """
    log_p = class_log_probabilities(fake_logits, from_probabilities=from_probabilities)
    scores = _split_scores(log_p, splits, lambda part: float(np.exp(_kl_rows(part, _log_marginal(part)).mean())),
                           shuffle_seed)
    return MetricResult("is", float(scores.mean()), float(scores.std()), ideal="higher (at most the classes)",
                        details={**_split_details(splits, shuffle_seed), "classes": log_p.shape[1]})


def mode_score(real_logits: ArrayLike, fake_logits: ArrayLike, *, splits: int = 1,
               from_probabilities: bool = False, shuffle_seed: int | None = DEFAULT_SEED) -> MetricResult:
    """Mode Score (Che et al. 2017, "Mode regularized generative adversarial networks", in the form used by Xu et
    al. 2018): exp(E_x KL(p(y|x) || p(y)) - KL(p(y) || p*(y))), x generated, p(y) the generated and p*(y) the real
    class marginal. It is the Inception Score times exp(-KL(p(y) || p*(y))): it also penalises generated classes
    in other proportions than the real ones. Whole set by default (splits=1; more splits give mean and std, with
    p*(y) from all real samples; the generated samples shuffled first, as for the Inception Score). Ideal:
    higher; at most the number of classes.

    (The form with p*(y) inside the first KL, exp(E KL(p(y|x) || p*(y)) - KL(p(y) || p*(y))), is identically
    the Inception Score, so it is not the one computed.)
    """
    log_real = class_log_probabilities(real_logits, from_probabilities=from_probabilities)
    log_fake = class_log_probabilities(fake_logits, from_probabilities=from_probabilities)
    if log_real.shape[1] != log_fake.shape[1]:
        raise ValueError(f"real and generated logits differ in classes: {log_real.shape[1]} vs {log_fake.shape[1]}")
    log_p_star = _log_marginal(log_real)

    def score(part: np.ndarray) -> float:
        log_pg = _log_marginal(part)
        return float(np.exp(_kl_rows(part, log_pg).mean() - _kl_rows(log_pg, log_p_star)))

    scores = _split_scores(log_fake, splits, score, shuffle_seed)
    return MetricResult("mode_score", float(scores.mean()), float(scores.std()) if splits > 1 else None,
                        ideal="higher (at most the classes)", details=_split_details(splits, shuffle_seed))


# ---------------------------------------------------------------------------------------------- sample-based

def _equal_sizes(real: np.ndarray, fake: np.ndarray, limit: int | None, seed: int, metric: str
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    n = min(len(real), len(fake), limit or len(real))
    notes = []
    if (len(real), len(fake)) != (n, n):
        notes.append(f"{metric}: on {n} random samples of each set (seed {seed}) out of {len(real)} real and "
                     f"{len(fake)} generated")
    rng = np.random.default_rng(seed)
    return real[_draw(rng, len(real), n)], fake[_draw(rng, len(fake), n)], notes


def wasserstein(real_features: ArrayLike, fake_features: ArrayLike, *, max_samples: int = 5000,
                seed: int = DEFAULT_SEED) -> MetricResult:
    """Wasserstein-1 (earth mover's) distance between the two empirical feature distributions, Euclidean ground
    cost, exact: for n points each it is the mean cost of the optimal one-to-one assignment
    (scipy.optimize.linear_sum_assignment; Xu et al. 2018 compute the same with an OT solver). Ideal: 0, but a
    finite sample of the real distribution itself is > 0, so compare values at equal n only.

    The assignment needs equal sizes and is O(n^3) on an n x n matrix: sets of different sizes, or larger than
    max_samples, are reduced to n = min(sizes, max_samples) random samples each (seeded, said in warnings).
    """
    real, fake = _feature_pair(real_features, fake_features)
    real, fake, notes = _equal_sizes(real, fake, max_samples, seed, "Wasserstein")
    value, _ = neighbours.optimal_matching_cost(real, fake)
    return MetricResult("wasserstein", value, ideal="0 (lower is better)", details={"samples": len(real)},
                        warnings=notes)


def one_nn_accuracy(real_features: ArrayLike, fake_features: ArrayLike) -> MetricResult:
    """Leave-one-out 1-nearest-neighbour two-sample test (Lopez-Paz & Oquab 2017, "Revisiting classifier
    two-sample tests"; Xu et al. 2018): each sample of the union is labelled by its nearest other sample
    (Euclidean). value: the mean of the accuracies on real and on generated samples, which is the plain accuracy
    for equal set sizes and stays near 0.5 under the null for unequal ones. Ideal: 0.5; 1.0 means the sets are
    fully separable; well below 0.5 means generated samples sit on top of real ones (copies, memorisation).
    Exact ties go to the lower index of [real, generated].
    """
    real, fake = _feature_pair(real_features, fake_features)
    if min(len(real), len(fake)) < 2:
        raise ValueError("the 1-NN test needs at least 2 samples per set")
    is_real = np.r_[np.ones(len(real), bool), np.zeros(len(fake), bool)]
    correct = is_real[neighbours.nearest_other(np.concatenate([real, fake]))] == is_real
    acc_real, acc_fake = float(correct[is_real].mean()), float(correct[~is_real].mean())
    return MetricResult("1nn", (acc_real + acc_fake) / 2, ideal="0.5",
                        details={"real_accuracy": acc_real, "fake_accuracy": acc_fake,
                                 "accuracy": float(correct.mean())})


def precision_recall(real_features: ArrayLike, fake_features: ArrayLike, *, k: int = 3) -> MetricResult:
    """Improved precision and recall (Kynkäänniemi et al. 2019, "Improved precision and recall metric for
    assessing generative models"). Each set's manifold is the union of balls around its samples reaching the k-th
    nearest other sample of the same set (k=3, the paper's default). value = precision, the share of generated
    samples inside the real manifold (fidelity); details["recall"], the share of real samples inside the generated
    manifold (coverage). Ideal: 1 for both.
    """
    real, fake = _feature_pair(real_features, fake_features)
    precision = float(neighbours.inside_any_ball(fake, real, neighbours.kth_neighbour_sq_radii(real, k)).mean())
    recall = float(neighbours.inside_any_ball(real, fake, neighbours.kth_neighbour_sq_radii(fake, k)).mean())
    return MetricResult("precision_recall", precision, ideal="1", details={"recall": recall, "k": k})


# ---------------------------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class UnpairedMetric:
    """A registry entry: ``entry(real_features, fake_features, real_logits=None, fake_logits=None, seed=None)``.
    needs_logits: which logits must be given ("fake", "both" or None)."""
    key: str
    title: str
    needs_logits: str | None
    compute: Callable[..., MetricResult]
    seeded: bool = False

    def __call__(self, real_features: ArrayLike, fake_features: ArrayLike, real_logits: ArrayLike | None = None,
                 fake_logits: ArrayLike | None = None, *, seed: int | None = None) -> MetricResult:
        if (self.needs_logits and fake_logits is None) or (self.needs_logits == "both" and real_logits is None):
            which = "generated" if self.needs_logits == "fake" else "real and generated"
            raise ValueError(f"{self.title} needs the classifier logits of the {which} images")
        kwargs = {"seed": seed} if self.seeded and seed is not None else {}
        with warnings.catch_warnings():  # what they say is in result.warnings, for the caller to show once
            warnings.simplefilter("ignore", MetricWarning)
            return self.compute(real_features, fake_features, real_logits, fake_logits, **kwargs)


_ENTRIES = [
    UnpairedMetric("fid", "FID", None, lambda r, f, rl, fl: fid(r, f)),
    UnpairedMetric("kid", "KID", None, lambda r, f, rl, fl, **kw: kid(r, f, **kw), seeded=True),
    UnpairedMetric("is", "Inception Score", "fake", lambda r, f, rl, fl, seed=DEFAULT_SEED:
                   inception_score(fl, shuffle_seed=seed), seeded=True),
    UnpairedMetric("mode_score", "Mode Score", "both", lambda r, f, rl, fl: mode_score(rl, fl)),
    UnpairedMetric("mmd", "kernel MMD² (Gaussian)", None, lambda r, f, rl, fl, **kw: gaussian_mmd(r, f, **kw),
                   seeded=True),
    UnpairedMetric("wasserstein", "Wasserstein-1", None, lambda r, f, rl, fl, **kw: wasserstein(r, f, **kw),
                   seeded=True),
    UnpairedMetric("1nn", "1-NN accuracy", None, lambda r, f, rl, fl: one_nn_accuracy(r, f)),
    UnpairedMetric("precision_recall", "precision (recall)", None, lambda r, f, rl, fl: precision_recall(r, f)),
]
UNPAIRED_METRICS: dict[str, UnpairedMetric] = {e.key: e for e in _ENTRIES}
METRIC_ALIASES = {"inception_score": "is", "ms": "mode_score", "kmmd": "mmd", "emd": "wasserstein", "knn": "1nn",
                  "1-nn": "1nn", "prc": "precision_recall", "pr": "precision_recall", "precision": "precision_recall",
                  "recall": "precision_recall"}


def parse_metric_names(text: str) -> list[str]:
    """'fid,kid' -> ['fid', 'kid']; 'all' -> every unpaired metric; aliases resolved, repeats dropped, an unknown
    name is a ValueError listing the known ones."""
    names: list[str] = []
    for raw in (t.strip().lower() for t in text.split(",")):
        if not raw:
            continue
        keys = list(UNPAIRED_METRICS) if raw == "all" else [METRIC_ALIASES.get(raw, raw)]
        for key in keys:
            if key not in UNPAIRED_METRICS:
                raise ValueError(f"unknown metric {raw!r}; known: all, {', '.join(UNPAIRED_METRICS)}")
            if key not in names:
                names.append(key)
    if not names:
        raise ValueError("no metric named")
    return names


# The paired metrics, computed on matching files by metrics.evaluation.paired; named here so that option checks
# know them without loading the image libraries.
PAIRED_METRICS = ("psnr", "ssim", "l1")
# Which way each metric improves, for keeping the best checkpoint: "lower", "higher", or the ideal value a
# result should come close to (1-NN accuracy: 0.5, where the two sets cannot be told apart).
BETTER: dict[str, str | float] = {"fid": "lower", "kid": "lower", "is": "higher", "mode_score": "higher",
                                  "mmd": "lower", "wasserstein": "lower", "1nn": 0.5, "precision_recall": "higher",
                                  "psnr": "higher", "ssim": "higher", "l1": "lower"}


def improves(name: str, value: float, best: float | None) -> bool:
    """Whether `value` of metric `name` (a feature-space suffix such as _digits allowed) beats `best`; a tie
    does not."""
    if best is None:
        return True
    goal = BETTER[name.removesuffix("_digits")]
    if goal == "lower":
        return value < best
    if goal == "higher":
        return value > best
    return abs(value - goal) < abs(best - goal)


def parse_eval_metrics(text: str) -> list[str]:
    """parse_metric_names, the paired metrics allowed too, in the order given: 'fid,psnr' -> ['fid', 'psnr']."""
    names: list[str] = []
    for word in (w.strip().lower() for w in text.split(",")):
        if word:
            try:
                names += [word] if word in PAIRED_METRICS else parse_metric_names(word)
            except ValueError as error:
                raise ValueError(f"{error}; paired (where there are targets): {', '.join(PAIRED_METRICS)}") from None
    if not names:
        raise ValueError("no metric named")
    return list(dict.fromkeys(names))  # repeats dropped


def _as_list(results: Iterable[MetricResult] | Mapping[str, MetricResult]) -> list[MetricResult]:
    return list(results.values()) if isinstance(results, Mapping) else list(results)


def results_to_dict(results: Iterable[MetricResult] | Mapping[str, MetricResult]) -> dict[str, dict]:
    """{name: {value, std, ideal, details, warnings}} (JSON-ready) for --json."""
    return {r.name: r.to_dict() for r in _as_list(results)}


def _number(x: float | str | None) -> str:
    if x is None:
        return ""
    return f"{x:.6g}" if isinstance(x, (float, np.floating)) else str(x)


def format_table(results: Iterable[MetricResult] | Mapping[str, MetricResult]) -> str:
    """A plain-text table, one row per metric, its details indented below, then the warnings."""
    rows = [("metric", "value", "± std", "ideal")]
    notes: list[str] = []
    for r in _as_list(results):
        entry = UNPAIRED_METRICS.get(r.name)
        rows.append((entry.title if entry else r.name, _number(r.value), _number(r.std), r.ideal))
        rows += [(f"  {k}", _number(v), "", "") for k, v in r.details.items()]
        notes += r.warnings
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + [f"warning: {n}" for n in notes])
