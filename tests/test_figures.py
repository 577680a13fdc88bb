"""Publication figures: every chart type with long scenario names in both languages has no overlapping tick
labels; journal widths; palettes; facets; targets off the scale; the warm-up; and `python -m experiments.plot`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from experiments import figures, parameter_figures, plot, presentation
from experiments.presentation import overlapping_tick_labels, scenario_label

KPIS = ("volunteers_per_10k", "response_rate", "satisfaction_mean", "fund_balance")
POLICIES = ("baseline", "five_society", "micro_fund")
FEN = (0, 1, 2, 5, 10)


@pytest.fixture(autouse=True)
def restore_matplotlib():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def settings(n: int) -> dict[str, dict[str, object]]:
    """``n`` scenarios of a policy × fen per unit × units sold sweep: long names in both languages."""
    combos = [{"policy": p, "policy.micro_fund.fen_per_unit": float(f), "community.units_per_week": 5000.0}
              for p in POLICIES for f in FEN]
    return {f"s{i}": combos[i] for i in range(n)}


def synthetic(n: int, seeds: int = 4, weeks: int = 30):
    """Weekly series, end values, paired differences and replication curves of ``n`` scenarios."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(n):
        for seed in range(seeds):
            for week in range(1, weeks + 1):
                rows += [(f"s{i}", seed, week, "volunteers_per_10k", 1000 + 5 * week + 20 * i + rng.normal(0, 10)),
                         (f"s{i}", seed, week, "response_rate", min(1.0, 0.8 + 0.01 * i + rng.normal(0, 0.05))),
                         (f"s{i}", seed, week, "satisfaction_mean", 0.7 + 0.002 * i + rng.normal(0, 0.01)),
                         (f"s{i}", seed, week, "fund_balance", 1000 * i + 50 * week + rng.normal(0, 100))]
    ts = pd.DataFrame(rows, columns=["scenario", "seed", "step", "indicator", "value"])
    ends = ts[ts["step"] == weeks].rename(columns={"indicator": "kpi"})
    base = ends[ends["scenario"] == "s0"].set_index(["kpi", "seed"])["value"]
    pairs = ends[ends["scenario"] != "s0"].assign(
        diff=lambda d: d["value"].to_numpy() - base.reindex(list(zip(d["kpi"], d["seed"], strict=True))).to_numpy())
    curves = pd.DataFrame([(f"s{i}", k, m, 10.0 / m) for i in range(1, n) for k in KPIS for m in range(2, seeds + 1)],
                          columns=["scenario", "kpi", "n", "half_width"])
    return ts, ends, pairs, curves


def styles_for(n: int, lang: str, greyscale: bool = False) -> tuple[figures.Styles, dict]:
    s = settings(n)
    return figures.Styles.of(list(s), {k: scenario_label(v, lang) for k, v in s.items()}, greyscale), s


def every_figure(n: int, lang: str, width: str, only: tuple[str, ...] = ()):
    """Each chart type (or those in ``only``) drawn for ``n`` scenarios (yields name, figure)."""
    styles, s = styles_for(n, lang)
    ts, ends, pairs, curves = synthetic(n)
    groups = figures.scenario_groups(styles, s, ["s0"], lang)
    yield "trajectories", figures.plot_trajectories(ts, KPIS, styles, lang, groups, width, warmup=2)
    if only:
        return
    yield "distributions", figures.plot_distributions(ends, KPIS, styles, lang, width)
    yield "differences", figures.plot_forest(pairs, KPIS, styles, lang, width)
    yield "replication", figures.plot_replication(curves, KPIS, styles, lang, groups=groups, width=width)
    table = pd.DataFrame([[1234.5, 2345.6, 3456.7], [4567.8, 5678.9, 6789.0]], index=["0", "10"],
                         columns=["500", "5,000", "50,000"])
    yield "heatmap", parameter_figures.plot_heatmap(table, "fund_balance", "policy.micro_fund.fen_per_unit",
                                                    "community.units_per_week", lang, width)


@pytest.mark.parametrize(("lang", "width", "n", "only"), [("en", "single", 6, ()), ("zh", "single", 6, ()),
                                                          ("zh", "double", 15, ("trajectories",))])
def test_no_tick_labels_overlap_with_long_names(lang, width, n, only):
    """Every chart type in both languages at the narrow width; 15 scenarios faceted at the full width."""
    presentation.setup_theme(lang, paper=True)
    for name, fig in every_figure(n, lang, width, only):
        assert fig.get_figwidth() == pytest.approx(presentation.WIDTHS_MM[width] / 25.4), name
        assert overlapping_tick_labels(fig) == [], name
        plt.close(fig)


def test_the_overlap_check_finds_crowded_labels_and_declutter_thins_them():
    fig, ax = plt.subplots(figsize=(3, 2), layout="constrained")
    ax.set_xticks(range(12), [f"label {i}" for i in range(12)])
    ax.plot(np.arange(5000, 25000, 1000), range(20))  # numeric y: "5,000" … packed into 2 inches
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=30))
    ax.set_xlim(-0.5, 11.5)
    assert len(overlapping_tick_labels(fig)) > 5
    presentation.declutter(fig)
    assert overlapping_tick_labels(fig) == []
    assert sum(t.get_visible() for t in ax.get_xticklabels()) >= 3  # thinned or turned, not all dropped


def test_scenarios_are_named_in_words_with_units():
    fen = {"policy": "micro_fund", "policy.micro_fund.fen_per_unit": 2.0}
    assert scenario_label(fen, "zh") == "一分钱公益微基金，一分钱/瓶 = 2 分"
    assert scenario_label(fen, "en") == "One-cent charity micro-fund, One cent per bottle = 2 fen"
    assert scenario_label({"community.units_per_week": 5000.0}, "zh") == "企业销量 = 5,000 件/周"
    assert presentation.axis_unit("fund_balance", "zh") == "元"
    assert presentation.axis_unit("fund_inflow_run", "en") == "yuan"  # a run total: no '/week'
    assert presentation.axis_unit("satisfaction_mean", "en", diff=True) == "pp"


def test_palettes_are_colour_blind_safe_or_grey_and_styles_stay_distinct():
    styles = figures.Styles.of([f"s{i}" for i in range(20)])
    assert list(styles.palette.values())[:8] == list(presentation.OKABE_ITO)
    pairs = {(styles.palette[s], styles.markers[s]) for s in styles.order}
    assert len(pairs) == 20  # no two of 20 scenarios share colour and marker
    grey = figures.Styles.of([f"s{i}" for i in range(8)], greyscale=True)
    assert all(len(set(to_rgb(c))) == 1 for c in grey.palette.values())


def test_many_scenarios_are_faceted_by_a_swept_parameter():
    styles, s = styles_for(15, "en")
    groups = figures.scenario_groups(styles, s, [f"s{i}" for i in range(5)], "en")
    assert [len(members) for _, members in groups] == [5, 5, 5]
    assert groups[1][0] == "Five-society linkage (all levers)"
    twenty = {f"s{i}": {"policy.micro_fund.fen_per_unit": float(i)} for i in range(20)}
    styles = figures.Styles.of(list(twenty))
    groups = figures.scenario_groups(styles, twenty, ["s0"], "en")  # no parameter splits them: in order
    assert all(len(m) <= figures.GROUP_MAX and m[0] == "s0" for _, m in groups)
    assert sorted({s for _, m in groups for s in m}) == sorted(twenty)
    assert figures.scenario_groups(figures.Styles.of(["a", "b"]), {}, [], "en") == [("", ["a", "b"])]


def test_a_target_far_off_the_data_is_an_arrow_not_a_stretched_axis():
    presentation.setup_theme("en", paper=True)
    ts, *_ = synthetic(2)
    styles, _ = styles_for(2, "en")
    fig = figures.plot_trajectories(ts, ["volunteers_per_10k", "response_rate"], styles, "en", warmup=3)
    volunteers, response = fig.axes[:2]
    assert volunteers.get_ylim()[1] < 1500  # data ~1,000–1,200; target 2,500 not on the axis
    assert any(t.get_text().startswith("↑ Target ≥ 2,500") for t in volunteers.texts)
    assert any(line.get_ydata()[0] == 1.0 for line in response.lines if len(set(line.get_ydata())) == 1)
    shaded = [p for p in volunteers.patches if p.get_x() == 0.5]
    assert shaded and shaded[0].get_width() == pytest.approx(3)  # weeks 1–3 shaded


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory) -> list[Path]:
    cwd = tmp_path_factory.mktemp("plot")
    dirs = []
    for policy in ("baseline", "five_society"):
        out = cwd / policy
        subprocess.run([sys.executable, "-m", "sim", "community=relocation", "steps=20", f"policy={policy}",
                        f"hydra.run.dir={out}"], cwd=cwd, check=True, capture_output=True, timeout=300)
        dirs.append(out)
    return dirs


def test_plot_one_run_and_two_side_by_side(run_dirs):
    assert plot.main([str(run_dirs[0]), "--pdf"]) == 0
    assert all((run_dirs[0] / "figures" / f"run.{ext}").stat().st_size > 10_000 for ext in ("png", "svg", "pdf"))
    presentation.setup_theme("zh", paper=True)
    fig = plot.plot_runs([plot.load_run(d) for d in run_dirs], "zh", width="single", warmup=2)
    assert fig.get_figwidth() == pytest.approx(85 / 25.4)
    assert overlapping_tick_labels(fig) == []
    runs, fund = ([t.get_text() for t in sub.legends[0].get_texts()] for sub in fig.subfigs)
    assert any("基线" in t for t in runs) and any("五社联动" in t for t in runs)  # runs named by their policy
    assert any("居民捐赠" in t for t in fund) and any("困难群众" in t for t in fund)  # inflows and outflows
    response = next(ax for ax in fig.axes if ax.get_title() == "诉求响应率")
    assert "13" in response.get_ylabel()  # a single run's rates over a rolling window
    callback = next(ax for ax in fig.axes if ax.get_title() == "诉求回访满意率")
    assert "13" in callback.get_ylabel()
    assert any(ax.get_title() == "公共财政成本" for ax in fig.axes)  # public_cost_run drawn as its weekly column
    plt.close(fig)


def test_plot_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "runs.parquet").write_bytes(b"")
    assert plot.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a finished run folder" in err and "experiments.compare" in err
    assert not (tmp_path / "figures").exists()


def test_warmup_weeks_come_from_the_run_config(run_dirs, tmp_path):
    """Shaded: the weeks of the longest wait (time limit and extension) that the model's warm-up did not cover."""
    from experiments.loading import warmup_weeks
    manifest = json.loads((run_dirs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"]["warmup_weeks"] > 5
    assert warmup_weeks(run_dirs[0]) == 0  # the shipped warm-up fills the queue: nothing to shade
    assert warmup_weeks(tmp_path) == 0  # no manifest: the schema's defaults (a warm-up longer than the wait)
    # limits in working days: the longest of the three, rounded up to weeks, plus the extension
    for model_warmup, complaint_days, extension_days, shaded in ((0, 15, 10, 5), (1, 15, 10, 4), (0, 15, 0, 3),
                                                                 (0, 25, 10, 7), (6, 15, 10, 0)):
        config = {**manifest["config"], "warmup_weeks": model_warmup}
        config["behaviour"] = {**config["behaviour"], "complaint_limit_days": complaint_days,
                               "extension_days": extension_days}
        (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "config": config}), encoding="utf-8")
        assert warmup_weeks(tmp_path) == shaded, (model_warmup, complaint_days, extension_days)


def _line_gap_em(text) -> float:
    """The blank space between the two lines of a vertical (y-label) text, in ems of its font."""
    fig = text.figure
    fig.canvas.draw()
    ink = (np.asarray(fig.canvas.buffer_rgba())[..., :3] < 128).any(axis=(0, 2))
    inked = np.flatnonzero(ink)
    blank = np.count_nonzero(~ink[inked.min():inked.max() + 1])
    return blank / (text.get_fontsize() * fig.dpi / 72)


def test_two_lines_of_chinese_get_room_between_them(tmp_path):
    """Matplotlib spaces lines by the Latin font's height: two lines of Chinese characters alone were 0.2 em apart,
    read as one block (the y label of the replications figure in zh).  After :func:`presentation.space_cjk_lines`
    (which every saver calls) they are at least 0.4 em apart; English keeps matplotlib's spacing."""
    if presentation.setup_theme("zh", paper=True) is None:
        pytest.skip("no CJK font (./dev.sh installs one)")
    fig = plt.figure(figsize=(3, 3), dpi=100)
    two = fig.text(0.5, 0.5, "置信区间半宽 ÷\n政策间标准差", fontsize=10, rotation=90, ha="center", va="center")
    latin = fig.text(0.5, 0.1, "half-width\nbetween", fontsize=5, alpha=0)
    assert _line_gap_em(two) < 0.3  # what this guards against
    presentation.space_cjk_lines(fig)
    assert _line_gap_em(two) >= 0.4
    assert latin.get_linespacing() != presentation.CJK_LINESPACING
    presentation.save_figure(fig, tmp_path, "lines")  # the saver spaces them too (and closes the figure)
    assert (tmp_path / "lines.png").is_file()
