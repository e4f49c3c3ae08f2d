"""Whole order flows through the gateway with the real community and catalogue:
the stock saga, cancellation, both lifecycles with payments, the sales report, and
orders taken while catalogue is down."""

import pytest
from kombu import Connection
from nameko.constants import AMQP_URI_CONFIG_KEY

from tests.support.community import approve, approved_member, decide
from tests.support.market import (
    move,
    offer,
    open_market,
    order_body,
    place,
    placed,
    settled,
    stock,
)
from tests.support.waiting import wait_until

ANSWERS = "evt-catalogue-stock_reserved--orders.handle_stock_reserved"
ANNOUNCEMENTS = "evt-orders-order_placed--catalogue.handle_order_placed"


@pytest.fixture
def config(config):
    return {**config, "KOMPOR_ORDER_RETRY_SECONDS": 2}


@pytest.fixture
def market(api, admin):
    """A hub, its coordinator, and an approved seller with two approved products
    (stock 10 and 40) that the orders service already knows."""
    return open_market(api, admin)


def test_an_order_is_confirmed_and_takes_the_stock(api, market):
    buyer, _ = api.as_member()
    tempe, kopi = market.products
    order = placed(buyer, order_body(market.hub_id, [(tempe, 3), (kopi, 2)]))
    assert order["total"] == 3 * 15000 + 2 * 40000
    confirmed = settled(buyer, order)
    assert confirmed["status"] == "confirmed"
    assert [entry["status"] for entry in confirmed["history"]] == ["pending", "confirmed"]
    assert (stock(buyer, tempe), stock(buyer, kopi)) == (7, 38)


def test_an_order_beyond_the_stock_is_rejected_and_takes_nothing(api, market):
    buyer, _ = api.as_member()
    tempe, kopi = market.products
    order = placed(buyer, order_body(market.hub_id, [(tempe, 11), (kopi, 1)]))
    rejected = settled(buyer, order)
    assert rejected["status"] == "rejected" and rejected["reason"]
    shortage = rejected["shortages"][0]
    assert shortage["product_id"] == tempe["id"] and shortage["requested"] == 11
    assert shortage["available"] == 10
    assert (stock(buyer, tempe), stock(buyer, kopi)) == (10, 40)
    assert buyer.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409


def test_cancelling_a_confirmed_order_gives_the_stock_back_exactly(api, market):
    buyer, _ = api.as_member()
    tempe, _ = market.products
    order = placed(buyer, order_body(market.hub_id, [(tempe, 4)]))
    settled(buyer, order)
    assert stock(buyer, tempe) == 6
    cancelled = buyer.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "Salah"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    wait_until(lambda: stock(buyer, tempe) == 10, message="the stock back")
    again = buyer.post(f"/api/v1/orders/{order['id']}/cancel")  # a retried request
    assert again.status_code == 200
    other = placed(buyer, order_body(market.hub_id, [(tempe, 1)]))
    settled(buyer, other)  # catalogue has handled everything before this order
    assert stock(buyer, tempe) == 9


def test_a_pickup_order_paid_cash_runs_to_completed(api, market):
    buyer, _ = api.as_member()
    tempe, _ = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 2)])))

    wrong = move(market.seller, order, "shipped")
    assert wrong.status_code == 409
    assert "confirmed" in wrong.json()["error"]["message"]
    assert "shipped" in wrong.json()["error"]["message"]
    assert move(buyer, order, "ready_for_pickup").status_code == 403
    assert move(market.seller, order, "ready_for_pickup").status_code == 200
    assert buyer.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409
    completed = move(market.coordinator, order, "completed")
    assert completed.status_code == 200
    done = completed.json()
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    assert [entry["status"] for entry in done["history"]] == [
        "pending",
        "confirmed",
        "ready_for_pickup",
        "completed",
    ]
    assert done["history"][2]["by"] == market.seller_id
    assert market.coordinator.post(f"/api/v1/orders/{order['id']}/cancel").status_code == 409
    assert stock(buyer, tempe) == 8


def test_a_delivery_order_paid_by_transfer_is_shipped_paid_and_completed(api, market):
    buyer, buyer_member = api.as_member()
    _, kopi = market.products
    body = order_body(market.hub_id, [(kopi, 1)], method="delivery", payment="bank_transfer")
    order = settled(buyer, placed(buyer, body))
    assert order["fulfilment"]["address"].startswith("Jl. Kenanga")

    assert move(market.seller, order, "ready_for_pickup").status_code == 409
    assert move(market.seller, order, "shipped").status_code == 200
    pay = {"status": "paid"}
    assert market.seller.post(f"/api/v1/orders/{order['id']}/payment", json=pay).status_code == 403
    paid = market.coordinator.post(f"/api/v1/orders/{order['id']}/payment", json=pay)
    assert paid.status_code == 200 and paid.json()["payment_status"] == "paid"
    completed = move(market.seller, order, "completed").json()
    assert completed["status"] == "completed" and completed["payment_status"] == "paid"

    as_seller = market.seller.get("/api/v1/orders?as=seller").json()
    assert order["id"] in [item["id"] for item in as_seller["items"]]
    as_coordinator = market.coordinator.get(
        f"/api/v1/orders?as=coordinator&hub_id={market.hub_id}&status=completed"
    ).json()
    assert [item["id"] for item in as_coordinator["items"]] == [order["id"]]
    assert as_coordinator["items"][0]["buyer_id"] == buyer_member["id"]


def test_the_sales_report_matches_the_orders(api, market):
    buyer, _ = api.as_member()
    tempe, kopi = market.products
    hub = market.hub_id
    orders = [
        placed(buyer, order_body(hub, [(tempe, 2), (kopi, 1)])),  # completed: 70 000
        placed(buyer, order_body(hub, [(kopi, 3)])),  # completed: 120 000
        placed(buyer, order_body(hub, [(tempe, 1)])),  # confirmed only: 15 000
        placed(buyer, order_body(hub, [(tempe, 50)])),  # rejected: not counted
    ]
    for order in orders:
        settled(buyer, order)
    for order in orders[:2]:
        assert move(market.seller, order, "ready_for_pickup").status_code == 200
        assert move(market.coordinator, order, "completed").status_code == 200

    report = market.coordinator.get(f"/api/v1/hubs/{hub}/reports/sales?from=2020-01-01")
    assert report.status_code == 200, report.text
    completed, confirmed = report.json()["completed"], report.json()["confirmed"]
    assert (completed["order_count"], completed["gross_total"]) == (2, 190000)
    assert (confirmed["order_count"], confirmed["gross_total"]) == (3, 205000)
    assert {
        row["product_id"]: (row["quantity"], row["total"]) for row in completed["by_product"]
    } == {
        tempe["id"]: (2, 30000),
        kopi["id"]: (4, 160000),
    }
    assert completed["by_seller"] == [
        {"seller_id": market.seller_id, "quantity": 6, "total": 190000, "order_count": 2}
    ]
    bad = market.coordinator.get(f"/api/v1/hubs/{hub}/reports/sales?from=kemarin")
    assert bad.status_code == 400 and "from" in bad.json()["error"]["details"]
    assert buyer.get(f"/api/v1/hubs/{hub}/reports/sales").status_code == 403


def test_orders_taken_while_catalogue_is_down_settle_when_it_returns(stack, market):
    """30 orders for 10 + 40 in stock: all accepted as pending while catalogue is
    stopped; afterwards each is confirmed or rejected and the stock adds up."""
    buyer, _ = stack.api.as_member()
    tempe, kopi = market.products
    stack.stop("catalogue")
    orders = [
        placed(buyer, order_body(market.hub_id, [(tempe, 1 + n % 2), (kopi, 1 + n % 3)]))
        for n in range(30)
    ]
    assert {order["status"] for order in orders} == {"pending"}
    listed = buyer.get("/api/v1/orders?status=pending&page_size=100").json()
    assert listed["total"] == 30

    stack.start("catalogue")
    outcomes = [settled(buyer, order, timeout=30) for order in orders]
    confirmed = [order for order in outcomes if order["status"] == "confirmed"]
    assert confirmed and len(confirmed) < 30

    def taken(product):
        return sum(
            line["quantity"]
            for order in confirmed
            for line in order["items"]
            if line["product_id"] == product["id"]
        )

    assert stock(buyer, tempe) == 10 - taken(tempe) >= 0
    assert stock(buyer, kopi) == 40 - taken(kopi) >= 0


def waiting(config, queue):
    """How many messages wait in ``queue``."""
    with Connection(config[AMQP_URI_CONFIG_KEY]) as connection:
        return connection.default_channel.queue_declare(queue, passive=True).message_count


def test_an_order_whose_answer_was_lost_is_confirmed_when_announced_again(stack, market):
    """Catalogue reserves while orders is away and the answer is lost; the order
    announced again hears the same answer and is confirmed, its stock taken once."""
    buyer, _ = stack.api.as_member()
    tempe, _ = market.products
    stack.stop("catalogue")
    order = placed(buyer, order_body(market.hub_id, [(tempe, 3)]))
    stack.stop("orders")
    stack.start("catalogue")
    wait_until(lambda: stock(buyer, tempe) == 7, message="the stock reserved")
    wait_until(
        lambda: waiting(stack.config, ANNOUNCEMENTS) == 0 and waiting(stack.config, ANSWERS),
        message="catalogue's answer waiting for orders",
    )
    with Connection(stack.config[AMQP_URI_CONFIG_KEY]) as connection:
        connection.default_channel.queue_purge(ANSWERS)  # the answer is lost

    stack.start("orders")
    confirmed = settled(buyer, order, timeout=30)
    assert confirmed["status"] == "confirmed"
    assert [entry["status"] for entry in confirmed["history"]] == ["pending", "confirmed"]
    assert stock(buyer, tempe) == 7


# --- suspension, and orders of several sellers ---------------------------------------


def showroom(client, hub_id):
    response = client.get("/api/v1/products", params={"hub_id": hub_id})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_a_suspended_seller_s_orders_go_to_the_coordinator_and_their_products_to_nobody(
    api, market
):
    buyer, _ = api.as_member()
    tempe, kopi = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 2)])))
    assert decide(market.coordinator, market.membership_id, "suspend").status_code == 200

    refused = move(market.seller, order, "ready_for_pickup")
    assert refused.status_code == 403 and "suspended" in refused.json()["error"]["message"]
    wait_until(
        lambda: not showroom(api, market.hub_id) & {tempe["id"], kopi["id"]},
        message="the seller's products out of the showroom",
    )
    assert api.get(f"/api/v1/products/{tempe['id']}").status_code == 404
    body = order_body(market.hub_id, [(kopi, 1)])
    not_for_sale = wait_until(
        lambda: (response := place(buyer, body)).status_code == 404 and response.json(),
        message="orders to refuse the suspended seller's product",
    )
    assert "items.0.product_id" in not_for_sale["error"]["details"]

    assert move(market.coordinator, order, "ready_for_pickup").status_code == 200
    assert move(market.seller, order, "completed").status_code == 403
    assert move(market.coordinator, order, "completed").json()["status"] == "completed"

    approve(market.coordinator, market.membership_id)  # reinstated
    wait_until(
        lambda: showroom(api, market.hub_id) >= {tempe["id"], kopi["id"]},
        message="the products back in the showroom",
    )
    again = wait_until(
        lambda: (response := place(buyer, body)).status_code == 201 and response.json(),
        message="the product for sale again",
    )
    assert move(market.seller, settled(buyer, again), "ready_for_pickup").status_code == 200


def test_a_suspended_buyer_cannot_order_in_that_hub_until_reinstated(api, market):
    buyer = approved_member(api, market.coordinator, market.hub_id, role="buyer")
    tempe, _ = market.products
    body = order_body(market.hub_id, [(tempe, 1)])
    assert decide(market.coordinator, buyer.membership_id, "suspend").status_code == 200
    refused = wait_until(
        lambda: (response := place(buyer.client, body)).status_code == 403 and response.json(),
        message="orders to hear of the suspension",
    )
    assert "suspended" in refused["error"]["message"]
    approve(market.coordinator, buyer.membership_id)
    wait_until(
        lambda: place(buyer.client, body).status_code == 201,
        message="orders to hear of the reinstatement",
    )


def test_each_seller_of_an_order_moves_only_their_own_lines(api, market):
    other = approved_member(api, market.coordinator, market.hub_id, role="seller")
    rendang = offer(other.client, market.coordinator, market.hub_id, name="Rendang", stock=5)
    buyer, _ = api.as_member()
    tempe, _ = market.products
    order = settled(buyer, placed(buyer, order_body(market.hub_id, [(tempe, 1), (rendang, 1)])))

    def lines(answer):
        return {line["seller_id"]: line["status"] for line in answer["items"]}

    first = move(market.seller, order, "ready_for_pickup").json()
    assert first["status"] == "confirmed"
    assert lines(first) == {market.seller_id: "ready_for_pickup", other.member_id: "confirmed"}
    assert move(market.seller, order, "completed").json()["status"] == "confirmed"
    ready = move(other.client, order, "ready_for_pickup").json()
    assert ready["status"] == "ready_for_pickup"
    assert lines(ready) == {market.seller_id: "completed", other.member_id: "ready_for_pickup"}
    done = move(other.client, order, "completed").json()
    assert done["status"] == "completed" and done["payment_status"] == "paid"
    assert [entry["status"] for entry in done["history"]] == [
        "pending",
        "confirmed",
        "ready_for_pickup",
        "completed",
    ]
    assert {entry["by"] for entry in done["history"][2:]} == {other.member_id}
