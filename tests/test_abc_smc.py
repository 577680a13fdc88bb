"""The APMC sampler (experiments/abc_smc.py) on problems whose posterior is known."""

import itertools

import numpy as np
import pytest
from scipy import stats

from experiments.abc_smc import (
    apmc,
    effective_sample_size,
    kernel_cov,
    log_proposal_weights,
    propose,
    weighted_quantile,
)


def _normal_mean_problem(n_obs: int = 20, observed: float = 2.0, seed: int = 1):
    """θ1 is the mean of n_obs N(θ1, 1) draws (observed mean 2); θ2 does not enter the data at all."""
    rng = np.random.default_rng(seed)
    calls = []

    def simulate(theta: np.ndarray, t: int) -> np.ndarray:
        calls.append(len(theta))
        means = theta[:, 0] + rng.standard_normal(len(theta)) / np.sqrt(n_obs)
        return np.abs(means - observed)
    return simulate, calls


def test_apmc_recovers_a_known_posterior_and_leaves_an_uninformed_parameter_wide():
    simulate, calls = _normal_mean_problem()
    lo, hi = np.array([-10.0, 0.0]), np.array([10.0, 1.0])
    first = np.random.default_rng(0).uniform(lo, hi, size=(400, 2))
    history = apmc(simulate, ["mean", "unused"], lo, hi, first, alpha=0.5, p_acc_min=0.05, max_generations=12)
    post = history[-1].particles
    # the exact posterior of the mean under a flat prior: N(2, 1/20), sd 0.224
    mean = np.average(post["mean"], weights=post["weight"])
    sd = np.sqrt(np.average((post["mean"] - mean) ** 2, weights=post["weight"]))
    assert abs(mean - 2.0) < 0.1
    assert 0.15 < sd < 0.35
    q05, q95 = weighted_quantile(post["unused"].to_numpy(), post["weight"].to_numpy(), [0.05, 0.95])
    assert q95 - q05 > 0.75  # the data say nothing about it: it stays about as wide as its prior (0.9)
    # tolerances shrink, and each later generation simulates only the new half
    eps = [g.epsilon for g in history]
    assert all(b <= a for a, b in itertools.pairwise(eps)) and eps[-1] < eps[0] / 5
    assert calls[0] == 400 and set(calls[1:]) == {200}
    assert sum(g.simulated for g in history) == sum(calls)
    assert np.isclose(post["weight"].sum(), 1.0)


def test_apmc_is_deterministic_for_a_seed():
    runs = []
    for _ in range(2):
        simulate, _ = _normal_mean_problem(seed=5)
        first = np.random.default_rng(0).uniform([-10, 0], [10, 1], size=(60, 2))
        runs.append(apmc(simulate, ["a", "b"], [-10, 0], [10, 1], first, max_generations=4, seed=3)[-1].particles)
    assert runs[0].equals(runs[1])


def test_apmc_stops_when_few_new_particles_are_accepted():
    def flat(theta, t):  # every particle equally far: nothing new is ever nearer than the tolerance
        return np.ones(len(theta))
    first = np.random.default_rng(0).uniform(0, 1, size=(20, 1))
    history = apmc(flat, ["x"], [0], [1], first, p_acc_min=0.05, max_generations=10)
    assert len(history) == 2 and history[-1].p_acc == 0.0


def test_proposal_weights_are_prior_over_the_kernel_mixture():
    rng = np.random.default_rng(2)
    lo, hi = np.array([0.0, -1.0]), np.array([2.0, 3.0])
    old = rng.uniform(lo, hi, size=(7, 2))
    old_w = rng.uniform(0.5, 2.0, size=7)
    cov = kernel_cov(old, old_w, lo, hi)
    new = rng.uniform(lo, hi, size=(5, 2))
    mix = sum(w / old_w.sum() * stats.multivariate_normal(o, cov).pdf(new) for o, w in zip(old, old_w, strict=True))
    expected = (1 / np.prod(hi - lo)) / mix
    assert np.allclose(np.exp(log_proposal_weights(new, old, old_w, cov, lo, hi)), expected)


def test_proposals_stay_in_the_prior_box_and_integers_stay_integers():
    rng = np.random.default_rng(4)
    lo, hi = np.array([0.0, 13.0]), np.array([1.0, 52.0])
    old = np.array([[0.01, 14.0], [0.99, 50.0], [0.5, 30.0]])
    cov = np.diag([0.3, 200.0])  # wide: many moves leave the box and are redrawn
    new = propose(rng, old, np.ones(3), cov, 500, lo, hi, np.array([False, True]))
    assert new.shape == (500, 2)
    assert ((new >= lo) & (new <= hi)).all()
    assert np.array_equal(new[:, 1], np.round(new[:, 1]))


def test_weighted_quantile_and_effective_sample_size():
    v = np.arange(10.0)
    assert weighted_quantile(v, np.ones(10), 0.5) == pytest.approx(4.5)
    assert weighted_quantile(v, np.r_[np.zeros(9), 1.0], [0.05, 0.95]).tolist() == [9.0, 9.0]
    assert effective_sample_size(np.ones(8)) == pytest.approx(8)
    assert effective_sample_size(np.r_[1.0, np.zeros(7)]) == pytest.approx(1)


def test_bad_alpha_or_too_few_particles_are_refused():
    first = np.zeros((3, 1))
    with pytest.raises(ValueError, match="alpha"):
        apmc(lambda t, g: np.zeros(len(t)), ["x"], [0], [1], first, alpha=1.0)
    with pytest.raises(ValueError, match="kept"):
        apmc(lambda t, g: np.zeros(len(t)), ["x"], [0], [1], first, alpha=0.5)
