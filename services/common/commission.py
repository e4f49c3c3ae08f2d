"""A hub's commission: the share of each sale the hub keeps for running the showroom
(docs: DESIGN §8), and an agent's part of it (§9). Community owns each hub's percent;
orders fixes it on every order when it is placed; both agree here on its bounds and
on the default. Orders (for its reports) and the ledger (for the money) compute a
commission and an agent's share of it here, so the two always agree."""

from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_COMMISSION_PERCENT = 10
"""What a hub keeps until its coordinator sets another percent (and what an order
placed before hubs had one counts at)."""
MAX_COMMISSION_PERCENT = 50
"""Whole percent, from 0 to this."""


def commission_on(amount: int, percent: int) -> int:
    """``round_half_up(amount × percent / 100)`` in whole rupiah, with integers only
    (``amount`` and ``percent`` are never negative): 10 % of 105 is 11, of 104 is 10."""
    return (amount * percent + 50) // 100


def agent_share(amount: int, percent: int, agent_percent: int) -> int:
    """The agent's part of the hub's commission on ``amount`` (DESIGN §9):
    ``round_half_up(amount × agent_percent / 100)``, never more than the commission
    itself, so the seller's part never changes because an agent sold it."""
    return min(commission_on(amount, agent_percent), commission_on(amount, percent))


def gross_by_seller(lines: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """``{seller_id: sum of their lines' line_total}``, in the order of the lines: what
    commission and agent share are computed on."""
    gross: dict[str, int] = {}
    for line in lines:
        gross[line["seller_id"]] = gross.get(line["seller_id"], 0) + line["line_total"]
    return gross
