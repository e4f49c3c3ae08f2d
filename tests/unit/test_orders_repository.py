"""The orders repository on the in-process store: the unique index decides between
concurrent placements, the projection keeps the newest, claims are exclusive."""

import uuid

import pytest

from services.common.mongo import database_name, mongo_client
from services.orders import domain
from services.orders.exceptions import IdempotencyKeyReused, OrderNotFound
from services.orders.repository import OrdersRepository
from tests.support.orders import make_actor, make_order, make_product


@pytest.fixture
def repository():
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})[database_name("orders")]
    for collection, models in OrdersRepository.indexes.items():
        if models:
            db[collection].create_indexes(models)
    return OrdersRepository(db)


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
