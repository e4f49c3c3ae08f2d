"""Registration, login and profile through the gateway (issue: foundation)."""

import pytest

from tests.support.api import DEFAULT_PASSWORD, e164, make_member
from tests.support.waiting import wait_until


def test_a_member_registers_logs_in_and_reads_their_profile(api):
    payload = make_member(email="siti@desa.id")
    registered = api.post("/api/v1/auth/register", json=payload)
    assert registered.status_code == 201
    member = registered.json()
    assert member["phone"] == e164(payload["phone"])
    assert member["preferred_channel"] == "sms" and member["language"] == "id"
    assert "password" not in member and "password_hash" not in member

    token = api.post(
        "/api/v1/auth/token", json={"phone": payload["phone"], "password": DEFAULT_PASSWORD}
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] > 0

    me = api.login(payload["phone"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["id"] == member["id"] and me.json()["is_admin"] is False


def test_a_member_changes_language_and_channel(api):
    client, _ = api.as_member()
    changed = client.patch("/api/v1/me", json={"language": "en", "preferred_channel": "whatsapp"})
    assert changed.status_code == 200
    assert client.get("/api/v1/me").json()["language"] == "en"


def test_registering_a_phone_twice_is_a_conflict_in_any_local_form(api):
    payload = make_member()
    assert api.post("/api/v1/auth/register", json=payload).status_code == 201
    again = {**payload, "phone": e164(payload["phone"]).replace("+62", "62")}
    response = api.post("/api/v1/auth/register", json=again)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"


def test_the_welcome_sms_reaches_the_provider_once(api, sms_sink):
    _, member = api.as_member(name="Budi")
    messages = wait_until(lambda: sms_sink.to(member["phone"]), message="welcome SMS")
    assert "Budi" in messages[0]["message"] and len(messages[0]["message"]) <= 160
    assert len(sms_sink.to(member["phone"])) == 1


def test_a_failing_sms_provider_delays_the_welcome_but_never_drops_it(api, sms_sink):
    sms_sink.fail_for(2)
    _, member = api.as_member()
    wait_until(lambda: sms_sink.to(member["phone"]), timeout=15, message="welcome after outage")
    assert len(sms_sink.to(member["phone"])) == 1


def test_wrong_passwords_are_refused_then_slowed_down(api):
    payload = make_member()
    api.post("/api/v1/auth/register", json=payload)
    wrong = {"phone": payload["phone"], "password": "not-the-password"}
    statuses = [api.post("/api/v1/auth/token", json=wrong).status_code for _ in range(7)]
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    right = {"phone": payload["phone"], "password": DEFAULT_PASSWORD}
    assert api.post("/api/v1/auth/token", json=right).status_code == 429


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12", "name": "A", "password": DEFAULT_PASSWORD}, "phone"),
        ({"phone": {"$gt": ""}, "name": "A", "password": DEFAULT_PASSWORD}, "phone"),
        ({"phone": "081234567890", "name": "", "password": DEFAULT_PASSWORD}, "name"),
        ({"phone": "081234567890", "name": "A", "password": "short"}, "password"),
        (
            {"phone": "081234567890", "name": "A", "password": DEFAULT_PASSWORD, "$where": "1"},
            "$where",
        ),
        (
            {"phone": "081234567890", "name": "A", "password": DEFAULT_PASSWORD, "language": "fr"},
            "language",
        ),
        ({"phone": "081234567890", "name": ["A"], "password": DEFAULT_PASSWORD}, "name"),
        ({"name": "A", "password": DEFAULT_PASSWORD}, "phone"),
    ],
)
def test_bad_registrations_get_a_400_naming_the_field(api, body, field):
    response = api.post("/api/v1/auth/register", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'"text"', 400),
        (b"{" + b'"name": "' + b"x" * 70_000 + b'"}', 413),
    ],
)
def test_malformed_bodies_get_a_clear_4xx(api, raw, status):
    response = api.post(
        "/api/v1/auth/register", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer nonsense", "Basic abc", "Bearer a.b"],
)
def test_profile_needs_a_valid_token(api, header):
    response = api.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_a_tampered_token_is_refused(api):
    client, _ = api.as_member()
    token = client.session.headers["Authorization"].split()[1]
    payload, signature = token.split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    response = api.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
