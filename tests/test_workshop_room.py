"""Issue 28, items 1–10 below the browser: the link's lever changes and their replay, the reveal, the names of the
sides, changes after the last week, the zh texts of bad links and sources, money totals, where volunteers act.
The browser tests of the same items are in tests/test_workshop_room_e2e.py."""

from __future__ import annotations

import re

import pytest

from dashboard import figures
from dashboard import session as se
from dashboard.indicators import shown_value
from dashboard.levers import lever_guide, lever_meta
from dashboard.workshop import SCENARIOS, BadLink, Change, from_query, setup_of, to_query
from sim.tables.glossary import GLOSSARY, label

SMALL = "relocation"  # 1,500 residents: quick
BUDGET = "policy.gov_purchase.budget_yuan_per_year"
FEN = "policy.micro_fund.fen_per_unit"
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


def _replay(setup, weeks: int) -> se.Comparison:
    """A comparison built from a link's setup and stepped ``weeks`` weeks, its changes made at their weeks (as the
    page's stage() does)."""
    comp = se.comparison(setup.community, setup.seed, setup.weeks, (setup.policies["A"], setup.levers["A"]),
                         (setup.policies["B"], setup.levers["B"]))
    pending = list(setup.changes)
    while comp.week < weeks:
        comp.step(min([weeks, *(c.week for c in pending if c.week > comp.week)]) - comp.week)
        for change in [c for c in pending if c.week == comp.week]:
            comp.change_scenario(change.side, change.policy, {**comp.scenarios[change.side].levers, **change.levers})
            pending.remove(change)
    return comp


def test_a_link_holds_the_lever_changes_with_their_weeks_and_replays_the_same_run():
    """Item 1: levers moved at weeks 3 and 6 come back as changes at weeks 3 and 6 (not from week 0), and the
    reopened run equals the original week for week."""
    comp = se.comparison(SMALL, seed=4, steps=10, a=("baseline", {}), b=("baseline", {}))
    comp.step(3)
    comp.change_levers("B", {BUDGET: 400_000})
    comp.step(3)
    comp.change_scenario("B", "micro_fund", {**comp.scenarios["B"].levers, FEN: 5})
    comp.step(4)
    start = comp.initial
    setup = setup_of(SCENARIOS["purchase"])
    setup.community, setup.seed, setup.weeks, setup.scenario = SMALL, 4, 10, None
    setup.levers = {s: dict(start[s].levers) for s in se.SIDES}
    setup.changes = [Change(c.week, c.side, c.policy, dict(c.changed)) for c in comp.changes]
    query = to_query(setup)
    assert query["B@3"] == "baseline" and query[f"B@3.{BUDGET}"] == "400000"
    assert query["B@6"] == "micro_fund" and query[f"B@6.{FEN}"] == "5"
    assert f"B.{BUDGET}" not in query  # the budget B started with is the preset's: not 400,000 from week 0
    back = from_query(query)
    assert [(c.week, c.side, c.policy) for c in back.changes] == [(3, "B", "baseline"), (6, "B", "micro_fund")]
    again = _replay(back, 10)
    assert again.events("en") == comp.events("en")
    for side in se.SIDES:
        assert again.timeseries(side).equals(comp.timeseries(side))
    # the values in force at the end, taken for week 0 (what the old link did), give another run
    wrong = se.comparison(SMALL, 4, 10, ("baseline", {}), ("micro_fund", comp.scenarios["B"].levers))
    wrong.step(10)
    assert wrong.timeseries("B")["public_cost"].sum() != comp.timeseries("B")["public_cost"].sum()


def test_the_purchase_scenario_past_week_52_reopens_with_its_change_at_week_52():
    """Item 1 as found: the purchase scenario's link after week 52 starts B without the budget, changed at week 52."""
    setup = setup_of(SCENARIOS["purchase"])
    setup.changes = [Change(52, "B", "baseline", {BUDGET: 200_000})]
    back = from_query(to_query(setup))
    assert back.levers["B"] == {} and back.scenario == "purchase"
    assert [(c.week, c.side, c.levers) for c in back.changes] == [(52, "B", {BUDGET: 200_000})]


@pytest.mark.parametrize("params,named", [
    ({"B@0": "baseline"}, "B@0: week 0 is not inside the run (allowed: 1–260)"),
    # the last week (20) holds levers moved after the run ended: a later one is outside
    ({"weeks": "20", "B@21": "baseline"}, "B@21: week 21 is not inside the run (allowed: 1–20)"),
    ({"A@x.policy.fund.transparency": "0.5", "A@x": "baseline"}, "week x is not inside the run"),
    ({f"B@5.{BUDGET}": "1000"}, "B@5=''"),  # a change needs its policy preset
    ({"B@5": "utopia"}, "B@5='utopia' is unknown"),
    ({"B@5": "baseline", "B@5.policy.nothing": "1"}, "'policy.nothing' is not a lever of the page"),
    ({"B@5": "baseline", f"B@5.{BUDGET}": "-1"}, "is out of range"),
])
def test_a_bad_change_in_a_link_is_refused_naming_it(params, named):
    with pytest.raises(BadLink) as err:
        from_query(params)
    assert named in str(err.value)


@pytest.mark.parametrize("params", [{"community": "nowhere"}, {"seed": "x"}, {"weeks": "0"}, {"colour": "red"},
                                    {"B.policy.moral_bank.enabled": "maybe"}, {"B.policy.fund.transparency": "x"},
                                    {"A.policy.nothing": "1"}, {"B@0": "baseline"}])
def test_a_bad_link_reads_in_chinese_in_the_zh_view(params):
    """Item 9: the message names the key and the allowed values in the page's language."""
    with pytest.raises(BadLink) as err:
        from_query(params)
    zh = err.value.text("zh")
    key = next(iter(params)).split(".")[0]
    assert key.split("@")[0] in zh and re.search(r"[\u4e00-\u9fff]", zh)
    assert not re.search(r"is unknown|out of range|not a|allowed|levers:", zh), zh
    assert err.value.text("en") == str(err.value)


def test_the_lever_guide_has_no_english_notes_in_chinese():
    """Item 9: the 依据 notes of the zh guide are Chinese (the schema's English sources have glossary rows, whose
    English is the schema's text)."""
    for row in lever_guide("zh"):
        words = ENGLISH_WORD.findall(re.sub(r"docs/literature\.md", "", row["source"]))
        assert not words or row["source"] == "assumption", (row["key"], row["source"])
        if f"source:{row['key']}" in GLOSSARY:
            assert label(f"source:{row['key']}", "en") == lever_meta(row["key"])["source"]


def test_a_side_named_by_the_scenario_and_after_the_last_week_no_change():
    """Items 5 and 8: the purchase scenario's B is 政府购买服务 in every name; a lever moved after the last week is
    not a change of the run (no event, no new shared run), but the next run's lever."""
    comp = se.comparison(SMALL, seed=1, steps=4, a=("baseline", {}), b=("baseline", {}))
    comp.titles = dict(SCENARIOS["purchase"].titles)
    comp.step(2)
    comp.change_levers("B", {BUDGET: 200_000})
    assert comp.names("zh")["B"] == "B: 政府购买服务" and comp.names("en")["B"] == "B: Government purchase of services"
    assert "已调整" not in comp.names("zh")["B"] and comp.names("zh")["A"] == "A: 基线（无联动）"
    comp.step(2)
    key, events = comp.key, comp.events("zh")
    assert comp.change_levers("B", {BUDGET: 400_000}) is True
    assert comp.events("zh") == events and comp.key == key and len(comp.changes) == 1
    comp.reset()  # the next run starts from the lever moved after the end
    assert comp.initial["B"].levers[BUDGET] == 400_000


def test_the_one_cent_reveal_shows_the_income_and_care_of_the_needy_over_the_run():
    """Items 3 and 10: the reveal of the one-cent scenario gives the one-cent income and the money spent on care of
    the needy, summed over the run, labelled weeks 1–N (not "last 52 weeks"), not the fund balance."""
    from dashboard.workshop_page import reveal_parts

    sc = SCENARIOS["one_cent"]
    setup = setup_of(sc)
    comp = se.comparison(setup.community, 0, 60, (setup.policies["A"], {}), (setup.policies["B"], {}))
    comp.step(60)
    parts = reveal_parts(comp, sc.watch, "zh")
    b = comp.timeseries("B")
    income, needy = b["fund_inflow_enterprise_per_unit"].sum(), b["fund_outflow_needy_residents"].sum()
    assert income > 0 and needy > 0
    shown_income = shown_value("fund_inflow_enterprise_per_unit", income, "zh", total=True)
    shown_needy = shown_value("fund_outflow_needy_residents", needy, "zh", total=True)
    assert parts[0].startswith("一分钱公益收入（第1–60周）") and parts[0].endswith(f"B {shown_income}")
    assert parts[1].startswith("微基金用于困难群众帮扶（第1–60周）") and f"B {shown_needy}" in parts[1]
    assert parts[2].startswith("诉求响应率（最近52周）")
    assert not any("余额" in p for p in parts)
    cost = reveal_parts(comp, ("public_cost_run",), "en")[0]
    assert cost.startswith("Public cost over the run (weeks 1–60)") and "last 52" not in cost


def test_money_over_the_run_is_shown_as_booked_in_round_yuan():
    """Item 10: a six-figure total is shown to the nearest ¥100 (¥1,099,999 was the model losing a fen a week, fixed
    in 0.3.0: contracts pay their budget to the fen); weekly amounts and balances keep whole yuan."""
    assert shown_value("public_cost_run", 1_099_999.0) == "¥1,100,000"
    assert shown_value("public_cost_run", 13_004.0) == "¥13,000"
    assert shown_value("public_cost_run", 4_615.38) == "¥4,615"
    assert shown_value("fund_balance", 12_345.6) == "¥12,346"


def test_where_volunteers_act_comes_from_the_weekly_columns():
    """Item 6: the linkage tab's volunteer chart sums the model's weekly columns over the last 52 weeks."""
    comp = se.comparison(SMALL, 0, 60, ("baseline", {}), ("five_society", {}))
    comp.step(60)
    ts = comp.timeseries()
    fig = figures.volunteers_figure(ts, comp.names("zh"), "zh")
    bars = {trace["name"]: trace["x"] for trace in fig["data"]}
    assert set(bars) == {label(k, "zh") for k in figures.VOLUNTEER_ACTS}
    b = ts[ts["scenario"] == "B"].tail(52)
    for key, col in figures.VOLUNTEER_ACTS.items():
        assert bars[label(key, "zh")][1] == pytest.approx(float(b[col].sum()))
    acts = sum(bars[label(k, "zh")][1] for k in ("volunteer_activities", "member_activities", "project_sessions"))
    assert acts > 0  # volunteers act, whether or not a demand is passed to them
