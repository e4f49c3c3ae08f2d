"""A password never leaves the community service: not in answers, events, logs or
messages, neither as typed nor as its hash (issue 7, security)."""

import json
import logging

from services.common.mongo import database_name, mongo_client
from services.common.phone import normalise_phone
from tests.support.api import make_member
from tests.support.community import apply, approve, hub_with_coordinator
from tests.support.events import EventLog
from tests.support.waiting import wait_until

SOURCES = ("community", "catalogue", "orders", "notifications")
PASSWORD = "Rahasia-Sekali-7531"
NEW_NAME = "Siti Aminah Rahayu"


def test_neither_the_password_nor_its_hash_appears_in_answers_events_logs_or_messages(
    api, admin, config, sms_sink, caplog
):
    caplog.set_level(logging.DEBUG)  # more than any deployment logs
    hub = hub_with_coordinator(api, admin)
    answers = []

    def keep(response):
        answers.append(response.text)
        return response

    with EventLog(config, *SOURCES) as events:
        member = make_member(password=PASSWORD, email="siti@contoh.id")
        registered = keep(api.post("/api/v1/auth/register", json=member)).json()
        keep(api.post("/api/v1/auth/register", json=member))  # 409: the phone is taken
        keep(api.post("/api/v1/auth/register", json={**member, "phone": "12"}))  # 400
        wrong = {"phone": member["phone"], "password": PASSWORD + "x"}
        keep(api.post("/api/v1/auth/token", json=wrong))  # 401
        token = keep(api.post("/api/v1/auth/token", json=member | {"name": None}))
        assert token.status_code == 400  # name is not a login field: refused, not echoed
        login = {"phone": member["phone"], "password": PASSWORD}
        client = api.login(**login)
        keep(client.get("/api/v1/me"))
        keep(client.patch("/api/v1/me", json={"name": NEW_NAME, "language": "en"}))
        keep(client.patch("/api/v1/me", json={"password": PASSWORD}))  # 400: not here
        membership = apply(client, hub.hub_id, role="buyer")
        approve(hub.coordinator, membership["id"])
        keep(client.get("/api/v1/me"))
        keep(client.get("/api/v1/notifications"))
        # everything the flow causes has happened: the last event and the welcome SMS
        events.wait_for("membership_approved", membership_id=membership["id"])
        events.wait_for("member_updated", member_id=registered["id"])
        wait_until(lambda: sms_sink.to(registered["phone"]), message="the welcome SMS")

    stored = mongo_client(config)[database_name("community")].members.find_one(
        {"phone": normalise_phone(member["phone"])}
    )
    password_hash = stored["password_hash"]
    assert password_hash.startswith("$argon2id$") and PASSWORD not in json.dumps(
        stored, default=str
    )

    places = {
        "answers": answers,
        "events": [json.dumps(event, ensure_ascii=False) for event in events.received],
        "logs": [_formatted(record) for record in caplog.records],
        "messages": [json.dumps(message, ensure_ascii=False) for message in sms_sink.messages],
    }
    assert all(places.values()), {name: len(found) for name, found in places.items()}
    for secret in (PASSWORD, password_hash, "$argon2"):
        leaks = {name: [t for t in texts if secret in t] for name, texts in places.items()}
        assert not any(leaks.values()), f"{secret!r} leaked: {leaks}"


def _formatted(record):
    text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    return f"{text} {record.args!r}"
