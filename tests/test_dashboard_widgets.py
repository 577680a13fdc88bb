"""Every widget of the workshop page that is drawn from a kept value has that value as its default too.

A page run cut short by the next one (a click, a rerun) on a loaded machine can leave the browser mounting a widget
without the value the page set through session state; it then shows the widget's *default* and sends it back as a
change. With Streamlit's defaults (the minimum, the first option) a reloaded page went from 3 weeks to 1 and moved
fund transparency 0.3 → 0 and units per week 2,000 → 0 on both sides (4 in 18 runs of the reload tests beside
three busy loops). The page is run here in Streamlit's own test harness (no browser), from a link whose values are
not the widgets' minima, and each widget's default is compared with its value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"
LINK = {"lang": "en", "seed": "7", "weeks": "3", "A": "micro_fund", "B": "five_society",
        "B.policy.fund.transparency": "0.9", "B.community.units_per_week": "2500"}


@pytest.fixture(scope="module")
def page():
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params.update(LINK)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_every_kept_widget_has_its_value_as_its_default(page):
    checked = {}
    for w in page.number_input:
        assert w.proto.default == pytest.approx(float(w.value)), w.key
        checked[w.key] = w.value
    for w in page.slider:
        assert list(w.proto.default) == pytest.approx([float(w.value)]), w.key
        checked[w.key] = w.value
    for w in page.toggle:
        assert w.proto.default == w.value, w.key
        checked[w.key] = w.value
    for w in page.selectbox:
        assert w.proto.default == w.index, w.key
        checked[w.key] = w.value
    for w in page.select_slider:
        assert [w.options[int(i)] for i in w.proto.default] == [str(w.value)], w.key
        checked[w.key] = w.value
    # the link's values, which are not the widgets' minima, are among them
    assert checked["weeks"] == 3 and checked["seed"] == 7
    assert checked["B:policy.fund.transparency#2"] == pytest.approx(0.9)
    assert checked["B:community.units_per_week#2"] == pytest.approx(2500)
    assert checked["A_policy@en.0"] == "micro_fund" and checked["B_policy@en.0"] == "five_society"
    assert len(checked) >= 40, sorted(checked)
