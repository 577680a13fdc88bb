"""Page-height limit of publication figures (issue 27): no chart is taller than a page at 85 or 175 mm.

experiments.presentation.figure_size is the one place the limit is enforced; the charts wrap their panels into
more columns first, and experiments.figures.page_parts (used by experiments.compare) splits a chart over its KPIs
into figures that each fit.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from experiments import figures, presentation
from experiments.presentation import PAGE_HEIGHT_MM, FigureTooTall, figure_size, page_size

KPIS = ("volunteers_per_10k", "response_rate", "completion_rate", "callback_satisfaction", "satisfaction_mean",
        "trust_mean", "social_orgs_active", "self_org_members", "volunteer_active_share_2plus", "fund_balance")


@pytest.fixture(autouse=True)
def restore_matplotlib():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def synthetic(n: int, seeds: int = 3, weeks: int = 6):
    rng = np.random.default_rng(0)
    rows = [(f"s{i}", seed, week, k, 0.5 + 0.01 * i + rng.normal(0, 0.02))
            for i in range(n) for seed in range(seeds) for week in range(1, weeks + 1) for k in KPIS]
    ts = pd.DataFrame(rows, columns=["scenario", "seed", "step", "indicator", "value"])
    ends = ts[ts["step"] == weeks].rename(columns={"indicator": "kpi"})
    pairs = ends[ends["scenario"] != "s0"].assign(diff=lambda d: d["value"] - 0.5)
    curves = pd.DataFrame([(f"s{i}", k, m, 1.0 / m) for i in range(1, n) for k in KPIS for m in range(2, seeds + 1)],
                          columns=["scenario", "kpi", "n", "half_width"])
    return ts, ends, pairs, curves


def charts(n: int, lang: str, width: str):
    """Each chart of experiments.compare as a function of the KPIs it shows, for ``n`` scenarios."""
    settings = {f"s{i}": {"policy": "micro_fund", "policy.micro_fund.fen_per_unit": float(i)} for i in range(n)}
    styles = figures.Styles.of(list(settings), {s: f"Scenario number {s} with a long name" for s in settings})
    groups = figures.scenario_groups(styles, settings, ["s0"], lang)
    ts, ends, pairs, curves = synthetic(n)
    return {
        "trajectories": lambda ks: figures.plot_trajectories(ts, ks, styles, lang, groups, width),
        "distributions": lambda ks: figures.plot_distributions(ends, ks, styles, lang, width),
        "differences": lambda ks: figures.plot_forest(pairs, ks, styles, lang, width),
        "replication": lambda ks: figures.plot_replication(curves, ks, styles, lang, groups=groups, width=width),
    }


@pytest.mark.parametrize("width", ["single", "double"])
def test_every_chart_fits_a_page_at_both_widths(width):
    """Six KPIs × 14 scenarios (taller than a page at 85 mm as one figure): each chart comes as one or more
    figures, every one at the journal width and no taller than the page. (Six, not all ten: the trajectories and
    replication charts then need a page per KPI, and each page drawn costs ~0.8 s.)"""
    presentation.setup_theme("en", paper=True)
    split, kpis = [], list(KPIS[:6])
    for name, draw in charts(14, "en", width).items():
        parts = figures.page_parts(draw, kpis)
        assert [k for _, ks in parts for k in ks] == kpis, name  # every KPI once, in order
        for fig, _ in parts:
            assert fig.get_figwidth() == pytest.approx(presentation.WIDTHS_MM[width] / 25.4), name
            assert fig.get_figheight() * 25.4 <= PAGE_HEIGHT_MM + 0.5, (name, fig.get_figheight() * 25.4)
            plt.close(fig)
        if len(parts) > 1:
            split.append(name)
    if width == "single":
        assert split, "at 85 mm some chart of 6 KPIs × 14 scenarios needs more than one page"


def test_a_figure_taller_than_a_page_is_refused_with_its_height_and_what_to_do():
    with pytest.raises(FigureTooTall, match=r"(?s)300 mm tall at --width single.*240 mm.*--width double"):
        figure_size("single", 300 / 25.4, "the chart")
    assert figure_size("double", 200 / 25.4)[1] == pytest.approx(200 / 25.4)
    with pytest.raises(FigureTooTall, match="more than a page"):
        page_size(4.0, 8.0)  # 4 × 8 in printed 175 mm wide: 350 mm tall
    assert page_size(18.0, 10.0) == (18.0, 10.0)


def test_one_kpi_too_tall_even_alone_is_refused_not_squeezed():
    """60 scenarios' rows at 85 mm do not fit a page even for one KPI: refused with the advice, not drawn."""
    presentation.setup_theme("en", paper=True)
    draw = charts(60, "en", "single")["distributions"]
    with pytest.raises(FigureTooTall, match="--width double"):
        figures.page_parts(draw, ["response_rate"])
