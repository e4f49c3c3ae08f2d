"""Hubs and their coordinators through the gateway (issue 3)."""

import pytest

from tests.support.community import hub_payload, hub_with_coordinator, make_hub


def test_an_admin_creates_a_hub_that_anyone_can_list_and_fetch(api, admin, community_events):
    payload = hub_payload(name="Simpul Pujon Kidul")
    created = admin.post("/api/v1/hubs", json=payload)
    assert created.status_code == 201
    hub = created.json()
    assert hub["slug"] == "simpul-pujon-kidul" and hub["coordinator_ids"] == []
    assert {key: hub[key] for key in payload} == payload
    money = {"commission_percent": 10, "bank_account": None}
    assert {key: hub[key] for key in money} == money

    assert api.get(f"/api/v1/hubs/{hub['id']}").json() == hub
    assert api.get("/api/v1/hubs/simpul-pujon-kidul").json()["id"] == hub["id"]
    listed = api.get("/api/v1/hubs").json()
    assert listed["total"] == 1 and listed["items"] == [hub]

    event = community_events.wait_for("hub_created", hub_id=hub["id"])
    assert event["data"] == {"hub_id": hub["id"], "slug": hub["slug"], **payload, **money}


def test_creating_the_same_hub_again_returns_it_without_a_second_event(admin, community_events):
    payload = hub_payload()
    first = admin.post("/api/v1/hubs", json=payload).json()
    again = admin.post("/api/v1/hubs", json=payload)
    assert again.status_code == 201 and again.json() == first
    community_events.wait_for("hub_created", hub_id=first["id"])
    assert len(community_events.of_type("hub_created")) == 1


def test_a_different_hub_with_the_same_slug_is_a_conflict(admin):
    make_hub(admin, name="Simpul Batu")
    response = admin.post("/api/v1/hubs", json=hub_payload(name="SIMPUL  batu!"))
    assert response.status_code == 409
    assert "name" in response.json()["error"]["details"]


def test_hubs_are_listed_by_name_a_page_at_a_time(api, admin):
    for name in ("Simpul C", "Simpul A", "Simpul B"):
        make_hub(admin, name=name)
    page = api.get("/api/v1/hubs", params={"page": 2, "page_size": 2}).json()
    assert page["total"] == 3 and page["page"] == 2 and page["page_size"] == 2
    assert [hub["name"] for hub in page["items"]] == ["Simpul C"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"name": "!!!"}, {"name"}),
        ({"village": None}, {"village"}),
        ({"district": 12}, {"district"}),
        ({"regency": "x" * 101}, {"regency"}),
        ({"province": ["Jawa Timur"]}, {"province"}),
        ({"address": {"$gt": ""}}, {"address"}),
        ({"slug": "mine"}, {"slug"}),
        ({"name": "", "address": ""}, {"name", "address"}),
    ],
)
def test_invalid_hub_fields_get_a_400_naming_them(admin, overrides, fields):
    response = admin.post("/api/v1/hubs", json=hub_payload(**overrides))
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == fields


def test_a_missing_hub_field_is_named(admin):
    payload = hub_payload()
    del payload["province"]
    response = admin.post("/api/v1/hubs", json=payload)
    assert response.status_code == 400
    assert "province" in response.json()["error"]["details"]


@pytest.mark.parametrize("path", ["/api/v1/hubs/nope", "/api/v1/hubs/nope/trainings"])
def test_an_unknown_hub_is_a_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_an_admin_assigns_a_coordinator_who_gains_the_role_at_once(
    api, admin, stack, community_events
):
    hub = make_hub(admin)
    coordinator, member = api.as_member()
    assert coordinator.get(f"/api/v1/hubs/{hub['id']}/memberships").status_code == 403

    response = admin.post(
        f"/api/v1/hubs/{hub['id']}/coordinators", json={"member_id": member["id"]}
    )
    assert response.status_code == 200
    assert response.json()["coordinator_ids"] == [member["id"]]
    assert coordinator.get(f"/api/v1/hubs/{hub['id']}/memberships").status_code == 200
    assert coordinator.get("/api/v1/me").json()["coordinated_hubs"] == [
        {"id": hub["id"], "name": hub["name"], "slug": hub["slug"]}
    ]
    assigned = community_events.wait_for("coordinator_assigned", hub_id=hub["id"])
    assert assigned["data"] == {"hub_id": hub["id"], "member_id": member["id"]}
    community_events.wait_for("roles_changed", member_id=member["id"])


def test_assigning_a_coordinator_twice_changes_nothing(api, admin, community_events):
    hub, _, coordinator_id = hub_with_coordinator(api, admin)
    again = admin.post(f"/api/v1/hubs/{hub['id']}/coordinators", json={"member_id": coordinator_id})
    assert again.status_code == 200 and again.json()["coordinator_ids"] == [coordinator_id]
    community_events.wait_for("coordinator_assigned", hub_id=hub["id"])
    assert len(community_events.of_type("coordinator_assigned")) == 1


@pytest.mark.parametrize(
    ("hub_known", "body", "status", "field"),
    [
        (True, {"member_id": "nobody"}, 404, "member_id"),
        (False, {"member_id": "nobody"}, 404, "hub_id"),
        (True, {}, 400, "member_id"),
        (True, {"member_id": 7}, 400, "member_id"),
    ],
)
def test_assigning_a_coordinator_needs_a_known_hub_and_member(
    admin, hub_known, body, status, field
):
    hub_id = make_hub(admin)["id"] if hub_known else "no-such-hub"
    response = admin.post(f"/api/v1/hubs/{hub_id}/coordinators", json=body)
    assert response.status_code == status
    assert field in response.json()["error"]["details"]


def test_the_api_document_lists_every_community_row(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/hubs/{hub_id}/memberships"]) == {"get", "post"}
    for path in (
        "/api/v1/hubs/{hub_id}/coordinators",
        "/api/v1/memberships/{membership_id}/approve",
        "/api/v1/memberships/{membership_id}/reject",
        "/api/v1/memberships/{membership_id}/suspend",
        "/api/v1/trainings/{training_id}/enrolments",
        "/api/v1/trainings/{training_id}/completions",
    ):
        assert "post" in paths[path], path
    assert set(paths["/api/v1/hubs/{hub_id}/trainings"]) == {"get", "post"}


def test_an_admin_removes_a_coordinator_who_loses_the_role_at_once(api, admin, community_events):
    hub, coordinator, coordinator_id = hub_with_coordinator(api, admin)
    memberships = f"/api/v1/hubs/{hub['id']}/memberships"
    assert coordinator.get(memberships).status_code == 200
    path = f"/api/v1/hubs/{hub['id']}/coordinators/{coordinator_id}"
    assert coordinator.request("DELETE", path).status_code == 403

    removed = admin.request("DELETE", path)
    assert removed.status_code == 200 and removed.json()["coordinator_ids"] == []
    assert coordinator.get(memberships).status_code == 403
    assert coordinator.get("/api/v1/me").json()["coordinated_hubs"] == []
    event = community_events.wait_for("coordinator_removed", hub_id=hub["id"])
    admin_id = admin.get("/api/v1/me").json()["id"]
    assert event["data"] == {
        "hub_id": hub["id"],
        "member_id": coordinator_id,
        "removed_by": admin_id,
    }
    community_events.wait_for("roles_changed", member_id=coordinator_id)

    again = admin.request("DELETE", path)  # a retry
    assert again.status_code == 200 and again.json()["coordinator_ids"] == []
    assert len(community_events.of_type("coordinator_removed")) == 1


@pytest.mark.parametrize(("hub_known", "field"), [(True, "member_id"), (False, "hub_id")])
def test_removing_a_coordinator_needs_a_known_hub_and_member(admin, hub_known, field):
    hub_id = make_hub(admin)["id"] if hub_known else "no-such-hub"
    response = admin.request("DELETE", f"/api/v1/hubs/{hub_id}/coordinators/nobody")
    assert response.status_code == 404
    assert field in response.json()["error"]["details"]
