"""README's generated scenario-result tables (experiments/readme_tables.py, issue 24)."""

from __future__ import annotations

import math
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pandas as pd
import pytest

from experiments import readme_tables as rt
from sim.model.indicators import KEY_INDICATORS, TARGETS
from sim.settings.config import policy_presets
from sim.tables.glossary import label

REPO = Path(__file__).resolve().parent.parent
KEYS = ["volunteers_per_10k", "response_rate", "deliberation_satisfaction", "public_cost_run"]
T975_2 = 4.302652729911275  # Student's t, 0.975 quantile, 2 degrees of freedom


def small_runs() -> pd.DataFrame:
    """3 seeds of two policies in two communities, 104 recorded weeks (two years)."""
    rows = []
    for comm in ("relocation", "township"):
        for pol, vol, resp, cost in (("baseline", 1000.0, 0.60, 120_000.0),
                                     ("five_society", 1500.0, 0.90, 1_000_000.0)):
            for seed, d in enumerate((-10.0, 0.0, 10.0)):
                rows.append({"community": comm, "policy": pol, "seed": seed, "steps": 104, "warmup_weeks": 208,
                             "volunteers_per_10k": vol + d * (2 if pol == "five_society" else 1),
                             "response_rate": resp + d / 1000, "public_cost_run": cost,
                             "deliberation_satisfaction": math.nan if pol == "baseline" else 0.8})
    return pd.DataFrame(rows)


def small_cells() -> pd.DataFrame:
    return rt.summarise(small_runs(), "relocation", ["baseline", "five_society"], ["township"], KEYS,
                        sources={"relocation": "option", "township": "floor:results/replications/summary.json"})


def readme_with_markers(path: Path, body: str = "old table") -> Path:
    text = "# title\n\nintro\n\n"
    for table in rt.TABLES:
        start, end = rt.markers(table)
        text += f"{start}\n{body}\n{end}\n\nprose after {table}\n\n"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------------
# what the tables hold
# ------------------------------------------------------------------------------------------------
def test_columns_are_the_computed_targets_then_the_key_indicators():
    cols = rt.indicator_columns()
    assert cols[: len([t for t in TARGETS if t.status != "not_modelled"])] == \
        [t.key for t in TARGETS if t.status != "not_modelled"]
    assert set(KEY_INDICATORS) <= set(cols)
    assert not {t.key for t in TARGETS if t.status == "not_modelled"} & set(cols)
    assert len(cols) == len(set(cols))


def test_policies_and_communities_come_from_the_preset_files():
    shipped = {p.name[:-5] for p in files("sim.configs").joinpath("policy").iterdir() if p.name.endswith(".yaml")}
    policies = policy_presets()
    assert set(policies) == shipped and policies[0] == "baseline" and rt.TREATMENT in policies
    assert rt.default_scenario() == ("urban_traditional", "baseline")


def test_seeds_come_from_the_replication_study_else_the_rule_minimum(tmp_path: Path):
    from experiments.replications import FLOOR

    (tmp_path / "summary.json").write_text('{"recommended": {"township": 30}}', encoding="utf-8")
    seeds = rt.seeds_per_preset(["township", "relocation"], tmp_path)
    assert seeds["township"] == (30, f"replications:{tmp_path / 'summary.json'}")
    assert seeds["relocation"][0] == FLOOR and seeds["relocation"][1].startswith("floor:")
    assert rt.seeds_per_preset(["township"], tmp_path / "none")["township"][0] == FLOOR
    assert rt.seeds_per_preset(["township"], tmp_path, seeds=2) == {"township": (2, "option")}


# ------------------------------------------------------------------------------------------------
# rendering: a pure function from a runs table to Markdown
# ------------------------------------------------------------------------------------------------
def test_cells_are_means_with_t_intervals_and_paired_gains():
    cells = small_cells().set_index(["table", "community", "policy", "row", "indicator"])
    vol = cells.loc[("policies", "relocation", "baseline", "value", "volunteers_per_10k")]
    assert vol["n"] == 3 and vol["mean"] == pytest.approx(1000)
    assert vol["half_width"] == pytest.approx(T975_2 * 10 / math.sqrt(3))
    cost = cells.loc[("presets", "township", "baseline", "value", "public_cost_run")]
    assert cost["mean"] == pytest.approx(60_000)  # 120,000 over 104 weeks: per year
    gain = cells.loc[("presets", "township", "five_society", "gain", "volunteers_per_10k")]
    assert gain["mean"] == pytest.approx(500) and gain["half_width"] == pytest.approx(T975_2 * 10 / math.sqrt(3))
    assert cells.loc[("presets", "township", "five_society", "gain", "deliberation_satisfaction"), "n"] == 0


def test_markdown_in_english_and_chinese():
    cells = small_cells()
    en = rt.render_table(cells, "presets", "en").splitlines()
    zh = rt.render_table(cells, "presets", "zh").splitlines()
    assert label("volunteers_per_10k", "en") + " (#15, ≥ 2,500)" in en[0]
    assert label("volunteers_per_10k", "zh") + "（#15，≥ 2,500）" in zh[0]
    assert label("seeds", "zh") in zh[0] and "元/年" in zh[0] and "yuan/year" in en[0]
    hw = f"{T975_2 * 10 / math.sqrt(3):.0f}"
    base = next(line for line in en if line.startswith("| `township` / `baseline` |"))
    assert base == f"| `township` / `baseline` | 3 | 1,000 ± {hw} | 60.0 ± 2.5 % | — | 60,000 ± 0 |"
    gain = next(line for line in en if "− `baseline`" in line)
    assert gain == f"| `township` / `five_society` − `baseline` | 3 | +500 ± {hw} | +30.0 ± 0.0 pp | — | +440,000 ± 0 |"
    assert "+30.0 ± 0.0 个百分点" in "\n".join(zh)
    assert "the replication rule's minimum, for `township`" in en[-1] and "`five_society` − `baseline`" in en[-1]
    policies = rt.render_table(cells, "policies", "en").splitlines()
    assert [line.split(" | ")[0] for line in policies[2:4]] == ["| `baseline`", "| `five_society`"]
    assert "set with --seeds" in policies[-1]


def test_the_saved_csv_renders_the_same_tables(tmp_path: Path):
    cells = small_cells()
    rt.write_cells(cells, tmp_path)
    back = rt.read_cells(tmp_path)
    for lang in ("en", "zh"):
        assert rt.render_all(back, lang) == rt.render_all(cells, lang)


# ------------------------------------------------------------------------------------------------
# README regions
# ------------------------------------------------------------------------------------------------
def test_replace_region_replaces_only_between_the_markers():
    start, end = rt.markers("policies")
    text = f"before\n{start}\nold\n{end}\nafter\n"
    new = rt.replace_region(text, "policies", "| new |\n")
    assert new == f"before\n{start}\n| new |\n{end}\nafter\n"
    assert rt.region(new, "policies") == "| new |"


@pytest.mark.parametrize("text", ["no markers at all\n",
                                  "<!-- readme_tables:policies:start -->\nonly a start\n",
                                  "<!-- readme_tables:policies:end -->\n<!-- readme_tables:policies:start -->\n",
                                  "<!-- readme_tables:policies:start -->\n<!-- readme_tables:policies:start -->\n"
                                  "<!-- readme_tables:policies:end -->\n"])
def test_replace_region_refuses_missing_or_misplaced_markers(text: str):
    with pytest.raises(rt.TablesError, match="readme_tables:policies"):
        rt.replace_region(text, "policies", "x")


def test_the_readmes_carry_the_markers():
    for path in rt.README.values():
        text = path.read_text(encoding="utf-8")
        for table in rt.TABLES:
            assert rt.region(text, table, path.name)  # exactly one start and one end, in order


def test_readme_is_what_the_shipped_csv_renders():
    """README's scenario tables are generated: the tables they were rendered from ship in docs/readme_tables/ (the
    runs do not), and --check confirms both READMEs hold what they render (issue 24: tables not typed)."""
    shipped = REPO / "docs" / "readme_tables"
    assert (shipped / rt.CSV_FILE).exists(), f"{shipped}: copy readme_tables.csv and readme_bands.csv from results"
    assert rt.main(["--check", "--out", str(shipped)]) == 0


# ------------------------------------------------------------------------------------------------
# the command line
# ------------------------------------------------------------------------------------------------
def _readme_args(tmp_path: Path) -> list[str]:
    return ["--readme", str(tmp_path / "README.md"), "--readme-zh", str(tmp_path / "README.zh-CN.md")]


def test_check_names_the_stale_table_and_render_only_fixes_it(tmp_path: Path, capsys):
    out = tmp_path / "out"
    rt.write_cells(small_cells(), out)
    readme_with_markers(tmp_path / "README.md")
    readme_with_markers(tmp_path / "README.zh-CN.md")
    args = ["--out", str(out), *_readme_args(tmp_path)]
    assert rt.main(["--check", *args]) == 1
    err = capsys.readouterr().err
    assert "README.md: table 'policies'" in err and "README.zh-CN.md: table 'presets'" in err
    assert rt.main(["--render-only", "--write-readme", *args]) == 0
    text = (tmp_path / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "prose after presets" in text and label("volunteers_per_10k", "zh") in text
    assert rt.main(["--check", *args]) == 0
    edited = (tmp_path / "README.md").read_text(encoding="utf-8").replace("1,000 ±", "1,001 ±", 1)
    (tmp_path / "README.md").write_text(edited, encoding="utf-8")
    assert rt.main(["--check", *args]) == 1
    err = capsys.readouterr().err
    assert "README.md: table 'policies'" in err and "presets" not in err and "zh-CN" not in err


def test_write_readme_without_markers_writes_nothing(tmp_path: Path, capsys):
    out = tmp_path / "out"
    rt.write_cells(small_cells(), out)
    readme_with_markers(tmp_path / "README.md")
    (tmp_path / "README.zh-CN.md").write_text("no markers\n", encoding="utf-8")
    before = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert rt.main(["--render-only", "--write-readme", "--out", str(out), *_readme_args(tmp_path)]) == 2
    assert "README.zh-CN.md" in capsys.readouterr().err
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == before
    assert not (out / "readme_tables.en.md").exists()


@pytest.mark.parametrize(("argv", "says"), [
    (["--community", "atlantis"], "--community: unknown atlantis; allowed: industrial_park"),
    (["--policies", "baseline,nope"], "--policies: unknown nope; allowed: baseline"),
    (["--policies", "five_society"], "--policies must include baseline"),
    (["--presets", "mars"], "--presets: unknown mars"),
    (["--seeds", "1"], "--seeds must be ≥ 2"),
    (["--jobs", "0"], "--jobs must be ≥ 1"),
    (["community=township"], "override 'community=township'"),
    (["--check", "--write-readme"], "--check only reads"),
])
def test_bad_options_are_named(argv: list[str], says: str, tmp_path: Path, capsys):
    assert rt.main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_check_without_a_saved_csv_says_so(tmp_path: Path, capsys):
    assert rt.main(["--check", "--out", str(tmp_path)]) == 2
    assert "readme_tables.csv" in capsys.readouterr().err


def test_a_tiny_real_run_through_the_command_line(tmp_path: Path):
    out = tmp_path / "out"
    readme_with_markers(tmp_path / "README.md")
    readme_with_markers(tmp_path / "README.zh-CN.md")
    cmd = [sys.executable, "-m", "experiments.readme_tables", "--seeds", "2", "--community", "relocation",
           "--presets", "relocation", "--out", str(out), "--jobs", "1", "--write-readme", *_readme_args(tmp_path),
           "--tables", "policies,presets", "warmup_weeks=0", "steps=60"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "sweep" / "runs.parquet")
    assert len(runs) == 2 * len(policy_presets()) and set(runs["community"]) == {"relocation"}
    cells = rt.read_cells(out)
    assert set(cells["seeds"]) == {2} and set(cells["steps"]) == {60} and set(cells["warmup_weeks"]) == {0}
    assert (cells["row"] == "gain").any()
    en = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "`relocation` / `five_society` − `baseline` | 2 |" in en
    assert "old table" not in rt.region(en, "policies") + rt.region(en, "presets")
    assert rt.region(en, "bands") == "old table"  # not among --tables
    assert (out / "readme_tables.zh.md").read_text(encoding="utf-8").count("随机种子数") >= 2
    check = subprocess.run([*cmd[:3], "--check", "--out", str(out), *_readme_args(tmp_path)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    helped = subprocess.run([*cmd[:3], "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "--write-readme" in helped.stdout


# ------------------------------------------------------------------------------------------------
# the bands table: how sure the gains are, over parameter sets × seeds
# ------------------------------------------------------------------------------------------------
T975_1 = 12.706204736174707  # Student's t, 0.975 quantile, 1 degree of freedom


def band_runs() -> pd.DataFrame:
    """2 seeds × 3 parameter sets of the baseline and five_society in two communities, 104 recorded weeks."""
    rows = []
    for comm in ("township", "relocation"):
        for pol in ("baseline", "five_society"):
            for j in range(3):
                for i in range(2):
                    treated = pol == "five_society"
                    rows.append({"community": comm, "policy": pol, "set": j, "seed": i, "steps": 104,
                                 "warmup_weeks": 0,
                                 "volunteers_per_10k": 1000.0 + 10 * i + (100 * (j + 1) + 20 * i if treated else 0),
                                 "response_rate": 0.6 + (0.1 * (j - 1) + 0.01 * i if treated else 0),
                                 "public_cost_run": 1_000_000.0 if treated else 120_000.0,
                                 "deliberation_satisfaction": 0.8 if treated else math.nan})
    return pd.DataFrame(rows)


def band_cells() -> pd.DataFrame:
    return rt.summarise_bands(band_runs(), ["five_society"], "baseline", KEYS,
                              ["community.satisfaction_initial=0.5:0.9"],
                              "python -m experiments.readme_tables --tables bands --band-sets 3")


def test_bands_are_paired_over_sets_and_seeds_and_render_in_english_and_chinese():
    cells = band_cells()
    assert list(dict.fromkeys(cells["community"])) == ["township", "relocation"]  # the runs' order
    assert "deliberation_satisfaction" not in set(cells["indicator"])  # no difference under the baseline
    vol = cells.set_index(["community", "indicator"]).loc[("township", "volunteers_per_10k")]
    assert vol["mean"] == pytest.approx(210) and vol["seed_half_width"] == pytest.approx(T975_1 * 10)
    assert (vol["band_low"], vol["band_high"], vol["same_sign"], vol["sets"]) == (pytest.approx(115),
                                                                                  pytest.approx(305), 3, 3)
    en = rt.render_bands(cells, "en").splitlines()
    zh = rt.render_bands(cells, "zh").splitlines()
    assert en[0] == ("| Community / Policy | " + " | ".join(rt.column_label(k, "en") for k in
                                                          ("volunteers_per_10k", "response_rate", "public_cost_run"))
                     + " |")
    assert en[2] == ("| `township` / `five_society` − `baseline` | +210 ±127 [115, 305] 3/3 | "
                     "+0.5 ±6.4 [−9.0, 10.0] pp 2/3 | +440,000 ±0 [440,000, 440,000] 3/3 |")
    assert en[3].startswith("| `relocation` / `five_society` − `baseline` |") and len(en) == 6
    assert "3 parameter sets × 2 seeds" in en[-1] and "`community.satisfaction_initial=0.5:0.9`" in en[-1]
    assert "Generated by `python -m experiments.readme_tables --tables bands --band-sets 3`" in en[-1]
    assert zh[0].startswith(f"| {label('community', 'zh')} / {label('policy', 'zh')} | "
                            f"{rt.column_label('volunteers_per_10k', 'zh')}")
    assert "+0.5 ±6.4 [−9.0, 10.0] 个百分点 2/3" in zh[2] and "3 组参数 × 2 个随机种子" in zh[-1]


def test_the_saved_bands_csv_renders_the_same_table(tmp_path: Path):
    cells = band_cells()
    rt.write_bands(cells, tmp_path)
    back = rt.read_bands(tmp_path)
    assert rt.saved_tables(tmp_path) == ["bands"]
    for lang in ("en", "zh"):
        assert rt.render_bands(back, lang) == rt.render_bands(cells, lang)


def test_check_and_render_only_cover_the_bands_table(tmp_path: Path, capsys):
    out = tmp_path / "out"
    rt.write_bands(band_cells(), out)
    readme_with_markers(tmp_path / "README.md")
    readme_with_markers(tmp_path / "README.zh-CN.md")
    args = ["--out", str(out), *_readme_args(tmp_path)]
    assert rt.main(["--check", "--tables", "bands", *args]) == 1
    assert "README.zh-CN.md: table 'bands'" in capsys.readouterr().err
    assert rt.main(["--render-only", "--write-readme", "--tables", "bands", *args]) == 0
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert rt.region(text, "bands") == rt.render_bands(band_cells(), "en")
    assert rt.region(text, "policies") == "old table"  # the other tables are left alone
    assert rt.main(["--check", "--tables", "bands", *args]) == 0
    assert rt.main(["--check", *args]) == 0  # by default: the tables saved in --out
    assert "no saved numbers of table policies, presets" in capsys.readouterr().err
    assert rt.main(["--check", "--tables", "policies,bands", *args]) == 2  # a named table must be saved
    assert "readme_tables.csv" in capsys.readouterr().err
    rt.write_cells(small_cells(), out)  # both CSVs: --render-only renders all of them, --check checks all
    assert rt.main(["--check", *args]) == 1
    assert rt.main(["--render-only", "--write-readme", *args]) == 0
    assert rt.main(["--check", *args]) == 0
    capsys.readouterr()
    edited = (tmp_path / "README.zh-CN.md").read_text(encoding="utf-8").replace("个百分点 2/3", "个百分点 3/3", 1)
    (tmp_path / "README.zh-CN.md").write_text(edited, encoding="utf-8")
    assert rt.main(["--check", *args]) == 1
    err = capsys.readouterr().err
    assert "README.zh-CN.md: table 'bands'" in err and "policies" not in err


@pytest.mark.parametrize(("argv", "says"), [
    (["--tables", "bands,nope"], "--tables: unknown nope; allowed: policies, presets, bands"),
    (["--band-policies", "baseline,five_society"], "--band-policies: the gains are over baseline"),
    (["--band-presets", "mars"], "--band-presets: unknown mars"),
    (["--band-sets", "1"], "--band-sets must be ≥ 2"),
    (["--band-seeds", "1"], "--band-seeds must be ≥ 2"),
    (["--band-param", "community.nope=0:1"], "--band-param 'community.nope=0:1'"),
    (["--band-param", "community.satisfaction_initial=0.9:0.5"], "LO must be below HI"),
])
def test_bad_band_options_are_named(argv: list[str], says: str, tmp_path: Path, capsys):
    assert rt.main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_tiny_real_bands_run_through_the_command_line(tmp_path: Path):
    from experiments.bands import draw_sets, extra_priors

    out = tmp_path / "out"
    readme_with_markers(tmp_path / "README.md")
    readme_with_markers(tmp_path / "README.zh-CN.md")
    cmd = [sys.executable, "-m", "experiments.readme_tables", "--tables", "bands", "--band-sets", "2",
           "--band-seeds", "2", "--band-presets", "relocation", "--out", str(out), "--jobs", "1", "--write-readme",
           *_readme_args(tmp_path), "warmup_weeks=0", "steps=60"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "sweep" / rt.BANDS_SWEEP / "runs.parquet")
    assert len(runs) == 2 * 2 * (1 + len(rt.BAND_POLICIES)) and set(runs["community"]) == {"relocation"}
    sets = draw_sets(2, None, extra_priors(list(rt.BAND_PARAMS)))  # the sets python -m experiments.bands draws
    for key in sets.columns:
        got = runs[runs["policy"] == "baseline"].sort_values(["run_dir"])[key].astype(float).to_numpy()
        assert got == pytest.approx(sets[key].astype(float).repeat(2).to_numpy()), key
    assert not (out / rt.CSV_FILE).exists()  # only the bands table was made
    cells = rt.read_bands(out)
    assert set(cells["sets"]) == {2} and set(cells["seeds"]) == {2} and set(cells["steps"]) == {60}
    assert list(dict.fromkeys(cells["policy"])) == list(rt.BAND_POLICIES)
    assert {"completion_rate", "callback_satisfaction", "response_rate", "volunteers_per_10k", "social_orgs_serving",
            "volunteer_active_share_2plus", "enterprise_participation", "public_cost_run"} <= set(cells["indicator"])
    en = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "| `relocation` / `five_society` − `baseline` | +" in rt.region(en, "bands")
    assert "--band-presets relocation --band-policies gov_purchase,five_society --band-sets 2 --band-seeds 2" in en
    assert rt.region(en, "policies") == "old table"
    check = subprocess.run([*cmd[:3], "--check", "--out", str(out), *_readme_args(tmp_path)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
