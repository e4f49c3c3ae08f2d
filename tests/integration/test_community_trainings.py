"""Capacity building: trainings scheduled, enrolled in and completed (issue 3)."""

import eventlet
import pytest

from tests.support.community import (
    approved_member,
    hub_with_coordinator,
    pending_member,
    schedule_training,
    training_payload,
)


def test_a_coordinator_schedules_a_training_anyone_can_see(api, hub, community_events):
    payload = training_payload(starts_at="2026-12-01T09:00:00+07:00", capacity=15)
    response = hub.coordinator.post(f"/api/v1/hubs/{hub.hub_id}/trainings", json=payload)
    assert response.status_code == 201
    training = response.json()
    assert training["starts_at"] == "2026-12-01T02:00:00.000Z"
    assert training["capacity"] == 15 and training["seats_left"] == 15
    assert training["enrolled_count"] == 0 and training["hub_id"] == hub.hub_id

    listed = api.get(f"/api/v1/hubs/{hub.hub_id}/trainings").json()
    assert listed["total"] == 1 and listed["items"] == [training]
    event = community_events.wait_for("training_scheduled", training_id=training["id"])
    assert event["data"] == {
        "training_id": training["id"],
        "hub_id": hub.hub_id,
        "title": payload["title"],
        "topic": "product_photography",
        "starts_at": "2026-12-01T02:00:00.000Z",
        "capacity": 15,
    }


def test_scheduling_the_same_training_again_returns_it(hub, community_events):
    payload = training_payload()
    url = f"/api/v1/hubs/{hub.hub_id}/trainings"
    first = hub.coordinator.post(url, json=payload).json()
    again = hub.coordinator.post(url, json=payload)
    assert again.status_code == 201 and again.json() == first
    community_events.wait_for("training_scheduled", training_id=first["id"])
    assert len(community_events.of_type("training_scheduled")) == 1

    different = hub.coordinator.post(url, json={**payload, "capacity": 5})
    assert different.status_code == 409


def test_trainings_are_listed_by_start_time(api, hub):
    for day in ("03", "01", "02"):
        schedule_training(hub.coordinator, hub.hub_id, starts_at=f"2026-12-{day}T02:00:00Z")
    items = api.get(f"/api/v1/hubs/{hub.hub_id}/trainings").json()["items"]
    assert [item["starts_at"][:10] for item in items] == ["2026-12-01", "2026-12-02", "2026-12-03"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"topic": "astrology"}, "topic"),
        ({"starts_at": "besok pagi"}, "starts_at"),
        ({"starts_at": None}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": "20"}, "capacity"),
        ({"capacity": 1001}, "capacity"),
        ({"room": "Balai desa"}, "room"),
    ],
)
def test_bad_trainings_get_a_400_naming_the_field(hub, overrides, field):
    response = hub.coordinator.post(
        f"/api/v1/hubs/{hub.hub_id}/trainings", json=training_payload(**overrides)
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_an_approved_member_enrols_once(api, hub, community_events):
    training = schedule_training(hub.coordinator, hub.hub_id, capacity=2)
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    url = f"/api/v1/trainings/{training['id']}/enrolments"

    enrolled = buyer.client.post(url)
    assert enrolled.status_code == 201
    assert enrolled.json()["seats_left"] == 1 and enrolled.json()["enrolled_count"] == 1
    event = community_events.wait_for("training_enrolled", training_id=training["id"])
    assert event["data"] == {
        "training_id": training["id"],
        "hub_id": hub.hub_id,
        "member_id": buyer.member_id,
        "title": training["title"],
    }

    again = buyer.client.post(url)
    assert again.status_code == 409 and "member_id" in again.json()["error"]["details"]
    assert api.get(f"/api/v1/hubs/{hub.hub_id}/trainings").json()["items"][0]["seats_left"] == 1


def test_a_full_training_refuses_more_even_when_members_enrol_at_once(api, hub):
    training = schedule_training(hub.coordinator, hub.hub_id, capacity=3)
    members = [approved_member(api, hub.coordinator, hub.hub_id, role="buyer") for _ in range(6)]
    url = f"/api/v1/trainings/{training['id']}/enrolments"

    pool = eventlet.GreenPool(len(members))
    statuses = sorted(pool.imap(lambda member: member.client.post(url).status_code, members))
    assert statuses == [201, 201, 201, 409, 409, 409]
    listed = api.get(f"/api/v1/hubs/{hub.hub_id}/trainings").json()["items"][0]
    assert listed["seats_left"] == 0 and listed["enrolled_count"] == 3


def test_only_approved_members_of_the_hub_may_enrol(api, admin, hub):
    training = schedule_training(hub.coordinator, hub.hub_id)
    url = f"/api/v1/trainings/{training['id']}/enrolments"
    other = hub_with_coordinator(api, admin)
    outsider = approved_member(api, other.coordinator, other.hub_id, role="buyer")
    applicant = pending_member(api, hub.hub_id, role="buyer")
    for client in (outsider.client, applicant.client, hub.coordinator):
        assert client.post(url).status_code == 403


def test_enrolling_in_an_unknown_training_is_a_404(api, hub):
    buyer = approved_member(api, hub.coordinator, hub.hub_id, role="buyer")
    assert buyer.client.post("/api/v1/trainings/nope/enrolments").status_code == 404


def test_the_coordinator_records_completion_shown_on_the_profile(api, hub, community_events):
    training = schedule_training(hub.coordinator, hub.hub_id, topic="bookkeeping")
    seller = approved_member(api, hub.coordinator, hub.hub_id)
    seller.client.post(f"/api/v1/trainings/{training['id']}/enrolments")
    url = f"/api/v1/trainings/{training['id']}/completions"

    for _ in range(2):  # a retry changes nothing
        response = hub.coordinator.post(url, json={"member_id": seller.member_id})
        assert response.status_code == 200
    event = community_events.wait_for("training_completed", training_id=training["id"])
    assert event["data"] == {
        "training_id": training["id"],
        "hub_id": hub.hub_id,
        "member_id": seller.member_id,
        "title": training["title"],
    }
    assert len(community_events.of_type("training_completed")) == 1
    completed = seller.client.get("/api/v1/me").json()["completed_trainings"]
    assert completed == [
        {
            "id": training["id"],
            "hub_id": hub.hub_id,
            "title": training["title"],
            "topic": "bookkeeping",
            "starts_at": training["starts_at"],
        }
    ]


@pytest.mark.parametrize(
    ("who", "status", "field"),
    [("not_enrolled", 409, "member_id"), ("unknown", 404, "member_id"), (None, 400, "member_id")],
)
def test_completion_needs_an_enrolled_member(api, hub, who, status, field):
    training = schedule_training(hub.coordinator, hub.hub_id)
    member_id = {"not_enrolled": hub.coordinator_id, "unknown": "nobody", None: None}[who]
    response = hub.coordinator.post(
        f"/api/v1/trainings/{training['id']}/completions", json={"member_id": member_id}
    )
    assert response.status_code == status
    assert field in response.json()["error"]["details"]


def test_a_coordinator_of_another_hub_cannot_schedule_or_complete(api, admin, hub):
    other = hub_with_coordinator(api, admin)
    response = other.coordinator.post(
        f"/api/v1/hubs/{hub.hub_id}/trainings", json=training_payload()
    )
    assert response.status_code == 403
    training = schedule_training(hub.coordinator, hub.hub_id)
    response = other.coordinator.post(
        f"/api/v1/trainings/{training['id']}/completions", json={"member_id": other.coordinator_id}
    )
    assert response.status_code == 403
