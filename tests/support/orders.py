"""Builders for orders tests: actors, projected products, placement bodies, and
catalogue events published the way catalogue publishes them."""

import uuid

from nameko.standalone.events import event_dispatcher

from services.common.envelope import isoformat, new_id, utcnow


def make_actor(member_id=None, is_admin=False, **roles):
    """``make_actor(coordinator=["hub-1"])`` → ``{"member_id", "is_admin", "roles"}``."""
    by_hub = {}
    for role, hubs in roles.items():
        for hub_id in hubs:
            by_hub.setdefault(hub_id, []).append(role)
    return {"member_id": member_id or new_id(), "is_admin": is_admin, "roles": by_hub}


def make_product(**overrides):
    """The fields of a product snapshot that orders keeps, as catalogue's events carry
    them (docs/events.md)."""
    return {
        "product_id": new_id(),
        "hub_id": "hub-1",
        "seller_id": "seller-1",
        "name": "Keripik Tempe",
        "category": "food",
        "price": 15000,
        "unit": "pack",
        "status": "approved",
        **overrides,
    }


def make_order(hub_id, products, **overrides):
    """A placement body for one of each product (or ``[(product, quantity)]``)."""
    items = []
    for entry in products:
        product, quantity = entry if isinstance(entry, tuple) else (entry, 1)
        items.append({"product_id": product["product_id"], "quantity": quantity})
    return {
        "hub_id": hub_id,
        "items": items,
        "fulfilment": {"method": "pickup"},
        "payment_method": "cod",
        **overrides,
    }


def new_key():
    return str(uuid.uuid4())


def catalogue_event(event_type, data, occurred_at=None):
    return {
        "event_id": str(uuid.uuid4()),
        "occurred_at": occurred_at or isoformat(utcnow()),
        "data": data,
    }


def without_catalogue(stack):
    """The stack with catalogue stopped: the test plays its part, publishing its events
    by hand (``Catalogue``)."""
    stack.containers.pop("catalogue").kill()  # at once: it has nothing of ours to finish
    return stack


class Catalogue:
    """Stands in for catalogue's events: ``Catalogue(config).approve(product)``."""

    def __init__(self, config):
        self.dispatch = event_dispatcher(config)

    def publish(self, event_type, data, occurred_at=None):
        event = catalogue_event(event_type, data, occurred_at)
        self.dispatch("catalogue", event_type, event)
        return event

    def approve(self, product, occurred_at=None):
        return self.publish("product_approved", {**product, "status": "approved"}, occurred_at)

    def reserve(self, order):
        items = [
            {"product_id": line["product_id"], "quantity": line["quantity"]}
            for line in order["items"]
        ]
        return self.publish("stock_reserved", {"order_id": order["id"], "items": items})

    def fall_short(self, order, reason="Not enough stock."):
        shortages = [
            {"product_id": line["product_id"], "requested": line["quantity"], "available": 0}
            for line in order["items"]
        ]
        return self.publish(
            "stock_reservation_failed",
            {"order_id": order["id"], "reason": reason, "shortages": shortages},
        )
