"""A Chinese comparison report is Chinese throughout: headings, prose and figure captions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, make_settings
from system_deps import require_cjk_font

from experiments import compare
from sim.runs.runner import run_many

CJK = re.compile(r"[\u4e00-\u9fff]")
# Four or more English words in a row (letters, separated by spaces or light punctuation) is prose.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,;:()]+[A-Za-z][A-Za-z'’]*){3,}")


def english_prose(markdown: str) -> list[str]:
    """Runs of English words outside code (``` blocks, `spans`), links' targets, HTML tags and styles."""
    text = re.sub(r"```.*?```|<style>.*?</style>|<pre>.*?</pre>|<code>.*?</code>", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return ENGLISH_RUN.findall(text)


def test_the_check_finds_english_prose():
    assert english_prose("## 情景\n\nEach run is paired with the baseline.") == ["Each run is paired with the baseline"]
    assert english_prose("规则：`python -m experiments.compare --lang zh` 与 d_z、t(0.975, n − 1)") == []


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """Two policies × three seeds of a short relocation run: paired differences, every report section."""
    out = tmp_path_factory.mktemp("report") / "sweep"
    policies, seeds = ("baseline", "five_society"), range(3)
    settings = [make_settings(policy=p, steps=20, seed=s) for p in policies for s in seeds]
    overrides = [[f"policy={p}", f"seed={s}"] for p in policies for s in seeds]
    run_many(settings, out, n_jobs=1, overrides=overrides, progress=False)
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_is_in_one_language(sweep, tmp_path, lang):
    if lang == "zh":
        require_cjk_font()
    out = tmp_path / lang
    assert compare.main([str(sweep), "--lang", lang, "--kpis", "satisfaction_mean,fund_balance",
                         "--out", str(out)]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    html = (out / "report.html").read_text(encoding="utf-8")
    headings = [line for line in report.splitlines() if line.startswith("#")]
    captions = [line for line in report.splitlines() if line.startswith("*") and line.endswith("*")]
    assert len(headings) >= 5 and captions
    if lang == "zh":
        assert english_prose(report) == []
        assert english_prose(re.sub(r"<img [^>]*>", " ", html)) == []
        assert all(CJK.search(line) for line in headings + captions)
    else:
        assert "Paired differences vs the baseline" in report and not CJK.search("\n".join(headings))


def test_chinese_guide_links_both_ways_and_covers_the_commands():
    english = (REPO / "README.md").read_text(encoding="utf-8")
    chinese = (REPO / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "](README.zh-CN.md)" in english and "](README.md)" in chinese
    for command in ("./dev.sh run", "./dev.sh test", "python -m sim -m", "+experiment=one_cent",
                    "python -m experiments.compare", "python -m experiments.plot", "--export csv,dta",
                    "./dev.sh dashboard", "district=enyang_like", "examples/analyse_a_sweep.ipynb"):
        assert command in chinese, command
    prose = [line for line in chinese.splitlines() if line and not line.startswith(("```", "|", "python", "./"))]
    assert sum(bool(CJK.search(line)) for line in prose) > 0.8 * len(prose)  # a guide in Chinese, not a copy


def test_both_readmes_show_the_same_commands():
    """README.md and README.zh-CN.md are kept in step: every `python -m <module>` either shows, the other shows
    too (issue 27: the English one lacked --export csv,dta, the notebook and --width/--greyscale/--pdf)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]

    def shown(name: str) -> tuple[set[str], set[str]]:
        text = (root / name).read_text(encoding="utf-8")
        modules = set(re.findall(r"python -m ([a-z_]+(?:\.[a-z_]+)*)", text))
        options = {o for o in ("--export", "--labels", "--width", "--greyscale", "--pdf", "--lang", "--delta",
                               "[notebook]", "analyse_a_sweep.ipynb") if o in text}
        return modules, options

    (en_modules, en_options), (zh_modules, zh_options) = shown("README.md"), shown("README.zh-CN.md")
    assert en_modules == zh_modules, (sorted(en_modules - zh_modules), sorted(zh_modules - en_modules))
    assert en_options == zh_options, (sorted(en_options - zh_options), sorted(zh_options - en_options))
    assert "experiments.table" in en_modules
