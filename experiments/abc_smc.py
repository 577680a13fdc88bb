"""Adaptive population Monte Carlo ABC (APMC), the sequential ABC used by the calibration.

Lenormand, Jabot & Deffuant (2013), "Adaptive approximate Bayesian computation for complex models",
Computational Statistics 28:2777–2796 (https://doi.org/10.1007/s00180-013-0428-3), Algorithm 2. Chosen over
ABC rejection because it spends its simulations near the posterior, and over ABC-SMC with a fixed tolerance
schedule (Toni et al. 2009; Beaumont et al. 2009) because it needs no schedule: the tolerance of each generation
is a quantile of the distances, and every generation is one batch of simulations — which the calibration
runs through :func:`sim.runs.runner.run_many` (parallel, resumable), not through a library's own sampler.

Per generation ``t``:

1. *First generation.* ``n`` particles from the prior (a design given by the caller, e.g. a Latin hypercube;
   uniform on the prior box), all of weight 1. Keep the ``alpha`` share nearest to the data: the tolerance
   ``epsilon`` is the largest kept distance.
2. *Propose.* ``n − n_alpha`` new particles: pick a kept particle by weight, move it by a Gaussian kernel with
   twice the kept particles' weighted covariance (Beaumont et al. 2009), redraw any that leaves the prior box.
3. *Weight.* A new particle's weight is prior ÷ proposal density, Σ_j w_j N(θ | θ_j, Σ) normalised (the prior
   is uniform on the box: a constant).
4. *Accept rate.* ``p_acc`` is the share of new particles nearer than the current ``epsilon``.
5. *Select.* Kept and new particles together; the new ``epsilon`` is their ``alpha`` quantile of distance; keep
   those within it. Stop when ``p_acc`` falls to ``p_acc_min`` (the posterior stopped moving) or after
   ``max_generations``.

The result is the last generation's kept particles and weights, an approximate posterior.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

JITTER = 1e-6  # added to the kernel's variances, in units of each prior range squared: a degenerate kept set


@dataclass(frozen=True)
class Generation:
    """One generation: its tolerance, acceptance rate, simulation count, and kept particles.

    ``particles`` has one column per parameter, ``distance``, ``weight`` (normalised to sum to 1) and
    ``sample``: the particle's position in the order of simulation (the first generation's rows are 0…n−1,
    the next generation's new particles follow), so a caller can find what it recorded for it."""

    index: int
    epsilon: float
    p_acc: float
    simulated: int
    particles: pd.DataFrame


def weighted_cov(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted covariance (population form) of the rows of ``x``."""
    w = w / w.sum()
    centred = x - w @ x
    return (centred * w[:, None]).T @ centred


def kernel_cov(x: np.ndarray, w: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Twice the weighted covariance, with a tiny jitter so a parameter that stopped varying cannot break it."""
    return 2.0 * weighted_cov(x, w) + np.diag(JITTER * (hi - lo) ** 2)


def log_proposal_weights(new: np.ndarray, old: np.ndarray, old_w: np.ndarray, cov: np.ndarray,
                         lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Log importance weights log π(θ) − log Σ_j w̃_j N(θ | θ_j, cov) of new particles, π uniform on [lo, hi].

    On the same scale as a prior draw's weight 1 (log 0), so kept particles of earlier generations and new ones
    can be averaged together; logs, because in many dimensions the ratio overflows a float."""
    chol = np.linalg.cholesky(cov)
    d = new.shape[1]
    diff = new[:, None, :] - old[None, :, :]                         # (new, old, d)
    z = np.linalg.solve(chol, diff.reshape(-1, d).T).T.reshape(diff.shape)
    log_norm = -0.5 * d * np.log(2 * np.pi) - np.log(np.diag(chol)).sum()
    log_mix = log_norm - 0.5 * (z ** 2).sum(axis=-1) + np.log(old_w / old_w.sum())[None, :]
    top = log_mix.max(axis=1, keepdims=True)
    log_q = top[:, 0] + np.log(np.exp(log_mix - top).sum(axis=1))
    log_prior = -np.log(hi - lo).sum()
    return log_prior - log_q


def propose(rng: np.random.Generator, old: np.ndarray, old_w: np.ndarray, cov: np.ndarray, n: int,
            lo: np.ndarray, hi: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """``n`` particles: a kept particle drawn by weight, moved by N(0, cov), redrawn until inside the prior box.

    Integer parameters are rounded after the move (and must still lie in the box)."""
    chol = np.linalg.cholesky(cov)
    p = old_w / old_w.sum()
    out: list[np.ndarray] = []
    have = 0
    for _ in range(1000):
        pick = old[rng.choice(len(old), size=n, p=p)]
        moved = pick + rng.standard_normal((n, old.shape[1])) @ chol.T
        moved[:, integer] = np.round(moved[:, integer])
        inside = moved[((moved >= lo) & (moved <= hi)).all(axis=1)]
        out.append(inside[: n - have])
        have += len(out[-1])
        if have == n:
            return np.vstack(out)
    raise RuntimeError("APMC: the kernel keeps leaving the prior box (1,000 tries); the prior box is too narrow")


def _select(dist: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the ``keep`` particles of smallest distance (ties broken by order: stable)."""
    return np.argsort(dist, kind="stable")[:keep]


def apmc(simulate: Callable[[np.ndarray, int], np.ndarray], names: list[str], lo, hi, first: np.ndarray, *,
         alpha: float = 0.5, p_acc_min: float = 0.05, max_generations: int = 8, seed: int = 0,
         integer: list[bool] | None = None) -> list[Generation]:
    """Run APMC; return every generation (the last one is the posterior).

    ``simulate(theta, t)`` returns the distance of each row of ``theta`` (particles × parameters) in
    generation ``t``; ``first`` is the first generation's particles (drawn from the prior by the caller).
    Deterministic for a given ``seed`` and ``simulate``: a re-run proposes the same particles."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    integer = np.zeros(len(names), bool) if integer is None else np.asarray(integer, bool)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha}: must be in (0, 1)")
    theta = np.asarray(first, float)
    n = len(theta)
    keep = int(np.floor(alpha * n))
    if keep < 2 or n - keep < 1:
        raise ValueError(f"{n} particles with alpha={alpha} keep {keep}: need at least 2 kept and 1 new")
    rng = np.random.default_rng(seed)
    dist = np.asarray(simulate(theta, 0), float)
    log_w, ids = np.zeros(n), np.arange(n)
    idx = _select(dist, keep)
    theta, dist, log_w, ids = theta[idx], dist[idx], log_w[idx], ids[idx]
    history = [_generation(0, names, theta, dist, log_w, ids, p_acc=1.0, simulated=n)]
    next_id = n
    for t in range(1, max_generations):
        eps = float(dist.max())
        w = _normalised(log_w)
        cov = kernel_cov(theta, w, lo, hi)
        new = propose(rng, theta, w, cov, n - keep, lo, hi, integer)
        new_log_w = log_proposal_weights(new, theta, w, cov, lo, hi)
        new_dist = np.asarray(simulate(new, t), float)
        p_acc = float(np.mean(new_dist < eps))
        all_theta, all_dist = np.vstack([theta, new]), np.concatenate([dist, new_dist])
        all_log_w = np.concatenate([log_w, new_log_w])
        all_ids = np.concatenate([ids, np.arange(next_id, next_id + len(new))])
        next_id += len(new)
        idx = _select(all_dist, keep)
        theta, dist, log_w, ids = all_theta[idx], all_dist[idx], all_log_w[idx], all_ids[idx]
        history.append(_generation(t, names, theta, dist, log_w, ids, p_acc=p_acc, simulated=n - keep))
        if p_acc <= p_acc_min:
            break
    return history


def _normalised(log_w: np.ndarray) -> np.ndarray:
    w = np.exp(log_w - log_w.max())
    return w / w.sum()


def _generation(t: int, names: list[str], theta: np.ndarray, dist: np.ndarray, log_w: np.ndarray,
                ids: np.ndarray, *, p_acc: float, simulated: int) -> Generation:
    frame = pd.DataFrame(theta, columns=names)
    frame["distance"] = dist
    frame["weight"] = _normalised(log_w)
    frame["sample"] = ids
    return Generation(t, float(dist.max()), p_acc, simulated, frame)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (the weighted empirical CDF, interpolated at the midpoints)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    values, weights = values[weights > 0], weights[weights > 0]
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of a weighted sample."""
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / (w ** 2).sum())
