"""Every write is safe to retry (issue: hardening): a farmer on 2G whose request timed
out sends it again with the same ``Idempotency-Key``, and the change is made once.

The gateway may give up on a call (503) while the service still completes it, so the
guarantee lives in the service that writes: these tests retry through the gateway,
in parallel, after a gateway timeout, and straight over RPC with the service's
records of answers gone (as after a crash between the write and its record).
"""

import concurrent.futures

import eventlet
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalogue.repository import CatalogueRepository
from services.common import config as cfg
from services.common.idempotency import COLLECTION
from services.common.mongo import database_name, mongo_client
from services.common.signing import SigningProxy
from tests.support.catalogue import key_header, make_product
from tests.support.community import approved_member
from tests.support.events import EventLog
from tests.support.waiting import wait_until

KEY = "Idempotency-Key"


@pytest.fixture
def seller(api, hub):
    return approved_member(api, hub.coordinator, hub.hub_id, role="seller")


@pytest.fixture
def catalogue_db(config):
    return mongo_client(config)[database_name("catalogue")]


def submit(seller, body, headers):
    return seller.client.post("/api/v1/products", json=body, headers=headers)


def restock(seller, product_id, delta, headers):
    path = f"/api/v1/products/{product_id}/stock"
    return seller.client.post(path, json={"delta": delta}, headers=headers)


def new_product(seller, hub_id, **fields):
    response = submit(seller, make_product(hub_id, **fields), key_header())
    assert response.status_code == 201, response.text
    return response.json()


def stock_of(seller, product_id):
    return seller.client.get(f"/api/v1/products/{product_id}").json()["stock"]


def in_parallel(send, times=5):
    with concurrent.futures.ThreadPoolExecutor(times) as pool:
        return list(pool.map(lambda _: send(), range(times)))


# --- products -----------------------------------------------------------------


def test_a_farmer_retrying_a_submission_five_times_gets_one_product(
    config, hub, seller, catalogue_db
):
    body, key = make_product(hub.hub_id), key_header()
    with EventLog(config, "catalogue") as events:
        answers = [submit(seller, body, key) for _ in range(5)]
        marker = new_product(seller, hub.hub_id)
        events.wait_for("product_submitted", product_id=marker["id"])
        [product_id] = {answer.json()["id"] for answer in answers}
        assert len(events.of_type("product_submitted", product_id=product_id)) == 1
    assert [answer.status_code for answer in answers] == [201] * 5
    assert catalogue_db.products.count_documents({"seller_id": seller.member_id}) == 2


def test_five_parallel_submissions_with_one_key_make_one_product(hub, seller, catalogue_db):
    body, key = make_product(hub.hub_id), key_header()
    answers = in_parallel(lambda: submit(seller, body, key))
    assert [answer.status_code for answer in answers] == [201] * 5, [a.text for a in answers]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert catalogue_db.products.count_documents({"seller_id": seller.member_id}) == 1


@pytest.fixture
def slow_catalogue(config, monkeypatch):
    """The gateway gives up after half a second; the first product takes a second."""
    config["KOMPOR_RPC_TIMEOUT"] = 0.5
    add = CatalogueRepository.add_product
    slowed = []

    def add_slowly(self, make):
        if not slowed:
            # ``make(code)`` builds the product; its id comes from the key, whatever the code
            slowed.append(make("KAMA")["_id"])
            eventlet.sleep(1.0)
        return add(self, make)

    monkeypatch.setattr(CatalogueRepository, "add_product", add_slowly)
    return slowed


def test_a_retry_after_the_gateway_timed_out_gets_the_product_the_service_made(
    slow_catalogue, hub, seller, catalogue_db
):
    body, key = make_product(hub.hub_id), key_header()
    timed_out = submit(seller, body, key)
    assert timed_out.status_code == 503, timed_out.text
    mine = {"seller_id": seller.member_id}
    wait_until(lambda: catalogue_db.products.count_documents(mine) == 1, message="the write")

    retried = submit(seller, body, key)
    assert retried.status_code == 201, retried.text
    assert [retried.json()["id"]] == slow_catalogue
    assert catalogue_db.products.count_documents(mine) == 1


def test_the_same_key_with_another_product_is_a_409_naming_the_header(hub, seller):
    key = key_header()
    first = submit(seller, make_product(hub.hub_id, price=10_000), key)
    assert first.status_code == 201, first.text
    other = submit(seller, make_product(hub.hub_id, price=12_000), key)
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "CONFLICT"
    assert KEY in other.json()["error"]["details"]


def test_two_sellers_may_use_the_same_key(api, hub, seller):
    other_seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    key, body = key_header(), make_product(hub.hub_id)
    mine = submit(seller, body, key).json()
    theirs = submit(other_seller, body, key).json()
    assert mine["id"] != theirs["id"] and theirs["seller_id"] == other_seller.member_id


@pytest.mark.parametrize("headers", [{}, {KEY: ""}, {KEY: "k" * 101}])
def test_submitting_or_restocking_without_a_key_is_a_400_naming_the_header(hub, seller, headers):
    product = new_product(seller, hub.hub_id, stock=8)
    for response in (
        submit(seller, make_product(hub.hub_id), headers),
        restock(seller, product["id"], 5, headers),
    ):
        assert response.status_code == 400, response.text
        assert KEY in response.json()["error"]["details"]
    assert stock_of(seller, product["id"]) == 8


# --- stock --------------------------------------------------------------------


def test_a_farmer_retrying_a_restock_five_times_adds_it_once(hub, seller):
    product = new_product(seller, hub.hub_id, stock=8)
    key = key_header()
    answers = [restock(seller, product["id"], 12, key) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert {answer.json()["stock"] for answer in answers} == {20}
    assert stock_of(seller, product["id"]) == 20
    assert restock(seller, product["id"], 12, key_header()).json()["stock"] == 32


def test_five_parallel_restocks_with_one_key_add_it_once(hub, seller):
    product = new_product(seller, hub.hub_id, stock=8)
    key = key_header()
    answers = in_parallel(lambda: restock(seller, product["id"], 12, key))
    assert [answer.status_code for answer in answers] == [200] * 5, [a.text for a in answers]
    assert stock_of(seller, product["id"]) == 20


def test_the_same_key_with_another_delta_is_a_409_and_changes_nothing(hub, seller):
    product = new_product(seller, hub.hub_id, stock=8)
    key = key_header()
    assert restock(seller, product["id"], 12, key).status_code == 200
    other = restock(seller, product["id"], 3, key)
    assert other.status_code == 409, other.text
    assert KEY in other.json()["error"]["details"]
    assert stock_of(seller, product["id"]) == 20


def test_a_stock_change_is_applied_once_even_when_the_answer_was_never_recorded(
    config, hub, seller, catalogue_db
):
    """The key travels in the same update as the delta: with the service's records of
    answers gone (a crash right after the write), the retry still adds nothing."""
    product = new_product(seller, hub.hub_id, stock=8)
    actor = {"member_id": seller.member_id, "is_admin": False, "roles": {hub.hub_id: ["seller"]}}
    with ClusterRpcProxy(config) as cluster:
        rpc = SigningProxy(cluster, cfg.secret_key(config))
        first = rpc.catalogue.change_stock(actor, product["id"], {"delta": 12}, idempotency_key="k")
        catalogue_db[COLLECTION].delete_many({})
        again = rpc.catalogue.change_stock(actor, product["id"], {"delta": 12}, idempotency_key="k")
        created = rpc.catalogue.create_product(actor, make_product(hub.hub_id), idempotency_key="p")
        catalogue_db[COLLECTION].delete_many({})
        recreated = rpc.catalogue.create_product(
            actor, make_product(hub.hub_id), idempotency_key="p"
        )
    assert first["stock"] == again["stock"] == 20
    assert stock_of(seller, product["id"]) == 20
    assert recreated["id"] == created["id"]
    assert catalogue_db.products.count_documents({"seller_id": seller.member_id}) == 2


# --- the writes where a key is optional --------------------------------------


def test_an_edit_sent_again_with_its_key_answers_the_same_and_another_body_is_a_409(hub, seller):
    product = new_product(seller, hub.hub_id)
    path, key = f"/api/v1/products/{product['id']}", key_header()
    first = seller.client.patch(path, json={"price": 16_000}, headers=key)
    assert first.status_code == 200, first.text
    assert seller.client.patch(path, json={"price": 16_000}, headers=key).json() == first.json()
    other = seller.client.patch(path, json={"price": 17_000}, headers=key)
    assert other.status_code == 409 and KEY in other.json()["error"]["details"]
    assert seller.client.get(path).json()["price"] == 16_000


def test_a_profile_change_takes_a_key_too(api, hub):
    client, _ = api.as_member()
    key = key_header()
    assert client.patch("/api/v1/me", json={"name": "Bu Siti"}, headers=key).status_code == 200
    other = client.patch("/api/v1/me", json={"name": "Pak Budi"}, headers=key)
    assert other.status_code == 409, other.text
    assert client.get("/api/v1/me").json()["name"] == "Bu Siti"


@pytest.mark.parametrize("service", ["community", "catalogue", "orders"])
def test_every_writing_service_forgets_its_answers_a_day_after_by_a_ttl_index(
    stack, config, service
):
    indexes = mongo_client(config)[database_name(service)][COLLECTION].index_information()
    ttl = {name: index for name, index in indexes.items() if "expireAfterSeconds" in index}
    assert [index["key"] for index in ttl.values()] == [[("created_at", 1)]]
    assert all(index["expireAfterSeconds"] >= 24 * 3600 for index in ttl.values())
