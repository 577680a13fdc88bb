"""Browser tests of the workshop dashboard: ``python -m dashboard.serve`` driven by Debian's Chromium.

One page for the module on the session's dashboard server (tests/conftest.py, tests/browser_support.py),
used by the tests in order: the page shows A and B against the targets; a lever changes B and stepping (Step, Play,
Pause) moves indicators and charts, A and B staying equal until B differs; a CSV downloads; the
language switch changes every label; replicates run; and no request ever leaves the server's host.
Screenshots of both languages go to /tmp (SCREENSHOTS).

Needs /usr/bin/chromium and fonts-noto-cjk: ``bash scripts/install-test-deps.sh`` (CI runs it).
"""

from __future__ import annotations

import io
import os
import random
import re
import tempfile
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pandas as pd
import pytest
from browser_support import (
    ACTION_TIMEOUT,
    LOCAL_HOSTS,
    SCREENSHOTS,
    TIMEOUT,
    PlaywrightError,
    browser_page,
    expect,
    settled,
)

from dashboard import session as se
from sim.settings.config import community_presets
from sim.tables.glossary import label, preset_label


@pytest.fixture(scope="module")
def ui(server):
    """One browser page on the dashboard (English), recording every request the page makes."""
    with browser_page(server) as b:
        expect(b.page.get_by_text("Key indicators against the plan targets")).to_be_visible(timeout=TIMEOUT)
        yield SimpleNamespace(page=b.page, requests=b.requests, url=server.url, trap=server.trap)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def metric_value(page, side: str, text: str):
    """The value element of the metric labelled ``text`` in scenario ``side``'s panel."""
    return page.locator(f".st-key-kpis_{side} [data-testid='stMetric']").filter(has_text=text) \
        .locator("[data-testid='stMetricValue']")


def yuan(s: str) -> float:
    return float(re.sub(r"[^\d.]", "", s))


def week_text(page) -> str:
    return page.get_by_text(re.compile(r"^Week \d+ of \d+$")).inner_text()


def step(page, weeks: int, start: int) -> None:
    for k in range(start + 1, start + weeks + 1):
        page.get_by_role("button", name="Step", exact=True).click()
        expect(page.get_by_text(re.compile(rf"^Week {k} of \d+$"))).to_be_visible()
    settled(page)



def top(page) -> None:
    """Scroll every scrolled container back to the top (Streamlit scrolls its main area, not the document)."""
    page.evaluate("document.querySelectorAll('*').forEach(e => { if (e.scrollTop > 0) e.scrollTop = 0; })")


def scenario_panel(page, side: str):
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("tab", name=f"Scenario {side}").click()
    return sidebar.get_by_role("tabpanel").filter(visible=True)


def open_tab(page, key: str, lang: str = "en") -> None:
    """Open a tab of the live view (only the open tab is drawn) and wait for its part of the page."""
    page.get_by_role("tab", name=label(key, lang), exact=True).click()
    settled(page)


def choose(page, container, label_text: str, option: str) -> None:
    container.get_by_role("combobox", name=label_text).click()
    page.get_by_role("option", name=option, exact=True).click()


def trace_path(page, key: str, side_index: int) -> str:
    """The SVG path of scenario A (0) or B (1) in the trajectory chart of ``key`` (dashboard/live_chart.js)."""
    return page.locator(f".st-key-traj_{key} .live-chart path.line-{'AB'[side_index]}").get_attribute("d") or ""


# ---------------------------------------------------------------------------------------------
# tests (in order, on one page)
# ---------------------------------------------------------------------------------------------
def test_page_shows_a_and_b_against_targets(ui):
    page = ui.page
    expect(page.get_by_role("heading", name="Five-society linkage: comparing two scenarios")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Week 0 of 260$"))).to_be_visible()
    for side in ("A", "B"):
        metrics = page.locator(f".st-key-kpis_{side} [data-testid='stMetric']")
        expect(metrics).to_have_count(6)
        expect(metrics.filter(has_text=label("response_rate"))).to_contain_text("Target ≥ 100 %")
    # the live view's parts are tabs, the trajectories open; only the open tab is drawn
    expect(page.locator("[class*='st-key-traj_'] .live-chart svg.main-svg")).to_have_count(6)
    expect(page.locator("[class*='st-key-fund_'] [data-testid='stPlotlyChart']")).to_have_count(0)
    open_tab(page, "tab_fund")
    expect(page.locator("[class*='st-key-fund_'] [data-testid='stPlotlyChart']")).to_have_count(2)
    expect(page.locator("[class*='st-key-traj_'] .live-chart svg.main-svg")).to_have_count(0)
    # the linkage at work: demand handlers, where volunteers act, public cost by kind, projects running, sessions
    open_tab(page, "tab_linkage")
    expect(page.locator("[class*='st-key-linkage_'] [data-testid='stPlotlyChart']")).to_have_count(5)
    expect(page.locator(".st-key-linkage_handlers .gtitle")).to_have_text(label("handlers_title"))
    expect(page.locator(".st-key-linkage_volunteers .gtitle")).to_have_text(label("volunteers_title"))
    open_tab(page, "tab_difference")
    expect(page.locator(".st-key-diffchart [data-testid='stPlotlyChart']")).to_have_count(1)
    open_tab(page, "tab_trajectories")


def test_lever_for_b_and_stepping_change_indicators_and_charts(ui):
    page = ui.page
    # B = A's preset: with the same seed the two runs are identical, week after week.
    panel = scenario_panel(page, "B")
    choose(page, panel, "Policy preset", "Baseline (no linkage)")
    expect(page.locator(".st-key-kpis_B")).to_contain_text("B: Baseline (no linkage)")
    expect(page.get_by_text(re.compile(r"^Week 0 of 260$"))).to_be_visible()
    step(page, 2, 0)
    for text in (label("public_cost_run"), label("volunteers_per_10k"), label("response_rate")):
        expect(metric_value(page, "B", text)).to_have_text(metric_value(page, "A", text).inner_text())
    assert yuan(metric_value(page, "A", label("public_cost_run")).inner_text()) > 0  # social workers' wages
    same = trace_path(page, "public_cost_run", 0)
    assert same and same == trace_path(page, "public_cost_run", 1)
    one_cent = label("enterprise_per_unit")
    open_tab(page, "tab_fund")
    expect(page.locator(".st-key-fund_in .legend")).not_to_contain_text(one_cent)
    open_tab(page, "tab_trajectories")

    # One lever for B during the run: ten fen per bottle from week 3 on. The run goes on (no restart); the change
    # is an event line on the charts, and one-cent money flows into B's fund.
    slider = panel.get_by_role("slider", name="One-cent charity: fen per bottle")
    slider.focus()
    slider.press("End")
    expect(page.locator(".st-key-kpis_B")).to_contain_text("(adjusted)")
    expect(page.get_by_text(re.compile(r"^Week 2 of 260$"))).to_be_visible()
    step(page, 2, 2)
    expect(page.locator(".st-key-traj_response_rate")).to_contain_text("B ▸ 3")
    change = "B from week 3: One-cent charity: fen per bottle → 10"
    expect(page.get_by_test_id("stMarkdownContainer").get_by_text(change)).to_be_visible()  # listed above the charts
    expect(page.locator(".st-key-traj_response_rate .event title")).to_have_text(change)  # the mark's hover text
    open_tab(page, "tab_fund")
    expect(page.locator(".st-key-fund_in .legend")).to_contain_text(one_cent)
    open_tab(page, "tab_trajectories")

    # Government purchase for B from week 5: its public cost rises above A's, on the number and on the chart.
    budget = panel.get_by_role("spinbutton", name=label("lever_gov_budget"))
    budget.fill("400000")
    budget.press("Enter")
    expect(page.locator(".st-key-traj_response_rate")).to_contain_text("B ▸ 5")
    step(page, 2, 4)
    expect(metric_value(page, "B", label("public_cost_run"))).not_to_have_text(
        metric_value(page, "A", label("public_cost_run")).inner_text())
    assert yuan(metric_value(page, "B", label("public_cost_run")).inner_text()) > \
        yuan(metric_value(page, "A", label("public_cost_run")).inner_text())
    path_a, path_b = trace_path(page, "public_cost_run", 0), trace_path(page, "public_cost_run", 1)
    assert path_a and path_b and path_a != path_b

    # Play runs on by itself; Pause stops it.
    before = trace_path(page, "public_cost_run", 1)
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Week ([6-9]|\d\d+) of 260$"))).to_be_visible()
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    paused = week_text(page)
    page.wait_for_timeout(2500)  # a timer left running would advance the week
    assert week_text(page) == paused
    assert trace_path(page, "public_cost_run", 1) != before


def test_csv_download_has_both_runs(ui):
    page = ui.page
    weeks = int(re.match(r"Week (\d+)", week_text(page)).group(1))
    with page.expect_download(timeout=TIMEOUT) as info:
        page.get_by_role("button", name="CSV of both runs").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    table = pd.read_csv(io.BytesIO(Path(download.path()).read_bytes()), encoding="utf-8-sig")
    assert sorted(table["Scenario"].unique()) == ["A", "B"]
    assert (table.groupby("Scenario")["Week"].max() == weeks).all()
    assert set(table["Policy"]) == {"Baseline (no linkage)"}
    assert set(table["Scenario as shown"]) == {"A: Baseline (no linkage)", "B: Baseline (no linkage) (adjusted)"}
    assert {"Response rate (%)", label("fund_balance"), label("lever_gov_budget")} <= set(table.columns)
    assert table.loc[table["Scenario"] == "B", label("lever_gov_budget")].max() == 400_000


def test_language_switch_changes_every_label(ui):
    page = ui.page
    english = ["Key indicators against the plan targets", label("response_rate"), "Trajectories of A and B",
               "Scenario B", "Policy preset", "Step"]
    top(page)
    page.screenshot(path=str(SCREENSHOTS["en"]))
    page.get_by_test_id("stSidebar").get_by_text("中文", exact=True).click()
    expect(page.get_by_role("heading", name="主要指标与规划目标对比")).to_be_visible()
    expect(metric_value(page, "A", label("response_rate", "zh"))).to_be_visible()  # 诉求响应率
    expect(page.get_by_role("button", name="单步", exact=True)).to_be_visible()
    expect(page.locator(".st-key-kpis_B")).to_contain_text("B: 基线（无联动）（已调整）")
    expect(page.locator(".st-key-traj_response_rate .gtitle")).to_have_text(label("response_rate", "zh"))
    expect(page.locator(".st-key-traj_response_rate .xtitle")).to_have_text("周")
    open_tab(page, "tab_fund", "zh")
    expect(page.locator(".st-key-fund_in .gtitle")).to_have_text(label("inflows", "zh"))
    open_tab(page, "tab_linkage", "zh")
    expect(page.locator(".st-key-linkage_handlers .gtitle")).to_have_text(label("handlers_title", "zh"))
    expect(page.locator(".st-key-linkage_handlers .legend")).to_contain_text(label("handler_community_staff", "zh"))
    expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="社区类型")).to_have_value("传统城区社区")
    body = page.locator("body").inner_text()
    for text in english:
        assert not re.search(rf"\b{re.escape(text)}\b", body), f"{text!r} still shown in Chinese"
    with page.expect_download(timeout=TIMEOUT) as info:  # the Chinese page's CSV: Chinese names, rates in per cent
        page.get_by_role("button", name=label("download_csv", "zh")).click()
    table = pd.read_csv(io.BytesIO(Path(info.value.path()).read_bytes()), encoding="utf-8-sig")
    assert {"情景", "周", f"{label('response_rate', 'zh')} (%)"} <= set(table.columns)
    assert table[f"{label('response_rate', 'zh')} (%)"].dropna().between(0, 100).all()
    assert table[f"{label('response_rate', 'zh')} (%)"].max() > 1
    page.wait_for_timeout(1000)  # let the charts settle for the screenshot
    top(page)
    page.screenshot(path=str(SCREENSHOTS["zh"]))
    page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
    expect(page.get_by_role("heading", name="Key indicators against the plan targets")).to_be_visible()
    # the open tab is kept through the switch, by what it shows, not by its label
    expect(page.get_by_role("tab", name=label("tab_linkage"), exact=True)).to_have_attribute("aria-selected", "true")
    open_tab(page, "tab_trajectories")


def test_replicates_show_confidence_bands(ui):
    page = ui.page
    sidebar = page.get_by_test_id("stSidebar")
    units = label("lever_units")
    expect(scenario_panel(page, "B").get_by_role("spinbutton", name=units)).to_have_value("2000")
    choose(page, sidebar, "Community type", "Relocation community")
    # bottles sold a week is a fact about the community: it follows the community's preset on both sides
    for side in ("A", "B"):
        expect(scenario_panel(page, side).get_by_role("spinbutton", name=units)).to_have_value(
            f"{se.policy_levers('baseline', 'relocation')['community.units_per_week']:.0f}")
    weeks = sidebar.get_by_role("spinbutton", name="Weeks to simulate")
    weeks.fill("8")
    weeks.press("Enter")
    expect(page.get_by_text(re.compile(r"^Week 0 of 8$"))).to_be_visible()
    page.get_by_role("button", name="Run 20 seeds").click()
    expect(page.get_by_text("20 seeds (0–19), 8 weeks each.")).to_be_visible(timeout=2 * TIMEOUT)
    expect(page.locator("[class*='st-key-band_'] [data-testid='stPlotlyChart']")).to_have_count(6)
    expect(page.locator(".st-key-band_response_rate .legend")).to_contain_text("95 % band")


def test_replicates_over_parameter_sets_show_the_band_table(ui):
    page = ui.page
    sidebar = page.get_by_test_id("stSidebar")
    choose(page, sidebar, "Community type", "Relocation community")
    weeks = sidebar.get_by_role("spinbutton", name="Weeks to simulate")
    weeks.fill("8")
    weeks.press("Enter")
    expect(page.get_by_text(re.compile(r"^Week 0 of 8$"))).to_be_visible()
    page.get_by_text(label("replicates_parameters"), exact=True).click()
    page.get_by_role("button", name="Run 20 seeds").click()
    expect(page.get_by_text("5 parameter sets × 4 seeds (0–3), 8 weeks each.")).to_be_visible(timeout=2 * TIMEOUT)
    table = page.locator(".st-key-param_bands")
    expect(table).to_contain_text(label("replicates_bands"))
    expect(table).to_contain_text("Sets with the same sign")
    expect(table.get_by_role("row")).to_have_count(1 + 6)  # the header and the six key indicators
    expect(page.locator("[class*='st-key-band_'] [data-testid='stPlotlyChart']")).to_have_count(6)
    # issue 28, item 10: a difference inside its seed interval reads "not distinguishable from seed noise", and its
    # sign's share of sets ("5/5") is not shown beside it (a room read "-0.4 pp, 5 of 5" as "B is reliably worse")
    heads = table.locator("thead th").all_inner_texts()
    assert heads[1] == "What it means", heads
    col = {h: i for i, h in enumerate(heads)}
    noise = 0
    for row in table.locator("tbody tr").all():
        cells = [row.locator("th").first.inner_text(), *row.locator("td").all_inner_texts()]
        mean = abs(float(re.sub(r"[^\d.]", "", cells[col["Mean difference"]]) or 0))
        half = float(re.sub(r"[^\d.]", "", cells[col["Seed interval (95 % t)"]]))
        if mean < half:
            noise += 1
            assert cells[1] == label("band_reading_noise") or mean == 0, cells
            assert cells[col["Sets with the same sign"]] == label("band_sign_within_noise"), cells
        elif mean > half:
            assert cells[1] != label("band_reading_noise"), cells
            assert re.fullmatch(r"\d/5", cells[col["Sets with the same sign"]]), cells
    assert noise, "no difference within its seed interval in this run: the test shows nothing"
    expect(page.get_by_text(label("band_note"))).to_be_visible()


def _settings_shown(page, lang: str, expected: dict) -> None:
    """The page shows ``expected`` (community, seed, per side: fen per bottle, deliberation) in ``lang``."""
    sidebar = page.get_by_test_id("stSidebar")
    # .first: during Play, Streamlit can show a run's new heading while the last run's copy is still there (seen
    # once in a fresh-clone CI run: two headings with one id, a strict-mode violation, not a broken page)
    expect(page.get_by_role("heading", name=label("key_indicators", lang)).first).to_be_visible()
    expect(sidebar.get_by_role("combobox", name=label("community_preset", lang))).to_have_value(
        preset_label("community", expected["community"], lang))
    expect(sidebar.get_by_role("spinbutton", name=label("seed", lang))).to_have_value(str(expected["seed"]))
    for side in ("A", "B"):
        sidebar.get_by_role("tab", name=label(f"scenario_{side}", lang)).click()
        panel = sidebar.get_by_role("tabpanel").filter(visible=True)
        expect(panel.get_by_role("slider", name=label("lever_fen", lang))).to_have_value(str(expected[side]["fen"]))
        expect(panel.get_by_role("switch", name=label("lever_deliberation", lang))).to_be_checked(
            checked=expected[side]["deliberation"])


SLIDER_SETTLE_MS = 1_000  # a trainer's pause after moving a slider: Streamlit debounces slider changes, and a page
# redraw (Play) while the value is being sent can still drop it (the race is in the page, issue #14; 400 ms
# lost one setting in one fresh-clone run on a loaded machine)


def _click_unless_disabled(button) -> None:
    """Click a button as a trainer's hand does: at once, without waiting for the page to hold still (a page
    redrawing its charts during Play on a busy machine can keep moving for many seconds, and Playwright's usual
    wait for a still element then times out). A click on a button that Play has just disabled (Step) does
    nothing, as in a browser."""
    button.click(timeout=ACTION_TIMEOUT, force=True)


def _close_open_list(page) -> None:
    """Close a select box's list left open, as a trainer would: a redraw during Play can move the focus from the
    field just typed in to a select box, and the next Enter opens its list, which makes the rest of the page inert
    until it closes (seen once in a fresh-clone CI run: a tab click then waited 15 s)."""
    if page.get_by_role("listbox").count():
        page.keyboard.press("Escape")
        expect(page.get_by_role("listbox")).to_have_count(0, timeout=ACTION_TIMEOUT)


def _random_action(page, rng: random.Random, action: str, lang: str, expected: dict) -> str:
    """Do ``action`` on the page without waiting for it to redraw; record the setting chosen; return the language."""
    sidebar = page.get_by_test_id("stSidebar")
    if action == "language":
        lang = "en" if lang == "zh" else "zh"
        sidebar.get_by_test_id("stButtonGroup").get_by_text({"zh": "中文", "en": "English"}[lang], exact=True) \
            .click(timeout=ACTION_TIMEOUT)
        expect(page.get_by_role("heading", name=label("key_indicators", lang)).first).to_be_visible()
    elif action == "play":
        page.get_by_role("button", name=re.compile(f"^({label('play', lang)}|{label('pause', lang)})$")) \
            .click(timeout=ACTION_TIMEOUT)
    elif action in ("step", "reset"):
        _click_unless_disabled(page.get_by_role(
            "button", name=label("step_button" if action == "step" else "reset", lang), exact=True))
    elif action in ("fen", "deliberation"):
        side = rng.choice(("A", "B"))
        sidebar.get_by_role("tab", name=label(f"scenario_{side}", lang)).click(timeout=ACTION_TIMEOUT)
        panel = sidebar.get_by_role("tabpanel").filter(visible=True)
        if action == "fen":
            value = rng.choice((0, 10))
            slider = panel.get_by_role("slider", name=label("lever_fen", lang))
            slider.focus(timeout=ACTION_TIMEOUT)
            slider.press("Home" if value == 0 else "End", timeout=ACTION_TIMEOUT)
            expected[side]["fen"] = value
            # A slider sends its value when the key is released and the thumb has settled; a redraw of the page
            # (Play) in that moment can drop the key press in the browser before it reaches the server (seen once
            # in 1,400 actions, issue #14). A trainer's hand is slower: wait until the value is sent.
            expect(slider).to_have_value(str(value), timeout=ACTION_TIMEOUT)
            page.wait_for_timeout(SLIDER_SETTLE_MS)
        else:
            panel.get_by_text(label("lever_deliberation", lang), exact=True).click(timeout=ACTION_TIMEOUT)
            expected[side]["deliberation"] = not expected[side]["deliberation"]
    elif action == "seed":
        expected["seed"] = rng.randrange(0, 50)
        seed = sidebar.get_by_role("spinbutton", name=label("seed", lang))
        seed.fill(str(expected["seed"]), timeout=ACTION_TIMEOUT)
        seed.press("Enter", timeout=ACTION_TIMEOUT)
    else:
        expected["community"] = rng.choice(community_presets())
        name = preset_label("community", expected["community"], lang)
        box = sidebar.get_by_role("combobox", name=label("community_preset", lang))
        choose(page, sidebar, label("community_preset", lang), name)
        # As with the slider: a redraw of the page (Play) just as the option is clicked can close the list before the
        # click reaches it (seen once in three full runs here: the box kept the community before). A trainer sees the
        # box unchanged and chooses again; the checkpoints still require every setting as chosen afterwards.
        try:
            expect(box).to_have_value(name, timeout=3_000)
        except AssertionError:
            choose(page, sidebar, label("community_preset", lang), name)
            expect(box).to_have_value(name, timeout=ACTION_TIMEOUT)
    return lang


# the random-click test's seed; another order of actions: E2E_RANDOM_SEED=3 pytest ... -k any_click
RANDOM_CLICKS_SEED = int(os.environ.get("E2E_RANDOM_SEED", "14"))
# 60 actions, 2 checkpoints (was 200 and 4, 156 s of CI's 15 min, then 90): every kind of action still comes and the
# seed's order still has every kind during Play (the test asserts both); more: E2E_RANDOM_ACTIONS=400
RANDOM_ACTIONS = int(os.environ.get("E2E_RANDOM_ACTIONS", "60"))
CHECKPOINT_EVERY = 30


def test_any_click_order_during_play_never_breaks_the_page(ui):
    """RANDOM_ACTIONS seeded random actions — language, Play/Pause, Step, Reset, levers, seed, community — clicked
    without waiting for the page: no exception, never a blank page, every setting as chosen (checked every
    CHECKPOINT_EVERY actions), language display only, every kind of action done at least once."""
    page, rng = ui.page, random.Random(RANDOM_CLICKS_SEED)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    sidebar = page.get_by_test_id("stSidebar")
    lang = "zh" if page.get_by_role("heading", name=label("key_indicators", "zh")).count() else "en"
    start = {"A": "baseline", "B": "five_society"}
    for side in ("A", "B"):  # known starting levers: each side set to its default preset, whatever came before
        sidebar.get_by_role("tab", name=label(f"scenario_{side}", lang)).click()
        # choosing the preset a side already has changes nothing (no change, no callback), so levers adjusted by an
        # earlier test would stay: choose another preset first (seen once in CI: A left "(adjusted)")
        for preset in ("micro_fund", start[side]):
            choose(page, sidebar.get_by_role("tabpanel").filter(visible=True), label("policy_preset", lang),
                   preset_label("policy", preset, lang))
            expect(page.locator(f".st-key-kpis_{side} [data-testid='stMarkdown']").first).to_have_text(
                f"{side}: {preset_label('policy', preset, lang)}")
        expect(page.locator(f".st-key-kpis_{side} [data-testid='stMarkdown']").first).to_have_text(
            f"{side}: {preset_label('policy', start[side], lang)}")  # the preset's levers, none adjusted
    choose(page, sidebar, label("community_preset", lang), preset_label("community", "urban_traditional", lang))
    weeks = sidebar.get_by_role("spinbutton", name=label("weeks", lang))
    weeks.fill("260")
    weeks.press("Enter")
    expect(page.get_by_text(re.compile(r"(^Week 0 of 260$)|(^第 0 周 / 共 260 周$)"))).to_be_visible()
    page.wait_for_timeout(500)
    expected = {"community": "urban_traditional", "seed": 0,
                "A": {"fen": int(se.policy_levers("baseline")["policy.micro_fund.fen_per_unit"]),
                      "deliberation": se.policy_levers("baseline")["policy.deliberation.enabled"]},
                "B": {"fen": int(se.policy_levers("five_society")["policy.micro_fund.fen_per_unit"]),
                      "deliberation": se.policy_levers("five_society")["policy.deliberation.enabled"]}}
    _settings_shown(page, lang, expected)
    counts: dict[str, int] = {}
    actions = ("language", "play", "play", "step", "reset", "fen", "deliberation", "seed", "community")
    started = time.monotonic()
    history: list[str] = []  # the actions so far, with their start times, for the failure message
    for i in range(RANDOM_ACTIONS):
        action = rng.choice(actions)
        counts[action] = counts.get(action, 0) + 1
        history.append(f"{i} {action} at {time.monotonic() - started:.1f} s")
        try:
            _close_open_list(page)
            lang = _random_action(page, rng, action, lang, expected)
            page.wait_for_timeout(rng.randrange(0, 250))
            assert page.locator("[data-testid='stException']").count() == 0, "an exception is shown"
            if i % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1 or i == RANDOM_ACTIONS - 1:  # a checkpoint: the page is
                # whole and shows the settings as chosen
                assert "Traceback" not in page.locator("body").inner_text()
                expect(page.locator(".st-key-kpis_B [data-testid='stMetric']")).to_have_count(6)
                _settings_shown(page, lang, expected)
        except (AssertionError, PlaywrightError) as exc:
            page.screenshot(path=str(Path(tempfile.gettempdir()) / "five_society_dashboard_random.png"))
            raise AssertionError(f"action {i} ({action}, page in {lang}) after {'; '.join(history[-8:])} "
                                 f"(expected {expected}): {exc}") from exc
    elapsed = time.monotonic() - started
    print(f"{RANDOM_ACTIONS} random actions in {elapsed:.0f} s: {counts}")
    assert not [c for c in console if "delta path" in c.lower() or "exception" in c.lower()], console[:5]
    assert page.locator("[data-testid='stException']").count() == 0
    assert set(counts) == set(actions)


def test_presentation_mode_fits_the_key_numbers_and_the_community_on_a_projector_screen(ui):
    """?present=1 at 1366×768 (a projector), in Chinese: no sidebar; the B − A of the first screen's indicator in large
    type and beside it the community at work, A and B (the model's grids at this week), on the first screen; one click
    shows the indicator's chart there instead, chart text at least 18 px; the key indicators' table below."""
    context = ui.page.context.browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{ui.url}/?lang=zh&present=1")
        expect(page.locator(".st-key-present_readout .present-diff")).to_be_visible()
        expect(page.get_by_test_id("stSidebar")).to_be_hidden()
        page.get_by_role("button", name=label("step_button", "zh"), exact=True).click()
        expect(page.get_by_text(re.compile(r"^第 1 周 / 共 260 周$"))).to_be_visible()
        settled(page)
        readout = page.locator(".st-key-present_readout")
        views = [page.locator(f".st-key-present_cv_{side} .community-view") for side in ("A", "B")]
        for view in views:
            expect(view.locator(".title")).to_contain_text(label("map_week", "zh", week=1))
            assert view.locator("g.grid").count() > 1
            expect(view.locator(".totals")).to_contain_text("本周")
        for box in (readout.bounding_box(), *(v.bounding_box() for v in views)):
            assert box["y"] + box["height"] <= 768 + 1, box  # within the first screen
        expect(readout).to_contain_text(label("response_rate", "zh"))
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "five_society_dashboard_present_zh.png"))
        readout.get_by_text(label("present_panel_chart", "zh"), exact=True).click()
        chart = page.locator(".st-key-present_chart_box .main-svg")
        expect(chart.first).to_be_visible()
        expect(page.locator(".st-key-present_cv")).to_have_count(0)
        page.wait_for_timeout(500)  # plotly draws after the page's run
        box = chart.first.bounding_box()
        assert box["y"] + box["height"] <= 768 + 1, box
        expect(page.locator(".st-key-present_kpis table")).to_contain_text(label("response_rate", "zh"))
        sizes = page.locator(".st-key-present_chart_box .xtick text").evaluate_all(
            "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert sizes and min(sizes) >= 18, sizes
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "five_society_dashboard_present_chart_zh.png"))
    finally:
        context.close()


def test_a_workshop_link_reopens_its_setup_with_the_story_map_and_handout(ui):
    """A link holds the whole setup: ?scenario=purchase with a seed and one lever of B opens the purchase scenario's
    story and "predict first" question in Chinese, with those settings; the prediction closes once the run starts;
    the community map shows the grids; the handout is a one-page PDF with Chinese text."""
    from pypdf import PdfReader

    context = ui.page.context.browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                                  accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{ui.url}/?scenario=purchase&lang=zh&seed=5&B.policy.fund.transparency=0.9")
        story = page.locator(".st-key-workshop_story")
        expect(story).to_contain_text(label("ws_purchase_title", "zh"))
        expect(story).to_contain_text(label("ws_purchase_predict", "zh"))
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar.get_by_role("spinbutton", name=label("seed", "zh"))).to_have_value("5")
        sidebar.get_by_role("tab", name=label("scenario_B", "zh")).click()
        panel = sidebar.get_by_role("tabpanel").filter(visible=True)
        expect(panel.get_by_role("slider", name=label("lever_transparency", "zh"))).to_have_value("0.9")
        assert "scenario=purchase" in page.url and "B.policy.fund.transparency=0.9" in page.url
        story.get_by_text(label("ws_purchase_option_2", "zh")).click()
        settled(page)
        page.get_by_role("button", name=label("step_button", "zh"), exact=True).click()
        expect(page.get_by_text(re.compile(r"^第 1 周 / 共 260 周$"))).to_be_visible()
        settled(page)
        expect(story.get_by_role("radio").first).to_be_disabled()  # predicted before the run, not after
        open_tab(page, "tab_map", "zh")
        expect(page.locator(".st-key-map_A .main-svg").first).to_be_visible()
        expect(page.locator(".st-key-map_B")).to_contain_text(label("map_grid", "zh", n=1))
        with page.expect_download(timeout=TIMEOUT) as info:
            page.get_by_role("button", name=label("download_handout", "zh")).click()
        reader = PdfReader(info.value.path())
        text = unicodedata.normalize("NFKC", reader.pages[0].extract_text())
        assert len(reader.pages) == 1 and label("ws_purchase_title", "zh") in text
        # the room's prediction is on the handout (the PDF's text comes back with full-width commas made narrow)
        assert unicodedata.normalize("NFKC", label("ws_purchase_option_2", "zh")) in re.sub(r"\s", "", text)

        page.goto(f"{ui.url}/?lang=en&community=atlantis")  # a bad link: a message, and the default setup
        expect(page.get_by_text(re.compile(r"This link could not be used: community='atlantis' is unknown"))) \
            .to_be_visible()
        expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name=label("community_preset", "en"))) \
            .to_have_value(preset_label("community", "urban_traditional", "en"))
    finally:
        context.close()


def test_no_request_leaves_the_serving_host(ui):
    """Every request of the page went to the serving host (others were blocked and recorded), plotly included."""
    assert ui.requests, "no request was recorded"
    foreign = sorted({u for u in ui.requests if not u.startswith(("data:", "blob:"))
                      and urlsplit(u).hostname not in LOCAL_HOSTS})
    assert not foreign, f"requests to other hosts: {foreign}"
    assert not [u for u in ui.requests if "cdn.plot.ly" in u or "fonts.googleapis" in u]
    # nor from the server: it made no outbound HTTP(S) request (through requests/urllib) either
    assert not ui.trap.hits, f"the server tried to reach the internet: {ui.trap.hits}"
