"""What the gateway does to reports itself: the network report put together from the
three services' rows, and every report as CSV."""

import csv
import datetime
import io

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.network import network_report
from services.gateway.schemas import NetworkReportSchema
from services.gateway.tables import (
    csv_response,
    network_table,
    sales_table,
    statement_table,
    wants_csv,
)

START = datetime.datetime(2026, 10, 31, 17, tzinfo=datetime.UTC)  # 1 November in WIB
PERIOD = (START, START + datetime.timedelta(days=30))
MEMBERS = [
    {
        "hub_id": "dau",
        "name": "Simpul Dau",
        "district": "Dau",
        "members_by_role": {"seller": 4, "buyer": 10},
        "trainings_held": 2,
        "trainings_completed": 7,
    },
    {
        "hub_id": "pujon",
        "name": "Simpul Pujon",
        "district": "Pujon",
        "members_by_role": {"seller": 3, "coordinator": 1},
        "trainings_held": 1,
        "trainings_completed": 0,
    },
    {
        "hub_id": "sengkaling",
        "name": "Simpul Sengkaling",
        "district": "Dau",
        "members_by_role": {"seller": 1},
        "trainings_held": 0,
        "trainings_completed": 0,
    },
]
SALES = [
    {
        "hub_id": "dau",
        "orders": 3,
        "gross": 300_000,
        "by_channel": {
            "online": {"orders": 1, "gross": 150_000},
            "sms": {"orders": 1, "gross": 50_000},
            "agent": {"orders": 1, "gross": 100_000},
        },
        "by_agent": [
            {
                "agent_id": "ag-1",
                "member_id": "m-7",
                "orders": 1,
                "gross": 100_000,
                "agent_commission": 4_000,
            }
        ],
    },
    {
        "hub_id": "sengkaling",
        "orders": 1,
        "gross": 20_000,
        "by_channel": {"counter": {"orders": 1, "gross": 20_000}},
        "by_agent": [],
    },
]
COMMISSIONS = [
    {"hub_id": "dau", "settled_orders": 3, "commission": 26_000, "agent_commission": 4_000},
    {"hub_id": "sengkaling", "settled_orders": 1, "commission": 2_000, "agent_commission": 0},
]


def report():
    return NetworkReportSchema().dump(network_report(PERIOD, MEMBERS, SALES, COMMISSIONS))


def read(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_network_report_has_every_hub_with_zeros_where_nothing_happened():
    hubs = {row["hub_id"]: row for row in report()["hubs"]}
    assert set(hubs) == {"dau", "pujon", "sengkaling"}
    assert (hubs["pujon"]["orders"], hubs["pujon"]["commission"], hubs["pujon"]["by_channel"]) == (
        0,
        0,
        {},
    )
    assert hubs["dau"]["by_channel"]["sms"] == {"orders": 1, "gross": 50_000}
    assert (hubs["pujon"]["by_agent"], hubs["pujon"]["agent_commission"]) == ([], 0)
    assert hubs["dau"]["by_agent"] == SALES[0]["by_agent"]
    assert (hubs["dau"]["commission"], hubs["dau"]["agent_commission"]) == (26_000, 4_000)


def test_the_network_report_adds_up_per_district_and_for_the_network():
    found = report()
    (dau,) = [row for row in found["districts"] if row["district"] == "Dau"]
    assert dau["hubs"] == 2
    assert dau["members_by_role"] == {"seller": 5, "buyer": 10}
    assert (dau["orders"], dau["gross"], dau["commission"]) == (4, 320_000, 28_000)
    assert dau["agent_commission"] == 4_000
    assert dau["by_channel"]["counter"] == {"orders": 1, "gross": 20_000}
    assert dau["by_channel"]["agent"] == {"orders": 1, "gross": 100_000}
    totals = found["totals"]
    assert (totals["hubs"], totals["trainings_held"], totals["settled_orders"]) == (3, 3, 4)
    assert totals["members_by_role"] == {"seller": 8, "buyer": 10, "coordinator": 1}
    assert found["from"] == "2026-10-31T17:00:00.000Z"


def test_the_network_report_as_csv_has_a_column_per_role_and_channel_and_whole_rupiah():
    columns, rows = network_table(report())
    assert "members_coordinator" in columns and "gross_counter" in columns
    found = read(csv_response(columns, rows, "network"))
    levels = ["hub", "agent", "hub", "hub", "district", "district", "network"]
    assert [row["level"] for row in found] == levels
    assert found[-1]["gross"] == "320000" and found[-1]["orders_sms"] == "1"
    assert found[-1]["members_buyer"] == "10" and found[-1]["agent_commission"] == "4000"
    agent = found[1]
    assert (agent["hub_id"], agent["district"], agent["agent_id"], agent["member_id"]) == (
        "dau",
        "Dau",
        "ag-1",
        "m-7",
    )
    assert (agent["orders"], agent["gross"], agent["agent_commission"]) == ("1", "100000", "4000")


def test_a_statement_as_csv_sits_between_its_opening_and_closing_balance():
    statement = {
        "from": "2026-11-01T00:00:00.000Z",
        "to": None,
        "opening_balance": 1_000,
        "entries": [{"at": "2026-11-02T01:00:00.000Z", "kind": "sale", "amount": 94_500}],
        "closing_balance": 95_500,
    }
    found = read(csv_response(*statement_table(statement), "statement"))
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in found] == [
        ("opening_balance", "", "1000"),
        ("sale", "94500", ""),
        ("closing_balance", "", "95500"),
    ]


def test_text_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    statement = {
        "from": None,
        "to": None,
        "opening_balance": 0,
        "entries": [{"kind": "adjustment", "amount": -500, "reason": '=HYPERLINK("x")'}],
        "closing_balance": 0,
    }
    (_, entry, _) = read(csv_response(*statement_table(statement), "statement"))
    assert entry["reason"] == '\'=HYPERLINK("x")' and entry["amount"] == "-500"


def test_a_sales_report_as_csv_lists_totals_products_sellers_channels_and_agents():
    section = {
        "order_count": 2,
        "gross_total": 45_000,
        "by_product": [{"product_id": "p1", "name": "Kopi", "quantity": 3, "total": 45_000}],
        "by_seller": [{"seller_id": "s1", "quantity": 3, "total": 45_000, "order_count": 2}],
        "by_channel": [
            {"channel": "online", "orders": 1, "gross": 15_000},
            {"channel": "agent", "orders": 1, "gross": 30_000},
        ],
        "by_agent": [
            {
                "agent_id": "ag-1",
                "member_id": "m-7",
                "orders": 1,
                "gross": 30_000,
                "agent_commission": 1_500,
            }
        ],
    }
    columns, rows = sales_table({"completed": section, "confirmed": section})
    found = read(csv_response(columns, rows, "sales"))
    assert [(r["orders"], r["breakdown"], r["id"], r["total"]) for r in found[:6]] == [
        ("completed", "total", "", "45000"),
        ("completed", "product", "p1", "45000"),
        ("completed", "seller", "s1", "45000"),
        ("completed", "channel", "online", "15000"),
        ("completed", "channel", "agent", "30000"),
        ("completed", "agent", "ag-1", "30000"),
    ]
    agent = found[5]
    assert (agent["order_count"], agent["member_id"], agent["agent_commission"]) == (
        "1",
        "m-7",
        "1500",
    )


def test_csv_is_answered_only_to_a_client_that_asks_for_it_first():
    def asking(accept):
        headers = {"Accept": accept} if accept else {}
        return wants_csv(Request(EnvironBuilder(headers=headers).get_environ()))

    assert asking("text/csv")
    assert asking("text/csv, application/json;q=0.5")
    assert not asking(None)
    assert not asking("*/*")
    assert not asking("application/json")
