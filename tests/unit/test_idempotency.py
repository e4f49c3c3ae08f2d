"""Idempotency-Key records (services/common/idempotency.py) over an in-memory store:
a repeat answers as the first try, another request under the key is a 409, and the
records expire by a TTL index."""

import inspect
import uuid

import pytest

from services.common.errors import Conflict, ValidationError
from services.common.idempotency import (
    COLLECTION,
    IdempotencyRecords,
    check_key,
    fingerprint,
    idempotent,
)
from services.common.mongo import mongo_client
from tests.support.catalogue import make_actor


@pytest.fixture
def db():
    return mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})["kompor_test"]


class Shop:
    """A service's entrypoints as ``@idempotent`` sees them (without ``@rpc``)."""

    def __init__(self, db):
        IdempotencyRecords.prepare(db)
        self.idempotency = IdempotencyRecords(db)
        self.calls = []

    @idempotent
    def restock(self, actor, product_id, payload):
        self.calls.append((product_id, payload))
        return {"call": len(self.calls), "product_id": product_id}

    @idempotent(required=True)
    def create(self, actor, payload, idempotency_key=None):
        self.calls.append(idempotency_key)
        return {"call": len(self.calls), "key": idempotency_key}


@pytest.fixture
def shop(db):
    return Shop(db)


def test_the_same_key_and_body_answer_as_the_first_time_without_running_again(shop):
    seller = make_actor()
    first = shop.restock(seller, "p1", {"delta": 5, "note": "x"}, idempotency_key="k1")
    again = shop.restock(seller, "p1", {"note": "x", "delta": 5}, idempotency_key="k1")
    by_name = shop.restock(
        seller, product_id="p1", payload={"delta": 5, "note": "x"}, idempotency_key="k1"
    )
    assert first == again == by_name == {"call": 1, "product_id": "p1"}
    assert len(shop.calls) == 1


@pytest.mark.parametrize(("product_id", "payload"), [("p1", {"delta": 6}), ("p2", {"delta": 5})])
def test_the_same_key_with_another_body_or_path_is_a_conflict_naming_the_header(
    shop, product_id, payload
):
    seller = make_actor()
    shop.restock(seller, "p1", {"delta": 5}, idempotency_key="k1")
    with pytest.raises(Conflict) as raised:
        shop.restock(seller, product_id, payload, idempotency_key="k1")
    assert "Idempotency-Key" in raised.value.details
    assert len(shop.calls) == 1


def test_the_same_key_for_another_operation_is_a_conflict(shop):
    seller = make_actor()
    shop.restock(seller, "p1", {"delta": 5}, idempotency_key="k1")
    with pytest.raises(Conflict):
        shop.create(seller, {"delta": 5}, idempotency_key="k1")


def test_keys_are_per_member(shop):
    shop.restock(make_actor(), "p1", {"delta": 5}, idempotency_key="k1")
    other = shop.restock(make_actor(), "p1", {"delta": 5}, idempotency_key="k1")
    assert other["call"] == 2


def test_without_a_key_an_optional_one_runs_every_time(shop):
    seller = make_actor()
    shop.restock(seller, "p1", {"delta": 5})
    shop.restock(seller, "p1", {"delta": 5})
    assert len(shop.calls) == 2


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 101, 42])
def test_a_required_key_missing_or_malformed_is_a_400_naming_the_header(shop, key):
    with pytest.raises(ValidationError) as raised:
        shop.create(make_actor(), {}, idempotency_key=key)
    assert "Idempotency-Key" in raised.value.details
    assert shop.calls == []


def test_an_entrypoint_that_takes_the_key_is_handed_it_checked(shop):
    assert shop.create(make_actor(), {}, idempotency_key=" k2 ")["key"] == "k2"


def test_an_error_is_not_remembered_so_a_retry_runs_again(db):
    class Flaky(Shop):
        @idempotent
        def restock(self, actor, product_id, payload):
            self.calls.append(product_id)
            if len(self.calls) == 1:
                raise Conflict("busy")
            return {"ok": True}

    flaky, seller = Flaky(db), make_actor()
    with pytest.raises(Conflict):
        flaky.restock(seller, "p1", {}, idempotency_key="k1")
    assert flaky.restock(seller, "p1", {}, idempotency_key="k1") == {"ok": True}


def test_nameko_sees_the_key_as_a_keyword_of_the_entrypoint():
    restock = inspect.signature(Shop.restock)
    assert list(restock.parameters) == ["self", "actor", "product_id", "payload", "idempotency_key"]
    inspect.getcallargs(Shop.restock, None, {}, "p1", {}, idempotency_key="k")
    with pytest.raises(TypeError):
        inspect.getcallargs(Shop.restock, None, {}, "p1", {}, surprise=1)


def test_records_expire_a_day_or_more_after_they_are_written_by_a_ttl_index(db):
    IdempotencyRecords.prepare(db)
    ttl = [
        index
        for index in db[COLLECTION].index_information().values()
        if "expireAfterSeconds" in index
    ]
    assert [index["key"] for index in ttl] == [[("created_at", 1)]]
    assert ttl[0]["expireAfterSeconds"] >= 24 * 3600


def test_a_fingerprint_depends_on_the_operation_and_every_argument():
    base = fingerprint("restock", ["p1", {"delta": 5, "note": "x"}])
    assert base == fingerprint("restock", ["p1", {"note": "x", "delta": 5}])
    assert base != fingerprint("change", ["p1", {"delta": 5, "note": "x"}])
    assert base != fingerprint("restock", ["p2", {"delta": 5, "note": "x"}])


def test_a_key_is_stripped_and_an_absent_optional_key_is_none():
    assert check_key(" abc ") == "abc"
    assert check_key(None) is None
