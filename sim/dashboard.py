"""What the workshop dashboard (sim/app.py) computes, without a browser and without Streamlit.

The page compares two scenarios, A and B, of one community run with the same seed (common random
numbers, see sim/model.py): it builds their settings from the same Hydra configs as the command
line (:func:`scenario`), steps both models together (:class:`Comparison`), reports the key
indicators against the Enyang plan targets (:func:`key_indicators`), draws the charts (plotly for
the page, matplotlib/seaborn for PNG export), writes the CSV of both runs, and runs replicates
over 20 seeds with 95 % confidence bands (:func:`run_replicates`).  Every function here is tested
in tests/test_dashboard.py; the page only lays them out.

Labels: model outputs and plan terms come from sim/glossary.py (``label``); the page's own words
are in :data:`UI_TERMS` below, in English and Chinese, so that a Chinese label is written once.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from experiments.presentation import CJK_FONTS, find_cjk_font  # one font search for all charts
from sim.agents import INFLOW_SOURCES, OUTFLOW_USES
from sim.config import Governance, SimConfig, check_ranges, schema_fields, settings_for
from sim.glossary import COLUMNS, INFLOW_LABELS, OUTFLOW_LABELS, label
from sim.indicators import TARGETS, Target, compute_kpis, met
from sim.model import CommunityModel

LANGS = ("zh", "en")
SIDES = ("A", "B")
DEFAULT_COMMUNITY = "urban_traditional"
DEFAULT_POLICIES = {"A": "baseline", "B": "five_society"}
DEFAULT_WEEKS = 260
MAX_WEEKS = 520
REPLICATE_SEEDS = 20
# The key indicators of the page, in display order (sim/glossary.COLUMNS keys).
KEY_INDICATORS = ("volunteers_per_10k", "response_rate", "completion_rate", "satisfaction_mean",
                  "social_orgs_active", "fund_balance")
TARGET_OF: dict[str, Target] = {t.key: t for t in TARGETS}
# Scenario colours (seaborn's colour-blind palette: blue, orange) and line styles, distinct in greyscale.
COLORS = {"A": "#0173B2", "B": "#DE8F05"}
PLOTLY_DASH = {"A": "solid", "B": "dash"}
MPL_STYLE = {"A": ("-", "o"), "B": ("--", "s")}
# The page's font list: Streamlit's bundled Latin font, then the system's CJK fonts (no web fonts).
FONT_STACK = ('"Source Sans", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
              'sans-serif')

# ---------------------------------------------------------------------------------------------
# Words of the page.  This extends sim/glossary.TERMS (labels of terms) with the dashboard's own
# words: controls, titles, messages and a plain-language explanation of each lever.  Model outputs
# keep their labels in sim/glossary.py (COLUMNS, INFLOW_LABELS, OUTFLOW_LABELS) — look them up with
# ``tr`` or ``sim.glossary.label``.  key: (English, Chinese)
# ---------------------------------------------------------------------------------------------
UI_TERMS: dict[str, tuple[str, str]] = {
    # page and controls
    "app_title": ("Five-society linkage: comparing two scenarios", "五社联动社区治理仿真：两个情景对比"),
    "app_intro": ("One community, two policy scenarios A and B, run week by week with the same random seed: "
                  "the same residents and the same demands, so any difference comes from the levers.",
                  "同一个社区、两个政策情景A和B，用同一随机种子逐周运行：居民和诉求完全相同，"
                  "因此两者的差别只来自政策杠杆。"),
    "language": ("Language", "语言"),
    "settings": ("Settings", "设置"),
    "community_preset": ("Community type", "社区类型"),
    "weeks": ("Weeks to simulate", "模拟周数"),
    "weeks_help": ("260 weeks = one five-year plan. Changing it restarts both runs.",
                   "260周＝一个五年规划期。修改后两个情景重新开始。"),
    "seed_help": ("Both scenarios use this seed: same residents, same demands. Changing it restarts both runs.",
                  "两个情景使用同一随机种子：居民和诉求相同。修改后两个情景重新开始。"),
    "scenario_A": ("Scenario A", "情景A"),
    "scenario_B": ("Scenario B", "情景B"),
    "policy_preset": ("Policy preset", "政策方案"),
    "policy_preset_help": ("Choosing a preset sets every lever below to the preset's values; then adjust any lever.",
                           "选择方案会把下面各项杠杆设为该方案的取值，之后可再逐项调整。"),
    "levers": ("Policy levers", "政策杠杆"),
    "adjusted": (" (adjusted)", "（已调整）"),
    "step_button": ("Step", "单步"),
    "step_help": ("Advance both scenarios by one week.", "两个情景各推进一周。"),
    "play": ("Play", "播放"),
    "pause": ("Pause", "暂停"),
    "reset": ("Reset", "重置"),
    "reset_help": ("Back to week 0 with the current settings.", "按当前设置回到第0周。"),
    "speed": ("Speed (weeks per second)", "播放速度（周/秒）"),
    "week_of": ("Week {week} of {steps}", "第 {week} 周 / 共 {steps} 周"),
    "restarted": ("Settings changed: both scenarios restarted at week 0.", "设置已更改：两个情景已从第0周重新开始。"),
    "finished": ("Both scenarios have reached the last week. Press Reset to start again.",
                 "两个情景均已运行到最后一周。点击“重置”可重新开始。"),
    "not_started": ("Week 0: press Step or Play to run both scenarios.", "第0周：点击“单步”或“播放”运行两个情景。"),
    # indicators
    "key_indicators": ("Key indicators against the plan targets", "主要指标与规划目标对比"),
    "kpi_note": ("Rates over the last 52 weeks, stocks at the current week; targets from the Enyang "
                 "14th Five-Year Plan (专栏1).",
                 "比率按最近52周计算，存量按当前周计；目标值取自恩阳区“十四五”社区发展治理规划专栏1。"),
    "met_yes": ("met", "达标"),
    "met_no": ("not met", "未达标"),
    "no_target": ("no plan target", "无规划目标"),
    "trajectories": ("Trajectories of A and B", "情景A与B的指标走势"),
    "fund_flows": ("The fund: where the money comes from and where it goes (cumulative)",
                   "微基金：资金从哪里来、到哪里去（累计）"),
    "fund_node": ("Community micro-fund", "社区微基金"),
    "balance_node": ("Balance kept", "结余"),
    "no_money": ("No money has flowed through the fund yet.", "微基金尚无资金进出。"),
    "inflows": ("Income by source", "收入来源"),
    "outflows": ("Spending by use", "支出用途"),
    "yuan": ("yuan", "元"),
    "percent": ("per cent", "百分比"),
    "unit_per_10k": ("per 10,000 residents", "每万人"),
    "unit_orgs": ("organisations", "组织（个）"),
    # export
    "export": ("Export", "导出"),
    "download_csv": ("CSV of both runs", "两个情景数据（CSV）"),
    "download_png_indicators": ("Indicator charts (PNG)", "指标图（PNG）"),
    "download_png_fund": ("Fund charts (PNG)", "微基金图（PNG）"),
    "download_png_replicates": ("Replicate charts (PNG)", "重复实验图（PNG）"),
    "download_csv_replicates": ("CSV of the replicates", "重复实验数据（CSV）"),
    # replicates
    "replicates": ("Replicates over 20 seeds", "20个随机种子的重复实验"),
    "replicates_intro": ("One run can be lucky or unlucky. Run A and B for 20 seeds (the same seeds for both) and "
                         "see the mean with its 95 % confidence band.",
                         "单次运行可能偶然偏高或偏低。用20个随机种子（A、B相同）各运行一次，"
                         "查看均值及其95%置信区间。"),
    "run_replicates": ("Run 20 seeds", "运行20个随机种子"),
    "replicates_progress": ("Running {done} of {total} runs…", "正在运行第 {done}/{total} 次……"),
    "replicates_done": ("{n} seeds ({first}–{last}), {weeks} weeks each.",
                        "{n}个随机种子（{first}–{last}），各{weeks}周。"),
    "replicates_stale": ("The settings changed since these replicates were run; run them again.",
                         "重复实验之后设置已更改，请重新运行。"),
    "band_title": ("{indicator}: mean and 95 % band over {n} seeds", "{indicator}：{n}个种子的均值及95%区间"),
    "band": ("95 % band", "95%区间"),
    # explanations and reproducibility
    "lever_guide": ("What the levers do", "各项政策杠杆说明"),
    "config_key": ("config key", "参数名"),
    "allowed_range": ("allowed range", "取值范围"),
    "source": ("source", "依据"),
    "cli": ("The same runs on the command line", "在命令行中复现这两个情景"),
    "on": ("on", "开"),
    "off": ("off", "关"),
    "governance_government_led": ("government-led", "政府主导"),
    "governance_market_led": ("market-led", "市场主导"),
    "governance_resident_led": ("resident-led", "居民主导"),
    # levers: a label (with unit) and a plain-language explanation (_help), from docs/sources.md
    "lever_fen": ("One-cent charity: fen per bottle", "一分钱公益：每瓶捐赠（分）"),
    "lever_fen_help": (
        "For every bottle a local enterprise sells, it gives this many fen (1 fen = 0.01 yuan) to the community "
        "micro-fund. In Yujian community the liquor maker Chunquan gives 1 fen a bottle, spent on care and help "
        "for residents in need (Qionglai report, 004).",
        "驻区企业每卖出一瓶产品，向社区微基金捐赠若干分钱（1分＝0.01元）。邛崃渔箭社区与春泉酒业合作，"
        "每卖一瓶酒捐1分钱，用于贴心关爱帮扶（邛崃报告，004）。"),
    "lever_gov_budget": ("Government purchase of services (yuan per year)", "政府购买服务（元/年）"),
    "lever_gov_budget_help": (
        "Each year the government pays social organisations under service contracts, so more demands that need "
        "professionals get answered. The Enyang plan (003) puts community services in the purchase catalogue; "
        "the amount is a model assumption.",
        "政府每年通过合同向社会组织购买服务，需要专业力量的诉求因此能得到更多办理。恩阳区规划（003）"
        "要求将社区治理服务纳入政府购买服务目录；金额为模型假设。"),
    "lever_moral_bank": ("Moral bank", "道德银行"),
    "lever_moral_bank_help": (
        "Volunteering earns points that residents exchange for goods, which enterprises help stock. Being "
        "recognised keeps volunteers active and draws new ones. The Enyang plan (003) wants a moral bank in "
        "every community.",
        "参加志愿服务可获得积分，居民用积分兑换物资，企业帮助提供物资。得到认可的志愿者更愿意继续参与，"
        "也能吸引新的志愿者。恩阳区规划（003）要求社区道德银行全覆盖。"),
    "lever_points": ("Moral-bank points per activity", "道德银行：每次活动积分"),
    "lever_points_help": (
        "Points a volunteer earns for one activity (only while the moral bank is on). More points mean residents "
        "reach the exchange threshold sooner and are rewarded more often, and the fund pays more for the goods.",
        "志愿者每参加一次活动获得的积分（道德银行开启时有效）。积分越多，居民越早达到兑换门槛、"
        "得到回馈越频繁，微基金的兑换支出也越多。"),
    "lever_transparency": ("Fund transparency (0–1)", "微基金公开透明度（0–1）"),
    "lever_transparency_help": (
        "How openly the fund publishes its income and spending: 0 = not at all, 1 = fully. The Enyang plan (003) "
        "asks community funds to be 'open, fair and transparent'; in the model, openness makes residents give more "
        "and trust the community more.",
        "微基金收支公开的程度：0＝不公开，1＝完全公开。恩阳区规划（003）要求社区基金坚持公开公正透明；"
        "模型中，越公开，居民捐赠越多、对社区越信任。"),
    "lever_governance": ("Who runs the fund", "微基金管理方式"),
    "lever_governance_help": (
        "The three kinds of community fund in the Enyang plan (003): government-led, market-led (enterprises "
        "give more) or resident-led (residents give more).",
        "恩阳区规划（003）提出的三类社区基金：政府主导、市场主导（企业捐赠更积极）、居民主导（居民捐赠更积极）。"),
    "lever_fundraising": ("Public fundraising", "公开募捐"),
    "lever_fundraising_help": (
        "The fund appeals to residents for donations, as in the 'joint charity donation' drives the Enyang plan "
        "(003) calls for, so more residents give.",
        "微基金面向居民公开募捐，如恩阳区规划（003）提出的“慈善公益联合捐”集中捐赠活动，更多居民会参与捐赠。"),
    "lever_match": ("Government match (yuan per yuan donated)", "政府配捐（每捐1元配捐元数）"),
    "lever_match_help": (
        "For every yuan residents give, the government adds this much to the fund (an assumption; 003 lets funds "
        "apply for government grants).",
        "居民每向微基金捐1元，政府相应配捐的金额（模型假设；003提出社区基金可申请政府资助）。"),
    "lever_social_workers": ("Extra social workers", "增加社工人数"),
    "lever_social_workers_help": (
        "Professional social workers added to the community's social-work station. They lead and supervise "
        "volunteers ('professional social worker + volunteer', 004), so volunteers solve more cases, and they "
        "incubate new resident organisations (003).",
        "为社区社工站增加的专业社工。社工带领和督导志愿者（“专业社工+志愿服务”，004），"
        "使志愿者办成更多事，并孵化培育新的社区社会组织（003）。"),
    "lever_mobilisation": ("Social workers recruit volunteers", "社工招募志愿者"),
    "lever_mobilisation_help": (
        "Social workers actively recruit volunteers (the plan's volunteer recruitment system, 003) as long as they "
        "have room to supervise them.",
        "社工主动招募志愿者（恩阳区规划的志愿者招募机制，003），前提是还有督导能力。"),
    "lever_deliberation": ("Residents' council (deliberation)", "居民议事会（议事协商）"),
    "lever_deliberation_help": (
        "Residents meet regularly — Qionglai's 'Love-Your-Neighbour Deliberation Day', Enyang's 'four "
        "deliberations' (004, 003) — and choose the public projects the fund pays for; taking part raises trust.",
        "居民定期议事（邛崃“爱邻议事日”“火塘议事会”，恩阳“四议”工作法；004、003），"
        "决定微基金资助哪些公益项目；参与议事能提升居民信任。"),
    "lever_charity_sales": ("Charity sales", "义卖"),
    "lever_charity_sales_help": (
        "Resident self-organisations, like Shunhe's Pea Handicraft Workshop, sell handicrafts and give the "
        "proceeds to the micro-fund (004).",
        "居民自组织（如顺河社区“豌豆手工坊”）义卖手工制品，收入反哺社区微基金（004）。"),
    "lever_social_enterprise": ("Community social enterprise", "社区社会企业"),
    "lever_social_enterprise_help": (
        "A community social enterprise, like Shunhe's boutique tourist routes (004), earns a profit and gives "
        "part of it back to the fund: 'business supports charity, charity improves governance'.",
        "社区社会企业（如顺河社区运营精品游线，004）盈利后把部分利润反哺社区：“商业支持公益、公益促进治理”。"),
}

# English names of the presets; the Chinese names are the presets' own ``label_zh`` (configs/).
PRESET_NAMES_EN: dict[str, dict[str, str]] = {
    "community": {
        "urban_traditional": "Traditional urban community",
        "urban_rural_fringe": "Urban–rural fringe community",
        "township": "Township-seat community",
        "relocation": "Relocation community",
        "industrial_park": "Industrial-park community (Yujian-like)",
        "tourism_village": "Culture–tourism village",
        "organised_urban": "Organisation-led urban community (Shunhe-like)",
    },
    "policy": {
        "baseline": "Baseline (no linkage)",
        "micro_fund": "One-cent charity micro-fund",
        "moral_bank": "Moral bank points",
        "gov_purchase": "Government purchase of services",
        "charity_sales": "Charity sales by self-organisations",
        "social_enterprise": "Social-enterprise reinvestment",
        "five_society": "Five-society linkage (all levers)",
    },
}
POLICY_ORDER = tuple(PRESET_NAMES_EN["policy"])


def tr(key: str, lang: str = "en", **fmt: Any) -> str:
    """A label in ``lang``: the page's own words (UI_TERMS), else the glossary's; ``fmt`` fills {fields}."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGS)}")
    if key in UI_TERMS:
        text = UI_TERMS[key][0 if lang == "en" else 1]
    elif key in INFLOW_LABELS:
        text = INFLOW_LABELS[key][0 if lang == "en" else 1]
    elif key in OUTFLOW_LABELS:
        text = OUTFLOW_LABELS[key][0 if lang == "en" else 1]
    else:
        text = label(key, lang)  # raises KeyError for an unknown key
    return text.format(**fmt) if fmt else text


# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------
def policy_presets() -> list[str]:
    """Names of the policy presets in configs/policy/, the documented ones first."""
    names = {p.name[:-5] for p in files("sim.configs").joinpath("policy").iterdir() if p.name.endswith(".yaml")}
    return [n for n in POLICY_ORDER if n in names] + sorted(names - set(POLICY_ORDER))


@functools.cache
def _preset_yaml(group: str, name: str) -> dict:
    text = files("sim.configs").joinpath(group, f"{name}.yaml").read_text(encoding="utf-8")
    return OmegaConf.to_container(OmegaConf.create(text)) or {}


def preset_label(group: str, name: str, lang: str = "en") -> str:
    """Display name of a community or policy preset: its ``label_zh`` in Chinese, an English name otherwise."""
    if lang == "zh":
        return str(_preset_yaml(group, name).get("label_zh", name))
    return PRESET_NAMES_EN.get(group, {}).get(name, name.replace("_", " "))


# ---------------------------------------------------------------------------------------------
# Levers
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Lever:
    """A policy lever the page exposes: its config key, widget and bounds (within the schema's range)."""

    key: str                  # dotted config key, e.g. "policy.micro_fund.fen_per_unit"
    widget: str               # "slider", "number", "toggle" or "select"
    term: str                 # UI_TERMS key of its label; f"{term}_help" is its explanation
    lo: float | None = None   # bounds shown by the widget (a preset value outside them widens them)
    hi: float | None = None
    step: float | None = None
    requires: str | None = None  # key of a toggle this lever only matters with


LEVERS: tuple[Lever, ...] = (
    Lever("policy.micro_fund.fen_per_unit", "slider", "lever_fen", 0.0, 10.0, 0.5),
    Lever("policy.gov_purchase.budget_yuan_per_year", "number", "lever_gov_budget", 0, 2_000_000, 10_000),
    Lever("policy.moral_bank.enabled", "toggle", "lever_moral_bank"),
    Lever("policy.moral_bank.points_per_activity", "slider", "lever_points", 0.0, 50.0, 1.0,
          requires="policy.moral_bank.enabled"),
    Lever("policy.fund.transparency", "slider", "lever_transparency", 0.0, 1.0, 0.05),
    Lever("policy.fund.governance", "select", "lever_governance"),
    Lever("policy.fund.public_fundraising", "toggle", "lever_fundraising"),
    Lever("policy.fund.government_match_ratio", "slider", "lever_match", 0.0, 2.0, 0.1),
    Lever("policy.social_work.extra_social_workers", "number", "lever_social_workers", 0, 20, 1),
    Lever("policy.social_work.mobilisation", "toggle", "lever_mobilisation"),
    Lever("policy.deliberation.enabled", "toggle", "lever_deliberation"),
    Lever("policy.charity_sales.enabled", "toggle", "lever_charity_sales"),
    Lever("policy.social_enterprise.enabled", "toggle", "lever_social_enterprise"),
)
LEVER_OF: dict[str, Lever] = {lv.key: lv for lv in LEVERS}


def lever_meta(key: str) -> dict:
    """The schema's documentation of a parameter: unit, lo, hi, help, source, choices (sim/config.py)."""
    return dict(schema_fields()[key].metadata)


def lever_options(lever: Lever) -> list[str]:
    """Choices of a ``select`` lever (names of the enum)."""
    choices = lever_meta(lever.key).get("choices")
    return list(choices) if choices else [g.name for g in Governance]


def option_label(lever: Lever, option: str, lang: str) -> str:
    key = f"governance_{option}"
    return tr(key, lang) if key in UI_TERMS else option


def lever_bounds(lever: Lever, value: float | None = None) -> tuple[float, float]:
    """Widget bounds of a numeric lever: its UI bounds widened to ``value``, clipped to the schema range."""
    meta = lever_meta(lever.key)
    lo = lever.lo if lever.lo is not None else meta["lo"]
    hi = lever.hi if lever.hi is not None else meta["hi"]
    if value is not None:
        lo, hi = min(lo, value), max(hi, value)
    if meta["lo"] is not None:
        lo = max(lo, meta["lo"])
    if meta["hi"] is not None:
        hi = min(hi, meta["hi"])
    return lo, hi


def widget_bounds(lever: Lever) -> tuple[float, float]:
    """Bounds of a lever's widget (fixed: they are part of a slider's identity in Streamlit).

    Every policy preset's value lies within them (tests/test_dashboard.py checks it)."""
    return lever_bounds(lever)


def slider_format(lever: Lever) -> str:
    """printf format of a slider: as many decimals as its step has."""
    step = lever.step or 1
    decimals = 0 if float(step).is_integer() else len(f"{step:g}".split(".")[1])
    return f"%.{decimals}f"


def get_value(settings: SimConfig, key: str) -> Any:
    """A parameter's value by dotted key; enums by name."""
    obj: Any = settings
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj.name if isinstance(obj, Enum) else obj


def _clean(lever: Lever, value: Any) -> Any:
    """A widget's value in the parameter's type (sliders return floats with rounding noise)."""
    default = schema_fields()[lever.key].default
    if isinstance(default, bool):
        return bool(value)
    if isinstance(default, Enum):
        return value.name if isinstance(value, Enum) else str(value)
    if isinstance(default, int):
        return round(float(value))
    return round(float(value), 6)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def _override_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ---------------------------------------------------------------------------------------------
# Settings: the same Hydra configs as the command line
# ---------------------------------------------------------------------------------------------
_HYDRA_LOCK = threading.Lock()  # Hydra's global state: one composition at a time (Streamlit runs threads)


@functools.lru_cache(maxsize=128)
def _composed(overrides: tuple[str, ...]) -> SimConfig:
    with _HYDRA_LOCK:
        return settings_for(*overrides)


def compose(overrides: Sequence[str]) -> SimConfig:
    """Validated settings for command-line overrides (composed once, then copied)."""
    return copy.deepcopy(_composed(tuple(overrides)))


def policy_levers(policy: str, community: str = DEFAULT_COMMUNITY) -> dict[str, Any]:
    """The preset's value of every lever of the page (what the widgets show after choosing the preset).

    Policy presets do not depend on the community; ``community`` only lets this share the composition
    (cached) with :func:`scenario`.
    """
    s = _composed((f"community={community}", f"policy={policy}", "progress=false"))
    return {lv.key: get_value(s, lv.key) for lv in LEVERS}


@dataclass
class Scenario:
    """One side (A or B) of the comparison: choices, their command-line overrides and the settings."""

    side: str
    community: str
    policy: str
    seed: int
    steps: int
    levers: dict[str, Any] = field(default_factory=dict)  # every lever's value (preset + adjustments)
    changed: dict[str, Any] = field(default_factory=dict)  # levers that differ from the preset
    overrides: tuple[str, ...] = ()
    settings: SimConfig | None = None

    @property
    def adjusted(self) -> bool:
        return bool(self.changed)

    def name(self, lang: str = "en") -> str:
        text = f"{self.side}: {preset_label('policy', self.policy, lang)}"
        return text + tr("adjusted", lang) if self.adjusted else text

    def command(self) -> str:
        """The command line that runs this scenario (python -m sim ...)."""
        shown = [o for o in self.overrides if o != "progress=false"]
        return "python -m sim " + " ".join(shown)


def _set_value(settings: SimConfig, key: str, value: Any) -> None:
    """Set a parameter by dotted key, in the type of its current value (enums from their name)."""
    *parents, name = key.split(".")
    obj: Any = settings
    for part in parents:
        obj = getattr(obj, part)
    current = getattr(obj, name)
    if isinstance(current, Enum):
        value = type(current)[value] if isinstance(value, str) else value
    setattr(obj, name, value)


def scenario(side: str, community: str, policy: str, levers: dict[str, Any] | None = None, seed: int = 0,
             steps: int = DEFAULT_WEEKS) -> Scenario:
    """Settings of one side: ``community=…``, ``policy=…``, the levers that differ from the preset, seed, steps.

    ``overrides`` are the equivalent command-line overrides.  To keep the page quick, the settings are
    the composed preset pair (cached) with these values set and every range checked again, which gives
    the same settings as ``settings_for(*overrides)`` (tests/test_dashboard.py checks it).
    """
    preset = policy_levers(policy, community)
    values = dict(preset)
    changed: dict[str, Any] = {}
    for key, value in (levers or {}).items():
        if key not in LEVER_OF:
            raise KeyError(f"{key!r} is not a lever of the dashboard; levers: {', '.join(LEVER_OF)}")
        value = _clean(LEVER_OF[key], value)
        values[key] = value
        if not _same(value, preset[key]):
            changed[key] = value
    overrides = (f"community={community}", f"policy={policy}",
                 *(f"{k}={_override_value(v)}" for k, v in changed.items()),
                 f"seed={int(seed)}", f"steps={int(steps)}", "progress=false")
    settings = compose((f"community={community}", f"policy={policy}", "progress=false"))
    for key, value in {**changed, "seed": int(seed), "steps": int(steps)}.items():
        _set_value(settings, key, value)
    check_ranges(settings)
    return Scenario(side, community, policy, int(seed), int(steps), values, changed, overrides, settings)


# ---------------------------------------------------------------------------------------------
# Two models stepped together
# ---------------------------------------------------------------------------------------------
class Comparison:
    """Scenarios A and B of the same community and seed, stepped together week by week.

    A lock guards the models: the page steps them in one thread while a download may read them in another.
    """

    def __init__(self, a: Scenario, b: Scenario) -> None:
        if a.settings is None or b.settings is None:
            raise ValueError("both scenarios need settings")
        if a.settings.seed != b.settings.seed:
            raise ValueError(f"A and B must share the seed (A: {a.settings.seed}, B: {b.settings.seed})")
        if a.settings.steps != b.settings.steps:
            raise ValueError(f"A and B must run the same weeks (A: {a.settings.steps}, B: {b.settings.steps})")
        if a.community != b.community:
            raise ValueError(f"A and B must be the same community (A: {a.community}, B: {b.community})")
        self.scenarios = {"A": a, "B": b}
        self._lock = threading.RLock()
        self.reset()

    @property
    def key(self) -> tuple:
        """What identifies the comparison's settings (changes when any choice changes)."""
        return tuple(sc.overrides for sc in self.scenarios.values())

    def reset(self) -> None:
        with self._lock:
            self.models = {side: CommunityModel(copy.deepcopy(sc.settings)) for side, sc in self.scenarios.items()}

    @property
    def seed(self) -> int:
        return self.scenarios["A"].seed

    @property
    def steps(self) -> int:
        return self.scenarios["A"].settings.steps

    @property
    def week(self) -> int:
        """Weeks run so far (the same for both)."""
        return len(self.models["A"].records)

    @property
    def done(self) -> bool:
        return self.week >= self.steps

    def step(self, n: int = 1) -> int:
        """Advance both models by ``n`` weeks (fewer at the end of the run); returns the weeks run."""
        with self._lock:
            n = max(0, min(int(n), self.steps - self.week))
            for _ in range(n):
                for model in self.models.values():
                    model.step()
            return n

    def timeseries(self, side: str | None = None) -> pd.DataFrame:
        """Weekly indicators of one side, or of both with a ``scenario`` column (A, B) first."""
        with self._lock:
            if side is not None:
                return self.models[side].timeseries()
            frames = []
            for s, model in self.models.items():
                ts = model.timeseries()
                sc = self.scenarios[s]
                ts.insert(0, "scenario", s)
                ts.insert(1, "community", sc.community)
                ts.insert(2, "policy", sc.policy)
                ts.insert(3, "seed", sc.seed)
                frames.append(ts)
            return pd.concat(frames, ignore_index=True)

    def names(self, lang: str = "en") -> dict[str, str]:
        return {s: sc.name(lang) for s, sc in self.scenarios.items()}


def comparison(community: str = DEFAULT_COMMUNITY, seed: int = 0, steps: int = DEFAULT_WEEKS,
               a: tuple[str, dict] = (DEFAULT_POLICIES["A"], {}),
               b: tuple[str, dict] = (DEFAULT_POLICIES["B"], {})) -> Comparison:
    """A comparison of two (policy preset, lever values) choices in ``community`` with the same seed."""
    return Comparison(scenario("A", community, a[0], a[1], seed, steps),
                      scenario("B", community, b[0], b[1], seed, steps))


# ---------------------------------------------------------------------------------------------
# Indicators against the plan targets
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiRow:
    key: str
    value: float | None
    target: Target | None
    met: bool | None


def key_indicators(ts: pd.DataFrame, keys: Sequence[str] = KEY_INDICATORS) -> list[KpiRow]:
    """Key indicators of one run so far (as the CLI's kpis.json computes them), with targets and met/not met."""
    kpis = compute_kpis(ts) if len(ts) else {}
    rows = []
    for key in keys:
        value = kpis.get(key)
        if isinstance(value, float) and math.isnan(value):
            value = None
        target = TARGET_OF.get(key)
        rows.append(KpiRow(key, value, target, met(target, value) if target and value is not None else None))
    return rows


def is_fraction(key: str) -> bool:
    return key in COLUMNS and COLUMNS[key][2] == "fraction"


def format_value(key: str, value: float | None, lang: str = "en", digits: int = 1) -> str:
    """A value as the page shows it: fractions in per cent (``digits`` decimals), money in yuan, counts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if is_fraction(key):
        return f"{100 * value:.{digits}f} %"
    if key.startswith("fund_"):
        return f"¥{value:,.0f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def target_text(key: str, lang: str = "en") -> str:
    """'Target ≥ 2,500' (or 'no plan target')."""
    t = TARGET_OF.get(key)
    if t is None:
        return tr("no_target", lang)
    op = {">=": "≥", "==": "="}.get(t.op, t.op)
    return f"{tr('target', lang)} {op} {format_value(key, t.value, lang, digits=0)}"


def verdict_text(row: KpiRow, lang: str = "en") -> str:
    """'✓ met · Target ≥ 95.0 %', '✗ not met · …', or the target alone when there is no value or target."""
    if row.met is None:
        return target_text(row.key, lang)
    mark = f"✓ {tr('met_yes', lang)}" if row.met else f"✗ {tr('met_no', lang)}"
    return f"{mark} · {target_text(row.key, lang)}"


def axis_unit(key: str, lang: str = "en") -> str:
    if is_fraction(key):
        return tr("percent", lang)
    if key.startswith("fund_"):
        return tr("yuan", lang)
    if key == "volunteers_per_10k":
        return tr("unit_per_10k", lang)
    if key.startswith("social_orgs"):
        return tr("unit_orgs", lang)
    return COLUMNS[key][2] if key in COLUMNS else ""


# ---------------------------------------------------------------------------------------------
# Fund flows
# ---------------------------------------------------------------------------------------------
def fund_totals(ts: pd.DataFrame) -> tuple[dict[str, float], dict[str, float], float]:
    """Cumulative inflows by source and outflows by use (yuan), and the balance at the last week."""
    inflows = {s: float(ts[f"fund_inflow_{s}"].sum()) if len(ts) else 0.0 for s in INFLOW_SOURCES}
    outflows = {u: float(ts[f"fund_outflow_{u}"].sum()) if len(ts) else 0.0 for u in OUTFLOW_USES}
    balance = float(ts["fund_balance"].iloc[-1]) if len(ts) else 0.0
    return inflows, outflows, balance


def sankey_data(ts: pd.DataFrame, lang: str = "en") -> dict:
    """Nodes (sources → fund → uses and the balance kept) and links of the fund's cumulative flows.

    The fund starts empty, so Σ inflows = Σ outflows + balance: the links into and out of the fund node
    carry the same total.
    """
    inflows, outflows, balance = fund_totals(ts)
    labels, sources, targets, values, colors = [], [], [], [], []

    def node(text: str, amount: float | None, color: str) -> int:
        labels.append(text if amount is None else f"{text} ¥{amount:,.0f}")
        colors.append(color)
        return len(labels) - 1

    fund = node(tr("fund_node", lang), None, "#029E73")  # its total is the sum of either side
    for s, v in inflows.items():
        if v > 0:
            sources.append(node(tr(s, lang), v, COLORS["A"] if s != "government" else "#CC78BC"))
            targets.append(fund)
            values.append(v)
    for u, v in outflows.items():
        if v > 0:
            sources.append(fund)
            targets.append(node(tr(u, lang), v, "#D55E00"))
            values.append(v)
    if balance > 0:
        sources.append(fund)
        targets.append(node(tr("balance_node", lang), balance, "#949494"))
        values.append(balance)
    return {"labels": labels, "colors": colors, "source": sources, "target": targets, "value": values}


# ---------------------------------------------------------------------------------------------
# Plotly figures for the page (all text in ``lang``)
# ---------------------------------------------------------------------------------------------
# A small white template: plotly's own ("plotly_white") takes most of the time of building a figure.
_TEMPLATE = {"layout": {
    "plot_bgcolor": "white", "paper_bgcolor": "white", "colorway": [COLORS["A"], COLORS["B"]],
    "xaxis": {"gridcolor": "#EBEBEB", "zeroline": False, "linecolor": "#BBBBBB", "ticks": "outside",
              "tickcolor": "#BBBBBB", "automargin": True},
    "yaxis": {"gridcolor": "#EBEBEB", "zeroline": False, "automargin": True},
}}


def _layout(title: str, height: int = 340, **extra: Any) -> dict:
    return {"template": _TEMPLATE, "title": {"text": title, "font": {"size": 15}}, "height": height,
            "font": {"family": FONT_STACK, "size": 13}, "margin": {"l": 10, "r": 10, "t": 48, "b": 20},
            "legend": {"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0},
            "hoverlabel": {"font": {"family": FONT_STACK}}, **extra}


def _axes(key: str, lang: str) -> dict:
    """x (weeks) and y (the indicator, with its unit) axes, and the plan target as a dotted line."""
    out: dict[str, Any] = {
        "xaxis": {"title": {"text": tr("step", lang)}},
        "yaxis": {"title": {"text": axis_unit(key, lang)}, "tickformat": ".0%" if is_fraction(key) else ",",
                  "rangemode": "normal" if is_fraction(key) else "tozero"},
    }
    t = TARGET_OF.get(key)
    if t is not None:
        out["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": t.value,
                          "y1": t.value, "line": {"dash": "dot", "color": "#333333", "width": 1}}]
        out["annotations"] = [{"text": target_text(key, lang), "xref": "paper", "x": 0, "xanchor": "left",
                               "yref": "y", "y": t.value, "yanchor": "bottom", "showarrow": False,
                               "font": {"size": 11}}]
    return out


def _hover(key: str, title: str, name: str, lang: str) -> str:
    fmt = "%{y:.1%}" if is_fraction(key) else "%{y:,.1f}"
    return f"{tr('step', lang)} %{{x}}<br>{title}: {fmt}<extra>{name}</extra>"


def trajectory_figure(ts: pd.DataFrame, key: str, names: dict[str, str], lang: str = "en"):
    """One indicator over the weeks, A and B on the same axes, with the plan target (dotted)."""
    import plotly.graph_objects as go

    title = tr(key, lang)
    data = []
    for side in SIDES:
        d = ts[ts["scenario"] == side] if len(ts) else ts
        name = names.get(side, side)
        data.append({"type": "scatter", "mode": "lines", "name": name,
                     "x": d["step"].tolist() if len(d) else [], "y": d[key].tolist() if len(d) else [],
                     "line": {"color": COLORS[side], "dash": PLOTLY_DASH[side], "width": 2.2},
                     "hovertemplate": _hover(key, title, name, lang)})
    return go.Figure(data=data, layout=_layout(title, **_axes(key, lang)))


def sankey_figure(ts: pd.DataFrame, title: str, lang: str = "en"):
    """The fund's cumulative flows as a Sankey diagram: sources → fund → uses (and the balance kept)."""
    import plotly.graph_objects as go

    data = sankey_data(ts, lang)
    if not data["value"]:
        hidden = {"visible": False}
        return go.Figure(layout=_layout(title, xaxis=hidden, yaxis=hidden, annotations=[
            {"text": tr("no_money", lang), "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper"}]))
    unit = tr("yuan", lang)
    trace = {"type": "sankey", "valueformat": ",.0f",
             "node": {"label": data["labels"], "color": data["colors"], "pad": 14, "thickness": 16,
                      "hovertemplate": "%{label}<extra></extra>"},
             "link": {"source": data["source"], "target": data["target"], "value": data["value"],
                      "color": "rgba(120,120,120,0.25)",
                      "hovertemplate": "%{source.label} → %{target.label}<br>"
                                       f"%{{value:,.0f}} {unit}<extra></extra>"}}
    return go.Figure(data=[trace], layout=_layout(title))


def band_figure(summary: pd.DataFrame, key: str, names: dict[str, str], n: int, lang: str = "en"):
    """Replicates of one indicator: mean line and 95 % confidence band per scenario."""
    import plotly.graph_objects as go

    rows = summary[summary["indicator"] == key]
    title = tr(key, lang)
    data = []
    for side in SIDES:
        d = rows[rows["scenario"] == side].sort_values("step")
        name = names.get(side, side)
        r, g, b = (int(COLORS[side][i:i + 2], 16) for i in (1, 3, 5))
        data.append({"type": "scatter", "x": d["step"].tolist() + d["step"].tolist()[::-1],
                     "y": d["high"].tolist() + d["low"].tolist()[::-1], "fill": "toself",
                     "fillcolor": f"rgba({r},{g},{b},0.2)", "line": {"width": 0}, "hoverinfo": "skip",
                     "name": f"{name} · {tr('band', lang)}", "legendgroup": side})
        data.append({"type": "scatter", "mode": "lines", "x": d["step"].tolist(), "y": d["mean"].tolist(),
                     "name": f"{name} · {tr('mean', lang)}", "legendgroup": side,
                     "line": {"color": COLORS[side], "dash": PLOTLY_DASH[side], "width": 2.2},
                     "hovertemplate": _hover(key, title, f"{name} · {tr('mean', lang)}", lang)})
    layout = _layout(tr("band_title", lang, indicator=title, n=n), height=360, **_axes(key, lang))
    layout["legend"] = {**layout["legend"], "y": -0.3}
    return go.Figure(data=data, layout=layout)


# ---------------------------------------------------------------------------------------------
# Export: CSV and PNG (matplotlib/seaborn, rendered on the server)
# ---------------------------------------------------------------------------------------------
def comparison_csv(ts: pd.DataFrame) -> bytes:
    """CSV of both runs (one row per scenario and week); UTF-8 with a BOM so that Excel/WPS read Chinese."""
    return ts.to_csv(index=False).encode("utf-8-sig")


_MPL_LOCK = threading.Lock()  # seaborn's theme is global matplotlib state; one figure at a time


@contextlib.contextmanager
def _mpl_theme(lang: str) -> Iterator[None]:
    """Seaborn's theme (with a CJK font for Chinese) for the duration of one figure, then restored."""
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    with _MPL_LOCK, matplotlib.rc_context():
        rc: dict[str, Any] = {"axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
                              "figure.titlesize": 13, "axes.unicode_minus": False}
        if lang == "zh":
            font = find_cjk_font()
            if font is None:
                raise RuntimeError("no CJK font for Chinese charts (looked for: " + ", ".join(CJK_FONTS) +
                                   "); install one, e.g. apt-get install fonts-noto-cjk (scripts/install-test-deps.sh)")
            rc["font.family"] = [font, "DejaVu Sans"]
        else:
            rc["font.family"] = ["DejaVu Sans"]
        sns.set_theme(context="notebook", style="whitegrid", rc=rc)
        yield


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    return buf.getvalue()


def _percent(ax, key: str) -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    if is_fraction(key):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))


def _mpl_target(ax, key: str, lang: str) -> None:
    t = TARGET_OF.get(key)
    if t is not None:
        ax.axhline(t.value, color="black", linestyle=(0, (4, 3)), linewidth=1.0, zorder=1)
        ax.annotate(target_text(key, lang), xy=(0.01, t.value), xycoords=("axes fraction", "data"),
                    fontsize=8, va="bottom", ha="left")


def _subtitle(comp_info: dict, lang: str) -> str:
    community = preset_label("community", comp_info["community"], lang)
    return f"{community} · {tr('seed', lang)} {comp_info['seed']} · {tr('week_of', lang, **comp_info['weeks'])}"


def _info(ts: pd.DataFrame, steps: int | None) -> dict:
    week = int(ts["step"].max()) if len(ts) else 0
    return {"community": str(ts["community"].iloc[0]) if len(ts) else "", "seed": int(ts["seed"].iloc[0])
            if len(ts) else 0, "weeks": {"week": week, "steps": steps or week}}


def indicators_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None) -> bytes:
    """PNG: the key indicators of A and B over the weeks, one panel each, with the plan targets."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with _mpl_theme(lang):
        fig = Figure(figsize=(13, 7.6), layout="constrained")
        axes = fig.subplots(2, 3).flat
        for ax, key in zip(axes, KEY_INDICATORS, strict=True):
            for side in SIDES:
                d = ts[ts["scenario"] == side]
                ls, _m = MPL_STYLE[side]
                ax.plot(d["step"], d[key], color=COLORS[side], linestyle=ls, linewidth=1.6)
            _mpl_target(ax, key, lang)
            _percent(ax, key)
            ax.set_title(tr(key, lang))
            ax.set_xlabel(tr("step", lang))
            ax.set_ylabel(axis_unit(key, lang))
        handles = [Line2D([], [], color=COLORS[s], linestyle=MPL_STYLE[s][0], linewidth=2) for s in SIDES]
        fig.legend(handles, [names.get(s, s) for s in SIDES], loc="outside lower center", ncol=2, frameon=False)
        info = _info(ts, steps)
        fig.suptitle(f"{tr('trajectories', lang)}\n{_subtitle(info, lang)}", fontweight="bold")
        return _png(fig)


def fund_png(ts: pd.DataFrame, names: dict[str, str], lang: str = "en", steps: int | None = None) -> bytes:
    """PNG: cumulative fund income by source and spending by use (and balance), A and B as stacked bars."""
    import seaborn as sns
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with _mpl_theme(lang):
        fig = Figure(figsize=(13, 5.2), layout="constrained")
        ax_in, ax_out = fig.subplots(1, 2, sharex=True)
        totals = {s: fund_totals(ts[ts["scenario"] == s]) for s in SIDES}
        ylabels = [names.get(s, s) for s in SIDES]
        for ax, part, keys, title in (
                (ax_in, 0, INFLOW_SOURCES, tr("inflows", lang)),
                (ax_out, 1, (*OUTFLOW_USES, "balance_node"), tr("outflows", lang))):
            palette = sns.color_palette("colorblind", len(keys))
            left = np.zeros(len(SIDES))
            for i, k in enumerate(keys):
                vals = np.array([totals[s][2] if k == "balance_node" else totals[s][part][k] for s in SIDES])
                if not vals.any():
                    continue
                ax.barh(ylabels, vals, left=left, color=palette[i] if k != "balance_node" else "#BBBBBB",
                        label=tr(k, lang), edgecolor="white")
                left += vals
            ax.set_title(title)
            ax.set_xlabel(tr("yuan", lang))
            ax.invert_yaxis()
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False)
        info = _info(ts, steps)
        fig.suptitle(f"{tr('fund_flows', lang)}\n{_subtitle(info, lang)}", fontweight="bold")
        return _png(fig)


def replicates_png(summary: pd.DataFrame, names: dict[str, str], n: int, lang: str = "en") -> bytes:
    """PNG: mean and 95 % confidence band of A and B over the seeds, one panel per key indicator."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with _mpl_theme(lang):
        fig = Figure(figsize=(13, 7.6), layout="constrained")
        axes = fig.subplots(2, 3).flat
        for ax, key in zip(axes, KEY_INDICATORS, strict=True):
            data = summary[summary["indicator"] == key]
            for side in SIDES:
                d = data[data["scenario"] == side].sort_values("step")
                ax.fill_between(d["step"], d["low"], d["high"], color=COLORS[side], alpha=0.2, linewidth=0)
                ax.plot(d["step"], d["mean"], color=COLORS[side], linestyle=MPL_STYLE[side][0], linewidth=1.6)
            _mpl_target(ax, key, lang)
            _percent(ax, key)
            ax.set_title(tr(key, lang))
            ax.set_xlabel(tr("step", lang))
            ax.set_ylabel(axis_unit(key, lang))
        handles = [Line2D([], [], color=COLORS[s], linestyle=MPL_STYLE[s][0], linewidth=2) for s in SIDES]
        fig.legend(handles, [names.get(s, s) for s in SIDES], loc="outside lower center", ncol=2, frameon=False)
        fig.suptitle(tr("band_title", lang, indicator=tr("trajectories", lang), n=n), fontweight="bold")
        return _png(fig)


# ---------------------------------------------------------------------------------------------
# Replicates: A and B over the same seeds, 95 % confidence bands
# ---------------------------------------------------------------------------------------------
def _replicate_run(side: str, settings: SimConfig, columns: tuple[str, ...]) -> tuple[str, int, pd.DataFrame]:
    """One replicate (runs in a worker process): the weekly values of ``columns``."""
    model = CommunityModel(settings)
    for _ in range(settings.steps):
        model.step()
    return side, settings.seed, model.timeseries()[["step", *columns]]


def replicate_seeds(seed: int, n: int = REPLICATE_SEEDS) -> list[int]:
    """``n`` consecutive seeds starting at the page's seed (within the schema's range)."""
    top = 2**32 - 1
    start = min(int(seed), top - n + 1)
    return list(range(start, start + n))


def run_replicates(comp: Comparison, n_seeds: int = REPLICATE_SEEDS, columns: Sequence[str] = KEY_INDICATORS,
                   n_jobs: int | None = None, on_progress: Callable[[int, int], None] | None = None
                   ) -> pd.DataFrame:
    """Run A and B for ``n_seeds`` seeds (the same seeds for both), in parallel processes when there are cores.

    Returns a long table: scenario, seed, step and one column per indicator.  ``on_progress(done, total)``
    is called after each run.
    """
    columns = tuple(columns)
    jobs = []
    for seed in replicate_seeds(comp.seed, n_seeds):
        for side, sc in comp.scenarios.items():
            s = copy.deepcopy(sc.settings)
            s.seed = seed
            jobs.append((side, s))
    total = len(jobs)
    if n_jobs is None:
        n_jobs = min(os.cpu_count() or 1, total)

    def collect(results) -> list[pd.DataFrame]:
        frames = []
        for done, (side, seed, ts) in enumerate(results, start=1):
            ts.insert(0, "scenario", side)
            ts.insert(1, "seed", seed)
            frames.append(ts)
            if on_progress is not None:
                on_progress(done, total)
        return frames

    sequential = (_replicate_run(side, s, columns) for side, s in jobs)
    if n_jobs <= 1:
        frames = collect(sequential)
    else:
        from joblib import Parallel, delayed

        try:
            frames = collect(Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                delayed(_replicate_run)(side, s, columns) for side, s in jobs))
        except Exception as exc:  # no worker processes on this machine: run them here, one after the other
            warnings.warn(f"replicates in worker processes failed ({exc!r}); running them one by one",
                          RuntimeWarning, stacklevel=2)
            frames = collect(sequential)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["scenario", "seed", "step"], ignore_index=True)


def replicate_summary(reps: pd.DataFrame, columns: Sequence[str] = KEY_INDICATORS) -> pd.DataFrame:
    """Per indicator, scenario and week: n, mean, sd and the 95 % t confidence interval (low, high) of the mean
    (experiments.stats.summarise), rates' intervals clipped to [0, 1]."""
    from experiments.stats import summarise

    present = [c for c in columns if c in reps.columns]
    long = reps.melt(id_vars=["scenario", "seed", "step"], value_vars=present, var_name="indicator")
    out = summarise(long, by=["indicator", "scenario", "step"])
    # A rate's band is shown within [0, 1]: the t interval of a bounded value can overshoot.
    rate = out["indicator"].map(is_fraction).astype(bool)
    out.loc[rate, "low"] = out.loc[rate, "low"].clip(lower=0.0)
    out.loc[rate, "high"] = out.loc[rate, "high"].clip(upper=1.0)
    return out


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def lever_guide(lang: str = "en") -> list[dict]:
    """Every lever: label, plain-language explanation and the schema's key, unit, range and source."""
    rows = []
    for lv in LEVERS:
        meta = lever_meta(lv.key)
        if meta.get("choices"):
            rng = ", ".join(option_label(lv, c, lang) for c in meta["choices"])
        elif meta.get("lo") is None and meta.get("hi") is None:
            rng = f"{tr('on', lang)} / {tr('off', lang)}"
        else:  # the lever's label names the unit; the schema's unit is English
            rng = f"[{_number(meta['lo'])}, {_number(meta['hi'])}]" + (f" {meta['unit']}" if lang == "en" else "")
        rows.append({"key": lv.key, "label": tr(lv.term, lang), "explanation": tr(f"{lv.term}_help", lang),
                     "range": rng, "help": meta.get("help", ""), "source": meta.get("source", "")})
    return rows

