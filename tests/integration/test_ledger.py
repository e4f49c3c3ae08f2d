"""The ledger (DESIGN §8) through the gateway and over RPC, with settled orders
published as orders publishes them (``order_settled``): each seller's share and the
hub's commission booked once, payouts that never overdraw even when sent at the same
moment, statements whose opening balance and entries make their closing balance,
earnings, corrections, CSV, and the commission the network report is built from."""

import collections
import csv
import datetime
import io
import random

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.envelope import isoformat, utcnow
from services.common.errors import Forbidden, ValidationError
from services.common.mongo import database_name, mongo_client
from services.common.periods import WIB
from services.common.signing import signed
from services.ledger.exceptions import InsufficientBalance
from tests.support.catalogue import key_header, make_product
from tests.support.community import apply, approve, approved_member, hub_with_coordinator
from tests.support.ledger import (
    balance,
    expected_split,
    pay,
    random_order,
    settled_order,
    statement,
    wait_for_balance,
)
from tests.support.orders import make_order
from tests.support.waiting import wait_until

ORDERS_IN_THE_RANDOM_RUN = 500
ROUNDS = 12


@pytest.fixture
def ledger_db(config):
    return mongo_client(config)[database_name("ledger")]


@pytest.fixture
def seller(api, hub, ledger_db):
    """A seller of the hub, known to the ledger as one."""
    member = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    wait_until(
        lambda: ledger_db.standings.find_one({"member_id": member.member_id}),
        message="the ledger to hear of the seller",
    )
    return member


def settle(events, hub_id, lines, **overrides):
    """Publish an ``order_settled`` of ``lines`` as orders would; returns the order."""
    order = settled_order(hub_id, lines, **overrides)
    events.publish("orders", "order_settled", order)
    return order


def earn(events, hub, seller, amount, percent=0):
    """The seller earns ``amount`` less ``percent`` from one settled order, booked."""
    before = balance(hub.coordinator, hub.hub_id, seller.member_id)
    settle(events, hub.hub_id, [(seller.member_id, amount)], commission_percent=percent)
    earned = amount - amount * percent // 100
    return wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, before + earned)


def rows(response):
    assert response.headers["Content-Type"].startswith("text/csv"), response.headers
    return list(csv.DictReader(io.StringIO(response.text)))


# --- settled orders --------------------------------------------------------------


def test_a_settled_order_pays_each_seller_their_lines_less_commission_and_the_hub_the_rest(
    api, hub, seller, events, ledger_db
):
    other = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    order = settle(
        events,
        hub.hub_id,
        [(seller.member_id, 3, 35_000), (other.member_id, 1, 10_005)],
        commission_percent=10,
    )
    found = wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 94_500)
    (entry,) = found["entries"]
    assert (entry["kind"], entry["order_number"], entry["amount"]) == (
        "sale",
        order["number"],
        94_500,
    )
    assert balance(other.client, hub.hub_id, other.member_id) == 10_005 - 1_001  # 1000.5 → 1001
    (commission,) = ledger_db.entries.find({"order_id": order["order_id"], "kind": "commission"})
    assert commission["amount"] == 10_500 + 1_001
    assert 94_500 + 9_004 + commission["amount"] == order["total"]


def test_an_order_settled_twice_is_booked_once(hub, seller, events, ledger_db):
    order = settled_order(hub.hub_id, [(seller.member_id, 20_000)])
    first = events.publish("orders", "order_settled", order)
    events.redeliver("orders", "order_settled", first)  # the same event again
    events.publish("orders", "order_settled", order)  # the same order, another event
    wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 18_000)
    marker = settle(events, hub.hub_id, [(seller.member_id, 1_000)], commission_percent=0)
    wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 19_000)
    assert ledger_db.entries.count_documents({"order_id": order["order_id"]}) == 2
    assert ledger_db.entries.count_documents({"order_id": marker["order_id"]}) == 2


def test_five_hundred_random_orders_always_add_up_to_their_totals(
    config, admin, hub, events, ledger_db
):
    rng = random.Random(14)
    sellers = [f"seller-{n}" for n in range(5)]
    orders = [random_order(rng, hub.hub_id, sellers) for _ in range(ORDERS_IN_THE_RANDOM_RUN)]
    for order in orders:
        events.publish("orders", "order_settled", order)
    wait_until(
        lambda: (
            ledger_db.entries.count_documents({"hub_id": hub.hub_id, "kind": "commission"})
            == len(orders)
        ),
        timeout=180,
        interval=1.0,
        message="every order booked",
    )
    booked = collections.defaultdict(int)
    for entry in ledger_db.entries.find({"hub_id": hub.hub_id}):
        booked[entry["order_id"]] += entry["amount"]
    assert booked == {order["order_id"]: order["total"] for order in orders}

    owed, commission = collections.Counter(), 0
    for order in orders:
        sales, cut = expected_split(order)
        owed.update(sales)
        commission += cut
    for seller_id in sellers:
        found = statement(hub.coordinator, hub.hub_id, seller_id)
        assert found["closing_balance"] == owed[seller_id]
        assert (
            found["opening_balance"] + sum(e["amount"] for e in found["entries"])
            == (found["closing_balance"])
        )
    today = utcnow().astimezone(WIB).date().isoformat()
    actor = {"member_id": "admin", "is_admin": True, "roles": {}}
    with ClusterRpcProxy(config) as cluster:
        by_hub = cluster.ledger.commission_by_hub(
            signed(actor, "ledger", "commission_by_hub", cfg.secret_key(config)),
            {"from": today, "to": today},
        )
    counted = {"settled_orders": len(orders), "commission": commission, "agent_commission": 0}
    assert {"hub_id": hub.hub_id, **counted} in by_hub


# --- payouts ---------------------------------------------------------------------


def test_two_coordinators_paying_one_seller_at_once_never_overdraw_it(
    api, admin, hub, seller, events
):
    """Each round, the coordinator and an admin each pay a little more than half the
    balance at the same moment: one payout is recorded, the other refused."""
    for _ in range(ROUNDS):
        owed = earn(events, hub, seller, random.randint(10_000, 90_000))["closing_balance"]
        amount = owed // 2 + 1
        pool = eventlet.GreenPool(2)
        answers = list(
            pool.imap(
                lambda client, amount=amount: pay(client, hub.hub_id, seller.member_id, amount),
                (hub.coordinator, admin),
            )
        )
        assert sorted(answer.status_code for answer in answers) == [201, 409], [
            answer.text for answer in answers
        ]
        (paid,) = [answer.json() for answer in answers if answer.status_code == 201]
        assert paid["balance_after"] == owed - amount >= 0
        assert balance(seller.client, hub.hub_id, seller.member_id) == owed - amount


def test_payouts_sent_together_over_rpc_pay_only_what_the_balance_holds(
    config, hub, seller, events
):
    secret = cfg.secret_key(config)
    with ClusterRpcProxy(config) as cluster:
        coordinator = cluster.community.get_roles(hub.coordinator_id)
        for _ in range(ROUNDS):
            owed = earn(events, hub, seller, random.randint(10_000, 50_000))["closing_balance"]
            amount = random.randint(owed // 5 + 1, owed // 2)
            calls = [
                cluster.ledger.record_payout.call_async(
                    signed(coordinator, "ledger", "record_payout", secret),
                    hub.hub_id,
                    {"seller_id": seller.member_id, "amount": amount, "method": "cash"},
                    idempotency_key=f"rpc-{random.random()}",
                )
                for _ in range(6)
            ]
            paid, refused = [], 0
            for call in calls:
                try:
                    paid.append(call.result())
                except InsufficientBalance:
                    refused += 1
            assert len(paid) == owed // amount and refused == 6 - len(paid)
            assert sorted(p["balance_after"] for p in paid) == [
                owed - amount * n for n in range(len(paid), 0, -1)
            ]
            assert balance(hub.coordinator, hub.hub_id, seller.member_id) == (
                owed - amount * len(paid)
            )


def test_a_payout_tells_the_seller_the_amount_and_the_balance_left(hub, seller, events, sms_sink):
    earn(events, hub, seller, 100_000)
    response = pay(
        hub.coordinator, hub.hub_id, seller.member_id, 60_000, "bank_transfer", reference="TRF-0042"
    )
    assert response.status_code == 201, response.text
    payout = response.json()
    assert {k: payout[k] for k in ("amount", "method", "reference", "balance_after")} == {
        "amount": 60_000,
        "method": "bank_transfer",
        "reference": "TRF-0042",
        "balance_after": 40_000,
    }
    phone = seller.client.get("/api/v1/me").json()["phone"]
    (message,) = wait_until(
        lambda: (
            sms_sink.to(phone) and [m for m in sms_sink.to(phone) if "Rp60.000" in m["message"]]
        ),
        message="the seller's SMS",
    )
    assert "Rp60.000" in message["message"] and "Rp40.000" in message["message"]
    assert len(message["message"]) <= 160


def test_a_retried_payout_pays_once_and_its_key_for_another_body_is_refused(hub, seller, events):
    earn(events, hub, seller, 50_000)
    answers = [
        pay(hub.coordinator, hub.hub_id, seller.member_id, 20_000, key="pay-1") for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201] * 3
    assert len({a.json()["id"] for a in answers}) == 1
    assert balance(seller.client, hub.hub_id, seller.member_id) == 30_000
    other = pay(hub.coordinator, hub.hub_id, seller.member_id, 25_000, key="pay-1")
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["error"]["details"]


def test_what_a_payout_refuses_it_names(api, hub, seller, events):
    earn(events, hub, seller, 10_000)
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    path = f"/api/v1/hubs/{hub.hub_id}/payouts"
    good = {"seller_id": seller.member_id, "amount": 1_000, "method": "cash"}
    cases = [
        ({"amount": 0}, 400, "amount"),
        ({"amount": -5}, 400, "amount"),
        ({"amount": 1_000_000_001}, 400, "amount"),
        ({"amount": 10.5}, 400, "amount"),  # money is never a float, nor rounded
        ({"amount": "1000"}, 400, "amount"),
        ({"method": "gopay"}, 400, "method"),
        ({"reference": ""}, 400, "reference"),
        ({"seller_id": buyer.member_id}, 409, "seller_id"),
        ({"seller_id": "nobody"}, 409, "seller_id"),
        ({"seller_id": hub.coordinator_id}, 403, "seller_id"),  # nobody pays themselves
        ({"amount": 10_001}, 409, "amount"),
    ]
    for change, status, field in cases:
        response = hub.coordinator.post(
            path, json={**good, **change}, headers={"Idempotency-Key": str(random.random())}
        )
        assert response.status_code == status, (change, response.text)
        assert field in response.json()["error"]["details"], (change, response.text)
    no_key = hub.coordinator.post(path, json=good)
    assert no_key.status_code == 400 and "Idempotency-Key" in no_key.json()["error"]["details"]
    assert balance(seller.client, hub.hub_id, seller.member_id) == 10_000


# --- statements, earnings, adjustments ---------------------------------------------


def test_a_statement_opens_with_the_balance_before_its_period_and_closes_with_the_one_after(
    hub, seller, events
):
    earn(events, hub, seller, 30_000)
    middle = isoformat(utcnow())
    earn(events, hub, seller, 12_000)
    assert pay(hub.coordinator, hub.hub_id, seller.member_id, 40_000).status_code == 201
    found = statement(seller.client, hub.hub_id, seller.member_id, **{"from": middle})
    assert found["opening_balance"] == 30_000
    assert [(e["kind"], e["amount"]) for e in found["entries"]] == [
        ("sale", 12_000),
        ("payout", -40_000),
    ]
    assert found["closing_balance"] == 2_000
    before = statement(seller.client, hub.hub_id, seller.member_id, to=middle)
    assert (before["opening_balance"], before["closing_balance"]) == (0, 30_000)


def test_only_the_seller_and_the_hubs_coordinator_read_a_statement(api, hub, seller):
    other = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    path = f"/api/v1/hubs/{hub.hub_id}/sellers/{seller.member_id}/statement"
    refused = other.client.get(path)
    assert refused.status_code == 403 and "seller_id" in refused.json()["error"]["details"]
    nobody = hub.coordinator.get(f"/api/v1/hubs/{hub.hub_id}/sellers/nobody/statement")
    assert nobody.status_code == 404 and "seller_id" in nobody.json()["error"]["details"]
    bad = hub.coordinator.get(path, params={"from": "kemarin"})
    assert bad.status_code == 400 and "from" in bad.json()["error"]["details"]


def test_earnings_show_what_each_hub_owes_the_seller(api, admin, hub, seller, events):
    second = hub_with_coordinator(api, admin)
    approve(second.coordinator, apply(seller.client, second.hub_id)["id"])
    earn(events, hub, seller, 25_000)
    settle(events, second.hub_id, [(seller.member_id, 7_000)], commission_percent=0)
    wait_for_balance(second.coordinator, second.hub_id, seller.member_id, 7_000)
    earnings = seller.client.get("/api/v1/me/earnings").json()
    assert earnings["total"] == 2
    assert {e["hub_id"]: e["balance"] for e in earnings["items"]} == {
        hub.hub_id: 25_000,
        second.hub_id: 7_000,
    }
    assert hub.coordinator.get("/api/v1/me/earnings").json()["items"] == []


def test_an_adjustment_corrects_a_balance_with_its_reason_but_never_below_zero(hub, seller, events):
    earn(events, hub, seller, 5_000)
    path = f"/api/v1/hubs/{hub.hub_id}/adjustments"

    def adjust(amount, key):
        body = {"seller_id": seller.member_id, "amount": amount, "reason": "Salah hitung"}
        return hub.coordinator.post(path, json=body, headers={"Idempotency-Key": key})

    assert adjust(-2_000, "a-1").json()["balance_after"] == 3_000
    assert adjust(-2_000, "a-1").json()["balance_after"] == 3_000  # the same, once
    too_much = adjust(-3_001, "a-2")
    assert too_much.status_code == 409 and "amount" in too_much.json()["error"]["details"]
    zero = adjust(0, "a-3")
    assert zero.status_code == 400 and "amount" in zero.json()["error"]["details"]
    assert adjust(500, "a-4").json()["balance_after"] == 3_500
    reasons = [
        e["reason"] for e in statement(seller.client, hub.hub_id, seller.member_id)["entries"]
    ]
    assert reasons == [None, "Salah hitung", "Salah hitung"]


# --- CSV -----------------------------------------------------------------------------


def test_a_statement_comes_as_csv_with_whole_rupiah_between_its_balances(hub, seller, events):
    earn(events, hub, seller, 105_000, percent=10)
    assert pay(hub.coordinator, hub.hub_id, seller.member_id, 50_000).status_code == 201
    path = f"/api/v1/hubs/{hub.hub_id}/sellers/{seller.member_id}/statement"
    found = rows(seller.client.get(path, headers={"Accept": "text/csv"}))
    assert [(r["kind"], r["amount"], r["balance_after"]) for r in found] == [
        ("opening_balance", "", "0"),
        ("sale", "94500", "94500"),
        ("payout", "-50000", "44500"),
        ("closing_balance", "", "44500"),
    ]
    assert seller.client.get(path).headers["Content-Type"].startswith("application/json")


def test_the_sales_report_comes_as_csv(hub):
    response = hub.coordinator.get(
        f"/api/v1/hubs/{hub.hub_id}/reports/sales", headers={"Accept": "text/csv"}
    )
    channels = ("online", "sms", "whatsapp", "counter", "agent")
    assert [(r["orders"], r["breakdown"], r["id"], r["total"]) for r in rows(response)] == [
        (orders, breakdown, name, "0")
        for orders in ("completed", "confirmed")
        for breakdown, name in (("total", ""), *(("channel", channel) for channel in channels))
    ]


# --- commission by hub -----------------------------------------------------------


def test_commission_by_hub_is_for_admins_and_counts_whole_days(config, hub, seller, events):
    settle(events, hub.hub_id, [(seller.member_id, 200_000)], commission_percent=12)
    wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 176_000)
    secret = cfg.secret_key(config)
    today = utcnow().astimezone(WIB).date()
    admin_actor = {"member_id": "admin", "is_admin": True, "roles": {}}

    def by_hub(actor, query):
        with ClusterRpcProxy(config) as cluster:
            return cluster.ledger.commission_by_hub(
                signed(actor, "ledger", "commission_by_hub", secret), query
            )

    assert by_hub(admin_actor, {"from": today.isoformat(), "to": today.isoformat()}) == [
        {"hub_id": hub.hub_id, "settled_orders": 1, "commission": 24_000, "agent_commission": 0}
    ]
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert by_hub(admin_actor, {"from": tomorrow}) == []
    with pytest.raises(Forbidden):
        by_hub({"member_id": hub.coordinator_id, "is_admin": False, "roles": {}}, {})
    with pytest.raises(ValidationError):
        by_hub(admin_actor, {"from": f"{today.isoformat()}T10:00:00Z"})


def test_the_network_report_joins_members_sales_and_commission_per_hub_and_district(
    admin, hub, seller, events
):
    settle(events, hub.hub_id, [(seller.member_id, 50_000)], commission_percent=10)
    wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 45_000)
    today = utcnow().astimezone(WIB).date().isoformat()
    report = admin.get("/api/v1/reports/network", params={"from": today, "to": today}).json()
    (row,) = [row for row in report["hubs"] if row["hub_id"] == hub.hub_id]
    assert (row["settled_orders"], row["commission"]) == (1, 5_000)
    assert row["members_by_role"]["seller"] >= 1
    assert report["totals"]["commission"] == sum(r["commission"] for r in report["districts"])
    found = rows(admin.get("/api/v1/reports/network", headers={"Accept": "text/csv"}))
    assert found[-1]["level"] == "network"


# --- end to end: an order's life through the API -------------------------------------


def test_an_order_completed_and_paid_through_the_api_is_booked_for_its_seller_and_hub(
    api, hub, seller, ledger_db
):
    product = seller.client.post(
        "/api/v1/products", json=make_product(hub.hub_id, price=35_000), headers=key_header()
    ).json()
    approved = hub.coordinator.post(f"/api/v1/products/{product['id']}/approve")
    assert approved.status_code == 200, approved.text
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    body = make_order(hub.hub_id, [({"product_id": product["id"]}, 3)])  # pickup, cash

    def placed():
        response = buyer.client.post("/api/v1/orders", json=body, headers=key_header())
        return response.json() if response.status_code == 201 else None

    order = wait_until(placed, message="orders to know the product")
    wait_until(
        lambda: buyer.client.get(f"/api/v1/orders/{order['id']}").json()["status"] == "confirmed",
        message="the order confirmed",
    )
    for status in ("ready_for_pickup", "completed"):  # cash on pickup: completed is paid
        moved = hub.coordinator.post(
            f"/api/v1/orders/{order['id']}/status", json={"status": status}
        )
        assert moved.status_code == 200, moved.text
    found = wait_for_balance(hub.coordinator, hub.hub_id, seller.member_id, 94_500)
    assert [(e["kind"], e["order_number"]) for e in found["entries"]] == [("sale", order["number"])]
    (commission,) = ledger_db.entries.find({"order_id": order["id"], "kind": "commission"})
    assert commission["amount"] == 10_500
