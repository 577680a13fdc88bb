"""Hold public money equal: scale a policy's public money to a yearly budget (issue #12, item 3).

    python -m experiments.equal_cost --budget 300000 [--seeds 3] [--tolerance 0.01] [--out FILE.yaml]
                                     [overrides ...]        e.g. policy=five_society community=relocation

A policy spends public money through the levers of :data:`MONEY_LEVERS` (the parameters declared ``money=True``
in sim/levers/: service purchase, venture philanthropy, the fund's government grant and match ratio, the moral
bank's government support, meal aid) and through
its social workers' wages (people, not scaled). All money levers are multiplied by one factor ``s``, chosen so
that the policy's mean public cost per year (``public_cost_run`` over the run's years, mean over ``--seeds``
seeds, the same seeds at every ``s``) equals ``--budget``. The cost at ``s = 0`` is the fixed part (the
wages), at ``s = 1`` the policy as set; public cost is linear in the budgets and close to linear in the match
ratio (which pays in proportion to what residents give), so the linear guess is then corrected by secant
steps until it is within ``--tolerance`` of the budget.

Prints the scaled levers as overrides (``python -m sim policy=… <overrides>`` runs the scaled policy) and,
with ``--out``, writes them with the budget, the factor and the cost reached to a YAML file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.levers import money_levers
from sim.model.community_model import CommunityModel
from sim.model.indicators import compute_kpis
from sim.runs.outputs import write_atomic
from sim.settings.config import get_value, settings_for, with_values
from sim.settings.overrides import check_overrides
from sim.settings.params import ConfigError

MONEY_LEVERS = money_levers()  # declared money=True in sim/levers/<lever>.py
WEEKS_PER_YEAR = 52
MAX_STEPS = 8  # secant corrections after the linear guess


class EqualCostError(ValueError):
    """A budget that cannot be reached, or bad input; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Scaled:
    factor: float                 # what every money lever was multiplied by
    cost_per_year: float          # the mean public cost per year reached (yuan)
    fixed_per_year: float         # the public cost per year with no money lever (the social workers' wages)
    as_set_per_year: float        # the public cost per year of the policy as set
    levers: dict[str, float]      # the scaled money levers
    evaluations: int              # factors tried (each: one run per seed)


def solve(cost: Callable[[float], float], budget: float, tolerance: float) -> tuple[float, float, float, float, int]:
    """The factor ``s ≥ 0`` with ``cost(s)`` within ``tolerance × budget`` of ``budget``.

    Returns (s, cost(s), cost(0), cost(1), evaluations). Raises EqualCostError when the budget is below the fixed
    cost, when the money levers spend nothing, or when the secant steps do not get within the tolerance."""
    fixed, as_set = cost(0.0), cost(1.0)
    evaluations = 2
    if budget < fixed * (1 - tolerance):
        raise EqualCostError(f"--budget {budget:,.0f} yuan/year is below this policy's fixed public cost, "
                             f"{fixed:,.0f} yuan/year (its social workers' wages, which are not scaled): "
                             f"allowed ≥ {fixed:,.0f}")
    if as_set - fixed <= 0:
        raise EqualCostError(f"this policy spends no public money through {', '.join(MONEY_LEVERS)}: there is "
                             "nothing to scale (set one of them, e.g. policy.gov_purchase.budget_yuan_per_year)")
    if abs(budget - fixed) <= tolerance * budget:
        return 0.0, fixed, fixed, as_set, evaluations
    s0, c0 = 1.0, as_set
    s1 = (budget - fixed) / (as_set - fixed)  # the linear guess through cost(0) and cost(1)
    for _ in range(MAX_STEPS):
        c1 = cost(s1)
        evaluations += 1
        if abs(c1 - budget) <= tolerance * budget:
            return s1, c1, fixed, as_set, evaluations
        slope = (c1 - c0) / (s1 - s0) if s1 != s0 else (as_set - fixed)
        if slope <= 0:
            slope = as_set - fixed
        s0, c0, s1 = s1, c1, max(0.0, s1 + (budget - c1) / slope)
    raise EqualCostError(f"could not bring the public cost within {tolerance:.1%} of {budget:,.0f} yuan/year in "
                         f"{MAX_STEPS} steps (last: {c1:,.0f} at factor {s1:.4g}); try a larger --tolerance or "
                         "more --seeds")


def scale_to_budget(overrides: Sequence[str], budget: float, seeds: int = 3, tolerance: float = 0.01) -> Scaled:
    """Scale the money levers of the policy the overrides describe so that it spends ``budget`` yuan a year."""
    if budget <= 0:
        raise EqualCostError(f"--budget {budget:g}: a yearly public budget in yuan, allowed > 0")
    if seeds < 1:
        raise EqualCostError(f"--seeds {seeds}: allowed ≥ 1")
    if not 0 < tolerance < 1:
        raise EqualCostError(f"--tolerance {tolerance:g}: a share of the budget, allowed 0 < tolerance < 1")
    try:
        check_overrides(overrides)  # one-line errors naming the key and the allowed values, as python -m sim
        base = settings_for(*overrides)
    except ConfigError as exc:
        raise EqualCostError(str(exc)) from None
    if base.district is not None:
        raise EqualCostError("district=…: scale one community's policy (a district's communities each have one)")
    as_set = {key: float(get_value(base, key)) for key in MONEY_LEVERS}
    as_set = {key: value for key, value in as_set.items() if value != 0} or as_set  # the levers the policy uses

    def settings(s: float, seed: int):
        return with_values(base, {"seed": seed, **{k: v * s for k, v in as_set.items()}})

    def cost(s: float) -> float:
        per_year = []
        for i in range(seeds):
            try:
                model = CommunityModel(settings(s, base.seed + i))
            except ConfigError as exc:
                raise EqualCostError(f"at factor {s:.4g}: {exc}") from None
            ts = model.run(progress=False)
            per_year.append(compute_kpis(ts, model)["public_cost_run"] / (len(ts) / WEEKS_PER_YEAR))
        return float(np.mean(per_year))

    s, reached, fixed, full, n = solve(cost, budget, tolerance)
    return Scaled(s, reached, fixed, full, {k: v * s for k, v in as_set.items()}, n)


def overrides_text(scaled: Scaled) -> list[str]:
    return [f"{k}={v:.6g}" for k, v in scaled.levers.items()]


def report(scaled: Scaled, budget: float, overrides: Sequence[str]) -> str:
    lines = [f"budget: {budget:,.0f} yuan/year; reached {scaled.cost_per_year:,.0f} yuan/year "
             f"(factor {scaled.factor:.4g} on every money lever; {scaled.evaluations} factors tried)",
             f"fixed public cost (social workers' wages): {scaled.fixed_per_year:,.0f} yuan/year; "
             f"the policy as set: {scaled.as_set_per_year:,.0f} yuan/year",
             "run the scaled policy with:",
             "  python -m sim " + " ".join([*overrides, *overrides_text(scaled)])]
    return "\n".join(lines)


def to_yaml(scaled: Scaled, budget: float, overrides: Sequence[str]) -> str:
    rows = [f"# python -m experiments.equal_cost --budget {budget:g} {' '.join(overrides)}",
            f"budget_yuan_per_year: {budget:g}", f"factor: {scaled.factor:.6g}",
            f"cost_yuan_per_year: {scaled.cost_per_year:.2f}", f"fixed_yuan_per_year: {scaled.fixed_per_year:.2f}",
            f"as_set_yuan_per_year: {scaled.as_set_per_year:.2f}", "overrides:"]
    rows += [f"  - {o}" for o in [*overrides, *overrides_text(scaled)]]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.equal_cost",
                                     description="Scale a policy's public money to a yearly budget (equal-cost "
                                                 "comparisons).", epilog=__doc__.split("\n\n")[2])
    parser.add_argument("--budget", type=float, required=True, help="public money per year, yuan")
    parser.add_argument("--seeds", type=int, default=3, help="seeds averaged at each factor (default 3)")
    parser.add_argument("--tolerance", type=float, default=0.01, help="share of the budget (default 0.01)")
    parser.add_argument("--out", type=Path, help="write the scaled levers to this YAML file")
    parser.add_argument("overrides", nargs="*", help="the policy and community, as for python -m sim")
    args = parser.parse_args(argv)
    try:
        scaled = scale_to_budget(args.overrides, args.budget, args.seeds, args.tolerance)
    except EqualCostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report(scaled, args.budget, args.overrides))
    if args.out:
        write_atomic(args.out, to_yaml(scaled, args.budget, args.overrides))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
