"""Builders for the events the notifications service consumes (docs/events.md), a
publisher that sends them as their owners would, and probes of what it did."""

import collections
import random
import uuid

from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ClusterRpcProxy

from services.common import config as cfg
from services.common.mongo import database_name, mongo_client
from services.common.phone import normalise_phone
from services.common.signing import SigningProxy
from tests.support.api import KOMPOR_ADMIN_PHONE
from tests.support.events import envelope
from tests.support.waiting import wait_until

RPC_TIMEOUT = 10
ADMIN_E164 = normalise_phone(KOMPOR_ADMIN_PHONE)
LONG_NAME = "Raden Ayu Siti Nurhaliza Kusumawardhani Prawirodirdjo Binti Haji Abdurrahman"


def with_providers(config, request, whatsapp_sink, smtp_sink):
    """The test config plus a WhatsApp sink, an SMTP sink and short provider timeouts;
    a test parametrised with ``settings`` (a dict) overrides keys, one that uses the
    ``broken_provider`` fixture gets it as its WhatsApp provider."""
    callspec = getattr(request.node, "callspec", None)
    overrides = callspec.params.get("settings", {}) if callspec else {}
    whatsapp_url = whatsapp_sink.url
    if "broken_provider" in request.fixturenames:
        whatsapp_url = request.getfixturevalue("broken_provider").url
    return {
        **config,
        "WHATSAPP_API_URL": whatsapp_url,
        "WHATSAPP_API_TOKEN": "wa-token",
        "SMTP_URL": smtp_sink.url,
        "KOMPOR_PROVIDER_TIMEOUT": 1,
        **overrides,
    }


def new_id():
    return uuid.uuid4().hex


def make_contact(**overrides):
    """``member_registered`` / ``member_updated`` data."""
    return {
        "member_id": new_id(),
        "name": "Siti Aminah",
        "phone": "+62812" + "".join(random.choices("0123456789", k=8)),
        "email": None,
        "preferred_channel": "sms",
        "language": "id",
        **overrides,
    }


def make_hub(**overrides):
    return {
        "hub_id": new_id(),
        "name": "Simpul Dau",
        "slug": "simpul-dau",
        "village": "Mulyoagung",
        "district": "Dau",
        "regency": "Malang",
        "province": "Jawa Timur",
        "address": "Jl. Raya Mulyoagung 12",
        **overrides,
    }


def make_membership(hub_id, member_id, **overrides):
    return {
        "membership_id": new_id(),
        "hub_id": hub_id,
        "member_id": member_id,
        "role": "seller",
        "business_name": "Keripik Bu Siti",
        "decided_by": new_id(),
        **overrides,
    }


def make_product(hub_id, seller_id, **overrides):
    return {
        "product_id": new_id(),
        "hub_id": hub_id,
        "seller_id": seller_id,
        "name": "Keripik Tempe Pedas",
        "category": "food",
        "price": 12500,
        "unit": "bungkus",
        "status": "approved",
        **overrides,
    }


def make_line(seller_id, name="Keripik Tempe", quantity=1, unit_price=12500):
    return {
        "product_id": new_id(),
        "seller_id": seller_id,
        "name": name,
        "quantity": quantity,
        "unit_price": unit_price,
        "line_total": quantity * unit_price,
    }


def make_order(hub_id, buyer_id, lines, **overrides):
    """The order summary every order event carries."""
    return {
        "order_id": new_id(),
        "number": "KD-" + "".join(random.choices("0123456789", k=8)),
        "hub_id": hub_id,
        "buyer_id": buyer_id,
        "seller_ids": list(dict.fromkeys(line["seller_id"] for line in lines)),
        "items": lines,
        "total": sum(line["line_total"] for line in lines),
        "fulfilment": {"method": "pickup", "address": None},
        "payment_method": "cod",
        "status": "pending",
        "payment_status": "unpaid",
        **overrides,
    }


def make_training(hub_id, **overrides):
    return {
        "training_id": new_id(),
        "hub_id": hub_id,
        "title": "Foto produk dengan ponsel",
        "topic": "marketing",
        "starts_at": "2026-12-01T03:00:00.000Z",
        "capacity": 20,
        **overrides,
    }


def a_phone():
    """A mobile number no member has, as community stores it (E.164)."""
    return "+62813" + "".join(random.choices("0123456789", k=8))


def make_contact_added(**overrides):
    """``contact_added`` data: a phone new to a group."""
    return {
        "group_id": new_id(),
        "group_name": "Jamaah Al-Ikhlas",
        "hub_id": new_id(),
        "hub_name": "Simpul Dau",
        "phone": a_phone(),
        "name": "Bu Ani",
        "added_by_name": "Pak Budi",
        **overrides,
    }


def make_broadcast(phones, **overrides):
    """``broadcast_requested`` data: ``phones`` are the group's contacts."""
    return {
        "broadcast_id": new_id(),
        "hub_id": new_id(),
        "hub_name": "Simpul Dau",
        "group_id": new_id(),
        "group_name": "Jamaah Al-Ikhlas",
        "products": [
            {"id": new_id(), "code": "K7MA", "name": "Keripik Tempe Pedas", "price": 12500},
            {"id": new_id(), "code": "KP2D", "name": "Kopi Dampit", "price": 40000},
        ],
        "recipients": [{"phone": phone, "name": f"Kontak {n}"} for n, phone in enumerate(phones)],
        **overrides,
    }


def make_consent(phone, opted_out=True, member_id=None):
    """messaging's ``broadcast_consent_changed``: ``BERHENTI`` (or ``MULAI``)."""
    return {"phone": phone, "member_id": member_id, "opted_out": opted_out}


class Events:
    """``events.publish("orders", "order_placed", data)`` → the envelope it sent."""

    def __init__(self, config):
        self.dispatch = event_dispatcher(config)

    def publish(self, source, event_type, data, event_id=None):
        body = envelope(data, event_id)
        self.dispatch(source, event_type, body)
        return body

    def redeliver(self, source, event_type, body):
        self.dispatch(source, event_type, body)

    def member(self, **overrides):
        """A member notifications knows, without a welcome (``member_updated``)."""
        contact = make_contact(**overrides)
        self.publish("community", "member_updated", {**contact, "changed": ["name"]})
        return contact


class Log:
    """What the notifications service knows and did, read the way operators would:
    the delivery log through its RPC, its projections from its own store."""

    def __init__(self, config):
        self.config = config
        self.db = mongo_client(config)[database_name("notifications")]

    def of(self, member_id):
        actor = {"member_id": member_id, "is_admin": False, "roles": {}}
        with ClusterRpcProxy(self.config, timeout=RPC_TIMEOUT) as proxy:
            notifications = SigningProxy(proxy.notifications, cfg.secret_key(self.config))
            return notifications.list_notifications(actor, {"page_size": 100})["items"]

    def broadcast_counts(self, broadcast_id):
        """What the gateway merges into a broadcast: ``{total, queued, sent, …}``."""
        with ClusterRpcProxy(self.config, timeout=RPC_TIMEOUT) as proxy:
            return proxy.notifications.broadcast_counts(broadcast_id)

    def settled(self, *member_ids, timeout=20):
        """Wait until nothing for these members is still queued; returns their logs."""

        def done():
            logs = {member_id: self.of(member_id) for member_id in member_ids}
            queued = [n for log in logs.values() for n in log if n["status"] == "queued"]
            return None if queued else logs

        return wait_until(done, timeout=timeout, interval=0.2, message="deliveries settled")

    def wait_known(self, collection, document_id, **fields):
        wait_until(
            lambda: self.knows(collection, document_id, **fields),
            message=f"notifications to know {collection} {document_id}",
        )

    def knows(self, collection, document_id, **fields):
        document = self.db[collection].find_one({"_id": document_id})
        return document is not None and all(document.get(k) == v for k, v in fields.items())


def received_once(sink, phones, containing=""):
    """``{phone: how many different messages it got}`` among those whose text has
    ``containing``, each counted once per ``Idempotency-Key`` (a message sent again
    after a crash, under its first key, is delivered once by the provider); fails if
    one key came with two different texts."""
    phones = set(phones)
    seen = {}
    for message in list(sink.messages):
        if message["to"] in phones and containing in message["message"]:
            got = (message["to"], message["message"])
            first = seen.setdefault(message["idempotency_key"], got)
            assert first == got, "one key, two different messages"
    counted = collections.Counter(phone for phone, _ in seen.values())
    return {phone: counted[phone] for phone in phones}


def messages_survive_an_sms_outage(events, log, sms_sink, seconds):
    """Members register and an order is placed and confirmed while the SMS provider
    fails for ``seconds``; afterwards every message has arrived, each exactly once."""
    sms_sink.fail_for(seconds)
    members = [make_contact(name=f"Anggota {n}") for n in range(5)]
    for member in members:
        events.publish("community", "member_registered", member)
    buyer, seller = members[0], members[1]
    order = make_order(
        make_hub()["hub_id"], buyer["member_id"], [make_line(seller["member_id"], "Kopi", 3)]
    )
    events.publish("orders", "order_placed", order)
    events.publish("orders", "order_confirmed", {**order, "status": "confirmed"})

    expected = {member["phone"]: 1 for member in members}
    expected[buyer["phone"]] += 1
    expected[seller["phone"]] += 1
    wait_until(
        lambda: all(len(sms_sink.to(phone)) >= n for phone, n in expected.items()),
        timeout=seconds + 20,
        message="every message after the outage",
    )
    logs = log.settled(*(member["member_id"] for member in members))
    assert {phone: len(sms_sink.to(phone)) for phone in expected} == expected
    # nobody else was told anything (the stack's admin may have had its welcome)
    others = {m["to"] for m in sms_sink.messages} - set(expected) - {ADMIN_E164}
    assert not others
    delivered = [n for member_log in logs.values() for n in member_log]
    assert max(n["attempts"] for n in delivered) > 1  # they really were retried
    assert {n["status"] for n in delivered} == {"sent"}
