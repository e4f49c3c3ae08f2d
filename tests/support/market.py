"""A market to trade in through the gateway: a hub, its coordinator, a seller with
approved products that orders already knows, and the steps of an order's life."""

from typing import NamedTuple

from tests.support.api import Api
from tests.support.catalogue import key_header, make_product
from tests.support.community import approved_member, hub_with_coordinator
from tests.support.orders import new_key
from tests.support.waiting import wait_until

SETTLED = ("confirmed", "rejected")


class Market(NamedTuple):
    hub_id: str
    coordinator: Api
    seller: Api
    seller_id: str
    products: list
    membership_id: str = ""


def open_market(api, admin):
    """A hub, its coordinator, and an approved seller with two approved products
    (Keripik Tempe at Rp15.000, stock 10; Kopi Dampit at Rp40.000, stock 40) that the
    orders service already knows."""
    hub, coordinator, _ = hub_with_coordinator(api, admin)
    seller = approved_member(api, coordinator, hub["id"], role="seller")
    products = [
        offer(seller.client, coordinator, hub["id"], name="Keripik Tempe", price=15000, stock=10),
        offer(seller.client, coordinator, hub["id"], name="Kopi Dampit", price=40000, stock=40),
    ]
    return Market(
        hub["id"], coordinator, seller.client, seller.member_id, products, seller.membership_id
    )


def offer(seller, coordinator, hub_id, **fields):
    created = seller.post(
        "/api/v1/products", json=make_product(hub_id, **fields), headers=key_header()
    )
    assert created.status_code == 201, created.text
    product = created.json()
    approved = coordinator.post(f"/api/v1/products/{product['id']}/approve", json={})
    assert approved.status_code == 200, approved.text

    # an order for another hub is refused as "sold elsewhere" (400) only once the
    # orders projection knows the product (before that: 404); it never places one
    def known():
        body = order_body("another-hub", [(product, 1)])
        return place(seller, body).status_code == 400

    wait_until(known, message="the product in the orders projection")
    return product


def order_body(hub_id, lines, method="pickup", payment="cod"):
    fulfilment = {"method": method}
    if method == "delivery":
        fulfilment["address"] = "Jl. Kenanga 5, Tumpang, Malang"
    return {
        "hub_id": hub_id,
        "items": [{"product_id": p["id"], "quantity": quantity} for p, quantity in lines],
        "fulfilment": fulfilment,
        "payment_method": payment,
    }


def place(client, body, key=None):
    return client.post("/api/v1/orders", json=body, headers={"Idempotency-Key": key or new_key()})


def placed(client, body):
    response = place(client, body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    return response.json()


def settled(client, order, statuses=SETTLED, timeout=10):
    def current():
        found = client.get(f"/api/v1/orders/{order['id']}").json()
        return found if found["status"] in statuses else None

    return wait_until(current, timeout=timeout, message=f"order {order['number']} in {statuses}")


def stock(client, product):
    response = client.get(f"/api/v1/products/{product['id']}")
    assert response.status_code == 200, response.text
    return response.json()["stock"]


def move(client, order, status):
    return client.post(f"/api/v1/orders/{order['id']}/status", json={"status": status})
