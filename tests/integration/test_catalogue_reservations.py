"""The catalogue's side of the order saga, driven by the events orders publishes
(issue: catalogue). Real RabbitMQ; the catalogue runs in-process."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalogue.service import CatalogueService
from services.common.mongo import database_name, mongo_client
from tests.support.catalogue import (
    coordinator_of,
    event_recorder,
    make_product,
    new_hub_id,
    order_cancelled,
    order_placed,
    publisher,
    seller_of,
)
from tests.support.waiting import wait_until


@pytest.fixture
def shop(container_factory, config):
    """The catalogue, a recorder of its events, and an RPC client."""
    recorder, seen = event_recorder()
    container_factory(recorder, config).start()
    container_factory(CatalogueService, config).start()
    inbox = mongo_client(config)[database_name("catalogue")].inbox
    with ClusterRpcProxy(config) as rpc:
        yield Shop(rpc, seen, publisher(config), inbox)


class Shop:
    def __init__(self, rpc, seen, publish, inbox):
        self.rpc = rpc
        self.catalogue = rpc.catalogue
        self.seen = seen
        self.publish = publish
        self.inbox = inbox
        self.hub_id = new_hub_id()
        self.seller = seller_of(self.hub_id)

    def product(self, **overrides):
        """An approved product of this hub's seller."""
        product = self.catalogue.create_product(self.seller, make_product(self.hub_id, **overrides))
        return self.catalogue.approve_product(coordinator_of(self.hub_id), product["id"])

    def stock(self, product_id):
        return self.catalogue.get_product(self.seller, product_id)["stock"]

    def handled(self, event_type, event):
        """Wait until the catalogue has finished handling ``event``."""
        key = f"handle_{event_type}:{event['event_id']}"
        wait_until(lambda: self.inbox.find_one({"_id": key}), message=f"{event_type} handled")

    def outcome(self, order_id):
        """Wait for the one outcome of an order's reservation."""
        return wait_until(
            lambda: (
                self.seen.about("stock_reserved", order_id=order_id)
                or self.seen.about("stock_reservation_failed", order_id=order_id)
            ),
            message=f"reservation outcome of {order_id}",
        )


def test_an_order_reserves_every_item_and_says_so(shop):
    crackers, coffee = shop.product(stock=10), shop.product(stock=6, category="beverage")
    placed = order_placed(shop.hub_id, [(crackers["id"], 4), (coffee["id"], 1)])
    shop.publish("order_placed", placed)

    [reserved] = shop.outcome(placed["data"]["order_id"])
    assert reserved["items"] == [
        {"product_id": crackers["id"], "quantity": 4},
        {"product_id": coffee["id"], "quantity": 1},
    ]
    assert (shop.stock(crackers["id"]), shop.stock(coffee["id"])) == (6, 5)
    [low] = wait_until(lambda: shop.seen.of("stock_low"), message="stock_low")
    assert low == {
        "product_id": coffee["id"],
        "hub_id": shop.hub_id,
        "seller_id": shop.seller["member_id"],
        "name": coffee["name"],
        "stock": 5,
        "threshold": 5,
    }


def test_an_order_that_cannot_be_filled_reserves_nothing_and_names_the_shortages(shop):
    crackers, coffee = shop.product(stock=10), shop.product(stock=1)
    placed = order_placed(shop.hub_id, [(crackers["id"], 4), (coffee["id"], 2), ("nope", 1)])
    shop.publish("order_placed", placed)

    [failed] = shop.outcome(placed["data"]["order_id"])
    assert failed["reason"] == "insufficient_stock"
    assert failed["shortages"] == [
        {"product_id": coffee["id"], "requested": 2, "available": 1},
        {"product_id": "nope", "requested": 1, "available": 0},
    ]
    assert (shop.stock(crackers["id"]), shop.stock(coffee["id"])) == (10, 1)


def test_fifty_concurrent_orders_for_ten_in_stock_reserve_exactly_ten(shop):
    product = shop.product(stock=10)
    orders = [order_placed(shop.hub_id, [(product["id"], 1)]) for _ in range(50)]
    for placed in orders:
        shop.publish("order_placed", placed)

    wait_until(
        lambda: (
            len(shop.seen.of("stock_reserved")) + len(shop.seen.of("stock_reservation_failed"))
            >= 50
        ),
        timeout=30,
        message="50 outcomes",
    )
    assert len(shop.seen.of("stock_reserved")) == 10
    failures = shop.seen.of("stock_reservation_failed")
    assert len(failures) == 40
    assert all(f["shortages"][0]["available"] == 0 for f in failures)
    assert shop.stock(product["id"]) == 0
    for placed in orders:  # every order has exactly one outcome
        assert len(shop.outcome(placed["data"]["order_id"])) == 1


def test_concurrent_orders_for_several_units_never_drive_stock_below_zero(shop):
    product = shop.product(stock=10)
    orders = [order_placed(shop.hub_id, [(product["id"], 3)]) for _ in range(20)]
    for placed in orders:
        shop.publish("order_placed", placed)

    for placed in orders:
        shop.outcome(placed["data"]["order_id"])
    assert len(shop.seen.of("stock_reserved")) == 3
    assert shop.stock(product["id"]) == 1


def test_an_order_placed_delivered_twice_reserves_once(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 3)])
    shop.publish("order_placed", placed)
    shop.outcome(placed["data"]["order_id"])

    # the same order again under a new event id (a republish), then the very same event
    republished = {**order_placed(shop.hub_id, []), "data": placed["data"]}
    shop.publish("order_placed", republished)
    shop.handled("order_placed", republished)
    shop.publish("order_placed", placed)
    probe = order_placed(shop.hub_id, [(product["id"], 1)])  # queued behind the repeat
    shop.publish("order_placed", probe)
    shop.outcome(probe["data"]["order_id"])
    wait_until(lambda: shop.stock(product["id"]) == 6, message="stock 6")
    assert len(shop.seen.about("stock_reserved", order_id=placed["data"]["order_id"])) == 1
    assert shop.stock(product["id"]) == 6


def test_a_cancelled_order_gives_its_stock_back_once(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 4)])
    order_id = placed["data"]["order_id"]
    shop.publish("order_placed", placed)
    shop.outcome(order_id)
    assert shop.stock(product["id"]) == 6

    cancelled = order_cancelled(order_id)
    shop.publish("order_cancelled", cancelled)
    [released] = wait_until(lambda: shop.seen.of("stock_released"), message="stock_released")
    assert released == {
        "order_id": order_id,
        "items": [{"product_id": product["id"], "quantity": 4}],
    }
    assert shop.stock(product["id"]) == 10

    republished = {**order_cancelled(order_id), "data": cancelled["data"]}
    shop.publish("order_cancelled", republished)
    shop.handled("order_cancelled", republished)
    shop.publish("order_cancelled", cancelled)
    probe = order_placed(shop.hub_id, [(product["id"], 1)])
    shop.publish("order_placed", probe)
    shop.outcome(probe["data"]["order_id"])
    wait_until(lambda: shop.stock(product["id"]) == 9, message="the probe's reservation")
    assert len(shop.seen.of("stock_released")) == 1
    assert shop.stock(product["id"]) == 9


def test_a_cancel_that_overtakes_its_order_leaves_the_order_nothing_to_reserve(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 4)])
    order_id = placed["data"]["order_id"]
    cancelled = order_cancelled(order_id)
    shop.publish("order_cancelled", cancelled)
    shop.handled("order_cancelled", cancelled)
    shop.publish("order_placed", placed)
    shop.handled("order_placed", placed)

    assert shop.stock(product["id"]) == 10
    assert not shop.seen.about("stock_reserved", order_id=order_id)
    assert not shop.seen.about("stock_reservation_failed", order_id=order_id)
    assert not shop.seen.of("stock_released")


def test_a_failed_reservation_has_nothing_to_release(shop):
    product = shop.product(stock=1)
    placed = order_placed(shop.hub_id, [(product["id"], 2)])
    shop.publish("order_placed", placed)
    shop.outcome(placed["data"]["order_id"])
    cancelled = order_cancelled(placed["data"]["order_id"])
    shop.publish("order_cancelled", cancelled)
    shop.handled("order_cancelled", cancelled)
    assert shop.stock(product["id"]) == 1
    assert not shop.seen.of("stock_released")


def test_an_order_with_nonsense_items_fails_instead_of_reserving(shop):
    product = shop.product(stock=5)
    placed = order_placed(shop.hub_id, [(product["id"], -3)])
    shop.publish("order_placed", placed)
    [failed] = shop.outcome(placed["data"]["order_id"])
    assert failed == {
        "order_id": placed["data"]["order_id"],
        "reason": "invalid_items",
        "shortages": [],
    }
    assert shop.stock(product["id"]) == 5


def test_a_completed_order_keeps_its_stock_and_cannot_be_released(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 2)])
    order_id = placed["data"]["order_id"]
    shop.publish("order_placed", placed)
    shop.outcome(order_id)
    completed = order_cancelled(order_id)
    completed["data"] = {
        "order_id": order_id,
        "from_status": "ready_for_pickup",
        "to_status": "completed",
    }
    shop.publish("order_status_changed", completed)
    shop.handled("order_status_changed", completed)
    cancelled = order_cancelled(order_id)
    shop.publish("order_cancelled", cancelled)
    shop.handled("order_cancelled", cancelled)

    assert shop.stock(product["id"]) == 8
    assert not shop.seen.of("stock_released")


def test_a_seller_restocks_and_cannot_go_below_zero(shop):
    product = shop.product(stock=8)
    restocked = shop.catalogue.change_stock(shop.seller, product["id"], {"delta": 12})
    assert restocked["stock"] == 20
    corrected = shop.catalogue.change_stock(shop.seller, product["id"], {"delta": -16})
    assert corrected["stock"] == 4
    [low] = wait_until(lambda: shop.seen.of("stock_low"), message="stock_low")
    assert low["stock"] == 4 and low["product_id"] == product["id"]

    with pytest.raises(Exception) as raised:
        shop.catalogue.change_stock(shop.seller, product["id"], {"delta": -5})
    assert type(raised.value).__name__ == "NotEnoughStock"
    assert shop.stock(product["id"]) == 4
