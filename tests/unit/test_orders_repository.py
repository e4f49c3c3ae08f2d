"""The orders repository on the in-process store: the unique index decides between
concurrent placements, the projection keeps the newest, claims are exclusive."""

import datetime
import threading

import pytest

from services.orders import domain
from services.orders.exceptions import IdempotencyKeyReused, OrderNotFound
from services.orders.repository import OrdersRepository
from tests.support.orders import make_actor, make_order, make_product
from tests.support.stores import memory_repository


@pytest.fixture
def repository():
    return memory_repository(OrdersRepository, "orders")


def new_order(repository, buyer, key, quantity=1, retry_seconds=60):
    product = make_product()
    fields = make_order("hub-1", [(product, quantity)])
    products = {product["product_id"]: product}
    return domain.new_order(
        buyer,
        key,
        domain.fingerprint(fields),
        fields,
        products,
        repository.next_number(),
        retry_seconds,
    )


def test_two_placements_racing_with_one_key_store_one_order(repository):
    buyer = make_actor()
    first = new_order(repository, buyer, "same-key")
    second = new_order(repository, buyer, "same-key", quantity=2)
    stored = repository.add_order(first)
    raced = repository.add_order(second)
    assert raced["_id"] == stored["_id"]
    with pytest.raises(IdempotencyKeyReused):
        domain.check_same_request(raced, second["request_hash"])
    assert repository.db.orders.count_documents({}) == 1


def test_order_numbers_count_up(repository):
    assert [repository.next_number() for _ in range(3)] == ["KD-000001", "KD-000002", "KD-000003"]


def test_an_older_product_event_never_overwrites_a_newer_one(repository):
    product = make_product(price=10000)
    repository.save_product({**product, "price": 12000}, "2026-11-02T00:00:00.000Z")
    repository.save_product(product, "2026-11-01T00:00:00.000Z")
    assert repository.products([product["product_id"]])[product["product_id"]]["price"] == 12000


def test_an_unanswered_order_is_claimed_by_one_worker_at_a_time(repository):
    order = repository.add_order(new_order(repository, make_actor(), "k", retry_seconds=-1))
    claimed = repository.claim_unanswered(60)
    assert claimed["_id"] == order["_id"]
    assert repository.claim_unanswered(60) is None


def test_an_order_id_is_never_read_as_a_query(repository):
    repository.add_order(new_order(repository, make_actor(), "k"))
    with pytest.raises(OrderNotFound):
        repository.get_order({"$ne": None})


def test_a_hub_s_commission_is_its_newest_and_the_default_until_heard_of(repository):
    assert repository.commission_of("hub-1") == 10
    repository.save_hub({"hub_id": "hub-1", "commission_percent": 15}, "2026-11-02T00:00:00.000Z")
    repository.save_hub({"hub_id": "hub-1", "commission_percent": 10}, "2026-11-01T00:00:00.000Z")
    assert repository.commission_of("hub-1") == 15


def completed(repository, hub_id, total, channel=None, when="2026-11-15T03:00:00+00:00"):
    """A completed order as the store keeps it until counted (``channel`` None: stored
    before channels), counted in its day's tally."""
    order_id = f"o-{hub_id}-{total}-{channel}"
    order = {
        "_id": order_id,
        "number": order_id,
        "buyer_id": order_id,  # unique with the key: one order per buyer and key
        "hub_id": hub_id,
        "status": "completed",
        "total": total,
        "completed_at": datetime.datetime.fromisoformat(when),
        "tally_due": True,
    }
    if channel is not None:
        order["channel"] = channel
    repository.db.orders.insert_one(order)
    repository.tally(order)
    return order


def test_the_network_sales_are_the_tallies_of_the_period_s_wib_days(repository):
    completed(repository, "hub-1", 15000, "counter")
    completed(repository, "hub-1", 20000, "counter")
    completed(repository, "hub-1", 30000, "sms")
    completed(repository, "hub-1", 5000)  # an order from before channels: online
    # 2 December in WIB, past the end of November
    completed(repository, "hub-2", 7000, "whatsapp", when="2026-11-30T17:00:00+00:00")
    assert repository.network_sales("2026-11-01", "2026-12-01") == [
        {
            "hub_id": "hub-1",
            "orders": 4,
            "gross": 70000,
            "by_channel": {
                "counter": {"orders": 2, "gross": 35000},
                "online": {"orders": 1, "gross": 5000},
                "sms": {"orders": 1, "gross": 30000},
            },
            "by_agent": [],
        }
    ]
    assert [row["hub_id"] for row in repository.network_sales(None, None)] == ["hub-1", "hub-2"]
    assert repository.network_sales("2026-12-01", None)[0]["gross"] == 7000


def test_a_completed_order_is_counted_once_however_often_it_is_tallied(repository):
    order = completed(repository, "hub-1", 15000, "counter")
    repository.tally(order)  # a redelivery, or the sweep after a crash before the flag went
    repository.db.orders.update_one({"_id": order["_id"]}, {"$set": {"tally_due": True}})
    assert repository.tally_overdue(10) == 1
    assert repository.network_sales(None, None)[0]["by_channel"] == {
        "counter": {"orders": 1, "gross": 15000}
    }
    assert repository.tally_overdue(10) == 0


def test_a_completion_a_crash_left_uncounted_is_counted_by_the_sweep(repository):
    order = completed(repository, "hub-1", 15000, "sms")
    left = {**order, "_id": "crashed", "buyer_id": "b2", "number": "n2"}
    repository.db.orders.insert_one(left)  # saved completed; the process died before tally
    assert repository.network_sales(None, None)[0]["orders"] == 1
    assert repository.tally_overdue(10) == 1
    assert repository.network_sales(None, None)[0]["by_channel"]["sms"] == {
        "orders": 2,
        "gross": 30000,
    }
    assert repository.db.orders.find_one({"_id": "crashed"}).get("tally_due") is None


def test_two_workers_counting_a_month_s_first_orders_at_once_count_each_once(repository):
    first = completed(repository, "hub-1", 1000, "online")
    second = {**first, "_id": "second", "buyer_id": "b2", "number": "n2", "total": 2000}
    repository.db.orders.insert_one(second)
    repository.db.tallies.delete_many({})  # both about to write the month's first tally
    racing = threading.Barrier(2)

    def count(order):
        racing.wait()
        repository.tally(order)

    workers = [threading.Thread(target=count, args=(order,)) for order in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    repository.tally(first)
    assert repository.network_sales(None, None)[0]["by_channel"] == {
        "online": {"orders": 2, "gross": 3000}
    }


def test_an_order_completed_through_apply_is_counted_at_once(repository):
    product = make_product()
    coordinator = make_actor("coordinator-1", coordinator=["hub-1"])
    fields = {"hub_id": "hub-1", "items": [{"product_id": product["product_id"], "quantity": 2}]}
    sale = domain.new_counter_sale(
        coordinator, "k", "h", fields, {product["product_id"]: product}, "KD-1", 10, 60
    )
    repository.add_order(sale)
    repository.apply(sale["_id"], domain.counter_sale_decided, {"sold": True})
    repository.apply(sale["_id"], domain.counter_sale_decided, {"sold": True})  # repeated
    (row,) = repository.network_sales(None, None)
    assert row["orders"] == 1 and row["gross"] == sale["total"]
    assert repository.tally_overdue(10) == 0
