"""Equal-cost comparisons (issue #12, item 3): scaling a policy's public money to a yearly budget."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

from experiments.equal_cost import MONEY_LEVERS, EqualCostError, scale_to_budget, solve


def test_a_linear_cost_is_hit_by_the_first_guess():
    calls = []

    def cost(s):
        calls.append(s)
        return 60_000 + 200_000 * s

    s, reached, fixed, as_set, n = solve(cost, 150_000, 0.001)
    assert s == pytest.approx(0.45) and reached == pytest.approx(150_000)
    assert (fixed, as_set, n) == (60_000, 260_000, 3) and calls[:2] == [0.0, 1.0]


def test_a_curved_cost_is_reached_by_secant_steps_within_the_tolerance():
    s, reached, _, _, n = solve(lambda s: 180_000 + 320_000 * s ** 1.4, 300_000, 0.001)
    assert abs(reached - 300_000) <= 300 and n > 3
    assert s == pytest.approx((120_000 / 320_000) ** (1 / 1.4), rel=0.01)


@pytest.mark.parametrize(("cost", "budget", "message"), [
    (lambda s: 60_000 + 1000 * s, 10_000, "below this policy's fixed public cost, 60,000 yuan/year"),
    (lambda s: 60_000.0, 100_000, "spends no public money through policy.fund.government_grant_yuan_per_year"),
])
def test_an_unreachable_budget_is_refused_with_the_reason(cost, budget, message):
    with pytest.raises(EqualCostError, match=message):
        solve(cost, budget, 0.01)


def test_a_purchase_policy_is_scaled_to_its_budget():
    """gov_purchase spends 200,000 yuan a year on contracts besides the station social worker's 60,000: at a budget
    of 150,000 the contracts get what the wages leave, and the run spends the budget."""
    scaled = scale_to_budget(["policy=gov_purchase", "community=relocation", "steps=52"], 150_000, seeds=1,
                             tolerance=0.01)
    assert scaled.fixed_per_year == pytest.approx(60_000) and scaled.as_set_per_year > scaled.fixed_per_year
    assert abs(scaled.cost_per_year - 150_000) <= 1_500
    assert scaled.levers["policy.gov_purchase.budget_yuan_per_year"] == pytest.approx(90_000, rel=0.02)
    assert set(scaled.levers) == {"policy.gov_purchase.budget_yuan_per_year"}  # the money lever the policy uses
    assert set(scaled.levers) <= set(MONEY_LEVERS)


def test_the_command_refuses_bad_input_and_writes_nothing(tmp_path):
    out = tmp_path / "scaled.yaml"
    for args, message in ((["--budget", "-3"], "--budget -3: a yearly public budget in yuan, allowed > 0"),
                          (["--budget", "1e5", "policy=nope"], "policy='nope' is not a policy option"),
                          (["--budget", "1000", "policy=gov_purchase", "community=relocation", "steps=52"],
                           "allowed ≥ 60,000")):
        done = subprocess.run([sys.executable, "-m", "experiments.equal_cost", *args, "--out", str(out)],
                              capture_output=True, text=True, cwd=REPO, check=False)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert not out.exists()
    done = subprocess.run([sys.executable, "-m", "experiments.equal_cost", "--budget", "150000", "--seeds", "1",
                           "--out", str(out), "policy=gov_purchase", "community=relocation", "steps=52"],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert "budget_yuan_per_year: 150000" in text and "  - policy.gov_purchase.budget_yuan_per_year=" in text
    assert "python -m sim policy=gov_purchase community=relocation steps=52 policy.gov_purchase" in done.stdout
