"""From a sweep to a paper (issue 27): numbers as a Chinese or English paper writes them, scenario names,
the heatmap's names and colour scale, flat series on sane axes."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from system_deps import require_cjk_font

from experiments import figures, parameter_figures, presentation


@pytest.mark.parametrize(("value", "text"), [(1_600_000, "1,600,000"), (15_000, "15,000"), (1.5, "1.5"),
                                             (1153.845, "1,153.85"), (0.0001234, "0.0001234"), (-2.5, "-2.5"),
                                             (123_456_789.0, "123,456,789"), (0.1 + 0.2, "0.3"), (0, "0")])
def test_ticks_are_never_in_scientific_notation(value, text):
    assert presentation.thousands(value) == text


def test_money_is_in_wan_yuan_in_chinese_and_yuan_in_english():
    assert presentation.money_text(435_751, "zh") == "43.58 万元"
    assert presentation.money_text(435_751, "en") == "¥435,751"
    assert presentation.display_unit("public_cost_run", "zh") == "万元"
    assert presentation.display_unit("public_cost", "zh") == "万元/周"
    assert presentation.display_unit("public_cost_run", "en") == "yuan"
    assert presentation.display_unit("response_rate", "zh", diff=True) == "个百分点"
    assert presentation.value_scale("public_cost_run", "zh") == 10_000
    assert presentation.value_scale("volunteers_per_10k", "zh") == 1


def test_scenario_names_leave_out_a_lever_the_policy_fixes():
    settings = {"b": {"community": "relocation", "policy": "baseline", "policy.micro_fund.fen_per_unit": 0.0},
                "f": {"community": "relocation", "policy": "five_society", "policy.micro_fund.fen_per_unit": 1.0},
                "m1": {"community": "relocation", "policy": "micro_fund", "policy.micro_fund.fen_per_unit": 1.0},
                "m2": {"community": "relocation", "policy": "micro_fund", "policy.micro_fund.fen_per_unit": 2.0}}
    names = presentation.scenario_names(settings, "zh")
    assert names["b"] == "易地扶贫搬迁社区，基线（无联动）"
    assert names["f"] == "易地扶贫搬迁社区，五社联动（全部杠杆）"
    assert names["m2"] == "易地扶贫搬迁社区，一分钱公益微基金，一分钱/瓶 = 2 分"
    assert presentation.scenario_names(settings, "en")["m1"].endswith("One cent per bottle = 1 fen")
    assert all("nan" not in n for n in names.values())


def test_a_flat_series_is_drawn_on_a_sane_axis():
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [1153.845, 1153.845, 1153.845])
    figures.percent_axis(ax, "public_cost", lang="zh")
    low, high = ax.get_ylim()
    assert high - low >= 1e-3 * 1153 and low < 1153.845 < high
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert all("e" not in t for t in ticks) and len(set(ticks)) == len(ticks)
    plt.close(fig)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [0.85, 0.85, 0.85])
    figures.percent_axis(ax, "response_rate")
    assert ax.get_ylim()[1] - ax.get_ylim()[0] >= figures.FLAT_RATE - 1e-12
    plt.close(fig)


def test_the_heatmap_names_presets_and_does_not_stretch_a_tiny_range():
    require_cjk_font()
    table = pd.DataFrame([[0.850, 0.851], [0.852, 0.853]], index=["relocation", "urban_traditional"],
                         columns=["baseline", "five_society"])
    with matplotlib.rc_context():
        presentation.setup_theme("zh", paper=True)
        fig = parameter_figures.plot_heatmap(table, "completion_rate", "community", "policy", "zh")
        ax = fig.axes[0]
        fig.canvas.draw()
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert [t.replace("\n", "") for t in ticks] == ["基线（无联动）", "五社联动（全部杠杆）"]
        assert "杠\n杆" not in ticks[1]  # never broken inside its brackets
        assert "易地扶贫搬迁社区" in ax.get_yticklabels()[0].get_text()
        assert ax.get_ylabel() == "社区" and ax.get_xlabel() == "政策"
        low, high = ax.images[0].get_clim()
        assert high - low >= 0.05 - 1e-12  # 0.3 pp of spread is not drawn from one end of the scale to the other
        plt.close(fig)
    assert parameter_figures.colour_limits(np.array([0.2, 0.9]), "completion_rate") == (0.2, 0.9)
    assert parameter_figures.colour_limits(np.array([0.999, 1.0]), "completion_rate") == (0.95, 1.0)


def test_weekly_rates_are_drawn_over_a_rolling_quarter_from_their_counts():
    from experiments.tables import rolling_rates

    weeks = np.arange(1, 27)
    signed = np.where(weeks % 2 == 0, 1.0, 0.0)  # a week with one order in time, a week with one missed
    rows = [{"run": 0, "step": w, "indicator": k, "value": v, "scenario": "a", "seed": 0}
            for w, s in zip(weeks, signed, strict=True)
            for k, v in (("demands_signed_in_time", s), ("demands_sign_missed", 1 - s), ("response_rate", s),
                         ("fund_balance", 5.0))]
    ts = pd.DataFrame(rows)
    out, rolled = rolling_rates(ts, ["response_rate", "fund_balance"], window=13)
    assert rolled == ["response_rate"]
    rate = out[out["indicator"] == "response_rate"].set_index("step")["value"]
    assert rate.loc[26] == pytest.approx(7 / 13)  # weeks 14–26: seven even weeks of thirteen, not 0 or 1
    assert rate.loc[1] == 0 and rate.loc[2] == pytest.approx(0.5)
    assert (out[out["indicator"] == "fund_balance"]["value"] == 5).all() and list(out.columns) == list(ts.columns)


def test_facets_by_community_keep_a_policys_style_and_one_legend_entry():
    settings = {f"{c}/{p}": {"community": c, "policy": p} for c in ("relocation", "urban_traditional")
                for p in ("baseline", "gov_purchase", "five_society")}
    order = list(settings)
    series = {s: v["policy"] for s, v in settings.items()}
    styles = figures.Styles.of(order, {s: s for s in order}, series=series)
    assert styles.palette["relocation/five_society"] == styles.palette["urban_traditional/five_society"]
    assert len(set(styles.palette.values())) == 3
    handles, names = figures._legend_entries(styles, order, "en", 0)
    assert len(handles) == 3
    assert names == ["baseline", "gov_purchase", "five_society"]
    base = ["relocation/baseline", "urban_traditional/baseline"]
    groups = figures.facet_groups(settings, order, ["community"], base, "zh")
    assert [t for t, _ in groups] == ["易地扶贫搬迁社区", "传统城区社区"]
    assert groups[0][1][0] == "relocation/baseline" and all(s.startswith("relocation") for s in groups[0][1])
    assert len(figures.facet_groups(settings, order, ["community"], base, "en", most=2)) == 4  # split: (1/2), (2/2)
