"""The Chinese one-page results summary, generated with README's tables (issue 27, item 11)."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import REPO

from experiments import readme_tables as rt
from experiments.docs import model_fingerprint

SHIPPED = REPO / "docs" / "readme_tables"
SUMMARY = REPO / "docs" / "summary.zh-CN.md"


def test_the_shipped_summary_is_what_the_shipped_tables_render():
    assert SUMMARY.read_text(encoding="utf-8") == rt.summary_text(SHIPPED), \
        "run python -m experiments.readme_tables --render-only --write-readme --out docs/readme_tables"


def test_the_summary_is_chinese_with_chinese_number_formats():
    text = SUMMARY.read_text(encoding="utf-8")
    assert "个百分点" in text and "万元/年" in text and "五社联动（全部杠杆）" in text
    assert not re.search(r"\b(five_society|urban_traditional|baseline|nan)\b", text)
    assert not re.search(r"\d[eE][+-]\d", text)  # no scientific notation
    assert len(text.splitlines()) < 60  # one page


@pytest.mark.slow  # renders and checks both READMEs (~4 s)
def test_the_version_that_computed_the_tables_is_named_and_a_stale_summary_fails_the_check(tmp_path, capsys):
    out = tmp_path / "tables"
    shutil.copytree(SHIPPED, out)
    rt.write_record(out)
    assert json.loads((out / rt.RECORD_FILE).read_text(encoding="utf-8"))["model_outputs"] == model_fingerprint()
    assert f"模型输出指纹 {model_fingerprint()}" in rt.summary_text(out)
    for name in ("README.md", "README.zh-CN.md"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "summary.zh-CN.md").write_text("stale", encoding="utf-8")
    readmes = ["--readme", str(tmp_path / "README.md"), "--readme-zh", str(tmp_path / "README.zh-CN.md")]
    assert rt.main(["--check", "--out", str(out), *readmes]) == 1
    assert "the one-page summary" in capsys.readouterr().err
    assert rt.main(["--render-only", "--write-readme", "--out", str(out), *readmes]) == 0
    assert rt.main(["--check", "--out", str(out), *readmes]) == 0
