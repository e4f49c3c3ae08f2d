"""Delivery that survives providers: fallbacks, outages, hangs, resets, redelivered
events, and giving up loudly after the last attempt."""

import pytest

from tests.support.events import EventLog
from tests.support.notifications import (
    make_contact,
    make_hub,
    make_line,
    make_order,
    messages_survive_an_sms_outage,
    with_providers,
)
from tests.support.providers import BrokenProvider
from tests.support.waiting import wait_until


@pytest.fixture
def broken_provider(request):
    with BrokenProvider(request.param) as provider:
        yield provider


@pytest.fixture
def config(config, request, whatsapp_sink, smtp_sink):
    return with_providers(config, request, whatsapp_sink, smtp_sink)


def register(events, **overrides):
    """``member_registered`` as community publishes it: the member gets a welcome."""
    contact = make_contact(**overrides)
    return contact, events.publish("community", "member_registered", contact)


def one_message(sink, address, timeout=15):
    return wait_until(lambda: sink.to(address), timeout=timeout, message=f"a message to {address}")


def test_a_failing_whatsapp_or_a_missing_email_falls_back_to_sms_and_the_log_says_why(
    events, log, sms_sink, whatsapp_sink, smtp_sink
):
    whatsapp_sink.fail_for(60)
    on_whatsapp, _ = register(events, preferred_channel="whatsapp", language="jv")
    without_email, _ = register(events, preferred_channel="email", email=None, language="en")

    [whatsapp_fallback] = one_message(sms_sink, on_whatsapp["phone"])
    [email_fallback] = one_message(sms_sink, without_email["phone"])
    assert whatsapp_fallback["message"].startswith("Selamat datang di KOMPOR DESA")
    assert email_fallback["message"].startswith("Welcome to KOMPOR DESA")
    assert whatsapp_sink.messages == [] and smtp_sink.messages == []

    logs = log.settled(on_whatsapp["member_id"], without_email["member_id"])
    [first] = logs[on_whatsapp["member_id"]]
    assert (first["channel"], first["delivered_via"], first["language"]) == (
        "whatsapp",
        "sms",
        "id",
    )
    assert first["last_error"] == "whatsapp: provider answered 500"
    [second] = logs[without_email["member_id"]]
    assert (second["channel"], second["delivered_via"], second["language"]) == (
        "email",
        "sms",
        "en",
    )
    assert second["last_error"] == "email: the member has no email address"


@pytest.mark.parametrize(
    ("broken_provider", "error"),
    [("hang", "whatsapp: provider timed out"), ("reset", "whatsapp: provider unreachable")],
    indirect=["broken_provider"],
)
def test_a_whatsapp_provider_that_hangs_or_resets_is_given_up_on_for_sms(
    events, log, sms_sink, broken_provider, error
):
    member, _ = register(events, preferred_channel="whatsapp")
    one_message(sms_sink, member["phone"])
    [notification] = log.settled(member["member_id"])[member["member_id"]]
    assert notification["delivered_via"] == "sms" and notification["status"] == "sent"
    assert notification["last_error"].startswith(error)
    assert broken_provider.requests >= 1


def test_an_sms_outage_delays_every_message_which_then_arrives_exactly_once(events, log, sms_sink):
    messages_survive_an_sms_outage(events, log, sms_sink, seconds=4)


def test_redelivering_the_same_events_sends_nothing_twice(events, log, sms_sink):
    member, welcome = register(events)
    seller = events.member()
    order = make_order(make_hub()["hub_id"], member["member_id"], [make_line(seller["member_id"])])
    placed = events.publish("orders", "order_placed", order)
    confirmed = events.publish("orders", "order_confirmed", order)
    wait_until(lambda: len(sms_sink.to(member["phone"])) == 2, message="welcome and confirmation")
    one_message(sms_sink, seller["phone"])
    log.settled(member["member_id"], seller["member_id"])

    for _ in range(2):
        events.redeliver("community", "member_registered", welcome)
        events.redeliver("orders", "order_placed", placed)
        events.redeliver("orders", "order_confirmed", confirmed)
    # orders announces a pending order again under a new event id while catalogue is slow
    events.publish("orders", "order_placed", order)
    # the same queues, afterwards: once these arrive, the repeats were handled before them
    marker, _ = register(events)
    other = make_order(order["hub_id"], marker["member_id"], [make_line(marker["member_id"])])
    events.publish("orders", "order_placed", other)
    events.publish("orders", "order_confirmed", other)
    wait_until(lambda: len(sms_sink.to(marker["phone"])) == 3, message="the marker messages")
    log.settled(member["member_id"], seller["member_id"], marker["member_id"])

    assert len(sms_sink.to(member["phone"])) == 2
    assert len(sms_sink.to(seller["phone"])) == 1
    assert len(log.of(member["member_id"])) == 2 and len(log.of(seller["member_id"])) == 1


def test_a_message_for_a_member_not_known_yet_is_sent_once_their_contact_arrives(
    events, log, sms_sink
):
    buyer = make_contact(language="en", name="Budi")
    order = make_order(make_hub()["hub_id"], buyer["member_id"], [make_line("seller-x")])
    events.publish("orders", "order_confirmed", order)
    wait_until(lambda: log.of(buyer["member_id"]), message="the waiting notification")
    [waiting] = log.of(buyer["member_id"])
    assert waiting["status"] == "queued" and waiting["last_error"].startswith("waiting for")

    events.publish("community", "member_registered", buyer)
    wait_until(lambda: len(sms_sink.to(buyer["phone"])) == 2, message="confirmation and welcome")
    log.settled(buyer["member_id"])
    assert sorted(m["message"].split()[0] for m in sms_sink.to(buyer["phone"])) == [
        "Order",
        "Welcome",
    ]


@pytest.mark.parametrize("settings", [{"KOMPOR_DELIVERY_MAX_ATTEMPTS": 3}])
def test_after_the_last_attempt_the_notification_fails_and_says_so(
    config, events, log, sms_sink, settings
):
    sms_sink.fail_for(120)
    with EventLog(config, "notifications") as published:
        member, welcome = register(events)
        failed = published.wait_for("notification_failed", timeout=15)
    assert failed["data"] == {
        "notification_id": f"{welcome['event_id']}:{member['member_id']}",
        "event_id": welcome["event_id"],
        "recipient_id": member["member_id"],
        "template": "welcome",
        "channel": "sms",
        "attempts": 3,
        "error": "sms: provider answered 500",
    }
    [notification] = log.of(member["member_id"])
    assert notification["status"] == "failed" and notification["attempts"] == 3
    assert sms_sink.messages == []


def test_a_member_sees_only_their_own_notifications_newest_first(api, sms_sink):
    siti, member = api.as_member(name="Siti")
    other, _ = api.as_member(name="Budi")
    one_message(sms_sink, member["phone"])
    wait_until(
        lambda: siti.get("/api/v1/notifications").json()["items"][0]["status"] == "sent",
        message="the welcome in the log",
    )
    page = siti.get("/api/v1/notifications").json()
    assert page["total"] == 1 and page["page"] == 1
    [welcome] = page["items"]
    assert welcome["template"] == "welcome" and welcome["language"] == "id"
    assert welcome["channel"] == "sms" and welcome["delivered_via"] == "sms"
    assert welcome["text"].startswith("Selamat datang di KOMPOR DESA, Siti!")
    assert welcome["subject"] == "Selamat datang di KOMPOR DESA"
    assert welcome["attempts"] == 1 and welcome["sent_at"]
    assert "phone" not in welcome and "facts" not in welcome and "outbox" not in welcome
    [theirs] = wait_until(
        lambda: other.get("/api/v1/notifications").json()["items"], message="Budi's welcome"
    )
    assert theirs["id"] != welcome["id"] and "Budi" in theirs["text"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": "x"}, "page"),
        ({"page_size": 101}, "page_size"),
        ({"recipient_id": "someone-else"}, "recipient_id"),
    ],
)
def test_bad_notification_queries_get_a_400_naming_the_field(api, query, field):
    client, _ = api.as_member()
    response = client.get("/api/v1/notifications", params=query)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_notifications_need_a_logged_in_member(api):
    response = api.get("/api/v1/notifications")
    assert response.status_code == 401
