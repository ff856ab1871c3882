"""The unpaired metrics on feature arrays against direct reference computations, closed forms, and the tools
whose numbers users compare with (pytorch-fid; torch-fidelity where installed)."""
from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

from translation.metrics import formulas, neighbours
from translation.metrics.formulas import (
    UNPAIRED_METRICS,
    MetricWarning,
    RankDeficientWarning,
    fid,
    fid_from_statistics,
    format_table,
    frechet_distance,
    gaussian_mmd,
    inception_score,
    kid,
    mode_score,
    one_nn_accuracy,
    parse_metric_names,
    precision_recall,
    results_to_dict,
    wasserstein,
)


def gaussian_set(n: int, d: int, seed: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """n samples of one correlated Gaussian per dimension d (so covariances do not commute), moved and scaled."""
    mix = np.random.default_rng(d).normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    return np.random.default_rng(seed).normal(size=(n, d)) @ mix * scale + shift


@pytest.fixture
def small_chunks(monkeypatch):
    """Distance blocks of a few rows, so the chunked paths are the ones tested."""
    monkeypatch.setattr(neighbours, "CHUNK_BYTES", 8 * 7 * 64)


# ---------------------------------------------------------------------------------------------- FID

def test_fid_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(a + b - 2 * np.sqrt(a * b))  # 5 + (1 + 1 + 4)
    for method in ("sqrtm", "eigh"):
        assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b), method=method) == pytest.approx(expected, 1e-12)
    assert expected == 11.0


def test_fid_closed_form_for_scaled_covariance():
    # S2 = c^2 S1: (S1 S2)^1/2 = c S1, so FID = |dmu|^2 + (1 - c)^2 Tr S1
    s = np.cov(gaussian_set(200, 6, 0), rowvar=False)
    mu = np.arange(6.0)
    value = frechet_distance(mu, s, mu + 0.5, 9 * s)
    assert value == pytest.approx(6 * 0.25 + 4 * np.trace(s), rel=1e-10)


def test_fid_matches_pytorch_fid():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    real, fake = gaussian_set(300, 64, 1), gaussian_set(250, 64, 2, shift=0.3, scale=1.2)
    mu_r, s_r = np.mean(real, axis=0), np.cov(real, rowvar=False)  # as pytorch-fid's calculate_activation_statistics
    mu_f, s_f = np.mean(fake, axis=0), np.cov(fake, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pytorch-fid passes sqrtm's deprecated disp=False
        reference = fid_score.calculate_frechet_distance(mu_r, s_r, mu_f, s_f)
    assert fid(real, fake).value == pytest.approx(reference, rel=1e-9)
    assert fid(real, fake, method="eigh").value == pytest.approx(reference, rel=1e-6)
    assert fid_from_statistics(mu_r, s_r, mu_f, s_f).value == pytest.approx(reference, rel=1e-9)


def test_fid_of_identical_sets_is_zero():
    x = gaussian_set(100, 8, 3)
    assert abs(fid(x, x).value) < 1e-8
    assert abs(fid(x, x, method="eigh").value) < 1e-8


def test_fid_rank_deficient_warns_and_still_reports():
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    real, fake = gaussian_set(20, 32, 4), gaussian_set(40, 32, 5, shift=1.0)  # 20 < 33 samples
    with pytest.warns(RankDeficientWarning, match="prefer KID"):
        result = fid(real, fake)
    assert np.isfinite(result.value) and any("rank-deficient" in w for w in result.warnings)
    assert "20 real" in result.warnings[-1] and "generated" not in result.warnings[-1].split("samples")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reference = fid_score.calculate_frechet_distance(real.mean(0), np.cov(real, rowvar=False),
                                                         fake.mean(0), np.cov(fake, rowvar=False))
    assert result.value == pytest.approx(reference, rel=1e-6)
    with pytest.warns(RankDeficientWarning):
        assert fid(real, fake, method="eigh").value == pytest.approx(reference, rel=1e-6)
    # from statistics: warned only when the sample counts are known
    with warnings.catch_warnings():
        warnings.simplefilter("error", RankDeficientWarning)
        fid_from_statistics(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False))
    with pytest.warns(RankDeficientWarning):
        fid_from_statistics(real.mean(0), np.cov(real, rowvar=False), fake.mean(0), np.cov(fake, rowvar=False),
                            n_real=20, n_fake=40)


def test_fid_retries_with_eps_when_sqrtm_is_not_finite(monkeypatch):
    real, fake = gaussian_set(50, 5, 6), gaussian_set(50, 5, 7)
    (mu_r, s_r), (mu_f, s_f) = formulas.gaussian_statistics(real), formulas.gaussian_statistics(fake)
    calls = []
    true_sqrtm = formulas.scipy.linalg.sqrtm

    def flaky_sqrtm(a):
        calls.append(a)
        return np.full_like(a, np.nan) if len(calls) == 1 else true_sqrtm(a)

    monkeypatch.setattr(formulas.scipy.linalg, "sqrtm", flaky_sqrtm)
    with pytest.warns(MetricWarning, match="singular"):
        value = frechet_distance(mu_r, s_r, mu_f, s_f, eps=1e-3)
    offset = np.eye(5) * 1e-3
    np.testing.assert_allclose(calls[1], (s_r + offset) @ (s_f + offset))
    expected = np.sum((mu_r - mu_f) ** 2) + np.trace(s_r + s_f) - 2 * np.trace(true_sqrtm(calls[1]).real)
    assert value == pytest.approx(expected, rel=1e-12)


def test_fid_input_errors():
    with pytest.raises(ValueError, match="differ in dimension"):
        fid(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((5, 3), np.nan), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="no samples"):
        fid(np.zeros((0, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="generated features: a covariance needs at least 2"):
        fid(np.zeros((5, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="unknown FID method"):
        fid(np.eye(3), np.eye(3), method="fast")


# ---------------------------------------------------------------------------------------------- KID and MMD

def direct_mmd2(x: np.ndarray, y: np.ndarray, k) -> float:
    """Unbiased MMD^2 by explicit loops over pairs (Gretton et al. 2012, eq. 3)."""
    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return xx + yy - 2 * xy


def test_kid_matches_direct_computation_on_the_same_subsets():
    real, fake = gaussian_set(30, 4, 8), gaussian_set(25, 4, 9, shift=0.5)
    result = kid(real, fake, subsets=3, subset_size=10, seed=11)

    def poly(a, b):
        return (a @ b / 4 + 1) ** 3

    rng = np.random.RandomState(11)
    expected = []
    for _ in range(3):
        f = rng.choice(25, 10, replace=False)  # generated first, then real, as torch-fidelity
        r = rng.choice(30, 10, replace=False)
        expected.append(direct_mmd2(real[r], fake[f], poly))
    assert result.value == pytest.approx(np.mean(expected), rel=1e-10)
    assert result.std == pytest.approx(np.std(expected), rel=1e-8)
    assert result.details["subset_size"] == 10


def test_kid_per_subset_path_equals_precomputed_gram_path(monkeypatch):
    real, fake = gaussian_set(60, 5, 10), gaussian_set(70, 5, 11, shift=0.2)
    precomputed = kid(real, fake, subsets=5, subset_size=20)
    monkeypatch.setattr(formulas, "KID_GRAM_ENTRIES", 0)
    assert kid(real, fake, subsets=5, subset_size=20).value == pytest.approx(precomputed.value, rel=1e-12)


def test_kid_matches_torch_fidelity():
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    torch = pytest.importorskip("torch")
    real, fake = gaussian_set(120, 16, 12), gaussian_set(100, 16, 13, shift=0.3)
    reference = metric_kid.kid_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=7,
                                                  kid_subset_size=50, verbose=False)
    result = kid(real, fake, subsets=7, subset_size=50)
    assert result.value == pytest.approx(reference["kernel_inception_distance_mean"], rel=1e-9)
    assert result.std == pytest.approx(reference["kernel_inception_distance_std"], rel=1e-9)


def test_kid_near_zero_for_one_distribution_and_large_for_far_sets():
    a, b = gaussian_set(200, 8, 14), gaussian_set(200, 8, 15)
    same, far = kid(a, b, subsets=10, subset_size=100), kid(a, b + 3.0, subsets=10, subset_size=100)
    assert abs(same.value) < 0.05 * far.value
    assert abs(kid(a, a, subsets=5, subset_size=100).value) < 0.05 * far.value


def test_kid_caps_subset_size_and_is_seeded():
    a, b = gaussian_set(40, 3, 16), gaussian_set(30, 3, 17)
    capped = kid(a, b)  # 1000 > 30
    assert capped.details["subset_size"] == 30 and "not 1000" in capped.warnings[0]
    assert kid(a, b, subset_size=20, seed=1).value == kid(a, b, subset_size=20, seed=1).value
    assert kid(a, b, subset_size=20, seed=1).value != kid(a, b, subset_size=20, seed=2).value
    same_size = kid(a[:30], b)
    assert same_size.std == 0.0 and "std is 0" in same_size.warnings[0]


def test_gaussian_mmd_matches_direct_computation(small_chunks):
    real, fake = gaussian_set(17, 3, 18), gaussian_set(13, 3, 19, shift=0.4)
    sigma = 1.7

    def rbf(x, y):
        return np.exp(-np.sum((x - y) ** 2) / (2 * sigma**2))

    result = gaussian_mmd(real, fake, bandwidth=sigma)
    assert result.value == pytest.approx(direct_mmd2(real, fake, rbf), rel=1e-10)
    assert result.details["bandwidth"] == sigma


def test_gaussian_mmd_median_heuristic():
    real, fake = gaussian_set(20, 4, 20), gaussian_set(15, 4, 21)
    expected = np.median(pdist(np.concatenate([real, fake])))
    result = gaussian_mmd(real, fake)
    assert result.details["bandwidth"] == pytest.approx(expected, rel=1e-10)
    assert result.details["bandwidth_from"] == "median"
    big = gaussian_set(900, 4, 22)  # the median from 1000 of 1800 pooled samples: drawn with the seed
    assert gaussian_mmd(big, big + 0.1, seed=3).value == gaussian_mmd(big, big + 0.1, seed=3).value
    assert abs(gaussian_mmd(big[:450], big[450:]).value) < 0.1 * gaussian_mmd(big, big + 2.0).value


# ---------------------------------------------------------------------------------------------- IS and Mode Score

def direct_inception_score(probabilities: np.ndarray, splits: int) -> tuple[float, float]:
    """The original recipe, with loops: per split exp(mean_i sum_y p log(p / p(y)))."""
    n, scores = len(probabilities), []
    for s in range(splits):
        part = probabilities[s * n // splits:(s + 1) * n // splits]
        marginal = part.mean(axis=0)
        kls = [sum(p[y] * np.log(p[y] / marginal[y]) for y in range(len(p)) if p[y] > 0) for p in part]
        scores.append(np.exp(np.mean(kls)))
    return float(np.mean(scores)), float(np.std(scores))


def test_inception_score_of_uniform_logits_is_one():
    result = inception_score(np.zeros((50, 1008)))
    assert result.value == pytest.approx(1.0, abs=1e-12) and result.std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_of_one_hot_distinct_classes_is_the_class_count():
    probabilities = np.eye(1008)[np.arange(100) % 1008]  # 10 splits of 10 distinct classes
    result = inception_score(probabilities, from_probabilities=True)
    assert result.value == pytest.approx(10.0, rel=1e-12) and result.std == pytest.approx(0.0, abs=1e-12)
    # confident logits approach the same value
    assert inception_score(probabilities * 50.0).value == pytest.approx(10.0, rel=1e-6)


def test_inception_score_matches_direct_computation_and_torch_fidelity():
    logits = np.random.default_rng(23).normal(scale=3.0, size=(53, 12))
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mean, std = direct_inception_score(probabilities, 10)
    result = inception_score(logits, shuffle_seed=None)  # the original: splits in the order given
    assert result.value == pytest.approx(mean, rel=1e-10) and result.std == pytest.approx(std, rel=1e-8)
    assert inception_score(probabilities, from_probabilities=True, shuffle_seed=None).value == pytest.approx(
        mean, rel=1e-10)
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
    torch = pytest.importorskip("torch")
    reference = metric_isc.isc_features_to_metric(torch.from_numpy(logits), splits=10, shuffle=True, rng_seed=2020)
    shuffled = inception_score(logits)  # by default shuffled as torch-fidelity
    assert shuffled.value == pytest.approx(reference["inception_score_mean"], rel=1e-10)
    assert shuffled.std == pytest.approx(reference["inception_score_std"], rel=1e-8)


def confident_logits_sorted_by_class(n: int = 1000, classes: int = 10, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = np.sort(rng.integers(0, classes, n))  # as files named or foldered by class are read
    return np.eye(classes)[labels] * 6 + rng.normal(size=(n, classes))


def test_inception_score_does_not_depend_on_the_order_of_the_samples():
    logits = confident_logits_sorted_by_class()
    shuffled = logits[np.random.default_rng(6).permutation(len(logits))]
    from_sorted, from_shuffled = inception_score(logits), inception_score(shuffled)
    # different splits of the same samples: the same score within split noise, near the whole set's
    assert from_sorted.value == pytest.approx(from_shuffled.value, rel=0.03)
    assert from_sorted.value == pytest.approx(inception_score(logits, splits=1).value, rel=0.05)
    assert from_sorted.details["shuffle_seed"] == 2020
    # in file order, each split holds about one class and scores near 1: what the shuffle prevents
    assert inception_score(logits, shuffle_seed=None).value < 0.25 * from_sorted.value
    # --seed reaches the shuffle through the registry
    assert UNPAIRED_METRICS["is"](logits, logits, None, logits, seed=3).details["shuffle_seed"] == 3


def test_mode_score_splits_do_not_depend_on_the_order_of_the_samples():
    logits = confident_logits_sorted_by_class()
    shuffled = logits[np.random.default_rng(6).permutation(len(logits))]
    from_sorted = mode_score(logits, logits, splits=5).value
    assert from_sorted == pytest.approx(mode_score(logits, shuffled, splits=5).value, rel=0.03)
    assert mode_score(logits, logits, splits=5, shuffle_seed=None).value < 0.25 * from_sorted


def test_inception_score_input_errors():
    with pytest.raises(ValueError, match="10 splits"):
        inception_score(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="rows summing to 1"):
        inception_score(np.ones((20, 4)), from_probabilities=True)


def test_mode_score_matches_direct_computation():
    rng = np.random.default_rng(24)
    real, fake = rng.dirichlet(np.ones(6), size=40), rng.dirichlet(np.ones(6) * 0.3, size=30)
    is_whole, _ = direct_inception_score(fake, 1)
    pg, pstar = fake.mean(axis=0), real.mean(axis=0)
    expected = is_whole * np.exp(-np.sum(pg * np.log(pg / pstar)))
    assert mode_score(real, fake, from_probabilities=True).value == pytest.approx(expected, rel=1e-10)
    split = mode_score(real, fake, from_probabilities=True, splits=3)
    assert split.std is not None and split.details["splits"] == 3


def test_mode_score_closed_forms():
    one_hot = np.eye(5)[np.arange(20) % 5]
    # generated classes confident and in the real proportions: the class count, as IS
    assert mode_score(np.full((7, 5), 0.2), one_hot, from_probabilities=True).value == pytest.approx(5.0, 1e-12)
    # real marginal (1/2, 1/8 x 4): the penalty is exp(-KL(uniform || it))
    real = np.array([[0.5, 0.125, 0.125, 0.125, 0.125]])
    kl = 0.2 * np.log(0.2 / 0.5) + 4 * 0.2 * np.log(0.2 / 0.125)
    assert mode_score(real, one_hot, from_probabilities=True).value == pytest.approx(5.0 * np.exp(-kl), 1e-12)


# ---------------------------------------------------------------------------------------------- sample-based

def test_wasserstein_matches_brute_force_over_permutations():
    x, y = gaussian_set(6, 3, 25), gaussian_set(6, 3, 26, shift=0.7)
    cost = cdist(x, y)
    best = min(cost[np.arange(6), list(p)].mean() for p in itertools.permutations(range(6)))
    assert wasserstein(x, y).value == pytest.approx(best, rel=1e-12)


def test_wasserstein_of_a_translated_set_is_the_shift_length():
    x = gaussian_set(50, 4, 27)
    shift = np.array([0.3, -0.4, 0.0, 1.2])  # |shift| = 1.3; the mean gap is a lower bound the identity attains
    assert wasserstein(x, x + shift).value == pytest.approx(1.3, rel=1e-12)
    assert wasserstein(x, x[::-1]).value == pytest.approx(0.0, abs=1e-6)


def test_wasserstein_subsamples_unequal_sets_with_the_seed():
    x, y = gaussian_set(40, 3, 28), gaussian_set(25, 3, 29)
    result = wasserstein(x, y, seed=5)
    assert result.details["samples"] == 25 and "25 random samples" in result.warnings[0]
    assert result.value == wasserstein(x, y, seed=5).value != wasserstein(x, y, seed=6).value
    assert wasserstein(x, x + 1.0, max_samples=10).details["samples"] == 10


def direct_one_nn(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    union = np.concatenate([real, fake])
    labels = np.r_[np.ones(len(real)), np.zeros(len(fake))]
    d = cdist(union, union)
    np.fill_diagonal(d, np.inf)
    correct = labels[d.argmin(axis=1)] == labels
    return correct[: len(real)].mean(), correct[len(real):].mean()


def test_one_nn_matches_direct_computation(small_chunks):
    real, fake = gaussian_set(31, 5, 30), gaussian_set(23, 5, 31, shift=0.4)
    acc_real, acc_fake = direct_one_nn(real, fake)
    result = one_nn_accuracy(real, fake)
    assert result.details["real_accuracy"] == acc_real and result.details["fake_accuracy"] == acc_fake
    assert result.value == pytest.approx((acc_real + acc_fake) / 2)
    assert result.details["accuracy"] == pytest.approx((31 * acc_real + 23 * acc_fake) / 54)


def test_one_nn_is_half_for_one_distribution_one_for_far_sets_and_zero_for_copies():
    a, b = gaussian_set(400, 6, 32), gaussian_set(400, 6, 33)
    assert one_nn_accuracy(a, b).value == pytest.approx(0.5, abs=0.06)
    assert one_nn_accuracy(a, b + 20.0).value == 1.0
    copies = one_nn_accuracy(a, a.copy())
    assert copies.value == 0.0 and copies.details["accuracy"] == 0.0


def direct_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    def radii(x):
        d = cdist(x, x)
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    precision = (cdist(fake, real) <= radii(real)[None, :]).any(axis=1).mean()
    recall = (cdist(real, fake) <= radii(fake)[None, :]).any(axis=1).mean()
    return precision, recall


def test_precision_recall_matches_direct_computation(small_chunks):
    real, fake = gaussian_set(60, 4, 34), gaussian_set(45, 4, 35, shift=0.8, scale=0.6)
    for k in (1, 3, 5):
        result = precision_recall(real, fake, k=k)
        precision, recall = direct_precision_recall(real, fake, k)
        assert (result.value, result.details["recall"]) == (precision, recall)
    assert 0 < precision < 1 and 0 < recall < 1


def test_precision_recall_matches_torch_fidelity():
    metric_prc = pytest.importorskip("torch_fidelity.metric_prc")
    torch = pytest.importorskip("torch")
    real, fake = gaussian_set(80, 8, 41), gaussian_set(70, 8, 42, shift=0.5, scale=0.8)
    reference = metric_prc.prc_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real),  # generated first
                                                  prc_neighborhood=3, prc_batch_size=10000, save_cpu_ram=False,
                                                  verbose=False)
    result = precision_recall(real, fake)
    # the same counts; torch-fidelity averages them in float32
    assert result.value == pytest.approx(reference["precision"], abs=1e-6)
    assert result.details["recall"] == pytest.approx(reference["recall"], abs=1e-6)


def test_precision_recall_closed_cases():
    a = gaussian_set(50, 4, 36)
    identical = precision_recall(a, a.copy())
    assert identical.value == 1.0 and identical.details["recall"] == 1.0
    far = precision_recall(a, a + 100.0)
    assert far.value == 0.0 and far.details["recall"] == 0.0
    # a generator that covers only a tight core of the reals: precise but with low recall
    core = precision_recall(a, a[:, :] * 0.05)
    assert core.value == 1.0 and core.details["recall"] < 0.5
    with pytest.raises(ValueError, match="at least 4 samples"):
        precision_recall(a[:3], a, k=3)


# ---------------------------------------------------------------------------------------------- registry

def test_registry_runs_every_metric_with_one_signature():
    real, fake = gaussian_set(40, 50, 37), gaussian_set(40, 50, 38, shift=0.3)
    rng = np.random.default_rng(39)
    real_logits, fake_logits = rng.normal(size=(40, 12)), rng.normal(size=(40, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("error", MetricWarning)  # the registry keeps them in result.warnings only
        results = [metric(real, fake, real_logits, fake_logits, seed=1) for metric in UNPAIRED_METRICS.values()]
    assert [r.name for r in results] == list(UNPAIRED_METRICS) == parse_metric_names("all")
    assert any("rank-deficient" in w for w in results[0].warnings)  # 40 samples in 50 dimensions
    table = format_table(results)
    for title in ("FID", "KID", "Inception Score", "Mode Score", "1-NN accuracy", "recall"):
        assert title in table
    assert json.loads(json.dumps(results_to_dict(results)))["kid"]["std"] == results[1].std


def test_registry_needs_logits_and_parses_names():
    x = gaussian_set(20, 3, 40)
    with pytest.raises(ValueError, match="logits of the generated"):
        UNPAIRED_METRICS["is"](x, x)
    with pytest.raises(ValueError, match="real and generated"):
        UNPAIRED_METRICS["mode_score"](x, x, None, x)
    assert parse_metric_names("FID, kid,pr,recall") == ["fid", "kid", "precision_recall"]
    with pytest.raises(ValueError, match="unknown metric 'lpips'.*known: all, fid"):
        parse_metric_names("fid,lpips")
