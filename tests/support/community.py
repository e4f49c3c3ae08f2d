"""Builders for hubs, coordinators and members with an approved membership.

Every builder goes through the gateway like a user would, and asserts each step
worked, so a test reads as the situation it needs::

    hub, coordinator, _ = hub_with_coordinator(api, admin)
    seller = approved_member(api, coordinator, hub["id"], role="seller")
    seller.client.post("/api/v1/products", json={...}, headers=key_header())
"""

import itertools
import re
import uuid
from typing import NamedTuple

from tests.support.api import Api, e164
from tests.support.waiting import wait_until

_numbers = itertools.count(1)


class Coordinated(NamedTuple):
    """A hub and its coordinator: ``hub, coordinator, coordinator_id = …``."""

    hub: dict
    coordinator: Api
    coordinator_id: str

    @property
    def hub_id(self):
        return self.hub["id"]


class Joined(NamedTuple):
    """A member with a membership: ``client, member_id, membership_id, membership``."""

    client: Api
    member_id: str
    membership_id: str
    membership: dict


def hub_payload(**overrides):
    """A valid ``POST /api/v1/hubs`` body with a unique name."""
    number = next(_numbers)
    return {
        "name": f"Simpul Desa {number} {uuid.uuid4().hex[:6]}",
        "village": "Pujon Kidul",
        "district": "Pujon",
        "regency": "Malang",
        "province": "Jawa Timur",
        "address": f"Jl. Raya Pujon No. {number}",
        **overrides,
    }


def make_hub(admin, **overrides):
    """Create a hub as ``admin`` (a logged-in admin ``Api``); returns the hub JSON."""
    response = admin.post("/api/v1/hubs", json=hub_payload(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def assign_coordinator(admin, hub_id, member_id):
    """Make ``member_id`` a coordinator of ``hub_id``; returns the hub JSON."""
    response = admin.post(f"/api/v1/hubs/{hub_id}/coordinators", json={"member_id": member_id})
    assert response.status_code == 200, response.text
    return response.json()


def hub_with_coordinator(api, admin, **hub_overrides):
    """A new hub and a newly registered member coordinating it.

    ``api`` is the anonymous gateway client, ``admin`` the logged-in admin. Returns
    ``Coordinated(hub, coordinator, coordinator_id)``; ``coordinator`` is logged in.
    """
    coordinator, member = api.as_member(name="Koordinator Simpul")
    hub = assign_coordinator(admin, make_hub(admin, **hub_overrides)["id"], member["id"])
    return Coordinated(hub, coordinator, member["id"])


def apply(client, hub_id, role="seller", business_name=None):
    """``client`` applies to ``hub_id``; returns the membership JSON (pending)."""
    body = {"role": role}
    if role == "seller":
        body["business_name"] = business_name or "Keripik Tempe Bu Siti"
    elif business_name:
        body["business_name"] = business_name
    response = client.post(f"/api/v1/hubs/{hub_id}/memberships", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def approve(approver, membership_id):
    """``approver`` (coordinator of the hub, or admin) approves; returns the JSON."""
    response = approver.post(f"/api/v1/memberships/{membership_id}/approve", json={})
    assert response.status_code == 200, response.text
    return response.json()


def pending_member(api, hub_id, role="seller", **member_overrides):
    """A newly registered member whose application to ``hub_id`` waits for a
    decision. Returns ``Joined(client, member_id, membership_id, membership)``."""
    client, member = api.as_member(**member_overrides)
    membership = apply(client, hub_id, role)
    return Joined(client, member["id"], membership["id"], membership)


def approved_member(api, approver, hub_id, role="seller", **member_overrides):
    """A newly registered member approved in ``hub_id`` as ``role`` (``"seller"``
    or ``"buyer"``) by ``approver`` (the hub's coordinator or an admin).

    Returns ``Joined(client, member_id, membership_id, membership)``; the client's
    next request already carries the new role.
    """
    pending = pending_member(api, hub_id, role, **member_overrides)
    membership = approve(approver, pending.membership_id)
    return pending._replace(membership=membership)


def decide(coordinator, membership_id, action, reason="Belum memenuhi syarat"):
    """``action`` is ``"reject"`` or ``"suspend"``; returns the ``requests`` response."""
    return coordinator.post(
        f"/api/v1/memberships/{membership_id}/{action}", json={"reason": reason}
    )


def training_payload(**overrides):
    """A valid ``POST /api/v1/hubs/{hub_id}/trainings`` body with a unique title."""
    return {
        "title": f"Foto Produk dengan Ponsel {next(_numbers)}",
        "topic": "product_photography",
        "starts_at": "2026-12-01T02:00:00Z",
        "capacity": 20,
        **overrides,
    }


def schedule_training(coordinator, hub_id, **overrides):
    """``coordinator`` (of ``hub_id``, or an admin) schedules a training; returns it."""
    response = coordinator.post(
        f"/api/v1/hubs/{hub_id}/trainings", json=training_payload(**overrides)
    )
    assert response.status_code == 201, response.text
    return response.json()


CODE_IN_SMS = re.compile(r"\b(\d{6})\b")


def code_sms(sms_sink, phone):
    """The SMS with a one-time code the provider got for ``phone`` (not its welcome)."""
    return [m for m in sms_sink.to(e164(phone)) if CODE_IN_SMS.search(m["message"])]


def codes_sent(sms_sink, phone, count=1):
    """The one-time codes sent to ``phone`` by SMS, once ``count`` of them arrived."""
    messages = wait_until(
        lambda: len(code_sms(sms_sink, phone)) >= count and code_sms(sms_sink, phone),
        timeout=15,
        message=f"{count} codes by SMS to {phone}",
    )
    return [CODE_IN_SMS.search(message["message"]).group(1) for message in messages]


def ask_code(api, phone, **headers):
    """``POST /api/v1/auth/otp`` for a password reset."""
    return api.post(
        "/api/v1/auth/otp", json={"phone": phone, "purpose": "reset_password"}, headers=headers
    )


def reset_body(api, sms_sink, phone, new_password):
    """A password reset's body with the code just sent to ``phone``."""
    asked = ask_code(api, phone)
    assert asked.status_code == 202, asked.text
    [code] = codes_sent(sms_sink, phone)[-1:]
    return {"phone": phone, "code": code, "new_password": new_password}
