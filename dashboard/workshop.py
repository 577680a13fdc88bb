"""The workshop kit: three ready scenarios for a 90-minute session, and the page's setup in its URL.

A scenario is a setup of the page (community, policies and levers of A and B, weeks) with a short story, a
question the room answers *before* pressing Play, and optionally a lever change staged at a week (a trainer's
"in year 2 the street office starts buying services"). Its texts are rows of the glossary
(``ws_<name>_title``, ``_story``, ``_predict``, ``_option_<n>``), in Chinese and English.

The URL holds the whole setup (``?community=…&seed=…&weeks=…&A=…&B=…&B.policy.fund.transparency=0.9``: the
levers that differ from the side's preset at week 0) and the lever changes made during the run with their weeks
(``B@52=baseline&B@52.policy.gov_purchase.budget_yuan_per_year=200000``: B's policy preset after the change made at
week 52, in force from week 53, and the levers it moved; ``B@260…`` in a run of 260 weeks: levers moved after the run
ended, set again when the replay ends, for the next run), so a link reopens the same page and replays the same
run; :func:`from_query` refuses a bad link with a message (in the page's language, :meth:`BadLink.text`) naming the
key and the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.levers import LEVER_OF, clean_value, lever_options, same_value, widget_bounds
from dashboard.session import (
    DEFAULT_COMMUNITY,
    DEFAULT_POLICIES,
    DEFAULT_WEEKS,
    MAX_WEEKS,
    SIDES,
    policy_levers,
)
from sim.settings.config import community_presets, policy_presets
from sim.tables.glossary import label

WEEKS_RANGE = (1, MAX_WEEKS)
SEED_RANGE = (0, 2**32 - 1)  # as the seed box of the page


@dataclass(frozen=True)
class Staged:
    """A lever change the scenario makes at ``week`` (in force from the next week), as a trainer would."""

    week: int
    side: str
    levers: dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """A ready setup of the page with its story (texts in the glossary under ``ws_<name>_…``)."""

    name: str
    community: str
    policies: dict[str, str]
    levers: dict[str, dict[str, Any]] = field(default_factory=dict)  # per side: levers that differ from the preset
    staged: tuple[Staged, ...] = ()
    weeks: int = DEFAULT_WEEKS
    options: int = 3      # answers offered to the "predict first" question
    watch: tuple[str, ...] = ()  # the indicators the story is about (key indicators, or keys of RUN_SUMS)
    focus: str = "response_rate"  # the key indicator of presentation mode's large chart
    titles: dict[str, str] = field(default_factory=dict)  # side -> glossary key of its name (where the preset misleads)

    def title(self, lang: str) -> str:
        return label(f"ws_{self.name}_title", lang)

    def story(self, lang: str) -> str:
        return label(f"ws_{self.name}_story", lang)

    def question(self, lang: str) -> str:
        return label(f"ws_{self.name}_predict", lang)

    def answers(self, lang: str) -> list[str]:
        return [label(f"ws_{self.name}_option_{i}", lang) for i in range(1, self.options + 1)]


PURCHASE = "policy.gov_purchase.budget_yuan_per_year"
SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    # 004: 渔箭社区 with 春泉酒业, "企业每售卖一瓶酒，向社区微基金捐赠1分钱"
    Scenario("one_cent", "industrial_park", {"A": "baseline", "B": "micro_fund"},
             watch=("ws_one_cent_income", "ws_needy_spending", "response_rate"), focus="response_rate"),
    # 003 政府购买服务: the street office starts buying services from social organisations in year 2
    # (200,000 yuan a year: the gov_purchase preset's budget, an assumption)
    Scenario("purchase", "urban_traditional", {"A": "baseline", "B": "baseline"},
             staged=(Staged(52, "B", {PURCHASE: 200_000}),),
             watch=("completion_rate", "response_rate", "public_cost_run"), focus="completion_rate",
             titles={"B": "ws_purchase_B"}),
    # 003/004: the whole linkage in an organised urban community (顺河型)
    Scenario("full", "organised_urban", {"A": "baseline", "B": "five_society"},
             watch=("volunteers_per_10k", "response_rate", "public_cost_run"), focus="response_rate"),
)}
# What a reveal shows that is no key indicator: glossary key -> the weekly column summed over the run
RUN_SUMS = {"ws_one_cent_income": "fund_inflow_enterprise_per_unit",
            "ws_needy_spending": "fund_outflow_needy_residents"}


# ---------------------------------------------------------------------------------------------
# The setup in the URL
# ---------------------------------------------------------------------------------------------
@dataclass
class Setup:
    """What the page runs: community, seed, weeks, and per side the policy preset and the levers that differ."""

    community: str = DEFAULT_COMMUNITY
    seed: int = 0
    weeks: int = DEFAULT_WEEKS
    policies: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    levers: dict[str, dict[str, Any]] = field(default_factory=lambda: {side: {} for side in SIDES})
    scenario: str | None = None
    # lever changes during the run, in the order made; one at the last week (``weeks``) is no change of the run: the
    # levers moved after it ended, which the next run starts from (Reset)
    changes: list[Change] = field(default_factory=list)


@dataclass
class Change:
    """A lever change of one side made at ``week`` (in force from the next week): the side's policy preset after it
    and the levers it moved (a link replays it, dashboard.workshop_page)."""

    week: int
    side: str
    policy: str
    levers: dict[str, Any] = field(default_factory=dict)


class BadLink(ValueError):
    """A URL parameter the page cannot use; the message names it and the allowed values (``str()``: English;
    :meth:`text`: in the page's language, from the glossary's ``link_<kind>`` rows)."""

    def __init__(self, kind: str, name: str, value: Any = "", allowed: str = "") -> None:
        self.kind, self.fields = kind, {"name": name, "value": value, "allowed": allowed}
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        return label(f"link_{self.kind}", lang, **self.fields)


def _int(params: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    if key not in params:
        return default
    text = params[key]
    try:
        value = int(text)
    except ValueError:
        raise BadLink("whole", key, repr(text), f"{lo}–{hi}") from None
    if not lo <= value <= hi:
        raise BadLink("range", key, value, f"{lo}–{hi}")
    return value


def _choice(params: Mapping[str, str], key: str, default: str, allowed: list[str]) -> str:
    value = params.get(key, default)
    if value not in allowed:
        raise BadLink("unknown", key, repr(value), ", ".join(allowed))
    return value


def lever_value(key: str, text: str, name: str | None = None) -> Any:
    """A lever's value from its URL text, in the parameter's type and range (errors name the URL key ``name``)."""
    lever = LEVER_OF[key]
    key = name or key
    if lever.widget == "toggle":
        if text.lower() not in ("true", "false", "1", "0"):
            raise BadLink("onoff", key, repr(text))
        return text.lower() in ("true", "1")
    if lever.widget == "select":
        options = lever_options(lever)
        if text not in options:
            raise BadLink("unknown", key, repr(text), ", ".join(options))
        return text
    # the widget's bounds (within the schema's range): a value the schema allows but the slider cannot show
    # would stop the page (Streamlit's StreamlitValueAboveMaxError)
    lo, hi = widget_bounds(lever)
    try:
        value = float(text)
    except ValueError:
        raise BadLink("number", key, repr(text), f"{_text(lo)}–{_text(hi)}") from None
    if not lo <= value <= hi:
        raise BadLink("range", key, text, f"{_text(lo)}–{_text(hi)}")
    return clean_value(lever, value)


def from_query(params: Mapping[str, str]) -> Setup:
    """The setup a link describes (missing keys take the defaults, or the scenario's values)."""
    scenario = params.get("scenario")
    if scenario is not None and scenario not in SCENARIOS:
        raise BadLink("unknown", "scenario", repr(scenario), ", ".join(SCENARIOS))
    base = setup_of(SCENARIOS[scenario]) if scenario else Setup()
    setup = Setup(
        community=_choice(params, "community", base.community, community_presets()),
        seed=_int(params, "seed", base.seed, *SEED_RANGE),
        weeks=_int(params, "weeks", base.weeks, *WEEKS_RANGE),
        policies={side: _choice(params, side, base.policies[side], policy_presets()) for side in SIDES},
        levers={side: dict(base.levers[side]) if params.get(side, base.policies[side]) == base.policies[side]
                else {} for side in SIDES},
        scenario=scenario)
    known = {"community", "seed", "weeks", "scenario", "lang", "present", *SIDES}
    changes: dict[tuple[int, str], Change] = {}
    for key, text in params.items():
        head, _, lever = key.partition(".")
        side, at, week_text = head.partition("@")
        if side in SIDES and lever and lever not in LEVER_OF:
            raise BadLink("not_lever", repr(key), repr(lever), ", ".join(LEVER_OF))
        if side in SIDES and at:  # a lever change during the run: A@52=<policy>, A@52.<lever>=<value>
            week = int(week_text) if week_text.isdigit() else 0
            # made at week w, in force from w + 1: inside the run; at the last week: the levers of the next run
            if not 1 <= week <= setup.weeks:
                raise BadLink("change_week", key, week_text, setup.weeks)
            change = changes.setdefault((week, side), Change(week, side, ""))
            if lever:
                change.levers[lever] = lever_value(lever, text, key)
            else:
                change.policy = _choice({key: text}, key, "", policy_presets())
        elif side in SIDES and lever:
            setup.levers[side][lever] = lever_value(lever, text, key)
        elif key not in known:
            raise BadLink("not_setting", repr(key), "", ", ".join(sorted(known)))
    for (week, side), change in sorted(changes.items()):
        if not change.policy:
            raise BadLink("unknown", f"{side}@{week}", "''", ", ".join(policy_presets()))
        setup.changes.append(change)
    return setup


def to_query(setup: Setup) -> dict[str, str]:
    """The URL parameters of ``setup``: every choice, and the levers that differ from each side's preset."""
    out = {"community": setup.community, "seed": str(setup.seed), "weeks": str(setup.weeks)}
    if setup.scenario:
        out["scenario"] = setup.scenario
    for side in SIDES:
        out[side] = setup.policies[side]
        preset = policy_levers(setup.policies[side], setup.community)
        for key, value in setup.levers[side].items():
            if not same_value(value, preset[key]):
                out[f"{side}.{key}"] = _text(value)
    for change in setup.changes:  # changes of one side at one week merge (the later value of a lever holds)
        head = f"{change.side}@{change.week}"
        out[head] = change.policy
        for key, value in change.levers.items():
            out[f"{head}.{key}"] = _text(value)
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def setup_of(scenario: Scenario) -> Setup:
    """The page's setup at the start of ``scenario`` (its staged changes come during the run)."""
    return Setup(community=scenario.community, weeks=scenario.weeks, policies=dict(scenario.policies),
                 levers={side: dict(scenario.levers.get(side, {})) for side in SIDES}, scenario=scenario.name)


def staged_due(scenario: Scenario | None, week: int) -> list[Staged]:
    """The scenario's staged changes made at ``week``."""
    return [s for s in (scenario.staged if scenario else ()) if s.week == week]


def next_stage(scenario: Scenario | None, week: int) -> int | None:
    """The week of the scenario's next staged change at or after ``week`` (Play stops its stride there)."""
    weeks = [s.week for s in (scenario.staged if scenario else ()) if s.week >= week]
    return min(weeks) if weeks else None
