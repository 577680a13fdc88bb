"""The one table of labels: English and Chinese names, units and meanings of every output.

Printed tables, charts and the dashboard take their labels from here (``label(key, lang)``), so
that a Chinese label is written once.  ``COLUMNS`` documents every column of ``timeseries.parquet``;
a test checks that the model's output and this table agree, and docs/ODD.md is generated from it.
"""

from __future__ import annotations

from sim.agents import INFLOW_SOURCES, OUTFLOW_USES

# key: (English label, Chinese label, unit, meaning)
COLUMNS: dict[str, tuple[str, str, str, str]] = {
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
}

INFLOW_LABELS = {
    "enterprise_per_unit": ("enterprise per-unit (one-cent)", "企业按件捐赠（一分钱公益）"),
    "enterprise_lump": ("enterprise lump and moral-bank goods", "企业定额捐赠与积分物资"),
    "resident_donations": ("resident donations", "居民捐赠"),
    "charity_sales": ("charity sales", "义卖"),
    "social_enterprise": ("social-enterprise reinvestment", "社会企业反哺"),
    "government": ("government grant and match", "政府拨款与配捐"),
}
OUTFLOW_LABELS = {
    "needy_residents": ("needy residents", "困难群众帮扶"),
    "services": ("services from organisations", "购买社区服务"),
    "projects": ("public projects", "公益项目"),
    "moral_bank": ("moral-bank redemptions", "道德银行兑换"),
    "administration": ("administration", "管理费用"),
}
for _s in INFLOW_SOURCES:
    en, zh = INFLOW_LABELS[_s]
    COLUMNS[f"fund_inflow_{_s}"] = (f"Fund income: {en}", f"微基金收入：{zh}", "yuan/week", f"inflow from {en}")
for _u in OUTFLOW_USES:
    en, zh = OUTFLOW_LABELS[_u]
    COLUMNS[f"fund_outflow_{_u}"] = (f"Fund spending: {en}", f"微基金支出：{zh}", "yuan/week", f"outflow to {en}")

# Other labels used in printed tables and charts.
TERMS: dict[str, tuple[str, str]] = {
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
    # comparison charts and reports (experiments/compare.py)

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
}


def label(key: str, lang: str = "en") -> str:
    """The label of an output column or term in ``lang`` ('en' or 'zh')."""
    if lang not in ("en", "zh"):
        raise ValueError(f"unknown language {lang!r}; allowed: en, zh")
    i = 0 if lang == "en" else 1
    if key in COLUMNS:
        return COLUMNS[key][i]
    if key in TERMS:
        return TERMS[key][i]
    raise KeyError(f"no label for {key!r}")
