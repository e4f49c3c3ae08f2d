"""Messages to phones that are no members: a group's contacts (their welcome, the
group's broadcasts, each checked against the phone's consent as it is sent) and the
customer of an agent's order. The rules, then the courier over the real repository
(in-memory store) with a fake SMS provider."""

import uuid

import pytest

from services.common.mongo import mongo_client
from services.notifications import domain
from services.notifications.channels import Postbox
from services.notifications.delivery import Courier
from services.notifications.domain import BroadcastPace, DeliveryPolicy
from services.notifications.exceptions import DeliveryFailed
from services.notifications.repository import NotificationsRepository
from tests.support.notifications import (
    a_phone,
    make_broadcast,
    make_consent,
    make_contact,
    make_contact_added,
    make_hub,
    make_line,
    make_order,
)

EVENT = {"event_id": "e-1", "occurred_at": "2026-11-27T10:00:00.000Z", "data": {}}
EARLIER, LATER = "2026-11-27T10:00:00.000Z", "2026-11-27T11:00:00.000Z"


def customer_order(**overrides):
    customer = {"name": "Bu Ani", "phone": a_phone()}
    return make_order("hub-1", "agent-1", [make_line("seller-1")], customer=customer, **overrides)


# --- who is told what ----------------------------------------------------------------


def test_a_new_contact_is_welcomed_at_their_phone_once_per_group_in_indonesian_by_sms():
    data = make_contact_added()
    [message] = domain.tell_new_contact(data)
    assert message.recipient_id == data["phone"]
    assert message.template == "contact_welcome"
    assert message.facts == {
        "added_by": "Pak Budi",
        "group": "Jamaah Al-Ikhlas",
        "hub": "Simpul Dau",
    }
    assert message.contact == {
        "phone": data["phone"],
        "name": "Bu Ani",
        "language": "id",
        "preferred_channel": "sms",
    }
    again = domain.tell_new_contact({**data, "added_by_name": "Someone else"})
    other_group = domain.tell_new_contact({**data, "group_id": "g-2"})
    ids = [domain.new_notification(EVENT, m)["_id"] for m in (message, *again, *other_group)]
    assert ids[0] == ids[1] == f"{data['group_id']}:contact_welcome:{data['phone']}"
    assert ids[2] != ids[0]


def test_a_broadcast_is_one_message_per_distinct_phone_keyed_by_broadcast_and_phone():
    first, second = a_phone(), a_phone()
    data = make_broadcast([first, second, first])
    messages = domain.tell_broadcast(data)
    assert [m.recipient_id for m in messages] == [first, second]
    assert messages[0].contact["name"] == "Kontak 0"  # the first name given for a phone
    notification = domain.new_notification(EVENT, messages[0])
    assert notification["_id"] == f"{data['broadcast_id']}:{first}"
    assert notification["lane"] == domain.BROADCAST_LANE
    assert notification["broadcast_id"] == data["broadcast_id"]
    assert messages[0].facts == {
        "hub": "Simpul Dau",
        "products": [
            {"code": "K7MA", "name": "Keripik Tempe Pedas", "price": 12500},
            {"code": "KP2D", "name": "Kopi Dampit", "price": 40000},
        ],
    }


def test_only_a_broadcasts_messages_wait_in_the_broadcast_lane():
    welcome = domain.new_notification(EVENT, domain.tell_new_contact(make_contact_added())[0])
    assert "lane" not in welcome and "broadcast_id" not in welcome


@pytest.mark.parametrize(
    ("tell", "template"),
    [
        (lambda order: domain.tell_buyer("order_rejected", order), "order_rejected"),
        (lambda order: domain.tell_buyer("order_paid", order), "order_paid"),
        (lambda order: domain.tell_buyer_of_confirmation(order, None), "order_confirmed"),
        (
            lambda order: domain.tell_buyer_of_status(
                {**order, "to_status": "ready_for_pickup"}, make_hub()
            ),
            "order_ready_for_pickup",
        ),
        (lambda order: domain.tell_of_cancellation(order), "order_cancelled"),
        (lambda order: domain.tell_buyer_of_refund(order), "refund_settled"),
    ],
)
def test_the_customer_of_an_agents_order_is_told_what_the_agent_is_told(tell, template):
    order = customer_order()
    told = {m.recipient_id: m for m in tell(order) if m.template == template}
    phone = order["customer"]["phone"]
    assert set(told) == {"agent-1", phone}
    assert told[phone].facts == told["agent-1"].facts
    assert told[phone].contact == domain.phone_contact(phone, "Bu Ani")
    assert told[phone].key == told["agent-1"].key == f"{order['order_id']}:{template}"


def test_the_customer_hears_how_to_pay_a_bank_transfer_too():
    order = customer_order(payment_method="bank_transfer")
    hub = {**make_hub(), "bank_account": {"bank": "BRI", "number": "0012", "holder": "Simpul"}}
    told = domain.tell_buyer_of_confirmation(order, hub)
    assert [m.template for m in told] == ["order_confirmed_transfer"] * 2
    assert told[1].recipient_id == order["customer"]["phone"]


def test_the_customer_is_told_who_ordered_for_them_and_an_order_without_one_tells_nobody():
    order = customer_order()
    hub = {"_id": "hub-1", "name": "Simpul Dau"}
    [message] = domain.tell_customer_of_order(order, hub, {"name": "Pak Agen"})
    assert message.recipient_id == order["customer"]["phone"]
    assert message.template == "order_placed_customer"
    assert (message.facts["agent"], message.facts["hub"]) == ("Pak Agen", "Simpul Dau")
    assert message.key == f"{order['order_id']}:order_placed_customer"
    plain = make_order("hub-1", "buyer-1", [make_line("seller-1")])
    assert domain.tell_customer_of_order(plain, hub, None) == []
    assert [m.recipient_id for m in domain.tell_buyer("order_paid", plain)] == ["buyer-1"]


# --- consent, counts, pace -----------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "asks"),
    [
        ("broadcast", True),
        ("contact_welcome", True),
        ("order_confirmed", False),
        ("payout_recorded", False),
        ("one_time_code", False),
        ("welcome", False),
    ],
)
def test_only_broadcasts_and_contacts_welcomes_ask_for_consent(template, asks):
    assert domain.asks_consent({"template": template}) is asks


def test_a_message_to_a_phone_that_opted_out_ends_for_good():
    notification = domain.new_notification(
        EVENT, domain.tell_broadcast(make_broadcast([a_phone()]))[0]
    )
    domain.opt_out(notification)
    assert notification["status"] == domain.OPTED_OUT
    assert notification["next_attempt_at"] is None
    assert "BERHENTI" in notification["last_error"]


def test_a_broadcasts_counts_add_up_and_an_unknown_one_is_all_zeros():
    assert domain.broadcast_counts({"sent": 3, "opted_out": 1, "queued": 2}) == {
        "total": 6,
        "queued": 2,
        "sent": 3,
        "failed": 0,
        "opted_out": 1,
    }
    assert domain.broadcast_counts({}) == dict.fromkeys(
        ("total", "queued", "sent", "failed", "opted_out"), 0
    )


def test_the_pace_spaces_messages_by_one_over_the_rate_and_saves_nothing_up():
    pace = BroadcastPace(4)
    assert pace.wait(100.0) == 0
    pace.sent(100.0)
    assert pace.wait(100.0) == pytest.approx(0.25)
    assert pace.wait(100.1) == pytest.approx(0.15)
    assert pace.wait(160.0) == 0  # an idle minute allows one message now, not 240
    pace.sent(160.0)
    assert pace.wait(160.0) == pytest.approx(0.25)


@pytest.mark.parametrize("rate", ["0", -5, "abc"])
def test_a_broadcast_rate_that_is_not_a_positive_number_is_refused(rate):
    with pytest.raises(ValueError):
        BroadcastPace(rate)


# --- the courier ---------------------------------------------------------------------


class FakeSms:
    def __init__(self):
        self.sent = []
        self.tried = 0
        self.error = None

    def send(self, to, text, subject=None, message_id=None):
        self.tried += 1
        if self.error:
            raise self.error
        self.sent.append({"to": to, "text": text, "message_id": message_id})


@pytest.fixture
def store():
    db = mongo_client({"MONGO_URI": f"memory://{uuid.uuid4().hex}"})["kompor_notifications"]
    for collection, models in NotificationsRepository.indexes.items():
        if models:
            db[collection].create_indexes(models)
    return NotificationsRepository(db)


@pytest.fixture
def sms():
    return FakeSms()


def courier_at(store, sms, rate):
    policy = DeliveryPolicy(base_delay=60, max_attempts=3)
    return Courier(store, Postbox({"sms": sms}, policy, BroadcastPace(rate)))


@pytest.fixture
def courier(store, sms):
    return courier_at(store, sms, rate=1000)


def event():
    return {"event_id": str(uuid.uuid4()), "occurred_at": EARLIER, "data": {}}


def sent_to(sms):
    return [message["to"] for message in sms.sent]


def test_a_broadcast_is_stored_once_per_phone_however_often_its_event_comes(store, courier, sms):
    phones = [a_phone() for _ in range(1200)]
    data = make_broadcast(phones + phones[:10])
    assert courier.queue(event(), domain.tell_broadcast(data)) == 1200
    assert courier.queue(event(), domain.tell_broadcast(data)) == 0  # redelivered, or rerun
    counts = domain.broadcast_counts(store.count_broadcast(data["broadcast_id"]))
    assert counts == {"total": 1200, "queued": 1200, "sent": 0, "failed": 0, "opted_out": 0}
    assert sms.sent == []  # the timer sends them


def test_broadcast_messages_go_after_every_other_due_message(store, courier, sms):
    data = make_broadcast([a_phone() for _ in range(5)])
    courier.queue(event(), domain.tell_broadcast(data))
    member = domain.contact_from(make_contact())
    store.save_contact(member, EARLIER)
    waiting = domain.new_notification(event(), domain.Message(member["_id"], "welcome", {}))
    store.add_notification(domain.address(waiting, member))
    assert courier.deliver_due(seconds=0.5) == 6
    assert sent_to(sms)[0] == member["phone"]
    assert set(sent_to(sms)[1:]) == {r["phone"] for r in data["recipients"]}
    counts = domain.broadcast_counts(store.count_broadcast(data["broadcast_id"]))
    assert (counts["sent"], counts["queued"]) == (5, 0)


def test_broadcast_messages_go_no_faster_than_the_rate(store, sms):
    courier = courier_at(store, sms, rate=20)
    courier.queue(event(), domain.tell_broadcast(make_broadcast([a_phone() for _ in range(50)])))
    attempted = courier.deliver_broadcasts(seconds=0.5)
    assert 8 <= attempted <= 11  # 20 a second for half a second, give or take a tick
    assert len(sms.sent) == attempted


def test_a_failed_broadcast_message_ends_the_round_and_waits_for_its_retry(store, courier, sms):
    data = make_broadcast([a_phone() for _ in range(20)])
    courier.queue(event(), domain.tell_broadcast(data))
    sms.error = DeliveryFailed("provider answered 500")
    assert courier.deliver_broadcasts(seconds=0.5) == 1
    assert sms.tried == 1
    counts = domain.broadcast_counts(store.count_broadcast(data["broadcast_id"]))
    assert counts["queued"] == 20 and counts["sent"] == 0
    sms.error = None
    assert courier.deliver_broadcasts(seconds=0.5) == 19  # the failed one waits its backoff
    assert len(sms.sent) == 19


def test_a_phone_that_opted_out_gets_no_broadcast_and_no_welcome_but_its_order_messages(
    store, courier, sms
):
    stopped, listening = a_phone(), a_phone()
    store.save_consent(domain.consent_from(make_consent(stopped)), EARLIER)
    data = make_broadcast([stopped, listening])
    courier.queue(event(), domain.tell_broadcast(data))
    courier.notify(event(), domain.tell_new_contact(make_contact_added(phone=stopped)))
    courier.deliver_due(seconds=0.2)
    assert sent_to(sms) == [listening]
    counts = domain.broadcast_counts(store.count_broadcast(data["broadcast_id"]))
    assert (counts["sent"], counts["opted_out"], counts["queued"]) == (1, 1, 0)

    order = customer_order()
    order["customer"]["phone"] = stopped
    courier.notify(event(), domain.tell_buyer("order_paid", order))
    assert sent_to(sms) == [listening, stopped]


def test_consent_is_checked_when_the_message_is_sent_not_when_it_was_queued(store, courier, sms):
    phone = a_phone()
    data = make_broadcast([phone])
    courier.queue(event(), domain.tell_broadcast(data))
    store.save_consent(domain.consent_from(make_consent(phone)), EARLIER)
    courier.deliver_due(seconds=0.2)
    assert sms.sent == []
    store.save_consent(domain.consent_from(make_consent(phone, opted_out=False)), LATER)
    courier.deliver_due(seconds=0.2)
    assert sms.sent == []  # opted out is for good: this broadcast's message is over
    following = make_broadcast([phone])
    courier.queue(event(), domain.tell_broadcast(following))
    courier.deliver_due(seconds=0.2)
    assert sent_to(sms) == [phone]


def test_the_newest_word_of_a_phone_wins_whatever_order_the_events_arrive_in(store):
    phone = a_phone()
    store.save_consent(domain.consent_from(make_consent(phone, opted_out=False)), LATER)
    store.save_consent(domain.consent_from(make_consent(phone, opted_out=True)), EARLIER)
    assert store.has_opted_out(phone) is False
    assert store.has_opted_out(a_phone()) is False  # never said anything


def test_a_message_to_a_phone_is_sent_by_sms_in_indonesian_under_its_own_key(store, courier, sms):
    data = make_contact_added()
    courier.notify(event(), domain.tell_new_contact(data))
    [message] = sms.sent
    assert message["to"] == data["phone"]
    assert message["text"].startswith("Pak Budi menambahkan nomor Anda ke grup Jamaah Al-Ikhlas")
    assert message["message_id"] == f"{data['group_id']}:contact_welcome:{data['phone']}.sms"
    [stored] = store.db.notifications.find({"recipient_id": data["phone"]})
    assert (stored["status"], stored["language"], stored["delivered_via"]) == ("sent", "id", "sms")
