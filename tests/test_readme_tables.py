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
from sim.glossary import label
from sim.indicators import KEY_INDICATORS, TARGETS

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
    policies = rt.policy_presets()
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


def test_readme_is_what_the_saved_csv_renders():
    if not (REPO / rt.DEFAULT_OUT / rt.CSV_FILE).exists():
        pytest.skip(f"no {rt.DEFAULT_OUT / rt.CSV_FILE}: python -m experiments.readme_tables --write-readme not run")
    assert rt.main(["--check", "--out", str(REPO / rt.DEFAULT_OUT)]) == 0


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
           "warmup_weeks=0", "steps=60"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    runs = pd.read_parquet(out / "sweep" / "runs.parquet")
    assert len(runs) == 2 * len(rt.policy_presets()) and set(runs["community"]) == {"relocation"}
    cells = rt.read_cells(out)
    assert set(cells["seeds"]) == {2} and set(cells["steps"]) == {60} and set(cells["warmup_weeks"]) == {0}
    assert (cells["row"] == "gain").any()
    en = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "`relocation` / `five_society` − `baseline` | 2 |" in en and "old table" not in en
    assert (out / "readme_tables.zh.md").read_text(encoding="utf-8").count("随机种子数") >= 2
    check = subprocess.run([*cmd[:3], "--check", "--out", str(out), *_readme_args(tmp_path)], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    helped = subprocess.run([*cmd[:3], "--help"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "--write-readme" in helped.stdout
