"""The coordinator acts for a member at the showroom (DESIGN §7), through the gateway:
orders placed, products submitted and stock changed for an approved member of their
hub, who owns the result, is named with the coordinator (``acted_by``) in the record
and its events, and is told by SMS each time. Not for another hub's members, a
suspended member or an applicant, and not by anyone but the hub's coordinator: 403
naming ``on_behalf_of``. Who may call what is also in the one authorization matrix."""

import pytest

from tests.support.api import e164, make_phone
from tests.support.catalogue import key_header, make_product
from tests.support.community import (
    approve,
    approved_member,
    decide,
    hub_with_coordinator,
    pending_member,
)
from tests.support.events import EventLog
from tests.support.waiting import holds, wait_until


class Member:
    """An approved member of the hub whose SMS the test reads."""

    def __init__(self, api, hub, role):
        self.phone = make_phone()
        joined = approved_member(api, hub.coordinator, hub.hub_id, role=role, phone=self.phone)
        self.client, self.member_id, self.membership_id = joined[:3]

    def told(self, sms_sink, containing):
        """The SMS to this member containing ``containing``, once it arrived."""
        return wait_until(
            lambda: [m for m in sms_sink.to(e164(self.phone)) if containing in m["message"]],
            timeout=15,
            message=f"an SMS with {containing!r}",
        )[0]["message"]


@pytest.fixture
def seller(api, hub):
    return Member(api, hub, "seller")


@pytest.fixture
def buyer(api, hub):
    return Member(api, hub, "buyer")


@pytest.fixture
def other(api, admin):
    """Another hub, with its coordinator."""
    return hub_with_coordinator(api, admin)


@pytest.fixture
def catalogue_events(config):
    with EventLog(config, "catalogue") as log:
        yield log


@pytest.fixture
def orders_events(config):
    with EventLog(config, "orders") as log:
        yield log


def submitted(client, body):
    response = client.post("/api/v1/products", json=body, headers=key_header())
    assert response.status_code == 201, response.text
    return response.json()


def approved_product(hub, seller, **fields):
    product = submitted(seller.client, make_product(hub.hub_id, **fields))
    response = hub.coordinator.post(f"/api/v1/products/{product['id']}/approve")
    assert response.status_code == 200, response.text
    return product


def order_body(hub, product, **extra):
    return {
        "hub_id": hub.hub_id,
        "items": [{"product_id": product["id"], "quantity": 2}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
        **extra,
    }


def known_to_orders(hub, product):
    """Orders has heard of the approved product (a probe order of the coordinator's)."""
    wait_until(
        lambda: (
            hub.coordinator.post(
                "/api/v1/orders", json=order_body(hub, product), headers=key_header()
            ).status_code
            == 201
        ),
        message="the approved product to reach orders",
    )


def refused_for(response, field="on_behalf_of"):
    assert response.status_code == 403, response.text
    assert field in response.json()["error"]["details"], response.text
    return True


# --- allowed: the hub's coordinator, for an approved member ---------------------------


def test_the_coordinator_orders_for_a_member_who_owns_the_order_and_is_told(
    api, hub, seller, buyer, sms_sink, orders_events
):
    product = approved_product(hub, seller, price=12_500)
    known_to_orders(hub, product)
    body, key = order_body(hub, product, on_behalf_of=buyer.member_id), key_header()
    response = hub.coordinator.post("/api/v1/orders", json=body, headers=key)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["buyer_id"] == buyer.member_id and order["acted_by"] == hub.coordinator_id
    assert order["history"][0] | {"at": None} == {
        "status": "pending",
        "by": buyer.member_id,
        "acted_by": hub.coordinator_id,
        "at": None,
    }
    # the order is the member's: in their list, theirs to cancel
    mine = buyer.client.get("/api/v1/orders", params={"as": "buyer"}).json()["items"]
    assert [item["id"] for item in mine] == [order["id"]]
    placed = orders_events.wait_for("order_placed", order_id=order["id"])
    assert placed["data"]["acted_by"] == hub.coordinator_id
    assert placed["data"]["buyer_id"] == buyer.member_id

    text = buyer.told(sms_sink, order["number"])
    assert text.startswith("Koordinator ") and "atas nama Anda" in text and "Rp25.000" in text

    # the same key and body again → the same order; the same key, another body → 409
    again = hub.coordinator.post("/api/v1/orders", json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == order["id"]
    other_body = {**body, "payment_method": "bank_transfer"}
    reused = hub.coordinator.post("/api/v1/orders", json=other_body, headers=key)
    assert reused.status_code == 409, reused.text
    cancelled = buyer.client.post(f"/api/v1/orders/{order['id']}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.text


def test_the_coordinator_submits_a_product_for_a_seller_who_owns_it_and_is_told(
    api, hub, seller, sms_sink, catalogue_events
):
    body = make_product(hub.hub_id, name="Sambal Pecel Bu Tini", on_behalf_of=seller.member_id)
    key = key_header()
    response = hub.coordinator.post("/api/v1/products", json=body, headers=key)
    assert response.status_code == 201, response.text
    product = response.json()
    again = hub.coordinator.post("/api/v1/products", json=body, headers=key)
    assert again.status_code == 201 and again.json()["id"] == product["id"]
    assert product["seller_id"] == seller.member_id
    assert product["acted_by"] == hub.coordinator_id
    assert product["status"] == "pending_review"
    event = catalogue_events.wait_for("product_submitted", product_id=product["id"])
    assert event["data"]["acted_by"] == hub.coordinator_id
    assert event["data"]["seller_id"] == seller.member_id

    text = seller.told(sms_sink, product["code"])
    assert text.startswith("Koordinator ") and "mengajukan produk Anda" in text
    assert "Sambal Pecel Bu Tini" in text

    # the seller owns it: they edit it
    edited = seller.client.patch(f"/api/v1/products/{product['id']}", json={"price": 9_000})
    assert edited.status_code == 200, edited.text


def test_the_coordinator_changes_a_sellers_stock_and_the_seller_is_told(
    api, hub, seller, sms_sink, catalogue_events
):
    product = approved_product(hub, seller, stock=10)
    path = f"/api/v1/products/{product['id']}/stock"
    response = hub.coordinator.post(path, json={"delta": 15}, headers=key_header())
    assert response.status_code == 200, response.text
    assert response.json()["stock"] == 25
    changed = catalogue_events.wait_for("stock_changed", product_id=product["id"])
    assert changed["data"] == {
        "product_id": product["id"],
        "code": product["code"],
        "hub_id": hub.hub_id,
        "seller_id": seller.member_id,
        "name": product["name"],
        "stock": 25,
        "stock_version": 1,
        "delta": 15,
        "acted_by": hub.coordinator_id,
        "updated_at": response.json()["updated_at"],
    }
    text = seller.told(sms_sink, "+15")
    assert product["code"] in text and "kini 25" in text

    # the seller's own change is announced too, with nobody acting for them, and is
    # not news to them
    own = seller.client.post(path, json={"delta": -5}, headers=key_header())
    assert own.status_code == 200 and own.json()["stock"] == 20
    mine = catalogue_events.wait_for("stock_changed", product_id=product["id"], delta=-5)
    assert mine["data"]["acted_by"] is None
    holds(
        lambda: not [m for m in sms_sink.to(e164(seller.phone)) if "-5" in m["message"]],
        1.0,
        message="no SMS about the seller's own change",
    )


def test_an_admin_may_act_for_a_member_of_any_hub(api, admin, hub, seller):
    body = make_product(hub.hub_id, on_behalf_of=seller.member_id)
    product = submitted(admin, body)
    assert product["seller_id"] == seller.member_id and product["acted_by"] is not None


# --- refused: 403 naming on_behalf_of -------------------------------------------------


def test_another_hubs_coordinator_cannot_act_for_this_hubs_member(api, hub, other, seller, buyer):
    product = approved_product(hub, seller)
    known_to_orders(hub, product)
    order = order_body(hub, product, on_behalf_of=buyer.member_id)
    assert refused_for(other.coordinator.post("/api/v1/orders", json=order, headers=key_header()))
    body = make_product(hub.hub_id, on_behalf_of=seller.member_id)
    assert refused_for(other.coordinator.post("/api/v1/products", json=body, headers=key_header()))
    stock = other.coordinator.post(
        f"/api/v1/products/{product['id']}/stock", json={"delta": 1}, headers=key_header()
    )
    assert stock.status_code == 403, stock.text


def test_a_coordinator_cannot_act_for_a_member_of_another_hub_in_their_own_hub(
    api, hub, other, seller
):
    """The other hub's seller is approved there, not here."""
    outsider = approved_member(api, other.coordinator, other.hub_id, role="seller")
    product = approved_product(hub, seller)
    known_to_orders(hub, product)
    order = order_body(hub, product, on_behalf_of=outsider.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/orders", json=order, headers=key_header()))
    body = make_product(hub.hub_id, on_behalf_of=outsider.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/products", json=body, headers=key_header()))


def test_nobody_but_the_coordinator_acts_for_a_member(api, hub, seller, buyer):
    product = approved_product(hub, seller)
    known_to_orders(hub, product)
    order = order_body(hub, product, on_behalf_of=buyer.member_id)
    assert refused_for(seller.client.post("/api/v1/orders", json=order, headers=key_header()))
    fellow = Member(api, hub, "seller")
    body = make_product(hub.hub_id, on_behalf_of=seller.member_id)
    assert refused_for(fellow.client.post("/api/v1/products", json=body, headers=key_header()))
    stock = fellow.client.post(
        f"/api/v1/products/{product['id']}/stock", json={"delta": 1}, headers=key_header()
    )
    assert stock.status_code == 403, stock.text


def test_a_coordinator_cannot_act_for_an_applicant_nor_submit_for_a_buyer(api, hub, seller, buyer):
    applicant = pending_member(api, hub.hub_id, role="buyer")
    product = approved_product(hub, seller)
    known_to_orders(hub, product)
    order = order_body(hub, product, on_behalf_of=applicant.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/orders", json=order, headers=key_header()))
    body = make_product(hub.hub_id, on_behalf_of=buyer.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/products", json=body, headers=key_header()))


def test_a_coordinator_cannot_act_for_a_suspended_member(api, hub, seller):
    member = Member(api, hub, "seller")
    product = approved_product(hub, member)
    other_product = approved_product(hub, seller)
    known_to_orders(hub, product)
    known_to_orders(hub, other_product)
    response = decide(hub.coordinator, member.membership_id, "suspend")
    assert response.status_code == 200, response.text
    # catalogue has heard once the product leaves the showroom; orders once it refuses
    # the suspended seller's product
    wait_until(
        lambda: api.get(f"/api/v1/products/{product['id']}").status_code == 404,
        message="catalogue to hear of the suspension",
    )
    wait_until(
        lambda: (
            hub.coordinator.post(
                "/api/v1/orders", json=order_body(hub, product), headers=key_header()
            ).status_code
            == 404
        ),
        message="orders to hear of the suspension",
    )
    order = order_body(hub, other_product, on_behalf_of=member.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/orders", json=order, headers=key_header()))
    body = make_product(hub.hub_id, on_behalf_of=member.member_id)
    assert refused_for(hub.coordinator.post("/api/v1/products", json=body, headers=key_header()))
    stock = hub.coordinator.post(
        f"/api/v1/products/{product['id']}/stock", json={"delta": 1}, headers=key_header()
    )
    assert refused_for(stock, field="product_id")
    # reinstated, they may be acted for again
    approve(hub.coordinator, member.membership_id)
    wait_until(
        lambda: (
            hub.coordinator.post("/api/v1/products", json=body, headers=key_header()).status_code
            == 201
        ),
        message="catalogue to hear of the reinstatement",
    )
