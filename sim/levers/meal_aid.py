"""Meal aid for the elderly (老年助餐, 003): government subsidises community canteen meals for elderly residents.

The Enyang plan asks communities to "完善助餐、助浴、助洁、助急、助行、助医等社区养老基本公共服务" (003:390, 发展社区
托养与居家照护服务).  The rule (:func:`serve`, once a week after the fund has spent):

* the elderly residents (the 老 of 青老幼工新, 004) who would eat at the community canteen are a fixed share
  ``uptake_share`` of them, in an order drawn once from the lever's own random stream (the diners' queue);
* the week's subsidy money (``budget_yuan_per_year`` ÷ 52, with what was left short of a diner's week carried
  over) pays ``meals_per_diner_week`` meals at ``subsidy_yuan_per_meal`` for as many diners of the queue as it
  covers: what the lever buys is proportional to its money until every diner is served (then the rest is not
  spent and not counted as cost);
* each diner served has one good experience that week (satisfaction and trust move towards 1 by
  ``behaviour.session_satisfaction_rate``, as a project session or the fund's care do,
  :meth:`sim.model.residents.Residents.experience`);
* the subsidy paid is public cost (kind ``meal_aid``).

This module, ``configs/policy/meal_aid.yaml`` and the lever's lines in ``sim/tables/glossary.yaml`` are the whole lever
(docs/architecture.md, "Adding a lever").
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param

ZHUHAI = ("珠海 长者饭堂 (2020–2024): 助餐优惠2000多万元 for 近230万人次, ≈ 8.7 yuan a meal; a 20-yuan lunch costs an "
          "elder 12.6 yuan (http://m.ljsggw.cn/news/324450530b6b86cdf3c0090ee775ca82.html, "
          "http://m.senbk.com/news/966722df00f8406dff35854d33eabfdf.html)")


@lever_params
class MealAidLever:
    """Meal aid for the elderly (老年助餐, 003:390): subsidised community canteen meals."""

    budget_yuan_per_year: float = param(0.0, "yuan/year", 0, 100_000_000,
                                        help="government money subsidising elderly residents' canteen meals",
                                        source="003:390 完善助餐…社区养老基本公共服务; amount: assumption",
                                        money=True, prior=(0.0, 200_000.0),
                                        widget=Widget("number", "lever_meal_aid", 0, 500_000, 5_000, rank=180))
    subsidy_yuan_per_meal: float = param(6.0, "yuan/meal", 0.01, 100,
                                         help="subsidy per meal (the elder pays the rest)",
                                         source="5–9 yuan a meal: " + ZHUHAI)
    meals_per_diner_week: int = param(5, "meals/(person·week)", 1, 21,
                                      help="meals a diner eats at the canteen a week (weekday lunches: assumption)")
    uptake_share: float = param(0.05, "fraction", 0, 1,
                                help="share of elderly residents who would eat at the community canteen",
                                source="assumption; 珠海: ≈ 3,500 diners a day in 149 communities, ≈ 23 per "
                                       "community, " + ZHUHAI)


def serve(model, lever: MealAidLever) -> int:
    """Serve this week's subsidised meals; returns the diners served (see the module's description)."""
    state = model.lever_state.setdefault("meal_aid", {"carry_fen": 0.0, "queue": None})
    if lever.budget_yuan_per_year <= 0:
        state["carry_fen"] = 0.0
        return 0
    r = model.residents
    if state["queue"] is None:  # the elderly in a random order, drawn once; the diners are its first uptake_share
        state["queue"] = model.streams["meal_aid"].permutation(r.members_of("elderly"))
    queue = state["queue"][:round(lever.uptake_share * state["queue"].size)]
    diner_week_fen = round(lever.subsidy_yuan_per_meal * 100) * lever.meals_per_diner_week
    available = state["carry_fen"] + lever.budget_yuan_per_year * 100 / 52
    served = min(queue.size, int(available // diner_week_fen))
    paid = served * diner_week_fen
    state["carry_fen"] = min(available - paid, diner_week_fen)  # money short of one more diner's week waits
    if served:
        r.experience(queue[:served], queue[:0], model.cfg.behaviour.session_satisfaction_rate)
        model.add_public_cost("meal_aid", paid)
    return served


LEVER = Lever(
    "meal_aid", MealAidLever, order=120, rules={"after_fund": serve}, streams=("meal_aid",),
    columns={"meal_aid_diners": lambda m: m.lever_results["meal_aid"].get("after_fund", 0),
             "meal_aid_meals": lambda m: m.lever_results["meal_aid"].get("after_fund", 0)
             * m.policy.meal_aid.meals_per_diner_week},
    cost_kinds=("meal_aid",), source="003:390 完善助餐、助浴、助洁、助急、助行、助医等社区养老基本公共服务")
