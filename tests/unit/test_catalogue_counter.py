"""A counter sale's stock on the in-process store: every line or none, once per order,
sold at once (nothing held), and no saga answer for orders to act on."""

import uuid

import pytest

from services.catalogue import domain
from services.catalogue.repository import CatalogueRepository
from services.catalogue.reservations import Stockkeeper
from tests.support.stores import memory_repository


@pytest.fixture
def store():
    return memory_repository(CatalogueRepository, "catalogue")


def stocked(store, stock, **fields):
    product = {
        "_id": uuid.uuid4().hex,
        "hub_id": "hub-1",
        "seller_id": "seller-1",
        "name": "Keripik Tempe",
        "stock": stock,
        "holds": [],
        **fields,
    }
    store.insert("products", product)
    return product["_id"]


def stock_of(store, product_id):
    return store.db.products.find_one({"_id": product_id})


def outbox(store, order_id):
    return [event["type"] for event in store.db.reservations.find_one({"_id": order_id})["outbox"]]


def test_a_counter_sale_takes_every_line_at_once_and_holds_nothing(store):
    tempe, kopi = stocked(store, 10), stocked(store, 18)
    items = [{"product_id": tempe, "quantity": 3}, {"product_id": kopi, "quantity": 4}]
    decision = Stockkeeper(store).sell("order-1", "hub-1", items)
    assert decision == {"order_id": "order-1", "sold": True, "reason": None, "shortages": []}
    assert [stock_of(store, p)["stock"] for p in (tempe, kopi)] == [7, 14]
    assert [stock_of(store, p)["holds"] for p in (tempe, kopi)] == [[], []]
    # orders hears the answer; the event only tells the showroom's copies the stock left
    assert outbox(store, "order-1") == ["stock_sold"]
    (sold,) = store.db.reservations.find_one({"_id": "order-1"})["outbox"]
    assert [(level["product_id"], level["stock"]) for level in sold["data"]["levels"]] == [
        (tempe, 7),
        (kopi, 14),
    ]


def test_a_counter_sale_short_of_one_line_takes_nothing_and_names_it(store):
    tempe, kopi = stocked(store, 10), stocked(store, 2)
    items = [{"product_id": tempe, "quantity": 3}, {"product_id": kopi, "quantity": 4}]
    decision = Stockkeeper(store).sell("order-1", "hub-1", items)
    assert decision["sold"] is False and decision["reason"] == domain.INSUFFICIENT_STOCK
    assert decision["shortages"] == [{"product_id": kopi, "requested": 4, "available": 2}]
    assert [stock_of(store, p)["stock"] for p in (tempe, kopi)] == [10, 2]
    assert outbox(store, "order-1") == []


def test_a_repeated_counter_sale_hears_the_decision_made_and_takes_stock_once(store):
    tempe = stocked(store, 5)
    keeper = Stockkeeper(store)
    first = keeper.sell("order-1", "hub-1", [{"product_id": tempe, "quantity": 2}])
    again = keeper.sell("order-1", "hub-1", [{"product_id": tempe, "quantity": 2}])
    assert first == again and first["sold"] is True
    assert stock_of(store, tempe)["stock"] == 3
    refused = keeper.sell("order-2", "hub-1", [{"product_id": tempe, "quantity": 4}])
    stocked_again = store.db.products.update_one({"_id": tempe}, {"$inc": {"stock": 10}})
    assert stocked_again.modified_count == 1
    assert keeper.sell("order-2", "hub-1", [{"product_id": tempe, "quantity": 4}]) == refused


def test_a_counter_sale_that_empties_the_shelf_warns_its_seller(store):
    tempe = stocked(store, 6)
    Stockkeeper(store).sell("order-1", "hub-1", [{"product_id": tempe, "quantity": 2}])
    assert outbox(store, "order-1") == ["stock_sold", "stock_low"]


def test_a_suspended_seller_s_goods_are_not_sold_at_the_counter(store):
    tempe = stocked(store, 6, **{domain.SELLER_SUSPENDED: True})
    decision = Stockkeeper(store).sell("order-1", "hub-1", [{"product_id": tempe, "quantity": 1}])
    assert decision["sold"] is False and decision["reason"] == domain.PRODUCT_UNAVAILABLE
    assert stock_of(store, tempe)["stock"] == 6


def test_nonsense_items_sell_nothing(store):
    decision = Stockkeeper(store).sell("order-1", "hub-1", [{"product_id": 7, "quantity": -1}])
    assert decision["sold"] is False and decision["reason"] == domain.INVALID_ITEMS


def test_an_order_announced_for_a_counter_sale_is_never_answered(store):
    tempe = stocked(store, 5)
    Stockkeeper(store).sell("order-1", "hub-1", [{"product_id": tempe, "quantity": 1}])
    reservation = store.get_reservation("order-1")
    assert domain.answer_again(reservation) is None
