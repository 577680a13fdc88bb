"""The workshop kit (dashboard/workshop.py): ready scenarios with their texts, staged changes, the setup in the URL."""

import re

import pytest

from dashboard import session as se
from dashboard.levers import LEVER_OF
from dashboard.workshop import SCENARIOS, BadLink, Setup, from_query, next_stage, setup_of, staged_due, to_query
from sim.settings.config import community_presets, policy_presets
from sim.tables.glossary import label

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_three_ready_scenarios_with_story_question_and_answers_in_both_languages():
    assert set(SCENARIOS) == {"one_cent", "purchase", "full"}
    for sc in SCENARIOS.values():
        assert sc.community in community_presets()
        assert set(sc.policies) == set(se.SIDES) and set(sc.policies.values()) <= set(policy_presets())
        for change in sc.staged:
            assert change.side in se.SIDES and set(change.levers) <= set(LEVER_OF) and 0 < change.week < sc.weeks
        for lang in ("zh", "en"):
            texts = [sc.title(lang), sc.story(lang), sc.question(lang), *sc.answers(lang)]
            assert all(texts) and len(set(sc.answers(lang))) == sc.options
            assert bool(CJK.search(sc.question(lang))) == (lang == "zh") and CJK.search(sc.story("zh"))
        assert all(label(k, "zh") != k for k in sc.watch)
    assert "一分钱" in SCENARIOS["one_cent"].title("zh") and "政府购买服务" in SCENARIOS["purchase"].title("zh")
    assert "五社联动" in SCENARIOS["full"].title("zh")


def test_the_purchase_scenario_starts_buying_services_in_year_two():
    sc = SCENARIOS["purchase"]
    setup = setup_of(sc)
    comp = se.comparison(setup.community, seed=1, steps=60, a=(setup.policies["A"], setup.levers["A"]),
                         b=(setup.policies["B"], setup.levers["B"]))
    assert next_stage(sc, 0) == 52 and next_stage(sc, 53) is None
    comp.step(next_stage(sc, 0))
    for change in staged_due(sc, comp.week):
        comp.change_levers(change.side, change.levers)
    comp.step(8)
    a, b = comp.timeseries("A"), comp.timeseries("B")
    assert (a["public_cost_purchase"] == 0).all()
    assert (b["public_cost_purchase"].iloc[:52] == 0).all() and (b["public_cost_purchase"].iloc[52:] > 0).all()
    assert comp.events("en")[0][:2] == (52, "B")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_link_reopens_the_same_setup(name):
    setup = setup_of(SCENARIOS[name])
    setup.seed = 17
    setup.levers["B"] = {"policy.fund.transparency": 0.35, "policy.moral_bank.enabled": True,
                         "policy.fund.governance": "government_led", "policy.social_work.extra_social_workers": 3}
    query = to_query(setup)
    assert query["scenario"] == name and query["seed"] == "17" and query["B.policy.fund.transparency"] == "0.35"
    back = from_query(query)
    assert (back.community, back.seed, back.weeks, back.policies, back.scenario) == \
        (setup.community, 17, setup.weeks, setup.policies, name)
    for side in se.SIDES:  # the same runs: the scenario settings built from the link equal the original's
        original = se.scenario(side, setup.community, setup.policies[side], setup.levers[side], 17, setup.weeks)
        reopened = se.scenario(side, back.community, back.policies[side], back.levers[side], back.seed, back.weeks)
        assert reopened.overrides == original.overrides


def test_a_link_with_only_a_scenario_opens_it_and_an_empty_link_the_defaults():
    assert from_query({"scenario": "one_cent"}).community == SCENARIOS["one_cent"].community
    assert from_query({}) == Setup()
    assert to_query(Setup()) == {"community": se.DEFAULT_COMMUNITY, "seed": "0", "weeks": str(se.DEFAULT_WEEKS),
                                 **se.DEFAULT_POLICIES}


@pytest.mark.parametrize("params,named", [
    ({"community": "atlantis"}, "community='atlantis' is unknown (allowed: "),
    ({"seed": "-1"}, "seed=-1 is out of range"),
    ({"seed": "abc"}, "seed='abc' is not a whole number"),
    ({"weeks": "0"}, "weeks=0 is out of range (allowed: 1–520)"),
    ({"A": "utopia"}, "A='utopia' is unknown (allowed: baseline"),
    ({"B.policy.fund.transparency": "1.5"}, "B.policy.fund.transparency=1.5 is out of range"),
    ({"B.policy.micro_fund.fen_per_unit": "-3"}, "is out of range"),
    ({"B.policy.moral_bank.enabled": "maybe"}, "is not on or off (allowed: true, false)"),
    ({"B.policy.fund.governance": "ANARCHY"}, "is unknown (allowed: "),
    ({"A.policy.nothing": "1"}, "'policy.nothing' is not a lever of the page"),
    ({"colour": "red"}, "'colour' is not a setting of the page"),
    ({"scenario": "party"}, "scenario='party' is unknown (allowed: one_cent, purchase, full)"),
    # allowed by the schema, beyond the slider (issue 29: the page stopped with StreamlitValueAboveMaxError)
    ({"B.policy.micro_fund.fen_per_unit": "20"}, "B.policy.micro_fund.fen_per_unit=20 is out of range "
                                                 "(allowed: 0–10)"),
    ({"B.policy.fund.government_match_ratio": "5"}, "government_match_ratio=5 is out of range (allowed: 0–2)"),
    ({"A.policy.moral_bank.points_per_activity": "500"}, "points_per_activity=500 is out of range (allowed: 0–50)"),
])
def test_a_bad_link_is_refused_naming_the_key_and_the_allowed_values(params, named):
    with pytest.raises(BadLink) as err:
        from_query(params)
    assert named in str(err.value)


def test_a_link_holds_levers_moved_after_the_last_week_as_a_change_at_that_week():
    """B@<weeks>.<lever>: a lever moved after the run ended (the next run's); a later week is outside the run."""
    query = {"weeks": "10", "B": "baseline", "B@10": "baseline", "B@10.policy.fund.transparency": "0.35"}
    setup = from_query(query)
    assert [(c.week, c.side, c.policy, c.levers) for c in setup.changes] == \
        [(10, "B", "baseline", {"policy.fund.transparency": 0.35})]
    assert to_query(setup) == {"community": setup.community, "seed": "0", **query, "A": "baseline"}
    with pytest.raises(BadLink, match=r"B@11: week 11 is not inside the run \(allowed: 1–10\)"):
        from_query({**query, "B@11": "baseline"})
