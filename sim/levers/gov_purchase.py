"""Government purchase of services (政府购买服务, 003) from social organisations.

Rules: contracts are let every ``contract_weeks`` and paid per case of capacity; agencies take work orders only
under contract (:class:`sim.model.platform.Community`: ``contract_round``, ``let_contracts``, ``renew_contracts``,
``pay_self_governing``); a district allots the budget among its communities (:mod:`sim.model.district`).
"""

from __future__ import annotations

from sim.levers.base import Lever, lever_params
from sim.settings.params import Widget, param


@lever_params
class GovPurchaseLever:
    """Government purchase of services (政府购买服务, 003) from social organisations."""

    budget_yuan_per_year: float = param(0.0, "yuan/year", 0, 1_000_000_000,
                                        help="yearly budget for service contracts", source="003: 政府购买服务",
                                        money=True, prior=(0.0, 400_000.0),
                                        widget=Widget("number", "lever_gov_budget", 0, 2_000_000, 10_000, rank=30))
    contract_weeks: int = param(52, "weeks", 1, 520, help="length of a contract",
                                source="yearly contracts: 项目购买一般采取年度制 (docs/literature.md [P9])")
    cost_per_case_yuan: float = param(400.0, "yuan/case", 1, 100_000,
                                      help="what a contracted organisation is paid per case of capacity; its "
                                           "posts are paid by the same money (a post handles "
                                           "behaviour.org_cases_per_staff_week cases)",
                                      source="a purchased social-work post costs ≈ 62,000 yuan a year (national "
                                             "2021: 24.9亿 for 4万 social workers, docs/literature.md [K32]; "
                                             "Shenzhen 6万, [K33]) ÷ (3 cases a week × 52) ≈ 400")
    self_governing_share: float = param(0.0, "fraction", 0, 1,
                                        help="share of the budget contracted to the community's self-governing "
                                             "bodies (居委会、居民小组) for simple-case services, handled with the "
                                             "community workers; the rest goes to registered agencies "
                                             "(share: assumption)",
                                        source="003: 政府购买服务 from 社会组织 and 社区自治组织")


def period(model) -> int:
    """The contract period in weeks (``contract_weeks``)."""
    return model.policy.gov_purchase.contract_weeks


def weeks_to_next_contract(model) -> int:
    """Weeks from this one to the next contract date (a full period on a contract date)."""
    weeks = model.policy.gov_purchase.contract_weeks
    return weeks - model.policy_week % weeks


def self_governing_fen(model, total_fen: int) -> int:
    """The part of a round's money contracted to the self-governing bodies (``self_governing_share``)."""
    return int(total_fen * model.policy.gov_purchase.self_governing_share)


def cases_bought(model, fen: float, weeks: int) -> float:
    """Cases a week that ``fen`` buys over ``weeks`` weeks at ``cost_per_case_yuan`` (fractions included)."""
    return fen / 100 / model.policy.gov_purchase.cost_per_case_yuan / weeks


def budget_of(policy) -> float:
    """A policy's yearly purchase budget (a community's own; a district allots its communities' budgets itself)."""
    return policy.gov_purchase.budget_yuan_per_year


def changed(before, after) -> bool:
    """Whether the purchase values differ between two policies (then running contracts end and new ones are let)."""
    return before.gov_purchase != after.gov_purchase


LEVER = Lever("gov_purchase", GovPurchaseLever, order=50, source="003: 政府购买服务")
