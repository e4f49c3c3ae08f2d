"""The hub's money through the gateway, with every service running: an order's life to
completed and paid (``order_settled`` once), a bank transfer with its proof, counter
sales, refunds of cancelled paid orders, the hub's settings, goods received at the
showroom, and the network report's figures."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common import gsm
from services.common.errors import Forbidden
from services.common.signing import SigningProxy
from tests.support.community import approved_member, hub_with_coordinator, schedule_training
from tests.support.events import EventLog
from tests.support.market import move, offer, open_market, order_body, placed, settled, stock
from tests.support.orders import new_key
from tests.support.waiting import holds, wait_until

ACCOUNT = {"bank": "BRI", "number": "001201000123567", "holder": "Koperasi Simpul Pujon"}


@pytest.fixture
def config(config):
    return {**config, "KOMPOR_ORDER_RETRY_SECONDS": 2}


@pytest.fixture
def market(api, admin):
    return open_market(api, admin)


@pytest.fixture
def tap(config, stack):
    """What orders publishes from now on."""
    with EventLog(config, "orders") as events:
        yield events


def settled_once(tap, order):
    """The order's ``order_settled``, once it came; and no second one after it."""
    event = tap.wait_for("order_settled", order_id=order["id"])
    holds(lambda: len(tap.of_type("order_settled", order_id=order["id"])) == 1, 1.0)
    return event["data"]


def pay(client, order):
    return client.post(f"/api/v1/orders/{order['id']}/payment", json={"status": "paid"})


def counter_sale(coordinator, hub_id, lines, key=None, **fields):
    body = {"items": [{"product_id": p["id"], "quantity": q} for p, q in lines], **fields}
    return coordinator.post(
        f"/api/v1/hubs/{hub_id}/counter-sales",
        json=body,
        headers={"Idempotency-Key": key or new_key()},
    )


def texts_to(sms_sink, member, containing):
    return [m["message"] for m in sms_sink.to(member["phone"]) if containing in m["message"]]


# --- an order's life to completed and paid ------------------------------------------


def test_a_pickup_cod_order_is_settled_once_when_it_is_completed(api, market, tap):
    buyer, _ = api.as_member()
    tempe, kopi = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 3), (kopi, 1)])))
    assert (order["channel"], order["commission_percent"]) == ("online", 10)
    assert move(market.seller, order, "ready_for_pickup").status_code == 200
    assert tap.of_type("order_settled", order_id=order["id"]) == []
    done = move(market.coordinator, order, "completed").json()
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    assert done["settled_at"] is not None

    data = settled_once(tap, order)
    assert data["total"] == 3 * 15000 + 40000 and data["settled_at"] == done["settled_at"]
    assert [(line["seller_id"], line["line_total"]) for line in data["items"]] == [
        (market.seller_id, 45000),
        (market.seller_id, 40000),
    ]
    # repeating the completion or the payment settles nothing again
    assert move(market.coordinator, order, "completed").status_code == 200
    assert pay(market.coordinator, order).status_code == 200
    holds(lambda: len(tap.of_type("order_settled", order_id=order["id"])) == 1, 1.0)


def test_a_bank_transfer_order_names_the_account_takes_the_proof_and_settles_when_paid(
    api, market, tap, sms_sink, log
):
    changed = market.coordinator.patch(
        f"/api/v1/hubs/{market.hub_id}", json={"bank_account": ACCOUNT}
    )
    assert changed.status_code == 200, changed.text
    log.wait_known("hubs", market.hub_id, bank_account=ACCOUNT)
    buyer, member = api.as_member()
    _, kopi = market.products
    body = order_body(market.hub_id, [(kopi, 2)], method="delivery", payment="bank_transfer")
    order = settled(buyer, placed(buyer, body))

    # the confirmation says where to pay, how much, and the order number as reference
    (text,) = wait_until(
        lambda: texts_to(sms_sink, member, ACCOUNT["number"]), message="the transfer SMS"
    )
    for part in ("BRI", ACCOUNT["holder"], "Rp80.000", order["number"]):
        assert part in text, text
    assert gsm.is_gsm7(text) and gsm.septets(text) <= 160

    proof = {"reference": "BRI 0912 7781"}
    path = f"/api/v1/orders/{order['id']}/payment-proof"
    assert market.coordinator.post(path, json=proof).status_code == 403
    sent = buyer.post(path, json=proof)
    assert sent.status_code == 200 and sent.json()["payment_reference"] == "BRI 0912 7781"
    seen = market.coordinator.get(f"/api/v1/orders/{order['id']}").json()
    assert seen["payment_reference"] == "BRI 0912 7781" and seen["payment_reference_at"]
    tap.wait_for("payment_proof_sent", order_id=order["id"])
    coordinator_id = market.coordinator.get("/api/v1/me").json()["id"]
    told = wait_until(
        lambda: [n for n in log.of(coordinator_id) if n["template"] == "payment_proof_sent"],
        message="the coordinator told of the transfer",
    )
    assert "BRI 0912 7781" in told[0]["text"]
    bad = buyer.post(path, json={"reference": ""})
    assert bad.status_code == 400 and "reference" in bad.json()["error"]["details"]

    assert move(market.seller, order, "shipped").status_code == 200
    assert move(market.seller, order, "completed").json()["payment_status"] == "unpaid"
    assert tap.of_type("order_settled", order_id=order["id"]) == []
    assert pay(market.coordinator, order).json()["payment_status"] == "paid"
    data = settled_once(tap, order)
    assert (
        data["payment_method"] == "bank_transfer"
        and data["payment_reference"] == proof["reference"]
    )
    late = buyer.post(path, json={"reference": "another"})
    assert late.status_code == 409 and "payment_status" in late.json()["error"]["details"]


def test_a_cod_order_takes_no_transfer_reference(api, market):
    buyer, _ = api.as_member()
    tempe, _ = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 1)])))
    refused = buyer.post(f"/api/v1/orders/{order['id']}/payment-proof", json={"reference": "X1"})
    assert refused.status_code == 409
    assert "payment_method" in refused.json()["error"]["details"]


# --- counter sales ---------------------------------------------------------------------


def test_a_counter_sale_takes_the_stock_at_once_and_is_completed_paid_and_settled(market, tap):
    tempe, kopi = market.products
    key = new_key()
    lines = [(tempe, 3), (kopi, 2)]
    sold = counter_sale(market.coordinator, market.hub_id, lines, key, buyer_name="Bu Tini")
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    assert (sale["status"], sale["payment_status"], sale["channel"]) == (
        "completed",
        "paid",
        "counter",
    )
    assert sale["buyer_id"] is None and sale["payment_method"] == "cash"
    assert sale["customer"] == {"name": "Bu Tini", "phone": None}
    assert sale["total"] == 3 * 15000 + 2 * 40000 and sale["settled_at"]
    assert (stock(market.seller, tempe), stock(market.seller, kopi)) == (7, 38)  # at once

    again = counter_sale(market.coordinator, market.hub_id, lines, key, buyer_name="Bu Tini")
    assert again.status_code == 201 and again.json()["id"] == sale["id"]
    assert (stock(market.seller, tempe), stock(market.seller, kopi)) == (7, 38)
    listed = market.coordinator.get(f"/api/v1/orders?as=coordinator&hub_id={market.hub_id}")
    assert [order["id"] for order in listed.json()["items"]] == [sale["id"]]
    data = settled_once(tap, sale)
    assert data["channel"] == "counter" and data["buyer_id"] is None

    other_body = counter_sale(market.coordinator, market.hub_id, [(tempe, 1)], key)
    assert other_body.status_code == 409
    assert "Idempotency-Key" in other_body.json()["error"]["details"]
    cancel = market.coordinator.post(f"/api/v1/orders/{sale['id']}/cancel", json={})
    assert cancel.status_code == 409


def test_a_counter_sale_beyond_the_stock_is_refused_naming_the_short_product_and_takes_nothing(
    market, tap
):
    tempe, kopi = market.products
    key = new_key()
    lines = [(kopi, 1), (tempe, 11)]
    short = counter_sale(market.coordinator, market.hub_id, lines, key)
    assert short.status_code == 409, short.text
    details = short.json()["error"]["details"]
    assert list(details) == ["items.1.product_id"] and "Only 10" in details["items.1.product_id"][0]
    assert (stock(market.seller, tempe), stock(market.seller, kopi)) == (10, 40)
    again = counter_sale(market.coordinator, market.hub_id, lines, key)
    assert again.status_code == 409 and again.json()["error"]["details"] == details
    assert (stock(market.seller, tempe), stock(market.seller, kopi)) == (10, 40)
    assert tap.of_type("order_settled") == []


def test_a_counter_sale_left_pending_while_catalogue_was_away_is_sold_once_on_its_return(
    stack, market, tap
):
    tempe, _ = market.products
    key = new_key()
    stack.stop("catalogue")
    away = counter_sale(market.coordinator, market.hub_id, [(tempe, 4)], key)
    assert away.status_code == 503, away.text
    listed = market.coordinator.get(f"/api/v1/orders?as=coordinator&hub_id={market.hub_id}")
    (pending,) = listed.json()["items"]
    assert (pending["status"], pending["channel"]) == ("pending", "counter")

    stack.start("catalogue")
    path = f"/api/v1/orders/{pending['id']}"
    wait_until(
        lambda: market.coordinator.get(path).json()["status"] == "completed",
        timeout=30,
        message="the sweeper to sell it",
    )
    assert settled_once(tap, pending)["channel"] == "counter"
    retried = counter_sale(market.coordinator, market.hub_id, [(tempe, 4)], key)
    assert retried.status_code == 201 and retried.json()["id"] == pending["id"]
    assert stock(market.seller, tempe) == 6


@pytest.mark.parametrize(
    ("quantity", "field"),
    [(0, "items.0.quantity"), (-2, "items.0.quantity"), (1000, "items.0.quantity")],
)
def test_a_counter_sale_of_a_bad_quantity_is_refused_naming_it(market, quantity, field):
    tempe, _ = market.products
    refused = counter_sale(market.coordinator, market.hub_id, [(tempe, quantity)])
    assert refused.status_code == 400 and field in refused.json()["error"]["details"]


def test_a_counter_sale_needs_a_key_and_a_product_of_its_own_hub(api, admin, market):
    tempe, _ = market.products
    body = {"items": [{"product_id": tempe["id"], "quantity": 1}]}
    path = f"/api/v1/hubs/{market.hub_id}/counter-sales"
    keyless = market.coordinator.post(path, json=body)
    assert keyless.status_code == 400 and "Idempotency-Key" in keyless.json()["error"]["details"]
    elsewhere = hub_with_coordinator(api, admin)
    seller = approved_member(api, elsewhere.coordinator, elsewhere.hub_id, role="seller")
    theirs = offer(seller.client, elsewhere.coordinator, elsewhere.hub_id, stock=5)
    refused = counter_sale(market.coordinator, market.hub_id, [(theirs, 1)])
    assert refused.status_code == 400
    assert "items.0.product_id" in refused.json()["error"]["details"]
    assert stock(seller.client, theirs) == 5
    assert counter_sale(seller.client, market.hub_id, [(tempe, 1)]).status_code == 403


# --- refunds -------------------------------------------------------------------------


def test_a_paid_order_cancelled_owes_a_refund_until_the_coordinator_settles_it(
    api, market, tap, log
):
    buyer, member = api.as_member()
    tempe, _ = market.products
    body = order_body(market.hub_id, [(tempe, 4)], method="delivery", payment="bank_transfer")
    order = settled(buyer, placed(buyer, body))
    assert pay(market.coordinator, order).status_code == 200
    cancelled = market.coordinator.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["refund_status"] == "due"
    event = tap.wait_for("order_cancelled", order_id=order["id"])
    assert event["data"]["refund_status"] == "due"
    wait_until(lambda: stock(buyer, tempe) == 10, message="the stock given back")

    path = f"/api/v1/orders/{order['id']}/refund"
    assert buyer.post(path, json={}).status_code == 403
    refunded = market.coordinator.post(path, json={"reference": "TRF 1203"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refund_status"] == "settled"
    assert refunded.json()["refund_reference"] == "TRF 1203"
    again = market.coordinator.post(path, json={"reference": "TRF 1203"})
    assert again.status_code == 200 and again.json()["refund_status"] == "settled"
    settled_event = tap.wait_for("refund_settled", order_id=order["id"])
    assert settled_event["data"]["reference"] == "TRF 1203"
    told = wait_until(
        lambda: [n for n in log.of(member["id"]) if n["template"] == "refund_settled"],
        message="the buyer told of the refund",
    )
    assert order["number"] in told[0]["text"] and "TRF 1203" in told[0]["text"]
    holds(lambda: len(tap.of_type("refund_settled", order_id=order["id"])) == 1, 0.5)
    assert tap.of_type("order_settled", order_id=order["id"]) == []


def test_an_unpaid_order_cancelled_owes_no_refund(api, market):
    buyer, _ = api.as_member()
    tempe, _ = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 1)])))
    cancelled = buyer.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    assert cancelled.json()["refund_status"] is None
    refused = market.coordinator.post(f"/api/v1/orders/{order['id']}/refund", json={})
    assert refused.status_code == 409
    assert "refund_status" in refused.json()["error"]["details"]


# --- the hub's settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"commission_percent": 60}, "commission_percent"),
        ({"commission_percent": -5}, "commission_percent"),
        ({"commission_percent": "12"}, "commission_percent"),
        ({"bank_account": {**ACCOUNT, "number": "0012O1000"}}, "bank_account.number"),
        ({"bank_account": {"bank": "BRI", "number": "0012010001"}}, "bank_account.holder"),
        ({}, "commission_percent"),
        ({"slug": "lain"}, "slug"),
    ],
)
def test_bad_hub_settings_are_refused_naming_the_field(hub, body, field):
    refused = hub.coordinator.patch(f"/api/v1/hubs/{hub.hub_id}", json=body)
    assert refused.status_code == 400, refused.text
    assert field in refused.json()["error"]["details"]


def test_the_coordinator_sets_the_commission_and_new_orders_carry_it(
    api, admin, market, community_events
):
    buyer, _ = api.as_member()
    tempe, _ = market.products
    before = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 1)])))
    path = f"/api/v1/hubs/{market.hub_id}"
    assert market.seller.patch(path, json={"commission_percent": 15}).status_code == 403
    changed = market.coordinator.patch(
        path, json={"commission_percent": 15, "bank_account": ACCOUNT}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["commission_percent"], changed.json()["bank_account"]) == (15, ACCOUNT)
    assert api.get(path).json()["commission_percent"] == 15
    again = market.coordinator.patch(path, json={"commission_percent": 15})
    assert again.status_code == 200
    updated = community_events.wait_for("hub_updated", hub_id=market.hub_id)
    assert updated["data"]["changed"] == ["bank_account", "commission_percent"]
    holds(lambda: len(community_events.of_type("hub_updated", hub_id=market.hub_id)) == 1, 0.5)

    def placed_at_15():
        order = placed(buyer, order_body(market.hub_id, [(tempe, 1)]))
        return order if order["commission_percent"] == 15 else None

    assert wait_until(placed_at_15, message="orders to hear of the new commission")
    assert buyer.get(f"/api/v1/orders/{before['id']}").json()["commission_percent"] == 10
    cleared = admin.patch(path, json={"bank_account": None})
    assert cleared.status_code == 200 and cleared.json()["bank_account"] is None


# --- goods received at the showroom ---------------------------------------------------


def test_goods_received_grow_the_stock_once_per_key_and_are_listed(api, admin, market):
    tempe, _ = market.products
    path = f"/api/v1/hubs/{market.hub_id}/intakes"
    body = {"product_id": tempe["id"], "quantity": 24, "note": "Titipan Bu Siti"}
    key = {"Idempotency-Key": new_key()}
    received = market.coordinator.post(path, json=body, headers=key)
    assert received.status_code == 201, received.text
    intake = received.json()
    assert (intake["quantity"], intake["stock_after"], intake["seller_id"]) == (
        24,
        34,
        market.seller_id,
    )
    again = market.coordinator.post(path, json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == intake["id"]
    assert stock(market.seller, tempe) == 34
    listed = market.coordinator.get(path).json()
    assert [row["id"] for row in listed["items"]] == [intake["id"]] and listed["total"] == 1
    assert (
        market.seller.post(path, json=body, headers={"Idempotency-Key": new_key()}).status_code
        == 403
    )
    assert market.seller.get(path).status_code == 403


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"quantity": 0}, 400, "quantity"),
        ({"quantity": -3}, 400, "quantity"),
        ({"quantity": 1_000_001}, 400, "quantity"),
        ({"quantity": 2.5}, 400, "quantity"),
        ({"product_id": "no-such-product"}, 404, "product_id"),
    ],
)
def test_bad_intakes_are_refused_naming_the_field(market, change, status, field):
    tempe, _ = market.products
    body = {"product_id": tempe["id"], "quantity": 5, **change}
    refused = market.coordinator.post(
        f"/api/v1/hubs/{market.hub_id}/intakes", json=body, headers={"Idempotency-Key": new_key()}
    )
    assert refused.status_code == status, refused.text
    assert field in refused.json()["error"]["details"]
    assert stock(market.seller, tempe) == 10


def test_an_intake_of_another_hub_s_product_is_refused_naming_it(api, admin, market):
    elsewhere = hub_with_coordinator(api, admin)
    tempe, _ = market.products
    refused = elsewhere.coordinator.post(
        f"/api/v1/hubs/{elsewhere.hub_id}/intakes",
        json={"product_id": tempe["id"], "quantity": 5},
        headers={"Idempotency-Key": new_key()},
    )
    assert refused.status_code == 409 and "product_id" in refused.json()["error"]["details"]
    keyless = market.coordinator.post(
        f"/api/v1/hubs/{market.hub_id}/intakes", json={"product_id": tempe["id"], "quantity": 5}
    )
    assert keyless.status_code == 400 and "Idempotency-Key" in keyless.json()["error"]["details"]
    assert stock(market.seller, tempe) == 10


# --- the network report's figures -----------------------------------------------------


def test_the_network_figures_are_for_admins_per_hub_and_channel(api, admin, market, config):
    tempe, kopi = market.products
    assert counter_sale(market.coordinator, market.hub_id, [(tempe, 2)]).status_code == 201
    buyer, _ = api.as_member()
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(kopi, 1)])))
    move(market.coordinator, order, "ready_for_pickup")
    move(market.coordinator, order, "completed")
    schedule_training(market.coordinator, market.hub_id, starts_at="2026-01-05T02:00:00Z")
    admin_actor = admin.get("/api/v1/me").json()
    with ClusterRpcProxy(config, timeout=10) as proxy:
        secret = cfg.secret_key(config)
        orders = SigningProxy(proxy.orders, secret)
        community = SigningProxy(proxy.community, secret)
        as_admin = {"member_id": admin_actor["id"], "is_admin": True, "roles": {}}
        period = {"from": "2020-01-01"}
        (sales,) = [
            row for row in orders.network_sales(as_admin, period) if row["hub_id"] == market.hub_id
        ]
        assert sales == {
            "hub_id": market.hub_id,
            "orders": 2,
            "gross": 70000,
            "by_channel": {
                "counter": {"orders": 1, "gross": 30000},
                "online": {"orders": 1, "gross": 40000},
            },
            "by_agent": [],
        }
        (people,) = [
            row
            for row in community.network_members(as_admin, period)
            if row["hub_id"] == market.hub_id
        ]
        assert people["members_by_role"] == {"seller": 1, "buyer": 0, "coordinator": 1}
        assert people["trainings_held"] == 1 and people["trainings_completed"] == 0
        coordinator = {
            "member_id": "c",
            "is_admin": False,
            "roles": {market.hub_id: ["coordinator"]},
        }
        for service in (orders.network_sales, community.network_members):
            with pytest.raises(Forbidden):
                service(coordinator, period)
