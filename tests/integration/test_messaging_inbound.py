"""The inbound webhooks: signed by the provider, stored once per provider id, refused
when forged, replayed late or unconfigured; nothing a text holds breaks anything."""

import json
import time

import pytest

from services.common import webhooks
from services.common.mongo import database_name, mongo_client
from tests.conftest import Stack
from tests.support.api import make_phone
from tests.support.inbound import INBOUND_WEBHOOK_SECRET, Phone, provider_id, signed_post
from tests.support.waiting import holds, wait_until


def body(text="BANTUAN", **overrides):
    return {"id": provider_id(), "from": make_phone(), "text": text, **overrides}


def stored(config):
    return mongo_client(config)[database_name("messaging")].messages


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_signed_message_is_accepted_and_answered_on_its_channel(
    api, config, sms_sink, whatsapp_sink, channel
):
    phone = Phone(api, sms_sink, channel=channel)
    phone.send("BANTUAN")
    wait_until(
        lambda: stored(config).count_documents({"phone": phone.number, "reply": {"$ne": None}}) == 1
    )
    [message] = stored(config).find({"phone": phone.number})
    assert message["channel"] == channel and message["status"] == "handled"
    phone.expect("help")  # WhatsApp is not configured here: the reply falls back to SMS


def test_the_body_alone_may_be_signed(api, sms_sink):
    phone = Phone(api, sms_sink)
    sent = body(**{"from": phone.local})
    assert signed_post(api, sent).json() == {"accepted": True}
    phone.expect("help")


@pytest.mark.parametrize(
    "signature",
    ["", "0" * 64, webhooks.sign(b"something else", INBOUND_WEBHOOK_SECRET), "not-hex"],
)
def test_a_missing_or_forged_signature_is_401_and_nothing_is_stored(api, config, signature):
    sent = body()
    headers = {} if not signature else {webhooks.SIGNATURE_HEADER: signature}
    response = api.post("/api/v1/inbound/sms", data=json.dumps(sent), headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"
    assert stored(config).count_documents({}) == 0


def test_a_signature_under_another_secret_is_401(api, config):
    response = signed_post(api, body(), secret="someone-elses-secret")
    assert response.status_code == 401
    assert stored(config).count_documents({}) == 0


@pytest.mark.parametrize("age", [-webhooks.MAX_SKEW - 60, webhooks.MAX_SKEW + 60])
def test_a_timestamp_more_than_five_minutes_away_is_401(api, config, age):
    response = signed_post(api, body(), timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert "Timestamp" in response.json()["error"]["message"]
    assert stored(config).count_documents({}) == 0


def test_a_body_signed_without_the_timestamp_it_was_sent_with_is_401(api):
    sent = json.dumps(body()).encode()
    headers = {
        webhooks.SIGNATURE_HEADER: webhooks.sign(sent, INBOUND_WEBHOOK_SECRET),
        webhooks.TIMESTAMP_HEADER: str(int(time.time())),
    }
    assert api.post("/api/v1/inbound/sms", data=sent, headers=headers).status_code == 401


@pytest.mark.parametrize(
    "sent, field",
    [
        ({"id": "x", "text": "HELP"}, "from"),
        ({"id": "x", "from": "12", "text": "HELP"}, "from"),
        ({"id": "x", "from": "08123456789"}, "text"),
        ({"id": "x" * 500, "from": "08123456789", "text": "HELP"}, "id"),
        ({"id": "x", "from": "08123456789", "text": {"$gt": ""}}, "text"),
        ({"id": "x", "from": "08123456789", "text": "HELP", "$where": "1"}, "$where"),
    ],
)
def test_a_malformed_body_is_400_naming_the_field(api, config, sent, field):
    response = signed_post(api, sent)
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["details"]
    assert stored(config).count_documents({}) == 0


def test_the_same_id_on_the_same_channel_is_stored_once_and_an_empty_id_never_repeats(
    api, config, sms_sink
):
    phone = Phone(api, sms_sink)
    for _ in range(3):
        phone.send("CARI kopi", message_id="SM-1")
    phone.send("CARI kopi", message_id="")
    phone.send("CARI kopi", message_id="")
    wait_until(lambda: stored(config).count_documents({"phone": phone.number}) == 3)
    holds(lambda: stored(config).count_documents({"phone": phone.number}) == 3, 0.5)


def test_a_long_text_is_kept_cut_and_answered(api, config, sms_sink):
    phone = Phone(api, sms_sink)
    phone.send("x" * 10_000)
    phone.expect("help")
    [message] = stored(config).find({"phone": phone.number})
    assert message["truncated"] and len(message["text"]) == 2000


@pytest.mark.parametrize(
    "text, key",
    [
        ("", "help"),
        ("   ", "help"),
        ("\u202e\u202dPESAN", "usage_pesan"),
        ("\U0001f600\U0001f4a9 halo", "help"),
        ("'; DROP TABLE orders; --", "help"),
        ('{"$gt": ""}', "help"),
        ("\x00\x01\x02", "help"),
        ('PESAN {"$gt": ""} 1', "usage_pesan"),
    ],
)
def test_hostile_texts_are_answered_and_change_nothing(api, config, sms_sink, text, key):
    phone = Phone(api, sms_sink)
    phone.send(text)
    phone.expect(key)
    holds(lambda: len(phone.inbox()) == 1, 0.5)


@pytest.fixture
def unconfigured(container_factory, config):
    """The stack without INBOUND_WEBHOOK_SECRET."""
    config = {**config, webhooks.SECRET_KEY: ""}
    return Stack(container_factory, config).start().wait_ready()


def test_without_a_configured_secret_inbound_messages_are_503(unconfigured):
    response = signed_post(unconfigured.api, body())
    assert response.status_code == 503
    assert "INBOUND_WEBHOOK_SECRET" in response.json()["error"]["message"]


def test_while_messaging_is_down_the_provider_gets_503_and_its_retry_is_answered(
    stack, api, sms_sink
):
    stack.stop("messaging")
    phone = Phone(api, sms_sink)
    sent = body(**{"from": phone.local})
    assert signed_post(api, sent).status_code == 503
    stack.start("messaging")
    wait_until(lambda: signed_post(api, sent).status_code == 200, message="messaging back")
    phone.expect("help")
