"""Running ``PESAN`` as the member who sent it, with the other services' proxies
stood in for: the order placed for a customer after ``UNTUK``, and a plain order
attributed to the broadcast it answers, or placed without attribution when community
cannot say which."""

import logging

import pytest
from nameko.exceptions import MethodNotFound

from services.common.errors import Forbidden, ServiceUnavailable, ValidationError
from services.messaging import domain, parser
from services.messaging.commands import Commands, Sender

PHONE = "+6281200000001"
CUSTOMER = "+6281234567890"
ACTOR = {"member_id": "m1", "is_admin": False, "roles": {"h1": ["buyer"]}}
PRODUCT = {"id": "p1", "code": "K7MA", "hub_id": "h1", "name": "Keripik", "price": 12_500}
ORDER = {"id": "o1", "number": "KD-000007", "total": 25_000}


class Community:
    """community's proxy: ``broadcast_for_reply`` answers ``attribution`` (raised when
    it is an exception)."""

    def __init__(self, attribution=None):
        self.attribution = attribution
        self.asked = []

    def get_hub(self, hub_id):
        return {"id": hub_id, "name": "Simpul Pujon"}

    def broadcast_for_reply(self, phone, product_ids):
        self.asked.append((phone, product_ids))
        if isinstance(self.attribution, Exception):
            raise self.attribution
        return self.attribution


class Orders:
    """orders' proxy as the member: records each ``place_order``; raises ``refusal``."""

    def __init__(self, refusal=None):
        self.refusal = refusal
        self.placed = []

    def place_order(self, actor, idempotency_key, payload, **options):
        self.placed.append({"actor": actor, "key": idempotency_key, "payload": payload, **options})
        if self.refusal is not None:
            raise self.refusal
        return ORDER


class Catalogue:
    def get_product_by_code(self, actor, code):
        return PRODUCT


class Acting:
    def __init__(self, remote, actor):
        self.orders = _As(remote.orders, actor)
        self.catalogue = _As(remote.catalogue, actor)


class _As:
    def __init__(self, proxy, actor):
        self.proxy = proxy
        self.actor = actor

    def __getattr__(self, name):
        method = getattr(self.proxy, name)
        return lambda *args, **kwargs: method(self.actor, *args, **kwargs)


class Remote:
    def __init__(self, community, orders):
        self.community = community
        self.orders = orders
        self.catalogue = Catalogue()

    def acting_as(self, actor):
        return Acting(self, actor)


def run(text, community=None, orders=None):
    """``(reply, community, orders)`` once ``text`` from ``PHONE`` has run."""
    community = community or Community()
    orders = orders or Orders()
    message = {"_id": "m", "key": "sms:SM1", "channel": "sms", "phone": PHONE, "text": text}
    sender = Sender({"member": {"id": "m1", "name": "Siti", "language": "id"}, "actor": ACTOR})
    reply = Commands(Remote(community, orders), store=None).run(message, parser.parse(text), sender)
    return reply, community, orders


ORDERED = ("ordered", {"number": "KD-000007", "total": 25_000, "hub": "Simpul Pujon"})


def test_a_plain_order_answering_a_broadcast_is_attributed_to_it():
    reply, community, orders = run("PESAN K7MA 2", Community(attribution="b1"))
    assert reply == ORDERED
    assert community.asked == [(PHONE, ["p1"])]
    [placed] = orders.placed
    assert placed["broadcast_id"] == "b1" and placed["channel"] == "sms"
    assert placed["key"] == "sms:SM1" and placed["actor"] == ACTOR
    assert placed["payload"] == domain.order_payload("h1", [{"product_id": "p1", "quantity": 2}])


def test_a_plain_order_answering_no_broadcast_is_placed_without_one():
    reply, community, orders = run("PESAN K7MA 2", Community(attribution=None))
    assert reply == ORDERED and community.asked == [(PHONE, ["p1"])]
    assert "broadcast_id" not in orders.placed[0]


@pytest.mark.parametrize(
    "failure",
    [
        ServiceUnavailable("The community service is not answering; try again shortly."),
        MethodNotFound("broadcast_for_reply"),  # a community without it
        RuntimeError("a defect in community"),
    ],
)
def test_an_order_is_placed_without_attribution_when_community_cannot_say(failure, caplog):
    with caplog.at_level(logging.WARNING, logger="services.messaging.commands"):
        reply, _, orders = run("PESAN K7MA 2", Community(attribution=failure))
    assert reply == ORDERED
    [placed] = orders.placed
    assert "broadcast_id" not in placed
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "not attributed" in warning.getMessage() and PHONE not in warning.getMessage()


def test_an_order_for_a_customer_names_their_phone_and_asks_for_no_attribution():
    reply, community, orders = run("PESAN K7MA 2 UNTUK 0812-3456-7890")
    assert reply == (
        "ordered_for",
        {"number": "KD-000007", "total": 25_000, "phone": CUSTOMER, "hub": "Simpul Pujon"},
    )
    assert community.asked == []
    [placed] = orders.placed
    assert placed["payload"]["customer"] == {"phone": CUSTOMER}
    assert placed["channel"] == "sms" and "broadcast_id" not in placed


@pytest.mark.parametrize(
    "refusal",
    [
        Forbidden("Only the hub's agents order for a customer.", {"customer": ["Not an agent."]}),
        ValidationError("Invalid request: check customer.", {"customer": ["Unknown field."]}),
    ],
)
def test_a_member_who_is_no_agent_of_the_hub_is_told_only_agents_order_for_others(refusal):
    reply, _, _ = run("order K7MA 2 for 0812-3456-7890", orders=Orders(refusal))
    assert reply == ("agents_only", {"code": "K7MA", "hub": "Simpul Pujon"})


def test_an_order_for_a_customer_is_retried_when_orders_does_not_answer():
    with pytest.raises(ServiceUnavailable):
        run("PESAN K7MA 2 UNTUK 0812-3456-7890", orders=Orders(ServiceUnavailable("down")))


def test_a_bad_customer_phone_gets_the_form_and_places_nothing():
    reply, community, orders = run("PESAN K7MA 2 UNTUK 0341 123456")
    assert reply == ("usage_pesan_untuk", {})
    assert orders.placed == [] and community.asked == []
