"""Builders for community channels (DESIGN §9) through the gateway: agents, groups,
contacts, products on show to broadcast, and an agent's side of orders and the ledger::

    agent = appointed_agent(api, hub.coordinator, hub.hub_id)
    group = make_group(hub.coordinator, hub.hub_id, agent_id=agent.agent_id)
    add_contact(agent.client, group["id"])
"""

import itertools
import uuid
from typing import NamedTuple

from tests.support.api import Api, make_phone
from tests.support.catalogue import key_header, make_product
from tests.support.community import approved_member
from tests.support.waiting import wait_until

_numbers = itertools.count(1)


class Agent(NamedTuple):
    """A member approved as a buyer of the hub and appointed its agent."""

    client: Api
    member_id: str
    agent_id: str


def appoint(coordinator, hub_id, member_id, commission_percent=3, **headers):
    """``POST /api/v1/hubs/{hub_id}/agents``; returns the ``requests`` response."""
    body = {"member_id": member_id, "commission_percent": commission_percent}
    return coordinator.post(f"/api/v1/hubs/{hub_id}/agents", json=body, headers=headers)


def appointed_agent(api, coordinator, hub_id, commission_percent=3):
    """A new member, approved as a buyer of ``hub_id`` and appointed its agent by
    ``coordinator`` (the hub's, or an admin); their client acts as the agent at once."""
    member = approved_member(api, coordinator, hub_id, role="buyer")
    response = appoint(coordinator, hub_id, member.member_id, commission_percent)
    assert response.status_code == 201, response.text
    return Agent(member.client, member.member_id, response.json()["id"])


def group_payload(**overrides):
    """A valid ``POST /api/v1/hubs/{hub_id}/groups`` body with a unique name."""
    return {
        "name": f"Majelis Taklim Al-Hidayah {next(_numbers)}",
        "kind": "majelis_taklim",
        **overrides,
    }


def make_group(coordinator, hub_id, **overrides):
    """A group of ``hub_id`` created by ``coordinator``; returns it."""
    response = coordinator.post(f"/api/v1/hubs/{hub_id}/groups", json=group_payload(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def add_contact(client, group_id, phone=None, name="Bu Aminah"):
    """``POST /api/v1/groups/{group_id}/contacts`` of ``phone`` (a new mobile number by
    default); returns the ``requests`` response."""
    body = {"phone": phone or make_phone(), "name": name}
    return client.post(f"/api/v1/groups/{group_id}/contacts", json=body)


def broadcast(client, group_id, product_ids):
    """``POST /api/v1/groups/{group_id}/broadcasts``; returns the ``requests`` response."""
    return client.post(
        f"/api/v1/groups/{group_id}/broadcasts",
        json={"product_ids": list(product_ids)},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def product_on_show(api, seller, coordinator, hub_id, **fields):
    """An approved product of ``seller`` in ``hub_id``, once the gateway's copy of the
    showroom shows it (what a broadcast is resolved from); returns it."""
    created = seller.post(
        "/api/v1/products", json=make_product(hub_id, **fields), headers=key_header()
    )
    assert created.status_code == 201, created.text
    product = created.json()
    approved = coordinator.post(f"/api/v1/products/{product['id']}/approve")
    assert approved.status_code == 200, approved.text
    wait_until(
        lambda: api.get("/api/v1/products", params={"code": product["code"]}).json()["total"] == 1,
        message="the product in the gateway's showroom copy",
    )
    return product


def order_for_customer(agent_client, body, customer):
    """``POST /orders`` by an agent for ``customer``, under one key until the gateway
    knows the agent's new role (a repeat is the same order); returns the order."""
    key = {"Idempotency-Key": str(uuid.uuid4())}

    def placed():
        response = agent_client.post(
            "/api/v1/orders", json={**body, "customer": customer}, headers=key
        )
        return response.json() if response.status_code == 201 else None

    return wait_until(placed, message="the agent's order for a customer")


def agent_statement(client, hub_id, agent_id, **params):
    return client.get(f"/api/v1/hubs/{hub_id}/agents/{agent_id}/statement", params=params)


def pay_agent(client, hub_id, agent_id, amount, method="cash"):
    body = {"agent_id": agent_id, "amount": amount, "method": method}
    return client.post(f"/api/v1/hubs/{hub_id}/payouts", json=body, headers=key_header())
