"""Memberships with approval, and the roles they give (issue 3)."""

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.errors import NotFound
from tests.support.community import (
    apply,
    approve,
    approved_member,
    assign_coordinator,
    decide,
    hub_with_coordinator,
    make_hub,
    pending_member,
    schedule_training,
)


def test_a_seller_applies_and_the_coordinator_approves(api, hub, community_events):
    client, member = api.as_member(name="Siti")
    applied = client.post(
        f"/api/v1/hubs/{hub.hub_id}/memberships",
        json={"role": "seller", "business_name": "Keripik Tempe Bu Siti"},
    )
    assert applied.status_code == 201
    membership = applied.json()
    assert membership["status"] == "pending" and membership["role"] == "seller"
    assert membership["member_id"] == member["id"] and membership["hub_id"] == hub.hub_id
    requested = community_events.wait_for("membership_requested", membership_id=membership["id"])
    assert requested["data"] == {
        "membership_id": membership["id"],
        "hub_id": hub.hub_id,
        "member_id": member["id"],
        "role": "seller",
        "business_name": "Keripik Tempe Bu Siti",
    }

    pending = hub.coordinator.get(
        f"/api/v1/hubs/{hub.hub_id}/memberships", params={"status": "pending"}
    ).json()
    assert [item["id"] for item in pending["items"]] == [membership["id"]]
    assert pending["items"][0]["member"] == {
        "id": member["id"],
        "name": "Siti",
        "phone": member["phone"],
    }

    approved = hub.coordinator.post(f"/api/v1/memberships/{membership['id']}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == hub.coordinator_id
    event = community_events.wait_for("membership_approved", membership_id=membership["id"])
    assert event["data"] == {
        "membership_id": membership["id"],
        "hub_id": hub.hub_id,
        "member_id": member["id"],
        "role": "seller",
        "business_name": "Keripik Tempe Bu Siti",
        "decided_by": hub.coordinator_id,
    }
    community_events.wait_for("roles_changed", member_id=member["id"])

    me = client.get("/api/v1/me").json()
    assert [(m["hub"]["id"], m["role"], m["status"]) for m in me["memberships"]] == [
        (hub.hub_id, "seller", "approved")
    ]


def test_a_buyer_needs_no_business_name(api, hub):
    buyer = pending_member(api, hub.hub_id, role="buyer")
    assert buyer.membership["role"] == "buyer" and buyer.membership["business_name"] is None


def test_applying_again_returns_the_same_membership_without_a_new_event(api, hub, community_events):
    seller = pending_member(api, hub.hub_id)
    again = seller.client.post(
        f"/api/v1/hubs/{hub.hub_id}/memberships",
        json={"role": "seller", "business_name": "Keripik Tempe Bu Siti"},
    )
    assert again.status_code == 201 and again.json() == seller.membership
    community_events.wait_for("membership_requested", member_id=seller.member_id)
    assert len(community_events.of_type("membership_requested")) == 1


def test_one_member_may_be_seller_and_buyer_of_a_hub(api, hub):
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    response = seller.client.post(f"/api/v1/hubs/{hub.hub_id}/memberships", json={"role": "buyer"})
    assert response.status_code == 201 and response.json()["id"] != seller.membership_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "seller"}, "business_name"),
        ({"role": "seller", "business_name": "  "}, "business_name"),
        ({"role": "coordinator"}, "role"),
        ({}, "role"),
        ({"role": "buyer", "status": "approved"}, "status"),
        ({"role": {"$ne": ""}}, "role"),
    ],
)
def test_bad_applications_get_a_400_naming_the_field(api, hub, body, field):
    client, _ = api.as_member()
    response = client.post(f"/api/v1/hubs/{hub.hub_id}/memberships", json=body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_applying_to_an_unknown_hub_is_a_404(api):
    client, _ = api.as_member()
    response = client.post("/api/v1/hubs/nope/memberships", json={"role": "buyer"})
    assert response.status_code == 404


def test_the_coordinator_rejects_with_a_reason(api, hub, community_events):
    seller = pending_member(api, hub.hub_id)
    response = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/reject",
        json={"reason": "Produk belum memiliki izin PIRT"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["reason"] == "Produk belum memiliki izin PIRT"
    event = community_events.wait_for("membership_rejected", membership_id=seller.membership_id)
    assert event["data"] == {
        "membership_id": seller.membership_id,
        "hub_id": hub.hub_id,
        "member_id": seller.member_id,
        "role": "seller",
        "reason": "Produk belum memiliki izin PIRT",
        "decided_by": hub.coordinator_id,
    }
    assert seller.client.get("/api/v1/me").json()["memberships"][0]["status"] == "rejected"


def test_approving_a_rejected_membership_is_a_conflict(api, hub):
    seller = pending_member(api, hub.hub_id)
    decide(hub.coordinator, seller.membership_id, "reject")
    response = hub.coordinator.post(f"/api/v1/memberships/{seller.membership_id}/approve")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"


def test_decisions_are_idempotent_under_retry(api, hub, community_events):
    approved = pending_member(api, hub.hub_id)
    rejected = pending_member(api, hub.hub_id)
    for _ in range(2):
        assert approve(hub.coordinator, approved.membership_id)["status"] == "approved"
        response = hub.coordinator.post(
            f"/api/v1/memberships/{rejected.membership_id}/reject", json={"reason": "Belum lengkap"}
        )
        assert response.status_code == 200
    community_events.wait_for("membership_approved", membership_id=approved.membership_id)
    community_events.wait_for("membership_rejected", membership_id=rejected.membership_id)
    assert len(community_events.of_type("membership_approved")) == 1
    assert len(community_events.of_type("membership_rejected")) == 1


def test_rejecting_an_approved_membership_is_a_conflict(api, hub):
    seller = approved_member(api, hub.coordinator, hub.hub_id)
    response = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/reject", json={"reason": "x"}
    )
    assert response.status_code == 409


def test_a_coordinator_of_another_hub_cannot_decide(api, admin, hub):
    other = hub_with_coordinator(api, admin)
    seller = pending_member(api, hub.hub_id)
    for action in ("approve", "reject", "suspend"):
        response = decide(other.coordinator, seller.membership_id, action)
        assert response.status_code == 403, action
        assert response.json()["error"]["code"] == "FORBIDDEN"
    listed = other.coordinator.get(f"/api/v1/hubs/{hub.hub_id}/memberships")
    assert listed.status_code == 403


def test_an_admin_may_decide_in_any_hub(api, admin, hub):
    seller = approved_member(api, admin, hub.hub_id)
    assert seller.membership["decided_by"] != hub.coordinator_id


def test_an_approved_seller_is_suspended_and_loses_the_role(api, admin, hub, community_events):
    seller = approved_member(api, hub.coordinator, hub.hub_id)
    training = schedule_training(hub.coordinator, hub.hub_id)
    assert seller.client.get("/api/v1/me").status_code == 200  # the gateway knows the role
    response = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/suspend",
        json={"reason": "Menjual produk kedaluwarsa"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    event = community_events.wait_for("membership_suspended", membership_id=seller.membership_id)
    assert event["data"] == {
        "membership_id": seller.membership_id,
        "hub_id": hub.hub_id,
        "member_id": seller.member_id,
        "role": "seller",
        "reason": "Menjual produk kedaluwarsa",
        "decided_by": hub.coordinator_id,
    }
    assert len(community_events.of_type("roles_changed", member_id=seller.member_id)) == 2
    enrol = seller.client.post(f"/api/v1/trainings/{training['id']}/enrolments")
    assert enrol.status_code == 403
    again = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/suspend", json={"reason": "lagi"}
    )
    assert again.status_code == 200 and again.json()["reason"] == "Menjual produk kedaluwarsa"


def test_approving_a_suspended_membership_reinstates_it(api, hub):
    seller = approved_member(api, hub.coordinator, hub.hub_id)
    decide(hub.coordinator, seller.membership_id, "suspend")
    reinstated = approve(hub.coordinator, seller.membership_id)
    assert reinstated["status"] == "approved" and reinstated["reason"] is None


def test_only_approved_memberships_can_be_suspended(api, hub):
    seller = pending_member(api, hub.hub_id)
    response = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/suspend", json={"reason": "x"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("reject", {}),
        ("suspend", {"reason": ""}),
        ("reject", {"reason": 3}),
        ("suspend", {"reason": "x" * 501}),
    ],
)
def test_decisions_need_a_reason(api, hub, action, body):
    seller = pending_member(api, hub.hub_id)
    if action == "suspend":
        approve(hub.coordinator, seller.membership_id)
    response = hub.coordinator.post(
        f"/api/v1/memberships/{seller.membership_id}/{action}", json=body
    )
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["details"]


@pytest.mark.parametrize("action", ["approve", "reject", "suspend"])
def test_deciding_an_unknown_membership_is_a_404(hub, action):
    response = hub.coordinator.post(f"/api/v1/memberships/nope/{action}", json={"reason": "x"})
    assert response.status_code == 404


def test_memberships_are_listed_by_status_and_role(api, hub):
    approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    pending_member(api, hub.hub_id, role="seller")
    url = f"/api/v1/hubs/{hub.hub_id}/memberships"
    everything = hub.coordinator.get(url).json()
    assert everything["total"] == 2
    assert hub.coordinator.get(url, params={"status": "approved"}).json()["total"] == 1
    assert hub.coordinator.get(url, params={"role": "seller"}).json()["total"] == 1
    bad = hub.coordinator.get(url, params={"status": "whatever"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["details"]


def test_roles_follow_memberships_and_coordination(api, admin, stack):
    first = hub_with_coordinator(api, admin)
    second = make_hub(admin)
    seller = approved_member(api, first.coordinator, first.hub_id)
    buyer_membership = seller.client.post(
        f"/api/v1/hubs/{second['id']}/memberships", json={"role": "buyer"}
    ).json()
    approve(admin, buyer_membership["id"])
    admin.post(f"/api/v1/hubs/{second['id']}/coordinators", json={"member_id": seller.member_id})

    admin_id = admin.get("/api/v1/me").json()["id"]
    with ServiceRpcProxy("community", stack.config) as community:
        assert community.get_roles(seller.member_id) == {
            "member_id": seller.member_id,
            "is_admin": False,
            "roles": {first.hub_id: ["seller"], second["id"]: ["buyer", "coordinator"]},
        }
        assert community.get_roles(admin_id) == {
            "member_id": admin_id,
            "is_admin": True,
            "roles": {},
        }
        with pytest.raises(NotFound):
            community.get_roles("nobody")


def test_a_coordinator_cannot_approve_their_own_membership(api, admin, hub):
    own = apply(hub.coordinator, hub.hub_id, role="seller")
    refused = hub.coordinator.post(f"/api/v1/memberships/{own['id']}/approve", json={})
    assert refused.status_code == 403
    assert "own membership" in refused.json()["error"]["message"]
    colleague, member = api.as_member()
    assign_coordinator(admin, hub.hub_id, member["id"])
    approved = approve(colleague, own["id"])
    assert approved["status"] == "approved" and approved["decided_by"] == member["id"]

    decide(colleague, own["id"], "suspend")
    reinstating = hub.coordinator.post(f"/api/v1/memberships/{own['id']}/approve", json={})
    assert reinstating.status_code == 403
    assert approve(admin, own["id"])["status"] == "approved"
