"""The one table of labels: the English and Chinese name of everything the project shows.

Printed tables, charts, reports and the workshop dashboard take every label from here
(``label(key, lang)``), so that a Chinese label is written once.  :data:`GLOSSARY` holds one row per
key: its English and Chinese text, what kind of thing it names, and, for output columns, the unit
and meaning.  The kinds:

* ``output``: the columns of ``timeseries.parquet`` (a test checks that the model writes exactly
  these; the output table of docs/ODD.md is generated from them, see sim/docs.py);
* ``fund_source``, ``fund_use``: where the community fund's money comes from and goes to;
* ``term``: words of printed tables, charts and reports;
* ``ui``: the dashboard's own words (controls, titles, messages);
* ``lever``: each policy lever of the dashboard (``lever_…``) and its plain-language explanation
  (``lever_…_help``), with the sources it rests on (docs/sources.md);
* ``preset``: community and policy presets, as ``community=<name>`` and ``policy=<name>``; their
  Chinese name is the preset file's own ``label_zh`` (configs/), read from there.

Texts may hold ``{fields}`` that ``label`` fills in.
"""

from __future__ import annotations

from importlib.resources import files
from typing import NamedTuple

import yaml

from sim.fund import INFLOW_SOURCES, OUTFLOW_USES

LANGUAGES = ("en", "zh")


class Label(NamedTuple):
    """One row of the glossary."""

    en: str
    zh: str
    kind: str          # output, fund_source, fund_use, term, ui, lever or preset
    unit: str = ""     # output columns: unit of the values
    meaning: str = ""  # output columns: what a value means (and its source)


GLOSSARY: dict[str, Label] = {}


def _add(kind: str, rows: dict[str, tuple[str, ...]]) -> None:
    """Add rows ``key: (English, Chinese[, unit, meaning])`` of one kind; a key may be defined once only."""
    for key, (en, zh, *meta) in rows.items():
        if key in GLOSSARY:
            raise ValueError(f"glossary key {key!r} is defined twice ({GLOSSARY[key].kind} and {kind})")
        GLOSSARY[key] = Label(en, zh, kind, *meta)


# ---------------------------------------------------------------------------------------------
# Outputs: the columns of timeseries.parquet.  key: (English, Chinese, unit, meaning)
# ---------------------------------------------------------------------------------------------
_add("output", {
    "step": ("Week", "周", "week", "week number, 1 = first simulated week"),
    "residents": ("Residents", "常住居民", "persons", "residents of the community"),
    "volunteers_registered": ("Registered volunteers", "注册志愿者", "persons",
                              "residents registered as volunteers at the end of the week"),
    "volunteers_per_10k": ("Registered volunteers per 10,000", "每万人注册志愿者数", "per 10,000 residents",
                           "registered volunteers per 10,000 residents (003 专栏1 #15)"),
    "volunteer_active_share_2plus": ("Residents with 2+ volunteer activities", "年参与志愿服务2次以上居民占比",
                                     "fraction", "share of residents with 2 or more volunteer activities "
                                                 "in the last 52 weeks (003 专栏1 #28)"),
    "volunteer_activities": ("Volunteer activities", "志愿服务人次", "activities/week",
                             "volunteer activities this week"),
    "volunteer_hours": ("Volunteer hours", "志愿服务时长", "hours/week", "volunteer hours this week"),
    "volunteers_new": ("New volunteers", "新注册志愿者", "persons/week", "residents who registered this week"),
    "volunteers_dropped": ("Volunteers who left", "退出志愿者", "persons/week", "volunteers who dropped out"),
    "social_workers": ("Social workers", "社会工作者", "persons", "social workers at the station and in agencies"),
    "social_orgs_active": ("Social organisations", "社会组织数", "organisations",
                           "active social organisations of all kinds (003 专栏1 #24)"),
    "social_orgs_professional": ("Professional agencies", "专业社工机构", "organisations",
                                 "active professional social-work agencies"),
    "social_orgs_self": ("Self-organisations", "居民自组织", "organisations", "active resident self-organisations"),
    "social_enterprises": ("Social enterprises", "社区社会企业", "organisations",
                           "active community social enterprises"),
    "orgs_incubated_total": ("Organisations incubated", "孵化社会组织累计", "organisations",
                             "organisations incubated since the start (003 专栏1 #25)"),
    "orgs_folded_total": ("Organisations folded", "注销社会组织累计", "organisations",
                          "organisations that folded since the start"),
    "demands_raised": ("Demands raised", "居民诉求", "demands/week", "service demands residents had this week"),
    "demands_reported": ("Demands reported", "上报诉求", "demands/week",
                         "demands reported by residents or found by grid workers"),
    "demands_unreported": ("Demands unreported", "未上报诉求", "demands/week", "demands nobody reported"),
    "demands_responded": ("Demands answered", "已响应诉求", "demands/week",
                          "queued demands assigned to a handler this week"),
    "demands_completed": ("Demands completed", "已办结诉求", "demands/week", "answered demands solved this week"),
    "demands_expired": ("Demands unanswered", "超时未响应诉求", "demands/week",
                        "demands closed unanswered after the response deadline"),
    "demands_to_volunteers": ("Demands to volunteers", "派给志愿者", "demands/week", "answered by volunteers"),
    "demands_to_community_staff": ("Demands to community staff", "社区工作者办理", "demands/week",
                                   "answered by grid workers and community staff"),
    "demands_to_organisations": ("Demands to organisations", "派给社会组织", "demands/week",
                                 "answered by social organisations"),
    "demands_escalated": ("Demands escalated", "上报街道部门", "demands/week",
                          "answered by the street or departments (街道吹哨、部门报到)"),
    "capacity_volunteers": ("Volunteer capacity", "志愿者接单能力", "cases/week",
                            "cases volunteers could take this week"),
    "capacity_organisations": ("Organisation capacity", "社会组织接单能力", "cases/week",
                               "cases organisations could take this week"),
    "demand_queue": ("Demands waiting", "待响应诉求", "demands", "reported demands still waiting"),
    "response_rate": ("Response rate", "诉求响应率", "fraction",
                      "answered ÷ (answered + unanswered at deadline), this week (003 专栏1 #33)"),
    "completion_rate": ("Completion rate", "诉求办结率", "fraction",
                        "completed ÷ answered, this week (003 专栏1 #34)"),
    "satisfaction_mean": ("Satisfaction", "居民满意度", "fraction",
                          "mean chance a resident says they are satisfied (003 专栏1 #35)"),
    "trust_mean": ("Trust", "居民信任度", "0-1", "mean trust in community institutions"),
    "deliberation_participants": ("Council participants", "议事参与人数", "persons",
                                  "residents at this week's council meeting (0 if none)"),
    "deliberation_satisfaction": ("Satisfaction with deliberation", "议事协商满意度", "fraction",
                                  "participants' mean trust after the council (proxy for satisfaction with "
                                  "deliberation); empty in weeks without a meeting (003 专栏1 #16)"),
    "projects_funded": ("Projects funded", "公益项目", "projects/week", "public projects the fund paid this week"),
    "donors": ("Resident donors", "捐赠居民", "persons/week", "residents who gave to the fund"),
    "redemptions": ("Point redemptions", "积分兑换", "persons/week", "residents who redeemed moral-bank points"),
    "moral_bank_points": ("Moral-bank points outstanding", "道德银行积分余额", "points", "unredeemed points"),
    "fund_balance": ("Fund balance", "微基金余额", "yuan", "the fund's balance at the end of the week"),
    "fund_inflow_total": ("Fund income", "微基金收入", "yuan/week", "all inflows this week"),
    "fund_outflow_total": ("Fund spending", "微基金支出", "yuan/week", "all outflows this week"),
    "enterprise_units_sold": ("Units sold", "企业销量", "units/week", "units sold by product enterprises"),
    "enterprise_participation": ("Resident units taking part", "驻区单位参与共建比例", "fraction",
                                 "share of enterprises that gave money or goods in the last 52 weeks, or lend employee "
                                 "volunteers (003 专栏1 #5)"),
    "gov_spending": ("Government spending", "政府投入", "yuan/week",
                     "service contracts paid + government money into the fund"),
})

# The fund's money by source and by use, and their weekly columns.
_FUND_SOURCES = {
    "enterprise_per_unit": ("enterprise per-unit (one-cent)", "企业按件捐赠（一分钱公益）"),
    "enterprise_lump": ("enterprise lump and moral-bank goods", "企业定额捐赠与积分物资"),
    "resident_donations": ("resident donations", "居民捐赠"),
    "charity_sales": ("charity sales", "义卖"),
    "social_enterprise": ("social-enterprise reinvestment", "社会企业反哺"),
    "government": ("government grant and match", "政府拨款与配捐"),
}
_FUND_USES = {
    "needy_residents": ("needy residents", "困难群众帮扶"),
    "services": ("services from organisations", "购买社区服务"),
    "projects": ("public projects", "公益项目"),
    "moral_bank": ("moral-bank redemptions", "道德银行兑换"),
    "administration": ("administration", "管理费用"),
}
_add("fund_source", _FUND_SOURCES)
_add("fund_use", _FUND_USES)
_add("output", {f"fund_inflow_{s}": (f"Fund income: {_FUND_SOURCES[s][0]}", f"微基金收入：{_FUND_SOURCES[s][1]}",
                                     "yuan/week", f"inflow from {_FUND_SOURCES[s][0]}") for s in INFLOW_SOURCES})
_add("output", {f"fund_outflow_{u}": (f"Fund spending: {_FUND_USES[u][0]}", f"微基金支出：{_FUND_USES[u][1]}",
                                      "yuan/week", f"outflow to {_FUND_USES[u][0]}") for u in OUTFLOW_USES})

# ---------------------------------------------------------------------------------------------
# Terms of printed tables, charts and reports.  key: (English, Chinese)
# ---------------------------------------------------------------------------------------------
_add("term", {
    "indicator": ("Indicator", "指标"),
    "value": ("Value", "模拟值"),
    "target": ("Target", "规划目标"),
    "met": ("Met", "达标"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "volunteer_coverage": ("Volunteer team coverage", "志愿服务队伍覆盖"),
    "orgs_per_community": ("Social organisations per community", "社区平均社会组织数"),
    "community": ("Community", "社区"),
    "policy": ("Policy", "政策"),
    "seed": ("Seed", "随机种子"),
    "fund_in_total_run": ("Fund income over the run", "微基金累计收入"),
    "fund_out_total_run": ("Fund spending over the run", "微基金累计支出"),
    # comparison charts and reports (experiments/)
    "scenario": ("Scenario", "情景"),
    "baseline": ("Baseline", "基准情景"),
    "diff_vs_baseline": ("Difference vs baseline", "与基准情景之差"),
    "seeds": ("Seeds", "随机种子数"),
    "ci_half_width": ("95 % CI half-width", "95%置信区间半宽"),
    "mean": ("Mean", "均值"),
    "mean_diff": ("Mean difference", "平均差值"),
    "mean_baseline": ("Baseline mean", "基准情景均值"),
    "mean_scenario": ("Scenario mean", "情景均值"),
    "pp": ("pp", "个百分点"),
    "ci95": ("95 % CI", "95%置信区间"),
    "d_z": ("Cohen's d_z (paired)", "配对效应量d_z"),
    "n_pairs": ("Pairs", "配对数"),
    "verdict": ("Verdict", "结论"),
    "n_needed": ("Seeds needed", "所需种子数"),
    "enough": ("enough seeds", "种子数足够"),
    "more": ("more seeds needed", "需要更多种子"),
    "identical": ("no difference in any pair", "各配对均无差异"),
    "constant": ("same value in every seed", "各随机种子取值相同"),
    "too_few": ("fewer than 2 seeds", "种子数少于2"),
    "no_data": ("no data", "无数据"),
    "run_total": ("(run total)", "（全程累计）"),
    "fig_trajectories": ("Mean and 95 % CI across seeds", "各随机种子均值及95%置信区间"),
    "fig_distributions": ("End of run, one point per seed", "期末值（每点为一个随机种子）"),
    "fig_differences": ("Paired difference vs baseline (same seed): mean and 95 % CI",
                        "与基准情景的配对差值（同一随机种子）：均值及95%置信区间"),
    "fig_heatmap": ("mean over seeds", "各随机种子均值"),
    "fig_replication": ("95 % CI half-width using the first n seeds", "前n个随机种子的95%置信区间半宽"),
})

# ---------------------------------------------------------------------------------------------
# The dashboard's own words: controls, titles, messages.  key: (English, Chinese)
# ---------------------------------------------------------------------------------------------
_add("ui", {
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
})

# ---------------------------------------------------------------------------------------------
# Policy levers of the dashboard: a label (with unit) and a plain-language explanation (``_help``),
# from docs/sources.md.  key: (English, Chinese)
# ---------------------------------------------------------------------------------------------
_add("lever", {
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
})

# ---------------------------------------------------------------------------------------------
# Presets: English names here, Chinese names from each preset file's ``label_zh`` (their one source).
# ---------------------------------------------------------------------------------------------
_PRESET_NAMES_EN: dict[str, dict[str, str]] = {
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


def _preset_label_zh(group: str, name: str) -> str:
    text = files("sim.configs").joinpath(group, f"{name}.yaml").read_text(encoding="utf-8")
    return str(yaml.safe_load(text)["label_zh"])


for _group, _names in _PRESET_NAMES_EN.items():
    _add("preset", {f"{_group}={n}": (en, _preset_label_zh(_group, n)) for n, en in _names.items()})

# The output columns as (English, Chinese, unit, meaning): a view of GLOSSARY, not a second table.
COLUMNS: dict[str, tuple[str, str, str, str]] = {
    k: (e.en, e.zh, e.unit, e.meaning) for k, e in GLOSSARY.items() if e.kind == "output"}
# Presets in the glossary's order, per group (e.g. the dashboard's menus).
PRESETS: dict[str, tuple[str, ...]] = {group: tuple(names) for group, names in _PRESET_NAMES_EN.items()}


def label(key: str, lang: str = "en", **fields: object) -> str:
    """The label of ``key`` in ``lang`` ('en' or 'zh'), its ``{fields}`` filled in from ``fields``."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; allowed: {', '.join(LANGUAGES)}")
    try:
        entry = GLOSSARY[key]
    except KeyError:
        raise KeyError(f"no label for {key!r}") from None
    text = entry.zh if lang == "zh" else entry.en
    return text.format(**fields) if fields else text


def preset_label(group: str, name: str, lang: str = "en") -> str:
    """The display name of a community or policy preset, e.g. ``preset_label("policy", "micro_fund", "zh")``."""
    return label(f"{group}={name}", lang)
