"""Distance machinery of the sample-based GAN metrics, in float64 and in row chunks.

A 10k x 10k distance matrix is 800 MB in float64, so nothing here holds one whole: distances are computed a
block of rows at a time (at most CHUNK_BYTES per block) and reduced at once (a minimum, a k-th smallest value,
an "any", a sum). The metrics themselves (results, docstrings with papers) are in translation.metrics.formulas.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from scipy.optimize import linear_sum_assignment

# largest distance block held at once (bytes); a module constant so tests can force many small chunks
CHUNK_BYTES = 64 * 2**20


def row_chunks(n_rows: int, n_cols: int) -> Iterator[slice]:
    """Slices of rows such that a (rows x n_cols) float64 block fits CHUNK_BYTES (at least one row)."""
    step = max(1, CHUNK_BYTES // (8 * max(n_cols, 1)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def squared_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def squared_distances(a: np.ndarray, b: np.ndarray, a_sq: np.ndarray | None = None,
                      b_sq: np.ndarray | None = None) -> np.ndarray:
    """||a_i - b_j||^2 for all pairs, through one matrix product (BLAS) rather than a (n, m, D) difference."""
    a_sq = squared_norms(a) if a_sq is None else a_sq
    b_sq = squared_norms(b) if b_sq is None else b_sq
    d2 = a @ b.T  # then in place: one block in memory, not four temporaries
    d2 *= -2.0
    d2 += a_sq[:, None]
    d2 += b_sq[None, :]
    # cancellation can leave tiny negatives where the true value is 0
    return np.maximum(d2, 0.0, out=d2)


def distance_blocks(a: np.ndarray, b: np.ndarray, same: bool = False) -> Iterator[tuple[slice, np.ndarray]]:
    """(rows, squared distances of a[rows] to all of b) block by block; with same=True (b is a) the
    self-distances are +inf so that no point counts as its own neighbour."""
    a_sq, b_sq = squared_norms(a), squared_norms(b)
    for rows in row_chunks(len(a), len(b)):
        d2 = squared_distances(a[rows], b, a_sq[rows], b_sq)
        if same:
            local = np.arange(rows.stop - rows.start)
            d2[local, local + rows.start] = np.inf
        yield rows, d2


def kth_neighbour_sq_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance from each point of x to its k-th nearest other point of x."""
    if not 1 <= k < len(x):
        raise ValueError(f"k={k} nearest neighbours need at least {k + 1} samples, got {len(x)}")
    radii = np.empty(len(x))
    for rows, d2 in distance_blocks(x, x, same=True):
        radii[rows] = np.partition(d2, k - 1, axis=1)[:, k - 1]
    return radii


def inside_any_ball(points: np.ndarray, centres: np.ndarray, sq_radii: np.ndarray) -> np.ndarray:
    """For each point: is it within some centre's radius (||p - c||^2 <= r_c^2, boundary included)?"""
    inside = np.empty(len(points), dtype=bool)
    for rows, d2 in distance_blocks(points, centres):
        inside[rows] = (d2 <= sq_radii[None, :]).any(axis=1)
    return inside


def nearest_other(x: np.ndarray) -> np.ndarray:
    """Index of each point's nearest neighbour among the others (leave-one-out); ties go to the lower index."""
    nearest = np.empty(len(x), dtype=np.int64)
    for rows, d2 in distance_blocks(x, x, same=True):
        nearest[rows] = np.argmin(d2, axis=1)
    return nearest


def kernel_sum(a: np.ndarray, b: np.ndarray, kernel: Callable[[np.ndarray], np.ndarray],
               same: bool = False) -> float:
    """Sum of kernel(squared distance) over all pairs (a_i, b_j); with same=True the i == j terms are left out
    (the kernel must map +inf to 0, as a Gaussian does)."""
    return float(sum(kernel(d2).sum() for _, d2 in distance_blocks(a, b, same=same)))


def optimal_matching_cost(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean Euclidean distance of the optimal one-to-one matching of x to y (equal sizes), and the matching.

    For two sets of n points with weight 1/n each, an optimal transport plan can be taken to be a permutation
    (Birkhoff), so this is exactly the Wasserstein-1 distance between the empirical distributions.
    """
    cost = np.sqrt(squared_distances(x, y))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean()), cols
