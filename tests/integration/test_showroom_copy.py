"""The gateway's copy of the showroom (docs/architecture.md §18), through real HTTP:
it follows catalogue's events within a deadline, is rebuilt from catalogue when a
gateway starts, answers every showroom query exactly as catalogue does, and serves
conditional, cacheable and compressed answers to phones on slow networks."""

import gzip
import json

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from nameko.testing.utils import find_free_port

from services.common import config as cfg
from services.common.mongo import database_name, mongo_client
from services.common.signing import SigningProxy
from services.gateway.service import GatewayService
from tests.conftest import ALL_SERVICES, Stack
from tests.support.api import Api
from tests.support.broker import cut_connections
from tests.support.catalogue import (
    coordinator_of,
    key_header,
    make_product,
    new_hub_id,
    seller_of,
)
from tests.support.community import approved_member, decide
from tests.support.orders import make_order, new_key
from tests.support.showroom import copy_ready, from_the_copy, raw_get, shown, soon
from tests.support.waiting import wait_until

PRODUCTS = "/api/v1/products"


@pytest.fixture
def rpc(config):
    """The services, called as the gateway would: each actor signed."""
    with ClusterRpcProxy(config) as proxy:
        yield SigningProxy(proxy, cfg.secret_key(config))


@pytest.fixture
def seller(api, hub):
    return approved_member(api, hub.coordinator, hub.hub_id, role="seller")


def offer(seller, coordinator, hub_id, **fields):
    """A product submitted by ``seller`` and approved by ``coordinator``."""
    created = seller.client.post(
        PRODUCTS, json=make_product(hub_id, **fields), headers=key_header()
    )
    assert created.status_code == 201, created.text
    approved = coordinator.post(f"{PRODUCTS}/{created.json()['id']}/approve")
    assert approved.status_code == 200, approved.text
    return approved.json()


def seed(rpc, hub_id, seller, coordinator, status="approved", **fields):
    """A product in ``status``, straight through catalogue's RPC."""
    product = rpc.catalogue.create_product(
        seller, make_product(hub_id, **fields), idempotency_key=new_key()
    )
    if status == "approved":
        return rpc.catalogue.approve_product(coordinator, product["id"])
    if status == "rejected":
        return rpc.catalogue.reject_product(coordinator, product["id"], {"reason": "Buram"})
    return product


def test_the_copy_shows_an_approved_product_and_follows_its_price_stock_and_removal(
    api, hub, seller
):
    copy_ready(api)
    product = offer(seller, hub.coordinator, hub.hub_id, price=12_000, stock=30)
    in_hub = {"hub_id": hub.hub_id}
    soon(lambda: shown(api, product["id"], **in_hub), "the approved product on show")
    detail = from_the_copy(api, f"{PRODUCTS}/{product['id']}")
    assert detail.json() == seller.client.get(f"{PRODUCTS}/{product['id']}").json()

    path = f"{PRODUCTS}/{product['id']}"
    assert seller.client.patch(path, json={"price": 13_500}).status_code == 200
    soon(lambda: shown(api, product["id"], **in_hub)["price"] == 13_500, "the new price")

    restocked = seller.client.post(f"{path}/stock", json={"delta": -5}, headers=key_header())
    assert restocked.status_code == 200, restocked.text
    soon(lambda: from_the_copy(api, path).json()["stock"] == 25, "the new stock")
    assert from_the_copy(api, path).json() == restocked.json()  # updated_at moved too

    renamed = seller.client.patch(path, json={"name": "Keripik Tempe Balado"})
    assert renamed.json()["status"] == "pending_review"
    soon(lambda: shown(api, product["id"], **in_hub) is None, "the product off show")
    assert api.get(path).status_code == 404  # catalogue says so: the copy does not show it


def test_orders_move_the_stock_the_copy_shows(api, hub, seller):
    copy_ready(api)
    product = offer(seller, hub.coordinator, hub.hub_id, stock=10)
    path = f"{PRODUCTS}/{product['id']}"
    soon(lambda: from_the_copy(api, path).status_code == 200, "the product on show")
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    body = make_order(hub.hub_id, [({"product_id": product["id"]}, 3)])

    def placed():  # orders learns of the product from catalogue's events too
        answer = buyer.client.post("/api/v1/orders", json=body, headers=key_header())
        return answer.json() if answer.status_code == 201 else None

    order = soon(placed, "an order for the product")
    soon(lambda: from_the_copy(api, path).json()["stock"] == 7, "the stock the order took")
    cancelled = buyer.client.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text
    soon(lambda: from_the_copy(api, path).json()["stock"] == 10, "the stock given back")


def test_a_suspended_seller_s_products_leave_the_copy_and_come_back(api, hub, seller):
    copy_ready(api)
    product = offer(seller, hub.coordinator, hub.hub_id)
    in_hub = {"hub_id": hub.hub_id}
    soon(lambda: shown(api, product["id"], **in_hub), "the product on show")
    assert decide(hub.coordinator, seller.membership_id, "suspend").status_code == 200
    soon(lambda: shown(api, product["id"], **in_hub) is None, "the product off show")
    again = hub.coordinator.post(f"/api/v1/memberships/{seller.membership_id}/approve")
    assert again.status_code == 200, again.text
    soon(lambda: shown(api, product["id"], **in_hub), "the product back on show")


def test_a_gateway_started_later_rebuilds_its_copy_from_catalogue(container_factory, config, rpc):
    backends = [name for name in ALL_SERVICES if name != "gateway"]
    stack = Stack(container_factory, config).start(*backends)
    hub_id = new_hub_id()
    seller, coordinator = seller_of(hub_id), coordinator_of(hub_id)
    kept = [seed(rpc, hub_id, seller, coordinator, name=f"Kopi {n}") for n in range(3)]
    seed(rpc, hub_id, seller, coordinator, status="pending_review")
    stack.start("gateway").wait_ready()
    copy_ready(stack.api)
    stack.stop("catalogue")  # what follows can only come from the copy

    listed = stack.api.get(PRODUCTS, params={"hub_id": hub_id})
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [p["id"] for p in reversed(kept)]
    detail = stack.api.get(f"{PRODUCTS}/{kept[0]['id']}")
    assert detail.status_code == 200 and detail.json()["name"] == "Kopi 0"


def test_a_gateway_whose_broker_connection_was_cut_rebuilds_its_copy(api, config, rpc):
    copy_ready(api)
    hub_id = new_hub_id()
    product = seed(rpc, hub_id, seller_of(hub_id), coordinator_of(hub_id), price=15_000)
    soon(lambda: shown(api, product["id"]), "the product on show")
    # a change the gateway never hears of, as if its event came while it was away
    catalogue = mongo_client(config)[database_name("catalogue")]
    catalogue.products.update_one({"_id": product["id"]}, {"$set": {"price": 99_000}})
    assert shown(api, product["id"])["price"] == 15_000

    assert cut_connections(config) > 0
    wait_until(
        lambda: shown(api, product["id"])["price"] == 99_000,
        timeout=30,
        message="the copy rebuilt once the gateway reconnected",
    )


def test_a_gateway_is_ready_once_it_holds_its_copy(container_factory, config):
    backends = [name for name in ALL_SERVICES if name not in ("gateway", "catalogue")]
    stack = Stack(container_factory, config).start(*backends, "gateway")
    readiness = stack.api.get("/readyz")
    assert readiness.status_code == 503
    services = readiness.json()["services"]
    assert (services["gateway"], services["catalogue"]) == ("starting", "unavailable")
    assert stack.api.get(PRODUCTS).status_code == 503  # nothing to answer from, or with

    stack.start("catalogue").wait_ready()
    assert stack.api.get("/readyz").json()["services"]["gateway"] == "ok"
    copy_ready(stack.api)


def test_each_gateway_keeps_a_copy_of_its_own(container_factory, config, stack, rpc):
    address = f"127.0.0.1:{find_free_port()}"
    container_factory(GatewayService, {**config, "WEB_SERVER_ADDRESS": address}).start()
    gateways = [stack.api, Api(f"http://{address}")]
    for gateway in gateways:
        copy_ready(gateway)
    hub_id = new_hub_id()
    product = seed(rpc, hub_id, seller_of(hub_id), coordinator_of(hub_id))
    for gateway in gateways:
        soon(lambda gateway=gateway: shown(gateway, product["id"]), "the product in each copy")


@pytest.fixture
def assortment(stack, rpc):
    """Two hubs of products in every state, sellers, prices and words, with some
    stock moved: what the showroom's queries can tell apart."""
    hub_a, hub_b = new_hub_id(), new_hub_id()
    sellers = {hub_a: [seller_of(hub_a), seller_of(hub_a)], hub_b: [seller_of(hub_b)]}
    coordinators = {hub_a: coordinator_of(hub_a), hub_b: coordinator_of(hub_b)}
    catalogue = [
        ("Keripik Tempe Dampit", "food", 15_000),
        ("Kopi Robusta Dampit", "beverage", 45_000),
        ("Kopi Luwak Organik", "beverage", 45_000),
        ("Batik Tulis Malangan", "fashion", 350_000),
        ("Apel Manalagi Batu", "agriculture", 25_000),
        ("Anyaman Bambu", "craft", 15_000),
        ("Sambal 100%.* Pedas", "food", 9_000),
        ("Beras Organik Singosari", "agriculture", 60_000),
    ]
    products = []
    for n, (name, category, price) in enumerate(catalogue * 2):
        hub_id = (hub_a, hub_b)[n % 2]
        seller = sellers[hub_id][n % len(sellers[hub_id])]
        fields = {"name": f"{name} {n}", "category": category, "price": price + n % 3 * 500}
        products.append(seed(rpc, hub_id, seller, coordinators[hub_id], **fields))
    seed(rpc, hub_a, sellers[hub_a][0], coordinators[hub_a], status="pending_review")
    seed(rpc, hub_a, sellers[hub_a][0], coordinators[hub_a], status="rejected")
    rpc.catalogue.change_stock(
        sellers[hub_a][0], products[0]["id"], {"delta": 7}, idempotency_key=new_key()
    )
    return {"hub_a": hub_a, "hub_b": hub_b, "seller": sellers[hub_a][1], "products": products}


def showroom_queries(assortment):
    """Every filter of ``bench.showroom``, and the rest of what the showroom takes."""
    hub_a, code = assortment["hub_a"], assortment["products"][3]["code"]
    return [
        {},
        {"hub_id": hub_a},
        {"hub_id": hub_a, "category": "beverage"},
        {"min_price": 10_000, "max_price": 50_000, "sort": "price_asc"},
        {"hub_id": hub_a, "page": 3, "page_size": 2},
        {"q": "dampit"},
        {"hub_id": hub_a, "q": "ORGANIK"},
        {"q": ".*"},
        {"q": "tidak ada"},
        {"min_price": 45_000},
        {"max_price": 15_000, "sort": "price_desc"},
        {"sort": "price_asc", "page": 2, "page_size": 5},
        {"seller_id": assortment["seller"]["member_id"]},
        {"code": code.lower()},
        {"hub_id": "no-such-hub"},
        {"page": 40},
    ]


def test_every_showroom_query_answers_as_catalogue_does(api, rpc, assortment):
    copy_ready(api)
    total = len(assortment["products"])
    soon(lambda: from_the_copy(api, PRODUCTS).json()["total"] == total, "every product on show")
    stocked = f"{PRODUCTS}/{assortment['products'][0]['id']}"
    soon(lambda: from_the_copy(api, stocked).json()["stock"] == 47, "the stock change")
    for params in showroom_queries(assortment):
        answer = from_the_copy(api, PRODUCTS, params=params)
        expected = rpc.catalogue.list_products(None, params)
        assert answer.json() == expected, params
        assert answer.content == json.dumps(expected, separators=(",", ":")).encode(), params
    for product in assortment["products"]:
        answer = from_the_copy(api, f"{PRODUCTS}/{product['id']}")
        assert answer.json() == rpc.catalogue.get_product(None, product["id"])


def test_bad_showroom_queries_are_refused_by_the_copy_as_catalogue_refuses_them(api):
    copy_ready(api)
    for params, field in [
        ({"min_price": "murah"}, "min_price"),
        ({"min_price": 9, "max_price": 1}, "max_price"),
        ({"sort": "cheapest"}, "sort"),
        ({"code": "K0MA"}, "code"),
        ({"q[$gt]": ""}, "q[$gt]"),
    ]:
        answer = from_the_copy(api, PRODUCTS, params=params)
        assert answer.status_code == 400 and field in answer.json()["error"]["details"], params
    refused = api.get(PRODUCTS, params={"status": "pending_review"})  # catalogue decides
    assert refused.status_code == 403


def test_a_page_and_a_product_carry_an_etag_and_a_repeat_gets_a_body_less_304(api, hub, seller):
    copy_ready(api)
    product = offer(seller, hub.coordinator, hub.hub_id, stock=30)
    path = f"{PRODUCTS}/{product['id']}"
    soon(lambda: from_the_copy(api, path).status_code == 200, "the product on show")
    for url in (f"{PRODUCTS}?hub_id={hub.hub_id}", path):
        first = api.get(url)
        etag = first.headers["ETag"]
        assert etag.startswith('W/"')
        again = api.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["ETag"] == etag
        answer = raw_get(api.base_url, url, [f"If-None-Match: {etag}"])
        assert answer.startswith(b"HTTP/1.1 304") and len(answer) < 300, answer
    etag = api.get(path).headers["ETag"]
    assert seller.client.post(f"{path}/stock", json={"delta": 1}, headers=key_header()).ok
    changed = soon(
        lambda: (r := api.get(path, headers={"If-None-Match": etag})).status_code == 200 and r,
        "a new answer once the stock moved",
    )
    assert changed.headers["ETag"] != etag and changed.json()["stock"] == 31


def test_anonymous_answers_may_be_kept_briefly_by_anyone_and_a_member_s_only_by_them(
    api, hub, seller
):
    copy_ready(api)
    product = offer(seller, hub.coordinator, hub.hub_id)
    for url in (PRODUCTS, f"{PRODUCTS}/{product['id']}"):
        public = api.get(url)
        assert public.headers["Cache-Control"] == "public, max-age=30"
        assert "Accept-Encoding" in public.headers["Vary"]
        private = seller.client.get(url)
        assert private.headers["Cache-Control"] == "private, no-cache"
        assert "Authorization" in private.headers["Vary"]


def test_a_page_of_twenty_products_is_under_10_kb_and_gzipped_for_who_accepts_it(api, rpc, stack):
    copy_ready(api)
    hub_id = new_hub_id()
    seller, coordinator = seller_of(hub_id), coordinator_of(hub_id)
    for n in range(20):
        seed(rpc, hub_id, seller, coordinator, name=f"Keripik Tempe Pedas Manis {n}")
    soon(lambda: from_the_copy(api, PRODUCTS).json()["total"] == 20, "twenty products")
    plain = raw_get(api.base_url, PRODUCTS, ["Accept-Encoding: identity"])
    head, body = plain.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding" not in head and len(body) < 10_000
    zipped = raw_get(api.base_url, PRODUCTS, ["Accept-Encoding: gzip, deflate"])
    head, compressed = zipped.split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head and b"Vary: Accept-Encoding" in head
    assert gzip.decompress(compressed) == body and len(compressed) < len(body) / 3
    refused = raw_get(api.base_url, PRODUCTS, ["Accept-Encoding: gzip;q=0"])
    assert b"Content-Encoding" not in refused.split(b"\r\n\r\n", 1)[0]
    small = raw_get(api.base_url, "/healthz", ["Accept-Encoding: gzip"])
    assert b"Content-Encoding" not in small.split(b"\r\n\r\n", 1)[0]  # too small to gain
