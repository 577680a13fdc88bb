"""What each lever adds (experiments.decompose, issue #24): exact Shapley values over subsets of lever groups."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from system_deps import require_cjk_font

from experiments import decompose as dec
from experiments.bands import draw_sets, parameter_sets
from experiments.calibrate import PRIORS

SMALL = ["community=relocation", "warmup_weeks=0", "steps=60"]
FIVE = ["micro_fund", "enterprise", "fund", "moral_bank", "gov_purchase", "charity_sales", "social_enterprise",
        "social_work", "deliberation", "party_building", "venture"]


def game(k: int, worth) -> np.ndarray:
    """A value function on all 2^k subsets (bit masks) from ``worth(set of players)``."""
    return np.array([worth({i for i in range(k) if m & (1 << i)}) for m in range(1 << k)], dtype=float)


def shapley_by_orders(values: np.ndarray) -> np.ndarray:
    """The definition: each player's marginal gain averaged over all k! orders of joining."""
    k = dec.n_groups(values)
    out = np.zeros(k)
    for order in itertools.permutations(range(k)):
        mask = 0
        for i in order:
            out[i] += values[mask | (1 << i)] - values[mask]
            mask |= 1 << i
    return out / math.factorial(k)


def test_shapley_values_are_efficient_symmetric_and_give_a_dummy_nothing():
    # players 0 and 1 act alike and reinforce each other; player 2 does nothing; player 3 adds 5 on its own
    v = game(4, lambda s: 2 * len(s & {0, 1}) + 3 * ({0, 1} <= s) + 5 * (3 in s) + 7)
    d = dec.decompose_values(v)
    phi = d["shapley"]
    assert phi.sum() == pytest.approx(v[-1] - v[0]) and d["total"] == pytest.approx(12)  # efficiency
    assert phi[0] == pytest.approx(phi[1]) == pytest.approx(3.5)  # symmetry: 2 alone + half of the joint 3
    assert phi[2] == 0 and d["main_effect"][2] == 0 and d["drop"][2] == 0  # dummy
    assert phi[3] == pytest.approx(5)
    assert list(d["main_effect"]) == [2, 2, 0, 5] and list(d["drop"]) == [5, 5, 0, 5]
    assert d["interaction"] == pytest.approx(3)  # the joint 3 that neither brings alone


def test_shapley_values_match_the_definition_over_orders_and_carry_extra_axes():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(1 << 5, 4, 2))  # 5 players; 4 seeds × 2 indicators
    phi = dec.shapley(v)
    assert phi.shape == (5, 4, 2)
    for s, j in itertools.product(range(4), range(2)):
        np.testing.assert_allclose(phi[:, s, j], shapley_by_orders(v[:, s, j]), atol=1e-12)
    np.testing.assert_allclose(phi.sum(axis=0), v[-1] - v[0], atol=1e-12)
    additive = game(3, lambda s: sum((1.0, 2.0, 4.0)[i] for i in s))  # no interaction: all three measures agree
    d = dec.decompose_values(additive)
    np.testing.assert_allclose(d["shapley"], [1, 2, 4])
    np.testing.assert_allclose(d["main_effect"], [1, 2, 4]) and np.testing.assert_allclose(d["drop"], [1, 2, 4])
    assert d["interaction"] == 0


def test_bad_value_functions_and_broken_sums_are_refused():
    with pytest.raises(ValueError, match="2\\^k values"):
        dec.shapley(np.zeros(6))
    v = game(2, lambda s: len(s))
    with pytest.raises(AssertionError, match="do not sum"):
        dec.check_efficiency(np.array([1.0, 1.5]), v)
    nan = v.copy()
    nan[1] = math.nan  # a missing value: no decomposition, and nothing to check
    dec.check_efficiency(dec.shapley(nan), nan)
    assert all(np.isnan(x).all() for x in dec.decompose_values(nan).values())


def test_groups_default_each_and_own_with_the_rest_as_other():
    default = dec.make_groups([], "default", FIVE, "five_society", "baseline")
    assert len(default) == 7 and sorted(lv for members in default.values() for lv in members) == sorted(FIVE)
    assert default["projects"] == ["enterprise", "party_building", "venture"]
    assert len(dec.make_groups([], "each", FIVE, "five_society", "baseline")) == 11
    own = dec.make_groups(["service=gov_purchase", "work=social_work,deliberation"], "default", FIVE, "f", "b")
    assert list(own) == ["service", "work", "other"] and len(own["other"]) == 8
    each = dec.make_groups(["service=gov_purchase"], "each", FIVE, "f", "b")
    assert len(each) == 11 and each["service"] == ["gov_purchase"]
    assert dec.make_groups([], "default", ["venture", "deliberation"], "f", "b") == {
        "projects": ["venture"], "council": ["deliberation"]}  # a bundle with fewer levers: its groups only


@pytest.mark.parametrize(("specs", "message"), [
    (["service"], "write NAME=LEVER"),
    (["service=gov_purchse"], "'gov_purchse' is not a lever group of the policy; did you mean gov_purchase?"),
    (["a=venture", "b=venture,fund"], "the lever 'venture' is in two groups (a and b)"),
    (["a=venture", "a=fund"], "the group 'a' is named twice"),
    (["total=venture"], "not interaction or total"),
    (["other=venture"], "form the group 'other'"),
])
def test_bad_groups_are_refused_naming_the_option(specs, message):
    with pytest.raises(dec.DecomposeError, match="--group") as err:
        dec.make_groups(specs, "default", FIVE, "five_society", "baseline")
    assert message in str(err.value)


@pytest.mark.parametrize(("args", "message"), [
    (["--group", "x=venture", "--bundle", "micro_fund"], "micro_fund does not change 'venture' from baseline"),
    (["--levers", "each"], "11 groups need 2^11 = 2,048 scenarios a seed; allowed ≤ 8"),
    (["--bundle", "five_societ"], "--bundle 'five_societ': not a policy preset; did you mean five_society?"),
    (["--control", "five_society"], "two different policies"),
    (["--seeds", "1"], "--seeds 1: allowed ≥ 2"),
    (["--sets", "1"], "--sets 1: allowed ≥ 2"),
    (["--posterior"], "give --sets N"),
    (["--max-groups", "20"], "--max-groups 20: allowed 1 to 12"),
    (["policy=gov_purchase"], "set by --bundle and --control"),
    (["policy.venture.budget_yuan_per_year=5"], "set by --bundle and --control"),
    (["seed=3"], "seeds by --seeds"),
    (["community=nowhere"], "'nowhere' is not a community option"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "d"
    given = {a.split("=")[0] for a in args if "=" in a}
    small = [s for s in SMALL if s.split("=")[0] not in given]  # a key given twice is refused before its value
    assert dec.main([*args, "--out", str(out), *small]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not out.exists()


def test_bands_and_decompose_draw_the_same_parameter_sets():
    assert draw_sets(5).equals(parameter_sets(5, PRIORS))  # bands' sets, through the shared helper
    args = dec.parse_args(["--sets", "3", "--posterior", "community=relocation"])  # an override, not a file
    assert args.overrides == ["community=relocation"] and args.posterior == dec.POSTERIOR


def _check_outputs(out, groups: int, seeds: int) -> pd.DataFrame:
    table = pd.read_csv(out / "decomposition.csv")
    assert set(table["indicator"]) == set(dec.INDICATORS)
    assert len(table) == len(dec.INDICATORS) * (groups + 2) and (table["seeds"] == seeds).all()
    parts = table[table["kind"] == "group"].groupby("indicator")["shapley"].sum()
    totals = table[table["kind"] == "total"].set_index("indicator")["shapley"]
    pd.testing.assert_series_equal(parts.sort_index(), totals.sort_index(), check_names=False, atol=1e-6)
    long = pd.read_csv(out / "per_seed.csv")  # efficiency per seed, not only on average
    per_seed = long[~long["group"].isin(["interaction", "total"])].groupby(["set", "seed", "indicator"])["shapley"]
    full = long[long["group"] == "total"].set_index(["set", "seed", "indicator"])["shapley"]
    np.testing.assert_allclose(per_seed.sum().sort_index(), full.sort_index(), atol=1e-6)
    assert (out / "decomposition.png").stat().st_size > 20_000 and (out / "decomposition.svg").exists()
    return table


def test_a_small_real_run_through_the_function_then_the_command_line_resumes(tmp_path):
    out = tmp_path / "dec"
    args = dec.parse_args(["--group", "service=gov_purchase", "--seeds", "2", "--jobs", "2", "--out", str(out), *SMALL])
    table = dec.run(args)
    assert list(table["group"].unique()) == ["service", "other", "interaction", "total"]
    saved = _check_outputs(out, groups=2, seeds=2)
    service = saved[(saved["indicator"] == "completion_rate") & (saved["group"] == "service")].iloc[0]
    assert service["shapley"] > 0.05 and service["cost_per_year"] > 100_000  # purchase answers demands, for money
    cost = saved[saved["indicator"] == "public_cost_run"]
    np.testing.assert_allclose(cost["shapley"] * dec.WEEKS_PER_YEAR / 60, cost["cost_per_year"], rtol=1e-9)
    report = (out / "report.md").read_text()
    assert "Which group carries which gain" in report and "Purchase of services" in report
    assert "service,gov_purchase,policy.gov_purchase.budget_yuan_per_year,200000.0" in (out / "groups.csv").read_text()
    done = subprocess.run([sys.executable, "-m", "experiments.decompose", "--group", "service=gov_purchase",
                           "--seeds", "2", "--out", str(out), *SMALL], capture_output=True, text=True, cwd=REPO,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "0 done, 8 skipped" in done.stderr + done.stdout and "interaction" in done.stdout  # resumed: no run again
    pd.testing.assert_frame_equal(pd.read_csv(out / "decomposition.csv"), saved)


def test_parameter_sets_give_each_value_a_band_and_chinese_labels(tmp_path):
    require_cjk_font()
    out = tmp_path / "sets"
    args = dec.parse_args(["--group", "service=gov_purchase", "--seeds", "2", "--sets", "2", "--jobs", "2",
                           "--lang", "zh", "--out", str(out), *SMALL])
    dec.run(args)
    table = _check_outputs(out, groups=2, seeds=2)
    assert (table["sets"] == 2).all() and (table["band_low"] <= table["band_high"] + 1e-12).all()
    assert len(pd.read_csv(out / "parameter_sets.csv")) == 2
    report = (out / "report.md").read_text()
    assert "哪个杠杆组带来了哪项增益" in report and "政府购买服务" in report


# ---------------------------------------------------------------------------------------------
# README's table: --write-readme, --check, --render-only (from a small synthetic decomposition.csv)
# ---------------------------------------------------------------------------------------------

COMMAND = "python -m experiments.decompose community=relocation --seeds 2 --sets 4 --write-readme"


def synthetic_table(banded: bool = True) -> pd.DataFrame:
    """decomposition.csv of two groups (the default `service`, one of one's own with two levers), the interaction and
    the total, over every indicator decomposed; 2 seeds and, if ``banded``, 4 parameter sets."""
    parts = {"service": 12.34, "work": 3.5, "interaction": -0.4, "total": 15.44}
    cost = {"service": 200_000.0, "work": 60_000.0, "interaction": -1_234.5, "total": 258_765.5}
    levers = {"service": "gov_purchase", "work": "social_work,deliberation"}
    rows = []
    for k in dec.INDICATORS:
        scale = 100.0 if k == "volunteers_per_10k" else (0.5 if k in ("social_orgs_serving", dec.COST) else 0.01)
        for g, x in parts.items():
            v = x * scale
            rows.append({"indicator": k, "group": g, "kind": g if g in dec.RESERVED else "group",
                         "levers": levers.get(g, math.nan), "shapley": v, "shapley_half_width": abs(v) / 10,
                         "band_low": v - abs(v) / 2 if banded else math.nan,
                         "band_high": v + abs(v) / 2 if banded else math.nan, "sign_share": 1.0 if banded else math.nan,
                         "share_of_gain": x / parts["total"], "main_effect": v, "main_effect_half_width": 0.0,
                         "drop": v, "drop_half_width": 0.0, "cost_per_year": cost[g], "cost_half_width": 1_500.0,
                         "cost_band_low": cost[g] - 10_000 if banded else math.nan,
                         "cost_band_high": cost[g] + 10_000 if banded else math.nan, "sets": 4 if banded else 1,
                         "seeds": 2, "community": "relocation", "bundle": "five_society", "control": "baseline",
                         "steps": 60, "warmup_weeks": 0, "command": COMMAND})
    return pd.DataFrame(rows)


def saved(tmp_path, table: pd.DataFrame | None = None):
    out = tmp_path / "dec"
    out.mkdir(exist_ok=True)
    (synthetic_table() if table is None else table).to_csv(out / dec.CSV_FILE, index=False)
    return out


def readmes(tmp_path, places=("urban_traditional", "relocation"), body="placeholder") -> list[str]:
    """README.md and README.zh-CN.md with a region per place (and other text around them): their options."""
    for name in ("README.md", "README.zh-CN.md"):
        text = "# title\n\n<!-- readme_tables:presets:start -->\nother table\n<!-- readme_tables:presets:end -->\n\n"
        for place in places:
            start, end = dec.regions.markers(place, dec.PREFIX)
            text += f"In {place}:\n\n{start}\n{body}\n{end}\n\nprose after {place}\n\n"
        (tmp_path / name).write_text(text, encoding="utf-8")
    return ["--readme", str(tmp_path / "README.md"), "--readme-zh", str(tmp_path / "README.zh-CN.md")]


def test_readme_table_in_english_with_units_bands_and_the_command():
    from experiments.decompose_report import readme_table

    en = readme_table(synthetic_table(), "en").splitlines()
    assert en[0] == ("| Lever group | Completion rate (#34, pp) | Callback satisfaction (#35, pp) | "
                     "Response rate (#33, pp) | Registered volunteers per 10,000 (#15) | "
                     "Residents taking part 2+ times a year (#28, pp) | Organisations serving (#24) | "
                     "Resident enterprises and institutions taking part (#5, pp) | Extra public cost (yuan/yr) |")
    assert en[1] == "|---|" + "---:|" * 8
    assert [line.split(" | ")[0] for line in en[2:6]] == [
        "| Purchase of services", "| Social workers + Residents' council", "| Interaction (total − sum alone)",
        "| All together (total gain)"]
    service = en[2].split(" | ")
    assert service[1] == "+12.3 ± 1.2 [6.2, 18.5]"          # pp, one decimal
    assert service[4] == "+1,234 ± 123 [617, 1,851]"        # per 10,000, thousands separators
    assert service[6] == "+6.17 ± 0.62 [3.08, 9.25]"        # organisations: two decimals below 10
    assert service[8] == "+200,000 ± 1,500 [190,000, 210,000] |"  # yuan a year
    assert en[4].split(" | ")[1] == "−0.4 ± 0.0 [−0.6, −0.2]" and "−1,234 ± 1,500" in en[4]
    assert en[6] == "" and len(en) == 8  # one caption line
    assert "`five_society` over `baseline` in `relocation`" in en[7] and "2 seeds" in en[7]
    assert "4 parameter sets" in en[7] and f"`{COMMAND}`" in en[7]
    plain = readme_table(synthetic_table(banded=False), "en")
    assert "[" not in plain.split("\n\n")[0] and "no parameter sets" in plain and "+12.3 ± 1.2 |" in plain


def test_readme_table_in_chinese_has_chinese_labels_and_no_config_names():
    from experiments.decompose_report import readme_table
    from sim.tables.glossary import label

    zh = readme_table(synthetic_table(), "zh")
    head = zh.splitlines()[0]
    assert head.startswith("| 杠杆组 | 诉求响应完成率（#34，个百分点） |")
    assert "每万人注册志愿者数（#15，人/万人）" in head
    assert "额外公共财政成本（元/年）" in head
    assert "| 政府购买服务 |" in zh and "| 专业社工、居民议事会 |" in zh and "| 交互作用" in zh
    caption = zh.splitlines()[-1]
    assert label("community=relocation", "zh") in caption and label("policy=five_society", "zh") in caption
    outside_code = re.sub(r"`[^`]*`", "", zh)
    assert not re.findall(r"[A-Za-z]{3,}", outside_code), outside_code  # no raw strings but the command itself
    assert f"`{COMMAND}`" in caption


def test_render_only_writes_the_markdown_and_the_readme_regions(tmp_path, capsys):
    out = saved(tmp_path)
    options = readmes(tmp_path)
    assert dec.main(["--render-only", "--out", str(out), *options]) == 0  # no --write-readme: READMEs left alone
    en_md = (out / "decomposition.en.md").read_text(encoding="utf-8")
    assert "Purchase of services" in en_md and "政府购买服务" in (out / "decomposition.zh.md").read_text("utf-8")
    assert "placeholder" in (tmp_path / "README.md").read_text(encoding="utf-8")
    assert dec.main(["--render-only", "--write-readme", "--out", str(out), *options]) == 0
    en = (tmp_path / "README.md").read_text(encoding="utf-8")
    zh = (tmp_path / "README.zh-CN.md").read_text(encoding="utf-8")
    start, end = dec.regions.markers("relocation", dec.PREFIX)
    assert f"{start}\n{en_md.strip()}\n{end}" in en and "政府购买服务" in zh and "Purchase of services" not in zh
    assert en.count("placeholder") == 1 and "prose after relocation" in en and "other table" in en  # only its region
    assert not (out / "sweep").exists()  # nothing ran


def test_check_passes_then_names_the_readme_and_the_marker_when_stale(tmp_path, capsys):
    out = saved(tmp_path)
    options = readmes(tmp_path)
    assert dec.main(["--check", "--out", str(out), *options]) == 1
    err = capsys.readouterr().err
    assert "README.md: <!-- decompose:relocation:start -->" in err and "README.zh-CN.md" in err
    assert dec.main(["--render-only", "--write-readme", "--out", str(out), *options]) == 0
    assert dec.main(["--check", "--out", str(out), *options]) == 0
    zh = tmp_path / "README.zh-CN.md"
    zh.write_text(zh.read_text(encoding="utf-8").replace("+12.3", "+12.4", 1), encoding="utf-8")
    assert dec.main(["--check", "--out", str(out), *options]) == 1
    err = capsys.readouterr().err
    assert "README.zh-CN.md: <!-- decompose:relocation:start -->" in err and "README.md:" not in err
    assert dec.main(["--check", "--render-only", "--out", str(out), *options]) == 2


def test_missing_markers_are_refused_before_anything_runs_or_is_written(tmp_path, capsys):
    out = saved(tmp_path)
    options = readmes(tmp_path, places=("urban_traditional",))
    before = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert dec.main(["--render-only", "--write-readme", "--out", str(out), *options]) == 2
    err = capsys.readouterr().err
    assert "README.md" in err and "<!-- decompose:relocation:start -->" in err
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == before and not (out / "decomposition.en.md").exists()
    run_out = tmp_path / "run"  # a run: refused after checking the options, before the first run
    assert dec.main(["--write-readme", "--group", "service=gov_purchase", "--seeds", "2", "--out", str(run_out),
                     *options, *SMALL]) == 2
    assert "<!-- decompose:relocation:start -->" in capsys.readouterr().err and not run_out.exists()
    assert dec.main(["--check", "--out", str(out), *options]) == 2  # --check cannot compare a missing region


def test_render_only_needs_a_csv_with_the_readme_columns(tmp_path, capsys):
    assert dec.main(["--render-only", "--out", str(tmp_path / "none")]) == 2
    assert "no " + str(tmp_path / "none" / dec.CSV_FILE) in capsys.readouterr().err
    out = saved(tmp_path, synthetic_table().drop(columns=["command"]))  # written before README tables existed
    assert dec.main(["--render-only", "--out", str(out)]) == 2
    assert "no column command" in capsys.readouterr().err


def test_the_command_in_the_caption_is_as_given_less_jobs():
    assert dec.command_line(["community=relocation", "--jobs", "2", "--seeds", "10", "--jobs=3", "--write-readme"]) \
        == "python -m experiments.decompose community=relocation --seeds 10 --write-readme"
    assert dec.parse_args(["--seeds", "3", "x=a b"]).command == "python -m experiments.decompose --seeds 3 'x=a b'"


def test_the_readmes_carry_the_decompose_markers():
    for path in dec.README.values():
        text = path.read_text(encoding="utf-8")
        for place in ("urban_traditional", "relocation"):
            assert dec.regions.region(text, place, path.name, dec.PREFIX)


@pytest.mark.parametrize("place", ["urban_traditional", "relocation"])
def test_the_readmes_decomposition_is_what_the_shipped_csv_renders(place):
    """README's tables are generated: the decomposition each was rendered from ships in docs/decomposition/ (the
    runs do not), and --check confirms both READMEs hold what it renders (issue 24: tables not typed)."""
    out = REPO / "docs" / "decomposition" / place
    assert (out / "decomposition.csv").exists(), f"{out}/decomposition.csv: copy it from results/decompose/{place}"
    assert dec.main(["--check", "--out", str(out), f"community={place}"]) == 0
