"""Catalogue rules: who may do what with a product, curation, stock and the states of
a stock reservation for an order. No nameko, no pymongo.

A product is ``pending_review`` when submitted and after a *material* edit (name,
description, category, images); the coordinator of its hub approves it (it appears in
the showroom) or rejects it with a reason. A price-only (or unit-only) change keeps
the approval and is announced with ``product_updated``.

A reservation is the catalogue's half of the order saga, one document per order:
``reserving`` → ``reserved`` or ``failed``; ``reserved`` → ``released`` when the order
is cancelled, or → ``settled`` when it is completed. A cancel that
arrives before its order leaves a ``cancelled`` tombstone, so the late order reserves
nothing. An order announced again after the decision hears the same decision again
(``answer_again``): its first answer may have been lost.
"""

from services.catalogue.exceptions import (
    NotASeller,
    NotEnoughStock,
    NotTheCoordinator,
    NotYourProduct,
    ProductNotFound,
)
from services.common.envelope import new_id, record, utcnow
from services.common.errors import ValidationError

CATEGORIES = (
    "food",
    "beverage",
    "craft",
    "fashion",
    "agriculture",
    "beauty",
    "household",
    "other",
)
PENDING_REVIEW, APPROVED, REJECTED = "pending_review", "approved", "rejected"
PRODUCT_STATUSES = (PENDING_REVIEW, APPROVED, REJECTED)
MATERIAL_FIELDS = ("name", "description", "category", "images")
EDITABLE_FIELDS = (*MATERIAL_FIELDS, "price", "unit")
SELLER, COORDINATOR = "seller", "coordinator"

SHELF_FIELDS = ("_id", "hub_id", "seller_id", "name", "category", "price", "unit", "stock")
SHELF_FIELDS += ("images", "created_at")
"""What a showroom list holds of each product (its compact form, plus what it sorts on)."""

MAX_PRICE = 1_000_000_000  # rupiah; anything above is a typo
MAX_STOCK = 1_000_000
LOW_STOCK_THRESHOLD = 5

RESERVING, RESERVED, FAILED = "reserving", "reserved", "failed"
RELEASED, SETTLED, CANCELLED = "released", "settled", "cancelled"
INSUFFICIENT_STOCK = "insufficient_stock"
INVALID_ITEMS = "invalid_items"


# --- who is acting --------------------------------------------------------------


def roles_in(actor, hub_id):
    if not actor:
        return ()
    return (actor.get("roles") or {}).get(hub_id) or ()


def is_seller_of(actor, hub_id):
    return SELLER in roles_in(actor, hub_id)


def is_coordinator_of(actor, hub_id):
    """Coordinators of ``hub_id`` and admins run a hub (as in community)."""
    return bool((actor or {}).get("is_admin")) or COORDINATOR in roles_in(actor, hub_id)


def member_id(actor):
    return (actor or {}).get("member_id")


# --- products -------------------------------------------------------------------


def snapshot(product):
    """What other services learn of a product (the events' *product snapshot*)."""
    return {
        "product_id": product["_id"],
        "hub_id": product["hub_id"],
        "seller_id": product["seller_id"],
        "name": product["name"],
        "category": product["category"],
        "price": product["price"],
        "unit": product["unit"],
        "status": product["status"],
    }


def new_product(actor, fields, now=None):
    """A product submitted by an approved seller of ``fields["hub_id"]``."""
    hub_id = fields["hub_id"]
    if not is_seller_of(actor, hub_id):
        raise NotASeller(
            "Only approved sellers of this hub can add products; apply with "
            f"POST /api/v1/hubs/{hub_id}/memberships.",
            {"hub_id": ["You are not an approved seller of this hub."]},
        )
    now = now or utcnow()
    product = {
        "_id": new_id(),
        "hub_id": hub_id,
        "seller_id": member_id(actor),
        "name": fields["name"],
        "description": fields["description"],
        "category": fields["category"],
        "price": fields["price"],
        "unit": fields["unit"],
        "stock": fields["stock"],
        "images": list(fields.get("images") or []),
        "status": PENDING_REVIEW,
        "rejection_reason": None,
        "reviewed_by": None,
        "reviewed_at": None,
        "created_at": now,
        "updated_at": now,
        "holds": [],
    }
    record(product, "product_submitted", snapshot(product))
    return product


def can_see(product, actor):
    """Approved products are public; the others only for their seller and curators."""
    return (
        product["status"] == APPROVED
        or product["seller_id"] == member_id(actor)
        or is_coordinator_of(actor, product["hub_id"])
    )


def visible(product, actor):
    if product is None or not can_see(product, actor):
        raise ProductNotFound("No such product.", {"product_id": ["Unknown product."]})
    return product


def check_own(product, actor):
    """The product's seller, still a seller of its hub."""
    if product["seller_id"] != member_id(actor) or not is_seller_of(actor, product["hub_id"]):
        raise NotYourProduct(
            "Only the seller who added this product can change it.",
            {"product_id": ["Not your product."]},
        )


def edit(product, actor, changes, now=None):
    """Apply a seller's ``changes``; a material change sends the product back to
    review. Emits ``product_updated`` only when something changed."""
    check_own(product, actor)
    changed = {
        key: value
        for key, value in changes.items()
        if key in EDITABLE_FIELDS and product.get(key) != value
    }
    if not changed:
        return product
    old_price = product["price"]
    product.update(changed)
    product["updated_at"] = now or utcnow()
    if any(key in MATERIAL_FIELDS for key in changed):
        product.update(status=PENDING_REVIEW, rejection_reason=None)
    data = {**snapshot(product), "changed": sorted(changed)}
    if "price" in changed:
        data.update(old_price=old_price, new_price=product["price"])
    record(product, "product_updated", data)
    return product


def check_curator(product, actor):
    if not is_coordinator_of(actor, product["hub_id"]):
        raise NotTheCoordinator(
            "Only a coordinator of this product's hub (or an admin) can approve or reject it.",
            {"product_id": ["Not a product of a hub you coordinate."]},
        )


def approve(product, actor, now=None):
    """Put the product on the showroom shelf; approving it again changes nothing."""
    check_curator(product, actor)
    if product["status"] == APPROVED:
        return product
    _decide(product, actor, APPROVED, None, now)
    record(product, "product_approved", snapshot(product))
    return product


def reject(product, actor, reason, now=None):
    """Keep (or take) the product off the shelf, telling the seller why."""
    check_curator(product, actor)
    if product["status"] == REJECTED:
        return product
    _decide(product, actor, REJECTED, reason, now)
    record(product, "product_rejected", {**snapshot(product), "reason": reason})
    return product


def _decide(product, actor, status, reason, now):
    now = now or utcnow()
    product.update(
        status=status,
        rejection_reason=reason,
        reviewed_by=member_id(actor),
        reviewed_at=now,
        updated_at=now,
    )


def restocked(product, actor, delta):
    """The stock after the seller adds ``delta`` (negative to correct it down)."""
    check_own(product, actor)
    stock = product["stock"] + delta
    if stock < 0:
        raise NotEnoughStock(
            f"Only {product['stock']} in stock; stock cannot go below zero.",
            {"delta": [f"Send {-product['stock']} or more."]},
        )
    if stock > MAX_STOCK:
        raise ValidationError(
            f"Stock cannot exceed {MAX_STOCK}.",
            {"delta": [f"Send at most {MAX_STOCK - product['stock']}."]},
        )
    return stock


def crossed_low(before, after, threshold=LOW_STOCK_THRESHOLD):
    """Stock fell to the threshold just now (not: it was already low)."""
    return before > threshold >= after


def stock_low(product, stock, threshold=LOW_STOCK_THRESHOLD):
    return {
        "product_id": product["_id"],
        "hub_id": product["hub_id"],
        "seller_id": product["seller_id"],
        "name": product["name"],
        "stock": stock,
        "threshold": threshold,
    }


def set_stock(product, stock):
    """Record the seller's stock change (``stock_low`` if it fell to the threshold)."""
    before = product["stock"]
    product["stock"] = stock
    product["updated_at"] = utcnow()
    if crossed_low(before, stock):
        record(product, "stock_low", stock_low(product, stock))
    return product


# --- reservations ---------------------------------------------------------------


def order_lines(data):
    """``[{product_id, quantity}]`` of an ``order_placed`` event, one line per product
    (quantities of a repeated product added up); ``None`` if they make no sense."""
    lines = {}
    items = data.get("items")
    if not isinstance(items, list) or not items:
        return None
    for item in items:
        product_id = item.get("product_id") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if (
            not isinstance(product_id, str)
            or not isinstance(quantity, int)
            or isinstance(quantity, bool)
            or quantity < 1
        ):
            return None
        lines[product_id] = lines.get(product_id, 0) + quantity
    return [{"product_id": pid, "quantity": quantity} for pid, quantity in lines.items()]


def new_reservation(order_id, hub_id, lines, now=None):
    now = now or utcnow()
    return {
        "_id": order_id,
        "hub_id": hub_id,
        "state": RESERVING,
        "items": lines or [],
        "reason": None,
        "shortages": [],
        "created_at": now,
        "updated_at": now,
    }


def tombstone(order_id, now=None):
    """The order was cancelled before it was seen: it must never reserve stock."""
    now = now or utcnow()
    return {
        "_id": order_id,
        "hub_id": None,
        "state": CANCELLED,
        "items": [],
        "reason": None,
        "shortages": [],
        "created_at": now,
        "updated_at": now,
    }


def confirm(reservation, low=()):
    """Every line was taken. ``low``: ``stock_low`` data of products that fell to the
    threshold while taking them."""
    reservation.update(state=RESERVED, updated_at=utcnow())
    record(reservation, "stock_reserved", _reserved(reservation))
    for data in low:
        record(reservation, "stock_low", data)
    return reservation


def fail(reservation, shortages, reason=INSUFFICIENT_STOCK):
    reservation.update(state=FAILED, reason=reason, shortages=shortages, updated_at=utcnow())
    record(reservation, "stock_reservation_failed", _failed(reservation))
    return reservation


def answer_again(reservation):
    """The order was announced again after it was decided: orders has not heard (the
    answer was lost, or crossed the announcement), so the decision is recorded again,
    with the same data. ``None`` once the order was cancelled or completed: nobody is
    waiting for an answer then, and taking or returning stock is never repeated."""
    if reservation["state"] == RESERVED:
        record(reservation, "stock_reserved", _reserved(reservation))
    elif reservation["state"] == FAILED:
        record(reservation, "stock_reservation_failed", _failed(reservation))
    else:
        return None
    return reservation


def _reserved(reservation):
    return {"order_id": reservation["_id"], "items": reservation["items"]}


def _failed(reservation):
    return {
        "order_id": reservation["_id"],
        "reason": reservation["reason"],
        "shortages": reservation["shortages"],
    }


def shortage(line, available):
    return {
        "product_id": line["product_id"],
        "requested": line["quantity"],
        "available": max(int(available or 0), 0),
    }


def release(reservation):
    reservation.update(state=RELEASED, updated_at=utcnow())
    record(
        reservation,
        "stock_released",
        {"order_id": reservation["_id"], "items": reservation["items"]},
    )
    return reservation


def check_can_list(actor, query):
    """The showroom shows approved products to anyone; products under review or
    rejected are listed for a coordinator of the hub, or for their own seller."""
    if query["status"] == APPROVED:
        return
    if query.get("hub_id") and is_coordinator_of(actor, query["hub_id"]):
        return
    if query.get("seller_id") and query["seller_id"] == member_id(actor):
        return
    raise NotTheCoordinator(
        "Only approved products are public; to list others send hub_id of a hub you "
        "coordinate, or your own seller_id.",
        {"status": [f"Send {APPROVED}, or hub_id of a hub you coordinate."]},
    )
