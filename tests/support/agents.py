"""Agents (DESIGN §9) for tests of orders and the ledger, appointed the way community
announces it, and an agent's side of the API.

``stand_in_appointment`` plays community's part of ``POST /api/v1/hubs/{hub_id}/agents``:
it publishes ``agent_appointed`` as community would, gives the member the ``agent`` role
in community's store (an approved ``agent`` membership: community's actor takes each
approved membership's role) and publishes ``roles_changed`` so the gateway forgets the
roles it cached. It waits until orders and the ledger keep the appointment::

    agent = stand_in_appointment(config, hub_id, member_id, 4, appointed_by=coordinator_id)
"""

import uuid

from services.common.envelope import new_id, utcnow
from services.common.mongo import database_name, mongo_client
from tests.support.catalogue import key_header
from tests.support.events import publish
from tests.support.waiting import wait_until

KEEPERS = ("orders", "ledger")
"""The services that keep a copy of every appointment."""


def stand_in_appointment(config, hub_id, member_id, percent, appointed_by):
    """``member_id`` made an agent of ``hub_id`` at ``percent``; returns the agent as
    community's endpoint answers it: ``{id, hub_id, member_id, commission_percent}``."""
    agent = {
        "agent_id": new_id(),
        "hub_id": hub_id,
        "member_id": member_id,
        "commission_percent": percent,
        "appointed_by": appointed_by,
    }
    client = mongo_client(config)
    client[database_name("community")].memberships.insert_one(
        {
            "_id": new_id(),
            "hub_id": hub_id,
            "member_id": member_id,
            "role": "agent",
            "status": "approved",
            "created_at": utcnow(),
        }
    )
    publish(config, "community", "agent_appointed", agent)
    publish(config, "community", "roles_changed", {"member_id": member_id})
    for service in KEEPERS:
        agents = client[database_name(service)].agents
        wait_until(
            lambda agents=agents: agents.find_one({"_id": agent["agent_id"]}),
            message=f"{service} to keep the appointment",
        )
    return {
        "id": agent["agent_id"],
        "hub_id": hub_id,
        "member_id": member_id,
        "commission_percent": percent,
    }


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
