"""Agents' orders for customers through the gateway, with every service running
(DESIGN §9): the order is the agent's on channel ``agent``; completed and paid, the
agent earns their share out of the hub's commission, never out of the seller's; the
agent's statement and payouts; the hub's sales report and the network report by
channel and by agent."""

import csv
import io

import pytest

from services.common.envelope import utcnow
from services.common.periods import WIB
from tests.support.channels import agent_statement, appointed_agent, order_for_customer, pay_agent
from tests.support.community import approved_member
from tests.support.events import EventLog
from tests.support.ledger import statement, wait_for_balance
from tests.support.market import move, open_market, order_body, place, placed, settled
from tests.support.waiting import wait_until

CUSTOMER = {"name": "Bu Tini", "phone": "0812-3456-7890"}
CUSTOMER_E164 = "+6281234567890"
AGENT_PERCENT = 4


@pytest.fixture
def config(config):
    return {**config, "KOMPOR_ORDER_RETRY_SECONDS": 2}


@pytest.fixture
def market(api, admin):
    """A hub at the default 10 % commission, a seller of Keripik Tempe (Rp15.000) and
    Kopi Dampit (Rp40.000)."""
    return open_market(api, admin)


@pytest.fixture
def agent(api, market):
    """A buyer of the hub appointed its agent at 4 %: ``(client, agent)``."""
    appointed = appointed_agent(api, market.coordinator, market.hub_id, AGENT_PERCENT)
    return appointed.client, {"id": appointed.agent_id, "member_id": appointed.member_id}


def completed_for_customer(market, agent):
    """The agent's order of 3 Keripik Tempe and 1 Kopi Dampit (Rp85.000) for the
    customer, completed at the counter and so paid (cash on pickup)."""
    client, _ = agent
    tempe, kopi = market.products
    body = order_body(market.hub_id, [(tempe, 3), (kopi, 1)])
    order = settled(client, order_for_customer(client, body, CUSTOMER))
    assert order["status"] == "confirmed", order
    for status in ("ready_for_pickup", "completed"):
        moved = move(market.coordinator, order, status)
        assert moved.status_code == 200, moved.text
    return moved.json()


def today():
    return utcnow().astimezone(WIB).date().isoformat()


def network_row(admin, hub_id, orders=None, settled=None):
    """The hub's row of today's network report, once it counts ``orders`` completed
    and ``settled`` settled orders (``None``: any)."""
    found = admin.get("/api/v1/reports/network", params={"from": today(), "to": today()})
    assert found.status_code == 200, found.text
    (row,) = [row for row in found.json()["hubs"] if row["hub_id"] == hub_id]
    if orders is not None and row["orders"] != orders:
        return None
    return row if settled is None or row["settled_orders"] == settled else None


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.text)))


# --- placing ------------------------------------------------------------------------


def test_an_agent_orders_for_a_customer_and_the_order_is_theirs_on_the_agent_channel(
    config, market, agent
):
    client, appointed = agent
    tempe, _ = market.products
    with EventLog(config, "orders") as tap:
        order = order_for_customer(client, order_body(market.hub_id, [(tempe, 2)]), CUSTOMER)
        assert (order["channel"], order["agent_id"], order["buyer_id"]) == (
            "agent",
            appointed["id"],
            appointed["member_id"],
        )
        assert order["customer"] == {"name": "Bu Tini", "phone": CUSTOMER_E164}
        assert (order["agent_commission_percent"], order["agent_commission"]) == (4, 1_200)
        placed_event = tap.wait_for("order_placed", order_id=order["id"])["data"]
    assert placed_event["customer"] == order["customer"]
    assert (placed_event["agent_id"], placed_event["agent_commission_percent"]) == (
        appointed["id"],
        4,
    )
    assert placed_event["channel"] == "agent" and placed_event["broadcast_id"] is None
    mine = client.get("/api/v1/orders", params={"as": "buyer"}).json()["items"]
    assert [found["id"] for found in mine] == [order["id"]]
    seen = market.coordinator.get(f"/api/v1/orders/{order['id']}").json()
    assert (seen["channel"], seen["customer"]["phone"]) == ("agent", CUSTOMER_E164)


def test_only_an_agent_orders_for_a_customer_and_a_bad_customer_is_refused_naming_it(
    api, market, agent
):
    tempe, _ = market.products
    body = order_body(market.hub_id, [(tempe, 1)])
    buyer = approved_member(api, market.coordinator, market.hub_id, role="buyer")

    not_an_agent = place(buyer.client, {**body, "customer": CUSTOMER})
    assert not_an_agent.status_code == 403, not_an_agent.text
    assert "customer" in not_an_agent.json()["error"]["details"]

    for_both = {**body, "customer": CUSTOMER, "on_behalf_of": buyer.member_id}
    refused = place(market.coordinator, for_both)
    assert refused.status_code == 400, refused.text
    assert "customer" in refused.json()["error"]["details"]

    client, _ = agent
    for phone in ("12345", "0341 123456"):  # not a number; a landline gets no SMS
        bad = place(client, {**body, "customer": {"name": "Bu Tini", "phone": phone}})
        assert bad.status_code == 400, bad.text
        assert "customer.phone" in bad.json()["error"]["details"]
    assert client.get("/api/v1/orders").json()["total"] == 0


# --- the money ----------------------------------------------------------------------


def test_a_settled_agents_order_pays_the_agent_from_the_hubs_commission_not_the_sellers(
    config, admin, market, agent
):
    client, appointed = agent
    hub_id, agent_id = market.hub_id, appointed["id"]
    done = completed_for_customer(market, agent)
    assert (done["status"], done["payment_status"]) == ("completed", "paid")

    # 85,000 at 10 %: the seller's part is 76,500 as for any order; 4 % of 85,000 is the
    # agent's 3,400 and the hub keeps 8,500 − 3,400
    found = wait_for_balance(market.coordinator, hub_id, market.seller_id, 76_500)
    assert [(e["kind"], e["amount"]) for e in found["entries"]] == [("sale", 76_500)]

    def booked():
        response = agent_statement(market.coordinator, hub_id, agent_id)
        return response.json() if response.json().get("entries") else None

    booked_for_agent = wait_until(booked, message="the agent's share booked")
    assert [(e["kind"], e["amount"], e["order_number"]) for e in booked_for_agent["entries"]] == [
        ("agent_commission", 3_400, done["number"])
    ]
    assert (booked_for_agent["agent_id"], booked_for_agent["member_id"]) == (
        agent_id,
        appointed["member_id"],
    )
    row = wait_until(lambda: network_row(admin, hub_id, settled=1), message="the hub's tally")
    assert (row["commission"], row["agent_commission"]) == (5_100, 3_400)

    # the agent and the hub's coordinator read the statement; another member may not
    assert agent_statement(client, hub_id, agent_id).json()["closing_balance"] == 3_400
    assert agent_statement(market.seller, hub_id, agent_id).status_code == 403
    assert agent_statement(market.coordinator, hub_id, "no-such-agent").status_code == 404
    as_csv = market.coordinator.get(
        f"/api/v1/hubs/{hub_id}/agents/{agent_id}/statement", headers={"Accept": "text/csv"}
    )
    assert as_csv.headers["Content-Type"].startswith("text/csv")
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in csv_rows(as_csv)] == [
        ("opening_balance", "", "0"),
        ("agent_commission", "3400", "3400"),
        ("closing_balance", "", "3400"),
    ]
    earnings = client.get("/api/v1/me/earnings").json()["items"]
    assert [(e["hub_id"], e["agent_id"], e["balance"]) for e in earnings] == [
        (hub_id, agent_id, 3_400)
    ]

    with EventLog(config, "ledger") as tap:
        paid = pay_agent(market.coordinator, hub_id, agent_id, 3_000)
        assert paid.status_code == 201, paid.text
        assert (paid.json()["agent_id"], paid.json()["member_id"], paid.json()["seller_id"]) == (
            agent_id,
            appointed["member_id"],
            None,
        )
        assert paid.json()["balance_after"] == 400
        event = tap.wait_for("payout_recorded", agent_id=agent_id)["data"]
    assert (event["member_id"], event["amount"], event["balance_after"]) == (
        appointed["member_id"],
        3_000,
        400,
    )
    assert pay_agent(market.coordinator, hub_id, agent_id, 401).status_code == 409
    assert pay_agent(client, hub_id, agent_id, 100).status_code == 403
    both = market.coordinator.post(
        f"/api/v1/hubs/{hub_id}/payouts",
        json={"agent_id": agent_id, "seller_id": market.seller_id, "amount": 1, "method": "cash"},
        headers={"Idempotency-Key": "both"},
    )
    assert both.status_code == 400 and "agent_id" in both.json()["error"]["details"]
    neither = market.coordinator.post(
        f"/api/v1/hubs/{hub_id}/payouts",
        json={"amount": 1, "method": "cash"},
        headers={"Idempotency-Key": "neither"},
    )
    assert neither.status_code == 400 and "seller_id" in neither.json()["error"]["details"]
    assert statement(market.coordinator, hub_id, market.seller_id)["closing_balance"] == 76_500


# --- the reports ----------------------------------------------------------------------


def test_the_sales_and_network_reports_count_each_channel_and_agent(api, admin, market, agent):
    _, appointed = agent
    hub_id = market.hub_id
    completed_for_customer(market, agent)
    buyer, _ = api.as_member()
    _, kopi = market.products
    online = settled(buyer, placed(buyer, order_body(hub_id, [(kopi, 1)])))
    for status in ("ready_for_pickup", "completed"):
        assert move(market.coordinator, online, status).status_code == 200

    report = market.coordinator.get(f"/api/v1/hubs/{hub_id}/reports/sales").json()
    completed = report["completed"]
    assert completed["by_channel"] == [
        {"channel": "online", "orders": 1, "gross": 40_000},
        {"channel": "sms", "orders": 0, "gross": 0},
        {"channel": "whatsapp", "orders": 0, "gross": 0},
        {"channel": "counter", "orders": 0, "gross": 0},
        {"channel": "agent", "orders": 1, "gross": 85_000},
    ]
    by_agent = {
        "agent_id": appointed["id"],
        "member_id": appointed["member_id"],
        "orders": 1,
        "gross": 85_000,
        "agent_commission": 3_400,
    }
    assert completed["by_agent"] == [by_agent]
    as_csv = market.coordinator.get(
        f"/api/v1/hubs/{hub_id}/reports/sales", headers={"Accept": "text/csv"}
    ).text
    assert f"completed,agent,{appointed['id']},,,85000,1,{appointed['member_id']},3400" in as_csv
    assert "completed,channel,agent,,,85000,1" in as_csv

    row = wait_until(
        lambda: network_row(admin, hub_id, orders=2, settled=2),
        message="both orders in the network report",
    )
    assert row["by_channel"] == {
        "agent": {"orders": 1, "gross": 85_000},
        "online": {"orders": 1, "gross": 40_000},
    }
    assert row["by_agent"] == [by_agent]
    assert (row["commission"], row["agent_commission"]) == (8_500 + 4_000 - 3_400, 3_400)
    network_csv = admin.get(
        "/api/v1/reports/network",
        params={"from": today(), "to": today()},
        headers={"Accept": "text/csv"},
    ).text
    assert f"agent,{row['district']},{hub_id}" in network_csv
