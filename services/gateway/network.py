"""The network report (DESIGN §8), put together from what three services computed:
community's members and trainings per hub (``community.network_members``), orders'
sales per hub, channel and agent (``orders.network_sales``) and the ledger's commission
per hub, kept by the hub and earned by its agents (``ledger.commission_by_hub``), each
by its own store's aggregation over the same period. This module only joins them by
hub and adds them up per district and for the whole network. Pure: lists of dicts in,
one dict out.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from services.common.periods import Period
from services.common.types import Document

COUNTS = (
    "trainings_held",
    "trainings_completed",
    "orders",
    "gross",
    "settled_orders",
    "commission",
    "agent_commission",
)
BREAKDOWNS = ("members_by_role", "by_channel")


def _blank() -> Document:
    return {**dict.fromkeys(COUNTS, 0), **{name: {} for name in BREAKDOWNS}}


def _blank_hub(hub_id: str) -> Document:
    return {"hub_id": hub_id, "name": None, "district": None, **_blank(), "by_agent": []}


def network_report(
    period: Period,
    members: Iterable[Mapping[str, Any]],
    sales: Iterable[Mapping[str, Any]],
    commissions: Iterable[Mapping[str, Any]],
) -> Document:
    """``{from_, to, hubs, districts, totals}`` of ``period`` (``[start, end)``, as
    ``services.common.periods`` reads it): a row per hub (every hub community knows,
    with zeros where nothing happened, and its agents' sales), per district, and for
    the network."""
    hubs: dict[str, Document] = {}

    def hub(hub_id: str) -> Document:
        return hubs.setdefault(hub_id, _blank_hub(hub_id))

    for row in members:
        found = hub(row["hub_id"])
        found.update({key: row[key] for key in ("name", "district", "members_by_role")})
        found.update({key: row[key] for key in ("trainings_held", "trainings_completed")})
    for row in sales:
        hub(row["hub_id"]).update(
            {key: row[key] for key in ("orders", "gross", "by_channel", "by_agent")}
        )
    for row in commissions:
        hub(row["hub_id"]).update(
            {key: row[key] for key in ("settled_orders", "commission", "agent_commission")}
        )
    rows = sorted(hubs.values(), key=lambda row: (row["district"] or "", row["name"] or ""))
    districts: dict[str | None, list[Document]] = {}
    for row in rows:
        districts.setdefault(row["district"], []).append(row)
    return {
        "from_": period[0],
        "to": period[1],
        "hubs": rows,
        "districts": [
            {"district": name, "hubs": len(members_of), **_total(members_of)}
            for name, members_of in districts.items()
        ],
        "totals": {"hubs": len(rows), **_total(rows)},
    }


def _total(rows: list[Document]) -> Document:
    """The counts of ``rows`` added up, the breakdowns key by key (a channel's orders
    and gross each)."""
    total = _blank()
    for row in rows:
        for key in COUNTS:
            total[key] += row[key]
        for role, count in row["members_by_role"].items():
            total["members_by_role"][role] = total["members_by_role"].get(role, 0) + count
        for channel, sold in row["by_channel"].items():
            into = total["by_channel"].setdefault(channel, {"orders": 0, "gross": 0})
            into["orders"] += sold["orders"]
            into["gross"] += sold["gross"]
    return total
