"""Messaging's pure rules: the webhook signature, the stored message and its event,
what a refusal is answered with, and the loop guard."""

import datetime

import pytest

from services.catalogue.exceptions import NotYourProduct, ProductNotFound
from services.common import webhooks
from services.common.envelope import PENDING_EVENTS
from services.common.errors import Conflict, Forbidden, ServiceUnavailable, ValidationError
from services.messaging import domain
from services.messaging.contract import MAX_TEXT
from services.messaging.exceptions import NotAllowed
from services.orders.exceptions import InvalidTransition, OrderNotFound

SECRET = "s3cret"
NOW = datetime.datetime(2026, 12, 1, 3, 0, tzinfo=datetime.UTC)


def test_a_body_signed_with_the_secret_is_believed():
    body = b'{"id":"1","from":"0812","text":"HELP"}'
    webhooks.verify(body, SECRET, webhooks.sign(body, SECRET))
    webhooks.verify(body, SECRET, webhooks.sign(body, SECRET).upper())


def test_a_signed_timestamp_is_believed_within_five_minutes_either_way():
    body = b"{}"
    for moment in (1_000_000 - 299, 1_000_000, 1_000_000 + 299):
        stamp = str(moment)
        webhooks.verify(body, SECRET, webhooks.sign(body, SECRET, stamp), stamp, now=1_000_000)


@pytest.mark.parametrize(
    "signature, timestamp",
    [
        (None, None),
        ("", None),
        ("0" * 64, None),
        (webhooks.sign(b"{}", "other"), None),
        (webhooks.sign(b"{}", SECRET, "999000"), "999000"),  # too old
        (webhooks.sign(b"{}", SECRET, "1001000"), "1001000"),  # too far ahead
        (webhooks.sign(b"{}", SECRET, "1000000"), "1000001"),  # not the signed time
        (webhooks.sign(b"{}", SECRET), "1000000"),  # body-only signature, timestamp sent
        (webhooks.sign(b"{}", SECRET, "soon"), "soon"),
    ],
)
def test_forged_missing_or_stale_signatures_are_refused(signature, timestamp):
    with pytest.raises(webhooks.BadSignature):
        webhooks.verify(b"{}", SECRET, signature, timestamp, now=1_000_000)


def test_a_new_message_is_keyed_by_channel_and_provider_id_with_its_event():
    message = domain.new_message("sms", {"id": "SM1", "phone": "+62812", "text": "HELP"}, NOW)
    assert message["key"] == "sms:SM1" and domain.idempotency_key(message) == "sms:SM1"
    [event] = message[PENDING_EVENTS]
    assert event["type"] == "message_received"
    assert event["data"] == {
        "message_id": message["_id"],
        "channel": "sms",
        "provider_id": "SM1",
        "phone": "+62812",
        "received_at": "2026-12-01T03:00:00.000Z",
    }


def test_messages_without_a_provider_id_never_share_a_key():
    fields = {"id": "", "phone": "+62812", "text": "HELP"}
    first, second = (domain.new_message("sms", fields, NOW) for _ in range(2))
    assert first["key"] != second["key"]


def test_a_long_text_is_kept_cut_and_marked():
    message = domain.new_message("sms", {"id": "x", "phone": "+62812", "text": "y" * 9000}, NOW)
    assert len(message["text"]) == MAX_TEXT and message["truncated"]


@pytest.mark.parametrize(
    "verb, error, expected",
    [
        ("PESAN", ProductNotFound("x"), ("unknown_code", {"code": "K7MA"})),
        ("STATUS", OrderNotFound("x"), ("unknown_order", {"code": "K7MA"})),
        ("BATAL", InvalidTransition("x"), ("cannot_cancel", {"code": "K7MA"})),
        ("SIAP", InvalidTransition("x"), ("cannot_ready", {"code": "K7MA"})),
        ("STOK", NotYourProduct("x"), ("not_allowed", {})),
        ("STOK", Conflict("x"), ("usage_stok", {})),
        ("GABUNG", ValidationError("x"), ("usage_gabung", {})),
        ("GABUNG", Forbidden("x"), ("not_allowed", {})),
    ],
)
def test_expected_refusals_become_the_reply_for_that_command(verb, error, expected):
    assert domain.reply_to_error(verb, error, {"code": "K7MA"}) == expected


def test_a_service_that_does_not_answer_is_no_reply_but_a_retry():
    assert domain.reply_to_error("PESAN", ServiceUnavailable("down"), {}) is None


UNKNOWN_FIELD = {"customer": ["Unknown field; remove it."]}


@pytest.mark.parametrize(
    "error, expected",
    [
        (NotAllowed("only agents"), ("agents_only", {"hub": "Pujon"})),
        (Forbidden("x", {"customer": ["Not an agent."]}), ("agents_only", {"hub": "Pujon"})),
        # an orders that takes no customer from this sender refuses the field itself
        (ValidationError("x", UNKNOWN_FIELD), ("agents_only", {"hub": "Pujon"})),
        (ValidationError("x", {"customer": {"phone": ["No mobile."]}}), ("usage_pesan_untuk", {})),
        (ValidationError("x", {"customer.phone": ["No mobile."]}), ("usage_pesan_untuk", {})),
        (ValidationError("x", {"items": ["Too many."]}), ("usage_pesan", {})),
        (ProductNotFound("x"), ("unknown_code", {"hub": "Pujon"})),
    ],
)
def test_refusals_of_an_order_for_a_customer_become_their_reply(error, expected):
    assert domain.reply_to_customer_order_error(error, {"hub": "Pujon"}) == expected


def test_a_service_that_does_not_answer_an_order_for_a_customer_is_a_retry():
    assert domain.reply_to_customer_order_error(ServiceUnavailable("down"), {}) is None


def test_an_order_by_text_message_names_a_customer_only_when_there_is_one():
    items = [{"product_id": "p1", "quantity": 2}]
    plain = domain.order_payload("h1", items)
    assert "customer" not in plain and plain["payment_method"] == "cod"
    for_customer = domain.order_payload("h1", items, "+6281234567890")
    assert for_customer == {**plain, "customer": {"phone": "+6281234567890"}}


def replied(text, key, minutes_ago):
    return {
        "reply_key": key,
        "reply": {"text": text, "at": NOW - datetime.timedelta(minutes=minutes_ago)},
    }


def test_an_echo_of_our_own_reply_is_not_answered():
    recent = [replied("KOMPOR DESA: DAFTAR nama ...", "help", 30)]
    assert not domain.should_reply("help", "kompor desa:  daftar NAMA ...", recent, NOW)
    assert domain.should_reply("help", "something else", [replied("x", "ordered", 30)], NOW)


def test_help_for_text_not_understood_goes_at_most_once_in_ten_minutes():
    assert not domain.should_reply("help", "apa?", [replied("help text", "help", 9)], NOW)
    assert domain.should_reply("help", "apa?", [replied("help text", "help", 11)], NOW)
    assert domain.should_reply("found", "CARI kopi", [replied("help text", "help", 1)], NOW)


def test_an_order_is_in_one_hub_or_names_the_code_that_is_not():
    first = {"id": "p1", "hub_id": "h1", "code": "K7MA"}
    second = {"id": "p2", "hub_id": "h2", "code": "B3CD"}
    assert domain.order_lines([(first, 2)]) == ("h1", [{"product_id": "p1", "quantity": 2}])
    assert domain.order_lines([(first, 2), (second, 1)]) == "B3CD"


def test_only_the_hub_s_coordinators_and_admins_read_its_members_messages():
    coordinator = {"member_id": "c", "is_admin": False, "roles": {"h": ["coordinator"]}}
    seller = {"member_id": "s", "is_admin": False, "roles": {"h": ["seller"]}}
    admin = {"member_id": "a", "is_admin": True, "roles": {}}
    domain.check_can_read_hub_messages(coordinator, "h")
    domain.check_can_read_hub_messages(admin, "h")
    with pytest.raises(NotAllowed):
        domain.check_can_read_hub_messages(seller, "h")


def test_a_member_s_messages_are_seen_by_the_hubs_where_they_are_seller_or_buyer():
    actor = {
        "member_id": "m",
        "is_admin": False,
        "roles": {"b": ["buyer"], "a": ["seller"], "c": ["coordinator"]},
    }
    assert domain.member_hubs(actor) == ["a", "b"]
    assert domain.member_hubs(None) == []
