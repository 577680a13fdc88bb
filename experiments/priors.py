"""Prior distributions of the inputs that may move a policy contrast (issue #12, item 1).

A seed-only interval holds these inputs fixed; the sensitivity analysis of a contrast
(``python -m experiments.sensitivity method=screen --contrast baseline``) draws them from the distributions
below. Each says where its range comes from: a figure in ``docs/literature.md`` (cited by its tag there) or
"assumption" with the reasoning. Two kinds, both with a finite support, so that Morris's grid (which takes
each distribution's quantiles, 0 and 1 included) and Sobol's sample can draw them alike: ``uniform`` on [lo, hi]
where nothing favours a value inside the range, ``triangular`` with its mode at the model's default where a
source or the calibration names a central value.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("uniform", "triangular")


@dataclass(frozen=True)
class Distribution:
    """One input's prior: ``kind`` over [lo, hi] (triangular: peaking at ``mode``), and where it comes from."""

    kind: str
    lo: float
    hi: float
    source: str
    mode: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r}: allowed {', '.join(KINDS)}")
        if not self.lo < self.hi:
            raise ValueError(f"lo {self.lo} must be below hi {self.hi}")
        if (self.kind == "triangular") != (self.mode is not None):
            raise ValueError("a triangular prior needs its mode, a uniform one none")
        if self.mode is not None and not self.lo <= self.mode <= self.hi:
            raise ValueError(f"mode {self.mode} outside [{self.lo}, {self.hi}]")

    def salib(self) -> tuple[list[float], str]:
        """SALib's bounds and distribution name (a triangle's peak as a fraction of its width)."""
        if self.kind == "uniform":
            return [self.lo, self.hi], "unif"
        return [self.lo, self.hi, (self.mode - self.lo) / (self.hi - self.lo)], "triang"

    def describe(self) -> str:
        """E.g. "uniform 0.1–0.5" or "triangular 0.5–0.9, mode 0.7"."""
        text = f"{self.kind} {self.lo:g}–{self.hi:g}"
        return text + (f", mode {self.mode:g}" if self.mode is not None else "")


# Behavioural, structural and initial-condition inputs of a contrast (the levers are set by the two policies).
CONTRAST_PRIORS: dict[str, Distribution] = {
    # structure: what the community is and holds
    "community.units_per_week": Distribution(
        "uniform", 500.0, 20_000.0,
        "assumption: no published one-cent volume (docs/literature.md §4, §9); a small shop's week to a chain's"),
    "community.department_cases_per_1000_week": Distribution(
        "uniform", 0.5, 2.0, "assumption (docs/literature.md §1 'not found'): half to twice the default"),
    "behaviour.professional_share": Distribution(
        "uniform", 0.05, 0.5, "calibration prior (no published share of orders needing professionals, "
        "docs/literature.md §'Work orders' not found)"),
    "behaviour.structural_share": Distribution(
        "uniform", 0.04, 0.26, "routing: 25.5 % of Chengdu's dispatched hotline orders went to city departments "
        "([K15]); most community orders are grid-found (84 %, [K30]) and settled locally"),
    "behaviour.intake_orders_per_worker_week": Distribution(
        "uniform", 4.0, 20.0, "calibration prior: orders a community or grid worker signs for or answers a week"),
    "behaviour.staff_success": Distribution(
        "uniform", 0.80, 0.99, "published resolution rates 80–97 % ([K20][K22][K25])"),
    # initial conditions
    "community.volunteers_initial_share": Distribution(
        "uniform", 0.05, 0.2, "registered volunteers ≈ 5 % (2017: 6,720万) and ≈ 7 % (2018: >1亿) of the population "
        "([V6][V5], derived); the upper bound: assumption"),
    "community.satisfaction_initial": Distribution(
        "triangular", 0.5, 0.9, "assumption; the range the review in issue #12 found to move the satisfaction gain "
        "(+0.29 at 0.5, +0.19 at 0.9)", mode=0.7),
    "community.trust_initial": Distribution(
        "triangular", 0.4, 0.8, "assumption, around the default 0.6", mode=0.6),
    # behaviour: experience and memory
    "behaviour.satisfaction_rate": Distribution(
        "uniform", 0.1, 0.5, "assumption: how far one experience moves satisfaction"),
    "behaviour.trust_rate": Distribution(
        "uniform", 0.05, 0.2, "assumption: half to twice the default 0.1"),
    "behaviour.satisfaction_memory_weeks": Distribution(
        "uniform", 13.0, 156.0, "assumption: a quarter to three years (expectancy-disconfirmation sets the form, "
        "docs/literature.md §6, not the length)"),
    "behaviour.session_satisfaction_rate": Distribution(
        "uniform", 0.02, 0.3, "assumption; the review in issue #12 found project satisfaction moving the gain most"),
    "behaviour.callback_satisfied_resolved": Distribution(
        "triangular", 0.90, 0.99, "回访满意率 94–97 % reported ([D1][D6]); self-reports may overstate ([D9])",
        mode=0.95),
    "behaviour.callback_satisfied_unresolved": Distribution(
        "uniform", 0.3, 0.76, "75.86 % for repeat complaints ([D4]) as the upper bound; lower: assumption"),
    # behaviour: volunteers, giving, projects
    "behaviour.register_base": Distribution(
        "uniform", 0.0001, 0.0008, "calibration prior (experiments/calibrate.py PRIORS): 0.5–4 % a year"),
    "behaviour.dropout_base": Distribution(
        "uniform", 0.0002, 0.0020, "calibration prior: 1–10 % a year"),
    "behaviour.donate_prob": Distribution(
        "uniform", 0.0005, 0.005, "assumption: a gift every 4 to 40 years per resident"),
    "behaviour.project_cost_yuan": Distribution(
        "uniform", 10_000.0, 100_000.0, "公益创投 1万~10万元 per project ([P1][P2])"),
    "behaviour.claim_prob": Distribution(
        "uniform", 0.1, 0.9, "assumption: how readily a unit claims a listed project"),
    "behaviour.staff_cases_week": Distribution(
        "uniform", 1.0, 4.0, "calibration prior: simple cases a community worker handles a week beside other duties"),
}
