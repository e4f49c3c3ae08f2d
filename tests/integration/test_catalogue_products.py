"""Products through the gateway, as sellers, coordinators and the public use them
(issue: catalogue): submission, curation, edits and stock. Who may do what is in the
one authorization matrix, tests/integration/test_authorization.py."""

import pytest

from tests.support.catalogue import key_header, make_product
from tests.support.community import apply, approve, approved_member
from tests.support.events import EventLog
from tests.support.showroom import soon


@pytest.fixture
def catalogue_events(config):
    with EventLog(config, "catalogue") as log:
        yield log


@pytest.fixture
def seller(api, hub):
    return approved_member(api, hub.coordinator, hub.hub_id, role="seller")


def submit(seller, hub_id, **overrides):
    response = seller.client.post(
        "/api/v1/products", json=make_product(hub_id, **overrides), headers=key_header()
    )
    assert response.status_code == 201, response.text
    return response.json()


def showroom_ids(api, **params):
    response = api.get("/api/v1/products", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def soon_shown(api, product_ids, **params):
    """The showroom lists ``product_ids`` once catalogue's events reached the gateway."""
    soon(lambda: showroom_ids(api, **params) == product_ids, f"{product_ids} in the showroom")


def test_a_product_goes_from_submission_through_curation_to_the_showroom(
    api, hub, seller, catalogue_events
):
    product = submit(seller, hub.hub_id, price=12_000, stock=30)
    assert product["status"] == "pending_review" and product["seller_id"] == seller.member_id
    submitted = catalogue_events.wait_for("product_submitted", product_id=product["id"])
    assert submitted["data"] == {
        "product_id": product["id"],
        "version": 1,
        "code": product["code"],
        "hub_id": hub.hub_id,
        "seller_id": seller.member_id,
        "name": product["name"],
        "description": product["description"],
        "category": "food",
        "price": 12_000,
        "unit": "pack",
        "images": product["images"],
        "status": "pending_review",
        "on_show": False,
        "stock": 30,
        "stock_version": 0,
        "acted_by": None,
        "reviewed_at": None,
        "created_at": product["created_at"],
        "updated_at": product["updated_at"],
    }
    path = f"/api/v1/products/{product['id']}"
    assert api.get(path).status_code == 404
    assert seller.client.get(path).json()["stock"] == 30
    assert hub.coordinator.get(path).status_code == 200
    assert showroom_ids(api, hub_id=hub.hub_id) == []

    approved = hub.coordinator.post(f"{path}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert catalogue_events.wait_for("product_approved", product_id=product["id"])
    soon_shown(api, [product["id"]], hub_id=hub.hub_id)
    assert api.get(path).json()["stock"] == 30

    repriced = seller.client.patch(path, json={"price": 13_500})
    assert repriced.status_code == 200 and repriced.json()["status"] == "approved"
    updated = catalogue_events.wait_for("product_updated", product_id=product["id"])
    assert updated["data"]["changed"] == ["price"]
    assert (updated["data"]["old_price"], updated["data"]["new_price"]) == (12_000, 13_500)

    def shown_price():
        [item] = api.get("/api/v1/products", params={"hub_id": hub.hub_id}).json()["items"]
        return item["price"]

    soon(lambda: shown_price() == 13_500, "the new price in the showroom")

    renamed = seller.client.patch(path, json={"name": "Keripik Tempe Balado"})
    assert renamed.json()["status"] == "pending_review"
    soon_shown(api, [], hub_id=hub.hub_id)
    assert api.get(path).status_code == 404

    rejected = hub.coordinator.post(f"{path}/reject", json={"reason": "Foto kurang jelas"})
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "Foto kurang jelas"
    reason = catalogue_events.wait_for("product_rejected", product_id=product["id"])
    assert reason["data"]["reason"] == "Foto kurang jelas"

    resubmitted = seller.client.patch(path, json={"images": ["https://img.kompordesa.id/b.jpg"]})
    assert resubmitted.json()["status"] == "pending_review"
    assert hub.coordinator.post(f"{path}/approve").json()["status"] == "approved"
    soon_shown(api, [product["id"]], q="balado")


def test_a_seller_restocks_and_corrects_stock_but_never_below_zero(
    api, hub, seller, catalogue_events
):
    product = submit(seller, hub.hub_id, stock=8)
    path = f"/api/v1/products/{product['id']}/stock"
    assert seller.client.post(path, json={"delta": 12}, headers=key_header()).json()["stock"] == 20
    assert seller.client.post(path, json={"delta": -15}, headers=key_header()).json()["stock"] == 5
    low = catalogue_events.wait_for("stock_low", product_id=product["id"])
    assert (low["data"]["stock"], low["data"]["threshold"]) == (5, 5)

    too_many = seller.client.post(path, json={"delta": -6}, headers=key_header())
    assert too_many.status_code == 409
    assert too_many.json()["error"]["code"] == "CONFLICT"
    assert "delta" in too_many.json()["error"]["details"]
    assert seller.client.get(f"/api/v1/products/{product['id']}").json()["stock"] == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": 0}, "price"),
        ({"price": 1500.5}, "price"),
        ({"stock": -1}, "stock"),
        ({"name": {"$gt": ""}}, "name"),
        ({"category": "senjata"}, "category"),
        ({"description": "x" * 2001}, "description"),
        ({"images": ["javascript:alert(1)"]}, "images"),
    ],
)
def test_bad_products_get_a_400_naming_the_field(hub, seller, overrides, field):
    body = {**make_product(hub.hub_id), **overrides}
    response = seller.client.post("/api/v1/products", json=body, headers=key_header())
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in response.json()["error"]["details"]


def test_a_ten_megabyte_description_is_refused_before_it_reaches_the_catalogue(hub, seller):
    body = make_product(hub.hub_id, description="x" * 10_000_000)
    response = seller.client.post("/api/v1/products", json=body, headers=key_header())
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_bad_edits_and_stock_changes_get_a_400_naming_the_field(hub, seller):
    product = submit(seller, hub.hub_id)
    path = f"/api/v1/products/{product['id']}"
    cases = [
        (f"{path}", {"price": -5}, "price"),
        (f"{path}", {"stock": 99}, "stock"),
        (f"{path}", {}, "_schema"),
        (f"{path}/stock", {"delta": 0}, "delta"),
        (f"{path}/stock", {"delta": "10"}, "delta"),
        (f"{path}/reject", {}, "reason"),
    ]
    for url, body, field in cases:
        send = seller.client.patch if url == path else seller.client.post
        if url.endswith("/reject"):
            send = hub.coordinator.post
        response = send(url, json=body, headers=key_header())
        assert response.status_code == 400, (url, body, response.text)
        assert field in response.json()["error"]["details"], (url, body)


def test_unknown_products_are_not_found(api, hub, seller):
    for method, path, body, client in [
        ("GET", "/api/v1/products/nope", None, api),
        ("PATCH", "/api/v1/products/nope", {"price": 1}, seller.client),
        ("POST", "/api/v1/products/nope/stock", {"delta": 1}, seller.client),
        ("POST", "/api/v1/products/nope/approve", None, hub.coordinator),
        ("POST", "/api/v1/products/nope/reject", {"reason": "Buram"}, hub.coordinator),
    ]:
        response = client.request(method, path, json=body, headers=key_header())
        assert response.status_code == 404, (method, path, response.text)


def test_a_suspended_seller_can_no_longer_change_their_products(api, hub, seller):
    product = submit(seller, hub.hub_id)
    suspended = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/suspend", json={"reason": "Menipu"}
    )
    assert suspended.status_code == 200, suspended.text
    response = seller.client.patch(f"/api/v1/products/{product['id']}", json={"price": 1})
    assert response.status_code == 403


def test_a_coordinator_who_sells_in_their_hub_cannot_approve_their_own_product(api, admin, hub):
    own = apply(hub.coordinator, hub.hub_id, role="seller")
    approve(admin, own["id"])
    response = hub.coordinator.post(
        "/api/v1/products", json=make_product(hub.hub_id), headers=key_header()
    )
    assert response.status_code == 201, response.text
    product = response.json()
    refused = hub.coordinator.post(f"/api/v1/products/{product['id']}/approve")
    assert refused.status_code == 403
    assert "own product" in refused.json()["error"]["message"]
    assert api.get(f"/api/v1/products/{product['id']}").status_code == 404
    approved = admin.post(f"/api/v1/products/{product['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
