"""Builders for the text-message tests: a shop (hub, coordinator, a seller with a
phone and an approved product in the showroom and in orders' projection)."""

from typing import NamedTuple

from services.common.mongo import database_name, mongo_client
from tests.support.api import Api
from tests.support.catalogue import key_header, make_product
from tests.support.community import Coordinated, approved_member, decide
from tests.support.inbound import Phone
from tests.support.waiting import wait_until


class Shop(NamedTuple):
    hub: dict
    coordinator: Api
    seller: Api
    seller_phone: Phone
    membership_id: str
    product: dict


def open_shop(api, sink, hub: Coordinated, config, stock=40, price=15_000) -> Shop:
    """A seller of ``hub`` (registered over HTTP with a phone) with one approved
    product that orders already knows."""
    phone = Phone(api, sink)
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller", phone=phone.local)
    product = add_product(seller.client, hub, config, stock=stock, price=price)
    return Shop(hub.hub, hub.coordinator, seller.client, phone, seller.membership_id, product)


def add_product(seller: Api, hub: Coordinated, config, **overrides) -> dict:
    body = make_product(hub.hub_id, **overrides)
    created = seller.post("/api/v1/products", json=body, headers=key_header())
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    approved = hub.coordinator.post(f"/api/v1/products/{product_id}/approve")
    assert approved.status_code == 200, approved.text
    orders = mongo_client(config)[database_name("orders")]
    wait_until(
        lambda: orders.products.find_one({"_id": product_id}) is not None,
        message="the product in orders' projection",
    )
    product: dict = approved.json()
    return product


def suspend(coordinator: Api, membership_id: str) -> None:
    response = decide(coordinator, membership_id, "suspend", reason="Laporan pembeli")
    assert response.status_code == 200, response.text


def hub_orders(coordinator: Api, hub_id: str) -> list[dict]:
    response = coordinator.get(f"/api/v1/orders?as=coordinator&hub_id={hub_id}")
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


def the_only_order(coordinator: Api, hub_id: str) -> dict:
    wait_until(lambda: len(hub_orders(coordinator, hub_id)) == 1, message="one order in the hub")
    return hub_orders(coordinator, hub_id)[0]


def stock_of(api: Api, product_id: str) -> int:
    stock: int = api.get(f"/api/v1/products/{product_id}").json()["stock"]
    return stock
