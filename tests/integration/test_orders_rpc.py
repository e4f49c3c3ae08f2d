"""The orders service over RPC, with catalogue's events published by the test:
the product projection, idempotent placement, the saga and its retries."""

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.errors import Conflict, NotFound, ValidationError
from services.common.signing import SigningProxy
from services.orders.exceptions import ItemsNotInHub, ProductNotAvailable
from tests.support.events import EventLog
from tests.support.orders import make_actor, make_order, make_product, new_key, without_catalogue
from tests.support.waiting import holds, wait_until

HUB = "hub-1"


@pytest.fixture
def config(config):
    return {**config, "KOMPOR_ORDER_RETRY_SECONDS": 1}


def signed_orders(proxy, config):
    """The orders service, called as the gateway would: each actor signed."""
    return SigningProxy(proxy.orders, cfg.secret_key(config))


@pytest.fixture
def rpc(config, stack):
    with ClusterRpcProxy(config, timeout=10) as proxy:
        yield signed_orders(proxy, config)


@pytest.fixture
def stack(stack):
    return without_catalogue(stack)


@pytest.fixture
def tap(config, stack):
    """What orders publishes from now on."""
    with EventLog(config, "orders") as events:
        yield events


def announced(tap, event_type, order, count=1, timeout=10):
    """The ``event_type`` events about ``order``, once there are ``count`` of them."""
    return wait_until(
        lambda: len(found := tap.of_type(event_type, order_id=order["id"])) >= count and found,
        timeout=timeout,
        message=f"{count} × {event_type}",
    )


@pytest.fixture
def buyer():
    return make_actor(buyer=[HUB])


def approved(catalogue, rpc, **overrides):
    """A product approved by catalogue and already in the orders projection."""
    product = make_product(hub_id=HUB, **overrides)
    catalogue.approve(product)
    wait_until(lambda: known(rpc, product), message="product in the projection")
    return product


def known(rpc, product, quantity=1):
    probe = make_actor()
    try:
        rpc.place_order(probe, "probe", make_order(product["hub_id"], [(product, quantity)]))
    except ProductNotAvailable:
        return False
    return True


def test_an_approved_product_is_ordered_and_the_order_announced(rpc, catalogue, tap, buyer):
    tempe = approved(catalogue, rpc, price=15000)
    kopi = approved(catalogue, rpc, price=40000, seller_id="seller-2")
    order = rpc.place_order(buyer, new_key(), make_order(HUB, [(tempe, 2), (kopi, 1)]))
    assert order["status"] == "pending" and order["total"] == 70000
    assert order["number"].startswith("KD-")
    (event,) = announced(tap, "order_placed", order)
    assert event["data"]["items"] == [
        {key: line[key] for key in event["data"]["items"][0]} for line in order["items"]
    ]
    assert event["data"]["seller_ids"] == ["seller-1", "seller-2"]
    assert rpc.get_order(buyer, order["id"])["history"][0]["by"] == buyer["member_id"]


def test_the_saga_confirms_or_rejects(rpc, catalogue, tap, buyer):
    product = approved(catalogue, rpc)
    kept = rpc.place_order(buyer, new_key(), make_order(HUB, [product]))
    short = rpc.place_order(buyer, new_key(), make_order(HUB, [(product, 5)]))
    catalogue.reserve(kept)
    catalogue.fall_short(short)
    announced(tap, "order_confirmed", kept)
    (rejected,) = announced(tap, "order_rejected", short)
    assert rejected["data"]["shortages"][0]["requested"] == 5
    assert rpc.get_order(buyer, kept["id"])["status"] == "confirmed"
    refused = rpc.get_order(buyer, short["id"])
    assert refused["status"] == "rejected" and refused["reason"] == "Not enough stock."


def test_the_same_key_and_body_return_the_same_order_and_another_body_conflicts(
    rpc, catalogue, buyer
):
    product = approved(catalogue, rpc)
    key, body = new_key(), make_order(HUB, [product])
    first = rpc.place_order(buyer, key, body)
    assert rpc.place_order(buyer, key, body)["id"] == first["id"]
    with pytest.raises(Conflict):
        rpc.place_order(buyer, key, make_order(HUB, [(product, 2)]))
    other_buyer = make_actor()
    assert rpc.place_order(other_buyer, key, body)["id"] != first["id"]


def test_five_concurrent_placements_with_one_key_make_one_order(config, stack, catalogue, buyer):
    with ClusterRpcProxy(config, timeout=10) as proxy:
        product = approved(catalogue, signed_orders(proxy, config))
    key, body = new_key(), make_order(HUB, [product])

    def place(_):
        with ClusterRpcProxy(config, timeout=10) as proxy:
            return signed_orders(proxy, config).place_order(buyer, key, body)["id"]

    ids = list(eventlet.GreenPool(5).imap(place, range(5)))
    assert len(set(ids)) == 1
    with ClusterRpcProxy(config, timeout=10) as proxy:
        assert signed_orders(proxy, config).list_orders(buyer, {})["total"] == 1


def test_newer_product_events_win_and_unapproved_products_cannot_be_ordered(rpc, catalogue, buyer):
    product = approved(catalogue, rpc, price=10000)
    catalogue.publish(
        "product_updated",
        {**product, "price": 12000, "changed": ["price"]},
        "2099-01-01T00:00:00.000Z",
    )
    wait_until(
        lambda: (
            rpc.place_order(make_actor(), new_key(), make_order(HUB, [product]))["total"] == 12000
        ),
        message="the new price",
    )
    catalogue.publish("product_updated", {**product, "price": 9000}, "2000-01-01T00:00:00.000Z")
    catalogue.publish(
        "product_rejected",
        {**product, "status": "rejected", "reason": "Foto buram"},
        "2099-01-02T00:00:00.000Z",
    )
    wait_until(lambda: not known(rpc, product), message="the rejection")
    with pytest.raises(NotFound) as raised:
        rpc.place_order(buyer, new_key(), make_order(HUB, [product]))
    assert "items.0.product_id" in raised.value.details


def test_products_of_another_hub_and_bad_keys_are_refused(rpc, catalogue, buyer):
    product = approved(catalogue, rpc)
    with pytest.raises(ItemsNotInHub):
        rpc.place_order(buyer, new_key(), make_order("hub-2", [product]))
    with pytest.raises(ValidationError) as raised:
        rpc.place_order(buyer, None, make_order(HUB, [product]))
    assert "Idempotency-Key" in raised.value.details


def test_an_unanswered_order_is_announced_again_and_stays_pending(rpc, catalogue, tap, buyer):
    product = approved(catalogue, rpc)
    order = rpc.place_order(buyer, new_key(), make_order(HUB, [product]))
    announcements = announced(tap, "order_placed", order, count=2, timeout=5)
    assert len({event["event_id"] for event in announcements}) == len(announcements)
    assert rpc.get_order(buyer, order["id"])["status"] == "pending"
    catalogue.reserve(order)
    announced(tap, "order_confirmed", order)
    settled = len(tap.of_type("order_placed", order_id=order["id"]))
    holds(  # longer than the retry time: nothing more may go out
        lambda: len(tap.of_type("order_placed", order_id=order["id"])) == settled,
        2.5,
        message="no more",
    )


def test_stock_reserved_for_a_cancelled_order_asks_catalogue_to_release_again(
    rpc, catalogue, tap, buyer
):
    product = approved(catalogue, rpc)
    order = rpc.place_order(buyer, new_key(), make_order(HUB, [product]))
    cancelled = rpc.cancel_order(buyer, order["id"], {})
    assert cancelled["status"] == "cancelled"
    (first,) = announced(tap, "order_cancelled", order)
    assert first["data"]["stock_was_reserved"] is False
    reserved = catalogue.reserve(order)
    repeat = announced(tap, "order_cancelled", order, count=2)[-1]
    assert repeat["data"]["release_only"] is True and repeat["data"]["stock_was_reserved"] is True
    assert rpc.get_order(buyer, order["id"])["status"] == "cancelled"
    catalogue.dispatch("catalogue", "stock_reserved", reserved)  # redelivered: handled once
    holds(
        lambda: len(tap.of_type("order_cancelled", order_id=order["id"])) == 2,
        0.8,
        message="one repeat",
    )


def test_a_late_failure_never_rejects_a_confirmed_order(rpc, catalogue, tap, buyer):
    product = approved(catalogue, rpc)
    order = rpc.place_order(buyer, new_key(), make_order(HUB, [product]))
    catalogue.reserve(order)
    announced(tap, "order_confirmed", order)
    catalogue.fall_short(order)
    catalogue.reserve(order)
    holds(
        lambda: (
            rpc.get_order(buyer, order["id"])["status"] == "confirmed"
            and not tap.of_type("order_rejected", order_id=order["id"])
        ),
        0.8,
        message="confirmed",
    )


def test_the_sales_report_is_computed_from_confirmed_and_completed_orders(rpc, catalogue, tap):
    coordinator = make_actor(coordinator=[HUB])
    tempe = approved(catalogue, rpc, price=15000, seller_id="s-1")
    kopi = approved(catalogue, rpc, price=40000, seller_id="s-2")
    buyer = make_actor()
    bodies = [
        make_order(HUB, [(tempe, 2), (kopi, 1)]),  # completed: 70 000
        make_order(HUB, [(tempe, 1)]),  # completed: 15 000
        make_order(HUB, [(kopi, 3)]),  # confirmed only: 120 000
        make_order(HUB, [(kopi, 9)]),  # stays pending: not counted
    ]
    orders = [rpc.place_order(buyer, new_key(), body) for body in bodies]
    for order in orders[:3]:
        catalogue.reserve(order)
        announced(tap, "order_confirmed", order)
    for order in orders[:2]:
        rpc.change_status(coordinator, order["id"], {"status": "ready_for_pickup"})
        rpc.change_status(coordinator, order["id"], {"status": "completed"})

    report = rpc.sales_report(coordinator, HUB, {"from": "2000-01-01", "to": "2999-12-31"})
    completed, confirmed = report["completed"], report["confirmed"]
    assert (completed["order_count"], completed["gross_total"]) == (2, 85000)
    assert (confirmed["order_count"], confirmed["gross_total"]) == (3, 205000)
    by_product = {row["product_id"]: row for row in completed["by_product"]}
    assert by_product[tempe["product_id"]]["quantity"] == 3
    assert by_product[tempe["product_id"]]["total"] == 45000
    assert by_product[tempe["product_id"]]["order_count"] == 2
    by_seller = {row["seller_id"]: row["total"] for row in confirmed["by_seller"]}
    assert by_seller == {"s-1": 45000, "s-2": 160000}
    empty = rpc.sales_report(coordinator, HUB, {"from": "2000-01-01", "to": "2000-01-02"})
    assert empty["completed"]["order_count"] == 0 and empty["confirmed"]["by_product"] == []
