"""Who may call each community endpoint: the whole matrix in one stack (issue 3)."""

from tests.support.api import make_member
from tests.support.community import (
    approved_member,
    hub_payload,
    hub_with_coordinator,
    pending_member,
    schedule_training,
    training_payload,
)

PERSONAS = ("anonymous", "buyer", "seller", "coordinator", "other_coordinator", "admin")

# one row per endpoint, statuses in the order of PERSONAS
EXPECTED = {
    "POST /auth/register": (201, 201, 201, 201, 201, 201),
    "POST /auth/token": (200, 200, 200, 200, 200, 200),
    "GET /me": (401, 200, 200, 200, 200, 200),
    "PATCH /me": (401, 200, 200, 200, 200, 200),
    "POST /hubs": (401, 403, 403, 403, 403, 201),
    "GET /hubs": (200, 200, 200, 200, 200, 200),
    "GET /hubs/{hub_id}": (200, 200, 200, 200, 200, 200),
    "POST /hubs/{hub_id}/coordinators": (401, 403, 403, 403, 403, 200),
    "POST /hubs/{hub_id}/memberships": (401, 201, 201, 201, 201, 201),
    "GET /hubs/{hub_id}/memberships": (401, 403, 403, 200, 403, 200),
    "POST /memberships/{id}/approve": (401, 403, 403, 200, 403, 200),
    "POST /memberships/{id}/reject": (401, 403, 403, 200, 403, 200),
    "POST /memberships/{id}/suspend": (401, 403, 403, 200, 403, 200),
    "POST /hubs/{hub_id}/trainings": (401, 403, 403, 201, 403, 201),
    "GET /hubs/{hub_id}/trainings": (200, 200, 200, 200, 200, 200),
    "POST /trainings/{id}/enrolments": (401, 201, 201, 403, 403, 403),
    "POST /trainings/{id}/completions": (401, 403, 403, 200, 403, 200),
}


def test_every_community_endpoint_answers_each_kind_of_caller_as_designed(api, admin):
    hub = hub_with_coordinator(api, admin)
    other = hub_with_coordinator(api, admin)
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    clients = dict(
        zip(
            PERSONAS,
            (api, buyer.client, seller.client, hub.coordinator, other.coordinator, admin),
            strict=True,
        )
    )
    login = make_member()
    api.post("/api/v1/auth/register", json=login)
    _, candidate = api.as_member()
    to_approve = pending_member(api, hub.hub_id).membership_id
    to_reject = pending_member(api, hub.hub_id).membership_id
    to_suspend = approved_member(api, hub.coordinator, hub.hub_id).membership_id
    training = schedule_training(hub.coordinator, hub.hub_id, capacity=10)["id"]
    base = f"/api/v1/hubs/{hub.hub_id}"

    calls = {
        "POST /auth/register": lambda c: c.post("/api/v1/auth/register", json=make_member()),
        "POST /auth/token": lambda c: c.post(
            "/api/v1/auth/token", json={"phone": login["phone"], "password": login["password"]}
        ),
        "GET /me": lambda c: c.get("/api/v1/me"),
        "PATCH /me": lambda c: c.patch("/api/v1/me", json={"language": "en"}),
        "POST /hubs": lambda c: c.post("/api/v1/hubs", json=hub_payload()),
        "GET /hubs": lambda c: c.get("/api/v1/hubs"),
        "GET /hubs/{hub_id}": lambda c: c.get(base),
        "POST /hubs/{hub_id}/coordinators": lambda c: c.post(
            f"{base}/coordinators", json={"member_id": candidate["id"]}
        ),
        "POST /hubs/{hub_id}/memberships": lambda c: c.post(
            f"{base}/memberships", json={"role": "buyer"}
        ),
        "GET /hubs/{hub_id}/memberships": lambda c: c.get(f"{base}/memberships"),
        "POST /memberships/{id}/approve": lambda c: c.post(
            f"/api/v1/memberships/{to_approve}/approve"
        ),
        "POST /memberships/{id}/reject": lambda c: c.post(
            f"/api/v1/memberships/{to_reject}/reject", json={"reason": "Belum lengkap"}
        ),
        "POST /memberships/{id}/suspend": lambda c: c.post(
            f"/api/v1/memberships/{to_suspend}/suspend", json={"reason": "Produk kedaluwarsa"}
        ),
        "POST /hubs/{hub_id}/trainings": lambda c: c.post(
            f"{base}/trainings", json=training_payload()
        ),
        "GET /hubs/{hub_id}/trainings": lambda c: c.get(f"{base}/trainings"),
        "POST /trainings/{id}/enrolments": lambda c: c.post(
            f"/api/v1/trainings/{training}/enrolments"
        ),
        "POST /trainings/{id}/completions": lambda c: c.post(
            f"/api/v1/trainings/{training}/completions", json={"member_id": buyer.member_id}
        ),
    }
    assert set(calls) == set(EXPECTED)

    actual = {
        endpoint: tuple(call(clients[persona]).status_code for persona in PERSONAS)
        for endpoint, call in calls.items()
    }
    assert actual == EXPECTED
