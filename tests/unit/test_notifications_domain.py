"""Who is told what, on which channel, and when the next try is."""

import datetime

import pytest

from services.common.envelope import PENDING_EVENTS
from services.notifications import domain
from services.notifications.domain import DeliveryPolicy, Message
from tests.support.notifications import (
    make_contact,
    make_hub,
    make_line,
    make_membership,
    make_order,
    make_product,
    make_training,
)

EVENT = {"event_id": "e-1", "occurred_at": "2026-11-27T10:00:00.000Z", "data": {}}


def queued(contact=None, template="welcome", facts=None):
    notification = domain.new_notification(EVENT, Message("m-1", template, facts or {}))
    return domain.address(notification, contact) if contact else notification


# --- channels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preferred", "order"),
    [
        ("sms", ["sms"]),
        ("whatsapp", ["whatsapp", "sms"]),
        ("email", ["email", "sms"]),
        (None, ["sms"]),
        ("telegram", ["telegram", "sms"]),
    ],
)
def test_the_preferred_channel_is_tried_first_then_sms(preferred, order):
    notification = queued(make_contact(preferred_channel=preferred))
    assert domain.channel_order(notification) == order


def test_email_goes_to_the_email_address_everything_else_to_the_phone():
    notification = queued(make_contact(email="siti@desa.id", phone="+6281234567890"))
    assert domain.address_for(notification, "email") == "siti@desa.id"
    assert domain.address_for(notification, "whatsapp") == "+6281234567890"
    assert domain.address_for(notification, "sms") == "+6281234567890"


@pytest.mark.parametrize(("language", "used"), [("en", "en"), ("id", "id"), ("fr", "id")])
def test_a_message_is_written_in_the_members_language_or_indonesian(language, used):
    notification = queued(make_contact(name="Budi", language=language))
    assert notification["language"] == used
    assert notification["text"].startswith("Welcome" if used == "en" else "Selamat datang")
    assert "Budi" in notification["text"]


def test_a_message_for_an_unknown_member_waits_unrendered():
    notification = queued()
    assert not domain.is_addressed(notification)
    assert notification["status"] == domain.QUEUED and notification["attempts"] == 0


def test_one_notification_per_event_and_recipient():
    first = domain.new_notification(EVENT, Message("m-1", "welcome", {}))
    again = domain.new_notification(EVENT, Message("m-1", "order_confirmed", {}))
    other = domain.new_notification(EVENT, Message("m-2", "welcome", {}))
    assert first["_id"] == again["_id"] != other["_id"]


# --- backoff -----------------------------------------------------------------------


def test_retries_back_off_exponentially_with_jitter_up_to_a_ceiling():
    policy = DeliveryPolicy(base_delay=5, max_delay=600, max_attempts=12)
    for attempts, ceiling in [(1, 5), (2, 10), (3, 20), (4, 40), (8, 600), (11, 600)]:
        delays = {policy.delay(attempts).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays), (attempts, delays)
        assert len(delays) > 1  # jitter: replicas and members do not retry in lockstep


def test_a_failed_attempt_is_scheduled_again_and_noted():
    now = datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC)
    notification = queued(make_contact())
    domain.mark_attempt_failed(notification, "sms: provider answered 500", DeliveryPolicy(), now)
    assert notification["status"] == domain.QUEUED and notification["attempts"] == 1
    assert notification["last_error"] == "sms: provider answered 500"
    assert now + datetime.timedelta(seconds=2.5) <= notification["next_attempt_at"]
    assert notification["next_attempt_at"] <= now + datetime.timedelta(seconds=5)
    assert PENDING_EVENTS not in notification


def test_after_the_last_attempt_the_notification_fails_and_says_so():
    policy = DeliveryPolicy(max_attempts=3)
    notification = queued(make_contact())
    for _ in range(3):
        domain.mark_attempt_failed(notification, "sms: provider timed out", policy)
    assert notification["status"] == domain.FAILED and notification["next_attempt_at"] is None
    [event] = notification[PENDING_EVENTS]
    assert event["type"] == "notification_failed"
    assert event["data"] == {
        "notification_id": "e-1:m-1",
        "event_id": "e-1",
        "recipient_id": "m-1",
        "template": "welcome",
        "channel": "sms",
        "attempts": 3,
        "error": "sms: provider timed out",
    }


def test_a_message_sent_by_fallback_keeps_why_the_preferred_channel_was_passed_over():
    notification = queued(make_contact(preferred_channel="whatsapp"))
    domain.mark_sent(notification, "sms", ["whatsapp: not configured"])
    assert notification["status"] == domain.SENT and notification["delivered_via"] == "sms"
    assert notification["last_error"] == "whatsapp: not configured"
    [event] = notification[PENDING_EVENTS]
    assert event["type"] == "notification_sent" and event["data"]["channel"] == "sms"


# --- who is told what --------------------------------------------------------------


def test_each_seller_hears_of_a_new_order_with_their_own_lines_only():
    order = make_order(
        "h",
        "buyer",
        [
            make_line("ani", "Keripik", 2, 12500),
            make_line("budi", "Kopi", 1, 40000),
            make_line("ani", "Sambal", 3, 15000),
        ],
    )
    messages = {
        m.recipient_id: m for m in domain.tell_sellers_of_order("order_placed_seller", order)
    }
    assert set(messages) == {"ani", "budi"}
    assert messages["ani"].facts["items"] == [
        {"name": "Keripik", "quantity": 2, "code": None},
        {"name": "Sambal", "quantity": 3, "code": None},
    ]
    assert messages["ani"].facts["total"] == 70000
    assert messages["budi"].facts["total"] == 40000
    assert messages["ani"].facts["number"] == order["number"]


def test_the_buyer_hears_of_the_whole_order_with_the_pickup_hub():
    hub = make_hub(name="Simpul Dau", address="Jl. Raya 12")
    order = make_order("h", "buyer", [make_line("ani"), make_line("budi", unit_price=40000)])
    [message] = domain.tell_buyer("order_confirmed", order, hub)
    assert message.recipient_id == "buyer" and message.facts["total"] == 52500
    assert message.facts["pickup"] == "Simpul Dau, Jl. Raya 12"


@pytest.mark.parametrize(
    ("to_status", "template"),
    [
        ("ready_for_pickup", "order_ready_for_pickup"),
        ("shipped", "order_shipped"),
        ("completed", None),
        ("confirmed", None),
    ],
)
def test_the_buyer_hears_of_ready_for_pickup_and_shipped(to_status, template):
    order = make_order("h", "buyer", [make_line("ani")], to_status=to_status)
    messages = domain.tell_buyer_of_status(order, None)
    assert [m.template for m in messages] == ([template] if template else [])


def test_a_cancellation_tells_the_buyer_and_the_sellers_but_not_who_cancelled():
    order = make_order(
        "h",
        "buyer",
        [make_line("ani"), make_line("budi"), make_line("buyer")],
        cancelled_by="budi",
    )
    told = {(m.recipient_id, m.template) for m in domain.tell_of_cancellation(order)}
    assert told == {("buyer", "order_cancelled"), ("ani", "order_cancelled_seller")}


def test_a_cancellation_repeated_only_to_release_stock_tells_no_one():
    order = make_order("h", "buyer", [make_line("ani")], release_only=True)
    assert domain.tell_of_cancellation(order) == []


def test_a_rejection_tells_each_seller_asked_to_prepare_the_order_their_own_lines():
    order = make_order(
        "h",
        "buyer",
        [make_line("ani", "Keripik"), make_line("budi", "Kopi"), make_line("ani", "Sambal")],
        reason="insufficient_stock",
    )
    messages = {m.recipient_id: m for m in domain.tell_sellers_of_rejection(order)}
    assert set(messages) == {"ani", "budi"}
    assert {m.template for m in messages.values()} == {"order_rejected_seller"}
    assert [item["name"] for item in messages["ani"].facts["items"]] == ["Keripik", "Sambal"]
    assert messages["ani"].key == f"{order['order_id']}:order_rejected_seller"


def test_a_seller_who_is_the_buyer_hears_of_the_rejection_once_as_the_buyer():
    order = make_order("h", "ani", [make_line("ani"), make_line("budi")])
    assert [m.recipient_id for m in domain.tell_sellers_of_rejection(order)] == ["budi"]


def test_order_messages_are_keyed_by_the_order_so_a_reannouncement_is_not_news():
    order = make_order("h", "buyer", [make_line("ani")])
    [first] = domain.tell_sellers_of_order("order_placed_seller", order)
    again = {"event_id": "e-2", "occurred_at": EVENT["occurred_at"], "data": order}
    assert (
        domain.new_notification(EVENT, first)["_id"]
        == domain.new_notification(again, first)["_id"]
        == f"{order['order_id']}:order_placed_seller:ani"
    )
    [confirmed] = domain.tell_buyer("order_confirmed", order)
    assert domain.new_notification(EVENT, confirmed)["_id"] != f"e-1:{order['buyer_id']}"


def test_the_coordinators_hear_of_an_application_but_not_about_themselves():
    membership = make_membership("h", "siti", role="buyer", business_name="Warung Siti")
    messages = domain.tell_coordinators_of_application(
        membership, make_hub(name="Simpul Dau"), ["koor-1", "siti", "koor-2"], {"name": "Siti"}
    )
    assert [m.recipient_id for m in messages] == ["koor-1", "koor-2"]
    assert messages[0].facts == {"applicant": "Siti", "role": "buyer", "hub": "Simpul Dau"}


def test_an_application_from_an_unknown_member_names_their_business():
    membership = make_membership("h", "siti", business_name="Warung Siti")
    [message] = domain.tell_coordinators_of_application(membership, None, ["koor"], None)
    assert message.facts["applicant"] == "Warung Siti"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("membership_approved", None),
        ("membership_rejected", "Belum punya usaha"),
        ("membership_suspended", "Tidak aktif"),
    ],
)
def test_the_applicant_hears_of_the_decision(template, reason):
    membership = make_membership("h", "siti", reason=reason)
    [message] = domain.tell_applicant(template, membership, make_hub(name="Simpul Dau"))
    assert message.recipient_id == "siti" and message.template == template
    assert message.facts.get("reason") == reason and message.facts["hub"] == "Simpul Dau"


@pytest.mark.parametrize("template", ["product_approved", "product_rejected"])
def test_the_seller_hears_of_the_curation_of_their_product(template):
    product = make_product("h", "ani", name="Kopi Dampit", reason="Foto buram")
    [message] = domain.tell_seller_of_curation(template, product, None)
    assert message.recipient_id == "ani" and message.facts["product"] == "Kopi Dampit"
    assert ("reason" in message.facts) == (template == "product_rejected")


def test_hub_members_hear_of_a_training():
    training = make_training("h", title="Foto produk")
    messages = domain.tell_hub_members_of_training(training, make_hub(), ["ani", "budi"])
    assert [(m.recipient_id, m.template) for m in messages] == [
        ("ani", "training_scheduled"),
        ("budi", "training_scheduled"),
    ]
    assert messages[0].facts["starts_at"] == training["starts_at"]


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("membership_requested", "pending"),
        ("membership_approved", "approved"),
        ("membership_rejected", "rejected"),
        ("membership_suspended", "suspended"),
    ],
)
def test_memberships_are_projected_with_their_status(event_type, status):
    membership = domain.membership_from(event_type, make_membership("h", "siti"))
    assert membership["status"] == status and membership["member_id"] == "siti"


def test_order_messages_name_each_product_by_its_code_so_a_member_can_answer_by_sms():
    order = make_order("h", "buyer", [{**make_line("ani", "Keripik", 2, 12500), "code": "K7MA"}])
    [message] = domain.tell_buyer("order_rejected", order)
    notification = domain.address(
        domain.new_notification({"event_id": "e"}, message), {"name": "Budi", "phone": "+62812"}
    )
    assert order["number"] in notification["text"] and "2x K7MA Keripik" in notification["text"]


# --- the coordinator acted for a member: the member is told -------------------------


def test_a_member_is_told_of_an_order_the_coordinator_placed_for_them():
    hub = make_hub(name="Simpul Dau")
    order = make_order(hub["hub_id"], "buyer-1", [make_line("seller-1")], acted_by="koor-1")
    [told] = domain.tell_buyer_acted_for(order, hub)
    assert (told.recipient_id, told.template) == ("buyer-1", "order_placed_for_you")
    assert told.facts["number"] == order["number"] and told.facts["hub"] == "Simpul Dau"
    assert told.key == f"{order['order_id']}:order_placed_for_you"  # once per order


def test_nobody_is_told_of_an_order_they_placed_themselves():
    order = make_order("hub-1", "buyer-1", [make_line("seller-1")], acted_by=None)
    assert domain.tell_buyer_acted_for(order, None) == []


def test_a_seller_is_told_of_a_product_submitted_for_them_and_the_submitter_is_not_asked():
    product = make_product("hub-1", "seller-1", code="K7MA", acted_by="koor-1")
    messages = domain.tell_coordinators_of_product(product, None, ["koor-1", "koor-2"])
    assert [(m.recipient_id, m.template) for m in messages] == [
        ("koor-2", "product_submitted"),
        ("seller-1", "product_submitted_for_you"),
    ]
    assert messages[1].facts["code"] == "K7MA"


def test_a_seller_is_told_of_a_stock_change_the_coordinator_made_only():
    change = {
        "product_id": "p-1",
        "code": "K7MA",
        "hub_id": "hub-1",
        "seller_id": "seller-1",
        "name": "Keripik",
        "stock": 25,
        "delta": 15,
        "acted_by": "koor-1",
    }
    [told] = domain.tell_seller_of_stock_change(change, make_hub(name="Simpul Dau"))
    assert (told.recipient_id, told.template) == ("seller-1", "stock_changed_for_you")
    assert told.facts == {
        "product": "Keripik",
        "code": "K7MA",
        "delta": 15,
        "stock": 25,
        "hub": "Simpul Dau",
    }
    assert domain.tell_seller_of_stock_change({**change, "acted_by": None}, None) == []


@pytest.mark.parametrize(
    "paid",
    [
        {"seller_id": "seller-1", "agent_id": None, "member_id": "seller-1"},
        {"seller_id": None, "agent_id": "agent-1", "member_id": "member-7"},
    ],
)
def test_a_payout_is_told_to_the_member_paid_seller_or_agent(paid):
    payout = {**paid, "hub_id": "hub-1", "amount": 50_000, "method": "cash", "balance_after": 0}
    [told] = domain.tell_seller_of_payout(payout, make_hub(name="Simpul Dau"))
    assert (told.recipient_id, told.template) == (paid["member_id"], "payout_recorded")
    assert told.facts == {"amount": 50_000, "method": "cash", "balance": 0, "hub": "Simpul Dau"}
