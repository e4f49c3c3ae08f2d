"""Builders for the catalogue: product bodies, actors, order event data."""

import itertools
import uuid

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


def key_header():
    """A fresh ``Idempotency-Key`` header (required to create a product or change stock)."""
    return {"Idempotency-Key": str(uuid.uuid4())}


def make_actor(roles=None, is_admin=False):
    """An actor as ``community.authenticate`` returns it: ``roles={hub_id: [role]}``."""
    return {"member_id": uuid.uuid4().hex, "is_admin": is_admin, "roles": roles or {}}


def seller_of(hub_id):
    return make_actor({hub_id: ["seller"]})


def coordinator_of(hub_id):
    return make_actor({hub_id: ["coordinator"]})


def new_hub_id():
    return uuid.uuid4().hex


def order_placed(hub_id, items, order_id=None):
    """``order_placed`` data; ``items``: ``[(product_id, quantity), …]``."""
    order_id = order_id or uuid.uuid4().hex
    return {
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


def order_cancelled(order_id):
    return {"order_id": order_id, "cancelled_by": "buyer", "status": "cancelled"}


def order_completed(order_id):
    return {"order_id": order_id, "from_status": "ready_for_pickup", "to_status": "completed"}
