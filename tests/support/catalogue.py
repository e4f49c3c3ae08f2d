"""Builders for the catalogue: product bodies, actors, order events, and a recorder of
the events a service publishes."""

import itertools
import threading
import uuid

from nameko.events import event_handler
from nameko.standalone.events import event_dispatcher

from services.common.envelope import isoformat, utcnow

CATALOGUE_EVENTS = (
    "product_submitted",
    "product_approved",
    "product_rejected",
    "product_updated",
    "stock_reserved",
    "stock_reservation_failed",
    "stock_released",
    "stock_low",
)

_names = itertools.count(1)


def make_product(hub_id, **overrides):
    """The body of ``POST /api/v1/products``."""
    return {
        "hub_id": hub_id,
        "name": f"Keripik Tempe Pedas {next(_names)}",
        "description": "Buatan UMKM desa dari bahan lokal, tanpa pengawet.",
        "category": "food",
        "price": 15_000,
        "unit": "pack",
        "stock": 40,
        "images": ["https://img.kompordesa.id/keripik.jpg"],
        **overrides,
    }


def make_actor(roles=None, is_admin=False):
    """An actor as ``community.authenticate`` returns it: ``roles={hub_id: [role]}``."""
    return {"member_id": uuid.uuid4().hex, "is_admin": is_admin, "roles": roles or {}}


def seller_of(hub_id):
    return make_actor({hub_id: ["seller"]})


def coordinator_of(hub_id):
    return make_actor({hub_id: ["coordinator"]})


def new_hub_id():
    return uuid.uuid4().hex


def order_event(data):
    return {"event_id": str(uuid.uuid4()), "occurred_at": isoformat(utcnow()), "data": data}


def order_placed(hub_id, items, order_id=None):
    """An ``order_placed`` envelope; ``items``: ``[(product_id, quantity), …]``."""
    order_id = order_id or uuid.uuid4().hex
    return order_event(
        {
            "order_id": order_id,
            "number": f"KD-{order_id[:6]}",
            "hub_id": hub_id,
            "buyer_id": uuid.uuid4().hex,
            "seller_ids": [],
            "items": [
                {
                    "product_id": product_id,
                    "seller_id": "s",
                    "name": "x",
                    "quantity": quantity,
                    "unit_price": 1000,
                    "line_total": 1000 * quantity,
                }
                for product_id, quantity in items
            ],
            "status": "pending",
        }
    )


def order_cancelled(order_id):
    return order_event({"order_id": order_id, "cancelled_by": "buyer", "status": "cancelled"})


def publisher(config):
    """``publish("order_placed", envelope)`` as the orders service would."""
    dispatch = event_dispatcher(config)
    return lambda event_type, body: dispatch("orders", event_type, body)


class Recorded:
    def __init__(self):
        self.events = []
        self._lock = threading.Lock()

    def add(self, event_type, body):
        with self._lock:
            self.events.append((event_type, body))

    def of(self, event_type):
        with self._lock:
            return [body["data"] for kind, body in self.events if kind == event_type]

    def about(self, event_type, **match):
        return [
            data
            for data in self.of(event_type)
            if all(data.get(key) == value for key, value in match.items())
        ]


def event_recorder(source="catalogue", types=CATALOGUE_EVENTS):
    """A nameko service class that records ``source``'s events, and what it saw."""
    seen = Recorded()
    attrs = {"name": f"recorder_{uuid.uuid4().hex[:8]}"}
    for event_type in types:

        def handle(self, body, _type=event_type):
            seen.add(_type, body)

        attrs[f"on_{event_type}"] = event_handler(source, event_type)(handle)
    return type("EventRecorder", (), attrs), seen
