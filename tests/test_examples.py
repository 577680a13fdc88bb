"""The examples for researchers: the notebook runs from top to bottom, the sweep exports to CSV and Stata,
and the citation file names the package's version."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from conftest import REPO, make_settings
from nbclient import NotebookClient

from experiments.export import export_runs, parse_formats, stata_names, variable_label
from sim.runs.runner import run_many

NOTEBOOK = REPO / "examples" / "analyse_a_sweep.ipynb"
LEVER = "policy.micro_fund.fen_per_unit"


def test_notebook_runs_a_sweep_reproduces_a_figure_and_fits_a_regression(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    NotebookClient(nb, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "20 runs in" in text
    images = [o for o in outputs if o.output_type in ("display_data", "execute_result") and "image/png" in o.data]
    assert len(images) == 1  # the distributions figure of experiments.compare
    coefficients = nb.cells[-2].outputs[0].data["text/plain"]
    assert "extra_social_workers" in coefficients and "five_society" in coefficients and "ci_low" in coefficients
    assert "P>|t|" not in text + coefficients  # no p-values, as experiments.compare reports none
    changed = re.search(r"change callback satisfaction in (\d+) of (\d+) paired runs", text)
    assert changed and int(changed[2]) == 10  # the zero coefficient explained by counting the pairs it changed


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """Six short runs: the one-cent charity's fen per unit 0 or 2, three seeds."""
    out = tmp_path_factory.mktemp("export") / "sweep"
    settings, overrides = [], []
    for fen in (0, 2):
        for seed in range(3):
            s = make_settings(policy="micro_fund", steps=12, seed=seed)
            s.policy.micro_fund.fen_per_unit = fen
            settings.append(s)
            overrides.append([f"{LEVER}={fen}", f"seed={seed}"])
    run_many(settings, out, n_jobs=1, overrides=overrides, progress=False)
    return out


def test_collate_exports_csv_and_stata_with_variable_labels(sweep):
    proc = subprocess.run([sys.executable, "-m", "experiments.collate", str(sweep), "--export", "csv,dta"],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    runs = pd.read_parquet(sweep / "runs.parquet")
    csv = pd.read_csv(sweep / "runs.csv")
    assert list(csv.columns) == list(runs.columns) and len(csv) == len(runs) == 6
    pd.testing.assert_series_equal(csv["satisfaction_mean"], runs["satisfaction_mean"], check_dtype=False)

    with pd.io.stata.StataReader(sweep / "runs.dta") as reader:
        dta = reader.read()
        labels = reader.variable_labels()
    safe = stata_names(list(runs.columns))
    assert list(dta.columns) == list(safe.values())
    assert all(len(n) <= 32 and n.replace("_", "a").isalnum() and not n[0].isdigit() for n in dta.columns)
    assert safe[LEVER] == "policy_micro_fund_fen_per_unit"
    assert sorted(dta["policy_micro_fund_fen_per_unit"].tolist()) == [0, 0, 0, 2, 2, 2]
    assert labels["satisfaction_mean"] == "Satisfaction (share, 0–1)"
    assert labels["policy_micro_fund_fen_per_unit"] == "One cent per bottle (fen)"
    pd.testing.assert_series_equal(dta["satisfaction_mean"], runs["satisfaction_mean"], check_names=False)
    mapping = pd.read_csv(sweep / "runs_variables.csv")
    assert dict(zip(mapping["column"], mapping["stata_name"], strict=True)) == safe
    assert all(isinstance(v, str) and v for v in labels.values())  # every variable labelled


def test_export_in_chinese_with_units_value_labels_the_weekly_panel_and_a_codebook(sweep):
    from experiments.collate import main

    assert main([str(sweep), "--export", "csv,dta", "--labels", "zh"]) == 0
    runs = pd.read_parquet(sweep / "runs.parquet")
    with pd.io.stata.StataReader(sweep / "runs.dta") as reader:
        dta = reader.read()
        labels = reader.variable_labels()
        values = reader.value_labels()
    assert labels["response_rate"] == "诉求响应率（比例，0–1）"
    assert labels["public_cost_run"] == "公共财政成本累计（元）"
    assert labels["policy_micro_fund_fen_per_unit"] == "一分钱/瓶（分）"
    assert all(len(v) <= 80 for v in labels.values())
    assert set(dta["policy"].astype(str)) == {"一分钱公益微基金"}
    assert "易地扶贫搬迁社区" in set(dta["community"].astype(str))
    assert "一分钱公益微基金" in values["policy"].values()  # stored as a code with a value label
    # the weekly panel: a row per run and week, the design columns, every weekly indicator, labelled
    ts = pd.read_parquet(sweep / "timeseries.parquet")
    panel = pd.read_csv(sweep / "panel.csv")
    assert len(panel) == ts.groupby(["run", "step"]).ngroups and {"run", "step", "policy", "seed", LEVER} <= set(
        panel.columns)
    assert set(ts["indicator"].astype(str)) <= set(panel.columns)
    week = ts[(ts["run"] == 0) & (ts["indicator"] == "fund_balance")].set_index("step")["value"]
    mine = panel[panel["run"] == 0].set_index("step")["fund_balance"]
    pd.testing.assert_series_equal(mine.sort_index(), week.sort_index(), check_names=False)
    with pd.io.stata.StataReader(sweep / "panel.dta") as reader:
        plabels = reader.variable_labels()
    assert plabels["public_cost"] == "公共财政成本（元/周）" and plabels["step"] == "周"
    # the codebook: every variable of both files, names and units in both languages
    book = pd.read_csv(sweep / "codebook.csv", encoding="utf-8-sig")
    assert set(book["file"]) == {"runs.dta", "panel.dta"}
    assert set(book.loc[book["file"] == "runs.dta", "column"]) == set(runs.columns)
    rate = book[(book["column"] == "response_rate") & (book["file"] == "runs.dta")].iloc[0]
    assert (rate["label_en"], rate["unit_en"], rate["label_zh"], rate["kind"]) == (
        "Response rate", "share, 0–1", "诉求响应率", "indicator") and "#33" in rate["meaning"]
    policy = book[(book["column"] == "policy") & (book["file"] == "runs.dta")].iloc[0]
    assert policy["values"] == "micro_fund = One-cent charity micro-fund / 一分钱公益微基金"
    md = (sweep / "codebook.md").read_text(encoding="utf-8")
    assert "## runs.dta" in md and "## panel.dta" in md and "`policy_micro_fund_fen_per_unit`" in md


def test_stata_labels_are_cut_at_a_word_boundary():
    from experiments.export import fit_label

    text = "Fund income: government grant, match and moral-bank support over the whole of a very long run (yuan)"
    cut = fit_label(text)
    assert len(cut) <= 80 and cut.endswith("…") and text.startswith(cut[:-1]) and text[len(cut) - 1] == " "
    assert fit_label("short label") == "short label"
    zh = "社区基金收入：政府拨款、配捐与道德银行支持，" * 5
    assert len(fit_label(zh)) <= 80 and fit_label(zh)[-2] in "：、拨持金入援捐与银行道德府政支款配区社基"


def test_stata_names_are_unique_and_short():
    long = "policy.enterprise.moral_bank_sponsor_yuan_per_year"
    names = stata_names(["a.b", "a_b", "1st", long, long + "x"])
    assert names["a.b"] == "a_b" and names["a_b"] == "a_b_2" and names["1st"] == "v_1st"
    assert len(set(names.values())) == 5 and max(map(len, names.values())) <= 32
    assert len(variable_label(long)) <= 80


def test_export_refuses_unknown_formats(sweep, capsys):
    with pytest.raises(ValueError, match="allowed formats are csv, dta"):
        parse_formats("csv,xlsx")
    with pytest.raises(ValueError, match="unknown export format"):
        export_runs(sweep, ("sav",))
    from experiments.collate import main

    assert main([str(sweep), "--export", "spss"]) == 2
    assert "allowed formats are csv, dta" in capsys.readouterr().err
    assert main([str(sweep), "--verify", "--export", "csv"]) == 2  # verifying writes no table to export


def test_citation_file_is_valid_cff_with_the_package_version():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert cff["cff-version"] == "1.2.0"
    assert str(cff["version"]) == version
    assert cff["license"] == "MIT" and cff["title"] and cff["message"]
    assert cff["authors"] and all("name" in a or "family-names" in a for a in cff["authors"])
    preferred = cff["preferred-citation"]
    assert preferred["type"] == "software" and str(preferred["version"]) == version and preferred["authors"]
    assert json.dumps(cff, default=str)  # plain data (no YAML tags)


def test_changelog_lists_the_current_version():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert "Keep a Changelog" in changelog and "## [Unreleased]" in changelog
    assert f"## [{version}]" in changelog
