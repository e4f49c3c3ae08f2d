"""The catalogue's side of the order saga, driven by the events orders publishes
(issue: catalogue). Real RabbitMQ; the catalogue runs in-process."""

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalogue.exceptions import NotEnoughStock, ProductNotFound
from services.catalogue.service import CatalogueService
from services.common import config as cfg
from services.common.mongo import database_name, mongo_client
from services.common.signing import SigningProxy
from tests.support.catalogue import (
    coordinator_of,
    make_product,
    new_hub_id,
    order_cancelled,
    order_completed,
    order_placed,
    seller_of,
)
from tests.support.events import EventLog, envelope, publish
from tests.support.orders import new_key
from tests.support.waiting import holds, wait_until


@pytest.fixture
def shop(container_factory, config):
    """The catalogue, a recorder of its events, and an RPC client."""
    container_factory(CatalogueService, config).start()
    with EventLog(config, "catalogue") as recorder:
        with ClusterRpcProxy(config) as rpc:
            yield Shop(config, rpc, recorder)


class Shop:
    def __init__(self, config, rpc, recorder):
        self.config = config
        self.catalogue = SigningProxy(rpc.catalogue, cfg.secret_key(config))
        self.recorder = recorder
        self.inbox = mongo_client(config)[database_name("catalogue")].inbox
        self.hub_id = new_hub_id()
        self.seller = seller_of(self.hub_id)

    def product(self, **overrides):
        """An approved product of this hub's seller."""
        product = self.catalogue.create_product(
            self.seller, make_product(self.hub_id, **overrides), idempotency_key=new_key()
        )
        return self.catalogue.approve_product(coordinator_of(self.hub_id), product["id"])

    def stock(self, product_id):
        return self.catalogue.get_product(self.seller, product_id)["stock"]

    def publish(self, event_type, data, event_id=None):
        """Publish as the orders service would; returns the envelope."""
        return publish(self.config, "orders", event_type, data, event_id)

    def seen(self, event_type, **match):
        """The data of the catalogue events of ``event_type`` that match."""
        return [
            event["data"]
            for event in self.recorder.of_type(event_type)
            if all(event["data"].get(key) == value for key, value in match.items())
        ]

    def handled(self, event_type, envelope):
        """Wait until the catalogue has finished handling this event."""
        key = f"handle_{event_type}:{envelope['event_id']}"
        wait_until(lambda: self.inbox.find_one({"_id": key}), message=f"{event_type} handled")

    def outcome(self, order_id):
        """Wait for the outcome of an order's reservation (a list: there is one)."""
        return wait_until(
            lambda: (
                self.seen("stock_reserved", order_id=order_id)
                or self.seen("stock_reservation_failed", order_id=order_id)
            ),
            message=f"reservation outcome of {order_id}",
        )


def test_an_order_reserves_every_item_and_says_so(shop):
    crackers, coffee = shop.product(stock=10), shop.product(stock=6, category="beverage")
    placed = order_placed(shop.hub_id, [(crackers["id"], 4), (coffee["id"], 1)])
    shop.publish("order_placed", placed)

    [reserved] = shop.outcome(placed["order_id"])
    assert reserved == {
        "order_id": placed["order_id"],
        "items": [
            {"product_id": crackers["id"], "quantity": 4},
            {"product_id": coffee["id"], "quantity": 1},
        ],
        # each product's stock once taken, its first stock change
        "levels": [
            {"product_id": crackers["id"], "stock": 6, "stock_version": 1},
            {"product_id": coffee["id"], "stock": 5, "stock_version": 1},
        ],
    }
    assert (shop.stock(crackers["id"]), shop.stock(coffee["id"])) == (6, 5)
    [low] = wait_until(lambda: shop.seen("stock_low"), message="stock_low")
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

    [failed] = shop.outcome(placed["order_id"])
    assert failed == {
        "order_id": placed["order_id"],
        "reason": "insufficient_stock",
        "shortages": [
            {"product_id": coffee["id"], "requested": 2, "available": 1},
            {"product_id": "nope", "requested": 1, "available": 0},
        ],
        # the crackers were taken and given back (two changes), the coffee never moved
        "levels": [
            {"product_id": crackers["id"], "stock": 10, "stock_version": 2},
            {"product_id": coffee["id"], "stock": 1, "stock_version": 0},
        ],
    }
    assert (shop.stock(crackers["id"]), shop.stock(coffee["id"])) == (10, 1)


def test_fifty_concurrent_orders_for_ten_in_stock_reserve_exactly_ten(shop):
    product = shop.product(stock=10)
    orders = [order_placed(shop.hub_id, [(product["id"], 1)]) for _ in range(50)]
    for placed in orders:
        shop.publish("order_placed", placed)

    for placed in orders:
        shop.outcome(placed["order_id"])
    assert len(shop.seen("stock_reserved")) == 10
    failures = shop.seen("stock_reservation_failed")
    assert len(failures) == 40
    assert all(failure["shortages"][0]["available"] == 0 for failure in failures)
    assert {event["order_id"] for event in shop.seen("stock_reserved") + failures} == {
        placed["order_id"] for placed in orders
    }
    assert shop.stock(product["id"]) == 0


def test_concurrent_orders_for_several_units_never_drive_stock_below_zero(shop):
    product = shop.product(stock=10)
    orders = [order_placed(shop.hub_id, [(product["id"], 3)]) for _ in range(20)]
    for placed in orders:
        shop.publish("order_placed", placed)

    for placed in orders:
        shop.outcome(placed["order_id"])
    assert len(shop.seen("stock_reserved")) == 3
    assert shop.stock(product["id"]) == 1


def test_an_order_placed_delivered_twice_reserves_once(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 3)])
    first = shop.publish("order_placed", placed)
    shop.outcome(placed["order_id"])

    # the very same event again, and the same order republished under a new event id
    shop.handled("order_placed", shop.publish("order_placed", placed))
    shop.publish("order_placed", placed, event_id=first["event_id"])
    probe = order_placed(shop.hub_id, [(product["id"], 1)])  # queued behind the repeat
    shop.publish("order_placed", probe)
    shop.outcome(probe["order_id"])

    wait_until(lambda: shop.stock(product["id"]) == 6, message="stock 6")
    # the order announced again hears the same answer again; the redelivery nothing
    first_answer, again = shop.seen("stock_reserved", order_id=placed["order_id"])
    assert again == first_answer
    assert shop.stock(product["id"]) == 6


@pytest.mark.parametrize("stock", [10, 1], ids=["reserved", "failed"])
def test_an_order_whose_answer_was_lost_hears_the_same_answer_when_announced_again(shop, stock):
    product = shop.product(stock=stock)
    placed = order_placed(shop.hub_id, [(product["id"], 3)])
    shop.publish("order_placed", placed)
    [lost] = shop.outcome(placed["order_id"])  # as if orders never heard it

    shop.handled("order_placed", shop.publish("order_placed", placed))  # announced again
    wait_until(lambda: len(shop.outcome(placed["order_id"])) == 2, message="a second answer")

    assert shop.outcome(placed["order_id"]) == [lost, lost]
    assert shop.stock(product["id"]) == (7 if stock == 10 else 1)


def test_an_order_cancelled_before_it_is_announced_again_is_not_answered_again(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 3)])
    shop.publish("order_placed", placed)
    shop.outcome(placed["order_id"])
    shop.handled(
        "order_cancelled", shop.publish("order_cancelled", order_cancelled(placed["order_id"]))
    )

    shop.handled("order_placed", shop.publish("order_placed", placed))
    holds(
        lambda: len(shop.seen("stock_reserved", order_id=placed["order_id"])) == 1,
        1.0,
        message="no second answer",
    )
    assert shop.stock(product["id"]) == 10


def test_a_cancelled_order_gives_its_stock_back_once(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 4)])
    order_id = placed["order_id"]
    shop.publish("order_placed", placed)
    shop.outcome(order_id)
    assert shop.stock(product["id"]) == 6

    first = shop.publish("order_cancelled", order_cancelled(order_id))
    [released] = wait_until(lambda: shop.seen("stock_released"), message="stock_released")
    assert released == {
        "order_id": order_id,
        "items": [{"product_id": product["id"], "quantity": 4}],
        "levels": [{"product_id": product["id"], "stock": 10, "stock_version": 2}],
    }
    assert shop.stock(product["id"]) == 10

    shop.handled("order_cancelled", shop.publish("order_cancelled", order_cancelled(order_id)))
    shop.publish("order_cancelled", order_cancelled(order_id), event_id=first["event_id"])
    probe = order_placed(shop.hub_id, [(product["id"], 1)])
    shop.publish("order_placed", probe)
    shop.outcome(probe["order_id"])

    wait_until(lambda: shop.stock(product["id"]) == 9, message="the probe's reservation")
    assert len(shop.seen("stock_released")) == 1
    assert shop.stock(product["id"]) == 9


def test_a_cancel_that_overtakes_its_order_leaves_the_order_nothing_to_reserve(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 4)])
    order_id = placed["order_id"]
    shop.handled("order_cancelled", shop.publish("order_cancelled", order_cancelled(order_id)))
    shop.handled("order_placed", shop.publish("order_placed", placed))

    assert shop.stock(product["id"]) == 10
    assert not shop.seen("stock_reserved", order_id=order_id)
    assert not shop.seen("stock_reservation_failed", order_id=order_id)
    assert not shop.seen("stock_released")


def test_a_failed_reservation_has_nothing_to_release(shop):
    product = shop.product(stock=1)
    placed = order_placed(shop.hub_id, [(product["id"], 2)])
    shop.publish("order_placed", placed)
    shop.outcome(placed["order_id"])
    shop.handled(
        "order_cancelled", shop.publish("order_cancelled", order_cancelled(placed["order_id"]))
    )

    assert shop.stock(product["id"]) == 1
    assert not shop.seen("stock_released")


def test_an_order_with_nonsense_items_fails_instead_of_reserving(shop):
    product = shop.product(stock=5)
    placed = order_placed(shop.hub_id, [(product["id"], -3)])
    shop.publish("order_placed", placed)

    [failed] = shop.outcome(placed["order_id"])
    assert failed == {
        "order_id": placed["order_id"],
        "reason": "invalid_items",
        "shortages": [],
        "levels": [],
    }
    assert shop.stock(product["id"]) == 5


def test_a_completed_order_keeps_its_stock_and_cannot_be_released(shop):
    product = shop.product(stock=10)
    placed = order_placed(shop.hub_id, [(product["id"], 2)])
    order_id = placed["order_id"]
    shop.publish("order_placed", placed)
    shop.outcome(order_id)
    shop.handled(
        "order_status_changed", shop.publish("order_status_changed", order_completed(order_id))
    )
    shop.handled("order_cancelled", shop.publish("order_cancelled", order_cancelled(order_id)))

    assert shop.stock(product["id"]) == 8
    assert not shop.seen("stock_released")


def test_a_completed_order_leaves_no_hold_on_any_of_its_products(shop):
    products = [shop.product(stock=10), shop.product(stock=10), shop.product(stock=10)]
    placed = order_placed(shop.hub_id, [(product["id"], 1) for product in products[:2]])
    shop.publish("order_placed", placed)
    shop.outcome(placed["order_id"])
    stored = mongo_client(shop.config)[database_name("catalogue")].products

    def holds():
        return [len(stored.find_one({"_id": product["id"]})["holds"]) for product in products]

    assert holds() == [1, 1, 0]
    completed = shop.publish("order_status_changed", order_completed(placed["order_id"]))
    shop.handled("order_status_changed", completed)
    assert holds() == [0, 0, 0]
    assert [shop.stock(product["id"]) for product in products] == [9, 9, 10]


def test_a_seller_restocks_and_cannot_go_below_zero(shop):
    product = shop.product(stock=8)
    restocked = shop.catalogue.change_stock(
        shop.seller, product["id"], {"delta": 12}, idempotency_key=new_key()
    )
    assert restocked["stock"] == 20
    corrected = shop.catalogue.change_stock(
        shop.seller, product["id"], {"delta": -16}, idempotency_key=new_key()
    )
    assert corrected["stock"] == 4
    [low] = wait_until(lambda: shop.seen("stock_low"), message="stock_low")
    assert (low["stock"], low["product_id"], low["threshold"]) == (4, product["id"], 5)

    with pytest.raises(NotEnoughStock):
        shop.catalogue.change_stock(
            shop.seller, product["id"], {"delta": -5}, idempotency_key=new_key()
        )
    assert shop.stock(product["id"]) == 4


def test_an_order_for_a_suspended_seller_s_product_is_rejected_until_reinstated(shop):
    crackers, coffee = shop.product(stock=10), shop.product(stock=6)
    membership = {
        "membership_id": "ms-1",
        "hub_id": shop.hub_id,
        "member_id": shop.seller["member_id"],
        "role": "seller",
        "decided_by": "c1",
    }
    suspended = publish(
        shop.config, "community", "membership_suspended", {**membership, "reason": "Menipu"}
    )
    shop.handled("membership_suspended", suspended)
    assert shop.catalogue.list_products(None, {"hub_id": shop.hub_id})["items"] == []

    placed = order_placed(shop.hub_id, [(crackers["id"], 4), (coffee["id"], 7)])
    shop.publish("order_placed", placed)
    [failed] = shop.outcome(placed["order_id"])
    assert failed["reason"] == "product_unavailable"
    assert {s["product_id"]: s["available"] for s in failed["shortages"]} == {
        crackers["id"]: 0,
        coffee["id"]: 0,
    }
    assert (shop.stock(crackers["id"]), shop.stock(coffee["id"])) == (10, 6)

    reinstated = publish(
        shop.config, "community", "membership_approved", {**membership, "business_name": None}
    )
    shop.handled("membership_approved", reinstated)
    listed = shop.catalogue.list_products(None, {"hub_id": shop.hub_id})["items"]
    assert {item["id"] for item in listed} == {crackers["id"], coffee["id"]}
    again = order_placed(shop.hub_id, [(crackers["id"], 4)])
    shop.publish("order_placed", again)
    [reserved] = shop.outcome(again["order_id"])
    assert reserved["items"] == [{"product_id": crackers["id"], "quantity": 4}]


def test_an_older_reinstatement_arriving_late_does_not_undo_a_suspension(shop):
    product = shop.product(stock=10)
    membership = {
        "membership_id": "ms-2",
        "hub_id": shop.hub_id,
        "member_id": shop.seller["member_id"],
        "role": "seller",
        "decided_by": "c1",
    }
    newer = envelope({**membership, "reason": "Menipu"})
    older = envelope({**membership, "business_name": None})
    older["occurred_at"] = "2000-01-01T00:00:00.000Z"
    dispatch = event_dispatcher(shop.config)
    dispatch("community", "membership_suspended", newer)
    shop.handled("membership_suspended", newer)
    dispatch("community", "membership_approved", older)
    shop.handled("membership_approved", older)
    assert shop.catalogue.list_products(None, {"hub_id": shop.hub_id})["items"] == []
    with pytest.raises(ProductNotFound):
        shop.catalogue.get_product(None, product["id"])
    assert shop.catalogue.get_product(shop.seller, product["id"])["id"] == product["id"]
