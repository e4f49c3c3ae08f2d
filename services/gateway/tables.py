"""Reports and statements as CSV, for a spreadsheet (``Accept: text/csv``).

One writer for every table the API answers: a header row of column names, then one
row per line. Money stays whole rupiah as integers (``105000``, never ``105000.0`` nor
``Rp105.000``) and times ISO 8601 UTC as in JSON, so the numbers add up in any
spreadsheet. Text a member typed that a spreadsheet would take for a formula (``=``,
``+``, ``-``, ``@`` first) is written with a leading ``'``.

Each report's rows come from the JSON the route would answer (``*_table`` below), so
the CSV says what the JSON says.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from werkzeug.wrappers import Request, Response

from services.gateway import network
from services.gateway.http import JSON_TYPE

CSV_TYPE = "text/csv"
Table = tuple[Sequence[str], list[Mapping[str, Any]]]
"""A report as its column names and its rows."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def wants_csv(request: Request) -> bool:
    """The client asked for CSV first (``Accept: text/csv``); JSON otherwise."""
    return request.accept_mimetypes.best_match([JSON_TYPE, CSV_TYPE]) == CSV_TYPE


def csv_response(
    columns: Sequence[str], rows: Iterable[Mapping[str, Any]], filename: str
) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    disposition = f'attachment; filename="{filename}.csv"'
    return Response(out.getvalue(), mimetype=CSV_TYPE, headers={"Content-Disposition": disposition})


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):  # money and counts: a whole number as it is
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


# --- each report as rows -----------------------------------------------------------

STATEMENT_COLUMNS = (
    "at",
    "kind",
    "order_number",
    "amount",
    "balance_after",
    "method",
    "reference",
    "reason",
)


def statement_table(statement: Mapping[str, Any]) -> Table:
    """The entries between two rows of balances: ``opening_balance`` first (at the
    period's start), ``closing_balance`` last (at its end)."""
    opening = {
        "at": statement["from"],
        "kind": "opening_balance",
        "balance_after": statement["opening_balance"],
    }
    closing = {
        "at": statement["to"],
        "kind": "closing_balance",
        "balance_after": statement["closing_balance"],
    }
    return STATEMENT_COLUMNS, [opening, *statement["entries"], closing]


SALES_COLUMNS = (
    "orders",
    "breakdown",
    "id",
    "name",
    "quantity",
    "total",
    "order_count",
    "member_id",
    "agent_commission",
)


def sales_table(report: Mapping[str, Any]) -> Table:
    """A hub's sales report: for completed orders, then every order confirmed or
    later, the totals, each product, each seller, each channel (``id`` the channel)
    and each agent (``id`` the agent, with their ``member_id`` and share)."""
    rows: list[Mapping[str, Any]] = []
    for orders in ("completed", "confirmed"):
        section = report[orders]
        rows.append(
            {
                "orders": orders,
                "breakdown": "total",
                "total": section["gross_total"],
                "order_count": section["order_count"],
            }
        )
        for product in section["by_product"]:
            rows.append(
                {"orders": orders, "breakdown": "product", "id": product["product_id"], **product}
            )
        for seller in section["by_seller"]:
            rows.append(
                {"orders": orders, "breakdown": "seller", "id": seller["seller_id"], **seller}
            )
        for sold in section["by_channel"]:
            rows.append(_sold(orders, "channel", sold["channel"], sold))
        for sold in section["by_agent"]:
            rows.append({**_sold(orders, "agent", sold["agent_id"], sold), **_of_agent(sold)})
    return SALES_COLUMNS, rows


def _sold(orders: str, breakdown: str, name: str, sold: Mapping[str, Any]) -> Mapping[str, Any]:
    """A channel's or an agent's ``{orders, gross}`` in the sales table's columns."""
    return {
        "orders": orders,
        "breakdown": breakdown,
        "id": name,
        "total": sold["gross"],
        "order_count": sold["orders"],
    }


def _of_agent(sold: Mapping[str, Any]) -> Mapping[str, Any]:
    return {"member_id": sold["member_id"], "agent_commission": sold["agent_commission"]}


def network_table(report: Mapping[str, Any]) -> Table:
    """The network report: a row per hub, each followed by a row per agent of it
    (``level`` ``agent``: ``agent_id``, ``member_id`` and their ``orders``, ``gross``
    and ``agent_commission``), then per district, then the network; one column per role
    (``members_seller``…) and per channel (``orders_sms``, ``gross_sms``…) seen
    anywhere in it."""
    levels = (
        [("hub", row) for row in report["hubs"]]
        + [("district", row) for row in report["districts"]]
        + [("network", report["totals"])]
    )
    roles = sorted({role for _, row in levels for role in row["members_by_role"]})
    channels = sorted({channel for _, row in levels for channel in row["by_channel"]})
    columns = (
        "level",
        "district",
        "hub_id",
        "name",
        "agent_id",
        "member_id",
        *(f"members_{role}" for role in roles),
        *network.COUNTS,
        *(f"{what}_{channel}" for channel in channels for what in ("orders", "gross")),
    )
    rows: list[Mapping[str, Any]] = []
    for level, row in levels:
        flat = {**row, "level": level}
        flat.update({f"members_{role}": n for role, n in row["members_by_role"].items()})
        for channel, sales in row["by_channel"].items():
            flat.update({f"orders_{channel}": sales["orders"], f"gross_{channel}": sales["gross"]})
        rows.append(flat)
        for agent in row.get("by_agent", ()):
            rows.append(
                {key: row[key] for key in ("district", "hub_id", "name")}
                | {"level": "agent", **agent}
            )
    return columns, rows
