"""experiments.compare end to end on two small sweeps: figures, reports, Chinese fonts, bad input;
and its parts: the report template, the forest plot's intervals."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from system_deps import require_cjk_font

from experiments import compare, figures, loading, presentation, report, stats, tables
from sim.model.indicators import KEY_INDICATORS
from sim.runs.collate import collate

# 52 weeks after the warm-up: every key indicator is measurable; the basic launcher: no worker start-up
SMALL = ("community=relocation", "steps=52", "hydra/launcher=basic")
POLICY_SWEEP = ("policy=baseline,micro_fund", "seed=range(0,3)")
GRID_SWEEP = ("policy=micro_fund", "policy.micro_fund.fen_per_unit=0,5", "community.units_per_week=500,5000",
              "seed=range(0,2)")
FIGURES = ("trajectories", "distributions", "differences", "replication")


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> dict[str, Path]:
    """A 2 policies × 3 seeds sweep and a 2 × 2 parameter grid × 2 seeds sweep, run in parallel."""
    cwd = tmp_path_factory.mktemp("compare")
    jobs = {name: subprocess.Popen([sys.executable, "-m", "sim", "-m", *args, *SMALL, f"hydra.sweep.dir={name}"],
                                   cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env())
            for name, args in (("policies", POLICY_SWEEP), ("grid", GRID_SWEEP))}
    for name, proc in jobs.items():
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0 and (cwd / name / "runs.parquet").is_file(), out
    return {name: cwd / name for name in jobs}


def run_compare(*args: str) -> int:
    """compare.main in this process, with matplotlib's settings restored afterwards."""
    with matplotlib.rc_context():
        return compare.main([str(a) for a in args])


def test_policy_sweep_in_english(sweeps, tmp_path):
    out = tmp_path / "en"
    assert run_compare(sweeps["policies"], "--out", out) == 0
    for stem in FIGURES:
        for ext in ("png", "svg"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000, f"{stem}.{ext}"
    image = Image.open(out / "trajectories.png")
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)  # print resolution, 175 mm wide
    assert image.size[0] == pytest.approx(175 / 25.4 * 300, abs=2)
    assert not list(out.glob("heatmap*"))  # one swept parameter: no heatmap
    md = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    for text in (md, html):
        assert "policy=baseline" in text and "policy=micro_fund" in text
        assert "Replication check" in text and "Provenance" in text
    assert "![" in md and "(differences.png)" in md
    assert "data:image/png;base64," in html and "<script" not in html and 'src="http' not in html
    runs = pd.read_parquet(sweeps["policies"] / "runs.parquet")
    assert all(h in md for h in runs["config_hash"])  # provenance: every run's config hash
    diffs = pd.read_csv(out / "differences.csv")
    assert set(diffs["scenario"]) == {"policy=micro_fund"}
    assert (diffs["n_pairs"] == 3).all()
    assert set(diffs["kpi"]) == set(KEY_INDICATORS) and diffs["mean_diff"].notna().all()
    # public cost over the run, read from kpis.json's totals: the station social worker's wage is public money in
    # both; the one-cent money is not, so with the same seed the two runs cost the government exactly the same
    cost = diffs.set_index("kpi").loc["public_cost_run"]
    assert cost["mean_baseline"] > 0 and cost["mean_diff"] == 0 and cost["half_width"] == 0
    # so the one-cent fund's effects were bought with no extra public money: nothing per 10,000 yuan to report
    ce = pd.read_csv(out / "cost_effectiveness.csv")
    assert set(ce["kpi"]) == set(KEY_INDICATORS) - {"public_cost_run"} and (ce["n_pairs"] == 3).all()
    assert (ce["extra_cost_yuan"] == 0).all() and (ce["n_costed"] == 0).all() and ce["per_10k_yuan"].isna().all()
    assert "What the extra public money buys" in md
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary folder left


def test_trajectories_draw_a_run_total_as_its_weekly_column(sweeps, tmp_path, monkeypatch):
    drawn, real = [], compare.plot_trajectories
    monkeypatch.setattr(compare, "plot_trajectories",
                        lambda series, kpis, *a, **kw: drawn.append(list(kpis)) or real(series, kpis, *a, **kw))
    assert run_compare(sweeps["policies"], "--kpis", "public_cost_run,fund_balance", "--out", tmp_path / "c") == 0
    assert drawn == [["public_cost", "fund_balance"]]
    ends = pd.read_csv(tmp_path / "c" / "scenarios.csv").set_index(["scenario", "kpi"])
    runs = pd.read_parquet(sweeps["policies"] / "runs.parquet")
    baseline = runs[runs["policy"] == "baseline"]["public_cost_run"].mean()
    assert ends.loc[("policy=baseline", "public_cost_run"), "mean"] == pytest.approx(baseline)  # the run total


def test_an_indicator_no_run_measured_is_not_read_from_its_weekly_column(sweeps, tmp_path):
    sweep = tmp_path / "short"
    shutil.copytree(sweeps["policies"], sweep, ignore=shutil.ignore_patterns("compare"))
    runs = pd.read_parquet(sweep / "runs.parquet")
    runs["response_rate"] = None  # as kpis.json reports it for runs shorter than a year: not measurable
    runs.to_parquet(sweep / "runs.parquet")
    assert run_compare(sweep, "--kpis", "response_rate,fund_balance") == 0
    summary = pd.read_csv(sweep / "compare" / "scenarios.csv").set_index(["scenario", "kpi"])
    rate = summary.xs("response_rate", level="kpi")
    assert (rate["n"] == 0).all() and (rate["verdict"] == stats.NO_DATA).all()  # not the last week's weekly rate
    assert (summary.xs("fund_balance", level="kpi")["n"] == 3).all()


def test_a_run_total_has_a_weekly_column():
    weekly = ["public_cost", "fund_inflow_total", "response_rate", "fund_balance"]
    assert loading.weekly_indicator("public_cost_run", weekly) == "public_cost"
    assert loading.weekly_indicator("fund_inflow_run", weekly) == "fund_inflow_total"
    assert loading.weekly_indicator("response_rate", weekly) == "response_rate"
    assert loading.weekly_indicator("projects_funded_run", weekly) is None  # no such weekly column here
    assert loading.weekly_indicator("fund_opening_balance", weekly) is None  # not a run total


def test_chinese_labels_use_a_cjk_font(sweeps, tmp_path, recwarn, caplog):
    require_cjk_font()
    out = tmp_path / "zh"
    assert run_compare(sweeps["policies"], "--lang", "zh", "--pdf", "--kpis", "satisfaction_mean,fund_balance",
                       "--out", out) == 0
    problems = [str(w.message) for w in recwarn if "Glyph" in str(w.message) or "missing from" in str(w.message)]
    assert not problems, problems[:3]
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    for stem in FIGURES:
        assert all((out / f"{stem}.{ext}").is_file() for ext in ("png", "svg", "pdf"))
    svg = (out / "trajectories.svg").read_text(encoding="utf-8")
    assert "NotoSansCJK" in svg or re.search(r"[\u4e00-\u9fff]", svg)  # glyphs drawn from the CJK font
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "居民满意度" in md and "社区基金余额" in md and "policy=micro_fund" in md  # labels: sim/tables/glossary.py


def test_two_parameter_sweep_heatmap_and_pairing(sweeps, tmp_path):
    out = tmp_path / "grid"
    assert run_compare(sweeps["grid"], "--baseline", "policy.micro_fund.fen_per_unit=0", "--heatmap",
                       "fund_inflow_run", "--kpis", "fund_inflow_run,response_rate", "--out", out, "--width", "single",
                       "--greyscale") == 0
    for stem in (*FIGURES, "heatmap_fund_inflow_run"):
        assert (out / f"{stem}.png").is_file() and (out / f"{stem}.svg").is_file(), stem
        assert Image.open(out / f"{stem}.png").size[0] == pytest.approx(85 / 25.4 * 300, abs=2), stem
    rgb = np.asarray(Image.open(out / "distributions.png").convert("RGB")).astype(int)
    assert (rgb.max(axis=2) == rgb.min(axis=2)).all()  # --greyscale: no colour at all
    diffs = pd.read_csv(out / "differences.csv").set_index(["scenario", "kpi"])
    assert set(diffs.index.get_level_values(0)) == {"fen=5, units=500", "fen=5, units=5000"}
    assert (diffs["n_pairs"] == 2).all()
    # paired within the same units_per_week: five fen on ten times the units gives ten times the money
    small = diffs.loc[("fen=5, units=500", "fund_inflow_run"), "mean_diff"]
    large = diffs.loc[("fen=5, units=5000", "fund_inflow_run"), "mean_diff"]
    assert small > 0 and large > 5 * small
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "fen=0, units=500" in md and "(heatmap_fund_inflow_run.png)" in md


def test_over_reports_the_seed_interval_against_the_band_over_parameter_sets(sweeps, tmp_path):
    """--over: the swept units per week are draws of an uncertain input, not scenarios. The one scenario (5 fen)
    is paired with the baseline (0 fen) under the same units and seed; its extra money differs tenfold between
    the two sets while the seeds barely move it, so the band dominates; its sign holds in both sets."""
    out = tmp_path / "over"
    assert run_compare(sweeps["grid"], "--baseline", "policy.micro_fund.fen_per_unit=0", "--over",
                       "community.units_per_week", "--kpis", "fund_inflow_run,response_rate", "--out", out) == 0
    bands = pd.read_csv(out / "bands.csv").set_index(["scenario", "kpi"])
    assert list(bands.index.get_level_values(0).unique()) == ["fen=5"]
    money = bands.loc[("fen=5", "fund_inflow_run")]
    assert money["sets"] == 2 and money["seeds"] == 2 and money["sign_share"] == 1.0
    assert money["band_low"] > 0 and money["band_high"] > 5 * money["band_low"]
    assert money["dominant"] == "parameters" and money["band_high"] - money["band_low"] > 2 * money["seed_half_width"]
    per_set = pd.read_csv(out / "differences.csv").set_index(["scenario", "kpi"])
    assert per_set.loc[("fen=5", "fund_inflow_run"), "n_pairs"] == 4  # two sets x two seeds, pooled
    assert money["mean_diff"] == pytest.approx(per_set.loc[("fen=5", "fund_inflow_run"), "mean_diff"])
    assert (out / "bands.png").is_file() and not (out / "heatmap_satisfaction_mean.png").exists()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Seed noise against parameter uncertainty" in md and "(bands.png)" in md
    assert "The parameter band is wider than the seed interval in" in md


@pytest.mark.parametrize(("args", "message"), [
    (("--over", "nope"), "--over nope: not a swept parameter of this sweep; allowed keys: "),
    (("--over", "policy.micro_fund.fen_per_unit"), "it names the baseline"),
    (("--baseline", "none", "--over", "community.units_per_week"), "--over needs a baseline"),
])
def test_over_refuses_keys_it_cannot_use(sweeps, tmp_path, capsys, args, message):
    base = () if "--baseline" in args else ("--baseline", "policy.micro_fund.fen_per_unit=0")
    assert run_compare(sweeps["grid"], *base, *args, "--out", tmp_path / "out") == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_sweep_without_baseline_reports_scenario_means(sweeps, tmp_path):
    out = tmp_path / "means"
    assert run_compare(sweeps["grid"], "--kpis", "satisfaction_mean,demand_queue", "--out", out) == 0
    assert (out / "heatmap_satisfaction_mean.png").is_file()
    assert not (out / "differences.csv").exists() and not (out / "differences.png").exists()
    summary = pd.read_csv(out / "scenarios.csv")
    assert set(summary["kpi"]) == {"satisfaction_mean", "demand_queue"} and (summary["n"] == 2).all()
    assert "No baseline" in (out / "report.md").read_text(encoding="utf-8")


def test_failed_runs_are_listed_and_excluded(sweeps, tmp_path):
    sweep = tmp_path / "with_failure"
    shutil.copytree(sweeps["policies"], sweep, ignore=shutil.ignore_patterns("compare"))
    job = sweep / "community=relocation,policy=micro_fund,seed=9,steps=52"
    job.mkdir()
    (job / "status.json").write_text(json.dumps({"status": "failed", "error": "RuntimeError: boom"}))
    (sweep / "runs.parquet").unlink()  # compare collates again
    assert run_compare(sweep, "--kpis", "fund_inflow_run") == 0
    md = (sweep / "compare" / "report.md").read_text(encoding="utf-8")
    assert "Runs excluded" in md and "seed=9" in md and "RuntimeError: boom" in md
    fund = pd.read_csv(sweep / "compare" / "differences.csv").set_index("kpi").loc["fund_inflow_run"]
    assert fund["n_pairs"] == 3  # the one-cent money raises the fund's income
    assert fund["mean_diff"] > 0 and fund["ci_low"] <= fund["mean_diff"] <= fund["ci_high"]
    # the reports are also in the sweep folder itself, their figures linked into compare/
    root_md = (sweep / "report.md").read_text(encoding="utf-8")
    assert "](compare/" in root_md and "RuntimeError: boom" in root_md
    assert (sweep / "report.html").read_text(encoding="utf-8") == (sweep / "compare" / "report.html").read_text(
        encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (("--baseline", "policy=nope"), "allowed values: baseline, micro_fund"),
    (("--baseline", "steps=52"), "'steps' is not a swept parameter of this sweep; allowed keys: policy"),
    (("--baseline", "policy"), "--baseline must be KEY=VALUE"),
    (("--kpis", "satisfaction_mean,nope"), "unknown KPI nope; allowed: "),
    (("--heatmap", "nope"), "--heatmap: unknown KPI nope"),
    (("--delta", "nope=1"), "--delta nope=1: write"),
    (("--delta", "response_rate=-0.01"), "the value must be a positive number"),
])
def test_bad_input_fails_cleanly(sweeps, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert run_compare(sweeps["policies"], *args, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    if "KPI" in message:
        assert "satisfaction_mean" in err.split("allowed:")[1]
    assert list(tmp_path.iterdir()) == []  # no partial output


def test_missing_sweep_folder_exits_non_zero(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "experiments.compare", str(tmp_path / "nope")],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 2
    assert "error: no such sweep folder" in proc.stderr
    assert not (tmp_path / "nope").exists()


def test_refuses_to_replace_a_folder_it_did_not_write(sweeps, tmp_path, capsys):
    keep = tmp_path / "precious.txt"
    keep.write_text("mine")
    assert run_compare(sweeps["policies"], "--out", tmp_path) == 2
    assert "is not an earlier comparison output" in capsys.readouterr().err
    assert keep.read_text() == "mine"


def test_chinese_without_a_cjk_font_is_a_clear_error(sweeps, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(presentation, "CJK_FONTS", ("No Such Font",))
    assert run_compare(sweeps["policies"], "--lang", "zh", "--out", tmp_path / "zh") == 2
    err = capsys.readouterr().err
    assert "no CJK font" in err and "fonts-noto-cjk" in err
    assert not (tmp_path / "zh").exists()


def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        compare.parse_args(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in ("--baseline", "--lang", "--pdf", "--kpis", "--heatmap", "--out", "KEY=VALUE"):
        assert option in text


def test_collates_first_when_tables_are_missing(sweeps, tmp_path, monkeypatch):
    src, sweep = sweeps["policies"], tmp_path / "raw"
    tables = {"runs.parquet", "timeseries.parquet", "compare"}
    shutil.copytree(src, sweep, ignore=lambda folder, names: [n for n in names if Path(folder) == src and n in tables])
    calls = []
    monkeypatch.setattr(loading, "collate", lambda path, **kw: calls.append(path) or collate(path, **kw))
    assert run_compare(sweep, "--kpis", "fund_balance") == 0
    assert calls and (sweep / "runs.parquet").is_file() and (sweep / "compare" / "report.html").is_file()


def test_swept_parameters_come_from_the_runs_table_not_folder_names(sweeps, tmp_path):
    """Job folders renamed to meaningless names: collate still records the overrides as columns."""
    sweep = tmp_path / "renamed"
    src, tables = sweeps["grid"], {"runs.parquet", "timeseries.parquet", "compare"}
    shutil.copytree(src, sweep, ignore=lambda folder, names: [n for n in names if Path(folder) == src and n in tables])
    for i, job in enumerate(sorted(p for p in sweep.iterdir() if p.is_dir())):
        job.rename(sweep / f"job{i:03d}")
    loaded = loading.load_sweep(sweep, "policy.micro_fund.fen_per_unit=0")
    assert loaded.params == ["policy.micro_fund.fen_per_unit", "community.units_per_week"]
    assert loaded.scenarios[:2] == ["fen=0, units=500", "fen=0, units=5000"]  # baseline first, numeric order
    assert "fund_balance" in loaded.kpi_columns and "steps" not in loaded.kpi_columns
    assert loaded.runs["is_baseline"].sum() == 4


def test_baseline_values_match_as_written(sweeps):
    runs = pd.read_parquet(sweeps["grid"] / "runs.parquet")
    assert loading.matches(runs["policy.micro_fund.fen_per_unit"], "5.0").sum() == 4  # 5, 5.0 and "5" alike
    assert loading.matches(runs["policy"], "micro_fund").all()
    assert not loading.matches(runs["policy"], "0").any()
    assert loading.matches(pd.Series([True, False, 1.0]), "true").tolist() == [True, False, False]


def _pairs(scenario: str, kpi: str, treated, control) -> pd.DataFrame:
    return pd.DataFrame({"kpi": kpi, "seed": range(len(treated)), "scenario": scenario, "treated": treated,
                         "control": control}).assign(diff=lambda d: d["treated"] - d["control"])


def test_cost_effectiveness_divides_each_pairs_difference_by_its_extra_public_cost():
    pairs = pd.concat([_pairs("policy=purchase", "response_rate", [0.7, 0.8, 0.9], [0.6, 0.6, 0.6]),
                       _pairs("policy=free", "response_rate", [0.7, 0.7], [0.6, 0.6]),
                       _pairs("policy=saves", "response_rate", [0.7, 0.7], [0.6, 0.6])], ignore_index=True)
    cost = pd.concat([_pairs("policy=purchase", "public_cost_run", [20_000, 30_000, 40_000], [10_000] * 3),
                      _pairs("policy=free", "public_cost_run", [5_000, 5_000], [5_000, 5_000]),
                      _pairs("policy=saves", "public_cost_run", [6_000, 4_000], [5_000, 5_000])], ignore_index=True)
    table = tables.cost_effectiveness(pairs, cost, ["policy=purchase", "policy=free", "policy=saves"],
                                      ["response_rate", "public_cost_run"]).set_index("scenario")
    assert list(table["kpi"]) == ["response_rate"] * 3  # the cost itself is not bought with cost
    bought = table.loc["policy=purchase"]
    # differences 0.1, 0.2, 0.3 for 10,000, 20,000, 30,000 yuan more: 0.1 per 10,000 yuan in every pair
    assert bought["extra_cost_yuan"] == pytest.approx(20_000) and bought["mean_diff"] == pytest.approx(0.2)
    assert bought["per_10k_yuan"] == pytest.approx(0.1) and bought["per_10k_high"] - bought["per_10k_low"] < 1e-9
    assert bought["n_costed"] == 3
    # no extra public money, or less in one pair: the ratio has no meaning and is left empty
    for scenario, costed in (("policy=free", 0), ("policy=saves", 1)):
        assert np.isnan(table.loc[scenario, "per_10k_yuan"]) and table.loc[scenario, "n_costed"] == costed


def test_forest_plot_draws_the_t_interval_of_the_paired_differences():
    diffs = [0.5, 1.5, 1.0, 2.0]
    pairs = pd.DataFrame({"scenario": "b", "kpi": "fund_balance", "seed": range(4), "diff": diffs})
    fig = figures.plot_forest(pairs, ["fund_balance"], figures.Styles.of(["a", "b"]))
    ci = stats.mean_ci(diffs)
    # the error bar: a segment from the interval's low to its high end
    extents = [(seg[:, 0].min(), seg[:, 0].max()) for c in fig.axes[0].collections for seg in c.get_segments()]
    assert any(lo == pytest.approx(ci.low) and hi == pytest.approx(ci.high) for lo, hi in extents), extents
    assert ci.low > 0  # the interval drawn is the t interval (a normal one would be narrower)
    matplotlib.pyplot.close(fig)


def test_report_template_renders_markdown_and_self_contained_html(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "chart.png")
    blocks = [report.Heading("Title", 1), report.Paragraph("Run `python -m sim` <now>"), report.Alert("careful"),
              report.Bullets(["one", "two"]), report.Table(pd.DataFrame({"a|b": [1.234567, float("nan")],
                                                                         "c": ["x", None]})),
              report.Figure("chart.png", "A chart"), report.Code("x = 1")]
    md = report.render(blocks, "md", figure_prefix="compare/")
    assert md.startswith("# Title\n\nRun `python -m sim` <now>\n\n> **Warning:** careful\n\n- one\n- two\n")
    assert "| a\\|b | c |\n|---|---|\n| 1.235 | x |\n|  |  |\n" in md
    assert "![A chart](compare/chart.png)" in md and "```\nx = 1\n```" in md
    html = report.render(blocks, "html", title="T", folder=tmp_path)
    assert "<code>python -m sim</code> &lt;now&gt;" in html and "<td>1.235</td><td>x</td>" in html
    assert 'src="data:image/png;base64,' in html and "<title>T</title>" in html
    assert report.markdown_table(pd.DataFrame({"x": [0.5]}), floatfmt=".2f") == "| x |\n|---|\n| 0.50 |\n"
    with pytest.raises(ValueError, match="figures' folder"):
        report.render(blocks, "html")


MIXED_FIRST = ("community=relocation,urban_traditional", "policy=baseline,gov_purchase", "seed=range(0,2)")
MIXED_THEN = ("community=relocation,urban_traditional", "policy=micro_fund", "policy.micro_fund.fen_per_unit=1,2",
              "seed=range(0,2)")
MIXED_SMALL = ("steps=52", "warmup_weeks=26", "hydra/launcher=basic")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Two sweeps appended into one folder, as a user builds a mixed design: policies x communities, then the
    one-cent fund at 1 and 2 fen (a lever the first sweep never set)."""
    cwd = tmp_path_factory.mktemp("mixed")
    for args in (MIXED_FIRST, MIXED_THEN):
        proc = subprocess.run([sys.executable, "-m", "sim", "-m", *args, *MIXED_SMALL, "hydra.sweep.dir=sweep"],
                              cwd=cwd, capture_output=True, text=True, env=_env(), timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return cwd / "sweep"


def test_a_lever_a_policy_does_not_set_is_its_effective_value_not_a_gap(mixed):
    runs = pd.read_parquet(mixed / "runs.parquet")
    fen = runs.set_index("policy")["policy.micro_fund.fen_per_unit"]
    assert len(runs) == 16 and fen.notna().all()
    assert (fen.loc[["baseline", "gov_purchase"]] == 0).all()  # no one-cent charity runs there: 0 fen
    assert sorted(fen.loc["micro_fund"].unique()) == [1, 2]


def test_appended_sweeps_pair_each_scenario_with_its_communitys_baseline(mixed, tmp_path, capsys):
    require_cjk_font()
    out = tmp_path / "zh"
    assert run_compare(mixed, "--lang", "zh", "--kpis", "fund_inflow_run,response_rate", "--out", out) == 0
    assert "no baseline run" not in capsys.readouterr().err
    diffs = pd.read_csv(out / "differences.csv")
    assert diffs["scenario"].nunique() == 6 and (diffs["n_pairs"] == 2).all()  # 2 communities x 3 scenarios
    assert diffs["scenario_name"].notna().all()
    names = set(diffs["scenario_name"])
    assert "易地扶贫搬迁社区，一分钱公益微基金，一分钱/瓶 = 2 分" in names and "传统城区社区，政府购买服务" in names
    # each difference is against the baseline of the scenario's own community (and seed)
    runs = pd.read_parquet(mixed / "runs.parquet")
    for community in ("relocation", "urban_traditional"):
        base = runs[(runs["policy"] == "baseline") & (runs["community"] == community)]["fund_inflow_run"].mean()
        rows = diffs[diffs["scenario"].str.contains(f"community={community},") & (diffs["kpi"] == "fund_inflow_run")]
        assert len(rows) == 3 and np.allclose(rows["mean_baseline"], base)
    # verdicts with a smallest effect of interest: 1 pp for the response rate, 1 万元 of money
    assert set(diffs["verdict"]) <= {stats.DIFFERENCE, stats.EQUIVALENT, stats.UNDECIDED, stats.IDENTICAL}
    assert (diffs.loc[diffs["kpi"] == "response_rate", "delta"] == 0.01).all()
    assert (diffs.loc[diffs["kpi"] == "fund_inflow_run", "delta"] == 10_000).all()
    undecided = diffs[diffs["verdict"] == stats.UNDECIDED]
    assert (undecided["more_seeds"] >= 1).all() and (undecided["n_needed"] == undecided["n_pairs"]
                                                      + undecided["more_seeds"]).all()
    # more fen, more money, in both communities
    money = diffs[diffs["kpi"] == "fund_inflow_run"].set_index("scenario")["mean_diff"]
    for community in ("relocation", "urban_traditional"):
        one, two = (money[f"community={community}, policy=micro_fund, fen={f}"] for f in (1, 2))
        assert 0 < one < two
    # figures for a journal: faceted by community, weekly rates over a rolling quarter (said so), within a page
    for stem in ("trajectories", "distributions", "differences"):
        height_mm = Image.open(out / f"{stem}.png").size[1] / 300 * 25.4
        assert height_mm <= figures.MAX_HEIGHT_MM + 1, (stem, height_mm)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "每个社区一列面板" in md and "最近13周" in md
    assert "nan" not in md.lower()
    table = md.split("## 与基准情景")[1].split("\n## ")[0]  # the differences' section: names, no config strings
    assert "policy=" not in table and "基线（无联动）" in table.splitlines()[0]


def test_unpairable_runs_name_the_sweep_that_would_pair_them(mixed, tmp_path, capsys):
    """A baseline run removed: compare names the exact sweep to append; running it pairs every scenario again."""
    sweep = tmp_path / "gap"
    tables = {"runs.parquet", "timeseries.parquet", "compare"}
    shutil.copytree(mixed, sweep,
                    ignore=lambda folder, names: [n for n in names if Path(folder) == mixed and n in tables])
    gone = [p for p in sweep.iterdir() if "community=urban_traditional,policy=baseline,seed=1," in p.name]
    assert len(gone) == 1
    shutil.rmtree(gone[0])
    assert run_compare(sweep, "--kpis", "fund_inflow_run", "--out", tmp_path / "c1") == 0
    err = capsys.readouterr().err
    command = f"python -m sim -m policy=baseline steps=52 warmup_weeks=26 community=urban_traditional seed=1 " \
              f"hydra.sweep.dir={sweep}"
    assert "3 runs of 3 scenarios have no baseline run" in err and command in err, err
    md = (tmp_path / "c1" / "report.md").read_text(encoding="utf-8")
    assert command in md and "Traditional urban community, Government purchase of services (seed 1)" in md
    assert "the same seed, community (a lever" in md
    diffs = pd.read_csv(tmp_path / "c1" / "differences.csv").set_index("scenario")
    assert diffs.loc["community=urban_traditional, policy=gov_purchase, fen=0", "n_pairs"] == 1
    # the command as printed, with the basic launcher (no worker start-up in a test)
    argv = [sys.executable, *command.split()[1:], "hydra/launcher=basic"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert run_compare(sweep, "--kpis", "fund_inflow_run", "--out", tmp_path / "c2") == 0
    assert "no baseline run" not in capsys.readouterr().err
    assert (pd.read_csv(tmp_path / "c2" / "differences.csv")["n_pairs"] == 2).all()


def test_paper_table_in_chinese_markdown_latex_and_word_csv(mixed, tmp_path, capsys):
    """experiments.table: scenario x indicator, the mean [95 % CI] and under each paired scenario its difference."""
    from experiments import table as paper

    out = tmp_path / "table"
    assert paper.main([str(mixed), "--lang", "zh", "--kpis", "completion_rate,public_cost_run", "--out",
                       str(out)]) == 0
    md = (out / "table.md").read_text(encoding="utf-8")
    assert md == capsys.readouterr().out.rstrip("\n") + "\n"  # printed as written
    header = md.splitlines()[0]
    assert "诉求响应完成率（%；差值为个百分点）" in header and "公共财政成本累计（万元）" in header
    assert "易地扶贫搬迁社区，一分钱公益微基金，一分钱/瓶 = 2 分" in md and "policy=" not in md
    assert "nan" not in md.lower() and "e+0" not in md
    rows = md.splitlines()[2:-2]
    assert len(rows) == 8 + 6  # 8 scenarios, 6 of them paired with their community's baseline
    assert sum(r.startswith("| 与基准情景之差 |") for r in rows) == 6
    # the numbers: five-society's cost in relocation, mean and difference in 万元, from the runs themselves
    runs = pd.read_parquet(mixed / "runs.parquet")
    mine = runs[(runs["community"] == "relocation") & (runs["policy"] == "gov_purchase")]
    base = runs[(runs["community"] == "relocation") & (runs["policy"] == "baseline")]
    row = rows.index(next(r for r in rows if r.startswith("| 易地扶贫搬迁社区，政府购买服务 |")))
    cost_mean = float(rows[row].split("|")[3].split("[")[0].replace(",", ""))
    assert cost_mean == pytest.approx(mine["public_cost_run"].mean() / 10_000, abs=0.01)
    cost_diff = float(rows[row + 1].split("|")[3].split("[")[0].replace(",", "").replace("+", ""))
    assert cost_diff == pytest.approx((mine["public_cost_run"].mean() - base["public_cost_run"].mean()) / 10_000,
                                      abs=0.01)
    assert "情景减去随机种子、社区相同的基准情景（基线（无联动））" in md
    tex = (out / "table.tex").read_text(encoding="utf-8")
    lines = tex.splitlines()
    assert lines[1] == "\\begin{tabular}{lrr}" and {"\\toprule", "\\midrule", "\\bottomrule"} <= set(lines)
    body = lines[lines.index("\\toprule") + 1:lines.index("\\bottomrule")]
    assert all(r.count(" & ") == 2 and r.endswith("\\\\") for r in body if r != "\\midrule")
    assert "\\%" in tex and " % " not in tex.replace("\\%", "") and "\\quad 与基准情景之差" in tex
    raw = (out / "table.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark: Word and Excel read the Chinese
    csv = pd.read_csv(out / "table.csv", encoding="utf-8-sig", nrows=len(rows))
    assert csv.columns[0] == "情景" and len(csv) == len(rows)
    assert paper.main([str(mixed), "--stat", "iqr", "--out", str(tmp_path / "bad")]) == 2
    assert "--stat iqr: allowed: ci, sd" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_a_lever_baseline_in_a_mixed_folder_names_the_baselines_it_lacks(mixed, tmp_path, capsys):
    """--baseline policy.micro_fund.fen_per_unit=0 over the mixed folder: the 0-fen runs are baseline and
    gov_purchase, so the baseline varies the policy and is paired on it; the one-cent runs have no 0-fen run of
    their own policy: none is paired (no figure of differences, no crash), and the sweeps that would pair them
    are named."""
    out = tmp_path / "fen0"
    assert run_compare(mixed, "--baseline", "policy.micro_fund.fen_per_unit=0", "--kpis", "completion_rate",
                       "--out", out) == 0
    err = capsys.readouterr().err
    for community in ("relocation", "urban_traditional"):
        assert (f"python -m sim -m policy.micro_fund.fen_per_unit=0 steps=52 warmup_weeks=26 community={community} "
                f"policy=micro_fund 'seed=range(0,2)'") not in err  # two seeds: written out, not as a range
        assert (f"python -m sim -m policy.micro_fund.fen_per_unit=0 steps=52 warmup_weeks=26 community={community} "
                f"policy=micro_fund seed=0,1 hydra.sweep.dir={mixed}") in err
    assert not (out / "differences.png").exists() and (out / "report.md").is_file()


def test_a_folder_collated_before_the_fill_is_collated_again(mixed, tmp_path):
    """runs.parquet written by an older collate (NaN where a run did not set the lever): loading collates again."""
    sweep = tmp_path / "old"
    shutil.copytree(mixed, sweep, ignore=shutil.ignore_patterns("compare", "table"))
    runs = pd.read_parquet(sweep / "runs.parquet")
    runs.loc[runs["policy"] != "micro_fund", "policy.micro_fund.fen_per_unit"] = np.nan
    runs.to_parquet(sweep / "runs.parquet")
    loaded = loading.load_sweep(sweep, None)
    assert loaded.runs["policy.micro_fund.fen_per_unit"].notna().all()
    assert loaded.match == ["community"] and "fen=nan" not in " ".join(loaded.scenarios)
