"""The one-page workshop handout (dashboard/handout.py): HTML with the setup, the indicators and the charts, printed
to PDF by Chromium, Chinese included."""

import subprocess
import sys
import unicodedata

import pytest
from conftest import REPO
from system_deps import require, require_cjk_font

from dashboard import session as se
from dashboard.handout import find_chromium, handout_html, html_to_pdf
from dashboard.workshop import SCENARIOS, setup_of
from sim.model.indicators import KEY_INDICATORS
from sim.tables.glossary import label, preset_label


@pytest.fixture(scope="module")
def purchase():
    """The purchase scenario, run past its staged change (week 52) to week 60."""
    sc = SCENARIOS["purchase"]
    setup = setup_of(sc)
    comp = se.comparison(setup.community, 0, setup.weeks, *((setup.policies[s], setup.levers[s]) for s in se.SIDES))
    comp.step(52)
    for change in sc.staged:
        comp.change_levers(change.side, change.levers)
    comp.step(8)
    return sc, comp


def _text(pdf: bytes) -> tuple[int, str]:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    # NFKC: the CJK font maps some characters to their Kangxi-radical twins (⼀ for 一) in the extracted text
    return len(reader.pages), unicodedata.normalize("NFKC", "".join(p.extract_text() for p in reader.pages))


def test_the_handout_holds_the_setup_the_indicators_the_changes_and_the_charts(purchase):
    sc, comp = purchase
    page = handout_html(comp, "zh", sc.title("zh"), sc.story("zh"), sc.question("zh"), sc.answers("zh")[1])
    for text in (sc.title("zh"), sc.question("zh"), sc.answers("zh")[1], label("key_indicators", "zh"),
                 preset_label("community", "urban_traditional", "zh"), comp.events("zh")[0][2],
                 *(label(k, "zh") for k in KEY_INDICATORS)):
        assert text in page, text
    assert page.count("data:image/png;base64,") == 2  # the indicators and the fund
    assert "<html lang='zh-CN'>" in page
    english = handout_html(comp, "en")
    assert label("key_indicators", "en") in english and label("key_indicators", "zh") not in english


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_handout_prints_to_one_pdf_page_with_chinese_text(purchase, lang):
    """The longest handout (story, question, the room's answer, a lever change) on one page, to its footer: the
    English one once ran onto a second page."""
    require(find_chromium() is not None, "Chromium (the Debian package chromium)")
    require_cjk_font()
    sc, comp = purchase
    pdf = html_to_pdf(handout_html(comp, lang, sc.title(lang), sc.story(lang), sc.question(lang), sc.answers(lang)[1]))
    assert pdf.startswith(b"%PDF")
    pages, text = _text(pdf)
    assert pages == 1
    week = "第 60 周 / 共 260 周" if lang == "zh" else "Week 60 of 260"
    footer = unicodedata.normalize("NFKC", label("handout_footer", lang, day=""))[:12]  # the last line: not cut off
    for words in (sc.title(lang), label("key_indicators", lang), label("response_rate", lang), week, footer):
        assert words in text, (words, text[:300])
    if lang == "zh":
        assert "政府购买服务" in text


def test_the_handout_command_writes_a_pdf_and_refuses_bad_input(tmp_path):
    out = tmp_path / "handout.pdf"
    bad = subprocess.run([sys.executable, "-m", "dashboard.handout", "--scenario", "utopia", "--out", str(out)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert bad.returncode == 2 and "invalid choice: 'utopia'" in bad.stderr and not out.exists()
    bad = subprocess.run([sys.executable, "-m", "dashboard.handout", "--scenario", "full", "--weeks", "999",
                          "--out", str(out)], capture_output=True, text=True, cwd=REPO, check=False)
    assert bad.returncode == 2 and "--weeks 999 is out of range: allowed 1–260" in bad.stderr and not out.exists()
    require(find_chromium() is not None, "Chromium (the Debian package chromium)")
    done = subprocess.run([sys.executable, "-m", "dashboard.handout", "--scenario", "one_cent", "--weeks", "20",
                           "--lang", "en", "--out", str(out)], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    pages, text = _text(out.read_bytes())
    assert pages == 1 and "One cent a bottle" in text and "Week 20 of 260" in text
    assert [p.name for p in tmp_path.iterdir()] == ["handout.pdf"]  # no temporary file left
