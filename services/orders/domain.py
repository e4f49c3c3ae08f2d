"""Order rules: placement and pricing, the stock saga, the lifecycle, payments and
who may see or do what. No nameko, no pymongo.

States (docs/architecture.md §7)::

    pending ─┬─ stock_reserved ──────────> confirmed ─┬─ pickup ──> ready_for_pickup ─┐
             └─ stock_reservation_failed ─> rejected   └─ delivery > shipped ──────────┴> completed
    pending, confirmed (buyer) / anything before completed (coordinator) ──> cancelled

Payment: ``unpaid`` → ``paid``. The change that makes an order both completed and paid
(completing a COD order, completing a paid one, recording the payment of a completed
one, a counter sale) also records ``order_settled``, once per order (``settled_at``):
from then on its sellers and its hub are owed their shares. A paid order cancelled
leaves ``refund_status: "due"`` until the coordinator records the refund.

An agent of the hub (DESIGN §9) orders for a customer who is not a member
(``customer: {name, phone}``): the order is the agent's (``buyer_id``), with
``channel: "agent"``, the ``agent_id`` and the agent's part of the hub's commission
(``agent_commission_percent``, at most the order's ``commission_percent``), and
``agent_commission``, what that part comes to on this order (computed like the
ledger's, ``services.common.commission``), for the reports.

A counter sale (``channel: "counter"``) is a walk-in sale at the showroom, paid in
cash: written ``pending``, then catalogue takes its stock at once, and the answer makes
it ``completed`` and paid (with ``order_settled``) or ``rejected``, in one write.

Every change appends ``{status, by, at}`` to the order's ``history`` and records its
event on the order (``record``), so state and event are saved in one write.

An order of several sellers is fulfilled seller by seller: a seller moves only their
own lines (each line's ``status``), and the order takes the step once every seller's
lines have taken it; the hub's coordinator moves the whole order at once. An order of
one seller therefore moves as that seller moves it.
"""

import datetime
import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any, NoReturn

from services.catalogue.contract import APPROVED
from services.common.actor import (
    BUYER,
    COORDINATOR,
    SELLER,
    Actor,
    coordinated_hubs,
    is_admin,
    is_agent,
    is_coordinator,
    is_seller,
)
from services.common.commission import DEFAULT_COMMISSION_PERCENT, agent_share, gross_by_seller
from services.common.envelope import isoformat, new_id, payload, record, utcnow
from services.common.errors import ValidationError
from services.common.types import Document
from services.orders.contract import (
    AGENT,
    BANK_TRANSFER,
    CANCELLED,
    CASH,
    CHANNELS,
    COD,
    COMPLETED,
    CONFIRMED,
    COUNTER,
    DELIVERY,
    FULFILMENT_STEP,
    ONLINE,
    ORDER_CANCELLED,
    ORDER_CONFIRMED,
    ORDER_PAID,
    ORDER_PLACED,
    ORDER_REJECTED,
    ORDER_SETTLED,
    ORDER_STATUS_CHANGED,
    PAID,
    PAYMENT_PROOF_SENT,
    PENDING,
    PICKUP,
    PLACEMENT_CHANNELS,
    READY_FOR_PICKUP,
    REFUND_DONE,
    REFUND_DUE,
    REFUND_SETTLED,
    REJECTED,
    SHIPPED,
    UNPAID,
    Customer,
    Fulfilment,
    OrderLine,
    OrderSummary,
    line_status,
)
from services.orders.exceptions import (
    AgentNotKnownYet,
    IdempotencyKeyReused,
    InvalidTransition,
    ItemsNotInHub,
    NotAllowed,
    NotEnoughStock,
    OrderNotFound,
    ProductNotAvailable,
)

CONFIRMED_OR_LATER = (CONFIRMED, READY_FOR_PICKUP, SHIPPED, COMPLETED)

SAGA = "catalogue"
"""``by`` in the history of transitions the stock saga made."""

MAX_IDEMPOTENCY_KEY = 100
MAX_BROADCAST_ID = 100
NUMBER_PREFIX = "KD-"
BUYER_MAY_CANCEL = (PENDING, CONFIRMED)
COORDINATOR_MAY_CANCEL = (PENDING, CONFIRMED, READY_FOR_PICKUP, SHIPPED)
NEXT_STATUS = {
    # from: {to: the fulfilment method it needs}
    CONFIRMED: {READY_FOR_PICKUP: PICKUP, SHIPPED: DELIVERY},
    READY_FOR_PICKUP: {COMPLETED: PICKUP},
    SHIPPED: {COMPLETED: DELIVERY},
}
LONGEST_RETRY_FACTOR = 8


# --- who is asking ---------------------------------------------------------------


def roles_in_order(order: Document, actor: Actor) -> set[str]:
    """What ``actor`` is to ``order``: a subset of buyer, seller, coordinator (of its
    hub, or an admin)."""
    member_id = actor.get("member_id")
    roles = set()
    if order["buyer_id"] == member_id:
        roles.add(BUYER)
    if member_id in order["seller_ids"]:
        roles.add(SELLER)
    if is_coordinator(actor, order["hub_id"]):
        roles.add(COORDINATOR)
    return roles


def _visible_roles(order: Document, actor: Actor) -> set[str]:
    """The actor's roles; an order they have no part in does not exist for them."""
    roles = roles_in_order(order, actor)
    if not roles:
        raise OrderNotFound(
            f"No order {order['_id']}.", {"order_id": ["Unknown order, or not one of yours."]}
        )
    return roles


def _check_part(order: Document, actor: Actor, role: str, refusal: NotAllowed) -> None:
    """``actor`` is the order's ``role`` (buyer, seller, coordinator); ``refusal`` when
    they have another part in it, ``OrderNotFound`` when none."""
    if role not in _visible_roles(order, actor):
        raise refusal


def check_can_view(order: Document, actor: Actor) -> Document:
    _visible_roles(order, actor)
    return order


def check_coordinator(actor: Actor, hub_id: object) -> None:
    if not isinstance(hub_id, str):
        raise ValidationError("Invalid hub_id.", {"hub_id": ["Send the hub's id as text."]})
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "Only the hub's coordinator may do this.",
            {"hub_id": [f"You are not a coordinator of hub {hub_id}."]},
        )


def list_scope(actor: Actor, view: str, hub_id: str | None = None) -> dict[str, str | list[str]]:
    """Which orders ``view`` shows ``actor``: ``{field: value or [values]}``; ``None``
    means no condition (an admin's coordinator view of every hub)."""
    member_id = actor["member_id"]
    if view == BUYER:
        scope: dict[str, str | list[str]] = {"buyer_id": member_id}
    elif view == SELLER:
        scope = {"seller_ids": member_id}
    elif hub_id is not None:
        check_coordinator(actor, hub_id)
        return {"hub_id": hub_id}
    elif is_admin(actor):
        return {}
    else:
        hubs = coordinated_hubs(actor)
        if not hubs:
            raise NotAllowed(
                "Only hub coordinators have a coordinator view.",
                {"as": ["You coordinate no hub; send as=buyer or as=seller."]},
            )
        return {"hub_id": hubs}
    if hub_id is not None:
        scope["hub_id"] = hub_id
    return scope


# --- placement -------------------------------------------------------------------


def idempotency_key(value: object) -> str:
    """The ``Idempotency-Key`` header, 1 to 100 visible characters."""
    key = (value or "").strip() if isinstance(value, str) or value is None else None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationError(
            "Send an Idempotency-Key header.",
            {
                "Idempotency-Key": [
                    f"Required: 1 to {MAX_IDEMPOTENCY_KEY} characters, unique per order you "
                    "mean to place (a UUID is good); send the same key when you retry."
                ]
            },
        )
    return key


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A hash of what was asked, independent of key and item order."""
    canonical = {
        **fields,
        "items": sorted(fields["items"], key=lambda item: item["product_id"]),
    }
    raw = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def check_same_request(order: Document, request_hash: str) -> Document:
    if order["request_hash"] != request_hash:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different order.",
            {
                "Idempotency-Key": [
                    f"Already used for order {order['number']}; send a new key for a new order."
                ]
            },
        )
    return order


def price_lines(
    hub_id: str, items: Iterable[Mapping[str, Any]], products: Mapping[str, Document]
) -> list[Document]:
    """Order lines priced from the approved products (``{product_id: product}``)."""
    unavailable, elsewhere, lines = {}, {}, []
    for index, item in enumerate(items):
        product = products.get(item["product_id"])
        field = f"items.{index}.product_id"
        if product is None or product.get("status") != APPROVED:
            unavailable[field] = [
                f"No approved product {item['product_id']}; pick one from "
                f"GET /api/v1/products?hub_id={hub_id}."
            ]
        elif product["hub_id"] != hub_id:
            elsewhere[field] = [
                f"This product is sold at another hub; order it there, or pick one of hub {hub_id}."
            ]
        else:
            lines.append(
                {
                    "product_id": item["product_id"],
                    "code": product.get("code"),
                    "seller_id": product["seller_id"],
                    "name": product["name"],
                    "unit": product.get("unit"),
                    "unit_price": int(product["price"]),
                    "quantity": item["quantity"],
                    "line_total": int(product["price"]) * item["quantity"],
                }
            )
    if unavailable:
        raise ProductNotAvailable("Some items cannot be ordered.", unavailable)
    if elsewhere:
        raise ItemsNotInHub("Every item must come from the order's hub.", elsewhere)
    return lines


def buyer_of(actor: Actor, fields: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(buyer_id, acted_by)`` of an order: the caller, or the member named in
    ``on_behalf_of`` with the caller (the hub's coordinator) as ``acted_by``."""
    on_behalf_of = fields.get("on_behalf_of")
    if on_behalf_of is None or on_behalf_of == actor["member_id"]:
        return actor["member_id"], None
    return on_behalf_of, actor["member_id"]


def stored_key(key: str, acted_by: str | None) -> str:
    """What an order keeps of its ``Idempotency-Key``. Keys are the caller's: one a
    coordinator sent for a member is kept as ``"<coordinator id>:<key>"`` (and looked up
    with ``acted_by``), so it never meets the member's own keys."""
    return key if acted_by is None else f"{acted_by}:{key}"


def check_can_act_for(actor: Actor, hub_id: str, standing: bool | None) -> None:
    """The hub's coordinator (or an admin), for an approved member of the hub who is
    not suspended there. ``standing``: what orders has heard of the member's
    memberships of the hub (``True`` approved, ``False`` suspended in a role, ``None``
    never approved)."""
    if not is_coordinator(actor, hub_id):
        raise NotAllowed(
            "Only the hub's coordinator (or an admin) orders for a member of the hub.",
            {"on_behalf_of": ["You are not a coordinator of this hub; order for yourself only."]},
        )
    if standing is not True:
        why = (
            "Their membership of this hub is suspended."
            if standing is False
            else "They are not an approved member of this hub."
        )
        raise NotAllowed(
            f"You cannot order for this member: {why}",
            {"on_behalf_of": [f"{why} Send the member id of an approved member of this hub."]},
        )


def check_can_order_for_customer(actor: Actor, hub_id: str, agent: Document | None) -> Document:
    """Only an agent of the hub orders for a customer; ``agent`` is orders' copy of
    their appointment (``None``: not heard of yet, so their share is not known), and
    the appointment is returned."""
    if not is_agent(actor, hub_id):
        raise NotAllowed(
            "Only an agent of the hub orders for a customer.",
            {
                "customer": [
                    "You are not an agent of this hub; leave customer out to order for "
                    "yourself, or ask the hub's coordinator to appoint you as an agent."
                ]
            },
        )
    if agent is None:
        raise AgentNotKnownYet(
            "Your appointment as an agent of this hub is still on its way; try again "
            "in a few seconds.",
            {"customer": ["Your appointment is not known here yet; send it again shortly."]},
        )
    return agent


def check_can_place(
    actor: Actor,
    fields: Mapping[str, Any],
    products: Mapping[str, Document],
    suspended: Collection[tuple[str, str]],
    standing: bool | None = None,
    agent: Document | None = None,
) -> None:
    """Nobody orders in a hub where their buyer membership is suspended, and nothing
    of a seller suspended there. ``suspended``: ``(member_id, role)`` of the hub's
    suspended memberships, as far as orders has heard. For ``on_behalf_of``, see
    ``check_can_act_for`` (``standing`` is the member's); for a ``customer``,
    ``check_can_order_for_customer`` (``agent`` is the caller's appointment)."""
    buyer_id, acted_by = buyer_of(actor, fields)
    if acted_by is not None:
        check_can_act_for(actor, fields["hub_id"], standing)
    if fields.get("customer") is not None:
        check_can_order_for_customer(actor, fields["hub_id"], agent)
    if (buyer_id, BUYER) in suspended:
        raise NotAllowed(
            "Your buyer membership of this hub is suspended; you cannot order here.",
            {"hub_id": ["Ask the hub coordinator about your membership."]},
        )
    unavailable: dict[str, list[str]] = {}
    for index, item in enumerate(fields["items"]):
        product = products.get(item["product_id"])
        if product is not None and (product.get("seller_id"), SELLER) in suspended:
            unavailable[f"items.{index}.product_id"] = [
                "This product's seller is suspended in this hub; pick another product."
            ]
    if unavailable:
        raise ProductNotAvailable("Some items cannot be ordered.", unavailable)


def order_number(sequence: int) -> str:
    """A short number people can read out: ``KD-000123``."""
    return f"{NUMBER_PREFIX}{sequence:06d}"


TYPED_NUMBER = re.compile(r"(?:KD)?[\s-]*0*([1-9][0-9]{0,11})")


def normalise_number(value: object) -> str | None:
    """The order number someone typed, as the order carries it: ``KD-000123``,
    ``kd000123``, ``KD 123``, ``000123`` and ``123`` are all ``KD-000123``; ``None``
    when it cannot be an order number."""
    if not isinstance(value, str):
        return None
    typed = TYPED_NUMBER.fullmatch(value.strip().upper())
    return order_number(int(typed.group(1))) if typed else None


def check_can_view_numbered(order: Document | None, actor: Actor, number: object) -> Document:
    """The order found by its number, for those who may see it; ``OrderNotFound``
    naming ``number`` for anyone else and for a number of no order."""
    if order is None or not roles_in_order(order, actor):
        raise OrderNotFound(
            "No such order.", {"number": ["Unknown order number, or not one of yours."]}
        )
    return order


def retry_delay(base_seconds: float, announcements: int) -> datetime.timedelta:
    """How long to wait for catalogue before announcing again: ``base``, then doubling
    up to ``LONGEST_RETRY_FACTOR`` times ``base``."""
    factor = min(2 ** max(announcements - 1, 0), LONGEST_RETRY_FACTOR)
    return datetime.timedelta(seconds=base_seconds * factor)


def new_order(
    actor: Actor,
    key: str,
    request_hash: str,
    fields: Mapping[str, Any],
    products: Mapping[str, Document],
    number: str,
    retry_seconds: float,
    now: datetime.datetime | None = None,
    *,
    channel: str = ONLINE,
    commission_percent: int = DEFAULT_COMMISSION_PERCENT,
    agent: Document | None = None,
    broadcast_id: str | None = None,
) -> Document:
    """An order placed online or by text message (``channel``), at the hub's
    ``commission_percent`` of the moment; with a ``customer``, the order of ``agent``
    (the caller's appointment) for them, on channel ``agent``."""
    now = now or utcnow()
    lines = price_lines(fields["hub_id"], fields["items"], products)
    fulfilment = fields["fulfilment"]
    buyer_id, acted_by = buyer_of(actor, fields)
    customer = fields.get("customer")
    if customer is not None:
        appointed = check_can_order_for_customer(actor, fields["hub_id"], agent)
        channel = AGENT
        sold_by = agent_fields(appointed, lines, commission_percent)
        sold_by["customer"] = {"name": customer.get("name"), "phone": customer["phone"]}
    else:
        sold_by = {}
    order = _order(
        fields["hub_id"],
        lines,
        buyer_id,
        acted_by,
        number,
        now,
        idempotency_key=key,
        request_hash=request_hash,
        channel=channel,
        commission_percent=commission_percent,
        fulfilment={"method": fulfilment["method"], "address": fulfilment.get("address")},
        payment_method=fields["payment_method"],
        note=fields.get("note"),
        broadcast_id=broadcast_id,
        retry_at=now + retry_delay(retry_seconds, 1),
        **sold_by,
    )
    _moved(order, PENDING, buyer_id, now, acted_by)
    record(order, ORDER_PLACED, summary(order))
    return order


def agent_fields(
    agent: Mapping[str, Any], lines: Iterable[Mapping[str, Any]], commission_percent: int
) -> Document:
    """What an order placed by ``agent`` records of them: ``agent_id``, their part of
    the order's commission (``agent_commission_percent``: theirs, never more than the
    order's) and what it comes to on ``lines`` (``agent_commission``, per seller's
    lines as the ledger books it)."""
    percent = min(int(agent["commission_percent"]), commission_percent)
    gross = gross_by_seller(lines)
    return {
        "agent_id": agent["_id"],
        "agent_commission_percent": percent,
        "agent_commission": sum(
            agent_share(amount, commission_percent, percent) for amount in gross.values()
        ),
    }


def _order(
    hub_id: str,
    lines: list[Document],
    buyer_id: str | None,
    acted_by: str | None,
    number: str,
    now: datetime.datetime,
    **fields: Any,
) -> Document:
    """A new order of ``lines`` at ``hub_id``, before its first step; ``fields`` says
    how it was placed and is to be paid and fulfilled."""
    return {
        "_id": new_id(),
        "number": number,
        "hub_id": hub_id,
        "buyer_id": buyer_id,
        "acted_by": acted_by,
        "seller_ids": sorted({line["seller_id"] for line in lines}),
        "items": lines,
        "total": sum(line["line_total"] for line in lines),
        "payment_status": UNPAID,
        "note": None,
        "customer": None,
        "agent_id": None,
        "agent_commission_percent": None,
        "agent_commission": None,
        "broadcast_id": None,
        "status": PENDING,
        "history": [],
        "stock_reserved": False,
        "reason": None,
        "shortages": [],
        "cancelled_by": None,
        "paid_at": None,
        "paid_by": None,
        "payment_reference": None,
        "refund_status": None,
        "settled_at": None,
        "created_at": now,
        "updated_at": now,
        "announcements": 1,
        **fields,
    }


def check_channel(channel: object) -> str:
    """Where ``place_order`` was called from: the HTTP API, or a text message."""
    if channel not in PLACEMENT_CHANNELS:
        raise ValidationError(
            "Unknown channel.", {"channel": [f"Send one of: {', '.join(PLACEMENT_CHANNELS)}."]}
        )
    return str(channel)


def check_broadcast_id(broadcast_id: object) -> str | None:
    """The broadcast a text message answered, as messaging passes it (or ``None``)."""
    if broadcast_id is None or (
        isinstance(broadcast_id, str) and 0 < len(broadcast_id) <= MAX_BROADCAST_ID
    ):
        return broadcast_id
    raise ValidationError(
        "Invalid broadcast_id.",
        {"broadcast_id": [f"Send the broadcast's id (1 to {MAX_BROADCAST_ID} characters)."]},
    )


def summary(order: Document) -> OrderSummary:
    """The order summary every order event carries (docs/events.md)."""
    fulfilment: Fulfilment = order["fulfilment"]
    return {
        "order_id": order["_id"],
        "number": order["number"],
        "hub_id": order["hub_id"],
        "buyer_id": order["buyer_id"],
        "seller_ids": list(order["seller_ids"]),
        "items": [_summary_line(line) for line in order["items"]],
        "total": order["total"],
        "fulfilment": fulfilment.copy(),
        "payment_method": order["payment_method"],
        "status": order["status"],
        "payment_status": order["payment_status"],
        "acted_by": order.get("acted_by"),
        "channel": order.get("channel", ONLINE),
        "commission_percent": order.get("commission_percent", DEFAULT_COMMISSION_PERCENT),
        "payment_reference": order.get("payment_reference"),
        "refund_status": order.get("refund_status"),
        "agent_id": order.get("agent_id"),
        "agent_commission_percent": order.get("agent_commission_percent"),
        "customer": _customer(order.get("customer")),
        "broadcast_id": order.get("broadcast_id"),
    }


def _customer(customer: Mapping[str, Any] | None) -> Customer | None:
    if customer is None:
        return None
    return {"name": customer.get("name"), "phone": customer.get("phone")}


def _summary_line(line: Document) -> OrderLine:
    return payload(OrderLine, line)


def _moved(
    order: Document,
    status: str,
    by: str,
    now: datetime.datetime,
    acted_by: str | None = None,
) -> None:
    """``by``: whose step it is; ``acted_by``: the coordinator who took it for them."""
    order["status"] = status
    order["updated_at"] = now
    order["history"].append({"status": status, "by": by, "acted_by": acted_by, "at": now})


# --- the stock saga --------------------------------------------------------------


def reannounce(order: Document, retry_seconds: float, now: datetime.datetime | None = None) -> bool:
    """Announce a still-pending order again (a new event, the same order); catalogue
    reserves once per order, so a repeat never reserves twice."""
    if order["status"] != PENDING:
        return False
    now = now or utcnow()
    order["announcements"] = order.get("announcements", 1) + 1
    order["retry_at"] = now + retry_delay(retry_seconds, order["announcements"])
    record(order, ORDER_PLACED, summary(order))
    return True


def stock_reserved(order: Document, now: datetime.datetime | None = None) -> bool:
    """Catalogue reserved the stock: a pending order is confirmed. If the order was
    cancelled or rejected meanwhile (the events crossed), ask catalogue again to
    release what it has just reserved."""
    now = now or utcnow()
    if order["status"] == PENDING:
        order.update(stock_reserved=True, retry_at=None)
        _moved(order, CONFIRMED, SAGA, now)
        record(order, ORDER_CONFIRMED, summary(order))
        return True
    if order["status"] in (CANCELLED, REJECTED):
        if order.get("stock_reserved"):
            return False  # a repeated answer: the release was asked for already
        order["stock_reserved"] = True
        order["late_releases"] = order.get("late_releases", 0) + 1
        order["updated_at"] = now
        record(
            order,
            ORDER_CANCELLED,
            {
                **summary(order),
                "cancelled_by": order.get("cancelled_by"),
                "stock_was_reserved": True,
                "release_only": True,
            },
        )
        return True
    return False  # already confirmed or beyond: a repeated answer


def stock_reservation_failed(
    order: Document,
    reason: str | None,
    shortages: Iterable[Mapping[str, Any]] | None,
    now: datetime.datetime | None = None,
) -> bool:
    """Not enough stock: a pending order is rejected, for good."""
    if order["status"] != PENDING:
        return False  # a late or repeated answer to an order that has moved on
    now = now or utcnow()
    order.update(reason=reason, shortages=list(shortages or []), retry_at=None)
    _moved(order, REJECTED, SAGA, now)
    record(
        order,
        ORDER_REJECTED,
        {**summary(order), "reason": reason, "shortages": order["shortages"]},
    )
    return True


# --- the lifecycle ---------------------------------------------------------------


def _refuse(order: Document, requested: str, hint: str) -> NoReturn:
    current = order["status"]
    raise InvalidTransition(
        f"This order is {current}; it cannot become {requested}. {hint}".strip(),
        {"status": [f"The order is {current}; {requested} is not possible now. {hint}".strip()]},
    )


def cancel(
    order: Document, actor: Actor, reason: str | None = None, now: datetime.datetime | None = None
) -> bool:
    """Buyer while pending or confirmed; the hub's coordinator until completed.
    Returns whether anything changed (cancelling twice is not an error)."""
    roles = _visible_roles(order, actor)
    if order["status"] == CANCELLED:
        return False
    if order.get("channel") == COUNTER:
        raise InvalidTransition(
            "A counter sale is final: its goods left the showroom when it was recorded.",
            {"status": ["A counter sale cannot be cancelled; record returned goods as an intake."]},
        )
    allowed: tuple[str, ...]
    if COORDINATOR in roles:
        allowed = COORDINATOR_MAY_CANCEL
    elif BUYER in roles:
        allowed = BUYER_MAY_CANCEL
    else:
        raise NotAllowed(
            "Only the buyer or the hub's coordinator may cancel an order.",
            {"order_id": ["Ask the hub coordinator to cancel it."]},
        )
    if order["status"] not in allowed:
        hint = (
            "Ask the hub coordinator."
            if order["status"] in COORDINATOR_MAY_CANCEL
            else "It is finished."
        )
        _refuse(order, CANCELLED, hint)
    now = now or utcnow()
    order.update(cancelled_by=actor["member_id"], reason=reason, retry_at=None)
    if order["payment_status"] == PAID:  # the buyer is owed their money back
        order["refund_status"] = REFUND_DUE
    _moved(order, CANCELLED, actor["member_id"], now)
    record(
        order,
        ORDER_CANCELLED,
        {
            **summary(order),
            "cancelled_by": actor["member_id"],
            "stock_was_reserved": bool(order.get("stock_reserved")),
        },
    )
    return True


def change_status(
    order: Document, actor: Actor, status: str, now: datetime.datetime | None = None
) -> bool:
    """The hub's coordinator moves the whole order along its fulfilment; a seller of
    the order moves their own lines (see the module's docstring)."""
    roles = _visible_roles(order, actor)
    if not roles & {COORDINATOR, SELLER}:
        raise NotAllowed(
            "Only the order's sellers or the hub's coordinator may change its status.",
            {"status": ["The buyer cannot change the status; cancel instead."]},
        )
    if COORDINATOR not in roles:
        return _change_own_lines(order, actor, status, now or utcnow())
    if order["status"] == status:
        return False  # a retried request
    _check_step(order, order["status"], status)
    _advance(order, status, actor["member_id"], now or utcnow())
    return True


def _change_own_lines(order: Document, actor: Actor, status: str, now: datetime.datetime) -> bool:
    # the actor's roles come from their approved memberships: a suspended seller has
    # none, and the coordinator handles their orders until they are reinstated
    if not is_seller(actor, order["hub_id"]):
        raise NotAllowed(
            "Your seller membership of this hub is suspended; the hub's coordinator "
            "handles your orders meanwhile.",
            {"status": ["Ask the hub coordinator to move this order."]},
        )
    mine = [line for line in order["items"] if line["seller_id"] == actor["member_id"]]
    current = line_status(order["status"], mine[0].get("status"))
    if current == status:
        return False  # a retried request
    _check_step(order, current, status)
    for line in mine:
        line["status"] = status
    order["updated_at"] = now
    slowest = min(
        (line_status(order["status"], line.get("status")) for line in order["items"]),
        key=FULFILMENT_STEP.__getitem__,
    )
    if slowest != order["status"]:  # every seller's lines have taken the step
        _advance(order, slowest, actor["member_id"], now)
    return True


def _check_step(order: Document, current: str, requested: str) -> None:
    """Refuse a step the order's fulfilment method does not take from ``current`` (the
    order's status, or that of a seller's lines ahead of it)."""
    method = order["fulfilment"]["method"]
    needs = NEXT_STATUS.get(current, {}).get(requested)
    if needs == method:
        return
    if current == order["status"]:
        hint = _next_hint(order)
        _refuse(order, requested, hint if needs is None else f"It is a {method} order. {hint}")
    options = [to for to, needed in NEXT_STATUS.get(current, {}).items() if needed == method]
    hint = f"Send {' or '.join(options)}." if options else "Your part is done."
    raise InvalidTransition(
        f"Your items in this order are {current}; they cannot become {requested}. {hint}",
        {"status": [f"Your items are {current}; {requested} is not possible now. {hint}"]},
    )


def _advance(order: Document, status: str, by: str, now: datetime.datetime) -> None:
    """The whole order takes a step of its fulfilment, announced to everyone."""
    previous = order["status"]
    _moved(order, status, by, now)
    if status == COMPLETED:
        _completed(order, now)
    record(
        order,
        ORDER_STATUS_CHANGED,
        {**summary(order), "from_status": previous, "to_status": status, "changed_by": by},
    )
    if status == COMPLETED and order["payment_method"] == COD:
        _paid(order, by, now)
    _settle_if_due(order, now)


def _completed(order: Document, now: datetime.datetime) -> None:
    """The order is done: its hub's tally of sales is to count it (once:
    ``OrdersRepository.tally``), in the network report from then on."""
    order.update(completed_at=now, tally_due=True)


def _next_hint(order: Document) -> str:
    options = [
        to
        for to, method in NEXT_STATUS.get(order["status"], {}).items()
        if method == order["fulfilment"]["method"]
    ]
    return f"Send {' or '.join(options)}." if options else "No further status applies."


def mark_paid(order: Document, actor: Actor, now: datetime.datetime | None = None) -> bool:
    """The hub's coordinator records the payment (once), of an order confirmed or
    later."""
    refusal = NotAllowed(
        "Only the hub's coordinator may record a payment.",
        {"status": ["Ask the hub coordinator to record the payment."]},
    )
    _check_part(order, actor, COORDINATOR, refusal)
    if order["payment_status"] == PAID:
        return False
    if order["status"] in (CANCELLED, REJECTED):
        raise InvalidTransition(
            f"This order is {order['status']}; it cannot be paid.",
            {"status": [f"The order is {order['status']}; there is nothing to pay."]},
        )
    if order["status"] not in CONFIRMED_OR_LATER:
        # a pending order may yet be rejected for want of stock
        raise InvalidTransition(
            f"This order is {order['status']}; it can be paid once it is confirmed.",
            {"status": [f"The order is {order['status']}; wait until it is confirmed."]},
        )
    _paid(order, actor["member_id"], now or utcnow())
    return True


def _paid(order: Document, by: str, now: datetime.datetime) -> None:
    order.update(payment_status=PAID, paid_at=now, paid_by=by, updated_at=now)
    record(order, ORDER_PAID, {**summary(order), "paid_by": by})
    _settle_if_due(order, now)


def _settle_if_due(order: Document, now: datetime.datetime) -> None:
    """Completed and paid, for the first time: what its sellers and its hub earn is
    due now (``order_settled``, in the same write as the change; once per order)."""
    if order["status"] != COMPLETED or order["payment_status"] != PAID or order.get("settled_at"):
        return
    order["settled_at"] = now
    record(order, ORDER_SETTLED, {**summary(order), "settled_at": isoformat(now)})


# --- bank transfers and refunds --------------------------------------------------


def send_payment_proof(
    order: Document, actor: Actor, reference: str, now: datetime.datetime | None = None
) -> bool:
    """The buyer of a bank-transfer order says which transfer paid it (the reference
    their bank gave), for the coordinator to check before recording the payment;
    the same reference again changes nothing, another replaces it."""
    refusal = NotAllowed(
        "Only the order's buyer sends the reference of their transfer.",
        {"reference": ["Only the buyer sends it; the coordinator records the payment."]},
    )
    _check_part(order, actor, BUYER, refusal)
    if order.get("payment_reference") == reference:
        return False
    if order["payment_method"] != BANK_TRANSFER:
        raise InvalidTransition(
            f"This order is paid by {order['payment_method']}, not by bank transfer.",
            {"payment_method": ["Only a bank_transfer order takes a transfer reference."]},
        )
    if order["status"] in (CANCELLED, REJECTED):
        raise InvalidTransition(
            f"This order is {order['status']}; there is nothing to pay.",
            {"status": [f"The order is {order['status']}; do not transfer for it."]},
        )
    if order["payment_status"] == PAID:
        raise InvalidTransition(
            "The payment of this order is already recorded.",
            {"payment_status": ["Already paid; nothing more to send."]},
        )
    now = now or utcnow()
    order.update(payment_reference=reference, payment_reference_at=now, updated_at=now)
    record(order, PAYMENT_PROOF_SENT, summary(order))
    return True


def settle_refund(
    order: Document, actor: Actor, reference: str | None, now: datetime.datetime | None = None
) -> bool:
    """The hub's coordinator records that the buyer of a paid, cancelled order got
    their money back (``reference``: of the transfer, if any); once."""
    refusal = NotAllowed(
        "Only the hub's coordinator records a refund.",
        {"order_id": ["Ask the hub coordinator about the refund."]},
    )
    _check_part(order, actor, COORDINATOR, refusal)
    if order.get("refund_status") == REFUND_DONE:
        return False
    if order.get("refund_status") != REFUND_DUE:
        raise InvalidTransition(
            "No refund is due on this order: only a paid order that was cancelled has one.",
            {"refund_status": ["No refund is due; there is nothing to settle."]},
        )
    now, by = now or utcnow(), actor["member_id"]
    order.update(
        refund_status=REFUND_DONE,
        refund_reference=reference,
        refunded_by=by,
        refunded_at=now,
        updated_at=now,
    )
    record(order, REFUND_SETTLED, {**summary(order), "settled_by": by, "reference": reference})
    return True


# --- counter sales ---------------------------------------------------------------


def check_can_sell_at_counter(actor: Actor, hub_id: object) -> None:
    """Counter sales are recorded by the hub's coordinator (or an admin)."""
    check_coordinator(actor, hub_id)


def new_counter_sale(
    actor: Actor,
    key: str,
    request_hash: str,
    fields: Mapping[str, Any],
    products: Mapping[str, Document],
    number: str,
    commission_percent: int,
    retry_seconds: float,
    now: datetime.datetime | None = None,
) -> Document:
    """A walk-in sale at ``fields["hub_id"]``'s showroom, paid in cash, recorded by the
    coordinator: pending until catalogue has taken its stock (``counter_sale_decided``).
    No buyer account; ``customer`` is whoever the coordinator named, if anyone."""
    hub_id = fields["hub_id"]
    check_can_sell_at_counter(actor, hub_id)
    now = now or utcnow()
    lines = price_lines(hub_id, fields["items"], products)
    name, phone = fields.get("buyer_name"), fields.get("buyer_phone")
    order = _order(
        hub_id,
        lines,
        None,
        actor["member_id"],
        number,
        now,
        idempotency_key=key,
        request_hash=request_hash,
        channel=COUNTER,
        commission_percent=commission_percent,
        fulfilment={"method": PICKUP, "address": None},
        payment_method=CASH,
        customer={"name": name, "phone": phone} if name or phone else None,
        retry_at=now + retry_delay(retry_seconds, 1),
    )
    _moved(order, PENDING, actor["member_id"], now)
    return order


def stock_lines(order: Document) -> list[dict[str, Any]]:
    """``[{product_id, quantity}]``: what an order takes from the showroom."""
    return [{"product_id": li["product_id"], "quantity": li["quantity"]} for li in order["items"]]


def counter_sale_decided(
    order: Document, decision: Mapping[str, Any], now: datetime.datetime | None = None
) -> bool:
    """Catalogue's answer for a pending counter sale (``{sold, reason, shortages}``):
    sold → ``completed`` and paid in cash, with ``order_settled``; else ``rejected``
    (nobody to tell: the coordinator hears it as the answer to the sale)."""
    if order["status"] != PENDING:
        return False  # decided already: the answer repeated
    now, by = now or utcnow(), order["acted_by"]
    order["retry_at"] = None
    if decision["sold"]:
        order["stock_reserved"] = True
        _completed(order, now)
        _moved(order, COMPLETED, by, now)
        order.update(payment_status=PAID, paid_at=now, paid_by=by)
        _settle_if_due(order, now)
    else:
        order.update(reason=decision.get("reason"), shortages=list(decision.get("shortages") or []))
        _moved(order, REJECTED, SAGA, now)
    return True


def check_counter_sale_made(order: Document) -> Document:
    """The sale as made; ``NotEnoughStock`` (409) naming each short product's line."""
    if order["status"] != REJECTED:
        return order
    lines = {line["product_id"]: (index, line) for index, line in enumerate(order["items"])}
    details = {}
    for shortage in order["shortages"]:
        index, line = lines.get(shortage["product_id"], (0, {"name": shortage["product_id"]}))
        details[f"items.{index}.product_id"] = [
            f"Only {shortage['available']} of {line['name']} can be sold now; you asked for "
            f"{shortage['requested']}. Sell fewer, or record the goods received as an intake."
        ]
    raise NotEnoughStock("Not enough in the showroom for this sale; nothing was sold.", details)


# --- the network report ----------------------------------------------------------


def check_can_see_network(actor: Actor) -> None:
    """The report across every hub is for admins."""
    if not is_admin(actor):
        raise NotAllowed("Only an admin sees the report of the whole network.")


def network_sales(
    tallies: Iterable[Document], first_day: str | None, end_day: str | None
) -> list[Document]:
    """The days ``[first_day, end_day)`` (ISO dates, which sort as days do) of the
    hubs' tallies (``{hub_id, days: {day: {channel: {orders, gross}}}, agents: {day:
    {agent_id: {member_id, orders, gross, agent_commission}}}}``, one per hub and month)
    added up per hub: ``[{hub_id, orders, gross, by_channel: {channel: {orders,
    gross}}, by_agent: [{agent_id, member_id, orders, gross, agent_commission}]}]`` by
    hub id, for hubs that completed an order then (agents by id)."""

    def in_period(day: str) -> bool:
        return (first_day is None or day >= first_day) and (end_day is None or day < end_day)

    hubs: dict[str, dict[str, Document]] = {}
    agents: dict[str, dict[str, Document]] = {}
    for tally in tallies:
        for day, channels in tally["days"].items():
            if not in_period(day):
                continue
            by_channel = hubs.setdefault(tally["hub_id"], {})
            for channel, sold in channels.items():
                into = by_channel.setdefault(channel, {"orders": 0, "gross": 0})
                into["orders"] += sold["orders"]
                into["gross"] += sold["gross"]
        for day, sellers in (tally.get("agents") or {}).items():
            if not in_period(day):
                continue
            by_agent = agents.setdefault(tally["hub_id"], {})
            for agent_id, sold in sellers.items():
                into = by_agent.setdefault(
                    agent_id,
                    {
                        "agent_id": agent_id,
                        "member_id": sold["member_id"],
                        **dict.fromkeys(AGENT_COUNTS, 0),
                    },
                )
                for count in AGENT_COUNTS:
                    into[count] += sold[count]
    return [
        {
            "hub_id": hub_id,
            "orders": sum(sold["orders"] for sold in by_channel.values()),
            "gross": sum(sold["gross"] for sold in by_channel.values()),
            "by_channel": dict(sorted(by_channel.items())),
            "by_agent": [sold for _, sold in sorted(agents.get(hub_id, {}).items())],
        }
        for hub_id, by_channel in sorted(hubs.items())
    ]


AGENT_COUNTS = ("orders", "gross", "agent_commission")
"""What the tallies and the reports count of each agent's completed orders."""


def sales_by_channel(found: Iterable[Mapping[str, Any]]) -> list[Document]:
    """``[{channel, orders, gross}]`` of every channel in ``CHANNELS`` order, zeros
    where none sold, from the store's groups (``channel`` ``None``: an order stored
    before channels existed, placed online)."""
    totals = {channel: {"channel": channel, "orders": 0, "gross": 0} for channel in CHANNELS}
    for group in found:
        into = totals[group["channel"] or ONLINE]
        into["orders"] += group["orders"]
        into["gross"] += group["gross"]
    return list(totals.values())


# --- reports ---------------------------------------------------------------------


def check_can_see_sales_report(actor: Actor, hub_id: object) -> None:
    """A hub's sales report is for its coordinators (and admins)."""
    check_coordinator(actor, hub_id)
