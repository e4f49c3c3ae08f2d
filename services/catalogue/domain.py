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

While a seller's membership of a hub is suspended their products there carry
``seller_suspended``: they leave the showroom, only their seller and the hub's curators
find them, and an order for them is rejected (``product_unavailable``). Approving the
membership again puts them back as they were.
"""

import datetime
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from services.catalogue.contract import (
    APPROVED,
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_LETTERS,
    EDITABLE_FIELDS,
    MATERIAL_FIELDS,
    MAX_CODE_LENGTH,
    MAX_STOCK,
    PENDING_REVIEW,
    PRODUCT_APPROVED,
    PRODUCT_REJECTED,
    PRODUCT_SUBMITTED,
    PRODUCT_UPDATED,
    REJECTED,
    STOCK_CHANGED,
    STOCK_LOW,
    STOCK_RELEASED,
    STOCK_RESERVATION_FAILED,
    STOCK_RESERVED,
    STOCK_SOLD,
    CounterDecision,
    ProductSnapshot,
    ReservedLine,
    Shortage,
    StockChanged,
    StockLevel,
    StockLow,
    StockReservationFailed,
    StockReserved,
)
from services.catalogue.exceptions import (
    NotASeller,
    NotEnoughStock,
    NotTheCoordinator,
    NotYourProduct,
    ProductNotFound,
    ProductOfAnotherHub,
)
from services.common.actor import SELLER, Actor, is_coordinator, is_seller, member_id
from services.common.envelope import isoformat, new_id, payload, record, utcnow
from services.common.errors import ValidationError
from services.common.types import Document

SHELF_FIELDS: tuple[str, ...] = (
    "_id",
    "code",
    "hub_id",
    "seller_id",
    "name",
    "category",
    "price",
    "unit",
    "stock",
)
SHELF_FIELDS += ("images", "created_at")
"""What a showroom list holds of each product (its compact form, plus what it sorts on)."""

LOW_STOCK_THRESHOLD = 5
RECENT_STOCK_CHANGES = 50
"""How many stock changes a product remembers by key (retries come within minutes;
the service's idempotency records cover a day)."""
PRODUCT_IDS = uuid.UUID("6f1d8c2e-3b4a-5e7f-9a0b-1c2d3e4f5a6b")
"""The namespace of products' ids derived from an idempotency key."""

RESERVING, RESERVED, FAILED = "reserving", "reserved", "failed"
RELEASED, SETTLED, CANCELLED = "released", "settled", "cancelled"
REFUSED = "refused"
"""A counter sale that could not take its stock (a sold one is ``settled`` at once)."""
INTAKE_IDS = uuid.UUID("0d6f3c1a-8e2b-4f5c-9a7d-3b1e5c9f2a40")
"""The namespace of intakes' ids derived from an idempotency key."""
INSUFFICIENT_STOCK = "insufficient_stock"
INVALID_ITEMS = "invalid_items"
PRODUCT_UNAVAILABLE = "product_unavailable"
SELLER_SUSPENDED = "seller_suspended"
"""The product's flag while its seller's membership of its hub is suspended."""
STOCK_VERSION = "stock_version"
"""Counts the changes of a product's stock (by its seller and by orders), so that
whoever copies the stock from events keeps the newest (``stock_changed``, ``levels``)."""
ON_SHOW = "on_show"


# --- product codes --------------------------------------------------------------

CODE_TRIES_PER_LENGTH = 10
CODE_TRIES = CODE_TRIES_PER_LENGTH * (MAX_CODE_LENGTH - CODE_LENGTH + 1)
"""How many codes a new product tries before giving up: 10 of 4 characters, then 10
of 5, then 10 of 6 (each clash with a stored code is one try)."""
CODE_SHAPE = re.compile(
    f"[{CODE_LETTERS}][{CODE_ALPHABET}]{{{CODE_LENGTH - 2},{MAX_CODE_LENGTH - 2}}}[{CODE_LETTERS}]"
)


def code_length(attempt: int) -> int:
    """The length of the ``attempt``-th try (from 0): 4, after 10 clashes 5, then 6."""
    return min(CODE_LENGTH + attempt // CODE_TRIES_PER_LENGTH, MAX_CODE_LENGTH)


def new_code(attempt: int = 0, pick: Callable[[str], str] = secrets.choice) -> str:
    """A random product code: letters first and last, any of ``CODE_ALPHABET`` between.
    Uniqueness is the store's (a unique index); on a clash ask again with the next
    ``attempt``."""
    middle = "".join(pick(CODE_ALPHABET) for _ in range(code_length(attempt) - 2))
    return pick(CODE_LETTERS) + middle + pick(CODE_LETTERS)


def normalise_code(value: object) -> str | None:
    """The code ``value`` names, in upper case (``" k7ma "`` → ``"K7MA"``); ``None``
    when it cannot be a code at all."""
    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if CODE_SHAPE.fullmatch(code) else None


def coded(product: Document, code: str) -> Document:
    """Give a product stored before codes existed its ``code``, and tell the others
    (``product_updated``, ``changed: ["code"]``) so their copies of it learn it."""
    product["code"] = code
    record(product, PRODUCT_UPDATED, {**snapshot(product), "changed": ["code"]})
    return product


# --- products -------------------------------------------------------------------


def snapshot(product: Document) -> ProductSnapshot:
    """What other services learn of a product (the events' *product snapshot*), as the
    write that records it leaves it: that write gives the product its next ``version``
    (an insert version 1; ``Repository.save`` and the other writes that record one
    require the version they read)."""
    reviewed_at = product.get("reviewed_at")
    return payload(
        ProductSnapshot,
        product,
        product_id=product["_id"],
        version=(product.get("version") or 0) + 1,
        on_show=on_show(product),
        stock_version=product.get(STOCK_VERSION) or 0,
        acted_by=product.get("acted_by"),
        reviewed_at=isoformat(reviewed_at) if reviewed_at else None,
        created_at=isoformat(product["created_at"]),
        updated_at=isoformat(product["updated_at"]),
    )


# --- the coordinator acting for a seller ------------------------------------------
#
# ``standing`` is what catalogue has heard of the seller's membership of the hub
# (``repository.seller_standing``): ``True`` approved, ``False`` suspended, ``None``
# never approved (an applicant, a buyer, someone of another hub, a stranger).


def acts_for(actor: Actor, seller_id: object) -> bool:
    """``on_behalf_of`` names someone other than the caller."""
    return seller_id is not None and seller_id != member_id(actor)


def check_can_act_for(
    actor: Actor, hub_id: str, standing: bool | None, field: str = "on_behalf_of"
) -> None:
    """The hub's coordinator (or an admin), for an approved seller of the hub who is not
    suspended; ``Forbidden`` naming ``field`` otherwise."""
    if not is_coordinator(actor, hub_id):
        raise NotTheCoordinator(
            "Only the hub's coordinator (or an admin) acts for a seller of the hub.",
            {field: ["You are not a coordinator of this hub; act for yourself only."]},
        )
    if standing is not True:
        why = (
            "Their seller membership of this hub is suspended."
            if standing is False
            else "They are not an approved seller of this hub."
        )
        raise NotASeller(
            f"You cannot act for this member: {why}",
            {field: [f"{why} Send the member id of an approved seller of this hub."]},
        )


def submitter(
    actor: Actor, fields: Mapping[str, Any], standing: bool | None = None
) -> tuple[str, str | None]:
    """``(seller_id, acted_by)`` of a new product: the caller, an approved seller of
    the hub; or the seller named in ``on_behalf_of``, with the coordinator as
    ``acted_by``."""
    hub_id, seller_id = fields["hub_id"], fields.get("on_behalf_of")
    if isinstance(seller_id, str) and acts_for(actor, seller_id):
        check_can_act_for(actor, hub_id, standing)
        return seller_id, actor["member_id"]
    if not is_seller(actor, hub_id):
        raise NotASeller(
            "Only approved sellers of this hub can add products; apply with "
            f"POST /api/v1/hubs/{hub_id}/memberships.",
            {"hub_id": ["You are not an approved seller of this hub."]},
        )
    return actor["member_id"], None


def new_product(
    actor: Actor,
    fields: Mapping[str, Any],
    now: datetime.datetime | None = None,
    product_id: str | None = None,
    code: str | None = None,
    standing: bool | None = None,
) -> Document:
    """A product submitted by an approved seller of ``fields["hub_id"]`` (or for them
    by the hub's coordinator, see ``submitter``), under ``product_id`` when given (see
    ``product_id_for``) and with ``code`` (a new one when not given)."""
    hub_id = fields["hub_id"]
    seller_id, acted_by = submitter(actor, fields, standing)
    now = now or utcnow()
    product = {
        "_id": product_id or new_id(),
        "code": code or new_code(),
        "hub_id": hub_id,
        "seller_id": seller_id,
        "acted_by": acted_by,
        "name": fields["name"],
        "description": fields["description"],
        "category": fields["category"],
        "price": fields["price"],
        "unit": fields["unit"],
        "stock": fields["stock"],
        STOCK_VERSION: 0,
        "images": list(fields.get("images") or []),
        "status": PENDING_REVIEW,
        "rejection_reason": None,
        "reviewed_by": None,
        "reviewed_at": None,
        "created_at": now,
        "updated_at": now,
        "holds": [],
    }
    record(product, PRODUCT_SUBMITTED, snapshot(product))
    return product


def product_id_for(actor: Actor, idempotency_key: str) -> str:
    """The id of the product a seller submits under an ``Idempotency-Key``: the same
    for every retry, so the store keeps one product however many tries get through."""
    return uuid.uuid5(PRODUCT_IDS, f"{member_id(actor)}:{idempotency_key}").hex


def stock_change_key(actor: Actor, idempotency_key: str) -> str:
    """What a stock change records on the product so that it is applied once: the key
    of the member who sent it (keys are per member)."""
    return f"{member_id(actor)}:{idempotency_key}"


def can_see(product: Document, actor: Actor | None) -> bool:
    """Approved products are public (unless their seller is suspended); the others
    only for their seller and curators."""
    return (
        on_show(product)
        or product["seller_id"] == member_id(actor)
        or is_coordinator(actor, product["hub_id"])
    )


def on_show(product: Document) -> bool:
    """In the showroom: approved, and its seller not suspended."""
    return product["status"] == APPROVED and not product.get(SELLER_SUSPENDED)


def visible(product: Document | None, actor: Actor | None, field: str = "product_id") -> Document:
    """The product, if ``actor`` may see it; ``ProductNotFound`` naming ``field`` (what
    the caller looked it up by) otherwise."""
    if product is None or not can_see(product, actor):
        raise ProductNotFound("No such product.", {field: ["Unknown product."]})
    return product


def check_own(product: Document, actor: Actor) -> None:
    """The product's seller, still a seller of its hub."""
    if product["seller_id"] != member_id(actor) or not is_seller(actor, product["hub_id"]):
        raise NotYourProduct(
            "Only the seller who added this product can change it.",
            {"product_id": ["Not your product."]},
        )


def edit(
    product: Document,
    actor: Actor,
    changes: Mapping[str, Any],
    now: datetime.datetime | None = None,
) -> Document:
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
    record(product, PRODUCT_UPDATED, data)
    return product


def check_curator(product: Document, actor: Actor) -> None:
    if not is_coordinator(actor, product["hub_id"]):
        raise NotTheCoordinator(
            "Only a coordinator of this product's hub (or an admin) can approve or reject it.",
            {"product_id": ["Not a product of a hub you coordinate."]},
        )


def check_can_approve(product: Document, actor: Actor) -> None:
    """A curator of the hub, and not the product's own seller: someone else approves."""
    check_curator(product, actor)
    if product["seller_id"] == member_id(actor):
        raise NotTheCoordinator(
            "You cannot approve your own product; another coordinator of this hub or an "
            "admin approves it.",
            {"product_id": ["Your own product."]},
        )


def approve(product: Document, actor: Actor, now: datetime.datetime | None = None) -> Document:
    """Put the product on the showroom shelf; approving it again changes nothing."""
    check_can_approve(product, actor)
    if product["status"] == APPROVED:
        return product
    _decide(product, actor, APPROVED, None, now)
    record(product, PRODUCT_APPROVED, snapshot(product))
    return product


def reject(
    product: Document, actor: Actor, reason: str, now: datetime.datetime | None = None
) -> Document:
    """Keep (or take) the product off the shelf, telling the seller why."""
    check_curator(product, actor)
    if product["status"] == REJECTED:
        return product
    _decide(product, actor, REJECTED, reason, now)
    record(product, PRODUCT_REJECTED, {**snapshot(product), "reason": reason})
    return product


def _decide(
    product: Document,
    actor: Actor,
    status: str,
    reason: str | None,
    now: datetime.datetime | None,
) -> None:
    now = now or utcnow()
    product.update(
        status=status,
        rejection_reason=reason,
        reviewed_by=member_id(actor),
        reviewed_at=now,
        updated_at=now,
    )


def stock_changer(product: Document, actor: Actor, standing: bool | None = None) -> str | None:
    """Who may change a product's stock: its seller (``None``: nobody acted for them),
    or the coordinator of its hub for a seller in good standing (their id)."""
    if product["seller_id"] == member_id(actor) or not is_coordinator(actor, product["hub_id"]):
        check_own(product, actor)
        return None
    if product.get(SELLER_SUSPENDED):
        standing = False
    check_can_act_for(actor, product["hub_id"], standing, field="product_id")
    return member_id(actor)


def restock(product: Document, actor: Actor, delta: int, standing: bool | None = None) -> Document:
    """Its seller, or the hub's coordinator for them (see ``stock_changer``), adds
    ``delta``: ``stock_changed``, and ``stock_low`` if it fell to the threshold."""
    acted_by = stock_changer(product, actor, standing)
    set_stock(product, restocked(product, delta))
    record(product, STOCK_CHANGED, stock_changed(product, delta, acted_by))
    return product


def stock_changed(product: Document, delta: int, acted_by: str | None) -> StockChanged:
    return payload(
        StockChanged,
        product,
        product_id=product["_id"],
        delta=delta,
        acted_by=acted_by,
        updated_at=isoformat(product["updated_at"]),
    )


def stock_level(product: Document) -> StockLevel:
    """The product's stock as a write that moved it left it (with its ``stock_version``)."""
    return {
        "product_id": product["_id"],
        "stock": product["stock"],
        "stock_version": product.get(STOCK_VERSION) or 0,
    }


def restocked(product: Document, delta: int) -> int:
    """The stock after adding ``delta`` (negative to correct it down)."""
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


def crossed_low(before: int, after: int, threshold: int = LOW_STOCK_THRESHOLD) -> bool:
    """Stock fell to the threshold just now (not: it was already low)."""
    return before > threshold >= after


def stock_low(product: Document, stock: int, threshold: int = LOW_STOCK_THRESHOLD) -> StockLow:
    return {
        "product_id": product["_id"],
        "hub_id": product["hub_id"],
        "seller_id": product["seller_id"],
        "name": product["name"],
        "stock": stock,
        "threshold": threshold,
    }


def set_stock(product: Document, stock: int) -> Document:
    """Record the seller's stock change (``stock_low`` if it fell to the threshold)."""
    before = product["stock"]
    product["stock"] = stock
    product[STOCK_VERSION] = (product.get(STOCK_VERSION) or 0) + 1
    product["updated_at"] = utcnow()
    if crossed_low(before, stock):
        record(product, STOCK_LOW, stock_low(product, stock))
    return product


def set_seller_suspended(product: Document, suspended: bool) -> Document:
    """Flag (or unflag) a product of a seller whose membership was suspended (or
    reinstated); when that takes it out of the showroom or puts it back,
    ``product_updated`` with ``changed: ["on_show"]``."""
    shown = on_show(product)
    product[SELLER_SUSPENDED] = suspended
    if on_show(product) != shown:
        record(product, PRODUCT_UPDATED, {**snapshot(product), "changed": [ON_SHOW]})
    return product


def seller_standing(data: Document) -> tuple[str, str] | None:
    """``(hub_id, seller_id)`` whose products a membership decision concerns; ``None``
    for a buyer's membership."""
    if data.get("role") != SELLER:
        return None
    return data["hub_id"], data["member_id"]


# --- reservations ---------------------------------------------------------------


def order_lines(data: Mapping[str, Any]) -> list[ReservedLine] | None:
    """``[{product_id, quantity}]`` of an ``order_placed`` event, one line per product
    (quantities of a repeated product added up); ``None`` if they make no sense."""
    lines: dict[str, int] = {}
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


def new_reservation(
    order_id: str,
    hub_id: str | None,
    lines: list[ReservedLine] | None,
    now: datetime.datetime | None = None,
) -> Document:
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


def tombstone(order_id: str, now: datetime.datetime | None = None) -> Document:
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


def confirm(
    reservation: Document,
    low: Iterable[StockLow] = (),
    levels: Iterable[StockLevel] = (),
    counter: bool = False,
) -> Document:
    """Every line was taken. ``low``: ``stock_low`` data of products that fell to the
    threshold while taking them; ``levels``: each product's stock once taken. A counter
    sale (``counter``) is sold there and then: settled at once, answered to its caller
    rather than by a saga event, and its stock levels told by ``stock_sold``."""
    reservation.update(
        state=SETTLED if counter else RESERVED,
        counter=counter,
        levels=list(levels),
        updated_at=utcnow(),
    )
    if counter:
        record(reservation, STOCK_SOLD, _reserved(reservation))
    else:
        record(reservation, STOCK_RESERVED, _reserved(reservation))
    for data in low:
        record(reservation, STOCK_LOW, data)
    return reservation


def fail(
    reservation: Document,
    shortages: list[Shortage],
    reason: str = INSUFFICIENT_STOCK,
    levels: Iterable[StockLevel] = (),
    counter: bool = False,
) -> Document:
    """Some line fell short (nothing is kept). ``levels``: the stock of the products
    taken and given back meanwhile (others may have moved them in between). A counter
    sale's caller hears it as the answer (``refused``), an order's saga by
    ``stock_reservation_failed``."""
    reservation.update(
        state=REFUSED if counter else FAILED,
        counter=counter,
        reason=reason,
        shortages=shortages,
        levels=list(levels),
        updated_at=utcnow(),
    )
    if not counter:
        record(reservation, STOCK_RESERVATION_FAILED, _failed(reservation))
    return reservation


def answer_again(reservation: Document) -> Document | None:
    """The order was announced again after it was decided: orders has not heard (the
    answer was lost, or crossed the announcement), so the decision is recorded again,
    with the same data. ``None`` once the order was cancelled or completed: nobody is
    waiting for an answer then, and taking or returning stock is never repeated."""
    if reservation["state"] == RESERVED:
        record(reservation, STOCK_RESERVED, _reserved(reservation))
    elif reservation["state"] == FAILED:
        record(reservation, STOCK_RESERVATION_FAILED, _failed(reservation))
    else:
        return None
    return reservation


def _reserved(reservation: Document) -> StockReserved:
    # a reservation made before levels were kept answers again without them
    levels = reservation.get("levels") or []
    return {"order_id": reservation["_id"], "items": reservation["items"], "levels": levels}


def _failed(reservation: Document) -> StockReservationFailed:
    return {
        "order_id": reservation["_id"],
        "reason": reservation["reason"],
        "shortages": reservation["shortages"],
        "levels": reservation.get("levels") or [],
    }


def shortage(line: Mapping[str, Any], available: int | None) -> Shortage:
    return {
        "product_id": line["product_id"],
        "requested": line["quantity"],
        "available": max(int(available or 0), 0),
    }


def counter_decision(reservation: Document) -> CounterDecision:
    """What a counter sale's caller hears, the first time and on every repeat."""
    return {
        "order_id": reservation["_id"],
        "sold": reservation["state"] in (RESERVED, SETTLED),
        "reason": reservation.get("reason"),
        "shortages": list(reservation.get("shortages") or []),
    }


# --- intakes --------------------------------------------------------------------


def check_can_record_intake(actor: Actor, hub_id: object) -> None:
    """Goods received at a showroom are recorded by the hub's coordinator (or an admin)."""
    if not isinstance(hub_id, str) or not is_coordinator(actor, hub_id):
        raise NotTheCoordinator(
            "Only the hub's coordinator records goods received at its showroom.",
            {"hub_id": [f"You are not a coordinator of hub {hub_id}."]},
        )


def check_intake_product(product: Document | None, hub_id: str) -> Document:
    """The product an intake is for: one of this hub's."""
    if product is None:
        raise ProductNotFound(
            "No such product.", {"product_id": ["Unknown product; send one of this hub's."]}
        )
    if product["hub_id"] != hub_id:
        raise ProductOfAnotherHub(
            "This product is shown at another hub.",
            {"product_id": [f"Not a product of hub {hub_id}; record it at its own hub."]},
        )
    return product


def new_intake(
    product: Document,
    actor: Actor,
    fields: Mapping[str, Any],
    idempotency_key: str,
    now: datetime.datetime | None = None,
) -> Document:
    """The record of goods received for ``product`` (its stock already grown), under an
    id derived from the key so a retry records it once."""
    return {
        "_id": uuid.uuid5(INTAKE_IDS, f"{member_id(actor)}:{idempotency_key}").hex,
        "hub_id": product["hub_id"],
        "product_id": product["_id"],
        "code": product.get("code"),
        "name": product["name"],
        "seller_id": product["seller_id"],
        "quantity": fields["quantity"],
        "note": fields.get("note"),
        "stock_after": product["stock"],
        "received_by": member_id(actor),
        "received_at": now or utcnow(),
    }


def release(reservation: Document, levels: Iterable[StockLevel] = ()) -> Document:
    """The order's stock came back; ``levels``: each product's stock after that."""
    reservation.update(state=RELEASED, updated_at=utcnow())
    record(
        reservation,
        STOCK_RELEASED,
        {"order_id": reservation["_id"], "items": reservation["items"], "levels": list(levels)},
    )
    return reservation


def check_can_list(actor: Actor | None, query: Mapping[str, Any]) -> None:
    """The showroom shows approved products to anyone; products under review or
    rejected are listed for a coordinator of the hub, or for their own seller."""
    if query["status"] == APPROVED:
        return
    if query.get("hub_id") and is_coordinator(actor, query["hub_id"]):
        return
    if query.get("seller_id") and query["seller_id"] == member_id(actor):
        return
    raise NotTheCoordinator(
        "Only approved products are public; to list others send hub_id of a hub you "
        "coordinate, or your own seller_id.",
        {"status": [f"Send {APPROVED}, or hub_id of a hub you coordinate."]},
    )
