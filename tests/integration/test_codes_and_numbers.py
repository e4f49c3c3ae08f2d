"""Product codes and order numbers, as members type them: every product gets a code,
found in any case (RPC, and the showroom's ``code`` filter through the gateway); an
order is found by its number in the forms people write it; products stored before
codes existed get theirs when catalogue starts."""

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.catalogue import domain as catalogue_domain
from services.common import config as cfg
from services.common.errors import NotFound
from services.common.mongo import database_name, mongo_client
from services.common.signing import SigningProxy
from tests.support.catalogue import key_header, make_product
from tests.support.community import approved_member
from tests.support.events import EventLog
from tests.support.showroom import soon
from tests.support.waiting import wait_until


@pytest.fixture
def cluster(stack, config):
    with ClusterRpcProxy(config) as proxy:
        yield proxy


@pytest.fixture
def rpc(cluster, config):
    """The services, called as the gateway would: each actor signed."""
    return SigningProxy(cluster, cfg.secret_key(config))


@pytest.fixture
def actor_of(cluster):
    """The actor of a logged-in client, as the gateway resolves it."""
    return lambda client: cluster.community.authenticate(client.token)


@pytest.fixture
def seller(api, hub):
    return approved_member(api, hub.coordinator, hub.hub_id, role="seller")


@pytest.fixture
def buyer(api, hub):
    return approved_member(api, hub.coordinator, hub.hub_id, role="buyer")


def submit(seller, hub_id, **overrides):
    response = seller.client.post(
        "/api/v1/products", json=make_product(hub_id, **overrides), headers=key_header()
    )
    assert response.status_code == 201, response.text
    return response.json()


def approve(hub, product):
    response = hub.coordinator.post(f"/api/v1/products/{product['id']}/approve")
    assert response.status_code == 200, response.text
    return response.json()


def not_found_naming(call, field):
    with pytest.raises(NotFound) as raised:
        call()
    return field in raised.value.details


def test_a_product_is_found_by_its_code_in_any_case_by_whoever_may_see_it(
    api, rpc, actor_of, hub, seller
):
    product = submit(seller, hub.hub_id)
    code = product["code"]
    assert catalogue_domain.normalise_code(code) == code
    seller_actor = actor_of(seller.client)
    found = rpc.catalogue.get_product_by_code(seller_actor, f" {code.lower()} ")
    assert found["id"] == product["id"] and found["code"] == code
    # under review: not for the public
    assert not_found_naming(lambda: rpc.catalogue.get_product_by_code(None, code), "code")

    approve(hub, product)
    assert rpc.catalogue.get_product_by_code(None, code)["id"] == product["id"]
    assert api.get(f"/api/v1/products/{product['id']}").json()["code"] == code


@pytest.mark.parametrize("typed", ["KAAA2", "K0MA", "", "KD-000001"])
def test_a_code_of_no_product_is_not_found(rpc, typed):
    assert not_found_naming(lambda: rpc.catalogue.get_product_by_code(None, typed), "code")


def test_the_showroom_filters_by_code_in_any_case(api, hub, seller):
    wanted, other = submit(seller, hub.hub_id), submit(seller, hub.hub_id)
    approve(hub, wanted)
    approve(hub, other)

    def listed():
        return api.get("/api/v1/products", params={"code": wanted["code"].lower()}).json()["items"]

    [item] = soon(listed, "the product listed by its code")
    assert item["id"] == wanted["id"] and item["code"] == wanted["code"]
    review = hub.coordinator.get(
        "/api/v1/products",
        params={"hub_id": hub.hub_id, "status": "approved", "code": other["code"]},
    )
    assert [item["id"] for item in review.json()["items"]] == [other["id"]]


def test_the_showroom_refuses_a_code_filter_that_cannot_be_a_code(api):
    response = api.get("/api/v1/products", params={"code": "K0MA"})
    assert response.status_code == 400, response.text
    assert "code" in response.json()["error"]["details"]


def place_order(client, hub_id, product):
    body = {
        "hub_id": hub_id,
        "items": [{"product_id": product["id"], "quantity": 1}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }

    def placed():
        response = client.post("/api/v1/orders", json=body, headers=key_header())
        return response.json() if response.status_code == 201 else None

    # orders learns of the approved product from catalogue's event
    return wait_until(placed, message="the approved product to reach orders")


def test_an_order_is_found_by_its_number_however_it_is_typed(
    api, rpc, actor_of, hub, seller, buyer
):
    product = approve(hub, submit(seller, hub.hub_id))
    order = place_order(buyer.client, hub.hub_id, product)
    assert [line["code"] for line in order["items"]] == [product["code"]]
    number = order["number"]
    digits = number.removeprefix("KD-")
    buyer_actor = actor_of(buyer.client)
    for typed in (
        number,
        number.lower().replace("-", ""),
        f"KD {int(digits)}",
        digits,
        str(int(digits)),
    ):
        found = rpc.orders.get_order_by_number(buyer_actor, typed)
        assert found["id"] == order["id"], typed
        assert found["items"][0]["code"] == product["code"]
    # the seller and the hub's coordinator see it too
    assert rpc.orders.get_order_by_number(actor_of(seller.client), number)["id"] == order["id"]
    assert rpc.orders.get_order_by_number(actor_of(hub.coordinator), number)["id"] == order["id"]


def test_an_order_number_is_not_found_for_a_stranger_nor_when_it_is_not_a_number(
    api, rpc, actor_of, hub, seller, buyer
):
    product = approve(hub, submit(seller, hub.hub_id))
    order = place_order(buyer.client, hub.hub_id, product)
    stranger, _ = api.as_member()
    stranger_actor = actor_of(stranger)
    for typed in (order["number"], "KD-999999", "abc", ""):
        assert not_found_naming(
            lambda typed=typed: rpc.orders.get_order_by_number(stranger_actor, typed), "number"
        )


def test_products_stored_before_codes_get_one_when_catalogue_starts(
    stack, api, hub, seller, config
):
    product = approve(hub, submit(seller, hub.hub_id))
    stack.stop("catalogue")
    db = mongo_client(config)[database_name("catalogue")]
    db.products.update_one({"_id": product["id"]}, {"$unset": {"code": ""}})
    with EventLog(config, "catalogue") as catalogue_events:
        stack.start("catalogue")
        event = catalogue_events.wait_for("product_updated", product_id=product["id"])
    code = event["data"]["code"]
    assert event["data"]["changed"] == ["code"] and catalogue_domain.normalise_code(code) == code
    # the gateway's copy of the showroom learns the code from the same event
    soon(
        lambda: api.get(f"/api/v1/products/{product['id']}").json()["code"] == code,
        "the new code shown",
    )
    listed = api.get("/api/v1/products", params={"code": code}).json()["items"]
    assert [item["id"] for item in listed] == [product["id"]]
