"""A password never leaves the community service: not in answers, events, logs or
messages, neither as typed nor as its hash (issue 7, security); and the secrets a
deployment sets are refused at start when they are too short, and the admin's phone is
never handed to whoever registered it first.

One member registers, fails and succeeds to log in, reads and edits their profile,
joins a hub, orders and cancels; every answer, every event on every service's
exchange, every log record (at DEBUG, more than any deployment logs) and every SMS
of the run is searched for the password, its Argon2 hash and any Argon2 hash at all.
"""

import json
import logging
import uuid

import pytest

from services.common.mongo import database_name, mongo_client
from services.common.phone import normalise_phone
from services.community.bootstrap import AdminPhoneTaken
from services.community.service import CommunityService
from tests.support.api import make_member
from tests.support.catalogue import key_header, make_product
from tests.support.community import apply, approve, approved_member, hub_with_coordinator
from tests.support.events import EventLog
from tests.support.waiting import wait_until

SOURCES = ("community", "catalogue", "orders", "notifications", "messaging", "ledger")
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
        order = keep(place_an_order(api, hub, client)).json()
        keep(client.get(f"/api/v1/orders/{order['id']}"))
        keep(client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": "Batal"}))
        keep(client.get("/api/v1/notifications"))
        # everything the flow causes has happened: its last events and messages
        events.wait_for("membership_approved", membership_id=membership["id"])
        events.wait_for("member_updated", member_id=registered["id"])
        events.wait_for("stock_released", order_id=order["id"])
        wait_until(lambda: len(sms_sink.to(registered["phone"])) >= 3, message="the SMSes")

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


def place_an_order(api, hub, client):
    """``client`` orders a product of a new seller of ``hub``; the order is confirmed."""
    seller = approved_member(api, hub.coordinator, hub.hub_id, role="seller")
    product = seller.client.post(
        "/api/v1/products", json=make_product(hub.hub_id), headers=key_header()
    ).json()
    hub.coordinator.post(f"/api/v1/products/{product['id']}/approve")
    body = {
        "hub_id": hub.hub_id,
        "items": [{"product_id": product["id"], "quantity": 2}],
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    placed = wait_until(
        lambda: (
            (r := client.post("/api/v1/orders", json=body, headers=key)).status_code == 201 and r
        ),
        message="the product to reach orders",
    )
    wait_until(
        lambda: client.get(f"/api/v1/orders/{placed.json()['id']}").json()["status"] == "confirmed",
        message="the order confirmed",
    )
    return placed


def _formatted(record):
    text = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    return f"{text} {record.args!r}"


def test_the_admin_phone_of_someone_who_registered_it_is_refused_not_promoted(
    api, container_factory, config
):
    squatter = make_member()
    registered = api.post("/api/v1/auth/register", json=squatter)
    assert registered.status_code == 201, registered.text
    replica = container_factory(
        CommunityService, {**config, "KOMPOR_ADMIN_PHONE": squatter["phone"]}
    )
    with pytest.raises(AdminPhoneTaken, match="KOMPOR_ADMIN_PHONE .* not an admin"):
        replica.start()
    stored = mongo_client(config)[database_name("community")].members.find_one(
        {"phone": normalise_phone(squatter["phone"])}
    )
    assert not stored.get("is_admin")
    me = api.login(squatter["phone"], squatter["password"]).get("/api/v1/me").json()
    assert not me.get("is_admin")


@pytest.mark.parametrize(
    ("key", "short"),
    [("KOMPOR_ADMIN_PASSWORD", "pendek-1234"), ("KOMPOR_SECRET_KEY", "kunci-rahasia-" + "x" * 17)],
)
def test_a_short_admin_password_or_secret_key_stops_the_start_without_showing_it(
    container_factory, config, key, short
):
    container = container_factory(CommunityService, {**config, key: short})
    with pytest.raises(ValueError, match=f"{key} is too short") as refused:
        container.start()
    assert short not in str(refused.value)
